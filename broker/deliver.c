/* Message routing and delivery; see deliver.h. */
#include "broker/deliver.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/mesh.h"
#include "broker/server.h"
#include "common/log.h"

static size_t put_u64(char *dst, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
    return n;
}

static void slow_consumer(br_client *c) {
    c->srv->stats.slow_consumers++;
    nx_notice("%s - Slow Consumer Detected: MaxPending of %" PRId64 " Exceeded", c->log_prefix,
              c->srv->opts->max_pending);
    br_client_close(c, BR_CLOSE_SLOW_PENDING_BYTES);
}

static size_t put_str(char *dst, np_str s) {
    if (s.len) memcpy(dst, s.ptr, s.len); /* empty parts may be NULL (internal messages) */
    return s.len;
}

/* Go deliverMsg: true if the message was queued for the subscriber. */
static bool deliver_local(const br_pub *m, br_sub *sub) {
    br_client *c = sub->client;
    np_str shown = m->deliver.len ? m->deliver : m->subject;
    if (sub->closed || c->closing) return false;
    if (c == m->pub && !c->echo) return false;
    /* Go checkDenySub: a wildcard subscription may not receive a subject its user is denied. */
    if (c->perms.deny_filter &&
        br_perms_deny_delivery(&c->perms, shown.ptr, shown.len, sub->sl.queue,
                               sub->sl.queue ? sub->sl.queue_len : 0))
        return false;

    sub->delivered++;
    bool last = false;
    if (sub->max > 0) {
        if (sub->delivered == sub->max) {
            last = true;
        } else if (sub->delivered > sub->max) {
            br_client_sub_remove(c, sub);
            return false;
        }
    }

    bool with_hdr = m->hdr_len > 0 && c->headers;
    const uint8_t *body = m->payload;
    uint32_t body_len = m->total_len;
    if (m->hdr_len > 0 && !c->headers) { /* strip headers for a client that cannot take them */
        body += m->hdr_len;
        body_len -= m->hdr_len;
    }
    /* MSG <subject> <sid> [reply] <size>\r\n  or  HMSG ... <hdr> <total>\r\n */
    size_t line_max = 5 + shown.len + 1 + sub->sid_len + 1 + m->reply.len + 1 +
                      m->hdr_str.len + 1 + m->size_str.len + 24;
    if (c->out.pending + line_max + body_len + 2 > (uint64_t)c->srv->opts->max_pending) {
        slow_consumer(c);
        return false;
    }
    size_t room;
    char *p = (char *)br_outq_reserve(&c->out, line_max <= BR_OUTCHUNK_BYTES ? line_max : 1, &room);
    char *line = room >= line_max ? p : malloc(line_max); /* very long subjects: build aside */
    if (!line) abort();
    size_t n = 0;
    if (with_hdr) line[n++] = 'H';
    memcpy(line + n, "MSG ", 4);
    n += 4;
    n += put_str(line + n, shown);
    line[n++] = ' ';
    memcpy(line + n, sub->sid, sub->sid_len);
    n += sub->sid_len;
    line[n++] = ' ';
    if (m->reply.len) {
        n += put_str(line + n, m->reply);
        line[n++] = ' ';
    }
    if (with_hdr) {
        n += put_str(line + n, m->hdr_str);
        line[n++] = ' ';
        n += put_str(line + n, m->size_str);
    } else if (m->hdr_len > 0) {
        n += put_u64(line + n, body_len); /* headers stripped: Go prints the new size */
    } else {
        n += put_str(line + n, m->size_str);
    }
    line[n++] = '\r';
    line[n++] = '\n';
    if (line == p) {
        br_outq_commit(&c->out, n);
    } else {
        br_outq_append(&c->out, line, n);
    }
    br_outq_append(&c->out, body, body_len);
    br_outq_append(&c->out, "\r\n", 2);
    c->out_msgs++;
    c->out_bytes += body_len;
    c->srv->stats.out_msgs++;
    c->srv->stats.out_bytes += body_len;
    c->acc->out_msgs++;
    c->acc->out_bytes += body_len;
    c->last_activity_ms = c->srv->now_ms; /* monitoring: Go's c.last on delivery */
    br_server_mark_dirty(c->srv, c);
    if (nx_log_trace()) nx_trace("%s - ->> [%.*s]", c->log_prefix, (int)(n - 2), line);
    if (line != p) free(line);
    /* allow_responses: a request's reply subject may be published to by its receiver. */
    if (m->reply.len && br_perms_tracks_replies(&c->perms))
        br_perms_track_reply(&c->perms, m->reply.ptr, m->reply.len, br_now_ns());
    if (last) br_client_sub_remove(c, sub);
    return true;
}

static uint8_t sub_kind(const sl_sub *s) {
    /* Both br_sub and br_rsub begin with their sl_sub followed by the kind byte. */
    return ((const br_sub *)s->owner)->kind;
}

#define MAX_QUEUE_PICKS 64

typedef struct remote_plan {
    bool any[BR_MAX_WORKERS];
    const sl_sub *queues[BR_MAX_WORKERS][MAX_QUEUE_PICKS];
    uint32_t nqueues[BR_MAX_WORKERS];
} remote_plan;

bool br_route_publish(br_server *s, const br_pub *m) {
    bool delivered = false;
    remote_plan plan;
    uint32_t nworkers = s->mesh.nmembers;
    memset(plan.any, 0, sizeof plan.any[0] * nworkers);
    memset(plan.nqueues, 0, sizeof plan.nqueues[0] * nworkers);
    bool remote = false;

    sl_result *r = sl_match(m->acc->sublist, m->subject.ptr, m->subject.len);
    for (uint32_t i = 0; i < r->npsubs; i++) {
        const sl_sub *ss = r->psubs[i];
        uint8_t kind = sub_kind(ss);
        if (kind == BR_SUB_LOCAL) {
            delivered |= deliver_local(m, ss->owner);
        } else if (kind == BR_SUB_INTERNAL) {
            if (!m->stream_import) delivered |= br_account_internal(s, m, ss->owner, false);
        } else {
            plan.any[((const br_rsub *)ss->owner)->worker] = true;
            remote = true;
        }
    }
    for (uint32_t g = 0; g < r->nqsubs; g++) {
        sl_qgroup *q = &r->qsubs[g];
        if (q->n == 0) continue;
        /* Go: start at a random member (remote ones weighted by repetition) and take the
         * first able to take the message. */
        uint32_t start = (uint32_t)random() % q->n;
        for (uint32_t k = 0; k < q->n; k++) {
            const sl_sub *ss = q->subs[(start + k) % q->n];
            if (sub_kind(ss) == BR_SUB_LOCAL) {
                if (deliver_local(m, ss->owner)) {
                    delivered = true;
                    break;
                }
                continue;
            }
            uint32_t w = ((const br_rsub *)ss->owner)->worker;
            if (!s->mesh.peers[w].alive) continue;
            if (plan.nqueues[w] < MAX_QUEUE_PICKS) plan.queues[w][plan.nqueues[w]++] = ss;
            remote = true;
            break;
        }
    }
    sl_result_release(r);
    if (remote) {
        br_mesh_msg mm = {.account = {m->acc->name, (uint32_t)m->acc->name_len},
                          .subject = m->subject,
                          .reply = m->reply,
                          .size_str = m->size_str,
                          .hdr_str = m->hdr_str,
                          .hdr_len = m->hdr_len,
                          .total_len = m->total_len,
                          .payload = m->payload,
                          .deliver = m->deliver};
        for (uint32_t w = 0; w < nworkers; w++) {
            if (!plan.any[w] && !plan.nqueues[w]) continue;
            delivered |= br_mesh_forward(&s->mesh, w, &mm, plan.queues[w], plan.nqueues[w]);
        }
    }
    /* Go: the exporter's subscribers first, then the accounts importing the stream. */
    if (m->acc->nstreams_out && !m->stream_import) delivered |= br_account_stream_exports(s, m);
    return delivered;
}

/* No local member of a group this worker was chosen for could take the message (their
 * permissions deny it, or they just went): hand it to a worker not yet tried.  The publishing
 * worker is not marked as tried (it may have picked us before trying its own members), so the
 * message can come back to it; every hop adds one worker, so it ends. */
static void redirect_queue(br_server *s, const br_mesh_msg *mm, const sl_qgroup *q,
                           uint32_t start) {
    for (uint32_t k = 0; k < q->n; k++) {
        const sl_sub *ss = q->subs[(start + k) % q->n];
        if (sub_kind(ss) != BR_SUB_REMOTE) continue;
        uint32_t w = ((const br_rsub *)ss->owner)->worker;
        if ((mm->visited >> w) & 1 || !s->mesh.peers[w].alive) continue;
        br_mesh_msg next = *mm;
        next.queues_only = true;
        br_mesh_forward(&s->mesh, w, &next, &ss, 1);
        return;
    }
}

void br_deliver_from_mesh(void *ctx, const br_mesh_msg *mm, const np_str *queues,
                          uint32_t nqueues) {
    br_server *s = ctx;
    br_account *acc = br_account_lookup_or_create(s, mm->account.ptr, mm->account.len);
    br_pub m = {.acc = acc,
                .subject = mm->subject,
                .deliver = mm->deliver,
                .reply = mm->reply,
                .size_str = mm->size_str,
                .hdr_str = mm->hdr_str,
                .payload = mm->payload,
                .hdr_len = mm->hdr_len,
                .total_len = mm->total_len};
    s->stats.in_msgs++; /* Go counts routed messages in the receiving server's in_msgs */
    s->stats.in_bytes += mm->total_len;
    s->stats.mesh_in_msgs++; /* monitoring: not a new message for the node-wide in_msgs */
    s->stats.mesh_in_bytes += mm->total_len;
    sl_result *r = sl_match(acc->sublist, mm->subject.ptr, mm->subject.len);
    for (uint32_t i = 0; i < r->npsubs && !mm->queues_only; i++) {
        uint8_t kind = sub_kind(r->psubs[i]);
        if (kind == BR_SUB_LOCAL)
            deliver_local(&m, r->psubs[i]->owner);
        else if (kind == BR_SUB_INTERNAL) /* a response for a request mapped here */
            br_account_internal(s, &m, r->psubs[i]->owner, true);
    }
    for (uint32_t g = 0; g < r->nqsubs && nqueues; g++) {
        sl_qgroup *q = &r->qsubs[g];
        if (q->n == 0) continue;
        const sl_sub *first = q->subs[0];
        bool chosen = false;
        for (uint32_t i = 0; i < nqueues && !chosen; i++)
            chosen = queues[i].len == first->queue_len &&
                     memcmp(queues[i].ptr, first->queue, first->queue_len) == 0;
        if (!chosen) continue;
        /* This worker was picked to serve the group: one local member takes it. */
        uint32_t start = (uint32_t)random() % q->n;
        bool taken = false;
        for (uint32_t k = 0; k < q->n && !taken; k++) {
            const sl_sub *ss = q->subs[(start + k) % q->n];
            taken = sub_kind(ss) == BR_SUB_LOCAL && deliver_local(&m, ss->owner);
        }
        if (!taken) redirect_queue(s, mm, q, start);
    }
    sl_result_release(r);
}

void br_send_no_responders(br_client *c, const br_pub *m) {
    sl_result *r = sl_match(m->acc->sublist, m->reply.ptr, m->reply.len);
    br_sub *mine = NULL;
    for (uint32_t i = 0; i < r->npsubs; i++) {
        if (sub_kind(r->psubs[i]) != BR_SUB_LOCAL) continue;
        br_sub *sub = r->psubs[i]->owner;
        if (sub->client == c && !sub->closed) {
            mine = sub;
            break;
        }
    }
    if (mine) {
        char line[1024];
        unsigned hdr_len = 32 + m->subject.len; /* "NATS/1.0 503\r\nNats-Subject: X\r\n\r\n" */
        int n = snprintf(line, sizeof line, "HMSG %.*s %.*s %u %u\r\n", (int)m->reply.len,
                         m->reply.ptr, (int)mine->sid_len, mine->sid, hdr_len, hdr_len);
        if (n > 0 && (size_t)n < sizeof line) {
            br_client_queue(c, line, (size_t)n);
            br_client_queue(c, "NATS/1.0 503\r\nNats-Subject: ", 28);
            br_client_queue(c, m->subject.ptr, m->subject.len);
            br_client_queue(c, "\r\n\r\n\r\n", 6);
        }
    }
    sl_result_release(r);
}
