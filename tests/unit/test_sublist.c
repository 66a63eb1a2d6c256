/* Unit tests for broker/sublist.c, part 1: ports of Go nats-server v2.14.5
 * server/sublist_test.go covering insert/match/remove (plain and wildcard), the match cache,
 * queue results, bad subjects and wildcard-looking literals.  Part 2 is
 * test_sublist_interest.c, part 3 test_sublist_results.c; shared helpers are in
 * sublist_test_util.h.  Go's "X" / "XNoCache" pairs share one body. */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/sublist.h"
#include "common/gotest.h"
#include "tests/unit/sublist_test_util.h"

tsub pool[2048];
size_t npool;
sl_result *cur;

static void pool_reset(void) {
    npool = 0;
    cur = NULL;
}

TestSuite(sublist, .init = pool_reset);

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
