/* The supervisor: the `nats-server` process itself, running a node of N broker workers.
 *
 * Modelled on nginx's master process: it owns what must outlive a worker (the shared node
 * memory, the reserved port, the identity, the pid and ports files), forks one worker per core,
 * restarts a worker that dies (with backoff), forwards signals, and exits when the workers are
 * done.  The Go server's start-up banner and shutdown lines (server/server.go Start, Shutdown,
 * lameDuckMode) are printed here once for the whole node.
 */
#include "broker/supervisor.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/info.h"
#include "broker/monitor.h"
#include "broker/node.h"
#include "broker/node_ctl.h"
#include "broker/query.h"
#include "broker/reload.h"
#include "broker/server.h"
#include "broker/sys_requests.h"
#include "broker/supervisor_raftd.h"
#include "common/log.h"
#include "common/net.h"
#include "storaged/sd_process.h"

#define RESTART_BACKOFF_MIN_MS 100
#define RESTART_BACKOFF_MAX_MS 5000
#define STABLE_AFTER_MS 10000 /* a worker that lived this long resets its backoff */
#define READY_TIMEOUT_MS 10000

typedef struct sup_worker {
    pid_t pid;
    int ctl_fd; /* the worker's control connection (query.h), -1 when it is not running */
    pthread_mutex_t ctl_lock; /* one query at a time per worker; guards ctl_fd changes */
    int64_t started_ms;
    int64_t restart_at_ms; /* 0: not waiting to restart */
    int64_t backoff_ms;
} sup_worker;

typedef struct supervisor {
    br_options *opts;
    br_node node;
    int reserve_fd; /* holds the port so every worker (and restarts) can bind it */
    int port;
    int signal_fd;
    sup_worker workers[BR_MAX_WORKERS]; /* mesh members: the broker workers, then storaged */
    uint32_t nworkers;
    uint32_t nmembers;
    bool with_storaged; /* JetStream: member nworkers is storaged */
    bool stopping; /* shutdown or lame duck: do not restart workers */
    bool ready;
    int ctl_listen_fd; /* node daemon mode (--node_socket): workers join here */
    char *ports_file;
} supervisor;

static int64_t now_ms(void) {
    return br_now_ms();
}

static uint64_t ring_size_for(const br_options *o) {
    /* A ring must hold a whole message record, at most a quarter of it (shm_ring.h). */
    uint64_t need = 4 * ((uint64_t)o->max_payload + 64 * 1024);
    uint64_t size = 8ull << 20;
    while (size < need) size <<= 1;
    return size;
}

static int reserve_port(supervisor *sv) {
    const br_options *o = sv->opts;
    const char *host = o->host && o->host[0] ? o->host : "0.0.0.0";
    char port_str[16];
    snprintf(port_str, sizeof port_str, "%d", o->port == BR_RANDOM_PORT ? 0 : o->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port_str, &hints, &res);
    if (rc != 0) nx_fatal("Error listening on port: %s:%d, \"%s\"", host, o->port, gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        int e = errno;
        freeaddrinfo(res);
        nx_fatal("Error listening on port: %s:%d, \"%s\"", host, o->port, strerror(e));
    }
    freeaddrinfo(res);
    /* Bound but never listening: it receives no connections, it only keeps the port ours. */
    sv->port = nx_socket_port(fd);
    sv->reserve_fd = fd;
    atomic_store(&sv->node.shm->listen_port, sv->port);
    nx_notice("Listening for client connections on %s:%d", host, sv->port);
    return 0;
}

static const char *member_name(const supervisor *sv, uint32_t w, char *buf, size_t cap) {
    if (w == sv->nworkers)
        snprintf(buf, cap, "Storage daemon");
    else
        snprintf(buf, cap, "Broker worker %u", w);
    return buf;
}

static void worker_main(supervisor *sv, uint32_t w, int ctl) {
    /* Never outlive the supervisor, even when stuck: SIGKILL cannot be blocked (SIGTERM goes
     * through the signalfd and waits for the loop). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(0);
    close(sv->reserve_fd);
    close(sv->signal_fd);
    br_monitor_close_in_child(); /* the monitoring port stays the supervisor's */
    for (uint32_t i = 0; i < sv->nmembers; i++) /* the supervisor's ends, ours included */
        if (sv->workers[i].ctl_fd >= 0) close(sv->workers[i].ctl_fd);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    if (w == sv->nworkers) _exit(sd_process_run(sv->opts, &sv->node, w, ctl));
    br_server srv;
    if (br_server_init(&srv, sv->opts, &sv->node, w) < 0) _exit(3);
    srv.control_fd = ctl;
    int rc = br_server_run(&srv);
    br_server_free(&srv);
    _exit(rc);
}

static void set_ctl_fd(supervisor *sv, uint32_t w, int fd) {
    pthread_mutex_lock(&sv->workers[w].ctl_lock);
    if (sv->workers[w].ctl_fd >= 0) close(sv->workers[w].ctl_fd);
    sv->workers[w].ctl_fd = fd;
    pthread_mutex_unlock(&sv->workers[w].ctl_lock);
}

static void start_worker(supervisor *sv, uint32_t w) {
    br_worker_slot *slot = &sv->node.shm->workers[w];
    atomic_store(&slot->listening, 0);
    atomic_fetch_add(&slot->epoch, 1);
    int pair[2];
    char name[64];
    member_name(sv, w, name, sizeof name);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        nx_error("Unable to start %s: %s", name, strerror(errno));
        sv->workers[w].restart_at_ms = now_ms() + RESTART_BACKOFF_MAX_MS;
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        nx_error("Unable to start %s: %s", name, strerror(errno));
        close(pair[0]);
        close(pair[1]);
        sv->workers[w].restart_at_ms = now_ms() + RESTART_BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        close(pair[0]);
        worker_main(sv, w, pair[1]);
    }
    close(pair[1]);
    set_ctl_fd(sv, w, pair[0]);
    atomic_store(&slot->pid, pid);
    sv->workers[w].pid = pid;
    sv->workers[w].started_ms = now_ms();
    sv->workers[w].restart_at_ms = 0;
}

/* Signals the broker workers (storaged too when `all`). */
static void signal_members(supervisor *sv, int sig, bool all) {
    for (uint32_t w = 0; w < (all ? sv->nmembers : sv->nworkers); w++)
        if (sv->workers[w].pid > 0) kill(sv->workers[w].pid, sig);
}

static void signal_workers(supervisor *sv, int sig) {
    signal_members(sv, sig, true);
}

static uint32_t live_workers(const supervisor *sv) {
    uint32_t n = 0;
    for (uint32_t w = 0; w < sv->nworkers; w++) n += sv->workers[w].pid != 0;
    return n;
}

static uint32_t live_members(const supervisor *sv) {
    uint32_t n = 0;
    for (uint32_t w = 0; w < sv->nmembers; w++) n += sv->workers[w].pid != 0;
    return n;
}

static void reap(supervisor *sv) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        if (sup_raftd_reaped(pid, status, sv->stopping, now_ms())) continue;
        for (uint32_t w = 0; w < sv->nmembers; w++) {
            sup_worker *sw = &sv->workers[w];
            if (sw->pid != pid) continue;
            br_worker_slot *slot = &sv->node.shm->workers[w];
            atomic_store(&slot->pid, 0);
            atomic_fetch_add(&slot->epoch, 1); /* peers drop its interest at once */
            atomic_store(&slot->num_clients, 0); /* its connections died with it */
            sw->pid = 0;
            set_ctl_fd(sv, w, -1);
            if (sv->stopping) break; /* shutting down or lame duck: workers are meant to exit */
            int64_t lived = now_ms() - sw->started_ms;
            if (lived > STABLE_AFTER_MS) sw->backoff_ms = 0;
            sw->backoff_ms = sw->backoff_ms ? sw->backoff_ms * 2 : RESTART_BACKOFF_MIN_MS;
            if (sw->backoff_ms > RESTART_BACKOFF_MAX_MS) sw->backoff_ms = RESTART_BACKOFF_MAX_MS;
            char name[64];
            member_name(sv, w, name, sizeof name);
            if (WIFSIGNALED(status))
                nx_error("%s (pid %d) killed by signal %d; restarting in %lldms", name, pid,
                         WTERMSIG(status), (long long)sw->backoff_ms);
            else
                nx_error("%s (pid %d) exited with status %d; restarting in %lldms", name, pid,
                         WEXITSTATUS(status), (long long)sw->backoff_ms);
            sw->restart_at_ms = now_ms() + sw->backoff_ms;
            break;
        }
    }
}

static void write_pid_file(const br_options *o) {
    if (!o->pid_file) return;
    FILE *f = fopen(o->pid_file, "w");
    if (!f) nx_fatal("Could not write pidfile: %s", strerror(errno));
    fprintf(f, "%d", (int)getpid());
    fclose(f);
}

static bool wait_ready(supervisor *sv) {
    int64_t deadline = now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        uint32_t ready = 0;
        for (uint32_t w = 0; w < sv->nmembers; w++)
            ready += atomic_load(&sv->node.shm->workers[w].listening) != 0;
        if (ready == sv->nmembers) return true;
        if (now_ms() > deadline || live_members(sv) < sv->nmembers) return false;
        struct timespec ts = {0, 2 * 1000 * 1000}; /* start-up only: poll the workers' flags */
        nanosleep(&ts, NULL);
        reap(sv);
    }
}

static int setup_signals(supervisor *sv) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
    signal(SIGPIPE, SIG_IGN);
    sv->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return sv->signal_fd < 0 ? -errno : 0;
}

static void apply_logging(const br_options *o) {
    nx_log_config lc = {.file = o->log_file, .time = o->logtime, .utc = o->logtime_utc,
                        .pid = true, .debug = o->debug, .trace = o->trace};
    if (nx_log_init(&lc) < 0) nx_error("Unable to open log file %s", o->log_file);
}

/* Go Server.Reload: check the new options against the running ones; apply, or change nothing
 * and say why.  Workers then reload the same file themselves (server.c). */
static void reload(supervisor *sv) {
    br_options next;
    char *err = NULL;
    int rc = br_options_load(&next, &err);
    if (rc == 0) rc = br_reload_check(sv->opts, &next, &err);
    if (rc == 0 && next.tls) { /* certificates must load before any worker switches to them */
        char msg[512];
        SSL_CTX *ctx = br_tls_ctx_new(&next.tls_cfg, msg, sizeof msg);
        if (ctx)
            SSL_CTX_free(ctx);
        else
            rc = -1, err = strdup(msg);
    }
    if (rc < 0) {
        nx_error("Failed to reload server configuration: %s", err ? err : "invalid options");
        free(err);
        br_options_free(&next);
        return;
    }
    apply_logging(&next);
    br_monitor_opts_write_lock(); /* the monitoring threads read the options */
    br_options_swap(sv->opts, &next);
    br_options_free(&next);
    br_monitor_opts_write_unlock();
    signal_workers(sv, SIGHUP);
    nx_notice("Reloaded server configuration");
}

static void handle_signal(supervisor *sv, int sig) {
    switch (sig) {
    case SIGCHLD: reap(sv); break;
    case SIGINT:
    case SIGTERM:
    case SIGQUIT:
        nx_debug("Trapped \"%s\" signal", strsignal(sig));
        if (!sv->stopping) nx_notice("Initiating Shutdown...");
        sv->stopping = true;
        signal_workers(sv, SIGTERM);
        sup_raftd_signal(SIGTERM);
        break;
    case SIGUSR2:
        if (sv->stopping) break;
        nx_notice("Entering lame duck mode, stop accepting new clients");
        sv->stopping = true;
        signal_members(sv, SIGUSR2, false); /* storaged stops once the workers are gone */
        break;
    case SIGUSR1:
        nx_log_reopen();
        nx_notice("File log re-opened");
        signal_workers(sv, SIGUSR1);
        break;
    case SIGHUP: reload(sv); break;
    default: break;
    }
}

static void log_banner(const supervisor *sv) {
    const br_node_shm *shm = sv->node.shm;
    nx_notice("Starting nats-server");
    nx_notice("  Version:  %s", BR_GO_VERSION);
    nx_notice("  Git:      [not set]");
    nx_notice("  Name:     %s", shm->server_name);
    nx_notice("  ID:       %s", shm->server_id);
    if (sv->opts->config_file) nx_notice("Using configuration file: %s", sv->opts->config_file);
    br_auth *a = NULL;
    char err[256];
    if (br_auth_new(&sv->opts->auth, &a, err, sizeof err) == 0) {
        if (br_auth_has_plaintext_passwords(a))
            nx_warn("Plaintext passwords detected, use nkeys or bcrypt");
        br_auth_free(a);
    }
    nx_notice("Starting %u broker worker%s", sv->nworkers, sv->nworkers == 1 ? "" : "s");
    if (sv->with_storaged) nx_notice("Starting JetStream (storage daemon)");
}

static void mark_worker_gone(supervisor *sv, uint32_t w) {
    br_worker_slot *slot = &sv->node.shm->workers[w];
    atomic_store(&slot->pid, 0);
    atomic_fetch_add(&slot->epoch, 1); /* peers drop its interest at once */
    atomic_store(&slot->num_clients, 0);
    atomic_store(&slot->listening, 0);
    sv->workers[w].pid = 0;
}

/* Node daemon mode: a broker@N unit asks to join as worker N. */
static void accept_worker(supervisor *sv) {
    int conn = accept4(sv->ctl_listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) return;
    pid_t pid = 0;
    int w = br_node_ctl_read_hello(conn, &pid);
    if (w == BR_NODE_CTL_STORAGED) w = sv->with_storaged ? (int)sv->nworkers : -1;
    if (w < 0 || (uint32_t)w >= sv->nmembers || sv->workers[w].ctl_fd >= 0 || sv->stopping) {
        nx_error("Refusing join request (index %d)", w);
        close(conn);
        return;
    }
    br_worker_slot *slot = &sv->node.shm->workers[w];
    atomic_store(&slot->listening, 0);
    atomic_fetch_add(&slot->epoch, 1);
    atomic_store(&slot->pid, pid ? pid : -1);
    if (br_node_ctl_send_node(conn, &sv->node) < 0) {
        close(conn);
        mark_worker_gone(sv, (uint32_t)w);
        return;
    }
    sv->workers[w].pid = pid ? pid : -1;
    set_ctl_fd(sv, (uint32_t)w, conn);
    sv->workers[w].started_ms = now_ms();
    char name[64];
    nx_notice("%s (pid %d) joined the node", member_name(sv, (uint32_t)w, name, sizeof name),
              (int)pid);
}

static bool all_listening(const supervisor *sv) {
    for (uint32_t w = 0; w < sv->nmembers; w++)
        if (!atomic_load(&sv->node.shm->workers[w].listening)) return false;
    return true;
}

/* One turn of the supervisor: restarts due, signals, worker connections. */
static void supervise_once(supervisor *sv) {
    int64_t next = 0, now = now_ms();
    if (sv->ctl_listen_fd < 0) {
        for (uint32_t w = 0; w < sv->nmembers; w++) {
            sup_worker *sw = &sv->workers[w];
            if (sw->pid || !sw->restart_at_ms || sv->stopping) continue;
            if (now >= sw->restart_at_ms) {
                if (w == sv->nworkers)
                    nx_notice("Restarting the storage daemon");
                else
                    nx_notice("Restarting broker worker %u", w);
                start_worker(sv, w);
            } else if (!next || sw->restart_at_ms < next) {
                next = sw->restart_at_ms;
            }
        }
    }
    int64_t rd_next = sup_raftd_tick(now, sv->stopping);
    if (rd_next && (!next || rd_next < next)) next = rd_next;
    struct pollfd pfd[2 + BR_MAX_WORKERS];
    uint32_t who[2 + BR_MAX_WORKERS];
    nfds_t n = 0;
    pfd[n++] = (struct pollfd){.fd = sv->signal_fd, .events = POLLIN};
    if (sv->ctl_listen_fd >= 0) {
        pfd[n++] = (struct pollfd){.fd = sv->ctl_listen_fd, .events = POLLIN};
        for (uint32_t w = 0; w < sv->nmembers; w++) {
            if (sv->workers[w].ctl_fd < 0) continue;
            who[n] = w;
            /* Only hang-ups: the data on this connection belongs to queries (query.h). */
            pfd[n++] = (struct pollfd){.fd = sv->workers[w].ctl_fd, .events = POLLRDHUP};
        }
    }
    int timeout = next ? (int)(next - now > 0 ? next - now : 0) : sv->ready ? 1000 : 50;
    if (poll(pfd, n, timeout) > 0) {
        if (pfd[0].revents) {
            struct signalfd_siginfo si;
            while (read(sv->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
                handle_signal(sv, (int)si.ssi_signo);
        }
        if (sv->ctl_listen_fd >= 0) {
            if (pfd[1].revents & POLLIN) accept_worker(sv);
            for (nfds_t i = 2; i < n; i++) {
                if (!(pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
                uint32_t w = who[i];
                set_ctl_fd(sv, w, -1);
                mark_worker_gone(sv, w); /* before the log line: peers drop it at once */
                char name[64];
                nx_notice("%s left the node", member_name(sv, w, name, sizeof name));
            }
        }
    }
    if (sv->ctl_listen_fd < 0) reap(sv);
    if (!sv->ready && all_listening(sv)) {
        sv->ready = true;
        nx_notice("Server is ready");
    }
}

static supervisor *g_sv; /* the process's supervisor, for the monitoring thread */

int br_supervisor_query(uint32_t w, uint32_t type, const char *args, size_t args_len,
                        int timeout_ms, char **out, size_t *out_len) {
    supervisor *sv = g_sv;
    if (!sv || w >= sv->nmembers) return -ENOENT;
    pthread_mutex_lock(&sv->workers[w].ctl_lock);
    int rc = br_query_call(sv->workers[w].ctl_fd, type, args, args_len, timeout_ms, out, out_len);
    pthread_mutex_unlock(&sv->workers[w].ctl_lock);
    return rc;
}

const br_node *br_supervisor_node(void) {
    return g_sv ? &g_sv->node : NULL;
}

int br_supervisor_run(br_options *opts) {
    static supervisor sv; /* static: the monitoring thread may look at it until exit */
    sv = (supervisor){.opts = opts, .reserve_fd = -1, .signal_fd = -1, .ctl_listen_fd = -1};
    for (uint32_t w = 0; w < BR_MAX_WORKERS; w++) {
        sv.workers[w].ctl_fd = -1;
        pthread_mutex_init(&sv.workers[w].ctl_lock, NULL);
    }
    g_sv = &sv;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    sv.nworkers = opts->workers > 0 ? (uint32_t)opts->workers : (uint32_t)(ncpu > 0 ? ncpu : 1);
    sv.with_storaged = opts->jetstream;
    if (sv.nworkers > BR_MAX_WORKERS - 1) sv.nworkers = BR_MAX_WORKERS - 1;
    sv.nmembers = sv.nworkers + (sv.with_storaged ? 1 : 0);
    int rc = br_node_create(&sv.node, sv.nworkers, sv.with_storaged ? 1 : 0, ring_size_for(opts));
    if (rc < 0) nx_fatal("Unable to create the node's shared memory: %s", strerror(-rc));
    br_node_shm *shm = sv.node.shm;
    if (nx_nkey_new_server_id(shm->server_id) < 0 || nx_nkey_new_curve_key(shm->xkey) < 0)
        nx_fatal("Error creating server keys");
    snprintf(shm->server_name, sizeof shm->server_name, "%s",
             opts->server_name && opts->server_name[0] ? opts->server_name : shm->server_id);
    if (setup_signals(&sv) < 0) nx_fatal("Unable to set up signal handling");

    log_banner(&sv);
    write_pid_file(opts);
    /* Monitoring starts before the client listener, as in Go's Start (its log line comes
     * first); handlers read the client port from shared memory when asked. */
    br_monitor_start(opts);
    reserve_port(&sv);
    if (sup_raftd_setup(opts)) sup_raftd_start(now_ms());
    if (opts->node_socket) {
        /* systemd deployment: broker@N units join through the control socket. */
        sv.ctl_listen_fd = br_node_ctl_listen(opts->node_socket);
        if (sv.ctl_listen_fd < 0)
            nx_fatal("Unable to listen on node socket %s: %s", opts->node_socket,
                     strerror(-sv.ctl_listen_fd));
        nx_notice("Waiting for %u broker workers%s on %s", sv.nworkers,
                  sv.with_storaged ? " and storaged" : "", opts->node_socket);
    } else {
        for (uint32_t w = 0; w < sv.nmembers; w++) start_worker(&sv, w);
        if (!wait_ready(&sv)) nx_fatal("Broker workers failed to start");
    }
    br_monitor_serve(); /* threads only after the fork (see monitor.c) */
    br_sysreq_serve_start(opts); /* $SYS.REQ monitoring requests (sys_serve.c) */
    if (!opts->node_socket) {
        sv.ready = true;
        nx_notice("Server is ready");
    }
    sv.ports_file = br_write_ports_file(opts, sv.port);

    int64_t stop_deadline = 0;
    bool storaged_told = false;
    for (;;) {
        uint32_t live = live_members(&sv);
        if (sv.stopping && live == 0 && !sup_raftd_alive()) break;
        /* Lame duck: storaged serves until the last worker is gone, then stops. */
        if (sv.stopping && !storaged_told && sv.with_storaged && live_workers(&sv) == 0) {
            storaged_told = true;
            if (sv.workers[sv.nworkers].pid > 0) kill(sv.workers[sv.nworkers].pid, SIGTERM);
            sup_raftd_signal(SIGTERM);
        }
        /* Lame duck spreads client closes over its duration; never wait forever though. */
        if (sv.stopping && !stop_deadline)
            stop_deadline = now_ms() + opts->lame_duck_duration_ms + 30000;
        if (stop_deadline && now_ms() > stop_deadline) break; /* attached workers ignored us */
        supervise_once(&sv);
    }
    if (sv.ports_file) {
        unlink(sv.ports_file);
        free(sv.ports_file);
    }
    if (opts->node_socket) unlink(opts->node_socket);
    br_sysreq_serve_stop();
    br_monitor_stop(); /* before the node memory and worker connections go away */
    nx_notice("Server Exiting..");
    for (uint32_t w = 0; w < sv.nmembers; w++) set_ctl_fd(&sv, w, -1);
    if (sv.ctl_listen_fd >= 0) close(sv.ctl_listen_fd);
    close(sv.reserve_fd);
    close(sv.signal_fd);
    br_node_destroy(&sv.node);
    return 0;
}

int br_worker_join_run(br_options *opts) {
    br_node node;
    int ctl = br_node_ctl_join(opts->node_socket, (uint32_t)opts->worker_index, &node);
    if (ctl < 0) {
        nx_error("Unable to join the node at %s as worker %d: %s", opts->node_socket,
                 opts->worker_index, strerror(-ctl));
        return 1;
    }
    if ((uint32_t)opts->worker_index >= node.shm->nworkers) {
        close(ctl);
        br_node_destroy(&node);
        return 1;
    }
    br_server srv;
    if (br_server_init(&srv, opts, &node, (uint32_t)opts->worker_index) < 0) return 3;
    srv.control_fd = ctl;
    int rc = br_server_run(&srv);
    br_server_free(&srv);
    close(ctl);
    br_node_destroy(&node);
    return rc;
}
