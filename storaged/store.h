/* JetStream stream store interface, shared by the memory store and the file store.
 *
 * Ports Go nats-server v2.14.5 server/store.go: the StreamStore and ConsumerStore interfaces,
 * StoreMsg, StreamState, SimpleState, DeleteBlocks, the stream state encoding
 * (DecodeStreamState) and encodeConsumerState/decodeConsumerState, and the store errors.
 *
 * Shape: an sd_store is an object whose first member points at an ops table (a vtable);
 * sd_memstore_open() makes one, the file store will make another.  The inline sd_store_*
 * wrappers below are what callers use.
 *
 * Contracts that hold for every implementation:
 *  - single-threaded: a store belongs to one thread of storaged; nothing here locks.
 *  - time: the store reads time only through env.now_ns (default CLOCK_REALTIME) for new
 *    message timestamps, and never fires timers.  Age (MaxAge), per-message TTL and subject
 *    delete marker processing run when the owner calls sd_store_expire(st, now); the owner asks
 *    sd_store_next_expire(st) for the deadline and calls expire once now >= deadline.  (Go runs
 *    the same logic from a time.AfterFunc timer.)
 *  - callbacks: storage_update is a notification and must not call back into the store;
 *    remove_msg and process_msg are only called from sd_store_expire at points where the
 *    store is consistent, and may call back into it (Go proposes a removal there, and R1
 *    streams remove inline).
 *  - errors: 0 (or a count/flag) on success, a negative code on failure: SD_ERR_* below or
 *    a negative errno.  sd_strerror() gives Go's error text.
 *  - messages handed in (subject, header, payload) are copied; loads copy the message into
 *    the caller's sd_store_msg buffer, so results stay valid across later store calls.
 *  - filters: NULL or "" means every subject; a filter may hold '*' and '>' wildcards.
 *    Filter and subject arguments of queries are NUL-terminated; message data is (ptr, len).
 *  - allocation failure aborts (as Go panics); results that the caller owns say so.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/seqset.h"
#include "common/stree.h"

/* --- Errors (Go's store errors; texts in sd_strerror) --------------------------------- */

enum {
    SD_ERR_BASE = 10000,
    SD_ERR_STORE_CLOSED = -(SD_ERR_BASE + 1),         /* "store is closed" */
    SD_ERR_MSG_NOT_FOUND = -(SD_ERR_BASE + 2),        /* "no message found" */
    SD_ERR_STORE_EOF = -(SD_ERR_BASE + 3),            /* "stream store EOF" */
    SD_ERR_MAX_MSGS = -(SD_ERR_BASE + 4),             /* "maximum messages exceeded" */
    SD_ERR_MAX_BYTES = -(SD_ERR_BASE + 5),            /* "maximum bytes exceeded" */
    SD_ERR_MAX_MSGS_PER_SUBJECT = -(SD_ERR_BASE + 6), /* "maximum messages per subject ..." */
    SD_ERR_SNAPSHOT_IN_PROGRESS = -(SD_ERR_BASE + 7), /* "snapshot in progress" */
    SD_ERR_MSG_TOO_LARGE = -(SD_ERR_BASE + 8),        /* "message too large" */
    SD_ERR_WRONG_TYPE = -(SD_ERR_BASE + 9),           /* "wrong storage type" */
    SD_ERR_NO_ACK_POLICY = -(SD_ERR_BASE + 10),       /* "ack policy is none" */
    SD_ERR_SEQUENCE_MISMATCH = -(SD_ERR_BASE + 11),   /* "expected sequence does not match store" */
    SD_ERR_CORRUPT_STREAM_STATE = -(SD_ERR_BASE + 12), /* "stream state snapshot is corrupt" */
    SD_ERR_TOO_MANY_RESULTS = -(SD_ERR_BASE + 13),     /* "too many matching results for request" */
    SD_ERR_OLD_UPDATE = -(SD_ERR_BASE + 14),           /* "old update ignored" */
    SD_ERR_BAD_STREAM_STATE_ENCODING = -(SD_ERR_BASE + 15), /* "bad stream state encoding" */
    SD_ERR_PARTIAL_PURGE = -(SD_ERR_BASE + 16),       /* "partial purges not supported on ..." */
    SD_ERR_CONFIG_REQUIRED = -(SD_ERR_BASE + 17),     /* "config required" */
    SD_ERR_MEMSTORE_TYPE = -(SD_ERR_BASE + 18),       /* "memStore requires memory storage ..." */
    SD_ERR_BAD_CONSUMER_CONFIG = -(SD_ERR_BASE + 19), /* "bad consumer config" */
    SD_ERR_BAD_ACK_FLOOR_CONSUMER = -(SD_ERR_BASE + 20), /* "bad ack floor for consumer" */
    SD_ERR_BAD_ACK_FLOOR_STREAM = -(SD_ERR_BASE + 21),   /* "bad ack floor for stream" */
    SD_ERR_BAD_PENDING = -(SD_ERR_BASE + 22), /* "bad pending entry, sequence [%d] out of range" */
    SD_ERR_NO_IMPL = -(SD_ERR_BASE + 23),     /* "no impl" (memory store snapshots) */
    SD_ERR_CORRUPT_STATE = -(SD_ERR_BASE + 24),       /* "corrupt state file" (consumer state) */
    SD_ERR_UNSUPPORTED_VERSION = -(SD_ERR_BASE + 25), /* "unsupported version: %d" */
    SD_ERR_MSG_TTL_INVALID = -(SD_ERR_BASE + 26),     /* "invalid per-message TTL" (JS 10165) */
};

/* Go's error text for an SD_ERR_* code (or strerror for a negative errno). */
const char *sd_strerror(int err);

/* --- Configuration ------------------------------------------------------------------- */

typedef enum { SD_STORAGE_FILE = 22, SD_STORAGE_MEMORY = 33 } sd_storage_type;
typedef enum {
    SD_RETENTION_LIMITS = 0,
    SD_RETENTION_INTEREST,
    SD_RETENTION_WORKQUEUE
} sd_retention_policy;
typedef enum { SD_DISCARD_OLD = 0, SD_DISCARD_NEW = 1 } sd_discard_policy;

/* The parts of Go's StreamConfig a store looks at.  The store copies what it keeps. */
typedef struct sd_stream_config {
    const char *name;
    const char *const *subjects;
    size_t num_subjects;
    sd_storage_type storage;
    sd_retention_policy retention;
    int64_t max_msgs;     /* <= 0: unlimited */
    int64_t max_bytes;    /* <= 0: unlimited */
    int64_t max_age_ns;   /* 0: unlimited */
    int64_t max_msgs_per; /* per subject; <= 0 unlimited; update clamps < -1 to -1 */
    int32_t max_msg_size; /* enforced by the stream layer, as in Go */
    sd_discard_policy discard;
    bool discard_new_per;                 /* DiscardNew also per subject */
    uint64_t first_seq;                   /* initial sequence of an empty stream */
    bool allow_msg_ttl;                   /* honour per-message TTLs */
    int64_t subject_delete_marker_ttl_ns; /* > 0: place markers when MaxAge removes the last */
} sd_stream_config;

/* Environment a store runs in.  All fields optional. */
typedef struct sd_store_env {
    int64_t (*now_ns)(void *arg); /* wall clock in ns since the epoch */
    void *now_arg;
} sd_store_env;

/* --- Messages and state ---------------------------------------------------------------- */

/* A loaded message.  Zero-initialise one and reuse it across loads; the store copies the
 * message into buf (growing it), and subj/hdr/msg point into buf.  Free with
 * sd_store_msg_free. */
typedef struct sd_store_msg {
    uint64_t seq;
    int64_t ts; /* ns since the epoch */
    const char *subj;
    size_t subj_len;
    const uint8_t *hdr;
    size_t hdr_len;
    const uint8_t *msg;
    size_t msg_len;
    uint8_t *buf;
    size_t buf_cap;
} sd_store_msg;

void sd_store_msg_free(sd_store_msg *sm);
/* Fills sm with copies of the given parts (used by implementations). */
void sd_store_msg_set(sd_store_msg *sm, uint64_t seq, int64_t ts, const char *subj, size_t subj_len,
                      const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t msg_len);

/* Go SimpleState: per-subject or filtered totals. */
typedef struct sd_simple_state {
    uint64_t msgs;
    uint64_t first;
    uint64_t last;
    /* Internal to the stores (lazy recalculation); meaningful only in raw per-subject state. */
    bool first_needs_update;
    bool last_needs_update;
} sd_simple_state;

/* Go StreamState.  Times are ns since the epoch, 0 for Go's zero time. */
typedef struct sd_stream_state {
    uint64_t msgs;
    uint64_t bytes;
    uint64_t first_seq;
    int64_t first_ts;
    uint64_t last_seq;
    int64_t last_ts;
    uint64_t num_subjects;
    uint64_t num_deleted;
    uint64_t *deleted; /* interior deletes, ascending (State only; owned) */
    size_t deleted_len;
    uint64_t *lost_msgs; /* LostStreamData (file store; owned) */
    size_t lost_len;
    uint64_t lost_bytes;
    int consumers;
} sd_stream_state;

void sd_stream_state_free(sd_stream_state *s);

/* Go StorageUpdateHandler: message and byte deltas, plus the sequence and subject when a
 * single message changed (seq 0 / empty subject otherwise). */
typedef void (*sd_storage_update_cb)(void *arg, int64_t msgs, int64_t bytes, uint64_t seq,
                                     const char *subj, size_t subj_len);
/* Go StorageRemoveMsgHandler: the store asks its owner to remove (or propose removing) seq. */
typedef void (*sd_remove_msg_cb)(void *arg, uint64_t seq);
/* Go ProcessJetStreamMsgHandler: the store asks its owner to publish a message into the
 * stream (subject delete markers). */
typedef void (*sd_process_msg_cb)(void *arg, const char *subj, size_t subj_len, const uint8_t *hdr,
                                  size_t hdr_len, const uint8_t *msg, size_t msg_len);

typedef struct sd_store_callbacks {
    sd_storage_update_cb storage_update;
    void *storage_update_arg;
    sd_remove_msg_cb remove_msg;
    void *remove_msg_arg;
    sd_process_msg_cb process_msg;
    void *process_msg_arg;
} sd_store_callbacks;

/* Per-subject walk (SubjectsState / SubjectsTotals). */
typedef bool (*sd_subject_state_cb)(void *arg, const char *subj, size_t len,
                                    const sd_simple_state *ss);

/* --- Delete blocks and the replicated stream state encoding -------------------------- */

typedef enum { SD_DB_SEQSET, SD_DB_RANGE, SD_DB_SLICE } sd_delete_block_kind;

/* Go DeleteBlock: an AVL seqset, a run-length range, or a legacy sorted slice. */
typedef struct sd_delete_block {
    sd_delete_block_kind kind;
    nx_seqset seqset;     /* SD_DB_SEQSET */
    uint64_t first;       /* SD_DB_RANGE */
    uint64_t num;         /* SD_DB_RANGE */
    const uint64_t *seqs; /* SD_DB_SLICE */
    size_t nseqs;
} sd_delete_block;

void sd_delete_block_state(const sd_delete_block *db, uint64_t *first, uint64_t *last,
                           uint64_t *num);
void sd_delete_block_range(const sd_delete_block *db, bool (*f)(void *arg, uint64_t seq),
                           void *arg);
uint64_t sd_delete_blocks_num_deleted(const sd_delete_block *dbs, size_t n);

/* Go StreamReplicatedState, from sd_decode_stream_state (free with ..._free). */
typedef struct sd_stream_replicated_state {
    uint64_t msgs, bytes, first_seq, last_seq, failed;
    sd_delete_block *deleted;
    size_t num_blocks;
} sd_stream_replicated_state;

#define SD_STREAM_STATE_MAGIC 42
#define SD_STREAM_STATE_VERSION 1
#define SD_RUN_LENGTH_MAGIC 33

bool sd_is_encoded_stream_state(const uint8_t *buf, size_t len);
int sd_decode_stream_state(const uint8_t *buf, size_t len, sd_stream_replicated_state *out);
void sd_stream_replicated_state_free(sd_stream_replicated_state *s);

/* --- Consumer store ------------------------------------------------------------------ */

typedef enum { SD_ACK_NONE = 0, SD_ACK_ALL, SD_ACK_EXPLICIT, SD_ACK_FLOW_CONTROL } sd_ack_policy;

/* The parts of Go's ConsumerConfig a consumer store looks at. */
typedef struct sd_consumer_config {
    sd_ack_policy ack_policy;
    int64_t max_deliver; /* <= 0: unlimited */
} sd_consumer_config;

typedef struct sd_sequence_pair {
    uint64_t consumer;
    uint64_t stream;
} sd_sequence_pair;

/* Go Pending, keyed by stream sequence: original delivery (consumer) sequence and time. */
typedef struct sd_pending {
    uint64_t sseq;
    uint64_t dseq;
    int64_t ts;
} sd_pending;

typedef struct sd_redelivered {
    uint64_t sseq;
    uint64_t count;
} sd_redelivered;

/* Go ConsumerState.  Arrays are sorted by stream sequence when produced by a store. */
typedef struct sd_consumer_state {
    sd_sequence_pair delivered;
    sd_sequence_pair ack_floor;
    sd_pending *pending;
    size_t num_pending;
    sd_redelivered *redelivered;
    size_t num_redelivered;
} sd_consumer_state;

void sd_consumer_state_free(sd_consumer_state *cs);
/* Go encodeConsumerState (version 2); now_ns is the base for pending timestamps.  Returns a
 * malloc'd buffer and its length in *len. */
uint8_t *sd_encode_consumer_state(const sd_consumer_state *cs, int64_t now_ns, size_t *len);
/* Go decodeConsumerState (versions 1 and 2). */
int sd_decode_consumer_state(const uint8_t *buf, size_t len, sd_consumer_state *out);

typedef struct sd_consumer_store sd_consumer_store;
typedef struct sd_consumer_store_ops {
    int (*set_starting)(sd_consumer_store *o, uint64_t sseq);
    void (*update_starting)(sd_consumer_store *o, uint64_t sseq);
    int (*reset)(sd_consumer_store *o, uint64_t sseq);
    bool (*has_state)(sd_consumer_store *o);
    int (*update_delivered)(sd_consumer_store *o, uint64_t dseq, uint64_t sseq, uint64_t dc,
                            int64_t ts);
    int (*update_acks)(sd_consumer_store *o, uint64_t dseq, uint64_t sseq);
    void (*remove_redelivered_below)(sd_consumer_store *o, uint64_t seq);
    int (*update_config)(sd_consumer_store *o, const sd_consumer_config *cfg);
    int (*update)(sd_consumer_store *o, const sd_consumer_state *state);
    int (*force_update)(sd_consumer_store *o, const sd_consumer_state *state);
    /* A copy of the state (caller frees with sd_consumer_state_free). */
    int (*state)(sd_consumer_store *o, sd_consumer_state *out);
    int (*encoded_state)(sd_consumer_store *o, uint8_t **buf, size_t *len);
    sd_storage_type (*type)(sd_consumer_store *o);
    int (*stop)(sd_consumer_store *o);
    int (*delete_)(sd_consumer_store *o);
    int (*stream_delete)(sd_consumer_store *o);
    /* Releases the object (stops it first if needed). */
    void (*free)(sd_consumer_store *o);
} sd_consumer_store_ops;

struct sd_consumer_store {
    const sd_consumer_store_ops *ops;
};

/* --- Stream store -------------------------------------------------------------------- */

typedef struct sd_store sd_store;

/* A stream snapshot (Go SnapshotResult), for $JS.API.STREAM.SNAPSHOT.  The archive is written
 * completely before the call returns (stores are single-threaded: no concurrent streaming) to
 * an unlinked temporary file; the caller reads it from fd in chunks of its choosing, then
 * releases it with sd_snapshot_result_free.  Format (storaged/README.md, "Snapshots"): a tar
 * archive in the snappy framing format (readable by Go's s2 reader), members
 *   snapshot.inf                  "nxfs-snapshot 1" and the stream state (first),
 *   <extra files>                 e.g. meta.inf (the stream config JSON of the JetStream layer),
 *   msgs/<8 digits>.blk           the messages as file store blocks (plain, uncompressed),
 *   obs/<consumer>/<file>         consumer state (include_consumers),
 *   snapshot.sum                  "<xxh64 hex> <size> <name>" per member above (last).
 * Memory stores produce the same archive (their messages as blocks): a snapshot of either
 * kind restores into a file store directory (sd_restore_begin, filestore.h). */
typedef struct sd_snapshot_result {
    int fd;                /* the archive, at offset 0; -1 once freed */
    sd_stream_state state; /* state at snapshot time */
    uint64_t size;         /* archive bytes */
} sd_snapshot_result;

/* An extra member of a snapshot archive (relative path, no "..", at most 200 bytes). */
typedef struct sd_snapshot_file {
    const char *name;
    const uint8_t *data;
    size_t len;
} sd_snapshot_file;

typedef struct sd_snapshot_opts {
    bool include_consumers; /* obs/<name>/... (file store consumers) */
    bool check_msgs;        /* verify every block's checksums first (Go checkMsgs) */
    const sd_snapshot_file *files;
    size_t num_files;
    const char *tmp_dir; /* where the temporary archive lives; NULL: the stream directory (file
                          * store) or $TMPDIR / /tmp (memory store) */
} sd_snapshot_opts;

/* Snapshot of any store (the ops->snapshot entry of both stores calls this without extra
 * files).  opts may be NULL.  Errors: SD_ERR_STORE_CLOSED, SD_ERR_CORRUPT_STREAM_STATE
 * (check_msgs found damage), negative errno. */
int sd_store_snapshot(sd_store *st, const sd_snapshot_opts *opts, sd_snapshot_result *out);
void sd_snapshot_result_free(sd_snapshot_result *r);
/* Copies every message (sequence, time, subject, headers, payload, TTL) and the sequence
 * range (gaps as deletes, trailing deletes, the last time when dst is a memory store) of src
 * into dst, which must be new (nothing stored, no sequence used).  For restoring a memory
 * stream: restore the archive into a directory (sd_restore_*, filestore.h), open it as a file
 * store, copy it into the new memory store, then delete the file store (ops->delete_).
 * Returns -EEXIST if dst is not new, or the first store error. */
int sd_store_copy_msgs(sd_store *src, sd_store *dst);

typedef struct sd_store_ops {
    int (*store_msg)(sd_store *st, const char *subj, size_t subj_len, const uint8_t *hdr,
                     size_t hdr_len, const uint8_t *msg, size_t msg_len, int64_t ttl_s,
                     uint64_t *seq, int64_t *ts);
    int (*store_raw_msg)(sd_store *st, const char *subj, size_t subj_len, const uint8_t *hdr,
                         size_t hdr_len, const uint8_t *msg, size_t msg_len, uint64_t seq,
                         int64_t ts, int64_t ttl_s, bool discard_new_check);
    int (*skip_msg)(sd_store *st, uint64_t seq, uint64_t *out_seq);
    int (*skip_msg_no_interest)(sd_store *st, uint64_t seq, uint64_t *out_seq);
    int (*skip_msgs)(sd_store *st, uint64_t seq, uint64_t num);
    int (*flush_all_pending)(sd_store *st);
    int (*load_msg)(sd_store *st, uint64_t seq, sd_store_msg *sm);
    int (*load_next_msg)(sd_store *st, const char *filter, bool wc, uint64_t start,
                         sd_store_msg *sm, uint64_t *seq);
    int (*load_next_msg_multi)(sd_store *st, const nx_filter_set *fs, uint64_t start,
                               sd_store_msg *sm, uint64_t *seq);
    int (*load_last_msg)(sd_store *st, const char *subj, sd_store_msg *sm);
    int (*load_prev_msg)(sd_store *st, const char *filter, bool wc, uint64_t start,
                         sd_store_msg *sm, uint64_t *seq);
    int (*load_prev_msg_multi)(sd_store *st, const nx_filter_set *fs, uint64_t start,
                               sd_store_msg *sm, uint64_t *seq);
    int (*remove_msg)(sd_store *st, uint64_t seq);
    int (*erase_msg)(sd_store *st, uint64_t seq);
    int (*purge)(sd_store *st, uint64_t *purged);
    int (*purge_ex)(sd_store *st, const char *subj, uint64_t seq, uint64_t keep, uint64_t *purged);
    int (*compact)(sd_store *st, uint64_t seq, uint64_t *purged);
    int (*truncate)(sd_store *st, uint64_t seq);
    uint64_t (*get_seq_from_time)(sd_store *st, int64_t ts);
    int (*filtered_state)(sd_store *st, uint64_t sseq, const char *subj, sd_simple_state *out);
    int (*subjects_state)(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg);
    int (*subjects_totals)(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg);
    int (*all_last_seqs)(sd_store *st, uint64_t **seqs, size_t *n);
    int (*multi_last_seqs)(sd_store *st, const char *const *filters, size_t nfilters,
                           uint64_t max_seq, int max_allowed, uint64_t **seqs, size_t *n);
    int (*subject_for_seq)(sd_store *st, uint64_t seq, char **subj);
    int (*num_pending)(sd_store *st, uint64_t sseq, const char *filter, bool last_per_subject,
                       uint64_t *total, uint64_t *valid_through);
    int (*num_pending_multi)(sd_store *st, uint64_t sseq, const nx_filter_set *fs,
                             bool last_per_subject, uint64_t *total, uint64_t *valid_through);
    void (*state)(sd_store *st, sd_stream_state *out);
    void (*fast_state)(sd_store *st, sd_stream_state *out);
    int (*encoded_stream_state)(sd_store *st, uint64_t failed, uint8_t **buf, size_t *len);
    int (*sync_deleted)(sd_store *st, const sd_delete_block *dbs, size_t n);
    sd_storage_type (*type)(sd_store *st);
    void (*register_callbacks)(sd_store *st, const sd_store_callbacks *cbs);
    int (*update_config)(sd_store *st, sd_stream_config *cfg);
    int (*delete_)(sd_store *st, bool inline_);
    int (*stop)(sd_store *st);
    int (*consumer_store)(sd_store *st, const char *name, int64_t created_ns,
                          const sd_consumer_config *cfg, sd_consumer_store **out);
    int (*add_consumer)(sd_store *st, sd_consumer_store *o);
    int (*remove_consumer)(sd_store *st, sd_consumer_store *o);
    int (*snapshot)(sd_store *st, int64_t deadline_ns, bool include_consumers, bool check_msgs,
                    sd_snapshot_result *out);
    int (*utilization)(sd_store *st, uint64_t *total, uint64_t *reported);
    void (*reset_state)(sd_store *st);
    /* Time, driven by the owner (see the contract above). */
    int (*expire)(sd_store *st, int64_t now_ns);
    int64_t (*next_expire)(sd_store *st);
    /* Diagnostics used by the shared test suite: interior delete map entries, and the raw
     * per-subject state without lazy recalculation (file store: of its last block). */
    size_t (*dmap_entries)(sd_store *st);
    bool (*raw_subject_state)(sd_store *st, const char *subj, sd_simple_state *out);
    /* Releases everything (stops first if needed). */
    void (*free)(sd_store *st);
} sd_store_ops;

struct sd_store {
    const sd_store_ops *ops;
};

/* The memory store (Go memStore).  cfg->storage must be SD_STORAGE_MEMORY; env may be NULL. */
int sd_memstore_open(const sd_stream_config *cfg, const sd_store_env *env, sd_store **out);
/* Memory-store introspection for tests of Go internals. */
bool sd_memstore_has_ttl_wheel(sd_store *st);
bool sd_memstore_next_wildcard_match(sd_store *st, const char *filter, uint64_t start,
                                     uint64_t *first, uint64_t *last);
bool sd_memstore_next_literal_match(sd_store *st, const char *filter, uint64_t start,
                                    uint64_t *first, uint64_t *last);
bool sd_memstore_should_linear_scan(sd_store *st, const char *filter, bool wc, uint64_t start);

/* Go memStoreMsgSize: what a message counts against MaxBytes in the memory store. */
static inline uint64_t sd_memstore_msg_size(size_t subj_len, size_t hdr_len, size_t msg_len) {
    return (uint64_t)subj_len + hdr_len + msg_len + 16; /* 8*2 for seq + age */
}

/* Go fileStoreMsgSizeRaw: what a message counts against MaxBytes in the file store (its
 * record size in Go's block format: length, sequence, time, subject length, [header length],
 * subject, [header], payload, hash). */
static inline uint64_t sd_filestore_msg_size(size_t subj_len, size_t hdr_len, size_t msg_len) {
    if (hdr_len == 0) return 22 + (uint64_t)subj_len + msg_len + 8;
    return 22 + (uint64_t)subj_len + 4 + hdr_len + msg_len + 8;
}

/* --- Header helpers (Go sliceHeader, getMessageTTL, isSubjectDeleteMarker) ------------- */

#define SD_HDR_MSG_TTL "Nats-TTL"
#define SD_HDR_MARKER_REASON "Nats-Marker-Reason"
#define SD_HDR_ROLLUP "Nats-Rollup"
#define SD_HDR_KV_OPERATION "KV-Operation"
#define SD_MARKER_REASON_MAX_AGE "MaxAge"
#define SD_ROLLUP_SUBJECT "sub"

/* The value of header `key` (pointer into hdr, length in *vlen), or NULL if absent. */
const uint8_t *sd_slice_header(const char *key, const uint8_t *hdr, size_t hdr_len, size_t *vlen);
/* Go parseMessageTTL / getMessageTTL: seconds (> 0), 0 for none, -1 for "never";
 * SD_ERR_MSG_TTL_INVALID on a bad value. */
int sd_parse_message_ttl(const char *s, size_t len, int64_t *ttl_s);
int sd_get_message_ttl(const uint8_t *hdr, size_t hdr_len, int64_t *ttl_s);
bool sd_is_subject_delete_marker(const uint8_t *hdr, size_t hdr_len);
/* Go time.Duration.String() for whole seconds ("1s", "1m30s", "2h0m0s"); returns length. */
size_t sd_format_duration_s(int64_t secs, char *buf, size_t cap);

/* --- Wrappers ------------------------------------------------------------------------ */

static inline int sd_store_store_msg(sd_store *st, const char *subj, size_t subj_len,
                                     const uint8_t *hdr, size_t hdr_len, const uint8_t *msg,
                                     size_t msg_len, int64_t ttl_s, uint64_t *seq, int64_t *ts) {
    return st->ops->store_msg(st, subj, subj_len, hdr, hdr_len, msg, msg_len, ttl_s, seq, ts);
}
static inline int sd_store_store_raw_msg(sd_store *st, const char *subj, size_t subj_len,
                                         const uint8_t *hdr, size_t hdr_len, const uint8_t *msg,
                                         size_t msg_len, uint64_t seq, int64_t ts, int64_t ttl_s,
                                         bool discard_new_check) {
    return st->ops->store_raw_msg(st, subj, subj_len, hdr, hdr_len, msg, msg_len, seq, ts, ttl_s,
                                  discard_new_check);
}
static inline int sd_store_skip_msg(sd_store *st, uint64_t seq, uint64_t *out) {
    return st->ops->skip_msg(st, seq, out);
}
static inline int sd_store_skip_msg_no_interest(sd_store *st, uint64_t seq, uint64_t *out) {
    return st->ops->skip_msg_no_interest(st, seq, out);
}
static inline int sd_store_skip_msgs(sd_store *st, uint64_t seq, uint64_t num) {
    return st->ops->skip_msgs(st, seq, num);
}
static inline int sd_store_load_msg(sd_store *st, uint64_t seq, sd_store_msg *sm) {
    return st->ops->load_msg(st, seq, sm);
}
static inline int sd_store_load_next_msg(sd_store *st, const char *filter, bool wc, uint64_t start,
                                         sd_store_msg *sm, uint64_t *seq) {
    return st->ops->load_next_msg(st, filter, wc, start, sm, seq);
}
static inline int sd_store_load_next_msg_multi(sd_store *st, const nx_filter_set *fs,
                                               uint64_t start, sd_store_msg *sm, uint64_t *seq) {
    return st->ops->load_next_msg_multi(st, fs, start, sm, seq);
}
static inline int sd_store_load_last_msg(sd_store *st, const char *subj, sd_store_msg *sm) {
    return st->ops->load_last_msg(st, subj, sm);
}
static inline int sd_store_load_prev_msg(sd_store *st, const char *filter, bool wc, uint64_t start,
                                         sd_store_msg *sm, uint64_t *seq) {
    return st->ops->load_prev_msg(st, filter, wc, start, sm, seq);
}
static inline int sd_store_load_prev_msg_multi(sd_store *st, const nx_filter_set *fs,
                                               uint64_t start, sd_store_msg *sm, uint64_t *seq) {
    return st->ops->load_prev_msg_multi(st, fs, start, sm, seq);
}
/* 1 if removed, 0 if there was no such message, or a negative error. */
static inline int sd_store_remove_msg(sd_store *st, uint64_t seq) {
    return st->ops->remove_msg(st, seq);
}
static inline int sd_store_erase_msg(sd_store *st, uint64_t seq) {
    return st->ops->erase_msg(st, seq);
}
static inline int sd_store_purge(sd_store *st, uint64_t *purged) {
    return st->ops->purge(st, purged);
}
static inline int sd_store_purge_ex(sd_store *st, const char *subj, uint64_t seq, uint64_t keep,
                                    uint64_t *purged) {
    return st->ops->purge_ex(st, subj, seq, keep, purged);
}
static inline int sd_store_compact(sd_store *st, uint64_t seq, uint64_t *purged) {
    return st->ops->compact(st, seq, purged);
}
static inline int sd_store_truncate(sd_store *st, uint64_t seq) {
    return st->ops->truncate(st, seq);
}
static inline uint64_t sd_store_get_seq_from_time(sd_store *st, int64_t ts) {
    return st->ops->get_seq_from_time(st, ts);
}
static inline int sd_store_filtered_state(sd_store *st, uint64_t sseq, const char *subj,
                                          sd_simple_state *out) {
    return st->ops->filtered_state(st, sseq, subj, out);
}
static inline int sd_store_subjects_state(sd_store *st, const char *filter, sd_subject_state_cb cb,
                                          void *arg) {
    return st->ops->subjects_state(st, filter, cb, arg);
}
static inline int sd_store_subjects_totals(sd_store *st, const char *filter, sd_subject_state_cb cb,
                                           void *arg) {
    return st->ops->subjects_totals(st, filter, cb, arg);
}
static inline int sd_store_all_last_seqs(sd_store *st, uint64_t **seqs, size_t *n) {
    return st->ops->all_last_seqs(st, seqs, n);
}
static inline int sd_store_multi_last_seqs(sd_store *st, const char *const *filters, size_t nf,
                                           uint64_t max_seq, int max_allowed, uint64_t **seqs,
                                           size_t *n) {
    return st->ops->multi_last_seqs(st, filters, nf, max_seq, max_allowed, seqs, n);
}
static inline int sd_store_subject_for_seq(sd_store *st, uint64_t seq, char **subj) {
    return st->ops->subject_for_seq(st, seq, subj);
}
static inline int sd_store_num_pending(sd_store *st, uint64_t sseq, const char *filter,
                                       bool last_per_subject, uint64_t *total,
                                       uint64_t *valid_through) {
    return st->ops->num_pending(st, sseq, filter, last_per_subject, total, valid_through);
}
static inline int sd_store_num_pending_multi(sd_store *st, uint64_t sseq, const nx_filter_set *fs,
                                             bool last_per_subject, uint64_t *total,
                                             uint64_t *valid_through) {
    return st->ops->num_pending_multi(st, sseq, fs, last_per_subject, total, valid_through);
}
/* Both zero *out first, so sd_stream_state_free is always safe on the result. */
static inline void sd_store_state(sd_store *st, sd_stream_state *out) {
    *out = (sd_stream_state){0};
    st->ops->state(st, out);
}
static inline void sd_store_fast_state(sd_store *st, sd_stream_state *out) {
    *out = (sd_stream_state){0};
    st->ops->fast_state(st, out);
}
static inline int sd_store_encoded_stream_state(sd_store *st, uint64_t failed, uint8_t **buf,
                                                size_t *len) {
    return st->ops->encoded_stream_state(st, failed, buf, len);
}
static inline int sd_store_sync_deleted(sd_store *st, const sd_delete_block *dbs, size_t n) {
    return st->ops->sync_deleted(st, dbs, n);
}
static inline void sd_store_register_callbacks(sd_store *st, const sd_store_callbacks *cbs) {
    st->ops->register_callbacks(st, cbs);
}
static inline int sd_store_update_config(sd_store *st, sd_stream_config *cfg) {
    return st->ops->update_config(st, cfg);
}
static inline int sd_store_stop(sd_store *st) {
    return st->ops->stop(st);
}
static inline int sd_store_expire(sd_store *st, int64_t now_ns) {
    return st->ops->expire(st, now_ns);
}
/* Absolute time (ns) at which sd_store_expire should next run; INT64_MAX for never. */
static inline int64_t sd_store_next_expire(sd_store *st) {
    return st->ops->next_expire(st);
}
static inline void sd_store_free(sd_store *st) {
    if (st) st->ops->free(st);
}

#endif
