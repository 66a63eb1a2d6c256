/* Internals of the memory store, shared by storaged/memstore*.c.  Not a public interface:
 * everything outside the memory store goes through storaged/store.h.
 *
 * Ports the memStore struct of Go nats-server v2.14.5 server/memstore.go and SDMMeta of
 * server/sdm.go.  Invariants of the state (as in Go):
 *  - msgs holds exactly the stored messages; state.msgs == its size, state.bytes the sum of
 *    sd_memstore_msg_size over them;
 *  - with messages, first_seq is the lowest stored sequence; without, first_seq == last_seq+1;
 *  - dmap holds interior deletes between first_seq and last_seq (State prunes strays);
 *  - fss holds one sd_simple_state per subject with stored messages: msgs exact, first/last
 *    exact unless first_needs_update/last_needs_update, in which case they are a lower/upper
 *    bound to be recalculated lazily from msgs (recalc_subj).
 */
#ifndef SD_MEMSTORE_INT_H
#define SD_MEMSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/seqset.h"
#include "common/strmap.h"
#include "common/stree.h"
#include "common/thw.h"
#include "storaged/store.h"

/* --- u64 -> pointer hash map (Go map[uint64]*T) -------------------------------------- */

typedef struct sd_seqmap {
    uint64_t *keys; /* 0 marks an empty slot; key 0 itself lives in zero_val */
    void **vals;
    size_t cap; /* power of two or 0 */
    size_t count;
    bool has_zero;
    void *zero_val;
} sd_seqmap;

void *sd_seqmap_get(const sd_seqmap *m, uint64_t key);
bool sd_seqmap_find(const sd_seqmap *m, uint64_t key, void **val);
/* Inserts or replaces; returns the previous value (NULL if none). */
void *sd_seqmap_put(sd_seqmap *m, uint64_t key, void *val);
/* Removes; returns the value (NULL if none).  Backward-shift deletion, no tombstones: do not
 * delete while iterating. */
void *sd_seqmap_del(sd_seqmap *m, uint64_t key);
void sd_seqmap_clear(sd_seqmap *m); /* drops entries, keeps nothing allocated */
/* Iteration: for (size_t i = 0; sd_seqmap_next(m, &i, &k, &v);) */
bool sd_seqmap_next(const sd_seqmap *m, size_t *iter, uint64_t *key, void **val);

/* --- Stored message ---------------------------------------------------------------- */

/* Flags of a stored message.  A message of a store with a body loader (the file store's inner
 * store, ms_set_body_loader) is MS_F_EXT: only its subject is held here, its header and payload
 * live in the file store's blocks and are read through the loader; what the memory store itself
 * needs from the header (TTL, marker) is taken when the message is stored. */
enum {
    MS_F_EXT = 1,    /* header and payload held by the loader, not in data */
    MS_F_TTL = 2,    /* MS_F_EXT: the header has a TTL, stored (int64) after the subject */
    MS_F_MARKER = 4, /* MS_F_EXT: the header makes it a subject delete marker */
};

typedef struct ms_msg {
    uint64_t seq;
    int64_t ts;
    uint32_t subj_len;
    uint32_t hdr_len;
    uint32_t msg_len;
    uint16_t overhead; /* bytes counted besides subject, header and payload (ms_msg_size) */
    uint8_t flags;     /* MS_F_* */
    uint8_t pad_;
    char data[]; /* subject, header, payload (MS_F_EXT: subject [, TTL], location) */
} ms_msg;

/* Where the file store keeps an MS_F_EXT message's record (FS_LOC: block index << 40 | offset;
 * 0 until set): after the subject [and TTL], so that a load finds the record from the entry it
 * already holds instead of a second, random lookup in a map keyed by sequence. */
static inline size_t ms_ext_loc_off(const ms_msg *m) {
    return m->subj_len + ((m->flags & MS_F_TTL) ? sizeof(int64_t) : 0);
}
static inline uint64_t ms_ext_loc(const ms_msg *m) {
    uint64_t v;
    memcpy(&v, m->data + ms_ext_loc_off(m), sizeof v);
    return v;
}
static inline void ms_set_ext_loc(ms_msg *m, uint64_t loc) {
    memcpy(m->data + ms_ext_loc_off(m), &loc, sizeof loc);
}

/* Reads a message's header and payload (MS_F_EXT) into sm: 0, or an SD_ERR_* / -errno. */
typedef int (*ms_body_loader)(void *arg, const ms_msg *m, sd_store_msg *sm);

static inline const char *ms_subj(const ms_msg *m) {
    return m->data;
}
static inline const uint8_t *ms_hdr(const ms_msg *m) {
    return (const uint8_t *)m->data + m->subj_len;
}
static inline const uint8_t *ms_payload(const ms_msg *m) {
    return ms_hdr(m) + m->hdr_len;
}
static inline uint64_t ms_size(const ms_msg *m) {
    return (uint64_t)m->subj_len + m->hdr_len + m->msg_len + m->overhead;
}

/* The message's TTL header value (false: none, or not parsable), and its marker flag; from the
 * header, or what was taken from it at store time (MS_F_EXT). */
bool ms_msg_ttl(const ms_msg *m, int64_t *ttl);
bool ms_msg_is_marker(const ms_msg *m);

/* --- Subject delete marker bookkeeping (Go SDMMeta) -------------------------------- */

typedef struct sdm_pending {
    bool last;  /* was it the last message of its subject when proposed */
    int64_t ts; /* when we last proposed a removal / marker */
} sdm_pending;

typedef struct sdm_total {
    uint64_t count;
    size_t len;
    char subj[]; /* the strmap key */
} sdm_total;

/* --- The store ------------------------------------------------------------------- */

typedef struct ms_consumer ms_consumer;

typedef struct sd_memstore {
    sd_store base;
    sd_stream_config cfg; /* name and subjects point at the owned copies below */
    char *cfg_name;
    char **cfg_subjects;
    sd_store_env env;

    uint64_t msgs, bytes, first_seq, last_seq;
    int64_t first_ts, last_ts;

    sd_seqmap msgmap; /* seq -> ms_msg* */
    bool closed;      /* Go: msgs == nil after Stop */
    nx_stree fss;     /* subject -> sd_simple_state */
    nx_seqset dmap;
    int64_t maxp;
    sd_store_callbacks cb;

    /* Go's ageChk timer, emulated: the owner calls expire at age_chk_deadline. */
    bool age_chk_active;
    int64_t age_chk_deadline;
    int64_t age_chk_time; /* Go ageChkTime */
    bool age_chk_run;
    bool received_any;
    nx_thw *ttls;

    bool sdm_init;
    sd_seqmap sdm_pending; /* seq -> sdm_pending* */
    nx_strmap sdm_totals;  /* subject -> sdm_total* */

    int consumers;
    ms_consumer *consumer_list;

    /* Count message bytes as Go's file store does (sd_filestore_msg_size): set by the file
     * store, whose messages live in an inner memory store, before anything is stored. */
    bool file_sizes;
    /* Set by the file store before anything is stored: bodies are not kept (MS_F_EXT) and
     * loads read them through load_body. */
    ms_body_loader load_body;
    void *load_arg;
} sd_memstore;

static inline sd_memstore *ms_of(sd_store *st) {
    return (sd_memstore *)st;
}

/* What a message counts against MaxBytes and in the byte totals of this store. */
static inline uint64_t ms_msg_size(const sd_memstore *ms, size_t slen, size_t hlen, size_t mlen) {
    return ms->file_sizes ? sd_filestore_msg_size(slen, hlen, mlen)
                          : sd_memstore_msg_size(slen, hlen, mlen);
}

int64_t ms_now(const sd_memstore *ms);
__attribute__((noreturn)) void ms_panic(const char *msg);
void *ms_xmalloc(size_t n);

/* memstore.c */
void ms_free_all_msgs(sd_memstore *ms);
void ms_scb(sd_memstore *ms, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
            size_t len);
void ms_ttl_forget(sd_memstore *ms, const ms_msg *m);
bool ms_remove_msg(sd_memstore *ms, uint64_t seq, bool secure);
/* Removes without the storage callback; returns the detached message (caller frees). */
ms_msg *ms_remove_msg_nocb(sd_memstore *ms, uint64_t seq, bool secure);
void ms_remove_seq_per_subject(sd_memstore *ms, const char *subj, size_t len, uint64_t seq);

/* memstore_purge.c */
int ms_purge(sd_memstore *ms, uint64_t fseq, uint64_t *purged);
int ms_compact(sd_memstore *ms, uint64_t seq, uint64_t *purged);
int ms_purge_op(sd_store *st, uint64_t *purged);
int ms_compact_op(sd_store *st, uint64_t seq, uint64_t *purged);
int ms_purge_ex_op(sd_store *st, const char *subj, uint64_t seq, uint64_t keep, uint64_t *purged);
int ms_truncate_op(sd_store *st, uint64_t seq);
void ms_state_op(sd_store *st, sd_stream_state *out);
void ms_fast_state_op(sd_store *st, sd_stream_state *out);
int ms_encoded_stream_state_op(sd_store *st, uint64_t failed, uint8_t **buf, size_t *len);
int ms_sync_deleted_op(sd_store *st, const sd_delete_block *dbs, size_t n);

/* memstore_query.c */
int ms_load_msg_op(sd_store *st, uint64_t seq, sd_store_msg *sm);
int ms_load_next_msg_op(sd_store *st, const char *filter, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq);
int ms_load_next_msg_multi_op(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq);
int ms_load_last_msg_op(sd_store *st, const char *subj, sd_store_msg *sm);
int ms_load_prev_msg_op(sd_store *st, const char *filter, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq);
int ms_load_prev_msg_multi_op(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq);
uint64_t ms_get_seq_from_time_op(sd_store *st, int64_t ts);
int ms_filtered_state_op(sd_store *st, uint64_t sseq, const char *subj, sd_simple_state *out);
int ms_subjects_state_op(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg);
int ms_subjects_totals_op(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg);
int ms_all_last_seqs_op(sd_store *st, uint64_t **seqs, size_t *n);
int ms_multi_last_seqs_op(sd_store *st, const char *const *filters, size_t nfilters,
                          uint64_t max_seq, int max_allowed, uint64_t **seqs, size_t *n);
int ms_subject_for_seq_op(sd_store *st, uint64_t seq, char **subj);
int ms_num_pending_op(sd_store *st, uint64_t sseq, const char *filter, bool lps, uint64_t *total,
                      uint64_t *valid_through);
int ms_num_pending_multi_op(sd_store *st, uint64_t sseq, const nx_filter_set *fs, bool lps,
                            uint64_t *total, uint64_t *valid_through);
void ms_recalc_subj(sd_memstore *ms, const char *subj, size_t len, sd_simple_state *ss);
sd_simple_state ms_filtered_state(sd_memstore *ms, uint64_t sseq, const char *filter,
                                  bool last_per_subject);
/* Go loadNextMsgLocked without the copy: the next stored message matching filter from start. */
const ms_msg *ms_next_msg(sd_memstore *ms, const char *filter, bool wc, uint64_t start);
const ms_msg *ms_load_last(sd_memstore *ms, const char *subj);
/* Copies a message out (through the body loader for MS_F_EXT): 0 or the loader's error. */
int ms_copy_out(const sd_memstore *ms, const ms_msg *m, sd_store_msg *sm);
uint64_t ms_subject_total(sd_memstore *ms, const char *subj, size_t len);

/* memstore_expire.c */
void ms_start_age_chk(sd_memstore *ms);
void ms_reset_age_chk(sd_memstore *ms, int64_t delta);
void ms_cancel_age_chk(sd_memstore *ms);
void ms_recover_ttl_state(sd_memstore *ms);
int ms_expire(sd_memstore *ms, int64_t now);
void ms_sdm_empty(sd_memstore *ms);
void ms_sdm_free(sd_memstore *ms);
void ms_sdm_remove_seq_and_subject(sd_memstore *ms, uint64_t seq, const char *subj, size_t len);

/* memstore_consumer.c */
int ms_consumer_store_open(sd_memstore *ms, const char *name, const sd_consumer_config *cfg,
                           sd_consumer_store **out);
void ms_detach_consumers(sd_memstore *ms);

/* memstore_common.c: varints (Go encoding/binary) */
size_t sd_put_uvarint(uint8_t *b, uint64_t v);
size_t sd_put_varint(uint8_t *b, int64_t v);
/* Bytes read, 0 if the buffer ends too early, negative on overflow (Go binary.Uvarint). */
int sd_get_uvarint(const uint8_t *b, size_t len, uint64_t *v);
int sd_get_varint(const uint8_t *b, size_t len, int64_t *v);
size_t sd_uvarint_len(uint64_t v);

#endif
