/* Per-account JetStream through js.h with a fake host: dispatch by account, isolation of
 * streams and consumers, publishes in the right account, accounts without JetStream, account
 * limits and their errors, account info, recovery of every account.
 * Ports cases of Go nats-server v2.14.5 server/jetstream_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/gotest.h"
#include "js_harness.h"

#define UNL -1, -1, -1, -1, -1, -1, -1, false

static const js_account_config accs[] = {
    {"A", true, {UNL}},
    {"B", true, {1LL << 30, 1LL << 40, 10, 1000, -1, -1, -1, false}},
    {"C", false, {UNL}},
    {"$G", false, {UNL}},
    /* D: tight limits: 1 stream, 1 consumer, 1000 bytes of memory, 4000 of file. */
    {"D", true, {1000, 4000, 1, 1, -1, -1, -1, false}},
    /* E: max_bytes required, stream bytes bounded, max_ack_pending 50. */
    {"E", true, {-1, -1, -1, -1, 50, 500, 2000, true}},
    /* M: Go TestJetStreamSystemLimits' account (10 streams, 10 consumers, 1 MB memory). */
    {"M", true, {1 << 20, -1, 10, 10, -1, -1, -1, false}},
    /* L: Go TestJetStreamStreamStorageTrackingAndLimits' limits. */
    {"L", true, {8192, -1, -1, -1, -1, -1, -1, false}},
};
#define NACCS (sizeof accs / sizeof accs[0])

static jh H;
static void setup(void) { jh_open_accounts(&H, accs, NACCS, "SYS"); }
static void teardown(void) { jh_close(&H); }

TestSuite(js_accounts, .init = setup, .fini = teardown);

static json_t *req_in(const char *acc, const char *subj, const char *body) {
    H.account = acc;
    json_t *r = jh_req(&H, subj, body);
    H.account = NULL;
    return r;
}

static json_t *pub_in(const char *acc, const char *subj, const char *data) {
    H.account = acc;
    json_t *r = jh_pub(&H, subj, NULL, data);
    H.account = NULL;
    return r;
}

static int interest_in(const char *acc, const char *subj) {
    H.account = acc;
    int n = jh_interest(&H, subj);
    H.account = NULL;
    return n;
}

static void create_in(const char *acc, const char *name, const char *cfg) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", name);
    json_t *r = req_in(acc, subj, cfg);
    cr_assert(r, "no reply to create in %s", acc);
    cr_assert(!jh_has(r, "error"), "create in %s: %s", acc, jh_str(r, "error.description"));
    json_decref(r);
}

Test(js_accounts, interest_per_account) {
    /* Enabled accounts: API, acks, flow control; the others only the API (for their 10039). */
    cr_assert_eq(interest_in("A", "$JS.API.>"), 1);
    cr_assert_eq(interest_in("A", "$JS.ACK.>"), 1);
    cr_assert_eq(interest_in("B", "$JS.FC.>"), 1);
    cr_assert_eq(interest_in("C", "$JS.API.>"), 1);
    cr_assert_eq(interest_in("C", "$JS.ACK.>"), 0);
    cr_assert_eq(interest_in("$G", "$JS.API.>"), 1);
    cr_assert_eq(interest_in("$G", "$JS.ACK.>"), 0);
    create_in("A", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"],\"storage\":\"memory\"}");
    cr_assert_eq(interest_in("A", "foo"), 1);
    cr_assert_eq(interest_in("B", "foo"), 0);
}

Test(js_accounts, same_stream_name_isolated) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMultipleAccountsBasics",
                    "no config reload of the accounts' jetstream (enable/disable/limits)");
    create_in("A", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    create_in("B", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"],\"storage\":\"memory\"}");
    for (int i = 0; i < 3; i++) json_decref(pub_in("A", "foo", "hello"));
    json_t *ack = pub_in("B", "foo", "hi");
    cr_assert_str_eq(jh_str(ack, "stream"), "S");
    cr_assert_eq(jh_int(ack, "seq"), 1);
    json_decref(ack);
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].acc, "B", "the PubAck goes out in B");
    json_t *a = req_in("A", "$JS.API.STREAM.INFO.S", NULL);
    json_t *b = req_in("B", "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_int(a, "state.messages"), 3);
    cr_assert_str_eq(jh_str(a, "config.storage"), "file");
    cr_assert_eq(jh_int(b, "state.messages"), 1);
    cr_assert_str_eq(jh_str(b, "config.storage"), "memory");
    json_decref(a);
    json_decref(b);
    /* B deleting its S leaves A's. */
    json_t *d = req_in("B", "$JS.API.STREAM.DELETE.S", NULL);
    cr_assert(!jh_has(d, "error"));
    json_decref(d);
    json_t *n = req_in("B", "$JS.API.STREAM.NAMES", NULL);
    cr_assert_eq(jh_int(n, "total"), 0);
    json_decref(n);
    n = req_in("A", "$JS.API.STREAM.NAMES", NULL);
    cr_assert_eq(jh_int(n, "total"), 1);
    cr_assert_str_eq(jh_str(n, "streams.0"), "S");
    json_decref(n);
    /* A stream of A is not found from another account. */
    json_t *i = req_in("B", "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_err_code(i), 10059);
    json_decref(i);
}

Test(js_accounts, consumers_and_deliveries_in_account) {
    create_in("A", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    create_in("B", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    json_t *c = req_in("A", "$JS.API.CONSUMER.CREATE.S.d",
                       "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"d\","
                       "\"ack_policy\":\"explicit\"}}");
    cr_assert(!jh_has(c, "error"), "%s", jh_str(c, "error.description"));
    json_decref(c);
    json_t *i = req_in("B", "$JS.API.CONSUMER.INFO.S.d", NULL);
    cr_assert_eq(jh_err_code(i), 10014, "A's consumer is not B's");
    json_decref(i);
    json_decref(pub_in("A", "foo", "m1"));
    H.account = "A";
    jh_inbound(&H, "$JS.API.CONSUMER.MSG.NEXT.S.d", "_INBOX.pull", NULL, "1", 1);
    js_server_flush(H.js);
    H.account = NULL;
    const jh_msg *m = jh_last_on(&H, "_INBOX.pull");
    cr_assert(m, "no delivery");
    cr_assert_str_eq(m->acc, "A");
    cr_assert_str_eq(m->data, "m1");
    cr_assert(m->reply && !strncmp(m->reply, "$JS.ACK.S.d.", 12));
    /* The ack is taken in A. */
    H.account = "A";
    char reply[256];
    snprintf(reply, sizeof reply, "%s", m->reply);
    jh_inbound(&H, reply, NULL, NULL, "+ACK", 4);
    js_server_flush(H.js);
    H.account = NULL;
    i = req_in("A", "$JS.API.CONSUMER.INFO.S.d", NULL);
    cr_assert_eq(jh_int(i, "num_ack_pending"), 0);
    cr_assert_eq(jh_int(i, "ack_floor.stream_seq"), 1);
    json_decref(i);
}

Test(js_accounts, account_without_jetstream) {
    json_t *r = req_in("C", "$JS.API.INFO", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.account_info_response");
    cr_assert_eq(jh_err_code(r), 10039);
    cr_assert_str_eq(jh_str(r, "error.description"), "JetStream not enabled for account");
    cr_assert_eq(jh_int(r, "error.code"), 503);
    json_decref(r);
    r = req_in("C", "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\"}");
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.stream_create_response");
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    r = req_in("$G", "$JS.API.CONSUMER.INFO.S.d", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.consumer_info_response");
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    r = req_in("C", "$JS.API.STREAM.LEADER.STEPDOWN.S", NULL);
    cr_assert_eq(jh_err_code(r), 10010, "clustering is checked first");
    json_decref(r);
    r = req_in("C", "$JS.API.NOPE", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.system_response");
    cr_assert_eq(jh_err_code(r), 10003);
    json_decref(r);
    /* Replies go out in C; nothing is counted or created. */
    cr_assert_str_eq(H.msgs[H.nmsgs - 1].acc, "C");
    cr_assert_eq(interest_in("C", "S"), 0);
    js_usage u;
    js_server_usage(H.js, &u);
    cr_assert_eq(u.accounts, 6);
    /* The system account's clients: account info, and a system_response for the rest. */
    r = req_in("SYS", "$JS.API.INFO", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.account_info_response");
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    r = req_in("SYS", "$JS.API.STREAM.NAMES", NULL);
    cr_assert_str_eq(jh_str(r, "type"), "io.nats.jetstream.api.v1.system_response");
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    cr_assert_eq(interest_in("SYS", "$JS.ACK.>"), 0);
    cr_assert_eq(u.api_total, 0);
    cr_assert_eq(u.streams, 0);
}

Test(js_accounts, account_info_limits_and_usage) {
    create_in("B", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"],\"storage\":\"memory\","
                        "\"max_bytes\":1000}");
    json_decref(pub_in("B", "foo", "hello"));
    json_t *r = req_in("B", "$JS.API.INFO", NULL);
    cr_assert(!jh_has(r, "error"));
    cr_assert_eq(jh_int(r, "limits.max_memory"), 1LL << 30);
    cr_assert_eq(jh_int(r, "limits.max_storage"), 1LL << 40);
    cr_assert_eq(jh_int(r, "limits.max_streams"), 10);
    cr_assert_eq(jh_int(r, "limits.max_consumers"), 1000);
    cr_assert_eq(jh_int(r, "limits.max_ack_pending"), -1);
    cr_assert_eq(jh_int(r, "streams"), 1);
    cr_assert(jh_int(r, "memory") > 0);
    cr_assert_eq(jh_int(r, "storage"), 0);
    cr_assert_eq(jh_int(r, "reserved_memory"), 1000);
    cr_assert_eq(jh_int(r, "api.total"), 1, "the create; a publish is no API call, INFO not yet");
    json_decref(r);
    /* A sees nothing of B's. */
    r = req_in("A", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "streams"), 0);
    cr_assert_eq(jh_int(r, "memory"), 0);
    cr_assert_eq(jh_int(r, "limits.max_streams"), -1);
    cr_assert_eq(jh_int(r, "api.total"), 0);
    json_decref(r);
}

Test(js_accounts, max_streams) {
    create_in("D", "S1", "{\"name\":\"S1\",\"storage\":\"memory\",\"max_bytes\":100}");
    json_t *r = req_in("D", "$JS.API.STREAM.CREATE.S2", "{\"name\":\"S2\",\"storage\":\"memory\"}");
    cr_assert_eq(jh_err_code(r), 10027);
    cr_assert_str_eq(jh_str(r, "error.description"), "maximum number of streams reached");
    json_decref(r);
    /* The same config again is not a new stream. */
    create_in("D", "S1", "{\"name\":\"S1\",\"storage\":\"memory\",\"max_bytes\":100}");
}

Test(js_accounts, storage_reservations) {
    json_t *r = req_in("D", "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"storage\":\"memory\","
                                                      "\"max_bytes\":2000}");
    cr_assert_eq(jh_err_code(r), 10028);
    json_decref(r);
    r = req_in("D", "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_bytes\":5000}");
    cr_assert_eq(jh_err_code(r), 10047);
    cr_assert_str_eq(jh_str(r, "error.description"), "insufficient storage resources available");
    json_decref(r);
    r = req_in("D", "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"max_consumers\":5}");
    cr_assert_eq(jh_err_code(r), 10026, "stream max_consumers above the account's");
    json_decref(r);
}

Test(js_accounts, max_consumers) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMaxConsumers",
                    "the account's max_consumers here; the stream's is covered elsewhere");
    create_in("D", "S", "{\"name\":\"S\",\"storage\":\"memory\"}");
    json_t *r = req_in("D", "$JS.API.CONSUMER.CREATE.S.a",
                       "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"a\"}}");
    cr_assert(!jh_has(r, "error"));
    json_decref(r);
    r = req_in("D", "$JS.API.CONSUMER.CREATE.S.b",
               "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"b\"}}");
    cr_assert_eq(jh_err_code(r), 10026);
    cr_assert_str_eq(jh_str(r, "error.description"), "maximum consumers limit reached");
    json_decref(r);
}

Test(js_accounts, publish_over_account_memory) {
    create_in("D", "S", "{\"name\":\"S\",\"storage\":\"memory\",\"subjects\":[\"m\"]}");
    char big[700];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    json_t *a = pub_in("D", "m", big);
    cr_assert(!jh_has(a, "error"), "first fits: %s", jh_str(a, "error.description"));
    json_decref(a);
    a = pub_in("D", "m", big);
    cr_assert_eq(jh_err_code(a), 10002);
    cr_assert_str_eq(jh_str(a, "error.description"), "resource limits exceeded for account");
    cr_assert_str_eq(jh_str(a, "stream"), "S");
    json_decref(a);
}

Test(js_accounts, max_bytes_required_and_stream_bytes) {
    json_t *r = req_in("E", "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\"}");
    cr_assert_eq(jh_err_code(r), 10113);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "account requires a stream config to have max bytes set");
    json_decref(r);
    r = req_in("E", "$JS.API.STREAM.CREATE.S",
               "{\"name\":\"S\",\"storage\":\"memory\",\"max_bytes\":501}");
    cr_assert_eq(jh_err_code(r), 10122);
    json_decref(r);
    create_in("E", "S", "{\"name\":\"S\",\"storage\":\"memory\",\"max_bytes\":500}");
    create_in("E", "F", "{\"name\":\"F\",\"max_bytes\":2000}");
    /* max_ack_pending: the account's bounds the default and the config. */
    r = req_in("E", "$JS.API.CONSUMER.CREATE.S.d",
               "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"d\","
               "\"ack_policy\":\"explicit\"}}");
    cr_assert_eq(jh_int(r, "config.max_ack_pending"), 50);
    json_decref(r);
    r = req_in("E", "$JS.API.CONSUMER.CREATE.S.e",
               "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"e\","
               "\"ack_policy\":\"explicit\",\"max_ack_pending\":51}}");
    cr_assert_eq(jh_err_code(r), 10121);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "consumer max ack pending exceeds system limit of 50");
    json_decref(r);
}

Test(js_accounts, recovery_of_every_account) {
    create_in("A", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    create_in("B", "S", "{\"name\":\"S\",\"subjects\":[\"bar\"]}");
    json_decref(pub_in("A", "foo", "1"));
    json_decref(pub_in("B", "bar", "1"));
    json_decref(pub_in("B", "bar", "2"));
    jh_restart(&H);
    json_t *a = req_in("A", "$JS.API.STREAM.INFO.S", NULL);
    json_t *b = req_in("B", "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_int(a, "state.messages"), 1);
    cr_assert_str_eq(jh_str(a, "config.subjects.0"), "foo");
    cr_assert_eq(jh_int(b, "state.messages"), 2);
    cr_assert_str_eq(jh_str(b, "config.subjects.0"), "bar");
    json_decref(a);
    json_decref(b);
    cr_assert_eq(interest_in("A", "foo"), 1);
    cr_assert_eq(interest_in("B", "bar"), 1);
    cr_assert_eq(interest_in("A", "bar"), 0);
}

Test(js_accounts, global_only_when_no_accounts) {
    jh_close(&H);
    jh_open(&H);
    cr_assert_eq(interest_in(NULL, "$JS.ACK.>"), 1);
    json_t *r = req_in(NULL, "$JS.API.INFO", NULL);
    cr_assert(!jh_has(r, "error"));
    json_decref(r);
    /* An account that was never configured gets no JetStream. */
    r = req_in("X", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
}

static json_int_t acc_memory(const char *acc) {
    json_t *r = req_in(acc, "$JS.API.INFO", NULL);
    json_int_t m = jh_int(r, "memory");
    json_decref(r);
    return m;
}

static json_int_t stream_bytes(const char *acc, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    json_t *r = req_in(acc, subj, NULL);
    json_int_t b = jh_int(r, "state.bytes");
    json_decref(r);
    return b;
}

Test(js_accounts, storage_tracking_and_limits) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamStreamStorageTrackingAndLimits");
    create_in("L", "LIMITS", "{\"name\":\"LIMITS\",\"storage\":\"memory\","
                             "\"retention\":\"workqueue\"}");
    for (int i = 0; i < 100; i++) json_decref(pub_in("L", "LIMITS", "Hello World!"));
    json_int_t b1 = stream_bytes("L", "LIMITS");
    cr_assert_gt(b1, 0);
    cr_assert_eq(acc_memory("L"), b1);
    json_t *r = req_in("L", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "streams"), 1);
    json_decref(r);
    create_in("L", "NUM22", "{\"name\":\"NUM22\",\"storage\":\"memory\","
                            "\"retention\":\"workqueue\"}");
    for (int i = 0; i < 100; i++) json_decref(pub_in("L", "NUM22", "Hello World!"));
    cr_assert_eq(acc_memory("L"), b1 + stream_bytes("L", "NUM22"));
    json_decref(req_in("L", "$JS.API.STREAM.DELETE.NUM22", NULL));
    cr_assert_eq(acc_memory("L"), b1);
    /* Drain the work queue: the account's usage goes back to 0. */
    r = req_in("L", "$JS.API.CONSUMER.CREATE.LIMITS.WQ",
               "{\"stream_name\":\"LIMITS\",\"config\":{\"durable_name\":\"WQ\","
               "\"ack_policy\":\"explicit\"}}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    H.account = "L";
    for (int i = 0; i < 100; i++) {
        jh_inbound(&H, "$JS.API.CONSUMER.MSG.NEXT.LIMITS.WQ", "_INBOX.wq", NULL, "", 0);
        js_server_flush(H.js);
        const jh_msg *m = jh_last_on(&H, "_INBOX.wq");
        cr_assert(m && m->reply, "no work item %d", i);
        char ack[256];
        snprintf(ack, sizeof ack, "%s", m->reply);
        jh_clear(&H);
        jh_inbound(&H, ack, NULL, NULL, "", 0);
        js_server_flush(H.js);
    }
    H.account = NULL;
    cr_assert_eq(acc_memory("L"), 0);
    /* Twice as many as before: the account's limit stops them with an error. */
    const char *err = NULL;
    json_t *last = NULL;
    for (int i = 0; i < 200 && !err; i++) {
        json_decref(last);
        last = pub_in("L", "LIMITS", "The quick brown fox jumped over the...");
        if (jh_has(last, "error")) err = jh_str(last, "error.description");
    }
    cr_assert(err, "no error when exceeding the account limits");
    cr_assert_eq(jh_err_code(last), 10002);
    json_decref(last);
    cr_assert_leq(acc_memory("L"), 8192);
}

Test(js_accounts, reload_accounts) {
    create_in("A", "S", "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    json_decref(pub_in("A", "foo", "x"));
    static const js_account_config next[] = {
        {"A", false, {UNL}},
        {"B", true, {-1, -1, 100, 4000, -1, -1, -1, false}},
        {"C", true, {UNL}},
    };
    js_server_reload_accounts(H.js, next, 3, "SYS");
    /* A stopped: no stream subjects, acks; its requests get 10039; its files stay. */
    cr_assert_eq(interest_in("A", "foo"), 0);
    cr_assert_eq(interest_in("A", "$JS.ACK.>"), 0);
    cr_assert_eq(interest_in("A", "$JS.API.>"), 1);
    json_t *r = req_in("A", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    /* C started; B has its new limits; D and E, no longer configured, lost JetStream. */
    cr_assert_eq(interest_in("C", "$JS.ACK.>"), 1);
    r = req_in("C", "$JS.API.INFO", NULL);
    cr_assert(!jh_has(r, "error"));
    json_decref(r);
    r = req_in("B", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "limits.max_streams"), 100);
    json_decref(r);
    r = req_in("D", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
    /* A again: its stream is recovered from disk. */
    js_server_reload_accounts(H.js, accs, NACCS, "SYS");
    cr_assert_eq(interest_in("A", "foo"), 1);
    r = req_in("A", "$JS.API.STREAM.INFO.S", NULL);
    cr_assert_eq(jh_int(r, "state.messages"), 1);
    json_decref(r);
    r = req_in("C", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_err_code(r), 10039);
    json_decref(r);
}

static void reserved_is(const char *acc, json_int_t want) {
    json_t *r = req_in(acc, "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "reserved_memory"), want);
    cr_assert_eq(jh_int(r, "reserved_storage"), want);
    json_decref(r);
}

static void update_in(const char *acc, const char *name, const char *cfg) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.UPDATE.%s", name);
    json_t *r = req_in(acc, subj, cfg);
    cr_assert(!jh_has(r, "error"), "update %s: %s", name, jh_str(r, "error.description"));
    json_decref(r);
}

Test(js_accounts, usage_no_reservation) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamUsageNoReservation",
                    "R1 only (no clustered R3 run)");
    create_in("B", "FILE", "{\"name\":\"FILE\",\"storage\":\"file\"}");
    create_in("B", "MEM", "{\"name\":\"MEM\",\"storage\":\"memory\"}");
    json_t *r = req_in("B", "$JS.API.INFO", NULL);
    cr_assert_eq(jh_int(r, "streams"), 2);
    json_decref(r);
    reserved_is("B", 0);
}

Test(js_accounts, usage_reservation_negative_max_bytes) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamUsageReservationNegativeMaxBytes",
                    "R1 only; the account's reservations (the server's are not in js_usage)");
    create_in("B", "FILE", "{\"name\":\"FILE\",\"storage\":\"file\",\"max_bytes\":1024}");
    create_in("B", "MEM", "{\"name\":\"MEM\",\"storage\":\"memory\",\"max_bytes\":1024}");
    reserved_is("B", 1024);
    update_in("B", "FILE", "{\"name\":\"FILE\",\"storage\":\"file\"}");
    update_in("B", "MEM", "{\"name\":\"MEM\",\"storage\":\"memory\"}");
    reserved_is("B", 0);
    update_in("B", "FILE", "{\"name\":\"FILE\",\"storage\":\"file\",\"max_bytes\":512}");
    update_in("B", "MEM", "{\"name\":\"MEM\",\"storage\":\"memory\",\"max_bytes\":512}");
    reserved_is("B", 512);
    update_in("B", "FILE", "{\"name\":\"FILE\",\"storage\":\"file\",\"max_bytes\":-1}");
    update_in("B", "MEM", "{\"name\":\"MEM\",\"storage\":\"memory\",\"max_bytes\":-1}");
    reserved_is("B", 0);
}

static int add_consumers(const char *acc, const char *stream, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char subj[128], body[256];
        snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s.O%d", stream, i);
        snprintf(body, sizeof body,
                 "{\"stream_name\":\"%s\",\"config\":{\"durable_name\":\"O%d\","
                 "\"ack_policy\":\"explicit\"}}", stream, i);
        json_t *r = req_in(acc, subj, body);
        if (!jh_has(r, "error")) ok++;
        else cr_assert_eq(jh_err_code(r), 10026, "%s", jh_str(r, "error.description"));
        json_decref(r);
    }
    return ok;
}

Test(js_accounts, system_limits) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSystemLimits",
                    "account limits from the config and a reload (no EnableJetStream calls, no "
                    "server-wide reservation queries); no replicas case (R>1 is refused here)");
    for (int i = 0; i < 10; i++) {
        char name[16], cfg[128];
        snprintf(name, sizeof name, "%d", i);
        snprintf(cfg, sizeof cfg, "{\"name\":\"%d\",\"storage\":\"memory\",\"subjects\":[\"s.%d\"]}",
                 i, i);
        create_in("M", name, cfg);
    }
    json_t *r = req_in("M", "$JS.API.STREAM.CREATE.22",
                       "{\"name\":\"22\",\"storage\":\"memory\"}");
    cr_assert_eq(jh_err_code(r), 10027);
    json_decref(r);
    for (int i = 0; i < 10; i++) {
        char subj[64];
        snprintf(subj, sizeof subj, "$JS.API.STREAM.DELETE.%d", i);
        json_decref(req_in("M", subj, NULL));
    }
    r = req_in("M", "$JS.API.STREAM.CREATE.22",
               "{\"name\":\"22\",\"storage\":\"memory\",\"max_bytes\":2097152}");
    cr_assert_eq(jh_err_code(r), 10028, "over the account's memory");
    json_decref(r);
    /* The account's max_consumers. */
    create_in("M", "22", "{\"name\":\"22\",\"storage\":\"memory\",\"subjects\":[\"foo.22\"]}");
    cr_assert_eq(add_consumers("M", "22", 11), 10);
    json_decref(req_in("M", "$JS.API.STREAM.DELETE.22", NULL));
    /* The stream's when lower. */
    create_in("M", "22", "{\"name\":\"22\",\"storage\":\"memory\",\"subjects\":[\"foo.22\"],"
                         "\"max_consumers\":5}");
    cr_assert_eq(add_consumers("M", "22", 6), 5);
    json_decref(req_in("M", "$JS.API.STREAM.DELETE.22", NULL));
    /* The account's when lowered below the stream's. */
    create_in("M", "22", "{\"name\":\"22\",\"storage\":\"memory\",\"subjects\":[\"foo.22\"],"
                         "\"max_consumers\":10}");
    js_account_config lowered[NACCS];
    memcpy(lowered, accs, sizeof lowered);
    for (size_t i = 0; i < NACCS; i++)
        if (!strcmp(lowered[i].name, "M")) lowered[i].limits.max_consumers = 5;
    js_server_reload_accounts(H.js, lowered, NACCS, "SYS");
    cr_assert_eq(add_consumers("M", "22", 6), 5);
}
