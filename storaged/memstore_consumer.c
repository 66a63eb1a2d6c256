/* Consumer state kept in memory (Go consumerMemStore).
 *
 * Ports Go nats-server v2.14.5 server/memstore.go: consumerMemStore (Update, ForceUpdate,
 * SetStarting, UpdateStarting, Reset, HasState, UpdateDelivered, UpdateAcks,
 * RemoveRedeliveredBelow, State, EncodedState, Stop).
 *
 * Invariants (as in Go): ack_floor <= delivered for both sequences; pending holds stream
 * sequences in (ack_floor.stream, delivered.stream] with their original delivery sequence
 * and last delivery time (only when acks are expected); redelivered holds counts > 0.
 * A consumer store registers with its stream store; freeing the stream store detaches the
 * consumer stores still alive (they keep working, but no longer count as consumers).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storaged/memstore_int.h"

struct ms_consumer {
    sd_consumer_store base;
    sd_memstore *ms; /* NULL once the stream store is gone */
    ms_consumer *prev, *next;
    sd_store_env env;
    sd_consumer_config cfg;
    sd_sequence_pair delivered;
    sd_sequence_pair ack_floor;
    sd_seqmap pending;     /* sseq -> sd_pending* */
    sd_seqmap redelivered; /* sseq -> count, stored as a pointer-sized integer */
    bool closed;
};

static const sd_consumer_store_ops mc_ops;

static inline ms_consumer *mc_of(sd_consumer_store *o) {
    return (ms_consumer *)o;
}

static void clear_pending(ms_consumer *o) {
    uint64_t k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&o->pending, &i, &k, &v);)
        free(v);
    sd_seqmap_clear(&o->pending);
}

static uint64_t redelivered_get(const ms_consumer *o, uint64_t sseq) {
    void *v = NULL;
    return sd_seqmap_find(&o->redelivered, sseq, &v) ? (uint64_t)(uintptr_t)v : 0;
}

static void redelivered_set(ms_consumer *o, uint64_t sseq, uint64_t count) {
    /* Counts live in the pointer slot itself. */
    /* NOLINTNEXTLINE(performance-no-int-to-ptr) */
    sd_seqmap_put(&o->redelivered, sseq, (void *)(uintptr_t)count);
}

static void pending_del(ms_consumer *o, uint64_t sseq) {
    free(sd_seqmap_del(&o->pending, sseq));
}

int ms_consumer_store_open(sd_memstore *ms, const char *name, const sd_consumer_config *cfg,
                           sd_consumer_store **out) {
    (void)name;
    ms_consumer *o = calloc(1, sizeof *o);
    if (!o) ms_panic("out of memory");
    o->base.ops = &mc_ops;
    o->ms = ms;
    o->env = ms->env;
    o->cfg = *cfg;
    o->next = ms->consumer_list;
    if (o->next) o->next->prev = o;
    ms->consumer_list = o;
    ms->base.ops->add_consumer(&ms->base, &o->base);
    *out = &o->base;
    return 0;
}

void ms_detach_consumers(sd_memstore *ms) {
    for (ms_consumer *o = ms->consumer_list, *n; o; o = n) {
        n = o->next;
        o->ms = NULL;
        o->prev = o->next = NULL;
    }
    ms->consumer_list = NULL;
}

/* Validation and replacement shared by Update and ForceUpdate. */
static int replace_state(ms_consumer *o, const sd_consumer_state *st, bool force) {
    if (st->ack_floor.consumer > st->delivered.consumer) return SD_ERR_BAD_ACK_FLOOR_CONSUMER;
    if (st->ack_floor.stream > st->delivered.stream) return SD_ERR_BAD_ACK_FLOOR_STREAM;
    for (size_t i = 0; i < st->num_pending; i++) {
        uint64_t seq = st->pending[i].sseq;
        if (seq <= st->ack_floor.stream || seq > st->delivered.stream) return SD_ERR_BAD_PENDING;
    }
    /* An update older than what we have is a replay: ignore it. */
    if (!force && (st->delivered.consumer < o->delivered.consumer ||
                   st->ack_floor.stream < o->ack_floor.stream))
        return SD_ERR_OLD_UPDATE;
    o->delivered = st->delivered;
    o->ack_floor = st->ack_floor;
    clear_pending(o);
    sd_seqmap_clear(&o->redelivered);
    for (size_t i = 0; i < st->num_pending; i++) {
        sd_pending *p = ms_xmalloc(sizeof *p);
        *p = st->pending[i];
        free(sd_seqmap_put(&o->pending, p->sseq, p));
    }
    for (size_t i = 0; i < st->num_redelivered; i++)
        redelivered_set(o, st->redelivered[i].sseq, st->redelivered[i].count);
    return 0;
}

static int mc_update(sd_consumer_store *o, const sd_consumer_state *st) {
    return replace_state(mc_of(o), st, false);
}

static int mc_force_update(sd_consumer_store *o, const sd_consumer_state *st) {
    return replace_state(mc_of(o), st, true);
}

static int mc_set_starting(sd_consumer_store *oo, uint64_t sseq) {
    ms_consumer *o = mc_of(oo);
    o->delivered.stream = sseq;
    o->ack_floor.stream = sseq;
    return 0;
}

static void mc_update_starting(sd_consumer_store *oo, uint64_t sseq) {
    ms_consumer *o = mc_of(oo);
    if (sseq > o->delivered.stream) {
        o->delivered.stream = sseq;
        /* AckNone: delivered and ack floor move together. */
        if (o->cfg.ack_policy == SD_ACK_NONE) o->ack_floor.stream = sseq;
    }
}

static int mc_reset(sd_consumer_store *oo, uint64_t sseq) {
    ms_consumer *o = mc_of(oo);
    memset(&o->delivered, 0, sizeof o->delivered);
    memset(&o->ack_floor, 0, sizeof o->ack_floor);
    clear_pending(o);
    sd_seqmap_clear(&o->redelivered);
    return mc_set_starting(oo, sseq);
}

static bool mc_has_state(sd_consumer_store *oo) {
    ms_consumer *o = mc_of(oo);
    return o->delivered.consumer != 0 || o->delivered.stream != 0;
}

static int mc_update_delivered(sd_consumer_store *oo, uint64_t dseq, uint64_t sseq, uint64_t dc,
                               int64_t ts) {
    ms_consumer *o = mc_of(oo);
    if (dc != 1 && o->cfg.ack_policy == SD_ACK_NONE) return SD_ERR_NO_ACK_POLICY;
    /* An old leader may replay stale entries from the raft log. */
    if (dseq <= o->ack_floor.consumer) return 0;
    if (o->cfg.ack_policy != SD_ACK_NONE) {
        if (sseq <= o->delivered.stream) {
            /* Redelivery: keep the original delivery sequence, refresh the time. */
            sd_pending *p = sd_seqmap_get(&o->pending, sseq);
            if (p) p->ts = ts;
        } else {
            sd_pending *p = ms_xmalloc(sizeof *p);
            *p = (sd_pending){sseq, dseq, ts};
            free(sd_seqmap_put(&o->pending, sseq, p));
        }
        if (dseq > o->delivered.consumer) o->delivered.consumer = dseq;
        if (sseq > o->delivered.stream) o->delivered.stream = sseq;
        if (dc > 1) {
            if (o->cfg.max_deliver > 0 && dc > (uint64_t)o->cfg.max_deliver) pending_del(o, sseq);
            if (redelivered_get(o, sseq) < dc - 1) redelivered_set(o, sseq, dc - 1);
        }
    } else {
        if (dseq > o->delivered.consumer) {
            o->delivered.consumer = dseq;
            o->ack_floor.consumer = dseq;
        }
        if (sseq > o->delivered.stream) {
            o->delivered.stream = sseq;
            o->ack_floor.stream = sseq;
        }
    }
    return 0;
}

static int mc_update_acks(sd_consumer_store *oo, uint64_t dseq, uint64_t sseq) {
    ms_consumer *o = mc_of(oo);
    if (o->cfg.ack_policy == SD_ACK_NONE) return SD_ERR_NO_ACK_POLICY;
    sd_seqmap_del(&o->redelivered, sseq);        /* regardless */
    if (dseq <= o->ack_floor.consumer) return 0; /* stale replay */
    sd_pending *p = sd_seqmap_get(&o->pending, sseq);
    if (o->pending.count == 0 || !p) return SD_ERR_MSG_NOT_FOUND;

    if (o->cfg.ack_policy == SD_ACK_ALL || o->cfg.ack_policy == SD_ACK_FLOW_CONTROL) {
        uint64_t sgap = sseq - o->ack_floor.stream;
        o->ack_floor.consumer = dseq;
        o->ack_floor.stream = sseq;
        if (sgap > o->pending.count) {
            /* Fewer pending than the gap: walk the pending entries (collected first). */
            uint64_t *drop = ms_xmalloc(o->pending.count * sizeof *drop);
            size_t nd = 0;
            uint64_t k;
            void *v;
            for (size_t i = 0; sd_seqmap_next(&o->pending, &i, &k, &v);)
                if (k <= sseq) drop[nd++] = k;
            for (size_t i = 0; i < nd; i++) {
                pending_del(o, drop[i]);
                sd_seqmap_del(&o->redelivered, drop[i]);
            }
            free(drop);
        } else {
            for (uint64_t s = sseq; s > sseq - sgap && o->pending.count > 0; s--) {
                pending_del(o, s);
                sd_seqmap_del(&o->redelivered, s);
            }
        }
        return 0;
    }

    /* AckExplicit. */
    uint64_t orig = p->dseq;
    pending_del(o, sseq);
    if (dseq > orig && orig > 0) dseq = orig; /* use the original delivery sequence */
    if (o->pending.count == 0) {
        o->ack_floor = o->delivered;
    } else if (dseq == o->ack_floor.consumer + 1) {
        o->ack_floor.consumer = dseq;
        o->ack_floor.stream = sseq;
        if (o->delivered.consumer > dseq) {
            for (uint64_t ss = sseq + 1; ss <= o->delivered.stream; ss++) {
                const sd_pending *np = sd_seqmap_get(&o->pending, ss);
                if (!np) continue;
                if (np->dseq > 0) {
                    o->ack_floor.consumer = np->dseq - 1;
                    o->ack_floor.stream = ss - 1;
                }
                break;
            }
        }
    }
    return 0;
}

static void mc_remove_redelivered_below(sd_consumer_store *oo, uint64_t seq) {
    ms_consumer *o = mc_of(oo);
    if (seq == 0 || o->redelivered.count == 0) return;
    uint64_t *drop = ms_xmalloc(o->redelivered.count * sizeof *drop);
    size_t nd = 0;
    uint64_t k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&o->redelivered, &i, &k, &v);)
        if (k < seq) drop[nd++] = k;
    for (size_t i = 0; i < nd; i++)
        sd_seqmap_del(&o->redelivered, drop[i]);
    free(drop);
}

static int mc_update_config(sd_consumer_store *oo, const sd_consumer_config *cfg) {
    /* Sanity checks are the upper layers' job. */
    mc_of(oo)->cfg = *cfg;
    return 0;
}

static int cmp_pending(const void *a, const void *b) {
    uint64_t x = ((const sd_pending *)a)->sseq, y = ((const sd_pending *)b)->sseq;
    return x < y ? -1 : x > y;
}

static int cmp_redelivered(const void *a, const void *b) {
    uint64_t x = ((const sd_redelivered *)a)->sseq, y = ((const sd_redelivered *)b)->sseq;
    return x < y ? -1 : x > y;
}

static void copy_state(const ms_consumer *o, sd_consumer_state *out) {
    memset(out, 0, sizeof *out);
    out->delivered = o->delivered;
    out->ack_floor = o->ack_floor;
    uint64_t k;
    void *v;
    if (o->pending.count) {
        out->pending = ms_xmalloc(o->pending.count * sizeof *out->pending);
        for (size_t i = 0; sd_seqmap_next(&o->pending, &i, &k, &v);)
            out->pending[out->num_pending++] = *(const sd_pending *)v;
        qsort(out->pending, out->num_pending, sizeof *out->pending, cmp_pending);
    }
    if (o->redelivered.count) {
        out->redelivered = ms_xmalloc(o->redelivered.count * sizeof *out->redelivered);
        for (size_t i = 0; sd_seqmap_next(&o->redelivered, &i, &k, &v);)
            out->redelivered[out->num_redelivered++] = (sd_redelivered){k, (uint64_t)(uintptr_t)v};
        qsort(out->redelivered, out->num_redelivered, sizeof *out->redelivered, cmp_redelivered);
    }
}

static int mc_state(sd_consumer_store *oo, sd_consumer_state *out) {
    ms_consumer *o = mc_of(oo);
    memset(out, 0, sizeof *out);
    if (o->closed) return SD_ERR_STORE_CLOSED;
    copy_state(o, out);
    return 0;
}

static int mc_encoded_state(sd_consumer_store *oo, uint8_t **buf, size_t *len) {
    ms_consumer *o = mc_of(oo);
    if (o->closed) return SD_ERR_STORE_CLOSED;
    sd_consumer_state cs;
    copy_state(o, &cs);
    int64_t now;
    if (o->env.now_ns) {
        now = o->env.now_ns(o->env.now_arg);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    *buf = sd_encode_consumer_state(&cs, now, len);
    sd_consumer_state_free(&cs);
    return 0;
}

static sd_storage_type mc_type(sd_consumer_store *o) {
    (void)o;
    return SD_STORAGE_MEMORY;
}

static int mc_stop(sd_consumer_store *oo) {
    ms_consumer *o = mc_of(oo);
    o->closed = true;
    if (o->ms) o->ms->base.ops->remove_consumer(&o->ms->base, oo);
    return 0;
}

static void mc_free(sd_consumer_store *oo) {
    ms_consumer *o = mc_of(oo);
    if (!o->closed) mc_stop(oo);
    if (o->ms) {
        if (o->prev)
            o->prev->next = o->next;
        else
            o->ms->consumer_list = o->next;
        if (o->next) o->next->prev = o->prev;
    }
    clear_pending(o);
    sd_seqmap_clear(&o->redelivered);
    free(o);
}

static const sd_consumer_store_ops mc_ops = {
    .set_starting = mc_set_starting,
    .update_starting = mc_update_starting,
    .reset = mc_reset,
    .has_state = mc_has_state,
    .update_delivered = mc_update_delivered,
    .update_acks = mc_update_acks,
    .remove_redelivered_below = mc_remove_redelivered_below,
    .update_config = mc_update_config,
    .update = mc_update,
    .force_update = mc_force_update,
    .state = mc_state,
    .encoded_state = mc_encoded_state,
    .type = mc_type,
    .stop = mc_stop,
    .delete_ = mc_stop,
    .stream_delete = mc_stop,
    .free = mc_free,
};
