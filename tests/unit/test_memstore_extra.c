/* Unit tests for the memory store (storaged/memstore*.c), part 3: checks beyond Go's
 * server/memstore_test.go (Go nats-server v2.14.5; filtered-load and interior-delete benchmarks
 * as checks, update callbacks, state encoding, headers/TTLs, expiry, Stop) and the memory
 * consumer store (Go server/memstore.go consumerMemStore). */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/gotest.h"
#include "common/subject.h"
#include "storaged/store.h"
#include "tests/unit/store_suite.h"
#include "tests/unit/memstore_test_util.h"

/* --- Beyond Go's memstore tests --------------------------------------------------------- */

/* Go's Benchmark_MemStoreNumPendingWithLargeInteriorDeletes{Scan,Exclude}, as a check with
 * smaller sizes: both scanning strategies walk the messages instead of the huge gap. */
Test(memstore_extra, num_pending_large_interior_deletes) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*.*")};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "foo.bar.baz", "abc");
    uint64_t s;
    for (int i = 1; i <= 100000; i++)
        sd_store_skip_msg(st, 0, &s);
    put(st, "foo.bar.baz", "abc");
    uint64_t total, valid;
    cr_assert_eq(sd_store_num_pending(st, 60000, "foo.*.baz", false, &total, &valid), 0);
    cr_assert_eq(total, 1);
    cr_assert_eq(sd_store_num_pending(st, 40000, "foo.*.baz", false, &total, &valid), 0);
    cr_assert_eq(total, 1);
    cr_assert_eq(valid, 100002);
    sd_store_free(st);
}

/* Go's Benchmark_MemStoreLoadNextMsgFiltered cases, scaled down: the linear-scan decision and
 * the number of matches LoadNextMsg walks through. */
Test(memstore_extra, load_next_msg_filtered) {
    const struct {
        int msgs, every;
        const char *filter;
        bool wc, literal_subject, linear;
    } cases[] = {
        {100000, 100, "foo.baz.*", true, false, true},   /* 1001 subjects: linear */
        {100000, 1000, "foo.baz.*", true, false, false}, /* 101 subjects: tree-bounded */
        {100000, 1000, "foo.baz", false, true, false},
    };
    for (size_t c = 0; c < 3; c++) {
        sd_stream_config cfg = {.name = "TEST", .subjects = SUBJECTS("foo.>")};
        sd_store *st = open_ms(&cfg, NULL);
        char subj[32];
        for (int i = 0; i < cases[c].msgs; i++) {
            const char *s = "foo.bar";
            if (i % cases[c].every == 0) {
                snprintf(subj, sizeof subj, "foo.baz.%d", i);
                s = cases[c].literal_subject ? "foo.baz" : subj;
            }
            put(st, s, "ok");
        }
        cr_assert_eq(sd_memstore_should_linear_scan(st, cases[c].filter, cases[c].wc, 1),
                     cases[c].linear, "case %zu", c);
        sd_store_msg sm = {0};
        uint64_t start = 0, count = 0;
        for (;;) {
            int rc = sd_store_load_next_msg(st, cases[c].filter, cases[c].wc, start, &sm, &start);
            start++;
            if (rc == SD_ERR_STORE_EOF) break;
            cr_assert_eq(rc, 0);
            count++;
        }
        cr_assert_eq(count, (uint64_t)(cases[c].msgs / cases[c].every));
        sd_store_msg_free(&sm);
        sd_store_free(st);
    }
}

typedef struct {
    int64_t msgs, bytes;
    uint64_t seq;
    char subj[32];
    int calls;
} upd_ctx;

static void on_update(void *arg, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
                      size_t len) {
    upd_ctx *c = arg;
    c->msgs = msgs;
    c->bytes = bytes;
    c->seq = seq;
    memcpy(c->subj, subj, len);
    c->subj[len] = 0;
    c->calls++;
}

Test(memstore_extra, storage_update_callback) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo.*"), .max_msgs = 3};
    sd_store *st = open_ms(&cfg, NULL);
    upd_ctx c = {0};
    sd_store_callbacks cbs = {.storage_update = on_update, .storage_update_arg = &c};
    sd_store_register_callbacks(st, &cbs);
    int64_t sz = (int64_t)sd_memstore_msg_size(5, 0, 3);
    put(st, "foo.a", "abc");
    cr_assert(c.msgs == 1 && c.bytes == sz && c.seq == 1 && strcmp(c.subj, "foo.a") == 0);
    cr_assert_eq(sd_store_remove_msg(st, 1), 1);
    cr_assert(c.msgs == -1 && c.bytes == -sz && c.seq == 1 && strcmp(c.subj, "foo.a") == 0);
    for (int i = 0; i < 3; i++)
        put(st, "foo.b", "abc");
    /* The limit removes the oldest: a removal is reported before the store. */
    c.calls = 0;
    put(st, "foo.c", "abc");
    cr_assert_eq(c.calls, 2);
    cr_assert(c.msgs == 1 && c.seq == 5);
    uint64_t n;
    cr_assert_eq(sd_store_purge(st, &n), 0);
    cr_assert(c.msgs == -3 && c.bytes == -3 * sz && c.seq == 0);
    sd_store_free(st);
}

Test(memstore_extra, encoded_stream_state_round_trip) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st, "foo", "abc");
    sd_store_remove_msg(st, 3);
    sd_store_remove_msg(st, 5);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(sd_store_encoded_stream_state(st, 7, &buf, &len), 0);
    cr_assert(sd_is_encoded_stream_state(buf, len));
    sd_stream_replicated_state rs;
    cr_assert_eq(sd_decode_stream_state(buf, len, &rs), 0);
    cr_assert(rs.msgs == 8 && rs.first_seq == 1 && rs.last_seq == 10 && rs.failed == 7);
    cr_assert_eq(rs.bytes, 8 * sd_memstore_msg_size(3, 0, 3));
    cr_assert_eq(rs.num_blocks, 1);
    cr_assert_eq(sd_delete_blocks_num_deleted(rs.deleted, rs.num_blocks), 2);
    /* A follower with all ten messages syncs its deletes from the snapshot. */
    sd_store *st2 = open_ms(&cfg, NULL);
    for (int i = 0; i < 10; i++)
        put(st2, "foo", "abc");
    cr_assert_eq(sd_store_sync_deleted(st2, rs.deleted, rs.num_blocks), 0);
    sd_stream_state s = state_of(st2);
    uint64_t want[] = {3, 5};
    expect_deleted(&s, want, 2);
    cr_assert_eq(s.msgs, 8);
    /* Corruption is detected. */
    buf[len - 1] ^= 0xff;
    buf[len - 5] = 99;
    sd_stream_replicated_state bad;
    cr_assert_eq(sd_decode_stream_state(buf, 3, &bad), SD_ERR_CORRUPT_STREAM_STATE);
    buf[0] = 1;
    cr_assert_eq(sd_decode_stream_state(buf, len, &bad), SD_ERR_BAD_STREAM_STATE_ENCODING);
    /* A run-length block. */
    uint8_t rl[] = {42, 1, 0, 0, 1, 10, 0, 1, 33, 2, 3};
    cr_assert_eq(sd_decode_stream_state(rl, sizeof rl, &bad), 0);
    cr_assert_eq(bad.num_blocks, 1);
    uint64_t f, l, num;
    sd_delete_block_state(&bad.deleted[0], &f, &l, &num);
    cr_assert(f == 2 && l == 4 && num == 3);
    sd_stream_replicated_state_free(&bad);
    sd_stream_replicated_state_free(&rs);
    free(buf);
    sd_store_free(st);
    sd_store_free(st2);
}

Test(memstore_extra, headers_and_ttls) {
    const char *h = "NATS/1.0\r\nNats-TTL: 5m\r\nKV-Operation: PURGE\r\nX: y\r\n\r\n";
    const uint8_t *hdr = (const uint8_t *)h;
    size_t vl;
    const uint8_t *v = sd_slice_header("X", hdr, strlen(h), &vl);
    cr_assert(v && vl == 1 && *v == 'y');
    cr_assert_null(sd_slice_header("Nope", hdr, strlen(h), &vl));
    int64_t ttl;
    cr_assert_eq(sd_get_message_ttl(hdr, strlen(h), &ttl), 0);
    cr_assert_eq(ttl, 300);
    cr_assert(sd_is_subject_delete_marker(hdr, strlen(h)));
    cr_assert_eq(sd_parse_message_ttl("never", 5, &ttl), 0);
    cr_assert_eq(ttl, -1);
    cr_assert_eq(sd_parse_message_ttl("30", 2, &ttl), 0);
    cr_assert_eq(ttl, 30);
    cr_assert_eq(sd_parse_message_ttl("500ms", 5, &ttl), SD_ERR_MSG_TTL_INVALID);
    cr_assert_eq(sd_parse_message_ttl("abc", 3, &ttl), SD_ERR_MSG_TTL_INVALID);
    cr_assert_str_eq(sd_strerror(SD_ERR_MSG_TTL_INVALID), "invalid per-message TTL");
    char buf[32];
    const struct {
        int64_t s;
        const char *want;
    } durs[] = {{1, "1s"},     {59, "59s"},      {60, "1m0s"},
                {90, "1m30s"}, {3600, "1h0m0s"}, {7322, "2h2m2s"}};
    for (size_t i = 0; i < 6; i++) {
        sd_format_duration_s(durs[i].s, buf, sizeof buf);
        cr_assert_str_eq(buf, durs[i].want);
    }
}

/* A message whose TTL header says "never" outlives MaxAge; others expire. */
Test(memstore_extra, never_ttl_outlives_max_age) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {
        .name = "zzz", .subjects = SUBJECTS("foo"), .max_age_ns = SEC, .allow_msg_ttl = true};
    sd_store *st = open_ms(&cfg, &clk);
    const char *h = "NATS/1.0\r\nNats-TTL: never\r\n\r\n";
    cr_assert_eq(
        sd_store_store_msg(st, "foo", 3, (const uint8_t *)h, strlen(h), NULL, 0, -1, NULL, NULL),
        0);
    put(st, "foo", "x");
    cr_assert_neq(sd_store_next_expire(st), INT64_MAX);
    sd_suite_advance(st, &clk, 3 * SEC);
    sd_stream_state s = state_of(st);
    cr_assert_eq(s.msgs, 1);
    cr_assert_eq(s.first_seq, 1);
    sd_store_free(st);
}

Test(memstore_extra, next_expire_contract) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo"), .max_age_ns = SEC};
    sd_store *st = open_ms(&cfg, &clk);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX); /* nothing stored: no timer */
    int64_t t0 = clk.now;
    put(st, "foo", "x");
    int64_t d = sd_store_next_expire(st);
    cr_assert(d > t0 && d <= t0 + SEC + MSEC, "deadline %lld", (long long)(d - t0));
    sd_suite_advance(st, &clk, 2 * SEC);
    cr_assert_eq(state_of(st).msgs, 0);
    cr_assert_eq(sd_store_next_expire(st), INT64_MAX); /* empty again: cancelled */
    sd_store_free(st);
}

Test(memstore_extra, stop_closes) {
    sd_stream_config cfg = {.name = "zzz", .subjects = SUBJECTS("foo")};
    sd_store *st = open_ms(&cfg, NULL);
    put(st, "foo", "x");
    cr_assert_eq(sd_store_stop(st), 0);
    cr_assert_eq(sd_store_store_msg(st, "foo", 3, NULL, 0, NULL, 0, 0, NULL, NULL),
                 SD_ERR_STORE_CLOSED);
    sd_consumer_config cc = {SD_ACK_EXPLICIT, 0};
    sd_consumer_store *o;
    cr_assert_eq(st->ops->consumer_store(st, "c", 0, &cc, &o), SD_ERR_STORE_CLOSED);
    cr_assert_eq(state_of(st).msgs, 0);
    sd_store_msg sm = {0};
    uint64_t seq;
    cr_assert_eq(sd_store_load_prev_msg(st, ">", true, 1, &sm, &seq), SD_ERR_STORE_CLOSED);
    cr_assert_eq(sd_memstore_open(&(sd_stream_config){.storage = SD_STORAGE_FILE}, NULL, &st),
                 SD_ERR_MEMSTORE_TYPE);
    sd_store_free(st);
}

/* --- Consumer state ----------------------------------------------------------------------- */

static sd_consumer_store *consumer(sd_store *st, sd_ack_policy ack, int64_t max_deliver) {
    sd_consumer_config cc = {ack, max_deliver};
    sd_consumer_store *o = NULL;
    cr_assert_eq(st->ops->consumer_store(st, "dlc", 0, &cc, &o), 0);
    return o;
}

static sd_consumer_state cstate(sd_consumer_store *o) {
    sd_consumer_state cs;
    cr_assert_eq(o->ops->state(o, &cs), 0);
    return cs;
}

Test(memstore_consumer, explicit_acks) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 0);
    cr_assert_eq(state_of(st).consumers, 1);
    cr_assert_not(o->ops->has_state(o));
    for (uint64_t i = 1; i <= 3; i++)
        cr_assert_eq(o->ops->update_delivered(o, i, i, 1, 100), 0);
    cr_assert(o->ops->has_state(o));
    sd_consumer_state cs = cstate(o);
    cr_assert(cs.delivered.consumer == 3 && cs.delivered.stream == 3);
    cr_assert(cs.ack_floor.consumer == 0 && cs.ack_floor.stream == 0);
    cr_assert_eq(cs.num_pending, 3);
    cr_assert(cs.pending[0].sseq == 1 && cs.pending[2].sseq == 3 && cs.pending[1].dseq == 2);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 1, 1), 0);
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 1 && cs.ack_floor.stream == 1 && cs.num_pending == 2);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 3, 3), 0); /* out of order: floor stays */
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 1 && cs.num_pending == 1);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 2, 2), 0); /* nothing pending: floor = delivered */
    cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 3 && cs.ack_floor.stream == 3 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->update_acks(o, 9, 9), SD_ERR_MSG_NOT_FOUND);
    /* Redelivery keeps the original delivery sequence and counts. */
    cr_assert_eq(o->ops->update_delivered(o, 4, 4, 1, 200), 0);
    cr_assert_eq(o->ops->update_delivered(o, 5, 4, 2, 300), 0);
    cs = cstate(o);
    cr_assert(cs.num_pending == 1 && cs.pending[0].dseq == 4 && cs.pending[0].ts == 300);
    cr_assert(cs.num_redelivered == 1 && cs.redelivered[0].sseq == 4 &&
              cs.redelivered[0].count == 1);
    cr_assert(cs.delivered.consumer == 5 && cs.delivered.stream == 4);
    sd_consumer_state_free(&cs);
    o->ops->remove_redelivered_below(o, 5);
    cs = cstate(o);
    cr_assert_eq(cs.num_redelivered, 0);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->stop(o), 0);
    cr_assert_eq(state_of(st).consumers, 0);
    cr_assert_eq(o->ops->state(o, &cs), SD_ERR_STORE_CLOSED);
    o->ops->free(o);
    sd_store_free(st);
}

Test(memstore_consumer, max_deliver_and_ack_none) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 2);
    cr_assert_eq(o->ops->update_delivered(o, 1, 1, 1, 1), 0);
    cr_assert_eq(o->ops->update_delivered(o, 2, 1, 3, 2), 0); /* past MaxDeliver: not pending */
    sd_consumer_state cs = cstate(o);
    cr_assert_eq(cs.num_pending, 0);
    cr_assert(cs.num_redelivered == 1 && cs.redelivered[0].count == 2);
    sd_consumer_state_free(&cs);
    o->ops->free(o);
    sd_consumer_store *n = consumer(st, SD_ACK_NONE, 0);
    cr_assert_eq(n->ops->update_delivered(n, 1, 5, 2, 1), SD_ERR_NO_ACK_POLICY);
    cr_assert_eq(n->ops->update_delivered(n, 1, 5, 1, 1), 0);
    cr_assert_eq(n->ops->update_acks(n, 1, 5), SD_ERR_NO_ACK_POLICY);
    cs = cstate(n);
    cr_assert(cs.ack_floor.consumer == 1 && cs.ack_floor.stream == 5 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    n->ops->update_starting(n, 9);
    cs = cstate(n);
    cr_assert(cs.delivered.stream == 9 && cs.ack_floor.stream == 9);
    sd_consumer_state_free(&cs);
    n->ops->free(n);
    sd_store_free(st);
}

Test(memstore_consumer, ack_all) {
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, NULL);
    sd_consumer_store *o = consumer(st, SD_ACK_ALL, 0);
    for (uint64_t i = 1; i <= 5; i++)
        o->ops->update_delivered(o, i, i * 10, 1, 1);
    cr_assert_eq(o->ops->update_acks(o, 3, 30), 0);
    sd_consumer_state cs = cstate(o);
    cr_assert(cs.ack_floor.consumer == 3 && cs.ack_floor.stream == 30);
    cr_assert(cs.num_pending == 2 && cs.pending[0].sseq == 40);
    sd_consumer_state_free(&cs);
    o->ops->free(o);
    sd_store_free(st);
}

Test(memstore_consumer, update_validation_and_encoding) {
    sd_fake_clock clk;
    sd_fake_clock_init(&clk);
    sd_stream_config cfg = {.name = "zzz"};
    sd_store *st = open_ms(&cfg, &clk);
    sd_consumer_store *o = consumer(st, SD_ACK_EXPLICIT, 0);
    sd_pending p[] = {{22, 7, clk.now - 5 * SEC}, {25, 9, clk.now - 2 * SEC}};
    sd_redelivered r[] = {{22, 3}};
    sd_consumer_state in = {{10, 30}, {5, 20}, p, 2, r, 1};
    sd_consumer_state bad = in;
    bad.ack_floor.consumer = 11;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_ACK_FLOOR_CONSUMER);
    bad = in;
    bad.ack_floor.stream = 31;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_ACK_FLOOR_STREAM);
    bad = in;
    sd_pending bp[] = {{31, 1, 0}};
    bad.pending = bp;
    bad.num_pending = 1;
    cr_assert_eq(o->ops->update(o, &bad), SD_ERR_BAD_PENDING);
    cr_assert_eq(o->ops->update(o, &in), 0);
    sd_consumer_state old = in;
    old.delivered.consumer = 9;
    old.ack_floor.consumer = 4;
    cr_assert_eq(o->ops->update(o, &old), SD_ERR_OLD_UPDATE);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(o->ops->encoded_state(o, &buf, &len), 0);
    sd_consumer_state out;
    cr_assert_eq(sd_decode_consumer_state(buf, len, &out), 0);
    cr_assert(out.delivered.consumer == 10 && out.delivered.stream == 30);
    cr_assert(out.ack_floor.consumer == 5 && out.ack_floor.stream == 20);
    cr_assert_eq(out.num_pending, 2);
    for (size_t i = 0; i < 2; i++) {
        size_t j = out.pending[0].sseq == p[i].sseq ? 0 : 1;
        cr_assert_eq(out.pending[j].sseq, p[i].sseq);
        cr_assert_eq(out.pending[j].dseq, p[i].dseq);
        /* Timestamps are kept to the second. */
        cr_assert_leq(llabs(out.pending[j].ts - p[i].ts), SEC);
    }
    cr_assert(out.num_redelivered == 1 && out.redelivered[0].sseq == 22 &&
              out.redelivered[0].count == 3);
    sd_consumer_state_free(&out);
    buf[0] = 1;
    cr_assert_eq(sd_decode_consumer_state(buf, len, &out), SD_ERR_CORRUPT_STATE);
    free(buf);
    cr_assert_eq(o->ops->force_update(o, &old), 0);
    sd_consumer_state cs = cstate(o);
    cr_assert_eq(cs.delivered.consumer, 9);
    sd_consumer_state_free(&cs);
    cr_assert_eq(o->ops->reset(o, 50), 0);
    cs = cstate(o);
    cr_assert(cs.delivered.stream == 50 && cs.ack_floor.stream == 50 && cs.num_pending == 0);
    sd_consumer_state_free(&cs);
    /* The stream store may go first: the consumer store is detached, not left dangling. */
    sd_store_free(st);
    cr_assert_eq(o->ops->stop(o), 0);
    o->ops->free(o);
}
