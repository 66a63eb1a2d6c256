/* Memory store queries: loads, filtered state and pending counts, per-subject views.
 *
 * Ports Go nats-server v2.14.5 server/memstore.go: LoadMsg, LoadNextMsg(+Multi, and the
 * subject-tree narrowing nextWildcardMatchLocked/nextLiteralMatchLocked/shouldLinearScan),
 * LoadLastMsg, LoadPrevMsg(+Multi), GetSeqFromTime, filteredStateLocked, SubjectsState,
 * SubjectsTotals, AllLastSeqs, MultiLastSeqs, NumPending(+Multi), SubjectForSeq and
 * recalculateForSubj.
 *
 * Queries may refresh lazy per-subject first/last (recalc_subj) but change nothing else.
 * One deliberate difference: where Go walks its message map (random order) to find the
 * first matching sequence of a range, this takes the lowest matching sequence, which is what
 * the sequential walk next to it computes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/memstore_int.h"

#define FWCS ">"

static inline bool filter_is_all(const char *f) {
    return !f || !*f || (f[0] == '>' && f[1] == 0);
}

static inline bool subj_eq(const ms_msg *m, const char *s, size_t len) {
    return m->subj_len == len && memcmp(ms_subj(m), s, len) == 0;
}

int ms_copy_out(const sd_memstore *ms, const ms_msg *m, sd_store_msg *sm) {
    if (m->flags & MS_F_EXT) return ms->load_body(ms->load_arg, m, sm);
    sd_store_msg_set(sm, m->seq, m->ts, ms_subj(m), m->subj_len, ms_hdr(m), m->hdr_len,
                     ms_payload(m), m->msg_len);
    return 0;
}

/* Go recalculateForSubj. */
void ms_recalc_subj(sd_memstore *ms, const char *subj, size_t len, sd_simple_state *ss) {
    if (ss->first_needs_update) {
        uint64_t t = ss->first + 1;
        if (t < ms->first_seq) t = ms->first_seq;
        for (; t <= ss->last; t++) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, t);
            if (m && subj_eq(m, subj, len)) {
                ss->first = t;
                ss->first_needs_update = false;
                if (ss->msgs == 1) {
                    ss->last = t;
                    ss->last_needs_update = false;
                    return;
                }
                break;
            }
        }
    }
    if (ss->last_needs_update) {
        uint64_t t = ss->last - 1;
        if (t > ms->last_seq) t = ms->last_seq;
        for (; t >= ss->first && t > 0; t--) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, t);
            if (m && subj_eq(m, subj, len)) {
                ss->last = t;
                ss->last_needs_update = false;
                if (ss->msgs == 1) {
                    ss->first = t;
                    ss->first_needs_update = false;
                }
                return;
            }
        }
    }
}

uint64_t ms_subject_total(sd_memstore *ms, const char *subj, size_t len) {
    const sd_simple_state *ss = nx_stree_find(&ms->fss, subj, len);
    return ss ? ss->msgs : 0;
}

/* --- Filtered state --------------------------------------------------------------------- */

typedef struct {
    sd_memstore *ms;
    uint64_t sseq;
    bool lps; /* last per subject */
    sd_simple_state ss;
    bool have_partial;
    uint64_t total_skipped;
} fs_ctx;

static void fs_update(fs_ctx *c, const sd_simple_state *f) {
    uint64_t msgs = f->msgs, first = f->first, last = f->last;
    if (c->lps) msgs = 1, first = last;
    c->ss.msgs += msgs;
    if (c->ss.first == 0 || first < c->ss.first) c->ss.first = first;
    if (last > c->ss.last) c->ss.last = last;
}

/* The per-subject pass shared by filtered state and NumPendingMulti. */
static bool fs_visit(void *arg, const char *subj, size_t len, void *value) {
    fs_ctx *c = arg;
    sd_simple_state *f = value;
    if (f->first_needs_update || f->last_needs_update) ms_recalc_subj(c->ms, subj, len, f);
    if (c->sseq <= f->first) {
        fs_update(c, f);
    } else if (c->sseq <= f->last) {
        c->have_partial = true; /* keep going to track last */
        fs_update(c, f);
    } else {
        c->total_skipped += f->msgs;
    }
    return true;
}

/* How a message is matched against the filter(s) during the scans. */
typedef struct {
    bool all;
    const char *filter;
    size_t flen;
    bool wc;
    const nx_filter_set *fs;
} matcher;

static bool is_match(const matcher *mt, const ms_msg *m) {
    if (mt->fs) return nx_filter_set_has_interest(mt->fs, ms_subj(m), m->subj_len);
    if (mt->all) return true;
    if (!mt->wc) return subj_eq(m, mt->filter, mt->flen);
    return nx_subject_subset_match(ms_subj(m), m->subj_len, mt->filter, mt->flen);
}

/* "seen" subjects for last-per-subject counting; keys borrow the stored subjects. */
static bool seen_has(const nx_strmap *seen, const ms_msg *m) {
    return seen && seen->count && nx_strmap_get(seen, ms_subj(m), m->subj_len);
}

static void seen_add(nx_strmap *seen, const ms_msg *m) {
    if (seen) nx_strmap_put(seen, ms_subj(m), m->subj_len, (void *)1);
}

/* Go's second phase of filteredStateLocked / NumPendingMulti: with partially covered
 * subjects, scan the messages either inside [first, last] (inclusive) or outside it
 * (exclusive, adjusting the totals).  need_first: refine ss.first (filtered state only). */
static sd_simple_state fs_scan(sd_memstore *ms, fs_ctx *c, const matcher *mt, bool need_first) {
    sd_simple_state ss = c->ss;
    uint64_t first = ss.first, last = ss.last;
    bool need_scan_first = false;
    if (first < c->sseq) {
        first = c->sseq;
        need_scan_first = need_first;
    }
    uint64_t to_scan = last - first;
    uint64_t to_exclude = first - ms->first_seq + ms->last_seq - ss.last;
    nx_strmap seen_map = {0};
    nx_strmap *seen = c->lps ? &seen_map : NULL;
    uint64_t nmsgs = ms->msgmap.count;
    uint64_t k;
    void *v;
    if (to_scan < to_exclude) {
        ss.msgs = 0;
        ss.first = 0;
        if (last - first > nmsgs) {
            /* Many interior deletes: walk the messages instead of the range. */
            for (size_t i = 0; sd_seqmap_next(&ms->msgmap, &i, &k, &v);) {
                const ms_msg *m = v;
                if (m->seq < first || m->seq > last || seen_has(seen, m) || !is_match(mt, m))
                    continue;
                ss.msgs++;
                if (ss.first == 0 || m->seq < ss.first) ss.first = m->seq;
                seen_add(seen, m);
            }
        } else {
            for (uint64_t seq = first; seq <= last; seq++) {
                const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
                if (!m || seen_has(seen, m) || !is_match(mt, m)) continue;
                ss.msgs++;
                if (ss.first == 0) ss.first = seq;
                seen_add(seen, m);
            }
        }
    } else {
        /* Adjust the totals by scanning what is to be excluded. */
        ss.first = first;
        ss.msgs += c->total_skipped;
        uint64_t adjust = 0;
        const sd_simple_state *tss = NULL;
#define EXCLUDE(m)                                                                                 \
    do {                                                                                           \
        if (c->lps) tss = nx_stree_find(&ms->fss, ms_subj(m), (m)->subj_len);                      \
        if (!tss)                                                                                  \
            adjust++;                                                                              \
        else if (tss->last < first)                                                                \
            adjust += tss->msgs; /* all of it is before first */                                   \
        seen_add(seen, m);                                                                         \
    } while (0)
        if (first - ms->first_seq > nmsgs) {
            for (size_t i = 0; sd_seqmap_next(&ms->msgmap, &i, &k, &v);) {
                const ms_msg *m = v;
                if (m->seq < first && !seen_has(seen, m) && is_match(mt, m)) EXCLUDE(m);
            }
        } else {
            for (uint64_t seq = ms->first_seq; seq < first; seq++) {
                const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
                if (m && !seen_has(seen, m) && is_match(mt, m)) EXCLUDE(m);
            }
        }
#undef EXCLUDE
        /* And the range at the end. */
        for (uint64_t seq = last + 1; seq < ms->last_seq; seq++) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
            if (m && !seen_has(seen, m) && is_match(mt, m)) {
                adjust++;
                seen_add(seen, m);
            }
        }
        ss.msgs -= adjust;
        if (need_scan_first) {
            /* Walking all messages beats the range only when it is far sparser. */
            if (last - first > 100 * nmsgs) {
                uint64_t low = ms->last_seq;
                for (size_t i = 0; sd_seqmap_next(&ms->msgmap, &i, &k, &v);) {
                    const ms_msg *m = v;
                    if (m->seq >= first && m->seq < last && is_match(mt, m) && m->seq < low)
                        low = m->seq;
                }
                if (low < ms->last_seq) ss.first = low;
            } else {
                for (uint64_t seq = first; seq < last; seq++) {
                    const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
                    if (m && is_match(mt, m)) {
                        ss.first = seq;
                        break;
                    }
                }
            }
        }
    }
    nx_strmap_free(&seen_map);
    return ss;
}

sd_simple_state ms_filtered_state(sd_memstore *ms, uint64_t sseq, const char *filter, bool lps) {
    sd_simple_state none = {0};
    if (sseq < ms->first_seq) sseq = ms->first_seq;
    if (sseq > ms->last_seq) return none; /* past the end */
    if (filter_is_all(filter)) filter = FWCS;
    bool all = strcmp(filter, FWCS) == 0;
    /* Everything from the start: the totals are at hand. */
    if (all && sseq <= ms->first_seq) {
        sd_simple_state ss = {lps ? nx_stree_size(&ms->fss) : ms->msgs, ms->first_seq, ms->last_seq,
                              false, false};
        return ss;
    }
    size_t flen = strlen(filter);
    matcher mt = {all, filter, flen, !nx_subject_is_literal(filter, flen), NULL};
    fs_ctx c = {ms, sseq, lps, {0}, false, 0};
    nx_stree_match(&ms->fss, filter, flen, fs_visit, &c);
    if (!c.have_partial) return c.ss;
    return fs_scan(ms, &c, &mt, true);
}

int ms_filtered_state_op(sd_store *st, uint64_t sseq, const char *subj, sd_simple_state *out) {
    *out = ms_filtered_state(ms_of(st), sseq, subj, false);
    return 0;
}

int ms_num_pending_op(sd_store *st, uint64_t sseq, const char *filter, bool lps, uint64_t *total,
                      uint64_t *valid_through) {
    sd_memstore *ms = ms_of(st);
    sd_simple_state ss = ms_filtered_state(ms, sseq, filter, lps);
    *total = ss.msgs;
    *valid_through = ms->last_seq;
    return 0;
}

int ms_num_pending_multi_op(sd_store *st, uint64_t sseq, const nx_filter_set *fs, bool lps,
                            uint64_t *total, uint64_t *valid_through) {
    sd_memstore *ms = ms_of(st);
    if (!fs) return ms_num_pending_op(st, sseq, FWCS, lps, total, valid_through);
    *valid_through = ms->last_seq;
    *total = 0;
    if (sseq < ms->first_seq) sseq = ms->first_seq;
    if (sseq > ms->last_seq) return 0;
    fs_ctx c = {ms, sseq, lps, {0}, false, 0};
    nx_stree_intersect_filters(&ms->fss, fs, fs_visit, &c);
    if (!c.have_partial) {
        *total = c.ss.msgs;
        return 0;
    }
    matcher mt = {false, NULL, 0, false, fs};
    *total = fs_scan(ms, &c, &mt, false).msgs;
    return 0;
}

/* --- Per-subject views -------------------------------------------------------------- */

typedef struct {
    sd_memstore *ms;
    sd_subject_state_cb cb;
    void *arg;
    const char *filter;
    size_t flen;
    bool all;
} subj_ctx;

static bool subjects_state_visit(void *arg, const char *subj, size_t len, void *value) {
    subj_ctx *c = arg;
    sd_simple_state *ss = value;
    if (ss->first_needs_update || ss->last_needs_update) ms_recalc_subj(c->ms, subj, len, ss);
    return c->cb(c->arg, subj, len, ss);
}

int ms_subjects_state_op(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg) {
    sd_memstore *ms = ms_of(st);
    if (nx_stree_size(&ms->fss) == 0) return 0;
    if (filter_is_all(filter)) filter = FWCS;
    subj_ctx c = {ms, cb, arg, filter, strlen(filter), false};
    nx_stree_match_until(&ms->fss, filter, c.flen, subjects_state_visit, &c);
    return 0;
}

static bool subjects_totals_visit(void *arg, const char *subj, size_t len, void *value) {
    subj_ctx *c = arg;
    const sd_simple_state *ss = value;
    if (!c->all && !nx_subject_subset_match(subj, len, c->filter, c->flen)) return true;
    sd_simple_state tot = {ss->msgs, 0, 0, false, false};
    return c->cb(c->arg, subj, len, &tot);
}

int ms_subjects_totals_op(sd_store *st, const char *filter, sd_subject_state_cb cb, void *arg) {
    sd_memstore *ms = ms_of(st);
    if (nx_stree_size(&ms->fss) == 0) return 0;
    if (!filter) filter = "";
    /* Go matches the tree with the filter as given, so an empty filter matches nothing. */
    subj_ctx c = {ms, cb, arg, filter, strlen(filter), filter_is_all(filter)};
    nx_stree_match_until(&ms->fss, filter, c.flen, subjects_totals_visit, &c);
    return 0;
}

typedef struct {
    sd_memstore *ms;
    uint64_t *seqs;
    size_t n, cap;
} seqs_ctx;

static void seqs_push(seqs_ctx *c, uint64_t v) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        uint64_t *ns = realloc(c->seqs, c->cap * sizeof *ns);
        if (!ns) ms_panic("out of memory");
        c->seqs = ns;
    }
    c->seqs[c->n++] = v;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool all_last_visit(void *arg, const char *subj, size_t len, void *value) {
    seqs_ctx *c = arg;
    sd_simple_state *ss = value;
    if (ss->last_needs_update) ms_recalc_subj(c->ms, subj, len, ss); /* only last matters */
    seqs_push(c, ss->last);
    return true;
}

int ms_all_last_seqs_op(sd_store *st, uint64_t **seqs, size_t *n) {
    sd_memstore *ms = ms_of(st);
    *seqs = NULL;
    *n = 0;
    if (ms->msgmap.count == 0) return 0;
    seqs_ctx c = {ms, NULL, 0, 0};
    nx_stree_iter_fast(&ms->fss, all_last_visit, &c);
    if (c.n) qsort(c.seqs, c.n, sizeof *c.seqs, cmp_u64);
    *seqs = c.seqs;
    *n = c.n;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go filterIsAll: do the filters cover exactly the stream's subjects?  (Sorted copies: Go
 * sorts the caller's slice in place, but must not reorder the config.) */
static bool filters_are_all(sd_memstore *ms, const char *const *filters, size_t n) {
    if (n != ms->cfg.num_subjects) return false;
    if (n == 0) return true;
    const char **f = ms_xmalloc(n * sizeof *f), **s = ms_xmalloc(n * sizeof *s);
    memcpy(f, filters, n * sizeof *f);
    memcpy(s, ms->cfg.subjects, n * sizeof *s);
    qsort(f, n, sizeof *f, cmp_str);
    qsort(s, n, sizeof *s, cmp_str);
    bool all = true;
    for (size_t i = 0; i < n && all; i++)
        all = nx_subject_subset_match(s[i], strlen(s[i]), f[i], strlen(f[i]));
    free(f);
    free(s);
    return all;
}

typedef struct {
    seqs_ctx sc;
    sd_seqmap seen;
    uint64_t max_seq;
} multi_ctx;

static void multi_add(multi_ctx *c, uint64_t seq) {
    if (sd_seqmap_find(&c->seen, seq, NULL)) return;
    sd_seqmap_put(&c->seen, seq, NULL);
    seqs_push(&c->sc, seq);
}

static bool multi_visit(void *arg, const char *subj, size_t len, void *value) {
    multi_ctx *c = arg;
    sd_memstore *ms = c->sc.ms;
    sd_simple_state *ss = value;
    if (ss->last_needs_update) ms_recalc_subj(ms, subj, len, ss);
    if (ss->last <= c->max_seq) {
        multi_add(c, ss->last);
    } else if (ss->msgs > 1) {
        /* The last is past max_seq: walk back to the subject's last one at or below it. */
        for (uint64_t seq = c->max_seq; seq > 0; seq--) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
            if (m && subj_eq(m, subj, len)) {
                multi_add(c, seq);
                break;
            }
        }
    }
    return true;
}

int ms_multi_last_seqs_op(sd_store *st, const char *const *filters, size_t nfilters,
                          uint64_t max_seq, int max_allowed, uint64_t **seqs, size_t *n) {
    sd_memstore *ms = ms_of(st);
    *seqs = NULL;
    *n = 0;
    if (ms->msgmap.count == 0) return 0;
    /* Asking for everything with no bounds is AllLastSeqs. */
    if (max_seq == 0 && max_allowed <= 0 && filters_are_all(ms, filters, nfilters))
        return ms_all_last_seqs_op(st, seqs, n);
    if (max_seq == 0) max_seq = ms->last_seq;
    multi_ctx c = {{ms, NULL, 0, 0}, {0}, max_seq};
    for (size_t i = 0; i < nfilters; i++) {
        nx_stree_match(&ms->fss, filters[i], strlen(filters[i]), multi_visit, &c);
        if (max_allowed > 0 && c.sc.n > (size_t)max_allowed) {
            free(c.sc.seqs);
            sd_seqmap_clear(&c.seen);
            return SD_ERR_TOO_MANY_RESULTS;
        }
    }
    sd_seqmap_clear(&c.seen);
    if (c.sc.n) qsort(c.sc.seqs, c.sc.n, sizeof *c.sc.seqs, cmp_u64);
    *seqs = c.sc.seqs;
    *n = c.sc.n;
    return 0;
}

int ms_subject_for_seq_op(sd_store *st, uint64_t seq, char **subj) {
    sd_memstore *ms = ms_of(st);
    *subj = NULL;
    if (seq < ms->first_seq) return SD_ERR_MSG_NOT_FOUND;
    const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
    if (!m) return SD_ERR_MSG_NOT_FOUND;
    char *s = ms_xmalloc(m->subj_len + 1);
    memcpy(s, ms_subj(m), m->subj_len);
    s[m->subj_len] = 0;
    *subj = s;
    return 0;
}

/* --- Loads ------------------------------------------------------------------------- */

int ms_load_msg_op(sd_store *st, uint64_t seq, sd_store_msg *sm) {
    sd_memstore *ms = ms_of(st);
    const ms_msg *m = sd_seqmap_get(&ms->msgmap, seq);
    if (!m) return seq <= ms->last_seq ? SD_ERR_MSG_NOT_FOUND : SD_ERR_STORE_EOF;
    return ms_copy_out(ms, m, sm);
}

const ms_msg *ms_load_last(sd_memstore *ms, const char *subj) {
    const ms_msg *m = NULL;
    if (filter_is_all(subj)) {
        m = sd_seqmap_get(&ms->msgmap, ms->last_seq);
    } else if (nx_subject_is_literal(subj, strlen(subj))) {
        size_t len = strlen(subj);
        sd_simple_state *ss = nx_stree_find(&ms->fss, subj, len);
        if (ss && ss->msgs > 0) {
            if (ss->last_needs_update) ms_recalc_subj(ms, subj, len, ss);
            m = sd_seqmap_get(&ms->msgmap, ss->last);
        }
    } else {
        sd_simple_state ss = ms_filtered_state(ms, 1, subj, true);
        if (ss.msgs > 0) m = sd_seqmap_get(&ms->msgmap, ss.last);
    }
    return m;
}

int ms_load_last_msg_op(sd_store *st, const char *subj, sd_store_msg *sm) {
    sd_memstore *ms = ms_of(st);
    const ms_msg *m = ms_load_last(ms, subj);
    if (!m) return SD_ERR_MSG_NOT_FOUND;
    return ms_copy_out(ms, m, sm);
}

typedef struct {
    sd_memstore *ms;
    uint64_t start, first, last;
    bool found;
} wild_ctx;

static bool wild_visit(void *arg, const char *subj, size_t len, void *value) {
    wild_ctx *c = arg;
    sd_simple_state *ss = value;
    ms_recalc_subj(c->ms, subj, len, ss);
    if (c->start > ss->last) return true; /* all below start */
    c->found = true;
    if (ss->first < c->first) c->first = ss->first;
    if (ss->last > c->last) c->last = ss->last;
    /* With first <= start there is a match in [start, last]: stop.  Otherwise an earlier
     * one may still come. */
    return c->first > c->start;
}

bool sd_memstore_next_wildcard_match(sd_store *st, const char *filter, uint64_t start,
                                     uint64_t *first, uint64_t *last) {
    sd_memstore *ms = ms_of(st);
    wild_ctx c = {ms, start, ms->last_seq, 0, false};
    nx_stree_match_until(&ms->fss, filter, strlen(filter), wild_visit, &c);
    if (!c.found) {
        *first = *last = 0;
        return false;
    }
    *first = c.first > start ? c.first : start;
    *last = c.last;
    return true;
}

bool sd_memstore_next_literal_match(sd_store *st, const char *filter, uint64_t start,
                                    uint64_t *first, uint64_t *last) {
    sd_memstore *ms = ms_of(st);
    size_t len = strlen(filter);
    sd_simple_state *ss = nx_stree_find(&ms->fss, filter, len);
    *first = *last = 0;
    if (!ss) return false;
    ms_recalc_subj(ms, filter, len, ss);
    if (start > ss->last) return false;
    *first = start > ss->first ? start : ss->first;
    *last = ss->last;
    return true;
}

bool sd_memstore_should_linear_scan(sd_store *st, const char *filter, bool wc, uint64_t start) {
    sd_memstore *ms = ms_of(st);
    /* Scan linearly for everything, when the range is small compared to the number of
     * subjects, or for a wildcard over many subjects. */
    const size_t linear_scan_max_fss = 256;
    size_t nsubj = nx_stree_size(&ms->fss);
    return filter_is_all(filter) || 2 * (ms->last_seq - start) < nsubj ||
           (wc && nsubj > linear_scan_max_fss);
}

const ms_msg *ms_next_msg(sd_memstore *ms, const char *filter, bool wc, uint64_t start) {
    if (start < ms->first_seq) start = ms->first_seq;
    if (start > ms->last_seq || ms->msgs == 0) return NULL;
    if (filter_is_all(filter)) filter = FWCS;
    bool all = strcmp(filter, FWCS) == 0;
    size_t flen = strlen(filter);
    uint64_t fseq = start, lseq = ms->last_seq;
    if (!sd_memstore_should_linear_scan(&ms->base, filter, wc, start)) {
        bool found = wc ? sd_memstore_next_wildcard_match(&ms->base, filter, start, &fseq, &lseq)
                        : sd_memstore_next_literal_match(&ms->base, filter, start, &fseq, &lseq);
        if (!found) return NULL;
    }
    for (uint64_t n = fseq; n <= lseq; n++) {
        const ms_msg *m = sd_seqmap_get(&ms->msgmap, n);
        if (!m) continue;
        if (all || (wc ? nx_subject_match_literal(ms_subj(m), m->subj_len, filter, flen)
                       : subj_eq(m, filter, flen)))
            return m;
    }
    return NULL;
}

int ms_load_next_msg_op(sd_store *st, const char *filter, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq) {
    sd_memstore *ms = ms_of(st);
    const ms_msg *m = ms_next_msg(ms, filter, wc, start);
    if (!m) {
        *seq = ms->last_seq;
        return SD_ERR_STORE_EOF;
    }
    int rc = ms_copy_out(ms, m, sm);
    *seq = m->seq;
    return rc;
}

int ms_load_next_msg_multi_op(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq) {
    sd_memstore *ms = ms_of(st);
    if (start < ms->first_seq) start = ms->first_seq;
    *seq = ms->last_seq;
    if (start > ms->last_seq || ms->msgs == 0) return SD_ERR_STORE_EOF;
    for (uint64_t n = start; n <= ms->last_seq; n++) {
        const ms_msg *m = sd_seqmap_get(&ms->msgmap, n);
        if (m && nx_filter_set_has_interest(fs, ms_subj(m), m->subj_len)) {
            int rc = ms_copy_out(ms, m, sm);
            *seq = n;
            return rc;
        }
    }
    return SD_ERR_STORE_EOF;
}

int ms_load_prev_msg_op(sd_store *st, const char *filter, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq) {
    sd_memstore *ms = ms_of(st);
    if (ms->closed) {
        *seq = 0;
        return SD_ERR_STORE_CLOSED;
    }
    *seq = ms->first_seq;
    if (ms->msgs == 0 || start < ms->first_seq) return SD_ERR_STORE_EOF;
    if (start > ms->last_seq) start = ms->last_seq;
    if (filter_is_all(filter)) {
        filter = FWCS;
        wc = true;
    }
    bool all = strcmp(filter, FWCS) == 0;
    size_t flen = strlen(filter);
    for (uint64_t s = start; s >= ms->first_seq && s > 0; s--) {
        const ms_msg *m = sd_seqmap_get(&ms->msgmap, s);
        if (!m) continue;
        if (all || (wc ? nx_subject_match_literal(ms_subj(m), m->subj_len, filter, flen)
                       : subj_eq(m, filter, flen))) {
            int rc = ms_copy_out(ms, m, sm);
            *seq = s;
            return rc;
        }
    }
    return SD_ERR_STORE_EOF;
}

int ms_load_prev_msg_multi_op(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq) {
    sd_memstore *ms = ms_of(st);
    if (start > ms->last_seq) start = ms->last_seq;
    *seq = ms->first_seq;
    if (start < ms->first_seq || ms->msgs == 0) return SD_ERR_STORE_EOF;
    for (uint64_t n = start; n >= ms->first_seq && n > 0; n--) {
        const ms_msg *m = sd_seqmap_get(&ms->msgmap, n);
        if (m && nx_filter_set_has_interest(fs, ms_subj(m), m->subj_len)) {
            int rc = ms_copy_out(ms, m, sm);
            *seq = n;
            return rc;
        }
    }
    return SD_ERR_STORE_EOF;
}

/* Go GetSeqFromTime: the first sequence with a timestamp >= ts, by binary search that steps
 * over interior deletes. */
uint64_t ms_get_seq_from_time_op(sd_store *st, int64_t ts) {
    sd_memstore *ms = ms_of(st);
    if (ms->msgmap.count == 0) return ms->last_seq + 1;
    const ms_msg *fm = sd_seqmap_get(&ms->msgmap, ms->first_seq);
    if (fm && ts <= fm->ts) return ms->first_seq;
    /* The last sequence may be gone: last does not move backwards. */
    const ms_msg *lm = NULL;
    for (uint64_t l = ms->last_seq; l > ms->first_seq; l--)
        if ((lm = sd_seqmap_get(&ms->msgmap, l))) break;
    if (!lm) return ms->last_seq + 1;
    if (ts == lm->ts) return lm->seq;
    if (ts > lm->ts) return ms->last_seq + 1;

    uint64_t fseq = ms->first_seq, lseq = ms->last_seq, seq = lseq + 1;
    while (fseq <= lseq) {
        uint64_t mid = fseq + (lseq - fseq) / 2, off = 0;
        const ms_msg *m = NULL;
        /* Step over a gap, remembering how far. */
        while (!(m = sd_seqmap_get(&ms->msgmap, mid + off)) && mid + off + 1 <= lseq)
            off++;
        if (!m) {
            /* Only deletes to the right of mid: keep searching to the left. */
            if (mid == 0) break;
            lseq = mid - 1;
            continue;
        }
        if (m->ts >= ts) {
            seq = m->seq;
            if (mid == fseq) break;
            lseq = mid - 1;
        } else {
            fseq = mid + off + 1;
        }
    }
    return seq;
}
