/* Sequence set: AVL tree of 2048-sequence bitmap nodes.
 *
 * Ports Go nats-server v2.14.5 server/avl/seqset.go.  Differences: nodes are freed when they
 * empty or the set is emptied (Go leaves that to its GC); decoding allocates nodes one by one.
 * Encoding (little endian): magic, version, u32 node count, u32 size, then per node in tree
 * pre-order: u64 base, 32 x u64 bitmap, u16 height.
 */
#include "common/seqset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nx_seqset_node {
    uint64_t base;
    uint64_t bits[NX_SEQSET_BUCKETS];
    nx_seqset_node *l, *r;
    int h;
};

#define HDR_LEN 2
#define MIN_LEN (2 + 8)
#define NODE_ENC_LEN ((NX_SEQSET_BUCKETS + 1) * 8 + 2)

static nx_seqset_node *node_new(uint64_t base) {
    nx_seqset_node *n = calloc(1, sizeof *n);
    if (!n) {
        fprintf(stderr, "seqset: out of memory\n");
        abort();
    }
    n->base = base;
    n->h = 1;
    return n;
}

static void node_free(nx_seqset_node *n) {
    /* Iterative on the right spine keeps recursion depth at the tree height. */
    while (n) {
        node_free(n->l);
        nx_seqset_node *r = n->r;
        free(n);
        n = r;
    }
}

static inline bool node_set(nx_seqset_node *n, uint64_t seq) {
    seq -= n->base;
    uint64_t mask = 1ull << (seq % 64);
    if (n->bits[seq / 64] & mask) return false;
    n->bits[seq / 64] |= mask;
    return true;
}

static inline int height(const nx_seqset_node *n) {
    return n ? n->h : 0;
}

static inline int max_h(const nx_seqset_node *n) {
    if (!n) return 0;
    int lh = height(n->l), rh = height(n->r);
    return lh > rh ? lh : rh;
}

static inline int balance_f(const nx_seqset_node *n) {
    return n ? height(n->l) - height(n->r) : 0;
}

static nx_seqset_node *rotate_l(nx_seqset_node *n) {
    nx_seqset_node *r = n->r;
    if (r) {
        n->r = r->l;
        r->l = n;
        n->h = max_h(n) + 1;
        r->h = max_h(r) + 1;
    } else {
        n->r = NULL;
        n->h = max_h(n) + 1;
    }
    return r;
}

static nx_seqset_node *rotate_r(nx_seqset_node *n) {
    nx_seqset_node *l = n->l;
    if (l) {
        n->l = l->r;
        l->r = n;
        n->h = max_h(n) + 1;
        l->h = max_h(l) + 1;
    } else {
        n->l = NULL;
        n->h = max_h(n) + 1;
    }
    return l;
}

static nx_seqset_node *rebalance(nx_seqset_node *n) {
    int bf = balance_f(n);
    if (bf > 1) {
        if (balance_f(n->l) < 0) n->l = rotate_l(n->l);
        return rotate_r(n);
    }
    if (bf < -1) {
        if (balance_f(n->r) > 0) n->r = rotate_r(n->r);
        return rotate_l(n);
    }
    return n;
}

static nx_seqset_node *node_insert(nx_seqset_node *n, uint64_t seq, bool *inserted, size_t *nodes) {
    if (!n) {
        nx_seqset_node *nn = node_new((seq / NX_SEQSET_ENTRIES) * NX_SEQSET_ENTRIES);
        *inserted = node_set(nn, seq);
        (*nodes)++;
        return nn;
    }
    if (seq < n->base)
        n->l = node_insert(n->l, seq, inserted, nodes);
    else if (seq >= n->base + NX_SEQSET_ENTRIES)
        n->r = node_insert(n->r, seq, inserted, nodes);
    else
        *inserted = node_set(n, seq);
    n->h = max_h(n) + 1;
    return rebalance(n);
}

/* Clears the bit; returns true if the node is now empty.  *deleted tells if it was set. */
static bool node_clear(nx_seqset_node *n, uint64_t seq, bool *deleted) {
    seq -= n->base;
    uint64_t mask = 1ull << (seq % 64);
    if (!(n->bits[seq / 64] & mask)) return false; /* nodes are never empty: no scan needed */
    n->bits[seq / 64] &= ~mask;
    *deleted = true;
    for (int i = 0; i < NX_SEQSET_BUCKETS; i++)
        if (n->bits[i]) return false;
    return true;
}

/* Inserts nn, which is less than everything in n, as n's leftmost descendant. */
static nx_seqset_node *insert_node_prev(nx_seqset_node *n, nx_seqset_node *nn) {
    if (!n->l)
        n->l = nn;
    else
        n->l = insert_node_prev(n->l, nn);
    n->h = max_h(n) + 1;
    return rebalance(n);
}

static nx_seqset_node *node_delete(nx_seqset_node *n, uint64_t seq, bool *deleted, size_t *nodes) {
    if (!n) return NULL;
    if (seq < n->base) {
        n->l = node_delete(n->l, seq, deleted, nodes);
    } else if (seq >= n->base + NX_SEQSET_ENTRIES) {
        n->r = node_delete(n->r, seq, deleted, nodes);
    } else if (node_clear(n, seq, deleted)) {
        (*nodes)--;
        nx_seqset_node *old = n;
        if (!n->l)
            n = n->r;
        else if (!n->r)
            n = n->l;
        else {
            n->r = insert_node_prev(n->r, n->l);
            n = n->r;
        }
        free(old);
    }
    if (n) n->h = max_h(n) + 1;
    if (!n) return NULL;
    return rebalance(n);
}

void nx_seqset_init(nx_seqset *ss) {
    memset(ss, 0, sizeof *ss);
}

void nx_seqset_insert(nx_seqset *ss, uint64_t seq) {
    /* Fast path: a node covering seq exists, so the shape can not change. */
    for (nx_seqset_node *n = ss->root; n;) {
        if (seq < n->base)
            n = n->l;
        else if (seq >= n->base + NX_SEQSET_ENTRIES)
            n = n->r;
        else {
            if (node_set(n, seq)) ss->size++;
            return;
        }
    }
    bool inserted = false;
    ss->root = node_insert(ss->root, seq, &inserted, &ss->nodes);
    if (inserted) ss->size++;
}

bool nx_seqset_exists(const nx_seqset *ss, uint64_t seq) {
    for (const nx_seqset_node *n = ss ? ss->root : NULL; n;) {
        if (seq < n->base)
            n = n->l;
        else if (seq >= n->base + NX_SEQSET_ENTRIES)
            n = n->r;
        else {
            uint64_t off = seq - n->base;
            return (n->bits[off / 64] >> (off % 64)) & 1;
        }
    }
    return false;
}

int nx_seqset_set_initial_min(nx_seqset *ss, uint64_t min) {
    if (!nx_seqset_is_empty(ss)) return NX_SEQSET_ERR_NOT_EMPTY;
    ss->root = node_new(min);
    ss->nodes = 1;
    return 0;
}

bool nx_seqset_delete(nx_seqset *ss, uint64_t seq) {
    if (!ss || !ss->root) return false;
    bool deleted = false;
    ss->root = node_delete(ss->root, seq, &deleted, &ss->nodes);
    if (!deleted) return false;
    if (--ss->size == 0) nx_seqset_empty(ss);
    return true;
}

size_t nx_seqset_size(const nx_seqset *ss) {
    return ss ? ss->size : 0;
}

size_t nx_seqset_nodes(const nx_seqset *ss) {
    return ss ? ss->nodes : 0;
}

void nx_seqset_empty(nx_seqset *ss) {
    node_free(ss->root);
    ss->root = NULL;
    ss->size = 0;
    ss->nodes = 0;
}

bool nx_seqset_is_empty(const nx_seqset *ss) {
    return !ss || !ss->root;
}

static bool node_iter(const nx_seqset_node *n, bool (*f)(void *, uint64_t), void *arg) {
    if (!n) return true;
    if (!node_iter(n->l, f, arg)) return false;
    for (int i = 0; i < NX_SEQSET_BUCKETS; i++) {
        uint64_t base = n->base + (uint64_t)i * 64;
        for (uint64_t b = n->bits[i]; b; b &= b - 1)
            if (!f(arg, base + (uint64_t)__builtin_ctzll(b))) return false;
    }
    return node_iter(n->r, f, arg);
}

void nx_seqset_range(const nx_seqset *ss, bool (*f)(void *arg, uint64_t seq), void *arg) {
    if (ss) node_iter(ss->root, f, arg);
}

void nx_seqset_heights(const nx_seqset *ss, int *l, int *r) {
    *l = *r = 0;
    if (!ss->root) return;
    *l = height(ss->root->l);
    *r = height(ss->root->r);
}

static uint64_t node_min(const nx_seqset_node *n) {
    for (int i = 0; i < NX_SEQSET_BUCKETS; i++)
        if (n->bits[i]) return n->base + (uint64_t)i * 64 + (uint64_t)__builtin_ctzll(n->bits[i]);
    return 0;
}

static uint64_t node_max(const nx_seqset_node *n) {
    for (int i = NX_SEQSET_BUCKETS - 1; i >= 0; i--)
        if (n->bits[i])
            return n->base + (uint64_t)i * 64 + 63 - (uint64_t)__builtin_clzll(n->bits[i]);
    return 0;
}

void nx_seqset_min_max(const nx_seqset *ss, uint64_t *min, uint64_t *max) {
    *min = *max = 0;
    if (!ss || !ss->root) return;
    const nx_seqset_node *n = ss->root;
    while (n->l)
        n = n->l;
    *min = node_min(n);
    n = ss->root;
    while (n->r)
        n = n->r;
    *max = node_max(n);
}

void nx_seqset_state(const nx_seqset *ss, uint64_t *min, uint64_t *max, uint64_t *num) {
    *min = *max = *num = 0;
    if (!ss || !ss->root) return;
    nx_seqset_min_max(ss, min, max);
    *num = ss->size;
}

static nx_seqset_node *node_clone(const nx_seqset_node *src) {
    if (!src) return NULL;
    nx_seqset_node *n = node_new(src->base);
    memcpy(n->bits, src->bits, sizeof n->bits);
    n->h = src->h;
    n->l = node_clone(src->l);
    n->r = node_clone(src->r);
    return n;
}

void nx_seqset_clone(const nx_seqset *src, nx_seqset *dst) {
    nx_seqset_init(dst);
    if (!src) return;
    dst->root = node_clone(src->root);
    dst->size = src->size;
    dst->nodes = src->nodes;
}

typedef struct {
    const nx_seqset *other;
    bool equal;
} eq_ctx;

static bool eq_visit(void *arg, uint64_t seq) {
    eq_ctx *c = arg;
    c->equal = nx_seqset_exists(c->other, seq);
    return c->equal;
}

bool nx_seqset_equal(const nx_seqset *a, const nx_seqset *b) {
    if (nx_seqset_is_empty(a) || nx_seqset_is_empty(b))
        return nx_seqset_is_empty(a) && nx_seqset_is_empty(b);
    if (a->size != b->size) return false;
    /* Equal sizes: one-way membership suffices. */
    eq_ctx c = {b, true};
    nx_seqset_range(a, eq_visit, &c);
    return c.equal;
}

static bool insert_visit(void *arg, uint64_t seq) {
    nx_seqset_insert(arg, seq);
    return true;
}

void nx_seqset_union_into(nx_seqset *ss, const nx_seqset *const *sets, size_t n) {
    for (size_t i = 0; i < n; i++)
        nx_seqset_range(sets[i], insert_visit, ss);
}

void nx_seqset_union(const nx_seqset *const *sets, size_t n, nx_seqset *out) {
    nx_seqset_init(out);
    if (n == 0) return;
    size_t big = 0;
    for (size_t i = 1; i < n; i++)
        if (nx_seqset_size(sets[i]) > nx_seqset_size(sets[big])) big = i;
    nx_seqset_clone(sets[big], out);
    for (size_t i = 0; i < n; i++)
        if (i != big) nx_seqset_range(sets[i], insert_visit, out);
}

size_t nx_seqset_encode_len(const nx_seqset *ss) {
    return MIN_LEN + ss->nodes * NODE_ENC_LEN;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t node_encode(const nx_seqset_node *n, uint8_t *buf, size_t i) {
    if (!n) return i;
    put_le(buf + i, n->base, 8);
    i += 8;
    for (int b = 0; b < NX_SEQSET_BUCKETS; b++, i += 8)
        put_le(buf + i, n->bits[b], 8);
    put_le(buf + i, (uint64_t)n->h, 2);
    i += 2;
    i = node_encode(n->l, buf, i);
    return node_encode(n->r, buf, i);
}

size_t nx_seqset_encode(const nx_seqset *ss, uint8_t *buf) {
    buf[0] = NX_SEQSET_MAGIC;
    buf[1] = NX_SEQSET_VERSION;
    put_le(buf + 2, (uint32_t)ss->nodes, 4);
    put_le(buf + 6, (uint32_t)ss->size, 4);
    return node_encode(ss->root, buf, HDR_LEN + 8);
}

/* Places a decoded node; nodes arrive in pre-order so no rebalancing is needed. */
static void insert_decoded(nx_seqset *ss, nx_seqset_node *n) {
    ss->nodes++;
    if (!ss->root) {
        ss->root = n;
        return;
    }
    for (nx_seqset_node *p = ss->root;;) {
        nx_seqset_node **next = n->base < p->base ? &p->l : &p->r;
        if (!*next) {
            *next = n;
            return;
        }
        p = *next;
    }
}

int nx_seqset_decode(const uint8_t *buf, size_t len, nx_seqset *out, size_t *used) {
    nx_seqset_init(out);
    if (len < MIN_LEN || buf[0] != NX_SEQSET_MAGIC) return NX_SEQSET_ERR_BAD_ENCODING;
    uint8_t ver = buf[1];
    if (ver != 1 && ver != 2) return NX_SEQSET_ERR_BAD_VERSION;
    uint64_t nn = get_le(buf + 2, 4), sz = get_le(buf + 6, 4);
    size_t idx = HDR_LEN + 8;
    if (ver == 2) {
        /* Divide instead of multiplying so the bound can not overflow. */
        if (nn > (len - MIN_LEN) / NODE_ENC_LEN) return NX_SEQSET_ERR_BAD_ENCODING;
        out->size = (size_t)sz;
        for (uint64_t i = 0; i < nn; i++) {
            nx_seqset_node *n = node_new(get_le(buf + idx, 8));
            idx += 8;
            for (int b = 0; b < NX_SEQSET_BUCKETS; b++, idx += 8)
                n->bits[b] = get_le(buf + idx, 8);
            n->h = (int)get_le(buf + idx, 2);
            idx += 2;
            insert_decoded(out, n);
        }
        *used = idx;
        return 0;
    }
    /* Version 1 had 64 buckets per node: re-insert every sequence. */
    const size_t v1_buckets = 64;
    if (nn > (len - MIN_LEN) / ((v1_buckets + 1) * 8 + 2)) return NX_SEQSET_ERR_BAD_ENCODING;
    for (uint64_t i = 0; i < nn; i++) {
        uint64_t base = get_le(buf + idx, 8);
        idx += 8;
        for (uint64_t nb = 0; nb < v1_buckets; nb++, idx += 8) {
            for (uint64_t b = get_le(buf + idx, 8); b; b &= b - 1)
                nx_seqset_insert(out, base + nb * 64 + (uint64_t)__builtin_ctzll(b));
        }
        idx += 2; /* height is recomputed */
    }
    if (out->size != sz) {
        nx_seqset_empty(out);
        return NX_SEQSET_ERR_BAD_ENCODING;
    }
    *used = idx;
    return 0;
}

const char *nx_seqset_strerror(int err) {
    switch (err) {
    case NX_SEQSET_ERR_BAD_ENCODING:
        return "ss: bad encoding";
    case NX_SEQSET_ERR_BAD_VERSION:
        return "ss: bad version";
    case NX_SEQSET_ERR_NOT_EMPTY:
        return "ss: set not empty";
    default:
        return "ss: unknown error";
    }
}

uint64_t nx_seqset_root_base(const nx_seqset *ss) {
    return ss->root ? ss->root->base : 0;
}

static bool heights_ok(const nx_seqset_node *n) {
    if (!n) return true;
    return n->h == max_h(n) + 1 && heights_ok(n->l) && heights_ok(n->r);
}

bool nx_seqset_check_balanced(const nx_seqset *ss) {
    int bf = balance_f(ss->root);
    return heights_ok(ss->root) && bf <= 1 && bf >= -1;
}
