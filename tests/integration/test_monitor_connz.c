/* HTTP monitoring, /connz: ports the single-server /connz cases of Go nats-server v2.14.5
 * server/monitor_test.go and test/monitor_test.go (open and closed connections, subscriptions,
 * sort keys, offset and limit), with connections spread over two broker workers.
 */
#include "tests/integration/monitor_util.h"

TestSuite(monitor_connz, .fini = fini, .timeout = 60);

/* ---- /connz -------------------------------------------------------------------------------- */

Test(monitor_connz, connz) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnz", "no accounts (A, name tag)");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestConnz", "raw client instead of nats.go");
    start("authorization { user: a, password: a }\n", "2");
    json_t *cz = connz("");
    cr_assert_eq(JI(cz, "num_connections"), 0);
    cr_assert_eq(JI(cz, "total"), 0);
    cr_assert_eq(json_array_size(json_object_get(cz, "connections")), 0);
    json_decref(cz);

    h_conn *c = h_connect_setup(srv->port, "{\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}");
    h_send(c, "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 5\r\nHello\r\n");
    sync_conn(c);
    cz = connz("?auth=1");
    cr_assert_eq(JI(cz, "num_connections"), 1);
    cr_assert_eq(JI(cz, "total"), 1);
    cr_assert_eq(JI(cz, "limit"), 1024);
    cr_assert_eq(JI(cz, "offset"), 0);
    json_t *ci = conn_at(cz, 0);
    cr_assert_neq(JI(ci, "cid"), 0);
    cr_assert_str_eq(JS(ci, "ip"), "127.0.0.1");
    cr_assert_neq(JI(ci, "port"), 0);
    cr_assert_eq(JI(ci, "subscriptions"), 0);
    cr_assert_null(json_object_get(ci, "subscriptions_list"));
    cr_assert_eq(JI(ci, "in_msgs"), 1);
    cr_assert_eq(JI(ci, "out_msgs"), 1);
    cr_assert_eq(JI(ci, "in_bytes"), 5);
    cr_assert_eq(JI(ci, "out_bytes"), 5);
    cr_assert_str_eq(JS(ci, "kind"), "Client");
    cr_assert_str_eq(JS(ci, "type"), "nats");
    cr_assert(JS(ci, "start") && JS(ci, "last_activity"));
    cr_assert_geq(ts_ns(JS(ci, "last_activity")), ts_ns(JS(ci, "start")));
    cr_assert(JS(ci, "uptime") && JS(ci, "idle") && JS(ci, "rtt"));
    cr_assert_str_eq(JS(ci, "authorized_user"), "a");
    json_decref(cz);
    h_close(c);
}

Test(monitor_connz, connz_bad_params) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzBadParams");
    GO_TEST("server/monitor_test.go", "TestMonitorRoutezWithBadParams");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortBadRequest");
    start(NULL, "1");
    const char *bad[] = {"auth=xxx", "subs=xxx", "offset=xxx", "limit=xxx", "state=xxx", "sort=foo",
                         "cid=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/connz?%s", bad[i]);
        free(read_body_ex(mp, path, 400, TEXT));
    }
    char *b = read_body_ex(mp, "/connz?auth=xxx", 400, TEXT);
    cr_assert_str_eq(b, "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"xxx\": "
                        "invalid syntax");
    free(b);
    b = read_body_ex(mp, "/connz?limit=1x", 400, TEXT);
    cr_assert_str_eq(b, "Error decoding int for 'limit': strconv.Atoi: parsing \"1x\": invalid syntax");
    free(b);
    b = read_body_ex(mp, "/connz?state=xxx", 400, TEXT);
    cr_assert_str_eq(b, "Error decoding state for xxx");
    free(b);
    b = read_body_ex(mp, "/connz?sort=foo", 400, TEXT);
    cr_assert_str_eq(b, "invalid sorting option: foo");
    free(b);
    free(read_body_ex(mp, "/routez?subs=xxx", 400, TEXT));
}

Test(monitor_connz, connz_subs_and_detail) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithSubs");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithSubsDetail");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestConnzWithSubs", "raw client");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    h_send(c, "SUB hello.foo 7\r\n");
    sync_conn(c);
    json_t *cz = connz("?subs=1");
    json_t *list = json_object_get(conn_at(cz, 0), "subscriptions_list");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(json_string_value(json_array_get(list, 0)), "hello.foo");
    json_decref(cz);
    cz = connz("?subs=detail");
    json_t *d = json_array_get(json_object_get(conn_at(cz, 0), "subscriptions_list_detail"), 0);
    cr_assert_str_eq(JS(d, "subject"), "hello.foo");
    cr_assert_str_eq(JS(d, "sid"), "7");
    cr_assert_eq(JI(d, "cid"), JI(conn_at(cz, 0), "cid"));
    json_decref(cz);
    h_close(c);
}

Test(monitor_connz, closed_connz_with_subs_detail) {
    GO_TEST("server/monitor_test.go", "TestMonitorClosedConnzWithSubsDetail");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    h_send(c, "SUB hello.foo 7\r\n");
    sync_conn(c);
    h_close(c);
    json_t *cz = connz_wait("?state=closed&subs=detail", 1);
    json_t *ci = conn_at(cz, 0);
    json_t *d = json_array_get(json_object_get(ci, "subscriptions_list_detail"), 0);
    cr_assert_str_eq(JS(d, "subject"), "hello.foo");
    cr_assert(JS(ci, "stop") && JS(ci, "reason"));
    json_decref(cz);
}

Test(monitor_connz, connz_with_cid) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithCID");
    start(NULL, "2");
    h_conn *cs[10];
    for (int i = 0; i < 10; i++) {
        cs[i] = sub_pub(NULL);
        if (i == 4) {
            h_send(cs[i], "SUB hello.foo 2\r\nSUB hello.bar 3\r\n");
            sync_conn(cs[i]);
        }
    }
    json_t *cz = connz("?cid=5");
    cr_assert_eq(JI(cz, "num_connections"), 1);
    cr_assert_eq(JI(conn_at(cz, 0), "cid"), 5);
    cr_assert_eq(JI(conn_at(cz, 0), "subscriptions"), 2);
    json_decref(cz);
    cz = connz("?cid=100");
    cr_assert_eq(JI(cz, "num_connections"), 0);
    json_decref(cz);
    for (int i = 0; i < 10; i++) h_close(cs[i]);
}

Test(monitor_connz, connz_rtt_and_named_client) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzRTT",
                    "RTT measured at the first PONG, with millisecond resolution");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithNamedClient");
    start(NULL, "2");
    h_conn *c = sub_pub("test-client");
    json_t *cz = connz("");
    json_t *ci = conn_at(cz, 0);
    cr_assert_str_eq(JS(ci, "name"), "test-client");
    cr_assert_str_eq(JS(ci, "lang"), "c");
    const char *rtt = JS(ci, "rtt");
    cr_assert(rtt && strcmp(rtt, "0s") != 0, "rtt %s", rtt);
    json_decref(cz);
    h_close(c);
}

static const char *last_of(json_t *cz, const char *name) {
    for (size_t i = 0; i < json_array_size(json_object_get(cz, "connections")); i++)
        if (!strcmp(JS(conn_at(cz, i), "name") ? JS(conn_at(cz, i), "name") : "", name))
            return JS(conn_at(cz, i), "last_activity");
    cr_assert_fail("no connection named %s in %s", name, json_dumps(cz, 0));
    return "";
}

Test(monitor_connz, connz_last_activity) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzLastActivity",
                    "pauses 5ms between steps: last_activity has millisecond resolution");
    start(NULL, "2");
    h_conn *foo = h_connect_setup(srv->port, "{\"verbose\":false,\"name\":\"foo\"}");
    sync_conn(foo);
    h_pause_ms(5);
    h_conn *bar = h_connect_setup(srv->port, "{\"verbose\":false,\"name\":\"bar\"}");
    sync_conn(bar);
    json_t *cz = connz("?subs=1");
    char foo_la[64], bar_la[64];
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    snprintf(bar_la, sizeof bar_la, "%s", last_of(cz, "bar"));
    cr_assert_lt(ts_ns(foo_la), ts_ns(bar_la), "foo %s should be older than bar %s", foo_la, bar_la);
    json_decref(cz);
    h_pause_ms(5);
    h_send(foo, "SUB hello.world 1\r\n"); /* a subscription is activity */
    sync_conn(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    json_decref(cz);
    h_pause_ms(5);
    h_send(bar, "PUB hello.world 5\r\nHello\r\n"); /* publish, and delivery to foo */
    sync_conn(bar);
    sync_conn(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "bar"), bar_la);
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    json_decref(cz);
    h_pause_ms(5);
    h_send(foo, "UNSUB 1\r\n");
    sync_conn(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    json_decref(cz);
    h_close(foo);
    h_close(bar);
}

Test(monitor_connz, connz_offset_and_limit) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithOffsetAndLimit");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzOffsetOverflow");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestConnzWithOffsetAndLimit", "raw clients");
    start(NULL, "2");
    json_t *cz = connz("?offset=1&limit=1");
    cr_assert(json_is_array(json_object_get(cz, "connections")));
    cr_assert_eq(json_array_size(json_object_get(cz, "connections")), 0);
    json_decref(cz);
    cz = connz("?offset=-1&limit=-1");
    cr_assert_eq(JI(cz, "offset"), 0);
    cr_assert_eq(JI(cz, "limit"), 1024);
    json_decref(cz);
    h_conn *a = sub_pub(NULL), *b = sub_pub(NULL);
    cz = connz("?offset=1&limit=1");
    cr_assert_eq(JI(cz, "limit"), 1);
    cr_assert_eq(JI(cz, "offset"), 1);
    cr_assert_eq(JI(cz, "num_connections"), 1);
    cr_assert_eq(JI(cz, "total"), 2);
    cr_assert_eq(JI(conn_at(cz, 0), "cid"), 2, "the page comes from the merged, sorted list");
    json_decref(cz);
    cz = connz("?offset=2&limit=1");
    cr_assert_eq(JI(cz, "num_connections"), 0);
    cr_assert_eq(JI(cz, "total"), 2);
    json_decref(cz);
    cz = connz("?offset=9223372036854775807&limit=1");
    cr_assert_eq(JI(cz, "num_connections"), 0);
    json_decref(cz);
    h_close(a);
    h_close(b);
}

/* Checks that the connections are ordered by key: ascending unless desc. */
static void expect_sorted(json_t *cz, const char *key, bool desc) {
    json_t *arr = json_object_get(cz, "connections");
    for (size_t i = 1; i < json_array_size(arr); i++) {
        json_t *p = json_object_get(json_array_get(arr, i - 1), key),
               *q = json_object_get(json_array_get(arr, i), key);
        int64_t a, b;
        if (json_is_string(p) && strcmp(key, "reason") != 0) {
            a = ts_ns(json_string_value(p));
            b = ts_ns(json_string_value(q));
        } else if (json_is_string(p)) {
            a = strcmp(json_string_value(p), json_string_value(q));
            b = 0;
        } else {
            a = json_integer_value(p);
            b = json_integer_value(q);
        }
        int c = (a > b) - (a < b);
        cr_assert(desc ? c >= 0 : c <= 0, "%s not sorted %s at %zu", key, desc ? "desc" : "asc", i);
    }
}

Test(monitor_connz, connz_sorting) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzDefaultSorted");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByCid");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByStart");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByBytesAndMsgs");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedBySubs");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByLast");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByUptime",
                    "uptimes differ by real pauses, not edited start times");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByIdle",
                    "idle times differ by real pauses");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByPending",
                    "checks the order only (nothing pending)");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortByRTT", "checks the order only");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByStopOnOpen");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzSortedByReasonOnOpen");
    start(NULL, "2");
    h_conn *cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = sub_pub(NULL);
        for (int k = 0; k < i; k++) h_sendf(cs[i], "SUB s.%d %d\r\n", k, 10 + k);
        sync_conn(cs[i]);
        h_pause_ms(3);
    }
    for (int k = 0; k < 20; k++) h_send(cs[0], "PUB foo 11\r\nHello World\r\n");
    h_send(cs[0], "SUB foo 99\r\n");
    sync_conn(cs[0]);
    h_send(cs[1], "PUB foo 5\r\nHello\r\n");
    sync_conn(cs[1]);
    sync_conn(cs[0]);
    h_pause_ms(3);
    h_send(cs[2], "PING\r\n"); /* PING alone is no activity */
    h_send(cs[3], "PUB nothing 0\r\n\r\n");
    sync_conn(cs[3]);
    json_t *cz = connz("");
    expect_sorted(cz, "cid", false);
    json_decref(cz);
    static const struct {
        const char *q, *key;
        bool desc;
    } cases[] = {
        {"?sort=cid", "cid", false},          {"?sort=start", "start", false},
        {"?sort=bytes_to", "out_bytes", true}, {"?sort=msgs_to", "out_msgs", true},
        {"?sort=bytes_from", "in_bytes", true}, {"?sort=msgs_from", "in_msgs", true},
        {"?sort=subs", "subscriptions", true}, {"?sort=pending", "pending_bytes", true},
        {"?sort=last", "last_activity", true}, {"?sort=idle", "last_activity", false},
        {"?sort=uptime", "start", true},       {"?sort=rtt", "cid", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cz = connz(cases[i].q);
        cr_assert_eq(json_array_size(json_object_get(cz, "connections")), 4, "%s", cases[i].q);
        if (strcmp(cases[i].q, "?sort=rtt")) expect_sorted(cz, cases[i].key, cases[i].desc);
        json_decref(cz);
    }
    cz = connz("?sort=msgs_from");
    cr_assert_eq(JI(conn_at(cz, 0), "cid"), 1);
    json_decref(cz);
    free(read_body_ex(mp, "/connz?sort=stop", 400, TEXT));
    free(read_body_ex(mp, "/connz?sort=reason", 400, TEXT));
    free(read_body_ex(mp, "/connz?sort=stop&state=all", 400, TEXT));
    for (int i = 0; i < 4; i++) h_close(cs[i]);
}

Test(monitor_connz, closed_conns_sorted) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByUptimeClosedConn",
                    "uptimes differ by real pauses");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByStopTimeClosedConn",
                    "stop times are real, not edited");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByReason",
                    "reasons are real (client closed, protocol violation)");
    start(NULL, "2");
    for (int i = 0; i < 4; i++) {
        h_conn *c = h_connect_setup(srv->port, QUIET);
        sync_conn(c);
        h_pause_ms(3 * (4 - i));
        if (i % 2) {
            h_send(c, "BOGUS\r\n"); /* closed by the server: protocol violation */
            h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
            h_expect_closed(c);
        }
        h_close(c);
    }
    json_decref(connz_wait("?state=closed", 4));
    json_t *cz = connz("?state=closed&sort=stop");
    expect_sorted(cz, "stop", true);
    json_decref(cz);
    cz = connz("?state=closed&sort=reason");
    expect_sorted(cz, "reason", false);
    json_decref(cz);
    cz = connz("?state=closed&sort=uptime");
    cr_assert_eq(json_array_size(json_object_get(cz, "connections")), 4);
    json_decref(cz);
}

Test(monitor_connz, connz_state_for_closed_conns) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithStateForClosedConns");
    start(NULL, "2");
    h_conn *open[10];
    for (int i = 0; i < 10; i++) {
        h_conn *c = sub_pub(NULL);
        h_send(c, "SUB hello.closed.conns 1\r\n");
        sync_conn(c);
        h_close(c);
        open[i] = sub_pub(NULL);
        h_send(open[i], "SUB hello.open.conns 1\r\n");
        sync_conn(open[i]);
    }
    json_decref(connz_wait("?state=closed", 10));
    json_decref(connz_wait("?state=open", 10));
    json_decref(connz_wait("?state=ALL", 20));
    json_decref(connz_wait("?cid=1&state=open", 0));
    json_decref(connz_wait("?cid=1&state=closed", 1));
    json_decref(connz_wait("?cid=1&state=ALL", 1));
    json_t *cz = connz_wait("?cid=1&state=closed&subs=true", 1);
    cr_assert_eq(JI(conn_at(cz, 0), "subscriptions"), 1);
    cr_assert_eq(json_array_size(json_object_get(conn_at(cz, 0), "subscriptions_list")), 1);
    json_decref(cz);
    cz = connz_wait("?cid=1&state=closed&subs=false", 1);
    cr_assert_null(json_object_get(conn_at(cz, 0), "subscriptions_list"));
    json_decref(cz);
    json_decref(connz_wait("?cid=2&state=open", 1));
    json_decref(connz_wait("?cid=2&state=all", 1));
    json_decref(connz_wait("?cid=2&state=closed", 0));
    for (int i = 0; i < 10; i++) h_close(open[i]);
}

Test(monitor_connz, closed_conns_bad_client) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzClosedConnsBadClient");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzClosedConnsRace",
                    "sequential polls, 20 connections");
    start(NULL, "2");
    close(h_try_connect(srv->port));
    json_t *cz = connz_wait("?state=closed", 1);
    json_t *ci = conn_at(cz, 0);
    cr_assert(JS(ci, "last_activity") && JS(ci, "stop"));
    cr_assert_str_eq(JS(ci, "idle"), "0s");
    json_decref(cz);
    for (int i = 0; i < 19; i++) h_close(sub_pub(NULL));
    json_decref(connz_wait("?state=closed&subs=true", 20));
    json_decref(connz_wait("?state=closed", 20));
}


/* Accounts in /connz: auth=true names each connection's account (Go leaves "account" out for
 * the global account) and its name_tag; acc= keeps that account's connections, on every
 * worker; an unknown account gives Go's empty answer. */
Test(monitor_connz, connz_accounts) {
    GO_TEST_PARTIAL("test/monitor_test.go", "TestConnzWithAccounts",
                    "config-file accounts, no JWT");
    if (h_server_is_go()) cr_skip_test("v2.14.5 field set");
    start("accounts {\n  foo { users [ {user: foo, password: foo} ] }\n"
          "  bar { users [ {user: bar, password: bar} ] }\n}\n",
          "2");
    h_conn *c[4];
    const char *who[4] = {"foo", "foo", "bar", "foo"};
    for (int i = 0; i < 4; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"verbose\":false,\"pedantic\":false,\"user\":\"%s\",\"pass\":\"%s\"}", who[i],
                 who[i]);
        c[i] = h_connect_setup(srv->port, json);
        h_ping(c[i]);
    }
    json_t *j = connz_wait("?auth=true", 4);
    json_t *conns = json_object_get(j, "connections");
    int foo = 0, bar = 0;
    for (size_t i = 0; i < json_array_size(conns); i++) {
        json_t *ci = json_array_get(conns, i);
        const char *acc = JS(ci, "account");
        cr_assert_not_null(acc);
        cr_assert_str_eq(JS(ci, "name_tag"), acc);
        foo += !strcmp(acc, "foo");
        bar += !strcmp(acc, "bar");
    }
    cr_assert_eq(foo, 3);
    cr_assert_eq(bar, 1);
    json_decref(j);
    j = connz_wait("?acc=bar&auth=true", 1);
    cr_assert_str_eq(JS(json_array_get(json_object_get(j, "connections"), 0), "authorized_user"),
                     "bar");
    json_decref(j);
    j = connz("?acc=nosuch");
    cr_assert_str_eq(JS(j, "server_id"), "");
    cr_assert(json_is_null(json_object_get(j, "connections")));
    json_decref(j);
    for (int i = 0; i < 4; i++) h_close(c[i]);
    fini();
}
