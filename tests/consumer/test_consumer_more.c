/* Priority groups (pinned client, overflow), ephemeral pull cleanup, multiple filters, ack
 * all, headers-only pulls, interest cleanup on delete and the lifecycle advisories.  Ports
 * cases of Go nats-server v2.14.5 server/jetstream_consumer_test.go. */
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

static void ack(h_env *e, h_msg *m, const char *body) {
    cr_assert(m && m->reply);
    char *r = strdup(m->reply);
    h_inbound(e, r, NULL, NULL, body);
    free(r);
}

static void pull_to(h_env *e, const char *stream, const char *cons, const char *inbox, const char *body) {
    char subj[256];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, cons);
    h_inbound(e, subj, inbox, NULL, body);
}

Test(consumer_more, pinned_client) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPinned",
                    "pin, standby, wrong id and TTL; no unsubscribe cases");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerUnpin",
                    "unpin via the API only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\",\"bar\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "C",
                           "{\"durable_name\":\"C\",\"filter_subject\":\"foo.>\",\"priority_groups\":[\"A\"],"
                           "\"priority_policy\":\"pinned_client\",\"ack_policy\":\"explicit\",\"priority_timeout\":10000000000}");
    cr_assert(!json_object_get(r, "error"), "%s", json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "config"), "metadata"),
                                                       "_nats.req.level")),
                     "1");
    json_decref(r);
    for (int i = 0; i < 10; i++) {
        char s[32];
        snprintf(s, sizeof s, "foo.%d", i);
        if (i % 2) h_pub(&e, s, "m");
        else h_pub_hdr(&e, s, "NATS/1.0\r\nSome-Header: Value\r\n\r\n", "m");
    }
    const char *req = "{\"batch\":3,\"expires\":5000000000,\"group\":\"A\"}";
    pull_to(&e, "TEST", "C", "ONE", req);
    pull_to(&e, "TEST", "C", "TWO", req);
    cr_assert_eq(h_count(&e, "ONE"), 3);
    cr_assert_eq(h_count(&e, "TWO"), 0);
    char pin[64];
    snprintf(pin, sizeof pin, "%s", h_hval(h_nth(&e, "ONE", 0), "Nats-Pin-Id"));
    cr_assert_eq(strlen(pin), 22);
    cr_assert_str_eq(h_hval(h_nth(&e, "ONE", 1), "Nats-Pin-Id"), pin);
    cr_assert_str_eq(h_hval(h_nth(&e, "ONE", 0), "Some-Header"), "Value");
    r = h_info(&e, "TEST", "C");
    json_t *pg = json_array_get(json_object_get(r, "priority_groups"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(pg, "group")), "A");
    cr_assert_str_eq(json_string_value(json_object_get(pg, "pinned_client_id")), pin);
    json_decref(r);
    pull_to(&e, "TEST", "C", "THREE", "{\"batch\":3,\"expires\":250000000,\"group\":\"A\",\"id\":\"WRONG\"}");
    cr_assert(h_status(h_last(&e, "THREE"), "NATS/1.0 423 Nats-Pin-Id mismatch"));
    char good[256];
    snprintf(good, sizeof good, "{\"batch\":3,\"expires\":250000000,\"group\":\"A\",\"id\":\"%s\"}", pin);
    pull_to(&e, "TEST", "C", "FOUR", good);
    cr_assert_eq(h_count(&e, "FOUR"), 3);
    cr_assert_eq(h_count(&e, "TWO"), 0);
    /* Unpin: the standby request gets the next messages with a new pin. */
    r = h_api(&e, "$JS.API.CONSUMER.UNPIN.TEST.C", "{\"group\":\"B\"}");
    cr_assert_eq(jint(r, "error.err_code"), 10160);
    json_decref(r);
    r = h_api(&e, "$JS.API.CONSUMER.UNPIN.TEST.C", "{\"group\":\"A\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_unpin_response");
    json_decref(r);
    cr_assert_eq(h_count(&e, "TWO"), 3);
    cr_assert_str_neq(h_hval(h_nth(&e, "TWO", 0), "Nats-Pin-Id"), pin);
    h_close(&e);
}

Test(consumer_more, overflow) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerOverflow",
                    "min_pending and min_ack_pending gates, small counts");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "C",
                           "{\"durable_name\":\"C\",\"filter_subject\":\"foo.>\",\"priority_groups\":[\"A\"],"
                           "\"priority_policy\":\"overflow\",\"ack_policy\":\"explicit\"}"));
    h_pub(&e, "foo.1", "msg-1");
    pull_to(&e, "TEST", "C", "ackPending", "{\"batch\":1,\"expires\":90000000000,\"min_ack_pending\":1,\"group\":\"A\"}");
    cr_assert_eq(h_count(&e, "ackPending"), 0);
    pull_to(&e, "TEST", "C", "single", "{\"batch\":1,\"expires\":90000000000,\"min_pending\":1,\"group\":\"A\"}");
    cr_assert_eq(h_count(&e, "single"), 1);
    h_pub(&e, "foo.1", "msg-2");
    /* Now one is ack pending: the first request qualifies and takes msg-2. */
    cr_assert_eq(h_count(&e, "ackPending"), 1);
    h_pub(&e, "foo.1", "msg-3");
    pull_to(&e, "TEST", "C", "overflow", "{\"batch\":1,\"expires\":90000000000,\"min_pending\":10,\"group\":\"A\"}");
    cr_assert_eq(h_count(&e, "overflow"), 0);
    pull_to(&e, "TEST", "C", "nogroup", "{\"batch\":1,\"expires\":90000000000}");
    cr_assert(h_status(h_last(&e, "nogroup"), "NATS/1.0 400 Bad Request - Priority Group missing"));
    for (int i = 0; i < 12; i++) h_pub(&e, "foo.1", "more");
    cr_assert_eq(h_count(&e, "overflow"), 1);
    pull_to(&e, "TEST", "C", "bad", "{\"batch\":1,\"group\":\"A\",\"priority\":10}");
    cr_assert(h_status(h_last(&e, "bad"), "NATS/1.0 400 Bad Request - Priority must be between 0 and 9"));
    pull_to(&e, "TEST", "C", "bad2", "{\"batch\":1,\"group\":\"Z\"}");
    cr_assert(h_status(h_last(&e, "bad2"), "NATS/1.0 400 Bad Request - Invalid Priority Group"));
    h_close(&e);
}

Test(consumer_more, ephemeral_pull_inactive_threshold) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerNotInactiveDuringAckWait",
                    "ack wait keeps an inactive ephemeral alive");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "eph",
                           "{\"name\":\"eph\",\"ack_policy\":\"explicit\",\"ack_wait\":3000000000,"
                           "\"inactive_threshold\":1000000000}");
    cr_assert(!json_object_get(r, "error"));
    json_decref(r);
    r = h_consumer(&e, "TEST", "gone", "{\"name\":\"gone\",\"inactive_threshold\":1000000000}");
    json_decref(r);
    h_pub(&e, "foo.a", "x");
    const char *in = h_pull(&e, "TEST", "eph", "{\"batch\":1}");
    cr_assert_eq(h_count(&e, in), 1);
    h_advance(&e, 1500 * H_MS);
    r = h_info(&e, "TEST", "gone");
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    h_msg *adv = h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.TEST.gone");
    cr_assert(adv);
    json_t *j = json_loads(adv->data, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "action")), "delete");
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "io.nats.jetstream.advisory.v1.consumer_action");
    json_decref(j);
    r = h_info(&e, "TEST", "eph");
    cr_assert_null(json_object_get(r, "error"), "still alive during ack wait");
    json_decref(r);
    /* The ack wait expiry at 3s re-stamps the pending message (queued for redelivery), so the
     * consumer lives until 3s + ack wait + threshold. */
    h_advance(&e, 5 * H_S);
    r = h_info(&e, "TEST", "eph");
    cr_assert_null(json_object_get(r, "error"));
    json_decref(r);
    h_advance(&e, 1 * H_S);
    r = h_info(&e, "TEST", "eph");
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    cr_assert(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.CREATED.TEST.eph"));
    h_close(&e);
}

Test(consumer_more, multiple_filters_and_ack_all) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerMultipleSubjects",
                    "delivery order and num_pending with two filters");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerThreeFilters",
                    "two filters");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"one\",\"two\",\"three\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "mf",
                           "{\"durable_name\":\"mf\",\"filter_subjects\":[\"one\",\"three\"],\"ack_policy\":\"all\"}"));
    const char *subs[] = {"one", "two", "three", "two", "one"};
    for (int i = 0; i < 5; i++) h_pub(&e, subs[i], subs[i]);
    json_t *r = h_info(&e, "TEST", "mf");
    cr_assert_eq(jint(r, "num_pending"), 3);
    json_decref(r);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "mf", "{\"batch\":10,\"no_wait\":true}"));
    cr_assert_eq(h_count(&e, inbox), 4);
    cr_assert_str_eq(h_nth(&e, inbox, 0)->data, "one");
    cr_assert_str_eq(h_nth(&e, inbox, 1)->data, "three");
    cr_assert_str_eq(h_nth(&e, inbox, 2)->data, "one");
    cr_assert(h_status(h_nth(&e, inbox, 3), "NATS/1.0 404 No Messages"));
    ack(&e, h_nth(&e, inbox, 1), "");
    r = h_info(&e, "TEST", "mf");
    cr_assert_eq(jint(r, "num_ack_pending"), 1);
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 3);
    json_decref(r);
    h_close(&e);
}

Test(consumer_more, headers_only_pull) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerNoMsgPayload",
                    "headers_only on a pull consumer");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "h", "{\"durable_name\":\"h\",\"headers_only\":true,\"ack_policy\":\"none\"}"));
    h_pub_hdr(&e, "foo", "NATS/1.0\r\nA: b\r\n\r\n", "12345");
    const char *in = h_pull(&e, "TEST", "h", "1");
    h_msg *m = h_last(&e, in);
    cr_assert_eq(m->len, 0);
    cr_assert_str_eq(m->hdr, "NATS/1.0\r\nA: b\r\nNats-Msg-Size: 5\r\n\r\n");
    h_close(&e);
}

Test(consumer_more, interest_cleanup_on_delete) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerCleanupWithRetentionPolicy",
                    "interest retention cleanup on consumer delete");
    h_env e;
    h_open(&e);
    h_stream(&e, "IN", "[\"in\"]", "memory", "\"retention\":\"interest\"");
    json_decref(h_consumer(&e, "IN", "a", "{\"durable_name\":\"a\",\"ack_policy\":\"explicit\"}"));
    json_decref(h_consumer(&e, "IN", "b", "{\"durable_name\":\"b\",\"ack_policy\":\"explicit\"}"));
    for (int i = 0; i < 3; i++) h_pub(&e, "in", "x");
    char ia[64];
    snprintf(ia, sizeof ia, "%s", h_pull(&e, "IN", "a", "{\"batch\":3}"));
    for (int i = 0; i < 3; i++) ack(&e, h_nth(&e, ia, (size_t)i), "+ACK");
    json_t *r = h_api(&e, "$JS.API.STREAM.INFO.IN", "");
    cr_assert_eq(jint(r, "state.messages"), 3);
    json_decref(r);
    json_decref(h_api(&e, "$JS.API.CONSUMER.DELETE.IN.b", ""));
    r = h_api(&e, "$JS.API.STREAM.INFO.IN", "");
    cr_assert_eq(jint(r, "state.messages"), 0);
    json_decref(r);
    h_close(&e);
}
