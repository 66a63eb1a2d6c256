/* Subject transforms: see transform.h (weighted mappings and `mappings {}`: mapping.c).
 *
 * Go's function regexes ({{\s*[nN]ame\s*\((.*)\)\s*}}, unanchored, '.' excluding '\n', \s =
 * [\t\n\f\r ]) and its argument split (`,\s*`) are reproduced by hand; numbers are read like
 * strconv.Atoi / ParseInt(s, 10, 32) after trimming spaces.
 */
#include "common/transform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/subject.h"
#include "common/transform_int.h"

#define E_DEST "invalid mapping destination"
#define E_NOT_ENOUGH "not enough arguments passed to the function"
#define E_TOO_MANY "too many arguments passed to the function"
#define E_INVALID_ARG "function argument is invalid or in the wrong format"
#define E_UNKNOWN "unknown function"
#define E_RANGE "wildcard index out of range"
#define E_IMPORT "the only mapping function allowed for import transforms is {{Wildcard()}}"
#define E_ALL_WC "not using all of the token wildcard(s)"
#define E_TRANSFORM "invalid transform"


typedef struct dtok {
    nx_tr_fn fn;
    tok lit;      /* the destination token text */
    size_t *sidx; /* source token indexes */
    size_t nsidx;
    int32_t iarg;
    tok sarg;
} dtok;

struct nx_transform {
    char *src, *dest;
    tok *stoks;
    size_t nstoks;
    dtok *d;
    size_t nd;
    bool dest_fwc;
};

void nxt_seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Go mappingDestinationErr{token, reason}.Error(). */
static int dest_err(char *err, size_t errlen, const char *t, size_t n, const char *reason) {
    if (n == 0)
        nxt_seterr(err, errlen, E_DEST ": %s", reason);
    else
        nxt_seterr(err, errlen, E_DEST ": %s in %.*s", reason, (int)n, t);
    return NX_TR_ERR_DEST;
}

/* ---- output buffer ---------------------------------------------------------------------- */

static bool ob_put(nx_tr_out *o, const char *p, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap : 64;
        while (nc < o->len + n + 1) nc *= 2;
        char *nb = realloc(o->buf, nc);
        if (!nb) return false;
        o->buf = nb;
        o->cap = nc;
    }
    if (n) memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len] = '\0';
    return true;
}

/* ---- tokens ----------------------------------------------------------------------------- */

/* Splits on '.' (Go strings.Split / tokenizeSubject); *out is `stack` or malloc'd. */
tok *nxt_split_toks(const char *s, size_t n, tok *stack, size_t stack_n, size_t *count) {
    size_t c = 1;
    for (size_t i = 0; i < n; i++) c += s[i] == '.';
    tok *t = c <= stack_n ? stack : malloc(c * sizeof *t);
    if (!t) return NULL;
    size_t k = 0, st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            t[k].p = s + st;
            t[k++].n = i - st;
            st = i + 1;
        }
    }
    *count = c;
    return t;
}

static bool tok_is(tok t, char c) { return t.n == 1 && t.p[0] == c; }
static bool tok_eq(tok a, tok b) { return a.n == b.n && (a.n == 0 || !memcmp(a.p, b.p, a.n)); }

/* Go subjectInfo. */
static bool subject_info(const tok *t, size_t n, size_t *npwcs, bool *fwc) {
    *npwcs = 0;
    *fwc = false;
    for (size_t i = 0; i < n; i++) {
        if (t[i].n == 0 || *fwc) return false;
        if (tok_is(t[i], '>')) *fwc = true;
        if (tok_is(t[i], '*')) (*npwcs)++;
    }
    return true;
}

/* Go isSubsetMatchTokenized(tokens, test). */
bool nxt_subset_match(const tok *tokens, size_t nt, const tok *test, size_t ntest) {
    for (size_t i = 0; i < ntest; i++) {
        tok t2 = test[i];
        if (i >= nt || t2.n == 0) return false;
        if (tok_is(t2, '>')) return true;
        tok t1 = tokens[i];
        if (t1.n == 0 || tok_is(t1, '>')) return false;
        if (tok_is(t1, '*')) {
            if (!tok_is(t2, '*')) return false;
            continue;
        }
        if (t2.p[0] != '*' && !tok_eq(t1, t2)) return false;
    }
    return nt == ntest;
}

/* ---- Go's regex and number helpers ------------------------------------------------------ */

static bool re_space(char c) {
    return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

/* Canonical names: an upper-case letter matches either case, lower-case exactly. */
static const char *const FN_NAMES[] = {
    [NX_TR_PARTITION] = "Partition",          [NX_TR_WILDCARD] = "Wildcard",
    [NX_TR_SPLIT_FROM_LEFT] = "SplitFromLeft", [NX_TR_SPLIT_FROM_RIGHT] = "SplitFromRight",
    [NX_TR_SLICE_FROM_LEFT] = "SliceFromLeft", [NX_TR_SLICE_FROM_RIGHT] = "SliceFromRight",
    [NX_TR_SPLIT] = "Split",                   [NX_TR_LEFT] = "Left",
    [NX_TR_RIGHT] = "Right",                   [NX_TR_RANDOM] = "Random",
};

/* Go regexp FindStringSubmatch of `{{\s*NAME\s*\((.*)\)\s*}}`: the capture of the leftmost
 * match (greedy .*), or false. */
static bool fn_search(const char *t, size_t n, nx_tr_fn fn, tok *arg) {
    const char *name = FN_NAMES[fn];
    for (size_t p = 0; p + 1 < n; p++) {
        if (t[p] != '{' || t[p + 1] != '{') continue;
        size_t i = p + 2;
        while (i < n && re_space(t[i])) i++;
        bool ok = true;
        for (const char *c = name; *c && ok; c++, i++) {
            if (i >= n)
                ok = false;
            else if (*c >= 'A' && *c <= 'Z')
                ok = t[i] == *c || t[i] == *c + ('a' - 'A');
            else
                ok = t[i] == *c;
        }
        if (!ok) continue;
        while (i < n && re_space(t[i])) i++;
        if (i >= n || t[i] != '(') continue;
        size_t a = i + 1, lim = a;
        while (lim < n && t[lim] != '\n') lim++;
        for (size_t e = lim; e-- > a;) {
            if (t[e] != ')') continue;
            size_t j = e + 1;
            while (j < n && re_space(t[j])) j++;
            if (j + 1 < n && t[j] == '}' && t[j + 1] == '}') {
                arg->p = t + a;
                arg->n = e - a;
                return true;
            }
        }
    }
    return false;
}

/* Go commaSeparatorRegEx.Split(s, -1); returns the count, storing up to max pieces. */
static size_t split_args(tok s, tok *out, size_t max) {
    size_t k = 0, st = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i == s.n || s.p[i] == ',') {
            if (k < max) out[k] = (tok){s.p + st, i - st};
            k++;
            if (i < s.n)
                while (i + 1 < s.n && re_space(s.p[i + 1])) i++;
            st = i + 1;
        }
    }
    return k;
}

static tok trim_spaces(tok t) {
    while (t.n && t.p[0] == ' ') t.p++, t.n--;
    while (t.n && t.p[t.n - 1] == ' ') t.n--;
    return t;
}

/* Go strconv.ParseInt(s, 10, bits) syntax and range (Atoi: bits 64). */
bool nxt_parse_int(tok t, int bits, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (t.n && (t.p[0] == '+' || t.p[0] == '-')) neg = t.p[i++] == '-';
    if (i == t.n) return false;
    uint64_t lim = (uint64_t)1 << (bits - 1), v = 0; /* |min| */
    for (; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9') return false;
        unsigned d = (unsigned)(t.p[i] - '0');
        if (v > (lim - d) / 10) return false;
        v = v * 10 + d;
    }
    if (!neg && v == lim) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* ---- indexPlaceHolders ------------------------------------------------------------------ */

typedef struct ph {
    nx_tr_fn fn;
    int64_t *idx;
    size_t nidx;
    int32_t iarg;
    tok sarg;
} ph;

static int ph_fail(ph *r, const char *t, size_t n, const char *reason, char *err, size_t errlen) {
    r->fn = NX_TR_BAD;
    r->nidx = 0;
    return dest_err(err, errlen, t, n, reason);
}

static int ph_alloc(ph *r, size_t n) {
    free(r->idx);
    r->idx = malloc((n ? n : 1) * sizeof *r->idx);
    r->nidx = n;
    return r->idx ? 0 : NX_TR_ERR_NOMEM;
}

/* Functions taking (wildcard index, int32). */
static int idx_int_args(ph *r, nx_tr_fn fn, const char *t, size_t n, tok arg, char *err,
                        size_t errlen) {
    tok a[2];
    size_t na = split_args(arg, a, 2);
    int64_t i, v;
    if (na < 2) return ph_fail(r, t, n, E_NOT_ENOUGH, err, errlen);
    if (na > 2) return ph_fail(r, t, n, E_TOO_MANY, err, errlen);
    if (!nxt_parse_int(trim_spaces(a[0]), 64, &i) || !nxt_parse_int(trim_spaces(a[1]), 32, &v))
        return ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
    if (ph_alloc(r, 1)) return NX_TR_ERR_NOMEM;
    r->fn = fn;
    r->idx[0] = i;
    r->iarg = (int32_t)v;
    return 0;
}

/* An int argument at most MaxInt32 (Go checks only the upper bound, then converts). */
static bool int32_arg(tok t, int32_t *out) {
    int64_t v;
    if (!nxt_parse_int(trim_spaces(t), 64, &v) || v > INT32_MAX) return false;
    *out = (int32_t)(uint32_t)(uint64_t)v;
    return true;
}

static int index_ph(const char *t, size_t n, ph *r, char *err, size_t errlen) {
    r->fn = NX_TR_NONE;
    r->nidx = 0;
    r->iarg = -1;
    r->sarg = (tok){"", 0};
    if (n <= 1) return 0;
    if (t[0] == '$') {
        int64_t v;
        if (!nxt_parse_int((tok){t + 1, n - 1}, 64, &v)) return 0; /* left as is */
        if (ph_alloc(r, 1)) return NX_TR_ERR_NOMEM;
        r->fn = NX_TR_WILDCARD;
        r->idx[0] = v;
        return 0;
    }
    if (!(n > 4 && t[0] == '{' && t[1] == '{' && t[n - 2] == '}' && t[n - 1] == '}')) return 0;
    tok arg, a1 = {0};
    if (fn_search(t, n, NX_TR_WILDCARD, &arg)) {
        size_t na = split_args(arg, &a1, 1);
        int64_t v;
        if (na == 1 && a1.n == 0) return ph_fail(r, t, n, E_NOT_ENOUGH, err, errlen);
        if (na > 1) return ph_fail(r, t, n, E_TOO_MANY, err, errlen);
        if (!nxt_parse_int(trim_spaces(a1), 64, &v))
            return ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
        if (ph_alloc(r, 1)) return NX_TR_ERR_NOMEM;
        r->fn = NX_TR_WILDCARD;
        r->idx[0] = v;
        return 0;
    }
    if (fn_search(t, n, NX_TR_PARTITION, &arg)) {
        size_t na = split_args(arg, NULL, 0);
        tok *a = malloc(na * sizeof *a);
        if (!a) return NX_TR_ERR_NOMEM;
        split_args(arg, a, na);
        int32_t np;
        int rc = 0;
        if (!int32_arg(a[0], &np)) {
            rc = ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
        } else if (ph_alloc(r, na - 1)) {
            rc = NX_TR_ERR_NOMEM;
        } else {
            for (size_t i = 1; i < na && !rc; i++)
                if (!nxt_parse_int(trim_spaces(a[i]), 64, &r->idx[i - 1]))
                    rc = ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
            if (!rc) {
                r->fn = NX_TR_PARTITION;
                r->iarg = np;
            }
        }
        free(a);
        return rc;
    }
    static const nx_tr_fn two_arg[] = {NX_TR_SPLIT_FROM_LEFT, NX_TR_SPLIT_FROM_RIGHT,
                                       NX_TR_SLICE_FROM_LEFT, NX_TR_SLICE_FROM_RIGHT,
                                       NX_TR_RIGHT,           NX_TR_LEFT};
    for (size_t k = 0; k < sizeof two_arg / sizeof two_arg[0]; k++)
        if (fn_search(t, n, two_arg[k], &arg))
            return idx_int_args(r, two_arg[k], t, n, arg, err, errlen);
    if (fn_search(t, n, NX_TR_SPLIT, &arg)) {
        tok a[2];
        size_t na = split_args(arg, a, 2);
        int64_t i;
        if (na < 2) return ph_fail(r, t, n, E_NOT_ENOUGH, err, errlen);
        if (na > 2) return ph_fail(r, t, n, E_TOO_MANY, err, errlen);
        if (!nxt_parse_int(trim_spaces(a[0]), 64, &i) || memchr(a[1].p, ' ', a[1].n) ||
            memchr(a[1].p, '.', a[1].n))
            return ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
        if (ph_alloc(r, 1)) return NX_TR_ERR_NOMEM;
        r->fn = NX_TR_SPLIT;
        r->idx[0] = i;
        r->sarg = a[1];
        return 0;
    }
    if (fn_search(t, n, NX_TR_RANDOM, &arg)) {
        int32_t v;
        if (split_args(arg, &a1, 1) != 1) return ph_fail(r, t, n, E_NOT_ENOUGH, err, errlen);
        if (!int32_arg(a1, &v)) return ph_fail(r, t, n, E_INVALID_ARG, err, errlen);
        r->fn = NX_TR_RANDOM;
        r->iarg = v;
        return 0;
    }
    return ph_fail(r, t, n, E_UNKNOWN, err, errlen);
}

int nx_transform_token_info(const char *t, size_t n, nx_tr_fn *fn, int64_t *idx, size_t max_idx,
                            size_t *nidx, int32_t *iarg, char *sarg, size_t sarg_cap, char *err,
                            size_t errlen) {
    ph r = {0};
    int rc = index_ph(t, n, &r, err, errlen);
    *fn = r.fn;
    *nidx = r.nidx;
    *iarg = r.iarg;
    for (size_t i = 0; i < r.nidx && i < max_idx; i++) idx[i] = r.idx[i];
    if (sarg && sarg_cap) snprintf(sarg, sarg_cap, "%.*s", (int)r.sarg.n, r.sarg.p);
    free(r.idx);
    return rc;
}

/* ---- compile ---------------------------------------------------------------------------- */

void nx_transform_free(nx_transform *tr) {
    if (!tr) return;
    for (size_t i = 0; i < tr->nd; i++) free(tr->d[i].sidx);
    free(tr->d);
    free(tr->stoks);
    free(tr->src);
    free(tr->dest);
    free(tr);
}

const char *nx_transform_src(const nx_transform *tr) { return tr ? tr->src : ""; }
const char *nx_transform_dest(const nx_transform *tr) { return tr ? tr->dest : ""; }

static int build(nx_transform *tr, bool strict, char *err, size_t errlen) {
    size_t nd, npwcs, dnpwcs;
    bool fwc, dfwc;
    tr->stoks = nxt_split_toks(tr->src, strlen(tr->src), NULL, 0, &tr->nstoks);
    tok *dt = nxt_split_toks(tr->dest, strlen(tr->dest), NULL, 0, &nd);
    if (!tr->stoks || !dt) {
        free(dt);
        return NX_TR_ERR_NOMEM;
    }
    bool sv = subject_info(tr->stoks, tr->nstoks, &npwcs, &fwc);
    bool dv = subject_info(dt, nd, &dnpwcs, &dfwc);
    if (!sv || !dv || dnpwcs > 0 || fwc != dfwc) {
        free(dt);
        nxt_seterr(err, errlen, "invalid subject");
        return NX_TR_ERR_SUBJECT;
    }
    tr->d = calloc(nd, sizeof *tr->d);
    size_t *sti = malloc((npwcs ? npwcs : 1) * sizeof *sti); /* wildcard k+1 -> source token */
    if (!tr->d || !sti) {
        free(dt);
        free(sti);
        return NX_TR_ERR_NOMEM;
    }
    tr->nd = nd;
    for (size_t i = 0, k = 0; i < tr->nstoks; i++)
        if (tok_is(tr->stoks[i], '*')) sti[k++] = i;
    bool wild = npwcs > 0 || fwc;
    size_t nphs = 0;
    int rc = 0;
    ph r = {0};
    for (size_t i = 0; i < nd && !rc; i++) {
        dtok *d = &tr->d[i];
        d->lit = dt[i];
        d->iarg = -1;
        d->sarg = (tok){"", 0};
        rc = index_ph(dt[i].p, dt[i].n, &r, err, errlen);
        if (rc) break;
        if (wild && strict && r.fn != NX_TR_NONE && r.fn != NX_TR_WILDCARD) {
            rc = dest_err(err, errlen, dt[i].p, dt[i].n, E_IMPORT);
            break;
        }
        d->fn = r.fn;
        if (r.fn == NX_TR_NONE) continue;
        if (r.fn == NX_TR_RANDOM || (!wild && r.fn == NX_TR_PARTITION)) {
            d->iarg = r.iarg;
            continue;
        }
        if (!wild) {
            rc = dest_err(err, errlen, dt[i].p, dt[i].n, E_RANGE);
            break;
        }
        nphs += r.nidx;
        d->sidx = malloc((r.nidx ? r.nidx : 1) * sizeof *d->sidx);
        if (!d->sidx) {
            rc = NX_TR_ERR_NOMEM;
            break;
        }
        for (size_t j = 0; j < r.nidx; j++) {
            int64_t w = r.idx[j];
            if (w > (int64_t)npwcs) {
                char t[64];
                snprintf(t, sizeof t, ": [%lld]", (long long)w);
                nxt_seterr(err, errlen, E_DEST ": " E_RANGE " in %.*s%s", (int)dt[i].n, dt[i].p, t);
                rc = NX_TR_ERR_DEST;
                break;
            }
            d->sidx[d->nsidx++] = w >= 1 ? sti[w - 1] : 0;
        }
        d->iarg = r.iarg;
        d->sarg = r.sarg;
    }
    free(r.idx);
    free(sti);
    if (!rc && wild && strict && nphs < npwcs)
        rc = dest_err(err, errlen, tr->dest, strlen(tr->dest), E_ALL_WC);
    tr->dest_fwc = tok_is(dt[nd - 1], '>');
    free(dt);
    return rc;
}

int nx_transform_new(const char *src, const char *dest, bool strict, nx_transform **out,
                     char *err, size_t errlen) {
    *out = NULL;
    if (!dest || !*dest) return 0;
    if (!src || !*src) src = ">";
    nx_transform *tr = calloc(1, sizeof *tr);
    if (!tr || !(tr->src = strdup(src)) || !(tr->dest = strdup(dest))) {
        nx_transform_free(tr);
        return NX_TR_ERR_NOMEM;
    }
    int rc = build(tr, strict, err, errlen);
    if (rc) {
        if (rc == NX_TR_ERR_NOMEM) nxt_seterr(err, errlen, "out of memory");
        nx_transform_free(tr);
        return rc;
    }
    *out = tr;
    return 0;
}

/* ---- apply ------------------------------------------------------------------------------ */

uint32_t nxt_rnd32(void) {
    static __thread uint64_t s;
    if (!s) {
        if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
            s = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&s;
        if (!s) s = 0x9e3779b97f4a7c15ull;
    }
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 2685821657736338717ull) >> 32);
}

static tok src_tok(const tok *toks, size_t nt, size_t i) {
    return i < nt ? toks[i] : (tok){"", 0};
}

static bool put_num(nx_tr_out *o, long long v) {
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    return ob_put(o, b, (size_t)n);
}

/* Go strings.Split with an empty separator: one piece per UTF-8 sequence (invalid: 1 byte). */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (l <= 1 || l > n) return 1;
    unsigned lo = 0x80, hi = 0xbf;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (p[1] < lo || p[1] > hi) return 1;
    for (size_t i = 2; i < l; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 1;
    return l;
}

/* Next piece of s split by sep starting at *pos; false when none is left. */
static bool next_piece(tok s, tok sep, size_t *pos, bool *done, tok *piece) {
    if (*done) return false;
    size_t st = *pos;
    if (sep.n == 0) {
        if (st >= s.n) return false;
        size_t l = utf8_len((const unsigned char *)s.p + st, s.n - st);
        *piece = (tok){s.p + st, l};
        *pos = st + l;
        return true;
    }
    for (size_t i = st; i + sep.n <= s.n; i++) {
        if (!memcmp(s.p + i, sep.p, sep.n)) {
            *piece = (tok){s.p + st, i - st};
            *pos = i + sep.n;
            return true;
        }
    }
    *piece = (tok){s.p + st, s.n - st};
    *done = true;
    return true;
}

static bool apply_split(nx_tr_out *o, tok s, tok sep) {
    size_t pos = 0;
    bool done = false, ok = true;
    tok cur, nxt;
    bool have = next_piece(s, sep, &pos, &done, &cur);
    for (size_t j = 0; have; j++) {
        bool more = next_piece(s, sep, &pos, &done, &nxt);
        if (cur.n) ok &= ob_put(o, cur.p, cur.n);
        if (more && nxt.n && !(j == 0 && cur.n == 0)) ok &= ob_put(o, ".", 1);
        cur = nxt;
        have = more;
    }
    return ok;
}

static bool apply_fn(const nx_transform *tr, const dtok *d, const tok *toks, size_t nt,
                     nx_tr_out *o) {
    tok st = d->nsidx ? src_tok(toks, nt, d->sidx[0]) : (tok){"", 0};
    long long len = (long long)st.n, a = d->iarg;
    bool ok = true;
    switch (d->fn) {
    case NX_TR_PARTITION: {
        uint32_t h = 2166136261u;
        if (d->nsidx) {
            for (size_t k = 0; k < d->nsidx; k++) {
                tok t = src_tok(toks, nt, d->sidx[k]);
                for (size_t i = 0; i < t.n; i++) h = (h ^ (unsigned char)t.p[i]) * 16777619u;
            }
        } else {
            for (size_t k = 0; k < nt; k++) {
                if (k) h = (h ^ (unsigned char)'.') * 16777619u;
                for (size_t i = 0; i < toks[k].n; i++)
                    h = (h ^ (unsigned char)toks[k].p[i]) * 16777619u;
            }
        }
        return put_num(o, d->iarg == 0 ? 0 : (long long)(h % (uint32_t)d->iarg));
    }
    case NX_TR_WILDCARD:
        return !d->nsidx || d->sidx[0] >= nt || ob_put(o, toks[d->sidx[0]].p, toks[d->sidx[0]].n);
    case NX_TR_SPLIT_FROM_LEFT:
    case NX_TR_SPLIT_FROM_RIGHT:
        if (a > 0 && a < len) {
            size_t cut = (size_t)(d->fn == NX_TR_SPLIT_FROM_LEFT ? a : len - a);
            return ob_put(o, st.p, cut) && ob_put(o, ".", 1) && ob_put(o, st.p + cut, st.n - cut);
        }
        return ob_put(o, st.p, st.n);
    case NX_TR_SLICE_FROM_LEFT:
        if (a > 0 && a < len) {
            for (long long i = 0; i + a <= len; i += a) {
                if (i) ok &= ob_put(o, ".", 1);
                ok &= ob_put(o, st.p + i, (size_t)a);
                if (i + a != len && i + a + a > len) {
                    ok &= ob_put(o, ".", 1) && ob_put(o, st.p + i + a, (size_t)(len - i - a));
                    break;
                }
            }
            return ok;
        }
        return ob_put(o, st.p, st.n);
    case NX_TR_SLICE_FROM_RIGHT:
        if (a > 0 && a < len) {
            long long rem = len % a;
            if (rem) ok &= ob_put(o, st.p, (size_t)rem) && ob_put(o, ".", 1);
            for (long long i = rem; i + a <= len; i += a) {
                ok &= ob_put(o, st.p + i, (size_t)a);
                if (i + a < len) ok &= ob_put(o, ".", 1);
            }
            return ok;
        }
        return ob_put(o, st.p, st.n);
    case NX_TR_SPLIT:
        return apply_split(o, st, d->sarg);
    case NX_TR_LEFT:
        return a > 0 && a < len ? ob_put(o, st.p, (size_t)a) : ob_put(o, st.p, st.n);
    case NX_TR_RIGHT:
        return a > 0 && a < len ? ob_put(o, st.p + len - a, (size_t)a) : ob_put(o, st.p, st.n);
    case NX_TR_RANDOM:
        return put_num(o, a == 0 ? 0 : (long long)(nxt_rnd32() >> 1) % a);
    default:
        (void)tr;
        return true;
    }
}

/* Go TransformTokenizedSubject. */
int nxt_apply_tokens(const nx_transform *tr, const tok *toks, size_t nt, nx_tr_out *o) {
    bool ok = true;
    o->len = 0;
    ok &= ob_put(o, "", 0);
    for (size_t i = 0; i < tr->nd; i++) {
        const dtok *d = &tr->d[i];
        if (d->fn == NX_TR_NONE) {
            if (tok_is(d->lit, '>')) break;
            ok &= ob_put(o, d->lit.p, d->lit.n);
        } else {
            ok &= apply_fn(tr, d, toks, nt, o);
        }
        if (i + 1 < tr->nd) ok &= ob_put(o, ".", 1);
    }
    if (tr->dest_fwc) {
        for (size_t i = tr->nstoks - 1; i < nt; i++) {
            ok &= ob_put(o, toks[i].p, toks[i].n);
            if (i + 1 < nt) ok &= ob_put(o, ".", 1);
        }
    }
    if (!ok) {
        o->len = 0;
        return NX_TR_ERR_NOMEM;
    }
    return 0;
}

int nx_transform_apply(const nx_transform *tr, const char *subj, size_t len, nx_tr_out *o) {
    tok stack[32];
    size_t nt;
    tok *t = nxt_split_toks(subj, len, stack, 32, &nt);
    if (!t) return NX_TR_ERR_NOMEM;
    int rc = nxt_apply_tokens(tr, t, nt, o);
    if (t != stack) free(t);
    return rc;
}

int nx_transform_match(const nx_transform *tr, const char *subj, size_t len, nx_tr_out *o) {
    bool any = !strcmp(tr->src, ">");
    if (any && !strcmp(tr->dest, ">")) {
        o->len = 0;
        return ob_put(o, subj, len) ? 0 : NX_TR_ERR_NOMEM;
    }
    tok stack[32];
    size_t nt;
    tok *t = nxt_split_toks(subj, len, stack, 32, &nt);
    if (!t) return NX_TR_ERR_NOMEM;
    int rc = NX_TR_ERR_NOMATCH;
    for (size_t i = 0; i < nt; i++)
        if (t[i].n == 0 || tok_is(t[i], '*') || tok_is(t[i], '>')) rc = NX_TR_ERR_SUBJECT;
    if (rc != NX_TR_ERR_SUBJECT && (any || nxt_subset_match(t, nt, tr->stoks, tr->nstoks)))
        rc = nxt_apply_tokens(tr, t, nt, o);
    if (t != stack) free(t);
    return rc;
}

/* ---- tokenize / untokenize / reverse ---------------------------------------------------- */

char *nx_transform_tokenize(const char *subject) {
    nx_tr_out o = {0};
    size_t n = strlen(subject), st = 0, k = 1;
    bool ok = ob_put(&o, "", 0);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && subject[i] != '.') continue;
        if (st) ok &= ob_put(&o, ".", 1);
        if (i - st == 1 && subject[st] == '*') {
            char b[32];
            ok &= ob_put(&o, b, (size_t)snprintf(b, sizeof b, "$%zu", k++));
        } else {
            ok &= ob_put(&o, subject + st, i - st);
        }
        st = i + 1;
    }
    if (!ok) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

static bool is_placeholder(tok t) {
    tok arg, a1 = {0};
    if (t.n > 1 && t.p[0] == '$' && t.p[1] >= '1' && t.p[1] <= '9') return true;
    return fn_search(t.p, t.n, NX_TR_WILDCARD, &arg) && split_args(arg, &a1, 1) == 1 && a1.n;
}

int nx_transform_untokenize(const char *subject, char **filter, char **phs, size_t *nphs) {
    nx_tr_out f = {0}, p = {0};
    size_t n = strlen(subject), st = 0;
    bool ok = ob_put(&f, "", 0) && ob_put(&p, "", 0);
    *nphs = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && subject[i] != '.') continue;
        tok t = {subject + st, i - st};
        if (st) ok &= ob_put(&f, ".", 1);
        if (is_placeholder(t)) {
            if ((*nphs)++) ok &= ob_put(&p, "\n", 1);
            ok &= ob_put(&p, t.p, t.n) && ob_put(&f, "*", 1);
        } else {
            ok &= ob_put(&f, t.p, t.n);
        }
        st = i + 1;
    }
    if (!ok) {
        free(f.buf);
        free(p.buf);
        return NX_TR_ERR_NOMEM;
    }
    *filter = f.buf;
    *phs = p.buf;
    return 0;
}

nx_transform *nx_transform_reverse(const nx_transform *tr) {
    char *nsrc = NULL, *phs = NULL;
    size_t nphs;
    if (nx_transform_untokenize(tr->dest, &nsrc, &phs, &nphs)) return NULL;
    nx_tr_out d = {0};
    bool ok = ob_put(&d, "", 0), short_ = false;
    const char *ph_at = phs;
    for (size_t i = 0; i < tr->nstoks && ok; i++) {
        if (i) ok &= ob_put(&d, ".", 1);
        if (!tok_is(tr->stoks[i], '*')) {
            ok &= ob_put(&d, tr->stoks[i].p, tr->stoks[i].n);
            continue;
        }
        if (!nphs--) {
            short_ = true;
            break;
        }
        const char *e = strchr(ph_at, '\n');
        size_t l = e ? (size_t)(e - ph_at) : strlen(ph_at);
        ok &= ob_put(&d, ph_at, l);
        ph_at += l + (e != NULL);
    }
    nx_transform *r = NULL;
    if (ok && !short_) nx_transform_new(nsrc, d.buf, true, &r, NULL, 0);
    free(nsrc);
    free(phs);
    free(d.buf);
    return r;
}

/* ---- ValidateMapping -------------------------------------------------------------------- */

int nx_transform_validate_mapping(const char *src, const char *dest, char *err, size_t errlen) {
    if (!dest || !*dest) return 0;
    static const nx_tr_fn known[] = {NX_TR_PARTITION,       NX_TR_WILDCARD,
                                     NX_TR_SPLIT_FROM_LEFT, NX_TR_SPLIT_FROM_RIGHT,
                                     NX_TR_SLICE_FROM_LEFT, NX_TR_SLICE_FROM_RIGHT,
                                     NX_TR_SPLIT,           NX_TR_RANDOM};
    size_t n = strlen(dest), st = 0;
    bool sfwc = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && dest[i] != '.') continue;
        const char *t = dest + st;
        size_t l = i - st;
        st = i + 1;
        if (l == 0 || sfwc) return dest_err(err, errlen, t, l, E_TRANSFORM);
        if (l > 4 && t[0] == '{' && t[1] == '{' && t[l - 2] == '}' && t[l - 1] == '}') {
            bool m = false;
            tok arg;
            for (size_t k = 0; k < sizeof known / sizeof known[0] && !m; k++)
                m = fn_search(t, l, known[k], &arg);
            if (!m) return dest_err(err, errlen, t, l, E_UNKNOWN);
            continue;
        }
        if (l == 1 && t[0] == '>') {
            sfwc = true;
        } else {
            for (size_t j = 0; j < l; j++)
                if (re_space(t[j])) return dest_err(err, errlen, "", 0, E_TRANSFORM);
        }
    }
    nx_transform *tr;
    int rc = nx_transform_new(src, dest, false, &tr, err, errlen);
    nx_transform_free(tr);
    return rc;
}

/* Go strconv.Quote (%q); malloc'd.  Valid multi-byte UTF-8 is kept (Go escapes the
 * non-printable runes among them). */
char *nxt_go_quote(const char *s, size_t n) {
    nx_tr_out o = {0};
    bool ok = ob_put(&o, "\"", 1);
    for (size_t i = 0; i < n && ok;) {
        unsigned char c = (unsigned char)s[i];
        char b[8];
        const char *esc = NULL;
        switch (c) {
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\v': esc = "\\v"; break;
        case '\\': esc = "\\\\"; break;
        case '"': esc = "\\\""; break;
        default: break;
        }
        if (esc) {
            ok &= ob_put(&o, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(b, sizeof b, "\\x%02x", c);
            ok &= ob_put(&o, b, 4);
            i++;
        } else if (c < 0x80) {
            ok &= ob_put(&o, s + i, 1);
            i++;
        } else {
            size_t l = utf8_len((const unsigned char *)s + i, n - i);
            if (l > 1) {
                ok &= ob_put(&o, s + i, l);
            } else {
                snprintf(b, sizeof b, "\\x%02x", c);
                ok &= ob_put(&o, b, 4);
            }
            i += l;
        }
    }
    ok &= ob_put(&o, "\"", 1);
    if (!ok) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
