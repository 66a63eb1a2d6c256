/* Logging in the Go server's format.
 *
 * Ports Go nats-server v2.14.5 logger/log.go (the std and file loggers):
 *     [PID] 2026/11/27 10:00:00.000000 [INF] Starting nats-server
 * Labels INF, DBG, TRC, WRN, ERR, FTL.  Debug and trace lines are only written when enabled;
 * callers test nx_log_debug()/nx_log_trace() before building expensive arguments.
 * One process, one thread: no locking.  Each line is written with one write(2) so lines from
 * several processes sharing a log file do not interleave.
 */
#ifndef NX_LOG_H
#define NX_LOG_H

#include <stdbool.h>

typedef enum nx_log_level {
    NX_LOG_FATAL,
    NX_LOG_ERROR,
    NX_LOG_WARN,
    NX_LOG_NOTICE,
    NX_LOG_DEBUG,
    NX_LOG_TRACE,
} nx_log_level;

typedef struct nx_log_config {
    const char *file; /* NULL: stderr */
    bool time;        /* prefix the local time (Go: logtime, default true) */
    bool utc;         /* Go: logtime_utc */
    bool pid;         /* prefix [PID] (Go's default) */
    bool debug;
    bool trace;
} nx_log_config;

/* 0 or -errno when the log file cannot be opened. */
int nx_log_init(const nx_log_config *cfg);
/* Reopen the log file (SIGUSR1, for log rotation).  0 or -errno. */
int nx_log_reopen(void);
void nx_log_close(void);

bool nx_log_debug(void);
bool nx_log_trace(void);

void nx_log(nx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nx_notice(...) nx_log(NX_LOG_NOTICE, __VA_ARGS__)
#define nx_warn(...) nx_log(NX_LOG_WARN, __VA_ARGS__)
#define nx_error(...) nx_log(NX_LOG_ERROR, __VA_ARGS__)
#define nx_debug(...)                                                                              \
    do {                                                                                           \
        if (nx_log_debug()) nx_log(NX_LOG_DEBUG, __VA_ARGS__);                                     \
    } while (0)
#define nx_trace(...)                                                                              \
    do {                                                                                           \
        if (nx_log_trace()) nx_log(NX_LOG_TRACE, __VA_ARGS__);                                     \
    } while (0)
/* Logs at FTL and exits with status 1, as Go's Fatalf does. */
void nx_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
