/* Unit tests for common/stree.c, part 2: ports of Go nats-server v2.14.5
 * server/stree/stree_test.go covering LazyIntersect, IntersectGSL with filter sets,
 * delete-short-subject and Empty. */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "common/stree.h"
#include "common/subject.h"
#include "tests/unit/stree_test_util.h"

typedef struct {
    char keys[8][64];
    int n;
    int v1[8], v2[8];
} isect_ctx;

static void isect_cb(void *arg, const char *s, size_t l, void *lv, void *rv) {
    isect_ctx *c = arg;
    memcpy(c->keys[c->n], s, l);
    c->keys[c->n][l] = 0;
    c->v1[c->n] = *(int *)lv;
    c->v2[c->n] = *(int *)rv;
    c->n++;
}

static int isect_find(isect_ctx *c, const char *k) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], k) == 0) return i;
    return -1;
}

Test(stree, lazy_intersect) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeLazyIntersect");
    nx_stree *st1 = new_tree(), *st2 = new_tree();
    ins(st1, "foo.bar", 1);
    ins(st2, "foo.bar", 1);
    ins(st1, "foo.bar.baz.qux", 1);
    ins(st2, "foo.bar.baz.qux", 1);
    ins(st1, "bar", 1);
    ins(st2, "baz", 1);
    ins(st1, "a.b.c", 1);
    ins(st2, "a.b.d", 1);
    ins(st1, "a.b.ee", 1);
    ins(st2, "a.b.e", 1);
    ins(st1, "bb.c.d", 1);
    ins(st2, "b.c.d", 1);
    ins(st2, "foo.bar.baz.qux.alice", 1);
    ins(st2, "foo.bar.baz.qux.bob", 1);
    isect_ctx c = {.n = 0};
    nx_stree_lazy_intersect(st1, st2, isect_cb, &c);
    cr_assert_eq(c.n, 2);
    cr_assert_geq(isect_find(&c, "foo.bar"), 0);
    cr_assert_geq(isect_find(&c, "foo.bar.baz.qux"), 0);
    free_tree(st1);
    free_tree(st2);
}

/* --- IntersectGSL with filter sets ---------------------------------------------------- */

typedef struct {
    char keys[16][64];
    int counts[16];
    int n;
    int calls;
    bool stop;
} gsl_ctx;

static bool gsl_cb(void *arg, const char *s, size_t l, void *v) {
    (void)v;
    gsl_ctx *c = arg;
    c->calls++;
    for (int i = 0; i < c->n; i++) {
        if (strlen(c->keys[i]) == l && memcmp(c->keys[i], s, l) == 0) {
            c->counts[i]++;
            return !c->stop;
        }
    }
    memcpy(c->keys[c->n], s, l);
    c->keys[c->n][l] = 0;
    c->counts[c->n++] = 1;
    return !c->stop;
}

static int gsl_run(nx_stree *st, const char *const *filters, bool stop) {
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    for (const char *const *f = filters; *f; f++)
        cr_assert_eq(nx_filter_set_add(&fs, *f, strlen(*f)), 0, "add %s", *f);
    gsl_ctx c = {.n = 0, .stop = stop};
    nx_stree_intersect_filters(st, &fs, gsl_cb, &c);
    nx_filter_set_destroy(&fs);
    for (int i = 0; i < c.n; i++)
        cr_assert_eq(c.counts[i], 1, "duplicate %s", c.keys[i]);
    return stop ? c.calls : c.n;
}

#define GSL(want, ...)                                                                             \
    do {                                                                                           \
        const char *fl_[] = {__VA_ARGS__, NULL};                                                   \
        cr_assert_eq(gsl_run(st, fl_, false), want, "filters %s", #__VA_ARGS__);                   \
    } while (0)

Test(stree, gsl_intersection) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeGSLIntersection");
    nx_stree st_;
    nx_stree *st = &st_;
    nx_stree_init(st, 0);
    const char *subs[] = {"one.two.three.four", "one.two.three.five", "one.two.six",
                          "one.two.seven",      "eight.nine",         "stream.A",
                          "stream.A.child"};
    for (int i = 0; i < 7; i++)
        nx_stree_insert(st, subs[i], strlen(subs[i]), NULL, NULL);
    GSL(2, "one.two.six", "eight.nine");        /* Literals */
    GSL(2, "one.two.*.*");                      /* PWC */
    GSL(2, "one.two.*.four", "one.two.*.*");    /* PWCOverlapping */
    GSL(7, "*.*", "*.*.*", "*.*.*.*");          /* PWCAll */
    GSL(4, "one.>");                            /* FWC */
    GSL(7, "one.two.three.four", "one.>", ">"); /* FWCOverlapping */
    GSL(2, "stream.A.>", "stream.A");           /* FWCExtended */
    GSL(2, "stream.*.child", "stream.A");       /* PWCExtended */
    GSL(1, "stream.A.child", "*.A.child", "stream.*.child", "stream.A.*", "stream.*.*", "*.A.*",
        "*.*.child"); /* PWCExtendedAggressive */
    GSL(1, "stream.A.child", "*.A.child", "stream.A.*", "*.A.*", "*.*.child"); /* ...2 */
    GSL(1, "stream.A.child", "stream.*.*");                                    /* ...3 */
    GSL(1, "stream.A.child", "stream.*.>");                                    /* ...4 */
    GSL(3, "stream.A.child", "*.*");                                           /* ...5 */
    GSL(2, "stream.A.child", "stream.*");                                      /* ...6 */
    GSL(4, "stream.A", "*.*.*");                                               /* ...7 */
    GSL(7, ">");                                                               /* FWCAll */
    GSL(0, "one");                                                             /* NoMatch */
    GSL(0, "one", "eight", "ten");                                             /* NoMatches */
    GSL(0, "stream.A.not-child", "stream.A.child.>");                          /* NoMatchPartial */
    GSL(2, "one.*.six", "one.two.seven");                  /* PWCDoesntHideLiteral */
    GSL(2, "one.*.*.four", "one.*.*.five", "one.*.three"); /* PWCDoesntHideLiteral2 */
    GSL(2, "one.two.*.*", "*.two.three.four");             /* DisjointWildcardPositions */
    GSL(1, "one.*.four.five", "one.two.three.four");       /* LiteralMatchWithOverlappingPWCs */
    /* StopsWhenCallbackReturnsFalse */
    const char *all[] = {">", NULL};
    cr_assert_eq(gsl_run(st, all, true), 1);
    /* PWCAll also checks HasInterest. */
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    nx_filter_set_add(&fs, S("*.*"));
    nx_filter_set_add(&fs, S("*.*.*"));
    nx_filter_set_add(&fs, S("*.*.*.*"));
    cr_assert(nx_filter_set_has_interest(&fs, S("foo.bar")));
    cr_assert(nx_filter_set_has_interest(&fs, S("foo.bar.baz")));
    cr_assert(nx_filter_set_has_interest(&fs, S("foo.bar.baz.qux")));
    cr_assert_not(nx_filter_set_has_interest(&fs, S("foo")));
    nx_filter_set_destroy(&fs);
    nx_stree_empty(st);
}

Test(stree, delete_short_subject_no_panic) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeDeleteShortSubjectNoPanic");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.baz", 1);
    ins(st, "foo.bar.qux", 2);
    cr_assert_not(nx_stree_delete(st, S("foo.bar"), NULL));
    cr_assert_eq(*find(st, "foo.bar.baz"), 1);
    cr_assert_eq(*find(st, "foo.bar.qux"), 2);
    free_tree(st);
}

Test(stree, empty) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestSubjectTreeEmpty",
                    "Empty on a nil tree (Go returns a new tree) has no C equivalent");
    nx_stree *st = new_tree();
    cr_assert_eq(nx_stree_size(st), 0);
    nx_stree_empty(st);
    cr_assert_eq(nx_stree_size(st), 0);
    ins(st, "foo.bar", 1);
    ins(st, "foo.baz", 2);
    ins(st, "bar.baz", 3);
    cr_assert_eq(nx_stree_size(st), 3);
    nx_stree_empty(st);
    cr_assert_eq(nx_stree_size(st), 0);
    cr_assert_null(st->root);
    cr_assert_null(find(st, "foo.bar"));
    cr_assert_null(find(st, "foo.baz"));
    cr_assert_null(find(st, "bar.baz"));
    cr_assert_eq(ins(st, "new.entry", 42), 0);
    cr_assert_eq(nx_stree_size(st), 1);
    cr_assert_eq(*find(st, "new.entry"), 42);
    free_tree(st);
}

typedef struct {
    int n;
    bool bad;
} lic_ctx;

static void lic_cb(void *arg, const char *s, size_t l, void *lv, void *rv) {
    lic_ctx *c = arg;
    c->n++;
    int a = *(int *)lv;
    if (l == 7 && memcmp(s, "large.5", 7) == 0)
        c->bad |= !(a == 5 && *(int *)rv == 500);
    else if (l == 8 && memcmp(s, "large.10", 8) == 0)
        c->bad |= !(a == 10 && *(int *)rv == 1000);
    else if (l == 8 && memcmp(s, "large.50", 8) == 0)
        c->bad |= !(a == 50 && *(int *)rv == 5000);
    else
        c->bad = true;
}

static void str_cb(void *arg, const char *s, size_t l, void *lv, void *rv) {
    isect_ctx *c = arg;
    memcpy(c->keys[c->n], s, l);
    c->keys[c->n][l] = 0;
    c->v1[c->n] = *(int *)lv;
    c->v2[c->n] = (int)strlen(*(const char **)rv);
    c->n++;
}

static void deep_cb(void *arg, const char *s, size_t l, void *lv, void *rv) {
    lic_ctx *c = arg;
    c->n++;
    c->bad |=
        !(l == 13 && memcmp(s, "a.b.c.d.e.f.g", 13) == 0 && *(int *)lv == 1 && *(int *)rv == 2);
}

Test(stree, lazy_intersect_comprehensive) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeLazyIntersectComprehensive");
    isect_ctx c = {.n = 0};
    nx_stree_lazy_intersect(NULL, NULL, isect_cb, &c);
    cr_assert_eq(c.n, 0);
    nx_stree *st1 = new_tree();
    ins(st1, "foo", 1);
    nx_stree_lazy_intersect(st1, NULL, isect_cb, &c);
    cr_assert_eq(c.n, 0);
    nx_stree st2;
    nx_stree_init(&st2, sizeof(const char *));
    nx_stree_lazy_intersect(st1, &st2, isect_cb, &c);
    cr_assert_eq(c.n, 0);
    /* Different value types. */
    nx_stree_empty(st1);
    const char *hello = "hello", *world = "world", *two = "two";
    ins(st1, "foo.bar", 42);
    nx_stree_insert(&st2, S("foo.bar"), &hello, NULL);
    ins(st1, "baz.qux", 100);
    nx_stree_insert(&st2, S("baz.qux"), &world, NULL);
    ins(st1, "only.in.st1", 1);
    nx_stree_insert(&st2, S("only.in.st2"), &two, NULL);
    nx_stree_lazy_intersect(st1, &st2, str_cb, &c);
    cr_assert_eq(c.n, 2);
    int i = isect_find(&c, "foo.bar"), j = isect_find(&c, "baz.qux");
    cr_assert(i >= 0 && j >= 0);
    cr_assert_eq(c.v1[i], 42);
    cr_assert_eq(c.v1[j], 100);
    cr_assert_eq(c.v2[i], 5);
    nx_stree_empty(&st2);
    /* Iterates the smaller tree. */
    nx_stree *large = new_tree(), *small = new_tree();
    char s[32];
    for (int k = 0; k < 100; k++) {
        snprintf(s, sizeof s, "large.%d", k);
        ins(large, s, k);
    }
    ins(small, "large.5", 500);
    ins(small, "large.10", 1000);
    ins(small, "large.50", 5000);
    ins(small, "small.only", 999);
    lic_ctx lc = {0, false};
    nx_stree_lazy_intersect(large, small, lic_cb, &lc);
    cr_assert_eq(lc.n, 3);
    cr_assert_not(lc.bad);
    /* Deep subjects. */
    nx_stree *st3 = new_tree(), *st4 = new_tree();
    ins(st3, "a.b.c.d.e.f.g", 1);
    ins(st4, "a.b.c.d.e.f.g", 2);
    ins(st3, "a.b.c.d", 3);
    ins(st4, "a.b.c.d.e", 4);
    ins(st3, "prefix.suffix1", 5);
    ins(st4, "prefix.suffix2", 6);
    lc = (lic_ctx){0, false};
    nx_stree_lazy_intersect(st3, st4, deep_cb, &lc);
    cr_assert_eq(lc.n, 1);
    cr_assert_not(lc.bad);
    free_tree(st1);
    free_tree(large);
    free_tree(small);
    free_tree(st3);
    free_tree(st4);
}
