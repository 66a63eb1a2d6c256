/* Consumer delivery: message selection (redeliveries, last-per-subject skip list, filters),
 * push delivery (interest, flow control, idle heartbeats, replay original) and pull delivery
 * (the waiting request queue, batch/max_bytes/expires/no_wait/heartbeat, priority groups,
 * and the 404/408/409/400/423 status messages).
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: getNextMsg, loopAndGatherMsgs (one pass per
 * call), deliverMsg, convertToHeadersOnly, ackReply, needFlowControl, sendIdleHeartbeat,
 * nextReqFromMsg, processNextMsgRequest, nextWaiting, processWaiting, waitQueue and
 * calculateNumPending.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_consumer_int.h"

/* --- sending ----------------------------------------------------------------------------- */

/* Go delivers with c.pa.deliver: routed on the deliver subject (push deliver subject or pull
 * reply), shown to the client with the message's original subject.  js_int.h has no such call
 * yet; when the stream side provides js_deliver with this signature it is used, otherwise the
 * message is published on the deliver subject (clients then see that subject). */
extern void js_deliver(js_server *js, const char *dsubj, const char *subj, const char *reply,
                       const char *hdr, size_t hdr_len, const uint8_t *data, size_t len)
    __attribute__((weak));

void jsc_send(js_consumer *o, const char *dsubj, const char *subj, const char *reply,
              const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t len) {
    if (js_deliver) js_deliver(o->js, dsubj, subj, reply, (const char *)hdr, hdr_len, data, len);
    else js_publish(o->js, dsubj, reply, (const char *)hdr, hdr_len, data, len);
}

void jsc_send_status(js_consumer *o, const char *subj, const char *reply, const char *hdr) {
    js_publish(o->js, subj, reply, hdr, strlen(hdr), NULL, 0);
}

static void send_status_pending(js_consumer *o, const char *subj, const char *status, int64_t n, int64_t b) {
    char h[256];
    snprintf(h, sizeof h, "NATS/1.0 %s\r\nNats-Pending-Messages: %" PRId64 "\r\nNats-Pending-Bytes: %" PRId64 "\r\n\r\n",
             status, n, b);
    jsc_send_status(o, subj, NULL, h);
}

void jsc_send_heartbeat(js_consumer *o, const char *subj) {
    char h[512];
    uint64_t sseq = o->sseq ? o->sseq - 1 : 0, dseq = o->dseq ? o->dseq - 1 : 0;
    int n = snprintf(h, sizeof h, "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: %" PRIu64
                                  "\r\nNats-Last-Stream: %" PRIu64 "\r\n",
                     dseq, sseq);
    if (o->fcid[0]) snprintf(h + n, sizeof h - (size_t)n, "Nats-Consumer-Stalled: %s\r\n\r\n", o->fcid);
    else snprintf(h + n, sizeof h - (size_t)n, "\r\n");
    jsc_send_status(o, subj, NULL, h);
}

bool jsc_paused(js_consumer *o) {
    return o->cfg.has_pause_until && o->cfg.pause_until != 0 && js_now(o->js) < o->cfg.pause_until;
}

/* --- waiting queue -------------------------------------------------------------------------- */

static void wr_free(jsc_wr *wr) {
    free(wr->reply);
    free(wr->group);
    free(wr->pin_id);
    free(wr);
}

static void wq_add_tail(jsc_wq *wq, jsc_wr *wr) {
    wr->next = NULL;
    if (!wq->head) wq->head = wr;
    else wq->tail->next = wr;
    wq->tail = wr;
}

static void wq_insert_sorted(jsc_wq *wq, jsc_wr *wr) {
    int prio = wr->has_group ? wr->priority : INT32_MAX;
    jsc_wr *prev = NULL, *cur = wq->head;
    while (cur) {
        int cp = cur->has_group ? cur->priority : INT32_MAX;
        if (cp > prio) break;
        prev = cur;
        cur = cur->next;
    }
    if (!prev) {
        wr->next = wq->head;
        wq->head = wr;
        if (!wr->next) wq->tail = wr;
    } else {
        wr->next = prev->next;
        prev->next = wr;
        if (!wr->next) wq->tail = wr;
    }
}

static void wq_remove(jsc_wq *wq, jsc_wr *pre, jsc_wr *wr) {
    if (pre) pre->next = wr->next;
    else if (wr == wq->head) wq->head = wr->next;
    if (wr == wq->tail) wq->tail = pre;
    wq->n--;
}

static void wq_cycle(jsc_wq *wq) {
    jsc_wr *wr = wq->head;
    if (!wr) return;
    wq_remove(wq, NULL, wr);
    wq_add_tail(wq, wr);
    wq->n++;
}

/* Go pop / popAndRequeue: one delivery from the head request. */
static jsc_wr *wq_pop(js_consumer *o) {
    jsc_wq *wq = &o->waiting;
    jsc_wr *wr = wq->head;
    if (!wr) return NULL;
    wr->d++;
    wr->n--;
    if (o->cfg.priority_policy == JSC_PRIO_PRIORITIZED) {
        if (wr->n > 0 && wq->n > 1) {
            if (!wr->next) return wr;
            wq->head = wr->next;
            wr->next = NULL;
            wq_insert_sorted(wq, wr);
        } else if (wr->n <= 0) {
            wq_remove(wq, NULL, wr);
        }
        return wr;
    }
    if (wr->n > 0 && wq->n > 1) {
        wq_remove(wq, NULL, wr);
        wq_add_tail(wq, wr);
        wq->n++;
    } else if (wr->n <= 0) {
        wq_remove(wq, NULL, wr);
    }
    return wr;
}

/* Drops every waiting request; with a status ("409 Consumer Deleted", "409 Server Shutdown")
 * each requester is told (Go releaseAnyPendingRequests / signalPullConsumers). */
void jsc_wq_clear(js_consumer *o, const char *status, bool pending_hdrs) {
    jsc_wr *wr = o->waiting.head;
    while (wr) {
        jsc_wr *n = wr->next;
        if (status && pending_hdrs) {
            send_status_pending(o, wr->reply, status, wr->n, wr->b);
        } else if (status) {
            char h[128];
            snprintf(h, sizeof h, "NATS/1.0 %s\r\n\r\n", status);
            jsc_send_status(o, wr->reply, NULL, h);
        }
        wr_free(wr);
        wr = n;
    }
    o->waiting.head = o->waiting.tail = NULL;
    o->waiting.n = 0;
}

static bool has_interest(js_consumer *o, const char *subj) {
    const js_host *h = js_server_host(o->js);
    return !h->has_interest || h->has_interest(h->ctx, subj);
}

int64_t jsc_process_waiting(js_consumer *o, bool eos, int64_t *brp) {
    int64_t fexp = 0, now = js_now(o->js);
    *brp = 0;
    jsc_wq *wq = &o->waiting;
    if (!wq->n) return 0;
    jsc_wr *pre = NULL, *wr = wq->head;
    while (wr) {
        bool expires = wr->expires && now >= wr->expires;
        jsc_wr *next = wr->next;
        if ((eos && wr->no_wait) || expires) {
            if (expires) {
                send_status_pending(o, wr->reply, "408 Request Timeout", wr->n, wr->b);
                wq_remove(wq, pre, wr);
                wr_free(wr);
                wr = next;
                continue;
            } else if (!wr->expires || wr->d > 0) {
                jsc_send_status(o, wr->reply, NULL, "NATS/1.0 404 No Messages\r\n\r\n");
                wq_remove(wq, pre, wr);
                wr_free(wr);
                wr = next;
                continue;
            }
        }
        if (!has_interest(o, wr->reply)) {
            wq_remove(wq, pre, wr);
            wr_free(wr);
            wr = next;
            continue;
        }
        *brp += wr->n;
        if (wr->hbt) {
            if (now >= wr->hbt) {
                jsc_send_heartbeat(o, wr->reply);
                wr->hbt = now + wr->hb;
            }
            if (!fexp || wr->hbt < fexp) fexp = wr->hbt;
        }
        if (wr->expires && (!fexp || wr->expires < fexp)) fexp = wr->expires;
        pre = wr;
        wr = next;
    }
    return fexp;
}

static void assign_pin(js_consumer *o, jsc_wr *wr) {
    if (!wr->has_group || !wr->group || !*wr->group) return;
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t r = (uint64_t)rand() * 6364136223846793005ULL + (uint64_t)js_now(o->js);
    for (int i = 0; i < 22; i++) {
        o->pin_id[i] = al[r % 62];
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        r ^= r >> 29;
    }
    o->pin_id[22] = 0;
    free(wr->pin_id);
    wr->pin_id = strdup(o->pin_id);
    o->pinned_ts = js_now(o->js);
    o->pin_deadline = o->pinned_ts + o->cfg.pinned_ttl;
    json_t *e = jsc_event(o->js, "io.nats.jetstream.advisory.v1.consumer_group_pinned");
    json_object_set_new(e, "account", json_string(js_account_name(js_stream_account(o->st))));
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    json_object_set_new(e, "group", json_string(wr->group));
    json_object_set_new(e, "pinned_id", json_string(o->pin_id));
    jsc_advisory(o, "$JS.EVENT.ADVISORY.CONSUMER.PINNED", e);
}

/* Go nextWaiting: the request the next message of size sz goes to, or NULL. */
static jsc_wr *next_waiting(js_consumer *o, int64_t sz) {
    jsc_wq *wq = &o->waiting;
    bool need_pin = !o->pin_id[0] && o->cfg.priority_policy == JSC_PRIO_PINNED;
    int64_t cycled = 0, now = js_now(o->js);
    while (wq->n && wq->head) {
        jsc_wr *wr = wq->head;
        if (!wr->expires || now < wr->expires) {
            bool assigned = false;
            if (need_pin) {
                if (!wr->pin_id || !*wr->pin_id) {
                    assign_pin(o, wr);
                    assigned = true;
                } else {
                    send_status_pending(o, wr->reply, "423 Nats-Wrong-Pin-Id", wr->n, wr->b);
                    wq_remove(wq, NULL, wr);
                    wr_free(wr);
                    continue;
                }
            } else if (o->pin_id[0]) {
                if (wr->pin_id && !strcmp(wr->pin_id, o->pin_id)) {
                } else if (!wr->pin_id || !*wr->pin_id) {
                    wq_cycle(wq);
                    if (++cycled >= wq->n) return NULL;
                    continue;
                } else {
                    send_status_pending(o, wr->reply, "423 Nats-Wrong-Pin-Id", wr->n, wr->b);
                    wq_remove(wq, NULL, wr);
                    wr_free(wr);
                    continue;
                }
            }
            if (o->cfg.priority_policy == JSC_PRIO_OVERFLOW && wr->has_group &&
                (wr->min_pending > 0 || wr->min_ack_pending > 0) &&
                !((wr->min_pending > 0 && (uint64_t)wr->min_pending <= jsc_num_pending(o) + 1) ||
                  (wr->min_ack_pending > 0 && wr->min_ack_pending <= (int64_t)o->pending.n))) {
                wq_cycle(wq);
                if (++cycled >= wq->n) return NULL;
                continue;
            }
            if (wr->b > 0) {
                if (sz <= wr->b) {
                    wr->b -= sz;
                    if (wr->b == 0) wr->n = 1;
                } else {
                    send_status_pending(o, wr->reply, "409 Message Size Exceeds MaxBytes", wr->n, wr->b);
                    if (assigned) o->pin_id[0] = 0;
                    wq_remove(wq, NULL, wr);
                    wr_free(wr);
                    continue;
                }
            }
            if (has_interest(o, wr->reply)) return wq_pop(o);
        } else {
            send_status_pending(o, wr->reply, "408 Request Timeout", wr->n, wr->b);
            wq_remove(wq, NULL, wr);
            wr_free(wr);
            continue;
        }
        wq_remove(wq, NULL, wr);
        wr_free(wr);
    }
    return NULL;
}

/* --- pending count -------------------------------------------------------------------------- */

uint64_t jsc_num_pending(js_consumer *o) {
    sd_store *st = js_stream_store(o->st);
    uint64_t total = 0, vt = 0;
    bool lps = o->lss_active;
    sd_stream_state ss;
    jsc_stream_state(o, &ss);
    if (o->sseq > ss.last_seq) return 0;
    if (o->nfilters > 1) sd_store_num_pending_multi(st, o->sseq, &o->fset, lps, &total, &vt);
    else sd_store_num_pending(st, o->sseq, o->nfilters ? o->filters[0] : "", lps, &total, &vt);
    return total;
}

/* --- message selection ---------------------------------------------------------------------- */

static uint64_t inc_dc(js_consumer *o, uint64_t seq) {
    jsc_ent *e = jsc_map_put(&o->rdc, seq);
    e->a++;
    return e->a + 1;
}
/* Go decDeliveryCount: the entry stays (a zero count still marks the message as redelivered,
 * as Go's map does). */
static void dec_dc(js_consumer *o, uint64_t seq) {
    jsc_ent *e = jsc_map_put(&o->rdc, seq);
    if (e->a > 0) e->a--;
}

#define ERR_MAX_ACK_PENDING 1
#define ERR_EOF 2
#define ERR_OTHER 3

/* Go getNextMsg: 0 with sm filled and *dc, or ERR_*. */
static int get_next_msg(js_consumer *o, sd_store_msg *sm, uint64_t *dc) {
    sd_store *store = js_stream_store(o->st);
    while (o->rdq_len) {
        uint64_t seq = jsc_rdq_pop(o);
        uint64_t d = inc_dc(o, seq);
        if (o->maxdc > 0 && d > o->maxdc) {
            if (d == o->maxdc + 1) jsc_notify_delivery_exceeded(o, seq, d - 1);
            jsc_ent *p = jsc_map_get(&o->pending, seq);
            if (p) {
                uint64_t pd = p->a;
                int64_t ts = p->b;
                jsc_map_del(&o->pending, seq);
                jsc_update_delivered(o, pd, seq, d, ts);
                jsc_move_ack_floor(o, pd, seq);
            }
            continue;
        }
        int rc = sd_store_load_msg(store, seq, sm);
        if (rc != 0) {
            dec_dc(o, seq);
            if (rc == SD_ERR_MSG_NOT_FOUND) {
                jsc_ent *p = jsc_map_get(&o->pending, seq);
                if (p) jsc_process_term(o, seq, p->a, d - 1, "Unacknowledged message was deleted", NULL, NULL);
                continue;
            }
            return ERR_OTHER;
        }
        *dc = d;
        return 0;
    }
    if (o->maxp > 0 && (int64_t)o->pending.n >= o->maxp) return ERR_MAX_ACK_PENDING;
    if (o->lss_active) {
        uint64_t seq = o->lss[o->lss_idx];
        if (o->lss_idx + 1 >= o->lss_len) {
            o->sseq = o->lss_resume;
            o->lss_active = false;
        } else {
            o->lss_idx++;
            o->sseq = seq;
        }
        int rc = sd_store_load_msg(store, seq, sm);
        o->sseq++;
        *dc = 1;
        return rc == 0 ? 0 : ERR_OTHER;
    }
    uint64_t seq = 0;
    int rc;
    if (o->nfilters > 1) rc = sd_store_load_next_msg_multi(store, &o->fset, o->sseq, sm, &seq);
    else if (o->nfilters == 1)
        rc = sd_store_load_next_msg(store, o->filters[0], !nx_subject_is_literal(o->filters[0], strlen(o->filters[0])),
                                    o->sseq, sm, &seq);
    else rc = sd_store_load_next_msg(store, "", false, o->sseq, sm, &seq);
    if (seq >= o->sseq) o->sseq = seq + 1;
    *dc = 1;
    if (rc == SD_ERR_STORE_EOF) return ERR_EOF;
    return rc == 0 ? 0 : ERR_OTHER;
}

/* --- delivery ------------------------------------------------------------------------------- */

static bool need_flow_control(js_consumer *o, int64_t sz) {
    if (o->maxpb == 0) return false;
    if (!o->fcid[0] && o->pbytes > o->maxpb / 2) return true;
    if (!o->fcid[0] && o->cfg.ack_policy == SD_ACK_FLOW_CONTROL && o->maxp > 0 && (int64_t)o->pending.n >= o->maxp)
        return true;
    if (o->fcid[0] && (o->pbytes - o->fcsz) >= o->maxpb) o->fcsz += sz;
    return false;
}

static void deliver_msg(js_consumer *o, const char *dsubj, const char *reply, const sd_store_msg *sm,
                        const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t len, uint64_t dc) {
    uint64_t dseq = o->dseq++;
    int64_t psz = (int64_t)(strlen(dsubj) + strlen(reply) + hdr_len + len);
    if (o->maxpb > 0) o->pbytes += psz;
    jsc_update_delivered(o, dseq, sm->seq, dc, sm->ts);
    if (o->cfg.ack_policy == SD_ACK_NONE) {
        o->adflr = dseq;
        o->asflr = sm->seq;
    } else {
        jsc_track_pending(o, sm->seq, dseq);
    }
    char *subj = jsc_strndup(sm->subj, sm->subj_len);
    jsc_send(o, dsubj, subj, reply, hdr, hdr_len, data, len);
    free(subj);
    if (o->maxpb > 0 && need_flow_control(o, psz)) jsc_send_flow_control(o);
    if (o->pull && o->dthresh > 0) o->waiting.last = js_now(o->js);
    if (o->cfg.ack_policy == SD_ACK_NONE && js_stream_retention(o->st) != SD_RETENTION_LIMITS)
        jsc_stream_ack_msg(o, sm->seq);
}

/* Builds the delivered header block: Go convertToHeadersOnly (Nats-Msg-Size) and, for pinned
 * pull consumers, genHeader(Nats-Pin-Id).  Returns a malloc'd block. */
static uint8_t *build_hdr(js_consumer *o, const uint8_t *hdr, size_t hdr_len, size_t msg_len,
                          bool headers_only, const char *pin, size_t *out_len) {
    size_t cap = hdr_len + 128;
    uint8_t *h = malloc(cap);
    if (!h) abort();
    (void)o;
    if (!headers_only && !pin) {
        if (hdr_len) memcpy(h, hdr, hdr_len);
        *out_len = hdr_len;
        return h;
    }
    size_t n;
    if (hdr_len >= 4) {
        memcpy(h, hdr, hdr_len - 2); /* drop the final CRLF */
        n = hdr_len - 2;
    } else {
        memcpy(h, "NATS/1.0\r\n", 10);
        n = 10;
    }
    if (headers_only) n += (size_t)snprintf((char *)h + n, cap - n, "Nats-Msg-Size: %zu\r\n", msg_len);
    if (pin) n += (size_t)snprintf((char *)h + n, cap - n, "Nats-Pin-Id: %s\r\n", pin);
    memcpy(h + n, "\r\n", 2);
    n += 2;
    *out_len = n;
    return h;
}

/* Puts a message taken by get_next_msg back (held for replay timing or the rate limit). */
static void unget(js_consumer *o, const sd_store_msg *sm, uint64_t dc, uint64_t sseq_before,
                  bool lss_before, size_t lss_idx_before) {
    if (dc == 1) {
        o->sseq = sseq_before;
        o->lss_active = lss_before;
        o->lss_idx = lss_idx_before;
    } else {
        dec_dc(o, sm->seq);
        if (o->rdq_len == o->rdq_cap) jsc_rdq_add(o, 0), o->rdq_len--;
        memmove(o->rdq + 1, o->rdq, o->rdq_len * sizeof *o->rdq);
        o->rdq_len++;
        o->rdq[0] = sm->seq;
    }
}

/* Go rate.Limiter.ReserveN: rate in bytes/s (rate_limit_bps / 8), burst the stream's
 * max_msg_size or the server's max_payload.  Returns how long to wait (ns). */
static int64_t rate_reserve(js_consumer *o, int64_t sz) {
    double rate = (double)(o->cfg.rate_limit / 8);
    int64_t burst = jsc_stream_cfg_int(o->st, "max_msg_size");
    if (burst <= 0) burst = js_server_config(o->js)->max_payload;
    if (burst <= 0) burst = 1024 * 1024;
    int64_t now = js_now(o->js);
    if (!o->rl_last) {
        o->rl_tokens = (double)burst;
    } else if (rate > 0) {
        o->rl_tokens += (double)(now - o->rl_last) * rate / 1e9;
        if (o->rl_tokens > (double)burst) o->rl_tokens = (double)burst;
    }
    o->rl_last = now;
    o->rl_tokens -= (double)sz;
    if (o->rl_tokens >= 0 || rate <= 0) return 0;
    return (int64_t)(-o->rl_tokens / rate * 1e9);
}

void jsc_push_interest(js_consumer *o) {
    if (o->pull || o->closed) return;
    bool interest = has_interest(o, o->cfg.deliver_subject);
    int64_t now = js_now(o->js);
    o->active = interest;
    if (!interest) {
        o->interest_poll = now + 250 * JSC_NS_MS;
        if (o->dthresh > 0 && !o->dtmr) o->dtmr = now + o->dthresh;
    } else {
        /* Go learns of lost interest through sublist notifications; here ephemerals poll so
         * that their inactive threshold starts when the subscriber goes away. */
        o->interest_poll = o->dthresh > 0 ? now + JSC_NS_S : 0;
        o->dtmr = 0;
    }
}

void jsc_deliver(js_consumer *o) {
    sd_store_msg sm = {0};
    int err = 0;
    if (!o->pull) {
        bool was = o->active;
        jsc_push_interest(o);
        if (!o->active && was) {
            /* lost interest */
        }
    }
    while (!o->closed) {
        if (jsc_paused(o)) break;
        if (!o->pull) {
            if (!o->active || (o->maxpb > 0 && o->pbytes > o->maxpb)) break;
        } else if (!o->waiting.n) {
            break;
        }
        if (o->replay_due && js_now(o->js) < o->replay_due) break;
        uint64_t dc = 0;
        uint64_t sseq_before = o->sseq;
        bool lss_before = o->lss_active;
        size_t lss_idx_before = o->lss_idx;
        err = get_next_msg(o, &sm, &dc);
        if (err) break;
        /* Replay original: hold the message until its time comes. */
        if (o->replay && o->lts > 0 && !o->replay_due) {
            int64_t delay = sm.ts - o->lts;
            if (delay > JSC_NS_MS) {
                unget(o, &sm, dc, sseq_before, lss_before, lss_idx_before);
                o->replay_due = js_now(o->js) + delay;
                break;
            }
        }
        bool was_held = o->replay_due != 0;
        o->replay_due = 0;
        char reply[1024];
        uint64_t npend = jsc_num_pending(o);
        snprintf(reply, sizeof reply, "$JS.ACK.%s.%s.%" PRIu64 ".%" PRIu64 ".%" PRIu64 ".%" PRId64 ".%" PRIu64,
                 o->stream, o->name, dc, sm.seq, o->dseq, sm.ts, npend);
        bool hdr_only = o->cfg.headers_only;
        size_t hlen;
        uint8_t *hdr = build_hdr(o, sm.hdr, sm.hdr_len, sm.msg_len, hdr_only, NULL, &hlen);
        const uint8_t *data = hdr_only ? NULL : sm.msg;
        size_t dlen = hdr_only ? 0 : sm.msg_len;
        int64_t sz = (int64_t)(sm.subj_len + strlen(reply) + hlen + dlen);
        /* Rate limit (push only): reserve sz bytes; wait when the bucket is short. */
        if (o->cfg.rate_limit && !(was_held && o->rl_reserved)) {
            int64_t delay = rate_reserve(o, sz);
            if (delay > 0) {
                unget(o, &sm, dc, sseq_before, lss_before, lss_idx_before);
                o->replay_due = js_now(o->js) + delay;
                o->rl_reserved = true;
                free(hdr);
                break;
            }
        }
        o->rl_reserved = false;
        char *dsubj = NULL;
        int64_t wrn = 0, wrb = 0;
        if (!o->pull) {
            dsubj = strdup(o->cfg.deliver_subject);
        } else {
            jsc_wr *wr = next_waiting(o, sz);
            if (wr) {
                wrn = wr->n;
                wrb = wr->b;
                dsubj = strdup(wr->reply);
                if (o->cfg.priority_policy == JSC_PRIO_PINNED) {
                    size_t nl;
                    uint8_t *nh = build_hdr(o, hdr, hlen, 0, false, o->pin_id, &nl);
                    free(hdr);
                    hdr = nh;
                    hlen = nl;
                }
                if (wr->n <= 0) wr_free(wr);
                else if (wr->hb > 0) wr->hbt = js_now(o->js) + wr->hb;
            } else {
                if (dc == 1 && sm.seq == o->sseq - 1) {
                    o->sseq--;
                } else if (!jsc_on_rdq(o, sm.seq)) {
                    dec_dc(o, sm.seq);
                    jsc_rdq_add(o, sm.seq);
                }
                free(hdr);
                break;
            }
        }
        o->lts = sm.ts;
        deliver_msg(o, dsubj, reply, &sm, hdr, hlen, data, dlen, dc);
        if (wrn <= 0 && wrb > 0) send_status_pending(o, dsubj, "409 Batch Completed", wrn, wrb);
        if (!o->pull && o->cfg.heartbeat) o->hb_deadline = js_now(o->js) + o->cfg.heartbeat;
        free(hdr);
        free(dsubj);
    }
    if (o->closed) {
        sd_store_msg_free(&sm);
        return;
    }
    if (o->replay && o->sseq > o->replay_lseq) o->replay = false;
    if (o->pull) {
        int64_t brp;
        jsc_process_waiting(o, err != ERR_MAX_ACK_PENDING, &brp);
    }
    sd_store_msg_free(&sm);
}

/* --- pull requests -------------------------------------------------------------------------- */

static void send_err(js_consumer *o, const char *reply, int status, const char *desc) {
    char h[1024];
    snprintf(h, sizeof h, "NATS/1.0 %d %s\r\n\r\n", status, desc);
    jsc_send_status(o, reply, NULL, h);
}

static bool jint(json_t *j, const char *k, int64_t *out, char *err, size_t el) {
    json_t *v = json_object_get(j, k);
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v)) {
        snprintf(err, el, "json: cannot unmarshal %s into Go struct field JSApiConsumerGetNextRequest.%s of type %s",
                 json_is_string(v) ? "string" : json_is_boolean(v) ? "bool" : json_is_real(v) ? "number" : "value",
                 k, (!strcmp(k, "expires") || !strcmp(k, "idle_heartbeat")) ? "time.Duration" : "int");
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

void jsc_process_next_request(js_consumer *o, const char *reply, const uint8_t *msg, size_t len) {
    if (!reply || !*reply) return;
    if (!o->pull) {
        send_err(o, reply, 409, "Consumer is push based");
        return;
    }
    int64_t now = js_now(o->js);
    while (len && isspace(*msg)) msg++, len--;
    while (len && isspace(msg[len - 1])) len--;
    int64_t expires = 0, batch = 1, max_bytes = 0, hb = 0, hbt = 0;
    bool no_wait = false, has_group = false;
    char *group = NULL, *id = NULL;
    int64_t min_pending = 0, min_ack_pending = 0, priority = 0;
    if (len && msg[0] == '{') {
        json_error_t je;
        json_t *j = json_loadb((const char *)msg, len, 0, &je);
        char err[512] = "";
        if (!j) {
            snprintf(err, sizeof err, "%s", je.text);
        } else {
            int64_t exp = 0;
            batch = 0;
            bool ok = jint(j, "expires", &exp, err, sizeof err) && jint(j, "batch", &batch, err, sizeof err) &&
                      jint(j, "max_bytes", &max_bytes, err, sizeof err) &&
                      jint(j, "idle_heartbeat", &hb, err, sizeof err) &&
                      jint(j, "min_pending", &min_pending, err, sizeof err) &&
                      jint(j, "min_ack_pending", &min_ack_pending, err, sizeof err) &&
                      jint(j, "priority", &priority, err, sizeof err);
            json_t *nw = json_object_get(j, "no_wait");
            if (ok && nw && !json_is_null(nw)) {
                if (!json_is_boolean(nw)) {
                    snprintf(err, sizeof err, "json: cannot unmarshal value into Go struct field "
                                              "JSApiConsumerGetNextRequest.no_wait of type bool");
                    ok = false;
                } else {
                    no_wait = json_is_true(nw);
                }
            }
            json_t *g = json_object_get(j, "group"), *idv = json_object_get(j, "id");
            if (json_is_string(g)) group = strdup(json_string_value(g));
            if (json_is_string(idv)) id = strdup(json_string_value(idv));
            has_group = true;
            if (ok && hb > 0 && hb * 2 > exp) {
                snprintf(err, sizeof err, "heartbeat value too large");
                ok = false;
            }
            if (ok) {
                if (hb > 0) hbt = now + hb;
                if (exp) expires = now + exp;
                err[0] = 0;
            }
            json_decref(j);
        }
        if (err[0]) {
            char d[600];
            snprintf(d, sizeof d, "Bad Request - %s", err);
            send_err(o, reply, 400, d);
            free(group);
            free(id);
            return;
        }
    } else if (len) {
        char b[32];
        size_t l = len < sizeof b - 1 ? len : sizeof b - 1;
        memcpy(b, msg, l);
        b[l] = 0;
        char *end;
        long v = strtol(b, &end, 10);
        if (*b && !*end) batch = v;
    }
    char d[256];
    if (o->cfg.max_batch > 0 && batch > o->cfg.max_batch) {
        snprintf(d, sizeof d, "Exceeded MaxRequestBatch of %" PRId64, o->cfg.max_batch);
        goto fail409;
    }
    if (expires && o->cfg.max_expires > 0 && expires > now + o->cfg.max_expires) {
        char dur[64];
        jsc_fmt_duration(o->cfg.max_expires, dur, sizeof dur);
        snprintf(d, sizeof d, "Exceeded MaxRequestExpires of %s", dur);
        goto fail409;
    }
    if (max_bytes > 0 && o->cfg.max_bytes > 0 && max_bytes > o->cfg.max_bytes) {
        snprintf(d, sizeof d, "Exceeded MaxRequestMaxBytes of %" PRId64, o->cfg.max_bytes);
        goto fail409;
    }
    if (has_group) {
        const char *bad = NULL;
        if ((min_pending || min_ack_pending) && o->cfg.priority_policy != JSC_PRIO_OVERFLOW)
            bad = "Bad Request - Not a Overflow Priority consumer";
        else if (id && *id && o->cfg.priority_policy != JSC_PRIO_PINNED)
            bad = "Bad Request - Not a Pinned Client Priority consumer";
        else if (priority < 0 || priority > 9)
            bad = "Bad Request - Priority must be between 0 and 9";
        if (!bad && o->cfg.priority_policy != JSC_PRIO_NONE) {
            if (!group || !*group) {
                bad = "Bad Request - Priority Group missing";
            } else {
                bool found = false;
                for (size_t i = 0; i < o->cfg.npriority_groups; i++)
                    if (!strcmp(o->cfg.priority_groups[i], group)) found = true;
                if (!found) bad = "Bad Request - Invalid Priority Group";
            }
            if (!bad && o->pin_id[0]) {
                if (id && !strcmp(id, o->pin_id)) {
                    o->pin_deadline = now + o->cfg.pinned_ttl;
                } else if (id && *id) {
                    send_err(o, reply, 423, "Nats-Pin-Id mismatch");
                    free(group);
                    free(id);
                    return;
                }
            }
        }
        if (bad) {
            send_err(o, reply, 400, bad);
            free(group);
            free(id);
            return;
        }
    }
    if (o->waiting.max > 0 && o->waiting.n >= o->waiting.max) {
        int64_t brp;
        jsc_process_waiting(o, false, &brp);
    }
    if (no_wait) {
        uint64_t mp = jsc_num_pending(o) + o->rdq_len;
        if (mp == 0 && !expires) {
            o->waiting.last = now;
            send_err(o, reply, 404, "No Messages");
            free(group);
            free(id);
            return;
        }
        if (mp > 0) {
            int64_t brp;
            jsc_process_waiting(o, false, &brp);
            if (mp < (uint64_t)brp) {
                o->waiting.last = now;
                send_err(o, reply, 408, "Requests Pending");
                free(group);
                free(id);
                return;
            }
        }
    }
    jsc_wr *wr = calloc(1, sizeof *wr);
    if (!wr) abort();
    wr->reply = strdup(reply);
    wr->n = batch;
    wr->b = max_bytes;
    wr->no_wait = no_wait;
    wr->expires = expires;
    wr->hb = hb;
    wr->hbt = hbt;
    wr->received = now;
    wr->has_group = has_group;
    wr->group = group;
    wr->pin_id = id;
    wr->min_pending = min_pending;
    wr->min_ack_pending = min_ack_pending;
    wr->priority = (int)priority;
    if (o->waiting.max > 0 && o->waiting.n >= o->waiting.max) {
        if (hb == 0) send_err(o, reply, 409, "Exceeded MaxWaiting");
        wr_free(wr);
        return;
    }
    if (o->cfg.priority_policy == JSC_PRIO_PRIORITIZED) wq_insert_sorted(&o->waiting, wr);
    else wq_add_tail(&o->waiting, wr);
    o->waiting.n++;
    o->waiting.last = now;
    jsc_deliver(o);
    return;
fail409:
    send_err(o, reply, 409, d);
    free(group);
    free(id);
}
