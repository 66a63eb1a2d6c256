/* Integration-test harness (see harness.h): server child processes, raw sockets, waits.
 *
 * Design points:
 *  - No bare sleeps as waits: every wait polls a condition (ports file, log text, socket
 *    readability, process exit, counter) until a deadline, then fails the test.
 *  - Failures carry the caller's file:line (the public API is macros passing __FILE__ and
 *    __LINE__), the escaped bytes involved and the tail of each live server's log.
 *  - Server children get PR_SET_PDEATHSIG and a destructor kills whatever is left, because a
 *    failed Criterion assertion leaves the test body without running its cleanup.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The Go server starts in ~50 ms; ours should too.  Generous because CI runs 2 test
 * processes per core pair, each starting servers. */
#define H_START_TIMEOUT_MS 10000
#define H_STOP_TIMEOUT_MS 5000
#define H_LOG_TAIL 3000

/* ---- utilities ---------------------------------------------------------------------------- */

int64_t h_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *h_escape(const void *data, size_t n) {
    /* Long buffers (e.g. 10 KB payloads) are elided in the middle to keep reports readable. */
    const unsigned char *p = data;
    size_t head = n, tail_from = n;
    if (n > 2048) {
        head = 1024;
        tail_from = n - 512;
    }
    size_t cap = 4 * n + 64, o = 0;
    if (cap > 4 * 2048 + 128) cap = 4 * 2048 + 128;
    char *out = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        if (i == head && head != tail_from) {
            o += (size_t)snprintf(out + o, cap - o, "...<%zu bytes>...", tail_from - head);
            i = tail_from;
        }
        unsigned char ch = p[i];
        if (ch == '\r')
            o += (size_t)snprintf(out + o, cap - o, "\\r");
        else if (ch == '\n')
            o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (ch == '\t')
            o += (size_t)snprintf(out + o, cap - o, "\\t");
        else if (ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\\\");
        else if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    out[o] = '\0';
    return out;
}

static char *read_file_from(const char *path, off_t from, size_t *len_out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < from) {
        close(fd);
        return NULL;
    }
    size_t n = (size_t)(st.st_size - from), got = 0;
    char *buf = malloc(n + 1);
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, from + (off_t)got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    if (len_out) *len_out = got;
    return buf;
}

/* ---- registry of servers, for failure reports and cleanup ------------------------------- */

#define H_MAX_SERVERS 16
static h_server *registry[H_MAX_SERVERS];

static void registry_add(h_server *s) {
    for (int i = 0; i < H_MAX_SERVERS; i++)
        if (!registry[i]) {
            registry[i] = s;
            return;
        }
}

static void registry_del(h_server *s) {
    for (int i = 0; i < H_MAX_SERVERS; i++)
        if (registry[i] == s) registry[i] = NULL;
}

static void dump_logs(void) {
    for (int i = 0; i < H_MAX_SERVERS; i++) {
        h_server *s = registry[i];
        if (!s) continue;
        size_t len = 0;
        char *log = read_file_from(s->log_path, s->log_start, &len);
        if (!log) continue;
        const char *tail = len > H_LOG_TAIL ? log + len - H_LOG_TAIL : log;
        cr_log_error("server pid %d port %d (%s) log tail:\n%s", (int)s->pid, s->port, s->dir,
                     tail);
        free(log);
    }
}

__attribute__((noreturn, format(printf, 3, 4))) static void h_fail(const char *file, int line,
                                                                   const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    dump_logs();
    cr_assert_fail("%s:%d: %s", file, line, msg ? msg : "(no memory)");
    abort(); /* not reached: cr_assert_fail leaves the test */
}

static void rm_dir(const char *dir) {
    if (getenv("NX_IT_KEEP")) return; /* keep logs for post-mortem debugging */
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

__attribute__((constructor)) static void h_init(void) {
    /* A write to a connection the server closed must be an error, not a killed test. */
    signal(SIGPIPE, SIG_IGN);
}

__attribute__((destructor)) static void h_cleanup(void) {
    for (int i = 0; i < H_MAX_SERVERS; i++) {
        h_server *s = registry[i];
        if (!s) continue;
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        rm_dir(s->dir);
        registry[i] = NULL;
    }
}

/* ---- server process ---------------------------------------------------------------------- */

bool h_server_is_go(void) {
    const char *bin = getenv("NATS_SERVER_BIN");
    const char *suffix = "/usr/sbin/nats-server";
    if (!bin) return false;
    size_t n = strlen(bin), m = strlen(suffix);
    return n >= m && strcmp(bin + n - m, suffix) == 0;
}

static bool reap(h_server *s, int timeout_ms) {
    if (s->pid <= 0) return true;
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid || (r < 0 && errno == ECHILD)) {
            s->exit_status = st;
            s->pid = 0;
            return true;
        }
        if (h_now_ms() >= deadline) return false;
        h_pause_ms(5); /* polling interval of the exit condition */
    }
}

/* Port from {"nats":["nats://127.0.0.1:PORT"]}; 0 while the file is absent or incomplete. */
static int parse_ports_file(const char *path) {
    char *txt = read_file_from(path, 0, NULL);
    if (!txt) return 0;
    json_error_t jerr;
    json_t *root = json_loads(txt, 0, &jerr);
    free(txt);
    if (!root) return 0;
    int port = 0;
    json_t *arr = json_object_get(root, "nats");
    const char *url = json_string_value(json_array_get(arr, 0));
    if (url) {
        const char *colon = strrchr(url, ':');
        if (colon) port = atoi(colon + 1);
    }
    json_decref(root);
    return port;
}

static int find_ports_file(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int port = 0;
    size_t sl = strlen(suffix);
    struct dirent *e;
    while (!port && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= sl || strcmp(e->d_name + n - sl, suffix) != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        port = parse_ports_file(path);
    }
    closedir(d);
    return port;
}

static void spawn(const char *file, int line, h_server *s, int port) {
    const char *bin = getenv("NATS_SERVER_BIN");
    if (!bin || !*bin) h_fail(file, line, "NATS_SERVER_BIN is not set");

    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port > 0 ? port : -1);
    const char **argv = calloc((size_t)s->nargs + 12, sizeof *argv);
    int a = 0;
    argv[a++] = bin;
    argv[a++] = "-a";
    argv[a++] = "127.0.0.1";
    argv[a++] = "-p";
    argv[a++] = portbuf;
    argv[a++] = "--ports_file_dir";
    argv[a++] = s->dir;
    if (s->has_conf) {
        argv[a++] = "-c";
        argv[a++] = s->conf_path;
    }
    for (int i = 0; i < s->nargs; i++)
        argv[a++] = s->args[i];
    argv[a] = NULL;

    /* Append, so a restarted server's log follows the previous one; log_start marks where the
     * current incarnation begins for h_server_wait_log. */
    int logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) h_fail(file, line, "open %s: %s", s->log_path, strerror(errno));
    struct stat st;
    fstat(logfd, &st);
    s->log_start = st.st_size;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) h_fail(file, line, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The server must not outlive a test process that crashed or aborted. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        close_range(3, ~0U, 0);
        signal(SIGPIPE, SIG_DFL); /* SIG_IGN would survive exec */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(bin, (char *const *)argv);
        dprintf(2, "harness: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    free(argv);
    s->pid = pid;

    /* Go names the file <basename(argv[0])>_<pid>.ports: nats-server_<pid>.ports unless the
     * binary is called through a differently named link, so match any basename. */
    char suffix[32];
    snprintf(suffix, sizeof suffix, "_%d.ports", (int)pid);
    int64_t deadline = h_now_ms() + H_START_TIMEOUT_MS;
    for (;;) {
        int p = find_ports_file(s->dir, suffix);
        if (p > 0) {
            s->port = p;
            break;
        }
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            s->pid = 0;
            s->exit_status = wst;
            h_fail(file, line, "server %s exited during startup (status 0x%x); see log above", bin,
                   wst);
        }
        if (h_now_ms() >= deadline)
            h_fail(file, line, "server did not write %s/nats-server%s within %d ms", s->dir, suffix,
                   H_START_TIMEOUT_MS);
        h_pause_ms(5); /* polling interval of the ports-file condition */
    }
    snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
}

h_server *h_server_start_at(const char *file, int line, int port, const char *config_text, ...) {
    h_server *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/nxit.XXXXXX");
    if (!mkdtemp(s->dir)) h_fail(file, line, "mkdtemp: %s", strerror(errno));
    snprintf(s->log_path, sizeof s->log_path, "%s/server.log", s->dir);
    snprintf(s->conf_path, sizeof s->conf_path, "%s/server.conf", s->dir);
    registry_add(s);

    if (config_text) {
        FILE *f = fopen(s->conf_path, "w");
        if (!f) h_fail(file, line, "create %s: %s", s->conf_path, strerror(errno));
        fputs(config_text, f);
        fclose(f);
        s->has_conf = true;
    }

    va_list ap;
    va_start(ap, config_text);
    for (const char *arg; (arg = va_arg(ap, const char *)) != NULL;) {
        s->args = realloc(s->args, sizeof(char *) * (size_t)(s->nargs + 1));
        s->args[s->nargs++] = strdup(arg);
    }
    va_end(ap);

    spawn(file, line, s, port);
    return s;
}

void h_server_terminate(h_server *s) {
    if (!s || s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    if (!reap(s, H_STOP_TIMEOUT_MS)) {
        cr_log_warn("server pid %d ignored SIGTERM for %d ms; SIGKILL", (int)s->pid,
                    H_STOP_TIMEOUT_MS);
        kill(s->pid, SIGKILL);
        int st;
        waitpid(s->pid, &st, 0);
        s->exit_status = st;
        s->pid = 0;
    }
}

void h_server_stop(h_server *s) {
    if (!s) return;
    h_server_terminate(s);
    registry_del(s);
    rm_dir(s->dir);
    for (int i = 0; i < s->nargs; i++)
        free(s->args[i]);
    free(s->args);
    free(s);
}

void h_server_restart_at(const char *file, int line, h_server *s) {
    int port = s->port;
    h_server_terminate(s);
    spawn(file, line, s, port);
    if (s->port != port)
        h_fail(file, line, "restarted server listens on %d, not on %d", s->port, port);
}

void h_server_signal(h_server *s, int sig) {
    if (s && s->pid > 0) kill(s->pid, sig);
}

bool h_server_wait_exit(h_server *s, int timeout_ms) {
    return reap(s, timeout_ms);
}

char *h_server_log(h_server *s) {
    char *log = read_file_from(s->log_path, s->log_start, NULL);
    return log ? log : strdup("");
}

bool h_server_wait_log(h_server *s, const char *needle, int timeout_ms) {
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        char *log = h_server_log(s);
        bool found = strstr(log, needle) != NULL;
        free(log);
        if (found) return true;
        if (h_now_ms() >= deadline) return false;
        h_pause_ms(10); /* polling interval of the log condition */
    }
}

void h_server_expect_log_at(const char *file, int line, h_server *s, const char *needle) {
    if (!h_server_wait_log(s, needle, H_TIMEOUT_MS))
        h_fail(file, line, "server log never contained \"%s\" within %d ms", needle, H_TIMEOUT_MS);
}

/* ---- raw connections --------------------------------------------------------------------- */

int h_try_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    /* Each send() becomes its own segment: split-frame tests depend on it. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

h_conn *h_connect_at(const char *file, int line, int port) {
    int fd = h_try_connect(port);
    if (fd < 0) h_fail(file, line, "connect to 127.0.0.1:%d: %s", port, strerror(-fd));
    h_conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->timeout_ms = H_TIMEOUT_MS;
    return c;
}

void h_close(h_conn *c) {
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
    free(c);
}

/* Read what is available, waiting until the deadline for something to arrive.
 * Returns bytes read (>0), 0 at EOF or reset (c->eof set), -ETIMEDOUT, or -errno. */
static ssize_t read_more(h_conn *c, int64_t deadline) {
    if (c->eof) return 0;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        if (left < 0) left = 0;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) return -ETIMEDOUT;
        if (c->cap - c->len < 65536) {
            c->cap = c->cap * 2 + 65536;
            c->buf = realloc(c->buf, c->cap + 1);
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (r > 0) {
            c->len += (size_t)r;
            c->buf[c->len] = '\0';
            return r;
        }
        if (r == 0 || errno == ECONNRESET) {
            c->eof = true;
            return 0;
        }
        if (errno == EAGAIN || errno == EINTR) continue;
        return -errno;
    }
}

static void consume(h_conn *c, size_t n) {
    if (!n) return;
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    if (c->buf) c->buf[c->len] = '\0';
}

static ssize_t write_all(h_conn *c, const void *data, size_t n, int64_t deadline) {
    const char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(c->fd, p + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno != EAGAIN) return -errno;
        int64_t left = deadline - h_now_ms();
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)left);
    }
    return (ssize_t)done;
}

ssize_t h_send_raw(h_conn *c, const void *data, size_t n) {
    return write_all(c, data, n, h_now_ms() + c->timeout_ms);
}

void h_sendn_at(const char *file, int line, h_conn *c, const void *data, size_t n) {
    ssize_t r = write_all(c, data, n, h_now_ms() + c->timeout_ms);
    if (r < 0) {
        char *e = h_escape(data, n < 200 ? n : 200);
        h_fail(file, line, "send of %zu bytes failed (%s): \"%s\"", n, strerror((int)-r), e);
    }
}

void h_sendf_at(const char *file, int line, h_conn *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) h_fail(file, line, "vasprintf failed");
    h_sendn_at(file, line, c, s, (size_t)n);
    free(s);
}

void h_send_bytewise_at(const char *file, int line, h_conn *c, const char *str) {
    for (size_t i = 0; str[i]; i++) {
        h_sendn_at(file, line, c, str + i, 1);
        h_pause_ms(1); /* lets the server read each byte on its own; not a wait */
    }
}

void h_expectn_at(const char *file, int line, h_conn *c, const void *data, size_t n) {
    int64_t deadline = h_now_ms() + c->timeout_ms;
    for (;;) {
        size_t cmp = c->len < n ? c->len : n;
        if (cmp && memcmp(c->buf, data, cmp) != 0) {
            size_t k = 0;
            while (k < cmp && c->buf[k] == ((const char *)data)[k])
                k++;
            char *exp = h_escape(data, n), *got = h_escape(c->buf, c->len);
            h_fail(file, line,
                   "unexpected bytes (first difference at byte %zu)\n"
                   "  expected: \"%s\"\n  received: \"%s\"",
                   k, exp, got);
        }
        if (c->len >= n) {
            consume(c, n);
            return;
        }
        ssize_t r = read_more(c, deadline);
        if (r <= 0) {
            char *exp = h_escape(data, n), *got = h_escape(c->buf, c->len);
            h_fail(file, line, "%s while expecting bytes\n  expected: \"%s\"\n  received: \"%s\"",
                   r == 0 ? "connection closed by server" : "timeout", exp, got);
        }
    }
}

char *h_expect_re_at(const char *file, int line, h_conn *c, const char *re) {
    char *anchored = NULL;
    if (asprintf(&anchored, "^(%s)", re) < 0) h_fail(file, line, "asprintf failed");
    regex_t rx;
    int rc = regcomp(&rx, anchored, REG_EXTENDED);
    free(anchored);
    if (rc != 0) {
        char err[256];
        regerror(rc, &rx, err, sizeof err);
        h_fail(file, line, "bad regex /%s/: %s", re, err);
    }
    int64_t deadline = h_now_ms() + c->timeout_ms;
    for (;;) {
        regmatch_t m[1];
        if (c->len && regexec(&rx, c->buf, 1, m, 0) == 0 && m[0].rm_so == 0) {
            char *out = strndup(c->buf, (size_t)m[0].rm_eo);
            consume(c, (size_t)m[0].rm_eo);
            regfree(&rx);
            return out;
        }
        ssize_t r = read_more(c, deadline);
        if (r <= 0) {
            char *got = h_escape(c->buf, c->len), *pat = h_escape(re, strlen(re));
            regfree(&rx);
            h_fail(file, line, "%s while expecting /%s/\n  received: \"%s\"",
                   r == 0 ? "connection closed by server" : "timeout", pat, got);
        }
    }
}

json_t *h_read_info_at(const char *file, int line, h_conn *c) {
    char *l = h_expect_re_at(file, line, c, "INFO [^\r\n]+\r\n");
    json_error_t jerr;
    json_t *info = json_loadb(l + 5, strlen(l) - 7, 0, &jerr);
    if (!info || !json_is_object(info)) {
        char *e = h_escape(l, strlen(l));
        h_fail(file, line, "INFO is not a JSON object (%s): \"%s\"", jerr.text, e);
    }
    free(l);
    return info;
}

h_conn *h_connect_setup_at(const char *file, int line, int port, const char *connect_json) {
    h_conn *c = h_connect_at(file, line, port);
    json_decref(h_read_info_at(file, line, c));
    if (!connect_json)
        connect_json =
            "{\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":false}";
    h_sendf_at(file, line, c, "CONNECT %s\r\n", connect_json);
    return c;
}

void h_expect_closed_at(const char *file, int line, h_conn *c) {
    int64_t deadline = h_now_ms() + c->timeout_ms;
    for (;;) {
        if (c->len) {
            char *got = h_escape(c->buf, c->len);
            h_fail(file, line, "expected the server to close the connection, received \"%s\"", got);
        }
        if (c->eof) return;
        ssize_t r = read_more(c, deadline);
        if (r == -ETIMEDOUT) h_fail(file, line, "connection still open after %d ms", c->timeout_ms);
        if (r < 0) return; /* any other socket error also means the connection is gone */
    }
}

void h_expect_nothing_at(const char *file, int line, h_conn *c, int ms) {
    int64_t deadline = h_now_ms() + ms;
    while (!c->len && !c->eof && read_more(c, deadline) > 0) {
    }
    if (c->len) {
        char *got = h_escape(c->buf, c->len);
        h_fail(file, line, "expected nothing for %d ms, received \"%s\"", ms, got);
    }
}

void h_read_msg_at(const char *file, int line, h_conn *c, h_msg *m) {
    memset(m, 0, sizeof *m);
    int64_t deadline = h_now_ms() + c->timeout_ms;
    char *eol;
    while (!(eol = c->len ? memmem(c->buf, c->len, "\r\n", 2) : NULL)) {
        ssize_t r = read_more(c, deadline);
        if (r <= 0) {
            char *got = h_escape(c->buf, c->len);
            h_fail(file, line, "%s while expecting MSG/HMSG\n  received: \"%s\"",
                   r == 0 ? "connection closed by server" : "timeout", got);
        }
    }
    size_t line_len = (size_t)(eol - c->buf) + 2;
    char *hdr = strndup(c->buf, line_len - 2);
    char *tok[8], *save = NULL;
    int nt = 0;
    for (char *t = strtok_r(hdr, " \t", &save); t && nt < 8; t = strtok_r(NULL, " \t", &save))
        tok[nt++] = t;
    bool ok = false;
    if (nt >= 1 && !strcmp(tok[0], "MSG") && (nt == 4 || nt == 5)) {
        ok = true;
        m->hdr_len = -1;
        m->total_len = atol(tok[nt - 1]);
        if (nt == 5) snprintf(m->reply, sizeof m->reply, "%s", tok[3]);
    } else if (nt >= 1 && !strcmp(tok[0], "HMSG") && (nt == 5 || nt == 6)) {
        ok = true;
        m->hmsg = true;
        m->hdr_len = atol(tok[nt - 2]);
        m->total_len = atol(tok[nt - 1]);
        if (nt == 6) snprintf(m->reply, sizeof m->reply, "%s", tok[3]);
    }
    if (!ok) {
        char *got = h_escape(c->buf, c->len);
        h_fail(file, line, "expected MSG/HMSG, received \"%s\"", got);
    }
    snprintf(m->subject, sizeof m->subject, "%s", tok[1]);
    snprintf(m->sid, sizeof m->sid, "%s", tok[2]);
    free(hdr);
    size_t need = line_len + (size_t)m->total_len + 2;
    while (c->len < need) {
        ssize_t r = read_more(c, deadline);
        if (r <= 0) {
            char *got = h_escape(c->buf, c->len);
            h_fail(file, line, "%s while reading a %ld-byte payload\n  received: \"%s\"",
                   r == 0 ? "connection closed by server" : "timeout", m->total_len, got);
        }
    }
    if (memcmp(c->buf + need - 2, "\r\n", 2) != 0) {
        char *got = h_escape(c->buf, need);
        h_fail(file, line, "payload not followed by \\r\\n: \"%s\"", got);
    }
    m->data = malloc((size_t)m->total_len + 1);
    memcpy(m->data, c->buf + line_len, (size_t)m->total_len);
    m->data[m->total_len] = '\0';
    consume(c, need);
}

bool h_try_read_msg_at(const char *file, int line, h_conn *c, h_msg *m, int timeout_ms) {
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        char *eol = c->len ? memmem(c->buf, c->len, "\r\n", 2) : NULL;
        if (!eol) {
            if (read_more(c, deadline) <= 0) return false;
            continue;
        }
        size_t line_len = (size_t)(eol - c->buf) + 2;
        if (line_len == 6 && !memcmp(c->buf, "PING", 4)) { /* the server's keep-alive */
            consume(c, line_len);
            h_sendn_at(file, line, c, "PONG\r\n", 6);
            continue;
        }
        /* The size is the last token of MSG/HMSG lines: wait for the whole payload. */
        const char *sp = eol;
        while (sp > c->buf && sp[-1] != ' ') sp--;
        size_t need = line_len + (size_t)strtoul(sp, NULL, 10) + 2;
        while (c->len < need)
            if (read_more(c, deadline) <= 0) return false;
        h_read_msg_at(file, line, c, m);
        return true;
    }
}

void h_msg_free(h_msg *m) {
    free(m->data);
    m->data = NULL;
}

void h_ping_at(const char *file, int line, h_conn *c) {
    h_sendn_at(file, line, c, "PING\r\n", 6);
    h_expectn_at(file, line, c, "PONG\r\n", 6);
}

/* ---- counter for callback threads -------------------------------------------------------- */

struct h_counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
};

h_counter *h_counter_new(void) {
    h_counter *k = calloc(1, sizeof *k);
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    return k;
}

void h_counter_free(h_counter *k) {
    if (!k) return;
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}

void h_counter_add(h_counter *k, int n) {
    pthread_mutex_lock(&k->mu);
    k->n += n;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

int h_counter_get(h_counter *k) {
    pthread_mutex_lock(&k->mu);
    int n = k->n;
    pthread_mutex_unlock(&k->mu);
    return n;
}

bool h_counter_wait(h_counter *k, int n, int timeout_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->mu);
    int rc = 0;
    while (k->n < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    bool ok = k->n >= n;
    pthread_mutex_unlock(&k->mu);
    return ok;
}
