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
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/subject.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>

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
    o->auth_timeout_ms = 0; /* br_options_baseline: 2s, or the TLS timeout + 1s with TLS */
    o->lame_duck_duration_ms = BR_LAME_DUCK_DURATION_MS;
    o->lame_duck_grace_ms = BR_LAME_DUCK_GRACE_MS;
    o->tls_cfg.timeout_ms = 2000; /* Go: TLS_TIMEOUT */
    o->js_max_memory = -1;
    o->js_max_store = -1;
}

void br_options_free(br_options *o) {
    char **strs[] = {&o->host,          &o->server_name,    &o->client_advertise, &o->config_file,
                     &o->pid_file,      &o->ports_file_dir, &o->signal,           &o->log_file,
                     &o->remote_syslog, &o->username,       &o->password,         &o->token,
                     &o->store_dir,     &o->tls_cert,       &o->tls_key,          &o->tls_ca_cert,
                     &o->routes,        &o->cluster_listen, &o->cluster_name,     &o->cluster_advertise,
                     &o->node_socket,   &o->http_host,      &o->http_base_path,   &o->bad_command,
                     &o->js_domain,     &o->js_key,         &o->js_cipher,        &o->js_unique_tag,
                     &o->cluster_host};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    br_tls_config_free(&o->tls_cfg);
    br_auth_opts_free(&o->auth);
    br_accounts_conf_free(&o->accounts);
    nx_mappings_free(&o->mappings);
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
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') break; /* Go stops at the first non-flag */
        const char *name = arg + 1;
        if (name[0] == '-') {
            name++;
            if (name[0] == '\0') { /* "--" ends the flags */
                i++;
                break;
            }
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
                /* Go visits flags in name order, so "tls" (false) wins over the tls* ones */
                if (!strcmp(fd->name, "tls")) o->tls_flag_off = !b;
                if (!strncmp(fd->name, "tls", 3)) o->tls_flag_set = true;
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
            if (!strncmp(fd->name, "tls", 3)) o->tls_flag_set = true;
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
    /* Go ProcessCommandLineArgs: the first argument after the flags may be a command. */
    if (i < argc) {
        if (!strcasecmp(argv[i], "version")) {
            br_print_version();
            return BR_FLAGS_EXIT_OK;
        }
        if (!strcasecmp(argv[i], "help")) {
            br_print_usage();
            return BR_FLAGS_EXIT_OK;
        }
        free(o->bad_command);
        o->bad_command = strdup(argv[i]); /* br_options_load reports it */
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
    char a[48], b[48];
    /* Go validateOptions, in Go's order. */
    if (o->lame_duck_duration_ms > 0 && o->lame_duck_grace_ms >= o->lame_duck_duration_ms) {
        br_go_duration(o->lame_duck_grace_ms * 1000000, a, sizeof a);
        br_go_duration(o->lame_duck_duration_ms * 1000000, b, sizeof b);
        return opt_fail("lame duck grace period (%s) should be strictly lower than lame duck "
                        "duration (%s)", a, b);
    }
    if ((int64_t)o->max_payload > o->max_pending) {
        return opt_fail("max_payload (%d) cannot be higher than max_pending (%lld)",
                        o->max_payload, (long long)o->max_pending);
    }
    if (o->server_name && strchr(o->server_name, ' ')) {
        return opt_fail("server name cannot contain spaces");
    }
    if (o->js_domain && o->js_domain[0]) { /* Go validateJetStreamOptions */
        char subj[600];
        int n = snprintf(subj, sizeof subj, "$JS.%s.API", o->js_domain);
        if (n < 0 || (size_t)n >= sizeof subj || !nx_subject_valid(subj, (size_t)n))
            return opt_fail("invalid domain name: derived \"%s\" is not a valid subject", subj);
        if (strpbrk(o->js_domain, " \t\r\n\f.*>"))
            return opt_fail("invalid domain name: may not contain ., * or >");
    }
    if (o->jetstream && br_accounts_conf_js_on_system(&o->accounts)) {
        return opt_fail("Not allowed to enable JetStream on the system account");
    }
    if (o->jetstream && !o->check_config) { /* Go: JetStream's start, before any client */
        int64_t mem, store;
        const char *dir, *why;
        br_js_effective(o, &mem, &store, &dir);
        if ((why = br_accounts_conf_js_resources(&o->accounts, mem, store)))
            return opt_fail("Can't start JetStream: Error enabling jetstream on configured "
                            "accounts: %s", why);
    }
    /* This server's own rules and the features it does not have yet. */
    if (o->max_payload < 0) return opt_fail("max_payload (%d) cannot be negative", o->max_payload);
    /* Go validateCluster, then validateJetStreamOptions' clustering part (Cluster.Port != 0). */
    if (o->cluster_name && strchr(o->cluster_name, ' '))
        return opt_fail("cluster name cannot contain spaces");
    char chost[256];
    int cport = 0;
    if (br_cluster_addr(o, chost, sizeof chost, &cport) < 0) return -1;
    if (o->jetstream && cport != 0) {
        if (!o->server_name || !o->server_name[0])
            return opt_fail("jetstream cluster requires `server_name` to be set");
        if (!o->cluster_name || !o->cluster_name[0])
            return opt_fail("jetstream cluster requires `cluster.name` to be set");
    }
    /* Routes (core message routing) are not built: a cluster serves clustered JetStream's
     * RAFT groups only (raftd), so without JetStream it would do nothing. */
    if (!o->jetstream && (cport != 0 || (o->routes && o->routes[0])))
        return refuse("clustering without JetStream (routes)");
    if (o->syslog || (o->remote_syslog && o->remote_syslog[0])) return refuse("syslog logging");
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
    return 0;
}

int br_cluster_addr(const br_options *o, char *host, size_t cap, int *port) {
    *port = 0;
    snprintf(host, cap, "%s", o->cluster_host && o->cluster_host[0] ? o->cluster_host : "0.0.0.0");
    if (!o->cluster_listen) { /* the file's cluster {} (or nothing) */
        *port = o->cluster_port;
        return 0;
    }
    const char *u = o->cluster_listen; /* Go overrideCluster: url.Parse, net.SplitHostPort */
    if (!u[0]) return 0;              /* --cluster "" disables clustering */
    const char *p = strstr(u, "://");
    if (p) u = p + 3;
    const char *at = strrchr(u, '@');
    if (at) {
        if (!memchr(u, ':', (size_t)(at - u)))
            return opt_fail("expected cluster password to be set");
        u = at + 1;
    }
    size_t n = strcspn(u, "/?#");
    char hp[256];
    snprintf(hp, sizeof hp, "%.*s", (int)(n < sizeof hp ? n : sizeof hp - 1), u);
    char *colon = strrchr(hp, ':');
    if (!colon || (hp[0] != '[' && memchr(hp, ':', (size_t)(colon - hp))))
        return opt_fail("address %s: %s", hp, colon ? "too many colons in address"
                                                    : "missing port in address");
    *colon = '\0';
    const char *h = hp;
    if (h[0] == '[') {
        h++;
        size_t hl = strlen(h);
        if (hl && h[hl - 1] == ']') hp[hl] = '\0';
    }
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || v < -1 || v > 65535) return opt_fail("expected integer");
    snprintf(host, cap, "%s", h[0] ? h : "0.0.0.0");
    *port = (int)v;
    return 0;
}

int br_raftd_socket_path(const br_options *o, char *buf, size_t cap) {
    char host[256];
    int port = 0;
    if (!o->jetstream || br_cluster_addr(o, host, sizeof host, &port) < 0 || port == 0) return 0;
    int64_t mem, store;
    const char *dir;
    br_js_effective(o, &mem, &store, &dir);
    int n = snprintf(buf, cap, "%s/jetstream/raftd.sock", dir);
    return n > 0 && (size_t)n < cap && n < 108 ? 1 : -1; /* sockaddr_un.sun_path */
}

static void set_copy(char **dst, const char *src) {
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

/* Go ConfigureOptions/overrideTLS: --tls=false drops TLS (also a tls {} block); any other
 * --tls* flag builds the TLS settings from the flags alone, as GenTLSConfig would. */
int br_options_finish_tls(br_options *o) {
    br_tls_config *t = &o->tls_cfg;
    if (o->tls_flag_off) {
        o->tls = false;
        return 0;
    }
    if (!o->tls_flag_set) return 0;
    if (!o->tls_cert || !o->tls_cert[0]) {
        return opt_fail("TLS Server certificate must be present and valid");
    }
    if (!o->tls_key || !o->tls_key[0]) {
        return opt_fail("TLS Server private key must be present and valid");
    }
    set_copy(&t->cert_file, o->tls_cert);
    set_copy(&t->key_file, o->tls_key);
    set_copy(&t->ca_file, o->tls_ca_cert && o->tls_ca_cert[0] ? o->tls_ca_cert : NULL);
    set_copy(&t->cipher_suites, NULL); /* Go: the default cipher suites */
    set_copy(&t->curve_groups, NULL);
    t->verify = o->tls_verify;
    t->min_version = 0;
    o->tls = true;
    char why[512];
    if (br_tls_pair_check(t->cert_file, t->key_file, why, sizeof why) < 0) {
        return opt_fail("error parsing X509 certificate/key pair: %s", why);
    }
    if (t->ca_file && br_tls_ca_check(t->ca_file, why, sizeof why) < 0) {
        return opt_fail("%s", why);
    }
    return 0;
}

void br_options_baseline(br_options *o) {
    if (o->port == 0) o->port = BR_DEFAULT_PORT;
    if (o->max_connections == 0) o->max_connections = BR_MAX_CONNECTIONS;
    if (o->ping_interval_ms == 0) o->ping_interval_ms = BR_PING_INTERVAL_MS;
    if (o->ping_max == 0) o->ping_max = BR_PING_MAX;
    if (o->tls_cfg.timeout_ms == 0) o->tls_cfg.timeout_ms = 2000;
    if (o->auth_timeout_ms == 0) /* Go getDefaultAuthTimeout */
        o->auth_timeout_ms = o->tls ? o->tls_cfg.timeout_ms + 1000 : BR_AUTH_TIMEOUT_MS;
    if (o->max_control_line == 0) o->max_control_line = BR_MAX_CONTROL_LINE;
    if (o->max_payload == 0) o->max_payload = BR_MAX_PAYLOAD;
    if (o->max_pending == 0) o->max_pending = BR_MAX_PENDING;
    if (o->write_deadline_ms == 0) o->write_deadline_ms = BR_WRITE_DEADLINE_MS;
    if (o->lame_duck_duration_ms == 0) o->lame_duck_duration_ms = BR_LAME_DUCK_DURATION_MS;
    if (o->lame_duck_grace_ms == 0) o->lame_duck_grace_ms = BR_LAME_DUCK_GRACE_MS;
}

/* Go fmtFrac + fmtInt: v/10^prec with the fraction's trailing zeros (and a bare '.') dropped. */
static size_t go_frac(char *out, size_t cap, uint64_t v, int prec) {
    uint64_t p10 = 1;
    for (int i = 0; i < prec; i++) p10 *= 10;
    size_t n = (size_t)snprintf(out, cap, "%llu", (unsigned long long)(v / p10));
    uint64_t frac = v % p10;
    if (frac && n < cap) {
        char f[24];
        snprintf(f, sizeof f, "%0*llu", prec, (unsigned long long)frac);
        for (int i = prec - 1; i > 0 && f[i] == '0'; i--) f[i] = '\0';
        n += (size_t)snprintf(out + n, cap - n, ".%s", f);
    }
    return n < cap ? n : cap - 1;
}

void br_go_duration(int64_t ns, char *buf, size_t cap) {
    uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
    size_t n = ns < 0 ? (size_t)snprintf(buf, cap, "-") : 0;
    if (u == 0) {
        snprintf(buf, cap, "0s");
    } else if (u < 1000) {
        snprintf(buf + n, cap - n, "%lluns", (unsigned long long)u);
    } else if (u < 1000000) {
        n += go_frac(buf + n, cap - n, u, 3);
        snprintf(buf + n, cap - n, "\xc2\xb5s");
    } else if (u < 1000000000) {
        n += go_frac(buf + n, cap - n, u, 6);
        snprintf(buf + n, cap - n, "ms");
    } else {
        uint64_t s = u / 1000000000, h = s / 3600, m = s / 60 % 60;
        if (h) n += (size_t)snprintf(buf + n, cap - n, "%lluh", (unsigned long long)h);
        if (h || m) n += (size_t)snprintf(buf + n, cap - n, "%llum", (unsigned long long)m);
        if (n < cap) n += go_frac(buf + n, cap - n, u % 60000000000ull, 9);
        snprintf(buf + n, cap - n, "s");
    }
}

/* ---- Go's TLS file checks ---------------------------------------------------------------- */

/* Go os.ReadFile: the file, or NULL with "open <path>: no such file or directory" (Go's errno
 * texts are glibc's in lower case). */
static char *read_file(const char *path, size_t *len, char *why, size_t cap) {
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, got;
    const char *op = "open";
    int e = errno;
    if (f) {
        char chunk[4096];
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
            char *nd = realloc(data, n + got + 1);
            if (!nd) abort();
            data = nd;
            memcpy(data + n, chunk, got);
            n += got;
        }
        e = errno;
        bool failed = ferror(f);
        fclose(f);
        if (!failed) {
            if (!data) data = calloc(1, 1);
            data[n] = '\0';
            *len = n;
            return data;
        }
        free(data);
        op = "read";
    }
    char text[128];
    snprintf(text, sizeof text, "%s", strerror(e));
    if (text[0] >= 'A' && text[0] <= 'Z') text[0] = (char)(text[0] | 0x20);
    snprintf(why, cap, "%s %s: %s", op, path, text);
    return NULL;
}

/* The PEM block types in data, as Go lists them ("[PRIVATE KEY CERTIFICATE]"). */
static void pem_types(const char *data, char *out, size_t cap, bool *any, bool *has_cert) {
    size_t n = (size_t)snprintf(out, cap, "[");
    *any = *has_cert = false;
    for (const char *p = data; (p = strstr(p, "-----BEGIN ")); p++) {
        const char *t = p + 11, *e = strstr(t, "-----");
        if (!e) break;
        if ((size_t)(e - t) == 11 && !strncmp(t, "CERTIFICATE", 11)) *has_cert = true;
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%.*s", *any ? " " : "", (int)(e - t), t);
        *any = true;
    }
    if (n < cap) snprintf(out + n, cap - n, "]");
}

int br_tls_pair_check(const char *cert, const char *key, char *why, size_t cap) {
    size_t clen = 0, klen = 0;
    char *cdata = read_file(cert, &clen, why, cap), *kdata = NULL;
    if (!cdata) return -1;
    if (!(kdata = read_file(key, &klen, why, cap))) {
        free(cdata);
        return -1;
    }
    char types[256];
    bool any, has_cert;
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    BIO *cb = BIO_new_mem_buf(cdata, (int)clen), *kb = BIO_new_mem_buf(kdata, (int)klen);
    pem_types(cdata, types, sizeof types, &any, &has_cert);
    if (!any) {
        snprintf(why, cap, "tls: failed to find any PEM data in certificate input");
    } else if (!has_cert) {
        snprintf(why, cap, "tls: failed to find \"CERTIFICATE\" PEM block in certificate input "
                           "after skipping PEM blocks of the following types: %s", types);
    } else if (!(x = PEM_read_bio_X509(cb, NULL, NULL, NULL))) {
        snprintf(why, cap, "x509: malformed certificate");
    } else {
        pem_types(kdata, types, sizeof types, &any, &has_cert);
        bool has_key = strstr(kdata, "PRIVATE KEY-----") != NULL;
        if (!any)
            snprintf(why, cap, "tls: failed to find any PEM data in key input");
        else if (!has_key && has_cert)
            snprintf(why, cap, "tls: found a certificate rather than a key in the PEM for the "
                               "private key");
        else if (!has_key)
            snprintf(why, cap, "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" "
                               "in key input after skipping PEM blocks of the following types: %s",
                     types);
        else if (!(pk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)))
            snprintf(why, cap, "tls: failed to parse private key");
        else if (X509_check_private_key(x, pk) != 1)
            snprintf(why, cap, "tls: private key does not match public key");
        else
            rc = 0;
    }
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(pk);
    BIO_free(cb);
    BIO_free(kb);
    free(cdata);
    free(kdata);
    return rc;
}

int br_tls_ca_check(const char *ca, char *why, size_t cap) {
    size_t len = 0;
    char *data = read_file(ca, &len, why, cap);
    if (!data) return -1;
    BIO *b = BIO_new_mem_buf(data, (int)len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int rc = x ? 0 : -1;
    if (!x) snprintf(why, cap, "failed to parse root ca certificate");
    ERR_clear_error();
    X509_free(x);
    BIO_free(b);
    free(data);
    return rc;
}

void br_js_effective(const br_options *o, int64_t *max_memory, int64_t *max_store,
                     const char **store_dir) {
    const char *dir = o->store_dir && o->store_dir[0] ? o->store_dir : "/tmp/nats"; /* Go: os.TempDir()/nats */
    *store_dir = dir;
    *max_memory = o->js_max_memory;
    if (*max_memory < 0) {
        struct sysinfo si;
        *max_memory = sysinfo(&si) == 0 ? (int64_t)((uint64_t)si.totalram * si.mem_unit / 4 * 3)
                                         : 256LL << 20; /* Go: JetStreamMaxMemDefault */
    }
    *max_store = o->js_max_store;
    if (*max_store < 0) {
        struct statfs fs;
        *max_store = statfs(dir, &fs) == 0 ? (int64_t)((uint64_t)fs.f_bavail * fs.f_bsize / 4 * 3)
                                          : 1LL << 40; /* Go: JetStreamMaxStoreDefault */
    }
}
