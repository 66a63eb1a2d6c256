/* Configuration reload (SIGHUP and --signal reload): ports the applicable cases of Go
 * nats-server v2.14.5 server/reload_test.go, driven through the real signal path.  Runs against
 * the Go server too (NATS_SERVER_BIN=/usr/sbin/nats-server). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

static void rewrite(h_server *s, const char *text) {
    FILE *f = fopen(s->conf_path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Waits for the n-th occurrence of needle in the server log. */
static bool wait_log_count(h_server *s, const char *needle, int n) {
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < deadline; h_pause_ms(10)) {
        char *log = h_server_log(s);
        int count = 0;
        for (char *p = log; (p = strstr(p, needle)); p++) count++;
        free(log);
        if (count >= n) return true;
    }
    return false;
}

static long info_int(h_server *s, const char *key) {
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    long v = (long)json_integer_value(json_object_get(info, key));
    json_decref(info);
    h_close(c);
    return v;
}

Test(reload, max_payload_applies_to_new_connections) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadMaxPayload",
                    "checks INFO of new clients and the limit; not the existing client's INFO");
    h_server *s = h_server_start("max_payload: 1000\n");
    cr_assert_eq(info_int(s, "max_payload"), 1000);
    rewrite(s, "max_payload: 2000\n");
    h_server_signal(s, SIGHUP);
    cr_assert(wait_log_count(s, "Reloaded server configuration", 1));
    cr_assert_eq(info_int(s, "max_payload"), 2000);
    h_conn *c = h_connect_setup(s->port, NULL);
    h_send(c, "SUB a 1\r\n");
    char big[1600];
    memset(big, 'x', sizeof big);
    h_sendf(c, "PUB a %zu\r\n", sizeof big);
    h_sendn(c, big, sizeof big);
    h_send(c, "\r\nPING\r\n");
    free(h_expect_re(c, "^MSG a 1 1600\r\nx+\r\nPONG\r\n"));
    h_close(c);
    h_server_stop(s);
}

Test(reload, refused_change_keeps_the_running_config) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadUnsupported",
                    "one unsupported option (server_name) instead of Go's set");
    h_server *s = h_server_start("server_name: alpha\nmax_payload: 1000\n");
    rewrite(s, "server_name: beta\nmax_payload: 3000\n");
    h_server_signal(s, SIGHUP);
    cr_assert(wait_log_count(s, "config reload not supported for ServerName", 1));
    /* Nothing changed: not even the option that would have been fine on its own. */
    cr_assert_eq(info_int(s, "max_payload"), 1000);
    h_server_stop(s);
}

Test(reload, broken_file_is_reported_and_ignored) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadInvalidConfig",
                    "a syntax error only");
    h_server *s = h_server_start("max_payload: 1000\n");
    rewrite(s, "max_payload: {{{\n");
    h_server_signal(s, SIGHUP);
    cr_assert(wait_log_count(s, "reload", 1));
    cr_assert_eq(info_int(s, "max_payload"), 1000);
    h_server_stop(s);
}

Test(reload, token_change_disconnects_clients_that_lost_access) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadRotateTokenAuthentication",
                    "raw clients instead of the Go client's error callbacks");
    h_server *s = h_server_start("authorization { token: \"first\" }\n");
    h_conn *old = h_connect_setup(s->port, "{\"verbose\":false,\"auth_token\":\"first\"}");
    h_ping(old);
    rewrite(s, "authorization { token: \"second\" }\n");
    h_server_signal(s, SIGHUP);
    h_expect(old, "-ERR 'Authorization Violation'\r\n");
    h_expect_closed(old);
    h_close(old);
    h_conn *neu = h_connect_setup(s->port, "{\"verbose\":false,\"auth_token\":\"second\"}");
    h_ping(neu);
    h_close(neu);
    h_server_stop(s);
}

Test(reload, signal_reload_command_with_a_pid) {
    if (h_server_is_go()) cr_skip_test("the Go 2.9 binary finds processes with pgrep");
    h_server *s = h_server_start("max_payload: 1000\n");
    rewrite(s, "max_payload: 4000\n");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s --signal reload=%d", getenv("NATS_SERVER_BIN"), (int)s->pid);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    cr_assert(wait_log_count(s, "Reloaded server configuration", 1));
    cr_assert_eq(info_int(s, "max_payload"), 4000);
    h_server_stop(s);
}

Test(reload, debug_logging_turns_on) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadLogging",
                    "debug only, checked through the log file's content");
    h_server *s = h_server_start("debug: false\n");
    rewrite(s, "debug: true\n");
    h_server_signal(s, SIGHUP);
    cr_assert(wait_log_count(s, "Reloaded server configuration", 1));
    h_conn *c = h_connect_setup(s->port, NULL);
    h_ping(c);
    h_close(c);
    cr_assert(wait_log_count(s, "[DBG]", 1), "debug lines after reload");
    h_server_stop(s);
}
