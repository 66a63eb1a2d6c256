/* The JetStream metadata store over LMDB (storaged/sd_meta.c): records, prefixes, group
 * commit, reopen, map growth, checksums against flipped bits, truncated and damaged files,
 * and a crash (child killed) losing exactly the uncommitted changes. */
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

#include "storaged/sd_meta.h"

static char g_dir[256];

static void mkdir_tmp(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/sd_meta_XXXXXX");
    cr_assert(mkdtemp(g_dir));
}

static void rm_tmp(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) {
    }
}

TestSuite(sd_meta, .init = mkdir_tmp, .fini = rm_tmp);

static sd_meta *open_ok(void) {
    sd_meta *m;
    char err[512];
    int rc = sd_meta_open(g_dir, &m, err, sizeof err);
    cr_assert_eq(rc, 0, "open: %s", err);
    return m;
}

static void get_str(sd_meta *m, const char *key, const char *want) {
    uint8_t *v;
    size_t n;
    int rc = sd_meta_get(m, key, &v, &n);
    if (!want) {
        cr_assert_eq(rc, -ENOENT, "%s: rc %d", key, rc);
        return;
    }
    cr_assert_eq(rc, 0, "%s: rc %d", key, rc);
    cr_assert_eq(n, strlen(want));
    cr_assert_str_eq((char *)v, want);
    free(v);
}

static void put_str(sd_meta *m, const char *key, const char *val) {
    cr_assert_eq(sd_meta_put(m, key, val, strlen(val)), 0);
}

typedef struct coll {
    char keys[64][128];
    int n;
} coll;

static int coll_cb(void *arg, const char *key, const uint8_t *val, size_t len) {
    (void)val, (void)len;
    coll *c = arg;
    snprintf(c->keys[c->n++], 128, "%s", key);
    return 0;
}

Test(sd_meta, put_get_delete_prefix_and_reopen) {
    sd_meta *m = open_ok();
    put_str(m, "c/A/S/x/cfg", "cx");
    put_str(m, "c/A/S/y/cfg", "cy");
    put_str(m, "c/A/S/y/state", "sy");
    put_str(m, "c/A/T/z/cfg", "cz");
    put_str(m, "c/B/S/x/cfg", "bx");
    cr_assert(sd_meta_pending(m));
    get_str(m, "c/A/S/y/state", "sy"); /* reads see the open transaction */
    coll c = {0};
    cr_assert_eq(sd_meta_iterate(m, "c/A/S/", coll_cb, &c), 0);
    cr_assert_eq(c.n, 3);
    cr_assert_str_eq(c.keys[0], "c/A/S/x/cfg");
    cr_assert_str_eq(c.keys[2], "c/A/S/y/state");
    cr_assert_eq(sd_meta_commit(m), 0);
    cr_assert(!sd_meta_pending(m));
    cr_assert_eq(sd_meta_commits(m), 1);
    cr_assert_eq(sd_meta_commit(m), 0); /* nothing pending: no transaction */
    cr_assert_eq(sd_meta_commits(m), 1);
    put_str(m, "c/A/S/x/cfg", "cx2");
    cr_assert_eq(sd_meta_del(m, "c/A/T/z/cfg"), 0);
    cr_assert_eq(sd_meta_del(m, "c/A/T/z/cfg"), -ENOENT);
    cr_assert_eq(sd_meta_del_prefix(m, "c/A/S/y/"), 2);
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);

    m = open_ok();
    get_str(m, "c/A/S/x/cfg", "cx2");
    get_str(m, "c/A/S/y/cfg", NULL);
    get_str(m, "c/A/S/y/state", NULL);
    get_str(m, "c/A/T/z/cfg", NULL);
    get_str(m, "c/B/S/x/cfg", "bx");
    /* Empty values and binary ones. */
    cr_assert_eq(sd_meta_put(m, "e", "", 0), 0);
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (uint8_t)i;
    cr_assert_eq(sd_meta_put(m, "b", bin, sizeof bin), 0);
    cr_assert_eq(sd_meta_commit(m), 0);
    uint8_t *v;
    size_t n;
    cr_assert_eq(sd_meta_get(m, "e", &v, &n), 0);
    cr_assert_eq(n, 0);
    free(v);
    cr_assert_eq(sd_meta_get(m, "b", &v, &n), 0);
    cr_assert_eq(n, sizeof bin);
    cr_assert_eq(memcmp(v, bin, n), 0);
    free(v);
    cr_assert_eq(sd_meta_put(m, "", "x", 1), -EINVAL);
    sd_meta_close(m);
}

Test(sd_meta, uncommitted_changes_lost_on_close) {
    sd_meta *m = open_ok();
    put_str(m, "k1", "v1");
    cr_assert_eq(sd_meta_commit(m), 0);
    put_str(m, "k2", "v2");
    sd_meta_close(m);
    m = open_ok();
    get_str(m, "k1", "v1");
    get_str(m, "k2", NULL);
    sd_meta_close(m);
}

Test(sd_meta, map_grows_when_full) {
    sd_meta_set_initial_map_size(64 * 1024);
    sd_meta *m = open_ok();
    sd_meta_set_initial_map_size(0);
    size_t first = sd_meta_map_size(m);
    char val[2000];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 400; i++) {
        char k[32];
        snprintf(k, sizeof k, "k/%05d", i);
        val[0] = (char)('a' + i % 26);
        cr_assert_eq(sd_meta_put(m, k, val, sizeof val), 0, "put %d", i);
        if (i % 100 == 99) cr_assert_eq(sd_meta_commit(m), 0);
    }
    cr_assert_eq(sd_meta_commit(m), 0);
    cr_assert_gt(sd_meta_map_size(m), first);
    sd_meta_close(m);
    m = open_ok();
    coll c = {0};
    int n = 0;
    for (int i = 0; i < 400; i += 57) {
        char k[32];
        snprintf(k, sizeof k, "k/%05d", i);
        uint8_t *v;
        size_t len;
        cr_assert_eq(sd_meta_get(m, k, &v, &len), 0, "%s", k);
        cr_assert_eq(len, sizeof val);
        cr_assert_eq(v[0], 'a' + i % 26);
        free(v);
        n++;
    }
    (void)c;
    cr_assert_gt(n, 0);
    sd_meta_close(m);
}

/* Finds needle in data.mdb and flips one bit of it. */
static void flip_in_file(const char *needle) {
    char p[400];
    snprintf(p, sizeof p, "%s/data.mdb", g_dir);
    FILE *f = fopen(p, "r+b");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz);
    cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    char *hit = memmem(buf, (size_t)sz, needle, strlen(needle));
    cr_assert(hit, "'%s' not in data.mdb", needle);
    long off = hit - buf + (long)strlen(needle) - 1;
    fseek(f, off, SEEK_SET);
    fputc(buf[off] ^ 0x04, f);
    fclose(f);
    free(buf);
}

Test(sd_meta, flipped_bit_in_value_detected_and_skipped) {
    sd_meta *m = open_ok();
    put_str(m, "c/A/S/a/cfg", "{\"good\":\"value-a\"}");
    put_str(m, "c/A/S/b/cfg", "{\"good\":\"value-b-FLIPME\"}");
    put_str(m, "c/A/S/c/cfg", "{\"good\":\"value-c\"}");
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);
    flip_in_file("value-b-FLIPME");
    m = open_ok();
    uint8_t *v;
    size_t n;
    cr_assert_eq(sd_meta_get(m, "c/A/S/b/cfg", &v, &n), SD_META_ECORRUPT);
    get_str(m, "c/A/S/a/cfg", "{\"good\":\"value-a\"}");
    coll c = {0};
    cr_assert_eq(sd_meta_iterate(m, "c/A/S/", coll_cb, &c), 1); /* one skipped */
    cr_assert_eq(c.n, 2);
    cr_assert_str_eq(c.keys[0], "c/A/S/a/cfg");
    cr_assert_str_eq(c.keys[1], "c/A/S/c/cfg");
    /* The damaged record can be replaced. */
    put_str(m, "c/A/S/b/cfg", "new");
    cr_assert_eq(sd_meta_commit(m), 0);
    get_str(m, "c/A/S/b/cfg", "new");
    cr_assert(!sd_meta_fenced(m));
    sd_meta_close(m);
}

Test(sd_meta, flipped_bit_in_key_detected) {
    sd_meta *m = open_ok();
    put_str(m, "c/A/S/KEYFLIP/cfg", "value");
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);
    flip_in_file("KEYFLIP");
    m = open_ok();
    coll c = {0};
    cr_assert_eq(sd_meta_iterate(m, "c/", coll_cb, &c), 1);
    cr_assert_eq(c.n, 0);
    sd_meta_close(m);
}

static void truncate_to(off_t len) {
    char p[400];
    snprintf(p, sizeof p, "%s/data.mdb", g_dir);
    cr_assert_eq(truncate(p, len), 0);
}

Test(sd_meta, truncated_file_refused) {
    sd_meta *m = open_ok();
    char val[3000];
    memset(val, 'x', sizeof val);
    for (int i = 0; i < 50; i++) {
        char k[32];
        snprintf(k, sizeof k, "k/%03d", i);
        cr_assert_eq(sd_meta_put(m, k, val, sizeof val), 0);
    }
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);
    char p[400];
    snprintf(p, sizeof p, "%s/data.mdb", g_dir);
    struct stat sb;
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_gt(sb.st_size, 8 * 4096);
    char err[512] = "";
    truncate_to(sb.st_size / 2);
    cr_assert_eq(sd_meta_open(g_dir, &m, err, sizeof err), -EIO);
    cr_assert(strstr(err, "truncated"), "%s", err);
    truncate_to(5000); /* within the meta pages */
    err[0] = 0;
    cr_assert_neq(sd_meta_open(g_dir, &m, err, sizeof err), 0);
    cr_assert(err[0]);
    truncate_to(0);
    err[0] = 0;
    cr_assert_eq(sd_meta_open(g_dir, &m, err, sizeof err), -EIO);
    cr_assert(strstr(err, "truncated"), "%s", err);
}

Test(sd_meta, garbage_file_refused) {
    char p[400];
    snprintf(p, sizeof p, "%s/data.mdb", g_dir);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 3 * 4096; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    sd_meta *m;
    char err[512] = "";
    cr_assert_neq(sd_meta_open(g_dir, &m, err, sizeof err), 0);
    cr_assert(err[0]);
}

Test(sd_meta, crash_loses_only_uncommitted) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        sd_meta *m;
        char err[256];
        if (sd_meta_open(g_dir, &m, err, sizeof err)) _exit(2);
        for (int i = 0; i < 100; i++) {
            char k[32], v[32];
            snprintf(k, sizeof k, "k/%03d", i);
            snprintf(v, sizeof v, "v%d", i);
            if (sd_meta_put(m, k, v, strlen(v))) _exit(3);
            if (i == 59 && sd_meta_commit(m)) _exit(4);
        }
        /* k/060..k/099 pending; die without closing. */
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
    sd_meta *m = open_ok();
    get_str(m, "k/000", "v0");
    get_str(m, "k/059", "v59");
    get_str(m, "k/060", NULL);
    get_str(m, "k/099", NULL);
    put_str(m, "k/100", "after");
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);
}

static int hook_calls;
static void hook(void *arg, const char *dir) {
    (void)arg;
    cr_assert_str_eq(dir, g_dir);
    hook_calls++;
}

Test(sd_meta, commit_hook_once_per_group_commit) {
    sd_meta_set_commit_hook(hook, NULL);
    sd_meta *m = open_ok();
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "c/A/S/o/state");
        cr_assert_eq(sd_meta_put(m, k, &i, sizeof i), 0);
    }
    cr_assert_eq(sd_meta_commit(m), 0);
    cr_assert_eq(hook_calls, 1);
    sd_meta_close(m);
    sd_meta_set_commit_hook(NULL, NULL);
}

/* A damaged page (its flags say neither branch nor leaf): LMDB reports MDB_CORRUPTED, the
 * store is fenced, every later call fails cleanly. */
Test(sd_meta, corrupt_page_fences) {
    sd_meta *m = open_ok();
    put_str(m, "c/A/S/PAGEHIT/cfg", "value");
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);
    char p[400];
    snprintf(p, sizeof p, "%s/data.mdb", g_dir);
    FILE *f = fopen(p, "r+b");
    cr_assert(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    uint8_t *hit = memmem(buf, n, "PAGEHIT", 7);
    cr_assert(hit);
    size_t page = (size_t)(hit - buf) / 4096 * 4096;
    fseek(f, (long)page + 10, SEEK_SET); /* MDB_page.mp_flags */
    fputc(0, f);
    fputc(0, f);
    fclose(f);
    m = open_ok();
    uint8_t *v;
    size_t len;
    cr_assert_eq(sd_meta_get(m, "c/A/S/PAGEHIT/cfg", &v, &len), SD_META_EFENCED);
    cr_assert(sd_meta_fenced(m));
    cr_assert(strstr(sd_meta_error(m), "fenced"), "%s", sd_meta_error(m));
    cr_assert_eq(sd_meta_put(m, "x", "y", 1), SD_META_EFENCED);
    cr_assert_eq(sd_meta_commit(m), SD_META_EFENCED);
    coll c = {0};
    cr_assert_eq(sd_meta_iterate(m, "c/", coll_cb, &c), SD_META_EFENCED);
    sd_meta_close(m);
}
