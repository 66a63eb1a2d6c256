/* tests/unit/test_raft_snapshot.c: snapshot checkpoints, Reset and single-node election
 * details of the RAFT core (raftd/raft_apply.c, raft_elect.c, raft_node.c).  Ports
 * single-node tests of Go server/raft_test.go on the sim_single harness.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>

#define N (h->n)
#define NEW RF_SUB_NEW

Test(raft_snapshot, append_entries_seq_stops_on_range_break)
{
    GO_TEST("server/raft_test.go", "TestNRGAppendEntriesSeqStopsOnRangeBreak");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 2, 1, 2, 0), NEW);
    rf_applied(N, 2, NULL);
    struct rf_checkpoint *c;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    struct rf_msg ae;
    int calls = 0;
    while (rf_checkpoint_next(c, &ae) > 0) {
        calls++;
        break; /* the caller may stop early */
    }
    cr_assert_eq(calls, 1);
    rf_checkpoint_abort(c);
    rf_checkpoint_free(c);
    sn_free(h);
}

static int iterate(struct rf_checkpoint *c, int *count, uint64_t first_pindex)
{
    struct rf_msg ae;
    int rc;
    *count = 0;
    while ((rc = rf_checkpoint_next(c, &ae)) > 0) {
        cr_assert_eq(ae.pindex, first_pindex + (uint64_t)*count);
        (*count)++;
    }
    return rc;
}

Test(raft_snapshot, install_snapshot_from_checkpoint)
{
    GO_TEST("server/raft_test.go", "TestNRGInstallSnapshotFromCheckpoint");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert(N->pindex == 2 && N->commit == 1);
    rf_applied(N, 1, NULL);
    struct rf_checkpoint *c;
    const uint8_t *data;
    uint64_t len;
    int count;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ENOENT);
    cr_assert_eq(iterate(c, &count, 0), 0);
    cr_assert_eq(count, 1);
    cr_assert_eq(rf_checkpoint_install(c, "old", 3, NULL), 0);
    cr_assert_eq(memcmp(N->snap->data, "old", 3), 0);
    /* Installed: the checkpoint is done, everything reports aborted. */
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ECANCELED);
    cr_assert_eq(iterate(c, &count, 0), -ECANCELED);
    cr_assert_eq(rf_checkpoint_install(c, NULL, 0, NULL), -ECANCELED);
    rf_checkpoint_free(c);

    sn_process(h, sn_ae(h, SN_NATS0, 1, 2, 1, 2, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 3, 1, 3, 1), NEW);
    cr_assert(N->pindex == 4 && N->commit == 3);
    rf_applied(N, 3, NULL);
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    struct rf_checkpoint *c2;
    cr_assert_eq(rf_checkpoint_create(N, false, &c2), -EINPROGRESS);
    rf_checkpoint_abort(c);
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ECANCELED);
    cr_assert_eq(iterate(c, &count, 0), -ECANCELED);
    cr_assert_eq(rf_checkpoint_install(c, NULL, 0, NULL), -ECANCELED);
    rf_checkpoint_free(c);

    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), 0);
    cr_assert(len == 3 && memcmp(data, "old", 3) == 0);
    cr_assert_eq(iterate(c, &count, 1), 0);
    cr_assert_eq(count, 2);
    cr_assert_eq(rf_checkpoint_install(c, "new", 3, NULL), 0);
    cr_assert_eq(memcmp(N->snap->data, "new", 3), 0);
    rf_checkpoint_free(c);

    sn_process(h, sn_ae(h, SN_NATS0, 1, 4, 1, 4, 0), NEW);
    cr_assert_eq(N->commit, 4);
    rf_applied(N, 4, NULL);
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), -EINPROGRESS);
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), 0);
    cr_assert(len == 3 && memcmp(data, "new", 3) == 0);
    /* The internal install (catchup) wins and aborts the checkpoint. */
    struct rf_snapshot *s = N->snap;
    cr_assert_eq(rf_install_snapshot_int(N, rf_snapshot_new(s->term, s->index + 1, s->peerstate,
                                                            s->ps_len, s->data, s->data_len)),
                 0);
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ECANCELED);
    N->snapshotting = true;
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ESTALE); /* index mismatch */
    rf_checkpoint_free(c);
    sn_free(h);
}

static void checkpoint_closed(bool del)
{
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    struct rf_checkpoint *c;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    rf_stop(N);
    if (del)
        sim_disk_wipe(h->disk);
    const uint8_t *data;
    uint64_t len;
    int count;
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), -ESHUTDOWN);
    cr_assert_eq(iterate(c, &count, 0), -ESHUTDOWN);
    cr_assert_eq(rf_checkpoint_install(c, NULL, 0, NULL), -ESHUTDOWN);
    rf_checkpoint_free(c);
    sn_free(h);
}

Test(raft_snapshot, snapshot_checkpoint_node_closed)
{
    GO_TEST("server/raft_test.go", "TestNRGSnapshotCheckpointNodeClosed");
    checkpoint_closed(false);
    checkpoint_closed(true);
}

Test(raft_snapshot, install_snapshot_from_checkpoint_after_truncate_to_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGInstallSnapshotFromCheckpointAfterTruncateToSnapshot");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->papplied, 1);
    /* Caught up from a leader with a snapshot. */
    struct rf_snapshot t = sn_peerstate_snapshot(h, 1, 100);
    N->pterm = 1;
    N->pindex = N->commit = 100;
    cr_assert_eq(rf_install_snapshot_int(N, rf_snapshot_new(1, 100, t.peerstate, t.ps_len,
                                                            "catchup", 7)),
                 0);
    free(t.peerstate);
    sn_flush(h);
    cr_assert_eq(N->papplied, 100);
    cr_assert_eq(N->applied, 1);
    rf_truncate_wal(N, 1, 100);
    sn_flush(h);
    cr_assert_eq(N->papplied, 100);
    struct rf_checkpoint *c;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), -ENOENT);
    rf_applied(N, 100, NULL);
    cr_assert_eq(N->applied, 100);
    cr_assert_eq(rf_checkpoint_create(N, false, &c), -ENOENT);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 100, 1, 100, 1), NEW);
    cr_assert(N->pindex == 101 && N->commit == 100);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 101, 1, 101, 0), NEW);
    cr_assert_eq(N->commit, 101);
    rf_applied(N, 101, NULL);
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    const uint8_t *data;
    uint64_t len;
    cr_assert_eq(rf_checkpoint_load_last_snapshot(c, &data, &len), 0);
    cr_assert(len == 7 && memcmp(data, "catchup", 7) == 0);
    int count;
    cr_assert_eq(iterate(c, &count, 100), 0);
    cr_assert_eq(count, 1);
    rf_checkpoint_free(c);
    sn_free(h);
}

Test(raft_snapshot, checkpoint_install_snapshot_aborted)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGCheckpointInstallSnapshotAbortDuringWrite",
                    "the core is single threaded: an abort can only come before the install, "
                    "which then writes no snapshot file at all");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 0), NEW);
    rf_applied(N, 1, NULL);
    struct rf_checkpoint *c;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), 0);
    cr_assert(N->snapshotting);
    N->snapshotting = false; /* aborted meanwhile */
    cr_assert_eq(rf_checkpoint_install(c, "data", 4, NULL), -ECANCELED);
    sn_flush(h);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 0); /* no orphan */
    rf_checkpoint_free(c);
    sn_free(h);
}

Test(raft_snapshot, reset)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGReset",
                    "no separate entry/vote/response queues to drain (processed synchronously)");
    struct sn *h = sn_new();
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1)), 0);
    cr_assert_eq(rf_store_to_wal(N, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1)), 0);
    sn_flush(h);
    cr_assert_eq(N->pindex, 2);
    N->commit = N->applied = N->processed = 2;
    N->hcommit = 2;
    N->term = 7;
    N->vote = rf_id_from_str(SN_NATS1);
    rf_write_term_vote(N);
    cr_assert_eq(rf_install_snapshot(N, "snap", 4, false), 0);
    sn_flush(h);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 1);
    sim_disk_write(h->disk, "snap.9.9", (const uint8_t *)"orphan", 6);
    sn_add_peer(h, SN_NATS1);
    rf_update_leader(N, rf_id_from_str(SN_NATS1));
    cr_assert_eq(rf_propose(N, N->term, "x", 1), -EPERM);
    struct rf_checkpoint *c;
    N->applied = 2;
    cr_assert_eq(rf_checkpoint_create(N, false, &c), -ENOENT); /* entry 2 is compacted */
    N->snapshotting = true; /* an in-flight async checkpoint */
    rf_set_observer_int(N, true, 1);
    rf_reset(N);
    sn_flush(h);
    cr_assert(N->pterm == 0 && N->pindex == 0 && N->commit == 0 && N->applied == 0);
    cr_assert(N->processed == 0 && N->papplied == 0 && N->hcommit == 0);
    cr_assert_eq(N->peers.n, 1);
    cr_assert(sn_has_peer(h, SN_SELF));
    cr_assert(N->csz == 1 && N->qn == 1);
    cr_assert(rf_id_none(N->leader));
    cr_assert_eq(N->state, RF_FOLLOWER);
    cr_assert(N->observer);
    cr_assert_eq(N->ext, 1);
    cr_assert_eq(N->term, 0);
    cr_assert(rf_id_none(N->vote));
    cr_assert_null(N->snap);
    cr_assert(!N->snapshotting);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 0);
    cr_assert_eq(N->log.n, 0);
    cr_assert(!N->repair);
    /* The reset is durable. */
    sn_restart(h);
    cr_assert(N->pindex == 0 && N->term == 0 && N->peers.n == 1);
    sn_free(h);
}

Test(raft_snapshot, switch_to_candidate_resets_vote)
{
    GO_TEST("server/raft_test.go", "TestNRGSwitchToCandidateResetsVote");
    struct sn *h = sn_new();
    cr_assert_eq(N->term, 0);
    N->vote = rf_id_from_str(SN_NATS0);
    rf_switch_to_candidate(N);
    sn_flush(h);
    cr_assert_eq(N->term, 1);
    cr_assert(rf_id_none(N->vote));
    /* Written to disk. */
    uint8_t *b;
    int64_t len = sim_disk_read(h->disk, "meta.b", &b);
    cr_assert_gt(len, 0);
    struct rf_meta m;
    cr_assert_eq(rf_meta_decode(b, (uint32_t)len, &m), 0);
    cr_assert_eq(m.term, 1);
    cr_assert(rf_id_none(m.vote));
    rf_peerstate_free(&m.ps);
    free(b);
    sn_free(h);
}

Test(raft_snapshot, unsuccessful_vote_request_campaign_early)
{
    GO_TEST("server/raft_test.go", "TestNRGUnsuccessfulVoteRequestCampaignEarly");
    struct sn *h = sn_new();
    N->etlr = 0;
    sn_vote(h, 1, 0, 0, SN_NATS0);
    cr_assert_eq(N->term, 1);
    cr_assert(rf_id_eq(N->vote, rf_id_from_str(SN_NATS0)));
    cr_assert_neq(N->etlr, 0); /* voted: timer reset */
    N->etlr = 0;
    N->pterm = 1;
    N->pindex = 100;
    sn_vote(h, 2, 1, 2, SN_NATS0);
    cr_assert_eq(N->term, 2);
    cr_assert(rf_id_none(N->vote));
    cr_assert_neq(N->etlr, 0); /* denied an outdated candidate: campaign early */
    N->etlr = 0;
    N->pterm = 2;
    N->pindex = 200;
    rf_switch_to_candidate(N);
    cr_assert_eq(N->term, 3);
    cr_assert_eq(N->state, RF_CANDIDATE);
    cr_assert_neq(N->etlr, 0);
    N->etlr = 0;
    sn_vote(h, 4, 1, 2, SN_NATS0);
    cr_assert_eq(N->term, 4);
    cr_assert(rf_id_none(N->vote));
    cr_assert_neq(N->etlr, 0);
    N->etlr = 0;
    N->pterm = 4;
    N->pindex = 400;
    rf_switch_to_candidate(N);
    cr_assert_eq(N->term, 5);
    N->etlr = 0;
    sn_vote(h, 5, 1, 2, SN_NATS0);
    cr_assert_eq(N->term, 5);
    cr_assert(rf_id_none(N->vote));
    cr_assert_eq(N->etlr, 0); /* a candidate isn't short-circuited */
    N->pterm = N->pindex = 0;
    sn_free(h);
}

Test(raft_snapshot, doesnt_request_vote_on_write_error)
{
    GO_TEST("server/raft_test.go", "TestNRGDoesntRequestVoteOnWriteError");
    struct sn *h = sn_new();
    N->werr = -EIO;
    N->state = RF_CANDIDATE;
    rf_request_vote(N);
    cr_assert_eq(N->outbox.n, 0);
    cr_assert(rf_id_none(N->vote));
    sn_free(h);
}

Test(raft_snapshot, replay_add_peer_keeps_cluster_size)
{
    GO_TEST("server/raft_test.go", "TestNRGReplayAddPeerKeepsClusterSize");
    const char *peers[] = {SN_SELF, SN_NATS1, SN_NATS2};
    struct sn *h = sn_new_peers(peers, 3, 3, false);
    cr_assert_eq(rf_cluster_size(N), 3);
    struct rf_entry e = sn_peer_entry(RF_ENTRY_ADD_PEER, SN_NATS1);
    sn_process(h, sn_ae(h, SN_SELF, 2, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae_with(h, SN_SELF, 2, 2, 2, 1, &e, 1), NEW);
    free(e.data);
    sn_restart(h);
    cr_assert_eq(rf_cluster_size(N), 3);
    cr_assert_eq(N->qn, 2);
    sn_free(h);
}

Test(raft_snapshot, candidate_doesnt_revert_term_after_old_ae)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGCandidateDoesntRevertTermAfterOldAE",
                    "single node with the terms set directly instead of three stepdowns");
    struct sn *h = sn_new();
    N->term = 9;
    N->pterm = 4;
    rf_switch_to_candidate(N);
    struct rf_msg *ae = sn_ae(h, SN_NATS0, 6, 0, 4, 0, 0);
    sn_process(h, ae, RF_SUB_REPLAY);
    cr_assert_neq(N->term, 6);
    sn_free(h);
}
