/* Stream configuration: Go nats-server v2.14.5 server/stream.go StreamConfig JSON (decode
 * and encode), checkStreamCfg, configUpdateCheck, and server/jetstream_versioning.go
 * (setStaticStreamMetadata / setDynamicStreamMetadata), for a single node. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "common/transform.h"
#include "storaged/js/js_stream_int.h"

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *o = NULL;
    if (vasprintf(&o, f, ap) < 0) abort();
    va_end(ap);
    return o;
}

void js_stream_cfg_free(js_stream_cfg *c) {
    free(c->name);
    free(c->description);
    for (size_t i = 0; i < c->nsubjects; i++) free(c->subjects[i]);
    free(c->subjects);
    json_decref(c->placement);
    json_decref(c->mirror);
    json_decref(c->sources);
    free(c->tr_src);
    free(c->tr_dest);
    free(c->rp_src);
    free(c->rp_dest);
    json_decref(c->metadata);
    memset(c, 0, sizeof *c);
}

void js_stream_cfg_copy(js_stream_cfg *d, const js_stream_cfg *s) {
    *d = *s;
    d->name = s->name ? xstrdup(s->name) : NULL;
    d->description = s->description ? xstrdup(s->description) : NULL;
    d->subjects = s->nsubjects ? calloc(s->nsubjects, sizeof(char *)) : NULL;
    for (size_t i = 0; i < s->nsubjects; i++) d->subjects[i] = xstrdup(s->subjects[i]);
    d->placement = s->placement ? json_deep_copy(s->placement) : NULL;
    d->mirror = s->mirror ? json_deep_copy(s->mirror) : NULL;
    d->sources = s->sources ? json_deep_copy(s->sources) : NULL;
    d->tr_src = s->tr_src ? xstrdup(s->tr_src) : NULL;
    d->tr_dest = s->tr_dest ? xstrdup(s->tr_dest) : NULL;
    d->rp_src = s->rp_src ? xstrdup(s->rp_src) : NULL;
    d->rp_dest = s->rp_dest ? xstrdup(s->rp_dest) : NULL;
    d->metadata = s->metadata ? json_deep_copy(s->metadata) : NULL;
}

/* ---- decoding ------------------------------------------------------------------------- */

static int enum_err(const json_t *v, const char *path, const char *gotype, char *err,
                    size_t errlen) {
    if (!json_is_string(v)) {
        /* Go's custom UnmarshalJSON sees the raw token: numbers/bools fail the same way. */
        char *raw = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(err, errlen, "can not unmarshal \"%s\"", raw ? raw : "");
        free(raw);
        (void)path;
        (void)gotype;
        return -1;
    }
    /* %q of the raw token "\"x\"" */
    snprintf(err, errlen, "can not unmarshal \"\\\"%s\\\"\"", json_string_value(v));
    return -1;
}

static int dec_retention(const json_t *v, void *f, const char *path, char *err, size_t n) {
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "limits")) *(sd_retention_policy *)f = SD_RETENTION_LIMITS;
    else if (s && !strcmp(s, "interest")) *(sd_retention_policy *)f = SD_RETENTION_INTEREST;
    else if (s && !strcmp(s, "workqueue")) *(sd_retention_policy *)f = SD_RETENTION_WORKQUEUE;
    else return enum_err(v, path, "RetentionPolicy", err, n);
    return 0;
}

static int dec_discard(const json_t *v, void *f, const char *path, char *err, size_t n) {
    const char *s = json_string_value(v);
    if (s && !strcasecmp(s, "old")) *(sd_discard_policy *)f = SD_DISCARD_OLD;
    else if (s && !strcasecmp(s, "new")) *(sd_discard_policy *)f = SD_DISCARD_NEW;
    else return enum_err(v, path, "DiscardPolicy", err, n);
    return 0;
}

static int dec_storage(const json_t *v, void *f, const char *path, char *err, size_t n) {
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "file")) *(int *)f = SD_STORAGE_FILE;
    else if (s && !strcmp(s, "memory")) *(int *)f = SD_STORAGE_MEMORY;
    else return enum_err(v, path, "StorageType", err, n);
    return 0;
}

static int dec_compression(const json_t *v, void *f, const char *path, char *err, size_t n) {
    if (!json_is_string(v)) {
        js_json_type_error(v, "", "string", err, n);
        (void)path;
        return -1;
    }
    const char *s = json_string_value(v);
    if (!strcmp(s, "s2")) *(int *)f = 1;
    else if (!strcmp(s, "none")) *(int *)f = 0;
    else {
        snprintf(err, n, "unknown compression algorithm");
        return -1;
    }
    return 0;
}

static int dec_persist(const json_t *v, void *f, const char *path, char *err, size_t n) {
    const char *s = json_string_value(v);
    if (s && (!strcmp(s, "default") || !s[0])) *(int *)f = 0;
    else if (s && !strcmp(s, "async")) *(int *)f = 1;
    else return enum_err(v, path, "PersistModeType", err, n);
    return 0;
}

static int dec_metadata(const json_t *v, void *f, const char *path, char *err, size_t n) {
    if (!json_is_object(v)) {
        js_json_type_error(v, path, "map[string]string", err, n);
        return -1;
    }
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        if (!json_is_string(e) && !json_is_null(e)) {
            js_json_type_error(e, path, "string", err, n);
            return -1;
        }
    }
    json_t **m = f;
    json_decref(*m);
    *m = json_object();
    json_object_foreach((json_t *)v, k, e) {
        json_object_set_new(*m, k, json_string(json_is_string(e) ? json_string_value(e) : ""));
    }
    return 0;
}

typedef struct placement_req {
    char *cluster;
    char **tags;
    size_t ntags;
    char *preferred;
} placement_req;

/* Go Placement {cluster,tags,preferred all omitempty}: kept normalised, NULL when empty
 * (checkStreamCfg drops an empty placement). */
static int dec_placement(const json_t *v, void *f, const char *path, char *err, size_t n) {
    static const js_jfield pf[] = {
        {"cluster", JF_STRING, offsetof(placement_req, cluster), 0, NULL},
        {"tags", JF_STRINGS, offsetof(placement_req, tags), offsetof(placement_req, ntags), NULL},
        {"preferred", JF_STRING, offsetof(placement_req, preferred), 0, NULL},
    };
    placement_req p = {0};
    int rc = js_json_decode(v, pf, 3, &p, path, "server.Placement", err, n);
    json_t **out = f;
    json_decref(*out);
    *out = NULL;
    if (rc == 0 && ((p.cluster && p.cluster[0]) || p.ntags || (p.preferred && p.preferred[0]))) {
        json_t *o = json_object();
        if (p.cluster && p.cluster[0]) json_object_set_new(o, "cluster", json_string(p.cluster));
        if (p.ntags) {
            json_t *a = json_array();
            for (size_t i = 0; i < p.ntags; i++) json_array_append_new(a, json_string(p.tags[i]));
            json_object_set_new(o, "tags", a);
        }
        if (p.preferred && p.preferred[0]) json_object_set_new(o, "preferred", json_string(p.preferred));
        *out = o;
    }
    free(p.cluster);
    free(p.preferred);
    for (size_t i = 0; i < p.ntags; i++) free(p.tags[i]);
    free(p.tags);
    return rc;
}

#define CF(field) offsetof(js_stream_cfg, field)

typedef struct { js_stream_cfg *c; } tr_holder;

static int dec_transform(const json_t *v, void *f, const char *path, char *err, size_t n) {
    js_stream_cfg *c = (js_stream_cfg *)((char *)f - CF(has_transform));
    static const js_jfield tf[] = {
        {"src", JF_STRING, CF(tr_src), 0, NULL},
        {"dest", JF_STRING, CF(tr_dest), 0, NULL},
    };
    if (js_json_decode(v, tf, 2, c, path, "server.SubjectTransformConfig", err, n)) return -1;
    c->has_transform = true;
    return 0;
}

static int dec_republish(const json_t *v, void *f, const char *path, char *err, size_t n) {
    js_stream_cfg *c = (js_stream_cfg *)((char *)f - CF(has_republish));
    static const js_jfield rf[] = {
        {"src", JF_STRING, CF(rp_src), 0, NULL},
        {"dest", JF_STRING, CF(rp_dest), 0, NULL},
        {"headers_only", JF_BOOL, CF(rp_headers_only), 0, NULL},
    };
    if (js_json_decode(v, rf, 3, c, path, "server.RePublish", err, n)) return -1;
    c->has_republish = true;
    return 0;
}

static int dec_climits(const json_t *v, void *f, const char *path, char *err, size_t n) {
    js_stream_cfg *c = (js_stream_cfg *)((char *)f - CF(cl_inactive_threshold));
    static const js_jfield lf[] = {
        {"inactive_threshold", JF_INT64, CF(cl_inactive_threshold), 0, NULL},
        {"max_ack_pending", JF_INT, CF(cl_max_ack_pending), 0, NULL},
    };
    return js_json_decode(v, lf, 2, c, path, "server.StreamConsumerLimits", err, n);
}

static const js_jfield stream_fields[] = {
    {"name", JF_STRING, CF(name), 0, NULL},
    {"description", JF_STRING, CF(description), 0, NULL},
    {"subjects", JF_STRINGS, CF(subjects), CF(nsubjects), NULL},
    {"retention", JF_CUSTOM, CF(retention), 0, dec_retention},
    {"max_consumers", JF_INT, CF(max_consumers), 0, NULL},
    {"max_msgs", JF_INT64, CF(max_msgs), 0, NULL},
    {"max_bytes", JF_INT64, CF(max_bytes), 0, NULL},
    {"max_age", JF_INT64, CF(max_age), 0, NULL},
    {"max_msgs_per_subject", JF_INT64, CF(max_msgs_per), 0, NULL},
    {"max_msg_size", JF_INT32, CF(max_msg_size), 0, NULL},
    {"discard", JF_CUSTOM, CF(discard), 0, dec_discard},
    {"storage", JF_CUSTOM, CF(storage), 0, dec_storage},
    {"num_replicas", JF_INT, CF(replicas), 0, NULL},
    {"no_ack", JF_BOOL, CF(no_ack), 0, NULL},
    {"duplicate_window", JF_INT64, CF(duplicates), 0, NULL},
    {"placement", JF_CUSTOM, CF(placement), 0, dec_placement},
    {"mirror", JF_CUSTOM, CF(mirror), 0, js_cfg_dec_mirror},
    {"sources", JF_CUSTOM, CF(sources), 0, js_cfg_dec_sources},
    {"compression", JF_CUSTOM, CF(compression), 0, dec_compression},
    {"first_seq", JF_UINT64, CF(first_seq), 0, NULL},
    {"subject_transform", JF_CUSTOM, CF(has_transform), 0, dec_transform},
    {"republish", JF_CUSTOM, CF(has_republish), 0, dec_republish},
    {"allow_direct", JF_BOOL, CF(allow_direct), 0, NULL},
    {"mirror_direct", JF_BOOL, CF(mirror_direct), 0, NULL},
    {"discard_new_per_subject", JF_BOOL, CF(discard_new_per), 0, NULL},
    {"sealed", JF_BOOL, CF(sealed), 0, NULL},
    {"deny_delete", JF_BOOL, CF(deny_delete), 0, NULL},
    {"deny_purge", JF_BOOL, CF(deny_purge), 0, NULL},
    {"allow_rollup_hdrs", JF_BOOL, CF(allow_rollup), 0, NULL},
    {"consumer_limits", JF_CUSTOM, CF(cl_inactive_threshold), 0, dec_climits},
    {"allow_msg_ttl", JF_BOOL, CF(allow_msg_ttl), 0, NULL},
    {"subject_delete_marker_ttl", JF_INT64, CF(sdm_ttl), 0, NULL},
    {"allow_msg_counter", JF_BOOL, CF(allow_msg_counter), 0, NULL},
    {"allow_atomic", JF_BOOL, CF(allow_atomic), 0, NULL},
    {"allow_msg_schedules", JF_BOOL, CF(allow_msg_schedules), 0, NULL},
    {"persist_mode", JF_CUSTOM, CF(persist_mode), 0, dec_persist},
    {"allow_batched", JF_BOOL, CF(allow_batched), 0, NULL},
    {"metadata", JF_CUSTOM, CF(metadata), 0, dec_metadata},
    {"pedantic", JF_BOOL, CF(pedantic), 0, NULL},
};

int js_stream_cfg_decode(const json_t *v, js_stream_cfg *c, bool is_request, char *err,
                         size_t errlen) {
    size_t n = sizeof stream_fields / sizeof stream_fields[0];
    if (!is_request) n--; /* no "pedantic" in a stored StreamConfig */
    return js_json_decode(v, stream_fields, n, c, is_request ? "StreamConfigRequest" : "StreamConfig",
                          is_request ? "server.StreamConfigRequest" : "server.StreamConfig", err,
                          errlen);
}

/* ---- encoding ------------------------------------------------------------------------- */

static const char *retention_str(sd_retention_policy r) {
    return r == SD_RETENTION_INTEREST ? "interest" : r == SD_RETENTION_WORKQUEUE ? "workqueue" : "limits";
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go marshals maps with sorted keys. */
static json_t *sorted_object(const json_t *m) {
    size_t n = json_object_size(m), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(char *));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(char *), cmp_str);
    json_t *o = json_object();
    for (i = 0; i < n; i++) json_object_set(o, keys[i], json_object_get(m, keys[i]));
    free(keys);
    return o;
}

json_t *js_stream_cfg_json(const js_stream_cfg *c, bool dynamic_meta) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name ? c->name : ""));
    if (c->description && c->description[0])
        json_object_set_new(o, "description", json_string(c->description));
    if (c->nsubjects) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nsubjects; i++) json_array_append_new(a, json_string(c->subjects[i]));
        json_object_set_new(o, "subjects", a);
    }
    json_object_set_new(o, "retention", json_string(retention_str(c->retention)));
    json_object_set_new(o, "max_consumers", json_integer(c->max_consumers));
    json_object_set_new(o, "max_msgs", json_integer(c->max_msgs));
    json_object_set_new(o, "max_bytes", json_integer(c->max_bytes));
    json_object_set_new(o, "max_age", json_integer(c->max_age));
    json_object_set_new(o, "max_msgs_per_subject", json_integer(c->max_msgs_per));
    if (c->max_msg_size) json_object_set_new(o, "max_msg_size", json_integer(c->max_msg_size));
    json_object_set_new(o, "discard", json_string(c->discard == SD_DISCARD_NEW ? "new" : "old"));
    json_object_set_new(o, "storage",
                        json_string(c->storage == SD_STORAGE_MEMORY ? "memory" : "file"));
    json_object_set_new(o, "num_replicas", json_integer(c->replicas));
    if (c->no_ack) json_object_set_new(o, "no_ack", json_true());
    if (c->duplicates) json_object_set_new(o, "duplicate_window", json_integer(c->duplicates));
    if (c->placement) json_object_set(o, "placement", c->placement);
    if (c->mirror) json_object_set(o, "mirror", c->mirror);
    if (c->sources && json_array_size(c->sources)) json_object_set(o, "sources", c->sources);
    json_object_set_new(o, "compression", json_string(c->compression ? "s2" : "none"));
    if (c->first_seq) json_object_set_new(o, "first_seq", json_integer((json_int_t)c->first_seq));
    if (c->has_transform) {
        json_t *t = json_object();
        json_object_set_new(t, "src", json_string(c->tr_src ? c->tr_src : ""));
        json_object_set_new(t, "dest", json_string(c->tr_dest ? c->tr_dest : ""));
        json_object_set_new(o, "subject_transform", t);
    }
    if (c->has_republish) {
        json_t *t = json_object();
        if (c->rp_src && c->rp_src[0]) json_object_set_new(t, "src", json_string(c->rp_src));
        json_object_set_new(t, "dest", json_string(c->rp_dest ? c->rp_dest : ""));
        if (c->rp_headers_only) json_object_set_new(t, "headers_only", json_true());
        json_object_set_new(o, "republish", t);
    }
    json_object_set_new(o, "allow_direct", json_boolean(c->allow_direct));
    json_object_set_new(o, "mirror_direct", json_boolean(c->mirror_direct));
    if (c->discard_new_per) json_object_set_new(o, "discard_new_per_subject", json_true());
    json_object_set_new(o, "sealed", json_boolean(c->sealed));
    json_object_set_new(o, "deny_delete", json_boolean(c->deny_delete));
    json_object_set_new(o, "deny_purge", json_boolean(c->deny_purge));
    json_object_set_new(o, "allow_rollup_hdrs", json_boolean(c->allow_rollup));
    json_t *cl = json_object();
    if (c->cl_inactive_threshold)
        json_object_set_new(cl, "inactive_threshold", json_integer(c->cl_inactive_threshold));
    if (c->cl_max_ack_pending)
        json_object_set_new(cl, "max_ack_pending", json_integer(c->cl_max_ack_pending));
    json_object_set_new(o, "consumer_limits", cl);
    json_object_set_new(o, "allow_msg_ttl", json_boolean(c->allow_msg_ttl));
    if (c->sdm_ttl) json_object_set_new(o, "subject_delete_marker_ttl", json_integer(c->sdm_ttl));
    if (c->allow_msg_counter) json_object_set_new(o, "allow_msg_counter", json_true());
    if (c->allow_atomic) json_object_set_new(o, "allow_atomic", json_true());
    if (c->allow_msg_schedules) json_object_set_new(o, "allow_msg_schedules", json_true());
    if (c->persist_mode) json_object_set_new(o, "persist_mode", json_string("async"));
    if (c->allow_batched) json_object_set_new(o, "allow_batched", json_true());
    json_t *md = c->metadata ? json_deep_copy(c->metadata) : NULL;
    if (dynamic_meta) {
        if (!md) md = json_object();
        json_object_set_new(md, "_nats.ver", json_string(JS_GO_VERSION));
        json_object_set_new(md, "_nats.level", json_string("4"));
    }
    if (md && json_object_size(md)) json_object_set_new(o, "metadata", sorted_object(md));
    json_decref(md);
    return o;
}

void js_stream_cfg_set_static_meta(js_stream_cfg *c) {
    if (!c->metadata) c->metadata = json_object();
    json_object_del(c->metadata, "_nats.ver");
    json_object_del(c->metadata, "_nats.level");
    int lvl = 0;
    if (c->allow_msg_ttl || c->sdm_ttl > 0) lvl = 1;
    if (c->allow_msg_counter || c->allow_atomic || c->allow_msg_schedules || c->persist_mode == 1)
        lvl = 2;
    if (c->allow_batched) lvl = 4;
    char b[8];
    snprintf(b, sizeof b, "%d", lvl);
    json_object_set_new(c->metadata, "_nats.req.level", json_string(b));
}

void js_stream_cfg_store(const js_stream_cfg *c, sd_stream_config *sc) {
    memset(sc, 0, sizeof *sc);
    sc->name = c->name;
    sc->subjects = (const char *const *)c->subjects;
    sc->num_subjects = c->nsubjects;
    sc->storage = (sd_storage_type)c->storage;
    sc->retention = c->retention;
    sc->max_msgs = c->max_msgs;
    sc->max_bytes = c->max_bytes;
    sc->max_age_ns = c->max_age;
    sc->max_msgs_per = c->max_msgs_per;
    sc->max_msg_size = c->max_msg_size;
    sc->discard = c->discard;
    sc->discard_new_per = c->discard_new_per;
    sc->first_seq = c->first_seq;
    sc->allow_msg_ttl = c->allow_msg_ttl;
    sc->subject_delete_marker_ttl_ns = c->sdm_ttl;
}

/* ---- checkStreamCfg ------------------------------------------------------------------- */

static bool valid_asset_name(const char *n) {
    if (!n || !n[0]) return false;
    return strpbrk(n, " \t\r\n\f.*>\\/") == NULL;
}

#define INVALID(msg)                                                                           \
    do {                                                                                       \
        *arg = xstrdup(msg);                                                                   \
        return JSStreamInvalidConfigF;                                                         \
    } while (0)
#define PEDANTIC(msg)                                                                          \
    do {                                                                                       \
        *arg = xstrdup(msg);                                                                   \
        return JSPedanticErrF;                                                                 \
    } while (0)

static bool collides(const char *a, const char *b) {
    return nx_subject_collide(a, strlen(a), b, strlen(b));
}

static int check_limits(js_stream_cfg *c, bool pedantic, char **arg) {
    struct {
        int64_t *v;
        const char *msg;
    } lim[] = {
        {&c->max_msgs, "max_msgs must be set to -1"},
        {&c->max_msgs_per, "max_msgs_per_subject must be set to -1"},
        {&c->max_bytes, "max_bytes must be set to -1"},
    };
    for (size_t i = 0; i < 3; i++) {
        if (*lim[i].v == 0 || *lim[i].v < -1) {
            if (pedantic && *lim[i].v < -1) PEDANTIC(lim[i].msg);
            *lim[i].v = -1;
        }
    }
    if (c->max_msg_size == 0 || c->max_msg_size < -1) {
        if (pedantic && c->max_msg_size < -1) PEDANTIC("max_msg_size must be set to -1");
        c->max_msg_size = -1;
    }
    if (c->max_consumers == 0 || c->max_consumers < -1) {
        if (pedantic && c->max_consumers < -1) PEDANTIC("max_consumers must be set to -1");
        c->max_consumers = -1;
    }
    return 0;
}

int js_stream_cfg_check(js_server *js, js_account *acc, js_stream_cfg *c, bool pedantic,
                        char **arg) {
    (void)js;
    *arg = NULL;
    if (!valid_asset_name(c->name))
        INVALID("stream name is required and can not contain '.', '*', '>', '\\', '/'");
    if (strlen(c->name) > JS_MAX_NAME_LEN) {
        char b[80];
        snprintf(b, sizeof b, "stream name is too long, maximum allowed is %d", JS_MAX_NAME_LEN);
        INVALID(b);
    }
    if (c->description && strlen(c->description) > JS_MAX_DESCRIPTION_LEN) {
        char b[80];
        snprintf(b, sizeof b, "stream description is too long, maximum allowed is %d",
                 JS_MAX_DESCRIPTION_LEN);
        INVALID(b);
    }
    if (c->metadata) {
        size_t ml = 0;
        const char *k;
        json_t *v;
        json_object_foreach(c->metadata, k, v) {
            ml += strlen(k) + strlen(json_string_value(v));
        }
        if (ml > JS_MAX_METADATA_LEN) {
            char b[80];
            snprintf(b, sizeof b, "stream metadata exceeds maximum size of %d bytes",
                     JS_MAX_METADATA_LEN);
            INVALID(b);
        }
    }
    if (c->storage == 0) c->storage = SD_STORAGE_FILE;
    if (c->replicas == 0) c->replicas = 1;
    if (c->replicas > 5) INVALID("maximum replicas is 5");
    if (c->replicas < 0) return JSReplicasCountCannotBeNegative;
    int rc = check_limits(c, pedantic, arg);
    if (rc) return rc;
    if (c->max_age < 0) INVALID("max age can not be negative");
    if (c->max_age != 0 && c->max_age < 100 * JS_MS) INVALID("max age needs to be >= 100ms");
    if (c->duplicates == 0 && !c->mirror && !(c->sources && json_array_size(c->sources))) {
        int64_t win = JS_DEFAULT_DUPLICATES_NS;
        if (c->max_age != 0 && c->max_age < win) {
            if (pedantic) PEDANTIC("duplicate window cannot be bigger than max age");
            c->duplicates = c->max_age;
        } else {
            c->duplicates = win;
        }
    }
    if (c->duplicates < 0) INVALID("duplicates window can not be negative");
    if (c->max_age != 0 && c->duplicates > c->max_age)
        INVALID("duplicates window can not be larger then max age");
    if (c->duplicates > 0 && c->duplicates < 100 * JS_MS)
        INVALID("duplicates window needs to be >= 100ms");
    if (c->deny_purge && c->allow_rollup) INVALID("roll-ups require the purge permission");
    if (c->allow_msg_counter) {
        if (c->discard == SD_DISCARD_NEW) INVALID("counter stream cannot use discard new");
        if (c->allow_msg_ttl) INVALID("counter stream cannot use message TTLs");
        if (c->allow_msg_schedules) INVALID("counter stream cannot use message schedules");
        if (c->retention != SD_RETENTION_LIMITS)
            INVALID("counter stream can only use limits retention");
    }
    if (c->discard_new_per) {
        if (c->discard != SD_DISCARD_NEW)
            INVALID("discard new per subject requires discard new policy to be set");
        if (c->max_msgs_per <= 0)
            INVALID("discard new per subject requires max msgs per subject > 0");
    }
    if (c->sdm_ttl > 0) {
        if (c->sdm_ttl < JS_SEC) INVALID("subject delete marker TTL must be at least 1 second");
        if (!c->allow_msg_ttl) {
            if (pedantic) INVALID("subject delete marker cannot be set if message TTLs are disabled");
            c->allow_msg_ttl = true;
        }
        if (!c->allow_rollup) {
            if (pedantic) INVALID("subject delete marker cannot be set if roll-ups are disabled");
            c->allow_rollup = true;
            c->deny_purge = false;
        }
    } else if (c->sdm_ttl < 0) {
        INVALID("subject delete marker TTL must not be negative");
    }
    if (c->allow_msg_schedules) {
        if (c->discard == SD_DISCARD_NEW) INVALID("message scheduling cannot use discard new");
        if (!c->allow_rollup) {
            if (pedantic) INVALID("message scheduling cannot be set if roll-ups are disabled");
            c->allow_rollup = true;
            c->deny_purge = false;
        }
    }
    if (c->persist_mode == 1) {
        if (c->storage != SD_STORAGE_FILE)
            INVALID("async persist mode is only supported on file storage");
        if (c->replicas > 1) INVALID("async persist mode is not supported on replicated streams");
        if (c->allow_atomic)
            INVALID("async persist mode is not supported with atomic batch publish");
    }
    if ((rc = js_mirror_cfg_check(acc, c, pedantic, arg))) return rc;
    /* Not ported yet: refused rather than accepted and then ignored. */
    if (c->allow_msg_schedules) INVALID("message schedules are not supported by this server yet");
    if (c->nsubjects == 0) {
        if (c->mirror || json_array_size(c->sources)) goto subjects_done;
        c->subjects = calloc(1, sizeof(char *));
        c->subjects[0] = xstrdup(c->name);
        c->nsubjects = 1;
    } else {
        for (size_t i = 0; i < c->nsubjects; i++) {
            const char *s = c->subjects[i];
            if (!nx_subject_valid(s, strlen(s))) INVALID("invalid subject");
            for (size_t j = 0; j < i; j++)
                if (!strcmp(c->subjects[j], s)) INVALID("duplicate subjects detected");
            if (!strcmp(s, ">")) {
                if (!c->no_ack) INVALID("capturing all subjects requires no-ack to be true");
                if (c->replicas != 1) INVALID("capturing all subjects requires replicas of 1");
            }
            if (!c->no_ack) {
                static const char *ns[] = {"$JS.>", "$JSC.>", "$NRG.>"};
                for (size_t k = 0; k < 3; k++)
                    if (collides(s, ns[k]) && !nx_subject_subset_match(s, strlen(s), "$JS.EVENT.>", 11))
                        INVALID("subjects that overlap with jetstream api require no-ack to be true");
                if (collides(s, "$SYS.>") && !nx_subject_subset_match(s, strlen(s), "$SYS.ACCOUNT.>", 14))
                    INVALID("subjects that overlap with system api require no-ack to be true");
            }
            for (size_t j = i + 1; j < c->nsubjects; j++) {
                if (collides(c->subjects[j], s)) {
                    *arg = fmt("subject \"%s\" overlaps with \"%s\"", s, c->subjects[j]);
                    return JSStreamInvalidConfigF;
                }
            }
        }
    }
subjects_done:
    if (acc) { /* Go acc.maxBytesLimits: the account's max_bytes_required / max stream bytes */
        const js_account_limits *l = js_account_limits_of(acc);
        int64_t lim = c->storage == SD_STORAGE_MEMORY ? l->memory_max_stream_bytes
                                                      : l->store_max_stream_bytes;
        if (l->max_bytes_required && c->max_bytes <= 0) return JSStreamMaxBytesRequired;
        if (lim > 0 && c->max_bytes > lim) return JSStreamMaxStreamBytesExceeded;
    }
    if (c->has_transform) {
        const char *src = c->tr_src ? c->tr_src : "";
        if (src[0] && !nx_subject_valid(src, strlen(src))) {
            *arg = fmt("invalid subject %s", src);
            return JSStreamTransformInvalidSource;
        }
        char e[256];
        if (nx_transform_validate_mapping(src, c->tr_dest ? c->tr_dest : "", e, sizeof e)) {
            *arg = xstrdup(e);
            return JSStreamTransformInvalidDestination;
        }
    }
    if (c->has_republish) {
        if (!c->rp_src || !c->rp_src[0]) {
            if (pedantic) PEDANTIC("republish source can not be empty");
            free(c->rp_src);
            c->rp_src = xstrdup(">");
        }
        const char *rd = c->rp_dest ? c->rp_dest : "";
        if (!strcmp(rd, ">") && !strcmp(c->rp_src, ">") && c->has_transform && c->nsubjects == 1 &&
            c->tr_src && !strcmp(c->tr_src, c->subjects[0])) {
            if (pedantic) PEDANTIC("implicit republish based on subject transform");
            free(c->rp_src);
            free(c->rp_dest);
            c->rp_src = xstrdup(c->tr_dest);
            c->rp_dest = xstrdup(c->tr_dest);
            rd = c->rp_dest;
        }
        for (size_t i = 0; i < c->nsubjects; i++)
            if (collides(rd, c->subjects[i]))
                INVALID("stream configuration for republish destination forms a cycle");
        nx_transform *tr = NULL;
        char e[256];
        if (nx_transform_new(c->rp_src, rd, false, &tr, e, sizeof e) != NX_TR_OK) {
            *arg = fmt("stream configuration for republish with transform from '%s' to '%s' not valid",
                       c->rp_src, rd);
            return JSStreamInvalidConfigF;
        }
        nx_transform_free(tr);
    }
    if (c->placement && json_is_object(c->placement) && json_object_size(c->placement) == 0) {
        json_decref(c->placement);
        c->placement = NULL;
    }
    if (c->placement) {
        json_t *p = json_object_get(c->placement, "preferred");
        if (json_is_string(p) && json_string_value(p)[0])
            INVALID("preferred server not permitted in placement");
    }
    return 0;
}

int js_stream_cfg_update_check(js_account *acc, const js_stream_cfg *old, js_stream_cfg *c,
                               char **arg) {
    int rc = js_stream_cfg_check(acc->js, acc, c, false, arg);
    if (rc) return rc;
    if (strcmp(c->name, old->name)) INVALID("stream configuration name must match original");
    if (c->storage != old->storage)
        INVALID("stream configuration update can not change storage type");
    if (c->retention != old->retention &&
        (old->retention == SD_RETENTION_WORKQUEUE || c->retention == SD_RETENTION_WORKQUEUE))
        INVALID("stream configuration update can not change retention policy to/from workqueue");
    if (!c->sealed && old->sealed)
        INVALID("stream configuration update can not unseal a sealed stream");
    if (!c->deny_delete && old->deny_delete)
        INVALID("stream configuration update can not cancel deny message deletes");
    if (!c->deny_purge && old->deny_purge)
        INVALID("stream configuration update can not cancel deny purge");
    if (old->allow_msg_ttl && !c->allow_msg_ttl) INVALID("message TTL status can not be disabled");
    if (c->allow_msg_counter != old->allow_msg_counter)
        INVALID("stream configuration update can not change message counter setting");
    if (old->allow_msg_schedules && !c->allow_msg_schedules)
        INVALID("message schedules can not be disabled");
    if (old->persist_mode != c->persist_mode)
        INVALID("stream configuration update can not change persist mode");
    if (c->mirror && (!old->mirror || !json_equal(c->mirror, old->mirror)))
        return JSStreamMirrorNotUpdatableErr;
    if (c->sealed) {
        c->max_age = 0;
        c->discard = SD_DISCARD_NEW;
        c->deny_delete = c->deny_purge = true;
        c->allow_rollup = false;
    }
    return 0;
}
