/* Options: ports the applicable tests of Go nats-server v2.14.5 server/opts_test.go (and the
 * option validation tests of server/server_test.go) against the real binary.
 *
 * Go's tests inspect the Options struct after ProcessConfigFile/ConfigureOptions; here the same
 * facts come from what a user sees: `-t` and its exact messages, the exit status and the error
 * of a refused start, the ports file, the INFO line and /varz (which reports host, port,
 * limits, ping interval, write deadline, auth and TLS timeouts).  Cases for features this
 * server does not have (cluster, accounts, JetStream, syslog, profiling) are left out or noted.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/conf_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/monitor_util.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static json_t *varz_of(h_server *s) {
    int m = mon_port(s);
    cr_assert_gt(m, 0, "no monitoring port");
    return get_json(m, "/varz");
}

#define JN(o, k) json_number_value(json_object_get((o), (k)))

#define SKIP_GO() H_SKIP_IF_GO("the texts and options are v2.14.5's")

/* ---- defaults, listen, ports --------------------------------------------------------------- */

Test(opts, defaults) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestDefaultOptions",
                    "the client-side defaults as /varz reports them; leaf node and JetStream "
                    "defaults do not apply");
    SKIP_GO();
    srv = h_server_start(NULL, "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JI(v, "max_connections"), 65536);
    cr_expect_eq(JI(v, "ping_interval"), 120000000000LL);
    cr_expect_eq(JI(v, "ping_max"), 2);
    cr_expect_eq(JI(v, "max_control_line"), 4096);
    cr_expect_eq(JI(v, "max_payload"), 1048576);
    cr_expect_eq(JI(v, "max_pending"), 67108864);
    cr_expect_eq(JI(v, "write_deadline"), 10000000000LL);
    cr_expect_eq(JN(v, "auth_timeout"), 2.0);
    cr_expect_eq(JN(v, "tls_timeout"), 2.0);
    cr_expect_str_eq(JS(v, "http_host"), "127.0.0.1"); /* Go: HTTPHost defaults to Host */
    json_decref(v);
    h_server_stop(srv);
}

Test(opts, random_port) {
    GO_TEST("server/opts_test.go", "TestOptions_RandomPort");
    srv = h_server_start(NULL); /* -p -1 */
    cr_expect(srv->port > 0 && srv->port != 4222);
    h_conn *c = h_connect(srv->port);
    json_t *info = h_read_info(c);
    cr_expect_eq(json_integer_value(json_object_get(info, "port")), srv->port);
    json_decref(info);
    h_close(c);
    h_server_stop(srv);
}

Test(opts, dynamic_port_on_listen) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestDynamicPortOnListen",
                    "listen and http with -1; https :-1 is only checked with -t (a server runs "
                    "either http or https monitoring)");
    SKIP_GO();
    char *dir = tmp_dir();
    free(put(dir, "l.conf",
        "# Make sure -1 works in listen directives too.\nlisten: 127.0.0.1:-1\n\n"
        "http: -1\n"));
    pid_t pid;
    json_t *p = start_plain(dir, NULL, (const char *const[]){"-c", "l.conf", NULL}, &pid);
    cr_expect_gt(url_port(p, "nats", NULL, 0), 0);
    cr_expect_gt(url_port(p, "monitoring", NULL, 0), 0);
    json_decref(p);
    stop(pid);
    rm_dir(dir);
    check_conf("listen: 10.0.1.22:-1\n\nhttp: -1\nhttps: :-1\n", NULL);
}

Test(opts, listen_config) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestListenConfig",
                    "client and http host:port; the cluster listen is refused here");
    SKIP_GO();
    check_conf("listen: 10.0.1.22:4422\n\nhttp: 127.0.0.1:8422\nhttps: 127.0.0.1:9443\n", NULL);
    char *dir = tmp_dir(), conf[200];
    int port = free_port();
    snprintf(conf, sizeof conf, "listen: 127.0.0.1:%d\nhttp: 127.0.0.1:-1\n", port);
    free(put(dir, "l.conf", conf));
    pid_t pid;
    json_t *p = start_plain(dir, NULL, (const char *const[]){"-c", "l.conf", NULL}, &pid);
    char host[64];
    cr_expect_eq(url_port(p, "nats", host, sizeof host), port);
    cr_expect_str_eq(host, "127.0.0.1");
    url_port(p, "monitoring", host, sizeof host);
    cr_expect_str_eq(host, "127.0.0.1");
    json_decref(p);
    stop(pid);
    rm_dir(dir);
}

/* listen given as a bare port, or as ":port": every interface (Go DEFAULT_HOST). */
static void listen_port_only(bool colon) {
    char *dir = tmp_dir(), conf[100];
    int port = free_port();
    snprintf(conf, sizeof conf, colon ? "listen: \":%d\"\n" : "listen: %d\n", port);
    free(put(dir, "l.conf", conf));
    pid_t pid;
    json_t *p = start_plain(dir, NULL, (const char *const[]){"-c", "l.conf", NULL}, &pid);
    cr_expect_eq(url_port(p, "nats", NULL, 0), port);
    h_conn *c = h_connect(port);
    json_t *info = h_read_info(c);
    cr_expect_str_eq(json_string_value(json_object_get(info, "host")), "0.0.0.0");
    cr_expect_eq(json_integer_value(json_object_get(info, "port")), port);
    json_decref(info);
    h_close(c);
    json_decref(p);
    stop(pid);
    rm_dir(dir);
}

Test(opts, listen_port_only) {
    GO_TEST("server/opts_test.go", "TestListenPortOnlyConfig");
    listen_port_only(false);
}

Test(opts, listen_port_with_colon) {
    GO_TEST("server/opts_test.go", "TestListenPortWithColonConfig");
    listen_port_only(true);
}

Test(opts, listen_monitoring_default) {
    GO_TEST("server/opts_test.go", "TestListenMonitoringDefault");
    SKIP_GO();
    srv = h_server_start(NULL, "-m", "-1"); /* -a 127.0.0.1 */
    json_t *v = varz_of(srv);
    cr_expect_str_eq(JS(v, "host"), "127.0.0.1");
    cr_expect_str_eq(JS(v, "http_host"), "127.0.0.1");
    json_decref(v);
    h_server_stop(srv);
}

Test(opts, malformed_listen_address) {
    GO_TEST("server/opts_test.go", "TestMalformedListenAddress");
    SKIP_GO();
    /* Go's lexer already refuses this one (a bare string cannot follow the number). */
    char *dir = tmp_dir(), *path = put(dir, "m.conf",
                                       "# test garbage listen address for "
                                       "failure\nlisten: 10.0.1.22:foo");
    run_out r = RUN(dir, "-c", path, "-t");
    cr_expect(r.status == 1 && strstr(r.err, "Parse error on line 2: 'Expected a top-level value "
                                             "to end with a new line, comment or EOF, but got "
                                             "'f' instead.'"),
              "%s", r.err);
    run_free(&r);
    free(path);
    rm_dir(dir);
    check_conf("listen: \"10.0.1.22:foo\"\n", "%F:1:0: could not parse port \"foo\"\n\n");
    check_conf("listen: \"abc\"\n", "%F:1:0: could not parse address string \"abc\"\n\n");
    check_conf("listen: \"::1:4222\"\n", "%F:1:0: could not parse address string \"::1:4222\"\n\n");
    check_conf("listen: 4.5\nhttp: true\n", "%F:1:0: expected port or host:port, got float64\n"
                                            "%F:2:1: expected port or host:port, got bool\n\n");
    check_conf("listen: \"[::1]:4222\"\nhttps: \"[::1]:-1\"\n", NULL);
}

/* ---- the config file and the flags ------------------------------------------------------- */

/* Go's configs/test.conf without syslog, remote_syslog and prof_port (refused here). */
static const char test_conf[] =
    "# Simple config file\n\nserver_name: testing_server\n\nserver_metadata {\n  key1: value1\n"
    "  key2: value2\n}\n\nfeature_flags {\n    feature: false\n    fix: true\n"
    "    revert_fix: true\n}\n\nlisten: 127.0.0.1:4242\n\nhttp: 8222\n\nhttp_base_path: /nats\n\n"
    "authorization {\n  user:     derek\n  password: porkchop\n  timeout:  1\n}\n\n"
    "# logging options\ndebug:   false\ntrace:   true\nlogtime: false\n\n"
    "pid_file: \"/tmp/nats-server/nats-server.pid\"\n\nmax_connections: 100\n\n"
    "max_subscriptions: 1000\n\nmax_pending: 10000000\n\nmax_control_line: 2048\n\n"
    "max_payload: 65536\n\nping_interval: \"60s\"\nping_max: 3\n\nwrite_deadline: \"3s\"\n\n"
    "lame_duck_duration: \"4m\"\n\nconnect_error_reports: 86400\n\nreconnect_error_reports: 5\n";

Test(opts, config_file) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestConfigFile",
                    "test.conf's values as /varz shows them; syslog, remote_syslog and prof_port "
                    "are refused (checked), the pid file path is replaced");
    SKIP_GO();
    char *dir = tmp_dir(), conf[2048], pid_path[300];
    snprintf(pid_path, sizeof pid_path, "%s/nats.pid", dir);
    const char *at = strstr(test_conf, "/tmp/nats-server/nats-server.pid");
    snprintf(conf, sizeof conf, "%.*s%s%s", (int)(at - test_conf), test_conf, pid_path,
             at + strlen("/tmp/nats-server/nats-server.pid"));
    srv = h_server_start(conf, "-m", "-1");
    json_t *v = get_json(mon_port(srv), "/nats/varz"); /* under http_base_path */
    cr_expect_str_eq(JS(v, "server_name"), "testing_server");
    cr_expect_eq(JN(v, "auth_timeout"), 1.0);
    cr_expect_eq(JI(v, "max_connections"), 100);
    cr_expect_eq(JI(v, "max_subscriptions"), 1000);
    cr_expect_eq(JI(v, "max_pending"), 10000000);
    cr_expect_eq(JI(v, "max_control_line"), 2048);
    cr_expect_eq(JI(v, "max_payload"), 65536);
    cr_expect_eq(JI(v, "ping_interval"), 60000000000LL);
    cr_expect_eq(JI(v, "ping_max"), 3);
    cr_expect_eq(JI(v, "write_deadline"), 3000000000LL);
    cr_expect_str_eq(JS(v, "http_base_path"), "/nats");
    json_decref(v);
    struct stat st;
    cr_expect_eq(stat(pid_path, &st), 0, "no pid file at %s", pid_path);
    h_server_stop(srv);
    rm_dir(dir);
    check_conf("syslog: true\n", "syslog logging is not supported by this server yet; refusing "
                                 "to start rather than run without it (see docs/deviations.md)\n");
    check_conf(test_conf, NULL); /* what is left of test.conf passes -t */
}

Test(opts, merge_overrides) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestMergeOverrides",
                    "port, password, debug and the monitoring port given as flags win over the "
                    "file; profiling, cluster and JetStream flags do not apply");
    SKIP_GO();
    srv = h_server_start("server_name: testing_server\nauthorization {\n  user: derek\n"
                         "  password: porkchop\n  timeout: 1\n}\nhttp: 8222\ndebug: false\n",
                         "--pass", "other", "-m", "-1", "-D");
    json_t *v = varz_of(srv);
    cr_expect_neq(JI(v, "http_port"), 8222);
    cr_expect_str_eq(JS(v, "server_name"), "testing_server");
    json_decref(v);
    h_conn *c = h_connect(srv->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":true,\"user\":\"derek\",\"pass\":\"other\"}\r\nPING\r\n");
    h_expect(c, "+OK\r\nPONG\r\n");
    h_close(c);
    c = h_connect(srv->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":true,\"user\":\"derek\",\"pass\":\"porkchop\"}\r\n");
    h_expect(c, "-ERR 'Authorization Violation'\r\n");
    h_close(c);
    cr_expect(h_server_wait_log(srv, "[DBG]", H_TIMEOUT_MS), "-D did not win over debug: false");
    h_server_stop(srv);
}

Test(opts, process_config_file_keeps_other_options) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestOptionsProcessConfigFile",
                    "a log file given as a flag stays while the file sets trace");
    char *dir = tmp_dir(), log[300];
    snprintf(log, sizeof log, "%s/test.log", dir);
    srv = h_server_start("debug: false\ntrace: true\n", "-l", log);
    h_conn *c = h_connect_setup(srv->port, NULL);
    h_ping(c);
    h_close(c);
    char *text = NULL;
    for (int64_t end = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < end; h_pause_ms(20)) {
        free(text);
        text = slurp(log);
        if (strstr(text, "[TRC]")) break;
    }
    cr_expect(strstr(text, "[TRC]"), "no trace in the flag's log file: %s", text);
    cr_expect(!strstr(text, "[DBG]"));
    free(text);
    h_server_stop(srv);
    rm_dir(dir);
}

/* Runs the binary in dir with args: the exit status, and stdout (out) or stderr starting with
 * text (the whole of Go's message, newline included, where it is known). */
static void expect_run(const char *dir, int status, bool out, const char *text,
                       const char *const *args) {
    run_out r = run_env(dir, NULL, args);
    const char *got = out ? r.out : r.err;
    cr_expect(r.status == status && !strncmp(got, text, strlen(text)),
              "%s: status %d (want %d), got:\n%s\nwant:\n%s", args[0], r.status, status, got, text);
    run_free(&r);
}
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Traces one PING round trip; true when the log shows [TRC] (and *dbg: [DBG]). */
static bool traced(const char *conf, const char *flag, bool *dbg) {
    srv = h_server_start(conf, flag);
    h_conn *c = h_connect_setup(srv->port, NULL);
    h_ping(c);
    h_close(c);
    bool t = h_server_wait_log(srv, "[TRC]", 500);
    char *log = h_server_log(srv);
    *dbg = strstr(log, "[DBG]") != NULL;
    free(log);
    h_server_stop(srv);
    return t;
}

Test(opts, configure_options) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestConfigureOptions",
                    "version/help commands and flags, unknown command and flag, missing file, "
                    "bad signal, -V/-DV over the file, the TLS flags over a tls {} block; the "
                    "cluster/routes flags are refused here");
    SKIP_GO();
    char *dir = tmp_dir();
    expect_run(dir, 0, true, "nats-server: v2.14.5", ARGS("-v"));
    expect_run(dir, 0, true, "nats-server: v2.14.5", ARGS("version"));
    expect_run(dir, 0, true, "\nUsage: nats-server [options]\n", ARGS("help"));
    expect_run(dir, 0, true, "\nUsage: nats-server [options]\n", ARGS("-h"));
    expect_run(dir, 0, true, "TLS", ARGS("-help_tls"));
    expect_run(dir, 1, false, "nats-server: unrecognized command: \"foo\"\n", ARGS("foo"));
    expect_run(dir, 2, false, "flag provided but not defined: -xxx\n", ARGS("-xxx", "foo"));
    expect_run(dir, 1, false, "nats-server: open xxx.cfg: no such file or directory\n",
               ARGS("-c", "xxx.cfg"));
    expect_run(dir, 1, false, "nats-server: invalid signal parameters: [foo]\n",
               ARGS("-sl", "quit=pid=foo"));
    expect_run(dir, 1, false, "nats-server: invalid pid: pid\n", ARGS("-sl", "quit=pid"));
    bool dbg;
    cr_expect(!traced("trace: true\n", "-V=false", &dbg), "-V=false should win over the file");
    cr_expect(!traced("trace: true\n", "-DV=false", &dbg) && !dbg);
    cr_expect(traced("trace: false\n", "-DV", &dbg) && dbg);

    /* TLS: the flags rebuild the TLS settings on their own (Go overrideTLS). */
    make_cert(dir);
    char conf[600];
    snprintf(conf, sizeof conf,
             "tls {\n  cert_file: \"%s/cert.pem\"\n  key_file: \"%s/key.pem\"\n}\n", dir, dir);
    free(put(dir, "tls.conf", conf));
    srv = h_server_start(conf, "-tls=false");
    h_conn *c = h_connect(srv->port);
    json_t *info = h_read_info(c);
    cr_expect_null(json_object_get(info, "tls_required"), "-tls=false should drop tls {}");
    json_decref(info);
    h_close(c);
    h_server_stop(srv);
    expect_run(dir, 1, false, "nats-server: TLS Server certificate must be present and valid\n",
               ARGS("-c", "tls.conf", "-tlsverify"));
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    srv = h_server_start(conf, "-tlsverify", "-tlscert", cert, "-tlskey", key);
    c = h_connect(srv->port);
    info = h_read_info(c);
    cr_expect(json_is_true(json_object_get(info, "tls_verify")), "-tlsverify over tls {}");
    json_decref(info);
    h_close(c);
    h_server_stop(srv);
    expect_run(dir, 1, false, "nats-server: TLS Server certificate must be present and valid\n",
               ARGS("-tls"));
    expect_run(dir, 1, false, "nats-server: TLS Server private key must be present and valid\n",
               ARGS("-tls", "-tlscert", "./cert.pem"));
    expect_run(dir, 1, false,
               "nats-server: error parsing X509 certificate/key pair: open ./notfound.pem: no such "
               "file or directory\n",
               ARGS("-tls", "-tlscert", "./cert.pem", "-tlskey", "./notfound.pem"));
    expect_run(dir, 0, false, "nats-server: configuration file tls.conf is valid",
               ARGS("-c", "tls.conf", "-tlsverify", "-tlscert", "./cert.pem", "-tlskey",
                    "./key.pem", "-t"));
    rm_dir(dir);
}

Test(opts, empty_config) {
    GO_TEST("server/opts_test.go", "TestEmptyConfig");
    srv = h_server_start(NULL, "-c", ""); /* Go: no configuration file at all */
    h_conn *c = h_connect_setup(srv->port, NULL);
    h_ping(c);
    h_close(c);
    h_server_stop(srv);
    SKIP_GO();
    char *dir = tmp_dir();
    expect_run(dir, 1, false,
               "nats-server: must specify [-c, --config] option to check configuration file "
               "syntax\n",
               ARGS("-c", "", "-t"));
    rm_dir(dir);
    /* v2.14.5: an empty file is valid but warned about, which -t reports as a failure. */
    check_conf("# nothing\n", "%F: config has no values or is empty\n\n");
}

Test(opts, type_mismatch_panic) {
    GO_TEST("server/opts_test.go", "TestPanic");
    SKIP_GO();
    check_conf("port: \"this_string_trips_a_panic\"",
               "%F:1:0: interface conversion: interface {} is string, not int64\n\n");
    check_conf("debug: 1\nhost: 5\nmax_payload: \"1MB\"\nlogfile: [a]\nlame_duck_duration: 60\n",
               "%F:1:0: interface conversion: interface {} is int64, not bool\n"
               "%F:2:1: interface conversion: interface {} is int64, not string\n"
               "%F:3:1: interface conversion: interface {} is string, not int64\n"
               "%F:4:1: interface conversion: interface {} is []interface {}, not string\n"
               "%F:5:1: interface conversion: interface {} is int64, not string\n\n");
}

Test(opts, max_closed_clients) {
    GO_TEST("server/opts_test.go", "TestMaxClosedClients");
    SKIP_GO();
    srv = h_server_start("max_closed_clients: 5\n", "-m", "-1");
    mp = mon_port(srv);
    for (int i = 0; i < 7; i++) {
        h_conn *c = h_connect_setup(srv->port, NULL);
        h_ping(c);
        h_close(c);
    }
    json_t *cz = NULL;
    for (int64_t end = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < end; h_pause_ms(20)) {
        json_decref(cz);
        cz = get_json(mp, "/connz?state=closed");
        if (JI(cz, "total") >= 5 && json_array_size(json_object_get(cz, "connections")) >= 5) break;
    }
    h_pause_ms(100); /* the last closes are in */
    json_decref(cz);
    cz = get_json(mp, "/connz?state=closed");
    cr_expect_eq(json_array_size(json_object_get(cz, "connections")), 5, "closed ring of 5");
    json_decref(cz);
    h_server_stop(srv);
}

/* ---- durations, limits, validation -------------------------------------------------------- */

Test(opts, ping_interval_old) {
    GO_TEST("server/opts_test.go", "TestPingIntervalOld");
    SKIP_GO();
    /* A number of seconds: a warning, so -t fails, but the server runs with 5s. */
    check_conf("ping_interval: 5",
               "%F:1:0: invalid use of field \"ping_interval\": ping_interval should be "
               "converted to a duration\n\n");
    srv = h_server_start("ping_interval: 5", "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JI(v, "ping_interval"), 5000000000LL);
    json_decref(v);
    char *log = h_server_log(srv);
    cr_expect(strstr(log, "server.conf:1:0: invalid use of field \"ping_interval\": ping_interval "
                          "should be converted to a duration\n"),
              "%s", log);
    free(log);
    h_server_stop(srv);
}

Test(opts, ping_interval_new) {
    GO_TEST("server/opts_test.go", "TestPingIntervalNew");
    SKIP_GO();
    srv = h_server_start("ping_interval: \"5m\"", "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JI(v, "ping_interval"), 300000000000LL);
    json_decref(v);
    h_server_stop(srv);
}

Test(opts, write_deadline) {
    GO_TEST("server/opts_test.go", "TestParseWriteDeadline");
    SKIP_GO();
    check_conf(
        "write_deadline: \"1x\"",
        "%F:1:0: error parsing write_deadline: time: unknown unit \"x\" in duration \"1x\"\n\n");
    check_conf("write_deadline: \"1\"",
               "%F:1:0: error parsing write_deadline: time: missing unit in duration \"1\"\n\n");
    check_conf("write_deadline: \"x1s\"",
               "%F:1:0: error parsing write_deadline: time: invalid duration \"x1s\"\n\n");
    srv = h_server_start("write_deadline: \"1s\"", "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JI(v, "write_deadline"), 1000000000LL);
    json_decref(v);
    h_server_stop(srv);
    srv = h_server_start("write_deadline: 2", "-m", "-1");
    v = varz_of(srv);
    cr_expect_eq(JI(v, "write_deadline"), 2000000000LL);
    json_decref(v);
    h_server_stop(srv);
}

Test(opts, write_deadline_and_timeout_global) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestWriteDeadlineConfigParsing",
                    "the global entry; leafnodes, gateway and cluster are refused here");
    GO_TEST_PARTIAL("server/opts_test.go", "TestWriteTimeoutConfigParsing",
                    "the global entry is accepted for default, retry and close; leafnodes, "
                    "gateway and cluster are refused here");
    SKIP_GO();
    check_conf("write_deadline: 8s\n", NULL);
    check_conf("write_timeout: default\n", NULL);
    check_conf("write_timeout: close\n", NULL);
    check_conf("write_timeout: retry\n", NULL);
    check_conf("write_timeout: later\n",
               "%F:1:0: write_timeout must be 'default', 'close' or 'retry'\n\n");
}

Test(opts, large_max_control_line) {
    GO_TEST("server/opts_test.go", "TestLargeMaxControlLine");
    SKIP_GO();
    check_conf("\n\t\tmax_control_line = 3000000000\n\t",
               "%F:2:3: max_control_line value is too big\n\n");
}

Test(opts, large_max_payload) {
    GO_TEST("server/opts_test.go", "TestLargeMaxPayload");
    GO_TEST("server/opts_test.go", "TestNewServerFromConfigFunctionality");
    SKIP_GO();
    check_conf("\n\t\tmax_payload = 3000000000\n\t", "%F:2:3: max_payload value is too big\n\n");
    char *dir = tmp_dir();
    free(put(dir, "p.conf", "max_payload = 100000\nmax_pending = 50000\n"));
    expect_run(dir, 1, false,
               "nats-server: max_payload (100000) cannot be higher than max_pending (50000)\n",
               ARGS("-c", "p.conf", "-p", "-1"));
    rm_dir(dir);
}

/* Size suffixes on numbers (conf lexer) reach the limits: k/m/g are powers of 1000, kb/mb/...
 * of 1024, as in Go. */
Test(opts, size_suffixes) {
    SKIP_GO();
    srv = h_server_start("max_payload: 1MB\nmax_pending: 64MB\nmax_control_line: 2k\n", "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JI(v, "max_payload"), 1048576);
    cr_expect_eq(JI(v, "max_pending"), 67108864);
    cr_expect_eq(JI(v, "max_control_line"), 2000);
    json_decref(v);
    h_server_stop(srv);
}

Test(opts, lame_duck_validation) {
    GO_TEST_PARTIAL("server/server_test.go", "TestLameDuckOptionsValidation",
                    "through a config file, so the duration is at least 30s (Go's config "
                    "minimum): grace 1m against duration 30s");
    SKIP_GO();
    char *dir = tmp_dir();
    free(put(dir, "l.conf", "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1m\"\n"));
    expect_run(dir, 1, false,
               "nats-server: lame duck grace period (1m0s) should be strictly lower than lame "
               "duck duration (30s)\n",
               ARGS("-c", "l.conf", "-p", "-1"));
    rm_dir(dir);
    check_conf("lame_duck_duration: \"29.5s\"\n",
               "%F:1:0: invalid lame_duck_duration of 29.5s, minimum is 30 seconds\n\n");
    check_conf("lame_duck_duration: \"1500ms\"\n",
               "%F:1:0: invalid lame_duck_duration of 1.5s, minimum is 30 seconds\n\n");
    check_conf("lame_duck_grace_period: \"-1s\"\n",
               "%F:1:0: invalid lame_duck_grace_period, needs to be positive\n\n");
}

Test(opts, server_name_no_space) {
    GO_TEST_PARTIAL("server/server_test.go", "TestServerClusterAndGatewayNameNoSpace",
                    "server names (file and flag); cluster and gateway are refused here");
    SKIP_GO();
    check_conf("\n\t\tport: -1\n\t\tserver_name: \"my server\"\n\t",
               "%F:3:3: server name cannot contain spaces\n\n");
    char *dir = tmp_dir();
    expect_run(dir, 1, false, "nats-server: server name cannot contain spaces\n",
               ARGS("-n", "my server", "-p", "-1"));
    rm_dir(dir);
}

Test(opts, unknown_top_level_field) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestHandleUnknownTopLevelConfigurationField",
                    "the error; Go's NoErrOnUnknownFields is an embedding API");
    SKIP_GO();
    check_conf("\n\t\tport: 1234\n\t\tstreaming {\n\t\t\tid: \"me\"\n\t\t}\n\t",
               "%F:3:3: unknown field \"streaming\"\n\n");
}

Test(opts, sublist_no_cache) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestSublistNoCacheConfig",
                    "accepted; the sublist cache setting has no observable effect here");
    SKIP_GO();
    check_conf("\n      disable_sublist_cache: true\n    ", NULL);
}

Test(opts, max_sub_tokens_values) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestMaxSubTokens",
                    "Go's value checks only; the limit itself is not enforced yet (a notice "
                    "says so)");
    SKIP_GO();
    check_conf("max_sub_tokens: 4\n", NULL);
    check_conf("max_sub_tokens: 256\n", "%F:1:0: max_sub_tokens value is too big\n\n");
    check_conf("Max_Subscription_Tokens: 0\n",
               "%F:1:0: Max_Subscription_Tokens value can not be negative\n\n");
}

Test(opts, default_auth_timeout) {
    GO_TEST("server/opts_test.go", "TestDefaultAuthTimeout");
    SKIP_GO();
    srv = h_server_start("authorization { timeout: 0 }\n", "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JN(v, "auth_timeout"), 2.0);
    json_decref(v);
    h_server_stop(srv);
    /* With TLS the default is the TLS timeout plus one second. */
    char *dir = tmp_dir(), conf[600];
    make_cert(dir);
    snprintf(conf, sizeof conf,
             "tls {\n  cert_file: \"%s/cert.pem\"\n  key_file: \"%s/key.pem\"\n  timeout: 4.0\n}\n",
             dir, dir);
    srv = h_server_start(conf, "-m", "-1");
    v = varz_of(srv);
    cr_expect_eq(JN(v, "auth_timeout"), 5.0);
    cr_expect_eq(JN(v, "tls_timeout"), 4.0);
    json_decref(v);
    h_server_stop(srv);
    rm_dir(dir);
}

Test(opts, authorization_timeout_running) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestAuthorizationTimeoutConfigParsing",
                    "the running values (/varz); the parsed values are in tests/unit/test_auth.c");
    SKIP_GO();
    static const struct {
        const char *conf;
        double want;
    } cases[] = {
        {"authorization {}", 2},
        {"authorization {\n timeout: 0\n}", 2},
        {"authorization {\n timeout: 1\n}", 1},
        {"authorization {\n timeout: 10s\n}", 10},
        {"authorization {\n timeout: \"1m\"\n}", 60},
        {"authorization {\n timeout: \"10m5s30ms\"\n}", 605.03},
        {"authorization {\n timeout: 0.091\n}", .091},
        {"authorization {\n timeout: 1m\n}", 1000000}, /* a warning, printed; still runs */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv = h_server_start(cases[i].conf, "-m", "-1");
        json_t *v = varz_of(srv);
        double got = JN(v, "auth_timeout");
        cr_expect(got > cases[i].want - 1e-6 && got < cases[i].want + 1e-6, "%s: %f, want %f",
                  cases[i].conf, got, cases[i].want);
        json_decref(v);
        h_server_stop(srv);
    }
    SKIP_GO();
    check_conf("authorization {\n timeout: random_garbage\n}",
               "%F:2:2: error parsing authorization config, 'timeout' time: invalid duration "
               "\"random_garbage\"\n\n");
}

/* ---- tls {} ------------------------------------------------------------------------------- */

/* "tls {...}" with the test certificate, plus body. */
static void tls_conf(char *out, size_t cap, const char *dir, const char *body) {
    snprintf(out, cap,
             "listen: 127.0.0.1:-1\n\ntls {\n  cert_file:  \"%s/cert.pem\"\n"
             "  key_file:   \"%s/key.pem\"\n%s}\n",
             dir, dir, body);
}

/* The cipher a TLS 1.2 client negotiates with a handshake-first server using tls body. */
static char *negotiated_cipher(const char *dir, const char *body) {
    char conf[2048], cmd[512];
    tls_conf(conf, sizeof conf, dir, body);
    srv = h_server_start(conf);
    snprintf(cmd, sizeof cmd,
             "openssl s_client -connect 127.0.0.1:%d -tls1_2 </dev/null 2>/dev/null | "
             "sed -n 's/.*Cipher is //p' | head -1",
             srv->port);
    FILE *f = popen(cmd, "r");
    char line[128] = "";
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    pclose(f);
    line[strcspn(line, "\n")] = '\0';
    h_server_stop(srv);
    return strdup(line);
}

Test(opts, tls_config_file) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestTLSConfigFile",
                    "timeouts and TLS in /varz, insecure suites refused unless allowed, the "
                    "configured suite is the one negotiated, bad and empty suites and curves "
                    "refused (curve preferences applied: tls::curve_preferences_limit_the_key_exchange)");
    SKIP_GO();
    char *dir = tmp_dir(), conf[2048];
    make_cert(dir);
    tls_conf(conf, sizeof conf, dir, "  timeout:    \"2s\"\n");
    strcat(conf, "\nauthorization {\n  user:     derek\n  password: foo\n  timeout:  1\n}\n");
    srv = h_server_start(conf, "-m", "-1");
    json_t *v = varz_of(srv);
    cr_expect_eq(JN(v, "tls_timeout"), 2.0);
    cr_expect_eq(JN(v, "auth_timeout"), 1.0);
    cr_expect(json_is_true(json_object_get(v, "tls_required")));
    json_decref(v);
    h_server_stop(srv);

    tls_conf(conf, sizeof conf, dir,
             "  cipher_suites: [\n\t\"TLS_RSA_WITH_RC4_128_SHA\",\n"
             "\t\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"\n  ]\n");
    check_conf(conf, "%F:3:1: insecure cipher suites configured without "
                     "'allow_insecure_cipher_suites' option set: TLS_RSA_WITH_RC4_128_SHA\n\n");
    tls_conf(
        conf, sizeof conf, dir,
        "  allow_insecure_cipher_suites: true\n  cipher_suites: [\n"
        "\t\"TLS_RSA_WITH_RC4_128_SHA\",\n\t\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"\n  ]\n");
    check_conf(conf, NULL);
    tls_conf(conf, sizeof conf, dir,
             "  cipher_suites: [\n\t\"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\",\n"
             "\t\"BAD_CIPHER_SPEC\",\n  ]\n");
    check_conf(conf, "%F:8:3: unrecognized cipher BAD_CIPHER_SPEC\n\n");
    tls_conf(conf, sizeof conf, dir, "  cipher_suites: [\n  ]\n");
    check_conf(conf, "%F:6:3: error parsing tls config, 'cipher_suites' cannot be empty\n\n");
    tls_conf(conf, sizeof conf, dir, "  curve_preferences: [\n\t\t\"CurveP256\"\n  ]\n");
    check_conf(conf, NULL);
    tls_conf(conf, sizeof conf, dir, "  curve_preferences: [\n\t\t\"GARBAGE\"\n  ]\n");
    check_conf(conf, "%F:7:4: unrecognized curve preference GARBAGE\n\n");
    tls_conf(conf, sizeof conf, dir, "  curve_preferences: [\n  ]\n");
    check_conf(conf, "%F:6:3: error parsing tls config, 'curve_preferences' cannot be empty\n\n");
    tls_conf(conf, sizeof conf, dir, "  min_version: \"1.1\"\n");
    check_conf(conf, "%F:6:3: error parsing tls config: unsupported TLS version: TLS 1.1\n\n");

    /* The suites configured are the ones a TLS 1.2 client gets. */
    char *c1 = negotiated_cipher(dir, "  handshake_first: true\n  cipher_suites: "
                                      "[\"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA\"]\n");
    cr_expect_str_eq(c1, "ECDHE-ECDSA-AES256-SHA");
    free(c1);
    c1 = negotiated_cipher(dir, "  handshake_first: true\n  cipher_suites: "
                                "[\"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\"]\n");
    cr_expect_str_eq(c1, "ECDHE-ECDSA-CHACHA20-POLY1305");
    free(c1);
    rm_dir(dir);
}

/* max_connections: 0 in a file means no client at all (Go stores -1), not "unlimited". */
Test(opts, max_connections_zero_prevents_all) {
    SKIP_GO();
    srv = h_server_start("max_connections: 0\n");
    h_conn *c = h_connect(srv->port);
    json_decref(h_read_info(c));
    h_expect(c, "-ERR 'maximum connections exceeded'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(srv);
}

Test(opts, reload_listen_hot_swap) {
    GO_TEST("server/reload_test.go", "TestConfigReloadUnsupportedHotSwapping");
    char *dir = tmp_dir(), *path = put(dir, "r.conf", "listen: 127.0.0.1:-1");
    pid_t pid;
    json_t *p = start_plain(dir, NULL, (const char *const[]){"-c", "r.conf", NULL}, &pid);
    int port = url_port(p, "nats", NULL, 0);
    json_decref(p);
    free(put(dir, "r.conf", "listen: 127.0.0.1:9999"));
    kill(pid, SIGHUP);
    char lp[300], *log = NULL;
    snprintf(lp, sizeof lp, "%s/server.log", dir);
    for (int64_t end = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < end; h_pause_ms(20)) {
        free(log);
        log = slurp(lp);
        if (strstr(log, "not supported")) break;
    }
    cr_expect(strstr(log, "config reload not supported for Port"), "%s", log);
    free(log);
    h_conn *c = h_connect(port); /* still on the old port */
    json_decref(h_read_info(c));
    h_close(c);
    stop(pid);
    free(path);
    rm_dir(dir);
}
