/* Micro-benchmarks of broker/sublist.c, after the Benchmark* functions of Go nats-server
 * v2.14.5 server/sublist_test.go: the same 8-token x 5-level subscription set (37,448 subs plus
 * three wildcards), cached and uncached matches, inserts and removes.
 * Usage: bench_sublist [iterations-scale]; prints ns/op per benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/sublist.h"
#include "common/subject.h"

static const char *toks[] = {"synadia", "nats", "jetstream", "nkeys",
                             "jwt",     "deny", "auth",      "drain"};

typedef struct bsub {
    sl_sub s;
    char subject[64];
} bsub;

static bsub *subs;
static size_t nsubs, subs_cap;

static void add_sub(const char *subject) {
    if (nsubs == subs_cap) {
        subs_cap = subs_cap ? subs_cap * 2 : 1024;
        subs = realloc(subs, subs_cap * sizeof(*subs));
        if (!subs) abort();
    }
    bsub *b = &subs[nsubs++];
    memset(b, 0, sizeof(*b));
    snprintf(b->subject, sizeof(b->subject), "%s", subject);
}

/* Go subsInit: every token sequence of up to 5 tokens. */
static void subs_init(const char *pre, int depth) {
    char buf[64];
    for (int i = 0; i < 8; i++) {
        snprintf(buf, sizeof(buf), "%s%s%s", pre, *pre ? "." : "", toks[i]);
        add_sub(buf);
        if (depth + 1 < 5) subs_init(buf, depth + 1);
    }
}

static void fix_pointers(void) {
    for (size_t i = 0; i < nsubs; i++) {
        subs[i].s.subject = subs[i].subject;
        subs[i].s.subject_len = (uint32_t)strlen(subs[i].subject);
    }
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust on a shared host */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint32_t sink;

static void bench_match(sl_sublist *sl, const char *name, const char *subject, long n) {
    size_t len = strlen(subject);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        sl_result *r = sl_match(sl, subject, len);
        sink += r->npsubs;
        sl_result_release(r);
    }
    printf("%-40s %10.1f ns/op\n", name, (now_ns() - t0) / (double)n);
}

int main(int argc, char **argv) {
    long scale = argc > 1 ? atol(argv[1]) : 1;
    long n = 2000000 * scale;
    subs_init("", 0);
    static bsub wc[3];
    fix_pointers();

    sl_sublist *sl = sl_new(true);
    double t0 = now_ns();
    for (size_t i = 0; i < nsubs; i++)
        sl_insert(sl, &subs[i].s);
    printf("%-40s %10.1f ns/op (%zu subs)\n", "SublistInsert", (now_ns() - t0) / (double)nsubs,
           nsubs);
    const char *wcs[] = {"cloud.>", "cloud.nats.component.>", "cloud.*.*.nkeys.*"};
    for (int i = 0; i < 3; i++) {
        snprintf(wc[i].subject, sizeof(wc[i].subject), "%s", wcs[i]);
        wc[i].s.subject = wc[i].subject;
        wc[i].s.subject_len = (uint32_t)strlen(wcs[i]);
        sl_insert(sl, &wc[i].s);
    }

    bench_match(sl, "SublistMatchSingleToken", "synadia", n);
    bench_match(sl, "SublistMatchTwoTokens", "synadia.nats", n);
    bench_match(sl, "SublistMatchThreeTokens", "synadia.nats.jetstream", n);
    bench_match(sl, "SublistMatchFourTokens", "synadia.nats.jetstream.nkeys", n);
    bench_match(sl, "SublistMatchFourTokensMultiResults", "cloud.nats.component.router", n);
    bench_match(sl, "SublistMissOnLastTokenOfFive", "synadia.nats.jetstream.nkeys.ZZZZ", n);

    sl_sublist *nc = sl_new(false);
    for (size_t i = 0; i < nsubs; i++)
        sl_insert(nc, &subs[i].s);
    for (int i = 0; i < 3; i++)
        sl_insert(nc, &wc[i].s);
    bench_match(nc, "NoCache MatchFourTokens", "synadia.nats.jetstream.nkeys", n / 4);
    bench_match(nc, "NoCache MatchFourTokensMultiResults", "cloud.nats.component.router", n / 4);
    bench_match(nc, "NoCache MissOnLastTokenOfFive", "synadia.nats.jetstream.nkeys.ZZZZ", n / 4);

    /* Cache churn: distinct subjects, every match a miss plus periodic sweeps. */
    char buf[64];
    t0 = now_ns();
    long m = n / 8;
    for (long i = 0; i < m; i++) {
        int l = snprintf(buf, sizeof(buf), "synadia.nats.%ld", i);
        sl_result_release(sl_match(sl, buf, (size_t)l));
    }
    printf("%-40s %10.1f ns/op\n", "SublistMatchMissChurn", (now_ns() - t0) / (double)m);

    const char *lit = "foo.foo.foo.foo.foo.foo.foo.foo.foo.foo";
    t0 = now_ns();
    for (long i = 0; i < n; i++)
        sink += nx_subject_match_literal(lit, strlen(lit), "foo.foo.*.*.*.*.*.*.*.*", 23);
    printf("%-40s %10.1f ns/op\n", "SublistMatchLiteral (one filter)", (now_ns() - t0) / (double)n);

    t0 = now_ns();
    for (size_t i = 0; i < nsubs; i++)
        sl_remove(sl, &subs[i].s);
    printf("%-40s %10.1f ns/op\n", "SublistRemove", (now_ns() - t0) / (double)nsubs);

    sl_free(sl);
    sl_free(nc);
    free(subs);
    return 0;
}
