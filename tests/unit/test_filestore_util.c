/* Helpers shared by the file store's test files (see test_filestore_util.h). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_filestore_util.h"

static char base_dir[256];
static int dir_count;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_base(void) {
    if (base_dir[0]) nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *fst_new_dir(void) {
    if (!base_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(base_dir, sizeof base_dir, "%s/nxfsx-XXXXXX", t && *t ? t : "/tmp");
        cr_assert_not_null(mkdtemp(base_dir));
        atexit(rm_base);
    }
    char *d = malloc(strlen(base_dir) + 32);
    sprintf(d, "%s/x%d", base_dir, ++dir_count);
    return d;
}

int fst_try_open(const char *dir, sd_stream_config *cfg, const sd_filestore_config *fo,
                 sd_fake_clock *clk, sd_store **out) {
    cfg->storage = SD_STORAGE_FILE;
    sd_filestore_config fc = {0};
    if (fo) fc = *fo;
    fc.dir = dir;
    /* NXFS_CACHE=<bytes>: the block cache bound (1: every load reads the blocks). */
    const char *cm = getenv("NXFS_CACHE");
    if (cm && *cm && !fc.cache_max) fc.cache_max = strtoull(cm, NULL, 10);
    sd_store_env env = {sd_fake_clock_now, clk};
    *out = NULL;
    return sd_filestore_open(&fc, cfg, clk ? &env : NULL, out);
}

sd_store *fst_open(const char *dir, sd_stream_config *cfg, const sd_filestore_config *fo,
                   sd_fake_clock *clk) {
    sd_store *st;
    int rc = fst_try_open(dir, cfg, fo, clk, &st);
    cr_assert_eq(rc, 0, "open %s: %s", dir, sd_strerror(rc));
    return st;
}

sd_store *fst_restart(sd_store *st, sd_stream_config *cfg, const sd_filestore_config *fo,
                      sd_fake_clock *clk) {
    char *d = strdup(sd_filestore_dir(st));
    sd_store_free(st);
    st = fst_open(d, cfg, fo, clk);
    free(d);
    return st;
}

void fst_assert_same(sd_store *a, sd_store *b, bool skip_bytes) {
    sd_stream_state x, y;
    sd_store_state(a, &x);
    sd_store_state(b, &y);
    cr_assert_eq(x.msgs, y.msgs, "msgs %lu vs %lu", (unsigned long)x.msgs, (unsigned long)y.msgs);
    if (!skip_bytes) cr_assert_eq(x.bytes, y.bytes);
    cr_assert_eq(x.first_seq, y.first_seq, "first %lu vs %lu", (unsigned long)x.first_seq,
                 (unsigned long)y.first_seq);
    cr_assert_eq(x.last_seq, y.last_seq, "last %lu vs %lu", (unsigned long)x.last_seq,
                 (unsigned long)y.last_seq);
    cr_assert_eq(x.first_ts, y.first_ts);
    cr_assert_eq(x.last_ts, y.last_ts);
    cr_assert_eq(x.num_subjects, y.num_subjects);
    cr_assert_eq(x.num_deleted, y.num_deleted);
    cr_assert_eq(x.deleted_len, y.deleted_len);
    for (size_t i = 0; i < x.deleted_len; i++)
        cr_assert_eq(x.deleted[i], y.deleted[i]);
    sd_store_msg ma = {0}, mb = {0};
    for (uint64_t s = x.first_seq; x.msgs && s <= x.last_seq; s++) {
        int ra = sd_store_load_msg(a, s, &ma), rb = sd_store_load_msg(b, s, &mb);
        cr_assert_eq(ra == 0, rb == 0, "seq %lu present in one store only", (unsigned long)s);
        if (ra) continue;
        cr_assert_eq(ma.ts, mb.ts);
        cr_assert_eq(ma.subj_len, mb.subj_len);
        cr_assert_eq(memcmp(ma.subj, mb.subj, ma.subj_len), 0);
        cr_assert_eq(ma.hdr_len, mb.hdr_len);
        cr_assert(ma.hdr_len == 0 || memcmp(ma.hdr, mb.hdr, ma.hdr_len) == 0);
        cr_assert_eq(ma.msg_len, mb.msg_len);
        cr_assert(ma.msg_len == 0 || memcmp(ma.msg, mb.msg, ma.msg_len) == 0);
    }
    sd_store_msg_free(&ma);
    sd_store_msg_free(&mb);
    sd_stream_state_free(&x);
    sd_stream_state_free(&y);
}

uint8_t *fst_slurp(const char *path, size_t *n) {
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

void fst_spit(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s", path);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

char *fst_blk_path(const char *dir, unsigned idx) {
    char *p = malloc(strlen(dir) + 32);
    sprintf(p, "%s/msgs/%08u.blk", dir, idx);
    return p;
}

bool fst_mem_has(const uint8_t *b, size_t n, const char *needle) {
    return memmem(b, n, needle, strlen(needle)) != NULL;
}
