/* Consumer configuration: Go's ConsumerConfig JSON (decode/encode with Go's omitempty rules),
 * setConsumerConfigDefaults, checkConsumerCfg, static/dynamic metadata, and the time and
 * duration formats Go's encoding/json and time.Duration.String() produce.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go (ConsumerConfig, setConsumerConfigDefaults,
 * checkConsumerCfg), server/store.go (policy JSON strings) and
 * server/jetstream_versioning.go (consumer metadata).
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/subject.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_consumer_int.h"

#define JS_MAX_DESCRIPTION_LEN (4 * 1024)
#define JS_MAX_METADATA_LEN (128 * 1024)
#define JS_WAIT_QUEUE_DEFAULT_MAX 512
#define JS_ACK_WAIT_DEFAULT (30 * JSC_NS_S)
#define JS_DEFAULT_MAX_ACK_PENDING 1000
#define JS_DEFAULT_PINNED_TTL (120 * JSC_NS_S)
#define JS_SOURCE_HEALTH_HB JSC_NS_S

char *jsc_strdup(const char *s) {
    return (s && *s) ? strdup(s) : NULL;
}
char *jsc_strndup(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (!r) abort();
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

static void strv_free(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}
static char **strv_copy(char *const *v, size_t n) {
    if (!n) return NULL;
    char **r = calloc(n, sizeof *r);
    if (!r) abort();
    for (size_t i = 0; i < n; i++) r[i] = strdup(v[i] ? v[i] : "");
    return r;
}

void jsc_config_free(jsc_config *c) {
    free(c->durable);
    free(c->name);
    free(c->description);
    free(c->backoff);
    free(c->filter_subject);
    strv_free(c->filter_subjects, c->nfilter_subjects);
    free(c->sample_freq);
    free(c->deliver_subject);
    free(c->deliver_group);
    if (c->metadata) json_decref(c->metadata);
    strv_free(c->priority_groups, c->npriority_groups);
    memset(c, 0, sizeof *c);
}

void jsc_config_copy(jsc_config *d, const jsc_config *s) {
    *d = *s;
    d->durable = jsc_strdup(s->durable);
    d->name = jsc_strdup(s->name);
    d->description = jsc_strdup(s->description);
    d->backoff = NULL;
    if (s->nbackoff) {
        d->backoff = malloc(s->nbackoff * sizeof(int64_t));
        if (!d->backoff) abort();
        memcpy(d->backoff, s->backoff, s->nbackoff * sizeof(int64_t));
    }
    d->filter_subject = jsc_strdup(s->filter_subject);
    d->filter_subjects = strv_copy(s->filter_subjects, s->nfilter_subjects);
    d->sample_freq = jsc_strdup(s->sample_freq);
    d->deliver_subject = jsc_strdup(s->deliver_subject);
    d->deliver_group = jsc_strdup(s->deliver_group);
    d->metadata = s->metadata ? json_deep_copy(s->metadata) : NULL;
    d->priority_groups = strv_copy(s->priority_groups, s->npriority_groups);
}

/* --- time ------------------------------------------------------------------------------ */

void jsc_fmt_time(int64_t ns, char *buf, size_t cap) {
    if (ns == 0) {
        snprintf(buf, cap, "0001-01-01T00:00:00Z");
        return;
    }
    int64_t s = ns / JSC_NS_S, frac = ns % JSC_NS_S;
    if (frac < 0) {
        frac += JSC_NS_S;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, ".%09" PRId64, frac);
        size_t l = strlen(f);
        while (l > 1 && f[l - 1] == '0') f[--l] = 0;
        snprintf(buf + n, cap - n, "%sZ", f);
    } else {
        snprintf(buf + n, cap - n, "Z");
    }
}

int jsc_parse_time(const char *s, int64_t *out) {
    int Y, M, D, h, m, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 9) frac = frac * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (!digits) return -1;
        for (; digits < 9; digits++) frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    if (Y == 1 && M == 1 && D == 1 && h == 0 && m == 0 && sec == 0 && frac == 0 && off == 0) {
        *out = 0;
        return 0;
    }
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
                    .tm_min = m, .tm_sec = sec};
    int64_t secs = (int64_t)timegm(&tm) - off;
    *out = secs * JSC_NS_S + frac;
    return 0;
}

/* Go time.Duration.String(). */
static size_t fmt_frac(char *buf, size_t w, uint64_t v, int prec, uint64_t *nv) {
    bool print = false;
    for (int i = 0; i < prec; i++) {
        int digit = (int)(v % 10);
        print = print || digit != 0;
        if (print) {
            buf[--w] = (char)('0' + digit);
        }
        v /= 10;
    }
    if (print) buf[--w] = '.';
    *nv = v;
    return w;
}
static size_t fmt_int(char *buf, size_t w, uint64_t v) {
    if (v == 0) {
        buf[--w] = '0';
    } else {
        while (v > 0) {
            buf[--w] = (char)('0' + v % 10);
            v /= 10;
        }
    }
    return w;
}
void jsc_fmt_duration(int64_t d, char *out, size_t cap) {
    char buf[32];
    size_t w = sizeof buf;
    uint64_t u = (uint64_t)d;
    bool neg = d < 0;
    if (neg) u = -u;
    if (u < (uint64_t)JSC_NS_S) {
        int prec = 0;
        w--;
        buf[w] = 's';
        w--;
        if (u == 0) {
            snprintf(out, cap, "0s");
            return;
        } else if (u < 1000) {
            prec = 0;
            buf[w] = 'n';
        } else if (u < 1000000) {
            prec = 3;
            /* U+00B5 'µ' */
            w--;
            memcpy(&buf[w], "\xc2\xb5", 2);
        } else {
            prec = 6;
            buf[w] = 'm';
        }
        w = fmt_frac(buf, w, u, prec, &u);
        w = fmt_int(buf, w, u);
    } else {
        w--;
        buf[w] = 's';
        w = fmt_frac(buf, w, u, 9, &u);
        w = fmt_int(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            w--;
            buf[w] = 'm';
            w = fmt_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                w--;
                buf[w] = 'h';
                w = fmt_int(buf, w, u);
            }
        }
    }
    if (neg) buf[--w] = '-';
    snprintf(out, cap, "%.*s", (int)(sizeof buf - w), buf + w);
}

/* --- policies -------------------------------------------------------------------------- */

static const char *const deliver_names[] = {"all", "last", "new", "by_start_sequence",
                                            "by_start_time", "last_per_subject"};
const char *jsc_ack_policy_str(sd_ack_policy p) {
    switch (p) {
    case SD_ACK_NONE: return "none";
    case SD_ACK_ALL: return "all";
    case SD_ACK_FLOW_CONTROL: return "flow_control";
    default: return "explicit";
    }
}
static const char *const prio_names[] = {"none", "overflow", "pinned_client", "prioritized"};

/* --- decode ---------------------------------------------------------------------------- */

/* Custom decoders (Go's UnmarshalJSON of the policy types, []time.Duration, map[string]string);
 * errors as encoding/json reports them. */
static int dec_enum(const json_t *v, int *out, const char *const *names, size_t nn, const char *path,
                    const char *gotype, char *err, size_t errlen) {
    if (json_is_string(v)) {
        for (size_t i = 0; i < nn; i++)
            if (names[i] && !strcmp(json_string_value(v), names[i])) {
                *out = (int)i;
                return 0;
            }
        char *q = json_dumps(v, JSON_ENCODE_ANY);
        /* Go: fmt.Errorf("can not unmarshal %q", data) */
        size_t n = 0;
        char buf[300];
        for (const char *p = q; p && *p && n + 3 < sizeof buf; p++) {
            if (*p == '"' || *p == '\\') buf[n++] = '\\';
            buf[n++] = *p;
        }
        buf[n] = 0;
        snprintf(err, errlen, "can not unmarshal \"%s\"", buf);
        free(q);
        return -1;
    }
    js_json_type_error(v, path, gotype, err, errlen);
    return -1;
}
static const char *const deliver_in[] = {"all", "last", "new", "by_start_sequence", "by_start_time",
                                         "last_per_subject"};
static int dec_deliver(const json_t *v, void *f, const char *path, char *err, size_t el) {
    if (json_is_string(v) && !strcmp(json_string_value(v), "undefined")) {
        *(int *)f = 0;
        return 0;
    }
    return dec_enum(v, f, deliver_in, 6, path, "server.DeliverPolicy", err, el);
}
static int dec_ack(const json_t *v, void *f, const char *path, char *err, size_t el) {
    static const char *const n[] = {"none", "all", "explicit", "flow_control"};
    int x = 0;
    if (dec_enum(v, &x, n, 4, path, "server.AckPolicy", err, el)) return -1;
    *(sd_ack_policy *)f = (sd_ack_policy)x;
    return 0;
}
static int dec_replay(const json_t *v, void *f, const char *path, char *err, size_t el) {
    static const char *const n[] = {"instant", "original"};
    return dec_enum(v, f, n, 2, path, "server.ReplayPolicy", err, el);
}
static int dec_prio(const json_t *v, void *f, const char *path, char *err, size_t el) {
    static const char *const n[] = {"none", "overflow", "pinned_client", "prioritized"};
    if (json_is_string(v)) {
        for (int i = 0; i < 4; i++)
            if (!strcmp(json_string_value(v), n[i])) {
                *(int *)f = i;
                return 0;
            }
        snprintf(err, el, "unknown priority policy: \"%s\"", json_string_value(v));
        return -1;
    }
    js_json_type_error(v, path, "server.PriorityPolicy", err, el);
    return -1;
}
static int dec_backoff(const json_t *v, void *f, const char *path, char *err, size_t el) {
    jsc_config *c = (jsc_config *)((char *)f - offsetof(jsc_config, backoff));
    if (!json_is_array(v)) {
        js_json_type_error(v, path, "[]time.Duration", err, el);
        return -1;
    }
    free(c->backoff);
    c->backoff = NULL;
    c->nbackoff = json_array_size(v);
    if (!c->nbackoff) return 0;
    c->backoff = calloc(c->nbackoff, sizeof(int64_t));
    if (!c->backoff) abort();
    for (size_t i = 0; i < c->nbackoff; i++) {
        json_t *e = json_array_get(v, i);
        if (json_is_null(e)) continue;
        if (!json_is_integer(e)) {
            js_json_type_error(e, path, "time.Duration", err, el);
            return -1;
        }
        c->backoff[i] = json_integer_value(e);
    }
    return 0;
}
static int dec_metadata(const json_t *v, void *f, const char *path, char *err, size_t el) {
    if (!json_is_object(v)) {
        js_json_type_error(v, path, "map[string]string", err, el);
        return -1;
    }
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        if (!json_is_string(e) && !json_is_null(e)) {
            js_json_type_error(e, path, "string", err, el);
            return -1;
        }
    }
    json_t **m = f;
    if (*m) json_decref(*m);
    *m = json_object();
    json_object_foreach((json_t *)v, k, e) {
        json_object_set_new(*m, k, json_string(json_is_string(e) ? json_string_value(e) : ""));
    }
    return 0;
}
static int dec_duration(const json_t *v, void *f, const char *path, char *err, size_t el) {
    if (!json_is_integer(v)) {
        js_json_type_error(v, path, "time.Duration", err, el);
        return -1;
    }
    *(int64_t *)f = json_integer_value(v);
    return 0;
}

#define CF(x) offsetof(jsc_config, x)
static const js_jfield cfg_fields[] = {
    {"durable_name", JF_STRING, CF(durable), 0, NULL},
    {"name", JF_STRING, CF(name), 0, NULL},
    {"description", JF_STRING, CF(description), 0, NULL},
    {"deliver_policy", JF_CUSTOM, CF(deliver_policy), 0, dec_deliver},
    {"opt_start_seq", JF_UINT64, CF(opt_start_seq), 0, NULL},
    {"opt_start_time", JF_TIME, CF(opt_start_time), CF(has_opt_start_time), NULL},
    {"ack_policy", JF_CUSTOM, CF(ack_policy), 0, dec_ack},
    {"ack_wait", JF_CUSTOM, CF(ack_wait), 0, dec_duration},
    {"max_deliver", JF_INT, CF(max_deliver), 0, NULL},
    {"backoff", JF_CUSTOM, CF(backoff), 0, dec_backoff},
    {"filter_subject", JF_STRING, CF(filter_subject), 0, NULL},
    {"filter_subjects", JF_STRINGS, CF(filter_subjects), CF(nfilter_subjects), NULL},
    {"replay_policy", JF_CUSTOM, CF(replay_policy), 0, dec_replay},
    {"rate_limit_bps", JF_UINT64, CF(rate_limit), 0, NULL},
    {"sample_freq", JF_STRING, CF(sample_freq), 0, NULL},
    {"max_waiting", JF_INT, CF(max_waiting), 0, NULL},
    {"max_ack_pending", JF_INT, CF(max_ack_pending), 0, NULL},
    {"flow_control", JF_BOOL, CF(flow_control), 0, NULL},
    {"headers_only", JF_BOOL, CF(headers_only), 0, NULL},
    {"max_batch", JF_INT, CF(max_batch), 0, NULL},
    {"max_expires", JF_CUSTOM, CF(max_expires), 0, dec_duration},
    {"max_bytes", JF_INT, CF(max_bytes), 0, NULL},
    {"deliver_subject", JF_STRING, CF(deliver_subject), 0, NULL},
    {"deliver_group", JF_STRING, CF(deliver_group), 0, NULL},
    {"idle_heartbeat", JF_CUSTOM, CF(heartbeat), 0, dec_duration},
    {"inactive_threshold", JF_CUSTOM, CF(inactive_threshold), 0, dec_duration},
    {"num_replicas", JF_INT, CF(replicas), 0, NULL},
    {"mem_storage", JF_BOOL, CF(mem_storage), 0, NULL},
    {"direct", JF_BOOL, CF(direct), 0, NULL},
    {"sourcing", JF_BOOL, CF(sourcing), 0, NULL},
    {"metadata", JF_CUSTOM, CF(metadata), 0, dec_metadata},
    {"pause_until", JF_TIME, CF(pause_until), CF(has_pause_until), NULL},
    {"priority_groups", JF_STRINGS, CF(priority_groups), CF(npriority_groups), NULL},
    {"priority_policy", JF_CUSTOM, CF(priority_policy), 0, dec_prio},
    {"priority_timeout", JF_CUSTOM, CF(pinned_ttl), 0, dec_duration},
};

static void empty_to_null(char **s) {
    if (*s && !**s) {
        free(*s);
        *s = NULL;
    }
}

int jsc_config_parse(const json_t *j, jsc_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (!j || json_is_null(j)) return 0;
    if (js_json_decode(j, cfg_fields, sizeof cfg_fields / sizeof cfg_fields[0], c, "CreateConsumerRequest.config",
                       "server.ConsumerConfig", err, errlen)) {
        jsc_config_free(c);
        return -1;
    }
    empty_to_null(&c->durable);
    empty_to_null(&c->name);
    empty_to_null(&c->description);
    empty_to_null(&c->filter_subject);
    empty_to_null(&c->sample_freq);
    empty_to_null(&c->deliver_subject);
    empty_to_null(&c->deliver_group);
    c->filter_subjects_set = c->nfilter_subjects > 0;
    return 0;
}

/* --- encode ---------------------------------------------------------------------------- */

static void put_str(json_t *o, const char *k, const char *v) {
    if (v && *v) json_object_set_new(o, k, json_string(v));
}
static void put_int(json_t *o, const char *k, int64_t v) {
    if (v) json_object_set_new(o, k, json_integer(v));
}
static void put_time(json_t *o, const char *k, int64_t ns) {
    char b[64];
    jsc_fmt_time(ns, b, sizeof b);
    json_object_set_new(o, k, json_string(b));
}
static void put_strv(json_t *o, const char *k, char *const *v, size_t n) {
    if (!n) return;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    json_object_set_new(o, k, a);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *jsc_config_json(const jsc_config *c, bool dynamic) {
    json_t *o = json_object();
    put_str(o, "durable_name", c->durable);
    put_str(o, "name", c->name);
    put_str(o, "description", c->description);
    json_object_set_new(o, "deliver_policy",
                        json_string(c->deliver_policy >= 0 && c->deliver_policy < 6
                                        ? deliver_names[c->deliver_policy]
                                        : "undefined"));
    put_int(o, "opt_start_seq", (int64_t)c->opt_start_seq);
    if (c->has_opt_start_time) put_time(o, "opt_start_time", c->opt_start_time);
    json_object_set_new(o, "ack_policy", json_string(jsc_ack_policy_str(c->ack_policy)));
    put_int(o, "ack_wait", c->ack_wait);
    put_int(o, "max_deliver", c->max_deliver);
    if (c->nbackoff) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nbackoff; i++) json_array_append_new(a, json_integer(c->backoff[i]));
        json_object_set_new(o, "backoff", a);
    }
    put_str(o, "filter_subject", c->filter_subject);
    put_strv(o, "filter_subjects", c->filter_subjects, c->nfilter_subjects);
    json_object_set_new(o, "replay_policy",
                        json_string(c->replay_policy == JSC_REPLAY_INSTANT ? "instant" : "original"));
    put_int(o, "rate_limit_bps", (int64_t)c->rate_limit);
    put_str(o, "sample_freq", c->sample_freq);
    put_int(o, "max_waiting", c->max_waiting);
    put_int(o, "max_ack_pending", c->max_ack_pending);
    if (c->flow_control) json_object_set_new(o, "flow_control", json_true());
    if (c->headers_only) json_object_set_new(o, "headers_only", json_true());
    put_int(o, "max_batch", c->max_batch);
    put_int(o, "max_expires", c->max_expires);
    put_int(o, "max_bytes", c->max_bytes);
    put_str(o, "deliver_subject", c->deliver_subject);
    put_str(o, "deliver_group", c->deliver_group);
    put_int(o, "idle_heartbeat", c->heartbeat);
    put_int(o, "inactive_threshold", c->inactive_threshold);
    json_object_set_new(o, "num_replicas", json_integer(c->replicas));
    if (c->mem_storage) json_object_set_new(o, "mem_storage", json_true());
    if (c->direct) json_object_set_new(o, "direct", json_true());
    if (c->sourcing) json_object_set_new(o, "sourcing", json_true());
    json_t *md = c->metadata ? json_deep_copy(c->metadata) : NULL;
    if (dynamic) {
        if (!md) md = json_object();
        json_object_set_new(md, "_nats.ver", json_string("2.14.5"));
        json_object_set_new(md, "_nats.level", json_string("4"));
    }
    if (md && json_object_size(md)) {
        /* Go marshals map[string]string with its keys sorted. */
        size_t n = json_object_size(md), i = 0;
        const char **keys = malloc(n * sizeof *keys);
        if (!keys) abort();
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v) {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof *keys, cmp_str);
        json_t *sorted = json_object();
        for (i = 0; i < n; i++) json_object_set(sorted, keys[i], json_object_get(md, keys[i]));
        free(keys);
        json_decref(md);
        json_object_set_new(o, "metadata", sorted);
    } else if (md) {
        json_decref(md);
    }
    if (c->has_pause_until) put_time(o, "pause_until", c->pause_until);
    put_strv(o, "priority_groups", c->priority_groups, c->npriority_groups);
    if (c->priority_policy) json_object_set_new(o, "priority_policy", json_string(prio_names[c->priority_policy]));
    put_int(o, "priority_timeout", c->pinned_ttl);
    return o;
}

bool jsc_config_equal(const jsc_config *a, const jsc_config *b) {
    json_t *ja = jsc_config_json(a, false), *jb = jsc_config_json(b, false);
    bool eq = json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}

void jsc_set_static_metadata(jsc_config *c) {
    if (!c->metadata) c->metadata = json_object();
    json_object_del(c->metadata, "_nats.ver");
    json_object_del(c->metadata, "_nats.level");
    int level = 0;
    if (c->has_pause_until && c->pause_until != 0) level = 1;
    if (c->priority_policy != JSC_PRIO_NONE || c->pinned_ttl != 0 || c->npriority_groups) level = 1;
    if (c->ack_policy == SD_ACK_FLOW_CONTROL) level = 4;
    char b[8];
    snprintf(b, sizeof b, "%d", level);
    json_object_set_new(c->metadata, "_nats.req.level", json_string(b));
}

/* --- defaults and checks ----------------------------------------------------------------- */

bool jsc_valid_asset_name(const char *s) {
    return s && *s && !strpbrk(s, " \t\r\n\f.*>\\/");
}

static int64_t stream_limit(js_stream *st, const char *k) {
    const json_t *cfg = js_stream_config_json(st);
    json_t *cl = cfg ? json_object_get(cfg, "consumer_limits") : NULL;
    json_t *v = cl ? json_object_get(cl, k) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int pedantic_err(char **arg, const char *msg) {
    *arg = strdup(msg);
    return 10157;
}

int jsc_config_defaults(jsc_config *c, js_stream *st, bool pedantic, char **arg) {
    if (c->max_deliver == 0 || c->max_deliver < -1) {
        if (pedantic && c->max_deliver < -1) return pedantic_err(arg, "max_deliver must be set to -1");
        c->max_deliver = -1;
    }
    if (c->max_waiting < 0) {
        if (pedantic) return pedantic_err(arg, "max_waiting must not be negative");
        c->max_waiting = 0;
    }
    if (c->max_ack_pending < -1) {
        if (pedantic) return pedantic_err(arg, "max_ack_pending must be set to -1");
        c->max_ack_pending = -1;
    }
    if (c->max_batch < 0) {
        if (pedantic) return pedantic_err(arg, "max_batch must not be negative");
        c->max_batch = 0;
    }
    if (c->max_expires < 0) {
        if (pedantic) return pedantic_err(arg, "max_expires must not be negative");
        c->max_expires = 0;
    }
    if (c->max_bytes < 0) {
        if (pedantic) return pedantic_err(arg, "max_bytes must not be negative");
        c->max_bytes = 0;
    }
    if (c->heartbeat < 0) {
        if (pedantic) return pedantic_err(arg, "idle_heartbeat must not be negative");
        c->heartbeat = 0;
    }
    if (c->inactive_threshold < 0) {
        if (pedantic) return pedantic_err(arg, "inactive_threshold must not be negative");
        c->inactive_threshold = 0;
    }
    if (c->pinned_ttl < 0) {
        if (pedantic) return pedantic_err(arg, "priority_timeout must not be negative");
        c->pinned_ttl = 0;
    }
    if (!c->deliver_subject && c->max_waiting == 0) c->max_waiting = JS_WAIT_QUEUE_DEFAULT_MAX;
    if (c->ack_wait == 0 && (c->ack_policy == SD_ACK_EXPLICIT || c->ack_policy == SD_ACK_ALL))
        c->ack_wait = JS_ACK_WAIT_DEFAULT;
    if (c->nbackoff) {
        if (pedantic && c->ack_wait != c->backoff[0])
            return pedantic_err(arg, "first backoff value has to equal batch AckWait");
        c->ack_wait = c->backoff[0];
    }
    int64_t lmap = stream_limit(st, "max_ack_pending"), lit = stream_limit(st, "inactive_threshold");
    if (c->max_ack_pending == 0) {
        if (pedantic && lmap > 0)
            return pedantic_err(arg, "max_ack_pending must be set if it's configured in stream limits");
        c->max_ack_pending = lmap;
    }
    if (c->inactive_threshold == 0) {
        if (pedantic && lit > 0)
            return pedantic_err(arg, "inactive_threshold must be set if it's configured in stream limits");
        c->inactive_threshold = lit;
    }
    if (c->max_ack_pending == 0 && c->ack_policy != SD_ACK_NONE) {
        /* Go: the default, lowered by the account's max_ack_pending */
        int64_t amap = js_account_limits_of(js_stream_account(st))->max_ack_pending;
        c->max_ack_pending = amap > 0 && amap < JS_DEFAULT_MAX_ACK_PENDING
                                 ? amap
                                 : JS_DEFAULT_MAX_ACK_PENDING;
    }
    if (c->priority_policy == JSC_PRIO_PINNED && c->pinned_ttl == 0) c->pinned_ttl = JS_DEFAULT_PINNED_TTL;
    if (c->ack_policy == SD_ACK_FLOW_CONTROL && !pedantic) {
        c->flow_control = true;
        c->heartbeat = JS_SOURCE_HEALTH_HB;
    }
    return 0;
}

static bool valid_group_name(const char *g) {
    size_t n = strlen(g);
    if (n < 1 || n > 16) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = g[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '=' || ch == '-'))
            return false;
    }
    return true;
}

static bool delivery_forms_cycle(js_stream *st, const char *dsubj) {
    const json_t *cfg = js_stream_config_json(st);
    json_t *subs = cfg ? json_object_get(cfg, "subjects") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(subs, i, v) {
        const char *s = json_string_value(v);
        if (s && nx_subject_subset_match(dsubj, strlen(dsubj), s, strlen(s))) return true;
    }
    return false;
}

#define ERR(code) return (code)
#define ERRA(code, ...)                                                                           \
    do {                                                                                          \
        char _b[256];                                                                             \
        snprintf(_b, sizeof _b, __VA_ARGS__);                                                     \
        *arg = strdup(_b);                                                                        \
        return (code);                                                                            \
    } while (0)

int jsc_config_check(jsc_config *c, js_stream *st, bool recovering, char **arg) {
    const json_t *scfg = js_stream_config_json(st);
    json_t *rv = scfg ? json_object_get(scfg, "num_replicas") : NULL;
    int64_t sreplicas = json_is_integer(rv) ? json_integer_value(rv) : 1;
    if (sreplicas <= 0) sreplicas = 1;
    sd_retention_policy ret = js_stream_retention(st);

    if (c->name && !jsc_valid_asset_name(c->name))
        ERRA(10052, "consumer name can not contain '.', '*', '>', '\\', '/'");
    if (c->durable && !jsc_valid_asset_name(c->durable))
        ERRA(10052, "consumer durable name can not contain '.', '*', '>', '\\', '/'");
    if (c->replicas > 0 && c->replicas > sreplicas) ERR(10126);
    if (c->replicas < 0) ERR(10133);
    if ((ret == SD_RETENTION_INTEREST || ret == SD_RETENTION_WORKQUEUE) && !recovering &&
        c->replicas != 0 && c->replicas != sreplicas)
        ERR(10134);
    for (size_t i = 0; i < c->nbackoff; i++)
        if (c->backoff[i] < 0) ERR(10184);
    if (c->ack_wait < 0) ERR(10183);
    if (c->ack_policy == SD_ACK_FLOW_CONTROL) {
        if (!c->deliver_subject) ERR(10218);
        if (!c->flow_control) ERR(10219);
        if (c->heartbeat != JS_SOURCE_HEALTH_HB)
            ERRA(10052, "flow control ack policy heartbeat needs to be 1s");
        if (c->max_ack_pending <= 0) ERR(10220);
        if (c->ack_wait != 0 || c->nbackoff) ERR(10221);
        if (c->max_deliver > 0) ERR(10222);
    }
    if (c->nbackoff && c->max_deliver != -1 && (int64_t)c->nbackoff > c->max_deliver) ERR(10116);
    if (c->description && strlen(c->description) > JS_MAX_DESCRIPTION_LEN)
        ERRA(10107, "%d", JS_MAX_DESCRIPTION_LEN);
    if (c->deliver_subject) {
        const char *d = c->deliver_subject;
        if (!nx_subject_is_literal(d, strlen(d))) ERR(10079);
        if (!nx_subject_valid(d, strlen(d))) ERR(10112);
        if (delivery_forms_cycle(st, d)) ERR(10081);
        if (c->max_waiting != 0) ERR(10080);
        if (c->max_ack_pending > 0 && c->ack_policy == SD_ACK_NONE) ERR(10082);
        if (c->heartbeat > 0 && c->heartbeat < 100 * JSC_NS_MS) ERR(10083);
    } else {
        if (c->ack_policy == SD_ACK_NONE && ret == SD_RETENTION_WORKQUEUE) ERR(10084);
        if (c->rate_limit > 0) ERR(10086);
        if (c->max_waiting < 0) ERR(10087);
        if (c->heartbeat > 0) ERR(10088);
        if (c->flow_control) ERR(10089);
        if (c->max_batch < 0) ERR(10114);
        if (c->max_expires != 0 && c->max_expires < JSC_NS_MS) ERR(10115);
    }
    int64_t lmap = stream_limit(st, "max_ack_pending"), lit = stream_limit(st, "inactive_threshold");
    int64_t amap = js_account_limits_of(js_stream_account(st))->max_ack_pending;
    if (amap > 0 && c->max_ack_pending > amap) ERRA(10121, "%" PRId64, amap); /* account's */
    if (lmap > 0 && c->max_ack_pending > lmap) ERRA(10121, "%" PRId64, lmap);
    if (lit > 0 && c->inactive_threshold > lit) {
        char d[64];
        jsc_fmt_duration(lit, d, sizeof d);
        ERRA(10153, "%s", d);
    }
    if (c->direct) {
        if (!c->deliver_subject) ERR(10090);
        if (c->durable) ERR(10091);
    }
    if (c->filter_subject && c->nfilter_subjects) ERR(10136);
    if (c->filter_subject && !nx_subject_valid(c->filter_subject, strlen(c->filter_subject)))
        ERRA(10052, "invalid subject");
    for (size_t i = 0; i < c->nfilter_subjects; i++)
        if (!*c->filter_subjects[i]) ERR(10139);
    {
        char *one[1] = {c->filter_subject};
        char **fs = c->filter_subject ? one : c->filter_subjects;
        size_t nf = c->filter_subject ? 1 : c->nfilter_subjects;
        for (size_t i = 0; i < nf; i++) {
            if (!nx_subject_valid(fs[i], strlen(fs[i]))) ERRA(10052, "invalid subject");
            for (size_t k = 0; k < nf; k++)
                if (k != i && nx_subject_subset_match(fs[i], strlen(fs[i]), fs[k], strlen(fs[k])))
                    ERR(10138);
        }
    }
#define bs "consumer delivery policy is deliver %s, but optional start %s is also set"
#define ns "consumer delivery policy is deliver %s, but optional %s is not set"
    switch (c->deliver_policy) {
    case JSC_DELIVER_ALL:
        if (c->opt_start_seq > 0) ERRA(10094, bs, "all", "sequence");
        if (c->has_opt_start_time) ERRA(10094, bs, "all", "time");
        break;
    case JSC_DELIVER_LAST:
        if (c->opt_start_seq > 0) ERRA(10094, bs, "last", "sequence");
        if (c->has_opt_start_time) ERRA(10094, bs, "last", "time");
        break;
    case JSC_DELIVER_LAST_PER_SUBJECT:
        if (c->opt_start_seq > 0) ERRA(10094, bs, "last per subject", "sequence");
        if (c->has_opt_start_time) ERRA(10094, bs, "last per subject", "time");
        if (!c->filter_subject && !c->nfilter_subjects)
            ERRA(10094, ns, "last per subject", "filter subject");
        break;
    case JSC_DELIVER_NEW:
        if (c->opt_start_seq > 0) ERRA(10094, bs, "new", "sequence");
        if (c->has_opt_start_time) ERRA(10094, bs, "new", "time");
        break;
    case JSC_DELIVER_BY_START_SEQ:
        if (c->opt_start_seq == 0) ERRA(10094, ns, "by start sequence", "start sequence");
        if (c->has_opt_start_time) ERRA(10094, bs, "by start sequence", "time");
        break;
    case JSC_DELIVER_BY_START_TIME:
        if (!c->has_opt_start_time) ERRA(10094, ns, "by start time", "start time");
        if (c->opt_start_seq != 0) ERRA(10094, bs, "by start time", "start sequence");
        break;
    }
#undef bs
#undef ns
    if (c->sample_freq) {
        char *s = strdup(c->sample_freq), *end;
        size_t l = strlen(s);
        if (l && s[l - 1] == '%') s[l - 1] = 0;
        errno = 0;
        long v = strtol(s, &end, 10);
        bool bad = !*s || *end || errno || v < 0;
        if (bad) {
            char b[256];
            if (*s && !*end && !errno && v < 0) snprintf(b, sizeof b, "%s", "<nil>");
            else snprintf(b, sizeof b, "strconv.Atoi: parsing \"%s\": invalid syntax", s);
            free(s);
            *arg = strdup(b);
            return 10095;
        }
        free(s);
    }
    if (c->flow_control && c->heartbeat == 0) ERR(10108);
    if (c->durable && c->name && strcmp(c->name, c->durable)) ERR(10132);
    size_t mdlen = 0;
    if (c->metadata) {
        const char *k;
        json_t *v;
        json_object_foreach(c->metadata, k, v) {
            mdlen += strlen(k) + strlen(json_string_value(v) ? json_string_value(v) : "");
        }
    }
    if (mdlen > JS_MAX_METADATA_LEN) ERRA(10135, "%dKB", JS_MAX_METADATA_LEN / 1024);
    if (c->priority_policy != JSC_PRIO_NONE) {
        if (c->deliver_subject) ERR(10178);
        if (!c->npriority_groups) ERR(10159);
        for (size_t i = 0; i < c->npriority_groups; i++) {
            if (!*c->priority_groups[i]) ERR(10161);
            if (!valid_group_name(c->priority_groups[i])) ERR(10162);
        }
    } else {
        if (c->npriority_groups) ERR(10196);
        if (c->pinned_ttl > 0) ERR(10197);
    }
    json_t *pl = scfg ? json_object_get(scfg, "placement") : NULL;
    json_t *pref = pl ? json_object_get(pl, "preferred") : NULL;
    if (json_is_string(pref) && *json_string_value(pref))
        ERRA(10052, "preferred server not permitted in placement");
    return 0;
}
