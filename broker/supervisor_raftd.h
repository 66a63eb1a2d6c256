/* The supervisor's raftd child in clustered JetStream mode (see supervisor_raftd.c; Go
 * nats-server v2.14.5 server/jetstream_cluster.go enableJetStreamClustering). */
#ifndef BR_SUPERVISOR_RAFTD_H
#define BR_SUPERVISOR_RAFTD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "broker/options.h"

/* Decides whether this server runs raftd (clustered JetStream, not the systemd deployment)
 * and prepares its command line; exits with Go's "Can't start JetStream" text when the
 * cluster cannot start.  True when raftd is to run. */
bool sup_raftd_setup(const br_options *o);
/* Forks raftd (no-op when not enabled or already running). */
void sup_raftd_start(int64_t now_ms);
/* A child the supervisor reaped: true when it was raftd (a restart is scheduled unless
 * stopping). */
bool sup_raftd_reaped(pid_t pid, int status, bool stopping, int64_t now_ms);
/* Restarts raftd when due; the next restart time, 0 when none is pending. */
int64_t sup_raftd_tick(int64_t now_ms, bool stopping);
void sup_raftd_signal(int sig);
bool sup_raftd_alive(void);

#endif
