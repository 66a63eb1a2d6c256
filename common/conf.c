/* NATS configuration parser: port of nats-server v2.14.5 conf/parse.go (pedantic mode, as the
 * Go server runs it) on top of common/conf_lex.c.  See conf.h for the semantics.
 *
 * Design notes (why, not what):
 *  - The whole tree lives in one arena owned by the root, so a $ref can share the referenced
 *    subtree (as Go shares the map) without copies or refcounts, and freeing is one walk over
 *    the chunks.  A reference costs one node header, which keeps memory linear in the input.
 *  - Maps and arrays being built live in malloc'd buffers on the context stack (with a hash
 *    index for maps, since $refs and duplicate keys look keys up while building) and are
 *    copied into the arena at their closing bracket.
 *  - Go's key stack is kept as is: a value that is never set (e.g. "1kbi") leaves its key on
 *    the stack and the next value set in that map takes the wrong key, exactly as in Go.
 */
#include "common/conf.h"
#include "common/conf_lex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- arena ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct doc {
    nx_conf_value root; /* first member: nx_conf_free casts the root back to its doc */
    chunk *chunks;
} doc;

#define CHUNK_SIZE 16384

static void *aalloc(doc *d, size_t n) {
    n = (n + 15) & ~(size_t)15;
    chunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c && cap != CHUNK_SIZE) { /* a big block: keep the current chunk in front */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            d->chunks = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static char *astrdup(doc *d, const char *s, size_t n) {
    char *p = aalloc(d, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- parse state ---- */

typedef struct envcache {
    struct envcache *next;
    char *name;
    nx_conf_value *v;
} envcache;

/* State shared by a parse and its include / environment sub-parses. */
typedef struct shared {
    doc *d;
    unsigned flags;
    int nincludes;
    envcache *env; /* successful environment expansions: a $VAR parses the same every time */
    char *msg;
    bool oom;
} shared;

typedef struct envref { /* Go's envVarReferences: names being expanded, for cycles */
    const struct envref *up;
    const char *name;
    int depth;
} envref;

typedef struct incl { /* files being parsed, for include cycles */
    const struct incl *up;
    dev_t dev;
    ino_t ino;
    int depth;
} incl;

typedef struct ctxent {
    nx_conf_value *v; /* the map or array node */
    void *items;      /* nx_conf_entry[] or nx_conf_value *[] */
    size_t len, cap;
    uint32_t *hash; /* maps: open addressing of entry index + 1 */
    size_t hcap;
} ctxent;

typedef struct pkey {
    const char *s;
    size_t len;
    int line, pos;
} pkey;

typedef struct parser {
    shared *sh;
    const char *fp;  /* Go's token sourceFile: the path as given, "" for none */
    const char *dir; /* Go's p.fp: filepath.Dir of it, base for includes */
    bool env;        /* parsing an environment value (Go parses those non-pedantic) */
    const envref *refs;
    const incl *inc;
    ctxent *ctx;
    size_t nctx, capctx;
    pkey *keys;
    size_t nkeys, capkeys;
} parser;

/* malloc'd printf; NULL on failure. */
static char *vstrf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vstrf(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *m = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (m) vsnprintf(m, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return m;
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *m = vstrf(fmt, ap);
    va_end(ap);
    return m;
}

static void set_msg(shared *sh, char *m) {
    if (!m) {
        sh->oom = true;
        return;
    }
    free(sh->msg);
    sh->msg = m;
}

/* Error at a position: Go's message prefixed with where it happened. */
static int fail(parser *p, int line, int pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(parser *p, int line, int pos, const char *fmt, ...) {
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    char *body = vstrf(fmt, ap);
    va_end(ap);
    if (body && p->env) /* the enclosing variable error says where */
        m = body, body = NULL;
    else if (body && p->fp[0])
        m = strf("%s:%d:%d: %s", p->fp, line, pos, body);
    else if (body)
        m = strf("%d:%d: %s", line, pos, body);
    free(body);
    set_msg(p->sh, m);
    return -1;
}

static int oom(parser *p) {
    p->sh->oom = true;
    return -1;
}

static bool grow(void **buf, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*buf, n * elem);
    if (!q) return false;
    *buf = q;
    *cap = n;
    return true;
}

/* ---- Go path/filepath (Unix): Clean, Dir, Join ---- */

static char *go_clean(const char *path, size_t n) {
    char *out = malloc(n + 2);
    if (!out) return NULL;
    if (n == 0) return strcpy(out, ".");
    bool rooted = path[0] == '/';
    size_t r = 0, w = 0, dotdot = 0;
    if (rooted) out[w++] = '/', r = dotdot = 1;
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0) out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0)) out[w++] = '/';
            for (; r < n && path[r] != '/'; r++)
                out[w++] = path[r];
        }
    }
    if (w == 0) out[w++] = '.';
    out[w] = '\0';
    return out;
}

static char *go_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    return go_clean(path, slash ? (size_t)(slash - path) + 1 : 0);
}

static char *go_join(const char *dir, const char *name, size_t nlen) {
    size_t dl = strlen(dir);
    char *tmp = malloc(dl + nlen + 2);
    if (!tmp) return NULL;
    size_t n = 0;
    memcpy(tmp, dir, dl);
    n = dl;
    if (dl && nlen) tmp[n++] = '/';
    memcpy(tmp + n, name, nlen);
    n += nlen;
    char *out = n ? go_clean(tmp, n) : strdup("");
    free(tmp);
    return out;
}

/* ---- files ---- */

/* Go's os.ReadFile errors: "open PATH: reason" / "read PATH: reason". */
static char *os_err(const char *op, const char *path, int e) {
    const char *s = strerror(e);
    return strf("%s %s: %c%s", op, path, (s[0] >= 'A' && s[0] <= 'Z') ? s[0] + 32 : s[0], s + 1);
}

static int read_file(shared *sh, const char *path, const incl *chain, incl *self, char **data,
                     size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_msg(sh, os_err("open", path, errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0) {
        self->dev = st.st_dev;
        self->ino = st.st_ino;
        for (const incl *i = chain; i; i = i->up) {
            if (i->dev == st.st_dev && i->ino == st.st_ino) {
                set_msg(sh, strf("include cycle: %s is already being parsed", path));
                close(fd);
                return -1;
            }
        }
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap && !grow((void **)&buf, &cap, cap + 65536, 1)) {
            set_msg(sh, NULL);
            break;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            set_msg(sh, os_err("read", path, errno));
            break;
        }
        if (r == 0) {
            close(fd);
            *data = buf;
            *len = n;
            return 0;
        }
        n += (size_t)r;
        if (n > NX_CONF_MAX_FILE) {
            set_msg(sh, strf("read %s: file too large (max %u bytes)", path, NX_CONF_MAX_FILE));
            break;
        }
    }
    free(buf);
    close(fd);
    return -1;
}

/* ---- building maps and arrays ---- */

static uint32_t hash_key(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static long map_find(const ctxent *c, const char *k, size_t kl) {
    if (!c->hcap) return -1;
    const nx_conf_entry *e = c->items;
    for (size_t i = hash_key(k, kl) & (c->hcap - 1);; i = (i + 1) & (c->hcap - 1)) {
        uint32_t slot = c->hash[i];
        if (!slot) return -1;
        if (e[slot - 1].key_len == kl && memcmp(e[slot - 1].key, k, kl) == 0) return slot - 1;
    }
}

static bool hash_put(uint32_t *h, size_t hcap, const nx_conf_entry *e, uint32_t idx) {
    size_t i = hash_key(e[idx].key, e[idx].key_len) & (hcap - 1);
    while (h[i])
        i = (i + 1) & (hcap - 1);
    h[i] = idx + 1;
    return true;
}

/* Go's ctx[key] = val: replace an existing exact key, else append. */
static int map_set(parser *p, ctxent *c, const char *k, size_t kl, nx_conf_value *v) {
    long at = map_find(c, k, kl);
    nx_conf_entry *e = c->items;
    if (at >= 0) {
        e[at].value = v;
        return 0;
    }
    if (c->len >= UINT32_MAX - 1 || !grow(&c->items, &c->cap, c->len + 1, sizeof *e)) return oom(p);
    e = c->items;
    e[c->len] = (nx_conf_entry){k, kl, v};
    c->len++;
    if (c->len * 2 > c->hcap) {
        size_t hcap = c->hcap ? c->hcap * 2 : 16;
        while (c->len * 2 > hcap)
            hcap *= 2;
        uint32_t *h = calloc(hcap, sizeof *h);
        if (!h) return oom(p);
        free(c->hash);
        c->hash = h;
        c->hcap = hcap;
        for (size_t i = 0; i < c->len; i++)
            hash_put(h, hcap, e, (uint32_t)i);
    } else {
        hash_put(c->hash, c->hcap, e, (uint32_t)(c->len - 1));
    }
    return 0;
}

static nx_conf_value *new_node(parser *p, nx_conf_type t, const nx_conf_item *it) {
    nx_conf_value *v = aalloc(p->sh->d, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = t;
    v->line = it ? it->line : 0;
    v->col = it ? it->pos : 0;
    v->file = p->fp;
    v->flags = p->env ? NX_CONF_F_NO_POS : 0;
    return v;
}

static int push_ctx(parser *p, nx_conf_value *v) {
    if (!grow((void **)&p->ctx, &p->capctx, p->nctx + 1, sizeof *p->ctx)) return oom(p);
    p->ctx[p->nctx++] = (ctxent){.v = v};
    return 0;
}

/* Moves a finished container into the arena and computes its height. */
static int close_ctx(parser *p, ctxent *c) {
    nx_conf_value *v = c->v;
    int h = 0;
    size_t esz = v->type == NX_CONF_MAP ? sizeof(nx_conf_entry) : sizeof(nx_conf_value *);
    /* Never NULL, even when empty, so that items + len is valid pointer arithmetic. */
    void *items = aalloc(p->sh->d, (c->len ? c->len : 1) * esz);
    if (!items) return oom(p);
    if (c->len) memcpy(items, c->items, c->len * esz);
    for (size_t i = 0; i < c->len; i++) {
        const nx_conf_value *child = v->type == NX_CONF_MAP ? ((nx_conf_entry *)items)[i].value
                                                            : ((nx_conf_value **)items)[i];
        if (child->height > h) h = child->height;
    }
    v->height = h + 1;
    if (v->type == NX_CONF_MAP) {
        v->u.map.items = items;
        v->u.map.len = c->len;
    } else {
        v->u.arr.items = items;
        v->u.arr.len = c->len;
    }
    free(c->items);
    free(c->hash);
    c->items = c->hash = NULL;
    return 0;
}

/* Go's setValue in pedantic mode: append to an array, or pop a key and store under it, the
 * value taking the key's position. */
static int set_value(parser *p, nx_conf_value *v) {
    ctxent *c = &p->ctx[p->nctx - 1];
    if ((long)p->nctx + v->height > NX_CONF_MAX_DEPTH + 1)
        return fail(p, v->line, v->col, "nesting too deep (max %d)", NX_CONF_MAX_DEPTH);
    if (c->v->type == NX_CONF_ARRAY) {
        if (!grow(&c->items, &c->cap, c->len + 1, sizeof v)) return oom(p);
        ((nx_conf_value **)c->items)[c->len++] = v;
        return 0;
    }
    if (p->nkeys == 0) return fail(p, v->line, v->col, "BUG in parser, keys stack empty");
    pkey k = p->keys[--p->nkeys];
    v->line = k.line;
    v->col = k.pos;
    return map_set(p, c, k.s, k.len, v);
}

/* ---- scalars ---- */

/* Go's strconv.ParseInt(s, 10, 64): 0 ok, 1 syntax error, 2 out of range (checked as the
 * digits are read, so an overflow is reported before a later bad character). */
static int go_parse_int(const char *s, size_t n, int64_t *out) {
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) neg = s[0] == '-', s++, n--;
    if (!n) return 1;
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 1;
        if (u > (UINT64_MAX - 9) / 10) return 2;
        u = u * 10 + (uint64_t)(s[i] - '0');
    }
    if (!neg && u > (uint64_t)INT64_MAX) return 2;
    if (neg && u > (uint64_t)INT64_MAX + 1) return 2;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

static bool ascii_ieq(const char *a, size_t an, const char *b) {
    size_t bn = strlen(b);
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != b[i]) return false;
    }
    return true;
}

static int parse_integer(parser *p, const nx_conf_item *it) {
    /* Go counts runes that are digits or '-' and then uses the count as a byte index. */
    size_t nrunes = 0;
    for (size_t i = 0; i < it->len;) {
        int w, r = nx_conf_decode_rune(it->val + i, it->len - i, &w);
        if (!nx_conf_is_digit(r) && r != '-') break;
        nrunes++;
        i += (size_t)w;
    }
    int64_t num = 0;
    int rc = go_parse_int(it->val, nrunes, &num);
    if (rc == 2) return fail(p, it->line, it->pos, "integer '%s' is out of the range", it->val);
    if (rc) return fail(p, it->line, it->pos, "expected integer, but got '%s'", it->val);
    const char *sfx = it->val + nrunes;
    size_t sl = it->len - nrunes;
    while (sl && strchr(" \t\n\r\v\f", *sfx))
        sfx++, sl--;
    while (sl && strchr(" \t\n\r\v\f", sfx[sl - 1]))
        sl--;
    static const struct {
        const char *s;
        int64_t m;
    } sfxs[] = {
        {"", 1},
        {"k", 1000LL},
        {"kb", 1LL << 10},
        {"ki", 1LL << 10},
        {"kib", 1LL << 10},
        {"m", 1000000LL},
        {"mb", 1LL << 20},
        {"mi", 1LL << 20},
        {"mib", 1LL << 20},
        {"g", 1000000000LL},
        {"gb", 1LL << 30},
        {"gi", 1LL << 30},
        {"gib", 1LL << 30},
        {"t", 1000000000000LL},
        {"tb", 1LL << 40},
        {"ti", 1LL << 40},
        {"tib", 1LL << 40},
        {"p", 1000000000000000LL},
        {"pb", 1LL << 50},
        {"pi", 1LL << 50},
        {"pib", 1LL << 50},
        {"e", 1000000000000000000LL},
        {"eb", 1LL << 60},
        {"ei", 1LL << 60},
        {"eib", 1LL << 60},
    };
    for (size_t i = 0; i < sizeof sfxs / sizeof sfxs[0]; i++) {
        if (!ascii_ieq(sfx, sl, sfxs[i].s)) continue;
        nx_conf_value *v = new_node(p, NX_CONF_INT, it);
        if (!v) return oom(p);
        v->u.i = (int64_t)((uint64_t)num * (uint64_t)sfxs[i].m); /* wraps like Go */
        return set_value(p, v);
    }
    return 0; /* unknown suffix: Go sets nothing */
}

static int parse_float(parser *p, const nx_conf_item *it) {
    for (size_t i = 0; i < it->len; i++) { /* Go's ParseFloat takes ASCII digits only */
        char c = it->val[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-'))
            return fail(p, it->line, it->pos, "expected float, but got '%s'", it->val);
    }
    double f = strtod(it->val, NULL);
    if (isinf(f)) return fail(p, it->line, it->pos, "float '%s' is out of the range", it->val);
    nx_conf_value *v = new_node(p, NX_CONF_FLOAT, it);
    if (!v) return oom(p);
    v->u.f = f;
    return set_value(p, v);
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Go's time.Parse("2006-01-02T15:04:05Z", s). */
static bool parse_time(const char *s, size_t n, int64_t *out) {
    static const char pat[] = "0000-00-00T00:00:00Z";
    if (n != sizeof pat - 1) return false;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) return false;
#define NUM2(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
    int y = NUM2(0) * 100 + NUM2(2), mo = NUM2(5), d = NUM2(8), h = NUM2(11), mi = NUM2(14),
        sec = NUM2(17);
#undef NUM2
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 || d < 1) return false;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* ---- variables and includes ---- */

static int run_parser(shared *sh, const char *data, size_t len, const char *fp, bool env,
                      const envref *refs, const incl *inc, nx_conf_value *top);

static nx_conf_value *new_map(parser *p) {
    nx_conf_value *v = new_node(p, NX_CONF_MAP, NULL);
    return v;
}

/* Go's lookupVariable, past the maps: the environment, with cycle detection. */
static int lookup_env(parser *p, const nx_conf_item *it, nx_conf_value **found) {
    const char *name = it->val;
    for (const envref *r = p->refs; r; r = r->up)
        if (strcmp(r->name, name) == 0)
            return fail(p, it->line, it->pos,
                        "variable reference for '%s' on line %d could not "
                        "be parsed: variable reference cycle for '%s'",
                        name, it->line, name);
    if ((p->sh->flags & NX_CONF_NO_ENV) || memchr(name, 0, it->len)) return 0;
    for (envcache *e = p->sh->env; e; e = e->next)
        if (strcmp(e->name, name) == 0) return *found = e->v, 0;
    const char *val = getenv(name);
    if (!val) return 0;
    envref self = {p->refs, name, p->refs ? p->refs->depth + 1 : 1};
    if (self.depth > NX_CONF_MAX_ENV_DEPTH)
        return fail(p, it->line, it->pos,
                    "variable reference for '%s' on line %d could not be "
                    "parsed: too many nested environment variables",
                    name, it->line);
    char *data = strf("pk=%s", val);
    nx_conf_value *top = new_map(p);
    envcache *ec = malloc(sizeof *ec);
    char *nm = strdup(name);
    if (!data || !top || !ec || !nm) {
        free(data), free(ec), free(nm);
        return oom(p);
    }
    int rc = run_parser(p->sh, data, strlen(data), "", true, &self, p->inc, top);
    free(data);
    if (rc) {
        free(ec), free(nm);
        if (p->sh->oom) return -1;
        return fail(p, it->line, it->pos,
                    "variable reference for '%s' on line %d could not be "
                    "parsed: %s",
                    name, it->line, p->sh->msg);
    }
    *found = nx_conf_map_get_exact(top, "pk", 2);
    if (!*found) {
        free(ec), free(nm);
        return 0;
    }
    *ec = (envcache){p->sh->env, nm, *found};
    p->sh->env = ec;
    return 0;
}

static int resolve_variable(parser *p, const nx_conf_item *it) {
    nx_conf_value *found = NULL, *v;
    if (it->len >= 3 && memcmp(it->val, "2a$", 3) == 0) { /* a bcrypt hash, not a variable */
        if (!(v = new_node(p, NX_CONF_STRING, it))) return oom(p);
        char *s = aalloc(p->sh->d, it->len + 2);
        if (!s) return oom(p);
        s[0] = '$';
        memcpy(s + 1, it->val, it->len + 1);
        v->u.s.ptr = s;
        v->u.s.len = it->len + 1;
        return set_value(p, v);
    }
    for (size_t i = p->nctx; i-- > 0 && !found;) {
        ctxent *c = &p->ctx[i];
        long at = c->v->type == NX_CONF_MAP ? map_find(c, it->val, it->len) : -1;
        if (at >= 0) {
            found = ((nx_conf_entry *)c->items)[at].value;
            found->flags |= NX_CONF_F_USED_VARIABLE;
        }
    }
    if (!found && lookup_env(p, it, &found)) return -1;
    if (!found)
        return fail(p, it->line, it->pos,
                    "variable reference for '%s' on line %d can not be "
                    "found",
                    it->val, it->line);
    /* A new token at the reference (as Go wraps it) sharing the referenced value. */
    if (!(v = aalloc(p->sh->d, sizeof *v))) return oom(p);
    *v = *found;
    v->line = it->line;
    v->col = it->pos;
    v->file = p->fp;
    v->flags = NX_CONF_F_FROM_VARIABLE | (p->env ? NX_CONF_F_NO_POS : 0);
    return set_value(p, v);
}

static int include_file(parser *p, const nx_conf_item *it) {
    const char *name = it->val;
    int depth = p->inc ? p->inc->depth + 1 : 1;
    if (p->sh->flags & NX_CONF_NO_INCLUDE)
        return fail(p, it->line, it->pos,
                    "error parsing include file '%s', includes are "
                    "disabled",
                    name);
    if (++p->sh->nincludes > NX_CONF_MAX_INCLUDES || depth > NX_CONF_MAX_INCLUDE_DEPTH)
        return fail(p, it->line, it->pos,
                    "error parsing include file '%s', too many nested "
                    "or total includes (max depth %d, max %d files)",
                    name, NX_CONF_MAX_INCLUDE_DEPTH, NX_CONF_MAX_INCLUDES);
    char *path = go_join(p->dir, name, it->len), *data = NULL;
    const char *fp = path ? astrdup(p->sh->d, path, strlen(path)) : NULL;
    nx_conf_value *top = new_map(p);
    free(path);
    if (!fp || !top) return oom(p);
    incl self = {p->inc, 0, 0, depth};
    size_t len = 0;
    int rc = read_file(p->sh, fp, p->inc, &self, &data, &len);
    if (!rc) {
        rc = run_parser(p->sh, data, len, fp, false, NULL, &self, top);
        free(data);
    }
    if (rc) {
        if (p->sh->oom) return -1;
        return fail(p, it->line, it->pos, "error parsing include file '%s', %s", name, p->sh->msg);
    }
    /* Go pushes each included key with its token's own position and sets the value. */
    for (size_t i = 0; i < top->u.map.len; i++) {
        nx_conf_entry *e = &top->u.map.items[i];
        if (!grow((void **)&p->keys, &p->capkeys, p->nkeys + 1, sizeof *p->keys)) return oom(p);
        p->keys[p->nkeys++] = (pkey){e->key, e->key_len, e->value->line, e->value->col};
        if (set_value(p, e->value)) return -1;
    }
    return 0;
}

/* ---- the item loop (Go's processItem) ---- */

static int process_item(parser *p, const nx_conf_item *it) {
    nx_conf_value *v;
    switch (it->type) {
    case NX_CONF_ITEM_ERROR:
        return fail(p, it->line, it->pos, "Parse error on line %d: '%s'", it->line, it->val);
    case NX_CONF_ITEM_KEY: {
        const char *k = astrdup(p->sh->d, it->val, it->len);
        if (!k || !grow((void **)&p->keys, &p->capkeys, p->nkeys + 1, sizeof *p->keys))
            return oom(p);
        p->keys[p->nkeys++] = (pkey){k, it->len, it->line, it->pos};
        return 0;
    }
    case NX_CONF_ITEM_MAP_START:
    case NX_CONF_ITEM_ARRAY_START:
        if (p->nctx > NX_CONF_MAX_DEPTH)
            return fail(p, it->line, it->pos, "nesting too deep (max %d)", NX_CONF_MAX_DEPTH);
        v = new_node(p, it->type == NX_CONF_ITEM_MAP_START ? NX_CONF_MAP : NX_CONF_ARRAY, it);
        if (!v) return oom(p);
        return push_ctx(p, v);
    case NX_CONF_ITEM_MAP_END:
    case NX_CONF_ITEM_ARRAY_END: {
        if (p->nctx < 2) return fail(p, it->line, it->pos, "BUG in parser, context stack empty");
        ctxent c = p->ctx[--p->nctx];
        int rc = close_ctx(p, &c);
        free(c.items);
        free(c.hash);
        if (rc) return rc;
        c.v->line = it->line;
        c.v->col = it->pos;
        return set_value(p, c.v);
    }
    case NX_CONF_ITEM_STRING:
        if (!(v = new_node(p, NX_CONF_STRING, it))) return oom(p);
        if (!(v->u.s.ptr = astrdup(p->sh->d, it->val, it->len))) return oom(p);
        v->u.s.len = it->len;
        return set_value(p, v);
    case NX_CONF_ITEM_INTEGER:
        return parse_integer(p, it);
    case NX_CONF_ITEM_FLOAT:
        return parse_float(p, it);
    case NX_CONF_ITEM_BOOL: {
        bool t = ascii_ieq(it->val, it->len, "true") || ascii_ieq(it->val, it->len, "yes") ||
                 ascii_ieq(it->val, it->len, "on");
        bool f = ascii_ieq(it->val, it->len, "false") || ascii_ieq(it->val, it->len, "no") ||
                 ascii_ieq(it->val, it->len, "off");
        if (!t && !f)
            return fail(p, it->line, it->pos, "expected boolean value, but got '%s'", it->val);
        if (!(v = new_node(p, NX_CONF_BOOL, it))) return oom(p);
        v->u.b = t;
        return set_value(p, v);
    }
    case NX_CONF_ITEM_DATETIME: {
        int64_t t;
        if (!parse_time(it->val, it->len, &t))
            return fail(p, it->line, it->pos, "expected Zulu formatted DateTime, but got '%s'",
                        it->val);
        if (!(v = new_node(p, NX_CONF_TIME, it))) return oom(p);
        v->u.t = t;
        return set_value(p, v);
    }
    case NX_CONF_ITEM_VARIABLE:
        return resolve_variable(p, it);
    case NX_CONF_ITEM_INCLUDE:
        return include_file(p, it);
    default: /* comments, EOF */
        return 0;
    }
}

/* Go's parser.parse: runs the items of data into the map node top. */
static int run_parser(shared *sh, const char *data, size_t len, const char *fp, bool env,
                      const envref *refs, const incl *inc, nx_conf_value *top) {
    parser p = {.sh = sh, .fp = fp, .env = env, .refs = refs, .inc = inc};
    char *dir = go_dir(fp);
    nx_conf_lexer *lx = nx_conf_lex_new(data, len);
    int rc = -1;
    if (!dir || !lx || !(p.dir = astrdup(sh->d, dir, strlen(dir))) || push_ctx(&p, top)) {
        sh->oom = true;
        goto out;
    }
    nx_conf_item it, prev = {.type = NX_CONF_ITEM_NIL};
    bool prev_brace = false;
    for (;;) {
        nx_conf_lex_next(lx, &it);
        if (it.type == NX_CONF_ITEM_EOF) {
            /* A key with no value at the end is invalid, except a stray '}' (JSON style). */
            if (prev.type == NX_CONF_ITEM_KEY && !prev_brace) {
                set_msg(sh, strf("config is invalid (%s:%d:%d)", fp, it.line, it.pos));
                break;
            }
            rc = close_ctx(&p, &p.ctx[0]);
            break;
        }
        prev = it;
        prev_brace = it.len == 1 && it.val[0] == '}';
        if (process_item(&p, &it)) break;
    }
out:
    for (size_t i = 0; i < p.nctx; i++) {
        free(p.ctx[i].items);
        free(p.ctx[i].hash);
    }
    free(p.ctx);
    free(p.keys);
    free(dir);
    nx_conf_lex_free(lx);
    return rc;
}

/* ---- public API ---- */

static int parse_common(const char *data, size_t len, const char *file, unsigned flags,
                        const incl *inc, nx_conf_value **out, char *err, size_t errlen) {
    doc *d = calloc(1, sizeof *d);
    shared sh = {.d = d, .flags = flags};
    int rc = -1;
    *out = NULL;
    if (d) {
        d->root.type = NX_CONF_MAP;
        d->root.flags = NX_CONF_F_ROOT;
        d->root.file = astrdup(d, file ? file : "", file ? strlen(file) : 0);
        if (!d->root.file)
            sh.oom = true;
        else if (len > INT_MAX)
            set_msg(&sh, strdup("config too large"));
        else
            rc = run_parser(&sh, data, len, d->root.file, false, NULL, inc, &d->root);
    } else {
        sh.oom = true;
    }
    if (rc == 0) {
        *out = &d->root;
    } else {
        if (errlen) snprintf(err, errlen, "%s", sh.oom || !sh.msg ? "out of memory" : sh.msg);
        nx_conf_free(d ? &d->root : NULL);
    }
    free(sh.msg);
    for (envcache *e = sh.env, *n; e; e = n) {
        n = e->next;
        free(e->name);
        free(e);
    }
    return rc;
}

int nx_conf_parse(const char *data, size_t len, const nx_conf_opts *opts, nx_conf_value **out,
                  char *err, size_t errlen) {
    return parse_common(data ? data : "", data ? len : 0, opts ? opts->file : NULL,
                        opts ? opts->flags : 0, NULL, out, err, errlen);
}

int nx_conf_parse_string(const char *text, nx_conf_value **out, char *err, size_t errlen) {
    return nx_conf_parse(text, text ? strlen(text) : 0, NULL, out, err, errlen);
}

int nx_conf_parse_file_opts(const char *path, unsigned flags, nx_conf_value **out, char *err,
                            size_t errlen) {
    shared sh = {0};
    incl self = {NULL, 0, 0, 0};
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    if (read_file(&sh, path, NULL, &self, &data, &len)) {
        if (errlen) snprintf(err, errlen, "%s", sh.msg ? sh.msg : "out of memory");
        free(sh.msg);
        return -1;
    }
    int rc = parse_common(data, len, path, flags, &self, out, err, errlen);
    free(data);
    return rc;
}

int nx_conf_parse_file(const char *path, nx_conf_value **out, char *err, size_t errlen) {
    return nx_conf_parse_file_opts(path, 0, out, err, errlen);
}

void nx_conf_free(nx_conf_value *root) {
    if (!root || !(root->flags & NX_CONF_F_ROOT)) return;
    doc *d = (doc *)root;
    for (chunk *c = d->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(d);
}

nx_conf_value *nx_conf_map_get_exact(const nx_conf_value *map, const char *key, size_t key_len) {
    if (!map || map->type != NX_CONF_MAP) return NULL;
    for (size_t i = map->u.map.len; i-- > 0;) {
        const nx_conf_entry *e = &map->u.map.items[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return e->value;
    }
    return NULL;
}

static bool strncasecmp_ascii(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if ((unsigned)(x - 'A') < 26u) x += 32;
        if ((unsigned)(y - 'A') < 26u) y += 32;
        if (x != y) return false;
    }
    return true;
}

nx_conf_value *nx_conf_map_get(const nx_conf_value *map, const char *key) {
    if (!map || map->type != NX_CONF_MAP || !key) return NULL;
    size_t kl = strlen(key);
    for (size_t i = map->u.map.len; i-- > 0;) {
        const nx_conf_entry *e = &map->u.map.items[i];
        if (e->key_len == kl && strncasecmp_ascii(e->key, key, kl)) return e->value;
    }
    return NULL;
}

size_t nx_conf_len(const nx_conf_value *v) {
    if (!v) return 0;
    if (v->type == NX_CONF_MAP) return v->u.map.len;
    if (v->type == NX_CONF_ARRAY) return v->u.arr.len;
    return 0;
}

const char *nx_conf_type_name(nx_conf_type t) {
    static const char *n[] = {"?", "map", "array", "string", "int", "float", "bool", "time"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

/* ---- Go encoding/json ---- */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
} jbuf;

static void jput(jbuf *b, const char *s, size_t n) {
    if (b->oom || !grow((void **)&b->p, &b->cap, b->len + n + 1, 1)) {
        b->oom = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jputs(jbuf *b, const char *s) {
    jput(b, s, strlen(s));
}

/* Go's appendString with escapeHTML: <, >, & and control bytes as \u00XX (except \b \f \n
 * \r \t), invalid UTF-8 as \ufffd, U+2028/U+2029 escaped. */
static void jstr(jbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char e[8];
    jput(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                i++;
                continue;
            }
            jput(b, s + start, i - start);
            const char *m = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\f' ? "\\f"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : NULL;
            if (!m) {
                snprintf(e, sizeof e, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
                m = e;
            }
            jputs(b, m);
            start = ++i;
            continue;
        }
        int w, r = nx_conf_decode_rune(s + i, n - i, &w);
        if ((r == 0xFFFD && w == 1) || r == 0x2028 || r == 0x2029) {
            jput(b, s + start, i - start);
            jputs(b, r == 0xFFFD ? "\\ufffd" : r == 0x2028 ? "\\u2028" : "\\u2029");
            start = i + (size_t)w;
        }
        i += (size_t)w;
    }
    jput(b, s + start, n - start);
    jput(b, "\"", 1);
}

/* Go's float encoder: shortest round-trip digits, 'f' format unless the magnitude is below
 * 1e-6 or at least 1e21, then 'e' with a trimmed exponent ("1e-7", "1e+21"). */
static void jfloat(jbuf *b, double f) {
    char tmp[64], out[400];
    if (f == 0) {
        jputs(b, signbit(f) ? "-0" : "0");
        return;
    }
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
    char digits[32];
    int nd = 0, exp10;
    const char *q = tmp + (tmp[0] == '-');
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    exp10 = atoi(q + 1);
    char *o = out;
    if (f < 0) *o++ = '-';
    double a = fabs(f);
    if (a < 1e-6 || a >= 1e21) {
        *o++ = digits[0];
        if (nd > 1) *o++ = '.', memcpy(o, digits + 1, (size_t)nd - 1), o += nd - 1;
        o += sprintf(o, "e%c%s%d", exp10 < 0 ? '-' : '+', abs(exp10) < 10 && exp10 >= 0 ? "0" : "",
                     abs(exp10));
    } else if (exp10 < 0) {
        *o++ = '0', *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd), o += nd;
    } else {
        for (int i = 0; i <= exp10 || i < nd; i++) {
            if (i == exp10 + 1) *o++ = '.';
            *o++ = i < nd ? digits[i] : '0';
        }
    }
    jput(b, out, (size_t)(o - out));
}

static int entry_cmp(const void *x, const void *y) {
    const nx_conf_entry *a = *(nx_conf_entry *const *)x, *c = *(nx_conf_entry *const *)y;
    int r = memcmp(a->key, c->key, a->key_len < c->key_len ? a->key_len : c->key_len);
    return r ? r : (a->key_len > c->key_len) - (a->key_len < c->key_len);
}

static void jval(jbuf *b, const nx_conf_value *v) {
    char tmp[96];
    switch (v->type) {
    case NX_CONF_MAP: {
        size_t n = v->u.map.len;
        const nx_conf_entry **es = malloc((n ? n : 1) * sizeof *es);
        if (!es) {
            b->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            es[i] = &v->u.map.items[i];
        qsort(es, n, sizeof *es, entry_cmp);
        jput(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i) jput(b, ",", 1);
            jstr(b, es[i]->key, es[i]->key_len);
            jput(b, ":", 1);
            jval(b, es[i]->value);
        }
        jput(b, "}", 1);
        free(es);
        return;
    }
    case NX_CONF_ARRAY:
        jput(b, "[", 1);
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i) jput(b, ",", 1);
            jval(b, v->u.arr.items[i]);
        }
        jput(b, "]", 1);
        return;
    case NX_CONF_STRING:
        jstr(b, v->u.s.ptr, v->u.s.len);
        return;
    case NX_CONF_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
        jputs(b, tmp);
        return;
    case NX_CONF_FLOAT:
        jfloat(b, v->u.f);
        return;
    case NX_CONF_BOOL:
        jputs(b, v->u.b ? "true" : "false");
        return;
    case NX_CONF_TIME: {
        /* civil_from_days */
        int64_t days = v->u.t / 86400, secs = v->u.t % 86400;
        if (secs < 0) secs += 86400, days--;
        days += 719468;
        int64_t era = (days >= 0 ? days : days - 146096) / 146097;
        int64_t doe = days - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
        int64_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
        snprintf(tmp, sizeof tmp, "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ\"", (long long)y,
                 (long long)m, (long long)d, (long long)(secs / 3600), (long long)(secs / 60 % 60),
                 (long long)(secs % 60));
        jputs(b, tmp);
        return;
    }
    }
}

int nx_conf_to_json(const nx_conf_value *v, char **out, size_t *out_len) {
    jbuf b = {0};
    if (v)
        jval(&b, v);
    else
        jputs(&b, "null");
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }
    *out = b.p;
    if (out_len) *out_len = b.len;
    return 0;
}
