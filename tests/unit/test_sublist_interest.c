/* Unit tests for broker/sublist.c, part 2: ports of Go nats-server v2.14.5
 * server/sublist_test.go covering HasInterest/NumInterest, ReverseMatch and interest
 * notifications (RegisterNotification / ClearNotification). */

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/sublist.h"
#include "common/gotest.h"
#include "tests/unit/sublist_test_util.h"

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
