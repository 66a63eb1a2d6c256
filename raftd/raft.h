/* raftd/raft.h: the RAFT core of raftd, a pure state machine with no I/O of its own.
 *
 * Ports the consensus semantics of Go nats-server v2.14.5 server/raft.go (NRG): randomized
 * elections with "empty" votes, leader no-op (peer state) entry, the applied/processed split,
 * the follower-driven catchup protocol, snapshots with log compaction, single-server
 * membership changes, leadership transfer (EntryLeaderTransfer), lost-quorum step-down and
 * observers.  Added beyond Go: pre-vote (a partitioned node cannot disrupt a stable leader),
 * fsync barriers before any message or apply leaves the node, chunked snapshot transfer with
 * paced catchup acks, and a "repair" mode for nodes whose durable log was found damaged.
 *
 * Inputs: rf_step (a received message), rf_tick (logical time), client calls (rf_propose,
 * rf_step_down, rf_applied, ...) and rf_advance (the storage completion of a ready batch).
 * Outputs: rf_ready hands out one batch: storage operations (meta, log appends, truncations,
 * snapshots, compactions) that the driver must make durable (fsync) BEFORE it sends the
 * batch's messages and delivers its committed entries.  Then it calls rf_advance.
 *
 * Invariants (asserted in the .c files where state changes):
 *   processed <= commit, applied <= processed, papplied <= pindex (unless a snapshot was
 *   just received), at most one membership change in flight, a leader's term never goes
 *   down, term/vote are in a persisted META op before any vote or ack that depends on them.
 */
#ifndef RF_RAFT_H
#define RF_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RF_ID_LEN 8

#define RF_WUR __attribute__((warn_unused_result))

/* A node id: 8 bytes, like Go's idLen node hashes.  All zero means "none". */
typedef struct rf_id {
    char b[RF_ID_LEN];
} rf_id;

/* Entry types, same numbering as Go's EntryType (they shape behaviour, see apply). */
enum rf_entry_type {
    RF_ENTRY_NORMAL = 0,
    RF_ENTRY_OLD_SNAPSHOT = 1,
    RF_ENTRY_PEER_STATE = 2,
    RF_ENTRY_ADD_PEER = 3,
    RF_ENTRY_REMOVE_PEER = 4,
    RF_ENTRY_LEADER_TRANSFER = 5,
    RF_ENTRY_SNAPSHOT = 6,
    RF_ENTRY_CATCHUP = 7, /* internal signal on the apply queue only, never on the wire */
};

enum rf_state { RF_FOLLOWER = 0, RF_LEADER = 1, RF_CANDIDATE = 2, RF_CLOSED = 3 };

struct rf_entry {
    uint8_t type;
    uint32_t len;
    uint8_t *data; /* owned by whoever owns the entry array */
};

/* Message kinds.  Go sends these on NATS subjects ($NRG.AE, $NRG.V, replies, catchup inboxes);
 * raftd talks to raftd, so the wire format is our own (raft_wire.c documents it). */
enum rf_msg_type {
    RF_MSG_AE = 1,        /* append entry; cid==0: a new entry ($NRG.AE), else catchup stream */
    RF_MSG_AER = 2,       /* append entry response; cid!=0 asks for a catchup to that stream */
    RF_MSG_VOTE_REQ = 3,  /* vote request ($NRG.V); RF_MF_PREVOTE for a pre-vote */
    RF_MSG_VOTE_RESP = 4, /* vote response */
    RF_MSG_PROPOSAL = 5,  /* forwarded proposal ($NRG.P) */
    RF_MSG_REMOVE_PEER = 6, /* forwarded remove-peer proposal ($NRG.RP) */
    RF_MSG_CATCHUP_ACK = 7, /* follower paces a catchup stream; never counts toward quorum */
    RF_MSG_SNAP_CHUNK = 8,  /* one chunk of a snapshot sent on a catchup stream */
};

/* Message flags. */
#define RF_MF_SUCCESS 0x01 /* AER */
#define RF_MF_GRANTED 0x02 /* VOTE_RESP */
#define RF_MF_EMPTY 0x04   /* VOTE_RESP: the voter's log is empty */
#define RF_MF_PREVOTE 0x08 /* VOTE_REQ / VOTE_RESP */
#define RF_MF_LAST 0x10    /* SNAP_CHUNK: final chunk */

struct rf_msg {
    uint8_t type;
    uint8_t flags;
    rf_id from;
    rf_id to; /* zero: broadcast to every node of the group (a NATS subject in Go) */
    uint64_t term;   /* AE: leader term; AER: responder pterm/term; votes: term */
    uint64_t lterm;  /* AE: leader's term when catching up (Go's lterm), else 0 */
    uint64_t commit; /* AE */
    uint64_t pterm;  /* AE: previous term; VOTE_REQ: last log term; SNAP_CHUNK: snapshot term */
    uint64_t pindex; /* AE: previous index; VOTE_REQ: last log index; SNAP_CHUNK: snap index */
    uint64_t index;  /* AER / CATCHUP_ACK: index; SNAP_CHUNK: byte offset of this chunk */
    uint64_t total;  /* SNAP_CHUNK: total snapshot bytes; CATCHUP_ACK: acked snapshot bytes */
    uint64_t cid;    /* catchup stream id (Go's catchup inbox), 0 for none */
    rf_id leader;    /* AE: leader id; VOTE_REQ: candidate; VOTE_RESP: voter */
    uint32_t n_entries;
    struct rf_entry *entries; /* AE */
    uint32_t data_len;
    uint8_t *data; /* PROPOSAL / REMOVE_PEER payload, SNAP_CHUNK bytes (+peerstate in first) */
    uint32_t ps_len; /* SNAP_CHUNK: leading bytes of data that are the encoded peer state */
};

/* Storage operations handed to the driver, to be applied in order and then fsynced. */
enum rf_op_type {
    RF_OP_META = 1,     /* term, vote, flags and peer state: buf is the encoded meta */
    RF_OP_APPEND = 2,   /* log record at index: buf is the encoded append entry */
    RF_OP_TRUNCATE = 3, /* keep records <= index, drop the rest (index 0: empty log) */
    RF_OP_SNAPSHOT = 4, /* write snapshot (buf encoded, see rf_snapshot_encode) atomically */
    RF_OP_COMPACT = 5,  /* drop records < index (after a snapshot up to index-1) */
    RF_OP_DROP_SNAPSHOTS = 6, /* remove snapshot files with index > index (or all if 0) */
};

struct rf_op {
    uint8_t type;
    uint64_t index;
    uint64_t term;
    uint32_t len;
    uint8_t *buf; /* owned by the ready batch */
};

/* One committed entry on the apply queue.  Go's CommittedEntry; index 0 with no entries and
 * is_nil set is Go's nil marker (end of replay / end of catchup). */
struct rf_committed {
    uint64_t index;
    bool is_nil;
    uint32_t n_entries;
    struct rf_entry *entries;
};

struct rf_lead_change {
    bool valid;
    bool is_leader;
    uint64_t term;
};

/* A batch of outputs.  Driver contract: apply ops in order, fsync, then send msgs and deliver
 * committed entries in order, then call rf_advance(node, rd). */
struct rf_ready {
    uint32_t n_ops;
    struct rf_op *ops;
    uint32_t n_msgs;
    struct rf_msg *msgs;
    uint32_t n_committed;
    struct rf_committed *committed;
    struct rf_lead_change lead_change;
    uint64_t last_index; /* log last index when the batch was cut (for the stable index) */
    uint64_t seq;
};

struct rf_config {
    rf_id id;
    char group[64];
    uint64_t seed; /* randomness for timeouts and catchup ids: deterministic per node */
    uint32_t election_min_ms, election_max_ms; /* Go: 4s..9s */
    uint32_t campaign_min_ms, campaign_max_ms; /* Go: 100ms..800ms */
    uint32_t hb_ms;                            /* Go: 1s */
    uint32_t lost_quorum_ms;                   /* Go: 10s, also the check interval */
    uint64_t observer_mode_ms;                 /* Go: 48h */
    uint64_t peer_remove_timeout_ms;           /* Go: 5m */
    uint32_t catchup_activity_ms;              /* Go: 2s stall on the leader side */
    uint32_t catchup_stall_ms;                 /* Go: 2s stall on the follower side */
    uint32_t catchup_max_outstanding;          /* Go: 2MB */
    uint32_t snap_chunk_bytes;                 /* snapshot chunk size */
    uint32_t max_batch_bytes;                  /* Go: 256KB */
    uint32_t max_batch_entries;                /* Go: 512 */
    uint64_t pause_quorum_threshold;           /* Go: 100000 */
    bool prevote;
    bool observer;
    bool recovering;
    bool scale_up;
};

/* Peer state as in Go's peerState: known peers and cluster size. */
struct rf_peerstate {
    uint32_t n_peers;
    rf_id *peers;
    uint32_t cluster_size;
    uint16_t ext;
};

/* A snapshot: Go's snapshot struct. */
struct rf_snapshot {
    uint64_t term;
    uint64_t index;
    uint32_t ps_len;
    uint8_t *peerstate;
    uint64_t data_len;
    uint8_t *data;
    int refs;
};

/* What log_store recovered (or what a fresh node starts with). */
struct rf_recovered {
    bool has_meta;
    uint64_t term;
    rf_id vote;
    uint64_t commit;       /* commit index recorded with the meta */
    bool repair;           /* persisted repair flag */
    uint64_t repair_term;  /* persisted repair term */
    bool has_peerstate;
    struct rf_peerstate ps;
    struct rf_snapshot *snap; /* latest valid snapshot, or NULL */
    uint64_t n_recs;
    uint64_t first_index; /* index of recs[0] */
    struct rf_rec_buf {
        uint32_t len;
        uint8_t *buf;
    } *recs;
    bool damaged; /* corruption or a gap was detected: the node must not vote until repaired */
};

struct rf_peer_info {
    rf_id id;
    bool current;     /* Go's Peer.Current */
    bool catching_up; /* leader only: a catchup stream to this peer is running */
    uint64_t last_ms; /* Go's Peer.Last: last contact (logical ms), 0 = never */
    uint64_t lag;     /* Go's Peer.Lag */
};

struct rf_node;

/* Defaults equal to Go's constants. */
void rf_config_defaults(struct rf_config *cfg);

/* Create a node.  rec may be NULL (fresh, bootstrapped from boot); boot gives the known peers
 * and expected cluster size like Go's bootstrapRaftNode and is used when rec has no peer
 * state.  Takes ownership of nothing; copies what it needs. */
int rf_node_create(const struct rf_config *cfg, const struct rf_peerstate *boot,
                   const struct rf_recovered *rec, uint64_t now_ms, struct rf_node **out) RF_WUR;
void rf_node_destroy(struct rf_node *n);

/* Inputs. */
void rf_tick(struct rf_node *n, uint64_t now_ms);
void rf_step(struct rf_node *n, const struct rf_msg *m);
int rf_propose(struct rf_node *n, uint64_t term, const void *data, uint32_t len) RF_WUR;
int rf_propose_multi(struct rf_node *n, uint64_t term, const struct rf_entry *e,
                     uint32_t count) RF_WUR;
int rf_forward_proposal(struct rf_node *n, const void *data, uint32_t len) RF_WUR;
int rf_propose_add_peer(struct rf_node *n, rf_id peer) RF_WUR;
int rf_propose_remove_peer(struct rf_node *n, rf_id peer) RF_WUR;
int rf_step_down(struct rf_node *n, const rf_id *preferred) RF_WUR;
int rf_campaign(struct rf_node *n) RF_WUR;
int rf_campaign_immediately(struct rf_node *n) RF_WUR;
void rf_set_observer(struct rf_node *n, bool observer);
int rf_adjust_cluster_size(struct rf_node *n, int csz) RF_WUR;
int rf_adjust_boot_cluster_size(struct rf_node *n, int csz) RF_WUR;
void rf_propose_known_peers(struct rf_node *n, const rf_id *peers, uint32_t count);
void rf_update_known_peers(struct rf_node *n, const rf_id *peers, uint32_t count);
/* Upper layer progress: Go's Applied/Processed; returns entries that a snapshot could drop. */
uint64_t rf_applied(struct rf_node *n, uint64_t index, uint64_t *bytes);
uint64_t rf_processed(struct rf_node *n, uint64_t index, uint64_t applied, uint64_t *bytes);
int rf_pause_apply(struct rf_node *n) RF_WUR;
void rf_resume_apply(struct rf_node *n);
bool rf_drain_and_replay_snapshot(struct rf_node *n);
int rf_install_snapshot(struct rf_node *n, const void *data, uint64_t len, bool force) RF_WUR;
int rf_send_snapshot(struct rf_node *n, const void *data, uint64_t len) RF_WUR;
bool rf_need_snapshot(const struct rf_node *n);
/* Go's CreateSnapshotCheckpoint: cut a snapshot point now, build the snapshot later (the
 * upper layer may read the previous snapshot and the entries since), then install or abort.
 * Only one checkpoint at a time; any other snapshot install aborts it. */
struct rf_checkpoint;
int rf_checkpoint_create(struct rf_node *n, bool force, struct rf_checkpoint **out) RF_WUR;
int rf_checkpoint_load_last_snapshot(struct rf_checkpoint *c, const uint8_t **data,
                                     uint64_t *len) RF_WUR;
/* Next entry in (previous snapshot, checkpoint]: 1 and *ae filled (borrowed until the next
 * call), 0 at the end, or -errno (aborted, closed). */
int rf_checkpoint_next(struct rf_checkpoint *c, struct rf_msg *ae) RF_WUR;
void rf_checkpoint_abort(struct rf_checkpoint *c);
int rf_checkpoint_install(struct rf_checkpoint *c, const void *data, uint64_t len,
                          uint64_t *compacted) RF_WUR;
void rf_checkpoint_free(struct rf_checkpoint *c);
void rf_reset(struct rf_node *n);
void rf_stop(struct rf_node *n);
/* The driver failed to persist a batch: Go's setWriteErr, the node closes. */
void rf_storage_error(struct rf_node *n, int err);

/* Outputs. */
bool rf_has_ready(struct rf_node *n);
int rf_ready(struct rf_node *n, struct rf_ready *rd) RF_WUR;
void rf_advance(struct rf_node *n, struct rf_ready *rd);
void rf_ready_free(struct rf_ready *rd);
uint64_t rf_next_deadline(const struct rf_node *n);

/* Queries (Go's RaftNode getters). */
enum rf_state rf_state(const struct rf_node *n);
bool rf_leader(const struct rf_node *n); /* Go's Leader(): complete leader state */
uint64_t rf_term(const struct rf_node *n);
rf_id rf_group_leader(const struct rf_node *n);
bool rf_leaderless(const struct rf_node *n);
bool rf_had_previous_leader(const struct rf_node *n);
void rf_progress(const struct rf_node *n, uint64_t *index, uint64_t *commit, uint64_t *applied);
void rf_size(const struct rf_node *n, uint64_t *entries, uint64_t *bytes);
bool rf_current(struct rf_node *n);
bool rf_healthy(struct rf_node *n);
bool rf_quorum(const struct rf_node *n);
bool rf_is_observer(const struct rf_node *n);
bool rf_membership_change_in_progress(const struct rf_node *n);
int rf_cluster_size(const struct rf_node *n);
bool rf_needs_repair(const struct rf_node *n);
rf_id rf_node_id(const struct rf_node *n);
uint32_t rf_peers(const struct rf_node *n, struct rf_peer_info *out, uint32_t max);
int rf_write_err(const struct rf_node *n);

/* Helpers. */
static inline bool rf_id_eq(rf_id a, rf_id b)
{
    for (int i = 0; i < RF_ID_LEN; i++)
        if (a.b[i] != b.b[i])
            return false;
    return true;
}
static inline bool rf_id_none(rf_id a)
{
    for (int i = 0; i < RF_ID_LEN; i++)
        if (a.b[i])
            return false;
    return true;
}
rf_id rf_id_from_str(const char *s);
const char *rf_state_str(enum rf_state s);
const char *rf_entry_type_str(uint8_t t);

void rf_msg_free(struct rf_msg *m);
int rf_msg_copy(struct rf_msg *dst, const struct rf_msg *src) RF_WUR;
void rf_snapshot_unref(struct rf_snapshot *s);
void rf_recovered_free(struct rf_recovered *r);

#endif
