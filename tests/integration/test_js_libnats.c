/* JetStream with the official C client (libnats from Debian) against the real processes:
 * Key/Value buckets (put/get/create/update with revision, delete, purge, history, keys, watch),
 * pull consumers (fetch, ack, nak with redelivery, term, in progress) and push subscriptions,
 * and consumer state across a storaged restart.  Runs against Go 2.9.10 too
 * (NATS_SERVER_BIN=/usr/sbin/nats-server) to check the tests themselves.
 */
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nats/nats.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"

typedef struct env {
    char store[64];
    h_server *s;
    natsConnection *nc;
    jsCtx *js;
} env;

static void env_start(env *e) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-jsl-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    e->s = h_server_start(NULL, "-js", "-sd", e->store);
    /* Storaged starts with the server: connect once JetStream answers. */
    natsOptions *o = NULL;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, e->s->url);
    natsOptions_SetTimeout(o, 5000);
    cr_assert_eq(natsConnection_Connect(&e->nc, o), NATS_OK);
    natsOptions_Destroy(o);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    cr_assert_eq(natsConnection_JetStream(&e->js, e->nc, &jo), NATS_OK);
    jsAccountInfo *ai = NULL;
    natsStatus st = NATS_ERR;
    for (int64_t deadline = h_now_ms() + 10000; st != NATS_OK && h_now_ms() < deadline;) {
        st = js_GetAccountInfo(&ai, e->js, NULL, NULL);
        if (st != NATS_OK) h_pause_ms(20); /* retry interval while storaged starts */
    }
    cr_assert_eq(st, NATS_OK, "JetStream never answered: %s", natsStatus_GetText(st));
    jsAccountInfo_Destroy(ai);
}

static void env_stop(env *e) {
    jsCtx_Destroy(e->js);
    natsConnection_Destroy(e->nc);
    h_server_stop(e->s);
    rm_tree(e->store);
}

static kvStore *bucket(env *e, const char *name, int history) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = name;
    cfg.History = (uint8_t)history;
    kvStore *kv = NULL;
    natsStatus st = js_CreateKeyValue(&kv, e->js, &cfg);
    cr_assert_eq(st, NATS_OK, "create bucket: %s (%s)", natsStatus_GetText(st),
                 nats_GetLastError(NULL));
    return kv;
}

Test(js_libnats, kv_put_get_update_delete_history_keys) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamKVHistoryRegression",
                    "through the C client: puts, history and delete markers");
    env e;
    env_start(&e);
    kvStore *kv = bucket(&e, "CFG", 5);
    uint64_t r1 = 0, r2 = 0, r3 = 0;
    cr_assert_eq(kvStore_PutString(&r1, kv, "color", "red"), NATS_OK);
    cr_assert_eq(kvStore_PutString(&r2, kv, "color", "green"), NATS_OK);
    cr_assert_eq(r2, r1 + 1);
    kvEntry *en = NULL;
    cr_assert_eq(kvStore_Get(&en, kv, "color"), NATS_OK);
    cr_assert_str_eq(kvEntry_ValueString(en), "green");
    cr_assert_eq(kvEntry_Revision(en), r2);
    kvEntry_Destroy(en);
    /* Update with the right revision works, with a stale one it fails. */
    cr_assert_eq(kvStore_UpdateString(&r3, kv, "color", "blue", r2), NATS_OK);
    cr_assert_neq(kvStore_UpdateString(NULL, kv, "color", "black", r2), NATS_OK);
    /* Create only when absent. */
    cr_assert_eq(kvStore_CreateString(NULL, kv, "size", "L"), NATS_OK);
    cr_assert_neq(kvStore_CreateString(NULL, kv, "size", "XL"), NATS_OK);
    kvEntryList hist = {0};
    cr_assert_eq(kvStore_History(&hist, kv, "color", NULL), NATS_OK);
    cr_assert_eq(hist.Count, 3);
    cr_assert_str_eq(kvEntry_ValueString(hist.Entries[0]), "red");
    cr_assert_str_eq(kvEntry_ValueString(hist.Entries[2]), "blue");
    kvEntryList_Destroy(&hist);
    kvKeysList keys = {0};
    cr_assert_eq(kvStore_Keys(&keys, kv, NULL), NATS_OK);
    cr_assert_eq(keys.Count, 2);
    kvKeysList_Destroy(&keys);
    cr_assert_eq(kvStore_Delete(kv, "size"), NATS_OK);
    cr_assert_eq(kvStore_Get(&en, kv, "size"), NATS_NOT_FOUND);
    cr_assert_eq(kvStore_Keys(&keys, kv, NULL), NATS_OK);
    cr_assert_eq(keys.Count, 1);
    cr_assert_str_eq(keys.Keys[0], "color");
    kvKeysList_Destroy(&keys);
    kvStore_Destroy(kv);
    cr_assert_eq(js_DeleteKeyValue(e.js, "CFG"), NATS_OK);
    env_stop(&e);
}

Test(js_libnats, kv_watch_sees_current_values_then_updates) {
    env e;
    env_start(&e);
    kvStore *kv = bucket(&e, "WATCH", 1);
    cr_assert_eq(kvStore_PutString(NULL, kv, "a", "1"), NATS_OK);
    cr_assert_eq(kvStore_PutString(NULL, kv, "b", "2"), NATS_OK);
    kvWatcher *w = NULL;
    cr_assert_eq(kvStore_WatchAll(&w, kv, NULL), NATS_OK);
    kvEntry *en = NULL;
    cr_assert_eq(kvWatcher_Next(&en, w, 5000), NATS_OK);
    cr_assert_str_eq(kvEntry_Key(en), "a");
    kvEntry_Destroy(en);
    cr_assert_eq(kvWatcher_Next(&en, w, 5000), NATS_OK);
    cr_assert_str_eq(kvEntry_Key(en), "b");
    kvEntry_Destroy(en);
    /* The end of the initial values is a NULL entry. */
    cr_assert_eq(kvWatcher_Next(&en, w, 5000), NATS_OK);
    cr_assert_null(en);
    cr_assert_eq(kvStore_PutString(NULL, kv, "a", "3"), NATS_OK);
    cr_assert_eq(kvWatcher_Next(&en, w, 5000), NATS_OK);
    cr_assert_str_eq(kvEntry_Key(en), "a");
    cr_assert_str_eq(kvEntry_ValueString(en), "3");
    kvEntry_Destroy(en);
    kvWatcher_Destroy(w);
    kvStore_Destroy(kv);
    env_stop(&e);
}

static void add_stream(env *e, const char *name, const char *subj) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = (const char *[]){subj};
    cfg.SubjectsLen = 1;
    cr_assert_eq(js_AddStream(NULL, e->js, &cfg, NULL, NULL), NATS_OK);
}

static void publish_n(env *e, const char *subj, int n) {
    for (int i = 0; i < n; i++) {
        char data[16];
        snprintf(data, sizeof data, "m%d", i);
        cr_assert_eq(js_Publish(NULL, e->js, subj, data, (int)strlen(data), NULL, NULL), NATS_OK);
    }
}

Test(js_libnats, pull_fetch_ack_nak_term_in_progress) {
    env e;
    env_start(&e);
    add_stream(&e, "WORK", "work.>");
    publish_n(&e, "work.a", 5);
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "work.>", "workers", NULL, NULL, &jerr), NATS_OK,
                 "pull subscribe: %d", jerr);
    natsMsgList list = {0};
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 5, 5000, &jerr), NATS_OK);
    cr_assert_eq(list.Count, 5);
    for (int i = 0; i < list.Count; i++) {
        char want[16];
        snprintf(want, sizeof want, "m%d", i);
        cr_assert_str_eq(natsMsg_GetData(list.Msgs[i]), want);
    }
    cr_assert_eq(natsMsg_Ack(list.Msgs[0], NULL), NATS_OK);
    cr_assert_eq(natsMsg_InProgress(list.Msgs[1], NULL), NATS_OK);
    cr_assert_eq(natsMsg_Ack(list.Msgs[1], NULL), NATS_OK);
    cr_assert_eq(natsMsg_Term(list.Msgs[2], NULL), NATS_OK);
    cr_assert_eq(natsMsg_Ack(list.Msgs[3], NULL), NATS_OK);
    cr_assert_eq(natsMsg_Nak(list.Msgs[4], NULL), NATS_OK);
    natsMsgList_Destroy(&list);
    /* Only the nak'ed message comes back, marked as a second delivery. */
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 5, 5000, &jerr), NATS_OK);
    cr_assert_eq(list.Count, 1);
    cr_assert_str_eq(natsMsg_GetData(list.Msgs[0]), "m4");
    jsMsgMetaData *meta = NULL;
    cr_assert_eq(natsMsg_GetMetaData(&meta, list.Msgs[0]), NATS_OK);
    cr_assert_eq(meta->NumDelivered, 2);
    cr_assert_eq(meta->Sequence.Stream, 5);
    jsMsgMetaData_Destroy(meta);
    /* A synchronous ack: the server has handled it (and every earlier one) when it returns. */
    cr_assert_eq(natsMsg_AckSync(list.Msgs[0], NULL, NULL), NATS_OK);
    natsMsgList_Destroy(&list);
    jsConsumerInfo *ci = NULL;
    cr_assert_eq(js_GetConsumerInfo(&ci, e.js, "WORK", "workers", NULL, NULL), NATS_OK);
    cr_assert_eq(ci->NumAckPending, 0);
    cr_assert_eq(ci->NumPending, 0);
    cr_assert_eq(ci->Delivered.Stream, 5);
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Destroy(sub);
    env_stop(&e);
}

static void on_push(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    natsMsg_Ack(msg, NULL);
    h_counter_add(closure, 1);
    natsMsg_Destroy(msg);
}

Test(js_libnats, push_subscription_gets_old_and_new_messages) {
    env e;
    env_start(&e);
    add_stream(&e, "EVENTS", "events.>");
    publish_n(&e, "events.x", 3);
    h_counter *got = h_counter_new();
    natsSubscription *sub = NULL;
    cr_assert_eq(js_Subscribe(&sub, e.js, "events.>", on_push, got, NULL, NULL, NULL), NATS_OK);
    cr_assert(h_counter_wait(got, 3, H_TIMEOUT_MS), "old messages not delivered");
    publish_n(&e, "events.y", 2);
    cr_assert(h_counter_wait(got, 5, H_TIMEOUT_MS), "new messages not delivered");
    natsSubscription_Destroy(sub);
    h_counter_free(got);
    env_stop(&e);
}

/* Consumer state survives a storaged restart: what was acknowledged is not redelivered,
 * what was not is. */
Test(js_libnats, consumer_state_survives_storaged_restart) {
    env e;
    env_start(&e);
    if (h_server_is_go()) {
        env_stop(&e);
        cr_skip_test("storaged is this server's own process");
    }
    add_stream(&e, "DUR", "dur.>");
    publish_n(&e, "dur.a", 6);
    natsSubscription *sub = NULL;
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "dur.>", "keeper", NULL, NULL, NULL), NATS_OK);
    natsMsgList list = {0};
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 3, 5000, NULL), NATS_OK);
    cr_assert_eq(list.Count, 3);
    for (int i = 0; i < 3; i++) cr_assert_eq(natsMsg_AckSync(list.Msgs[i], NULL, NULL), NATS_OK);
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);
    pid_t sd = storaged_pid(e.s);
    cr_assert_gt(sd, 0);
    kill(sd, SIGKILL);
    jsConsumerInfo *ci = NULL;
    natsStatus st = NATS_ERR;
    for (int64_t deadline = h_now_ms() + 10000; h_now_ms() < deadline;) {
        pid_t now = storaged_pid(e.s);
        if (now && now != sd) {
            st = js_GetConsumerInfo(&ci, e.js, "DUR", "keeper", NULL, NULL);
            if (st == NATS_OK) break;
        }
        h_pause_ms(20); /* retry interval while storaged restarts */
    }
    cr_assert_eq(st, NATS_OK, "consumer info after restart: %s", natsStatus_GetText(st));
    cr_assert_eq(ci->AckFloor.Stream, 3);
    cr_assert_eq(ci->NumPending, 3);
    jsConsumerInfo_Destroy(ci);
    cr_assert_eq(js_PullSubscribe(&sub, e.js, "dur.>", "keeper", NULL, NULL, NULL), NATS_OK);
    cr_assert_eq(natsSubscription_Fetch(&list, sub, 10, 5000, NULL), NATS_OK);
    cr_assert_eq(list.Count, 3);
    cr_assert_str_eq(natsMsg_GetData(list.Msgs[0]), "m3");
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);
    env_stop(&e);
}
