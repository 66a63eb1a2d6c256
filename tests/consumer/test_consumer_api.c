/* $JS.API.CONSUMER.* requests: create actions and errors, names/list, delete, pause,
 * stepdown, workqueue rules.  Ports cases of Go nats-server v2.14.5
 * server/jetstream_consumer_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/gotest.h"
#include "cons_harness.h"

static int err_code(json_t *r) {
    json_t *e = json_object_get(r, "error");
    return e ? (int)json_integer_value(json_object_get(e, "err_code")) : 0;
}
static const char *err_desc(json_t *r) {
    return json_string_value(json_object_get(json_object_get(r, "error"), "description"));
}

static json_t *create_action(h_env *e, const char *name, const char *cfg, const char *action) {
    char subj[256], body[2048];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.TEST.%s", name);
    snprintf(body, sizeof body, "{\"stream_name\":\"TEST\",\"config\":%s,\"action\":\"%s\"}", cfg, action);
    return h_api(e, subj, body);
}

static int code_of(h_env *e, const char *name, const char *cfg) {
    json_t *r = name ? h_consumer(e, "TEST", name, cfg) : h_consumer(e, "TEST", NULL, cfg);
    int c = err_code(r);
    json_decref(r);
    return c;
}

Test(consumer_api, actions) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerActions");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerActionsViaAPI",
                    "error codes only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"one\",\"two\",\"three\",\"four\",\"five.>\"]", "memory", NULL);
    const char *c1 = "{\"durable_name\":\"DUR\",\"filter_subjects\":[\"one\",\"two\"],\"ack_policy\":\"explicit\","
                     "\"ack_wait\":30000000000}";
    const char *c2 = "{\"durable_name\":\"DUR\",\"filter_subjects\":[\"one\"],\"ack_policy\":\"explicit\","
                     "\"ack_wait\":30000000000}";
    json_t *r = create_action(&e, "DUR", c1, "create");
    cr_assert_eq(err_code(r), 0, "%s", json_dumps(r, 0));
    json_decref(r);
    r = create_action(&e, "DUR", c1, "create");
    cr_assert_eq(err_code(r), 0, "%s", json_dumps(r, 0));
    json_decref(r);
    r = create_action(&e, "DUR", c2, "create");
    cr_assert_eq(err_code(r), 10148);
    cr_assert_str_eq(err_desc(r), "consumer already exists");
    json_decref(r);
    r = create_action(&e, "DUR", c2, "update");
    cr_assert_eq(err_code(r), 0, "%s", json_dumps(r, 0));
    cr_assert_eq(json_array_size(json_object_get(json_object_get(r, "config"), "filter_subjects")), 1);
    json_decref(r);
    r = create_action(&e, "NEW", "{\"durable_name\":\"NEW\",\"ack_policy\":\"explicit\"}", "update");
    cr_assert_eq(err_code(r), 10149);
    json_decref(r);
    r = create_action(&e, "EPH", "{\"name\":\"EPH\",\"filter_subjects\":[\"one\"],\"ack_policy\":\"explicit\"}", "create");
    cr_assert_eq(err_code(r), 0);
    json_decref(r);
    r = create_action(&e, "EPH", "{\"name\":\"EPH\",\"filter_subjects\":[\"two\"],\"ack_policy\":\"explicit\"}", "create");
    cr_assert_eq(err_code(r), 10148);
    json_decref(r);
    r = create_action(&e, "X", "{}", "bogus");
    cr_assert_eq(err_code(r), 10025);
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, create_errors) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerWithMultipleStartOptions",
                    "error code only");
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerOverlappingSubjects");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerBadCreateErr",
                    "deliver subject checks only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    cr_assert_eq(code_of(&e, "d", "{\"durable_name\":\"x\"}"), 10017);
    cr_assert_eq(code_of(&e, NULL, "{\"durable_name\":\"x\"}"), 10020);
    cr_assert_eq(code_of(&e, NULL, "{\"deliver_subject\":\"a.*\"}"), 10079);
    cr_assert_eq(code_of(&e, NULL, "{\"deliver_subject\":\"foo.bar\"}"), 10081);
    cr_assert_eq(code_of(&e, NULL, "{\"idle_heartbeat\":1000000000}"), 10088);
    cr_assert_eq(code_of(&e, NULL, "{\"flow_control\":true}"), 10089);
    cr_assert_eq(code_of(&e, NULL, "{\"deliver_subject\":\"d\",\"flow_control\":true}"), 10108);
    cr_assert_eq(code_of(&e, NULL, "{\"deliver_subject\":\"d\",\"idle_heartbeat\":50000000}"), 10083);
    cr_assert_eq(code_of(&e, NULL, "{\"deliver_subject\":\"d\",\"max_waiting\":10}"), 10080);
    cr_assert_eq(code_of(&e, NULL, "{\"filter_subject\":\"foo.a\",\"filter_subjects\":[\"foo.b\"]}"), 10136);
    cr_assert_eq(code_of(&e, NULL, "{\"filter_subjects\":[\"foo.*\",\"foo.a\"]}"), 10138);
    cr_assert_eq(code_of(&e, NULL, "{\"filter_subjects\":[\"\"]}"), 10139);
    cr_assert_eq(code_of(&e, NULL, "{\"num_replicas\":3}"), 10074);
    cr_assert_eq(code_of(&e, NULL, "{\"backoff\":[1000000000,2000000000],\"max_deliver\":1}"), 10116);
    cr_assert_eq(code_of(&e, NULL, "{\"priority_groups\":[\"A\"]}"), 10196);
    cr_assert_eq(code_of(&e, NULL, "{\"priority_policy\":\"pinned_client\"}"), 10159);
    cr_assert_eq(code_of(&e, NULL, "{\"priority_policy\":\"overflow\",\"priority_groups\":[\"bad group\"]}"), 10162);
    /* The subject's name overrides config.name (Go ccNew), so durable + other name is fine. */
    cr_assert_eq(code_of(&e, "a", "{\"durable_name\":\"a\",\"name\":\"b\"}"), 0);
    json_t *r = h_consumer(&e, "TEST", NULL, "{\"deliver_policy\":\"all\",\"opt_start_seq\":10}");
    cr_assert_eq(err_code(r), 10094);
    cr_assert_str_eq(err_desc(r), "consumer delivery policy is deliver all, but optional start sequence is also set");
    json_decref(r);
    r = h_consumer(&e, "TEST", NULL, "{\"deliver_policy\":\"by_start_time\"}");
    cr_assert_str_eq(err_desc(r), "consumer delivery policy is deliver by start time, but optional start time is not set");
    json_decref(r);
    r = h_consumer(&e, "TEST", NULL, "{\"deliver_policy\":\"last_per_subject\"}");
    cr_assert_str_eq(err_desc(r), "consumer delivery policy is deliver last per subject, but optional filter subject is not set");
    json_decref(r);
    r = h_consumer(&e, "TEST", NULL, "{\"sample_freq\":\"abc\"}");
    cr_assert_eq(err_code(r), 10095);
    json_decref(r);
    r = h_consumer(&e, "TEST", NULL, "{\"ack_wait\":\"1s\"}");
    cr_assert_eq(err_code(r), 10025);
    json_decref(r);
    r = h_consumer(&e, "NOPE", NULL, "{}");
    cr_assert_eq(err_code(r), 10059);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST", "{\"stream_name\":\"OTHER\",\"config\":{}}");
    cr_assert_eq(err_code(r), 10056);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST.a.foo.b", "{\"stream_name\":\"TEST\",\"config\":{\"filter_subject\":\"foo.c\"}}");
    cr_assert_eq(err_code(r), 10131);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST.a.foo.b", "{\"stream_name\":\"TEST\",\"config\":{\"filter_subject\":\"foo.b\"}}");
    cr_assert_eq(err_code(r), 0, "%s", json_dumps(r, 0));
    json_decref(r);
    {
        char longname[300], subj[400], body[800];
        memset(longname, 'n', 256);
        longname[256] = 0;
        snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.TEST.%s", longname);
        snprintf(body, sizeof body, "{\"stream_name\":\"TEST\",\"config\":{\"durable_name\":\"%s\"}}", longname);
        r = h_api(&e, subj, body);
        cr_assert_eq(err_code(r), 10102, "%s", json_dumps(r, 0));
        cr_assert_str_eq(err_desc(r), "consumer name is too long, maximum allowed is 255");
        json_decref(r);
    }
    r = h_api(&e, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dd", "{\"stream_name\":\"TEST\",\"config\":{}}");
    cr_assert_eq(err_code(r), 10018);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dd", "{\"stream_name\":\"TEST\",\"config\":{\"durable_name\":\"dd\"}}");
    cr_assert_eq(err_code(r), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_create_response");
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, names_list_delete_info) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDelete",
                    "delete via the API and not found afterwards");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "b", "{\"durable_name\":\"b\"}"));
    json_decref(h_consumer(&e, "TEST", "a", "{\"durable_name\":\"a\"}"));
    json_t *r = h_api(&e, "$JS.API.CONSUMER.NAMES.TEST", "");
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_names_response");
    cr_assert_eq(json_integer_value(json_object_get(r, "total")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r, "limit")), 1024);
    json_t *c = json_object_get(r, "consumers");
    cr_assert_str_eq(json_string_value(json_array_get(c, 0)), "a");
    cr_assert_str_eq(json_string_value(json_array_get(c, 1)), "b");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.LIST.TEST", "{\"offset\":1}");
    cr_assert_eq(json_integer_value(json_object_get(r, "offset")), 1);
    cr_assert_eq(json_integer_value(json_object_get(r, "limit")), 256);
    c = json_object_get(r, "consumers");
    cr_assert_eq(json_array_size(c), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "name")), "b");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.INFO.TEST.a", "{\"x\":1}");
    cr_assert_eq(err_code(r), 10038);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.DELETE.TEST.a", "");
    cr_assert(json_is_true(json_object_get(r, "success")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_delete_response");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.DELETE.TEST.a", "");
    cr_assert_eq(err_code(r), 10014);
    cr_assert_str_eq(err_desc(r), "consumer not found");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.INFO.NOPE.a", "");
    cr_assert_eq(err_code(r), 10059);
    cr_assert_null(json_object_get(r, "name"));
    json_decref(r);
    /* Error responses keep Go's non-omitempty fields. */
    r = h_api(&e, "$JS.API.CONSUMER.NAMES.NOPE", "");
    cr_assert_eq(err_code(r), 10059);
    cr_assert_eq(json_array_size(json_object_get(r, "consumers")), 0);
    cr_assert(json_is_array(json_object_get(r, "consumers")));
    cr_assert_eq(json_integer_value(json_object_get(r, "total")), 0);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.PAUSE.TEST.nope", "");
    cr_assert_eq(err_code(r), 10014);
    cr_assert(json_is_false(json_object_get(r, "paused")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "pause_until")), "0001-01-01T00:00:00Z");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.LEADER.STEPDOWN.TEST.b", "");
    cr_assert_eq(err_code(r), 10010);
    json_decref(r);
    r = h_api(&e, "$JS.API.STREAM.INFO.TEST", "");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "state"), "consumer_count")), 1);
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, pause_via_endpoint) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPauseViaEndpoint",
                    "pull consumer only");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPauseResumeViaEndpoint",
                    "pull consumer only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "p", "{\"durable_name\":\"p\",\"ack_policy\":\"explicit\"}"));
    json_t *r = h_api(&e, "$JS.API.CONSUMER.PAUSE.TEST.p", "{\"pause_until\":\"2023-11-14T22:13:30Z\"}");
    cr_assert(json_is_true(json_object_get(r, "paused")), "%s", json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(r, "pause_until")), "2023-11-14T22:13:30Z");
    cr_assert_eq(json_integer_value(json_object_get(r, "pause_remaining")), 10 * H_S);
    json_decref(r);
    h_pub(&e, "foo.a", "x");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "p", "{\"batch\":1,\"expires\":30000000000}"));
    cr_assert_eq(h_count(&e, inbox), 0);
    r = h_info(&e, "TEST", "p");
    cr_assert(json_is_true(json_object_get(r, "paused")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "config"), "metadata"),
                                                       "_nats.req.level")),
                     "1");
    json_decref(r);
    h_advance(&e, 11 * H_S);
    cr_assert_eq(h_count(&e, inbox), 1);
    /* Resume */
    r = h_api(&e, "$JS.API.CONSUMER.PAUSE.TEST.p", "{\"pause_until\":\"2030-01-01T00:00:00Z\"}");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.PAUSE.TEST.p", "");
    cr_assert(json_is_false(json_object_get(r, "paused")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "pause_until")), "0001-01-01T00:00:00Z");
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, workqueue_rules) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerWorkQueuePolicyOverlap");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerActionsOnWorkQueuePolicyStream",
                    "create/update codes only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.*.*\"]", "memory", "\"retention\":\"workqueue\"");
    cr_assert_eq(code_of(&e, "n", "{\"durable_name\":\"n\",\"ack_policy\":\"none\"}"), 10084);
    cr_assert_eq(code_of(&e, "n", "{\"durable_name\":\"n\",\"ack_policy\":\"all\"}"), 10098);
    cr_assert_eq(code_of(&e, "n", "{\"durable_name\":\"n\",\"ack_policy\":\"explicit\",\"deliver_policy\":\"new\"}"), 10101);
    cr_assert_eq(code_of(&e, "A", "{\"durable_name\":\"A\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo.bar.*\"}"), 0);
    json_t *r = h_consumer(&e, "TEST", "B", "{\"durable_name\":\"B\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo.*.bar\"}");
    cr_assert_eq(err_code(r), 10100);
    cr_assert_str_eq(err_desc(r), "filtered consumer not unique on workqueue stream");
    json_decref(r);
    cr_assert_eq(code_of(&e, "C", "{\"durable_name\":\"C\",\"ack_policy\":\"explicit\"}"), 10099);
    /* Updating A with the same filter is fine. */
    cr_assert_eq(code_of(&e, "A", "{\"durable_name\":\"A\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo.bar.*\"}"), 0);
    h_close(&e);
}

Test(consumer_api, defaults_from_stream_and_pedantic) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDefaultsFromStream",
                    "create-time defaults and limits; stream update checks are stream-side");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPedanticMode",
                    "single server, stream consumer limits cases");
    h_env e;
    h_open(&e);
    h_stream(&e, "test", "[\"test.*\"]", "memory",
             "\"consumer_limits\":{\"max_ack_pending\":15,\"inactive_threshold\":1000000000}");
    json_t *r = h_consumer(&e, "test", "inh", "{\"name\":\"inh\",\"ack_policy\":\"explicit\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_t *c = json_object_get(r, "config");
    cr_assert_eq(json_integer_value(json_object_get(c, "inactive_threshold")), 1 * H_S);
    cr_assert_eq(json_integer_value(json_object_get(c, "max_ack_pending")), 15);
    json_decref(r);
    r = h_consumer(&e, "test", "x1", "{\"name\":\"x1\",\"max_ack_pending\":30}");
    cr_assert_eq(err_code(r), 10121);
    cr_assert_str_eq(err_desc(r), "consumer max ack pending exceeds system limit of 15");
    json_decref(r);
    r = h_consumer(&e, "test", "x2", "{\"name\":\"x2\",\"inactive_threshold\":2000000000}");
    cr_assert_eq(err_code(r), 10153);
    cr_assert_str_eq(err_desc(r), "consumer inactive threshold exceeds system limit of 1s");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.CREATE.test.p",
              "{\"stream_name\":\"test\",\"pedantic\":true,\"config\":{\"durable_name\":\"p\"}}");
    cr_assert_eq(err_code(r), 10157);
    cr_assert_str_eq(err_desc(r), "pedantic mode: max_ack_pending must be set if it's configured in stream limits");
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.CREATE.test.p",
              "{\"stream_name\":\"test\",\"pedantic\":true,\"config\":{\"durable_name\":\"p\",\"max_ack_pending\":10,"
              "\"inactive_threshold\":500000000,\"max_deliver\":-1,\"ack_policy\":\"explicit\",\"ack_wait\":30000000000}}");
    cr_assert_eq(err_code(r), 0, "%s", json_dumps(r, 0));
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, description_and_metadata) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerAndStreamDescriptions");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerAndStreamMetadata",
                    "consumer side only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "d",
                           "{\"durable_name\":\"d\",\"description\":\"hello\",\"metadata\":{\"k\":\"v\"}}");
    json_t *c = json_object_get(r, "config");
    cr_assert_str_eq(json_string_value(json_object_get(c, "description")), "hello");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "metadata"), "k")), "v");
    json_decref(r);
    static char big[4200];
    memset(big, 'x', 4097);
    big[4097] = 0;
    char cfg[4400];
    snprintf(cfg, sizeof cfg, "{\"durable_name\":\"d2\",\"description\":\"%s\"}", big);
    r = h_consumer(&e, "TEST", "d2", cfg);
    cr_assert_eq(err_code(r), 10107);
    cr_assert_str_eq(err_desc(r), "consumer description is too long, maximum allowed is 4096");
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, reset) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerResetToSequence",
                    "single node, limits retention (no interest cleanup after reset)");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "C",
                           "{\"durable_name\":\"C\",\"ack_policy\":\"explicit\",\"max_ack_pending\":1,"
                           "\"ack_wait\":1000000000}"));
    for (int i = 1; i <= 4; i++) {
        char d[16];
        snprintf(d, sizeof d, "msg%d", i);
        h_pub(&e, "foo", d);
    }
    const char *in = h_pull(&e, "TEST", "C", "{\"batch\":1}");
    cr_assert_str_eq(h_last(&e, in)->data, "msg1");
    char *rep = strdup(h_last(&e, in)->reply);
    h_inbound(&e, rep, "_INBOX.ack", NULL, "");
    free(rep);
    in = h_pull(&e, "TEST", "C", "{\"batch\":1}");
    cr_assert_str_eq(h_last(&e, in)->data, "msg2");
    json_t *r = h_api(&e, "$JS.API.CONSUMER.RESET.TEST.C", "");
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_reset_response");
    cr_assert_eq(json_integer_value(json_object_get(r, "reset_seq")), 2);
    json_t *dl = json_object_get(r, "delivered"), *af = json_object_get(r, "ack_floor");
    cr_assert_eq(json_integer_value(json_object_get(dl, "stream_seq")), 1);
    cr_assert_eq(json_integer_value(json_object_get(dl, "consumer_seq")), 0);
    cr_assert_null(json_object_get(dl, "last_active"));
    cr_assert_eq(json_integer_value(json_object_get(af, "stream_seq")), 1);
    cr_assert_null(json_object_get(af, "last_active"));
    cr_assert_eq(json_integer_value(json_object_get(r, "num_pending")), 3);
    cr_assert_eq(json_integer_value(json_object_get(r, "num_ack_pending")), 0);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.RESET.TEST.C", "{\"seq\":4}");
    cr_assert_eq(json_integer_value(json_object_get(r, "reset_seq")), 4);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "delivered"), "stream_seq")), 3);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "ack_floor"), "stream_seq")), 3);
    cr_assert_eq(json_integer_value(json_object_get(r, "num_pending")), 1);
    json_decref(r);
    in = h_pull(&e, "TEST", "C", "{\"batch\":1}");
    cr_assert_str_eq(h_last(&e, in)->data, "msg4");
    cr_assert(!strncmp(h_last(&e, in)->reply, "$JS.ACK.TEST.C.1.4.1.", 21));
    h_close(&e);
}

Test(consumer_api, invalid_json_texts) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerActionsUnmarshal",
                    "through the API: action and strict config decoding errors");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    struct {
        const char *body, *desc;
    } cases[] = {
        {"{\"stream_name\":\"TEST\",\"config\":{},\"action\":\"bogus\"}", "invalid JSON: unknown consumer action: \"bogus\""},
        {"{\"stream_name\":\"TEST\",\"config\":{\"bogus\":1}}", "invalid JSON: json: unknown field \"bogus\""},
        {"{\"stream_name\":\"TEST\",\"config\":{\"ack_wait\":\"1s\"}}",
         "invalid JSON: json: cannot unmarshal string into Go struct field ConsumerConfig.config.ack_wait of type time.Duration"},
        {"{\"stream_name\":\"TEST\",\"config\":{\"ack_policy\":\"sometimes\"}}",
         "invalid JSON: can not unmarshal \"\\\"sometimes\\\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST.c", cases[i].body);
        cr_assert_eq(err_code(r), 10025, "%s", json_dumps(r, 0));
        cr_assert_str_eq(err_desc(r), cases[i].desc);
        json_decref(r);
    }
    /* An empty body decodes to an empty request: the stream name then does not match. */
    json_t *r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST.c", "");
    cr_assert_eq(err_code(r), 10056);
    json_decref(r);
    h_close(&e);
}

Test(consumer_api, pause_advisories) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPauseAdvisories");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPauseViaConfig",
                    "pause set at creation, pull delivery resumes after it");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    const char *adv = "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.TEST.my_consumer";
    json_t *r = h_api(&e, "$JS.API.CONSUMER.CREATE.TEST.my_consumer",
                      "{\"stream_name\":\"TEST\",\"action\":\"create\",\"config\":{\"name\":\"my_consumer\","
                      "\"pause_until\":\"2023-11-14T22:13:21Z\"}}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    cr_assert(json_is_true(json_object_get(r, "paused")));
    json_decref(r);
    cr_assert_eq(h_count(&e, adv), 1);
    json_t *a = json_loads(h_nth(&e, adv, 0)->data, 0, NULL);
    cr_assert(json_is_true(json_object_get(a, "paused")));
    cr_assert_str_eq(json_string_value(json_object_get(a, "pause_until")), "2023-11-14T22:13:21Z");
    cr_assert_str_eq(json_string_value(json_object_get(a, "type")), "io.nats.jetstream.advisory.v1.consumer_pause");
    json_decref(a);
    h_pub(&e, "foo", "x");
    char in[64];
    snprintf(in, sizeof in, "%s", h_pull(&e, "TEST", "my_consumer", "{\"batch\":1,\"expires\":5000000000}"));
    cr_assert_eq(h_count(&e, in), 0);
    h_advance(&e, 1100 * H_MS);
    cr_assert_eq(h_count(&e, adv), 2);
    a = json_loads(h_nth(&e, adv, 1)->data, 0, NULL);
    cr_assert(json_is_false(json_object_get(a, "paused")));
    cr_assert_str_eq(json_string_value(json_object_get(a, "pause_until")), "2023-11-14T22:13:21Z");
    json_decref(a);
    cr_assert_eq(h_count(&e, in), 1);
    /* Via the endpoint. */
    json_decref(h_api(&e, "$JS.API.CONSUMER.PAUSE.TEST.my_consumer", "{\"pause_until\":\"2023-11-14T22:13:23Z\"}"));
    cr_assert_eq(h_count(&e, adv), 3);
    h_advance(&e, 1 * H_S);
    cr_assert_eq(h_count(&e, adv), 3);
    h_advance(&e, 1 * H_S);
    cr_assert_eq(h_count(&e, adv), 4);
    h_close(&e);
}
