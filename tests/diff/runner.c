/* Differential runner (see diff.h): two servers, one script, two transcripts, one comparison.
 *
 * Servers are started through the integration harness (tests/integration/harness.h), which
 * runs $NATS_SERVER_BIN; the runner points that variable at each binary in turn, in the main
 * thread, before each start.  The scripts then run in two threads with plain sockets and no
 * Criterion assertions; only the main thread asserts.
 */
#include "diff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "../integration/harness.h"

#define DIFF_DEADLINE_MS 5000

/* ---- growable byte buffer ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *data, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 + 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) {
    sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_fmt(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- escaping -------------------------------------------------------------------------------- */

static void esc_char(sbuf *b, unsigned char ch) {
    switch (ch) {
    case '\r':
        sb_str(b, "\\r");
        break;
    case '\n':
        sb_str(b, "\\n");
        break;
    case '\t':
        sb_str(b, "\\t");
        break;
    case '\\':
        sb_str(b, "\\\\");
        break;
    case '"':
        sb_str(b, "\\\"");
        break;
    default:
        if (ch < 0x20 || ch >= 0x7f)
            sb_fmt(b, "\\x%02x", ch);
        else
            sb_add(b, &ch, 1);
    }
}

/* Escaped bytes; a run of 16 or more equal bytes becomes \R{c*count} so that large payloads
 * stay readable.  Both transcripts go through the same function, so the comparison is exact. */
static void esc(sbuf *b, const char *data, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && data[j] == data[i])
            j++;
        if (j - i >= 16) {
            sb_str(b, "\\R{");
            esc_char(b, (unsigned char)data[i]);
            sb_fmt(b, "*%zu}", j - i);
            i = j;
        } else {
            esc_char(b, (unsigned char)data[i]);
            i++;
        }
    }
}

/* ---- INFO normalisation --------------------------------------------------------------------- */

/* Values that differ between any two servers (identity, build, per-process counters): the key
 * stays (presence and position are compared), the value becomes a typed placeholder. */
static const char *const masked_keys[] = {"server_id", "server_name", "version", "go",
                                          "port",      "client_id",   "nonce"};
/* Keys that one of the two servers lacks for reasons unrelated to client behaviour: xkey
 * (added in v2.10, absent from 2.9.10), git_commit (build metadata), api_lvl (JetStream API
 * level, added in v2.11).  Removed with their separator. */
static const char *const dropped_keys[] = {"xkey", "git_commit", "api_lvl"};

static bool key_in(const char *k, size_t kn, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == kn && memcmp(list[i], k, kn) == 0) return true;
    return false;
}

static size_t skip_ws(const char *p, size_t i, size_t n) {
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

/* End of the JSON string starting at p[i] == '"', or 0 on error. */
static size_t skip_string(const char *p, size_t i, size_t n) {
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* End of the JSON value starting at p[i], or 0 on error. */
static size_t skip_value(const char *p, size_t i, size_t n) {
    if (i >= n) return 0;
    if (p[i] == '"') return skip_string(p, i, n);
    if (p[i] == '{' || p[i] == '[') {
        int depth = 0;
        for (; i < n; i++) {
            if (p[i] == '"') {
                size_t e = skip_string(p, i, n);
                if (!e) return 0;
                i = e - 1;
            } else if (p[i] == '{' || p[i] == '[') {
                depth++;
            } else if (p[i] == '}' || p[i] == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return 0;
    }
    size_t s = i;
    while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ' ' && p[i] != '\r')
        i++;
    return i > s ? i : 0;
}

/* p[0..n) is one line "INFO {...}...".  Appends the normalised line to out; false (and nothing
 * appended) when the JSON cannot be scanned, so the caller keeps the raw bytes. */
static bool norm_info(const char *p, size_t n, sbuf *out) {
    size_t i = 5; /* "INFO " */
    i = skip_ws(p, i, n);
    if (i >= n || p[i] != '{') return false;
    sbuf o = {0};
    sb_add(&o, p, i + 1);
    i++;
    bool first_kept = true;
    size_t prev_end = i; /* end of the previous member (or just after '{') */
    for (;;) {
        size_t sep_start = prev_end;
        i = skip_ws(p, i, n);
        if (i < n && p[i] == '}') break;
        if (i >= n || p[i] != '"') goto fail;
        size_t ks = i, ke = skip_string(p, i, n);
        if (!ke) goto fail;
        i = skip_ws(p, ke, n);
        if (i >= n || p[i] != ':') goto fail;
        i = skip_ws(p, i + 1, n);
        size_t vs = i, ve = skip_value(p, i, n);
        if (!ve) goto fail;
        const char *key = p + ks + 1;
        size_t kn = ke - ks - 2;
        if (!key_in(key, kn, dropped_keys, sizeof dropped_keys / sizeof *dropped_keys)) {
            /* Separator: the original text before this member, except that the first kept
             * member takes the text between '{' and the first member. */
            if (first_kept) {
                const char *s = p + sep_start;
                size_t sn = ks - sep_start;
                if (sn && s[0] == ',') s++, sn--;
                sb_add(&o, s, sn);
            } else {
                sb_add(&o, p + sep_start, ks - sep_start);
            }
            first_kept = false;
            if (key_in(key, kn, masked_keys, sizeof masked_keys / sizeof *masked_keys)) {
                sb_add(&o, p + ks, vs - ks);
                sb_str(&o, p[vs] == '"' ? "\"<str>\"" : "<num>");
            } else {
                sb_add(&o, p + ks, ve - ks);
            }
        }
        prev_end = ve;
        i = skip_ws(p, ve, n);
        if (i < n && p[i] == ',') {
            i++;
            continue;
        }
        if (i < n && p[i] == '}') break;
        goto fail;
    }
    sb_add(&o, p + prev_end, n - prev_end); /* closing brace, trailing space, CRLF */
    sb_add(out, o.p, o.len);
    free(o.p);
    return true;
fail:
    free(o.p);
    return false;
}

/* Append the received bytes to the transcript: INFO lines normalised, everything escaped. */
static void record_bytes(sbuf *t, const char *data, size_t n) {
    sbuf norm = {0};
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - data) + 1 : n;
        if (e - i > 5 && memcmp(data + i, "INFO ", 5) == 0 && norm_info(data + i, e - i, &norm)) {
            /* normalised */
        } else {
            sb_add(&norm, data + i, e - i);
        }
        i = e;
    }
    esc(t, norm.p ? norm.p : "", norm.len);
    free(norm.p);
}

/* ---- one script against one server ---------------------------------------------------------- */

typedef struct {
    int fd;  /* -1: not open */
    sbuf in; /* received, not yet consumed */
    bool eof;
    int err; /* connect error */
} dconn;

typedef struct {
    const diff_case *dc;
    int port;
    sbuf transcript;
    dconn conns[DIFF_MAX_CONNS];
} drun;

static int64_t now_ms(void) {
    return h_now_ms();
}

/* Poll and read once: >0 bytes, 0 at EOF/reset, -ETIMEDOUT. */
static ssize_t dread(dconn *c, int timeout_ms) {
    if (c->eof || c->fd < 0) return 0;
    for (;;) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) return -ETIMEDOUT;
        char buf[65536];
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r > 0) {
            sb_add(&c->in, buf, (size_t)r);
            return r;
        }
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        c->eof = true; /* 0, ECONNRESET or any other error: the connection is gone */
        return 0;
    }
}

static void consume(dconn *c, size_t n) {
    memmove(c->in.p, c->in.p + n, c->in.len - n);
    c->in.len -= n;
    c->in.p[c->in.len] = '\0';
}

static void dsend(dconn *c, const char *data, size_t n) {
    if (c->fd < 0) return;
    size_t done = 0;
    int64_t deadline = now_ms() + DIFF_DEADLINE_MS;
    while (done < n) {
        ssize_t w = send(c->fd, data + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        /* A send that fails because the server already closed is not recorded: whether the
         * failure shows at this write or the next is a race.  The reads record the close. */
        if (w < 0 && errno != EAGAIN) return;
        if (now_ms() >= deadline) return;
        /* The server may not read while it writes to us (slow consumer cases): keep draining
         * what it sends so neither side blocks. */
        struct pollfd pfd = {.fd = c->fd, .events = POLLOUT | POLLIN};
        poll(&pfd, 1, 50);
        if (pfd.revents & POLLIN) dread(c, 0);
    }
}

static const char *kind_name(diff_step_kind k) {
    switch (k) {
    case DS_OPEN:
        return "open";
    case DS_LINE:
        return "line";
    case DS_SETTLE:
        return "settle";
    case DS_SYNC:
        return "sync";
    case DS_CLOSED:
        return "closed?";
    default:
        return "?";
    }
}

/* ---- unordered steps: sort protocol units --------------------------------------------------- */

typedef struct {
    const char *p;
    size_t n;
} unit;

static int unit_cmp(const void *a, const void *b) {
    const unit *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Length of the unit at p: a line, or for MSG/HMSG the line plus <last arg> payload bytes and
 * their CRLF (clipped to what is there). */
static size_t unit_len(const char *p, size_t n) {
    const char *nl = memchr(p, '\n', n);
    size_t line = nl ? (size_t)(nl - p) + 1 : n;
    if (!nl || !((n >= 4 && !memcmp(p, "MSG ", 4)) || (n >= 5 && !memcmp(p, "HMSG ", 5))))
        return line;
    size_t e = line;
    while (e > 0 && (p[e - 1] == '\r' || p[e - 1] == '\n'))
        e--;
    size_t b = e;
    while (b > 0 && p[b - 1] >= '0' && p[b - 1] <= '9')
        b--;
    size_t size = 0;
    for (size_t i = b; i < e; i++)
        size = size * 10 + (size_t)(p[i] - '0');
    size_t total = line + size + 2;
    return total < n ? total : n;
}

static char *sort_units(const char *data, size_t n) {
    unit *u = NULL;
    size_t nu = 0;
    for (size_t i = 0; i < n;) {
        size_t l = unit_len(data + i, n - i);
        u = realloc(u, (nu + 1) * sizeof *u);
        u[nu++] = (unit){data + i, l};
        i += l;
    }
    if (nu) qsort(u, nu, sizeof *u, unit_cmp);
    char *out = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < nu; i++) {
        memcpy(out + o, u[i].p, u[i].n);
        o += u[i].n;
    }
    out[o] = '\0';
    free(u);
    return out;
}

static void record_step(drun *r, const diff_step *st, size_t n, const char *note) {
    dconn *c = &r->conns[st->conn];
    sbuf *t = &r->transcript;
    sb_fmt(t, "c%d %-7s \"", st->conn, kind_name(st->kind));
    if (st->kind == DS_SYNC && st->arg == 1 && n) {
        char *sorted = sort_units(c->in.p, n);
        record_bytes(t, sorted, n);
        free(sorted);
        note = note ? note : "(units sorted)";
    } else {
        record_bytes(t, c->in.p ? c->in.p : "", n);
    }
    sb_str(t, "\"");
    if (note) sb_fmt(t, " %s", note);
    if (c->eof && c->in.len == n) sb_str(t, " <closed>");
    sb_str(t, "\n");
    consume(c, n);
}

/* Index just past the first occurrence of needle in c->in, or 0. */
static size_t find_end(dconn *c, const char *needle) {
    if (!c->in.len) return 0;
    char *f = memmem(c->in.p, c->in.len, needle, strlen(needle));
    return f ? (size_t)(f - c->in.p) + strlen(needle) : 0;
}

/* Read until needle is in the buffer, the connection closes or the deadline passes; record
 * through the needle (or everything, with a note). */
static void read_until(drun *r, const diff_step *st, const char *needle) {
    dconn *c = &r->conns[st->conn];
    int64_t deadline = now_ms() + DIFF_DEADLINE_MS;
    size_t end;
    while (!(end = find_end(c, needle))) {
        if (c->eof) break;
        if (dread(c, (int)(deadline - now_ms())) == -ETIMEDOUT) break;
    }
    if (end)
        record_step(r, st, end, NULL);
    else
        record_step(r, st, c->in.len, c->eof ? NULL : "<timeout>");
}

static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int one = 1; /* each send() its own segment: split-frame cases depend on it */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void run_step(drun *r, const diff_step *st) {
    if (st->conn < 0 || st->conn >= DIFF_MAX_CONNS) {
        sb_fmt(&r->transcript, "<step uses connection %d, outside 0..%d>\n", st->conn,
               DIFF_MAX_CONNS - 1);
        return;
    }
    dconn *c = &r->conns[st->conn];
    int idle = r->dc->idle_ms > 0 ? r->dc->idle_ms : DIFF_IDLE_MS;
    switch (st->kind) {
    case DS_OPEN: {
        int fd = tcp_connect(r->port);
        if (fd < 0) {
            sb_fmt(&r->transcript, "c%d open    <connect failed: %s>\n", st->conn, strerror(-fd));
            c->eof = true;
            return;
        }
        c->fd = fd;
        read_until(r, st, "\r\n");
        return;
    }
    case DS_SEND:
        dsend(c, st->data, st->len ? st->len : strlen(st->data));
        return;
    case DS_SPLIT: {
        size_t n = st->len ? st->len : strlen(st->data);
        size_t chunk = st->arg > 0 ? (size_t)st->arg : 1;
        for (size_t i = 0; i < n; i += chunk) {
            dsend(c, st->data + i, n - i < chunk ? n - i : chunk);
            h_pause_ms(2); /* lets the server read each chunk on its own; not a wait */
        }
        return;
    }
    case DS_LINE:
        read_until(r, st, "\r\n");
        return;
    case DS_SYNC:
        dsend(c, "PING\r\n", 6);
        read_until(r, st, "PONG\r\n");
        return;
    case DS_SETTLE: {
        int64_t deadline = now_ms() + DIFF_DEADLINE_MS;
        while (!c->eof && now_ms() < deadline && dread(c, idle) > 0) {
        }
        record_step(r, st, c->in.len, NULL);
        return;
    }
    case DS_CLOSED: {
        int64_t deadline = now_ms() + DIFF_DEADLINE_MS;
        while (!c->eof && now_ms() < deadline)
            dread(c, (int)(deadline - now_ms()));
        record_step(r, st, c->in.len, c->eof ? NULL : "<still open>");
        return;
    }
    case DS_PAUSE:
        h_pause_ms(st->arg);
        return;
    case DS_SHUT:
        if (c->fd >= 0) close(c->fd);
        c->fd = -1;
        c->eof = true;
        return;
    }
}

static void *run_script(void *arg) {
    drun *r = arg;
    for (int i = 0; i < DIFF_MAX_CONNS; i++)
        r->conns[i].fd = -1;
    for (size_t i = 0; i < r->dc->nsteps; i++)
        run_step(r, &r->dc->steps[i]);
    for (int i = 0; i < DIFF_MAX_CONNS; i++) {
        if (r->conns[i].fd >= 0) close(r->conns[i].fd);
        free(r->conns[i].in.p);
    }
    if (!r->transcript.p) sb_str(&r->transcript, "");
    return NULL;
}

/* ---- comparison ---------------------------------------------------------------------------- */

static char *replace_all(const char *s, const char *from, const char *to) {
    sbuf o = {0};
    size_t fl = strlen(from);
    const char *p = s, *f;
    while (fl && (f = strstr(p, from)) != NULL) {
        sb_add(&o, p, (size_t)(f - p));
        sb_str(&o, to);
        p = f + fl;
    }
    sb_str(&o, p);
    return o.p;
}

/* 1-based number of the first line where a and b differ. */
static int first_diff_line(const char *a, const char *b) {
    int line = 1;
    for (; *a && *a == *b; a++, b++)
        if (*a == '\n') line++;
    return line;
}

static const char *kind_label(diff_expect_kind k) {
    switch (k) {
    case DX_VERSION:
        return "Go 2.9.10 vs v2.14.5";
    case DX_INTENDED:
        return "intended difference";
    case DX_BUG:
        return "KNOWN BUG in ours";
    case DX_PENDING:
        return "pending feature";
    }
    return "?";
}

void diff_run(const diff_case *dc) {
    const char *name = criterion_current_test->name;
    const char *go_bin = getenv("GO_NATS_SERVER");
    const char *our_bin = getenv("NATS_SERVER_BIN");
    if (!our_bin || !*our_bin) cr_assert_fail("NATS_SERVER_BIN is not set");
    if (!go_bin || !*go_bin || access(go_bin, X_OK) != 0)
        cr_skip_test("GO_NATS_SERVER (%s) is not an executable Go nats-server",
                     go_bin ? go_bin : "unset");
    const diff_expect *ex = NULL;
    for (size_t i = 0; i < diff_expected_count; i++)
        if (!strcmp(diff_expected[i].test, name)) ex = &diff_expected[i];
    if (ex && ex->kind == DX_PENDING && !getenv("DIFF_RUN_PENDING")) cr_skip_test("%s", ex->reason);
    /* Self-check mode (both variables name the same binary): every case must give identical
     * transcripts on two runs of one server, which shows the case itself is deterministic. */
    if (!strcmp(go_bin, our_bin)) ex = NULL;
    char *ours_env = strdup(our_bin);

    /* The harness starts $NATS_SERVER_BIN: point it at each binary in turn. */
    setenv("NATS_SERVER_BIN", go_bin, 1);
    h_server *gs = h_server_start(dc->config);
    setenv("NATS_SERVER_BIN", ours_env, 1);
    h_server *os = h_server_start(dc->config);

    drun gr = {.dc = dc, .port = gs->port};
    drun orr = {.dc = dc, .port = os->port};
    pthread_t gt, ot;
    pthread_create(&gt, NULL, run_script, &gr);
    pthread_create(&ot, NULL, run_script, &orr);
    pthread_join(gt, NULL);
    pthread_join(ot, NULL);
    /* A server that died during the script (a crash shows up to the client as a close) fails
     * the case whatever the transcripts say.  WNOWAIT leaves the child for the harness. */
    char died[160] = "";
    h_server *both[2] = {gs, os};
    for (int i = 0; i < 2; i++) {
        siginfo_t si = {0};
        if (both[i]->pid > 0 &&
            waitid(P_PID, (id_t)both[i]->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == both[i]->pid)
            snprintf(died, sizeof died, "%s server exited during the case (%s %d)",
                     i ? "our" : "the Go", si.si_code == CLD_EXITED ? "status" : "signal",
                     si.si_status);
    }
    h_server_stop(gs);
    h_server_stop(os);
    free(ours_env);

    char *go_t = gr.transcript.p, *our_t = orr.transcript.p;
    if (died[0]) {
        cr_log_error("diff %s: %s\n--- go\n%s--- ours\n%s", name, died, go_t, our_t);
        cr_assert_fail("diff %s: %s", name, died);
    }
    char *go_cmp = strdup(go_t);
    if (ex && ex->go_from) {
        char *rw = replace_all(go_cmp, ex->go_from, ex->go_to);
        if (!strcmp(rw, go_cmp))
            fprintf(stderr, "[NOTE] diff %s: rewrite '%s' did not apply to Go's transcript\n", name,
                    ex->go_from);
        free(go_cmp);
        go_cmp = rw;
    }
    bool same = strcmp(go_cmp, our_t) == 0;
    if (getenv("DIFF_VERBOSE"))
        fprintf(stderr, "=== diff %s\n--- go (%s)\n%s--- ours\n%s", name, go_bin, go_t, our_t);

    if (same) {
        if (ex && (ex->kind == DX_BUG || ex->kind == DX_PENDING))
            fprintf(stderr,
                    "[NOTE] diff %s: listed as %s (%s) but the transcripts now match; "
                    "update tests/diff/expected.c\n",
                    name, kind_label(ex->kind), ex->reason);
    } else if (ex && (ex->kind == DX_BUG || ex->kind == DX_PENDING)) {
        /* Printed, not cr_log_warn: Criterion 2.4 exits 1 when a test logs a warning. */
        fprintf(stderr, "[NOTE] diff %s: %s: %s\n--- go%s\n%s--- ours\n%s", name,
                kind_label(ex->kind), ex->reason,
                ex->go_from ? " (rewritten to the v2.14.5 bytes)" : "", go_cmp, our_t);
    } else {
        int line = first_diff_line(go_cmp, our_t);
        cr_log_error("diff %s: transcripts differ at line %d%s%s\n--- go (%s)%s\n%s"
                     "--- ours (%s)\n%s",
                     name, line, ex ? "; expected difference: " : "", ex ? ex->reason : "", go_bin,
                     ex && ex->go_from ? ", after the expected rewrite" : "", go_cmp, our_bin,
                     our_t);
        free(go_cmp);
        free(go_t);
        free(our_t);
        cr_assert_fail("diff %s: Go and ours differ at transcript line %d (see log)", name, line);
    }
    free(go_cmp);
    free(go_t);
    free(our_t);
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Built strings live until the test process exits; a global list keeps them reachable so
 * leak checkers do not report them. */
static char *rep_strings[64];
static size_t rep_count;

const char *diff_rep(const char *prefix, char ch, size_t n, const char *suffix) {
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    cr_assert_not_null(s);
    memcpy(s, prefix, pl);
    memset(s + pl, ch, n);
    memcpy(s + pl + n, suffix, sl + 1);
    if (rep_count < sizeof rep_strings / sizeof rep_strings[0]) rep_strings[rep_count++] = s;
    return s;
}
