/* raftd/rd_net.c: the TCP transport between raftd nodes.
 *
 * Go carries RAFT traffic as NATS messages over the cluster routes (server/raft.go sendq,
 * sendRPC, the $NRG.* subscriptions; server/route.go for the connections and the implicit
 * routes learned from peers).  Here: every node dials each configured route (rd_out) and
 * sends all of its frames on that connection; frames arrive on the connections peers dialed
 * to us (rd_in).  So no two nodes race to dedupe a pair of connections.  A dialer sends a
 * HELLO (name, cluster, listen address) and the accepting side answers with its own; a route
 * that turns out to be ourselves is dropped, and a hello from a node we do not dial adds an
 * implicit route back to it (Go's implicit routes).
 *
 * Broadcast messages (to == 0, Go's subject publish) go to every connected peer; a peer that
 * does not run the group drops them.  Per-peer output queues are bounded
 * (--max_queue_bytes): RAFT tolerates loss, so a full queue drops frames instead of growing.
 * A failed connection is retried with exponential backoff (50 ms .. 2 s).
 *
 * Invariant: every received byte goes through rd_frame.c's validating decoders; a malformed
 * frame closes that connection only.
 */
#include "raftd/rd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "raftd/raft_wire.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define READ_CHUNK 65536
#define IMPLICIT_ROUTE_TTL_MS (10 * 60 * 1000)

int rd_net_listen(struct rd_server *s)
{
    struct rd_opts *o = s->o;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *ai;
    char port[16];
    snprintf(port, sizeof(port), "%d", o->listen_port);
    int rc = getaddrinfo(o->listen_host, port, &hints, &ai);
    if (rc) {
        nx_error("cluster listen %s:%d: %s", o->listen_host, o->listen_port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        nx_error("cluster listen %s:%d: %s", o->listen_host, o->listen_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        o->listen_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                        : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    static int tag = RD_K_LISTEN;
    rd_ep_add(s, fd, &tag, EPOLLIN);
    nx_notice("Listening for RAFT peer connections on %s:%d", o->listen_host, o->listen_port);
    return 0;
}

static struct rd_out *out_new(struct rd_server *s, const char *host, int port, bool dynamic)
{
    struct rd_out *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->kind = RD_K_OUT;
    c->srv = s;
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    c->dynamic = dynamic;
    c->fd = -1;
    c->st = RD_OUT_IDLE;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->next = s->outs;
    s->outs = c;
    return c;
}

void rd_net_add_route(struct rd_server *s, const char *url, bool dynamic)
{
    char host[256];
    int port;
    if (rd_parse_hostport(url, host, sizeof(host), &port) < 0 || port <= 0) {
        nx_error("ignoring bad route %s", url);
        return;
    }
    out_new(s, host, port, dynamic);
}

static void out_close(struct rd_out *c, bool retry)
{
    struct rd_server *s = c->srv;
    if (c->fd >= 0) {
        rd_ep_del(s, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    rd_buf_free(&c->wq);
    rd_buf_free(&c->rq);
    if (!retry) {
        c->st = RD_OUT_DEAD;
        return;
    }
    if (c->st == RD_OUT_UP)
        nx_notice("RAFT peer %s (%s:%d) disconnected", c->name, c->host, c->port);
    uint64_t now = rd_now_ms();
    if (!c->down_since_ms)
        c->down_since_ms = now;
    if (c->dynamic && now - c->down_since_ms > IMPLICIT_ROUTE_TTL_MS) {
        /* A server that dialed us once and is gone (removed?): it re-adds itself when it
         * dials again. */
        nx_notice("dropping implicit route to %s (%s:%d)", c->name, c->host, c->port);
        c->st = RD_OUT_DEAD;
        return;
    }
    c->st = RD_OUT_IDLE;
    c->next_try_ms = rd_now_ms() + c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void hello_of(struct rd_server *s, struct rd_hello *h)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", s->o->name);
    snprintf(h->cluster, sizeof(h->cluster), "%s", s->o->cluster_name);
    const char *lh = s->o->listen_host;
    if (strcmp(lh, "0.0.0.0") != 0 && strcmp(lh, "::") != 0 && strcmp(lh, "[::]") != 0)
        snprintf(h->host, sizeof(h->host), "%s", lh);
    h->port = (uint16_t)(s->o->listen_port > 0 ? s->o->listen_port : 0);
}

/* No delay, and a dead peer behind a silent network is noticed within ~30 s (kernel
 * keepalives, unacknowledged data), like Go's route ping interval would. */
static void tune_socket(int fd)
{
    int one = 1, idle = 10, intvl = 5, cnt = 3;
    unsigned int user_timeout = 30000;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

static void out_connected(struct rd_out *c)
{
    tune_socket(c->fd);
    struct rd_hello h;
    hello_of(c->srv, &h);
    if (rd_hello_encode(&h, &c->wq) < 0) {
        out_close(c, true);
        return;
    }
    c->st = RD_OUT_HELLO;
    rd_ep_mod(c->srv, c->fd, c, EPOLLIN | EPOLLOUT);
}

static void out_connect(struct rd_out *c)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    char port[16];
    snprintf(port, sizeof(port), "%d", c->port);
    /* Blocking resolution: route hosts are addresses or local names in practice. */
    int rc = getaddrinfo(c->host, port, &hints, &ai);
    if (rc) {
        nx_debug("route %s:%d: %s", c->host, c->port, gai_strerror(rc));
        out_close(c, true);
        return;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        freeaddrinfo(ai);
        out_close(c, true);
        return;
    }
    rc = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
    int err = rc < 0 ? errno : 0;
    freeaddrinfo(ai);
    rd_ep_add(c->srv, c->fd, c, EPOLLOUT);
    if (rc == 0) {
        out_connected(c);
    } else if (err == EINPROGRESS) {
        c->st = RD_OUT_CONNECTING;
    } else {
        out_close(c, true);
    }
}

static bool out_flush(struct rd_out *c)
{
    while (rd_buf_pending(&c->wq)) {
        ssize_t w = send(c->fd, c->wq.p + c->wq.off, rd_buf_pending(&c->wq), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return true;
        if (w <= 0)
            return false;
        rd_buf_consume(&c->wq, (size_t)w);
    }
    return true;
}

static void out_hello(struct rd_out *c, const struct rd_hello *h)
{
    struct rd_server *s = c->srv;
    if (!strcmp(h->name, s->o->name)) {
        nx_debug("route %s:%d is this server", c->host, c->port);
        c->is_self = true;
        c->resolved = true;
        out_close(c, false);
        return;
    }
    if (h->cluster[0] && s->o->cluster_name[0] && strcmp(h->cluster, s->o->cluster_name) != 0) {
        nx_warn("route %s:%d belongs to cluster %s, not %s", c->host, c->port, h->cluster,
                s->o->cluster_name);
        out_close(c, true);
        return;
    }
    snprintf(c->name, sizeof(c->name), "%s", h->name);
    c->id = rd_name_id(h->name);
    c->resolved = true;
    rd_name_learn(s, c->id, c->name);
    /* One outbound connection per peer: a configured route wins over an implicit one. */
    for (struct rd_out *o = s->outs; o; o = o->next) {
        if (o == c || o->st == RD_OUT_DEAD || !o->resolved || strcmp(o->name, c->name) != 0)
            continue;
        if (c->dynamic) {
            out_close(c, false);
            return;
        }
        if (o->dynamic)
            out_close(o, false);
    }
    c->st = RD_OUT_UP;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->down_since_ms = 0;
    nx_notice("RAFT peer %s connected (%s:%d)", c->name, c->host, c->port);
}

void rd_net_on_out(struct rd_out *c, uint32_t events)
{
    if (c->st == RD_OUT_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
            out_close(c, true);
            return;
        }
        out_connected(c);
        return;
    }
    if (c->fd < 0)
        return;
    if (events & EPOLLIN) {
        uint8_t tmp[4096];
        for (;;) {
            ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno == EAGAIN)
                break;
            if (r <= 0) {
                out_close(c, true);
                return;
            }
            if (c->st == RD_OUT_UP)
                continue; /* the accepting side sends nothing after its hello */
            if (rd_buf_put(&c->rq, tmp, (size_t)r) < 0 || rd_buf_pending(&c->rq) > 4096) {
                out_close(c, true);
                return;
            }
            struct rd_frame f;
            size_t used;
            int rc = rd_frame_next(c->rq.p + c->rq.off, rd_buf_pending(&c->rq), &f, &used);
            if (rc == 0)
                continue;
            struct rd_hello h;
            if (rc < 0 || f.kind != RD_FK_HELLO || rd_hello_decode(f.body, f.body_len, &h) < 0) {
                nx_warn("route %s:%d: bad hello", c->host, c->port);
                out_close(c, true);
                return;
            }
            rd_buf_free(&c->rq);
            out_hello(c, &h);
            if (c->st != RD_OUT_UP)
                return;
        }
    }
    if (events & (EPOLLERR | EPOLLHUP)) {
        out_close(c, true);
        return;
    }
    if (!out_flush(c)) {
        out_close(c, true);
        return;
    }
    rd_ep_mod(c->srv, c->fd, c, EPOLLIN | (rd_buf_pending(&c->wq) ? EPOLLOUT : 0));
}

void rd_net_send(struct rd_server *s, const char *group, const struct rf_msg *m)
{
    uint8_t *buf = NULL;
    uint32_t len = 0;
    if (rf_msg_encode(m, &buf, &len) < 0) {
        nx_error("group %s: cannot encode message type %d", group, m->type);
        return;
    }
    bool bcast = rf_id_none(m->to);
    for (struct rd_out *c = s->outs; c; c = c->next) {
        if (c->st != RD_OUT_UP || (!bcast && !rf_id_eq(c->id, m->to)))
            continue;
        size_t before = rd_buf_pending(&c->wq);
        if (before + len + 70 > s->o->max_queue_bytes) {
            if (c->dropped++ % 1000 == 0)
                nx_warn("RAFT peer %s: output queue full, dropping frames", c->name);
            continue;
        }
        if (rd_msg_frame(group, buf, len, &c->wq) < 0)
            continue;
        if (before == 0) { /* try right away; the rest waits for EPOLLOUT */
            if (!out_flush(c))
                out_close(c, true);
            else if (rd_buf_pending(&c->wq))
                rd_ep_mod(s, c->fd, c, EPOLLIN | EPOLLOUT);
        }
    }
    free(buf);
}

void rd_net_tick(struct rd_server *s, uint64_t now)
{
    for (struct rd_out *c = s->outs; c; c = c->next)
        if (c->st == RD_OUT_IDLE && now >= c->next_try_ms)
            out_connect(c);
}

void rd_net_reap(struct rd_server *s)
{
    for (struct rd_out **pp = &s->outs; *pp;) {
        struct rd_out *c = *pp;
        if (c->st == RD_OUT_DEAD && c->dynamic) {
            *pp = c->next;
            free(c);
            continue;
        }
        pp = &c->next;
    }
}

bool rd_net_routes_resolved(struct rd_server *s, int *unresolved)
{
    int n = 0;
    for (struct rd_out *c = s->outs; c; c = c->next)
        if (!c->dynamic && !c->resolved)
            n++;
    *unresolved = n;
    return n == 0;
}

/* ---- inbound ---- */

static void in_free(struct rd_in *c)
{
    rd_ep_del(c->srv, c->fd);
    close(c->fd);
    rd_buf_free(&c->rq);
    rd_buf_free(&c->wq);
    free(c);
}

static void in_close(struct rd_in *c)
{
    for (struct rd_in **pp = &c->srv->ins; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    in_free(c);
}

void rd_net_on_listen(struct rd_server *s)
{
    for (;;) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct rd_in *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            return;
        }
        c->kind = RD_K_IN;
        c->srv = s;
        c->fd = fd;
        tune_socket(fd);
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->addr, sizeof(c->addr));
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->addr,
                      sizeof(c->addr));
        c->next = s->ins;
        s->ins = c;
        rd_ep_add(s, fd, c, EPOLLIN);
    }
}

static int in_hello(struct rd_in *c, const struct rd_hello *h)
{
    struct rd_server *s = c->srv;
    if (h->cluster[0] && s->o->cluster_name[0] && strcmp(h->cluster, s->o->cluster_name) != 0) {
        nx_warn("peer %s from %s belongs to cluster %s", h->name, c->addr, h->cluster);
        return -1;
    }
    c->hello = true;
    snprintf(c->name, sizeof(c->name), "%s", h->name);
    c->id = rd_name_id(h->name);
    struct rd_hello mine;
    hello_of(s, &mine);
    if (rd_hello_encode(&mine, &c->wq) < 0)
        return -1;
    if (!strcmp(h->name, s->o->name) || !h->port)
        return 0;
    rd_name_learn(s, c->id, c->name);
    /* An implicit route back, unless we already dial that peer or that address. */
    const char *host = h->host[0] ? h->host : c->addr;
    for (struct rd_out *o = s->outs; o; o = o->next) {
        if (o->st != RD_OUT_DEAD && o->resolved && !strcmp(o->name, h->name))
            return 0;
        if (o->st != RD_OUT_DEAD && o->port == h->port && !strcmp(o->host, host))
            return 0;
    }
    nx_notice("adding implicit route to %s at %s:%u", h->name, host, h->port);
    out_new(s, host, h->port, true);
    return 0;
}

static int in_frames(struct rd_in *c)
{
    struct rd_server *s = c->srv;
    while (rd_buf_pending(&c->rq)) {
        struct rd_frame f;
        size_t used;
        int rc = rd_frame_next(c->rq.p + c->rq.off, rd_buf_pending(&c->rq), &f, &used);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
        if (!c->hello) {
            struct rd_hello h;
            if (f.kind != RD_FK_HELLO || rd_hello_decode(f.body, f.body_len, &h) < 0 ||
                in_hello(c, &h) < 0)
                return -1;
        } else {
            char group[64];
            struct rf_msg m;
            if (f.kind != RD_FK_MSG || rd_msg_decode(f.body, f.body_len, group, &m) < 0)
                return -1;
            /* Only what is addressed to us, from the peer that said hello. */
            if ((rf_id_none(m.to) || rf_id_eq(m.to, s->id)) && rf_id_eq(m.from, c->id))
                rd_group_step(s, group, &m);
            rf_msg_free(&m);
        }
        rd_buf_consume(&c->rq, used);
    }
    return 0;
}

void rd_net_on_in(struct rd_in *c, uint32_t events)
{
    if (events & EPOLLIN) {
        for (;;) {
            if (rd_buf_reserve(&c->rq, READ_CHUNK) < 0) {
                in_close(c);
                return;
            }
            ssize_t r = recv(c->fd, c->rq.p + c->rq.len, READ_CHUNK, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno == EAGAIN)
                break;
            if (r <= 0) {
                in_close(c);
                return;
            }
            c->rq.len += (size_t)r;
            if (in_frames(c) < 0) {
                nx_warn("RAFT peer %s (%s): malformed frame, closing", c->hello ? c->name : "?",
                        c->addr);
                in_close(c);
                return;
            }
        }
    } else if (events & (EPOLLERR | EPOLLHUP)) {
        in_close(c);
        return;
    }
    while (rd_buf_pending(&c->wq)) {
        ssize_t w = send(c->fd, c->wq.p + c->wq.off, rd_buf_pending(&c->wq), MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            in_close(c);
            return;
        }
        rd_buf_consume(&c->wq, (size_t)w);
    }
    rd_ep_mod(c->srv, c->fd, c, EPOLLIN | (rd_buf_pending(&c->wq) ? EPOLLOUT : 0));
}

void rd_net_close_all(struct rd_server *s)
{
    while (s->ins) {
        struct rd_in *c = s->ins;
        s->ins = c->next;
        in_free(c);
    }
    while (s->outs) {
        struct rd_out *c = s->outs;
        s->outs = c->next;
        out_close(c, false);
        free(c);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}
