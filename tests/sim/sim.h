/* tests/sim/sim.h: a deterministic simulator for raftd (TigerBeetle VOPR style).  N nodes run
 * the real RAFT core (raftd/raft_*.c) and the real log_store on simulated disks
 * (sim_disk.h), connected by a simulated network (loss, delay, reordering, duplication,
 * partitions).  Everything is driven by one 64-bit seed and logical time.
 *
 * Each node has a driver that mirrors what raftd does around the core: take a ready batch,
 * apply its storage ops, fsync (after a simulated disk latency), then send its messages and
 * apply its committed entries to a state machine (an adder like Go's stateAdder, plus a hash
 * chain over everything applied), then rf_advance.
 *
 * The checker (sim_check.c) runs after every event: election safety (one leader per term),
 * log matching (same index and term => same record), leader completeness (a new leader holds
 * every entry applied anywhere), state machine safety (the chain after index i is the same
 * on every node) and gap-free application.  A failure records a message and the seed.
 *
 * The same harness backs the Criterion ports of Go's raft_test.go (tests/unit/test_raft*.c).
 */
#ifndef SIM_H
#define SIM_H

#include "raftd/log_store.h"
#include "raftd/raft_int.h"
#include "sim_disk.h"

#define SIM_MAX_NODES 9

struct sim_opts {
    uint64_t seed;
    int nodes;  /* initial members */
    int spares; /* extra nodes outside the initial peer set, down at start */
    struct rf_config rc;
    uint32_t tick_ms;
    uint32_t net_min_ms, net_max_ms;
    uint32_t disk_min_ms, disk_max_ms;
    uint32_t loss_ppm, dup_ppm; /* per million */
    uint32_t reorder_ppm;       /* messages that may overtake earlier ones on their link */
    uint64_t segment_bytes;
    uint32_t snapshot_every; /* state machines snapshot every N applied indexes (0: never) */
    bool torn_writes;
    bool campaign_first; /* Go's createRaftGroup: sg[0].CampaignImmediately() */
    bool verbose;
};

struct sim_sm {
    uint64_t applied;
    int64_t sum;
    uint64_t chain;
    uint64_t last_snap;
};

struct sim_node {
    int idx;
    rf_id id;
    bool up;
    bool removed; /* no longer a member: stopped, like the upper layer would */
    uint64_t gen; /* incarnation, bumped on crash */
    struct rf_node *n;
    struct rf_log_store *ls;
    struct sim_disk *disk;
    struct rf_disk rdisk;
    bool inflight;
    struct rf_ready rd;
    struct sim_sm sm;
    bool was_leader;
    bool pending_corruption;
    bool in_repair; /* last seen needing repair (sticky while down) */
    int lead_changes;
    bool last_lead_change;
    bool observer; /* re-applied on restart */
    bool paused;   /* Go tests' n.Lock(): events wait until sim_resume */
    struct sim_event *held;
    uint32_t nheld, capheld;
    uint64_t crashes;
};

struct sim_event;
struct sim;
struct sim_check;

typedef bool (*sim_filter_fn)(struct sim *s, int from, int to, const struct rf_msg *m,
                              void *arg);
/* Sees every message a node sends (before routing), like a test subscription. */
typedef void (*sim_tap_fn)(struct sim *s, int from, const struct rf_msg *m, void *arg);

struct sim_stats {
    uint64_t events, msgs_sent, msgs_dropped, msgs_dup, crashes, restarts, corruptions;
    uint64_t elections, max_term, proposals, applied, snapshots, repairs_seen, partitions;
};

struct sim {
    struct sim_opts o;
    uint64_t now;
    uint64_t rng;
    uint64_t seq;
    int n; /* nodes + spares */
    struct sim_node nodes[SIM_MAX_NODES];
    struct sim_event *heap;
    uint32_t hn, hcap;
    uint8_t group[SIM_MAX_NODES]; /* partition group per node; messages cross only within */
    bool isolated_oneway[SIM_MAX_NODES][SIM_MAX_NODES]; /* [from][to] blocked */
    uint64_t link_last[SIM_MAX_NODES][SIM_MAX_NODES];   /* FIFO per link (TCP) */
    sim_filter_fn filter;
    void *filter_arg;
    sim_tap_fn tap;
    void *tap_arg;
    /* checker state */
    struct sim_check *chk;
    bool failed;
    char failure[512];
    struct sim_stats st;
};

struct sim *sim_new(const struct sim_opts *o);
void sim_opts_default(struct sim_opts *o, uint64_t seed, int nodes);
void sim_free(struct sim *s);

/* Time. */
void sim_run_for(struct sim *s, uint64_t ms);
bool sim_run_until(struct sim *s, bool (*cond)(struct sim *, void *), void *arg,
                   uint64_t max_ms);
/* Process pending work without advancing time (drain events due now). */
void sim_settle(struct sim *s);

/* Nodes. */
struct rf_node *sim_raft(struct sim *s, int i);
int sim_leader(struct sim *s);       /* node with Go's Leader() true, or -1 */
int sim_state_leader(struct sim *s); /* node in LEADER state, or -1 */
int sim_wait_leader(struct sim *s, uint64_t max_ms);
int sim_non_leader(struct sim *s);
void sim_crash(struct sim *s, int i);
void sim_restart(struct sim *s, int i);
void sim_start_spare(struct sim *s, int i); /* start a fresh node that knows all ids */
int sim_index_of(struct sim *s, rf_id id);
void sim_pump(struct sim *s, int i); /* run the driver after a direct core call */

/* Freeze a node like Go tests holding its lock: its events wait, then run on resume. */
void sim_pause(struct sim *s, int i);
void sim_resume(struct sim *s, int i);

/* Network. */
void sim_partition(struct sim *s, const uint8_t *group);
void sim_isolate(struct sim *s, int i);
void sim_heal(struct sim *s);

/* State machine snapshot of node i into its RAFT node (Go's stateAdder.snapshot). */
int sim_snapshot(struct sim *s, int i);
/* Deliver a message to node i now, as if it came from the network. */
void sim_inject(struct sim *s, int i, const struct rf_msg *m);
bool sim_is_member(struct sim *s, int i);

/* Workload. */
int sim_propose(struct sim *s, int i, int64_t delta); /* forwards to the leader */
bool sim_wait_total(struct sim *s, int64_t total, uint64_t max_ms);
bool sim_wait_applied_all(struct sim *s, uint64_t index, uint64_t max_ms);

/* Faults. */
const char *sim_corrupt(struct sim *s, int i, const char *prefix);

/* Checker (sim_check.c). */
void sim_check_init(struct sim *s);
void sim_check_free(struct sim *s);
void sim_check_step(struct sim *s);
void sim_check_append(struct sim *s, int i, const struct rf_op *op);
void sim_check_apply(struct sim *s, int i, const struct rf_committed *ce);
bool sim_check_converged(struct sim *s, char *why, size_t len);
uint64_t sim_check_max_committed(struct sim *s);
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* State machine helpers. */
void sim_sm_encode(const struct sim_sm *sm, uint8_t out[32]);
bool sim_sm_decode(const uint8_t *b, uint32_t len, struct sim_sm *sm);
void sim_encode_delta(int64_t delta, uint8_t *out, uint32_t *len);

#endif
