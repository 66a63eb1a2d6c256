/* More ports of Go nats-server v2.14.5 server/filestore_test.go for the file store
 * (storaged/filestore*.c), split from test_filestore.c (same executable, same helpers:
 * test_filestore_helpers.c): limits, TTLs and subject delete markers across restarts,
 * compaction and truncation corner cases, skips, consumer state, the directory lock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gotest.h"
#include "storaged/filestore.h"
#include "storaged/store.h"
#include "tests/unit/store_suite.h"
#include "tests/unit/test_filestore_helpers.h"

/* --- More ports of server/filestore_test.go ------------------------------------------- */

Test(filestore, compact_last_plus_one) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreCompactLastPlusOne",
                    "1000 messages of 1 KiB instead of 10000 of 10 KB");
    fs_opts.block_size = 8192;
    fs_opts.sync = SD_FS_SYNC_NONE; /* Go: AsyncFlush */
    sd_stream_config cfg = {.name = "zzz"};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    static uint8_t msg[1024];
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL), 0);
    cr_assert_eq(sd_filestore_flush(st), 0);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 1000);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_compact(st, 1001, NULL), 0);
    s = state_of(st);
    cr_assert_eq(s.msgs, 0);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL), 0);
    s = state_of(st);
    cr_assert_eq(s.msgs, 1);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_filestore_flush(st), 0);
    cr_assert_eq(sd_filestore_num_blocks(st), 1);
    st = restart(st, &cfg, NULL);
    s = state_of(st);
    cr_assert(s.msgs == 1 && s.first_seq == 1001 && s.last_seq == 1001);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, skip_msgs) {
    GO_TEST("server/filestore_test.go", "TestFileStoreSkipMsgs");
    fs_opts.block_size = 1024;
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 10, 100), SD_ERR_SEQUENCE_MISMATCH);
    cr_assert_eq(sd_store_skip_msgs(st, 1, 100), 0);
    sd_stream_state s = state_of(st);
    cr_assert(s.first_seq == 101 && s.last_seq == 100);
    cr_assert_eq(sd_filestore_num_blocks(st), 1);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_skip_msgs(st, 101, 100000), 0);
    s = state_of(st);
    cr_assert(s.first_seq == 100101 && s.last_seq == 100100);
    cr_assert_eq(sd_filestore_num_blocks(st), 1);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);

    dir = new_dir();
    st = open_fs(dir, &cfg, NULL);
    put(st, "foo", NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 2, 10), 0);
    s = state_of(st);
    cr_assert(s.first_seq == 1 && s.last_seq == 11 && s.msgs == 1);
    cr_assert(s.num_deleted == 10 && s.deleted_len == 10);
    sd_stream_state fsst = {0};
    sd_store_fast_state(st, &fsst);
    cr_assert(fsst.first_seq == 1 && fsst.last_seq == 11 && fsst.msgs == 1);
    cr_assert_eq(fsst.num_deleted, 10);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, stream_truncate_reset_multi_block) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreStreamTruncateResetMultiBlock",
                    "one (empty) block stays after Truncate(0) where Go has none; block size "
                    "172 for our larger records");
    raw_layout_only(false);
    fs_opts.block_size = 172; /* two records of this size per block, as Go's 128 holds */
    fs_opts.sync = SD_FS_SYNC_NONE;
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 1000; i++)
        put(st, "foo", "Hello World");
    cr_assert_eq(sd_filestore_flush(st), 0);
    cr_assert_eq(sd_filestore_num_blocks(st), 500, "%zu", sd_filestore_num_blocks(st));
    cr_assert_eq(sd_store_truncate(st, 0), 0);
    cr_assert_eq(sd_filestore_flush(st), 0);
    cr_assert_eq(sd_filestore_num_blocks(st), 1);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 0 && s.bytes == 0 && s.first_seq == 0 && s.last_seq == 0);
    cr_assert(s.num_subjects == 0 && s.num_deleted == 0);
    sd_stream_state_free(&s);
    for (int i = 0; i < 1000; i++)
        put(st, "foo", "Hello World");
    cr_assert_eq(sd_filestore_flush(st), 0);
    s = state_of(st);
    cr_assert(s.msgs == 1000 && s.first_seq == 1 && s.last_seq == 1000);
    cr_assert_eq(s.bytes, 44000);
    cr_assert(s.num_subjects == 1 && s.num_deleted == 0);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, bad_consumer_state) {
    GO_TEST("server/filestore_test.go", "TestFileStoreBadConsumerState");
    static const uint8_t bs[] =
        "\x16\x02\x01\x01\x03\x02\x01\x98\xf4\x8a\x8a\f\x01\x03\x86\xfa\n\x01\x00\x01";
    sd_consumer_state cs = {0};
    cr_assert_eq(sd_decode_consumer_state(bs, sizeof bs - 1, &cs), 0);
    sd_consumer_state_free(&cs);
}

static bool subj_state_cb(void *arg, const char *subj, size_t len, const sd_simple_state *ss) {
    (void)subj, (void)len;
    *(uint64_t *)arg = ss->msgs;
    return true;
}

static uint64_t subject_msgs(sd_store *st, const char *subj) {
    uint64_t n = 0;
    cr_assert_eq(sd_store_subjects_state(st, subj, subj_state_cb, &n), 0);
    return n;
}

Test(filestore, update_max_msgs_per_subject) {
    GO_TEST("server/filestore_test.go", "TestFileStoreUpdateMaxMsgsPerSubject");
    sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo"), .max_msgs_per = 10};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    cfg.max_msgs_per = 50;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    for (int i = 0; i < 22; i++)
        put(st, "foo", NULL);
    cr_assert_eq(subject_msgs(st, "foo"), 22);
    /* Reopened with the larger limit, all 22 are still there. */
    st = restart(st, &cfg, NULL);
    cr_assert_eq(subject_msgs(st, "foo"), 22);
    cfg.max_msgs_per = 10;
    cr_assert_eq(sd_store_update_config(st, &cfg), 0);
    cr_assert_eq(subject_msgs(st, "foo"), 10);
    cfg.max_msgs_per = 50;
    st = restart(st, &cfg, NULL);
    cr_assert_eq(subject_msgs(st, "foo"), 10);
    sd_store_free(st);
    free(dir);
}

Test(filestore, message_ttl_recovered) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreMessageTTLRecovered",
                    "a fake clock instead of sleeping; no per-block TTL count (the wheel is "
                    "rebuilt from the log)");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("test"), .allow_msg_ttl = true};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, &clk);
    put(st, "test", NULL);
    static const char hdr[] = "NATS/1.0\r\nNats-TTL: 1\r\n\r\n";
    for (int i = 0; i < 9; i++)
        cr_assert_eq(sd_store_store_msg(st, "test", 4, (const uint8_t *)hdr, sizeof hdr - 1, NULL,
                                        0, 1, NULL, NULL),
                     0);
    st = restart(st, &cfg, &clk);
    sd_stream_state s = state_of(st);
    cr_assert(s.first_seq == 1 && s.last_seq == 10 && s.msgs == 10);
    sd_stream_state_free(&s);
    sd_suite_advance(st, &clk, 2 * SEC);
    s = state_of(st);
    cr_assert(s.first_seq == 1 && s.last_seq == 10 && s.msgs == 1);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

/* Lazy sync: with an interval, the pending sync is part of the expiry deadline and runs from
 * sd_store_expire. */
Test(filestore, interval_sync_via_expire) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    fs_opts.sync = SD_FS_SYNC_INTERVAL;
    fs_opts.sync_interval_ns = 1 * SEC;
    sd_stream_config cfg = {.name = "zzz"};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, &clk);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX);
    put(st, "foo", "lazy");
    int64_t due = sd_store_next_expire(st);
    cr_assert_lt(due, INT64_MAX);
    cr_assert_leq(due, clk.now + 1 * SEC);
    clk.now = due;
    cr_assert_eq(sd_store_expire(st, clk.now), 0);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX);
    st = restart(st, &cfg, &clk);
    check_msg(st, 1, "foo", "lazy");
    sd_store_free(st);
    free(dir);
}

/* FirstSeq applies to a new stream only; an existing one keeps its sequences. */
Test(filestore, first_seq_new_stream_only) {
    sd_stream_config cfg = {.name = "zzz", .first_seq = 100};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    cr_assert_eq(put(st, "foo", "a"), 100);
    cfg.first_seq = 500;
    st = restart(st, &cfg, NULL);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 1 && s.first_seq == 100 && s.last_seq == 100);
    sd_stream_state_free(&s);
    cr_assert_eq(put(st, "foo", "b"), 101);
    sd_store_free(st);
    free(dir);
}

Test(filestore, bytes_limit) {
    GO_TEST("server/filestore_test.go", "TestFileStoreBytesLimit");
    static uint8_t msg[512];
    uint64_t size = sd_filestore_msg_size(3, 0, sizeof msg), to_store = 1024;
    fs_opts.sync = SD_FS_SYNC_NONE; /* Go does not fsync each message either */
    sd_stream_config cfg = {.name = "zzz", .max_bytes = (int64_t)(size * to_store)};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (uint64_t i = 0; i < to_store; i++)
        sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == to_store && s.bytes == size * to_store);
    sd_stream_state_free(&s);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, msg, sizeof msg, 0, NULL, NULL), 0);
    s = state_of(st);
    cr_assert(s.msgs == to_store && s.bytes == size * to_store);
    cr_assert(s.first_seq == 11 && s.last_seq == to_store + 10);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, bytes_limit_with_discard_new) {
    GO_TEST("server/filestore_test.go", "TestFileStoreBytesLimitWithDiscardNew");
    static const uint8_t msg[7];
    uint64_t size = sd_filestore_msg_size(4, 0, sizeof msg);
    sd_stream_config cfg = {.name = "zzz", .max_bytes = 100, .discard = SD_DISCARD_NEW};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 10; i++) {
        int rc = sd_store_store_msg(st, "tiny", 4, NULL, 0, msg, sizeof msg, 0, NULL, NULL);
        cr_assert_eq(rc, i < 2 ? 0 : SD_ERR_MAX_BYTES, "i=%d rc=%d", i, rc);
    }
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 2 && s.bytes == 2 * size);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, msg_limit_bug) {
    GO_TEST("server/filestore_test.go", "TestFileStoreMsgLimitBug");
    sd_stream_config cfg = {.name = "zzz", .max_msgs = 1};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    put(st, "foo", "Hello World");
    put(st, "foo", "Hello World");
    st = restart(st, &cfg, NULL);
    cr_assert_eq(put(st, "foo", "Hello World"), 3);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 1 && s.first_seq == 3);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, truncate_removed_block) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreTruncateRemovedBlock",
                    "the block size forces one message per block (no newMsgBlockForWrite); "
                    "also checks a restart");
    raw_layout_only(false);
    fs_opts.block_size = 148; /* one message per block, room for a tombstone */
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 3; i++)
        put(st, "foo", NULL);
    cr_assert_eq(sd_filestore_num_blocks(st), 3);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 3 && s.first_seq == 1 && s.last_seq == 3 && s.num_deleted == 0);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_remove_msg(st, 2), 1);
    cr_assert_eq(sd_filestore_num_blocks(st), 2);
    s = state_of(st);
    cr_assert(s.msgs == 2 && s.first_seq == 1 && s.last_seq == 3 && s.num_deleted == 1);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_truncate(st, 2), 0);
    s = state_of(st);
    cr_assert(s.msgs == 1 && s.first_seq == 1 && s.last_seq == 2 && s.num_deleted == 1);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, compact_all_with_dangling_lmb) {
    GO_TEST("server/filestore_test.go", "TestFileStoreCompactAllWithDanglingLMB");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 100; i++)
        put(st, "foo", "ZZ");
    sd_store_remove_msg(st, 100);
    uint64_t purged = 0;
    cr_assert_eq(sd_store_compact(st, 100, &purged), 0);
    cr_assert_eq(purged, 99);
    cr_assert_eq(put(st, "foo", "ZZ"), 101);
    sd_stream_state s = state_of(st);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, recover_with_empty_message_block) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreRecoverWithEmptyMessageBlock",
                    "block size fitted to our records; no index.db to remove (state always "
                    "comes from the blocks)");
    raw_layout_only(false);
    fs_opts.block_size = 48 + 4 * 51; /* header + 4 records of subject "foo", no payload */
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 4; i++)
        put(st, "foo", NULL);
    cr_assert_eq(sd_filestore_num_blocks(st), 1);
    for (uint64_t i = 1; i <= 2; i++)
        cr_assert_eq(sd_store_remove_msg(st, i), 1);
    cr_assert_eq(sd_filestore_num_blocks(st), 2); /* the tombstones went to a second block */
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 2 && s.first_seq == 3 && s.last_seq == 4);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, recover_after_compact) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreRecoverAfterCompact",
                    "no block byte counters; compaction is logged as one record, not "
                    "tombstones or a rewrite");
    size_t sizes[] = {1024, 1024 * 1024};
    for (size_t k = 0; k < 2; k++) {
        sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
        char *dir = new_dir();
        sd_store *st = open_fs(dir, &cfg, NULL);
        uint8_t *payload = calloc(1, sizes[k]);
        for (int i = 0; i < 4; i++)
            cr_assert_eq(
                sd_store_store_msg(st, "foo", 3, NULL, 0, payload, sizes[k], 0, NULL, NULL), 0);
        free(payload);
        sd_stream_state s = state_of(st);
        cr_assert(s.msgs == 4 && s.first_seq == 1 && s.last_seq == 4);
        cr_assert_eq(s.bytes, 4 * sd_filestore_msg_size(3, 0, sizes[k]));
        sd_stream_state_free(&s);
        uint64_t purged = 0;
        cr_assert_eq(sd_store_compact(st, 4, &purged), 0);
        cr_assert_eq(purged, 3);
        s = state_of(st);
        cr_assert(s.msgs == 1 && s.first_seq == 4 && s.last_seq == 4);
        cr_assert_eq(s.bytes, sd_filestore_msg_size(3, 0, sizes[k]));
        st = restart(st, &cfg, NULL);
        assert_same_state(st, &s);
        sd_stream_state_free(&s);
        sd_store_free(st);
        free(dir);
    }
}

/* SyncDeleted and the encoded stream state survive a restart. */
Test(filestore, sync_deleted_and_encoded_state_restart) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 20; i++)
        put(st, "foo", "x");
    sd_delete_block db = {.kind = SD_DB_RANGE, .first = 5, .num = 4};
    cr_assert_eq(sd_store_sync_deleted(st, &db, 1), 0);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 16);
    uint8_t *enc1 = NULL, *enc2 = NULL;
    size_t n1 = 0, n2 = 0;
    cr_assert_eq(sd_store_encoded_stream_state(st, 0, &enc1, &n1), 0);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    cr_assert_eq(sd_store_encoded_stream_state(st, 0, &enc2, &n2), 0);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(enc1, enc2, n1), 0);
    free(enc1);
    free(enc2);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

/* Subject delete markers: the owner removes on request and publishes the marker back into the
 * store (what storaged does); both survive a restart. */
typedef struct {
    sd_store *st;
    int markers, removals;
    uint64_t marker_seq;
} sdm_ctx;

static void sdm_remove(void *arg, uint64_t seq) {
    sdm_ctx *c = arg;
    c->removals++;
    cr_assert_geq(sd_store_remove_msg(c->st, seq), 0);
}

static void sdm_process(void *arg, const char *subj, size_t subj_len, const uint8_t *hdr,
                        size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    sdm_ctx *c = arg;
    c->markers++;
    int64_t ttl = 0;
    cr_assert_eq(sd_get_message_ttl(hdr, hdr_len, &ttl), 0);
    cr_assert_eq(sd_store_store_msg(c->st, subj, subj_len, hdr, hdr_len, msg, msg_len, ttl,
                                    &c->marker_seq, NULL),
                 0);
}

Test(filestore, subject_delete_markers) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreSubjectDeleteMarkers",
                    "a fake clock instead of sleeping; the marker is stored back and checked "
                    "after a restart");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz",
                            .subjects = SUBJECTS("test"),
                            .max_age_ns = SEC,
                            .allow_msg_ttl = true,
                            .subject_delete_marker_ttl_ns = SEC};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, &clk);
    sdm_ctx c = {.st = st};
    sd_store_callbacks cbs = {.remove_msg = sdm_remove,
                              .remove_msg_arg = &c,
                              .process_msg = sdm_process,
                              .process_msg_arg = &c};
    sd_store_register_callbacks(st, &cbs);
    for (int i = 0; i < 3; i++)
        put(st, "test", NULL);
    sd_suite_advance(st, &clk, SEC + 500 * 1000000LL);
    cr_assert_eq(c.removals, 2);
    cr_assert_eq(c.markers, 1);
    cr_assert_eq(c.marker_seq, 4);
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, 4, &sm), 0);
    size_t vl = 0;
    const uint8_t *v = sd_slice_header("Nats-Marker-Reason", sm.hdr, sm.hdr_len, &vl);
    cr_assert(v && vl == 6 && memcmp(v, "MaxAge", 6) == 0);
    v = sd_slice_header("Nats-TTL", sm.hdr, sm.hdr_len, &vl);
    cr_assert(v && vl == 2 && memcmp(v, "1s", 2) == 0);
    sd_stream_state s = state_of(st);
    st = restart(st, &cfg, &clk);
    c.st = st;
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    cr_assert_eq(sd_store_load_msg(st, 4, &sm), 0);
    cr_assert(sd_is_subject_delete_marker(sm.hdr, sm.hdr_len));
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* One store per directory. */
Test(filestore, directory_lock) {
    sd_stream_config cfg = {.name = "zzz", .storage = SD_STORAGE_FILE};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    sd_store *st2 = NULL;
    cr_assert_eq(fs_open_dir(dir, &cfg, NULL, &st2), -EBUSY);
    put(st, "foo", "x");
    st = restart(st, &cfg, NULL); /* released when freed */
    check_msg(st, 1, "foo", "x");
    sd_store_free(st);
    free(dir);
}

Test(filestore, rebuild_state_properly_with_max_msgs_per_subject) {
    GO_TEST("server/filestore_test.go", "TestFileStoreRebuildStateProperlyWithMaxMsgsPerSubject");
    fs_opts.block_size = 4096;
    fs_opts.sync = SD_FS_SYNC_NONE;
    sd_stream_config cfg = {
        .name = "zzz", .subjects = SUBJECTS("foo", "bar", "baz"), .max_msgs_per = 1};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    put(st, "baz", NULL);
    for (int i = 1; i <= 1000; i++) {
        put(st, "foo", NULL);
        put(st, "bar", NULL);
    }
    sd_stream_state s = {0};
    sd_store_fast_state(st, &s);
    cr_assert_eq(s.num_subjects, 3);
    cr_assert_eq(s.msgs, 3);
    s = state_of(st);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, leftover_skip_msg_in_dmap) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreLeftoverSkipMsgInDmap",
                    "stream state only (no per-block first/last/dmap)");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("test.*"), .max_msgs_per = 1};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    sd_store_skip_msg(st, 0, NULL);
    sd_stream_state s = state_of(st);
    cr_assert(s.first_seq == 2 && s.last_seq == 1 && s.num_deleted == 0);
    sd_stream_state_free(&s);
    st = restart(st, &cfg, NULL);
    s = state_of(st);
    cr_assert(s.first_seq == 2 && s.last_seq == 1 && s.num_deleted == 0);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, detect_delete_gap_with_last_skip_msg) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreDetectDeleteGapWithLastSkipMsg",
                    "stream state only (no per-block first/last/dmap)");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    put(st, "foo", NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 2, 3), 0);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 1 && s.first_seq == 1 && s.last_seq == 4 && s.num_deleted == 3);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, preserve_last_seq_after_compact) {
    GO_TEST("server/filestore_test.go", "TestFileStorePreserveLastSeqAfterCompact");
    sd_stream_config cfg = {.name = "zzz"};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    put(st, "foo", NULL);
    cr_assert_eq(sd_store_compact(st, 2, NULL), 0);
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 0 && s.first_seq == 2 && s.last_seq == 1);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, reload_and_lose_last_sequence_with_skip_msgs) {
    GO_TEST("server/filestore_test.go", "TestFileStoreReloadAndLoseLastSequenceWithSkipMsgs");
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*")};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    cr_assert_eq(sd_store_skip_msgs(st, 0, 22), 0);
    for (int i = 0; i < 5; i++) {
        st = restart(st, &cfg, NULL);
        sd_stream_state s = {0};
        sd_store_fast_state(st, &s);
        cr_assert(s.first_seq == 23 && s.last_seq == 22, "first %lu last %lu",
                  (unsigned long)s.first_seq, (unsigned long)s.last_seq);
    }
    sd_store_free(st);
    free(dir);
}

/* An emptied block in the middle goes; the tombstones it held for messages of earlier blocks
 * are copied forward first, so nothing comes back after a restart. */
Test(filestore, middle_block_removal_keeps_tombstones) {
    raw_layout_only(false);
    fs_opts.block_size = 200; /* two messages per block */
    sd_stream_config cfg = {.name = "zzz"};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", NULL);
    cr_assert_eq(sd_filestore_num_blocks(st), 5);
    cr_assert_eq(sd_store_remove_msg(st, 1), 1); /* tombstone lands in block 5 */
    cr_assert_eq(sd_store_remove_msg(st, 3), 1);
    cr_assert_eq(sd_store_remove_msg(st, 4), 1); /* block 2 empty: removed */
    char *b2 = blk_path(dir, 2), *b5 = blk_path(dir, 5);
    cr_assert_neq(access(b2, F_OK), 0, "block 2 still there");
    cr_assert_eq(sd_store_remove_msg(st, 9), 1);
    cr_assert_eq(sd_store_remove_msg(st, 10), 1); /* block 5 empty: its tombstone for 1 moves */
    cr_assert_neq(access(b5, F_OK), 0, "block 5 still there");
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 5 && s.first_seq == 2 && s.last_seq == 10);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    cr_assert(!msg_exists(st, 1));
    cr_assert(msg_exists(st, 2));
    sd_stream_state_free(&s);
    cr_assert_eq(put(st, "foo", NULL), 11);
    sd_store_free(st);
    free(b2);
    free(b5);
    free(dir);
}

Test(filestore, max_msgs_and_max_msgs_per_subject) {
    GO_TEST("server/filestore_test.go", "TestFileStoreMaxMsgsAndMaxMsgsPerSubject");
    fs_opts.block_size = 128;
    fs_opts.sync = SD_FS_SYNC_NONE;
    sd_stream_config cfg = {.name = "zzz",
                            .subjects = SUBJECTS("kv.>"),
                            .discard = SD_DISCARD_NEW,
                            .max_msgs = 100,
                            .discard_new_per = true,
                            .max_msgs_per = 1};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, NULL);
    char subj[32];
    for (int i = 1; i <= 101; i++) {
        int n = snprintf(subj, sizeof subj, "kv.%d", i);
        int rc = sd_store_store_msg(st, subj, (size_t)n, NULL, 0, (const uint8_t *)"value", 5, 0,
                                    NULL, NULL);
        if (i == 101)
            cr_assert_neq(rc, 0);
        else
            cr_assert_eq(rc, 0);
    }
    for (int i = 1; i <= 100; i++) {
        int n = snprintf(subj, sizeof subj, "kv.%d", i);
        cr_assert_neq(sd_store_store_msg(st, subj, (size_t)n, NULL, 0, (const uint8_t *)"value", 5,
                                         0, NULL, NULL),
                      0);
    }
    sd_stream_state s = state_of(st);
    cr_assert(s.msgs == 100 && s.first_seq == 1 && s.last_seq == 100 && s.deleted_len == 0);
    st = restart(st, &cfg, NULL);
    assert_same_state(st, &s);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore, expire_on_recover_subject_accounting) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreExpireOnRecoverSubjectAccounting",
                    "a fake clock instead of sleeping; expiry runs on open (update of the config) "
                    "and from expire");
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    fs_opts.block_size = 100;
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("*"), .max_age_ns = 200000000LL};
    char *dir = new_dir();
    sd_store *st = open_fs(dir, &cfg, &clk);
    put(st, "A", "AAAAAAAAAAAAAAAAAAA");
    put(st, "B", "AAAAAAAAAAAAAAAAAAA");
    clk.now += 100000000LL;
    put(st, "C", "AAAAAAAAAAAAAAAAAAA");
    sd_store_free(st);
    clk.now += 110000000LL;
    st = open_fs(dir, &cfg, &clk);
    sd_suite_advance(st, &clk, 0);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.num_subjects, 1, "subjects %lu", (unsigned long)s.num_subjects);
    cr_assert_eq(s.msgs, 1);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}
