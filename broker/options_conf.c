/* Applying a NATS configuration file to the server options.
 *
 * Ports Go nats-server v2.14.5 server/opts.go processConfigFile/processConfigFileLine,
 * parseDuration, parseListen, parseTLS and GenTLSConfig's checks: every top-level key Go knows,
 * the same aliases, the same texts.  Problems are collected like Go's processConfigErr: errors
 * ("file:line:col: reason") and warnings ("file:line:col: invalid use of field "x": reason",
 * e.g. a number where a duration belongs); reload.c decides what they mean (with -t a warning
 * fails too).  A type mismatch reads as Go's recovered panic ("interface conversion: interface
 * {} is int64, not string").  Keys for features this server does not have are refused when
 * ignoring them would change security or data guarantees (cluster, accounts, JetStream, ...),
 * otherwise they are checked as Go checks them and a notice says they are ignored.  A key Go
 * does not know is an error, as in Go.  Go walks maps in random order; here file order is used.
 */
#include "broker/options_conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "broker/auth.h"
#include "common/conf.h"
#include "common/duration.h"
#include "common/log.h"

typedef struct conf_ctx {
    br_options *o;
    br_conf_diag d; /* Go's processConfigErr: errors and warnings, one per line */
} conf_ctx;

/* ---- diagnostics ------------------------------------------------------------------------ */

static void append_line(char **buf, size_t *len, int *count, const char *line) {
    size_t n = strlen(line);
    char *nb = realloc(*buf, *len + n + 2);
    if (!nb) abort();
    memcpy(nb + *len, line, n);
    nb[*len + n] = '\n';
    nb[*len + n + 1] = '\0';
    *buf = nb;
    *len += n + 1;
    (*count)++;
}

static int pos_prefix(char *out, size_t cap, const nx_conf_value *at) {
    if (!at || (at->flags & NX_CONF_F_NO_POS)) return snprintf(out, cap, "%s", "");
    return snprintf(out, cap, "%s:%d:%d: ", at->file ? at->file : "", at->line, at->col);
}

static void add_error(conf_ctx *cx, const nx_conf_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error(conf_ctx *cx, const nx_conf_value *at, const char *fmt, ...) {
    char line[2048];
    int n = pos_prefix(line, sizeof line, at);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    append_line(&cx->d.errors, &cx->d.errors_len, &cx->d.nerrors, line);
}

/* Go strconv.Quote (%q) for ASCII text; other bytes are kept. */
static const char *go_q(char *out, size_t cap, const char *s) {
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c == '\n' || c == '\t' || c == '\r')
            n += (size_t)snprintf(out + n, cap - n, "\\%c",
                                  c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    snprintf(out + n, cap - n, "\"");
    return out;
}

/* Go configWarningErr: `invalid use of field "field": reason`. */
static void add_warning(conf_ctx *cx, const nx_conf_value *at, const char *field,
                        const char *reason) {
    char line[2048], q[256];
    int n = pos_prefix(line, sizeof line, at);
    snprintf(line + n, sizeof line - (size_t)n, "invalid use of field %s: %s",
             go_q(q, sizeof q, field), reason);
    append_line(&cx->d.warnings, &cx->d.warnings_len, &cx->d.nwarnings, line);
}

/* This server's own notice (not a Go warning: -t still passes): a Go option that is checked
 * but has no effect here. */
static void notice(const nx_conf_value *at, const char *key) {
    char p[512], q[256];
    pos_prefix(p, sizeof p, at);
    nx_warn("%soption %s is not supported by this server yet; %s", p, go_q(q, sizeof q, key),
            strcasecmp(key, "trace_headers") ? "ignored" : "tracing shows whole messages");
}

static void refuse(conf_ctx *cx, const nx_conf_value *at, const char *key) {
    char q[256];
    add_error(cx, at, "option %s is not supported by this server yet; refusing to start without "
                      "it (see docs/deviations.md)", go_q(q, sizeof q, key));
}

/* ---- Go's view of values ---------------------------------------------------------------- */

static const char *go_type_of(nx_conf_type t) { /* Go %T of a parsed value */
    static const char *const names[] = {
        [NX_CONF_MAP] = "map[string]interface {}", [NX_CONF_ARRAY] = "[]interface {}",
        [NX_CONF_STRING] = "string", [NX_CONF_INT] = "int64", [NX_CONF_FLOAT] = "float64",
        [NX_CONF_BOOL] = "bool", [NX_CONF_TIME] = "time.Time"};
    return t >= NX_CONF_MAP && t <= NX_CONF_TIME ? names[t] : "interface {}";
}

/* Go %v of a scalar (containers: Go prints its internal tokens there; not reproduced). */
static const char *go_val(char *out, size_t cap, const nx_conf_value *v) {
    switch (v->type) {
    case NX_CONF_STRING: snprintf(out, cap, "%s", v->u.s.ptr); break;
    case NX_CONF_INT: snprintf(out, cap, "%lld", (long long)v->u.i); break;
    case NX_CONF_FLOAT: snprintf(out, cap, "%g", v->u.f); break;
    case NX_CONF_BOOL: snprintf(out, cap, "%s", v->u.b ? "true" : "false"); break;
    default: snprintf(out, cap, "%s", go_type_of(v->type)); break;
    }
    return out;
}

/* Go's failed type assertion v.(T), recovered into an error at the value. */
static bool want(conf_ctx *cx, const nx_conf_value *v, nx_conf_type t) {
    if (v->type == t) return true;
    add_error(cx, v, "interface conversion: interface {} is %s, not %s", go_type_of(v->type),
              go_type_of(t));
    return false;
}

/* An error, then out of the (void) function: Go's `append(errors, err); return`. */
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        add_error(__VA_ARGS__);                                                                    \
        return;                                                                                    \
    } while (0)
/* The same for functions that report success. */
#define FAILB(...)                                                                                 \
    do {                                                                                           \
        add_error(__VA_ARGS__);                                                                    \
        return false;                                                                              \
    } while (0)

static void set_str(char **dst, const char *src) {
    free(*dst);
    *dst = strdup(src);
}

/* Go time.ParseDuration's error for s (which nx_parse_duration refused). */
static void go_duration_error(const char *s, char *out, size_t cap) {
    char q[300], qu[100];
    go_q(q, sizeof q, s); /* time's quote: same as %q for the ASCII that matters here */
    const char *p = s + (*s == '-' || *s == '+');
    while (*p) {
        if (*p != '.' && (*p < '0' || *p > '9')) break;
        const char *st = p;
        while (*p >= '0' && *p <= '9') p++;
        bool pre = p != st, post = false;
        if (*p == '.') {
            st = ++p;
            while (*p >= '0' && *p <= '9') p++;
            post = p != st;
        }
        if (!pre && !post) break;
        st = p;
        while (*p && *p != '.' && (*p < '0' || *p > '9')) p++;
        if (p == st) {
            snprintf(out, cap, "time: missing unit in duration %s", q);
            return;
        }
        static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m",
                                            "h"};
        size_t ul = (size_t)(p - st);
        bool known = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            known |= strlen(units[i]) == ul && !strncmp(units[i], st, ul);
        if (!known) {
            char u[64];
            snprintf(u, sizeof u, "%.*s", (int)(p - st), st);
            snprintf(out, cap, "time: unknown unit %s in duration %s", go_q(qu, sizeof qu, u), q);
            return;
        }
    }
    snprintf(out, cap, "time: invalid duration %s", q); /* syntax, or overflow */
}

/* time.ParseDuration of a string value; errors read "<prefix><time error>". */
static bool time_parse(conf_ctx *cx, const nx_conf_value *v, const char *prefix, int64_t *ns) {
    if (nx_parse_duration(v->u.s.ptr, ns) == 0) return true;
    char e[512];
    go_duration_error(v->u.s.ptr, e, sizeof e);
    add_error(cx, v, "%s%s", prefix, e);
    return false;
}

/* Go parseDuration: a duration string, or (deprecated, with a warning) a number of seconds. */
static bool parse_duration(conf_ctx *cx, const nx_conf_value *v, const char *field, int64_t *ms) {
    int64_t ns;
    char prefix[128];
    if (v->type == NX_CONF_STRING) {
        snprintf(prefix, sizeof prefix, "error parsing %s: ", field);
        if (!time_parse(cx, v, prefix, &ns)) return false;
        *ms = ns / 1000000;
        return true;
    }
    snprintf(prefix, sizeof prefix, "%s should be converted to a duration", field);
    add_warning(cx, v, field, prefix);
    if (!want(cx, v, NX_CONF_INT)) return false;
    *ms = v->u.i * 1000;
    return true;
}

/* Go net.SplitHostPort then strconv.Atoi, as parseListen uses them. */
static bool parse_listen(conf_ctx *cx, const nx_conf_value *v, char **host, int *port);

bool br_conf_listen(br_conf_diag *d, const nx_conf_value *v, char **host, int *port) {
    conf_ctx cx = {.d = *d};
    bool ok = parse_listen(&cx, v, host, port);
    *d = cx.d;
    return ok;
}

void br_conf_time_error(const char *s, char *out, size_t cap) {
    go_duration_error(s, out, cap);
}

bool br_conf_duration(br_conf_diag *d, const nx_conf_value *v, const char *field, int64_t *ms) {
    conf_ctx cx = {.d = *d};
    bool ok = parse_duration(&cx, v, field, ms);
    *d = cx.d;
    return ok;
}

static bool parse_listen(conf_ctx *cx, const nx_conf_value *v, char **host, int *port) {
    char q[512];
    if (v->type == NX_CONF_INT) {
        *port = (int)v->u.i;
        set_str(host, "");
        return true;
    }
    if (v->type != NX_CONF_STRING) {
        add_error(cx, v, "expected port or host:port, got %s", go_type_of(v->type));
        return false;
    }
    const char *s = v->u.s.ptr, *colon = strrchr(s, ':');
    size_t hs = 0, he, j = 0, k = 0;
    bool ok = colon != NULL;
    if (ok && s[0] == '[') {
        const char *end = strchr(s, ']');
        ok = end && end + 1 == colon;
        hs = 1, he = end ? (size_t)(end - s) : 0, j = 1, k = he + 1;
    } else if (ok) {
        he = (size_t)(colon - s);
        ok = memchr(s, ':', he) == NULL;
    }
    if (ok) ok = !strchr(s + j, '[') && !strchr(s + k, ']');
    if (!ok) {
        add_error(cx, v, "could not parse address string %s", go_q(q, sizeof q, s));
        return false;
    }
    const char *p = colon + 1 + (colon[1] == '+' || colon[1] == '-');
    char *end;
    errno = 0;
    long long n = strtoll(colon + 1, &end, 10);
    if (!*p || *p < '0' || *p > '9' || *end || errno) {
        add_error(cx, v, "could not parse port %s", go_q(q, sizeof q, colon + 1));
        return false;
    }
    free(*host);
    *host = strndup(s + hs, he - hs);
    *port = (int)n;
    return true;
}

/* ---- tls {} (Go parseTLS with isClientCtx, then GenTLSConfig's checks) ------------------ */

static const struct go_cipher {
    const char *go, *ossl; /* ossl NULL: TLS 1.3 (not configurable, as in Go) */
    bool insecure;
} go_ciphers[] = {
    {"TLS_AES_128_GCM_SHA256", NULL, false},
    {"TLS_AES_256_GCM_SHA384", NULL, false},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL, false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
    {"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", true},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", true},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", true},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", true},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", true},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", true},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", true},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA", true},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", true},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", true},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", true},
};
/* Go's curve names and OpenSSL's group names (NULL: no group of that name in the OpenSSL this
 * builds against, 3.0: X25519MLKEM768 is skipped with a notice). */
static const struct go_curve {
    const char *go, *ossl;
} go_curves[] = {{"X25519MLKEM768", NULL},
                 {"X25519", "X25519"},
                 {"CurveP256", "P-256"},
                 {"CurveP384", "P-384"},
                 {"CurveP521", "P-521"}};

typedef struct tls_parse {
    char ossl[1024], insecure[1024]; /* OpenSSL cipher list; Go names of insecure ones */
    char groups[256];                /* OpenSSL group list of curve_preferences */
    bool allow_insecure, only_tls13;
    const nx_conf_value *certs;
} tls_parse;

static bool tls_bool(conf_ctx *cx, const nx_conf_value *v, const char *what, bool *out) {
    if (v->type == NX_CONF_BOOL) return *out = v->u.b, true;
    add_error(cx, v, "error parsing tls config, expected '%s' to be a boolean", what);
    return false;
}

static bool tls_file(conf_ctx *cx, const nx_conf_value *v, const char *what, char **out) {
    if (v->type == NX_CONF_STRING) return set_str(out, v->u.s.ptr), true;
    add_error(cx, v, "error parsing tls config, expected '%s' to be filename", what);
    return false;
}

/* cipher_suites / curve_preferences: a non-empty array of names Go knows. */
static bool tls_names(conf_ctx *cx, const nx_conf_value *v, const char *k, tls_parse *tp) {
    bool ciphers = !strcasecmp(k, "cipher_suites");
    if (!want(cx, v, NX_CONF_ARRAY)) return false;
    if (!v->u.arr.len) {
        add_error(cx, v, "error parsing tls config, '%s' cannot be empty",
                  ciphers ? "cipher_suites" : "curve_preferences");
        return false;
    }
    size_t n = 0;
    if (ciphers) tp->only_tls13 = true;
    for (size_t i = 0; i < v->u.arr.len; i++) {
        const nx_conf_value *e = v->u.arr.items[i];
        if (!want(cx, e, NX_CONF_STRING)) return false;
        const char *name = e->u.s.ptr;
        bool found = false;
        for (size_t j = 0; !ciphers && !found && j < sizeof go_curves / sizeof go_curves[0]; j++) {
            const struct go_curve *c = &go_curves[j];
            if (strcmp(name, c->go)) continue;
            found = true;
            size_t gl = strlen(tp->groups);
            if (!c->ossl)
                nx_log(NX_LOG_NOTICE, "%s:%d:%d: curve preference %s is not available in this "
                       "OpenSSL; skipped", e->file ? e->file : "", e->line, e->col, name);
            else if (gl + strlen(c->ossl) + 2 < sizeof tp->groups)
                snprintf(tp->groups + gl, sizeof tp->groups - gl, "%s%s", gl ? ":" : "", c->ossl);
        }
        for (size_t j = 0; ciphers && !found && j < sizeof go_ciphers / sizeof go_ciphers[0]; j++) {
            const struct go_cipher *c = &go_ciphers[j];
            if (strcmp(name, c->go)) continue;
            found = true;
            if (c->ossl && n + strlen(c->ossl) + 2 < sizeof tp->ossl)
                n += (size_t)snprintf(tp->ossl + n, sizeof tp->ossl - n, "%s%s", n ? ":" : "",
                                      c->ossl);
            if (c->ossl) tp->only_tls13 = false;
            size_t il = strlen(tp->insecure);
            if (c->insecure)
                snprintf(tp->insecure + il, sizeof tp->insecure - il, "%s%s", il ? ", " : "",
                         c->go);
        }
        if (!found) {
            add_error(cx, e, "unrecognized %s %s", ciphers ? "cipher" : "curve preference", name);
            return false;
        }
    }
    return true;
}

/* tls { certs: [...] }: Go's type checks (Go names the tls map's type when certs is not an
 * array); true when fine. */
static bool tls_certs(conf_ctx *cx, const nx_conf_value *v, const nx_conf_value *tlsm) {
#define CERTS_ERR "error parsing certificates config: "
    if (v->type != NX_CONF_ARRAY) {
        add_error(cx, v, CERTS_ERR "unsupported type %s", go_type_of(tlsm->type));
        return false;
    }
    for (size_t i = 0; i < v->u.arr.len; i++) {
        const nx_conf_value *m = v->u.arr.items[i], *at = m;
        if (m->type != NX_CONF_MAP) {
            add_error(cx, m, CERTS_ERR "unsupported type %s", go_type_of(m->type));
            return false;
        }
        bool cert = false, key = false;
        NX_CONF_MAP_FOREACH(m, e) {
            char q[256];
            at = e->value;
            bool is_cert = !strcmp(e->key, "cert_file"), is_key = !strcmp(e->key, "key_file");
            if (at->type != NX_CONF_STRING)
                add_error(cx, at, CERTS_ERR "unsupported type %s", go_type_of(at->type));
            else if (!is_cert && !is_key)
                add_error(cx, at, "error parsing tls certs config, unknown field %s",
                          go_q(q, sizeof q, e->key));
            if (at->type != NX_CONF_STRING || (!is_cert && !is_key)) return false;
            cert |= is_cert && at->u.s.len;
            key |= is_key && at->u.s.len;
        }
        if (!cert || !key) {
            add_error(cx, at, CERTS_ERR "both 'cert_file' and 'cert_key' options are required");
            return false;
        }
    }
    return true;
#undef CERTS_ERR
}

/* One entry of tls {}; false on the first error (Go's parseTLS returns there). */
static bool tls_key(conf_ctx *cx, const char *k, const nx_conf_value *v, const nx_conf_value *m,
                    tls_parse *tp) {
    br_tls_config *t = &cx->o->tls_cfg;
    bool b;
    char q[256], q2[256], val[128];
    int64_t ns;
    if (!strcasecmp(k, "cert_file")) return tls_file(cx, v, "cert_file", &t->cert_file);
    if (!strcasecmp(k, "key_file")) return tls_file(cx, v, "key_file", &t->key_file);
    if (!strcasecmp(k, "ca_file")) return tls_file(cx, v, "ca_file", &t->ca_file);
    if (!strcasecmp(k, "insecure")) return tls_bool(cx, v, "insecure", &b); /* client side only */
    if (!strcasecmp(k, "verify")) return tls_bool(cx, v, "verify", &t->verify);
    if (!strcasecmp(k, "verify_and_map")) {
        if (!tls_bool(cx, v, "verify_and_map", &b)) return false;
        t->verify_and_map = b;
        if (b) t->verify = true;
        return true;
    }
    if (!strcasecmp(k, "verify_cert_and_check_known_urls")) {
        if (!tls_bool(cx, v, "verify_cert_and_check_known_urls", &b)) return false;
        if (b) add_error(cx, v, "verify_cert_and_check_known_urls not supported in this context");
        return !b;
    }
    if (!strcasecmp(k, "allow_insecure_cipher_suites"))
        return tls_bool(cx, v, "allow_insecure_cipher_suites", &tp->allow_insecure);
    if (!strcasecmp(k, "cipher_suites")) return tls_names(cx, v, k, tp);
    if (!strcasecmp(k, "curve_preferences")) return tls_names(cx, v, k, tp);
    if (!strcasecmp(k, "timeout")) {
        if (v->type == NX_CONF_INT) {
            t->timeout_ms = v->u.i * 1000;
        } else if (v->type == NX_CONF_FLOAT) {
            t->timeout_ms = (int64_t)(v->u.f * 1000);
        } else if (v->type == NX_CONF_STRING) {
            if (!time_parse(cx, v, "error parsing tls config, 'timeout' ", &ns)) return false;
            t->timeout_ms = ns / 1000000;
        } else {
            add_error(cx, v, "error parsing tls config, 'timeout' wrong type");
            return false;
        }
        return true;
    }
    if (!strcasecmp(k, "connection_rate_limit")) {
        if (v->type != NX_CONF_INT) {
            add_error(cx, v, "error parsing tls config, 'connection_rate_limit' wrong type");
            return false;
        }
        if (v->u.i) notice(v, "connection_rate_limit");
        return true;
    }
    if (!strcasecmp(k, "pinned_certs")) {
        if (v->type != NX_CONF_ARRAY) {
            add_error(cx, v, "error parsing tls config, expected 'pinned_certs' to be a list of "
                             "hex-encoded sha256 of DER encoded SubjectPublicKeyInfo");
            return false;
        }
        for (size_t j = 0; j < v->u.arr.len; j++) {
            const nx_conf_value *e = v->u.arr.items[j];
            if (!want(cx, e, NX_CONF_STRING)) return false;
            char *low = strdup(e->u.s.ptr);
            size_t len = strlen(low), hex = strspn(low, "0123456789abcdefABCDEF");
            for (char *c = low; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c | 0x20 : *c);
            if (len != 64 || hex != 64) {
                add_error(cx, e, "error parsing tls config, 'pinned_certs' key %s does not look "
                                 "like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
                          low);
                free(low);
                return false;
            }
            char **grown = realloc(t->pinned_certs, (t->npinned + 1) * sizeof *grown);
            if (!grown) abort();
            t->pinned_certs = grown;
            t->pinned_certs[t->npinned++] = low;
        }
        return true;
    }
    if (!strcasecmp(k, "cert_store")) { /* Windows only, as in Go on Linux */
        add_error(cx, v, "cert_store not compatible with current operating system");
        return false;
    }
    if (!strcasecmp(k, "cert_match_by") || !strcasecmp(k, "cert_match") ||
        !strcasecmp(k, "ca_certs_match") || !strcasecmp(k, "cert_match_skip_invalid"))
        return true; /* only used with cert_store */
    if (!strcasecmp(k, "handshake_first") || !strcasecmp(k, "first") ||
        !strcasecmp(k, "immediate")) {
        go_q(q, sizeof q, k);
        if (v->type == NX_CONF_BOOL) return t->handshake_first = v->u.b, true;
        if (v->type != NX_CONF_STRING) {
            add_error(cx, v, "field %s should be a boolean or a string, got %s", q,
                      go_type_of(v->type));
            return false;
        }
        const char *s = v->u.s.ptr;
        go_q(q2, sizeof q2, s);
        if (!strcasecmp(s, "true") || !strcasecmp(s, "on")) return t->handshake_first = true, true;
        if (!strcasecmp(s, "false") || !strcasecmp(s, "off"))
            return t->handshake_first = false, true;
        if (!strcasecmp(s, "auto") || !strcasecmp(s, "auto_fallback") ||
            nx_parse_duration(s, &ns) == 0)
            add_error(cx, v, "tls option %s: %s (handshake first with a fallback delay) is not "
                             "supported by this server yet", q, q2);
        else
            add_error(cx, v, "field %s's value %s is invalid", q, q2);
        return false;
    }
    if (!strcasecmp(k, "ocsp_peer")) {
        if (v->type == NX_CONF_BOOL && !v->u.b) return true;
        refuse(cx, v, "ocsp_peer");
        return false;
    }
    if (!strcasecmp(k, "certs") || !strcasecmp(k, "certificates")) {
        if (!tls_certs(cx, v, m)) return false;
        tp->certs = v;
        return true;
    }
    if (!strcasecmp(k, "min_version")) {
        if (v->type != NX_CONF_STRING)
            add_error(cx, v, "error parsing tls config: 'min_version' wrong type: %s",
                      go_val(val, sizeof val, v));
        else if (!strcmp(v->u.s.ptr, "1.2") || !strcmp(v->u.s.ptr, "1.3"))
            return t->min_version = v->u.s.ptr[2] == '2' ? TLS1_2_VERSION : TLS1_3_VERSION, true;
        else if (!strcmp(v->u.s.ptr, "1.0") || !strcmp(v->u.s.ptr, "1.1"))
            add_error(cx, v, "error parsing tls config: unsupported TLS version: TLS %s",
                      v->u.s.ptr);
        else
            add_error(cx, v, "error parsing tls config: unknown version: %s", v->u.s.ptr);
        return false;
    }
    add_error(cx, v, "error parsing tls config, unknown field %s", go_q(q, sizeof q, k));
    return false;
}

static void apply_tls(conf_ctx *cx, const nx_conf_value *m) {
    if (!want(cx, m, NX_CONF_MAP)) return;
    br_tls_config *t = &cx->o->tls_cfg;
    tls_parse tp = {0};
    char why[512];
    cx->o->tls = true;
    NX_CONF_MAP_FOREACH(m, e) {
        if (!tls_key(cx, e->key, e->value, m, &tp)) return;
    }
    size_t ncerts = tp.certs ? tp.certs->u.arr.len : 0;
    if (ncerts && t->cert_file) {
        add_error(cx, m, "error parsing tls config, cannot combine 'cert_file' option with "
                         "'certs' option");
        return;
    }
    if (tp.insecure[0] && !tp.allow_insecure) {
        add_error(cx, m, "insecure cipher suites configured without "
                         "'allow_insecure_cipher_suites' option set: %s", tp.insecure);
        return;
    }
    if (tp.ossl[0]) set_str(&t->cipher_suites, tp.ossl);
    if (tp.groups[0]) set_str(&t->curve_groups, tp.groups);
    if (tp.only_tls13) t->min_version = TLS1_3_VERSION; /* Go: no TLS 1.2 suite allowed */
    /* GenTLSConfig */
    if (t->cert_file && !t->key_file) FAIL(cx, m, "missing 'key_file' in TLS configuration");
    if (!t->cert_file && t->key_file) FAIL(cx, m, "missing 'cert_file' in TLS configuration");
    if (t->cert_file && br_tls_pair_check(t->cert_file, t->key_file, why, sizeof why) < 0)
        FAIL(cx, m, "error parsing X509 certificate/key pair: %s", why);
    for (size_t i = 0; i < ncerts; i++) {
        const nx_conf_value *pair = tp.certs->u.arr.items[i];
        const nx_conf_value *c = nx_conf_map_get_exact(pair, "cert_file", 9);
        const nx_conf_value *k = nx_conf_map_get_exact(pair, "key_file", 8);
        if (br_tls_pair_check(c->u.s.ptr, k->u.s.ptr, why, sizeof why) < 0)
            FAIL(cx, m, "error parsing X509 certificate/key pair %zu/%zu: %s", i + 1, ncerts, why);
        if (ncerts == 1) { /* one pair: the same as cert_file/key_file */
            set_str(&t->cert_file, c->u.s.ptr);
            set_str(&t->key_file, k->u.s.ptr);
        }
    }
    if (t->ca_file && br_tls_ca_check(t->ca_file, why, sizeof why) < 0) FAIL(cx, m, "%s", why);
    if (ncerts > 1)
        add_error(cx, tp.certs, "tls option \"certs\" with more than one certificate is not "
                                "supported by this server yet");
}


/* ---- jetstream {} ----------------------------------------------------------------------- */

/* Go getStorageSize: an integer, or a string ending in K, M, G or T (powers of 1024). */
static bool storage_size(conf_ctx *cx, const nx_conf_value *v, const char *what, int64_t *out) {
    if (v->type == NX_CONF_INT) {
        *out = v->u.i;
        return true;
    }
    if (v->type != NX_CONF_STRING) FAILB(cx, v, "%s must be int64 or string", what);
    const char *s = v->u.s.ptr;
    size_t n = strlen(s);
    if (n == 0) {
        *out = 0;
        return true;
    }
    char *end;
    errno = 0;
    long long num = strtoll(s, &end, 10);
    if (end != s + n - 1 || errno || end == s) {
        char q[256], prefix[256];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(n - 1), s);
        FAILB(cx, v, "%s strconv.ParseInt: parsing %s: %s", what, go_q(q, sizeof q, prefix),
              errno == ERANGE ? "value out of range" : "invalid syntax");
    }
    int shift = s[n - 1] == 'K' ? 10 : s[n - 1] == 'M' ? 20 : s[n - 1] == 'G' ? 30
              : s[n - 1] == 'T' ? 40 : -1;
    if (shift < 0) FAILB(cx, v, "%s sizes defined as strings must end in K, M, G, T", what);
    *out = (int64_t)num << shift;
    return true;
}

/* Go parseJetStream: a bool, "enabled"/"disabled", or a map of settings. */
static void apply_jetstream(conf_ctx *cx, const nx_conf_value *v) {
    br_options *o = cx->o;
    if (v->type == NX_CONF_BOOL) {
        o->jetstream = v->u.b;
        return;
    }
    if (v->type == NX_CONF_STRING) {
        const char *s = v->u.s.ptr;
        if (!strcasecmp(s, "enabled") || !strcasecmp(s, "enable"))
            o->jetstream = true;
        else if (!strcasecmp(s, "disabled") || !strcasecmp(s, "disable"))
            o->jetstream = false;
        else
            FAIL(cx, v, "Expected 'enabled' or 'disabled' for string value, got '%s'", s);
        return;
    }
    if (v->type != NX_CONF_MAP)
        FAIL(cx, v, "Expected map, bool or string to define JetStream, got %s",
             go_type_of(v->type));
    bool enable = true;
    NX_CONF_MAP_FOREACH(v, e) {
        const char *k = e->key;
        const nx_conf_value *mv = e->value;
        if (!strcasecmp(k, "strict")) {
            if (mv->type != NX_CONF_BOOL) {
                char val[256];
                FAIL(cx, mv, "Expected 'true' or 'false' for bool value, got '%s'",
                     go_val(val, sizeof val, mv));
            }
            o->js_strict_off = !mv->u.b;
        } else if (!strcasecmp(k, "store") || !strcasecmp(k, "store_dir") ||
                   !strcasecmp(k, "storedir")) {
            if (o->store_dir && o->store_dir[0]) FAIL(cx, mv, "Duplicate 'store_dir' configuration");
            if (!want(cx, mv, NX_CONF_STRING)) return;
            set_str(&o->store_dir, mv->u.s.ptr);
        } else if (!strcasecmp(k, "sync") || !strcasecmp(k, "sync_interval")) {
            if (mv->type == NX_CONF_STRING && !strcasecmp(mv->u.s.ptr, "always")) {
                o->js_sync_always = true;
                o->js_sync_interval_ns = 0;
            } else {
                int64_t ms;
                if (parse_duration(cx, mv, k, &ms)) o->js_sync_interval_ns = ms * 1000000;
            }
        } else if (!strcasecmp(k, "max_memory_store") || !strcasecmp(k, "max_mem_store") ||
                   !strcasecmp(k, "max_mem")) {
            if (!storage_size(cx, mv, "max_mem_store", &o->js_max_memory)) return;
        } else if (!strcasecmp(k, "max_file_store") || !strcasecmp(k, "max_file")) {
            if (!storage_size(cx, mv, "max_file_store", &o->js_max_store)) return;
        } else if (!strcasecmp(k, "domain")) {
            if (!want(cx, mv, NX_CONF_STRING)) return;
            set_str(&o->js_domain, mv->u.s.ptr);
        } else if (!strcasecmp(k, "enable") || !strcasecmp(k, "enabled")) {
            if (!want(cx, mv, NX_CONF_BOOL)) return;
            enable = mv->u.b;
        } else if (!strcasecmp(k, "cipher")) {
            if (!want(cx, mv, NX_CONF_STRING)) return;
            const char *c = mv->u.s.ptr;
            char q[256];
            if (strcasecmp(c, "chacha") && strcasecmp(c, "chachapoly") && strcasecmp(c, "aes"))
                FAIL(cx, mv, "Unknown cipher type: %s", go_q(q, sizeof q, c));
            set_str(&o->js_cipher, c);
        } else if (!strcasecmp(k, "key") || !strcasecmp(k, "ek") ||
                   !strcasecmp(k, "encryption_key")) {
            if (!want(cx, mv, NX_CONF_STRING)) return;
            set_str(&o->js_key, mv->u.s.ptr);
        } else if (!strcasecmp(k, "unique_tag")) {
            if (!want(cx, mv, NX_CONF_STRING)) return;
            set_str(&o->js_unique_tag, mv->u.s.ptr);
        } else if (!strcasecmp(k, "prev_key") || !strcasecmp(k, "prev_ek") ||
                   !strcasecmp(k, "prev_encryption_key") || !strcasecmp(k, "tpm") ||
                   !strcasecmp(k, "limits")) {
            /* Key rotation, TPM-sealed keys and server-wide limits change what is stored and
             * who may store it: refused until built rather than ignored. */
            if (mv->type == NX_CONF_MAP && mv->u.map.len == 0) continue;
            refuse(cx, mv, k);
        } else if (!strcasecmp(k, "extension_hint") || !strcasecmp(k, "max_outstanding_catchup") ||
                   !strcasecmp(k, "max_buffered_size") || !strcasecmp(k, "max_buffered_msgs") ||
                   !strcasecmp(k, "request_queue_limit") || !strcasecmp(k, "info_queue_limit") ||
                   !strcasecmp(k, "meta_compact") || !strcasecmp(k, "meta_compact_size") ||
                   !strcasecmp(k, "meta_compact_sync") || !strcasecmp(k, "max_concurrent_io")) {
            notice(mv, k); /* tuning of Go's internals: no equivalent here */
        } else if (!(mv->flags & NX_CONF_F_USED_VARIABLE)) {
            char q[256];
            add_error(cx, mv, "unknown field %s", go_q(q, sizeof q, k));
        }
    }
    o->jetstream = enable;
}

/* ---- top-level keys --------------------------------------------------------------------- */

/* Go knows these; they configure features not built here.  Refused: ignoring them would change
 * security or data guarantees.  An empty map configures nothing and is accepted. */
static const char *const refused_keys[] = {
    "operator", "operators", "roots", "root", "root_operators", "root_operator",
    "resolver", "account_resolver", "accounts_resolver", "resolver_tls", "resolver_preload",
    "resolver_pinned_accounts", "trusted", "trusted_keys",
    "gateway", "leaf", "leafnodes", "websocket", "ws",
    "mqtt", "proxies", "default_sentinel", "default_js_domain",
};

/* Keys applied (or checked and ignored) without special rules. */
enum { K_BOOL, K_INT, K_I32, K_I64, K_STR, K_CHECK_BOOL, K_CHECK_INT };
#define K_NOTICE 0x10 /* not supported: a notice when not false/0 */
#define OPT(f) offsetof(br_options, f)
static const struct simple_key {
    const char *key;
    int kind;
    size_t off;
} simple_keys[] = {
    {"port", K_INT, OPT(port)},
    {"client_advertise", K_STR, OPT(client_advertise)},
    {"host", K_STR, OPT(host)},
    {"net", K_STR, OPT(host)},
    {"debug", K_BOOL, OPT(debug)},
    {"trace", K_BOOL, OPT(trace)},
    {"logtime", K_BOOL, OPT(logtime)},
    {"logtime_utc", K_BOOL, OPT(logtime_utc)},
    {"disable_sublist_cache", K_CHECK_BOOL, 0},
    {"no_sublist_cache", K_CHECK_BOOL, 0},
    {"logfile", K_STR, OPT(log_file)},
    {"log_file", K_STR, OPT(log_file)},
    {"logfile_size_limit", K_I64 | K_NOTICE, OPT(log_size_limit)},
    {"log_size_limit", K_I64 | K_NOTICE, OPT(log_size_limit)},
    {"logfile_max_num", K_CHECK_INT | K_NOTICE, 0},
    {"log_max_num", K_CHECK_INT | K_NOTICE, 0},
    {"syslog", K_BOOL, OPT(syslog)},
    {"remote_syslog", K_STR, OPT(remote_syslog)},
    {"pidfile", K_STR, OPT(pid_file)},
    {"pid_file", K_STR, OPT(pid_file)},
    {"ports_file_dir", K_STR, OPT(ports_file_dir)},
    {"prof_port", K_INT, OPT(prof_port)},
    {"prof_block_rate", K_CHECK_INT | K_NOTICE, 0},
    {"max_pending", K_I64, OPT(max_pending)},
    {"max_traced_msg_len", K_INT, OPT(max_traced_msg_len)},
    {"max_subscriptions", K_I32, OPT(max_subs)},
    {"max_subs", K_I32, OPT(max_subs)},
    {"ping_max", K_I32, OPT(ping_max)},
    {"allow_non_tls", K_BOOL, OPT(tls_cfg.allow_non_tls)},
    {"no_header_support", K_BOOL, OPT(no_header_support)},
    {"connect_error_reports", K_CHECK_INT, 0}, /* route/gateway/leaf reports */
    {"reconnect_error_reports", K_CHECK_INT, 0},
    {"no_fast_producer_stall", K_CHECK_BOOL | K_NOTICE, 0},
    {"max_closed_clients", K_INT, OPT(max_closed_clients)},
    {"http_port", K_INT, OPT(http_port)},
    {"monitor_port", K_INT, OPT(http_port)},
    {"https_port", K_INT, OPT(https_port)},
    {"http_base_path", K_STR, OPT(http_base_path)},
    {"workers", K_INT, OPT(workers)},         /* this server's own */
    {"node_socket", K_STR, OPT(node_socket)}, /* this server's own */
};

static bool apply_simple(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    const struct simple_key *sk = NULL;
    for (size_t i = 0; !sk && i < sizeof simple_keys / sizeof simple_keys[0]; i++)
        if (!strcasecmp(k, simple_keys[i].key)) sk = &simple_keys[i];
    if (!sk) return false;
    int kind = sk->kind & 0xf;
    void *f = (char *)cx->o + sk->off;
    bool is_bool = kind == K_BOOL || kind == K_CHECK_BOOL;
    if (!want(cx, v, is_bool ? NX_CONF_BOOL : kind == K_STR ? NX_CONF_STRING : NX_CONF_INT))
        return true;
    switch (kind) {
    case K_BOOL: *(bool *)f = v->u.b; break;
    case K_INT: *(int *)f = (int)v->u.i; break;
    case K_I32: *(int32_t *)f = (int32_t)v->u.i; break;
    case K_I64: *(int64_t *)f = v->u.i; break;
    case K_STR: set_str((char **)f, v->u.s.ptr); break;
    default: break;
    }
    if ((sk->kind & K_NOTICE) && (is_bool ? v->u.b : v->u.i != 0)) notice(v, k);
    return true;
}

/* Go: server_tags, server_metadata, feature_flags (checked; informational here). */
static void apply_info_key(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    char q[256];
    bool tags = !strcasecmp(k, "server_tags"), flags = !strcasecmp(k, "feature_flags");
    if (tags && v->type == NX_CONF_STRING) return;
    if (tags && v->type == NX_CONF_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            if (v->u.arr.items[i]->type != NX_CONF_STRING)
                FAIL(cx, v, "error parsing tags: unsupported type *conf.token where string is "
                            "expected");
        return;
    }
    if (v->type != NX_CONF_MAP)
        FAIL(cx, v, "error parsing %s: unsupported type %s",
             tags ? "tags" : flags ? "feature flags" : "metadata", go_type_of(v->type));
    NX_CONF_MAP_FOREACH(v, e) {
        if (!flags && !want(cx, e->value, NX_CONF_STRING)) return;
        if (flags && e->value->type != NX_CONF_BOOL)
            FAIL(cx, e->value, "error parsing feature flag %s: expected bool, got %s",
                 go_q(q, sizeof q, e->key), go_type_of(e->value->type));
    }
}

static bool in_list(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(k, list[i])) return true;
    return false;
}

static void apply_key(conf_ctx *cx, const char *k, const nx_conf_value *v) {
    br_options *o = cx->o;
    int64_t ms;
    char d[64];
    if (apply_simple(cx, k, v)) {
    } else if (!strcasecmp(k, "accounts")) {
        br_accounts_conf_parse(&o->accounts, &o->auth, v, &cx->d);
    } else if (!strcasecmp(k, "system_account") || !strcasecmp(k, "system")) {
        br_accounts_conf_system(&o->accounts, v, &cx->d);
    } else if (!strcasecmp(k, "no_system_account") || !strcasecmp(k, "no_system") ||
               !strcasecmp(k, "no_sys_acc")) {
        if (want(cx, v, NX_CONF_BOOL)) o->accounts.no_system_account = v->u.b;
    } else if (!strcasecmp(k, "listen")) {
        parse_listen(cx, v, &o->host, &o->port);
    } else if (!strcasecmp(k, "http") || !strcasecmp(k, "https")) {
        parse_listen(cx, v, &o->http_host, k[4] ? &o->https_port : &o->http_port);
    } else if (!strcasecmp(k, "server_name")) {
        if (!want(cx, v, NX_CONF_STRING)) return;
        if (strchr(v->u.s.ptr, ' ')) FAIL(cx, v, "server name cannot contain spaces");
        set_str(&o->server_name, v->u.s.ptr);
    } else if (!strcasecmp(k, "trace_verbose") || !strcasecmp(k, "trace_headers")) {
        if (!want(cx, v, NX_CONF_BOOL)) return;
        o->trace = v->u.b;
        if (!strcasecmp(k, "trace_verbose")) o->trace_verbose = v->u.b;
        else if (v->u.b) notice(v, k);
    } else if (br_auth_conf_apply(&o->auth, k, v, &cx->d)) { /* authorization, no_auth_user */
    } else if (!strcasecmp(k, "mappings") || !strcasecmp(k, "maps")) {
        char merr[2048] = ""; /* common/transform.c: Go's errors, "file:line:col: reason" */
        if (nx_mappings_parse_conf(v, &o->mappings, merr, sizeof merr) > 0)
            for (char *line = strtok(merr, "\n"); line; line = strtok(NULL, "\n"))
                append_line(&cx->d.errors, &cx->d.errors_len, &cx->d.nerrors, line);
    } else if (!strcasecmp(k, "max_control_line") || !strcasecmp(k, "max_payload")) {
        if (!want(cx, v, NX_CONF_INT)) return;
        if (v->u.i > INT32_MAX) FAIL(cx, v, "%s value is too big", k);
        *(k[4] == 'p' || k[4] == 'P' ? &o->max_payload : &o->max_control_line) = (int32_t)v->u.i;
    } else if (!strcasecmp(k, "max_connections") || !strcasecmp(k, "max_conn")) {
        if (want(cx, v, NX_CONF_INT)) o->max_connections = v->u.i == 0 ? -1 : (int32_t)v->u.i;
    } else if (!strcasecmp(k, "max_sub_tokens") || !strcasecmp(k, "max_subscription_tokens")) {
        if (!want(cx, v, NX_CONF_INT)) return;
        if (v->u.i > 255) FAIL(cx, v, "%s value is too big", k);
        if (v->u.i <= 0) FAIL(cx, v, "%s value can not be negative", k);
        notice(v, k);
    } else if (!strcasecmp(k, "ping_interval")) {
        if (parse_duration(cx, v, "ping_interval", &ms)) o->ping_interval_ms = ms;
    } else if (!strcasecmp(k, "write_deadline")) {
        if (parse_duration(cx, v, "write_deadline", &ms)) o->write_deadline_ms = ms;
    } else if (!strcasecmp(k, "write_timeout")) {
        if (!want(cx, v, NX_CONF_STRING)) return;
        const char *p = v->u.s.ptr;
        if (strcmp(p, "default") && strcmp(p, "close") && strcmp(p, "retry"))
            FAIL(cx, v, "write_timeout must be 'default', 'close' or 'retry'");
        if (!strcmp(p, "retry")) notice(v, k); /* clients are closed on a write timeout here */
    } else if (!strcasecmp(k, "lame_duck_duration") || !strcasecmp(k, "lame_duck_grace_period")) {
        bool grace = strlen(k) > 18;
        const char *field = grace ? "lame_duck_grace_period" : "lame_duck_duration";
        char prefix[64];
        int64_t ns;
        snprintf(prefix, sizeof prefix, "error parsing %s: ", field);
        if (!want(cx, v, NX_CONF_STRING) || !time_parse(cx, v, prefix, &ns)) return;
        if (grace && ns < 0) FAIL(cx, v, "invalid lame_duck_grace_period, needs to be positive");
        br_go_duration(ns, d, sizeof d);
        if (!grace && ns < 30000000000LL)
            FAIL(cx, v, "invalid lame_duck_duration of %s, minimum is 30 seconds", d);
        *(grace ? &o->lame_duck_grace_ms : &o->lame_duck_duration_ms) = ns / 1000000;
    } else if (!strcasecmp(k, "tls")) {
        apply_tls(cx, v);
    } else if (!strcasecmp(k, "jetstream")) {
        apply_jetstream(cx, v);
    } else if (!strcasecmp(k, "cluster")) {
        br_conf_cluster(o, v, &cx->d); /* options_cluster.c */
    } else if (!strcasecmp(k, "store_dir") || !strcasecmp(k, "storedir")) {
        if (cx->o->store_dir && cx->o->store_dir[0])
            FAIL(cx, v, "Duplicate 'store_dir' configuration");
        if (!want(cx, v, NX_CONF_STRING)) return;
        set_str(&cx->o->store_dir, v->u.s.ptr);
    } else if (!strcasecmp(k, "ocsp") || !strcasecmp(k, "ocsp_cache") ||
               !strcasecmp(k, "proxy_protocol")) {
        if (v->type == NX_CONF_BOOL && !v->u.b) return; /* off: nothing to do */
        if (!strcasecmp(k, "proxy_protocol") && !want(cx, v, NX_CONF_BOOL)) return;
        if (!strcasecmp(k, "ocsp_cache")) return notice(v, k); /* only used with OCSP */
        refuse(cx, v, k);
    } else if (!strcasecmp(k, "server_tags") || !strcasecmp(k, "server_metadata") ||
               !strcasecmp(k, "feature_flags")) {
        apply_info_key(cx, k, v);
    } else if (in_list(k, refused_keys, sizeof refused_keys / sizeof refused_keys[0])) {
        if (v->type == NX_CONF_MAP && v->u.map.len == 0) return;
        refuse(cx, v, k);
    } else if (!(v->flags & NX_CONF_F_USED_VARIABLE)) {
        char q[256];
        add_error(cx, v, "unknown field %s", go_q(q, sizeof q, k));
    }
}

int br_options_apply_config(br_options *o, const char *path, char **errors_out,
                            char **warnings_out) {
    char err[2048];
    nx_conf_value *root = NULL;
    *errors_out = *warnings_out = NULL;
    if (nx_conf_parse_file(path, &root, err, sizeof err) < 0) {
        *errors_out = strdup(err);
        return -1;
    }
    conf_ctx cx = {.o = o};
    if (root->u.map.len == 0) {
        snprintf(err, sizeof err, "%s: config has no values or is empty", path);
        append_line(&cx.d.warnings, &cx.d.warnings_len, &cx.d.nwarnings, err);
    }
    NX_CONF_MAP_FOREACH(root, e) apply_key(&cx, e->key, e->value);
    nx_conf_free(root);
    *errors_out = cx.d.errors;
    *warnings_out = cx.d.warnings;
    return cx.d.nerrors ? -1 : 0;
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
    for (unsigned i = 0; i < mdlen && n + 3 <= cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", md[i]);
    return 0;
}
