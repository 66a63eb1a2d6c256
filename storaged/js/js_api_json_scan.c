/* Go's JSON syntax errors, for request bodies: a port of the state machine of Go's
 * encoding/json/scanner.go as json.Decoder drives it (stream.go readValue), so malformed
 * requests get Go's exact texts: "invalid character 'x' looking for beginning of value",
 * "... after object key:value pair", "... in literal true (expecting 'r')", "unexpected EOF".
 * Offsets count bytes from the start of the body, 1-based at the offending byte, as the
 * decoder's cumulative scanner count does (Go nats-server appends " at offset N").
 */
#include <stdio.h>
#include <string.h>

#include "storaged/js/js_api_json.h"

enum { SC_CONT, SC_BEGIN_OBJ, SC_END_OBJ, SC_END_ARR, SC_END, SC_ERR };
enum { PS_OBJ_KEY, PS_OBJ_VAL, PS_ARR_VAL };

typedef struct scanner scanner;
typedef int (*step_fn)(scanner *s, unsigned char c);

struct scanner {
    step_fn step;
    unsigned char ps[10000]; /* Go maxNestingDepth */
    size_t depth;
    bool end_top;
    bool err;
    char msg[160];
};

static bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int st_begin_value(scanner *s, unsigned char c);
static int st_end_value(scanner *s, unsigned char c);
static int st_begin_string(scanner *s, unsigned char c);
static int st_in_string(scanner *s, unsigned char c);
static int st_0(scanner *s, unsigned char c);
static int st_1(scanner *s, unsigned char c);
static int st_esign(scanner *s, unsigned char c);

static int fail(scanner *s, unsigned char c, const char *ctx) {
    char q[16];
    if (c == '\'') snprintf(q, sizeof q, "'\\''");
    else if (c == '"') snprintf(q, sizeof q, "'\"'");
    else if (c == '\n') snprintf(q, sizeof q, "'\\n'");
    else if (c == '\r') snprintf(q, sizeof q, "'\\r'");
    else if (c == '\t') snprintf(q, sizeof q, "'\\t'");
    else if (c < 0x20 || c == 0x7f) snprintf(q, sizeof q, "'\\x%02x'", c);
    else if (c >= 0x80 && (c < 0xa1 || c == 0xad)) snprintf(q, sizeof q, "'\\u%04x'", c);
    else if (c >= 0x80) snprintf(q, sizeof q, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else snprintf(q, sizeof q, "'%c'", c);
    snprintf(s->msg, sizeof s->msg, "invalid character %s %s", q, ctx);
    s->err = true;
    return SC_ERR;
}

static int st_end_top(scanner *s, unsigned char c) {
    (void)s;
    (void)c;
    return SC_END; /* a following non-space is reported by the next value's scan */
}

static int push(scanner *s, unsigned char p) {
    if (s->depth >= sizeof s->ps) {
        snprintf(s->msg, sizeof s->msg, "exceeded max depth");
        s->err = true;
        return SC_ERR;
    }
    s->ps[s->depth++] = p;
    return SC_CONT;
}

static int pop(scanner *s) {
    s->depth--;
    if (s->depth == 0) {
        s->step = st_end_top;
        s->end_top = true;
    } else {
        s->step = st_end_value;
    }
    return SC_CONT;
}

static int st_begin_value_or_empty(scanner *s, unsigned char c) {
    if (is_space(c)) return SC_CONT;
    if (c == ']') return st_end_value(s, c);
    return st_begin_value(s, c);
}

static int st_begin_string_or_empty(scanner *s, unsigned char c) {
    if (is_space(c)) return SC_CONT;
    if (c == '}') {
        s->ps[s->depth - 1] = PS_OBJ_VAL;
        return st_end_value(s, c);
    }
    return st_begin_string(s, c);
}

static int st_begin_string(scanner *s, unsigned char c) {
    if (is_space(c)) return SC_CONT;
    if (c == '"') {
        s->step = st_in_string;
        return SC_CONT;
    }
    return fail(s, c, "looking for beginning of object key string");
}

#define LIT(name, want, next, ctx)                                                             \
    static int name(scanner *s, unsigned char c) {                                             \
        if (c == want) {                                                                       \
            s->step = next;                                                                    \
            return SC_CONT;                                                                    \
        }                                                                                      \
        return fail(s, c, ctx);                                                                \
    }
LIT(st_tru, 'e', st_end_value, "in literal true (expecting 'e')")
LIT(st_tr, 'u', st_tru, "in literal true (expecting 'u')")
LIT(st_t, 'r', st_tr, "in literal true (expecting 'r')")
LIT(st_fals, 'e', st_end_value, "in literal false (expecting 'e')")
LIT(st_fal, 's', st_fals, "in literal false (expecting 's')")
LIT(st_fa, 'l', st_fal, "in literal false (expecting 'l')")
LIT(st_f, 'a', st_fa, "in literal false (expecting 'a')")
LIT(st_nul, 'l', st_end_value, "in literal null (expecting 'l')")
LIT(st_nu, 'l', st_nul, "in literal null (expecting 'l')")
LIT(st_n, 'u', st_nu, "in literal null (expecting 'u')")

static bool is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#define HEX(name, next)                                                                        \
    static int name(scanner *s, unsigned char c) {                                             \
        if (is_hex(c)) {                                                                       \
            s->step = next;                                                                    \
            return SC_CONT;                                                                    \
        }                                                                                      \
        return fail(s, c, "in \\u hexadecimal character escape");                             \
    }
HEX(st_esc_u123, st_in_string)
HEX(st_esc_u12, st_esc_u123)
HEX(st_esc_u1, st_esc_u12)
HEX(st_esc_u, st_esc_u1)

static int st_in_string_esc(scanner *s, unsigned char c) {
    if (strchr("bfnrt\\/\"", c) && c) {
        s->step = st_in_string;
        return SC_CONT;
    }
    if (c == 'u') {
        s->step = st_esc_u;
        return SC_CONT;
    }
    return fail(s, c, "in string escape code");
}

static int st_in_string(scanner *s, unsigned char c) {
    if (c == '"') {
        s->step = st_end_value;
        return SC_CONT;
    }
    if (c == '\\') {
        s->step = st_in_string_esc;
        return SC_CONT;
    }
    if (c < 0x20) return fail(s, c, "in string literal");
    return SC_CONT;
}

static int st_e0(scanner *s, unsigned char c) {
    if (c >= '0' && c <= '9') return SC_CONT;
    return st_end_value(s, c);
}

static int st_esign(scanner *s, unsigned char c) {
    if (c >= '0' && c <= '9') {
        s->step = st_e0;
        return SC_CONT;
    }
    return fail(s, c, "in exponent of numeric literal");
}

static int st_e(scanner *s, unsigned char c) {
    if (c == '+' || c == '-') {
        s->step = st_esign;
        return SC_CONT;
    }
    return st_esign(s, c);
}

static int st_dot0(scanner *s, unsigned char c) {
    if (c >= '0' && c <= '9') return SC_CONT;
    if (c == 'e' || c == 'E') {
        s->step = st_e;
        return SC_CONT;
    }
    return st_end_value(s, c);
}

static int st_dot(scanner *s, unsigned char c) {
    if (c >= '0' && c <= '9') {
        s->step = st_dot0;
        return SC_CONT;
    }
    return fail(s, c, "after decimal point in numeric literal");
}

static int st_0(scanner *s, unsigned char c) {
    if (c == '.') {
        s->step = st_dot;
        return SC_CONT;
    }
    if (c == 'e' || c == 'E') {
        s->step = st_e;
        return SC_CONT;
    }
    return st_end_value(s, c);
}

static int st_1(scanner *s, unsigned char c) {
    if (c >= '0' && c <= '9') return SC_CONT;
    return st_0(s, c);
}

static int st_neg(scanner *s, unsigned char c) {
    if (c == '0') {
        s->step = st_0;
        return SC_CONT;
    }
    if (c >= '1' && c <= '9') {
        s->step = st_1;
        return SC_CONT;
    }
    return fail(s, c, "in numeric literal");
}

static int st_begin_value(scanner *s, unsigned char c) {
    if (is_space(c)) return SC_CONT;
    switch (c) {
    case '{':
        s->step = st_begin_string_or_empty;
        return push(s, PS_OBJ_KEY) == SC_ERR ? SC_ERR : SC_BEGIN_OBJ;
    case '[':
        s->step = st_begin_value_or_empty;
        return push(s, PS_ARR_VAL);
    case '"': s->step = st_in_string; return SC_CONT;
    case '-': s->step = st_neg; return SC_CONT;
    case '0': s->step = st_0; return SC_CONT;
    case 't': s->step = st_t; return SC_CONT;
    case 'f': s->step = st_f; return SC_CONT;
    case 'n': s->step = st_n; return SC_CONT;
    }
    if (c >= '1' && c <= '9') {
        s->step = st_1;
        return SC_CONT;
    }
    return fail(s, c, "looking for beginning of value");
}

static int st_end_value(scanner *s, unsigned char c) {
    if (s->depth == 0) {
        s->step = st_end_top;
        s->end_top = true;
        return st_end_top(s, c);
    }
    if (is_space(c)) {
        s->step = st_end_value;
        return SC_CONT;
    }
    switch (s->ps[s->depth - 1]) {
    case PS_OBJ_KEY:
        if (c == ':') {
            s->ps[s->depth - 1] = PS_OBJ_VAL;
            s->step = st_begin_value;
            return SC_CONT;
        }
        return fail(s, c, "after object key");
    case PS_OBJ_VAL:
        if (c == ',') {
            s->ps[s->depth - 1] = PS_OBJ_KEY;
            s->step = st_begin_string;
            return SC_CONT;
        }
        if (c == '}') {
            pop(s);
            return SC_END_OBJ;
        }
        return fail(s, c, "after object key:value pair");
    default:
        if (c == ',') {
            s->step = st_begin_value;
            return SC_CONT;
        }
        if (c == ']') {
            pop(s);
            return SC_END_ARR;
        }
        return fail(s, c, "after array element");
    }
}

/* One json.Decoder.readValue from *pos: 1 with [*start, *pos) the value, 0 at a clean EOF,
 * -1 with Go's error text. */
int js_json_scan_value(const uint8_t *d, size_t len, size_t *pos, size_t *start, char *err,
                       size_t errlen) {
    scanner s = {.step = st_begin_value};
    size_t i = *pos;
    bool nonspace = false;
    *start = i;
    for (; i < len; i++) {
        unsigned char c = d[i];
        if (!is_space(c) && !nonspace) {
            nonspace = true;
            *start = i;
        }
        int r = s.step(&s, c);
        if (r == SC_END) { /* delayed one byte: c belongs to the next value */
            *pos = i;
            return 1;
        }
        if (r == SC_END_OBJ || r == SC_END_ARR) {
            if (st_end_value(&s, ' ') == SC_END) {
                *pos = i + 1;
                return 1;
            }
        }
        if (r == SC_ERR) {
            snprintf(err, errlen, "%s at offset %zu", s.msg, i + 1);
            return -1;
        }
    }
    if (s.step(&s, ' ') == SC_END) {
        *pos = len;
        return 1;
    }
    if (nonspace) {
        snprintf(err, errlen, "unexpected EOF");
        return -1;
    }
    *pos = len;
    return 0;
}
