/* tests/unit/test_raft_leader.c: leader-side and election behaviour of the RAFT core on one
 * node (raftd/raft_lead.c, raft_elect.c, raft_node.c, raft_member.c).  Ports single-node
 * tests of Go server/raft_test.go on the sim_single harness.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>

#define N (h->n)
#define NEW RF_SUB_NEW
#define LOGN (h->n->log.n)

static void ar_from(struct sn *h, uint64_t term, uint64_t index, const char *peer)
{
    sn_aer(h, term, index, peer, true);
}

Test(raft_leader, init_single_mem_raft_node_defaults)
{
    GO_TEST("server/raft_test.go", "TestNRGInitSingleMemRaftNodeDefaults");
    struct sn *h = sn_new();
    struct rf_peer_info pi[4];
    cr_assert(rf_id_eq(rf_node_id(N), rf_id_from_str("esFhDys3")));
    cr_assert_eq(rf_peers(N, pi, 4), 1);
    cr_assert(rf_id_eq(pi[0].id, rf_id_from_str("esFhDys3")));
    cr_assert_eq(rf_cluster_size(N), 1);
    cr_assert(rf_quorum(N));
    sn_free(h);
}

Test(raft_leader, ignore_track_response_when_not_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGIgnoreTrackResponseWhenNotLeader");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    N->lsut = 0;
    N->term++;
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert(N->term == 1 && N->pindex == 1 && N->pterm == 1 && N->commit == 0);
    rf_stepdown(N, (rf_id){{0}});
    sn_flush(h);
    cr_assert(N->pindex == 1 && N->pterm == 1 && N->commit == 0);
    struct rf_msg ar = {.type = RF_MSG_AER, .term = 1, .index = 1, .flags = RF_MF_SUCCESS};
    ar.from = rf_id_from_str("peer");
    cr_assert(!rf_track_response(N, &ar));
    cr_assert_eq(N->commit, 0);
    sn_free(h);
}

Test(raft_leader, quorum_accounting)
{
    GO_TEST("server/raft_test.go", "TestNRGQuorumAccounting");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    sn_add_peer(h, SN_NATS2);
    cr_assert_eq(rf_adjust_boot_cluster_size(N, 5), 0);
    cr_assert(N->csz == 5 && N->qn == 3);
    rf_switch_to_leader(N);
    N->term = 1;
    sn_flush(h);
    cr_assert_eq(N->pindex, 1);
    ar_from(h, 1, 1, SN_NATS1);
    cr_assert_eq(N->commit, 0); /* one response is not a quorum of 5 */
    ar_from(h, 1, 1, SN_NATS2);
    cr_assert_eq(N->commit, 1);
    sn_free(h);
}

Test(raft_leader, revalidate_quorum_after_leader_change)
{
    GO_TEST("server/raft_test.go", "TestNRGRevalidateQuorumAfterLeaderChange");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    sn_add_peer(h, SN_NATS2);
    cr_assert_eq(rf_adjust_boot_cluster_size(N, 5), 0);
    N->term++;
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert(N->term == 1 && N->pindex == 1);
    ar_from(h, 1, 1, SN_NATS1);
    cr_assert_eq(N->commit, 0);
    cr_assert_eq(N->acks.n, 1);
    rf_stepdown(N, (rf_id){{0}});
    N->term = 6;
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->term, 6);
    /* Earlier acks are not valid anymore: counting restarts. */
    ar_from(h, 6, 2, SN_NATS2);
    cr_assert_eq(N->commit, 0);
    cr_assert_eq(N->acks.n, 1);
    sn_free(h);
}

Test(raft_leader, append_entry_can_establish_quorum_after_leader_change)
{
    GO_TEST("server/raft_test.go", "TestNRGAppendEntryCanEstablishQuorumAfterLeaderChange");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->aflr, 0);
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->aflr, 2);
    cr_assert_eq(N->commit, 0);
    ar_from(h, 1, 2, SN_NATS0);
    cr_assert_eq(N->commit, 2);
    cr_assert_eq(N->aflr, 2);
    rf_applied(N, 2, NULL);
    cr_assert_eq(N->aflr, 0);
    sn_free(h);
}

Test(raft_leader, only_commit_if_current_term)
{
    GO_TEST("server/raft_test.go", "TestNRGOnlyCommitIfCurrentTerm");
    struct sn *h = sn_new();
    const char *s1 = "Sone0001", *s2 = "Stwo0002", *s3 = "Sthree03";
    sn_add_peer(h, s2);
    sn_add_peer(h, s3);
    cr_assert_eq(N->peers.n, 3);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, s1, 1, 0, 0, 0, 1)), 0);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, s1, 2, 0, 1, 1, 1)), 0);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, s1, 4, 0, 2, 2, 1)), 0);
    rf_switch_to_leader(N);
    N->term = 4;
    sn_flush(h);
    cr_assert_eq(N->commit, 0);
    ar_from(h, 1, 1, s2);
    cr_assert_eq(N->commit, 0);
    ar_from(h, 2, 2, s2);
    cr_assert_eq(N->commit, 0);
    ar_from(h, 4, 3, s2); /* quorum on an entry of our term */
    cr_assert_eq(N->commit, 3);
    sn_free(h);
}

Test(raft_leader, term_fenced_proposals)
{
    GO_TEST("server/raft_test.go", "TestNRGTermFencedProposals");
    struct sn *h = sn_new();
    struct rf_entry e = {.type = RF_ENTRY_NORMAL};
    rf_switch_to_candidate(N);
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->state, RF_LEADER);
    uint64_t term = rf_term(N);
    cr_assert_eq(term, 1);
    cr_assert_eq(rf_propose(N, term, NULL, 0), 0);
    cr_assert_eq(rf_propose_multi(N, term, &e, 1), 0);
    cr_assert_eq(rf_propose(N, 0, NULL, 0), -EPERM);
    cr_assert_eq(rf_propose(N, term + 1, NULL, 0), -EPERM);
    cr_assert_eq(rf_propose_multi(N, 0, &e, 1), -EPERM);
    cr_assert_eq(rf_propose_multi(N, term + 1, &e, 1), -EPERM);
    cr_assert_eq(N->state, RF_LEADER);
    rf_stepdown(N, (rf_id){{0}});
    sn_flush(h);
    bool is_leader = true;
    uint64_t lt = 0;
    cr_assert(sn_lead_change(h, &is_leader, &lt));
    cr_assert(!is_leader);
    cr_assert_eq(lt, term);
    cr_assert_eq(N->props.n, 0);
    rf_applied(N, N->commit, NULL);
    rf_switch_to_candidate(N);
    rf_switch_to_leader(N);
    sn_flush(h);
    uint64_t nt = rf_term(N);
    cr_assert_eq(nt, term + 1);
    cr_assert_eq(rf_propose(N, term, NULL, 0), -EPERM);
    cr_assert_eq(rf_propose_multi(N, term, &e, 1), -EPERM);
    cr_assert_eq(rf_propose(N, nt, NULL, 0), 0);
    cr_assert_eq(rf_forward_proposal(N, NULL, 0), 0);
    sn_free(h);
}

static void overrun_case(struct sn *h, uint64_t term, uint64_t pindex, uint64_t commit,
                         bool ok)
{
    N->state = RF_LEADER;
    N->pindex = pindex;
    N->commit = commit;
    N->applied = N->processed = 0;
    struct rf_entry e = {.type = RF_ENTRY_NORMAL};
    cr_assert_eq(rf_propose(N, term, NULL, 0), ok ? 0 : -EPERM);
    cr_assert_eq(N->state, ok ? RF_LEADER : RF_FOLLOWER);
    N->state = RF_LEADER;
    cr_assert_eq(rf_propose_multi(N, term, &e, 1), ok ? 0 : -EPERM);
    cr_assert_eq(N->state, ok ? RF_LEADER : RF_FOLLOWER);
    for (uint32_t i = 0; i < N->props.n; i++)
        free(N->props.v[i].e.data);
    N->props.n = 0;
}

Test(raft_leader, leader_steps_down_if_overrun)
{
    GO_TEST("server/raft_test.go", "TestNRGLeaderStepsDownIfOverrun");
    struct sn *h = sn_new();
    cr_assert_eq(rf_propose(N, 0, NULL, 0), -EPERM);
    rf_switch_to_candidate(N);
    rf_switch_to_leader(N);
    sn_flush(h);
    uint64_t term = rf_term(N), th = N->cfg.pause_quorum_threshold;
    cr_assert_eq(term, 1);
    /* Uncommitted entries. */
    overrun_case(h, term, th, 0, true);
    overrun_case(h, term, th + 1, 0, false);
    /* Unapplied entries. */
    overrun_case(h, term, th, th, true);
    overrun_case(h, term, th + 1, th + 1, false);
    N->pindex = N->commit = 1;
    N->state = RF_FOLLOWER;
    sn_free(h);
}

Test(raft_leader, report_leader_after_noop_entry)
{
    GO_TEST("server/raft_test.go", "TestNRGReportLeaderAfterNoopEntry");
    struct sn *h = sn_new();
    cr_assert(N->state == RF_FOLLOWER && N->term == 0 && !rf_leader(N));
    rf_switch_to_candidate(N);
    cr_assert(N->state == RF_CANDIDATE && N->term == 1 && !rf_leader(N));
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->state, RF_LEADER);
    cr_assert_eq(N->pindex, 1); /* the no-op */
    cr_assert_eq(N->applied, 0);
    cr_assert(!rf_leader(N));
    N->commit = 1;
    rf_applied(N, 1, NULL);
    cr_assert_eq(N->applied, 1);
    cr_assert(rf_leader(N));
    sn_free(h);
}

Test(raft_leader, send_snapshot_installs_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGSendSnapshotInstallsSnapshot");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    sn_add_peer(h, SN_NATS1);
    cr_assert(N->pindex == 0 && !N->snap);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->term, 1);
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(rf_apply_commit(N, 1), 0);
    cr_assert_null(N->snap);
    cr_assert_eq(rf_send_snapshot(N, "snapshot_data", 13), 0);
    sn_flush(h);
    cr_assert_eq(N->pindex, 2);
    cr_assert_null(N->snap);
    cr_assert_eq(rf_apply_commit(N, 2), 0);
    cr_assert_not_null(N->snap);
    cr_assert_eq(N->snap->term, 1);
    cr_assert_eq(N->snap->index, 1);
    cr_assert_eq(N->snap->data_len, 13);
    cr_assert_eq(memcmp(N->snap->data, "snapshot_data", 13), 0);
    cr_assert(rf_drain_and_replay_snapshot(N));
    sn_free(h);
}

Test(raft_leader, quorum_after_leader_stepdown)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGQuorumAfterLeaderStepdown",
                    "no server nodeToInfo liveness: peer health is the last contact only");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    sn_add_peer(h, SN_NATS1);
    rf_switch_to_candidate(N);
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert(!rf_quorum(N));
    rf_track_peer(N, rf_id_from_str(SN_NATS0));
    cr_assert(rf_quorum(N));
    rf_track_peer(N, rf_id_from_str(SN_NATS1));
    cr_assert(rf_quorum(N));
    cr_assert_eq(N->peers.n, 3);
    cr_assert_eq(rf_step_down(N, NULL), 0);
    sn_flush(h);
    cr_assert(rf_quorum(N));
    cr_assert_eq(N->peers.n, 3);
    for (uint32_t i = 0; i < N->peers.n; i++)
        if (!rf_id_eq(N->peers.v[i].id, N->id))
            cr_assert_neq(N->peers.v[i].ts, 0); /* preserved */
    rf_update_leader(N, rf_id_from_str(SN_NATS0));
    cr_assert(rf_quorum(N));
    for (uint32_t i = 0; i < N->peers.n; i++) {
        struct rf_peer *p = &N->peers.v[i];
        if (rf_id_eq(p->id, N->id))
            continue;
        if (rf_id_eq(p->id, rf_id_from_str(SN_NATS0)))
            cr_assert_neq(p->ts, 0);
        else
            cr_assert_eq(p->ts, 0);
    }
    sn_free(h);
}

Test(raft_leader, leader_catchup_handling)
{
    GO_TEST("server/raft_test.go", "TestNRGLeaderCatchupHandling");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, i ? 1 : 0, i, 1), NEW);
    cr_assert_eq(N->pindex, 3);
    rf_switch_to_leader(N);
    sn_flush(h);
    sn_clear(h);
    struct rf_msg ar = {.type = RF_MSG_AER, .term = 1, .index = 1, .cid = 77};
    ar.from = rf_id_from_str(SN_NATS1);
    rf_catchup_follower(N, &ar);
    sn_flush(h);
    /* Everything we know past the follower's index, on its catchup stream. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->nmsgs; i++) {
        struct rf_msg *m = &h->msgs[i];
        if (m->type != RF_MSG_AE || m->cid != 77)
            continue;
        cr_assert_eq(m->pindex, 1 + k);
        cr_assert_eq(m->pterm, 1);
        k++;
    }
    cr_assert_geq(k, 2);
    /* Peer health shows the catchup (raftd addition). */
    sn_add_peer(h, SN_NATS1);
    struct rf_peer_info pi[4];
    uint32_t np = rf_peers(N, pi, 4);
    bool seen = false;
    for (uint32_t i = 0; i < np; i++)
        if (rf_id_eq(pi[i].id, rf_id_from_str(SN_NATS1)))
            seen = pi[i].catching_up;
    cr_assert(seen || N->progress.n == 0);
    sn_free(h);
}

Test(raft_leader, send_append_entry_not_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGSendAppendEntryNotLeader");
    struct sn *h = sn_new();
    cr_assert_eq(N->state, RF_FOLLOWER);
    struct rf_entry *e = calloc(1, sizeof(*e));
    cr_assert_eq(rf_send_append_entry(N, e, 1, true), -EPERM);
    sn_flush(h);
    cr_assert_eq(N->pindex, 0);
    cr_assert_eq(sn_count(h, RF_MSG_AE), 0);
    sn_free(h);
}

Test(raft_leader, lost_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGLostQuorum");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    N->lsut = 0;
    cr_assert_eq(N->state, RF_FOLLOWER);
    cr_assert(!rf_quorum(N));
    cr_assert(rf_lost_quorum(N));
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_CANDIDATE);
    cr_assert(!rf_quorum(N));
    cr_assert(rf_lost_quorum(N));
    sn_add_peer(h, SN_NATS0);
    N->lsut = 0;
    rf_request_vote(N);
    sn_flush(h);
    const struct rf_msg *vr = sn_last(h, RF_MSG_VOTE_REQ);
    cr_assert_not_null(vr);
    struct rf_msg resp = {.type = RF_MSG_VOTE_RESP, .term = vr->term, .flags = RF_MF_GRANTED};
    resp.from = resp.leader = rf_id_from_str(SN_NATS0);
    rf_process_vote_response(N, &resp);
    sn_flush(h);
    cr_assert_eq(N->state, RF_LEADER);
    cr_assert(rf_quorum(N));
    cr_assert(!rf_lost_quorum(N));
    sn_free(h);
}

Test(raft_leader, catchup_rerequest_does_not_orphan_progress)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGCatchupRerequestDoesNotOrphanProgressQueue",
                    "catchups are state machines, not goroutines: a re-request replaces the "
                    "progress synchronously; no add-peer proposal from the replaced run");
    struct sn *h = sn_new();
    static uint8_t big[1024 * 1024];
    struct rf_entry e = {.type = RF_ENTRY_NORMAL, .len = sizeof(big), .data = big};
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(rf_store_to_wal(N, sn_ae_with(h, SN_NATS0, 1, 0, i ? 1 : 0, i, &e, 1)), 0);
    N->term = 1;
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(N->pindex, 4);
    struct rf_msg ar = {.type = RF_MSG_AER, .term = 1, .index = 0, .cid = 1001};
    ar.from = rf_id_from_str(SN_NATS1);
    rf_catchup_follower(N, &ar);
    cr_assert_eq(N->progress.n, 1);
    cr_assert_eq(N->progress.v[0].cid, 1001);
    cr_assert_eq(rf_store_to_wal(N, sn_ae_with(h, SN_NATS0, 1, 0, 1, 4, &e, 1)), 0);
    ar.cid = 1002;
    rf_catchup_follower(N, &ar);
    cr_assert_eq(N->progress.n, 1);
    cr_assert_eq(N->progress.v[0].cid, 1002);
    sn_flush(h);
    sn_free(h);
}

Test(raft_leader, uncommitted_membership_change_on_new_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGUncommittedMembershipChangeOnNewLeader");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    sn_add_peer(h, SN_NATS2);
    struct rf_entry e = sn_peer_entry(RF_ENTRY_REMOVE_PEER, SN_NATS2);
    sn_process(h, sn_ae_with(h, SN_NATS1, 1, 0, 0, 0, &e, 1), NEW);
    free(e.data);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!rf_healthy(N));
    N->term = 2;
    rf_switch_to_leader(N);
    sn_flush(h);
    cr_assert_eq(rf_propose_remove_peer(N, rf_id_from_str(SN_NATS1)), -EBUSY);
    sn_free(h);
}

Test(raft_leader, uncommitted_membership_change_forwarded_remove_peer)
{
    GO_TEST("server/raft_test.go",
            "TestNRGUncommittedMembershipChangeOnNewLeaderForwardedRemovePeerProposal");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    sn_add_peer(h, SN_NATS2);
    struct rf_entry e = sn_peer_entry(RF_ENTRY_REMOVE_PEER, SN_NATS2);
    sn_process(h, sn_ae_with(h, SN_NATS1, 1, 0, 0, 0, &e, 1), NEW);
    free(e.data);
    N->term = 2;
    rf_switch_to_leader(N);
    N->leader_state = true;
    sn_flush(h);
    uint64_t before = N->pindex;
    cr_assert(rf_membership_change_in_progress(N));
    rf_id p = rf_id_from_str(SN_NATS1);
    struct rf_msg m = {.type = RF_MSG_REMOVE_PEER, .data_len = RF_ID_LEN, .data = (uint8_t *)p.b};
    rf_step(N, &m);
    sn_flush(h);
    cr_assert_eq(N->pindex, before);
    cr_assert(rf_membership_change_in_progress(N));
    sn_free(h);
}

Test(raft_leader, ignore_forwarded_proposal_if_not_caught_up_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGIgnoreForwardedProposalIfNotCaughtUpLeader");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    sn_add_peer(h, SN_NATS2);
    N->term = 1;
    rf_switch_to_leader(N);
    sn_flush(h);
    N->leader_state = false; /* leader, but not caught up yet */
    uint64_t before = N->pindex;
    struct rf_msg m = {.type = RF_MSG_PROPOSAL};
    rf_step(N, &m);
    sn_flush(h);
    cr_assert_eq(N->pindex, before);
    sn_free(h);
}

Test(raft_leader, install_snapshot_force)
{
    GO_TEST("server/raft_test.go", "TestNRGInstallSnapshotForce");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    struct rf_progress p = {.peer = rf_id_from_str("blockSna"), .deadline = UINT64_MAX};
    VEC_PUSH(N->progress, p);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), -EBUSY); /* errCatchupsRunning */
    cr_assert_eq(N->papplied, 0);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, true), 0);
    cr_assert_eq(N->papplied, 1);
    sn_free(h);
}

Test(raft_leader, peers_response)
{
    GO_TEST("server/raft_test.go", "TestNRGPeersResponse");
    struct sn *h = sn_new();
    const char *ids[] = {"peer1000", "peer2000", "peer3000"};
    uint64_t lis[] = {10, 3, 0};
    for (int i = 0; i < 3; i++)
        sn_add_peer(h, ids[i]);
    for (int i = 0; i < 3; i++)
        rf_peer_find(N, rf_id_from_str(ids[i]))->li = lis[i];
    N->state = RF_LEADER;
    N->leader = N->id;
    N->pindex = N->commit = N->applied = 10;
    struct rf_peer_info pi[8];
    uint32_t np = rf_peers(N, pi, 8);
    cr_assert_eq(np, 4);
    uint64_t want_lag[] = {0, 7, 10};
    for (uint32_t k = 0; k < np; k++) {
        if (rf_id_eq(pi[k].id, N->id)) {
            cr_assert(pi[k].current && pi[k].lag == 0);
            continue;
        }
        for (int i = 0; i < 3; i++)
            if (rf_id_eq(pi[k].id, rf_id_from_str(ids[i]))) {
                cr_assert_eq(pi[k].lag, want_lag[i]);
                cr_assert_eq(pi[k].current, want_lag[i] == 0);
            }
    }
    /* As a follower. */
    N->state = RF_FOLLOWER;
    N->leader = rf_id_from_str(ids[0]);
    N->pindex = N->commit = N->applied = 0;
    for (uint32_t i = 0; i < N->peers.n; i++)
        N->peers.v[i].li = N->peers.v[i].ts = 0;
    np = rf_peers(N, pi, 8);
    for (uint32_t k = 0; k < np; k++) {
        cr_assert_eq(pi[k].lag, 0);
        cr_assert_eq(pi[k].current, rf_id_eq(pi[k].id, N->id));
    }
    rf_peer_find(N, N->leader)->ts = N->now;
    np = rf_peers(N, pi, 8);
    for (uint32_t k = 0; k < np; k++)
        if (rf_id_eq(pi[k].id, N->leader))
            cr_assert(pi[k].current);
    sn_free(h);
}

Test(raft_leader, switch_state_clears_queues)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSwitchStateClearsQueues",
                    "responses are processed synchronously, so only the proposal queue exists");
    struct sn *h = sn_new();
    rf_switch_to_candidate(N);
    rf_switch_to_leader(N);
    cr_assert_eq(rf_propose(N, N->term, "x", 1), 0);
    cr_assert_eq(N->props.n, 1);
    rf_switch_to_follower(N, (rf_id){{0}});
    cr_assert_eq(N->props.n, 0);
    sn_free(h);
}

Test(raft_leader, multiple_stops_dont_panic)
{
    GO_TEST("server/raft_test.go", "TestNRGMultipleStopsDontPanic");
    struct sn *h = sn_new();
    for (int i = 0; i < 10; i++)
        rf_stop(N);
    cr_assert_eq(N->state, RF_CLOSED);
    sn_free(h);
}
