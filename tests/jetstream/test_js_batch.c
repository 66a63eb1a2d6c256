/* Atomic batch publish (storaged/js/js_batch.c) through js.h with the fake host.
 * Ports cases of Go nats-server v2.14.5 server/jetstream_batching_test.go (single node). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "js_harness.h"

static jh H;
static void setup(void) { jh_open(&H); }
static void teardown(void) { jh_close(&H); }

TestSuite(js_batch, .init = setup, .fini = teardown);

/* Publishes one batch message (extra: more header lines or NULL) with reply "_R", flushes and
 * returns the reply published on it (NULL when none). */
static const jh_msg *bpub(const char *subj, const char *id, const char *seq, const char *commit,
                          const char *extra) {
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr, "NATS/1.0\r\nNats-Batch-Id: %s\r\n", id);
    if (seq) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Nats-Batch-Sequence: %s\r\n", seq);
    if (commit) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Nats-Batch-Commit: %s\r\n", commit);
    if (extra) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s", extra);
    snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
    size_t before = jh_count_on(&H, "_R");
    jh_inbound(&H, subj, "_R", hdr, subj, strlen(subj));
    js_server_flush(H.js);
    if (jh_count_on(&H, "_R") == before) return NULL;
    return jh_last_on(&H, "_R");
}

static json_t *bpub_json(const char *subj, const char *id, const char *seq, const char *commit,
                         const char *extra) {
    const jh_msg *m = bpub(subj, id, seq, commit, extra);
    cr_assert_not_null(m, "no reply");
    json_error_t e;
    json_t *o = json_loads(m->data, 0, &e);
    cr_assert_not_null(o, "not JSON: '%s'", m->data);
    return o;
}

static int berr(const char *subj, const char *id, const char *seq, const char *commit,
                const char *extra) {
    json_t *o = bpub_json(subj, id, seq, commit, extra);
    int c = jh_err_code(o);
    json_decref(o);
    return c;
}

static void batch_publish(const char *storage, const char *retention) {
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"storage\":\"%s\",\"retention\":\"%s\"}",
             storage, retention);
    jh_create(&H, cfg);
    cr_assert_eq(berr("foo.0", "uuid", NULL, NULL, NULL), 10174);
    snprintf(cfg, sizeof cfg, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"storage\":\"%s\",\"retention\":\"%s\","
             "\"allow_atomic\":true}", storage, retention);
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.TEST", cfg);
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    cr_assert_eq(berr("foo.0", "uuid", NULL, NULL, NULL), 10175);
    cr_assert_eq(berr("foo.0", "uuid", "2", NULL, NULL), 10176);
    const jh_msg *m = bpub("foo.0", "uuid", "1", "1", NULL);
    cr_assert_str_eq(m->data, "{\"stream\":\"TEST\",\"seq\":1,\"batch\":\"uuid\",\"count\":1}");
    /* gaps */
    m = bpub("foo.0", "uuid", "1", NULL, NULL);
    cr_assert_eq(m->len, 0);
    cr_assert_eq(berr("foo.0", "uuid", "3", NULL, NULL), 10176);
    /* a batch of 5 */
    for (int seq = 1; seq <= 5; seq++) {
        char subj[16], s[8];
        snprintf(subj, sizeof subj, "foo.%d", seq);
        snprintf(s, sizeof s, "%d", seq);
        m = bpub(subj, "uuid", s, seq == 5 ? "1" : NULL, NULL);
        if (seq < 5) {
            cr_assert_eq(m->len, 0, "staged messages get an empty ack");
            continue;
        }
        cr_assert_str_eq(m->data, "{\"stream\":\"TEST\",\"seq\":6,\"batch\":\"uuid\",\"count\":5}");
    }
    for (int i = 0; i < 6; i++) {
        char body[32], subj[16];
        snprintf(body, sizeof body, "{\"seq\":%d}", i + 1);
        snprintf(subj, sizeof subj, "foo.%d", i);
        r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TEST", body);
        cr_assert_str_eq(jh_str(r, "message.subject"), subj);
        json_decref(r);
    }
}

Test(js_batch, publish_file_limits) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublish",
                    "single node; file/memory with limits and workqueue retention");
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishEmptyAck",
                    "single node");
    batch_publish("file", "limits");
}

Test(js_batch, publish_memory_workqueue) { batch_publish("memory", "workqueue"); }

Test(js_batch, commit_eob) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishCommitEob",
                    "single node, file storage, limits retention");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    cr_assert_eq(berr("foo", "uuid", "1", "eob", NULL), 10176);
    bpub("foo", "uuid", "1", NULL, NULL);
    bpub("foo", "uuid", "2", NULL, NULL);
    const jh_msg *m = bpub("foo", "uuid", "3", "eob", NULL);
    cr_assert_str_eq(m->data, "{\"stream\":\"TEST\",\"seq\":2,\"batch\":\"uuid\",\"count\":2}");
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 2);
    json_decref(r);
    /* the stored messages keep their batch headers; the last gets the commit header */
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TEST", "{\"seq\":2}");
    cr_assert_str_eq(jh_str(r, "message.hdrs"),
                     "TkFUUy8xLjANCk5hdHMtQmF0Y2gtSWQ6IHV1aWQNCk5hdHMtQmF0Y2gtU2VxdWVuY2U6IDINCk5hdHMtQmF0Y2gtQ29tbWl0OiAxDQoNCg==");
    json_decref(r);
}

Test(js_batch, limits) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishLimits",
                    "default limits (50 per stream, 1000 size, 10s timeout), not the test's overrides; "
                    "no server-wide total case");
    jh_create(&H, "{\"name\":\"FOO\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    char id[80];
    memset(id, 'A', 64);
    id[64] = 0;
    json_t *o = bpub_json("foo", id, "1", "1", NULL);
    cr_assert(!jh_has(o, "error"));
    json_decref(o);
    strcat(id, "A");
    cr_assert_eq(berr("foo", id, "1", "1", NULL), 10179);
    /* 50 inflight batches, the 51st is refused */
    for (int i = 0; i < 50; i++) {
        char b[16];
        snprintf(b, sizeof b, "b%d", i);
        cr_assert_not_null(bpub("foo", b, "1", NULL, NULL));
    }
    cr_assert_eq(berr("foo", "over", "1", "1", NULL), 10210);
    /* they time out after 10s (advisory), then a continuation is incomplete */
    H.now += 11LL * 1000000000LL;
    js_server_tick(H.js, H.now);
    const jh_msg *adv = jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.FOO");
    cr_assert_not_null(adv);
    json_t *a = json_loads(adv->data, 0, NULL);
    cr_assert_str_eq(jh_str(a, "type"), "io.nats.jetstream.advisory.v1.stream_batch_abandoned");
    cr_assert_str_eq(jh_str(a, "reason"), "timeout");
    cr_assert_str_eq(jh_str(a, "stream"), "FOO");
    json_decref(a);
    cr_assert_eq(berr("foo", "b0", "2", "1", NULL), 10176);
    /* size: 1000 is fine, 1001 is too large */
    for (int seq = 1; seq <= 1001; seq++) {
        char s[8];
        snprintf(s, sizeof s, "%d", seq);
        if (seq < 1000) {
            bpub("foo", "big", s, NULL, NULL);
            continue;
        }
        if (seq == 1000) {
            /* restage the same batch id as a fresh batch for the 1001 case below */
            json_t *c = bpub_json("foo", "big", s, "1", NULL);
            cr_assert(!jh_has(c, "error"), "%s", jh_str(c, "error.description"));
            cr_assert_eq(jh_int(c, "count"), 1000);
            json_decref(c);
        }
    }
    for (int seq = 1; seq <= 1001; seq++) {
        char s[8];
        snprintf(s, sizeof s, "%d", seq);
        if (seq < 1001) {
            bpub("foo", "big2", s, NULL, NULL);
            continue;
        }
        json_t *c = bpub_json("foo", "big2", s, "1", NULL);
        cr_assert_eq(jh_err_code(c), 10199);
        cr_assert_str_eq(jh_str(c, "error.description"), "atomic publish batch is too large: 1000");
        json_decref(c);
    }
    /* invalid commit value */
    bpub("foo", "c", "1", NULL, NULL);
    cr_assert_eq(berr("foo", "c", "2", "yes", NULL), 10200);
}

Test(js_batch, deny_headers_and_dedupe) {
    GO_TEST("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishDenyHeaders");
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishDedupeNotAllowed",
                    "single node, file storage");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    bpub("foo", "uuid", "1", NULL, "Nats-Expected-Last-Msg-Id: msgId\r\n");
    json_t *o = bpub_json("foo", "uuid", "2", "eob", NULL);
    cr_assert_eq(jh_err_code(o), 10177);
    cr_assert_str_eq(jh_str(o, "error.description"),
                     "atomic publish unsupported header used: Nats-Expected-Last-Msg-Id");
    json_decref(o);
    /* nothing was stored */
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 0);
    json_decref(r);
    /* duplicate id inside the batch, and against the stream */
    bpub("foo", "d", "1", NULL, "Nats-Msg-Id: pre-existing\r\n");
    cr_assert_eq(berr("foo", "d", "2", "1", "Nats-Msg-Id: pre-existing\r\n"), 10201);
    json_t *a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Msg-Id: stored\r\n\r\n", "x");
    json_decref(a);
    cr_assert_eq(berr("foo", "e", "1", "1", "Nats-Msg-Id: stored\r\n"), 10201);
    r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
}

Test(js_batch, expected_seq) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishExpectedSeq",
                    "no clseq/clfs introspection");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    json_decref(jh_pub(&H, "foo", NULL, "hello"));
    json_decref(jh_pub(&H, "foo", "NATS/1.0\r\nNats-Expected-Last-Sequence: 1\r\n\r\n", "hello"));
    json_t *o = bpub_json("foo", "uuid", "1", "1", "Nats-Expected-Last-Sequence: 2\r\n");
    cr_assert(!jh_has(o, "error"), "%s", jh_str(o, "error.description"));
    cr_assert_eq(jh_int(o, "seq"), 3);
    cr_assert_eq(jh_int(o, "count"), 1);
    json_decref(o);
    /* the expected last sequence only on the first message */
    bpub("foo", "x", "1", NULL, NULL);
    cr_assert_eq(berr("foo", "x", "2", "1", "Nats-Expected-Last-Sequence: 4\r\n"), 10164);
    bpub("foo", "y", "1", NULL, NULL);
    json_t *w = bpub_json("foo", "y", "2", "1", "Nats-Expected-Last-Sequence: 9\r\n");
    cr_assert_str_eq(jh_str(w, "error.description"), "wrong last sequence: 4");
    json_decref(w);
}

Test(js_batch, source_and_mirror) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishSourceAndMirror",
                    "single node; contents checked by counts");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    bpub("foo", "uuid", "1", NULL, NULL);
    bpub("foo", "uuid", "2", NULL, NULL);
    json_t *o = bpub_json("foo", "uuid", "3", "1", NULL);
    cr_assert_eq(jh_int(o, "seq"), 3);
    json_decref(o);
    json_decref(jh_req(&H, "$JS.API.STREAM.MSG.DELETE.TEST", "{\"seq\":2}"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.M-no-batch",
                       "{\"name\":\"M-no-batch\",\"mirror\":{\"name\":\"TEST\"},\"allow_atomic\":true}");
    cr_assert_eq(jh_err_code(r), 10198);
    json_decref(r);
    jh_create(&H, "{\"name\":\"M\",\"mirror\":{\"name\":\"TEST\"}}");
    jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"TEST\"}],\"allow_atomic\":true}");
    js_server_flush(H.js);
    r = jh_req(&H, "$JS.API.STREAM.INFO.M", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 2);
    cr_assert_eq(jh_int(r, "state.last_seq"), 3);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 2);
    json_decref(r);
    /* sourced copies lose the batch headers */
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":2}");
    const char *h = jh_str(r, "message.hdrs");
    cr_assert_not_null(h);
    /* base64 of "NATS/1.0\r\nNats-Stream-Source: TEST 3 > > foo\r\n\r\n" */
    cr_assert_str_eq(h, "TkFUUy8xLjANCk5hdHMtU3RyZWFtLVNvdXJjZTogVEVTVCAzID4gPiBmb28NCg0K");
    json_decref(r);
}

/* ---- fast batch (allow_batched) ------------------------------------------------------- */

static size_t mark;

static void fpub(const char *subj, const char *id, int seq, int flow, const char *gap, int op,
                 const char *hdr) {
    char reply[256];
    snprintf(reply, sizeof reply, "_IN.%s.%d.%s.%d.%d.$FI", id, flow, gap, seq, op);
    mark = H.nmsgs;
    jh_inbound(&H, subj, reply, hdr, subj, strlen(subj));
    js_server_flush(H.js);
}

/* The n-th message (0-based) published on _IN.> since the last fpub, or NULL. */
static const char *fmsg(size_t n) {
    for (size_t i = mark; i < H.nmsgs; i++)
        if (!strncmp(H.msgs[i].subj, "_IN.", 4) && n-- == 0) return H.msgs[i].data;
    return NULL;
}

Test(js_batch, fast_publish) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamFastBatchPublish",
                    "single node, file storage, limits retention");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"]}");
    fpub("foo.0", "uuid", 0, 0, "fail", 0, NULL);
    json_t *o = json_loads(fmsg(0), 0, NULL);
    cr_assert_eq(jh_err_code(o), 10205);
    json_decref(o);
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.TEST",
                       "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"allow_batched\":true}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    struct {
        const char *id;
        int seq, op, code;
    } bad[] = {{"uuid", 0, 0, 10206},
               {"uuid", 1, 3, 10206},
               {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1, 0, 10207},
               {"uuid", 2, 1, 10208}};
    for (size_t i = 0; i < 4; i++) {
        fpub("foo.0", bad[i].id, bad[i].seq, 0, "fail", bad[i].op, NULL);
        o = json_loads(fmsg(0), 0, NULL);
        cr_assert_eq(jh_err_code(o), bad[i].code, "case %zu", i);
        json_decref(o);
    }
    fpub("foo.0", "uuid", 1, 0, "fail", 2, NULL);
    cr_assert_str_eq(fmsg(0), "{\"stream\":\"TEST\",\"seq\":1,\"batch\":\"uuid\",\"count\":1}");
    cr_assert_null(fmsg(1));
    for (int seq = 1; seq <= 5; seq++) {
        char subj[16];
        snprintf(subj, sizeof subj, "foo.%d", seq);
        fpub(subj, "uuid", seq, 0, "fail", seq == 5 ? 2 : seq == 1 ? 0 : 1, NULL);
        if (seq == 1) cr_assert_str_eq(fmsg(0), "{\"type\":\"ack\",\"seq\":0,\"msgs\":10}");
        else if (seq < 5) cr_assert_null(fmsg(0));
        else cr_assert_str_eq(fmsg(0), "{\"stream\":\"TEST\",\"seq\":6,\"batch\":\"uuid\",\"count\":5}");
    }
    for (int i = 0; i < 6; i++) {
        char body[32], subj[16];
        snprintf(body, sizeof body, "{\"seq\":%d}", i + 1);
        snprintf(subj, sizeof subj, "foo.%d", i);
        r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TEST", body);
        cr_assert_str_eq(jh_str(r, "message.subject"), subj);
        json_decref(r);
    }
}

Test(js_batch, fast_gap_detection) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamFastBatchPublishGapDetection",
                    "single node");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_batched\":true}");
    fpub("foo", "u1", 1, 0, "unknown", 0, NULL);
    json_t *o = json_loads(fmsg(0), 0, NULL);
    cr_assert_eq(jh_err_code(o), 10206);
    json_decref(o);
    /* gap: fail ends the batch with what was stored */
    fpub("foo", "u2", 1, 0, "fail", 0, NULL);
    cr_assert_str_eq(fmsg(0), "{\"type\":\"ack\",\"seq\":0,\"msgs\":10}");
    fpub("foo", "u2", 3, 0, "fail", 1, NULL);
    cr_assert_str_eq(fmsg(0), "{\"type\":\"gap\",\"last_seq\":2,\"seq\":3}");
    cr_assert_str_eq(fmsg(1), "{\"stream\":\"TEST\",\"seq\":1,\"batch\":\"u2\",\"count\":1}");
    /* gap: ok goes on; an eob commit acknowledges what was stored */
    fpub("foo", "u3", 1, 0, "ok", 0, NULL);
    fpub("foo", "u3", 3, 0, "ok", 1, NULL);
    cr_assert_str_eq(fmsg(0), "{\"type\":\"gap\",\"last_seq\":2,\"seq\":3}");
    fpub("foo", "u3", 4, 0, "ok", 3, NULL);
    cr_assert_str_eq(fmsg(0), "{\"stream\":\"TEST\",\"seq\":3,\"batch\":\"u3\",\"count\":3}");
}

Test(js_batch, expected_last_subject_sequence) {
    GO_TEST("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishExpectedLastSubjectSequence");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"allow_atomic\":true}");
    json_decref(jh_pub(&H, "foo.A", NULL, ""));
    json_decref(jh_pub(&H, "foo.B", NULL, ""));
    const jh_msg *m = bpub("foo.A", "uuid", "1", NULL,
                           "Nats-Expected-Last-Sequence: 2\r\nNats-Expected-Last-Subject-Sequence: 1\r\n"
                           "Nats-Expected-Last-Subject-Sequence-Subject: foo.A\r\n");
    cr_assert_eq(m->len, 0);
    json_t *o = bpub_json("foo.B", "uuid", "2", "1",
                          "Nats-Expected-Last-Subject-Sequence: 2\r\n"
                          "Nats-Expected-Last-Subject-Sequence-Subject: foo.B\r\n");
    cr_assert(!jh_has(o, "error"), "%s", jh_str(o, "error.description"));
    cr_assert_eq(jh_int(o, "seq"), 4);
    cr_assert_eq(jh_int(o, "count"), 2);
    json_decref(o);
}

Test(js_batch, expected_last_subject_sequence_ownership) {
    GO_TEST("server/jetstream_batching_test.go",
            "TestJetStreamAtomicBatchPublishExpectedLastSubjectSequenceOwnership");
    jh_create(&H, "{\"name\":\"EVENTS\",\"subjects\":[\"events.>\"],\"storage\":\"memory\",\"allow_atomic\":true}");
    const char *entry = "diary.entry_BBBBBBBBBBBBBBBBBBBBBBBB";
    const char *old_day = "diary-day.day_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
    const char *target = "diary-day.day_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *mutation = "mutation.mut_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD";
    char ent[19][96];
    for (int i = 0; i < 19; i++) snprintf(ent[i], sizeof ent[i], "seed.entity_%02d", i + 1);
    snprintf(ent[10], sizeof ent[10], "%s", target);
    snprintf(ent[17], sizeof ent[17], "%s", entry);
    snprintf(ent[18], sizeof ent[18], "%s", old_day);
    for (int i = 0; i < 19; i++) {
        char subj[2048];
        snprintf(subj, sizeof subj, "events.%s.balance", ent[i]);
        json_t *a = jh_pub(&H, subj, NULL, "");
        cr_assert_eq(jh_int(a, "seq"), i + 1);
        json_decref(a);
    }
    const char *batch[] = {entry, old_day, target, mutation};
    int expected[] = {18, 19, 11, 0};
    for (int i = 0; i < 4; i++) {
        char subj[4096], extra[4096], seq[8];
        snprintf(subj, sizeof subj, "events.%s.balance", batch[i]);
        snprintf(extra, sizeof extra,
                 "Nats-Expected-Last-Subject-Sequence-Subject: events.%s.*\r\n"
                 "Nats-Expected-Last-Subject-Sequence: %d\r\n", batch[i], expected[i]);
        snprintf(seq, sizeof seq, "%d", i + 1);
        if (i < 3) {
            const jh_msg *m = bpub(subj, "uuid", seq, NULL, extra);
            cr_assert_eq(m->len, 0);
            continue;
        }
        json_t *o = bpub_json(subj, "uuid", seq, "1", extra);
        cr_assert(!jh_has(o, "error"), "%s", jh_str(o, "error.description"));
        cr_assert_eq(jh_int(o, "seq"), 23);
        cr_assert_eq(jh_int(o, "count"), 4);
        json_decref(o);
    }
}

Test(js_batch, discard_new_all_or_nothing) {
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"allow_atomic\":true,\"discard\":\"new\","
                  "\"max_msgs\":2}");
    bpub("foo.a", "b", "1", NULL, NULL);
    bpub("foo.b", "b", "2", NULL, NULL);
    json_t *o = bpub_json("foo.c", "b", "3", "1", NULL);
    cr_assert_eq(jh_err_code(o), 10077);
    cr_assert_str_eq(jh_str(o, "error.description"), "maximum messages exceeded");
    json_decref(o);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 0);
    json_decref(r);
    bpub("foo.a", "c", "1", NULL, NULL);
    o = bpub_json("foo.b", "c", "2", "1", NULL);
    cr_assert_eq(jh_int(o, "seq"), 2);
    json_decref(o);
}

/* ---- a commit cut short by a crash ------------------------------------------------------- */

/* Appends messages 1..n of batch `id` (no commit) to the file stream TEST as a crash in the
 * middle of a commit leaves them: the server is closed, the stream's store written directly. */
static void append_uncommitted(const char *id, int n, const char *commit_on_last) {
    js_server_close(H.js);
    H.js = NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/jetstream/$G/streams/TEST", H.dir);
    const char *subjs[] = {"foo.*"};
    sd_stream_config sc = {.name = "TEST", .subjects = subjs, .num_subjects = 1,
                           .storage = SD_STORAGE_FILE};
    sd_filestore_config fc = {.dir = dir};
    sd_store *st = NULL;
    cr_assert_eq(sd_filestore_open(&fc, &sc, NULL, &st), 0);
    for (int i = 1; i <= n; i++) {
        char hdr[256];
        int hl = snprintf(hdr, sizeof hdr, "NATS/1.0\r\nNats-Batch-Id: %s\r\nNats-Batch-Sequence: %d\r\n%s%s%s\r\n",
                          id, i, i == n && commit_on_last ? "Nats-Batch-Commit: " : "",
                          i == n && commit_on_last ? commit_on_last : "", i == n && commit_on_last ? "\r\n" : "");
        uint64_t seq;
        int64_t ts;
        cr_assert_eq(sd_store_store_msg(st, "foo.b", 5, (const uint8_t *)hdr, (size_t)hl,
                                        (const uint8_t *)"x", 1, 0, &seq, &ts), 0);
    }
    st->ops->flush_all_pending(st);
    sd_store_free(st);
    jh_restart(&H);
}

static uint64_t last_seq(void) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    uint64_t v = (uint64_t)jh_int(r, "state.last_seq");
    json_decref(r);
    return v;
}

Test(js_batch, partial_commit_rolled_back_at_recovery) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishSingleServerRecovery",
                    "a commit cut short leaves no part of its batch (rolled back here, rolled "
                    "forward by Go)");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"],\"allow_atomic\":true}");
    json_t *r = bpub_json("foo.0", "done", "1", "1", NULL); /* a whole batch */
    cr_assert_eq(jh_int(r, "seq"), 1);
    json_decref(r);
    append_uncommitted("cut", 3, NULL);
    cr_assert_eq(last_seq(), 1, "the uncommitted tail must be gone");
    r = bpub_json("foo.0", "next", "1", "1", NULL);
    cr_assert_eq(jh_int(r, "seq"), 2);
    json_decref(r);
    /* A batch whose commit message made it to disk is whole: kept. */
    append_uncommitted("whole", 2, "1");
    cr_assert_eq(last_seq(), 4);
    /* ... also when its commit message is deleted later: the tail then ends in batch
     * messages without a commit, but the stream's last sequence is past them. */
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.TEST", "{\"seq\":4}");
    cr_assert(json_is_true(json_object_get(r, "success")), "%s", json_dumps(r, 0));
    json_decref(r);
    jh_restart(&H);
    r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 3, "the acknowledged batch must stay");
    cr_assert_eq(jh_int(r, "state.last_seq"), 4);
    json_decref(r);
}
