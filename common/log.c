/* Go-format logger; see log.h.  Ports Go nats-server v2.14.5 logger/log.go. */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    nx_log_config cfg;
    char *path;
    int fd;
    int pid; /* captured at init: forked workers log under the supervisor's pid, as one server */
} g_log = {.cfg = {.time = true, .pid = true}, .fd = 2};

static const char *const level_labels[] = {
    [NX_LOG_FATAL] = "[FTL] ", [NX_LOG_ERROR] = "[ERR] ", [NX_LOG_WARN] = "[WRN] ",
    [NX_LOG_NOTICE] = "[INF] ", [NX_LOG_DEBUG] = "[DBG] ", [NX_LOG_TRACE] = "[TRC] ",
};

static int open_log_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0660);
    return fd < 0 ? -errno : fd;
}

int nx_log_init(const nx_log_config *cfg) {
    nx_log_close();
    g_log.cfg = *cfg;
    g_log.cfg.file = NULL;
    if (!g_log.pid) g_log.pid = (int)getpid(); /* a reload keeps the server's pid */
    if (cfg->file && cfg->file[0]) {
        int fd = open_log_file(cfg->file);
        if (fd < 0) return fd;
        g_log.path = strdup(cfg->file);
        g_log.fd = fd;
    }
    return 0;
}

int nx_log_reopen(void) {
    if (!g_log.path) return 0;
    int fd = open_log_file(g_log.path);
    if (fd < 0) return fd;
    dup2(fd, g_log.fd);
    close(fd);
    return 0;
}

void nx_log_close(void) {
    if (g_log.path) {
        close(g_log.fd);
        free(g_log.path);
        g_log.path = NULL;
    }
    g_log.fd = 2;
}

bool nx_log_debug(void) {
    return g_log.cfg.debug;
}

bool nx_log_trace(void) {
    return g_log.cfg.trace;
}

static void log_line(nx_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log_line(nx_log_level level, const char *fmt, va_list ap) {
    char line[8192];
    size_t n = 0;
    if (g_log.cfg.pid)
        n += (size_t)snprintf(line + n, sizeof line - n, "[%d] ", g_log.pid ? g_log.pid : getpid());
    if (g_log.cfg.time) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        if (g_log.cfg.utc)
            gmtime_r(&tv.tv_sec, &tm);
        else
            localtime_r(&tv.tv_sec, &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, "%04d/%02d/%02d %02d:%02d:%02d.%06ld ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, (long)tv.tv_usec);
    }
    n += (size_t)snprintf(line + n, sizeof line - n, "%s", level_labels[level]);
    int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (m < 0) m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2) n = sizeof line - 2; /* truncated: keep the newline */
    line[n++] = '\n';
    ssize_t w = write(g_log.fd, line, n);
    (void)w; /* nowhere to report a failed log write */
}

void nx_log(nx_log_level level, const char *fmt, ...) {
    if (level == NX_LOG_DEBUG && !g_log.cfg.debug) return;
    if (level == NX_LOG_TRACE && !g_log.cfg.trace) return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, fmt, ap);
    va_end(ap);
}

void nx_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line(NX_LOG_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}
