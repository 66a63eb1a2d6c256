/* Test harness for storaged's JetStream layer (see js_harness.h). */
#include "js_harness.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void h_publish(void *ctx, const char *account, const char *subj, size_t subj_len,
                      const char *reply, size_t reply_len, const uint8_t *hdr, size_t hdr_len,
                      const uint8_t *data, size_t data_len) {
    jh *h = ctx;
    if (h->nmsgs == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->msgs = realloc(h->msgs, h->cap * sizeof *h->msgs);
    }
    jh_msg *m = &h->msgs[h->nmsgs++];
    m->acc = strdup(account);
    m->subj = strndup(subj, subj_len);
    m->reply = reply_len ? strndup(reply, reply_len) : NULL;
    m->hdr = hdr_len ? strndup((const char *)hdr, hdr_len) : NULL;
    m->hdr_len = hdr_len;
    m->data = malloc(data_len + 1);
    if (data_len) memcpy(m->data, data, data_len);
    m->data[data_len] = 0;
    m->len = data_len;
}

static void h_interest(void *ctx, const char *account, const char *subject, int delta) {
    jh *h = ctx;
    for (size_t i = 0; i < h->ninterest; i++) {
        if (!strcmp(h->interest[i], subject) && !strcmp(h->interest_acc[i], account)) {
            h->interest_n[i] += delta;
            return;
        }
    }
    if (h->ninterest < 256) {
        h->interest_acc[h->ninterest] = strdup(account);
        h->interest[h->ninterest] = strdup(subject);
        h->interest_n[h->ninterest++] = delta;
    }
}

static bool h_has_interest(void *ctx, const char *account, const char *subject) {
    jh *h = ctx;
    (void)account;
    if (!strcmp(subject, "$JS.EVENT.ADVISORY.API")) return h->audit_interest;
    if (h->no_interest && !strncmp(subject, h->no_interest, strlen(h->no_interest))) return false;
    return true;
}

static int64_t h_now(void *ctx) {
    jh *h = ctx;
    if (h->now) return h->now;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void do_open(jh *h) {
    char err[256] = "";
    h->js = js_server_open(&h->cfg, &h->host, err, sizeof err);
    cr_assert(h->js, "js_server_open: %s", err);
}

void jh_open(jh *h) { jh_open_accounts(h, NULL, 0, NULL); }

void jh_open_accounts(jh *h, const js_account_config *accs, size_t n, const char *sys) {
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/jstest-XXXXXX");
    cr_assert(mkdtemp(h->dir));
    h->now = 1767225600LL * 1000000000LL; /* 2026-01-01T00:00:00Z */
    h->host = (js_host){.ctx = h, .publish = h_publish, .interest = h_interest,
                        .has_interest = h_has_interest, .now_ns = h_now};
    h->cfg = (js_config){.store_dir = h->dir, .max_memory = -1, .max_store = -1,
                         .sync = SD_FS_SYNC_NONE, .server_id = "NSRVID",
                         .server_name = "test-server", .max_payload = 1024 * 1024,
                         .accounts = accs, .naccounts = n, .system_account = sys};
    do_open(h);
}

static void free_interest(jh *h) {
    for (size_t i = 0; i < h->ninterest; i++) free(h->interest[i]), free(h->interest_acc[i]);
}

void jh_restart(jh *h) {
    js_server_close(h->js);
    free_interest(h);
    h->ninterest = 0;
    do_open(h);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void jh_clear(jh *h) {
    for (size_t i = 0; i < h->nmsgs; i++) {
        free(h->msgs[i].acc);
        free(h->msgs[i].subj);
        free(h->msgs[i].reply);
        free(h->msgs[i].hdr);
        free(h->msgs[i].data);
    }
    h->nmsgs = 0;
}

void jh_close(jh *h) {
    js_server_close(h->js);
    h->js = NULL;
    jh_clear(h);
    free(h->msgs);
    free_interest(h);
    nftw(h->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void jh_inbound(jh *h, const char *subj, const char *reply, const char *hdr, const char *data,
                size_t len) {
    js_inmsg m = {.account = h->account, .subject = subj, .subject_len = strlen(subj), .reply = reply,
                  .reply_len = reply ? strlen(reply) : 0, .hdr = (const uint8_t *)hdr,
                  .hdr_len = hdr ? strlen(hdr) : 0, .data = (const uint8_t *)data,
                  .data_len = len};
    js_server_inbound(h->js, &m);
}

const jh_msg *jh_last_on(jh *h, const char *subj) {
    for (size_t i = h->nmsgs; i > 0; i--)
        if (!strcmp(h->msgs[i - 1].subj, subj)) return &h->msgs[i - 1];
    return NULL;
}

size_t jh_count_on(jh *h, const char *subj) {
    size_t n = 0;
    for (size_t i = 0; i < h->nmsgs; i++) n += !strcmp(h->msgs[i].subj, subj);
    return n;
}

int jh_interest(jh *h, const char *subject) {
    const char *acc = h->account ? h->account : "$G";
    for (size_t i = 0; i < h->ninterest; i++)
        if (!strcmp(h->interest[i], subject) && !strcmp(h->interest_acc[i], acc))
            return h->interest_n[i];
    return 0;
}

const jh_msg *jh_req_raw(jh *h, const char *subj, const char *body) {
    char reply[64];
    snprintf(reply, sizeof reply, "_INBOX.test.%d", ++h->reply_seq);
    jh_inbound(h, subj, reply, NULL, body ? body : "", body ? strlen(body) : 0);
    js_server_flush(h->js);
    return jh_last_on(h, reply);
}

static json_t *parse(const jh_msg *m) {
    if (!m) return NULL;
    json_error_t e;
    json_t *v = json_loadb(m->data, m->len, 0, &e);
    cr_assert(v, "reply is not JSON: %s (%s)", m->data, e.text);
    return v;
}

json_t *jh_req(jh *h, const char *subj, const char *body) { return parse(jh_req_raw(h, subj, body)); }

json_t *jh_pub(jh *h, const char *subj, const char *hdr, const char *data) {
    char reply[64];
    snprintf(reply, sizeof reply, "_INBOX.pub.%d", ++h->reply_seq);
    jh_inbound(h, subj, reply, hdr, data ? data : "", data ? strlen(data) : 0);
    js_server_flush(h->js);
    return parse(jh_last_on(h, reply));
}

static json_t *walk(json_t *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save)) {
        if (json_is_array(o)) o = json_array_get(o, (size_t)atoi(t));
        else o = json_object_get(o, t);
    }
    return o;
}

const char *jh_str(json_t *o, const char *path) { return json_string_value(walk(o, path)); }
json_int_t jh_int(json_t *o, const char *path) { return json_integer_value(walk(o, path)); }
bool jh_has(json_t *o, const char *path) { return walk(o, path) != NULL; }
int jh_err_code(json_t *o) { return (int)json_integer_value(walk(o, "error.err_code")); }

void jh_create(jh *h, const char *cfg_json) {
    json_error_t e;
    json_t *c = json_loads(cfg_json, 0, &e);
    cr_assert(c, "bad test config: %s", e.text);
    char subj[300];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", json_string_value(json_object_get(c, "name")));
    json_decref(c);
    json_t *r = jh_req(h, subj, cfg_json);
    cr_assert(r, "no reply to stream create");
    cr_assert(!jh_has(r, "error"), "stream create failed: %s", jh_str(r, "error.description"));
    json_decref(r);
}
