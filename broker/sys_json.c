/* Go encoding/json behaviour for the system account's request options.
 *
 * Ports the parts of Go's encoding/json (scanner.go checkValid error texts, decode.go
 * UnmarshalTypeError texts, case-insensitive field matching, null leaving a field alone) that
 * nats-server v2.14.5 server/events.go zReq shows its callers: a request body is decoded into
 * <Endpoint>EventOptions (the monitoring options plus EventFilterOptions) and a failure is
 * answered with {"error":{"code":400,"description":<err.Error()>}}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/sys_requests.h"

/* ---- json.Valid / checkValid error texts ---------------------------------------------------- */

typedef struct scan {
    const char *p;
    size_t n, i;
    char *err;
    size_t cap;
    bool failed;
} scan;

/* Go quoteChar: the character as strconv.Quote shows it, in single quotes. */
static void quote_char(unsigned char c, char *out, size_t cap) {
    if (c == '\'')
        snprintf(out, cap, "'\\''");
    else if (c == '"')
        snprintf(out, cap, "'\"'");
    else if (c == '\\')
        snprintf(out, cap, "'\\\\'");
    else if (c == '\n')
        snprintf(out, cap, "'\\n'");
    else if (c == '\r')
        snprintf(out, cap, "'\\r'");
    else if (c == '\t')
        snprintf(out, cap, "'\\t'");
    else if (c == '\a')
        snprintf(out, cap, "'\\a'");
    else if (c == '\b')
        snprintf(out, cap, "'\\b'");
    else if (c == '\f')
        snprintf(out, cap, "'\\f'");
    else if (c == '\v')
        snprintf(out, cap, "'\\v'");
    else if (c < 0x20 || c == 0x7f)
        snprintf(out, cap, "'\\x%02x'", c);
    else if (c < 0x80)
        snprintf(out, cap, "'%c'", c);
    else if (c < 0xa0 || c == 0xad)
        snprintf(out, cap, "'\\u%04x'", c);
    else
        snprintf(out, cap, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f)); /* string(rune(c)) */
}

static void fail(scan *s, const char *context) {
    if (s->failed) return;
    s->failed = true;
    if (s->i >= s->n) {
        snprintf(s->err, s->cap, "unexpected end of JSON input");
        return;
    }
    char q[16];
    quote_char((unsigned char)s->p[s->i], q, sizeof q);
    snprintf(s->err, s->cap, "invalid character %s %s", q, context);
}

static void skip_ws(scan *s) {
    while (s->i < s->n &&
           (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\r' || s->p[s->i] == '\n'))
        s->i++;
}

static bool at_end(scan *s) {
    if (s->i < s->n) return false;
    fail(s, "");
    return true;
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static void scan_value(scan *s, int depth);

static void scan_string(scan *s) {
    s->i++; /* the opening quote */
    for (;;) {
        if (at_end(s)) return;
        unsigned char c = (unsigned char)s->p[s->i];
        if (c == '"') {
            s->i++;
            return;
        }
        if (c < 0x20) return fail(s, "in string literal");
        s->i++;
        if (c != '\\') continue;
        if (at_end(s)) return;
        c = (unsigned char)s->p[s->i];
        if (c == 'u') {
            s->i++;
            for (int k = 0; k < 4; k++) {
                if (at_end(s)) return;
                char h = s->p[s->i];
                if (!is_digit(h) && !((h | 0x20) >= 'a' && (h | 0x20) <= 'f'))
                    return fail(s, "in \\u hexadecimal character escape");
                s->i++;
            }
        } else if (strchr("\"\\/bfnrt", c) && c) {
            s->i++;
        } else {
            return fail(s, "in string escape code");
        }
    }
}

static void scan_digits(scan *s) {
    while (s->i < s->n && is_digit(s->p[s->i]))
        s->i++;
}

static void scan_number(scan *s) {
    if (s->p[s->i] == '-') {
        s->i++;
        if (at_end(s)) return;
        if (!is_digit(s->p[s->i])) return fail(s, "in numeric literal");
    }
    if (s->p[s->i] == '0')
        s->i++;
    else
        scan_digits(s);
    if (s->i < s->n && s->p[s->i] == '.') {
        s->i++;
        if (at_end(s)) return;
        if (!is_digit(s->p[s->i])) return fail(s, "after decimal point in numeric literal");
        scan_digits(s);
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (at_end(s)) return;
        if (s->p[s->i] == '+' || s->p[s->i] == '-') s->i++;
        if (at_end(s)) return;
        if (!is_digit(s->p[s->i])) return fail(s, "in exponent of numeric literal");
        scan_digits(s);
    }
}

static void scan_literal(scan *s, const char *word) {
    s->i++;
    for (const char *w = word + 1; *w; w++) {
        if (at_end(s)) return;
        if (s->p[s->i] != *w) {
            char ctx[64];
            snprintf(ctx, sizeof ctx, "in literal %s (expecting '%c')", word, *w);
            return fail(s, ctx);
        }
        s->i++;
    }
}

static void scan_object(scan *s, int depth) {
    s->i++;
    skip_ws(s);
    if (at_end(s)) return;
    if (s->p[s->i] == '}') {
        s->i++;
        return;
    }
    for (;;) {
        if (s->p[s->i] != '"') return fail(s, "looking for beginning of object key string");
        scan_string(s);
        if (s->failed) return;
        skip_ws(s);
        if (at_end(s)) return;
        if (s->p[s->i] != ':') return fail(s, "after object key");
        s->i++;
        scan_value(s, depth + 1);
        if (s->failed) return;
        skip_ws(s);
        if (at_end(s)) return;
        if (s->p[s->i] == '}') {
            s->i++;
            return;
        }
        if (s->p[s->i] != ',') return fail(s, "after object key:value pair");
        s->i++;
        skip_ws(s);
        if (at_end(s)) return;
    }
}

static void scan_array(scan *s, int depth) {
    s->i++;
    skip_ws(s);
    if (at_end(s)) return;
    if (s->p[s->i] == ']') {
        s->i++;
        return;
    }
    for (;;) {
        scan_value(s, depth + 1);
        if (s->failed) return;
        skip_ws(s);
        if (at_end(s)) return;
        if (s->p[s->i] == ']') {
            s->i++;
            return;
        }
        if (s->p[s->i] != ',') return fail(s, "after array element");
        s->i++;
    }
}

static void scan_value(scan *s, int depth) {
    skip_ws(s);
    if (at_end(s)) return;
    if (depth > 10000) { /* Go: maxNestingDepth */
        snprintf(s->err, s->cap, "exceeded max depth");
        s->failed = true;
        return;
    }
    char c = s->p[s->i];
    if (c == '{')
        scan_object(s, depth);
    else if (c == '[')
        scan_array(s, depth);
    else if (c == '"')
        scan_string(s);
    else if (c == '-' || is_digit(c))
        scan_number(s);
    else if (c == 't')
        scan_literal(s, "true");
    else if (c == 'f')
        scan_literal(s, "false");
    else if (c == 'n')
        scan_literal(s, "null");
    else
        fail(s, "looking for beginning of value");
}

void sys_json_syntax_error(const char *p, size_t n, char *err, size_t cap) {
    scan s = {.p = p, .n = n, .err = err, .cap = cap};
    err[0] = '\0';
    scan_value(&s, 0);
    if (s.failed) return;
    skip_ws(&s);
    if (s.i < s.n) fail(&s, "after top-level value");
}

/* ---- compact text helpers ------------------------------------------------------------------ */

size_t sys_json_compact(char *p, size_t n) {
    size_t o = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_str = true;
        }
        p[o++] = c;
    }
    if (o < n) p[o] = '\0';
    return o;
}

/* The end of the value starting at i (compact text). */
static size_t value_end(const char *p, size_t n, size_t i) {
    int depth = 0;
    bool in_str = false, esc = false;
    for (; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"') {
                in_str = false;
                if (depth == 0) return i + 1;
            }
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0) return i; /* the end of the enclosing container */
            if (--depth == 0) return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
    }
    return n;
}

bool sys_json_member(const char *p, size_t n, const char *key, size_t *off, size_t *len) {
    if (n < 2 || p[0] != '{') return false;
    size_t kl = strlen(key), i = 1;
    while (i < n && p[i] == '"') {
        size_t k = value_end(p, n, i); /* the key string */
        bool match = k - i == kl + 2 && memcmp(p + i + 1, key, kl) == 0;
        if (k >= n || p[k] != ':') return false;
        size_t v = k + 1, e = value_end(p, n, v);
        if (match) {
            *off = v;
            *len = e - v;
            return true;
        }
        if (e >= n || p[e] != ',') return false;
        i = e + 1;
    }
    return false;
}

/* ---- decoding into the options structs ----------------------------------------------------- */

static const sys_opt_field filter_fields[] = {
    {"server_name", SYS_OT_STRING, NULL},
    {"cluster", SYS_OT_STRING, NULL},
    {"host", SYS_OT_STRING, NULL},
    {"exact_match", SYS_OT_BOOL, NULL},
    {"tags", SYS_OT_STRLIST, NULL},
    {"domain", SYS_OT_STRING, NULL},
    {NULL, 0, NULL},
};

static const char *kind_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

static const char *go_type(sys_opt_type t) {
    switch (t) {
    case SYS_OT_BOOL:
        return "bool";
    case SYS_OT_INT:
        return "int";
    case SYS_OT_UINT64:
        return "uint64";
    case SYS_OT_STRING:
        return "string";
    case SYS_OT_SORT:
        return "server.SortOpt";
    case SYS_OT_STATE:
        return "server.ConnState";
    default:
        return "[]string";
    }
}

static void type_error(char *err, size_t cap, const char *value, const char *st, const char *field,
                       const char *type) {
    snprintf(err, cap, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", value, st,
             field, type);
}

static void number_text(const json_t *v, char *out, size_t cap) {
    if (json_is_integer(v))
        snprintf(out, cap, "number %" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(out, cap, "number %.17g", json_real_value(v));
}

/* One member: checks the type as Go would and records it.  False with err set on mismatch. */
static bool set_field(const sys_opt_field *f, json_t *v, const char *st, json_t *args,
                      sys_filter *flt, char *err, size_t cap) {
    char num[64], val[64];
    const char *param = f->param;
    switch (f->type) {
    case SYS_OT_BOOL:
        if (!json_is_boolean(v)) break;
        if (flt && !strcmp(f->json, "exact_match")) flt->exact = json_is_true(v);
        if (param)
            json_object_set_new(args, param, json_string(json_is_true(v) ? "true" : "false"));
        return true;
    case SYS_OT_INT:
    case SYS_OT_UINT64:
    case SYS_OT_STATE:
        if (!json_is_number(v)) break;
        if (!json_is_integer(v) || (f->type == SYS_OT_UINT64 && json_integer_value(v) < 0)) {
            number_text(v, num, sizeof num);
            type_error(err, cap, num, st, f->json, go_type(f->type));
            return false;
        }
        if (f->type == SYS_OT_STATE) {
            json_int_t s = json_integer_value(v);
            snprintf(val, sizeof val, "%s", s == 1 ? "closed" : s == 2 ? "any" : "open");
        } else {
            snprintf(val, sizeof val, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        }
        if (param) json_object_set_new(args, param, json_string(val));
        return true;
    case SYS_OT_STRING:
    case SYS_OT_SORT:
        if (!json_is_string(v)) break;
        if (flt) {
            char **dst = !strcmp(f->json, "server_name") ? &flt->name
                         : !strcmp(f->json, "cluster")   ? &flt->cluster
                         : !strcmp(f->json, "host")      ? &flt->host
                                                         : &flt->domain;
            free(*dst);
            *dst = strdup(json_string_value(v));
        }
        if (param) json_object_set(args, param, v);
        return true;
    case SYS_OT_STRLIST: {
        if (!json_is_array(v)) break;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (json_is_null(e)) continue;
            if (!json_is_string(e)) {
                type_error(err, cap, kind_name(e), st, f->json, "string");
                return false;
            }
        }
        if (flt) flt->ntags = json_array_size(v);
        if (param) json_object_set(args, param, v);
        return true;
    }
    }
    type_error(err, cap, kind_name(v), st, f->json, go_type(f->type));
    return false;
}

static const sys_opt_field *find_field(const sys_opt_field *fields, const char *key) {
    for (const sys_opt_field *f = fields; f && f->json; f++)
        if (!strcasecmp(f->json, key)) return f; /* Go: exact, else case-insensitive */
    return NULL;
}

int sys_decode_opts(const char *body, size_t len, const char *struct_name,
                    const sys_opt_field *fields, json_t **args, sys_filter *flt, char *err,
                    size_t cap) {
    *args = json_object();
    memset(flt, 0, sizeof *flt);
    err[0] = '\0';
    if (len == 0) return 0;
    sys_json_syntax_error(body, len, err, cap);
    if (err[0]) return -1;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!root) { /* valid for Go, beyond jansson (an integer past int64) */
        snprintf(err, cap, "json: cannot unmarshal number into Go value of type server.%s",
                 struct_name);
        return -1;
    }
    int rc = 0;
    if (json_is_null(root)) {
        /* Go: null leaves the struct alone */
    } else if (!json_is_object(root)) {
        snprintf(err, cap, "json: cannot unmarshal %s into Go value of type server.%s",
                 kind_name(root), struct_name);
        rc = -1;
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v) {
            const sys_opt_field *f = find_field(fields, key);
            bool is_filter = false;
            if (!f) f = find_field(filter_fields, key), is_filter = true;
            if (!f || json_is_null(v)) continue;
            if (!set_field(f, v, struct_name, *args, is_filter ? flt : NULL, err, cap)) {
                rc = -1;
                break;
            }
        }
    }
    json_decref(root);
    return rc;
}

void sys_filter_free(sys_filter *f) {
    free(f->name);
    free(f->cluster);
    free(f->host);
    free(f->domain);
    memset(f, 0, sizeof *f);
}

bool sys_filter_skips(const sys_filter *f, const char *name, const char *host, const char *cluster,
                      const char *domain) {
    bool out;
    if (f->exact)
        out = (f->name && f->name[0] && strcmp(f->name, name) != 0) ||
              (f->host && f->host[0] && strcmp(f->host, host) != 0) ||
              (f->cluster && f->cluster[0] && strcmp(f->cluster, cluster) != 0);
    else
        out = (f->name && f->name[0] && !strstr(name, f->name)) ||
              (f->host && f->host[0] && !strstr(host, f->host)) ||
              (f->cluster && f->cluster[0] && !strstr(cluster, f->cluster));
    if (f->ntags) out = true; /* no server tags here: none can match */
    if (f->domain && f->domain[0] && strcmp(f->domain, domain) != 0) out = true;
    return out;
}

void sys_req_addr_name(const char *server_id, char *out, size_t cap) {
    snprintf(out, cap, "nats-server-sysreq/%s", server_id);
}
