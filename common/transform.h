/* Subject transforms and weighted subject mappings.
 *
 * Ports Go nats-server v2.14.5 server/subject_transform.go (NewSubjectTransformWithStrict,
 * indexPlaceHolders, Match, TransformTokenizedSubject, reverse, transformTokenize,
 * transformUntokenize), the mapping parts of server/accounts.go (AddWeightedMappings,
 * selectMappedSubject), ValidateMapping of server/sublist.go and the `mappings {}` parsing of
 * server/opts.go (parseAccountMappings, parseAccountMapDest).
 *
 * Destination tokens: a literal, "$N" (N-th '*' of the source), or a mustache function
 * {{wildcard(n)}} {{partition(n, wc...)}} {{split(wc, delim)}} {{splitFromLeft(wc, pos)}}
 * {{splitFromRight(wc, pos)}} {{sliceFromLeft(wc, size)}} {{sliceFromRight(wc, size)}}
 * {{left(wc, len)}} {{right(wc, len)}} {{random(n)}}; the first letter of each word of a
 * function name may be either case (Go's regexes), spaces are allowed around the name and
 * after commas.  Error texts are Go's ("invalid subject", "invalid mapping destination: ...").
 *
 * On publish (Go processInboundClientMsg -> selectMappedSubject) the broker calls
 * nx_mappings_select() on the account's (for the server-level `mappings {}`: the global
 * account's) list with the published subject before matching subscriptions; if it returns
 * true the message goes to the returned subject instead (an empty result: to no one, Go's
 * "loss injection" when weights add up to less than 100 and the source was listed).
 * Nothing here locks; the list is immutable while being read.
 */
#ifndef NX_TRANSFORM_H
#define NX_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

/* Result codes (0 = success). */
#define NX_TR_OK 0
#define NX_TR_ERR_SUBJECT 1  /* Go ErrBadSubject "invalid subject" */
#define NX_TR_ERR_DEST 2     /* errors.Is(err, ErrInvalidMappingDestination) */
#define NX_TR_ERR_NOMATCH 3  /* Go ErrNoTransforms "no matching transforms available" */
#define NX_TR_ERR_NOMEM 4
#define NX_TR_ERR_MAPPING 5  /* other AddWeightedMappings errors (weights, duplicates) */

/* Destination token function types, Go's enum order. */
typedef enum nx_tr_fn {
    NX_TR_NONE = 0,
    NX_TR_BAD,
    NX_TR_PARTITION,
    NX_TR_WILDCARD,
    NX_TR_SPLIT_FROM_LEFT,
    NX_TR_SPLIT_FROM_RIGHT,
    NX_TR_SLICE_FROM_LEFT,
    NX_TR_SLICE_FROM_RIGHT,
    NX_TR_SPLIT,
    NX_TR_LEFT,
    NX_TR_RIGHT,
    NX_TR_RANDOM,
} nx_tr_fn;

typedef struct nx_transform nx_transform;

/* A growable output buffer, reusable across calls: zero-initialise, free buf when done.
 * After a successful call buf holds len bytes plus a NUL. */
typedef struct nx_tr_out {
    char *buf;
    size_t len, cap;
} nx_tr_out;

/* Go NewSubjectTransformWithStrict.  src and dest are NUL-terminated.  An empty dest gives
 * *out = NULL and success (Go returns nil, nil); an empty src means ">".  strict is Go's
 * import mode (only $N / {{wildcard()}}, every '*' used).  On failure err holds Go's text. */
int nx_transform_new(const char *src, const char *dest, bool strict, nx_transform **out,
                     char *err, size_t errlen);
void nx_transform_free(nx_transform *tr);
const char *nx_transform_src(const nx_transform *tr);
const char *nx_transform_dest(const nx_transform *tr);

/* Go Match: transform a published (literal) subject.  NX_TR_OK with the result in *out,
 * NX_TR_ERR_SUBJECT (not a valid literal subject), NX_TR_ERR_NOMATCH or NX_TR_ERR_NOMEM. */
int nx_transform_match(const nx_transform *tr, const char *subj, size_t len, nx_tr_out *out);
/* Go TransformSubject: transform without matching against the source (tokens the source
 * does not have read as empty where Go would panic).  0 or NX_TR_ERR_NOMEM. */
int nx_transform_apply(const nx_transform *tr, const char *subj, size_t len, nx_tr_out *out);
/* Go reverse(): the transform mapping destinations back (strict), or NULL. */
nx_transform *nx_transform_reverse(const nx_transform *tr);

/* Go indexPlaceHolders for one destination token: function type, wildcard index arguments
 * (up to max_idx stored, *nidx = count), int argument (-1 when none) and string argument
 * (split delimiter, copied NUL-terminated into sarg when sarg_cap > 0).  0 or
 * NX_TR_ERR_DEST with Go's text in err. */
int nx_transform_token_info(const char *tok, size_t len, nx_tr_fn *fn, int64_t *idx,
                            size_t max_idx, size_t *nidx, int32_t *iarg, char *sarg,
                            size_t sarg_cap, char *err, size_t errlen);
/* Go transformTokenize: "foo.*.*" -> "foo.$1.$2" (malloc'd, NULL on ENOMEM). */
char *nx_transform_tokenize(const char *subject);
/* Go transformUntokenize: "foo.$2.$1" -> "foo.*.*" plus the placeholders in order, joined by
 * '\n' in *phs (both malloc'd; *nphs = count).  0 or NX_TR_ERR_NOMEM. */
int nx_transform_untokenize(const char *subject, char **filter, char **phs, size_t *nphs);
/* Go ValidateMapping(src, dest): 0 or an NX_TR_ERR_* code with Go's text in err. */
int nx_transform_validate_mapping(const char *src, const char *dest, char *err, size_t errlen);

/* ---- weighted mappings (Go Account.mappings) ------------------------------------------- */

typedef struct nx_map_dest { /* Go MapDest: input to nx_mappings_add */
    const char *subject;
    uint8_t weight;      /* percent, <= 100 */
    const char *cluster; /* NULL or "" for all clusters */
} nx_map_dest;

typedef struct nx_mapping nx_mapping;

typedef struct nx_mappings { /* in insertion order, as Go's a.mappings */
    nx_mapping **items;
    size_t len;
} nx_mappings;

/* Go AddWeightedMappings: validates (errors "invalid subject", "duplicate entry for \"x\"",
 * "individual weights need to be <= 100", "total weight needs to be <= 100", mapping
 * destination errors), auto-adds the source for the missing weight unless it is listed,
 * replaces an existing mapping with the same source or appends.  0 or NX_TR_ERR_*. */
int nx_mappings_add(nx_mappings *ml, const char *src, const nx_map_dest *dests, size_t n,
                    char *err, size_t errlen);
/* Go AddMapping: one destination at weight 100. */
int nx_mappings_add_simple(nx_mappings *ml, const char *src, const char *dest, char *err,
                           size_t errlen);
/* True when a mapping with exactly this source exists. */
bool nx_mappings_has(const nx_mappings *ml, const char *src);
/* Go RemoveMapping (the last entry moves into the freed slot, as in Go). */
bool nx_mappings_remove(nx_mappings *ml, const char *src);
void nx_mappings_free(nx_mappings *ml);

/* Go selectMappedSubject: false if no mapping's source matches subj (publish it as is).
 * Otherwise true with the new subject in *out (possibly empty: drop the message).  cluster
 * is the local cluster name (NULL or "" if none) for cluster-scoped destinations; w selects
 * among weighted destinations and must be uniform in [0, 100) (Go fastrand.Uint32n(100)).
 * A memory failure leaves out->len 0 and returns true. */
bool nx_mappings_select_w(const nx_mappings *ml, const char *subj, size_t len,
                          const char *cluster, uint32_t w, nx_tr_out *out);
/* As above with an internal random number. */
bool nx_mappings_select(const nx_mappings *ml, const char *subj, size_t len,
                        const char *cluster, nx_tr_out *out);

/* Go parseAccountMappings for the value of a `mappings` (or `maps`) key: adds every entry to
 * *ml.  Returns the number of errors; their texts ("file:line:col: reason", Go's reasons)
 * go to err one per line (truncated to errlen).  A type mismatch stops the walk like Go's
 * recovered panic.  Entries are taken in file order (Go: random map order). */
int nx_mappings_parse_conf(const nx_conf_value *v, nx_mappings *ml, char *err, size_t errlen);

#endif
