/* The supervisor process of a node (see supervisor.c). */
#ifndef BR_SUPERVISOR_H
#define BR_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "broker/options.h"

/* Runs the node until shutdown; returns the exit status. */
int br_supervisor_run(br_options *opts);

/* systemd deployment: joins the node daemon at opts->node_socket as worker
 * opts->worker_index and serves clients until shutdown; returns the exit status. */
int br_worker_join_run(br_options *opts);

struct br_node;
/* In the supervisor process, from any thread (monitoring): asks worker w (query.h).
 * 0 with the answer in *out (malloc'd), or -errno (-ENOENT: that worker is not running). */
int br_supervisor_query(uint32_t w, uint32_t type, const char *args, size_t args_len,
                        int timeout_ms, char **out, size_t *out_len);
/* The node's shared memory (counters, slots), or NULL outside a supervisor. */
const struct br_node *br_supervisor_node(void);

#endif
