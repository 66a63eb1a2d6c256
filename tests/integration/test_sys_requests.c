/* The system account's monitoring requests ($SYS.REQ.SERVER.* / $SYS.REQ.ACCOUNT.*) as a client
 * of the system account sees them.
 *
 * Ports the single-server cases of nats-server v2.14.5 server/events_test.go
 * (TestServerEventsPingMonitorz, TestAccountReqMonitoring, TestAccountReqInfo,
 * TestServerEventsPingStatsZFilter / FailFilter, TestServerEventsFilteredByTag,
 * TestServerEventsHealthZSingleServer, TestServerAccountConns, TestServerEventsLDMKick) with
 * accounts from a config file instead of JWTs.  Each runs with one broker worker and with two,
 * connections placed on both, so answers built by the supervisor cover every worker.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/accounts_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/worker_util.h"

static const char *conf = "accounts {\n"
                          "  A { users [ {user: a, password: a} ] }\n"
                          "  SYS { users [ {user: sys, password: sys} ] }\n"
                          "}\n"
                          "system_account: SYS\n"
                          "server_name: srv-sysreq\n";

/* Sends a request (body may be NULL) and reads the one answer as JSON. */
static json_t *request(h_conn *c, const char *subject, const char *body) {
    static int n;
    char inbox[64];
    snprintf(inbox, sizeof inbox, "_INBOX.rq%d", ++n);
    size_t bl = body ? strlen(body) : 0;
    h_sendf(c, "SUB %s %d\r\nPUB %s %s %zu\r\n%s\r\n", inbox, 1000 + n, subject, inbox, bl,
            body ? body : "");
    h_msg m; /* (the server's first PING may come in between: answered) */
    cr_assert(h_try_read_msg(c, &m, 10000), "no answer to %s", subject);
    cr_assert_str_eq(m.subject, inbox);
    json_error_t e;
    json_t *j = json_loads(m.data, 0, &e);
    cr_assert(j, "bad JSON for %s: %.300s", subject, m.data);
    h_msg_free(&m);
    h_sendf(c, "UNSUB %d\r\n", 1000 + n);
    return j;
}

/* Sends a request that must get no answer: a request answered after it (PING.CONNZ, which every
 * account can make) comes back first.  Answers leave in request order (worker 0, then the
 * supervisor's one request thread), so an answer to the first would have come before. */
static void no_answer(h_conn *c, const char *subject, const char *body) {
    size_t bl = body ? strlen(body) : 0;
    h_sendf(c, "SUB _INBOX.none 9\r\nPUB %s _INBOX.none %zu\r\n%s\r\n", subject, bl,
            body ? body : "");
    h_send(c, "SUB _INBOX.sentinel 8\r\nPUB $SYS.REQ.SERVER.PING.CONNZ _INBOX.sentinel 0\r\n\r\n");
    h_msg m;
    cr_assert(h_try_read_msg(c, &m, 10000), "no answer to the sentinel");
    cr_assert_str_eq(m.subject, "_INBOX.sentinel", "%s %s was answered: %.200s", subject,
                     body ? body : "", m.data);
    h_msg_free(&m);
    h_send(c, "UNSUB 9\r\nUNSUB 8\r\n");
}

static json_t *at(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static const char *str_at(json_t *o, const char *a, const char *b) {
    return json_string_value(at(o, a, b));
}

static json_int_t int_at(json_t *o, const char *a, const char *b) {
    return json_integer_value(at(o, a, b));
}

/* The server id from INFO. */
static void server_id(h_server *s, char *out, size_t cap) {
    h_conn *p = h_connect(s->port);
    json_t *info = h_read_info(p);
    snprintf(out, cap, "%s", json_string_value(json_object_get(info, "server_id")));
    json_decref(info);
    h_close(p);
}

/* The envelope of every answer: Go ServerInfo of this server. */
static void check_server(json_t *r, const char *id) {
    cr_assert_str_eq(str_at(r, "server", "id"), id);
    cr_assert_str_eq(str_at(r, "server", "name"), "srv-sysreq");
    cr_assert_str_eq(str_at(r, "server", "ver"), "2.14.5");
    cr_assert_gt(int_at(r, "server", "seq"), 0);
    cr_assert(str_at(r, "server", "time"));
}

static void ping_monitorz(int workers) {
    H_SKIP_IF_GO("2.9 lacks some endpoints and fields");
    h_server *s = start_w(conf, workers);
    char id[64];
    server_id(s, id, sizeof id);
    h_conn *sys = user_on(s, workers, 0, "sys", "sys");
    h_conn *a[2];
    for (int w = 0; w < 2; w++) { /* one A connection on each worker, with a subscription */
        a[w] = user_on(s, workers, w % workers, "a", "a");
        h_sendf(a[w], "SUB a.sub.%d 1\r\n", w);
        h_ping(a[w]);
    }
    static const struct {
        const char *ep, *body, *field;
    } cases[] = {
        {"VARZ", NULL, "now"},
        {"SUBSZ", NULL, "num_subscriptions"},
        {"CONNZ", NULL, "connections"},
        {"ROUTEZ", NULL, "routes"},
        {"GATEWAYZ", NULL, "outbound_gateways"},
        {"LEAFZ", NULL, "leafs"},
        {"SUBSZ", "{\"offset\":0,\"limit\":0,\"subscriptions\":false}", "num_cache"},
        {"CONNZ",
         "{\"sort\":\"\",\"auth\":false,\"subscriptions\":false,"
         "\"subscriptions_detail\":false,\"offset\":0,\"limit\":0,\"cid\":0,"
         "\"mqtt_client\":\"\",\"state\":0,\"user\":\"\",\"acc\":\"\","
         "\"filter_subject\":\"\"}",
         "now"},
        {"ROUTEZ", "{\"subscriptions\":false,\"subscriptions_detail\":true}", "routes"},
        {"GATEWAYZ", "{\"name\":\"\",\"accounts\":true}", "inbound_gateways"},
        {"LEAFZ", "{\"subscriptions\":true}", "leafs"},
        {"ACCOUNTZ", "{\"account\":\"\"}", "accounts"},
        {"ROUTEZ", "{\"cluster\":\"\"}", "routes"},
        {"JSZ", NULL, "disabled"},
        {"HEALTHZ", NULL, "status"},
        {"HEALTHZ", "{\"js-enabled-only\":true}", "status"},
        {"HEALTHZ", "{\"js-server-only\":true}", "status"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char subj[128];
        /* Alternately the PING subject and the one naming this server. */
        snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.%s", i % 2 ? id : "PING", cases[i].ep);
        json_t *r = request(sys, subj, cases[i].body);
        check_server(r, id);
        cr_assert(!at(r, "error", NULL), "%s: %s", subj, json_dumps(r, 0));
        cr_assert(at(r, "data", cases[i].field), "%s lacks data.%s", subj, cases[i].field);
        json_decref(r);
    }
    /* VARZ is /varz: the INFO's server id; CONNZ lists every worker's connections. */
    json_t *r = request(sys, "$SYS.REQ.SERVER.PING.VARZ", NULL);
    char host[64];
    snprintf(host, sizeof host, "%s", str_at(r, "data", "host"));
    cr_assert_str_eq(str_at(r, "server", "host"), host);
    cr_assert_str_eq(str_at(r, "data", "server_id"), id);
    cr_assert_str_eq(str_at(r, "data", "server_name"), "srv-sysreq");
    cr_assert_geq(int_at(r, "data", "connections"), 3); /* placement probes may linger */
    json_decref(r);
    r = request(sys, "$SYS.REQ.SERVER.PING.CONNZ", "{\"subscriptions\":true,\"acc\":\"A\"}");
    cr_assert_eq(int_at(r, "data", "num_connections"), 2);
    json_t *conns = at(r, "data", "connections");
    cr_assert_eq(json_array_size(conns), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *list = json_object_get(json_array_get(conns, i), "subscriptions_list");
        cr_assert_eq(json_array_size(list), 1);
        cr_assert(!strncmp(json_string_value(json_array_get(list, 0)), "a.sub.", 6));
    }
    json_decref(r);
    r = request(sys, "$SYS.REQ.SERVER.PING.CONNZ", "{\"limit\":1}");
    cr_assert_eq(int_at(r, "data", "num_connections"), 1);
    cr_assert_geq(int_at(r, "data", "total"), 3);
    cr_assert_eq(int_at(r, "data", "limit"), 1);
    json_decref(r);
    /* HEALTHZ shows the status code (HTTP leaves it out). */
    r = request(sys, "$SYS.REQ.SERVER.PING.HEALTHZ", NULL);
    cr_assert_str_eq(str_at(r, "data", "status"), "ok");
    cr_assert_eq(int_at(r, "data", "status_code"), 200);
    json_decref(r);
    /* IDZ: the bare ServerID. */
    r = request(sys, "$SYS.REQ.SERVER.PING.IDZ", NULL);
    cr_assert_str_eq(str_at(r, "id", NULL), id);
    cr_assert_str_eq(str_at(r, "name", NULL), "srv-sysreq");
    cr_assert_str_eq(str_at(r, "host", NULL), host);
    cr_assert(!at(r, "server", NULL));
    json_decref(r);
    /* A request with headers: the body is what follows them. */
    h_send(sys, "SUB _INBOX.h 77\r\nHPUB $SYS.REQ.SERVER.PING.CONNZ _INBOX.h 18 29\r\n"
                "NATS/1.0\r\nX: y\r\n\r\n{\"limit\":1}\r\n");
    h_msg m;
    cr_assert(h_try_read_msg(sys, &m, 10000));
    json_t *hr = json_loads(m.data, 0, NULL);
    cr_assert_eq(int_at(hr, "data", "limit"), 1);
    json_decref(hr);
    h_msg_free(&m);
    for (int w = 0; w < 2; w++)
        h_close(a[w]);
    h_close(sys);
    h_server_stop(s);
}

Test(sys_requests, ping_monitorz) {
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsPingMonitorz",
                    "one server, config accounts; no EXPVARZ");
    ping_monitorz(1);
}

Test(sys_requests, ping_monitorz_workers) {
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsPingMonitorz",
                    "one server, config accounts; no EXPVARZ");
    ping_monitorz(2);
}

/* Go zReq: a body that does not decode is answered with Go's encoding/json error (400); an
 * endpoint's own error with 500. */
Test(sys_requests, malformed_bodies) {
    GO_TEST("server/events_test.go", "TestServerEventsPingStatsZFailFilter");
    H_SKIP_IF_GO("2.9 texts differ");
    h_server *s = start_w(conf, 1);
    char id[64];
    server_id(s, id, sizeof id);
    h_conn *sys = user_on(s, 1, 0, "sys", "sys");
    static const struct {
        const char *ep, *body;
        int code;
        const char *desc;
    } cases[] = {
        {"CONNZ", "{\"limit\":\"x\"}", 400,
         "json: cannot unmarshal string into Go struct field ConnzEventOptions.limit of type int"},
        {"CONNZ", "{bad", 400, "invalid character 'b' looking for beginning of object key string"},
        {"CONNZ", "[1]", 400,
         "json: cannot unmarshal array into Go value of type "
         "server.ConnzEventOptions"},
        {"SUBSZ", "{\"subscriptions\":1}", 400,
         "json: cannot unmarshal number into Go struct "
         "field SubszEventOptions.subscriptions of type bool"},
        {"VARZ", "{\"server_name\":", 400, "unexpected end of JSON input"},
        {"HEALTHZ", "{\"details\":true} x", 400, "invalid character 'x' after top-level value"},
        {"CONNZ", "{\"cid\":-1}", 400,
         "json: cannot unmarshal number -1 into Go struct field "
         "ConnzEventOptions.cid of type uint64"},
        {"CONNZ", "{\"sort\":\"bad\"}", 500, "invalid sorting option: bad"},
        {"STATSZ", "{MALFORMEDJSON", 400,
         "invalid character 'M' looking for beginning of object key string"},
        {"STATSZ", "{\"tags\":[1]}", 400,
         "json: cannot unmarshal number into Go struct field "
         "StatszEventOptions.tags of type string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char subj[128];
        snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.PING.%s", cases[i].ep);
        json_t *r = request(sys, subj, cases[i].body);
        check_server(r, id);
        cr_assert(!at(r, "data", NULL));
        cr_assert_eq(int_at(r, "error", "code"), cases[i].code, "%s %s", subj, cases[i].body);
        cr_assert_str_eq(str_at(r, "error", "description"), cases[i].desc);
        json_decref(r);
    }
    h_close(sys);
    h_server_stop(s);
}

/* Go filterRequest: a request for other servers gets no answer. */
Test(sys_requests, filters) {
    GO_TEST("server/events_test.go", "TestServerEventsPingStatsZFilter");
    GO_TEST("server/events_test.go", "TestServerEventsPingStatsZFailFilter");
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsFilteredByTag",
                    "a server without tags: tag filters never match");
    H_SKIP_IF_GO("2.9 filters differ");
    h_server *s = start_w(conf, 1);
    h_conn *sys = user_on(s, 1, 0, "sys", "sys");
    static const char *const skipped[] = {
        "{\"server_name\":\"other\"}", "{\"host\":\"1.2.3.4\"}",
        "{\"cluster\":\"C\"}",         "{\"tags\":[\"foo\"]}",
        "{\"domain\":\"D\"}",          "{\"server_name\":\"srv\",\"exact_match\":true}",
    };
    static const char *const eps[] = {"", ".STATSZ", ".VARZ", ".CONNZ", ".HEALTHZ"};
    for (size_t e = 0; e < 5; e++) {
        char subj[128];
        snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.PING%s", eps[e]);
        for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
            no_answer(sys, subj, skipped[i]);
        json_t *r = request(sys, subj, "{\"server_name\":\"srv\",\"host\":\"0.0\"}");
        cr_assert(at(r, "server", "id"));
        cr_assert(!at(r, "error", NULL));
        json_decref(r);
    }
    h_close(sys);
    h_server_stop(s);
}

/* Other accounts see nothing of the system account's requests but the imports Go gives every
 * account: PING.CONNZ and PING.STATZ answered with their own account's figures. */
static void other_accounts(int workers) {
    h_server *s = start_w(conf, workers);
    char id[64];
    server_id(s, id, sizeof id);
    h_conn *b = user_on(s, workers, workers - 1, "a", "a"); /* another A connection */
    h_conn *c = h_connect(s->port); /* no headers: no "no responders" status */
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}\r\n");
    h_ping(c);
    no_answer(c, "$SYS.REQ.SERVER.PING.VARZ", NULL);
    no_answer(c, "$SYS.REQ.SERVER.PING.IDZ", NULL);
    no_answer(c, "$SYS.REQ.SERVER.PING", NULL);
    no_answer(c, "$SYS.REQ.ACCOUNT.A.CONNZ", NULL);
    static const char *const connz[] = {"$SYS.REQ.SERVER.PING.CONNZ",
                                        "$SYS.REQ.ACCOUNT.PING.CONNZ"};
    for (int i = 0; i < 2; i++) {
        json_t *r = request(c, connz[i], "{\"acc\":\"SYS\",\"auth\":true}"); /* its own, always */
        check_server(r, id);
        cr_assert_eq(int_at(r, "data", "num_connections"), 2, "%s", connz[i]);
        json_t *list = at(r, "data", "connections");
        for (size_t k = 0; k < json_array_size(list); k++)
            cr_assert_str_eq(str_at(json_array_get(list, k), "account", NULL), "A");
        json_decref(r);
    }
    json_t *r = request(c, "$SYS.REQ.ACCOUNT.PING.STATZ", NULL);
    json_t *list = at(r, "data", "account_statz");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_at(json_array_get(list, 0), "acc", NULL), "A");
    cr_assert_eq(int_at(json_array_get(list, 0), "conns", NULL), 2);
    json_decref(r);
    h_close(c);
    h_close(b);
    h_server_stop(s);
}

Test(sys_requests, other_accounts) {
    GO_TEST_PARTIAL("server/events_test.go", "TestSystemAccount",
                    "$SYS.REQ.* requests from another account: only its system imports answer");
    H_SKIP_IF_GO("2.9 imports differ");
    other_accounts(1);
}

Test(sys_requests, other_accounts_workers) {
    other_accounts(2);
}

static void account_requests(int workers) {
    H_SKIP_IF_GO("config accounts differ from 2.9's");
    h_server *s = start_w(conf, workers);
    char id[64];
    server_id(s, id, sizeof id);
    h_conn *sys = user_on(s, workers, 0, "sys", "sys");
    h_conn *a[2];
    for (int w = 0; w < 2; w++) {
        a[w] = user_on(s, workers, w % workers, "a", "a");
        h_send(a[w], "SUB foo 1\r\n");
        h_ping(a[w]);
    }
    /* CONNZ of the account: its connections only, from every worker. */
    json_t *r = request(sys, "$SYS.REQ.ACCOUNT.A.CONNZ", NULL);
    check_server(r, id);
    cr_assert_eq(int_at(r, "data", "num_connections"), 2);
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.A.CONNZ", "{\"acc\":\"SYS\"}"); /* the subject's wins */
    cr_assert_eq(int_at(r, "data", "num_connections"), 2);
    json_decref(r);
    /* CONNS: the AccountNumConns of this server. */
    r = request(sys, "$SYS.REQ.ACCOUNT.A.CONNS", NULL);
    cr_assert_str_eq(str_at(r, "type", NULL), "io.nats.server.advisory.v1.account_connections");
    cr_assert_str_eq(str_at(r, "acc", NULL), "A");
    cr_assert_eq(int_at(r, "conns", NULL), 2);
    cr_assert_str_eq(str_at(r, "server", "id"), id);
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.A.CONNS", "{\"server\":{}}"); /* acc from the subject */
    cr_assert_eq(int_at(r, "total_conns", NULL), 2);
    json_decref(r);
    no_answer(sys, "$SYS.REQ.ACCOUNT.A.CONNS", "{\"acc\":\"B\"}"); /* Go: does not match */
    no_answer(sys, "$SYS.REQ.ACCOUNT.NOPE.CONNS", NULL);
    /* The other account endpoints answer with Go's envelope. */
    r = request(sys, "$SYS.REQ.ACCOUNT.A.SUBSZ", NULL);
    check_server(r, id);
    cr_assert(at(r, "data", "num_subscriptions"));
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.A.LEAFZ", NULL);
    cr_assert_eq(int_at(r, "data", "leafnodes"), 0);
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.A.JSZ", NULL);
    cr_assert_eq(int_at(r, "error", "code"), 500);
    cr_assert_str_eq(str_at(r, "error", "description"), "jetstream not enabled");
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.NOPE.INFO", NULL);
    cr_assert_eq(int_at(r, "error", "code"), 500);
    cr_assert_str_eq(str_at(r, "error", "description"), "Account NOPE does not exist");
    json_decref(r);
    /* INFO: Go AccountInfo, figures summed over the workers. */
    r = request(sys, "$SYS.REQ.ACCOUNT.A.INFO", NULL);
    check_server(r, id);
    cr_assert_str_eq(str_at(r, "data", "account_name"), "A");
    cr_assert_eq(int_at(r, "data", "client_connections"), 2);
    cr_assert_eq(int_at(r, "data", "subscriptions"), 2);
    cr_assert(json_is_false(at(r, "data", "expired")));
    cr_assert(json_is_true(at(r, "data", "complete")));
    cr_assert(!at(r, "data", "is_system"));
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.SYS.INFO", NULL);
    cr_assert(json_is_true(at(r, "data", "is_system")));
    json_decref(r);
    /* STATZ: the account's AccountStat; PING.STATZ: every account with connections. */
    r = request(sys, "$SYS.REQ.ACCOUNT.A.STATZ", NULL);
    check_server(r, id);
    json_t *list = at(r, "data", "account_statz");
    cr_assert_eq(json_array_size(list), 1);
    json_t *st = json_array_get(list, 0);
    cr_assert_str_eq(str_at(st, "acc", NULL), "A");
    cr_assert_eq(int_at(st, "conns", NULL), 2);
    cr_assert_eq(int_at(st, "total_conns", NULL), 2);
    cr_assert_eq(int_at(st, "num_subscriptions", NULL), 2);
    cr_assert(at(st, "sent", "routes"));
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.PING.STATZ", NULL);
    list = at(r, "data", "account_statz");
    bool seen_a = false, seen_g = false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *acc = str_at(json_array_get(list, i), "acc", NULL);
        seen_a |= !strcmp(acc, "A");
        seen_g |= !strcmp(acc, "$G");
    }
    cr_assert(seen_a && !seen_g);
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.PING.STATZ",
                "{\"accounts\":[\"$G\"],\"include_unused\":true}");
    list = at(r, "data", "account_statz");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(str_at(json_array_get(list, 0), "acc", NULL), "$G");
    json_decref(r);
    no_answer(sys, "$SYS.REQ.ACCOUNT.PING.STATZ", "{\"accounts\":[\"$G\"]}");
    /* STATZ of an account with nothing to show and include_unused unset: no answer. */
    no_answer(sys, "$SYS.REQ.ACCOUNT.NOPE.STATZ", NULL);
    for (int w = 0; w < 2; w++)
        h_close(a[w]);
    h_close(sys);
    h_server_stop(s);
}

Test(sys_requests, account_requests) {
    GO_TEST_PARTIAL("server/events_test.go", "TestAccountReqMonitoring",
                    "config accounts; INFO without exports/imports/sublist stats");
    GO_TEST_PARTIAL("server/events_test.go", "TestAccountReqInfo",
                    "config accounts: no JWT, exports or imports in the answer");
    GO_TEST_PARTIAL("server/events_test.go", "TestServerAccountConns",
                    "the CONNS request; no periodic updates");
    account_requests(1);
}

Test(sys_requests, account_requests_workers) {
    account_requests(2);
}

/* An answer larger than a control frame (64 KiB) reaches the requester whole. */
Test(sys_requests, large_connz) {
    H_SKIP_IF_GO("a 2.9 server has no control frames");
    h_server *s = start_w(conf, 2);
    h_conn *sys = user_on(s, 2, 0, "sys", "sys");
    h_conn *a = user_on(s, 2, 1, "a", "a");
    char line[128];
    for (int i = 0; i < 3000; i++) {
        snprintf(line, sizeof line, "SUB a.rather.long.subject.name.for.size.%05d %d\r\n", i,
                 i + 1);
        h_send(a, line);
    }
    h_ping(a);
    json_t *r =
        request(sys, "$SYS.REQ.SERVER.PING.CONNZ", "{\"subscriptions\":true,\"acc\":\"A\"}");
    json_t *c0 = json_array_get(at(r, "data", "connections"), 0);
    cr_assert_eq(json_array_size(json_object_get(c0, "subscriptions_list")), 3000);
    json_decref(r);
    h_close(a);
    h_close(sys);
    h_server_stop(s);
}

/* With JetStream: JSZ is storaged's /jsz, ACCOUNT.<acc>.JSZ that account's detail. */
Test(sys_requests, jetstream) {
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsHealthZSingleServer",
                    "HEALTHZ and JSZ over $SYS with JetStream on; no streams");
    H_SKIP_IF_GO("storaged");
    char store[64];
    snprintf(store, sizeof store, "/tmp/nx-sysjs-XXXXXX");
    cr_assert_not_null(mkdtemp(store));
    char js_conf[1024];
    snprintf(js_conf, sizeof js_conf, "%sjetstream { store_dir: \"%s\" }\n", conf, store);
    h_server *s = h_server_start(js_conf, "--workers", "2");
    cr_assert(h_server_wait_log(s, "Server is ready", H_TIMEOUT_MS));
    char id[64];
    server_id(s, id, sizeof id);
    h_conn *sys = user_on(s, 2, 1, "sys", "sys");
    json_t *r = request(sys, "$SYS.REQ.SERVER.PING.JSZ", "{\"accounts\":true}");
    check_server(r, id);
    cr_assert(json_is_true(at(r, "server", "jetstream")));
    cr_assert(!at(r, "data", "disabled"));
    cr_assert(at(r, "data", "config"));
    json_decref(r);
    /* Accounts are JetStream-enabled in storaged once they use it: SYS never does. */
    r = request(sys, "$SYS.REQ.ACCOUNT.SYS.JSZ", NULL);
    cr_assert_eq(int_at(r, "error", "code"), 500);
    cr_assert_str_eq(str_at(r, "error", "description"), "account \"SYS\" not jetstream enabled");
    json_decref(r);
    r = request(sys, "$SYS.REQ.ACCOUNT.NOPE.JSZ", NULL);
    cr_assert_str_eq(str_at(r, "error", "description"), "account \"NOPE\" not found");
    json_decref(r);
    r = request(sys, "$SYS.REQ.SERVER.PING.HEALTHZ", "{\"js-enabled-only\":true}");
    cr_assert_str_eq(str_at(r, "data", "status"), "ok");
    cr_assert_eq(int_at(r, "data", "status_code"), 200);
    json_decref(r);
    h_close(sys);
    h_server_stop(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", store);
    cr_assert_eq(system(cmd), 0);
}

/* Go kickClient / ldmClient: $SYS.REQ.SERVER.<id>.KICK and .LDM with {"cid":N}, wherever the
 * client is. */
static void kick_and_ldm(int workers) {
    H_SKIP_IF_GO("2.9 has no KICK/LDM");
    h_server *s = start_w(conf, workers);
    char id[64], subj[128];
    server_id(s, id, sizeof id);
    h_conn *sys = user_on(s, workers, 0, "sys", "sys");
    h_conn *t = NULL;
    json_int_t cid = 0;
    for (int attempt = 0; attempt < 200 && !t; attempt++) { /* the target on the last worker */
        h_conn *x = h_connect(s->port);
        json_t *info = h_read_info(x);
        cid = json_integer_value(json_object_get(info, "client_id"));
        json_decref(info);
        if (workers > 1 && wu_worker_of(s, x) != workers - 1) {
            h_close(x);
            continue;
        }
        h_send(x, "CONNECT {" OPTS ",\"protocol\":1,\"user\":\"a\",\"pass\":\"a\"}\r\n");
        h_ping(x);
        json_decref(h_read_info(x)); /* the connect_info INFO after CONNECT */
        t = x;
    }
    cr_assert(t);
    char body[64];
    snprintf(body, sizeof body, "{\"cid\":%lld}", (long long)cid);
    /* LDM: the client gets an INFO with ldm; the answer has neither data nor error. */
    snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.LDM", id);
    json_t *r = request(sys, subj, body);
    check_server(r, id);
    cr_assert(!at(r, "data", NULL) && !at(r, "error", NULL), "%s", json_dumps(r, 0));
    json_decref(r);
    char *info = h_expect_re(t, "^INFO [^\r]*\"ldm\":true[^\r]*\r\n");
    free(info);
    r = request(sys, subj, "{\"cid\":999999}");
    cr_assert_str_eq(str_at(r, "error", "description"), "no such client id");
    json_decref(r);
    /* KICK: the connection closes with reason Kicked. */
    snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.KICK", id);
    no_answer(sys, subj, NULL); /* Go: a body that does not decode is only logged */
    no_answer(sys, subj, "{\"cid\":\"x\"}");
    r = request(sys, subj, body);
    check_server(r, id);
    cr_assert(!at(r, "data", NULL) && !at(r, "error", NULL), "%s", json_dumps(r, 0));
    json_decref(r);
    h_expect_closed(t);
    h_close(t);
    char cbody[96];
    snprintf(cbody, sizeof cbody, "{\"state\":1,\"cid\":%lld}", (long long)cid);
    r = request(sys, "$SYS.REQ.SERVER.PING.CONNZ", cbody);
    json_t *c0 = json_array_get(at(r, "data", "connections"), 0);
    cr_assert_str_eq(str_at(c0, "reason", NULL), "Kicked");
    json_decref(r);
    r = request(sys, subj, body); /* gone now */
    cr_assert_eq(int_at(r, "error", "code"), 500);
    cr_assert_str_eq(str_at(r, "error", "description"), "no such client or leafnode id");
    json_decref(r);
    h_close(sys);
    h_server_stop(s);
}

Test(sys_requests, kick_and_ldm) {
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsLDMKick",
                    "config accounts instead of JWT; raw client instead of the Go client");
    kick_and_ldm(1);
}

Test(sys_requests, kick_and_ldm_workers) {
    kick_and_ldm(2);
}

/* An account a reload adds gets the system imports too. */
Test(sys_requests, imports_for_reloaded_accounts) {
    H_SKIP_IF_GO("config reload of accounts differs in 2.9");
    h_server *s = start_w(conf, 2);
    FILE *f = fopen(s->conf_path, "w");
    cr_assert_not_null(f);
    fputs("accounts {\n"
          "  A { users [ {user: a, password: a} ] }\n"
          "  B { users [ {user: b, password: b} ] }\n"
          "  SYS { users [ {user: sys, password: sys} ] }\n"
          "}\n"
          "system_account: SYS\n"
          "server_name: srv-sysreq\n",
          f);
    fclose(f);
    h_server_signal(s, SIGHUP);
    cr_assert(h_server_wait_log(s, "Reloaded server configuration", H_TIMEOUT_MS));
    /* Every worker applies the reload on its own: retry until B logs in and is answered. */
    json_t *r = NULL;
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; !r; h_pause_ms(20)) {
        cr_assert_lt(h_now_ms(), deadline, "account B never got its system imports");
        h_conn *c = h_connect(s->port);
        json_decref(h_read_info(c));
        h_send(c, "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}\r\nPING\r\n");
        char *got = h_expect_re(c, "^(PONG|-ERR [^\r]*)\r\n");
        bool in = !strncmp(got, "PONG", 4);
        free(got);
        if (in) {
            h_send(c, "SUB _INBOX.b 1\r\nPUB $SYS.REQ.SERVER.PING.CONNZ _INBOX.b 0\r\n\r\n");
            h_msg m;
            if (h_try_read_msg(c, &m, 500)) {
                r = json_loads(m.data, 0, NULL);
                h_msg_free(&m);
            }
        }
        h_close(c);
    }
    cr_assert_eq(int_at(r, "data", "num_connections"), 1);
    json_decref(r);
    h_server_stop(s);
}
