/* Sealed-block compression and encryption at rest of the file store
 * (storaged/filestore_pack.c, filestore_crypt.c): ports of Go nats-server v2.14.5
 * server/filestore_test.go TestFileStoreEncrypted and
 * TestFileStoreRestoreEncryptedWithNoKeyFuncFails, and our own tests at the byte level: nothing
 * readable on disk, wrong or missing key refused cleanly, tampering detected and fenced, a crash
 * between a rewrite and its rename, a corrupt compressed block fenced, conversion of plaintext
 * blocks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/gotest.h"
#include "storaged/filestore_int.h"
#include "tests/unit/test_filestore_util.h"

/* Payload formats are passed around as parameters (always literals at the call sites). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_n(sd_store *st, int n, const char *fmt) {
    char payload[128];
    for (int i = 1; i <= n; i++) {
        snprintf(payload, sizeof payload, fmt, i);
        sd_suite_store(st, "foo", payload);
    }
}

static void check_n(sd_store *st, int from, int to, const char *fmt) {
    char payload[128];
    sd_store_msg sm = {0};
    for (int i = from; i <= to; i++) {
        snprintf(payload, sizeof payload, fmt, i);
        int rc = sd_store_load_msg(st, (uint64_t)i, &sm);
        cr_assert_eq(rc, 0, "load %d: %s", i, sd_strerror(rc));
        cr_assert_eq(sm.msg_len, strlen(payload));
        cr_assert_eq(memcmp(sm.msg, payload, sm.msg_len), 0);
    }
    sd_store_msg_free(&sm);
}

/* No block file of dir contains needle. */
static bool on_disk(const char *dir, unsigned max_blk, const char *needle) {
    for (unsigned i = 1; i <= max_blk; i++) {
        char *p = fst_blk_path(dir, i);
        struct stat sb;
        if (stat(p, &sb) == 0) {
            size_t n;
            uint8_t *b = fst_slurp(p, &n);
            bool hit = fst_mem_has(b, n, needle);
            free(b);
            if (hit) {
                free(p);
                return true;
            }
        }
        free(p);
    }
    return false;
}

#define FMT "compressible payload %05d compressible payload compressible payload"

/* --- Compression ------------------------------------------------------------------------- */

Test(filestore_pack, compressed_sealed_blocks_round_trip) {
    sd_stream_config cfg = {.name = "c"};
    sd_filestore_config fo = {.block_size = 4096, .compress = true};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 1000, FMT);
    size_t nb = sd_filestore_num_blocks(st);
    cr_assert_gt(nb, 10);
    cr_assert_eq(sd_filestore_num_packed(st), nb - 1, "every sealed block is packed");
    /* Packed files: the magic, and much smaller than the block size. */
    char *p = fst_blk_path(dir, 2);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    cr_assert_eq(memcmp(b, FS_PACK_MAGIC, 8), 0);
    cr_assert_lt(n, 4096 / 2, "packed block of %zu bytes", n);
    free(b);
    free(p);
    /* Removal, erase in a packed block; then a restart reads both forms. */
    cr_assert_eq(sd_store_remove_msg(st, 10), 1);
    cr_assert_eq(sd_store_erase_msg(st, 20), 1);
    uint8_t *lb;
    size_t ln;
    cr_assert_eq(fs_read_block(fs_of(st), 1, &lb, &ln), 0);
    char gone[128];
    snprintf(gone, sizeof gone, "payload %05d ", 20);
    cr_assert(!fst_mem_has(lb, ln, gone), "erased payload still in the block");
    free(lb);
    sd_stream_state s;
    sd_store_state(st, &s);
    st = fst_restart(st, &cfg, &fo, NULL);
    sd_stream_state r;
    sd_store_state(st, &r);
    cr_assert(r.msgs == s.msgs && r.first_seq == s.first_seq && r.last_seq == s.last_seq &&
              r.num_deleted == 2 && r.lost_len == 0);
    check_n(st, 21, 1000, FMT);
    check_n(st, 1, 9, FMT);
    cr_assert_eq(sd_filestore_num_packed(st), nb - 1);
    sd_stream_state_free(&s);
    sd_stream_state_free(&r);
    /* Turning compression off still reads packed blocks. */
    sd_filestore_config plain = {.block_size = 4096};
    st = fst_restart(st, &cfg, &plain, NULL);
    check_n(st, 900, 1000, FMT);
    sd_store_free(st);
    free(dir);
}

static void crash_at_pack(const char *point) {
    if (strcmp(point, "pack:written") == 0) _exit(42);
}

Test(filestore_pack, crash_between_write_and_rename) {
    sd_stream_config cfg = {.name = "c"};
    sd_filestore_config fo = {.block_size = 4096, .compress = true};
    char *dir = fst_new_dir();
    pid_t pid = fork();
    if (pid == 0) {
        sd_filestore_step_hook = crash_at_pack;
        sd_store *st;
        if (fst_try_open(dir, &cfg, &fo, NULL, &st)) _exit(1);
        char payload[128];
        for (int i = 1; i <= 1000; i++) {
            snprintf(payload, sizeof payload, FMT, i);
            if (sd_store_store_msg(st, "foo", 3, NULL, 0, (const uint8_t *)payload, strlen(payload),
                                   0, NULL, NULL))
                _exit(2);
        }
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    /* The child died inside the call that sealed block 1, before the rename. */
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42, "child status %d", status);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/msgs/00000001.blk.tmp", dir);
    struct stat sb;
    cr_assert_eq(stat(tmp, &sb), 0, "the rewritten block is left under its temporary name");
    char *b1 = fst_blk_path(dir, 1);
    size_t n;
    uint8_t *b = fst_slurp(b1, &n);
    cr_assert_neq(memcmp(b, FS_PACK_MAGIC, 8), 0, "the old block is still in place");
    free(b);
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    cr_assert_neq(stat(tmp, &sb), 0, "temporary file removed on open");
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_gt(s.msgs, 0);
    cr_assert_eq(s.lost_len, 0);
    check_n(st, 1, (int)s.last_seq, FMT);
    cr_assert_geq(sd_filestore_num_packed(st), 1, "sealed block packed on open");
    b = fst_slurp(b1, &n);
    cr_assert_eq(memcmp(b, FS_PACK_MAGIC, 8), 0);
    free(b);
    st = fst_restart(st, &cfg, &fo, NULL);
    check_n(st, 1, (int)s.last_seq, FMT);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(b1);
    free(dir);
}

Test(filestore_pack, corrupt_compressed_block_fenced) {
    sd_stream_config cfg = {.name = "c"};
    sd_filestore_config fo = {.block_size = 4096, .compress = true};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 500, FMT);
    cr_assert_gt(sd_filestore_num_packed(st), 3);
    sd_store_free(st);
    /* Block 2 damaged in its compressed body. */
    char *p = fst_blk_path(dir, 2);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    b[n / 2] ^= 0x40;
    fst_spit(p, b, n);
    free(b);
    st = fst_open(dir, &cfg, &fo, NULL);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_gt(s.lost_len, 10, "the block's messages are reported lost");
    cr_assert_eq(s.lost_bytes, n);
    cr_assert_eq(s.msgs + s.lost_len, 500);
    cr_assert_eq(s.last_seq, 500);
    sd_store_msg sm = {0};
    for (size_t i = 0; i < s.lost_len; i++)
        cr_assert_neq(sd_store_load_msg(st, s.lost_msgs[i], &sm), 0);
    sd_store_msg_free(&sm);
    check_n(st, 1, (int)s.lost_msgs[0] - 1, FMT);
    check_n(st, (int)s.lost_msgs[s.lost_len - 1] + 1, 500, FMT);
    /* New messages continue after the last sequence. */
    cr_assert_eq(sd_suite_store(st, "foo", "new"), 501);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(p);
    free(dir);
}

/* --- Encryption ------------------------------------------------------------------------- */

static void encrypted_round_trip(sd_fs_cipher cipher, bool compress) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config fo = {
        .block_size = 4096, .cipher = cipher, .key = "s3cr3t", .compress = compress};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 300, "aes ought to be fine %05d");
    cr_assert_eq(sd_store_erase_msg(st, 7), 1);
    size_t nb = sd_filestore_num_blocks(st);
    cr_assert_gt(nb, 3);
    cr_assert_eq(sd_filestore_num_packed(st), nb - 1);
    cr_assert(!on_disk(dir, 64, "aes ought"), "plaintext on disk");
    cr_assert(!on_disk(dir, 64, "foo"), "subject on disk");
    st = fst_restart(st, &cfg, &fo, NULL);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert(s.msgs == 299 && s.last_seq == 300 && s.lost_len == 0 && s.lost_bytes == 0);
    sd_stream_state_free(&s);
    check_n(st, 8, 300, "aes ought to be fine %05d");
    /* Appending after a restart (sealed records in the current block). */
    cr_assert_eq(sd_suite_store(st, "foo", "after"), 301);
    st = fst_restart(st, &cfg, &fo, NULL);
    check_n(st, 290, 300, "aes ought to be fine %05d");
    sd_store_free(st);
    free(dir);
}

Test(filestore_crypt, encrypted_chachapoly) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreEncrypted",
                    "per-record AEAD envelopes instead of Go's block key stream; also checks "
                    "that no plaintext reaches the disk");
    encrypted_round_trip(SD_FS_CIPHER_CHACHAPOLY, false);
}

Test(filestore_crypt, encrypted_aes_compressed) {
    encrypted_round_trip(SD_FS_CIPHER_AES, true);
}

Test(filestore_crypt, wrong_or_missing_key_refused) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreRestoreEncryptedWithNoKeyFuncFails",
                    "also a wrong key");
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config fo = {.block_size = 1024, .cipher = SD_FS_CIPHER_AES, .key = "right"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 50, "secret %d");
    sd_store_free(st);
    sd_filestore_config wrong = fo;
    wrong.key = "wrong";
    cr_assert_eq(fst_try_open(dir, &cfg, &wrong, NULL, &st), -EKEYREJECTED);
    sd_filestore_config none = {.block_size = 1024};
    cr_assert_eq(fst_try_open(dir, &cfg, &none, NULL, &st), -ENOKEY);
    /* A different stream name derives another key-encryption key. */
    sd_stream_config other = {.name = "other"};
    cr_assert_eq(fst_try_open(dir, &other, &fo, NULL, &st), -EKEYREJECTED);
    /* Nothing was changed by the refused opens. */
    st = fst_open(dir, &cfg, &fo, NULL);
    check_n(st, 1, 50, "secret %d");
    sd_store_free(st);
    /* The key file lost: the data cannot be read, and is not replaced by an empty stream. */
    char kp[512];
    snprintf(kp, sizeof kp, "%s/key.enc", dir);
    cr_assert_eq(unlink(kp), 0);
    cr_assert_eq(fst_try_open(dir, &cfg, &fo, NULL, &st), -EKEYREJECTED);
    /* A cipher without a key is a configuration error. */
    sd_filestore_config nokey = {.cipher = SD_FS_CIPHER_AES};
    char *d2 = fst_new_dir();
    cr_assert_eq(fst_try_open(d2, &cfg, &nokey, NULL, &st), -EINVAL);
    sd_fs_cipher c;
    cr_assert_eq(sd_filestore_parse_cipher("ChaChaPoly", &c), 0);
    cr_assert_eq(c, SD_FS_CIPHER_CHACHAPOLY);
    cr_assert_eq(sd_filestore_parse_cipher("aes", &c), 0);
    cr_assert_eq(c, SD_FS_CIPHER_AES);
    cr_assert_eq(sd_filestore_parse_cipher("rot13", &c), -EINVAL);
    free(d2);
    free(dir);
}

/* Flips a ciphertext byte of record k (0: the block header) of a log-form block and fixes the
 * record's checksum, so that only the AEAD can tell. */
static void tamper_record(const char *path, int k) {
    size_t n;
    uint8_t *b = fst_slurp(path, &n);
    size_t off = 0;
    for (int i = 0; i < k; i++)
        off += le32(b + off);
    uint32_t len = le32(b + off);
    cr_assert_eq(b[off + 4], FS_REC_SEALED);
    b[off + FS_REC_HDR + FS_NONCE + 5] ^= 0x01;
    put_le64(b + off + len - 8, XXH64(b + off, len - 8, 0));
    fst_spit(path, b, n);
    free(b);
}

Test(filestore_crypt, tamper_detected) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config fo = {.block_size = 2048, .cipher = SD_FS_CIPHER_CHACHAPOLY, .key = "k"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 100, "tamper me %03d");
    size_t nb = sd_filestore_num_blocks(st);
    cr_assert_gt(nb, 2);
    sd_store_free(st);
    /* The current (last, log-form) block: its third message record. */
    char *last = fst_blk_path(dir, (unsigned)nb);
    tamper_record(last, 3);
    /* A packed block: a ciphertext byte, and the file checksum fixed up. */
    char *p2 = fst_blk_path(dir, 2);
    size_t n;
    uint8_t *b = fst_slurp(p2, &n);
    b[FS_PACK_HDR + FS_NONCE + 10] ^= 0x01;
    put_le64(b + n - 8, XXH64(b, n - 8, 0));
    fst_spit(p2, b, n);
    free(b);
    st = fst_open(dir, &cfg, &fo, NULL);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_gt(s.lost_len, 1, "the packed block's messages and the record are lost");
    cr_assert_gt(s.lost_bytes, n);
    cr_assert_eq(s.msgs + s.lost_len, 100);
    /* What is returned is authentic. */
    sd_store_msg sm = {0};
    char want[64];
    for (uint64_t q = 1; q <= 100; q++) {
        if (sd_store_load_msg(st, q, &sm) != 0) continue;
        snprintf(want, sizeof want, "tamper me %03d", (int)q);
        cr_assert_eq(sm.msg_len, strlen(want));
        cr_assert_eq(memcmp(sm.msg, want, sm.msg_len), 0);
    }
    sd_store_msg_free(&sm);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(last);
    free(p2);
    free(dir);
}

Test(filestore_crypt, compressed_store_converted_when_encryption_turned_on) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config comp = {.block_size = 2048, .compress = true};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &comp, NULL);
    store_n(st, 100, "was plaintext %03d");
    cr_assert_gt(sd_filestore_num_packed(st), 2);
    sd_store_free(st);
    cr_assert(on_disk(dir, 64, "was plaintext"), "snappy keeps the first occurrence literal");
    sd_filestore_config enc = comp;
    enc.cipher = SD_FS_CIPHER_AES;
    enc.key = "k";
    st = fst_open(dir, &cfg, &enc, NULL);
    cr_assert(!on_disk(dir, 64, "was plaintext"), "compressed blocks sealed too");
    st = fst_restart(st, &cfg, &enc, NULL);
    check_n(st, 1, 100, "was plaintext %03d");
    sd_store_free(st);
    free(dir);
}

Test(filestore_crypt, plaintext_store_converted_when_encryption_turned_on) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config plain = {.block_size = 2048};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &plain, NULL);
    store_n(st, 100, "was plaintext %03d");
    sd_store_free(st);
    cr_assert(on_disk(dir, 64, "was plaintext"));
    sd_filestore_config enc = {.block_size = 2048, .cipher = SD_FS_CIPHER_CHACHAPOLY, .key = "k"};
    st = fst_open(dir, &cfg, &enc, NULL);
    cr_assert(!on_disk(dir, 64, "was plaintext"), "every block rewritten encrypted");
    check_n(st, 1, 100, "was plaintext %03d");
    st = fst_restart(st, &cfg, &enc, NULL);
    check_n(st, 1, 100, "was plaintext %03d");
    /* A snapshot of it is plaintext inside (Go's too): it restores without the key. */
    sd_snapshot_result sr;
    cr_assert_eq(sd_store_snapshot(st, NULL, &sr), 0);
    uint8_t *a = malloc(sr.size);
    cr_assert_eq(read(sr.fd, a, sr.size), (ssize_t)sr.size);
    char *d2 = fst_new_dir();
    sd_restore *r;
    cr_assert_eq(sd_restore_begin(d2, &r), 0);
    cr_assert_eq(sd_restore_write(r, a, sr.size), 0);
    cr_assert_eq(sd_restore_finish(r, NULL), 0);
    sd_store *rs = fst_open(d2, &cfg, &plain, NULL);
    check_n(rs, 1, 100, "was plaintext %03d");
    sd_store_free(rs);
    sd_snapshot_result_free(&sr);
    free(a);
    free(d2);
    sd_store_free(st);
    free(dir);
}

/* --- Compaction of sparse blocks -------------------------------------------------------- */

/* Bytes of block files 1..upto (those present). */
static uint64_t blocks_bytes(const char *dir, unsigned upto) {
    uint64_t t = 0;
    for (unsigned i = 1; i <= upto; i++) {
        char *p = fst_blk_path(dir, i);
        struct stat sb;
        if (stat(p, &sb) == 0) t += (uint64_t)sb.st_size;
        free(p);
    }
    return t;
}

static void sparse_compaction(const sd_filestore_config *fo) {
    sd_stream_config cfg = {.name = "KV"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, fo, NULL);
    store_n(st, 1000, "ABCABCABCABCABCABCABCABCABCABCABCABCABCABCABC %04d");
    /* The sealed blocks so far (later ones fill with tombstones, which stay). */
    unsigned sealed = (unsigned)sd_filestore_num_blocks(st) - 1;
    uint64_t before = blocks_bytes(dir, sealed);
    /* Three of every four messages go (interior deletes everywhere), and one erase. */
    for (uint64_t q = 1; q <= 1000; q++)
        if (q % 4 != 0) cr_assert_eq(sd_store_remove_msg(st, q), 1);
    cr_assert_eq(sd_store_erase_msg(st, 400), 1);
    cr_assert_eq(sd_filestore_flush(st), 0);
    uint64_t after = blocks_bytes(dir, sealed);
    /* Compressed blocks shrink less (the removed records compressed well). */
    cr_assert_lt(after, fo->compress ? before * 3 / 4 : before / 2, "compacted: %lu -> %lu bytes",
                 (unsigned long)before, (unsigned long)after);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert(s.msgs == 249 && s.first_seq == 4 && s.last_seq == 1000);
    st = fst_restart(st, &cfg, fo, NULL);
    sd_stream_state r;
    sd_store_state(st, &r);
    cr_assert(r.msgs == s.msgs && r.first_seq == s.first_seq && r.last_seq == s.last_seq &&
              r.num_deleted == s.num_deleted && r.lost_len == 0 && r.bytes == s.bytes);
    char want[128];
    sd_store_msg sm = {0};
    for (uint64_t q = 4; q <= 1000; q += 4) {
        int rc = sd_store_load_msg(st, q, &sm);
        if (q == 400) {
            cr_assert_neq(rc, 0);
            continue;
        }
        cr_assert_eq(rc, 0, "load %lu", (unsigned long)q);
        snprintf(want, sizeof want, "ABCABCABCABCABCABCABCABCABCABCABCABCABCABCABC %04d", (int)q);
        cr_assert_eq(memcmp(sm.msg, want, sm.msg_len), 0);
    }
    cr_assert_neq(sd_store_load_msg(st, 5, &sm), 0);
    sd_store_msg_free(&sm);
    cr_assert_eq(sd_suite_store(st, "foo", "next"), 1001);
    sd_stream_state_free(&s);
    sd_stream_state_free(&r);
    sd_store_free(st);
    free(dir);
}

Test(filestore_pack, sparse_compaction) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreSparseCompaction",
                    "compaction is triggered by message counts (live < half of the block's "
                    "message records), not Go's byte counts; no Utilization before/after deltas");
    sd_filestore_config fo = {.block_size = 4096, .sync = SD_FS_SYNC_NONE};
    sparse_compaction(&fo);
}

Test(filestore_pack, sparse_compaction_compressed_encrypted) {
    sd_filestore_config fo = {.block_size = 4096,
                              .sync = SD_FS_SYNC_NONE,
                              .compress = true,
                              .cipher = SD_FS_CIPHER_AES,
                              .key = "k"};
    sparse_compaction(&fo);
}

/* A compacted block keeps its tombstones for messages of earlier blocks. */
Test(filestore_pack, compaction_keeps_tombstones_for_earlier_blocks) {
    GO_TEST_PARTIAL("server/filestore_test.go", "TestFileStoreSparseCompactionWithInteriorDeletes",
                    "tombstones for earlier blocks survive the rewrite; no Go mb internals");
    sd_stream_config cfg = {.name = "t"};
    sd_filestore_config fo = {.block_size = 2048};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 40, "block one message %03d padding padding");
    size_t nb = sd_filestore_num_blocks(st);
    cr_assert_geq(nb, 2);
    cr_assert_eq(sd_store_remove_msg(st, 1), 1); /* tombstone in the current block */
    cr_assert_eq(sd_store_remove_msg(st, 2), 1);
    uint64_t from = 41;
    store_n(st, 40, "block one message %03d padding padding"); /* seals that block */
    cr_assert_gt(sd_filestore_num_blocks(st), nb);
    /* Empty most of the block that holds the tombstones. */
    sd_stream_state s;
    sd_store_state(st, &s);
    uint64_t last = s.last_seq;
    sd_stream_state_free(&s);
    for (uint64_t q = from - 10; q < from + 10; q++)
        if (q % 5 != 0) sd_store_remove_msg(st, q);
    st = fst_restart(st, &cfg, &fo, NULL);
    sd_store_msg sm = {0};
    cr_assert_neq(sd_store_load_msg(st, 1, &sm), 0, "message 1 came back");
    cr_assert_neq(sd_store_load_msg(st, 2, &sm), 0, "message 2 came back");
    cr_assert_eq(sd_store_load_msg(st, 3, &sm), 0);
    cr_assert_eq(sd_store_load_msg(st, from + 10, &sm), 0);
    sd_store_msg_free(&sm);
    sd_store_state(st, &s);
    cr_assert_eq(s.last_seq, last);
    cr_assert_eq(s.first_seq, 3);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(dir);
}

Test(filestore_crypt, consumer_state_encrypted) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_filestore_config fo = {.cipher = SD_FS_CIPHER_CHACHAPOLY, .key = "k"};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 5, "m%d");
    sd_consumer_config ccfg = {.ack_policy = SD_ACK_EXPLICIT};
    sd_consumer_store *o;
    cr_assert_eq(st->ops->consumer_store(st, "dur", 0, &ccfg, &o), 0);
    sd_consumer_state cs = {.delivered = {4, 4}, .ack_floor = {2, 2}};
    cr_assert_eq(o->ops->update(o, &cs), 0);
    o->ops->free(o);
    char p[512];
    snprintf(p, sizeof p, "%s/obs/dur/o.dat", dir);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    cr_assert_eq(memcmp(b, "NXFSENC1", 8), 0, "consumer state sealed on disk");
    free(b);
    st = fst_restart(st, &cfg, &fo, NULL);
    cr_assert_eq(st->ops->consumer_store(st, "dur", 0, &ccfg, &o), 0);
    sd_consumer_state got;
    cr_assert_eq(o->ops->state(o, &got), 0);
    cr_assert(got.delivered.stream == 4 && got.ack_floor.stream == 2);
    sd_consumer_state_free(&got);
    o->ops->free(o);
    /* The snapshot carries it in plaintext: restorable without the key. */
    sd_snapshot_opts so = {.include_consumers = true};
    sd_snapshot_result sr;
    cr_assert_eq(sd_store_snapshot(st, &so, &sr), 0);
    uint8_t *a = malloc(sr.size);
    cr_assert_eq(read(sr.fd, a, sr.size), (ssize_t)sr.size);
    char *d2 = fst_new_dir();
    sd_restore *r;
    cr_assert_eq(sd_restore_begin(d2, &r), 0);
    cr_assert_eq(sd_restore_write(r, a, sr.size), 0);
    cr_assert_eq(sd_restore_finish(r, NULL), 0);
    sd_store *rs = fst_open(d2, &cfg, NULL, NULL);
    cr_assert_eq(rs->ops->consumer_store(rs, "dur", 0, &ccfg, &o), 0);
    cr_assert_eq(o->ops->state(o, &got), 0);
    cr_assert(got.delivered.stream == 4 && got.ack_floor.stream == 2);
    sd_consumer_state_free(&got);
    o->ops->free(o);
    sd_store_free(rs);
    sd_snapshot_result_free(&sr);
    free(a);
    free(d2);
    sd_store_free(st);
    free(dir);
}

/* The last block on disk is a packed one (the current block file is gone): open starts a new
 * current block after it and keeps appending. */
Test(filestore_pack, packed_last_block_gets_new_current_block) {
    sd_stream_config cfg = {.name = "c"};
    sd_filestore_config fo = {.block_size = 4096, .compress = true};
    char *dir = fst_new_dir();
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    store_n(st, 300, FMT);
    size_t nb = sd_filestore_num_blocks(st);
    sd_store_free(st);
    char *last = fst_blk_path(dir, (unsigned)nb);
    cr_assert_eq(unlink(last), 0);
    st = fst_open(dir, &cfg, &fo, NULL);
    sd_stream_state s;
    sd_store_state(st, &s);
    cr_assert_gt(s.msgs, 0);
    check_n(st, 1, (int)s.last_seq, FMT);
    uint64_t next = sd_suite_store(st, "foo", "after");
    cr_assert_eq(next, s.last_seq + 1);
    cr_assert_eq(sd_filestore_num_blocks(st), nb, "a new current block after the packed one");
    st = fst_restart(st, &cfg, &fo, NULL);
    check_n(st, 1, (int)s.last_seq, FMT);
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, next, &sm), 0);
    sd_store_msg_free(&sm);
    sd_stream_state_free(&s);
    sd_store_free(st);
    free(last);
    free(dir);
}
