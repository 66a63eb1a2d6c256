/* raftd/rd_process.c: the raftd process: options, the single-threaded epoll loop (timerfd
 * for RAFT time and reconnects, signalfd for shutdown), and the order of work in one loop
 * turn.  rd_process_main is nats-raftd's main (raftd_main.c) and can also run in a child the
 * nats-server supervisor forks (link raftd_proc_dep).
 *
 * Go runs RAFT inside the server (server/raft.go: one goroutine per group, run(), with the
 * transport on the server's routes, started from server/jetstream_cluster.go
 * setupMetaGroup).  Here it is its own process: the meta group "_meta_" over the configured
 * routes, more groups on request over the control socket (rd_ctl.c).
 *
 * A loop turn: wait for events; handle them (frames step groups, control requests propose);
 * then, if the timer fired, tick groups and reconnects (after the input, so a stalled
 * process sees what arrived during the stall before its timers judge the silence); then
 * pump every group with output (ops, fsync, send, publish, advance: rd_group.c); then free
 * closed control clients.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"
#include "raftd/rd.h"

static int setup_timer(struct rd_server *s)
{
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->timer_fd < 0)
        return -1;
    uint32_t t = s->o->tick_ms;
    struct itimerspec its = {
        .it_interval = {.tv_sec = t / 1000, .tv_nsec = (long)(t % 1000) * 1000000},
        .it_value = {.tv_sec = t / 1000, .tv_nsec = (long)(t % 1000) * 1000000},
    };
    if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0)
        return -1;
    static int tag = RD_K_TIMER;
    rd_ep_add(s, s->timer_fd, &tag, EPOLLIN);
    return 0;
}

static int setup_signals(struct rd_server *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    s->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sig_fd < 0)
        return -1;
    static int tag = RD_K_SIGNAL;
    rd_ep_add(s, s->sig_fd, &tag, EPOLLIN);
    return 0;
}

static void on_timer(struct rd_server *s)
{
    uint64_t exp;
    while (read(s->timer_fd, &exp, sizeof(exp)) == sizeof(exp)) {
    }
    uint64_t now = rd_now_ms();
    rd_net_tick(s, now);
    rd_group_start_meta(s, now);
    rd_group_tick_all(s, now);
}

static void on_signal(struct rd_server *s)
{
    struct signalfd_siginfo si;
    while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            nx_notice("SIGHUP: nothing to reload in raftd");
            continue;
        }
        nx_notice("Received signal %u, stopping", si.ssi_signo);
        s->stopping = true;
    }
}

int rd_process_main(int argc, char **argv)
{
    struct rd_opts o;
    if (rd_opts_parse(argc, argv, &o) < 0)
        return 1;
    nx_log_config lc = {.file = o.log_file, .time = true, .pid = true, .debug = o.debug};
    if (nx_log_init(&lc) < 0)
        return 1;
    struct rd_server s;
    memset(&s, 0, sizeof(s));
    s.o = &o;
    s.id = rd_name_id(o.name);
    s.listen_fd = s.ctl_fd = s.timer_fd = s.sig_fd = -1;
    s.start_ms = rd_now_ms();
    rd_name_learn(&s, s.id, o.name);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (s.ep < 0 || setup_timer(&s) < 0 || setup_signals(&s) < 0)
        nx_fatal("raftd setup: %s", strerror(errno));
    char idstr[RF_ID_LEN + 1];
    rd_id_str(s.id, idstr);
    nx_notice("Starting nats-raftd %s: server %s, peer id %s, state in %s/raft", NX_VERSION,
              o.name, idstr, o.store_dir);
    char raftdir[4200];
    snprintf(raftdir, sizeof(raftdir), "%s/raft", o.store_dir);
    int rc = rd_mkdir_p(raftdir);
    if (rc < 0)
        nx_fatal("cannot create %s: %s", raftdir, strerror(-rc));
    if (o.listen_port >= 0 && rd_net_listen(&s) < 0)
        nx_fatal("cannot listen for RAFT peers");
    for (int i = 0; i < o.n_routes; i++)
        rd_net_add_route(&s, o.routes[i], false);
    rd_group_recover_all(&s);
    if (o.control_socket && rd_ctl_listen(&s) < 0)
        nx_fatal("cannot open the control socket");
    rd_net_tick(&s, rd_now_ms());
    rd_group_start_meta(&s, rd_now_ms());
    rd_group_pump_all(&s);
    nx_notice("raftd is ready");

    struct epoll_event evs[64];
    while (!s.stopping) {
        int n = epoll_wait(s.ep, evs, 64, -1);
        if (n < 0 && errno != EINTR)
            nx_fatal("epoll_wait: %s", strerror(errno));
        /* Time moves only after this turn's input is in: after a stall (a loaded machine),
         * the frames and requests that arrived meanwhile are stepped before the tick, so a
         * follower does not campaign against a leader whose heartbeat is already waiting and
         * a leader does not count peers as silent whose responses are already here. */
        bool tick = false;
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            uint32_t e = evs[i].events;
            switch (kind) {
            case RD_K_LISTEN:
                rd_net_on_listen(&s);
                break;
            case RD_K_OUT:
                rd_net_on_out(evs[i].data.ptr, e);
                break;
            case RD_K_IN:
                rd_net_on_in(evs[i].data.ptr, e);
                break;
            case RD_K_CTL_LISTEN:
                rd_ctl_on_listen(&s);
                break;
            case RD_K_CTL:
                rd_ctl_on_client(evs[i].data.ptr, e);
                break;
            case RD_K_TIMER:
                tick = true;
                break;
            case RD_K_SIGNAL:
                on_signal(&s);
                break;
            default:
                break;
            }
        }
        if (tick)
            on_timer(&s);
        rd_group_pump_all(&s);
        rd_ctl_reap(&s);
        rd_net_reap(&s);
    }
    rd_ctl_close_all(&s);
    rd_group_close_all(&s);
    rd_net_close_all(&s);
    close(s.ep);
    nx_notice("raftd exiting");
    rd_opts_free(&o);
    nx_log_close();
    return 0;
}
