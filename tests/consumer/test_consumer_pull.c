/* Pull consumers: fetch/next, 404/408/409 statuses, acks (+ACK -NAK +WPI +TERM +NXT), ack wait
 * redelivery with backoff, max deliveries and ConsumerInfo counts.  Ports cases of Go
 * nats-server v2.14.5 server/jetstream_consumer_test.go. */
#include <criterion/criterion.h>
#include <inttypes.h>
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
    cr_assert(m && m->reply, "no message to ack");
    char *r = strdup(m->reply);
    h_inbound(e, r, NULL, NULL, body);
    free(r);
}

static void setup_pull(h_env *e, const char *cfg) {
    h_open(e);
    h_stream(e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(e, "TEST", "dlc", cfg);
    cr_assert(!json_object_get(r, "error"), "create: %s", json_dumps(r, 0));
    json_decref(r);
}

Test(consumer_pull, create_info_defaults) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerCreate",
                    "single pull/push creation and defaults only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")), "io.nats.jetstream.api.v1.consumer_info_response");
    cr_assert_str_eq(json_string_value(json_object_get(r, "stream_name")), "TEST");
    cr_assert_str_eq(json_string_value(json_object_get(r, "name")), "dlc");
    json_t *c = json_object_get(r, "config");
    cr_assert_str_eq(json_string_value(json_object_get(c, "durable_name")), "dlc");
    cr_assert_str_eq(json_string_value(json_object_get(c, "name")), "dlc");
    cr_assert_str_eq(json_string_value(json_object_get(c, "deliver_policy")), "all");
    cr_assert_str_eq(json_string_value(json_object_get(c, "ack_policy")), "explicit");
    cr_assert_eq(jint(c, "ack_wait"), 30 * H_S);
    cr_assert_eq(jint(c, "max_deliver"), -1);
    cr_assert_str_eq(json_string_value(json_object_get(c, "replay_policy")), "instant");
    cr_assert_eq(jint(c, "max_waiting"), 512);
    cr_assert_eq(jint(c, "max_ack_pending"), 1000);
    cr_assert_eq(jint(c, "num_replicas"), 0);
    cr_assert_null(json_object_get(c, "inactive_threshold"));
    json_t *md = json_object_get(c, "metadata");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.req.level")), "0");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.ver")), "2.14.5");
    cr_assert_str_eq(json_string_value(json_object_get(md, "_nats.level")), "4");
    cr_assert_eq(jint(r, "delivered.consumer_seq"), 0);
    cr_assert_eq(jint(r, "delivered.stream_seq"), 0);
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 0);
    cr_assert_null(json_object_get(json_object_get(r, "delivered"), "last_active"));
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "num_redelivered"), 0);
    cr_assert_eq(jint(r, "num_waiting"), 0);
    cr_assert_eq(jint(r, "num_pending"), 0);
    cr_assert_null(json_object_get(r, "push_bound"));
    cr_assert(json_is_string(json_object_get(r, "ts")));
    cr_assert(json_is_string(json_object_get(r, "created")));
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, fetch_and_ack_reply_subject) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckAck",
                    "ack with reply checked; no client library");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    h_pub_hdr(&e, "foo.a", "NATS/1.0\r\nX-Test: 1\r\n\r\n", "one");
    h_pub(&e, "foo.b", "two");
    h_pub(&e, "foo.c", "three");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":2}");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", in);
    cr_assert_eq(h_count(&e, inbox), 2);
    h_msg *m1 = h_nth(&e, inbox, 0);
    cr_assert_str_eq(m1->data, "one");
    cr_assert_str_eq(m1->shown, "foo.a"); /* routed to the inbox, shown with its own subject */
    cr_assert_str_eq(h_hval(m1, "X-Test"), "1");
    char want[256];
    snprintf(want, sizeof want, "$JS.ACK.TEST.dlc.1.1.1.%" PRId64 ".2", (int64_t)(1700000000LL * H_S));
    cr_assert_str_eq(m1->reply, want);
    h_msg *m2 = h_nth(&e, inbox, 1);
    snprintf(want, sizeof want, "$JS.ACK.TEST.dlc.1.2.2.%" PRId64 ".1", (int64_t)(1700000000LL * H_S));
    cr_assert_str_eq(m2->reply, want);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_pending"), 1);
    cr_assert_eq(jint(r, "num_ack_pending"), 2);
    cr_assert_eq(jint(r, "delivered.consumer_seq"), 2);
    cr_assert_eq(jint(r, "delivered.stream_seq"), 2);
    cr_assert(json_is_string(json_object_get(json_object_get(r, "delivered"), "last_active")));
    json_decref(r);
    /* Ack the second with a reply: the floor does not move (first still pending). */
    char *rep = strdup(m2->reply);
    h_inbound(&e, rep, "_INBOX.ackack", NULL, "+ACK");
    free(rep);
    cr_assert_eq(h_count(&e, "_INBOX.ackack"), 1);
    cr_assert_eq(h_last(&e, "_INBOX.ackack")->len, 0);
    r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 1);
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 0);
    json_decref(r);
    ack(&e, h_nth(&e, inbox, 0), "");
    r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 2);
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, no_wait_404_and_expires_408) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullTimeoutHeaders",
                    "no server shutdown 409");
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullNoWaitBatchLargerThanPending");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"no_wait\":true}");
    h_msg *m = h_last(&e, in);
    cr_assert(h_status(m, "NATS/1.0 404 No Messages"), "got %s", m ? m->hdr : "nothing");
    cr_assert_eq(m->len, 0);
    /* Batch larger than pending with no_wait: all messages, then 404. */
    for (int i = 0; i < 5; i++) h_pub(&e, "foo.x", "OK");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":10,\"no_wait\":true}"));
    cr_assert_eq(h_count(&e, inbox), 6);
    for (int i = 0; i < 5; i++) cr_assert_str_eq(h_nth(&e, inbox, (size_t)i)->data, "OK");
    cr_assert(h_status(h_nth(&e, inbox, 5), "NATS/1.0 404 No Messages"));
    /* Expiring request with max_bytes: 408 with pending headers. */
    h_pub(&e, "foo.foo", "foo");
    snprintf(inbox, sizeof inbox, "%s",
             h_pull(&e, "TEST", "dlc", "{\"batch\":50,\"expires\":100000000,\"max_bytes\":1024}"));
    cr_assert_eq(h_count(&e, inbox), 1);
    h_msg *d = h_nth(&e, inbox, 0);
    int used = (int)(strlen("foo.foo") + strlen(d->reply) + d->len);
    h_advance(&e, 150 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 2);
    m = h_last(&e, inbox);
    cr_assert(h_status(m, "NATS/1.0 408 Request Timeout"), "got %s", m->hdr);
    cr_assert_str_eq(h_hval(m, "Nats-Pending-Messages"), "49");
    char want[32];
    snprintf(want, sizeof want, "%d", 1024 - used);
    cr_assert_str_eq(h_hval(m, "Nats-Pending-Bytes"), want);
    h_close(&e);
}

Test(consumer_pull, batch_completed_and_max_bytes) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullBatchCompleted");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullMaxBytes",
                    "one oversize case and one batch-completed case");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    h_pub(&e, "foo.a", big);
    h_pub(&e, "foo.a", big);
    char inbox[64];
    /* Batch 1 with plenty of bytes: message then 409 Batch Completed with remaining bytes. */
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"max_bytes\":4096,\"expires\":1000000000}"));
    cr_assert_eq(h_count(&e, inbox), 2);
    h_msg *bc = h_nth(&e, inbox, 1);
    cr_assert(h_status(bc, "NATS/1.0 409 Batch Completed"), "got %s", bc->hdr);
    cr_assert_str_eq(h_hval(bc, "Nats-Pending-Messages"), "0");
    /* Message bigger than max_bytes: 409 Message Size Exceeds MaxBytes. */
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"max_bytes\":100,\"expires\":1000000000}"));
    cr_assert_eq(h_count(&e, inbox), 1);
    h_msg *mb = h_nth(&e, inbox, 0);
    cr_assert(h_status(mb, "NATS/1.0 409 Message Size Exceeds MaxBytes"), "got %s", mb->hdr);
    cr_assert_str_eq(h_hval(mb, "Nats-Pending-Messages"), "1");
    cr_assert_str_eq(h_hval(mb, "Nats-Pending-Bytes"), "100");
    h_close(&e);
}

Test(consumer_pull, request_maximums) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullRequestMaximums");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"max_batch\":10,"
                   "\"max_bytes\":1024,\"max_expires\":1000000000}");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":11}");
    cr_assert(h_status(h_last(&e, in), "NATS/1.0 409 Exceeded MaxRequestBatch of 10"));
    in = h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"max_bytes\":2048}");
    cr_assert(h_status(h_last(&e, in), "NATS/1.0 409 Exceeded MaxRequestMaxBytes of 1024"));
    in = h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":2000000000}");
    cr_assert(h_status(h_last(&e, in), "NATS/1.0 409 Exceeded MaxRequestExpires of 1s"), "%s",
              h_last(&e, in)->hdr);
    in = h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":1000000,\"idle_heartbeat\":1000000}");
    cr_assert(h_status(h_last(&e, in), "NATS/1.0 400 Bad Request - heartbeat value too large"));
    h_close(&e);
}

Test(consumer_pull, max_waiting_of_one) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullMaxWaitingOfOne");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"max_waiting\":1}");
    char a[64];
    snprintf(a, sizeof a, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":5000000000}"));
    cr_assert_eq(h_count(&e, a), 0);
    const char *b = h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":5000000000}");
    cr_assert(h_status(h_last(&e, b), "NATS/1.0 409 Exceeded MaxWaiting"));
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_waiting"), 1);
    json_decref(r);
    h_pub(&e, "foo.a", "x");
    cr_assert_eq(h_count(&e, a), 1);
    cr_assert_str_eq(h_nth(&e, a, 0)->data, "x");
    h_close(&e);
}

Test(consumer_pull, plain_batch_number_and_empty_request) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullOneShotBehavior",
                    "batch number and empty bodies only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    for (int i = 0; i < 3; i++) h_pub(&e, "foo.a", "m");
    const char *in = h_pull(&e, "TEST", "dlc", "2");
    cr_assert_eq(h_count(&e, in), 2);
    in = h_pull(&e, "TEST", "dlc", "");
    cr_assert_eq(h_count(&e, in), 1);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_pending"), 0);
    cr_assert_eq(jint(r, "num_ack_pending"), 3);
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, nak_redelivers_with_count) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerNakThenAckFloorMove",
                    "nak and ack floor only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    h_pub(&e, "foo.a", "one");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    ack(&e, h_last(&e, in), "-NAK");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1}"));
    h_msg *m = h_last(&e, inbox);
    cr_assert_str_eq(m->data, "one");
    cr_assert(!strncmp(m->reply, "$JS.ACK.TEST.dlc.2.1.2.", 23), "reply %s", m->reply);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_redelivered"), 1);
    cr_assert_eq(jint(r, "num_ack_pending"), 1);
    json_decref(r);
    ack(&e, m, "+ACK");
    r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "ack_floor.consumer_seq"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    cr_assert_eq(jint(r, "num_redelivered"), 0);
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, nak_with_delay) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerUpdateRedelivery",
                    "nak delay only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"ack_wait\":30000000000}");
    h_pub(&e, "foo.a", "one");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    ack(&e, h_last(&e, in), "-NAK {\"delay\":2000000000}");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":10000000000}"));
    h_advance(&e, 1 * H_S);
    cr_assert_eq(h_count(&e, inbox), 0);
    h_advance(&e, 1500 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 1);
    cr_assert_str_eq(h_last(&e, inbox)->data, "one");
    /* Duration string form. */
    ack(&e, h_last(&e, inbox), "-NAK 1s");
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":10000000000}"));
    h_advance(&e, 500 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 0);
    h_advance(&e, 700 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 1);
    h_close(&e);
}

Test(consumer_pull, ack_wait_redelivery_and_wpi) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerRetryAckAfterTimeout",
                    "redelivery after ack wait and progress only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"ack_wait\":1000000000}");
    h_pub(&e, "foo.a", "one");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    h_msg *m = h_last(&e, in);
    char *reply = strdup(m->reply);
    h_advance(&e, 800 * H_MS);
    h_inbound(&e, reply, NULL, NULL, "+WPI");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":30000000000}"));
    h_advance(&e, 800 * H_MS); /* 1.6s since delivery, 0.8s since progress */
    cr_assert_eq(h_count(&e, inbox), 0);
    h_advance(&e, 300 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 1);
    cr_assert(!strncmp(h_last(&e, inbox)->reply, "$JS.ACK.TEST.dlc.2.1.2.", 23));
    free(reply);
    h_close(&e);
}

Test(consumer_pull, term_with_reason_advisory) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDeliveryCount",
                    "term advisory only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"ack_wait\":1000000000}");
    h_pub(&e, "foo.a", "one");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    ack(&e, h_last(&e, in), "+TERM  bad message ");
    h_msg *adv = h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.TEST.dlc");
    cr_assert(adv);
    json_t *j = json_loads(adv->data, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "io.nats.jetstream.advisory.v1.terminated");
    cr_assert_str_eq(json_string_value(json_object_get(j, "reason")), "bad message");
    cr_assert_eq(jint(j, "stream_seq"), 1);
    cr_assert_eq(jint(j, "consumer_seq"), 1);
    cr_assert_eq(jint(j, "deliveries"), 1);
    json_decref(j);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    json_decref(r);
    /* Nothing redelivered after the ack wait. */
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":5000000000}"));
    h_advance(&e, 2 * H_S);
    cr_assert_eq(h_count(&e, inbox), 0);
    h_close(&e);
}

Test(consumer_pull, max_deliveries_advisory) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerMaxDeliveries");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"ack_wait\":1000000000,\"max_deliver\":2}");
    h_pub(&e, "foo.a", "one");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":10,\"expires\":10000000000}"));
    cr_assert_eq(h_count(&e, inbox), 1);
    h_advance(&e, 1100 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 2);
    h_advance(&e, 3 * H_S);
    cr_assert_eq(h_count(&e, inbox), 2);
    h_advance(&e, 7 * H_S);
    cr_assert_eq(h_count(&e, inbox), 3); /* the 408 */
    cr_assert(h_status(h_last(&e, inbox), "NATS/1.0 408 Request Timeout"));
    h_msg *adv = h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.TEST.dlc");
    cr_assert(adv);
    json_t *j = json_loads(adv->data, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "io.nats.jetstream.advisory.v1.max_deliver");
    cr_assert_eq(jint(j, "deliveries"), 2);
    cr_assert_eq(jint(j, "stream_seq"), 1);
    json_decref(j);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, backoff) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerBackOff",
                    "redelivery timing of one message");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"max_deliver\":4,"
                   "\"backoff\":[1000000000,2000000000,4000000000]}");
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "config.ack_wait"), 1 * H_S);
    json_decref(r);
    h_pub(&e, "foo.a", "one");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":10,\"expires\":60000000000}"));
    cr_assert_eq(h_count(&e, inbox), 1);
    h_advance(&e, 1100 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 2);
    h_advance(&e, 1500 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 2);
    h_advance(&e, 600 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 3);
    h_advance(&e, 3500 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 3);
    h_advance(&e, 700 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 4);
    h_close(&e);
}

Test(consumer_pull, ack_next) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullConsumerFIFO",
                    "+NXT ordering only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    h_pub(&e, "foo.a", "1");
    h_pub(&e, "foo.a", "2");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    char *reply = strdup(h_last(&e, in)->reply);
    h_inbound(&e, reply, "_INBOX.nxt", NULL, "+NXT");
    free(reply);
    cr_assert_eq(h_count(&e, "_INBOX.nxt"), 1);
    cr_assert_str_eq(h_last(&e, "_INBOX.nxt")->data, "2");
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    json_decref(r);
    h_close(&e);
}

Test(consumer_pull, max_ack_pending_blocks) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullMaxAckPending",
                    "small numbers");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"max_ack_pending\":2}");
    for (int i = 0; i < 4; i++) h_pub(&e, "foo.a", "m");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":4,\"expires\":5000000000}"));
    cr_assert_eq(h_count(&e, inbox), 2);
    ack(&e, h_nth(&e, inbox, 0), "+ACK");
    cr_assert_eq(h_count(&e, inbox), 3);
    h_close(&e);
}

Test(consumer_pull, idle_heartbeats) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullHeartBeats",
                    "heartbeat headers and timing only");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s",
             h_pull(&e, "TEST", "dlc", "{\"batch\":1,\"expires\":1000000000,\"idle_heartbeat\":250000000}"));
    h_advance(&e, 260 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 1);
    h_msg *hb = h_last(&e, inbox);
    cr_assert(h_status(hb, "NATS/1.0 100 Idle Heartbeat"), "%s", hb->hdr);
    cr_assert_str_eq(h_hval(hb, "Nats-Last-Consumer"), "0");
    cr_assert_str_eq(h_hval(hb, "Nats-Last-Stream"), "0");
    h_advance(&e, 800 * H_MS);
    cr_assert(h_status(h_last(&e, inbox), "NATS/1.0 408 Request Timeout"));
    h_close(&e);
}

Test(consumer_pull, push_request_rejected) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullNoAck",
                    "status for push consumers only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "p", "{\"durable_name\":\"p\",\"deliver_subject\":\"d.p\"}");
    json_decref(r);
    const char *in = h_pull(&e, "TEST", "p", "{\"batch\":1}");
    cr_assert(h_status(h_last(&e, in), "NATS/1.0 409 Consumer is push based"));
    h_close(&e);
}

Test(consumer_pull, waiting_requests_on_delete_and_shutdown) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullTimeoutHeaders",
                    "409 Server Shutdown headers on close");
    h_env e;
    setup_pull(&e, "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}");
    json_decref(h_consumer(&e, "TEST", "other", "{\"durable_name\":\"other\",\"ack_policy\":\"explicit\"}"));
    char a[64], b[64];
    snprintf(a, sizeof a, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":5,\"expires\":60000000000}"));
    snprintf(b, sizeof b, "%s", h_pull(&e, "TEST", "other", "{\"batch\":7,\"max_bytes\":100,\"expires\":60000000000}"));
    json_decref(h_api(&e, "$JS.API.CONSUMER.DELETE.TEST.dlc", ""));
    cr_assert(h_status(h_last(&e, a), "NATS/1.0 409 Consumer Deleted"));
    js_server_close(e.js);
    h_msg *m = h_last(&e, b);
    cr_assert(h_status(m, "NATS/1.0 409 Server Shutdown"));
    cr_assert_str_eq(h_hval(m, "Nats-Pending-Messages"), "7");
    cr_assert_str_eq(h_hval(m, "Nats-Pending-Bytes"), "100");
    e.js = NULL;
    h_close(&e);
}
