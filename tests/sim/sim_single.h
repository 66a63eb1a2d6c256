/* tests/sim/sim_single.h: a one-node harness for white-box tests of the RAFT core, the
 * counterpart of Go's initSingleMemRaftNode (server/raft_helpers_test.go): a node bootstrapped
 * with only itself as peer, whose internals tests read and poke like Go's raft_test.go does.
 *
 * After every input the harness flushes synchronously: ready -> log_store (on a sim_disk) ->
 * fsync -> outputs captured -> advance.  Sent messages land in `msgs` (like a test
 * subscription on the reply subjects), committed entries in `applyq` (Go's n.apply queue,
 * which tests consume by calling rf_applied themselves).
 */
#ifndef SIM_SINGLE_H
#define SIM_SINGLE_H

#include "sim.h"

#define SN_NATS0 "S1Nunr6R"
#define SN_NATS1 "yrzKKRBu"
#define SN_NATS2 "cnrtt3eg"
#define SN_SELF "esFhDys3"

struct sn {
    struct rf_node *n;
    struct sim_disk *disk;
    struct rf_disk rdisk;
    struct rf_log_store *ls;
    struct rf_config cfg;
    struct rf_msg *msgs;
    uint32_t nmsgs, capmsgs;
    struct rf_committed *applyq;
    uint32_t napply, capapply;
    struct rf_lead_change lc; /* latest unconsumed lead change (Go's leadc) */
    uint64_t now;
    rf_id boot_ids[16];
    struct rf_peerstate boot; /* given again on restart, used only if the meta is lost */
    struct rf_msg **owned;
    uint32_t nowned;
};

/* Go's initSingleMemRaftNode: peers = [self], cluster size 1, not recovering. */
struct sn *sn_new(void);
/* Bootstrapped with the given peers (self included or not) and expected cluster size. */
struct sn *sn_new_peers(const char *const *peers, int npeers, int csz, bool recovering);
void sn_free(struct sn *h);
/* Stop and start again from the (synced) disk, like Go's Stop + initRaftNode. */
void sn_restart(struct sn *h);

void sn_flush(struct sn *h);
void sn_tick(struct sn *h, uint64_t ms);

/* An append entry like Go's encode(t, &appendEntry{...}) with `nent` sample entries.  The
 * harness owns it (freed by sn_free). */
struct rf_msg *sn_ae(struct sn *h, const char *leader, uint64_t term, uint64_t commit,
                     uint64_t pterm, uint64_t pindex, int nent);
/* Same with explicit entries (copied; the caller keeps ownership of e). */
struct rf_msg *sn_ae_with(struct sn *h, const char *leader, uint64_t term, uint64_t commit,
                          uint64_t pterm, uint64_t pindex, const struct rf_entry *e,
                          uint32_t ne);
struct rf_entry sn_entry(uint8_t type, const void *data, uint32_t len);
struct rf_entry sn_peer_entry(uint8_t type, const char *peer);
/* Process an append entry on a "subscription": RF_SUB_NEW, a catchup id, or RF_SUB_REPLAY. */
void sn_process(struct sn *h, const struct rf_msg *ae, uint64_t sub);
/* Process a vote request; returns the flags of our reply (RF_MF_*) or -1 if none. */
int sn_vote(struct sn *h, uint64_t term, uint64_t last_term, uint64_t last_index,
            const char *candidate);
void sn_aer(struct sn *h, uint64_t term, uint64_t index, const char *peer, bool success);

/* Captured outputs. */
uint32_t sn_count(struct sn *h, uint8_t type);
const struct rf_msg *sn_last(struct sn *h, uint8_t type);
void sn_clear(struct sn *h);
void sn_clear_apply(struct sn *h);
/* Consume the latest lead change; returns false if none. */
bool sn_lead_change(struct sn *h, bool *is_leader, uint64_t *term);

/* Peer state helpers. */
bool sn_has_peer(struct sn *h, const char *id);
void sn_add_peer(struct sn *h, const char *id);
struct rf_snapshot sn_peerstate_snapshot(struct sn *h, uint64_t term, uint64_t index);

#endif
