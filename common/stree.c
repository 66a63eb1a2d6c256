/* Subject tree (adaptive radix trie) and filter sets.
 *
 * Ports Go nats-server v2.14.5 server/stree: stree.go (insert/find/delete/match/iter,
 * LazyIntersect, IntersectGSL), node4/10/16/48/256.go, leaf.go, parts.go, util.go.
 *
 * Invariants kept from Go:
 *  - node4/10/16 keep keys unsorted (append, swap-with-last on delete); node48 maps a byte to
 *    a 1-based index into a compact child array; node256 indexes children by byte;
 *  - a node shrinks only when one of its direct leaf children is deleted; a node4 left with
 *    one child is replaced by that child, whose prefix/suffix absorbs the node's prefix;
 *  - matching works on "parts" of the filter: literal runs and single '*'/'>' parts.  Go
 *    copies the parts slice when a node prefix consumes part of a literal run; here a parts
 *    view carries an override for its first part instead, so matching never allocates except
 *    for filters with more than 32 parts.
 * Differences from Go: subjects handed to callbacks live in a growable buffer (Go: a 256-byte
 * array that append reallocates); misuse panics become aborts with the same text.
 */
#include "common/stree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"

#define PWC '*'
#define FWC '>'
#define TSEP '.'

struct nx_stree_node {
    uint8_t kind;
    uint16_t size; /* number of children (inner nodes) */
    uint32_t plen; /* prefix length (inner) or suffix length (leaf) */
    char *prefix;  /* owned, NULL when plen == 0 */
};

typedef struct {
    nx_stree_node h;
    uint8_t key[4];
    nx_stree_node *child[4];
} node4;
typedef struct {
    nx_stree_node h;
    uint8_t key[10];
    nx_stree_node *child[10];
} node10;
typedef struct {
    nx_stree_node h;
    uint8_t key[16];
    nx_stree_node *child[16];
} node16;
typedef struct {
    nx_stree_node h;
    uint8_t key[256]; /* 1-based index into child, 0 = none */
    nx_stree_node *child[48];
} node48;
typedef struct {
    nx_stree_node h;
    nx_stree_node *child[256];
} node256;

/* A leaf is the header followed, at a 16-byte aligned offset, by the value bytes. */
#define LEAF_VAL_OFF ((sizeof(nx_stree_node) + 15u) & ~(size_t)15u)
#define LEAF_VAL(n) ((unsigned char *)(n) + LEAF_VAL_OFF)

static _Noreturn void panic_msg(const char *msg) {
    fprintf(stderr, "stree panic: %s\n", msg);
    abort();
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) panic_msg("out of memory");
    return p;
}

static void *xcalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) panic_msg("out of memory");
    return p;
}

static void set_path(nx_stree_node *n, const char *p, size_t len) {
    char *np = NULL;
    if (len) {
        np = xmalloc(len);
        memcpy(np, p, len);
    }
    free(n->prefix);
    n->prefix = np;
    n->plen = (uint32_t)len;
}

/* Go pivot(): the byte at pos, or the no-pivot byte past the end. */
static inline uint8_t pivot(const char *s, size_t len, size_t pos) {
    return pos >= len || !s ? NX_STREE_NO_PIVOT : (uint8_t)s[pos];
}

static size_t common_prefix_len(const char *a, size_t al, const char *b, size_t bl) {
    size_t lim = al < bl ? al : bl, i = 0;
    while (i < lim && a[i] == b[i])
        i++;
    return i;
}

/* --- Nodes --------------------------------------------------------------------------------- */

nx_stree_node *nx_stree_node_new(int kind, const char *prefix, size_t len) {
    size_t sz = 0;
    switch (kind) {
    case NX_STREE_NODE4:
        sz = sizeof(node4);
        break;
    case NX_STREE_NODE10:
        sz = sizeof(node10);
        break;
    case NX_STREE_NODE16:
        sz = sizeof(node16);
        break;
    case NX_STREE_NODE48:
        sz = sizeof(node48);
        break;
    case NX_STREE_NODE256:
        sz = sizeof(node256);
        break;
    default:
        panic_msg("bad node kind");
    }
    nx_stree_node *n = xcalloc(sz);
    n->kind = (uint8_t)kind;
    set_path(n, prefix, len);
    return n;
}

nx_stree_node *nx_stree_leaf_new(const char *suffix, size_t len, const void *value,
                                 size_t value_size) {
    nx_stree_node *n = xcalloc(LEAF_VAL_OFF + value_size);
    n->kind = NX_STREE_LEAF;
    set_path(n, suffix, len);
    if (value_size) memcpy(LEAF_VAL(n), value, value_size);
    return n;
}

void *nx_stree_leaf_value(nx_stree_node *leaf) {
    return LEAF_VAL(leaf);
}

bool nx_stree_leaf_matches(const nx_stree_node *leaf, const char *subj, size_t len) {
    return leaf->plen == len && (len == 0 || memcmp(leaf->prefix, subj, len) == 0);
}

int nx_stree_node_kind(const nx_stree_node *n) {
    return n->kind;
}

const char *nx_stree_node_kind_name(const nx_stree_node *n) {
    static const char *names[] = {"LEAF", "NODE4", "NODE10", "NODE16", "NODE48", "NODE256"};
    return names[n->kind];
}

const char *nx_stree_node_path(const nx_stree_node *n, size_t *len) {
    *len = n->plen;
    return n->plen ? n->prefix : "";
}

uint16_t nx_stree_node_num_children(const nx_stree_node *n) {
    return n->kind == NX_STREE_LEAF ? 0 : n->size;
}

bool nx_stree_node_is_full(const nx_stree_node *n) {
    switch (n->kind) {
    case NX_STREE_LEAF:
        return true;
    case NX_STREE_NODE4:
        return n->size >= 4;
    case NX_STREE_NODE10:
        return n->size >= 10;
    case NX_STREE_NODE16:
        return n->size >= 16;
    case NX_STREE_NODE48:
        return n->size >= 48;
    default:
        return false;
    }
}

/* Small nodes share one layout shape: key[cap] then child[cap]. */
static void small_arrays(nx_stree_node *n, uint8_t **key, nx_stree_node ***child, uint16_t *cap) {
    switch (n->kind) {
    case NX_STREE_NODE4:
        *key = ((node4 *)n)->key, *child = ((node4 *)n)->child, *cap = 4;
        return;
    case NX_STREE_NODE10:
        *key = ((node10 *)n)->key, *child = ((node10 *)n)->child, *cap = 10;
        return;
    default:
        *key = ((node16 *)n)->key, *child = ((node16 *)n)->child, *cap = 16;
        return;
    }
}

void nx_stree_node_add_child(nx_stree_node *n, uint8_t c, nx_stree_node *child) {
    uint8_t *key;
    nx_stree_node **ch;
    uint16_t cap;
    switch (n->kind) {
    case NX_STREE_LEAF:
        panic_msg("addChild called on leaf");
    case NX_STREE_NODE4:
    case NX_STREE_NODE10:
    case NX_STREE_NODE16:
        small_arrays(n, &key, &ch, &cap);
        if (n->size >= cap) {
            panic_msg(cap == 4 ? "node4 full!" : cap == 10 ? "node10 full!" : "node16 full!");
        }
        key[n->size] = c;
        ch[n->size] = child;
        n->size++;
        return;
    case NX_STREE_NODE48: {
        node48 *m = (node48 *)n;
        if (n->size >= 48) panic_msg("node48 full!");
        m->child[n->size] = child;
        m->key[c] = (uint8_t)(n->size + 1);
        n->size++;
        return;
    }
    default:
        ((node256 *)n)->child[c] = child;
        n->size++;
        return;
    }
}

nx_stree_node **nx_stree_node_find_child(nx_stree_node *n, uint8_t c) {
    uint8_t *key;
    nx_stree_node **ch;
    uint16_t cap;
    switch (n->kind) {
    case NX_STREE_LEAF:
        panic_msg("findChild called on leaf");
    case NX_STREE_NODE4:
    case NX_STREE_NODE10:
    case NX_STREE_NODE16:
        small_arrays(n, &key, &ch, &cap);
        for (uint16_t i = 0; i < n->size; i++)
            if (key[i] == c) return &ch[i];
        return NULL;
    case NX_STREE_NODE48: {
        node48 *m = (node48 *)n;
        uint8_t i = m->key[c];
        return i ? &m->child[i - 1] : NULL;
    }
    default: {
        node256 *m = (node256 *)n;
        return m->child[c] ? &m->child[c] : NULL;
    }
    }
}

void nx_stree_node_delete_child(nx_stree_node *n, uint8_t c) {
    uint8_t *key;
    nx_stree_node **ch;
    uint16_t cap;
    switch (n->kind) {
    case NX_STREE_LEAF:
        panic_msg("deleteChild called on leaf");
    case NX_STREE_NODE4:
    case NX_STREE_NODE10:
    case NX_STREE_NODE16:
        small_arrays(n, &key, &ch, &cap);
        for (uint16_t i = 0, last = (uint16_t)(n->size - 1); i < n->size; i++) {
            if (key[i] != c) continue;
            /* Unsorted, so move the last one into the hole. */
            if (i < last) {
                key[i] = key[last];
                ch[i] = ch[last];
            }
            key[last] = 0;
            ch[last] = NULL;
            n->size--;
            return;
        }
        return;
    case NX_STREE_NODE48: {
        node48 *m = (node48 *)n;
        uint8_t i = m->key[c];
        if (!i) return;
        i--;
        uint8_t last = (uint8_t)(n->size - 1);
        if (i < last) {
            m->child[i] = m->child[last];
            for (int ic = 0; ic < 256; ic++) {
                if (m->key[ic] == last + 1) {
                    m->key[ic] = (uint8_t)(i + 1);
                    break;
                }
            }
        }
        m->child[last] = NULL;
        m->key[c] = 0;
        n->size--;
        return;
    }
    default: {
        node256 *m = (node256 *)n;
        if (m->child[c]) {
            m->child[c] = NULL;
            n->size--;
        }
        return;
    }
    }
}

nx_stree_node **nx_stree_node_children(nx_stree_node *n, size_t *count) {
    uint8_t *key;
    nx_stree_node **ch;
    uint16_t cap;
    switch (n->kind) {
    case NX_STREE_LEAF:
        *count = 0;
        return NULL;
    case NX_STREE_NODE4:
    case NX_STREE_NODE10:
    case NX_STREE_NODE16:
        small_arrays(n, &key, &ch, &cap);
        *count = n->size;
        return ch;
    case NX_STREE_NODE48:
        *count = n->size;
        return ((node48 *)n)->child;
    default:
        *count = 256;
        return ((node256 *)n)->child;
    }
}

nx_stree_node *nx_stree_node_child_at(nx_stree_node *n, size_t i) {
    size_t cnt;
    nx_stree_node **ch = nx_stree_node_children(n, &cnt);
    if (n->kind == NX_STREE_NODE48) return i < 48 ? ((node48 *)n)->child[i] : NULL;
    return i < cnt ? ch[i] : NULL;
}

uint8_t nx_stree_node48_key(const nx_stree_node *n, uint8_t c) {
    return ((const node48 *)n)->key[c];
}

void nx_stree_node_iter(nx_stree_node *n, bool (*f)(void *arg, nx_stree_node *child), void *arg) {
    if (n->kind == NX_STREE_LEAF) return;
    if (n->kind == NX_STREE_NODE48) {
        /* Go walks the whole fixed child array and skips empty slots. */
        for (int i = 0; i < 48; i++)
            if (((node48 *)n)->child[i] && !f(arg, ((node48 *)n)->child[i])) return;
        return;
    }
    size_t cnt;
    nx_stree_node **ch = nx_stree_node_children(n, &cnt);
    for (size_t i = 0; i < cnt; i++)
        if (ch[i] && !f(arg, ch[i])) return;
}

/* Copies all children of n into a fresh node of `kind` (with n's prefix if keep_prefix). */
static nx_stree_node *copy_children(nx_stree_node *n, int kind, bool keep_prefix) {
    nx_stree_node *nn =
        nx_stree_node_new(kind, keep_prefix ? n->prefix : NULL, keep_prefix ? n->plen : 0);
    if (n->kind == NX_STREE_NODE48) {
        node48 *m = (node48 *)n;
        for (int c = 0; c < 256; c++)
            if (m->key[c]) nx_stree_node_add_child(nn, (uint8_t)c, m->child[m->key[c] - 1]);
    } else if (n->kind == NX_STREE_NODE256) {
        node256 *m = (node256 *)n;
        for (int c = 0; c < 256; c++)
            if (m->child[c]) nx_stree_node_add_child(nn, (uint8_t)c, m->child[c]);
    } else {
        uint8_t *key;
        nx_stree_node **ch;
        uint16_t cap;
        small_arrays(n, &key, &ch, &cap);
        for (uint16_t i = 0; i < n->size; i++)
            nx_stree_node_add_child(nn, key[i], ch[i]);
    }
    return nn;
}

nx_stree_node *nx_stree_node_grow(nx_stree_node *n) {
    switch (n->kind) {
    case NX_STREE_LEAF:
        panic_msg("grow called on leaf");
    case NX_STREE_NODE4:
        return copy_children(n, NX_STREE_NODE10, true);
    case NX_STREE_NODE10:
        return copy_children(n, NX_STREE_NODE16, true);
    case NX_STREE_NODE16:
        return copy_children(n, NX_STREE_NODE48, true);
    case NX_STREE_NODE48:
        return copy_children(n, NX_STREE_NODE256, true);
    default:
        panic_msg("grow can not be called on node256");
    }
}

nx_stree_node *nx_stree_node_shrink(nx_stree_node *n) {
    switch (n->kind) {
    case NX_STREE_LEAF:
        panic_msg("shrink called on leaf");
    case NX_STREE_NODE4:
        return n->size == 1 ? ((node4 *)n)->child[0] : NULL;
    /* The smaller node starts without a prefix; delete() prepends the old one. */
    case NX_STREE_NODE10:
        return n->size > 4 ? NULL : copy_children(n, NX_STREE_NODE4, false);
    case NX_STREE_NODE16:
        return n->size > 10 ? NULL : copy_children(n, NX_STREE_NODE10, false);
    case NX_STREE_NODE48:
        return n->size > 16 ? NULL : copy_children(n, NX_STREE_NODE16, false);
    default:
        return n->size > 48 ? NULL : copy_children(n, NX_STREE_NODE48, false);
    }
}

void nx_stree_node_free_shell(nx_stree_node *n) {
    if (!n) return;
    free(n->prefix);
    free(n);
}

void nx_stree_node_free(nx_stree_node *n) {
    if (!n) return;
    if (n->kind != NX_STREE_LEAF) {
        size_t cnt;
        nx_stree_node **ch = nx_stree_node_children(n, &cnt);
        for (size_t i = 0; i < cnt; i++)
            nx_stree_node_free(ch[i]);
    }
    nx_stree_node_free_shell(n);
}

/* --- Tree ---------------------------------------------------------------------------------- */

void nx_stree_init(nx_stree *t, size_t value_size) {
    t->root = NULL;
    t->size = 0;
    t->value_size = value_size;
}

void nx_stree_empty(nx_stree *t) {
    if (!t) return;
    nx_stree_node_free(t->root);
    t->root = NULL;
    t->size = 0;
}

size_t nx_stree_size(const nx_stree *t) {
    return t ? t->size : 0;
}

/* Go insert(): recursive, np is the slot holding the node at subject index si. */
static int tree_insert(nx_stree *t, nx_stree_node **np, const char *subj, size_t len,
                       const void *value, void *old_out, size_t si) {
    nx_stree_node *n = *np;
    if (!n) {
        *np = nx_stree_leaf_new(subj + si, len - si, value, t->value_size);
        return 0;
    }
    if (n->kind == NX_STREE_LEAF) {
        if (nx_stree_leaf_matches(n, subj + si, len - si)) {
            if (old_out) memcpy(old_out, LEAF_VAL(n), t->value_size);
            memcpy(LEAF_VAL(n), value, t->value_size);
            return 1;
        }
        /* Split this leaf under a new node4 holding the common prefix. */
        size_t cpi = common_prefix_len(n->prefix, n->plen, subj + si, len - si);
        nx_stree_node *nn = nx_stree_node_new(NX_STREE_NODE4, subj + si, cpi);
        size_t rest = n->plen - cpi;
        if (rest) memmove(n->prefix, n->prefix + cpi, rest);
        n->plen = (uint32_t)rest;
        si += cpi;
        uint8_t p = pivot(n->prefix, n->plen, 0);
        if (cpi > 0 && si < len && p == (uint8_t)subj[si]) {
            /* Same pivot (only with overflowing prefixes): split the leaf again below. */
            tree_insert(t, np, subj, len, value, old_out, si);
            nx_stree_node_add_child(nn, p, *np);
        } else {
            nx_stree_node *nl = nx_stree_leaf_new(subj + si, len - si, value, t->value_size);
            nx_stree_node_add_child(nn, pivot(nl->prefix, nl->plen, 0), nl);
            nx_stree_node_add_child(nn, pivot(n->prefix, n->plen, 0), n);
        }
        *np = nn;
        return 0;
    }
    if (n->plen > 0) {
        size_t cpi = common_prefix_len(n->prefix, n->plen, subj + si, len - si);
        if (cpi >= n->plen) {
            /* Past this node: recurse into the matching child or add a leaf. */
            si += n->plen;
            nx_stree_node **nn = nx_stree_node_find_child(n, pivot(subj, len, si));
            if (nn) return tree_insert(t, nn, subj, len, value, old_out, si);
            if (nx_stree_node_is_full(n)) {
                nx_stree_node *g = nx_stree_node_grow(n);
                nx_stree_node_free_shell(n);
                *np = n = g;
            }
            nx_stree_node_add_child(n, pivot(subj, len, si),
                                    nx_stree_leaf_new(subj + si, len - si, value, t->value_size));
            return 0;
        }
        /* Partial prefix match: a new node4 takes the common part, this node keeps the rest. */
        nx_stree_node *nn = nx_stree_node_new(NX_STREE_NODE4, subj + si, cpi);
        si += cpi;
        size_t rest = n->plen - cpi;
        memmove(n->prefix, n->prefix + cpi, rest);
        n->plen = (uint32_t)rest;
        nx_stree_node_add_child(nn, pivot(n->prefix, n->plen, 0), n);
        nx_stree_node_add_child(nn, pivot(subj + si, len - si, 0),
                                nx_stree_leaf_new(subj + si, len - si, value, t->value_size));
        *np = nn;
        return 0;
    }
    nx_stree_node **nn = nx_stree_node_find_child(n, pivot(subj, len, si));
    if (nn) return tree_insert(t, nn, subj, len, value, old_out, si);
    if (nx_stree_node_is_full(n)) {
        nx_stree_node *g = nx_stree_node_grow(n);
        nx_stree_node_free_shell(n);
        *np = n = g;
    }
    nx_stree_node_add_child(n, pivot(subj, len, si),
                            nx_stree_leaf_new(subj + si, len - si, value, t->value_size));
    return 0;
}

int nx_stree_insert(nx_stree *t, const char *subj, size_t len, const void *value, void *old_out) {
    if (!t) return -EINVAL;
    /* Never insert anything holding the no-pivot byte: it would confuse pivots. */
    if (len && memchr(subj, NX_STREE_NO_PIVOT, len)) return -EINVAL;
    int rc = tree_insert(t, &t->root, subj, len, value, old_out, 0);
    if (rc == 0) t->size++;
    return rc;
}

void *nx_stree_find(const nx_stree *t, const char *subj, size_t len) {
    if (!t) return NULL;
    size_t si = 0;
    for (nx_stree_node *n = t->root; n;) {
        if (n->kind == NX_STREE_LEAF)
            return nx_stree_leaf_matches(n, subj + si, len - si) ? LEAF_VAL(n) : NULL;
        if (n->plen > 0) {
            size_t end = si + n->plen < len ? si + n->plen : len;
            if (end - si != n->plen || memcmp(subj + si, n->prefix, n->plen) != 0) return NULL;
            si += n->plen;
        }
        nx_stree_node **an = nx_stree_node_find_child(n, pivot(subj, len, si));
        if (!an) return NULL;
        n = *an;
    }
    return NULL;
}

/* Prepends pre to the node's prefix (or the leaf's suffix). */
static void prepend_path(nx_stree_node *n, const char *pre, size_t plen) {
    if (!plen) return;
    char *np = xmalloc(plen + n->plen);
    memcpy(np, pre, plen);
    if (n->plen) memcpy(np + plen, n->prefix, n->plen);
    free(n->prefix);
    n->prefix = np;
    n->plen += (uint32_t)plen;
}

static bool tree_delete(nx_stree *t, nx_stree_node **np, const char *subj, size_t len,
                        void *old_out, size_t si) {
    if (!np || !*np || len == 0) return false;
    nx_stree_node *n = *np;
    if (n->kind == NX_STREE_LEAF) {
        if (!nx_stree_leaf_matches(n, subj + si, len - si)) return false;
        if (old_out) memcpy(old_out, LEAF_VAL(n), t->value_size);
        nx_stree_node_free_shell(n);
        *np = NULL;
        return true;
    }
    if (n->plen > 0) {
        /* The subject may be shorter than the prefix. */
        if (len < si + n->plen) return false;
        if (memcmp(subj + si, n->prefix, n->plen) != 0) return false;
        si += n->plen;
    }
    uint8_t p = pivot(subj, len, si);
    nx_stree_node **nna = nx_stree_node_find_child(n, p);
    if (!nna) return false;
    nx_stree_node *nn = *nna;
    if (nn->kind != NX_STREE_LEAF) return tree_delete(t, nna, subj, len, old_out, si);
    if (!nx_stree_leaf_matches(nn, subj + si, len - si)) return false;
    if (old_out) memcpy(old_out, LEAF_VAL(nn), t->value_size);
    nx_stree_node_delete_child(n, p);
    nx_stree_node_free_shell(nn);
    nx_stree_node *sn = nx_stree_node_shrink(n);
    if (sn) {
        /* The replacement takes over this node's prefix in front of its own path. */
        if (sn->kind == NX_STREE_LEAF || n->plen > 0) prepend_path(sn, n->prefix, n->plen);
        nx_stree_node_free_shell(n);
        *np = sn;
    }
    return true;
}

bool nx_stree_delete(nx_stree *t, const char *subj, size_t len, void *old_out) {
    if (!t) return false;
    bool deleted = tree_delete(t, &t->root, subj, len, old_out, 0);
    if (deleted) t->size--;
    return deleted;
}

/* --- Walking: the subject prefix buffer --------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap;
    char inl[256];
} prebuf;

static void pre_init(prebuf *pb) {
    pb->buf = pb->inl;
    pb->cap = sizeof pb->inl;
}

static void pre_free(prebuf *pb) {
    if (pb->buf != pb->inl) free(pb->buf);
}

/* Appends at offset `at` (callers keep their own length, like Go's append on a slice). */
static size_t pre_put(prebuf *pb, size_t at, const char *s, size_t n) {
    if (at + n > pb->cap) {
        size_t nc = pb->cap * 2;
        while (nc < at + n)
            nc *= 2;
        char *nb = xmalloc(nc);
        memcpy(nb, pb->buf, at);
        pre_free(pb);
        pb->buf = nb;
        pb->cap = nc;
    }
    if (n) memcpy(pb->buf + at, s, n);
    return at + n;
}

static bool iter_rec(const nx_stree *t, nx_stree_node *n, prebuf *pb, size_t plen, bool ordered,
                     nx_stree_cb cb, void *arg) {
    if (n->kind == NX_STREE_LEAF) {
        size_t l = pre_put(pb, plen, n->prefix, n->plen);
        return cb(arg, pb->buf, l, LEAF_VAL(n));
    }
    (void)t;
    plen = pre_put(pb, plen, n->prefix, n->plen);
    size_t cnt;
    nx_stree_node **ch = nx_stree_node_children(n, &cnt);
    if (!ordered) {
        for (size_t i = 0; i < cnt; i++)
            if (ch[i] && !iter_rec(t, ch[i], pb, plen, false, cb, arg)) return false;
        return true;
    }
    /* Collect and stable-sort the children by path (insertion sort: at most 256). */
    nx_stree_node *nodes[256];
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (!ch[i]) continue;
        nx_stree_node *x = ch[i];
        size_t j = k++;
        while (j > 0) {
            nx_stree_node *y = nodes[j - 1];
            size_t ml = x->plen < y->plen ? x->plen : y->plen;
            int c = ml ? memcmp(y->prefix, x->prefix, ml) : 0;
            if (c < 0 || (c == 0 && y->plen <= x->plen)) break;
            nodes[j] = y;
            j--;
        }
        nodes[j] = x;
    }
    for (size_t i = 0; i < k; i++)
        if (!iter_rec(t, nodes[i], pb, plen, true, cb, arg)) return false;
    return true;
}

void nx_stree_iter_node(const nx_stree *t, nx_stree_node *n, bool ordered, nx_stree_cb cb,
                        void *arg) {
    if (!n) return;
    prebuf pb;
    pre_init(&pb);
    iter_rec(t, n, &pb, 0, ordered, cb, arg);
    pre_free(&pb);
}

void nx_stree_iter_ordered(const nx_stree *t, nx_stree_cb cb, void *arg) {
    if (t && t->root) nx_stree_iter_node(t, t->root, true, cb, arg);
}

void nx_stree_iter_fast(const nx_stree *t, nx_stree_cb cb, void *arg) {
    if (t && t->root) nx_stree_iter_node(t, t->root, false, cb, arg);
}

/* --- Matching: filter parts ---------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t len;
} part;

/* A view of parts[off..]: like a Go sub-slice, but the first element may be overridden
 * (Go copies the slice to shorten its first part; a view needs no copy). */
typedef struct {
    const part *arr;
    size_t n;
    part first;
} pview;

static inline part pv_at(const pview *v, size_t i) {
    return i == 0 ? v->first : v->arr[i];
}

static inline pview pv_sub(const pview *v, size_t i) {
    pview r = {v->arr + i, v->n - i, {NULL, 0}};
    if (r.n) r.first = pv_at(v, i);
    return r;
}

static inline pview pv_empty(void) {
    pview r = {NULL, 0, {NULL, 0}};
    return r;
}

/* Go genParts: literal runs and single '*' / '>' parts.  out must hold flen + 1 parts. */
static size_t gen_parts(const char *f, size_t flen, part *out) {
    size_t n = 0, start = 0;
    if (flen == 0) return 0;
    size_t e = flen - 1;
    for (size_t i = 0; i < flen; i++) {
        if (f[i] == TSEP) {
            /* Next token is an internal or terminal pwc? */
            if (i < e && f[i + 1] == PWC && ((i + 2 <= e && f[i + 2] == TSEP) || i + 1 == e)) {
                if (i > start) out[n++] = (part){f + start, i + 1 - start};
                out[n++] = (part){f + i + 1, 1};
                i++;                 /* skip pwc */
                if (i + 2 <= e) i++; /* and the tsep after it */
                start = i + 1;
            } else if (i < e && f[i + 1] == FWC && i + 1 == e) {
                if (i > start) out[n++] = (part){f + start, i + 1 - start};
                out[n++] = (part){f + i + 1, 1};
                i++;
                start = i + 1;
            }
        } else if (f[i] == PWC || f[i] == FWC) {
            /* A wildcard must start the filter or follow a tsep ... */
            if (i > 0 && f[i - 1] != TSEP) continue;
            /* ... and end it or be followed by a tsep. */
            size_t next = i + 1;
            if (next == e || (next < e && f[next] != TSEP)) continue;
            /* A full wildcard must be terminal. */
            if (i < e && f[i] == FWC) break;
            out[n++] = (part){f + i, 1};
            if (i + 1 <= e) i++;
            start = i + 1;
        }
    }
    if (start < flen) {
        if (f[start] == TSEP) start++; /* eat a leading tsep */
        out[n++] = (part){f + start, flen - start};
    }
    return n;
}

/* Go matchParts: match parts against a node prefix or leaf suffix. */
static bool match_parts(const pview *in, const char *frag, size_t lf, pview *out) {
    if (lf == 0) {
        *out = *in;
        return true;
    }
    size_t si = 0;
    size_t lpi = in->n - 1;
    for (size_t i = 0; i < in->n; i++) {
        part pt = pv_at(in, i);
        if (si >= lf) {
            *out = pv_sub(in, i);
            return true;
        }
        size_t lp = pt.len;
        if (lp == 1) {
            if (pt.p[0] == PWC) {
                const char *dot = memchr(frag + si, TSEP, lf - si);
                /* No tsep: the caller must move on to the next node. */
                if (!dot) {
                    *out = i == lpi ? pv_empty() : pv_sub(in, i);
                    return true;
                }
                si += (size_t)(dot - (frag + si)) + 1;
                continue;
            } else if (pt.p[0] == FWC) {
                *out = pv_empty();
                return true;
            }
        }
        size_t end = si + lp < lf ? si + lp : lf;
        size_t cmp = end - si; /* the part may be longer than what is left of frag */
        if (memcmp(pt.p, frag + si, cmp) != 0) {
            *out = *in;
            return false;
        }
        if (end < lf) {
            si = end;
            continue;
        }
        if (end < si + lp) {
            /* Partial: keep this part, minus what frag consumed, for the next node. */
            *out = pv_sub(in, i);
            out->first = (part){pt.p + (lf - si), pt.len - (lf - si)};
            return true;
        }
        if (i == lpi) {
            *out = pv_empty();
            return true;
        }
        si += pt.len;
    }
    *out = *in;
    return false;
}

int nx_stree_match_parts_remaining(const char *filter, size_t flen, const char *frag,
                                   size_t frag_len) {
    part *parts = xmalloc((flen + 1) * sizeof(part));
    size_t n = gen_parts(filter, flen, parts);
    pview in = {parts, n, n ? parts[0] : (part){NULL, 0}}, out;
    bool ok = match_parts(&in, frag, frag_len, &out);
    free(parts);
    return ok ? (int)out.n : -1;
}

typedef struct {
    nx_stree_cb cb;
    void *arg;
    prebuf pb;
} match_ctx;

static bool match_rec(match_ctx *mc, nx_stree_node *n, pview parts, size_t plen) {
    /* Are we sitting on a terminal fwc? */
    bool has_fwc = false;
    if (parts.n > 0) {
        part lp = pv_at(&parts, parts.n - 1);
        has_fwc = lp.len > 0 && lp.p[0] == FWC;
    }
    while (n) {
        pview np;
        if (!match_parts(&parts, n->prefix, n->plen, &np)) return true;
        if (n->kind == NX_STREE_LEAF) {
            if (np.n == 0 || (has_fwc && np.n == 1)) {
                size_t l = pre_put(&mc->pb, plen, n->prefix, n->plen);
                if (!mc->cb(mc->arg, mc->pb.buf, l, LEAF_VAL(n))) return false;
            }
            return true;
        }
        plen = pre_put(&mc->pb, plen, n->prefix, n->plen);
        size_t cnt;
        nx_stree_node **ch = nx_stree_node_children(n, &cnt);
        if (np.n == 0 && !has_fwc) {
            /* No parts left: a leaf with an empty suffix matches, and so does anything one
             * token deep when the filter ends in a pwc. */
            bool term_pwc = false;
            if (parts.n > 0) {
                part lp = pv_at(&parts, parts.n - 1);
                if (lp.len == 1 && lp.p[0] == PWC) {
                    np = pv_sub(&parts, parts.n - 1);
                    term_pwc = true;
                }
            }
            for (size_t i = 0; i < cnt; i++) {
                nx_stree_node *cn = ch[i];
                if (!cn) continue;
                if (cn->kind == NX_STREE_LEAF) {
                    if (cn->plen == 0 || (term_pwc && !memchr(cn->prefix, TSEP, cn->plen))) {
                        size_t l = pre_put(&mc->pb, plen, cn->prefix, cn->plen);
                        if (!mc->cb(mc->arg, mc->pb.buf, l, LEAF_VAL(cn))) return false;
                    }
                } else if (term_pwc) {
                    if (!match_rec(mc, cn, np, plen)) return false;
                }
            }
            return true;
        }
        if (has_fwc && np.n == 0) np = pv_sub(&parts, parts.n - 1);
        part fp = pv_at(&np, 0);
        uint8_t p = pivot(fp.p, fp.len, 0);
        if (fp.len == 1 && (p == PWC || p == FWC)) {
            /* A wildcard part: every child may match further down. */
            for (size_t i = 0; i < cnt; i++)
                if (ch[i] && !match_rec(mc, ch[i], np, plen)) return false;
            return true;
        }
        nx_stree_node **nn = nx_stree_node_find_child(n, p);
        if (!nn) return true;
        n = *nn;
        parts = np;
    }
    return true;
}

bool nx_stree_match_until(const nx_stree *t, const char *filter, size_t flen, nx_stree_cb cb,
                          void *arg) {
    if (!t || !t->root || flen == 0 || !cb) return true;
    part stack_parts[32];
    part *parts = flen + 1 <= 32 ? stack_parts : xmalloc((flen + 1) * sizeof(part));
    size_t n = gen_parts(filter, flen, parts);
    pview pv = {parts, n, n ? parts[0] : (part){NULL, 0}};
    match_ctx mc = {cb, arg, {0}};
    pre_init(&mc.pb);
    bool done = match_rec(&mc, t->root, pv, 0);
    pre_free(&mc.pb);
    if (parts != stack_parts) free(parts);
    return done;
}

typedef struct {
    nx_stree_cb cb;
    void *arg;
} always_ctx;

static bool match_always(void *arg, const char *subj, size_t len, void *value) {
    always_ctx *c = arg;
    c->cb(c->arg, subj, len, value);
    return true;
}

void nx_stree_match(const nx_stree *t, const char *filter, size_t flen, nx_stree_cb cb, void *arg) {
    if (!cb) return;
    always_ctx c = {cb, arg};
    nx_stree_match_until(t, filter, flen, match_always, &c);
}

/* --- Intersections ------------------------------------------------------------------------- */

typedef struct {
    const nx_stree *other;
    nx_stree_pair_cb cb;
    void *arg;
    bool other_is_right;
} lazy_ctx;

static bool lazy_visit(void *arg, const char *subj, size_t len, void *value) {
    lazy_ctx *c = arg;
    void *ov = nx_stree_find(c->other, subj, len);
    if (ov) {
        if (c->other_is_right)
            c->cb(c->arg, subj, len, value, ov);
        else
            c->cb(c->arg, subj, len, ov, value);
    }
    return true;
}

void nx_stree_lazy_intersect(const nx_stree *tl, const nx_stree *tr, nx_stree_pair_cb cb,
                             void *arg) {
    if (!tl || !tr || !tl->root || !tr->root) return;
    /* Walk the smaller tree. */
    if (tl->size <= tr->size) {
        lazy_ctx c = {tr, cb, arg, true};
        nx_stree_iter_fast(tl, lazy_visit, &c);
    } else {
        lazy_ctx c = {tl, cb, arg, false};
        nx_stree_iter_fast(tr, lazy_visit, &c);
    }
}

void nx_filter_set_init(nx_filter_set *fs) {
    memset(fs, 0, sizeof *fs);
}

void nx_filter_set_destroy(nx_filter_set *fs) {
    nx_strmap_entry *e;
    for (uint32_t i = 0; nx_strmap_next(&fs->literals, &i, &e);)
        free(e->value);
    nx_strmap_free(&fs->literals);
    for (size_t i = 0; i < fs->nwild; i++)
        free(fs->wild[i]);
    free(fs->wild);
    memset(fs, 0, sizeof *fs);
}

int nx_filter_set_add(nx_filter_set *fs, const char *filter, size_t len) {
    if (!nx_subject_valid(filter, len)) return -EINVAL;
    if (nx_subject_is_literal(filter, len)) {
        if (nx_strmap_get(&fs->literals, filter, len)) return 1;
        char *k = xmalloc(len + 1);
        memcpy(k, filter, len);
        k[len] = 0;
        nx_strmap_put(&fs->literals, k, len, k);
        return 0;
    }
    for (size_t i = 0; i < fs->nwild; i++)
        if (strlen(fs->wild[i]) == len && memcmp(fs->wild[i], filter, len) == 0) return 1;
    if (fs->nwild == fs->wild_cap) {
        fs->wild_cap = fs->wild_cap ? fs->wild_cap * 2 : 4;
        char **nw = realloc(fs->wild, fs->wild_cap * sizeof(char *));
        if (!nw) panic_msg("out of memory");
        fs->wild = nw;
    }
    char *k = xmalloc(len + 1);
    memcpy(k, filter, len);
    k[len] = 0;
    fs->wild[fs->nwild++] = k;
    return 0;
}

size_t nx_filter_set_count(const nx_filter_set *fs) {
    return fs->literals.count + fs->nwild;
}

bool nx_filter_set_has_interest(const nx_filter_set *fs, const char *subj, size_t len) {
    if (fs->literals.count && nx_strmap_get(&fs->literals, subj, len)) return true;
    for (size_t i = 0; i < fs->nwild; i++)
        if (nx_subject_match_literal(subj, len, fs->wild[i], strlen(fs->wild[i]))) return true;
    return false;
}

typedef struct {
    const nx_filter_set *fs;
    size_t wi; /* the wildcard filter being walked */
    nx_stree_cb cb;
    void *arg;
    bool stopped;
} isect_ctx;

static bool isect_wild_visit(void *arg, const char *subj, size_t len, void *value) {
    isect_ctx *c = arg;
    /* Report each subject once: skip what a literal or an earlier wildcard already gave. */
    if (c->fs->literals.count && nx_strmap_get(&c->fs->literals, subj, len)) return true;
    for (size_t j = 0; j < c->wi; j++) {
        const char *w = c->fs->wild[j];
        if (nx_subject_match_literal(subj, len, w, strlen(w))) return true;
    }
    if (!c->cb(c->arg, subj, len, value)) {
        c->stopped = true;
        return false;
    }
    return true;
}

void nx_stree_intersect_filters(const nx_stree *t, const nx_filter_set *fs, nx_stree_cb cb,
                                void *arg) {
    if (!t || !t->root || !fs) return;
    nx_strmap_entry *e;
    for (uint32_t i = 0; nx_strmap_next(&fs->literals, &i, &e);) {
        void *v = nx_stree_find(t, e->key, e->key_len);
        if (v && !cb(arg, e->key, e->key_len, v)) return;
    }
    isect_ctx c = {fs, 0, cb, arg, false};
    for (size_t i = 0; i < fs->nwild && !c.stopped; i++) {
        c.wi = i;
        nx_stree_match_until(t, fs->wild[i], strlen(fs->wild[i]), isect_wild_visit, &c);
    }
}
