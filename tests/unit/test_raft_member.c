/* tests/unit/test_raft_member.c: single-server membership changes of RAFT groups on the
 * deterministic simulator (raftd/raft_member.c, raft_lead.c, raft_apply.c).  Ports the
 * membership tests of Go server/raft_test.go, including the mock-transport partition ones.
 */
#include "common/gotest.h"
#include "sim.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define WAIT 30000

static struct sim *group_ex(int n, int spares, uint64_t seed)
{
    struct sim_opts o;
    sim_opts_default(&o, seed, n);
    o.spares = spares;
    o.torn_writes = false;
    struct sim *s = sim_new(&o);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0, "no leader");
    return s;
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

struct peers_arg {
    int count;
    int nodes;
};

static bool all_peers(struct sim *s, void *arg)
{
    struct peers_arg *a = arg;
    for (int i = 0; i < a->nodes; i++)
        if (s->nodes[i].up && R(s, i)->peers.n != (uint32_t)a->count)
            return false;
    return true;
}

static bool wait_peers(struct sim *s, int nodes, int count)
{
    struct peers_arg a = {count, nodes};
    return sim_run_until(s, all_peers, &a, 10000);
}

static int follower(struct sim *s, int k)
{
    int l = sim_leader(s);
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && i != l && rf_state(R(s, i)) != RF_CLOSED && k-- == 0)
            return i;
    return -1;
}

Test(raft_member, propose_remove_peer)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeer");
    struct sim *s = group_ex(3, 0, 50);
    int l = sim_leader(s);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, follower(s, 0))->id), 0);
    sim_pump(s, l);
    cr_assert(wait_peers(s, 3, 2));
    done(s);
}

Test(raft_member, propose_remove_peer_non_existent)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeerNonExistent");
    struct sim *s = group_ex(3, 0, 51);
    int l = sim_leader(s);
    rf_id bogus = rf_id_from_str("deadbeef");
    cr_assert_eq(rf_propose_remove_peer(R(s, l), bogus), -ENOENT);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    for (int i = 0; i < 3; i++) {
        cr_assert(!rf_removed_find(R(s, i), bogus, NULL));
        cr_assert_eq(R(s, i)->peers.n, 3);
    }
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, follower(s, 0))->id), 0);
    sim_pump(s, l);
    cr_assert(wait_peers(s, 3, 2));
    done(s);
}

Test(raft_member, forwarded_remove_peer_proposal_non_existent)
{
    GO_TEST("server/raft_test.go", "TestNRGForwardedRemovePeerProposalNonExistent");
    struct sim *s = group_ex(3, 0, 52);
    int l = sim_leader(s), f = follower(s, 0);
    rf_id bogus = rf_id_from_str("deadbeef");
    cr_assert_eq(rf_propose_remove_peer(R(s, f), bogus), 0); /* forwarded */
    sim_pump(s, f);
    sim_run_for(s, 500);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    for (int i = 0; i < 3; i++) {
        cr_assert(!rf_removed_find(R(s, i), bogus, NULL));
        cr_assert_eq(R(s, i)->peers.n, 3);
    }
    cr_assert_eq(rf_propose_remove_peer(R(s, f), R(s, f)->id), 0);
    sim_pump(s, f);
    cr_assert(wait_peers(s, 3, 2));
    done(s);
}

Test(raft_member, propose_remove_peer_concurrent)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeerConcurrent");
    struct sim *s = group_ex(3, 0, 53);
    int l = sim_leader(s), f0 = follower(s, 0), f1 = follower(s, 1);
    sim_pause(s, f0);
    sim_pause(s, f1);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, f0)->id), 0);
    sim_pump(s, l);
    sim_run_for(s, 100);
    cr_assert(rf_membership_change_in_progress(R(s, l)));
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, f1)->id), -EBUSY);
    sim_resume(s, f0);
    sim_resume(s, f1);
    cr_assert(wait_peers(s, 3, 2));
    done(s);
}

Test(raft_member, propose_remove_peer_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeerQuorum");
    struct sim *s = group_ex(3, 0, 54);
    int l = sim_leader(s), f0 = follower(s, 0), f1 = follower(s, 1);
    sim_pause(s, f0);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, f1)->id), 0);
    sim_pump(s, l);
    sim_run_for(s, 1000);
    cr_assert(rf_membership_change_in_progress(R(s, l)));
    sim_resume(s, f0);
    sim_run_for(s, 10000);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    done(s);
}

Test(raft_member, propose_remove_peer_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeerLeader");
    struct sim *s = group_ex(3, 0, 55);
    int l = sim_leader(s), f0 = follower(s, 0);
    sim_pause(s, f0);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, l)->id), 0);
    sim_pump(s, l);
    sim_run_for(s, 1000);
    cr_assert(rf_membership_change_in_progress(R(s, l))); /* its own ack doesn't count */
    sim_resume(s, f0);
    sim_run_for(s, 10000);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    int nl = sim_wait_leader(s, WAIT);
    cr_assert(nl >= 0 && nl != l);
    cr_assert_eq(rf_state(R(s, l)), RF_CLOSED);
    cr_assert_eq(R(s, nl)->peers.n, 2);
    cr_assert(!rf_membership_change_in_progress(R(s, nl)));
    done(s);
}

Test(raft_member, propose_remove_peer_all)
{
    GO_TEST("server/raft_test.go", "TestNRGProposeRemovePeerAll");
    struct sim *s = group_ex(3, 0, 56);
    int l = sim_leader(s);
    int fs[2] = {follower(s, 0), follower(s, 1)};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, fs[i])->id), 0);
        sim_pump(s, l);
        /* Go's checkFor polls, so the change has committed by the time it looks. */
        for (int k = 0; k < 200 && (R(s, l)->peers.n != (uint32_t)(2 - i) ||
                                    rf_membership_change_in_progress(R(s, l)));
             k++)
            sim_run_for(s, 10);
        cr_assert_eq(R(s, l)->peers.n, (uint32_t)(2 - i));
    }
    cr_assert_eq(R(s, l)->peers.n, 1);
    cr_assert(rf_id_eq(R(s, l)->peers.v[0].id, R(s, l)->id));
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, l)->id), -EINVAL); /* errRemoveLastNode */
    done(s);
}

Test(raft_member, leader_resurrects_removed_peers)
{
    GO_TEST("server/raft_test.go", "TestNRGLeaderResurrectsRemovedPeers");
    struct sim *s = group_ex(3, 0, 57);
    int l = sim_leader(s), f0 = follower(s, 0), f1 = follower(s, 1);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, f0)->id), 0);
    sim_pump(s, l);
    for (int k = 0; k < 200 && (R(s, l)->peers.n != 2 ||
                                rf_membership_change_in_progress(R(s, l)));
         k++)
        sim_run_for(s, 10);
    cr_assert_eq(R(s, l)->peers.n, 2);
    sim_crash(s, l);
    sim_crash(s, f1);
    sim_restart(s, l);
    cr_assert_eq(R(s, l)->peers.n, 2);
    sim_restart(s, f1);
    cr_assert_eq(R(s, l)->peers.n, 2);
    sim_run_for(s, WAIT); /* the removed peer keeps answering: it must stay removed */
    int nl = sim_leader(s);
    cr_assert_geq(nl, 0);
    cr_assert_eq(R(s, nl)->peers.n, 2);
    done(s);
}

Test(raft_member, add_peers)
{
    GO_TEST("server/raft_test.go", "TestNRGAddPeers");
    struct sim *s = group_ex(3, 6, 58);
    int l = sim_leader(s);
    cr_assert_eq(rf_cluster_size(R(s, l)), 3);
    for (int i = 3; i < 9; i++)
        sim_start_spare(s, i);
    for (int k = 0; k < 1000 && rf_cluster_size(R(s, l)) != 9; k++)
        sim_run_for(s, 10);
    cr_assert_eq(rf_cluster_size(R(s, l)), 9);
    done(s);
}

Test(raft_member, disjoint_majorities)
{
    GO_TEST("server/raft_test.go", "TestNRGDisjointMajorities");
    struct sim *s = group_ex(3, 2, 59);
    int l = sim_leader(s);
    sim_pause(s, follower(s, 0));
    sim_pause(s, follower(s, 1));
    sim_start_spare(s, 3);
    for (int k = 0; k < 100 && rf_cluster_size(R(s, l)) != 4; k++)
        sim_run_for(s, 10);
    cr_assert_eq(rf_cluster_size(R(s, l)), 4);
    sim_start_spare(s, 4);
    sim_run_for(s, 1000);
    /* The new nodes alone can't commit the first addition, so no second one. */
    cr_assert_eq(rf_cluster_size(R(s, l)), 4);
    cr_assert(rf_membership_change_in_progress(R(s, l)));
    for (int i = 0; i < 3; i++)
        sim_resume(s, i);
    done(s);
}

Test(raft_member, single_node_election)
{
    GO_TEST("server/raft_test.go", "TestNRGSingleNodeElection");
    struct sim *s = group_ex(3, 2, 60);
    for (int r = 0; r < 2; r++) {
        int l = sim_wait_leader(s, WAIT);
        cr_assert_geq(l, 0);
        cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, l)->id), 0);
        sim_pump(s, l);
        for (int k = 0; k < 100 && rf_state(R(s, l)) == RF_LEADER; k++)
            sim_run_for(s, 10);
        cr_assert_neq(rf_state(R(s, l)), RF_LEADER);
        cr_assert(!rf_membership_change_in_progress(R(s, l)));
    }
    int nl = sim_wait_leader(s, WAIT);
    cr_assert_geq(nl, 0);
    cr_assert_eq(R(s, nl)->peers.n, 1);
    cr_assert_eq(rf_cluster_size(R(s, nl)), 1);
    cr_assert(!rf_membership_change_in_progress(R(s, nl)));
    sim_propose(s, nl, 1);
    sim_propose(s, nl, 10);
    sim_propose(s, nl, 100);
    sim_run_for(s, 100);
    cr_assert_eq(s->nodes[nl].sm.sum, 111);
    sim_start_spare(s, 3);
    sim_start_spare(s, 4);
    for (int k = 0; k < 1000 && (rf_cluster_size(R(s, nl)) != 3 ||
                                 rf_membership_change_in_progress(R(s, nl)));
         k++)
        sim_run_for(s, 10);
    cr_assert_eq(rf_cluster_size(R(s, nl)), 3);
    cr_assert(!rf_membership_change_in_progress(R(s, nl)));
    for (int k = 0; k < 1000 && (s->nodes[3].sm.sum != 111 || s->nodes[4].sm.sum != 111); k++)
        sim_run_for(s, 10);
    cr_assert_eq(s->nodes[3].sm.sum, 111);
    cr_assert_eq(s->nodes[4].sm.sum, 111);
    done(s);
}

Test(raft_member, partitioned_peer_remove)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGPartitionedPeerRemove",
                    "the transport hook count is not checked");
    struct sim *s = group_ex(2, 0, 61);
    int l = sim_leader(s), f = 1 - l;
    cr_assert_eq(rf_cluster_size(R(s, l)), 2);
    sim_isolate(s, l);
    cr_assert_eq(rf_propose_remove_peer(R(s, l), R(s, f)->id), 0);
    sim_pump(s, l);
    RF_IGNORE(rf_campaign_immediately(R(s, f)));
    for (int k = 0; k < 100 && (rf_cluster_size(R(s, l)) != 1 ||
                                rf_membership_change_in_progress(R(s, l)));
         k++)
        sim_run_for(s, 10);
    cr_assert_eq(rf_cluster_size(R(s, l)), 1);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    cr_assert_neq(rf_state(R(s, f)), RF_LEADER);
    cr_assert_eq(rf_cluster_size(R(s, f)), 2);
    cr_assert(!rf_membership_change_in_progress(R(s, f)));
    sim_heal(s);
    for (int k = 0; k < 300 && rf_cluster_size(R(s, f)) != 1; k++)
        sim_run_for(s, 10);
    cr_assert_eq(rf_cluster_size(R(s, f)), 1);
    done(s);
}

struct add_hook {
    int leader;
    bool fired;
    uint8_t groups[SIM_MAX_NODES];
};

static void on_add_peer(struct sim *s, int from, const struct rf_msg *m, void *arg)
{
    struct add_hook *h = arg;
    if (h->fired || from != h->leader || m->type != RF_MSG_AE || m->n_entries != 1 ||
        m->entries[0].type != RF_ENTRY_ADD_PEER)
        return;
    h->fired = true;
    sim_partition(s, h->groups);
}

static bool csz_all(struct sim *s, const int *nodes, int n, int csz)
{
    for (int i = 0; i < n; i++)
        if (rf_cluster_size(R(s, nodes[i])) != csz)
            return false;
    return true;
}

Test(raft_member, peer_add_and_partition_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGPeerAddAndPartitionLeader");
    struct sim *s = group_ex(3, 1, 62);
    int l = sim_leader(s);
    struct add_hook h = {.leader = l};
    h.groups[l] = 1;
    s->tap = on_add_peer;
    s->tap_arg = &h;
    sim_start_spare(s, 3);
    int ng[3] = {follower(s, 0), follower(s, 1), 3};
    bool elected = false;
    for (int k = 0; k < 3000 && !elected; k++) {
        sim_run_for(s, 10);
        for (int i = 0; i < 3; i++)
            elected |= rf_leader(R(s, ng[i]));
    }
    cr_assert(h.fired);
    cr_assert(elected);
    for (int k = 0; k < 100 && !csz_all(s, ng, 3, 4); k++)
        sim_run_for(s, 10);
    cr_assert(csz_all(s, ng, 3, 4));
    s->tap = NULL;
    sim_heal(s);
    for (int k = 0; k < 300 && (rf_membership_change_in_progress(R(s, l)) ||
                                rf_cluster_size(R(s, l)) != 4);
         k++)
        sim_run_for(s, 10);
    cr_assert(!rf_membership_change_in_progress(R(s, l)));
    cr_assert_eq(rf_cluster_size(R(s, l)), 4);
    cr_assert(csz_all(s, ng, 3, 4));
    done(s);
}

Test(raft_member, leader_without_quorum_after_peer_add)
{
    GO_TEST("server/raft_test.go", "TestNRGLeaderWithoutQuorumAfterPeerAdd");
    struct sim *s = group_ex(3, 1, 63);
    int l = sim_leader(s), f0 = follower(s, 0), f1 = follower(s, 1);
    struct add_hook h = {.leader = l};
    h.groups[l] = h.groups[f0] = 1; /* {leader, f0} vs {new node, f1} */
    s->tap = on_add_peer;
    s->tap_arg = &h;
    sim_start_spare(s, 3);
    bool elected = false;
    for (int k = 0; k < 1000; k++) {
        sim_run_for(s, 10);
        elected |= rf_leader(R(s, 3)) || rf_leader(R(s, f1));
    }
    cr_assert(h.fired);
    cr_assert(!elected); /* two nodes of four can't elect */
    s->tap = NULL;
    sim_heal(s);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    int all[4] = {0, 1, 2, 3};
    for (int k = 0; k < 300 && !csz_all(s, all, 4, 4); k++)
        sim_run_for(s, 10);
    cr_assert(csz_all(s, all, 4, 4));
    (void)f0;
    done(s);
}

Test(raft_member, removed_peer_vote_does_not_elect_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGRemovedPeerVoteDoesNotElectLeader");
    struct sim *s = group_ex(4, 0, 64);
    int a = sim_leader(s), b = follower(s, 0), c = follower(s, 1), d = follower(s, 2);
    uint8_t g[SIM_MAX_NODES] = {0};
    g[d] = 1;
    sim_partition(s, g);
    cr_assert_eq(rf_propose_remove_peer(R(s, a), R(s, d)->id), 0);
    sim_pump(s, a);
    int valid[3] = {a, b, c};
    for (int k = 0; k < 100 && !csz_all(s, valid, 3, 3); k++)
        sim_run_for(s, 10);
    cr_assert(csz_all(s, valid, 3, 3));
    g[c] = 1; /* {A, B} keeps a quorum, {C, D} must not elect */
    sim_partition(s, g);
    RF_IGNORE(rf_campaign_immediately(R(s, c)));
    bool c_led = false;
    for (int k = 0; k < 100; k++) {
        sim_run_for(s, 10);
        c_led |= rf_state(R(s, c)) == RF_LEADER;
    }
    cr_assert(!c_led, "removed peer helped elect a second leader");
    done(s);
}
