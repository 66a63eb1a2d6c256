/* Unit tests of the SPSC shared-memory ring (common/shm_ring.c): record framing, wraparound,
 * a full ring pushing back, a producer and a consumer in two processes, and a writer killed in
 * the middle of a record. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/shm_ring.h"

#define RING_SIZE 4096

static void *shared_ring(uint64_t size) {
    void *mem = mmap(NULL, nx_ring_bytes(size), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    nx_ring_format(mem, size);
    return mem;
}

static bool put(nx_ring *r, uint32_t type, const void *data, uint32_t len) {
    void *dst = nx_ring_reserve(r, len, type);
    if (!dst) return false;
    memcpy(dst, data, len);
    nx_ring_publish(r);
    return true;
}

Test(shm_ring, records_keep_type_length_and_bytes) {
    void *mem = shared_ring(RING_SIZE);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    cr_assert(nx_ring_empty(&cons));
    cr_assert(put(&prod, 7, "hello", 5));
    cr_assert(put(&prod, 9, "", 0));
    bool corrupt;
    const nx_ring_rec *r = nx_ring_peek(&cons, &corrupt);
    cr_assert_not_null(r);
    cr_assert_eq(r->type, 7);
    cr_assert_eq(r->len, 5);
    cr_assert_eq(memcmp(r->data, "hello", 5), 0);
    nx_ring_release(&cons, r);
    r = nx_ring_peek(&cons, &corrupt);
    cr_assert_not_null(r);
    cr_assert_eq(r->type, 9);
    cr_assert_eq(r->len, 0);
    nx_ring_release(&cons, r);
    cr_assert_null(nx_ring_peek(&cons, &corrupt));
    cr_assert(!corrupt);
    munmap(mem, nx_ring_bytes(RING_SIZE));
}

Test(shm_ring, unpublished_records_are_invisible) {
    void *mem = shared_ring(RING_SIZE);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    void *dst = nx_ring_reserve(&prod, 3, 1);
    memcpy(dst, "abc", 3);
    bool corrupt;
    cr_assert_null(nx_ring_peek(&cons, &corrupt), "reserved but unpublished must not show");
    nx_ring_publish(&prod);
    cr_assert_not_null(nx_ring_peek(&cons, &corrupt));
    munmap(mem, nx_ring_bytes(RING_SIZE));
}

Test(shm_ring, wraparound_preserves_every_record) {
    void *mem = shared_ring(RING_SIZE);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    /* Odd sizes force padding records at the end of the ring many times over. */
    uint8_t buf[700];
    uint32_t next_expected = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t len = (i * 37) % sizeof buf;
        memset(buf, (int)(i & 0xff), len);
        while (!put(&prod, 1 + i % 5, buf, len)) { /* full: consume one and retry */
            bool corrupt;
            const nx_ring_rec *r = nx_ring_peek(&cons, &corrupt);
            cr_assert_not_null(r);
            uint32_t want_len = (next_expected * 37) % sizeof buf;
            cr_assert_eq(r->len, want_len, "record %u length", next_expected);
            cr_assert_eq(r->type, 1 + next_expected % 5);
            for (uint32_t k = 0; k < r->len; k++)
                cr_assert_eq(r->data[k], (uint8_t)(next_expected & 0xff));
            nx_ring_release(&cons, r);
            next_expected++;
        }
    }
    bool corrupt;
    const nx_ring_rec *r;
    while ((r = nx_ring_peek(&cons, &corrupt))) {
        cr_assert_eq(r->len, (next_expected * 37) % sizeof buf);
        nx_ring_release(&cons, r);
        next_expected++;
    }
    cr_assert(!corrupt);
    cr_assert_eq(next_expected, 5000);
    munmap(mem, nx_ring_bytes(RING_SIZE));
}

Test(shm_ring, full_ring_refuses_and_recovers) {
    void *mem = shared_ring(RING_SIZE);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    uint8_t buf[200] = {0};
    int n = 0;
    while (put(&prod, 1, buf, sizeof buf)) n++;
    cr_assert_gt(n, 0);
    while (put(&prod, 1, buf, 0)) n++; /* top up with the smallest records */
    cr_assert_null(nx_ring_reserve(&prod, 0, 1), "a full ring refuses even empty records");
    cr_assert_null(nx_ring_reserve(&prod, RING_SIZE, 1), "oversized records are refused");
    bool corrupt;
    nx_ring_release(&cons, nx_ring_peek(&cons, &corrupt));
    nx_ring_release(&cons, nx_ring_peek(&cons, &corrupt));
    cr_assert(put(&prod, 1, buf, sizeof buf), "room again after the consumer released some");
    munmap(mem, nx_ring_bytes(RING_SIZE));
}

Test(shm_ring, corrupt_header_is_reported_not_followed) {
    void *mem = shared_ring(RING_SIZE);
    nx_ring prod, cons;
    nx_ring_attach(&prod, mem);
    nx_ring_attach(&cons, mem);
    cr_assert(put(&prod, 1, "x", 1));
    /* Another process scribbles over the header: the length now runs past the data. */
    nx_ring_rec *rec = (nx_ring_rec *)((uint8_t *)mem + NX_RING_HDR_BYTES);
    rec->len = 1u << 30;
    bool corrupt;
    cr_assert_null(nx_ring_peek(&cons, &corrupt));
    cr_assert(corrupt);
    nx_ring_discard_all(&cons);
    cr_assert(nx_ring_empty(&cons));
    munmap(mem, nx_ring_bytes(RING_SIZE));
}

Test(shm_ring, two_processes_exchange_a_million_records_in_order) {
    uint64_t size = 1 << 16;
    void *mem = shared_ring(size);
    const uint32_t total = 1000000;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        nx_ring prod;
        nx_ring_attach(&prod, mem);
        for (uint32_t i = 0; i < total;) {
            uint32_t len = 4 + i % 29;
            uint8_t *dst = nx_ring_reserve(&prod, len, 1);
            if (!dst) {
                nx_ring_publish(&prod);
                continue; /* busy-wait: the test consumer is draining */
            }
            memcpy(dst, &i, 4);
            memset(dst + 4, (int)(i & 0x7f), len - 4);
            if (++i % 64 == 0) nx_ring_publish(&prod);
        }
        nx_ring_publish(&prod);
        _exit(0);
    }
    nx_ring cons;
    nx_ring_attach(&cons, mem);
    uint32_t seen = 0;
    while (seen < total) {
        bool corrupt;
        const nx_ring_rec *r = nx_ring_peek(&cons, &corrupt);
        cr_assert(!corrupt);
        if (!r) continue;
        uint32_t v;
        memcpy(&v, r->data, 4);
        cr_assert_eq(v, seen, "out of order: got %u, want %u", v, seen);
        cr_assert_eq(r->len, 4 + seen % 29);
        for (uint32_t k = 4; k < r->len; k++) cr_assert_eq(r->data[k], (uint8_t)(seen & 0x7f));
        nx_ring_release(&cons, r);
        seen++;
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    munmap(mem, nx_ring_bytes(size));
}

Test(shm_ring, writer_killed_mid_record_leaves_nothing_torn) {
    void *mem = shared_ring(RING_SIZE);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        nx_ring prod;
        nx_ring_attach(&prod, mem);
        cr_assert(put(&prod, 1, "complete", 8));
        /* Start a second record and die before publishing it. */
        uint8_t *dst = nx_ring_reserve(&prod, 100, 2);
        memset(dst, 'X', 50);
        ssize_t w = write(ready[1], "r", 1);
        (void)w;
        for (;;) pause();
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    nx_ring cons;
    nx_ring_attach(&cons, mem);
    bool corrupt;
    const nx_ring_rec *r = nx_ring_peek(&cons, &corrupt);
    cr_assert_not_null(r);
    cr_assert_eq(r->type, 1);
    cr_assert_eq(memcmp(r->data, "complete", 8), 0);
    nx_ring_release(&cons, r);
    cr_assert_null(nx_ring_peek(&cons, &corrupt), "the torn record must never be read");
    cr_assert(!corrupt);
    /* A restarted writer continues after the last complete record and overwrites the torn one. */
    nx_ring prod2;
    nx_ring_attach(&prod2, mem);
    cr_assert(put(&prod2, 3, "again", 5));
    r = nx_ring_peek(&cons, &corrupt);
    cr_assert_not_null(r);
    cr_assert_eq(r->type, 3);
    cr_assert_eq(memcmp(r->data, "again", 5), 0);
    close(ready[0]);
    close(ready[1]);
    munmap(mem, nx_ring_bytes(RING_SIZE));
}
