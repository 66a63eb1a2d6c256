/* Integration-test harness: runs the server binary named by $NATS_SERVER_BIN as a child
 * process on an ephemeral port and talks to it over raw TCP sockets.
 *
 * Every wait in here is a poll for a condition with a deadline, so a broken or silent server
 * makes a test fail with a readable message instead of hanging it.  Failures are reported
 * through Criterion (cr_assert_fail) with the caller's file:line, the bytes received so far
 * (escaped) and the tail of every live server's log.
 *
 * Servers started here are killed when the test process exits (destructor + PDEATHSIG), so a
 * test that aborts half-way through does not leak a server into the next one.
 */
#ifndef NX_IT_HARNESS_H
#define NX_IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <jansson.h>

/* Default deadline for every expectation on a connection and for waits on the server. */
#define H_TIMEOUT_MS 5000

/* ---- server process ---------------------------------------------------------------------- */

typedef struct h_server {
    pid_t pid;          /* 0 when not running */
    int port;           /* client port, from the ports file */
    int exit_status;    /* waitpid status once reaped */
    char url[64];       /* "nats://127.0.0.1:<port>" */
    char dir[64];       /* private temp dir: ports file, log, config */
    char log_path[96];  /* stdout+stderr of the server */
    char conf_path[96]; /* config file, when the test gave one */
    bool has_conf;
    off_t log_start; /* log offset where the current incarnation began */
    int nargs;       /* test-given extra arguments, kept for restarts */
    char **args;
} h_server;

/* Start $NATS_SERVER_BIN with `-a 127.0.0.1 -p -1 --ports_file_dir <tmp>` plus `-c <file>`
 * when config_text is not NULL (written to <tmp>/server.conf), plus the NULL-terminated extra
 * arguments.  Returns once the ports file names the client port (fails the test otherwise). */
#define h_server_start(config_text, ...)                                                           \
    h_server_start_at(__FILE__, __LINE__, 0, (config_text), ##__VA_ARGS__, (const char *)NULL)
/* Same, listening on a fixed port instead of -p -1. */
#define h_server_start_on_port(port, config_text, ...)                                             \
    h_server_start_at(__FILE__, __LINE__, (port), (config_text), ##__VA_ARGS__, (const char *)NULL)
h_server *h_server_start_at(const char *file, int line, int port, const char *config_text, ...);

/* SIGTERM, wait (SIGKILL after a deadline), remove the temp dir, free.  NULL is a no-op. */
void h_server_stop(h_server *s);
/* Stop the process (as h_server_stop) and start it again with the same arguments and config on
 * the same port (`-p <port>`), waiting for its new ports file. */
#define h_server_restart(s) h_server_restart_at(__FILE__, __LINE__, (s))
void h_server_restart_at(const char *file, int line, h_server *s);
/* Just the process part of a stop: SIGTERM, reap; the struct and temp dir stay. */
void h_server_terminate(h_server *s);
void h_server_signal(h_server *s, int sig);
/* Wait until the server process exits by itself; true if it did within timeout_ms. */
bool h_server_wait_exit(h_server *s, int timeout_ms);

/* Wait until the log of the current incarnation contains needle; true if it did. */
bool h_server_wait_log(h_server *s, const char *needle, int timeout_ms);
#define h_server_expect_log(s, needle) h_server_expect_log_at(__FILE__, __LINE__, (s), (needle))
void h_server_expect_log_at(const char *file, int line, h_server *s, const char *needle);
/* Whole log of the current incarnation (malloc'd, NUL-terminated). */
char *h_server_log(h_server *s);

/* True when NATS_SERVER_BIN is the Debian Go server (v2.9.10), whose bytes differ from
 * v2.14.5 in a few documented places.  Use only through H_SKIP_IF_GO. */
bool h_server_is_go(void);
#define H_SKIP_IF_GO(why)                                                                          \
    do {                                                                                           \
        if (h_server_is_go()) cr_skip_test("Go 2.9.10 differs from v2.14.5 here: %s", (why));      \
    } while (0)

/* ---- raw client connections --------------------------------------------------------------- */

typedef struct h_conn {
    int fd;
    char *buf; /* received, not yet consumed */
    size_t len, cap;
    bool eof;       /* the peer closed (read returned 0 or the connection was reset) */
    int timeout_ms; /* deadline for each expectation, H_TIMEOUT_MS by default */
} h_conn;

#define h_connect(port) h_connect_at(__FILE__, __LINE__, (port))
h_conn *h_connect_at(const char *file, int line, int port);
/* One connect attempt without asserting: the socket fd, or -errno. */
int h_try_connect(int port);
void h_close(h_conn *c);

/* Read the INFO line, send CONNECT <connect_json>\r\n (NULL: Go's doDefaultConnect,
 * {"verbose":false,"pedantic":false,"tls_required":false,"headers":false}). */
#define h_connect_setup(port, connect_json)                                                        \
    h_connect_setup_at(__FILE__, __LINE__, (port), (connect_json))
h_conn *h_connect_setup_at(const char *file, int line, int port, const char *connect_json);

#define h_send(c, str) h_sendn_at(__FILE__, __LINE__, (c), (str), strlen(str))
#define h_sendn(c, data, n) h_sendn_at(__FILE__, __LINE__, (c), (data), (n))
#define h_sendf(c, ...) h_sendf_at(__FILE__, __LINE__, (c), __VA_ARGS__)
void h_sendn_at(const char *file, int line, h_conn *c, const void *data, size_t n);
void h_sendf_at(const char *file, int line, h_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write without asserting (for writes that may hit a closed connection): bytes or -errno. */
ssize_t h_send_raw(h_conn *c, const void *data, size_t n);
/* Send one byte per write() with a pause between, so the server's reads see the frame
 * split at every possible position. */
#define h_send_bytewise(c, str) h_send_bytewise_at(__FILE__, __LINE__, (c), (str))
void h_send_bytewise_at(const char *file, int line, h_conn *c, const char *str);

/* Expect exactly these bytes next; consumes them.  Fails at the first differing byte. */
#define h_expect(c, str) h_expectn_at(__FILE__, __LINE__, (c), (str), strlen(str))
#define h_expectn(c, data, n) h_expectn_at(__FILE__, __LINE__, (c), (data), (n))
void h_expectn_at(const char *file, int line, h_conn *c, const void *data, size_t n);

/* Expect the next bytes to match the POSIX extended regex (GNU: \s \S \w allowed).  The match
 * must start at the first unconsumed byte; everything up to the end of the match is consumed
 * and returned (malloc'd).  Write patterns that end in \r\n so a partial line cannot match. */
#define h_expect_re(c, re) h_expect_re_at(__FILE__, __LINE__, (c), (re))
char *h_expect_re_at(const char *file, int line, h_conn *c, const char *re);

/* Read "INFO <json>\r\n" and return the parsed JSON (caller json_decref's). */
#define h_read_info(c) h_read_info_at(__FILE__, __LINE__, (c))
json_t *h_read_info_at(const char *file, int line, h_conn *c);

/* Expect the server to close the connection (read returns 0 or a reset) with no further
 * bytes before it. */
#define h_expect_closed(c) h_expect_closed_at(__FILE__, __LINE__, (c))
void h_expect_closed_at(const char *file, int line, h_conn *c);

/* Expect no bytes at all for ms milliseconds (negative assertion, like Go's expectNothing). */
#define h_expect_nothing(c, ms) h_expect_nothing_at(__FILE__, __LINE__, (c), (ms))
void h_expect_nothing_at(const char *file, int line, h_conn *c, int ms);

/* One delivered message, parsed from "MSG subj sid [reply] len" or
 * "HMSG subj sid [reply] hlen tlen" plus the payload and its CRLF. */
typedef struct h_msg {
    bool hmsg;
    char subject[256];
    char sid[64];
    char reply[256];
    long hdr_len;   /* -1 for MSG */
    long total_len; /* payload bytes including headers */
    char *data;     /* total_len bytes + NUL */
} h_msg;
#define h_read_msg(c, m) h_read_msg_at(__FILE__, __LINE__, (c), (m))
void h_read_msg_at(const char *file, int line, h_conn *c, h_msg *m);
void h_msg_free(h_msg *m);
/* Like h_read_msg, but false (nothing consumed) when no whole message arrives within
 * timeout_ms; the server's PINGs meanwhile are answered. */
#define h_try_read_msg(c, m, ms) h_try_read_msg_at(__FILE__, __LINE__, (c), (m), (ms))
bool h_try_read_msg_at(const char *file, int line, h_conn *c, h_msg *m, int timeout_ms);

/* Round trip: send PING, expect PONG.  Everything the server queued before the PONG (for this
 * connection) is then in c->buf; use it as a barrier after sends. */
#define h_ping(c) h_ping_at(__FILE__, __LINE__, (c))
void h_ping_at(const char *file, int line, h_conn *c);

/* ---- misc --------------------------------------------------------------------------------- */

int64_t h_now_ms(void);
/* Deliberate pause that is *not* a wait for a condition: used only to separate writes into
 * distinct server reads or to position a send inside a timer interval. */
void h_pause_ms(int ms);

/* Counter shared with libnats callback threads; waits are condvar waits with a deadline. */
typedef struct h_counter h_counter;
h_counter *h_counter_new(void);
void h_counter_free(h_counter *k);
void h_counter_add(h_counter *k, int n);
int h_counter_get(h_counter *k);
/* True once the counter is >= n, false at the deadline. */
bool h_counter_wait(h_counter *k, int n, int timeout_ms);

/* Escape bytes for a failure message (static buffer per call site is not needed: malloc'd). */
char *h_escape(const void *data, size_t n);

#endif
