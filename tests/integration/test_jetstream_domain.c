/* A JetStream domain as clients use it: requests on $JS.<domain>.API... reach this server's
 * JetStream through the mappings Go adds to every account (server/jetstream.go
 * enableAllJetStreamServiceImportsAndMappings, jetstream_api.go generateJSMappingTable), with
 * libnats' jsOptions.Domain and its KV.  Runs against Go 2.9.10 too
 * (NATS_SERVER_BIN=/usr/sbin/nats-server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <nats/nats.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        natsStatus st_ = (call);                                                                   \
        cr_assert_eq(st_, NATS_OK, "%s: %s", #call, natsStatus_GetText(st_));                     \
    } while (0)

typedef struct env {
    char store[64];
    h_server *s;
    natsConnection *nc;
} env;

/* A server with JetStream in domain "hub"; accounts_block may add accounts {} (user a/a). */
static void env_start(env *e, const char *accounts_block, const char *user) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-jsd-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    char conf[2048];
    snprintf(conf, sizeof conf, "jetstream { store_dir: \"%s\", domain: hub }\n%s", e->store,
             accounts_block ? accounts_block : "");
    e->s = h_server_start(conf);
    natsOptions *o = NULL;
    OK(natsOptions_Create(&o));
    OK(natsOptions_SetURL(o, e->s->url));
    if (user) OK(natsOptions_SetUserInfo(o, user, user));
    OK(natsConnection_Connect(&e->nc, o));
    natsOptions_Destroy(o);
}

static void env_stop(env *e) {
    natsConnection_Destroy(e->nc);
    h_server_stop(e->s);
    rm_tree(e->store);
}

static jsCtx *js_in(env *e, const char *domain) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    jo.Domain = domain;
    jsCtx *js = NULL;
    OK(natsConnection_JetStream(&js, e->nc, &jo));
    return js;
}

/* Waits until JetStream answers through the domain (storaged starts with the server). */
static void wait_ready(jsCtx *js) {
    jsAccountInfo *ai = NULL;
    natsStatus st = NATS_ERR;
    for (int64_t deadline = h_now_ms() + 10000; st != NATS_OK && h_now_ms() < deadline;) {
        st = js_GetAccountInfo(&ai, js, NULL, NULL);
        if (st != NATS_OK) h_pause_ms(20); /* retry interval while storaged starts */
    }
    cr_assert_eq(st, NATS_OK, "JetStream never answered: %s", natsStatus_GetText(st));
    jsAccountInfo_Destroy(ai);
}

static void streams_and_kv_through_the_domain(env *e) {
    jsCtx *js = js_in(e, "hub");
    wait_ready(js);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = "ORDERS";
    const char *subjects[] = {"orders.>"};
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    jsStreamInfo *si = NULL;
    OK(js_AddStream(&si, js, &sc, NULL, NULL));
    jsStreamInfo_Destroy(si);
    jsPubAck *pa = NULL;
    OK(js_Publish(&pa, js, "orders.1", "one", 3, NULL, NULL));
    cr_assert_eq(pa->Sequence, 1);
    cr_assert_str_eq(pa->Domain, "hub");
    jsPubAck_Destroy(pa);
    si = NULL;
    OK(js_GetStreamInfo(&si, js, "ORDERS", NULL, NULL));
    cr_assert_eq(si->State.Msgs, 1);
    jsStreamInfo_Destroy(si);

    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = "CFG";
    kvStore *kv = NULL;
    OK(js_CreateKeyValue(&kv, js, &kc));
    uint64_t rev = 0;
    OK(kvStore_PutString(&rev, kv, "color", "blue"));
    kvEntry *ke = NULL;
    OK(kvStore_Get(&ke, kv, "color"));
    cr_assert_str_eq(kvEntry_ValueString(ke), "blue");
    kvEntry_Destroy(ke);
    kvStore_Destroy(kv);

    /* Another domain is nobody's: no responders, not this server's JetStream. */
    jsCtx *other = js_in(e, "elsewhere");
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    cr_assert_neq(js_GetAccountInfo(&ai, other, NULL, &jerr), NATS_OK);
    jsCtx_Destroy(other);
    jsCtx_Destroy(js);
}

Test(jetstream_domain, global_account) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDomainInPubAck",
                    "the domain reached through $JS.<domain>.API mappings; PubAck domain; KV");
    env e;
    env_start(&e, NULL, NULL);
    streams_and_kv_through_the_domain(&e);
    env_stop(&e);
}

Test(jetstream_domain, configured_account) {
    env e;
    env_start(&e,
              "accounts {\n  A { jetstream: enabled, users [{user: a, password: a}] }\n"
              "  SYS { users [{user: sys, password: sys}] }\n}\nsystem_account: SYS\n",
              "a");
    streams_and_kv_through_the_domain(&e);
    env_stop(&e);
}

/* Go validateJetStreamOptions: a domain must be a name usable inside a subject. */
Test(jetstream_domain, invalid_domain_refused) {
    static const struct {
        const char *domain, *want;
    } cases[] = {
        {"a.b", "invalid domain name: may not contain ., * or >"},
        {"*", "invalid domain name: may not contain ., * or >"},
        {"x>", "invalid domain name: may not contain ., * or >"},
        {"a b", "invalid domain name: derived"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[] = "/tmp/nx-jsdv-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        char conf[64], cmd[1024], out[64];
        snprintf(conf, sizeof conf, "%s/c.conf", dir);
        snprintf(out, sizeof out, "%s/out.txt", dir);
        FILE *f = fopen(conf, "w");
        fprintf(f, "jetstream { store_dir: \"%s\", domain: \"%s\" }\n", dir, cases[i].domain);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s -c %s -p -1 >%s 2>&1", getenv("NATS_SERVER_BIN"), conf, out);
        int rc = system(cmd);
        cr_assert(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "domain %s must be refused",
                  cases[i].domain);
        f = fopen(out, "r");
        char text[2048] = "";
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        cr_assert(strstr(text, cases[i].want), "domain %s: %s", cases[i].domain, text);
        rm_tree(dir);
    }
}
