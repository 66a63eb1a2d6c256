/* The supervisor process of a node (see supervisor.c). */
#ifndef BR_SUPERVISOR_H
#define BR_SUPERVISOR_H

#include "broker/options.h"

/* Runs the node until shutdown; returns the exit status. */
int br_supervisor_run(br_options *opts);

/* systemd deployment: joins the node daemon at opts->node_socket as worker
 * opts->worker_index and serves clients until shutdown; returns the exit status. */
int br_worker_join_run(br_options *opts);

#endif
