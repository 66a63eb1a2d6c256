/* Subject tree: an adaptive radix trie over literal subjects, with wildcard matching.
 *
 * Ports Go nats-server v2.14.5 server/stree (stree.go, node*.go, leaf.go, parts.go, util.go).
 * The stores use it for per-subject state (first/last sequence and count per subject) and
 * the consumer code for NumPending over wildcard filters.
 *
 * Invariants (as in Go):
 *  - keys are literal subjects; a key holding byte 127 (the "no pivot" byte) is refused;
 *  - inner nodes carry a compressed prefix and 4/10/16/48/256 children keyed by one byte;
 *    a leaf carries the rest of its subject (its suffix) and the value, stored inline;
 *  - a value pointer returned by find/match/iter stays valid until that key is deleted or the
 *    tree is emptied (leaves never move; only inner nodes are reallocated on grow/shrink);
 *  - callbacks must not modify the tree they are walking.
 * Not thread-safe.  Allocation failure aborts (nx_stree is used on hot paths that have no
 * sensible recovery from out-of-memory).
 *
 * Also here: nx_filter_set, a set of subject filters (literal or wildcard) standing in for Go's
 * gsl.SimpleSublist where the stores take "several subjects" (LoadNextMsgMulti, NumPendingMulti).
 */
#ifndef NX_STREE_H
#define NX_STREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strmap.h"

typedef struct nx_stree_node nx_stree_node;

typedef struct nx_stree {
    nx_stree_node *root;
    size_t size;       /* number of keys */
    size_t value_size; /* bytes of the value stored in each leaf */
} nx_stree;

/* Walk callback: subject (not NUL-terminated, valid only during the call) and its value.
 * Return false to stop (ignored by nx_stree_match, which always visits every match). */
typedef bool (*nx_stree_cb)(void *arg, const char *subj, size_t len, void *value);

void nx_stree_init(nx_stree *t, size_t value_size);
/* Frees every node; the tree is empty and reusable afterwards (Go's Empty). */
void nx_stree_empty(nx_stree *t);
/* Number of keys; 0 for a NULL tree. */
size_t nx_stree_size(const nx_stree *t);

/* Inserts or replaces.  Returns 0 when inserted, 1 when an existing value was replaced (the old
 * value is copied to old_out if non-NULL), -EINVAL if the subject holds byte 127 or t is NULL. */
int nx_stree_insert(nx_stree *t, const char *subj, size_t len, const void *value, void *old_out);
/* The value stored under the literal subject, or NULL. */
void *nx_stree_find(const nx_stree *t, const char *subj, size_t len);
/* Deletes the key; copies its value to old_out if non-NULL.  Returns true if it existed. */
bool nx_stree_delete(nx_stree *t, const char *subj, size_t len, void *old_out);

/* Calls cb for each key matched by filter ('*' one token, '>' the rest). */
void nx_stree_match(const nx_stree *t, const char *filter, size_t flen, nx_stree_cb cb, void *arg);
/* Like nx_stree_match but stops when cb returns false.  Returns true if it ran to the end. */
bool nx_stree_match_until(const nx_stree *t, const char *filter, size_t flen, nx_stree_cb cb,
                          void *arg);
/* Walks all keys in lexicographic order / in storage order (faster). */
void nx_stree_iter_ordered(const nx_stree *t, nx_stree_cb cb, void *arg);
void nx_stree_iter_fast(const nx_stree *t, nx_stree_cb cb, void *arg);

/* Go LazyIntersect: for each key present in both trees, cb(arg, subj, len, left_val, right_val).
 * Iterates the smaller tree and looks up in the other. */
typedef void (*nx_stree_pair_cb)(void *arg, const char *subj, size_t len, void *lv, void *rv);
void nx_stree_lazy_intersect(const nx_stree *tl, const nx_stree *tr, nx_stree_pair_cb cb,
                             void *arg);

/* --- Filter sets (Go gsl.SimpleSublist as the stores use it) ---------------------------- */

typedef struct nx_filter_set {
    nx_strmap literals; /* literal filters, for O(1) interest checks; keys owned */
    char **wild;        /* wildcard filters, NUL-terminated, owned */
    size_t nwild, wild_cap;
} nx_filter_set;

void nx_filter_set_init(nx_filter_set *fs);
void nx_filter_set_destroy(nx_filter_set *fs);
/* Adds a filter (a valid subject, possibly with wildcards).  0, 1 if already present,
 * -EINVAL for an invalid subject (Go's ErrInvalidSubject). */
int nx_filter_set_add(nx_filter_set *fs, const char *filter, size_t len);
size_t nx_filter_set_count(const nx_filter_set *fs);
/* Does any filter match this literal subject? */
bool nx_filter_set_has_interest(const nx_filter_set *fs, const char *subj, size_t len);
/* Go IntersectGSL: cb once for each key of t that some filter matches (overlapping filters
 * do not cause repeats).  Stops when cb returns false. */
void nx_stree_intersect_filters(const nx_stree *t, const nx_filter_set *fs, nx_stree_cb cb,
                                void *arg);

/* --- Node internals, exposed for the unit tests (ports of Go's node tests) ---------------- */

enum {
    NX_STREE_LEAF = 0,
    NX_STREE_NODE4,
    NX_STREE_NODE10,
    NX_STREE_NODE16,
    NX_STREE_NODE48,
    NX_STREE_NODE256,
};
#define NX_STREE_NO_PIVOT ((uint8_t)127)

int nx_stree_node_kind(const nx_stree_node *n);
const char *nx_stree_node_kind_name(const nx_stree_node *n); /* "LEAF", "NODE4", ... */
/* A node's prefix or a leaf's suffix. */
const char *nx_stree_node_path(const nx_stree_node *n, size_t *len);
uint16_t nx_stree_node_num_children(const nx_stree_node *n);
/* Standalone construction (tests).  Leaves get the tree's value size passed explicitly. */
nx_stree_node *nx_stree_node_new(int kind, const char *prefix, size_t len);
nx_stree_node *nx_stree_leaf_new(const char *suffix, size_t len, const void *value,
                                 size_t value_size);
void *nx_stree_leaf_value(nx_stree_node *leaf);
bool nx_stree_leaf_matches(const nx_stree_node *leaf, const char *subj, size_t len);
/* The operations below abort with Go's panic text when misused (full node, leaf, node256). */
void nx_stree_node_add_child(nx_stree_node *n, uint8_t c, nx_stree_node *child);
nx_stree_node **nx_stree_node_find_child(nx_stree_node *n, uint8_t c);
void nx_stree_node_delete_child(nx_stree_node *n, uint8_t c);
bool nx_stree_node_is_full(const nx_stree_node *n);
/* New node of the next size holding the same children (n is left as is). */
nx_stree_node *nx_stree_node_grow(nx_stree_node *n);
/* New smaller node if n has few enough children (node4: its only child), else NULL. */
nx_stree_node *nx_stree_node_shrink(nx_stree_node *n);
/* Go's children(): the child array (node256: all 256 slots, NULL where empty). */
nx_stree_node **nx_stree_node_children(nx_stree_node *n, size_t *count);
/* Visits non-NULL children until f returns false (a leaf has none). */
void nx_stree_node_iter(nx_stree_node *n, bool (*f)(void *arg, nx_stree_node *child), void *arg);
uint8_t nx_stree_node48_key(const nx_stree_node *n, uint8_t c); /* 1-based index or 0 */
nx_stree_node *nx_stree_node_child_at(nx_stree_node *n, size_t i);
/* Frees the node itself, not its children / frees the node and everything below it. */
void nx_stree_node_free_shell(nx_stree_node *n);
void nx_stree_node_free(nx_stree_node *n);
/* Go's genParts/matchParts, for their edge-case tests: returns the number of parts that
 * remain after matching frag (or -1 when they do not match). */
int nx_stree_match_parts_remaining(const char *filter, size_t flen, const char *frag,
                                   size_t frag_len);
/* Go's recursive iter from a given node with an empty prefix. */
void nx_stree_iter_node(const nx_stree *t, nx_stree_node *n, bool ordered, nx_stree_cb cb,
                        void *arg);

#endif
