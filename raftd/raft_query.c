/* raftd/raft_query.c: read-only views of the RAFT core for the upper layer and health
 * checks.  Ports Go server/raft.go isCurrent (Current/Healthy), Peers (lag, current, last
 * contact), Quorum, lostQuorum and the simple getters (State, Leader, Term, GroupLeader,
 * Leaderless, Progress, Size, ...).
 *
 * Invariant: nothing here changes replicated state; rf_is_current only updates the
 * "falling behind" flag used for logging, like Go's hcbehind.
 */
#include "raftd/raft_int.h"

bool rf_lost_quorum(const struct rf_node *n)
{
    if (n->lsut && n->now - n->lsut < n->cfg.lost_quorum_ms)
        return false;
    int nc = 0;
    for (uint32_t i = 0; i < n->peers.n; i++) {
        const struct rf_peer *p = &n->peers.v[i];
        if (rf_id_eq(p->id, n->id) || (p->ts && n->now - p->ts < n->cfg.lost_quorum_ms))
            if (++nc >= n->qn)
                return false;
    }
    return true;
}

bool rf_quorum(const struct rf_node *n)
{
    int nc = 0;
    for (uint32_t i = 0; i < n->peers.n; i++) {
        const struct rf_peer *p = &n->peers.v[i];
        if (rf_id_eq(p->id, n->id) || (p->ts && n->now - p->ts < n->cfg.lost_quorum_ms))
            if (++nc >= n->qn)
                return true;
    }
    return false;
}

bool rf_is_current(struct rf_node *n, bool include_forward_progress)
{
    (void)include_forward_progress; /* a pure core cannot wait 10ms for progress */
    if (n->state == RF_CLOSED || n->commit == 0)
        return false;
    if (n->state == RF_LEADER) {
        n->hcbehind = false;
        return true;
    }
    if (!rf_id_none(n->leader) && !rf_id_eq(n->leader, n->id) && !n->catchup) {
        struct rf_peer *p = rf_peer_find(n, n->leader);
        if (!p || !p->ts || n->now - p->ts > 2ull * n->cfg.hb_ms)
            return false;
    }
    if (n->catchup)
        return false;
    if (n->paused && n->hcommit > n->commit)
        return false;
    if (n->commit == n->applied) {
        n->hcbehind = false;
        return true;
    }
    n->hcbehind = include_forward_progress;
    return false;
}

bool rf_current(struct rf_node *n)
{
    return rf_is_current(n, false);
}

bool rf_healthy(struct rf_node *n)
{
    return rf_is_current(n, true);
}

uint32_t rf_peers(const struct rf_node *n, struct rf_peer_info *out, uint32_t max)
{
    uint32_t k = 0;
    bool am_leader = rf_id_eq(n->id, n->leader);
    for (uint32_t i = 0; i < n->peers.n && k < max; i++) {
        const struct rf_peer *p = &n->peers.v[i];
        struct rf_peer_info pi = {.id = p->id, .last_ms = p->ts};
        if (rf_id_eq(p->id, n->id)) {
            pi.current = true;
        } else if (am_leader) {
            pi.lag = n->commit > p->li ? n->commit - p->li : 0;
            pi.current = pi.lag == 0;
            for (uint32_t j = 0; j < n->progress.n; j++)
                pi.catching_up |= rf_id_eq(n->progress.v[j].peer, p->id);
        } else if (rf_id_eq(p->id, n->leader)) {
            pi.current = p->ts && n->now - p->ts <= 2ull * n->cfg.hb_ms;
        }
        out[k++] = pi;
    }
    return k;
}

enum rf_state rf_state(const struct rf_node *n) { return n->state; }
bool rf_leader(const struct rf_node *n) { return n->leader_state; }
uint64_t rf_term(const struct rf_node *n) { return n->term; }
rf_id rf_group_leader(const struct rf_node *n) { return n->leader; }
bool rf_leaderless(const struct rf_node *n) { return !n->hasleader; }
bool rf_had_previous_leader(const struct rf_node *n) { return n->pleader; }
bool rf_is_observer(const struct rf_node *n) { return n->observer; }
bool rf_membership_change_in_progress(const struct rf_node *n) { return n->memb.active; }
int rf_cluster_size(const struct rf_node *n) { return n->csz; }
bool rf_needs_repair(const struct rf_node *n) { return n->repair; }
rf_id rf_node_id(const struct rf_node *n) { return n->id; }
int rf_write_err(const struct rf_node *n) { return n->werr; }

void rf_progress(const struct rf_node *n, uint64_t *index, uint64_t *commit, uint64_t *applied)
{
    *index = n->pindex;
    *commit = n->commit;
    *applied = n->applied;
}

void rf_size(const struct rf_node *n, uint64_t *entries, uint64_t *bytes)
{
    *entries = n->pindex - n->papplied;
    *bytes = n->log.bytes;
}

