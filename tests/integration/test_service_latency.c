/* Service latency tracking: ports the applicable cases of Go nats-server v2.14.5
 * test/service_latency_test.go (one server; the responder, requester and metrics subscriber
 * on one broker worker or spread over two) with raw protocol connections. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/accounts_util.h"

/* Go's TestServiceLatencyHeaderTriggered accounts: SVC exports svc.echo with latency on
 * latency.svc, CLIENT imports it as SVC. */
static char *conf_svc(const char *sampling, bool share) {
    char *c = NULL;
    int n = asprintf(&c,
                     "accounts: {\n"
                     "  SVC: {\n"
                     "    users: [ {user: svc, password: pass} ]\n"
                     "    exports: [ { service: \"svc.echo\", accounts: [CLIENT],\n"
                     "      latency: { sampling: %s, subject: latency.svc } } ]\n"
                     "  },\n"
                     "  CLIENT: {\n"
                     "    users: [ {user: client, password: pass} ]\n"
                     "    imports: [ {service: {account: SVC, subject: svc.echo}, to: SVC,"
                     " share: %s} ]\n"
                     "  },\n"
                     "  SYS: { users: [ {user: admin, password: pass} ] }\n"
                     "}\n"
                     "system_account: SYS\n",
                     sampling, share ? "true" : "false");
    cr_assert_gt(n, 0);
    return c;
}

/* The next ServiceLatency event on the metrics connection, checked for Go's typed event
 * fields and its status. */
static json_t *read_event(h_conn *metrics, int status) {
    h_msg m;
    h_read_msg(metrics, &m);
    cr_assert_str_eq(m.subject, "latency.svc");
    json_error_t err;
    json_t *j = json_loads(m.data, 0, &err);
    cr_assert_not_null(j, "not JSON: %s", m.data);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")),
                     "io.nats.server.metric.v1.service_latency");
    cr_assert_eq(strlen(json_string_value(json_object_get(j, "id"))), 22);
    const char *ts = json_string_value(json_object_get(j, "timestamp"));
    cr_assert(ts && ts[strlen(ts) - 1] == 'Z', "timestamp in UTC: %s", m.data);
    const char *start = json_string_value(json_object_get(j, "start"));
    cr_assert(start && start[strlen(start) - 1] == 'Z', "start in UTC: %s", m.data);
    cr_assert_eq(json_integer_value(json_object_get(j, "status")), status, "%s", m.data);
    for (const char *k = "service"; k; k = !strcmp(k, "service")  ? "system"
                                           : !strcmp(k, "system") ? "total"
                                                                  : NULL) {
        json_t *v = json_object_get(j, k);
        cr_assert(json_is_integer(v) && json_integer_value(v) >= 0, "%s: %s", k, m.data);
    }
    h_msg_free(&m);
    return j;
}

static json_int_t ival(json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}

/* Go checkServiceLatency without the timing bounds, and noShareCheck / extendedCheck. */
static void check_200(json_t *j, bool share, bool responder_known) {
    json_t *req = json_object_get(j, "requestor"), *resp = json_object_get(j, "responder");
    cr_assert_not_null(req);
    cr_assert_str_eq(json_string_value(json_object_get(req, "acc")), "CLIENT");
    cr_assert_gt(ival(req, "rtt"), 0, "the requester's RTT is known");
    if (share) {
        cr_assert_str_eq(json_string_value(json_object_get(req, "user")), "client");
        cr_assert_not_null(json_object_get(req, "host"));
        cr_assert_gt(ival(req, "id"), 0);
        cr_assert_not_null(json_object_get(req, "server"));
    } else {
        cr_assert_null(json_object_get(req, "user"), "not shared");
        cr_assert_null(json_object_get(req, "host"));
        cr_assert_null(json_object_get(req, "id"));
        cr_assert_null(json_object_get(req, "server"));
    }
    json_int_t service = ival(j, "service"), sys = ival(j, "system"), total = ival(j, "total");
    cr_assert_geq(total, service);
    if (responder_known) {
        cr_assert_not_null(resp);
        cr_assert_str_eq(json_string_value(json_object_get(resp, "acc")), "SVC");
        cr_assert_str_eq(json_string_value(json_object_get(resp, "user")), "svc");
        cr_assert_not_null(json_object_get(resp, "server"));
        cr_assert_gt(ival(resp, "rtt"), 0);
        /* Go: "Numbers do not add up" (unless the service time, the round trip less the
         * responder's RTT, went negative and was clamped to 0 as Go's sanitizeLatencyMetric
         * does: the test's responder answers at once) */
        if (service > 0)
            cr_assert_eq(total, service + ival(req, "rtt") + ival(resp, "rtt") + sys);
        else
            cr_assert_geq(total, ival(req, "rtt"));
    } else {
        cr_assert_eq(total, service + ival(req, "rtt") + sys);
    }
}

/* responder (as svc, named service22), requester (client) and metrics (svc) on the given
 * workers; one sampled request answered, then one with no responder, then one without a
 * reply subject. */
static void round_trip(int workers, int w_resp, int w_req, int w_metrics, bool share) {
    char *c = conf_svc("100%", share);
    h_server *s = start_w(c, workers);
    free(c);
    h_conn *metrics = user_on(s, workers, w_metrics, "svc", "pass");
    h_send(metrics, "SUB latency.svc 9\r\n");
    h_ping(metrics);
    char json[512];
    snprintf(json, sizeof json,
             "{" OPTS ",\"user\":\"svc\",\"pass\":\"pass\",\"name\":\"service22\"}");
    h_conn *resp = wu_connect_on_worker(s, workers > 1 ? w_resp : -1, json);
    h_send(resp, "SUB svc.echo 1\r\n");
    h_ping(resp);
    h_conn *req = user_on(s, workers, w_req, "client", "pass");
    h_send(req, "SUB my.reply 1\r\n");
    h_ping(req);
    /* Interest reaches the other worker through the mesh: wait for the round trip to work. */
    h_send(req, "PUB SVC my.reply 2\r\n1h\r\n");
    h_msg m;
    h_read_msg(resp, &m);
    cr_assert_str_eq(m.subject, "svc.echo");
    cr_assert(m.hmsg && strstr(m.data, "Nats-Request-Info: {") &&
                  strstr(m.data, "\"acc\":\"CLIENT\""),
              "%s", m.data);
    cr_assert_str_eq(m.data + m.hdr_len, "1h");
    if (share) /* Go getClientInfo(true) in the request's Nats-Request-Info too */
        cr_assert(strstr(m.data, "\"user\":\"client\"") && strstr(m.data, "\"kind\":\"Client\""),
                  "%s", m.data);
    h_sendf(resp, "PUB %s 5\r\nworld\r\n", m.reply);
    h_msg_free(&m);
    expect_msg(req, "my.reply", "1", "world");
    json_t *j = read_event(metrics, 200);
    bool same = w_resp == w_req || workers == 1;
    check_200(j, share, same);
    if (same) /* Go extendedCheck */
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(j, "responder"), "name")),
            "service22");
    cr_assert_null(json_object_get(j, "header"), "sampled by percentage: no header");
    json_decref(j);

    /* No responder: 503 (Go TestServiceLatencyFailureReportingSingleServer).  On the
     * requester's own worker, so that the lost interest is known there at once. */
    h_send(resp, "UNSUB 1\r\n");
    h_ping(resp);
    h_close(resp);
    if (same) {
        h_send(req, "PUB SVC my.reply 2\r\n1h\r\n");
        j = read_event(metrics, 503);
        cr_assert_str_eq(json_string_value(json_object_get(j, "description")),
                         "Service Unavailable");
        cr_assert_null(json_object_get(j, "responder"));
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "requestor"), "acc")),
                         "CLIENT");
        json_decref(j);
    }

    /* No reply subject: 400. */
    h_send(req, "PUB SVC 2\r\n1h\r\n");
    j = read_event(metrics, 400);
    cr_assert_str_eq(json_string_value(json_object_get(j, "description")), "Bad Request");
    json_decref(j);
    h_close(req);
    h_close(metrics);
    h_server_stop(s);
}

Test(service_latency, single_worker) {
    GO_TEST_PARTIAL("test/service_latency_test.go", "TestServiceLatencySingleServerConnect",
                    "no service-time bounds (no sleeping responder); one server, not a "
                    "supercluster");
    GO_TEST_PARTIAL("test/service_latency_test.go",
                    "TestServiceLatencyFailureReportingSingleServer",
                    "400 and 503 (504: threshold_expires_the_request_with_504); not 408");
    GO_TEST_PARTIAL("test/service_latency_test.go", "TestServiceLatencyWithName",
                    "the responder's name and details, the requester's not shared");
    GO_TEST_PARTIAL("test/service_latency_test.go", "TestServiceLatencyOldRequestStyleSingleServer",
                    "a literal reply subject as the old request style uses; no service-time "
                    "bounds");
    round_trip(1, 0, 0, 0, false);
}

Test(service_latency, requestor_shares_details) {
    GO_TEST_PARTIAL("test/service_latency_test.go", "TestServiceLatencyRequestorSharesConfig",
                    "share from the config file; not the reload of the import");
    round_trip(1, 0, 0, 0, true);
}

Test(service_latency, responder_and_requester_on_other_workers, .timeout = 60) {
    /* The reply mapping lives on the requester's worker: the response and the event come
     * from there; the metrics subscriber is on the responder's worker. */
    round_trip(2, 0, 1, 0, false);
    round_trip(2, 1, 1, 0, false);
}

Test(service_latency, sampling_percentage, .timeout = 60) {
    GO_TEST("test/service_latency_test.go", "TestServiceLatencySampling");
    if (h_server_is_go()) /* its events leave through a send loop: the marker may overtake */
        cr_skip_test("counting needs this server's in-order events");
    char *c = conf_svc("50%", false);
    h_server *s = start_w(c, 1);
    free(c);
    h_conn *metrics = user_on(s, 1, 0, "svc", "pass");
    h_send(metrics, "SUB latency.svc 9\r\n");
    h_ping(metrics);
    h_conn *resp = user_on(s, 1, 0, "svc", "pass");
    h_send(resp, "SUB svc.echo 1\r\n");
    h_ping(resp);
    h_conn *req = user_on(s, 1, 0, "client", "pass");
    h_send(req, "SUB my.reply 1\r\n");
    h_ping(req);
    enum { N = 1000 };
    static char batch[N * 24 + 1];
    size_t bl = 0;
    for (int i = 0; i < N; i++)
        bl += (size_t)snprintf(batch + bl, sizeof batch - bl, "PUB SVC my.reply 2\r\n1h\r\n");
    h_sendn(req, batch, bl);
    /* (h_try_read_msg answers the server's PINGs meanwhile) */
    for (int i = 0; i < N; i++) {
        h_msg m;
        cr_assert(h_try_read_msg(resp, &m, H_TIMEOUT_MS), "request %d", i);
        h_sendf(resp, "PUB %s 2\r\nok\r\n", m.reply);
        h_msg_free(&m);
    }
    for (int i = 0; i < N; i++) {
        h_msg m;
        cr_assert(h_try_read_msg(req, &m, H_TIMEOUT_MS), "response %d", i);
        h_msg_free(&m);
    }
    /* Every event was queued with its response on this worker: a marker published on the
     * latency subject now (echo is on) arrives after them all. */
    h_send(metrics, "PUB latency.svc 3\r\nend\r\n");
    int got = 0;
    for (;;) {
        h_msg m;
        cr_assert(h_try_read_msg(metrics, &m, H_TIMEOUT_MS), "the marker must arrive");
        bool end = !strcmp(m.data, "end");
        h_msg_free(&m);
        if (end) break;
        got++;
    }
    /* Go's bounds: half, give or take 10% of the requests. */
    cr_assert(got >= N / 2 - N / 10 && got <= N / 2 + N / 10, "sampled %d of %d", got, N);
    h_close(req);
    h_close(resp);
    h_close(metrics);
    h_server_stop(s);
}

/* A request with the given header lines (each "K: v\r\n"), answered; returns the event or
 * NULL when none came before the marker request's event (which carries "Marker"). */
static json_t *header_request(h_conn *req, h_conn *resp, h_conn *metrics, const char *hdrs) {
    size_t hl = strlen("NATS/1.0\r\n") + strlen(hdrs) + strlen("Some-Other: value\r\n") + 2;
    h_sendf(req, "HPUB SVC my.reply %zu %zu\r\nNATS/1.0\r\n%sSome-Other: value\r\n\r\n1h\r\n", hl,
            hl + 2, hdrs);
    h_msg m;
    h_read_msg(resp, &m);
    h_sendf(resp, "PUB %s 5\r\nworld\r\n", m.reply);
    h_msg_free(&m);
    h_read_msg(req, &m);
    h_msg_free(&m);
    /* A marker that is always sampled: the next event is either this request's or the
     * marker's. */
    const char *mk = "NATS/1.0\r\nX-B3-Sampled: 1\r\nX-B3-Spanid: marker\r\n\r\n";
    h_sendf(req, "HPUB SVC my.reply %zu %zu\r\n%s1h\r\n", strlen(mk), strlen(mk) + 2, mk);
    h_read_msg(resp, &m);
    h_sendf(resp, "PUB %s 5\r\nworld\r\n", m.reply);
    h_msg_free(&m);
    h_read_msg(req, &m);
    h_msg_free(&m);
    json_t *j = read_event(metrics, 200);
    json_t *span = json_object_get(json_object_get(j, "header"), "X-B3-Spanid");
    if (span && !strcmp(json_string_value(json_array_get(span, 0)), "marker")) {
        json_decref(j);
        return NULL;
    }
    json_decref(read_event(metrics, 200)); /* the marker's */
    return j;
}

static void expect_header(json_t *j, const char *key, const char *value) {
    json_t *h = json_object_get(j, "header");
    cr_assert_not_null(h, "event without header");
    cr_assert_null(json_object_get(h, "Some-Other"), "only the trace headers are kept");
    json_t *v = json_object_get(h, key);
    cr_assert(json_is_array(v), "header %s missing", key);
    cr_assert_str_eq(json_string_value(json_array_get(v, 0)), value);
}

Test(service_latency, header_triggered_sampling) {
    GO_TEST("test/service_latency_test.go", "TestServiceLatencyHeaderTriggered");
    char *c = conf_svc("headers", false);
    h_server *s = start_w(c, 1);
    free(c);
    h_conn *metrics = user_on(s, 1, 0, "svc", "pass");
    h_send(metrics, "SUB latency.svc 9\r\n");
    h_ping(metrics);
    h_conn *resp = user_on(s, 1, 0, "svc", "pass");
    h_send(resp, "SUB svc.echo 1\r\n");
    h_ping(resp);
    h_conn *req = user_on(s, 1, 0, "client", "pass");
    h_send(req, "SUB my.reply 1\r\n");
    h_ping(req);

    json_t *j = header_request(req, resp, metrics,
                               "Uber-Trace-Id: 479fefe9525eddb:479fefe9525eddb:0:1\r\n"
                               "Uberctx-X: foo\r\n");
    expect_header(j, "Uber-Trace-Id", "479fefe9525eddb:479fefe9525eddb:0:1");
    expect_header(j, "Uberctx-X", "foo");
    check_200(j, false, true);
    json_decref(j);
    j = header_request(req, resp, metrics,
                       "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
                       "X-B3-ParentSpanId: 05e3ac9a4f6e3b90\r\n"
                       "X-B3-SpanId: e457b5a2e4d86bd1\r\n");
    expect_header(j, "X-B3-Traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    expect_header(j, "X-B3-Parentspanid", "05e3ac9a4f6e3b90");
    expect_header(j, "X-B3-Spanid", "e457b5a2e4d86bd1");
    json_decref(j);
    j = header_request(
        req, resp, metrics,
        "B3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90\r\n");
    expect_header(j, "B3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
    json_decref(j);
    j = header_request(req, resp, metrics,
                       "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
                       "Tracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE\r\n");
    expect_header(j, "Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect_header(j, "Tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    json_decref(j);
    /* Not sampled: no header, a denied B3/W3C flag, an even Uber flag. */
    cr_assert_null(header_request(req, resp, metrics, ""));
    cr_assert_null(header_request(req, resp, metrics,
                                  "X-B3-Sampled: 0\r\n"
                                  "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"));
    cr_assert_null(header_request(req, resp, metrics, "B3: 0\r\n"));
    cr_assert_null(
        header_request(req, resp, metrics,
                       "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n"));
    cr_assert_null(header_request(req, resp, metrics,
                                  "Uber-Trace-Id: 479fefe9525eddb:479fefe9525eddb:0:2\r\n"));
    h_close(req);
    h_close(resp);
    h_close(metrics);
    h_server_stop(s);
}

/* The export's `threshold` bounds the reply mapping: a responder too slow gets a 504 event
 * when it passes, and its late response no longer reaches the requester. */
Test(service_latency, threshold_expires_the_request_with_504) {
    GO_TEST_PARTIAL("test/service_latency_test.go",
                    "TestServiceLatencyFailureReportingSingleServer",
                    "504 once the export's threshold (500ms) passes without a response");
    const char *conf =
        "accounts: {\n"
        "  SVC: {\n"
        "    users: [ {user: svc, password: pass} ]\n"
        "    exports: [ { service: \"svc.echo\", accounts: [CLIENT], threshold: \"500ms\",\n"
        "      latency: { sampling: 100%, subject: latency.svc } } ]\n"
        "  },\n"
        "  CLIENT: {\n"
        "    users: [ {user: client, password: pass} ]\n"
        "    imports: [ {service: {account: SVC, subject: svc.echo}, to: SVC} ]\n"
        "  },\n"
        "  SYS: { users: [ {user: admin, password: pass} ] }\n"
        "}\n"
        "system_account: SYS\n";
    h_server *s = start_w(conf, 1);
    h_conn *metrics = user_on(s, 1, 0, "svc", "pass");
    h_send(metrics, "SUB latency.svc 9\r\n");
    h_ping(metrics);
    h_conn *resp = user_on(s, 1, 0, "svc", "pass");
    h_send(resp, "SUB svc.echo 1\r\n");
    h_ping(resp);
    h_conn *req = user_on(s, 1, 0, "client", "pass");
    h_send(req, "SUB my.reply 1\r\n");
    h_ping(req);
    h_send(req, "PUB SVC my.reply 2\r\n1h\r\n");
    h_msg m;
    h_read_msg(resp, &m); /* the responder holds on to it */
    json_t *j = read_event(metrics, 504);
    json_decref(j);
    h_sendf(resp, "PUB %s 4\r\nlate\r\n", m.reply); /* too late: the mapping is gone */
    h_msg_free(&m);
    h_ping(resp);
    h_send(req, "PING\r\n");
    h_expect(req, "PONG\r\n"); /* nothing delivered before the PONG */
    h_close(req);
    h_close(resp);
    h_close(metrics);
    h_server_stop(s);
}
