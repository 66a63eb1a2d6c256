/* Shared helpers for the memory store unit tests (test_memstore*.c): the memory-store factory
 * for the shared suite (tests/unit/store_suite.h), open/put/state shorthands and constants. */
#ifndef NX_TESTS_MEMSTORE_TEST_UTIL_H
#define NX_TESTS_MEMSTORE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/gotest.h"
#include "common/subject.h"
#include "storaged/store.h"
#include "tests/unit/store_suite.h"

#define SEC 1000000000LL
#define MSEC 1000000LL
#define SUBJECTS(...)                                                                              \
    (const char *const[]){__VA_ARGS__},                                                            \
        (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

static inline int mem_open(void *arg, const sd_stream_config *cfg, const sd_store_env *env,
                           sd_store **out) {
    (void)arg;
    return sd_memstore_open(cfg, env, out);
}

static const sd_suite_factory mem_factory = {"memory", SD_STORAGE_MEMORY, mem_open, NULL, NULL,
                                             NULL};

/* A memory store; with clk == NULL it uses the real clock. */
static inline sd_store *open_ms(sd_stream_config *cfg, sd_fake_clock *clk) {
    return sd_suite_open(&mem_factory, cfg, clk);
}

static inline uint64_t put(sd_store *st, const char *subj, const char *msg) {
    return sd_suite_store(st, subj, msg);
}

/* The store's State(); the deleted list stays valid until the next call (tests only). */
static inline sd_stream_state state_of(sd_store *st) {
    static sd_stream_state last;
    sd_stream_state_free(&last);
    sd_store_state(st, &last);
    return last;
}

static inline uint64_t u64_rand(uint64_t n) {
    return (((uint64_t)rand() << 31) ^ (uint64_t)rand()) % n;
}

static inline void expect_deleted(const sd_stream_state *s, const uint64_t *want, size_t n) {
    cr_assert_eq(s->deleted_len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(s->deleted[i], want[i]);
}

#endif
