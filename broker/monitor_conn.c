/* Connection records for /connz and /subsz: filled in the worker, merged in the supervisor.
 *
 * Worker side (runs on the worker's loop thread, inside a control query or a close):
 *   - mon_conn_fill: Go ConnInfo.fill from a live br_client;
 *   - the closed ring: Go saveClosedClient/closedRingBuffer, one ring per worker holding its
 *     last max_closed_clients closed connections with their subscriptions;
 *   - the answers to BR_QUERY_VARZ/CONNZ/SUBSZ (JSON built with jansson).
 * Both sides: the record <-> JSON conversion and Go's /connz sort orders
 * (monitor_sort_opts.go).  Nothing here touches another process's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/client.h"
#include "broker/mesh.h"
#include "broker/monitor_int.h"
#include "broker/server.h"
#include "common/subject.h"

#define MON_DEFAULT_MAX_CLOSED 10000 /* Go DEFAULT_MAX_CLOSED_CLIENTS */

static char *dup_or_null(const char *s) {
    return s && s[0] ? strdup(s) : NULL;
}

void mon_conn_clear(mon_conn *c) {
    free(c->name);
    free(c->lang);
    free(c->version);
    free(c->reason);
    free(c->user);
    free(c->account);
    free(c->tls_version);
    free(c->tls_cipher);
    for (uint32_t i = 0; i < c->nsubs; i++) {
        free(c->subs[i].subject);
        free(c->subs[i].queue);
        free(c->subs[i].sid);
    }
    free(c->subs);
    memset(c, 0, sizeof *c);
}

/* ---- JSON between worker and supervisor ---------------------------------------------------- */

static void set_str(json_t *o, const char *k, const char *v) {
    if (v && v[0]) json_object_set_new(o, k, json_string(v));
}

json_t *mon_sub_to_json(const mon_sub *s) {
    json_t *o = json_object();
    json_object_set_new(o, "s", json_string(s->subject ? s->subject : ""));
    set_str(o, "q", s->queue);
    json_object_set_new(o, "i", json_string(s->sid ? s->sid : ""));
    json_object_set_new(o, "m", json_integer(s->msgs));
    json_object_set_new(o, "x", json_integer(s->max));
    json_object_set_new(o, "c", json_integer((json_int_t)s->cid));
    return o;
}

static char *jstr(json_t *o, const char *k) {
    const char *v = json_string_value(json_object_get(o, k));
    return dup_or_null(v);
}

static int64_t jint(json_t *o, const char *k) {
    return (int64_t)json_integer_value(json_object_get(o, k));
}

void mon_sub_from_json(json_t *o, mon_sub *s) {
    const char *subj = json_string_value(json_object_get(o, "s"));
    const char *sid = json_string_value(json_object_get(o, "i"));
    s->subject = strdup(subj ? subj : "");
    s->queue = jstr(o, "q");
    s->sid = strdup(sid ? sid : "");
    s->msgs = jint(o, "m");
    s->max = jint(o, "x");
    s->cid = (uint64_t)jint(o, "c");
}

json_t *mon_conn_to_json(const mon_conn *c, bool with_subs) {
    json_t *o = json_object();
    json_object_set_new(o, "cid", json_integer((json_int_t)c->cid));
    json_object_set_new(o, "ip", json_string(c->ip));
    json_object_set_new(o, "port", json_integer(c->port));
    json_object_set_new(o, "start", json_integer(c->start_ns));
    json_object_set_new(o, "last", json_integer(c->last_ns));
    if (c->stop_ns) {
        json_object_set_new(o, "stop", json_integer(c->stop_ns));
        json_object_set_new(o, "uptime", json_string(c->uptime));
        json_object_set_new(o, "idle", json_string(c->idle));
    }
    json_object_set_new(o, "rtt", json_integer(c->rtt_ns));
    json_object_set_new(o, "pending", json_integer(c->pending));
    json_object_set_new(o, "in_msgs", json_integer(c->in_msgs));
    json_object_set_new(o, "out_msgs", json_integer(c->out_msgs));
    json_object_set_new(o, "in_bytes", json_integer(c->in_bytes));
    json_object_set_new(o, "out_bytes", json_integer(c->out_bytes));
    json_object_set_new(o, "num_subs", json_integer(c->num_subs));
    set_str(o, "name", c->name);
    set_str(o, "lang", c->lang);
    set_str(o, "version", c->version);
    set_str(o, "reason", c->reason);
    set_str(o, "user", c->user);
    set_str(o, "acc", c->account);
    set_str(o, "tls_version", c->tls_version);
    set_str(o, "tls_cipher", c->tls_cipher);
    if (c->tls_first) json_object_set_new(o, "tls_first", json_true());
    if (with_subs && c->nsubs) {
        json_t *a = json_array();
        for (uint32_t i = 0; i < c->nsubs; i++) json_array_append_new(a, mon_sub_to_json(&c->subs[i]));
        json_object_set_new(o, "subs", a);
    }
    return o;
}

int mon_conn_from_json(json_t *o, mon_conn *c) {
    if (!json_is_object(o)) return -EPROTO;
    memset(c, 0, sizeof *c);
    c->cid = (uint64_t)jint(o, "cid");
    const char *ip = json_string_value(json_object_get(o, "ip"));
    snprintf(c->ip, sizeof c->ip, "%s", ip ? ip : "");
    c->port = (int)jint(o, "port");
    c->start_ns = jint(o, "start");
    c->last_ns = jint(o, "last");
    c->stop_ns = jint(o, "stop");
    const char *up = json_string_value(json_object_get(o, "uptime"));
    const char *idle = json_string_value(json_object_get(o, "idle"));
    snprintf(c->uptime, sizeof c->uptime, "%s", up ? up : "");
    snprintf(c->idle, sizeof c->idle, "%s", idle ? idle : "");
    c->rtt_ns = jint(o, "rtt");
    c->pending = jint(o, "pending");
    c->in_msgs = jint(o, "in_msgs");
    c->out_msgs = jint(o, "out_msgs");
    c->in_bytes = jint(o, "in_bytes");
    c->out_bytes = jint(o, "out_bytes");
    c->num_subs = (uint32_t)jint(o, "num_subs");
    c->name = jstr(o, "name");
    c->lang = jstr(o, "lang");
    c->version = jstr(o, "version");
    c->reason = jstr(o, "reason");
    c->user = jstr(o, "user");
    c->account = jstr(o, "acc");
    c->tls_version = jstr(o, "tls_version");
    c->tls_cipher = jstr(o, "tls_cipher");
    c->tls_first = json_is_true(json_object_get(o, "tls_first"));
    json_t *subs = json_object_get(o, "subs");
    size_t n = json_array_size(subs);
    if (n) {
        c->subs = calloc(n, sizeof *c->subs);
        if (!c->subs) return -ENOMEM;
        for (size_t i = 0; i < n; i++) mon_sub_from_json(json_array_get(subs, i), &c->subs[i]);
        c->nsubs = (uint32_t)n;
    }
    return 0;
}

/* ---- sort (Go monitor_sort_opts.go) -------------------------------------------------------- */

static const char *const sort_names[] = {
    [MON_SORT_CID] = "cid",         [MON_SORT_START] = "start",       [MON_SORT_SUBS] = "subs",
    [MON_SORT_PENDING] = "pending", [MON_SORT_OUT_MSGS] = "msgs_to",  [MON_SORT_IN_MSGS] = "msgs_from",
    [MON_SORT_OUT_BYTES] = "bytes_to", [MON_SORT_IN_BYTES] = "bytes_from", [MON_SORT_LAST] = "last",
    [MON_SORT_IDLE] = "idle",       [MON_SORT_UPTIME] = "uptime",     [MON_SORT_STOP] = "stop",
    [MON_SORT_REASON] = "reason",   [MON_SORT_RTT] = "rtt",
};

mon_sort mon_sort_parse(const char *s) {
    if (!s || !s[0]) return MON_SORT_CID;
    for (int i = 0; i < MON_SORT_INVALID; i++)
        if (strcmp(s, sort_names[i]) == 0) return (mon_sort)i;
    return MON_SORT_INVALID;
}

typedef struct sort_ctx {
    mon_sort key;
    int64_t now;
} sort_ctx;

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static int64_t uptime_of(const mon_conn *c, int64_t now) {
    return (c->stop_ns ? c->stop_ns : now) - c->start_ns;
}

static int conn_cmp(const void *pa, const void *pb, void *arg) {
    const mon_conn *a = *(mon_conn *const *)pa, *b = *(mon_conn *const *)pb;
    const sort_ctx *cx = arg;
    int r = 0;
    switch (cx->key) {
    case MON_SORT_SUBS: r = CMP(b->num_subs, a->num_subs); break;
    case MON_SORT_PENDING: r = CMP(b->pending, a->pending); break;
    case MON_SORT_OUT_MSGS: r = CMP(b->out_msgs, a->out_msgs); break;
    case MON_SORT_IN_MSGS: r = CMP(b->in_msgs, a->in_msgs); break;
    case MON_SORT_OUT_BYTES: r = CMP(b->out_bytes, a->out_bytes); break;
    case MON_SORT_IN_BYTES: r = CMP(b->in_bytes, a->in_bytes); break;
    case MON_SORT_LAST: r = CMP(b->last_ns, a->last_ns); break;
    case MON_SORT_IDLE: r = CMP(cx->now - b->last_ns, cx->now - a->last_ns); break;
    case MON_SORT_UPTIME: r = CMP(uptime_of(a, cx->now), uptime_of(b, cx->now)); break;
    case MON_SORT_STOP: r = CMP(b->stop_ns, a->stop_ns); break;
    case MON_SORT_REASON: r = strcmp(a->reason ? a->reason : "", b->reason ? b->reason : ""); break;
    case MON_SORT_RTT: r = CMP(b->rtt_ns, a->rtt_ns); break;
    default: break;
    }
    return r ? r : CMP(a->cid, b->cid);
}

void mon_conn_sort(mon_conn **v, size_t n, mon_sort key, int64_t now_ns) {
    sort_ctx cx = {key, now_ns};
    if (n > 1) qsort_r(v, n, sizeof *v, conn_cmp, &cx);
}

/* ---- worker: records from live connections ------------------------------------------------- */

static int64_t wall_of(int64_t mono_ms, int64_t now_wall_ns, int64_t now_mono_ms) {
    return now_wall_ns - (now_mono_ms - mono_ms) * 1000000;
}

static void fill_subs(const br_client *c, mon_conn *out) {
    if (!c->num_subs) return;
    out->subs = calloc(c->num_subs, sizeof *out->subs);
    if (!out->subs) return;
    nx_strmap_entry *e;
    uint32_t n = 0;
    for (uint32_t it = 0; n < c->num_subs && nx_strmap_next(&c->subs, &it, &e);) {
        const br_sub *sub = e->value;
        mon_sub *d = &out->subs[n++];
        d->subject = strdup(sub->sl.subject);
        d->queue = sub->sl.queue ? strndup(sub->sl.queue, sub->sl.queue_len) : NULL;
        d->sid = strndup(sub->sid, sub->sid_len);
        d->msgs = sub->delivered;
        d->max = sub->max;
        d->cid = c->cid;
    }
    out->nsubs = n;
}

void mon_conn_fill(const br_client *c, int64_t now_wall_ns, int64_t now_mono_ms, bool with_subs,
                   mon_conn *out) {
    memset(out, 0, sizeof *out);
    out->cid = c->cid;
    snprintf(out->ip, sizeof out->ip, "%s", c->host);
    out->port = c->port;
    out->start_ns = wall_of(c->start_ms, now_wall_ns, now_mono_ms);
    out->last_ns = wall_of(c->last_activity_ms ? c->last_activity_ms : c->start_ms, now_wall_ns,
                           now_mono_ms);
    out->rtt_ns = c->rtt_ms * 1000000;
    out->pending = (int64_t)(c->out.pending + c->wire.pending);
    out->in_msgs = (int64_t)c->in_msgs;
    out->out_msgs = (int64_t)c->out_msgs;
    out->in_bytes = (int64_t)c->in_bytes;
    out->out_bytes = (int64_t)c->out_bytes;
    out->num_subs = c->num_subs;
    out->name = dup_or_null(c->name);
    out->lang = dup_or_null(c->lang);
    out->version = dup_or_null(c->version);
    out->user = dup_or_null(c->auth_user);
    out->account = c->acc && c->acc->name ? strdup(c->acc->name) : NULL;
    if (c->tls_mode == BR_TLS_ON && c->tls.ssl && c->tls.handshake_done) {
        int v = SSL_version(c->tls.ssl);
        out->tls_version = strdup(v == TLS1_3_VERSION   ? "1.3"
                                  : v == TLS1_2_VERSION ? "1.2"
                                  : v == TLS1_1_VERSION ? "1.1"
                                                        : "1.0");
        const SSL_CIPHER *ciph = SSL_get_current_cipher(c->tls.ssl);
        const char *cn = ciph ? SSL_CIPHER_standard_name(ciph) : NULL;
        out->tls_cipher = cn ? strdup(cn) : NULL;
        out->tls_first = c->srv->opts->tls_cfg.handshake_first;
    }
    if (with_subs) fill_subs(c, out);
}

/* ---- worker: the closed ring --------------------------------------------------------------- */

void mon_closed_add(br_server *s, const br_client *c) {
    mon_closed_ring *r = s->monitor_closed;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return;
        int max = s->opts->max_closed_clients > 0 ? s->opts->max_closed_clients
                                                  : MON_DEFAULT_MAX_CLOSED;
        r->cap = (uint32_t)max;
        r->conns = calloc(r->cap, sizeof *r->conns);
        if (!r->conns) {
            free(r);
            return;
        }
        s->monitor_closed = r;
    }
    mon_conn *slot = &r->conns[r->next];
    mon_conn_clear(slot);
    int64_t now_wall = mon_wall_ns(), now_mono = br_now_ms();
    mon_conn_fill(c, now_wall, now_mono, true, slot);
    slot->stop_ns = now_wall;
    slot->reason = strdup(br_close_reason_text(c->close_reason));
    mj_uptime(slot->stop_ns - slot->start_ns, slot->uptime, sizeof slot->uptime);
    mj_uptime(slot->stop_ns - slot->last_ns, slot->idle, sizeof slot->idle);
    r->next = (r->next + 1) % r->cap;
    r->total++;
}

void mon_closed_free(br_server *s) {
    mon_closed_ring *r = s->monitor_closed;
    if (!r) return;
    for (uint32_t i = 0; i < r->cap; i++) mon_conn_clear(&r->conns[i]);
    free(r->conns);
    free(r);
    s->monitor_closed = NULL;
}

/* ---- worker: query answers ----------------------------------------------------------------- */

static int dump(json_t *o, char **out, size_t *out_len) {
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt) return -ENOMEM;
    *out = txt;
    *out_len = strlen(txt);
    return 0;
}

static uint32_t local_subs(const br_server *s) {
    uint32_t n = 0;
    for (const br_client *c = s->clients; c; c = c->next) n += c->num_subs;
    return n;
}

static json_t *sl_stats_json(const br_server *s) {
    sl_stats st;
    sl_get_stats(s->sublist, &st);
    json_t *o = json_object();
    json_object_set_new(o, "num_cache", json_integer(st.num_cache));
    json_object_set_new(o, "num_inserts", json_integer((json_int_t)st.num_inserts));
    json_object_set_new(o, "num_removes", json_integer((json_int_t)st.num_removes));
    json_object_set_new(o, "num_matches", json_integer((json_int_t)st.num_matches));
    json_object_set_new(o, "cache_hits", json_integer((json_int_t)st.cache_hits));
    json_object_set_new(o, "max_fanout", json_integer(st.max_fanout));
    json_object_set_new(o, "tot_fanout", json_integer((json_int_t)st.tot_fanout));
    json_object_set_new(o, "cache_cnt", json_integer(st.cache_cnt));
    return o;
}

int mon_answer_varz(br_server *s, char **out, size_t *out_len) {
    json_t *o = json_object();
    json_object_set_new(o, "subscriptions", json_integer(local_subs(s)));
    json_object_set_new(o, "total_connections", json_integer((json_int_t)s->stats.total_connections));
    json_object_set_new(o, "stale_connections", json_integer((json_int_t)s->stats.stale_connections));
    json_object_set_new(o, "connections", json_integer(s->num_clients));
    json_object_set_new(o, "sl", sl_stats_json(s));
    return dump(o, out, out_len);
}

/* Request (JSON from monitor_connz.c): state 0 open / 1 closed / 2 all, cid, user, mqtt,
 * subs (0 none, 1 list, 2 detail: both need the subjects), sort, now, k (keep at most k open
 * ones after sorting: the node-wide page can only come from each worker's first k). */
int mon_answer_connz(br_server *s, const char *args, size_t args_len, char **out,
                     size_t *out_len) {
    json_t *req = json_loadb(args, args_len, 0, NULL);
    if (!req) return -EINVAL;
    int state = (int)jint(req, "state");
    uint64_t cid = (uint64_t)jint(req, "cid");
    int subs = (int)jint(req, "subs");
    mon_sort key = (mon_sort)jint(req, "sort");
    int64_t now = jint(req, "now");
    int64_t k = jint(req, "k");
    const char *user = json_string_value(json_object_get(req, "user"));
    const char *mqtt = json_string_value(json_object_get(req, "mqtt"));
    const char *acc = json_string_value(json_object_get(req, "acc"));
    if (key < 0 || key >= MON_SORT_INVALID) key = MON_SORT_CID;

    json_t *o = json_object(), *arr = json_array();
    int64_t now_wall = mon_wall_ns(), now_mono = br_now_ms();
    if (state == 0 || state == 2) {
        json_object_set_new(o, "open_total", json_integer(s->num_clients));
        mon_conn *recs = calloc(s->num_clients + 1, sizeof *recs);
        mon_conn **ptrs = calloc(s->num_clients + 1, sizeof *ptrs);
        size_t n = 0;
        for (const br_client *c = s->clients; recs && ptrs && c; c = c->next) {
            if (cid && c->cid != cid) continue;
            if (user && user[0] && (!c->auth_user || strcmp(c->auth_user, user) != 0)) continue;
            if (acc && acc[0] && (!c->acc || !c->acc->name || strcmp(c->acc->name, acc)))
                continue;
            if (mqtt && mqtt[0]) continue; /* no MQTT clients here */
            mon_conn_fill(c, now_wall, now_mono, subs > 0, &recs[n]);
            ptrs[n] = &recs[n];
            n++;
        }
        mon_conn_sort(ptrs, n, key, now);
        for (size_t i = 0; i < n && (k <= 0 || (int64_t)i < k); i++)
            json_array_append_new(arr, mon_conn_to_json(ptrs[i], subs > 0));
        for (size_t i = 0; i < n; i++) mon_conn_clear(&recs[i]); /* ptrs are sorted: not by i */
        free(recs);
        free(ptrs);
    }
    mon_closed_ring *r = s->monitor_closed;
    if ((state == 1 || state == 2) && r) {
        uint64_t len = r->total < r->cap ? r->total : r->cap;
        json_object_set_new(o, "closed_total", json_integer((json_int_t)len));
        for (uint64_t i = 0; i < len; i++) { /* oldest first */
            const mon_conn *c = &r->conns[(r->total - len + i) % r->cap];
            if (cid && c->cid != cid) continue;
            if (user && user[0] && (!c->user || strcmp(c->user, user) != 0)) continue;
            if (acc && acc[0] && strcmp(c->account ? c->account : "$G", acc)) continue;
            if (mqtt && mqtt[0]) continue;
            json_array_append_new(arr, mon_conn_to_json(c, subs > 0));
        }
    }
    json_object_set_new(o, "conns", arr);
    json_decref(req);
    return dump(o, out, out_len);
}

typedef struct subs_walk {
    const char *test;
    size_t test_len;
    int64_t k;
    uint32_t total;
    json_t *arr;
} subs_walk;

static void visit_sub(sl_sub *ss, void *arg) {
    subs_walk *w = arg;
    const br_sub *sub = ss->owner;
    if (sub->kind != BR_SUB_LOCAL || sub->closed) return;
    if (w->test && !nx_subject_match_literal(w->test, w->test_len, ss->subject, ss->subject_len))
        return;
    w->total++;
    if (!w->arr || (w->k > 0 && (int64_t)json_array_size(w->arr) >= w->k)) return;
    mon_sub d = {.subject = (char *)ss->subject,
                 .queue = NULL,
                 .sid = strndup(sub->sid, sub->sid_len),
                 .msgs = sub->delivered,
                 .max = sub->max,
                 .cid = sub->client->cid};
    if (ss->queue) d.queue = strndup(ss->queue, ss->queue_len);
    json_array_append_new(w->arr, mon_sub_to_json(&d));
    free(d.sid);
    free(d.queue);
}

/* Request: {"subs":bool,"test":subject,"k":n}; answer: local subscription count, the sublist
 * statistics and, when asked, the first k matching subscriptions and how many matched. */
int mon_answer_subsz(br_server *s, const char *args, size_t args_len, char **out,
                     size_t *out_len) {
    json_t *req = json_loadb(args, args_len, 0, NULL);
    if (!req) return -EINVAL;
    subs_walk w = {0};
    w.test = json_string_value(json_object_get(req, "test"));
    if (w.test && !w.test[0]) w.test = NULL;
    w.test_len = w.test ? strlen(w.test) : 0;
    w.k = jint(req, "k");
    json_t *o = json_object();
    if (json_is_true(json_object_get(req, "subs"))) {
        w.arr = json_array();
        sl_for_each(s->sublist, visit_sub, &w);
        json_object_set_new(o, "total", json_integer(w.total));
        json_object_set_new(o, "subs", w.arr);
    }
    json_object_set_new(o, "local_subs", json_integer(local_subs(s)));
    json_object_set_new(o, "sl", sl_stats_json(s));
    json_decref(req);
    return dump(o, out, out_len);
}
