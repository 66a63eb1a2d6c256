/* tests/raftd/rdh.c: process and control-socket harness for nats-raftd tests (see rdh.h).
 * Process handling follows tests/integration/harness.c (PDEATHSIG, logs appended per
 * incarnation); the control client is raftd's line-delimited JSON. */
#include "rdh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t live[64];
static int n_live;
static char bases[16][64];
static int n_bases;

__attribute__((destructor)) static void rdh_cleanup(void)
{
    for (int i = 0; i < n_live; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
        }
    if (getenv("RDH_KEEP")) /* keep the logs and state for a post-mortem */
        return;
    for (int i = 0; i < n_bases; i++) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bases[i]);
        if (system(cmd) != 0) {
        }
    }
}

static void track(pid_t p, bool add)
{
    for (int i = 0; i < n_live; i++)
        if (live[i] == (add ? 0 : p)) {
            live[i] = add ? p : 0;
            return;
        }
    if (add && n_live < 64)
        live[n_live++] = p;
}

int64_t rdh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rdh_pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void node_setup(rdh_cluster *c, int i, bool use_conf, const char *const *extra)
{
    rdh_node *nd = &c->nodes[i];
    memset(nd, 0, sizeof(*nd));
    char base[64];
    memcpy(base, c->base, sizeof(base));
    snprintf(nd->name, sizeof(nd->name), "n%d", i + 1);
    nd->port = free_port();
    snprintf(nd->dir, sizeof(nd->dir), "%s/n%d", base, i + 1);
    snprintf(nd->sock, sizeof(nd->sock), "%s/n%d.sock", base, i + 1);
    snprintf(nd->log, sizeof(nd->log), "%s/n%d.log", base, i + 1);
    snprintf(nd->conf, sizeof(nd->conf), "%s/n%d.conf", base, i + 1);
    nd->use_conf = use_conf;
    for (int k = 0; extra && extra[k] && k < 7; k++)
        nd->extra[k] = extra[k];
}

static void set_routes(rdh_cluster *c, rdh_node *nd, int upto)
{
    nd->routes[0] = 0;
    for (int j = 0; j < upto; j++) {
        size_t l = strlen(nd->routes);
        snprintf(nd->routes + l, sizeof(nd->routes) - l, "%snats-route://127.0.0.1:%d",
                 j ? "," : "", c->nodes[j].port);
    }
}

void rdh_cluster_init(rdh_cluster *c, int n, bool use_conf, const char *const *extra)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->base, sizeof(c->base), "/tmp/raftdt.XXXXXX");
    cr_assert(mkdtemp(c->base), "mkdtemp: %s", strerror(errno));
    if (n_bases < 16)
        snprintf(bases[n_bases++], sizeof(bases[0]), "%s", c->base);
    c->n = n;
    for (int i = 0; i < n; i++)
        node_setup(c, i, use_conf, extra);
    for (int i = 0; i < n; i++)
        set_routes(c, &c->nodes[i], n);
}

rdh_node *rdh_cluster_add(rdh_cluster *c)
{
    cr_assert(c->n < RDH_MAX_NODES);
    int i = c->n++;
    node_setup(c, i, false, c->nodes[0].extra);
    set_routes(c, &c->nodes[i], i + 1);
    return &c->nodes[i];
}

static void write_conf(rdh_node *nd)
{
    FILE *f = fopen(nd->conf, "w");
    cr_assert(f);
    fprintf(f, "server_name: %s\n# the broker's keys are ignored by raftd\nport: 4222\n"
               "cluster {\n  name: rtest\n  listen: \"127.0.0.1:%d\"\n  routes: [\n",
            nd->name, nd->port);
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", nd->routes);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
        fprintf(f, "    %s\n", t);
    fprintf(f, "  ]\n}\njetstream {\n  store_dir: \"%s\"\n}\n", nd->dir);
    fclose(f);
}

bool rdh_alive(rdh_node *nd)
{
    if (nd->pid <= 0)
        return false;
    if (waitpid(nd->pid, NULL, WNOHANG) == nd->pid) {
        track(nd->pid, false);
        nd->pid = 0;
        return false;
    }
    return true;
}

void rdh_start(rdh_node *nd)
{
    const char *bin = getenv("RAFTD_BIN");
    cr_assert(bin, "RAFTD_BIN not set");
    char port[32];
    snprintf(port, sizeof(port), "127.0.0.1:%d", nd->port);
    const char *argv[40];
    int a = 0;
    argv[a++] = bin;
    if (nd->use_conf) {
        write_conf(nd);
        argv[a++] = "-c";
        argv[a++] = nd->conf;
    } else {
        argv[a++] = "--name";
        argv[a++] = nd->name;
        argv[a++] = "--cluster_listen";
        argv[a++] = port;
        argv[a++] = "--routes";
        argv[a++] = nd->routes;
        argv[a++] = "--store_dir";
        argv[a++] = nd->dir;
        argv[a++] = "--cluster_name";
        argv[a++] = "rtest";
    }
    const char *fixed[] = {"--control_socket", nd->sock, "--election_timeout", "300,600",
                           "--heartbeat", "100", "--tick", "20", "--lost_quorum", "2000",
                           "--bootstrap_wait", "5000"};
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
        argv[a++] = fixed[k];
    for (int k = 0; nd->extra[k]; k++)
        argv[a++] = nd->extra[k];
    argv[a] = NULL;
    int logfd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    cr_assert(logfd >= 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(logfd, 1);
        dup2(logfd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(logfd);
    nd->pid = pid;
    track(pid, true);
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        json_t *r = rdh_req(nd, "{\"op\":\"ping\"}");
        if (r) {
            json_decref(r);
            return;
        }
        cr_assert(rdh_alive(nd), "%s exited during startup, see %s", nd->name, nd->log);
        cr_assert(rdh_now_ms() < deadline, "%s: control socket never answered", nd->name);
        rdh_pause_ms(10);
    }
}

static void reap(rdh_node *nd, int sig)
{
    if (nd->pid <= 0)
        return;
    kill(nd->pid, sig);
    int64_t deadline = rdh_now_ms() + 10000;
    while (waitpid(nd->pid, NULL, WNOHANG) != nd->pid) {
        if (rdh_now_ms() > deadline) {
            kill(nd->pid, SIGKILL);
            waitpid(nd->pid, NULL, 0);
            break;
        }
        rdh_pause_ms(5);
    }
    track(nd->pid, false);
    nd->pid = 0;
}

void rdh_kill9(rdh_node *nd)
{
    reap(nd, SIGKILL);
}

void rdh_stop(rdh_node *nd)
{
    reap(nd, SIGTERM);
}

void rdh_cluster_stop(rdh_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        rdh_stop(&c->nodes[i]);
}

bool rdh_conn_open(rdh_conn *k, rdh_node *nd)
{
    memset(k, 0, sizeof(*k));
    k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert(strlen(nd->sock) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, nd->sock, strlen(nd->sock) + 1);
    if (k->fd < 0 || connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (k->fd >= 0)
            close(k->fd);
        k->fd = -1;
        return false;
    }
    return true;
}

bool rdh_conn_send(rdh_conn *k, const char *line)
{
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = send(k->fd, line + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return send(k->fd, "\n", 1, MSG_NOSIGNAL) == 1;
}

json_t *rdh_conn_next(rdh_conn *k, int timeout_ms)
{
    int64_t deadline = rdh_now_ms() + timeout_ms;
    for (;;) {
        char *nl = k->len ? memchr(k->buf, '\n', k->len) : NULL;
        if (nl) {
            size_t ll = (size_t)(nl - k->buf);
            json_t *j = json_loadb(k->buf, ll, 0, NULL);
            memmove(k->buf, nl + 1, k->len - ll - 1);
            k->len -= ll + 1;
            return j;
        }
        int64_t left = deadline - rdh_now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd p = {.fd = k->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (k->len + 65536 > k->cap) {
            k->cap = k->cap ? k->cap * 2 : 131072;
            k->buf = realloc(k->buf, k->cap);
        }
        ssize_t r = recv(k->fd, k->buf + k->len, k->cap - k->len, 0);
        if (r <= 0)
            return NULL;
        k->len += (size_t)r;
    }
}

void rdh_conn_close(rdh_conn *k)
{
    if (k->fd >= 0)
        close(k->fd);
    free(k->buf);
    memset(k, 0, sizeof(*k));
    k->fd = -1;
}

static json_t *vreq(rdh_node *nd, const char *fmt, va_list ap)
{
    char line[8192];
    vsnprintf(line, sizeof(line), fmt, ap);
    rdh_conn k;
    if (!rdh_conn_open(&k, nd))
        return NULL;
    json_t *r = rdh_conn_send(&k, line) ? rdh_conn_next(&k, 10000) : NULL;
    rdh_conn_close(&k);
    return r;
}

json_t *rdh_req(rdh_node *nd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *r = vreq(nd, fmt, ap);
    va_end(ap);
    return r;
}

json_t *rdh_req_ok(rdh_node *nd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *r = vreq(nd, fmt, ap);
    va_end(ap);
    cr_assert(r, "%s: no response", nd->name);
    char *txt = json_dumps(r, 0);
    cr_assert(json_is_true(json_object_get(r, "ok")), "%s: %s", nd->name, txt);
    free(txt);
    return r;
}

int rdh_wait_leader(rdh_cluster *c, const char *group, int skip)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        int leader = -1;
        bool agree = true;
        char lname[64] = "";
        for (int i = 0; i < c->n && agree; i++) {
            if (i == skip || c->nodes[i].pid <= 0)
                continue;
            json_t *r = rdh_req(&c->nodes[i], "{\"op\":\"state\",\"group\":\"%s\"}", group);
            const char *l = r ? json_string_value(json_object_get(r, "leader")) : NULL;
            if (!l || !*l || (lname[0] && strcmp(lname, l))) {
                agree = false;
            } else {
                snprintf(lname, sizeof(lname), "%s", l);
                if (json_is_true(json_object_get(r, "is_leader")))
                    leader = i;
            }
            json_decref(r);
        }
        if (agree && leader >= 0 && !strcmp(lname, c->nodes[leader].name))
            return leader;
        if (rdh_now_ms() > deadline) {
            rdh_dump_logs(c);
            cr_assert_fail("no agreed leader for %s within %d ms", group, RDH_WAIT_MS);
        }
        rdh_pause_ms(20);
    }
}

json_t *rdh_wait_logs_equal(rdh_cluster *c, const char *group, size_t min)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        json_t *first = NULL;
        bool same = true;
        for (int i = 0; i < c->n && same; i++) {
            if (c->nodes[i].pid <= 0)
                continue;
            json_t *r = rdh_req(&c->nodes[i], "{\"op\":\"log\",\"group\":\"%s\"}", group);
            json_t *e = r ? json_object_get(r, "entries") : NULL;
            if (!e || json_array_size(e) < min) {
                same = false;
            } else if (!first) {
                first = json_incref(e);
            } else if (!json_equal(first, e)) {
                same = false;
            }
            json_decref(r);
        }
        if (same && first)
            return first;
        json_decref(first);
        if (rdh_now_ms() > deadline) {
            rdh_dump_logs(c);
            cr_assert_fail("group %s: logs not equal (min %zu) within %d ms", group, min,
                           RDH_WAIT_MS);
        }
        rdh_pause_ms(20);
    }
}

char *rdh_b64(const char *text)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)text;
    size_t n = strlen(text), o = 0;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = al[v >> 18];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? al[v & 63] : '=';
    }
    out[o] = 0;
    return out;
}

/* One proposal of base64 data through nd, repeated while the group has no leader to take
 * it (the "no leader" error: nothing was accepted, so repeating cannot duplicate). */
void rdh_propose_b64(rdh_node *nd, const char *group, const char *b64)
{
    size_t need = strlen(b64) + strlen(group) + 64;
    char *line = malloc(need);
    cr_assert(line);
    snprintf(line, need, "{\"op\":\"propose\",\"group\":\"%s\",\"data\":\"%s\"}", group, b64);
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        rdh_conn k;
        json_t *r = NULL;
        if (rdh_conn_open(&k, nd)) {
            if (rdh_conn_send(&k, line))
                r = rdh_conn_next(&k, 10000);
            rdh_conn_close(&k);
        }
        if (r && json_is_true(json_object_get(r, "ok"))) {
            json_decref(r);
            free(line);
            return;
        }
        const char *e = r ? json_string_value(json_object_get(r, "error")) : NULL;
        bool retry = e && !strcmp(e, "no leader");
        char *txt = r ? json_dumps(r, 0) : NULL;
        json_decref(r);
        cr_assert(retry, "%s: propose to %s: %s", nd->name, group, txt ? txt : "no response");
        cr_assert(rdh_now_ms() < deadline, "%s: %s never had a leader to propose to", nd->name,
                  group);
        free(txt);
        rdh_pause_ms(20);
    }
}

void rdh_propose(rdh_node *nd, const char *group, const char *text)
{
    char *b = rdh_b64(text);
    rdh_propose_b64(nd, group, b);
    free(b);
}

static bool log_has(rdh_node *nd, const char *group, const char *b64)
{
    json_t *r = rdh_req(nd, "{\"op\":\"log\",\"group\":\"%s\"}", group);
    bool has = false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "entries"), i, e)
    {
        const char *d = json_string_value(json_object_get(e, "data"));
        has = has || (d && !strcmp(d, b64));
    }
    json_decref(r);
    return has;
}

void rdh_propose_sure_b64(rdh_node *nd, const char *group, const char *b64)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        rdh_propose_b64(nd, group, b64);
        int64_t again = rdh_now_ms() + RDH_REPROPOSE_MS;
        while (rdh_now_ms() < again) {
            if (log_has(nd, group, b64))
                return;
            rdh_pause_ms(10);
        }
        cr_assert(rdh_now_ms() < deadline, "%s: a proposal to %s was never applied", nd->name,
                  group);
    }
}

void rdh_propose_sure(rdh_node *nd, const char *group, const char *text)
{
    char *b = rdh_b64(text);
    rdh_propose_sure_b64(nd, group, b);
    free(b);
}

json_t *rdh_log_dedup(json_t *log)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *e, *o;
    json_array_foreach(log, i, e)
    {
        bool seen = false;
        json_array_foreach(out, j, o)
        {
            seen = seen || json_equal(json_object_get(o, "data"), json_object_get(e, "data"));
        }
        if (!seen)
            json_array_append(out, e);
    }
    return out;
}

void rdh_dump_logs(rdh_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "echo '--- %s'; tail -n 30 '%s' 1>&2", c->nodes[i].name,
                 c->nodes[i].log);
        if (system(cmd) != 0) {
        }
    }
}
