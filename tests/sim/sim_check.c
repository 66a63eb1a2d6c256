/* tests/sim/sim_check.c: the simulator's safety checker.  No Go counterpart: these are the
 * RAFT properties (Ongaro's thesis, fig. 3.2) checked after every simulated event, the way
 * TigerBeetle's VOPR checks its replicas:
 *   election safety      at most one node reaches LEADER in any term;
 *   log matching         two logs holding the same (index, term) hold the same record;
 *   leader completeness  a node that becomes leader holds every entry applied anywhere;
 *   state machine safety the hash chain after index i is identical on every node;
 *   no gaps              a state machine applies index i+1 right after i (or a snapshot);
 *   durability           a committed index never changes term, and after healing every
 *                        live member converges on the same chain at or past the highest
 *                        index ever applied (committed entries are never lost).
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

struct kv {
    uint64_t k1, k2, v;
    bool used;
};

struct map {
    struct kv *t;
    uint64_t cap, n;
};

struct sim_check {
    struct map leaders; /* term -> node+1 */
    struct map records; /* (index, term) -> record hash */
    uint64_t *cterm, *chain;
    uint8_t *have;
    uint64_t cap, max_committed;
};

static uint64_t hkey(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    return h * 0xBF58476D1CE4E5B9ull;
}

static void map_grow(struct map *m);

static struct kv *map_slot(struct map *m, uint64_t a, uint64_t b, bool insert)
{
    if (insert && (m->n + 1) * 2 > m->cap)
        map_grow(m);
    if (!m->cap)
        return NULL;
    uint64_t i = hkey(a, b) & (m->cap - 1);
    for (;;) {
        struct kv *e = &m->t[i];
        if (!e->used) {
            if (!insert)
                return NULL;
            e->used = true;
            e->k1 = a;
            e->k2 = b;
            m->n++;
            return e;
        }
        if (e->k1 == a && e->k2 == b)
            return e;
        i = (i + 1) & (m->cap - 1);
    }
}

static void map_grow(struct map *m)
{
    struct map nm = {.cap = m->cap ? m->cap * 2 : 1024};
    nm.t = calloc(nm.cap, sizeof(struct kv));
    if (!nm.t)
        abort();
    for (uint64_t i = 0; i < m->cap; i++)
        if (m->t[i].used) {
            struct kv *e = map_slot(&nm, m->t[i].k1, m->t[i].k2, true);
            e->v = m->t[i].v;
        }
    free(m->t);
    *m = nm;
}

void sim_check_init(struct sim *s)
{
    s->chk = calloc(1, sizeof(struct sim_check));
    if (!s->chk)
        abort();
}

void sim_check_free(struct sim *s)
{
    struct sim_check *c = s->chk;
    free(c->leaders.t);
    free(c->records.t);
    free(c->cterm);
    free(c->chain);
    free(c->have);
    free(c);
}

static void reserve(struct sim_check *c, uint64_t idx)
{
    if (idx < c->cap)
        return;
    uint64_t nc = c->cap ? c->cap : 1024;
    while (nc <= idx)
        nc *= 2;
    c->cterm = realloc(c->cterm, nc * sizeof(uint64_t));
    c->chain = realloc(c->chain, nc * sizeof(uint64_t));
    c->have = realloc(c->have, nc);
    if (!c->cterm || !c->chain || !c->have)
        abort();
    memset(c->have + c->cap, 0, nc - c->cap);
    c->cap = nc;
}

uint64_t sim_check_max_committed(struct sim *s)
{
    return s->chk->max_committed;
}

void sim_check_append(struct sim *s, int i, const struct rf_op *op)
{
    uint64_t h = rf_checksum(op->buf, op->len);
    struct kv *e = map_slot(&s->chk->records, op->index, op->term, true);
    if (e->v == 0) {
        e->v = h | 1;
    } else if (e->v != (h | 1)) {
        struct rf_msg ae;
        char extra[160] = "";
        if (rf_ae_decode(op->buf, op->len, &ae) == 0) {
            snprintf(extra, sizeof(extra), " (leader %.8s commit %llu pterm %llu pindex %llu n=%u)",
                     ae.leader.b, (unsigned long long)ae.commit, (unsigned long long)ae.pterm,
                     (unsigned long long)ae.pindex, ae.n_entries);
            rf_msg_free(&ae);
        }
        for (int j = 0; j < s->n; j++) {
            struct rf_rec *r = s->nodes[j].up ? rf_log_get(&s->nodes[j].n->log, op->index) : NULL;
            if (r && getenv("RF_DEBUG"))
                fprintf(stderr, "node %d rec %llu: term %llu commit %llu pterm %llu leader %.8s n=%u\n",
                        j, (unsigned long long)op->index, (unsigned long long)r->term,
                        (unsigned long long)r->commit, (unsigned long long)r->pterm, r->leader.b,
                        r->n_entries);
        }
        sim_fail(s, "log matching: node %d stored a different record at index %llu term %llu%s",
                 i, (unsigned long long)op->index, (unsigned long long)op->term, extra);
    }
}

void sim_check_apply(struct sim *s, int i, const struct rf_committed *ce)
{
    struct sim_check *c = s->chk;
    struct sim_node *sn = &s->nodes[i];
    uint64_t idx = ce->index;
    reserve(c, idx);
    /* 1: chain known, 2: committed term known */
    if (c->have[idx] & 1) {
        if (c->chain[idx] != sn->sm.chain)
            sim_fail(s, "state machine safety: node %d diverged at index %llu", i,
                     (unsigned long long)idx);
    } else {
        c->chain[idx] = sn->sm.chain;
        c->have[idx] |= 1;
    }
    struct rf_rec *r = sn->n ? rf_log_get(&sn->n->log, idx) : NULL;
    if (r) {
        if (c->have[idx] & 2) {
            if (c->cterm[idx] != r->term)
                sim_fail(s, "durability: committed index %llu has term %llu on node %d, "
                            "was %llu",
                         (unsigned long long)idx, (unsigned long long)r->term, i,
                         (unsigned long long)c->cterm[idx]);
        } else {
            c->cterm[idx] = r->term;
            c->have[idx] |= 2;
        }
    }
    if (idx > c->max_committed)
        c->max_committed = idx;
}

static void check_completeness(struct sim *s, int i)
{
    struct sim_check *c = s->chk;
    struct rf_node *n = s->nodes[i].n;
    for (uint64_t idx = n->log.base + 1; idx <= c->max_committed; idx++) {
        if (idx >= c->cap || !(c->have[idx] & 2))
            continue;
        struct rf_rec *r = rf_log_get(&n->log, idx);
        if (!r || r->term != c->cterm[idx]) {
            sim_fail(s, "leader completeness: node %d leads term %llu without committed "
                        "index %llu (term %llu), its log ends at %llu",
                     i, (unsigned long long)n->term, (unsigned long long)idx,
                     (unsigned long long)c->cterm[idx], (unsigned long long)n->pindex);
            return;
        }
    }
    if (n->log.base > c->max_committed)
        return;
}

void sim_check_step(struct sim *s)
{
    for (int i = 0; i < s->n && !s->failed; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (!sn->up)
            continue;
        struct rf_node *n = sn->n;
        bool lead = rf_state(n) == RF_LEADER;
        if (n->term > s->st.max_term)
            s->st.max_term = n->term;
        if (lead) {
            struct kv *e = map_slot(&s->chk->leaders, n->term, 0, true);
            if (e->v == 0) {
                e->v = (uint64_t)i + 1;
                s->st.elections++;
            } else if (e->v != (uint64_t)i + 1) {
                sim_fail(s, "election safety: nodes %d and %d both lead term %llu",
                         (int)e->v - 1, i, (unsigned long long)n->term);
            }
            if (!sn->was_leader)
                check_completeness(s, i);
        }
        sn->was_leader = lead;
        sn->in_repair = n->repair;
        RF_ASSERT(n->applied <= n->processed && n->processed <= n->commit);
    }
}

bool sim_check_converged(struct sim *s, char *why, size_t len)
{
    int ref = -1;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (!sim_is_member(s, i))
            continue;
        if (sn->sm.applied < s->chk->max_committed) {
            snprintf(why, len, "node %d applied %llu < committed %llu", i,
                     (unsigned long long)sn->sm.applied,
                     (unsigned long long)s->chk->max_committed);
            return false;
        }
        if (ref < 0) {
            ref = i;
            continue;
        }
        struct sim_node *r = &s->nodes[ref];
        if (r->sm.applied != sn->sm.applied || r->sm.chain != sn->sm.chain ||
            r->sm.sum != sn->sm.sum) {
            snprintf(why, len, "node %d (applied %llu) and %d (applied %llu) differ", ref,
                     (unsigned long long)r->sm.applied, i, (unsigned long long)sn->sm.applied);
            return false;
        }
    }
    if (ref < 0) {
        snprintf(why, len, "no live member");
        return false;
    }
    return true;
}
