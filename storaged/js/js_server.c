/* JetStream server object for storaged: open/recover, interest, inbound dispatch, group
 * commit, timers, usage, reply publishing.
 *
 * Ports the single-node parts of Go nats-server v2.14.5 server/jetstream.go (enableJetStream,
 * jsAccount bookkeeping, JetStreamUsage), server/jetstream_api.go (apiDispatch, trackAPI,
 * sendAPIResponse) and the stream input path of server/stream.go (processInboundJetStreamMsg).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "common/subject.h"
#include "storaged/js/js_advisory.h"
#include "storaged/js/js_stream_int.h"

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

/* ---- accessors for the consumer side (js_int.h) --------------------------------------- */

js_server *js_stream_server(const js_stream *st) { return st->acc->js; }
js_account *js_stream_account(const js_stream *st) { return st->acc; }
const char *js_account_name(const js_account *acc) { return acc->name; }
const char *js_stream_name(const js_stream *st) { return st->cfg.name; }
sd_store *js_stream_store(js_stream *st) { return st->store; }
sd_retention_policy js_stream_retention(const js_stream *st) { return st->cfg.retention; }
sd_storage_type js_stream_storage(const js_stream *st) { return (sd_storage_type)st->cfg.storage; }
const json_t *js_stream_config_json(const js_stream *st) { return st->cfg_json; }
const char *js_stream_dir(const js_stream *st) {
    return st->cfg.storage == SD_STORAGE_FILE ? st->dir : NULL;
}
void **js_stream_consumers_slot(js_stream *st) { return &st->consumers; }
const js_host *js_server_host(js_server *js) { return &js->host; }
const js_config *js_server_config(js_server *js) { return &js->cfg; }

int64_t js_now(js_server *js) {
    if (js->host.now_ns) return js->host.now_ns(js->host.ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

js_stream *js_account_stream(js_account *acc, const char *name) {
    for (size_t i = 0; i < acc->nstreams; i++)
        if (!strcmp(acc->streams[i]->cfg.name, name)) return acc->streams[i];
    return NULL;
}

js_account *js_server_account(js_server *js, const char *name) {
    if (!name || !name[0]) name = "$G";
    for (size_t i = 0; i < js->naccounts; i++)
        if (!strcmp(js->accounts[i]->name, name)) return js->accounts[i];
    js_account *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->js = js;
    a->name = xstrdup(name);
    /* Not configured: JetStream only for "$G" when no accounts are (Go globalAccountOnly). */
    a->enabled = js->global_only && !strcmp(name, "$G");
    a->limits = (js_account_limits){-1, -1, -1, -1, -1, -1, -1, false};
    js_account **na = realloc(js->accounts, (js->naccounts + 1) * sizeof *na);
    if (!na) abort();
    js->accounts = na;
    js->accounts[js->naccounts++] = a;
    return a;
}

char *js_account_streams_dir(js_server *js, const char *acc) {
    size_t n = strlen(js->cfg.store_dir) + strlen(acc) + 32;
    char *p = malloc(n);
    if (!p) abort();
    snprintf(p, n, "%s/jetstream/%s/streams", js->cfg.store_dir, acc);
    return p;
}

void js_account_free(js_account *acc) {
    for (size_t i = 0; i < acc->nstreams; i++) js_stream_close(acc->streams[i]);
    free(acc->streams);
    js_links_free(acc);
    free(acc->name);
    free(acc);
}

/* ---- publishing ---------------------------------------------------------------------- */

static const char *acc_or_global(const char *acc) { return acc && acc[0] ? acc : "$G"; }

void js_deliver(js_server *js, const char *acc, const char *dsubj, const char *subj,
                const char *reply, const char *hdr, size_t hdr_len, const uint8_t *data,
                size_t len) {
    if (!js->host.publish_as || !subj || !subj[0] || !strcmp(subj, dsubj)) {
        js_publish(js, acc, dsubj, reply, hdr, hdr_len, data, len);
        return;
    }
    js->host.publish_as(js->host.ctx, acc_or_global(acc), dsubj, strlen(dsubj), subj,
                        strlen(subj), reply, reply ? strlen(reply) : 0, (const uint8_t *)hdr,
                        hdr_len, data, len);
}

void js_publish(js_server *js, const char *acc, const char *subj, const char *reply,
                const char *hdr, size_t hdr_len, const uint8_t *data, size_t len) {
    if (!js->host.publish || !subj || !subj[0]) return;
    js->host.publish(js->host.ctx, acc_or_global(acc), subj, strlen(subj), reply,
                     reply ? strlen(reply) : 0, (const uint8_t *)hdr, hdr_len, data, len);
}

void js_host_interest(js_server *js, const char *acc, const char *subject, int delta) {
    if (js->host.interest) js->host.interest(js->host.ctx, acc_or_global(acc), subject, delta);
}

bool js_host_has_interest(js_server *js, const char *acc, const char *subject) {
    return !js->host.has_interest ||
           js->host.has_interest(js->host.ctx, acc_or_global(acc), subject);
}

void js_publish_after_sync(js_server *js, const char *acc, const char *subj, const char *hdr,
                           size_t hdr_len, const uint8_t *data, size_t len) {
    if (!subj || !subj[0]) return;
    if (js->ndeferred == js->deferred_cap) {
        js->deferred_cap = js->deferred_cap ? js->deferred_cap * 2 : 64;
        js->deferred = realloc(js->deferred, js->deferred_cap * sizeof *js->deferred);
        if (!js->deferred) abort();
    }
    js_deferred *d = &js->deferred[js->ndeferred++];
    d->acc = xstrdup(acc_or_global(acc));
    d->subj = xstrdup(subj);
    d->hdr = NULL;
    d->hdr_len = hdr_len;
    if (hdr_len) {
        d->hdr = malloc(hdr_len);
        if (!d->hdr) abort();
        memcpy(d->hdr, hdr, hdr_len);
    }
    d->len = len;
    d->data = malloc(len ? len : 1);
    if (!d->data) abort();
    if (len) memcpy(d->data, data, len);
}

void js_stream_mark_dirty(js_stream *st) { st->dirty = true; }

void js_api_track(js_account *acc, bool is_err) {
    if (!acc->enabled) return; /* Go trackAPI / trackAPIErr: only with a jsAccount */
    acc->api_total++;
    acc->js->api_total++;
    if (is_err) {
        acc->api_errors++;
        acc->js->api_errors++;
    }
}

void js_nuid(char out[23]) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static uint64_t state;
    if (!state) {
        if (getrandom(&state, sizeof state, 0) != sizeof state) state = (uint64_t)time(NULL);
        state |= 1;
    }
    for (int i = 0; i < 22; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out[i] = digits[state % 62];
    }
    out[22] = 0;
}

void js_api_audit(js_server *js, const js_inmsg *req, const char *response, size_t len) {
    static const char subj[] = "$JS.EVENT.ADVISORY.API";
    if (!req || !js->host.has_interest || !js_host_has_interest(js, req->account, subj)) return;
    char id[23];
    js_nuid(id);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("io.nats.jetstream.advisory.v1.api_audit"));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "timestamp", js_time_json(js_now(js)));
    json_object_set_new(o, "server", json_string(js->cfg.server_name));
    json_object_set_new(o, "client", js_adv_client(req)); /* null unless Nats-Request-Info */
    json_object_set_new(o, "subject", js_json_string_lossy(req->subject, req->subject_len));
    if (req->data_len)
        json_object_set_new(o, "request",
                            js_json_string_lossy((const char *)req->data, req->data_len));
    json_object_set_new(o, "response", js_json_string_lossy(response, len));
    if (js->cfg.domain) json_object_set_new(o, "domain", json_string(js->cfg.domain));
    size_t blen;
    char *body = js_json_encode(o, &blen);
    json_decref(o);
    js_publish(js, req->account, subj, NULL, NULL, 0, (const uint8_t *)body, blen);
    free(body);
}

void js_api_send(js_server *js, js_account *acc, const char *reply, const char *type,
                 json_t *resp, bool track, const js_inmsg *req) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_t *e = json_object_get(resp, "error");
    if (e) json_object_set(o, "error", e);
    const char *k;
    json_t *v;
    json_object_foreach(resp, k, v) {
        if (strcmp(k, "error") && strcmp(k, "type")) json_object_set(o, k, v);
    }
    size_t len;
    char *s = js_json_encode(o, &len);
    json_decref(o);
    if (track && acc) js_api_track(acc, e != NULL);
    if (reply && reply[0])
        js_publish(js, acc ? acc->name : NULL, reply, NULL, NULL, 0, (const uint8_t *)s, len);
    if (track) js_api_audit(js, req, s, len);
    free(s);
}

void js_api_reply(js_server *js, const js_inmsg *req, const char *type, json_t *resp) {
    js_account *acc = js_server_account(js, req->account);
    char *reply = NULL;
    if (req->reply_len) {
        reply = malloc(req->reply_len + 1);
        if (!reply) abort();
        memcpy(reply, req->reply, req->reply_len);
        reply[req->reply_len] = 0;
    }
    js_api_send(js, acc, reply, type, resp, true, req);
    free(reply);
}

/* ---- open / close -------------------------------------------------------------------- */

void js_server_declare_stream_interest(js_server *js, js_stream *st, int delta) {
    for (size_t i = 0; i < st->cfg.nsubjects; i++)
        js_host_interest(js, st->acc->name, st->cfg.subjects[i], delta);
}

static int mkdirs(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0750) && errno != EEXIST) {
                free(p);
                return -errno;
            }
            *s = '/';
        }
    }
    int rc = (mkdir(p, 0750) && errno != EEXIST) ? -errno : 0;
    free(p);
    return rc;
}

js_server *js_server_open(const js_config *cfg, const js_host *host, char *err, size_t err_len) {
    if (!cfg || !cfg->store_dir || !cfg->store_dir[0]) {
        snprintf(err, err_len, "jetstream: store_dir is required");
        return NULL;
    }
    js_server *js = calloc(1, sizeof *js);
    if (!js) abort();
    js->cfg = *cfg;
    js->cfg.store_dir = xstrdup(cfg->store_dir);
    js->cfg.domain = cfg->domain && cfg->domain[0] ? xstrdup(cfg->domain) : NULL;
    js->cfg.server_id = xstrdup(cfg->server_id);
    js->cfg.server_name = xstrdup(cfg->server_name && cfg->server_name[0] ? cfg->server_name
                                                                         : cfg->server_id);
    if (host) js->host = *host;
    js_json_set_strict(!cfg->strict_off);
    size_t n = strlen(cfg->store_dir) + 16;
    char *root = malloc(n);
    if (!root) abort();
    snprintf(root, n, "%s/jetstream", cfg->store_dir);
    int rc = mkdirs(root);
    if (rc) {
        snprintf(err, err_len, "jetstream: can not create %s: %s", root, strerror(-rc));
        free(root);
        js_server_close(js);
        return NULL;
    }
    /* Go enableJetStreamAccounts: every account gets $JS.API.> (those without JetStream for
     * their 10039 replies); the enabled ones acks, flow control and their recovered streams. */
    js_accounts_setup(js);
    for (size_t i = 0; i < js->naccounts; i++) {
        js_account *acc = js->accounts[i];
        js_host_interest(js, acc->name, "$JS.API.>", 1);
        acc->api_sub = true;
        if (acc->enabled) js_account_start(acc);
    }
    free(root);
    return js;
}

void js_server_close(js_server *js) {
    if (!js) return;
    js_snapshot_close(js);
    js_server_flush(js);
    for (size_t i = 0; i < js->naccounts; i++) js_account_free(js->accounts[i]);
    js_consumers_close(js);
    free(js->accounts);
    for (size_t i = 0; i < js->ndeferred; i++) {
        free(js->deferred[i].acc);
        free(js->deferred[i].subj);
        free(js->deferred[i].hdr);
        free(js->deferred[i].data);
    }
    free(js->deferred);
    free((char *)js->cfg.store_dir);
    free((char *)js->cfg.domain);
    free((char *)js->cfg.server_id);
    free((char *)js->cfg.server_name);
    free(js);
}

/* ---- inbound ------------------------------------------------------------------------- */

static bool has_prefix(const js_inmsg *m, const char *p) {
    size_t n = strlen(p);
    return m->subject_len >= n && memcmp(m->subject, p, n) == 0;
}

void js_server_inbound(js_server *js, const js_inmsg *m) {
    js_account *acc = js_server_account(js, m->account);
    if (!acc->enabled) { /* only $JS.API.> is subscribed in such an account */
        if (has_prefix(m, "$JS.API.")) js_api_not_enabled(js, acc, m);
        return;
    }
    if (has_prefix(m, "$JS.API.")) {
        js_api_dispatch(js, acc, m);
        return;
    }
    if (has_prefix(m, "$JS.ACK.")) {
        js_consumer_ack(js, m);
        return;
    }
    if (has_prefix(m, "$JS.FC.")) {
        js_consumer_flow_control(js, m);
        return;
    }
    if (js_snapshot_inbound(js, m)) return; /* $JS.SNAPSHOT.> (js_snapshot.c) */
    char sb[256];
    char *subj = m->subject_len < sizeof sb ? sb : malloc(m->subject_len + 1);
    if (!subj) abort();
    memcpy(subj, m->subject, m->subject_len);
    subj[m->subject_len] = 0;
    for (size_t i = 0; i < acc->nstreams; i++) {
        js_stream *st = acc->streams[i];
        if (js_stream_matches(st, subj)) {
            js_stream_process_msg(st, m);
            break;
        }
    }
    if (subj != sb) free(subj);
}

/* ---- group commit, timers, usage ----------------------------------------------------- */

void js_server_flush(js_server *js) {
    /* Mirrors and sources copy what their origins gained before the group commit. */
    js_sync_pump_all(js);
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *acc = js->accounts[a];
        for (size_t i = 0; i < acc->nstreams; i++) {
            js_stream *st = acc->streams[i];
            if (!st->dirty) continue;
            st->dirty = false;
            /* Group commit; ALWAYS syncs per call and INTERVAL (Go's lazy mode) syncs on
             * its own timer (sd_store_next_expire), both without us. */
            if (st->store && js->cfg.sync == SD_FS_SYNC_NONE)
                st->store->ops->flush_all_pending(st->store);
        }
    }
    js_consumers_commit(js); /* consumer state and acks (LMDB), before the replies go out */
    /* Replies queued while publishing may queue more; take the batch first. */
    js_deferred *q = js->deferred;
    size_t n = js->ndeferred;
    js->deferred = NULL;
    js->ndeferred = js->deferred_cap = 0;
    for (size_t i = 0; i < n; i++) {
        js_publish(js, q[i].acc, q[i].subj, NULL, q[i].hdr, q[i].hdr_len, q[i].data, q[i].len);
        free(q[i].acc);
        free(q[i].subj);
        free(q[i].hdr);
        free(q[i].data);
    }
    free(q);
}

int64_t js_server_next_deadline(js_server *js) {
    int64_t next = js_consumers_next_deadline(js);
    int64_t snap = js_snapshot_next_deadline(js);
    if (snap < next) next = snap;
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *acc = js->accounts[a];
        for (size_t i = 0; i < acc->nstreams; i++) {
            js_stream *st = acc->streams[i];
            int64_t t = sd_store_next_expire(st->store);
            if (t < next) next = t;
            if (st->ddlen > st->ddhead) {
                int64_t d = st->ddarr[st->ddhead]->ts + st->cfg.duplicates;
                if (d < next) next = d;
            }
            int64_t b = js_batch_next_deadline(st);
            if (b < next) next = b;
            b = js_fast_batch_next_deadline(st);
            if (b < next) next = b;
        }
    }
    return next;
}

void js_server_tick(js_server *js, int64_t now_ns) {
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *acc = js->accounts[a];
        for (size_t i = 0; i < acc->nstreams; i++) {
            js_stream *st = acc->streams[i];
            if (sd_store_next_expire(st->store) <= now_ns) {
                sd_store_expire(st->store, now_ns);
                js_stream_mark_dirty(st);
            }
            js_stream_purge_msgids(st, now_ns);
            js_batch_tick(st, now_ns);
            js_fast_batch_tick(st, now_ns);
        }
    }
    js_consumers_tick(js, now_ns);
    js_snapshot_tick(js, now_ns);
}

void js_server_usage(js_server *js, js_usage *out) {
    memset(out, 0, sizeof *out);
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *acc = js->accounts[a];
        if (!acc->enabled) continue;
        out->accounts++;
        uint64_t mem, store, rm, rs, cons;
        js_account_usage(acc, &mem, &store, &rm, &rs, &cons);
        out->memory += mem;
        out->storage += store;
        out->consumers += cons;
        out->streams += acc->nstreams;
        for (size_t i = 0; i < acc->nstreams; i++) {
            sd_stream_state ss = {0};
            sd_store_fast_state(acc->streams[i]->store, &ss);
            out->messages += ss.msgs;
            out->bytes += ss.bytes;
            sd_stream_state_free(&ss);
        }
    }
    out->api_total = js->api_total;
    out->api_errors = js->api_errors;
}
