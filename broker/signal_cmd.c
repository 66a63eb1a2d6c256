/* `nats-server --signal <command>[=<pid or pid file>]`: signal a running server.
 * Ports Go nats-server v2.14.5 server/signal.go ProcessSignal/CommandToSignal/resolvePids and
 * opts.go processSignal.  Processes are found by name as Go does with pgrep, except that our
 * own broker workers (children of a nats-server) are skipped: the supervisor is the server. */
#include "broker/signal_cmd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int sig;
} commands[] = {
    {"stop", SIGKILL}, {"quit", SIGINT}, {"reopen", SIGUSR1},
    {"reload", SIGHUP}, {"ldm", SIGUSR2}, {"term", SIGTERM},
};

static bool read_small(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return true;
}

static bool is_nats_server(long pid) {
    char path[64], comm[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    if (!read_small(path, comm, sizeof comm)) return false;
    comm[strcspn(comm, "\n")] = '\0';
    return strcmp(comm, "nats-server") == 0;
}

static long parent_of(long pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!read_small(path, buf, sizeof buf)) return 0;
    const char *p = strstr(buf, "\nPPid:");
    return p ? strtol(p + 6, NULL, 10) : 0;
}

/* Running servers, as pgrep would find them, minus ourselves and our workers. */
static int resolve_pids(long *out, int max) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    long me = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid == me || !is_nats_server(pid)) continue;
        if (is_nats_server(parent_of(pid))) continue; /* a broker worker of some server */
        out[n++] = pid;
    }
    closedir(d);
    return n;
}

int br_signal_command(const char *arg) {
    char cmd[64], pid_expr[256] = "";
    const char *eq = strchr(arg, '=');
    if (eq && strchr(eq + 1, '=')) {
        fprintf(stderr, "nats-server: invalid signal parameters: [%s]\n", strchr(eq + 1, '=') + 1);
        return 1;
    }
    size_t clen = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(cmd, sizeof cmd, "%.*s", (int)clen, arg);
    if (eq) {
        /* Go maybeReadPidFile: a readable file holds the pid, else it is the pid itself. */
        if (!read_small(eq + 1, pid_expr, sizeof pid_expr))
            snprintf(pid_expr, sizeof pid_expr, "%s", eq + 1);
        pid_expr[strcspn(pid_expr, "\r\n")] = '\0';
    }
    int sig = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) sig = commands[i].sig;
    bool glob = pid_expr[0] && pid_expr[strlen(pid_expr) - 1] == '*';
    if (glob) pid_expr[strlen(pid_expr) - 1] = '\0';
    long pids[256];
    int n = 0;
    if (pid_expr[0]) {
        char *end;
        long p = strtol(pid_expr, &end, 10);
        if (*end || end == pid_expr) {
            fprintf(stderr, "nats-server: invalid pid: %s\n", pid_expr);
            return 1;
        }
        pids[n++] = p;
    }
    if (!pid_expr[0] || glob) {
        n = resolve_pids(pids, 256);
        if (n < 0) {
            fprintf(stderr, "nats-server: unable to resolve pid, try providing one\n");
            return 1;
        }
    }
    if (n > 1 && !glob) {
        fprintf(stderr, "nats-server: multiple nats-server processes running:");
        for (int i = 0; i < n; i++) fprintf(stderr, "\n%ld", pids[i]);
        fputc('\n', stderr);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "nats-server: no nats-server processes running\n");
        return 1;
    }
    if (!sig) {
        fprintf(stderr, "nats-server: unknown signal \"%s\"\n", cmd);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char ps[32];
        snprintf(ps, sizeof ps, "%ld", pids[i]);
        if (glob && strncmp(ps, pid_expr, strlen(pid_expr)) != 0) continue;
        if (kill((pid_t)pids[i], sig) < 0) {
            fprintf(stderr, "nats-server: \nsignal \"%s\" %ld: %s\n", cmd, pids[i],
                    strerror(errno));
            rc = 1;
        }
    }
    return rc;
}
