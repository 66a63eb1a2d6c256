/* Broker workers behaving as one server: the worker mesh seen from clients.
 *
 * Each test runs the server with --workers 2 (or more) and places connections on known
 * workers: the kernel spreads connections over the workers' SO_REUSEPORT listeners, and
 * worker_of() finds which worker process owns the server side of a connection through /proc
 * (the socket inode in /proc/net/tcp, then the worker's fd table), so tests do not depend on
 * luck.  Our server only: the Go server has no workers.
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#define QUIET "{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}"

static void skip_if_go(void) {
    if (h_server_is_go()) cr_skip_test("broker workers are this server's own design");
}

/* The pids of the server's worker processes (its children). */
static int worker_pids(const h_server *s, pid_t *out, int max) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", s->pid, s->pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    if (fgets(buf, sizeof buf, f)) {
        for (char *tok = strtok(buf, " \n"); tok && n < max; tok = strtok(NULL, " \n"))
            out[n++] = (pid_t)atol(tok);
    }
    fclose(f);
    return n;
}

static unsigned local_port(const h_conn *c) {
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    getsockname(c->fd, (struct sockaddr *)&me, &len);
    return ntohs(me.sin_port);
}

/* Inode of the server-side socket whose peer is the client port, 0 when there is none. */
static unsigned long server_socket_inode(const h_server *s, unsigned my_port) {
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

/* Index (in worker_pids order) of the worker serving c, or -1. */
static int worker_of(const h_server *s, const h_conn *c) {
    pid_t pids[16];
    int n = worker_pids(s, pids, 16);
    char want[64];
    /* The accept may complete a moment after connect(): look until the socket shows up. */
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < deadline; h_pause_ms(5)) {
        unsigned long inode = server_socket_inode(s, local_port(c));
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

/* Closes c and waits until the server has closed its side too (no longer counted). */
static void close_and_wait(h_server *s, h_conn *c) {
    unsigned port = local_port(c);
    h_close(c);
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < deadline; h_pause_ms(5))
        if (server_socket_inode(s, port) == 0) return;
    cr_assert_fail("the server did not close its side of a connection");
}

/* Opens connections until one lands on worker `want`; the others are closed. */
static h_conn *connect_on_worker(h_server *s, int want) {
    for (int attempt = 0; attempt < 200; attempt++) {
        h_conn *c = h_connect_setup(s->port, QUIET);
        h_ping(c); /* the connection is registered with its worker */
        int w = worker_of(s, c);
        cr_assert_neq(w, -1, "could not find the worker of a connection");
        if (w == want) return c;
        close_and_wait(s, c);
    }
    cr_assert_fail("no connection landed on worker %d in 200 attempts", want);
    return NULL;
}

Test(mesh, pub_sub_across_workers) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *sub = connect_on_worker(s, 0);
    h_conn *pub = connect_on_worker(s, 1);
    h_send(sub, "SUB foo 1\r\nSUB bar.* 2\r\n");
    h_ping(sub); /* interest is announced to the other worker before this PONG */
    h_send(pub, "PUB foo 5\r\nhello\r\nPUB bar.baz reply.x 2\r\nhi\r\n");
    h_ping(pub);
    h_expect(sub, "MSG foo 1 5\r\nhello\r\nMSG bar.baz 2 reply.x 2\r\nhi\r\n");
    /* Unsubscribing withdraws the interest: nothing more crosses. */
    h_send(sub, "UNSUB 1\r\n");
    h_ping(sub);
    h_send(pub, "PUB foo 2\r\nno\r\n");
    h_ping(pub);
    h_expect_nothing(sub, 200);
    h_close(sub);
    h_close(pub);
    h_server_stop(s);
}

Test(mesh, order_preserved_across_workers) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *sub = connect_on_worker(s, 0);
    h_conn *pub = connect_on_worker(s, 1);
    h_send(sub, "SUB seq 1\r\n");
    h_ping(sub);
    for (int i = 0; i < 2000; i++) {
        char payload[16];
        int pl = snprintf(payload, sizeof payload, "%d", i);
        h_sendf(pub, "PUB seq %d\r\n%s\r\n", pl, payload);
    }
    h_ping(pub);
    for (int i = 0; i < 2000; i++) {
        char payload[16];
        int pl = snprintf(payload, sizeof payload, "%d", i);
        char expect[64];
        snprintf(expect, sizeof expect, "MSG seq 1 %d\r\n%s\r\n", pl, payload);
        h_expect(sub, expect);
    }
    h_close(sub);
    h_close(pub);
    h_server_stop(s);
}

Test(mesh, queue_group_spanning_workers_gets_each_message_once) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *q[4] = {connect_on_worker(s, 0), connect_on_worker(s, 0), connect_on_worker(s, 1),
                    connect_on_worker(s, 1)};
    for (int i = 0; i < 4; i++) {
        h_send(q[i], "SUB work grp 1\r\n");
        h_ping(q[i]);
    }
    h_conn *pub = connect_on_worker(s, 1);
    const int total = 400;
    for (int i = 0; i < total; i++) h_send(pub, "PUB work 1\r\nx\r\n");
    h_ping(pub);
    /* Count what each member got; together exactly `total`, and both workers took part. */
    int got[4] = {0}, sum = 0;
    int64_t deadline = h_now_ms() + H_TIMEOUT_MS;
    const size_t one_len = strlen("MSG work 1 1\r\nx\r\n");
    while (sum < total && h_now_ms() < deadline) {
        for (int i = 0; i < 4; i++) {
            /* A PING round trip collects whatever reached this member so far. */
            h_send(q[i], "PING\r\n");
            char *m = h_expect_re(q[i], "^(MSG work 1 1\r\nx\r\n)*PONG\r\n");
            int n = (int)((strlen(m) - 6) / one_len);
            free(m);
            got[i] += n;
            sum += n;
        }
    }
    cr_assert_eq(sum, total, "queue group received %d of %d messages", sum, total);
    cr_assert(got[0] + got[1] > 0 && got[2] + got[3] > 0, "both workers should serve the group");
    h_expect_nothing(q[0], 100);
    for (int i = 0; i < 4; i++) h_close(q[i]);
    h_close(pub);
    h_server_stop(s);
}

Test(mesh, request_reply_and_no_responders_across_workers) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *svc = connect_on_worker(s, 0);
    h_conn *req = connect_on_worker(s, 1);
    h_send(svc, "SUB svc 1\r\n");
    h_ping(svc);
    h_send(req, "SUB _INBOX.r 9\r\nPUB svc _INBOX.r 4\r\nping\r\n");
    h_expect(svc, "MSG svc 1 _INBOX.r 4\r\nping\r\n");
    h_send(svc, "PUB _INBOX.r 4\r\npong\r\n");
    h_expect(req, "MSG _INBOX.r 9 4\r\npong\r\n");
    /* Nobody anywhere on the node listens: the requester gets Go's 503 status. */
    h_send(req, "PUB nobody _INBOX.r 0\r\n\r\n");
    h_expect(req, "HMSG _INBOX.r 9 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n");
    h_close(svc);
    h_close(req);
    h_server_stop(s);
}

Test(mesh, max_connections_is_node_wide) {
    skip_if_go();
    h_server *s = h_server_start("max_connections: 3\n", "--workers", "2");
    h_conn *a = connect_on_worker(s, 0);
    h_conn *b = connect_on_worker(s, 1);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_ping(c);
    /* One connection on each worker plus a third: the fourth is over the node's limit. */
    h_conn *d = h_connect(s->port);
    free(h_expect_re(d, "^INFO \\{[^\r]*\\} \r\n"));
    h_expect(d, "-ERR 'maximum connections exceeded'\r\n");
    h_expect_closed(d);
    h_close(d);
    h_close(c);
    h_close(a);
    h_close(b);
    h_server_stop(s);
}

Test(mesh, killed_worker_is_restarted_and_the_node_keeps_serving) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *sub = connect_on_worker(s, 0);
    h_send(sub, "SUB foo 1\r\n");
    h_ping(sub);
    pid_t pids[4];
    cr_assert_eq(worker_pids(s, pids, 4), 2);
    kill(pids[1], SIGKILL); /* a crash of worker 1: only its clients are affected */
    cr_assert(h_server_wait_log(s, "restarting in", H_TIMEOUT_MS));
    /* Wait for the replacement to listen, then publish from it to the survivor's client. */
    h_conn *pub = NULL;
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; !pub && h_now_ms() < deadline;) {
        pid_t now[4];
        if (worker_pids(s, now, 4) == 2 && now[0] != pids[1] && now[1] != pids[1])
            pub = connect_on_worker(s, 1);
        else
            h_pause_ms(10);
    }
    cr_assert_not_null(pub, "worker 1 was not restarted");
    /* The new worker learns the survivor's interest from its dump; the first publish may race
     * with that, so publish until the subscriber sees one (bounded). */
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        h_send(pub, "PUB foo 2\r\nok\r\n");
        h_ping(pub);
        h_send(sub, "PING\r\n");
        char *m = h_expect_re(sub, "^(MSG foo 1 2\r\nok\r\n)*PONG\r\n");
        seen = strlen(m) > 6;
        free(m);
    }
    cr_assert(seen, "the restarted worker never delivered to the surviving worker's client");
    h_close(sub);
    h_close(pub);
    h_server_stop(s);
}

/* The systemd deployment: a node daemon plus workers started on their own (as the
 * nats-broker@N units do) serve clients exactly like `nats-server` with forked workers. */
static pid_t spawn_worker(h_server *s, const char *sock, int index) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char port[16], idx[16];
        snprintf(port, sizeof port, "%d", s->port);
        snprintf(idx, sizeof idx, "%d", index);
        execl(getenv("NATS_SERVER_BIN"), "nats-server", "-a", "127.0.0.1", "-p", port,
              "--node_socket", sock, "--worker", idx, (char *)NULL);
        _exit(127);
    }
    return pid;
}

Test(mesh, node_daemon_with_separately_started_workers) {
    skip_if_go();
    char sock[128];
    snprintf(sock, sizeof sock, "/tmp/nx-node-%d.sock", (int)getpid());
    h_server *s = h_server_start(NULL, "--workers", "2", "--node_socket", sock);
    pid_t w0 = spawn_worker(s, sock, 0), w1 = spawn_worker(s, sock, 1);
    cr_assert(h_server_wait_log(s, "Server is ready", H_TIMEOUT_MS));
    h_conn *a = h_connect_setup(s->port, QUIET);
    h_conn *b = h_connect_setup(s->port, QUIET);
    h_send(a, "SUB foo 1\r\n");
    h_ping(a);
    h_send(b, "SUB foo 2\r\n");
    h_ping(b);
    h_send(b, "PUB foo 2\r\nhi\r\n");
    h_expect(a, "MSG foo 1 2\r\nhi\r\n");
    h_expect(b, "MSG foo 2 2\r\nhi\r\n");
    /* A worker that dies leaves the node; one started again with the same index rejoins. */
    kill(w1, SIGKILL);
    waitpid(w1, NULL, 0);
    cr_assert(h_server_wait_log(s, "Broker worker 1 left the node", H_TIMEOUT_MS));
    w1 = spawn_worker(s, sock, 1);
    int64_t deadline = h_now_ms() + H_TIMEOUT_MS;
    char *log = NULL;
    bool rejoined = false;
    while (!rejoined && h_now_ms() < deadline) {
        free(log);
        log = h_server_log(s);
        char *first = strstr(log, "Broker worker 1 (pid");
        rejoined = first && strstr(first + 1, "Broker worker 1 (pid");
        if (!rejoined) h_pause_ms(10);
    }
    free(log);
    cr_assert(rejoined, "worker 1 did not rejoin the node");
    h_close(a);
    h_close(b);
    h_server_stop(s); /* the workers see their node go away and exit */
    cr_assert_eq(waitpid(w0, NULL, 0), w0);
    cr_assert_eq(waitpid(w1, NULL, 0), w1);
}

/* kill -9 of a worker under load: clients of the other worker see every message exactly once
 * and in order; the killed worker is restarted and a client it served reconnects. */
Test(mesh, worker_killed_under_load_leaves_other_clients_untouched) {
    skip_if_go();
    h_server *s = h_server_start(NULL, "--workers", "2");
    h_conn *sub = connect_on_worker(s, 0);
    h_conn *pub = connect_on_worker(s, 0);
    h_conn *victim = connect_on_worker(s, 1);
    h_send(sub, "SUB load 1\r\n");
    h_ping(sub);
    h_send(victim, "SUB load 1\r\n"); /* worker 1 has interest too: the mesh is busy */
    h_ping(victim);
    pid_t pids[4];
    cr_assert_eq(worker_pids(s, pids, 4), 2);
    const int total = 20000;
    char expect[64];
    int next = 0;
    for (int i = 0; i < total; i++) {
        char payload[16];
        int pl = snprintf(payload, sizeof payload, "%d", i);
        h_sendf(pub, "PUB load %d\r\n%s\r\n", pl, payload);
        if (i == total / 2) kill(pids[1], SIGKILL);
        if (i % 1000 == 999) { /* read as we go so nothing backs up */
            h_ping(pub);
            for (; next <= i; next++) {
                int n = snprintf(payload, sizeof payload, "%d", next);
                snprintf(expect, sizeof expect, "MSG load 1 %d\r\n%s\r\n", n, payload);
                h_expect(sub, expect);
            }
        }
    }
    h_ping(sub);
    h_expect_nothing(sub, 100); /* no duplicates */
    /* The victim's connection died with its worker (whatever it had received before)... */
    bool closed = false;
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; !closed && h_now_ms() < deadline;) {
        struct pollfd p = {.fd = victim->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        char buf[65536];
        ssize_t n = read(victim->fd, buf, sizeof buf);
        closed = n <= 0;
    }
    cr_assert(closed, "the killed worker's client was not disconnected");
    h_close(victim);
    /* ...and the worker comes back: a new client reaches it and is served. */
    cr_assert(h_server_wait_log(s, "Restarting broker worker 1", H_TIMEOUT_MS));
    h_conn *again = connect_on_worker(s, 1);
    h_send(again, "SUB back 1\r\n");
    h_ping(again);
    h_send(pub, "PUB back 2\r\nok\r\n");
    h_ping(pub);
    h_expect(again, "MSG back 1 2\r\nok\r\n");
    h_close(again);
    h_close(sub);
    h_close(pub);
    h_server_stop(s);
}

/* A queue group split over workers whose members on one worker are denied the subject: the
 * message moves on through the mesh to a member that may take it, as one Go server tries
 * every member (processMsgResults skipping checkDenySub members). */
Test(mesh, queue_member_denied_by_permissions_passes_to_another_worker) {
    skip_if_go();
    h_server *s = h_server_start(
        "authorization { users = [\n"
        "  {user: a, password: a, permissions: {subscribe: {allow: \">\", deny: \"work.secret\"}}}\n"
        "  {user: b, password: b}\n"
        "]}\n",
        "--workers", "2");
    const char *a_connect = "{\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}";
    const char *b_connect = "{\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}";
    h_conn *denied = NULL, *allowed = NULL, *pub = NULL;
    /* a's (denied) member on worker 1; b's member and the publisher on worker 0.  When the
     * publisher's worker picks worker 1 for the group, only a hand-back can deliver. */
    for (int i = 0; i < 200 && !denied; i++) {
        h_conn *c = h_connect_setup(s->port, a_connect);
        h_ping(c);
        if (worker_of(s, c) == 1) denied = c; else close_and_wait(s, c);
    }
    for (int i = 0; i < 200 && !allowed; i++) {
        h_conn *c = h_connect_setup(s->port, b_connect);
        h_ping(c);
        if (worker_of(s, c) == 0) allowed = c; else close_and_wait(s, c);
    }
    for (int i = 0; i < 200 && !pub; i++) {
        h_conn *c = h_connect_setup(s->port, b_connect);
        h_ping(c);
        if (worker_of(s, c) == 0) pub = c; else close_and_wait(s, c);
    }
    cr_assert(denied && allowed && pub, "could not place the connections");
    h_send(denied, "SUB work.* grp 1\r\n");
    h_ping(denied);
    h_send(allowed, "SUB work.* grp 1\r\n");
    h_ping(allowed);
    for (int i = 0; i < 50; i++) h_send(pub, "PUB work.secret 1\r\nx\r\n");
    h_ping(pub);
    h_send(allowed, "PING\r\n");
    char *m = h_expect_re(allowed, "^(MSG work.secret 1 1\r\nx\r\n)*PONG\r\n");
    size_t got = (strlen(m) - 6) / strlen("MSG work.secret 1 1\r\nx\r\n");
    free(m);
    cr_assert_eq(got, 50, "the allowed member got %zu of 50", got);
    h_send(denied, "PING\r\n");
    h_expect(denied, "PONG\r\n");
    h_close(denied);
    h_close(allowed);
    h_close(pub);
    h_server_stop(s);
}
