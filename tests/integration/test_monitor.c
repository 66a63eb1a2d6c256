/* HTTP monitoring: Go's endpoints (/varz, /connz, /subsz, ...) and /metrics.
 *
 * Ports the single-server cases of Go nats-server v2.14.5 server/monitor_test.go and
 * test/monitor_test.go (no JetStream, clustering or accounts).  The server runs with `-m -1`;
 * the monitoring port is read from the ports file ("monitoring"), as Go writes it.  Figures
 * must cover the whole node: most tests run two broker workers.  /connz: test_monitor_connz.c.
 */
#include "tests/integration/monitor_util.h"

TestSuite(monitor, .fini = fini, .timeout = 60);

/* ---- start-up, ports, base path ------------------------------------------------------------ */

Test(monitor, no_port) {
    GO_TEST("server/monitor_test.go", "TestMonitorNoPort");
    GO_TEST("test/monitor_test.go", "TestNoMonitorPort");
    srv = h_server_start(NULL);
    cr_assert_eq(mon_port(srv), 0);
    char *log = h_server_log(srv);
    cr_assert_null(strstr(log, "monitor on"));
    free(log);
}

Test(monitor, log_line_ports_file_and_stop) {
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorStop", "stops the whole server");
    start(NULL, "2");
    char want[64];
    snprintf(want, sizeof want, "Starting http monitor on 127.0.0.1:%d", mp);
    h_server_expect_log(srv, want);
    char *log = h_server_log(srv);
    cr_assert_lt(strstr(log, "monitor on"), strstr(log, "Listening for client connections"),
                 "Go starts monitoring before the client listener");
    free(log);
    json_decref(get_json(mp, "/varz"));
    h_server_terminate(srv);
    http_resp r;
    cr_assert_neq(http_get_raw(mp, "/varz", &r), 0, "monitoring still answers after shutdown");
}

Test(monitor, config_keys) {
    start("http: \"127.0.0.1:-1\"\nmax_closed_clients: 2\n", "1");
    for (int i = 0; i < 4; i++) h_close(sub_pub(NULL));
    json_t *cz = connz_wait("?state=closed", 2);
    cr_assert_eq(JI(cz, "total"), 2, "max_closed_clients keeps the newest 2");
    cr_assert_eq(JI(conn_at(cz, 0), "cid"), 3);
    json_decref(cz);
}

Test(monitor, start_errors) {
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorNoTLSConfig", "via the command line");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorBothPortsConfigured", "command line");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorErrorOnListen", "command line");
    char *out = run_refused("-ms -1");
    cr_assert(strstr(out, "[FTL] Can't start monitoring: TLS cert and key required for HTTPS"), "%s", out);
    free(out);
    out = run_refused("-m -1 -ms -1");
    cr_assert(strstr(out, "can't specify both HTTP (-1) and HTTPs (-1) ports"), "%s", out);
    free(out);
    start(NULL, "1");
    char args[64];
    snprintf(args, sizeof args, "-m %d", mp);
    out = run_refused(args);
    cr_assert(strstr(out, "Can't start monitoring: can't listen to the monitor port: listen tcp"),
              "%s", out);
    free(out);
}

Test(monitor, base_path) {
    GO_TEST("server/monitor_test.go", "TestMonitorHTTPBasePath");
    start("http_base_path: \"/nats\"\n", "1");
    free(read_body_ex(mp, "/nats", 200, "text/html; charset=utf-8"));
    json_decref(get_json(mp, "/nats/varz"));
    free(read_body_ex(mp, "/varz", 404, TEXT));
    free(read_body_ex(mp, "/nats/", 404, TEXT));
}

Test(monitor, root) {
    GO_TEST("server/monitor_test.go", "TestMonitorHandleRoot");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    char *body = read_body_ex(mp, "/", 200, "text/html; charset=utf-8");
    for (const unsigned char *p = (const unsigned char *)body; *p; p++) cr_assert_lt(*p, 128);
    cr_assert(strstr(body, "href=./connz"));
    free(body);
    free(read_body_ex(mp, "/nope", 404, TEXT));
    h_close(c);
}

/* ---- /varz --------------------------------------------------------------------------------- */

Test(monitor, varz) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorHandleVarz",
                    "no JetStream, tags or system account figures");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestVarz", "no JetStream or cluster fields");
    GO_TEST("server/monitor_test.go", "TestMyUptime"); /* uptime formats, below and in connz */
    start("server_name: monitor_server\n", "2");
    json_t *v = get_json(mp, "/varz");
    cr_assert_str_eq(JS(v, "version"), "2.14.5");
    cr_assert_str_eq(JS(v, "server_name"), "monitor_server");
    cr_assert_eq(JI(v, "port"), srv->port);
    cr_assert_eq(JI(v, "http_port"), -1);
    cr_assert_eq(JI(v, "ping_interval"), 120000000000LL);
    cr_assert_eq(JI(v, "max_payload"), 1048576);
    cr_assert(json_is_object(json_object_get(v, "cluster")));
    cr_assert_eq(json_object_size(json_object_get(v, "cluster")), 0);
    cr_assert_eq(JI(json_object_get(v, "http_req_stats"), "/varz"), 1);
    cr_assert_gt(JI(v, "mem"), 0);
    cr_assert_gt(JI(v, "cores"), 0);
    cr_assert(h_server_is_go() || json_is_number(json_object_get(v, "cpu")));
    const char *up = JS(v, "uptime");
    cr_assert(up && up[strlen(up) - 1] == 's');
    json_decref(v);

    h_conn *c = sub_pub(NULL);
    v = get_json(mp, "/varz");
    cr_assert_eq(JI(v, "connections"), 1);
    cr_assert_geq(JI(v, "total_connections"), 1);
    cr_assert_eq(JI(v, "in_msgs"), 1);
    cr_assert_eq(JI(v, "in_bytes"), 5);
    cr_assert_eq(JI(v, "out_msgs"), 1);
    cr_assert_eq(JI(v, "out_bytes"), 5);
    cr_assert_eq(JI(v, "in_client_msgs"), 1);
    cr_assert_eq(JI(v, "out_client_bytes"), 5);
    cr_assert_eq(JI(json_object_get(v, "http_req_stats"), "/varz"), 2);
    json_decref(v);
    h_close(c);
}

Test(monitor, varz_subscriptions_stable_and_server_ids) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorVarzSubscriptionsResetProperly",
                    "without JetStream's internal subscriptions");
    GO_TEST("server/monitor_test.go", "TestMonitorServerIDs");
    GO_TEST("server/monitor_test.go", "TestMonitorClusterEmptyWhenNotDefined");
    start(NULL, "2");
    h_conn *c = h_connect_setup(srv->port, QUIET);
    h_send(c, "SUB a 1\r\nSUB b 2\r\n");
    sync_conn(c);
    json_t *v1 = get_json(mp, "/varz"), *v2 = get_json(mp, "/varz"), *cz = connz("");
    cr_assert_eq(JI(v1, "subscriptions"), 2);
    cr_assert_eq(JI(v2, "subscriptions"), 2);
    cr_assert_str_eq(JS(v1, "server_id"), JS(cz, "server_id"));
    json_t *cl = json_object_get(v1, "cluster");
    cr_assert_null(json_object_get(cl, "name"));
    cr_assert_null(json_object_get(cl, "urls"));
    json_decref(v1);
    json_decref(v2);
    json_decref(cz);
    h_close(c);
}

/* ---- the whole node ----------------------------------------------------------------------- */

/* Per-worker connection counts from /metrics. */
static void worker_conns(int *w0, int *w1) {
    char *m = read_body_ex(mp, "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8");
    char *p0 = strstr(m, "nats_worker_connections{worker=\"0\"} ");
    char *p1 = strstr(m, "nats_worker_connections{worker=\"1\"} ");
    cr_assert(p0 && p1, "%s", m);
    *w0 = atoi(p0 + 36);
    *w1 = atoi(p1 + 36);
    free(m);
}

Test(monitor, node_wide_connz_and_varz) {
    start(NULL, "2");
    h_conn *cs[64];
    int n = 0, w0 = 0, w1 = 0;
    while (n < 64) { /* the kernel spreads connections over the workers' listeners */
        cs[n++] = h_connect_setup(srv->port, QUIET);
        sync_conn(cs[n - 1]);
        worker_conns(&w0, &w1);
        if (n >= 4 && w0 && w1) break;
    }
    cr_assert(w0 > 0 && w1 > 0, "all %d connections landed on one worker", n);
    cr_assert_eq(w0 + w1, n);
    h_send(cs[0], "SUB all 1\r\n");
    sync_conn(cs[0]);
    for (int i = 0; i < n; i++) {
        h_send(cs[i], "PUB all 3\r\nabc\r\n");
        sync_conn(cs[i]);
    }
    json_t *cz = connz("?limit=1000");
    json_t *arr = json_object_get(cz, "connections");
    cr_assert_eq(json_array_size(arr), (size_t)n);
    cr_assert_eq(JI(cz, "total"), n);
    for (size_t i = 1; i < json_array_size(arr); i++) /* distinct, ascending cids */
        cr_assert_lt(JI(json_array_get(arr, i - 1), "cid"), JI(json_array_get(arr, i), "cid"));
    json_decref(cz);
    int64_t deadline = h_now_ms() + 5000;
    json_t *v;
    for (;;) { /* counters reach shared memory at the end of each worker's loop turn */
        v = get_json(mp, "/varz");
        if (JI(v, "out_msgs") == n || h_now_ms() > deadline) break;
        json_decref(v);
        h_pause_ms(10);
    }
    cr_assert_eq(JI(v, "in_msgs"), n, "each publish counts once, whatever the workers");
    cr_assert_eq(JI(v, "in_bytes"), 3 * n);
    cr_assert_eq(JI(v, "out_msgs"), n);
    cr_assert_eq(JI(v, "connections"), n);
    cr_assert_eq(JI(v, "subscriptions"), 1);
    cr_assert_geq(JI(v, "total_connections"), n);
    json_decref(v);
    cz = connz("?sort=msgs_from&limit=2&offset=1");
    cr_assert_eq(JI(cz, "num_connections"), 2);
    json_decref(cz);
    for (int i = 0; i < n; i++) h_close(cs[i]);
}

static void *poll_many(void *arg) {
    (void)arg;
    const char *paths[] = {"/varz", "/connz", "/subsz", "/routez", "/healthz", "/metrics"};
    for (int i = 0; i < 30; i++) {
        http_resp r;
        if (http_get_raw(mp, paths[i % 6], &r) != 0 || r.status != 200) return (void *)1;
        free(r.body);
    }
    return NULL;
}

Test(monitor, concurrent_monitoring) {
    GO_TEST("server/monitor_test.go", "TestMonitorConcurrentMonitoring");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestEndpointDataRaces", "no races checker here");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, poll_many, NULL);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        cr_assert_null(rc);
    }
    h_close(c);
}

static void write_conf(const char *text) {
    FILE *f = fopen(srv->conf_path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

Test(monitor, varz_after_reload) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorVarzReloadRace",
                    "SIGHUP reloads while other threads poll /varz (ASan build catches misuse)");
    start("max_payload: 1000\n", "2");
    json_t *v = get_json(mp, "/varz");
    cr_assert_eq(JI(v, "max_payload"), 1000);
    cr_assert_eq(strncmp(JS(v, "config_digest"), "sha256:", 7), 0, "%s", JS(v, "config_digest"));
    char digest[100];
    snprintf(digest, sizeof digest, "%s", JS(v, "config_digest"));
    json_decref(v);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, poll_many, NULL);
    for (int i = 0; i < 10; i++) {
        char conf[64];
        snprintf(conf, sizeof conf, "max_payload: %d\n", 2000 + i);
        write_conf(conf);
        h_server_signal(srv, SIGHUP);
        h_pause_ms(20);
    }
    for (int i = 0; i < 2; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        cr_assert_null(rc);
    }
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        v = get_json(mp, "/varz");
        if (JI(v, "max_payload") == 2009 || h_now_ms() > deadline) break;
        json_decref(v);
        h_pause_ms(20);
    }
    cr_assert_eq(JI(v, "max_payload"), 2009);
    cr_assert_str_neq(JS(v, "config_digest"), digest);
    json_decref(v);
}

/* ---- /subsz -------------------------------------------------------------------------------- */

Test(monitor, subsz) {
    GO_TEST("server/monitor_test.go", "TestSubsz");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestSubsz", "one worker: sublist figures per node");
    /* Without the system account: its imports in $G (Go registerSystemImports) add inserts. */
    start("no_system_account: true\n", "1");
    h_conn *c = sub_pub(NULL);
    json_t *s = get_json(mp, "/subsz");
    cr_assert_eq(JI(s, "num_subscriptions"), 0);
    cr_assert_eq(JI(s, "num_inserts"), 1);
    cr_assert_eq(JI(s, "num_matches"), 1);
    json_decref(s);
    h_close(c);
}

Test(monitor, subsz_details_offset_and_test) {
    GO_TEST("server/monitor_test.go", "TestMonitorSubszDetails");
    GO_TEST("server/monitor_test.go", "TestMonitorSubszWithOffsetAndLimit");
    GO_TEST("server/monitor_test.go", "TestMonitorSubszOffsetOverflow");
    GO_TEST("server/monitor_test.go", "TestMonitorSubszTestPubSubject");
    start(NULL, "2");
    h_conn *c = h_connect_setup(srv->port, QUIET);
    h_send(c, "SUB foo.* 1\r\nSUB foo.bar 2\r\nSUB foo.foo 3\r\n");
    h_send(c, "PUB foo.bar 5\r\nHello\r\nPUB foo.baz 5\r\nHello\r\nPUB foo.foo 5\r\nHello\r\n");
    sync_conn(c);
    json_t *s = get_json(mp, "/subsz?subs=1");
    cr_assert_eq(JI(s, "num_subscriptions"), 3);
    cr_assert_eq(JI(s, "total"), 3);
    cr_assert_eq(json_array_size(json_object_get(s, "subscriptions_list")), 3);
    cr_assert_str_eq(JS(json_array_get(json_object_get(s, "subscriptions_list"), 0), "account"), "$G");
    json_decref(s);
    s = get_json(mp, "/subsz?subs=1&test=foo.foo");
    cr_assert_eq(JI(s, "total"), 2);
    cr_assert_eq(json_array_size(json_object_get(s, "subscriptions_list")), 2);
    json_decref(s);
    s = get_json(mp, "/subsz?subs=1&test=foo");
    cr_assert_eq(json_array_size(json_object_get(s, "subscriptions_list")), 0);
    json_decref(s);
    s = get_json(mp, "/subsz?subs=1&offset=9223372036854775807&limit=1");
    cr_assert_eq(json_array_size(json_object_get(s, "subscriptions_list")), 0);
    json_decref(s);
    const char *bad[] = {"*", "foo.*", "foo.>", "foo..bar"};
    for (int i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof p, "/subsz?subs=1&test=%s", bad[i]);
        free(read_body_ex(mp, p, 400, TEXT));
    }
    for (int i = 0; i < 200; i++) h_sendf(c, "SUB bar.%d %d\r\n", i, 100 + i);
    sync_conn(c);
    s = get_json(mp, "/subsz?subs=1&offset=10&limit=100");
    cr_assert_eq(JI(s, "num_subscriptions"), 203);
    cr_assert_eq(JI(s, "total"), 203);
    cr_assert_eq(JI(s, "offset"), 10);
    cr_assert_eq(JI(s, "limit"), 100);
    cr_assert_eq(json_array_size(json_object_get(s, "subscriptions_list")), 100);
    json_decref(s);
    h_close(c);
}

/* ---- the other endpoints ------------------------------------------------------------------- */

Test(monitor, features_off_endpoints) {
    GO_TEST("server/monitor_test.go", "TestMonitorJszNonJszServer");
    GO_TEST("server/monitor_test.go", "TestMonitorHealthzStatusOK");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorAccountStatz", "global account only");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorAccountz", "global account only");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    json_t *j = get_json(mp, "/jsz");
    cr_assert(json_is_true(json_object_get(j, "disabled")));
    json_t *v = get_json(mp, "/varz");
    cr_assert_str_eq(JS(j, "server_id"), JS(v, "server_id"));
    json_decref(v);
    json_decref(j);
    char *b = read_body_ex(mp, "/jsz?leader-only=true", 400, TEXT);
    cr_assert_str_eq(b, "filtered response: not leader");
    free(b);
    b = read_body_ex(mp, "/healthz", 200, "application/json");
    cr_assert_str_eq(b, "{\"status\":\"ok\"}");
    free(b);
    free(read_body_ex(mp, "/healthz?js-enabled-only=true", 200, "application/json"));
    free(read_body_ex(mp, "/healthz?js-server-only=true", 200, "application/json"));
    b = read_body_ex(mp, "/healthz?stream=x", 400, "application/json");
    cr_assert_str_eq(b, "{\"status\":\"error\",\"error\":\"\\\"account\\\" must not be empty when "
                        "checking stream health\"}");
    free(b);
    j = get_json(mp, "/routez");
    cr_assert_eq(JI(j, "num_routes"), 0);
    cr_assert_eq(json_array_size(json_object_get(j, "routes")), 0);
    json_decref(j);
    j = get_json(mp, "/gatewayz");
    cr_assert(json_is_object(json_object_get(j, "outbound_gateways")));
    json_decref(j);
    j = get_json(mp, "/leafz");
    cr_assert_eq(JI(j, "leafnodes"), 0);
    json_decref(j);
    j = get_json(mp, "/accountz");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "accounts"), 0)), "$G");
    json_decref(j);
    j = get_json(mp, "/accstatz");
    json_t *a = json_array_get(json_object_get(j, "account_statz"), 0);
    cr_assert_str_eq(JS(a, "acc"), "$G");
    cr_assert_eq(JI(a, "conns"), 1);
    cr_assert_eq(JI(json_object_get(a, "received"), "msgs"), 1);
    json_decref(j);
    free(read_body_ex(mp, "/raftz", 404, TEXT));
    j = get_json(mp, "/varz");
    json_t *st = json_object_get(j, "http_req_stats");
    cr_assert_eq(JI(st, "/jsz"), 2);
    cr_assert_eq(JI(st, "/healthz"), 4);
    cr_assert_eq(JI(st, "/routez"), 1);
    json_decref(j);
    h_close(c);
}

Test(monitor, metrics) {
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    char *m = read_body_ex(mp, "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8");
    cr_assert(strstr(m, "# TYPE nats_connections gauge\nnats_connections 1\n"), "%s", m);
    cr_assert(strstr(m, "nats_in_msgs_total 1\n"));
    cr_assert(strstr(m, "nats_out_bytes_total 5\n"));
    cr_assert(strstr(m, "nats_worker_up{worker=\"1\"} 1\n"));
    free(m);
    h_close(c);
}
