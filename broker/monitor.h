/* HTTP monitoring of a node: Go's /varz, /connz, /subsz, ... plus /metrics (Prometheus).
 *
 * Runs in the supervisor process only, on libmicrohttpd's own threads, off the client path.
 * It reads the node's shared counters (atomics in the worker slots) and asks the workers
 * over their control connections (br_supervisor_query) for what only they know; it never
 * touches a worker's memory otherwise.  See docs/monitoring.md.
 */
#ifndef BR_MONITOR_H
#define BR_MONITOR_H

#include "broker/options.h"

/* Starts the HTTP (or HTTPS) server when http_port/https_port is set, as Go's StartMonitoring:
 * logs "Starting http monitor on host:port".  When it cannot start it logs why and exits with
 * status 1 (Go: Fatalf "Can't start monitoring: ...").  Returns 0. */
int br_monitor_start(const br_options *opts);
/* In a forked worker: closes the inherited listening socket (nothing else is touched). */
void br_monitor_close_in_child(void);
/* Stops serving (waits for requests in progress).  Safe when not started. */
/* Starts the HTTP threads on the listener br_monitor_start opened (after the workers are
 * forked).  0. */
int br_monitor_serve(void);
void br_monitor_stop(void);
/* Config reload in the supervisor: the options the HTTP threads read are swapped and freed
 * between these two calls (a write lock); the unlock also records the new config load time
 * and digest for /varz. */
void br_monitor_opts_write_lock(void);
void br_monitor_opts_write_unlock(void);
/* The bound port (after -m -1), or 0 when monitoring is off. */
int br_monitor_port(void);
/* "http" or "https". */
const char *br_monitor_scheme(void);

#endif
