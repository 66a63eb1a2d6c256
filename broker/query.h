/* Queries between the supervisor and its workers, over each worker's control connection.
 *
 * Monitoring (and later config reload) runs in the supervisor, off the client path; what only
 * a worker knows (its connections, its subscriptions) it answers on request.  Frames on the
 * control stream: a header {len, type_or_status, id} and len bytes of payload — a request's
 * arguments (a URL query string, or a piece of a system account response to publish) or an
 * answer (JSON).  Requests are small (<= 64 KiB); answers may be large and are sent by the
 * worker's io_uring loop like client output.
 */
#ifndef BR_QUERY_H
#define BR_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define BR_QUERY_MAX_REQUEST (64 * 1024)
#define BR_QUERY_MAX_ANSWER (256u << 20)

typedef enum br_query_type {
    BR_QUERY_PING = 1, /* answers {} : liveness */
    BR_QUERY_VARZ,     /* this worker's part of /varz */
    BR_QUERY_CONNZ,    /* this worker's connections, for /connz */
    BR_QUERY_SUBSZ,    /* this worker's subscriptions, for /subsz */
    BR_QUERY_JSZ,      /* storaged: JetStream usage, for /jsz, /varz and /healthz */
    BR_QUERY_SYS_REPLY, /* worker: a piece of a $SYS response (sys_requests.h); {} */
    BR_QUERY_ACCSTATZ,  /* worker: its accounts' counts (sys_accounts.c) */
    BR_QUERY_KICK,      /* worker: "<cid> <ldm 0|1>": kick or LDM that client (sys_requests.c) */
    BR_QUERY_TYPES_END,
} br_query_type;

typedef struct br_query_hdr {
    uint32_t len;
    uint32_t kind; /* request: br_query_type; answer: 0 ok, else an errno */
    uint32_t id;
} br_query_hdr;

struct br_server;

/* Worker side: computes the answer to one query; *out is malloc'd (JSON).  0 or -errno.
 * Implemented in query.c; monitoring fills in the types it needs. */
int br_query_answer(struct br_server *s, uint32_t type, const char *args, size_t args_len,
                    char **out, size_t *out_len);

/* Supervisor side (any thread): sends a query on fd and waits up to timeout_ms for its
 * answer.  The caller serialises use of one fd.  0 (answer in *out, malloc'd) or -errno. */
int br_query_call(int fd, uint32_t type, const char *args, size_t args_len, int timeout_ms,
                  char **out, size_t *out_len);

#endif
