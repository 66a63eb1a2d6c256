/* SubList: token trie of subscriptions with a per-subject result cache.
 *
 * Ports Go nats-server v2.14.5 server/sublist.go (Sublist: Insert, Remove, RemoveBatch, Match,
 * HasInterest, NumInterest, ReverseMatch, UpdateRemoteQSub, Stats, notifications).
 *
 * Structure: a level holds an open-addressing map of literal tokens -> node plus the '*' (pwc)
 * and '>' (fwc) children; wildcard tokens never enter the literal map, so matching a subject
 * that itself holds wildcards (permission checks do) only meets wildcard subs, as in Go.  A
 * node holds a pointer set of plain subs and a list of queue groups (name + pointer set), and
 * embeds its child level, so a chain of tokens costs one allocation per token.
 *
 * Invariants:
 *  - a node with no subs and an empty child level is pruned on remove (Go pruneNode);
 *  - results are immutable once built and reference counted; the cache owns one reference per
 *    entry.  Insert replaces affected entries with copies plus the new sub (Go addToCache),
 *    remove deletes affected entries (Go removeFromCache), so a result a caller still holds is
 *    never changed under it and cached entries always equal a fresh trie walk;
 *  - the cache holds at most SL_CACHE_MAX entries; overflowing drops all but SL_CACHE_SWEEP
 *    (Go does the same asynchronously with random victims);
 *  - results do not point into the sublist: they may be released after sl_free.
 * Out of memory aborts: the interest index cannot be left half updated.
 */
#include "broker/sublist.h"

#include "common/subject.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SL_CACHE_MAX 1024  /* Go slCacheMax */
#define SL_CACHE_SWEEP 256 /* Go slCacheSweep */

/* ---- allocation and hashing -------------------------------------------------------------- */

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p && n) abort();
    return p;
}

static void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (!p) abort();
    return p;
}

/* Grow a (ptr, cap) vector to hold `need` elements. */
#define VEC_RESERVE(ptr, cap, need)                                                                \
    do {                                                                                           \
        if ((need) > (cap)) {                                                                      \
            uint32_t nc_ = (cap) ? (cap) : 8;                                                      \
            while (nc_ < (need))                                                                   \
                nc_ *= 2;                                                                          \
            (ptr) = xrealloc((ptr), (size_t)nc_ * sizeof(*(ptr)));                                 \
            (cap) = nc_;                                                                           \
        }                                                                                          \
    } while (0)

static inline uint64_t rd64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Multiply-fold hash over 8-byte words (wyhash style): subjects are short, so this beats a
 * byte-at-a-time hash on the publish path, where the whole subject is hashed per message.
 * The per-sublist random key keeps clients from choosing subjects that collide (Go's maps are
 * randomly seeded for the same reason). */
static uint64_t sl_hash(uint64_t key, const char *p, size_t n) {
    const uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
    uint64_t seed = key ^ n, a, b;
    while (n > 16) {
        seed = mix(rd64(p) ^ k1, rd64(p + 8) ^ seed);
        p += 16;
        n -= 16;
    }
    if (n > 8) {
        a = rd64(p);
        b = rd64(p + n - 8);
    } else if (n >= 4) {
        a = rd32(p);
        b = rd32(p + n - 4);
    } else if (n > 0) {
        a = ((uint64_t)(uint8_t)p[0] << 16) | ((uint64_t)(uint8_t)p[n >> 1] << 8) |
            (uint8_t)p[n - 1];
        b = 0;
    } else {
        a = b = 0;
    }
    return mix(a ^ k1, b ^ seed ^ k2);
}

static inline uint64_t ptr_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Linear probing with backward-shift deletion (no tombstones): may the entry at j, whose home
 * slot is k, move back into the hole at i?  Only if k is not cyclically within (i, j]. */
static inline bool can_shift(uint32_t i, uint32_t j, uint32_t k) {
    return i <= j ? (k <= i || k > j) : (k <= i && k > j);
}

/* ---- pointer set (subs of a node or queue group; Go map[*subscription]struct{}) ----------- */

typedef struct pset {
    sl_sub **slots;
    uint32_t cap, n;
} pset;

static void pset_grow(pset *ps) {
    pset old = *ps;
    ps->cap = old.cap ? old.cap * 2 : 4;
    ps->slots = xcalloc(ps->cap, sizeof(sl_sub *));
    for (uint32_t i = 0; i < old.cap; i++) {
        sl_sub *s = old.slots[i];
        if (!s) continue;
        uint32_t j = (uint32_t)ptr_hash(s) & (ps->cap - 1);
        while (ps->slots[j])
            j = (j + 1) & (ps->cap - 1);
        ps->slots[j] = s;
    }
    free(old.slots);
}

static void pset_add(pset *ps, sl_sub *s) {
    if ((ps->n + 1) * 4 > ps->cap * 3) pset_grow(ps);
    uint32_t mask = ps->cap - 1, i = (uint32_t)ptr_hash(s) & mask;
    for (; ps->slots[i]; i = (i + 1) & mask)
        if (ps->slots[i] == s) return; /* Go's map insert is idempotent too */
    ps->slots[i] = s;
    ps->n++;
}

static bool pset_del(pset *ps, const sl_sub *s) {
    if (!ps->n) return false;
    uint32_t mask = ps->cap - 1, i = (uint32_t)ptr_hash(s) & mask;
    for (; ps->slots[i] != s; i = (i + 1) & mask)
        if (!ps->slots[i]) return false;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (!ps->slots[j]) break;
        if (can_shift(i, j, (uint32_t)ptr_hash(ps->slots[j]) & mask)) {
            ps->slots[i] = ps->slots[j];
            i = j;
        }
    }
    ps->slots[i] = NULL;
    if (--ps->n == 0) {
        free(ps->slots);
        *ps = (pset){0};
    }
    return true;
}

/* ---- trie: levels, nodes and the token map ----------------------------------------------- */

typedef struct sl_node sl_node;

typedef struct tslot {
    uint64_t hash;
    sl_node *node;
} tslot;

typedef struct sl_level {
    tslot *slots; /* literal tokens -> node */
    uint32_t cap, n;
    sl_node *pwc, *fwc;
} sl_level;

typedef struct qgroup {
    pset subs;
    uint32_t len;
    char name[];
} qgroup;

struct sl_node {
    sl_level next;
    pset psubs;
    qgroup **qg;
    uint32_t nqg, qgcap;
    uint64_t hash;
    uint32_t tlen;
    char tok[];
};

static sl_node *tmap_get(const sl_level *l, const char *t, uint32_t tl, uint64_t h) {
    if (!l->n) return NULL;
    uint32_t mask = l->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        const tslot *s = &l->slots[i];
        if (!s->node) return NULL;
        if (s->hash == h && s->node->tlen == tl && memcmp(s->node->tok, t, tl) == 0) return s->node;
    }
}

static void tmap_put(sl_level *l, sl_node *n) {
    if ((l->n + 1) * 4 > l->cap * 3) {
        tslot *old = l->slots;
        uint32_t ocap = l->cap;
        l->cap = ocap ? ocap * 2 : 4;
        l->slots = xcalloc(l->cap, sizeof(tslot));
        l->n = 0;
        for (uint32_t i = 0; i < ocap; i++)
            if (old[i].node) tmap_put(l, old[i].node);
        free(old);
    }
    uint32_t mask = l->cap - 1, i = (uint32_t)n->hash & mask;
    while (l->slots[i].node)
        i = (i + 1) & mask;
    l->slots[i] = (tslot){n->hash, n};
    l->n++;
}

static void tmap_del(sl_level *l, const sl_node *n) {
    uint32_t mask = l->cap - 1, i = (uint32_t)n->hash & mask;
    while (l->slots[i].node != n)
        i = (i + 1) & mask;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (!l->slots[j].node) break;
        if (can_shift(i, j, (uint32_t)l->slots[j].hash & mask)) {
            l->slots[i] = l->slots[j];
            i = j;
        }
    }
    l->slots[i].node = NULL;
    if (--l->n == 0) {
        free(l->slots);
        l->slots = NULL;
        l->cap = 0;
    }
}

static inline uint32_t level_num_nodes(const sl_level *l) {
    return l->n + (l->pwc != NULL) + (l->fwc != NULL);
}

static sl_node *node_new(const char *t, uint32_t tl, uint64_t h) {
    sl_node *n = xcalloc(1, sizeof(*n) + tl);
    memcpy(n->tok, t, tl);
    n->tlen = tl;
    n->hash = h;
    return n;
}

static void level_free(sl_level *l);

static void node_free(sl_node *n) {
    level_free(&n->next);
    free(n->psubs.slots);
    for (uint32_t i = 0; i < n->nqg; i++) {
        free(n->qg[i]->subs.slots);
        free(n->qg[i]);
    }
    free(n->qg);
    free(n);
}

static void level_free(sl_level *l) {
    for (uint32_t i = 0; i < l->cap; i++)
        if (l->slots[i].node) node_free(l->slots[i].node);
    free(l->slots);
    if (l->pwc) node_free(l->pwc);
    if (l->fwc) node_free(l->fwc);
    *l = (sl_level){0};
}

/* Go node.isEmpty. */
static bool node_empty(const sl_node *n) {
    return n->psubs.n == 0 && n->nqg == 0 && level_num_nodes(&n->next) == 0;
}

static qgroup *node_qgroup(const sl_node *n, const char *q, uint32_t ql, uint32_t *idx) {
    for (uint32_t i = 0; i < n->nqg; i++) {
        qgroup *g = n->qg[i];
        if (g->len == ql && memcmp(g->name, q, ql) == 0) {
            if (idx) *idx = i;
            return g;
        }
    }
    return NULL;
}

/* ---- the sublist ------------------------------------------------------------------------- */

typedef struct cslot {
    uint64_t hash;
    char *key;
    uint32_t klen;
    sl_result *r; /* NULL: free slot */
} cslot;

typedef struct tok {
    const char *p;
    uint32_t len;
    uint64_t hash;
} tok;

typedef struct qent {
    uint32_t g;
    sl_sub *sub;
} qent;

typedef struct qname {
    const char *name;
    uint32_t len, count;
} qname;

typedef struct lnt {
    sl_level *l;
    sl_node *n;
} lnt;

typedef struct notif {
    char *key; /* "subject" or "subject queue" (Go keyFromSubjectAndQueue) */
    uint32_t klen;
    bool on_remove; /* Go: in the remove map (interest present) rather than the insert map */
    sl_notify_fn fn;
    void *arg;
} notif;

struct sl_sublist {
    sl_level root;
    bool cache_on;
    cslot *cache;
    uint32_t ccap, cn;
    uint32_t count, sweep_seed;
    uint64_t hkey; /* random key of sl_hash */
    uint64_t genid, inserts, removes, matches, cache_hits;
    /* Scratch reused by every walk, so uncached matches allocate only their result. */
    tok *toks;
    uint32_t toks_cap;
    sl_sub **ps;
    uint32_t nps, ps_cap;
    qent *qe;
    uint32_t nqe, qe_cap;
    qname *qn;
    uint32_t nqn, qn_cap;
    lnt *path;
    uint32_t path_cap;
    notif *nt;
    uint32_t nnt, nt_cap;
};

/* Go emptyResult: shared by every empty match, never counted or freed.  Its arrays are
 * non-NULL so callers may memcpy/qsort zero elements from them without special cases. */
static sl_sub *sl_empty_psubs[1];
static sl_qgroup sl_empty_qsubs[1];
static sl_result sl_empty_result = {.psubs = sl_empty_psubs, .qsubs = sl_empty_qsubs};

sl_sublist *sl_new(bool cache_enabled) {
    sl_sublist *sl = xcalloc(1, sizeof(*sl));
    sl->cache_on = cache_enabled;
    sl->sweep_seed = 0x9e3779b9u;
    if (getrandom(&sl->hkey, sizeof(sl->hkey), GRND_NONBLOCK) != (ssize_t)sizeof(sl->hkey))
        sl->hkey = 0x8ebc6af09c88c6e3ull ^ (uint64_t)(uintptr_t)sl; /* still varies with ASLR */
    return sl;
}

void sl_result_release(sl_result *r) {
    if (!r || r == &sl_empty_result) return;
    assert(r->refs > 0);
    if (--r->refs == 0) free(r);
}

static inline sl_result *result_ref(sl_result *r) {
    if (r != &sl_empty_result) r->refs++;
    return r;
}

/* One block: header, plain subs, groups, then the queue members of all groups. */
static sl_result *result_alloc(uint32_t np, uint32_t ng, uint32_t nq) {
    size_t sz = sizeof(sl_result) + (size_t)np * sizeof(sl_sub *) + (size_t)ng * sizeof(sl_qgroup) +
                (size_t)nq * sizeof(sl_sub *);
    sl_result *r = xrealloc(NULL, sz);
    r->refs = 1;
    r->psubs = (sl_sub **)(r + 1);
    r->npsubs = np;
    r->qsubs = (sl_qgroup *)(r->psubs + np);
    r->nqsubs = ng;
    return r;
}

/* ---- building results from trie walks ---------------------------------------------------- */

static void rb_reset(sl_sublist *sl) {
    sl->nps = sl->nqe = sl->nqn = 0;
}

/* Go addNodeToResults: plain subs, then each queue group merged into the result's group of
 * the same name; remote queue subs are listed qweight times (Go shadows them qw times). */
static void rb_add_node(sl_sublist *sl, const sl_node *n) {
    if (n->psubs.n) {
        VEC_RESERVE(sl->ps, sl->ps_cap, sl->nps + n->psubs.n);
        for (uint32_t i = 0; i < n->psubs.cap; i++)
            if (n->psubs.slots[i]) sl->ps[sl->nps++] = n->psubs.slots[i];
    }
    for (uint32_t k = 0; k < n->nqg; k++) {
        const qgroup *g = n->qg[k];
        uint32_t gi = 0;
        while (gi < sl->nqn &&
               !(sl->qn[gi].len == g->len && memcmp(sl->qn[gi].name, g->name, g->len) == 0))
            gi++;
        if (gi == sl->nqn) {
            VEC_RESERVE(sl->qn, sl->qn_cap, sl->nqn + 1);
            sl->qn[sl->nqn++] = (qname){g->name, g->len, 0};
        }
        for (uint32_t i = 0; i < g->subs.cap; i++) {
            sl_sub *s = g->subs.slots[i];
            if (!s) continue;
            uint32_t w = s->qweight ? s->qweight : 1;
            VEC_RESERVE(sl->qe, sl->qe_cap, sl->nqe + w);
            for (uint32_t c = 0; c < w; c++)
                sl->qe[sl->nqe++] = (qent){gi, s};
            sl->qn[gi].count += w;
        }
    }
}

static sl_result *rb_finish(sl_sublist *sl) {
    if (sl->nps == 0 && sl->nqn == 0) return &sl_empty_result;
    sl_result *r = result_alloc(sl->nps, sl->nqn, sl->nqe);
    if (sl->nps) memcpy(r->psubs, sl->ps, sl->nps * sizeof(sl_sub *));
    sl_sub **q = (sl_sub **)(r->qsubs + sl->nqn);
    for (uint32_t g = 0; g < sl->nqn; g++) {
        r->qsubs[g] = (sl_qgroup){q, 0};
        q += sl->qn[g].count;
    }
    for (uint32_t i = 0; i < sl->nqe; i++) {
        sl_qgroup *g = &r->qsubs[sl->qe[i].g];
        g->subs[g->n++] = sl->qe[i].sub;
    }
    return r;
}

/* Splits a subject into sl->toks with each token's hash.  Without allow_empty it fails on an
 * empty token, for which Go's Match and HasInterest answer "nothing" without looking. */
static bool tokenize(sl_sublist *sl, const char *s, size_t len, bool allow_empty, uint32_t *nt) {
    uint32_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        if (i == start && !allow_empty) return false;
        VEC_RESERVE(sl->toks, sl->toks_cap, n + 1);
        sl->toks[n++] =
            (tok){s + start, (uint32_t)(i - start), sl_hash(sl->hkey, s + start, i - start)};
        start = i + 1;
    }
    *nt = n;
    return true;
}

/* Go matchLevel. */
static void match_level(sl_sublist *sl, const sl_level *l, const tok *t, uint32_t nt) {
    const sl_node *pwc = NULL, *n = NULL;
    for (uint32_t i = 0; i < nt; i++) {
        if (!l) return;
        if (l->fwc) rb_add_node(sl, l->fwc);
        if ((pwc = l->pwc)) match_level(sl, &pwc->next, t + i + 1, nt - i - 1);
        n = tmap_get(l, t[i].p, t[i].len, t[i].hash);
        l = n ? &n->next : NULL;
    }
    if (n) rb_add_node(sl, n);
    if (pwc) rb_add_node(sl, pwc);
}

static void count_node(const sl_node *n, uint32_t *np, uint32_t *nq) {
    if (!np || !nq) return;
    *np += n->psubs.n;
    for (uint32_t i = 0; i < n->nqg; i++)
        *nq += n->qg[i]->subs.n;
}

static inline bool node_has_subs(const sl_node *n) {
    return n->psubs.n || n->nqg;
}

/* Go matchLevelForAny, including its early return at the first '>' node. */
static bool match_any(const sl_level *l, const tok *t, uint32_t nt, uint32_t *np, uint32_t *nq) {
    const sl_node *pwc = NULL, *n = NULL;
    for (uint32_t i = 0; i < nt; i++) {
        if (!l) return false;
        if (l->fwc) {
            count_node(l->fwc, np, nq);
            return true;
        }
        if ((pwc = l->pwc) && match_any(&pwc->next, t + i + 1, nt - i - 1, np, nq)) return true;
        n = tmap_get(l, t[i].p, t[i].len, t[i].hash);
        l = n ? &n->next : NULL;
    }
    if (n) {
        count_node(n, np, nq);
        if (node_has_subs(n)) return true;
    }
    if (pwc) {
        count_node(pwc, np, nq);
        return node_has_subs(pwc);
    }
    return false;
}

/* ---- the result cache -------------------------------------------------------------------- */

static int64_t cache_find(const sl_sublist *sl, const char *s, size_t len, uint64_t h) {
    if (!sl->cn) return -1;
    uint32_t mask = sl->ccap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        const cslot *c = &sl->cache[i];
        if (!c->r) return -1;
        if (c->hash == h && c->klen == len && memcmp(c->key, s, len) == 0) return i;
    }
}

static void cache_place(cslot *tab, uint32_t cap, const cslot *e) {
    uint32_t i = (uint32_t)e->hash & (cap - 1);
    while (tab[i].r)
        i = (i + 1) & (cap - 1);
    tab[i] = *e;
}

/* Rebuilds the table at `cap` slots keeping at most `keep` entries, starting at a varying
 * slot so that repeated sweeps do not always spare the same subjects. */
static void cache_rebuild(sl_sublist *sl, uint32_t cap, uint32_t keep) {
    cslot *old = sl->cache, *tab = xcalloc(cap, sizeof(cslot));
    uint32_t ocap = sl->ccap, kept = 0;
    sl->sweep_seed = sl->sweep_seed * 1103515245u + 12345u;
    for (uint32_t k = 0; k < ocap; k++) {
        cslot *c = &old[(k + sl->sweep_seed) & (ocap - 1)];
        if (!c->r) continue;
        if (kept < keep) {
            cache_place(tab, cap, c);
            kept++;
        } else {
            free(c->key);
            sl_result_release(c->r);
        }
    }
    free(old);
    sl->cache = tab;
    sl->ccap = cap;
    sl->cn = kept;
}

static void cache_put(sl_sublist *sl, const char *s, size_t len, uint64_t h, sl_result *r) {
    if ((sl->cn + 1) * 4 > sl->ccap * 3)
        cache_rebuild(sl, sl->ccap ? sl->ccap * 2 : 16, UINT32_MAX);
    cslot e = {h, xrealloc(NULL, len ? len : 1), (uint32_t)len, result_ref(r)};
    memcpy(e.key, s, len);
    cache_place(sl->cache, sl->ccap, &e);
    sl->cn++;
}

static void cache_del_at(sl_sublist *sl, uint32_t i) {
    uint32_t mask = sl->ccap - 1;
    free(sl->cache[i].key);
    sl_result_release(sl->cache[i].r);
    sl->cache[i] = (cslot){0}; /* the hole; backward shift may fill it below */
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (!sl->cache[j].r) break;
        if (can_shift(i, j, (uint32_t)sl->cache[j].hash & mask)) {
            sl->cache[i] = sl->cache[j];
            i = j;
        }
    }
    sl->cache[i] = (cslot){0};
    sl->cn--;
}

static void cache_clear(sl_sublist *sl) {
    for (uint32_t i = 0; i < sl->ccap; i++) {
        if (sl->cache[i].r) {
            free(sl->cache[i].key);
            sl_result_release(sl->cache[i].r);
        }
    }
    free(sl->cache);
    sl->cache = NULL;
    sl->ccap = sl->cn = 0;
}

/* Go addSubToResult: a copy of r plus sub.  Unlike Go, a weighted remote queue sub is listed
 * qweight times, as a fresh trie walk lists it; Go lists it once here until the entry is
 * rebuilt, so its cached and uncached results disagree. */
static sl_result *result_with_sub(const sl_result *r, sl_sub *sub) {
    uint32_t gi = r->nqsubs, nq = 0, w = sub->qweight ? sub->qweight : 1;
    for (uint32_t g = 0; g < r->nqsubs; g++) {
        nq += r->qsubs[g].n;
        const sl_sub *f = r->qsubs[g].n ? r->qsubs[g].subs[0] : NULL;
        if (sub->queue && f && f->queue_len == sub->queue_len &&
            memcmp(f->queue, sub->queue, sub->queue_len) == 0)
            gi = g;
    }
    bool plain = sub->queue == NULL;
    uint32_t ng = r->nqsubs + (!plain && gi == r->nqsubs);
    sl_result *nr = result_alloc(r->npsubs + plain, ng, nq + (plain ? 0 : w));
    if (r->npsubs) memcpy(nr->psubs, r->psubs, r->npsubs * sizeof(sl_sub *));
    if (plain) nr->psubs[r->npsubs] = sub;
    sl_sub **q = (sl_sub **)(nr->qsubs + ng);
    for (uint32_t g = 0; g < ng; g++) {
        uint32_t n = g < r->nqsubs ? r->qsubs[g].n : 0;
        /* cppcheck-suppress pointerSize ; copying n pointers is the intent */
        if (n) memcpy(q, r->qsubs[g].subs, n * sizeof(sl_sub *));
        for (uint32_t c = 0; !plain && g == gi && c < w; c++)
            q[n++] = sub;
        nr->qsubs[g] = (sl_qgroup){q, n};
        q += n;
    }
    return nr;
}

/* Go addToCache. */
static void cache_add_sub(sl_sublist *sl, const char *s, size_t len, sl_sub *sub) {
    if (!sl->cache_on || !sl->cn) return;
    if (nx_subject_is_literal(s, len)) {
        int64_t i = cache_find(sl, s, len, sl_hash(sl->hkey, s, len));
        if (i >= 0) {
            sl_result *nr = result_with_sub(sl->cache[i].r, sub);
            sl_result_release(sl->cache[i].r);
            sl->cache[i].r = nr;
        }
        return;
    }
    for (uint32_t i = 0; i < sl->ccap; i++) {
        cslot *c = &sl->cache[i];
        if (c->r && nx_subject_match_literal(c->key, c->klen, s, len)) {
            sl_result *nr = result_with_sub(c->r, sub);
            sl_result_release(c->r);
            c->r = nr;
        }
    }
}

/* Go removeFromCache. */
static void cache_remove_subject(sl_sublist *sl, const char *s, size_t len) {
    if (!sl->cache_on || !sl->cn) return;
    if (nx_subject_is_literal(s, len)) {
        int64_t i = cache_find(sl, s, len, sl_hash(sl->hkey, s, len));
        if (i >= 0) cache_del_at(sl, (uint32_t)i);
        return;
    }
    /* Backward shift only moves later entries into the hole, so re-examine slot i. */
    for (uint32_t i = 0; i < sl->ccap;) {
        cslot *c = &sl->cache[i];
        if (c->r && nx_subject_match_literal(c->key, c->klen, s, len) && sl->cn)
            cache_del_at(sl, i);
        else
            i++;
    }
}

/* ---- notifications (Go RegisterNotification & co) ---------------------------------------- */

static bool notif_key_is(const notif *e, const char *s, size_t len, const char *q, size_t ql) {
    size_t klen = len + (q ? ql + 1 : 0);
    return e->klen == klen && memcmp(e->key, s, len) == 0 &&
           (!q || (e->key[len] == ' ' && memcmp(e->key + len + 1, q, ql) == 0));
}

/* Is there an exact (not wildcard) sub for subject (and queue) in r?  Like Go, a queue group
 * is judged by its first member only. */
static bool exact_interest(const sl_result *r, const char *s, size_t len, const char *q,
                           size_t ql) {
    if (!q) {
        for (uint32_t i = 0; i < r->npsubs; i++)
            if (r->psubs[i]->subject_len == len && memcmp(r->psubs[i]->subject, s, len) == 0)
                return true;
        return false;
    }
    for (uint32_t g = 0; g < r->nqsubs; g++) {
        const sl_sub *f = r->qsubs[g].subs[0];
        if (f->subject_len == len && memcmp(f->subject, s, len) == 0 && f->queue_len == ql &&
            memcmp(f->queue, q, ql) == 0)
            return true;
    }
    return false;
}

int sl_register_notification(sl_sublist *sl, const char *s, size_t len, const char *q, size_t ql,
                             sl_notify_fn fn, void *arg) {
    if (!nx_subject_is_literal(s, len) || !fn) return -EINVAL;
    if (q && ql == 0) q = NULL; /* Go: an empty queue means a plain registration */
    sl_result *r = sl_match(sl, s, len);
    bool has = exact_interest(r, s, len, q, ql);
    sl_result_release(r);
    for (uint32_t i = 0; i < sl->nnt; i++) {
        notif *e = &sl->nt[i];
        if (e->on_remove == has && e->fn == fn && e->arg == arg && notif_key_is(e, s, len, q, ql))
            return -EEXIST;
    }
    notif e = {.klen = (uint32_t)(len + (q ? ql + 1 : 0)), .on_remove = has, .fn = fn, .arg = arg};
    e.key = xrealloc(NULL, e.klen ? e.klen : 1);
    memcpy(e.key, s, len);
    if (q) {
        e.key[len] = ' ';
        memcpy(e.key + len + 1, q, ql);
    }
    VEC_RESERVE(sl->nt, sl->nt_cap, sl->nnt + 1);
    sl->nt[sl->nnt++] = e;
    fn(arg, has);
    return 0;
}

static bool notif_clear_one(sl_sublist *sl, const char *s, size_t len, const char *q, size_t ql,
                            sl_notify_fn fn, void *arg, bool on_remove) {
    for (uint32_t i = 0; i < sl->nnt; i++) {
        notif *e = &sl->nt[i];
        if (e->on_remove == on_remove && e->fn == fn && e->arg == arg &&
            notif_key_is(e, s, len, q, ql)) {
            free(e->key);
            memmove(e, e + 1, (sl->nnt - i - 1) * sizeof(*e));
            sl->nnt--;
            return true;
        }
    }
    return false;
}

bool sl_clear_notification(sl_sublist *sl, const char *s, size_t len, const char *q, size_t ql,
                           sl_notify_fn fn, void *arg) {
    if (q && ql == 0) q = NULL;
    bool found = notif_clear_one(sl, s, len, q, ql, fn, arg, true) ||
                 notif_clear_one(sl, s, len, q, ql, fn, arg, false);
    if (sl->nnt == 0) {
        free(sl->nt);
        sl->nt = NULL;
        sl->nt_cap = 0;
    }
    return found;
}

/* Go chkForInsertNotification / chkForRemoveNotification. */
static void notify_change(sl_sublist *sl, const sl_sub *sub, bool inserted) {
    const char *s = sub->subject, *q = sub->queue;
    size_t len = sub->subject_len, ql = sub->queue_len;
    bool any = false;
    for (uint32_t i = 0; i < sl->nnt && !any; i++)
        any = sl->nt[i].on_remove != inserted && notif_key_is(&sl->nt[i], s, len, q, ql);
    if (!any) return;
    if (!inserted) {
        /* Another exact sub may still hold the interest (a different node cannot, but Go
         * checks through a match, which also counts and caches like one). */
        sl_result *r = sl_match(sl, s, len);
        bool has = exact_interest(r, s, len, q, ql);
        sl_result_release(r);
        if (has) return;
    }
    for (uint32_t i = 0; i < sl->nnt; i++) {
        notif *e = &sl->nt[i];
        if (e->on_remove != inserted && notif_key_is(e, s, len, q, ql)) {
            e->on_remove = inserted;
            e->fn(e->arg, inserted);
        }
    }
}

/* ---- insert / remove --------------------------------------------------------------------- */

/* What Go's Insert and Remove reject: an empty token, or a token after '>'.  Checked up front
 * so a bad subject leaves no empty nodes behind (Go's Insert creates nodes before failing). */
static bool sub_subject_ok(const char *s, size_t len) {
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        if (i == start) return false;
        if (i - start == 1 && s[start] == '>' && i < len) return false;
        start = i + 1;
    }
    return true;
}

int sl_insert(sl_sublist *sl, sl_sub *sub) {
    const char *s = sub->subject;
    size_t len = sub->subject_len;
    if (!sub_subject_ok(s, len) || (sub->queue && sub->queue_len == 0)) return -EINVAL;
    sl_level *l = &sl->root;
    sl_node *n = NULL;
    bool haswc = false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        const char *t = s + start;
        uint32_t tl = (uint32_t)(i - start);
        start = i + 1;
        sl_node **wc = NULL;
        if (tl == 1 && (t[0] == '*' || t[0] == '>')) {
            wc = t[0] == '*' ? &l->pwc : &l->fwc;
            haswc = true;
            if (!*wc) *wc = node_new(t, 1, 0);
            n = *wc;
        } else {
            uint64_t h = sl_hash(sl->hkey, t, tl);
            n = tmap_get(l, t, tl, h);
            if (!n) {
                n = node_new(t, tl, h);
                tmap_put(l, n);
            }
        }
        l = &n->next;
    }
    bool isnew;
    if (!sub->queue) {
        pset_add(&n->psubs, sub);
        isnew = n->psubs.n == 1;
    } else {
        qgroup *g = node_qgroup(n, sub->queue, sub->queue_len, NULL);
        isnew = g == NULL;
        if (!g) {
            g = xcalloc(1, sizeof(*g) + sub->queue_len);
            g->len = sub->queue_len;
            memcpy(g->name, sub->queue, sub->queue_len);
            VEC_RESERVE(n->qg, n->qgcap, n->nqg + 1);
            n->qg[n->nqg++] = g;
        }
        pset_add(&g->subs, sub);
    }
    sl->count++; /* counted even for a repeated insert of the same sub, as in Go */
    sl->inserts++;
    cache_add_sub(sl, s, len, sub);
    sl->genid++;
    if (sl->nnt && isnew && !haswc) notify_change(sl, sub, true);
    return 0;
}

/* Go removeFromNode: found, and whether it was the last of its kind (plain or its group). */
static bool node_remove_sub(sl_node *n, const sl_sub *sub, bool *last) {
    if (!sub->queue) {
        bool found = pset_del(&n->psubs, sub);
        *last = n->psubs.n == 0;
        return found;
    }
    uint32_t gi;
    qgroup *g = node_qgroup(n, sub->queue, sub->queue_len, &gi);
    bool found = g && pset_del(&g->subs, sub);
    *last = !g || g->subs.n == 0;
    if (g && g->subs.n == 0) {
        free(g->subs.slots);
        free(g);
        n->qg[gi] = n->qg[--n->nqg];
        if (n->nqg == 0) {
            free(n->qg);
            n->qg = NULL;
            n->qgcap = 0;
        }
    }
    return found;
}

static int remove_sub(sl_sublist *sl, sl_sub *sub, bool cache_updates) {
    const char *s = sub->subject;
    size_t len = sub->subject_len;
    if (!sub_subject_ok(s, len)) return -EINVAL;
    sl_level *l = &sl->root;
    sl_node *n = NULL;
    bool haswc = false;
    uint32_t depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        const char *t = s + start;
        uint32_t tl = (uint32_t)(i - start);
        start = i + 1;
        if (!l) return -ENOENT;
        if (tl == 1 && (t[0] == '*' || t[0] == '>')) {
            n = t[0] == '*' ? l->pwc : l->fwc;
            haswc = true;
        } else {
            n = tmap_get(l, t, tl, sl_hash(sl->hkey, t, tl));
        }
        if (!n) {
            l = NULL;
            continue;
        }
        VEC_RESERVE(sl->path, sl->path_cap, depth + 1);
        sl->path[depth++] = (lnt){l, n};
        l = &n->next;
    }
    bool last;
    if (!n || !node_remove_sub(n, sub, &last)) return -ENOENT;
    sl->count--;
    sl->removes++;
    /* Prune from the leaf up: an emptied node empties its parent's child level. */
    for (uint32_t i = depth; i-- > 0;) {
        sl_level *pl = sl->path[i].l;
        sl_node *pn = sl->path[i].n;
        if (!node_empty(pn)) break;
        if (pn == pl->fwc)
            pl->fwc = NULL;
        else if (pn == pl->pwc)
            pl->pwc = NULL;
        else
            tmap_del(pl, pn);
        node_free(pn);
    }
    if (cache_updates) {
        cache_remove_subject(sl, s, len);
        sl->genid++;
    }
    if (sl->nnt && last && !haswc) notify_change(sl, sub, false);
    return 0;
}

int sl_remove(sl_sublist *sl, sl_sub *sub) {
    return remove_sub(sl, sub, true);
}

int sl_remove_batch(sl_sublist *sl, sl_sub *const *subs, size_t n) {
    if (n == 0) return 0;
    /* Like Go, bypass the cache while removing and start it empty afterwards: per-sub cache
     * maintenance costs more than rebuilding entries on demand. */
    bool was_on = sl->cache_on;
    cache_clear(sl);
    sl->cache_on = false;
    int err = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = remove_sub(sl, subs[i], false);
        if (rc && !err) err = rc;
    }
    sl->genid++;
    sl->cache_on = was_on;
    return err;
}

/* ---- matching ---------------------------------------------------------------------------- */

sl_result *sl_match(sl_sublist *sl, const char *subject, size_t len) {
    sl->matches++;
    uint64_t h = 0;
    if (sl->cache_on) {
        /* The publish hot path: one hash, one probe, one reference. */
        h = sl_hash(sl->hkey, subject, len);
        int64_t i = cache_find(sl, subject, len, h);
        if (i >= 0) {
            sl->cache_hits++;
            return result_ref(sl->cache[i].r);
        }
    }
    uint32_t nt;
    if (!tokenize(sl, subject, len, false, &nt)) return &sl_empty_result;
    rb_reset(sl);
    match_level(sl, &sl->root, sl->toks, nt);
    sl_result *r = rb_finish(sl);
    if (sl->cache_on) {
        cache_put(sl, subject, len, h, r);
        if (sl->cn > SL_CACHE_MAX) cache_rebuild(sl, sl->ccap, SL_CACHE_SWEEP);
    }
    return r;
}

static bool interest(sl_sublist *sl, const char *s, size_t len, uint32_t *np, uint32_t *nq) {
    if (sl->cache_on) {
        int64_t i = cache_find(sl, s, len, sl_hash(sl->hkey, s, len));
        if (i >= 0) {
            const sl_result *r = sl->cache[i].r;
            if (np && nq) {
                *np += r->npsubs;
                for (uint32_t g = 0; g < r->nqsubs; g++)
                    *nq += r->qsubs[g].n;
            }
            sl->cache_hits++;
            return r->npsubs + r->nqsubs > 0;
        }
    }
    uint32_t nt;
    if (!tokenize(sl, s, len, false, &nt)) return false;
    return match_any(&sl->root, sl->toks, nt, np, nq);
}

bool sl_has_interest(sl_sublist *sl, const char *subject, size_t len) {
    return interest(sl, subject, len, NULL, NULL);
}

bool sl_num_interest(sl_sublist *sl, const char *subject, size_t len, uint32_t *np, uint32_t *nq) {
    *np = *nq = 0;
    return interest(sl, subject, len, np, nq);
}

/* Go getAllNodes: note it neither descends below '*' nor '>' nodes (kept as in Go). */
static void all_nodes(sl_sublist *sl, const sl_level *l) {
    if (l->pwc) rb_add_node(sl, l->pwc);
    if (l->fwc) rb_add_node(sl, l->fwc);
    for (uint32_t i = 0; i < l->cap; i++) {
        const sl_node *n = l->slots[i].node;
        if (n) {
            rb_add_node(sl, n);
            all_nodes(sl, &n->next);
        }
    }
}

/* Go reverseMatchLevel, quirks included (below a '*' node it carries the parent's node). */
static void rev_match_level(sl_sublist *sl, const sl_level *l, const tok *t, uint32_t nt,
                            const sl_node *n) {
    for (uint32_t i = 0; i < nt; i++) {
        if (t[i].len == 1 && t[i].p[0] == '>') {
            all_nodes(sl, l);
            return;
        }
        if (t[i].len == 1 && t[i].p[0] == '*') {
            for (uint32_t k = 0; k < l->cap; k++) {
                const sl_node *c = l->slots[k].node;
                if (c) rev_match_level(sl, &c->next, t + i + 1, nt - i - 1, c);
            }
            if (l->pwc) rev_match_level(sl, &l->pwc->next, t + i + 1, nt - i - 1, n);
            if (l->fwc) all_nodes(sl, l);
            return;
        }
        if (l->fwc) {
            all_nodes(sl, l);
            return;
        }
        if (l->pwc) rev_match_level(sl, &l->pwc->next, t + i + 1, nt - i - 1, n);
        n = tmap_get(l, t[i].p, t[i].len, t[i].hash);
        if (!n) break;
        l = &n->next;
    }
    if (n) rb_add_node(sl, n);
}

sl_result *sl_reverse_match(sl_sublist *sl, const char *subject, size_t len) {
    uint32_t nt;
    tokenize(sl, subject, len, true, &nt);
    rb_reset(sl);
    rev_match_level(sl, &sl->root, sl->toks, nt, NULL);
    return rb_finish(sl);
}

/* ---- introspection ----------------------------------------------------------------------- */

void sl_update_remote_qsub(sl_sublist *sl, const sl_sub *sub) {
    cache_remove_subject(sl, sub->subject, sub->subject_len);
    sl->genid++;
}

uint64_t sl_genid(const sl_sublist *sl) {
    return sl->genid;
}
bool sl_cache_enabled(const sl_sublist *sl) {
    return sl->cache_on;
}
uint32_t sl_count(const sl_sublist *sl) {
    return sl->count;
}
uint32_t sl_cache_count(const sl_sublist *sl) {
    return sl->cn;
}

static void for_each_node(const sl_node *n, void (*fn)(sl_sub *, void *), void *arg);

static void for_each_level(const sl_level *l, void (*fn)(sl_sub *, void *), void *arg) {
    for (uint32_t i = 0; i < l->cap; i++)
        if (l->slots[i].node) for_each_node(l->slots[i].node, fn, arg);
    if (l->pwc) for_each_node(l->pwc, fn, arg);
    if (l->fwc) for_each_node(l->fwc, fn, arg);
}

static void for_each_node(const sl_node *n, void (*fn)(sl_sub *, void *), void *arg) {
    for (uint32_t i = 0; i < n->psubs.cap; i++)
        if (n->psubs.slots[i]) fn(n->psubs.slots[i], arg);
    for (uint32_t g = 0; g < n->nqg; g++)
        for (uint32_t i = 0; i < n->qg[g]->subs.cap; i++)
            if (n->qg[g]->subs.slots[i]) fn(n->qg[g]->subs.slots[i], arg);
    for_each_level(&n->next, fn, arg);
}

void sl_for_each(const sl_sublist *sl, void (*fn)(sl_sub *sub, void *arg), void *arg) {
    for_each_level(&sl->root, fn, arg);
}

/* Go visitLevel. */
static int visit_level(const sl_level *l, int depth) {
    if (level_num_nodes(l) == 0) return depth;
    int max = ++depth;
    for (uint32_t i = 0; i < l->cap; i++) {
        if (l->slots[i].node) {
            int d = visit_level(&l->slots[i].node->next, depth);
            max = d > max ? d : max;
        }
    }
    if (l->pwc) {
        int d = visit_level(&l->pwc->next, depth);
        max = d > max ? d : max;
    }
    if (l->fwc) {
        int d = visit_level(&l->fwc->next, depth);
        max = d > max ? d : max;
    }
    return max;
}

int sl_num_levels(const sl_sublist *sl) {
    return visit_level(&sl->root, 0);
}

void sl_get_stats(const sl_sublist *sl, sl_stats *st) {
    *st = (sl_stats){
        .num_subs = sl->count,
        .num_cache = sl->cn,
        .num_inserts = sl->inserts,
        .num_removes = sl->removes,
        .num_matches = sl->matches,
        .cache_hits = sl->cache_hits,
    };
    if (st->num_matches > 0) st->cache_hit_rate = (double)st->cache_hits / (double)st->num_matches;
    if (!sl->cache_on) return;
    /* Fan-out as Go counts it: plain subs plus queue groups of each cached result. */
    uint64_t tot = 0;
    uint32_t max = 0, clen = 0;
    for (uint32_t i = 0; i < sl->ccap; i++) {
        const sl_result *r = sl->cache[i].r;
        if (!r) continue;
        uint32_t l = r->npsubs + r->nqsubs;
        clen++;
        tot += l;
        max = l > max ? l : max;
    }
    st->tot_fanout = tot;
    st->cache_cnt = clen;
    st->max_fanout = max;
    if (tot > 0) st->avg_fanout = (double)tot / (double)clen;
}

void sl_stats_add(sl_stats *acc, const sl_stats *st) {
    acc->num_subs += st->num_subs;
    acc->num_cache += st->num_cache;
    acc->num_inserts += st->num_inserts;
    acc->num_removes += st->num_removes;
    acc->num_matches += st->num_matches;
    acc->cache_hits += st->cache_hits;
    if (acc->max_fanout < st->max_fanout) acc->max_fanout = st->max_fanout;
    acc->tot_fanout += st->tot_fanout;
    acc->cache_cnt += st->cache_cnt;
    if (acc->tot_fanout > 0) acc->avg_fanout = (double)acc->tot_fanout / (double)acc->cache_cnt;
    if (acc->num_matches > 0)
        acc->cache_hit_rate = (double)acc->cache_hits / (double)acc->num_matches;
}

void sl_free(sl_sublist *sl) {
    if (!sl) return;
    level_free(&sl->root);
    cache_clear(sl);
    for (uint32_t i = 0; i < sl->nnt; i++)
        free(sl->nt[i].key);
    free(sl->nt);
    free(sl->toks);
    free(sl->ps);
    free(sl->qe);
    free(sl->qn);
    free(sl->path);
    free(sl);
}
