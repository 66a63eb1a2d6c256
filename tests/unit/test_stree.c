/* Unit tests for common/stree.c: ports of Go nats-server v2.14.5 server/stree/stree_test.go.
 * Go panics on node misuse become aborts here (Criterion .signal = SIGABRT). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "common/stree.h"
#include "common/subject.h"

#define S(x) (x), (sizeof(x) - 1)

static nx_stree *new_tree(void) {
    nx_stree *t = malloc(sizeof *t);
    nx_stree_init(t, sizeof(int));
    return t;
}

static void free_tree(nx_stree *t) {
    nx_stree_empty(t);
    free(t);
}

static int ins(nx_stree *t, const char *s, int v) {
    return nx_stree_insert(t, s, strlen(s), &v, NULL);
}

static int *find(nx_stree *t, const char *s) {
    return nx_stree_find(t, s, strlen(s));
}

static bool count_cb(void *arg, const char *subj, size_t len, void *v) {
    (void)subj, (void)len, (void)v;
    (*(int *)arg)++;
    return true;
}

static int match_count(nx_stree *t, const char *filter) {
    int n = 0;
    nx_stree_match(t, filter, strlen(filter), count_cb, &n);
    return n;
}

#define MATCH(t, f, want) cr_assert_eq(match_count(t, f), want, "match %s", f)

static int kind(nx_stree *t) {
    return nx_stree_node_kind(t->root);
}

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

static void del_expect(nx_stree *st, const char *s, int want) {
    int old = -1;
    cr_assert(nx_stree_delete(st, s, strlen(s), &old), "delete %s", s);
    cr_assert_eq(old, want);
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

static nx_stree_node *leaf(const char *suffix, int v) {
    return nx_stree_leaf_new(suffix, strlen(suffix), &v, sizeof v);
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
