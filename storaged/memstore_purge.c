/* Memory store: purge, compact, truncate and the stream state views.
 *
 * Ports Go nats-server v2.14.5 server/memstore.go: Purge/purge, PurgeEx, Compact/compact,
 * reset, Truncate, State, FastState, EncodedStreamState and SyncDeleted.  Invariants:
 * memstore_int.h.  Beyond Go: TTL wheel tasks of messages dropped here are dropped too (Go
 * leaves them to a later expiry pass, where a reused sequence could be expired by mistake).
 */
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/memstore_int.h"

/* --- Purge, compact, truncate --------------------------------------------------------- */

static void reset_contents(sd_memstore *ms) {
    /* No message left, so no TTL task either (Go keeps them until they come due; after a
     * reset to sequence 0 one could then expire a new message that reused its sequence). */
    if (ms->ttls && nx_thw_count(ms->ttls)) {
        nx_thw_free(ms->ttls);
        ms->ttls = nx_thw_new();
    }
    ms_free_all_msgs(ms);
    nx_stree_empty(&ms->fss);
    nx_seqset_empty(&ms->dmap);
    ms_sdm_empty(ms);
}

int ms_purge(sd_memstore *ms, uint64_t fseq, uint64_t *purged) {
    /* After Stop, Go's message map is nil and counts as zero purged messages. */
    uint64_t n = ms->closed ? 0 : ms->msgmap.count;
    int64_t bytes = (int64_t)ms->bytes;
    if (fseq == 0)
        fseq = ms->last_seq + 1;
    else if (fseq < ms->last_seq)
        return SD_ERR_PARTIAL_PURGE;
    ms->first_seq = fseq;
    ms->last_seq = fseq - 1;
    ms->first_ts = 0;
    ms->bytes = 0;
    ms->msgs = 0;
    reset_contents(ms);
    ms_scb(ms, -(int64_t)n, -bytes, 0, "", 0);
    if (purged) *purged = n;
    return 0;
}

int ms_purge_op(sd_store *st, uint64_t *purged) {
    return ms_purge(ms_of(st), 0, purged);
}

int ms_compact(sd_memstore *ms, uint64_t seq, uint64_t *purged_out) {
    if (seq == 0) return ms_purge(ms, 0, purged_out);
    uint64_t purged = 0, bytes = 0;
    if (purged_out) *purged_out = 0;
    /* Already compacted past this point. */
    if (ms->first_seq > seq) return 0;
    if (seq <= ms->last_seq) {
        uint64_t fseq = ms->first_seq;
        for (; seq <= ms->last_seq; seq++) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
            if (m) {
                ms->first_seq = seq;
                ms->first_ts = m->ts;
                break;
            }
        }
        for (uint64_t s = seq - 1; s >= fseq && s > 0; s--) {
            ms_msg *m = sd_seqmap_get(&ms->msgmap, s);
            if (m) {
                bytes += ms_size(m);
                purged++;
                ms_remove_seq_per_subject(ms, ms_subj(m), m->subj_len, s);
                ms_ttl_forget(ms, m); /* beyond Go, which leaves it to a later expiry pass */
                sd_seqmap_del(&ms->msgmap, s);
                free(m);
            } else if (!nx_seqset_is_empty(&ms->dmap)) {
                nx_seqset_delete(&ms->dmap, s);
            }
        }
        if (purged > ms->msgs) purged = ms->msgs;
        ms->msgs -= purged;
        if (ms->msgs == 0) {
            ms->first_seq = ms->last_seq + 1;
            ms->first_ts = 0;
        }
        if (bytes > ms->bytes) bytes = ms->bytes;
        ms->bytes -= bytes;
    } else {
        /* Past the end: purge and set sequences so the next message gets seq. */
        purged = ms->msgmap.count;
        bytes = ms->bytes;
        ms->bytes = 0;
        ms->msgs = 0;
        ms->first_seq = seq;
        ms->first_ts = 0;
        ms->last_seq = seq - 1;
        reset_contents(ms);
    }
    ms_scb(ms, -(int64_t)purged, -(int64_t)bytes, 0, "", 0);
    if (purged_out) *purged_out = purged;
    return 0;
}

int ms_compact_op(sd_store *st, uint64_t seq, uint64_t *purged) {
    return ms_compact(ms_of(st), seq, purged);
}

int ms_purge_ex_op(sd_store *st, const char *subj, uint64_t sequence, uint64_t keep,
                   uint64_t *purged_out) {
    sd_memstore *ms = ms_of(st);
    if (purged_out) *purged_out = 0;
    /* sequence == 1: "up to but not including 1", nothing. */
    if (sequence == 1) return 0;
    bool all = !subj || !*subj || strcmp(subj, ">") == 0;
    if (all) {
        if (keep == 0 && sequence == 0) return ms_purge(ms, 0, purged_out);
        if (sequence > 1) return ms_compact(ms, sequence, purged_out);
        subj = ">";
    }
    size_t flen = strlen(subj);
    bool wild = !nx_subject_is_literal(subj, flen);
    sd_simple_state ss = ms_filtered_state(ms, 1, subj, false);
    if (ss.msgs == 0) return 0;
    uint64_t maxp = 0;
    if (keep > 0) {
        if (keep >= ss.msgs) return 0;
        maxp = ss.msgs - keep;
    }
    uint64_t last = sequence >= 1 ? sequence - 1 : ss.last;
    uint64_t purged = 0, bytes = 0, low_seq = 0;
    char *low_subj = NULL;
    size_t low_len = 0;
    for (uint64_t seq = ss.first; seq <= last; seq++) {
        const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
        if (!m) continue;
        bool eq = all    ? true
                  : wild ? nx_subject_subset_match(ms_subj(m), m->subj_len, subj, flen)
                         : (m->subj_len == flen && memcmp(ms_subj(m), subj, flen) == 0);
        if (!eq) continue;
        uint64_t before = ms->bytes;
        ms_msg *rm = ms_remove_msg_nocb(ms, seq, false);
        if (!rm) continue;
        purged++;
        bytes += before - ms->bytes;
        if (low_seq == 0) {
            low_seq = seq;
            low_len = rm->subj_len;
            low_subj = ms_xmalloc(low_len + 1);
            memcpy(low_subj, ms_subj(rm), low_len);
        }
        free(rm);
        if (maxp > 0 && purged >= maxp) break;
    }
    if (purged == 1)
        ms_scb(ms, -1, -(int64_t)bytes, low_seq, low_subj, low_len);
    else if (purged > 1)
        ms_scb(ms, -(int64_t)purged, -(int64_t)bytes, 0, "", 0);
    free(low_subj);
    if (purged_out) *purged_out = purged;
    return 0;
}

/* Go reset(): everything back to an empty stream at sequence 0. */
static int ms_reset(sd_memstore *ms) {
    uint64_t purged = 0, bytes = 0;
    if (ms->cb.storage_update) {
        uint64_t k;
        void *v;
        for (size_t i = 0; sd_seqmap_next(&ms->msgmap, &i, &k, &v);) {
            purged++;
            bytes += ms_size(v);
        }
    }
    ms->first_seq = 0;
    ms->first_ts = 0;
    ms->last_seq = 0;
    ms->last_ts = ms_now(ms);
    ms->msgs = 0;
    ms->bytes = 0;
    reset_contents(ms);
    ms_scb(ms, -(int64_t)purged, -(int64_t)bytes, 0, "", 0);
    return 0;
}

int ms_truncate_op(sd_store *st, uint64_t seq) {
    sd_memstore *ms = ms_of(st);
    if (seq == 0) return ms_reset(ms);
    uint64_t purged = 0, bytes = 0;
    const ms_msg *lsm = sd_seqmap_get(&ms->msgmap, seq);
    int64_t last_ts = lsm ? lsm->ts : ms->last_ts;
    for (uint64_t i = ms->last_seq; i > seq; i--) {
        ms_msg *m = sd_seqmap_get(&ms->msgmap, i);
        if (m) {
            purged++;
            bytes += ms_size(m);
            ms_remove_seq_per_subject(ms, ms_subj(m), m->subj_len, i);
            ms_ttl_forget(ms, m); /* sequences above seq get reused: drop their tasks */
            sd_seqmap_del(&ms->msgmap, i);
            free(m);
        } else if (!nx_seqset_is_empty(&ms->dmap)) {
            nx_seqset_delete(&ms->dmap, i);
        }
    }
    ms->last_seq = seq;
    ms->last_ts = last_ts;
    if (purged > ms->msgs) purged = ms->msgs;
    ms->msgs -= purged;
    if (bytes > ms->bytes) bytes = ms->bytes;
    ms->bytes -= bytes;
    ms_scb(ms, -(int64_t)purged, -(int64_t)bytes, 0, "", 0);
    return 0;
}

/* --- State ------------------------------------------------------------------------- */

typedef struct {
    uint64_t fseq, lseq;
    uint64_t *del;
    size_t n, cap;
    uint64_t *stray;
    size_t ns, scap;
} del_ctx;

static void push_u64(uint64_t **a, size_t *n, size_t *cap, uint64_t v) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        uint64_t *na = realloc(*a, *cap * sizeof **a);
        if (!na) ms_panic("out of memory");
        *a = na;
    }
    (*a)[(*n)++] = v;
}

static bool del_visit(void *arg, uint64_t seq) {
    del_ctx *c = arg;
    if (seq < c->fseq || seq > c->lseq)
        push_u64(&c->stray, &c->ns, &c->scap, seq);
    else
        push_u64(&c->del, &c->n, &c->cap, seq);
    return true;
}

void ms_state_op(sd_store *st, sd_stream_state *out) {
    sd_memstore *ms = ms_of(st);
    memset(out, 0, sizeof *out);
    out->msgs = ms->msgs;
    out->bytes = ms->bytes;
    out->first_seq = ms->first_seq;
    out->first_ts = ms->first_ts;
    out->last_seq = ms->last_seq;
    out->last_ts = ms->last_ts;
    out->consumers = ms->consumers;
    out->num_subjects = nx_stree_size(&ms->fss);
    /* Interior deletes; strays outside [first, last] are dropped from the dmap on the way
     * (collected first: the set can not change while it is being walked). */
    if ((int64_t)((ms->last_seq - ms->first_seq + 1) - ms->msgs) > 0) {
        del_ctx c = {ms->first_seq, ms->last_seq, NULL, 0, 0, NULL, 0, 0};
        nx_seqset_range(&ms->dmap, del_visit, &c);
        for (size_t i = 0; i < c.ns; i++)
            nx_seqset_delete(&ms->dmap, c.stray[i]);
        free(c.stray);
        out->deleted = c.del;
        out->deleted_len = c.n;
        out->num_deleted = c.n;
    }
}

void ms_fast_state_op(sd_store *st, sd_stream_state *out) {
    sd_memstore *ms = ms_of(st);
    out->msgs = ms->msgs;
    out->bytes = ms->bytes;
    out->first_seq = ms->first_seq;
    out->first_ts = ms->first_ts;
    out->last_seq = ms->last_seq;
    out->last_ts = ms->last_ts;
    out->num_deleted = 0;
    if (out->last_seq > out->first_seq) {
        int64_t nd = (int64_t)((out->last_seq - out->first_seq + 1) - out->msgs);
        out->num_deleted = nd < 0 ? 0 : (uint64_t)nd;
    }
    out->consumers = ms->consumers;
    out->num_subjects = nx_stree_size(&ms->fss);
}

int ms_encoded_stream_state_op(sd_store *st, uint64_t failed, uint8_t **buf, size_t *len) {
    sd_memstore *ms = ms_of(st);
    int64_t nd = (int64_t)((ms->last_seq - ms->first_seq + 1) - ms->msgs);
    if (nd < 0) nd = 0;
    size_t total = 2 + sd_uvarint_len(ms->msgs) + sd_uvarint_len(ms->bytes) +
                   sd_uvarint_len(ms->first_seq) + sd_uvarint_len(ms->last_seq) +
                   sd_uvarint_len(failed) + sd_uvarint_len((uint64_t)nd);
    if (nd > 0) total += nx_seqset_encode_len(&ms->dmap);
    uint8_t *b = ms_xmalloc(total);
    size_t n = 0;
    b[n++] = SD_STREAM_STATE_MAGIC;
    b[n++] = SD_STREAM_STATE_VERSION;
    n += sd_put_uvarint(b + n, ms->msgs);
    n += sd_put_uvarint(b + n, ms->bytes);
    n += sd_put_uvarint(b + n, ms->first_seq);
    n += sd_put_uvarint(b + n, ms->last_seq);
    n += sd_put_uvarint(b + n, failed);
    n += sd_put_uvarint(b + n, (uint64_t)nd);
    if (nd > 0) n += nx_seqset_encode(&ms->dmap, b + n);
    if (n != total) ms_panic("memstore EncodedStreamState size accounting mismatch");
    *buf = b;
    *len = n;
    return 0;
}

static bool sync_visit(void *arg, uint64_t seq) {
    ms_remove_msg(arg, seq, false);
    return true;
}

int ms_sync_deleted_op(sd_store *st, const sd_delete_block *dbs, size_t n) {
    sd_memstore *ms = ms_of(st);
    if (n == 0) return 0;
    /* One shared dmap: if the single block describes the same state, nothing to do. */
    if (n == 1) {
        uint64_t min, max, num, pmin, pmax, pnum;
        nx_seqset_state(&ms->dmap, &min, &max, &num);
        sd_delete_block_state(&dbs[0], &pmin, &pmax, &pnum);
        if (pmin == min && pmax == max && pnum == num) return 0;
    }
    uint64_t lseq = ms->last_seq;
    for (size_t i = 0; i < n; i++) {
        uint64_t first, last, num;
        sd_delete_block_state(&dbs[i], &first, &last, &num);
        if (first > lseq) continue; /* beyond our state */
        sd_delete_block_range(&dbs[i], sync_visit, ms);
    }
    return 0;
}
