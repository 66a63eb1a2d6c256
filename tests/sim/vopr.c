/* tests/sim/vopr.c: raftd's VOPR (TigerBeetle's Viewstamped Operation Replicator, for RAFT):
 * runs random fault scenarios against the simulator, one seed each, checking safety after
 * every event (sim_check.c) and liveness once the faults heal.
 *
 *   raft_vopr                 the bounded default run: 1000 seeds (meson test, suite 'sim')
 *   raft_vopr --seed S        reproduce one seed, with stats
 *   raft_vopr --seeds N [--start S]   run N seeds
 *   raft_vopr --soak [--seeds N]      long scenarios (default 500 seeds), not in meson test
 *   -v                        verbose (also RF_DEBUG=1 for the core's log)
 *
 * Scenario knobs are drawn from the seed: cluster size, network loss/duplication/delay,
 * partitions, crashes with torn writes, disk latency, corruption of synced data (never on
 * more than f nodes at once), snapshots, chunked snapshot catchups, leadership transfers,
 * observers and membership changes.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool verbose;

static int members_up(struct sim *s)
{
    int c = 0;
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up)
            c++;
    return c;
}

static int faulty(struct sim *s)
{
    int c = 0;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (sn->pending_corruption || sn->in_repair)
            c++;
    }
    return c;
}

/* A node whose own membership change is in flight doesn't campaign (Go), so together with a
 * damaged node it can leave no electable majority: safe, but beyond what f tolerates.  The
 * scenario keeps the two faults apart. */
static bool membership_in_flight(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && s->nodes[i].n->memb.active)
            return true;
    return false;
}

static int pick(struct sim *s, bool want_up)
{
    int c[SIM_MAX_NODES], k = 0;
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up == want_up && !s->nodes[i].removed &&
            (want_up || i < s->o.nodes || s->nodes[i].crashes))
            c[k++] = i;
    return k ? c[sim_rand(&s->rng, (uint64_t)k)] : -1;
}

static void random_partition(struct sim *s)
{
    uint8_t g[SIM_MAX_NODES];
    uint64_t mode = sim_rand(&s->rng, 3);
    for (int i = 0; i < s->n; i++)
        g[i] = mode == 0 ? 0 : (uint8_t)sim_rand(&s->rng, 2);
    if (mode == 0)
        g[sim_rand(&s->rng, (uint64_t)s->n)] = 1; /* isolate one node */
    sim_partition(s, g);
}

struct scen {
    uint64_t fault_ms, heal_ms;
    bool corruption, membership, observers, transfers;
    int f;
};

/* Like JetStream does for its groups, stop a node once the leader's committed membership
 * no longer has it; it may come back later as a new server with an empty disk. */
static void reap_removed(struct sim *s)
{
    int l = sim_leader(s);
    if (l < 0 || s->nodes[l].n->memb.active)
        return;
    struct rf_node *ln = s->nodes[l].n;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (i == l || rf_peer_find(ln, sn->id) || sn->removed)
            continue;
        if (i >= s->o.nodes && !sn->crashes && !sn->up)
            continue; /* a spare never started */
        if (!rf_removed_find(ln, sn->id, NULL))
            continue; /* never a member (a spare not yet added) */
        if (verbose)
            printf("  t=%llu reaping removed node %d\n", (unsigned long long)s->now, i);
        sim_crash(s, i);
        sn->removed = true;
    }
}

static void fault_step(struct sim *s, struct scen *sc)
{
    reap_removed(s);
    uint64_t r = sim_rand(&s->rng, 100);
    int i;
    if (r < 45) { /* client traffic */
        int burst = 1 + (int)sim_rand(&s->rng, 8);
        for (int k = 0; k < burst; k++)
            if ((i = pick(s, true)) >= 0)
                (void)sim_propose(s, i, (int64_t)sim_rand(&s->rng, 200) - 100);
    } else if (r < 55) {
        if ((i = pick(s, true)) >= 0 && members_up(s) > 1)
            sim_crash(s, i);
    } else if (r < 68) {
        if ((i = pick(s, false)) >= 0)
            sim_restart(s, i);
    } else if (r < 74) {
        random_partition(s);
    } else if (r < 80) {
        sim_heal(s);
    } else if (r < 85) {
        if (sc->corruption && (i = pick(s, false)) >= 0 && faulty(s) < sc->f &&
            !s->nodes[i].pending_corruption && !membership_in_flight(s)) {
            static const char *what[] = {"seg.", "snap.", "meta.a", "meta.b", NULL};
            const char *w = what[sim_rand(&s->rng, 5)];
            const char *hit = sim_corrupt(s, i, w);
            if (verbose && hit)
                printf("  t=%llu corrupt node %d %s\n", (unsigned long long)s->now, i, hit);
        }
    } else if (r < 90) {
        int l = sim_state_leader(s);
        if (sc->transfers && l >= 0) {
            int p = pick(s, true);
            rf_id pid = s->nodes[p].id;
            RF_IGNORE(rf_step_down(s->nodes[l].n, sim_rand(&s->rng, 2) ? &pid : NULL));
            sim_pump(s, l);
        }
    } else if (r < 94) {
        int l = sim_leader(s);
        if (sc->membership && l >= 0 && faulty(s) == 0) {
            struct rf_node *ln = s->nodes[l].n;
            if (ln->peers.n > 3 && sim_rand(&s->rng, 2)) {
                rf_id victim = ln->peers.v[sim_rand(&s->rng, ln->peers.n)].id;
                RF_IGNORE(rf_propose_remove_peer(ln, victim));
                sim_pump(s, l);
            } else {
                /* A new server joins: the leader proposes it once it answers (Go). */
                for (int k = 0; k < s->n; k++)
                    if (!s->nodes[k].up && !rf_peer_find(ln, s->nodes[k].id) &&
                        (s->nodes[k].removed || (k >= s->o.nodes && !s->nodes[k].crashes))) {
                        sim_start_spare(s, k);
                        break;
                    }
            }
        }
    } else if (r < 97) {
        if (sc->observers && (i = pick(s, true)) >= 0) {
            bool o = sim_rand(&s->rng, 3) == 0;
            s->nodes[i].observer = o;
            rf_set_observer(s->nodes[i].n, o);
            sim_pump(s, i);
        }
    } else {
        int l = sim_state_leader(s);
        if (l >= 0)
            RF_IGNORE(rf_campaign(s->nodes[sim_rand(&s->rng, 2) ? l : pick(s, true)].n));
    }
}

static bool run_seed(uint64_t seed, bool soak, bool stats)
{
    uint64_t rng = seed * 0x2545F4914F6CDD1Dull + 1;
    struct sim_opts o;
    int nodes = sim_rand(&rng, 3) == 0 ? 5 : 3;
    sim_opts_default(&o, seed, nodes);
    o.spares = (int)sim_rand(&rng, 2);
    o.net_min_ms = 1;
    o.net_max_ms = 2 + (uint32_t)sim_rand(&rng, 150);
    o.disk_min_ms = (uint32_t)sim_rand(&rng, 2);
    o.disk_max_ms = o.disk_min_ms + (uint32_t)sim_rand(&rng, 20);
    o.loss_ppm = (uint32_t)sim_rand(&rng, 4) == 0 ? 0 : (uint32_t)sim_rand(&rng, 60000);
    o.dup_ppm = (uint32_t)sim_rand(&rng, 20000);
    o.reorder_ppm = sim_rand(&rng, 3) == 0 ? (uint32_t)sim_rand(&rng, 100000) : 0;
    uint32_t snaps[] = {0, 3, 10, 40};
    o.snapshot_every = snaps[sim_rand(&rng, 4)];
    o.segment_bytes = 512 + sim_rand(&rng, 16384);
    o.rc.snap_chunk_bytes = 8 + (uint32_t)sim_rand(&rng, 64);
    o.rc.catchup_max_outstanding = 64 + (uint32_t)sim_rand(&rng, 4096);
    o.rc.max_batch_entries = 1 + (uint32_t)sim_rand(&rng, 16);
    o.rc.prevote = sim_rand(&rng, 5) != 0;
    o.torn_writes = true;
    struct scen sc = {.fault_ms = soak ? 600000 : 40000 + sim_rand(&rng, 40000),
                      .heal_ms = 120000,
                      .corruption = sim_rand(&rng, 3) != 0,
                      .membership = sim_rand(&rng, 3) == 0,
                      .observers = sim_rand(&rng, 4) == 0,
                      .transfers = sim_rand(&rng, 2) == 0,
                      .f = 0};
    sc.f = sc.membership ? 1 : (nodes - 1) / 2; /* membership may shrink the group to 3 */
    /* A node whose own membership change is uncommitted doesn't campaign (Go); next to a
     * damaged node that can leave no electable majority (safe, not live), even when the change
     * sits in the log of a node that was down when the damage was injected.  One or the other
     * per seed. */
    if (sc.corruption && sc.membership)
        sc.corruption = sim_rand(&rng, 2) == 0, sc.membership = !sc.corruption;
    struct sim *s = sim_new(&o);
    uint64_t end = s->now + sc.fault_ms;
    while (!s->failed && s->now < end) {
        sim_run_for(s, 1 + sim_rand(&s->rng, 1500));
        fault_step(s, &sc);
    }
    /* Heal: no more faults, everyone back (except deleted ones), no observers. */
    if (!s->failed) {
        sim_heal(s);
        s->o.loss_ppm = s->o.dup_ppm = s->o.reorder_ppm = 0;
        for (int i = 0; i < s->n; i++) {
            if (!s->nodes[i].up && !s->nodes[i].removed && (i < o.nodes || s->nodes[i].crashes))
                sim_restart(s, i);
            if (s->nodes[i].up && s->nodes[i].observer) {
                s->nodes[i].observer = false;
                rf_set_observer(s->nodes[i].n, false);
            }
        }
    }
    bool ok = !s->failed;
    char why[600] = "";
    if (ok) {
        int l = sim_wait_leader(s, sc.heal_ms);
        if (l < 0) {
            ok = false;
            snprintf(why, sizeof(why), "liveness: no leader %llu ms after healing",
                     (unsigned long long)sc.heal_ms);
        } else {
            (void)sim_propose(s, l, 1);
            uint64_t idx = s->nodes[l].n->pindex + 1;
            sim_run_for(s, 100);
            uint64_t deadline = s->now + sc.heal_ms;
            while (!s->failed && s->now < deadline) {
                if (sim_wait_applied_all(s, idx, 1000) && sim_check_converged(s, why, sizeof(why)))
                    break;
                sim_run_for(s, 500);
                if ((l = sim_leader(s)) >= 0 && s->nodes[l].n->commit < idx) {
                    (void)sim_propose(s, l, 1);
                    idx = s->nodes[l].n->pindex + 1;
                }
            }
            if (!s->failed && !sim_check_converged(s, why, sizeof(why)))
                ok = false;
        }
    }
    if (s->failed) {
        ok = false;
        snprintf(why, sizeof(why), "%s", s->failure);
    }
    if (!ok) {
        printf("FAIL seed %llu: %s\n  reproduce: raft_vopr --seed %llu\n",
               (unsigned long long)seed, why, (unsigned long long)seed);
    }
    if (!ok) {
        for (int i = 0; i < s->n; i++) {
            struct sim_node *sn = &s->nodes[i];
            if (!sn->up) {
                printf("  node %d: down%s repair %d\n", i, sn->removed ? " (removed)" : "",
                       sn->in_repair);
                continue;
            }
            printf("  node %d peers:", i);
            for (uint32_t k = 0; k < sn->n->peers.n; k++)
                printf(" %.8s", sn->n->peers.v[k].id.b);
            printf("\n");
            struct rf_node *n = sn->n;
            printf("  node %d: %s term %llu vote %.8s leader %.8s pterm %llu pindex %llu "
                   "commit %llu applied %llu base %llu repair %d/%llu obs %d peers %u csz %d "
                   "catchup %d memb %d/%.8s/%llu paused %d processed %llu\n",
                   i, rf_state_str(n->state), (unsigned long long)n->term, n->vote.b,
                   n->leader.b, (unsigned long long)n->pterm, (unsigned long long)n->pindex,
                   (unsigned long long)n->commit, (unsigned long long)n->applied,
                   (unsigned long long)n->log.base, n->repair,
                   (unsigned long long)n->repair_term, n->observer, n->peers.n, n->csz,
                   n->catchup != NULL, n->memb.active, n->memb.peer.b,
                   (unsigned long long)n->memb.index, n->paused,
                   (unsigned long long)n->processed);
        }
    }
    if (stats || !ok) {
        struct sim_stats *st = &s->st;
        printf("seed %llu: nodes=%d+%d loss=%u dup=%u reord=%u net<=%ums disk<=%ums snap=%u prevote=%d "
               "corrupt=%d memb=%d obs=%d xfer=%d\n"
               "  events=%llu msgs=%llu dropped=%llu crashes=%llu corruptions=%llu "
               "repairs=%llu elections=%llu max_term=%llu proposals=%llu applied=%llu "
               "snapshots=%llu committed=%llu t=%llums\n",
               (unsigned long long)seed, o.nodes, o.spares, o.loss_ppm, o.dup_ppm, o.reorder_ppm,
               o.net_max_ms,
               o.disk_max_ms, o.snapshot_every, o.rc.prevote, sc.corruption, sc.membership,
               sc.observers, sc.transfers, (unsigned long long)st->events,
               (unsigned long long)st->msgs_sent, (unsigned long long)st->msgs_dropped,
               (unsigned long long)st->crashes, (unsigned long long)st->corruptions,
               (unsigned long long)st->repairs_seen, (unsigned long long)st->elections,
               (unsigned long long)st->max_term, (unsigned long long)st->proposals,
               (unsigned long long)st->applied, (unsigned long long)st->snapshots,
               (unsigned long long)sim_check_max_committed(s), (unsigned long long)s->now);
    }
    sim_free(s);
    return ok;
}

int main(int argc, char **argv)
{
    uint64_t start = 1, count = 1000;
    bool one = false, soak = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            start = strtoull(argv[++i], NULL, 0);
            count = 1;
            one = true;
        } else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
            count = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--start") && i + 1 < argc) {
            start = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--soak")) {
            soak = true;
            if (count == 1000)
                count = 500;
        } else if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else {
            fprintf(stderr, "usage: %s [--seed S | --seeds N [--start S]] [--soak] [-v]\n",
                    argv[0]);
            return 2;
        }
    }
    uint64_t failed = 0;
    for (uint64_t k = 0; k < count; k++) {
        if (!run_seed(start + k, soak, one || verbose))
            failed++;
    }
    printf("%llu/%llu seeds passed\n", (unsigned long long)(count - failed),
           (unsigned long long)count);
    return failed ? 1 : 0;
}
