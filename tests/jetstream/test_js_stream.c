/* Stream side of storaged's JetStream layer through js.h: stream API, publish/PubAck,
 * message get/delete, direct get, purge, persistence.
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

TestSuite(js_stream, .init = setup, .fini = teardown);

Test(js_stream, create_defaults_and_info) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAddStream",
                    "single publish/state checks; no per-storage table, no delete-all-messages loop");
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.ORDERS", "{\"name\":\"ORDERS\"}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_create_response");
    cr_assert(!jh_has(r, "error"));
    cr_assert_str_eq(jh_str(r, "config.name"), "ORDERS");
    cr_assert_str_eq(jh_str(r, "config.subjects.0"), "ORDERS");
    cr_assert_str_eq(jh_str(r, "config.retention"), "limits");
    cr_assert_str_eq(jh_str(r, "config.storage"), "file");
    cr_assert_str_eq(jh_str(r, "config.discard"), "old");
    cr_assert_eq(jh_int(r, "config.max_msgs"), -1);
    cr_assert_eq(jh_int(r, "config.max_bytes"), -1);
    cr_assert_eq(jh_int(r, "config.max_consumers"), -1);
    cr_assert_eq(jh_int(r, "config.max_msg_size"), -1);
    cr_assert_eq(jh_int(r, "config.max_msgs_per_subject"), -1);
    cr_assert_eq(jh_int(r, "config.num_replicas"), 1);
    cr_assert_eq(jh_int(r, "config.duplicate_window"), 120000000000LL);
    cr_assert_str_eq(jh_str(r, "config.compression"), "none");
    json_t *md = json_object_get(json_object_get(r, "config"), "metadata");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.req.level")), "0");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.ver")), "2.14.5");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.level")), "4");
    cr_assert_str_eq(jh_str(r, "created"), "2026-01-01T00:00:00Z");
    cr_assert_eq(jh_int(r, "state.messages"), 0);
    cr_assert_str_eq(jh_str(r, "state.first_ts"), "0001-01-01T00:00:00Z");
    cr_assert(json_is_true(json_object_get(r, "did_create")));
    cr_assert(!jh_has(r, "cluster"));
    json_decref(r);
    cr_assert_eq(jh_interest(&H, "ORDERS"), 1);
    cr_assert_eq(jh_interest(&H, "$JS.API.>"), 1);
    const jh_msg *adv = jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS");
    cr_assert(adv);
    cr_assert(strstr(adv->data, "{\"type\":\"io.nats.jetstream.advisory.v1.stream_action\",\"id\":\""));
    cr_assert(strstr(adv->data, "\"timestamp\":\"2026-01-01T00:00:00Z\",\"stream\":\"ORDERS\",\"action\":\"create\"}"));

    json_t *a = jh_pub(&H, "ORDERS", NULL, "hello");
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data, "{\"stream\":\"ORDERS\",\"seq\":1}");
    json_decref(a);

    r = jh_req(&H, "$JS.API.STREAM.INFO.ORDERS", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_info_response");
    cr_assert_eq(jh_int(r, "total"), 0);
    cr_assert_eq(jh_int(r, "offset"), 0);
    cr_assert_eq(jh_int(r, "limit"), 0);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    cr_assert_eq(jh_int(r, "state.first_seq"), 1);
    cr_assert_eq(jh_int(r, "state.last_seq"), 1);
    cr_assert_eq(jh_int(r, "state.num_subjects"), 1);
    cr_assert_str_eq(jh_str(r, "cluster.leader"), "test-server");
    cr_assert_eq(jh_int(r, "state.consumer_count"), 0);
    json_decref(r);
}

Test(js_stream, response_json_field_order) {
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"a.>\"],\"storage\":\"memory\"}");
    const jh_msg *m = jh_req_raw(&H, "$JS.API.STREAM.INFO.S", NULL);
    cr_assert(m);
    cr_assert(strncmp(m->data,
                      "{\"type\":\"io.nats.jetstream.api.v1.stream_info_response\",\"total\":0,"
                      "\"offset\":0,\"limit\":0,\"config\":{\"name\":\"S\",\"subjects\":[\"a.\\u003e\"],"
                      "\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,"
                      "\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,"
                      "\"max_msg_size\":-1,\"discard\":\"old\",\"storage\":\"memory\","
                      "\"num_replicas\":1,\"duplicate_window\":120000000000,"
                      "\"compression\":\"none\",\"allow_direct\":false,\"mirror_direct\":false,"
                      "\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
                      "\"allow_rollup_hdrs\":false,\"consumer_limits\":{},\"allow_msg_ttl\":false,"
                      "\"metadata\":{\"_nats.level\":\"4\",\"_nats.req.level\":\"0\","
                      "\"_nats.ver\":\"2.14.5\"}},\"created\":\"2026-01-01T00:00:00Z\","
                      "\"state\":{\"messages\":0,\"bytes\":0,\"first_seq\":0,"
                      "\"first_ts\":\"0001-01-01T00:00:00Z\",\"last_seq\":0,"
                      "\"last_ts\":\"0001-01-01T00:00:00Z\",\"consumer_count\":0},"
                      "\"cluster\":{\"leader\":\"test-server\"},\"ts\":\"2026-01-01T00:00:00Z\"}",
                      m->len) == 0,
              "got %s", m->data);
}

Test(js_stream, same_config_ok_and_name_exists) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamAddStreamSameConfigOK");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    cr_assert(!jh_has(r, "error"));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"bar\"]}");
    cr_assert_eq(jh_err_code(r), 10058);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream name already in use with a different configuration");
    cr_assert_eq(jh_int(r, "error.code"), 400);
    json_decref(r);
}

Test(js_stream, create_errors) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAddStreamBadSubjects",
                    "invalid-subject cases over the API only");
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"T\"}");
    cr_assert_eq(jh_err_code(r), 10056);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream name in subject does not match request");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"foo.*.\"]}");
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid subject");
    cr_assert_eq(jh_err_code(r), 10052);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"foo\",\"foo\"]}");
    /* Go checks overlap with the later subjects before it sees the duplicate. */
    cr_assert_str_eq(jh_str(r, "error.description"), "subject \"foo\" overlaps with \"foo\"");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"foo.*\",\"foo.bar\"]}");
    cr_assert_str_eq(jh_str(r, "error.description"), "subject \"foo.*\" overlaps with \"foo.bar\"");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"bogus\":1}");
    cr_assert_eq(jh_err_code(r), 10025);
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: json: unknown field \"bogus\"");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_msgs\":\"x\"}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal string into Go struct field "
                     "StreamConfigRequest.max_msgs of type int64");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"retention\":\"bad\"}");
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: can not unmarshal \"\\\"bad\\\"\"");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"num_replicas\":3}");
    cr_assert_eq(jh_err_code(r), 10074);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"sealed\":true}");
    cr_assert_str_eq(jh_str(r, "error.description"), "stream configuration for create can not be sealed");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S.X", "{\"name\":\"S\"}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.system_response");
    cr_assert_eq(jh_err_code(r), 10003);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_age\":-1}");
    cr_assert_str_eq(jh_str(r, "error.description"), "max age can not be negative");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"deny_purge\":true,\"allow_rollup_hdrs\":true}");
    cr_assert_str_eq(jh_str(r, "error.description"), "roll-ups require the purge permission");
    json_decref(r);
}

Test(js_stream, overlapping_subjects) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamAddStreamOverlappingSubjects");
    jh_create(&H, "{\"name\":\"ok\",\"subjects\":[\"foo\",\"bar\",\"baz.*\",\"foo.bar.baz.>\"]}");
    const char *bad[] = {"[\"foo\"]", "[\"baz\",\"bar\"]", "[\">\"]", "[\"baz.33\"]",
                         "[\"*.33\"]", "[\"*.>\"]", "[\"foo.bar\",\"*.bar.>\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg, "{\"name\":\"x\",\"subjects\":%s,\"no_ack\":true}", bad[i]);
        json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.x", cfg);
        cr_assert_eq(jh_err_code(r), 10065, "%s: %s", bad[i], jh_str(r, "error.description"));
        cr_assert_str_eq(jh_str(r, "error.description"), "subjects overlap with an existing stream");
        json_decref(r);
    }
}

Test(js_stream, overlap_with_js_api) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamAddStreamOverlapWithJSAPISubjects");
    const char *subs[] = {"$JS.API.foo", "$JS.API.>", "$JS.>"};
    for (size_t i = 0; i < 3; i++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg, "{\"name\":\"x\",\"subjects\":[\"%s\"]}", subs[i]);
        json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.x", cfg);
        cr_assert_str_eq(jh_str(r, "error.description"),
                         "subjects that overlap with jetstream api require no-ack to be true");
        json_decref(r);
    }
    jh_create(&H, "{\"name\":\"y\",\"subjects\":[\"$JS.EVENT.>\"]}");
}

Test(js_stream, pub_ack_and_no_ack) {
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

Test(js_stream, pub_ack_after_flush_only) {
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    jh_inbound(&H, "foo", "_INBOX.x", NULL, "a", 1);
    cr_assert_null(jh_last_on(&H, "_INBOX.x"), "PubAck must wait for the group commit");
    js_server_flush(H.js);
    cr_assert_not_null(jh_last_on(&H, "_INBOX.x"));
}

Test(js_stream, domain_in_pub_ack) {
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

Test(js_stream, dedupe) {
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

Test(js_stream, publish_expect) {
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

Test(js_stream, last_sequence_by_subject) {
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

Test(js_stream, discard_new_limits) {
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

Test(js_stream, max_msg_size) {
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

Test(js_stream, names_and_list) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamFilteredStreamNames");
    json_t *r = jh_req(&H, "$JS.API.STREAM.NAMES", NULL);
    cr_assert(json_is_null(json_object_get(r, "streams")));
    cr_assert_eq(jh_int(r, "limit"), 1024);
    json_decref(r);
    jh_create(&H, "{\"name\":\"S1\",\"subjects\":[\"foo\"]}");
    jh_create(&H, "{\"name\":\"S2\",\"subjects\":[\"bar\"]}");
    jh_create(&H, "{\"name\":\"S3\",\"subjects\":[\"baz\",\"foo.*\"]}");
    r = jh_req(&H, "$JS.API.STREAM.NAMES", "{\"subject\":\"foo\"}");
    cr_assert_eq(jh_int(r, "total"), 1);
    cr_assert_str_eq(jh_str(r, "streams.0"), "S1");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.NAMES", "{\"subject\":\"foo.*\"}");
    cr_assert_eq(jh_int(r, "total"), 1);
    cr_assert_str_eq(jh_str(r, "streams.0"), "S3");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.NAMES", "{\"subject\":\">\"}");
    cr_assert_eq(jh_int(r, "total"), 3);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.NAMES", "{\"offset\":2}");
    cr_assert_eq(jh_int(r, "offset"), 2);
    cr_assert_eq(json_array_size(json_object_get(r, "streams")), 1);
    cr_assert_str_eq(jh_str(r, "streams.0"), "S3");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.LIST", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_list_response");
    cr_assert_eq(jh_int(r, "total"), 3);
    cr_assert_eq(jh_int(r, "limit"), 256);
    cr_assert_str_eq(jh_str(r, "streams.1.config.name"), "S2");
    cr_assert(!jh_has(r, "streams.1.config.metadata._nats.ver"));
    json_decref(r);
}

Test(js_stream, delete_msg) {
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

Test(js_stream, purge) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamPurge",
                    "no consumer; purge with filter/keep/seq added");
    jh_create(&H, "{\"name\":\"DC\",\"subjects\":[\"DC.>\"],\"storage\":\"memory\"}");
    for (int i = 0; i < 100; i++) json_decref(jh_pub(&H, i % 2 ? "DC.a" : "DC.b", NULL, "OK!"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.PURGE.DC", "{\"filter\":\"DC.a\",\"keep\":5}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_purge_response");
    cr_assert(json_is_true(json_object_get(r, "success")));
    cr_assert_eq(jh_int(r, "purged"), 45);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.PURGE.DC", "{\"seq\":10,\"keep\":5}");
    cr_assert_eq(jh_err_code(r), 10003);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.PURGE.DC", NULL);
    cr_assert_eq(jh_int(r, "purged"), 55);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.INFO.DC", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 0);
    cr_assert_eq(jh_int(r, "state.first_seq"), 101);
    cr_assert_eq(jh_int(r, "state.last_seq"), 100);
    json_decref(r);
    json_t *a = jh_pub(&H, "DC.a", NULL, "x");
    cr_assert_eq(jh_int(a, "seq"), 101);
    json_decref(a);
    jh_create(&H, "{\"name\":\"NP\",\"subjects\":[\"np\"],\"deny_purge\":true}");
    r = jh_req(&H, "$JS.API.STREAM.PURGE.NP", NULL);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream purge not permitted");
    json_decref(r);
}

Test(js_stream, delete_stream) {
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
    json_t *r = jh_req(&H, "$JS.API.STREAM.DELETE.S", "{\"x\":1}");
    cr_assert_eq(jh_err_code(r), 10038);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.DELETE.S", NULL);
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data,
                     "{\"type\":\"io.nats.jetstream.api.v1.stream_delete_response\",\"success\":true}");
    json_decref(r);
    cr_assert_eq(jh_interest(&H, "s.>"), 0);
    cr_assert(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.DELETED.S"));
    r = jh_req(&H, "$JS.API.STREAM.DELETE.S", NULL);
    cr_assert_eq(jh_err_code(r), 10059);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream not found");
    cr_assert_eq(jh_int(r, "error.code"), 404);
    json_decref(r);
    jh_restart(&H);
    r = jh_req(&H, "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_err_code(r), 10059);
    json_decref(r);
}

Test(js_stream, msg_get) {
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

Test(js_stream, direct_get) {
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

Test(js_stream, rollup) {
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

Test(js_stream, info_subjects_details) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamInfoSubjectsDetails",
                    "single storage, no paging over 100k subjects");
    jh_create(&H, "{\"name\":\"X\",\"subjects\":[\"*\"]}");
    const char *s[] = {"foo", "bar", "baz", "foo", "bar", "foo"};
    for (int i = 0; i < 6; i++) json_decref(jh_pub(&H, s[i], NULL, "ok"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.X", "{\"subjects_filter\":\">\"}");
    cr_assert_eq(jh_int(r, "state.subjects.foo"), 3);
    cr_assert_eq(jh_int(r, "state.subjects.bar"), 2);
    cr_assert_eq(jh_int(r, "state.subjects.baz"), 1);
    cr_assert_eq(jh_int(r, "total"), 3);
    cr_assert_eq(jh_int(r, "limit"), 100000);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.INFO.X", "{\"subjects_filter\":\"foo\"}");
    cr_assert_eq(json_object_size(json_object_get(json_object_get(r, "state"), "subjects")), 1);
    json_decref(r);
}

Test(js_stream, update_stream) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamUpdateStream",
                    "subjects, limits and storage-change checks over the API");
    jh_create(&H, "{\"name\":\"foo\",\"subjects\":[\"foo\"],\"storage\":\"memory\"}");
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.foo",
                       "{\"name\":\"foo\",\"subjects\":[\"bar\",\"baz\"],\"storage\":\"memory\",\"max_msgs\":5}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_update_response");
    cr_assert_eq(jh_int(r, "config.max_msgs"), 5);
    json_decref(r);
    cr_assert_eq(jh_interest(&H, "foo"), 0);
    cr_assert_eq(jh_interest(&H, "bar"), 1);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.foo", "{\"name\":\"foo\",\"storage\":\"file\"}");
    cr_assert_str_eq(jh_str(r, "error.description"), "stream configuration update can not change storage type");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.nope", "{\"name\":\"nope\"}");
    cr_assert_eq(jh_err_code(r), 10059);
    json_decref(r);
    for (int i = 0; i < 8; i++) json_decref(jh_pub(&H, "bar", NULL, "x"));
    r = jh_req(&H, "$JS.API.STREAM.INFO.foo", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 5);
    json_decref(r);
}

Test(js_stream, sealed) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamRecoverSealedAfterServerRestart",
                    "single node, file storage");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s\"]}");
    json_decref(jh_pub(&H, "s", NULL, "x"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.S", "{\"name\":\"S\",\"subjects\":[\"s\"],\"sealed\":true}");
    cr_assert(json_is_true(json_object_get(json_object_get(r, "config"), "sealed")));
    cr_assert(json_is_true(json_object_get(json_object_get(r, "config"), "deny_purge")));
    json_decref(r);
    jh_restart(&H);
    json_t *a = jh_pub(&H, "s", NULL, "x");
    cr_assert_eq(jh_err_code(a), 10109);
    cr_assert_str_eq(jh_str(a, "error.description"), "invalid operation on sealed stream");
    json_decref(a);
    r = jh_req(&H, "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
}

Test(js_stream, restart_recovers) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamInfoSubjectsDetailsAfterRestart",
                    "file storage only");
    jh_create(&H, "{\"name\":\"R\",\"subjects\":[\"r.*\"],\"max_msgs_per_subject\":3}");
    for (int i = 0; i < 5; i++) json_decref(jh_pub(&H, "r.a", NULL, "x"));
    json_decref(jh_pub(&H, "r.b", NULL, "x"));
    jh_restart(&H);
    cr_assert_eq(jh_interest(&H, "r.*"), 1);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.R", "{\"subjects_filter\":\"r.*\"}");
    cr_assert_eq(jh_int(r, "state.messages"), 4);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(r, "state"), "subjects"), "r.a")), 3);
    cr_assert_eq(jh_int(r, "config.max_msgs_per_subject"), 3);
    cr_assert_str_eq(jh_str(r, "created"), "2026-01-01T00:00:00Z");
    json_decref(r);
    json_t *a = jh_pub(&H, "r.b", NULL, "x");
    cr_assert_eq(jh_int(a, "seq"), 7);
    json_decref(a);
}

Test(js_stream, corrupt_meta_is_skipped) {
    jh_create(&H, "{\"name\":\"C\",\"subjects\":[\"c\"]}");
    jh_create(&H, "{\"name\":\"D\",\"subjects\":[\"d\"]}");
    char p[512];
    snprintf(p, sizeof p, "%s/jetstream/$G/streams/C/meta.json", H.dir);
    FILE *f = fopen(p, "r+");
    cr_assert(f);
    fseek(f, 60, SEEK_SET);
    fputc('Z', f);
    fclose(f);
    jh_restart(&H);
    json_t *r = jh_req(&H, "$JS.API.STREAM.NAMES", NULL);
    cr_assert_eq(jh_int(r, "total"), 1);
    cr_assert_str_eq(jh_str(r, "streams.0"), "D");
    json_decref(r);
}

Test(js_stream, account_info_and_unknown_api) {
    json_t *r = jh_req(&H, "$JS.API.INFO", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.account_info_response");
    cr_assert_eq(jh_int(r, "api.level"), 4);
    cr_assert_eq(jh_int(r, "api.total"), 0);
    cr_assert_eq(jh_int(r, "limits.max_memory"), -1);
    json_decref(r);
    jh_create(&H, "{\"name\":\"A\",\"subjects\":[\"a\"],\"storage\":\"memory\",\"max_bytes\":1000}");
    json_decref(jh_pub(&H, "a", NULL, "hello"));
    r = jh_req(&H, "$JS.API.BOGUS", NULL);
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].data,
                     "{\"type\":\"io.nats.jetstream.api.v1.system_response\",\"error\":{\"code\":400,"
                     "\"err_code\":10003,\"description\":\"bad request\"}}");
    json_decref(r);
    r = jh_req(&H, "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "streams"), 1);
    cr_assert_eq(jh_int(r, "memory"), 22);
    cr_assert_eq(jh_int(r, "reserved_memory"), 1000);
    cr_assert_eq(jh_int(r, "api.total"), 3);
    cr_assert_eq(jh_int(r, "api.errors"), 1);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.LEADER.STEPDOWN.A", NULL);
    cr_assert_eq(jh_err_code(r), 10010);
    json_decref(r);
}

Test(js_stream, msg_ttl) {
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

Test(js_stream, republish_and_transform) {
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

Test(js_stream, subject_delete_marker_after_max_age) {
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
Test(js_stream, kv_flow) {
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

Test(js_stream, user_metadata_sorted) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.M",
                       "{\"name\":\"M\",\"metadata\":{\"zz\":\"1\",\"aa\":\"2\"},\"allow_msg_ttl\":true}");
    const jh_msg *m = &H.msgs[H.nmsgs - 1];
    cr_assert(strstr(m->data, "\"metadata\":{\"_nats.level\":\"4\",\"_nats.req.level\":\"1\","
                              "\"_nats.ver\":\"2.14.5\",\"aa\":\"2\",\"zz\":\"1\"}"),
              "%s", m->data);
    json_decref(r);
}

Test(js_stream, msg_get_start_time) {
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

Test(js_stream, invalid_json_request) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":");
    cr_assert_eq(jh_err_code(r), 10025);
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: unexpected EOF");
    json_decref(r);
    struct {
        const char *body, *want;
    } cases[] = {
        {"{\"name\":\"S\",}", "invalid character '}' looking for beginning of object key string at offset 13"},
        {"foo", "invalid character 'o' in literal false (expecting 'a') at offset 2"},
        {"{\"name\":\"S\"} x", "invalid character 'x' looking for beginning of value at offset 14"},
        {"{\"a\" 1}", "invalid character '1' after object key at offset 6"},
        {"{\"a\":1 2}", "invalid character '2' after object key:value pair at offset 8"},
        {"{\"a\":[1 2]}", "invalid character '2' after array element at offset 9"},
        {"{\"a\":\"\\q\"}", "invalid character 'q' in string escape code at offset 8"},
        {"{\"a\":-x}", "invalid character 'x' in numeric literal at offset 7"},
        {"{\"a\":1.}", "invalid character '}' after decimal point in numeric literal at offset 8"},
        {"{\"a\":1e}", "invalid character '}' in exponent of numeric literal at offset 8"},
        {"{'a':1}", "invalid character '\\'' looking for beginning of object key string at offset 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = jh_req(&H, "$JS.API.STREAM.CREATE.S", cases[i].body);
        char want[256];
        snprintf(want, sizeof want, "invalid JSON: %s", cases[i].want);
        cr_assert_str_eq(jh_str(r, "error.description"), want, "body %s", cases[i].body);
        json_decref(r);
    }
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"consumer_limits\":{\"max_ack_pending\":\"x\"}}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal string into Go struct field "
                     "StreamConsumerLimits.consumer_limits.max_ack_pending of type int");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_msgs\":1.5}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal number 1.5 into Go struct field "
                     "StreamConfigRequest.max_msgs of type int64");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_msg_size\":3000000000}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal number 3000000000 into Go struct field "
                     "StreamConfigRequest.max_msg_size of type int32");
    json_decref(r);
    /* Go decodes every value of the body into the request in turn. */
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"X\"} {\"name\":\"S\"}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "[1]");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal array into Go value of type server.StreamConfigRequest");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.NAMES", "{\"offset\":\"x\"}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: json: cannot unmarshal string into Go struct field "
                     "JSApiStreamNamesRequest.offset of type int");
    json_decref(r);
}

Test(js_stream, required_api_level) {
    jh_inbound(&H, "$JS.API.STREAM.NAMES", "_INBOX.lvl", "NATS/1.0\r\nNats-Required-Api-Level: 5\r\n\r\n", "", 0);
    js_server_flush(H.js);
    const jh_msg *m = jh_last_on(&H, "_INBOX.lvl");
    cr_assert(m);
    cr_assert_str_eq(m->data, "{\"type\":\"io.nats.jetstream.api.v1.stream_names_response\",\"error\":"
                              "{\"code\":412,\"err_code\":10185,\"description\":\"JetStream minimum api level required\"}}");
    jh_inbound(&H, "$JS.API.STREAM.NAMES", "_INBOX.lvl2", "NATS/1.0\r\nNats-Required-Api-Level: 4\r\n\r\n", "", 0);
    js_server_flush(H.js);
    m = jh_last_on(&H, "_INBOX.lvl2");
    cr_assert(m && !strstr(m->data, "error"));
}

Test(js_stream, msg_counter) {
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

Test(js_stream, purge_then_restart_keeps_sequence) {
    jh_create(&H, "{\"name\":\"P\",\"subjects\":[\"p\"]}");
    for (int i = 0; i < 3; i++) json_decref(jh_pub(&H, "p", NULL, "x"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.PURGE.P", "");
    cr_assert_eq(jh_int(r, "purged"), 3);
    json_decref(r);
    jh_restart(&H);
    json_t *a = jh_pub(&H, "p", NULL, "x");
    cr_assert_eq(jh_int(a, "seq"), 4);
    json_decref(a);
}

/* Acked messages survive the process dying without js_server_close (group commit flushed them). */
Test(js_stream, acked_messages_survive_crash) {
    jh_create(&H, "{\"name\":\"CR\",\"subjects\":[\"cr\"]}");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 5; i++) jh_inbound(&H, "cr", "_INBOX.c", NULL, "x", 1);
        js_server_flush(H.js);
        _exit(jh_count_on(&H, "_INBOX.c") == 5 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Drop the parent's handle without flushing anything, then recover from disk. */
    jh_restart(&H);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.CR", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 5);
    json_decref(r);
}

Test(js_stream, direct_get_multi) {
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

Test(js_stream, placement_and_unsupported_sources) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.P", "{\"name\":\"P\",\"placement\":{\"cluster\":\"\"}}");
    cr_assert(!jh_has(r, "error"));
    cr_assert(!jh_has(r, "config.placement"));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.Q", "{\"name\":\"Q\",\"placement\":{\"preferred\":\"x\"}}");
    cr_assert_str_eq(jh_str(r, "error.description"), "preferred server not permitted in placement");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.Q", "{\"name\":\"Q\",\"placement\":{\"bogus\":\"x\"}}");
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: json: unknown field \"bogus\"");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.Q", "{\"name\":\"Q\",\"placement\":{\"tags\":[\"a\"]}}");
    cr_assert_str_eq(jh_str(r, "config.placement.tags.0"), "a");
    json_decref(r);
    /* Not ported: mirrors and sources are refused rather than silently ignored. */
    r = jh_req(&H, "$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"P\"}}");
    cr_assert_eq(jh_err_code(r), 10052);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"sources\":[]}");
    cr_assert(!jh_has(r, "error"));
    json_decref(r);
}

Test(js_stream, peer_remove_single_node) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.PEER.REMOVE.X", "{\"peer\":\"a\"}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_remove_peer_response");
    cr_assert_eq(jh_err_code(r), 10010);
    json_decref(r);
    /* System-level requests are left alone, as Go's apiDispatch does. */
    size_t n = H.nmsgs;
    jh_req_raw(&H, "$JS.API.META.LEADER.STEPDOWN", NULL);
    cr_assert_eq(H.nmsgs, n);
}

Test(js_stream, strict_off_is_lenient) {
    js_server_close(H.js);
    H.cfg.strict_off = true;
    char err[128];
    H.js = js_server_open(&H.cfg, &H.host, err, sizeof err);
    json_t *r = jh_req(&H, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"bogus\":1}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.T", "{\"name\":");
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: unexpected end of JSON input");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.T", "{\"name\":\"T\"} x");
    cr_assert_str_eq(jh_str(r, "error.description"), "invalid JSON: invalid character 'x' after top-level value");
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.CREATE.T", "{'a':1}");
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "invalid JSON: invalid character '\\'' looking for beginning of object key string");
    json_decref(r);
    js_server_close(H.js);
    H.cfg.strict_off = false;
    H.js = js_server_open(&H.cfg, &H.host, err, sizeof err);
}
