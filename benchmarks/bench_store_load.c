/* Micro-benchmark of the stream stores (storaged/): store and load rates of the memory store
 * and of the file store with its block cache large enough for the whole stream ("cached"),
 * with the default 64 MiB bound on a larger stream ("bounded": blocks are read back as loads
 * reach them) and with a 1-byte cache ("nocache": every load reads its record from the file).
 * Not a test: it asserts nothing about timings; it prints ns/op and ops/s per phase.
 *
 *   bench_store_load [-n MSGS] [-s SIZE] [-r ROUNDS] [-d DIR] [mem|cached|bounded|nocache...]
 *
 * Phases: store (sync none, one flush at the end), load_next over the whole stream,
 * load_msg at pseudo-random sequences, load_last of one of 16 subjects in turn.  With several
 * rounds each phase's median is printed.  The nocache store loads a tenth of the messages
 * (each load is a few system calls), the bounded one makes a thousandth of the random loads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storaged/filestore.h"
#include "storaged/store.h"

enum { PH_STORE, PH_NEXT, PH_MSG, PH_LAST, PH_N };
static const char *const ph_name[PH_N] = {"store", "load_next", "load_msg", "load_last"};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "bench_store_load: %s: %s\n", what, sd_strerror(rc));
    exit(1);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int rm_tree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* One round of one store kind: ns/op of every phase in ns[]. */
static void run_round(const char *kind, uint64_t n, size_t size, const char *base, double *ns) {
    static const char *const subjects[] = {"bench.>"};
    sd_stream_config cfg = {.name = "BENCH", .subjects = subjects, .num_subjects = 1};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench-%s-%ld", base, kind, (long)getpid());
    sd_store *st = NULL;
    int rc;
    bool mem = strcmp(kind, "mem") == 0;
    if (mem) {
        cfg.storage = SD_STORAGE_MEMORY;
        rc = sd_memstore_open(&cfg, NULL, &st);
    } else {
        cfg.storage = SD_STORAGE_FILE;
        sd_filestore_config fc = {.dir = dir, .sync = SD_FS_SYNC_NONE};
        if (strcmp(kind, "cached") == 0) fc.cache_max = 4ull << 30;
        if (strcmp(kind, "nocache") == 0) fc.cache_max = 1;
        rm_tree(dir);
        rc = sd_filestore_open(&fc, &cfg, NULL, &st);
    }
    if (rc) die("open", rc);

    uint8_t *body = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        body[i] = (uint8_t)(i * 131 + 7);
    char subj[16][32];
    for (int i = 0; i < 16; i++)
        snprintf(subj[i], sizeof subj[i], "bench.s%d", i);

    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        const char *s = subj[i & 15];
        rc = sd_store_store_msg(st, s, strlen(s), NULL, 0, body, size, 0, NULL, NULL);
        if (rc) die("store", rc);
    }
    if (!mem && (rc = sd_filestore_flush(st))) die("flush", rc);
    ns[PH_STORE] = (double)(now_ns() - t0) / (double)n;

    /* Fewer loads where each one is a read from the file; random loads from a store larger
     * than the bound fill a whole block (8 MiB) most of the time. */
    bool nocache = strcmp(kind, "nocache") == 0, bounded = strcmp(kind, "bounded") == 0;
    uint64_t loads = nocache ? n / 10 : n, rloads = nocache ? n / 10 : bounded ? n / 1000 : n;
    if (loads == 0) loads = 1;
    if (rloads == 0) rloads = 1;
    sd_store_msg sm = {0};
    uint64_t sum = 0, seq = 0;
    t0 = now_ns();
    uint64_t start = 1;
    for (uint64_t i = 0; i < loads; i++) {
        rc = sd_store_load_next_msg(st, ">", true, start, &sm, &seq);
        if (rc) die("load_next", rc);
        sum += sm.msg_len;
        start = seq + 1;
    }
    ns[PH_NEXT] = (double)(now_ns() - t0) / (double)loads;

    uint64_t x = 88172645463325252ULL;
    t0 = now_ns();
    for (uint64_t i = 0; i < rloads; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        rc = sd_store_load_msg(st, 1 + x % n, &sm);
        if (rc) die("load_msg", rc);
        sum += sm.msg_len;
    }
    ns[PH_MSG] = (double)(now_ns() - t0) / (double)rloads;

    t0 = now_ns();
    for (uint64_t i = 0; i < loads; i++) {
        rc = sd_store_load_last_msg(st, subj[i & 15], &sm);
        if (rc) die("load_last", rc);
        sum += sm.msg_len;
    }
    ns[PH_LAST] = (double)(now_ns() - t0) / (double)loads;

    if (sum != (2 * loads + rloads) * size) fprintf(stderr, "bench_store_load: short loads?\n");
    sd_store_msg_free(&sm);
    free(body);
    if (mem) {
        st->ops->free(st);
    } else {
        st->ops->free(st);
        rm_tree(dir);
    }
}

int main(int argc, char **argv) {
    uint64_t n = 1000000;
    size_t size = 128;
    int rounds = 3;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int opt;
    while ((opt = getopt(argc, argv, "n:s:r:d:")) != -1) {
        switch (opt) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'r': rounds = atoi(optarg); break;
        case 'd': base = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-n MSGS] [-s SIZE] [-r ROUNDS] [-d DIR] "
                            "[mem|cached|bounded|nocache...]\n", argv[0]);
            return 2;
        }
    }
    if (n == 0 || rounds < 1) return 2;
    static const char *const all[] = {"mem", "cached", "bounded", "nocache"};
    const char *const *kinds = optind < argc ? (const char *const *)argv + optind : all;
    int nkinds = optind < argc ? argc - optind : 4;

    printf("%llu messages of %zu bytes, %d round(s), medians\n", (unsigned long long)n, size,
           rounds);
    printf("%-8s %-10s %10s %12s\n", "store", "phase", "ns/op", "ops/s");
    double *r = malloc(sizeof(double) * (size_t)rounds * PH_N);
    for (int k = 0; k < nkinds; k++) {
        for (int i = 0; i < rounds; i++)
            run_round(kinds[k], n, size, base, r + (size_t)i * PH_N);
        for (int p = 0; p < PH_N; p++) {
            double v[64];
            int m = rounds < 64 ? rounds : 64;
            for (int i = 0; i < m; i++)
                v[i] = r[(size_t)i * PH_N + (size_t)p];
            qsort(v, (size_t)m, sizeof v[0], cmp_dbl);
            double med = v[m / 2];
            printf("%-8s %-10s %10.1f %12.0f\n", kinds[k], ph_name[p], med, 1e9 / med);
        }
        fflush(stdout);
    }
    free(r);
    return 0;
}
