/* loadgen: JetStream publish (js-pub) and consume (js-consume), after `nats bench js pub` and
 * `nats bench js fetch` (natscli cli/bench_command.go).
 *  - js-pub: N publishers each keep up to --window publishes awaiting their PubAck (1 =
 *    synchronous), on a stream the run creates (and deletes afterwards) with --storage
 *    file|memory.  Reports msgs/s, MB/s and PubAck latency percentiles; losses are what the
 *    stream does not hold at the end (its message count against the acks received).
 *  - js-consume: the stream is filled with --msgs messages first, then M consumers (--sub)
 *    fetch batches of --batch from one durable pull consumer with explicit acks until every
 *    message was received once.  Reports consumed msgs/s; losses are messages never
 *    received. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

#define ADMIN_TIMEOUT_MS 10000
#define ACK_TIMEOUT 10.0 /* seconds without any ack: the run is stuck */

typedef struct js_pub {
    const lg_opts *o;
    int idx;
    lg_conn conn;
    pthread_t th;
    pthread_barrier_t *ready, *go;
    uint64_t sent, acked;
    double *sent_at; /* ring of window entries: send time of message k at k % window */
    uint64_t *lat_ns;
    size_t nlat, lat_cap;
    double t_end;
    char err[256];
} js_pub;

/* ---- the admin connection: whole replies, read directly ------------------------------------ */

/* Sends a request on fd and reads the reply's payload (malloc'd, NUL-terminated); NULL on
 * timeout.  The connection subscribed to _INBOX.lgadm as sid 1 and sees nothing else. */
static char *admin_request(int fd, const char *subj, const char *body) {
    char req[1024];
    int n = snprintf(req, sizeof req, "PUB %s _INBOX.lgadm %zu\r\n%s\r\n", subj, strlen(body),
                     body);
    if (n <= 0 || (size_t)n >= sizeof req || lg_write_all(fd, req, (size_t)n) < 0) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    double deadline = lg_now() + ADMIN_TIMEOUT_MS / 1000.0;
    for (;;) {
        /* Skip PING/PONG lines; answer PINGs. */
        char *eol;
        while ((eol = memmem(buf, len, "\r\n", 2)) != NULL) {
            size_t ll = (size_t)(eol - buf) + 2;
            if (!strncmp(buf, "MSG ", 4) || !strncmp(buf, "HMSG ", 5)) {
                const char *sp = eol;
                while (sp > buf && sp[-1] != ' ') sp--;
                size_t plen = strtoul(sp, NULL, 10);
                if (len < ll + plen + 2) break;
                char *out = malloc(plen + 1);
                if (out) {
                    memcpy(out, buf + ll, plen);
                    out[plen] = '\0';
                }
                free(buf);
                return out;
            }
            if (!strncmp(buf, "PING", 4)) lg_write_all(fd, "PONG\r\n", 6);
            memmove(buf, buf + ll, len - ll);
            len -= ll;
        }
        int left = (int)((deadline - lg_now()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) break;
        if (len + 4096 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) break;
            buf = nb;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r <= 0) break;
        len += (size_t)r;
    }
    free(buf);
    return NULL;
}

/* A top-level integer field of a JSON text (good enough for the replies we read). */
static long long json_field(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* ---- publishers ----------------------------------------------------------------------------- */

typedef struct ack_ctx {
    js_pub *p;
} ack_ctx;

static void on_ack(void *vctx, const lg_event *ev) {
    js_pub *p = ((ack_ctx *)vctx)->p;
    if (ev->kind == LG_EV_ERR && !p->err[0])
        snprintf(p->err, sizeof p->err, "server sent -ERR %.*s", (int)ev->text_len, ev->text);
    if (ev->kind != LG_EV_MSG) return;
    /* _INBOX.lgjs.<idx>.<k> */
    const char *dot = memrchr(ev->subject, '.', ev->subject_len);
    if (!dot) return;
    uint64_t k = strtoull(dot + 1, NULL, 10);
    double now = lg_now();
    if (p->nlat == p->lat_cap) {
        p->lat_cap = p->lat_cap ? p->lat_cap * 2 : 4096;
        uint64_t *nl = realloc(p->lat_ns, p->lat_cap * sizeof *nl);
        if (!nl) abort();
        p->lat_ns = nl;
    }
    p->lat_ns[p->nlat++] = (uint64_t)((now - p->sent_at[k % p->o->window]) * 1e9);
    p->acked++;
}

static void *pub_main(void *arg) {
    js_pub *p = arg;
    const lg_opts *o = p->o;
    char name[32];
    snprintf(name, sizeof name, "loadgen-js-%d", p->idx);
    int ok = lg_connect(&p->conn, o, name, 1 << 20, p->err, sizeof p->err) == 0;
    if (ok) {
        char sub[64];
        int n = snprintf(sub, sizeof sub, "SUB _INBOX.lgjs.%d.* 1\r\n", p->idx);
        ok = lg_write_all(p->conn.fd, sub, (size_t)n) == 0 &&
             lg_ping_pong(&p->conn, NULL, NULL, p->err, sizeof p->err) == 0;
    }
    char *payload = calloc(1, o->size + 1);
    memset(payload, 'j', o->size);
    pthread_barrier_wait(p->ready);
    pthread_barrier_wait(p->go);
    if (!ok || !payload) {
        free(payload);
        return NULL;
    }
    double start = lg_now(), last_progress = start;
    ack_ctx ctx = {p};
    lg_set_rcv_timeout(p->conn.fd, 100);
    char line[512];
    while (!p->err[0]) {
        bool more = (!o->msgs || p->sent < o->msgs) &&
                    (o->duration <= 0 || lg_now() - start < o->duration);
        if (!more && p->acked == p->sent) break;
        while (more && p->sent - p->acked < o->window &&
               (!o->msgs || p->sent < o->msgs)) {
            int n = snprintf(line, sizeof line, "PUB %s _INBOX.lgjs.%d.%llu %zu\r\n", o->subject,
                             p->idx, (unsigned long long)p->sent, o->size);
            p->sent_at[p->sent % o->window] = lg_now();
            if (lg_write_all(p->conn.fd, line, (size_t)n) < 0 ||
                lg_write_all(p->conn.fd, payload, o->size) < 0 ||
                lg_write_all(p->conn.fd, "\r\n", 2) < 0) {
                snprintf(p->err, sizeof p->err, "write: %s", strerror(errno));
                break;
            }
            p->sent++;
        }
        uint64_t before = p->acked;
        ssize_t r = lg_read_events(&p->conn, on_ack, &ctx);
        if (r == 0) snprintf(p->err, sizeof p->err, "connection closed by the server");
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            snprintf(p->err, sizeof p->err, "read: %s", strerror(errno));
        double now = lg_now();
        if (p->acked != before) last_progress = now;
        else if (now - last_progress > ACK_TIMEOUT)
            snprintf(p->err, sizeof p->err, "no PubAck for %.0f s (%llu outstanding)",
                     ACK_TIMEOUT, (unsigned long long)(p->sent - p->acked));
    }
    p->t_end = lg_now();
    free(payload);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(const uint64_t *v, size_t n, double q) {
    if (!n) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e3;
}

/* ---- consumers ------------------------------------------------------------------------------ */

typedef struct js_con {
    const lg_opts *o;
    int idx;
    lg_conn conn;
    pthread_t th;
    pthread_barrier_t *ready, *go;
    _Atomic uint64_t *total; /* received by every consumer together */
    uint64_t target;
    uint64_t got, in_batch;
    bool batch_done;
    char *acks; /* pending "PUB <ack reply> 0" lines */
    size_t acks_len, acks_cap;
    double t_end;
    char err[256];
} js_con;

static void on_fetched(void *vctx, const lg_event *ev) {
    js_con *c = vctx;
    if (ev->kind == LG_EV_ERR && !c->err[0])
        snprintf(c->err, sizeof c->err, "server sent -ERR %.*s", (int)ev->text_len, ev->text);
    if (ev->kind != LG_EV_MSG) return;
    if (!ev->reply) { /* a status (404 No Messages, 408 Request Timeout, ...): batch over */
        c->batch_done = true;
        return;
    }
    c->got++;
    c->in_batch++;
    atomic_fetch_add(c->total, 1);
    size_t need = ev->reply_len + 16;
    if (c->acks_len + need > c->acks_cap) {
        c->acks_cap = (c->acks_cap + need) * 2;
        char *nb = realloc(c->acks, c->acks_cap);
        if (!nb) abort();
        c->acks = nb;
    }
    c->acks_len += (size_t)snprintf(c->acks + c->acks_len, need, "PUB %.*s 0\r\n\r\n",
                                    (int)ev->reply_len, ev->reply);
}

static void *con_main(void *arg) {
    js_con *c = arg;
    const lg_opts *o = c->o;
    char name[32];
    snprintf(name, sizeof name, "loadgen-jsc-%d", c->idx);
    int ok = lg_connect(&c->conn, o, name, 1 << 20, c->err, sizeof c->err) == 0;
    char line[512];
    if (ok) {
        int n = snprintf(line, sizeof line, "SUB _INBOX.lgc.%d 1\r\n", c->idx);
        ok = lg_write_all(c->conn.fd, line, (size_t)n) == 0 &&
             lg_ping_pong(&c->conn, NULL, NULL, c->err, sizeof c->err) == 0;
    }
    pthread_barrier_wait(c->ready);
    pthread_barrier_wait(c->go);
    if (!ok) return NULL;
    lg_set_rcv_timeout(c->conn.fd, 100);
    double last_progress = lg_now();
    while (!c->err[0] && atomic_load(c->total) < c->target) {
        char body[96];
        int bl = snprintf(body, sizeof body, "{\"batch\":%d,\"expires\":1000000000}", o->batch);
        int n = snprintf(line, sizeof line, "PUB $JS.API.CONSUMER.MSG.NEXT.%s.LGC _INBOX.lgc.%d "
                         "%d\r\n%s\r\n", o->stream, c->idx, bl, body);
        if (lg_write_all(c->conn.fd, line, (size_t)n) < 0) {
            snprintf(c->err, sizeof c->err, "write: %s", strerror(errno));
            break;
        }
        c->in_batch = 0;
        c->batch_done = false;
        while (!c->err[0] && !c->batch_done && c->in_batch < (uint64_t)o->batch) {
            ssize_t r = lg_read_events(&c->conn, on_fetched, c);
            if (r == 0) snprintf(c->err, sizeof c->err, "connection closed by the server");
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                snprintf(c->err, sizeof c->err, "read: %s", strerror(errno));
            if (c->acks_len) { /* acknowledge what arrived, in one write */
                if (lg_write_all(c->conn.fd, c->acks, c->acks_len) < 0)
                    snprintf(c->err, sizeof c->err, "write: %s", strerror(errno));
                c->acks_len = 0;
                last_progress = lg_now();
            }
            if (atomic_load(c->total) >= c->target) break;
            if (lg_now() - last_progress > ACK_TIMEOUT)
                snprintf(c->err, sizeof c->err, "no message for %.0f s", ACK_TIMEOUT);
        }
    }
    c->t_end = lg_now();
    return NULL;
}

static int consume_run(const lg_opts *o, int admin_fd, uint64_t target, double *elapsed_out,
                       uint64_t *got_out, int *errors_out) {
    char subj[300];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s.LGC", o->stream);
    char body[300];
    snprintf(body, sizeof body, "{\"stream_name\":\"%s\",\"config\":{\"durable_name\":\"LGC\","
             "\"ack_policy\":\"explicit\",\"max_ack_pending\":-1}}", o->stream);
    char *resp = admin_request(admin_fd, subj, body);
    if (!resp || strstr(resp, "\"error\"")) {
        fprintf(stderr, "loadgen: consumer create failed: %s\n", resp ? resp : "no reply");
        free(resp);
        return -1;
    }
    free(resp);
    _Atomic uint64_t total = 0;
    js_con *cons = calloc((size_t)o->subs, sizeof *cons);
    pthread_barrier_t ready, go;
    pthread_barrier_init(&ready, NULL, (unsigned)o->subs + 1);
    pthread_barrier_init(&go, NULL, (unsigned)o->subs + 1);
    for (int i = 0; i < o->subs; i++) {
        cons[i] = (js_con){.o = o, .idx = i, .ready = &ready, .go = &go, .total = &total,
                           .target = target};
        cons[i].conn.fd = -1;
        if (pthread_create(&cons[i].th, NULL, con_main, &cons[i]) != 0) abort();
    }
    pthread_barrier_wait(&ready);
    double t0 = lg_now(), t_end = t0;
    pthread_barrier_wait(&go);
    int errors = 0;
    for (int i = 0; i < o->subs; i++) {
        pthread_join(cons[i].th, NULL);
        if (cons[i].t_end > t_end) t_end = cons[i].t_end;
        if (cons[i].err[0]) {
            errors++;
            if (!o->json_only) printf("ERROR consumer %d: %s\n", i + 1, cons[i].err);
        }
        lg_close(&cons[i].conn);
        free(cons[i].acks);
    }
    free(cons);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
    *elapsed_out = t_end - t0;
    *got_out = atomic_load(&total);
    *errors_out = errors;
    return 0;
}

int lg_js_run(const lg_opts *o) {
    char err[256] = "";
    lg_conn admin;
    if (lg_connect(&admin, o, "loadgen-js-admin", 1 << 16, err, sizeof err) < 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 1;
    }
    lg_write_all(admin.fd, "SUB _INBOX.lgadm 1\r\n", 20);
    char subj[300], body[700];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.DELETE.%s", o->stream);
    free(admin_request(admin.fd, subj, "")); /* a leftover from an aborted run */
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", o->stream);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"storage\":\"%s\"}",
             o->stream, o->subject, o->storage);
    char *resp = admin_request(admin.fd, subj, body);
    if (!resp || strstr(resp, "\"error\"")) {
        fprintf(stderr, "loadgen: stream create failed: %s\n", resp ? resp : "no reply");
        free(resp);
        lg_close(&admin);
        return 1;
    }
    free(resp);

    js_pub *pubs = calloc((size_t)o->pubs, sizeof *pubs);
    pthread_barrier_t ready, go;
    pthread_barrier_init(&ready, NULL, (unsigned)o->pubs + 1);
    pthread_barrier_init(&go, NULL, (unsigned)o->pubs + 1);
    for (int i = 0; i < o->pubs; i++) {
        pubs[i] = (js_pub){.o = o, .idx = i, .ready = &ready, .go = &go};
        pubs[i].sent_at = calloc(o->window, sizeof(double));
        pubs[i].conn.fd = -1;
        if (pthread_create(&pubs[i].th, NULL, pub_main, &pubs[i]) != 0) abort();
    }
    pthread_barrier_wait(&ready);
    double t0 = lg_now();
    pthread_barrier_wait(&go);
    uint64_t sent = 0, acked = 0;
    size_t nlat = 0;
    double t_end = t0;
    int errors = 0;
    for (int i = 0; i < o->pubs; i++) {
        pthread_join(pubs[i].th, NULL);
        sent += pubs[i].sent;
        acked += pubs[i].acked;
        nlat += pubs[i].nlat;
        if (pubs[i].t_end > t_end) t_end = pubs[i].t_end;
        if (pubs[i].err[0]) {
            errors++;
            if (!o->json_only) printf("ERROR publisher %d: %s\n", i + 1, pubs[i].err);
        }
    }
    uint64_t *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < o->pubs; i++) {
        memcpy(lat + k, pubs[i].lat_ns, pubs[i].nlat * sizeof *lat);
        k += pubs[i].nlat;
    }
    qsort(lat, nlat, sizeof *lat, cmp_u64);
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", o->stream);
    resp = admin_request(admin.fd, subj, "");
    long long stored = json_field(resp ? strstr(resp, "\"state\"") : NULL, "messages");
    free(resp);
    if (o->mode == LG_MODE_JSCONSUME) {
        double celapsed = 0;
        uint64_t got = 0;
        int cerr = 0;
        int rc = consume_run(o, admin.fd, stored > 0 ? (uint64_t)stored : 0, &celapsed, &got,
                             &cerr);
        snprintf(subj, sizeof subj, "$JS.API.STREAM.DELETE.%s", o->stream);
        free(admin_request(admin.fd, subj, ""));
        lg_close(&admin);
        double crate = celapsed > 0 ? (double)got / celapsed : 0;
        uint64_t missing = stored > 0 && (uint64_t)stored > got ? (uint64_t)stored - got : 0;
        if (!o->json_only) {
            printf("loadgen js-consume: %d consumer(s), batch %d, %zu B, %s stream of %lld, "
                   "server %s:%s\n", o->subs, o->batch, o->size, o->storage, stored, o->host,
                   o->port);
            printf("Consumed %llu in %.3f s: %.1f msgs/sec ~ %.2f MB/sec%s\n",
                   (unsigned long long)got, celapsed, crate, crate * (double)o->size / 1e6,
                   missing ? " (LOSSES)" : "");
        }
        printf("{\"tool\":\"loadgen\",\"mode\":\"js-consume\",\"server\":\"%s:%s\","
               "\"size\":%zu,\"subs\":%d,\"batch\":%d,\"storage\":\"%s\",\"stored\":%lld,"
               "\"elapsed_s\":%.6f,\"sub_msgs\":%llu,\"sub_msgs_per_sec\":%.1f,"
               "\"sub_mb_per_sec\":%.3f,\"lost\":%llu,\"errors\":%d}\n",
               o->host, o->port, o->size, o->subs, o->batch, o->storage, stored, celapsed,
               (unsigned long long)got, crate, crate * (double)o->size / 1e6,
               (unsigned long long)missing, cerr + errors);
        for (int i = 0; i < o->pubs; i++) {
            lg_close(&pubs[i].conn);
            free(pubs[i].sent_at);
            free(pubs[i].lat_ns);
        }
        free(pubs);
        free(lat);
        pthread_barrier_destroy(&ready);
        pthread_barrier_destroy(&go);
        return rc < 0 ? 1 : missing || cerr || errors ? 3 : 0;
    }
    snprintf(subj, sizeof subj, "$JS.API.STREAM.DELETE.%s", o->stream);
    free(admin_request(admin.fd, subj, ""));
    lg_close(&admin);

    double elapsed = t_end - t0, rate = elapsed > 0 ? (double)acked / elapsed : 0;
    uint64_t lost = stored >= 0 && (uint64_t)stored < acked ? acked - (uint64_t)stored : 0;
    double p50 = pct_us(lat, nlat, .5), p90 = pct_us(lat, nlat, .9), p99 = pct_us(lat, nlat, .99);
    double pmax = nlat ? (double)lat[nlat - 1] / 1e3 : 0;
    if (!o->json_only) {
        printf("loadgen js-pub: %d publisher(s), %zu B, window %llu, %s stream, server %s:%s\n",
               o->pubs, o->size, (unsigned long long)o->window, o->storage, o->host, o->port);
        printf("Published %llu, acknowledged %llu in %.3f s: %.1f msgs/sec ~ %.2f MB/sec\n",
               (unsigned long long)sent, (unsigned long long)acked, elapsed, rate,
               rate * (double)o->size / 1e6);
        printf("PubAck latency: p50 %.1f us | p90 %.1f us | p99 %.1f us | max %.1f us\n", p50,
               p90, p99, pmax);
        printf("Stream holds %lld messages%s\n", stored, lost ? " (LOSSES)" : "");
    }
    printf("{\"tool\":\"loadgen\",\"mode\":\"js-pub\",\"server\":\"%s:%s\",\"size\":%zu,"
           "\"pubs\":%d,\"window\":%llu,\"storage\":\"%s\",\"elapsed_s\":%.6f,\"pub_msgs\":%llu,"
           "\"acked\":%llu,\"stored\":%lld,\"pub_msgs_per_sec\":%.1f,\"pub_mb_per_sec\":%.3f,"
           "\"lost\":%llu,\"errors\":%d,\"lat_p50_us\":%.2f,\"lat_p90_us\":%.2f,"
           "\"lat_p99_us\":%.2f,\"lat_max_us\":%.2f}\n",
           o->host, o->port, o->size, o->pubs, (unsigned long long)o->window, o->storage,
           elapsed, (unsigned long long)sent, (unsigned long long)acked, stored, rate,
           rate * (double)o->size / 1e6, (unsigned long long)lost, errors, p50, p90, p99, pmax);
    for (int i = 0; i < o->pubs; i++) {
        lg_close(&pubs[i].conn);
        free(pubs[i].sent_at);
        free(pubs[i].lat_ns);
    }
    free(pubs);
    free(lat);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
    return lost || errors || acked < sent ? 3 : 0;
}
