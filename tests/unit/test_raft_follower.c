/* tests/unit/test_raft_follower.c: the follower path of the RAFT core (raftd/raft_follow.c):
 * catchups, truncation, commits and health.  Ports the single-node tests of Go
 * server/raft_test.go that feed processAppendEntry directly, on the sim_single harness.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>

#define N (h->n)
#define NEW RF_SUB_NEW
#define CID (h->n->catchup->cid)
#define LOGN (h->n->log.n)

static const char *leader_of(struct sn *h, uint64_t idx)
{
    static char buf[9];
    struct rf_rec *r = rf_log_get(&h->n->log, idx);
    cr_assert_not_null(r, "no entry at %llu", (unsigned long long)idx);
    memcpy(buf, r->leader.b, 8);
    buf[8] = 0;
    return buf;
}

Test(raft_follower, term_no_decrease_after_wal_reset)
{
    GO_TEST("server/raft_test.go", "TestNRGTermNoDecreaseAfterWALReset");
    struct sn *h = sn_new();
    struct rf_msg *ae = sn_ae(h, SN_NATS0, 20, 0, 0, 0, 1);
    sn_process(h, ae, NEW);
    cr_assert_eq(N->term, 20);
    ae->term = 3; /* a message from an old term/leader */
    sn_process(h, ae, NEW);
    cr_assert_eq(N->term, 20);
    rf_reset_wal(N);
    sn_process(h, ae, NEW);
    cr_assert_eq(N->term, 20);
    sn_free(h);
}

Test(raft_follower, truncate_wal)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateWALClearsPendingAppendEntryCache",
                    "raftd has no separate pending-entry cache: the in-memory log is truncated");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, i ? 1 : 0, i, 1), NEW);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(LOGN, 3);
    rf_truncate_wal(N, 1, 1);
    sn_flush(h);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(LOGN, 1);
    cr_assert_not_null(rf_log_get(&N->log, 1));
    cr_assert_null(rf_log_get(&N->log, 2));
    sn_free(h);
}

static void membership_revert(int kind, bool add)
{
    struct sn *h = sn_new();
    const char *peer = SN_NATS1;
    sn_add_peer(h, SN_NATS0);
    if (!add)
        sn_add_peer(h, peer);
    struct rf_entry e = sn_peer_entry(add ? RF_ENTRY_ADD_PEER : RF_ENTRY_REMOVE_PEER, peer);
    if (kind == 0) {
        rf_switch_to_leader(N);
        cr_assert(rf_send_membership_change(N, &e));
        sn_flush(h);
    } else {
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
        sn_process(h, sn_ae_with(h, SN_NATS0, 1, 0, 1, 1, &e, 1), NEW);
        if (kind == 2)
            sn_restart(h); /* the uncommitted change is rebuilt by the WAL replay */
    }
    free(e.data);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(sn_has_peer(h, peer), add);
    cr_assert_eq(N->csz, add ? 3 : 2);
    cr_assert_eq(N->qn, 2);
    cr_assert(N->memb.active);
    cr_assert_eq(N->memb.index, 2);
    cr_assert(rf_id_eq(N->memb.peer, rf_id_from_str(peer)));
    cr_assert_eq(N->memb.has_prev, !add);
    cr_assert(!rf_removed_find(N, rf_id_from_str(peer), NULL));
    rf_truncate_wal(N, 1, 1);
    sn_flush(h);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(sn_has_peer(h, peer), !add);
    cr_assert_eq(N->csz, add ? 2 : 3);
    cr_assert_eq(N->qn, 2);
    cr_assert(!N->memb.active);
    cr_assert(!rf_removed_find(N, rf_id_from_str(peer), NULL));
    sn_free(h);
}

Test(raft_follower, truncate_wal_reverts_uncommitted_add_peer)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateWALRevertsUncommittedAddPeer",
                    "no Raftz monitoring endpoint");
    membership_revert(0, true);
    membership_revert(1, true);
    membership_revert(2, true);
}

Test(raft_follower, truncate_wal_reverts_uncommitted_remove_peer)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateWALRevertsUncommittedRemovePeer",
                    "no Raftz monitoring endpoint");
    membership_revert(0, false);
    membership_revert(1, false);
    membership_revert(2, false);
}

Test(raft_follower, reset_wal)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGResetWALClearsPendingAppendEntryCache",
                    "no separate pending-entry cache");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, i ? 1 : 0, i, 1), NEW);
    cr_assert_eq(N->pindex, 3);
    rf_reset_wal(N);
    sn_flush(h);
    cr_assert_eq(N->pindex, 0);
    cr_assert_eq(LOGN, 0);
    sn_free(h);
}

Test(raft_follower, install_snapshot_compacts)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGInstallSnapshotClearsPendingAppendEntryCache",
                    "no separate pending-entry cache: the compacted log is what matters");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1, 0, i ? 1 : 0, i, 1), NEW);
    cr_assert_eq(N->commit, 0);
    struct rf_snapshot s = sn_peerstate_snapshot(h, 1, 3);
    cr_assert_eq(rf_install_snapshot_int(N, rf_snapshot_new(1, 3, s.peerstate, s.ps_len, NULL, 0)),
                 0);
    free(s.peerstate);
    sn_flush(h);
    cr_assert_eq(LOGN, 0);
    cr_assert_eq(N->papplied, 3);
    sn_free(h);
}

static struct rf_msg *snapshot_ae(struct sn *h, const char *leader, uint64_t term,
                                  uint64_t commit, uint64_t pterm, uint64_t pindex)
{
    struct rf_peerstate ps;
    rf_current_peer_state(N, &ps);
    struct rf_entry e[2] = {{.type = RF_ENTRY_SNAPSHOT}, {.type = RF_ENTRY_PEER_STATE}};
    cr_assert_eq(rf_peerstate_encode(&ps, &e[1].data, &e[1].len), 0);
    rf_peerstate_free(&ps);
    struct rf_msg *ae = sn_ae_with(h, leader, term, commit, pterm, pindex, e, 2);
    free(e[1].data);
    return ae;
}

Test(raft_follower, catchup_from_snapshot)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGCatchupFromSnapshotClearsPendingAppendEntryCache",
                    "no separate pending-entry cache");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 100, 1, 100, 0), NEW);
    cr_assert_not_null(N->catchup);
    struct rf_msg *snap = snapshot_ae(h, SN_NATS0, 1, 100, 1, 100);
    snap->lterm = 1;
    sn_process(h, snap, CID);
    cr_assert_eq(N->pindex, 100);
    cr_assert_eq(N->commit, 100);
    cr_assert_eq(LOGN, 0);
    sn_free(h);
}

Test(raft_follower, catchup_does_not_truncate_uncommitted_entries_with_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGCatchupDoesNotTruncateUncommittedEntriesWithQuorum");
    struct sn *h = sn_new();
    struct rf_msg *initial = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0);
    struct rf_msg *uncommitted = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *noquorum = sn_ae(h, SN_NATS0, 1, 1, 1, 2, 1);
    struct rf_msg *missed = sn_ae(h, SN_NATS1, 2, 1, 1, 2, 1);
    struct rf_msg *trigger = sn_ae(h, SN_NATS1, 2, 1, 2, 3, 1);
    struct rf_msg *hb2 = sn_ae(h, SN_NATS1, 2, 2, 2, 4, 0);
    struct rf_msg *hb3 = sn_ae(h, SN_NATS1, 2, 4, 2, 4, 0);

    sn_process(h, initial, NEW);
    cr_assert_eq(LOGN, 1);
    cr_assert_str_eq(leader_of(h, 1), SN_NATS0);
    sn_process(h, hb, NEW);
    cr_assert_eq(N->commit, 1);
    sn_process(h, uncommitted, NEW);
    cr_assert_eq(LOGN, 2);
    sn_process(h, noquorum, NEW);
    cr_assert_eq(LOGN, 3);
    /* New leader; we missed one message: truncate the last one. */
    sn_process(h, trigger, NEW);
    cr_assert_eq(LOGN, 2);
    cr_assert_null(N->catchup);
    sn_process(h, hb2, NEW);
    cr_assert_eq(LOGN, 2);
    cr_assert_eq(N->commit, 1);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 1);
    cr_assert_eq(N->catchup->pindex, 2);
    missed->lterm = trigger->lterm = 2;
    sn_process(h, missed, CID);
    cr_assert_eq(LOGN, 3);
    cr_assert_not_null(N->catchup);
    sn_process(h, trigger, CID);
    cr_assert_eq(LOGN, 4);
    cr_assert_not_null(N->catchup);
    cr_assert_str_eq(leader_of(h, 4), SN_NATS1);
    sn_process(h, hb3, NEW);
    cr_assert_eq(N->commit, 4);
    cr_assert_null(N->catchup);
    sn_free(h);
}

Test(raft_follower, catchup_can_truncate_multiple_entries_without_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGCatchupCanTruncateMultipleEntriesWithoutQuorum");
    struct sn *h = sn_new();
    struct rf_msg *initial = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0);
    struct rf_msg *nq1 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *nq2 = sn_ae(h, SN_NATS0, 1, 1, 1, 2, 1);
    struct rf_msg *missed1 = sn_ae(h, SN_NATS1, 2, 1, 1, 1, 1);
    struct rf_msg *missed2 = sn_ae(h, SN_NATS1, 2, 1, 2, 2, 1);
    struct rf_msg *trigger = sn_ae(h, SN_NATS1, 2, 1, 2, 3, 1);
    struct rf_msg *hb2 = sn_ae(h, SN_NATS1, 2, 2, 2, 4, 0);
    struct rf_msg *hb3 = sn_ae(h, SN_NATS1, 2, 4, 2, 4, 0);
    missed1->lterm = missed2->lterm = trigger->lterm = 2;

    sn_process(h, initial, NEW);
    sn_process(h, hb, NEW);
    cr_assert_eq(N->commit, 1);
    sn_process(h, nq1, NEW);
    sn_process(h, nq2, NEW);
    cr_assert_eq(LOGN, 3);
    trigger->lterm = 0;
    sn_process(h, trigger, NEW);
    cr_assert_eq(LOGN, 2);
    cr_assert_null(N->catchup);
    sn_process(h, hb2, NEW);
    cr_assert_eq(LOGN, 2);
    cr_assert_eq(N->commit, 1);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 1);
    cr_assert_eq(N->catchup->pindex, 2);
    /* The leader has a different entry at the no-quorum index: truncate again. */
    sn_process(h, missed2, CID);
    cr_assert_eq(LOGN, 1);
    cr_assert_null(N->catchup);
    sn_process(h, hb2, NEW);
    cr_assert_eq(LOGN, 1);
    cr_assert_eq(N->commit, 1);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 1);
    cr_assert_eq(N->catchup->pindex, 1);
    sn_process(h, missed1, CID);
    cr_assert_eq(LOGN, 2);
    cr_assert_not_null(N->catchup);
    sn_process(h, missed2, CID);
    cr_assert_eq(LOGN, 3);
    cr_assert_not_null(N->catchup);
    trigger->lterm = 2;
    sn_process(h, trigger, CID);
    cr_assert_eq(LOGN, 4);
    cr_assert_not_null(N->catchup);
    cr_assert_str_eq(leader_of(h, 4), SN_NATS1);
    sn_process(h, hb3, NEW);
    cr_assert_eq(N->commit, 4);
    cr_assert_null(N->catchup);
    sn_free(h);
}

Test(raft_follower, catchup_does_not_truncate_committed_entries_during_redelivery)
{
    GO_TEST("server/raft_test.go", "TestNRGCatchupDoesNotTruncateCommittedEntriesDuringRedelivery");
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *hb1 = sn_ae(h, SN_NATS0, 1, 2, 1, 2, 0);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 1, 1, 1, 2, 1);
    struct rf_msg *hb2 = sn_ae(h, SN_NATS0, 1, 3, 1, 3, 0);
    sn_process(h, m1, NEW);
    cr_assert_eq(LOGN, 1);
    sn_process(h, m2, NEW);
    cr_assert_eq(LOGN, 2);
    sn_process(h, hb1, NEW);
    cr_assert_eq(N->commit, 2);
    sn_process(h, m3, NEW);
    cr_assert_eq(LOGN, 3);
    sn_process(h, m1, NEW); /* redelivery */
    cr_assert_eq(N->commit, 2);
    sn_process(h, hb2, NEW);
    cr_assert_eq(N->commit, 3);
    sn_free(h);
}

Test(raft_follower, catchup_from_new_leader_with_incorrect_pterm)
{
    GO_TEST("server/raft_test.go", "TestNRGCatchupFromNewLeaderWithIncorrectPterm");
    struct sn *h = sn_new();
    struct rf_msg *msg = sn_ae(h, SN_NATS0, 1, 0, 1, 0, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0);
    msg->lterm = 1;
    sn_process(h, hb, NEW);
    cr_assert_eq(N->commit, 0);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 0);
    cr_assert_eq(N->catchup->pindex, 0);
    sn_process(h, msg, CID); /* wrong pterm: stop and re-trigger later */
    cr_assert_null(N->catchup);
    cr_assert_eq(N->pterm, 1);
    cr_assert_eq(N->pindex, 0);
    sn_process(h, hb, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 1);
    cr_assert_eq(N->catchup->pindex, 0);
    sn_process(h, msg, CID);
    cr_assert_eq(LOGN, 1);
    cr_assert_str_eq(leader_of(h, 1), SN_NATS0);
    sn_process(h, hb, NEW);
    cr_assert_eq(N->commit, 1);
    sn_free(h);
}

Test(raft_follower, dont_remove_snapshot_if_truncate_to_applied)
{
    GO_TEST("server/raft_test.go", "TestNRGDontRemoveSnapshotIfTruncateToApplied");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(LOGN, 1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(N->pterm, 1);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    sn_flush(h);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 1);
    rf_truncate_wal(N, N->pterm, N->applied);
    sn_flush(h);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 1);
    cr_assert_not_null(N->snap);
    sn_free(h);
}

Test(raft_follower, snapshot_and_truncate_to_applied)
{
    GO_TEST("server/raft_test.go", "TestNRGSnapshotAndTruncateToApplied");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS1);
    struct rf_msg *m1 = sn_ae(h, SN_NATS1, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS1, 1, 1, 1, 1, 1);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 2, 3, 1, 3, 1);
    struct rf_msg *hb2 = sn_ae(h, SN_NATS1, 3, 3, 1, 3, 0);
    sn_process(h, m1, NEW);
    cr_assert_eq(N->commit, 0);
    cr_assert_eq(LOGN, 1);
    sn_process(h, m2, NEW);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(LOGN, 2);
    rf_applied(N, 1, NULL);
    /* We temporarily became leader; the heartbeat response commits our no-op. */
    rf_switch_to_leader(N);
    sn_flush(h);
    N->term = 2;
    sn_aer(h, 2, 3, SN_NATS1, true);
    cr_assert_eq(N->commit, 3);
    rf_applied(N, 3, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    sn_flush(h);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 1);
    cr_assert_eq(LOGN, 0);
    /* A third message stays uncommitted. */
    cr_assert_eq(rf_store_to_wal(N, m3), 0);
    sn_flush(h);
    cr_assert_eq(N->commit, 3);
    cr_assert_eq(LOGN, 1);
    cr_assert_str_eq(leader_of(h, 4), SN_NATS0);
    /* A heartbeat from the new leader must not lose commits. */
    rf_stepdown(N, (rf_id){{0}});
    sn_process(h, hb2, NEW);
    cr_assert_eq(LOGN, 0);
    cr_assert_eq(N->commit, 3);
    cr_assert_eq(N->applied, 3);
    sn_free(h);
}

Test(raft_follower, ignore_double_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGIgnoreDoubleSnapshot");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(N->pindex, 1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    sn_process(h, sn_ae(h, SN_NATS0, 2, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(N->pterm, 2);
    cr_assert_eq(N->term, 2);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->snap->term, 1);
    cr_assert_eq(N->snap->index, 1);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), -ENOENT); /* errNoSnapAvailable */
    cr_assert_eq(N->snap->index, 1);
    sn_free(h);
}

Test(raft_follower, dont_switch_to_candidate_with_inflight_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGDontSwitchToCandidateWithInflightSnapshot");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 0);
    struct rf_msg *snap = snapshot_ae(h, SN_NATS0, 1, 1, 1, 1);
    snap->lterm = 1;
    sn_process(h, snap, CID);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->commit, 1);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_FOLLOWER);
    rf_applied(N, 1, NULL);
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_CANDIDATE);
    sn_free(h);
}

Test(raft_follower, dont_switch_to_candidate_with_multiple_inflight_snapshots)
{
    GO_TEST("server/raft_test.go", "TestNRGDontSwitchToCandidateWithMultipleInflightSnapshots");
    struct sn *h = sn_new();
    sn_process(h, snapshot_ae(h, SN_NATS0, 1, 0, 0, 0), NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->commit, 0);
    sn_process(h, snapshot_ae(h, SN_NATS0, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(N->commit, 1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 2, 1, 2, 0), NEW);
    cr_assert_eq(N->commit, 2);
    cr_assert_eq(N->applied, 0);
    for (uint64_t i = 1; i <= 2; i++) {
        rf_switch_to_candidate(N);
        cr_assert_eq(N->state, RF_FOLLOWER);
        rf_applied(N, i, NULL);
    }
    rf_switch_to_candidate(N);
    cr_assert_eq(N->state, RF_CANDIDATE);
    sn_free(h);
}

Test(raft_follower, cancel_catchup_on_higher_term_vote_request)
{
    GO_TEST("server/raft_test.go", "TestNRGCancelCatchupWhenDetectingHigherTermDuringVoteRequest");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert_not_null(N->catchup);
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    m1->lterm = 1;
    sn_process(h, m1, CID);
    cr_assert_not_null(N->catchup);
    /* A vote request must cancel the catchup, or it could give the old leader quorum. */
    cr_assert_neq(sn_vote(h, 2, 1, 1, SN_NATS0), -1);
    cr_assert_null(N->catchup);
    sn_free(h);
}

Test(raft_follower, truncate_down_to_committed)
{
    GO_TEST("server/raft_test.go", "TestNRGTruncateDownToCommitted");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(N->commit, 0);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(LOGN, 2);
    /* Another leader: truncate to the commit and store right after it. */
    sn_process(h, sn_ae(h, SN_NATS1, 2, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(LOGN, 2);
    cr_assert_str_eq(leader_of(h, 2), SN_NATS1);
    sn_process(h, sn_ae(h, SN_NATS1, 2, 2, 2, 2, 0), NEW);
    cr_assert_eq(N->commit, 2);
    sn_free(h);
}

Test(raft_follower, truncate_down_to_committed_when_truncate_fails)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateDownToCommittedWhenTruncateFails",
                    "the truncate fails in the driver after the core truncated its in-memory log, "
                    "so pindex/pterm are not kept; the write error closes the node like Go's werr");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->commit, 1);
    sim_disk_fail_writes(h->disk, 1000);
    sn_process(h, sn_ae(h, SN_NATS1, 2, 1, 1, 1, 1), NEW);
    cr_assert_neq(rf_write_err(N), 0);
    cr_assert_eq(N->state, RF_CLOSED);
    sn_free(h);
}
