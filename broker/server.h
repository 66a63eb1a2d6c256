/* The broker process: one io_uring loop serving client connections.
 *
 * Ports the single-server parts of Go nats-server v2.14.5 server/server.go (Start, accept loop,
 * INFO, lame duck, shutdown, ports file) onto one thread driving io_uring: multishot accept,
 * multishot recv into a provided buffer ring, one sendmsg in flight per connection, and a
 * periodic tick for per-connection deadlines (ping, auth, write stall).
 *
 * Invariants: everything runs on the loop thread; a connection is freed only after every
 * io_uring operation that references it has completed (ops_inflight == 0); sends are batched:
 * handlers queue output and mark the connection dirty, and the loop submits one send per dirty
 * connection per turn.
 */
#ifndef BR_SERVER_H
#define BR_SERVER_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/mesh.h"
#include "broker/node.h"
#include "broker/options.h"
#include "broker/outbound.h"
#include "broker/sublist.h"
#include "common/nkey.h"

typedef struct br_client br_client;

typedef struct br_stats {
    uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
    uint64_t slow_consumers;
    uint64_t total_connections;
    /* Monitoring: stale connections, and the part of in_msgs/in_bytes that arrived from other
     * workers over the mesh (the node-wide figures count each client publish once). */
    uint64_t stale_connections;
    uint64_t mesh_in_msgs, mesh_in_bytes;
} br_stats;

typedef enum br_server_state {
    BR_RUNNING,
    BR_LAME_DUCK,
    BR_SHUTTING_DOWN,
} br_server_state;

typedef struct br_server {
    br_options *opts;
    br_node *node;         /* shared with the other workers (node.h) */
    uint32_t worker;       /* this worker's index in the node */
    br_mesh mesh;
    uint64_t doorbell_val; /* eventfd read target */
    int control_fd; /* control connection to the supervisor / node daemon (query.h) */
    uint8_t control_buf[4096];
    uint8_t *control_in; /* request bytes received, not yet handled */
    size_t control_in_len;
    br_outq control_out; /* answers being sent */
    bool control_send_inflight;
    struct msghdr control_msg;
    struct iovec control_iov[16];
    struct io_uring ring;
    bool ring_ready;

    int listen_fd;
    int listen_port; /* the bound port (after -p -1) */
    bool accept_armed;

    /* Provided receive buffers shared by every connection. */
    struct io_uring_buf_ring *buf_ring;
    uint8_t *buf_base;
    uint32_t buf_count;
    uint32_t buf_size;
    br_client *starved; /* connections whose recv stopped for lack of buffers */

    int signal_fd;
    uint64_t signal_buf[16]; /* struct signalfd_siginfo is 128 bytes */

    struct __kernel_timespec tick_ts;
    bool tick_armed;

    sl_sublist *sublist;       /* the global account's ("$G") */
    struct br_acc_reg *accounts; /* every account's sublist and imports (account.h) */
    SSL_CTX *tls_ctx;          /* client TLS, NULL when not configured */
    nx_tr_out mapped_subject;  /* scratch for subject mappings on publish */
    uint8_t tls_plain[65536];  /* decrypted input, handed to the parser at once */
    const char *server_id; /* node identity, in shared memory */
    const char *xkey;
    const char *server_name;
    bool auth_required;
    struct br_auth *auth; /* users, nkeys, permissions (auth.h); rebuilt on reload */

    br_client *clients; /* doubly linked list of open connections */
    uint32_t num_clients;
    br_client *dirty;   /* connections with output to send this turn */
    br_client *zombies; /* closed connections waiting for in-flight ops */
    struct br_sub *retired_subs; /* removed subscriptions, freed at the end of the turn */

    /* Deadline heap of connections keyed by their nearest deadline. */
    br_client **heap;
    uint32_t heap_len, heap_cap;

    int64_t now_ms; /* monotonic, refreshed every loop turn */
    br_server_state state;
    bool ldm_announced; /* clients were told (after every worker stopped accepting) */
    int64_t ldm_next_close_ms;
    int64_t ldm_interval_ms;
    int64_t shutdown_deadline_ms;

    br_stats stats;
    /* Monitoring: what of `stats` was last added to this worker's shared slot (the loop adds
     * the difference once per turn), and the closed-connection ring (monitor_int.h). */
    br_stats stats_flushed;
    void *monitor_closed;
} br_server;

/* Sets up worker `worker` of the node (ring, listener on the node's port, mesh). */
int br_server_init(br_server *s, br_options *opts, br_node *node, uint32_t worker);
/* Runs until shutdown; returns the process exit status. */
int br_server_run(br_server *s);
void br_server_free(br_server *s);

int64_t br_now_ms(void);
int64_t br_now_ns(void);

/* Used by connections. */
void br_server_mark_dirty(br_server *s, br_client *c);
void br_server_deadline_changed(br_server *s, br_client *c);
void br_server_client_closed(br_server *s, br_client *c);
/* Builds the INFO line for c into buf; returns its length. */
size_t br_server_info_line(br_server *s, br_client *c, bool connect_info, char *buf, size_t cap);

#endif
