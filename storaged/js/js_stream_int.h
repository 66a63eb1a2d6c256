/* Stream-side internals of storaged's JetStream layer (js_server.c, js_api*.c, js_stream*.c).
 * Not for the consumer side, which uses js_int.h only.
 *
 * Ports the stream structures of Go nats-server v2.14.5 server/stream.go (stream,
 * StreamConfig, ddentry), server/jetstream.go (jetStream, jsAccount) for a single node.
 */
#ifndef SD_JS_STREAM_INT_H
#define SD_JS_STREAM_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/strmap.h"
#include "common/transform.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_errors.h"
#include "storaged/js/js_int.h"

#define JS_API_LEVEL 4
#define JS_GO_VERSION "2.14.5"
#define JS_MAX_NAME_LEN 255
#define JS_MAX_DESCRIPTION_LEN 4096
#define JS_MAX_METADATA_LEN (128 * 1024)
#define JS_API_NAMES_LIMIT 1024
#define JS_API_LIST_LIMIT 256
#define JS_MAX_SUBJECT_DETAILS 100000
#define JS_DEFAULT_DUPLICATES_NS (2LL * 60 * 1000000000LL)
#define JS_MS 1000000LL
#define JS_SEC 1000000000LL

/* Go StreamConfig (+ StreamConfigRequest.pedantic). */
typedef struct js_stream_cfg {
    char *name;
    char *description;
    char **subjects;
    size_t nsubjects;
    sd_retention_policy retention;
    int64_t max_consumers;
    int64_t max_msgs;
    int64_t max_bytes;
    int64_t max_age;
    int64_t max_msgs_per;
    int32_t max_msg_size;
    sd_discard_policy discard;
    int storage; /* 0 (unset), SD_STORAGE_FILE, SD_STORAGE_MEMORY */
    int64_t replicas;
    bool no_ack;
    int64_t duplicates;
    json_t *placement; /* raw Go Placement, or NULL */
    json_t *mirror;    /* Go StreamSource JSON as Go encodes it (js_mirror_cfg.c), or NULL */
    json_t *sources;   /* []*StreamSource JSON (null elements kept), or NULL */
    int compression;   /* 0 none, 1 s2 */
    uint64_t first_seq;
    bool has_transform;
    char *tr_src, *tr_dest;
    bool has_republish;
    char *rp_src, *rp_dest;
    bool rp_headers_only;
    bool allow_direct, mirror_direct, discard_new_per;
    bool sealed, deny_delete, deny_purge, allow_rollup;
    int64_t cl_inactive_threshold;
    int64_t cl_max_ack_pending;
    bool allow_msg_ttl;
    int64_t sdm_ttl;
    bool allow_msg_counter, allow_atomic, allow_msg_schedules;
    int persist_mode; /* 0 default, 1 async */
    bool allow_batched;
    json_t *metadata; /* object of strings, or NULL */
    bool pedantic;    /* request only */
} js_stream_cfg;

void js_stream_cfg_free(js_stream_cfg *c);
void js_stream_cfg_copy(js_stream_cfg *dst, const js_stream_cfg *src);
/* Strict decode of a StreamConfigRequest (or, with is_request false, a stored
 * StreamConfig).  0, or -1 with Go's decode error text in err. */
int js_stream_cfg_decode(const json_t *v, js_stream_cfg *c, bool is_request, char *err,
                         size_t errlen);
/* Go's StreamConfig JSON (field order and omitempty as Go).  dynamic_meta adds
 * _nats.ver/_nats.level (setDynamicStreamMetadata). */
json_t *js_stream_cfg_json(const js_stream_cfg *c, bool dynamic_meta);
/* Go setStaticStreamMetadata. */
void js_stream_cfg_set_static_meta(js_stream_cfg *c);
/* Go checkStreamCfg for a single node: fills defaults; 0 or an err_code with its argument
 * (Go's error text, malloc'd) in *arg. */
int js_stream_cfg_check(js_server *js, js_account *acc, js_stream_cfg *c, bool pedantic,
                        char **arg);
/* Go configUpdateCheck (old vs new) after check; 0 or err_code with *arg. */
int js_stream_cfg_update_check(js_account *acc, const js_stream_cfg *old, js_stream_cfg *c,
                               char **arg);
/* The store config for a stream config (pointers borrowed from c). */
void js_stream_cfg_store(const js_stream_cfg *c, sd_stream_config *sc);

/* Go ddentry: a message id in the duplicates window. */
typedef struct js_ddentry {
    char *id;
    uint64_t seq;
    int64_t ts;
} js_ddentry;

struct js_stream {
    js_account *acc;
    js_stream_cfg cfg;
    json_t *cfg_json; /* js_stream_config_json: Go StreamConfig JSON of cfg */
    sd_store *store;
    char *dir; /* <store_dir>/jetstream/<acc>/streams/<name> */
    int64_t created;
    uint64_t lseq;
    char *lmsgid;
    nx_strmap ddmap; /* id -> js_ddentry* */
    js_ddentry **ddarr; /* in insertion (time) order, ddhead first live */
    size_t ddlen, ddhead, ddcap;
    nx_transform *itr; /* input subject transform */
    nx_transform *tr;  /* republish transform */
    void *consumers;   /* consumer side's slot */
    struct js_sync *sync; /* mirror / sources state (js_mirror_sync.c), or NULL */
    struct js_batches *batches; /* inflight atomic batches (js_batch.c), or NULL */
    struct js_fast_batches *fast_batches; /* inflight fast batches (js_batch_fast.c) */
    bool dirty;
    bool closed;
};

struct js_account {
    js_server *js;
    char *name;
    bool enabled;             /* JetStream enabled for the account (Go a.js != nil) */
    bool is_system;           /* the system account (never enabled) */
    bool api_sub;             /* "$JS.API.>" is subscribed in the account */
    js_account_limits limits; /* Go jsa.limits[""] */
    int64_t mem_used, store_used; /* the account's stream bytes (Go jsa.usage totals) */
    js_stream **streams;
    size_t nstreams;
    uint64_t api_total, api_errors;
    struct js_links *links; /* imports / exports (js_mirror_ext.c), or NULL */
};

typedef struct js_deferred {
    char *acc;
    char *subj;
    char *hdr;
    size_t hdr_len;
    uint8_t *data;
    size_t len;
} js_deferred;

struct js_server {
    js_config cfg; /* strings owned */
    js_host host;
    js_account **accounts; /* configured ones first, then any other that sent a request */
    size_t naccounts;
    bool global_only; /* no accounts configured: "$G" is JetStream's only account */
    js_deferred *deferred;
    size_t ndeferred, deferred_cap;
    uint64_t api_total, api_errors;
    int64_t mem_used, store_used; /* bytes in memory / file streams (storage_update deltas) */
    int64_t batches_inflight;     /* atomic batches inflight on all streams (js_batch.c) */
};

/* js_server.c */
void js_server_declare_stream_interest(js_server *js, js_stream *st, int delta);
/* Counts an API call for the account (Go trackAPI / trackAPIErr). */
void js_api_track(js_account *acc, bool is_err);
/* Publishes an API response object (type first, error next, then the rest). */
void js_api_send(js_server *js, js_account *acc, const char *reply, const char *type,
                 json_t *resp, bool track, const js_inmsg *req);
/* A NUID-shaped id (22 base62 characters) for advisories. */
void js_nuid(char out[23]);
/* Go sendJetStreamAPIAuditAdvisory: $JS.EVENT.ADVISORY.API when someone listens. */
void js_api_audit(js_server *js, const js_inmsg *req, const char *response, size_t len);
void js_account_free(js_account *acc);
/* Stream dir base for an account: <store_dir>/jetstream/<acc>/streams (malloc'd). */
char *js_account_streams_dir(js_server *js, const char *acc);

/* js_stream.c */
/* Go addStream: check the config, create the store and persist the config.  Returns the
 * stream, or NULL with err_code/arg set (arg malloc'd or NULL). *existing set when a stream
 * with an equal config already existed. */
js_stream *js_stream_add(js_account *acc, js_stream_cfg *cfg, bool pedantic, int *err_code,
                         char **arg, bool *existing);
/* Go stream update. 0 or err_code with *arg. */
int js_stream_update(js_stream *st, js_stream_cfg *cfg, bool pedantic, char **arg);
/* Deletes the stream and its files and frees it. */
void js_stream_delete(js_stream *st);
/* Closes (no deletion) and frees. */
void js_stream_close(js_stream *st);
/* Recovers every stream of one account directory. */
void js_stream_recover_all(js_server *js, const char *acc_name, const char *dir);
/* Go StreamInfo JSON; details adds the deleted list; subjects_filter fills "subjects". */
#define JS_INFO_DOMAIN 1
#define JS_INFO_CLUSTER 2
#define JS_INFO_DYNAMIC_META 4
#define JS_INFO_DETAILS 8
json_t *js_stream_state_json(js_stream *st, bool details, json_t *subjects);
/* subjects (borrowed, may be NULL) becomes state.subjects. */
json_t *js_stream_info_json(js_stream *st, int flags, json_t *subjects);
/* Go mset.purge; 0 or err_code with *arg.  purged in *purged. */
int js_stream_purge(js_stream *st, const char *filter, uint64_t seq, uint64_t keep,
                    bool has_req, uint64_t *purged, char **arg);
/* Removes seq (erase: overwrite).  1 removed, 0 not found, < 0 store error. */
int js_stream_remove_msg(js_stream *st, uint64_t seq, bool erase);
/* js_stream_meta.c: the stream's config record in the LMDB metadata store
 * (s/<account>/<stream>), committed durably.  0 or a negative error. */
int js_stream_write_meta(js_stream *st);
/* Removes the record (stream deleted). */
void js_stream_remove_meta(js_stream *st);
/* The stored {"created","config"} object of stream `name` in directory `dir` (new reference),
 * migrating an older meta.json into LMDB; NULL with err set when missing or damaged. */
json_t *js_stream_read_meta(js_server *js, const char *acc_name, const char *name,
                            const char *dir, char *err, size_t errlen);
/* The LMDB metadata store of a server (js_consumer_store.c); NULL if it could not open. */
struct sd_meta *js_meta_db(js_server *js);
/* Subject matches one of the stream's subjects. */
bool js_stream_matches(const js_stream *st, const char *subj);
/* Duplicate-window bookkeeping. */
js_ddentry *js_stream_check_msgid(js_stream *st, const char *id);
void js_stream_store_msgid(js_stream *st, const char *id, uint64_t seq, int64_t ts);
void js_stream_purge_msgids(js_stream *st, int64_t now);
/* Account usage: total bytes by storage, reservations. */
void js_account_usage(js_account *acc, uint64_t *mem, uint64_t *store, uint64_t *rmem,
                      uint64_t *rstore, uint64_t *consumers);

/* js_stream_pub.c: Go processJetStreamMsg for an inbound message on a stream subject. */
void js_stream_process_msg(js_stream *st, const js_inmsg *m);
/* The same for a message of a committed atomic batch (batch_id set: the batch headers are
 * not looked at again, and the PubAck carries "batch" and "count"). */
typedef struct js_fast_batch js_fast_batch;
void js_stream_process_ex(js_stream *st, const js_inmsg *m, const char *batch_id,
                          uint64_t batch_count, const js_fast_batch *fb);
/* A message of a fast batch that passed its checks: stored, acknowledged by the batch. */
void js_stream_process_fast(js_stream *st, const js_inmsg *m, const js_fast_batch *fb);
/* An error PubAck {"error":..., "stream", "seq":0} published at once (no-op without reply). */
void js_stream_pub_error(js_stream *st, const char *reply, int err_code, const char *arg);

/* js_batch.c: Go processJetStreamAtomicBatchMsg (jetstream_batching.go) for a message with
 * Nats-Batch-Id on an allow_atomic stream (subject after the input transform). */
void js_batch_atomic(js_stream *st, const char *raw_subject, const char *subject,
                     const char *reply, const char *batch_id, const uint8_t *hdr, size_t hdr_len,
                     const uint8_t *msg, size_t msg_len);
/* Go's check of one message before it is proposed (checkMsgHeadersPreClusteredProposal);
 * 0 or err_code (*arg malloc'd); *dup_seq is the stored duplicate's sequence. */
int js_batch_check_msg(js_stream *st, const char *csubj, const uint8_t *hdr, size_t hdr_len,
                       size_t msg_len, uint64_t *dup_seq, char **arg);

/* js_batch_recover.c: at recovery, rolls back an atomic batch whose commit a crash cut short
 * (the stream's tail holds batch messages without their commit). */
void js_batch_recover(js_stream *st);

/* js_batch_fast.c: fast batch publish (allow_batched), Go getFastBatch /
 * processJetStreamFastBatchMsg / fastBatch*. */
struct js_fast_batch {
    char id[65];
    size_t id_len;
    uint64_t seq;
    uint16_t flow;
    bool ping, gap_ok, commit, commit_eob;
};
/* 1: a fast batch reply (fb filled), 0: not one, -1: one with an invalid pattern. */
int js_fast_batch_parse(const char *reply, size_t len, js_fast_batch *fb);
void js_batch_fast(js_stream *st, const js_fast_batch *fb, bool invalid, const js_inmsg *m,
                   const char *subject, const char *raw_reply, const char *reply,
                   const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t msg_len);
/* After a fast batch message was stored at sseq (flow control, the commit's PubAck). */
void js_fast_batch_stored(js_stream *st, const js_fast_batch *fb, const char *reply, uint64_t sseq);
void js_fast_batch_free_all(js_stream *st);
int64_t js_fast_batch_next_deadline(js_stream *st);
void js_fast_batch_tick(js_stream *st, int64_t now);
/* Abandons the stream's batches (stream deleted / closed). */
void js_batch_free_all(js_stream *st);
/* Batch timeouts. */
int64_t js_batch_next_deadline(js_stream *st);
void js_batch_tick(js_stream *st, int64_t now);
/* Header helpers (Go genHeader / removeHeaderIfPresent) into malloc'd buffers. */
char *js_hdr_append(const uint8_t *hdr, size_t hdr_len, const char *key, const char *val,
                    size_t *out_len);
/* Go getHeader lookups as NUL-terminated copies (malloc'd) or NULL. */
char *js_hdr_get(const uint8_t *hdr, size_t hdr_len, const char *key);

/* js_mirror_cfg.c: Go StreamSource (mirror / sources) configuration. */
typedef struct js_source_cfg {
    char *name;
    uint64_t opt_start_seq;
    int64_t opt_start_time;
    bool has_start_time;
    char *filter;
    char **tr_src, **tr_dest; /* subject_transforms */
    size_t ntr;
    json_t *external, *consumer; /* decoded, refused by the checks */
} js_source_cfg;
int js_source_cfg_decode(const json_t *v, js_source_cfg *s, const char *path, char *err,
                         size_t n);
json_t *js_source_cfg_json(const js_source_cfg *s);
void js_source_cfg_free(js_source_cfg *s);
/* Go composeIName: "<name> <filters> <destinations>" (malloc'd). */
char *js_source_iname(const js_source_cfg *s);
/* StreamConfig decoders for "mirror" and "sources" (normalised as Go re-encodes them). */
int js_cfg_dec_mirror(const json_t *v, void *f, const char *path, char *err, size_t n);
int js_cfg_dec_sources(const json_t *v, void *f, const char *path, char *err, size_t n);
/* The mirror/sources part of Go checkStreamCfg; 0 or err_code with *arg. */
int js_mirror_cfg_check(js_account *acc, js_stream_cfg *c, bool pedantic, char **arg);

/* js_mirror_sync.c: keeping mirrors and sourcing streams in step with their origins. */
/* (Re)builds a stream's mirror/source state from its config and stored messages (create,
 * recovery, update).  Frees it when the stream has neither. */
void js_sync_setup(js_stream *st);
void js_sync_free(js_stream *st);
/* Copies what origins gained since the last call into every mirror / sourcing stream. */
void js_sync_pump_all(js_server *js);
/* StreamInfo "mirror" object / "sources" array (NULL when none). */
json_t *js_sync_mirror_info(js_stream *st);
json_t *js_sync_sources_info(js_stream *st);

/* js_mirror_ext.c: external mirrors / sources (ExternalStream) resolved through the
 * accounts' imports and exports. */
void js_links_set(js_account *acc, const js_account_config *ac); /* NULL: none */
void js_links_free(js_account *acc);
/* Go getHash (8 base62 characters of sha256). */
void js_sys_hash(const char *name, char out[9]);
/* external.api / external.deliver of a mirror/source (NULL when not external). */
const char *js_ext_api(const js_source_cfg *sc);
const char *js_ext_deliver(const js_source_cfg *sc);
enum { JS_EXT_UNREACHABLE, JS_EXT_NOT_ENABLED, JS_EXT_NO_STREAM, JS_EXT_OK };
/* The origin stream of an external mirror/source of a stream in `acc` when the consumer
 * create request and the deliveries both have a route (*state JS_EXT_OK); NULL with
 * JS_EXT_UNREACHABLE (no responders), JS_EXT_NOT_ENABLED (reached an account without
 * JetStream) or JS_EXT_NO_STREAM (reached, no such stream). */
js_stream *js_ext_origin(js_account *acc, const js_source_cfg *sc, bool mirror, int *state);

/* js_stream_counter.c: Go big.Int decimal strings for counter streams. */
bool js_counter_valid(const char *s);
char *js_counter_add(const char *a, const char *b);

/* js_account.c: per-account JetStream (Go jetstream.go jsAccount limits, jetstream_api.go
 * checkJetStream). */
/* The accounts of cfg (enabled or not) created in js, before recovery. */
void js_accounts_setup(js_server *js);
/* An enabled account's start: acks and flow control subscribed, its streams recovered from
 * <store_dir>/jetstream/<account>/streams (Go EnableJetStream). */
void js_account_start(js_account *acc);
/* An API request in an account without JetStream: Go's reply ("jetstream not enabled for
 * account", 10039, with the handler's response type), a bad request for a subject no handler
 * serves, nothing for the system-level ones. */
void js_api_not_enabled(js_server *js, js_account *acc, const js_inmsg *m);
/* Go jsNonClusteredStreamLimitsCheck for a stream create (cfg as requested): 0 or err_code. */
int js_account_stream_limits_check(js_account *acc, const js_stream_cfg *c);
/* Go checkAllLimits / checkBytesLimits for the account and the server: 0 or err_code.
 * skip: the stream being updated (its reservation is not counted), or NULL; add: the bytes
 * the stream reserves (max_bytes, or the growth of it on update). */
int js_account_bytes_check(js_account *acc, const js_stream_cfg *c, const js_stream *skip,
                           int64_t add);
/* Go wouldExceedLimits on a publish: the account's usage plus the message against its
 * max_memory / max_store. */
bool js_account_limits_exceeded(js_account *acc, int storage, size_t subj_len, size_t hdr_len,
                                size_t msg_len);
/* Go account info "limits" object. */
json_t *js_account_limits_json(const js_account *acc);

/* js_api.c / js_api_msg.c */
bool js_api_level_error(const js_inmsg *m);
void js_api_dispatch(js_server *js, js_account *acc, const js_inmsg *m);
void js_api_direct_get(js_server *js, js_account *acc, const js_inmsg *m);
void js_api_msg_get(js_server *js, js_account *acc, const char *stream, const js_inmsg *m);
void js_api_msg_delete(js_server *js, js_account *acc, const char *stream, const js_inmsg *m);

#endif
