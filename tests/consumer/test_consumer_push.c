/* Push consumers: delivery to the deliver subject with interest, ephemerals and their
 * inactivity threshold, idle heartbeats, flow control, last_per_subject, headers_only, ack
 * none (the shapes libnats js_Subscribe and KV watchers use).  Ports cases of Go nats-server
 * v2.14.5 server/jetstream_consumer_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/gotest.h"
#include "cons_harness.h"

static int64_t jint(json_t *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) cur = json_object_get(cur, tok);
    cr_assert(cur && json_is_integer(cur), "missing integer %s", path);
    return json_integer_value(cur);
}

Test(consumer_push, ephemeral_ack_none_delivers_with_headers) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerNoMsgPayload",
                    "delivery of headers and payload; no client library");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    h_pub_hdr(&e, "foo.a", "NATS/1.0\r\nK: v\r\n\r\n", "hello");
    h_pub(&e, "foo.b", "");
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_subject\":\"d.in\",\"ack_policy\":\"none\"}");
    cr_assert(!json_object_get(r, "error"), "%s", json_dumps(r, 0));
    const char *name = json_string_value(json_object_get(r, "name"));
    cr_assert_eq(strlen(name), 8);
    char cname[16];
    snprintf(cname, sizeof cname, "%s", name);
    cr_assert_eq(jint(r, "config.inactive_threshold"), 5 * H_S);
    cr_assert_eq(json_object_get(json_object_get(r, "config"), "max_waiting"), NULL);
    json_decref(r);
    cr_assert_eq(h_count(&e, "d.in"), 2);
    h_msg *m = h_nth(&e, "d.in", 0);
    cr_assert_str_eq(m->data, "hello");
    cr_assert_str_eq(m->shown, "foo.a");
    cr_assert_str_eq(h_hval(m, "K"), "v");
    cr_assert(!strncmp(m->reply, "$JS.ACK.TEST.", 13));
    r = h_info(&e, "TEST", cname);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 2);
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert(json_is_true(json_object_get(r, "push_bound")));
    json_decref(r);
    h_pub(&e, "foo.c", "new");
    cr_assert_eq(h_count(&e, "d.in"), 3);
    h_close(&e);
}

Test(consumer_push, no_interest_then_interest_and_ephemeral_cleanup) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPushBound",
                    "push_bound and interest polling only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    e.no_interest[e.n_no++] = "d.";
    h_pub(&e, "foo.a", "x");
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_subject\":\"d.in\",\"ack_policy\":\"explicit\"}");
    char cname[16];
    snprintf(cname, sizeof cname, "%s", json_string_value(json_object_get(r, "name")));
    cr_assert_null(json_object_get(r, "push_bound"));
    json_decref(r);
    cr_assert_eq(h_count(&e, "d.in"), 0);
    e.n_no = 0;
    h_advance(&e, 300 * H_MS);
    cr_assert_eq(h_count(&e, "d.in"), 1);
    /* Interest gone: the ephemeral is removed after its inactive threshold. */
    e.no_interest[e.n_no++] = "d.";
    h_pub(&e, "foo.a", "y");
    h_advance(&e, 7 * H_S);
    r = h_info(&e, "TEST", cname);
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    char adv[128];
    snprintf(adv, sizeof adv, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.TEST.%s", cname);
    cr_assert(h_last(&e, adv));
    h_close(&e);
}

Test(consumer_push, idle_heartbeat_and_flow_control) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPauseHeartbeats",
                    "idle heartbeat headers only, no pause");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "hb",
                           "{\"name\":\"hb\",\"deliver_subject\":\"d.hb\",\"ack_policy\":\"none\","
                           "\"flow_control\":true,\"idle_heartbeat\":1000000000}");
    cr_assert(!json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    h_pub(&e, "foo.a", "1");
    cr_assert_eq(h_count(&e, "d.hb"), 1);
    h_advance(&e, 1100 * H_MS);
    cr_assert_eq(h_count(&e, "d.hb"), 2);
    h_msg *hb = h_last(&e, "d.hb");
    cr_assert(h_status(hb, "NATS/1.0 100 Idle Heartbeat"), "%s", hb->hdr);
    cr_assert_str_eq(h_hval(hb, "Nats-Last-Consumer"), "1");
    cr_assert_str_eq(h_hval(hb, "Nats-Last-Stream"), "1");
    cr_assert_null(hb->reply);
    /* Flow control: past half of the initial 2MB window a FlowControl request goes out. */
    static char big[300 * 1024];
    memset(big, 'z', sizeof big - 1);
    h_clear(&e);
    for (int i = 0; i < 5; i++) h_pub(&e, "foo.big", big);
    size_t fc = 0;
    h_msg *fcm = NULL;
    for (size_t i = 0; i < h_count(&e, "d.hb"); i++) {
        h_msg *m = h_nth(&e, "d.hb", i);
        if (h_status(m, "NATS/1.0 100 FlowControl Request")) {
            fc++;
            fcm = m;
        }
    }
    cr_assert_eq(fc, 1);
    cr_assert(!strncmp(fcm->reply, "$JS.FC.TEST.hb.", 15), "%s", fcm->reply);
    /* Heartbeats carry the stalled flow control subject while it is outstanding. */
    char fcsubj[128];
    snprintf(fcsubj, sizeof fcsubj, "%s", fcm->reply);
    h_advance(&e, 1100 * H_MS);
    cr_assert_str_eq(h_hval(h_last(&e, "d.hb"), "Nats-Consumer-Stalled"), fcsubj);
    h_inbound(&e, fcsubj, NULL, NULL, "");
    h_advance(&e, 1100 * H_MS);
    cr_assert_null(h_hval(h_last(&e, "d.hb"), "Nats-Consumer-Stalled"));
    h_close(&e);
}

Test(consumer_push, kv_watch_last_per_subject_headers_only) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPendingForKV",
                    "last_per_subject delivery and pending counts");
    h_env e;
    h_open(&e);
    h_stream(&e, "KV_b", "[\"$KV.b.>\"]", "memory", "\"max_msgs_per_subject\":5");
    h_pub(&e, "$KV.b.k1", "a1");
    h_pub(&e, "$KV.b.k2", "b1");
    h_pub(&e, "$KV.b.k1", "a2");
    json_t *r = h_consumer(&e, "KV_b", NULL,
                           "{\"deliver_subject\":\"w.in\",\"deliver_policy\":\"last_per_subject\","
                           "\"filter_subject\":\"$KV.b.>\",\"ack_policy\":\"none\",\"max_deliver\":1,"
                           "\"flow_control\":true,\"idle_heartbeat\":5000000000,\"headers_only\":true,"
                           "\"mem_storage\":true,\"num_replicas\":1}");
    cr_assert(!json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    cr_assert_eq(h_count(&e, "w.in"), 2);
    h_msg *m0 = h_nth(&e, "w.in", 0), *m1 = h_nth(&e, "w.in", 1);
    cr_assert_eq(m0->len, 0);
    cr_assert_str_eq(h_hval(m0, "Nats-Msg-Size"), "2");
    /* Last per subject: k2 (seq 2) then k1 (seq 3); pending counts down to 0. */
    cr_assert(strstr(m0->reply, ".1.2.1.") != NULL, "%s", m0->reply);
    cr_assert(m0->reply[strlen(m0->reply) - 1] == '1');
    cr_assert(strstr(m1->reply, ".1.3.2.") != NULL, "%s", m1->reply);
    cr_assert(m1->reply[strlen(m1->reply) - 1] == '0');
    h_pub(&e, "$KV.b.k2", "b2");
    cr_assert_eq(h_count(&e, "w.in"), 3);
    h_close(&e);
}

Test(consumer_push, deliver_policies) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerWithStartTime",
                    "start sequence/time/last/new selection only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    for (int i = 0; i < 5; i++) {
        h_pub(&e, i % 2 ? "foo.odd" : "foo.even", "m");
        e.now += H_S;
    }
    struct {
        const char *cfg, *subj;
        size_t want;
        const char *first_reply;
    } cases[] = {
        {"{\"deliver_subject\":\"d.all\"}", "d.all", 5, ".1.1.1."},
        {"{\"deliver_subject\":\"d.last\",\"deliver_policy\":\"last\"}", "d.last", 1, ".1.5.1."},
        {"{\"deliver_subject\":\"d.new\",\"deliver_policy\":\"new\"}", "d.new", 0, NULL},
        {"{\"deliver_subject\":\"d.seq\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":4}", "d.seq", 2, ".1.4.1."},
        {"{\"deliver_subject\":\"d.time\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2023-11-14T22:13:22Z\"}",
         "d.time", 3, ".1.3.1."},
        {"{\"deliver_subject\":\"d.lastf\",\"deliver_policy\":\"last\",\"filter_subject\":\"foo.odd\"}", "d.lastf", 1, ".1.4.1."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = h_consumer(&e, "TEST", NULL, cases[i].cfg);
        cr_assert(!json_object_get(r, "error"), "%s", json_dumps(r, 0));
        json_decref(r);
        cr_assert_eq(h_count(&e, cases[i].subj), cases[i].want, "%s: %zu", cases[i].subj, h_count(&e, cases[i].subj));
        if (cases[i].first_reply)
            cr_assert(strstr(h_nth(&e, cases[i].subj, 0)->reply, cases[i].first_reply), "%s: %s", cases[i].subj,
                      h_nth(&e, cases[i].subj, 0)->reply);
    }
    h_close(&e);
}

Test(consumer_push, replay_original) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerReplayRate",
                    "timing of three messages");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    h_pub(&e, "foo.a", "1");
    e.now += 2 * H_S;
    h_pub(&e, "foo.a", "2");
    e.now += 1 * H_S;
    h_pub(&e, "foo.a", "3");
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_subject\":\"d.r\",\"replay_policy\":\"original\"}");
    json_decref(r);
    cr_assert_eq(h_count(&e, "d.r"), 1);
    h_advance(&e, 1900 * H_MS);
    cr_assert_eq(h_count(&e, "d.r"), 1);
    h_advance(&e, 200 * H_MS);
    cr_assert_eq(h_count(&e, "d.r"), 2);
    h_advance(&e, 1000 * H_MS);
    cr_assert_eq(h_count(&e, "d.r"), 3);
    h_close(&e);
}

Test(consumer_push, rate_limit) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerRateLimit",
                    "token bucket timing with a small burst");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", "\"max_msg_size\":1000");
    static char body[501];
    memset(body, 'r', 500);
    for (int i = 0; i < 4; i++) h_pub(&e, "foo", body);
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_subject\":\"d.rl\",\"rate_limit_bps\":8000}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    /* ~550 bytes each at 1000 B/s with a 1000 byte burst. */
    cr_assert_eq(h_count(&e, "d.rl"), 1);
    h_advance(&e, 50 * H_MS);
    cr_assert_eq(h_count(&e, "d.rl"), 1);
    h_advance(&e, 100 * H_MS);
    cr_assert_eq(h_count(&e, "d.rl"), 2);
    h_advance(&e, 1200 * H_MS);
    cr_assert_eq(h_count(&e, "d.rl"), 4);
    h_close(&e);
}

Test(consumer_push, ephemeral_deleted_when_subscriber_leaves) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerInactiveNoDeadlock",
                    "ephemeral push consumer removed after its subscriber leaves");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_subject\":\"d.x\",\"inactive_threshold\":2000000000}");
    char cname[16];
    snprintf(cname, sizeof cname, "%s", json_string_value(json_object_get(r, "name")));
    json_decref(r);
    h_advance(&e, 3 * H_S);
    r = h_info(&e, "TEST", cname);
    cr_assert(json_is_true(json_object_get(r, "push_bound")));
    json_decref(r);
    e.no_interest[e.n_no++] = "d.";
    r = h_info(&e, "TEST", cname);
    cr_assert_null(json_object_get(r, "push_bound"));
    json_decref(r);
    h_advance(&e, 1500 * H_MS);
    r = h_info(&e, "TEST", cname);
    cr_assert_null(json_object_get(r, "error"));
    json_decref(r);
    h_advance(&e, 1 * H_S);
    r = h_info(&e, "TEST", cname);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "err_code")), 10014);
    json_decref(r);
    h_close(&e);
}

Test(consumer_push, durable_new_deliver_subject_redelivers_pending) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDurableReconnect",
                    "rebinding a durable to a new deliver subject");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    h_pub(&e, "foo", "1");
    h_pub(&e, "foo", "2");
    json_decref(h_consumer(&e, "TEST", "d", "{\"durable_name\":\"d\",\"deliver_subject\":\"a.in\",\"ack_policy\":\"explicit\"}"));
    cr_assert_eq(h_count(&e, "a.in"), 2);
    /* Still listened to: the durable is in use. */
    json_t *r = h_consumer(&e, "TEST", "d", "{\"durable_name\":\"d\",\"deliver_subject\":\"b.in\",\"ack_policy\":\"explicit\"}");
    cr_assert_eq(jint(r, "error.err_code"), 10013, "%s", json_dumps(r, 0));
    json_decref(r);
    e.no_interest[e.n_no++] = "a.";
    r = h_consumer(&e, "TEST", "d", "{\"durable_name\":\"d\",\"deliver_subject\":\"b.in\",\"ack_policy\":\"explicit\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    cr_assert_eq(h_count(&e, "b.in"), 2);
    cr_assert(!strncmp(h_nth(&e, "b.in", 0)->reply, "$JS.ACK.TEST.d.2.1.3.", 21), "%s", h_nth(&e, "b.in", 0)->reply);
    h_close(&e);
}
