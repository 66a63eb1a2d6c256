/* loadgen: a NATS load generator speaking the raw client protocol over TCP, after the modes of
 * `nats bench` (natscli cli/bench_command.go). No client library sits in the way, so the
 * generator itself is rarely the bottleneck: publishers write large pre-built buffers of PUBs,
 * subscribers read large chunks and only skim control lines.
 *
 * This header holds what the split files share: options, the connection with its small
 * protocol reader, per-client statistics and the role threads (lg_roles.c), the idle
 * connection mode (lg_idle.c) and the report (lg_report.c). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    LG_MODE_PUB,     /* N publishers, nobody listening */
    LG_MODE_SUB,     /* M subscribers, publishers are external */
    LG_MODE_PUBSUB,  /* N publishers x M subscribers, every subscriber gets every message */
    LG_MODE_QUEUE,   /* N publishers, M subscribers in one queue group */
    LG_MODE_REQ,     /* N requesters against M responders (queue group), latency */
    LG_MODE_IDLE,    /* many connections that only CONNECT+PING, for memory per connection */
    LG_MODE_JSPUB,   /* JetStream publish with a window of outstanding PubAcks (lg_js.c) */
    LG_MODE_JSCONSUME, /* JetStream: fill a stream, then pull-consume it with acks (lg_js.c) */
} lg_mode;

typedef struct lg_opts {
    lg_mode mode;
    const char *mode_name;
    char host[256];
    char port[16];
    const char *subject;
    const char *queue;     /* queue group name for queue/req modes */
    int pubs;              /* publishers or requesters */
    int subs;              /* subscribers or responders */
    uint64_t msgs;         /* per publisher/requester (sub mode: per subscriber); 0 = no limit */
    double duration;       /* seconds; 0 = none; with msgs, whichever comes first */
    size_t size;           /* payload bytes */
    uint64_t window;       /* max messages between publishers and subscribers; 0 = unbounded */
    size_t flush_bytes;    /* publishers send PING after this many bytes ... */
    int max_pings;         /* ... and keep at most this many unanswered */
    double grace;          /* seconds subscribers keep waiting once publishers are done */
    int conns;             /* idle mode: number of connections */
    double hold;           /* idle mode: seconds to hold them once all are ready */
    int rss_pid;           /* idle mode: read this process's VmRSS while holding (0 = no) */
    bool json_only;
    const char *lat_file;  /* req mode: write every round trip (us, in request order) here */
    const char *stream;    /* js modes: the stream to create (and delete afterwards) */
    const char *storage;   /* js modes: "file" or "memory" */
    int batch;             /* js-consume: messages per pull request */
} lg_opts;

/* ---- connection and protocol reader (lg_conn.c) ---- */

enum { LG_EV_MSG = 1, LG_EV_PING, LG_EV_PONG, LG_EV_ERR, LG_EV_OK, LG_EV_INFO };

typedef struct lg_event {
    int kind;
    const char *subject;  /* MSG/HMSG only; valid during the callback */
    size_t subject_len;
    const char *reply;    /* NULL when the message has no reply subject */
    size_t reply_len;
    size_t payload_len;   /* HMSG: headers + payload */
    const char *text;     /* -ERR text */
    size_t text_len;
} lg_event;

/* Called for every complete item; everything read is always parsed (PINGs are answered by the
 * reader itself, before the handler sees them). */
typedef void (*lg_handler)(void *ctx, const lg_event *ev);

typedef struct lg_conn {
    int fd;
    char *rbuf;
    size_t rcap, rlen, rpos;
    uint64_t skip;        /* payload bytes (plus CRLF) of the current message still unread */
    bool in_msg;          /* a MSG control line was parsed and its payload is being skipped */
    lg_event pending;     /* that message, emitted once its payload has been read */
    char pend_subj[256], pend_reply[256];
    bool eof;
} lg_conn;

double lg_now(void);  /* CLOCK_MONOTONIC seconds */
int lg_connect(lg_conn *c, const lg_opts *o, const char *name, size_t rcap, char *err,
               size_t errlen);
void lg_close(lg_conn *c);
int lg_write_all(int fd, const void *buf, size_t len);
/* One read() and parse of everything complete. Returns bytes read, 0 on EOF, -1 on error
 * (errno EAGAIN on a receive timeout). handler may be called many times. */
ssize_t lg_read_events(lg_conn *c, lg_handler h, void *ctx);
/* Send PING and wait for the PONG, handling anything else with h (may be NULL). */
int lg_ping_pong(lg_conn *c, lg_handler h, void *ctx, char *err, size_t errlen);
void lg_set_rcv_timeout(int fd, int ms);

/* ---- roles and run (lg_roles.c) ---- */

enum { LG_ROLE_PUB, LG_ROLE_SUB, LG_ROLE_REQ, LG_ROLE_RESP };

struct lg_run;

typedef struct lg_client {
    struct lg_run *run;
    int role, idx;
    lg_conn conn;
    _Atomic uint64_t count;  /* published, received, requested or replied */
    _Atomic bool dead;       /* connection lost: flow control stops waiting for it */
    double t_first, t_last;  /* first/last message (subscribers), end (publishers) */
    uint64_t *lat_ns;        /* requesters: round-trip times */
    size_t nlat, lat_cap;
    char err[256];
    pthread_t th;
} lg_client;

typedef struct lg_run {
    const lg_opts *o;
    pthread_barrier_t ready, go;
    double t_start;              /* set by main between the two barriers */
    _Atomic uint64_t pub_sent;   /* messages all publishers have written */
    _Atomic int pubs_left;       /* publishers/requesters still running */
    _Atomic bool pubs_done;      /* set (release) once t_pubs_done is written */
    double t_pubs_done;
    _Atomic bool abort;
    _Atomic bool window_off;     /* flow control gave up: subscribers stopped making progress */
    lg_client *clients;
    int nclients;
    int first_sub;               /* clients[0..first_sub) publish, the rest receive */
} lg_run;

int lg_run_clients(lg_run *run);  /* start threads, run, join; 0 on success */

/* ---- idle connections (lg_idle.c) ---- */

typedef struct lg_idle_result {
    int ready, failed;
    double connect_s;   /* time until every connection had its PONG */
    long rss_kb;        /* VmRSS of opts.rss_pid and its descendants while holding; -1: not read */
    long pss_kb;        /* the same processes' Pss (shared pages split between them) */
    char err[256];
} lg_idle_result;

int lg_idle_run(const lg_opts *o, lg_idle_result *r);
void lg_proc_tree_mem(int root, long *rss_kb, long *pss_kb);

/* ---- JetStream publish (lg_js.c) ---- */

int lg_js_run(const lg_opts *o);  /* runs and reports; returns the exit status */

/* ---- report (lg_report.c) ---- */

int lg_report(const lg_run *run);  /* returns the exit status: 0 ok, 3 losses or errors */
int lg_report_idle(const lg_opts *o, const lg_idle_result *r);

#endif
