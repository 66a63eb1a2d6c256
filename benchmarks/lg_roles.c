/* loadgen: the role threads (publisher, subscriber, requester, responder), one thread and one
 * connection each, and the run that starts them together.
 *
 * Every client connects and (for receivers) subscribes, confirmed by PING/PONG, before a
 * barrier; the clock starts when all have passed it, so no publisher sends before every
 * subscription exists on the server.
 *
 * Flow control: publishers send a PING every flush_bytes and keep at most max_pings
 * unanswered, which bounds what sits between a publisher and the server. When there are
 * subscribers in this process, publishers also stay at most `window` messages ahead of them
 * (the slowest one, or all together for a queue group), so a benchmark measures the server's
 * sustained delivery rate rather than how much it can buffer before declaring a slow consumer. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define RECV_BUF (1u << 20)      /* subscribers/responders read this much at a time */
#define SMALL_BUF (64u << 10)    /* publishers and requesters mostly read PONGs/replies */
#define PUB_BATCH (64u << 10)    /* bytes of pre-built PUBs handed to one write() */
#define REQ_TIMEOUT 5.0          /* seconds a requester waits for one reply */

__attribute__((format(printf, 2, 3)))
static void set_err(lg_client *cl, const char *fmt, ...) {
    if (cl->err[0]) return;  /* the first error is the cause; later ones are consequences */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
    va_end(ap);
}

static void note_err_event(lg_client *cl, const lg_event *ev) {
    if (ev->kind == LG_EV_ERR) set_err(cl, "server sent -ERR %.*s", (int)ev->text_len, ev->text);
}

static void pause_briefly(void) {
    struct timespec ts = {0, 50 * 1000};
    nanosleep(&ts, NULL);
}

/* Messages written by all publishers but not yet read by the subscribers that must read them. */
static uint64_t in_flight(lg_run *run) {
    const lg_opts *o = run->o;
    uint64_t sent = atomic_load_explicit(&run->pub_sent, memory_order_relaxed);
    uint64_t got = 0;
    bool any = false;
    for (int i = run->first_sub; i < run->nclients; i++) {
        lg_client *s = &run->clients[i];
        if (atomic_load_explicit(&s->dead, memory_order_relaxed)) continue;
        uint64_t c = atomic_load_explicit(&s->count, memory_order_relaxed);
        if (o->mode == LG_MODE_QUEUE) {
            got += c;
        } else if (!any || c < got) {
            got = c;
        }
        any = true;
    }
    if (!any) return 0;
    return sent > got ? sent - got : 0;
}

/* Blocks while publishers are more than `window` messages ahead of the subscribers. Gives the
 * window up for the rest of the run if nothing moves for `grace` seconds (a subscriber that
 * lost messages would otherwise hold every publisher forever). */
static void wait_window(lg_run *run, uint64_t about_to_send) {
    const lg_opts *o = run->o;
    if (!o->window || run->first_sub == run->nclients) return;
    uint64_t f = in_flight(run);
    if (f + about_to_send <= o->window) return;
    double since = lg_now();
    uint64_t last = f;
    /* Wait until half the window drained, so each wake-up sends a useful amount. */
    while (f + about_to_send > o->window / 2 && !atomic_load(&run->abort) &&
           !atomic_load_explicit(&run->window_off, memory_order_relaxed)) {
        pause_briefly();
        f = in_flight(run);
        double now = lg_now();
        if (f < last) {
            last = f;
            since = now;
        } else if (now - since > o->grace) {
            atomic_store(&run->window_off, true);
        }
    }
}

typedef struct {
    lg_client *cl;
    uint64_t pongs;
} pub_ctx;

static void pub_handler(void *vctx, const lg_event *ev) {
    pub_ctx *p = vctx;
    if (ev->kind == LG_EV_PONG) p->pongs++;
    note_err_event(p->cl, ev);
}

static int pub_read_pongs(lg_client *cl, pub_ctx *pc) {
    ssize_t n = lg_read_events(&cl->conn, pub_handler, pc);
    if (n == 0) {
        set_err(cl, "connection closed by the server");
        return -1;
    }
    if (n < 0) {
        set_err(cl, "read: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void publisher_done(lg_run *run) {
    if (atomic_fetch_sub(&run->pubs_left, 1) == 1) {
        run->t_pubs_done = lg_now();
        atomic_store_explicit(&run->pubs_done, true, memory_order_release);
    }
}

static void publish(lg_client *cl) {
    lg_run *run = cl->run;
    const lg_opts *o = run->o;
    char hdr[300];
    int hl = snprintf(hdr, sizeof(hdr), "PUB %s %zu\r\n", o->subject, o->size);
    size_t msglen = (size_t)hl + o->size + 2;
    size_t per = PUB_BATCH / msglen;
    if (per < 1) per = 1;
    char *buf = malloc(per * msglen);
    if (!buf) {
        set_err(cl, "out of memory");
        return;
    }
    for (size_t i = 0; i < per; i++) {
        char *m = buf + i * msglen;
        memcpy(m, hdr, (size_t)hl);
        memset(m + hl, 'x', o->size);
        memcpy(m + hl + o->size, "\r\n", 2);
    }
    pub_ctx pc = {.cl = cl};
    uint64_t sent = 0, pings = 0;
    size_t since_ping = 0;
    for (;;) {
        if (atomic_load_explicit(&run->abort, memory_order_relaxed)) break;
        if (o->msgs && sent >= o->msgs) break;
        if (o->duration > 0 && lg_now() - run->t_start >= o->duration) break;
        uint64_t k = per;
        if (o->msgs && o->msgs - sent < k) k = o->msgs - sent;
        wait_window(run, k);
        if (lg_write_all(cl->conn.fd, buf, (size_t)k * msglen) < 0) {
            set_err(cl, "write: %s", strerror(errno));
            break;
        }
        sent += k;
        atomic_fetch_add_explicit(&run->pub_sent, k, memory_order_relaxed);
        atomic_store_explicit(&cl->count, sent, memory_order_relaxed);
        since_ping += (size_t)k * msglen;
        if (since_ping >= o->flush_bytes) {
            since_ping = 0;
            if (lg_write_all(cl->conn.fd, "PING\r\n", 6) < 0) {
                set_err(cl, "write: %s", strerror(errno));
                break;
            }
            pings++;
            while (pings - pc.pongs > (uint64_t)o->max_pings && !cl->err[0])
                if (pub_read_pongs(cl, &pc) < 0) break;
            if (cl->err[0]) break;
        }
    }
    /* The final PONG means the server has processed every PUB before it. */
    if (!cl->err[0] && lg_write_all(cl->conn.fd, "PING\r\n", 6) == 0) {
        pings++;
        while (pc.pongs < pings && !cl->err[0])
            if (pub_read_pongs(cl, &pc) < 0) break;
    }
    cl->t_last = lg_now();
    free(buf);
}

typedef struct {
    lg_client *cl;
    uint64_t n;
} sub_ctx;

static void sub_handler(void *vctx, const lg_event *ev) {
    sub_ctx *s = vctx;
    if (ev->kind == LG_EV_MSG) s->n++;
    note_err_event(s->cl, ev);
}

static uint64_t queue_total(lg_run *run) {
    uint64_t t = 0;
    for (int i = run->first_sub; i < run->nclients; i++)
        t += atomic_load_explicit(&run->clients[i].count, memory_order_relaxed);
    return t;
}

/* True once this subscriber has everything it will get (or the grace period is over). */
static bool sub_finished(lg_client *cl, uint64_t n, double now) {
    lg_run *run = cl->run;
    const lg_opts *o = run->o;
    if (o->mode == LG_MODE_SUB) {
        if (o->msgs && n >= o->msgs) return true;
        return o->duration > 0 && now - run->t_start >= o->duration;
    }
    if (!atomic_load_explicit(&run->pubs_done, memory_order_acquire)) return false;
    uint64_t expected = atomic_load(&run->pub_sent);
    if (o->mode == LG_MODE_QUEUE ? queue_total(run) >= expected : n >= expected) return true;
    return now - run->t_pubs_done > o->grace;
}

static void subscribe_loop(lg_client *cl) {
    lg_run *run = cl->run;
    sub_ctx sc = {.cl = cl};
    lg_set_rcv_timeout(cl->conn.fd, 100);  /* to notice the end of the run while idle */
    for (;;) {
        if (atomic_load_explicit(&run->abort, memory_order_relaxed)) break;
        uint64_t before = sc.n;
        ssize_t r = lg_read_events(&cl->conn, sub_handler, &sc);
        double now = lg_now();
        if (sc.n != before) {
            if (before == 0) cl->t_first = now;
            cl->t_last = now;
            atomic_store_explicit(&cl->count, sc.n, memory_order_relaxed);
        }
        if (r == 0) {
            set_err(cl, "connection closed by the server after %llu messages",
                    (unsigned long long)sc.n);
            break;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            set_err(cl, "read: %s", strerror(errno));
            break;
        }
        if (sub_finished(cl, sc.n, now)) break;
    }
    atomic_store(&cl->dead, true);
}

typedef struct {
    lg_client *cl;
    bool got;
} req_ctx;

static void req_handler(void *vctx, const lg_event *ev) {
    req_ctx *r = vctx;
    if (ev->kind == LG_EV_MSG) r->got = true;
    note_err_event(r->cl, ev);
}

static int add_latency(lg_client *cl, uint64_t ns) {
    if (cl->nlat == cl->lat_cap) {
        size_t cap = cl->lat_cap ? cl->lat_cap * 2 : 65536;
        uint64_t *p = realloc(cl->lat_ns, cap * sizeof(*p));
        if (!p) return -1;
        cl->lat_ns = p;
        cl->lat_cap = cap;
    }
    cl->lat_ns[cl->nlat++] = ns;
    return 0;
}

/* Synchronous requests, one outstanding, as `nats bench --request` does: each round trip is
 * request to server, server to a responder, reply to server, server to the requester. */
static void request_loop(lg_client *cl, const char *inbox) {
    lg_run *run = cl->run;
    const lg_opts *o = run->o;
    size_t cap = o->size + 600;
    char *msg = malloc(cap);
    if (!msg) {
        set_err(cl, "out of memory");
        return;
    }
    lg_set_rcv_timeout(cl->conn.fd, 100);
    req_ctx rc = {.cl = cl};
    for (uint64_t seq = 0;; seq++) {
        if (atomic_load_explicit(&run->abort, memory_order_relaxed)) break;
        if (o->msgs && seq >= o->msgs) break;
        double t0 = lg_now();
        if (o->duration > 0 && t0 - run->t_start >= o->duration) break;
        /* A fresh reply subject per request, as client libraries do. */
        int hl = snprintf(msg, 590, "PUB %s %s%llu %zu\r\n", o->subject, inbox,
                          (unsigned long long)seq, o->size);
        memset(msg + hl, 'r', o->size);
        memcpy(msg + hl + o->size, "\r\n", 2);
        if (lg_write_all(cl->conn.fd, msg, (size_t)hl + o->size + 2) < 0) {
            set_err(cl, "write: %s", strerror(errno));
            break;
        }
        rc.got = false;
        while (!rc.got) {
            ssize_t r = lg_read_events(&cl->conn, req_handler, &rc);
            if (r == 0) {
                set_err(cl, "connection closed by the server");
                break;
            }
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                set_err(cl, "read: %s", strerror(errno));
                break;
            }
            if (!rc.got && lg_now() - t0 > REQ_TIMEOUT) {
                set_err(cl, "no reply to request %llu within %.0f s", (unsigned long long)seq,
                        REQ_TIMEOUT);
                break;
            }
        }
        if (!rc.got) break;
        if (add_latency(cl, (uint64_t)((lg_now() - t0) * 1e9)) < 0) {
            set_err(cl, "out of memory");
            break;
        }
        atomic_store_explicit(&cl->count, seq + 1, memory_order_relaxed);
    }
    cl->t_last = lg_now();
    free(msg);
}

typedef struct {
    lg_client *cl;
    char *out;
    size_t len, cap;
    uint64_t n;
    const char *payload;  /* o->size bytes then CRLF */
    size_t size;
} resp_ctx;

static void resp_handler(void *vctx, const lg_event *ev) {
    resp_ctx *r = vctx;
    note_err_event(r->cl, ev);
    if (ev->kind != LG_EV_MSG || !ev->reply) return;
    size_t need = ev->reply_len + 40 + r->size;
    if (r->len + need > r->cap) {
        size_t cap = r->cap * 2 > r->len + need ? r->cap * 2 : r->len + need;
        char *p = realloc(r->out, cap);
        if (!p) {
            set_err(r->cl, "out of memory");
            return;
        }
        r->out = p;
        r->cap = cap;
    }
    r->len += (size_t)sprintf(r->out + r->len, "PUB %.*s %zu\r\n", (int)ev->reply_len, ev->reply,
                              r->size);
    memcpy(r->out + r->len, r->payload, r->size + 2);
    r->len += r->size + 2;
    r->n++;
}

/* Answers every request read in one chunk with one write. Runs until all requesters finish. */
static void respond_loop(lg_client *cl) {
    lg_run *run = cl->run;
    const lg_opts *o = run->o;
    char *payload = malloc(o->size + 2);
    resp_ctx rc = {.cl = cl, .cap = 65536, .payload = payload, .size = o->size};
    rc.out = malloc(rc.cap);
    if (!payload || !rc.out) {
        set_err(cl, "out of memory");
        goto out;
    }
    memset(payload, 'p', o->size);
    memcpy(payload + o->size, "\r\n", 2);
    lg_set_rcv_timeout(cl->conn.fd, 100);
    for (;;) {
        if (atomic_load_explicit(&run->abort, memory_order_relaxed)) break;
        if (atomic_load_explicit(&run->pubs_done, memory_order_acquire)) break;
        ssize_t r = lg_read_events(&cl->conn, resp_handler, &rc);
        if (rc.len) {
            if (lg_write_all(cl->conn.fd, rc.out, rc.len) < 0) {
                set_err(cl, "write: %s", strerror(errno));
                break;
            }
            rc.len = 0;
            cl->t_last = lg_now();
            atomic_store_explicit(&cl->count, rc.n, memory_order_relaxed);
        }
        if (r == 0) {
            set_err(cl, "connection closed by the server");
            break;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            set_err(cl, "read: %s", strerror(errno));
            break;
        }
    }
out:
    free(rc.out);
    free(payload);
}

static void *client_main(void *arg) {
    lg_client *cl = arg;
    lg_run *run = cl->run;
    const lg_opts *o = run->o;
    static const char *names[] = {"pub", "sub", "req", "resp"};
    char name[64], inbox[128] = "";
    snprintf(name, sizeof(name), "loadgen-%s-%d", names[cl->role], cl->idx);
    bool recv_role = cl->role == LG_ROLE_SUB || cl->role == LG_ROLE_RESP;
    if (lg_connect(&cl->conn, o, name, recv_role ? RECV_BUF : SMALL_BUF, cl->err,
                   sizeof(cl->err)) == 0) {
        char line[600];
        int n = 0;
        if (cl->role == LG_ROLE_SUB || cl->role == LG_ROLE_RESP) {
            bool grouped = o->mode == LG_MODE_QUEUE || cl->role == LG_ROLE_RESP;
            n = snprintf(line, sizeof(line), "SUB %s%s%s 1\r\n", o->subject, grouped ? " " : "",
                         grouped ? o->queue : "");
        } else if (cl->role == LG_ROLE_REQ) {
            snprintf(inbox, sizeof(inbox), "_INBOX.lg%d.%d.", (int)getpid(), cl->idx);
            n = snprintf(line, sizeof(line), "SUB %s* 1\r\n", inbox);
        }
        if (n > 0 && lg_write_all(cl->conn.fd, line, (size_t)n) < 0)
            set_err(cl, "write: %s", strerror(errno));
        /* The PONG proves the server has registered the subscription. */
        if (n > 0 && !cl->err[0])
            lg_ping_pong(&cl->conn, NULL, NULL, cl->err, sizeof(cl->err));
    }
    pthread_barrier_wait(&run->ready);
    pthread_barrier_wait(&run->go);
    if (!atomic_load(&run->abort)) {
        switch (cl->role) {
        case LG_ROLE_PUB: publish(cl); break;
        case LG_ROLE_SUB: subscribe_loop(cl); break;
        case LG_ROLE_REQ: request_loop(cl, inbox); break;
        case LG_ROLE_RESP: respond_loop(cl); break;
        }
    }
    if (cl->role == LG_ROLE_PUB || cl->role == LG_ROLE_REQ) publisher_done(run);
    atomic_store(&cl->dead, true);
    return NULL;
}

int lg_run_clients(lg_run *run) {
    const lg_opts *o = run->o;
    int np = o->mode == LG_MODE_SUB ? 0 : o->pubs;
    int ns = o->mode == LG_MODE_PUB ? 0 : o->subs;
    run->nclients = np + ns;
    run->first_sub = np;
    run->clients = calloc((size_t)run->nclients, sizeof(lg_client));
    if (!run->clients) return -1;
    atomic_store(&run->pubs_left, np);
    pthread_barrier_init(&run->ready, NULL, (unsigned)run->nclients + 1);
    pthread_barrier_init(&run->go, NULL, (unsigned)run->nclients + 1);
    for (int i = 0; i < run->nclients; i++) {
        lg_client *cl = &run->clients[i];
        cl->run = run;
        cl->conn.fd = -1;
        cl->idx = i < np ? i : i - np;
        if (o->mode == LG_MODE_REQ)
            cl->role = i < np ? LG_ROLE_REQ : LG_ROLE_RESP;
        else
            cl->role = i < np ? LG_ROLE_PUB : LG_ROLE_SUB;
        int rc = pthread_create(&cl->th, NULL, client_main, cl);
        if (rc != 0) {
            /* The barriers count on every thread; without them the run cannot proceed. */
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
            exit(1);
        }
    }
    pthread_barrier_wait(&run->ready);
    int rc = 0;
    for (int i = 0; i < run->nclients; i++) {
        if (run->clients[i].err[0]) {
            fprintf(stderr, "loadgen: client %d: %s\n", i, run->clients[i].err);
            rc = -1;
        }
    }
    if (rc < 0) atomic_store(&run->abort, true);
    run->t_start = lg_now();
    pthread_barrier_wait(&run->go);
    for (int i = 0; i < run->nclients; i++) pthread_join(run->clients[i].th, NULL);
    for (int i = 0; i < run->nclients; i++) lg_close(&run->clients[i].conn);
    return rc;
}
