/* Accounts seen from clients: isolation, stream and service imports, CONNECT/INFO.
 *
 * Ports the client-observable cases of nats-server v2.14.5 server/accounts_test.go and
 * test/accounts_cycles_test.go (limits and the system account: test_accounts_sys.c).  Go builds
 * most of these with Account methods (AddStreamExport, AddServiceImport) on a running server; here
 * the same accounts come from a config file.  Each behaviour runs twice: with one broker worker,
 * and with two workers and the connections placed on different workers (worker_util.h), so the
 * account travels across the mesh with the interest and the message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"
#include "tests/integration/accounts_util.h"
#include "tests/integration/worker_util.h"

/* ---- isolation ----------------------------------------------------------------------------- */

static const char *two_accounts = "accounts {\n"
                                  "  foo { users [ {user: foo, password: foo} ] }\n"
                                  "  bar { users [ {user: bar, password: bar} ] }\n"
                                  "}\n";

static void isolation(int workers) {
    h_server *s = start_w(two_accounts, workers);
    h_conn *cbar = user_on(s, workers, 0, "bar", "bar");
    h_conn *cfoo = user_on(s, workers, 1, "foo", "foo");
    h_conn *cfoo2 = user_on(s, workers, 0, "foo", "foo");
    h_send(cbar, "SUB foo 1\r\nSUB > 2\r\n");
    h_ping(cbar);
    h_send(cfoo2, "SUB foo 7\r\n");
    h_ping(cfoo2);
    h_send(cfoo, "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
    h_expect(cfoo, "MSG foo 1 5\r\nhello\r\nPONG\r\n");
    expect_msg(cfoo2, "foo", "7", "hello");
    /* bar subscribed to the same subject (and to everything) and sees nothing of foo's. */
    h_expect_nothing(cbar, 200);
    h_send(cbar, "PUB foo 3\r\nbar\r\nPING\r\n");
    /* Go's match order: the '>' subscription before the literal one. */
    h_expect(cbar, "MSG foo 2 3\r\nbar\r\nMSG foo 1 3\r\nbar\r\nPONG\r\n");
    h_expect_nothing(cfoo, 100);
    h_expect_nothing(cfoo2, 100);
    h_close(cbar);
    h_close(cfoo);
    h_close(cfoo2);
    h_server_stop(s);
}

Test(accounts, isolation) {
    GO_TEST("server/accounts_test.go", "TestAccountIsolation");
    isolation(1);
}

Test(accounts, isolation_workers) {
    GO_TEST("server/accounts_test.go", "TestAccountIsolation");
    isolation(2);
}

/* Users outside any account are in $G, which is isolated from the named accounts too. */
static void global_isolated(int workers) {
    h_server *s = start_w("authorization { users [ {user: g, password: g} ] }\n"
                          "accounts { A { users [ {user: a, password: a} ] } }\n",
                          workers);
    h_conn *g = user_on(s, workers, 0, "g", "g");
    h_conn *a = user_on(s, workers, 1, "a", "a");
    h_send(g, "SUB > 1\r\n");
    h_ping(g);
    h_send(a, "SUB > 1\r\nPUB x 1\r\na\r\nPING\r\n");
    h_expect(a, "MSG x 1 1\r\na\r\nPONG\r\n");
    h_expect_nothing(g, 200);
    h_send(g, "PUB y 1\r\ng\r\nPING\r\n");
    h_expect(g, "MSG y 1 1\r\ng\r\nPONG\r\n");
    h_expect_nothing(a, 200);
    h_close(g);
    h_close(a);
    h_server_stop(s);
}

Test(accounts, global_isolated) {
    global_isolated(1);
}

Test(accounts, global_isolated_workers) {
    global_isolated(2);
}

/* Queue groups of the same name in two accounts are two groups. */
Test(accounts, queue_groups_per_account_workers) {
    h_server *s = start_w(two_accounts, 2);
    h_conn *qfoo = user_on(s, 2, 0, "foo", "foo");
    h_conn *qbar = user_on(s, 2, 1, "bar", "bar");
    h_conn *pub = user_on(s, 2, 1, "foo", "foo");
    h_send(qfoo, "SUB q g 1\r\n");
    h_ping(qfoo);
    h_send(qbar, "SUB q g 1\r\n");
    h_ping(qbar);
    for (int i = 0; i < 5; i++)
        h_send(pub, "PUB q 1\r\nx\r\n");
    h_ping(pub);
    for (int i = 0; i < 5; i++)
        h_expect(qfoo, "MSG q 1 1\r\nx\r\n");
    h_expect_nothing(qbar, 200);
    h_close(qfoo);
    h_close(qbar);
    h_close(pub);
    h_server_stop(s);
}

/* ---- stream imports ------------------------------------------------------------------------ */

static void multi_isolation(int workers) {
    h_server *s = start_w("accounts: {\n"
                          "  PUBLIC: { users:[{user: public, password: public}]\n"
                          "    exports: [ { stream: orders.client.stream.> }\n"
                          "               { stream: orders.client2.stream.> } ] }\n"
                          "  CLIENT: { users:[{user: client, password: client}]\n"
                          "    imports: [ { stream: { account: PUBLIC, subject: "
                          "orders.client.stream.> }} ] }\n"
                          "  CLIENT2: { users:[{user: client2, password: client2}]\n"
                          "    imports: [ { stream: { account: PUBLIC, subject: "
                          "orders.client2.stream.> }} ] }\n"
                          "}\n",
                          workers);
    h_conn *client = user_on(s, workers, 0, "client", "client");
    h_conn *client2 = user_on(s, workers, 0, "client2", "client2");
    h_conn *public = user_on(s, workers, 1, "public", "public");
    h_send(client, "SUB orders.> 1\r\n");
    h_ping(client);
    h_send(client2, "SUB orders.> 1\r\n");
    h_ping(client2);
    h_send(public, "PUB orders.client.stream.entry 5\r\ntest1\r\n");
    h_ping(public);
    expect_msg(client, "orders.client.stream.entry", "1", "test1");
    h_expect_nothing(client2, 100);
    h_send(client, "UNSUB 1\r\nSUB orders.*.stream.entry 2\r\n");
    h_ping(client);
    h_send(client2, "UNSUB 1\r\nSUB orders.*.stream.entry 2\r\n");
    h_ping(client2);
    h_send(public, "PUB orders.client.stream.entry 5\r\ntest2\r\n");
    h_ping(public);
    expect_msg(client, "orders.client.stream.entry", "2", "test2");
    h_expect_nothing(client2, 100);
    h_close(client);
    h_close(client2);
    h_close(public);
    h_server_stop(s);
}

Test(accounts, multi_accounts_isolation) {
    GO_TEST("server/accounts_test.go", "TestMultiAccountsIsolation");
    multi_isolation(1);
}

Test(accounts, multi_accounts_isolation_workers) {
    GO_TEST("server/accounts_test.go", "TestMultiAccountsIsolation");
    multi_isolation(2);
}

/* TestAccountIsolationExportImport, config variant: the importer's `>` subscriber gets the
 * imported subject from both sides and "fizz" only from its own account. */
static void export_import_case(int workers, const char *exp, const char *imp, const char *subj) {
    char conf[1024];
    snprintf(conf, sizeof conf,
             "accounts: {\n"
             "  accExp: { users: [{user: accExp, password: accExp}]\n"
             "            exports: [{stream: \"%s\"}] }\n"
             "  accImp: { users: [{user: accImp, password: accImp}]\n"
             "            imports: [{stream: {account: accExp, subject: \"%s\"}}] }\n"
             "}\n",
             exp, imp);
    h_server *s = start_w(conf, workers);
    h_conn *nexp = user_on(s, workers, 0, "accExp", "accExp");
    h_conn *nimp = user_on(s, workers, 1, "accImp", "accImp");
    h_send(nimp, "SUB > 1\r\n");
    h_ping(nimp);
    h_sendf(nexp, "PUB %s 3\r\nexp\r\nPUB fizz 3\r\nexp\r\n", subj);
    h_ping(nexp);
    h_sendf(nimp, "PUB %s 3\r\nimp\r\nPUB fizz 3\r\nimp\r\n", subj);
    int got_subj = 0, got_fizz = 0;
    for (int i = 0; i < 3; i++) {
        h_msg m;
        h_read_msg(nimp, &m);
        if (!strcmp(m.subject, subj))
            got_subj++;
        else if (!strcmp(m.subject, "fizz")) {
            got_fizz++;
            cr_assert_str_eq(m.data, "imp");
        } else
            cr_assert_fail("unexpected subject %s", m.subject);
        h_msg_free(&m);
    }
    h_expect_nothing(nimp, 100);
    cr_assert_eq(got_subj, 2, "exported=%s imported=%s", exp, imp);
    cr_assert_eq(got_fizz, 1);
    h_close(nexp);
    h_close(nimp);
    h_server_stop(s);
}

static void export_import(int workers) {
    export_import_case(workers, "foo", "foo", "foo");
    export_import_case(workers, "foo.>", "foo.bar", "foo.bar");
    export_import_case(workers, "foo.>", "foo.bar.>", "foo.bar.whizz");
    export_import_case(workers, "foo.>", "foo.>", "foo.bar");
    export_import_case(workers, "foo.*", "foo.*", "foo.bar");
    export_import_case(workers, "foo.*.bar", "foo.*.bar", "foo.whizz.bar");
}

Test(accounts, isolation_export_import, .timeout = 60) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountIsolationExportImport",
                    "config variants only (no JWT accounts)");
    export_import(1);
}

Test(accounts, isolation_export_import_workers, .timeout = 60) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountIsolationExportImport",
                    "config variants only (no JWT accounts)");
    export_import(2);
}

static const char *prefix_conf =
    "accounts {\n"
    "  foo { users [ {user: foo, password: foo} ]\n"
    "        exports [ {stream: foo}, {stream: \">\", accounts: [bar, baz, qux]} ] }\n"
    "  bar { users [ {user: bar, password: bar} ]\n"
    "        imports [ {stream: {account: foo, subject: foo}, prefix: import} ] }\n"
    "  baz { users [ {user: baz, password: baz} ]\n"
    "        imports [ {stream: {account: foo, subject: \"*\"}, prefix: \"pub.imports.\"} ] }\n"
    "  qux { users [ {user: qux, password: qux} ]\n"
    "        imports [ {stream: {account: foo, subject: \"bar.*\"}} ] }\n"
    "}\n";

static void prefix_mapping(int workers) {
    h_server *s = start_w(prefix_conf, workers);
    h_conn *cbar = user_on(s, workers, 0, "bar", "bar");
    h_conn *cbaz = user_on(s, workers, 0, "baz", "baz");
    h_conn *cqux = user_on(s, workers, 0, "qux", "qux");
    h_conn *cfoo = user_on(s, workers, 1, "foo", "foo");
    h_send(cbar, "SUB import.foo 1\r\nSUB import.foo bar 2\r\n");
    h_ping(cbar);
    h_send(cbaz, "SUB pub.imports.* 1\r\n");
    h_ping(cbaz);
    h_send(cqux, "SUB bar.x 1\r\n");
    h_ping(cqux);
    h_send(cfoo, "PUB foo 5\r\nhello\r\nPUB bar.x 2\r\nbx\r\n");
    h_ping(cfoo);
    expect_msg(cbar, "import.foo", "1", "hello");
    expect_msg(cbar, "import.foo", "2", "hello");
    expect_msg(cbaz, "pub.imports.foo", "1", "hello");
    expect_msg(cqux, "bar.x", "1", "bx"); /* no prefix: the exporter's subject */
    h_expect_nothing(cbar, 100);
    h_expect_nothing(cbaz, 50);
    /* After UNSUB nothing arrives (Go: the shadow subscriptions go with them). */
    h_send(cbar, "UNSUB 1\r\nUNSUB 2\r\n");
    h_ping(cbar);
    h_send(cfoo, "PUB foo 5\r\nhello\r\n");
    h_ping(cfoo);
    h_expect_nothing(cbar, 200);
    h_close(cbar);
    h_close(cbaz);
    h_close(cqux);
    h_close(cfoo);
    h_server_stop(s);
}

Test(accounts, stream_import_prefix) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestSimpleMapping",
                    "no sublist counts (Go's shadow subscriptions are internal)");
    GO_TEST("server/accounts_test.go", "TestPrefixWildcardMapping");
    GO_TEST("server/accounts_test.go", "TestNoPrefixWildcardMapping");
    prefix_mapping(1);
}

Test(accounts, stream_import_prefix_workers) {
    GO_TEST("server/accounts_test.go", "TestPrefixWildcardMapping");
    prefix_mapping(2);
}

static void import_subject_mapping(int workers) {
    h_server *s = start_w("accounts {\n"
                          "  A { users [{user: a, pass: x}]\n"
                          "      imports [ {stream: {account: B, subject: \"foo.*.*\"}, to: "
                          "\"foo.$1.{{wildcard(2)}}\"}] }\n"
                          "  B { users [{user: b, pass: x}]\n"
                          "      exports [ { stream: \">\" } ] }\n"
                          "}\n",
                          workers);
    h_conn *ca = user_on(s, workers, 0, "a", "x");
    h_conn *cb = user_on(s, workers, 1, "b", "x");
    h_send(ca, "SUB foo.> 1\r\n");
    h_ping(ca);
    h_send(cb, "PUB foo.1.2 2\r\nhi\r\n");
    h_ping(cb);
    expect_msg(ca, "foo.1.2", "1", "hi");
    h_close(ca);
    h_close(cb);
    h_server_stop(s);
}

Test(accounts, stream_import_subject_mapping) {
    GO_TEST_PARTIAL("test/accounts_cycles_test.go", "TestAccountImportSubjectMapping",
                    "one message instead of Go's loop over token values");
    import_subject_mapping(1);
}

Test(accounts, stream_import_subject_mapping_workers) {
    import_subject_mapping(2);
}

/* ---- service imports ---------------------------------------------------------------------- */

static const char *service_conf =
    "accounts {\n"
    "  foo { users [ {user: foo, password: foo} ]\n"
    "        exports [ {service: test.request}, {service: test.stream, response: stream},\n"
    "                  {service: \"wild.*\"}, {service: \"ord.*.*\"} ] }\n"
    "  bar { users [ {user: bar, password: bar} ]\n"
    "        imports [ {service: {account: foo, subject: test.request}, to: foo}\n"
    "                  {service: {account: foo, subject: test.stream}, to: strm}\n"
    "                  {service: {account: foo, subject: \"wild.*\"}, to: \"svc.*\"}\n"
    "                  {service: {account: foo, subject: \"ord.*.*\"}, to: \"my.$2.$1\"} ] }\n"
    "}\n";

/* Reads the request a responder (headers on) got: Go adds the requester's client info
 * ("Nats-Request-Info: {\"acc\":...,\"rtt\":<ns>}") as a header.  Returns the _R_ reply
 * subject (malloc'd). */
static char *read_request(h_conn *c, const char *subject, const char *acc, const char *payload) {
    h_msg m;
    h_read_msg(c, &m);
    cr_assert_str_eq(m.subject, subject);
    cr_assert(m.hmsg, "expected the request with a Nats-Request-Info header");
    char want[256];
    snprintf(want, sizeof want, "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"%s\",\"rtt\":", acc);
    cr_assert(!strncmp(m.data, want, strlen(want)), "got headers: %s", m.data);
    const char *body = strstr(m.data, "}\r\n\r\n");
    cr_assert(body && (long)(body + 5 - m.data) == m.hdr_len, "%s", m.data);
    cr_assert_str_eq(body + 5, payload);
    cr_assert(!strncmp(m.reply, "_R_.", 4), "expected an _R_.* like reply, got '%s'", m.reply);
    char *r = strdup(m.reply);
    h_msg_free(&m);
    return r;
}

static void request_reply(int workers) {
    h_server *s = start_w(service_conf, workers);
    h_conn *cfoo = user_on(s, workers, 0, "foo", "foo");
    h_conn *cbar = user_on(s, workers, 1, "bar", "bar");
    h_send(cfoo, "SUB test.request 1\r\n");
    h_ping(cfoo);
    h_send(cbar, "SUB bar 11\r\nPUB foo bar 4\r\nhelp\r\n");
    h_ping(cbar);
    char *reply = read_request(cfoo, "test.request", "bar", "help");
    h_sendf(cfoo, "PUB %s 2\r\n22\r\n", reply);
    h_ping(cfoo);
    expect_msg(cbar, "bar", "11", "22");
    /* A singleton mapping goes with its first response. */
    h_sendf(cfoo, "PUB %s 2\r\n33\r\n", reply);
    h_ping(cfoo);
    h_expect_nothing(cbar, 200);
    free(reply);
    /* The requester's account does not see the exporter's subject space. */
    h_send(cbar, "SUB test.request 12\r\n");
    h_ping(cbar);
    h_send(cfoo, "PUB test.request 1\r\nx\r\nPING\r\n");
    h_expect(cfoo, "MSG test.request 1 1\r\nx\r\nPONG\r\n");
    h_expect_nothing(cbar, 100);
    /* A wildcard import maps svc.X to wild.X. */
    h_send(cfoo, "SUB wild.* 2\r\n");
    h_ping(cfoo);
    h_send(cbar, "PUB svc.22 bar 1\r\nw\r\n");
    h_ping(cbar);
    reply = read_request(cfoo, "wild.22", "bar", "w");
    h_sendf(cfoo, "PUB %s 2\r\nok\r\n", reply);
    h_ping(cfoo);
    expect_msg(cbar, "bar", "11", "ok");
    free(reply);
    /* `to` with "$N" placeholders (Go transformUntokenize): my.B.A requests ord.A.B. */
    h_send(cfoo, "SUB ord.*.* 3\r\n");
    h_ping(cfoo);
    h_send(cbar, "PUB my.b.a bar 1\r\nq\r\n");
    h_ping(cbar);
    reply = read_request(cfoo, "ord.a.b", "bar", "q");
    h_sendf(cfoo, "PUB %s 2\r\nok\r\n", reply);
    h_ping(cfoo);
    expect_msg(cbar, "bar", "11", "ok");
    free(reply);
    /* A responder without headers support gets the request without them (Go's test). */
    h_conn *plain = wu_connect_on_worker(
        s, workers > 1 ? 0 : -1,
        "{\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"pass\":\"foo\"}");
    h_send(cfoo, "UNSUB 1\r\n");
    h_ping(cfoo);
    h_send(plain, "SUB test.request 1\r\n");
    h_ping(plain);
    h_send(cbar, "PUB foo bar 4\r\nhelp\r\n");
    h_ping(cbar);
    h_msg m;
    h_read_msg(plain, &m);
    cr_assert(!m.hmsg);
    cr_assert_str_eq(m.data, "help");
    h_sendf(plain, "PUB %s 2\r\n22\r\n", m.reply);
    h_msg_free(&m);
    expect_msg(cbar, "bar", "11", "22");
    h_close(plain);
    h_close(cfoo);
    h_close(cbar);
    h_server_stop(s);
}

Test(accounts, cross_account_request_reply) {
    GO_TEST("server/accounts_test.go", "TestCrossAccountRequestReply");
    GO_TEST_PARTIAL("server/accounts_test.go", "TestServiceImportWithWildcards",
                    "one wildcard mapping; no response map counts");
    request_reply(1);
}

Test(accounts, cross_account_request_reply_workers) {
    GO_TEST("server/accounts_test.go", "TestCrossAccountRequestReply");
    request_reply(2);
}

static void response_types(int workers) {
    h_server *s = start_w(service_conf, workers);
    h_conn *cfoo = user_on(s, workers, 0, "foo", "foo");
    h_conn *cbar = user_on(s, workers, 1, "bar", "bar");
    h_send(cfoo, "SUB test.stream 1\r\n");
    h_ping(cfoo);
    h_send(cbar, "SUB bar 11\r\nPUB strm bar 4\r\nhelp\r\n");
    h_ping(cbar);
    char *reply = read_request(cfoo, "test.stream", "bar", "help");
    for (int i = 0; i < 10; i++)
        h_sendf(cfoo, "PUB %s 2\r\n22\r\n", reply);
    h_ping(cfoo);
    for (int i = 0; i < 10; i++)
        expect_msg(cbar, "bar", "11", "22");
    free(reply);
    h_close(cfoo);
    h_close(cbar);
    h_server_stop(s);
}

Test(accounts, service_response_types) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestCrossAccountServiceResponseTypes",
                    "no response map counts (Go internals)");
    response_types(1);
}

Test(accounts, service_response_types_workers) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestCrossAccountServiceResponseTypes",
                    "no response map counts (Go internals)");
    response_types(2);
}

static void no_responders(int workers) {
    H_SKIP_IF_GO("2.9 sends no status across a service import");
    h_server *s =
        start_w("accounts: {\n"
                "  accExp: { users: [{user: accExp, password: accExp}]\n"
                "            exports: [{service: \"foo\"}] }\n"
                "  accImp: { users: [{user: accImp, password: accImp}]\n"
                "            imports: [{service: {account: accExp, subject: \"foo\"}}] }\n"
                "}\n",
                workers);
    h_conn *c = user_on(s, workers, 0, "accImp", "accImp");
    h_send(c, "SUB _INBOX.x 1\r\nPUB foo _INBOX.x 7\r\nrequest\r\n");
    h_expect(c, "HMSG _INBOX.x 1 35 35\r\nNATS/1.0 503\r\nNats-Subject: foo\r\n\r\n\r\n");
    /* With a responder in the exporting account (placed on the other worker) it answers. */
    h_conn *r = user_on(s, workers, 1, "accExp", "accExp");
    h_send(r, "SUB foo 1\r\n");
    h_ping(r);
    h_send(c, "PUB foo _INBOX.x 7\r\nrequest\r\n");
    char *reply = read_request(r, "foo", "accImp", "request");
    h_sendf(r, "PUB %s 2\r\nok\r\n", reply);
    free(reply);
    expect_msg(c, "_INBOX.x", "1", "ok");
    h_close(r);
    h_close(c);
    h_server_stop(s);
}

Test(accounts, service_import_no_responders) {
    GO_TEST("server/accounts_test.go", "TestAccountServiceImportNoResponders");
    no_responders(1);
}

Test(accounts, service_import_no_responders_workers) {
    GO_TEST("server/accounts_test.go", "TestAccountServiceImportNoResponders");
    no_responders(2);
}

static void reply_match_cycle(int workers) {
    h_server *s = start_w("accounts {\n"
                          "  A { users: [{user: d,  pass: x}]\n"
                          "      imports [ {service: {account: B, subject: \">\" }}] }\n"
                          "  B { users: [{user: x,  pass: x}]\n"
                          "      exports [ { service: \">\" } ] }\n"
                          "}\n"
                          "no_auth_user: d\n",
                          workers);
    h_conn *nc1 = user_on(s, workers, 0, "x", "x");
    h_send(nc1, "SUB foo 1\r\n");
    h_ping(nc1);
    h_conn *nc2 = user_on(s, workers, 1, NULL, NULL); /* no_auth_user: account A */
    h_send(nc2, "SUB _INBOX.r 1\r\nPUB foo _INBOX.r 2\r\nhi\r\n");
    h_ping(nc2);
    char *reply = read_request(nc1, "foo", "A", "hi");
    h_sendf(nc1, "PUB %s 5\r\nHELLO\r\n", reply);
    h_ping(nc1);
    free(reply);
    expect_msg(nc2, "_INBOX.r", "1", "HELLO");
    h_expect_nothing(nc2, 100);
    h_expect_nothing(nc1, 100); /* the response does not come back to B as a new request */
    h_close(nc1);
    h_close(nc2);
    h_server_stop(s);
}

Test(accounts, service_import_reply_match_cycle) {
    GO_TEST("test/accounts_cycles_test.go", "TestServiceImportReplyMatchCycle");
    reply_match_cycle(1);
}

Test(accounts, service_import_reply_match_cycle_workers) {
    GO_TEST("test/accounts_cycles_test.go", "TestServiceImportReplyMatchCycle");
    reply_match_cycle(2);
}

/* ---- CONNECT and INFO ---------------------------------------------------------------------- */

Test(accounts, connect_info_remote_account) {
    H_SKIP_IF_GO("the connect_info INFO came after 2.9");
    h_server *s = start_w(two_accounts, 1);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"bar\",\"pass\":\"bar\"}\r\n"
              "PING\r\n");
    h_expect(c, "PONG\r\n");
    json_t *info = h_read_info(c);
    cr_assert(json_is_true(json_object_get(info, "connect_info")));
    cr_assert_str_eq(json_string_value(json_object_get(info, "remote_account")), "bar");
    cr_assert_null(json_object_get(info, "acc_is_sys"));
    json_decref(info);
    h_close(c);
    h_server_stop(s);
}

Test(accounts, connect_account_field_is_violation) {
    h_server *s = start_w(two_accounts, 1);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"user\":\"bar\",\"pass\":\"bar\",\"account\":\"foo\"}\r\n");
    h_expect(c, "-ERR 'Authorization Violation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(accounts, bad_config_refused) {
    h_server *s = h_server_start(NULL);
    h_server_stop(s);
    /* `accounts` used to be refused as unsupported: now it is Go's errors that stop it. */
    FILE *f = fopen("/tmp/nx_acc_bad.conf", "w");
    cr_assert(f);
    fputs("accounts { A { exports [ {stream: foo} ] }\n"
          " B { exports [ {stream: foo} ]\n"
          "     imports [ {stream: {account: A, subject: foo}} ] }\n"
          " C { imports [ {stream: {account: X, subject: foo}} ] } }\n",
          f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -t -c /tmp/nx_acc_bad.conf 2>&1", getenv("NATS_SERVER_BIN"));
    FILE *p = popen(cmd, "r");
    char out[2048] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    unlink("/tmp/nx_acc_bad.conf");
    cr_assert(strstr(out, "nx_acc_bad.conf:1:0: \"X\" account not defined for stream import"), "%s",
              out);
}

/* Go delivers a stream import through shadow subscriptions of the importer's clients: one
 * level, so an account importing from the importer does not get the exporter's messages. */
static void stream_import_one_level(int workers) {
    h_server *s = start_w("accounts {\n"
                          "  A { users [{user: a, pass: x}], exports [ {stream: foo} ] }\n"
                          "  B { users [{user: b, pass: x}], exports [ {stream: foo} ]\n"
                          "      imports [ {stream: {account: A, subject: foo}} ] }\n"
                          "  C { users [{user: c, pass: x}]\n"
                          "      imports [ {stream: {account: B, subject: foo}} ] }\n"
                          "}\n",
                          workers);
    h_conn *cb = user_on(s, workers, 0, "b", "x");
    h_conn *cc = user_on(s, workers, 0, "c", "x");
    h_conn *ca = user_on(s, workers, 1, "a", "x");
    h_send(cb, "SUB foo 1\r\n");
    h_ping(cb);
    h_send(cc, "SUB foo 1\r\n");
    h_ping(cc);
    h_send(ca, "PUB foo 1\r\na\r\n");
    h_ping(ca);
    expect_msg(cb, "foo", "1", "a");
    h_expect_nothing(cc, 200);
    /* B's own publish reaches C. */
    h_send(cb, "PUB foo 1\r\nb\r\nPING\r\n");
    h_expect(cb, "MSG foo 1 1\r\nb\r\nPONG\r\n");
    expect_msg(cc, "foo", "1", "b");
    h_close(ca);
    h_close(cb);
    h_close(cc);
    h_server_stop(s);
}

Test(accounts, stream_import_one_level) {
    stream_import_one_level(1);
}

Test(accounts, stream_import_one_level_workers) {
    stream_import_one_level(2);
}

static void reply_match_cycle_multi_hops(int workers) {
    H_SKIP_IF_GO("2.9 has no cycle detection across two imports");
    h_server *s = start_w("accounts {\n"
                          "  A { users: [{user: d,  pass: x}]\n"
                          "      imports [ {service: {account: B, subject: \">\" }}] }\n"
                          "  B { exports [ { service: \">\" } ]\n"
                          "      imports [ {service: {account: C, subject: \">\" }}] }\n"
                          "  C { users: [{user: x,  pass: x}]\n"
                          "      exports [ { service: \">\" } ] }\n"
                          "}\n"
                          "no_auth_user: d\n",
                          workers);
    h_conn *nc1 = user_on(s, workers, 0, "x", "x");
    h_send(nc1, "SUB foo 1\r\n");
    h_ping(nc1);
    h_conn *nc2 = user_on(s, workers, 1, NULL, NULL);
    h_send(nc2, "SUB _INBOX.r 1\r\nPUB foo _INBOX.r 2\r\nhi\r\n");
    h_ping(nc2);
    h_msg m;
    h_read_msg(nc1, &m);
    cr_assert_str_eq(m.subject, "foo");
    /* Go: the second import keeps the requester's info and names the service account. */
    cr_assert(!strncmp(m.data,
                       "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"A\",\"svc\":\"B\",\"rtt\":", 54),
              "%s", m.data);
    h_sendf(nc1, "PUB %s 5\r\nHELLO\r\n", m.reply);
    h_msg_free(&m);
    h_ping(nc1);
    expect_msg(nc2, "_INBOX.r", "1", "HELLO");
    h_expect_nothing(nc2, 100);
    h_expect_nothing(nc1, 100);
    h_close(nc1);
    h_close(nc2);
    h_server_stop(s);
}

Test(accounts, service_import_reply_match_cycle_multi_hops) {
    GO_TEST("test/accounts_cycles_test.go", "TestServiceImportReplyMatchCycleMultiHops");
    reply_match_cycle_multi_hops(1);
}

Test(accounts, service_import_reply_match_cycle_multi_hops_workers) {
    GO_TEST("test/accounts_cycles_test.go", "TestServiceImportReplyMatchCycleMultiHops");
    reply_match_cycle_multi_hops(2);
}

/* An account importing its own service: the request is not imported again (Go pa.psi). */
static void import_own_export(int workers) {
    h_server *s = start_w("accounts: {\n"
                          "  A: { exports: [ { service: echo, accounts: [A],\n"
                          "                    latency: { subject: \"latency.echo\" } } ],\n"
                          "       imports: [ { service: { account: A, subject: echo } } ]\n"
                          "       users: [ { user: user, pass: pass } ] }\n"
                          "}\n",
                          workers);
    h_conn *r = user_on(s, workers, 0, "user", "pass");
    h_conn *c = user_on(s, workers, 1, "user", "pass");
    h_send(r, "SUB echo 1\r\n");
    h_ping(r);
    h_send(c, "SUB _INBOX.e 1\r\nPUB echo _INBOX.e 7\r\nrequest\r\n");
    h_ping(c);
    /* The responder's own subscription gets it directly, and once through the import. */
    h_msg m1, m2;
    h_read_msg(r, &m1);
    h_read_msg(r, &m2);
    cr_assert(!strcmp(m1.reply, "_INBOX.e") || !strcmp(m2.reply, "_INBOX.e"));
    cr_assert(!strncmp(m1.reply, "_R_.", 4) || !strncmp(m2.reply, "_R_.", 4));
    h_sendf(r, "PUB %s 0\r\n\r\nPUB %s 0\r\n\r\n", m1.reply, m2.reply);
    h_msg_free(&m1);
    h_msg_free(&m2);
    h_ping(r);
    h_expect_nothing(r, 100);
    expect_msg(c, "_INBOX.e", "1", "");
    expect_msg(c, "_INBOX.e", "1", "");
    h_close(r);
    h_close(c);
    h_server_stop(s);
}

Test(accounts, import_own_export) {
    GO_TEST("server/accounts_test.go", "TestAccountImportOwnExport");
    import_own_export(1);
}

Test(accounts, import_own_export_workers) {
    GO_TEST("server/accounts_test.go", "TestAccountImportOwnExport");
    import_own_export(2);
}

static void same_subject_different_prefix(int workers) {
    h_server *s =
        start_w("accounts {\n"
                "  foo { users [{user: foo, pass: x}], exports [ {stream: test} ] }\n"
                "  bar { users [{user: bar, pass: x}], exports [ {stream: test} ] }\n"
                "  import { users [{user: imp, pass: x}]\n"
                "           imports [ {stream: {account: foo, subject: test}, prefix: foo}\n"
                "                     {stream: {account: bar, subject: test}, prefix: bar} ] }\n"
                "}\n",
                workers);
    h_conn *ci = user_on(s, workers, 0, "imp", "x");
    h_conn *cf = user_on(s, workers, 1, "foo", "x");
    h_conn *cb = user_on(s, workers, 1, "bar", "x");
    h_send(ci, "SUB *.test 1\r\n");
    h_ping(ci);
    h_send(cb, "PUB test 9\r\nhello-bar\r\n");
    h_ping(cb);
    expect_msg(ci, "bar.test", "1", "hello-bar");
    h_send(cf, "PUB test 9\r\nhello-foo\r\n");
    h_ping(cf);
    expect_msg(ci, "foo.test", "1", "hello-foo");
    h_close(ci);
    h_close(cf);
    h_close(cb);
    h_server_stop(s);
}

Test(accounts, multiple_stream_imports_same_subject_different_prefix) {
    GO_TEST("server/accounts_test.go", "TestMultipleStreamImportsWithSameSubjectDifferentPrefix");
    same_subject_different_prefix(1);
}

Test(accounts, multiple_stream_imports_same_subject_different_prefix_workers) {
    same_subject_different_prefix(2);
}
