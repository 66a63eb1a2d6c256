/* loadgen idle mode: opens many raw connections that each send CONNECT+PING and wait for the
 * PONG, then holds them open, to measure what an idle connection costs the server in memory.
 * One thread and epoll: 10,000 threads would measure the generator, not the server. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

/* Handshakes in progress at once: a burst of 10k SYNs would overflow the listen backlog and
 * turn into one-second SYN retransmits, measuring the kernel rather than the server. */
#define MAX_IN_PROGRESS 256

enum { IC_FREE, IC_CONNECTING, IC_WAIT_PONG, IC_READY, IC_FAILED };

typedef struct {
    int fd;
    unsigned char state;
    unsigned char match;  /* bytes of "PONG\r\n" matched so far, across reads */
} iconn;

/* A "Field:   123 kB" line of a /proc file, in kB; -1 when absent. */
static long proc_field_kb(const char *path, const char *field) {
    char line[256];
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static int proc_ppid(int pid) {
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');  /* the command name may contain spaces */
    int ppid = -1;
    char state;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2) return -1;
    return ppid;
}

/* Memory of a process and all its descendants (a server may be a supervisor with worker
 * processes): the sum of VmRSS, which counts shared pages once per process, and of Pss,
 * which splits them, so the two bracket what the server really holds. */
void lg_proc_tree_mem(int root, long *rss_kb, long *pss_kb) {
    enum { MAXP = 4096 };
    int tree[64], nt = 0;
    tree[nt++] = root;
    static int pids[MAXP], ppids[MAXP];
    int np = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && np < MAXP) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        pids[np] = atoi(e->d_name);
        ppids[np] = proc_ppid(pids[np]);
        np++;
    }
    if (d) closedir(d);
    for (int i = 0; i < nt; i++)  /* breadth first: children of tree[i] join the tree */
        for (int k = 0; k < np && nt < 64; k++)
            if (ppids[k] == tree[i]) tree[nt++] = pids[k];
    *rss_kb = *pss_kb = 0;
    for (int i = 0; i < nt; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/status", tree[i]);
        long r = proc_field_kb(path, "VmRSS");
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", tree[i]);
        long p = proc_field_kb(path, "Pss");
        if (r > 0) *rss_kb += r;
        if (p > 0) *pss_kb += p;
    }
    if (*rss_kb == 0) *rss_kb = *pss_kb = -1;
}

static void raise_nofile(int want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    rlim_t need = (rlim_t)want + 64;
    if (rl.rlim_cur >= need) return;
    rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void fail_conn(iconn *c, int epfd, lg_idle_result *r, const char *why) {
    if (!r->err[0]) snprintf(r->err, sizeof(r->err), "%s", why);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = IC_FAILED;
    r->failed++;
}

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int lg_idle_run(const lg_opts *o, lg_idle_result *r) {
    memset(r, 0, sizeof(*r));
    r->rss_kb = r->pss_kb = -1;
    raise_nofile(o->conns);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(o->host, o->port, &hints, &ai);
    if (gai != 0) {
        snprintf(r->err, sizeof(r->err), "resolve %.100s: %s", o->host, gai_strerror(gai));
        return -1;
    }
    iconn *cs = calloc((size_t)o->conns, sizeof(*cs));
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || epfd < 0) {
        snprintf(r->err, sizeof(r->err), "setup: %s", strerror(errno));
        freeaddrinfo(ai);
        free(cs);
        return -1;
    }
    static const char hello[] =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"loadgen-idle\",\"lang\":\"c\","
        "\"version\":\"loadgen\",\"protocol\":1}\r\nPING\r\n";
    static const char pong[] = "PONG\r\n";
    struct epoll_event evs[1024];
    char buf[8192];
    int opened = 0, in_progress = 0;
    double t0 = lg_now(), deadline = t0 + 120.0;
    while (r->ready + r->failed < o->conns) {
        while (opened < o->conns && in_progress < MAX_IN_PROGRESS) {
            iconn *c = &cs[opened];
            c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            opened++;
            if (c->fd < 0) {
                if (!r->err[0])
                    snprintf(r->err, sizeof(r->err), "socket: %s (ulimit -n?)", strerror(errno));
                c->state = IC_FAILED;
                r->failed++;
                continue;
            }
            if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                char why[200];
                snprintf(why, sizeof(why), "connect: %s", strerror(errno));
                close(c->fd);
                c->fd = -1;
                c->state = IC_FAILED;
                r->failed++;
                if (!r->err[0]) snprintf(r->err, sizeof(r->err), "%s", why);
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)(c - cs)};
            epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
            c->state = IC_CONNECTING;
            in_progress++;
        }
        int n = epoll_wait(epfd, evs, 1024, 100);
        if (n < 0 && errno != EINTR) {
            snprintf(r->err, sizeof(r->err), "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            iconn *c = &cs[evs[i].data.u32];
            if (c->state == IC_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                    char why[200];
                    snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
                    fail_conn(c, epfd, r, why);
                    in_progress--;
                    continue;
                }
                /* 150 bytes into an empty socket buffer: never a short write in practice. */
                if (write(c->fd, hello, sizeof(hello) - 1) != (ssize_t)(sizeof(hello) - 1)) {
                    fail_conn(c, epfd, r, "short write of CONNECT");
                    in_progress--;
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                c->state = IC_WAIT_PONG;
            }
            if (c->state == IC_WAIT_PONG && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                ssize_t got = read(c->fd, buf, sizeof(buf));
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (got <= 0) {
                    fail_conn(c, epfd, r, got == 0 ? "connection closed by the server"
                                                   : "read error");
                    in_progress--;
                    continue;
                }
                const char *e = memmem(buf, (size_t)got, "-ERR", 4);
                if (e) {
                    char why[200];
                    const char *end = memchr(e, '\r', (size_t)(buf + got - e));
                    int el = (int)((end ? end : buf + got) - e);
                    snprintf(why, sizeof(why), "server said %.*s", el < 150 ? el : 150, e);
                    fail_conn(c, epfd, r, why);
                    in_progress--;
                    continue;
                }
                /* "PONG\r\n" has no prefix that is also its suffix, so this simple matcher
                 * is exact. */
                for (ssize_t k = 0; k < got && c->match < 6; k++) {
                    if (buf[k] == pong[c->match]) c->match++;
                    else c->match = buf[k] == 'P' ? 1 : 0;
                }
                if (c->match == 6) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                    c->state = IC_READY;
                    r->ready++;
                    in_progress--;
                }
            }
        }
        if (lg_now() > deadline) {
            snprintf(r->err, sizeof(r->err), "timed out with %d of %d connections ready",
                     r->ready, o->conns);
            break;
        }
    }
    r->connect_s = lg_now() - t0;
    if (!o->json_only) {
        printf("idle: %d connections ready in %.2f s (%d failed)\n", r->ready, r->connect_s,
               r->failed);
        fflush(stdout);
    }
    /* Let the server settle (release handshake buffers) before reading its memory. */
    double settle = o->hold < 1.0 ? o->hold : 1.0;
    sleep_s(settle);
    if (o->rss_pid > 0) lg_proc_tree_mem(o->rss_pid, &r->rss_kb, &r->pss_kb);
    sleep_s(o->hold - settle);
    for (int i = 0; i < o->conns; i++) {
        if (cs[i].fd >= 0 && cs[i].state != IC_FREE) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};
            setsockopt(cs[i].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            close(cs[i].fd);
        }
    }
    close(epfd);
    freeaddrinfo(ai);
    free(cs);
    return r->ready == o->conns ? 0 : -1;
}
