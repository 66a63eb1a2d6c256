/* Unit tests for broker/sublist.c: ports of the trie, cache, queue, interest, notification and
 * stats tests of Go nats-server v2.14.5 server/sublist_test.go, plus a randomised check that
 * cached results always equal uncached ones.  Go's "X" / "XNoCache" pairs share one body. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/sublist.h"
#include "common/gotest.h"

#define PLIST_MIN 256  /* Go plistMin */
#define CACHE_MAX 1024 /* Go slCacheMax */

/* ---- helpers mirroring Go's newSub / newQSub / verify* -------------------------------------- */

typedef struct tsub {
    sl_sub s;
    char subject[96];
    char queue[32];
} tsub;

static tsub pool[2048];
static size_t npool;
static sl_result *cur; /* the result of the last m(): released by the next m() or done() */

static void pool_reset(void) {
    npool = 0;
    cur = NULL;
}

TestSuite(sublist, .init = pool_reset);

/* Go newQSub: an empty or NULL queue gives a plain sub. */
static sl_sub *new_qsub(const char *subject, const char *queue) {
    cr_assert(npool < sizeof(pool) / sizeof(pool[0]));
    tsub *t = &pool[npool++];
    memset(t, 0, sizeof(*t));
    snprintf(t->subject, sizeof(t->subject), "%s", subject);
    t->s.subject = t->subject;
    t->s.subject_len = (uint32_t)strlen(t->subject);
    if (queue && *queue) {
        snprintf(t->queue, sizeof(t->queue), "%s", queue);
        t->s.queue = t->queue;
        t->s.queue_len = (uint32_t)strlen(t->queue);
    }
    t->s.owner = t;
    return &t->s;
}

static sl_sub *new_sub(const char *subject) {
    return new_qsub(subject, NULL);
}

/* Go newRemoteQSub: a routed queue sub standing for `weight` remote members. */
static sl_sub *new_remote_qsub(const char *subject, const char *queue, uint32_t weight) {
    sl_sub *s = new_qsub(subject, queue);
    s->qweight = weight;
    return s;
}

static sl_result *m(sl_sublist *sl, const char *subject) {
    sl_result_release(cur);
    cur = sl_match(sl, subject, strlen(subject));
    return cur;
}

static void done(sl_sublist *sl) {
    sl_result_release(cur);
    cur = NULL;
    sl_free(sl);
}

static int ins(sl_sublist *sl, sl_sub *s) {
    return sl_insert(sl, s);
}
static int rem(sl_sublist *sl, sl_sub *s) {
    return sl_remove(sl, s);
}

static bool has_member(sl_sub *const *v, uint32_t n, const sl_sub *s) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == s) return true;
    return false;
}

/* Go findQSlot. */
static int qslot(const sl_result *r, const char *queue) {
    for (uint32_t i = 0; i < r->nqsubs; i++) {
        const sl_sub *f = r->qsubs[i].n ? r->qsubs[i].subs[0] : NULL;
        if (f && f->queue_len == strlen(queue) && memcmp(f->queue, queue, f->queue_len) == 0)
            return (int)i;
    }
    return -1;
}

#define verify_count(sl, n)                                                                        \
    cr_assert_eq(sl_count(sl), (uint32_t)(n), "count %u, want %u", sl_count(sl), (uint32_t)(n))
#define verify_len(r, n)                                                                           \
    cr_assert_eq((r)->npsubs, (uint32_t)(n), "psubs %u, want %u", (r)->npsubs, (uint32_t)(n))
#define verify_qlen(r, n)                                                                          \
    cr_assert_eq((r)->nqsubs, (uint32_t)(n), "queue groups %u, want %u", (r)->nqsubs, (uint32_t)(n))
#define verify_member(r, s)                                                                        \
    cr_assert(has_member((r)->psubs, (r)->npsubs, (s)), "sub %s not in result", (s)->subject)

static void verify_qmember(const sl_result *r, const sl_sub *s) {
    int i = qslot(r, s->queue);
    cr_assert(i >= 0, "no group %s", s->queue);
    cr_assert(has_member(r->qsubs[i].subs, r->qsubs[i].n, s), "qsub %s/%s not in result",
              s->subject, s->queue);
}

static uint32_t qgroup_len(const sl_result *r, const char *queue) {
    int i = qslot(r, queue);
    cr_assert(i >= 0, "no group %s", queue);
    return r->qsubs[i].n;
}

/* ---- basic insert / match / remove ----------------------------------------------------------- */

Test(sublist, init) {
    GO_TEST("server/sublist_test.go", "TestSublistInit");
    sl_sublist *sl = sl_new(true);
    verify_count(sl, 0);
    cr_assert(sl_cache_enabled(sl));
    done(sl);
}

static void insert_count(bool cache) {
    sl_sublist *sl = sl_new(cache);
    ins(sl, new_sub("foo"));
    ins(sl, new_sub("bar"));
    ins(sl, new_sub("foo.bar"));
    verify_count(sl, 3);
    done(sl);
}
Test(sublist, insert_count) {
    GO_TEST("server/sublist_test.go", "TestSublistInsertCount");
    insert_count(true);
}
Test(sublist, insert_count_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistInsertCountNoCache");
    insert_count(false);
}

static void simple(bool cache, const char *subject) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *sub = new_sub(subject);
    cr_assert_eq(ins(sl, sub), 0);
    sl_result *r = m(sl, subject);
    verify_len(r, 1);
    verify_member(r, sub);
    done(sl);
}
Test(sublist, simple) {
    GO_TEST("server/sublist_test.go", "TestSublistSimple");
    simple(true, "foo");
}
Test(sublist, simple_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistSimpleNoCache");
    simple(false, "foo");
}
Test(sublist, simple_multi_tokens) {
    GO_TEST("server/sublist_test.go", "TestSublistSimpleMultiTokens");
    simple(true, "foo.bar.baz");
}
Test(sublist, simple_multi_tokens_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistSimpleMultiTokensNoCache");
    simple(false, "foo.bar.baz");
}

/* Go testSublistPartialWildcard(AtEnd) and the first half of testSublistFullWildcard. */
static void two_subs_match(bool cache, const char *wc) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *lsub = new_sub("a.b.c"), *wsub = new_sub(wc);
    ins(sl, lsub);
    ins(sl, wsub);
    sl_result *r = m(sl, "a.b.c");
    verify_len(r, 2);
    verify_member(r, lsub);
    verify_member(r, wsub);
    if (strcmp(wc, "a.>") == 0) {
        r = m(sl, "a.>");
        verify_len(r, 1);
        verify_member(r, wsub);
    }
    done(sl);
}
Test(sublist, partial_wildcard) {
    GO_TEST("server/sublist_test.go", "TestSublistPartialWildcard");
    two_subs_match(true, "a.*.c");
}
Test(sublist, partial_wildcard_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistPartialWildcardNoCache");
    two_subs_match(false, "a.*.c");
}
Test(sublist, partial_wildcard_at_end) {
    GO_TEST("server/sublist_test.go", "TestSublistPartialWildcardAtEnd");
    two_subs_match(true, "a.b.*");
}
Test(sublist, partial_wildcard_at_end_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistPartialWildcardAtEndNoCache");
    two_subs_match(false, "a.b.*");
}
Test(sublist, full_wildcard) {
    GO_TEST("server/sublist_test.go", "TestSublistFullWildcard");
    two_subs_match(true, "a.>");
}
Test(sublist, full_wildcard_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistFullWildcardNoCache");
    two_subs_match(false, "a.>");
}

static void remove_basic(bool cache) {
    sl_sublist *sl = sl_new(cache);
    const char *subject = "a.b.c.d";
    sl_sub *sub = new_sub(subject);
    ins(sl, sub);
    verify_count(sl, 1);
    verify_len(m(sl, subject), 1);
    cr_assert_eq(rem(sl, new_sub("a.b.c")), -ENOENT);
    verify_count(sl, 1);
    cr_assert_eq(rem(sl, sub), 0);
    verify_count(sl, 0);
    verify_len(m(sl, subject), 0);
    done(sl);
}
Test(sublist, remove) {
    GO_TEST("server/sublist_test.go", "TestSublistRemove");
    remove_basic(true);
}
Test(sublist, remove_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveNoCache");
    remove_basic(false);
}

static void remove_wildcard(bool cache) {
    sl_sublist *sl = sl_new(cache);
    const char *subject = "a.b.c.d";
    sl_sub *sub = new_sub(subject), *psub = new_sub("a.b.*.d"), *fsub = new_sub("a.b.>");
    ins(sl, sub);
    ins(sl, psub);
    ins(sl, fsub);
    verify_count(sl, 3);
    verify_len(m(sl, subject), 3);
    rem(sl, sub);
    verify_count(sl, 2);
    rem(sl, fsub);
    verify_count(sl, 1);
    rem(sl, psub);
    verify_count(sl, 0);
    verify_len(m(sl, subject), 0);
    done(sl);
}
Test(sublist, remove_wildcard) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWildcard");
    remove_wildcard(true);
}
Test(sublist, remove_wildcard_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWildcardNoCache");
    remove_wildcard(false);
}

static void remove_cleanup(bool cache, const char *subject, int depth) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *sub = new_sub(subject);
    cr_assert_eq(sl_num_levels(sl), 0);
    ins(sl, sub);
    cr_assert_eq(sl_num_levels(sl), depth);
    rem(sl, sub);
    cr_assert_eq(sl_num_levels(sl), 0);
    done(sl);
}
Test(sublist, remove_cleanup) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveCleanup");
    remove_cleanup(true, "a.b.c.d.e.f", 6);
}
Test(sublist, remove_cleanup_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveCleanupNoCache");
    remove_cleanup(false, "a.b.c.d.e.f", 6);
}
Test(sublist, remove_cleanup_wildcards) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveCleanupWildcards");
    remove_cleanup(true, "a.b.*.d.e.>", 6);
}
Test(sublist, remove_cleanup_wildcards_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveCleanupWildcardsNoCache");
    remove_cleanup(false, "a.b.*.d.e.>", 6);
}

static void remove_with_large_subs(bool cache) {
    sl_sublist *sl = sl_new(cache);
    for (int i = 0; i < PLIST_MIN * 2; i++)
        ins(sl, new_sub("foo"));
    sl_result *r = m(sl, "foo");
    cur = NULL; /* keep r alive while removing from it, as delivery would */
    verify_len(r, PLIST_MIN * 2);
    cr_assert_eq(rem(sl, r->psubs[PLIST_MIN]), 0);     /* one in the middle */
    cr_assert_eq(rem(sl, r->psubs[0]), 0);             /* first */
    cr_assert_eq(rem(sl, r->psubs[r->npsubs - 1]), 0); /* last */
    verify_len(r, PLIST_MIN * 2);                      /* a held result never changes */
    sl_result_release(r);
    verify_len(m(sl, "foo"), PLIST_MIN * 2 - 3);
    done(sl);
}
Test(sublist, remove_with_large_subs) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWithLargeSubs");
    remove_with_large_subs(true);
}
Test(sublist, remove_with_large_subs_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWithLargeSubsNoCache");
    remove_with_large_subs(false);
}

static void invalid_subjects_insert(bool cache) {
    /* Subscriptions may hold wildcards, but no empty tokens and no '>' before the end. */
    sl_sublist *sl = sl_new(cache);
    static const char *bad[] = {".foo", "foo.", "foo..bar", "foo.bar..baz", "foo.>.bar", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ins(sl, new_sub(bad[i])), -EINVAL, "%s", bad[i]);
    cr_assert_eq(ins(sl, new_qsub("foo", NULL)), 0);
    sl_sub *q = new_sub("foo");
    q->queue = "";
    cr_assert_eq(ins(sl, q), -EINVAL, "empty queue name");
    verify_count(sl, 1);
    cr_assert_eq(sl_num_levels(sl), 1, "a rejected subject leaves no nodes behind");
    done(sl);
}
Test(sublist, invalid_subjects_insert) {
    GO_TEST("server/sublist_test.go", "TestSublistInvalidSubjectsInsert");
    invalid_subjects_insert(true);
}
Test(sublist, invalid_subjects_insert_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistInvalidSubjectsInsertNoCache");
    invalid_subjects_insert(false);
}

Test(sublist, no_cache_remove_batch) {
    GO_TEST("server/sublist_test.go", "TestSublistNoCacheRemoveBatch");
    sl_sublist *sl = sl_new(false);
    ins(sl, new_sub("foo"));
    sl_sub *sub = new_sub("bar");
    ins(sl, sub);
    cr_assert_eq(sl_remove_batch(sl, &sub, 1), 0);
    for (int i = 0; i < 10; i++)
        m(sl, "foo");
    cr_assert_not(sl_cache_enabled(sl), "cache should not be enabled");
    cr_assert_eq(sl_cache_count(sl), 0);
    done(sl);
}

Test(sublist, remove_batch_with_error) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveBatchWithError");
    sl_sublist *sl = sl_new(false);
    sl_sub *sub1 = new_sub("foo"), *sub2 = new_sub("bar"), *sub3 = new_sub("baz");
    ins(sl, sub1);
    ins(sl, sub2);
    ins(sl, sub3);
    sl_sub *batch[] = {new_sub("not.inserted"), sub1, sub3};
    /* The error is reported, but every sub that could be removed was. */
    cr_assert_eq(sl_remove_batch(sl, batch, 3), -ENOENT);
    verify_count(sl, 1);
    sl_result *r = m(sl, "bar");
    verify_len(r, 1);
    verify_member(r, sub2);
    verify_len(m(sl, "foo"), 0);
    verify_len(m(sl, "baz"), 0);
    done(sl);
}

Test(sublist, remove_batch_keeps_cache_enabled) {
    sl_sublist *sl = sl_new(true);
    sl_sub *a = new_sub("foo"), *b = new_sub("foo");
    ins(sl, a);
    ins(sl, b);
    verify_len(m(sl, "foo"), 2);
    cr_assert_eq(sl_cache_count(sl), 1);
    cr_assert_eq(sl_remove_batch(sl, &a, 1), 0);
    cr_assert(sl_cache_enabled(sl));
    cr_assert_eq(sl_cache_count(sl), 0, "batch removal starts the cache empty");
    verify_len(m(sl, "foo"), 1);
    cr_assert_eq(sl_cache_count(sl), 1);
    done(sl);
}

/* ---- cache ------------------------------------------------------------------------------------
 */

Test(sublist, cache) {
    GO_TEST("server/sublist_test.go", "TestSublistCache");
    sl_sublist *sl = sl_new(true);
    const char *subject = "a.b.c.d";
    sl_sub *sub = new_sub(subject), *psub = new_sub("a.b.*.d"), *fsub = new_sub("a.b.>");
    ins(sl, sub);
    verify_len(m(sl, subject), 1);
    ins(sl, psub);
    ins(sl, fsub);
    verify_count(sl, 3);
    verify_len(m(sl, subject), 3);
    rem(sl, sub);
    verify_count(sl, 2);
    rem(sl, fsub);
    verify_count(sl, 1);
    rem(sl, psub);
    verify_count(sl, 0);
    cr_assert_eq(sl_cache_count(sl), 0, "cache should be empty");
    verify_len(m(sl, subject), 0);

    char buf[32];
    for (int i = 0; i < 2 * CACHE_MAX; i++) {
        snprintf(buf, sizeof(buf), "foo-%d\n", i);
        m(sl, buf);
        cr_assert_leq(sl_cache_count(sl), CACHE_MAX, "cache bounded by cacheMax");
    }
    done(sl);

    /* Inserting a wildcard sub updates the cached results it matches. */
    sl = sl_new(true);
    ins(sl, new_sub("foo.*"));
    ins(sl, new_sub("foo.bar"));
    verify_len(m(sl, "foo.baz"), 1);
    verify_len(m(sl, "foo.bar"), 2);
    ins(sl, new_sub("foo.>"));
    verify_len(m(sl, "foo.bar"), 3);
    done(sl);
}

Test(sublist, cached_match_is_shared_and_stable) {
    /* A cache hit hands out the cached result itself (no allocation on the hot path); an
     * insert replaces it for later matches but never changes a result a caller holds. */
    sl_sublist *sl = sl_new(true);
    sl_sub *a = new_sub("foo.bar");
    ins(sl, a);
    sl_result *r1 = sl_match(sl, "foo.bar", 7);
    sl_result *r2 = sl_match(sl, "foo.bar", 7);
    cr_assert_eq(r1, r2);
    cr_assert_eq(r1->refs, 3); /* cache + two callers */
    sl_stats st;
    sl_get_stats(sl, &st);
    cr_assert_eq(st.cache_hits, 1);
    cr_assert_eq(st.num_matches, 2);
    sl_sub *b = new_sub("foo.*");
    uint64_t gen = sl_genid(sl);
    ins(sl, b);
    cr_assert_gt(sl_genid(sl), gen);
    sl_result *r3 = sl_match(sl, "foo.bar", 7);
    cr_assert_neq(r3, r1);
    verify_len(r1, 1);
    verify_len(r3, 2);
    verify_member(r3, b);
    rem(sl, a);
    verify_len(r3, 2);
    cr_assert_eq(r3->psubs[0]->subject_len, 7);
    sl_result_release(r1);
    sl_result_release(r2);
    sl_free(sl); /* results outlive the sublist */
    verify_len(r3, 2);
    sl_result_release(r3);
}

/* ---- queues -----------------------------------------------------------------------------------
 */

static void basic_queue_results(bool cache) {
    sl_sublist *sl = sl_new(cache);
    const char *subject = "foo";
    sl_sub *sub = new_sub(subject), *sub1 = new_qsub(subject, "bar"),
           *sub2 = new_qsub(subject, "baz");

    ins(sl, sub1);
    sl_result *r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 1);
    cr_assert_eq(r->qsubs[0].n, 1);
    verify_qmember(r, sub1);

    ins(sl, sub2);
    r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 2);
    cr_assert_eq(r->qsubs[0].n, 1);
    cr_assert_eq(r->qsubs[1].n, 1);
    verify_qmember(r, sub1);
    verify_qmember(r, sub2);

    ins(sl, sub);
    r = m(sl, subject);
    verify_len(r, 1);
    verify_qlen(r, 2);
    cr_assert_eq(r->qsubs[0].n, 1);
    cr_assert_eq(r->qsubs[1].n, 1);
    verify_qmember(r, sub1);
    verify_qmember(r, sub2);
    verify_member(r, sub);

    sl_sub *sub3 = new_qsub(subject, "bar"), *sub4 = new_qsub(subject, "baz");
    ins(sl, sub3);
    ins(sl, sub4);
    r = m(sl, subject);
    verify_len(r, 1);
    verify_qlen(r, 2);
    cr_assert_eq(r->qsubs[0].n, 2);
    cr_assert_eq(r->qsubs[1].n, 2);
    verify_qmember(r, sub1);
    verify_qmember(r, sub2);
    verify_qmember(r, sub3);
    verify_qmember(r, sub4);
    verify_member(r, sub);

    rem(sl, sub);
    r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 2);
    cr_assert_eq(r->qsubs[0].n, 2);
    cr_assert_eq(r->qsubs[1].n, 2);
    verify_qmember(r, sub1);
    verify_qmember(r, sub2);

    rem(sl, sub1);
    r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 2);
    cr_assert_eq(qgroup_len(r, "bar"), 1);
    cr_assert_eq(qgroup_len(r, "baz"), 2);
    verify_qmember(r, sub2);
    verify_qmember(r, sub3);
    verify_qmember(r, sub4);

    rem(sl, sub3); /* last of "bar" */
    r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 1);
    cr_assert_eq(r->qsubs[0].n, 2);
    verify_qmember(r, sub2);

    rem(sl, sub2);
    rem(sl, sub4);
    r = m(sl, subject);
    verify_len(r, 0);
    verify_qlen(r, 0);
    done(sl);
}
Test(sublist, basic_queue_results) {
    GO_TEST("server/sublist_test.go", "TestSublistBasicQueueResults");
    basic_queue_results(true);
}
Test(sublist, basic_queue_results_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistBasicQueueResultsNoCache");
    basic_queue_results(false);
}

static void remote_queue_subscriptions(bool cache) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *s1 = new_qsub("foo", "bar"), *s2 = new_qsub("foo", "bar");
    ins(sl, s1);
    ins(sl, s2);
    /* Weighted remotes are shadowed in results: 2 local + 10 + 10 entries from 4 subs. */
    sl_sub *rs1 = new_remote_qsub("foo", "bar", 10), *rs2 = new_remote_qsub("foo", "bar", 10);
    ins(sl, rs1);
    ins(sl, rs2);
    verify_count(sl, 4);
    sl_result *r = m(sl, "foo");
    verify_len(r, 0);
    verify_qlen(r, 1);
    cr_assert_eq(r->qsubs[0].n, 22);

    rem(sl, s1);
    rem(sl, rs1);
    verify_count(sl, 2);
    r = m(sl, "foo");
    verify_len(r, 0);
    verify_qlen(r, 1);
    cr_assert_eq(r->qsubs[0].n, 11);

    /* A weight update must show in later results. */
    rs2->qweight = 1;
    sl_update_remote_qsub(sl, rs2);
    r = m(sl, "foo");
    verify_len(r, 0);
    verify_qlen(r, 1);
    cr_assert_eq(r->qsubs[0].n, 2);
    done(sl);
}
Test(sublist, remote_queue_subscriptions) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoteQueueSubscriptions");
    remote_queue_subscriptions(true);
}
Test(sublist, remote_queue_subscriptions_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoteQueueSubscriptionsNoCache");
    remote_queue_subscriptions(false);
}

/* ---- bad subjects, wildcard-looking literals --------------------------------------------------
 */

static void bad_subject_on_remove(bool cache) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *sub = new_sub("a.b..d");
    cr_assert_eq(ins(sl, sub), -EINVAL);
    cr_assert_eq(rem(sl, sub), -EINVAL);
    cr_assert_eq(rem(sl, new_sub("a.>.b")), -EINVAL);
    done(sl);
}
Test(sublist, bad_subject_on_remove) {
    GO_TEST("server/sublist_test.go", "TestSublistBadSubjectOnRemove");
    bad_subject_on_remove(true);
}
Test(sublist, bad_subject_on_remove_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistBadSubjectOnRemoveNoCache");
    bad_subject_on_remove(false);
}

static void two_token_pub_match_single_token_sub(bool cache) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *sub = new_sub("foo");
    ins(sl, sub);
    sl_result *r = m(sl, "foo");
    verify_len(r, 1);
    verify_member(r, sub);
    verify_len(m(sl, "foo.bar"), 0);
    done(sl);
}
Test(sublist, two_token_pub_match_single_token_sub) {
    GO_TEST("server/sublist_test.go", "TestSublistTwoTokenPubMatchSingleTokenSub");
    two_token_pub_match_single_token_sub(true);
}
Test(sublist, two_token_pub_match_single_token_sub_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistTwoTokenPubMatchSingleTokenSubNoCache");
    two_token_pub_match_single_token_sub(false);
}

static void insert_with_wildcards_as_literals(bool cache) {
    sl_sublist *sl = sl_new(cache);
    static const char *subjects[] = {"foo.*-", "foo.>-"};
    for (int i = 0; i < 2; i++) {
        ins(sl, new_sub(subjects[i]));
        verify_len(m(sl, "foo.bar"), 0);
        verify_len(m(sl, subjects[i]), 1);
    }
    done(sl);
}
Test(sublist, insert_with_wildcards_as_literals) {
    GO_TEST("server/sublist_test.go", "TestSublistInsertWithWildcardsAsLiterals");
    insert_with_wildcards_as_literals(true);
}
Test(sublist, insert_with_wildcards_as_literals_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistInsertWithWildcardsAsLiteralsNoCache");
    insert_with_wildcards_as_literals(false);
}

static void remove_with_wildcards_as_literals(bool cache) {
    sl_sublist *sl = sl_new(cache);
    static const char *subjects[] = {"foo.*-", "foo.>-"};
    for (int i = 0; i < 2; i++) {
        sl_sub *sub = new_sub(subjects[i]);
        ins(sl, sub);
        cr_assert_eq(rem(sl, new_sub("foo.bar")), -ENOENT);
        verify_count(sl, 1);
        cr_assert_eq(rem(sl, sub), 0);
        verify_count(sl, 0);
    }
    done(sl);
}
Test(sublist, remove_with_wildcards_as_literals) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWithWildcardsAsLiterals");
    remove_with_wildcards_as_literals(true);
}
Test(sublist, remove_with_wildcards_as_literals_no_cache) {
    GO_TEST("server/sublist_test.go", "TestSublistRemoveWithWildcardsAsLiteralsNoCache");
    remove_with_wildcards_as_literals(false);
}

Test(sublist, match_with_empty_tokens) {
    GO_TEST("server/sublist_test.go", "TestSublistMatchWithEmptyTokens");
    for (int c = 0; c < 2; c++) {
        sl_sublist *sl = sl_new(c == 0);
        ins(sl, new_sub(">"));
        ins(sl, new_qsub(">", "queue"));
        static const char *subjs[] = {".foo",     "..foo",     "foo..", "foo.",
                                      "foo..bar", "foo...bar", "",      "."};
        for (size_t i = 0; i < sizeof(subjs) / sizeof(subjs[0]); i++) {
            sl_result *r = m(sl, subjs[i]);
            verify_len(r, 0);
            verify_qlen(r, 0);
            cr_assert_not(sl_has_interest(sl, subjs[i], strlen(subjs[i])));
        }
        cr_assert_eq(sl_cache_count(sl), 0, "invalid subjects are not cached");
        done(sl);
    }
}

/* ---- held results while subs come and go (Go's race tests, single-threaded here) ------------- */

static void race_on_remove(bool cache) {
    sl_sublist *sl = sl_new(cache);
    sl_sub *subs[100];
    for (int kind = 0; kind < 2; kind++) {
        for (int i = 0; i < 100; i++)
            subs[i] = kind == 0 ? new_qsub("foo", "bar") : new_sub("foo");
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < 100; i++)
                ins(sl, subs[i]);
            if (pass == 1) m(sl, "foo");
            sl_result *r = sl_match(sl, "foo", 3); /* from the cache on the second pass */
            for (int i = 0; i < 100; i++)          /* delivery removing subs while walking r */
                rem(sl, subs[i]);
            if (kind == 0) {
                verify_qlen(r, 1);
                cr_assert_eq(r->qsubs[0].n, 100);
                for (uint32_t i = 0; i < r->qsubs[0].n; i++)
                    cr_assert_str_eq(r->qsubs[0].subs[i]->queue, "bar");
            } else {
                verify_len(r, 100);
                for (uint32_t i = 0; i < r->npsubs; i++)
                    cr_assert_str_eq(r->psubs[i]->subject, "foo");
            }
            sl_result_release(r);
            verify_count(sl, 0);
        }
    }
    done(sl);
}
Test(sublist, race_on_remove) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRaceOnRemove",
                    "no concurrent goroutine: the sublist is single-threaded by design, so the "
                    "removes run between match and walk of the held result");
    race_on_remove(true);
}
Test(sublist, race_on_remove_no_cache) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRaceOnRemoveNoCache",
                    "no concurrent goroutine: the sublist is single-threaded by design, so the "
                    "removes run between match and walk of the held result");
    race_on_remove(false);
}

static void race_on_insert(bool cache) {
    sl_sublist *sl = sl_new(cache);
    for (int kind = 0; kind < 2; kind++) {
        for (int i = 0; i < 100; i++) {
            ins(sl, kind == 0 ? new_qsub("foo", "bar") : new_sub("foo"));
            for (int k = 0; k < 10; k++) {
                sl_result *r = m(sl, "foo");
                for (uint32_t g = 0; g < r->nqsubs; g++)
                    for (uint32_t j = 0; j < r->qsubs[g].n; j++)
                        cr_assert_str_eq(r->qsubs[g].subs[j]->queue, "bar");
                for (uint32_t j = 0; j < r->npsubs; j++)
                    cr_assert_str_eq(r->psubs[j]->subject, "foo");
                cr_assert_eq(r->npsubs, kind == 0 ? 0u : (uint32_t)i + 1);
            }
        }
    }
    done(sl);
}
Test(sublist, race_on_insert) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRaceOnInsert",
                    "no concurrent goroutine: matches are interleaved with the inserts instead");
    race_on_insert(true);
}
Test(sublist, race_on_insert_no_cache) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRaceOnInsertNoCache",
                    "no concurrent goroutine: matches are interleaved with the inserts instead");
    race_on_insert(false);
}

Test(sublist, race_on_match) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRaceOnMatch",
                    "no concurrent matchers: the sublist is single-threaded by design");
    sl_sublist *sl = sl_new(false);
    ins(sl, new_qsub("foo.*", "workers"));
    ins(sl, new_qsub("foo.bar", "workers"));
    ins(sl, new_sub("foo.*"));
    ins(sl, new_sub("foo.bar"));
    for (int i = 0; i < 20; i++) {
        sl_result *r = m(sl, "foo.bar");
        verify_len(r, 2);
        for (uint32_t j = 0; j < r->npsubs; j++)
            cr_assert(strncmp(r->psubs[j]->subject, "foo.", 4) == 0);
        verify_qlen(r, 1);
        cr_assert_eq(r->qsubs[0].n, 2);
        for (uint32_t j = 0; j < r->qsubs[0].n; j++)
            cr_assert_str_eq(r->qsubs[0].subs[j]->queue, "workers");
    }
    done(sl);
}

/* ---- results, stats, enumeration --------------------------------------------------------------
 */

Test(sublist, shared_empty_result) {
    GO_TEST("server/sublist_test.go", "TestSublistSharedEmptyResult");
    sl_sublist *sl = sl_new(true);
    sl_result *r1 = sl_match(sl, "foo", 3);
    verify_len(r1, 0);
    verify_qlen(r1, 0);
    sl_result *r2 = sl_match(sl, "bar", 3);
    verify_len(r2, 0);
    verify_qlen(r2, 0);
    cr_assert_eq(r1, r2, "empty result should be shared");
    sl_result_release(r1);
    sl_result_release(r2);
    done(sl);
}

Test(sublist, no_cache_stats) {
    GO_TEST("server/sublist_test.go", "TestSublistNoCacheStats");
    sl_sublist *sl = sl_new(false);
    ins(sl, new_sub("foo"));
    ins(sl, new_sub("bar"));
    ins(sl, new_sub("baz"));
    ins(sl, new_sub("foo.bar.baz"));
    m(sl, "a.b.c");
    m(sl, "bar");
    sl_stats st;
    sl_get_stats(sl, &st);
    cr_assert_eq(st.num_cache, 0);
    cr_assert_eq(st.num_subs, 4);
    cr_assert_eq(st.num_inserts, 4);
    cr_assert_eq(st.num_matches, 2);
    done(sl);
}

Test(sublist, stats_fanout) {
    sl_sublist *sl = sl_new(true);
    ins(sl, new_sub("foo"));
    ins(sl, new_sub("foo"));
    ins(sl, new_qsub("foo", "q1"));
    ins(sl, new_qsub("foo", "q1"));
    ins(sl, new_qsub("foo", "q2"));
    ins(sl, new_sub("bar"));
    sl_sub *gone = new_sub("gone");
    ins(sl, gone);
    rem(sl, gone);
    m(sl, "foo"); /* fan-out 4: 2 plain + 2 groups */
    m(sl, "bar"); /* fan-out 1 */
    m(sl, "none");
    m(sl, "foo");
    sl_stats st;
    sl_get_stats(sl, &st);
    cr_assert_eq(st.num_subs, 6);
    cr_assert_eq(st.num_inserts, 7);
    cr_assert_eq(st.num_removes, 1);
    cr_assert_eq(st.num_cache, 3);
    cr_assert_eq(st.num_matches, 4);
    cr_assert_eq(st.cache_hits, 1);
    cr_assert_float_eq(st.cache_hit_rate, 0.25, 1e-12);
    cr_assert_eq(st.max_fanout, 4);
    cr_assert_float_eq(st.avg_fanout, 5.0 / 3.0, 1e-12);
    done(sl);
}

Test(sublist, add_cache_hit_rate) {
    GO_TEST("server/sublist_test.go", "TestSublistAddCacheHitRate");
    sl_sublist *sl1 = sl_new(true);
    ins(sl1, new_sub("foo"));
    for (int i = 0; i < 4; i++)
        m(sl1, "foo");
    sl_stats st1, st2, tot = {0};
    sl_get_stats(sl1, &st1);
    cr_assert(st1.cache_hit_rate == 0.75);

    sl_sublist *sl2 = sl_new(true);
    ins(sl2, new_sub("bar"));
    for (int i = 0; i < 4; i++)
        m(sl2, "bar");
    sl_get_stats(sl2, &st2);
    cr_assert(st2.cache_hit_rate == 0.75);

    sl_stats_add(&tot, &st1);
    sl_stats_add(&tot, &st2);
    cr_assert(tot.cache_hit_rate == 0.75);
    cr_assert_eq(tot.num_matches, 8);
    cr_assert_eq(tot.num_cache, 2);
    cr_assert(tot.avg_fanout == 1.0);
    done(sl1);
    sl_free(sl2);
}

static void count_cb(sl_sub *s, void *arg) {
    (void)s;
    (*(int *)arg)++;
}

Test(sublist, all) {
    GO_TEST("server/sublist_test.go", "TestSublistAll");
    sl_sublist *sl = sl_new(false);
    sl_sub *subs[] = {new_sub("foo.bar.baz"), new_sub("foo"), new_sub("baz")};
    for (int i = 0; i < 3; i++)
        ins(sl, subs[i]);
    int n = 0;
    sl_for_each(sl, count_cb, &n);
    cr_assert_eq(n, 3);
    done(sl);
}

static void mark_cb(sl_sub *s, void *arg) {
    (void)arg;
    tsub *t = s->owner;
    cr_assert(t->queue[31] == 0);
    t->queue[31] = 1; /* visited exactly once */
}

Test(sublist, for_each_visits_every_sub_once) {
    sl_sublist *sl = sl_new(true);
    static const char *subjs[] = {"a", "a.b", "a.*", "a.>", "*", ">", "*.b.>", "a.b.c.d"};
    for (int i = 0; i < 8; i++) {
        ins(sl, new_sub(subjs[i]));
        ins(sl, new_qsub(subjs[i], "q"));
        ins(sl, new_qsub(subjs[i], "r"));
    }
    sl_for_each(sl, mark_cb, NULL);
    for (size_t i = 0; i < npool; i++)
        cr_assert_eq(pool[i].queue[31], 1);
    done(sl);
}

/* ---- interest ---------------------------------------------------------------------------------
 */

static bool hi(sl_sublist *sl, const char *s) {
    return sl_has_interest(sl, s, strlen(s));
}

static uint64_t hits(const sl_sublist *sl) {
    sl_stats st;
    sl_get_stats(sl, &st);
    return st.cache_hits;
}

/* The wildcard part of Go's TestSublistHasInterest: each subject's expected interest. */
static void interest_is(sl_sublist *sl, const char *what, const bool want[4]) {
    static const char *subjs[] = {"foo", "foo.bar", "foo.baz", "foo.bar.baz"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(hi(sl, subjs[i]), want[i], "%s with %s", subjs[i], what);
}

Test(sublist, has_interest) {
    GO_TEST("server/sublist_test.go", "TestSublistHasInterest");
    sl_sublist *sl = sl_new(true);
    sl_sub *foo = new_sub("foo");
    ins(sl, foo);
    cr_assert(hi(sl, "foo"));
    cr_assert_not(hi(sl, "bar"));
    cr_assert_eq(hits(sl), 0);
    m(sl, "foo"); /* populates the cache */
    cr_assert_eq(hits(sl), 0);
    for (uint64_t i = 1; i <= 5; i++) {
        cr_assert(hi(sl, "foo"));
        cr_assert_eq(hits(sl), i);
    }
    uint64_t h = hits(sl);
    m(sl, "bar");
    cr_assert_not(hi(sl, "bar"));
    cr_assert_eq(hits(sl), h + 1, "negative results are cached too");
    rem(sl, foo);
    cr_assert_not(hi(sl, "foo"));

    /*                       foo    foo.bar foo.baz foo.bar.baz */
    const bool pwc[4] = {false, true, true, false};
    const bool fwc[4] = {false, true, true, true};
    const bool bar[4] = {false, true, false, false};
    const bool one[4] = {true, false, false, false};
    const bool none[4] = {false, false, false, false};
    struct {
        const char *subj, *queue;
        const bool *want;
    } cases[] = {
        {"foo.*", NULL, pwc}, {"foo.>", NULL, fwc},  {"*.>", NULL, fwc},    {"*.bar", NULL, bar},
        {"*", NULL, one},     {"foo", "bar", one},   {"foo.*", "bar", pwc}, {"foo.>", "bar", fwc},
        {"*.>", "bar", fwc},  {"*.bar", "bar", bar}, {"*", "bar", one},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *subj = cases[i].subj;
        sl_sub *s = new_qsub(subj, cases[i].queue);
        ins(sl, s);
        interest_is(sl, subj, cases[i].want);
        if (cases[i].queue) {
            /* A second queue group on the same subject, then remove them one by one. */
            sl_sub *s2 = new_qsub(subj, "baz");
            ins(sl, s2);
            interest_is(sl, subj, cases[i].want);
            rem(sl, s);
            interest_is(sl, subj, cases[i].want);
            rem(sl, s2);
        } else {
            rem(sl, s);
        }
        interest_is(sl, "nothing", none);
    }
    done(sl);
}

Test(sublist, has_interest_overlapping) {
    GO_TEST("server/sublist_test.go", "TestSublistHasInterestOverlapping");
    sl_sublist *sl = sl_new(true);
    cr_assert_eq(ins(sl, new_sub("stream.A.child")), 0);
    cr_assert_eq(ins(sl, new_sub("stream.*")), 0);
    cr_assert(hi(sl, "stream.A.child"));
    cr_assert(hi(sl, "stream.A"));
    done(sl);
}

static void num_interest_is(sl_sublist *sl, const char *subj, uint32_t wnp, uint32_t wnq) {
    uint32_t np = 99, nq = 99;
    bool any = sl_num_interest(sl, subj, strlen(subj), &np, &nq);
    cr_assert_eq(np, wnp, "%s: np %u, want %u", subj, np, wnp);
    cr_assert_eq(nq, wnq, "%s: nq %u, want %u", subj, nq, wnq);
    cr_assert_eq(any, wnp + wnq > 0, "%s", subj);
}

/* One queue block of Go's TestSublistNumInterest: groups "bar", "baz", "baz" are added, then
 * removed in that order; `hit` subjects see 1, 2, 3, 2, 1, 0 queue subs, `miss` ones none. */
static void num_interest_queues(sl_sublist *sl, const char *subj, const char *const *hit,
                                const char *const *miss) {
    sl_sub *q[] = {new_qsub(subj, "bar"), new_qsub(subj, "baz"), new_qsub(subj, "baz")};
    static const uint32_t want[] = {1, 2, 3, 2, 1, 0};
    for (int step = 0; step < 6; step++) {
        if (step < 3)
            ins(sl, q[step]);
        else
            rem(sl, q[step - 3]);
        for (int h = 0; hit[h]; h++)
            num_interest_is(sl, hit[h], 0, want[step]);
        for (int k = 0; miss[k]; k++)
            num_interest_is(sl, miss[k], 0, 0);
    }
}

Test(sublist, num_interest) {
    GO_TEST("server/sublist_test.go", "TestSublistNumInterest");
    sl_sublist *sl = sl_new(true);
    sl_sub *foo = new_sub("foo");
    ins(sl, foo);
    num_interest_is(sl, "foo", 1, 0);
    num_interest_is(sl, "bar", 0, 0);
    cr_assert_eq(hits(sl), 0);
    m(sl, "foo");
    cr_assert_eq(hits(sl), 0);
    for (uint64_t i = 1; i <= 5; i++) {
        num_interest_is(sl, "foo", 1, 0);
        cr_assert_eq(hits(sl), i);
    }
    uint64_t h = hits(sl);
    m(sl, "bar");
    num_interest_is(sl, "bar", 0, 0);
    cr_assert_eq(hits(sl), h + 1);
    rem(sl, foo);
    num_interest_is(sl, "foo", 0, 0);

    struct {
        const char *subj;
        uint32_t foo, foobar, foobarbaz;
    } plain[] = {
        {"foo.*", 0, 1, 0}, {"foo.>", 0, 1, 1}, {"*.>", 0, 1, 1},
        {"*.bar", 0, 1, 0}, {"*", 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        sl_sub *s = new_sub(plain[i].subj);
        ins(sl, s);
        num_interest_is(sl, "foo", plain[i].foo, 0);
        num_interest_is(sl, "foo.bar", plain[i].foobar, 0);
        if (strcmp(plain[i].subj, "*") != 0)
            num_interest_is(sl, "foo.bar.baz", plain[i].foobarbaz, 0);
        rem(sl, s);
        num_interest_is(sl, "foo", 0, 0);
        num_interest_is(sl, "foo.bar", 0, 0);
        num_interest_is(sl, "foo.bar.baz", 0, 0);
    }

    /* Queues on a literal, '*' and '>' subject: 1, 2, 3 members, then removed one by one. */
    num_interest_queues(sl, "foo", (const char *[]){"foo", NULL},
                        (const char *[]){"foo.bar", NULL});
    num_interest_queues(sl, "foo.*", (const char *[]){"foo.bar", NULL},
                        (const char *[]){"foo", "foo.bar.baz", NULL});
    num_interest_queues(sl, "foo.>", (const char *[]){"foo.bar", "foo.bar.baz", NULL},
                        (const char *[]){"foo", NULL});

    struct {
        const char *subj;
        uint32_t foo, foobar, foobarbaz;
    } qs[] = {{"*.>", 0, 1, 1}, {"*.bar", 0, 1, 0}, {"*", 1, 0, 0}};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        sl_sub *s = new_qsub(qs[i].subj, "bar");
        ins(sl, s);
        num_interest_is(sl, "foo", 0, qs[i].foo);
        num_interest_is(sl, "foo.bar", 0, qs[i].foobar);
        if (strcmp(qs[i].subj, "*") != 0) num_interest_is(sl, "foo.bar.baz", 0, qs[i].foobarbaz);
        rem(sl, s);
    }
    done(sl);
}

/* ---- reverse match ----------------------------------------------------------------------------
 */

static sl_result *rm(sl_sublist *sl, const char *subject) {
    sl_result_release(cur);
    cur = sl_reverse_match(sl, subject, strlen(subject));
    return cur;
}

Test(sublist, reverse_match) {
    GO_TEST("server/sublist_test.go", "TestSublistReverseMatch");
    sl_sublist *sl = sl_new(true);
    sl_sub *foo = new_sub("foo"), *bar = new_sub("bar"), *foobar = new_sub("foo.bar"),
           *foobaz = new_sub("foo.baz"), *foobarbaz = new_sub("foo.bar.baz");
    ins(sl, foo);
    ins(sl, bar);
    ins(sl, foobar);
    ins(sl, foobaz);
    ins(sl, foobarbaz);

    sl_result *r = rm(sl, "foo");
    verify_len(r, 1);
    verify_member(r, foo);
    r = rm(sl, "bar");
    verify_len(r, 1);
    verify_member(r, bar);
    r = rm(sl, "*");
    verify_len(r, 2);
    verify_member(r, foo);
    verify_member(r, bar);
    verify_len(rm(sl, "baz"), 0);
    r = rm(sl, "foo.*");
    verify_len(r, 2);
    verify_member(r, foobar);
    verify_member(r, foobaz);
    r = rm(sl, "*.*");
    verify_len(r, 2);
    verify_member(r, foobar);
    verify_member(r, foobaz);
    r = rm(sl, "*.bar");
    verify_len(r, 1);
    verify_member(r, foobar);
    r = rm(sl, "*.baz");
    verify_len(r, 1);
    verify_member(r, foobaz);
    verify_len(rm(sl, "bar.*"), 0);
    verify_len(rm(sl, "*.bat"), 0);
    r = rm(sl, "foo.>");
    verify_len(r, 3);
    verify_member(r, foobar);
    verify_member(r, foobaz);
    verify_member(r, foobarbaz);
    r = rm(sl, ">");
    verify_len(r, 5);
    verify_member(r, foo);
    verify_member(r, bar);
    verify_member(r, foobar);
    verify_member(r, foobaz);
    verify_member(r, foobarbaz);
    done(sl);
}

Test(sublist, reverse_match_wider) {
    GO_TEST("server/sublist_test.go", "TestSublistReverseMatchWider");
    sl_sublist *sl = sl_new(true);
    sl_sub *sub = new_sub("uplink.*.*.>");
    ins(sl, sub);
    sl_result *r = rm(sl, "uplink.1.*.*.>");
    verify_len(r, 1);
    verify_member(r, sub);
    r = rm(sl, "uplink.1.2.3.>");
    verify_len(r, 1);
    verify_member(r, sub);
    done(sl);
}

/* ---- interest notifications -------------------------------------------------------------------
 */

/* Go's tests register a `chan bool` of capacity 1 and send without blocking; chan1 mimics it. */
typedef struct chan1 {
    bool full, val;
} chan1;

static void chan_send(void *arg, bool has_interest) {
    chan1 *c = arg;
    if (!c->full) {
        c->full = true;
        c->val = has_interest;
    }
}

static int reg(sl_sublist *sl, const char *subj, const char *queue, chan1 *ch) {
    return sl_register_notification(sl, subj, strlen(subj), queue, queue ? strlen(queue) : 0,
                                    ch ? chan_send : NULL, ch);
}

static bool clr(sl_sublist *sl, const char *subj, const char *queue, chan1 *ch) {
    return sl_clear_notification(sl, subj, strlen(subj), queue, queue ? strlen(queue) : 0,
                                 chan_send, ch);
}

#define expect_bool(ch, b)                                                                         \
    do {                                                                                           \
        cr_assert((ch)->full, "no notification (Go: timeout)");                                    \
        cr_assert_eq((ch)->val, (b), "notified %d, want %d", (ch)->val, (b));                      \
        (ch)->full = false;                                                                        \
    } while (0)
#define expect_none(ch) cr_assert_not((ch)->full, "unexpected notification %d", (ch)->val)
#define expect_one(ch) cr_assert((ch)->full, "expected 1 notification")

Test(sublist, register_interest_notification) {
    GO_TEST_PARTIAL("server/sublist_test.go", "TestSublistRegisterInterestNotification",
                    "does not inspect Go's internal notify maps after clearing (not observable)");
    sl_sublist *sl = sl_new(true);
    chan1 c = {0}, c2 = {0}, *ch = &c, *ch2 = &c2;

    cr_assert_eq(reg(sl, "foo.*", NULL, ch), -EINVAL); /* literal subjects only */
    cr_assert_eq(reg(sl, ">", NULL, ch), -EINVAL);
    cr_assert_eq(reg(sl, "foo", NULL, NULL), -EINVAL); /* Go: ErrNilChan */
    cr_assert_not(clr(sl, "foo", NULL, ch));
    cr_assert_eq(reg(sl, "foo", NULL, ch), 0);
    expect_one(ch);
    expect_bool(ch, false);

    sl_sub *sub = new_sub("foo");
    ins(sl, sub);
    expect_bool(ch, true);
    sl_sub *sub2 = new_sub("foo");
    ins(sl, sub2);
    expect_none(ch);
    cr_assert_eq(reg(sl, "bar", NULL, ch), 0);
    expect_bool(ch, false);
    sl_sub *sub3 = new_sub("foo");
    ins(sl, sub3);
    expect_none(ch);
    rem(sl, sub);
    expect_none(ch);
    rem(sl, sub2);
    expect_none(ch);
    rem(sl, sub3);
    expect_bool(ch, false);

    cr_assert_eq(reg(sl, "test.node", NULL, ch), 0);
    expect_one(ch);
    expect_bool(ch, false);
    sl_sub *tn1 = new_sub("test.node.already.exist");
    ins(sl, tn1);
    expect_none(ch);
    sl_sub *tn2 = new_sub("test.node");
    ins(sl, tn2);
    expect_bool(ch, true);
    sl_sub *tn3 = new_sub("test.node");
    ins(sl, tn3);
    expect_none(ch);
    rem(sl, tn1);
    expect_none(ch);
    rem(sl, tn2);
    expect_none(ch);
    rem(sl, tn3);
    expect_bool(ch, false);
    cr_assert(clr(sl, "test.node", NULL, ch));

    sl_sub *sub4 = new_sub("bar");
    ins(sl, sub4);
    expect_bool(ch, true);
    cr_assert(clr(sl, "bar", NULL, ch));
    cr_assert(clr(sl, "foo", NULL, ch));

    /* Wildcard subs never trigger notifications. */
    sl_sub *subpwc = new_sub("*");
    ins(sl, subpwc);
    expect_none(ch);
    cr_assert_eq(reg(sl, "foo", NULL, ch), 0);
    expect_bool(ch, false);
    ins(sl, sub);
    expect_bool(ch, true);
    rem(sl, sub);
    expect_bool(ch, false);
    rem(sl, subpwc);
    expect_none(ch);
    sl_sub *subfwc = new_sub(">");
    ins(sl, subfwc);
    expect_none(ch);
    ins(sl, subpwc);
    expect_none(ch);
    rem(sl, subpwc);
    expect_none(ch);
    rem(sl, subfwc);
    expect_none(ch);

    /* Batch removal. */
    sl_sub *subs[] = {sub, sub2, sub3, sub4, subpwc, subfwc};
    for (int i = 0; i < 6; i++)
        ins(sl, subs[i]);
    expect_bool(ch, true);
    sl_remove_batch(sl, subs, 6);
    expect_one(ch);
    expect_bool(ch, false);

    /* Queue subs only count for a registration naming their group. */
    sl_sub *qsub = new_qsub("foo.bar.baz", "1");
    ins(sl, qsub);
    expect_none(ch);
    cr_assert_eq(reg(sl, "foo.bar.baz", NULL, ch), 0);
    expect_bool(ch, false);
    sl_sub *wcqsub = new_qsub("foo.bar.>", "1");
    ins(sl, wcqsub);
    expect_none(ch);
    rem(sl, qsub);
    expect_none(ch);
    rem(sl, wcqsub);
    expect_none(ch);
    ins(sl, wcqsub);
    expect_none(ch);

    cr_assert_eq(reg(sl, "queue.test.node", "q22", ch), 0);
    expect_one(ch);
    expect_bool(ch, false);
    sl_sub *qsub1 = new_qsub("queue.test.node.already.exist", "queue");
    ins(sl, qsub1);
    expect_none(ch);
    sl_sub *qsub2 = new_qsub("queue.test.node", "q22");
    ins(sl, qsub2);
    expect_bool(ch, true);
    sl_sub *qsub3 = new_qsub("queue.test.node", "otherqueue");
    ins(sl, qsub3);
    expect_none(ch);
    sl_sub *qsub4 = new_qsub("queue.different.node", "q22");
    ins(sl, qsub4);
    expect_none(ch);
    sl_sub *qsub5 = new_qsub("queue.test.node", "q22");
    ins(sl, qsub5);
    expect_none(ch);
    rem(sl, qsub3);
    expect_none(ch);
    rem(sl, qsub1);
    expect_none(ch);
    rem(sl, qsub2);
    expect_none(ch);
    rem(sl, qsub4);
    expect_none(ch);
    rem(sl, qsub5);
    expect_bool(ch, false);
    cr_assert(clr(sl, "queue.test.node", "q22", ch));

    cr_assert_eq(reg(sl, "some.subject", "queue1", ch), 0);
    expect_one(ch);
    expect_bool(ch, false);
    qsub1 = new_qsub("some.subject", "queue1");
    ins(sl, qsub1);
    expect_bool(ch, true);
    cr_assert_eq(reg(sl, "some.subject", "queue2", ch2), 0);
    expect_one(ch2);
    expect_bool(ch2, false);
    qsub2 = new_qsub("some.subject", "queue2");
    ins(sl, qsub2);
    expect_bool(ch2, true);
    expect_none(ch); /* nothing for queue1 */
    rem(sl, qsub1);
    expect_bool(ch, false);
    rem(sl, qsub2);
    expect_bool(ch2, false);
    cr_assert(clr(sl, "some.subject", "queue1", ch));
    cr_assert(clr(sl, "some.subject", "queue2", ch2));

    /* Notifications never block: the second and later ones are dropped by the full channel. */
    cr_assert_eq(reg(sl, "bar", NULL, ch), 0);
    cr_assert_eq(reg(sl, "baz", NULL, ch), 0);
    ins(sl, new_sub("baz"));
    ins(sl, new_sub("bar"));
    ins(sl, subpwc);
    expect_one(ch);
    expect_bool(ch, false);
    done(sl); /* frees the registrations still held */
}

Test(sublist, register_notification_duplicate) {
    sl_sublist *sl = sl_new(false);
    chan1 c = {0};
    cr_assert_eq(reg(sl, "foo", NULL, &c), 0);
    c.full = false;
    cr_assert_eq(reg(sl, "foo", NULL, &c), -EEXIST); /* Go: ErrAlreadyRegistered */
    cr_assert_not(c.full);
    cr_assert_eq(reg(sl, "foo", "q", &c), 0, "a queue registration is a different key");
    cr_assert(clr(sl, "foo", NULL, &c));
    cr_assert_not(clr(sl, "foo", NULL, &c));
    done(sl);
}

/* ---- randomised: cached results always equal a fresh trie walk --------------------------------
 */

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (sl_sub *const *)a, y = (uintptr_t) * (sl_sub *const *)b;
    return x < y ? -1 : x > y;
}

/* Canonical text of a result: sorted plain subs, then groups by name with sorted members. */
static void canon(const sl_result *r, char *out, size_t cap) {
    sl_sub *v[4096];
    size_t o = 0;
    cr_assert_leq(r->npsubs, 4096);
    memcpy(v, r->psubs, r->npsubs * sizeof(*v));
    qsort(v, r->npsubs, sizeof(*v), cmp_ptr);
    for (uint32_t i = 0; i < r->npsubs; i++)
        o += (size_t)snprintf(out + o, cap - o, "%p,", (void *)v[i]);
    static const char *queues[] = {"q1", "q2"};
    for (int q = 0; q < 2; q++) {
        int g = qslot(r, queues[q]);
        o += (size_t)snprintf(out + o, cap - o, "|%s:", queues[q]);
        if (g < 0) continue;
        const sl_qgroup *grp = &r->qsubs[g];
        memcpy(v, grp->subs, grp->n * sizeof(*v));
        qsort(v, grp->n, sizeof(*v), cmp_ptr);
        for (uint32_t i = 0; i < grp->n; i++) {
            cr_assert_str_eq(v[i]->queue, queues[q]);
            o += (size_t)snprintf(out + o, cap - o, "%p,", (void *)v[i]);
        }
    }
    cr_assert_eq(r->nqsubs, (uint32_t)((qslot(r, "q1") >= 0) + (qslot(r, "q2") >= 0)));
}

static void rand_subject(char *buf, size_t cap, bool wild, unsigned *seed) {
    static const char *toks[] = {"a", "b", "c", "dd", "e", "f", "g", "h"};
    int n = 1 + rand_r(seed) % 4;
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        const char *t = toks[rand_r(seed) % 8];
        if (wild && rand_r(seed) % 4 == 0) t = (i == n - 1 && rand_r(seed) % 2) ? ">" : "*";
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "." : "", t);
    }
}

Test(sublist, random_cache_consistency) {
    unsigned seed = 12345;
    sl_sublist *cached = sl_new(true), *plain = sl_new(false);
    sl_sub *live[1200];
    size_t nlive = 0;
    sl_result *held = NULL;
    static char held_canon[65536], a[65536], b[65536];
    char subj[64];
    for (int op = 0; op < 20000; op++) {
        int what = rand_r(&seed) % 10;
        if (what < 2 && npool < sizeof(pool) / sizeof(pool[0]) && nlive < 1200) {
            rand_subject(subj, sizeof(subj), true, &seed);
            static const char *qs[] = {NULL, NULL, "q1", "q2"};
            sl_sub *s = new_qsub(subj, qs[rand_r(&seed) % 4]);
            if (s->queue && rand_r(&seed) % 3 == 0) s->qweight = 1 + rand_r(&seed) % 3;
            cr_assert_eq(sl_insert(cached, s), 0);
            cr_assert_eq(sl_insert(plain, s), 0);
            live[nlive++] = s;
        } else if (what < 4 && nlive) {
            size_t i = (size_t)rand_r(&seed) % nlive;
            cr_assert_eq(sl_remove(cached, live[i]), 0);
            cr_assert_eq(sl_remove(plain, live[i]), 0);
            cr_assert_eq(sl_remove(cached, live[i]), -ENOENT);
            live[i] = live[--nlive];
        } else {
            rand_subject(subj, sizeof(subj), rand_r(&seed) % 8 == 0, &seed);
            sl_result *r1 = sl_match(cached, subj, strlen(subj));
            sl_result *r2 = sl_match(plain, subj, strlen(subj));
            canon(r1, a, sizeof(a));
            canon(r2, b, sizeof(b));
            cr_assert_str_eq(a, b, "subject %s after %d ops:\n%s\n%s", subj, op, a, b);
            cr_assert_eq(sl_has_interest(cached, subj, strlen(subj)), r2->npsubs + r2->nqsubs > 0);
            if (!held && rand_r(&seed) % 50 == 0) {
                held = r1;
                sl_result_release(r2);
                canon(held, held_canon, sizeof(held_canon));
                continue;
            }
            sl_result_release(r1);
            sl_result_release(r2);
        }
        cr_assert_leq(sl_cache_count(cached), CACHE_MAX);
        cr_assert_eq(sl_count(cached), nlive);
        if (held && rand_r(&seed) % 100 == 0) {
            canon(held, a, sizeof(a));
            cr_assert_str_eq(a, held_canon, "a held result changed");
            sl_result_release(held);
            held = NULL;
        }
    }
    sl_result_release(held);
    /* Removing everything prunes the trie completely. */
    cr_assert_eq(sl_remove_batch(cached, live, nlive), 0);
    for (size_t i = 0; i < nlive; i++)
        cr_assert_eq(sl_remove(plain, live[i]), 0);
    cr_assert_eq(sl_num_levels(cached), 0);
    cr_assert_eq(sl_num_levels(plain), 0);
    cr_assert_eq(sl_count(cached), 0);
    sl_free(cached);
    sl_free(plain);
}

Test(sublist, remote_qsub_weight_in_cached_result) {
    /* A weighted sub inserted while a result is cached shows with its weight, as uncached. */
    sl_sublist *sl = sl_new(true);
    ins(sl, new_qsub("foo", "bar"));
    cr_assert_eq(m(sl, "foo")->qsubs[0].n, 1);
    ins(sl, new_remote_qsub("foo", "bar", 5));
    ins(sl, new_remote_qsub("*", "baz", 3));
    sl_result *r = m(sl, "foo");
    verify_qlen(r, 2);
    cr_assert_eq(qgroup_len(r, "bar"), 6);
    cr_assert_eq(qgroup_len(r, "baz"), 3);
    done(sl);
}
