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

/* Kinds of sublist entries: a client's subscription (br_sub), another member's interest
 * (br_rsub), and internal subscriptions of accounts (imports, responses: account.h). */
enum { BR_SUB_LOCAL = 1, BR_SUB_REMOTE = 2, BR_SUB_INTERNAL = 3 };

/* Interest of another worker, inserted in this worker's sublist next to local subscriptions. */
typedef struct br_rsub {
    sl_sub sl;
    uint8_t kind; /* BR_SUB_REMOTE; must follow sl as in br_sub */
    uint32_t worker;
    sl_sublist *list; /* the account's sublist it sits in */
    uint32_t key_len;
    char key[]; /* account\0subject\0queue\0 (account "" for "$G") */
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

struct br_mesh_msg;
/* Hands a message that came from another member to its owner (broker: deliver.c). */
typedef void (*br_mesh_deliver_fn)(void *ctx, const struct br_mesh_msg *msg, const np_str *queues,
                                   uint32_t nqueues);

/* The sublist of an account by name ("" is "$G"); NULL drops interest in that account. */
typedef sl_sublist *(*br_mesh_sublist_fn)(void *ctx, const char *account, size_t len);

typedef struct br_mesh {
    sl_sublist *sublist; /* the owner's ("$G"): peers' interest is inserted here as br_rsub */
    /* Owners with accounts (brokers, and storaged for JetStream's accounts) resolve other
     * accounts' sublists through this; without it only "$G" interest is kept. */
    br_mesh_sublist_fn sublist_for;
    void *sublist_ctx;
    br_mesh_deliver_fn deliver;
    void *deliver_ctx;
    br_node *node;
    uint32_t self;
    uint32_t nmembers; /* broker workers and storaged */
    br_mesh_peer peers[BR_MAX_WORKERS];
    nx_strmap local; /* key -> br_local_interest: our own subscriptions per subject/queue */
    uint64_t doorbell_buf;
} br_mesh;

/* Message fields as carried between workers. */
typedef struct br_mesh_msg {
    np_str account; /* "" or "$G": the global account */
    np_str subject, reply, size_str, hdr_str;
    uint32_t hdr_len, total_len;
    const uint8_t *payload;
    /* Workers that already had their chance at the message's queue groups (bit per worker).
     * A worker whose members of a chosen group all refuse the message (permissions) passes it
     * on to one not yet visited, queue groups only, as one Go server would try every member. */
    uint64_t visited;
    bool queues_only; /* a redirect: plain subscribers already got it */
    /* Go's pa.deliver: the subject clients see in MSG/HMSG when it is not the subject the
     * message is routed by (JetStream deliveries to a deliver subject or a pull request's
     * inbox show the stored message's own subject).  Empty: `subject`. */
    np_str deliver;
} br_mesh_msg;

int br_mesh_init(br_mesh *m, br_node *node, uint32_t self, sl_sublist *sublist,
                 br_mesh_deliver_fn deliver, void *deliver_ctx);
void br_mesh_free(br_mesh *m);

/* Local subscription bookkeeping: call on every local insert/remove (global account). */
void br_mesh_local_sub(br_mesh *m, const sl_sub *sub, int delta);
/* The same for a subscription in the named account ("" or "$G": global). */
void br_mesh_local_sub_acc(br_mesh *m, const char *account, size_t account_len, const sl_sub *sub,
                           int delta);

/* Queues a message for worker `w` with the queue groups it must serve (may be none). */
bool br_mesh_forward(br_mesh *m, uint32_t w, const br_mesh_msg *msg, const sl_sub *const *queues,
                     uint32_t nqueues);

/* Reads every inbound ring, acting on each record.  Returns records handled. */
uint32_t br_mesh_drain(br_mesh *m);
/* Publishes what this turn wrote, retries spills, notices peer restarts, rings doorbells. */
void br_mesh_flush(br_mesh *m);
/* True if any inbound ring holds records (checked after announcing sleep). */
bool br_mesh_has_input(br_mesh *m);

/* For a member without clients (storaged): sends a message to every member whose interest
 * in msg->account matches, one queue member per group, as a broker does for a client's PUB.
 * True when some member took it. */
bool br_mesh_route(br_mesh *m, const br_mesh_msg *msg);
/* True when a peer member subscribes to a subject matching the literal `subject`. */
bool br_mesh_has_interest(br_mesh *m, const char *subject, size_t len);
/* The same in the named account ("" or "$G": global). */
bool br_mesh_has_interest_acc(br_mesh *m, const char *account, size_t account_len,
                              const char *subject, size_t len);

#endif
