/* Unit tests for common/stree.c, part 1: ports of Go nats-server v2.14.5
 * server/stree/stree_test.go covering insert/find/delete, node growth, construction, Match
 * (wildcards, params, known bugs), ordered and fast iteration, and long tokens.  Part 2 is
 * test_stree_intersect.c, part 3 test_stree_nodes.c; shared helpers are in stree_test_util.h.
 * Go panics on node misuse become aborts here (Criterion .signal = SIGABRT). */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "common/stree.h"
#include "common/subject.h"
#include "tests/unit/stree_test_util.h"

Test(stree, basics) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeBasics");
    nx_stree *st = new_tree();
    cr_assert_eq(nx_stree_size(st), 0);
    cr_assert_eq(ins(st, "foo.bar.baz", 22), 0);
    cr_assert_eq(nx_stree_size(st), 1);
    cr_assert_null(find(st, "foo.bar.*")); /* no wildcards in find */
    cr_assert_eq(*find(st, "foo.bar.baz"), 22);
    int old = 0, v = 33;
    cr_assert_eq(nx_stree_insert(st, S("foo.bar.baz"), &v, &old), 1);
    cr_assert_eq(old, 22);
    cr_assert_eq(nx_stree_size(st), 1);
    cr_assert_eq(ins(st, "foo.bar", 22), 0);
    cr_assert_eq(nx_stree_size(st), 2);
    cr_assert_eq(*find(st, "foo.bar"), 22);
    cr_assert_eq(*find(st, "foo.bar.baz"), 33);
    free_tree(st);
}

Test(stree, node_grow) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNodeGrow");
    nx_stree *st = new_tree();
    char subj[32];
    for (int i = 0; i < 4; i++) {
        snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + i);
        cr_assert_eq(ins(st, subj, 22), 0);
    }
    cr_assert_eq(kind(st), NX_STREE_NODE4);
    cr_assert_eq(ins(st, "foo.bar.E", 22), 0);
    cr_assert_eq(kind(st), NX_STREE_NODE10);
    for (int i = 5; i < 10; i++) {
        snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + i);
        cr_assert_eq(ins(st, subj, 22), 0);
    }
    cr_assert_eq(ins(st, "foo.bar.K", 22), 0);
    cr_assert_eq(kind(st), NX_STREE_NODE16);
    for (int i = 11; i < 16; i++) {
        snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + i);
        cr_assert_eq(ins(st, subj, 22), 0);
    }
    cr_assert_eq(ins(st, "foo.bar.Q", 22), 0);
    cr_assert_eq(kind(st), NX_STREE_NODE48);
    for (int i = 17; i < 48; i++) {
        snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + i);
        cr_assert_eq(ins(st, subj, 22), 0);
    }
    snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + 49);
    cr_assert_eq(ins(st, subj, 22), 0);
    cr_assert_eq(kind(st), NX_STREE_NODE256);
    free_tree(st);
}

Test(stree, node_prefix_mismatch) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNodePrefixMismatch");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.A", 11);
    ins(st, "foo.bar.B", 22);
    ins(st, "foo.bar.C", 33);
    nx_stree_node *orig = st->root;
    ins(st, "foo.foo.A", 44); /* splits the node */
    cr_assert_neq(orig, st->root);
    cr_assert_eq(*find(st, "foo.bar.A"), 11);
    cr_assert_eq(*find(st, "foo.bar.B"), 22);
    cr_assert_eq(*find(st, "foo.bar.C"), 33);
    cr_assert_eq(*find(st, "foo.foo.A"), 44);
    free_tree(st);
}

static void insert_letters(nx_stree *st, int n) {
    char subj[32];
    for (int i = 0; i < n; i++) {
        snprintf(subj, sizeof subj, "foo.bar.%c", 'A' + i);
        ins(st, subj, 22);
    }
}

Test(stree, node_delete) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNodeDelete");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.A", 22);
    del_expect(st, "foo.bar.A", 22);
    cr_assert_null(st->root);
    cr_assert_not(nx_stree_delete(st, S("foo.bar.A"), NULL));
    cr_assert_null(find(st, "foo.foo.A"));
    ins(st, "foo.bar.A", 11);
    ins(st, "foo.bar.B", 22);
    ins(st, "foo.bar.C", 33);
    del_expect(st, "foo.bar.C", 33);
    del_expect(st, "foo.bar.B", 22);
    cr_assert_eq(kind(st), NX_STREE_LEAF); /* shrunk */
    del_expect(st, "foo.bar.A", 11);
    cr_assert_null(st->root);
    insert_letters(st, 5);
    cr_assert_eq(kind(st), NX_STREE_NODE10);
    del_expect(st, "foo.bar.A", 22);
    cr_assert_eq(kind(st), NX_STREE_NODE4);
    insert_letters(st, 11);
    cr_assert_eq(kind(st), NX_STREE_NODE16);
    del_expect(st, "foo.bar.A", 22);
    cr_assert_eq(kind(st), NX_STREE_NODE10);
    cr_assert_eq(*find(st, "foo.bar.B"), 22);
    nx_stree_empty(st);
    insert_letters(st, 17);
    cr_assert_eq(kind(st), NX_STREE_NODE48);
    del_expect(st, "foo.bar.A", 22);
    cr_assert_eq(kind(st), NX_STREE_NODE16);
    cr_assert_eq(*find(st, "foo.bar.B"), 22);
    nx_stree_empty(st);
    insert_letters(st, 49);
    cr_assert_eq(kind(st), NX_STREE_NODE256);
    del_expect(st, "foo.bar.A", 22);
    cr_assert_eq(kind(st), NX_STREE_NODE48);
    cr_assert_eq(*find(st, "foo.bar.B"), 22);
    free_tree(st);
}

Test(stree, nodes_and_paths) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNodesAndPaths");
    nx_stree *st = new_tree();
    const char *subs[] = {"foo.bar.A", "foo.bar.B", "foo.bar.C", "foo.bar"};
    for (int i = 0; i < 4; i++)
        ins(st, subs[i], 22);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(*find(st, subs[i]), 22);
    nx_stree_delete(st, S("foo.bar"), NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(*find(st, subs[i]), 22);
    free_tree(st);
}

static void check_node(nx_stree_node **an, const char *kname, const char *path, uint16_t nch) {
    cr_assert_not_null(an);
    cr_assert_not_null(*an);
    cr_assert_str_eq(nx_stree_node_kind_name(*an), kname);
    size_t l;
    const char *p = nx_stree_node_path(*an, &l);
    cr_assert_eq(l, strlen(path));
    cr_assert(memcmp(p, path, l) == 0, "path %.*s want %s", (int)l, p, path);
    cr_assert_eq(nx_stree_node_num_children(*an), nch);
}

Test(stree, construction) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeConstruction");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.A", 1);
    ins(st, "foo.bar.B", 2);
    ins(st, "foo.bar.C", 3);
    ins(st, "foo.baz.A", 11);
    ins(st, "foo.baz.B", 22);
    ins(st, "foo.baz.C", 33);
    ins(st, "foo.bar", 42);
    check_node(&st->root, "NODE4", "foo.ba", 2);
    nx_stree_node **nn = nx_stree_node_find_child(st->root, 'r');
    check_node(nn, "NODE4", "r", 2);
    check_node(nx_stree_node_find_child(*nn, NX_STREE_NO_PIVOT), "LEAF", "", 0);
    nx_stree_node **rnn = nx_stree_node_find_child(*nn, '.');
    check_node(rnn, "NODE4", ".", 3);
    check_node(nx_stree_node_find_child(*rnn, 'A'), "LEAF", "A", 0);
    check_node(nx_stree_node_find_child(*rnn, 'B'), "LEAF", "B", 0);
    check_node(nx_stree_node_find_child(*rnn, 'C'), "LEAF", "C", 0);
    nx_stree_node **znn = nx_stree_node_find_child(st->root, 'z');
    check_node(znn, "NODE4", "z.", 3);
    check_node(nx_stree_node_find_child(*znn, 'A'), "LEAF", "A", 0);
    check_node(nx_stree_node_find_child(*znn, 'B'), "LEAF", "B", 0);
    check_node(nx_stree_node_find_child(*znn, 'C'), "LEAF", "C", 0);
    del_expect(st, "foo.bar", 42);
    check_node(&st->root, "NODE4", "foo.ba", 2);
    nn = nx_stree_node_find_child(st->root, 'r');
    check_node(nn, "NODE4", "r.", 3);
    check_node(nx_stree_node_find_child(*nn, 'A'), "LEAF", "A", 0);
    check_node(nx_stree_node_find_child(*nn, 'B'), "LEAF", "B", 0);
    check_node(nx_stree_node_find_child(*nn, 'C'), "LEAF", "C", 0);
    znn = nx_stree_node_find_child(st->root, 'z');
    check_node(znn, "NODE4", "z.", 3);
    check_node(nx_stree_node_find_child(*znn, 'A'), "LEAF", "A", 0);
    free_tree(st);
}

Test(stree, match_leaf_only) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchLeafOnly");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.baz.A", 1);
    MATCH(st, "foo.bar.*.A", 1);
    MATCH(st, "foo.*.baz.A", 1);
    MATCH(st, "foo.*.*.A", 1);
    MATCH(st, "foo.*.*.*", 1);
    MATCH(st, "*.*.*.*", 1);
    MATCH(st, ">", 1);
    MATCH(st, "foo.>", 1);
    MATCH(st, "foo.*.>", 1);
    MATCH(st, "foo.bar.>", 1);
    MATCH(st, "foo.bar.*.>", 1);
    MATCH(st, "foo.bar.baz", 0);
    free_tree(st);
}

static void six_plus(nx_stree *st) {
    ins(st, "foo.bar.A", 1);
    ins(st, "foo.bar.B", 2);
    ins(st, "foo.bar.C", 3);
    ins(st, "foo.baz.A", 11);
    ins(st, "foo.baz.B", 22);
    ins(st, "foo.baz.C", 33);
}

Test(stree, match_nodes) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchNodes");
    nx_stree *st = new_tree();
    six_plus(st);
    MATCH(st, "foo.bar.A", 1);
    MATCH(st, "foo.baz.A", 1);
    MATCH(st, "foo.bar", 0);
    MATCH(st, "foo.*.A", 2);
    MATCH(st, "foo.bar.*", 3);
    MATCH(st, "foo.baz.*", 3);
    MATCH(st, ">", 6);
    MATCH(st, "foo.>", 6);
    MATCH(st, "foo.bar.>", 3);
    MATCH(st, "foo.baz.>", 3);
    MATCH(st, "foo.ba", 0);
    ins(st, "foo.bar", 42);
    MATCH(st, "foo.bar.A", 1);
    MATCH(st, "foo.baz.A", 1);
    MATCH(st, "foo.bar", 1);
    MATCH(st, "foo.*.A", 2);
    MATCH(st, "foo.bar.*", 3);
    MATCH(st, "foo.baz.*", 3);
    MATCH(st, ">", 7);
    MATCH(st, "foo.>", 7);
    MATCH(st, "foo.bar.>", 3);
    MATCH(st, "foo.baz.>", 3);
    free_tree(st);
}

typedef struct {
    int n, stop_after;
} until_ctx;

static bool until_cb(void *arg, const char *s, size_t l, void *v) {
    (void)s, (void)l, (void)v;
    until_ctx *c = arg;
    c->n++;
    return c->n < c->stop_after;
}

Test(stree, match_until) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchUntil");
    nx_stree *st = new_tree();
    six_plus(st);
    ins(st, "foo.bar", 42);
    until_ctx c = {0, 3};
    cr_assert_not(nx_stree_match_until(st, S("foo.>"), until_cb, &c));
    cr_assert_eq(c.n, 3);
    c = (until_ctx){0, 3};
    cr_assert(nx_stree_match_until(st, S("foo.bar"), until_cb, &c));
    cr_assert_eq(c.n, 1);
    c = (until_ctx){0, 4};
    cr_assert(nx_stree_match_until(st, S("foo.baz.*"), until_cb, &c));
    cr_assert_eq(c.n, 3);
    free_tree(st);
}

Test(stree, no_prefix) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNoPrefix");
    nx_stree *st = new_tree();
    for (int i = 0; i < 26; i++) {
        char s[2] = {(char)('A' + i), 0};
        cr_assert_eq(ins(st, s, 22), 0);
    }
    nx_stree_node *n = st->root;
    cr_assert_eq(nx_stree_node_kind(n), NX_STREE_NODE48);
    cr_assert_eq(nx_stree_node_num_children(n), 26);
    del_expect(st, "B", 22);
    cr_assert_eq(nx_stree_node_num_children(n), 25);
    del_expect(st, "Z", 22);
    cr_assert_eq(nx_stree_node_num_children(n), 24);
    free_tree(st);
}

Test(stree, partial_terminal_wildcard_bug_match) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreePartialTerminalWildcardBugMatch");
    nx_stree *st = new_tree();
    ins(st, "STATE.GLOBAL.CELL1.7PDSGAALXNN000010.PROPERTY-A", 5);
    ins(st, "STATE.GLOBAL.CELL1.7PDSGAALXNN000010.PROPERTY-B", 1);
    ins(st, "STATE.GLOBAL.CELL1.7PDSGAALXNN000010.PROPERTY-C", 2);
    MATCH(st, "STATE.GLOBAL.CELL1.7PDSGAALXNN000010.*", 3);
    free_tree(st);
}

static const struct {
    const char *s;
    int v;
} check_vals[] = {{"foo.bar.A", 1},  {"foo.bar.B", 2},  {"foo.bar.C", 3}, {"foo.baz.A", 11},
                  {"foo.baz.B", 22}, {"foo.baz.C", 33}, {"foo.bar", 42}};

static bool check_val_cb(void *arg, const char *s, size_t l, void *v) {
    int *count = arg;
    for (size_t i = 0; i < sizeof check_vals / sizeof check_vals[0]; i++) {
        if (strlen(check_vals[i].s) == l && memcmp(check_vals[i].s, s, l) == 0) {
            cr_assert_eq(*(int *)v, check_vals[i].v, "value of %.*s", (int)l, s);
            (*count)++;
            return true;
        }
    }
    cr_assert_fail("unexpected subject %.*s", (int)l, s);
    return true;
}

Test(stree, match_subject_param) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchSubjectParam");
    nx_stree *st = new_tree();
    six_plus(st);
    ins(st, "foo.bar", 42);
    int n = 0;
    nx_stree_match(st, S(">"), check_val_cb, &n);
    cr_assert_eq(n, 7);
    free_tree(st);
}

typedef struct {
    int tok;
    const char *want;
    int verified;
} tok_ctx;

static bool tok_cb(void *arg, const char *s, size_t l, void *v) {
    (void)v;
    tok_ctx *c = arg;
    char buf[64];
    memcpy(buf, s, l);
    buf[l] = 0;
    char *toks[4] = {0};
    int n = 0;
    for (char *p = strtok(buf, "."); p && n < 4; p = strtok(NULL, "."))
        toks[n++] = p;
    cr_assert_eq(n, 3);
    if (strcmp(toks[c->tok], c->want) == 0) c->verified++;
    return true;
}

Test(stree, match_random_double_pwc) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchRandomDoublePWC");
    srand(42);
    nx_stree *st = new_tree();
    char s[64];
    for (int i = 1; i <= 10000; i++) {
        snprintf(s, sizeof s, "foo.%d.%d", rand() % 20 + 1, i);
        ins(st, s, 42);
    }
    MATCH(st, "foo.*.*", 10000);
    int seen = match_count(st, "*.2.*");
    tok_ctx c = {1, "2", 0};
    nx_stree_iter_ordered(st, tok_cb, &c);
    cr_assert_eq(seen, c.verified);
    seen = match_count(st, "*.*.222");
    c = (tok_ctx){2, "222", 0};
    nx_stree_iter_ordered(st, tok_cb, &c);
    cr_assert_eq(seen, c.verified);
    free_tree(st);
}

static const char *order[] = {"foo.bar",   "foo.bar.A", "foo.bar.B", "foo.bar.C",
                              "foo.baz.A", "foo.baz.B", "foo.baz.C"};

static bool ordered_cb(void *arg, const char *s, size_t l, void *v) {
    int *received = arg;
    cr_assert(strlen(order[*received]) == l && memcmp(order[*received], s, l) == 0,
              "item %d: want %s got %.*s", *received, order[*received], (int)l, s);
    int dummy = 0;
    check_val_cb(&dummy, s, l, v);
    (*received)++;
    return true;
}

static bool stop_at_4(void *arg, const char *s, size_t l, void *v) {
    (void)s, (void)l, (void)v;
    int *r = arg;
    (*r)++;
    return *r != 4;
}

Test(stree, iter_ordered) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeIterOrdered");
    nx_stree *st = new_tree();
    six_plus(st);
    ins(st, "foo.bar", 42);
    int received = 0;
    nx_stree_iter_ordered(st, ordered_cb, &received);
    cr_assert_eq(received, 7);
    received = 0;
    nx_stree_iter_ordered(st, stop_at_4, &received);
    cr_assert_eq(received, 4);
    free_tree(st);
}

Test(stree, iter_fast) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeIterFast");
    nx_stree *st = new_tree();
    six_plus(st);
    ins(st, "foo.bar", 42);
    int received = 0;
    nx_stree_iter_fast(st, check_val_cb, &received);
    cr_assert_eq(received, 7);
    received = 0;
    nx_stree_iter_fast(st, stop_at_4, &received);
    cr_assert_eq(received, 4);
    free_tree(st);
}

Test(stree, insert_same_pivot_bug) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeInsertSamePivotBug");
    const char *subs[] = {
        "0d00.2abbb82c1d.6e16.fa7f85470e.3e46",
        "534b12.3486c17249.4dde0666",
        "6f26aabd.920ee3.d4d3.5ffc69f6",
        "8850.ade3b74c31.aa533f77.9f59.a4bd8415.b3ed7b4111",
        "5a75047dcb.5548e845b6.76024a34.14d5b3.80c426.51db871c3a",
        "825fa8acfc.5331.00caf8bbbd.107c4b.c291.126d1d010e",
    };
    nx_stree *st = new_tree();
    for (size_t i = 0; i < 6; i++) {
        cr_assert_eq(ins(st, subs[i], 22), 0);
        cr_assert_not_null(find(st, subs[i]), "could not find %s", subs[i]);
    }
    free_tree(st);
}

Test(stree, match_tsep_second_then_partial_part_bug) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchTsepSecondThenPartialPartBug");
    nx_stree *st = new_tree();
    ins(st, "foo.xxxxx.foo1234.zz", 22);
    ins(st, "foo.yyy.foo123.zz", 22);
    ins(st, "foo.yyybar789.zz", 22);
    ins(st, "foo.yyy.foo12345.zz", 22);
    ins(st, "foo.yyy.foo12345.yy", 22);
    ins(st, "foo.yyy.foo123456789.zz", 22);
    MATCH(st, "foo.*.foo123456789.*", 1);
    MATCH(st, "foo.*.*.zzz.foo.>", 0);
    free_tree(st);
}

Test(stree, match_multiple_wildcard_basic) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchMultipleWildcardBasic");
    nx_stree *st = new_tree();
    ins(st, "A.B.C.D.0.G.H.I.0", 22);
    ins(st, "A.B.C.D.1.G.H.I.0", 22);
    MATCH(st, "A.B.*.D.1.*.*.I.0", 1);
    free_tree(st);
}

Test(stree, match_invalid_wildcard) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchInvalidWildcard");
    nx_stree *st = new_tree();
    ins(st, "foo.123", 22);
    ins(st, "one.two.three.four.five", 22);
    ins(st, "'*.123", 22);
    ins(st, "bar", 22);
    MATCH(st, "invalid.>", 0);
    MATCH(st, "foo.>.bar", 0);
    MATCH(st, ">", 4);
    MATCH(st, "'*.*", 1);
    MATCH(st, "'*.*.*'", 0);
    MATCH(st, "`>`", 0);
    MATCH(st, "\">\"", 0);
    MATCH(st, "'>'", 0);
    MATCH(st, "'*.>'", 0);
    MATCH(st, "'*.>.", 0);
    MATCH(st, "`invalid.>`", 0);
    MATCH(st, "'*.*'", 0);
    free_tree(st);
}

Test(stree, random_track_entries) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeRandomTrackEntries");
    srand(7);
    nx_stree *st = new_tree();
    static char subjects[1000][64];
    int n = 0;
    for (int i = 0; i < 1000; i++) {
        char *s = subjects[n];
        size_t off = 0;
        int ntok = rand() % 6 + 1;
        for (int t = 0; t < ntok; t++) {
            int tlen = rand() % 4 + 2;
            for (int b = 0; b < tlen; b++)
                off += (size_t)sprintf(s + off, "%02x", rand() & 0xff);
            if (t != ntok - 1) s[off++] = '.';
        }
        s[off] = 0;
        bool dupe = false;
        for (int j = 0; j < n && !dupe; j++)
            dupe = strcmp(subjects[j], s) == 0;
        if (dupe) continue;
        n++;
        cr_assert_eq(ins(st, s, 22), 0);
        cr_assert_eq(nx_stree_size(st), (size_t)n);
        for (int j = 0; j < n; j++)
            cr_assert_not_null(find(st, subjects[j]), "%s", subjects[j]);
    }
    free_tree(st);
}

Test(stree, long_tokens) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeLongTokens");
    nx_stree *st = new_tree();
    ins(st, "a1.aaaaaaaaaaaaaaaaaaaaaa0", 1);
    ins(st, "a2.0", 2);
    ins(st, "a1.aaaaaaaaaaaaaaaaaaaaaa1", 3);
    ins(st, "a2.1", 4);
    nx_stree_delete(st, S("a2.0"), NULL);
    nx_stree_delete(st, S("a2.1"), NULL);
    cr_assert_eq(nx_stree_size(st), 2);
    cr_assert_eq(*find(st, "a1.aaaaaaaaaaaaaaaaaaaaaa0"), 1);
    cr_assert_eq(*find(st, "a1.aaaaaaaaaaaaaaaaaaaaaa1"), 3);
    free_tree(st);
}

typedef struct {
    nx_stree_node *b, *c;
    bool got_b, got_c;
    int iterations;
} n48_ctx;

static bool n48_cb(void *arg, nx_stree_node *n) {
    n48_ctx *c = arg;
    c->iterations++;
    if (n == c->b) c->got_b = true;
    if (n == c->c) c->got_c = true;
    return true;
}

Test(stree, node48) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNode48");
    nx_stree_node *a = leaf("a", 1), *b = leaf("b", 2), *c = leaf("c", 3);
    nx_stree_node *n = nx_stree_node_new(NX_STREE_NODE48, NULL, 0);
    size_t cnt;
    nx_stree_node_add_child(n, 'A', a);
    cr_assert_eq(nx_stree_node48_key(n, 'A'), 1);
    cr_assert_eq(nx_stree_node_child_at(n, 0), a);
    nx_stree_node_children(n, &cnt);
    cr_assert_eq(cnt, 1);
    cr_assert_eq(*nx_stree_node_find_child(n, 'A'), a);
    nx_stree_node_add_child(n, 'B', b);
    cr_assert_eq(nx_stree_node48_key(n, 'B'), 2);
    cr_assert_eq(nx_stree_node_child_at(n, 1), b);
    nx_stree_node_children(n, &cnt);
    cr_assert_eq(cnt, 2);
    cr_assert_eq(*nx_stree_node_find_child(n, 'B'), b);
    nx_stree_node_add_child(n, 'C', c);
    cr_assert_eq(nx_stree_node48_key(n, 'C'), 3);
    cr_assert_eq(nx_stree_node_child_at(n, 2), c);
    nx_stree_node_children(n, &cnt);
    cr_assert_eq(cnt, 3);
    cr_assert_eq(*nx_stree_node_find_child(n, 'C'), c);
    nx_stree_node_delete_child(n, 'A');
    nx_stree_node_children(n, &cnt);
    cr_assert_eq(cnt, 2);
    cr_assert_eq(nx_stree_node48_key(n, 'A'), 0);
    cr_assert_eq(nx_stree_node48_key(n, 'B'), 2);
    cr_assert_eq(nx_stree_node48_key(n, 'C'), 1); /* moved to where A was */
    cr_assert_null(nx_stree_node_find_child(n, 'A'));
    cr_assert_eq(nx_stree_node_child_at(n, 0), c);
    cr_assert_eq(*nx_stree_node_find_child(n, 'B'), b);
    cr_assert_eq(nx_stree_node_child_at(n, 1), b);
    cr_assert_eq(*nx_stree_node_find_child(n, 'C'), c);
    cr_assert_null(nx_stree_node_child_at(n, 2));
    n48_ctx ic = {b, c, false, false, 0};
    nx_stree_node_iter(n, n48_cb, &ic);
    cr_assert_eq(ic.iterations, 2);
    cr_assert(ic.got_b && ic.got_c);
    /* Off-by-one on byte 255 (Go PR 5826). */
    nx_stree_node_add_child(n, 255, c);
    cr_assert_eq(nx_stree_node48_key(n, 255), 3);
    nx_stree_node *grown = nx_stree_node_grow(n);
    cr_assert_eq(nx_stree_node_kind(grown), NX_STREE_NODE256);
    cr_assert_not_null(nx_stree_node_find_child(grown, 255));
    nx_stree_node *shrunk = nx_stree_node_shrink(n);
    cr_assert_eq(nx_stree_node_kind(shrunk), NX_STREE_NODE16);
    cr_assert_not_null(nx_stree_node_find_child(shrunk, 255));
    nx_stree_node_free_shell(grown);
    nx_stree_node_free_shell(shrunk);
    nx_stree_node_free_shell(n);
    nx_stree_node_free(a);
    nx_stree_node_free(b);
    nx_stree_node_free(c);
}

typedef struct {
    char seen[8][32];
    int n;
} dupe_ctx;

static bool dupe_cb(void *arg, const char *s, size_t l, void *v) {
    (void)v;
    dupe_ctx *c = arg;
    for (int i = 0; i < c->n; i++)
        cr_assert(!(strlen(c->seen[i]) == l && memcmp(c->seen[i], s, l) == 0),
                  "callback twice for %.*s", (int)l, s);
    memcpy(c->seen[c->n], s, l);
    c->seen[c->n++][l] = 0;
    return true;
}

Test(stree, match_no_callback_dupe) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchNoCallbackDupe");
    nx_stree *st = new_tree();
    ins(st, "foo.bar.A", 1);
    ins(st, "foo.bar.B", 1);
    ins(st, "foo.bar.C", 1);
    ins(st, "foo.bar.>", 1);
    const char *filters[] = {">", "foo.>", "foo.bar.>"};
    for (int i = 0; i < 3; i++) {
        dupe_ctx c = {.n = 0};
        nx_stree_match(st, filters[i], strlen(filters[i]), dupe_cb, &c);
        cr_assert_eq(c.n, 4);
    }
    free_tree(st);
}

Test(stree, nil_no_panic) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeNilNoPanic");
    int v = 22, n = 0;
    nx_stree_match(NULL, S("foo"), count_cb, &n);
    cr_assert_null(nx_stree_find(NULL, S("foo")));
    cr_assert_not(nx_stree_delete(NULL, S("foo"), NULL));
    cr_assert_lt(nx_stree_insert(NULL, S("foo"), &v, NULL), 0);
    cr_assert_eq(n, 0);
}

Test(stree, insert_longer_leaf_suffix_with_trailing_nulls) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeInsertLongerLeafSuffixWithTrailingNulls");
    nx_stree *st = new_tree();
    char subj[32] = "foo.bar.baz_";
    size_t len = strlen(subj) + 10; /* ten NULs */
    char subj2[40];
    memcpy(subj2, subj, len);
    subj2[len] = 0; /* one more NUL (what Go's loop ends up appending) */
    int v1 = 1, v2 = 2;
    nx_stree_insert(st, subj, len, &v1, NULL);
    nx_stree_insert(st, subj2, len + 1, &v2, NULL);
    cr_assert_eq(*(int *)nx_stree_find(st, subj, len), 1);
    cr_assert_eq(*(int *)nx_stree_find(st, subj2, len + 1), 2);
    free_tree(st);
}

Test(stree, insert_with_no_pivot) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeInsertWithNoPivot");
    nx_stree *st = new_tree();
    char subj[] = "foo.bar.baz.\x7f";
    int v = 22;
    cr_assert_lt(nx_stree_insert(st, subj, strlen(subj), &v, NULL), 0);
    cr_assert_eq(nx_stree_size(st), 0);
    free_tree(st);
}

Test(stree, match_has_fwc_no_panic) {
    GO_TEST("server/stree/stree_test.go", "TestSubjectTreeMatchHasFWCNoPanic");
    nx_stree *st = new_tree();
    ins(st, "foo", 1);
    MATCH(st, ".", 0);
    free_tree(st);
}
