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
    const char *queue;   /* NULL when not a queue subscription */
    uint32_t queue_len;
    void *owner;         /* the embedding object (e.g. a client's subscription) */
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

/* Visit every subscription (e.g. for /subsz or to rebuild interest); order unspecified. */
void sl_for_each(const sl_sublist *sl, void (*fn)(sl_sub *sub, void *arg), void *arg);

#endif
