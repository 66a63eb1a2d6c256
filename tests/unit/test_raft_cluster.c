/* tests/unit/test_raft_cluster.c: RAFT groups of real cores on the deterministic simulator
 * (tests/sim): elections, pre-vote, leader transfer, replication, catchup, snapshots,
 * observers and restarts.  Ports the group tests of Go server/raft_test.go (createRaftGroup
 * + stateAdder) and adds raftd's pre-vote and repair cases.
 */
#include "common/gotest.h"
#include "sim.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define WAIT 30000

static struct sim *group(int n, uint64_t seed)
{
    struct sim_opts o;
    sim_opts_default(&o, seed, n);
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

Test(raft_cluster, simple)
{
    GO_TEST("server/raft_test.go", "TestNRGSimple");
    struct sim *s = group(3, 1);
    sim_propose(s, (int)sim_rand(&s->rng, 3), 22);
    sim_propose(s, (int)sim_rand(&s->rng, 3), -11);
    sim_propose(s, (int)sim_rand(&s->rng, 3), -10);
    cr_assert(sim_wait_total(s, 1, WAIT));
    done(s);
}

Test(raft_cluster, snapshot_and_restart)
{
    GO_TEST("server/raft_test.go", "TestNRGSnapshotAndRestart");
    struct sim *s = group(3, 2);
    int l = sim_leader(s), f = sim_non_leader(s);
    int64_t expected = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t d = (int64_t)sim_rand(&s->rng, 222);
        expected += d;
        cr_assert_eq(sim_propose(s, l, d), 0);
        if (i == 250) {
            sim_run_for(s, 50);
            cr_assert_eq(sim_snapshot(s, l), 0);
            RF_IGNORE(sim_snapshot(s, f));
            sim_crash(s, f);
        }
    }
    sim_restart(s, f);
    cr_assert(sim_wait_total(s, expected, WAIT));
    done(s);
}

Test(raft_cluster, recover_from_following_no_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGRecoverFromFollowingNoLeader");
    struct sim *s = group(3, 3);
    uint64_t term = rf_term(R(s, sim_leader(s)));
    for (int i = 0; i < 3; i++) {
        RF_IGNORE(rf_pause_apply(R(s, i)));
        rf_switch_to_follower(R(s, i), (rf_id){{0}});
    }
    for (int i = 0; i < 3; i++) {
        rf_resume_apply(R(s, i));
        sim_pump(s, i);
    }
    int l = sim_wait_leader(s, WAIT);
    cr_assert_geq(l, 0);
    cr_assert_neq(rf_term(R(s, l)), term);
    done(s);
}

Test(raft_cluster, inline_stepdown)
{
    GO_TEST("server/raft_test.go", "TestNRGInlineStepdown");
    struct sim *s = group(3, 4);
    int l = sim_leader(s);
    cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
    cr_assert_neq(rf_state(R(s, l)), RF_LEADER); /* effective when StepDown returns */
    sim_pump(s, l);
    done(s);
}

Test(raft_cluster, observer_mode)
{
    GO_TEST("server/raft_test.go", "TestNRGObserverMode");
    struct sim *s = group(3, 5);
    int l = sim_leader(s);
    for (int i = 0; i < 3; i++)
        if (i != l)
            rf_set_observer(R(s, i), true);
    sim_propose(s, l, 1);
    sim_propose(s, l, 2);
    sim_propose(s, l, 3);
    cr_assert(sim_wait_total(s, 6, WAIT));
    for (int i = 0; i < 3; i++)
        if (i != l)
            cr_assert(rf_is_observer(R(s, i)));
    done(s);
}

struct tap {
    int aer_total, aer_success, aer_catchup, vreq, vresp, vresp_granted, lxfer;
    uint64_t vreq_term, vreq_last_term;
    rf_id candidate, lxfer_to;
    bool real_votes_only;
    int vote_terms_ok;
    uint64_t want_term;
};

static void tapper(struct sim *s, int from, const struct rf_msg *m, void *arg)
{
    (void)s;
    (void)from;
    struct tap *t = arg;
    if (m->type == RF_MSG_AER) {
        t->aer_total++;
        if (m->flags & RF_MF_SUCCESS)
            t->aer_success++;
        if (m->cid)
            t->aer_catchup++;
    } else if (m->type == RF_MSG_VOTE_REQ && !(m->flags & RF_MF_PREVOTE)) {
        if (!t->vreq++) {
            t->vreq_term = m->term;
            t->vreq_last_term = m->pterm;
            t->candidate = m->leader;
        }
    } else if (m->type == RF_MSG_VOTE_RESP && !(m->flags & RF_MF_PREVOTE)) {
        t->vresp++;
        if ((m->flags & RF_MF_GRANTED) && m->term == t->want_term)
            t->vresp_granted++;
    } else if (m->type == RF_MSG_AE) {
        for (uint32_t i = 0; i < m->n_entries; i++)
            if (m->entries[i].type == RF_ENTRY_LEADER_TRANSFER && m->entries[i].len == 8) {
                t->lxfer++;
                memcpy(t->lxfer_to.b, m->entries[i].data, 8);
            }
    }
}

Test(raft_cluster, ae_from_old_leader)
{
    GO_TEST("server/raft_test.go", "TestNRGAEFromOldLeader");
    struct sim *s = group(3, 6);
    int l = sim_leader(s);
    cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
    sim_pump(s, l);
    sim_run_for(s, 100);
    l = sim_wait_leader(s, WAIT);
    cr_assert_eq(rf_term(R(s, l)), 2);
    struct tap t = {0};
    s->tap = tapper;
    s->tap_arg = &t;
    /* An append entry with an outdated term must be rejected without a WAL reset. */
    struct rf_msg ae = {.type = RF_MSG_AE, .term = 1, .pindex = 0, .leader = R(s, l)->id};
    ae.from = rf_id_from_str("INBOX000");
    uint64_t pindex = R(s, l)->pindex;
    sim_inject(s, l, &ae);
    cr_assert_eq(t.aer_total, 1);
    cr_assert_eq(t.aer_success, 0);
    cr_assert_eq(R(s, l)->pindex, pindex);
    sim_run_for(s, 2000);
    cr_assert_eq(t.aer_catchup, 0); /* no catchup was started */
    done(s);
}

Test(raft_cluster, simple_election)
{
    GO_TEST("server/raft_test.go", "TestNRGSimpleElection");
    struct sim *s = group(9, 7);
    int l = sim_leader(s);
    uint64_t start = R(s, l)->term;
    struct tap t = {.want_term = start + 1};
    s->tap = tapper;
    s->tap_arg = &t;
    cr_assert_eq(rf_step_down(R(s, l), NULL), 0);
    sim_pump(s, l);
    cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    cr_assert_geq(t.vreq, 1);
    cr_assert(!rf_id_none(t.candidate));
    cr_assert_eq(t.vreq_term, start + 1);
    cr_assert_eq(t.vreq_last_term, start);
    cr_assert_geq(t.vresp_granted, 8);
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(R(s, i)->term, start + 1);
        cr_assert(rf_id_eq(R(s, i)->vote, t.candidate));
    }
    done(s);
}

Test(raft_cluster, leader_transfer)
{
    GO_TEST("server/raft_test.go", "TestNRGLeaderTransfer");
    struct sim *s = group(3, 8);
    struct tap t = {0};
    s->tap = tapper;
    s->tap_arg = &t;
    sim_run_for(s, 3000); /* heartbeats keep the peers healthy */
    int l = sim_leader(s), p = sim_non_leader(s);
    rf_id pid = R(s, p)->id;
    cr_assert_eq(rf_step_down(R(s, l), &pid), 0);
    sim_pump(s, l);
    int nl = sim_wait_leader(s, WAIT);
    cr_assert_eq(nl, p);
    cr_assert_geq(t.lxfer, 1);
    cr_assert(rf_id_eq(t.lxfer_to, pid));
    done(s);
}

Test(raft_cluster, step_down_on_same_term_doesnt_clear_vote)
{
    GO_TEST("server/raft_test.go", "TestNRGStepDownOnSameTermDoesntClearVote");
    struct sim *s = group(3, 9);
    int l = sim_leader(s), f = sim_non_leader(s);
    sim_run_for(s, 100);
    int changes = s->nodes[l].lead_changes;
    struct rf_msg ae = {.type = RF_MSG_AE, .leader = R(s, f)->id, .term = R(s, l)->term - 1,
                        .pterm = R(s, l)->pterm, .pindex = R(s, l)->pindex};
    ae.from = R(s, f)->id;
    sim_inject(s, l, &ae); /* old term, fake leader: ignored */
    sim_run_for(s, 100);
    cr_assert_eq(s->nodes[l].lead_changes, changes);
    cr_assert_eq(rf_state(R(s, l)), RF_LEADER);
    ae.term = R(s, l)->term;
    sim_inject(s, l, &ae); /* same term: step down, keep the vote */
    cr_assert_neq(rf_state(R(s, l)), RF_LEADER);
    cr_assert(!rf_id_none(R(s, l)->vote));
    sim_run_for(s, 10);
    cr_assert_gt(s->nodes[l].lead_changes, changes);
    done(s);
}

Test(raft_cluster, unsuccessful_vote_request_doesnt_reset_election_timer)
{
    GO_TEST("server/raft_test.go", "TestNRGUnsuccessfulVoteRequestDoesntResetElectionTimer");
    struct sim *s = group(3, 10);
    sim_propose(s, sim_leader(s), 1);
    cr_assert(sim_wait_total(s, 1, WAIT));
    int l = sim_leader(s), f = sim_non_leader(s);
    uint64_t le = R(s, l)->etlr_count, fe = R(s, f)->etlr_count;
    uint64_t fterm = R(s, f)->term;
    struct rf_msg vr = {.type = RF_MSG_VOTE_REQ, .term = fterm - 1, .pterm = fterm - 1,
                        .leader = R(s, f)->id};
    vr.from = rf_id_from_str("VRINBOX0");
    for (int i = 0; i < 3; i++)
        sim_inject(s, i, &vr);
    cr_assert_eq(R(s, l)->etlr_count, le);
    cr_assert_eq(R(s, f)->etlr_count, fe);
    done(s);
}

Test(raft_cluster, assume_high_term_after_candidate_isolation)
{
    GO_TEST("server/raft_test.go", "TestNRGAssumeHighTermAfterCandidateIsolation");
    struct sim *s = group(3, 11);
    int f = sim_non_leader(s);
    struct rf_node *fn = R(s, f);
    fn->term += 100;
    rf_switch_to_candidate(fn); /* term +1 on top, like switchState(Candidate) + term */
    rf_request_vote(fn);
    sim_pump(s, f);
    sim_run_for(s, 100);
    uint64_t nterm = rf_term(fn);
    for (int i = 0; i < 3; i++)
        cr_assert_geq(rf_term(R(s, i)), nterm);
    int l = sim_wait_leader(s, WAIT);
    cr_assert_geq(l, 0);
    sim_propose(s, l, 1);
    cr_assert(sim_wait_total(s, 1, WAIT));
    for (int i = 0; i < 3; i++) {
        cr_assert_neq(rf_state(R(s, i)), RF_CANDIDATE);
        cr_assert_geq(rf_term(R(s, i)), nterm);
    }
    done(s);
}

Test(raft_cluster, heartbeat_on_leader_change)
{
    GO_TEST("server/raft_test.go", "TestNRGHeartbeatOnLeaderChange");
    struct sim *s = group(3, 12);
    for (int i = 0; i < 10; i++) {
        int l = sim_leader(s);
        sim_propose(s, l, 22);
        sim_propose(s, l, -11);
        sim_propose(s, l, -10);
        cr_assert(sim_wait_total(s, i + 1, WAIT), "iteration %d", i);
        sim_crash(s, l);
        sim_restart(s, l);
        cr_assert_geq(sim_wait_leader(s, WAIT), 0);
    }
    done(s);
}

Test(raft_cluster, election_timer_after_observer)
{
    GO_TEST("server/raft_test.go", "TestNRGElectionTimerAfterObserver");
    struct sim *s = group(3, 13);
    for (int i = 0; i < 3; i++)
        rf_set_observer(R(s, i), true);
    sim_run_for(s, s->o.rc.election_max_ms);
    uint64_t before = s->now;
    for (int i = 0; i < 3; i++) {
        rf_tick(R(s, i), s->now); /* the core only knows the time it was told */
        rf_set_observer(R(s, i), false);
    }
    sim_run_for(s, s->o.rc.campaign_max_ms);
    for (int i = 0; i < 3; i++)
        cr_assert_geq(R(s, i)->etlr, before);
    done(s);
}

Test(raft_cluster, term_doesnt_roll_back_to_pterm_on_catchup)
{
    GO_TEST("server/raft_test.go", "TestNRGTermDoesntRollBackToPtermOnCatchup");
    struct sim *s = group(3, 14);
    int l = sim_leader(s);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, l, 1);
        cr_assert(sim_wait_total(s, i + 1, WAIT));
    }
    for (int i = 0; i < 3; i++)
        cr_assert(R(s, i)->term == 1 && R(s, i)->pterm == 1 && R(s, i)->pindex == 6);
    rf_switch_to_follower(R(s, l), (rf_id){{0}});
    sim_pump(s, l);
    sim_run_for(s, 100);
    l = sim_wait_leader(s, WAIT);
    cr_assert_geq(l, 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(R(s, i)->term, 2);
        if (i != l) {
            rf_truncate_wal(R(s, i), 1, 6);
            sim_pump(s, i);
            cr_assert_eq(R(s, i)->term, 2);
            cr_assert(R(s, i)->pterm == 1 && R(s, i)->pindex == 6);
        }
    }
    struct tap t = {0};
    s->tap = tapper;
    s->tap_arg = &t;
    struct rf_msg ae = {.type = RF_MSG_AE, .leader = R(s, l)->id, .term = R(s, l)->term,
                        .commit = R(s, l)->commit, .pterm = R(s, l)->pterm,
                        .pindex = R(s, l)->pindex};
    ae.from = R(s, l)->id;
    for (int i = 0; i < 3; i++)
        if (i != l)
            sim_inject(s, i, &ae);
    sim_run_for(s, 50); /* responses leave after the fsync */
    cr_assert_geq(t.aer_total, 2);
    sim_run_for(s, 5000);
    for (int i = 0; i < 3; i++)
        cr_assert_neq(rf_term(R(s, i)), 1);
    done(s);
}

static bool rogue(struct sim *s, int from, int to, const struct rf_msg *m, void *arg)
{
    int *rogue_target = arg;
    (void)to;
    /* Answer every non-heartbeat append entry with a failure on a higher term. */
    if (m->type == RF_MSG_AE && m->n_entries > 0 && from == *rogue_target) {
        struct rf_msg ar = {.type = RF_MSG_AER, .term = m->term + 1, .index = m->commit};
        ar.from = s->nodes[(from + 1) % 3].id;
        ar.to = m->from;
        rf_step(s->nodes[from].n, &ar);
    }
    return true;
}

Test(raft_cluster, no_reset_on_append_entry_response)
{
    GO_TEST("server/raft_test.go", "TestNRGNoResetOnAppendEntryResponse");
    struct sim *s = group(3, 15);
    sim_run_for(s, 1000);
    int l = sim_leader(s);
    cr_assert(s->nodes[l].last_lead_change);
    s->filter = rogue;
    s->filter_arg = &l;
    for (int i = 0; i < 3; i++)
        if (i != l)
            sim_pause(s, i);
    sim_propose(s, l, 5);
    sim_run_for(s, 10);
    cr_assert_neq(rf_state(R(s, l)), RF_LEADER);
    cr_assert(!s->nodes[l].last_lead_change);
    s->filter = NULL;
    for (int i = 0; i < 3; i++)
        sim_resume(s, i);
    cr_assert_eq(rf_state(R(s, l)), RF_FOLLOWER);
    cr_assert_neq(R(s, l)->pterm, 0);
    cr_assert_neq(R(s, l)->pindex, 0);
    done(s);
}

Test(raft_cluster, candidate_dont_stepdown_due_to_leader_of_previous_term)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGCandidateDontStepdownDueToLeaderOfPreviousTerm",
                    "the old leader's heartbeat is injected rather than captured from the wire");
    struct sim *s = group(3, 16);
    int l = sim_leader(s), c = sim_non_leader(s);
    struct rf_node *cn = R(s, c);
    rf_switch_to_candidate(cn);
    cn->pterm = 50;
    cn->pindex = 70;
    cn->term = 100;
    struct rf_msg hb = {.type = RF_MSG_AE, .leader = R(s, l)->id, .term = 50, .pterm = 50,
                        .pindex = 70};
    hb.from = R(s, l)->id;
    rf_step(cn, &hb);
    cr_assert_eq(rf_state(cn), RF_CANDIDATE);
    cr_assert_gt(cn->term, hb.term);
    cn->pterm = R(s, l)->pterm;
    cn->pindex = R(s, l)->pindex;
    sim_crash(s, c); /* its fields were edited by hand */
    sim_free(s);
}

Test(raft_cluster, remove_leader_peer_deadlock_bug)
{
    GO_TEST("server/raft_test.go", "TestNRGRemoveLeaderPeerDeadlockBug");
    struct sim *s = group(3, 17);
    int l = sim_leader(s);
    rf_id lid = R(s, l)->id;
    cr_assert_eq(rf_propose_remove_peer(R(s, l), lid), 0);
    sim_pump(s, l);
    sim_run_for(s, WAIT);
    cr_assert(!rf_id_eq(rf_group_leader(R(s, l)), lid));
    int nl = sim_wait_leader(s, WAIT);
    cr_assert(nl >= 0 && nl != l);
    done(s);
}
