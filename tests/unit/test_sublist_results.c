/* Unit tests for broker/sublist.c, part 3: ports of Go nats-server v2.14.5
 * server/sublist_test.go covering held results while subs come and go (Go's race tests,
 * single-threaded), result sharing, stats and enumeration (All), plus a randomized check that
 * cached results equal a fresh trie walk. */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/sublist.h"
#include "common/gotest.h"
#include "tests/unit/sublist_test_util.h"

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
