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
