/* Mirror and source configuration: Go nats-server v2.14.5 server/stream.go StreamSource
 * (JSON decode/encode, composeIName) and the mirror/sources part of checkStreamCfg (mirror
 * restrictions, source duplicates and filters, max message size, the external deliver / API
 * prefix checks, the source cycle check).  Durable sourcing consumers are decoded but
 * refused.
 */
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

void js_source_cfg_free(js_source_cfg *s) {
    free(s->name);
    free(s->filter);
    for (size_t i = 0; i < s->ntr; i++) {
        free(s->tr_src[i]);
        free(s->tr_dest[i]);
    }
    free(s->tr_src);
    free(s->tr_dest);
    json_decref(s->external);
    json_decref(s->consumer);
    memset(s, 0, sizeof *s);
}

/* ---- decoding ---------------------------------------------------------------------- */

typedef struct tr_pair {
    char *src, *dest;
} tr_pair;

static int dec_transforms(const json_t *v, void *f, const char *path, char *err, size_t n) {
    js_source_cfg *s = (js_source_cfg *)((char *)f - offsetof(js_source_cfg, tr_src));
    static const js_jfield tf[] = {
        {"src", JF_STRING, offsetof(tr_pair, src), 0, NULL},
        {"dest", JF_STRING, offsetof(tr_pair, dest), 0, NULL},
    };
    if (!json_is_array(v)) {
        js_json_type_error(v, path, "[]server.SubjectTransformConfig", err, n);
        return -1;
    }
    for (size_t i = 0; i < s->ntr; i++) {
        free(s->tr_src[i]);
        free(s->tr_dest[i]);
    }
    s->ntr = json_array_size(v);
    s->tr_src = realloc(s->tr_src, (s->ntr + 1) * sizeof(char *));
    s->tr_dest = realloc(s->tr_dest, (s->ntr + 1) * sizeof(char *));
    if (!s->tr_src || !s->tr_dest) abort();
    for (size_t i = 0; i < s->ntr; i++) s->tr_src[i] = s->tr_dest[i] = NULL;
    for (size_t i = 0; i < s->ntr; i++) {
        tr_pair p = {0};
        int rc = js_json_decode(json_array_get(v, i), tf, 2, &p, path,
                                "server.SubjectTransformConfig", err, n);
        s->tr_src[i] = p.src ? p.src : xstrdup("");
        s->tr_dest[i] = p.dest ? p.dest : xstrdup("");
        if (rc) return -1;
    }
    return 0;
}

typedef struct ext_pair {
    char *api, *deliver;
} ext_pair;

/* ExternalStream: decoded strictly and kept as Go re-encodes it (both fields always). */
static int dec_external(const json_t *v, void *f, const char *path, char *err, size_t n) {
    static const js_jfield ef[] = {
        {"api", JF_STRING, offsetof(ext_pair, api), 0, NULL},
        {"deliver", JF_STRING, offsetof(ext_pair, deliver), 0, NULL},
    };
    if (!json_is_object(v)) {
        js_json_type_error(v, path, "server.ExternalStream", err, n);
        return -1;
    }
    ext_pair p = {0};
    int rc = js_json_decode(v, ef, 2, &p, path, "server.ExternalStream", err, n);
    json_t **o = f;
    json_decref(*o);
    *o = json_object();
    json_object_set_new(*o, "api", json_string(p.api ? p.api : ""));
    json_object_set_new(*o, "deliver", json_string(p.deliver ? p.deliver : ""));
    free(p.api);
    free(p.deliver);
    return rc;
}

static int dec_rawobj(const json_t *v, void *f, const char *path, char *err, size_t n) {
    if (!json_is_object(v)) {
        js_json_type_error(v, path, "server.ExternalStream", err, n);
        return -1;
    }
    json_t **o = f;
    json_decref(*o);
    *o = json_deep_copy(v);
    return 0;
}

static const js_jfield source_fields[] = {
    {"name", JF_STRING, offsetof(js_source_cfg, name), 0, NULL},
    {"opt_start_seq", JF_UINT64, offsetof(js_source_cfg, opt_start_seq), 0, NULL},
    {"opt_start_time", JF_TIME, offsetof(js_source_cfg, opt_start_time),
     offsetof(js_source_cfg, has_start_time), NULL},
    {"filter_subject", JF_STRING, offsetof(js_source_cfg, filter), 0, NULL},
    {"subject_transforms", JF_CUSTOM, offsetof(js_source_cfg, tr_src), 0, dec_transforms},
    {"external", JF_CUSTOM, offsetof(js_source_cfg, external), 0, dec_external},
    {"consumer", JF_CUSTOM, offsetof(js_source_cfg, consumer), 0, dec_rawobj},
};

int js_source_cfg_decode(const json_t *v, js_source_cfg *s, const char *path, char *err,
                         size_t n) {
    memset(s, 0, sizeof *s);
    return js_json_decode(v, source_fields, sizeof source_fields / sizeof source_fields[0], s,
                          path, "server.StreamSource", err, n);
}

/* Go's StreamSource JSON (field order and omitempty as Go). */
json_t *js_source_cfg_json(const js_source_cfg *s) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name ? s->name : ""));
    if (s->opt_start_seq)
        json_object_set_new(o, "opt_start_seq", json_integer((json_int_t)s->opt_start_seq));
    if (s->has_start_time) json_object_set_new(o, "opt_start_time", js_time_json(s->opt_start_time));
    if (s->filter && s->filter[0]) json_object_set_new(o, "filter_subject", json_string(s->filter));
    if (s->ntr) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->ntr; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "src", json_string(s->tr_src[i]));
            json_object_set_new(t, "dest", json_string(s->tr_dest[i]));
            json_array_append_new(a, t);
        }
        json_object_set_new(o, "subject_transforms", a);
    }
    if (s->external) json_object_set(o, "external", s->external);
    if (s->consumer) json_object_set(o, "consumer", s->consumer);
    return o;
}

/* StreamConfig "mirror": decoded strictly and kept as Go re-encodes it. */
int js_cfg_dec_mirror(const json_t *v, void *f, const char *path, char *err, size_t n) {
    js_source_cfg s;
    int rc = js_source_cfg_decode(v, &s, path, err, n);
    if (rc == 0) {
        json_t **out = f;
        json_decref(*out);
        *out = js_source_cfg_json(&s);
    }
    js_source_cfg_free(&s);
    return rc;
}

/* StreamConfig "sources": []*StreamSource (null elements stay null, as Go's nil pointers). */
int js_cfg_dec_sources(const json_t *v, void *f, const char *path, char *err, size_t n) {
    if (!json_is_array(v)) {
        js_json_type_error(v, path, "[]*server.StreamSource", err, n);
        return -1;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (json_is_null(e)) {
            json_array_append_new(a, json_null());
            continue;
        }
        js_source_cfg s;
        if (js_source_cfg_decode(e, &s, path, err, n)) {
            js_source_cfg_free(&s);
            json_decref(a);
            return -1;
        }
        json_array_append_new(a, js_source_cfg_json(&s));
        js_source_cfg_free(&s);
    }
    json_t **out = f;
    json_decref(*out);
    *out = a;
    return 0;
}

/* Go composeIName ("<name>[:<hash of the external api>] <filters> <destinations>"; durable
 * consumer sources are refused before we get here). */
char *js_source_iname(const js_source_cfg *s) {
    size_t cap = strlen(s->name) + (s->filter ? strlen(s->filter) : 0) + 18;
    for (size_t i = 0; i < s->ntr; i++) cap += strlen(s->tr_src[i]) + strlen(s->tr_dest[i]) + 6;
    char *o = malloc(cap);
    if (!o) abort();
    size_t k = (size_t)sprintf(o, "%s", s->name);
    if (s->external) {
        const char *api = js_ext_api(s);
        char h[9];
        js_sys_hash(api ? api : "", h);
        k += (size_t)sprintf(o + k, ":%s", h);
    }
    o[k++] = ' ';
    o[k] = 0;
    if (s->ntr == 0) {
        k += (size_t)sprintf(o + k, "%s >", s->filter && s->filter[0] ? s->filter : ">");
    } else {
        for (size_t i = 0; i < s->ntr; i++)
            k += (size_t)sprintf(o + k, "%s%s", i ? "\f" : "", s->tr_src[i][0] ? s->tr_src[i] : ">");
        o[k++] = ' ';
        for (size_t i = 0; i < s->ntr; i++)
            k += (size_t)sprintf(o + k, "%s%s", i ? "\f" : "", s->tr_dest[i][0] ? s->tr_dest[i] : ">");
        o[k] = 0;
    }
    return o;
}

/* ---- checkStreamCfg ---------------------------------------------------------------- */

static bool valid_asset_name(const char *n) {
    return n && n[0] && strlen(n) <= JS_MAX_NAME_LEN && !strpbrk(n, " \t\r\n\f.*>\\/");
}

static bool collides(const char *a, const char *b) {
    return nx_subject_collide(a, strlen(a), b, strlen(b));
}

static bool valid_subject(const char *s) { return nx_subject_valid(s, strlen(s)); }

static char *fmt_bad(const char *s) {
    char *o = NULL;
    if (asprintf(&o, "invalid subject %s", s) < 0) abort();
    return o;
}

/* Transforms of one mirror/source: invalid source, invalid destination. */
static int check_transforms(const js_source_cfg *s, int bad_filter, int bad_dest, char **arg) {
    for (size_t i = 0; i < s->ntr; i++) {
        if (s->tr_src[i][0] && !valid_subject(s->tr_src[i])) {
            *arg = fmt_bad(s->tr_src[i]);
            return bad_filter;
        }
        char e[256];
        if (nx_transform_validate_mapping(s->tr_src[i], s->tr_dest[i], e, sizeof e)) {
            *arg = xstrdup(e);
            return bad_dest;
        }
    }
    return 0;
}

typedef struct visit {
    const js_stream_cfg **v;
    size_t n, cap;
    char **seen;
    size_t nseen, seen_cap;
} visit;

static bool seen(visit *w, const char *name) {
    for (size_t i = 0; i < w->nseen; i++)
        if (!strcmp(w->seen[i], name)) return true;
    return false;
}

static void push(visit *w, const js_stream_cfg *c) {
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->v = realloc(w->v, w->cap * sizeof *w->v);
        if (!w->v) abort();
    }
    w->v[w->n++] = c;
}

/* Go's cycle check for source cycles (and cycles hiding behind mirrors). */
static bool has_cycle(js_account *acc, const js_stream_cfg *top) {
    visit w = {0};
    push(&w, top);
    bool cycle = false;
    for (size_t at = 0; at < w.n && !cycle; at++) {
        const js_stream_cfg *c = w.v[at];
        if (w.nseen == w.seen_cap) {
            w.seen_cap = w.seen_cap ? w.seen_cap * 2 : 8;
            w.seen = realloc(w.seen, w.seen_cap * sizeof(char *));
            if (!w.seen) abort();
        }
        w.seen[w.nseen++] = c->name;
        for (size_t i = 0; !cycle && i < json_array_size(c->sources); i++) {
            json_t *e = json_array_get(c->sources, i);
            const char *nm = json_string_value(json_object_get(e, "name"));
            if (!nm || json_object_get(e, "external")) continue;
            if (seen(&w, nm)) {
                const char *f = json_string_value(json_object_get(e, "filter_subject"));
                bool ov = !f || !f[0];
                for (size_t k = 0; !ov && k < c->nsubjects; k++) ov = collides(c->subjects[k], f);
                if (ov) cycle = true;
            } else {
                js_stream *o = js_account_stream(acc, nm);
                if (o) push(&w, &o->cfg);
            }
        }
        if (!cycle && c->mirror && !json_object_get(c->mirror, "external")) {
            const char *nm = json_string_value(json_object_get(c->mirror, "name"));
            if (nm && seen(&w, nm)) cycle = true;
            else if (nm) {
                js_stream *o = js_account_stream(acc, nm);
                if (o) push(&w, &o->cfg);
            }
        }
    }
    free(w.v);
    free(w.seen);
    return cycle;
}

/* What Go's checkStreamCfg gathers for the external prefix checks (strings borrowed). */
typedef struct pfx_list {
    char **del, **api, **subs;
    size_t ndel, napi, nsubs;
} pfx_list;

static void pfx_push(char ***v, size_t *n, const char *s) {
    *v = realloc(*v, (*n + 1) * sizeof **v);
    if (!*v) abort();
    (*v)[(*n)++] = xstrdup(s);
}

static void pfx_add(pfx_list *pf, const char *deliver, const char *api) {
    if (deliver && deliver[0]) pfx_push(&pf->del, &pf->ndel, deliver);
    if (api && api[0]) pfx_push(&pf->api, &pf->napi, api);
}

static void pfx_subs(pfx_list *pf, const js_stream *o) {
    for (size_t i = 0; i < o->cfg.nsubjects; i++)
        pfx_push(&pf->subs, &pf->nsubs, o->cfg.subjects[i]);
}

static void pfx_free(pfx_list *pf) {
    for (size_t i = 0; i < pf->ndel; i++) free(pf->del[i]);
    for (size_t i = 0; i < pf->napi; i++) free(pf->api[i]);
    for (size_t i = 0; i < pf->nsubs; i++) free(pf->subs[i]);
    free(pf->del);
    free(pf->api);
    free(pf->subs);
}

static int check_mirror(js_account *acc, js_stream_cfg *c, bool pedantic, pfx_list *pf,
                        char **arg) {
    if (c->first_seq > 0) return JSMirrorWithFirstSeqErr;
    if (c->nsubjects > 0) return JSMirrorWithSubjectsErr;
    if (c->sources && json_array_size(c->sources)) return JSMirrorWithSourcesErr;
    if (c->allow_msg_counter) return JSMirrorWithCountersErr;
    if (c->allow_atomic) return JSMirrorWithAtomicPublishErr;
    if (c->allow_batched) return JSMirrorWithBatchPublishErr;
    if (c->allow_msg_schedules) return JSMirrorWithMsgSchedulesErr;
    js_source_cfg s;
    char err[256];
    js_source_cfg_decode(c->mirror, &s, "StreamConfig.mirror", err, sizeof err);
    int rc = 0;
    if (s.consumer) {
        rc = JSMirrorDurableConsumerCfgInvalid;
        goto out;
    }
    if (s.filter && s.filter[0] && s.ntr) {
        rc = JSMirrorMultipleFiltersNotAllowed;
        goto out;
    }
    if (c->sdm_ttl > 0) {
        *arg = xstrdup("subject delete markers forbidden on mirrors");
        rc = JSStreamInvalidConfigF;
        goto out;
    }
    if ((rc = check_transforms(&s, JSMirrorInvalidSubjectFilter, JSMirrorInvalidTransformDestination,
                               arg)))
        goto out;
    for (size_t i = 0; i < s.ntr; i++)
        for (size_t j = 0; j < s.ntr; j++)
            if (i != j && collides(s.tr_src[i][0] ? s.tr_src[i] : ">", s.tr_src[j][0] ? s.tr_src[j] : ">")) {
                rc = JSMirrorOverlappingSubjectFilters;
                goto out;
            }
    if (s.external) {
        /* Go: no name or origin checks (the origin is elsewhere); the prefixes are checked
         * with the sources'. */
        pfx_add(pf, js_ext_deliver(&s), js_ext_api(&s));
        goto filter;
    }
    if (!valid_asset_name(s.name)) {
        rc = JSMirrorInvalidStreamName;
        goto out;
    }
    js_stream *o = js_account_stream(acc, s.name);
    if (o) {
        pfx_subs(pf, o);
        if (c->max_msg_size > 0 && o->cfg.max_msg_size > 0 && c->max_msg_size < o->cfg.max_msg_size) {
            rc = JSMirrorMaxMessageSizeTooBigErr;
            goto out;
        }
        if (pedantic && c->mirror_direct != o->cfg.allow_direct) {
            *arg = xstrdup("origin stream has direct get set, mirror has it disabled");
            rc = JSPedanticErrF;
            goto out;
        }
        c->mirror_direct = o->cfg.allow_direct;
    }
filter:
    /* Go addStream re-checks the filter subject of the mirror. */
    if (!s.ntr && s.filter && s.filter[0] && !valid_subject(s.filter)) {
        if (asprintf(arg, "subject filter '%s' for the mirror invalid subject", s.filter) < 0) abort();
        rc = JSStreamCreateErrF;
    }
out:
    js_source_cfg_free(&s);
    return rc;
}

static int check_sources(js_account *acc, js_stream_cfg *c, pfx_list *pf, char **arg) {
    size_t n = json_array_size(c->sources);
    if (n && c->allow_msg_schedules) return JSSourceWithMsgSchedulesErr;
    char **inames = calloc(n + 1, sizeof(char *));
    if (!inames) abort();
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *e = json_array_get(c->sources, i);
        js_source_cfg s;
        char err[256];
        if (json_is_null(e)) {
            rc = JSSourceInvalidStreamName;
            break;
        }
        js_source_cfg_decode(e, &s, "StreamConfig.sources", err, sizeof err);
        if (!valid_asset_name(s.name)) {
            rc = JSSourceInvalidStreamName;
        } else {
            inames[i] = js_source_iname(&s);
            for (size_t j = 0; j < i && !rc; j++)
                if (!strcmp(inames[j], inames[i])) rc = JSSourceDuplicateDetected;
        }
        if (!rc && s.filter && s.filter[0] && s.ntr) rc = JSSourceMultipleFiltersNotAllowed;
        if (!rc)
            rc = check_transforms(&s, JSSourceInvalidSubjectFilter, JSSourceInvalidTransformDestination, arg);
        for (size_t a = 0; !rc && a < s.ntr; a++)
            for (size_t b = 0; !rc && b < s.ntr; b++) {
                const char *x = s.tr_src[a][0] ? s.tr_src[a] : ">", *y = s.tr_src[b][0] ? s.tr_src[b] : ">";
                if (a != b && nx_subject_subset_match(x, strlen(x), y, strlen(y)))
                    rc = JSSourceOverlappingSubjectFilters;
            }
        if (!rc && s.consumer) rc = JSSourceDurableConsumerCfgInvalid;
        if (!rc && s.external) {
            pfx_add(pf, js_ext_deliver(&s), js_ext_api(&s));
        } else if (!rc) {
            js_stream *o = js_account_stream(acc, s.name);
            if (o) pfx_subs(pf, o);
            if (o && c->max_msg_size > 0 && o->cfg.max_msg_size > 0 &&
                c->max_msg_size < o->cfg.max_msg_size)
                rc = JSSourceMaxMessageSizeTooBigErr;
        }
        js_source_cfg_free(&s);
    }
    for (size_t i = 0; i < n; i++) free(inames[i]);
    free(inames);
    return rc;
}

/* Go: the external deliver prefixes are publish subjects not overlapping the subjects of
 * the (local) origins, the external API prefixes are publish subjects apart from $JS.API.
 * Two-placeholder errors pass their arguments separated by JS_ERR_ARG_SEP. */
static int check_prefixes(const pfx_list *pf, char **arg) {
    for (size_t i = 0; i < pf->ndel; i++) {
        const char *p = pf->del[i];
        if (!nx_subject_valid_publish(p, strlen(p))) {
            *arg = xstrdup(p);
            return JSStreamInvalidExternalDeliverySubjErrF;
        }
        for (size_t k = 0; k < pf->nsubs; k++) {
            char *ps = NULL;
            if (asprintf(&ps, "%s.%s", p, pf->subs[k]) < 0) abort();
            bool bad = collides(pf->subs[k], ps);
            free(ps);
            if (bad) {
                if (asprintf(arg, "%s%c%s", p, JS_ERR_ARG_SEP, pf->subs[k]) < 0) abort();
                return JSStreamExternalDelPrefixOverlapsErrF;
            }
        }
    }
    for (size_t i = 0; i < pf->napi; i++) {
        const char *p = pf->api[i];
        if (!nx_subject_valid_publish(p, strlen(p))) {
            if (asprintf(arg,
                         "stream external api prefix \"%s\" must be a valid subject without "
                         "wildcards",
                         p) < 0)
                abort();
            return JSStreamInvalidConfigF;
        }
        if (collides(p, "$JS.API")) {
            if (asprintf(arg, "%s%c%s", p, JS_ERR_ARG_SEP, "$JS.API") < 0) abort();
            return JSStreamExternalApiOverlapErrF;
        }
    }
    return 0;
}

int js_mirror_cfg_check(js_account *acc, js_stream_cfg *c, bool pedantic, char **arg) {
    int rc = 0;
    pfx_list pf = {0};
    if (c->mirror) rc = check_mirror(acc, c, pedantic, &pf, arg);
    if (!rc && c->sources) rc = check_sources(acc, c, &pf, arg);
    if (!rc) rc = check_prefixes(&pf, arg);
    pfx_free(&pf);
    if (rc) return rc;
    if ((c->mirror || json_array_size(c->sources)) && has_cycle(acc, c)) {
        *arg = xstrdup("detected cycle");
        return JSStreamInvalidConfigF;
    }
    return 0;
}
