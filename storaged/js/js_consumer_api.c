/* $JS.API.CONSUMER.* requests for a single node: CREATE (ephemeral, named, filtered),
 * DURABLE.CREATE, INFO, LIST, NAMES, DELETE, PAUSE, UNPIN, RESET, LEADER.STEPDOWN and MSG.NEXT, and the
 * ConsumerInfo JSON.
 *
 * Ports Go nats-server v2.14.5 server/jetstream_api.go (jsConsumerCreateRequest,
 * jsConsumerInfoRequest, jsConsumerListRequest, jsConsumerNamesRequest,
 * jsConsumerDeleteRequest, jsConsumerPauseRequest, jsConsumerUnpinRequest,
 * jsConsumerLeaderStepDownRequest) and consumer.go infoWithSnapAndReply.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_consumer_int.h"

#define T_CREATE "io.nats.jetstream.api.v1.consumer_create_response"
#define T_INFO "io.nats.jetstream.api.v1.consumer_info_response"
#define T_NAMES "io.nats.jetstream.api.v1.consumer_names_response"
#define T_LIST "io.nats.jetstream.api.v1.consumer_list_response"
#define T_DELETE "io.nats.jetstream.api.v1.consumer_delete_response"
#define T_PAUSE "io.nats.jetstream.api.v1.consumer_pause_response"
#define T_UNPIN "io.nats.jetstream.api.v1.consumer_unpin_response"
#define T_STEPDOWN "io.nats.jetstream.api.v1.consumer_leader_stepdown_response"
#define T_RESET "io.nats.jetstream.api.v1.consumer_reset_response"
#define JS_API_NAMES_LIMIT 1024
#define JS_API_LIST_LIMIT 256

static void put_time(json_t *o, const char *k, int64_t ns) {
    char b[64];
    jsc_fmt_time(ns, b, sizeof b);
    json_object_set_new(o, k, json_string(b));
}

static json_t *seq_info(uint64_t c, uint64_t s, int64_t last) {
    json_t *o = json_object();
    json_object_set_new(o, "consumer_seq", json_integer((json_int_t)c));
    json_object_set_new(o, "stream_seq", json_integer((json_int_t)s));
    if (last) put_time(o, "last_active", last);
    return o;
}

/* Go infoWithSnapAndReply plus setDynamicConsumerInfoMetadata; fields are added to `into`. */
static void info_into(js_consumer *o, json_t *into) {
    if (!o->pull) jsc_push_interest(o);
    int64_t now = js_now(o->js);
    uint64_t np = jsc_num_pending(o);
    uint64_t dseq = o->dseq ? o->dseq : 1, sseq = o->sseq ? o->sseq : 1;
    uint64_t dc = dseq - 1, ds = sseq - 1, afc = o->adflr, afs = o->asflr;
    if (o->store) {
        sd_consumer_state cs = {0};
        if (o->store->ops->state(o->store, &cs) == 0) {
            if (o->store->ops->has_state(o->store)) {
                dc = cs.delivered.consumer;
                ds = cs.delivered.stream;
            }
            afc = cs.ack_floor.consumer;
            afs = cs.ack_floor.stream;
            sd_consumer_state_free(&cs);
        }
    }
    json_object_set_new(into, "stream_name", json_string(o->stream));
    json_object_set_new(into, "name", json_string(o->name));
    put_time(into, "created", o->created);
    json_object_set_new(into, "config", jsc_config_json(&o->cfg, true));
    json_object_set_new(into, "delivered", seq_info(dc, ds, o->ldt));
    json_object_set_new(into, "ack_floor", seq_info(afc, afs, o->lat));
    json_object_set_new(into, "num_ack_pending", json_integer((json_int_t)o->pending.n));
    json_object_set_new(into, "num_redelivered", json_integer(o->cfg.max_deliver == 1 ? 0 : (json_int_t)o->rdc.n));
    int64_t nw = 0;
    if (o->pull) {
        int64_t brp;
        jsc_process_waiting(o, false, &brp);
        nw = o->waiting.n;
    }
    json_object_set_new(into, "num_waiting", json_integer(nw));
    json_object_set_new(into, "num_pending", json_integer((json_int_t)np));
    if (!o->pull && o->active) json_object_set_new(into, "push_bound", json_true());
    if (o->cfg.has_pause_until && now < o->cfg.pause_until) {
        json_object_set_new(into, "paused", json_true());
        json_object_set_new(into, "pause_remaining", json_integer(o->cfg.pause_until - now));
    }
    put_time(into, "ts", now);
    if (o->cfg.npriority_groups) {
        json_t *a = json_array(), *g = json_object();
        json_object_set_new(g, "group", json_string(o->cfg.priority_groups[0]));
        if (o->pin_id[0]) json_object_set_new(g, "pinned_client_id", json_string(o->pin_id));
        put_time(g, "pinned_ts", o->pin_id[0] ? o->pinned_ts : 0);
        json_array_append_new(a, g);
        json_object_set_new(into, "priority_groups", a);
    }
}

json_t *jsc_info_json(js_consumer *o) {
    json_t *j = json_object();
    info_into(o, j);
    return j;
}

/* --- helpers ----------------------------------------------------------------------------- */

static void reply_err(js_server *js, const js_inmsg *m, const char *type, int code, const char *arg) {
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(type));
    js_api_set_error(r, code, arg);
    /* Go marshals the whole response struct: fields without omitempty appear with zero values. */
    if (!strcmp(type, T_NAMES) || !strcmp(type, T_LIST)) {
        json_object_set_new(r, "total", json_integer(0));
        json_object_set_new(r, "offset", json_integer(0));
        json_object_set_new(r, "limit", json_integer(0));
        json_object_set_new(r, "consumers", json_array());
    } else if (!strcmp(type, T_PAUSE)) {
        json_object_set_new(r, "paused", json_false());
        put_time(r, "pause_until", 0);
    } else if (!strcmp(type, T_RESET)) {
        json_object_set_new(r, "reset_seq", json_integer(0));
    }
    js_api_reply(js, m, type, r);
    json_decref(r);
}

static bool is_empty_request(const js_inmsg *m) {
    return js_is_empty_request(m->data, m->data_len);
}

static bool is_json_object_or_array(const js_inmsg *m) {
    return js_is_json_object_or_array(m->data, m->data_len);
}

static bool api_level_error(const js_inmsg *m) {
    size_t vl;
    const uint8_t *v = m->hdr ? sd_slice_header("Nats-Required-Api-Level", m->hdr, m->hdr_len, &vl) : NULL;
    if (!v || !vl) return false;
    char b[32];
    snprintf(b, sizeof b, "%.*s", (int)(vl < 31 ? vl : 31), (const char *)v);
    char *end;
    long lvl = strtol(b, &end, 10);
    return *end || !*b || lvl > 4;
}

typedef struct {
    char tok[12][1024];
    size_t n;
} toks;

static void split(const char *s, toks *t) {
    t->n = 0;
    const char *p = s;
    while (t->n < 12) {
        const char *d = strchr(p, '.');
        size_t l = d ? (size_t)(d - p) : strlen(p);
        snprintf(t->tok[t->n], sizeof t->tok[0], "%.*s", (int)(l < 1023 ? l : 1023), p);
        t->n++;
        if (!d) break;
        p = d + 1;
    }
}

/* --- CREATE ------------------------------------------------------------------------------- */

typedef struct create_req {
    char *stream;
    json_t *config;
    int action;
    bool pedantic;
} create_req;

/* Go ConsumerAction.UnmarshalJSON. */
static int dec_action(const json_t *v, void *f, const char *path, char *err, size_t el) {
    (void)path;
    const char *a = json_is_string(v) ? json_string_value(v) : NULL;
    if (a && !strcmp(a, "create")) *(int *)f = JSC_ACTION_CREATE;
    else if (a && !strcmp(a, "update")) *(int *)f = JSC_ACTION_UPDATE;
    else if (a && !*a) *(int *)f = JSC_ACTION_CREATE_OR_UPDATE;
    else {
        char *d = json_dumps(v, JSON_ENCODE_ANY);
        snprintf(err, el, "unknown consumer action: %s", d ? d : "");
        free(d);
        return -1;
    }
    return 0;
}

static const js_jfield create_fields[] = {
    {"stream_name", JF_STRING, offsetof(create_req, stream), 0, NULL},
    {"config", JF_RAW, offsetof(create_req, config), 0, NULL},
    {"action", JF_CUSTOM, offsetof(create_req, action), 0, dec_action},
    {"pedantic", JF_BOOL, offsetof(create_req, pedantic), 0, NULL},
};

static void api_create(js_server *js, js_account *acc, const char *op, const js_inmsg *m) {
    /* Full subject tokens: $JS API CONSUMER CREATE <stream> [<name> [<filter...>]] or
     * $JS API CONSUMER DURABLE CREATE <stream> <durable>. */
    toks t;
    split(op, &t);
    size_t n = t.n + 2;
    /* Go unmarshalRequest (strict): CreateConsumerRequest{stream_name, config, action, pedantic}. */
    char perr[512] = "";
    bool blank = true; /* Go's decoder sees io.EOF at once: a zero request, no error */
    for (size_t i = 0; i < m->data_len && blank; i++)
        blank = m->data[i] == ' ' || m->data[i] == '\t' || m->data[i] == '\r' || m->data[i] == '\n';
    json_t *req = blank ? json_object() : js_json_parse(m->data, m->data_len, perr, sizeof perr);
    if (!req && perr[0]) {
        reply_err(js, m, T_CREATE, 10025, perr);
        return;
    }
    if (!req) req = json_object();
    create_req cr = {0};
    jsc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (js_json_decode(req, create_fields, sizeof create_fields / sizeof create_fields[0], &cr,
                       "CreateConsumerRequest", "server.CreateConsumerRequest", perr, sizeof perr) ||
        jsc_config_parse(cr.config, &cfg, perr, sizeof perr) != 0) {
        reply_err(js, m, T_CREATE, 10025, perr);
        free(cr.stream);
        json_decref(cr.config);
        json_decref(req);
        return;
    }
    int action = cr.action;
    bool pedantic = cr.pedantic;
    const char *req_stream = cr.stream ? cr.stream : "";
    if (api_level_error(m)) {
        reply_err(js, m, T_CREATE, 10185, NULL);
        goto out;
    }
    char stream[1024] = "", cname[1024] = "", filtered[1024] = "";
    bool legacy_durable = false, legacy_ephemeral = false;
    if (n < 5) goto out;
    if (n == 5) {
        legacy_ephemeral = true;
        snprintf(stream, sizeof stream, "%s", t.tok[2]);
        if (cfg.name) snprintf(cname, sizeof cname, "%s", cfg.name);
    } else if (!strcmp(t.tok[1], "DURABLE")) {
        legacy_durable = true;
        if (n != 7) {
            reply_err(js, m, T_CREATE, 10016, NULL);
            goto out;
        }
        snprintf(stream, sizeof stream, "%s", t.tok[3]);
        snprintf(cname, sizeof cname, "%s", t.tok[4]);
    } else {
        snprintf(stream, sizeof stream, "%s", t.tok[2]);
        snprintf(cname, sizeof cname, "%s", t.tok[3]);
        if (n > 6) {
            /* everything after the 6th token of the full subject */
            const char *p = op;
            for (int k = 0; k < 4; k++) p = strchr(p, '.') + 1;
            snprintf(filtered, sizeof filtered, "%s", p);
        }
    }
    if (strcmp(stream, req_stream)) {
        reply_err(js, m, T_CREATE, 10056, NULL);
        goto out;
    }
    if (*cname && strpbrk(cname, "\\/")) {
        reply_err(js, m, T_CREATE, 10127, NULL);
        goto out;
    }
    if (legacy_durable) {
        if (!cfg.durable) {
            reply_err(js, m, T_CREATE, 10018, NULL);
            goto out;
        }
        if (strcmp(cname, cfg.durable)) {
            reply_err(js, m, T_CREATE, 10017, NULL);
            goto out;
        }
        free(cfg.name);
        cfg.name = strdup(cname);
    } else if (!legacy_ephemeral) {
        if (cfg.durable && strcmp(cname, cfg.durable)) {
            reply_err(js, m, T_CREATE, 10017, NULL);
            goto out;
        }
        free(cfg.name);
        cfg.name = jsc_strdup(cname);
    } else if (cfg.durable) {
        reply_err(js, m, T_CREATE, 10020, NULL);
        goto out;
    }
    if (*filtered && cfg.nfilter_subjects) {
        reply_err(js, m, T_CREATE, 10137, NULL);
        goto out;
    }
    if (*filtered && (!cfg.filter_subject || strcmp(cfg.filter_subject, filtered))) {
        reply_err(js, m, T_CREATE, 10131, NULL);
        goto out;
    }
    if (cfg.replicas > 1) {
        reply_err(js, m, T_CREATE, 10074, NULL);
        goto out;
    }
    js_stream *st = js_account_stream(acc, stream);
    if (!st) {
        reply_err(js, m, T_CREATE, 10059, NULL);
        goto out;
    }
    js_consumer *eo = jsc_lookup(st, *cname ? cname : NULL);
    if (eo) {
        cfg.has_pause_until = eo->cfg.has_pause_until;
        cfg.pause_until = eo->cfg.pause_until;
    }
    jsc_set_static_metadata(&cfg);
    int code;
    char *arg = NULL;
    js_consumer *o = jsc_add(st, &cfg, action, pedantic, false, 0, 0, &code, &arg);
    if (!o) {
        reply_err(js, m, T_CREATE, code, arg);
        free(arg);
        goto out;
    }
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_CREATE));
    info_into(o, r);
    js_api_reply(js, m, T_CREATE, r);
    json_decref(r);
    if (jsc_paused(o)) jsc_pause_advisory(o);
    jsc_deliver(o);
out:
    jsc_config_free(&cfg);
    free(cr.stream);
    json_decref(cr.config);
    json_decref(req);
}

/* --- the others ----------------------------------------------------------------------------- */

static js_stream *need_stream(js_server *js, js_account *acc, const js_inmsg *m, const char *type,
                              const char *name) {
    js_stream *st = js_account_stream(acc, name);
    if (!st) reply_err(js, m, type, 10059, NULL);
    return st;
}

static int cmp_cons(const void *a, const void *b) {
    return strcmp((*(js_consumer *const *)a)->name, (*(js_consumer *const *)b)->name);
}

static js_consumer **sorted(js_stream *st, size_t *n) {
    jsc_set *s = jsc_set_of(st, false);
    *n = 0;
    js_consumer **v = malloc(sizeof *v * ((s ? s->n : 0) + 1));
    if (!v) abort();
    for (size_t i = 0; s && i < s->n; i++)
        if (!s->v[i]->cfg.direct) v[(*n)++] = s->v[i];
    qsort(v, *n, sizeof *v, cmp_cons);
    return v;
}

static void api_names_list(js_server *js, js_account *acc, const toks *t, const js_inmsg *m, bool list) {
    const char *type = list ? T_LIST : T_NAMES;
    if (api_level_error(m)) {
        reply_err(js, m, type, 10185, NULL);
        return;
    }
    int64_t offset = 0;
    if (is_json_object_or_array(m)) {
        /* Go unmarshalRequest into JSApiConsumersRequest{offset} (strict). */
        static const js_jfield f[] = {{"offset", JF_INT, 0, 0, NULL}};
        char err[512] = "";
        json_t *j = js_json_parse(m->data, m->data_len, err, sizeof err);
        if (!j || js_json_decode(j, f, 1, &offset, "JSApiConsumersRequest", "server.JSApiConsumersRequest", err,
                                 sizeof err)) {
            reply_err(js, m, type, 10025, err);
            json_decref(j);
            return;
        }
        json_decref(j);
        if (offset < 0) offset = 0;
    }
    js_stream *st = need_stream(js, acc, m, type, t->tok[2]);
    if (!st) return;
    size_t n;
    js_consumer **v = sorted(st, &n);
    if ((size_t)offset > n) offset = (int64_t)n;
    json_t *r = json_object(), *arr = json_array();
    json_object_set_new(r, "type", json_string(type));
    json_object_set_new(r, "total", json_integer((json_int_t)n));
    json_object_set_new(r, "offset", json_integer(offset));
    json_object_set_new(r, "limit", json_integer(list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT));
    for (size_t i = (size_t)offset; i < n; i++) {
        if (list) json_array_append_new(arr, jsc_info_json(v[i]));
        else json_array_append_new(arr, json_string(v[i]->name));
        if (json_array_size(arr) >= (size_t)(list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT)) break;
    }
    json_object_set_new(r, "consumers", arr);
    js_api_reply(js, m, type, r);
    json_decref(r);
    free(v);
}

static js_consumer *need_consumer(js_server *js, js_account *acc, const toks *t, const js_inmsg *m,
                                  const char *type) {
    js_stream *st = need_stream(js, acc, m, type, t->tok[2]);
    if (!st) return NULL;
    js_consumer *o = jsc_lookup(st, t->tok[3]);
    if (!o) reply_err(js, m, type, 10014, NULL);
    return o;
}

static void api_info(js_server *js, js_account *acc, const toks *t, const js_inmsg *m) {
    if (!is_empty_request(m)) {
        reply_err(js, m, T_INFO, 10038, NULL);
        return;
    }
    if (api_level_error(m)) {
        reply_err(js, m, T_INFO, 10185, NULL);
        return;
    }
    js_consumer *o = need_consumer(js, acc, t, m, T_INFO);
    if (!o) return;
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_INFO));
    info_into(o, r);
    js_api_reply(js, m, T_INFO, r);
    json_decref(r);
}

static void api_delete(js_server *js, js_account *acc, const toks *t, const js_inmsg *m) {
    if (api_level_error(m)) {
        reply_err(js, m, T_DELETE, 10185, NULL);
        return;
    }
    if (!is_empty_request(m)) {
        reply_err(js, m, T_DELETE, 10038, NULL);
        return;
    }
    js_consumer *o = need_consumer(js, acc, t, m, T_DELETE);
    if (!o) return;
    jsc_delete(o, true);
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_DELETE));
    json_object_set_new(r, "success", json_true());
    js_api_reply(js, m, T_DELETE, r);
    json_decref(r);
}

static void api_pause(js_server *js, js_account *acc, const toks *t, const js_inmsg *m) {
    struct {
        int64_t until;
        bool set;
    } pr = {0, false};
    if (is_json_object_or_array(m)) {
        /* Go unmarshalRequest into JSApiConsumerPauseRequest{pause_until} (strict). */
        static const js_jfield f[] = {{"pause_until", JF_TIME, 0, sizeof(int64_t), NULL}};
        char err[512] = "";
        json_t *j = js_json_parse(m->data, m->data_len, err, sizeof err);
        if (!j || js_json_decode(j, f, 1, &pr, "JSApiConsumerPauseRequest", "server.JSApiConsumerPauseRequest", err,
                                 sizeof err)) {
            reply_err(js, m, T_PAUSE, 10025, err);
            json_decref(j);
            return;
        }
        json_decref(j);
    }
    int64_t until = pr.until;
    if (api_level_error(m)) {
        reply_err(js, m, T_PAUSE, 10185, NULL);
        return;
    }
    js_consumer *o = need_consumer(js, acc, t, m, T_PAUSE);
    if (!o) return;
    jsc_config ncfg;
    jsc_config_copy(&ncfg, &o->cfg);
    ncfg.has_pause_until = until != 0;
    ncfg.pause_until = until;
    jsc_set_static_metadata(&ncfg);
    int code;
    char *arg = NULL;
    int64_t created = o->created;
    (void)created;
    js_consumer *r2 = jsc_add(o->st, &ncfg, JSC_ACTION_UPDATE, false, false, 0, 0, &code, &arg);
    jsc_config_free(&ncfg);
    if (!r2) {
        reply_err(js, m, T_PAUSE, 10104, arg ? arg : "");
        free(arg);
        return;
    }
    int64_t now = js_now(js);
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_PAUSE));
    json_object_set_new(r, "paused", json_boolean(now < until));
    put_time(r, "pause_until", until);
    if (now < until) json_object_set_new(r, "pause_remaining", json_integer(until - now));
    js_api_reply(js, m, T_PAUSE, r);
    json_decref(r);
}

static void api_unpin(js_server *js, js_account *acc, const toks *t, const js_inmsg *m) {
    if (api_level_error(m)) {
        reply_err(js, m, T_UNPIN, 10185, NULL);
        return;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)m->data, m->data_len, 0, &je);
    if (!j || !json_is_object(j)) {
        reply_err(js, m, T_UNPIN, 10025, j ? "json: cannot unmarshal value into Go value of type server.JSApiConsumerUnpinRequest"
                                           : (m->data_len ? je.text : "unexpected end of JSON input"));
        if (j) json_decref(j);
        return;
    }
    const char *g = json_string_value(json_object_get(j, "group"));
    char group[64] = "";
    if (g) snprintf(group, sizeof group, "%s", g);
    json_decref(j);
    if (!*group) {
        reply_err(js, m, T_UNPIN, 10025, "consumer group not specified");
        return;
    }
    size_t gl = strlen(group);
    bool valid = gl <= 16;
    for (size_t i = 0; i < gl && valid; i++) {
        char c = group[i];
        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                c == '_' || c == '=' || c == '-';
    }
    if (!valid) {
        reply_err(js, m, T_UNPIN, 10162, NULL);
        return;
    }
    js_consumer *o = need_consumer(js, acc, t, m, T_UNPIN);
    if (!o) return;
    bool found = false;
    for (size_t i = 0; i < o->cfg.npriority_groups; i++)
        if (!strcmp(o->cfg.priority_groups[i], group)) found = true;
    if (!found) {
        reply_err(js, m, T_UNPIN, 10160, NULL);
        return;
    }
    o->pin_id[0] = 0;
    o->pin_deadline = 0;
    jsc_pin_advisory(o, group, "admin");
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_UNPIN));
    js_api_reply(js, m, T_UNPIN, r);
    json_decref(r);
    jsc_deliver(o);
}

/* Go processResetReq / resetStartingSeqLocked (single node). */
static void api_reset(js_server *js, js_account *acc, const toks *t, const js_inmsg *m) {
    js_stream *st = js_account_stream(acc, t->tok[2]);
    js_consumer *o = st ? jsc_lookup(st, t->tok[3]) : NULL;
    if (!o || !m->reply_len) return;
    if (api_level_error(m)) {
        reply_err(js, m, T_RESET, 10185, NULL);
        return;
    }
    uint64_t seq = 0;
    if (m->data_len) {
        json_error_t je;
        json_t *j = json_loadb((const char *)m->data, m->data_len, 0, &je);
        json_t *sv = j && json_is_object(j) ? json_object_get(j, "seq") : NULL;
        if (!j || !json_is_object(j) || (sv && !json_is_null(sv) && !json_is_integer(sv))) {
            reply_err(js, m, T_RESET, 10025,
                      j ? "json: cannot unmarshal value into Go struct field JSApiConsumerResetRequest.seq of type uint64"
                        : je.text);
            if (j) json_decref(j);
            return;
        }
        if (sv && json_is_integer(sv)) seq = (uint64_t)json_integer_value(sv);
        json_decref(j);
    }
    if (seq == 0) {
        seq = o->asflr + 1;
    } else if (o->cfg.deliver_policy == JSC_DELIVER_ALL) {
    } else if (o->cfg.deliver_policy == JSC_DELIVER_BY_START_SEQ) {
        if (seq < o->cfg.opt_start_seq) {
            reply_err(js, m, T_RESET, 10204, "below start seq");
            return;
        }
    } else if (o->cfg.deliver_policy == JSC_DELIVER_BY_START_TIME) {
        if (seq < sd_store_get_seq_from_time(js_stream_store(st), o->cfg.opt_start_time)) {
            reply_err(js, m, T_RESET, 10204, "below start time");
            return;
        }
    } else {
        reply_err(js, m, T_RESET, 10204, "not allowed");
        return;
    }
    if (seq == 0) seq = 1;
    jsc_map_clear(&o->pending);
    jsc_map_clear(&o->rdc);
    o->rdq_len = 0;
    o->lss_active = false;
    o->sseq = seq;
    o->dseq = 1;
    o->adflr = 0;
    o->asflr = seq - 1;
    o->ldt = o->lat = 0;
    o->ptmr = 0;
    if (o->store) {
        o->store->ops->reset(o->store, seq - 1);
        js_stream_mark_dirty(st);
    }
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(T_RESET));
    info_into(o, r);
    json_object_set_new(r, "reset_seq", json_integer((json_int_t)seq));
    js_api_reply(js, m, T_RESET, r);
    json_decref(r);
    jsc_deliver(o);
}

void js_consumer_api(js_server *js, js_account *acc, const char *op, const js_inmsg *m) {
    toks t;
    split(op, &t);
    if (t.n < 2 || strcmp(t.tok[0], "CONSUMER")) return;
    const char *verb = t.tok[1];
    if (!strcmp(verb, "CREATE") || (!strcmp(verb, "DURABLE") && t.n > 2 && !strcmp(t.tok[2], "CREATE"))) {
        api_create(js, acc, op, m);
    } else if (!strcmp(verb, "MSG") && t.n == 5 && !strcmp(t.tok[2], "NEXT")) {
        js_stream *st = js_account_stream(acc, t.tok[3]);
        js_consumer *o = st ? jsc_lookup(st, t.tok[4]) : NULL;
        if (!o || !m->reply_len) return;
        char *reply = jsc_strndup(m->reply, m->reply_len);
        jsc_process_next_request(o, reply, m->data, m->data_len);
        free(reply);
    } else if (!strcmp(verb, "INFO") && t.n == 4) {
        api_info(js, acc, &t, m);
    } else if (!strcmp(verb, "NAMES") && t.n == 3) {
        api_names_list(js, acc, &t, m, false);
    } else if (!strcmp(verb, "LIST") && t.n == 3) {
        api_names_list(js, acc, &t, m, true);
    } else if (!strcmp(verb, "DELETE") && t.n == 4) {
        api_delete(js, acc, &t, m);
    } else if (!strcmp(verb, "PAUSE") && t.n == 4) {
        api_pause(js, acc, &t, m);
    } else if (!strcmp(verb, "UNPIN") && t.n == 4) {
        api_unpin(js, acc, &t, m);
    } else if (!strcmp(verb, "RESET") && t.n == 4) {
        api_reset(js, acc, &t, m);
    } else if (!strcmp(verb, "LEADER") && t.n == 5 && !strcmp(t.tok[2], "STEPDOWN")) {
        reply_err(js, m, T_STEPDOWN, 10010, NULL);
    } else {
        /* Unknown consumer API: the stream side's dispatcher answers these. */
    }
}
