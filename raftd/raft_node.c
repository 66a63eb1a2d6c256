/* raftd/raft_node.c: lifecycle, state switching, logical timers and the ready/advance
 * durability barrier of the RAFT core.  Ports Go server/raft.go initRaftNode (recovery and
 * WAL replay), run/runAsFollower/runAsCandidate/runAsLeader timer branches, switchState,
 * switchToFollower/Candidate/Leader, updateLeader, updateLeadChange, writeTermVote,
 * writePeerState, setWriteErr and Reset.  Read-only queries live in raft_query.c.
 *
 * Invariants: state changes only through rf_switch_*; the election timer is an absolute
 * deadline (elect_at) and etlr records its last reset like Go's; nothing queued in the outbox
 * or apply queue leaves before the ops queued ahead of it are persisted (rf_ready/rf_advance);
 * stable never exceeds the in-memory log's last index.
 */
#include "raftd/raft_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rf_debug_level = -1;

int rf_debug_init(void)
{
    const char *e = getenv("RF_DEBUG");
    return e && *e && *e != '0' ? 1 : 0;
}

void rf_config_defaults(struct rf_config *c)
{
    memset(c, 0, sizeof(*c));
    c->election_min_ms = 4000;
    c->election_max_ms = 9000;
    c->campaign_min_ms = 100;
    c->campaign_max_ms = 800;
    c->hb_ms = 1000;
    c->lost_quorum_ms = 10000;
    c->observer_mode_ms = 48ull * 3600 * 1000;
    c->peer_remove_timeout_ms = 5ull * 60 * 1000;
    c->catchup_activity_ms = 2000;
    c->catchup_stall_ms = 2000;
    c->catchup_max_outstanding = 2 * 1024 * 1024;
    c->snap_chunk_bytes = 256 * 1024;
    c->max_batch_bytes = 256 * 1024;
    c->max_batch_entries = 512;
    c->pause_quorum_threshold = 100000;
    c->prevote = true;
}

rf_id rf_id_from_str(const char *s)
{
    rf_id id;
    memset(&id, 0, sizeof(id));
    for (int i = 0; i < RF_ID_LEN && s && s[i]; i++)
        id.b[i] = s[i];
    return id;
}

const char *rf_state_str(enum rf_state s)
{
    switch (s) {
    case RF_FOLLOWER:
        return "FOLLOWER";
    case RF_CANDIDATE:
        return "CANDIDATE";
    case RF_LEADER:
        return "LEADER";
    case RF_CLOSED:
        return "CLOSED";
    }
    return "UNKNOWN";
}

const char *rf_entry_type_str(uint8_t t)
{
    static const char *names[] = {"Normal",     "OldSnapshot",    "PeerState", "AddPeer",
                                  "RemovePeer", "LeaderTransfer", "Snapshot",  "Catchup"};
    return t < 8 ? names[t] : "Unknown";
}

uint64_t rf_rand(struct rf_node *n, uint64_t bound)
{
    /* splitmix64: deterministic per node seed. */
    uint64_t z = (n->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return bound ? z % bound : z;
}

rf_id rf_new_random_id(struct rf_node *n)
{
    rf_id id;
    uint64_t r = rf_rand(n, 0) | 1;
    memcpy(id.b, &r, RF_ID_LEN);
    return id;
}

void rf_reset_elect(struct rf_node *n, uint64_t et)
{
    n->etlr = n->now;
    n->etlr_count++;
    n->elect_at = n->now + et;
}

void rf_reset_election_timeout(struct rf_node *n)
{
    uint64_t d = n->cfg.election_max_ms - n->cfg.election_min_ms;
    rf_reset_elect(n, n->cfg.election_min_ms + (d ? rf_rand(n, d) : 0));
}

uint64_t rf_rand_campaign_timeout(struct rf_node *n)
{
    uint64_t d = n->cfg.campaign_max_ms - n->cfg.campaign_min_ms;
    return n->cfg.campaign_min_ms + (d ? rf_rand(n, d) : 0);
}

struct rf_peer *rf_peer_find(struct rf_node *n, rf_id id)
{
    for (uint32_t i = 0; i < n->peers.n; i++)
        if (rf_id_eq(n->peers.v[i].id, id))
            return &n->peers.v[i];
    return NULL;
}

void rf_send(struct rf_node *n, struct rf_msg *m)
{
    m->from = n->id;
    VEC_PUSH(n->outbox, *m);
    memset(m, 0, sizeof(*m));
}

void rf_queue_op(struct rf_node *n, uint8_t type, uint64_t index, uint64_t term, uint8_t *buf,
                 uint32_t len)
{
    struct rf_op op = {.type = type, .index = index, .term = term, .len = len, .buf = buf};
    if (type == RF_OP_TRUNCATE) {
        if (index < n->stable)
            n->stable = index;
        if (index < n->trunc_low)
            n->trunc_low = index;
    }
    if (type == RF_OP_APPEND)
        RF_ASSERT(index > n->stable); /* never rewrite a durable index without truncating */
    VEC_PUSH(n->ops, op);
}

void rf_push_apply(struct rf_node *n, uint64_t index, bool is_nil, struct rf_entry *e,
                   uint32_t ne)
{
    struct rf_committed ce = {.index = index, .is_nil = is_nil, .n_entries = ne, .entries = e};
    VEC_PUSH(n->applyq, ce);
}

/* Go's writeTermVote and writePeerState share one durable meta record here. */
static int write_meta(struct rf_node *n)
{
    if (n->werr)
        return n->werr;
    struct rf_meta m = {.term = n->term, .vote = n->vote, .repair = n->repair,
                        .repair_term = n->repair_term, .commit = n->commit};
    rf_current_peer_state(n, &m.ps);
    uint8_t *buf;
    uint32_t len;
    int rc = rf_meta_encode(&m, &buf, &len);
    rf_peerstate_free(&m.ps);
    if (rc < 0)
        return rc;
    /* Skip the write if nothing changed (seq 0 while comparing). */
    if (n->wmeta && n->wmeta_len == len && memcmp(n->wmeta, buf, len) == 0) {
        free(buf);
        return 0;
    }
    free(n->wmeta);
    n->wmeta = buf;
    n->wmeta_len = len;
    m.seq = ++n->meta_seq;
    rf_current_peer_state(n, &m.ps);
    uint8_t *out;
    rc = rf_meta_encode(&m, &out, &len);
    rf_peerstate_free(&m.ps);
    if (rc < 0)
        return rc;
    rf_queue_op(n, RF_OP_META, 0, n->term, out, len);
    return 0;
}

int rf_write_term_vote(struct rf_node *n)
{
    return write_meta(n);
}

void rf_write_peer_state(struct rf_node *n)
{
    (void)write_meta(n);
}

void rf_set_write_err(struct rf_node *n, int err)
{
    if (n->state == RF_CLOSED || err == 0 || n->werr)
        return;
    RF_LOG(n, "critical write error %d", err);
    n->werr = err;
    n->snapshotting = false;
    rf_stop(n);
}

void rf_storage_error(struct rf_node *n, int err)
{
    rf_set_write_err(n, err < 0 ? err : -EIO);
}

void rf_stop(struct rf_node *n)
{
    if (n->state == RF_CLOSED)
        return;
    n->state = RF_CLOSED;
    n->leader_state = false;
    n->leader_since = 0;
}

void rf_update_lead_change(struct rf_node *n, bool is_leader)
{
    /* Go's leadc has capacity 1 and keeps only the latest value. */
    n->leadc.valid = true;
    n->leadc.is_leader = is_leader;
    n->leadc.term = n->term;
}

void rf_update_leader(struct rf_node *n, rf_id nl)
{
    bool was_leader = rf_id_eq(n->leader, n->id);
    n->leader = nl;
    n->hasleader = !rf_id_none(nl);
    if (!n->pleader && !rf_id_none(nl)) {
        n->pleader = true;
        if (n->maybe_leader) {
            n->maybe_leader = false;
            if (!rf_id_eq(n->id, nl))
                rf_update_lead_change(n, false);
        }
    }
    /* A follower tracks only the leader; a (former) leader keeps what it tracked. */
    if (!rf_id_eq(nl, n->id) && !was_leader) {
        for (uint32_t i = 0; i < n->peers.n; i++) {
            n->peers.v[i].li = 0;
            if (!rf_id_eq(n->peers.v[i].id, nl))
                n->peers.v[i].ts = 0;
        }
    }
}

static bool switch_state(struct rf_node *n, enum rf_state st)
{
    enum rf_state ps = n->state;
    if (ps == RF_CLOSED)
        return false;
    n->state = st;
    n->prevoting = false;
    rf_reset_election_timeout(n);
    bool changed = false;
    if (ps == RF_LEADER && st != RF_LEADER) {
        changed = true;
        rf_update_lead_change(n, false);
        /* Go drains resp/prop queues; catchup goroutines stop when not leader. */
        for (uint32_t i = 0; i < n->props.n; i++)
            free(n->props.v[i].e.data);
        n->props.n = 0;
        rf_progress_clear(n);
    } else if (st == RF_LEADER && ps != RF_LEADER) {
        changed = true;
    }
    rf_write_term_vote(n);
    return changed;
}

void rf_switch_to_follower(struct rf_node *n, rf_id leader)
{
    if (n->state == RF_CLOSED)
        return;
    RF_LOG(n, "switching to follower (leader %.8s)", leader.b);
    n->aflr = 0;
    n->leader_state = false;
    n->leader_since = 0;
    n->lxfer = false;
    rf_acks_clear(n);
    rf_update_leader(n, leader);
    switch_state(n, RF_FOLLOWER);
}

void rf_stepdown(struct rf_node *n, rf_id new_leader)
{
    rf_switch_to_follower(n, new_leader);
}

void rf_switch_to_candidate(struct rf_node *n)
{
    if (n->state == RF_CLOSED)
        return;
    /* Observers, paused nodes and nodes behind on applies don't campaign (Go).  A damaged
     * node may, but its own vote is "empty" (raft_elect.c). */
    if (n->observer || n->paused || n->processed < n->commit) {
        rf_reset_elect(n, n->cfg.election_min_ms / 4);
        return;
    }
    if (n->memb.active && rf_id_eq(n->memb.peer, n->id)) {
        rf_reset_elect(n, n->cfg.election_min_ms);
        return;
    }
    if (n->state == RF_CANDIDATE && rf_lost_quorum(n) && n->now - n->llqrt > 20000) {
        rf_update_lead_change(n, false);
        n->llqrt = n->now;
    }
    n->term++;
    n->vote = (rf_id){{0}};
    n->quorum_paused = false;
    rf_update_leader(n, (rf_id){{0}});
    switch_state(n, RF_CANDIDATE);
    RF_LOG(n, "switched to candidate term %llu", (unsigned long long)n->term);
}

void rf_switch_to_leader(struct rf_node *n)
{
    if (n->state == RF_CLOSED)
        return;
    RF_LOG(n, "switching to leader term %llu", (unsigned long long)n->term);
    if (n->repair) {
        /* Elected by every member (our own vote was "empty"): each intact holder of a
         * committed entry granted us, so our log holds every committed entry. */
        n->repair = false;
        n->repair_term = 0;
    }
    n->lxfer = false;
    rf_update_leader(n, n->id);
    switch_state(n, RF_LEADER);
    n->hb_at = n->now + n->cfg.hb_ms;
    n->lq_at = n->now + n->cfg.lost_quorum_ms;
    /* The peer state entry is our no-op; Leader() waits until it is processed (aflr). */
    rf_send_peer_state(n);
    n->aflr = n->pindex;
}

static void replay(struct rf_node *n, const struct rf_recovered *rec)
{
    bool first = true;
    for (uint64_t i = 0; i < rec->n_recs; i++) {
        uint64_t index = rec->first_index + i;
        struct rf_msg ae;
        if (rf_ae_decode(rec->recs[i].buf, rec->recs[i].len, &ae) < 0) {
            /* log_store verified checksums, so this is a logic-level corruption. */
            n->repair = true;
            break;
        }
        if (index <= n->pindex) { /* covered by the snapshot; compaction pending */
            rf_msg_free(&ae);
            continue;
        }
        if (ae.pindex != index - 1 || ae.pindex != n->pindex) {
            /* Go: "Misaligned WAL, will truncate".  Records are missing, so acked data may
             * be gone: drop the rest and refuse to vote until repaired. */
            rf_msg_free(&ae);
            rf_queue_op(n, RF_OP_TRUNCATE, n->pindex, n->pterm, NULL, 0);
            n->repair = true;
            break;
        }
        if (first) {
            /* Go: the first WAL entry initializes pterm and the commit floor. */
            first = false;
            n->pterm = ae.pterm;
            if (ae.commit > n->commit)
                n->commit = ae.commit;
        }
        struct rf_rec r;
        rf_rec_from_ae(&ae, &r);
        rf_log_append(&n->log, &r);
        rf_process_append_entry(n, &ae, RF_SUB_REPLAY);
        rf_msg_free(&ae);
    }
}

int rf_node_create(const struct rf_config *cfg, const struct rf_peerstate *boot,
                   const struct rf_recovered *rec, uint64_t now, struct rf_node **out)
{
    struct rf_node *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->cfg = *cfg;
    n->id = cfg->id;
    n->now = now;
    n->rng = cfg->seed ^ 0x5851F42D4C957F2Dull;
    for (int i = 0; i < RF_ID_LEN; i++)
        n->rng = n->rng * 31 + (uint8_t)cfg->id.b[i];
    n->observer = cfg->observer;
    n->state = RF_FOLLOWER;
    n->trunc_low = UINT64_MAX;
    rf_log_init(&n->log, 0);

    if (rec && rec->has_meta && rec->term > 0) {
        n->term = rec->term;
        n->vote = rec->vote;
    }
    if (rec && (rec->repair || rec->damaged)) {
        n->repair = true;
        n->repair_term = rec->repair ? rec->repair_term : n->term;
        if (rec->damaged && rec->repair && rec->repair_term < n->term)
            n->repair_term = n->term;
    }
    if (rec && rec->snap) {
        /* Go's setupLastSnapshot: commit (not applied) moves to the snapshot. */
        struct rf_snapshot *s = rec->snap;
        s->refs++;
        n->snap = s;
        n->pindex = n->commit = n->papplied = s->index;
        n->pterm = s->term;
        rf_log_init(&n->log, s->index);
        struct rf_peerstate ps;
        if (rf_peerstate_decode(s->peerstate, s->ps_len, &ps) == 0) {
            rf_process_peer_state(n, &ps);
            n->ext = ps.ext;
            rf_peerstate_free(&ps);
        }
        struct rf_entry *e = calloc(1, sizeof(*e));
        e->type = RF_ENTRY_SNAPSHOT;
        e->len = (uint32_t)s->data_len;
        e->data = s->data_len ? malloc(s->data_len) : NULL;
        if (s->data_len)
            memcpy(e->data, s->data, s->data_len);
        rf_push_apply(n, n->commit, false, e, 1);
    }
    if (n->peers.n == 0) {
        const struct rf_peerstate *ps = (rec && rec->has_peerstate) ? &rec->ps : boot;
        if (!ps) {
            rf_node_destroy(n);
            return -ENOENT; /* Go's errNoPeerState */
        }
        rf_process_peer_state(n, ps);
        n->ext = ps->ext;
    }
    if (rec && rec->n_recs) {
        if (rec->first_index > n->pindex + 1) {
            /* A gap between snapshot and log: Go truncates (misaligned WAL). */
            rf_queue_op(n, RF_OP_TRUNCATE, n->pindex, n->pterm, NULL, 0);
            n->repair = true;
        } else {
            if (rec->snap && rec->first_index <= rec->snap->index)
                rf_queue_op(n, RF_OP_COMPACT, rec->snap->index + 1, 0, NULL, 0);
            replay(n, rec);
        }
    }
    /* Apply, in log order, what the meta knew was committed beyond what the replayed records
     * carried (so membership changes land in the order they were committed). */
    if (rec && rec->has_meta && !n->paused) {
        uint64_t target = rec->commit < n->pindex ? rec->commit : n->pindex;
        for (uint64_t idx = n->commit + 1; idx <= target; idx++)
            if (rf_apply_commit(n, idx) < 0)
                break;
    }
    if (n->repair && n->repair_term < n->term)
        n->repair_term = n->term;
    n->stable = rf_log_last(&n->log);
    if (n->stable > n->pindex)
        n->stable = n->pindex;

    if (!cfg->recovering && n->pindex == 0) {
        n->initializing = true;
        if (!cfg->observer && cfg->scale_up) {
            n->scale_up = true;
            rf_set_observer_int(n, true, 0);
        }
    }
    rf_reset_election_timeout(n);
    n->llqrt = n->now;
    /* Persist bootstrap state, or a repair flag found at recovery. */
    write_meta(n);
    /* Go's run(): the nil entry signals the end of replay/restore. */
    rf_push_apply(n, 0, true, NULL, 0);
    *out = n;
    return 0;
}

static void free_ops(struct rf_op *ops, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(ops[i].buf);
}

static void free_committed(struct rf_committed *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        rf_entries_free(c[i].entries, c[i].n_entries);
}

void rf_node_destroy(struct rf_node *n)
{
    if (!n)
        return;
    rf_log_free(&n->log);
    free(n->peers.v);
    free(n->removed.v);
    free(n->acks.v);
    rf_progress_clear(n);
    free(n->progress.v);
    if (n->catchup) {
        free(n->catchup->snap_buf);
        free(n->catchup);
    }
    for (uint32_t i = 0; i < n->props.n; i++)
        free(n->props.v[i].e.data);
    free(n->props.v);
    free_committed(n->applyq.v, n->applyq.n);
    free(n->applyq.v);
    free(n->votes.v);
    free(n->empty_votes.v);
    rf_snapshot_unref(n->snap);
    free_ops(n->ops.v, n->ops.n);
    free(n->ops.v);
    for (uint32_t i = 0; i < n->outbox.n; i++)
        rf_msg_free(&n->outbox.v[i]);
    free(n->outbox.v);
    free(n->wmeta);
    free(n);
}

static void election_timer_fired(struct rf_node *n)
{
    if (n->state == RF_FOLLOWER) {
        if (n->observer) {
            rf_reset_elect(n, n->cfg.observer_mode_ms);
            return;
        }
        if (n->catchup) {
            if (rf_catchup_stalled(n))
                rf_cancel_catchup(n);
            rf_reset_election_timeout(n);
            return;
        }
        /* Pre-vote first, unless a leader transfer chose us (the old leader asked). */
        if (n->cfg.prevote && !n->lxfer) {
            rf_start_prevote(n);
            return;
        }
    } else if (n->state == RF_CANDIDATE && n->cfg.prevote) {
        /* A candidate that timed out falls back to pre-voting, so a partitioned node does
         * not keep inflating its term. */
        rf_switch_to_follower(n, (rf_id){{0}});
        rf_start_prevote(n);
        return;
    }
    rf_switch_to_candidate(n);
    if (n->state == RF_CANDIDATE)
        rf_request_vote(n);
}

void rf_tick(struct rf_node *n, uint64_t now)
{
    if (now > n->now)
        n->now = now;
    if (n->state == RF_CLOSED)
        return;
    if (n->state == RF_LEADER) {
        if (n->now >= n->hb_at) {
            n->hb_at = n->now + n->cfg.hb_ms;
            if (n->now - n->active > n->cfg.hb_ms)
                rf_send_heartbeat(n);
        }
        if (n->now >= n->lq_at) {
            n->lq_at = n->now + n->cfg.lost_quorum_ms;
            if (rf_lost_quorum(n)) {
                RF_LOG(n, "lost quorum, stepping down");
                rf_stepdown(n, (rf_id){{0}});
                return;
            }
        }
        rf_progress_tick(n);
        return;
    }
    if (n->now >= n->elect_at)
        election_timer_fired(n);
}

uint64_t rf_next_deadline(const struct rf_node *n)
{
    if (n->state == RF_LEADER)
        return n->hb_at < n->lq_at ? n->hb_at : n->lq_at;
    return n->elect_at;
}

void rf_step(struct rf_node *n, const struct rf_msg *m)
{
    if (n->state == RF_CLOSED)
        return;
    switch (m->type) {
    case RF_MSG_AE:
        rf_process_append_entry(n, m, m->cid ? m->cid : RF_SUB_NEW);
        break;
    case RF_MSG_AER:
        /* Followers and candidates drop responses (Go drains n.resp). */
        if (n->state == RF_LEADER)
            rf_process_append_entry_response(n, m);
        break;
    case RF_MSG_VOTE_REQ:
        rf_process_vote_request(n, m);
        break;
    case RF_MSG_VOTE_RESP:
        rf_process_vote_response(n, m);
        break;
    case RF_MSG_PROPOSAL:
        rf_handle_forwarded_proposal(n, m);
        break;
    case RF_MSG_REMOVE_PEER:
        rf_handle_forwarded_remove_peer(n, m);
        break;
    case RF_MSG_CATCHUP_ACK:
        if (n->state == RF_LEADER)
            rf_process_catchup_ack(n, m);
        break;
    case RF_MSG_SNAP_CHUNK:
        rf_process_snap_chunk(n, m);
        break;
    default:
        break;
    }
}

bool rf_has_ready(struct rf_node *n)
{
    if (n->ready_out)
        return false;
    if (n->state == RF_LEADER && (n->props.n || n->hb_pending))
        return true;
    return n->ops.n || n->outbox.n || n->applyq.n || n->leadc.valid;
}

int rf_ready(struct rf_node *n, struct rf_ready *rd)
{
    memset(rd, 0, sizeof(*rd));
    if (n->ready_out)
        return 0;
    if (n->state == RF_LEADER) {
        rf_flush_proposals(n);
        if (n->hb_pending && n->state == RF_LEADER)
            rf_send_heartbeat(n);
    }
    n->hb_pending = false;
    if (!(n->ops.n || n->outbox.n || n->applyq.n || n->leadc.valid))
        return 0;
    rd->n_ops = n->ops.n;
    rd->ops = n->ops.v;
    rd->n_msgs = n->outbox.n;
    rd->msgs = n->outbox.v;
    rd->n_committed = n->applyq.n;
    rd->committed = n->applyq.v;
    rd->lead_change = n->leadc;
    rd->last_index = rf_log_last(&n->log);
    if (rd->last_index > n->pindex)
        rd->last_index = n->pindex;
    rd->seq = ++n->ready_seq;
    memset(&n->ops, 0, sizeof(n->ops));
    memset(&n->outbox, 0, sizeof(n->outbox));
    memset(&n->applyq, 0, sizeof(n->applyq));
    memset(&n->leadc, 0, sizeof(n->leadc));
    n->ready_out = true;
    n->trunc_low = UINT64_MAX;
    return 1;
}

void rf_ready_free(struct rf_ready *rd)
{
    free_ops(rd->ops, rd->n_ops);
    free(rd->ops);
    for (uint32_t i = 0; i < rd->n_msgs; i++)
        rf_msg_free(&rd->msgs[i]);
    free(rd->msgs);
    free_committed(rd->committed, rd->n_committed);
    free(rd->committed);
    memset(rd, 0, sizeof(*rd));
}

void rf_advance(struct rf_node *n, struct rf_ready *rd)
{
    RF_ASSERT(n->ready_out);
    n->ready_out = false;
    uint64_t st = rd->last_index < n->trunc_low ? rd->last_index : n->trunc_low;
    if (st > rf_log_last(&n->log))
        st = rf_log_last(&n->log);
    if (st > n->stable)
        n->stable = st;
    n->trunc_low = UINT64_MAX;
    rf_ready_free(rd);
    if (n->state == RF_LEADER)
        rf_leader_stable_advanced(n);
}

void rf_reset(struct rf_node *n)
{
    /* Go's Reset: discard log, snapshots, peer set and term/vote for a clean catchup. */
    rf_stepdown(n, (rf_id){{0}});
    rf_cancel_catchup(n);
    free_committed(n->applyq.v, n->applyq.n);
    n->applyq.n = 0;
    rf_drop_snapshot(n);
    rf_queue_op(n, RF_OP_DROP_SNAPSHOTS, 0, 0, NULL, 0);
    n->snapshotting = false;
    n->commit = n->hcommit = n->applied = n->processed = n->papplied = 0;
    rf_reset_wal(n);
    n->peers.n = 0;
    struct rf_peer self = {.id = n->id};
    VEC_PUSH(n->peers, self);
    n->removed.n = 0;
    rf_adjust_cluster_size_and_quorum(n);
    n->term = 0;
    n->vote = (rf_id){{0}};
    rf_write_term_vote(n);
}

void rf_recovered_free(struct rf_recovered *r)
{
    if (!r)
        return;
    rf_peerstate_free(&r->ps);
    rf_snapshot_unref(r->snap);
    for (uint64_t i = 0; i < r->n_recs; i++)
        free(r->recs[i].buf);
    free(r->recs);
    memset(r, 0, sizeof(*r));
}
