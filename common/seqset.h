/* Sequence set: a memory-compact set of uint64 sequence numbers.
 *
 * Ports Go nats-server v2.14.5 server/avl/seqset.go (SequenceSet).  An AVL tree of nodes, each
 * covering 2048 consecutive sequences with a 32 x 64-bit bitmap; the stores keep deleted
 * sequences (the "dmap") in one.  The binary encoding (magic 22, versions 1 and 2) is Go's,
 * since it travels inside replicated stream snapshots.
 *
 * Invariants: no node is empty (a node whose last bit is cleared is removed); node heights are
 * max(child heights) + 1; the tree is rebalanced on every insert and delete.
 * Not thread-safe.  Allocation failure aborts.
 */
#ifndef NX_SEQSET_H
#define NX_SEQSET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_SEQSET_BUCKETS 32
#define NX_SEQSET_ENTRIES ((uint64_t)NX_SEQSET_BUCKETS * 64) /* sequences per node */
#define NX_SEQSET_MAGIC 22
#define NX_SEQSET_VERSION 2

/* Errors (negative errno values; texts are Go's, see nx_seqset_strerror). */
#define NX_SEQSET_ERR_BAD_ENCODING (-EBADMSG)        /* "ss: bad encoding" */
#define NX_SEQSET_ERR_BAD_VERSION (-EPROTONOSUPPORT) /* "ss: bad version" */
#define NX_SEQSET_ERR_NOT_EMPTY (-ENOTEMPTY)         /* "ss: set not empty" */

typedef struct nx_seqset_node nx_seqset_node;

typedef struct nx_seqset {
    nx_seqset_node *root;
    size_t size;  /* number of sequences */
    size_t nodes; /* number of tree nodes */
} nx_seqset;

/* A zeroed nx_seqset is a valid empty set. */
void nx_seqset_init(nx_seqset *ss);
void nx_seqset_insert(nx_seqset *ss, uint64_t seq);
bool nx_seqset_exists(const nx_seqset *ss, uint64_t seq);
/* Removes seq; returns true if it was present. */
bool nx_seqset_delete(nx_seqset *ss, uint64_t seq);
/* Sets the base of the first node when the minimum is known (set must be empty). */
int nx_seqset_set_initial_min(nx_seqset *ss, uint64_t min);
size_t nx_seqset_size(const nx_seqset *ss);
size_t nx_seqset_nodes(const nx_seqset *ss);
/* Frees all nodes (Go's Empty). */
void nx_seqset_empty(nx_seqset *ss);
bool nx_seqset_is_empty(const nx_seqset *ss);
/* Calls f for each sequence in ascending order until f returns false. */
void nx_seqset_range(const nx_seqset *ss, bool (*f)(void *arg, uint64_t seq), void *arg);
void nx_seqset_heights(const nx_seqset *ss, int *l, int *r);
/* Min, max and number of sequences (all 0 when empty). */
void nx_seqset_state(const nx_seqset *ss, uint64_t *min, uint64_t *max, uint64_t *num);
void nx_seqset_min_max(const nx_seqset *ss, uint64_t *min, uint64_t *max);
/* Deep copy into dst (which must be empty or freshly initialised). */
void nx_seqset_clone(const nx_seqset *src, nx_seqset *dst);
/* Same members?  NULL counts as empty. */
bool nx_seqset_equal(const nx_seqset *a, const nx_seqset *b);
/* Inserts every member of each of the n sets into ss. */
void nx_seqset_union_into(nx_seqset *ss, const nx_seqset *const *sets, size_t n);
/* Go's Union(): a new set holding the union (clones the largest, inserts the rest). */
void nx_seqset_union(const nx_seqset *const *sets, size_t n, nx_seqset *out);

/* Exact encoded size, and encoding into buf (at least nx_seqset_encode_len bytes).
 * Returns the number of bytes written. */
size_t nx_seqset_encode_len(const nx_seqset *ss);
size_t nx_seqset_encode(const nx_seqset *ss, uint8_t *buf);
/* Decodes one encoded set from buf into out (initialised empty here).  On success returns 0
 * and stores the bytes consumed in *used. */
int nx_seqset_decode(const uint8_t *buf, size_t len, nx_seqset *out, size_t *used);
const char *nx_seqset_strerror(int err);

/* Test hooks: base of the root node; whether every node height is consistent and the root
 * balance factor is within [-1, 1] (Go's testBalanced). */
uint64_t nx_seqset_root_base(const nx_seqset *ss);
bool nx_seqset_check_balanced(const nx_seqset *ss);

#endif
