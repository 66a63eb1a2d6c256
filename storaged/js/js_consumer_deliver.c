/* Consumer delivery: message selection (redeliveries, last-per-subject skip list, filters),
 * push delivery (interest, flow control, idle heartbeats, replay original) and pull delivery
 * (the request side is in js_consumer_pull.c).
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: getNextMsg, loopAndGatherMsgs (one pass per
 * call), deliverMsg, convertToHeadersOnly, ackReply, needFlowControl, sendIdleHeartbeat,
 * setRateLimit and calculateNumPending.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_consumer_int.h"

/* --- sending ----------------------------------------------------------------------------- */

/* Go delivers with c.pa.deliver: routed on the deliver subject (push deliver subject or pull
 * reply), shown to the client with the message's original subject (js_deliver). */
void jsc_send(js_consumer *o, const char *dsubj, const char *subj, const char *reply,
              const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t len) {
    js_deliver(o->js, jsc_acc(o), dsubj, subj, reply, (const char *)hdr, hdr_len, data, len);
}

void jsc_send_status(js_consumer *o, const char *subj, const char *reply, const char *hdr) {
    js_publish(o->js, jsc_acc(o), subj, reply, hdr, strlen(hdr), NULL, 0);
}

void jsc_send_status_pending(js_consumer *o, const char *subj, const char *status, int64_t n, int64_t b) {
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
    bool interest = jsc_has_interest(o, o->cfg.deliver_subject);
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
    o->np_pass = -1;
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
        if (o->np_pass >= 0 && dc == 1 && o->np_pass > 0) o->np_pass--;
        uint64_t npend = jsc_pass_pending(o);
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
            jsc_wr *wr = jsc_next_waiting(o, sz);
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
                if (wr->n <= 0) jsc_wr_free(wr);
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
        if (wrn <= 0 && wrb > 0) jsc_send_status_pending(o, dsubj, "409 Batch Completed", wrn, wrb);
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
