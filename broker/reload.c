/* Loading the options (at start-up and on reload) and the reload rules.
 *
 * Ports Go nats-server v2.14.5 server/opts.go ConfigureOptions (file first, flags win) and
 * server/reload.go diffOptions (what may change at reload and Go's refusal text).  Reload runs
 * in every process of the node: the supervisor checks the new options first, so a refused or
 * broken file changes nothing anywhere, then signals the workers, which load the same file and
 * apply it to their connections (broker/server.c).
 */
#include "broker/reload.h"

#include <stdarg.h>
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

int br_options_load(br_options *o, char **err) {
    *err = NULL;
    br_options_defaults(o);
    if (br_options_parse_flags(o, g_argc, g_argv) != BR_FLAGS_RUN) return -1;
    if (o->config_file) {
        char *path = strdup(o->config_file);
        br_options_free(o);
        br_options_defaults(o);
        char *errors = NULL;
        if (br_options_apply_config(o, path, &errors) < 0) {
            size_t n = errors ? strlen(errors) : 0;
            if (n && errors[n - 1] == '\n') errors[n - 1] = '\0';
            *err = errors ? errors : strdup("invalid configuration");
            free(path);
            return -1;
        }
        free(errors);
        (void)br_options_parse_flags(o, g_argc, g_argv); /* flags win over the file */
        free(o->config_file);
        o->config_file = path;
    }
    if (br_options_finish_tls(o) < 0 || br_options_validate(o) < 0) {
        *err = strdup(br_options_error());
        return -1;
    }
    return 0;
}

/* Go's time.Duration String() for whole milliseconds: "2m0s", "1.5s", "250ms". */
static void go_duration(int64_t ms, char *buf, size_t cap) {
    if (ms == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(buf, cap, "%lldms", (long long)ms);
        return;
    }
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    size_t n = 0;
    if (h) n += (size_t)snprintf(buf + n, cap - n, "%lldh", (long long)h);
    if (h || m) n += (size_t)snprintf(buf + n, cap - n, "%lldm", (long long)m);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%03lld", (long long)frac);
        for (int i = 2; i > 0 && f[i] == '0'; i--) f[i] = '\0';
        snprintf(buf + n, cap - n, "%lld.%ss", (long long)s, f);
    } else {
        snprintf(buf + n, cap - n, "%llds", (long long)s);
    }
}

static bool str_eq(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int br_reload_check(const br_options *old, const br_options *next, char **err) {
    *err = NULL;
#define REFUSE_FMT "config reload not supported for %s: old=%s, new=%s"
    char a[64], b[64];
    if (!str_eq(old->host, next->host))
        *err = msg(REFUSE_FMT, "Host", old->host ? old->host : "", next->host ? next->host : "");
    else if (old->port != next->port && next->port != BR_RANDOM_PORT && next->port != 0)
        *err = msg("config reload not supported for Port: old=%d, new=%d", old->port, next->port);
    else if (!str_eq(old->server_name, next->server_name))
        *err = msg(REFUSE_FMT, "ServerName", old->server_name ? old->server_name : "",
                   next->server_name ? next->server_name : "");
    else if (old->max_pending != next->max_pending)
        *err = msg("config reload not supported for MaxPending: old=%lld, new=%lld",
                   (long long)old->max_pending, (long long)next->max_pending);
    else if (old->max_subs != next->max_subs)
        *err = msg("config reload not supported for MaxSubs: old=%d, new=%d", old->max_subs,
                   next->max_subs);
    else if (old->lame_duck_duration_ms != next->lame_duck_duration_ms) {
        go_duration(old->lame_duck_duration_ms, a, sizeof a);
        go_duration(next->lame_duck_duration_ms, b, sizeof b);
        *err = msg(REFUSE_FMT, "LameDuckDuration", a, b);
    } else if (old->lame_duck_grace_ms != next->lame_duck_grace_ms) {
        go_duration(old->lame_duck_grace_ms, a, sizeof a);
        go_duration(next->lame_duck_grace_ms, b, sizeof b);
        *err = msg(REFUSE_FMT, "LameDuckGracePeriod", a, b);
    } else if (old->no_header_support != next->no_header_support)
        *err = msg(REFUSE_FMT, "NoHeaderSupport", old->no_header_support ? "true" : "false",
                   next->no_header_support ? "true" : "false");
    else if (old->http_port != next->http_port)
        *err = msg("config reload not supported for HTTPPort: old=%d, new=%d", old->http_port,
                   next->http_port);
    else if (old->workers != next->workers) /* this server's own: the node's shape is fixed */
        *err = msg("config reload not supported for Workers: old=%d, new=%d", old->workers,
                   next->workers);
#undef REFUSE_FMT
    return *err ? -1 : 0;
}

void br_options_swap(br_options *cur, br_options *next) {
    br_options tmp = *cur;
    *cur = *next;
    *next = tmp;
}
