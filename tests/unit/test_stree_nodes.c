/* Unit tests for common/stree.c, part 3: ports of Go nats-server v2.14.5
 * server/stree/stree_test.go covering node internals (node4/10/16/48/256 grow, shrink, iter,
 * leaf misuse panics as SIGABRT) and edge cases of insert/delete/match/iter, plus a randomized
 * match/churn check beyond Go's tests. */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "common/stree.h"
#include "common/subject.h"
#include "tests/unit/stree_test_util.h"

/* --- Node internals ------------------------------------------------------------------- */

static bool count_nodes(void *arg, nx_stree_node *n) {
    (void)n;
    (*(int *)arg)++;
    return true;
}

static bool stop_first(void *arg, nx_stree_node *n) {
    (void)n;
    (*(int *)arg)++;
    return false;
}

Test(stree, node256_operations) {
    GO_TEST("server/stree/stree_test.go", "TestNode256Operations");
    nx_stree_node *n = nx_stree_node_new(NX_STREE_NODE256, S("prefix"));
    cr_assert_not(nx_stree_node_is_full(n));
    cr_assert_null(nx_stree_node_find_child(n, 'a'));
    nx_stree_node_add_child(n, 'a', leaf("suffix", 42));
    cr_assert_not_null(nx_stree_node_find_child(n, 'a'));
    cr_assert_eq(nx_stree_node_num_children(n), 1);
    int count = 0;
    nx_stree_node_iter(n, count_nodes, &count);
    cr_assert_eq(count, 1);
    nx_stree_node_add_child(n, 'b', leaf("suffix2", 43));
    nx_stree_node_add_child(n, 'c', leaf("suffix3", 44));
    count = 0;
    nx_stree_node_iter(n, stop_first, &count);
    cr_assert_eq(count, 1);
    size_t cnt;
    nx_stree_node_children(n, &cnt);
    cr_assert_eq(cnt, 256);
    nx_stree_node_free(n);
}

Test(stree, node256_grow_aborts, .signal = SIGABRT) {
    GO_TEST("server/stree/stree_test.go", "TestNode256Operations");
    nx_stree_node *n = nx_stree_node_new(NX_STREE_NODE256, S("prefix"));
    nx_stree_node_grow(n); /* "grow can not be called on node256" */
}

Test(stree, node256_shrink) {
    GO_TEST("server/stree/stree_test.go", "TestNode256Shrink");
    nx_stree_node *n = nx_stree_node_new(NX_STREE_NODE256, S("prefix"));
    for (int i = 0; i < 49; i++) {
        char c = (char)i;
        nx_stree_node_add_child(n, (uint8_t)i, nx_stree_leaf_new(&c, 1, &i, sizeof i));
    }
    cr_assert_eq(nx_stree_node_num_children(n), 49);
    cr_assert_null(nx_stree_node_shrink(n));
    nx_stree_node *first = *nx_stree_node_find_child(n, 0);
    nx_stree_node_delete_child(n, 0);
    nx_stree_node_free(first);
    cr_assert_eq(nx_stree_node_num_children(n), 48);
    nx_stree_node *shrunk = nx_stree_node_shrink(n);
    cr_assert_not_null(shrunk);
    cr_assert_eq(nx_stree_node_kind(shrunk), NX_STREE_NODE48);
    for (int i = 1; i < 49; i++)
        cr_assert_not_null(nx_stree_node_find_child(shrunk, (uint8_t)i));
    nx_stree_node_free_shell(shrunk);
    nx_stree_node_free(n);
}

/* Each Go subtest recovers a panic; here each is its own process that must abort. */
Test(stree, leaf_panics_add_child, .signal = SIGABRT) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "no setPrefix-on-leaf case; panic texts not compared");
    nx_stree_node *l = leaf("test", 42);
    nx_stree_node_add_child(l, 'a', NULL);
}

Test(stree, leaf_panics_find_child, .signal = SIGABRT) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "no setPrefix-on-leaf case; panic texts not compared");
    nx_stree_node *l = leaf("test", 42);
    nx_stree_node_find_child(l, 'a');
}

Test(stree, leaf_panics_grow, .signal = SIGABRT) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "no setPrefix-on-leaf case; panic texts not compared");
    nx_stree_node *l = leaf("test", 42);
    nx_stree_node_grow(l);
}

Test(stree, leaf_panics_delete_child, .signal = SIGABRT) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "no setPrefix-on-leaf case; panic texts not compared");
    nx_stree_node *l = leaf("test", 42);
    nx_stree_node_delete_child(l, 'a');
}

Test(stree, leaf_panics_shrink, .signal = SIGABRT) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "no setPrefix-on-leaf case; panic texts not compared");
    nx_stree_node *l = leaf("test", 42);
    nx_stree_node_shrink(l);
}

static bool never(void *arg, nx_stree_node *n) {
    (void)n;
    *(bool *)arg = true;
    return true;
}

Test(stree, leaf_methods) {
    GO_TEST_PARTIAL("server/stree/stree_test.go", "TestLeafPanicMethods",
                    "setPrefix on a leaf has no C counterpart (paths are set at creation)");
    nx_stree_node *l = leaf("test", 42);
    cr_assert(nx_stree_node_is_full(l));
    cr_assert_eq(nx_stree_node_num_children(l), 0);
    size_t cnt;
    cr_assert_null(nx_stree_node_children(l, &cnt));
    bool called = false;
    nx_stree_node_iter(l, never, &called);
    cr_assert_not(called);
    nx_stree_node_free(l);
}

Test(stree, size_on_nil_tree) {
    GO_TEST("server/stree/stree_test.go", "TestSizeOnNilTree");
    cr_assert_eq(nx_stree_size(NULL), 0);
}

Test(stree, find_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestFindEdgeCases");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.baz", 1);
    ins(st, "foo", 2);
    cr_assert_null(nx_stree_find(st, "", 0));
    free_tree(st);
}

static nx_stree_node *numbered(int kind, int n, char base) {
    nx_stree_node *nn = nx_stree_node_new(kind, S("prefix"));
    for (int i = 0; i < n; i++) {
        char s = (char)('0' + i);
        nx_stree_node_add_child(nn, (uint8_t)(base + i), nx_stree_leaf_new(&s, 1, &i, sizeof i));
    }
    return nn;
}

Test(stree, node_iter_methods) {
    GO_TEST("server/stree/stree_test.go", "TestNodeIterMethods");
    nx_stree_node *n4 = numbered(NX_STREE_NODE4, 2, 'a');
    int count = 0;
    nx_stree_node_iter(n4, count_nodes, &count);
    cr_assert_eq(count, 2);
    count = 0;
    nx_stree_node_iter(n4, stop_first, &count);
    cr_assert_eq(count, 1);
    nx_stree_node *n10 = numbered(NX_STREE_NODE10, 5, 'a');
    count = 0;
    nx_stree_node_iter(n10, count_nodes, &count);
    cr_assert_eq(count, 5);
    nx_stree_node *n16 = numbered(NX_STREE_NODE16, 8, 'a');
    count = 0;
    nx_stree_node_iter(n16, count_nodes, &count);
    cr_assert_eq(count, 8);
    nx_stree_node_free(n4);
    nx_stree_node_free(n10);
    nx_stree_node_free(n16);
}

Test(stree, iter_nil_root) {
    GO_TEST("server/stree/stree_test.go", "TestIterOrderedAndIterFastNilRoot");
    nx_stree *st = new_tree();
    int count = 0;
    nx_stree_iter_ordered(st, count_cb, &count);
    nx_stree_iter_fast(st, count_cb, &count);
    cr_assert_eq(count, 0);
    free_tree(st);
}

Test(stree, node4_add_child_full_aborts, .signal = SIGABRT) {
    GO_TEST("server/stree/stree_test.go", "TestNodeAddChildPanic");
    nx_stree_node *n4 = numbered(NX_STREE_NODE4, 4, 'a');
    nx_stree_node_add_child(n4, 'e', leaf("5", 5)); /* "node4 full!" */
}

Test(stree, node10_add_child_full_aborts, .signal = SIGABRT) {
    GO_TEST("server/stree/stree_test.go", "TestNodeAddChildPanicOthers");
    nx_stree_node *n = numbered(NX_STREE_NODE10, 10, 'a');
    nx_stree_node_add_child(n, 'k', leaf("11", 11));
}

Test(stree, node16_add_child_full_aborts, .signal = SIGABRT) {
    GO_TEST("server/stree/stree_test.go", "TestNodeAddChildPanicOthers");
    nx_stree_node *n = numbered(NX_STREE_NODE16, 16, 0);
    nx_stree_node_add_child(n, 16, leaf("16", 16));
}

Test(stree, node48_add_child_full_aborts, .signal = SIGABRT) {
    GO_TEST("server/stree/stree_test.go", "TestNodeAddChildPanicOthers");
    nx_stree_node *n = numbered(NX_STREE_NODE48, 48, 0);
    nx_stree_node_add_child(n, 48, leaf("48", 48));
}

Test(stree, node_delete_child_not_found) {
    GO_TEST("server/stree/stree_test.go", "TestNodeDeleteChildNotFound");
    nx_stree_node *n10 = numbered(NX_STREE_NODE10, 2, 'a');
    nx_stree_node_delete_child(n10, 'z');
    cr_assert_eq(nx_stree_node_num_children(n10), 2);
    nx_stree_node *n16 = numbered(NX_STREE_NODE16, 2, 'a');
    nx_stree_node_delete_child(n16, 'z');
    cr_assert_eq(nx_stree_node_num_children(n16), 2);
    nx_stree_node *n48 = numbered(NX_STREE_NODE48, 2, 0);
    nx_stree_node_delete_child(n48, 255);
    cr_assert_eq(nx_stree_node_num_children(n48), 2);
    nx_stree_node_free(n10);
    nx_stree_node_free(n16);
    nx_stree_node_free(n48);
}

Test(stree, node_shrink_not_needed) {
    GO_TEST("server/stree/stree_test.go", "TestNodeShrinkNotNeeded");
    nx_stree_node *n10 = numbered(NX_STREE_NODE10, 5, 'a');
    cr_assert_null(nx_stree_node_shrink(n10));
    nx_stree_node *n16 = numbered(NX_STREE_NODE16, 11, 0);
    cr_assert_null(nx_stree_node_shrink(n16));
    nx_stree_node_free(n10);
    nx_stree_node_free(n16);
}

Test(stree, node48_iter_early_termination) {
    GO_TEST("server/stree/stree_test.go", "TestNode48IterEarlyTermination");
    nx_stree_node *n48 = numbered(NX_STREE_NODE48, 10, 0);
    int count = 0;
    nx_stree_node_iter(n48, stop_first, &count);
    cr_assert_eq(count, 1);
    nx_stree_node_free(n48);
}

typedef struct {
    int count, limit;
} lim_ctx;

static bool stop_at(void *arg, nx_stree_node *n) {
    (void)n;
    lim_ctx *c = arg;
    c->count++;
    return c->count < c->limit;
}

Test(stree, node10_and_16_iter_early_termination) {
    GO_TEST("server/stree/stree_test.go", "TestNode10And16IterEarlyTermination");
    nx_stree_node *n10 = numbered(NX_STREE_NODE10, 5, 'a');
    lim_ctx c = {0, 2};
    nx_stree_node_iter(n10, stop_at, &c);
    cr_assert_eq(c.count, 2);
    nx_stree_node *n16 = numbered(NX_STREE_NODE16, 8, 0);
    c = (lim_ctx){0, 3};
    nx_stree_node_iter(n16, stop_at, &c);
    cr_assert_eq(c.count, 3);
    nx_stree_node_free(n10);
    nx_stree_node_free(n16);
}

Test(stree, match_parts_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestMatchPartsEdgeCases");
    int rem = nx_stree_match_parts_remaining(S("foo.*.bar.>"), S("foo.test"));
    cr_assert_gt(rem, 0);
}

Test(stree, insert_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestInsertEdgeCases");
    nx_stree *st = new_tree();
    int v = 1;
    cr_assert_lt(nx_stree_insert(st,
                                 S("foo\x7f"
                                   "bar"),
                                 &v, NULL),
                 0);
    cr_assert_eq(nx_stree_size(st), 0);
    ins(st, "a.b", 1);
    ins(st, "a.c", 2);
    cr_assert_eq(nx_stree_size(st), 2);
    free_tree(st);
}

Test(stree, delete_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestDeleteEdgeCases");
    nx_stree *st = new_tree();
    cr_assert_not(nx_stree_delete(st, S("foo"), NULL));
    ins(st, "foo", 1);
    cr_assert_not(nx_stree_delete(st, "", 0, NULL));
    nx_stree_empty(st);
    ins(st, "verylongprefix.suffix", 1);
    ins(st, "verylongprefix.suffix2", 2);
    cr_assert_not(nx_stree_delete(st, S("very"), NULL));
    free_tree(st);
}

Test(stree, match_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestMatchEdgeCases");
    nx_stree *st = new_tree();
    ins(st, "foo.bar", 1);
    nx_stree_match(st, S("foo.*"), NULL, NULL); /* no callback: no crash */
    MATCH(st, "", 0);
    free_tree(st);
}

static bool stop_at_2(void *arg, const char *s, size_t l, void *v) {
    (void)s, (void)l, (void)v;
    int *c = arg;
    (*c)++;
    return *c < 2;
}

Test(stree, iter_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestIterEdgeCases");
    nx_stree *st = new_tree();
    ins(st, "a.b.c", 1);
    ins(st, "a.b.d", 2);
    ins(st, "a.c.d", 3);
    ins(st, "b.c.d", 4);
    int count = 0;
    nx_stree_iter_node(st, st->root, false, stop_at_2, &count);
    cr_assert_eq(count, 2);
    free_tree(st);
}

Test(stree, leaf_iter) {
    GO_TEST("server/stree/stree_test.go", "TestLeafIter");
    nx_stree_node *l = leaf("test", 42);
    bool called = false;
    nx_stree_node_iter(l, never, &called);
    nx_stree_node_iter(l, stop_first, &called);
    cr_assert_not(called);
    cr_assert(nx_stree_leaf_matches(l, S("test")));
    cr_assert_eq(*(int *)nx_stree_leaf_value(l), 42);
    nx_stree_node_free(l);
}

Test(stree, delete_child_edge_cases_more) {
    GO_TEST("server/stree/stree_test.go", "TestDeleteChildEdgeCasesMore");
    nx_stree_node *n10 = numbered(NX_STREE_NODE10, 3, 'a');
    nx_stree_node *last = *nx_stree_node_find_child(n10, 'c');
    nx_stree_node_delete_child(n10, 'c');
    cr_assert_eq(nx_stree_node_num_children(n10), 2);
    nx_stree_node *n16 = numbered(NX_STREE_NODE16, 3, 'a');
    nx_stree_node *last16 = *nx_stree_node_find_child(n16, 'c');
    nx_stree_node_delete_child(n16, 'c');
    cr_assert_eq(nx_stree_node_num_children(n16), 2);
    nx_stree_node_free(last);
    nx_stree_node_free(last16);
    nx_stree_node_free(n10);
    nx_stree_node_free(n16);
}

Test(stree, match_parts_more_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestMatchPartsMoreEdgeCases");
    /* An empty fragment leaves all parts ("foo." and "*"). */
    cr_assert_eq(nx_stree_match_parts_remaining(S("foo.*"), "", 0), 2);
}

Test(stree, insert_complex_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestInsertComplexEdgeCases");
    nx_stree *st = new_tree();
    ins(st, "a", 1);
    ins(st, "aa", 2);
    ins(st, "aaa", 3);
    cr_assert_eq(nx_stree_size(st), 3);
    cr_assert_eq(*find(st, "a"), 1);
    cr_assert_eq(*find(st, "aa"), 2);
    cr_assert_eq(*find(st, "aaa"), 3);
    free_tree(st);
}

Test(stree, delete_nil_node_pointer) {
    GO_TEST("server/stree/stree_test.go", "TestDeleteNilNodePointer");
    nx_stree *st = new_tree();
    cr_assert_not(nx_stree_delete(st, S("foo"), NULL));
    free_tree(st);
}

Test(stree, match_complex_edge_cases) {
    GO_TEST("server/stree/stree_test.go", "TestMatchComplexEdgeCases");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.baz", 1);
    ins(st, "foo.bar.qux", 2);
    ins(st, "foo.baz.bar", 3);
    ins(st, "bar.foo.baz", 4);
    MATCH(st, "foo.bar.>", 2);
    free_tree(st);
}

Test(stree, iter_complex_tree) {
    GO_TEST("server/stree/stree_test.go", "TestIterComplexTree");
    nx_stree *st = new_tree();
    char s[64];
    for (int i = 0; i < 20; i++) {
        snprintf(s, sizeof s, "level1.level2.level3.item%d", i);
        ins(st, s, i);
    }
    int count = 0;
    nx_stree_iter_ordered(st, count_cb, &count);
    cr_assert_eq(count, 20);
    free_tree(st);
}

/* Beyond Go's tests: a randomized check of match against a brute-force reference, and
 * delete/insert churn keeping every key findable. */
Test(stree, randomized_match_and_churn) {
    srand(99);
    nx_stree *st = new_tree();
    static char keys[2000][32];
    int n = 0;
    const char *toks[] = {"a", "b", "ab", "abc", "foo", "bar", "1", "12"};
    for (int i = 0; i < 2000; i++) {
        int nt = rand() % 4 + 1;
        size_t off = 0;
        for (int t = 0; t < nt; t++)
            off += (size_t)sprintf(keys[n] + off, "%s%s", t ? "." : "", toks[rand() % 8]);
        if (find(st, keys[n])) continue;
        ins(st, keys[n], n);
        n++;
    }
    const char *filters[] = {"a.*", "*.b", "foo.>", "*.*", "ab.*.1", ">", "*.*.*.*", "a.b.c"};
    for (int f = 0; f < 8; f++) {
        int want = 0;
        for (int i = 0; i < n; i++)
            want +=
                nx_subject_match_literal(keys[i], strlen(keys[i]), filters[f], strlen(filters[f]));
        MATCH(st, filters[f], want);
    }
    for (int i = 0; i < n; i += 2)
        del_expect(st, keys[i], i);
    for (int i = 1; i < n; i += 2)
        cr_assert_eq(*find(st, keys[i]), i);
    cr_assert_eq(nx_stree_size(st), (size_t)(n / 2));
    free_tree(st);
}
