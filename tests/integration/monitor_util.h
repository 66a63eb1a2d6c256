/* Helpers shared by the monitoring tests (test_monitor.c, test_monitor_connz.c): a raw-socket
 * HTTP client, JSON accessors, the monitoring port from the ports file, client helpers.
 * Static functions: each test executable includes this once. */
#ifndef NX_IT_MONITOR_UTIL_H
#define NX_IT_MONITOR_UTIL_H

#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

#define QUIET "{\"verbose\":false,\"pedantic\":false}"

/* ---- HTTP ---------------------------------------------------------------------------------- */

typedef struct http_resp {
    int status;
    char ctype[128];
    char acao[16];
    char *body;
} http_resp;

static inline int http_get_raw(int port, const char *path, http_resp *r) {
    memset(r, 0, sizeof *r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    int64_t deadline = h_now_ms() + 10000;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - h_now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) break;
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (!body || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        return -1;
    }
    *body = '\0';
    for (char *save = NULL, *l = strtok_r(buf, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
        if (!strncasecmp(l, "Content-Type: ", 14)) snprintf(r->ctype, sizeof r->ctype, "%s", l + 14);
        if (!strncasecmp(l, "Access-Control-Allow-Origin: ", 29))
            snprintf(r->acao, sizeof r->acao, "%s", l + 29);
    }
    r->body = strdup(body + 4);
    free(buf);
    return 0;
}

/* Go readBodyEx: expects the status and content type; returns the body (malloc'd). */
static inline char *read_body_ex(int port, const char *path, int status, const char *ctype) {
    http_resp r;
    cr_assert_eq(http_get_raw(port, path, &r), 0, "GET %s failed", path);
    cr_assert_eq(r.status, status, "GET %s: status %d, want %d: %s", path, r.status, status, r.body);
    cr_assert_str_eq(r.ctype, ctype, "GET %s: content type", path);
    if (!strcmp(ctype, "application/json")) cr_assert_str_eq(r.acao, "*");
    return r.body;
}

static inline json_t *get_json(int port, const char *path) {
    char *body = read_body_ex(port, path, 200, "application/json");
    json_error_t e;
    json_t *j = json_loads(body, 0, &e);
    cr_assert(j, "GET %s: bad JSON (%s): %s", path, e.text, body);
    free(body);
    return j;
}

#define JI(o, k) json_integer_value(json_object_get((o), (k)))
#define JS(o, k) json_string_value(json_object_get((o), (k)))

static const char *const TEXT = "text/plain; charset=utf-8";

/* The monitoring port from the server's ports file; 0 when it lists none. */
static inline int mon_port(const h_server *s) {
    DIR *d = opendir(s->dir);
    int port = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 6, ".ports")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
        json_t *j = json_load_file(path, 0, NULL);
        const char *u = json_string_value(json_array_get(json_object_get(j, "monitoring"), 0));
        if (u) port = atoi(strrchr(u, ':') + 1);
        json_decref(j);
    }
    if (d) closedir(d);
    return port;
}

/* Go's RFC 3339 text (trimmed nanoseconds, Z or offset) as nanoseconds, for ordering. */
static inline int64_t ts_ns(const char *s) {
    struct tm tm = {0};
    const char *p = strptime(s ? s : "", "%Y-%m-%dT%H:%M:%S", &tm);
    cr_assert(p, "bad time %s", s);
    int64_t frac = 0;
    int digits = 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) frac = frac * 10 + (*p - '0');
    for (; digits < 9; digits++) frac *= 10;
    int64_t off = 0;
    if (*p == '+' || *p == '-') off = (p[0] == '-' ? -1 : 1) * (atoi(p + 1) * 3600 + atoi(p + 4) * 60);
    return ((int64_t)timegm(&tm) - off) * 1000000000 + frac;
}

/* Runs the server binary expecting it to refuse to start; returns its output (malloc'd). */
static inline char *run_refused(const char *args) {
    char cmd[1024], *out = calloc(1, 65536);
    snprintf(cmd, sizeof cmd, "timeout 10 %s -a 127.0.0.1 -p -1 %s 2>&1", getenv("NATS_SERVER_BIN"),
             args);
    FILE *f = popen(cmd, "r");
    size_t n = fread(out, 1, 65535, f);
    out[n] = '\0';
    int st = pclose(f);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: status %d: %s", args, st, out);
    return out;
}

static h_server *srv;
static int mp; /* monitoring port */

static inline void start(const char *conf, const char *workers) {
    srv = h_server_start(conf, "-m", "-1", "--workers", workers);
    mp = mon_port(srv);
    cr_assert_gt(mp, 0, "no monitoring port in the ports file");
}

static inline void fini(void) {
    h_server_stop(srv);
    srv = NULL;
}

/* PING/PONG round trip, discarding whatever arrives before the PONG (delivered messages). */
static inline void sync_conn(h_conn *c) {
    h_send(c, "PING\r\n");
    for (;;) {
        char *l = h_expect_re(c, "[^\r\n]*\r\n");
        bool pong = strcmp(l, "PONG\r\n") == 0;
        free(l);
        if (pong) return;
    }
}

/* Go createClientConnSubscribeAndPublish: SUB foo, PUB foo "Hello", auto-unsubscribed. */
static inline h_conn *sub_pub(const char *name) {
    char connect[256];
    snprintf(connect, sizeof connect,
             "{\"verbose\":false,\"pedantic\":false,\"lang\":\"c\",\"version\":\"1.0\"%s%s%s}",
             name ? ",\"name\":\"" : "", name ? name : "", name ? "\"" : "");
    h_conn *c = h_connect_setup(srv->port, connect);
    h_send(c, "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 5\r\nHello\r\n");
    sync_conn(c);
    return c;
}

static inline json_t *connz(const char *query) {
    char path[512];
    snprintf(path, sizeof path, "/connz%s", query);
    return get_json(mp, path);
}

/* Polls /connz<query> until it lists n connections (Go checkClosedConns and the like). */
static inline json_t *connz_wait(const char *query, size_t n) {
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        json_t *j = connz(query);
        size_t have = json_array_size(json_object_get(j, "connections"));
        if (have == n || h_now_ms() > deadline) {
            cr_assert_eq(have, n, "/connz%s: %zu connections, want %zu", query, have, n);
            return j;
        }
        json_decref(j);
        h_pause_ms(10);
    }
}

static inline json_t *conn_at(json_t *cz, size_t i) {
    return json_array_get(json_object_get(cz, "connections"), i);
}


#endif
