/* Memory store expiry: MaxAge, per-message TTLs and subject delete markers.
 *
 * Ports Go nats-server v2.14.5 server/memstore.go (startAgeChk, resetAgeChk, cancelAgeChk,
 * expireMsgs, shouldProcessSdm, handleRemovalOrSdm, recoverTTLState) and server/sdm.go
 * (SDMMeta).
 *
 * Go arms a time.AfterFunc timer; here the same bookkeeping only computes a deadline
 * (age_chk_deadline, reported by sd_store_next_expire) and the owner calls sd_store_expire
 * when it is due.  Everything Go computes from time.Now() uses the `now` passed in, or
 * env.now_ns where Go's code reads the clock outside expireMsgs.
 * Callback reentrancy: remove_msg/process_msg are invoked with no iteration in progress
 * (messages are re-looked-up after each callback), so they may remove or store messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storaged/memstore_int.h"

#define NS_PER_S 1000000000LL
#define MS_NS 1000000LL

void ms_start_age_chk(sd_memstore *ms) {
    if (ms->age_chk_active) return;
    if (ms->cfg.max_age_ns != 0 || ms->ttls) {
        ms->age_chk_active = true;
        ms->age_chk_deadline = ms_now(ms) + ms->cfg.max_age_ns;
    }
}

/* Go resetAgeChk: pick when the next expiry pass should run. */
void ms_reset_age_chk(sd_memstore *ms, int64_t delta) {
    /* A pass in progress resets the timer itself when done. */
    if (ms->age_chk_run) return;
    int64_t next = INT64_MAX;
    if (ms->ttls) next = nx_thw_next_expiration(ms->ttls, INT64_MAX);
    /* No MaxAge and nothing waiting: the next stored message wakes us up. */
    if (ms->cfg.max_age_ns <= 0 && next == INT64_MAX) {
        ms->age_chk_active = false;
        return;
    }
    int64_t now = ms_now(ms);
    int64_t fire_in = ms->cfg.max_age_ns;
    /* Nothing specific to wait for but messages remain (removals may be proposals): come
     * back sooner. */
    if (delta == 0 && ms->msgs > 0 && 2 * NS_PER_S < fire_in) fire_in = 2 * NS_PER_S;
    if (next < INT64_MAX) {
        int64_t until = next - now;
        if (fire_in == 0 || until < fire_in) fire_in = until;
    }
    if (delta > 0 && (fire_in == 0 || delta < fire_in)) fire_in = delta;
    /* Not too often, to protect ingest. */
    if (fire_in < 250 * MS_NS) fire_in = 250 * MS_NS;
    /* Never push an armed timer later, or it might keep moving and never run. */
    int64_t expires = now + fire_in;
    if (ms->age_chk_time > 0 && expires > ms->age_chk_time) return;
    ms->age_chk_time = expires;
    ms->age_chk_active = true;
    ms->age_chk_deadline = expires;
}

void ms_cancel_age_chk(sd_memstore *ms) {
    ms->age_chk_active = false;
    ms->age_chk_time = 0;
}

/* Go recoverTTLState: rebuild the wheel from the stored messages' TTL headers. */
void ms_recover_ttl_state(sd_memstore *ms) {
    ms->ttls = nx_thw_new();
    if (ms->msgs == 0) return;
    for (const ms_msg *m = ms_next_msg(ms, ">", true, 0); m;
         m = ms_next_msg(ms, ">", true, m->seq + 1)) {
        int64_t ttl;
        if (ms_msg_ttl(m, &ttl) && ttl > 0) nx_thw_add(ms->ttls, m->seq, m->ts + ttl * NS_PER_S);
    }
    ms_reset_age_chk(ms, 0);
}

/* --- SDM bookkeeping (Go SDMMeta) ------------------------------------------------------ */

void ms_sdm_empty(sd_memstore *ms) {
    if (!ms->sdm_init) return;
    uint64_t k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&ms->sdm_pending, &i, &k, &v);)
        free(v);
    sd_seqmap_clear(&ms->sdm_pending);
    nx_strmap_entry *e;
    for (uint32_t i = 0; nx_strmap_next(&ms->sdm_totals, &i, &e);)
        free(e->value);
    nx_strmap_free(&ms->sdm_totals);
}

void ms_sdm_free(sd_memstore *ms) {
    ms_sdm_empty(ms);
    ms->sdm_init = false;
}

void ms_sdm_remove_seq_and_subject(sd_memstore *ms, uint64_t seq, const char *subj, size_t len) {
    if (!ms->sdm_init) return;
    sdm_pending *p = sd_seqmap_del(&ms->sdm_pending, seq);
    if (!p) return;
    free(p);
    sdm_total *t = nx_strmap_get(&ms->sdm_totals, subj, len);
    if (!t) return;
    if (t->count <= 1) {
        nx_strmap_del(&ms->sdm_totals, subj, len);
        free(t);
    } else {
        t->count--;
    }
}

static uint64_t sdm_total_of(sd_memstore *ms, const char *subj, size_t len) {
    const sdm_total *t = nx_strmap_get(&ms->sdm_totals, subj, len);
    return t ? t->count : 0;
}

/* Go trackPending: remember that seq (of subj) was proposed, and whether it was the last. */
static bool sdm_track_pending(sd_memstore *ms, uint64_t seq, const char *subj, size_t len,
                              bool last, int64_t now) {
    sdm_pending *p = sd_seqmap_get(&ms->sdm_pending, seq);
    if (p) return p->last;
    p = ms_xmalloc(sizeof *p);
    p->last = last;
    p->ts = now;
    sd_seqmap_put(&ms->sdm_pending, seq, p);
    sdm_total *t = nx_strmap_get(&ms->sdm_totals, subj, len);
    if (!t) {
        t = ms_xmalloc(sizeof *t + len + 1);
        t->count = 0;
        t->len = len;
        memcpy(t->subj, subj, len);
        t->subj[len] = 0;
        nx_strmap_put(&ms->sdm_totals, t->subj, len, t);
    }
    t->count++;
    return last;
}

/* Go shouldProcessSdmLocked: returns whether to act on seq now (*process) and whether it is
 * the subject's last message (then a marker replaces it). */
static bool should_process_sdm(sd_memstore *ms, uint64_t seq, const char *subj, size_t len,
                               int64_t now, bool *process) {
    ms->sdm_init = true;
    sdm_pending *p = sd_seqmap_get(&ms->sdm_pending, seq);
    if (p) {
        /* Proposed recently: do not propose again yet. */
        if (now - p->ts < 2 * NS_PER_S) {
            *process = false;
            return p->last;
        }
        /* It was the last: check no newer message for the subject arrived meanwhile. */
        if (p->last) {
            uint64_t remaining = ms_subject_total(ms, subj, len) - sdm_total_of(ms, subj, len);
            if (remaining > 0) p->last = false;
        }
        p->ts = now;
        *process = true;
        return p->last;
    }
    uint64_t msgs = ms_subject_total(ms, subj, len);
    *process = true;
    if (msgs == 0) return false;
    uint64_t remaining = msgs - sdm_total_of(ms, subj, len);
    return sdm_track_pending(ms, seq, subj, len, remaining == 1, now);
}

/* Go handleRemovalOrSdm: ask the owner to remove seq, or to publish a marker instead. */
static void handle_removal_or_sdm(sd_memstore *ms, uint64_t seq, const char *subj, size_t len,
                                  bool sdm, int64_t sdm_ttl_s) {
    if (sdm) {
        char dur[32], hdr[160];
        sd_format_duration_s(sdm_ttl_s, dur, sizeof dur);
        int n = snprintf(hdr, sizeof hdr, "NATS/1.0\r\n%s: %s\r\n%s: %s\r\n%s: %s\r\n\r\n",
                         SD_HDR_MARKER_REASON, SD_MARKER_REASON_MAX_AGE, SD_HDR_MSG_TTL, dur,
                         SD_HDR_ROLLUP, SD_ROLLUP_SUBJECT);
        ms->cb.process_msg(ms->cb.process_msg_arg, subj, len, (const uint8_t *)hdr, (size_t)n, NULL,
                           0);
    } else {
        ms->cb.remove_msg(ms->cb.remove_msg_arg, seq);
    }
}

/* A message's subject and marker flag, copied out before callbacks can free it. */
typedef struct {
    char *subj;
    size_t len, cap;
    bool is_marker;
} msg_info;

static void info_take(msg_info *mi, const ms_msg *m) {
    if (!mi->subj || (size_t)m->subj_len + 1 > mi->cap) {
        free(mi->subj);
        mi->cap = (size_t)m->subj_len + 1;
        mi->subj = ms_xmalloc(mi->cap);
    }
    memcpy(mi->subj, ms_subj(m), m->subj_len);
    mi->subj[m->subj_len] = 0;
    mi->len = m->subj_len;
    mi->is_marker = ms_msg_is_marker(m);
}

typedef struct {
    uint64_t seq;
    int64_t expires;
} rm_entry;

typedef struct {
    rm_entry *v;
    size_t n, cap;
} rm_list;

static bool collect_due(void *arg, uint64_t seq, int64_t expires) {
    rm_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        rm_entry *nv = realloc(l->v, l->cap * sizeof *nv);
        if (!nv) ms_panic("out of memory");
        l->v = nv;
    }
    l->v[l->n++] = (rm_entry){seq, expires};
    /* Removal can fail or be proposed, so the wheel keeps the task for now. */
    return false;
}

static int cmp_rm(const void *a, const void *b) {
    uint64_t x = ((const rm_entry *)a)->seq, y = ((const rm_entry *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Go expireMsgs. */
int ms_expire(sd_memstore *ms, int64_t now) {
    int64_t max_age = ms->cfg.max_age_ns;
    int64_t min_age = now - max_age;
    int64_t sdm_ttl = ms->cfg.subject_delete_marker_ttl_ns / NS_PER_S;
    bool sdm_enabled = sdm_ttl > 0;
    ms->age_chk_deadline = INT64_MAX; /* the timer has fired */
    /* Markers need both handlers; try again later if they are not registered yet. */
    if (sdm_enabled && (!ms->cb.remove_msg || !ms->cb.process_msg)) {
        ms_reset_age_chk(ms, 0);
        return 0;
    }
    ms->age_chk_run = true;
    bool have_sm = false;
    int64_t sm_ts = 0;
    msg_info mi = {NULL, 0, 0, false};

    if (max_age > 0) {
        uint64_t start = 0;
        for (;;) {
            const ms_msg *m = ms_next_msg(ms, ">", true, start);
            if (!m) {
                have_sm = false;
                break;
            }
            if (m->ts > min_age) {
                have_sm = true;
                sm_ts = m->ts;
                break;
            }
            uint64_t seq = m->seq;
            start = seq + 1;
            int64_t ttl;
            /* A negative TTL means "never expires", whatever MaxAge says. */
            if (ms_msg_ttl(m, &ttl) && ttl < 0) {
                min_age = now - max_age;
                continue;
            }
            if (sdm_enabled) {
                info_take(&mi, m);
                bool process, last = should_process_sdm(ms, seq, mi.subj, mi.len, now, &process);
                if (process)
                    handle_removal_or_sdm(ms, seq, mi.subj, mi.len, last && !mi.is_marker, sdm_ttl);
            } else {
                ms_remove_msg(ms, seq, false);
            }
            min_age = now - max_age;
        }
    }

    int64_t next_ttl = INT64_MAX;
    rm_list rms = {NULL, 0, 0};
    if (ms->ttls) {
        nx_thw_expire(ms->ttls, now, collect_due, &rms);
        /* With MaxAge, only look as far ahead as MaxAge: it would beat a later TTL anyway. */
        next_ttl = nx_thw_next_expiration(ms->ttls, max_age > 0 ? now + max_age : INT64_MAX);
    }
    if (!sdm_enabled) {
        for (size_t i = 0; i < rms.n; i++) {
            ms_remove_msg(ms, rms.v[i].seq, false);
            /* Removal finds the task through the TTL header; a message stored with a TTL
             * but no header (or already gone) would keep its task forever, so drop it here
             * (Go does not, and re-collects it on every pass). */
            if (ms->ttls) nx_thw_remove(ms->ttls, rms.v[i].seq, rms.v[i].expires);
        }
    } else {
        /* The wheel is unordered: act in sequence order. */
        if (rms.n) qsort(rms.v, rms.n, sizeof *rms.v, cmp_rm);
        for (size_t i = 0; i < rms.n; i++) {
            const ms_msg *m = sd_seqmap_get(&ms->msgmap, rms.v[i].seq);
            if (!m) {
                have_sm = false;
                if (ms->ttls) nx_thw_remove(ms->ttls, rms.v[i].seq, rms.v[i].expires);
                continue;
            }
            have_sm = true;
            sm_ts = m->ts;
            info_take(&mi, m);
            bool process,
                last = should_process_sdm(ms, rms.v[i].seq, mi.subj, mi.len, now, &process);
            if (process)
                handle_removal_or_sdm(ms, rms.v[i].seq, mi.subj, mi.len, last && !mi.is_marker,
                                      sdm_ttl);
        }
    }
    free(rms.v);
    free(mi.subj);

    /* Cancel only when nothing is left, not when a lookup failed. */
    ms->age_chk_run = false;
    ms->age_chk_time = 0;
    if (ms->msgs == 0 && next_ttl == INT64_MAX)
        ms_cancel_age_chk(ms);
    else if (!have_sm)
        ms_reset_age_chk(ms, 0);
    else
        ms_reset_age_chk(ms, sm_ts - min_age);
    return 0;
}
