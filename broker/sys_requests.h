/* The system account's monitoring requests: $SYS.REQ.SERVER.<id>.<ENDPOINT>,
 * $SYS.REQ.SERVER.PING.<ENDPOINT> and $SYS.REQ.ACCOUNT.<acc>.<ENDPOINT> (Go nats-server v2.14.5
 * server/events.go initEventTracking, zReq, filterRequest, idzReq, connsRequest).
 *
 * The requests arrive at worker 0 (its internal subscriptions), but the monitoring JSON is
 * built by the supervisor (monitor*.c), which asks every worker.  So worker 0 forwards each
 * request, unblocked, as one datagram to the supervisor's request socket (an abstract Unix
 * socket named after the node's server id; the sender's credentials must be a worker's);
 * a supervisor thread decodes the options as Go's encoding/json would, runs the monitoring
 * handler, and sends the result back over the worker's control connection as a query
 * (BR_QUERY_SYS_REPLY, query.h), which the worker publishes on the request's reply subject
 * wrapped as Go's ServerAPIResponse {"server": ServerInfo, "data"|"error": ...}.
 */
#ifndef BR_SYS_REQUESTS_H
#define BR_SYS_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "broker/query.h"

struct br_server;
struct br_pub;
struct br_account;
struct br_options;

/* The endpoints forwarded to the supervisor. */
typedef enum sys_ep {
    SYS_EP_VARZ = 1,
    SYS_EP_CONNZ,
    SYS_EP_SUBSZ,
    SYS_EP_ROUTEZ,
    SYS_EP_GATEWAYZ,
    SYS_EP_LEAFZ,
    SYS_EP_ACCOUNTZ,
    SYS_EP_JSZ,
    SYS_EP_HEALTHZ,
    SYS_EP_RAFTZ,
    SYS_EP_ACC_SUBSZ, /* $SYS.REQ.ACCOUNT.<acc>.* */
    SYS_EP_ACC_CONNZ,
    SYS_EP_ACC_LEAFZ,
    SYS_EP_ACC_JSZ,
    SYS_EP_ACC_INFO,
    SYS_EP_ACC_STATZ,
    SYS_EP_ACC_PING_STATZ, /* $SYS.REQ.ACCOUNT.PING.STATZ */
    SYS_EP_KICK,           /* $SYS.REQ.SERVER.<id>.KICK */
    SYS_EP_LDM,            /* $SYS.REQ.SERVER.<id>.LDM */
    SYS_EP_END,
} sys_ep;

/* The datagram worker -> supervisor: this header, then reply, account, body, and the account
 * the reply is published in (a system import's requester; none: the system account). */
#define SYS_REQ_MAGIC 0x5359535au /* "SYSZ" */
#define SYS_REQ_MAX_BODY (60 * 1024)
#define SYS_REQ_MAX_NAME 4096 /* reply subject, account name */
typedef struct sys_req_hdr {
    uint32_t magic;
    uint32_t worker;
    uint32_t ep;
    uint32_t reply_len, acc_len, body_len, reply_acc_len;
} sys_req_hdr;

/* A piece of a response (BR_QUERY_SYS_REPLY args): this header, the reply subject and the
 * reply's account (first piece only), then the text after {"server":..., ("data":... or
 * "error":...). */
typedef struct sys_piece_hdr {
    uint32_t id, last, reply_len, reply_acc_len;
} sys_piece_hdr;
#define SYS_PIECE_MAX (BR_QUERY_MAX_REQUEST - 2048)

/* The supervisor's socket address (abstract namespace) for a node's server id. */
void sys_req_addr_name(const char *server_id, char *out, size_t cap);

/* ---- worker side (sys_requests.c) ---------------------------------------------------------- */

/* Worker 0: subscribes to the request subjects and opens the socket to the supervisor. */
void br_sysreq_init(struct br_server *s);
void br_sysreq_free(struct br_server *s);
/* A request on one of the subjects above: true when handled here (else the caller's STATSZ). */
bool br_sysreq_handle(struct br_server *s, const struct br_pub *m);
/* Worker 0, once per loop turn: the periodic CONNS updates (Go eventsHBInterval). */
void br_sysreq_heartbeat(struct br_server *s);
/* The supervisor's answer (BR_QUERY_SYS_REPLY): publishes it.  0 or -errno. */
int br_sysreq_deliver(struct br_server *s, const char *args, size_t len);

/* BR_QUERY_KICK: kicks (or sends an LDM INFO to) the client with that cid when it is this
 * worker's: {"found":bool[,"error":text]}.  0 or -errno. */
int br_sysreq_answer_kick(struct br_server *s, const char *args, size_t len, char **out,
                          size_t *out_len);
/* BR_QUERY_ACCSTATZ: this worker's accounts (sys_accounts.c).  0 or -1. */
int br_sysreq_answer_accstatz(struct br_server *s, char **out, size_t *out_len);

/* account_sys.c helpers shared with sys_requests.c. */
json_t *br_sys_server_info(struct br_server *s);
void br_sys_queue_text(struct br_server *s, const char *subject, char *json_text);
void br_sys_queue_text_in(struct br_server *s, const char *acc, const char *subject,
                          char *json_text);
void br_sys_conns_reply(struct br_server *s, struct br_account *a, const char *reply);

/* ---- supervisor side (sys_serve.c) --------------------------------------------------------- */

/* Starts the request thread (after the workers are forked); stops it.  Safe to repeat. */
void br_sysreq_serve_start(const struct br_options *opts);
void br_sysreq_serve_stop(void);

/* sys_accounts.c: Go AccountStatz as compact JSON (want: names, empty for all), NULL when Go
 * skips the answer (nothing to show without include_unused); Go AccountInfo of one account,
 * NULL when there is no such account. */
char *sys_account_statz(json_t *want, bool unused);
char *sys_account_info(const char *acc);

/* ---- Go encoding/json behaviour (sys_json.c) ----------------------------------------------- */

typedef enum sys_opt_type {
    SYS_OT_BOOL,
    SYS_OT_INT,
    SYS_OT_UINT64,
    SYS_OT_STRING,
    SYS_OT_SORT,    /* server.SortOpt (a string) */
    SYS_OT_STATE,   /* server.ConnState (an int: 0 open, 1 closed, 2 any) */
    SYS_OT_STRLIST, /* []string */
} sys_opt_type;

/* One field of a Go options struct: its JSON name, Go type, and the monitoring query
 * parameter it becomes (NULL: decoded, then dropped). */
typedef struct sys_opt_field {
    const char *json;
    sys_opt_type type;
    const char *param;
} sys_opt_field;

/* Go EventFilterOptions. */
typedef struct sys_filter {
    char *name, *cluster, *host, *domain;
    bool exact;
    size_t ntags;
} sys_filter;

/* Go json.Unmarshal(body, &<struct_name>{...}) of an options struct with `fields` plus the
 * EventFilterOptions: 0 with *args (query parameter -> string value) and *flt filled, or -1
 * with Go's error text in err.  An empty body decodes to nothing. */
int sys_decode_opts(const char *body, size_t len, const char *struct_name,
                    const sys_opt_field *fields, json_t **args, sys_filter *flt, char *err,
                    size_t cap);
void sys_filter_free(sys_filter *f);
/* Go filterRequest: true when the request is not for this server (tags never match: a server
 * here has none). */
bool sys_filter_skips(const sys_filter *f, const char *name, const char *host, const char *cluster,
                      const char *domain);
/* Go's json.Valid error text for a malformed document ("" when well formed). */
void sys_json_syntax_error(const char *p, size_t n, char *err, size_t cap);
/* The compact form of an indented JSON text (whitespace outside strings removed), in place. */
size_t sys_json_compact(char *p, size_t n);
/* The value of member `key` of the top-level object in compact JSON text: its span, or false. */
bool sys_json_member(const char *p, size_t n, const char *key, size_t *off, size_t *len);

#endif
