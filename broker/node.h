/* The node: what every broker worker of one server shares through shared memory.
 *
 * The supervisor creates one memfd-backed region before forking the workers:
 *   - node identity (server id, xkey, name) so every worker's INFO names the same server;
 *   - node-wide counters: client ids, open connections (max_connections is node-wide);
 *   - per-worker slots: pid, epoch (bumped by the supervisor at each (re)start), ready_epoch
 *     (set by the worker once it has discarded stale input), a "sleeping" flag telling peers to
 *     ring its eventfd doorbell, and statistics;
 *   - M*(M-1) single-producer single-consumer rings between the M members of the mesh, ring(i,j)
 *     carrying records from member i to member j (see mesh.h).  Members 0..nworkers-1 are the
 *     broker workers; when JetStream is enabled, member nworkers is storaged, which joins the
 *     mesh like a worker without clients (storaged/sd_process.c).
 * Nothing here is ever freed while a worker runs; a worker that dies leaves its slot for its
 * successor.  Workers trust nothing they read from another process: ring records are checked.
 */
#ifndef BR_NODE_H
#define BR_NODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/nkey.h"
#include "common/shm_ring.h"

#define BR_MAX_WORKERS 64
#define BR_NODE_MAGIC 0x4e415453u /* "NATS" */
#define BR_NODE_ACC_SLOTS 256      /* accounts whose connections are counted node-wide */

typedef struct br_worker_slot {
    _Alignas(64) _Atomic int32_t pid;
    _Atomic uint32_t epoch;       /* supervisor: incremented whenever this slot is (re)started */
    _Atomic uint32_t ready_epoch; /* worker: equals epoch once its inbound rings are clean */
    _Atomic uint32_t sleeping;    /* worker: about to block in io_uring; ring the doorbell */
    _Atomic uint32_t listening;   /* worker: its listener is bound */
    _Atomic int32_t num_clients;  /* worker: open connections (zeroed when it dies) */
    _Atomic uint64_t in_msgs, in_bytes, out_msgs, out_bytes, slow_consumers;
    _Atomic uint64_t mesh_dropped; /* messages dropped because a peer's ring stayed full */
    /* worker: its connections per account (index: br_node_acc_slot), for account limits;
     * only live workers' counts are summed, and a new incarnation zeroes them */
    _Atomic int32_t acc_clients[BR_NODE_ACC_SLOTS];
} br_worker_slot;

typedef struct br_node_shm {
    uint32_t magic;
    uint32_t nworkers; /* broker workers: members 0..nworkers-1 */
    uint32_t nmembers; /* mesh members: the workers, then storaged when JetStream is on */
    uint64_t ring_size;
    uint64_t ring_stride; /* bytes between consecutive rings */
    uint64_t rings_offset;
    char server_id[NX_NKEY_PUBLIC_LEN + 1];
    char xkey[NX_NKEY_PUBLIC_LEN + 1];
    char server_name[256];
    _Atomic uint64_t next_cid;
    _Atomic int32_t listen_port;
    _Atomic uint32_t lame_duck; /* set once any worker entered lame duck mode */
    br_worker_slot workers[BR_MAX_WORKERS];
    _Atomic uint64_t acc_hash[BR_NODE_ACC_SLOTS]; /* account name hash per slot (0: free) */
    _Atomic uint64_t sys_seq; /* sequence of the system events this node sent */
} br_node_shm;

/* A process's handle on the node.  File descriptors are per process: forked workers inherit
 * them, workers started by systemd receive them from the node daemon (SCM_RIGHTS). */
typedef struct br_node {
    br_node_shm *shm;
    size_t shm_bytes;
    int memfd;
    int doorbell[BR_MAX_WORKERS]; /* eventfd per worker, rung when it sleeps */
} br_node;

/* Supervisor: creates and formats the region for nworkers workers plus `extra` mesh members
 * without clients (1: storaged).  0 or -errno. */
int br_node_create(br_node *node, uint32_t nworkers, uint32_t extra, uint64_t ring_size);
void br_node_destroy(br_node *node);
/* Worker started on its own: maps a node from descriptors the node daemon passed.  Takes
 * ownership of the fds.  0 or -errno (-EPROTO when the memory is not a node). */
int br_node_attach(br_node *node, int memfd, const int *doorbells, uint32_t n);

/* The ring carrying records from member `from` to member `to` (from != to). */
void *br_node_ring_mem(const br_node *node, uint32_t from, uint32_t to);

/* Open connections over every worker (max_connections is node-wide). */
int32_t br_node_num_clients(const br_node *node);

/* The node-wide slot of an account (claimed on first use by any worker), -1 when the table is
 * full (the account's connections are then counted per worker only). */
int br_node_acc_slot(br_node *node, const char *name, size_t len);
/* Connections of the account in slot i over the live workers. */
int32_t br_node_acc_clients(const br_node *node, int slot);

/* Rings member w's doorbell if it is (about to be) asleep. */
void br_node_kick(const br_node *node, uint32_t w);

/* The mesh member index of storaged, or -1 when the node has none. */
static inline int br_node_storaged_index(const br_node *node) {
    return node->shm->nmembers > node->shm->nworkers ? (int)node->shm->nworkers : -1;
}

#endif
