/* Unit tests for the memory store (storaged/memstore*.c): ports of Go nats-server v2.14.5
 * server/memstore_test.go, the shared suite of server/store_test.go run on the memory store,
 * and checks of the store helpers (delete blocks, state codecs, consumer state).
 * Where Go sleeps for MaxAge/TTL, a fake clock is advanced instead (store_suite.h). */
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

static int mem_open(void *arg, const sd_stream_config *cfg, const sd_store_env *env,
                    sd_store **out) {
    (void)arg;
    return sd_memstore_open(cfg, env, out);
}

static const sd_suite_factory mem_factory = {"memory", SD_STORAGE_MEMORY, mem_open, NULL, NULL,
                                             NULL};

/* A memory store; with clk == NULL it uses the real clock. */
static sd_store *open_ms(sd_stream_config *cfg, sd_fake_clock *clk) {
    return sd_suite_open(&mem_factory, cfg, clk);
}

static uint64_t put(sd_store *st, const char *subj, const char *msg) {
    return sd_suite_store(st, subj, msg);
}

/* The store's State(); the deleted list stays valid until the next call (tests only). */
static sd_stream_state state_of(sd_store *st) {
    static sd_stream_state last;
    sd_stream_state_free(&last);
    sd_store_state(st, &last);
    return last;
}

static uint64_t u64_rand(uint64_t n) {
    return (((uint64_t)rand() << 31) ^ (uint64_t)rand()) % n;
}

/* --- The shared suite (server/store_test.go) ------------------------------------------ */

/* Each case of the shared suite, run on the memory store. */
Test(memstore_suite, load_next_msg_multi) {
    GO_TEST("server/store_test.go", "TestStoreMsgLoadNextMsgMulti");
    sd_suite_load_next_msg_multi(&mem_factory);
}

Test(memstore_suite, load_next_msg_wildcard_start_before_first_match) {
    GO_TEST("server/store_test.go", "TestStoreLoadNextMsgWildcardStartBeforeFirstMatch");
    sd_suite_load_next_msg_wildcard_start_before_first_match(&mem_factory);
}

Test(memstore_suite, subject_state_consistency) {
    GO_TEST("server/store_test.go", "TestStoreSubjectStateConsistency");
    sd_suite_subject_state_consistency(&mem_factory);
}

Test(memstore_suite, subject_state_consistency_optimization) {
    GO_TEST("server/store_test.go", "TestStoreSubjectStateConsistencyOptimization");
    sd_suite_subject_state_consistency_optimization(&mem_factory);
}

Test(memstore_suite, max_msgs_per_update_bug) {
    GO_TEST("server/store_test.go", "TestStoreMaxMsgsPerUpdateBug");
    sd_suite_max_msgs_per_update_bug(&mem_factory);
}

Test(memstore_suite, max_msgs_per_update_to_one_remove_newest) {
    GO_TEST("server/store_test.go", "TestStoreMaxMsgsPerUpdateToOneRemoveNewest");
    sd_suite_max_msgs_per_update_to_one_remove_newest(&mem_factory);
}

Test(memstore_suite, compact_cleans_up_dmap) {
    GO_TEST("server/store_test.go", "TestStoreCompactCleansUpDmap");
    sd_suite_compact_cleans_up_dmap(&mem_factory);
}

Test(memstore_suite, compact_fully_deleted_range) {
    GO_TEST("server/store_test.go", "TestStoreCompactFullyDeletedRange");
    sd_suite_compact_fully_deleted_range(&mem_factory);
}

Test(memstore_suite, truncate_cleans_up_dmap) {
    GO_TEST("server/store_test.go", "TestStoreTruncateCleansUpDmap");
    sd_suite_truncate_cleans_up_dmap(&mem_factory);
}

Test(memstore_suite, purge_ex_zero) {
    GO_TEST("server/store_test.go", "TestStorePurgeExZero");
    sd_suite_purge_ex_zero(&mem_factory);
}

Test(memstore_suite, purge_ex_sequence_one) {
    GO_TEST("server/store_test.go", "TestStorePurgeExSequenceOne");
    sd_suite_purge_ex_sequence_one(&mem_factory);
}

Test(memstore_suite, purge_ex_keep_with_interior_deletes) {
    GO_TEST("server/store_test.go", "TestStorePurgeExKeepWithInteriorDeletes");
    sd_suite_purge_ex_keep_with_interior_deletes(&mem_factory);
}

Test(memstore_suite, update_config_ttl_state) {
    GO_TEST("server/store_test.go", "TestStoreUpdateConfigTTLState");
    sd_suite_update_config_ttl_state(&mem_factory);
}

Test(memstore_suite, stream_interior_delete_accounting) {
    GO_TEST("server/store_test.go", "TestStoreStreamInteriorDeleteAccounting");
    sd_suite_stream_interior_delete_accounting(&mem_factory);
}

Test(memstore_suite, load_prev_msg_multi) {
    GO_TEST("server/store_test.go", "TestStoreMsgLoadPrevMsgMulti");
    sd_suite_load_prev_msg_multi(&mem_factory);
}

Test(memstore_suite, load_prev_msg) {
    GO_TEST("server/store_test.go", "TestStoreMsgLoadPrevMsg");
    sd_suite_load_prev_msg(&mem_factory);
}

Test(memstore_suite, load_prev_msg_multi_full_wildcard_skip) {
    GO_TEST("server/store_test.go", "TestStoreMsgLoadPrevMsgMultiFullWildcardSkip");
    sd_suite_load_prev_msg_multi_full_wildcard_skip(&mem_factory);
}

Test(memstore_suite, discard_new) {
    GO_TEST("server/store_test.go", "TestStoreDiscardNew");
    sd_suite_discard_new(&mem_factory);
}

Test(memstore_suite, get_seq_from_time_with_interior_deletes_gap) {
    GO_TEST("server/store_test.go", "TestStoreGetSeqFromTimeWithInteriorDeletesGap");
    sd_suite_get_seq_from_time_with_interior_deletes_gap(&mem_factory);
}

Test(memstore_suite, get_seq_from_time_with_trailing_deletes) {
    GO_TEST("server/store_test.go", "TestStoreGetSeqFromTimeWithTrailingDeletes");
    sd_suite_get_seq_from_time_with_trailing_deletes(&mem_factory);
}

Test(memstore_suite, skip_msgs_carry_forward_last_time) {
    GO_TEST("server/store_test.go", "TestStoreSkipMsgsCarryForwardLastTime");
    sd_suite_skip_msgs_carry_forward_last_time(&mem_factory);
}

Test(memstore_suite, skip_msgs_carry_forward_last_time_from_empty) {
    GO_TEST("server/store_test.go", "TestStoreSkipMsgsCarryForwardLastTimeFromEmpty");
    sd_suite_skip_msgs_carry_forward_last_time_from_empty(&mem_factory);
}

Test(memstore_suite, skip_msg_no_interest_advances_last_time) {
    GO_TEST("server/store_test.go", "TestStoreSkipMsgNoInterestAdvancesLastTime");
    sd_suite_skip_msg_no_interest_advances_last_time(&mem_factory);
}

Test(memstore_suite, multi_last_seqs_and_load_last_msg_with_lazy_subject_state) {
    GO_TEST("server/store_test.go", "TestFileStoreMultiLastSeqsAndLoadLastMsgWithLazySubjectState");
    sd_suite_multi_last_seqs_and_load_last_msg_with_lazy_subject_state(&mem_factory);
}

Test(memstore_suite, num_pending_last_per_subject_exclude_overcount) {
    GO_TEST("server/store_test.go", "TestStoreNumPendingLastPerSubjectExcludeOvercount");
    sd_suite_num_pending_last_per_subject_exclude_overcount(&mem_factory);
}

static bool collect_seq(void *arg, uint64_t seq) {
    uint64_t **p = arg;
    *(*p)++ = seq;
    return true;
}

Test(store, delete_slice) {
    GO_TEST("server/store_test.go", "TestStoreDeleteSlice");
    uint64_t seqs[] = {2}, got[4], *p = got;
    sd_delete_block db = {.kind = SD_DB_SLICE, .seqs = seqs, .nseqs = 1};
    sd_delete_block_range(&db, collect_seq, &p);
    cr_assert_eq(p - got, 1);
    cr_assert_eq(got[0], 2);
    uint64_t first, last, num;
    sd_delete_block_state(&db, &first, &last, &num);
    cr_assert(first == 2 && last == 2 && num == 1);
}

Test(store, delete_range) {
    GO_TEST("server/store_test.go", "TestStoreDeleteRange");
    uint64_t got[4], *p = got;
    sd_delete_block db = {.kind = SD_DB_RANGE, .first = 2, .num = 1};
    sd_delete_block_range(&db, collect_seq, &p);
    cr_assert_eq(p - got, 1);
    cr_assert_eq(got[0], 2);
    uint64_t first, last, num;
    sd_delete_block_state(&db, &first, &last, &num);
    cr_assert(first == 2 && last == 2 && num == 1);
}

/* --- server/memstore_test.go ------------------------------------------------------------ */

static int64_t real_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

Test(memstore, basics) {
    GO_TEST("server/memstore_test.go", "TestMemStoreBasics");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    int64_t now = real_now(), ts;
    uint64_t seq;
    cr_assert_eq(
        sd_store_store_msg(st, "foo", 3, NULL, 0, (const uint8_t *)"Hello World", 11, 0, &seq, &ts),
        0);
    cr_assert_eq(seq, 1);
    cr_assert(ts >= now && ts <= now + 50 * MSEC, "timestamp should be current");
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 1);
    cr_assert_eq(s.bytes, sd_memstore_msg_size(3, 0, 11));
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, 1, &sm), 0);
    cr_assert_str_eq(sm.subj, "foo");
    cr_assert(sm.msg_len == 11 && memcmp(sm.msg, "Hello World", 11) == 0);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

Test(memstore, msg_limit) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMsgLimit");
    sd_stream_config cfg = {.max_msgs = 10};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", "Hello World");
    cr_assert_eq(state_of(st).msgs, 10);
    put(st, "foo", "Hello World");
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 10);
    cr_assert_eq(s.last_seq, 11);
    cr_assert_eq(s.first_seq, 2);
    sd_store_msg sm = {0};
    cr_assert_lt(sd_store_load_msg(st, 1, &sm), 0);
    sd_store_free(st);
}

Test(memstore, bytes_limit) {
    GO_TEST("server/memstore_test.go", "TestMemStoreBytesLimit");
    uint8_t msg[512] = {0};
    uint64_t size = sd_memstore_msg_size(3, 0, sizeof msg), to_store = 1024;
    sd_stream_config cfg = {.max_bytes = (int64_t)(size * to_store)};
    sd_store *st = open_ms(&cfg, NULL);
    for (uint64_t i = 0; i < to_store; i++)
        sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, to_store);
    cr_assert_eq(s.bytes, size * to_store);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL), 0);
    s = state_of(st);
    cr_assert_eq(s.msgs, to_store);
    cr_assert_eq(s.bytes, size * to_store);
    cr_assert_eq(s.first_seq, 11);
    cr_assert_eq(s.last_seq, to_store + 10);
    sd_store_free(st);
}

Test(memstore, bytes_limit_with_discard_new) {
    GO_TEST("server/memstore_test.go", "TestMemStoreBytesLimitWithDiscardNew");
    uint8_t msg[7] = {0};
    sd_stream_config cfg = {.max_bytes = 100, .discard = SD_DISCARD_NEW};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++) {
        int rc = sd_store_store_msg(st, "tiny", 4, NULL, 0, msg, sizeof msg, 0, NULL, NULL);
        if (i < 3)
            cr_assert_eq(rc, 0);
        else
            cr_assert_eq(rc, SD_ERR_MAX_BYTES);
    }
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 3);
    cr_assert_eq(s.bytes, 3 * sd_memstore_msg_size(4, 0, 7));
    cr_assert_str_eq(sd_strerror(SD_ERR_MAX_BYTES), "maximum bytes exceeded");
    sd_store_free(st);
}

Test(memstore, age_limit) {
    GO_TEST("server/memstore_test.go", "TestMemStoreAgeLimit");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.max_age_ns = 10 * MSEC};
    sd_store *st = open_ms(&cfg, &clk);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++)
            put(st, "foo", "Hello World");
        cr_assert_eq(state_of(st).msgs, 100);
        /* Let them expire: the store asks for an expiry pass within a second. */
        sd_suite_advance(st, &clk, SEC);
        sd_stream_state s = state_of(st);
        cr_assert_eq(s.msgs, 0);
        cr_assert_eq(s.bytes, 0);
    }
    sd_store_free(st);
}

Test(memstore, time_stamps) {
    GO_TEST("server/memstore_test.go", "TestMemStoreTimeStamps");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    int64_t last = real_now();
    for (int i = 0; i < 10; i++) {
        usleep(5);
        put(st, "foo", "Hello World");
    }
    sd_store_msg sm = {0};
    for (uint64_t seq = 1; seq <= 10; seq++) {
        cr_assert_eq(sd_store_load_msg(st, seq, &sm), 0);
        cr_assert_gt(sm.ts, last);
        last = sm.ts;
    }
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

Test(memstore, purge) {
    GO_TEST("server/memstore_test.go", "TestMemStorePurge");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", "Hello World");
    cr_assert_eq(state_of(st).msgs, 10);
    uint64_t n;
    cr_assert_eq(sd_store_purge(st, &n), 0);
    cr_assert_eq(n, 10);
    cr_assert_eq(state_of(st).msgs, 0);
    sd_store_free(st);
}

Test(memstore, compact) {
    GO_TEST("server/memstore_test.go", "TestMemStoreCompact");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", "Hello World");
    uint64_t n;
    cr_assert_eq(sd_store_compact(st, 6, &n), 0);
    cr_assert_eq(n, 5);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 5);
    cr_assert_eq(s.first_seq, 6);
    /* Past the end resets first too. */
    cr_assert_eq(sd_store_compact(st, 100, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(state_of(st).first_seq, 100);
    sd_store_free(st);
}

Test(memstore, erase_msg) {
    GO_TEST("server/memstore_test.go", "TestMemStoreEraseMsg");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "foo", "Hello World");
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, 1, &sm), 0);
    cr_assert(sm.msg_len == 11 && memcmp(sm.msg, "Hello World", 11) == 0);
    cr_assert_eq(sd_store_erase_msg(st, 1), 1);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

Test(memstore, msg_headers) {
    GO_TEST("server/memstore_test.go", "TestMemStoreMsgHeaders");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    const char *hdr = "name:derek", *msg = "Hello World";
    cr_assert_eq(sd_memstore_msg_size(3, strlen(hdr), strlen(msg)), 3 + 10 + 11 + 16);
    sd_store_store_msg(st, "foo", 3, (const uint8_t *)hdr, strlen(hdr), (const uint8_t *)msg,
                       strlen(msg), 0, NULL, NULL);
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, 1, &sm), 0);
    cr_assert(sm.msg_len == 11 && memcmp(sm.msg, msg, 11) == 0);
    cr_assert(sm.hdr_len == 10 && memcmp(sm.hdr, hdr, 10) == 0);
    cr_assert_eq(sd_store_erase_msg(st, 1), 1);
    sd_store_msg_free(&sm);
    sd_store_free(st);
}

static void expect_deleted(const sd_stream_state *s, const uint64_t *want, size_t n) {
    cr_assert_eq(s->deleted_len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(s->deleted[i], want[i]);
}

Test(memstore, stream_state_deleted) {
    GO_TEST("server/memstore_test.go", "TestMemStoreStreamStateDeleted");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    char msg[64];
    for (int i = 1; i <= 10; i++) {
        snprintf(msg, sizeof msg, "[%08d] Hello World!", i);
        put(st, "foo", msg);
    }
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.deleted_len, 0);
    uint64_t expected[8];
    size_t n = 0;
    for (uint64_t seq = 2; seq < 10; seq += 2) {
        sd_store_remove_msg(st, seq);
        expected[n++] = seq;
    }
    s = state_of(st);
    expect_deleted(&s, expected, n);
    /* Fill the gap by deleting 1 and 3. */
    sd_store_remove_msg(st, 1);
    sd_store_remove_msg(st, 3);
    s = state_of(st);
    expect_deleted(&s, expected + 2, n - 2);
    cr_assert_eq(s.first_seq, 5);
    uint64_t p;
    sd_store_purge(st, &p);
    s = state_of(st);
    cr_assert_eq(s.deleted_len, 0);
    sd_store_free(st);
}

Test(memstore, stream_truncate) {
    GO_TEST("server/memstore_test.go", "TestMemStoreStreamTruncate");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    uint64_t tseq = 50, to_store = 100;
    for (uint64_t i = 1; i < tseq; i++)
        put(st, "foo", "ok");
    for (uint64_t i = tseq; i <= to_store; i++)
        put(st, "bar", "ok");
    cr_assert_eq(state_of(st).msgs, to_store);
    cr_assert_eq(sd_store_truncate(st, tseq), 0);
    cr_assert_eq(state_of(st).msgs, tseq);
    /* Interior deletes are reported properly. */
    sd_store_remove_msg(st, 10);
    sd_store_remove_msg(st, 20);
    sd_store_remove_msg(st, 30);
    sd_store_remove_msg(st, 40);
    tseq = 25;
    cr_assert_eq(sd_store_truncate(st, tseq), 0);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, tseq - 2);
    cr_assert_eq(s.num_subjects, 1);
    uint64_t want[] = {10, 20};
    expect_deleted(&s, want, 2);
    sd_store_free(st);
}

Test(memstore, purge_ex_with_subject) {
    GO_TEST("server/memstore_test.go", "TestMemStorePurgeExWithSubject");
    sd_stream_config cfg = {0};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 100; i++)
        put(st, "foo", NULL);
    uint64_t n;
    cr_assert_eq(sd_store_purge_ex(st, "foo", 0, 0, &n), 0);
    cr_assert_eq(state_of(st).msgs, 0);
    sd_store_free(st);
}

Test(memstore, update_max_msgs_per_subject) {
    GO_TEST("server/memstore_test.go", "TestMemStoreUpdateMaxMsgsPerSubject");
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo"), .max_msgs_per = 10};
    sd_store *st = open_ms(&cfg, NULL);
    cfg.max_msgs_per = 50;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    for (int i = 0; i < 22; i++)
        put(st, "foo", NULL);
    cr_assert_eq(sd_suite_subject_state(st, "foo").msgs, 22);
    cfg.max_msgs_per = 10;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_eq(sd_suite_subject_state(st, "foo").msgs, 10);
    sd_store_free(st);
}

Test(memstore, stream_truncate_reset) {
    GO_TEST("server/memstore_test.go", "TestMemStoreStreamTruncateReset");
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 1000; i++)
        put(st, "foo", "Hello World");
    cr_assert_eq(sd_store_truncate(st, 0), 0);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 0 && s.bytes == 0 && s.first_seq == 0 && s.last_seq == 0);
    cr_assert(s.num_subjects == 0 && s.num_deleted == 0);
    for (int i = 0; i < 1000; i++)
        put(st, "foo", "Hello World");
    s = state_of(st);
    cr_assert(s.msgs == 1000 && s.bytes == 30000 && s.first_seq == 1 && s.last_seq == 1000);
    cr_assert(s.num_subjects == 1 && s.num_deleted == 0);
    sd_store_free(st);
}

Test(memstore, stream_compact_multi_block_subject_info) {
    GO_TEST("server/memstore_test.go", "TestMemStoreStreamCompactMultiBlockSubjectInfo");
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo.*")};
    sd_store *st = open_ms(&cfg, NULL);
    char subj[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(subj, sizeof subj, "foo.%d", i);
        put(st, subj, "Hello World");
    }
    uint64_t n;
    cr_assert_eq(sd_store_compact(st, 501, &n), 0);
    cr_assert_eq(n, 500);
    cr_assert_eq(state_of(st).num_subjects, 500);
    sd_store_free(st);
}

Test(memstore, subjects_totals) {
    GO_TEST("server/memstore_test.go", "TestMemStoreSubjectsTotals");
    srand(11);
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("*.*")};
    sd_store *st = open_ms(&cfg, NULL);
    uint64_t fmap[100] = {0}, bmap[100] = {0};
    char subj[32];
    for (int i = 0; i < 10000; i++) {
        bool foo = rand() % 2 == 0;
        int dt = rand() % 100;
        snprintf(subj, sizeof subj, "%s.%d", foo ? "foo" : "bar", dt);
        (foo ? fmap : bmap)[dt]++;
        put(st, subj, "Hello World");
    }
    size_t nf = 0, nb = 0;
    uint64_t ftotal = 0, btotal = 0;
    for (int dt = 0; dt < 100; dt++) {
        if (!fmap[dt]) continue;
        nf++;
        ftotal += fmap[dt];
        snprintf(subj, sizeof subj, "foo.%d", dt);
        cr_assert_eq(sd_suite_subject_total(st, subj, subj, NULL), fmap[dt]);
    }
    for (int dt = 0; dt < 100; dt++)
        nb += bmap[dt] != 0, btotal += bmap[dt];
    size_t n;
    cr_assert_eq(sd_suite_subject_total(st, "foo.*", NULL, &n), ftotal);
    cr_assert_eq(n, nf);
    cr_assert_eq(sd_suite_subject_total(st, "bar.*", NULL, &n), btotal);
    cr_assert_eq(n, nb);
    sd_suite_subject_total(st, "*.*", NULL, &n);
    cr_assert_eq(n, nf + nb);
    sd_store_free(st);
}

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

/* --- Beyond Go's memstore tests --------------------------------------------------------- */

/* Go's Benchmark_MemStoreNumPendingWithLargeInteriorDeletes{Scan,Exclude}, as a check with
 * smaller sizes: both scanning strategies walk the messages instead of the huge gap. */
Test(memstore_extra, num_pending_large_interior_deletes) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*.*")};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "foo.bar.baz", "abc");
    uint64_t s;
    for (int i = 1; i <= 100000; i++)
        sd_store_skip_msg(st, 0, &s);
    put(st, "foo.bar.baz", "abc");
    uint64_t total, valid;
    cr_assert_eq(sd_store_num_pending(st, 60000, "foo.*.baz", false, &total, &valid), 0);
    cr_assert_eq(total, 1);
    cr_assert_eq(sd_store_num_pending(st, 40000, "foo.*.baz", false, &total, &valid), 0);
    cr_assert_eq(total, 1);
    cr_assert_eq(valid, 100002);
    sd_store_free(st);
}

/* Go's Benchmark_MemStoreLoadNextMsgFiltered cases, scaled down: the linear-scan decision and
 * the number of matches LoadNextMsg walks through. */
Test(memstore_extra, load_next_msg_filtered) {
    const struct {
        int msgs, every;
        const char *filter;
        bool wc, literal_subject, linear;
    } cases[] = {
        {100000, 100, "foo.baz.*", true, false, true},   /* 1001 subjects: linear */
        {100000, 1000, "foo.baz.*", true, false, false}, /* 101 subjects: tree-bounded */
        {100000, 1000, "foo.baz", false, true, false},
    };
    for (size_t c = 0; c < 3; c++) {
        sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo.>")};
        sd_store *st = open_ms(&cfg, NULL);
        char subj[32];
        for (int i = 0; i < cases[c].msgs; i++) {
            const char *s = "foo.bar";
            if (i % cases[c].every == 0) {
                snprintf(subj, sizeof subj, "foo.baz.%d", i);
                s = cases[c].literal_subject ? "foo.baz" : subj;
            }
            put(st, s, "ok");
        }
        cr_assert_eq(sd_memstore_should_linear_scan(st, cases[c].filter, cases[c].wc, 1),
                     cases[c].linear, "case %zu", c);
        sd_store_msg sm = {0};
        uint64_t start = 0, count = 0;
        for (;;) {
            int rc = sd_store_load_next_msg(st, cases[c].filter, cases[c].wc, start, &sm, &start);
            start++;
            if (rc == SD_ERR_STORE_EOF) break;
            cr_assert_eq(rc, 0);
            count++;
        }
        cr_assert_eq(count, (uint64_t)(cases[c].msgs / cases[c].every));
        sd_store_msg_free(&sm);
        sd_store_free(st);
    }
}

typedef struct {
    int64_t msgs, bytes;
    uint64_t seq;
    char subj[32];
    int calls;
} upd_ctx;

static void on_update(void *arg, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
                      size_t len) {
    upd_ctx *c = arg;
    c->msgs = msgs;
    c->bytes = bytes;
    c->seq = seq;
    memcpy(c->subj, subj, len);
    c->subj[len] = 0;
    c->calls++;
}

Test(memstore_extra, storage_update_callback) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*"), .max_msgs = 3};
    sd_store *st = open_ms(&cfg, NULL);
    upd_ctx c = {0};
    sd_store_callbacks cbs = {.storage_update = on_update, .storage_update_arg = &c};
    sd_store_register_callbacks(st, &cbs);
    int64_t sz = (int64_t)sd_memstore_msg_size(5, 0, 3);
    put(st, "foo.a", "abc");
    cr_assert(c.msgs == 1 && c.bytes == sz && c.seq == 1 && strcmp(c.subj, "foo.a") == 0);
    cr_assert_eq(sd_store_remove_msg(st, 1), 1);
    cr_assert(c.msgs == -1 && c.bytes == -sz && c.seq == 1 && strcmp(c.subj, "foo.a") == 0);
    for (int i = 0; i < 3; i++)
        put(st, "foo.b", "abc");
    /* The limit removes the oldest: a removal is reported before the store. */
    c.calls = 0;
    put(st, "foo.c", "abc");
    cr_assert_eq(c.calls, 2);
    cr_assert(c.msgs == 1 && c.seq == 5);
    uint64_t n;
    cr_assert_eq(sd_store_purge(st, &n), 0);
    cr_assert(c.msgs == -3 && c.bytes == -3 * sz && c.seq == 0);
    sd_store_free(st);
}

Test(memstore_extra, encoded_stream_state_round_trip) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", "abc");
    sd_store_remove_msg(st, 3);
    sd_store_remove_msg(st, 5);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(sd_store_encoded_stream_state(st, 7, &buf, &len), 0);
    cr_assert(sd_is_encoded_stream_state(buf, len));
    sd_stream_replicated_state rs;
    cr_assert_eq(sd_decode_stream_state(buf, len, &rs), 0);
    cr_assert(rs.msgs == 8 && rs.first_seq == 1 && rs.last_seq == 10 && rs.failed == 7);
    cr_assert_eq(rs.bytes, 8 * sd_memstore_msg_size(3, 0, 3));
    cr_assert_eq(rs.num_blocks, 1);
    cr_assert_eq(sd_delete_blocks_num_deleted(rs.deleted, rs.num_blocks), 2);
    /* A follower with all ten messages syncs its deletes from the snapshot. */
    sd_store *st2 = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st2, "foo", "abc");
    cr_assert_eq(sd_store_sync_deleted(st2, rs.deleted, rs.num_blocks), 0);
    sd_stream_state s = state_of(st2);
    uint64_t want[] = {3, 5};
    expect_deleted(&s, want, 2);
    cr_assert_eq(s.msgs, 8);
    /* Corruption is detected. */
    buf[len - 1] ^= 0xff;
    buf[len - 5] = 99;
    sd_stream_replicated_state bad;
    cr_assert_eq(sd_decode_stream_state(buf, 3, &bad), SD_ERR_CORRUPT_STREAM_STATE);
    buf[0] = 1;
    cr_assert_eq(sd_decode_stream_state(buf, len, &bad), SD_ERR_BAD_STREAM_STATE_ENCODING);
    /* A run-length block. */
    uint8_t rl[] = {42, 1, 0, 0, 1, 10, 0, 1, 33, 2, 3};
    cr_assert_eq(sd_decode_stream_state(rl, sizeof rl, &bad), 0);
    cr_assert_eq(bad.num_blocks, 1);
    uint64_t f, l, num;
    sd_delete_block_state(&bad.deleted[0], &f, &l, &num);
    cr_assert(f == 2 && l == 4 && num == 3);
    sd_stream_replicated_state_free(&bad);
    sd_stream_replicated_state_free(&rs);
    free(buf);
    sd_store_free(st);
    sd_store_free(st2);
}

Test(memstore_extra, headers_and_ttls) {
    const char *h = "NATS/1.0\r\nNats-TTL: 5m\r\nKV-Operation: PURGE\r\nX: y\r\n\r\n";
    const uint8_t *hdr = (const uint8_t *)h;
    size_t vl;
    const uint8_t *v = sd_slice_header("X", hdr, strlen(h), &vl);
    cr_assert(v && vl == 1 && *v == 'y');
    cr_assert_null(sd_slice_header("Nope", hdr, strlen(h), &vl));
    int64_t ttl;
    cr_assert_eq(sd_get_message_ttl(hdr, strlen(h), &ttl), 0);
    cr_assert_eq(ttl, 300);
    cr_assert(sd_is_subject_delete_marker(hdr, strlen(h)));
    cr_assert_eq(sd_parse_message_ttl("never", 5, &ttl), 0);
    cr_assert_eq(ttl, -1);
    cr_assert_eq(sd_parse_message_ttl("30", 2, &ttl), 0);
    cr_assert_eq(ttl, 30);
    cr_assert_eq(sd_parse_message_ttl("500ms", 5, &ttl), SD_ERR_MSG_TTL_INVALID);
    cr_assert_eq(sd_parse_message_ttl("abc", 3, &ttl), SD_ERR_MSG_TTL_INVALID);
    cr_assert_str_eq(sd_strerror(SD_ERR_MSG_TTL_INVALID), "invalid per-message TTL");
    char buf[32];
    const struct {
        int64_t s;
        const char *want;
    } durs[] = {{1, "1s"},     {59, "59s"},      {60, "1m0s"},
                {90, "1m30s"}, {3600, "1h0m0s"}, {7322, "2h2m2s"}};
    for (size_t i = 0; i < 6; i++) {
        sd_format_duration_s(durs[i].s, buf, sizeof buf);
        cr_assert_str_eq(buf, durs[i].want);
    }
}

/* A message whose TTL header says "never" outlives MaxAge; others expire. */
Test(memstore_extra, never_ttl_outlives_max_age) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {
        .name = "zzz", .subjects = SUBJECTS("foo"), .max_age_ns = SEC, .allow_msg_ttl = true};
    sd_store *st = open_ms(&cfg, &clk);
    const char *h = "NATS/1.0\r\nNats-TTL: never\r\n\r\n";
    cr_assert_eq(
        sd_store_store_msg(st, "foo", 3, (const uint8_t *)h, strlen(h), NULL, 0, -1, NULL, NULL),
        0);
    put(st, "foo", "x");
    cr_assert_neq(sd_store_next_expire(st), INT64_MAX);
    sd_suite_advance(st, &clk, 3 * SEC);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 1);
    cr_assert_eq(s.first_seq, 1);
    sd_store_free(st);
}

Test(memstore_extra, next_expire_contract) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo"), .max_age_ns = SEC};
    sd_store *st = open_ms(&cfg, &clk);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX); /* nothing stored: no timer */
    int64_t t0 = clk.now;
    put(st, "foo", "x");
    int64_t d = sd_store_next_expire(st);
    cr_assert(d > t0 && d <= t0 + SEC + MSEC, "deadline %lld", (long long)(d - t0));
    sd_suite_advance(st, &clk, 2 * SEC);
    cr_assert_eq(state_of(st).msgs, 0);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX); /* empty again: cancelled */
    sd_store_free(st);
}

Test(memstore_extra, stop_closes) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "foo", "x");
    cr_assert_eq(sd_store_stop(st), 0);
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, NULL, NULL),
                 SD_ERR_STORE_CLOSED);
    sd_consumer_config cc = {SD_ACK_EXPLICIT, 0};
    sd_consumer_store *o;
    cr_assert_eq(st->ops->consumer_store(st, "c", 0, &cc, &o), SD_ERR_STORE_CLOSED);
    cr_assert_eq(state_of(st).msgs, 0);
    sd_store_msg sm = {0};
    uint64_t seq;
    cr_assert_eq(sd_store_load_prev_msg(st, ">", true, 1, &sm, &seq), SD_ERR_STORE_CLOSED);
    cr_assert_eq(sd_memstore_open(&(sd_stream_config){.storage = SD_STORAGE_FILE}, NULL, &st),
                 SD_ERR_MEMSTORE_TYPE);
    sd_store_free(st);
}

/* --- Consumer state ----------------------------------------------------------------------- */

static sd_consumer_store *consumer(sd_store *st, sd_ack_policy ack, int64_t max_deliver) {
    sd_consumer_config cc = {ack, max_deliver};
    sd_consumer_store *o = NULL;
    cr_assert_eq(st->ops->consumer_store(st, "dlc", 0, &cc, &o), 0);
    return o;
}

static sd_consumer_state cstate(sd_consumer_store *o) {
    sd_consumer_state cs;
    cr_assert_eq(o->ops->state(o, &cs), 0);
    return cs;
}

Test(memstore_consumer, explicit_acks) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 0);
    cr_assert_eq(state_of(st).consumers, 1);
    cr_assert_not(o->ops->has_state(o));
    for (uint64_t i = 1; i <= 3; i++)
        cr_assert_eq(o->ops->update_delivered(o, i, i, 1, 100), 0);
    cr_assert(o->ops->has_state(o));
    sd_consumer_state cs = cstate(o);
    cr_assert(cs.delivered.consumer == 3 && cs.delivered.stream == 3);
    cr_assert(cs.ack_floor.consumer == 0 && cs.ack_floor.stream == 0);
    cr_assert_eq(cs.num_pending, 3);
    cr_assert(cs.pending[0].sseq == 1 && cs.pending[2].sseq == 3 && cs.pending[1].dseq == 2);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 1, 1), 0);
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 1 && cs.ack_floor.stream == 1 && cs.num_pending == 2);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 3, 3), 0); /* out of order: floor stays */
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 1 && cs.num_pending == 1);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 2, 2), 0); /* nothing pending: floor = delivered */
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 3 && cs.ack_floor.stream == 3 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 9, 9), SD_ERR_MSG_NOT_FOUND);
    /* Redelivery keeps the original delivery sequence and counts. */
    cr_assert_eq(o->ops->update_delivered(o, 4, 4, 1, 200), 0);
    cr_assert_eq(o->ops->update_delivered(o, 5, 4, 2, 300), 0);
    cs = cstate(o);
    cr_assert(cs.num_pending == 1 && cs.pending[0].dseq == 4 && cs.pending[0].ts == 300);
    cr_assert(cs.num_redelivered == 1 && cs.redelivered[0].sseq == 4 &&
              cs.redelivered[0].count == 1);
    cr_assert(cs.delivered.consumer == 5 && cs.delivered.stream == 4);
    sd_consumer_state_free(&cs);
    o->ops->remove_redelivered_below(o, 5);
    cs = cstate(o);
    cr_assert_eq(cs.num_redelivered, 0);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->stop(o), 0);
    cr_assert_eq(state_of(st).consumers, 0);
    cr_assert_eq(o->ops->state(o, &cs), SD_ERR_STORE_CLOSED);
    o->ops->free(o);
    sd_store_free(st);
}

Test(memstore_consumer, max_deliver_and_ack_none) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 2);
    cr_assert_eq(o->ops->update_delivered(o, 1, 1, 1, 1), 0);
    cr_assert_eq(o->ops->update_delivered(o, 2, 1, 3, 2), 0); /* past MaxDeliver: not pending */
    sd_consumer_state cs = cstate(o);
    cr_assert_eq(cs.num_pending, 0);
    cr_assert(cs.num_redelivered == 1 && cs.redelivered[0].count == 2);
    sd_consumer_state_free(&cs);
    o->ops->free(o);
    sd_consumer_store *n = consumer(st, SD_ACK_NONE, 0);
    cr_assert_eq(n->ops->update_delivered(n, 1, 5, 2, 1), SD_ERR_NO_ACK_POLICY);
    cr_assert_eq(n->ops->update_delivered(n, 1, 5, 1, 1), 0);
    cr_assert_eq(n->ops->update_acks(n, 1, 5), SD_ERR_NO_ACK_POLICY);
    cs = cstate(n);
    cr_assert(cs.ack_floor.consumer == 1 && cs.ack_floor.stream == 5 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    n->ops->update_starting(n, 9);
    cs = cstate(n);
    cr_assert(cs.delivered.stream == 9 && cs.ack_floor.stream == 9);
    sd_consumer_state_free(&cs);
    n->ops->free(n);
    sd_store_free(st);
}

Test(memstore_consumer, ack_all) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_ALL, 0);
    for (uint64_t i = 1; i <= 5; i++)
        o->ops->update_delivered(o, i, i * 10, 1, 1);
    cr_assert_eq(o->ops->update_acks(o, 3, 30), 0);
    sd_consumer_state cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 3 && cs.ack_floor.stream == 30);
    cr_assert(cs.num_pending == 2 && cs.pending[0].sseq == 40);
    sd_consumer_state_free(&cs);
    o->ops->free(o);
    sd_store_free(st);
}

Test(memstore_consumer, update_validation_and_encoding) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, &clk);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 0);
    sd_pending p[] = {{22, 7, clk.now - 5 * SEC}, {25, 9, clk.now - 2 * SEC}};
    sd_redelivered r[] = {{22, 3}};
    sd_consumer_state in = {{10, 30}, {5, 20}, p, 2, r, 1};
    sd_consumer_state bad = in;
    bad.ack_floor.consumer = 11;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_ACK_FLOOR_CONSUMER);
    bad = in;
    bad.ack_floor.stream = 31;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_ACK_FLOOR_STREAM);
    bad = in;
    sd_pending bp[] = {{31, 1, 0}};
    bad.pending = bp;
    bad.num_pending = 1;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_PENDING);
    cr_assert_eq(o->ops->update(o, &in), 0);
    sd_consumer_state old = in;
    old.delivered.consumer = 9;
    old.ack_floor.consumer = 4;
    cr_assert_eq(o->ops->update(o, &old), SD_ERR_OLD_UPDATE);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(o->ops->encoded_state(o, &buf, &len), 0);
    sd_consumer_state out;
    cr_assert_eq(sd_decode_consumer_state(buf, len, &out), 0);
    cr_assert(out.delivered.consumer == 10 && out.delivered.stream == 30);
    cr_assert(out.ack_floor.consumer == 5 && out.ack_floor.stream == 20);
    cr_assert_eq(out.num_pending, 2);
    for (size_t i = 0; i < 2; i++) {
        size_t j = out.pending[0].sseq == p[i].sseq ? 0 : 1;
        cr_assert_eq(out.pending[j].sseq, p[i].sseq);
        cr_assert_eq(out.pending[j].dseq, p[i].dseq);
        /* Timestamps are kept to the second. */
        cr_assert_leq(llabs(out.pending[j].ts - p[i].ts), SEC);
    }
    cr_assert(out.num_redelivered == 1 && out.redelivered[0].sseq == 22 &&
              out.redelivered[0].count == 3);
    sd_consumer_state_free(&out);
    buf[0] = 1;
    cr_assert_eq(sd_decode_consumer_state(buf, len, &out), SD_ERR_CORRUPT_STATE);
    free(buf);
    cr_assert_eq(o->ops->force_update(o, &old), 0);
    sd_consumer_state cs = cstate(o);
    cr_assert_eq(cs.delivered.consumer, 9);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->reset(o, 50), 0);
    cs = cstate(o);
    cr_assert(cs.delivered.stream == 50 && cs.ack_floor.stream == 50 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    /* The stream store may go first: the consumer store is detached, not left dangling. */
    sd_store_free(st);
    cr_assert_eq(o->ops->stop(o), 0);
    o->ops->free(o);
}
