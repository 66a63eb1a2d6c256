/* The `authorization { ... }` block and `no_auth_user` of a config file, into br_auth_opts.
 *
 * Role: called by the option layer (options_conf.c) for those top-level keys; the result is
 * validated and compiled later by br_auth_new.  Ports Go nats-server v2.14.5 server/opts.go:
 * processConfigFileLine ("authorization", "no_auth_user"), parseAuthorization, parseUsers,
 * parseAllowedConnectionTypes/parseStringArray, parseUserPermissions,
 * parseVariablePermissions, parsePermSubjects, parseAllowResponses, parseOldPermissionStyle,
 * parseSubjectPermission and checkPermSubjectArray, with Go's messages and positions.
 *
 * Go quirks kept on purpose: a type mismatch Go discovers by a failed type assertion yields
 * Go's runtime text ("interface conversion: interface {} is int64, not string") at the last
 * value read, and inside `authorization` additionally the nil pointer dereference Go then hits
 * at the block itself; old-style permission lists (`publish: "x"`) report subject errors
 * without a position, as Go does.  Go walks maps in random order; here file order is used
 * (where Go's choice of key position is random, the last key of the entry is reported).
 * Deviation: strings holding NUL bytes are refused (they could not be compared safely).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broker/auth.h"
#include "common/duration.h"
#include "common/nkey.h"

/* ---- diagnostics ------------------------------------------------------------------------ */

static void append(char **buf, size_t *len, const char *line) {
    size_t n = strlen(line);
    char *nb = realloc(*buf, *len + n + 2);
    if (!nb) abort();
    memcpy(nb + *len, line, n);
    nb[*len + n] = '\n';
    nb[*len + n + 1] = '\0';
    *buf = nb;
    *len += n + 1;
}

static int pos_prefix(char *out, size_t cap, const nx_conf_value *at) {
    if (!at || (at->flags & NX_CONF_F_NO_POS)) return snprintf(out, cap, "%s", "");
    return snprintf(out, cap, "%s:%d:%d: ", at->file ? at->file : "", at->line, at->col);
}

static void add_err(br_conf_diag *d, const nx_conf_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_err(br_conf_diag *d, const nx_conf_value *at, const char *fmt, ...) {
    char reason[2048], line[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    int n = pos_prefix(line, sizeof line, at);
    snprintf(line + n, sizeof line - (size_t)n, "%s", reason);
    append(&d->errors, &d->errors_len, line);
    d->nerrors++;
}

static void add_warn(br_conf_diag *d, const nx_conf_value *at, const char *field,
                     const char *reason) {
    char line[2600], q[300];
    br_go_quote(q, sizeof q, field, strlen(field));
    int n = pos_prefix(line, sizeof line, at);
    snprintf(line + n, sizeof line - (size_t)n, "invalid use of field %s: %s", q, reason);
    append(&d->warnings, &d->warnings_len, line);
    d->nwarnings++;
}

void br_conf_diag_free(br_conf_diag *d) {
    free(d->errors);
    free(d->warnings);
    memset(d, 0, sizeof *d);
}

/* ---- Go renderings of values ------------------------------------------------------------ */

/* The dynamic type Go's parser gives a value (%T). */
static const char *go_type(const nx_conf_value *v) {
    switch (v->type) {
    case NX_CONF_STRING:
        return "string";
    case NX_CONF_INT:
        return "int64";
    case NX_CONF_FLOAT:
        return "float64";
    case NX_CONF_BOOL:
        return "bool";
    case NX_CONF_TIME:
        return "time.Time";
    case NX_CONF_MAP:
        return "map[string]interface {}";
    case NX_CONF_ARRAY:
        return "[]interface {}";
    }
    return "interface {}";
}

/* Go %v of a float64: shortest representation, exponent form below 1e-4 or from 1e21. */
static void go_float(char *out, size_t cap, double f) {
    if (isnan(f)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(f)) {
        snprintf(out, cap, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    char e[64];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f) break;
    }
    int exp = f == 0 ? 0 : (int)strtol(strchr(e, 'e') + 1, NULL, 10);
    if (exp < -4 || exp >= 21) {
        /* Go: mantissa digits, 'e', sign, at least two exponent digits */
        char *ep = strchr(e, 'e');
        *ep = '\0';
        snprintf(out, cap, "%.30se%c%02d", e, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    int decimals = prec - 1 - exp;
    snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, f);
}

/* Go %v of a parsed value (containers approximated: Go prints its token pointers there). */
static size_t go_value(char *out, size_t cap, const nx_conf_value *v, int depth) {
    char tmp[64];
    switch (v->type) {
    case NX_CONF_STRING:
        return (size_t)snprintf(out, cap, "%s", v->u.s.ptr);
    case NX_CONF_INT:
        return (size_t)snprintf(out, cap, "%lld", (long long)v->u.i);
    case NX_CONF_FLOAT:
        go_float(tmp, sizeof tmp, v->u.f);
        return (size_t)snprintf(out, cap, "%s", tmp);
    case NX_CONF_BOOL:
        return (size_t)snprintf(out, cap, "%s", v->u.b ? "true" : "false");
    case NX_CONF_TIME: {
        time_t t = (time_t)v->u.t;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(tmp, sizeof tmp, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        return (size_t)snprintf(out, cap, "%s", tmp);
    }
    case NX_CONF_ARRAY:
    case NX_CONF_MAP:
        break;
    }
    bool map = v->type == NX_CONF_MAP;
    size_t n = (size_t)snprintf(out, cap, "%s", map ? "map[" : "[");
    size_t cnt = nx_conf_len(v);
    for (size_t i = 0; i < cnt && depth < 4; i++) {
        if (i) n += (size_t)snprintf(n < cap ? out + n : NULL, n < cap ? cap - n : 0, " ");
        const nx_conf_value *e = map ? v->u.map.items[i].value : v->u.arr.items[i];
        if (map)
            n += (size_t)snprintf(n < cap ? out + n : NULL, n < cap ? cap - n : 0,
                                  "%s:", v->u.map.items[i].key);
        n += go_value(n < cap ? out + n : NULL, n < cap ? cap - n : 0, e, depth + 1);
    }
    n += (size_t)snprintf(n < cap ? out + n : NULL, n < cap ? cap - n : 0, "]");
    return n;
}

/* Go time.ParseDuration's error for s (only called when nx_parse_duration failed). */
static void duration_error(char *out, size_t cap, const char *s) {
    char qo[600], qu[300];
    size_t o = 0;
    qo[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && o < sizeof qo - 6; p++) {
        if (*p >= 0x80 || *p < ' ') {
            o += (size_t)snprintf(qo + o, sizeof qo - o, "\\x%02x", *p);
        } else {
            if (*p == '"' || *p == '\\') qo[o++] = '\\';
            qo[o++] = (char)*p;
        }
    }
    qo[o++] = '"';
    qo[o] = '\0';
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    while (*p) {
        if (!(*p == '.' || (*p >= '0' && *p <= '9'))) break;
        const char *st = p;
        while (*p >= '0' && *p <= '9')
            p++;
        bool pre = p != st, post = false;
        if (*p == '.') {
            const char *fs = ++p;
            while (*p >= '0' && *p <= '9')
                p++;
            post = p != fs;
        }
        if (!pre && !post) break;
        size_t ul = 0;
        while (p[ul] && p[ul] != '.' && !(p[ul] >= '0' && p[ul] <= '9'))
            ul++;
        if (ul == 0) {
            snprintf(out, cap, "time: missing unit in duration %s", qo);
            return;
        }
        static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs",
                                            "ms", "s",  "m",         "h"};
        bool known = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            known |= strlen(units[i]) == ul && memcmp(units[i], p, ul) == 0;
        if (!known) {
            char u[256];
            snprintf(u, sizeof u, "%.*s", (int)(ul < 200 ? ul : 200), p);
            size_t k = 0;
            qu[k++] = '"';
            for (const unsigned char *c = (const unsigned char *)u; *c && k < sizeof qu - 6; c++) {
                if (*c >= 0x80 || *c < ' ')
                    k += (size_t)snprintf(qu + k, sizeof qu - k, "\\x%02x", *c);
                else {
                    if (*c == '"' || *c == '\\') qu[k++] = '\\';
                    qu[k++] = (char)*c;
                }
            }
            qu[k++] = '"';
            qu[k] = '\0';
            snprintf(out, cap, "time: unknown unit %s in duration %s", qu, qo);
            return;
        }
        p += ul;
    }
    snprintf(out, cap, "time: invalid duration %s", qo);
}

/* ---- parsing context -------------------------------------------------------------------- */

typedef struct pcx {
    br_conf_diag *d;
    const nx_conf_value *lt; /* Go's "last token" for converted panics */
    bool panicked;
} pcx;

static const char *const go_names[] = {[NX_CONF_MAP] = "map[string]interface {}",
                                       [NX_CONF_ARRAY] = "[]interface {}",
                                       [NX_CONF_STRING] = "string",
                                       [NX_CONF_INT] = "int64",
                                       [NX_CONF_FLOAT] = "float64",
                                       [NX_CONF_BOOL] = "bool",
                                       [NX_CONF_TIME] = "time.Time"};

/* A Go type assertion v.(T): true when it holds, else Go's recovered panic text. */
static bool assert_type(pcx *c, const nx_conf_value *v, nx_conf_type t) {
    c->lt = v;
    if (v->type == t) return true;
    add_err(c->d, v, "interface conversion: interface {} is %s, not %s", go_type(v), go_names[t]);
    c->panicked = true;
    return false;
}

/* A string value without NUL bytes (see the deviation above). */
static bool get_str(pcx *c, const nx_conf_value *v, char **dst) {
    if (!assert_type(c, v, NX_CONF_STRING)) return false;
    if (memchr(v->u.s.ptr, '\0', v->u.s.len)) {
        add_err(c->d, v, "string values holding NUL bytes are not supported here");
        return false;
    }
    free(*dst);
    *dst = strdup(v->u.s.ptr);
    if (!*dst) abort();
    return true;
}

static bool used_var(const nx_conf_value *v) {
    return v->flags & NX_CONF_F_USED_VARIABLE;
}

static void unknown_field(pcx *c, const nx_conf_value *v, const char *k) {
    if (used_var(v)) return;
    char q[300];
    br_go_quote(q, sizeof q, k, strlen(k));
    add_err(c->d, v, "unknown field %s", q);
}

static bool key_is(const char *k, const char *const *names) {
    for (; *names; names++)
        if (!strcasecmp(k, *names)) return true;
    return false;
}
#define KEY(k, ...) key_is(k, (const char *const[]){__VA_ARGS__, NULL})

/* ---- permissions ------------------------------------------------------------------------ */

/* Go parsePermSubjects; `at` is NULL when Go passed an unwrapped value (no position). */
static bool perm_subjects(pcx *c, const nx_conf_value *v, const nx_conf_value *at, bool allow_queue,
                          br_subject_perm *sp, bool deny) {
    br_subject_perm tmp = {0};
    if (v->type == NX_CONF_STRING) {
        br_subject_perm_add(&tmp, false, v->u.s.ptr, v->u.s.len);
    } else if (v->type == NX_CONF_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++) {
            const nx_conf_value *e = v->u.arr.items[i];
            if (e->type != NX_CONF_STRING) {
                add_err(c->d, e, "Subject in permissions array cannot be cast to string");
                goto fail;
            }
            br_subject_perm_add(&tmp, false, e->u.s.ptr, e->u.s.len);
        }
    } else {
        add_err(c->d, at,
                "Expected subject permissions to be a subject, or array of subjects, "
                "got %s",
                go_type(v));
        return false;
    }
    char err[1400];
    for (size_t i = 0; i < tmp.nallow; i++) {
        const nx_conf_value *e = v->type == NX_CONF_ARRAY ? v->u.arr.items[i] : v;
        if (strlen(tmp.allow[i]) != e->u.s.len) { /* NUL inside: never a valid subject */
            char q[1200];
            br_go_quote(q, sizeof q, e->u.s.ptr, e->u.s.len);
            add_err(c->d, at, "subject %s is not a valid subject", q);
            goto fail;
        }
    }
    if (br_perm_check_subjects(tmp.allow, tmp.nallow, allow_queue, err, sizeof err) < 0) {
        add_err(c->d, at, "%s", err);
        goto fail;
    }
    /* Go: the list replaces any earlier one (nil for an empty array). */
    char ***list = deny ? &sp->deny : &sp->allow;
    size_t *n = deny ? &sp->ndeny : &sp->nallow;
    for (size_t i = 0; i < *n; i++)
        free((*list)[i]);
    free(*list);
    *list = tmp.allow;
    *n = tmp.nallow;
    if (!deny) sp->allow_set = tmp.nallow > 0;
    return true;
fail:
    for (size_t i = 0; i < tmp.nallow; i++)
        free(tmp.allow[i]);
    free(tmp.allow);
    return false;
}

/* Go parseVariablePermissions: a map {allow, deny} or the old style (subject or list). */
static br_subject_perm *variable_perms(pcx *c, const nx_conf_value *v, bool allow_queue, bool *ok) {
    br_subject_perm *sp = br_subject_perm_new();
    *ok = true;
    if (v->type != NX_CONF_MAP) {
        if (!perm_subjects(c, v, NULL, allow_queue, sp, false)) *ok = false;
        if (!*ok) {
            free(sp);
            return NULL;
        }
        return sp;
    }
    if (v->u.map.len == 0) { /* Go: nil permission */
        free(sp);
        return NULL;
    }
    NX_CONF_MAP_FOREACH(v, e) {
        if (KEY(e->key, "allow")) {
            perm_subjects(c, e->value, e->value, allow_queue, sp, false);
        } else if (KEY(e->key, "deny")) {
            perm_subjects(c, e->value, e->value, allow_queue, sp, true);
        } else if (!used_var(e->value)) {
            char q[300];
            br_go_quote(q, sizeof q, e->key, strlen(e->key));
            add_err(c->d, e->value,
                    "Unknown field name %s parsing subject permissions, only 'allow' or 'deny' are "
                    "permitted",
                    q);
        }
    }
    return sp;
}

static void subject_perm_free(br_subject_perm *sp) {
    if (!sp) return;
    br_permissions tmp = {.publish = sp};
    br_permissions *heap = br_permissions_new();
    *heap = tmp;
    br_permissions_free(heap);
}

/* Go parseAllowResponses; NULL when not usable (errors reported). */
static br_response_perm *allow_responses(br_conf_diag *d, const nx_conf_value *v) {
    pcx c = {.d = d, .lt = v};
    if (v->type != NX_CONF_MAP) {
        add_err(d, v, "error parsing response permissions, expected a boolean or a map");
        return NULL;
    }
    br_response_perm rp = {BR_ALLOW_RESPONSE_MAX_MSGS, BR_ALLOW_RESPONSE_EXPIRATION_NS};
    NX_CONF_MAP_FOREACH(v, e) {
        const nx_conf_value *ev = e->value;
        if (KEY(e->key, "max", "max_msgs", "max_messages", "max_responses")) {
            if (!assert_type(&c, ev, NX_CONF_INT)) return NULL;
            if (ev->u.i != 0) rp.max_msgs = ev->u.i; /* negative: unlimited, 0: default */
        } else if (KEY(e->key, "expires", "expiration", "ttl")) {
            if (ev->type != NX_CONF_STRING) {
                add_err(d, ev, "error parsing expires, not a duration string");
                return NULL;
            }
            int64_t ns;
            if (nx_parse_duration(ev->u.s.ptr, &ns) < 0) {
                char why[1024];
                duration_error(why, sizeof why, ev->u.s.ptr);
                add_err(d, ev, "error parsing expires: %s", why);
                return NULL;
            }
            if (ns != 0) rp.expires_ns = ns;
        } else if (!used_var(ev)) {
            char q[300];
            br_go_quote(q, sizeof q, e->key, strlen(e->key));
            add_err(d, ev, "Unknown field %s parsing permissions", q);
        }
    }
    br_response_perm *r = malloc(sizeof *r);
    if (!r) abort();
    *r = rp;
    return r;
}

/* Go parseUserPermissions; NULL with an error reported when v is not a map. */
static br_permissions *user_permissions(br_conf_diag *d, const nx_conf_value *v) {
    if (v->type != NX_CONF_MAP) {
        char val[512];
        go_value(val, sizeof val, v, 0);
        add_err(d, v, "Expected permissions to be a map/struct, got %s", val);
        return NULL;
    }
    pcx c = {.d = d, .lt = v};
    br_permissions *p = br_permissions_new();
    NX_CONF_MAP_FOREACH(v, e) {
        const nx_conf_value *ev = e->value;
        bool ok;
        if (KEY(e->key, "pub", "publish", "import")) {
            br_subject_perm *sp = variable_perms(&c, ev, false, &ok);
            if (!ok) continue;
            subject_perm_free(p->publish);
            p->publish = sp;
        } else if (KEY(e->key, "sub", "subscribe", "export")) {
            br_subject_perm *sp = variable_perms(&c, ev, true, &ok);
            if (!ok) continue;
            subject_perm_free(p->subscribe);
            p->subscribe = sp;
        } else if (KEY(e->key, "publish_allow_responses", "allow_responses")) {
            if (ev->type == NX_CONF_BOOL) {
                if (ev->u.b) { /* Go: false leaves any earlier value alone */
                    if (!p->response) p->response = malloc(sizeof *p->response);
                    if (!p->response) abort();
                    *p->response = (br_response_perm){BR_ALLOW_RESPONSE_MAX_MSGS,
                                                      BR_ALLOW_RESPONSE_EXPIRATION_NS};
                }
            } else {
                free(p->response);
                p->response = allow_responses(d, ev);
            }
            if (p->response) {
                if (!p->publish) p->publish = br_subject_perm_new();
                p->publish->allow_set = true; /* Go turns off the blanket allow */
            }
        } else if (!used_var(ev)) {
            char q[300];
            br_go_quote(q, sizeof q, e->key, strlen(e->key));
            add_err(d, ev, "Unknown field %s parsing permissions", q);
        }
    }
    return p;
}

/* ---- users ------------------------------------------------------------------------------ */

/* Go parseAllowedConnectionTypes (through parseStringArray and
 * convertAllowedConnectionTypes). */
static uint32_t connection_types(br_conf_diag *d, const nx_conf_value *v) {
    const char *what = "allowed connection types";
    const nx_conf_value *one = v;
    size_t n = 1;
    if (v->type == NX_CONF_ARRAY) {
        n = v->u.arr.len;
    } else if (v->type != NX_CONF_STRING) {
        add_err(d, v, "error parsing %s: unsupported type %s", what, go_type(v));
        return 0;
    }
    uint32_t bits = 0;
    char unknown[1024] = "";
    size_t ul = 0;
    for (size_t i = 0; i < n; i++) {
        const nx_conf_value *e = v->type == NX_CONF_ARRAY ? v->u.arr.items[i] : one;
        if (e->type != NX_CONF_STRING) {
            add_err(d, e, "error parsing %s: unsupported type in array %s", what, go_type(e));
            continue;
        }
        uint32_t b = br_conn_type_from_name(e->u.s.ptr, e->u.s.len);
        if (b) {
            bits |= b;
            continue;
        }
        char up[256], q[600];
        size_t k = 0;
        for (; k < e->u.s.len && k < sizeof up - 1; k++)
            up[k] = (e->u.s.ptr[k] >= 'a' && e->u.s.ptr[k] <= 'z') ? (char)(e->u.s.ptr[k] - 32)
                                                                   : e->u.s.ptr[k];
        br_go_quote(q, sizeof q, up, k);
        ul += (size_t)snprintf(unknown + ul, ul < sizeof unknown ? sizeof unknown - ul : 0, "%s%s",
                               ul ? " " : "", q);
        if (ul >= sizeof unknown) ul = sizeof unknown - 1;
    }
    if (ul) add_err(d, v, "invalid connection types [%s]", unknown);
    return bits;
}

typedef struct users_out {
    br_user *users;
    size_t nusers;
    br_nkey_user *nkeys;
    size_t nnkeys;
} users_out;

static void users_out_free(users_out *u) {
    br_auth_opts tmp = {
        .users = u->users, .nusers = u->nusers, .nkeys = u->nkeys, .nnkeys = u->nnkeys};
    br_auth_opts_free(&tmp);
    memset(u, 0, sizeof *u);
}

/* Go parseUsers.  Returns 0 (out filled), -1 when Go returns an error (reported), or -2 when
 * Go's parser panicked (reported; Go then keeps no users and no error). */
static int parse_users(br_conf_diag *d, const nx_conf_value *v, users_out *out) {
    memset(out, 0, sizeof *out);
    if (v->type != NX_CONF_ARRAY) {
        char val[512];
        go_value(val, sizeof val, v, 0);
        add_err(d, v, "Expected users field to be an array, got %s", val);
        return -1;
    }
    pcx c = {.d = d};
    for (size_t i = 0; i < v->u.arr.len; i++) {
        const nx_conf_value *uv = v->u.arr.items[i], *tk = uv;
        if (uv->type != NX_CONF_MAP) {
            char val[512];
            go_value(val, sizeof val, uv, 0);
            add_err(d, uv, "Expected user entry to be a map/struct, got %s", val);
            continue;
        }
        br_user u = {0};
        char *nkey = NULL;
        br_permissions *perms = NULL;
        NX_CONF_MAP_FOREACH(uv, e) {
            const nx_conf_value *ev = tk = e->value;
            bool good = true;
            if (KEY(e->key, "nkey")) {
                good = get_str(&c, ev, &nkey);
            } else if (KEY(e->key, "user", "username")) {
                good = get_str(&c, ev, &u.username);
            } else if (KEY(e->key, "pass", "password")) {
                good = get_str(&c, ev, &u.password);
            } else if (KEY(e->key, "permission", "permissions", "authorization")) {
                br_permissions *p = user_permissions(d, ev);
                if (p) {
                    br_permissions_free(perms);
                    perms = p;
                }
            } else if (KEY(e->key, "allowed_connection_types", "connection_types", "clients")) {
                u.conn_types = connection_types(d, ev);
            } else if (KEY(e->key, "proxy_required")) {
                good = assert_type(&c, ev, NX_CONF_BOOL);
                if (good) u.proxy_required = ev->u.b;
            } else {
                unknown_field(&c, ev, e->key);
            }
            if (!good && c.panicked) break;
        }
        const char *err = NULL;
        if (c.panicked) {
            err = "";
        } else if ((!nkey || !*nkey) && (!u.username || !*u.username)) {
            err = "User entry requires a user";
        } else if (nkey && *nkey) {
            uint8_t raw[32];
            if (strlen(nkey) != NX_NKEY_PUBLIC_LEN ||
                !nx_nkey_decode_public(nkey, NX_NKEY_PREFIX_USER, raw))
                err = "Not a valid public nkey for a user";
            else if ((u.username && *u.username) || (u.password && *u.password))
                err = "Nkey users do not take usernames or passwords";
        }
        if (err) {
            if (*err) add_err(d, tk, "%s", err);
            free(nkey);
            br_permissions_free(perms);
            br_user_free(&u);
            users_out_free(out);
            return c.panicked ? -2 : -1;
        }
        if (nkey && *nkey) {
            br_nkey_user *nk = realloc(out->nkeys, (out->nnkeys + 1) * sizeof *nk);
            if (!nk) abort();
            out->nkeys = nk;
            nk[out->nnkeys++] = (br_nkey_user){.nkey = nkey,
                                               .perms = perms,
                                               .conn_types = u.conn_types,
                                               .proxy_required = u.proxy_required};
            br_user_free(&u);
        } else {
            free(nkey);
            if (!u.password) u.password = strdup("");
            if (!u.password) abort();
            u.perms = perms;
            br_user *nu = realloc(out->users, (out->nusers + 1) * sizeof *nu);
            if (!nu) abort();
            out->users = nu;
            nu[out->nusers++] = u;
        }
    }
    return 0;
}

/* ---- authorization ---------------------------------------------------------------------- */

typedef struct auth_block {
    char *user, *pass, *token;
    bool proxy_required;
    double timeout;
    users_out u;
    bool users_set; /* Go: auth.users != nil */
    br_permissions *defaults;
} auth_block;

static void auth_block_free(auth_block *b) {
    free(b->user);
    free(b->pass);
    free(b->token);
    users_out_free(&b->u);
    br_permissions_free(b->defaults);
}

/* Go parseAuthorization.  0: parsed; -1: Go returned an error (reported); -2: Go panicked
 * (reported), i.e. returned nil without an error. */
static int parse_authorization(br_conf_diag *d, const nx_conf_value *v, auth_block *b) {
    pcx c = {.d = d, .lt = v};
    if (!assert_type(&c, v, NX_CONF_MAP)) return -2;
    NX_CONF_MAP_FOREACH(v, e) {
        const nx_conf_value *ev = e->value;
        c.lt = ev;
        if (KEY(e->key, "user", "username")) {
            if (!get_str(&c, ev, &b->user) && c.panicked) return -2;
        } else if (KEY(e->key, "pass", "password")) {
            if (!get_str(&c, ev, &b->pass) && c.panicked) return -2;
        } else if (KEY(e->key, "token")) {
            if (!get_str(&c, ev, &b->token) && c.panicked) return -2;
        } else if (KEY(e->key, "timeout")) {
            double at;
            char val[512];
            if (ev->type == NX_CONF_INT) {
                at = (double)ev->u.i;
            } else if (ev->type == NX_CONF_FLOAT) {
                at = ev->u.f;
            } else if (ev->type == NX_CONF_STRING) {
                int64_t ns;
                if (nx_parse_duration(ev->u.s.ptr, &ns) < 0) {
                    char why[1024];
                    duration_error(why, sizeof why, ev->u.s.ptr);
                    add_err(d, ev, "error parsing authorization config, 'timeout' %s", why);
                    return -1;
                }
                at = (double)(ns / 1000000000) + (double)(ns % 1000000000) / 1e9;
            } else {
                add_err(d, ev, "error parsing authorization config, 'timeout' wrong type");
                return -1;
            }
            if (at > 60) {
                char reason[900];
                go_value(val, sizeof val, ev, 0);
                snprintf(reason, sizeof reason,
                         "timeout of %s (%f seconds) is high, consider keeping it under 60 "
                         "seconds. possibly caused by unquoted duration; use '1m' instead of 1m, "
                         "for example",
                         val, at);
                add_warn(d, ev, e->key, reason);
            }
            b->timeout = at;
        } else if (KEY(e->key, "users")) {
            users_out u;
            int rc = parse_users(d, ev, &u);
            if (rc == -1) continue;
            users_out_free(&b->u);
            b->u = u; /* -2: Go assigns the nil results of the recovered panic */
            b->users_set = rc == 0;
        } else if (KEY(e->key, "default_permission", "default_permissions", "permissions")) {
            br_permissions *p = user_permissions(d, ev);
            if (!p) continue;
            br_permissions_free(b->defaults);
            b->defaults = p;
        } else if (KEY(e->key, "auth_callout", "auth_hook")) {
            add_err(d, ev,
                    "authorization option \"%s\" (auth callout) is not supported by this "
                    "server",
                    e->key);
        } else if (KEY(e->key, "proxy_required")) {
            if (!assert_type(&c, ev, NX_CONF_BOOL)) return -2;
            b->proxy_required = ev->u.b;
        } else {
            unknown_field(&c, ev, e->key);
        }
    }
    /* Go applyDefaultPermissions (Go shares one pointer; copies behave the same). */
    if (b->defaults) {
        for (size_t i = 0; i < b->u.nusers; i++)
            if (!b->u.users[i].perms) b->u.users[i].perms = br_permissions_clone(b->defaults);
        for (size_t i = 0; i < b->u.nnkeys; i++)
            if (!b->u.nkeys[i].perms) b->u.nkeys[i].perms = br_permissions_clone(b->defaults);
    }
    return 0;
}

static bool name_taken(const br_auth_opts *o, const char *n) {
    for (size_t i = 0; i < o->nusers; i++)
        if (!strcmp(o->users[i].username, n)) return true;
    for (size_t i = 0; i < o->nnkeys; i++)
        if (!strcmp(o->nkeys[i].nkey, n)) return true;
    return false;
}

/* Go processConfigFileLine, case "authorization". */
static void apply_authorization(br_auth_opts *o, const nx_conf_value *v, br_conf_diag *d) {
    auth_block b = {0};
    int rc = parse_authorization(d, v, &b);
    if (rc == -2) /* Go dereferences the nil result at the block's token */
        add_err(d, v, "runtime error: invalid memory address or nil pointer dereference");
    if (rc < 0) {
        auth_block_free(&b);
        return;
    }
    o->auth_block = true;
    free(o->username);
    free(o->password);
    free(o->token);
    o->username = b.user, b.user = NULL;
    o->password = b.pass, b.pass = NULL;
    o->token = b.token, b.token = NULL;
    o->proxy_required = b.proxy_required;
    o->timeout_s = b.timeout;
    bool user_or_pass = (o->username && *o->username) || (o->password && *o->password);
    bool token = o->token && *o->token;
    if (user_or_pass && token) {
        add_err(d, v, "Cannot have a user/pass and token");
        goto out;
    }
    if (b.users_set || o->nusers || o->nnkeys) {
        if (o->username && *o->username) {
            add_err(d, v, "Can not have a single user/pass and a users array");
            goto out;
        }
        if (token) {
            add_err(d, v, "Can not have a token and a users array");
            goto out;
        }
        for (size_t i = 0; i < b.u.nusers; i++) {
            char q[600];
            const char *n = b.u.users[i].username;
            bool dup = name_taken(o, n);
            if (!dup)
                br_auth_opts_add_user(o, n, b.u.users[i].password, b.u.users[i].perms);
            else {
                br_go_quote(q, sizeof q, n, strlen(n));
                add_err(d, v, "Duplicate user %s detected", q);
                goto out;
            }
            o->users[o->nusers - 1].conn_types = b.u.users[i].conn_types;
            o->users[o->nusers - 1].proxy_required = b.u.users[i].proxy_required;
        }
    }
    for (size_t i = 0; i < b.u.nnkeys; i++) {
        const char *n = b.u.nkeys[i].nkey;
        if (name_taken(o, n)) {
            char q[600];
            br_go_quote(q, sizeof q, n, strlen(n));
            add_err(d, v, "Duplicate nkey %s detected", q);
            goto out;
        }
        br_auth_opts_add_nkey(o, n, b.u.nkeys[i].perms);
        o->nkeys[o->nnkeys - 1].conn_types = b.u.nkeys[i].conn_types;
        o->nkeys[o->nnkeys - 1].proxy_required = b.u.nkeys[i].proxy_required;
    }
out:
    auth_block_free(&b);
}

bool br_auth_conf_apply(br_auth_opts *o, const char *key, const nx_conf_value *v, br_conf_diag *d) {
    if (!strcasecmp(key, "authorization")) {
        apply_authorization(o, v, d);
        return true;
    }
    if (!strcasecmp(key, "no_auth_user")) {
        pcx c = {.d = d, .lt = v};
        get_str(&c, v, &o->no_auth_user);
        return true;
    }
    return false;
}

int br_auth_conf_load(br_auth_opts *o, const nx_conf_value *root, br_conf_diag *d) {
    if (!root || root->type != NX_CONF_MAP) return d->nerrors;
    NX_CONF_MAP_FOREACH(root, e) {
        br_auth_conf_apply(o, e->key, e->value, d);
    }
    return d->nerrors;
}

/* ---- shared with account_conf.c --------------------------------------------------------- */

int br_auth_conf_parse_users(br_conf_diag *d, const nx_conf_value *v, br_user **users,
                             size_t *nusers, br_nkey_user **nkeys, size_t *nnkeys) {
    users_out u;
    int rc = parse_users(d, v, &u);
    *users = u.users;
    *nusers = u.nusers;
    *nkeys = u.nkeys;
    *nnkeys = u.nnkeys;
    return rc;
}

br_permissions *br_auth_conf_permissions(br_conf_diag *d, const nx_conf_value *v) {
    return user_permissions(d, v);
}

void br_conf_error(br_conf_diag *d, const nx_conf_value *at, const char *fmt, ...) {
    char reason[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    add_err(d, at, "%s", reason);
}

void br_conf_warning(br_conf_diag *d, const nx_conf_value *at, const char *reason) {
    char line[2600];
    int n = pos_prefix(line, sizeof line, at);
    snprintf(line + n, sizeof line - (size_t)n, "%s", reason);
    append(&d->warnings, &d->warnings_len, line);
    d->nwarnings++;
}

const char *br_conf_go_type(const nx_conf_value *v) {
    return go_type(v);
}
