/* Loading the options (at start-up and on reload) and the reload rules.
 *
 * Ports Go nats-server v2.14.5 server/opts.go ConfigureOptions (file first, flags win) and
 * server/reload.go diffOptions (what may change at reload and Go's refusal text).  Reload runs
 * in every process of the node: the supervisor checks the new options first, so a refused or
 * broken file changes nothing anywhere, then signals the workers, which load the same file and
 * apply it to their connections (broker/server.c).
 */
#include "broker/js_domain.h"
#include "broker/reload.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/options_conf.h"

static int g_argc;
static char **g_argv;

void br_cmdline_set(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
}

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...) {
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* Go strconv.Quote for the texts Go prints with %q (ASCII escapes; other bytes kept). */
static void go_quote(char *out, size_t cap, const char *s) {
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c == '\n')
            n += (size_t)snprintf(out + n, cap - n, "\\n");
        else if (c == '\t')
            n += (size_t)snprintf(out + n, cap - n, "\\t");
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    snprintf(out + n, cap - n, "\"");
}

static bool g_loaded; /* the first load of this process is the start-up one */

int br_options_load(br_options *o, char **err) {
    *err = NULL;
    bool startup = !g_loaded;
    g_loaded = true;
    br_options_defaults(o);
    if (br_options_parse_flags(o, g_argc, g_argv) != BR_FLAGS_RUN) return -1;
    if (o->bad_command) { /* Go ProcessCommandLineArgs */
        char q[512];
        go_quote(q, sizeof q, o->bad_command);
        *err = msg("unrecognized command: %s", q);
        return -1;
    }
    if (o->config_file && !o->config_file[0]) { /* Go: -c "" is no configuration file */
        free(o->config_file);
        o->config_file = NULL;
    }
    if (o->config_file) {
        char *path = strdup(o->config_file);
        bool check = o->check_config;
        br_options_free(o);
        br_options_defaults(o);
        char *errors = NULL, *warnings = NULL;
        int rc = br_options_apply_config(o, path, &errors, &warnings);
        /* Go ConfigureOptions: with -t any warning fails too; otherwise warnings are printed
         * (at start-up; a reload drops them) and the server runs.  The text is Go's
         * processConfigErr: warnings first, one per line, each ending in a newline. */
        if (rc < 0 || (check && warnings)) {
            *err = msg("%s%s", warnings ? warnings : "", errors ? errors : "");
            size_t n = *err ? strlen(*err) : 0;
            if (!startup && n && (*err)[n - 1] == '\n') (*err)[n - 1] = '\0';
            free(errors);
            free(warnings);
            free(path);
            return -1;
        }
        if (warnings && startup && o->worker_index < 0) fputs(warnings, stderr);
        free(errors);
        free(warnings);
        (void)br_options_parse_flags(o, g_argc, g_argv); /* flags win over the file */
        free(o->config_file);
        o->config_file = path;
    } else if (o->check_config) {
        *err = strdup("must specify [-c, --config] option to check configuration file syntax");
        return -1;
    }
    if (br_options_finish_tls(o) < 0) {
        *err = strdup(br_options_error());
        return -1;
    }
    /* Go: --user/--pass/--auth override the authorization block. */
    if (o->username) {
        free(o->auth.username);
        o->auth.username = strdup(o->username);
    }
    if (o->password) {
        free(o->auth.password);
        o->auth.password = strdup(o->password);
    }
    if (o->token) {
        free(o->auth.token);
        o->auth.token = strdup(o->token);
    }
    o->auth.tls_map = o->tls && o->tls_cfg.verify_and_map; /* Go Options.TLSMap */
    if (o->auth.timeout_s > 0) o->auth_timeout_ms = (int64_t)(o->auth.timeout_s * 1000);
    br_options_baseline(o); /* Go NewServer: setBaselineOptions, then validateOptions */
    if (br_options_validate(o) < 0) {
        *err = strdup(br_options_error());
        return -1;
    }
    br_js_domain_mappings(o); /* Go: part of enabling JetStream for the accounts */
    /* Go's startup validation of users, nkeys, permissions and no_auth_user. */
    char text[1024];
    br_auth *a = NULL;
    if (br_auth_new(&o->auth, &a, text, sizeof text) < 0) {
        *err = strdup(text);
        return -1;
    }
    br_auth_free(a);
    return 0;
}

static bool str_eq(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static const char *host_of(const br_options *o) {
    return o->host && o->host[0] ? o->host : "0.0.0.0";
}

static const char *http_host_of(const br_options *o) { /* Go: HTTPHost defaults to Host */
    return o->http_host && o->http_host[0] ? o->http_host : host_of(o);
}

static const char *tf(bool b) {
    return b ? "true" : "false";
}

/* Go diffOptions walks the Options fields in declaration order and refuses the first one that
 * changed and cannot be reloaded; the same order here, for the options this server has. */
int br_reload_check(const br_options *old, const br_options *next, char **err) {
    *err = NULL;
#define REFUSE_FMT "config reload not supported for %s: old=%s, new=%s"
#define REFUSE_INT "config reload not supported for %s: old=%lld, new=%lld"
    char a[64], b[64];
    int oc = old->max_closed_clients ? old->max_closed_clients : 10000;
    int nc = next->max_closed_clients ? next->max_closed_clients : 10000;
    if (!str_eq(old->server_name, next->server_name))
        *err = msg(REFUSE_FMT, "ServerName", old->server_name ? old->server_name : "",
                   next->server_name ? next->server_name : "");
    else if (strcmp(host_of(old), host_of(next)))
        *err = msg(REFUSE_FMT, "Host", host_of(old), host_of(next));
    else if (old->port != next->port && next->port != BR_RANDOM_PORT && next->port != 0)
        *err = msg(REFUSE_INT, "Port", (long long)old->port, (long long)next->port);
    else if (old->no_header_support != next->no_header_support)
        *err = msg(REFUSE_FMT, "NoHeaderSupport", tf(old->no_header_support),
                   tf(next->no_header_support));
    else if (old->max_subs != next->max_subs)
        *err = msg(REFUSE_INT, "MaxSubs", (long long)old->max_subs, (long long)next->max_subs);
    else if (strcmp(http_host_of(old), http_host_of(next)))
        *err = msg(REFUSE_FMT, "HTTPHost", http_host_of(old), http_host_of(next));
    else if (old->http_port != next->http_port)
        *err = msg(REFUSE_INT, "HTTPPort", (long long)old->http_port, (long long)next->http_port);
    else if (!str_eq(old->http_base_path, next->http_base_path))
        *err = msg(REFUSE_FMT, "HTTPBasePath", old->http_base_path ? old->http_base_path : "",
                   next->http_base_path ? next->http_base_path : "");
    else if (old->https_port != next->https_port)
        *err = msg(REFUSE_INT, "HTTPSPort", (long long)old->https_port,
                   (long long)next->https_port);
    else if (old->max_pending != next->max_pending)
        *err = msg(REFUSE_INT, "MaxPending", (long long)old->max_pending,
                   (long long)next->max_pending);
    else if (old->log_size_limit != next->log_size_limit)
        *err = msg(REFUSE_INT, "LogSizeLimit", (long long)old->log_size_limit,
                   (long long)next->log_size_limit);
    else if (old->tls_cfg.verify_and_map != next->tls_cfg.verify_and_map)
        *err = msg(REFUSE_FMT, "TLSMap", tf(old->tls_cfg.verify_and_map),
                   tf(next->tls_cfg.verify_and_map));
    else if (old->tls_cfg.allow_non_tls != next->tls_cfg.allow_non_tls)
        *err = msg(REFUSE_FMT, "AllowNonTLS", tf(old->tls_cfg.allow_non_tls),
                   tf(next->tls_cfg.allow_non_tls));
    else if (oc != nc)
        *err = msg(REFUSE_INT, "MaxClosedClients", (long long)oc, (long long)nc);
    else if (old->lame_duck_duration_ms != next->lame_duck_duration_ms) {
        br_go_duration(old->lame_duck_duration_ms * 1000000, a, sizeof a);
        br_go_duration(next->lame_duck_duration_ms * 1000000, b, sizeof b);
        *err = msg(REFUSE_FMT, "LameDuckDuration", a, b);
    } else if (old->lame_duck_grace_ms != next->lame_duck_grace_ms) {
        br_go_duration(old->lame_duck_grace_ms * 1000000, a, sizeof a);
        br_go_duration(next->lame_duck_grace_ms * 1000000, b, sizeof b);
        *err = msg(REFUSE_FMT, "LameDuckGracePeriod", a, b);
    } else if (old->workers != next->workers) /* this server's own: the node's shape is fixed */
        *err = msg(REFUSE_INT, "Workers", (long long)old->workers, (long long)next->workers);
    /* Go reloads JetStream's enablement and limits; storaged's member slot is part of the node's
     * shape here, so those changes need a restart (docs/deviations.md). */
    else if (old->jetstream != next->jetstream)
        *err = msg(REFUSE_FMT, "JetStream", tf(old->jetstream), tf(next->jetstream));
    else if (!str_eq(old->store_dir, next->store_dir))
        *err = msg(REFUSE_FMT, "StoreDir", old->store_dir ? old->store_dir : "",
                   next->store_dir ? next->store_dir : "");
    else if (old->js_max_memory != next->js_max_memory || old->js_max_store != next->js_max_store)
        *err = msg(REFUSE_FMT, "JetStreamLimits", "(old)", "(new)");
    else if (!str_eq(old->js_domain, next->js_domain))
        *err = msg(REFUSE_FMT, "JetStreamDomain", old->js_domain ? old->js_domain : "",
                   next->js_domain ? next->js_domain : "");
    char oh[256], nh[256];
    int op = 0, np = 0;
    if (!*err && br_cluster_addr(old, oh, sizeof oh, &op) == 0 &&
        br_cluster_addr(next, nh, sizeof nh, &np) == 0) { /* Go validateClusterOpts */
        if (strcmp(oh, nh))
            *err = msg("config reload not supported for cluster host: old=%s, new=%s", oh, nh);
        else if (op != np)
            *err = msg("config reload not supported for cluster port: old=%d, new=%d", op, np);
        /* Go reloads these over its routes; raftd's peers are fixed at its start here. */
        else if (!str_eq(old->cluster_name, next->cluster_name))
            *err = msg(REFUSE_FMT, "ClusterName", old->cluster_name ? old->cluster_name : "",
                       next->cluster_name ? next->cluster_name : "");
        else if (!str_eq(old->routes, next->routes))
            *err = msg(REFUSE_FMT, "Routes", old->routes ? old->routes : "",
                       next->routes ? next->routes : "");
    }
#undef REFUSE_FMT
#undef REFUSE_INT
    return *err ? -1 : 0;
}

void br_options_swap(br_options *cur, br_options *next) {
    br_options tmp = *cur;
    *cur = *next;
    *next = tmp;
}
