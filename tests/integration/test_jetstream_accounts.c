/* Per-account JetStream through the real processes: accounts A and B with JetStream (B with
 * limits), C without, clients of each on different broker workers.  Streams of the same name
 * in A and B stay apart, publishes land in their own account, $JS.API.INFO reports each
 * account's own usage and limits, limits give Go's errors, C gets "JetStream not enabled for
 * account" (not a timeout), /jsz lists the JetStream accounts, and a restarted storaged
 * recovers the streams of both accounts.
 * Ports parts of Go nats-server v2.14.5 server/jetstream_test.go. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/conf_util.h"
#include "tests/integration/js_util.h"
#include "tests/integration/monitor_util.h"

#define CONN(u)                                                                                    \
    "{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"user\":\"" u \
    "\",\"pass\":\"" u "\"}"

static const char *const conf_fmt =
    "jetstream { max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\" }\n"
    "accounts {\n"
    "  A { jetstream: enabled, users [ {user: a, password: a} ] }\n"
    "  B { jetstream: { max_mem: 1GB, max_store: 1TB, max_streams: 2, max_consumers: 1k },\n"
    "      users [ {user: b, password: b} ] }\n"
    "  C { users [ {user: c, password: c} ] }\n"
    "}\n";

typedef struct env {
    char store[64];
    h_server *s;
    h_conn *a, *b, *c;
} env;

static int err_code(json_t *r) {
    return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "err_code"));
}

static h_conn *conn(env *e, const char *json) {
    h_conn *c = h_connect_setup(e->s->port, json);
    h_send(c, "SUB _INBOX.> 99\r\n");
    h_ping(c);
    return c;
}

static void env_start(env *e) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-jsacc-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    char conf[1024];
    snprintf(conf, sizeof conf, conf_fmt, e->store);
    if (h_server_is_go())
        e->s = h_server_start(conf, "-m", "-1");
    else
        e->s = h_server_start(conf, "-m", "-1", "--workers", "2");
    e->a = conn(e, CONN("a"));
    e->b = conn(e, CONN("b"));
    e->c = conn(e, CONN("c"));
    js_wait_api(e->a);
    js_wait_api(e->b);
}

static void env_stop(env *e) {
    h_close(e->a);
    h_close(e->b);
    h_close(e->c);
    h_server_stop(e->s);
    rm_tree(e->store);
}

static void create(h_conn *c, const char *name, const char *body) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", name);
    json_t *r = js_request_json(c, subj, body);
    cr_assert_null(json_object_get(r, "error"), "create %s: %s", name, json_dumps(r, 0));
    json_decref(r);
}

static json_int_t stream_msgs(h_conn *c, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    json_t *r = js_request_json(c, subj, "");
    json_t *st = json_object_get(r, "state");
    cr_assert_not_null(st, "no state: %s", json_dumps(r, 0));
    json_int_t n = json_integer_value(json_object_get(st, "messages"));
    json_decref(r);
    return n;
}

static void publish_n(h_conn *c, const char *subj, int n) {
    for (int i = 0; i < n; i++) {
        json_t *ack = js_request_json(c, subj, "payload");
        cr_assert_null(json_object_get(ack, "error"), "publish: %s", json_dumps(ack, 0));
        json_decref(ack);
    }
}

Test(jetstream_accounts, isolation_info_limits_and_not_enabled) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMultipleAccountsBasics",
                    "no config reload of the accounts' jetstream settings");
    env e;
    env_start(&e);
    /* The same stream name in A and B. */
    create(e.a, "S", "{\"name\":\"S\",\"subjects\":[\"orders.>\"],\"storage\":\"file\"}");
    create(e.b, "S", "{\"name\":\"S\",\"subjects\":[\"orders.>\"],\"storage\":\"memory\"}");
    publish_n(e.a, "orders.x", 3);
    publish_n(e.b, "orders.y", 1);
    cr_assert_eq(stream_msgs(e.a, "S"), 3);
    cr_assert_eq(stream_msgs(e.b, "S"), 1);
    /* C has no JetStream: a publish on the subject finds no stream, its requests get 10039. */
    json_t *r = js_request_json(e.c, "$JS.API.INFO", "");
    cr_assert_eq(err_code(r), 10039, "%s", json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")),
                     "io.nats.jetstream.api.v1.account_info_response");
    json_decref(r);
    r = js_request_json(e.c, "$JS.API.STREAM.INFO.S", "");
    cr_assert_eq(err_code(r), 10039);
    json_decref(r);
    /* Account info: each account its own usage and limits. */
    r = js_request_json(e.b, "$JS.API.INFO", "");
    json_t *l = json_object_get(r, "limits");
    cr_assert_eq(json_integer_value(json_object_get(l, "max_streams")), 2);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_consumers")), 1000);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_memory")), 1LL << 30);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_storage")), 1LL << 40);
    cr_assert_eq(json_integer_value(json_object_get(r, "streams")), 1);
    cr_assert_gt(json_integer_value(json_object_get(r, "memory")), 0);
    cr_assert_eq(json_integer_value(json_object_get(r, "storage")), 0);
    json_decref(r);
    r = js_request_json(e.a, "$JS.API.INFO", "");
    l = json_object_get(r, "limits");
    cr_assert_eq(json_integer_value(json_object_get(l, "max_streams")), -1);
    cr_assert_eq(json_integer_value(json_object_get(r, "memory")), 0);
    cr_assert_gt(json_integer_value(json_object_get(r, "storage")), 0);
    json_decref(r);
    /* B's max_streams. */
    create(e.b, "T", "{\"name\":\"T\",\"subjects\":[\"t\"],\"storage\":\"memory\"}");
    r = js_request_json(e.b, "$JS.API.STREAM.CREATE.U", "{\"name\":\"U\",\"subjects\":[\"u\"]}");
    cr_assert_eq(err_code(r), 10027, "%s", json_dumps(r, 0));
    json_decref(r);
    env_stop(&e);
}

Test(jetstream_accounts, jsz_lists_jetstream_accounts) {
    env e;
    env_start(&e);
    create(e.a, "S", "{\"name\":\"S\",\"subjects\":[\"s\"]}");
    create(e.b, "S", "{\"name\":\"S\",\"subjects\":[\"s\"]}");
    publish_n(e.b, "s", 2);
    int port = mon_port(e.s);
    cr_assert_gt(port, 0);
    json_t *jsz = get_json(port, "/jsz?accounts=true");
    cr_assert_eq(JI(jsz, "accounts"), 2, "%s", json_dumps(jsz, 0));
    cr_assert_eq(JI(jsz, "streams"), 2);
    json_t *d = json_object_get(jsz, "account_details");
    cr_assert_eq(json_array_size(d), 2);
    bool sa = false, sb = false;
    for (size_t i = 0; i < json_array_size(d); i++) {
        const char *n = JS(json_array_get(d, i), "name");
        sa |= !strcmp(n, "A");
        sb |= !strcmp(n, "B");
    }
    cr_assert(sa && sb, "A and B listed: %s", json_dumps(d, 0));
    json_decref(jsz);
    jsz = get_json(port, "/jsz?acc=B&streams=true");
    d = json_object_get(jsz, "account_details");
    cr_assert_eq(json_array_size(d), 1);
    json_t *sd = json_array_get(json_object_get(json_array_get(d, 0), "stream_detail"), 0);
    cr_assert_eq(JI(json_object_get(sd, "state"), "messages"), 2);
    json_decref(jsz);
    env_stop(&e);
}

Test(jetstream_accounts, storaged_restart_recovers_every_account) {
    if (h_server_is_go()) cr_skip_test("storaged is this server's own process");
    env e;
    env_start(&e);
    create(e.a, "S", "{\"name\":\"S\",\"subjects\":[\"a.>\"]}");
    create(e.b, "S", "{\"name\":\"S\",\"subjects\":[\"b.>\"]}");
    publish_n(e.a, "a.1", 4);
    publish_n(e.b, "b.1", 2);
    pid_t sd = storaged_pid(e.s);
    cr_assert_gt(sd, 0, "no storaged child process");
    kill(sd, SIGKILL);
    cr_assert(h_server_wait_log(e.s, "Storage daemon", H_TIMEOUT_MS));
    js_wait_api(e.a);
    js_wait_api(e.b);
    cr_assert_neq(storaged_pid(e.s), sd, "storaged was not restarted");
    cr_assert_eq(stream_msgs(e.a, "S"), 4);
    cr_assert_eq(stream_msgs(e.b, "S"), 2);
    publish_n(e.b, "b.2", 1);
    cr_assert_eq(stream_msgs(e.b, "S"), 3);
    cr_assert_eq(stream_msgs(e.a, "S"), 4);
    env_stop(&e);
}

/* Go parseJetStreamForAccount's errors (server/opts.go), checked with -t (positions as this
 * server's conf layer gives them: a map's problems at the map); and the start-up checks of
 * enableJetStreamAccounts. */
Test(jetstream_accounts, account_jetstream_config) {
    check_conf("accounts { A { jetstream: enabled }, B { jetstream: disabled },\n"
               "  C { jetstream: { max_mem: 1G, max_store: 2G, max_streams: 3, max_consumers: 4,\n"
               "  max_bytes_required: true, memory_max_stream_bytes: 5, store_max_stream_bytes: 6,\n"
               "  max_ack_pending: 7, cluster_traffic: owner } }, D { jetstream: true } }\n",
               NULL);
    check_conf("accounts { A { jetstream: maybe } }\n",
               "%F:1:15: Expected 'enabled' or 'disabled' for string value, got 'maybe'\n\n");
    check_conf("accounts { A { jetstream: 12 } }\n",
               "%F:1:15: Expected map, bool or string to define JetStream, got int64\n\n");
    check_conf("accounts { A { jetstream: { max_mem: \"lots\" } } }\n",
               "%F:1:28: Expected a parseable size for \"max_mem\", got lots\n\n");
    check_conf("accounts { A { jetstream: { max_bytes_required: 1 } } }\n",
               "%F:1:28: Expected a parseable bool for \"max_bytes_required\", got 1\n\n");
    check_conf("accounts { A { jetstream: { nope: 1 } } }\n",
               "%F:1:28: unknown field \"nope\"\n\n");
}

Test(jetstream_accounts, startup_checks) {
    if (h_server_is_go()) cr_skip_test("Go logs these as fatal errors after starting to log");
    char *dir = tmp_dir();
    char conf[512];
    snprintf(conf, sizeof conf,
             "jetstream { max_mem_store: 1MB, max_file_store: 1GB, store_dir: \"%s/js\" }\n"
             "accounts { A { jetstream: { max_mem: 2MB } } }\n", dir);
    char *path = put(dir, "a.conf", conf);
    run_out r = RUN(dir, "-c", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "Can't start JetStream: Error enabling jetstream on configured "
                            "accounts: insufficient memory resources available (10028)"),
              "%s", r.err);
    run_free(&r);
    free(path);
    snprintf(conf, sizeof conf,
             "jetstream { store_dir: \"%s/js\" }\n"
             "accounts { SYS { jetstream: enabled } }\nsystem_account: SYS\n", dir);
    path = put(dir, "b.conf", conf);
    r = RUN(dir, "-c", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "Not allowed to enable JetStream on the system account"), "%s", r.err);
    run_free(&r);
    free(path);
    rm_dir(dir);
}

/* ---- the C client in two accounts ------------------------------------------------------- */

static void lib_connect(env *e, const char *user, natsConnection **nc, jsCtx **js) {
    natsOptions *o = NULL;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, e->s->url);
    natsOptions_SetUserInfo(o, user, user);
    natsOptions_SetTimeout(o, 5000);
    cr_assert_eq(natsConnection_Connect(nc, o), NATS_OK);
    natsOptions_Destroy(o);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    cr_assert_eq(natsConnection_JetStream(js, *nc, &jo), NATS_OK);
}

/* The same bucket name in A and B holds each account's own values; a synchronous push
 * subscription in B gets B's messages with acks taken in B. */
Test(jetstream_accounts, libnats_kv_and_push_per_account) {
    env e;
    env_start(&e);
    natsConnection *nca, *ncb;
    jsCtx *jsa, *jsb;
    lib_connect(&e, "a", &nca, &jsa);
    lib_connect(&e, "b", &ncb, &jsb);
    kvStore *kva = NULL, *kvb = NULL;
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = "CFG";
    cr_assert_eq(js_CreateKeyValue(&kva, jsa, &cfg), NATS_OK, "%s", nats_GetLastError(NULL));
    cr_assert_eq(js_CreateKeyValue(&kvb, jsb, &cfg), NATS_OK, "%s", nats_GetLastError(NULL));
    cr_assert_eq(kvStore_PutString(NULL, kva, "color", "red"), NATS_OK);
    cr_assert_eq(kvStore_PutString(NULL, kvb, "color", "blue"), NATS_OK);
    kvEntry *en = NULL;
    cr_assert_eq(kvStore_Get(&en, kva, "color"), NATS_OK);
    cr_assert_str_eq(kvEntry_ValueString(en), "red");
    kvEntry_Destroy(en);
    cr_assert_eq(kvStore_Get(&en, kvb, "color"), NATS_OK);
    cr_assert_str_eq(kvEntry_ValueString(en), "blue");
    cr_assert_eq(kvEntry_Revision(en), 1);
    kvEntry_Destroy(en);

    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = "EV";
    const char *subjects[] = {"ev.>"};
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    cr_assert_eq(js_AddStream(NULL, jsb, &sc, NULL, NULL), NATS_OK);
    natsSubscription *sub = NULL;
    cr_assert_eq(js_SubscribeSync(&sub, jsb, "ev.>", NULL, NULL, NULL), NATS_OK);
    for (int i = 0; i < 3; i++) cr_assert_eq(js_Publish(NULL, jsb, "ev.x", "e", 1, NULL, NULL), NATS_OK);
    for (int i = 0; i < 3; i++) {
        natsMsg *m = NULL;
        cr_assert_eq(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK, "delivery %d", i);
        cr_assert_str_eq(natsMsg_GetSubject(m), "ev.x");
        cr_assert_eq(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
        natsMsg_Destroy(m);
    }
    /* A has no stream EV. */
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    cr_assert_neq(js_GetStreamInfo(&si, jsa, "EV", NULL, &jerr), NATS_OK);
    cr_assert_eq(jerr, 10059);
    natsSubscription_Destroy(sub);
    kvStore_Destroy(kva);
    kvStore_Destroy(kvb);
    jsCtx_Destroy(jsa);
    jsCtx_Destroy(jsb);
    natsConnection_Destroy(nca);
    natsConnection_Destroy(ncb);
    env_stop(&e);
}

/* ---- reload ------------------------------------------------------------------------------ */

static const char *const reload_fmt =
    "jetstream { max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\" }\n"
    "accounts {\n"
    "  A { jetstream: disabled, users [ {user: a, password: a} ] }\n"
    "  B { jetstream: { max_mem: 32GB, max_store: 512GB, max_streams: 100, max_consumers: 4k },\n"
    "      users [ {user: b, password: b} ] }\n"
    "  C { jetstream: { max_mem: 1GB, max_store: 1TB, max_streams: 10, max_consumers: 1k },\n"
    "      users [ {user: c, password: c} ] }\n"
    "}\n";

/* Polls $JS.API.INFO on c until its error code is `code` (0: no error); storaged applies a
 * reload after the supervisor, on its own signal. */
static json_t *info_until(h_conn *c, int code) {
    for (int64_t deadline = h_now_ms() + 10000; h_now_ms() < deadline;) {
        json_t *r = js_request_json(c, "$JS.API.INFO", "");
        if (err_code(r) == code) return r;
        json_decref(r);
        h_pause_ms(20); /* poll interval while storaged reloads */
    }
    cr_assert_fail("account info never reached error code %d", code);
    return NULL;
}

Test(jetstream_accounts, reload_enables_disables_and_changes_limits) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMultipleAccountsBasics");
    env e;
    env_start(&e);
    create(e.a, "S", "{\"name\":\"S\",\"subjects\":[\"s\"]}");
    publish_n(e.a, "s", 2);
    json_t *r = js_request_json(e.c, "$JS.API.INFO", "");
    cr_assert_eq(err_code(r), 10039);
    json_decref(r);
    FILE *f = fopen(e.s->conf_path, "w");
    cr_assert_not_null(f);
    fprintf(f, reload_fmt, e.store);
    fclose(f);
    h_server_signal(e.s, SIGHUP);
    cr_assert(h_server_wait_log(e.s, "Reloaded server configuration", H_TIMEOUT_MS));
    json_decref(info_until(e.a, 10039)); /* A: disabled */
    r = info_until(e.c, 0);              /* C: enabled with its limits */
    json_t *l = json_object_get(r, "limits");
    cr_assert_eq(json_integer_value(json_object_get(l, "max_streams")), 10);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_consumers")), 1000);
    json_decref(r);
    r = info_until(e.b, 0); /* B: the new limits */
    for (int64_t deadline = h_now_ms() + 10000;
         json_integer_value(json_object_get(json_object_get(r, "limits"), "max_streams")) != 100 &&
         h_now_ms() < deadline;) {
        json_decref(r);
        h_pause_ms(20); /* poll interval while storaged reloads */
        r = info_until(e.b, 0);
    }
    l = json_object_get(r, "limits");
    cr_assert_eq(json_integer_value(json_object_get(l, "max_streams")), 100);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_consumers")), 4000);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_memory")), 32LL << 30);
    cr_assert_eq(json_integer_value(json_object_get(l, "max_storage")), 512LL << 30);
    json_decref(r);
    /* C can use its JetStream now. */
    create(e.c, "T", "{\"name\":\"T\",\"subjects\":[\"t\"]}");
    publish_n(e.c, "t", 1);
    cr_assert_eq(stream_msgs(e.c, "T"), 1);
    /* A's data stayed on disk: enabled again, its stream is back. */
    f = fopen(e.s->conf_path, "w");
    cr_assert_not_null(f);
    fprintf(f, conf_fmt, e.store);
    fclose(f);
    h_server_signal(e.s, SIGHUP);
    json_decref(info_until(e.a, 0));
    cr_assert_eq(stream_msgs(e.a, "S"), 2);
    json_decref(info_until(e.c, 10039));
    env_stop(&e);
}
