/* HTTP monitoring: Go's endpoints (/varz, /connz, /subsz, ...) and /metrics.
 *
 * Ports the single-server cases of Go nats-server v2.14.5 server/monitor_test.go and
 * test/monitor_test.go (no JetStream, clustering, TLS or accounts).  The server runs with
 * `-m -1`; the monitoring port is read from the ports file ("monitoring"), as Go writes it.
 * A small raw-socket HTTP client and jansson check the answers.  Figures must cover the whole
 * node: most tests run two broker workers.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

#define QUIET "{\"verbose\":false,\"pedantic\":false}"

/* ---- HTTP ---------------------------------------------------------------------------------- */

typedef struct http_resp {
    int status;
    char ctype[128];
    char acao[16];
    char *body;
} http_resp;

static int http_get_raw(int port, const char *path, http_resp *r) {
    memset(r, 0, sizeof *r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    int64_t deadline = h_now_ms() + 10000;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - h_now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) break;
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (!body || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        return -1;
    }
    *body = '\0';
    for (char *save = NULL, *l = strtok_r(buf, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
        if (!strncasecmp(l, "Content-Type: ", 14)) snprintf(r->ctype, sizeof r->ctype, "%s", l + 14);
        if (!strncasecmp(l, "Access-Control-Allow-Origin: ", 29))
            snprintf(r->acao, sizeof r->acao, "%s", l + 29);
    }
    r->body = strdup(body + 4);
    free(buf);
    return 0;
}

/* Go readBodyEx: expects the status and content type; returns the body (malloc'd). */
static char *read_body_ex(int port, const char *path, int status, const char *ctype) {
    http_resp r;
    cr_assert_eq(http_get_raw(port, path, &r), 0, "GET %s failed", path);
    cr_assert_eq(r.status, status, "GET %s: status %d, want %d: %s", path, r.status, status, r.body);
    cr_assert_str_eq(r.ctype, ctype, "GET %s: content type", path);
    if (!strcmp(ctype, "application/json")) cr_assert_str_eq(r.acao, "*");
    return r.body;
}

static json_t *get_json(int port, const char *path) {
    char *body = read_body_ex(port, path, 200, "application/json");
    json_error_t e;
    json_t *j = json_loads(body, 0, &e);
    cr_assert(j, "GET %s: bad JSON (%s): %s", path, e.text, body);
    free(body);
    return j;
}

#define JI(o, k) json_integer_value(json_object_get((o), (k)))
#define JS(o, k) json_string_value(json_object_get((o), (k)))

static const char *const TEXT = "text/plain; charset=utf-8";

/* The monitoring port from the server's ports file; 0 when it lists none. */
static int mon_port(const h_server *s) {
    DIR *d = opendir(s->dir);
    int port = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 6, ".ports")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
        json_t *j = json_load_file(path, 0, NULL);
        const char *u = json_string_value(json_array_get(json_object_get(j, "monitoring"), 0));
        if (u) port = atoi(strrchr(u, ':') + 1);
        json_decref(j);
    }
    if (d) closedir(d);
    return port;
}

static h_server *srv;
static int mp; /* monitoring port */

static void start(const char *conf, const char *workers) {
    srv = h_server_start(conf, "-m", "-1", "--workers", workers);
    mp = mon_port(srv);
    cr_assert_gt(mp, 0, "no monitoring port in the ports file");
}

static void fini(void) {
    h_server_stop(srv);
    srv = NULL;
}

/* Go createClientConnSubscribeAndPublish: SUB foo, PUB foo "Hello", auto-unsubscribed. */
static h_conn *sub_pub(const char *name) {
    char connect[256];
    snprintf(connect, sizeof connect,
             "{\"verbose\":false,\"pedantic\":false,\"lang\":\"c\",\"version\":\"1.0\"%s%s%s}",
             name ? ",\"name\":\"" : "", name ? name : "", name ? "\"" : "");
    h_conn *c = h_connect_setup(srv->port, connect);
    h_send(c, "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 5\r\nHello\r\n");
    h_ping(c);
    return c;
}

static json_t *connz(const char *query) {
    char path[512];
    snprintf(path, sizeof path, "/connz%s", query);
    return get_json(mp, path);
}

/* Polls /connz<query> until it lists n connections (Go checkClosedConns and the like). */
static json_t *connz_wait(const char *query, size_t n) {
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        json_t *j = connz(query);
        size_t have = json_array_size(json_object_get(j, "connections"));
        if (have == n || h_now_ms() > deadline) {
            cr_assert_eq(have, n, "/connz%s: %zu connections, want %zu", query, have, n);
            return j;
        }
        json_decref(j);
        h_pause_ms(10);
    }
}

static json_t *conn_at(json_t *cz, size_t i) {
    return json_array_get(json_object_get(cz, "connections"), i);
}

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

Test(monitor, https_and_both_ports_refused) {
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorNoTLSConfig", "via the command line");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestMonitorBothPortsConfigured", "via the config");
    srv = h_server_start_at(__FILE__, __LINE__, 0, "https_port: -1\n", (const char *)NULL);
    (void)srv;
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
    h_ping(c);
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

/* ---- /connz -------------------------------------------------------------------------------- */

Test(monitor, connz) {
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
    h_ping(c);
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
    cr_assert_geq(strcmp(JS(ci, "last_activity"), JS(ci, "start")), 0);
    cr_assert(JS(ci, "uptime") && JS(ci, "idle") && JS(ci, "rtt"));
    cr_assert_str_eq(JS(ci, "authorized_user"), "a");
    json_decref(cz);
    h_close(c);
}

Test(monitor, connz_bad_params) {
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

Test(monitor, connz_subs_and_detail) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithSubs");
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithSubsDetail");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestConnzWithSubs", "raw client");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    h_send(c, "SUB hello.foo 7\r\n");
    h_ping(c);
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

Test(monitor, closed_connz_with_subs_detail) {
    GO_TEST("server/monitor_test.go", "TestMonitorClosedConnzWithSubsDetail");
    start(NULL, "2");
    h_conn *c = sub_pub(NULL);
    h_send(c, "SUB hello.foo 7\r\n");
    h_ping(c);
    h_close(c);
    json_t *cz = connz_wait("?state=closed&subs=detail", 1);
    json_t *ci = conn_at(cz, 0);
    json_t *d = json_array_get(json_object_get(ci, "subscriptions_list_detail"), 0);
    cr_assert_str_eq(JS(d, "subject"), "hello.foo");
    cr_assert(JS(ci, "stop") && JS(ci, "reason"));
    json_decref(cz);
}

Test(monitor, connz_with_cid) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithCID");
    start(NULL, "2");
    h_conn *cs[10];
    for (int i = 0; i < 10; i++) {
        cs[i] = sub_pub(NULL);
        if (i == 4) {
            h_send(cs[i], "SUB hello.foo 2\r\nSUB hello.bar 3\r\n");
            h_ping(cs[i]);
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

Test(monitor, connz_rtt_and_named_client) {
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
    return "";
}

Test(monitor, connz_last_activity) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzLastActivity",
                    "pauses 5ms between steps: last_activity has millisecond resolution");
    start(NULL, "2");
    h_conn *foo = h_connect_setup(srv->port, "{\"verbose\":false,\"name\":\"foo\"}");
    h_ping(foo);
    h_pause_ms(5);
    h_conn *bar = h_connect_setup(srv->port, "{\"verbose\":false,\"name\":\"bar\"}");
    h_ping(bar);
    json_t *cz = connz("?subs=1");
    char foo_la[64], bar_la[64];
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    snprintf(bar_la, sizeof bar_la, "%s", last_of(cz, "bar"));
    cr_assert_lt(strcmp(foo_la, bar_la), 0, "foo %s should be older than bar %s", foo_la, bar_la);
    json_decref(cz);
    h_pause_ms(5);
    h_send(foo, "SUB hello.world 1\r\n"); /* a subscription is activity */
    h_ping(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    json_decref(cz);
    h_pause_ms(5);
    h_send(bar, "PUB hello.world 5\r\nHello\r\n"); /* publish, and delivery to foo */
    h_ping(bar);
    h_ping(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "bar"), bar_la);
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    snprintf(foo_la, sizeof foo_la, "%s", last_of(cz, "foo"));
    json_decref(cz);
    h_pause_ms(5);
    h_send(foo, "UNSUB 1\r\n");
    h_ping(foo);
    cz = connz("?subs=1");
    cr_assert_str_neq(last_of(cz, "foo"), foo_la);
    json_decref(cz);
    h_close(foo);
    h_close(bar);
}

Test(monitor, connz_offset_and_limit) {
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
        int c = json_is_string(p) ? strcmp(json_string_value(p), json_string_value(q))
                                  : (json_integer_value(p) > json_integer_value(q)) -
                                        (json_integer_value(p) < json_integer_value(q));
        cr_assert(desc ? c >= 0 : c <= 0, "%s not sorted %s at %zu", key, desc ? "desc" : "asc", i);
    }
}

Test(monitor, connz_sorting) {
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
        h_ping(cs[i]);
        h_pause_ms(3);
    }
    for (int k = 0; k < 20; k++) h_send(cs[0], "PUB foo 11\r\nHello World\r\n");
    h_send(cs[0], "SUB foo 99\r\n");
    h_ping(cs[0]);
    h_send(cs[1], "PUB foo 5\r\nHello\r\n");
    h_ping(cs[1]);
    h_ping(cs[0]);
    h_pause_ms(3);
    h_send(cs[2], "PING\r\n"); /* PING alone is no activity */
    h_send(cs[3], "PUB nothing 0\r\n\r\n");
    h_ping(cs[3]);
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

Test(monitor, closed_conns_sorted) {
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByUptimeClosedConn",
                    "uptimes differ by real pauses");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByStopTimeClosedConn",
                    "stop times are real, not edited");
    GO_TEST_PARTIAL("server/monitor_test.go", "TestMonitorConnzSortedByReason",
                    "reasons are real (client closed, protocol violation)");
    start(NULL, "2");
    for (int i = 0; i < 4; i++) {
        h_conn *c = sub_pub(NULL);
        h_pause_ms(3 * (4 - i));
        if (i % 2) {
            h_send(c, "BOGUS\r\n"); /* closed by the server: protocol violation */
            h_expect_re(c, "-ERR 'Unknown Protocol Operation'\r\n");
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

Test(monitor, connz_state_for_closed_conns) {
    GO_TEST("server/monitor_test.go", "TestMonitorConnzWithStateForClosedConns");
    start(NULL, "2");
    h_conn *open[10];
    for (int i = 0; i < 10; i++) {
        h_conn *c = sub_pub(NULL);
        h_send(c, "SUB hello.closed.conns 1\r\n");
        h_ping(c);
        h_close(c);
        open[i] = sub_pub(NULL);
        h_send(open[i], "SUB hello.open.conns 1\r\n");
        h_ping(open[i]);
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

Test(monitor, closed_conns_bad_client) {
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
        h_ping(cs[n - 1]);
        worker_conns(&w0, &w1);
        if (n >= 4 && w0 && w1) break;
    }
    cr_assert(w0 > 0 && w1 > 0, "all %d connections landed on one worker", n);
    cr_assert_eq(w0 + w1, n);
    h_send(cs[0], "SUB all 1\r\n");
    h_ping(cs[0]);
    for (int i = 0; i < n; i++) {
        h_send(cs[i], "PUB all 3\r\nabc\r\n");
        h_ping(cs[i]);
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

/* ---- /subsz -------------------------------------------------------------------------------- */

Test(monitor, subsz) {
    GO_TEST("server/monitor_test.go", "TestSubsz");
    GO_TEST_PARTIAL("test/monitor_test.go", "TestSubsz", "one worker: sublist figures per node");
    start(NULL, "1");
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
    h_ping(c);
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
    h_ping(c);
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
    cr_assert_str_eq(JS(j, "server_id"), JS(get_json(mp, "/varz"), "server_id"));
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
