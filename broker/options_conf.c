/* Applying a NATS configuration file to the server options.
 *
 * Ports the top-level part of Go nats-server v2.14.5 server/opts.go processConfigFileLine and
 * parseAuthorization: the same keys and aliases, the same error texts with file:line:col.
 * Keys for features this server does not have yet are classified: security-relevant ones
 * (tls, accounts, jetstream, ...) are refused, the rest produce a warning naming the key and
 * line; a key Go does not know is an error, as in Go.
 */
#include "broker/options_conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/conf.h"
#include "common/duration.h"
#include "common/log.h"

typedef struct conf_ctx {
    br_options *o;
    char *errors; /* accumulated, one per line, Go's processConfigErr format */
    size_t errors_len;
    int nerrors;
} conf_ctx;

static void add_error(conf_ctx *cx, const nx_conf_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(conf_ctx *cx, const nx_conf_value *at, const char *fmt, ...) {
    char reason[1024], line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    int n = snprintf(line, sizeof line, "%s:%d:%d: %s\n", at->file ? at->file : "", at->line,
                     at->col, reason);
    if (n < 0) return;
    char *ne = realloc(cx->errors, cx->errors_len + (size_t)n + 1);
    if (!ne) return;
    cx->errors = ne;
    memcpy(cx->errors + cx->errors_len, line, (size_t)n + 1);
    cx->errors_len += (size_t)n;
    cx->nerrors++;
}

static void warn(const nx_conf_value *at, const char *key, const char *reason) {
    nx_warn("%s:%d:%d: invalid use of field \"%s\": %s", at->file ? at->file : "", at->line,
            at->col, key, reason);
}

static bool want(conf_ctx *cx, const nx_conf_value *v, nx_conf_type t, const char *key) {
    if (v->type == t) return true;
    add_error(cx, v, "interface conversion: %s must be a %s, not a %s", key, nx_conf_type_name(t),
              nx_conf_type_name(v->type));
    return false;
}

static void set_str(char **dst, const nx_conf_value *v) {
    free(*dst);
    *dst = strdup(v->u.s.ptr);
}

/* Go parseDuration: a duration string, or (deprecated) a number of seconds with a warning. */
static bool get_duration_ms(conf_ctx *cx, const nx_conf_value *v, const char *key, int64_t *ms) {
    if (v->type == NX_CONF_STRING) {
        int64_t ns;
        if (nx_parse_duration(v->u.s.ptr, &ns) < 0) {
            add_error(cx, v, "error parsing %s: time: invalid duration \"%s\"", key, v->u.s.ptr);
            return false;
        }
        *ms = ns / 1000000;
        return true;
    }
    if (v->type == NX_CONF_INT) {
        warn(v, key, "should be converted to a duration");
        *ms = v->u.i * 1000;
        return true;
    }
    return want(cx, v, NX_CONF_STRING, key);
}

static bool get_int(conf_ctx *cx, const nx_conf_value *v, const char *key, int64_t *out) {
    if (!want(cx, v, NX_CONF_INT, key)) return false;
    *out = v->u.i;
    return true;
}

/* `authorization {}` and `no_auth_user` belong to the auth module (broker/auth_conf.c), which
 * reports in Go's format; its messages join ours. */
static bool apply_auth_key(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    br_conf_diag d = {0};
    bool handled = br_auth_conf_apply(&cx->o->auth, k, v, &d);
    if (d.errors_len) {
        char *ne = realloc(cx->errors, cx->errors_len + d.errors_len + 1);
        if (ne) {
            cx->errors = ne;
            memcpy(cx->errors + cx->errors_len, d.errors, d.errors_len + 1);
            cx->errors_len += d.errors_len;
            cx->nerrors += d.nerrors;
        }
    }
    if (d.warnings_len) {
        for (char *line = strtok(d.warnings, "\n"); line; line = strtok(NULL, "\n"))
            nx_warn("%s", line);
    }
    br_conf_diag_free(&d);
    return handled;
}

/* Keys Go accepts that configure features not built here.  Refused ones would change
 * security or data guarantees if silently ignored. */
static const char *const refused_keys[] = {
    "accounts", "ocsp", "operator", "operators", "roots", "root",
    "root_operators", "root_operator", "resolver", "account_resolver", "accounts_resolver",
    "resolver_tls", "resolver_preload", "resolver_pinned_accounts",
    "system_account", "system", "trusted", "trusted_keys", "jetstream", "store_dir", "storedir",
    "cluster", "gateway", "leaf", "leafnodes", "websocket", "ws", "mqtt", "mappings", "maps",
    "proxies", "proxy_protocol", "default_sentinel", "default_js_domain",
};
static const char *const warned_keys[] = {
    "client_advertise", "trace_verbose", "trace_headers", "disable_sublist_cache",
    "no_sublist_cache", "logfile_size_limit", "log_size_limit",
    "logfile_max_num", "log_max_num", "syslog", "remote_syslog", "prof_port", "prof_block_rate",
    "max_sub_tokens", "max_subscription_tokens", "max_traced_msg_len", "write_timeout",
    "no_system_account", "no_system", "no_sys_acc", "connect_error_reports",
    "reconnect_error_reports", "server_tags", "server_metadata", "feature_flags", "ocsp_cache",
    "no_fast_producer_stall",
};

/* Monitoring keys (Go processConfigFileLine: http, https, http_port/monitor_port, https_port,
 * http_base_path, max_closed_clients).  True when k is one of them. */
static bool apply_monitor_key(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    br_options *o = cx->o;
    bool https = !strcasecmp(k, "https");
    if (https || !strcasecmp(k, "http")) { /* Go parseListen: a port or "host:port" */
        int64_t port;
        if (v->type == NX_CONF_INT) {
            port = v->u.i;
            free(o->http_host);
            o->http_host = NULL;
        } else if (v->type == NX_CONF_STRING) {
            const char *s = v->u.s.ptr, *colon = strrchr(s, ':');
            if (!colon) {
                add_error(cx, v, "could not parse address string \"%s\"", s);
                return true;
            }
            char *end;
            port = strtol(colon + 1, &end, 10);
            if (*end || end == colon + 1) {
                add_error(cx, v, "could not parse port \"%s\"", colon + 1);
                return true;
            }
            size_t hl = (size_t)(colon - s);
            if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') s++, hl -= 2;
            free(o->http_host);
            o->http_host = strndup(s, hl);
        } else {
            add_error(cx, v, "expected port or host:port, got %s", nx_conf_type_name(v->type));
            return true;
        }
        if (https)
            o->https_port = (int)port;
        else
            o->http_port = (int)port;
        return true;
    }
    int64_t n;
    if (!strcasecmp(k, "http_port") || !strcasecmp(k, "monitor_port")) {
        if (get_int(cx, v, k, &n)) o->http_port = (int)n;
    } else if (!strcasecmp(k, "https_port")) {
        if (get_int(cx, v, k, &n)) o->https_port = (int)n;
    } else if (!strcasecmp(k, "http_base_path")) {
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->http_base_path, v);
    } else if (!strcasecmp(k, "max_closed_clients")) {
        if (get_int(cx, v, k, &n)) o->max_closed_clients = (int)n;
    } else {
        return false;
    }
    return true;
}

static bool in_list(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(k, list[i])) return true;
    return false;
}

static void set_strdup(char **dst, const char *src) {
    free(*dst);
    *dst = strdup(src);
}

/* Go parseTLS (server side): the keys this server supports; the rest are refused so that a
 * certificate-matching or OCSP policy is never silently dropped. */
static void apply_tls(conf_ctx *cx, const nx_conf_value *m) {
    if (!want(cx, m, NX_CONF_MAP, "tls")) return;
    br_tls_config *t = &cx->o->tls_cfg;
    cx->o->tls = true;
    for (size_t i = 0; i < m->u.map.len; i++) {
        const char *k = m->u.map.items[i].key;
        const nx_conf_value *v = m->u.map.items[i].value;
        if (!strcasecmp(k, "cert_file")) {
            if (want(cx, v, NX_CONF_STRING, k)) set_strdup(&t->cert_file, v->u.s.ptr);
        } else if (!strcasecmp(k, "key_file")) {
            if (want(cx, v, NX_CONF_STRING, k)) set_strdup(&t->key_file, v->u.s.ptr);
        } else if (!strcasecmp(k, "ca_file")) {
            if (want(cx, v, NX_CONF_STRING, k)) set_strdup(&t->ca_file, v->u.s.ptr);
        } else if (!strcasecmp(k, "verify")) {
            if (want(cx, v, NX_CONF_BOOL, k)) t->verify = v->u.b;
        } else if (!strcasecmp(k, "verify_and_map")) {
            if (want(cx, v, NX_CONF_BOOL, k)) t->verify_and_map = v->u.b;
        } else if (!strcasecmp(k, "handshake_first") || !strcasecmp(k, "first") ||
                   !strcasecmp(k, "immediate")) {
            if (v->type == NX_CONF_BOOL)
                t->handshake_first = v->u.b;
            else if (v->type == NX_CONF_STRING && (!strcasecmp(v->u.s.ptr, "true") ||
                                                   !strcasecmp(v->u.s.ptr, "on")))
                t->handshake_first = true;
            else if (v->type == NX_CONF_STRING && (!strcasecmp(v->u.s.ptr, "false") ||
                                                   !strcasecmp(v->u.s.ptr, "off")))
                t->handshake_first = false;
            else
                add_error(cx, v, "field \"%s\"'s value \"%s\" is invalid", k,
                          v->type == NX_CONF_STRING ? v->u.s.ptr : "?");
        } else if (!strcasecmp(k, "timeout")) {
            if (v->type == NX_CONF_INT)
                t->timeout_ms = v->u.i * 1000;
            else if (v->type == NX_CONF_FLOAT)
                t->timeout_ms = (int64_t)(v->u.f * 1000);
            else if (v->type == NX_CONF_STRING)
                get_duration_ms(cx, v, k, &t->timeout_ms);
            else
                add_error(cx, v, "error parsing tls config, 'timeout' wrong type");
        } else if (!strcasecmp(k, "min_version")) {
            if (!want(cx, v, NX_CONF_STRING, k)) continue;
            if (!strcmp(v->u.s.ptr, "1.2"))
                t->min_version = TLS1_2_VERSION;
            else if (!strcmp(v->u.s.ptr, "1.3"))
                t->min_version = TLS1_3_VERSION;
            else
                add_error(cx, v, "unsupported TLS version: %s", v->u.s.ptr);
        } else if (!strcasecmp(k, "cipher_suites")) {
            if (!want(cx, v, NX_CONF_ARRAY, k)) continue;
            /* Go names (TLS_ECDHE_RSA_WITH_...) map to OpenSSL's; keep OpenSSL defaults unless
             * every entry is understood, and say so. */
            warn(v, k, "Go cipher suite names are not mapped yet; using OpenSSL's secure defaults");
        } else if (!strcasecmp(k, "pinned_certs")) {
            if (!want(cx, v, NX_CONF_ARRAY, k)) continue;
            for (size_t j = 0; j < v->u.arr.len; j++) {
                const nx_conf_value *e = v->u.arr.items[j];
                if (!want(cx, e, NX_CONF_STRING, k)) continue;
                char **grown = realloc(t->pinned_certs, (t->npinned + 1) * sizeof *grown);
                if (!grown) abort();
                t->pinned_certs = grown;
                t->pinned_certs[t->npinned++] = strdup(e->u.s.ptr);
            }
        } else if (!strcasecmp(k, "insecure") || !strcasecmp(k, "curve_preferences") ||
                   !strcasecmp(k, "connection_rate_limit")) {
            warn(v, k, "not supported by this server yet; ignored");
        } else {
            add_error(cx, v, "tls option \"%s\" is not supported by this server yet", k);
        }
    }
}

static void apply_listen(conf_ctx *cx, const nx_conf_value *v) {
    if (!want(cx, v, NX_CONF_STRING, "listen")) return;
    const char *s = v->u.s.ptr;
    const char *colon = strrchr(s, ':');
    if (!colon) {
        add_error(cx, v, "could not parse address string \"%s\"", s);
        return;
    }
    char host[256];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') { /* [::1]:4222 */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1) {
        add_error(cx, v, "could not parse port \"%s\"", colon + 1);
        return;
    }
    free(cx->o->host);
    cx->o->host = strdup(host);
    cx->o->port = (int)port;
}

static void apply_key(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    br_options *o = cx->o;
    int64_t n;
    if (!strcasecmp(k, "listen")) {
        apply_listen(cx, v);
    } else if (!strcasecmp(k, "port")) {
        if (get_int(cx, v, k, &n)) o->port = (int)n;
    } else if (!strcasecmp(k, "server_name")) {
        if (want(cx, v, NX_CONF_STRING, k)) {
            if (strchr(v->u.s.ptr, ' '))
                add_error(cx, v, "server name cannot contain spaces");
            else
                set_str(&o->server_name, v);
        }
    } else if (!strcasecmp(k, "host") || !strcasecmp(k, "net")) {
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->host, v);
    } else if (!strcasecmp(k, "debug")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->debug = v->u.b;
    } else if (!strcasecmp(k, "trace")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->trace = v->u.b;
    } else if (!strcasecmp(k, "logtime")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->logtime = v->u.b;
    } else if (!strcasecmp(k, "logtime_utc")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->logtime_utc = v->u.b;
    } else if (apply_auth_key(cx, k, v)) {
        /* authorization {} or no_auth_user */
    } else if (!strcasecmp(k, "logfile") || !strcasecmp(k, "log_file")) {
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->log_file, v);
    } else if (!strcasecmp(k, "pidfile") || !strcasecmp(k, "pid_file")) {
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->pid_file, v);
    } else if (!strcasecmp(k, "ports_file_dir")) {
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->ports_file_dir, v);
    } else if (!strcasecmp(k, "max_control_line") || !strcasecmp(k, "max_payload")) {
        if (!get_int(cx, v, k, &n)) return;
        if (n > INT32_MAX) {
            add_error(cx, v, "%s value is too big", k);
            return;
        }
        if (!strcasecmp(k, "max_payload"))
            o->max_payload = (int32_t)n;
        else
            o->max_control_line = (int32_t)n;
    } else if (!strcasecmp(k, "max_pending")) {
        if (get_int(cx, v, k, &n)) o->max_pending = n;
    } else if (!strcasecmp(k, "max_connections") || !strcasecmp(k, "max_conn")) {
        if (get_int(cx, v, k, &n)) o->max_connections = n == 0 ? INT32_MAX : (int32_t)n;
    } else if (!strcasecmp(k, "max_subscriptions") || !strcasecmp(k, "max_subs")) {
        if (get_int(cx, v, k, &n)) o->max_subs = (int32_t)n;
    } else if (!strcasecmp(k, "ping_interval")) {
        get_duration_ms(cx, v, k, &o->ping_interval_ms);
    } else if (!strcasecmp(k, "ping_max")) {
        if (get_int(cx, v, k, &n)) o->ping_max = (int32_t)n;
    } else if (!strcasecmp(k, "write_deadline")) {
        get_duration_ms(cx, v, k, &o->write_deadline_ms);
    } else if (!strcasecmp(k, "lame_duck_duration")) {
        int64_t ms;
        if (!want(cx, v, NX_CONF_STRING, k) || !get_duration_ms(cx, v, k, &ms)) return;
        if (ms < 30000) {
            add_error(cx, v, "invalid lame_duck_duration of %s, minimum is 30 seconds",
                      v->u.s.ptr);
            return;
        }
        o->lame_duck_duration_ms = ms;
    } else if (!strcasecmp(k, "lame_duck_grace_period")) {
        int64_t ms;
        if (!want(cx, v, NX_CONF_STRING, k) || !get_duration_ms(cx, v, k, &ms)) return;
        if (ms < 0) {
            add_error(cx, v, "invalid lame_duck_grace_period, needs to be positive");
            return;
        }
        o->lame_duck_grace_ms = ms;
    } else if (!strcasecmp(k, "tls")) {
        apply_tls(cx, v);
    } else if (!strcasecmp(k, "workers")) { /* this server's own key */
        if (get_int(cx, v, k, &n)) o->workers = (int)n;
    } else if (!strcasecmp(k, "node_socket")) { /* this server's own key */
        if (want(cx, v, NX_CONF_STRING, k)) set_str(&o->node_socket, v);
    } else if (!strcasecmp(k, "allow_non_tls")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->tls_cfg.allow_non_tls = v->u.b;
    } else if (!strcasecmp(k, "no_header_support")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->no_header_support = v->u.b;
    } else if (!strcasecmp(k, "disable_short_first_ping")) {
        if (want(cx, v, NX_CONF_BOOL, k)) o->disable_short_first_ping = v->u.b;
    } else if (apply_monitor_key(cx, k, v)) { /* monitoring (monitor.h) */
    } else if (in_list(k, refused_keys, sizeof refused_keys / sizeof refused_keys[0])) {
        add_error(cx, v, "option \"%s\" is not supported by this server yet; refusing to start "
                         "without it (see docs/deviations.md)", k);
    } else if (in_list(k, warned_keys, sizeof warned_keys / sizeof warned_keys[0])) {
        warn(v, k, "not supported by this server yet; ignored");
    } else if (!(v->flags & NX_CONF_F_USED_VARIABLE)) {
        add_error(cx, v, "unknown field \"%s\"", k);
    }
}

int br_options_apply_config(br_options *o, const char *path, char **errors_out) {
    char err[2048];
    nx_conf_value *root = NULL;
    *errors_out = NULL;
    if (nx_conf_parse_file(path, &root, err, sizeof err) < 0) {
        *errors_out = strdup(err);
        return -1;
    }
    conf_ctx cx = {.o = o};
    for (size_t i = 0; i < root->u.map.len; i++)
        apply_key(&cx, root->u.map.items[i].key, root->u.map.items[i].value);
    nx_conf_free(root);
    if (cx.nerrors) {
        *errors_out = cx.errors;
        return -1;
    }
    free(cx.errors);
    return 0;
}

int br_config_digest(const char *path, char *out, size_t cap) {
    char err[512];
    nx_conf_value *root = NULL;
    if (nx_conf_parse_file(path, &root, err, sizeof err) < 0) return -EINVAL;
    char *json = NULL;
    size_t len = 0;
    int rc = nx_conf_to_json(root, &json, &len);
    nx_conf_free(root);
    if (rc < 0) return rc;
    /* Go: sha256 over the JSON encoding as json.Encoder writes it, newline included. */
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, json, len);
    EVP_DigestUpdate(ctx, "\n", 1);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    free(json);
    size_t n = (size_t)snprintf(out, cap, "sha256:");
    for (unsigned i = 0; i < mdlen && n + 3 <= cap; i++) n += (size_t)snprintf(out + n, cap - n, "%02x", md[i]);
    return 0;
}
