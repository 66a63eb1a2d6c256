/* Consumers end to end: nats-server with -js (storaged) driven by libnats: pull subscriptions
 * (fetch, ack), push subscriptions with heartbeats and flow control, KV watch.  Runs against
 * the Go server too (NATS_SERVER_BIN=/usr/sbin/nats-server) to check the expectations.
 * Reuses tests/integration/harness.c. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

typedef struct e2e {
    char store[64];
    h_server *s;
    natsConnection *nc;
    jsCtx *js;
} e2e;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void start(e2e *e) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-cons-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    if (h_server_is_go()) e->s = h_server_start(NULL, "-js", "-sd", e->store);
    else e->s = h_server_start(NULL, "-js", "-sd", e->store, "--workers", "2");
    cr_assert(h_server_wait_log(e->s, "Server is ready", H_TIMEOUT_MS));
    cr_assert_eq(natsConnection_ConnectTo(&e->nc, e->s->url), NATS_OK);
    cr_assert_eq(natsConnection_JetStream(&e->js, e->nc, NULL), NATS_OK);
    /* storaged may still be starting: wait until the API answers. */
    for (int i = 0; i < 200; i++) {
        jsAccountInfo *ai = NULL;
        if (js_GetAccountInfo(&ai, e->js, NULL, NULL) == NATS_OK) {
            jsAccountInfo_Destroy(ai);
            return;
        }
        h_pause_ms(25);
    }
    cr_assert_fail("JetStream API never answered");
}

static void stop(e2e *e) {
    jsCtx_Destroy(e->js);
    natsConnection_Destroy(e->nc);
    h_server_stop(e->s);
    nftw(e->store, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void add_stream(e2e *e, const char *name, const char *subject) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {subject};
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    cr_assert_eq(js_AddStream(&si, e->js, &cfg, NULL, &jerr), NATS_OK, "AddStream: %d", jerr);
    jsStreamInfo_Destroy(si);
}

static void publish(e2e *e, const char *subj, const char *data) {
    jsErrCode jerr = 0;
    jsPubAck *pa = NULL;
    cr_assert_eq(js_Publish(&pa, e->js, subj, data, (int)strlen(data), NULL, &jerr), NATS_OK, "publish: %d", jerr);
    jsPubAck_Destroy(pa);
}

Test(consumer_e2e, pull_fetch_ack_info) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullOneShotBehavior",
                    "libnats fetch/ack end to end");
    e2e e;
    start(&e);
    add_stream(&e, "ORDERS", "orders.>");
    for (int i = 1; i <= 5; i++) {
        char d[16];
        snprintf(d, sizeof d, "order-%d", i);
        publish(&e, "orders.new", d);
    }
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "orders.>", "dur", NULL, NULL, &jerr), NATS_OK, "%d", jerr);
    natsMsgList list = {0};
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 3, 5000, &jerr), NATS_OK, "fetch: %d", jerr);
    cr_assert_eq(list.Count, 3);
    for (int i = 0; i < list.Count; i++) {
        char want[32];
        snprintf(want, sizeof want, "order-%d", i + 1);
        cr_assert_eq(natsMsg_GetDataLength(list.Msgs[i]), (int)strlen(want));
        cr_assert(!memcmp(natsMsg_GetData(list.Msgs[i]), want, strlen(want)));
        jsMsgMetaData *meta = NULL;
        cr_assert_eq(natsMsg_GetMetaData(&meta, list.Msgs[i]), NATS_OK);
        cr_assert_eq(meta->Sequence.Stream, (uint64_t)(i + 1));
        cr_assert_eq(meta->Sequence.Consumer, (uint64_t)(i + 1));
        cr_assert_eq(meta->NumDelivered, 1);
        cr_assert_eq(meta->NumPending, (uint64_t)(4 - i));
        cr_assert_str_eq(meta->Stream, "ORDERS");
        cr_assert_str_eq(meta->Consumer, "dur");
        jsMsgMetaData_Destroy(meta);
        cr_assert_eq(natsMsg_AckSync(list.Msgs[i], NULL, &jerr), NATS_OK, "ack: %d", jerr);
    }
    natsMsgList_Destroy(&list);
    jsConsumerInfo *ci = NULL;
    cr_assert_eq(js_GetConsumerInfo(&ci, e.js, "ORDERS", "dur", NULL, &jerr), NATS_OK);
    cr_assert_eq(ci->NumPending, 2);
    cr_assert_eq(ci->NumAckPending, 0);
    cr_assert_eq(ci->AckFloor.Stream, 3);
    cr_assert_eq(ci->Delivered.Consumer, 3);
    jsConsumerInfo_Destroy(ci);
    /* No more than what is there: 2 then a timeout for the rest. */
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 5, 500, &jerr), NATS_OK);
    cr_assert_eq(list.Count, 2);
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);
    stop(&e);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    natsMsg_Ack(msg, NULL);
    natsMsg_Destroy(msg);
    h_counter_add(closure, 1);
}

Test(consumer_e2e, push_subscribe_heartbeat_flow_control) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerReconnect",
                    "libnats push subscribe with heartbeats and flow control, no reconnect");
    e2e e;
    start(&e);
    add_stream(&e, "EV", "ev.>");
    h_counter *k = h_counter_new();
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.Heartbeat = 200 * 1000000LL;
    so.Config.FlowControl = true;
    so.Config.AckPolicy = js_AckExplicit;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(js_Subscribe(&sub, e.js, "ev.>", on_msg, k, NULL, &so, &jerr), NATS_OK, "%d", jerr);
    for (int i = 0; i < 50; i++) publish(&e, "ev.x", "event");
    cr_assert(h_counter_wait(k, 50, 5000), "got %d", h_counter_get(k));
    h_pause_ms(500); /* heartbeats flow; no missed-heartbeat error */
    jsConsumerInfo *ci = NULL;
    cr_assert_eq(natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr), NATS_OK);
    cr_assert_eq(ci->Delivered.Stream, 50);
    cr_assert(ci->PushBound);
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    h_counter_free(k);
    stop(&e);
}

Test(consumer_e2e, delivered_subject_is_original) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerSingleTokenSubject",
                    "the subject clients see on delivery");
    e2e e;
    start(&e);
    add_stream(&e, "S", "s.>");
    publish(&e, "s.one", "x");
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "s.>", "d", NULL, NULL, &jerr), NATS_OK);
    natsMsgList list = {0};
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr), NATS_OK);
    char subj[256];
    snprintf(subj, sizeof subj, "%s", natsMsg_GetSubject(list.Msgs[0]));
    bool ok = !strcmp(subj, "s.one");
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);
    stop(&e);
    cr_assert(ok, "subject %s", subj);
}

Test(consumer_e2e, kv_watch) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPendingForKV",
                    "libnats KV watcher (ordered push consumer, last per subject)");
    e2e e;
    start(&e);
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = "B";
    kc.History = 3;
    kvStore *kv = NULL;
    cr_assert_eq(js_CreateKeyValue(&kv, e.js, &kc), NATS_OK, "%s", nats_GetLastError(NULL));
    uint64_t rev = 0;
    cr_assert_eq(kvStore_PutString(&rev, kv, "a", "1"), NATS_OK);
    cr_assert_eq(kvStore_PutString(&rev, kv, "b", "2"), NATS_OK);
    cr_assert_eq(kvStore_PutString(&rev, kv, "a", "3"), NATS_OK);
    kvWatcher *w = NULL;
    cr_assert_eq(kvStore_WatchAll(&w, kv, NULL), NATS_OK, "%s", nats_GetLastError(NULL));
    char got[64] = "";
    bool keys_ok = true;
    for (int i = 0; i < 3; i++) {
        kvEntry *en = NULL;
        cr_assert_eq(kvWatcher_Next(&en, w, 5000), NATS_OK, "entry %d: %s", i, nats_GetLastError(NULL));
        if (!en) break; /* nil entry: initial values done */
        const char *key = kvEntry_Key(en);
        if (strcmp(key, "a") && strcmp(key, "b")) keys_ok = false;
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s=%s;", key, kvEntry_ValueString(en));
        kvEntry_Destroy(en);
    }
    kvWatcher_Destroy(w);
    kvStore_Destroy(kv);
    stop(&e);
    cr_assert(keys_ok, "keys %s", got);
    cr_assert_str_eq(got, "b=2;a=3;");
}

/* The next message on sub whose subject starts with prefix (others skipped), or NULL. */
static natsMsg *next_on(natsSubscription *sub, const char *prefix) {
    for (int i = 0; i < 200; i++) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS) != NATS_OK) return NULL;
        if (!strncmp(natsMsg_GetSubject(m), prefix, strlen(prefix))) return m;
        natsMsg_Destroy(m);
    }
    return NULL;
}

static json_t *msg_json(natsMsg *m) {
    cr_assert_not_null(m);
    json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    cr_assert_not_null(o);
    natsMsg_Destroy(m);
    return o;
}

/* A client listening on $JS.EVENT.> sees the sampled ack metric and the snapshot advisories. */
Test(consumer_e2e, events_ack_metric_and_snapshot_advisories) {
    GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckSampling",
                    "libnats end to end: the 100% metric, no 50% sampling count");
    e2e e;
    start(&e);
    natsSubscription *ev = NULL;
    cr_assert_eq(natsConnection_SubscribeSync(&ev, e.nc, "$JS.EVENT.>"), NATS_OK);
    cr_assert_eq(natsConnection_Flush(e.nc), NATS_OK);
    /* Until storaged sees the interest: API calls until their audit advisory arrives. */
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        natsMsg *r = NULL;
        cr_assert_eq(natsConnection_RequestString(&r, e.nc, "$JS.API.INFO", "", H_TIMEOUT_MS), NATS_OK);
        natsMsg_Destroy(r);
        natsMsg *m = NULL;
        while (!seen && natsSubscription_NextMsg(&m, ev, 50) == NATS_OK) {
            seen = !strcmp(natsMsg_GetSubject(m), "$JS.EVENT.ADVISORY.API");
            natsMsg_Destroy(m);
        }
    }
    cr_assert(seen, "no API audit advisory");
    add_stream(&e, "EV", "ev.>");
    publish(&e, "ev.1", "hello");
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "dlc";
    cc.AckPolicy = js_AckExplicit;
    cc.SampleFrequency = "100%";
    jsErrCode jerr = 0;
    jsConsumerInfo *ci = NULL;
    cr_assert_eq(js_AddConsumer(&ci, e.js, "EV", &cc, NULL, &jerr), NATS_OK, "%d", jerr);
    jsConsumerInfo_Destroy(ci);
    natsSubscription *sub = NULL;
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "ev.>", "dlc", NULL, NULL, &jerr), NATS_OK, "%d", jerr);
    natsMsgList list = {0};
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr), NATS_OK, "fetch: %d", jerr);
    cr_assert_eq(list.Count, 1);
    cr_assert_eq(natsMsg_AckSync(list.Msgs[0], NULL, &jerr), NATS_OK, "ack: %d", jerr);
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);
    json_t *a = msg_json(next_on(ev, "$JS.EVENT.METRIC.CONSUMER.ACK.EV.dlc"));
    cr_assert_str_eq(json_string_value(json_object_get(a, "type")), "io.nats.jetstream.metric.v1.consumer_ack");
    cr_assert_str_eq(json_string_value(json_object_get(a, "stream")), "EV");
    cr_assert_str_eq(json_string_value(json_object_get(a, "consumer")), "dlc");
    cr_assert_eq(json_integer_value(json_object_get(a, "consumer_seq")), 1);
    cr_assert_eq(json_integer_value(json_object_get(a, "stream_seq")), 1);
    cr_assert_eq(json_integer_value(json_object_get(a, "deliveries")), 1);
    cr_assert(json_integer_value(json_object_get(a, "ack_time")) > 0);
    json_decref(a);

    /* A snapshot as `nats stream backup` takes it: ack each chunk until the empty end. */
    natsSubscription *snap = NULL;
    cr_assert_eq(natsConnection_SubscribeSync(&snap, e.nc, "snap.in"), NATS_OK);
    natsMsg *r = NULL;
    cr_assert_eq(natsConnection_RequestString(&r, e.nc, "$JS.API.STREAM.SNAPSHOT.EV",
                                              "{\"deliver_subject\":\"snap.in\"}", H_TIMEOUT_MS), NATS_OK);
    cr_assert_null(strstr(natsMsg_GetData(r), "\"error\""), "%s", natsMsg_GetData(r));
    natsMsg_Destroy(r);
    for (bool end = false; !end;) {
        natsMsg *m = NULL;
        cr_assert_eq(natsSubscription_NextMsg(&m, snap, H_TIMEOUT_MS), NATS_OK, "snapshot stalled");
        end = natsMsg_GetDataLength(m) == 0;
        if (natsMsg_GetReply(m)) natsConnection_Publish(e.nc, natsMsg_GetReply(m), NULL, 0);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(snap);
    a = msg_json(next_on(ev, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.EV"));
    cr_assert_str_eq(json_string_value(json_object_get(a, "type")), "io.nats.jetstream.advisory.v1.snapshot_create");
    cr_assert_str_eq(json_string_value(json_object_get(a, "stream")), "EV");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(a, "state"), "messages")), 1);
    json_decref(a);
    a = msg_json(next_on(ev, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.EV"));
    cr_assert_str_eq(json_string_value(json_object_get(a, "type")), "io.nats.jetstream.advisory.v1.snapshot_complete");
    cr_assert(json_object_get(a, "start") && json_object_get(a, "end"));
    json_decref(a);
    natsSubscription_Destroy(ev);
    stop(&e);
}

static natsConnection *connect_as(h_server *s, const char *user) {
    natsOptions *o = NULL;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, s->url);
    if (user) natsOptions_SetUserInfo(o, user, "foo");
    natsOptions_SetTimeout(o, 5000);
    natsConnection *nc = NULL;
    cr_assert_eq(natsConnection_Connect(&nc, o), NATS_OK);
    natsOptions_Destroy(o);
    return nc;
}

/* Two events on sub, any order: their subjects must be a and b. */
static void expect_pair(natsSubscription *sub, const char *a, const char *b) {
    bool got_a = false, got_b = false;
    for (int i = 0; i < 2; i++) {
        natsMsg *m = NULL;
        cr_assert_eq(natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS), NATS_OK, "missing event");
        const char *s = natsMsg_GetSubject(m);
        if (!strcmp(s, a)) got_a = true;
        else if (!strcmp(s, b)) got_b = true;
        else cr_assert_fail("unexpected subject %s", s);
        natsMsg_Destroy(m);
    }
    cr_assert(got_a && got_b);
}

/* Advisories of a JetStream account that exports them as a stream: the JS account gets the
 * stream and audit advisories; a client's publish there crosses the import into AGG.  The
 * advisories' own crossing into AGG (storaged/sd_imports.c) is checked by
 * tests/integration/test_jetstream_imports.c. */
Test(consumer_e2e, advisories_imported_as_stream) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAccountImportJSAdvisoriesAsStream",
                    "the JS account's advisories only; AGG's imported copies are checked in "
                    "tests/integration/test_jetstream_imports.c");
    char store[64];
    snprintf(store, sizeof store, "/tmp/nx-adv-XXXXXX");
    cr_assert_not_null(mkdtemp(store));
    char conf[1024];
    snprintf(conf, sizeof conf,
             "no_auth_user: pp\n"
             "jetstream: {max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\"}\n"
             "accounts {\n"
             "  JS { jetstream: enabled, users: [ {user: pp, password: foo} ],\n"
             "       exports [ { stream: '$JS.EVENT.ADVISORY.>' } ] }\n"
             "  AGG { users: [ {user: agg, password: foo} ],\n"
             "        imports: [ { stream: { account: JS, subject: '$JS.EVENT.ADVISORY.>' }, "
             "to: '$JS.EVENT.ADVISORY.ACC.JS.>' } ] }\n"
             "}\n",
             store);
    h_server *s = h_server_start(conf);
    cr_assert(h_server_wait_log(s, "Server is ready", H_TIMEOUT_MS));
    natsConnection *ncjs = connect_as(s, NULL), *ncagg = connect_as(s, "agg");
    natsSubscription *subjs = NULL, *subagg = NULL;
    cr_assert_eq(natsConnection_SubscribeSync(&subjs, ncjs, "$JS.EVENT.ADVISORY.>"), NATS_OK);
    cr_assert_eq(natsConnection_Flush(ncjs), NATS_OK);
    cr_assert_eq(natsConnection_SubscribeSync(&subagg, ncagg, "$JS.EVENT.ADVISORY.ACC.JS.>"), NATS_OK);
    cr_assert_eq(natsConnection_Flush(ncagg), NATS_OK);
    /* A client's publish in JS crosses the import. */
    cr_assert_eq(natsConnection_PublishString(ncjs, "$JS.EVENT.ADVISORY.PROBE", "x"), NATS_OK);
    natsMsg *pm = NULL;
    cr_assert_eq(natsSubscription_NextMsg(&pm, subjs, H_TIMEOUT_MS), NATS_OK);
    natsMsg_Destroy(pm);
    cr_assert_eq(natsSubscription_NextMsg(&pm, subagg, H_TIMEOUT_MS), NATS_OK, "probe not imported");
    cr_assert_str_eq(natsMsg_GetSubject(pm), "$JS.EVENT.ADVISORY.ACC.JS.PROBE");
    natsMsg_Destroy(pm);
    /* Until storaged is up and sees the interest: API calls until the audit arrives. */
    bool js_seen = false;
    for (int i = 0; i < 200 && !js_seen; i++) {
        natsMsg *r = NULL;
        if (natsConnection_RequestString(&r, ncjs, "$JS.API.INFO", "", 1000) == NATS_OK)
            natsMsg_Destroy(r);
        natsMsg *m = NULL;
        while (natsSubscription_NextMsg(&m, subjs, 20) == NATS_OK) {
            js_seen = true;
            natsMsg_Destroy(m);
        }
    }
    cr_assert(js_seen, "no audit advisory in JS");
    jsCtx *js = NULL;
    cr_assert_eq(natsConnection_JetStream(&js, ncjs, NULL), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"ORDERS.*"};
    cfg.Name = "ORDERS";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    cr_assert_eq(js_AddStream(&si, js, &cfg, NULL, &jerr), NATS_OK, "AddStream: %d", jerr);
    jsStreamInfo_Destroy(si);
    expect_pair(subjs, "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS", "$JS.EVENT.ADVISORY.API");
    jsCtx_Destroy(js);
    natsSubscription_Destroy(subjs);
    natsSubscription_Destroy(subagg);
    natsConnection_Destroy(ncjs);
    natsConnection_Destroy(ncagg);
    h_server_stop(s);
    nftw(store, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
