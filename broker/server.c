/* The broker's io_uring loop; see server.h.
 *
 * Ports the single-node parts of Go nats-server v2.14.5 server/server.go: Start (banner,
 * listener, pid and ports files), the accept loop (createClient, max connections), INFO,
 * lameDuckMode and Shutdown.  The loop shape follows liburing's examples/echo-server.c:
 * multishot accept, multishot recv from a provided buffer ring, CQEs handled in batches, and the
 * sends of a turn submitted together.
 */
#include "broker/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/deliver.h"
#include "broker/info.h"
#include "broker/monitor_int.h"
#include "broker/query.h"
#include "broker/reload.h"
#include "common/log.h"
#include "common/net.h"

#define RING_ENTRIES 4096
#define RECV_BUF_COUNT 256 /* power of two */
#define RECV_BUF_SIZE (32 * 1024)
#define RECV_BGID 0
#define TICK_MS 20
#define SHUTDOWN_WAIT_MS 2000

enum op_tag {
    TAG_ACCEPT = 1,
    TAG_RECV,
    TAG_SEND,
    TAG_TICK,
    TAG_SIGNAL,
    TAG_CANCEL,
    TAG_DOORBELL,
    TAG_CONTROL,
    TAG_CONTROL_SEND,
};

/* A pointer's 3 low bits carry tags below 8; tags from 8 up are the server's own operations
 * (nothing to point to) and travel alone, as small numbers no pointer can equal. */
#define TAG_ALONE_MAX 64
static uint64_t pack(void *p, enum op_tag t) {
    if (t >= 8) return (uint64_t)t;
    return (uint64_t)(uintptr_t)p | (uint64_t)t;
}

int64_t br_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t br_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct io_uring_sqe *get_sqe(br_server *s) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) { /* submission queue full: push what we have and retry */
        io_uring_submit(&s->ring);
        sqe = io_uring_get_sqe(&s->ring);
    }
    if (!sqe) nx_fatal("io_uring submission queue exhausted");
    return sqe;
}

/* ---- deadline heap ----------------------------------------------------------------------- */

static int64_t heap_key(br_client *c) {
    return br_client_next_deadline(c);
}

static void heap_swap(br_server *s, uint32_t i, uint32_t j) {
    br_client *t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;
    s->heap[i]->heap_idx = i;
    s->heap[j]->heap_idx = j;
}

static void heap_fix(br_server *s, uint32_t i) {
    while (i > 0) { /* up */
        uint32_t p = (i - 1) / 2;
        if (heap_key(s->heap[p]) <= heap_key(s->heap[i])) break;
        heap_swap(s, i, p);
        i = p;
    }
    for (;;) { /* down */
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_len && heap_key(s->heap[l]) < heap_key(s->heap[m])) m = l;
        if (r < s->heap_len && heap_key(s->heap[r]) < heap_key(s->heap[m])) m = r;
        if (m == i) break;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_remove(br_server *s, br_client *c) {
    uint32_t i = c->heap_idx;
    if (i == UINT32_MAX) return;
    c->heap_idx = UINT32_MAX;
    s->heap_len--;
    if (i != s->heap_len) {
        s->heap[i] = s->heap[s->heap_len];
        s->heap[i]->heap_idx = i;
        heap_fix(s, i);
    }
}

void br_server_deadline_changed(br_server *s, br_client *c) {
    int64_t key = heap_key(c);
    if (!key) {
        heap_remove(s, c);
        return;
    }
    if (c->heap_idx == UINT32_MAX) {
        if (s->heap_len == s->heap_cap) {
            uint32_t ncap = s->heap_cap ? s->heap_cap * 2 : 64;
            br_client **nh = realloc(s->heap, ncap * sizeof *nh); // NOLINT(bugprone-sizeof-expression)
            if (!nh) abort();
            s->heap = nh;
            s->heap_cap = ncap;
        }
        c->heap_idx = s->heap_len;
        s->heap[s->heap_len++] = c;
    }
    heap_fix(s, c->heap_idx);
}

/* ---- listener ---------------------------------------------------------------------------- */

static int open_listener(br_server *s) {
    const br_options *o = s->opts;
    const char *host = o->host && o->host[0] ? o->host : "0.0.0.0";
    char port_str[16];
    snprintf(port_str, sizeof port_str, "%d", atomic_load(&s->node->shm->listen_port));
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port_str, &hints, &res);
    if (rc != 0) {
        nx_fatal("Error listening on port: %s:%d, \"%s\"", host, o->port, gai_strerror(rc));
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) nx_fatal("Error listening on port: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Every worker binds the node's port; the kernel spreads new connections over them. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        freeaddrinfo(res);
        nx_fatal("Error listening on port: %s:%d, \"%s\"", host, o->port, strerror(e));
    }
    freeaddrinfo(res);
    s->listen_port = nx_socket_port(fd);
    s->listen_fd = fd;
    nx_debug("Worker %u listening for client connections on %s:%d", s->worker, host,
             s->listen_port);
    return 0;
}

static void arm_accept(br_server *s) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_multishot_accept(sqe, s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_ACCEPT));
    s->accept_armed = true;
}

static void close_listener(br_server *s) {
    if (s->listen_fd < 0) return;
    /* shutdown wakes the armed multishot accept, which then completes without F_MORE. */
    shutdown(s->listen_fd, SHUT_RDWR);
    close(s->listen_fd);
    s->listen_fd = -1;
}

/* ---- connections ------------------------------------------------------------------------- */

static void list_push(br_client **head, br_client *c) {
    c->prev = NULL;
    c->next = *head;
    if (*head) (*head)->prev = c;
    *head = c;
}

static void list_unlink(br_client **head, br_client *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void arm_recv(br_server *s, br_client *c) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = RECV_BGID;
    io_uring_sqe_set_data64(sqe, pack(c, TAG_RECV));
    c->recv_armed = true;
    c->ops_inflight++;
}

void br_server_mark_dirty(br_server *s, br_client *c) {
    if (c->dirty) return;
    c->dirty = true;
    c->dirty_next = s->dirty;
    s->dirty = c;
}

void br_server_client_closed(br_server *s, br_client *c) {
    list_unlink(&s->clients, c);
    s->num_clients--;
    atomic_fetch_sub(&s->node->shm->workers[s->worker].num_clients, 1);
    list_push(&s->zombies, c);
    br_server_deadline_changed(s, c);
    br_server_mark_dirty(s, c); /* the end of the turn flushes or shuts it down */
}

static void on_accept(br_server *s, struct io_uring_cqe *cqe) {
    if (!(cqe->flags & IORING_CQE_F_MORE)) s->accept_armed = false;
    if (cqe->res < 0) {
        if (s->listen_fd >= 0 && cqe->res != -ECANCELED)
            nx_error("Client Accept Error(%s)", strerror(-cqe->res));
        return;
    }
    int fd = cqe->res;
    if (s->state != BR_RUNNING) {
        close(fd);
        return;
    }
    struct sockaddr_storage peer = {0};
    socklen_t plen = sizeof peer;
    getpeername(fd, (struct sockaddr *)&peer, &plen);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as Go's net package does */
    br_client *c = br_client_new(s, fd, &peer);
    if (!c) {
        close(fd);
        return;
    }
    list_push(&s->clients, c);
    s->num_clients++;
    s->stats.total_connections++;
    /* max_connections counts the whole node, every worker's clients. */
    atomic_fetch_add(&s->node->shm->workers[s->worker].num_clients, 1);
    int32_t node_clients = br_node_num_clients(s->node);
    br_client_start(c);
    if (node_clients > s->opts->max_connections) {
        nx_error("%s - maximum connections exceeded", c->log_prefix);
        br_client_send_err(c, "maximum connections exceeded");
        br_client_close(c, BR_CLOSE_MAX_CONNECTIONS);
        return;
    }
    arm_recv(s, c);
}

static void return_buffer(br_server *s, unsigned bid) {
    io_uring_buf_ring_add(s->buf_ring, s->buf_base + (size_t)bid * s->buf_size, s->buf_size,
                          (unsigned short)bid, io_uring_buf_ring_mask(s->buf_count), 0);
    io_uring_buf_ring_advance(s->buf_ring, 1);
}

static void on_recv(br_server *s, br_client *c, struct io_uring_cqe *cqe) {
    bool more = cqe->flags & IORING_CQE_F_MORE;
    if (!more) {
        c->recv_armed = false;
        c->ops_inflight--;
    }
    if (cqe->res > 0) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        if (!c->closing) {
            c->last_in_ms = s->now_ms;
            br_client_on_bytes(c, s->buf_base + (size_t)bid * s->buf_size, (size_t)cqe->res);
        }
        return_buffer(s, bid);
        if (!more && !c->closing) arm_recv(s, c);
        return;
    }
    if (cqe->res == -ENOBUFS) { /* all buffers busy: retry once this turn returned some */
        if (!more && !c->closing && !c->recv_starved) {
            c->recv_starved = true;
            c->starved_next = s->starved;
            s->starved = c;
        }
        return;
    }
    if (c->closing) return;
    if (cqe->res == 0) {
        br_client_close(c, BR_CLOSE_CLIENT);
    } else if (cqe->res != -ECANCELED) {
        nx_debug("%s - Client read error: %s", c->log_prefix, strerror(-cqe->res));
        br_client_close(c, BR_CLOSE_READ_ERROR);
    }
}

static void submit_send(br_server *s, br_client *c, br_outq *q) {
    int n = br_outq_iov(q, c->send_iov, (int)(sizeof c->send_iov / sizeof c->send_iov[0]));
    if (n == 0) return;
    memset(&c->send_msg, 0, sizeof c->send_msg);
    c->send_msg.msg_iov = c->send_iov;
    c->send_msg.msg_iovlen = (size_t)n;
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_sendmsg(sqe, c->fd, &c->send_msg, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, pack(c, TAG_SEND));
    c->send_inflight = true;
    c->send_q = q;
    c->send_started_ms = s->now_ms;
    c->ops_inflight++;
    br_server_deadline_changed(s, c);
}

static void on_send(br_server *s, br_client *c, struct io_uring_cqe *cqe) {
    c->send_inflight = false;
    c->send_started_ms = 0;
    c->ops_inflight--;
    /* Chunks are only ever freed here or when no send is in flight: the kernel reads them. */
    br_outq *q = c->send_q;
    if (cqe->res < 0) {
        br_outq_clear(q);
        if (!c->closing) br_client_close(c, BR_CLOSE_WRITE_ERROR);
        c->flush_close_deadline_ms = 0;
    } else {
        br_outq_consume(q, (size_t)cqe->res);
        if (c->closing && !c->flush_close_deadline_ms) br_outq_clear(q);
    }
    br_server_deadline_changed(s, c);
    br_server_mark_dirty(s, c);
}

static void shut_client(br_server *s, br_client *c) {
    c->fd_shut = true;
    shutdown(c->fd, SHUT_RDWR);
    if (c->recv_armed) { /* make sure the multishot recv ends even if shutdown did not wake it */
        struct io_uring_sqe *sqe = get_sqe(s);
        io_uring_prep_cancel64(sqe, pack(c, TAG_RECV), 0);
        io_uring_sqe_set_data64(sqe, pack(c, TAG_CANCEL));
        c->ops_inflight++;
    }
}

/* End of turn: submit one send per dirty connection, shut down or free closed ones. */
static void flush_dirty(br_server *s) {
    while (s->dirty) {
        br_client *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = false;
        if (c->fd_shut) continue;
        /* A closing connection sends only while it flushes its last words (an -ERR). */
        bool flushing = c->closing && c->flush_close_deadline_ms;
        /* While a send is in flight its queue must not change under the kernel's feet; TLS
         * encryption of `out` into the wire queue only appends, which is safe. */
        br_outq *q = br_client_wire(c);
        if (!c->send_inflight && q->pending && (!c->closing || flushing)) submit_send(s, c, q);
        if (c->closing && (!flushing || (!c->send_inflight && !q->pending && !c->out.pending)))
            shut_client(s, c);
    }
    while (s->starved) {
        br_client *c = s->starved;
        s->starved = c->starved_next;
        c->recv_starved = false;
        if (!c->closing && !c->recv_armed) arm_recv(s, c);
    }
}

static void reap_zombies(br_server *s) {
    br_client *c = s->zombies;
    while (c) {
        br_client *next = c->next;
        if (c->fd_shut && c->ops_inflight == 0 && !c->dirty) {
            list_unlink(&s->zombies, c);
            heap_remove(s, c);
            br_client_free(c);
        }
        c = next;
    }
    while (s->retired_subs) {
        struct br_sub *sub = s->retired_subs;
        s->retired_subs = sub->next_retired;
        free(sub);
    }
}

/* ---- ticks, signals, lame duck, shutdown ------------------------------------------------- */

static void arm_tick(br_server *s) {
    s->tick_ts.tv_sec = 0;
    s->tick_ts.tv_nsec = TICK_MS * 1000000LL;
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_timeout(sqe, &s->tick_ts, 0, 0);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_TICK));
    s->tick_armed = true;
}

static void begin_shutdown(br_server *s) {
    if (s->state == BR_SHUTTING_DOWN) return;
    nx_debug("Worker %u shutting down", s->worker);
    s->state = BR_SHUTTING_DOWN;
    s->shutdown_deadline_ms = s->now_ms + SHUTDOWN_WAIT_MS;
    close_listener(s);
    while (s->clients) {
        br_client_close(s->clients, BR_CLOSE_SERVER_SHUTDOWN);
    }
}

static void enter_lame_duck(br_server *s) {
    if (s->state != BR_RUNNING) return;
    nx_debug("Worker %u entering lame duck mode", s->worker);
    atomic_store(&s->node->shm->lame_duck, 1);
    s->state = BR_LAME_DUCK;
    s->ldm_announced = false;
    close_listener(s);
    atomic_store(&s->node->shm->workers[s->worker].listening, 0);
}

/* Go closes the listener before telling clients (sendLDMToClients): node-wide, that means
 * every worker's listener, so a client told "lame duck" can never reconnect to this node. */
static bool node_stopped_accepting(const br_server *s) {
    for (uint32_t w = 0; w < s->node->shm->nworkers; w++) {
        const br_worker_slot *slot = &s->node->shm->workers[w];
        if (atomic_load(&slot->pid) != 0 && atomic_load(&slot->listening)) return false;
    }
    return true;
}

static void announce_lame_duck(br_server *s) {
    s->ldm_announced = true;
    if (s->num_clients == 0) {
        begin_shutdown(s);
        return;
    }
    int64_t grace = s->opts->lame_duck_grace_ms < 0 ? -s->opts->lame_duck_grace_ms
                                                    : s->opts->lame_duck_grace_ms;
    int64_t dur = s->opts->lame_duck_duration_ms - grace;
    if (dur <= 0) dur = 1000;
    int64_t si = dur / s->num_clients;
    if (si < 1) si = 1;
    if (si > 1000) si = 1000;
    s->ldm_interval_ms = si;
    s->ldm_next_close_ms = s->now_ms + grace;
    /* INFO with ldm:true to every client that understands async INFO (Go sendLDMToClients). */
    for (br_client *c = s->clients; c; c = c->next) {
        if (c->protocol >= 1 && c->first_pong_sent) {
            char info[2048];
            size_t n = br_server_info_line(s, c, false, info, sizeof info);
            br_client_queue(c, info, n);
        }
    }
}

static void lame_duck_tick(br_server *s) {
    if (s->state != BR_LAME_DUCK) return;
    if (!s->ldm_announced) {
        if (node_stopped_accepting(s)) announce_lame_duck(s);
        return;
    }
    if (s->now_ms < s->ldm_next_close_ms) return;
    if (s->clients) {
        br_client *c = s->clients;
        while (c->next) c = c->next; /* oldest first */
        br_client_close(c, BR_CLOSE_SERVER_SHUTDOWN);
        int64_t v = s->ldm_interval_ms / 2 + random() % (s->ldm_interval_ms / 2 + 1);
        s->ldm_next_close_ms = s->now_ms + v;
    }
    if (!s->clients) begin_shutdown(s);
}

static void on_tick(br_server *s) {
    s->tick_armed = false;
    while (s->heap_len) {
        br_client *c = s->heap[0];
        int64_t d = heap_key(c);
        if (!d || d > s->now_ms) break;
        br_client_on_deadline(c, s->now_ms);
        br_server_deadline_changed(s, c);
        if (c->heap_idx == 0 && heap_key(c) <= s->now_ms && heap_key(c)) {
            heap_remove(s, c); /* a deadline that does not move would spin: drop it */
        }
    }
    lame_duck_tick(s);
    br_account_expire_replies(s, s->now_ms);
}

/* Applies the configuration file as it is now (the supervisor has checked it already):
 * logging, limits, authorization (clients that lost access are disconnected), TLS for new
 * connections.  Go: server/reload.go option Apply methods. */
static void reload_worker(br_server *s) {
    br_options next;
    char *err = NULL;
    if (br_options_load(&next, &err) < 0 || br_reload_check(s->opts, &next, &err) < 0) {
        nx_debug("Worker %u: reload refused: %s", s->worker, err ? err : "");
        free(err);
        br_options_free(&next);
        return;
    }
    nx_log_config lc = {.file = next.log_file, .time = next.logtime, .utc = next.logtime_utc,
                        .pid = true, .debug = next.debug, .trace = next.trace};
    nx_log_init(&lc);
    SSL_CTX *ctx = NULL;
    if (next.tls) {
        char msg[512];
        ctx = br_tls_ctx_new(&next.tls_cfg, msg, sizeof msg);
        if (!ctx) {
            nx_error("Worker %u: TLS reload failed, keeping the previous certificates: %s",
                     s->worker, msg);
            br_tls_config tmp = next.tls_cfg; /* keep the working TLS settings */
            next.tls_cfg = s->opts->tls_cfg;
            s->opts->tls_cfg = tmp;
            next.tls = s->opts->tls;
        }
    }
    if (ctx || !next.tls) { /* connections already up keep their own reference */
        if (s->tls_ctx) SSL_CTX_free(s->tls_ctx);
        s->tls_ctx = ctx;
    }
    char aerr[1024];
    br_auth *auth = NULL;
    if (br_auth_new(&next.auth, &auth, aerr, sizeof aerr) < 0) {
        nx_error("Worker %u: authorization reload failed: %s", s->worker, aerr);
        br_options_free(&next);
        return;
    }
    br_options_swap(s->opts, &next);
    br_options_free(&next);
    br_auth_free(s->auth); /* connections hold references to their permissions */
    s->auth = auth;
    s->auth_required = br_auth_required(s->auth);
    br_accounts_reload(s);
    for (br_client *c = s->clients, *n; c; c = n) {
        n = c->next; /* reauthorize may close (unlink) c */
        c->parser.max_payload = (uint32_t)s->opts->max_payload;
        c->parser.max_control_line = (uint32_t)s->opts->max_control_line;
        br_client_reauthorize(c);
    }
    nx_debug("Worker %u: configuration reloaded", s->worker); /* tests wait for every worker */
}

static void arm_signal_read(br_server *s) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_read(sqe, s->signal_fd, s->signal_buf, sizeof(struct signalfd_siginfo), 0);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_SIGNAL));
}

static void on_signal(br_server *s, struct io_uring_cqe *cqe) {
    if (cqe->res == (int)sizeof(struct signalfd_siginfo)) {
        const struct signalfd_siginfo *si = (const void *)s->signal_buf;
        switch (si->ssi_signo) {
        case SIGTERM:
        case SIGQUIT:
            nx_debug("Trapped \"%s\" signal", strsignal((int)si->ssi_signo));
            begin_shutdown(s);
            break;
        case SIGUSR1: nx_log_reopen(); break;
        case SIGUSR2: enter_lame_duck(s); break;
        case SIGHUP: reload_worker(s); break;
        default: break;
        }
    }
    if (s->state != BR_SHUTTING_DOWN || s->clients || s->zombies) arm_signal_read(s);
}

/* ---- mesh doorbell ----------------------------------------------------------------------- */

static void arm_doorbell(br_server *s) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_read(sqe, s->node->doorbell[s->worker], &s->doorbell_val,
                       sizeof s->doorbell_val, 0);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_DOORBELL));
}

/* The control connection to the supervisor (or node daemon): queries come in, answers go out
 * (query.h); its end means the supervisor is gone, and so the worker goes too. */
static void arm_control(br_server *s) {
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_recv(sqe, s->control_fd, s->control_buf, sizeof s->control_buf, 0);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_CONTROL));
}

static void control_send(br_server *s) {
    if (s->control_send_inflight || !s->control_out.pending) return;
    int n = br_outq_iov(&s->control_out, s->control_iov, 16);
    memset(&s->control_msg, 0, sizeof s->control_msg);
    s->control_msg.msg_iov = s->control_iov;
    s->control_msg.msg_iovlen = (size_t)n;
    struct io_uring_sqe *sqe = get_sqe(s);
    io_uring_prep_sendmsg(sqe, s->control_fd, &s->control_msg, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, pack(s, TAG_CONTROL_SEND));
    s->control_send_inflight = true;
}

static void on_control_send(br_server *s, struct io_uring_cqe *cqe) {
    s->control_send_inflight = false;
    if (cqe->res < 0) {
        br_outq_clear(&s->control_out);
        return;
    }
    br_outq_consume(&s->control_out, (size_t)cqe->res);
    control_send(s);
}

static void answer_queries(br_server *s) {
    size_t off = 0;
    while (s->control_in_len - off >= sizeof(br_query_hdr)) {
        br_query_hdr h;
        memcpy(&h, s->control_in + off, sizeof h);
        if (h.len > BR_QUERY_MAX_REQUEST) {
            nx_error("Worker %u: oversized control request; closing the control connection",
                     s->worker);
            begin_shutdown(s);
            return;
        }
        if (s->control_in_len - off < sizeof h + h.len) break;
        char *out = NULL;
        size_t out_len = 0;
        int rc = br_query_answer(s, h.kind, (const char *)s->control_in + off + sizeof h, h.len,
                                 &out, &out_len);
        br_query_hdr a = {rc == 0 ? (uint32_t)out_len : 0, rc == 0 ? 0u : (uint32_t)-rc, h.id};
        br_outq_append(&s->control_out, &a, sizeof a);
        if (rc == 0 && out_len) br_outq_append(&s->control_out, out, out_len);
        free(out);
        off += sizeof h + h.len;
    }
    memmove(s->control_in, s->control_in + off, s->control_in_len - off);
    s->control_in_len -= off;
    control_send(s);
}

static void on_control(br_server *s, struct io_uring_cqe *cqe) {
    if (cqe->res <= 0) {
        if (s->state != BR_SHUTTING_DOWN)
            nx_error("Worker %u lost its supervisor; shutting down", s->worker);
        begin_shutdown(s);
        return;
    }
    uint8_t *grown = realloc(s->control_in, s->control_in_len + (size_t)cqe->res);
    if (!grown) abort();
    s->control_in = grown;
    memcpy(s->control_in + s->control_in_len, s->control_buf, (size_t)cqe->res);
    s->control_in_len += (size_t)cqe->res;
    answer_queries(s);
    if (s->state != BR_SHUTTING_DOWN) arm_control(s);
}

/* ---- init / run -------------------------------------------------------------------------- */

static int setup_ring(br_server *s) {
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
              IORING_SETUP_DEFER_TASKRUN;
    int rc = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    if (rc < 0) { /* older kernels: plain ring */
        memset(&p, 0, sizeof p);
        rc = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    }
    if (rc < 0) return rc;
    s->ring_ready = true;

    s->buf_count = RECV_BUF_COUNT;
    s->buf_size = RECV_BUF_SIZE;
    size_t ring_bytes = s->buf_count * sizeof(struct io_uring_buf);
    s->buf_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (s->buf_ring == MAP_FAILED) return -errno;
    s->buf_base = malloc((size_t)s->buf_count * s->buf_size);
    if (!s->buf_base) return -ENOMEM;
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)s->buf_ring, .ring_entries = s->buf_count, .bgid = RECV_BGID};
    rc = io_uring_register_buf_ring(&s->ring, &reg, 0);
    if (rc < 0) return rc;
    io_uring_buf_ring_init(s->buf_ring);
    for (unsigned i = 0; i < s->buf_count; i++)
        io_uring_buf_ring_add(s->buf_ring, s->buf_base + (size_t)i * s->buf_size, s->buf_size,
                              (unsigned short)i, io_uring_buf_ring_mask(s->buf_count), (int)i);
    io_uring_buf_ring_advance(s->buf_ring, (int)s->buf_count);
    return 0;
}

static int setup_signals(br_server *s) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
    signal(SIGPIPE, SIG_IGN);
    s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    return s->signal_fd < 0 ? -errno : 0;
}

int br_server_init(br_server *s, br_options *opts, br_node *node, uint32_t worker) {
    memset(s, 0, sizeof *s);
    s->opts = opts;
    s->node = node;
    s->worker = worker;
    s->listen_fd = -1;
    s->signal_fd = -1;
    s->control_fd = -1;
    s->now_ms = br_now_ms();
    srandom((unsigned)(time(NULL) ^ getpid()));
    s->server_id = node->shm->server_id;
    s->xkey = node->shm->xkey;
    s->server_name = node->shm->server_name;
    char aerr[1024];
    if (br_auth_new(&opts->auth, &s->auth, aerr, sizeof aerr) < 0) nx_fatal("%s", aerr);
    s->auth_required = br_auth_required(s->auth);
    s->sublist = sl_new(true);
    if (!s->sublist) return -ENOMEM;
    int rc = setup_signals(s);
    if (rc < 0) return rc;
    if (opts->tls) {
        char err[512];
        s->tls_ctx = br_tls_ctx_new(&opts->tls_cfg, err, sizeof err);
        if (!s->tls_ctx) nx_fatal("TLS configuration error: %s", err);
    }
    rc = setup_ring(s);
    if (rc < 0) {
        nx_error("io_uring setup failed: %s", strerror(-rc));
        return rc;
    }
    rc = br_mesh_init(&s->mesh, node, worker, s->sublist, br_deliver_from_mesh, s);
    if (rc < 0) return rc;
    return br_accounts_init(s);
}

/* Monitoring: adds what this worker counted since the last turn to its shared slot, read by
 * the supervisor's /varz and /metrics.  Single writer per slot, relaxed atomics, nothing when
 * idle; the slot keeps counting across worker restarts.  In-messages relayed by a peer worker
 * were already counted once where the client published them. */
static void flush_stats(br_server *s) {
    br_worker_slot *slot = &s->node->shm->workers[s->worker];
    br_stats *now = &s->stats, *was = &s->stats_flushed;
    uint64_t in_msgs = (now->in_msgs - now->mesh_in_msgs) - (was->in_msgs - was->mesh_in_msgs);
    uint64_t in_bytes =
        (now->in_bytes - now->mesh_in_bytes) - (was->in_bytes - was->mesh_in_bytes);
    if (in_msgs) atomic_fetch_add_explicit(&slot->in_msgs, in_msgs, memory_order_relaxed);
    if (in_bytes) atomic_fetch_add_explicit(&slot->in_bytes, in_bytes, memory_order_relaxed);
    if (now->out_msgs != was->out_msgs)
        atomic_fetch_add_explicit(&slot->out_msgs, now->out_msgs - was->out_msgs,
                                  memory_order_relaxed);
    if (now->out_bytes != was->out_bytes)
        atomic_fetch_add_explicit(&slot->out_bytes, now->out_bytes - was->out_bytes,
                                  memory_order_relaxed);
    if (now->slow_consumers != was->slow_consumers)
        atomic_fetch_add_explicit(&slot->slow_consumers, now->slow_consumers - was->slow_consumers,
                                  memory_order_relaxed);
    *was = *now;
}

int br_server_run(br_server *s) {
    open_listener(s);
    atomic_store(&s->node->shm->workers[s->worker].listening, 1);
    br_worker_slot *slot = &s->node->shm->workers[s->worker];

    arm_accept(s);
    arm_tick(s);
    arm_signal_read(s);
    arm_doorbell(s);
    if (s->control_fd >= 0) arm_control(s);
    for (;;) {
        br_sys_flush(s); /* system account events queued during the last turn */
        /* Mesh records first: interest must be visible to peers before our PONGs leave. */
        br_mesh_flush(&s->mesh);
        flush_dirty(s);
        reap_zombies(s);
        flush_stats(s); /* monitoring counters to shared memory, once per turn */
        if (s->state == BR_SHUTTING_DOWN &&
            ((!s->clients && !s->zombies) || s->now_ms >= s->shutdown_deadline_ms))
            break;
        if (!s->tick_armed) arm_tick(s);
        /* Announce sleep, then look at the rings once more: a peer either sees the flag and
         * rings the doorbell, or we see its record here (both sides use seq_cst). */
        bool wait = true;
        if (io_uring_cq_ready(&s->ring) == 0) {
            atomic_store(&slot->sleeping, 1);
            if (br_mesh_has_input(&s->mesh)) wait = false;
        } else {
            wait = false;
        }
        int rc = wait ? io_uring_submit_and_wait(&s->ring, 1) : io_uring_submit(&s->ring);
        atomic_store(&slot->sleeping, 0);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            nx_fatal("io_uring_submit_and_wait: %s", strerror(-rc));
        s->now_ms = br_now_ms();
        br_mesh_drain(&s->mesh);
        struct io_uring_cqe *cqe;
        unsigned head, count = 0;
        io_uring_for_each_cqe(&s->ring, head, cqe) {
            count++;
            uint64_t ud = io_uring_cqe_get_data64(cqe);
            enum op_tag tag = (enum op_tag)(ud < TAG_ALONE_MAX ? ud : ud & 7);
            void *ptr = (void *)(uintptr_t)(ud & ~(uint64_t)7); // NOLINT(performance-no-int-to-ptr)
            switch (tag) {
            case TAG_ACCEPT: on_accept(s, cqe); break;
            case TAG_RECV: on_recv(s, ptr, cqe); break;
            case TAG_SEND: on_send(s, ptr, cqe); break;
            case TAG_TICK: on_tick(s); break;
            case TAG_SIGNAL: on_signal(s, cqe); break;
            case TAG_CANCEL: ((br_client *)ptr)->ops_inflight--; break;
            case TAG_DOORBELL: arm_doorbell(s); break; /* the drain above did the work */
            case TAG_CONTROL: on_control(s, cqe); break;
            case TAG_CONTROL_SEND: on_control_send(s, cqe); break;
            default: break;
            }
        }
        io_uring_cq_advance(&s->ring, count);
    }
    nx_debug("Worker %u exiting", s->worker);
    return 0;
}

void br_server_free(br_server *s) {
    /* Connections still referenced by the kernel at exit are reclaimed by the OS. */
    close_listener(s);
    if (s->ring_ready) io_uring_queue_exit(&s->ring);
    while (s->zombies) {
        br_client *c = s->zombies;
        list_unlink(&s->zombies, c);
        br_client_free(c);
    }
    reap_zombies(s);
    if (s->buf_ring) munmap(s->buf_ring, s->buf_count * sizeof(struct io_uring_buf));
    free(s->buf_base);
    free(s->heap);
    br_mesh_free(&s->mesh);
    br_accounts_free(s); /* after the mesh: peers' interest sits in the accounts' sublists */
    mon_closed_free(s); /* monitoring's closed-connection ring */
    if (s->tls_ctx) SSL_CTX_free(s->tls_ctx);
    br_auth_free(s->auth);
    free(s->mapped_subject.buf);
    sl_free(s->sublist); /* "$G"'s, kept out of br_accounts_free for monitoring */
    free(s->control_in);
    br_outq_clear(&s->control_out);
    if (s->signal_fd >= 0) close(s->signal_fd);
    br_outchunk_pool_drain();
}
