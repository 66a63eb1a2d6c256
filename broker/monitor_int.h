/* Monitoring internals shared by the monitor*.c files (not part of the public API).
 *
 * Two sides, one executable:
 *   - supervisor: the HTTP server (monitor.c) builds Go's responses (monitor_varz.c,
 *     monitor_connz.c) from the node's shared counters and from the workers' answers;
 *   - worker: query.c answers the supervisor from its own br_server, using the record types
 *     and the closed-connection ring defined here (monitor_conn.c).
 * Records cross the control connection as compact JSON (jansson on both ends); what the HTTP
 * client sees is written by the Go-style writer below (json.MarshalIndent's layout).
 */
#ifndef BR_MONITOR_INT_H
#define BR_MONITOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "broker/options.h"

struct br_server;
struct br_client;

/* ---- Go-style JSON writer (json.MarshalIndent(v, "", "  ")) ------------------------------ */

typedef struct mj_buf {
    char *p;
    size_t len, cap;
    int depth;
    bool first[64];  /* per depth: no member written yet */
    const char *ind; /* indent unit ("  "); NULL: compact (json.Marshal) */
} mj_buf;

void mj_init(mj_buf *b, const char *indent);
void mj_free(mj_buf *b);
void mj_raw(mj_buf *b, const char *s, size_t n);
void mj_rawf(mj_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Containers: pass key NULL inside arrays or at the top level. */
void mj_obj(mj_buf *b, const char *key);
void mj_obj_end(mj_buf *b);
void mj_arr(mj_buf *b, const char *key);
void mj_arr_end(mj_buf *b);
void mj_str(mj_buf *b, const char *key, const char *v); /* v NULL writes "" */
void mj_int(mj_buf *b, const char *key, int64_t v);
void mj_uint(mj_buf *b, const char *key, uint64_t v);
void mj_bool(mj_buf *b, const char *key, bool v);
void mj_null(mj_buf *b, const char *key);
void mj_float(mj_buf *b, const char *key, double v); /* Go's float64 encoding */
void mj_time(mj_buf *b, const char *key, int64_t unix_ns, bool utc); /* RFC 3339 nano */
/* Writes a JSON member from a jansson value (for relaying worker-side objects as they are). */
void mj_json(mj_buf *b, const char *key, json_t *v);

/* Go's time.Duration.String() ("1.5ms", "0s", "2m3s"), into out (>= 32 bytes). */
void mj_go_duration(int64_t ns, char *out, size_t cap);
/* Go's monitor myUptime ("4h4m22s", "32d4h4m22s"). */
void mj_uptime(int64_t ns, char *out, size_t cap);
/* Go's time.Time JSON text (without quotes). */
void mj_time_text(int64_t unix_ns, bool utc, char *out, size_t cap);

int64_t mon_wall_ns(void);
int64_t mon_mono_ns(void);

/* ---- the monitor's state (supervisor) ------------------------------------------------------ */

typedef struct mon_state {
    const br_options *opts;
    int port;              /* bound HTTP port */
    char base_path[1024];  /* Go normalizeBasePath, "/" by default */
    int64_t start_ns;      /* wall clock, Go's s.start */
    int max_closed;        /* max_closed_clients (node-wide) */
    int64_t config_ns;     /* Go's configTime: start, then each reload */
    char config_digest[80]; /* Go's opts.configDigest ("sha256:..."; "" without a file) */
} mon_state;

/* Handlers hold this (read) while they look at g_mon.opts: a reload swaps them. */
void mon_opts_read_lock(void);
void mon_opts_read_unlock(void);

extern mon_state g_mon;

/* Worker query timeout: a worker that does not answer in time is left out of the figures. */
#define MON_QUERY_TIMEOUT_MS 5000

/* ---- connection records (both sides) ------------------------------------------------------ */

/* One subscription as /connz (subs=detail) and /subsz show it: Go's SubDetail. */
typedef struct mon_sub {
    char *subject, *queue, *sid;
    int64_t msgs, max;
    uint64_t cid;
} mon_sub;

/* One connection, open or closed: the fields of Go's ConnInfo that exist here. */
typedef struct mon_conn {
    uint64_t cid;
    char ip[48];
    int port;
    int64_t start_ns, last_ns, stop_ns; /* wall clock; stop_ns 0 while open */
    int64_t rtt_ns;
    char uptime[48], idle[48]; /* closed: as computed when it closed (Go) */
    int64_t pending;
    int64_t in_msgs, out_msgs, in_bytes, out_bytes;
    uint32_t num_subs;
    char *name, *lang, *version, *reason, *user;
    char *account; /* the client's account (NULL: the global account) */
    char *tls_version, *tls_cipher; /* Go: "1.3", IANA cipher suite name */
    bool tls_first;
    mon_sub *subs; /* open: only when asked for; closed: always kept */
    uint32_t nsubs;
} mon_conn;

void mon_conn_clear(mon_conn *c);
json_t *mon_conn_to_json(const mon_conn *c, bool with_subs);
int mon_conn_from_json(json_t *o, mon_conn *c);
json_t *mon_sub_to_json(const mon_sub *s);
void mon_sub_from_json(json_t *o, mon_sub *s);

/* Sort keys of /connz (Go's SortOpt); MON_SORT_INVALID for an unknown name. */
typedef enum mon_sort {
    MON_SORT_CID, MON_SORT_START, MON_SORT_SUBS, MON_SORT_PENDING, MON_SORT_OUT_MSGS,
    MON_SORT_IN_MSGS, MON_SORT_OUT_BYTES, MON_SORT_IN_BYTES, MON_SORT_LAST, MON_SORT_IDLE,
    MON_SORT_UPTIME, MON_SORT_STOP, MON_SORT_REASON, MON_SORT_RTT, MON_SORT_INVALID,
} mon_sort;
mon_sort mon_sort_parse(const char *s);
/* Sorts in Go's order for the key (descending except cid/start/uptime/reason); ties by cid. */
void mon_conn_sort(mon_conn **v, size_t n, mon_sort key, int64_t now_ns);

/* ---- worker side (monitor_conn.c) ---------------------------------------------------------- */

/* The worker's ring of its last max_closed_clients closed connections (Go closedRingBuffer). */
typedef struct mon_closed_ring {
    mon_conn *conns;
    uint32_t cap, next;
    uint64_t total;
} mon_closed_ring;

/* Fills a record from a live connection (subs only when with_subs). */
void mon_conn_fill(const struct br_client *c, int64_t now_wall_ns, int64_t now_mono_ms,
                   bool with_subs, mon_conn *out);
/* Worker: remembers a connection that is closing (before its subscriptions go). */
void mon_closed_add(struct br_server *s, const struct br_client *c);
void mon_closed_free(struct br_server *s);
/* Worker query answers (JSON, malloc'd). */
int mon_answer_varz(struct br_server *s, char **out, size_t *out_len);
int mon_answer_connz(struct br_server *s, const char *args, size_t args_len, char **out,
                     size_t *out_len);
int mon_answer_subsz(struct br_server *s, const char *args, size_t args_len, char **out,
                     size_t *out_len);

/* ---- supervisor side ----------------------------------------------------------------------- */

/* Decoded query parameters (MHD parses them; NULL when absent). */
typedef struct mon_req {
    void *conn;   /* struct MHD_Connection; NULL: a system account request (sys_serve.c) */
    json_t *args; /* then: parameter name -> string value */
} mon_req;
const char *mon_arg(const mon_req *r, const char *name);

/* An endpoint's response: status, content type, body (malloc'd). */
typedef struct mon_resp {
    int status;
    const char *content_type;
    char *body;
    size_t len;
} mon_resp;

/* Go decodeBool/decodeInt/decodeUint64/decodeState/decodeSubs: false after setting a 400. */
bool mon_decode_bool(const mon_req *r, const char *name, bool *out, mon_resp *resp);
bool mon_decode_int(const mon_req *r, const char *name, int64_t *out, mon_resp *resp);
bool mon_decode_uint64(const mon_req *r, const char *name, uint64_t *out, mon_resp *resp);
bool mon_decode_subs(const mon_req *r, bool *subs, bool *detail, mon_resp *resp);
void mon_resp_text(mon_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mon_resp_json(mon_resp *resp, mj_buf *b);

/* Asks every running worker; calls fn with each parsed answer (a JSON object). */
typedef void (*mon_each_fn)(uint32_t worker, json_t *answer, void *arg);
void mon_query_all(uint32_t type, const char *args, size_t len, mon_each_fn fn, void *arg);

/* monitor_jsz.c: JetStream figures from storaged. */
void mon_jsz(const mon_req *r, mon_resp *resp);
void mon_varz_jetstream(mj_buf *b, const br_options *o);
/* True when JetStream is configured but storaged does not answer. */
bool mon_js_unavailable(const br_options *o);
uint32_t mon_nworkers(void);

/* Endpoints. */
void mon_varz(const mon_req *r, mon_resp *resp);
void mon_connz(const mon_req *r, mon_resp *resp);
void mon_subsz(const mon_req *r, mon_resp *resp);
void mon_metrics(const mon_req *r, mon_resp *resp);
/* http_req_stats: counts a request to Go's path constant, and copies the map out. */
void mon_count_req(const char *path);
void mon_write_req_stats(mj_buf *b);

/* System account requests (sys_serve.c): the handler of a monitoring path ("/connz"), NULL
 * if none; monitoring state set up without an HTTP port; this thread's requests are not
 * counted in http_req_stats. */
typedef void (*mon_handler_fn)(const mon_req *r, mon_resp *resp);
mon_handler_fn mon_handler(const char *path);
void mon_state_init(const br_options *opts);
void mon_count_disable_thread(void);

/* Node-wide process figures: CPU percent (Go pse sampling) and memory in bytes. */
void mon_proc_usage(double *pcpu, int64_t *mem);

#endif
