/* Memory store: the JetStream stream store kept entirely in memory (Go memStore).
 *
 * Ports Go nats-server v2.14.5 server/memstore.go: construction and config updates, storing
 * and skipping, removal (with lazy per-subject first/last), limits (MaxMsgs, MaxBytes,
 * MaxMsgsPerSubject with discard old/new), lifecycle, and the ops table.  Purge, compact,
 * truncate and state views live in memstore_purge.c, queries in memstore_query.c,
 * age/TTL/marker expiry in memstore_expire.c, consumer state in memstore_consumer.c, the
 * sequence map in memstore_seqmap.c.  Invariants: memstore_int.h.  As the file store's inner
 * index (load_body set) it keeps no headers or payloads: loads read them through the file
 * store (MS_F_EXT, memstore_int.h).
 *
 * Differences from Go, all about the process model: no locks (single-threaded owner), no
 * timers (see store.h: sd_store_expire), time read through env.now_ns, and memory freed
 * explicitly.  Message scheduling (AllowMsgSchedules) is not part of this store yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/subject.h"
#include "storaged/memstore_int.h"

static const sd_store_ops ms_ops;

__attribute__((noreturn)) void ms_panic(const char *msg) {
    fprintf(stderr, "memstore panic: %s\n", msg);
    abort();
}

void *ms_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) ms_panic("out of memory");
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = ms_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

int64_t ms_now(const sd_memstore *ms) {
    if (ms->env.now_ns) return ms->env.now_ns(ms->env.now_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cfg_free(sd_memstore *ms) {
    free(ms->cfg_name);
    for (size_t i = 0; i < ms->cfg.num_subjects; i++)
        free(ms->cfg_subjects[i]);
    free(ms->cfg_subjects);
    ms->cfg_name = NULL;
    ms->cfg_subjects = NULL;
}

/* Keeps a private copy of the config (Go copies the struct; strings must be owned here). */
static void cfg_copy(sd_memstore *ms, const sd_stream_config *cfg) {
    cfg_free(ms);
    ms->cfg = *cfg;
    ms->cfg_name = xstrdup(cfg->name ? cfg->name : "");
    ms->cfg_subjects = cfg->num_subjects ? ms_xmalloc(cfg->num_subjects * sizeof(char *)) : NULL;
    for (size_t i = 0; i < cfg->num_subjects; i++)
        ms->cfg_subjects[i] = xstrdup(cfg->subjects[i]);
    ms->cfg.name = ms->cfg_name;
    ms->cfg.subjects = (const char *const *)ms->cfg_subjects;
}

void ms_free_all_msgs(sd_memstore *ms) {
    uint64_t k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&ms->msgmap, &i, &k, &v);)
        free(v);
    sd_seqmap_clear(&ms->msgmap);
}

void ms_scb(sd_memstore *ms, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
            size_t len) {
    if (ms->cb.storage_update)
        ms->cb.storage_update(ms->cb.storage_update_arg, msgs, bytes, seq, subj, len);
}

int sd_memstore_open(const sd_stream_config *cfg, const sd_store_env *env, sd_store **out) {
    if (!cfg) return SD_ERR_CONFIG_REQUIRED;
    if (cfg->storage != SD_STORAGE_MEMORY) return SD_ERR_MEMSTORE_TYPE;
    sd_memstore *ms = calloc(1, sizeof *ms);
    if (!ms) ms_panic("out of memory");
    ms->base.ops = &ms_ops;
    cfg_copy(ms, cfg);
    if (env) ms->env = *env;
    nx_stree_init(&ms->fss, sizeof(sd_simple_state));
    nx_seqset_init(&ms->dmap);
    ms->maxp = cfg->max_msgs_per;
    /* Only keep a wheel when TTLs are allowed. */
    if (cfg->allow_msg_ttl) ms->ttls = nx_thw_new();
    if (cfg->first_seq > 0) {
        int rc = ms_purge(ms, cfg->first_seq, NULL);
        if (rc) {
            sd_store_free(&ms->base);
            return rc;
        }
    }
    *out = &ms->base;
    return 0;
}

/* --- Removal ------------------------------------------------------------------------ */

/* Go updateFirstSeq: after removing the first message, move first to the next one. */
static void update_first_seq(sd_memstore *ms, uint64_t seq) {
    if (seq != ms->first_seq) return; /* interior delete */
    const ms_msg *nsm = NULL;
    for (uint64_t n = ms->first_seq + 1; n <= ms->last_seq; n++)
        if ((nsm = sd_seqmap_get(&ms->msgmap, n))) break;
    uint64_t old_first = ms->first_seq;
    if (nsm) {
        ms->first_seq = nsm->seq;
        ms->first_ts = nsm->ts;
    } else {
        ms->first_seq = ms->last_seq + 1; /* like purge */
        ms->first_ts = 0;
    }
    if (old_first == ms->first_seq - 1) {
        nx_seqset_delete(&ms->dmap, old_first);
    } else {
        for (uint64_t s = old_first; s < ms->first_seq; s++)
            nx_seqset_delete(&ms->dmap, s);
    }
}

void ms_remove_seq_per_subject(sd_memstore *ms, const char *subj, size_t len, uint64_t seq) {
    sd_simple_state *ss = nx_stree_find(&ms->fss, subj, len);
    if (!ss) return;
    ms_sdm_remove_seq_and_subject(ms, seq, subj, len);
    if (ss->msgs == 1) {
        nx_stree_delete(&ms->fss, subj, len, NULL);
        return;
    }
    ss->msgs--;
    if (ss->msgs == 1) {
        /* One left: if we know which one, first == last without any scan. */
        if (!ss->last_needs_update && seq != ss->last) {
            ss->first = ss->last;
            ss->first_needs_update = false;
            return;
        }
        if (!ss->first_needs_update && seq != ss->first) {
            ss->last = ss->first;
            ss->last_needs_update = false;
            return;
        }
    }
    /* Recalculate lazily when needed. */
    ss->first_needs_update = seq == ss->first || ss->first_needs_update;
    ss->last_needs_update = seq == ss->last || ss->last_needs_update;
}

bool ms_msg_ttl(const ms_msg *m, int64_t *ttl) {
    *ttl = 0;
    if (m->flags & MS_F_EXT) {
        if (m->flags & MS_F_TTL) memcpy(ttl, m->data + m->subj_len, sizeof *ttl);
        return (m->flags & MS_F_TTL) != 0;
    }
    return m->hdr_len > 0 && sd_get_message_ttl(ms_hdr(m), m->hdr_len, ttl) == 0 && *ttl != 0;
}

bool ms_msg_is_marker(const ms_msg *m) {
    if (m->flags & MS_F_EXT) return (m->flags & MS_F_MARKER) != 0;
    return sd_is_subject_delete_marker(ms_hdr(m), m->hdr_len);
}

/* Drops the message's TTL task, found through its TTL header as Go does. */
void ms_ttl_forget(sd_memstore *ms, const ms_msg *m) {
    int64_t ttl;
    if (ms->ttls && ms_msg_ttl(m, &ttl))
        nx_thw_remove(ms->ttls, m->seq, m->ts + ttl * 1000000000LL);
}

ms_msg *ms_remove_msg_nocb(sd_memstore *ms, uint64_t seq, bool secure) {
    ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
    if (!m) return NULL;
    uint64_t size = ms_size(m);
    if (ms->msgs > 0) {
        ms->msgs--;
        if (size > ms->bytes) size = ms->bytes;
        ms->bytes -= size;
    }
    nx_seqset_insert(&ms->dmap, seq);
    update_first_seq(ms, seq);
    ms_remove_seq_per_subject(ms, ms_subj(m), m->subj_len, seq);
    ms_ttl_forget(ms, m);
    if (secure && !(m->flags & MS_F_EXT)) {
        /* Overwrite header and payload with random bytes before the memory is released. */
        uint8_t *p = (uint8_t *)m->data + m->subj_len;
        size_t n = (size_t)m->hdr_len + m->msg_len, done = 0;
        while (done < n) {
            ssize_t r = getrandom(p + done, n - done, 0);
            if (r <= 0) {
                memset(p + done, 0, n - done);
                break;
            }
            done += (size_t)r;
        }
    }
    if (secure) m->ts = 0;
    /* Delete after the per-subject update, to be consistent with the file store. */
    sd_seqmap_del(&ms->msgmap, seq);
    return m;
}

bool ms_remove_msg(sd_memstore *ms, uint64_t seq, bool secure) {
    uint64_t before = ms->bytes;
    ms_msg *m = ms_remove_msg_nocb(ms, seq, secure);
    if (!m) return false;
    ms_scb(ms, -1, -(int64_t)(before - ms->bytes), seq, ms_subj(m), m->subj_len);
    free(m);
    return true;
}

static void delete_first_msg_or_panic(sd_memstore *ms) {
    if (!ms_remove_msg(ms, ms->first_seq, false))
        ms_panic("jetstream memstore has inconsistent state, can't find first seq msg");
}

/* --- Limits ------------------------------------------------------------------------ */

static void enforce_per_subject_limit(sd_memstore *ms, const char *subj, size_t len,
                                      sd_simple_state *ss) {
    if (ms->maxp <= 0) return;
    while (ss->msgs > (uint64_t)ms->maxp) {
        if (ss->first_needs_update || ss->last_needs_update) ms_recalc_subj(ms, subj, len, ss);
        if (!ms_remove_msg(ms, ss->first, false)) break;
    }
}

static void enforce_msg_limit(sd_memstore *ms) {
    if (ms->cfg.discard != SD_DISCARD_OLD) return;
    if (ms->cfg.max_msgs <= 0 || ms->msgs <= (uint64_t)ms->cfg.max_msgs) return;
    while (ms->msgs > (uint64_t)ms->cfg.max_msgs)
        delete_first_msg_or_panic(ms);
}

static void enforce_bytes_limit(sd_memstore *ms) {
    if (ms->cfg.discard != SD_DISCARD_OLD) return;
    if (ms->cfg.max_bytes <= 0 || ms->bytes <= (uint64_t)ms->cfg.max_bytes) return;
    while (ms->bytes > (uint64_t)ms->cfg.max_bytes)
        delete_first_msg_or_panic(ms);
}

/* --- Storing -------------------------------------------------------------------------- */

/* Go storeRawMsg. */
static int store_raw(sd_memstore *ms, const char *subj, size_t slen, const uint8_t *hdr,
                     size_t hlen, const uint8_t *msg, size_t mlen, uint64_t seq, int64_t ts,
                     int64_t ttl, bool discard_new_check) {
    if (ms->closed) return SD_ERR_STORE_CLOSED;
    sd_simple_state *ss = NULL;
    bool asl = false; /* at the subject limit */
    if (slen > 0) {
        ss = nx_stree_find(&ms->fss, subj, slen);
        if (ss) asl = ms->maxp > 0 && ss->msgs >= (uint64_t)ms->maxp;
    }
    uint64_t nsize = ms_msg_size(ms, slen, hlen, mlen);
    /* DiscardNew is checked here only when asked: replicas must accept what the leader sent. */
    if (discard_new_check && ms->cfg.discard == SD_DISCARD_NEW) {
        /* Rollups get through: they purge the subject after storing, restoring the limit. */
        if (asl && ms->cfg.discard_new_per) {
            size_t vl = 0;
            if (!sd_slice_header(SD_HDR_ROLLUP, hdr, hlen, &vl) || vl == 0)
                return SD_ERR_MAX_MSGS_PER_SUBJECT;
        }
        /* At the subject limit the new message replaces one, so the totals do not grow. */
        if (ms->cfg.max_msgs > 0 && ms->msgs >= (uint64_t)ms->cfg.max_msgs && !asl)
            return SD_ERR_MAX_MSGS;
        if (ms->cfg.max_bytes > 0 && ms->bytes + nsize > (uint64_t)ms->cfg.max_bytes) {
            if (!asl) return SD_ERR_MAX_BYTES;
            /* Would dropping the subject's oldest message make enough room? */
            if (ss->first_needs_update || ss->last_needs_update) ms_recalc_subj(ms, subj, slen, ss);
            const ms_msg *fm = sd_seqmap_get(&ms->msgmap, ss->first);
            if (!fm || ms_size(fm) < nsize) return SD_ERR_MAX_BYTES;
        }
    }
    if (seq != ms->last_seq + 1) {
        if (seq > 0) return SD_ERR_SEQUENCE_MISMATCH;
        seq = ms->last_seq + 1;
    }
    if (ms->msgs == 0) {
        ms->first_seq = seq;
        ms->first_ts = ts;
    }
    ms_msg *m;
    if (ms->load_body) {
        /* Body kept by the file store: the subject, and what the header says that this store
         * needs without loading it (TTL, marker). */
        int64_t httl = 0;
        bool has_ttl = hlen && sd_get_message_ttl(hdr, hlen, &httl) == 0 && httl != 0;
        m = ms_xmalloc(sizeof(ms_msg) + slen + (has_ttl ? sizeof httl : 0) + sizeof(uint64_t));
        m->flags = MS_F_EXT;
        m->subj_len = (uint32_t)slen;
        if (has_ttl) {
            m->flags |= MS_F_TTL;
            memcpy(m->data + slen, &httl, sizeof httl);
        }
        ms_set_ext_loc(m, 0); /* the file store sets it (fs_loc_set) */
        if (hlen && sd_is_subject_delete_marker(hdr, hlen)) m->flags |= MS_F_MARKER;
    } else {
        m = ms_xmalloc(sizeof(ms_msg) + slen + hlen + mlen);
        m->flags = 0;
        if (hlen) memcpy(m->data + slen, hdr, hlen);
        if (mlen) memcpy(m->data + slen + hlen, msg, mlen);
    }
    m->pad_ = 0;
    m->seq = seq;
    m->ts = ts;
    m->subj_len = (uint32_t)slen;
    m->hdr_len = (uint32_t)hlen;
    m->msg_len = (uint32_t)mlen;
    m->overhead = (uint16_t)(nsize - slen - hlen - mlen);
    if (slen) memcpy(m->data, subj, slen);
    sd_seqmap_put(&ms->msgmap, seq, m);
    ms->msgs++;
    ms->bytes += nsize;
    ms->last_seq = seq;
    ms->last_ts = ts;

    if (slen > 0) {
        if (ss) {
            ss->msgs++;
            ss->last = seq;
            ss->last_needs_update = false;
            if (ms->maxp > 0 && ss->msgs > (uint64_t)ms->maxp)
                enforce_per_subject_limit(ms, subj, slen, ss);
        } else {
            sd_simple_state nss = {1, seq, seq, false, false};
            nx_stree_insert(&ms->fss, subj, slen, &nss, NULL);
        }
    }
    enforce_msg_limit(ms);
    enforce_bytes_limit(ms);

    if (ms->ttls && ttl > 0) {
        nx_thw_add(ms->ttls, seq, ts + ttl * 1000000000LL);
        ms_reset_age_chk(ms, 0);
    } else if (!ms->age_chk_active && (ms->cfg.max_age_ns > 0 || ms->ttls)) {
        ms_start_age_chk(ms);
    }
    return 0;
}

static int ms_store_msg(sd_store *st, const char *subj, size_t slen, const uint8_t *hdr,
                        size_t hlen, const uint8_t *msg, size_t mlen, int64_t ttl, uint64_t *seq,
                        int64_t *ts) {
    sd_memstore *ms = ms_of(st);
    uint64_t s = ms->last_seq + 1;
    int64_t t = ms_now(ms);
    /* No expected sequence (R1): DiscardNew is enforced here at the store level. */
    int rc = store_raw(ms, subj, slen, hdr, hlen, msg, mlen, s, t, ttl, true);
    if (rc) {
        s = 0;
        t = 0;
    } else {
        ms_scb(ms, 1, (int64_t)ms_msg_size(ms, slen, hlen, mlen), s, subj, slen);
    }
    if (seq) *seq = s;
    if (ts) *ts = t;
    return rc;
}

static int ms_store_raw_msg(sd_store *st, const char *subj, size_t slen, const uint8_t *hdr,
                            size_t hlen, const uint8_t *msg, size_t mlen, uint64_t seq, int64_t ts,
                            int64_t ttl, bool discard_new_check) {
    sd_memstore *ms = ms_of(st);
    int rc = store_raw(ms, subj, slen, hdr, hlen, msg, mlen, seq, ts, ttl, discard_new_check);
    /* The first message may need expiring sooner than the MaxAge timer set up at start. */
    if (!ms->received_any && ms->cfg.max_age_ns != 0 && ts > 0) {
        ms->received_any = true;
        ms_reset_age_chk(ms, 50 * 1000000LL);
    }
    if (rc == 0) ms_scb(ms, 1, (int64_t)ms_msg_size(ms, slen, hlen, mlen), seq, subj, slen);
    return rc;
}

static int skip_msg(sd_memstore *ms, uint64_t seq, bool no_interest, uint64_t *out) {
    if (seq != ms->last_seq + 1) {
        if (seq > 0) {
            if (out) *out = 0;
            return SD_ERR_SEQUENCE_MISMATCH;
        }
        seq = ms->last_seq + 1;
    }
    ms->last_seq = seq;
    /* Only move the time when unset, or for Interest retention. */
    if (no_interest || ms->last_ts == 0) ms->last_ts = ms_now(ms);
    if (ms->msgs == 0) {
        ms->first_seq = seq + 1;
        ms->first_ts = 0;
    } else {
        nx_seqset_insert(&ms->dmap, seq);
    }
    if (out) *out = seq;
    return 0;
}

static int ms_skip_msg(sd_store *st, uint64_t seq, uint64_t *out) {
    return skip_msg(ms_of(st), seq, false, out);
}

static int ms_skip_msg_no_interest(sd_store *st, uint64_t seq, uint64_t *out) {
    return skip_msg(ms_of(st), seq, true, out);
}

static int ms_skip_msgs(sd_store *st, uint64_t seq, uint64_t num) {
    sd_memstore *ms = ms_of(st);
    if (seq != ms->last_seq + 1) {
        if (seq > 0) return SD_ERR_SEQUENCE_MISMATCH;
        seq = ms->last_seq + 1;
    }
    uint64_t lseq = seq + num - 1;
    ms->last_seq = lseq;
    if (ms->last_ts == 0) ms->last_ts = ms_now(ms);
    if (ms->msgs == 0) {
        ms->first_seq = lseq + 1;
        ms->first_ts = 0;
    } else {
        for (; seq <= lseq; seq++)
            nx_seqset_insert(&ms->dmap, seq);
    }
    return 0;
}

static int ms_flush_all_pending(sd_store *st) {
    (void)st; /* nothing is applied asynchronously in memory */
    return 0;
}

static int ms_remove(sd_store *st, uint64_t seq) {
    return ms_remove_msg(ms_of(st), seq, false) ? 1 : 0;
}

static int ms_erase(sd_store *st, uint64_t seq) {
    return ms_remove_msg(ms_of(st), seq, true) ? 1 : 0;
}

/* --- Config, lifecycle, misc ------------------------------------------------------------ */

static bool per_subject_visit(void *arg, const char *subj, size_t len, void *value) {
    sd_memstore *ms = arg;
    sd_simple_state *ss = value;
    if (ss->msgs > (uint64_t)ms->maxp) enforce_per_subject_limit(ms, subj, len, ss);
    return true;
}

static int ms_update_config(sd_store *st, sd_stream_config *cfg) {
    sd_memstore *ms = ms_of(st);
    if (!cfg) return SD_ERR_CONFIG_REQUIRED;
    if (cfg->storage != SD_STORAGE_MEMORY) return SD_ERR_MEMSTORE_TYPE;
    cfg_copy(ms, cfg);
    /* Create or drop the TTL wheel. */
    if (cfg->allow_msg_ttl && !ms->ttls) {
        ms_recover_ttl_state(ms);
    } else if (!cfg->allow_msg_ttl && ms->ttls) {
        nx_thw_free(ms->ttls);
        ms->ttls = NULL;
    }
    enforce_msg_limit(ms);
    enforce_bytes_limit(ms);
    if (!ms->age_chk_active && ms->cfg.max_age_ns != 0) ms_start_age_chk(ms);
    if (ms->age_chk_active && ms->cfg.max_age_ns == 0) {
        ms->age_chk_active = false;
        ms->age_chk_time = 0;
    }
    if (cfg->max_msgs_per < -1) cfg->max_msgs_per = -1;
    int64_t old = ms->maxp;
    ms->maxp = cfg->max_msgs_per;
    /* Smaller than before, or newly set: enforce it now.  (Enforcement only shrinks subjects
     * that stay above the limit, so the tree can be walked while doing it.) */
    if (ms->maxp > 0 && (old <= 0 || ms->maxp < old))
        nx_stree_iter_fast(&ms->fss, per_subject_visit, ms);
    if (cfg->max_age_ns != 0 || cfg->allow_msg_ttl) ms_expire(ms, ms_now(ms));
    return 0;
}

static int ms_stop(sd_store *st) {
    sd_memstore *ms = ms_of(st);
    if (ms->closed) return 0;
    ms->age_chk_active = false;
    ms->age_chk_time = 0;
    ms->closed = true;
    /* These can not come back, so stop is the same as delete. */
    ms_purge(ms, 0, NULL);
    return 0;
}

static int ms_delete(sd_store *st, bool inline_) {
    (void)inline_;
    return ms_stop(st);
}

static void ms_free(sd_store *st) {
    sd_memstore *ms = ms_of(st);
    ms_stop(st);
    ms_detach_consumers(ms);
    ms_free_all_msgs(ms);
    nx_stree_empty(&ms->fss);
    nx_seqset_empty(&ms->dmap);
    nx_thw_free(ms->ttls);
    ms_sdm_free(ms);
    cfg_free(ms);
    free(ms);
}

static sd_storage_type ms_type(sd_store *st) {
    (void)st;
    return SD_STORAGE_MEMORY;
}

static void ms_register(sd_store *st, const sd_store_callbacks *cbs) {
    sd_memstore *ms = ms_of(st);
    if (cbs)
        ms->cb = *cbs;
    else
        memset(&ms->cb, 0, sizeof ms->cb);
}

static int ms_consumer_store(sd_store *st, const char *name, int64_t created_ns,
                             const sd_consumer_config *cfg, sd_consumer_store **out) {
    sd_memstore *ms = ms_of(st);
    (void)created_ns;
    if (ms->closed) return SD_ERR_STORE_CLOSED;
    if (!cfg || !name || !*name) return SD_ERR_BAD_CONSUMER_CONFIG;
    return ms_consumer_store_open(ms, name, cfg, out);
}

static int ms_add_consumer(sd_store *st, sd_consumer_store *o) {
    (void)o;
    ms_of(st)->consumers++;
    return 0;
}

static int ms_remove_consumer(sd_store *st, sd_consumer_store *o) {
    (void)o;
    sd_memstore *ms = ms_of(st);
    if (ms->consumers > 0) ms->consumers--;
    return 0;
}

/* Go's memStore has none ("no impl"); here the messages go into the same archive as a file
 * store's (storaged/filestore_snapshot.c), restorable into a file store. */
static int ms_snapshot(sd_store *st, int64_t deadline_ns, bool include_consumers, bool check_msgs,
                       sd_snapshot_result *out) {
    (void)deadline_ns, (void)include_consumers, (void)check_msgs;
    return sd_store_snapshot(st, NULL, out);
}

static int ms_utilization(sd_store *st, uint64_t *total, uint64_t *reported) {
    sd_memstore *ms = ms_of(st);
    *total = *reported = ms->bytes;
    return 0;
}

static void ms_reset_state(sd_store *st) {
    (void)st; /* only message scheduling keeps temporary state in Go */
}

static int ms_expire_op(sd_store *st, int64_t now) {
    return ms_expire(ms_of(st), now);
}

static int64_t ms_next_expire(sd_store *st) {
    sd_memstore *ms = ms_of(st);
    return ms->age_chk_active ? ms->age_chk_deadline : INT64_MAX;
}

static size_t ms_dmap_entries(sd_store *st) {
    return nx_seqset_size(&ms_of(st)->dmap);
}

static bool ms_raw_subject_state(sd_store *st, const char *subj, sd_simple_state *out) {
    sd_simple_state *ss = nx_stree_find(&ms_of(st)->fss, subj, strlen(subj));
    if (!ss) return false;
    *out = *ss;
    return true;
}

bool sd_memstore_has_ttl_wheel(sd_store *st) {
    return ms_of(st)->ttls != NULL;
}

static const sd_store_ops ms_ops = {
    .store_msg = ms_store_msg,
    .store_raw_msg = ms_store_raw_msg,
    .skip_msg = ms_skip_msg,
    .skip_msg_no_interest = ms_skip_msg_no_interest,
    .skip_msgs = ms_skip_msgs,
    .flush_all_pending = ms_flush_all_pending,
    .load_msg = ms_load_msg_op,
    .load_next_msg = ms_load_next_msg_op,
    .load_next_msg_multi = ms_load_next_msg_multi_op,
    .load_last_msg = ms_load_last_msg_op,
    .load_prev_msg = ms_load_prev_msg_op,
    .load_prev_msg_multi = ms_load_prev_msg_multi_op,
    .remove_msg = ms_remove,
    .erase_msg = ms_erase,
    .purge = ms_purge_op,
    .purge_ex = ms_purge_ex_op,
    .compact = ms_compact_op,
    .truncate = ms_truncate_op,
    .get_seq_from_time = ms_get_seq_from_time_op,
    .filtered_state = ms_filtered_state_op,
    .subjects_state = ms_subjects_state_op,
    .subjects_totals = ms_subjects_totals_op,
    .all_last_seqs = ms_all_last_seqs_op,
    .multi_last_seqs = ms_multi_last_seqs_op,
    .subject_for_seq = ms_subject_for_seq_op,
    .num_pending = ms_num_pending_op,
    .num_pending_multi = ms_num_pending_multi_op,
    .state = ms_state_op,
    .fast_state = ms_fast_state_op,
    .encoded_stream_state = ms_encoded_stream_state_op,
    .sync_deleted = ms_sync_deleted_op,
    .type = ms_type,
    .register_callbacks = ms_register,
    .update_config = ms_update_config,
    .delete_ = ms_delete,
    .stop = ms_stop,
    .consumer_store = ms_consumer_store,
    .add_consumer = ms_add_consumer,
    .remove_consumer = ms_remove_consumer,
    .snapshot = ms_snapshot,
    .utilization = ms_utilization,
    .reset_state = ms_reset_state,
    .expire = ms_expire_op,
    .next_expire = ms_next_expire,
    .dmap_entries = ms_dmap_entries,
    .raw_subject_state = ms_raw_subject_state,
    .free = ms_free,
};
