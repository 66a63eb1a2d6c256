/* storaged's client of raftd's control socket: the meta group's leader and state (Go
 * nats-server v2.14.5 server/jetstream_cluster.go processLeaderChange, server/monitor.go
 * MetaClusterInfo).  Non-blocking; driven from storaged's poll loop (sd_process.c). */
#ifndef SD_RAFT_H
#define SD_RAFT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

typedef struct sd_raft sd_raft;

/* A client of raftd at sock_path (NULL: not clustered, returns NULL).  Connects on the first
 * tick. */
sd_raft *sd_raft_new(const char *sock_path, const char *cluster_name);
void sd_raft_free(sd_raft *r);
/* The socket to poll (-1 while not connected) and the events to poll it for. */
int sd_raft_fd(const sd_raft *r);
short sd_raft_events(const sd_raft *r);
void sd_raft_handle(sd_raft *r, short revents, int64_t now_ms);
/* Reconnects and refreshes the meta state when due; call every loop turn. */
void sd_raft_tick(sd_raft *r, int64_t now_ms);
/* Go's MetaClusterInfo as this server sees it (new reference); NULL without raftd. */
json_t *sd_raft_meta_json(const sd_raft *r);
bool sd_raft_is_meta_leader(const sd_raft *r);
/* Go jsAccountInfoRequest in clustered mode: with no meta leader for longer than the lost
 * quorum interval, $JS.API.INFO is answered with JSClusterNotAvailErr.  The reply's JSON for
 * such a request, NULL to let JetStream answer (r may be NULL). */
const char *sd_raft_api_refusal(const sd_raft *r, const char *subj, size_t len);
const char *sd_raft_meta_leader(const sd_raft *r); /* "" when none known */

#endif
