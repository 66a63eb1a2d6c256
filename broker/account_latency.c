/* Service latency events (see account_latency.h).
 *
 * Ports Go nats-server v2.14.5 server/accounts.go ServiceLatency, shouldSample (with the
 * Uber, B3 and W3C trace-context header rules), sendTrackingLatency, sendBadRequestTracking-
 * Latency, sendBackendErrorTrackingLatency and sanitizeLatencyMetric, and client.go
 * getClientInfo.  The JSON keeps Go's field order and omitempty rules.
 */
#include "broker/account_latency.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/deliver.h"
#include "broker/monitor_int.h"
#include "broker/server.h"
#include "common/subject.h"

#define SERVICE_LATENCY_TYPE "io.nats.server.metric.v1.service_latency"

struct br_latency {
    br_account *exporter; /* where the event is published */
    char *subject;        /* the export's latency subject */
    int64_t ts_mono_ns;   /* Go si.ts: when the request crossed the import */
    int64_t ts_wall_ns;
    int64_t req_rtt_ns;
    json_t *requestor; /* Go getClientInfo(share) of the requester */
    json_t *header;    /* the headers that triggered the sample, NULL: none */
};

/* ---- configuration lookups -------------------------------------------------------------- */

/* The export the import reaches, when it tracks latency (the current options' settings). */
static const br_export_conf *latency_export(br_server *s, const br_service_in *si) {
    const br_export_conf *hit = br_accounts_service_export(
        br_accounts_conf_find(&s->opts->accounts, si->dest->name), si->to);
    return hit && hit->lat_subject ? hit : NULL;
}

/* The import's `share` (Go si.share): the requester's details go into the event. */
bool br_service_import_share(br_server *s, const br_service_in *si) {
    const br_acc_conf *a = br_accounts_conf_find(&s->opts->accounts, si->acc->name);
    for (size_t i = 0; a && i < a->nimports; i++) {
        const br_import_conf *im = &a->imports[i];
        const char *from = im->to && *im->to ? im->to : im->subject;
        if (im->service && !strcmp(im->account, si->dest->name) && !strcmp(im->subject, si->to) &&
            !strcmp(from, si->from))
            return im->share;
    }
    return false;
}

/* ---- JSON pieces ------------------------------------------------------------------------ */

static void set_str(json_t *o, const char *key, const char *v) { /* omitempty */
    if (v && *v) json_object_set_new(o, key, json_string(v));
}

static void set_time(json_t *o, const char *key, int64_t ns, bool utc) {
    char t[64];
    mj_time_text(ns, utc, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

/* Go getClientInfo(detailed), in ClientInfo's field order. */
json_t *br_client_info_json(br_server *s, const br_client *c, bool detailed) {
    json_t *o = json_object();
    if (detailed) {
        set_time(o, "start", mon_wall_ns() - (s->now_ms - c->start_ms) * 1000000, false);
        set_str(o, "host", c->host);
        json_object_set_new(o, "id", json_integer((json_int_t)c->cid));
    }
    json_object_set_new(o, "acc", json_string(c->acc ? c->acc->name : BR_GLOBAL_ACCOUNT));
    if (detailed) {
        set_str(o, "user", c->auth_user);
        set_str(o, "name", c->name);
        set_str(o, "lang", c->lang);
        set_str(o, "ver", c->version);
    }
    if (c->rtt_ms) json_object_set_new(o, "rtt", json_integer(c->rtt_ms * 1000000));
    if (detailed) {
        set_str(o, "server", s->server_name);
        json_object_set_new(o, "kind", json_string("Client"));
        json_object_set_new(o, "client_type", json_string("nats"));
    }
    return o;
}

static void event_id(char out[23]) { /* Go nuid: 22 base62 characters */
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 22; i++)
        out[i] = b62[random() % 62];
    out[22] = '\0';
}

/* ---- trace headers (Go shouldSample) ---------------------------------------------------- */

/* Go textproto.CanonicalMIMEHeaderKey for the usual token characters. */
static void canonical_key(const char *k, size_t n, char *out, size_t cap) {
    size_t o = 0;
    bool upper = true;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = k[i];
        out[o++] = upper ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        upper = c == '-';
    }
    out[o] = '\0';
}

typedef struct hdr {
    char key[64]; /* canonical */
    const char *val;
    size_t val_len;
} hdr;

/* The request's header lines (keys canonical, values trimmed), at most cap of them. */
static size_t parse_headers(const br_pub *m, hdr *h, size_t cap) {
    if (m->hdr_len < 12) return 0;
    const char *p = (const char *)m->payload, *end = p + m->hdr_len;
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol) return 0;
    p = eol + 2; /* past "NATS/1.0" */
    size_t n = 0;
    while (p < end && n < cap) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || eol == p) break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && colon > p && (size_t)(colon - p) < sizeof h[n].key) {
            canonical_key(p, (size_t)(colon - p), h[n].key, sizeof h[n].key);
            const char *v = colon + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            h[n].val = v;
            h[n].val_len = (size_t)(ve - v);
            n++;
        }
        p = eol + 2;
    }
    return n;
}

static const hdr *first(const hdr *h, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(h[i].key, key)) return &h[i];
    return NULL;
}

static bool val_is(const hdr *v, const char *s) {
    return v && v->val_len == strlen(s) && !memcmp(v->val, s, v->val_len);
}

/* Adds every value of key (Go http.Header: a list per canonical key). */
static void copy_key(json_t *out, const hdr *h, size_t n, const char *key) {
    json_t *arr = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].key, key) != 0) continue;
        if (!arr) arr = json_array();
        json_array_append_new(arr, json_stringn(h[i].val, h[i].val_len));
    }
    if (arr) json_object_set_new(out, key, arr);
}

/* Go's header selections, keys in encoding/json's (sorted) order. */
static int key_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *header_json(const hdr *h, size_t n, const char **keys, size_t nkeys,
                           const char *prefix) {
    const char *all[80];
    size_t na = 0;
    for (size_t i = 0; i < nkeys && na < 80; i++)
        if (first(h, n, keys[i])) all[na++] = keys[i];
    for (size_t i = 0; prefix && i < n && na < 80; i++) {
        if (strncmp(h[i].key, prefix, strlen(prefix)) != 0) continue;
        bool dup = false;
        for (size_t j = 0; j < na && !dup; j++)
            dup = !strcmp(all[j], h[i].key);
        if (!dup) all[na++] = h[i].key;
    }
    qsort(all, na, sizeof all[0], key_cmp);
    json_t *o = json_object();
    for (size_t i = 0; i < na; i++)
        copy_key(o, h, n, all[i]);
    return o;
}

/* The n-th '-' or ':' separated token of v (NULL when there are fewer); *count: all tokens. */
static size_t split(const hdr *v, char sep, const char **tok, size_t *tlen, size_t cap) {
    size_t n = 0;
    const char *p = v->val, *end = v->val + v->val_len;
    for (;;) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (n < cap) {
            tok[n] = p;
            tlen[n] = (size_t)((q ? q : end) - p);
        }
        n++;
        if (!q) break;
        p = q + 1;
    }
    return n;
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool sample_by_headers(const br_pub *m, json_t **header) {
    hdr h[64];
    size_t n = parse_headers(m, h, 64);
    if (!n) return false;
    const char *tok[5];
    size_t tl[5];
    const hdr *v;
    static const char *b3keys[] = {"X-B3-Sampled", "X-B3-Traceid", "X-B3-Parentspanid",
                                   "X-B3-Spanid"};
    if ((v = first(h, n, "Uber-Trace-Id"))) {
        /* "<trace>:<span>:<parent>:<flags>": Go decodes '0' and the last flag digit. */
        size_t k = split(v, ':', tok, tl, 5);
        if (k == 4 && tl[3] > 0 && tl[3] <= 2) {
            int d = hexv(tok[3][tl[3] - 1]);
            if (d >= 0 && (d & 1)) {
                static const char *uk[] = {"Uber-Trace-Id"};
                *header = header_json(h, n, uk, 1, "Uberctx-");
                return true;
            }
        }
        return false;
    }
    const hdr *sm = first(h, n, "X-B3-Sampled");
    if (sm && val_is(sm, "1")) {
        *header = header_json(h, n, b3keys, 4, NULL);
        return true;
    }
    if (sm && val_is(sm, "0")) return false;
    if (first(h, n, "X-B3-Traceid")) {
        *header = header_json(h, n, b3keys, 4, NULL);
        return true;
    }
    if ((v = first(h, n, "B3"))) {
        size_t k = split(v, '-', tok, tl, 5);
        if (k > 2 && tl[2] == 1 && tok[2][0] == '0') return false;
        if (k == 1 && tl[0] == 1 && tok[0][0] == '0') return false;
        static const char *bk[] = {"B3"};
        *header = header_json(h, n, bk, 1, NULL);
        return true;
    }
    if ((v = first(h, n, "Traceparent"))) {
        /* "00-<trace>-<parent>-<flags>": flags as a signed 8-bit hex number, bit 0 sampled. */
        size_t k = split(v, '-', tok, tl, 5);
        if (k == 4 && tl[3] == 2) {
            /* Go strconv.ParseInt(flags, 16, 8): a sign and one digit, or two digits < 0x80. */
            char c0 = tok[3][0];
            int hi = hexv(c0), lo = hexv(tok[3][1]);
            bool valid = lo >= 0 && ((c0 == '+' || c0 == '-') || (hi >= 0 && hi < 8));
            if (valid && (lo & 1)) {
                static const char *tk[] = {"Traceparent", "Tracestate"};
                *header = header_json(h, n, tk, 2, NULL);
                return true;
            }
        }
        return false;
    }
    return false;
}

/* ---- events ----------------------------------------------------------------------------- */

/* Go sendLatencyResult: the typed event fields, then publishing in the exporting account. */
static void publish(br_server *s, br_account *acc, const char *subject, int status,
                    const char *desc, json_t *requestor, json_t *responder, json_t *header,
                    int64_t start_ns, int64_t service, int64_t sys, int64_t total, uint32_t hops) {
    json_t *o = json_object();
    char id[23];
    event_id(id);
    json_object_set_new(o, "type", json_string(SERVICE_LATENCY_TYPE));
    json_object_set_new(o, "id", json_string(id));
    set_time(o, "timestamp", mon_wall_ns(), true);
    json_object_set_new(o, "status", json_integer(status));
    set_str(o, "description", desc);
    if (requestor) json_object_set(o, "requestor", requestor);
    if (responder) json_object_set(o, "responder", responder);
    if (header && json_object_size(header)) json_object_set(o, "header", header);
    set_time(o, "start", start_ns, true);
    json_object_set_new(o, "service", json_integer(service < 0 ? 0 : service));
    json_object_set_new(o, "system", json_integer(sys < 0 ? 0 : sys));
    json_object_set_new(o, "total", json_integer(total));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) return;
    size_t len = strlen(text);
    char size[24];
    int sn = snprintf(size, sizeof size, "%zu", len);
    br_pub m = {.acc = acc,
                .hops = hops,
                .subject = {subject, (uint32_t)strlen(subject)},
                .size_str = {size, (uint32_t)sn},
                .payload = (const uint8_t *)text,
                .total_len = (uint32_t)len};
    (void)br_route_publish(s, &m);
    free(text);
}

br_latency *br_latency_start(br_server *s, const br_pub *m, const br_service_in *si) {
    if (m->response || !si->latency) return NULL; /* the common case: no lookups */
    const br_export_conf *e = latency_export(s, si);
    if (!e) return NULL;
    json_t *header = NULL;
    bool sampled =
        e->lat_sampling >= 100 || (e->lat_sampling > 0 && random() % 100 <= e->lat_sampling);
    if (!sampled) sampled = sample_by_headers(m, &header);
    if (!sampled) return NULL;
    bool share = br_service_import_share(s, si);
    json_t *req = m->pub ? br_client_info_json(s, m->pub, share) : NULL;
    int64_t rtt = m->pub ? m->pub->rtt_ms * 1000000 : 0;
    if (!m->reply.len) { /* Go sendBadRequestTrackingLatency */
        publish(s, si->dest, e->lat_subject, 400, "Bad Request", req, NULL, header,
                mon_wall_ns() - rtt, 0, 0, 0, m->hops + 1);
        json_decref(req);
        json_decref(header);
        return NULL;
    }
    br_latency *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->exporter = si->dest;
    l->subject = strdup(e->lat_subject);
    if (!l->subject) abort();
    l->ts_mono_ns = br_now_ns();
    l->ts_wall_ns = mon_wall_ns();
    l->req_rtt_ns = rtt;
    l->requestor = req;
    l->header = header;
    return l;
}

void br_latency_response(br_server *s, br_latency *l, const br_pub *m, uint32_t hops) {
    int64_t now = br_now_ns();
    int64_t service_rtt = now - l->ts_mono_ns;
    /* The responder's details are known when it is this worker's client; a response from
     * another worker carries none (Go: no responder info, no responder RTT). */
    json_t *resp = m->pub ? br_client_info_json(s, m->pub, true) : NULL;
    int64_t resp_rtt = m->pub ? m->pub->rtt_ms * 1000000 : 0;
    int64_t service = service_rtt - resp_rtt, sys = 0;
    int64_t total = l->req_rtt_ns + service_rtt;
    if (resp_rtt > 0) {
        sys = br_now_ns() - now;
        total += sys;
    }
    publish(s, l->exporter, l->subject, 200, NULL, l->requestor, resp, l->header,
            l->ts_wall_ns - l->req_rtt_ns, service, sys, total, hops);
    json_decref(resp);
}

void br_latency_fail(br_server *s, br_latency *l, int status, uint32_t hops) {
    const char *desc = status == 503 ? "Service Unavailable" : "Service Timeout";
    publish(s, l->exporter, l->subject, status, desc, l->requestor, NULL, l->header,
            l->ts_wall_ns - l->req_rtt_ns, 0, 0, 0, hops);
}

void br_latency_free(br_latency *l) {
    if (!l) return;
    free(l->subject);
    json_decref(l->requestor);
    json_decref(l->header);
    free(l);
}
