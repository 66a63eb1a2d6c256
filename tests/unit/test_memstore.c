/* Unit tests for the memory store (storaged/memstore*.c), part 1: the shared suite of Go
 * nats-server v2.14.5 server/store_test.go run on the memory store, the delete-block helpers,
 * and ports of server/memstore_test.go covering basics, limits, purge/compact/erase, headers,
 * deleted-state reporting, truncate and subject totals.  Part 2 is test_memstore_query.c,
 * part 3 test_memstore_extra.c; shared helpers are in memstore_test_util.h.
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
#include "tests/unit/memstore_test_util.h"

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
