/* tests/unit/test_raft_apply.c: applying commits, quorum pausing, membership tracking on
 * followers and votes on a single node (raftd/raft_apply.c, raft_follow.c, raft_member.c,
 * raft_elect.c).  Ports single-node tests of Go server/raft_test.go.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>

#define N (h->n)
#define NEW RF_SUB_NEW
#define CID (h->n->catchup->cid)
#define LOGN (h->n->log.n)
#define TH 100000ull /* Go's pauseQuorumThreshold */
#define WARN 10000ull /* Go's paeWarnThreshold */

Test(raft_apply, size_and_applied)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSizeAndApplied",
                    "byte counts follow raftd's record format, not the filestore's 105 bytes");
    struct sn *h = sn_new();
    uint64_t entries, bytes;
    rf_size(N, &entries, &bytes);
    cr_assert(entries == 0 && bytes == 0);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1)), 0);
    rf_size(N, &entries, &bytes);
    uint64_t one = bytes;
    cr_assert(entries == 1 && one > 0);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1)), 0);
    sn_flush(h);
    rf_size(N, &entries, &bytes);
    cr_assert(entries == 2 && bytes == 2 * one);
    N->commit = 1;
    cr_assert_eq(rf_applied(N, 1, &bytes), 1);
    cr_assert_eq(bytes, one);
    N->commit = 2;
    cr_assert_eq(rf_applied(N, 2, &bytes), 2);
    cr_assert_eq(bytes, 2 * one);
    N->applied = 1;
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->papplied, 1);
    cr_assert_eq(N->log.bytes, one);
    rf_size(N, &entries, &bytes);
    cr_assert(entries == 1 && bytes == one);
    cr_assert_eq(rf_applied(N, 2, &bytes), 1);
    cr_assert_eq(bytes, one);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->papplied, 2);
    rf_size(N, &entries, &bytes);
    cr_assert(entries == 0 && bytes == 0);
    sn_free(h);
}

static void pauses_quorum(bool is_new)
{
    struct sn *h = sn_new();
    uint64_t sub = is_new ? NEW : RF_SUB_REPLAY;
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 0);
    sn_process(h, hb, sub);
    cr_assert_eq(sn_count(h, RF_MSG_AER), is_new ? 1 : 0);
    sn_clear(h);
    N->commit = TH;
    N->applied = N->processed = 0;
    sn_process(h, hb, sub); /* exactly at the threshold still works */
    cr_assert_eq(sn_count(h, RF_MSG_AER), is_new ? 1 : 0);
    sn_clear(h);
    N->commit = TH + 1;
    sn_process(h, hb, sub);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    cr_assert_eq(N->quorum_paused, is_new);
    N->applied = N->processed = N->commit - WARN - 1;
    sn_process(h, hb, sub);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    cr_assert_eq(N->quorum_paused, is_new);
    N->applied = N->processed = N->commit - WARN;
    sn_process(h, hb, sub);
    cr_assert(!N->quorum_paused);
    cr_assert_eq(sn_count(h, RF_MSG_AER), is_new ? 1 : 0);
    sn_clear(h);
    if (is_new) {
        /* Guard against an underflow: unpause shortly after a snapshot install. */
        N->quorum_paused = true;
        N->applied = N->processed = N->papplied = WARN;
        N->commit = WARN;
        sn_process(h, hb, sub);
        cr_assert(!N->quorum_paused);
        cr_assert_eq(sn_count(h, RF_MSG_AER), 1);
    }
    N->commit = N->applied = N->processed = N->papplied = 0;
    sn_free(h);
}

Test(raft_apply, follower_pauses_quorum_if_overrun)
{
    GO_TEST("server/raft_test.go", "TestNRGFollowerPausesQuorumIfOverrun");
    pauses_quorum(false);
    pauses_quorum(true);
}

Test(raft_apply, switch_to_candidate_resets_quorum_paused)
{
    GO_TEST("server/raft_test.go", "TestNRGSwitchToCandidateResetsQuorumPaused");
    struct sn *h = sn_new();
    N->quorum_paused = true;
    cr_assert_eq(N->term, 0);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->term, 1);
    cr_assert(!N->quorum_paused);
    sn_free(h);
}

static void pausing_cancels_catchup(bool already)
{
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    sn_process(h, sn_ae(h, SN_NATS1, 2, 1, 2, 3, 1), NEW);
    cr_assert_not_null(N->catchup);
    uint64_t cid = CID;
    if (already) {
        N->quorum_paused = true;
        N->commit = WARN + 1;
    } else {
        N->commit = TH + 1;
    }
    N->applied = N->processed = N->papplied = 0;
    struct rf_msg *c = sn_ae(h, SN_NATS1, 2, 1, 1, 1, 1);
    c->lterm = 2;
    sn_process(h, c, cid);
    cr_assert_null(N->catchup);
    cr_assert(N->quorum_paused);
    N->commit = 1;
    sn_free(h);
}

Test(raft_apply, pausing_quorum_cancels_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGPausingQuorumCancelsCatchup");
    pausing_cancels_catchup(false);
    pausing_cancels_catchup(true);
}

Test(raft_apply, apply_commit_does_not_reset_wal_at_snapshot_boundary)
{
    GO_TEST("server/raft_test.go", "TestNRGApplyCommitDoesNotResetWALAtSnapshotBoundary");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, i ? 1 : 0, i, 1), NEW);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(N->commit, 0);
    struct rf_snapshot s = sn_peerstate_snapshot(h, 1, 2);
    cr_assert_eq(rf_install_snapshot_int(N, rf_snapshot_new(1, 2, s.peerstate, s.ps_len, NULL, 0)),
                 0);
    free(s.peerstate);
    sn_flush(h);
    cr_assert_eq(N->papplied, 2);
    cr_assert_eq(N->commit, 0);
    cr_assert_eq(rf_log_first(&N->log), 3);
    cr_assert_eq(LOGN, 1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 3, 1, 3, 0), NEW);
    cr_assert_eq(rf_log_first(&N->log), 3);
    cr_assert_eq(LOGN, 1);
    cr_assert_eq(N->commit, 3);
    sn_free(h);
}

Test(raft_apply, term_mismatch_does_not_regress_commit)
{
    GO_TEST("server/raft_test.go", "TestNRGProcessAppendEntryTermMismatchDoesNotRegressCommit");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 5; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, i, i ? 1 : 0, i, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 5, 1, 5, 0), NEW);
    cr_assert_eq(N->commit, 5);
    cr_assert_eq(N->pindex, 5);
    sn_process(h, sn_ae(h, SN_NATS0, 2, 5, 2, 5, 1), NEW);
    cr_assert_eq(N->commit, 5);
    sn_free(h);
}

Test(raft_apply, append_entry_resurrects_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGAppendEntryResurrectsLeader");
    struct sn *h = sn_new();
    const char *s2 = "z3WIzPtj";
    sn_add_peer(h, s2);
    cr_assert_eq(N->peers.n, 2);
    cr_assert_eq(rf_cluster_size(N), 2);
    struct rf_entry e = sn_peer_entry(RF_ENTRY_REMOVE_PEER, s2);
    sn_process(h, sn_ae_with(h, s2, 1, 0, 0, 0, &e, 1), NEW);
    free(e.data);
    sn_process(h, sn_ae(h, s2, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->peers.n, 1);
    cr_assert_eq(rf_cluster_size(N), 1);
    /* Another append entry from the removed leader must not resurrect it. */
    sn_process(h, sn_ae(h, s2, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->peers.n, 1);
    cr_assert_eq(rf_cluster_size(N), 1);
    sn_free(h);
}

Test(raft_apply, uncommitted_membership_change_gets_truncated)
{
    GO_TEST("server/raft_test.go", "TestNRGUncommittedMembershipChangeGetsTruncated");
    struct sn *h = sn_new();
    struct rf_entry e = sn_peer_entry(RF_ENTRY_ADD_PEER, SN_NATS1);
    sn_process(h, sn_ae(h, SN_NATS1, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae_with(h, SN_NATS1, 1, 0, 1, 1, &e, 1), NEW);
    free(e.data);
    cr_assert_eq(N->pindex, 2);
    cr_assert(rf_membership_change_in_progress(N));
    cr_assert_eq(N->memb.index, 2);
    rf_truncate_wal(N, N->pterm, N->pindex);
    cr_assert(rf_membership_change_in_progress(N));
    cr_assert_eq(N->memb.index, 2);
    rf_truncate_wal(N, N->pterm, N->pindex - 1);
    cr_assert(!rf_membership_change_in_progress(N));
    sn_free(h);
}

Test(raft_apply, dont_switch_to_candidate_with_inflight_self_membership_change)
{
    GO_TEST("server/raft_test.go", "TestNRGDontSwitchToCandidateWithInflightSelfMembershipChange");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    sn_add_peer(h, SN_NATS1);
    cr_assert_eq(N->peers.n, 3);
    struct rf_entry e = sn_peer_entry(RF_ENTRY_REMOVE_PEER, SN_SELF);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae_with(h, SN_NATS0, 1, 1, 1, 1, &e, 1), NEW);
    free(e.data);
    cr_assert(!sn_has_peer(h, SN_SELF));
    cr_assert(N->memb.active);
    cr_assert(rf_id_eq(N->memb.peer, N->id));
    cr_assert_eq(N->memb.index, 2);
    rf_applied(N, 1, NULL);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_FOLLOWER);
    rf_truncate_wal(N, 1, 1);
    cr_assert(sn_has_peer(h, SN_SELF));
    cr_assert(!N->memb.active);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_CANDIDATE);
    sn_free(h);
}

static void snapshot_excludes(bool add)
{
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    if (!add)
        sn_add_peer(h, SN_NATS1);
    struct rf_entry e = sn_peer_entry(add ? RF_ENTRY_ADD_PEER : RF_ENTRY_REMOVE_PEER, SN_NATS1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae_with(h, SN_NATS0, 1, 1, 1, 1, &e, 1), NEW);
    free(e.data);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(sn_has_peer(h, SN_NATS1), add);
    cr_assert_eq(N->csz, add ? 3 : 2);
    cr_assert(N->memb.active);
    cr_assert_eq(N->memb.index, 2);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->snap->index, 1);
    struct rf_peerstate ps;
    cr_assert_eq(rf_peerstate_decode(N->snap->peerstate, N->snap->ps_len, &ps), 0);
    /* Only committed membership goes into the snapshot. */
    bool has = false;
    for (uint32_t i = 0; i < ps.n_peers; i++)
        has |= rf_id_eq(ps.peers[i], rf_id_from_str(SN_NATS1));
    cr_assert_eq(ps.cluster_size, add ? 2 : 3);
    cr_assert_eq(ps.n_peers, add ? 2 : 3);
    cr_assert_eq(has, !add);
    rf_peerstate_free(&ps);
    sn_free(h);
}

Test(raft_apply, snapshot_excludes_uncommitted_membership_change)
{
    GO_TEST("server/raft_test.go", "TestNRGSnapshotExcludesUncommittedMembershipChange");
    snapshot_excludes(true);
    snapshot_excludes(false);
}

static void signal_lead_change(int kind)
{
    struct sn *h = sn_new();
    cr_assert_eq(rf_campaign_immediately(N), 0);
    if (kind >= 1)
        rf_switch_to_candidate(N);
    if (kind == 2) {
        rf_switch_to_leader(N);
        sn_flush(h);
        cr_assert(!sn_lead_change(h, NULL, NULL)); /* not until the no-op is applied */
    }
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    bool is_leader = true;
    cr_assert(sn_lead_change(h, &is_leader, NULL));
    cr_assert(!is_leader);
    cr_assert_eq(N->state, RF_FOLLOWER);
    cr_assert(rf_id_eq(N->leader, rf_id_from_str(SN_NATS0)));
    cr_assert_eq(N->term, 1);
    sn_free(h);
}

Test(raft_apply, signal_lead_change_false_if_campaign_immediately)
{
    GO_TEST("server/raft_test.go", "TestNRGSignalLeadChangeFalseIfCampaignImmediately");
    signal_lead_change(0);
    signal_lead_change(1);
    signal_lead_change(2);
}

Test(raft_apply, must_not_reset_vote_on_stepdown_or_leader_transfer)
{
    GO_TEST("server/raft_test.go", "TestNRGMustNotResetVoteOnStepDownOrLeaderTransfer");
    struct sn *h = sn_new();
    cr_assert_neq(sn_vote(h, 1, 0, 0, SN_NATS0), -1);
    cr_assert_eq(N->term, 1);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str(SN_NATS0)));
    N->state = RF_LEADER;
    cr_assert_eq(rf_step_down(N, NULL), 0);
    sn_flush(h);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str(SN_NATS0)));
    struct rf_entry e = sn_peer_entry(RF_ENTRY_LEADER_TRANSFER, SN_NATS0);
    sn_process(h, sn_ae_with(h, SN_NATS0, 1, 0, 0, 0, &e, 1), NEW);
    free(e.data);
    cr_assert_eq(N->term, 1);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str(SN_NATS0)));
    sn_free(h);
}

Test(raft_apply, initialize_and_scale_up)
{
    GO_TEST("server/raft_test.go", "TestNRGInitializeAndScaleUp");
    struct sn *h = sn_new();
    cr_assert(N->initializing);
    N->scale_up = true;
    rf_set_observer(N, true);
    cr_assert_eq(N->term, 0);
    /* Votes, and drops the "empty vote" notion while initializing. */
    int f = sn_vote(h, 1, 0, 0, SN_NATS0);
    cr_assert_eq(N->term, 1);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str(SN_NATS0)));
    cr_assert(N->initializing && N->scale_up && N->observer);
    cr_assert(f & RF_MF_GRANTED);
    cr_assert(!(f & RF_MF_EMPTY));
    /* An append entry ends scale up and observer mode. */
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 0, 0, 1), NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!N->initializing && !N->scale_up && !N->observer);
    rf_reset_wal(N);
    cr_assert_eq(N->pindex, 0);
    /* After a WAL reset the vote is an "empty vote". */
    f = sn_vote(h, 2, 0, 0, "_random_");
    cr_assert_eq(N->term, 2);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str("_random_")));
    cr_assert(f & RF_MF_GRANTED);
    cr_assert(f & RF_MF_EMPTY);
    /* A snapshot on catchup also resets it. */
    N->initializing = N->scale_up = true;
    rf_set_observer(N, true);
    struct rf_peerstate ps;
    rf_current_peer_state(N, &ps);
    struct rf_entry es[2] = {{.type = RF_ENTRY_SNAPSHOT}, {.type = RF_ENTRY_PEER_STATE}};
    cr_assert_eq(rf_peerstate_encode(&ps, &es[1].data, &es[1].len), 0);
    rf_peerstate_free(&ps);
    struct rf_msg *snap = sn_ae_with(h, SN_NATS0, 2, 1, 1, 1, es, 2);
    free(es[1].data);
    snap->lterm = 2;
    rf_create_catchup(N, snap);
    sn_process(h, snap, CID);
    cr_assert(!N->initializing && !N->scale_up && !N->observer);
    rf_reset_wal(N);
    cr_assert_eq(N->pindex, 0);
    /* Initializing but not scaling up: not an empty vote either. */
    N->initializing = true;
    f = sn_vote(h, 3, 0, 0, "_random_");
    cr_assert_eq(N->term, 3);
    cr_assert(f & RF_MF_GRANTED);
    /* Go reports a non-empty vote here; raftd's reset below commit marks the node for
     * repair, and a node in repair only ever gives empty votes. */
    cr_assert(N->repair ? (f & RF_MF_EMPTY) : !(f & RF_MF_EMPTY));
    sn_free(h);
}
