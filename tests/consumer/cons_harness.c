/* Consumer suite harness (see cons_harness.h). */
#include "cons_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static h_env *g_env;

static char *dupn(const void *p, size_t n) {
    char *r = malloc(n + 1);
    if (n) memcpy(r, p, n);
    r[n] = 0;
    return r;
}

static void host_publish(void *ctx, const char *account, const char *subj, size_t subj_len, const char *reply, size_t reply_len,
                         const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t data_len) {
    h_env *e = ctx;
    (void)account;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->msgs = realloc(e->msgs, e->cap * sizeof *e->msgs);
    }
    h_msg *m = &e->msgs[e->n++];
    m->subj = dupn(subj, subj_len);
    m->reply = reply_len ? dupn(reply, reply_len) : NULL;
    m->hdr = hdr_len ? dupn(hdr, hdr_len) : NULL;
    m->hdr_len = hdr_len;
    m->data = dupn(data, data_len);
    m->len = data_len;
    m->shown = NULL;
}
static void host_publish_as(void *ctx, const char *account, const char *subj, size_t subj_len, const char *shown, size_t shown_len,
                            const char *reply, size_t reply_len, const uint8_t *hdr, size_t hdr_len,
                            const uint8_t *data, size_t data_len) {
    h_env *e = ctx;
    host_publish(ctx, account, subj, subj_len, reply, reply_len, hdr, hdr_len, data, data_len);
    e->msgs[e->n - 1].shown = dupn(shown, shown_len);
}
static void host_interest(void *ctx, const char *account, const char *subject, int delta) {
    (void)ctx;
    (void)account;
    (void)subject;
    (void)delta;
}
static bool host_has_interest(void *ctx, const char *account, const char *subject) {
    h_env *e = ctx;
    (void)account;
    for (size_t i = 0; i < e->n_no; i++)
        if (!strncmp(subject, e->no_interest[i], strlen(e->no_interest[i]))) return false;
    return true;
}
static int64_t host_now(void *ctx) {
    return ((h_env *)ctx)->now;
}

static void open_js(h_env *e) {
    js_host host = {.ctx = e,
                    .publish = host_publish,
                    .publish_as = host_publish_as,
                    .interest = host_interest,
                    .has_interest = host_has_interest,
                    .now_ns = host_now};
    js_config cfg = {.store_dir = e->dir, .max_memory = -1, .max_store = -1, .server_id = "SRV",
                     .server_name = "srv", .max_payload = 1024 * 1024, .domain = e->domain};
    char err[256];
    e->js = js_server_open(&cfg, &host, err, sizeof err);
    cr_assert(e->js, "open: %s", err);
}

void h_open(h_env *e) {
    memset(e, 0, sizeof *e);
    e->now = 1700000000LL * H_S;
    snprintf(e->dir, sizeof e->dir, "/tmp/cons_test_XXXXXX");
    cr_assert(mkdtemp(e->dir));
    g_env = e;
    open_js(e);
}

void h_reopen(h_env *e) {
    js_server_close(e->js);
    open_js(e);
}

void h_clear(h_env *e) {
    for (size_t i = 0; i < e->n; i++) {
        free(e->msgs[i].subj);
        free(e->msgs[i].reply);
        free(e->msgs[i].hdr);
        free(e->msgs[i].data);
        free(e->msgs[i].shown);
    }
    e->n = 0;
}

void h_close(h_env *e) {
    js_server_close(e->js);
    h_clear(e);
    free(e->msgs);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    if (system(cmd)) {
    }
}

void h_inbound(h_env *e, const char *subj, const char *reply, const char *hdr, const char *data) {
    js_inmsg m = {.subject = subj, .subject_len = strlen(subj), .reply = reply,
                  .reply_len = reply ? strlen(reply) : 0, .hdr = (const uint8_t *)hdr,
                  .hdr_len = hdr ? strlen(hdr) : 0, .data = (const uint8_t *)(data ? data : ""),
                  .data_len = data ? strlen(data) : 0};
    js_server_inbound(e->js, &m);
    js_server_flush(e->js);
}

json_t *h_api(h_env *e, const char *subj, const char *body) {
    char inbox[64];
    snprintf(inbox, sizeof inbox, "_INBOX.api.%d", ++e->inbox);
    h_inbound(e, subj, inbox, NULL, body);
    h_msg *m = h_last(e, inbox);
    if (!m) return NULL;
    json_error_t je;
    json_t *j = json_loads(m->data, 0, &je);
    cr_assert(j, "bad json reply: %s", m->data);
    return j;
}

void h_stream(h_env *e, const char *name, const char *subjects, const char *storage, const char *extra) {
    char subj[256], body[2048];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", name);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"subjects\":%s,\"storage\":\"%s\"%s%s}", name, subjects,
             storage, extra ? "," : "", extra ? extra : "");
    json_t *r = h_api(e, subj, body);
    cr_assert(r, "no stream create reply");
    cr_assert(!json_object_get(r, "error"), "stream create failed: %s", json_dumps(r, 0));
    json_decref(r);
}

void h_pub(h_env *e, const char *subj, const char *data) {
    h_inbound(e, subj, "_INBOX.puback", NULL, data);
}
void h_pub_hdr(h_env *e, const char *subj, const char *hdr, const char *data) {
    h_inbound(e, subj, "_INBOX.puback", hdr, data);
}

json_t *h_consumer(h_env *e, const char *stream, const char *name, const char *config) {
    char subj[512], body[16384];
    if (name) snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s.%s", stream, name);
    else snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s", stream);
    snprintf(body, sizeof body, "{\"stream_name\":\"%s\",\"config\":%s}", stream, config);
    json_t *r = h_api(e, subj, body);
    cr_assert(r, "no consumer create reply");
    return r;
}

json_t *h_info(h_env *e, const char *stream, const char *name) {
    char subj[512];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.INFO.%s.%s", stream, name);
    json_t *r = h_api(e, subj, "");
    cr_assert(r, "no info reply");
    return r;
}

const char *h_pull(h_env *e, const char *stream, const char *cons, const char *body) {
    static char inbox[64];
    char subj[512];
    snprintf(inbox, sizeof inbox, "_INBOX.pull.%d", ++e->inbox);
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, cons);
    h_inbound(e, subj, inbox, NULL, body);
    return inbox;
}

void h_advance(h_env *e, int64_t ns) {
    int64_t target = e->now + ns;
    int stuck = 0;
    for (;;) {
        int64_t d = js_server_next_deadline(e->js);
        if (d > target) break;
        if (d > e->now) e->now = d;
        js_server_tick(e->js, e->now);
        js_server_flush(e->js);
        /* A deadline that does not move past a tick would make the process loop spin. */
        if (js_server_next_deadline(e->js) <= e->now) {
            cr_assert(++stuck < 3, "timer deadline stuck at %lld", (long long)e->now);
            e->now += 1;
        } else {
            stuck = 0;
        }
    }
    e->now = target;
    js_server_tick(e->js, e->now);
    js_server_flush(e->js);
}

size_t h_count(h_env *e, const char *subj) {
    size_t c = 0;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->msgs[i].subj, subj)) c++;
    return c;
}
h_msg *h_nth(h_env *e, const char *subj, size_t k) {
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->msgs[i].subj, subj) && k-- == 0) return &e->msgs[i];
    return NULL;
}
h_msg *h_last(h_env *e, const char *subj) {
    for (size_t i = e->n; i-- > 0;)
        if (!strcmp(e->msgs[i].subj, subj)) return &e->msgs[i];
    return NULL;
}

const char *h_hval(const h_msg *m, const char *key) {
    static char buf[512];
    if (!m->hdr) return NULL;
    size_t kl = strlen(key);
    const char *p = strstr(m->hdr, "\r\n");
    while (p && p[2]) {
        p += 2;
        if (!strncasecmp(p, key, kl) && p[kl] == ':') {
            const char *v = p + kl + 1;
            while (*v == ' ') v++;
            const char *end = strstr(v, "\r\n");
            size_t l = end ? (size_t)(end - v) : strlen(v);
            snprintf(buf, sizeof buf, "%.*s", (int)l, v);
            return buf;
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

bool h_status(const h_msg *m, const char *status_line) {
    if (!m || !m->hdr) return false;
    size_t l = strlen(status_line);
    return !strncmp(m->hdr, status_line, l) && !strncmp(m->hdr + l, "\r\n", 2);
}
