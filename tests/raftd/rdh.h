/* tests/raftd/rdh.h: a harness for nats-raftd integration tests: start real raftd processes
 * ($RAFTD_BIN) on loopback ephemeral ports in temp dirs, talk to them over their control
 * sockets (line-delimited JSON, raftd/README.md "Control protocol"), kill -9 and restart them.
 *
 * Every wait is a poll for a condition with a deadline (RDH_WAIT_MS), never a bare sleep.
 * Children get PR_SET_PDEATHSIG and a destructor kills what is left, so an aborted test
 * leaks no process.
 */
#ifndef RDH_H
#define RDH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <jansson.h>

#define RDH_WAIT_MS 20000
/* A proposal not applied after this long is taken as lost and made again (a client's retry
 * interval, not a wait for a condition: many commit round trips even on a loaded machine). */
#define RDH_REPROPOSE_MS 2000
#define RDH_MAX_NODES 5

typedef struct rdh_node {
    char name[16];
    int port;
    char dir[128];  /* store dir */
    char sock[128]; /* control socket */
    char log[128];
    char conf[128]; /* config file (when use_conf) */
    char routes[512];
    bool use_conf;
    const char *extra[8]; /* extra flags, NULL-terminated */
    pid_t pid;
} rdh_node;

typedef struct rdh_cluster {
    char base[64];
    int n;
    rdh_node nodes[RDH_MAX_NODES];
} rdh_cluster;

/* n nodes n1..nN with routes to all (self included, as Go configs do); extra flags for
 * every node (NULL-terminated list, may be NULL).  use_conf: server_name, cluster and
 * jetstream.store_dir go in a config file (-c), else in flags. */
void rdh_cluster_init(rdh_cluster *c, int n, bool use_conf, const char *const *extra);
/* Add one more node whose routes are the existing nodes' (not started). */
rdh_node *rdh_cluster_add(rdh_cluster *c);
void rdh_start(rdh_node *nd);   /* starts and waits until the control socket answers */
void rdh_kill9(rdh_node *nd);
void rdh_stop(rdh_node *nd);    /* SIGTERM, reap (SIGKILL after a deadline) */
void rdh_cluster_stop(rdh_cluster *c);
bool rdh_alive(rdh_node *nd);

/* One request (a JSON object text, no newline) on a fresh connection; the response or NULL. */
json_t *rdh_req(rdh_node *nd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, asserting "ok": true. */
json_t *rdh_req_ok(rdh_node *nd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A long-lived control connection (subscriptions). */
typedef struct rdh_conn {
    int fd;
    char *buf;
    size_t len, cap;
} rdh_conn;
bool rdh_conn_open(rdh_conn *k, rdh_node *nd);
bool rdh_conn_send(rdh_conn *k, const char *line);
json_t *rdh_conn_next(rdh_conn *k, int timeout_ms); /* next JSON line or NULL */
void rdh_conn_close(rdh_conn *k);

/* Wait until every running node (except skip, -1 for none) reports the same leader for the
 * group and that leader says it leads; returns its index. Fails the test on timeout. */
int rdh_wait_leader(rdh_cluster *c, const char *group, int skip);
/* Wait until every running node has applied the same entries (op "log") and at least min of
 * them; returns the entries of node 0 alive (caller decrefs). */
json_t *rdh_wait_logs_equal(rdh_cluster *c, const char *group, size_t min);
/* Propose text (base64-encoded here) through node nd; while the group has no leader
 * ("no leader": nothing accepted) the proposal is repeated.  Acceptance only: a proposal
 * made while leadership changes can still be lost (README, "Control protocol"). */
void rdh_propose(rdh_node *nd, const char *group, const char *text);
void rdh_propose_b64(rdh_node *nd, const char *group, const char *b64);
/* What a client does (README: "clients watch the applies and retry"): propose through nd
 * until nd has applied the entry (op "log"), proposing again each RDH_REPROPOSE_MS.  A
 * proposal that was only slow, not lost, then shows up twice: compare logs through
 * rdh_log_dedup.  Not for managed groups (their "log" is what the client has not
 * acknowledged). */
void rdh_propose_sure(rdh_node *nd, const char *group, const char *text);
void rdh_propose_sure_b64(rdh_node *nd, const char *group, const char *b64);
/* The entries of a log with repeated data (a retried proposal) dropped, first kept. */
json_t *rdh_log_dedup(json_t *log);
char *rdh_b64(const char *text); /* malloc'd */
int64_t rdh_now_ms(void);
void rdh_pause_ms(int ms); /* polling interval only */
/* Print the tail of every node's log (on failures). */
void rdh_dump_logs(rdh_cluster *c);

#endif
