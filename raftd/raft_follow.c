/* raftd/raft_follow.c: the follower path.  Ports Go server/raft.go processAppendEntry (the
 * whole decision tree: term handling, stale catchup filtering, catchup state, truncation on
 * mismatch, snapshot install on catchup, storing, membership tracking, commit), truncateWAL,
 * resetWAL, createCatchup, cancelCatchup, catchupStalled and resetInitializing.  Adds the
 * reassembly of chunked snapshots (RF_MSG_SNAP_CHUNK) that end in the same install path Go
 * uses for its one-message [EntrySnapshot, EntryPeerState] catchup entry, and paced catchup
 * acks (RF_MSG_CATCHUP_ACK) which never count toward quorum.
 *
 * Invariants: only new entries (sub == RF_SUB_NEW) are ever answered with success, never
 * catchup entries (Go: providing quorum from catchups is unsafe); a truncation below commit
 * marks the node for repair (it may have lost what it acknowledged); repair ends only after a
 * successful new append entry from a leader whose term is above repair_term.
 */
#include "raftd/raft_int.h"

#include <stdlib.h>
#include <string.h>

static void respond(struct rf_node *n, const struct rf_msg *ae, uint64_t term, uint64_t index,
                    bool success, uint64_t cid)
{
    if (rf_id_none(ae->from))
        return; /* replay: there is nobody to answer */
    struct rf_msg ar = {.type = RF_MSG_AER, .to = ae->from, .term = term, .index = index,
                        .cid = cid, .flags = success ? RF_MF_SUCCESS : 0};
    rf_send(n, &ar);
}

void rf_reset_initializing(struct rf_node *n)
{
    n->initializing = false;
    if (n->scale_up) {
        n->scale_up = false;
        rf_set_observer_int(n, false, 0);
    }
}

uint64_t rf_create_catchup(struct rf_node *n, const struct rf_msg *ae)
{
    if (n->catchup) {
        free(n->catchup->snap_buf);
        free(n->catchup);
    }
    struct rf_catchup *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->cterm = ae->pterm;
    c->cindex = ae->pindex;
    c->pterm = n->pterm;
    c->pindex = n->pindex;
    c->active = n->now;
    do {
        c->cid = rf_rand(n, 0);
    } while (c->cid <= RF_SUB_NEW); /* 0 and 1 are reserved for replay/new */
    n->catchup = c;
    return c->cid;
}

void rf_cancel_catchup(struct rf_node *n)
{
    if (!n->catchup)
        return;
    rf_cancel_catchup_signal(n);
    free(n->catchup->snap_buf);
    free(n->catchup);
    n->catchup = NULL;
}

bool rf_catchup_stalled(struct rf_node *n)
{
    if (!n->catchup)
        return false;
    if (n->catchup->pindex == n->pindex)
        return n->now - n->catchup->active > n->cfg.catchup_stall_ms;
    n->catchup->pindex = n->pindex;
    n->catchup->active = n->now;
    return false;
}

void rf_truncate_wal(struct rf_node *n, uint64_t term, uint64_t index)
{
    RF_LOG(n, "truncating WAL to term %llu index %llu", (unsigned long long)term,
           (unsigned long long)index);
    if (index < n->commit) {
        /* Go asserts this is unreachable but proceeds.  We proceed too, but the node may now
         * lack entries it acknowledged: it must not vote until a leader repaired it. */
        if (!n->repair) {
            n->repair = true;
            n->repair_term = n->term;
        }
    }
    rf_log_truncate(&n->log, index);
    rf_queue_op(n, RF_OP_TRUNCATE, index, term, NULL, 0);
    n->pterm = term;
    n->pindex = index;
    /* Revert an uncommitted membership change that was truncated away. */
    if (n->memb.active && n->memb.index > index) {
        if (n->memb.has_prev) {
            if (!rf_peer_find(n, n->memb.peer))
                VEC_PUSH(n->peers, n->memb.prev);
            rf_removed_del(n, n->memb.peer);
        } else {
            for (uint32_t i = 0; i < n->peers.n; i++)
                if (rf_id_eq(n->peers.v[i].id, n->memb.peer)) {
                    VEC_DEL(n->peers, i);
                    break;
                }
        }
        n->memb.active = false;
        rf_adjust_cluster_size_and_quorum(n);
    }
    /* Go's deferred part: drop snapshots beyond the new end, clamp commit/processed/applied. */
    if (n->snap && n->snap->index > index) {
        rf_drop_snapshot(n);
        rf_queue_op(n, RF_OP_DROP_SNAPSHOTS, index, 0, NULL, 0);
        if (n->papplied > index)
            n->papplied = index;
    }
    if (n->commit > n->pindex)
        n->commit = n->pindex;
    if (n->processed > n->commit)
        n->processed = n->commit;
    if (n->applied > n->processed)
        n->applied = n->processed;
    rf_write_peer_state(n); /* persist the repair flag and reverted membership */
}

void rf_reset_wal(struct rf_node *n)
{
    rf_truncate_wal(n, 0, 0);
}

static void catchup_ack(struct rf_node *n, const struct rf_msg *ae, uint64_t cid)
{
    struct rf_msg a = {.type = RF_MSG_CATCHUP_ACK, .to = ae->from, .term = n->term,
                       .cid = cid, .index = n->pindex};
    if (!rf_id_none(ae->from))
        rf_send(n, &a);
}

/* Catchup reached a snapshot: Go's "Inherit state from appendEntry with the leader's
 * snapshot".  Returns after queuing the install. */
static void install_catchup_snapshot(struct rf_node *n, const struct rf_msg *ae)
{
    if (ae->n_entries != 2 || ae->entries[0].type != RF_ENTRY_SNAPSHOT ||
        ae->entries[1].type != RF_ENTRY_PEER_STATE) {
        RF_LOG(n, "expected first catchup entry to be a snapshot and peerstate, will retry");
        rf_cancel_catchup(n);
        return;
    }
    struct rf_peerstate ps;
    if (rf_peerstate_decode(ae->entries[1].data, ae->entries[1].len, &ps) < 0) {
        rf_cancel_catchup(n);
        return;
    }
    rf_process_peer_state(n, &ps);
    rf_peerstate_free(&ps);
    bool had_prev = n->snap != NULL;
    struct rf_peerstate cur;
    rf_current_peer_state(n, &cur);
    uint8_t *pbuf;
    uint32_t plen;
    if (rf_peerstate_encode(&cur, &pbuf, &plen) < 0)
        abort();
    rf_peerstate_free(&cur);
    struct rf_snapshot *s = rf_snapshot_new(ae->pterm, ae->pindex, pbuf, plen,
                                            ae->entries[0].data, ae->entries[0].len);
    free(pbuf);
    if (rf_install_snapshot_int(n, s) < 0)
        return;
    n->pindex = ae->pindex;
    n->pterm = ae->pterm;
    n->commit = ae->pindex;
    rf_reset_initializing(n);
    if (!had_prev)
        rf_send_catchup_signal(n);
    struct rf_entry *e = rf_entries_dup(ae->entries, 1);
    rf_push_apply(n, n->commit, false, e, 1);
    if (had_prev)
        rf_send_catchup_signal(n);
}

void rf_process_append_entry(struct rf_node *n, const struct rf_msg *ae, uint64_t sub)
{
    if (!n->lxfer)
        rf_reset_election_timeout(n);
    if (n->state == RF_CLOSED || n->werr)
        return;
    uint64_t lterm = ae->lterm ? ae->lterm : ae->term;
    bool replay = sub == RF_SUB_REPLAY;

    if (n->state == RF_LEADER) {
        if (lterm >= n->term) {
            if (lterm > n->term) {
                n->term = lterm;
                n->vote = (rf_id){{0}};
                rf_write_term_vote(n);
            } else {
                RF_LOG(n, "two leaders using the same term %llu", (unsigned long long)lterm);
            }
            rf_stepdown(n, ae->leader);
        } else {
            if (!replay)
                respond(n, ae, n->term, n->pindex, false, 0);
            return;
        }
    }
    if (n->state == RF_CANDIDATE && lterm >= n->term) {
        if (lterm > n->term) {
            n->term = lterm;
            n->vote = (rf_id){{0}};
            rf_write_term_vote(n);
        }
        rf_stepdown(n, ae->leader);
    }

    bool catching_up = n->catchup != NULL;
    bool is_new = sub == RF_SUB_NEW;

    /* Ignore stale catchup streams.  Go unsubscribes a cancelled catchup inbox, so it only
     * still sees that stream's entries already queued, and keeps those that carry the leader
     * term and extend its log.  We accept only a seamless continuation of our log: anything
     * else from an old stream would start catchups of its own and multiply the streams. */
    if (!is_new && !replay && (!catching_up || sub != n->catchup->cid) &&
        (ae->lterm == 0 || ae->pindex != n->pindex || ae->pterm != n->pterm))
        return;

    if (lterm > n->term) {
        n->term = lterm;
        n->vote = (rf_id){{0}};
        n->prevoting = false;
        if (is_new)
            rf_write_term_vote(n);
        if (n->state != RF_FOLLOWER)
            rf_stepdown(n, ae->leader);
    } else if (lterm < n->term && !replay && (is_new || ae->lterm != 0)) {
        if (!is_new)
            return;
        respond(n, ae, n->term, n->pindex, false, 0);
        return;
    }
    /* A leader of our term is alive: late pre-vote grants must not start an election. */
    if (is_new)
        n->prevoting = false;

    if (catching_up) {
        struct rf_catchup *cs = n->catchup;
        if (n->pterm >= cs->cterm && n->pindex >= cs->cindex) {
            rf_cancel_catchup(n);
            catching_up = false;
        } else if (is_new) {
            if (rf_catchup_stalled(n)) {
                uint64_t cid = rf_create_catchup(n, ae);
                respond(n, ae, n->pterm, n->pindex, false, cid);
            }
            return; /* ignore new entries while catching up */
        }
    }

    if (is_new && !rf_id_eq(n->leader, ae->leader) && n->state == RF_FOLLOWER) {
        rf_update_leader(n, ae->leader);
        rf_write_term_vote(n);
        rf_reset_election_timeout(n);
        rf_update_lead_change(n, false);
    }
    if (is_new && !rf_id_none(ae->leader) && rf_id_eq(ae->leader, n->leader)) {
        struct rf_peer *p = rf_peer_find(n, ae->leader);
        if (p)
            p->ts = n->now;
    }

    /* Quorum pause when commits outpace applies (Go's pauseQuorumThreshold). */
    uint64_t applied = n->applied > n->papplied ? n->applied : n->papplied;
    uint64_t commit = n->commit > n->papplied ? n->commit : n->papplied;
    if (!replay && (commit > applied || n->quorum_paused)) {
        uint64_t diff = commit - applied;
        if (n->quorum_paused) {
            if (diff > n->cfg.pause_quorum_threshold / 10) {
                if (catching_up)
                    rf_cancel_catchup(n);
                return;
            }
            n->quorum_paused = false;
        } else if (diff > n->cfg.pause_quorum_threshold) {
            n->quorum_paused = true;
            n->overrun_count++;
            if (catching_up)
                rf_cancel_catchup(n);
            return;
        }
    }

    if (ae->pterm != n->pterm || ae->pindex != n->pindex) {
        if (ae->pindex <= n->pindex) {
            bool success = false;
            struct rf_rec *eae = rf_log_get(&n->log, ae->pindex);
            if (ae->pindex < n->commit) {
                success = true; /* already committed: just a redelivery */
            } else if (!eae) {
                if (ae->pterm == n->pterm && is_new) {
                    success = true;
                } else if (ae->pindex == n->pindex) {
                    rf_truncate_wal(n, ae->pterm, ae->pindex);
                } else {
                    struct rf_snapshot *s = n->snap;
                    if (s && s->index == ae->pindex && s->term == ae->pterm) {
                        /* Prefix matches our snapshot; as below, keep a redelivered entry
                         * rather than truncate what follows it. */
                        struct rf_rec *next = rf_log_get(&n->log, ae->pindex + 1);
                        uint64_t carried = ae->n_entries ? ae->term : lterm;
                        if (next && next->term == carried) {
                            success = true;
                        } else {
                            rf_truncate_wal(n, s->term, s->index);
                            if (ae->pterm == n->pterm && ae->pindex == n->pindex)
                                goto cont;
                        }
                    } else {
                        rf_reset_wal(n);
                    }
                }
            } else if (eae->term == ae->pterm) {
                /* The prefix matches.  Go truncates to pindex and re-stores, which is only
                 * safe with FIFO delivery: a duplicated or late AE (or heartbeat) would cut
                 * entries we already acknowledged.  If we hold the index this AE carries with
                 * the same term (or, for a heartbeat, entries of the leader's own term past
                 * it), it is a redelivery: keep everything.  Otherwise what follows in our
                 * log is not in the leader's log, so it is uncommitted and can go. */
                struct rf_rec *next = rf_log_get(&n->log, ae->pindex + 1);
                uint64_t carried = ae->n_entries ? ae->term : lterm;
                if (next && next->term == carried) {
                    success = true;
                } else {
                    rf_truncate_wal(n, ae->pterm, ae->pindex);
                    if (ae->pterm == n->pterm && ae->pindex == n->pindex)
                        goto cont;
                }
            } else {
                uint64_t eae_pindex = ae->pindex - 1;
                if (eae_pindex < n->commit)
                    success = true; /* Go: truncating would lose commits */
                else
                    rf_truncate_wal(n, eae->pterm, eae_pindex);
            }
            if (!success)
                rf_cancel_catchup(n);
            /* Intentionally no response: a late "success" could give false quorum. */
            return;
        }
        if (catching_up) {
            install_catchup_snapshot(n, ae);
            return;
        }
        if (replay)
            return;
        RF_LOG(n, "AE mismatch [%llu:%llu] vs [%llu:%llu], catching up",
               (unsigned long long)ae->pterm, (unsigned long long)ae->pindex,
               (unsigned long long)n->pterm, (unsigned long long)n->pindex);
        uint64_t cid = rf_create_catchup(n, ae);
        respond(n, ae, n->pterm, n->pindex, false, cid);
        return;
    }

cont:
    if (ae->n_entries > 0) {
        if (!replay) {
            if (rf_store_to_wal(n, ae) < 0)
                return;
            rf_reset_initializing(n);
        } else {
            n->pterm = ae->term;
            n->pindex = ae->pindex + 1;
        }
    }
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        const struct rf_entry *e = &ae->entries[i];
        switch (e->type) {
        case RF_ENTRY_LEADER_TRANSFER:
            if (is_new && e->len == RF_ID_LEN) {
                rf_id ml;
                memcpy(ml.b, e->data, RF_ID_LEN);
                if (rf_id_eq(ml, n->id)) {
                    if (!n->observer && !n->paused) {
                        n->lxfer = true;
                        rf_xfer_campaign(n);
                    } else if (n->paused) {
                        n->lxfer = true;
                    }
                }
            }
            break;
        case RF_ENTRY_ADD_PEER:
            if (e->len == RF_ID_LEN) {
                rf_id p;
                memcpy(p.b, e->data, RF_ID_LEN);
                n->memb = (struct rf_memb_change){.active = true, .index = n->pindex, .peer = p};
                if (!rf_peer_find(n, p)) {
                    struct rf_peer np = {.id = p};
                    VEC_PUSH(n->peers, np);
                }
                rf_adjust_cluster_size_and_quorum(n);
            }
            break;
        case RF_ENTRY_REMOVE_PEER:
            if (e->len == RF_ID_LEN) {
                rf_id p;
                memcpy(p.b, e->data, RF_ID_LEN);
                struct rf_peer *ps = rf_peer_find(n, p);
                struct rf_peer prev = ps ? *ps : (struct rf_peer){.id = p};
                n->memb = (struct rf_memb_change){
                    .active = true, .index = n->pindex, .peer = p, .has_prev = true, .prev = prev};
                if (ps)
                    VEC_DEL(n->peers, (uint32_t)(ps - n->peers.v));
                rf_adjust_cluster_size_and_quorum(n);
            }
            break;
        default:
            break;
        }
    }

    if (ae->commit > n->commit) {
        if (catching_up)
            rf_send_catchup_signal(n);
        if (n->paused) {
            n->hcommit = ae->commit;
        } else {
            for (uint64_t idx = n->commit + 1; idx <= ae->commit; idx++)
                if (rf_apply_commit(n, idx) < 0)
                    break;
        }
    }

    if (!replay && is_new) {
        respond(n, ae, n->pterm, n->pindex, true, 0);
        /* A leader above our repair term holds every entry we could have acknowledged
         * before the damage, and we now match its log up to its last index. */
        if (n->repair && ae->term > n->repair_term && n->pindex >= ae->pindex) {
            RF_LOG(n, "repaired by leader %.8s in term %llu", ae->leader.b,
                   (unsigned long long)ae->term);
            n->repair = false;
            n->repair_term = 0;
            rf_write_peer_state(n);
        }
    } else if (!replay && ae->n_entries > 0) {
        catchup_ack(n, ae, sub);
    }
}

void rf_process_snap_chunk(struct rf_node *n, const struct rf_msg *m)
{
    struct rf_catchup *c = n->catchup;
    if (!c || m->cid != c->cid || m->term < n->term || m->total > (1ull << 32))
        return;
    if (m->index == 0 && c->snap_buf && c->snap_len > 0 && m->total == c->snap_total)
        return; /* a duplicated first chunk: keep what we have */
    if (m->index == 0) {
        free(c->snap_buf);
        c->snap_buf = malloc(m->total ? m->total : 1);
        if (!c->snap_buf)
            abort();
        c->snap_total = m->total;
        c->snap_len = 0;
        c->snap_ps_len = m->ps_len;
    }
    if (!c->snap_buf || m->index != c->snap_len || m->total != c->snap_total ||
        c->snap_len + m->data_len > c->snap_total)
        return; /* out of order or duplicate: the leader restarts on stall */
    if (m->data_len)
        memcpy(c->snap_buf + c->snap_len, m->data, m->data_len);
    c->snap_len += m->data_len;
    c->active = n->now;
    struct rf_msg a = {.type = RF_MSG_CATCHUP_ACK, .to = m->from, .term = n->term,
                       .cid = c->cid, .total = c->snap_len};
    rf_send(n, &a);
    if (c->snap_len < c->snap_total || c->snap_ps_len > c->snap_total)
        return;
    if (m->pindex <= n->pindex) {
        /* Entries of another stream got us past the snapshot meanwhile: it is useless now,
         * and must never be stored as a log entry at pindex+1. */
        free(c->snap_buf);
        c->snap_buf = NULL;
        return;
    }
    /* Reassembled: continue exactly like Go's [EntrySnapshot, EntryPeerState] catchup AE. */
    struct rf_entry es[2] = {
        {.type = RF_ENTRY_SNAPSHOT, .len = (uint32_t)(c->snap_total - c->snap_ps_len),
         .data = c->snap_buf + c->snap_ps_len},
        {.type = RF_ENTRY_PEER_STATE, .len = c->snap_ps_len, .data = c->snap_buf},
    };
    struct rf_msg ae = {.type = RF_MSG_AE, .from = m->from, .leader = m->from,
                        .term = m->term, .lterm = m->term, .commit = m->pindex,
                        .pterm = m->pterm, .pindex = m->pindex, .cid = c->cid,
                        .n_entries = 2, .entries = es};
    uint8_t *buf = c->snap_buf;
    c->snap_buf = NULL;
    rf_process_append_entry(n, &ae, ae.cid);
    free(buf);
}
