/* External sources and mirrors across accounts through the real processes: account B exports
 * its JetStream API and its deliver subjects, A imports them under "$JS.B.API" and
 * "deliver.B" (Go's usual cross-account setup), C imports nothing.  A's streams sourcing or
 * mirroring B's ORIGIN with external {api, deliver} receive what B's client publishes, C's
 * do not, and STREAM.INFO shows the source with its external block.
 * Ports Go nats-server v2.14.5 server/jetstream_test.go
 * TestJetStreamMirrorCrossAccountWithFilteredSubjectAndSubjectTransform (its setup). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"

#define CONN(u)                                                                                    \
    "{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"user\":\"" u  \
    "\",\"pass\":\"" u "\"}"

static const char *const conf_fmt =
    "jetstream { store_dir: \"%s\"%s }\n"
    "accounts {\n"
    "  A { jetstream: enabled, users [ {user: a, password: a} ],\n"
    "      imports [ {service: {account: B, subject: \"$JS.API.>\"}, to: \"$JS.B.API.>\"},\n"
    "                {service: {account: B, subject: \"$JS.FC.>\"}},\n"
    "                {stream: {account: B, subject: \"deliver.B.>\"}} ] }\n"
    "  B { jetstream: enabled, users [ {user: b, password: b} ],\n"
    "      exports [ {service: \"$JS.API.>\"}, {service: \"$JS.FC.>\"},\n"
    "                {stream: \"deliver.B.>\"} ] }\n"
    "  C { jetstream: enabled, users [ {user: c, password: c} ] }\n"
    "}\n";

typedef struct env {
    char store[64];
    h_server *s;
    h_conn *a, *b, *c;
} env;

static h_conn *conn(env *e, const char *json) {
    h_conn *c = h_connect_setup(e->s->port, json);
    h_send(c, "SUB _INBOX.> 99\r\n");
    h_ping(c);
    return c;
}

static void env_start_dom(env *e, const char *extra) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-jsext-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    char conf[2048];
    snprintf(conf, sizeof conf, conf_fmt, e->store, extra);
    e->s = h_server_start(conf, "-m", "-1");
    e->a = conn(e, CONN("a"));
    e->b = conn(e, CONN("b"));
    e->c = conn(e, CONN("c"));
    js_wait_api(e->a);
    js_wait_api(e->b);
    js_wait_api(e->c);
}

static void env_start(env *e) {
    env_start_dom(e, "");
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

static json_t *info(h_conn *c, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    json_t *r = js_request_json(c, subj, "");
    cr_assert_not_null(json_object_get(r, "state"), "no state: %s", json_dumps(r, 0));
    return r;
}

static json_int_t stream_msgs(h_conn *c, const char *name) {
    json_t *r = info(c, name);
    json_int_t n = json_integer_value(json_object_get(json_object_get(r, "state"), "messages"));
    json_decref(r);
    return n;
}

/* Waits for the stream to hold `want` messages (sourcing is asynchronous in Go). */
static void wait_msgs(h_conn *c, const char *name, json_int_t want) {
    json_int_t n = -1;
    for (int64_t deadline = h_now_ms() + 5000; h_now_ms() < deadline;) {
        if ((n = stream_msgs(c, name)) == want) return;
        h_pause_ms(20); /* poll interval */
    }
    cr_assert_fail("%s holds %lld messages, want %lld", name, (long long)n, (long long)want);
}

static void publish_n(h_conn *c, const char *subj, int n) {
    for (int i = 0; i < n; i++) {
        json_t *ack = js_request_json(c, subj, "payload");
        cr_assert_null(json_object_get(ack, "error"), "publish: %s", json_dumps(ack, 0));
        json_decref(ack);
    }
}

#define EXT_B "\"external\":{\"api\":\"$JS.B.API\",\"deliver\":\"deliver.B\"}"

Test(jetstream_ext_sources, source_and_mirror_through_imports) {
    GO_TEST_PARTIAL("server/jetstream_test.go",
                    "TestJetStreamMirrorCrossAccountWithFilteredSubjectAndSubjectTransform",
                    "whole-API export instead of per-filter consumer create exports");
    env e;
    env_start(&e);
    create(e.b, "ORIGIN", "{\"name\":\"ORIGIN\",\"subjects\":[\"o.>\"]}");
    publish_n(e.b, "o.a", 2);
    /* The imported API reaches B's JetStream from A. */
    json_t *r = js_request_json(e.a, "$JS.B.API.STREAM.INFO.ORIGIN", "");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "state"), "messages")), 2,
                 "%s", json_dumps(r, 0));
    json_decref(r);

    create(e.a, "S", "{\"name\":\"S\",\"sources\":[{\"name\":\"ORIGIN\"," EXT_B "}]}");
    create(e.a, "M",
           "{\"name\":\"M\",\"mirror\":{\"name\":\"ORIGIN\",\"filter_subject\":\"o.b\"," EXT_B
           "}}");
    create(e.c, "S", "{\"name\":\"S\",\"sources\":[{\"name\":\"ORIGIN\"," EXT_B "}]}");
    wait_msgs(e.a, "S", 2);
    publish_n(e.b, "o.b", 3);
    wait_msgs(e.a, "S", 5);
    wait_msgs(e.a, "M", 3);

    r = info(e.a, "S");
    json_t *s0 = json_array_get(json_object_get(r, "sources"), 0);
    cr_assert_not_null(s0, "%s", json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(s0, "name")), "ORIGIN");
    json_t *ext = json_object_get(s0, "external");
    cr_assert_str_eq(json_string_value(json_object_get(ext, "api")), "$JS.B.API");
    cr_assert_str_eq(json_string_value(json_object_get(ext, "deliver")), "deliver.B");
    cr_assert_eq(json_integer_value(json_object_get(s0, "lag")), 0);
    cr_assert_null(json_object_get(s0, "error"));
    json_decref(r);
    r = info(e.a, "M");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "state"), "last_seq")), 5);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(r, "mirror"), "external"), "api")),
                     "$JS.B.API");
    json_decref(r);

    /* C has no imports: its request to "$JS.B.API" has no responders, nothing is sourced. */
    cr_assert_eq(stream_msgs(e.c, "S"), 0);
    r = info(e.c, "S");
    s0 = json_array_get(json_object_get(r, "sources"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(s0, "external"), "api")),
                     "$JS.B.API");
    cr_assert_eq(json_integer_value(json_object_get(s0, "active")), -1);
    json_decref(r);
    env_stop(&e);
}

Test(jetstream_ext_sources, prefix_checks) {
    env e;
    env_start(&e);
    json_t *r =
        js_request_json(e.a, "$JS.API.STREAM.CREATE.X",
            "{\"name\":\"X\",\"sources\":[{\"name\":\"O\",\"external\":{\"api\":\"$JS.API\"}}]}");
    json_t *err = json_object_get(r, "error");
    cr_assert_eq(json_integer_value(json_object_get(err, "err_code")), 10021, "%s",
                 json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(err, "description")),
                     "stream external api prefix $JS.API must not overlap with $JS.API");
    json_decref(r);
    r = js_request_json(e.a, "$JS.API.STREAM.CREATE.X",
            "{\"name\":\"X\",\"mirror\":{\"name\":\"O\",\"external\":{\"api\":\"$JS.B.API\","
            "\"deliver\":\"d.>\"}}}");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "err_code")),
                 10024, "%s", json_dumps(r, 0));
    json_decref(r);
    env_stop(&e);
}

/* What clients make of a source's `domain: "HUB"` on the server of domain HUB: the API prefix
 * "$JS.HUB.API".  Go maps it for client connections only, not for the stream's own consumer
 * request, so on a standalone server nothing is sourced (the source is never heard from). */
Test(jetstream_ext_sources, own_domain_source_not_reached) {
    env e;
    env_start_dom(&e, ", domain: HUB");
    create(e.a, "O", "{\"name\":\"O\",\"subjects\":[\"x.>\"]}");
    publish_n(e.a, "x.1", 2);
    create(e.a, "S",
           "{\"name\":\"S\",\"sources\":[{\"name\":\"O\",\"external\":{\"api\":\"$JS.HUB.API\","
           "\"deliver\":\"\"}}]}");
    publish_n(e.a, "x.2", 1);
    cr_assert_eq(stream_msgs(e.a, "S"), 0);
    json_t *r = info(e.a, "S");
    json_t *s0 = json_array_get(json_object_get(r, "sources"), 0);
    cr_assert_eq(json_integer_value(json_object_get(s0, "active")), -1, "%s", json_dumps(r, 0));
    json_decref(r);
    env_stop(&e);
}
