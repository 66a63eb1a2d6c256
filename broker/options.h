/* Server options: Go's defaults, the command line, and (later) the config file.
 *
 * Ports the option fields and flag handling of Go nats-server v2.14.5 server/opts.go
 * (ConfigureOptions) and main.go.  Durations are kept in milliseconds.
 */
#ifndef BR_OPTIONS_H
#define BR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/account.h"
#include "broker/auth.h"
#include "broker/tls.h"
#include "common/transform.h"

#define BR_DEFAULT_PORT 4222
#define BR_RANDOM_PORT (-1)
#define BR_MAX_PAYLOAD (1024 * 1024)
#define BR_MAX_PAYLOAD_MAX (8 * 1024 * 1024)
#define BR_MAX_CONTROL_LINE 4096
#define BR_MAX_PENDING (64LL * 1024 * 1024)
#define BR_MAX_CONNECTIONS (64 * 1024)
#define BR_AUTH_TIMEOUT_MS 2000
#define BR_PING_INTERVAL_MS (2 * 60 * 1000)
#define BR_PING_MAX 2
#define BR_WRITE_DEADLINE_MS 10000
#define BR_LAME_DUCK_DURATION_MS (2 * 60 * 1000)
#define BR_LAME_DUCK_GRACE_MS 10000

typedef struct br_options {
    /* Server */
    char *host;
    int port;
    char *server_name;
    char *client_advertise;
    char *config_file;
    char *pid_file;
    char *ports_file_dir;
    bool check_config; /* -t */
    char *signal;      /* --signal cmd[=pid] */
    int http_port;        /* monitoring (monitor.h); -1: a random port */
    int https_port;
    char *http_host;      /* NULL: the client host (Go: HTTPHost defaults to Host) */
    char *http_base_path; /* Go normalizeBasePath applies */
    int max_closed_clients; /* /connz?state=closed ring, node-wide; 0: Go's 10000 */
    int prof_port;
    int workers; /* broker worker processes; 0: one per online core */
    char *node_socket; /* systemd deployment: the node daemon's control socket */
    int worker_index;  /* >= 0: run as that worker of the node at node_socket */

    /* Logging */
    char *log_file;
    bool logtime;
    bool logtime_utc;
    bool debug;
    bool trace;
    bool trace_verbose;
    bool syslog;
    char *remote_syslog;
    int64_t log_size_limit;
    int max_traced_msg_len;

    /* Limits */
    int32_t max_payload;
    int32_t max_control_line;
    int64_t max_pending;
    int32_t max_connections;
    int32_t max_subs; /* 0: unlimited */
    int64_t ping_interval_ms;
    int32_t ping_max;
    int64_t write_deadline_ms;
    int64_t auth_timeout_ms;
    int64_t lame_duck_duration_ms;
    int64_t lame_duck_grace_ms;
    bool no_header_support;
    bool disable_short_first_ping;

    /* Authorization: --user/--pass/--auth flags, folded into `auth` (which also holds the
     * authorization {} block and no_auth_user) by br_options_load. */
    char *username;
    char *password;
    char *token;
    br_auth_opts auth;
    br_accounts_conf accounts; /* `accounts {}`, system_account (account.h) */
    nx_mappings mappings; /* server-level `mappings {}` (the global account's) */

    /* JetStream (-js, -sd, `jetstream {}`): served by storaged (storaged/sd_process.c). */
    bool jetstream;
    char *store_dir;
    int64_t js_max_memory;  /* max_memory_store; -1: Go's default (75% of RAM) */
    int64_t js_max_store;   /* max_file_store; -1: Go's default (1 TB or disk) */
    char *js_domain;
    bool js_sync_always;    /* sync: always (our default anyway: durable) */
    int64_t js_sync_interval_ns; /* sync_interval: <duration>: Go's lazy mode; 0: durable */
    char *js_key, *js_cipher, *js_unique_tag;
    bool js_strict_off;     /* strict: false */
    /* TLS for client connections: --tls* flags or the `tls {}` block. */
    bool tls, tls_verify;
    char *tls_cert, *tls_key, *tls_ca_cert;
    br_tls_config tls_cfg; /* effective settings, filled by br_options_finish_tls */
    bool tls_flag_set; /* a --tls* flag was given (Go: tlsOverride) */
    bool tls_flag_off; /* --tls=false was given (Go: tlsDisabled) */
    /* Clustering (Go Options.Cluster, Routes): --routes (comma-separated URLs; the file's
     * `routes [...]` is kept the same way), --cluster/--cluster_listen URL, or the file's
     * `cluster { listen | host, port }`.  Served by raftd (broker/supervisor_raftd.c) when
     * JetStream is on; there is no route protocol (docs/deviations.md). */
    char *routes, *cluster_listen, *cluster_name, *cluster_advertise;
    char *cluster_host; /* the file's cluster host (NULL: Go's 0.0.0.0) */
    int cluster_port;   /* the file's cluster port; 0: no cluster, -1: random */
    bool no_advertise;
    int connect_retries;
    char *bad_command; /* first non-flag argument Go does not know ("unrecognized command") */
} br_options;

void br_options_defaults(br_options *o);
void br_options_free(br_options *o);

typedef enum br_flags_result {
    BR_FLAGS_RUN,
    BR_FLAGS_EXIT_OK,    /* -h, -v handled */
    BR_FLAGS_EXIT_ERROR, /* message already printed */
} br_flags_result;

/* Parses Go-style flags (-p 4222, --port=4222, -D, -DV, ...) into o. */
br_flags_result br_options_parse_flags(br_options *o, int argc, char **argv);

/* Checks cross-option rules and refuses options for features not built yet.  0, or -1 with
 * the reason in br_options_error(). */
int br_options_validate(const br_options *o);
const char *br_options_error(void);

/* Folds the --tls* flags into tls_cfg as Go's ConfigureOptions does.  0, or -1 with the
 * reason in br_options_error(). */
int br_options_finish_tls(br_options *o);

/* Go setBaselineOptions: zero values mean the defaults (port 0 is 4222, a zero auth timeout is
 * 2s or the TLS timeout + 1s, ...).  Run after the file and the flags. */
void br_options_baseline(br_options *o);

/* Go time.Duration.String() of ns: "2m0s", "1.5s", "100µs", "0s". */
void br_go_duration(int64_t ns, char *buf, size_t cap);

/* Go tls.LoadX509KeyPair / GenTLSConfig checks, with Go's texts: 0, or -1 with the reason
 * ("open x.pem: no such file or directory", "tls: private key does not match public key") in
 * why.  br_tls_ca_check: the CA file ("failed to parse root ca certificate"). */
int br_tls_pair_check(const char *cert, const char *key, char *why, size_t cap);
int br_tls_ca_check(const char *ca, char *why, size_t cap);

/* Go dynJetStreamConfig: the effective JetStream limits and store directory (-1 in the options
 * means 75% of the system's memory, and 75% of the store directory's free space). */
void br_js_effective(const br_options *o, int64_t *max_memory, int64_t *max_store,
                     const char **store_dir);

/* The cluster listener as Go resolves it (the --cluster URL wins over the file): 0 with
 * *port 0 when not clustered; -1 with Go's reason in br_options_error() for a bad URL. */
int br_cluster_addr(const br_options *o, char *host, size_t cap, int *port);

/* Clustered JetStream (JetStream on and a cluster port): raftd's control socket, which the
 * supervisor gives the raftd it forks and storaged connects to: <store_dir>/jetstream/
 * raftd.sock.  False when not clustered; -1 when the path is too long for a Unix socket. */
int br_raftd_socket_path(const br_options *o, char *buf, size_t cap);

void br_print_usage(void);
void br_print_version(void);

#endif
