/* Helpers of the file store's test files that share one executable (test_filestore.c,
 * test_filestore_more.c): directories, the options and NXFS_PERM permutations the stores are
 * opened with, and assertions (see test_filestore_helpers.h). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/unit/test_filestore_helpers.h"

/* --- Directories and the factory ------------------------------------------------------- */

static char base_dir[256];
static int dir_count;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_base(void) {
    if (base_dir[0]) nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new, empty stream directory. */
char *new_dir(void) {
    if (!base_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(base_dir, sizeof base_dir, "%s/nxfs-XXXXXX", t && *t ? t : "/tmp");
        cr_assert_not_null(mkdtemp(base_dir));
        atexit(rm_base);
    }
    char *d = malloc(strlen(base_dir) + 32);
    sprintf(d, "%s/s%d", base_dir, ++dir_count);
    return d;
}

/* Options of the stores the factory opens (tests may change them before opening). */
sd_filestore_config fs_opts;

/* NXFS_PERM ("compress", "chacha", "aes", "compress+aes") runs every test with sealed-block
 * compression and/or encryption on (Go's testFileStoreAllPermutations); meson registers the
 * permutations as their own tests.  Tests that inspect raw block bytes skip themselves.
 * NXFS_CACHE bounds the block cache (meson's filestore_nocache runs everything with 1 byte:
 * every load reads its record back from the block files). */
void apply_perm(sd_filestore_config *fc) {
    /* NXFS_CACHE=<bytes>: the block cache bound (1: every load reads the blocks). */
    const char *cm = getenv("NXFS_CACHE");
    if (cm && *cm && !fc->cache_max) fc->cache_max = strtoull(cm, NULL, 10);
    const char *p = getenv("NXFS_PERM");
    if (!p) return;
    if (strstr(p, "compress")) fc->compress = true;
    if (strstr(p, "chacha")) fc->cipher = SD_FS_CIPHER_CHACHAPOLY;
    if (strstr(p, "aes")) fc->cipher = SD_FS_CIPHER_AES;
    if (fc->cipher) fc->key = "s3cr3t-test-key";
}

/* Tests of the raw block layout (bytes, offsets, records per block) skip themselves under
 * the permutations that change it: encryption (envelopes), or any (packed sealed blocks). */
void raw_layout_only(bool any_perm) {
    const char *p = getenv("NXFS_PERM");
    if (p && *p && (any_perm || strstr(p, "chacha") || strstr(p, "aes")))
        cr_skip_test("inspects the raw block layout (NXFS_PERM=%s)", p);
}

int fs_open_dir(const char *dir, const sd_stream_config *cfg, const sd_store_env *env,
                sd_store **out) {
    sd_filestore_config fc = fs_opts;
    apply_perm(&fc);
    fc.dir = dir;
    return sd_filestore_open(&fc, cfg, env, out);
}

int fs_open(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **out) {
    (void)arg;
    char *d = new_dir();
    int rc = fs_open_dir(d, cfg, env, out);
    free(d);
    return rc;
}

int fs_reopen(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **st) {
    (void)arg;
    char *d = strdup(sd_filestore_dir(*st));
    sd_store_free(*st);
    *st = NULL;
    int rc = fs_open_dir(d, cfg, env, st);
    free(d);
    return rc;
}

int fs_remove_tomb(void *arg, sd_store *st, uint64_t seq) {
    (void)arg;
    return sd_store_remove_msg(st, seq); /* every removal writes a tombstone */
}

/* --- Helpers for the file store's own tests ------------------------------------------------ */

/* A file store in a new directory (fake clock when clk is set), with options fo. */
sd_store *open_fs(const char *dir, sd_stream_config *cfg, sd_fake_clock *clk) {
    cfg->storage = SD_STORAGE_FILE;
    sd_store_env env = {sd_fake_clock_now, clk};
    sd_store *st = NULL;
    int rc = fs_open_dir(dir, cfg, clk ? &env : NULL, &st);
    cr_assert_eq(rc, 0, "open %s: %s", dir, sd_strerror(rc));
    return st;
}

sd_store *restart(sd_store *st, sd_stream_config *cfg, sd_fake_clock *clk) {
    char *d = strdup(sd_filestore_dir(st));
    sd_store_free(st);
    st = open_fs(d, cfg, clk);
    free(d);
    return st;
}

uint64_t put(sd_store *st, const char *subj, const char *msg) {
    return sd_suite_store(st, subj, msg);
}

void assert_same_state(sd_store *a_st, const sd_stream_state *b) {
    sd_stream_state a;
    sd_store_state(a_st, &a);
    cr_assert_eq(a.msgs, b->msgs, "msgs %lu vs %lu", (unsigned long)a.msgs, (unsigned long)b->msgs);
    cr_assert_eq(a.bytes, b->bytes);
    cr_assert_eq(a.first_seq, b->first_seq, "first %lu vs %lu", (unsigned long)a.first_seq,
                 (unsigned long)b->first_seq);
    cr_assert_eq(a.last_seq, b->last_seq, "last %lu vs %lu", (unsigned long)a.last_seq,
                 (unsigned long)b->last_seq);
    cr_assert_eq(a.first_ts, b->first_ts);
    cr_assert_eq(a.last_ts, b->last_ts);
    cr_assert_eq(a.num_subjects, b->num_subjects);
    cr_assert_eq(a.num_deleted, b->num_deleted);
    cr_assert_eq(a.deleted_len, b->deleted_len);
    for (size_t i = 0; i < a.deleted_len; i++)
        cr_assert_eq(a.deleted[i], b->deleted[i]);
    sd_stream_state_free(&a);
}

sd_stream_state state_of(sd_store *st) {
    sd_stream_state s;
    sd_store_state(st, &s);
    return s;
}

void check_msg(sd_store *st, uint64_t seq, const char *subj, const char *payload) {
    sd_store_msg sm = {0};
    int rc = sd_store_load_msg(st, seq, &sm);
    cr_assert_eq(rc, 0, "load %lu: %s", (unsigned long)seq, sd_strerror(rc));
    cr_assert_eq(sm.seq, seq);
    cr_assert_eq(sm.subj_len, strlen(subj));
    cr_assert_eq(memcmp(sm.subj, subj, sm.subj_len), 0);
    cr_assert_eq(sm.msg_len, strlen(payload));
    cr_assert_eq(memcmp(sm.msg, payload, sm.msg_len), 0);
    sd_store_msg_free(&sm);
}

bool msg_exists(sd_store *st, uint64_t seq) {
    sd_store_msg sm = {0};
    int rc = sd_store_load_msg(st, seq, &sm);
    sd_store_msg_free(&sm);
    return rc == 0;
}

/* The bytes of a file (malloc'd). */
uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    cr_assert_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

char *blk_path(const char *dir, unsigned idx) {
    char *p = malloc(strlen(dir) + 32);
    sprintf(p, "%s/msgs/%08u.blk", dir, idx);
    return p;
}

bool mem_has(const uint8_t *b, size_t n, const char *needle) {
    return memmem(b, n, needle, strlen(needle)) != NULL;
}
