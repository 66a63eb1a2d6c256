/* Smaller ports of Go nats-server v2.14.5 server/jetstream_consumer_test.go cases: ack floor
 * fill, pending counts (max per subject, limits, restart), names with path separators,
 * waiting requests without interest. */
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

static void ack(h_env *e, h_msg *m) {
    char *r = strdup(m->reply);
    h_inbound(e, r, NULL, NULL, "");
    free(r);
}

static void ack_floor_fill(const char *storage) {
    h_env e;
    h_open(&e);
    h_stream(&e, "MQ", "[\"MQ\"]", storage, NULL);
    for (int i = 1; i <= 4; i++) {
        char d[16];
        snprintf(d, sizeof d, "msg-%d", i);
        h_pub(&e, "MQ", d);
    }
    json_decref(h_consumer(&e, "MQ", "d", "{\"durable_name\":\"d\",\"deliver_subject\":\"in.d\",\"ack_policy\":\"explicit\"}"));
    cr_assert_eq(h_count(&e, "in.d"), 4);
    ack(&e, h_nth(&e, "in.d", 1));
    ack(&e, h_nth(&e, "in.d", 2));
    json_t *r = h_info(&e, "MQ", "d");
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 0);
    json_decref(r);
    ack(&e, h_nth(&e, "in.d", 0));
    r = h_info(&e, "MQ", "d");
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 3);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 3);
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, ack_floor_fill) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckFloorFill");
    ack_floor_fill("memory");
    ack_floor_fill("file");
}

static void pending_max_per_subject(const char *storage) {
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"KV.*.*\"]", storage, "\"max_msgs_per_subject\":2");
    const char *subs[] = {"KV.plans.foo", "KV.plans.bar", "KV.plans.baz", "KV.config.foo",
                          "KV.config.bar", "KV.config.baz", "KV.plans.bar", "KV.plans.baz"};
    for (size_t i = 0; i < 8; i++) h_pub(&e, subs[i], "OK");
    json_t *r = h_consumer(&e, "TEST", "d",
                           "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"deliver_policy\":\"last_per_subject\","
                           "\"filter_subject\":\"KV.plans.*\"}");
    cr_assert_eq(jint(r, "num_pending"), 3, "%s", json_dumps(r, 0));
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, num_pending_max_per_subject) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerNumPendingWithMaxPerSubjectGreaterThanOne");
    pending_max_per_subject("memory");
    pending_max_per_subject("file");
}

Test(consumer_ports, info_num_pending_limits_and_restart) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerInfoNumPending");
    h_env e;
    h_open(&e);
    h_stream(&e, "LIMITS", "[\"js.in.limits\"]", "file", "\"max_msgs\":100");
    json_decref(h_consumer(&e, "LIMITS", "PULL", "{\"name\":\"PULL\",\"ack_policy\":\"explicit\"}"));
    for (int i = 0; i < 1000; i++) h_pub(&e, "js.in.limits", "x");
    json_t *r = h_info(&e, "LIMITS", "PULL");
    cr_assert_eq(jint(r, "num_pending"), 100);
    json_decref(r);
    h_reopen(&e);
    r = h_info(&e, "LIMITS", "PULL");
    cr_assert_eq(jint(r, "num_pending"), 100, "%s", json_dumps(r, 0));
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, names_with_path_separators) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerAndStreamNamesWithPathSeparators",
                    "consumer names only");
    h_env e;
    h_open(&e);
    h_stream(&e, "T", "[\"t\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "T", "a/b", "{\"durable_name\":\"a/b\",\"ack_policy\":\"explicit\"}");
    cr_assert_eq(jint(r, "error.err_code"), 10127);
    json_decref(r);
    r = h_consumer(&e, "T", "a\\\\b", "{\"durable_name\":\"a\\\\b\",\"ack_policy\":\"explicit\"}");
    cr_assert_eq(jint(r, "error.err_code"), 10127, "%s", json_dumps(r, 0));
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, pull_remove_interest) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullRemoveInterest");
    h_env e;
    h_open(&e);
    h_stream(&e, "MYS-PULL", "[\"MYS-PULL\"]", "memory", NULL);
    json_decref(h_consumer(&e, "MYS-PULL", "worker", "{\"durable_name\":\"worker\",\"ack_policy\":\"explicit\"}"));
    /* A request whose requester went away is dropped, not served. */
    h_inbound(&e, "$JS.API.CONSUMER.MSG.NEXT.MYS-PULL.worker", "gone.1", NULL, "");
    e.no_interest[e.n_no++] = "gone.";
    for (int i = 0; i < 10; i++) h_inbound(&e, "$JS.API.CONSUMER.MSG.NEXT.MYS-PULL.worker", "gone.2", NULL, "");
    h_pub(&e, "MYS-PULL", "Hello World!");
    cr_assert_eq(h_count(&e, "gone.1") + h_count(&e, "gone.2"), 0);
    const char *in = h_pull(&e, "MYS-PULL", "worker", "");
    h_msg *m = h_last(&e, in);
    cr_assert(m);
    cr_assert(!strncmp(m->reply, "$JS.ACK.MYS-PULL.worker.1.1.1.", 30), "%s", m->reply);
    json_t *r = h_info(&e, "MYS-PULL", "worker");
    cr_assert_eq(jint(r, "num_waiting"), 0);
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, pending_count_with_redeliveries) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPendingCountWithRedeliveries");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "test",
                           "{\"durable_name\":\"test\",\"ack_policy\":\"explicit\",\"ack_wait\":50000000,\"max_deliver\":1}"));
    h_pub(&e, "foo", "msg1");
    const char *in = h_pull(&e, "TEST", "test", "{\"batch\":1}");
    cr_assert_str_eq(h_last(&e, in)->data, "msg1");
    json_t *r = h_info(&e, "TEST", "test");
    cr_assert_eq(jint(r, "num_pending"), 0);
    json_decref(r);
    h_advance(&e, 100 * H_MS);
    h_pub(&e, "foo", "msg2");
    in = h_pull(&e, "TEST", "test", "{\"batch\":1}");
    h_msg *m = h_last(&e, in);
    cr_assert_str_eq(m->data, "msg2");
    cr_assert(!strncmp(m->reply, "$JS.ACK.TEST.test.1.2.", 22), "%s", m->reply);
    r = h_info(&e, "TEST", "test");
    cr_assert_eq(jint(r, "num_pending"), 0);
    cr_assert_eq(jint(r, "num_redelivered"), 0);
    json_decref(r);
    h_close(&e);
}

static void max_ack_pending_redeliveries(const char *storage) {
    h_env e;
    h_open(&e);
    h_stream(&e, "MY_STREAM", "[\"foo.*\"]", storage, NULL);
    for (int i = 0; i < 10; i++) {
        char d[32];
        snprintf(d, sizeof d, "MSG: %d", i + 1);
        h_pub(&e, "foo.bar", d);
    }
    json_decref(h_consumer(&e, "MY_STREAM", "d22",
                           "{\"durable_name\":\"d22\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":4,"
                           "\"ack_policy\":\"explicit\",\"ack_wait\":20000000,\"max_ack_pending\":1}"));
    for (int d = 1; d <= 5; d++) {
        char inbox[64], want[128];
        snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "MY_STREAM", "d22", "{\"batch\":1,\"expires\":1000000000}"));
        h_advance(&e, 25 * H_MS);
        h_msg *m = h_nth(&e, inbox, 0);
        cr_assert(m && m->reply, "delivery %d", d);
        /* stream seq 4, consumer seq d, delivery count d, pending 10-4 */
        snprintf(want, sizeof want, "$JS.ACK.MY_STREAM.d22.%d.4.%d.", d, d);
        cr_assert(!strncmp(m->reply, want, strlen(want)), "%s vs %s", m->reply, want);
        cr_assert(!strcmp(m->reply + strlen(m->reply) - 2, ".6"), "%s", m->reply);
    }
    h_close(&e);
}

Test(consumer_ports, pull_max_ack_pending_redeliveries) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullMaxAckPendingRedeliveries");
    max_ack_pending_redeliveries("memory");
    max_ack_pending_redeliveries("file");
}

Test(consumer_ports, multiple_subjects_last) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerMultipleSubjectsLast");
    h_env e;
    h_open(&e);
    h_stream(&e, "name", "[\"events\",\"data\",\"other\"]", "memory", NULL);
    const char *s[] = {"events", "data", "other", "events", "data", "data", "other", "other"};
    for (int i = 0; i < 8; i++) {
        char d[8];
        snprintf(d, sizeof d, "%d", i + 1);
        h_pub(&e, s[i], d);
    }
    json_decref(h_consumer(&e, "name", "durable",
                           "{\"durable_name\":\"durable\",\"deliver_policy\":\"last\",\"ack_policy\":\"explicit\","
                           "\"deliver_subject\":\"deliver\",\"filter_subjects\":[\"events\",\"data\"]}"));
    cr_assert_eq(h_count(&e, "deliver"), 1);
    cr_assert_str_eq(h_nth(&e, "deliver", 0)->data, "6");
    ack(&e, h_nth(&e, "deliver", 0));
    json_t *r = h_info(&e, "name", "durable");
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 6);
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 1);
    cr_assert_eq(jint(r, "num_pending"), 0);
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, multiple_subjects_last_per_subject) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerMultipleSubjectsLastPerSubject");
    h_env e;
    h_open(&e);
    h_stream(&e, "name", "[\"events.*\",\"data.>\",\"other\"]", "memory", NULL);
    struct {
        const char *s, *d;
    } m[] = {{"events.1", "bad"}, {"events.1", "events.1"}, {"data.1", "bad"},   {"data.1", "bad"},
             {"data.1", "bad"},   {"data.1", "bad"},        {"data.1", "data.1"}, {"events.2", "bad"},
             {"events.2", "bad"}, {"events.2", "events.2"}, {"other", "bad"},    {"other", "bad"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) h_pub(&e, m[i].s, m[i].d);
    json_decref(h_consumer(&e, "name", "durable",
                           "{\"durable_name\":\"durable\",\"deliver_policy\":\"last_per_subject\",\"ack_policy\":\"explicit\","
                           "\"deliver_subject\":\"deliver\",\"filter_subjects\":[\"events.*\",\"data.>\"]}"));
    cr_assert_eq(h_count(&e, "deliver"), 3);
    const char *want[] = {"events.1", "data.1", "events.2"};
    for (int i = 0; i < 3; i++) {
        h_msg *d = h_nth(&e, "deliver", (size_t)i);
        cr_assert_str_eq(d->data, want[i]);
        cr_assert_str_eq(d->shown, want[i]);
    }
    ack(&e, h_nth(&e, "deliver", 0));
    ack(&e, h_nth(&e, "deliver", 1));
    json_t *r = h_info(&e, "name", "durable");
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 9);
    cr_assert_eq(jint(r, "delivered.stream_seq"), 10);
    cr_assert_eq(jint(r, "delivered.consumer_seq"), 3);
    json_decref(r);
    h_close(&e);
}

Test(consumer_ports, ack_sampling) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckSampling");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc",
                           "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo\",\"sample_freq\":\"100%\"}"));
    h_pub(&e, "foo", "Hello");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    ack(&e, h_last(&e, in));
    const char *metric = "$JS.EVENT.METRIC.CONSUMER.ACK.TEST.dlc";
    cr_assert_eq(h_count(&e, metric), 1);
    json_t *a = json_loads(h_nth(&e, metric, 0)->data, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(a, "type")), "io.nats.jetstream.metric.v1.consumer_ack");
    cr_assert_str_eq(json_string_value(json_object_get(a, "stream")), "TEST");
    cr_assert_str_eq(json_string_value(json_object_get(a, "consumer")), "dlc");
    cr_assert_eq(jint(a, "consumer_seq"), 1);
    cr_assert_eq(jint(a, "deliveries"), 1);
    json_decref(a);
    json_decref(h_consumer(&e, "TEST", "alps",
                           "{\"durable_name\":\"alps\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo\",\"sample_freq\":\"50%\"}"));
    for (int i = 0; i < 500; i++) h_pub(&e, "foo", "Hello");
    for (int b = 0; b < 5; b++) {
        char inbox[64];
        snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "alps", "{\"batch\":100}"));
        for (size_t i = 0; i < h_count(&e, inbox); i++) ack(&e, h_nth(&e, inbox, i));
    }
    size_t n = h_count(&e, "$JS.EVENT.METRIC.CONSUMER.ACK.TEST.alps");
    cr_assert(n > 200 && n < 320, "sampled %zu", n);
    h_close(&e);
}

Test(consumer_ports, max_deliver_update) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerMaxDeliverUpdate");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    for (int md = 2; md <= 3; md++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg,
                 "{\"durable_name\":\"ard\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo\",\"max_deliver\":%d}", md);
        json_t *r = h_consumer(&e, "TEST", "ard", cfg);
        cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
        json_decref(r);
        h_pub(&e, "foo", "Hello");
        for (int i = 0; i <= md; i++) {
            char inbox[64];
            snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "ard", "{\"batch\":2,\"expires\":100000000}"));
            h_advance(&e, 110 * H_MS);
            h_msg *m = h_nth(&e, inbox, 0);
            if (i < md) {
                cr_assert(m && m->len == 5, "md %d try %d", md, i);
                char *rep = strdup(m->reply);
                h_inbound(&e, rep, NULL, NULL, "-NAK");
                free(rep);
            } else {
                cr_assert(h_status(m, "NATS/1.0 408 Request Timeout"), "md %d: %s", md, m ? m->hdr : "none");
            }
        }
    }
    h_close(&e);
}
