/* Shared helpers for the subject tree unit tests (test_stree*.c): tree setup, insert/find
 * shorthands and a match counter. */
#ifndef NX_TESTS_STREE_TEST_UTIL_H
#define NX_TESTS_STREE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "common/stree.h"
#include "common/subject.h"

#define S(x) (x), (sizeof(x) - 1)

static inline nx_stree *new_tree(void) {
    nx_stree *t = malloc(sizeof *t);
    nx_stree_init(t, sizeof(int));
    return t;
}

static inline void free_tree(nx_stree *t) {
    nx_stree_empty(t);
    free(t);
}

static inline int ins(nx_stree *t, const char *s, int v) {
    return nx_stree_insert(t, s, strlen(s), &v, NULL);
}

static inline int *find(nx_stree *t, const char *s) {
    return nx_stree_find(t, s, strlen(s));
}

static inline bool count_cb(void *arg, const char *subj, size_t len, void *v) {
    (void)subj, (void)len, (void)v;
    (*(int *)arg)++;
    return true;
}

static inline int match_count(nx_stree *t, const char *filter) {
    int n = 0;
    nx_stree_match(t, filter, strlen(filter), count_cb, &n);
    return n;
}

#define MATCH(t, f, want) cr_assert_eq(match_count(t, f), want, "match %s", f)

static inline int kind(nx_stree *t) {
    return nx_stree_node_kind(t->root);
}

static inline void del_expect(nx_stree *st, const char *s, int want) {
    int old = -1;
    cr_assert(nx_stree_delete(st, s, strlen(s), &old), "delete %s", s);
    cr_assert_eq(old, want);
}

static inline nx_stree_node *leaf(const char *suffix, int v) {
    return nx_stree_leaf_new(suffix, strlen(suffix), &v, sizeof v);
}

#endif
