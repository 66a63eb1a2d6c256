/* A client connection: protocol state, subscriptions, delivery and its deadlines.
 *
 * Ports the CLIENT-kind behaviour of Go nats-server v2.14.5 server/client.go: processConnect,
 * processPub/processInboundClientMsg, processSub/processUnsub, deliverMsg and msgHeader,
 * ping timer and stale detection, auth timeout, verbose +OK, no responders, slow consumers,
 * and closeConnection.  I/O is the server loop's business (server.c); this file turns parsed
 * operations into effects and queued output.
 */
#ifndef BR_CLIENT_H
#define BR_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/outbound.h"
#include "broker/auth.h"
#include "broker/perms.h"
#include "broker/sublist.h"
#include "broker/tls.h"
#include "common/strmap.h"
#include "proto/parser.h"

typedef struct br_server br_server;
typedef struct br_client br_client;

typedef struct br_sub {
    sl_sub sl;    /* subject/queue point into `text` below */
    uint8_t kind; /* BR_SUB_LOCAL (mesh.h); must follow sl, as in br_rsub */
    br_client *client;
    const char *sid;
    uint32_t sid_len;
    int64_t max;       /* auto-unsubscribe after this many (0: none) */
    int64_t delivered; /* Go: sub.nm */
    bool closed;
    struct br_sub *next_retired; /* freed by the server at the end of the loop turn */
    char text[]; /* subject\0queue\0sid\0 */
} br_sub;

/* Go's ClosedState values that matter before monitoring exposes them. */
typedef enum br_close_reason {
    BR_CLOSE_CLIENT,
    BR_CLOSE_PROTOCOL_VIOLATION,
    BR_CLOSE_AUTH_TIMEOUT,
    BR_CLOSE_AUTH_VIOLATION,
    BR_CLOSE_STALE,
    BR_CLOSE_SLOW_PENDING_BYTES,
    BR_CLOSE_SLOW_WRITE_DEADLINE,
    BR_CLOSE_MAX_PAYLOAD,
    BR_CLOSE_MAX_CONTROL_LINE,
    BR_CLOSE_MAX_CONNECTIONS,
    BR_CLOSE_BAD_PROTOCOL,
    BR_CLOSE_NO_RESPONDERS_REQUIRES_HEADERS,
    BR_CLOSE_READ_ERROR,
    BR_CLOSE_WRITE_ERROR,
    BR_CLOSE_SERVER_SHUTDOWN,
    BR_CLOSE_PARSE_ERROR,
    BR_CLOSE_TLS_HANDSHAKE_ERROR,
    BR_CLOSE_MAX_ACCOUNT_CONNECTIONS,
    BR_CLOSE_KICKED, /* $SYS.REQ.SERVER.<id>.KICK (Go Kicked) */
} br_close_reason;

/* How bytes reach the wire (client_tls.c). */
typedef enum br_tls_mode {
    BR_TLS_OFF,   /* no TLS on this server: `out` is the wire queue */
    BR_TLS_SNIFF, /* allow_non_tls: the first byte decides (0x16 starts a handshake) */
    BR_TLS_PLAIN, /* allow_non_tls and the client stayed plaintext: out -> wire as is */
    BR_TLS_ON,    /* out -> OpenSSL -> wire */
} br_tls_mode;

struct br_client {
    br_server *srv;
    uint64_t cid;
    int fd;
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    char log_prefix[512]; /* "127.0.0.1:5555 - cid:7" as Go prints it, plus CONNECT labels */
    char *auth_label;     /* Go getAuthUserLabel: "user:x", "nkey:U...", "token" or NULL */

    np_parser parser;
    br_outq out; /* protocol output (plaintext) */
    br_tls_mode tls_mode;
    br_tls tls;
    br_outq wire;             /* with TLS configured: the bytes to send (ciphertext, INFO) */
    int64_t tls_deadline_ms;  /* handshake must finish by then */
    nx_strmap subs; /* sid -> br_sub */
    uint32_t num_subs;

    /* CONNECT options (Go's ClientOpts; defaults verbose/pedantic/echo = true) */
    bool verbose, pedantic, echo, headers, no_responders;
    bool connect_received, first_pong_sent;
    int protocol;
    char *name, *lang, *version;
    char *cred_user, *cred_pass, *cred_token, *cred_nkey, *cred_sig; /* for reload re-checks */
    char nonce[BR_AUTH_NONCE_LEN + 1]; /* sent in INFO when nkey users exist, else "" */
    br_perm_state perms;               /* the authenticated user's permissions */
    struct br_account *acc;            /* its account ("$G" until authenticated otherwise) */
    bool acc_counted;                  /* counted in acc->nclients and the node's totals */

    /* Deadlines, all monotonic ms; 0 = not set. */
    int64_t auth_deadline_ms;
    int64_t ping_deadline_ms;
    int64_t send_started_ms; /* a send is in flight since then (write deadline) */
    int64_t flush_close_deadline_ms; /* closing: give queued -ERR this long to leave */
    int32_t pings_out;
    int64_t last_in_ms;
    int64_t rtt_start_ms;
    int64_t rtt_ms;
    uint32_t heap_idx; /* position in the server's deadline heap, UINT32_MAX when absent */

    /* I/O state, owned by the server loop. */
    uint32_t ops_inflight;
    bool recv_armed;
    bool recv_starved; /* recv stopped for lack of buffers: re-arm at the end of the turn */
    br_client *starved_next;
    bool send_inflight;
    bool dirty;
    bool closing;      /* no more input; flush then shut down */
    bool fd_shut;      /* shutdown(2) issued */
    br_close_reason close_reason;
    br_outq *send_q; /* the queue the in-flight send reads from */
    struct msghdr send_msg;
    struct iovec send_iov[64];

    uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
    int64_t start_ms;
    /* Monitoring (/connz): Go's c.last, updated by PUB/SUB/UNSUB/CONNECT and deliveries (not
     * by PING/PONG), and Go's getRawAuthUser ("[REDACTED]" for a token). */
    int64_t last_activity_ms;
    char *auth_user;

    br_client *prev, *next;  /* server's list of clients / zombies */
    br_client *dirty_next;
};

br_client *br_client_new(br_server *s, int fd, const struct sockaddr_storage *peer);
/* Sends INFO and arms timers. */
void br_client_start(br_client *c);
/* Feeds received bytes through the parser and acts on each operation. */
void br_client_process_input(br_client *c, const uint8_t *data, size_t len);

/* client_tls.c: bytes from the socket (TLS or not) into the parser. */
void br_client_on_bytes(br_client *c, const uint8_t *data, size_t len);
/* client_tls.c: the queue to send from, after moving/encrypting what `out` holds. */
br_outq *br_client_wire(br_client *c);
/* client_tls.c: sends INFO and starts TLS as configured (called by br_client_start). */
void br_client_tls_start(br_client *c);
/* Nearest deadline (ms) or 0. */
int64_t br_client_next_deadline(const br_client *c);
/* Runs whichever deadlines have passed. */
void br_client_on_deadline(br_client *c, int64_t now_ms);
/* Starts closing: input stops, subscriptions go, queued output gets a short time to flush. */
void br_client_close(br_client *c, br_close_reason reason);
/* Queues a protocol line (INFO, PONG, -ERR ...) and marks the connection dirty. */
void br_client_queue(br_client *c, const void *data, size_t len);
void br_client_send_err(br_client *c, const char *text);
/* client_auth.c: credentials from CONNECT (NUL-terminated, NULL when absent). */
typedef struct br_connect_creds {
    const char *user, *pass, *token, *nkey, *sig;
} br_connect_creds;
/* Authenticates with CONNECT's credentials; on failure the client is told and closed. */
bool br_client_authenticate(br_client *c, const br_connect_creds *creds);
/* A first operation other than CONNECT while auth is required: allowed (and authenticated as
 * the no_auth_user) only where Go allows it; false means an authorization violation. */
bool br_client_implicit_connect(br_client *c);
/* -ERR 'Authorization Violation' and close, logging as Go does. */
void br_client_auth_violation(br_client *c, const br_auth_result *r);
/* After a config reload: checks the client again (permissions too); false if it was closed. */
bool br_client_reauthorize(br_client *c);
/* Removes a subscription (UNSUB, auto-unsubscribe limit reached). */
void br_client_sub_remove(br_client *c, br_sub *sub);
/* Go ClosedState.String() for a close reason (monitoring). */
const char *br_close_reason_text(br_close_reason reason);
/* Frees memory once no I/O references the connection. */
void br_client_free(br_client *c);

#endif
