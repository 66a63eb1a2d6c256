/* raftd/raft_member.c: membership, peer state, leadership transfer and observers.  Ports Go
 * server/raft.go addPeer, removePeer, adjustClusterSizeAndQuorum, processPeerState,
 * currentPeerState, committedPeerStateLocked, sendMembershipChange, sendPeerState,
 * StepDown (EntryLeaderTransfer to a preferred or first healthy peer), selectNextLeader,
 * SetObserver, AdjustClusterSize, AdjustBootClusterSize, ProposeKnownPeers and
 * UpdateKnownPeers.
 *
 * Invariants: at most one membership change is in flight (memb.active); a change is tracked
 * speculatively from the moment it is stored and reverted if truncated (raft_follow.c);
 * qn == csz/2+1 whenever csz changes; removed peers cannot be re-added automatically until
 * peer_remove_timeout_ms has passed.
 */
#include "raftd/raft_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool rf_removed_find(struct rf_node *n, rf_id id, uint64_t *ts)
{
    for (uint32_t i = 0; i < n->removed.n; i++)
        if (rf_id_eq(n->removed.v[i].id, id)) {
            if (ts)
                *ts = n->removed.v[i].ts;
            return true;
        }
    return false;
}

void rf_removed_del(struct rf_node *n, rf_id id)
{
    for (uint32_t i = 0; i < n->removed.n; i++)
        if (rf_id_eq(n->removed.v[i].id, id)) {
            VEC_DEL(n->removed, i);
            return;
        }
}

static void removed_set(struct rf_node *n, rf_id id)
{
    for (uint32_t i = 0; i < n->removed.n; i++)
        if (rf_id_eq(n->removed.v[i].id, id)) {
            n->removed.v[i].ts = n->now;
            return;
        }
    struct rf_removed r = {.id = id, .ts = n->now};
    VEC_PUSH(n->removed, r);
}

void rf_adjust_cluster_size_and_quorum(struct rf_node *n)
{
    int pcsz = n->csz, ncsz = (int)n->peers.n;
    n->csz = ncsz;
    n->qn = n->csz / 2 + 1;
    if (ncsz > pcsz) {
        n->lsut = n->now ? n->now : 1;
    } else if (ncsz < pcsz && n->state == RF_LEADER) {
        n->hb_pending = true;
    }
}

void rf_add_peer(struct rf_node *n, rf_id peer)
{
    RF_LOG(n, "added peer %.8s", peer.b);
    rf_removed_del(n, peer);
    if (!rf_peer_find(n, peer)) {
        struct rf_peer p = {.id = peer};
        VEC_PUSH(n->peers, p);
    }
    rf_adjust_cluster_size_and_quorum(n);
    rf_write_peer_state(n);
}

void rf_remove_peer(struct rf_node *n, rf_id peer)
{
    RF_LOG(n, "removed peer %.8s", peer.b);
    removed_set(n, peer);
    for (uint32_t i = 0; i < n->peers.n; i++)
        if (rf_id_eq(n->peers.v[i].id, peer)) {
            VEC_DEL(n->peers, i);
            break;
        }
    rf_adjust_cluster_size_and_quorum(n);
    rf_write_peer_state(n);
}

void rf_process_peer_state(struct rf_node *n, const struct rf_peerstate *ps)
{
    n->csz = (int)ps->cluster_size;
    n->qn = n->csz / 2 + 1;
    struct rf_peer *old = n->peers.v;
    uint32_t nold = n->peers.n;
    memset(&n->peers, 0, sizeof(n->peers));
    bool *kept = calloc(nold ? nold : 1, sizeof(bool));
    if (!kept)
        abort();
    for (uint32_t i = 0; i < ps->n_peers; i++) {
        if (rf_peer_find(n, ps->peers[i]))
            continue; /* duplicate in the list */
        struct rf_peer np = {.id = ps->peers[i]};
        for (uint32_t j = 0; j < nold; j++)
            if (rf_id_eq(old[j].id, ps->peers[i])) {
                np = old[j];
                kept[j] = true;
            }
        VEC_PUSH(n->peers, np);
        rf_removed_del(n, ps->peers[i]);
    }
    /* Peers that disappeared are marked removed so tracking can't re-add them. */
    for (uint32_t j = 0; j < nold; j++)
        if (!kept[j])
            removed_set(n, old[j].id);
    free(kept);
    free(old);
    rf_write_peer_state(n);
}

void rf_current_peer_state(const struct rf_node *n, struct rf_peerstate *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->n_peers = n->peers.n;
    ps->cluster_size = (uint32_t)n->csz;
    ps->ext = n->ext;
    if (n->peers.n) {
        ps->peers = calloc(n->peers.n, sizeof(rf_id));
        if (!ps->peers)
            abort();
        for (uint32_t i = 0; i < n->peers.n; i++)
            ps->peers[i] = n->peers.v[i].id;
    }
}

void rf_committed_peer_state(const struct rf_node *n, uint64_t index, struct rf_peerstate *ps)
{
    rf_current_peer_state(n, ps);
    if (!n->memb.active || n->memb.index <= index)
        return;
    /* Revert the speculative change to get the committed membership. */
    rf_id p = n->memb.peer;
    if (n->memb.has_prev) {
        bool have = false;
        for (uint32_t i = 0; i < ps->n_peers; i++)
            have |= rf_id_eq(ps->peers[i], p);
        if (!have) {
            ps->peers = realloc(ps->peers, (ps->n_peers + 1) * sizeof(rf_id));
            if (!ps->peers)
                abort();
            ps->peers[ps->n_peers++] = p;
        }
    } else {
        uint32_t k = 0;
        for (uint32_t i = 0; i < ps->n_peers; i++)
            if (!rf_id_eq(ps->peers[i], p))
                ps->peers[k++] = ps->peers[i];
        ps->n_peers = k;
    }
    ps->cluster_size = ps->n_peers;
}

bool rf_send_membership_change(struct rf_node *n, struct rf_entry *e)
{
    if ((e->type != RF_ENTRY_ADD_PEER && e->type != RF_ENTRY_REMOVE_PEER) || n->memb.active ||
        e->len != RF_ID_LEN)
        return false;
    rf_id peer;
    memcpy(peer.b, e->data, RF_ID_LEN);
    struct rf_peer *ps = rf_peer_find(n, peer);
    if ((e->type == RF_ENTRY_ADD_PEER && ps) || (e->type == RF_ENTRY_REMOVE_PEER && !ps))
        return false;
    RF_LOG(n, "proposing %s %.8s at %llu", rf_entry_type_str(e->type), peer.b,
           (unsigned long long)(n->pindex + 1));
    /* Set before sending: with one node we commit as soon as the entry is durable. */
    n->memb = (struct rf_memb_change){.active = true, .index = n->pindex + 1, .peer = peer};
    if (e->type == RF_ENTRY_REMOVE_PEER) {
        n->memb.has_prev = true;
        n->memb.prev = *ps;
    }
    if (rf_send_append_entry(n, rf_entries_dup(e, 1), 1, true) < 0) {
        n->memb.active = false;
        return false;
    }
    if (e->type == RF_ENTRY_ADD_PEER) {
        if (!rf_peer_find(n, peer)) {
            struct rf_peer np = {.id = peer};
            VEC_PUSH(n->peers, np);
            rf_adjust_cluster_size_and_quorum(n);
        }
    } else {
        ps = rf_peer_find(n, peer);
        if (ps) {
            VEC_DEL(n->peers, (uint32_t)(ps - n->peers.v));
            rf_adjust_cluster_size_and_quorum(n);
        }
    }
    return true;
}

int rf_encode_peer_state(const struct rf_peerstate *ps, uint8_t **out, uint32_t *len)
{
    return rf_peerstate_encode(ps, out, len);
}

void rf_send_peer_state(struct rf_node *n)
{
    struct rf_peerstate ps;
    rf_current_peer_state(n, &ps);
    struct rf_entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    e->type = RF_ENTRY_PEER_STATE;
    if (rf_peerstate_encode(&ps, &e->data, &e->len) < 0)
        abort();
    rf_peerstate_free(&ps);
    (void)rf_send_append_entry(n, e, 1, true);
}

rf_id rf_select_next_leader(struct rf_node *n)
{
    rf_id best = {{0}};
    uint64_t hli = 0;
    for (uint32_t i = 0; i < n->peers.n; i++) {
        struct rf_peer *p = &n->peers.v[i];
        if (rf_id_eq(p->id, n->id) || p->li <= hli)
            continue;
        hli = p->li;
        best = p->id;
    }
    return best;
}

static bool healthy(struct rf_node *n, struct rf_peer *p)
{
    return p && p->ts && n->now - p->ts < 3ull * n->cfg.hb_ms;
}

int rf_step_down(struct rf_node *n, const rf_id *preferred)
{
    if (n->state != RF_LEADER)
        return -EPERM;
    rf_id maybe = {{0}};
    if (preferred && !rf_id_none(*preferred) && !rf_id_eq(*preferred, n->id))
        maybe = *preferred;
    if (!rf_id_none(maybe) && !healthy(n, rf_peer_find(n, maybe)))
        maybe = (rf_id){{0}};
    if (rf_id_none(maybe)) {
        for (uint32_t i = 0; i < n->peers.n; i++) {
            struct rf_peer *p = &n->peers.v[i];
            if (!rf_id_eq(p->id, n->id) && healthy(n, p)) {
                maybe = p->id;
                break;
            }
        }
    }
    if (!rf_id_none(maybe)) {
        /* Sent directly, not via proposals: we drop those when we switch to follower. */
        RF_LOG(n, "stepping down, transferring leadership to %.8s", maybe.b);
        struct rf_entry *e = calloc(1, sizeof(*e));
        if (!e)
            abort();
        e->type = RF_ENTRY_LEADER_TRANSFER;
        e->len = RF_ID_LEN;
        e->data = malloc(RF_ID_LEN);
        memcpy(e->data, maybe.b, RF_ID_LEN);
        (void)rf_send_append_entry(n, e, 1, true);
    }
    rf_stepdown(n, (rf_id){{0}});
    return 0;
}

void rf_set_observer_int(struct rf_node *n, bool observer, uint16_t ext)
{
    bool was = n->observer;
    n->observer = observer;
    n->ext = ext;
    if (was && !observer)
        rf_reset_election_timeout(n);
}

void rf_set_observer(struct rf_node *n, bool observer)
{
    rf_set_observer_int(n, observer, 0);
}

int rf_adjust_cluster_size(struct rf_node *n, int csz)
{
    if (n->state != RF_LEADER)
        return -EPERM;
    if (csz < 2)
        csz = 2;
    n->csz = csz;
    n->qn = csz / 2 + 1;
    rf_send_peer_state(n);
    return 0;
}

int rf_adjust_boot_cluster_size(struct rf_node *n, int csz)
{
    if (!rf_id_none(n->leader) || n->pleader)
        return -EPERM; /* Go's errAdjustBootCluster */
    if (csz < 2)
        csz = 2;
    n->csz = csz;
    n->qn = csz / 2 + 1;
    return 0;
}

void rf_update_known_peers(struct rf_node *n, const rf_id *peers, uint32_t count)
{
    struct rf_peerstate ps = {.n_peers = count, .peers = (rf_id *)peers,
                              .cluster_size = count, .ext = n->ext};
    rf_process_peer_state(n, &ps);
}

void rf_propose_known_peers(struct rf_node *n, const rf_id *peers, uint32_t count)
{
    if (n->state != RF_LEADER)
        return;
    rf_update_known_peers(n, peers, count);
    rf_send_peer_state(n);
}
