/* The file store's memory bound (storaged/filestore_cache.c): message bodies are read back
 * from the block files through a block cache bounded by bytes.  Our own tests (Go bounds its
 * per-block caches with expiry timers, server/filestore.go, and has no direct equivalent):
 * many MB of messages stay under the bound while storing, loading and after recovery, in plain,
 * compressed, encrypted and compressed+encrypted stores, with every byte checked; damaged
 * records found on reload are fenced like damage at recovery; erase, compaction and truncate
 * keep cached copies in step with the blocks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storaged/filestore.h"
#include "tests/unit/test_filestore_util.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* --- Deterministic messages: every body is a function of its sequence -------------------- */

#define BODY_MAX 2048

/* Payload of seq: a readable prefix, a compressible half, a pseudo-random half. */
static size_t payload_of(uint64_t seq, uint8_t *buf) {
    size_t n = 300 + (size_t)(seq * 7919 % 1300);
    int k = snprintf((char *)buf, BODY_MAX, "P%08llu-", (unsigned long long)seq);
    uint64_t x = seq * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = (size_t)k; i < n; i++) {
        if (i < n / 2) {
            buf[i] = (uint8_t)('a' + i % 7);
            continue;
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    return n;
}

static size_t header_of(uint64_t seq, char *buf) {
    if (seq % 3) return 0;
    return (size_t)snprintf(buf, 64, "NATS/1.0\r\nX-Seq: %llu\r\n\r\n", (unsigned long long)seq);
}

static void subject_of(uint64_t seq, char *buf) {
    snprintf(buf, 32, "s.%llu", (unsigned long long)(seq % 10));
}

static void store_one(sd_store *st, uint64_t want) {
    uint8_t body[BODY_MAX];
    char hdr[64], subj[32];
    size_t n = payload_of(want, body), hl = header_of(want, hdr);
    subject_of(want, subj);
    uint64_t seq = 0;
    int rc = sd_store_store_msg(st, subj, strlen(subj), hl ? (const uint8_t *)hdr : NULL, hl, body,
                                n, 0, &seq, NULL);
    cr_assert_eq(rc, 0, "store %llu: %s", (unsigned long long)want, sd_strerror(rc));
    cr_assert_eq(seq, want);
}

static void check_body(const sd_store_msg *sm, uint64_t seq) {
    uint8_t body[BODY_MAX];
    char hdr[64], subj[32];
    size_t n = payload_of(seq, body), hl = header_of(seq, hdr);
    subject_of(seq, subj);
    cr_assert_eq(sm->seq, seq);
    cr_assert_str_eq(sm->subj, subj);
    cr_assert_eq(sm->hdr_len, hl, "seq %llu: header length", (unsigned long long)seq);
    if (hl) cr_assert_eq(memcmp(sm->hdr, hdr, hl), 0);
    cr_assert_eq(sm->msg_len, n, "seq %llu: payload length", (unsigned long long)seq);
    cr_assert_eq(memcmp(sm->msg, body, n), 0, "seq %llu: payload bytes", (unsigned long long)seq);
}

static void check_load(sd_store *st, uint64_t seq, sd_store_msg *sm) {
    int rc = sd_store_load_msg(st, seq, sm);
    cr_assert_eq(rc, 0, "load %llu: %s", (unsigned long long)seq, sd_strerror(rc));
    check_body(sm, seq);
}

#define ASSERT_BOUND(st, max)                                                                      \
    cr_assert_leq(sd_filestore_cache_bytes(st), (uint64_t)(max), "cache holds %llu bytes",         \
                  (unsigned long long)sd_filestore_cache_bytes(st))

/* --- The bound ------------------------------------------------------------------------------ */

static sd_filestore_config cfg_for(const char *perm, uint64_t cache_max, uint64_t block_size) {
    sd_filestore_config fc = {
        .block_size = block_size, .sync = SD_FS_SYNC_NONE, .cache_max = cache_max};
    if (strstr(perm, "compress")) fc.compress = true;
    if (strstr(perm, "chacha")) fc.cipher = SD_FS_CIPHER_CHACHAPOLY;
    if (strstr(perm, "aes")) fc.cipher = SD_FS_CIPHER_AES;
    if (fc.cipher) fc.key = "cache-test-key";
    return fc;
}

/* ~18 MiB of messages in 128 KiB blocks with a 1 MiB cache: the cache never holds more than its
 * bound (between calls), every body reads back exactly (sequentially, at random, last per
 * subject, backwards), and a reopened store starts from the index only. */
static void bound_test(const char *perm) {
    const uint64_t cache_max = 1 * MIB, n = 20000;
    sd_filestore_config fc = cfg_for(perm, cache_max, 128 * KIB);
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    uint64_t body_bytes = 0;
    for (uint64_t s = 1; s <= n; s++) {
        store_one(st, s);
        ASSERT_BOUND(st, cache_max);
        uint8_t b[BODY_MAX];
        char h[64];
        body_bytes += payload_of(s, b) + header_of(s, h);
    }
    cr_assert_gt(body_bytes, 16 * MIB);
    cr_assert_eq(sd_filestore_flush(st), 0);
    cr_assert_gt(sd_filestore_num_blocks(st), 64);
    if (fc.compress || fc.cipher)
        cr_assert_gt(sd_filestore_num_packed(st), 64, "sealed blocks are packed");
    else
        cr_assert_eq(sd_filestore_num_packed(st), 0);

    for (int round = 0; round < 2; round++) {
        sd_store_msg sm = {0};
        /* Sequential, as a consumer reads. */
        uint64_t seq = 0, next = 1, found = 0;
        while (sd_store_load_next_msg(st, ">", true, next, &sm, &seq) == 0) {
            check_body(&sm, seq);
            ASSERT_BOUND(st, cache_max);
            cr_assert_eq(seq, next);
            next = seq + 1, found++;
        }
        cr_assert_eq(found, n);
        /* At random. */
        uint64_t x = 88172645463325252ULL;
        for (int i = 0; i < 3000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            check_load(st, 1 + x % n, &sm);
            ASSERT_BOUND(st, cache_max);
        }
        /* Last per subject, and backwards from the end. */
        for (uint64_t k = 0; k < 10; k++) {
            char subj[32];
            subject_of(k, subj);
            cr_assert_eq(sd_store_load_last_msg(st, subj, &sm), 0);
            check_body(&sm, n - (n % 10 + 10 - k) % 10);
        }
        for (uint64_t s = n; s > n - 500; s--) {
            cr_assert_eq(sd_store_load_prev_msg(st, ">", true, s, &sm, &seq), 0);
            cr_assert_eq(seq, s);
            check_body(&sm, s);
        }
        ASSERT_BOUND(st, cache_max);
        sd_store_msg_free(&sm);
        /* Recovery keeps the index only: nothing of the sealed blocks is loaded. */
        st = fst_restart(st, &cfg, &fc, NULL);
        cr_assert_leq(sd_filestore_cache_bytes(st), 128 * KIB + 64 * KIB, "after open: %llu",
                      (unsigned long long)sd_filestore_cache_bytes(st));
        sd_stream_state ss;
        sd_store_state(st, &ss);
        cr_assert_eq(ss.msgs, n);
        cr_assert_eq(ss.lost_len, 0);
        sd_stream_state_free(&ss);
    }
    /* Messages stored after recovery join the current block and read back too. */
    for (uint64_t s = n + 1; s <= n + 200; s++)
        store_one(st, s);
    sd_store_msg sm = {0};
    for (uint64_t s = n - 50; s <= n + 200; s++)
        check_load(st, s, &sm);
    sd_store_msg_free(&sm);
    ASSERT_BOUND(st, cache_max);
    sd_store_free(st);
    free(dir);
}

Test(filestore_cache, bound_plain, .timeout = 120) {
    bound_test("");
}
Test(filestore_cache, bound_compressed, .timeout = 120) {
    bound_test("compress");
}
Test(filestore_cache, bound_encrypted, .timeout = 120) {
    bound_test("chacha");
}
Test(filestore_cache, bound_compressed_aes, .timeout = 120) {
    bound_test("compress+aes");
}

/* A cache smaller than a block: nothing is cached, every load reads its record alone (log
 * form) or decodes its block for that load (packed), and the bytes are right. */
Test(filestore_cache, smaller_than_a_block) {
    const char *perms[] = {"", "compress", "chacha", "compress+aes"};
    for (size_t p = 0; p < 4; p++) {
        sd_filestore_config fc = cfg_for(perms[p], 8 * KIB, 64 * KIB);
        char *dir = fst_new_dir();
        sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
        sd_store *st = fst_open(dir, &cfg, &fc, NULL);
        for (uint64_t s = 1; s <= 600; s++)
            store_one(st, s);
        sd_store_msg sm = {0};
        for (uint64_t s = 1; s <= 600; s += 7) {
            check_load(st, s, &sm);
            cr_assert_eq(sd_filestore_cache_bytes(st), 0);
        }
        sd_store_msg_free(&sm);
        sd_store_free(st);
        free(dir);
    }
}

/* --- Damage found on reload ------------------------------------------------------------- */

static size_t find(const uint8_t *b, size_t n, const char *needle) {
    size_t l = strlen(needle);
    for (size_t i = 0; i + l <= n; i++)
        if (memcmp(b + i, needle, l) == 0) return i;
    return (size_t)-1;
}

static bool lost_has(sd_store *st, uint64_t seq, size_t *nlost) {
    sd_stream_state ss;
    sd_store_state(st, &ss);
    bool hit = false;
    for (size_t i = 0; i < ss.lost_len; i++)
        hit = hit || ss.lost_msgs[i] == seq;
    if (nlost) *nlost = ss.lost_len;
    sd_stream_state_free(&ss);
    return hit;
}

/* A flipped bit in the payload of a message in a sealed plain block that is not cached:
 * the load fails its checksum, the message is fenced (gone, reported lost), neighbours read
 * fine, scans step over it, and reopening reports the same loss. */
Test(filestore_cache, corrupt_record_on_reload) {
    sd_filestore_config fc = cfg_for("", 1, 8 * KIB);
    fc.sync = SD_FS_SYNC_ALWAYS;
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 100; s++)
        store_one(st, s);
    /* Find message 20 in its block. */
    uint64_t victim = 20;
    bool done = false;
    for (unsigned i = 1; i < 40 && !done; i++) {
        char *p = fst_blk_path(dir, i);
        struct stat sb;
        if (stat(p, &sb) == 0) {
            size_t n;
            uint8_t *b = fst_slurp(p, &n);
            size_t at = find(b, n, "P00000020-");
            if (at != (size_t)-1) {
                b[at + 40] ^= 0x10;
                fst_spit(p, b, n);
                done = true;
            }
            free(b);
        }
        free(p);
    }
    cr_assert(done);
    sd_store_msg sm = {0};
    cr_assert_eq(sd_store_load_msg(st, victim, &sm), SD_ERR_MSG_NOT_FOUND);
    size_t nlost = 0;
    cr_assert(lost_has(st, victim, &nlost));
    cr_assert_eq(nlost, 1);
    sd_stream_state ss;
    sd_store_state(st, &ss);
    cr_assert_eq(ss.msgs, 99);
    sd_stream_state_free(&ss);
    check_load(st, victim - 1, &sm);
    check_load(st, victim + 1, &sm);
    uint64_t seq = 0;
    cr_assert_eq(sd_store_load_next_msg(st, ">", true, victim, &sm, &seq), 0);
    cr_assert_eq(seq, victim + 1);
    /* Recovery finds the same damage. */
    st = fst_restart(st, &cfg, &fc, NULL);
    cr_assert(lost_has(st, victim, NULL));
    cr_assert_eq(sd_store_load_msg(st, victim, &sm), SD_ERR_MSG_NOT_FOUND);
    check_load(st, victim + 1, &sm);
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* Flips one bit in the payload of message seq on disk (its block found by content). */
static void flip_payload(const char *dir, uint64_t seq, size_t delta) {
    char pat[32];
    snprintf(pat, sizeof pat, "P%08llu-", (unsigned long long)seq);
    for (unsigned i = 1; i < 200; i++) {
        char *p = fst_blk_path(dir, i);
        struct stat sb;
        bool hit = false;
        if (stat(p, &sb) == 0) {
            size_t n;
            uint8_t *b = fst_slurp(p, &n);
            size_t at = find(b, n, pat);
            if (at != (size_t)-1) {
                b[at + delta] ^= 0x04;
                fst_spit(p, b, n);
                hit = true;
            }
            free(b);
        }
        free(p);
        if (hit) return;
    }
    cr_assert_fail("message %llu not found on disk", (unsigned long long)seq);
}

/* Checksums are verified once when a block is read into the cache: a block with damage in it
 * is not marked verified, so its loads check every record, the damaged one is fenced and the
 * others (before and after it, in a scan and at random) read right. */
Test(filestore_cache, corrupt_record_in_filled_block) {
    sd_filestore_config fc = cfg_for("", 1 * MIB, 16 * KIB);
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 120; s++)
        store_one(st, s);
    st = fst_restart(st, &cfg, &fc, NULL); /* nothing cached */
    flip_payload(dir, 30, 60);
    sd_store_msg sm = {0};
    uint64_t seq = 0, next = 1, n = 0;
    while (sd_store_load_next_msg(st, ">", true, next, &sm, &seq) == 0) {
        cr_assert_neq(seq, 30);
        check_body(&sm, seq);
        next = seq + 1;
        n++;
    }
    cr_assert_eq(n, 119);
    cr_assert(lost_has(st, 30, NULL));
    for (uint64_t k = 0; k < 120; k++) {
        uint64_t s = 120 - k * 7 % 120; /* scattered, 120 down */
        if (s != 30) check_load(st, s, &sm);
    }
    cr_assert_eq(sd_store_load_msg(st, 30, &sm), SD_ERR_MSG_NOT_FOUND);
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* Random loads from blocks that are not cached read single records through a descriptor kept
 * open; a block rewritten under it (compaction renames a new file over it) must be read from
 * the new file, at the records' new offsets. */
Test(filestore_cache, single_record_reads_follow_rewrites) {
    sd_filestore_config fc = cfg_for("", 8 * KIB, 16 * KIB);
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 300; s++)
        store_one(st, s);
    sd_store_msg sm = {0};
    for (uint64_t k = 0; k < 300; k++)
        check_load(st, 1 + k * 37 % 300, &sm); /* scattered: one record at a time */
    check_load(st, 12, &sm); /* the first block's descriptor is open */
    for (uint64_t s = 1; s <= 200; s++)
        if (s % 5) cr_assert_eq(sd_store_remove_msg(st, s), 1);
    for (uint64_t k = 0; k < 300; k++) {
        uint64_t s = 1 + k * 37 % 300;
        if (s <= 200 && s % 5)
            cr_assert_eq(sd_store_load_msg(st, s, &sm), SD_ERR_MSG_NOT_FOUND);
        else
            check_load(st, s, &sm);
    }
    cr_assert(!lost_has(st, 5, NULL));
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* The scan finds the damage itself: load_next over a damaged record returns the next message. */
Test(filestore_cache, corrupt_record_skipped_by_scan) {
    sd_filestore_config fc = cfg_for("", 1, 8 * KIB);
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 60; s++)
        store_one(st, s);
    cr_assert_eq(sd_filestore_flush(st), 0);
    char *p = fst_blk_path(dir, 1);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    size_t at = find(b, n, "P00000002-");
    cr_assert_neq(at, (size_t)-1);
    b[at + 100] ^= 0x01;
    fst_spit(p, b, n);
    free(b);
    free(p);
    sd_store_msg sm = {0};
    uint64_t seq = 0;
    cr_assert_eq(sd_store_load_next_msg(st, ">", true, 2, &sm, &seq), 0);
    cr_assert_eq(seq, 3);
    check_body(&sm, 3);
    cr_assert(lost_has(st, 2, NULL));
    /* Backwards too. */
    cr_assert_eq(sd_store_load_prev_msg(st, ">", true, 2, &sm, &seq), 0);
    cr_assert_eq(seq, 1);
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* A packed (compressed) block that no longer opens: every message in it is fenced at the first
 * load that needs it; the messages of other blocks read fine. */
Test(filestore_cache, corrupt_packed_block_on_reload) {
    sd_filestore_config fc = cfg_for("compress", 1, 8 * KIB);
    fc.sync = SD_FS_SYNC_ALWAYS;
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 100; s++)
        store_one(st, s);
    cr_assert_gt(sd_filestore_num_packed(st), 3);
    char *p = fst_blk_path(dir, 3);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    b[n / 2] ^= 0x40;
    fst_spit(p, b, n);
    free(b);
    free(p);
    sd_store_msg sm = {0};
    uint64_t gone = 0, first_gone = 0, last_gone = 0;
    for (uint64_t s = 1; s <= 100; s++) {
        int rc = sd_store_load_msg(st, s, &sm);
        if (rc == 0) {
            check_body(&sm, s);
            continue;
        }
        cr_assert_eq(rc, SD_ERR_MSG_NOT_FOUND);
        if (!first_gone) first_gone = s;
        cr_assert(last_gone == 0 || last_gone == s - 1, "one block's messages: contiguous");
        last_gone = s;
        gone++;
    }
    cr_assert_gt(gone, 1);
    size_t nlost = 0;
    cr_assert(lost_has(st, first_gone, &nlost));
    cr_assert_eq(nlost, gone);
    sd_stream_state ss;
    sd_store_state(st, &ss);
    cr_assert_eq(ss.msgs, 100 - gone);
    sd_stream_state_free(&ss);
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* Tampering with a sealed record of the (encrypted, log-form) current block: the reload fails
 * authentication and the message is fenced. */
Test(filestore_cache, tampered_sealed_record_on_reload) {
    sd_filestore_config fc = cfg_for("chacha", 1, 0);
    fc.sync = SD_FS_SYNC_ALWAYS;
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 30; s++)
        store_one(st, s);
    char *p = fst_blk_path(dir, 1);
    size_t n;
    uint8_t *b = fst_slurp(p, &n);
    b[n - 200] ^= 0x04; /* inside the last message's envelope */
    fst_spit(p, b, n);
    free(b);
    free(p);
    sd_store_msg sm = {0};
    uint64_t gone = 0;
    for (uint64_t s = 1; s <= 30; s++) {
        int rc = sd_store_load_msg(st, s, &sm);
        if (rc == 0)
            check_body(&sm, s);
        else
            gone = s;
    }
    cr_assert_eq(gone, 30);
    cr_assert(lost_has(st, 30, NULL));
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* --- Cached copies follow the blocks --------------------------------------------------- */

/* Erase overwrites the record on disk: a cached copy (current block and a sealed block) must
 * not keep serving the message, and the neighbours still read right. */
Test(filestore_cache, erase_drops_cached_copy) {
    const char *perms[] = {"", "compress+aes"};
    for (size_t pi = 0; pi < 2; pi++) {
        sd_filestore_config fc = cfg_for(perms[pi], 4 * MIB, 16 * KIB);
        fc.sync = SD_FS_SYNC_ALWAYS;
        char *dir = fst_new_dir();
        sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
        sd_store *st = fst_open(dir, &cfg, &fc, NULL);
        for (uint64_t s = 1; s <= 80; s++)
            store_one(st, s);
        sd_store_msg sm = {0};
        for (uint64_t s = 1; s <= 80; s++)
            check_load(st, s, &sm); /* everything cached now */
        cr_assert_gt(sd_filestore_cache_blocks(st), 2);
        uint64_t victims[] = {3, 79};
        for (int v = 0; v < 2; v++) {
            cr_assert_eq(sd_store_erase_msg(st, victims[v]), 1);
            cr_assert_eq(sd_store_load_msg(st, victims[v], &sm), SD_ERR_MSG_NOT_FOUND);
            check_load(st, victims[v] - 1, &sm);
            check_load(st, victims[v] + 1, &sm);
        }
        if (!*perms[pi]) {
            /* Nothing of the erased payloads left on disk. */
            for (unsigned i = 1; i <= sd_filestore_num_blocks(st) + 1; i++) {
                char *p = fst_blk_path(dir, i);
                struct stat sb;
                if (stat(p, &sb) == 0) {
                    size_t n;
                    uint8_t *b = fst_slurp(p, &n);
                    cr_assert_eq(find(b, n, "P00000003-"), (size_t)-1);
                    cr_assert_eq(find(b, n, "P00000079-"), (size_t)-1);
                    free(b);
                }
                free(p);
            }
        }
        for (uint64_t s = 1; s <= 80; s++)
            if (s != 3 && s != 79) check_load(st, s, &sm);
        sd_store_msg_free(&sm);
        sd_store_free(st);
        free(dir);
    }
}

/* Compaction rewrites sparse sealed blocks (offsets move): cached copies of them go, and the
 * remaining messages read back right. */
Test(filestore_cache, compaction_moves_records) {
    const char *perms[] = {"", "compress"};
    for (size_t pi = 0; pi < 2; pi++) {
        sd_filestore_config fc = cfg_for(perms[pi], 4 * MIB, 16 * KIB);
        char *dir = fst_new_dir();
        sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
        sd_store *st = fst_open(dir, &cfg, &fc, NULL);
        for (uint64_t s = 1; s <= 300; s++)
            store_one(st, s);
        sd_store_msg sm = {0};
        for (uint64_t s = 1; s <= 300; s++)
            check_load(st, s, &sm);
        for (uint64_t s = 1; s <= 200; s++)
            if (s % 5) cr_assert_eq(sd_store_remove_msg(st, s), 1);
        for (uint64_t s = 1; s <= 300; s++) {
            if (s <= 200 && s % 5)
                cr_assert_eq(sd_store_load_msg(st, s, &sm), SD_ERR_MSG_NOT_FOUND);
            else
                check_load(st, s, &sm);
        }
        st = fst_restart(st, &cfg, &fc, NULL);
        for (uint64_t s = 5; s <= 300; s += 5)
            check_load(st, s, &sm);
        sd_store_msg_free(&sm);
        sd_store_free(st);
        free(dir);
    }
}

/* Truncate gives sequences back: new messages under old sequences read back as the new ones,
 * whatever was cached. */
Test(filestore_cache, truncate_reuses_sequences) {
    sd_filestore_config fc = cfg_for("", 4 * MIB, 16 * KIB);
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "C", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    for (uint64_t s = 1; s <= 60; s++)
        sd_suite_store(st, "foo", "old");
    sd_store_msg sm = {0};
    for (uint64_t s = 1; s <= 60; s++)
        cr_assert_eq(sd_store_load_msg(st, s, &sm), 0);
    cr_assert_eq(sd_store_truncate(st, 30), 0);
    for (uint64_t s = 31; s <= 60; s++)
        store_one(st, s);
    for (uint64_t s = 31; s <= 60; s++)
        check_load(st, s, &sm);
    st = fst_restart(st, &cfg, &fc, NULL);
    for (uint64_t s = 31; s <= 60; s++)
        check_load(st, s, &sm);
    cr_assert_eq(sd_store_load_msg(st, 30, &sm), 0);
    cr_assert_eq(sm.msg_len, 3);
    sd_store_msg_free(&sm);
    sd_store_free(st);
    free(dir);
}

/* --- Resident memory ---------------------------------------------------------------------- */

/* A /proc/self/status field in KiB (VmRSS, VmHWM). */
static long status_kib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') v = strtol(line + kl + 1, NULL, 10);
    fclose(f);
    cr_assert_geq(v, 0, "%s in /proc/self/status", key);
    return v;
}

/* The process as a whole: 200 MiB of messages stored, read back and recovered with the default
 * cache bound (64 MiB) and block size never make the process hold anything near the stream's
 * size (peak resident size, VmHWM, of this test process: the cache, the index of 51200
 * messages and small buffers). */
Test(filestore_cache, resident_memory_bounded, .timeout = 300) {
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's shadow memory and quarantine of freed memory say nothing about the store. */
    cr_skip_test("resident size is not meaningful under AddressSanitizer");
#endif
    const uint64_t n = 51200, psize = 4096;
    sd_filestore_config fc = {.sync = SD_FS_SYNC_NONE};
    char *dir = fst_new_dir();
    sd_stream_config cfg = {.name = "R", .storage = SD_STORAGE_FILE};
    sd_store *st = fst_open(dir, &cfg, &fc, NULL);
    uint8_t *payload = malloc(psize);
    cr_assert_not_null(payload);
    for (size_t i = 0; i < psize; i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    for (uint64_t s = 1; s <= n; s++) {
        snprintf((char *)payload, 16, "R%010llu", (unsigned long long)s);
        cr_assert_eq(
            sd_store_store_msg(st, "big.stream", 10, NULL, 0, payload, psize, 0, NULL, NULL), 0);
    }
    cr_assert_eq(sd_filestore_flush(st), 0);
    for (int round = 0; round < 2; round++) {
        sd_store_msg sm = {0};
        uint64_t seq = 0, next = 1;
        char want[16];
        while (sd_store_load_next_msg(st, ">", true, next, &sm, &seq) == 0) {
            snprintf(want, sizeof want, "R%010llu", (unsigned long long)seq);
            cr_assert_eq(sm.msg_len, psize);
            cr_assert_eq(memcmp(sm.msg, want, 11), 0);
            cr_assert_eq(sm.msg[psize - 1], (uint8_t)((psize - 1) * 31 + 7));
            next = seq + 1;
        }
        cr_assert_eq(next, n + 1);
        sd_store_msg_free(&sm);
        ASSERT_BOUND(st, SD_FS_DEFAULT_CACHE);
        if (round == 0) st = fst_restart(st, &cfg, &fc, NULL);
    }
    long hwm = status_kib("VmHWM"), rss = status_kib("VmRSS");
    cr_log_info("200 MiB stream: peak resident %ld KiB, now %ld KiB", hwm, rss);
    cr_assert_lt(hwm, 120 * 1024, "peak resident size %ld KiB for a 200 MiB stream", hwm);
    free(payload);
    sd_store_free(st);
    free(dir);
}
