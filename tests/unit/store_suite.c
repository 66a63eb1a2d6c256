/* The stream store test suite; see store_suite.h.
 *
 * Ports the tests of Go nats-server v2.14.5 server/store_test.go that run on every store
 * (testAllStoreAllPermutations).  File-store-only parts (restarts, index rebuilds) run only
 * when the factory provides the hooks for them.
 */
#include "tests/unit/store_suite.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000LL
#define MSEC 1000000LL
#define SUBJECTS(...)                                                                              \
    (const char *const[]){__VA_ARGS__},                                                            \
        (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

int64_t sd_fake_clock_now(void *arg) {
    sd_fake_clock *c = arg;
    int64_t t = c->now;
    c->now += c->tick;
    return t;
}

void sd_fake_clock_init(sd_fake_clock *c) {
    c->now = 1750000000LL * SEC; /* June 2025 */
    c->tick = 1000;              /* 1 us per read */
}

sd_store *sd_suite_open(const sd_suite_factory *f, sd_stream_config *cfg, sd_fake_clock *clk) {
    cfg->storage = f->type;
    sd_store_env env = {sd_fake_clock_now, clk};
    sd_store *st = NULL;
    int rc = f->open(f->arg, cfg, clk ? &env : NULL, &st);
    cr_assert_eq(rc, 0, "%s: open: %s", f->name, sd_strerror(rc));
    return st;
}

uint64_t sd_suite_store(sd_store *st, const char *subj, const char *payload) {
    uint64_t seq = 0;
    int rc = sd_store_store_msg(st, subj, strlen(subj), NULL, 0, (const uint8_t *)payload,
                                payload ? strlen(payload) : 0, 0, &seq, NULL);
    cr_assert_eq(rc, 0, "store %s: %s", subj, sd_strerror(rc));
    return seq;
}

typedef struct {
    const char *subj;
    sd_simple_state ss;
    size_t n;
    uint64_t total;
} subj_find;

static bool subj_find_cb(void *arg, const char *s, size_t l, const sd_simple_state *ss) {
    subj_find *c = arg;
    c->n++;
    c->total += ss->msgs;
    if (c->subj && strlen(c->subj) == l && memcmp(c->subj, s, l) == 0) c->ss = *ss;
    return true;
}

sd_simple_state sd_suite_subject_state(sd_store *st, const char *subj) {
    subj_find c = {subj, {0}, 0, 0};
    cr_assert_eq(sd_store_subjects_state(st, subj, subj_find_cb, &c), 0);
    return c.ss;
}

uint64_t sd_suite_subject_total(sd_store *st, const char *filter, const char *subj,
                                size_t *num_subjects) {
    subj_find c = {subj, {0}, 0, 0};
    cr_assert_eq(sd_store_subjects_totals(st, filter, subj_find_cb, &c), 0);
    if (num_subjects) *num_subjects = c.n;
    return subj ? c.ss.msgs : c.total;
}

/* Advances the clock like wall time passing, running expiry whenever the store asks. */
void sd_suite_advance(sd_store *st, sd_fake_clock *clk, int64_t ns) {
    int64_t end = clk->now + ns;
    while (clk->now < end) {
        clk->now += 50 * MSEC;
        if (clk->now > end) clk->now = end;
        if (sd_store_next_expire(st) <= clk->now) sd_store_expire(st, clk->now);
    }
}

/* --- Loads ------------------------------------------------------------------------- */

void sd_suite_load_next_msg_multi(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    char subj[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i);
        sd_suite_store(st, subj, "ZZZ");
    }
    sd_store_msg sm = {0};
    uint64_t nseq;
    /* One wildcard filter, then 1000 literal ones. */
    for (int pass = 0; pass < 2; pass++) {
        nx_filter_set fs;
        nx_filter_set_init(&fs);
        if (pass == 0) {
            nx_filter_set_add(&fs, "foo.>", 5);
        } else {
            for (int i = 0; i < 1000; i++) {
                snprintf(subj, sizeof subj, "foo.%d", i);
                nx_filter_set_add(&fs, subj, strlen(subj));
            }
        }
        for (uint64_t i = 0, seq = 1; i < 1000; i++, seq++) {
            cr_assert_eq(sd_store_load_next_msg_multi(st, &fs, seq, &sm, &nseq), 0);
            snprintf(subj, sizeof subj, "foo.%llu", (unsigned long long)i);
            cr_assert_str_eq(sm.subj, subj);
            cr_assert_eq(nseq, seq);
        }
        nx_filter_set_destroy(&fs);
    }
    /* Three individual subjects. */
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    nx_filter_set_add(&fs, "foo.2", 5);
    nx_filter_set_add(&fs, "foo.222", 7);
    nx_filter_set_add(&fs, "foo.999", 7);
    cr_assert_eq(sd_store_load_next_msg_multi(st, &fs, 1, &sm, &nseq), 0);
    cr_assert_str_eq(sm.subj, "foo.2");
    cr_assert_eq(nseq, 3);
    cr_assert_eq(sd_store_load_next_msg_multi(st, &fs, nseq + 1, &sm, &nseq), 0);
    cr_assert_str_eq(sm.subj, "foo.222");
    cr_assert_eq(nseq, 223);
    cr_assert_eq(sd_store_load_next_msg_multi(st, &fs, nseq + 1, &sm, &nseq), 0);
    cr_assert_str_eq(sm.subj, "foo.999");
    cr_assert_eq(nseq, 1000);
    cr_assert_lt(sd_store_load_next_msg_multi(st, &fs, nseq + 1, &sm, &nseq), 0);
    cr_assert_eq(nseq, 1000);
    nx_filter_set_destroy(&fs);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

void sd_suite_load_next_msg_wildcard_start_before_first_match(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("bar.*", "foo.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    char subj[32];
    /* Non-matching subjects first, so the first match is after the start. */
    for (int i = 0; i < 100; i++) {
        snprintf(subj, sizeof subj, "bar.%d", i);
        sd_suite_store(st, subj, NULL);
    }
    cr_assert_eq(sd_suite_store(st, "foo.1", NULL), 101);
    sd_store_msg sm = {0};
    uint64_t nseq;
    cr_assert_eq(sd_store_load_next_msg(st, "foo.*", true, 1, &sm, &nseq), 0);
    cr_assert_str_eq(sm.subj, "foo.1");
    cr_assert_eq(nseq, 101);
    cr_assert_lt(sd_store_load_next_msg(st, "foo.*", true, nseq + 1, &sm, &nseq), 0);
    cr_assert_eq(nseq, 101);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

void sd_suite_load_prev_msg_multi(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    char subj[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i + 1);
        sd_suite_store(st, subj, "ZZZ");
    }
    sd_stream_state state;
    sd_store_fast_state(st, &state);
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    nx_filter_set_add(&fs, "foo.5", 5);
    nx_filter_set_add(&fs, "foo.15", 6);
    nx_filter_set_add(&fs, "foo.105", 7);
    sd_store_msg sm = {0};
    int count = 0;
    for (uint64_t seq = state.last_seq; seq > 5; seq--) {
        cr_assert_eq(sd_store_load_prev_msg_multi(st, &fs, seq, &sm, &seq), 0);
        snprintf(subj, sizeof subj, "foo.%llu", (unsigned long long)sm.seq);
        cr_assert_str_eq(sm.subj, subj);
        count++;
    }
    uint64_t nseq;
    cr_assert_eq(sd_store_load_prev_msg_multi(st, &fs, 4, &sm, &nseq), SD_ERR_STORE_EOF);
    cr_assert_eq(count, 3);
    nx_filter_set_destroy(&fs);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

void sd_suite_load_prev_msg(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*", "bar.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    const char *subs[] = {"foo.1", "bar.1", "foo.2", "bar.2", "foo.3"};
    for (int i = 0; i < 5; i++)
        sd_suite_store(st, subs[i], "ZZZ");
    sd_store_msg sm = {0};
    uint64_t seq;
    cr_assert_eq(sd_store_load_prev_msg(st, "", false, 5, &sm, &seq), 0);
    cr_assert_str_eq(sm.subj, "foo.3");
    cr_assert_eq(seq, 5);
    cr_assert_eq(sd_store_load_prev_msg(st, "foo.2", false, 5, &sm, &seq), 0);
    cr_assert_str_eq(sm.subj, "foo.2");
    cr_assert_eq(seq, 3);
    cr_assert_eq(sd_store_load_prev_msg(st, "foo.*", true, 5, &sm, &seq), 0);
    cr_assert_str_eq(sm.subj, "foo.3");
    cr_assert_eq(seq, 5);
    cr_assert_eq(sd_store_load_prev_msg(st, "baz.*", true, 5, &sm, &seq), SD_ERR_STORE_EOF);
    cr_assert_eq(seq, 1);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

void sd_suite_load_prev_msg_multi_full_wildcard_skip(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    char subj[32];
    for (int i = 0; i < 10; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i + 1);
        sd_suite_store(st, subj, "ZZZ");
    }
    sd_stream_state state;
    sd_store_fast_state(st, &state);
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    cr_assert_eq(nx_filter_set_add(&fs, ">", 1), 0);
    sd_store_msg sm = {0};
    uint64_t got[16];
    size_t n = 0;
    for (uint64_t seq = state.last_seq;;) {
        uint64_t nseq;
        int rc = sd_store_load_prev_msg_multi(st, &fs, seq, &sm, &nseq);
        if (rc == SD_ERR_STORE_EOF) {
            cr_assert_eq(nseq, state.first_seq);
            break;
        }
        cr_assert_eq(rc, 0);
        cr_assert_eq(sm.seq, nseq);
        got[n++] = nseq;
        if (nseq == state.first_seq) {
            cr_assert_eq(sd_store_load_prev_msg_multi(st, &fs, nseq - 1, &sm, &nseq),
                         SD_ERR_STORE_EOF);
            cr_assert_eq(nseq, state.first_seq);
            break;
        }
        seq = nseq - 1;
    }
    cr_assert_eq(n, 10);
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(got[i], 10 - i);
    nx_filter_set_destroy(&fs);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

/* --- Per-subject state ------------------------------------------------------------------ */

static void expect_first_last(sd_store *st, const char *subj, uint64_t first, uint64_t last) {
    sd_store_msg sm = {0};
    uint64_t seq;
    cr_assert_eq(sd_store_load_next_msg(st, subj, false, 0, &sm, &seq), 0);
    cr_assert_eq(sm.seq, first, "first %llu want %llu", (unsigned long long)sm.seq,
                 (unsigned long long)first);
    cr_assert_eq(sd_store_load_last_msg(st, subj, &sm), 0);
    cr_assert_eq(sm.seq, last, "last %llu want %llu", (unsigned long long)sm.seq,
                 (unsigned long long)last);
    sd_store_msg_free(&sm);
}

static void expect_ss(sd_store *st, uint64_t msgs, uint64_t first, uint64_t last) {
    sd_simple_state ss = sd_suite_subject_state(st, "foo");
    cr_assert_eq(ss.msgs, msgs);
    cr_assert_eq(ss.first, first);
    cr_assert_eq(ss.last, last);
    expect_first_last(st, "foo", first, last);
}

static void remove_ok(sd_store *st, uint64_t seq) {
    cr_assert_eq(sd_store_remove_msg(st, seq), 1, "remove %llu", (unsigned long long)seq);
}

void sd_suite_subject_state_consistency(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 4; i++)
        sd_suite_store(st, "foo", NULL);
    expect_ss(st, 4, 1, 4);
    remove_ok(st, 1); /* first becomes lazy */
    expect_ss(st, 3, 2, 4);
    remove_ok(st, 4); /* last becomes lazy */
    expect_ss(st, 2, 2, 3);
    remove_ok(st, 2);
    expect_ss(st, 1, 3, 3);
    for (int i = 0; i < 3; i++)
        sd_suite_store(st, "foo", NULL);
    expect_ss(st, 4, 3, 7);
    remove_ok(st, 7);
    remove_ok(st, 3);
    remove_ok(st, 5); /* both lazy now */
    expect_ss(st, 1, 6, 6);
    sd_suite_store(st, "foo", NULL);
    remove_ok(st, 8);
    sd_suite_store(st, "foo", NULL); /* the new last resets the lazy last */
    expect_ss(st, 2, 6, 9);
    sd_store_free(st);
}

static void expect_raw(sd_store *st, uint64_t msgs, uint64_t first, uint64_t last, bool fnu,
                       bool lnu, uint64_t seq) {
    if (st->ops->raw_subject_state) {
        sd_simple_state ss;
        cr_assert(st->ops->raw_subject_state(st, "foo", &ss));
        cr_assert_eq(ss.msgs, msgs);
        cr_assert_eq(ss.first, first);
        cr_assert_eq(ss.last, last);
        cr_assert_eq(ss.first_needs_update, fnu);
        cr_assert_eq(ss.last_needs_update, lnu);
    }
    expect_first_last(st, "foo", seq, seq);
}

void sd_suite_subject_state_consistency_optimization(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 3; i++)
        sd_suite_store(st, "foo", NULL);
    remove_ok(st, 2);
    remove_ok(st, 1);
    expect_raw(st, 1, 3, 3, false, false, 3);
    for (int i = 0; i < 2; i++)
        sd_suite_store(st, "foo", NULL);
    remove_ok(st, 3);
    remove_ok(st, 5);
    expect_raw(st, 1, 3, 5, true, true, 4);
    for (int i = 0; i < 2; i++)
        sd_suite_store(st, "foo", NULL);
    remove_ok(st, 7);
    remove_ok(st, 4);
    expect_raw(st, 1, 4, 7, true, true, 6);
    for (int i = 0; i < 2; i++)
        sd_suite_store(st, "foo", NULL);
    remove_ok(st, 9);
    remove_ok(st, 8);
    expect_raw(st, 1, 6, 6, false, false, 6);
    sd_store_free(st);
}

void sd_suite_max_msgs_per_update_bug(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo"), .max_msgs_per = 0};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 5; i++)
        sd_suite_store(st, "foo", NULL);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert(s.msgs == 5 && s.first_seq == 1 && s.last_seq == 5);
    sd_stream_state_free(&s);
    /* From unlimited to 1: enforced on update. */
    cfg.max_msgs_per = 1;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    sd_store_state(st, &s);
    cr_assert(s.msgs == 1 && s.first_seq == 5 && s.last_seq == 5);
    sd_stream_state_free(&s);
    /* An invalid value (< -1) is normalised. */
    cfg.max_msgs_per = -2;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_eq(cfg.max_msgs_per, -1);
    sd_store_free(st);
}

void sd_suite_max_msgs_per_update_to_one_remove_newest(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo.*"), .max_msgs_per = -1};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    sd_suite_store(st, "foo.0", NULL);
    /* Large fillers so a file store puts the copies of foo.0 in different blocks. */
    size_t big = (size_t)1024 * 1024;
    uint8_t *msg = calloc(1, big);
    char subj[16];
    for (int i = 1; i <= 9; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i);
        cr_assert_eq(sd_store_store_msg(st, subj, strlen(subj), NULL, 0, msg, big, 0, NULL, NULL),
                     0);
    }
    uint64_t nseq = sd_suite_store(st, "foo.0", NULL);
    for (int i = 1; i <= 9; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i);
        cr_assert_eq(sd_store_store_msg(st, subj, strlen(subj), NULL, 0, msg, big, 0, NULL, NULL),
                     0);
    }
    free(msg);
    uint64_t lseq = sd_suite_store(st, "foo.0", NULL);
    remove_ok(st, lseq);
    cfg.max_msgs_per = 1;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    sd_simple_state ss = sd_suite_subject_state(st, "foo.0");
    cr_assert_eq(ss.msgs, 1);
    cr_assert_eq(ss.first, nseq);
    cr_assert_eq(ss.last, nseq);
    expect_first_last(st, "foo.0", nseq, nseq);
    /* The older copy must also be found after a restart. */
    if (f->reopen) {
        cr_assert_eq(f->reopen(f->arg, &cfg, NULL, &st), 0);
        expect_first_last(st, "foo.0", nseq, nseq);
    }
    sd_store_free(st);
}

/* --- Compact, truncate, purge -------------------------------------------------------------- */

static size_t dmap_entries(sd_store *st) {
    return st->ops->dmap_entries ? st->ops->dmap_entries(st) : 0;
}

void sd_suite_compact_cleans_up_dmap(const sd_suite_factory *f) {
    for (uint64_t cseq = 2; cseq <= 4; cseq++) {
        sd_fake_clock clk;
        sd_fake_clock_init(&clk);
        sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
        sd_store *st = sd_suite_open(f, &cfg, &clk);
        for (int i = 0; i < 3; i++)
            sd_suite_store(st, "foo", NULL);
        cr_assert_eq(dmap_entries(st), 0);
        remove_ok(st, 2); /* an interior delete */
        if (st->ops->dmap_entries) cr_assert_eq(dmap_entries(st), 1);
        uint64_t purged;
        cr_assert_eq(sd_store_compact(st, cseq, &purged), 0);
        cr_assert_eq(dmap_entries(st), 0, "Compact(%llu)", (unsigned long long)cseq);
        sd_stream_state s;
        sd_store_state(st, &s);
        cr_assert_eq(s.first_seq, cseq > 3 ? cseq : 3);
        cr_assert_eq(s.last_seq, 3);
        sd_stream_state_free(&s);
        sd_store_free(st);
    }
}

void sd_suite_compact_fully_deleted_range(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 3; i++)
        sd_suite_store(st, "foo", NULL);
    remove_ok(st, 2);
    remove_ok(st, 3);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert(s.first_seq == 1 && s.last_seq == 3);
    sd_stream_state_free(&s);
    uint64_t purged;
    cr_assert_eq(sd_store_compact(st, 2, &purged), 0);
    sd_store_state(st, &s);
    cr_assert_eq(s.msgs, 0);
    cr_assert_eq(s.last_seq, 3);
    cr_assert_eq(s.first_seq, s.last_seq + 1);
    cr_assert_eq(s.first_ts, 0);
    sd_stream_state_free(&s);
    sd_store_free(st);
}

void sd_suite_truncate_cleans_up_dmap(const sd_suite_factory *f) {
    for (uint64_t tseq = 0; tseq <= 1; tseq++) {
        sd_fake_clock clk;
        sd_fake_clock_init(&clk);
        sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
        sd_store *st = sd_suite_open(f, &cfg, &clk);
        for (int i = 0; i < 3; i++)
            sd_suite_store(st, "foo", NULL);
        cr_assert_eq(dmap_entries(st), 0);
        remove_ok(st, 2);
        if (st->ops->dmap_entries) cr_assert_eq(dmap_entries(st), 1);
        cr_assert_eq(sd_store_truncate(st, tseq), 0);
        cr_assert_eq(dmap_entries(st), 0, "Truncate(%llu)", (unsigned long long)tseq);
        sd_stream_state s;
        sd_store_state(st, &s);
        cr_assert_eq(s.first_seq, tseq < 1 ? tseq : 1);
        cr_assert_eq(s.last_seq, tseq);
        sd_stream_state_free(&s);
        sd_store_free(st);
    }
}

static void expect_fl(sd_store *st, uint64_t first, uint64_t last) {
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_eq(s.first_seq, first);
    cr_assert_eq(s.last_seq, last);
    sd_stream_state_free(&s);
}

void sd_suite_purge_ex_zero(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    uint64_t purged;
    cr_assert_eq(sd_store_purge(st, &purged), 0);
    expect_fl(st, 1, 0);
    /* PurgeEx with sequence 0 is the same. */
    cr_assert_eq(sd_store_purge_ex(st, "", 0, 0, &purged), 0);
    expect_fl(st, 1, 0);
    sd_store_free(st);
}

void sd_suite_purge_ex_sequence_one(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo", "bar")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 5; i++) {
        sd_suite_store(st, "foo", NULL);
        sd_suite_store(st, "bar", NULL);
    }
    sd_stream_state before, after;
    sd_store_fast_state(st, &before);
    const struct {
        const char *subj;
        uint64_t keep;
    } cases[] = {{"", 0}, {">", 0}, {"foo", 0}, {"", 3}, {"foo", 3}};
    for (size_t i = 0; i < 5; i++) {
        uint64_t n = 99;
        cr_assert_eq(sd_store_purge_ex(st, cases[i].subj, 1, cases[i].keep, &n), 0);
        cr_assert_eq(n, 0, "case %zu", i);
        sd_store_fast_state(st, &after);
        cr_assert_eq(after.msgs, before.msgs);
        cr_assert_eq(after.first_seq, before.first_seq);
        cr_assert_eq(after.last_seq, before.last_seq);
    }
    sd_store_free(st);
}

void sd_suite_purge_ex_keep_with_interior_deletes(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 50; i++)
        sd_suite_store(st, "foo", NULL);
    for (uint64_t seq = 2; seq <= 50; seq += 2)
        sd_store_remove_msg(st, seq);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert(s.msgs == 25 && s.first_seq == 1 && s.last_seq == 50);
    sd_stream_state_free(&s);
    /* Keep the newest 5: 41, 43, 45, 47, 49. */
    uint64_t n;
    cr_assert_eq(sd_store_purge_ex(st, "", 0, 5, &n), 0);
    cr_assert_eq(n, 20);
    sd_store_state(st, &s);
    cr_assert(s.msgs == 5 && s.first_seq == 41 && s.last_seq == 50);
    sd_stream_state_free(&s);
    sd_store_free(st);
}

/* --- Config and TTLs --------------------------------------------------------------------- */

void sd_suite_update_config_ttl_state(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    sd_store_msg sm = {0};
    uint64_t seq;
    /* TTLs disabled: the message survives. */
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 1, &seq, NULL), 0);
    sd_suite_advance(st, &clk, 2 * SEC);
    cr_assert_eq(sd_store_load_msg(st, seq, &sm), 0);
    /* Enabled: it goes. */
    cfg.allow_msg_ttl = true;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 1, &seq, NULL), 0);
    sd_suite_advance(st, &clk, 2 * SEC);
    cr_assert_lt(sd_store_load_msg(st, seq, &sm), 0);
    /* Disabled again: it survives. */
    cfg.allow_msg_ttl = false;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 1, &seq, NULL), 0);
    sd_suite_advance(st, &clk, 2 * SEC);
    cr_assert_eq(sd_store_load_msg(st, seq, &sm), 0);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

typedef enum { ACT_REMOVE, ACT_ERASE, ACT_TOMBSTONE, ACT_SKIP, ACT_SKIPS } interior_action;

static void same_state(const sd_stream_state *a, const sd_stream_state *b) {
    cr_assert_eq(a->msgs, b->msgs);
    cr_assert_eq(a->bytes, b->bytes);
    cr_assert_eq(a->first_seq, b->first_seq);
    cr_assert_eq(a->last_seq, b->last_seq);
    cr_assert_eq(a->first_ts, b->first_ts);
    cr_assert_eq(a->last_ts, b->last_ts);
    cr_assert_eq(a->num_deleted, b->num_deleted);
    cr_assert_eq(a->deleted_len, b->deleted_len);
    for (size_t i = 0; i < a->deleted_len; i++)
        cr_assert_eq(a->deleted[i], b->deleted[i]);
}

void sd_suite_stream_interior_delete_accounting(const sd_suite_factory *f) {
    for (int empty = 0; empty <= 1; empty++) {
        for (int act = ACT_REMOVE; act <= ACT_SKIPS; act++) {
            sd_fake_clock clk;
            sd_fake_clock_init(&clk);
            sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
            sd_store *st = sd_suite_open(f, &cfg, &clk);
            uint64_t lseq = 0;
            if (!empty) cr_assert_eq(lseq = sd_suite_store(st, "foo", NULL), 1);
            lseq++;
            if (act <= ACT_TOMBSTONE) {
                cr_assert_eq(sd_suite_store(st, "foo", NULL), lseq);
                int rc = act == ACT_ERASE ? sd_store_erase_msg(st, lseq)
                         : act == ACT_TOMBSTONE && f->remove_with_tombstone
                             ? f->remove_with_tombstone(f->arg, st, lseq)
                             : sd_store_remove_msg(st, lseq);
                cr_assert_eq(rc, 1);
                cr_assert_eq(sd_store_truncate(st, lseq), 0);
            } else if (act == ACT_SKIP) {
                uint64_t s;
                sd_store_skip_msg(st, 0, &s);
            } else {
                cr_assert_eq(sd_store_skip_msgs(st, lseq, 1), 0);
            }
            sd_stream_state before;
            sd_store_state(st, &before);
            if (empty) {
                cr_assert(before.msgs == 0 && before.first_seq == 2 && before.last_seq == 1,
                          "empty, action %d", act);
            } else {
                cr_assert(before.msgs == 1 && before.first_seq == 1 && before.last_seq == 2,
                          "action %d", act);
            }
            /* A restart must give the same state. */
            if (f->reopen) {
                cr_assert_eq(f->reopen(f->arg, &cfg, NULL, &st), 0);
                sd_stream_state after;
                sd_store_state(st, &after);
                same_state(&before, &after);
                sd_stream_state_free(&after);
            }
            sd_stream_state_free(&before);
            sd_store_free(st);
        }
    }
}

/* --- DiscardNew ------------------------------------------------------------------------- */

static void discard_new_case(const sd_suite_factory *f, int64_t max_msgs, int64_t max_bytes,
                             int64_t max_per, bool new_per, int expected_err) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz",
                            .subjects = SUBJECTS("foo"),
                            .discard = SD_DISCARD_NEW,
                            .max_msgs = max_msgs,
                            .max_bytes = max_bytes,
                            .max_msgs_per = max_per,
                            .discard_new_per = new_per};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    int64_t ts = clk.now;
    uint64_t expected = 1;
    sd_stream_state s;
#define REQUIRE_STATE()                                                                            \
    do {                                                                                           \
        sd_store_fast_state(st, &s);                                                               \
        cr_assert_eq(s.msgs, 1);                                                                   \
        cr_assert_eq(s.first_seq, expected);                                                       \
        cr_assert_eq(s.last_seq, expected);                                                        \
    } while (0)
    sd_suite_store(st, "foo", NULL);
    int rc = sd_store_store_raw_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, ts, 0, true);
    if (expected_err == 0) {
        cr_assert_eq(rc, 0);
        expected++;
    } else {
        cr_assert_eq(rc, expected_err, "got %s", sd_strerror(rc));
    }
    REQUIRE_STATE();
    /* Followers must take what the leader sent: no DiscardNew check. */
    cr_assert_eq(sd_store_store_raw_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, ts, 0, false), 0);
    expected++;
    /* DiscardNew only adds, unless a per-subject limit replaces. */
    if (max_per > 0) {
        REQUIRE_STATE();
    } else {
        sd_store_fast_state(st, &s);
        cr_assert_eq(s.msgs, 2);
        cr_assert_eq(s.first_seq, expected - 1);
        cr_assert_eq(s.last_seq, expected);
    }
#undef REQUIRE_STATE
    sd_store_free(st);
}

void sd_suite_discard_new(const sd_suite_factory *f) {
    discard_new_case(f, 1, 0, 0, false, SD_ERR_MAX_MSGS);
    discard_new_case(f, 0, 33, 0, false, SD_ERR_MAX_BYTES);
    discard_new_case(f, 0, 0, 1, false, 0);
    discard_new_case(f, 0, 0, 1, true, SD_ERR_MAX_MSGS_PER_SUBJECT);
    /* Without DiscardNewPer the new message may replace the old one if it fits. */
    discard_new_case(f, 1, 0, 1, false, 0);
    discard_new_case(f, 0, 33, 1, false, 0);
    discard_new_case(f, 1, 0, 1, true, SD_ERR_MAX_MSGS_PER_SUBJECT);
    discard_new_case(f, 0, 33, 1, true, SD_ERR_MAX_MSGS_PER_SUBJECT);
}

/* --- Time lookups and skips ------------------------------------------------------------- */

void sd_suite_get_seq_from_time_with_interior_deletes_gap(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    int64_t start = 0;
    for (int i = 0; i < 10; i++) {
        int64_t ts;
        cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, NULL, &ts), 0);
        if (i == 1) start = ts;
    }
    /* A plain binary search between sequences would land in the gap. */
    for (uint64_t seq = 4; seq <= 7; seq++)
        sd_store_remove_msg(st, seq);
    cr_assert_eq(sd_store_get_seq_from_time(st, start), 2);
    sd_store_free(st);
}

void sd_suite_get_seq_from_time_with_trailing_deletes(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    int64_t start = 0;
    for (int i = 0; i < 3; i++) {
        int64_t ts;
        cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, NULL, &ts), 0);
        if (i == 1) start = ts;
    }
    sd_store_remove_msg(st, 3);
    cr_assert_eq(sd_store_get_seq_from_time(st, start), 2);
    sd_store_free(st);
}

void sd_suite_skip_msgs_carry_forward_last_time(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    const int64_t day = 24LL * 3600 * SEC;
    int64_t old = (clk.now - 30 * day) / SEC * SEC;
    cr_assert_eq(sd_store_store_raw_msg(st, "foo", 3, NULL, 0, NULL, 0, 1, old, 0, false), 0);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.last_seq, 1);
    cr_assert_eq(s.last_ts, old);
    /* Skips do not move the last time forward. */
    cr_assert_eq(sd_store_skip_msgs(st, 2, 10), 0);
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.last_seq, 11);
    cr_assert_eq(s.last_ts, old);
    uint64_t seq;
    cr_assert_eq(sd_store_skip_msg(st, 12, &seq), 0);
    cr_assert_eq(seq, 12);
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.last_seq, 12);
    cr_assert_eq(s.last_ts, old);
    cr_assert_eq(sd_store_skip_msgs(st, 13, 5), 0);
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.last_seq, 17);
    cr_assert_eq(s.last_ts, old);
    /* Time lookups resolve across the skips. */
    int64_t newer = old + 15 * day;
    cr_assert_eq(sd_store_store_raw_msg(st, "foo", 3, NULL, 0, NULL, 0, 18, newer, 0, false), 0);
    cr_assert_eq(sd_store_get_seq_from_time(st, old), 1);
    cr_assert_eq(sd_store_get_seq_from_time(st, old + 5 * day), 18);
    cr_assert_eq(sd_store_get_seq_from_time(st, newer), 18);
    sd_store_free(st);
}

void sd_suite_skip_msgs_carry_forward_last_time_from_empty(const sd_suite_factory *f) {
    for (int multi = 0; multi <= 1; multi++) {
        sd_fake_clock clk;
        sd_fake_clock_init(&clk);
        sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
        sd_store *st = sd_suite_open(f, &cfg, &clk);
        sd_stream_state s;
        sd_store_fast_state(st, &s);
        cr_assert_eq(s.last_seq, 0);
        cr_assert_eq(s.last_ts, 0);
        /* From a zero state the skip takes the current time. */
        int64_t before = clk.now;
        uint64_t seq;
        if (multi) {
            cr_assert_eq(sd_store_skip_msgs(st, 1, 5), 0);
        } else {
            cr_assert_eq(sd_store_skip_msg(st, 0, &seq), 0);
            cr_assert_eq(seq, 1);
        }
        sd_store_fast_state(st, &s);
        cr_assert_eq(s.last_seq, multi ? 5 : 1);
        cr_assert_neq(s.last_ts, 0);
        cr_assert_geq(s.last_ts, before);
        cr_assert_leq(s.last_ts, clk.now);
        int64_t first = s.last_ts;
        /* Later skips keep it. */
        clk.now += 2 * SEC;
        cr_assert_eq(sd_store_skip_msg(st, 0, &seq), 0);
        cr_assert_eq(seq, multi ? 6 : 2);
        sd_store_fast_state(st, &s);
        cr_assert_eq(s.last_seq, multi ? 6 : 2);
        cr_assert_eq(s.last_ts, first);
        sd_store_free(st);
    }
}

void sd_suite_skip_msg_no_interest_advances_last_time(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    uint64_t seq;
    cr_assert_eq(sd_store_skip_msg_no_interest(st, 0, &seq), 0);
    cr_assert_eq(seq, 1);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.msgs, 0);
    cr_assert_eq(s.last_seq, 1);
    int64_t first = s.last_ts;
    clk.now += 2 * SEC;
    cr_assert_eq(sd_store_skip_msg_no_interest(st, 0, &seq), 0);
    cr_assert_eq(seq, 2);
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.msgs, 0);
    cr_assert_eq(s.last_seq, 2);
    cr_assert_gt(s.last_ts, first);
    sd_store_free(st);
}

void sd_suite_multi_last_seqs_and_load_last_msg_with_lazy_subject_state(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 3; i++)
        sd_suite_store(st, "foo", NULL);
    const char *filters[] = {"foo"};
    uint64_t *seqs;
    size_t n;
    cr_assert_eq(sd_store_multi_last_seqs(st, filters, 1, 0, 0, &seqs, &n), 0);
    cr_assert(n == 1 && seqs[0] == 3);
    free(seqs);
    sd_store_remove_msg(st, 3);
    cr_assert_eq(sd_store_multi_last_seqs(st, filters, 1, 0, 0, &seqs, &n), 0);
    cr_assert(n == 1 && seqs[0] == 2);
    free(seqs);
    sd_suite_store(st, "foo", NULL);
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_last_msg(st, "foo", &sm), 0);
    cr_assert_eq(sm.seq, 4);
    sd_store_remove_msg(st, 4);
    cr_assert_eq(sd_store_load_last_msg(st, "foo", &sm), 0);
    cr_assert_eq(sm.seq, 2);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

void sd_suite_num_pending_last_per_subject_exclude_overcount(const sd_suite_factory *f) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = sd_suite_open(f, &cfg, &clk);
    for (int i = 0; i < 10; i++)
        sd_suite_store(st, "foo.A", "x");              /* 1-10 */
    sd_suite_store(st, "foo.B", "x");                  /* 11 */
    sd_suite_store(st, "foo.C", "x");                  /* 12 */
    cr_assert_eq(sd_store_skip_msgs(st, 13, 87), 0);   /* 13-99 */
    sd_suite_store(st, "foo.B", "x");                  /* 100 */
    cr_assert_eq(sd_store_skip_msgs(st, 101, 899), 0); /* 101-999 */
    sd_suite_store(st, "foo.C", "x");                  /* 1000 */
    /* From 13, last per subject: foo.A is all below (0), foo.B and foo.C count 1 each. */
    uint64_t total, valid;
    cr_assert_eq(sd_store_num_pending(st, 13, "foo.*", true, &total, &valid), 0);
    cr_assert_eq(total, 2);
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    nx_filter_set_add(&fs, "foo.*", 5);
    cr_assert_eq(sd_store_num_pending_multi(st, 13, &fs, true, &total, &valid), 0);
    cr_assert_eq(total, 2);
    nx_filter_set_destroy(&fs);
    sd_store_free(st);
}
