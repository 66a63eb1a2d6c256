/* Consumer side internals (js_consumer*.c): the consumer object, its configuration and the
 * helpers the consumer files share.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go (type consumer, ConsumerConfig, waitQueue,
 * waitingRequest) for a single node.  Everything runs on storaged's one thread; timers are
 * deadlines (ns since the epoch, from js_now) that js_consumers_tick fires.
 *
 * Files:
 *   js_consumer.c       lifecycle, per-stream registry, js_int.h hooks, advisories, purge
 *   js_consumer_cfg.c   ConsumerConfig JSON in/out, defaults and checks, time formatting
 *   js_consumer_api.c   $JS.API.CONSUMER.* handlers and ConsumerInfo
 *   js_consumer_deliver.c  message selection, push/pull delivery, heartbeats, rate limit
 *   js_consumer_pull.c  pull request queue, priority groups, MSG.NEXT
 *   js_consumer_store.c config and state in the LMDB metadata store (group commit), recovery,
 *                       migration of obs/<name> files, snapshot members
 *   js_consumer_timer.c u64 map, timers (next deadline / tick), inactive threshold
 *   js_consumer_ack.c   acks (+ACK -NAK +WPI +TERM +NXT), ack wait, flow control, advisories
 */
#ifndef SD_JS_CONSUMER_INT_H
#define SD_JS_CONSUMER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/stree.h"
#include "storaged/js/js_int.h"

#define JSC_NS_MS 1000000LL
#define JSC_NS_S 1000000000LL

enum { JSC_DELIVER_ALL = 0, JSC_DELIVER_LAST, JSC_DELIVER_NEW, JSC_DELIVER_BY_START_SEQ,
       JSC_DELIVER_BY_START_TIME, JSC_DELIVER_LAST_PER_SUBJECT };
enum { JSC_REPLAY_INSTANT = 0, JSC_REPLAY_ORIGINAL };
enum { JSC_PRIO_NONE = 0, JSC_PRIO_OVERFLOW, JSC_PRIO_PINNED, JSC_PRIO_PRIORITIZED };
enum { JSC_ACTION_CREATE_OR_UPDATE = 0, JSC_ACTION_UPDATE, JSC_ACTION_CREATE };

/* Go ConsumerConfig.  Strings are owned (NULL when empty), durations in ns. */
typedef struct jsc_config {
    char *durable, *name, *description;
    int deliver_policy;
    uint64_t opt_start_seq;
    bool has_opt_start_time;
    int64_t opt_start_time;
    sd_ack_policy ack_policy;
    int64_t ack_wait;
    int64_t max_deliver;
    int64_t *backoff;
    size_t nbackoff;
    char *filter_subject;
    char **filter_subjects;
    size_t nfilter_subjects;
    bool filter_subjects_set; /* "filter_subjects" present (even empty) */
    int replay_policy;
    uint64_t rate_limit;
    char *sample_freq;
    int64_t max_waiting, max_ack_pending;
    bool flow_control, headers_only;
    int64_t max_batch, max_expires, max_bytes;
    char *deliver_subject, *deliver_group;
    int64_t heartbeat, inactive_threshold;
    int64_t replicas;
    bool mem_storage, direct, sourcing;
    json_t *metadata; /* object or NULL */
    bool has_pause_until;
    int64_t pause_until;
    char **priority_groups;
    size_t npriority_groups;
    int priority_policy;
    int64_t pinned_ttl;
} jsc_config;

/* u64-keyed open-addressing map (pending by stream seq, redelivery counts). */
typedef struct jsc_ent {
    uint64_t key; /* 0: empty */
    uint64_t a;   /* pending: delivery seq; rdc: count */
    int64_t b;    /* pending: timestamp */
} jsc_ent;
typedef struct jsc_map {
    jsc_ent *e;
    size_t cap, n;
} jsc_map;

jsc_ent *jsc_map_get(const jsc_map *m, uint64_t key);
jsc_ent *jsc_map_put(jsc_map *m, uint64_t key); /* inserts zeroed if missing */
bool jsc_map_del(jsc_map *m, uint64_t key);
void jsc_map_clear(jsc_map *m);
void jsc_map_free(jsc_map *m);
/* Keys in ascending order (malloc'd, *n set). */
uint64_t *jsc_map_keys_sorted(const jsc_map *m, size_t *n);

/* Go waitingRequest. */
typedef struct jsc_wr {
    struct jsc_wr *next;
    char *reply;
    int64_t n, d, b;
    int64_t expires; /* 0: none */
    int64_t received;
    int64_t hb, hbt;
    bool no_wait;
    bool has_group;
    char *group, *pin_id;
    int64_t min_pending, min_ack_pending;
    int priority;
} jsc_wr;

typedef struct jsc_wq {
    int64_t n, max;
    int64_t last;
    jsc_wr *head, *tail;
} jsc_wq;

struct js_consumer {
    js_server *js;
    js_stream *st;
    struct jsc_set *set;
    char *name;
    char *stream;
    jsc_config cfg;
    int64_t created;
    sd_consumer_store *store;
    bool closed;

    uint64_t sseq, dseq, adflr, asflr;
    jsc_map pending; /* sseq -> (dseq, ts) */
    jsc_map rdc;     /* sseq -> count */
    uint64_t *rdq;   /* redelivery queue */
    size_t rdq_len, rdq_cap;

    /* filters */
    char **filters;
    size_t nfilters;
    nx_filter_set fset; /* when nfilters > 1 */

    /* last-per-subject skip list */
    uint64_t *lss;
    size_t lss_len, lss_idx;
    uint64_t lss_resume;
    bool lss_active;

    /* pull */
    jsc_wq waiting;
    bool pull;

    /* push */
    bool active;
    int64_t hb_deadline;       /* next idle heartbeat (push), 0 none */
    int64_t interest_poll;     /* next interest check for inactive push consumers */
    int64_t pbytes, maxpb, pblimit, fcsz;
    char fcid[128];

    int64_t dthresh;           /* inactive threshold (ns), 0: never delete */
    int64_t dtmr;              /* delete-not-active deadline, 0 none */
    int64_t ptmr;              /* ack-wait check deadline, 0 none */
    int64_t uptmr;             /* pause end (advisory, resume), 0 none */
    int64_t ldt, lat;          /* last delivery / ack times */
    int sfreq;
    uint64_t maxdc;
    int64_t maxp;

    /* replay original */
    bool replay;
    int64_t lts;
    uint64_t replay_lseq;
    int64_t replay_due; /* next delivery time when replaying or rate limited, 0 none */

    /* rate_limit_bps: token bucket in bytes (Go rate.Limiter) */
    double rl_tokens;
    int64_t rl_last;
    bool rl_reserved;

    /* pinned client */
    char pin_id[32];
    int64_t pinned_ts;
    int64_t pin_deadline;
    char pin_group[32];  /* the group of the first pin (Go's pinned timer keeps it) */

    /* num_pending while one jsc_deliver pass runs (-1: not computed); Go keeps o.npc. */
    int64_t np_pass;
    /* The first stream sequence selected at creation (kept in meta.json: a consumer store with
     * no delivery yet recovers from it instead of selecting again). */
    uint64_t start_seq;
};

/* All consumers of one stream (the stream's consumers slot). */
typedef struct jsc_set {
    js_stream *st;
    js_consumer **v;
    size_t n, cap;
} jsc_set;

/* --- js_consumer.c ------------------------------------------------------------------ */
jsc_set *jsc_set_of(js_stream *st, bool create);
/* js_consumer_timer.c: sets visited by the timer walk. */
void jsc_track_set(jsc_set *s);
void jsc_untrack_set(jsc_set *s);
js_consumer *jsc_lookup(js_stream *st, const char *name);
/* Creates or updates (Go addConsumerWithAction); returns the consumer or NULL with *err_code
 * (and *err_arg, malloc'd or NULL) set. */
js_consumer *jsc_add(js_stream *st, jsc_config *cfg, int action, bool pedantic, bool recovering,
                     int64_t created, uint64_t start_seq, int *err_code, char **err_arg);
/* Deletes (Go stopWithFlags(true, ...)); advisory when asked. */
void jsc_delete(js_consumer *o, bool advisory);
/* js_consumer_store.c */
void jsc_write_state(js_consumer *o);
void jsc_read_stored_state(js_consumer *o);
void jsc_remove_meta(js_consumer *o);
void jsc_write_meta(js_consumer *o);
/* The consumer store of o (file streams: the stream store's, state kept for the LMDB group
 * commit; recovering: loads the stored state). */
int jsc_store_open(js_consumer *o, const sd_consumer_config *cfg, bool recovering, sd_consumer_store **out);
/* The stream is deleted: every record of its consumers goes (also ones not recovered). */
void jsc_forget_stream(js_stream *st);
/* Test hook: LMDB commits and consumer state records written so far. */
void jsc_meta_stats(js_server *js, uint64_t *commits, uint64_t *state_puts);
bool jsc_is_durable(const js_consumer *o);
/* Stream helpers. */
void jsc_stream_state(js_consumer *o, sd_stream_state *ss);
int64_t jsc_stream_cfg_int(js_stream *st, const char *key);
/* Advisory (only when someone listens). */
void jsc_advisory(js_consumer *o, const char *subj_prefix, json_t *ev);
json_t *jsc_event(js_server *js, const char *type);
void jsc_pause_advisory(js_consumer *o);
/* Go sendPinnedAdvisoryLocked (reason NULL) / sendUnpinnedAdvisoryLocked(group, reason). */
void jsc_pin_advisory(js_consumer *o, const char *group, const char *reason);
void jsc_update_pause_state(js_consumer *o);

/* Offered to the stream side (not yet in js_int.h): consumers violating new stream consumer
 * limits, "a, b" (malloc'd) or NULL. */
char *js_consumers_limits_violation(js_stream *st, int64_t inactive_threshold, int64_t max_ack_pending);

/* --- js_consumer_cfg.c -------------------------------------------------------------- */
void jsc_config_free(jsc_config *c);
void jsc_config_copy(jsc_config *dst, const jsc_config *src);
/* Parses Go's ConsumerConfig JSON; -1 with a message in err on a type error. */
int jsc_config_parse(const json_t *j, jsc_config *c, char *err, size_t errlen);
json_t *jsc_config_json(const jsc_config *c, bool dynamic_metadata);
bool jsc_config_equal(const jsc_config *a, const jsc_config *b);
/* Go setConsumerConfigDefaults and checkConsumerCfg: 0 or a JS error code (arg set). */
int jsc_config_defaults(jsc_config *c, js_stream *st, bool pedantic, char **arg);
int jsc_config_check(jsc_config *c, js_stream *st, bool recovering, char **arg);
void jsc_set_static_metadata(jsc_config *c);
bool jsc_valid_asset_name(const char *s);
/* Go time.Time JSON (RFC 3339 with nanoseconds, UTC). */
void jsc_fmt_time(int64_t ns, char *buf, size_t cap);
int jsc_parse_time(const char *s, int64_t *ns);
/* Go time.Duration.String(). */
void jsc_fmt_duration(int64_t ns, char *buf, size_t cap);
char *jsc_strdup(const char *s);
char *jsc_strndup(const char *s, size_t n);
const char *jsc_ack_policy_str(sd_ack_policy p);

/* --- js_consumer_api.c -------------------------------------------------------------- */
json_t *jsc_info_json(js_consumer *o);

/* --- js_consumer_deliver.c ---------------------------------------------------------- */
/* Delivers as much as possible now (Go loopAndGatherMsgs one pass). */
void jsc_deliver(js_consumer *o);
void jsc_process_next_request(js_consumer *o, const char *reply, const uint8_t *msg, size_t len);
/* Go processWaiting; returns the earliest expiry/heartbeat deadline (0 none) and the sum of
 * batches pending in *brp. */
int64_t jsc_process_waiting(js_consumer *o, bool eos, int64_t *brp);
uint64_t jsc_num_pending(js_consumer *o);
void jsc_wq_clear(js_consumer *o, const char *status, bool pending_hdrs);
void jsc_send_heartbeat(js_consumer *o, const char *subj);
bool jsc_paused(js_consumer *o);
void jsc_push_interest(js_consumer *o);
/* Publishes a delivery (routing subject, original subject). */
void jsc_send(js_consumer *o, const char *dsubj, const char *subj, const char *reply,
              const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t len);
void jsc_send_status(js_consumer *o, const char *subj, const char *reply, const char *hdr);

/* --- js_consumer_pull.c ------------------------------------------------------------- */
void jsc_wr_free(jsc_wr *wr);
jsc_wr *jsc_next_waiting(js_consumer *o, int64_t sz);
uint64_t jsc_pass_pending(js_consumer *o);
bool jsc_has_interest(js_consumer *o, const char *subj);
/* The name of the account the consumer's stream lives in (its publishes go there). */
static inline const char *jsc_acc(const js_consumer *o) {
    return js_account_name(js_stream_account(o->st));
}
void jsc_send_status_pending(js_consumer *o, const char *subj, const char *status, int64_t n, int64_t b);

/* --- js_consumer_ack.c -------------------------------------------------------------- */
bool jsc_process_ack_msg(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc,
                         const char *reply, bool do_sample);
void jsc_check_pending(js_consumer *o);
void jsc_track_pending(js_consumer *o, uint64_t sseq, uint64_t dseq);
void jsc_update_delivered(js_consumer *o, uint64_t dseq, uint64_t sseq, uint64_t dc, int64_t ts);
void jsc_update_acks(js_consumer *o, uint64_t dseq, uint64_t sseq, const char *reply);
void jsc_process_term(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc,
                      const char *reason, const char *reply, bool *acked_in_place);
void jsc_notify_delivery_exceeded(js_consumer *o, uint64_t sseq, uint64_t dc);
void jsc_move_ack_floor(js_consumer *o, uint64_t dseq, uint64_t sseq);
bool jsc_on_rdq(js_consumer *o, uint64_t seq);
void jsc_rdq_add(js_consumer *o, uint64_t seq);
bool jsc_rdq_remove(js_consumer *o, uint64_t seq);
uint64_t jsc_rdq_pop(js_consumer *o);
bool jsc_need_ack(js_consumer *o, uint64_t sseq, const char *subj);
bool jsc_is_filtered_match(js_consumer *o, const char *subj);
/* Stream ackMsg for interest/workqueue retention. */
void jsc_stream_ack_msg(js_consumer *o, uint64_t seq);
int64_t jsc_ack_wait(js_consumer *o, int64_t next);
bool jsc_has_max_deliveries(js_consumer *o, uint64_t seq);
void jsc_send_flow_control(js_consumer *o);

#endif
