/* raftd/raft_lead.c: the leader path.  Ports Go server/raft.go sendAppendEntryLocked,
 * storeToWAL, the proposal batching of runAsLeader (256KB / 512 entries per append entry),
 * processAppendEntryResponse, trackResponse, tryCommit, trackPeer, catchupFollower,
 * runCatchup (as a per-follower state machine), sendSnapshotToFollower, the forwarded
 * proposal handlers and isLeaderOverrun.  Adds: the leader's own ack counts only once its
 * copy is durable (stable index), snapshots go out in paced chunks, and catchup progress is
 * paced by explicit catchup acks (cumulative) rather than only by stall timers.
 *
 * Invariants: acks are only recorded for responses whose term equals our term (Go's "only
 * commit entries of the current term"); commit only moves forward; a catchup stream never
 * contributes to quorum; all progress state is dropped when we stop being leader.
 */
#include "raftd/raft_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rf_ack *rf_acks_find(struct rf_node *n, uint64_t index)
{
    for (uint32_t i = 0; i < n->acks.n; i++)
        if (n->acks.v[i].index == index)
            return &n->acks.v[i];
    return NULL;
}

void rf_acks_del(struct rf_node *n, uint64_t index)
{
    for (uint32_t i = 0; i < n->acks.n; i++)
        if (n->acks.v[i].index == index) {
            VEC_DEL(n->acks, i);
            return;
        }
}

void rf_acks_clear(struct rf_node *n)
{
    n->acks.n = 0;
}

static uint32_t ack_count(struct rf_node *n, uint64_t index)
{
    struct rf_ack *a = rf_acks_find(n, index);
    return a ? a->n : 0;
}

int rf_store_to_wal(struct rf_node *n, const struct rf_msg *ae)
{
    if (n->werr)
        return n->werr;
    uint64_t seq = rf_log_last(&n->log) + 1;
    if (seq != ae->pindex + 1) {
        RF_LOG(n, "wrong index, ae pindex %llu, stored %llu, will reset",
               (unsigned long long)ae->pindex, (unsigned long long)seq);
        if (n->state == RF_LEADER)
            rf_stepdown(n, rf_select_next_leader(n));
        rf_reset_wal(n);
        rf_cancel_catchup(n);
        return -EIO; /* Go's errEntryStoreFailed */
    }
    struct rf_msg rec_ae = *ae;
    rec_ae.lterm = 0;
    rec_ae.cid = 0;
    uint8_t *buf;
    uint32_t len;
    int rc = rf_ae_encode(&rec_ae, &buf, &len);
    if (rc < 0) {
        rf_set_write_err(n, rc);
        return rc;
    }
    RF_LOG(n, "store %llu term %llu commit %llu n=%u", (unsigned long long)seq,
           (unsigned long long)ae->term, (unsigned long long)ae->commit, ae->n_entries);
    rf_queue_op(n, RF_OP_APPEND, seq, ae->term, buf, len);
    struct rf_rec r;
    rf_rec_from_ae(ae, &r);
    rf_log_append(&n->log, &r);
    n->pterm = ae->term;
    n->pindex = seq;
    return 0;
}

int rf_send_append_entry(struct rf_node *n, struct rf_entry *e, uint32_t ne, bool check_leader)
{
    if (check_leader && n->state != RF_LEADER) {
        rf_entries_free(e, ne);
        return -EPERM; /* Go's errNotLeader */
    }
    struct rf_msg ae = {.type = RF_MSG_AE, .leader = n->id, .term = n->term,
                        .commit = n->commit, .pterm = n->pterm, .pindex = n->pindex,
                        .n_entries = ne, .entries = e};
    if (ne > 0) {
        int rc = rf_store_to_wal(n, &ae);
        if (rc < 0) {
            rf_entries_free(e, ne);
            return rc;
        }
        n->active = n->now;
    }
    rf_send(n, &ae); /* broadcast; the outbox owns the entries now */
    return 0;
}

void rf_send_heartbeat(struct rf_node *n)
{
    (void)rf_send_append_entry(n, NULL, 0, true);
}

bool rf_is_leader_overrun(const struct rf_node *n)
{
    uint64_t applied = n->applied > n->papplied ? n->applied : n->papplied;
    uint64_t commit = n->commit > n->papplied ? n->commit : n->papplied;
    uint64_t th = n->cfg.pause_quorum_threshold;
    return (n->pindex > commit && n->pindex - commit > th) ||
           (commit > applied && commit - applied > th);
}

static void push_prop(struct rf_node *n, uint8_t type, const void *data, uint32_t len)
{
    struct rf_prop p = {.e = {.type = type, .len = len}};
    if (len) {
        p.e.data = malloc(len);
        if (!p.e.data)
            abort();
        memcpy(p.e.data, data, len);
    }
    VEC_PUSH(n->props, p);
}

static int overrun_stepdown(struct rf_node *n)
{
    RF_LOG(n, "leader falling behind, stepping down");
    rf_stepdown(n, (rf_id){{0}});
    n->overrun_count++;
    return -EPERM;
}

int rf_propose(struct rf_node *n, uint64_t term, const void *data, uint32_t len)
{
    if (n->state != RF_LEADER || term != n->term)
        return -EPERM;
    if (n->werr)
        return n->werr;
    if (rf_is_leader_overrun(n))
        return overrun_stepdown(n);
    push_prop(n, RF_ENTRY_NORMAL, data, len);
    return 0;
}

int rf_propose_multi(struct rf_node *n, uint64_t term, const struct rf_entry *e, uint32_t count)
{
    if (n->state != RF_LEADER || term != n->term)
        return -EPERM;
    if (n->werr)
        return n->werr;
    if (rf_is_leader_overrun(n))
        return overrun_stepdown(n);
    for (uint32_t i = 0; i < count; i++)
        push_prop(n, e[i].type, e[i].data, e[i].len);
    return 0;
}

int rf_forward_proposal(struct rf_node *n, const void *data, uint32_t len)
{
    if (n->state == RF_LEADER)
        return rf_propose(n, n->term, data, len);
    /* Go publishes on $NRG.P.<group>, which only the leader subscribes to: broadcast, and
     * whoever leads now takes it (a follower's idea of the leader may be stale). */
    struct rf_msg m = {.type = RF_MSG_PROPOSAL, .data_len = len};
    if (len) {
        m.data = malloc(len);
        if (!m.data)
            abort();
        memcpy(m.data, data, len);
    }
    rf_send(n, &m);
    return 0;
}

int rf_propose_add_peer(struct rf_node *n, rf_id peer)
{
    if (n->state != RF_LEADER)
        return -EPERM;
    if (n->werr)
        return n->werr;
    if (n->memb.active)
        return -EBUSY; /* Go's errMembershipChange */
    push_prop(n, RF_ENTRY_ADD_PEER, peer.b, RF_ID_LEN);
    return 0;
}

int rf_propose_remove_peer(struct rf_node *n, rf_id peer)
{
    if (n->werr)
        return n->werr;
    if (n->state != RF_LEADER) {
        struct rf_msg m = {.type = RF_MSG_REMOVE_PEER, .data_len = RF_ID_LEN}; /* $NRG.RP */
        m.data = malloc(RF_ID_LEN);
        memcpy(m.data, peer.b, RF_ID_LEN);
        rf_send(n, &m);
        return 0;
    }
    if (n->memb.active)
        return -EBUSY;
    if (!rf_peer_find(n, peer))
        return -ENOENT; /* Go's errPeerNotFound */
    if (n->peers.n <= 1)
        return -EINVAL; /* Go's errRemoveLastNode */
    push_prop(n, RF_ENTRY_REMOVE_PEER, peer.b, RF_ID_LEN);
    return 0;
}

void rf_handle_forwarded_proposal(struct rf_node *n, const struct rf_msg *m)
{
    if (n->state != RF_LEADER || !n->leader_state || n->werr)
        return;
    if (rf_is_leader_overrun(n)) {
        overrun_stepdown(n);
        return;
    }
    push_prop(n, RF_ENTRY_NORMAL, m->data, m->data_len);
}

void rf_handle_forwarded_remove_peer(struct rf_node *n, const struct rf_msg *m)
{
    if (m->data_len != RF_ID_LEN)
        return;
    if (n->state != RF_LEADER || !n->leader_state || n->werr || n->memb.active)
        return;
    rf_id p;
    memcpy(p.b, m->data, RF_ID_LEN);
    if (!rf_peer_find(n, p) || n->peers.n <= 1)
        return;
    push_prop(n, RF_ENTRY_REMOVE_PEER, p.b, RF_ID_LEN);
}

void rf_flush_proposals(struct rf_node *n)
{
    if (n->state != RF_LEADER || n->props.n == 0)
        return;
    struct rf_prop *ps = n->props.v;
    uint32_t np = n->props.n;
    memset(&n->props, 0, sizeof(n->props));
    struct rf_entry *batch = NULL;
    uint32_t nb = 0, cap = 0;
    uint64_t sz = 0;
    for (uint32_t i = 0; i < np; i++) {
        struct rf_entry e = ps[i].e;
        if (n->state != RF_LEADER) {
            free(e.data);
            continue;
        }
        if (e.type == RF_ENTRY_ADD_PEER || e.type == RF_ENTRY_REMOVE_PEER) {
            rf_send_membership_change(n, &e);
            free(e.data);
            continue;
        }
        if (nb == cap) {
            cap = cap ? cap * 2 : 16;
            batch = realloc(batch, cap * sizeof(*batch));
            if (!batch)
                abort();
        }
        batch[nb++] = e;
        sz += e.len + 1;
        if (sz < n->cfg.max_batch_bytes && nb < n->cfg.max_batch_entries)
            continue;
        (void)rf_send_append_entry(n, batch, nb, true);
        batch = NULL;
        nb = cap = 0;
        sz = 0;
    }
    if (nb)
        (void)rf_send_append_entry(n, batch, nb, true);
    else
        free(batch);
    free(ps);
}

int rf_try_commit(struct rf_node *n, uint64_t index, bool *committed)
{
    *committed = false;
    uint32_t acks = ack_count(n, index);
    /* Count ourselves if still a member and our copy of index is durable. */
    if (rf_peer_find(n, n->id) && n->stable >= index)
        acks++;
    if ((int)acks < n->qn)
        return 0;
    for (uint64_t i = n->commit + 1; i <= index; i++) {
        int rc = rf_apply_commit(n, i);
        if (rc < 0)
            return rc;
    }
    *committed = true;
    return 0;
}

static void after_commit(struct rf_node *n, int rc, bool committed)
{
    if (rc == -EXDEV) {
        /* Go's errNodeRemoved: the leader removed itself; transfer then stop. */
        RF_IGNORE(rf_step_down(n, NULL));
        rf_stop(n);
        return;
    }
    if (committed && n->props.n == 0 && n->state == RF_LEADER)
        rf_send_heartbeat(n); /* let followers apply without waiting */
}

void rf_leader_stable_advanced(struct rf_node *n)
{
    /* Our own ack may complete a quorum: check the highest candidate index first. */
    uint64_t best = 0;
    if (n->stable > n->commit) {
        struct rf_rec *r = rf_log_get(&n->log, n->stable);
        uint32_t self = rf_peer_find(n, n->id) ? 1 : 0;
        if (r && r->term == n->term && (int)(ack_count(n, n->stable) + self) >= n->qn)
            best = n->stable;
        for (uint32_t i = 0; i < n->acks.n && !best; i++) {
            struct rf_ack *a = &n->acks.v[i];
            if (a->index > n->commit && a->index <= n->stable && a->index > best &&
                (int)(a->n + self) >= n->qn)
                best = a->index;
        }
    }
    if (best) {
        bool committed;
        int rc = rf_try_commit(n, best, &committed);
        after_commit(n, rc, committed);
    }
}

bool rf_track_response(struct rf_node *n, const struct rf_msg *ar)
{
    if (n->state != RF_LEADER)
        return false;
    struct rf_peer *ps = rf_peer_find(n, ar->from);
    if (ps && ar->index > ps->li)
        ps->li = ar->index;
    for (uint32_t i = 0; i < n->progress.n; i++)
        if (rf_id_eq(n->progress.v[i].peer, ar->from)) {
            struct rf_msg upd = {.cid = n->progress.v[i].cid, .from = ar->from,
                                 .index = ar->index};
            rf_process_catchup_ack(n, &upd);
            break;
        }
    if (n->state != RF_LEADER)
        return false;
    if (ar->index <= n->commit || ar->term != n->term)
        return false;
    if (!ps)
        return false;
    struct rf_ack *a = rf_acks_find(n, ar->index);
    if (!a) {
        struct rf_ack na = {.index = ar->index};
        VEC_PUSH(n->acks, na);
        a = &n->acks.v[n->acks.n - 1];
    }
    for (uint32_t i = 0; i < a->n; i++)
        if (rf_id_eq(a->ids[i], ar->from))
            return true;
    if (a->n < 64)
        a->ids[a->n++] = ar->from;
    return true;
}

void rf_track_peer(struct rf_node *n, rf_id peer)
{
    uint64_t rts = 0;
    bool removed = rf_removed_find(n, peer, &rts);
    if (removed && n->now - rts >= n->cfg.peer_remove_timeout_ms)
        removed = false; /* removed peers can rejoin after a timeout (Go) */
    struct rf_peer *ps = rf_peer_find(n, peer);
    bool need_add = n->state == RF_LEADER && !ps && !removed;
    if (ps)
        ps->ts = n->now;
    if (need_add)
        RF_IGNORE(rf_propose_add_peer(n, peer));
}

void rf_process_append_entry_response(struct rf_node *n, const struct rf_msg *ar)
{
    rf_track_peer(n, ar->from);
    if (ar->flags & RF_MF_SUCCESS) {
        bool committed = false;
        int rc = 0;
        if (rf_track_response(n, ar))
            rc = rf_try_commit(n, ar->index, &committed);
        after_commit(n, rc, committed);
    } else if (ar->cid) {
        rf_catchup_follower(n, ar);
    } else if (ar->term > n->term) {
        RF_LOG(n, "detected another leader with higher term, will stepdown");
        n->term = ar->term;
        n->vote = (rf_id){{0}};
        rf_write_term_vote(n);
        rf_stepdown(n, (rf_id){{0}});
    }
}

/* ---- leader side of catchup (Go's catchupFollower / runCatchup) ---- */

static void progress_free(struct rf_progress *p)
{
    free(p->om_idx);
    free(p->om_sz);
    rf_snapshot_unref(p->snap);
    memset(p, 0, sizeof(*p));
}

void rf_progress_clear(struct rf_node *n)
{
    for (uint32_t i = 0; i < n->progress.n; i++)
        progress_free(&n->progress.v[i]);
    n->progress.n = 0;
}

static void progress_done(struct rf_node *n, uint32_t i, bool finished)
{
    rf_id peer = n->progress.v[i].peer;
    progress_free(&n->progress.v[i]);
    VEC_DEL(n->progress, i);
    /* Go: a caught up follower that isn't a peer yet is proposed as one.  Go also does it
     * when the catchup stalled and for recently removed peers; raftd only adds a follower
     * that finished its catchup and that trackPeer would accept too. */
    uint64_t rts = 0;
    bool removed = rf_removed_find(n, peer, &rts) && n->now - rts < n->cfg.peer_remove_timeout_ms;
    if (finished && !removed && !rf_peer_find(n, peer) && n->state == RF_LEADER)
        RF_IGNORE(rf_propose_add_peer(n, peer));
}

static void send_chunks(struct rf_node *n, struct rf_progress *p)
{
    struct rf_snapshot *s = p->snap;
    uint64_t total = (uint64_t)s->ps_len + s->data_len;
    uint32_t chunk = n->cfg.snap_chunk_bytes ? n->cfg.snap_chunk_bytes : 65536;
    do {
        if (p->snap_sent - p->snap_acked > n->cfg.catchup_max_outstanding)
            break;
        uint64_t off = p->snap_sent;
        uint64_t len = total - off < chunk ? total - off : chunk;
        struct rf_msg m = {.type = RF_MSG_SNAP_CHUNK, .to = p->peer, .term = n->term,
                           .cid = p->cid, .pterm = s->term, .pindex = p->snap_pindex,
                           .index = off, .total = total, .ps_len = s->ps_len,
                           .data_len = (uint32_t)len};
        if (len) {
            m.data = malloc(len);
            if (!m.data)
                abort();
            for (uint64_t k = 0; k < len; k++) {
                uint64_t o = off + k;
                m.data[k] = o < s->ps_len ? s->peerstate[o] : s->data[o - s->ps_len];
            }
        }
        if (off + len >= total)
            m.flags |= RF_MF_LAST;
        rf_send(n, &m);
        p->snap_sent = off + len;
    } while (p->snap_sent < total);
}

/* Go's sendNext: returns true when everything up to last has been sent. */
static bool send_next(struct rf_node *n, struct rf_progress *p)
{
    while (p->outstanding <= n->cfg.catchup_max_outstanding) {
        uint64_t idx = p->next + 1;
        if (idx > p->last)
            return true;
        struct rf_rec *r = rf_log_get(&n->log, idx);
        if (!r)
            return true; /* compacted or truncated away: let the follower re-request */
        p->next = idx;
        struct rf_msg ae;
        rf_rec_to_ae(r, idx, &ae);
        ae.to = p->peer;
        ae.lterm = p->term;
        ae.cid = p->cid;
        ae.entries = rf_entries_dup(r->entries, r->n_entries);
        if (p->om_n == p->om_cap) {
            p->om_cap = p->om_cap ? p->om_cap * 2 : 16;
            p->om_idx = realloc(p->om_idx, p->om_cap * sizeof(*p->om_idx));
            p->om_sz = realloc(p->om_sz, p->om_cap * sizeof(*p->om_sz));
            if (!p->om_idx || !p->om_sz)
                abort();
        }
        p->om_idx[p->om_n] = idx;
        p->om_sz[p->om_n++] = r->size;
        p->outstanding += r->size;
        rf_send(n, &ae);
    }
    return false;
}

void rf_catchup_follower(struct rf_node *n, const struct rf_msg *ar)
{
    for (uint32_t i = 0; i < n->progress.n; i++)
        if (rf_id_eq(n->progress.v[i].peer, ar->from)) {
            progress_free(&n->progress.v[i]);
            VEC_DEL(n->progress, i);
            break;
        }
    uint64_t start = ar->index + 1;
    uint64_t first = rf_log_first(&n->log), last = rf_log_last(&n->log);
    struct rf_progress p = {.peer = ar->from, .cid = ar->cid, .term = n->term,
                            .last = n->pindex, .deadline = n->now + n->cfg.catchup_activity_ms};
    if (start < first || (n->log.n == 0 && start <= last)) {
        struct rf_snapshot *s = rf_load_last_snapshot(n);
        if (!s) {
            RF_LOG(n, "no snapshot to send to follower %.8s, stepping down", ar->from.b);
            rf_stepdown(n, (rf_id){{0}});
            return;
        }
        s->refs++;
        p.snap = s;
        p.snap_phase = true;
        p.snap_pindex = s->index;
        if (s->index < first - 1 && first != 0)
            p.snap_pindex = first - 1; /* Go's fpIndex adjustment */
        p.next = p.snap_pindex;
        p.started = true;
        VEC_PUSH(n->progress, p);
        send_chunks(n, &n->progress.v[n->progress.n - 1]);
        return;
    }
    if (start > last) {
        /* The follower claims entries beyond ours: we are behind, step down (Go). */
        RF_LOG(n, "catchup request beyond our log, stepping down");
        rf_stepdown(n, (rf_id){{0}});
        return;
    }
    p.next = start - 1;
    p.started = true;
    VEC_PUSH(n->progress, p);
    struct rf_progress *pp = &n->progress.v[n->progress.n - 1];
    if (send_next(n, pp))
        progress_done(n, n->progress.n - 1, true);
}

void rf_process_catchup_ack(struct rf_node *n, const struct rf_msg *m)
{
    for (uint32_t i = 0; i < n->progress.n; i++) {
        struct rf_progress *p = &n->progress.v[i];
        if (!rf_id_eq(p->peer, m->from) || (m->cid && p->cid != m->cid))
            continue;
        p->deadline = n->now + n->cfg.catchup_activity_ms;
        if (p->snap_phase) {
            uint64_t total = (uint64_t)p->snap->ps_len + p->snap->data_len;
            if (m->total > p->snap_acked && m->total <= p->snap_sent)
                p->snap_acked = m->total;
            if (p->snap_acked < total) {
                send_chunks(n, p);
                return;
            }
            p->snap_phase = false;
            if (p->snap_pindex + 1 > p->last || n->log.n == 0) {
                progress_done(n, i, true);
                return;
            }
        } else {
            /* Cumulative: everything up to index has landed. */
            uint32_t k = 0;
            for (uint32_t j = 0; j < p->om_n; j++) {
                if (p->om_idx[j] <= m->index) {
                    p->outstanding -= p->om_sz[j];
                } else {
                    p->om_idx[k] = p->om_idx[j];
                    p->om_sz[k++] = p->om_sz[j];
                }
            }
            p->om_n = k;
            if (m->index > p->last) {
                progress_done(n, i, true);
                return;
            }
        }
        if (send_next(n, p))
            progress_done(n, i, true);
        return;
    }
}

void rf_progress_tick(struct rf_node *n)
{
    for (uint32_t i = 0; i < n->progress.n;) {
        if (n->now >= n->progress.v[i].deadline) {
            RF_LOG(n, "catching up %.8s stalled", n->progress.v[i].peer.b);
            progress_done(n, i, false);
            continue;
        }
        i++;
    }
}
