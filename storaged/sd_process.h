/* storaged as a process: JetStream's home on the node.
 *
 * The design card's storage daemon.  It joins the node's shared-memory mesh (broker/mesh.h) as
 * one more member, after the broker workers, with no clients of its own: it subscribes to what
 * JetStream serves ($JS.API.>, every stream's subjects, acks), in each account it serves,
 * exactly as a worker announces its clients' subscriptions, so brokers forward matching
 * publishes to it through its rings, and it sends replies and deliveries back through the same
 * rings to the workers whose clients subscribe to them in that account.  Go's JetStream runs inside the server process (server/jetstream.go); here
 * it runs in storaged (storaged/js/js.h), which can be restarted on its own: while it is down,
 * no member has interest in $JS.API.>, so clients' requests get Go's no-responders status (or
 * time out), and on restart it recovers every stream from disk and announces its interest again.
 *
 * Durability: one loop turn drains what the rings hold, stores it, syncs once (group commit) and
 * only then publishes the acknowledgements (js_server_flush).
 */
#ifndef SD_PROCESS_H
#define SD_PROCESS_H

#include <stdint.h>

#include "broker/node.h"
#include "broker/options.h"

/* Runs storaged as mesh member `self` of `node` until told to stop (SIGTERM/SIGINT/SIGQUIT) or
 * the supervisor's control connection `ctl_fd` closes.  Returns the process exit status. */
int sd_process_run(const br_options *opts, br_node *node, uint32_t self, int ctl_fd);

/* The systemd deployment (nats-storaged.service): joins the node daemon at opts->node_socket
 * and runs as above.  Returns the exit status. */
int sd_join_run(const br_options *opts);

#endif
