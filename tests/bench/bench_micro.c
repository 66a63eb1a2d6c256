/* Micro-benchmarks of the publish hot path pieces: the protocol parser, the outbound chunk
 * queue and the shared-memory ring.  Prints ns/op and heap allocations per op (malloc is
 * wrapped at link time to count calls).  Not a test: no timing assertions.
 * Usage: bench_micro [scale] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "broker/outbound.h"
#include "common/shm_ring.h"
#include "proto/parser.h"

static uint64_t g_allocs;
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n) {
    g_allocs++;
    return __real_malloc(n);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *name, double ns, uint64_t ops, uint64_t allocs) {
    printf("%-44s %10.1f ns/op %8.3f allocs/op\n", name, ns / (double)ops,
           (double)allocs / (double)ops);
}

/* Parses a 32 KiB read full of PUBs, as the broker sees them from one recv. */
static void bench_parser(uint64_t scale, size_t payload) {
    char buf[32768];
    size_t len = 0;
    char one[256];
    int n = snprintf(one, sizeof one, "PUB bench.subject.foo %zu\r\n", payload);
    size_t per = (size_t)n + payload + 2;
    uint64_t in_buf = 0;
    while (len + per <= sizeof buf) {
        memcpy(buf + len, one, (size_t)n);
        memset(buf + len + n, 'x', payload);
        memcpy(buf + len + n + payload, "\r\n", 2);
        len += per;
        in_buf++;
    }
    np_parser p;
    np_parser_init(&p);
    uint64_t rounds = 2000 * scale, ops = 0;
    uint64_t a0 = g_allocs;
    double t0 = now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        size_t off = 0;
        while (off < len) {
            np_op op;
            ssize_t k = np_parse(&p, (const uint8_t *)buf + off, len - off, &op);
            if (k <= 0) abort();
            off += (size_t)k;
            if (op.type == NP_OP_PUB) ops++;
        }
    }
    double t = now_ns() - t0;
    char name[64];
    snprintf(name, sizeof name, "parser: PUB %zu B, whole reads", payload);
    report(name, t, ops, g_allocs - a0);
    (void)in_buf;
    np_parser_free(&p);
}

/* Queues MSG lines + payloads the way delivery does, then consumes as sends would. */
static void bench_outq(uint64_t scale, size_t payload) {
    br_outq q = {0};
    char body[1024];
    memset(body, 'y', sizeof body);
    uint64_t ops = 200000 * scale;
    /* warm the chunk pool */
    for (int i = 0; i < 64; i++) br_outq_append(&q, body, sizeof body);
    br_outq_clear(&q);
    uint64_t a0 = g_allocs;
    double t0 = now_ns();
    for (uint64_t i = 0; i < ops; i++) {
        br_outq_append(&q, "MSG bench.subject.foo 1 128\r\n", 29);
        br_outq_append(&q, body, payload);
        br_outq_append(&q, "\r\n", 2);
        if (q.pending > 256 * 1024) br_outq_consume(&q, q.pending); /* a send completed */
    }
    double t = now_ns() - t0;
    br_outq_clear(&q);
    char name[64];
    snprintf(name, sizeof name, "outbound: queue MSG %zu B", payload);
    report(name, t, ops, g_allocs - a0);
}

/* One producer and one consumer in the same thread: the cost of a record round trip. */
static void bench_ring(uint64_t scale, uint32_t len) {
    uint64_t size = 1 << 22;
    void *mem = mmap(NULL, nx_ring_bytes(size), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) abort();
    nx_ring_format(mem, size);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    uint8_t data[2048] = {0};
    uint64_t ops = 1000000 * scale;
    uint64_t a0 = g_allocs;
    double t0 = now_ns();
    for (uint64_t i = 0; i < ops; i++) {
        void *dst = nx_ring_reserve(&prod, len, 1);
        if (!dst) abort();
        memcpy(dst, data, len);
        if ((i & 31) == 31) {
            nx_ring_publish(&prod);
            bool corrupt;
            const nx_ring_rec *r;
            while ((r = nx_ring_peek(&cons, &corrupt))) nx_ring_release(&cons, r);
        }
    }
    double t = now_ns() - t0;
    char name[64];
    snprintf(name, sizeof name, "ring: record of %u B, batches of 32", len);
    report(name, t, ops, g_allocs - a0);
    munmap(mem, nx_ring_bytes(size));
}

int main(int argc, char **argv) {
    uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    if (!scale) scale = 1;
    bench_parser(scale, 16);
    bench_parser(scale, 128);
    bench_outq(scale, 16);
    bench_outq(scale, 128);
    bench_ring(scale, 64);
    bench_ring(scale, 256);
    br_outchunk_pool_drain();
    return 0;
}
