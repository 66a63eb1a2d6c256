/* Slow consumers: a subscriber that does not read is disconnected once its pending output
 * passes max_pending, and nobody else notices.  Ports the applicable part of Go nats-server
 * v2.14.5 server/norace_1_test.go (TestNoRaceSlowConsumerPendingBytes) with raw sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

Test(slow, pending_bytes_limit_disconnects_only_the_slow_subscriber) {
    GO_TEST_PARTIAL("server/norace_1_test.go", "TestNoRaceSlowConsumerPendingBytes",
                    "checks the disconnect (read until EOF) and a healthy subscriber; not the "
                    "write error Go's client sees");
    /* 1 MiB of pending output at most; a tiny receive buffer so the kernel cannot absorb it. */
    h_server *s = h_server_start("max_pending: 1MB\nwrite_deadline: \"30s\"\n");
    h_conn *slow = h_connect(s->port);
    int small = 4096;
    setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    json_decref(h_read_info(slow));
    h_send(slow, "CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n");
    h_expect(slow, "PONG\r\n");
    h_conn *fine = h_connect_setup(s->port, NULL);
    h_send(fine, "SUB flood 1\r\n");
    h_ping(fine);
    h_conn *pub = h_connect_setup(s->port, NULL);
    static char payload[8192];
    memset(payload, 'p', sizeof payload);
    /* ~16 MiB published while `slow` reads nothing; `fine` keeps reading. */
    int got = 0;
    const size_t one = strlen("MSG flood 1 8192\r\n") + sizeof payload + 2;
    for (int i = 0; i < 2048; i++) {
        h_sendf(pub, "PUB flood %zu\r\n", sizeof payload);
        h_sendn(pub, payload, sizeof payload);
        h_send(pub, "\r\n");
        if (i % 64 == 63) {
            h_ping(pub);
            h_send(fine, "PING\r\n");
            char *m = h_expect_re(fine, "^(MSG flood 1 8192\r\np+\r\n)*PONG\r\n");
            got += (int)((strlen(m) - 6) / one);
            free(m);
        }
    }
    h_ping(pub);
    h_send(fine, "PING\r\n");
    char *m = h_expect_re(fine, "^(MSG flood 1 8192\r\np+\r\n)*PONG\r\n");
    got += (int)((strlen(m) - 6) / one);
    free(m);
    cr_assert_eq(got, 2048, "the healthy subscriber got %d of 2048 messages", got);
    /* The slow one was cut off: draining its socket ends in EOF, well short of 16 MiB. */
    size_t drained = 0;
    slow->timeout_ms = H_TIMEOUT_MS;
    for (;;) {
        char buf[65536];
        ssize_t n = recv(slow->fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        drained += (size_t)n;
        cr_assert_lt(drained, 8u << 20, "slow consumer was never disconnected");
    }
    cr_assert(h_server_wait_log(s, "Slow Consumer Detected", H_TIMEOUT_MS));
    h_close(slow);
    h_close(fine);
    h_close(pub);
    h_server_stop(s);
}
