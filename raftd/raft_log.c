/* raftd/raft_log.c: the in-memory log of the RAFT core (the part of Go's WAL that raft.go
 * reads: loadEntry, FastState, Truncate, Compact).  Records are kept in a ring from the
 * snapshot/compaction point to the last index; durability is the driver's job (RF_OP_*).
 *
 * Invariants: indexes are contiguous (base+1 .. base+n); truncate never moves base forward;
 * compact never moves base backward; bytes equals the sum of the records' sizes.
 */
#include "raftd/raft_int.h"

#include <stdlib.h>
#include <string.h>

void rf_log_init(struct rf_log *l, uint64_t base)
{
    memset(l, 0, sizeof(*l));
    l->base = base;
}

static void rec_free(struct rf_rec *r)
{
    rf_entries_free(r->entries, r->n_entries);
    memset(r, 0, sizeof(*r));
}

static struct rf_rec *slot(const struct rf_log *l, uint64_t i)
{
    return &l->recs[(l->head + i) % l->cap];
}

void rf_log_free(struct rf_log *l)
{
    for (uint64_t i = 0; i < l->n; i++)
        rec_free(slot(l, i));
    free(l->recs);
    memset(l, 0, sizeof(*l));
}

uint64_t rf_log_first(const struct rf_log *l)
{
    return l->base + 1;
}

uint64_t rf_log_last(const struct rf_log *l)
{
    return l->base + l->n;
}

struct rf_rec *rf_log_get(const struct rf_log *l, uint64_t index)
{
    if (index <= l->base || index > l->base + l->n)
        return NULL;
    return slot(l, index - l->base - 1);
}

static void grow(struct rf_log *l)
{
    uint64_t ncap = l->cap ? l->cap * 2 : 64;
    struct rf_rec *nr = calloc(ncap, sizeof(*nr));
    if (!nr)
        abort();
    for (uint64_t i = 0; i < l->n; i++)
        nr[i] = *slot(l, i);
    free(l->recs);
    l->recs = nr;
    l->cap = ncap;
    l->head = 0;
}

void rf_log_append(struct rf_log *l, struct rf_rec *rec)
{
    if (l->n == l->cap)
        grow(l);
    *slot(l, l->n) = *rec;
    l->n++;
    l->bytes += rec->size;
    memset(rec, 0, sizeof(*rec));
}

void rf_log_truncate(struct rf_log *l, uint64_t index)
{
    if (index >= l->base + l->n)
        return;
    if (index < l->base) {
        /* Truncating below the compaction point empties the log (Go: WAL reset). */
        for (uint64_t i = 0; i < l->n; i++)
            rec_free(slot(l, i));
        l->n = 0;
        l->head = 0;
        l->bytes = 0;
        l->base = index;
        return;
    }
    uint64_t keep = index - l->base;
    for (uint64_t i = keep; i < l->n; i++) {
        l->bytes -= slot(l, i)->size;
        rec_free(slot(l, i));
    }
    l->n = keep;
    RF_ASSERT(rf_log_last(l) == index);
}

void rf_log_compact(struct rf_log *l, uint64_t index)
{
    /* Drop records < index.  Past the end, the log is empty and starts at index. */
    if (index <= l->base + 1)
        return;
    uint64_t drop = index - l->base - 1;
    if (drop > l->n)
        drop = l->n;
    for (uint64_t i = 0; i < drop; i++) {
        l->bytes -= slot(l, i)->size;
        rec_free(slot(l, i));
    }
    if (l->cap)
        l->head = (l->head + drop) % l->cap;
    l->n -= drop;
    if (l->n == 0) {
        l->head = 0;
        l->base = index - 1;
    } else {
        l->base += drop;
    }
    RF_ASSERT(l->n == 0 || l->base == index - 1);
}

void rf_rec_to_ae(const struct rf_rec *r, uint64_t index, struct rf_msg *ae)
{
    memset(ae, 0, sizeof(*ae));
    ae->type = RF_MSG_AE;
    ae->leader = r->leader;
    ae->term = r->term;
    ae->commit = r->commit;
    ae->pterm = r->pterm;
    ae->pindex = index - 1;
    ae->n_entries = r->n_entries;
    ae->entries = r->entries;
}

int rf_rec_from_ae(const struct rf_msg *ae, struct rf_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->term = ae->term;
    r->pterm = ae->pterm;
    r->commit = ae->commit;
    r->leader = ae->leader;
    r->n_entries = ae->n_entries;
    r->entries = rf_entries_dup(ae->entries, ae->n_entries);
    /* Size accounting like Go's fileStoreMsgSize: record overhead + encoded AE. */
    r->size = 22 + rf_ae_size(ae) - 20 + 8;
    return 0;
}
