/* Server-level subject mappings (`mappings {}`): the published subject is rewritten before
 * matching.  Ports the live part of Go nats-server v2.14.5 server/accounts_test.go
 * TestGlobalAccountRouteMappingsConfiguration; runs against the Go server too. */
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

Test(mappings, global_mapping_rewrites_published_subject) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestGlobalAccountRouteMappingsConfiguration",
                    "simple and wildcard mappings with raw clients; not weighted selection");
    h_server *s = h_server_start("mappings = {\n"
                                 "  foo: bar\n"
                                 "  \"orders.*.*\": \"processed.$2.$1\"\n"
                                 "}\n");
    h_conn *sub = h_connect_setup(s->port, NULL);
    h_send(sub, "SUB bar 1\r\nSUB processed.> 2\r\nSUB foo 3\r\n");
    h_ping(sub);
    h_conn *pub = h_connect_setup(s->port, NULL);
    h_send(pub, "PUB foo 2\r\nhi\r\nPUB orders.eu.42 2\r\nok\r\n");
    h_ping(pub);
    /* foo went to bar (not to the foo subscriber); orders.eu.42 to processed.42.eu. */
    h_expect(sub, "MSG bar 1 2\r\nhi\r\nMSG processed.42.eu 2 2\r\nok\r\n");
    h_ping(sub);
    h_close(pub);
    h_close(sub);
    h_server_stop(s);
}

Test(mappings, invalid_destination_is_a_config_error) {
    if (h_server_is_go()) cr_skip_test("exit path checked on our server only");
    char dir[] = "/tmp/nxmap.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64], cmd[256];
    snprintf(path, sizeof path, "%s/m.conf", dir);
    FILE *f = fopen(path, "w");
    fputs("mappings: { a: \"{{nope(1)}}\" }\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -c %s -t 2>%s/err.txt", getenv("NATS_SERVER_BIN"), path, dir);
    int rc = system(cmd);
    cr_assert_neq(rc, 0, "an invalid mapping destination must be refused");
    snprintf(cmd, sizeof cmd, "grep -q 'unknown function' %s/err.txt", dir);
    cr_assert_eq(system(cmd), 0, "the error names the problem");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
