/* tests/unit/test_raft_catchup.c: follower catchup, health, applied/processed and quorum
 * pausing in the RAFT core (raftd/raft_follow.c, raftd/raft_apply.c).  Ports single-node
 * tests of Go server/raft_test.go on the sim_single harness.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>

#define N (h->n)
#define NEW RF_SUB_NEW
#define CID (h->n->catchup->cid)
#define LOGN (h->n->log.n)

static const struct rf_msg *last_aer(struct sn *h)
{
    return sn_last(h, RF_MSG_AER);
}

Test(raft_catchup, health_check_wait_for_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGHealthCheckWaitForCatchup");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 1, 2, 1, 2, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 3, 1, 3, 0);
    m1->lterm = m2->lterm = m3->lterm = 1;
    sn_process(h, hb, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 0);
    cr_assert_eq(N->catchup->cterm, hb->term);
    cr_assert_eq(N->catchup->cindex, hb->pindex);
    sn_process(h, m1, CID);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!rf_healthy(N));
    sn_process(h, m2, CID);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(N->commit, 1);
    cr_assert(!rf_healthy(N));
    rf_applied(N, 1, NULL);
    cr_assert(!rf_healthy(N)); /* still catching up */
    sn_process(h, m3, CID);
    cr_assert_eq(N->commit, 2);
    rf_applied(N, 2, NULL);
    cr_assert(!rf_healthy(N));
    sn_process(h, hb, NEW); /* stops the catchup */
    cr_assert_null(N->catchup);
    cr_assert_eq(N->commit, 3);
    cr_assert(!rf_healthy(N));
    rf_applied(N, 3, NULL);
    cr_assert(rf_healthy(N));
    sn_free(h);
}

Test(raft_catchup, health_check_wait_for_double_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGHealthCheckWaitForDoubleCatchup");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *hb1 = sn_ae(h, SN_NATS0, 1, 2, 1, 2, 0);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 1, 2, 1, 2, 1);
    struct rf_msg *hb2 = sn_ae(h, SN_NATS0, 1, 3, 1, 3, 0);
    m1->lterm = m2->lterm = 1;
    sn_process(h, hb1, NEW);
    cr_assert_not_null(N->catchup);
    uint64_t cid = CID;
    sn_process(h, m1, cid);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!rf_healthy(N));
    sn_process(h, m3, NEW); /* missed while catching up */
    cr_assert_eq(N->pindex, 1);
    sn_process(h, hb2, NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!rf_healthy(N));
    sn_process(h, m2, cid);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    cr_assert(!rf_healthy(N));
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->cterm, hb1->term);
    cr_assert_eq(N->catchup->cindex, hb1->pindex);
    /* A 'future' heartbeat restarts the catchup. */
    sn_process(h, hb2, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->pterm, 1);
    cr_assert_eq(N->catchup->pindex, 2);
    cr_assert_eq(N->catchup->cindex, hb2->pindex);
    cr_assert(!rf_healthy(N));
    m3->lterm = 1;
    sn_process(h, m3, CID);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(N->commit, 2);
    rf_applied(N, 2, NULL);
    cr_assert(!rf_healthy(N));
    sn_process(h, hb2, NEW);
    cr_assert_null(N->catchup);
    cr_assert_eq(N->commit, 3);
    cr_assert(!rf_healthy(N));
    rf_applied(N, 3, NULL);
    cr_assert(rf_healthy(N));
    sn_free(h);
}

Test(raft_catchup, health_check_wait_for_pending_commits_when_paused)
{
    GO_TEST("server/raft_test.go", "TestNRGHealthCheckWaitForPendingCommitsWhenPaused");
    struct sn *h = sn_new();
    sn_add_peer(h, SN_NATS0);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert(!rf_healthy(N));
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert(!rf_healthy(N));
    rf_applied(N, 1, NULL);
    cr_assert(rf_healthy(N));
    cr_assert_eq(rf_pause_apply(N), 0);
    cr_assert(rf_healthy(N));
    sn_process(h, sn_ae(h, SN_NATS0, 1, 2, 1, 2, 0), NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert(!rf_healthy(N));
    rf_resume_apply(N);
    sn_flush(h);
    cr_assert(!rf_healthy(N));
    rf_applied(N, 2, NULL);
    cr_assert(rf_healthy(N));
    sn_free(h);
}

Test(raft_catchup, catchup_dont_count_toward_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGCatchupDontCountTowardQuorum");
    struct sn *h = sn_new();
    struct rf_msg *missed = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *trigger = sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 0, 1, 2, 0);
    sn_process(h, trigger, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->cterm, trigger->pterm);
    cr_assert_eq(N->catchup->cindex, trigger->pindex);
    /* We reply that we need a catchup, naming our catchup stream. */
    cr_assert_eq(sn_count(h, RF_MSG_AER), 1);
    const struct rf_msg *ar = last_aer(h);
    cr_assert_eq(ar->index, 0);
    cr_assert(!(ar->flags & RF_MF_SUCCESS));
    cr_assert_eq(ar->cid, CID);
    sn_clear(h);
    /* Never answer catchup entries with an append entry response. */
    missed->lterm = trigger->lterm = 1;
    sn_process(h, missed, CID);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    sn_process(h, trigger, CID);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    /* All received: the catchup stops and a new entry gets a success response. */
    sn_process(h, hb, NEW);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 1);
    ar = last_aer(h);
    cr_assert_eq(ar->index, hb->pindex);
    cr_assert(ar->flags & RF_MF_SUCCESS);
    cr_assert_eq(ar->cid, 0);
    sn_free(h);
}

Test(raft_catchup, reject_new_append_entry_from_previous_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGRejectNewAppendEntryFromPreviousLeader");
    struct sn *h = sn_new();
    N->term = 1;
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    cr_assert_eq(N->pterm, 1);
    cr_assert_eq(N->pindex, 1);
    cr_assert_neq(sn_vote(h, 5, 1, 2, NULL), -1);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1), NEW);
    cr_assert_eq(N->pterm, 1);
    cr_assert_eq(N->pindex, 1);
    sn_free(h);
}

static void reject_during_catchup(bool catching_up, bool old_behavior)
{
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    N->term = 1;
    sn_process(h, m2, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->cindex, m2->pindex);
    if (!old_behavior)
        m1->lterm = m2->lterm = 1;
    uint64_t cid = CID;
    struct rf_catchup saved = *N->catchup;
    sn_process(h, m1, cid);
    cr_assert_eq(N->pterm, 1);
    cr_assert_eq(N->pindex, 1);
    cr_assert_neq(sn_vote(h, 5, 1, 2, NULL), -1); /* cancels the catchup */
    uint64_t sub = NEW;
    if (catching_up) {
        N->catchup = calloc(1, sizeof(*N->catchup));
        *N->catchup = saved;
        sub = cid;
    }
    sn_process(h, m2, sub);
    cr_assert_eq(N->pterm, 1);
    if (catching_up && old_behavior)
        cr_assert_eq(N->pindex, 2);
    else
        cr_assert_eq(N->pindex, 1);
    sn_free(h);
}

Test(raft_catchup, reject_append_entry_during_catchup_from_previous_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGRejectAppendEntryDuringCatchupFromPreviousLeader");
    reject_during_catchup(false, false);
    reject_during_catchup(false, true);
    reject_during_catchup(true, false);
    reject_during_catchup(true, true);
}

Test(raft_catchup, snapshot_recovery)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSnapshotRecovery",
                    "recovery is exercised by a restart from the simulated disk rather than by "
                    "calling setupLastSnapshot on a live node");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 1, 0, 0, 1), NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(N->applied, 0);
    rf_applied(N, 1, NULL);
    cr_assert_eq(N->applied, 1);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    sn_restart(h);
    /* Restoring the snapshot moves commit, not applied: the apply queue is async. */
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(N->processed, 0);
    cr_assert_eq(N->applied, 0);
    sn_free(h);
}

Test(raft_catchup, ignore_entry_after_canceled_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGIgnoreEntryAfterCanceledCatchup");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    cr_assert_not_null(N->catchup);
    uint64_t cid = CID;
    rf_cancel_catchup(N);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), cid);
    cr_assert_eq(N->pindex, 0);
    sn_free(h);
}

Test(raft_catchup, delayed_messages_after_catchup_dont_count_toward_quorum)
{
    GO_TEST("server/raft_test.go", "TestNRGDelayedMessagesAfterCatchupDontCountTowardQuorum");
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 1, 1, 1, 1);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 1, 1, 1, 2, 1);
    sn_process(h, m3, NEW);
    cr_assert_not_null(N->catchup);
    m1->lterm = m2->lterm = 1;
    sn_process(h, m1, CID);
    sn_process(h, m2, CID);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    sn_clear(h);
    /* Delayed "real-time" messages must not be answered with success. */
    m1->lterm = m2->lterm = 0;
    sn_process(h, m1, NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    sn_process(h, m2, NEW);
    cr_assert_eq(N->pindex, 2);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 0);
    sn_process(h, m3, NEW);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(sn_count(h, RF_MSG_AER), 1);
    cr_assert_eq(last_aer(h)->index, 3);
    cr_assert(last_aer(h)->flags & RF_MF_SUCCESS);
    cr_assert_eq(last_aer(h)->cid, 0);
    sn_free(h);
}

Test(raft_catchup, stepdown_with_highest_term_during_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGStepdownWithHighestTermDuringCatchup");
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1);
    m1->lterm = 10;
    m2->lterm = 20;
    rf_switch_to_candidate(N);
    cr_assert_eq(N->term, 1);
    sn_process(h, m1, NEW);
    cr_assert_eq(N->term, 10);
    cr_assert_eq(N->pindex, 1);
    rf_switch_to_leader(N);
    sn_process(h, m2, NEW);
    cr_assert_eq(N->term, 20);
    cr_assert_eq(N->pindex, 2);
    sn_free(h);
}

Test(raft_catchup, new_entries_from_old_leader_during_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGNewEntriesFromOldLeaderResetsWALDuringCatchup");
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 20, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 20, 0, 20, 1, 1);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, 20, 0, 20, 2, 1);
    m1->lterm = m2->lterm = m3->lterm = 20;
    struct rf_msg *fork1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *fork2 = sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1);
    sn_process(h, m2, NEW);
    cr_assert_not_null(N->catchup);
    cr_assert_eq(N->catchup->cterm, 20);
    cr_assert_eq(N->catchup->cindex, 1);
    uint64_t csub = CID;
    sn_process(h, m1, csub);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->pterm, 20);
    sn_clear(h);
    N->catchup->pindex = m1->pindex + 1;
    N->catchup->active = 0;
    sn_process(h, fork1, NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->pterm, 20);
    cr_assert_eq(N->catchup->cterm, 20);
    /* We answer with our higher term so the old leader steps down. */
    const struct rf_msg *ar = last_aer(h);
    cr_assert_not_null(ar);
    cr_assert(!(ar->flags & RF_MF_SUCCESS));
    cr_assert_eq(ar->index, 1);
    cr_assert_eq(ar->term, 20);
    sn_process(h, fork2, NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->catchup->cindex, 1);
    sn_process(h, m2, csub);
    cr_assert_eq(N->pindex, 2);
    cr_assert_null(N->catchup);
    /* A remaining catchup entry still extends the log. */
    sn_process(h, m3, csub);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(N->pterm, 20);
    sn_free(h);
}

Test(raft_catchup, processed)
{
    GO_TEST("server/raft_test.go", "TestNRGProcessed");
    struct sn *h = sn_new();
    for (uint64_t i = 0; i < 3; i++) {
        sn_process(h, sn_ae(h, SN_NATS0, 1, i + 1, i ? 1 : 0, i, 1), NEW);
        cr_assert_eq(N->pindex, i + 1);
        cr_assert_eq(N->commit, i + 1);
        cr_assert_eq(N->processed, 0);
        cr_assert_eq(N->applied, 0);
    }
    rf_processed(N, 1, 0, NULL);
    cr_assert(N->processed == 1 && N->applied == 0);
    rf_processed(N, 2, 1, NULL);
    cr_assert(N->processed == 2 && N->applied == 1);
    rf_applied(N, 3, NULL);
    cr_assert(N->processed == 3 && N->applied == 3);
    for (uint64_t i = 3; i < 5; i++) {
        sn_process(h, sn_ae(h, SN_NATS0, 1, i + 1, 1, i, 1), NEW);
        cr_assert_eq(N->commit, i + 1);
        cr_assert(N->processed == 3 && N->applied == 3);
    }
    rf_processed(N, 4, 5, NULL); /* applied is clamped to processed */
    cr_assert(N->processed == 4 && N->applied == 4);
    sn_free(h);
}

/* Go's DrainAndReplaySnapshot drains n.apply, the queue the upper layer has not consumed
 * yet; with the harness that queue is h->applyq. */
static bool drain_and_replay(struct sn *h)
{
    if (!N->snap)
        return rf_drain_and_replay_snapshot(N);
    sn_clear_apply(h);
    bool ok = rf_drain_and_replay_snapshot(N);
    sn_flush(h);
    return ok;
}

Test(raft_catchup, drain_and_replay_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGDrainAndReplaySnapshot");
    struct sn *h = sn_new();
    cr_assert_eq(h->napply, 0);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 2, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 3, 1, 3, 0), NEW);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(h->napply, 3);
    cr_assert_eq(N->commit, 3);
    cr_assert_eq(N->hcommit, 0);
    cr_assert(!drain_and_replay(h));
    cr_assert_eq(h->napply, 3);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, "snapshot", 8, false), 0);
    cr_assert(drain_and_replay(h));
    cr_assert(N->paused);
    cr_assert_eq(h->napply, 1);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(N->hcommit, 3);
    rf_resume_apply(N);
    sn_flush(h);
    cr_assert(!N->paused);
    cr_assert_eq(h->napply, 3);
    cr_assert_eq(N->commit, 3);
    cr_assert_eq(N->hcommit, 0);
    cr_assert(drain_and_replay(h));
    cr_assert_eq(h->napply, 1);
    cr_assert_eq(N->hcommit, 3);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 3, 1, 3, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 4, 1, 4, 0), NEW);
    cr_assert_eq(N->pindex, 4);
    cr_assert(N->paused);
    cr_assert_eq(h->napply, 1);
    cr_assert_eq(N->commit, 1);
    cr_assert_eq(N->hcommit, 4);
    cr_assert(drain_and_replay(h));
    cr_assert_eq(h->napply, 1);
    cr_assert_eq(N->hcommit, 4);
    rf_resume_apply(N);
    sn_flush(h);
    cr_assert(!N->paused);
    cr_assert_eq(h->napply, 4);
    cr_assert_eq(N->commit, 4);
    cr_assert_eq(N->hcommit, 0);
    sn_free(h);
}

Test(raft_catchup, parallel_catchup_rollback)
{
    GO_TEST("server/raft_test.go", "TestNRGParallelCatchupRollback");
    struct sn *h = sn_new();
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1);
    struct rf_msg *hb = sn_ae(h, SN_NATS0, 1, 0, 1, 2, 0);
    m1->lterm = m2->lterm = 1;
    sn_process(h, m2, NEW);
    cr_assert_eq(N->pindex, 0);
    cr_assert_not_null(N->catchup);
    uint64_t csub = CID;
    sn_process(h, m1, csub);
    cr_assert_eq(N->pindex, 1);
    sn_process(h, m2, csub);
    cr_assert_eq(N->pindex, 2);
    cr_assert_null(N->catchup);
    sn_clear(h);
    sn_process(h, hb, NEW);
    const struct rf_msg *ar = last_aer(h);
    cr_assert_not_null(ar);
    cr_assert(ar->flags & RF_MF_SUCCESS);
    cr_assert_eq(ar->term, hb->term);
    cr_assert_eq(ar->index, hb->pindex);
    /* A replay of an entry we already have (a parallel catchup) must not truncate. */
    sn_process(h, m1, csub);
    cr_assert_eq(N->pindex, 2);
    sn_free(h);
}

static void replay_on_snapshot(bool same_term)
{
    struct sn *h = sn_new();
    uint64_t t2 = same_term ? 1 : 2;
    struct rf_msg *m1 = sn_ae(h, SN_NATS0, 1, 1, 0, 0, 1);
    struct rf_msg *m2 = sn_ae(h, SN_NATS0, t2, 1, 1, 1, 1);
    struct rf_msg *m3 = sn_ae(h, SN_NATS0, t2, 1, t2, 2, 1);
    if (!same_term)
        m1->lterm = m2->lterm = m3->lterm = 2;
    sn_process(h, m1, NEW);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(N->commit, 1);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    cr_assert_eq(N->snap->index, 1);
    if (!same_term)
        N->applied = N->processed = 0; /* as if the snapshot came from a leader */
    sn_process(h, m2, NEW);
    cr_assert_eq(N->pindex, 2);
    sn_process(h, m3, NEW);
    cr_assert_eq(N->pindex, 3);
    /* The entry right after our snapshot comes again: a replay, recognized as such.  (Go
     * truncates back to the snapshot in the different-term case and stores it again.) */
    sn_process(h, m2, NEW);
    cr_assert_eq(N->pindex, 3);
    cr_assert_eq(N->snap->index, 1);
    sn_process(h, m3, NEW);
    cr_assert_eq(N->pindex, 3);
    sn_free(h);
}

Test(raft_catchup, replay_on_snapshot_same_term)
{
    GO_TEST("server/raft_test.go", "TestNRGReplayOnSnapshotSameTerm");
    replay_on_snapshot(true);
}

Test(raft_catchup, replay_on_snapshot_different_term)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGReplayOnSnapshotDifferentTerm",
                    "raftd keeps the matching entry instead of truncating to the snapshot and "
                    "re-storing it (Go's truncation would drop acknowledged entries after it)");
    replay_on_snapshot(false);
}
