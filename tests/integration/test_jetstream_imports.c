/* What JetStream publishes crosses stream imports, through the real processes: advisories of
 * an account exporting $JS.EVENT.ADVISORY.> reach the importing accounts (a wildcard `to`
 * transform, a prefix) even when only an importer listens; a push consumer's deliver subject
 * exported as a stream delivers into the importing account (a literal `to`), where the
 * importer's subscription is the consumer's interest, the messages show their stored subject
 * and are acked through a service import; an account without the import sees nothing; a
 * reload adding an import applies to what storaged publishes.  With two broker workers the
 * exporting and importing clients sit on different workers.
 * Ports Go nats-server v2.14.5 server/jetstream_test.go
 * TestJetStreamAccountImportJSAdvisoriesAsStream, TestJetStreamCrossAccountsDeliverSubjectInterest
 * and TestJetStreamAccountImportBasics. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"
#include "tests/integration/worker_util.h"

#define CONN(u)                                                                                    \
    "{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"user\":\"" u  \
    "\",\"pass\":\"pwd\"}"

static int g_inbox;

typedef struct env {
    char store[64];
    h_server *s;
} env;

/* Starts the server on the configuration `fmt` (a literal: its %s is the store directory). */
#define env_start(e, fmt)                                                                          \
    do {                                                                                           \
        char conf_[4096];                                                                          \
        env_mkstore(e);                                                                            \
        snprintf(conf_, sizeof conf_, fmt, (e)->store);                                            \
        env_run(e, conf_);                                                                         \
    } while (0)

static void env_mkstore(env *e) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-jsimp-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
}

static void env_run(env *e, const char *conf) {
    if (h_server_is_go())
        e->s = h_server_start(conf);
    else
        e->s = h_server_start(conf, "--workers", "2");
}

static void env_stop(env *e) {
    h_server_stop(e->s);
    rm_tree(e->store);
}

/* A connection as `json`; with two workers, on a worker other than `other`'s (if given). */
static h_conn *conn_apart(env *e, const char *json, const h_conn *other) {
    for (int attempt = 0; attempt < 200; attempt++) {
        h_conn *c = h_connect_setup(e->s->port, json);
        h_ping(c);
        if (!other || h_server_is_go() || wu_worker_of(e->s, c) != wu_worker_of(e->s, other))
            return c;
        h_close(c);
    }
    cr_assert_fail("no connection landed on another worker");
    return NULL;
}

/* A request on c (subscribed to _INBOX.>); the reply's payload, NUL-terminated. */
static char *request(h_conn *c, const char *subj, const char *body) {
    char inbox[32];
    snprintf(inbox, sizeof inbox, "_INBOX.r%d", ++g_inbox);
    h_sendf(c, "PUB %s %s %zu\r\n%s\r\n", subj, inbox, strlen(body), body);
    h_msg m;
    for (;;) { /* replies to earlier, retried requests are skipped */
        cr_assert(h_try_read_msg(c, &m, H_TIMEOUT_MS), "no reply to %s", subj);
        if (!strcmp(m.subject, inbox)) break;
        h_msg_free(&m);
    }
    char *data = m.data;
    m.data = NULL;
    h_msg_free(&m);
    return data;
}

/* The payload of a reply as request() returns it (headers, if any, skipped: libnats' Data). */
static const char *body_of(const char *data) {
    const char *end = strncmp(data, "NATS/1.0", 8) ? NULL : strstr(data, "\r\n\r\n");
    return end ? end + 4 : data;
}

static json_t *api(h_conn *c, const char *subj, const char *body) {
    char *data = request(c, subj, body);
    json_error_t err;
    json_t *j = json_loads(data, 0, &err);
    cr_assert_not_null(j, "reply to %s is not JSON: %s", subj, data);
    free(data);
    return j;
}

static void api_ok(h_conn *c, const char *subj, const char *body) {
    json_t *r = api(c, subj, body);
    cr_assert_null(json_object_get(r, "error"), "%s: %s", subj, json_dumps(r, 0));
    json_decref(r);
}

/* An audit advisory of a $JS.API.INFO call (the calls that wait for storaged). */
static bool info_audit(const h_msg *m) {
    json_t *j = json_loads(m->data, 0, NULL);
    const char *s = j ? json_string_value(json_object_get(j, "subject")) : NULL;
    bool info = s && !strcmp(s, "$JS.API.INFO");
    json_decref(j);
    return info;
}

/* Calls $JS.API.INFO on js until `watch` sees an advisory (storaged is up and knows the
 * subscription of `watch`, in its own account or through an import). */
static void wait_advisory(h_conn *js, h_conn *watch) {
    for (int i = 0; i < 500; i++) {
        char *r = request(js, "$JS.API.INFO", "");
        free(r);
        h_msg m;
        if (h_try_read_msg(watch, &m, 20)) {
            h_msg_free(&m);
            return;
        }
    }
    cr_assert_fail("no advisory ever reached the watching subscription");
}

/* The next two events on c other than $JS.API.INFO audits: their subjects are a and b. */
static void expect_pair(h_conn *c, const char *a, const char *b) {
    bool got_a = false, got_b = false;
    while (!got_a || !got_b) {
        h_msg m;
        cr_assert(h_try_read_msg(c, &m, H_TIMEOUT_MS), "missing %s", got_a ? b : a);
        if (!strcmp(m.subject, b) && info_audit(&m)) {
            h_msg_free(&m);
            continue;
        }
        if (!strcmp(m.subject, a) && !got_a)
            got_a = true;
        else if (!strcmp(m.subject, b) && !got_b)
            got_b = true;
        else
            cr_assert_fail("unexpected event on %s", m.subject);
        h_msg_free(&m);
    }
}

#define ADV_CONF                                                                                   \
    "no_auth_user: pp\n"                                                                           \
    "jetstream: { max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\" }\n"                \
    "accounts {\n"                                                                                 \
    "  JS { jetstream: enabled, users: [ {user: pp, password: pwd} ],\n"                           \
    "       exports [ { stream: '$JS.EVENT.ADVISORY.>' } ] }\n"                                    \
    "  AGG { users: [ {user: agg, password: pwd} ],\n"                                             \
    "        imports: [ { stream: { account: JS, subject: '$JS.EVENT.ADVISORY.>' },\n"             \
    "                     to: '$JS.EVENT.ADVISORY.ACC.JS.>' } ] }\n"                               \
    "  IM { users: [ {user: im, password: pwd} ],\n"                                               \
    "       imports: [ { stream: { account: JS, subject: '$JS.EVENT.ADVISORY.>' },\n"              \
    "                    prefix: js } ] }\n"                                                       \
    "  NO { jetstream: enabled, users: [ {user: none, password: pwd} ] }\n"                        \
    "}\n"

Test(jetstream_imports, advisories_cross_stream_imports) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamAccountImportJSAdvisoriesAsStream");
    env e;
    env_start(&e, ADV_CONF);
    h_conn *js = conn_apart(&e, CONN("pp"), NULL);
    h_send(js, "SUB _INBOX.> 99\r\n");
    h_conn *im = conn_apart(&e, CONN("im"), js);
    h_conn *agg = conn_apart(&e, CONN("agg"), js);
    h_conn *no = conn_apart(&e, CONN("none"), js);
    h_send(no, "SUB > 1\r\n");
    h_ping(no);

    /* Only IM listens: the importer's subscription is interest in JS's advisories. */
    h_send(im, "SUB js.$JS.EVENT.ADVISORY.> 1\r\n");
    h_ping(im);
    wait_advisory(js, im);
    api_ok(js, "$JS.API.STREAM.CREATE.FIRST", "{\"name\":\"FIRST\",\"subjects\":[\"first.*\"]}");
    expect_pair(im, "js.$JS.EVENT.ADVISORY.STREAM.CREATED.FIRST", "js.$JS.EVENT.ADVISORY.API");

    /* Go's test: JS itself and AGG (a `to` with a wildcard) listen too. */
    h_conn *jsw = conn_apart(&e, CONN("pp"), NULL);
    h_send(jsw, "SUB $JS.EVENT.ADVISORY.> 2\r\n");
    h_ping(jsw);
    h_send(agg, "SUB $JS.EVENT.ADVISORY.ACC.JS.> 1\r\n");
    h_ping(agg);
    wait_advisory(js, agg);
    api_ok(js, "$JS.API.STREAM.CREATE.ORDERS", "{\"name\":\"ORDERS\",\"subjects\":[\"ORDERS.*\"]}");
    expect_pair(jsw, "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS", "$JS.EVENT.ADVISORY.API");
    expect_pair(agg, "$JS.EVENT.ADVISORY.ACC.JS.STREAM.CREATED.ORDERS",
                "$JS.EVENT.ADVISORY.ACC.JS.API");
    expect_pair(im, "js.$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS", "js.$JS.EVENT.ADVISORY.API");

    /* NO, without the import, saw none of it (its own JetStream was never used). */
    h_expect_nothing(no, 200);
    h_close(js);
    h_close(jsw);
    h_close(im);
    h_close(agg);
    h_close(no);
    env_stop(&e);
}

/* Before the reload: IM has no import, NO no JetStream; after: IM imports with a prefix and NO
 * has JetStream (storaged applies both in one step: NO's JetStream shows the reload is done). */
#define RELOAD_CONF(im_imports, no_js)                                                             \
    "jetstream: { max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\" }\n"                \
    "accounts {\n"                                                                                 \
    "  JS { jetstream: enabled, users: [ {user: pp, password: pwd} ],\n"                           \
    "       exports [ { stream: '$JS.EVENT.ADVISORY.>' } ] }\n"                                    \
    "  IM { users: [ {user: im, password: pwd} ]" im_imports " }\n"                                \
    "  NO { " no_js "users: [ {user: none, password: pwd} ] }\n"                                   \
    "}\n"
#define RELOAD_BEFORE RELOAD_CONF("", "")
#define RELOAD_AFTER                                                                               \
    RELOAD_CONF(", imports: [ { stream: { account: JS, subject: '$JS.EVENT.ADVISORY.>' }, "        \
                "prefix: js } ]",                                                                  \
                "jetstream: enabled, ")

Test(jetstream_imports, reload_applies_new_stream_imports) {
    env e;
    env_start(&e, RELOAD_BEFORE);
    h_conn *js = conn_apart(&e, CONN("pp"), NULL);
    h_send(js, "SUB _INBOX.> 99\r\n");
    h_conn *jsw = conn_apart(&e, CONN("pp"), NULL);
    h_send(jsw, "SUB $JS.EVENT.ADVISORY.> 1\r\n");
    h_ping(jsw);
    h_conn *im = conn_apart(&e, CONN("im"), js);
    h_send(im, "SUB js.$JS.EVENT.ADVISORY.> 1\r\n");
    h_ping(im);
    h_conn *no = conn_apart(&e, CONN("none"), js);
    h_send(no, "SUB _INBOX.> 99\r\n");
    h_ping(no);
    wait_advisory(js, jsw);
    api_ok(js, "$JS.API.STREAM.CREATE.FIRST", "{\"name\":\"FIRST\",\"subjects\":[\"first\"]}");
    expect_pair(jsw, "$JS.EVENT.ADVISORY.STREAM.CREATED.FIRST", "$JS.EVENT.ADVISORY.API");
    h_expect_nothing(im, 200); /* no import yet */

    FILE *f = fopen(e.s->conf_path, "w");
    cr_assert_not_null(f);
    fprintf(f, RELOAD_AFTER, e.store);
    fclose(f);
    h_server_signal(e.s, SIGHUP);
    bool enabled = false;
    for (int i = 0; i < 500 && !enabled; i++) {
        json_t *r = api(no, "$JS.API.INFO", "");
        enabled = !json_object_get(r, "error");
        json_decref(r);
        if (!enabled) h_pause_ms(20); /* poll interval while storaged reloads */
    }
    cr_assert(enabled, "storaged never applied the reload");
    wait_advisory(js, im);
    api_ok(js, "$JS.API.STREAM.CREATE.SECOND", "{\"name\":\"SECOND\",\"subjects\":[\"second\"]}");
    expect_pair(im, "js.$JS.EVENT.ADVISORY.STREAM.CREATED.SECOND", "js.$JS.EVENT.ADVISORY.API");
    h_close(js);
    h_close(jsw);
    h_close(im);
    h_close(no);
    env_stop(&e);
}

#define DELIVER_CONF                                                                               \
    "jetstream: { max_mem_store: 4GB, max_file_store: 1TB, store_dir: \"%s\" }\n"                  \
    "accounts {\n"                                                                                 \
    "  A { jetstream: enabled, users: [ {user: a, password: pwd} ],\n"                             \
    "      exports [ { stream: \"_d_\" } ] }\n"                                                    \
    "  B { users: [ {user: b, password: pwd} ],\n"                                                 \
    "      imports [ { stream: { account: A, subject: \"_d_\" }, to: \"foo\" } ] }\n"              \
    "  C { users: [ {user: c, password: pwd} ] }\n"                                                \
    "}\n"

static json_t *consumer_info(h_conn *c, const char *stream, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.INFO.%s.%s", stream, name);
    json_t *r = api(c, subj, "");
    cr_assert_null(json_object_get(r, "error"), "consumer info: %s", json_dumps(r, 0));
    return r;
}

static json_int_t delivered_of(json_t *ci) {
    return json_integer_value(json_object_get(json_object_get(ci, "delivered"), "consumer_seq"));
}

Test(jetstream_imports, push_consumer_delivers_through_stream_import) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamCrossAccountsDeliverSubjectInterest");
    env e;
    env_start(&e, DELIVER_CONF);
    h_conn *a = conn_apart(&e, CONN("a"), NULL);
    h_send(a, "SUB _INBOX.> 99\r\n");
    h_ping(a);
    h_conn *b = conn_apart(&e, CONN("b"), a);
    h_conn *c = conn_apart(&e, CONN("c"), a);
    h_send(c, "SUB > 1\r\n");
    h_ping(c);
    for (int i = 0; i < 500; i++) { /* until storaged answers */
        char *r = request(a, "$JS.API.INFO", "");
        bool up = strstr(r, "\"type\"") != NULL;
        free(r);
        if (up) break;
        h_pause_ms(20); /* retry interval while storaged starts */
    }
    api_ok(a, "$JS.API.STREAM.CREATE.TEST", "{\"name\":\"TEST\",\"subjects\":[\"foo\"]}");
    enum { TO_SEND = 100 };
    for (int i = 0; i < TO_SEND; i++)
        api_ok(a, "foo", "OK");
    api_ok(a, "$JS.API.CONSUMER.DURABLE.CREATE.TEST.dlc",
           "{\"stream_name\":\"TEST\",\"config\":{\"durable_name\":\"dlc\","
           "\"deliver_subject\":\"_d_\",\"ack_policy\":\"explicit\"}}");

    /* The import alone is no interest: nothing is delivered.  Checking that nothing happens
     * needs a bounded wait (Go sleeps 200 ms): watched for 600 ms, over two of storaged's
     * 250 ms interest checks of a push consumer without a subscriber. */
    json_t *ci;
    for (int64_t end = h_now_ms() + 600; h_now_ms() < end; h_pause_ms(50)) {
        ci = consumer_info(a, "TEST", "dlc");
        cr_assert_eq(json_integer_value(json_object_get(ci, "num_pending")), TO_SEND);
        cr_assert_eq(delivered_of(ci), 0, "delivered without interest: %s", json_dumps(ci, 0));
        json_decref(ci);
    }

    /* B's subscription on the imported subject is: every message arrives there. */
    h_send(b, "SUB foo 1\r\n");
    h_ping(b);
    for (int i = 0; i < TO_SEND; i++) {
        h_msg m;
        h_read_msg(b, &m);
        cr_assert_str_eq(m.subject, "foo");
        cr_assert_str_eq(m.data, "OK");
        cr_assert(!strncmp(m.reply, "$JS.ACK.TEST.dlc.", 17), "reply %s", m.reply);
        h_msg_free(&m);
    }
    ci = consumer_info(a, "TEST", "dlc");
    cr_assert_eq(json_integer_value(json_object_get(ci, "num_pending")), 0);
    cr_assert_eq(delivered_of(ci), TO_SEND, "%s", json_dumps(ci, 0));
    json_decref(ci);
    h_expect_nothing(c, 200); /* C, without the import, saw none of it */
    h_close(a);
    h_close(b);
    h_close(c);
    env_stop(&e);
}

#define BASICS_CONF                                                                                \
    "no_auth_user: rip\n"                                                                          \
    "jetstream: { max_mem_store: 64GB, max_file_store: 10TB, store_dir: \"%s\" }\n"                \
    "accounts {\n"                                                                                 \
    "  JS { jetstream: enabled, users: [ {user: dlc, password: pwd} ],\n"                          \
    "       exports [ { service: \"ORDERS.*\" }, { service: \"$JS.API.CONSUMER.MSG.NEXT.*.*\" "    \
    "},\n"                                                                                         \
    "                 { stream: \"deliver.ORDERS\" }, { service: \"$JS.ACK.ORDERS.*.>\" },\n"      \
    "                 { service: \"$JS.ACK.*.*.ORDERS.*.>\" } ] }\n"                               \
    "  IU { users: [ {user: rip, password: pwd} ],\n"                                              \
    "       imports [ { service: { subject: \"ORDERS.*\", account: JS }, to: \"my.orders.*\" },\n" \
    "                 { service: { subject: \"$JS.API.CONSUMER.MSG.NEXT.ORDERS.d\", account: JS "  \
    "},\n"                                                                                         \
    "                   to: \"nxt.msg\" },\n"                                                      \
    "                 { stream: { subject: \"deliver.ORDERS\", account: JS }, to: \"d\" },\n"      \
    "                 { service: { subject: \"$JS.ACK.ORDERS.*.>\", account: JS } },\n"            \
    "                 { service: { subject: \"$JS.ACK.*.*.ORDERS.*.>\", account: JS } } ] }\n"     \
    "}\n"

static json_int_t ack_floor(h_conn *c, const char *name) {
    json_t *ci = consumer_info(c, "ORDERS", name);
    json_int_t v =
        json_integer_value(json_object_get(json_object_get(ci, "ack_floor"), "consumer_seq"));
    json_decref(ci);
    return v;
}

Test(jetstream_imports, imported_publish_pull_push_and_acks) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAccountImportBasics",
                    "the service import is written `to: my.orders.*`: the broker does not yet "
                    "honour Go's `to: my.orders.$1` form (no responders)");
    env e;
    env_start(&e, BASICS_CONF);
    h_conn *js = conn_apart(&e, CONN("dlc"), NULL);
    h_send(js, "SUB _INBOX.> 99\r\n");
    h_ping(js);
    h_conn *iu = conn_apart(&e, CONN("rip"), js);
    h_send(iu, "SUB _INBOX.> 99\r\n");
    h_ping(iu);
    for (int i = 0; i < 500; i++) { /* until storaged answers */
        char *r = request(js, "$JS.API.INFO", "");
        bool up = strstr(r, "\"type\"") != NULL;
        free(r);
        if (up) break;
        h_pause_ms(20); /* retry interval while storaged starts */
    }
    api_ok(js, "$JS.API.STREAM.CREATE.ORDERS", "{\"name\":\"ORDERS\",\"subjects\":[\"ORDERS.*\"]}");

    /* Publishing into the stream through the service import, with the PubAck back.  IU's
     * worker learns of the stream's subjects over the mesh: until then, no responders. */
    char *first = request(iu, "my.orders.foo", "ORDERS-1");
    for (int i = 0; i < 500 && !strncmp(first, "NATS/1.0 503", 12); i++) {
        free(first);
        h_pause_ms(10); /* retry interval */
        first = request(iu, "my.orders.foo", "ORDERS-1");
    }
    json_t *ack = json_loads(first, 0, NULL);
    cr_assert_not_null(ack, "PubAck: %s", first);
    free(first);
    cr_assert_str_eq(json_string_value(json_object_get(ack, "stream")), "ORDERS");
    cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), 1);
    json_decref(ack);
    ack = api(iu, "my.orders.bar", "ORDERS-2");
    cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), 2);
    json_decref(ack);

    /* A pull consumer's next message through the service import. */
    api_ok(js, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.d",
           "{\"stream_name\":\"ORDERS\",\"config\":{\"durable_name\":\"d\","
           "\"ack_policy\":\"explicit\"}}");
    char *next = request(iu, "nxt.msg", "");
    cr_assert_str_eq(body_of(next), "ORDERS-1");
    free(next);

    /* A push consumer delivering into IU through the stream import (deliver.ORDERS -> d). */
    h_send(iu, "SUB d 1\r\n");
    h_ping(iu);
    api_ok(js, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.p",
           "{\"stream_name\":\"ORDERS\",\"config\":{\"durable_name\":\"p\","
           "\"deliver_subject\":\"deliver.ORDERS\",\"ack_policy\":\"explicit\"}}");
    h_msg m;
    h_read_msg(iu, &m);
    cr_assert_str_eq(m.sid, "1");
    cr_assert_str_eq(m.subject, "ORDERS.foo"); /* the stored subject, across the boundary */
    cr_assert_str_eq(body_of(m.data), "ORDERS-1");
    h_sendf(iu, "PUB %s 0\r\n\r\n", m.reply); /* acked through the service import */
    h_msg_free(&m);
    for (int i = 0; i < 500 && ack_floor(js, "p") != 1; i++)
        h_pause_ms(10); /* poll interval: the ack crosses the mesh to storaged */
    cr_assert_eq(ack_floor(js, "p"), 1, "the ack did not arrive");

    h_read_msg(iu, &m);
    cr_assert_str_eq(m.subject, "ORDERS.bar");
    char reply[256];
    snprintf(reply, sizeof reply, "%s", m.reply);
    h_msg_free(&m);
    char *resp = request(iu, reply, ""); /* an ack with a reply is answered */
    free(resp);
    cr_assert_eq(ack_floor(js, "p"), 2);
    h_close(js);
    h_close(iu);
    env_stop(&e);
}
