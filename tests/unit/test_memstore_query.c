/* Unit tests for the memory store (storaged/memstore*.c), part 2: ports of Go nats-server
 * v2.14.5 server/memstore_test.go covering the query paths: NumPending (single and multi
 * filter), MultiLastSeqs/AllLastSeqs, sequence lookups, purges with deletes, TTLs, subject
 * delete markers and the next wildcard/literal match helpers. */

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
#include "tests/unit/memstore_test_util.h"

/* Brute force over all messages, as Go's sanity checks do. */
static sd_simple_state scan_state(sd_store *st, uint64_t sseq, uint64_t last_seq,
                                  const char *filter, bool last_only) {
    sd_simple_state ss = {0};
    sd_store_msg sm = {0};
    if (sseq == 0) sseq = 1;
    nx_filter_set seen;
    nx_filter_set_init(&seen);
    if (!last_only) {
        for (uint64_t seq = sseq; seq <= last_seq; seq++) {
            if (sd_store_load_msg(st, seq, &sm) != 0) continue;
            if (!nx_subject_subset_match(sm.subj, sm.subj_len, filter, strlen(filter))) continue;
            ss.msgs++;
            ss.last = seq;
            if (ss.first == 0 || seq < ss.first) ss.first = seq;
        }
    } else {
        for (uint64_t seq = last_seq; seq >= sseq; seq--) {
            if (sd_store_load_msg(st, seq, &sm) != 0) continue;
            if (nx_filter_set_has_interest(&seen, sm.subj, sm.subj_len)) continue;
            if (!nx_subject_subset_match(sm.subj, sm.subj_len, filter, strlen(filter))) continue;
            ss.msgs++;
            if (ss.last == 0) ss.last = seq;
            if (ss.first == 0 || seq < ss.first) ss.first = seq;
            nx_filter_set_add(&seen, sm.subj, sm.subj_len);
        }
    }
    nx_filter_set_destroy(&seen);
    sd_store_msg_free(&sm);
    return ss;
}

Test(memstore, num_pending) {
    GO_TEST("server/memstore_test.go", "TestMemStoreNumPending");
    srand(12);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("*.*.*.*")};
    sd_store *st = open_ms(&cfg, NULL);
    const char *toks[] = {"foo", "bar", "baz"};
    char subj[64];
    for (int i = 0; i < 50000; i++) {
        snprintf(subj, sizeof subj, "%s.%s.%s.%s", toks[rand() % 3], toks[rand() % 3],
                 toks[rand() % 3], toks[rand() % 3]);
        put(st, subj, "Hello World");
    }
    sd_stream_state s = state_of(st);
    uint64_t starts[] = {0, 1, 2, 200, 444, 555, 2222, 8888, 12345, 28222, 33456, 44400, 49999};
    const char *filters[] = {"foo.>",   "*.bar.>",     "foo.bar.*.baz",
                             "*.bar.>", "*.foo.bar.*", "foo.foo.bar.baz"};
    for (size_t f = 0; f < 6; f++) {
        for (size_t i = 0; i < 13; i++) {
            uint64_t np, lvs;
            cr_assert_eq(sd_store_num_pending(st, starts[i], filters[f], false, &np, &lvs), 0);
            sd_simple_state ss;
            sd_store_filtered_state(st, starts[i], filters[f], &ss);
            sd_simple_state want = scan_state(st, starts[i], s.last_seq, filters[f], false);
            cr_assert_eq(lvs, s.last_seq);
            cr_assert_eq(ss.msgs, np);
            cr_assert(ss.msgs == want.msgs && ss.first == want.first && ss.last == want.last,
                      "%s from %llu: got %llu/%llu/%llu want %llu/%llu/%llu", filters[f],
                      (unsigned long long)starts[i], (unsigned long long)ss.msgs,
                      (unsigned long long)ss.first, (unsigned long long)ss.last,
                      (unsigned long long)want.msgs, (unsigned long long)want.first,
                      (unsigned long long)want.last);
            cr_assert_eq(sd_store_num_pending(st, starts[i], filters[f], true, &np, &lvs), 0);
            want = scan_state(st, starts[i], s.last_seq, filters[f], true);
            cr_assert_eq(lvs, s.last_seq);
            cr_assert_eq(np, want.msgs, "last-only %s from %llu: %llu want %llu", filters[f],
                         (unsigned long long)starts[i], (unsigned long long)np,
                         (unsigned long long)want.msgs);
        }
    }
    sd_store_free(st);
}

Test(memstore, initial_first_seq) {
    GO_TEST("server/memstore_test.go", "TestMemStoreInitialFirstSeq");
    sd_stream_config cfg = {.name = "zzz", .first_seq = 1000};
    sd_store *st = open_ms(&cfg, NULL);
    cr_assert_eq(put(st, "A", "OK"), 1000);
    cr_assert_eq(put(st, "B", "OK"), 1001);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert(s.msgs == 2 && s.first_seq == 1000 && s.last_seq == 1001);
    sd_store_free(st);
}

Test(memstore, delete_blocks) {
    GO_TEST("server/memstore_test.go", "TestMemStoreDeleteBlocks");
    srand(13);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10000; i++)
        put(st, "A", "OK");
    int deleted = 0;
    while (deleted < 5000)
        if (sd_store_remove_msg(st, u64_rand(10000) + 1) == 1) deleted++;
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert_eq(st->ops->dmap_entries(st), s.num_deleted);
    sd_store_free(st);
}

Test(memstore, get_seq_from_time_with_last_deleted) {
    GO_TEST("server/memstore_test.go", "TestMemStoreGetSeqFromTimeWithLastDeleted");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*")};
    sd_store *st = open_ms(&cfg, &clk);
    int64_t t = 0;
    for (int i = 1; i <= 1000; i++) {
        put(st, "A", "OK");
        if (i == 500) {
            clk.now += 100 * MSEC;
            t = clk.now;
        }
    }
    for (uint64_t seq = 900; seq <= 1000; seq++)
        sd_store_remove_msg(st, seq);
    cr_assert_eq(sd_store_get_seq_from_time(st, t), 501);
    sd_store_free(st);
}

Test(memstore, skip_msgs) {
    GO_TEST("server/memstore_test.go", "TestMemStoreSkipMsgs");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*")};
    sd_store *st = open_ms(&cfg, NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 10, 100), SD_ERR_SEQUENCE_MISMATCH);
    cr_assert_eq(sd_store_skip_msgs(st, 1, 100), 0);
    sd_stream_state s = state_of(st);
    cr_assert(s.first_seq == 101 && s.last_seq == 100);
    cr_assert_eq(sd_store_skip_msgs(st, 101, 100000), 0);
    s = state_of(st);
    cr_assert(s.first_seq == 100101 && s.last_seq == 100100);
    sd_store_free(st);
    /* With a message, skips become interior deletes. */
    st = open_ms(&cfg, NULL);
    put(st, "foo", NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 2, 10), 0);
    s = state_of(st);
    cr_assert(s.first_seq == 1 && s.last_seq == 11 && s.msgs == 1);
    cr_assert_eq(s.num_deleted, 10);
    cr_assert_eq(s.deleted_len, 10);
    sd_store_fast_state(st, &s);
    cr_assert(s.first_seq == 1 && s.last_seq == 11 && s.msgs == 1 && s.num_deleted == 10);
    sd_store_free(st);
}

static void check_seqs(sd_store *st, const char *const *filters, size_t nf, uint64_t max_seq,
                       const uint64_t *want, size_t nwant) {
    uint64_t *seqs;
    size_t n;
    cr_assert_eq(sd_store_multi_last_seqs(st, filters, nf, max_seq, -1, &seqs, &n), 0);
    cr_assert_eq(n, nwant, "%s max %llu: %zu results, want %zu", filters[0],
                 (unsigned long long)max_seq, n, nwant);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(seqs[i], want[i]);
    free(seqs);
}

#define SEQS(...) (const uint64_t[]){__VA_ARGS__}, sizeof((uint64_t[]){__VA_ARGS__}) / 8
#define NONE NULL, 0

Test(memstore, multi_last_seqs) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMultiLastSeqs");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*", "bar.*")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 33; i++) {
        put(st, "foo.foo", "abc");
        put(st, "foo.bar", "abc");
        put(st, "foo.baz", "abc");
    }
    for (int i = 0; i < 33; i++) {
        put(st, "bar.foo", "abc");
        put(st, "bar.bar", "abc");
        put(st, "bar.baz", "abc");
    }
    const char *fw[] = {"foo.*"}, *bw[] = {"bar.*"};
    const char *fl[] = {"foo.foo", "foo.bar", "foo.baz"}, *bl[] = {"bar.foo", "bar.bar", "bar.baz"};
    check_seqs(st, fw, 1, 3, SEQS(1, 2, 3));
    check_seqs(st, fw, 1, 0, SEQS(97, 98, 99));
    check_seqs(st, bw, 1, 0, SEQS(196, 197, 198));
    check_seqs(st, bw, 1, 99, NONE);
    check_seqs(st, fl, 3, 3, SEQS(1, 2, 3));
    check_seqs(st, fl, 3, 0, SEQS(97, 98, 99));
    check_seqs(st, bl, 3, 0, SEQS(196, 197, 198));
    check_seqs(st, bl, 3, 99, NONE);
    check_seqs(st, fl, 1, 3, SEQS(1));
    const char *dup1[] = {"foo.*", "foo.bar"}, *dup2[] = {"bar.>", "bar.bar", "bar.baz"};
    check_seqs(st, dup1, 2, 3, SEQS(1, 2, 3));
    check_seqs(st, dup2, 3, 0, SEQS(196, 197, 198));
    const char *all[] = {">"};
    check_seqs(st, all, 1, 0, SEQS(97, 98, 99, 196, 197, 198));
    check_seqs(st, all, 1, 99, SEQS(97, 98, 99));
    sd_store_free(st);
}

Test(memstore, multi_last_seqs_max_allowed) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMultiLastSeqsMaxAllowed");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = open_ms(&cfg, NULL);
    char subj[32];
    for (int i = 1; i <= 100; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i);
        put(st, subj, "abc");
    }
    const char *f[] = {"foo.*"};
    uint64_t *seqs = (uint64_t *)1;
    size_t n;
    cr_assert_eq(sd_store_multi_last_seqs(st, f, 1, 0, 10, &seqs, &n), SD_ERR_TOO_MANY_RESULTS);
    cr_assert_null(seqs);
    cr_assert_str_eq(sd_strerror(SD_ERR_TOO_MANY_RESULTS), "too many matching results for request");
    sd_store_free(st);
}

Test(memstore, purge_ex_with_deleted_msgs) {
    GO_TEST("server/memstore_test.go", "TestMemStorePurgeExWithDeletedMsgs");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 1; i <= 10; i++)
        put(st, "foo", "abc");
    sd_store_remove_msg(st, 2);
    sd_store_remove_msg(st, 9); /* the bug: a deleted message at the bound */
    uint64_t n;
    cr_assert_eq(sd_store_purge_ex(st, "", 9, 0, &n), 0);
    cr_assert_eq(n, 7);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert(s.first_seq == 10 && s.last_seq == 10 && s.msgs == 1);
    sd_store_free(st);
}

Test(memstore, delete_all_first_sequence_check) {
    GO_TEST("server/memstore_test.go", "TestMemStoreDeleteAllFirstSequenceCheck");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 1; i <= 10; i++)
        put(st, "foo", "abc");
    for (uint64_t seq = 1; seq <= 10; seq++)
        sd_store_remove_msg(st, seq);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert(s.first_seq == 11 && s.last_seq == 10 && s.msgs == 0);
    sd_store_free(st);
}

Test(memstore, num_pending_multi) {
    /* Go stores 999-byte payloads; the size has no bearing on the counts, so 33 bytes here. */
    GO_TEST("server/memstore_test.go", "TestMemStoreNumPendingMulti");
    srand(14);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("ev.*")};
    sd_store *st = open_ms(&cfg, NULL);
    const int total_msgs = 100000, total_subjects = 10000, num_filtered = 5000;
    uint64_t start = 5000 + u64_rand(90000);
    static char subjects[10000][32];
    const char *alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < total_subjects; i++) {
        memcpy(subjects[i], "ev.", 3);
        for (int k = 0; k < 22; k++)
            subjects[i][3 + k] = alnum[rand() % 62];
        subjects[i][25] = 0;
    }
    for (int i = 0; i < total_msgs; i++)
        put(st, subjects[rand() % total_subjects], "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
    nx_filter_set fs;
    nx_filter_set_init(&fs);
    while (nx_filter_set_count(&fs) < (size_t)num_filtered) {
        const char *f = subjects[rand() % total_subjects];
        nx_filter_set_add(&fs, f, strlen(f));
    }
    uint64_t total, valid;
    cr_assert_eq(sd_store_num_pending_multi(st, start, &fs, false, &total, &valid), 0);
    uint64_t check = 0;
    sd_store_msg sm = {0};
    for (uint64_t seq = start; seq <= (uint64_t)total_msgs; seq++) {
        cr_assert_eq(sd_store_load_msg(st, seq, &sm), 0);
        if (nx_filter_set_has_interest(&fs, sm.subj, sm.subj_len)) check++;
    }
    cr_assert_eq(total, check);
    sd_store_msg_free(&sm);
    nx_filter_set_destroy(&fs);
    sd_store_free(st);
}

Test(memstore, num_pending_bug) {
    GO_TEST("server/memstore_test.go", "TestMemStoreNumPendingBug");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    sd_store *st = open_ms(&cfg, NULL);
    const char *subs[] = {"foo.foo", "foo.bar", "foo.baz", "foo.zzz"};
    for (int i = 0; i < 4; i++) {
        put(st, "foo.aaa", NULL);
        put(st, subs[i], NULL);
        put(st, subs[i], NULL);
    }
    uint64_t total, valid;
    cr_assert_eq(sd_store_num_pending(st, 4, "foo.*", false, &total, &valid), 0);
    cr_assert_eq(total, scan_state(st, 4, 12, "foo.*", false).msgs);
    sd_store_free(st);
}

Test(memstore, purge_leaks_dmap) {
    GO_TEST("server/memstore_test.go", "TestMemStorePurgeLeaksDmap");
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", NULL);
    for (uint64_t i = 2; i <= 9; i++)
        cr_assert_eq(sd_store_remove_msg(st, i), 1);
    cr_assert_eq(st->ops->dmap_entries(st), 8);
    uint64_t purged;
    cr_assert_eq(sd_store_purge(st, &purged), 0);
    cr_assert_eq(purged, 2);
    cr_assert_eq(st->ops->dmap_entries(st), 0);
    sd_store_free(st);
}

Test(memstore, message_ttl) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMessageTTL");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("test"), .allow_msg_ttl = true};
    sd_store *st = open_ms(&cfg, &clk);
    for (int i = 1; i <= 10; i++)
        cr_assert_eq(sd_store_store_msg(st, "test", 4, NULL, 0, NULL, 0, 1, NULL, NULL), 0);
    sd_stream_state s;
    sd_store_fast_state(st, &s);
    cr_assert(s.first_seq == 1 && s.last_seq == 10 && s.msgs == 10);
    sd_suite_advance(st, &clk, 2 * SEC);
    sd_store_fast_state(st, &s);
    cr_assert(s.first_seq == 11 && s.last_seq == 10 && s.msgs == 0);
    sd_store_free(st);
}

typedef struct {
    sd_store *st;
    int markers, removals;
    char hdr[256];
    size_t hdr_len;
    char subj[32];
} sdm_ctx;

static void sdm_remove(void *arg, uint64_t seq) {
    sdm_ctx *c = arg;
    c->removals++;
    cr_assert_geq(sd_store_remove_msg(c->st, seq), 0);
}

static void sdm_process(void *arg, const char *subj, size_t subj_len, const uint8_t *hdr,
                        size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    (void)msg, (void)msg_len;
    sdm_ctx *c = arg;
    if (c->markers++ == 0) {
        memcpy(c->hdr, hdr, hdr_len);
        c->hdr_len = hdr_len;
        memcpy(c->subj, subj, subj_len);
        c->subj[subj_len] = 0;
    }
}

static void expect_header(const sdm_ctx *c, const char *key, const char *want) {
    size_t vl = 0;
    const uint8_t *v = sd_slice_header(key, (const uint8_t *)c->hdr, c->hdr_len, &vl);
    cr_assert_not_null(v, "header %s missing", key);
    cr_assert(vl == strlen(want) && memcmp(v, want, vl) == 0, "%s: %.*s want %s", key, (int)vl,
              (const char *)v, want);
}

Test(memstore, subject_delete_markers) {
    GO_TEST("server/memstore_test.go", "TestMemStoreSubjectDeleteMarkers");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz",
                            .subjects = SUBJECTS("test"),
                            .max_age_ns = SEC,
                            .allow_msg_ttl = true,
                            .subject_delete_marker_ttl_ns = SEC};
    sd_store *st = open_ms(&cfg, &clk);
    sdm_ctx c = {.st = st};
    sd_store_callbacks cbs = {.remove_msg = sdm_remove,
                              .remove_msg_arg = &c,
                              .process_msg = sdm_process,
                              .process_msg_arg = &c};
    sd_store_register_callbacks(st, &cbs);
    for (int i = 0; i < 3; i++)
        put(st, "test", NULL);
    sd_suite_advance(st, &clk, SEC + 500 * MSEC);
    /* The first two were removed; the last one of the subject became a marker proposal. */
    cr_assert_eq(c.removals, 2);
    cr_assert_geq(c.markers, 1);
    cr_assert_str_eq(c.subj, "test");
    expect_header(&c, "Nats-Marker-Reason", "MaxAge");
    expect_header(&c, "Nats-TTL", "1s");
    expect_header(&c, "Nats-Rollup", "sub");
    sd_store_free(st);
}

Test(memstore, all_last_seqs) {
    GO_TEST("server/memstore_test.go", "TestMemStoreAllLastSeqs");
    srand(15);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*.*"), .max_msgs_per = 50};
    sd_store *st = open_ms(&cfg, NULL);
    const char *subs[] = {"foo.foo", "foo.bar", "foo.baz", "bar.foo", "bar.bar", "bar.baz"};
    for (int i = 0; i < 100000; i++)
        put(st, subs[rand() % 6], "abc");
    uint64_t want[6];
    sd_store_msg sm = {0};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(sd_store_load_last_msg(st, subs[i], &sm), 0);
        want[i] = sm.seq;
    }
    for (int i = 0; i < 6; i++) /* sort */
        for (int j = i + 1; j < 6; j++)
            if (want[j] < want[i]) {
                uint64_t t = want[i];
                want[i] = want[j];
                want[j] = t;
            }
    uint64_t *seqs;
    size_t n;
    cr_assert_eq(sd_store_all_last_seqs(st, &seqs, &n), 0);
    cr_assert_eq(n, 6);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(seqs[i], want[i]);
    free(seqs);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

Test(memstore, update_config_ttl_state) {
    GO_TEST("server/memstore_test.go", "TestMemStoreUpdateConfigTTLState");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS(">")};
    sd_store *st = open_ms(&cfg, NULL);
    cr_assert_not(sd_memstore_has_ttl_wheel(st));
    cfg.allow_msg_ttl = true;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert(sd_memstore_has_ttl_wheel(st));
    cfg.allow_msg_ttl = false;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_not(sd_memstore_has_ttl_wheel(st));
    sd_store_free(st);
}

Test(memstore, subject_for_seq) {
    GO_TEST("server/memstore_test.go", "TestMemStoreSubjectForSeq");
    sd_stream_config cfg = {.name = "foo", .subjects = SUBJECTS("foo.>")};
    sd_store *st = open_ms(&cfg, NULL);
    cr_assert_eq(put(st, "foo.bar", NULL), 1);
    char *subj;
    cr_assert_eq(sd_store_subject_for_seq(st, 0, &subj), SD_ERR_MSG_NOT_FOUND);
    cr_assert_eq(sd_store_subject_for_seq(st, 1, &subj), 0);
    cr_assert_str_eq(subj, "foo.bar");
    free(subj);
    cr_assert_eq(sd_store_subject_for_seq(st, 2, &subj), SD_ERR_MSG_NOT_FOUND);
    sd_store_free(st);
}

static void store_n(sd_store *st, const char *subj, int n) {
    for (int i = 0; i < n; i++)
        put(st, subj, "msg");
}

static sd_store *wild_fixture(void) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.>")};
    sd_store *st = open_ms(&cfg, NULL);
    store_n(st, "foo.bar.a", 1);             /* 1 */
    store_n(st, "foo.baz.bar", 10);          /* 2-11 */
    store_n(st, "foo.bar.b", 1);             /* 12 */
    store_n(st, "foo.baz.bar", 10);          /* 13-22 */
    store_n(st, "foo.baz.bar.no.match", 10); /* 23-32 */
    return st;
}

#define EXPECT_MATCH(fn, filter, start, want_found, want_first, want_last)                         \
    do {                                                                                           \
        uint64_t f_, l_;                                                                           \
        bool ok_ = fn(st, filter, start, &f_, &l_);                                                \
        cr_assert_eq(ok_, want_found, "%s from %d", filter, (int)(start));                         \
        if ((want_first) != (uint64_t)-1) {                                                        \
            cr_assert_eq(f_, want_first, "%s from %d: first %llu", filter, (int)(start),           \
                         (unsigned long long)f_);                                                  \
            cr_assert_eq(l_, want_last, "%s from %d: last %llu", filter, (int)(start),             \
                         (unsigned long long)l_);                                                  \
        }                                                                                          \
    } while (0)

Test(memstore, next_wildcard_match) {
    GO_TEST("server/memstore_test.go", "TestMemStoreNextWildcardMatch");
    sd_store *st = wild_fixture();
#define W(f, s, ok, a, b) EXPECT_MATCH(sd_memstore_next_wildcard_match, f, s, ok, a, b)
    W("foo.bar.*", 0, true, 1, 12);
    W("foo.bar.*", 1, true, 1, 12);
    W("foo.bar.*", 2, true, 12, 12);
    W("foo.bar.*", 13, false, (uint64_t)-1, 0);
    W("foo.baz.*", 1, true, 2, 22);
    W("foo.baz.*", 11, true, 11, 22);
    W("foo.baz.*", 12, true, 12, 22);
    W("foo.baz.*", 22, true, 22, 22);
    W("foo.baz.*", 23, false, 0, 0);
    W("foo.nope.*", 1, false, 0, 0);
    W("foo.>", 1, true, 1, 32);
#undef W
    sd_store_free(st);
}

Test(memstore, next_literal_match) {
    GO_TEST("server/memstore_test.go", "TestMemStoreNextLiteralMatch");
    sd_store *st = wild_fixture();
#define L(f, s, ok, a, b) EXPECT_MATCH(sd_memstore_next_literal_match, f, s, ok, a, b)
    L("foo.bar.a", 0, true, 1, 1);
    L("foo.bar.a", 2, false, (uint64_t)-1, 0);
    L("foo.baz.bar", 1, true, 2, 22);
    L("foo.baz.bar", 11, true, 11, 22);
    L("foo.baz.bar", 22, true, 22, 22);
    L("foo.baz.bar", 23, false, 0, 0);
    L("foo.nope", 1, false, 0, 0);
#undef L
    sd_store_free(st);
}

Test(memstore, multi_last_seqs_does_not_use_stale_last_value) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMultiLastSeqsDoesNotUseStaleLastValue");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo", "bar", "baz")};
    sd_store *st = open_ms(&cfg, NULL);
    const char *subs[] = {"foo", "bar", "foo", " baz", "foo", "foo", "bar", "foo", "bar", "baz"};
    for (int i = 0; i < 10; i++)
        put(st, subs[i], NULL);
    const char *f[] = {"foo", "bar"};
    uint64_t *seqs;
    size_t n;
    cr_assert_eq(sd_store_multi_last_seqs(st, f, 2, 0, 0, &seqs, &n), 0);
    cr_assert(n == 2 && seqs[0] == 8);
    free(seqs);
    cr_assert_eq(sd_store_remove_msg(st, 8), 1);
    cr_assert_eq(sd_store_multi_last_seqs(st, f, 2, 0, 0, &seqs, &n), 0);
    cr_assert(n == 2 && seqs[0] == 6);
    free(seqs);
    sd_store_free(st);
}

Test(memstore, multi_last_seqs_does_not_reorder_config_subjects) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMultiLastSeqsDoesNotReorderConfigSubjects");
    const char *subjects[] = {"orders.*", "billing.*"};
    sd_stream_config cfg = {.name = "zzz", .subjects = subjects, .num_subjects = 2};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "orders.1", "x");
    put(st, "billing.1", "x");
    const char *f[] = {"orders.*", "billing.*"};
    uint64_t *seqs;
    size_t n;
    cr_assert_eq(sd_store_multi_last_seqs(st, f, 2, 0, 0, &seqs, &n), 0);
    cr_assert_eq(n, 2);
    free(seqs);
    cr_assert_str_eq(subjects[0], "orders.*");
    cr_assert_str_eq(subjects[1], "billing.*");
    cr_assert_str_eq(f[0], "orders.*");
    sd_store_free(st);
}
