/* Helpers shared by the JetStream integration tests (test_jetstream.c, test_js_libnats.c). */
#ifndef NX_IT_JS_UTIL_H
#define NX_IT_JS_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

static inline int js_util_rm_entry(const char *path, const struct stat *sb, int flag,
                                   struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes a store directory and everything under it. */
static inline void rm_tree(const char *dir) {
    nftw(dir, js_util_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The storaged child of the server (it names itself "nats-storaged"), 0 when there is none. */
static inline pid_t storaged_pid(const h_server *s) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", s->pid, s->pid);
    FILE *f = fopen(path, "r");
    pid_t found = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \n", &save); tok && !found;
             tok = strtok_r(NULL, " \n", &save)) {
            char cp[64], comm[64] = "";
            snprintf(cp, sizeof cp, "/proc/%s/comm", tok);
            FILE *c = fopen(cp, "r");
            if (c && fgets(comm, sizeof comm, c) && !strncmp(comm, "nats-storaged", 13))
                found = (pid_t)atol(tok);
            if (c) fclose(c);
        }
    }
    if (f) fclose(f);
    return found;
}


/* ---- raw JetStream requests on a connection subscribed to _INBOX.> ----------------------- */

static int js_util_inbox;

/* Publishes a request with a fresh inbox and reads its reply into *out (caller frees);
 * replies to earlier requests (retried after a restart) are skipped. */
static inline void js_request(h_conn *c, const char *subj, const char *body, h_msg *out) {
    char inbox[32];
    snprintf(inbox, sizeof inbox, "_INBOX.r%d", ++js_util_inbox);
    h_sendf(c, "PUB %s %s %zu\r\n%s\r\n", subj, inbox, strlen(body), body);
    for (;;) {
        cr_assert(h_try_read_msg(c, out, H_TIMEOUT_MS), "no reply to %s", subj);
        if (!strcmp(out->subject, inbox)) return;
        h_msg_free(out);
    }
}

/* A request whose reply must be JSON (no status line). */
static inline json_t *js_request_json(h_conn *c, const char *subj, const char *body) {
    h_msg m;
    js_request(c, subj, body, &m);
    cr_assert(!m.hmsg, "status instead of JSON for %s: %s", subj, m.data);
    json_error_t err;
    json_t *j = json_loads(m.data, 0, &err);
    cr_assert_not_null(j, "reply to %s is not JSON: %s", subj, m.data);
    h_msg_free(&m);
    return j;
}

/* Waits until storaged answers $JS.API.INFO on c: neither Go's 503 no-responders status nor
 * silence (a connection without no_responders gets no reply while storaged is down). */
static inline void js_wait_api(h_conn *c) {
    for (int64_t deadline = h_now_ms() + 10000; h_now_ms() < deadline;) {
        char inbox[32];
        snprintf(inbox, sizeof inbox, "_INBOX.r%d", ++js_util_inbox);
        h_sendf(c, "PUB $JS.API.INFO %s 0\r\n\r\n", inbox);
        h_msg m;
        bool ok = false;
        while (h_try_read_msg(c, &m, H_TIMEOUT_MS)) {
            bool mine = !strcmp(m.subject, inbox);
            ok = mine && (!m.hmsg || strncmp(m.data, "NATS/1.0 503", 12) != 0);
            h_msg_free(&m);
            if (mine) break;
        }
        if (ok) return;
        h_pause_ms(20); /* retry interval while storaged starts */
    }
    cr_assert_fail("storaged never answered $JS.API.INFO");
}

#endif
