/* Helpers shared by the account tests (test_accounts.c, test_accounts_sys.c): servers with one
 * or two broker workers, and quiet user connections placed on a given worker. */
#ifndef NX_IT_ACCOUNTS_UTIL_H
#define NX_IT_ACCOUNTS_UTIL_H

#include <stdio.h>

#include "tests/integration/harness.h"
#include "tests/integration/worker_util.h"

#define OPTS "\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true"

/* ---- helpers ------------------------------------------------------------------------------ */

static inline h_server *start_w(const char *conf, int workers) {
    if (workers > 1) {
        if (h_server_is_go()) cr_skip_test("broker workers are this server's own design");
        return h_server_start(conf, "--workers", "2");
    }
    if (h_server_is_go()) return h_server_start(conf);
    return h_server_start(conf, "--workers", "1");
}

/* A quiet connection as user/pass; with workers > 1 it lands on `worker`. */
static inline h_conn *user_on(h_server *s, int workers, int worker, const char *user,
                              const char *pass) {
    char json[512];
    if (user)
        snprintf(json, sizeof json, "{" OPTS ",\"user\":\"%s\",\"pass\":\"%s\"}", user, pass);
    else
        snprintf(json, sizeof json, "{" OPTS "}");
    return wu_connect_on_worker(s, workers > 1 ? worker : -1, json);
}

/* Reads one MSG and checks subject, sid and payload. */
static inline void expect_msg(h_conn *c, const char *subject, const char *sid,
                              const char *payload) {
    h_msg m;
    h_read_msg(c, &m);
    cr_assert_str_eq(m.subject, subject);
    cr_assert_str_eq(m.sid, sid);
    cr_assert_str_eq(m.data, payload);
    h_msg_free(&m);
}

#endif
