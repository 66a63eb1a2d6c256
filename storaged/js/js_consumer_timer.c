/* Consumer timers and small shared structures: the u64 map used for pending and redelivery
 * counts, the list of consumer sets the timer walk visits, and js_consumers_next_deadline /
 * js_consumers_tick (ack wait, pull request expiry and heartbeats, push idle heartbeats,
 * interest polling, inactive threshold, replay original, pinned TTL).
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: deleteNotActive and the timers of
 * loopAndGatherMsgs (hbTimer, wrExp), checkPending's ptmr, setPinnedTimer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_consumer_int.h"

/* --- u64 map ----------------------------------------------------------------------------- */

static size_t mix(uint64_t k, size_t cap) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}
jsc_ent *jsc_map_get(const jsc_map *m, uint64_t key) {
    if (!m->cap || !key) return NULL;
    for (size_t i = mix(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->e[i].key == key) return &m->e[i];
        if (!m->e[i].key) return NULL;
    }
}
static void map_grow(jsc_map *m) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    jsc_ent *old = m->e;
    size_t ocap = m->cap;
    m->e = calloc(ncap, sizeof *m->e);
    if (!m->e) abort();
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key) continue;
        size_t j = mix(old[i].key, ncap);
        while (m->e[j].key) j = (j + 1) & (ncap - 1);
        m->e[j] = old[i];
    }
    free(old);
}
jsc_ent *jsc_map_put(jsc_map *m, uint64_t key) {
    jsc_ent *e = jsc_map_get(m, key);
    if (e) return e;
    if ((m->n + 1) * 4 >= m->cap * 3) map_grow(m);
    size_t i = mix(key, m->cap);
    while (m->e[i].key) i = (i + 1) & (m->cap - 1);
    m->e[i] = (jsc_ent){.key = key};
    m->n++;
    return &m->e[i];
}
bool jsc_map_del(jsc_map *m, uint64_t key) {
    jsc_ent *e = jsc_map_get(m, key);
    if (!e) return false;
    size_t i = (size_t)(e - m->e), mask = m->cap - 1;
    m->e[i].key = 0;
    m->n--;
    /* backward shift deletion */
    for (size_t j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
        size_t h = mix(m->e[j].key, m->cap);
        bool move = (j > i) ? (h <= i || h > j) : (h <= i && h > j);
        if (move) {
            m->e[i] = m->e[j];
            m->e[j].key = 0;
            i = j;
        }
    }
    return true;
}
void jsc_map_clear(jsc_map *m) {
    if (m->cap) memset(m->e, 0, m->cap * sizeof *m->e);
    m->n = 0;
}
void jsc_map_free(jsc_map *m) {
    free(m->e);
    memset(m, 0, sizeof *m);
}
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
uint64_t *jsc_map_keys_sorted(const jsc_map *m, size_t *n) {
    uint64_t *k = malloc((m->n + 1) * sizeof *k);
    if (!k) abort();
    size_t c = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].key) k[c++] = m->e[i].key;
    qsort(k, c, sizeof *k, cmp_u64);
    *n = c;
    return k;
}

/* The stream side keeps the list of streams; consumers register their streams here so the
 * timer walk needs no stream-side iterator. */
static jsc_set **g_sets;
static size_t g_nsets, g_capsets;

void jsc_track_set(jsc_set *s) {
    for (size_t i = 0; i < g_nsets; i++)
        if (g_sets[i] == s) return;
    if (g_nsets == g_capsets) {
        g_capsets = g_capsets ? g_capsets * 2 : 16;
        g_sets = realloc(g_sets, g_capsets * sizeof *g_sets);
        if (!g_sets) abort();
    }
    g_sets[g_nsets++] = s;
}
void jsc_untrack_set(jsc_set *s) {
    for (size_t i = 0; i < g_nsets; i++)
        if (g_sets[i] == s) {
            g_sets[i] = g_sets[--g_nsets];
            if (!g_nsets) {
                free(g_sets);
                g_sets = NULL;
                g_capsets = 0;
            }
            return;
        }
}


/* --- timers ----------------------------------------------------------------------------------- */

typedef struct {
    js_server *js;
    int64_t best;
    int64_t now;
    bool fire;
} tick_ctx;

static void consumer_deadline(js_consumer *o, int64_t *best) {
    int64_t ds[7] = {o->ptmr, o->dtmr, o->hb_deadline, o->interest_poll,
                     o->replay_due > js_now(o->js) ? o->replay_due : 0, o->pin_deadline, 0};
    if (o->pull && o->waiting.n) {
        /* earliest expiry or heartbeat of the waiting requests */
        int64_t f = 0;
        for (jsc_wr *wr = o->waiting.head; wr; wr = wr->next) {
            if (wr->expires && (!f || wr->expires < f)) f = wr->expires;
            if (wr->hbt && (!f || wr->hbt < f)) f = wr->hbt;
        }
        ds[6] = f;
    }
    for (int i = 0; i < 7; i++)
        if (ds[i] > 0 && ds[i] < *best) *best = ds[i];
}

int64_t js_consumers_next_deadline(js_server *js) {
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < g_nsets; i++) {
        jsc_set *s = g_sets[i];
        if (!s->n || js_stream_server(s->st) != js) continue;
        for (size_t k = 0; k < s->n; k++) {
            js_consumer *o = s->v[k];
            consumer_deadline(o, &best);
            if (o->uptmr && o->uptmr < best) best = o->uptmr;
        }
    }
    return best;
}

static bool delete_not_active(js_consumer *o, int64_t now) {
    if (!o->pull) {
        if (o->active) return false;
    } else {
        int64_t elapsed = now - o->waiting.last;
        if (o->waiting.last && elapsed < o->dthresh) {
            o->dtmr = now + (o->dthresh - elapsed);
            return false;
        }
        int64_t brp;
        jsc_process_waiting(o, true, &brp);
        if (o->waiting.n > 0) {
            o->dtmr = now + o->dthresh;
            return false;
        }
        int64_t delay = 0;
        for (size_t i = 0; i < o->pending.cap; i++) {
            jsc_ent *e = &o->pending.e[i];
            if (!e->key) continue;
            int64_t aw = jsc_ack_wait(o, 0);
            if (o->cfg.nbackoff) {
                jsc_ent *r = jsc_map_get(&o->rdc, e->key);
                size_t bi = r ? (size_t)r->a : 0;
                if (bi >= o->cfg.nbackoff) bi = o->cfg.nbackoff - 1;
                aw = jsc_ack_wait(o, o->cfg.backoff[bi]);
            }
            int64_t ts = e->b + aw + o->dthresh;
            if (ts > now && ts - now > delay) delay = ts - now;
        }
        if (delay > 0) {
            o->dtmr = now + delay;
            return false;
        }
    }
    jsc_delete(o, true);
    return true;
}

void js_consumers_tick(js_server *js, int64_t now) {
    for (size_t i = 0; i < g_nsets; i++) {
        jsc_set *s = g_sets[i];
        if (js_stream_server(s->st) != js) continue;
        for (size_t k = 0; k < s->n; k++) {
            js_consumer *o = s->v[k];
            if (o->dtmr && now >= o->dtmr) {
                o->dtmr = 0;
                if (delete_not_active(o, now)) {
                    k--;
                    continue;
                }
            }
            if (o->interest_poll && now >= o->interest_poll) {
                o->interest_poll = 0;
                jsc_push_interest(o);
            }
            if (o->ptmr && now >= o->ptmr) jsc_check_pending(o);
            if (o->uptmr && now >= o->uptmr) {
                o->uptmr = 0;
                jsc_pause_advisory(o);
            }
            if (o->pin_deadline && now >= o->pin_deadline) {
                o->pin_deadline = 0;
                if (o->pin_id[0]) {
                    o->pin_id[0] = 0;
                    jsc_pin_advisory(o, o->pin_group, "timeout");
                }
            }
            if (o->pull && o->waiting.n) {
                int64_t brp;
                jsc_process_waiting(o, false, &brp);
            }
            if (!o->pull && o->hb_deadline && now >= o->hb_deadline) {
                if (o->active) {
                    jsc_send_heartbeat(o, o->cfg.deliver_subject);
                    if (o->cfg.ack_policy == SD_ACK_FLOW_CONTROL && o->pending.n && !o->fcid[0])
                        jsc_send_flow_control(o);
                }
                o->hb_deadline = now + o->cfg.heartbeat;
            }
            jsc_deliver(o);
        }
    }
}

