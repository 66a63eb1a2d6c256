/* The `cluster {}` block of a NATS configuration file.
 *
 * Ports Go nats-server v2.14.5 server/opts.go parseCluster (and parseURLs for `routes`): the
 * same keys, aliases and texts.  This server has no route protocol: the cluster listener and
 * the routes carry raftd's RAFT transport (broker/supervisor_raftd.c, raftd/README.md), so
 * only clustered JetStream uses them (br_options_validate refuses a cluster without
 * JetStream).  Route authentication and TLS (`authorization`, `tls`) are refused: raftd's
 * transport has neither, and running without them would weaken what the config asks for.
 * Keys that only tune Go's route connections are checked as Go checks them and ignored with
 * a notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/options_conf.h"
#include "broker/perms.h"
#include "common/duration.h"
#include "common/log.h"

static const char *quote(char *out, size_t cap, const char *s) {
    br_go_quote(out, cap, s, strlen(s));
    return out;
}

/* Go's failed type assertion mv.(T), recovered into an error at the value. */
static bool want(br_conf_diag *d, const nx_conf_value *v, nx_conf_type t) {
    if (v->type == t) return true;
    static const nx_conf_value probe[] = {{.type = NX_CONF_MAP}, {.type = NX_CONF_ARRAY},
                                          {.type = NX_CONF_STRING}, {.type = NX_CONF_INT},
                                          {.type = NX_CONF_BOOL}};
    const char *tname = "interface {}";
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
        if (probe[i].type == t) tname = br_conf_go_type(&probe[i]);
    br_conf_error(d, v, "interface conversion: interface {} is %s, not %s", br_conf_go_type(v),
                  tname);
    return false;
}

static void ignored(const nx_conf_value *at, const char *key) {
    char q[256];
    if (at && !(at->flags & NX_CONF_F_NO_POS))
        nx_warn("%s:%d:%d: option %s is not supported by this server yet (no route protocol); "
                "ignored", at->file ? at->file : "", at->line, at->col,
                quote(q, sizeof q, key));
    else
        nx_warn("option %s is not supported by this server yet (no route protocol); ignored",
                quote(q, sizeof q, key));
}

static void refused(br_conf_diag *d, const nx_conf_value *at, const char *key) {
    char q[256];
    br_conf_error(d, at, "option %s is not supported by this server yet; refusing to start "
                         "without it (see docs/deviations.md)", quote(q, sizeof q, key));
}

/* Go url.Parse's refusals that matter for a route: control characters, ":..." (missing
 * protocol scheme), and "host:port" without a scheme whose host does not read as one
 * (first path segment in URL cannot contain colon), e.g. "0.0.0.0:4222". */
static bool url_ok(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    size_t i = 0;
    bool letter0 = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z');
    if (s[0] == ':') return false;
    if (letter0) {
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                         (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
                         s[i] == '.'))
            i++;
        if (i < n && s[i] == ':') return true; /* a scheme */
    }
    size_t seg = 0; /* no scheme: a path, whose first segment cannot hold a colon */
    while (seg < n && s[seg] != '/') seg++;
    return !memchr(s, ':', seg);
}

/* Go parseURLs(ra, "route"): duplicates are warnings, the rest kept (comma-joined here, as
 * the --routes flag). */
static void parse_routes(br_options *o, const nx_conf_value *v, br_conf_diag *d) {
    if (!want(d, v, NX_CONF_ARRAY)) return;
    size_t len = 0, nerr = (size_t)d->nerrors;
    char *joined = NULL;
    nx_conf_value *it;
    NX_CONF_ARRAY_FOREACH(v, it, i) {
        if (!want(d, it, NX_CONF_STRING)) break;
        const char *s = it->u.s.ptr;
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++; /* TrimSpace */
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        bool dup = false;
        for (size_t j = 0; j < i; j++) {
            const nx_conf_value *prev = v->u.arr.items[j];
            dup |= prev->type == NX_CONF_STRING && !strcmp(prev->u.s.ptr, it->u.s.ptr);
        }
        if (dup) {
            char reason[600], q[300];
            snprintf(reason, sizeof reason,
                     "invalid use of field %s: Duplicate route entry detected",
                     quote(q, sizeof q, it->u.s.ptr));
            br_conf_warning(d, it, reason);
            continue;
        }
        if (n == 0 || !url_ok(s, n) || memchr(s, ',', n)) {
            char q[300];
            br_conf_error(d, it, "error parsing route url [%s]", quote(q, sizeof q, s));
            continue;
        }
        char *nj = realloc(joined, len + n + 2);
        if (!nj) abort();
        joined = nj;
        if (len) joined[len++] = ',';
        memcpy(joined + len, s, n);
        len += n;
        joined[len] = '\0';
    }
    if ((size_t)d->nerrors != nerr) {
        free(joined);
        return;
    }
    free(o->routes);
    o->routes = joined;
}

/* Go parseCompression: a mode string, a bool, or {mode, rtt_thresholds [durations]}. */
static bool check_compression(br_conf_diag *d, const nx_conf_value *mv, const char *k) {
    char q[128];
    if (mv->type == NX_CONF_STRING || mv->type == NX_CONF_BOOL) return true;
    if (mv->type != NX_CONF_MAP) {
        br_conf_error(d, mv, "field %s should be a boolean or a structure, got %s",
                      quote(q, sizeof q, k), br_conf_go_type(mv));
        return false;
    }
    NX_CONF_MAP_FOREACH(mv, e) {
        const nx_conf_value *v = e->value;
        if (!strcasecmp(e->key, "mode")) {
            if (!want(d, v, NX_CONF_STRING)) return false;
        } else if (!strcasecmp(e->key, "rtt_thresholds") || !strcasecmp(e->key, "thresholds") ||
                   !strcasecmp(e->key, "rtts") || !strcasecmp(e->key, "rtt")) {
            if (!want(d, v, NX_CONF_ARRAY)) return false;
            nx_conf_value *it;
            NX_CONF_ARRAY_FOREACH(v, it, i) {
                int64_t ns;
                if (!want(d, it, NX_CONF_STRING)) return false;
                if (nx_parse_duration(it->u.s.ptr, &ns) == 0) continue;
                char te[512];
                br_conf_time_error(it->u.s.ptr, te, sizeof te);
                br_conf_error(d, v, "%s", te);
                return false;
            }
        } else if (!(v->flags & NX_CONF_F_USED_VARIABLE)) {
            br_conf_error(d, v, "unknown field %s", quote(q, sizeof q, e->key));
            return false;
        }
    }
    return true;
}

/* Go parseStringArray("accounts", ...): a string or an array of strings. */
static bool check_accounts(br_conf_diag *d, const nx_conf_value *mv) {
    if (mv->type == NX_CONF_STRING) return true;
    if (mv->type != NX_CONF_ARRAY) {
        br_conf_error(d, mv, "error parsing accounts: unsupported type %s", br_conf_go_type(mv));
        return false;
    }
    bool ok = true;
    nx_conf_value *it;
    NX_CONF_ARRAY_FOREACH(mv, it, i) {
        if (it->type == NX_CONF_STRING) continue;
        br_conf_error(d, it, "error parsing accounts: unsupported type in array %s",
                      br_conf_go_type(it));
        ok = false;
    }
    return ok;
}

void br_conf_cluster(br_options *o, const nx_conf_value *v, br_conf_diag *d) {
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v, "Expected map to define cluster, got %s", br_conf_go_type(v));
        return;
    }
    int64_t ms;
    NX_CONF_MAP_FOREACH(v, e) {
        const char *k = e->key;
        const nx_conf_value *mv = e->value;
        if (!strcasecmp(k, "name")) {
            if (!want(d, mv, NX_CONF_STRING)) return;
            if (strchr(mv->u.s.ptr, ' ')) {
                br_conf_error(d, mv, "cluster name cannot contain spaces");
                continue;
            }
            free(o->cluster_name);
            o->cluster_name = strdup(mv->u.s.ptr);
        } else if (!strcasecmp(k, "listen")) {
            br_conf_listen(d, mv, &o->cluster_host, &o->cluster_port);
        } else if (!strcasecmp(k, "port")) {
            if (!want(d, mv, NX_CONF_INT)) return;
            o->cluster_port = (int)mv->u.i;
        } else if (!strcasecmp(k, "host") || !strcasecmp(k, "net")) {
            if (!want(d, mv, NX_CONF_STRING)) return;
            free(o->cluster_host);
            o->cluster_host = strdup(mv->u.s.ptr);
        } else if (!strcasecmp(k, "routes")) {
            parse_routes(o, mv, d);
        } else if (!strcasecmp(k, "authorization") || !strcasecmp(k, "tls")) {
            if (mv->type == NX_CONF_MAP && mv->u.map.len == 0) continue;
            refused(d, mv, k);
        } else if (!strcasecmp(k, "cluster_advertise") || !strcasecmp(k, "advertise")) {
            if (!want(d, mv, NX_CONF_STRING)) return;
            free(o->cluster_advertise);
            o->cluster_advertise = strdup(mv->u.s.ptr);
        } else if (!strcasecmp(k, "no_advertise") || !strcasecmp(k, "connect_backoff")) {
            if (!want(d, mv, NX_CONF_BOOL)) return;
            if (!strcasecmp(k, "no_advertise")) o->no_advertise = mv->u.b;
        } else if (!strcasecmp(k, "connect_retries") || !strcasecmp(k, "pool_size") ||
                   !strcasecmp(k, "ping_max")) {
            if (!want(d, mv, NX_CONF_INT)) return;
            if (!strcasecmp(k, "connect_retries")) o->connect_retries = (int)mv->u.i;
            else ignored(mv, k);
        } else if (!strcasecmp(k, "permissions")) {
            /* What routes may import/export: nothing is routed. */
            if (!want(d, mv, NX_CONF_MAP)) return;
            ignored(mv, k);
        } else if (!strcasecmp(k, "accounts")) { /* pinned route accounts */
            if (check_accounts(d, mv)) ignored(mv, k);
        } else if (!strcasecmp(k, "compression")) {
            if (check_compression(d, mv, k)) ignored(mv, k);
        } else if (!strcasecmp(k, "ping_interval") || !strcasecmp(k, "write_deadline")) {
            if (!br_conf_duration(d, mv, k, &ms)) continue;
            if (!strcasecmp(k, "ping_interval") && ms > 30000) /* Go routeMaxPingInterval */
                br_conf_warning(d, mv, "Cluster 'ping_interval' will reset to 30s which is the "
                                       "max for routes");
            ignored(mv, k);
        } else if (!strcasecmp(k, "write_timeout")) {
            if (!want(d, mv, NX_CONF_STRING)) return;
            const char *p = mv->u.s.ptr;
            if (strcmp(p, "default") && strcmp(p, "close") && strcmp(p, "retry")) {
                br_conf_error(d, mv, "write_timeout must be 'default', 'close' or 'retry'");
                continue;
            }
            ignored(mv, k);
        } else if (!(mv->flags & NX_CONF_F_USED_VARIABLE)) {
            char q[256];
            br_conf_error(d, mv, "unknown field %s", quote(q, sizeof q, k));
        }
    }
}
