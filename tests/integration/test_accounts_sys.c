/* Accounts seen from clients: limits and the system account ($SYS events and requests).
 *
 * Ports the client-observable cases of nats-server v2.14.5 server/accounts_test.go (limits) and
 * server/events_test.go (connect/disconnect events, PING STATSZ), with accounts from a config
 * file instead of JWTs.  Like test_accounts.c, each behaviour runs with one broker worker and
 * with two, connections placed on different workers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/accounts_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/worker_util.h"

/* ---- limits -------------------------------------------------------------------------------- */

static const char *limits_conf =
    "max_connections: 10\n"
    "accounts {\n"
    "  MAXC {\n"
    "    users = [{user: derek, password: foo}]\n"
    "    limits { max_connections: 5, max_subs: 10, max_payload: 32k,\n"
    "             max_leafnodes: 1 }\n"
    "  }\n"
    "  SMALL { users = [{user: s, password: s}]\n"
    "          limits { max_payload: 8, max_subs: 2 } }\n"
    "}\n";

static void max_connections(int workers) {
    h_server *s = start_w(limits_conf, workers);
    h_conn *c[6];
    for (int i = 0; i < 5; i++)
        c[i] = user_on(s, workers, i % 2, "derek", "foo");
    /* The sixth, wherever it lands, is over the account's limit (node-wide). */
    for (int w = 0; w < workers; w++) {
        h_conn *x = h_connect(s->port);
        json_decref(h_read_info(x));
        h_send(x, "CONNECT {\"verbose\":false,\"user\":\"derek\",\"pass\":\"foo\"}\r\nPING\r\n");
        h_expect(x, "-ERR 'maximum account active connections exceeded'\r\n");
        h_expect_closed(x);
        h_close(x);
    }
    /* Other accounts are not affected, and a freed place can be taken again. */
    h_conn *other = user_on(s, workers, 0, "s", "s");
    h_close(c[0]);
    int64_t deadline = h_now_ms() + H_TIMEOUT_MS;
    for (;;) {
        h_conn *x = h_connect(s->port);
        json_decref(h_read_info(x));
        h_send(x, "CONNECT {\"verbose\":false,\"user\":\"derek\",\"pass\":\"foo\"}\r\nPING\r\n");
        char *got = h_expect_re(x, "^(PONG|-ERR [^\r]*)\r\n");
        bool ok = !strncmp(got, "PONG", 4);
        free(got);
        if (ok) {
            c[0] = x;
            break;
        }
        h_close(x);
        cr_assert_lt(h_now_ms(), deadline, "the closed connection was never released");
        h_pause_ms(20);
    }
    for (int i = 0; i < 5; i++)
        h_close(c[i]);
    h_close(other);
    h_server_stop(s);
}

Test(accounts, limits_max_connections) {
    GO_TEST("server/accounts_test.go", "TestAccountLimitsServerConfig");
    max_connections(1);
}

Test(accounts, limits_max_connections_workers) {
    GO_TEST("server/accounts_test.go", "TestAccountLimitsServerConfig");
    max_connections(2);
}

Test(accounts, limits_max_subs_and_payload) {
    h_server *s = start_w(limits_conf, 1);
    h_conn *c = user_on(s, 1, 0, "s", "s");
    /* Go subsAtLimit: -ERR, the connection stays. */
    h_send(c, "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n");
    h_expect(c, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
    h_send(c, "PUB a 8\r\n12345678\r\nPING\r\n");
    h_expect(c, "MSG a 1 8\r\n12345678\r\nPONG\r\n");
    /* The account's max_payload is the client's (Go applyAccountLimits). */
    h_send(c, "PUB a 9\r\n123456789\r\n");
    h_expect(c, "-ERR 'Maximum Payload Violation'\r\n");
    h_expect_closed(c);
    h_close(c);
    /* connect_info tells the client its limit. */
    if (!h_server_is_go()) {
        h_conn *x = h_connect(s->port);
        json_decref(h_read_info(x));
        h_send(x, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"s\",\"pass\":\"s\"}\r\n"
                  "PING\r\n");
        h_expect(x, "PONG\r\n");
        json_t *info = h_read_info(x);
        cr_assert_eq(json_integer_value(json_object_get(info, "max_payload")), 8);
        json_decref(info);
        h_close(x);
    }
    h_server_stop(s);
}

/* ---- the system account -------------------------------------------------------------------- */

static const char *sys_conf = "accounts {\n"
                              "  A { users [ {user: a, password: a} ] }\n"
                              "  B { users [ {user: b, password: b} ] }\n"
                              "  SYS { users [ {user: sys, password: sys} ] }\n"
                              "}\n"
                              "system_account: SYS\n";

/* Reads one message and parses its JSON payload; the subject goes to subj. */
static json_t *read_json_msg(h_conn *c, char *subj, size_t cap) {
    h_msg m;
    h_read_msg(c, &m);
    snprintf(subj, cap, "%s", m.subject);
    json_error_t e;
    json_t *j = json_loads(m.data, 0, &e);
    cr_assert(j, "bad JSON on %s: %s", m.subject, m.data);
    h_msg_free(&m);
    return j;
}

static const char *jstr(json_t *o, const char *path1, const char *path2) {
    json_t *v = json_object_get(o, path1);
    if (path2) v = json_object_get(v, path2);
    return json_string_value(v);
}

static json_int_t jint(json_t *o, const char *path1, const char *path2) {
    json_t *v = json_object_get(o, path1);
    if (path2) v = json_object_get(v, path2);
    return json_integer_value(v);
}

static void sys_new_connection(int workers) {
    H_SKIP_IF_GO("the 2.9 events differ");
    h_server *s = start_w(sys_conf, workers);
    h_conn *ncs = user_on(s, workers, 0, "sys", "sys");
    h_send(ncs, "SUB $SYS.ACCOUNT.A.> 1\r\n");
    h_ping(ncs);
    /* The connection of account A lands on the other worker. */
    h_conn *probe = h_connect(s->port);
    json_t *info = h_read_info(probe);
    char server_id[64];
    snprintf(server_id, sizeof server_id, "%s",
             json_string_value(json_object_get(info, "server_id")));
    json_decref(info);
    h_close(probe);
    /* Placing the connection may take attempts (each with its events): follow its cid. */
    h_conn *nc = NULL;
    json_int_t cid = 0;
    for (int attempt = 0; attempt < 200 && !nc; attempt++) {
        h_conn *x = h_connect(s->port);
        json_t *xi = h_read_info(x);
        cid = json_integer_value(json_object_get(xi, "client_id"));
        json_decref(xi);
        /* The worker is chosen at accept: a connection on the wrong one is closed before it
         * authenticates, so it never counts among account A's connections. */
        if (workers >= 2 && wu_worker_of(s, x) != 1) {
            h_close(x);
            continue;
        }
        h_send(x, "CONNECT {" OPTS ",\"user\":\"a\",\"pass\":\"a\",\"name\":\"TEST EVENTS\","
                  "\"lang\":\"go\",\"version\":\"1.0\"}\r\n");
        h_ping(x);
        nc = x;
    }
    cr_assert(nc);
    char subj[256];
    json_t *conns = NULL, *cem = NULL;
    while (!cem) { /* CONNS (the account's count) comes right before the CONNECT */
        json_t *j = read_json_msg(ncs, subj, sizeof subj);
        if (!strcmp(subj, "$SYS.ACCOUNT.A.SERVER.CONNS")) {
            json_decref(conns);
            conns = j;
        } else if (!strcmp(subj, "$SYS.ACCOUNT.A.CONNECT") && jint(j, "client", "id") == cid) {
            cem = j;
        } else {
            json_decref(j);
        }
    }
    cr_assert(conns);
    cr_assert_str_eq(jstr(conns, "type", NULL), "io.nats.server.advisory.v1.account_connections");
    cr_assert_str_eq(jstr(conns, "acc", NULL), "A");
    cr_assert_eq(jint(conns, "conns", NULL), 1);
    cr_assert_eq(jint(conns, "total_conns", NULL), 1);
    cr_assert_eq(jint(conns, "leafnodes", NULL), 0);
    json_decref(conns);
    conns = NULL;
    cr_assert_str_eq(jstr(cem, "type", NULL), "io.nats.server.advisory.v1.client_connect");
    cr_assert_eq(strlen(jstr(cem, "id", NULL)), 22);
    cr_assert(jstr(cem, "timestamp", NULL));
    cr_assert_str_eq(jstr(cem, "server", "id"), server_id);
    cr_assert_str_eq(jstr(cem, "server", "ver"), "2.14.5");
    json_int_t seq1 = jint(cem, "server", "seq");
    cr_assert_gt(seq1, 0);
    cr_assert_str_eq(jstr(cem, "client", "name"), "TEST EVENTS");
    cr_assert_str_eq(jstr(cem, "client", "lang"), "go");
    cr_assert_str_eq(jstr(cem, "client", "acc"), "A");
    cr_assert_str_eq(jstr(cem, "client", "user"), "a");
    cr_assert_str_eq(jstr(cem, "client", "kind"), "Client");
    cr_assert_str_eq(jstr(cem, "client", "client_type"), "nats");
    json_decref(cem);
    /* Traffic, then the disconnect carries its counts. */
    h_send(nc, "SUB foo 1\r\nSUB * 2\r\n");
    for (int i = 0; i < 10; i++)
        h_send(nc, "PUB foo 11\r\nHELLO WORLD\r\n");
    h_send(nc, "PING\r\n");
    for (int i = 0; i < 20; i++) {
        h_msg m;
        h_read_msg(nc, &m);
        h_msg_free(&m);
    }
    h_expect(nc, "PONG\r\n");
    h_close(nc);
    json_t *dem = NULL;
    while (!dem) {
        json_t *j = read_json_msg(ncs, subj, sizeof subj);
        if (!strcmp(subj, "$SYS.ACCOUNT.A.SERVER.CONNS")) {
            json_decref(conns);
            conns = j;
        } else if (!strcmp(subj, "$SYS.ACCOUNT.A.DISCONNECT") && jint(j, "client", "id") == cid) {
            dem = j;
        } else {
            json_decref(j);
        }
    }
    cr_assert(conns);
    cr_assert_eq(jint(conns, "total_conns", NULL), 0);
    json_decref(conns);
    cr_assert_str_eq(jstr(dem, "type", NULL), "io.nats.server.advisory.v1.client_disconnect");
    cr_assert_eq(strlen(jstr(dem, "id", NULL)), 22);
    cr_assert_str_eq(jstr(dem, "server", "id"), server_id);
    cr_assert_gt(jint(dem, "server", "seq"), seq1);
    cr_assert_str_eq(jstr(dem, "client", "lang"), "go");
    cr_assert(jstr(dem, "client", "stop"));
    cr_assert_eq(jint(dem, "sent", "msgs"), 10);
    cr_assert_eq(jint(dem, "sent", "bytes"), 110);
    cr_assert_eq(jint(dem, "received", "msgs"), 20);
    cr_assert_eq(jint(dem, "received", "bytes"), 220);
    cr_assert_str_eq(jstr(dem, "reason", NULL), "Client Closed");
    json_decref(dem);
    h_close(ncs);
    h_server_stop(s);
}

Test(accounts, sys_new_connection) {
    GO_TEST_PARTIAL("server/events_test.go", "TestSystemAccountNewConnection",
                    "config accounts instead of JWT accounts");
    sys_new_connection(1);
}

Test(accounts, sys_new_connection_workers) {
    GO_TEST_PARTIAL("server/events_test.go", "TestSystemAccountNewConnection",
                    "config accounts instead of JWT accounts");
    sys_new_connection(2);
}

static void sys_ping_statsz(int workers) {
    H_SKIP_IF_GO("the 2.9 statsz differs");
    h_server *s = start_w(sys_conf, workers);
    /* Both workers' clients get exactly one answer (one server). */
    for (int w = 0; w < workers; w++) {
        h_conn *c = user_on(s, workers, w, "sys", "sys");
        h_send(c, "SUB _INBOX.ping 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.ping 0\r\n\r\n");
        char subj[256];
        json_t *m = read_json_msg(c, subj, sizeof subj);
        cr_assert_str_eq(subj, "_INBOX.ping");
        cr_assert(jstr(m, "server", "id"));
        cr_assert_str_eq(jstr(m, "server", "ver"), "2.14.5");
        json_t *st = json_object_get(m, "statsz");
        cr_assert(json_is_object(st));
        cr_assert(json_object_get(st, "start"));
        cr_assert_geq(jint(m, "statsz", "connections"), 1);
        cr_assert(json_is_object(json_object_get(st, "sent")));
        json_decref(m);
        h_expect_nothing(c, 200);
        h_close(c);
    }
    h_server_stop(s);
}

Test(accounts, sys_ping_statsz) {
    GO_TEST_PARTIAL("server/events_test.go", "TestServerEventsPingStatsZ",
                    "PING only; no /statsz filters");
    sys_ping_statsz(1);
}

Test(accounts, sys_ping_statsz_workers) {
    sys_ping_statsz(2);
}

/* Other accounts have their own $SYS subjects: nothing of the system account's. */
static void sys_isolated(int workers) {
    h_server *s = start_w(sys_conf, workers);
    h_conn *a = user_on(s, workers, 0, "a", "a");
    h_send(a, "SUB $SYS.> 1\r\n");
    h_ping(a);
    h_conn *b = user_on(s, workers, 1, "b", "b"); /* a connect event in SYS */
    h_send(a, "SUB _INBOX.p 2\r\nPUB $SYS.REQ.SERVER.PING _INBOX.p 0\r\n\r\n");
    /* Its own subscriber sees the request; nothing answers and no event arrives. */
    h_expect(a, "MSG $SYS.REQ.SERVER.PING 1 _INBOX.p 0\r\n\r\n");
    h_expect_nothing(a, 300);
    h_close(a);
    h_close(b);
    h_server_stop(s);
}

Test(accounts, sys_not_visible_to_accounts) {
    GO_TEST_PARTIAL("server/events_test.go", "TestSystemAccount",
                    "isolation of $SYS as clients see it");
    sys_isolated(1);
}

Test(accounts, sys_not_visible_to_accounts_workers) {
    sys_isolated(2);
}

Test(accounts, sys_default_account_connect_info) {
    H_SKIP_IF_GO("the connect_info INFO came after 2.9");
    h_server *s = start_w(sys_conf, 1);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"sys\",\"pass\":\"sys\"}\r\n"
              "PING\r\n");
    h_expect(c, "PONG\r\n");
    json_t *info = h_read_info(c);
    cr_assert_str_eq(json_string_value(json_object_get(info, "remote_account")), "SYS");
    cr_assert(json_is_true(json_object_get(info, "acc_is_sys")));
    json_decref(info);
    h_close(c);
    h_server_stop(s);
}

static void sys_bad_login(int workers) {
    H_SKIP_IF_GO("the 2.9 event differs");
    h_server *s = start_w(sys_conf, workers);
    h_conn *ncs = user_on(s, workers, 0, "sys", "sys");
    h_send(ncs, "SUB $SYS.SERVER.*.CLIENT.AUTH.ERR 1\r\n");
    h_ping(ncs);
    /* A bad login on each worker (connections land where the kernel puts them). */
    for (int i = 0; i < 4; i++) {
        h_conn *x = h_connect(s->port);
        json_decref(h_read_info(x));
        h_send(x, "CONNECT {\"verbose\":false,\"name\":\"TEST BAD LOGIN\",\"user\":\"a\","
                  "\"pass\":\"wrong\"}\r\n");
        h_expect(x, "-ERR 'Authorization Violation'\r\n");
        h_expect_closed(x);
        h_close(x);
        char subj[256];
        json_t *dem = read_json_msg(ncs, subj, sizeof subj);
        cr_assert(!strncmp(subj, "$SYS.SERVER.", 12), "%s", subj);
        cr_assert_str_eq(jstr(dem, "type", NULL), "io.nats.server.advisory.v1.client_disconnect");
        cr_assert_str_eq(jstr(dem, "reason", NULL), "Authentication Failure");
        cr_assert_str_eq(jstr(dem, "client", "name"), "TEST BAD LOGIN");
        cr_assert_str_eq(jstr(dem, "client", "user"), "a");
        json_decref(dem);
    }
    h_close(ncs);
    h_server_stop(s);
}

Test(accounts, sys_disconnect_bad_login) {
    GO_TEST("server/events_test.go", "TestSystemAccountDisconnectBadLogin");
    sys_bad_login(1);
}

Test(accounts, sys_disconnect_bad_login_workers) {
    GO_TEST("server/events_test.go", "TestSystemAccountDisconnectBadLogin");
    sys_bad_login(2);
}
