/* raftd/raft_elect.c: elections.  Ports Go server/raft.go processVoteRequest, requestVote,
 * the vote handling of runAsCandidate/runAsLeader (including "empty" votes that let a
 * candidate win once the whole cluster answered), wonElection, campaign, xferCampaign and
 * shouldCountVoteFromPeer.  Adds pre-vote (not in Go): before bumping its term a node asks
 * whether it could win; peers that heard from a live leader within the minimum election
 * timeout, or whose log is more up to date, refuse without changing their own term, so a
 * node returning from a partition cannot force a stable leader to step down.
 *
 * Invariants: a vote is granted only after the META op recording it is queued (it is durable
 * before the response leaves, see rf_ready); a node never votes twice in a term; a node in
 * repair mode only ever grants or casts "empty" votes (counted only when the whole cluster
 * granted), so it can lead only with every member's agreement;
 * pre-votes never change term or vote.
 */
#include "raftd/raft_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool log_ok(const struct rf_node *n, uint64_t last_term, uint64_t last_index)
{
    return last_term > n->pterm || (last_term == n->pterm && last_index >= n->pindex);
}

static bool leader_alive(const struct rf_node *n)
{
    if (n->state == RF_LEADER)
        return true;
    if (rf_id_none(n->leader))
        return false;
    for (uint32_t i = 0; i < n->peers.n; i++)
        if (rf_id_eq(n->peers.v[i].id, n->leader))
            return n->peers.v[i].ts && n->now - n->peers.v[i].ts < n->cfg.election_min_ms;
    return false;
}

static void reply_vote(struct rf_node *n, rf_id to, uint64_t term, bool granted, bool empty,
                       bool prevote)
{
    struct rf_msg r = {.type = RF_MSG_VOTE_RESP, .to = to, .term = term, .leader = n->id};
    r.flags = (uint8_t)((granted ? RF_MF_GRANTED : 0) | (empty ? RF_MF_EMPTY : 0) |
                        (prevote ? RF_MF_PREVOTE : 0));
    rf_send(n, &r);
}

static int process_prevote_request(struct rf_node *n, const struct rf_msg *vr)
{
    bool empty = n->pindex == 0;
    bool ok = vr->term > n->term && n->state != RF_CLOSED;
    /* A damaged log proves nothing either way: see rf_process_vote_request. */
    bool up = n->repair || log_ok(n, vr->pterm, vr->pindex);
    bool alive = leader_alive(n);
    bool grant = ok && up && !alive;
    if (grant && empty && n->initializing)
        empty = false;
    if (n->repair)
        empty = true; /* see rf_process_vote_request */
    if (!up && !alive && rf_id_none(n->vote) && n->state == RF_FOLLOWER && !n->prevoting)
        rf_reset_elect(n, rf_rand_campaign_timeout(n)); /* we'd make a better leader */
    reply_vote(n, vr->from, grant ? vr->term : n->term, grant, empty, true);
    return 0;
}

int rf_process_vote_request(struct rf_node *n, const struct rf_msg *vr)
{
    if (!vr)
        return 0;
    if (vr->flags & RF_MF_PREVOTE)
        return process_prevote_request(n, vr);
    bool empty = n->pindex == 0;
    bool granted = false;
    if (vr->term < n->term) {
        reply_vote(n, vr->from, n->term, false, empty, false);
        return 0;
    }
    if (vr->term > n->term) {
        if (n->state != RF_FOLLOWER)
            rf_stepdown(n, (rf_id){{0}});
        /* A catchup from the old leader could otherwise give it quorum (Go). */
        rf_cancel_catchup(n);
        n->term = vr->term;
        n->vote = (rf_id){{0}};
        n->prevoting = false;
        rf_write_term_vote(n);
    }
    bool vote_ok = rf_id_none(n->vote) || rf_id_eq(n->vote, vr->leader);
    if (vote_ok && empty && n->initializing)
        empty = false;
    /* Our log may lack entries we acknowledged before the damage, so our vote says nothing
     * about the candidate's log: it is an "empty" vote, which Go only counts once every
     * member granted the candidate.  Then every intact holder of a committed entry voted for
     * it, so its log is complete.  For the same reason our (possibly shorter, possibly
     * longer) log doesn't get to refuse a candidate. */
    if (n->repair)
        empty = true;
    if (vote_ok && (n->repair || log_ok(n, vr->pterm, vr->pindex))) {
        n->term = vr->term;
        n->vote = vr->leader;
        if (rf_write_term_vote(n) < 0) {
            n->vote = (rf_id){{0}};
        } else {
            granted = true;
            rf_reset_election_timeout(n);
        }
    } else if (rf_id_none(n->vote) && n->state != RF_CANDIDATE) {
        /* We have a more up-to-date log and haven't voted: campaign earlier (Go). */
        rf_reset_elect(n, rf_rand_campaign_timeout(n));
    }
    RF_LOG(n, "vote request from %.8s term %llu: %s", vr->leader.b,
           (unsigned long long)vr->term, granted ? "granted" : "denied");
    reply_vote(n, vr->from, n->term, granted, empty, false);
    return 0;
}

bool rf_should_count_vote_from_peer(const struct rf_node *n, rf_id peer)
{
    for (uint32_t i = 0; i < n->peers.n; i++)
        if (rf_id_eq(n->peers.v[i].id, peer))
            return true;
    /* During bootstrap we may know fewer ids than the declared cluster size. */
    return (int)n->peers.n < n->csz;
}

static bool set_add(rf_id **v, uint32_t *cnt, uint32_t *cap, rf_id id)
{
    for (uint32_t i = 0; i < *cnt; i++)
        if (rf_id_eq((*v)[i], id))
            return false;
    if (*cnt == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = realloc(*v, sizeof(rf_id) * *cap);
        if (!*v)
            abort();
    }
    (*v)[(*cnt)++] = id;
    return true;
}

/* Count one granted vote; returns true when the election (or pre-vote) is won. */
static bool count_vote(struct rf_node *n, rf_id peer, bool empty)
{
    if (rf_should_count_vote_from_peer(n, peer)) {
        if (!empty)
            set_add(&n->votes.v, &n->votes.n, &n->votes.cap, peer);
        else
            set_add(&n->empty_votes.v, &n->empty_votes.n, &n->empty_votes.cap, peer);
    }
    if ((int)n->votes.n >= n->qn)
        return true;
    /* Heard from the whole cluster and some logs were empty: ours is the most complete. */
    return (int)(n->votes.n + n->empty_votes.n) == n->csz;
}

static bool can_campaign(struct rf_node *n)
{
    if (n->observer || n->paused || n->processed < n->commit) {
        rf_reset_elect(n, n->cfg.election_min_ms / 4);
        return false;
    }
    if (n->memb.active && rf_id_eq(n->memb.peer, n->id)) {
        rf_reset_elect(n, n->cfg.election_min_ms);
        return false;
    }
    return true;
}

void rf_start_prevote(struct rf_node *n)
{
    if (n->state != RF_FOLLOWER || !can_campaign(n))
        return;
    n->prevoting = true;
    n->prevote_term = n->term + 1;
    n->votes.n = n->empty_votes.n = 0;
    rf_reset_election_timeout(n);
    RF_LOG(n, "pre-vote for term %llu", (unsigned long long)n->prevote_term);
    struct rf_msg vr = {.type = RF_MSG_VOTE_REQ, .flags = RF_MF_PREVOTE,
                        .term = n->prevote_term, .pterm = n->pterm, .pindex = n->pindex,
                        .leader = n->id};
    rf_send(n, &vr);
    /* A damaged node's own vote is "empty": it can only win if every member agrees. */
    if (count_vote(n, n->id, n->repair)) {
        n->prevoting = false;
        rf_switch_to_candidate(n);
        if (n->state == RF_CANDIDATE)
            rf_request_vote(n);
    }
}

void rf_request_vote(struct rf_node *n)
{
    if (n->state != RF_CANDIDATE)
        return;
    n->vote = n->id;
    if (n->werr || rf_write_term_vote(n) < 0) {
        /* Our self-vote must be durable before we campaign (Go). */
        n->vote = (rf_id){{0}};
        return;
    }
    n->votes.n = n->empty_votes.n = 0;
    struct rf_msg vr = {.type = RF_MSG_VOTE_REQ, .term = n->term, .pterm = n->pterm,
                        .pindex = n->pindex, .leader = n->id};
    rf_send(n, &vr);
    /* We vote for ourselves (Go pushes this into its own vote queue); empty if damaged. */
    if (count_vote(n, n->id, n->repair))
        rf_switch_to_leader(n);
}

static void process_prevote_response(struct rf_node *n, const struct rf_msg *vr)
{
    RF_LOG(n, "pre-vote response from %.8s term %llu granted %d (prevoting %d)", vr->leader.b,
           (unsigned long long)vr->term, (vr->flags & RF_MF_GRANTED) != 0, n->prevoting);
    if (!n->prevoting || n->state != RF_FOLLOWER)
        return;
    if ((vr->flags & RF_MF_GRANTED) && vr->term == n->prevote_term) {
        if (count_vote(n, vr->leader, (vr->flags & RF_MF_EMPTY) != 0)) {
            n->prevoting = false;
            rf_switch_to_candidate(n);
            if (n->state == RF_CANDIDATE)
                rf_request_vote(n);
        }
    } else if (!(vr->flags & RF_MF_GRANTED) && vr->term > n->term) {
        /* Someone is on a newer term: adopt it (no vote) and wait for its leader. */
        n->term = vr->term;
        n->vote = (rf_id){{0}};
        n->prevoting = false;
        rf_write_term_vote(n);
    }
}

void rf_process_vote_response(struct rf_node *n, const struct rf_msg *vr)
{
    if (vr->flags & RF_MF_PREVOTE) {
        process_prevote_response(n, vr);
        return;
    }
    if (n->state == RF_LEADER) {
        if (vr->term > n->term)
            rf_stepdown(n, (rf_id){{0}});
        return;
    }
    if (n->state != RF_CANDIDATE)
        return; /* Go: "Ignoring old vote response, we have stepped down" */
    if ((vr->flags & RF_MF_GRANTED) && vr->term == n->term) {
        rf_track_peer(n, vr->leader);
        if (count_vote(n, vr->leader, (vr->flags & RF_MF_EMPTY) != 0))
            rf_switch_to_leader(n);
    } else if (vr->term > n->term) {
        RF_LOG(n, "candidate saw higher term %llu", (unsigned long long)vr->term);
        n->term = vr->term;
        n->vote = (rf_id){{0}};
        rf_write_term_vote(n);
        n->lxfer = false;
        rf_stepdown(n, (rf_id){{0}});
    }
}

int rf_campaign_in(struct rf_node *n, uint64_t et)
{
    if (n->state == RF_LEADER)
        return -EALREADY; /* Go's errAlreadyLeader */
    rf_reset_elect(n, et);
    return 0;
}

int rf_campaign(struct rf_node *n)
{
    return rf_campaign_in(n, rf_rand_campaign_timeout(n));
}

int rf_campaign_immediately(struct rf_node *n)
{
    n->maybe_leader = true;
    rf_reset_initializing(n);
    return rf_campaign_in(n, n->cfg.campaign_min_ms / 2);
}

int rf_xfer_campaign(struct rf_node *n)
{
    if (n->state == RF_LEADER) {
        n->lxfer = false;
        return -EALREADY;
    }
    rf_reset_elect(n, 10);
    return 0;
}
