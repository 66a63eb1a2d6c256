/* The supervisor's raftd: in clustered JetStream mode (JetStream on and a cluster listener),
 * nats-server forks the consensus process (raftd/rd_process.c, the same code as nats-raftd)
 * next to its broker workers and storaged, and restarts it with backoff when it dies.
 *
 * Go runs its RAFT groups inside the server (server/jetstream_cluster.go
 * enableJetStreamClustering, setupMetaGroup) over its routes (server/route.go).  Here raftd
 * listens on the cluster address with its own transport, dials every configured route (its
 * HELLO carries the server name, from which the peer id is Go's getHash, so peer names are
 * learned at connect), runs the meta group `_meta_` with those peers, and serves its control
 * socket at <store_dir>/jetstream/raftd.sock, where storaged subscribes to leader changes
 * (storaged/sd_raft.c).  With --node_socket (the systemd deployment) nats-raftd is its own
 * unit and is not forked here.
 */
#include "broker/supervisor_raftd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/log.h"
#include "raftd/rd.h"

#define RAFTD_BACKOFF_MIN_MS 100
#define RAFTD_BACKOFF_MAX_MS 5000
#define RAFTD_STABLE_AFTER_MS 10000

static struct {
    bool enabled;
    pid_t pid;
    int64_t started_ms, restart_at_ms, backoff_ms;
    char *argv[32];
    int argc;
} g_rd;

static void add_arg(const char *a) {
    if (g_rd.argc + 1 >= (int)(sizeof g_rd.argv / sizeof g_rd.argv[0])) abort();
    g_rd.argv[g_rd.argc] = strdup(a);
    if (!g_rd.argv[g_rd.argc]) abort();
    g_rd.argc++;
}

static void add_pair(const char *flag, const char *v) {
    add_arg(flag);
    add_arg(v);
}

bool sup_raftd_setup(const br_options *o) {
    char sock[4200];
    int rc = br_raftd_socket_path(o, sock, sizeof sock);
    if (rc == 0 || o->node_socket) return false; /* not clustered, or nats-raftd's own unit */
    if (rc < 0) nx_fatal("Can't start JetStream: raftd control socket path %s is too long", sock);
    /* Go enableJetStreamClustering (after the name checks of validateJetStreamOptions). */
    if (!o->routes || !o->routes[0])
        nx_fatal("Can't start JetStream: JetStream cluster requires configured routes or "
                 "solicited leafnode for the system account");
    char host[256], buf[4200];
    int port = 0;
    br_cluster_addr(o, host, sizeof host, &port);
    int64_t mem, store;
    const char *dir;
    br_js_effective(o, &mem, &store, &dir);
    add_arg("nats-raftd");
    add_pair("--name", o->server_name);
    add_pair("--cluster_name", o->cluster_name);
    snprintf(buf, sizeof buf, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port < 0 ? 0 : port);
    add_pair("--cluster_listen", buf);
    add_pair("--routes", o->routes);
    snprintf(buf, sizeof buf, "%s/jetstream", dir);
    add_pair("--store_dir", buf);
    add_pair("--control_socket", sock);
    if (o->log_file) add_pair("--log", o->log_file);
    if (o->debug) add_arg("-D");
    g_rd.argv[g_rd.argc] = NULL;
    g_rd.enabled = true;
    nx_notice("Starting JetStream cluster");
    nx_notice("Cluster name is %s", o->cluster_name);
    nx_notice("Listening for route connections on %s:%d (raftd's RAFT transport)", host, port);
    return true;
}

void sup_raftd_start(int64_t now_ms) {
    if (!g_rd.enabled || g_rd.pid > 0) return;
    pid_t pid = fork();
    if (pid < 0) {
        nx_error("Unable to start raftd: %s", strerror(errno));
        g_rd.restart_at_ms = now_ms + RAFTD_BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        /* Never outlive the supervisor; hold none of its descriptors (the reserved client
         * port, the monitoring listener, the workers' control connections): raftd opens
         * everything it uses itself. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1) _exit(0);
        close_range(3, ~0U, 0);
        prctl(PR_SET_NAME, "nats-raftd");
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        _exit(rd_process_main(g_rd.argc, g_rd.argv));
    }
    g_rd.pid = pid;
    g_rd.started_ms = now_ms;
    g_rd.restart_at_ms = 0;
}

bool sup_raftd_reaped(pid_t pid, int status, bool stopping, int64_t now_ms) {
    if (!g_rd.enabled || pid != g_rd.pid) return false;
    g_rd.pid = 0;
    if (stopping) return true;
    if (now_ms - g_rd.started_ms > RAFTD_STABLE_AFTER_MS) g_rd.backoff_ms = 0;
    g_rd.backoff_ms = g_rd.backoff_ms ? g_rd.backoff_ms * 2 : RAFTD_BACKOFF_MIN_MS;
    if (g_rd.backoff_ms > RAFTD_BACKOFF_MAX_MS) g_rd.backoff_ms = RAFTD_BACKOFF_MAX_MS;
    if (WIFSIGNALED(status))
        nx_error("raftd (pid %d) killed by signal %d; restarting in %lldms", pid,
                 WTERMSIG(status), (long long)g_rd.backoff_ms);
    else
        nx_error("raftd (pid %d) exited with status %d; restarting in %lldms", pid,
                 WEXITSTATUS(status), (long long)g_rd.backoff_ms);
    g_rd.restart_at_ms = now_ms + g_rd.backoff_ms;
    return true;
}

int64_t sup_raftd_tick(int64_t now_ms, bool stopping) {
    if (!g_rd.enabled || g_rd.pid > 0 || !g_rd.restart_at_ms || stopping) return 0;
    if (now_ms < g_rd.restart_at_ms) return g_rd.restart_at_ms;
    nx_notice("Restarting raftd");
    sup_raftd_start(now_ms);
    return g_rd.restart_at_ms; /* 0 unless the fork failed */
}

void sup_raftd_signal(int sig) {
    if (g_rd.pid > 0) kill(g_rd.pid, sig);
}

bool sup_raftd_alive(void) {
    return g_rd.pid > 0;
}
