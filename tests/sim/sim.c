/* tests/sim/sim.c: the simulator's event loop, node drivers and network.  See sim.h.
 * Mirrors Go's test harness in server/raft_helpers_test.go (createRaftGroup, stateAdder,
 * smLoop, restart, waitOnLeader, waitOnTotal) on top of a deterministic world.
 *
 * Invariants: events fire in (time, sequence) order; an event for an older incarnation of a
 * node is dropped; a ready batch's messages and committed entries are released only after
 * the simulated fsync completed; nothing reads wall-clock time or global randomness.
 */
#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { EV_TICK = 1, EV_MSG, EV_DISK };

struct sim_event {
    uint64_t at, seq;
    int type, node, from;
    uint64_t gen;
    uint8_t *buf;
    uint32_t len;
};

void sim_opts_default(struct sim_opts *o, uint64_t seed, int nodes)
{
    memset(o, 0, sizeof(*o));
    o->seed = seed;
    o->nodes = nodes;
    rf_config_defaults(&o->rc);
    o->tick_ms = 50;
    o->net_min_ms = 1;
    o->net_max_ms = 10;
    o->disk_min_ms = 1;
    o->disk_max_ms = 5;
    o->segment_bytes = 64 * 1024;
    o->torn_writes = true;
    o->campaign_first = true;
}

/* ---- event heap ---- */

static bool ev_less(const struct sim_event *a, const struct sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void ev_push(struct sim *s, struct sim_event ev)
{
    ev.seq = ++s->seq;
    if (s->hn == s->hcap) {
        s->hcap = s->hcap ? s->hcap * 2 : 256;
        s->heap = realloc(s->heap, s->hcap * sizeof(*s->heap));
        if (!s->heap)
            abort();
    }
    uint32_t i = s->hn++;
    s->heap[i] = ev;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!ev_less(&s->heap[i], &s->heap[p]))
            break;
        struct sim_event t = s->heap[i];
        s->heap[i] = s->heap[p];
        s->heap[p] = t;
        i = p;
    }
}

static struct sim_event ev_pop(struct sim *s)
{
    struct sim_event top = s->heap[0];
    s->heap[0] = s->heap[--s->hn];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->hn && ev_less(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->hn && ev_less(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        struct sim_event t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

static uint64_t rnd(struct sim *s, uint64_t bound)
{
    return sim_rand(&s->rng, bound);
}

static uint64_t rnd_range(struct sim *s, uint64_t lo, uint64_t hi)
{
    return hi > lo ? lo + rnd(s, hi - lo + 1) : lo;
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(s->failure, sizeof(s->failure), "seed %llu t=%llu: ",
                     (unsigned long long)s->o.seed, (unsigned long long)s->now);
    vsnprintf(s->failure + k, sizeof(s->failure) - (size_t)k, fmt, ap);
    va_end(ap);
}

/* ---- state machine (Go's stateAdder + a hash chain for the checker) ---- */

void sim_encode_delta(int64_t delta, uint8_t *out, uint32_t *len)
{
    /* Go's binary.PutVarint (zig-zag). */
    uint64_t ux = (uint64_t)delta << 1;
    if (delta < 0)
        ux = ~ux;
    uint32_t i = 0;
    while (ux >= 0x80) {
        out[i++] = (uint8_t)(ux | 0x80);
        ux >>= 7;
    }
    out[i++] = (uint8_t)ux;
    *len = i;
}

static bool decode_delta(const uint8_t *b, uint32_t len, int64_t *out)
{
    uint64_t x = 0;
    unsigned sh = 0;
    for (uint32_t i = 0; i < len && i < 10; i++) {
        x |= (uint64_t)(b[i] & 0x7f) << sh;
        if (b[i] < 0x80) {
            int64_t v = (int64_t)(x >> 1);
            if (x & 1)
                v = ~v;
            *out = v;
            return true;
        }
        sh += 7;
    }
    return false;
}

void sim_sm_encode(const struct sim_sm *sm, uint8_t out[32])
{
    memcpy(out, &sm->applied, 8);
    memcpy(out + 8, &sm->sum, 8);
    memcpy(out + 16, &sm->chain, 8);
    uint64_t magic = 0x534d534e41505348ull;
    memcpy(out + 24, &magic, 8);
}

bool sim_sm_decode(const uint8_t *b, uint32_t len, struct sim_sm *sm)
{
    uint64_t magic;
    if (len != 32)
        return false;
    memcpy(&magic, b + 24, 8);
    if (magic != 0x534d534e41505348ull)
        return false;
    memcpy(&sm->applied, b, 8);
    memcpy(&sm->sum, b + 8, 8);
    memcpy(&sm->chain, b + 16, 8);
    return true;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDull;
}

static void sm_apply(struct sim *s, struct sim_node *sn, const struct rf_committed *ce)
{
    if (ce->is_nil || ce->index == 0)
        return; /* end of replay/catchup, or the EntryCatchup signal */
    bool snap = false;
    for (uint32_t k = 0; k < ce->n_entries; k++) {
        const struct rf_entry *e = &ce->entries[k];
        if (e->type == RF_ENTRY_SNAPSHOT) {
            struct sim_sm restored;
            if (!sim_sm_decode(e->data, e->len, &restored)) {
                sim_fail(s, "node %d: undecodable snapshot at %llu", sn->idx,
                         (unsigned long long)ce->index);
                return;
            }
            if (restored.applied != ce->index) {
                sim_fail(s, "node %d: snapshot for %llu delivered at %llu", sn->idx,
                         (unsigned long long)restored.applied, (unsigned long long)ce->index);
                return;
            }
            sn->sm = restored;
            sn->sm.last_snap = ce->index;
            snap = true;
        }
    }
    if (!snap) {
        if (ce->index != sn->sm.applied + 1) {
            sim_fail(s, "node %d: apply gap, applied %llu then %llu", sn->idx,
                     (unsigned long long)sn->sm.applied, (unsigned long long)ce->index);
            return;
        }
        uint64_t h = mix(sn->sm.chain, ce->index);
        for (uint32_t k = 0; k < ce->n_entries; k++) {
            const struct rf_entry *e = &ce->entries[k];
            h = mix(h, e->type);
            h = mix(h, rf_checksum(e->data, e->len));
            int64_t d;
            if (e->type == RF_ENTRY_NORMAL && decode_delta(e->data, e->len, &d))
                sn->sm.sum += d;
        }
        sn->sm.chain = h;
        sn->sm.applied = ce->index;
    }
    s->st.applied++;
    sim_check_apply(s, sn->idx, ce);
}

/* ---- network ---- */

static bool link_ok(struct sim *s, int from, int to)
{
    return s->group[from] == s->group[to] && !s->isolated_oneway[from][to];
}

static void deliver_to(struct sim *s, int from, int to, const uint8_t *buf, uint32_t len,
                       const struct rf_msg *m)
{
    if (s->filter && !s->filter(s, from, to, m, s->filter_arg)) {
        s->st.msgs_dropped++;
        return;
    }
    if (!link_ok(s, from, to) || (s->o.loss_ppm && rnd(s, 1000000) < s->o.loss_ppm)) {
        s->st.msgs_dropped++;
        return;
    }
    int copies = (s->o.dup_ppm && rnd(s, 1000000) < s->o.dup_ppm) ? 2 : 1;
    s->st.msgs_dup += (uint64_t)(copies - 1);
    for (int c = 0; c < copies; c++) {
        struct sim_event ev = {.type = EV_MSG, .node = to, .from = from, .len = len};
        ev.at = s->now + rnd_range(s, s->o.net_min_ms, s->o.net_max_ms);
        /* raftd links are TCP: FIFO, unless this message is chosen to overtake. */
        if (!(s->o.reorder_ppm && rnd(s, 1000000) < s->o.reorder_ppm)) {
            if (ev.at < s->link_last[from][to])
                ev.at = s->link_last[from][to];
            s->link_last[from][to] = ev.at;
        }
        ev.buf = malloc(len);
        if (!ev.buf)
            abort();
        memcpy(ev.buf, buf, len);
        ev_push(s, ev);
    }
}

static void net_send(struct sim *s, int from, const struct rf_msg *m)
{
    uint8_t *buf;
    uint32_t len;
    if (rf_msg_encode(m, &buf, &len) < 0) {
        sim_fail(s, "node %d: unencodable message type %d", from, m->type);
        return;
    }
    s->st.msgs_sent++;
    if (rf_id_none(m->to)) {
        /* A NATS subject: every other node of the group's transport gets it. */
        for (int j = 0; j < s->n; j++)
            if (j != from)
                deliver_to(s, from, j, buf, len, m);
    } else {
        int j = sim_index_of(s, m->to);
        if (j >= 0 && j != from)
            deliver_to(s, from, j, buf, len, m);
    }
    free(buf);
    if (s->tap) /* after routing, like Go's raftTransportHub after-message hook */
        s->tap(s, from, m, s->tap_arg);
}

/* ---- node driver ---- */

int sim_index_of(struct sim *s, rf_id id)
{
    for (int i = 0; i < s->n; i++)
        if (rf_id_eq(s->nodes[i].id, id))
            return i;
    return -1;
}

static void complete(struct sim *s, int i);

void sim_pump(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    while (sn->up && !sn->inflight) {
        if (!rf_ready(sn->n, &sn->rd))
            return;
        for (uint32_t k = 0; k < sn->rd.n_ops; k++)
            if (sn->rd.ops[k].type == RF_OP_APPEND)
                sim_check_append(s, i, &sn->rd.ops[k]);
        int rc = rf_ls_apply(sn->ls, sn->rd.ops, sn->rd.n_ops);
        if (rc < 0) {
            rf_storage_error(sn->n, rc);
            rf_ready_free(&sn->rd);
            sim_crash(s, i); /* Go shuts the node down on a write error */
            return;
        }
        sn->inflight = true;
        if (sn->rd.n_ops) {
            struct sim_event ev = {.type = EV_DISK, .node = i, .gen = sn->gen};
            ev.at = s->now + rnd_range(s, s->o.disk_min_ms, s->o.disk_max_ms);
            ev_push(s, ev);
            return;
        }
        complete(s, i);
    }
}

static void complete(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    if (sn->rd.n_ops && rf_ls_sync(sn->ls) < 0) {
        rf_storage_error(sn->n, -EIO);
        rf_ready_free(&sn->rd);
        sn->inflight = false;
        sim_crash(s, i);
        return;
    }
    for (uint32_t k = 0; k < sn->rd.n_msgs; k++)
        net_send(s, i, &sn->rd.msgs[k]);
    if (sn->rd.lead_change.valid) {
        sn->lead_changes++;
        sn->last_lead_change = sn->rd.lead_change.is_leader;
    }
    struct rf_ready rd = sn->rd;
    memset(&sn->rd, 0, sizeof(sn->rd));
    for (uint32_t k = 0; k < rd.n_committed && sn->up; k++) {
        sm_apply(s, sn, &rd.committed[k]);
        if (rd.committed[k].index && !rd.committed[k].is_nil) {
            uint64_t bytes;
            rf_applied(sn->n, rd.committed[k].index, &bytes);
            uint32_t every = s->o.snapshot_every;
            if (every && sn->sm.applied >= sn->sm.last_snap + every &&
                sn->sm.applied == sn->n->applied) {
                uint8_t b[32];
                sim_sm_encode(&sn->sm, b);
                if (rf_install_snapshot(sn->n, b, sizeof(b), false) == 0) {
                    sn->sm.last_snap = sn->sm.applied;
                    s->st.snapshots++;
                }
            }
        }
    }
    rf_advance(sn->n, &rd);
    sn->inflight = false;
    sim_pump(s, i);
}

/* Go's bootstrapRaftNode with serverPeerNames: the initial members, plus the node itself
 * when it is a server added later. */
static void boot_peers(struct sim *s, struct rf_peerstate *ps, rf_id *ids, int i)
{
    int members = s->o.nodes;
    for (int j = 0; j < members; j++)
        ids[j] = s->nodes[j].id;
    if (i >= members)
        ids[members++] = s->nodes[i].id;
    ps->n_peers = (uint32_t)members;
    ps->peers = ids;
    ps->cluster_size = (uint32_t)members;
    ps->ext = 0;
}

static void node_start(struct sim *s, int i, bool fresh_boot)
{
    struct sim_node *sn = &s->nodes[i];
    struct rf_recovered rec;
    struct rf_ls_config lc = {.segment_bytes = s->o.segment_bytes};
    sim_disk_as_rf(sn->disk, &sn->rdisk);
    if (rf_ls_open(&sn->rdisk, &lc, &sn->ls, &rec) < 0) {
        sim_fail(s, "node %d: log store open failed", i);
        return;
    }
    struct rf_config rc = s->o.rc;
    rc.id = sn->id;
    rc.seed = s->o.seed * 1000003ull + (uint64_t)i * 7919ull + sn->gen * 104729ull;
    rc.recovering = rec.has_meta;
    rf_id ids[SIM_MAX_NODES];
    struct rf_peerstate boot;
    boot_peers(s, &boot, ids, i);
    (void)fresh_boot;
    if (rf_node_create(&rc, &boot, &rec, s->now, &sn->n) < 0) {
        sim_fail(s, "node %d: create failed", i);
        rf_recovered_free(&rec);
        return;
    }
    rf_recovered_free(&rec);
    if (sn->n->repair)
        s->st.repairs_seen++;
    if (sn->observer)
        rf_set_observer(sn->n, true);
    memset(&sn->sm, 0, sizeof(sn->sm));
    sn->up = true;
    sn->inflight = false;
    sn->was_leader = false;
    sn->pending_corruption = false;
    struct sim_event ev = {.type = EV_TICK, .node = i, .gen = sn->gen,
                           .at = s->now + 1 + rnd(s, s->o.tick_ms)};
    ev_push(s, ev);
    sim_pump(s, i);
}

struct sim *sim_new(const struct sim_opts *o)
{
    struct sim *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->o = *o;
    s->rng = o->seed ^ 0xD1B54A32D192ED03ull;
    s->n = o->nodes + o->spares;
    if (s->n > SIM_MAX_NODES)
        abort();
    s->now = 1000;
    sim_check_init(s);
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        sn->idx = i;
        char name[16];
        snprintf(name, sizeof(name), "N%07d", i);
        sn->id = rf_id_from_str(name);
        sn->disk = sim_disk_new();
    }
    for (int i = 0; i < o->nodes; i++)
        node_start(s, i, true);
    if (o->campaign_first && o->nodes > 0)
        RF_IGNORE(rf_campaign_immediately(s->nodes[0].n));
    return s;
}

void sim_start_spare(struct sim *s, int i)
{
    if (s->nodes[i].up)
        return;
    /* A new server: empty disk, knows the group's initial peers like Go's bootstrap. */
    sim_disk_wipe(s->nodes[i].disk);
    s->nodes[i].removed = false;
    s->nodes[i].in_repair = false;
    node_start(s, i, true);
}

void sim_free(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (sn->inflight)
            rf_ready_free(&sn->rd);
        rf_node_destroy(sn->n);
        rf_ls_close(sn->ls);
        sim_disk_free(sn->disk);
        for (uint32_t k = 0; k < sn->nheld; k++)
            free(sn->held[k].buf);
        free(sn->held);
    }
    for (uint32_t k = 0; k < s->hn; k++)
        free(s->heap[k].buf);
    free(s->heap);
    sim_check_free(s);
    free(s);
}

void sim_crash(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    if (!sn->up)
        return;
    if (sn->inflight)
        rf_ready_free(&sn->rd);
    sn->inflight = false;
    rf_node_destroy(sn->n);
    sn->n = NULL;
    rf_ls_close(sn->ls);
    sn->ls = NULL;
    sim_disk_crash(sn->disk, &s->rng, s->o.torn_writes);
    sn->up = false;
    sn->gen++;
    sn->crashes++;
    s->st.crashes++;
}

void sim_restart(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    if (sn->up)
        return;
    s->st.restarts++;
    node_start(s, i, false);
}

const char *sim_corrupt(struct sim *s, int i, const char *prefix)
{
    struct sim_node *sn = &s->nodes[i];
    const char *what = sim_disk_corrupt(sn->disk, &s->rng, prefix);
    if (what) {
        sn->pending_corruption = true;
        s->st.corruptions++;
    }
    return what;
}

struct rf_node *sim_raft(struct sim *s, int i)
{
    return s->nodes[i].up ? s->nodes[i].n : NULL;
}

/* ---- the event loop ---- */

void sim_pause(struct sim *s, int i)
{
    s->nodes[i].paused = true;
}

void sim_resume(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    sn->paused = false;
    for (uint32_t k = 0; k < sn->nheld; k++) {
        sn->held[k].at = s->now;
        ev_push(s, sn->held[k]);
    }
    sn->nheld = 0;
}

static void handle(struct sim *s, struct sim_event *ev)
{
    struct sim_node *sn = &s->nodes[ev->node];
    if (sn->paused) {
        if (sn->nheld == sn->capheld) {
            sn->capheld = sn->capheld ? sn->capheld * 2 : 64;
            sn->held = realloc(sn->held, sn->capheld * sizeof(*sn->held));
            if (!sn->held)
                abort();
        }
        sn->held[sn->nheld++] = *ev;
        ev->buf = NULL; /* now owned by the held copy */
        return;
    }
    switch (ev->type) {
    case EV_TICK:
        if (!sn->up || ev->gen != sn->gen)
            break;
        rf_tick(sn->n, s->now);
        sim_pump(s, ev->node);
        ev->at = s->now + s->o.tick_ms;
        ev_push(s, *ev);
        break;
    case EV_MSG: {
        if (!sn->up)
            break;
        struct rf_msg m;
        if (rf_msg_decode(ev->buf, ev->len, &m) < 0) {
            sim_fail(s, "node %d: undecodable message from %d", ev->node, ev->from);
            break;
        }
        rf_tick(sn->n, s->now);
        rf_step(sn->n, &m);
        rf_msg_free(&m);
        sim_pump(s, ev->node);
        break;
    }
    case EV_DISK:
        if (!sn->up || ev->gen != sn->gen || !sn->inflight)
            break;
        complete(s, ev->node);
        break;
    }
}

static bool step(struct sim *s, uint64_t until)
{
    if (s->hn == 0 || s->heap[0].at > until)
        return false;
    struct sim_event ev = ev_pop(s);
    if (ev.at > s->now)
        s->now = ev.at;
    s->st.events++;
    handle(s, &ev);
    free(ev.buf);
    sim_check_step(s);
    return true;
}

void sim_settle(struct sim *s)
{
    while (!s->failed && step(s, s->now))
        ;
}

void sim_run_for(struct sim *s, uint64_t ms)
{
    uint64_t until = s->now + ms;
    while (!s->failed && step(s, until))
        ;
    if (s->now < until)
        s->now = until;
}

bool sim_run_until(struct sim *s, bool (*cond)(struct sim *, void *), void *arg,
                   uint64_t max_ms)
{
    uint64_t until = s->now + max_ms;
    while (!s->failed) {
        if (cond(s, arg))
            return true;
        if (!step(s, until))
            break;
    }
    return !s->failed && cond(s, arg);
}

int sim_leader(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && rf_leader(s->nodes[i].n))
            return i;
    return -1;
}

int sim_state_leader(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && rf_state(s->nodes[i].n) == RF_LEADER)
            return i;
    return -1;
}

static bool have_leader(struct sim *s, void *arg)
{
    (void)arg;
    return sim_leader(s) >= 0;
}

int sim_wait_leader(struct sim *s, uint64_t max_ms)
{
    sim_run_until(s, have_leader, NULL, max_ms);
    return sim_leader(s);
}

int sim_non_leader(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && !rf_leader(s->nodes[i].n) &&
            rf_peer_find(s->nodes[i].n, s->nodes[i].id))
            return i;
    return -1;
}

void sim_partition(struct sim *s, const uint8_t *group)
{
    memcpy(s->group, group, sizeof(s->group));
    s->st.partitions++;
}

void sim_isolate(struct sim *s, int i)
{
    uint8_t g[SIM_MAX_NODES] = {0};
    g[i] = 1;
    sim_partition(s, g);
}

void sim_heal(struct sim *s)
{
    memset(s->group, 0, sizeof(s->group));
    memset(s->isolated_oneway, 0, sizeof(s->isolated_oneway));
}

int sim_snapshot(struct sim *s, int i)
{
    struct sim_node *sn = &s->nodes[i];
    if (!sn->up)
        return -ENOTCONN;
    uint8_t b[32];
    sim_sm_encode(&sn->sm, b);
    int rc = rf_install_snapshot(sn->n, b, sizeof(b), false);
    if (rc == 0) {
        sn->sm.last_snap = sn->sm.applied;
        s->st.snapshots++;
    }
    sim_pump(s, i);
    return rc;
}

void sim_inject(struct sim *s, int i, const struct rf_msg *m)
{
    if (!s->nodes[i].up)
        return;
    rf_tick(s->nodes[i].n, s->now);
    rf_step(s->nodes[i].n, m);
    sim_pump(s, i);
}

bool sim_is_member(struct sim *s, int i)
{
    if (!s->nodes[i].up)
        return false;
    int l = sim_state_leader(s);
    struct rf_node *ref = l >= 0 ? s->nodes[l].n : s->nodes[i].n;
    return rf_peer_find(ref, s->nodes[i].id) != NULL;
}

int sim_propose(struct sim *s, int i, int64_t delta)
{
    if (!s->nodes[i].up)
        return -ENOTCONN;
    uint8_t b[16];
    uint32_t len;
    sim_encode_delta(delta, b, &len);
    int rc = rf_forward_proposal(s->nodes[i].n, b, len);
    s->st.proposals++;
    sim_pump(s, i);
    return rc;
}

struct total_arg {
    int64_t total;
};

static bool totals_ok(struct sim *s, void *arg)
{
    struct total_arg *a = arg;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (!sim_is_member(s, i))
            continue;
        if (sn->sm.sum != a->total)
            return false;
    }
    return true;
}

bool sim_wait_total(struct sim *s, int64_t total, uint64_t max_ms)
{
    struct total_arg a = {total};
    return sim_run_until(s, totals_ok, &a, max_ms);
}

static bool applied_ok(struct sim *s, void *arg)
{
    uint64_t idx = *(uint64_t *)arg;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (sim_is_member(s, i) && sn->sm.applied < idx)
            return false;
    }
    return true;
}

bool sim_wait_applied_all(struct sim *s, uint64_t index, uint64_t max_ms)
{
    return sim_run_until(s, applied_ok, &index, max_ms);
}
