/* Messages crossing accounts: stream imports, service imports and their responses.
 *
 * Ports Go nats-server v2.14.5 server/client.go processServiceImport (the request is
 * re-published in the exporting account with a reply subject that maps back to the requester),
 * the response service imports of server/accounts.go (addRespServiceImport,
 * checkForReverseEntries: a singleton mapping goes with its first response, streamed and
 * chunked ones when the export's response threshold passes, Go's default 2 minutes) and the delivery
 * of stream imports (Go's shadow subscriptions: the importer sees the exporter's messages under
 * the prefixed or mapped subject).
 *
 * A request through an export with `latency` may be sampled (account_latency.c): the
 * measurement rides on the reply mapping and ends with the response (200), with no delivery
 * (503) or with the mapping's expiry (504).
 *
 * Requests carry Go's Nats-Request-Info header (with the requester's details when the
 * import shares them).
 *
 * Go names reply subjects "_R_.<random>.<random>"; here "_R_.<worker tag>.<sequence>", so a
 * response published on another worker finds the worker that holds the mapping through the
 * ordinary interest of the mesh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/account.h"
#include "broker/account_latency.h"
#include "broker/client.h"
#include "broker/deliver.h"
#include "broker/server.h"
#include "common/log.h"
#include "common/subject.h"

#define RESPONSE_THRESHOLD_MS (2 * 60 * 1000) /* Go DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD */

static nx_tr_out *scratch(br_server *s, uint32_t hops) {
    return &s->accounts->scratch[hops % 4];
}

/* ---- reply mappings --------------------------------------------------------------------- */

/* The list runs from the mapping that expires first to the one that expires last.  Exports
 * with equal thresholds append at the newest end: O(1) in the usual case. */
static void list_remove(br_acc_reg *r, br_reply *rp) {
    if (rp->prev)
        rp->prev->next = rp->next;
    else
        r->oldest = rp->next;
    if (rp->next)
        rp->next->prev = rp->prev;
    else
        r->newest = rp->prev;
    rp->prev = rp->next = NULL;
}

static void list_insert(br_acc_reg *r, br_reply *rp) {
    br_reply *after = r->newest;
    while (after && after->expires_ms > rp->expires_ms) after = after->prev;
    rp->prev = after;
    rp->next = after ? after->next : r->oldest;
    if (rp->next)
        rp->next->prev = rp;
    else
        r->newest = rp;
    if (after)
        after->next = rp;
    else
        r->oldest = rp;
}

static void reply_unlink(br_acc_reg *r, br_reply *rp) {
    list_remove(r, rp);
    nx_strmap_del(&r->replies, rp->token, rp->token_len);
    br_latency_free(rp->lat);
    free(rp);
}

/* hops: of the latency events (504) published meanwhile, above any subject still in use. */
static void expire(br_server *s, int64_t now_ms, uint32_t hops) {
    br_acc_reg *r = s->accounts;
    if (!r) return;
    while (r->oldest && r->oldest->expires_ms <= now_ms) {
        br_reply *rp = r->oldest;
        if (rp->lat) { /* Go removeRespServiceImport(rsiTimeout): no response came */
            br_latency *l = rp->lat;
            rp->lat = NULL;
            reply_unlink(r, rp);
            br_latency_fail(s, l, 504, hops);
            br_latency_free(l);
            continue;
        }
        reply_unlink(r, rp);
    }
}

void br_account_expire_replies(br_server *s, int64_t now_ms) {
    expire(s, now_ms, 0);
}

/* Maps a fresh "_R_.<tag>.<n>" to the requester's reply; returns it (points into the entry). */
static br_reply *reply_new(br_server *s, br_account *acc, np_str reply, br_resp_type rt,
                           int64_t threshold_ms, uint32_t hops) {
    br_acc_reg *r = s->accounts;
    char tok[48];
    int tl = snprintf(tok, sizeof tok, "_R_.%s.%llx", r->tag, (unsigned long long)++r->reply_seq);
    br_reply *rp = malloc(sizeof *rp + (size_t)tl + 1 + reply.len + 1);
    if (!rp) abort();
    *rp = (br_reply){.acc = acc,
                     .rt = rt,
                     .threshold_ms = threshold_ms > 0 ? threshold_ms : RESPONSE_THRESHOLD_MS,
                     .token_len = (uint32_t)tl,
                     .reply_len = reply.len};
    rp->token = rp->text;
    memcpy(rp->token, tok, (size_t)tl + 1);
    rp->reply = rp->text + tl + 1;
    memcpy(rp->reply, reply.ptr, reply.len);
    rp->reply[reply.len] = '\0';
    rp->expires_ms = s->now_ms + rp->threshold_ms;
    list_insert(r, rp);
    nx_strmap_put(&r->replies, rp->token, rp->token_len, rp);
    expire(s, s->now_ms, hops);
    return rp;
}

/* ---- service imports -------------------------------------------------------------------- */

#define CLIENT_INFO_HDR "Nats-Request-Info"

/* Go ClientInfo's JSON field order (encoding/json follows the struct). */
static const char *const ci_keys[] = {
    "start",    "host", "id",     "acc",         "svc",       "user",  "name",  "lang",
    "ver",      "rtt",  "server", "cluster",     "alts",      "stop",  "jwt",   "issuer_key",
    "name_tag", "tags", "kind",   "client_type", "client_id", "nonce", "reply",
};

static json_t *ci_ordered(json_t *ci) {
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof ci_keys / sizeof ci_keys[0]; i++) {
        json_t *v = json_object_get(ci, ci_keys[i]);
        if (v) json_object_set(o, ci_keys[i], v);
    }
    return o;
}

/* Go processServiceImport's Nats-Request-Info: the requester's getClientInfo(share) (share:
 * the import's `share`), with the server when the import leads into the system account; a
 * request crossing a further import keeps the first one's, names the service account, and
 * gains the server when it moves from a non-sharing import into a sharing one. */
static int client_info_json(br_server *s, const br_pub *m, const char *prev, size_t prev_len,
                            const br_service_in *si, char *out, size_t cap) {
    bool share = br_service_import_share(s, si), sys_import = si->dest->is_system;
    json_t *ci = prev ? json_loadb(prev, prev_len, 0, NULL) : NULL;
    if (ci && json_is_object(ci)) {
        const br_service_in *psi = m->hops ? m->psi[(m->hops - 1) % BR_MAX_IMPORT_HOPS] : NULL;
        bool prev_share = psi && br_service_import_share(s, psi);
        json_object_set_new(ci, "svc", json_string(si->acc->name));
        if (!prev_share && (share || sys_import))
            json_object_set_new(ci, "server", json_string(s->server_name));
    } else {
        json_decref(ci);
        if (m->pub) {
            ci = br_client_info_json(s, m->pub, share);
        } else {
            ci = json_object();
            json_object_set_new(ci, "acc", json_string(m->acc->name));
        }
        if (!share && sys_import) json_object_set_new(ci, "server", json_string(s->server_name));
    }
    json_t *o = ci_ordered(ci);
    json_decref(ci);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int n = text && strlen(text) < cap ? snprintf(out, cap, "%s", text) : -1;
    free(text);
    return n;
}

/* Go setHeader(ClientInfoHdr, ...): the message with its Nats-Request-Info header replaced
 * (added, with a NATS/1.0 line when it had no headers).  Fills m2's payload, lengths and size
 * texts from buf (malloc'd, the caller frees). */
static uint8_t *with_client_info(br_server *s, const br_pub *m, br_pub *m2, const br_service_in *si,
                                 char *hdr_str, char *size_str) {
    const char *hdr = (const char *)m->payload;
    size_t hl = m->hdr_len;
    const char *prev = NULL;
    size_t prev_len = 0;
    /* The old header block without its final CRLF, minus any Nats-Request-Info line. */
    size_t keep_cap = hl + 1;
    char *keep = malloc(keep_cap);
    if (!keep) abort();
    size_t kl = 0;
    if (hl > 2) {
        const char *p = hdr, *end = hdr + hl - 2;
        while (p < end) {
            const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
            const char *next = eol ? eol + 2 : end;
            size_t ll = (size_t)((eol ? eol : end) - p);
            size_t kn = sizeof CLIENT_INFO_HDR - 1;
            if (p != hdr && ll > kn && !memcmp(p, CLIENT_INFO_HDR, kn) && p[kn] == ':') {
                prev = p + kn + 1;
                while (prev < p + ll && *prev == ' ')
                    prev++;
                prev_len = (size_t)(p + ll - prev);
            } else {
                memcpy(keep + kl, p, (size_t)(next - p));
                kl += (size_t)(next - p);
            }
            p = next;
        }
    }
    char info[4096];
    int il = client_info_json(s, m, m->hops ? prev : NULL, prev_len, si, info, sizeof info);
    if (il < 0) il = snprintf(info, sizeof info, "{}");
    size_t body_len = m->total_len - hl;
    size_t cap = (kl ? kl : 10) + sizeof CLIENT_INFO_HDR + 2 + (size_t)il + 4 + body_len;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    size_t n = 0;
    if (kl) {
        memcpy(buf, keep, kl);
        n = kl;
    } else {
        memcpy(buf, "NATS/1.0\r\n", 10);
        n = 10;
    }
    free(keep);
    n += (size_t)sprintf((char *)buf + n, "%s: %.*s\r\n\r\n", CLIENT_INFO_HDR, il, info);
    size_t new_hl = n;
    memcpy(buf + n, m->payload + hl, body_len);
    n += body_len;
    m2->payload = buf;
    m2->hdr_len = (uint32_t)new_hl;
    m2->total_len = (uint32_t)n;
    int a = sprintf(hdr_str, "%zu", new_hl), b = sprintf(size_str, "%zu", n);
    m2->hdr_str = (np_str){hdr_str, (uint32_t)a};
    m2->size_str = (np_str){size_str, (uint32_t)b};
    return buf;
}

static bool service_request(br_server *s, const br_pub *m, br_service_in *si) {
    /* Go processServiceImport: a request already through this import is not sent again. */
    for (uint32_t i = 0; i < m->hops && i < BR_MAX_IMPORT_HOPS; i++)
        if (m->psi[i] == si) return false;
    /* Go shouldSample (a sampled request without a reply is reported here, 400), and the
     * reply mapping, before the subject below takes this hop's scratch buffer. */
    br_latency *lat = br_latency_start(s, m, si);
    br_reply *rp = NULL;
    if (m->reply.len) {
        rp = reply_new(s, si->acc, m->reply, si->rt, si->threshold_ms, m->hops + 1);
        rp->lat = lat;
    }
    br_pub m2 = *m;
    if (m->hops < BR_MAX_IMPORT_HOPS) m2.psi[m->hops] = si;
    m2.acc = si->dest;
    m2.hops = m->hops + 1;
    m2.deliver = (np_str){NULL, 0}; /* the subject changes: it is the one shown */
    if (rp) m2.reply = (np_str){rp->token, rp->token_len};
    if (si->tr) {
        nx_tr_out *o = scratch(s, m2.hops);
        if (nx_transform_match(si->tr, m->subject.ptr, m->subject.len, o) != 0) {
            if (rp) reply_unlink(s->accounts, rp);
            return false;
        }
        m2.subject = (np_str){o->buf, (uint32_t)o->len};
    } else if (!si->use_pub) {
        m2.subject = (np_str){si->to, (uint32_t)strlen(si->to)};
    }
    char hdr_str[24], size_str[24];
    uint8_t *buf = with_client_info(s, m, &m2, si, hdr_str, size_str);
    bool delivered = br_route_publish(s, &m2);
    free(buf);
    if (!delivered && rp) { /* no responder: nothing will come */
        br_latency *l = rp->lat;
        rp->lat = NULL;
        reply_unlink(s->accounts, rp);
        if (l) br_latency_fail(s, l, 503, m2.hops); /* Go rsiNoDelivery */
        br_latency_free(l);
    }
    return delivered;
}

static bool service_response(br_server *s, const br_pub *m) {
    br_acc_reg *r = s->accounts;
    br_reply *rp = nx_strmap_get(&r->replies, m->subject.ptr, m->subject.len);
    if (!rp) return false;
    br_pub m2 = *m;
    m2.acc = rp->acc;
    m2.hops = m->hops + 1;
    m2.deliver = (np_str){NULL, 0}; /* the subject changes: it is the one shown */
    m2.response = true; /* Go: a response is not a new request (TestServiceImportReplyMatchCycle) */
    /* The reply subject is copied: a singleton mapping goes before delivery ends. */
    nx_tr_out *o = scratch(s, m2.hops);
    if (o->cap < rp->reply_len + 1) {
        char *nb = realloc(o->buf, rp->reply_len + 1);
        if (!nb) abort();
        o->buf = nb;
        o->cap = rp->reply_len + 1;
    }
    memcpy(o->buf, rp->reply, rp->reply_len + 1);
    o->len = rp->reply_len;
    m2.subject = (np_str){o->buf, (uint32_t)o->len};
    br_latency *lat = rp->lat; /* Go sendTrackingLatency: the first response ends it */
    rp->lat = NULL;
    if (rp->rt == BR_RESP_SINGLETON)
        reply_unlink(r, rp);
    else { /* streamed and chunked: alive for another threshold past each response */
        list_remove(r, rp);
        rp->expires_ms = s->now_ms + rp->threshold_ms;
        list_insert(r, rp);
    }
    bool delivered = br_route_publish(s, &m2);
    if (lat) { /* after the response, its subject's scratch buffer is free again */
        br_latency_response(s, lat, m, m2.hops);
        br_latency_free(lat);
    }
    return delivered;
}

bool br_account_internal(br_server *s, const br_pub *m, br_isub *is, bool from_mesh) {
    if (m->hops >= BR_MAX_IMPORT_HOPS) return false;
    if (is->what == BR_ISUB_RESPONSE) return service_response(s, m);
    if (is->what == BR_ISUB_SYS) return br_sys_request(s, m);
    /* Service imports run where the request was published: every worker has them. */
    if (from_mesh || !is->si || m->response) return false;
    return service_request(s, m, is->si);
}

/* ---- stream imports --------------------------------------------------------------------- */

bool br_account_stream_exports(br_server *s, const br_pub *m) {
    br_account *a = m->acc;
    if (!a || !a->nstreams_out || m->hops >= BR_MAX_IMPORT_HOPS) return false;
    bool delivered = false;
    for (size_t i = 0; i < a->nstreams_out; i++) {
        const br_stream_out *so = &a->streams_out[i];
        if (!nx_subject_match_literal(m->subject.ptr, m->subject.len, so->from, strlen(so->from)))
            continue;
        br_pub m2 = *m;
        m2.acc = so->to_acc;
        m2.hops = m->hops + 1;
        m2.deliver = (np_str){NULL, 0};
        m2.deliver = (np_str){NULL, 0}; /* the subject changes: it is the one shown */
        m2.stream_import = true;
        nx_tr_out *o = scratch(s, m2.hops);
        if (so->prefix) {
            size_t pl = strlen(so->prefix), need = pl + m->subject.len + 1;
            if (o->cap < need) {
                char *nb = realloc(o->buf, need);
                if (!nb) abort();
                o->buf = nb;
                o->cap = need;
            }
            memcpy(o->buf, so->prefix, pl);
            memcpy(o->buf + pl, m->subject.ptr, m->subject.len);
            o->len = pl + m->subject.len;
            o->buf[o->len] = '\0';
            m2.subject = (np_str){o->buf, (uint32_t)o->len};
        } else if (so->tr) {
            if (nx_transform_match(so->tr, m->subject.ptr, m->subject.len, o) != 0) continue;
            m2.subject = (np_str){o->buf, (uint32_t)o->len};
        } else if (so->to) {
            m2.subject = (np_str){so->to, (uint32_t)strlen(so->to)};
        }
        delivered |= br_route_publish(s, &m2);
    }
    return delivered;
}
