/* The JetStream JSON API, stream side: dispatch of $JS.API.> and the account and stream
 * handlers.
 *
 * Ports Go nats-server v2.14.5 server/jetstream_api.go for a single node: apiDispatch
 * (unknown subjects get a system_response with JSBadRequestErr), jsAccountInfoRequest,
 * jsStreamCreateRequest, jsStreamUpdateRequest, jsStreamNamesRequest, jsStreamListRequest,
 * jsStreamInfoRequest, jsStreamDeleteRequest, jsStreamPurgeRequest,
 * jsStreamLeaderStepDownRequest (JSClusterRequiredErr when not clustered).  Message get and
 * delete, and direct get, live in js_api_msg.c; $JS.API.CONSUMER.* goes to the consumer side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_stream_int.h"

#define T_SYSTEM "io.nats.jetstream.api.v1.system_response"
#define T_ACCOUNT_INFO "io.nats.jetstream.api.v1.account_info_response"
#define T_CREATE "io.nats.jetstream.api.v1.stream_create_response"
#define T_UPDATE "io.nats.jetstream.api.v1.stream_update_response"
#define T_DELETE "io.nats.jetstream.api.v1.stream_delete_response"
#define T_INFO "io.nats.jetstream.api.v1.stream_info_response"
#define T_NAMES "io.nats.jetstream.api.v1.stream_names_response"
#define T_LIST "io.nats.jetstream.api.v1.stream_list_response"
#define T_PURGE "io.nats.jetstream.api.v1.stream_purge_response"
#define T_STEPDOWN "io.nats.jetstream.api.v1.stream_leader_stepdown_response"

typedef struct api_req {
    js_server *js;
    js_account *acc;
    const js_inmsg *m;
    char *subject;
    char *reply;
} api_req;

static void send_resp(api_req *r, const char *type, json_t *resp) {
    js_api_send(r->js, r->acc, r->reply, type, resp, true, r->m);
    json_decref(resp);
}

static void send_err(api_req *r, const char *type, int code, const char *arg) {
    json_t *resp = json_object();
    js_api_set_error(resp, code, arg);
    send_resp(r, type, resp);
}

/* Go tokenAt (1-based). Copies into buf. */
static const char *token(const char *subj, size_t idx, char *buf, size_t cap) {
    size_t tl;
    const char *t = nx_subject_token_at(subj, strlen(subj), idx, &tl);
    if (tl >= cap) tl = cap - 1;
    memcpy(buf, t, tl);
    buf[tl] = 0;
    return buf;
}

/* Parses a request body strictly into fields; on error sends JSInvalidJSONErr. */
static bool decode_req(api_req *r, const char *type, const js_jfield *f, size_t n, void *dst,
                       const char *gostruct, const char *gotype) {
    char err[512];
    const js_inmsg *m = r->m;
    size_t i = 0;
    while (i < m->data_len && (m->data[i] == ' ' || m->data[i] == '\t' || m->data[i] == '\n' ||
                               m->data[i] == '\r'))
        i++;
    if (i == m->data_len) return true; /* io.EOF: nothing to decode */
    json_t *v = js_json_parse(m->data, m->data_len, err, sizeof err);
    if (v && js_json_decode(v, f, n, dst, gostruct, gotype, err, sizeof err) == 0) {
        json_decref(v);
        return true;
    }
    json_decref(v);
    send_err(r, type, JSInvalidJSONErr, err);
    return false;
}

/* ---- $JS.API.INFO -------------------------------------------------------------------- */

static void api_account_info(api_req *r) {
    uint64_t mem, store, rmem, rstore, cons;
    js_account_usage(r->acc, &mem, &store, &rmem, &rstore, &cons);
    json_t *o = json_object();
    json_object_set_new(o, "memory", json_integer((json_int_t)mem));
    json_object_set_new(o, "storage", json_integer((json_int_t)store));
    json_object_set_new(o, "reserved_memory", json_integer((json_int_t)rmem));
    json_object_set_new(o, "reserved_storage", json_integer((json_int_t)rstore));
    json_object_set_new(o, "streams", json_integer((json_int_t)r->acc->nstreams));
    json_object_set_new(o, "consumers", json_integer((json_int_t)cons));
    json_t *l = js_account_limits_json(r->acc);
    json_object_set_new(o, "limits", l);
    if (r->js->cfg.domain) json_object_set_new(o, "domain", json_string(r->js->cfg.domain));
    json_t *api = json_object();
    json_object_set_new(api, "level", json_integer(JS_API_LEVEL));
    json_object_set_new(api, "total", json_integer((json_int_t)r->acc->api_total));
    json_object_set_new(api, "errors", json_integer((json_int_t)r->acc->api_errors));
    json_object_set_new(o, "api", api);
    send_resp(r, T_ACCOUNT_INFO, o);
}

/* ---- STREAM.CREATE / UPDATE ---------------------------------------------------------- */

static bool decode_cfg(api_req *r, const char *type, js_stream_cfg *cfg) {
    char err[512];
    const js_inmsg *m = r->m;
    size_t i = 0;
    while (i < m->data_len && (m->data[i] == 32 || m->data[i] == 9 || m->data[i] == 13 || m->data[i] == 10)) i++;
    if (i == m->data_len) return true;
    json_t *v = js_json_parse(m->data, m->data_len, err, sizeof err);
    if (v && js_stream_cfg_decode(v, cfg, true, err, sizeof err) == 0) {
        json_decref(v);
        return true;
    }
    json_decref(v);
    send_err(r, type, JSInvalidJSONErr, err);
    return false;
}

static void api_stream_create(api_req *r) {
    js_stream_cfg cfg = {0};
    if (!decode_cfg(r, T_CREATE, &cfg)) goto out;
    js_stream_cfg_set_static_meta(&cfg);
    char name[256];
    token(r->subject, 5, name, sizeof name);
    if (strcmp(name, cfg.name ? cfg.name : "")) {
        send_err(r, T_CREATE, JSStreamMismatchErr, NULL);
        goto out;
    }
    if (strpbrk(name, "\\/")) {
        send_err(r, T_CREATE, JSStreamNameContainsPathSeparatorsErr, NULL);
        goto out;
    }
    if (cfg.sealed) {
        send_err(r, T_CREATE, JSStreamInvalidConfigF,
                 "stream configuration for create can not be sealed");
        goto out;
    }
    if (cfg.mirror_direct && !cfg.mirror) {
        send_err(r, T_CREATE, JSStreamInvalidConfigF,
                 "stream has no mirror but does have mirror direct");
        goto out;
    }
    int code = js_account_stream_limits_check(r->acc, &cfg);
    if (code) { /* Go jsNonClusteredStreamLimitsCheck */
        send_err(r, T_CREATE, code, NULL);
        goto out;
    }
    char *arg = NULL;
    bool existing;
    js_stream *st = js_stream_add(r->acc, &cfg, cfg.pedantic, &code, &arg, &existing);
    if (!st) {
        send_err(r, T_CREATE, code, arg);
        free(arg);
        goto out;
    }
    json_t *o = js_stream_info_json(st, JS_INFO_DYNAMIC_META, NULL);
    json_object_set_new(o, "did_create", json_true());
    send_resp(r, T_CREATE, o);
out:
    js_stream_cfg_free(&cfg);
}

static void api_stream_update(api_req *r) {
    js_stream_cfg cfg = {0};
    char *arg = NULL;
    if (!decode_cfg(r, T_UPDATE, &cfg)) goto out;
    bool pedantic = cfg.pedantic;
    js_stream_cfg chk;
    js_stream_cfg_copy(&chk, &cfg);
    int code = js_stream_cfg_check(r->js, r->acc, &chk, pedantic, &arg);
    if (code) {
        js_stream_cfg_free(&chk);
        send_err(r, T_UPDATE, code, arg);
        goto out;
    }
    char name[256];
    token(r->subject, 5, name, sizeof name);
    if (strcmp(name, chk.name)) {
        js_stream_cfg_free(&chk);
        send_err(r, T_UPDATE, JSStreamMismatchErr, NULL);
        goto out;
    }
    js_stream *st = js_account_stream(r->acc, name);
    if (!st) {
        js_stream_cfg_free(&chk);
        send_err(r, T_UPDATE, JSStreamNotFoundErr, NULL);
        goto out;
    }
    js_stream_cfg_set_static_meta(&chk);
    code = js_stream_update(st, &chk, pedantic, &arg);
    js_stream_cfg_free(&chk);
    if (code) {
        send_err(r, T_UPDATE, code, arg);
        goto out;
    }
    send_resp(r, T_UPDATE, js_stream_info_json(st, JS_INFO_DYNAMIC_META | JS_INFO_DOMAIN, NULL));
out:
    free(arg);
    js_stream_cfg_free(&cfg);
}

/* ---- STREAM.NAMES / LIST ------------------------------------------------------------- */

typedef struct names_req {
    int64_t offset;
    char *subject;
} names_req;

static const js_jfield names_fields[] = {
    {"offset", JF_INT, offsetof(names_req, offset), 0, NULL},
    {"subject", JF_STRING, offsetof(names_req, subject), 0, NULL},
};

static int cmp_stream(const void *a, const void *b) {
    return strcmp((*(js_stream *const *)a)->cfg.name, (*(js_stream *const *)b)->cfg.name);
}

/* The account's streams matching filter, sorted by name (malloc'd array). */
static js_stream **filtered(js_account *acc, const char *filter, size_t *n) {
    js_stream **v = calloc(acc->nstreams + 1, sizeof *v);
    if (!v) abort();
    *n = 0;
    for (size_t i = 0; i < acc->nstreams; i++) {
        js_stream *st = acc->streams[i];
        bool ok = !filter || !filter[0];
        for (size_t k = 0; !ok && k < st->cfg.nsubjects; k++)
            ok = nx_subject_collide(filter, strlen(filter), st->cfg.subjects[k],
                                    strlen(st->cfg.subjects[k]));
        if (ok) v[(*n)++] = st;
    }
    qsort(v, *n, sizeof *v, cmp_stream);
    return v;
}

static void api_stream_names(api_req *r, bool list) {
    const char *type = list ? T_LIST : T_NAMES;
    names_req q = {0};
    if (js_is_json_object_or_array(r->m->data, r->m->data_len) &&
        !decode_req(r, type, names_fields, 2, &q, list ? "JSApiStreamListRequest" : "JSApiStreamNamesRequest",
                    list ? "server.JSApiStreamListRequest" : "server.JSApiStreamNamesRequest")) {
        free(q.subject);
        return;
    }
    size_t n;
    js_stream **v = filtered(r->acc, q.subject, &n);
    size_t off = q.offset > 0 ? (size_t)q.offset : 0;
    if (off > n) off = n;
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)n));
    json_object_set_new(o, "offset", json_integer((json_int_t)off));
    json_object_set_new(o, "limit", json_integer(list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT));
    json_t *a = json_array();
    size_t limit = list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT;
    for (size_t i = off; i < n && json_array_size(a) < limit; i++) {
        if (list) json_array_append_new(a, js_stream_info_json(v[i], JS_INFO_DOMAIN, NULL));
        else json_array_append_new(a, json_string(v[i]->cfg.name));
    }
    if (!list && json_array_size(a) == 0) {
        json_decref(a);
        a = json_null(); /* Go: nil slice */
    }
    json_object_set_new(o, "streams", a);
    free(v);
    free(q.subject);
    send_resp(r, type, o);
}

/* ---- STREAM.INFO --------------------------------------------------------------------- */

typedef struct info_req {
    int64_t offset;
    bool deleted_details;
    char *subjects_filter;
} info_req;

static const js_jfield info_fields[] = {
    {"offset", JF_INT, offsetof(info_req, offset), 0, NULL},
    {"deleted_details", JF_BOOL, offsetof(info_req, deleted_details), 0, NULL},
    {"subjects_filter", JF_STRING, offsetof(info_req, subjects_filter), 0, NULL},
};

typedef struct subj_acc {
    json_t *obj;
    size_t n;
} subj_acc;

static bool subj_cb(void *arg, const char *subj, size_t len, const sd_simple_state *ss) {
    subj_acc *a = arg;
    char *k = strndup(subj, len);
    json_object_set_new(a->obj, k, json_integer((json_int_t)ss->msgs));
    free(k);
    a->n++;
    return true;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void api_stream_info(api_req *r) {
    char name[256];
    token(r->subject, 5, name, sizeof name);
    info_req q = {0};
    if (js_is_json_object_or_array(r->m->data, r->m->data_len) &&
        !decode_req(r, T_INFO, info_fields, 3, &q, "JSApiStreamInfoRequest",
                    "server.JSApiStreamInfoRequest")) {
        free(q.subjects_filter);
        return;
    }
    js_stream *st = js_account_stream(r->acc, name);
    if (!st) {
        free(q.subjects_filter);
        send_err(r, T_INFO, JSStreamNotFoundErr, NULL);
        return;
    }
    size_t off = q.offset > 0 ? (size_t)q.offset : 0;
    json_t *subjects = NULL;
    size_t total = 0, limit = 0;
    if (q.subjects_filter && q.subjects_filter[0]) {
        subj_acc a = {json_object(), 0};
        sd_store_subjects_totals(st->store, q.subjects_filter, subj_cb, &a);
        if (a.n > 0) {
            total = a.n;
            limit = JS_MAX_SUBJECT_DETAILS;
            const char **keys = calloc(a.n, sizeof *keys);
            size_t i = 0;
            const char *k;
            json_t *v;
            json_object_foreach(a.obj, k, v) keys[i++] = k;
            qsort(keys, a.n, sizeof *keys, cmp_cstr);
            if (off > a.n) off = a.n;
            size_t end = off + JS_MAX_SUBJECT_DETAILS;
            if (end > a.n) end = a.n;
            subjects = json_object();
            for (i = off; i < end; i++) json_object_set(subjects, keys[i], json_object_get(a.obj, keys[i]));
            free(keys);
        } else {
            off = 0;
        }
        json_decref(a.obj);
    } else {
        off = 0;
    }
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "offset", json_integer((json_int_t)off));
    json_object_set_new(o, "limit", json_integer((json_int_t)limit));
    json_t *info = js_stream_info_json(st, JS_INFO_DYNAMIC_META | JS_INFO_DOMAIN | JS_INFO_CLUSTER |
                                               (q.deleted_details ? JS_INFO_DETAILS : 0),
                                       subjects);
    json_object_update(o, info);
    json_decref(info);
    json_decref(subjects);
    free(q.subjects_filter);
    send_resp(r, T_INFO, o);
}

/* ---- STREAM.DELETE / PURGE / LEADER.STEPDOWN ------------------------------------------ */

static void api_stream_delete(api_req *r) {
    if (!js_is_empty_request(r->m->data, r->m->data_len)) {
        send_err(r, T_DELETE, JSNotEmptyRequestErr, NULL);
        return;
    }
    char name[256];
    token(r->subject, 5, name, sizeof name);
    js_stream *st = js_account_stream(r->acc, name);
    if (!st) {
        send_err(r, T_DELETE, JSStreamNotFoundErr, NULL);
        return;
    }
    js_stream_delete(st);
    json_t *o = json_object();
    json_object_set_new(o, "success", json_true());
    send_resp(r, T_DELETE, o);
}

typedef struct purge_req {
    uint64_t seq;
    char *filter;
    uint64_t keep;
} purge_req;

static const js_jfield purge_fields[] = {
    {"seq", JF_UINT64, offsetof(purge_req, seq), 0, NULL},
    {"filter", JF_STRING, offsetof(purge_req, filter), 0, NULL},
    {"keep", JF_UINT64, offsetof(purge_req, keep), 0, NULL},
};

static void purge_reply(api_req *r, json_t *o) {
    /* A purge reports a write: reply after the group commit (sendAPIResponse semantics). */
    json_t *full = json_object();
    json_object_set_new(full, "type", json_string(T_PURGE));
    json_t *e = json_object_get(o, "error");
    if (e) json_object_set(full, "error", e);
    if (!e) json_object_set_new(full, "success", json_true());
    json_object_set(full, "purged", json_object_get(o, "purged"));
    size_t len;
    char *s = js_json_encode(full, &len);
    json_decref(full);
    json_decref(o);
    js_api_track(r->acc, false);
    js_api_audit(r->js, r->m, s, len);
    if (r->reply) js_publish_after_sync(r->js, r->acc->name, r->reply, NULL, 0, (const uint8_t *)s, len);
    free(s);
}

static void api_stream_purge(api_req *r) {
    char name[256];
    token(r->subject, 5, name, sizeof name);
    purge_req q = {0};
    bool has_req = false;
    if (js_is_json_object_or_array(r->m->data, r->m->data_len)) {
        if (!decode_req(r, T_PURGE, purge_fields, 3, &q, "JSApiStreamPurgeRequest",
                        "server.JSApiStreamPurgeRequest"))
            goto out;
        if (q.seq > 0 && q.keep > 0) {
            send_err(r, T_PURGE, JSBadRequestErr, NULL);
            goto out;
        }
        has_req = true;
    }
    js_stream *st = js_account_stream(r->acc, name);
    if (!st) {
        send_err(r, T_PURGE, JSStreamNotFoundErr, NULL);
        goto out;
    }
    if (st->cfg.sealed) {
        send_err(r, T_PURGE, JSStreamSealedErr, NULL);
        goto out;
    }
    if (st->cfg.deny_purge) {
        send_err(r, T_PURGE, JSStreamPurgeFailedF, "stream purge not permitted");
        goto out;
    }
    uint64_t purged = 0;
    char *arg = NULL;
    int code = js_stream_purge(st, q.filter, q.seq, q.keep, has_req, &purged, &arg);
    json_t *o = json_object();
    if (code) js_api_set_error(o, code, arg);
    free(arg);
    json_object_set_new(o, "purged", json_integer((json_int_t)purged));
    purge_reply(r, o);
out:
    free(q.filter);
}

/* ---- dispatch ------------------------------------------------------------------------ */

typedef void (*api_fn)(api_req *r);

static void api_names(api_req *r) { api_stream_names(r, false); }
static void api_list(api_req *r) { api_stream_names(r, true); }
static void api_stepdown(api_req *r) { send_err(r, T_STEPDOWN, JSClusterRequiredErr, NULL); }
static void api_peer_remove(api_req *r) {
    send_err(r, "io.nats.jetstream.api.v1.stream_remove_peer_response", JSClusterRequiredErr, NULL);
}
static void api_msg_get(api_req *r) {
    char name[256];
    js_api_msg_get(r->js, r->acc, token(r->subject, 6, name, sizeof name), r->m);
}
static void api_msg_delete(api_req *r) {
    char name[256];
    js_api_msg_delete(r->js, r->acc, token(r->subject, 6, name, sizeof name), r->m);
}

/* Go errorOnRequiredApiLevel: a Nats-Required-Api-Level header above ours (or not a number). */
bool js_api_level_error(const js_inmsg *m) {
    if (!m->hdr_len) return false;
    char *v = js_hdr_get(m->hdr, m->hdr_len, "Nats-Required-Api-Level");
    if (!v) return false;
    bool bad = !v[0];
    char *end = NULL;
    long lvl = bad ? 0 : strtol(v, &end, 10);
    if (!bad && (*end || end == v)) bad = true;
    free(v);
    return bad || lvl > JS_API_LEVEL;
}

static const struct {
    const char *pattern;
    api_fn fn;
    const char *type; /* for the required API level error (NULL: checked later, as Go) */
} routes[] = {
    {"$JS.API.INFO", api_account_info, T_ACCOUNT_INFO},
    {"$JS.API.STREAM.CREATE.*", api_stream_create, T_CREATE},
    {"$JS.API.STREAM.UPDATE.*", api_stream_update, T_UPDATE},
    {"$JS.API.STREAM.NAMES", api_names, T_NAMES},
    {"$JS.API.STREAM.LIST", api_list, T_LIST},
    {"$JS.API.STREAM.INFO.*", api_stream_info, T_INFO},
    {"$JS.API.STREAM.DELETE.*", api_stream_delete, T_DELETE},
    {"$JS.API.STREAM.PURGE.*", api_stream_purge, T_PURGE},
    {"$JS.API.STREAM.MSG.GET.*", api_msg_get, "io.nats.jetstream.api.v1.stream_msg_get_response"},
    {"$JS.API.STREAM.MSG.DELETE.*", api_msg_delete, "io.nats.jetstream.api.v1.stream_msg_delete_response"},
    {"$JS.API.STREAM.LEADER.STEPDOWN.*", api_stepdown, NULL},
    {"$JS.API.STREAM.PEER.REMOVE.*", api_peer_remove, NULL},
};

void js_api_dispatch(js_server *js, js_account *acc, const js_inmsg *m) {
    api_req r = {.js = js, .acc = acc, .m = m};
    r.subject = strndup(m->subject, m->subject_len);
    r.reply = m->reply_len ? strndup(m->reply, m->reply_len) : NULL;
    const char *s = r.subject;
    size_t sl = strlen(s);
    if (!strcmp(s, "$JS.API.META.LEADER.STEPDOWN") || !strcmp(s, "$JS.API.SERVER.REMOVE") ||
        !strncmp(s, "$JS.API.ACCOUNT.", 16))
        goto out; /* system-level requests: ignored here, as Go's apiDispatch does */
    if (!strncmp(s, "$JS.API.DIRECT.GET.", 19)) {
        js_api_direct_get(js, acc, m);
        goto out;
    }
    if (nx_subject_match_literal(s, sl, "$JS.API.STREAM.SNAPSHOT.*", 25) ||
        nx_subject_match_literal(s, sl, "$JS.API.STREAM.RESTORE.*", 24)) {
        if (js_api_level_error(m))
            send_err(&r, s[15] == 'S' ? "io.nats.jetstream.api.v1.stream_snapshot_response"
                                      : "io.nats.jetstream.api.v1.stream_restore_response",
                     JSRequiredApiLevelErr, NULL);
        else if (s[15] == 'S')
            js_api_stream_snapshot(js, acc, m);
        else
            js_api_stream_restore(js, acc, m);
        goto out;
    }
    if (!strncmp(s, "$JS.API.CONSUMER.", 17)) {
        js_consumer_api(js, acc, s + 8, m);
        goto out;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (nx_subject_match_literal(s, sl, routes[i].pattern, strlen(routes[i].pattern))) {
            if (routes[i].type && js_api_level_error(m))
                send_err(&r, routes[i].type, JSRequiredApiLevelErr, NULL);
            else
                routes[i].fn(&r);
            goto out;
        }
    }
    send_err(&r, T_SYSTEM, JSBadRequestErr, NULL);
out:
    free(r.subject);
    free(r.reply);
}
