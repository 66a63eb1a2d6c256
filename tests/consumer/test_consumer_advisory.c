/* Consumer advisories and the ack metric (storaged/js/js_consumer*.c through js.h with the fake
 * host): subject, type and fields as Go nats-server v2.14.5 server/jetstream_events.go and
 * server/consumer.go (sendAdvisory, sampleAck, processNak, processTerm, pinned groups) write
 * them, with the domain, and nothing without interest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "cons_harness.h"

static json_t *load(const h_msg *m) {
    cr_assert_not_null(m);
    json_t *o = json_loads(m->data, 0, NULL);
    cr_assert_not_null(o, "not JSON: %s", m->data);
    return o;
}

static const char *s_(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t i_(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

static void envelope(json_t *a, const char *type) {
    cr_assert_str_eq(s_(a, "type"), type);
    cr_assert_eq(strlen(s_(a, "id")), 22);
    const char *ts = s_(a, "timestamp");
    cr_assert(ts && ts[strlen(ts) - 1] == 'Z', "timestamp %s", ts);
}

static void reply_to(h_env *e, const h_msg *m, const char *body) {
    char *r = strdup(m->reply);
    h_inbound(e, r, NULL, NULL, body);
    free(r);
}

/* The keys of an object in order, comma separated. */
static void keys(json_t *o, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) n += (size_t)snprintf(out + n, cap - n, n ? ",%s" : "%s", k);
}

static void open_domain(h_env *e) {
    h_open(e);
    e->domain = "hub";
    h_reopen(e);
}

Test(consumer_advisory, ack_metric_fields) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckSamplingSpecifiedUsingUpdateConsumer");
    h_env e;
    open_domain(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc",
                           "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo\"}"));
    json_t *r = h_consumer(&e, "TEST", "dlc",
                           "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"filter_subject\":\"foo\","
                           "\"sample_freq\":\"100%\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    h_pub(&e, "foo", "Hello");
    const char *in = h_pull(&e, "TEST", "dlc", "{\"batch\":1}");
    h_advance(&e, 7 * H_MS);
    reply_to(&e, h_last(&e, in), "");
    const char *metric = "$JS.EVENT.METRIC.CONSUMER.ACK.TEST.dlc";
    cr_assert_eq(h_count(&e, metric), 1);
    json_t *a = load(h_last(&e, metric));
    envelope(a, "io.nats.jetstream.metric.v1.consumer_ack");
    char k[256];
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,stream,consumer,consumer_seq,stream_seq,ack_time,deliveries,domain");
    cr_assert_str_eq(s_(a, "stream"), "TEST");
    cr_assert_str_eq(s_(a, "consumer"), "dlc");
    cr_assert_eq(i_(a, "consumer_seq"), 1);
    cr_assert_eq(i_(a, "stream_seq"), 1);
    cr_assert_eq(i_(a, "ack_time"), 7 * H_MS);
    cr_assert_eq(i_(a, "deliveries"), 1);
    cr_assert_str_eq(s_(a, "domain"), "hub");
    json_decref(a);
    h_close(&e);
}

/* sample_freq without the percent sign; a +NXT ack samples too, +TERM does not; no interest:
 * nothing (Go sendAdvisory checks interest before encoding). */
Test(consumer_advisory, ack_metric_plain_number_and_interest) {
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "d", "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"sample_freq\":\"100\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    for (int i = 0; i < 4; i++) h_pub(&e, "foo", "m");
    const char *in = h_pull(&e, "TEST", "d", "{\"batch\":4}");
    cr_assert_eq(h_count(&e, in), 4);
    const char *metric = "$JS.EVENT.METRIC.CONSUMER.ACK.TEST.d";
    reply_to(&e, h_nth(&e, in, 0), "+ACK");
    cr_assert_eq(h_count(&e, metric), 1);
    reply_to(&e, h_nth(&e, in, 1), "+TERM");
    cr_assert_eq(h_count(&e, metric), 1);
    e.no_interest[e.n_no++] = "$JS.EVENT.METRIC.";
    reply_to(&e, h_nth(&e, in, 2), "+ACK");
    cr_assert_eq(h_count(&e, metric), 1);
    e.n_no = 0;
    reply_to(&e, h_nth(&e, in, 3), "+ACK");
    cr_assert_eq(h_count(&e, metric), 2);
    json_t *a = load(h_last(&e, metric));
    cr_assert_eq(i_(a, "stream_seq"), 4);
    cr_assert(!json_object_get(a, "domain"));
    json_decref(a);
    h_close(&e);
}

Test(consumer_advisory, nak_and_term_advisories) {
    h_env e;
    open_domain(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "d", "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\"}"));
    h_pub(&e, "foo", "m1");
    h_pub(&e, "foo", "m2");
    const char *in = h_pull(&e, "TEST", "d", "{\"batch\":2}");
    cr_assert_eq(h_count(&e, in), 2);
    reply_to(&e, h_nth(&e, in, 0), "-NAK");
    json_t *a = load(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.TEST.d"));
    envelope(a, "io.nats.jetstream.advisory.v1.nak");
    char k[256];
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,stream,consumer,consumer_seq,stream_seq,deliveries,domain");
    cr_assert_eq(i_(a, "consumer_seq"), 1);
    cr_assert_eq(i_(a, "stream_seq"), 1);
    cr_assert_eq(i_(a, "deliveries"), 1);
    json_decref(a);
    reply_to(&e, h_nth(&e, in, 1), "+TERM");
    a = load(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.TEST.d"));
    envelope(a, "io.nats.jetstream.advisory.v1.terminated");
    keys(a, k, sizeof k);
    /* reason is omitempty */
    cr_assert_str_eq(k, "type,id,timestamp,stream,consumer,consumer_seq,stream_seq,deliveries,domain");
    cr_assert_eq(i_(a, "stream_seq"), 2);
    json_decref(a);
    h_close(&e);
}

Test(consumer_advisory, action_and_max_deliver_advisories) {
    h_env e;
    open_domain(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "d",
                           "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"max_deliver\":1,\"ack_wait\":1000000000}"));
    json_t *a = load(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.CREATED.TEST.d"));
    envelope(a, "io.nats.jetstream.advisory.v1.consumer_action");
    char k[256];
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,stream,consumer,action,domain");
    cr_assert_str_eq(s_(a, "action"), "create");
    cr_assert_str_eq(s_(a, "domain"), "hub");
    json_decref(a);
    h_pub(&e, "foo", "m1");
    const char *in = h_pull(&e, "TEST", "d", "{\"batch\":1}");
    cr_assert_eq(h_count(&e, in), 1);
    h_advance(&e, 2 * H_S);
    json_decref(h_api(&e, "$JS.API.CONSUMER.INFO.TEST.d", ""));
    a = load(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.TEST.d"));
    envelope(a, "io.nats.jetstream.advisory.v1.max_deliver");
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,stream,consumer,stream_seq,deliveries,domain");
    cr_assert_eq(i_(a, "stream_seq"), 1);
    cr_assert_eq(i_(a, "deliveries"), 1);
    json_decref(a);
    json_decref(h_api(&e, "$JS.API.CONSUMER.DELETE.TEST.d", ""));
    a = load(h_last(&e, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.TEST.d"));
    cr_assert_str_eq(s_(a, "action"), "delete");
    cr_assert_str_eq(s_(a, "domain"), "hub");
    json_decref(a);
    h_close(&e);
}

/* Pinned / unpinned (admin, then TTL "timeout") in Go's field order: account, stream,
 * consumer, domain, group, pinned_id / reason. */
Test(consumer_advisory, pinned_and_unpinned) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPinned",
                    "the pinned and unpinned advisories (admin unpin, TTL expiry)");
    h_env e;
    open_domain(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_t *r = h_consumer(&e, "TEST", "C",
                           "{\"durable_name\":\"C\",\"priority_groups\":[\"A\"],\"priority_policy\":\"pinned_client\","
                           "\"ack_policy\":\"explicit\",\"priority_timeout\":2000000000}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    for (int i = 0; i < 4; i++) h_pub(&e, "foo.x", "m");
    h_inbound(&e, "$JS.API.CONSUMER.MSG.NEXT.TEST.C", "ONE", NULL, "{\"batch\":1,\"expires\":60000000000,\"group\":\"A\"}");
    cr_assert_eq(h_count(&e, "ONE"), 1);
    const char *pinned = "$JS.EVENT.ADVISORY.CONSUMER.PINNED.TEST.C";
    const char *unpinned = "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.TEST.C";
    json_t *a = load(h_last(&e, pinned));
    envelope(a, "io.nats.jetstream.advisory.v1.consumer_group_pinned");
    char k[256];
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,account,stream,consumer,domain,group,pinned_id");
    cr_assert_str_eq(s_(a, "account"), "$G");
    cr_assert_str_eq(s_(a, "group"), "A");
    cr_assert_str_eq(s_(a, "pinned_id"), h_hval(h_last(&e, "ONE"), "Nats-Pin-Id"));
    json_decref(a);
    r = h_api(&e, "$JS.API.CONSUMER.UNPIN.TEST.C", "{\"group\":\"A\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    a = load(h_last(&e, unpinned));
    envelope(a, "io.nats.jetstream.advisory.v1.consumer_group_unpinned");
    keys(a, k, sizeof k);
    cr_assert_str_eq(k, "type,id,timestamp,account,stream,consumer,domain,group,reason");
    cr_assert_str_eq(s_(a, "reason"), "admin");
    cr_assert_str_eq(s_(a, "group"), "A");
    json_decref(a);
    /* A new pin, then the TTL runs out. */
    h_inbound(&e, "$JS.API.CONSUMER.MSG.NEXT.TEST.C", "TWO", NULL, "{\"batch\":1,\"expires\":60000000000,\"group\":\"A\"}");
    cr_assert_eq(h_count(&e, "TWO"), 1);
    cr_assert_eq(h_count(&e, pinned), 2);
    h_advance(&e, 3 * H_S);
    cr_assert_eq(h_count(&e, unpinned), 2);
    a = load(h_last(&e, unpinned));
    cr_assert_str_eq(s_(a, "reason"), "timeout");
    cr_assert_str_eq(s_(a, "group"), "A");
    cr_assert_str_eq(s_(a, "domain"), "hub");
    json_decref(a);
    h_close(&e);
}
