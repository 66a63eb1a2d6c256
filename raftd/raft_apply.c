/* raftd/raft_apply.c: commit application and snapshots.  Ports Go server/raft.go
 * applyCommit (entry types shape behaviour here: peer state, add/remove peer, snapshots),
 * Applied/Processed (the applied vs processed split and the aflr "applied floor" that delays
 * Leader() until the no-op is processed), PauseApply/ResumeApply, DrainAndReplaySnapshot,
 * InstallSnapshot/createSnapshotCheckpointLocked/installSnapshot, SendSnapshot,
 * NeedSnapshot, loadLastSnapshot and the EntryCatchup signals.
 *
 * Invariants: commit only moves forward here; processed and applied never exceed commit;
 * a snapshot is only cut at an applied index whose entry is still in the log; the snapshot
 * op is queued before the compaction op, so a crash in between recovers the snapshot and
 * compacts again.
 */
#include "raftd/raft_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rf_snapshot *rf_load_last_snapshot(struct rf_node *n)
{
    if (n->snap && n->snap->index == 0) {
        /* Go: a 2.9.12 bug allowed snapshots at index 0; drop them. */
        rf_drop_snapshot(n);
        rf_queue_op(n, RF_OP_DROP_SNAPSHOTS, 0, 0, NULL, 0);
    }
    return n->snap;
}

void rf_drop_snapshot(struct rf_node *n)
{
    rf_snapshot_unref(n->snap);
    n->snap = NULL;
}

void rf_send_catchup_signal(struct rf_node *n)
{
    if (!n->catchup || n->catchup->signal)
        return;
    n->catchup->signal = true;
    struct rf_entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    e->type = RF_ENTRY_CATCHUP;
    rf_push_apply(n, 0, false, e, 1);
}

void rf_cancel_catchup_signal(struct rf_node *n)
{
    if (!n->catchup || !n->catchup->signal)
        return;
    rf_push_apply(n, 0, true, NULL, 0);
}

int rf_install_snapshot_int(struct rf_node *n, struct rf_snapshot *s)
{
    n->snapshotting = false;
    uint8_t *buf;
    uint32_t len;
    int rc = rf_snapshot_encode(s, &buf, &len);
    if (rc < 0) {
        rf_snapshot_unref(s);
        return rc;
    }
    rf_queue_op(n, RF_OP_SNAPSHOT, s->index, s->term, buf, len);
    rf_queue_op(n, RF_OP_COMPACT, s->index + 1, 0, NULL, 0);
    rf_drop_snapshot(n);
    n->snap = s;
    rf_log_compact(&n->log, s->index + 1);
    n->papplied = s->index;
    return 0;
}

int rf_apply_commit(struct rf_node *n, uint64_t index)
{
    if (n->state == RF_CLOSED)
        return -ESHUTDOWN; /* Go's errNodeClosed */
    if (index <= n->commit)
        return 0;
    if (n->state == RF_LEADER)
        rf_acks_del(n, index);
    if (index <= n->papplied)
        return 0;
    struct rf_rec *r = rf_log_get(&n->log, index);
    if (!r) {
        RF_LOG(n, "error loading %llu index - will reset", (unsigned long long)index);
        if (n->state == RF_LEADER)
            rf_stepdown(n, rf_select_next_leader(n));
        rf_reset_wal(n);
        rf_cancel_catchup(n);
        return -EIO; /* Go's errEntryLoadFailed */
    }
    n->commit = index;
    struct rf_msg ae;
    rf_rec_to_ae(r, index, &ae);
    ae.entries = rf_entries_dup(r->entries, r->n_entries); /* r may move on compaction */
    struct rf_entry *out = calloc(ae.n_entries ? ae.n_entries : 1, sizeof(*out));
    if (!out)
        abort();
    uint32_t no = 0;
    int ret = 0;
    for (uint32_t i = 0; i < ae.n_entries; i++) {
        struct rf_entry *e = &ae.entries[i];
        rf_id p;
        switch (e->type) {
        case RF_ENTRY_NORMAL:
            out[no++] = *e;
            e->data = NULL;
            break;
        case RF_ENTRY_OLD_SNAPSHOT:
            out[no] = *e;
            out[no++].type = RF_ENTRY_SNAPSHOT;
            e->data = NULL;
            break;
        case RF_ENTRY_SNAPSHOT:
            if (ae.n_entries == 1 && !n->snap && ae.commit > 0) {
                /* Without a snapshot of our own, adopt the leader's (Go). */
                struct rf_peerstate ps;
                rf_committed_peer_state(n, ae.commit, &ps);
                uint8_t *pb;
                uint32_t pl;
                if (rf_peerstate_encode(&ps, &pb, &pl) == 0) {
                    struct rf_snapshot *s =
                        rf_snapshot_new(ae.pterm, ae.commit, pb, pl, e->data, e->len);
                    free(pb);
                    (void)rf_install_snapshot_int(n, s);
                }
                rf_peerstate_free(&ps);
            }
            out[no++] = *e;
            e->data = NULL;
            break;
        case RF_ENTRY_PEER_STATE:
            if (n->state != RF_LEADER) {
                struct rf_peerstate ps;
                if (rf_peerstate_decode(e->data, e->len, &ps) == 0) {
                    rf_process_peer_state(n, &ps);
                    rf_peerstate_free(&ps);
                }
            }
            break;
        case RF_ENTRY_ADD_PEER:
            if (e->len == RF_ID_LEN) {
                memcpy(p.b, e->data, RF_ID_LEN);
                rf_add_peer(n, p);
            }
            out[no++] = *e;
            e->data = NULL;
            n->memb.active = false;
            break;
        case RF_ENTRY_REMOVE_PEER:
            if (e->len == RF_ID_LEN) {
                memcpy(p.b, e->data, RF_ID_LEN);
                rf_remove_peer(n, p);
                if (rf_id_eq(p, n->id) && n->state == RF_LEADER)
                    ret = -EXDEV; /* Go's errNodeRemoved */
            }
            out[no++] = *e;
            e->data = NULL;
            n->memb.active = false;
            break;
        default:
            break;
        }
    }
    rf_entries_free(ae.entries, ae.n_entries);
    if (no == 0) {
        free(out);
        out = NULL;
    }
    rf_push_apply(n, index, false, out, no);
    return ret;
}

uint64_t rf_processed(struct rf_node *n, uint64_t index, uint64_t applied, uint64_t *bytes)
{
    if (bytes)
        *bytes = 0;
    if (index > n->commit)
        return 0; /* Go: can happen during a reset */
    if (index > n->processed)
        n->processed = index;
    if (applied > index)
        applied = index;
    if (applied > n->applied)
        n->applied = applied;
    RF_ASSERT(n->applied <= n->processed && n->processed <= n->commit);
    if (n->aflr > 0 && n->processed >= n->aflr) {
        n->aflr = 0;
        if (n->state == RF_LEADER) {
            if (!n->leader_state) {
                n->leader_state = true;
                n->leader_since = n->now;
            }
            rf_update_lead_change(n, true);
        }
    }
    uint64_t entries = n->applied > n->papplied ? n->applied - n->papplied : 0;
    uint64_t msgs = n->pindex > n->papplied ? n->pindex - n->papplied : 0;
    if (bytes && msgs)
        *bytes = entries * n->log.bytes / msgs;
    return entries;
}

uint64_t rf_applied(struct rf_node *n, uint64_t index, uint64_t *bytes)
{
    return rf_processed(n, index, index, bytes);
}

static void pause_apply(struct rf_node *n)
{
    if (n->state != RF_FOLLOWER)
        rf_stepdown(n, (rf_id){{0}});
    n->paused = true;
    if (n->hcommit < n->commit)
        n->hcommit = n->commit;
    rf_reset_elect(n, n->cfg.observer_mode_ms); /* no leadership while catching up */
}

int rf_pause_apply(struct rf_node *n)
{
    if (n->state == RF_LEADER)
        return -EALREADY; /* Go's errAlreadyLeader */
    pause_apply(n);
    return 0;
}

void rf_resume_apply(struct rf_node *n)
{
    if (!n->paused)
        return;
    rf_reset_election_timeout(n);
    if (n->hcommit > n->commit) {
        for (uint64_t idx = n->commit + 1; idx <= n->hcommit; idx++) {
            if (rf_apply_commit(n, idx) < 0)
                break;
            if (n->state == RF_CLOSED)
                return;
        }
    }
    n->paused = false;
    n->hcommit = 0;
    if (n->lxfer)
        rf_xfer_campaign(n);
    else
        rf_reset_election_timeout(n);
}

bool rf_drain_and_replay_snapshot(struct rf_node *n)
{
    struct rf_snapshot *s = rf_load_last_snapshot(n);
    if (!s)
        return false;
    pause_apply(n);
    for (uint32_t i = 0; i < n->applyq.n; i++)
        rf_entries_free(n->applyq.v[i].entries, n->applyq.v[i].n_entries);
    n->applyq.n = 0;
    rf_cancel_catchup(n); /* after draining: the nil entry must still reach the upper layer */
    n->commit = s->index;
    if (n->processed > n->commit)
        n->processed = n->commit;
    if (n->applied > n->processed)
        n->applied = n->processed;
    struct rf_entry e = {.type = RF_ENTRY_SNAPSHOT, .len = (uint32_t)s->data_len,
                         .data = s->data};
    rf_push_apply(n, n->commit, false, rf_entries_dup(&e, 1), 1);
    return true;
}

struct rf_checkpoint {
    struct rf_node *n;
    uint64_t term, applied, papplied, next;
    uint8_t *ps;
    uint32_t ps_len;
    struct rf_entry *cur; /* entries lent out by rf_checkpoint_next */
    uint32_t ncur;
};

/* Go's createSnapshotCheckpointLocked. */
static int checkpoint_cut(struct rf_node *n, bool force, struct rf_checkpoint *c)
{
    if (n->state == RF_CLOSED)
        return -ESHUTDOWN; /* Go's errNodeClosed */
    if (n->snapshotting)
        return -EINPROGRESS; /* Go's errSnapInProgress */
    if (n->werr)
        return n->werr;
    if (!force && n->progress.n > 0)
        return -EBUSY; /* Go's errCatchupsRunning */
    if (n->applied == 0)
        return -ENOENT; /* Go's errNoSnapAvailable */
    struct rf_rec *r = rf_log_get(&n->log, n->applied);
    if (!r)
        return -ENOENT;
    struct rf_peerstate ps;
    rf_committed_peer_state(n, n->applied, &ps);
    int rc = rf_peerstate_encode(&ps, &c->ps, &c->ps_len);
    rf_peerstate_free(&ps);
    if (rc < 0)
        return rc;
    c->n = n;
    c->term = r->term;
    c->applied = n->applied;
    c->papplied = n->papplied;
    c->next = n->papplied + 1;
    n->snapshotting = true;
    return 0;
}

int rf_install_snapshot(struct rf_node *n, const void *data, uint64_t len, bool force)
{
    struct rf_checkpoint c = {0};
    int rc = checkpoint_cut(n, force, &c);
    if (rc < 0)
        return rc;
    struct rf_snapshot *s = rf_snapshot_new(c.term, c.applied, c.ps, c.ps_len, data, len);
    free(c.ps);
    RF_LOG(n, "installing snapshot of %llu bytes [%llu:%llu]", (unsigned long long)len,
           (unsigned long long)s->term, (unsigned long long)s->index);
    return rf_install_snapshot_int(n, s);
}

int rf_checkpoint_create(struct rf_node *n, bool force, struct rf_checkpoint **out)
{
    struct rf_checkpoint *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int rc = checkpoint_cut(n, force, c);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int checkpoint_live(struct rf_checkpoint *c)
{
    if (c->n->state == RF_CLOSED)
        return -ESHUTDOWN;
    if (!c->n->snapshotting)
        return -ECANCELED; /* Go's errSnapAborted */
    return 0;
}

int rf_checkpoint_load_last_snapshot(struct rf_checkpoint *c, const uint8_t **data,
                                     uint64_t *len)
{
    int rc = checkpoint_live(c);
    if (rc < 0)
        return rc;
    struct rf_snapshot *s = rf_load_last_snapshot(c->n);
    if (!s)
        return -ENOENT;
    if (s->index != c->papplied)
        return -ESTALE; /* Go: "snapshot index mismatch" */
    *data = s->data;
    *len = s->data_len;
    return 0;
}

int rf_checkpoint_next(struct rf_checkpoint *c, struct rf_msg *ae)
{
    rf_entries_free(c->cur, c->ncur);
    c->cur = NULL;
    c->ncur = 0;
    int rc = checkpoint_live(c);
    if (rc < 0)
        return rc;
    if (c->next > c->applied)
        return 0;
    struct rf_rec *r = rf_log_get(&c->n->log, c->next);
    if (!r)
        return -ENOENT;
    rf_rec_to_ae(r, c->next, ae);
    c->cur = ae->entries = rf_entries_dup(r->entries, r->n_entries);
    c->ncur = r->n_entries;
    c->next++;
    return 1;
}

void rf_checkpoint_abort(struct rf_checkpoint *c)
{
    c->n->snapshotting = false;
}

int rf_checkpoint_install(struct rf_checkpoint *c, const void *data, uint64_t len,
                          uint64_t *compacted)
{
    int rc = checkpoint_live(c);
    if (rc < 0)
        return rc;
    struct rf_node *n = c->n;
    uint64_t before = n->log.bytes;
    struct rf_snapshot *s = rf_snapshot_new(c->term, c->applied, c->ps, c->ps_len, data, len);
    rc = rf_install_snapshot_int(n, s);
    if (rc == 0 && compacted)
        *compacted = before > n->log.bytes ? before - n->log.bytes : 0;
    return rc;
}

void rf_checkpoint_free(struct rf_checkpoint *c)
{
    if (!c)
        return;
    rf_entries_free(c->cur, c->ncur);
    free(c->ps);
    free(c);
}

int rf_send_snapshot(struct rf_node *n, const void *data, uint64_t len)
{
    /* Not checking leadership: used on scale up (Go). */
    struct rf_entry *e = calloc(1, sizeof(*e));
    if (!e || len > UINT32_MAX)
        abort();
    e->type = RF_ENTRY_SNAPSHOT;
    e->len = (uint32_t)len;
    if (len) {
        e->data = malloc(len);
        memcpy(e->data, data, len);
    }
    return rf_send_append_entry(n, e, 1, false);
}

bool rf_need_snapshot(const struct rf_node *n)
{
    return n->snap == NULL && n->applied > 1;
}
