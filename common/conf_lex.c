/* Lexer for the NATS configuration format: port of nats-server v2.14.5 conf/lex.go.
 *
 * Go's lexer is a Rob Pike style state machine: each state consumes runes and returns the next
 * state; a stack of states says where to go after a value or comment.  This file keeps that
 * shape (one C function per Go state, an enum instead of func values) because the format has
 * many quirks that only a faithful port reproduces: positions computed from the line start as
 * Go tracks it, a NUL byte read as EOF, ')' ending a block only on a line of its own, numbers
 * that turn into strings, and so on.  Go's lexSkip(lx, s) returns a closure that calls
 * ignore() and goes to s; nothing runs between, so here skip() ignores at once.
 */
#include "common/conf_lex.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every state: its enum value and its function (Go's lexXxx).  S_NONE is Go's nil state. */
// clang-format off
#define NX_LEX_STATES(X) \
    X(S_TOP, lex_top) X(S_TOP_VALUE_END, lex_top_value_end) X(S_BLOCK_START, lex_block_start) \
    X(S_BLOCK_VALUE_END, lex_block_value_end) X(S_BLOCK_END, lex_block_end) \
    X(S_KEY_START, lex_key_start) X(S_DUB_QUOTED_KEY, lex_dub_quoted_key) \
    X(S_QUOTED_KEY, lex_squoted_key) X(S_INCLUDE_START, lex_include_start) \
    X(S_INCLUDE_QUOTED, lex_include_squoted) X(S_INCLUDE_DUB_QUOTED, lex_include_dquoted) \
    X(S_INCLUDE_STRING, lex_include_string) X(S_INCLUDE, lex_include) X(S_KEY, lex_key) \
    X(S_KEY_END, lex_key_end) X(S_VALUE, lex_value) X(S_ARRAY_VALUE, lex_array_value) \
    X(S_ARRAY_VALUE_END, lex_array_value_end) X(S_ARRAY_END, lex_array_end) \
    X(S_MAP_KEY_START, lex_map_key_start) X(S_MAP_QUOTED_KEY, lex_map_squoted_key) \
    X(S_MAP_DUB_QUOTED_KEY, lex_map_dquoted_key) X(S_MAP_KEY, lex_map_key) \
    X(S_MAP_KEY_END, lex_map_key_end) X(S_MAP_VALUE, lex_map_value) \
    X(S_MAP_VALUE_END, lex_map_value_end) X(S_MAP_END, lex_map_end) \
    X(S_QUOTED_STRING, lex_squoted_string) X(S_DUB_QUOTED_STRING, lex_dquoted_string) \
    X(S_STRING, lex_string) X(S_BLOCK, lex_block) X(S_STRING_ESCAPE, lex_string_escape) \
    X(S_STRING_BINARY, lex_string_binary) X(S_NUM_START, lex_num_start) X(S_NUM, lex_num) \
    X(S_CONVENIENT_NUM, lex_convenient_num) X(S_DATE_AFTER_YEAR, lex_date_after_year) \
    X(S_NEG_NUM_START, lex_neg_num_start) X(S_NEG_NUM, lex_neg_num) \
    X(S_FLOAT_START, lex_float_start) X(S_FLOAT, lex_float) X(S_IP_ADDR, lex_ip_addr) \
    X(S_COMMENT_START, lex_comment_start) X(S_COMMENT, lex_comment)
// clang-format on

typedef struct nx_conf_lexer nx_conf_lexer;
#define NX_LEX_DECL(st, fn) static int fn(nx_conf_lexer *lx);
NX_LEX_STATES(NX_LEX_DECL)
#define NX_LEX_ENUM(st, fn) st,
enum { S_NONE = 0, NX_LEX_STATES(NX_LEX_ENUM) S_COUNT };

#define QCAP 4 /* each state emits at most one item, so the queue never holds more than one */

typedef struct {
    nx_conf_item_type type;
    char *buf;
    size_t len, cap;
    int line, pos;
} slot;

struct nx_conf_lexer {
    const char *in;
    size_t len;
    size_t start, pos, width;
    int line;
    size_t lstart;  /* offset of the '\n' that began the current line (Go's lstart) */
    size_t ilstart; /* lstart when the current item began (Go's ilstart) */
    int state;
    int *stack;
    size_t nstack, capstack;
    bool overflow, oom;
    /* Go's stringParts: decoded pieces of a string with escapes.  nparts counts pieces,
     * not bytes: an empty piece still marks the string as escaped, as in Go. */
    char *parts;
    size_t partslen, partscap, nparts;
    int string_state; /* Go's stringStateFn */
    slot q[QCAP];
    size_t qhead, qcount;
};

/* ---- Unicode helpers (Go's unicode and utf8 packages) ---- */

int nx_conf_decode_rune(const char *s, size_t n, int *width) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned char b = p[0];
    *width = 1;
    if (b < 0x80) return b;
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    int32_t r;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        r = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        r = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F; /* surrogates are invalid */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        r = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 0xFFFD;
    }
    if (n < (size_t)need + 1) return 0xFFFD;
    for (int i = 1; i <= need; i++) {
        unsigned char c = p[i];
        if (i == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return 0xFFFD;
        r = (r << 6) | (c & 0x3F);
    }
    *width = need + 1;
    return r;
}

int nx_conf_is_space(int r) {
    if (r <= 0xFF)
        return r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == ' ' ||
               r == 0x85 || r == 0xA0;
    return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
           r == 0x202F || r == 0x205F || r == 0x3000;
}

/* Unicode category Nd above Latin-1, Unicode 15.0 (Go 1.25's unicode.Digit). */
static const int32_t nd_ranges[][2] = {
    {0x660, 0x669},     {0x6F0, 0x6F9},     {0x7C0, 0x7C9},     {0x966, 0x96F},
    {0x9E6, 0x9EF},     {0xA66, 0xA6F},     {0xAE6, 0xAEF},     {0xB66, 0xB6F},
    {0xBE6, 0xBEF},     {0xC66, 0xC6F},     {0xCE6, 0xCEF},     {0xD66, 0xD6F},
    {0xDE6, 0xDEF},     {0xE50, 0xE59},     {0xED0, 0xED9},     {0xF20, 0xF29},
    {0x1040, 0x1049},   {0x1090, 0x1099},   {0x17E0, 0x17E9},   {0x1810, 0x1819},
    {0x1946, 0x194F},   {0x19D0, 0x19D9},   {0x1A80, 0x1A89},   {0x1A90, 0x1A99},
    {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},   {0x1C50, 0x1C59},
    {0xA620, 0xA629},   {0xA8D0, 0xA8D9},   {0xA900, 0xA909},   {0xA9D0, 0xA9D9},
    {0xA9F0, 0xA9F9},   {0xAA50, 0xAA59},   {0xABF0, 0xABF9},   {0xFF10, 0xFF19},
    {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F}, {0x110F0, 0x110F9},
    {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9}, {0x11450, 0x11459},
    {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9}, {0x11730, 0x11739},
    {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59}, {0x11D50, 0x11D59},
    {0x11DA0, 0x11DA9}, {0x11F50, 0x11F59}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E4F0, 0x1E4F9}, {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};

int nx_conf_is_digit(int r) {
    if (r <= 0xFF) return r >= '0' && r <= '9';
    for (size_t i = 0; i < sizeof nd_ranges / sizeof nd_ranges[0]; i++)
        if (r >= nd_ranges[i][0] && r <= nd_ranges[i][1]) return 1;
    return 0;
}

static bool is_ws(int r) {
    return r == '\t' || r == ' ';
}
static bool is_nl(int r) {
    return r == '\n' || r == '\r';
}
static bool is_keysep(int r) {
    return r == '=' || r == ':';
}
static bool is_num_suffix(int r) {
    return r > 0 && r < 0x80 && strchr("kKmMgGtTpPeE", r) != NULL;
}

/* ASCII-only case-insensitive compare (strncasecmp would follow the C locale). */
static bool ascii_ieq(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        if (x != y) return false;
    }
    return true;
}

/* ---- buffers and the item queue ---- */

static bool grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p) return false;
    *buf = p;
    *cap = n;
    return true;
}

static slot *new_slot(nx_conf_lexer *lx) {
    if (lx->qcount == QCAP) {
        lx->oom = true; /* cannot happen (one item per state); treat like an internal failure */
        return NULL;
    }
    slot *s = &lx->q[(lx->qhead + lx->qcount++) % QCAP];
    s->len = 0;
    return s;
}

/* Go's emit: the item value is the string parts plus input[start:pos]; parts are kept. */
static void emit_impl(nx_conf_lexer *lx, nx_conf_item_type t, bool clear_parts) {
    size_t rawlen = lx->pos - lx->start;
    size_t vlen = lx->partslen + rawlen;
    slot *s = new_slot(lx);
    if (!s) return;
    if (!grow(&s->buf, &s->cap, vlen + 1)) {
        lx->qcount--;
        lx->oom = true;
        return;
    }
    if (lx->partslen) memcpy(s->buf, lx->parts, lx->partslen);
    memcpy(s->buf + lx->partslen, lx->in + lx->start, rawlen);
    s->buf[vlen] = '\0';
    s->len = vlen;
    s->type = t;
    s->line = lx->line;
    s->pos = (int)((long long)lx->pos - (long long)lx->ilstart - (long long)vlen);
    if (clear_parts) lx->partslen = lx->nparts = 0;
    lx->start = lx->pos;
    lx->ilstart = lx->lstart;
}

static void emit(nx_conf_lexer *lx, nx_conf_item_type t) {
    emit_impl(lx, t, false);
}

/* Go's emitString: like emit but consumes the string parts. */
static void emit_string(nx_conf_lexer *lx) {
    emit_impl(lx, NX_CONF_ITEM_STRING, lx->nparts > 0);
}

static void add_part(nx_conf_lexer *lx, const char *p, size_t n) {
    if (!grow(&lx->parts, &lx->partscap, lx->partslen + n + 1)) {
        lx->oom = true;
        return;
    }
    memcpy(lx->parts + lx->partslen, p, n);
    lx->partslen += n;
    lx->nparts++;
    lx->start = lx->pos;
}

/* Go's addCurrentStringPart: keep input[start:pos-offset] as a part. */
static void add_current_part(nx_conf_lexer *lx, size_t offset) {
    add_part(lx, lx->in + lx->start, lx->pos - offset - lx->start);
}

/* Go's errorf: emits an error item whose pos is relative to the current line start. */
static int errorf(nx_conf_lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errorf(nx_conf_lexer *lx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    slot *s = new_slot(lx);
    if (!s) return S_NONE;
    if (n < 0 || !grow(&s->buf, &s->cap, (size_t)n + 1)) {
        lx->qcount--;
        lx->oom = true;
        return S_NONE;
    }
    va_start(ap, fmt);
    vsnprintf(s->buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len = (size_t)n;
    s->type = NX_CONF_ITEM_ERROR;
    s->line = lx->line;
    s->pos = (int)(lx->pos - lx->lstart);
    return S_NONE;
}

/* Go's escapeSpecial for a rune printed with %v: '\n' shows as \n, anything else as itself.
 * Go would print a NUL (its eof rune) raw; a C string cannot hold it, so it prints nothing. */
static const char *esc(int r, char buf[8]) {
    if (r == '\n') return "\\n";
    unsigned u = (unsigned)r, n = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (unsigned i = n; i-- > 1; u >>= 6)
        buf[i] = (char)(0x80 | (u & 0x3F));
    buf[0] = (char)(lead[n] | u);
    buf[n] = '\0';
    return buf;
}

/* ---- cursor (Go's next/backup/peek/ignore/push/pop) ---- */

static int nx(nx_conf_lexer *lx) {
    if (lx->pos >= lx->len) {
        lx->width = 0;
        return 0;
    }
    if (lx->in[lx->pos] == '\n') {
        lx->line++;
        lx->lstart = lx->pos;
    }
    int w;
    int r = nx_conf_decode_rune(lx->in + lx->pos, lx->len - lx->pos, &w);
    lx->width = (size_t)w;
    lx->pos += (size_t)w;
    return r;
}

/* Steps back one rune.  As in Go, the line count is restored but lstart is not. */
static void backup(nx_conf_lexer *lx) {
    lx->pos = lx->pos >= lx->width ? lx->pos - lx->width : 0;
    if (lx->pos < lx->len && lx->in[lx->pos] == '\n') lx->line--;
}

static int peek(nx_conf_lexer *lx) {
    int r = nx(lx);
    backup(lx);
    return r;
}

static void ignore(nx_conf_lexer *lx) {
    lx->start = lx->pos;
    lx->ilstart = lx->lstart;
}

static int skip(nx_conf_lexer *lx, int next) {
    ignore(lx);
    return next;
}

static void push(nx_conf_lexer *lx, int st) {
    if (lx->nstack == lx->capstack) {
        if (lx->capstack >= NX_CONF_LEX_MAX_STACK) {
            lx->overflow = true;
            return;
        }
        size_t n = lx->capstack ? lx->capstack * 2 : 16;
        int *p = realloc(lx->stack, n * sizeof *p);
        if (!p) {
            lx->oom = true;
            return;
        }
        lx->stack = p;
        lx->capstack = n;
    }
    lx->stack[lx->nstack++] = st;
}

static int pop(nx_conf_lexer *lx);

static int back(nx_conf_lexer *lx, int next) {
    backup(lx);
    return next;
}

static int take_skip(nx_conf_lexer *lx, int next) {
    nx(lx);
    return skip(lx, next);
}

static int take(nx_conf_lexer *lx, int next) {
    nx(lx);
    return next;
}

static int emit_to(nx_conf_lexer *lx, nx_conf_item_type t, int next) {
    emit(lx, t);
    return next;
}

/* Enter a string state, remembering it as Go's stringStateFn for after escapes. */
static int str_state(nx_conf_lexer *lx, int st) {
    lx->string_state = st;
    return st;
}

static int emit_pop(nx_conf_lexer *lx, nx_conf_item_type t) {
    emit(lx, t);
    return pop(lx);
}

static int back_emit_pop(nx_conf_lexer *lx, nx_conf_item_type t) {
    backup(lx);
    return emit_pop(lx, t);
}

/* push ret, continue in next: the usual way into a comment or a value. */
static int push_to(nx_conf_lexer *lx, int ret, int next) {
    push(lx, ret);
    return next;
}

static int pop(nx_conf_lexer *lx) {
    if (lx->nstack == 0) return errorf(lx, "BUG in lexer: no states to pop.");
    return lx->stack[--lx->nstack];
}

/* A closing quote was just read: emit what precedes it, drop the quote, return. */
static int emit_before_quote(nx_conf_lexer *lx, nx_conf_item_type t, bool as_string) {
    backup(lx);
    if (as_string)
        emit_string(lx);
    else
        emit(lx, t);
    nx(lx);
    ignore(lx);
    return pop(lx);
}

/* The shared tail of Go's "case eof:" in several states. */
static int at_eof(nx_conf_lexer *lx) {
    if (lx->pos > lx->start) return errorf(lx, "Unexpected EOF.");
    emit(lx, NX_CONF_ITEM_EOF);
    return S_NONE;
}

/* A "//" comment start: true (and the return state pushed) when the next rune is '/'. */
static bool slash_comment(nx_conf_lexer *lx, int ret) {
    if (nx(lx) == '/') {
        push(lx, ret);
        return true;
    }
    backup(lx);
    return false;
}

/* ---- states: top level and top-level '{' blocks ---- */

static int lex_top(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_TOP);
    switch (r) {
    case '{':
        push(lx, S_TOP);
        return skip(lx, S_BLOCK_START);
    case '#':
        return push_to(lx, S_TOP, S_COMMENT_START);
    case '/':
        if (slash_comment(lx, S_TOP)) return S_COMMENT_START;
        return at_eof(lx); /* Go falls through into the eof case */
    case 0:
        return at_eof(lx);
    }
    return back(lx, push_to(lx, S_TOP_VALUE_END, S_KEY_START));
}

static int lex_top_value_end(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (r == '#') return push_to(lx, S_TOP, S_COMMENT_START);
    if (r == '/') /* a lone '/' falls through to the whitespace case */
        return slash_comment(lx, S_TOP) ? S_COMMENT_START : S_TOP_VALUE_END;
    if (is_ws(r)) return S_TOP_VALUE_END;
    if (is_nl(r) || r == 0 || r == ';' || r == ',' || r == '}') return skip(lx, S_TOP);
    return errorf(lx,
                  "Expected a top-level value to end with a new line, comment or EOF, "
                  "but got '%s' instead.",
                  esc(r, b));
}

static int lex_block_start(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_BLOCK_START);
    switch (r) {
    case '{':
        push(lx, S_BLOCK_END);
        return skip(lx, S_BLOCK_START);
    case '}':
        ignore(lx);
        return pop(lx);
    case '#':
        return push_to(lx, S_BLOCK_START, S_COMMENT_START);
    case '/':
        if (slash_comment(lx, S_BLOCK_START)) return S_COMMENT_START;
        return at_eof(lx);
    case 0:
        return at_eof(lx);
    }
    return back(lx, push_to(lx, S_BLOCK_VALUE_END, S_KEY_START));
}

static int lex_block_value_end(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (r == '#') return push_to(lx, S_BLOCK_VALUE_END, S_COMMENT_START);
    if (r == '/') return slash_comment(lx, S_BLOCK_VALUE_END) ? S_COMMENT_START : S_BLOCK_VALUE_END;
    if (is_ws(r)) return S_BLOCK_VALUE_END;
    if (is_nl(r) || r == ';' || r == ',') return skip(lx, S_BLOCK_START);
    if (r == '}') return back(lx, S_BLOCK_END);
    return errorf(lx,
                  "Expected a block-level value to end with a new line, comment or EOF, "
                  "but got '%s' instead.",
                  esc(r, b));
}

static int lex_block_end(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (r == '#') return push_to(lx, S_BLOCK_START, S_COMMENT_START);
    if (r == '/') return slash_comment(lx, S_BLOCK_START) ? S_COMMENT_START : S_BLOCK_END;
    if (is_nl(r) || is_ws(r)) return S_BLOCK_END;
    if (r == ';' || r == ',') return skip(lx, S_BLOCK_START);
    if (r == '}') {
        ignore(lx);
        return pop(lx);
    }
    return errorf(lx, "Expected a block-level to end with a '}', but got '%s' instead.", esc(r, b));
}

/* ---- states: keys and include ---- */

static int lex_key_start(nx_conf_lexer *lx) {
    char b[8];
    int r = peek(lx);
    if (is_keysep(r)) return errorf(lx, "Unexpected key separator '%s'", esc(r, b));
    if (nx_conf_is_space(r)) return take_skip(lx, S_KEY_START);
    if (r == '"' || r == '\'') return take_skip(lx, r == '"' ? S_DUB_QUOTED_KEY : S_QUOTED_KEY);
    ignore(lx);
    return take(lx, S_KEY);
}

static int lex_quoted_key(nx_conf_lexer *lx, int q, int self) {
    int r = peek(lx);
    if (r == q) {
        emit(lx, NX_CONF_ITEM_KEY); /* before the quote is consumed */
        return take_skip(lx, S_KEY_END);
    }
    if (r == 0) return at_eof(lx);
    nx(lx);
    return self;
}
static int lex_dub_quoted_key(nx_conf_lexer *lx) {
    return lex_quoted_key(lx, '"', S_DUB_QUOTED_KEY);
}
static int lex_squoted_key(nx_conf_lexer *lx) {
    return lex_quoted_key(lx, '\'', S_QUOTED_KEY);
}

/* Go lowercases the key with strings.ToLower; the only non-ASCII rune that lowers into
 * "include" is U+0130 (capital I with dot) -> 'i'. */
static bool is_include_kw(const char *s, size_t n) {
    if (n == 7) return ascii_ieq(s, "include", 7);
    return n == 8 && (unsigned char)s[0] == 0xC4 && (unsigned char)s[1] == 0xB0 &&
           ascii_ieq(s + 2, "nclude", 6);
}

/* Go's keyCheckKeyword: a key followed by whitespace may be the include keyword. */
static int key_check_keyword(nx_conf_lexer *lx, int fall, int ret) {
    if (is_include_kw(lx->in + lx->start, lx->pos - lx->start)) {
        ignore(lx);
        if (ret != S_NONE) push(lx, ret);
        return S_INCLUDE_START;
    }
    emit(lx, NX_CONF_ITEM_KEY);
    return fall;
}

static int lex_include_start(nx_conf_lexer *lx) {
    if (is_ws(nx(lx))) return skip(lx, S_INCLUDE_START);
    return back(lx, S_INCLUDE);
}

static int lex_include_quoted(nx_conf_lexer *lx, int q, int self, const char *msg) {
    int r = nx(lx);
    if (r == q) return emit_before_quote(lx, NX_CONF_ITEM_INCLUDE, false);
    if (r == 0) return errorf(lx, "%s", msg);
    return self;
}
static int lex_include_squoted(nx_conf_lexer *lx) {
    return lex_include_quoted(lx, '\'', S_INCLUDE_QUOTED, "Unexpected EOF in quoted include");
}
static int lex_include_dquoted(nx_conf_lexer *lx) {
    return lex_include_quoted(lx, '"', S_INCLUDE_DUB_QUOTED,
                              "Unexpected EOF in double quoted include");
}

static int lex_include_string(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (is_nl(r) || r == 0 || r == ';' || r == '}' || is_ws(r))
        return back_emit_pop(lx, NX_CONF_ITEM_INCLUDE);
    if (r == '\'') return emit_before_quote(lx, NX_CONF_ITEM_INCLUDE, false);
    return S_INCLUDE_STRING;
}

static int lex_include(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == '\'' || r == '"') {
        ignore(lx);
        return r == '"' ? S_INCLUDE_DUB_QUOTED : S_INCLUDE_QUOTED;
    }
    if (r == '[') return errorf(lx, "Expected include value but found start of an array");
    if (r == '{') return errorf(lx, "Expected include value but found start of a map");
    if (r == '(') return errorf(lx, "Expected include value but found start of a block");
    if (nx_conf_is_digit(r) || r == '-')
        return errorf(lx, "Expected include value but found start of a number");
    if (r == '\\') return errorf(lx, "Expected include value but found escape sequence");
    if (is_nl(r)) return errorf(lx, "Expected include value but found new line");
    return back(lx, S_INCLUDE_STRING);
}

static int lex_key(nx_conf_lexer *lx) {
    int r = peek(lx);
    if (nx_conf_is_space(r)) return key_check_keyword(lx, S_KEY_END, S_NONE);
    if (is_keysep(r) || r == 0) return emit_to(lx, NX_CONF_ITEM_KEY, S_KEY_END);
    return take(lx, S_KEY);
}

static int lex_key_end(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_KEY_END);
    if (is_keysep(r)) return skip(lx, S_VALUE);
    if (r == 0) return emit_to(lx, NX_CONF_ITEM_EOF, S_NONE);
    return back(lx, S_VALUE);
}

/* ---- states: values, arrays, maps ---- */

static int lex_value(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (is_ws(r)) return skip(lx, S_VALUE);
    switch (r) {
    case '[':
        return emit_to(lx, NX_CONF_ITEM_ARRAY_START, skip(lx, S_ARRAY_VALUE));
    case '{':
        return emit_to(lx, NX_CONF_ITEM_MAP_START, skip(lx, S_MAP_KEY_START));
    case '\'':
        return skip(lx, S_QUOTED_STRING);
    case '"':
        return str_state(lx, skip(lx, S_DUB_QUOTED_STRING));
    case '-':
        return S_NEG_NUM_START;
    case '(':
        return skip(lx, S_BLOCK);
    case '.':
        return errorf(lx, "Floats must start with a digit");
    }
    if (nx_conf_is_digit(r)) return back(lx, S_NUM_START);
    if (is_nl(r)) return errorf(lx, "Expected value but found new line");
    return str_state(lx, back(lx, S_STRING));
}

static int lex_array_value(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_ARRAY_VALUE);
    if (r == '#') return push_to(lx, S_ARRAY_VALUE, S_COMMENT_START);
    if (r == '/' && slash_comment(lx, S_ARRAY_VALUE)) return S_COMMENT_START;
    if (r == '/' || r == ',') /* a lone '/' falls through to the ',' case in Go */
        return errorf(lx, "Unexpected array value terminator ','.");
    if (r == ']') return S_ARRAY_END;
    return back(lx, push_to(lx, S_ARRAY_VALUE_END, S_VALUE));
}

static int lex_array_value_end(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (is_ws(r)) return skip(lx, S_ARRAY_VALUE_END);
    if (r == '#') return push_to(lx, S_ARRAY_VALUE_END, S_COMMENT_START);
    if (r == '/' && slash_comment(lx, S_ARRAY_VALUE_END)) return S_COMMENT_START;
    if (r == '/' || r == ',' || is_nl(r)) return skip(lx, S_ARRAY_VALUE);
    if (r == ']') return S_ARRAY_END;
    return errorf(lx,
                  "Expected an array value terminator \",\" or an array terminator \"]\", "
                  "but got '%s' instead.",
                  esc(r, b));
}

static int lex_array_end(nx_conf_lexer *lx) {
    ignore(lx);
    return emit_pop(lx, NX_CONF_ITEM_ARRAY_END);
}

static int lex_map_key_start(nx_conf_lexer *lx) {
    char b[8];
    int r = peek(lx);
    if (is_keysep(r)) return errorf(lx, "Unexpected key separator '%s'.", esc(r, b));
    if (r == ']') return errorf(lx, "Unexpected array end '%s' processing map.", esc(r, b));
    if (nx_conf_is_space(r)) return take_skip(lx, S_MAP_KEY_START);
    switch (r) {
    case '}':
        return take_skip(lx, S_MAP_END);
    case '#':
        nx(lx);
        push(lx, S_MAP_KEY_START);
        return S_COMMENT_START;
    case '/':
        /* Go consumes the '/' here and, without a second '/', starts the key after it. */
        nx(lx);
        if (slash_comment(lx, S_MAP_KEY_START)) return S_COMMENT_START;
        break;
    case '\'':
        return take_skip(lx, S_MAP_QUOTED_KEY);
    case '"':
        return take_skip(lx, S_MAP_DUB_QUOTED_KEY);
    case 0:
        return errorf(lx, "Unexpected EOF processing map.");
    }
    ignore(lx);
    return take(lx, S_MAP_KEY);
}

static int lex_map_quoted_key(nx_conf_lexer *lx, int q, int self, const char *eofmsg) {
    int r = peek(lx);
    if (r == 0) return errorf(lx, "%s", eofmsg);
    if (r == q) {
        emit(lx, NX_CONF_ITEM_KEY); /* before the quote is consumed */
        return take_skip(lx, S_MAP_KEY_END);
    }
    nx(lx);
    return self;
}
static int lex_map_squoted_key(nx_conf_lexer *lx) {
    return lex_map_quoted_key(lx, '\'', S_MAP_QUOTED_KEY,
                              "Unexpected EOF processing quoted map key.");
}
static int lex_map_dquoted_key(nx_conf_lexer *lx) {
    return lex_map_quoted_key(lx, '"', S_MAP_DUB_QUOTED_KEY,
                              "Unexpected EOF processing double quoted map key.");
}

static int lex_map_key(nx_conf_lexer *lx) {
    int r = peek(lx);
    if (r == 0) return errorf(lx, "Unexpected EOF processing map key.");
    if (nx_conf_is_space(r)) return key_check_keyword(lx, S_MAP_KEY_END, S_MAP_VALUE_END);
    if (is_keysep(r)) return emit_to(lx, NX_CONF_ITEM_KEY, S_MAP_KEY_END);
    return take(lx, S_MAP_KEY);
}

static int lex_map_key_end(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_MAP_KEY_END);
    if (is_keysep(r)) return skip(lx, S_MAP_VALUE);
    return back(lx, S_MAP_VALUE);
}

static int lex_map_value(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_space(r)) return skip(lx, S_MAP_VALUE);
    if (r == ',') return errorf(lx, "Unexpected map value terminator \",\".");
    if (r == '}') return skip(lx, S_MAP_END);
    return back(lx, push_to(lx, S_MAP_VALUE_END, S_VALUE));
}

static int lex_map_value_end(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (is_ws(r)) return skip(lx, S_MAP_VALUE_END);
    if (r == '#') return push_to(lx, S_MAP_VALUE_END, S_COMMENT_START);
    if (r == '/' && slash_comment(lx, S_MAP_VALUE_END)) return S_COMMENT_START;
    if (r == '/' || r == ';' || r == ',' || is_nl(r)) return skip(lx, S_MAP_KEY_START);
    if (r == '}') return skip(lx, S_MAP_END);
    return errorf(lx,
                  "Expected a map value terminator \",\" or a map terminator \"}\", "
                  "but got '%s' instead.",
                  esc(r, b));
}

static int lex_map_end(nx_conf_lexer *lx) {
    ignore(lx);
    return emit_pop(lx, NX_CONF_ITEM_MAP_END);
}

/* ---- states: strings and blocks ---- */

static bool span_is(nx_conf_lexer *lx, const char *w) {
    size_t n = strlen(w);
    return lx->pos - lx->start == n && ascii_ieq(lx->in + lx->start, w, n);
}

static bool is_bool(nx_conf_lexer *lx) {
    return span_is(lx, "true") || span_is(lx, "false") || span_is(lx, "on") || span_is(lx, "off") ||
           span_is(lx, "yes") || span_is(lx, "no");
}

/* Go's isVariable: a leading '$' is dropped from the item. */
static bool is_variable(nx_conf_lexer *lx) {
    if (lx->start >= lx->len || lx->in[lx->start] != '$') return false;
    lx->start++;
    return true;
}

static int lex_squoted_string(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == '\'') return emit_before_quote(lx, NX_CONF_ITEM_STRING, false);
    if (r == 0) return at_eof(lx);
    return S_QUOTED_STRING;
}

static int lex_dquoted_string(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == '\\') {
        add_current_part(lx, 1);
        return S_STRING_ESCAPE;
    }
    if (r == '"') return emit_before_quote(lx, NX_CONF_ITEM_STRING, true);
    if (r == 0) return at_eof(lx);
    return S_DUB_QUOTED_STRING;
}

static int lex_string(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == '\\') {
        add_current_part(lx, 1);
        return S_STRING_ESCAPE;
    }
    if (is_nl(r) || r == 0 || r == ';' || r == ',' || r == ']' || r == '}' || is_ws(r)) {
        backup(lx);
        if (lx->nparts > 0)
            emit_string(lx);
        else if (is_bool(lx))
            emit(lx, NX_CONF_ITEM_BOOL);
        else if (is_variable(lx))
            emit(lx, NX_CONF_ITEM_VARIABLE);
        else
            emit_string(lx);
        return pop(lx);
    }
    if (r == '\'') return emit_before_quote(lx, NX_CONF_ITEM_STRING, true);
    return S_STRING;
}

/* A block "( ... )" ends only at a ')' alone on its line (preceded by '\n', followed by '\n'
 * or EOF).  Go's double backup and its behaviour at true EOF (the ')' stays in the value)
 * are kept as they are. */
static int lex_block(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == ')') {
        backup(lx);
        backup(lx);
        if (nx(lx) != '\n') {
            return take(lx, S_BLOCK);
        }
        nx(lx);
        int c = nx(lx);
        if (c == '\n' || c == 0) {
            backup(lx);
            backup(lx);
            emit(lx, NX_CONF_ITEM_STRING);
            nx(lx);
            ignore(lx);
            return pop(lx);
        }
        return back(lx, S_BLOCK);
    }
    if (r == 0) return errorf(lx, "Unexpected EOF processing block.");
    return S_BLOCK;
}

static int lex_string_escape(nx_conf_lexer *lx) {
    static const char from[] = "tnr\"\\", to[] = "\t\n\r\"\\";
    char b[8];
    int r = nx(lx);
    if (r == 'x') return S_STRING_BINARY;
    const char *at = r > 0 && r < 0x80 ? strchr(from, r) : NULL;
    if (!at)
        return errorf(lx,
                      "Invalid escape character '%s'. Only the following escape characters "
                      "are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
                      esc(r, b));
    add_part(lx, &to[at - from], 1);
    return lx->string_state;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int lex_string_binary(nx_conf_lexer *lx) {
    static const char *eol = "Expected two hexadecimal digits after '\\x', but hit end of line";
    if (is_nl(nx(lx)) || is_nl(nx(lx))) return errorf(lx, "%s", eol);
    /* Go decodes the two bytes before pos, whatever runes were read. */
    const char *h = lx->in + lx->pos - 2;
    int hi = hexval(h[0]), lo = hexval(h[1]);
    if (hi < 0 || lo < 0)
        return errorf(lx, "Expected two hexadecimal digits after '\\x', but got '%.2s'", h);
    char byte = (char)(hi << 4 | lo);
    add_part(lx, &byte, 1);
    return lx->string_state;
}

/* ---- states: numbers, dates, IPs ---- */

static int lex_num_start_common(nx_conf_lexer *lx, int next) {
    char b[8];
    int r = nx(lx);
    if (!nx_conf_is_digit(r)) {
        if (r == '.') return errorf(lx, "Floats must start with a digit, not '.'.");
        return errorf(lx, "Expected a digit but got '%s'.", esc(r, b));
    }
    return next;
}
static int lex_num_start(nx_conf_lexer *lx) {
    return lex_num_start_common(lx, S_NUM);
}
static int lex_neg_num_start(nx_conf_lexer *lx) {
    return lex_num_start_common(lx, S_NEG_NUM);
}

/* The runes after which a number is complete. */
static bool ends_number(int r) {
    return is_nl(r) || r == 0 || r == '}' || r == ';' || r == ',' || is_ws(r) ||
           nx_conf_is_digit(r);
}

static int lex_num(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == '-') {
        if (lx->pos - lx->start != 5)
            return errorf(lx, "All ISO8601 dates must be in full Zulu form.");
        return S_DATE_AFTER_YEAR;
    }
    if (nx_conf_is_digit(r)) return S_NUM;
    if (r == '.') return S_FLOAT_START;
    if (is_num_suffix(r)) return S_CONVENIENT_NUM;
    if (!ends_number(r)) { /* e.g. "3xyz": a string that starts with digits */
        return str_state(lx, S_STRING);
    }
    return back_emit_pop(lx, NX_CONF_ITEM_INTEGER);
}

static int lex_convenient_num(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (r == 'b' || r == 'B' || r == 'i' || r == 'I') return S_CONVENIENT_NUM;
    backup(lx);
    if (ends_number(r)) return emit_pop(lx, NX_CONF_ITEM_INTEGER);
    return str_state(lx, S_STRING);
}

static int lex_date_after_year(nx_conf_lexer *lx) {
    static const char fmt[] = "00-00T00:00:00Z"; /* '0' means any digit */
    char b1[8], b2[8];
    for (const char *f = fmt; *f; f++) {
        int r = nx(lx);
        if (*f == '0') {
            if (!nx_conf_is_digit(r))
                return errorf(lx, "Expected digit in ISO8601 datetime, but found '%s' instead.",
                              esc(r, b1));
        } else if (*f != r) {
            return errorf(lx, "Expected '%s' in ISO8601 datetime, but found '%s' instead.",
                          esc(*f, b1), esc(r, b2));
        }
    }
    return emit_pop(lx, NX_CONF_ITEM_DATETIME);
}

static int lex_neg_num(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_digit(r)) return S_NEG_NUM;
    if (r == '.') return S_FLOAT_START;
    if (is_num_suffix(r)) return S_CONVENIENT_NUM;
    return back_emit_pop(lx, NX_CONF_ITEM_INTEGER);
}

static int lex_float_start(nx_conf_lexer *lx) {
    char b[8];
    int r = nx(lx);
    if (!nx_conf_is_digit(r))
        return errorf(lx, "Floats must have a digit after the '.', but got '%s' instead.",
                      esc(r, b));
    return S_FLOAT;
}

static int lex_float(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_digit(r)) return S_FLOAT;
    if (r == '.') /* a second '.': not a float after all but an IP address */
        return S_IP_ADDR;
    return back_emit_pop(lx, NX_CONF_ITEM_FLOAT);
}

static int lex_ip_addr(nx_conf_lexer *lx) {
    int r = nx(lx);
    if (nx_conf_is_digit(r) || r == '.' || r == ':' || r == '-') return S_IP_ADDR;
    return back_emit_pop(lx, NX_CONF_ITEM_STRING);
}

/* ---- states: comments ---- */

static int lex_comment_start(nx_conf_lexer *lx) {
    return emit_to(lx, NX_CONF_ITEM_COMMENT_START, skip(lx, S_COMMENT));
}

static int lex_comment(nx_conf_lexer *lx) {
    int r = peek(lx);
    if (is_nl(r) || r == 0) return emit_pop(lx, NX_CONF_ITEM_TEXT);
    return take(lx, S_COMMENT);
}

#define NX_LEX_ENTRY(st, fn) [st] = fn,
static int (*const states[S_COUNT])(nx_conf_lexer *) = {NX_LEX_STATES(NX_LEX_ENTRY)};

/* ---- public API ---- */

nx_conf_lexer *nx_conf_lex_new(const char *input, size_t len) {
    nx_conf_lexer *lx = calloc(1, sizeof *lx);
    if (!lx) return NULL;
    lx->in = input ? input : "";
    lx->len = input ? len : 0;
    lx->line = 1;
    lx->state = S_TOP;
    return lx;
}

void nx_conf_lex_next(nx_conf_lexer *lx, nx_conf_item *it) {
    while (lx->qcount == 0 && lx->state != S_NONE) {
        lx->state = states[lx->state](lx);
        if ((lx->overflow || lx->oom) && lx->state != S_NONE) {
            lx->state = S_NONE;
            if (lx->overflow)
                errorf(lx, "nesting too deep (lexer stack over %d)", NX_CONF_LEX_MAX_STACK);
        }
        if (lx->oom) lx->state = S_NONE;
    }
    if (lx->qcount == 0) {
        /* Finished: keep answering EOF (Go would call a nil state here). */
        it->type = lx->oom ? NX_CONF_ITEM_ERROR : NX_CONF_ITEM_EOF;
        it->val = lx->oom ? "out of memory" : "";
        it->len = strlen(it->val);
        it->line = lx->line;
        it->pos = 0;
        return;
    }
    slot *s = &lx->q[lx->qhead];
    lx->qhead = (lx->qhead + 1) % QCAP;
    lx->qcount--;
    it->type = s->type;
    it->val = s->buf ? s->buf : "";
    it->len = s->len;
    it->line = s->line;
    it->pos = s->pos;
    if (s->type == NX_CONF_ITEM_ERROR || s->type == NX_CONF_ITEM_EOF) lx->state = S_NONE;
}

void nx_conf_lex_free(nx_conf_lexer *lx) {
    if (!lx) return;
    for (int i = 0; i < QCAP; i++)
        free(lx->q[i].buf);
    free(lx->stack);
    free(lx->parts);
    free(lx);
}

const char *nx_conf_item_type_name(nx_conf_item_type t) {
    static const char *names[] = {
        "Error",    "NIL",     "EOF",          "Key",      "Text",       "String",
        "Bool",     "Integer", "Float",        "DateTime", "ArrayStart", "ArrayEnd",
        "MapStart", "MapEnd",  "CommentStart", "Variable", "Include",
    };
    if ((unsigned)t < sizeof names / sizeof names[0]) return names[t];
    return "Unknown";
}
