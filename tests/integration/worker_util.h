/* Placing raw connections on a known broker worker (the technique of test_mesh.c, shared):
 * the kernel spreads connections over the workers' SO_REUSEPORT listeners; worker_of() finds
 * the worker process that owns the server side of a connection through /proc (the socket
 * inode in /proc/net/tcp, then the worker's fd table).  Our server only.
 */
#ifndef NX_IT_WORKER_UTIL_H
#define NX_IT_WORKER_UTIL_H

#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/harness.h"

static inline int wu_worker_pids(const h_server *s, pid_t *out, int max) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", s->pid, s->pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    if (fgets(buf, sizeof buf, f))
        for (char *tok = strtok(buf, " \n"); tok && n < max; tok = strtok(NULL, " \n"))
            out[n++] = (pid_t)atol(tok);
    fclose(f);
    return n;
}

static inline unsigned wu_local_port(const h_conn *c) {
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    getsockname(c->fd, (struct sockaddr *)&me, &len);
    return ntohs(me.sin_port);
}

static inline unsigned long wu_server_inode(const h_server *s, unsigned my_port) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return 0;
    char line[512];
    unsigned long found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned lport, rport;
        unsigned long inode;
        char la[16], ra[16];
        if (sscanf(line, " %*d: %8[0-9A-F]:%X %8[0-9A-F]:%X %*X %*s %*s %*s %*d %*d %lu", la,
                   &lport, ra, &rport, &inode) == 5 &&
            lport == (unsigned)s->port && rport == my_port && inode)
            found = inode;
    }
    fclose(f);
    return found;
}

/* Index (in child pid order) of the worker serving c, or -1. */
static inline int wu_worker_of(const h_server *s, const h_conn *c) {
    pid_t pids[16];
    int n = wu_worker_pids(s, pids, 16);
    char want[64];
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < deadline; h_pause_ms(5)) {
        unsigned long inode = wu_server_inode(s, wu_local_port(c));
        if (!inode) continue;
        snprintf(want, sizeof want, "socket:[%lu]", inode);
        for (int w = 0; w < n; w++) {
            char dir[64];
            snprintf(dir, sizeof dir, "/proc/%d/fd", pids[w]);
            DIR *d = opendir(dir);
            if (!d) continue;
            struct dirent *e;
            while ((e = readdir(d))) {
                char link[320], target[128];
                snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
                ssize_t l = readlink(link, target, sizeof target - 1);
                if (l <= 0) continue;
                target[l] = '\0';
                if (strcmp(target, want) == 0) {
                    closedir(d);
                    return w;
                }
            }
            closedir(d);
        }
    }
    return -1;
}

/* Opens connections (CONNECT connect_json, then PING/PONG) until one lands on worker `want`
 * (any worker when want < 0); the others are closed. */
static inline h_conn *wu_connect_on_worker(h_server *s, int want, const char *connect_json) {
    for (int attempt = 0; attempt < 200; attempt++) {
        h_conn *c = h_connect_setup(s->port, connect_json);
        h_ping(c);
        if (want < 0) return c;
        int w = wu_worker_of(s, c);
        cr_assert_neq(w, -1, "could not find the worker of a connection");
        if (w == want) return c;
        h_close(c);
    }
    cr_assert_fail("no connection landed on worker %d in 200 attempts", want);
    return NULL;
}

#endif
