/* loadgen: one TCP connection to a NATS server and a small reader of what servers send
 * (INFO, MSG, HMSG, PING, PONG, +OK, -ERR). The reader only skims control lines and skips
 * payloads by count, because subscribers in a benchmark must read faster than the server
 * writes or they would measure themselves. */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

double lg_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int lg_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void lg_set_rcv_timeout(int fd, int ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Splits a control line's arguments on spaces/tabs; returns the count (at most max). */
static int split_args(char *p, size_t len, const char **tok, size_t *tlen, int max) {
    int n = 0;
    size_t i = 0;
    while (i < len && n < max) {
        while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
        if (i >= len) break;
        size_t s = i;
        while (i < len && p[i] != ' ' && p[i] != '\t') i++;
        tok[n] = p + s;
        tlen[n] = i - s;
        n++;
    }
    return n;
}

static int parse_size(const char *p, size_t len, uint64_t *out) {
    uint64_t v = 0;
    if (len == 0 || len > 12) return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 0;
}

static bool word_is(const char *p, size_t len, const char *w) {
    size_t wl = strlen(w);
    if (len < wl) return false;
    for (size_t i = 0; i < wl; i++)
        if (toupper((unsigned char)p[i]) != w[i]) return false;
    return len == wl || p[wl] == ' ' || p[wl] == '\t';
}

/* Handles one control line (without CRLF). A MSG whose payload is not yet fully buffered is
 * kept in c->pending (subject and reply copied, since the buffer moves) until it is. */
static int handle_line(lg_conn *c, char *p, size_t len, lg_handler h, void *ctx) {
    lg_event ev = {0};
    if (word_is(p, len, "MSG") || word_is(p, len, "HMSG")) {
        bool hdr = toupper((unsigned char)p[0]) == 'H';
        size_t skip = hdr ? 5 : 4;
        const char *tok[6];
        size_t tl[6];
        int n = split_args(p + skip, len - skip, tok, tl, 6);
        int want = hdr ? 4 : 3;  /* without a reply subject */
        if (n != want && n != want + 1) return -1;
        uint64_t size;
        if (parse_size(tok[n - 1], tl[n - 1], &size) < 0) return -1;
        ev.kind = LG_EV_MSG;
        ev.subject = tok[0];
        ev.subject_len = tl[0];
        if (n == want + 1) {
            ev.reply = tok[2];
            ev.reply_len = tl[2];
        }
        ev.payload_len = (size_t)size;
        size_t avail = c->rlen - c->rpos;
        if (size + 2 <= avail) {  /* common case: the whole message is already here */
            c->rpos += (size_t)size + 2;
            if (h) h(ctx, &ev);
            return 0;
        }
        if (ev.subject_len >= sizeof(c->pend_subj) || ev.reply_len >= sizeof(c->pend_reply))
            return -1;
        memcpy(c->pend_subj, ev.subject, ev.subject_len);
        ev.subject = c->pend_subj;
        if (ev.reply) {
            memcpy(c->pend_reply, ev.reply, ev.reply_len);
            ev.reply = c->pend_reply;
        }
        c->pending = ev;
        c->in_msg = true;
        c->skip = size + 2;
        return 0;
    }
    if (word_is(p, len, "PING")) {
        if (lg_write_all(c->fd, "PONG\r\n", 6) < 0) return -1;
        ev.kind = LG_EV_PING;
    } else if (word_is(p, len, "PONG")) {
        ev.kind = LG_EV_PONG;
    } else if (word_is(p, len, "+OK")) {
        ev.kind = LG_EV_OK;
    } else if (word_is(p, len, "-ERR")) {
        ev.kind = LG_EV_ERR;
        ev.text = len > 5 ? p + 5 : "";
        ev.text_len = len > 5 ? len - 5 : 0;
    } else if (word_is(p, len, "INFO")) {
        ev.kind = LG_EV_INFO;
    } else {
        return -1;
    }
    if (h) h(ctx, &ev);
    return 0;
}

static int parse(lg_conn *c, lg_handler h, void *ctx) {
    for (;;) {
        size_t avail = c->rlen - c->rpos;
        if (c->in_msg) {
            if (c->skip > avail) {
                c->skip -= avail;
                c->rpos = c->rlen;
                break;
            }
            c->rpos += (size_t)c->skip;
            c->skip = 0;
            c->in_msg = false;
            if (h) h(ctx, &c->pending);
            continue;
        }
        if (avail == 0) break;
        char *p = c->rbuf + c->rpos;
        char *nl = memchr(p, '\n', avail);
        if (!nl) break;
        size_t len = (size_t)(nl - p);
        c->rpos += len + 1;
        if (len && p[len - 1] == '\r') len--;
        if (handle_line(c, p, len, h, ctx) < 0) {
            errno = EPROTO;
            return -1;
        }
    }
    /* Only a partial control line can remain (payloads are skipped by count): move it down. */
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    return 0;
}

ssize_t lg_read_events(lg_conn *c, lg_handler h, void *ctx) {
    if (c->rlen == c->rcap) {
        errno = EMSGSIZE;  /* a control line longer than the whole buffer */
        return -1;
    }
    ssize_t n;
    do {
        n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n == 0) c->eof = true;
        return n;
    }
    c->rlen += (size_t)n;
    if (parse(c, h, ctx) < 0) return -1;
    return n;
}

typedef struct {
    lg_handler h;
    void *ctx;
    int pongs, infos;
    char err[200];
} wait_ctx;

static void wait_handler(void *vctx, const lg_event *ev) {
    wait_ctx *w = vctx;
    if (ev->kind == LG_EV_PONG) w->pongs++;
    if (ev->kind == LG_EV_INFO) w->infos++;
    if (ev->kind == LG_EV_ERR && !w->err[0])
        snprintf(w->err, sizeof(w->err), "-ERR %.*s", (int)ev->text_len, ev->text);
    if (w->h) w->h(w->ctx, ev);
}

/* Reads until the wanted INFO or PONG arrives; 30 s at most (a benchmark setup step). */
static int wait_for(lg_conn *c, wait_ctx *w, bool want_info, char *err, size_t errlen) {
    double deadline = lg_now() + 30.0;
    for (;;) {
        if (w->err[0]) {
            snprintf(err, errlen, "server said %s", w->err);
            return -1;
        }
        if (want_info ? w->infos > 0 : w->pongs > 0) return 0;
        ssize_t n = lg_read_events(c, wait_handler, w);
        if (n == 0) {
            snprintf(err, errlen, "connection closed by the server%s%s", w->err[0] ? ": " : "",
                     w->err);
            return -1;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "read: %s", strerror(errno));
            return -1;
        }
        if (lg_now() > deadline) {
            snprintf(err, errlen, "no %s from the server within 30 s", want_info ? "INFO" : "PONG");
            return -1;
        }
    }
}

int lg_ping_pong(lg_conn *c, lg_handler h, void *ctx, char *err, size_t errlen) {
    wait_ctx w = {.h = h, .ctx = ctx};
    if (lg_write_all(c->fd, "PING\r\n", 6) < 0) {
        snprintf(err, errlen, "write: %s", strerror(errno));
        return -1;
    }
    lg_set_rcv_timeout(c->fd, 500);
    int rc = wait_for(c, &w, false, err, errlen);
    lg_set_rcv_timeout(c->fd, 0);
    return rc;
}

int lg_connect(lg_conn *c, const lg_opts *o, const char *name, size_t rcap, char *err,
               size_t errlen) {
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(o->host, o->port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "resolve %.100s: %s", o->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "connect %.100s:%s: %s", o->host, o->port, strerror(errno));
        return -1;
    }
    /* Latency matters for requests; publishers write big buffers, so Nagle buys nothing. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->rcap = rcap;
    c->rbuf = malloc(rcap);
    if (!c->rbuf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    wait_ctx w = {0};
    lg_set_rcv_timeout(fd, 500);
    if (wait_for(c, &w, true, err, errlen) < 0) return -1;
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,"
                     "\"name\":\"%s\",\"lang\":\"c\",\"version\":\"loadgen\",\"protocol\":1,"
                     "\"echo\":true,\"headers\":true}\r\n",
                     name);
    if (lg_write_all(fd, buf, (size_t)n) < 0) {
        snprintf(err, errlen, "write: %s", strerror(errno));
        return -1;
    }
    lg_set_rcv_timeout(fd, 0);
    return lg_ping_pong(c, NULL, NULL, err, errlen);
}

void lg_close(lg_conn *c) {
    if (c->fd >= 0) {
        /* Reset rather than FIN: thousands of sockets in TIME_WAIT would exhaust the local
         * ports of the next benchmark run against the same server port. */
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(c->fd);
    }
    free(c->rbuf);
    c->rbuf = NULL;
    c->fd = -1;
}
