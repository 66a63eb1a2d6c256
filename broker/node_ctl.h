/* The node control socket: how workers started by systemd join a node.
 *
 * In the systemd deployment the node daemon (`nats-server --node_socket PATH`, no workers of
 * its own) creates the node's shared memory and doorbells and listens on a Unix socket; each
 * broker@N unit runs `nats-server --node_socket PATH --worker N`, connects, names its index and
 * receives the shared memory and every worker's doorbell as file descriptors (SCM_RIGHTS).  The
 * connection stays open for the worker's life: its end tells the daemon the worker is gone
 * (so peers drop its interest), and the daemon's end tells the worker the node is gone.
 */
#ifndef BR_NODE_CTL_H
#define BR_NODE_CTL_H

#include <stdint.h>
#include <sys/types.h>

#include "broker/node.h"

/* The index storaged names in its hello: the daemon maps it to its member index. */
#define BR_NODE_CTL_STORAGED 0x7fff0000

/* Daemon: a listening Unix stream socket at path (an old socket file is replaced). */
int br_node_ctl_listen(const char *path);
/* Daemon: reads a worker's hello from a new connection.  The index, or -errno. */
int br_node_ctl_read_hello(int conn, pid_t *peer_pid);
/* Daemon: answers a hello with the node's descriptors.  0 or -errno. */
int br_node_ctl_send_node(int conn, const br_node *node);
/* Worker: connects, says hello as `worker`, maps the node it is given.  Returns the connected
 * control fd (keep it open) or -errno. */
int br_node_ctl_join(const char *path, uint32_t worker, br_node *node);

#endif
