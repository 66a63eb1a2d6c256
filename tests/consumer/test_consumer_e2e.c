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
