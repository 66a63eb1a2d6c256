/* tests/unit/test_raft_replicate.c: replication, catchup, snapshot catchup and recovery of
 * RAFT groups on the deterministic simulator.  Ports the group catchup tests of Go
 * server/raft_test.go and adds raftd's pre-vote, chunked snapshot, lost-quorum and repair
 * cases.
 */
#include "common/gotest.h"
#include "sim.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define WAIT 30000

static struct sim *group_opts(struct sim_opts *o)
{
    struct sim *s = sim_new(o);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0, "no leader");
    return s;
}

static struct sim *group(int n, uint64_t seed)
{
    struct sim_opts o;
    sim_opts_default(&o, seed, n);
    o.torn_writes = false;
    return group_opts(&o);
}

static void done(struct sim *s)
{
    cr_assert(!s->failed, "%s", s->failure);
    sim_free(s);
}

static struct rf_node *R(struct sim *s, int i)
{
    return s->nodes[i].n;
}

static int other(struct sim *s, int not1, int not2)
{
    for (int i = 0; i < s->n; i++)
        if (i != not1 && i != not2 && s->nodes[i].up)
            return i;
    return -1;
}

static bool logs_equal(struct sim *s)
{
    struct rf_node *ref = NULL;
    for (int i = 0; i < s->n; i++) {
        if (!s->nodes[i].up)
            continue;
        struct rf_node *n = R(s, i);
        if (!ref) {
            ref = n;
            continue;
        }
        if (rf_log_first(&n->log) != rf_log_first(&ref->log) ||
            rf_log_last(&n->log) != rf_log_last(&ref->log))
            return false;
        for (uint64_t k = rf_log_first(&n->log); k <= rf_log_last(&n->log); k++) {
            struct rf_rec *a = rf_log_get(&n->log, k), *b = rf_log_get(&ref->log, k);
            if (a->term != b->term || a->n_entries != b->n_entries ||
                !rf_id_eq(a->leader, b->leader))
                return false;
        }
    }
    return true;
}

static bool cond_logs_equal(struct sim *s, void *arg)
{
    (void)arg;
    return logs_equal(s);
}

static void wal_without_quorum(bool diverged)
{
    struct sim *s = group(3, diverged ? 21 : 20);
    int l = sim_leader(s);
    struct rf_node *n = R(s, l);
    /* The leader stores an entry but is hard killed before sending it. */
    struct rf_entry e = {.type = RF_ENTRY_NORMAL, .len = 3, .data = (uint8_t *)"esm"};
    struct rf_msg ae = {.type = RF_MSG_AE, .leader = n->id, .term = n->term,
                        .commit = n->commit, .pterm = n->pterm, .pindex = n->pindex,
                        .n_entries = 1, .entries = &e};
    cr_assert_eq(rf_store_to_wal(n, &ae), 0);
    sim_pump(s, l);
    sim_run_for(s, 30); /* durable */
    sim_crash(s, l);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    if (diverged)
        sim_propose(s, sim_leader(s), 11);
    sim_restart(s, l);
    cr_assert(sim_run_until(s, cond_logs_equal, NULL, WAIT), "WALs differ");
    sim_free(s);
}

Test(raft_replicate, wal_entry_without_quorum_must_truncate)
{
    GO_TEST("server/raft_test.go", "TestNRGWALEntryWithoutQuorumMustTruncate");
    wal_without_quorum(false);
    wal_without_quorum(true);
}

Test(raft_replicate, forward_proposal_response)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGForwardProposalResponse",
                    "forwarded proposals carry no reply subject between raftd nodes");
    struct sim *s = group(3, 22);
    cr_assert_eq(sim_propose(s, sim_non_leader(s), 123), 0);
    cr_assert(sim_wait_total(s, 123, WAIT));
    done(s);
}

static bool pair_total(struct sim *s, int a, int b, int64_t total)
{
    return s->nodes[a].up && s->nodes[b].up && s->nodes[a].sm.sum == total &&
           s->nodes[b].sm.sum == total;
}

struct pair {
    int a, b;
    int64_t total;
};

static bool cond_pair(struct sim *s, void *arg)
{
    struct pair *p = arg;
    return pair_total(s, p->a, p->b, p->total);
}

static void replay_case(bool restart)
{
    struct sim *s = group(3, restart ? 24 : 23);
    int l = sim_leader(s), rs = sim_non_leader(s);
    for (int i = 0; i < 3; i++)
        if (i != l)
            sim_crash(s, i);
    uint64_t pindex = R(s, l)->pindex;
    sim_propose(s, l, 10);
    sim_run_for(s, 200);
    cr_assert_gt(R(s, l)->pindex, pindex);
    if (restart) {
        sim_crash(s, l);
        sim_restart(s, l);
    }
    sim_restart(s, rs);
    struct pair p = {l, rs, 10};
    cr_assert(sim_run_until(s, cond_pair, &p, WAIT));
    done(s);
}

Test(raft_replicate, dont_reject_append_entry_from_replay)
{
    GO_TEST("server/raft_test.go", "TestNRGDontRejectAppendEntryFromReplay");
    replay_case(false);
    replay_case(true);
}

static void simple_catchup(bool leader_change)
{
    struct sim *s = group(3, leader_change ? 26 : 25);
    int nl = sim_non_leader(s), l = sim_leader(s);
    sim_crash(s, nl);
    sim_propose(s, l, 10);
    struct pair p = {l, other(s, l, nl), 10};
    cr_assert(sim_run_until(s, cond_pair, &p, WAIT));
    cr_assert_eq(s->nodes[nl].sm.sum, 0);
    if (leader_change) {
        cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
        sim_pump(s, l);
    }
    sim_restart(s, nl);
    cr_assert(sim_wait_total(s, 10, WAIT));
    done(s);
}

Test(raft_replicate, simple_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGSimpleCatchup");
    simple_catchup(false);
    simple_catchup(true);
}

static void snapshot_catchup(bool restart, uint32_t chunk)
{
    struct sim_opts o;
    sim_opts_default(&o, restart ? 28 : 27, 3);
    o.torn_writes = false;
    if (chunk) {
        o.rc.snap_chunk_bytes = chunk; /* many small chunks, paced */
        o.rc.catchup_max_outstanding = 4 * chunk;
    }
    struct sim *s = group_opts(&o);
    int l = sim_leader(s);
    int s1 = other(s, l, -1), s2 = other(s, l, s1);
    sim_crash(s, s1);
    sim_propose(s, l, 10);
    struct pair p = {l, s2, 10};
    cr_assert(sim_run_until(s, cond_pair, &p, WAIT));
    sim_crash(s, s2);
    cr_assert_eq(sim_snapshot(s, l), 0);
    uint64_t pindex = R(s, l)->pindex;
    sim_propose(s, l, 10);
    sim_run_for(s, 100);
    cr_assert_gt(R(s, l)->pindex, pindex);
    if (restart) {
        sim_crash(s, l);
        sim_restart(s, l);
    }
    sim_restart(s, s1);
    p = (struct pair){l, s1, 20};
    cr_assert(sim_run_until(s, cond_pair, &p, WAIT));
    cr_assert_not_null(R(s, s1)->snap);
    done(s);
}

Test(raft_replicate, snapshot_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGSnapshotCatchup");
    snapshot_catchup(false, 0);
    snapshot_catchup(true, 0);
}

Test(raft_replicate, chunked_snapshot_catchup)
{
    snapshot_catchup(false, 8);
    snapshot_catchup(true, 16);
}

static bool all_current(struct sim *s, void *arg)
{
    (void)arg;
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && !rf_current(R(s, i)))
            return false;
    return true;
}

Test(raft_replicate, no_log_reset_on_corrupted_send_to_follower)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGNoLogResetOnCorruptedSendToFollower",
                    "the leader sends its snapshot from memory, so a damaged file on its disk "
                    "doesn't affect this catchup; the damage shows at its next restart");
    struct sim *s = group(2, 29);
    int l = sim_leader(s), f = 1 - l;
    for (int64_t i = 1; i <= 10; i++) {
        sim_propose(s, l, i);
        sim_run_for(s, 50);
    }
    cr_assert(sim_wait_total(s, 55, WAIT));
    cr_assert_eq(sim_snapshot(s, l), 0);
    cr_assert_eq(R(s, l)->log.n, 0);
    rf_reset_wal(R(s, f));
    sim_pump(s, f);
    sim_run_for(s, 20);
    sim_crash(s, f);
    cr_assert_not_null(sim_corrupt(s, l, "snap."));
    sim_restart(s, f);
    cr_assert(sim_run_until(s, all_current, NULL, WAIT));
    cr_assert_neq(rf_log_last(&R(s, l)->log), 0);
    done(s);
}

static bool chain_converged(struct sim *s, int64_t blocks)
{
    struct sim_node *ref = NULL;
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (!sn->up || sn->sm.sum != blocks)
            return false;
        if (ref && (ref->sm.chain != sn->sm.chain || ref->sm.applied != sn->sm.applied))
            return false;
        ref = sn;
    }
    return true;
}

struct chain_arg {
    int64_t blocks;
};

static bool cond_chain(struct sim *s, void *arg)
{
    return chain_converged(s, ((struct chain_arg *)arg)->blocks);
}

Test(raft_replicate, chain_of_blocks_run_in_lockstep)
{
    GO_TEST("server/raft_test.go", "TestNRGChainOfBlocksRunInLockstep");
    struct sim *s = group(3, 30);
    for (int64_t it = 1; it <= 50; it++) {
        cr_assert_eq(sim_propose(s, (int)sim_rand(&s->rng, 3), 1), 0);
        struct chain_arg a = {it};
        cr_assert(sim_run_until(s, cond_chain, &a, 3000), "iteration %lld", (long long)it);
    }
    done(s);
}

Test(raft_replicate, chain_of_blocks_stop_and_catch_up)
{
    GO_TEST("server/raft_test.go", "TestNRGChainOfBlocksStopAndCatchUp");
    struct sim *s = group(3, 31);
    int64_t blocks = 0;
    for (int it = 0; it < 50; it++) {
        int victim = (int)sim_rand(&s->rng, 3);
        sim_crash(s, victim);
        int snapper = other(s, victim, (int)sim_rand(&s->rng, 3));
        RF_IGNORE(sim_snapshot(s, snapper));
        cr_assert_geq(sim_wait_leader(s, WAIT), 0);
        for (int b = 0; b < 3; b++) {
            int p = other(s, victim, (int)sim_rand(&s->rng, 3));
            cr_assert_eq(sim_propose(s, p, 1), 0);
            blocks++;
        }
        sim_restart(s, victim);
        struct chain_arg a = {blocks};
        cr_assert(sim_run_until(s, cond_chain, &a, WAIT), "iteration %d", it);
    }
    done(s);
}

static void check_peer_data(struct sim *s)
{
    for (int i = 0; i < 3; i++) {
        struct rf_node *n = R(s, i);
        bool lead = rf_state(n) == RF_LEADER;
        for (uint32_t k = 0; k < n->peers.n; k++) {
            struct rf_peer *p = &n->peers.v[k];
            if (lead && !rf_id_eq(p->id, n->id)) {
                cr_assert_neq(p->li, 0, "last replicated index must be set");
                cr_assert_neq(p->ts, 0, "last seen must be set");
                continue;
            }
            cr_assert_eq(p->li, 0);
            if (!rf_id_eq(p->id, n->leader))
                cr_assert_eq(p->ts, 0);
        }
        struct rf_peer_info pi[8];
        uint32_t np = rf_peers(n, pi, 8);
        for (uint32_t k = 0; k < np; k++) {
            cr_assert_eq(pi[k].lag, 0);
            cr_assert_eq(pi[k].current,
                         rf_id_eq(pi[k].id, n->id) || rf_id_eq(pi[k].id, n->leader) || lead);
        }
    }
}

Test(raft_replicate, track_peer_lag)
{
    GO_TEST("server/raft_test.go", "TestNRGTrackPeerLag");
    struct sim *s = group(3, 32);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, sim_leader(s), 10);
        cr_assert(sim_wait_total(s, 10 * (i + 1), WAIT));
    }
    sim_run_for(s, 500);
    check_peer_data(s);
    int l = sim_leader(s);
    cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
    sim_pump(s, l);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, sim_leader(s), 10);
        cr_assert(sim_wait_total(s, 50 + 10 * (i + 1), WAIT));
    }
    sim_run_for(s, 500);
    check_peer_data(s);
    done(s);
}

Test(raft_replicate, invalid_tav_doesnt_panic)
{
    GO_TEST("server/raft_test.go", "TestNRGInvalidTAVDoesntPanic");
    struct sim *s = group(3, 33);
    int l = sim_leader(s);
    sim_crash(s, l);
    uint8_t junk[4] = {1, 2, 3, 4};
    cr_assert_eq(sim_disk_write(s->nodes[l].disk, "meta.a", junk, 4), 0);
    cr_assert_eq(sim_disk_write(s->nodes[l].disk, "meta.b", junk, 4), 0);
    sim_restart(s, l);
    cr_assert(sim_run_until(s, all_current, NULL, WAIT));
    done(s);
}

static void check_last_seen(struct sim *s)
{
    for (int i = 0; i < 3; i++) {
        struct rf_peer_info pi[8];
        uint32_t np = rf_peers(R(s, i), pi, 8);
        for (uint32_t k = 0; k < np; k++)
            if (pi[k].last_ms)
                cr_assert_lt(s->now - pi[k].last_ms, 1000, "node %d peer %.8s seen %llums ago", i,
                             pi[k].id.b, (unsigned long long)(s->now - pi[k].last_ms));
    }
}

Test(raft_replicate, track_peer_active)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTrackPeerActive",
                    "on a plain group instead of the JetStream meta group, read via rf_peers "
                    "instead of Raftz");
    struct sim *s = group(3, 34);
    sim_run_for(s, 2000);
    check_last_seen(s);
    int l = sim_leader(s), p = sim_non_leader(s);
    rf_id pid = R(s, p)->id;
    cr_assert_eq(rf_step_down(R(s, l), &pid), 0);
    sim_pump(s, l);
    sim_run_for(s, 2000);
    cr_assert_eq(sim_leader(s), p);
    check_last_seen(s);
    done(s);
}

/* ---- raftd additions ---- */

static void partitioned_follower(bool prevote, uint64_t seed)
{
    struct sim_opts o;
    sim_opts_default(&o, seed, 3);
    o.rc.prevote = prevote;
    struct sim *s = group_opts(&o);
    sim_propose(s, sim_leader(s), 1);
    cr_assert(sim_wait_total(s, 1, WAIT));
    int l = sim_leader(s), f = sim_non_leader(s);
    uint64_t term = rf_term(R(s, l));
    sim_isolate(s, f);
    sim_run_for(s, 60000); /* many election timeouts in isolation */
    cr_assert_eq(sim_leader(s), l);
    sim_heal(s);
    sim_run_for(s, 20000);
    if (prevote) {
        /* The returning node could not disrupt: same leader, same term. */
        cr_assert_eq(sim_leader(s), l);
        cr_assert_eq(rf_term(R(s, l)), term);
        cr_assert_eq(rf_term(R(s, f)), term);
    } else {
        /* Go's behaviour: the isolated node's inflated term forces an election. */
        cr_assert_gt(rf_term(R(s, l)), term);
    }
    sim_propose(s, sim_wait_leader(s, WAIT), 1);
    cr_assert(sim_wait_total(s, 2, WAIT));
    done(s);
}

Test(raft_replicate, prevote_partitioned_follower_cannot_disrupt)
{
    partitioned_follower(true, 40);
}

Test(raft_replicate, without_prevote_partitioned_follower_disrupts)
{
    partitioned_follower(false, 41);
}

Test(raft_replicate, leader_steps_down_on_lost_quorum)
{
    struct sim *s = group(3, 42);
    int l = sim_leader(s);
    sim_isolate(s, l);
    sim_run_for(s, 2ull * s->o.rc.lost_quorum_ms + 1000);
    cr_assert_neq(rf_state(R(s, l)), RF_LEADER);
    int nl = sim_leader(s);
    cr_assert(nl >= 0 && nl != l);
    sim_heal(s);
    sim_propose(s, nl, 7);
    cr_assert(sim_wait_total(s, 7, WAIT));
    done(s);
}

Test(raft_replicate, corrupted_follower_is_repaired)
{
    struct sim *s = group(3, 43);
    int l = sim_leader(s);
    for (int i = 0; i < 20; i++)
        sim_propose(s, l, 1);
    cr_assert(sim_wait_total(s, 20, WAIT));
    int f = sim_non_leader(s);
    sim_crash(s, f);
    cr_assert_not_null(sim_corrupt(s, f, "seg."));
    sim_restart(s, f);
    cr_assert(rf_needs_repair(R(s, f)));
    /* It cannot take part in electing a leader lacking entries, but keeps following. */
    sim_propose(s, l, 1);
    cr_assert(sim_wait_total(s, 21, WAIT));
    /* A leader of a later term repairs it. */
    cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
    sim_pump(s, l);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    sim_run_for(s, 5000);
    cr_assert(!rf_needs_repair(R(s, f)));
    sim_propose(s, sim_leader(s), 1);
    cr_assert(sim_wait_total(s, 22, WAIT));
    done(s);
}
