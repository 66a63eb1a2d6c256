/* Snapshot and restore of whole streams (storaged/filestore_snapshot.c, filestore_archive.c):
 * ports of Go nats-server v2.14.5 server/filestore_test.go TestFileStoreSnapshot, plus our own
 * tests of the archive (chunked restore, memory store snapshots, corrupt or hostile archives
 * rejected with nothing left behind). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gotest.h"
#include "storaged/filestore_int.h"
#include "tests/unit/test_filestore_util.h"

/* The whole archive of a snapshot result. */
static uint8_t *read_snapshot(sd_snapshot_result *r, size_t *n) {
    cr_assert_geq(r->fd, 0);
    uint8_t *b = malloc(r->size + 1);
    size_t got = 0;
    ssize_t k;
    while ((k = read(r->fd, b + got, r->size + 1 - got)) > 0)
        got += (size_t)k;
    cr_assert_eq(got, r->size);
    *n = got;
    return b;
}

static uint8_t *take_snapshot(sd_store *st, const sd_snapshot_opts *o, size_t *n) {
    sd_snapshot_result r;
    int rc = sd_store_snapshot(st, o, &r);
    cr_assert_eq(rc, 0, "snapshot: %s", sd_strerror(rc));
    uint8_t *b = read_snapshot(&r, n);
    sd_snapshot_result_free(&r);
    return b;
}

/* Restores an archive fed in pieces of `chunk` bytes; returns finish's result. */
static int restore(const char *dir, const uint8_t *a, size_t n, size_t chunk,
                   sd_restore_info *info) {
    sd_restore *r;
    int rc = sd_restore_begin(dir, &r);
    cr_assert_eq(rc, 0, "restore begin: %s", sd_strerror(rc));
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        if (sd_restore_write(r, a + off, k) != 0) break;
    }
    return sd_restore_finish(r, info);
}

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void restore_and_compare(sd_store *st, sd_stream_config *cfg, const uint8_t *a, size_t n) {
    char *dir = fst_new_dir();
    sd_restore_info info;
    int rc = restore(dir, a, n, 65536, &info);
    cr_assert_eq(rc, 0, "restore: %s (%s)", sd_strerror(rc), info.error);
    sd_store *rs = fst_open(dir, cfg, NULL, NULL);
    fst_assert_same(st, rs, false);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_eq(info.msgs, s.msgs);
    cr_assert_eq(info.last_seq, s.last_seq);
    sd_stream_state_free(&s);
    sd_restore_info_free(&info);
    sd_store_free(rs);
    free(dir);
}

Test(filestore_snap, snapshot) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreSnapshot",
                    "snapshots are written synchronously: no deadline / unread-reader timeout");
    sd_stream_config cfg = {
        .name = "zzz", .subjects = (const char *const[]){"foo"}, .num_subjects = 1};
    sd_filestore_config fo = {.block_size = 8192};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    for (int i = 0; i < 2233; i++)
        sd_suite_store(st, "foo", "Hello Snappy!");
    cr_assert_gt(sd_filestore_num_blocks(st), 5);
    sd_consumer_config ccfg = {.ack_policy = SD_ACK_EXPLICIT};
    sd_consumer_store *o1, *o2;
    cr_assert_eq(st->ops->consumer_store(st, "o22", 0, &ccfg, &o1), 0);
    cr_assert_eq(st->ops->consumer_store(st, "o33", 0, &ccfg, &o2), 0);
    sd_consumer_state cs = {.delivered = {100, 100}, .ack_floor = {22, 22}};
    cr_assert_eq(o1->ops->update(o1, &cs), 0);
    cs.ack_floor.consumer = cs.ack_floor.stream = 33;
    cr_assert_eq(o2->ops->update(o2, &cs), 0);

    sd_snapshot_opts so = {.include_consumers = true, .check_msgs = true};
    size_t n;
    uint8_t *a = take_snapshot(st, &so, &n);
    restore_and_compare(st, &cfg, a, n);
    free(a);

    /* The first 100 removed. */
    for (uint64_t i = 1; i <= 100; i++)
        cr_assert_eq(sd_store_remove_msg(st, i), 1);
    a = take_snapshot(st, &so, &n);
    restore_and_compare(st, &cfg, a, n);
    free(a);

    /* Sporadic interior deletes, and the last message (a trailing delete). */
    srand(7);
    for (int i = 0; i < 50; i++)
        sd_store_remove_msg(st, 101 + (uint64_t)(rand() % 2133));
    sd_store_remove_msg(st, 2233);
    a = take_snapshot(st, &so, &n);
    restore_and_compare(st, &cfg, a, n);

    /* Consumers came along. */
    char *dir2 = fst_new_dir();
    sd_restore_info info;
    cr_assert_eq(restore(dir2, a, n, 4096, &info), 0, "%s", info.error);
    sd_store *rs = fst_open(dir2, &cfg, NULL, NULL);
    sd_consumer_store *r1;
    cr_assert_eq(rs->ops->consumer_store(rs, "o33", 0, &ccfg, &r1), 0);
    sd_consumer_state got;
    cr_assert_eq(r1->ops->state(r1, &got), 0);
    cr_assert_eq(got.delivered.stream, 100);
    cr_assert_eq(got.ack_floor.stream, 33);
    sd_consumer_state_free(&got);
    r1->ops->free(r1);
    /* The restored store takes new messages after the old last sequence. */
    uint64_t seq = sd_suite_store(rs, "foo", "after");
    cr_assert_eq(seq, 2234);
    sd_store_free(rs);
    free(a);

    /* Still writable while (and after) a snapshot is held open. */
    sd_snapshot_result sr;
    cr_assert_eq(sd_store_snapshot(st, NULL, &sr), 0);
    cr_assert_eq(sd_store_remove_msg(st, 122) >= 0, true);
    sd_snapshot_result_free(&sr);
    cr_assert_eq(sr.fd, -1);
    o1->ops->free(o1);
    o2->ops->free(o2);
    sd_store_free(st);
    free(dir);
    free(dir2);
}

Test(filestore_snap, ops_entry_and_empty_stream) {
    sd_stream_config cfg = {.name = "e"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, NULL, NULL);
    /* Empty with a history: last sequence 5, everything gone. */
    for (int i = 0; i < 5; i++)
        sd_suite_store(st, "a", "x");
    cr_assert_eq(sd_store_purge(st, NULL), 0);
    sd_snapshot_result sr;
    cr_assert_eq(st->ops->snapshot(st, 0, false, true, &sr), 0);
    cr_assert_eq(sr.state.last_seq, 5);
    cr_assert_eq(sr.state.msgs, 0);
    size_t n;
    uint8_t *a = read_snapshot(&sr, &n);
    sd_snapshot_result_free(&sr);
    restore_and_compare(st, &cfg, a, n);
    free(a);
    sd_store_free(st);
    free(dir);
}

Test(filestore_snap, chunked_restore_any_piece_size) {
    sd_stream_config cfg = {.name = "c"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, NULL, NULL);
    char payload[3000];
    for (int i = 0; i < 200; i++) {
        memset(payload, 'a' + i % 26, sizeof payload - 1);
        payload[sizeof payload - 1] = '\0';
        sd_suite_store(st, i % 2 ? "s.odd" : "s.even", payload);
    }
    size_t n;
    uint8_t *a = take_snapshot(st, NULL, &n);
    cr_assert_lt(n, 200 * 3000 / 4, "archive is compressed (%zu bytes)", n);
    size_t pieces[] = {1, 7, 4096, 100000};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
        char *d = fst_new_dir();
        sd_restore_info info;
        cr_assert_eq(restore(d, a, n, pieces[i], &info), 0, "piece %zu: %s", pieces[i], info.error);
        sd_store *rs = fst_open(d, &cfg, NULL, NULL);
        fst_assert_same(st, rs, false);
        sd_store_free(rs);
        free(d);
    }
    free(a);
    sd_store_free(st);
    free(dir);
}

Test(filestore_snap, memory_store_snapshot_restores_as_file_store) {
    sd_stream_config cfg = {.name = "m", .storage = SD_STORAGE_MEMORY, .allow_msg_ttl = true};
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_store_env env = {sd_fake_clock_now, &clk};
    sd_store *ms;
    cr_assert_eq(sd_memstore_open(&cfg, &env, &ms), 0);
    for (int i = 0; i < 50; i++)
        sd_suite_store(ms, "m.x", "memory");
    const char *hdr = "NATS/1.0\r\nNats-TTL: 60\r\n\r\n";
    uint64_t ttl_seq;
    cr_assert_eq(sd_store_store_msg(ms, "m.ttl", 5, (const uint8_t *)hdr, strlen(hdr),
                                    (const uint8_t *)"t", 1, 60, &ttl_seq, NULL),
                 0);
    for (uint64_t s = 10; s < 20; s++)
        sd_store_remove_msg(ms, s);
    sd_snapshot_result sr;
    cr_assert_eq(ms->ops->snapshot(ms, 0, false, false, &sr), 0);
    size_t n;
    uint8_t *a = read_snapshot(&sr, &n);
    sd_snapshot_result_free(&sr);
    char *dir = fst_new_dir();
    sd_restore_info info;
    cr_assert_eq(restore(dir, a, n, 1000, &info), 0, "%s", info.error);
    sd_stream_config fcfg = cfg;
    sd_store *fs = fst_open(dir, &fcfg, NULL, &clk);
    fst_assert_same(ms, fs, true); /* bytes are counted differently by the two stores */
    /* The TTL came along: the message expires in the restored store. */
    sd_suite_advance(fs, &clk, 61 * 1000000000LL);
    sd_store_msg sm = {0};
    cr_assert_neq(sd_store_load_msg(fs, ttl_seq, &sm), 0);
    sd_store_msg_free(&sm);
    /* And back into a memory store: the same stream, bytes included. */
    sd_store *ms2;
    cr_assert_eq(sd_memstore_open(&cfg, &env, &ms2), 0);
    cr_assert_eq(sd_store_copy_msgs(fs, ms2), 0);
    fst_assert_same(fs, ms2, true);
    cr_assert_eq(sd_store_copy_msgs(fs, ms2), -EEXIST);
    sd_store_free(ms2);
    sd_store_free(fs);
    sd_store_free(ms);
    free(a);
    free(dir);
}

Test(filestore_snap, copy_msgs_into_memory_store_keeps_gaps_and_trailing_deletes) {
    sd_stream_config cfg = {.name = "m", .storage = SD_STORAGE_MEMORY};
    sd_store *ms;
    cr_assert_eq(sd_memstore_open(&cfg, NULL, &ms), 0);
    for (int i = 0; i < 30; i++)
        sd_suite_store(ms, i % 2 ? "a" : "b", "x");
    for (uint64_t s = 1; s <= 30; s += 3)
        sd_store_remove_msg(ms, s);
    sd_store_remove_msg(ms, 30);
    cr_assert_eq(sd_store_skip_msgs(ms, 31, 4), 0);
    sd_store *copy;
    cr_assert_eq(sd_memstore_open(&cfg, NULL, &copy), 0);
    cr_assert_eq(sd_store_copy_msgs(ms, copy), 0);
    fst_assert_same(ms, copy, false);
    sd_store_free(copy);
    /* An empty stream with a history. */
    cr_assert_eq(sd_store_purge(ms, NULL), 0);
    cr_assert_eq(sd_memstore_open(&cfg, NULL, &copy), 0);
    cr_assert_eq(sd_store_copy_msgs(ms, copy), 0);
    fst_assert_same(ms, copy, false);
    sd_store_free(copy);
    sd_store_free(ms);
}

Test(filestore_snap, extra_files_and_meta) {
    sd_stream_config cfg = {.name = "x"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, NULL, NULL);
    sd_suite_store(st, "a", "1");
    const char *meta = "{\"name\":\"x\"}";
    sd_snapshot_file extra[] = {{"meta.inf", (const uint8_t *)meta, strlen(meta)},
                                {"obs/c1/meta.inf", (const uint8_t *)"{}", 2}};
    sd_snapshot_opts so = {.files = extra, .num_files = 2};
    size_t n;
    uint8_t *a = take_snapshot(st, &so, &n);
    char *d = fst_new_dir();
    sd_restore_info info;
    cr_assert_eq(restore(d, a, n, 512, &info), 0, "%s", info.error);
    cr_assert_eq(info.meta_len, strlen(meta));
    cr_assert_eq(memcmp(info.meta, meta, info.meta_len), 0);
    char p[512];
    snprintf(p, sizeof p, "%s/obs/c1/meta.inf", d);
    cr_assert(exists(p));
    sd_restore_info_free(&info);
    /* Bad extra names are refused. */
    sd_snapshot_file bad[] = {{"../x", (const uint8_t *)"", 0}};
    sd_snapshot_opts sb = {.files = bad, .num_files = 1};
    sd_snapshot_result sr;
    cr_assert_eq(sd_store_snapshot(st, &sb, &sr), -EINVAL);
    /* Restoring over a directory in use is refused. */
    sd_restore *r;
    cr_assert_eq(sd_restore_begin(dir, &r), -EEXIST);
    free(a);
    free(d);
    sd_store_free(st);
    free(dir);
}

/* A restore that must fail: nothing at dir, no partial directory left. */
static void expect_rejected(const uint8_t *a, size_t n, size_t chunk) {
    char *d = fst_new_dir();
    sd_restore_info info;
    int rc = restore(d, a, n, chunk, &info);
    cr_assert_eq(rc, SD_ERR_CORRUPT_STREAM_STATE, "rc %d (%s)", rc, info.error);
    cr_assert(strlen(info.error) > 0);
    cr_assert(!exists(d));
    char p[512];
    snprintf(p, sizeof p, "%s.partial", d);
    cr_assert(!exists(p));
    free(d);
}

Test(filestore_snap, corrupt_archive_rejected) {
    sd_stream_config cfg = {.name = "z"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, NULL, NULL);
    for (int i = 0; i < 300; i++)
        sd_suite_store(st, "z", "some payload that compresses somewhat somewhat somewhat");
    size_t n;
    uint8_t *a = take_snapshot(st, NULL, &n);
    /* A flipped bit anywhere past the stream identifier. */
    size_t spots[] = {12, n / 3, n / 2, n - 3};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        uint8_t *b = malloc(n);
        memcpy(b, a, n);
        b[spots[i]] ^= 0x10;
        expect_rejected(b, n, 777);
        free(b);
    }
    /* Truncated. */
    expect_rejected(a, n / 2, 4096);
    expect_rejected(a, n - 1, 4096);
    /* Not an archive at all. */
    expect_rejected((const uint8_t *)"garbage garbage garbage", 23, 5);
    expect_rejected(a, 0, 1);
    free(a);
    sd_store_free(st);
    free(dir);
}

/* Archives built by hand: a member content that does not match snapshot.sum, a hostile name. */
static uint8_t *build(const char *const *names, const char *const *bodies, size_t nm, size_t *n) {
    char path[] = "/tmp/nxarcXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    fs_arw w;
    fs_arw_init(&w, fd);
    for (size_t i = 0; i < nm; i++)
        cr_assert_eq(fs_arw_file(&w, names[i], (const uint8_t *)bodies[i], strlen(bodies[i]), 0),
                     0);
    cr_assert_eq(fs_arw_finish(&w), 0);
    *n = (size_t)lseek(fd, 0, SEEK_END);
    uint8_t *b = malloc(*n);
    cr_assert_eq(pread(fd, b, *n, 0), (ssize_t)*n);
    close(fd);
    return b;
}

Test(filestore_snap, hostile_or_inconsistent_archive_rejected) {
    size_t n;
    const char *inf = "nxfs-snapshot 1\nmsgs 0\nbytes 0\nfirst_seq 1\nlast_seq 0\n";
    /* ".." in a member name */
    const char *n1[] = {"snapshot.inf", "../escape"};
    const char *b1[] = {inf, "x"};
    uint8_t *a = build(n1, b1, 2, &n);
    expect_rejected(a, n, 100);
    free(a);
    /* A member that snapshot.sum does not list. */
    const char *n2[] = {"snapshot.inf", "meta.inf", "snapshot.sum"};
    const char *b2[] = {inf, "{}", ""};
    a = build(n2, b2, 3, &n);
    expect_rejected(a, n, 100);
    free(a);
    /* A wrong sum. */
    const char *n3[] = {"snapshot.inf", "snapshot.sum"};
    const char *b3[] = {inf, "0123456789abcdef 51 snapshot.inf\n"};
    a = build(n3, b3, 2, &n);
    expect_rejected(a, n, 100);
    free(a);
    /* No snapshot.sum at all. */
    a = build(n3, b3, 1, &n);
    expect_rejected(a, n, 100);
    free(a);
}

Test(filestore_snap, check_msgs_refuses_damaged_store) {
    sd_stream_config cfg = {.name = "d"};
    sd_filestore_config fo = {.block_size = 1024};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    for (int i = 0; i < 100; i++)
        sd_suite_store(st, "d", "0123456789012345678901234567890123456789");
    sd_store_free(st);
    /* A flipped bit in the second block: recovery fences it as lost data. */
    char *bp = fst_blk_path(dir, 2);
    size_t n;
    uint8_t *b = fst_slurp(bp, &n);
    b[n / 2] ^= 0x01;
    fst_spit(bp, b, n);
    free(b);
    free(bp);
    st = fst_open(dir, &cfg, &fo, NULL);
    sd_snapshot_opts so = {.check_msgs = true};
    sd_snapshot_result sr;
    cr_assert_eq(sd_store_snapshot(st, &so, &sr), SD_ERR_CORRUPT_STREAM_STATE);
    /* Without the check, the snapshot has what survived. */
    so.check_msgs = false;
    cr_assert_eq(sd_store_snapshot(st, &so, &sr), 0);
    cr_assert_lt(sr.state.msgs, 100);
    sd_snapshot_result_free(&sr);
    sd_store_free(st);
    free(dir);
}
