/* The worker mesh: broker workers of one node talking through shared-memory rings.
 *
 * Models Go nats-server v2.14.5 routes (server/route.go) between the workers of one node:
 *  - interest: a worker tells every other worker which subjects (and queue groups, with their
 *    member count as Go's queue weight) its clients subscribe to — only on the first
 *    subscription and the last unsubscription of a subject, like RS+/RS-;
 *  - messages: a publish is forwarded once to each worker with matching interest, carrying the
 *    names of the queue groups that worker was chosen to serve (Go's RMSG "+ queues" form), so a
 *    queue group spanning workers still gets each message exactly once;
 *  - order: one ring per ordered pair of workers keeps one publisher's messages in order.
 *
 * Records are written into the ring at once (so interest is visible before the PONG that
 * acknowledges the SUB leaves this worker), published and doorbells rung once per loop turn.
 * A ring that stays full spills into a bounded local overflow queue; beyond the bound messages
 * are dropped and counted (Go closes a slow route instead; here the peer is a sibling process).
 *
 * Restarts: the supervisor bumps a worker's epoch when it restarts it; the new worker discards
 * its stale input and publishes ready_epoch; each peer, on seeing a new epoch, forgets the
 * peer's old interest and sends it a RESET followed by its whole interest.
 */
#ifndef BR_MESH_H
#define BR_MESH_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/node.h"
#include "broker/sublist.h"
#include "common/shm_ring.h"
#include "common/strmap.h"
#include "proto/parser.h"

struct br_server;

enum { BR_SUB_LOCAL = 1, BR_SUB_REMOTE = 2 };

/* Interest of another worker, inserted in this worker's sublist next to local subscriptions. */
typedef struct br_rsub {
    sl_sub sl;
    uint8_t kind; /* BR_SUB_REMOTE; must follow sl as in br_sub */
    uint32_t worker;
    uint32_t key_len;
    char key[]; /* subject\0queue\0 */
} br_rsub;

typedef struct br_mesh_spill {
    struct br_mesh_spill *next;
    uint32_t type;
    uint32_t len;
    uint8_t data[];
} br_mesh_spill;

typedef struct br_mesh_peer {
    nx_ring out; /* self -> peer */
    nx_ring in;  /* peer -> self */
    uint32_t known_epoch; /* the peer incarnation our state is synced with (0: none) */
    bool alive;
    bool out_dirty;
    nx_strmap interest; /* key -> br_rsub: what the peer told us */
    br_mesh_spill *spill_head, *spill_tail;
    uint64_t spill_bytes;
} br_mesh_peer;

typedef struct br_mesh {
    struct br_server *srv;
    br_node *node;
    uint32_t self;
    uint32_t nworkers;
    br_mesh_peer peers[BR_MAX_WORKERS];
    nx_strmap local; /* key -> br_local_interest: our own subscriptions per subject/queue */
    uint64_t doorbell_buf;
} br_mesh;

/* Message fields as carried between workers. */
typedef struct br_mesh_msg {
    np_str subject, reply, size_str, hdr_str;
    uint32_t hdr_len, total_len;
    const uint8_t *payload;
    /* Workers that already had their chance at the message's queue groups (bit per worker).
     * A worker whose members of a chosen group all refuse the message (permissions) passes it
     * on to one not yet visited, queue groups only, as one Go server would try every member. */
    uint64_t visited;
    bool queues_only; /* a redirect: plain subscribers already got it */
} br_mesh_msg;

int br_mesh_init(br_mesh *m, struct br_server *srv, br_node *node, uint32_t self);
void br_mesh_free(br_mesh *m);

/* Local subscription bookkeeping: call on every local insert/remove. */
void br_mesh_local_sub(br_mesh *m, const sl_sub *sub, int delta);

/* Queues a message for worker `w` with the queue groups it must serve (may be none). */
bool br_mesh_forward(br_mesh *m, uint32_t w, const br_mesh_msg *msg, const sl_sub *const *queues,
                     uint32_t nqueues);

/* Reads every inbound ring, acting on each record.  Returns records handled. */
uint32_t br_mesh_drain(br_mesh *m);
/* Publishes what this turn wrote, retries spills, notices peer restarts, rings doorbells. */
void br_mesh_flush(br_mesh *m);
/* True if any inbound ring holds records (checked after announcing sleep). */
bool br_mesh_has_input(br_mesh *m);

/* Delivers a message that came from another worker (implemented in deliver.c). */
void br_deliver_from_mesh(struct br_server *s, const br_mesh_msg *msg, const np_str *queues,
                          uint32_t nqueues);

#endif
