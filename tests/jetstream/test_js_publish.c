/* Stream side of storaged's JetStream layer through js.h: publishing (PubAck, headers,
 * limits, dedupe, rollups, TTLs, counters, republish), message get/delete, direct get.
 * Ports cases of Go nats-server v2.14.5 server/jetstream_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/gotest.h"
#include "js_harness.h"

static jh H;
static void setup(void) { jh_open(&H); }
static void teardown(void) { jh_close(&H); }

TestSuite(js_publish, .init = setup, .fini = teardown);

Test(js_publish, pub_ack_and_no_ack) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamPubAck");
    jh_create(&H, "{\"name\":\"PUBACK\",\"subjects\":[\"foo\"]}");
    for (int i = 1; i <= 10; i++) {
        json_t *a = jh_pub(&H, "foo", NULL, "HELLO");
        cr_assert_str_eq(jh_str(a, "stream"), "PUBACK");
        cr_assert_eq(jh_int(a, "seq"), i);
        cr_assert(!jh_has(a, "duplicate"));
        json_decref(a);
    }
    jh_create(&H, "{\"name\":\"NOACK\",\"subjects\":[\"na\"],\"no_ack\":true}");
    json_t *a = jh_pub(&H, "na", NULL, "x");
    cr_assert_null(a);
    /* No reply subject: stored, nothing published. */
    size_t before = H.nmsgs;
    jh_inbound(&H, "foo", NULL, NULL, "x", 1);
    js_server_flush(H.js);
    cr_assert_eq(H.nmsgs, before);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.PUBACK", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 11);
    json_decref(r);
}

Test(js_publish, pub_ack_after_flush_only) {
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    jh_inbound(&H, "foo", "_INBOX.x", NULL, "a", 1);
    cr_assert_null(jh_last_on(&H, "_INBOX.x"), "PubAck must wait for the group commit");
    js_server_flush(H.js);
    cr_assert_not_null(jh_last_on(&H, "_INBOX.x"));
}

Test(js_publish, domain_in_pub_ack) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamDomainInPubAck");
    jh_close(&H);
    jh_open(&H);
    js_server_close(H.js);
    H.cfg.domain = "HUB";
    char err[128];
    H.js = js_server_open(&H.cfg, &H.host, err, sizeof err);
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"]}");
    json_t *a = jh_pub(&H, "foo", NULL, "x");
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data, "{\"stream\":\"TEST\",\"domain\":\"HUB\",\"seq\":1}");
    json_decref(a);
}

Test(js_publish, dedupe) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamPublishDeDupe",
                    "no msg-id count introspection; window expiry via the fake clock");
    jh_create(&H, "{\"name\":\"DeDupe\",\"subjects\":[\"foo.*\"],\"max_age\":3600000000000}");
    const char *ids[] = {"AA", "BB", "CC", "ZZ"};
    char hdr[128];
    for (int i = 0; i < 4; i++) {
        snprintf(hdr, sizeof hdr, "NATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n", ids[i]);
        json_t *a = jh_pub(&H, "foo.1", hdr, "Hello DeDupe!");
        cr_assert_eq(jh_int(a, "seq"), i + 1);
        json_decref(a);
    }
    snprintf(hdr, sizeof hdr, "NATS/1.0\r\nNats-Msg-Id: BB\r\n\r\n");
    json_t *a = jh_pub(&H, "foo.1", hdr, "again");
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data, "{\"stream\":\"DeDupe\",\"seq\":2,\"duplicate\": true}");
    json_decref(a);
    /* survives a restart */
    jh_restart(&H);
    a = jh_pub(&H, "foo.1", hdr, "again");
    cr_assert_eq(jh_int(a, "seq"), 2);
    cr_assert(json_is_true(json_object_get(a, "duplicate")));
    json_decref(a);
    /* window passes */
    H.now += 121LL * 1000000000LL;
    js_server_tick(H.js, H.now);
    a = jh_pub(&H, "foo.1", hdr, "again");
    cr_assert_eq(jh_int(a, "seq"), 5);
    cr_assert(!jh_has(a, "duplicate"));
    json_decref(a);
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.DeDupe",
                       "{\"name\":\"DeDupe\",\"subjects\":[\"foo.*\"],\"max_age\":3600000000000,"
                       "\"duplicate_window\":-25000000}");
    cr_assert_str_eq(jh_str(r, "error.description"), "duplicates window can not be negative");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.DeDupe",
               "{\"name\":\"DeDupe\",\"subjects\":[\"foo.*\"],\"max_age\":3600000000000,"
               "\"duplicate_window\":7200000000000}");
    cr_assert_str_eq(jh_str(r, "error.description"), "duplicates window can not be larger then max age");
    json_decref(r);
}

Test(js_publish, publish_expect) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamPublishExpect");
    jh_create(&H, "{\"name\":\"EXPECT\",\"subjects\":[\"foo.*\"],\"max_age\":3600000000000}");
    json_t *a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Expected-Stream: EXPECT\r\n\r\n", "HELLO");
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
    a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Expected-Stream: ORDERS\r\n\r\n", "HELLO");
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data,
                     "{\"error\":{\"code\":400,\"err_code\":10060,\"description\":\"expected stream does not match\"},"
                     "\"stream\":\"EXPECT\",\"seq\":0}");
    json_decref(a);
    a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Expected-Stream: EXPECT\r\nNats-Expected-Last-Sequence: 10\r\n\r\n", "HELLO");
    cr_assert_eq(jh_err_code(a), 10071);
    cr_assert_str_eq(jh_str(a, "error.description"), "wrong last sequence: 1");
    json_decref(a);
    a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Expected-Last-Sequence: 0\r\n\r\n", "HELLO");
    cr_assert_eq(jh_err_code(a), 10071);
    json_decref(a);
    a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Msg-Id: AAA\r\n\r\n", "HELLO");
    cr_assert_eq(jh_int(a, "seq"), 2);
    json_decref(a);
    a = jh_pub(&H, "foo.bar", "NATS/1.0\r\nNats-Msg-Id: ZZZ\r\nNats-Expected-Last-Msg-Id: BBB\r\n\r\n", "HELLO");
    cr_assert_eq(jh_err_code(a), 10070);
    cr_assert_str_eq(jh_str(a, "error.description"), "wrong last msg ID: AAA");
    json_decref(a);
    jh_restart(&H);
    a = jh_pub(&H, "foo.baz",
               "NATS/1.0\r\nNats-Expected-Last-Sequence: 2\r\nNats-Expected-Last-Msg-Id: AAA\r\nNats-Msg-Id: BBB\r\n\r\n",
               "HELLO AGAIN");
    cr_assert(!jh_has(a, "error"), "%s", jh_str(a, "error.description"));
    cr_assert_eq(jh_int(a, "seq"), 3);
    json_decref(a);
}

Test(js_publish, last_sequence_by_subject) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamLastSequenceBySubject",
                    "single node, no cluster");
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamLastSequenceBySubjectWithSubject",
                    "single node; the -Subject variant checked on one wildcard");
    jh_create(&H, "{\"name\":\"KV\",\"subjects\":[\"kv.>\"],\"max_msgs_per_subject\":1}");
    json_t *a = jh_pub(&H, "kv.a", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "1");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "kv.a", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "2");
    cr_assert_str_eq(jh_str(a, "error.description"), "wrong last sequence: 1");
    json_decref(a);
    a = jh_pub(&H, "kv.a", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 1\r\n\r\n", "2");
    cr_assert_eq(jh_int(a, "seq"), 2);
    json_decref(a);
    a = jh_pub(&H, "kv.b",
               "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 2\r\n"
               "Nats-Expected-Last-Subject-Sequence-Subject: kv.*\r\n\r\n",
               "3");
    cr_assert_eq(jh_int(a, "seq"), 3);
    json_decref(a);
    a = jh_pub(&H, "kv.b", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence-Subject: kv.*\r\n\r\n", "3");
    cr_assert_eq(jh_err_code(a), 10193);
    json_decref(a);
}

Test(js_publish, discard_new_limits) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAddStreamDiscardNew",
                    "max_msgs case only, both storages");
    const char *st[] = {"memory", "file"};
    for (int k = 0; k < 2; k++) {
        char cfg[256], subj[64];
        snprintf(cfg, sizeof cfg,
                 "{\"name\":\"foo%d\",\"subjects\":[\"f%d\"],\"max_msgs\":10,\"max_bytes\":4096,"
                 "\"discard\":\"new\",\"storage\":\"%s\"}",
                 k, k, st[k]);
        jh_create(&H, cfg);
        snprintf(subj, sizeof subj, "f%d", k);
        for (int i = 0; i < 10; i++) json_decref(jh_pub(&H, subj, NULL, "x"));
        json_t *a = jh_pub(&H, subj, NULL, "x");
        cr_assert_eq(jh_err_code(a), 10077);
        cr_assert_str_eq(jh_str(a, "error.description"), "maximum messages exceeded");
        cr_assert_eq(jh_int(a, "error.code"), 503);
        json_decref(a);
    }
}

Test(js_publish, max_msg_size) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamAddStreamMaxMsgSize");
    jh_create(&H, "{\"name\":\"foo\",\"subjects\":[\"foo\"],\"max_msg_size\":22}");
    json_t *a = jh_pub(&H, "foo", NULL, "Hello World!");
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
    a = jh_pub(&H, "foo", NULL, "Hello World! This is a big message.");
    cr_assert_eq(jh_err_code(a), 10054);
    cr_assert_str_eq(jh_str(a, "error.description"), "message size exceeds maximum allowed");
    json_decref(a);
}

Test(js_publish, delete_msg) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDeleteMsg",
                    "memory and file storage, no consumer delivery checks");
    jh_create(&H, "{\"name\":\"foo\",\"subjects\":[\"foo\"]}");
    for (int i = 0; i < 10; i++) json_decref(jh_pub(&H, "foo", NULL, "ok"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.foo", "{\"seq\":1}");
    cr_assert(json_is_true(json_object_get(r, "success")));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.foo", "{\"seq\":5,\"no_erase\":true}");
    cr_assert(json_is_true(json_object_get(r, "success")));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.foo", "{\"seq\":5}");
    cr_assert_eq(jh_err_code(r), 10043);
    cr_assert_str_eq(jh_str(r, "error.description"), "sequence 5 not found");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.foo", NULL);
    cr_assert_eq(jh_err_code(r), 10003);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.INFO.foo", "{\"deleted_details\":true}");
    cr_assert_eq(jh_int(r, "state.messages"), 8);
    cr_assert_eq(jh_int(r, "state.first_seq"), 2);
    cr_assert_eq(jh_int(r, "state.num_deleted"), 1);
    cr_assert_eq(jh_int(r, "state.deleted.0"), 5);
    json_decref(r);
    jh_create(&H, "{\"name\":\"dd\",\"subjects\":[\"dd\"],\"deny_delete\":true}");
    json_decref(jh_pub(&H, "dd", NULL, "x"));
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.dd", "{\"seq\":1}");
    cr_assert_str_eq(jh_str(r, "error.description"), "message delete not permitted");
    json_decref(r);
}

Test(js_publish, msg_get) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMsgGetNoAdvisory", "no advisory check");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
    json_decref(jh_pub(&H, "s.a", "NATS/1.0\r\nX: 1\r\n\r\n", "one"));
    json_decref(jh_pub(&H, "s.b", NULL, "two"));
    json_decref(jh_pub(&H, "s.a", NULL, "three"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":1}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_msg_get_response");
    cr_assert_str_eq(jh_str(r, "message.subject"), "s.a");
    cr_assert_eq(jh_int(r, "message.seq"), 1);
    cr_assert_str_eq(jh_str(r, "message.hdrs"), "TkFUUy8xLjANClg6IDENCg0K");
    cr_assert_str_eq(jh_str(r, "message.data"), "b25l");
    cr_assert_str_eq(jh_str(r, "message.time"), "2026-01-01T00:00:00Z");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"last_by_subj\":\"s.a\"}");
    cr_assert_eq(jh_int(r, "message.seq"), 3);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"next_by_subj\":\"s.b\",\"seq\":1}");
    cr_assert_eq(jh_int(r, "message.seq"), 2);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":9}");
    cr_assert_eq(jh_err_code(r), 10037);
    cr_assert_str_eq(jh_str(r, "error.description"), "no message found");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":1,\"last_by_subj\":\"s.a\"}");
    cr_assert_eq(jh_err_code(r), 10003);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.X", "{\"seq\":1}");
    cr_assert_eq(jh_err_code(r), 10059);
    json_decref(r);
}

Test(js_publish, direct_get) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDirectMsgGet",
                    "seq and last_by_subj forms, headers and 404/408 statuses");
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDirectGetBySubject",
                    "no permissions part");
    jh_create(&H, "{\"name\":\"DSMG\",\"subjects\":[\"foo\",\"bar\",\"baz\"],\"allow_direct\":true,"
                  "\"storage\":\"memory\"}");
    json_decref(jh_pub(&H, "foo", NULL, "foo"));
    json_decref(jh_pub(&H, "bar", NULL, "bar"));
    json_decref(jh_pub(&H, "baz", "NATS/1.0\r\nX: y\r\n\r\n", "baz"));
    const jh_msg *m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", "{\"last_by_subj\":\"foo\"}");
    cr_assert(m);
    cr_assert_str_eq(m->data, "foo");
    cr_assert_str_eq(m->hdr, "NATS/1.0\r\nNats-Stream: DSMG\r\nNats-Subject: foo\r\nNats-Sequence: 1\r\n"
                             "Nats-Time-Stamp: 2026-01-01T00:00:00Z\r\n\r\n");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG.baz", NULL);
    cr_assert_str_eq(m->data, "baz");
    cr_assert_str_eq(m->hdr, "NATS/1.0\r\nX: y\r\nNats-Stream: DSMG\r\nNats-Subject: baz\r\n"
                             "Nats-Sequence: 3\r\nNats-Time-Stamp: 2026-01-01T00:00:00Z\r\n\r\n");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", "{\"seq\":2}");
    cr_assert_str_eq(m->data, "bar");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", "{\"seq\":22}");
    cr_assert_str_eq(m->hdr, "NATS/1.0 404 Message Not Found\r\n\r\n");
    cr_assert_eq(m->len, 0);
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG.nope", NULL);
    cr_assert_str_eq(m->hdr, "NATS/1.0 404 Message Not Found\r\n\r\n");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", NULL);
    cr_assert_str_eq(m->hdr, "NATS/1.0 408 Empty Request\r\n\r\n");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", "{\"seq\":1,\"last_by_subj\":\"foo\"}");
    cr_assert_str_eq(m->hdr, "NATS/1.0 408 Bad Request\r\n\r\n");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.DSMG", "not json");
    cr_assert_str_eq(m->hdr, "NATS/1.0 408 Malformed Request\r\n\r\n");
    /* batch */
    jh_clear(&H);
    char reply[] = "_INBOX.batch";
    jh_inbound(&H, "$JS.API.DIRECT.GET.DSMG", reply, NULL, "{\"seq\":1,\"batch\":2}", 19);
    cr_assert_eq(jh_count_on(&H, reply), 3);
    cr_assert_str_eq(H.msgs[0].hdr, "NATS/1.0\r\nNats-Stream: DSMG\r\nNats-Subject: foo\r\nNats-Sequence: 1\r\n"
                                    "Nats-Time-Stamp: 2026-01-01T00:00:00Z\r\nNats-Num-Pending: 2\r\n"
                                    "Nats-Last-Sequence: 0\r\n\r\n");
    cr_assert_str_eq(H.msgs[2].hdr, "NATS/1.0 204 EOB\r\nNats-Num-Pending: 1\r\nNats-Last-Sequence: 2\r\n\r\n");
    /* not allowed: no responders */
    jh_create(&H, "{\"name\":\"ND\",\"subjects\":[\"nd\"]}");
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.ND", "{\"seq\":1}");
    cr_assert_str_eq(m->hdr, "NATS/1.0 503\r\n\r\n");
}

Test(js_publish, rollup) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamRollup", "sub and all rollups, memory storage only");
    jh_create(&H, "{\"name\":\"KV\",\"subjects\":[\"kv.>\"],\"allow_rollup_hdrs\":true,\"storage\":\"memory\"}");
    for (int i = 0; i < 10; i++) {
        char s[16];
        snprintf(s, sizeof s, "kv.%d", i % 2);
        json_decref(jh_pub(&H, s, NULL, "v"));
    }
    json_t *a = jh_pub(&H, "kv.0", "NATS/1.0\r\nNats-Rollup: sub\r\n\r\n", "r");
    cr_assert_eq(jh_int(a, "seq"), 11);
    json_decref(a);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.KV", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 6);
    json_decref(r);
    a = jh_pub(&H, "kv.0", "NATS/1.0\r\nNats-Rollup: all\r\n\r\n", "r");
    json_decref(a);
    r = jh_req(&H, "$JS.API.STREAM.INFO.KV", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
    a = jh_pub(&H, "kv.0", "NATS/1.0\r\nNats-Rollup: bad\r\n\r\n", "r");
    cr_assert_str_eq(jh_str(a, "error.description"), "rollup value invalid: \"bad\"");
    json_decref(a);
    jh_create(&H, "{\"name\":\"NR\",\"subjects\":[\"nr\"]}");
    a = jh_pub(&H, "nr", "NATS/1.0\r\nNats-Rollup: sub\r\n\r\n", "r");
    cr_assert_str_eq(jh_str(a, "error.description"), "rollup not permitted");
    json_decref(a);
}

Test(js_publish, msg_ttl) {
    jh_create(&H, "{\"name\":\"T\",\"subjects\":[\"t\"],\"storage\":\"memory\"}");
    json_t *a = jh_pub(&H, "t", "NATS/1.0\r\nNats-TTL: 1s\r\n\r\n", "x");
    cr_assert_eq(jh_err_code(a), 10166);
    json_decref(a);
    jh_create(&H, "{\"name\":\"T2\",\"subjects\":[\"t2\"],\"storage\":\"memory\",\"allow_msg_ttl\":true}");
    a = jh_pub(&H, "t2", "NATS/1.0\r\nNats-TTL: bogus\r\n\r\n", "x");
    cr_assert_eq(jh_err_code(a), 10165);
    json_decref(a);
    a = jh_pub(&H, "t2", "NATS/1.0\r\nNats-TTL: 2s\r\n\r\n", "x");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    H.now += 3LL * 1000000000LL;
    int64_t d = js_server_next_deadline(H.js);
    cr_assert(d <= H.now);
    js_server_tick(H.js, H.now);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.T2", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 0);
    json_decref(r);
}

Test(js_publish, republish_and_transform) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamRepublishOneTokenMatch",
                    "memory storage only");
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamRepublishHeadersOnly",
                    "one message");
    GO_TEST("server/jetstream_test.go", "TestJetStreamStreamRepublishCycle");
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.RP",
                       "{\"name\":\"RP\",\"subjects\":[\"foo\",\"bar\"],\"republish\":{\"src\":\">\",\"dest\":\"foo\"}}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream configuration for republish destination forms a cycle");
    json_decref(r);
    jh_create(&H, "{\"name\":\"RP\",\"subjects\":[\"foo.*\"],\"storage\":\"memory\","
                  "\"republish\":{\"src\":\"foo.*\",\"dest\":\"RP.$1\"}}");
    json_decref(jh_pub(&H, "foo.bar", NULL, "data"));
    const jh_msg *m = jh_last_on(&H, "RP.bar");
    cr_assert(m);
    cr_assert_str_eq(m->data, "data");
    cr_assert_str_eq(m->hdr, "NATS/1.0\r\nNats-Stream: RP\r\nNats-Subject: foo.bar\r\nNats-Sequence: 1\r\n"
                             "Nats-Time-Stamp: 2026-01-01T00:00:00Z\r\nNats-Last-Sequence: 0\r\n\r\n");
    jh_create(&H, "{\"name\":\"HO\",\"subjects\":[\"ho\"],\"storage\":\"memory\","
                  "\"republish\":{\"dest\":\"hout.>\",\"headers_only\":true}}");
    json_decref(jh_pub(&H, "ho", NULL, "12345"));
    m = jh_last_on(&H, "hout.ho");
    cr_assert(m);
    cr_assert_eq(m->len, 0);
    cr_assert(strstr(m->hdr, "Nats-Msg-Size: 5\r\n"));
    jh_create(&H, "{\"name\":\"TR\",\"subjects\":[\"in.*\"],\"storage\":\"memory\","
                  "\"subject_transform\":{\"src\":\"in.*\",\"dest\":\"out.$1\"}}");
    json_decref(jh_pub(&H, "in.x", NULL, "d"));
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TR", "{\"seq\":1}");
    cr_assert_str_eq(jh_str(r, "message.subject"), "out.x");
    json_decref(r);
}

Test(js_publish, subject_delete_marker_after_max_age) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSubjectDeleteMarkersTTLRollupWithMaxAge",
                    "no consumer: checks the stored rollup and the marker via MSG.GET");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"test\"],\"max_age\":1000000000,"
                  "\"allow_msg_ttl\":true,\"allow_rollup_hdrs\":true,\"subject_delete_marker_ttl\":1000000000}");
    for (int i = 0; i < 3; i++) json_decref(jh_pub(&H, "test", NULL, ""));
    json_decref(jh_pub(&H, "test", "NATS/1.0\r\nNats-TTL: 2s\r\nNats-Rollup: sub\r\n\r\n", ""));
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    cr_assert_eq(jh_int(r, "state.first_seq"), 4);
    json_decref(r);
    H.now += 1500000000LL;
    js_server_tick(H.js, H.now);
    js_server_flush(H.js);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TEST", "{\"last_by_subj\":\"test\"}");
    cr_assert_eq(jh_int(r, "message.seq"), 5, "%s", jh_str(r, "error.description"));
    /* NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: 1s\r\nNats-Rollup: sub\r\n\r\n */
    cr_assert_str_eq(jh_str(r, "message.hdrs"),
                     "TkFUUy8xLjANCk5hdHMtTWFya2VyLVJlYXNvbjogTWF4QWdlDQpOYXRzLVRUTDogMXMNCk5hdHMtUm9sbHVwOiBzdWINCg0K");
    json_decref(r);
}

/* The calls libnats' KV makes: bucket create, put, get (direct, last by subject), create
 * (expected last subject sequence 0), update, delete marker, purge rollup, history limit. */
Test(js_publish, kv_flow) {
    jh_create(&H, "{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"],\"retention\":\"limits\","
                  "\"max_consumers\":-1,\"max_msgs_per_subject\":2,\"max_msgs\":-1,\"max_bytes\":-1,"
                  "\"max_age\":0,\"max_msg_size\":-1,\"storage\":\"file\",\"discard\":\"new\","
                  "\"num_replicas\":1,\"duplicate_window\":120000000000,\"allow_rollup_hdrs\":true,"
                  "\"deny_delete\":true,\"deny_purge\":false,\"allow_direct\":true,\"mirror_direct\":false,"
                  "\"sealed\":false,\"compression\":\"none\",\"consumer_limits\":{}}");
    json_t *a = jh_pub(&H, "$KV.b.k1", NULL, "v1");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "$KV.b.k1", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "v1b");
    cr_assert_eq(jh_err_code(a), 10071); /* create on an existing key */
    json_decref(a);
    a = jh_pub(&H, "$KV.b.k1", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 1\r\n\r\n", "v2");
    cr_assert_eq(jh_int(a, "seq"), 2);
    json_decref(a);
    const jh_msg *m = jh_req_raw(&H, "$JS.API.DIRECT.GET.KV_b.$KV.b.k1", NULL);
    cr_assert_str_eq(m->data, "v2");
    cr_assert(strstr(m->hdr, "Nats-Sequence: 2\r\n"));
    /* history of 2 with discard new per subject off: the oldest goes */
    a = jh_pub(&H, "$KV.b.k1", NULL, "v3");
    cr_assert_eq(jh_int(a, "seq"), 3);
    json_decref(a);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.KV_b", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 2);
    json_decref(r);
    a = jh_pub(&H, "$KV.b.k1", "NATS/1.0\r\nKV-Operation: DEL\r\n\r\n", NULL);
    cr_assert_eq(jh_int(a, "seq"), 4);
    json_decref(a);
    a = jh_pub(&H, "$KV.b.k1", "NATS/1.0\r\nKV-Operation: PURGE\r\nNats-Rollup: sub\r\n\r\n", NULL);
    cr_assert_eq(jh_int(a, "seq"), 5);
    json_decref(a);
    r = jh_req(&H, "$JS.API.STREAM.INFO.KV_b", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
    m = jh_req_raw(&H, "$JS.API.DIRECT.GET.KV_b.$KV.b.nokey", NULL);
    cr_assert_str_eq(m->hdr, "NATS/1.0 404 Message Not Found\r\n\r\n");
    r = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.KV_b", "{\"seq\":5}");
    cr_assert_eq(jh_err_code(r), 10057);
    json_decref(r);
}

Test(js_publish, msg_get_start_time) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMsgGetAsOfTime", "MSG.GET only");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s\"],\"storage\":\"memory\"}");
    json_decref(jh_pub(&H, "s", NULL, "1"));
    H.now += 10LL * 1000000000LL;
    json_decref(jh_pub(&H, "s", NULL, "2"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"start_time\":\"2026-01-01T00:00:05Z\"}");
    cr_assert_eq(jh_int(r, "message.seq"), 2);
    cr_assert_str_eq(jh_str(r, "message.time"), "2026-01-01T00:00:10Z");
    json_decref(r);
}

Test(js_publish, msg_counter) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAllowMsgCounter",
                    "replicas 1 only; no client GetLastMsg (MSG.GET used)");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"]}");
    json_t *a = jh_pub(&H, "foo", "NATS/1.0\r\nKey: Value\r\n\r\n", "");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Incr: 1\r\n\r\n", "");
    cr_assert_eq(jh_err_code(a), 10168);
    json_decref(a);
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.TEST",
                       "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_msg_counter\":true}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream configuration update can not change message counter setting");
    json_decref(r);
    json_decref(jh_req(&H, "$JS.API.STREAM.DELETE.TEST", NULL));
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_msg_counter\":true}");
    a = jh_pub(&H, "foo", NULL, "");
    cr_assert_eq(jh_err_code(a), 10169);
    json_decref(a);
    a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Incr: 1\r\n\r\n", "data");
    cr_assert_eq(jh_err_code(a), 10170);
    json_decref(a);
    a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Incr: bogus\r\n\r\n", "");
    cr_assert_eq(jh_err_code(a), 10171);
    json_decref(a);
    struct {
        const char *incr, *total;
    } steps[] = {{"1", "1"}, {"2", "3"}, {"-3", "0"}, {"1", "1"}, {"-1", "0"},
                 {"99999999999999999999999", "99999999999999999999999"},
                 {"-100000000000000000000000", "-1"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char hdr[128];
        snprintf(hdr, sizeof hdr, "NATS/1.0\r\nNats-Incr: %s\r\n\r\n", steps[i].incr);
        a = jh_pub(&H, "foo", hdr, "");
        cr_assert_eq(jh_int(a, "seq"), (json_int_t)i + 1);
        cr_assert_str_eq(jh_str(a, "val"), steps[i].total);
        json_decref(a);
    }
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data, "{\"stream\":\"TEST\",\"seq\":7,\"val\":\"-1\"}");
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.TEST", "{\"last_by_subj\":\"foo\"}");
    cr_assert_str_eq(jh_str(r, "message.data"), "eyJ2YWwiOiItMSJ9"); /* {"val":"-1"} */
    json_decref(r);
    a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Incr: 1\r\nNats-Expected-Last-Sequence: 7\r\n\r\n", "");
    cr_assert_eq(jh_err_code(a), 10171);
    json_decref(a);
}

Test(js_publish, direct_get_multi) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDirectGetMulti",
                    "first request of the Go test, both storages");
    const char *st[] = {"memory", "file"};
    for (int k = 0; k < 2; k++) {
        char cfg[160], name[8], subj[64];
        snprintf(name, sizeof name, "T%d", k);
        snprintf(cfg, sizeof cfg, "{\"name\":\"%s\",\"subjects\":[\"f%d.*\"],\"allow_direct\":true,\"storage\":\"%s\"}",
                 name, k, st[k]);
        jh_create(&H, cfg);
        const char *tok[] = {"foo", "bar", "baz"};
        for (int i = 0; i < 33; i++)
            for (int j = 0; j < 3; j++) {
                snprintf(subj, sizeof subj, "f%d.%s", k, tok[j]);
                json_decref(jh_pub(&H, subj, NULL, "HELLO"));
            }
        jh_clear(&H);
        char req[64], dsubj[64];
        snprintf(req, sizeof req, "{\"multi_last\":[\"f%d.*\"]}", k);
        snprintf(dsubj, sizeof dsubj, "$JS.API.DIRECT.GET.%s", name);
        jh_inbound(&H, dsubj, "_INBOX.m", NULL, req, strlen(req));
        cr_assert_eq(jh_count_on(&H, "_INBOX.m"), 4);
        for (int j = 0; j < 3; j++) {
            char want[256];
            snprintf(want, sizeof want,
                     "NATS/1.0\r\nNats-Stream: %s\r\nNats-Subject: f%d.%s\r\nNats-Sequence: %d\r\n"
                     "Nats-Time-Stamp: 2026-01-01T00:00:00Z\r\nNats-Num-Pending: %d\r\nNats-Last-Sequence: %d\r\n\r\n",
                     name, k, tok[j], 97 + j, 2 - j, j == 0 ? 0 : 96 + j);
            cr_assert_str_eq(H.msgs[j].hdr, want);
        }
        cr_assert_str_eq(H.msgs[3].hdr, "NATS/1.0 204 EOB\r\nNats-Num-Pending: 0\r\nNats-Last-Sequence: 99\r\n"
                                        "Nats-UpTo-Sequence: 99\r\n\r\n");
    }
}

Test(js_publish, scheduled_purge_headers_need_schedules) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamScheduledPurgeHeadersRequiresSchedulingEnabled");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo.*\"]}");
    json_t *a = jh_pub(&H, "foo.victim", NULL, "OK");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "foo.attacker", "NATS/1.0\r\nNats-Schedule-Next: purge\r\nNats-Scheduler: foo.victim\r\n\r\n", "");
    cr_assert_eq(jh_err_code(a), 10188);
    json_decref(a);
    a = jh_pub(&H, "foo.attacker", "NATS/1.0\r\nNats-Scheduler: foo.victim\r\n\r\n", "");
    cr_assert_eq(jh_err_code(a), 10212);
    json_decref(a);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.TEST", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
}

Test(js_publish, publish_expect_no_msg) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamPublishExpectNoMsg");
    jh_create(&H, "{\"name\":\"KV\",\"subjects\":[\"KV.>\"],\"max_msgs_per_subject\":5}");
    json_t *a = jh_pub(&H, "KV.22", NULL, "hello world");
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
    a = jh_pub(&H, "KV.33", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "");
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
    a = jh_pub(&H, "KV.22", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "");
    cr_assert(jh_has(a, "error"));
    json_decref(a);
    json_decref(jh_req(&H, "$JS.API.STREAM.PURGE.KV", NULL));
    a = jh_pub(&H, "KV.22", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n", "");
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
}

Test(js_publish, max_msgs_per_subject_with_discard_new) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMaxMsgsPerSubjectWithDiscardNew");
    const char *st[] = {"memory", "file"};
    for (int k = 0; k < 2; k++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg,
                 "{\"name\":\"T%d\",\"subjects\":[\"%d.foo\",\"%d.bar\",\"%d.baz\",\"%d.x\"],\"discard\":\"new\","
                 "\"storage\":\"%s\",\"max_msgs_per_subject\":4,\"max_msgs\":10,\"max_bytes\":500}",
                 k, k, k, k, k, st[k]);
        jh_create(&H, cfg);
        struct {
            const char *subj;
            int num, expect;
        } steps[] = {{"foo", 1, 1}, {"foo", 4, 4}, {"bar", 8, 8}, {"baz", 2, 10}, {"foo", 1, 10}, {"bar", 1, 10}};
        char subj[32], info[32];
        snprintf(info, sizeof info, "$JS.API.STREAM.INFO.T%d", k);
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            snprintf(subj, sizeof subj, "%d.%s", k, steps[i].subj);
            for (int j = 0; j < steps[i].num; j++) {
                json_t *a = jh_pub(&H, subj, NULL, "TSLA");
                cr_assert(!jh_has(a, "error"), "%s: %s", subj, jh_str(a, "error.description"));
                json_decref(a);
            }
            json_t *r = jh_req(&H, info, NULL);
            cr_assert_eq(jh_int(r, "state.messages"), steps[i].expect, "%s step %zu", st[k], i);
            json_decref(r);
        }
        char big[301];
        memset(big, 'X', 300);
        big[300] = 0;
        snprintf(subj, sizeof subj, "%d.bar", k);
        json_t *a = jh_pub(&H, subj, NULL, big);
        cr_assert(jh_has(a, "error"));
        json_decref(a);
        snprintf(subj, sizeof subj, "%d.x", k);
        a = jh_pub(&H, subj, NULL, "XX");
        cr_assert(jh_has(a, "error"));
        json_decref(a);
    }
}

Test(js_publish, server_storage_limits) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSystemLimits",
                    "server max_store only: stream reservation and publish past the limit");
    js_server_close(H.js);
    H.cfg.max_store = 300;
    char err[128];
    H.js = js_server_open(&H.cfg, &H.host, err, sizeof err);
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.BIG", "{\"name\":\"BIG\",\"max_bytes\":1000}");
    cr_assert_eq(jh_err_code(r), 10047);
    cr_assert_str_eq(jh_str(r, "error.description"), "insufficient storage resources available");
    json_decref(r);
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s\"]}");
    char data[101];
    memset(data, 'x', 100);
    data[100] = 0;
    int ok = 0, last_err = 0;
    for (int i = 0; i < 10; i++) {
        json_t *a = jh_pub(&H, "s", NULL, data);
        if (jh_has(a, "error")) last_err = jh_err_code(a);
        else ok++;
        json_decref(a);
    }
    cr_assert_eq(ok, 3, "stored %d", ok);
    cr_assert_eq(last_err, 10023);
    /* usage survives a restart and deleting the stream releases it */
    jh_restart(&H);
    json_t *a = jh_pub(&H, "s", NULL, data);
    cr_assert_eq(jh_err_code(a), 10023);
    json_decref(a);
    json_decref(jh_req(&H, "$JS.API.STREAM.DELETE.S", NULL));
    jh_create(&H, "{\"name\":\"T\",\"subjects\":[\"t\"]}");
    a = jh_pub(&H, "t", NULL, data);
    cr_assert(!jh_has(a, "error"));
    json_decref(a);
}

/* Go processJetStreamMsg: the requester's details a service import adds are not stored. */
Test(js_publish, request_info_header_not_stored) {
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
    json_decref(jh_pub(&H, "s.a", "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"A\",\"rtt\":1}\r\nX: 1\r\n\r\n", "one"));
    json_decref(jh_pub(&H, "s.b", "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"A\",\"rtt\":1}\r\n\r\n", "two"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":1}");
    cr_assert_str_eq(jh_str(r, "message.hdrs"), "TkFUUy8xLjANClg6IDENCg0K"); /* NATS/1.0, X: 1 */
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.S", "{\"seq\":2}");
    cr_assert_null(json_object_get(json_object_get(r, "message"), "hdrs"), "nothing left: no headers");
    cr_assert_str_eq(jh_str(r, "message.data"), "dHdv");
    json_decref(r);
}
