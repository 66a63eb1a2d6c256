/* Helpers shared by the configuration tests (test_config_check.c, test_opts.c): run the server
 * binary ($NATS_SERVER_BIN) to completion in a directory with extra environment variables,
 * and compare what `-t` prints with Go's text.  Static functions: each test executable
 * includes this once. */
#ifndef NX_IT_CONF_UTIL_H
#define NX_IT_CONF_UTIL_H

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/integration/harness.h"

typedef struct run_out {
    int status; /* exit status; -1 when it had to be killed */
    char *out, *err;
} run_out;

static inline char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);
    size_t n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    return buf;
}

static inline char *tmp_dir(void) {
    char *d = strdup("/tmp/nxconf.XXXXXX");
    cr_assert(mkdtemp(d));
    return d;
}

/* Writes dir/name; returns the path (malloc'd). */
static inline char *put(const char *dir, const char *name, const char *text) {
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f, "create %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

static inline void rm_dir(char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

/* Runs $NATS_SERVER_BIN args... (NULL-terminated) in dir with extra environment entries
 * ("K=V", NULL-terminated, may be NULL); waits for it to exit (10 s at most). */
static inline run_out run_env(const char *dir, const char *const *env, const char *const *args) {
    const char *bin = getenv("NATS_SERVER_BIN");
    cr_assert(bin, "NATS_SERVER_BIN is not set");
    char op[256], ep[256];
    snprintf(op, sizeof op, "%s/.out", dir);
    snprintf(ep, sizeof ep, "%s/.err", dir);
    const char *argv[24] = {bin};
    for (int i = 0; args[i] && i < 22; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int o = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || nul < 0 || chdir(dir) < 0) _exit(126);
        dup2(nul, 0);
        dup2(o, 1);
        dup2(e, 2);
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    for (int64_t end = h_now_ms() + 10000; waitpid(pid, &st, WNOHANG) == 0; h_pause_ms(5)) {
        if (h_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }
    run_out r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(op), slurp(ep)};
    return r;
}
#define RUN(dir, ...) run_env((dir), NULL, (const char *const[]){__VA_ARGS__, NULL})

static inline void run_free(run_out *r) {
    free(r->out);
    free(r->err);
}

/* text with every %F replaced by path (malloc'd). */
static inline char *subst(const char *text, const char *path) {
    size_t cap = strlen(text) + 16 * (strlen(path) + 1) + 1, n = 0;
    char *out = malloc(cap);
    for (const char *p = text; *p && n + strlen(path) + 2 < cap; p++) {
        if (p[0] == '%' && p[1] == 'F') {
            n += (size_t)snprintf(out + n, cap - n, "%s", path);
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

/* `-c path -t` in dir.  want NULL: the file is valid (exit 0, Go's "is valid" line).  Else exit
 * 1 and stderr, from its first "nats-server: " on, is exactly "nats-server: " + want (%F: the
 * path).  Go prints a file's problems one per line, then an empty line; other errors are one
 * line.  Anything before (this server's notices) is not compared. */
static inline void check_file(const char *dir, const char *path, const char *want,
                              const char *what) {
    run_out r = RUN(dir, "-c", path, "-t");
    if (!want) {
        char ok[600];
        snprintf(ok, sizeof ok, "nats-server: configuration file %s is valid (sha256:", path);
        cr_expect_eq(r.status, 0, "%s: want valid, got status %d: %s", what, r.status, r.err);
        cr_expect(strstr(r.err, ok), "%s: %s", what, r.err);
    } else {
        char *w = subst(want, path), *exp = malloc(strlen(w) + 16);
        sprintf(exp, "nats-server: %s", w);
        const char *tail = strstr(r.err, "nats-server: ");
        cr_expect_eq(r.status, 1, "%s: status %d: %s", what, r.status, r.err);
        cr_expect(!strcmp(tail ? tail : r.err, exp), "%s:\n--- got:\n%s--- want:\n%s", what, r.err,
                  exp);
        free(w);
        free(exp);
    }
    run_free(&r);
}

/* check_file on text written to t.conf in a fresh directory. */
static inline void check_conf(const char *text, const char *want) {
    char *dir = tmp_dir(), *path = put(dir, "t.conf", text);
    check_file(dir, path, want, text);
    free(path);
    rm_dir(dir);
}

/* ---- servers started without the harness' -a/-p flags --------------------------------- */

static inline int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t l = sizeof a;
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* A server started without the harness' -a/-p flags, so the file's listen/port apply: waits
 * for its ports file and returns it (parsed); *pid for stop(). */
static inline json_t *start_plain(const char *dir, const char *const *env, const char *const *args,
                                  pid_t *pid) {
    const char *bin = getenv("NATS_SERVER_BIN");
    const char *argv[24] = {bin, "--ports_file_dir", dir};
    for (int i = 0; args[i] && i < 20; i++)
        argv[i + 3] = args[i];
    char lp[256];
    snprintf(lp, sizeof lp, "%s/server.log", dir);
    *pid = fork();
    cr_assert(*pid >= 0);
    if (*pid == 0) {
        int l = open(lp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (l < 0 || chdir(dir) < 0) _exit(126);
        dup2(l, 1);
        dup2(l, 2);
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    char pf[300];
    snprintf(pf, sizeof pf, "%s/nats-server_%d.ports", dir, (int)*pid);
    for (int64_t end = h_now_ms() + 5000; h_now_ms() < end; h_pause_ms(10)) {
        json_t *j = json_load_file(pf, 0, NULL);
        if (j) return j;
        int st;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            char *log = slurp(lp);
            cr_assert_fail("server exited: %s", log);
        }
    }
    cr_assert_fail("no ports file %s", pf);
    return NULL;
}

static inline void stop(pid_t pid) {
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
}

/* Port of the first URL of a ports-file list ("nats" or "monitoring"). */
static inline int url_port(json_t *ports, const char *list, char *host, size_t cap) {
    const char *u = json_string_value(json_array_get(json_object_get(ports, list), 0));
    cr_assert(u, "no %s URL in the ports file", list);
    const char *h = strstr(u, "://") + 3, *c = strrchr(u, ':');
    if (host) snprintf(host, cap, "%.*s", (int)(c - h), h);
    return atoi(c + 1);
}

/* A CA-less self-signed certificate for 127.0.0.1 in dir: cert.pem, key.pem. */
static inline void make_cert(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.pem -out cert.pem -days 2 -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

#endif
