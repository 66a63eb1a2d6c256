/* Consumer state: durable recovery across restarts (file streams), interest and workqueue
 * retention removal, purge.  Ports cases of Go nats-server v2.14.5
 * server/jetstream_consumer_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

static uint64_t stream_msgs(h_env *e, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    json_t *r = h_api(e, subj, "");
    uint64_t n = (uint64_t)jint(r, "state.messages");
    json_decref(r);
    return n;
}

Test(consumer_state, durable_survives_restart) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerSurvivesRestart",
                    "single server restart of a file stream");
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDurableReconnectWithOnlyPending",
                    "pending redelivered after restart, pull consumer");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "file", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc",
                           "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\",\"ack_wait\":2000000000,"
                           "\"description\":\"d\"}"));
    for (int i = 1; i <= 4; i++) {
        char d[16];
        snprintf(d, sizeof d, "m%d", i);
        h_pub(&e, "foo.a", d);
    }
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":3}"));
    cr_assert_eq(h_count(&e, inbox), 3);
    ack(&e, h_nth(&e, inbox, 0), "+ACK");
    ack(&e, h_nth(&e, inbox, 2), "+ACK");
    json_t *before = h_info(&e, "TEST", "dlc");
    h_reopen(&e);
    json_t *after = h_info(&e, "TEST", "dlc");
    cr_assert(!json_object_get(after, "error"), "%s", json_dumps(after, 0));
    cr_assert_str_eq(json_string_value(json_object_get(after, "created")),
                     json_string_value(json_object_get(before, "created")));
    cr_assert(json_equal(json_object_get(after, "config"), json_object_get(before, "config")));
    cr_assert_eq(jint(after, "delivered.consumer_seq"), 3);
    cr_assert_eq(jint(after, "delivered.stream_seq"), 3);
    cr_assert_eq(jint(after, "ack_floor.consumer_seq"), 1);
    cr_assert_eq(jint(after, "ack_floor.stream_seq"), 1);
    cr_assert_eq(jint(after, "num_ack_pending"), 1);
    cr_assert_eq(jint(after, "num_pending"), 1);
    json_decref(before);
    json_decref(after);
    /* Next pull gets m4; m2 comes back after the ack wait; m1/m3 never again. */
    h_clear(&e);
    h_advance(&e, 1 * H_S);
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":10,\"expires\":10000000000}"));
    cr_assert_eq(h_count(&e, inbox), 1);
    cr_assert_str_eq(h_nth(&e, inbox, 0)->data, "m4");
    h_advance(&e, 1500 * H_MS);
    cr_assert_eq(h_count(&e, inbox), 2);
    cr_assert_str_eq(h_nth(&e, inbox, 1)->data, "m2");
    ack(&e, h_nth(&e, inbox, 0), "+ACK");
    ack(&e, h_nth(&e, inbox, 1), "+ACK");
    h_advance(&e, 9 * H_S);
    cr_assert_eq(h_count(&e, inbox), 3); /* 408 only */
    cr_assert(h_status(h_last(&e, inbox), "NATS/1.0 408 Request Timeout"));
    h_reopen(&e);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 4);
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    json_decref(r);
    /* Config and state live in the LMDB metadata store (storaged/sd_meta.h), not in files
     * next to the stream. */
    char p[512];
    snprintf(p, sizeof p, "%s/jetstream/meta.lmdb/data.mdb", e.dir);
    struct stat sb;
    cr_assert_eq(stat(p, &sb), 0, "%s", p);
    snprintf(p, sizeof p, "%s/jetstream/$G/streams/TEST/obs", e.dir);
    cr_assert_neq(stat(p, &sb), 0);
    h_close(&e);
}

Test(consumer_state, deleted_consumer_gone_after_restart) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerDeleteAndServerRestart");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "file", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc", "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}"));
    json_decref(h_api(&e, "$JS.API.CONSUMER.DELETE.TEST.dlc", ""));
    h_reopen(&e);
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    h_close(&e);
}

Test(consumer_state, workqueue_removes_acked) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerCleanupWithRetentionPolicy",
                    "workqueue ack removal only");
    h_env e;
    h_open(&e);
    h_stream(&e, "WQ", "[\"wq.>\"]", "memory", "\"retention\":\"workqueue\"");
    json_decref(h_consumer(&e, "WQ", "w", "{\"durable_name\":\"w\",\"ack_policy\":\"explicit\"}"));
    for (int i = 0; i < 3; i++) h_pub(&e, "wq.a", "job");
    cr_assert_eq(stream_msgs(&e, "WQ"), 3);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "WQ", "w", "{\"batch\":3}"));
    ack(&e, h_nth(&e, inbox, 1), "+ACK");
    cr_assert_eq(stream_msgs(&e, "WQ"), 2);
    ack(&e, h_nth(&e, inbox, 0), "+ACK");
    ack(&e, h_nth(&e, inbox, 2), "+TERM");
    cr_assert_eq(stream_msgs(&e, "WQ"), 0);
    h_close(&e);
}

Test(consumer_state, interest_needs_all_consumers) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerMultipleSubjectsAck",
                    "interest retention with two consumers");
    h_env e;
    h_open(&e);
    h_stream(&e, "IN", "[\"in.>\"]", "memory", "\"retention\":\"interest\"");
    json_decref(h_consumer(&e, "IN", "a", "{\"durable_name\":\"a\",\"ack_policy\":\"explicit\"}"));
    json_decref(h_consumer(&e, "IN", "b", "{\"durable_name\":\"b\",\"ack_policy\":\"all\"}"));
    h_pub(&e, "in.x", "1");
    h_pub(&e, "in.x", "2");
    cr_assert_eq(stream_msgs(&e, "IN"), 2);
    char ia[64], ib[64];
    snprintf(ia, sizeof ia, "%s", h_pull(&e, "IN", "a", "{\"batch\":2}"));
    snprintf(ib, sizeof ib, "%s", h_pull(&e, "IN", "b", "{\"batch\":2}"));
    ack(&e, h_nth(&e, ia, 0), "+ACK");
    cr_assert_eq(stream_msgs(&e, "IN"), 2);
    ack(&e, h_nth(&e, ib, 1), "+ACK"); /* ack all: covers 1 and 2 */
    cr_assert_eq(stream_msgs(&e, "IN"), 1);
    ack(&e, h_nth(&e, ia, 1), "+ACK");
    cr_assert_eq(stream_msgs(&e, "IN"), 0);
    h_close(&e);
}

Test(consumer_state, purge_moves_consumer) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPurge",
                    "full purge only");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc", "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}"));
    for (int i = 0; i < 5; i++) h_pub(&e, "foo.a", "m");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":2}"));
    json_decref(h_api(&e, "$JS.API.STREAM.PURGE.TEST", ""));
    json_t *r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_pending"), 0);
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 5);
    cr_assert_eq(jint(r, "delivered.stream_seq"), 5);
    json_decref(r);
    h_pub(&e, "foo.a", "after");
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":1}"));
    cr_assert_str_eq(h_last(&e, inbox)->data, "after");
    h_close(&e);
}

Test(consumer_state, filtered_purge_drops_gone_pending) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPendingLowerThanStreamFirstSeq",
                    "pending dropped for purged messages");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "memory", NULL);
    json_decref(h_consumer(&e, "TEST", "dlc", "{\"durable_name\":\"dlc\",\"ack_policy\":\"explicit\"}"));
    const char *subs[] = {"foo.a", "foo.b", "foo.a", "foo.b"};
    for (int i = 0; i < 4; i++) h_pub(&e, subs[i], subs[i]);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dlc", "{\"batch\":4}"));
    cr_assert_eq(h_count(&e, inbox), 4);
    json_t *r = h_api(&e, "$JS.API.STREAM.PURGE.TEST", "{\"filter\":\"foo.a\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    json_decref(r);
    ack(&e, h_nth(&e, inbox, 1), "+ACK");
    ack(&e, h_nth(&e, inbox, 3), "+ACK");
    r = h_info(&e, "TEST", "dlc");
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 4);
    json_decref(r);
    h_close(&e);
}

Test(consumer_state, deliver_new_not_consuming_before_restart) {
    GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerDeliverNewNotConsumingBeforeRestart");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "file", NULL);
    e.no_interest[e.n_no++] = "in.";
    json_decref(h_consumer(&e, "TEST", "dur",
                           "{\"durable_name\":\"dur\",\"deliver_subject\":\"in.dur\",\"ack_policy\":\"explicit\","
                           "\"deliver_policy\":\"new\",\"filter_subject\":\"foo\"}"));
    for (int i = 0; i < 10; i++) h_pub(&e, "foo", "msg");
    json_t *r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "num_pending"), 10);
    json_decref(r);
    h_reopen(&e);
    r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "num_pending"), 10, "%s", json_dumps(r, 0));
    json_decref(r);
    e.n_no = 0;
    h_advance(&e, 300 * H_MS);
    cr_assert_eq(h_count(&e, "in.dur"), 10);
    for (int i = 0; i < 10; i++) ack(&e, h_nth(&e, "in.dur", (size_t)i), "+ACK");
    r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "num_pending"), 0);
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    json_decref(r);
    h_close(&e);
}

Test(consumer_state, corrupt_meta_not_recovered) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerDeleteAndServerRestart",
                    "a consumer whose config record fails its checksum is skipped on recovery");
    h_env e;
    h_open(&e);
    h_stream(&e, "TEST", "[\"foo\"]", "file", NULL);
    json_decref(h_consumer(&e, "TEST", "ok", "{\"durable_name\":\"ok\"}"));
    json_decref(h_consumer(&e, "TEST", "bad", "{\"durable_name\":\"bad\"}"));
    js_server_close(e.js);
    /* A flipped bit in the config record (LMDB, checksummed per record). */
    char p[512];
    snprintf(p, sizeof p, "%s/jetstream/meta.lmdb/data.mdb", e.dir);
    FILE *f = fopen(p, "r+b");
    cr_assert(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    /* every copy: LMDB may keep older versions of the record in pages not reused yet */
    int hits = 0;
    for (char *hit = buf; (hit = memmem(hit, n - (size_t)(hit - buf), "{\"name\":\"bad\"", 13)); hit += 13, hits++) {
        fseek(f, hit - buf + 10, SEEK_SET);
        fputc(hit[10] ^ 1, f);
    }
    cr_assert(hits > 0);
    fclose(f);
    e.js = NULL;
    h_reopen(&e);
    json_t *r = h_info(&e, "TEST", "ok");
    cr_assert_null(json_object_get(r, "error"));
    json_decref(r);
    r = h_info(&e, "TEST", "bad");
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    h_close(&e);
}
