/* Server options and the command line; see options.h.
 * Ports Go nats-server v2.14.5 main.go (usage text) and server/opts.go (ConfigureOptions flags,
 * defaults from server/const.go).  Flags follow Go's flag package: one or two dashes,
 * "-flag value" or "-flag=value", booleans as "-flag" or "-flag=false".
 */
#include "broker/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void br_options_defaults(br_options *o) {
    memset(o, 0, sizeof *o);
    o->port = BR_DEFAULT_PORT;
    o->worker_index = -1;
    o->logtime = true;
    o->max_payload = BR_MAX_PAYLOAD;
    o->max_control_line = BR_MAX_CONTROL_LINE;
    o->max_pending = BR_MAX_PENDING;
    o->max_connections = BR_MAX_CONNECTIONS;
    o->ping_interval_ms = BR_PING_INTERVAL_MS;
    o->ping_max = BR_PING_MAX;
    o->write_deadline_ms = BR_WRITE_DEADLINE_MS;
    o->auth_timeout_ms = BR_AUTH_TIMEOUT_MS;
    o->lame_duck_duration_ms = BR_LAME_DUCK_DURATION_MS;
    o->lame_duck_grace_ms = BR_LAME_DUCK_GRACE_MS;
    o->tls_cfg.timeout_ms = 2000; /* Go: TLS_TIMEOUT */
}

void br_options_free(br_options *o) {
    char **strs[] = {&o->host,          &o->server_name,    &o->client_advertise, &o->config_file,
                     &o->pid_file,      &o->ports_file_dir, &o->signal,           &o->log_file,
                     &o->remote_syslog, &o->username,       &o->password,         &o->token,
                     &o->store_dir,     &o->tls_cert,       &o->tls_key,          &o->tls_ca_cert,
                     &o->routes,        &o->cluster_listen, &o->cluster_name,     &o->cluster_advertise,
                     &o->node_socket,   &o->http_host,      &o->http_base_path};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    br_tls_config_free(&o->tls_cfg);
}

typedef enum flag_kind { F_BOOL, F_INT, F_INT64, F_STR, F_SPECIAL } flag_kind;

enum special { SP_NONE, SP_HELP, SP_VERSION, SP_HELP_TLS, SP_VV, SP_DV, SP_DVV };

typedef struct flag_def {
    const char *name;
    flag_kind kind;
    size_t offset;
    int special;
} flag_def;

#define OPT(field) offsetof(br_options, field)
static const flag_def flag_defs[] = {
    {"h", F_SPECIAL, 0, SP_HELP},
    {"help", F_SPECIAL, 0, SP_HELP},
    {"v", F_SPECIAL, 0, SP_VERSION},
    {"version", F_SPECIAL, 0, SP_VERSION},
    {"help_tls", F_SPECIAL, 0, SP_HELP_TLS},
    {"p", F_INT, OPT(port), 0},
    {"port", F_INT, OPT(port), 0},
    {"n", F_STR, OPT(server_name), 0},
    {"name", F_STR, OPT(server_name), 0},
    {"server_name", F_STR, OPT(server_name), 0},
    {"a", F_STR, OPT(host), 0},
    {"addr", F_STR, OPT(host), 0},
    {"net", F_STR, OPT(host), 0},
    {"client_advertise", F_STR, OPT(client_advertise), 0},
    {"D", F_BOOL, OPT(debug), 0},
    {"debug", F_BOOL, OPT(debug), 0},
    {"V", F_BOOL, OPT(trace), 0},
    {"trace", F_BOOL, OPT(trace), 0},
    {"VV", F_SPECIAL, 0, SP_VV},
    {"DV", F_SPECIAL, 0, SP_DV},
    {"DVV", F_SPECIAL, 0, SP_DVV},
    {"T", F_BOOL, OPT(logtime), 0},
    {"logtime", F_BOOL, OPT(logtime), 0},
    {"logtime_utc", F_BOOL, OPT(logtime_utc), 0},
    {"user", F_STR, OPT(username), 0},
    {"pass", F_STR, OPT(password), 0},
    {"auth", F_STR, OPT(token), 0},
    {"m", F_INT, OPT(http_port), 0},
    {"http_port", F_INT, OPT(http_port), 0},
    {"ms", F_INT, OPT(https_port), 0},
    {"https_port", F_INT, OPT(https_port), 0},
    {"c", F_STR, OPT(config_file), 0},
    {"config", F_STR, OPT(config_file), 0},
    {"t", F_BOOL, OPT(check_config), 0},
    {"sl", F_STR, OPT(signal), 0},
    {"signal", F_STR, OPT(signal), 0},
    {"P", F_STR, OPT(pid_file), 0},
    {"pid", F_STR, OPT(pid_file), 0},
    {"ports_file_dir", F_STR, OPT(ports_file_dir), 0},
    {"l", F_STR, OPT(log_file), 0},
    {"log", F_STR, OPT(log_file), 0},
    {"log_size_limit", F_INT64, OPT(log_size_limit), 0},
    {"s", F_BOOL, OPT(syslog), 0},
    {"syslog", F_BOOL, OPT(syslog), 0},
    {"r", F_STR, OPT(remote_syslog), 0},
    {"remote_syslog", F_STR, OPT(remote_syslog), 0},
    {"profile", F_INT, OPT(prof_port), 0},
    {"routes", F_STR, OPT(routes), 0},
    {"cluster", F_STR, OPT(cluster_listen), 0},
    {"cluster_listen", F_STR, OPT(cluster_listen), 0},
    {"cluster_advertise", F_STR, OPT(cluster_advertise), 0},
    {"no_advertise", F_BOOL, OPT(no_advertise), 0},
    {"connect_retries", F_INT, OPT(connect_retries), 0},
    {"cluster_name", F_STR, OPT(cluster_name), 0},
    {"tls", F_BOOL, OPT(tls), 0},
    {"tlsverify", F_BOOL, OPT(tls_verify), 0},
    {"tlscert", F_STR, OPT(tls_cert), 0},
    {"tlskey", F_STR, OPT(tls_key), 0},
    {"tlscacert", F_STR, OPT(tls_ca_cert), 0},
    {"max_traced_msg_len", F_INT, OPT(max_traced_msg_len), 0},
    {"js", F_BOOL, OPT(jetstream), 0},
    {"jetstream", F_BOOL, OPT(jetstream), 0},
    {"sd", F_STR, OPT(store_dir), 0},
    {"store_dir", F_STR, OPT(store_dir), 0},
    {"workers", F_INT, OPT(workers), 0},
    {"node_socket", F_STR, OPT(node_socket), 0},
    {"worker", F_INT, OPT(worker_index), 0},
};

static const char usage_text[] =
    "\n"
    "Usage: nats-server [options]\n"
    "\n"
    "Server Options:\n"
    "    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)\n"
    "    -p, --port <port>                Use port for clients (default: 4222)\n"
    "    -n, --name\n"
    "        --server_name <server_name>  Server name (default: auto)\n"
    "    -P, --pid <file>                 File to store PID\n"
    "    -m, --http_port <port>           Use port for http monitoring\n"
    "    -ms,--https_port <port>          Use port for https monitoring\n"
    "    -c, --config <file>              Configuration file\n"
    "    -t                               Test configuration and exit\n"
    "    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, "
    "term, reopen, reload)\n"
    "                                     <pid> can be either a PID (e.g. 1) or the path to a PID "
    "file (e.g. /var/run/nats-server.pid)\n"
    "        --client_advertise <string>  Client URL to advertise to other servers\n"
    "        --ports_file_dir <dir>       Creates a ports file in the specified directory "
    "(<executable_name>_<pid>.ports).\n"
    "\n"
    "Logging Options:\n"
    "    -l, --log <file>                 File to redirect log output\n"
    "    -T, --logtime                    Timestamp log entries (default: true)\n"
    "    -s, --syslog                     Log to syslog or windows event log\n"
    "    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)\n"
    "    -D, --debug                      Enable debugging output\n"
    "    -V, --trace                      Trace the raw protocol\n"
    "    -VV                              Verbose trace (traces system account as well)\n"
    "    -DV                              Debug and trace\n"
    "    -DVV                             Debug and verbose trace (traces system account as "
    "well)\n"
    "        --log_size_limit <limit>     Logfile size limit (default: auto)\n"
    "        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: "
    "unlimited)\n"
    "\n"
    "JetStream Options:\n"
    "    -js, --jetstream                 Enable JetStream functionality\n"
    "    -sd, --store_dir <dir>           Set the storage directory\n"
    "\n"
    "Authorization Options:\n"
    "        --user <user>                User required for connections\n"
    "        --pass <password>            Password required for connections\n"
    "        --auth <token>               Authorization token required for connections\n"
    "\n"
    "TLS Options:\n"
    "        --tls                        Enable TLS, do not verify clients (default: false)\n"
    "        --tlscert <file>             Server certificate file\n"
    "        --tlskey <file>              Private key for server certificate\n"
    "        --tlsverify                  Enable TLS, verify client certificates\n"
    "        --tlscacert <file>           Client certificate CA for verification\n"
    "\n"
    "Cluster Options:\n"
    "        --routes <rurl-1, rurl-2>    Routes to solicit and connect\n"
    "        --cluster <cluster-url>      Cluster URL for solicited routes\n"
    "        --cluster_name <string>      Cluster Name, if not set one will be dynamically "
    "generated\n"
    "        --no_advertise <bool>        Do not advertise known cluster information to clients\n"
    "        --cluster_advertise <string> Cluster URL to advertise to other servers\n"
    "        --connect_retries <number>   For implicit routes, number of connect retries\n"
    "        --cluster_listen <url>       Cluster url from which members can solicit routes\n"
    "\n"
    "Profiling Options:\n"
    "        --profile <port>             Profiling HTTP port\n"
    "\n"
    "Worker Options (this server):\n"
    "        --workers <n>                Broker worker processes (default: one per core)\n"
    "        --node_socket <path>         systemd: run the node daemon, workers join here\n"
    "        --worker <n>                 systemd: run worker n of the node at --node_socket\n"
    "\n"
    "Worker Options (this server):\n"
    "        --workers <n>                Broker worker processes (default: one per core)\n"
    "        --node_socket <path>         systemd: run the node daemon, workers join here\n"
    "        --worker <n>                 systemd: run worker n of the node at --node_socket\n"
    "\n"
    "Common Options:\n"
    "    -h, --help                       Show this message\n"
    "    -v, --version                    Show version\n"
    "        --help_tls                   TLS help\n";

void br_print_usage(void) {
    printf("%s\n", usage_text);
}

void br_print_version(void) {
    /* Tooling parses "nats-server: vX.Y.Z"; the implementation is named after it. */
    printf("nats-server: v%s (nats-server-c %s)\n", "2.14.5", NX_VERSION);
}

static const flag_def *find_flag(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof flag_defs / sizeof flag_defs[0]; i++)
        if (strlen(flag_defs[i].name) == len && memcmp(flag_defs[i].name, name, len) == 0)
            return &flag_defs[i];
    return NULL;
}

static int parse_bool(const char *v, bool *out) {
    static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(v, t[i]) == 0) return *out = true, 0;
        if (strcmp(v, f[i]) == 0) return *out = false, 0;
    }
    return -EINVAL;
}

static int parse_int64(const char *v, int64_t *out) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 0);
    if (errno || end == v || *end) return -EINVAL;
    *out = n;
    return 0;
}

static void flag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void flag_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    br_print_usage();
}

br_flags_result br_options_parse_flags(br_options *o, int argc, char **argv) {
    bool want_help = false, want_version = false, want_tls_help = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') break; /* Go stops at the first non-flag */
        const char *name = arg + 1;
        if (name[0] == '-') {
            name++;
            if (name[0] == '\0') break; /* "--" ends the flags */
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const flag_def *fd = find_flag(name, nlen);
        if (!fd) {
            char nm[128];
            snprintf(nm, sizeof nm, "%.*s", (int)nlen, name);
            flag_error("flag provided but not defined: -%s", nm);
            return BR_FLAGS_EXIT_ERROR;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (fd->kind == F_BOOL || fd->kind == F_SPECIAL) {
            bool b = true;
            if (value && parse_bool(value, &b) < 0) {
                flag_error("invalid boolean value \"%s\" for -%s", value, fd->name);
                return BR_FLAGS_EXIT_ERROR;
            }
            if (fd->kind == F_BOOL) {
                *(bool *)((char *)o + fd->offset) = b;
                continue;
            }
            switch (fd->special) {
            case SP_HELP: want_help = b; break;
            case SP_VERSION: want_version = b; break;
            case SP_HELP_TLS: want_tls_help = b; break;
            case SP_VV: o->trace = o->trace_verbose = b; break;
            case SP_DV: o->debug = o->trace = b; break;
            case SP_DVV: o->debug = o->trace = o->trace_verbose = b; break;
            default: break;
            }
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                flag_error("flag needs an argument: -%s", fd->name);
                return BR_FLAGS_EXIT_ERROR;
            }
            value = argv[++i];
        }
        if (fd->kind == F_STR) {
            char **dst = (char **)((char *)o + fd->offset);
            free(*dst);
            *dst = strdup(value);
            continue;
        }
        int64_t n;
        if (parse_int64(value, &n) < 0 || (fd->kind == F_INT && (n < INT32_MIN || n > INT32_MAX))) {
            flag_error("invalid value \"%s\" for flag -%s: parse error", value, fd->name);
            return BR_FLAGS_EXIT_ERROR;
        }
        if (fd->kind == F_INT)
            *(int *)((char *)o + fd->offset) = (int)n;
        else
            *(int64_t *)((char *)o + fd->offset) = n;
    }
    if (want_help) {
        br_print_usage();
        return BR_FLAGS_EXIT_OK;
    }
    if (want_version) {
        br_print_version();
        return BR_FLAGS_EXIT_OK;
    }
    if (want_tls_help) {
        printf("TLS Options:\n"
           "    --tls                        Enable TLS, do not verify clients (default: false)\n"
           "    --tlscert <file>             Server certificate file\n"
           "    --tlskey <file>              Private key for server certificate\n"
           "    --tlsverify                  Enable TLS, verify client certificates\n"
           "    --tlscacert <file>           Client certificate CA for verification\n"
           "\nConfiguration: tls { cert_file, key_file, ca_file, verify, verify_and_map, timeout,\n"
           "handshake_first, cipher_suites, min_version, pinned_certs }\n");
        return BR_FLAGS_EXIT_OK;
    }
    return BR_FLAGS_RUN;
}

/* Validation messages are kept, not printed: at start-up main prints them, on reload the
 * supervisor logs them (br_options_error). */
static char g_opt_err[1024];

static int opt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int opt_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_opt_err, sizeof g_opt_err, fmt, ap);
    va_end(ap);
    return -1;
}

const char *br_options_error(void) {
    return g_opt_err;
}

static int refuse(const char *what) {
    return opt_fail("%s is not supported by this server yet; refusing to start rather than run "
                    "without it (see docs/deviations.md)",
                    what);
}

int br_options_validate(const br_options *o) {
    if (o->jetstream || o->store_dir) return refuse("JetStream");
    if (o->routes || o->cluster_listen) return refuse("clustering (routes)");
    if (o->syslog || o->remote_syslog) return refuse("syslog logging");
    if (o->prof_port) return refuse("the profiling port");
    if (o->workers < 0 || o->workers > 64) {
        return opt_fail("workers must be between 1 and 64 (0: one per core)");
    }
    if (o->worker_index >= 0 && !o->node_socket) {
        return opt_fail("--worker needs --node_socket");
    }
    if (o->port < -1 || o->port > 65535) {
        return opt_fail("invalid port %d", o->port);
    }
    if (o->max_payload <= 0 || o->max_payload > BR_MAX_PAYLOAD_MAX) {
        /* Go: max_payload cannot exceed max_pending, and warns above 8MB; we cap at 64MB. */
        if (o->max_payload <= 0 || (int64_t)o->max_payload > o->max_pending) {
            return opt_fail("max_payload (%d) cannot be higher than max_pending (%lld)",
                            o->max_payload, (long long)o->max_pending);
        }
    }
    if (o->token && o->username) {
        return opt_fail("Can not have a token and a username/password");
    }
    return 0;
}

int br_options_finish_tls(br_options *o) {
    br_tls_config *t = &o->tls_cfg;
    /* Go: any TLS flag turns TLS on; --tlsverify also requires client certificates. */
    if (o->tls_cert) {
        free(t->cert_file);
        t->cert_file = strdup(o->tls_cert);
    }
    if (o->tls_key) {
        free(t->key_file);
        t->key_file = strdup(o->tls_key);
    }
    if (o->tls_ca_cert) {
        free(t->ca_file);
        t->ca_file = strdup(o->tls_ca_cert);
    }
    if (o->tls_verify) t->verify = true;
    if (o->tls_verify || o->tls_cert || o->tls_key || o->tls_ca_cert) o->tls = true;
    if (!o->tls) return 0;
    if (!t->cert_file || !t->key_file) {
        return opt_fail("TLS Server certificate must be present and valid");
    }
    return 0;
}
