/* raftd/raft_int.h: internal state of the RAFT core, shared by the raft_*.c files and by the
 * white-box tests (tests/unit/test_raft*.c), which, like Go's raft_test.go, poke at fields.
 *
 * Mirrors Go's `raft` struct in server/raft.go field by field where behaviour depends on it:
 * term/pterm/pindex/commit/processed/applied/papplied, leader/vote, csz/qn, peers (lps),
 * removed, acks, membChange, catchup, progress, aflr, lxfer/paused/observer/initializing/
 * scaleUp/quorumPaused.  Go's WAL is the in-memory log `log` plus the storage ops queued for
 * the driver; Go's ipQueues are `props` and `applyq`; Go's timers are absolute deadlines in
 * logical milliseconds.
 *
 * Invariants: log.base + log.n == pindex except transiently inside truncate/store paths where
 * Go also lets them differ (documented there); processed <= commit; applied <= processed;
 * messages and committed entries queued here only leave through rf_ready, after the storage
 * ops queued before them.
 */
#ifndef RF_RAFT_INT_H
#define RF_RAFT_INT_H

#include "raftd/raft.h"
#include "raftd/raft_wire.h"

#include <assert.h>
#include <stdio.h>

#define RF_ASSERT(c) assert(c)
/* Explicitly ignore a warn_unused_result value (a (void) cast does not silence gcc). */
#define RF_IGNORE(e)                                                                           \
    do {                                                                                       \
        if ((e) < 0) {                                                                         \
        }                                                                                      \
    } while (0)

/* A log record: one Go appendEntry stored in the WAL (several entries share one index). */
struct rf_rec {
    uint64_t term, pterm, commit;
    rf_id leader;
    uint32_t n_entries;
    struct rf_entry *entries;
    uint32_t size; /* bytes this record accounts for in Size() */
};

struct rf_log {
    uint64_t base;      /* index before the first record (snapshot/compaction point) */
    uint64_t n;         /* number of records */
    uint64_t head, cap; /* ring: recs[(head + i) % cap] is index base+1+i */
    struct rf_rec *recs;
    uint64_t bytes;
};

struct rf_peer {
    rf_id id;
    uint64_t ts; /* last contact (ms), 0 = never */
    uint64_t li; /* last index replicated */
};

struct rf_removed {
    rf_id id;
    uint64_t ts;
};

struct rf_ack {
    uint64_t index;
    uint32_t n;
    rf_id ids[64];
};

struct rf_memb_change {
    bool active;
    uint64_t index;
    rf_id peer;
    bool has_prev; /* removal: the previous lps */
    struct rf_peer prev;
};

/* Follower side of a catchup (Go's catchupState), plus snapshot chunk reassembly. */
struct rf_catchup {
    uint64_t cid; /* our catchup "inbox" */
    uint64_t cterm, cindex, pterm, pindex;
    uint64_t active;
    bool signal;
    uint8_t *snap_buf;
    uint64_t snap_len, snap_total;
    uint32_t snap_ps_len;
};

/* Leader side of a catchup (Go's runCatchup goroutine, as a state machine). */
struct rf_progress {
    rf_id peer;
    uint64_t cid;
    uint64_t term;     /* our term when the catchup started (Go's lterm) */
    uint64_t next;     /* last index sent */
    uint64_t last;     /* our pindex when the catchup started */
    uint64_t deadline; /* activity timeout */
    uint64_t outstanding;
    uint64_t *om_idx; /* outstanding indexes and their sizes (Go's om map) */
    uint32_t *om_sz;
    uint32_t om_n, om_cap;
    bool started; /* first index update seen (Go: next==0 until then) */
    /* snapshot phase */
    struct rf_snapshot *snap;
    uint64_t snap_sent, snap_acked, snap_pindex;
    bool snap_phase;
};

struct rf_prop {
    struct rf_entry e;
};

#define VEC(T)                                                                                 \
    struct {                                                                                   \
        T *v;                                                                                  \
        uint32_t n, cap;                                                                       \
    }

struct rf_node {
    struct rf_config cfg;
    rf_id id;
    uint64_t now;
    uint64_t rng;

    enum rf_state state;
    bool leader_state;
    uint64_t leader_since;

    uint64_t term, pterm, pindex, commit, processed, applied, papplied;
    rf_id leader, vote;
    int csz, qn;
    uint16_t ext;

    VEC(struct rf_peer) peers;
    VEC(struct rf_removed) removed;
    VEC(struct rf_ack) acks;
    struct rf_log log;
    struct rf_memb_change memb;
    uint64_t aflr;

    uint64_t elect_at, etlr, etlr_count, active, llqrt, lsut, hb_at, lq_at;
    bool hasleader, pleader;
    int werr;

    struct rf_catchup *catchup;
    VEC(struct rf_progress) progress;
    uint64_t hcommit;

    VEC(struct rf_prop) props;
    VEC(struct rf_committed) applyq;

    bool hb_pending; /* Go's `go n.sendHeartbeat()` after a cluster shrink */
    bool lxfer, hcbehind, maybe_leader, paused, observer, initializing, scale_up, deleted,
        snapshotting, quorum_paused;
    uint64_t overrun_count;

    /* candidate / pre-vote bookkeeping */
    bool prevoting;
    uint64_t prevote_term;
    VEC(rf_id) votes;
    VEC(rf_id) empty_votes;

    /* snapshot (Go's snapfile) */
    struct rf_snapshot *snap;

    /* durability: ops and messages wait in order for the next ready */
    VEC(struct rf_op) ops;
    VEC(struct rf_msg) outbox;
    struct rf_lead_change leadc;
    bool ready_out;
    uint64_t ready_seq;
    uint64_t stable;          /* highest index known durable and matching the in-memory log */
    uint64_t trunc_low;       /* lowest truncation queued since the outstanding ready */
    uint64_t meta_seq;        /* sequence stamped into meta records */
    uint8_t *wmeta;           /* last encoded meta content (Go's wtv/wps dedupe) */
    uint32_t wmeta_len;

    /* repair mode: durable log found damaged, no votes or campaigns until repaired */
    bool repair;
    uint64_t repair_term;
};

#define VEC_PUSH(vec, val)                                                                     \
    do {                                                                                       \
        if ((vec).n == (vec).cap) {                                                            \
            (vec).cap = (vec).cap ? (vec).cap * 2 : 8;                                         \
            (vec).v = realloc((vec).v, sizeof(*(vec).v) * (vec).cap);                          \
            if (!(vec).v)                                                                      \
                abort();                                                                       \
        }                                                                                      \
        (vec).v[(vec).n++] = (val);                                                            \
    } while (0)

#define VEC_DEL(vec, i)                                                                        \
    do {                                                                                       \
        memmove(&(vec).v[(i)], &(vec).v[(i) + 1], sizeof(*(vec).v) * ((vec).n - (i) - 1));   \
        (vec).n--;                                                                             \
    } while (0)

/* raft_log.c */
void rf_log_init(struct rf_log *l, uint64_t base);
void rf_log_free(struct rf_log *l);
struct rf_rec *rf_log_get(const struct rf_log *l, uint64_t index);
uint64_t rf_log_first(const struct rf_log *l);
uint64_t rf_log_last(const struct rf_log *l);
void rf_log_append(struct rf_log *l, struct rf_rec *rec); /* takes ownership of entries */
void rf_log_truncate(struct rf_log *l, uint64_t index);
void rf_log_compact(struct rf_log *l, uint64_t index);
void rf_rec_to_ae(const struct rf_rec *r, uint64_t index, struct rf_msg *ae); /* borrows */
int rf_rec_from_ae(const struct rf_msg *ae, struct rf_rec *r);             /* copies */

/* raft_node.c */
uint64_t rf_rand(struct rf_node *n, uint64_t bound);
void rf_reset_elect(struct rf_node *n, uint64_t et_ms);
void rf_reset_election_timeout(struct rf_node *n);
uint64_t rf_rand_campaign_timeout(struct rf_node *n);
void rf_switch_to_follower(struct rf_node *n, rf_id leader);
void rf_switch_to_candidate(struct rf_node *n);
void rf_switch_to_leader(struct rf_node *n);
void rf_stepdown(struct rf_node *n, rf_id new_leader);
void rf_update_leader(struct rf_node *n, rf_id leader);
void rf_update_lead_change(struct rf_node *n, bool is_leader);
int rf_write_term_vote(struct rf_node *n);
void rf_write_peer_state(struct rf_node *n);
void rf_set_write_err(struct rf_node *n, int err);
void rf_send(struct rf_node *n, struct rf_msg *m); /* takes ownership of m's buffers */
void rf_queue_op(struct rf_node *n, uint8_t type, uint64_t index, uint64_t term, uint8_t *buf,
                 uint32_t len);
void rf_push_apply(struct rf_node *n, uint64_t index, bool is_nil, struct rf_entry *e,
                   uint32_t ne);
bool rf_is_current(struct rf_node *n, bool include_forward_progress);
bool rf_lost_quorum(const struct rf_node *n);
struct rf_peer *rf_peer_find(struct rf_node *n, rf_id id);
rf_id rf_new_random_id(struct rf_node *n);

/* raft_elect.c */
int rf_process_vote_request(struct rf_node *n, const struct rf_msg *vr);
void rf_process_vote_response(struct rf_node *n, const struct rf_msg *vr);
void rf_request_vote(struct rf_node *n);
void rf_start_prevote(struct rf_node *n);
int rf_campaign_in(struct rf_node *n, uint64_t et_ms);
int rf_xfer_campaign(struct rf_node *n);
bool rf_should_count_vote_from_peer(const struct rf_node *n, rf_id peer);

/* raft_follow.c: `sub` is RF_SUB_NEW, RF_SUB_REPLAY or a catchup id. */
#define RF_SUB_REPLAY 0ull
#define RF_SUB_NEW 1ull
void rf_process_append_entry(struct rf_node *n, const struct rf_msg *ae, uint64_t sub);
void rf_process_snap_chunk(struct rf_node *n, const struct rf_msg *m);
void rf_truncate_wal(struct rf_node *n, uint64_t term, uint64_t index);
void rf_reset_wal(struct rf_node *n);
uint64_t rf_create_catchup(struct rf_node *n, const struct rf_msg *ae);
void rf_cancel_catchup(struct rf_node *n);
bool rf_catchup_stalled(struct rf_node *n);
void rf_reset_initializing(struct rf_node *n);

/* raft_lead.c */
int rf_send_append_entry(struct rf_node *n, struct rf_entry *e, uint32_t ne, bool check_leader);
int rf_store_to_wal(struct rf_node *n, const struct rf_msg *ae);
void rf_send_heartbeat(struct rf_node *n);
void rf_flush_proposals(struct rf_node *n);
void rf_process_append_entry_response(struct rf_node *n, const struct rf_msg *ar);
bool rf_track_response(struct rf_node *n, const struct rf_msg *ar);
int rf_try_commit(struct rf_node *n, uint64_t index, bool *committed);
void rf_track_peer(struct rf_node *n, rf_id peer);
void rf_catchup_follower(struct rf_node *n, const struct rf_msg *ar);
void rf_process_catchup_ack(struct rf_node *n, const struct rf_msg *m);
void rf_progress_tick(struct rf_node *n);
void rf_progress_clear(struct rf_node *n);
void rf_handle_forwarded_proposal(struct rf_node *n, const struct rf_msg *m);
void rf_handle_forwarded_remove_peer(struct rf_node *n, const struct rf_msg *m);
bool rf_is_leader_overrun(const struct rf_node *n);
struct rf_ack *rf_acks_find(struct rf_node *n, uint64_t index);
void rf_acks_del(struct rf_node *n, uint64_t index);
void rf_acks_clear(struct rf_node *n);
void rf_leader_stable_advanced(struct rf_node *n);

/* raft_apply.c */
int rf_apply_commit(struct rf_node *n, uint64_t index);
int rf_install_snapshot_int(struct rf_node *n, struct rf_snapshot *s);
struct rf_snapshot *rf_load_last_snapshot(struct rf_node *n);
void rf_drop_snapshot(struct rf_node *n);
void rf_send_catchup_signal(struct rf_node *n);
void rf_cancel_catchup_signal(struct rf_node *n);

/* raft_member.c */
void rf_add_peer(struct rf_node *n, rf_id peer);
void rf_remove_peer(struct rf_node *n, rf_id peer);
void rf_adjust_cluster_size_and_quorum(struct rf_node *n);
void rf_process_peer_state(struct rf_node *n, const struct rf_peerstate *ps);
void rf_current_peer_state(const struct rf_node *n, struct rf_peerstate *ps);
void rf_committed_peer_state(const struct rf_node *n, uint64_t index, struct rf_peerstate *ps);
int rf_encode_peer_state(const struct rf_peerstate *ps, uint8_t **out, uint32_t *len);
bool rf_send_membership_change(struct rf_node *n, struct rf_entry *e);
void rf_send_peer_state(struct rf_node *n);
void rf_set_observer_int(struct rf_node *n, bool observer, uint16_t ext);
rf_id rf_select_next_leader(struct rf_node *n);
bool rf_removed_find(struct rf_node *n, rf_id id, uint64_t *ts);
void rf_removed_del(struct rf_node *n, rf_id id);

/* Debug log to stderr when RF_DEBUG is set in the environment (read once). */
extern int rf_debug_level;
int rf_debug_init(void);
#define RF_LOG(n, fmt, ...)                                                                    \
    do {                                                                                       \
        if (rf_debug_level < 0)                                                                \
            rf_debug_level = rf_debug_init();                                                  \
        if (rf_debug_level > 0)                                                                \
            fprintf(stderr, "%8llu RAFT [%.8s] " fmt "\n", (unsigned long long)(n)->now,     \
                    (n)->id.b, ##__VA_ARGS__);                                                 \
    } while (0)

#endif
