/* Shared helpers for the sublist unit tests (test_sublist*.c), mirroring Go's newSub / newQSub
 * / newRemoteQSub / verify* helpers in server/sublist_test.go. */
#ifndef NX_TESTS_SUBLIST_TEST_UTIL_H
#define NX_TESTS_SUBLIST_TEST_UTIL_H

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

/* Defined in test_sublist.c, shared by every test_sublist*.c file. */
extern tsub pool[2048];
extern size_t npool;
extern sl_result *cur; /* the result of the last m(): released by the next m() or done() */

/* Go newQSub: an empty or NULL queue gives a plain sub. */
static inline sl_sub *new_qsub(const char *subject, const char *queue) {
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

static inline sl_sub *new_sub(const char *subject) {
    return new_qsub(subject, NULL);
}

/* Go newRemoteQSub: a routed queue sub standing for `weight` remote members. */
static inline sl_sub *new_remote_qsub(const char *subject, const char *queue, uint32_t weight) {
    sl_sub *s = new_qsub(subject, queue);
    s->qweight = weight;
    return s;
}

static inline sl_result *m(sl_sublist *sl, const char *subject) {
    sl_result_release(cur);
    cur = sl_match(sl, subject, strlen(subject));
    return cur;
}

static inline void done(sl_sublist *sl) {
    sl_result_release(cur);
    cur = NULL;
    sl_free(sl);
}

static inline int ins(sl_sublist *sl, sl_sub *s) {
    return sl_insert(sl, s);
}
static inline int rem(sl_sublist *sl, sl_sub *s) {
    return sl_remove(sl, s);
}

static inline bool has_member(sl_sub *const *v, uint32_t n, const sl_sub *s) {
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == s) return true;
    return false;
}

/* Go findQSlot. */
static inline int qslot(const sl_result *r, const char *queue) {
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

static inline void verify_qmember(const sl_result *r, const sl_sub *s) {
    int i = qslot(r, s->queue);
    cr_assert(i >= 0, "no group %s", s->queue);
    cr_assert(has_member(r->qsubs[i].subs, r->qsubs[i].n, s), "qsub %s/%s not in result",
              s->subject, s->queue);
}

static inline uint32_t qgroup_len(const sl_result *r, const char *queue) {
    int i = qslot(r, queue);
    cr_assert(i >= 0, "no group %s", queue);
    return r->qsubs[i].n;
}

#endif
