/* SubList: the subject-interest index of a broker process.
 *
 * Ports Go nats-server v2.14.5 server/sublist.go: a token trie with separate children for
 * literal tokens, '*' and '>', plain and queue subscriptions per node, a per-subject result
 * cache (bounded, pruned when full) kept valid across inserts and removes, and stats.
 *
 * Ownership: the sublist never owns subscriptions; callers embed sl_sub in their own struct and
 * keep it alive until sl_remove.  Results are reference counted because delivery may remove a
 * subscription (auto-unsubscribe) while a result is still being walked: hold the result from
 * sl_match until sl_result_release.
 *
 * Hot path: sl_match on a cached literal subject performs no allocation.
 * Not thread-safe: each broker process has its own sublist(s) and one thread.
 */
#ifndef BR_SUBLIST_H
#define BR_SUBLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_sub {
    const char *subject; /* NUL-terminated, owned by the embedding struct */
    uint32_t subject_len;
    const char *queue; /* NULL when not a queue subscription */
    uint32_t queue_len;
    void *owner; /* the embedding object (e.g. a client's subscription) */
    /* Added: for queue subs from routes and leafnodes (Go: subscription.qw of a ROUTER/LEAF
     * client) the number of times the sub is listed in its group of a match result, so remote
     * members get picked in proportion to the queue members behind them.  0 (local subs, the
     * default of a zeroed struct) lists it once.  Change it with sl_update_remote_qsub. */
    uint32_t qweight;
} sl_sub;

typedef struct sl_qgroup {
    sl_sub **subs;
    uint32_t n;
} sl_qgroup;

typedef struct sl_result {
    uint32_t refs;
    sl_sub **psubs; /* plain subscriptions */
    uint32_t npsubs;
    sl_qgroup *qsubs; /* one entry per queue group name; pick one member per message */
    uint32_t nqsubs;
} sl_result;

typedef struct sl_stats {
    uint32_t num_subs;
    uint32_t num_cache;
    uint64_t num_inserts;
    uint64_t num_removes;
    uint64_t num_matches;
    uint64_t cache_hits;
    double cache_hit_rate;
    uint32_t max_fanout;
    double avg_fanout;
    /* Added: the raw sums behind avg_fanout, so sl_stats_add can aggregate (Go: totFanout,
     * cacheCnt). */
    uint64_t tot_fanout;
    uint32_t cache_cnt;
} sl_stats;

typedef struct sl_sublist sl_sublist;

sl_sublist *sl_new(bool cache_enabled);
void sl_free(sl_sublist *sl);

/* 0, or -EINVAL when the subject (or queue) is invalid (Go: ErrInvalidSubject). */
int sl_insert(sl_sublist *sl, sl_sub *sub);
/* 0, or -ENOENT when not present (Go: ErrNotFound). */
int sl_remove(sl_sublist *sl, sl_sub *sub);

/* All subscriptions matching a literal subject.  Never NULL (an empty result is shared).
 * The caller owns one reference and must call sl_result_release. */
sl_result *sl_match(sl_sublist *sl, const char *subject, size_t len);
void sl_result_release(sl_result *r);

/* True if anything would match the literal subject (cheaper than sl_match when uncached). */
bool sl_has_interest(sl_sublist *sl, const char *subject, size_t len);

uint32_t sl_count(const sl_sublist *sl);
uint32_t sl_cache_count(const sl_sublist *sl);
void sl_get_stats(const sl_sublist *sl, sl_stats *out);

/* Visit every subscription (e.g. for /subsz or to rebuild interest); order unspecified.
 * fn must not modify the sublist. */
void sl_for_each(const sl_sublist *sl, void (*fn)(sl_sub *sub, void *arg), void *arg);

/* --- Additions beyond the original contract --------------------------------------------- */

/* Go CacheEnabled. */
bool sl_cache_enabled(const sl_sublist *sl);

/* Go RemoveBatch: removes every sub it can (the cache is bypassed while doing so and starts
 * empty afterwards) and returns the first error (-EINVAL/-ENOENT) or 0. */
int sl_remove_batch(sl_sublist *sl, sl_sub *const *subs, size_t n);

/* Go NumInterest: stores in *np and *nq the plain and queue subscriptions interested in the
 * literal subject and returns whether there is any.  Like Go, an uncached lookup stops at the first
 * matching '>' node, so the counts are exact only when cached or without overlapping subs. */
bool sl_num_interest(sl_sublist *sl, const char *subject, size_t len, uint32_t *np, uint32_t *nq);

/* Go ReverseMatch: the subscriptions whose subjects are matched by `subject` (which may hold
 * wildcards), e.g. sub "foo.bar" for "foo.*".  Uncached; release the result like sl_match's. */
sl_result *sl_reverse_match(sl_sublist *sl, const char *subject, size_t len);

/* Go UpdateRemoteQSub: call after changing sub->qweight of an inserted sub; drops the cached
 * results for its subject so they are rebuilt with the new weight. */
void sl_update_remote_qsub(sl_sublist *sl, const sl_sub *sub);

/* Go genid: bumped by every insert, remove and weight update, so callers can keep their own
 * per-connection caches of match results and drop them when the interest changed. */
uint64_t sl_genid(const sl_sublist *sl);

/* Go numLevels: depth of the trie (0 when empty).  For tests of node pruning. */
int sl_num_levels(const sl_sublist *sl);

/* Go SublistStats.add: aggregates `st` into `acc` (e.g. over accounts for /varz). */
void sl_stats_add(sl_stats *acc, const sl_stats *st);

/* Go RegisterNotification / RegisterQueueNotification: fn(arg, has_interest) is called at once
 * with the current interest in the exact literal subject (and queue group when queue != NULL),
 * then with true when the first such sub is inserted and false when the last one is removed.
 * Wildcard subs never count.  fn runs inside sl_register_notification, sl_insert, sl_remove and
 * sl_remove_batch and must not modify the sublist or its registrations.
 * Returns 0, -EINVAL for a wildcard subject or NULL fn (Go: ErrInvalidSubject, ErrNilChan), or
 * -EEXIST when (subject, queue, fn, arg) is already registered (Go: ErrAlreadyRegistered). */
typedef void (*sl_notify_fn)(void *arg, bool has_interest);
int sl_register_notification(sl_sublist *sl, const char *subject, size_t len, const char *queue,
                             size_t queue_len, sl_notify_fn fn, void *arg);
/* Go ClearNotification / ClearQueueNotification: true if the registration was found. */
bool sl_clear_notification(sl_sublist *sl, const char *subject, size_t len, const char *queue,
                           size_t queue_len, sl_notify_fn fn, void *arg);

#endif
