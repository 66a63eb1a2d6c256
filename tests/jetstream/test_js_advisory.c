/* JetStream advisories of the stream side (storaged/js/js_advisory.c, js_snapshot.c,
 * js_batch.c, js_stream.c, js_server.c) through js.h with the fake host: subject, type and
 * fields as Go nats-server v2.14.5 server/jetstream_events.go defines them, sent only when
 * someone listens (publishAdvisory). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "js_harness.h"

static jh H;
static void setup(void) { jh_open(&H); }
static void teardown(void) { jh_close(&H); }

TestSuite(js_advisory, .init = setup, .fini = teardown);

static json_t *load(const jh_msg *m) {
    cr_assert_not_null(m);
    json_error_t e;
    json_t *o = json_loads(m->data, 0, &e);
    cr_assert_not_null(o, "not JSON: %s", m->data);
    return o;
}

/* The TypedEvent envelope: type, a 22-character NUID, an RFC 3339 UTC timestamp. */
static void envelope(json_t *a, const char *type) {
    cr_assert_str_eq(jh_str(a, "type"), type);
    cr_assert_eq(strlen(jh_str(a, "id")), 22);
    const char *ts = jh_str(a, "timestamp");
    cr_assert(ts && strlen(ts) >= 20 && ts[strlen(ts) - 1] == 'Z', "timestamp %s", ts);
}

/* Acks every snapshot chunk until the end marker; returns the archive (malloc'd). */
static char *take_snapshot(const char *deliver, size_t *len) {
    char *ar = NULL;
    *len = 0;
    size_t done = 0;
    for (int rounds = 0; rounds < 1000; rounds++) {
        bool end = false;
        for (; done < H.nmsgs; done++) {
            const jh_msg *m = &H.msgs[done];
            if (strcmp(m->subj, deliver)) continue;
            if (m->len == 0) {
                end = true;
                break;
            }
            ar = realloc(ar, *len + m->len);
            memcpy(ar + *len, m->data, m->len);
            *len += m->len;
            if (m->reply) {
                char rp[400];
                snprintf(rp, sizeof rp, "%s", m->reply);
                jh_inbound(&H, rp, NULL, NULL, "", 0);
                js_server_flush(H.js);
            }
        }
        if (end) return ar;
        H.now += 10 * 1000000LL;
        js_server_tick(H.js, H.now);
    }
    cr_assert_fail("snapshot did not finish");
    return NULL;
}

Test(js_advisory, snapshot_and_restore_advisories) {
    GO_TEST_PARTIAL("server/jetstream_cluster_2_test.go", "TestJetStreamClusterStreamAdvisories",
                    "single server: snapshot and restore create/complete advisories, no "
                    "leader-elected ones");
    H.cfg.domain = "hub";
    jh_restart(&H);
    jh_create(&H, "{\"name\":\"BAK\",\"subjects\":[\"bak.*\"],\"storage\":\"file\"}");
    for (int i = 0; i < 5; i++) json_decref(jh_pub(&H, "bak.x", NULL, "hello"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.SNAPSHOT.BAK", "{\"deliver_subject\":\"snap.d\"}");
    cr_assert(!jh_has(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    json_t *a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.BAK"));
    envelope(a, "io.nats.jetstream.advisory.v1.snapshot_create");
    cr_assert_str_eq(jh_str(a, "stream"), "BAK");
    cr_assert_eq(jh_int(a, "state.messages"), 5);
    cr_assert_eq(jh_int(a, "state.last_seq"), 5);
    cr_assert(json_is_null(json_object_get(a, "client")));
    cr_assert_str_eq(jh_str(a, "domain"), "hub");
    json_decref(a);
    size_t len;
    char *ar = take_snapshot("snap.d", &len);
    a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.BAK"));
    envelope(a, "io.nats.jetstream.advisory.v1.snapshot_complete");
    cr_assert_str_eq(jh_str(a, "stream"), "BAK");
    cr_assert(jh_has(a, "start") && jh_has(a, "end"));
    cr_assert(strcmp(jh_str(a, "start"), jh_str(a, "end")) <= 0);
    cr_assert_str_eq(jh_str(a, "end"), jh_str(a, "timestamp"));
    cr_assert(json_is_null(json_object_get(a, "client")));
    cr_assert_str_eq(jh_str(a, "domain"), "hub");
    json_decref(a);

    json_decref(jh_req(&H, "$JS.API.STREAM.DELETE.BAK", NULL));
    r = jh_req(&H, "$JS.API.STREAM.RESTORE.BAK",
               "{\"config\":{\"name\":\"BAK\",\"subjects\":[\"bak.*\"],\"storage\":\"file\"}}");
    cr_assert(!jh_has(r, "error"), "%s", json_dumps(r, 0));
    char deliver[256];
    snprintf(deliver, sizeof deliver, "%s", jh_str(r, "deliver_subject"));
    json_decref(r);
    a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.BAK"));
    envelope(a, "io.nats.jetstream.advisory.v1.restore_create");
    cr_assert_str_eq(jh_str(a, "stream"), "BAK");
    cr_assert(json_is_null(json_object_get(a, "client")));
    cr_assert_str_eq(jh_str(a, "domain"), "hub");
    json_decref(a);
    for (size_t off = 0; off < len; off += 1000) {
        jh_inbound(&H, deliver, "_INBOX.rst", NULL, ar + off, len - off < 1000 ? len - off : 1000);
        js_server_flush(H.js);
    }
    cr_assert_null(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.BAK"));
    jh_inbound(&H, deliver, "_INBOX.rst.end", NULL, "", 0);
    js_server_flush(H.js);
    const jh_msg *fin = jh_last_on(&H, "_INBOX.rst.end");
    cr_assert_not_null(fin);
    cr_assert_null(strstr(fin->data, "\"error\""), "%s", fin->data);
    a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.BAK"));
    envelope(a, "io.nats.jetstream.advisory.v1.restore_complete");
    cr_assert_str_eq(jh_str(a, "stream"), "BAK");
    cr_assert_eq(jh_int(a, "bytes"), (json_int_t)len);
    cr_assert(jh_has(a, "start") && jh_has(a, "end"));
    cr_assert(json_is_null(json_object_get(a, "client")));
    cr_assert_str_eq(jh_str(a, "domain"), "hub");
    json_decref(a);
    /* The restored stream was created (its CREATED advisory) before the restore completed. */
    size_t created = 0, complete = 0;
    for (size_t i = 0; i < H.nmsgs; i++) {
        if (!strcmp(H.msgs[i].subj, "$JS.EVENT.ADVISORY.STREAM.CREATED.BAK")) created = i + 1;
        if (!strcmp(H.msgs[i].subj, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.BAK")) complete = i + 1;
    }
    cr_assert(created && created < complete);
    free(ar);
}

/* A chunk without a reply subject ends the restore (Go: finish with the error), with the
 * complete advisory; no domain configured: none in the advisory; no stream. */
Test(js_advisory, restore_error_still_completes) {
    json_t *r = jh_req(&H, "$JS.API.STREAM.RESTORE.R",
                       "{\"config\":{\"name\":\"R\",\"subjects\":[\"r\"],\"storage\":\"file\"}}");
    cr_assert(!jh_has(r, "error"), "%s", json_dumps(r, 0));
    char deliver[256];
    snprintf(deliver, sizeof deliver, "%s", jh_str(r, "deliver_subject"));
    json_decref(r);
    cr_assert_eq(jh_count_on(&H, "$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.R"), 1);
    jh_inbound(&H, deliver, NULL, NULL, "efgh", 4);
    js_server_flush(H.js);
    json_t *a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.R"));
    envelope(a, "io.nats.jetstream.advisory.v1.restore_complete");
    cr_assert_eq(jh_int(a, "bytes"), 0);
    cr_assert_str_eq(jh_str(a, "stream"), "R");
    cr_assert(!jh_has(a, "domain"));
    json_decref(a);
    cr_assert_eq(jh_count_on(&H, "$JS.EVENT.ADVISORY.STREAM.CREATED.R"), 0);
}

/* Go publishAdvisory: nothing is sent without interest; the snapshot itself goes on. */
Test(js_advisory, no_interest_no_advisory) {
    GO_TEST_PARTIAL("server/jetstream_cluster_4_test.go",
                    "TestJetStreamClusterOnlyPublishAdvisoriesWhenInterest",
                    "single server: interest decides, no route propagation");
    H.no_interest = "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT";
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s\"],\"storage\":\"file\"}");
    json_decref(jh_pub(&H, "s", NULL, "x"));
    json_t *r = jh_req(&H, "$JS.API.STREAM.SNAPSHOT.S", "{\"deliver_subject\":\"snap.s\"}");
    cr_assert(!jh_has(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    size_t len;
    free(take_snapshot("snap.s", &len));
    cr_assert(len > 0);
    cr_assert_eq(jh_count_on(&H, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.S"), 0);
    cr_assert_eq(jh_count_on(&H, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.S"), 0);
}

/* ClientInfo.forAdvisory: the request's Nats-Request-Info without jwt and alts (the snapshot
 * advisories and the API audit). */
Test(js_advisory, client_info_from_request_header) {
    H.audit_interest = true;
    jh_create(&H, "{\"name\":\"C\",\"subjects\":[\"c\"],\"storage\":\"memory\"}");
    const char *hdr = "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"$G\",\"user\":\"bob\","
                      "\"jwt\":\"eyJ\",\"alts\":[\"x\"],\"kind\":\"Client\"}\r\n\r\n";
    const char *body = "{\"deliver_subject\":\"snap.c\"}";
    jh_inbound(&H, "$JS.API.STREAM.SNAPSHOT.C", "_INBOX.snap", hdr, body, strlen(body));
    js_server_flush(H.js);
    json_t *a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.C"));
    cr_assert_str_eq(jh_str(a, "client.user"), "bob");
    cr_assert_str_eq(jh_str(a, "client.acc"), "$G");
    cr_assert_str_eq(jh_str(a, "client.kind"), "Client");
    cr_assert(!jh_has(a, "client.jwt") && !jh_has(a, "client.alts"));
    json_decref(a);
    a = load(jh_last_on(&H, "$JS.EVENT.ADVISORY.API"));
    envelope(a, "io.nats.jetstream.advisory.v1.api_audit");
    cr_assert_str_eq(jh_str(a, "client.user"), "bob");
    cr_assert(!jh_has(a, "client.jwt"));
    cr_assert_str_eq(jh_str(a, "subject"), "$JS.API.STREAM.SNAPSHOT.C");
    cr_assert_str_eq(jh_str(a, "server"), "test-server");
    json_decref(a);
}

/* Stream CREATED/UPDATED/DELETED: JSStreamActionAdvisory with the domain. */
Test(js_advisory, stream_action_advisories) {
    H.cfg.domain = "hub";
    jh_restart(&H);
    jh_create(&H, "{\"name\":\"ACT\",\"subjects\":[\"act\"],\"storage\":\"memory\"}");
    json_decref(jh_req(&H, "$JS.API.STREAM.UPDATE.ACT",
                       "{\"name\":\"ACT\",\"subjects\":[\"act\",\"act2\"],\"storage\":\"memory\"}"));
    json_decref(jh_req(&H, "$JS.API.STREAM.DELETE.ACT", NULL));
    static const char *const kinds[][2] = {
        {"$JS.EVENT.ADVISORY.STREAM.CREATED.ACT", "create"},
        {"$JS.EVENT.ADVISORY.STREAM.UPDATED.ACT", "modify"},
        {"$JS.EVENT.ADVISORY.STREAM.DELETED.ACT", "delete"},
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *a = load(jh_last_on(&H, kinds[i][0]));
        envelope(a, "io.nats.jetstream.advisory.v1.stream_action");
        cr_assert_str_eq(jh_str(a, "stream"), "ACT");
        cr_assert_str_eq(jh_str(a, "action"), kinds[i][1]);
        cr_assert_str_eq(jh_str(a, "domain"), "hub");
        json_decref(a);
    }
}

static const jh_msg *last_in(const char *acc, const char *subj) {
    for (size_t i = H.nmsgs; i > 0; i--)
        if (!strcmp(H.msgs[i - 1].subj, subj) && !strcmp(H.msgs[i - 1].acc, acc))
            return &H.msgs[i - 1];
    return NULL;
}

/* Go sendStreamBatchAbandonedAdvisory: in the stream's account without "account", and in the
 * system account naming it. */
Test(js_advisory, batch_abandoned_in_account_and_system) {
    GO_TEST_PARTIAL("server/jetstream_batching_test.go", "TestJetStreamAtomicBatchPublishAdvisories",
                    "single server: the incomplete case, in the account and the system account");
    jh_close(&H);
    static const js_account_config accs[] = {
        {"A", true, {-1, -1, -1, -1, -1, -1, -1, false}},
    };
    jh_open_accounts(&H, accs, 1, "SYS");
    H.account = "A";
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"allow_atomic\":true}");
    jh_inbound(&H, "foo", NULL, "NATS/1.0\r\nNats-Batch-Id: uuid\r\nNats-Batch-Sequence: 1\r\n\r\n",
               "a", 1);
    jh_inbound(&H, "foo", NULL, "NATS/1.0\r\nNats-Batch-Id: uuid\r\nNats-Batch-Sequence: 3\r\n\r\n",
               "b", 1);
    js_server_flush(H.js);
    H.account = NULL;
    const char *subj = "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.TEST";
    json_t *a = load(last_in("A", subj));
    envelope(a, "io.nats.jetstream.advisory.v1.stream_batch_abandoned");
    cr_assert(!jh_has(a, "account"));
    cr_assert_str_eq(jh_str(a, "stream"), "TEST");
    cr_assert_str_eq(jh_str(a, "batch"), "uuid");
    cr_assert_str_eq(jh_str(a, "reason"), "incomplete");
    json_t *s = load(last_in("SYS", subj));
    cr_assert_str_eq(jh_str(s, "account"), "A");
    cr_assert_str_eq(jh_str(s, "batch"), "uuid");
    cr_assert_str_eq(jh_str(s, "reason"), "incomplete");
    cr_assert_str_eq(jh_str(s, "id"), jh_str(a, "id"));
    json_decref(a);
    json_decref(s);
}

/* A successful STREAM.MSG.GET is not audited (Go answers it untracked); other calls are. */
Test(js_advisory, msg_get_no_advisory) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMsgGetNoAdvisory");
    H.audit_interest = true;
    jh_create(&H, "{\"name\":\"foo\",\"storage\":\"memory\"}");
    for (int i = 0; i < 100; i++) json_decref(jh_pub(&H, "foo", NULL, "ok"));
    size_t before = 0;
    for (size_t i = 0; i < H.nmsgs; i++)
        before += !strncmp(H.msgs[i].subj, "$JS.EVENT.ADVISORY.", 19);
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.GET.foo", "{\"seq\":1}");
    cr_assert(!jh_has(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    size_t after = 0;
    for (size_t i = 0; i < H.nmsgs; i++)
        after += !strncmp(H.msgs[i].subj, "$JS.EVENT.ADVISORY.", 19);
    cr_assert_eq(after, before);
    size_t audits = jh_count_on(&H, "$JS.EVENT.ADVISORY.API");
    json_decref(jh_req(&H, "$JS.API.STREAM.INFO.foo", NULL));
    cr_assert_eq(jh_count_on(&H, "$JS.EVENT.ADVISORY.API"), audits + 1);
}
