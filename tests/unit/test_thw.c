/* Unit tests for common/thw.c: ports of Go nats-server v2.14.5 server/thw/thw_test.go.
 * Go's ExpireTasks reads the clock; nx_thw_expire takes the time, so "now" is explicit. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/gotest.h"
#include "common/thw.h"

#define SEC 1000000000LL

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

Test(thw, basics) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelBasics");
    nx_thw *hw = nx_thw_new();
    int64_t expires = now_ns() + 5 * SEC;
    cr_assert_eq(nx_thw_add(hw, 1, expires), 0);
    cr_assert_eq(nx_thw_count(hw), 1);
    cr_assert_eq(nx_thw_remove(hw, 999, expires), NX_THW_ERR_TASK_NOT_FOUND);
    cr_assert_eq(nx_thw_count(hw), 1);
    cr_assert_eq(nx_thw_remove(hw, 1, expires), 0);
    cr_assert_eq(nx_thw_count(hw), 0);
    cr_assert_eq(nx_thw_remove(hw, 1, expires), NX_THW_ERR_TASK_NOT_FOUND);
    cr_assert_eq(nx_thw_count(hw), 0);
    cr_assert_str_eq(nx_thw_strerror(NX_THW_ERR_TASK_NOT_FOUND), "thw: task not found");
    nx_thw_free(hw);
}

Test(thw, update) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelUpdate");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns(), old_exp = now + 5 * SEC, new_exp = now + 10 * SEC;
    cr_assert_eq(nx_thw_add(hw, 1, old_exp), 0);
    cr_assert_eq(nx_thw_update(hw, 1, old_exp, new_exp), 0);
    cr_assert_eq(nx_thw_count(hw), 1);
    cr_assert_eq(nx_thw_remove(hw, 1, old_exp), NX_THW_ERR_TASK_NOT_FOUND);
    cr_assert_eq(nx_thw_count(hw), 1);
    cr_assert_eq(nx_thw_remove(hw, 1, new_exp), 0);
    cr_assert_eq(nx_thw_count(hw), 0);
    nx_thw_free(hw);
}

typedef struct {
    uint64_t counts[8];
    int calls;
    int mode; /* 0: expire all, 1: keep all, 2: expire even */
} exp_ctx;

static bool exp_cb(void *arg, uint64_t seq, int64_t expires) {
    (void)expires;
    exp_ctx *c = arg;
    c->calls++;
    if (seq < 8) c->counts[seq]++;
    if (c->mode == 1) return false;
    if (c->mode == 2) return seq % 2 == 0;
    return true;
}

Test(thw, expiration) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelExpiration");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns();
    int64_t seqs[5] = {0, now - SEC, now + SEC, now + 10 * SEC, now + 60 * SEC};
    for (uint64_t s = 1; s <= 4; s++)
        cr_assert_eq(nx_thw_add(hw, s, seqs[s]), 0);
    cr_assert_eq(nx_thw_count(hw), 4);
    exp_ctx c = {.mode = 0};
    nx_thw_expire(hw, now_ns(), exp_cb, &c);
    cr_assert_eq(c.calls, 1);
    cr_assert_eq(c.counts[1], 1);
    cr_assert_eq(nx_thw_count(hw), 3);
    nx_thw_free(hw);
}

Test(thw, manual_expiration) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelManualExpiration");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns();
    for (uint64_t s = 1; s <= 4; s++)
        cr_assert_eq(nx_thw_add(hw, s, now), 0);
    cr_assert_eq(nx_thw_count(hw), 4);
    exp_ctx c = {.mode = 1};
    for (uint64_t i = 0; i <= 1; i++) {
        nx_thw_expire(hw, now_ns(), exp_cb, &c);
        for (int s = 1; s <= 4; s++)
            cr_assert_eq(c.counts[s], 1 + i);
        cr_assert_eq(nx_thw_count(hw), 4);
    }
    c.mode = 2;
    for (uint64_t i = 0; i <= 1; i++) {
        nx_thw_expire(hw, now_ns(), exp_cb, &c);
        cr_assert_eq(c.counts[1], 3 + i);
        cr_assert_eq(c.counts[2], 3);
        cr_assert_eq(c.counts[3], 3 + i);
        cr_assert_eq(c.counts[4], 3);
        cr_assert_eq(nx_thw_count(hw), 2);
    }
    cr_assert_eq(nx_thw_remove(hw, 1, now), 0);
    cr_assert_eq(nx_thw_remove(hw, 3, now), 0);
    cr_assert_eq(nx_thw_count(hw), 0);
    nx_thw_free(hw);
}

Test(thw, expiration_larger_than_wheel) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelExpirationLargerThanWheel");
    nx_thw *hw = nx_thw_new();
    cr_assert_eq(nx_thw_add(hw, 1, 0), 0);
    cr_assert_eq(nx_thw_add(hw, 2, SEC), 0);
    cr_assert_eq(nx_thw_count(hw), 2);
    exp_ctx c = {.mode = 0};
    nx_thw_expire(hw, SEC * NX_THW_WHEEL_MASK, exp_cb, &c);
    cr_assert_eq(c.calls, 2);
    cr_assert_eq(nx_thw_count(hw), 0);
    nx_thw_free(hw);
}

Test(thw, next_expiration) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelNextExpiration");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns();
    int64_t e1 = now + 5 * SEC, e2 = now + 3 * SEC, e3 = now + 10 * SEC;
    nx_thw_add(hw, 1, e1);
    nx_thw_add(hw, 2, e2);
    nx_thw_add(hw, 3, e3);
    cr_assert_eq(nx_thw_count(hw), 3);
    cr_assert_eq(nx_thw_next_expiration(hw, now + 6 * SEC), e2);
    nx_thw *empty = nx_thw_new();
    cr_assert_eq(nx_thw_next_expiration(empty, now + SEC), INT64_MAX);
    nx_thw_free(empty);
    nx_thw_free(hw);
}

Test(thw, stress) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelStress");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns();
    const int n = 100000;
    for (int s = 0; s < n; s++)
        cr_assert_eq(nx_thw_add(hw, (uint64_t)s, now + s * SEC), 0);
    for (int s = 0; s < n; s += 2)
        cr_assert_eq(nx_thw_update(hw, (uint64_t)s, now + s * SEC, now + (s + n) * SEC), 0);
    for (int s = 1; s < n; s += 2)
        cr_assert_eq(nx_thw_remove(hw, (uint64_t)s, now + s * SEC), 0);
    cr_assert_eq(nx_thw_count(hw), (uint64_t)n / 2);
    nx_thw_free(hw);
}

typedef struct {
    const nx_thw *other;
    size_t pos;
    bool ok;
} cmp_ctx;

static void cmp_entry(void *arg, uint64_t seq, int64_t expires) {
    cmp_ctx *c = arg;
    int64_t e;
    if (!nx_thw_slot_get(c->other, c->pos, seq, &e) || e != expires) c->ok = false;
}

Test(thw, encode_decode) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelEncodeDecode");
    nx_thw *hw = nx_thw_new();
    int64_t now = now_ns();
    for (int s = 0; s < 100000; s++)
        nx_thw_add(hw, (uint64_t)s, now + s * SEC);
    uint8_t *b;
    size_t len = nx_thw_encode(hw, 12345, &b);
    cr_assert_gt(len, NX_THW_HEADER_LEN);
    nx_thw *nhw = nx_thw_new();
    uint64_t stamp = 0;
    cr_assert_eq(nx_thw_decode(nhw, b, len, &stamp), 0);
    cr_assert_eq(stamp, 12345);
    cr_assert_eq(nx_thw_next_expiration(hw, INT64_MAX), nx_thw_next_expiration(nhw, INT64_MAX));
    for (size_t pos = 0; pos < NX_THW_WHEEL_SIZE; pos++) {
        int64_t l1, l2;
        size_t c1, c2;
        bool h1 = nx_thw_slot_info(hw, pos, &l1, &c1), h2 = nx_thw_slot_info(nhw, pos, &l2, &c2);
        cr_assert_eq(h1, h2);
        if (!h1) continue;
        cr_assert_eq(l1, l2);
        cr_assert_eq(c1, c2);
        cmp_ctx c = {nhw, pos, true};
        nx_thw_slot_iter(hw, pos, cmp_entry, &c);
        cr_assert(c.ok, "slot %zu differs", pos);
    }
    free(b);
    nx_thw_free(hw);
    nx_thw_free(nhw);
}

Test(thw, decode_rejects_malformed) {
    GO_TEST("server/thw/thw_test.go", "TestHashWheelDecodeRejectsMalformed");
    uint8_t hdr[NX_THW_HEADER_LEN + 16] = {0};
    nx_thw *hw = nx_thw_new();
    uint64_t stamp;
    /* ShortHeader */
    cr_assert_eq(nx_thw_decode(hw, hdr, NX_THW_HEADER_LEN - 1, &stamp), NX_THW_ERR_SHORT_BUFFER);
    /* BadVersion */
    hdr[0] = 2;
    cr_assert_eq(nx_thw_decode(hw, hdr, NX_THW_HEADER_LEN, &stamp), NX_THW_ERR_INVALID_VERSION);
    /* TruncatedAtVarints: claims one entry, ends after the header. */
    hdr[0] = 1;
    hdr[1] = 1;
    cr_assert_eq(nx_thw_decode(hw, hdr, NX_THW_HEADER_LEN, &stamp), NX_THW_ERR_UNEXPECTED_EOF);
    /* TruncatedSeq: the expiry varint (12345 zig-zagged = 24690) but no sequence. */
    hdr[NX_THW_HEADER_LEN] = (uint8_t)(24690 & 0x7f) | 0x80;
    hdr[NX_THW_HEADER_LEN + 1] = (uint8_t)(24690 >> 7);
    cr_assert_eq(nx_thw_decode(hw, hdr, NX_THW_HEADER_LEN + 2, &stamp), NX_THW_ERR_UNEXPECTED_EOF);
    cr_assert_str_eq(nx_thw_strerror(NX_THW_ERR_UNEXPECTED_EOF), "unexpected EOF");
    nx_thw_free(hw);
}

typedef struct {
    nx_thw *hw;
    int calls;
} rm_ctx;

static bool remove_self(void *arg, uint64_t seq, int64_t expires) {
    rm_ctx *c = arg;
    c->calls++;
    cr_assert_eq(nx_thw_remove(c->hw, seq, expires), 0);
    return true;
}

/* Beyond Go: a callback that removes its own task (allowed) is called once per task and the
 * counts stay right. */
Test(thw, expire_callback_removes) {
    nx_thw *hw = nx_thw_new();
    for (uint64_t s = 1; s <= 100; s++)
        nx_thw_add(hw, s, 5 * SEC);
    rm_ctx c = {hw, 0};
    nx_thw_expire(hw, 10 * SEC, remove_self, &c);
    cr_assert_eq(c.calls, 100);
    cr_assert_eq(nx_thw_count(hw), 0);
    cr_assert_eq(nx_thw_next_expiration(hw, INT64_MAX), INT64_MAX);
    nx_thw_free(hw);
}
