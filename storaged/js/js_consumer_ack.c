/* Consumer acknowledgements: the $JS.ACK reply subjects (+ACK, -NAK with delay, +WPI, +TERM
 * with reason, +NXT), ack floors, the pending/redelivery bookkeeping, ack-wait redelivery with
 * backoff, max deliveries, flow control replies, interest/workqueue removal, and the consumer
 * advisories that go with them.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: processAck, processAckMsgLocked,
 * moveAckFloor, processNak, processTermLocked, progressUpdate, ackReplyInfo, checkPending,
 * trackPending, needAck, isFilteredMatch, hasMaxDeliveries, processFlowControl,
 * sendFlowControl, sampleAck, notifyDeliveryExceeded; and server/stream.go ackMsg.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/subject.h"
#include "storaged/js/js_consumer_int.h"

/* --- redelivery queue ------------------------------------------------------------------- */

bool jsc_on_rdq(js_consumer *o, uint64_t seq) {
    for (size_t i = 0; i < o->rdq_len; i++)
        if (o->rdq[i] == seq) return true;
    return false;
}
void jsc_rdq_add(js_consumer *o, uint64_t seq) {
    if (o->rdq_len == o->rdq_cap) {
        o->rdq_cap = o->rdq_cap ? o->rdq_cap * 2 : 16;
        o->rdq = realloc(o->rdq, o->rdq_cap * sizeof *o->rdq);
        if (!o->rdq) abort();
    }
    o->rdq[o->rdq_len++] = seq;
}
bool jsc_rdq_remove(js_consumer *o, uint64_t seq) {
    for (size_t i = 0; i < o->rdq_len; i++)
        if (o->rdq[i] == seq) {
            memmove(&o->rdq[i], &o->rdq[i + 1], (o->rdq_len - i - 1) * sizeof *o->rdq);
            o->rdq_len--;
            return true;
        }
    return false;
}
uint64_t jsc_rdq_pop(js_consumer *o) {
    if (!o->rdq_len) return 0;
    uint64_t s = o->rdq[0];
    memmove(&o->rdq[0], &o->rdq[1], (o->rdq_len - 1) * sizeof *o->rdq);
    o->rdq_len--;
    return s;
}

int64_t jsc_ack_wait(js_consumer *o, int64_t next) {
    if (next > 0) return next + JSC_NS_MS;
    return o->cfg.ack_wait + JSC_NS_MS;
}

/* --- store updates ------------------------------------------------------------------------- */

void jsc_update_delivered(js_consumer *o, uint64_t dseq, uint64_t sseq, uint64_t dc, int64_t ts) {
    if (o->store) {
        o->store->ops->update_delivered(o->store, dseq, sseq, dc, ts);
        js_stream_mark_dirty(o->st);
    }
    o->ldt = js_now(o->js);
}

void jsc_update_acks(js_consumer *o, uint64_t dseq, uint64_t sseq, const char *reply) {
    if (o->store) {
        o->store->ops->update_acks(o->store, dseq, sseq);
        js_stream_mark_dirty(o->st);
        if (reply && *reply) js_publish_after_sync(o->js, jsc_acc(o), reply, NULL, 0, NULL, 0);
    }
    o->lat = js_now(o->js);
}

void jsc_track_pending(js_consumer *o, uint64_t sseq, uint64_t dseq) {
    int64_t now = js_now(o->js);
    jsc_ent *p = jsc_map_get(&o->pending, sseq);
    if (p) {
        p->b = now;
    } else {
        p = jsc_map_put(&o->pending, sseq);
        p->a = dseq;
        p->b = now;
    }
    int64_t min_delay = jsc_ack_wait(o, 0);
    if (o->cfg.nbackoff) {
        jsc_ent *r = jsc_map_get(&o->rdc, sseq);
        size_t bi = r ? (size_t)r->a : 0;
        if (bi >= o->cfg.nbackoff) bi = o->cfg.nbackoff - 1;
        min_delay = jsc_ack_wait(o, o->cfg.backoff[bi]);
    }
    if (!o->ptmr || o->ptmr > now + min_delay) o->ptmr = now + min_delay;
}

void jsc_move_ack_floor(js_consumer *o, uint64_t dseq, uint64_t sseq) {
    if (o->pending.n == 0) {
        o->adflr = o->dseq - 1;
        o->asflr = o->sseq - 1;
    } else if (dseq == o->adflr + 1) {
        o->adflr = dseq;
        o->asflr = sseq;
        for (uint64_t ss = sseq + 1; ss < o->sseq; ss++) {
            jsc_ent *p = jsc_map_get(&o->pending, ss);
            if (p) {
                if (p->a > 0) {
                    o->adflr = p->a - 1;
                    o->asflr = ss - 1;
                }
                break;
            }
        }
    }
}

/* --- interest ---------------------------------------------------------------------------------- */

bool jsc_is_filtered_match(js_consumer *o, const char *subj) {
    if (!o->nfilters) return true;
    if (!subj) return false;
    size_t l = strlen(subj);
    for (size_t i = 0; i < o->nfilters; i++)
        if (nx_subject_match_literal(subj, l, o->filters[i], strlen(o->filters[i]))) return true;
    return false;
}

static bool is_filtered(js_consumer *o) {
    if (!o->nfilters) return false;
    const json_t *cfg = js_stream_config_json(o->st);
    json_t *subs = cfg ? json_object_get(cfg, "subjects") : NULL;
    size_t ns = json_array_size(subs);
    if (ns == 1 && o->nfilters == 1) return strcmp(json_string_value(json_array_get(subs, 0)), o->filters[0]) != 0;
    if (ns != o->nfilters) return true;
    for (size_t i = 0; i < ns; i++) {
        const char *s = json_string_value(json_array_get(subs, i));
        bool found = false;
        for (size_t k = 0; k < o->nfilters && !found; k++) found = s && !strcmp(s, o->filters[k]);
        if (!found) return true;
    }
    return false;
}

bool jsc_need_ack(js_consumer *o, uint64_t sseq, const char *subj) {
    if (is_filtered(o)) {
        if (!subj || !jsc_is_filtered_match(o, subj)) return false;
    }
    bool need = false;
    switch (o->cfg.ack_policy) {
    case SD_ACK_NONE:
    case SD_ACK_ALL:
    case SD_ACK_FLOW_CONTROL:
        need = sseq > o->asflr;
        break;
    case SD_ACK_EXPLICIT:
        if (sseq > o->asflr) need = sseq >= o->sseq ? true : jsc_map_get(&o->pending, sseq) != NULL;
        break;
    }
    if (!need) need = jsc_map_get(&o->rdc, sseq) != NULL;
    return need;
}

/* Go mset.ackMsg: remove seq from an interest/workqueue stream once no consumer needs it. */
void jsc_stream_ack_msg(js_consumer *o, uint64_t seq) {
    if (!seq || js_stream_retention(o->st) == SD_RETENTION_LIMITS) return;
    sd_stream_state ss;
    jsc_stream_state(o, &ss);
    if (seq > ss.last_seq || seq < ss.first_seq) return;
    if (!js_consumers_all_acked(o->st, seq)) return;
    if (sd_store_remove_msg(js_stream_store(o->st), seq) > 0) js_stream_mark_dirty(o->st);
}

/* --- advisories --------------------------------------------------------------------------------- */

static json_t *seq_event(js_consumer *o, const char *type, uint64_t dseq, uint64_t sseq, uint64_t dc) {
    json_t *e = jsc_event(o->js, type);
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    json_object_set_new(e, "consumer_seq", json_integer((json_int_t)dseq));
    json_object_set_new(e, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(e, "deliveries", json_integer((json_int_t)dc));
    return e;
}

void jsc_notify_delivery_exceeded(js_consumer *o, uint64_t sseq, uint64_t dc) {
    json_t *e = jsc_event(o->js, "io.nats.jetstream.advisory.v1.max_deliver");
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    json_object_set_new(e, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(e, "deliveries", json_integer((json_int_t)dc));
    jsc_advisory(o, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES", e);
}

static void sample_ack(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc) {
    if (o->sfreq <= 0) return;
    if (o->sfreq < 100 && (rand() % 100) > o->sfreq) return;
    jsc_ent *p = jsc_map_get(&o->pending, sseq);
    json_t *e = jsc_event(o->js, "io.nats.jetstream.metric.v1.consumer_ack");
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    json_object_set_new(e, "consumer_seq", json_integer((json_int_t)dseq));
    json_object_set_new(e, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(e, "ack_time", json_integer(p ? js_now(o->js) - p->b : 0));
    json_object_set_new(e, "deliveries", json_integer((json_int_t)dc));
    jsc_advisory(o, "$JS.EVENT.METRIC.CONSUMER.ACK", e);
}

/* --- ack processing ------------------------------------------------------------------------------ */

bool jsc_process_ack_msg(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc,
                         const char *reply, bool do_sample) {
    if (o->closed) return false;
    if (sseq >= o->sseq && !o->cfg.flow_control) return false;
    bool in_place = js_stream_retention(o->st) != SD_RETENTION_LIMITS;
    uint64_t sgap = 0, floor = 0;
    bool need_signal = false;
    switch (o->cfg.ack_policy) {
    case SD_ACK_EXPLICIT: {
        jsc_ent *p = jsc_map_get(&o->pending, sseq);
        if (p) {
            if (do_sample) sample_ack(o, sseq, dseq, dc);
            if (o->maxp > 0 && (int64_t)o->pending.n >= o->maxp) need_signal = true;
            dseq = p->a;
            jsc_map_del(&o->pending, sseq);
            jsc_move_ack_floor(o, dseq, sseq);
        }
        jsc_map_del(&o->rdc, sseq);
        jsc_rdq_remove(o, sseq);
        break;
    }
    case SD_ACK_ALL:
    case SD_ACK_FLOW_CONTROL: {
        if (dseq <= o->adflr || sseq <= o->asflr) return true;
        if (o->maxp > 0 && (int64_t)o->pending.n >= o->maxp) need_signal = true;
        sgap = sseq - o->asflr;
        floor = sseq;
        o->adflr = dseq;
        o->asflr = sseq;
        size_t n;
        uint64_t *k = jsc_map_keys_sorted(&o->pending, &n);
        for (size_t i = 0; i < n; i++) {
            if (k[i] > sseq) break;
            jsc_map_del(&o->pending, k[i]);
            jsc_map_del(&o->rdc, k[i]);
            jsc_rdq_remove(o, k[i]);
            if (k[i] < floor) floor = k[i];
        }
        free(k);
        break;
    }
    case SD_ACK_NONE:
        return in_place;
    }
    if (in_place) reply = NULL;
    jsc_update_acks(o, dseq, sseq, reply);
    if (in_place) {
        if (sgap > 1) {
            for (uint64_t s = sseq; s >= floor && s > 0; s--) jsc_stream_ack_msg(o, s);
        } else {
            jsc_stream_ack_msg(o, sseq);
        }
    }
    if (need_signal) jsc_deliver(o);
    return in_place;
}

void jsc_process_term(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc,
                      const char *reason, const char *reply, bool *acked_in_place) {
    bool r = jsc_process_ack_msg(o, sseq, dseq, dc, reply, false);
    if (acked_in_place) *acked_in_place = r;
    json_t *e = seq_event(o, "io.nats.jetstream.advisory.v1.terminated", dseq, sseq, dc);
    if (reason && *reason) json_object_set_new(e, "reason", json_string(reason));
    jsc_advisory(o, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED", e);
}

static void process_nak(js_consumer *o, uint64_t sseq, uint64_t dseq, uint64_t dc,
                        const uint8_t *nak, size_t len) {
    if (dseq <= o->adflr || dseq > o->dseq) return;
    if (!jsc_map_get(&o->pending, sseq)) return;
    jsc_advisory(o, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED",
                 seq_event(o, "io.nats.jetstream.advisory.v1.nak", dseq, sseq, dc));
    if (len > 4) {
        const uint8_t *a = nak + 4, *e = nak + len;
        while (a < e && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')) a++;
        while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
        if (a < e) {
            int64_t d = 0;
            int err = 0;
            if (*a == '{') {
                json_t *j = json_loadb((const char *)a, (size_t)(e - a), 0, NULL);
                json_t *dv = j ? json_object_get(j, "delay") : NULL;
                if (!j || (dv && !json_is_integer(dv))) err = 1;
                else if (dv) d = json_integer_value(dv);
                if (j) json_decref(j);
            } else {
                char *s = jsc_strndup((const char *)a, (size_t)(e - a));
                err = nx_parse_duration(s, &d) != 0;
                free(s);
            }
            if (!err) {
                jsc_rdq_remove(o, sseq);
                jsc_ent *p = jsc_map_get(&o->pending, sseq);
                if (p) {
                    p->b = js_now(o->js) - o->cfg.ack_wait + d;
                    jsc_update_delivered(o, p->a, sseq, dc, p->b);
                    if (o->ptmr) o->ptmr = js_now(o->js) + 10 * JSC_NS_MS;
                }
                return;
            }
        }
    }
    if (!jsc_on_rdq(o, sseq)) jsc_rdq_add(o, sseq);
    jsc_deliver(o);
}

static void progress_update(js_consumer *o, uint64_t seq) {
    jsc_ent *p = jsc_map_get(&o->pending, seq);
    if (p) {
        p->b = js_now(o->js);
        jsc_update_delivered(o, p->a, seq, 1, p->b);
    }
}

static int64_t parse_num(const char *s, size_t n) {
    if (!n) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Go ackReplyInfo plus the stream/consumer names.  false when not an ack subject. */
static bool ack_reply_info(const char *subj, size_t len, char *stream, size_t scap, char *cons,
                           size_t ccap, uint64_t *sseq, uint64_t *dseq, uint64_t *dc) {
    const char *tok[16];
    size_t tl[16], nt = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || subj[i] == '.') {
            if (nt < 16) {
                tok[nt] = subj + start;
                tl[nt] = i - start;
            }
            nt++;
            start = i + 1;
        }
    }
    if ((nt != 9 && nt < 11) || nt > 16) return false;
    if (tl[0] != 3 || memcmp(tok[0], "$JS", 3) || tl[1] != 3 || memcmp(tok[1], "ACK", 3)) return false;
    size_t off = nt >= 11 ? 4 : 2;
    snprintf(stream, scap, "%.*s", (int)tl[off], tok[off]);
    snprintf(cons, ccap, "%.*s", (int)tl[off + 1], tok[off + 1]);
    *dc = (uint64_t)parse_num(tok[off + 2], tl[off + 2]);
    *sseq = (uint64_t)parse_num(tok[off + 3], tl[off + 3]);
    *dseq = (uint64_t)parse_num(tok[off + 4], tl[off + 4]);
    return true;
}

static js_consumer *find_consumer(js_server *js, const js_inmsg *m, const char *stream, const char *cons) {
    js_account *acc = js_server_account(js, m->account);
    js_stream *st = acc ? js_account_stream(acc, stream) : NULL;
    return st ? jsc_lookup(st, cons) : NULL;
}

static bool has_prefix(const uint8_t *m, size_t len, const char *p) {
    size_t l = strlen(p);
    return len >= l && !memcmp(m, p, l);
}
static bool equals(const uint8_t *m, size_t len, const char *p) {
    return len == strlen(p) && !memcmp(m, p, len);
}

void js_consumer_ack(js_server *js, const js_inmsg *m) {
    char stream[256], cons[256];
    uint64_t sseq = 0, dseq = 0, dc = 0;
    if (!ack_reply_info(m->subject, m->subject_len, stream, sizeof stream, cons, sizeof cons, &sseq,
                        &dseq, &dc))
        return;
    js_consumer *o = find_consumer(js, m, stream, cons);
    if (!o || o->cfg.ack_policy == SD_ACK_NONE || o->cfg.ack_policy == SD_ACK_FLOW_CONTROL) return;
    char *reply = m->reply_len ? jsc_strndup(m->reply, m->reply_len) : NULL;
    const uint8_t *msg = m->data;
    size_t len = m->data_len;
    bool skip = sseq == 0;
    if (len == 0 || equals(msg, len, "+ACK") || equals(msg, len, "+OK")) {
        if (!jsc_process_ack_msg(o, sseq, dseq, dc, reply, true)) skip = true;
    } else if (has_prefix(msg, len, "+NXT")) {
        jsc_process_ack_msg(o, sseq, dseq, dc, NULL, true);
        if (reply) jsc_process_next_request(o, reply, msg + 4, len - 4);
        skip = true;
    } else if (has_prefix(msg, len, "-NAK")) {
        process_nak(o, sseq, dseq, dc, msg, len);
    } else if (equals(msg, len, "+WPI")) {
        progress_update(o, sseq);
    } else if (has_prefix(msg, len, "+TERM")) {
        const uint8_t *a = msg + 5, *e = msg + len;
        while (a < e && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')) a++;
        while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
        char *reason = jsc_strndup((const char *)a, (size_t)(e - a));
        bool in_place = false;
        jsc_process_term(o, sseq, dseq, dc, reason, reply, &in_place);
        if (!in_place) skip = true;
        free(reason);
    }
    if (reply && !skip) js_publish_after_sync(js, m->account, reply, NULL, 0, NULL, 0);
    free(reply);
}

/* --- ack wait ------------------------------------------------------------------------------------- */

bool jsc_has_max_deliveries(js_consumer *o, uint64_t seq) {
    if (o->maxdc == 0) return false;
    jsc_ent *r = jsc_map_get(&o->rdc, seq);
    uint64_t dc = (r && r->a >= 1) ? r->a : 1;
    if (dc < o->maxdc) return false;
    if (dc == o->maxdc) jsc_notify_delivery_exceeded(o, seq, dc);
    jsc_ent *p = jsc_map_get(&o->pending, seq);
    if (p) {
        uint64_t pd = p->a;
        int64_t ts = p->b;
        jsc_map_del(&o->pending, seq);
        jsc_update_delivered(o, pd, seq, dc + 1, ts);
        jsc_move_ack_floor(o, pd, seq);
    }
    jsc_map_put(&o->rdc, seq)->a = dc;
    return true;
}

void jsc_check_pending(js_consumer *o) {
    int64_t ttl = o->cfg.ack_wait;
    if (o->closed || ttl == 0) {
        o->ptmr = 0;
        return;
    }
    sd_stream_state ss;
    jsc_stream_state(o, &ss);
    uint64_t fseq = ss.first_seq;
    int64_t now = js_now(o->js);
    int64_t next = jsc_ack_wait(o, 0);
    size_t nb = o->cfg.nbackoff;
    if (nb) next = o->cfg.backoff[nb - 1];
    bool upd = false;
    size_t n;
    uint64_t *keys = jsc_map_keys_sorted(&o->pending, &n);
    uint64_t *expired = malloc((n + 1) * sizeof *expired);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = keys[i];
        jsc_ent *p = jsc_map_get(&o->pending, seq);
        if (!p) continue;
        if (seq < fseq || seq <= o->asflr) {
            uint64_t pd = p->a;
            jsc_map_del(&o->pending, seq);
            jsc_map_del(&o->rdc, seq);
            jsc_rdq_remove(o, seq);
            upd = true;
            if (seq > o->asflr) o->asflr = seq;
            if (pd > o->adflr) o->adflr = pd;
            continue;
        }
        int64_t elapsed = now - p->b, deadline = ttl;
        if (nb) {
            jsc_ent *r = jsc_map_get(&o->rdc, seq);
            size_t dci = r ? (size_t)r->a : 0, nbi = dci + 1;
            if (dci + 1 >= nb) {
                dci = nb - 1;
                nbi = dci;
            }
            deadline = o->cfg.backoff[dci];
            if (o->cfg.backoff[nbi] < next) next = o->cfg.backoff[nbi];
        }
        if (elapsed >= deadline) {
            if (!jsc_on_rdq(o, seq) && !jsc_has_max_deliveries(o, seq)) expired[ne++] = seq;
        } else if (deadline - elapsed < next) {
            next = deadline - elapsed;
        }
    }
    if (ne) {
        jsc_ent *p0 = jsc_map_get(&o->pending, expired[0]);
        int64_t off = p0 ? now - p0->b : 0;
        for (size_t i = 0; i < ne; i++) {
            jsc_rdq_add(o, expired[i]);
            jsc_ent *p = jsc_map_get(&o->pending, expired[i]);
            if (p) p->b += off;
        }
    }
    free(keys);
    free(expired);
    if (o->pending.n) {
        o->ptmr = now + next;
    } else {
        o->ptmr = 0;
        o->rdq_len = 0;
        o->adflr = o->dseq - 1;
        o->asflr = o->sseq - 1;
    }
    if (upd) jsc_write_state(o);
    if (ne) jsc_deliver(o);
}

/* --- flow control --------------------------------------------------------------------------------- */

void jsc_send_flow_control(js_consumer *o) {
    if (o->pull) return;
    char rnd[5];
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t r = (uint64_t)rand() * 2654435761u + (uint64_t)js_now(o->js);
    for (int i = 0; i < 4; i++) {
        rnd[i] = al[r % 62];
        r /= 62;
    }
    rnd[4] = 0;
    snprintf(o->fcid, sizeof o->fcid, "$JS.FC.%s.%s.%s", o->stream, o->name, rnd);
    o->fcsz = o->pbytes;
    jsc_send_status(o, o->cfg.deliver_subject, o->fcid, "NATS/1.0 100 FlowControl Request\r\n\r\n");
}

void js_consumer_flow_control(js_server *js, const js_inmsg *m) {
    /* $JS.FC.<stream>.<consumer>.<rand> (v1) or $JS.FC.<domain>.<acc>.<stream>.<consumer>.<rand> */
    size_t nt = nx_subject_num_tokens(m->subject, m->subject_len);
    size_t off = nt >= 7 ? 5 : 3, l1, l2;
    const char *s = nx_subject_token_at(m->subject, m->subject_len, off, &l1);
    const char *c = nx_subject_token_at(m->subject, m->subject_len, off + 1, &l2);
    if (!l1 || !l2) return;
    char stream[256], cons[256];
    snprintf(stream, sizeof stream, "%.*s", (int)l1, s);
    snprintf(cons, sizeof cons, "%.*s", (int)l2, c);
    js_consumer *o = find_consumer(js, m, stream, cons);
    if (!o) return;
    if (strlen(o->fcid) != m->subject_len || memcmp(o->fcid, m->subject, m->subject_len)) return;
    if (o->maxpb < o->pblimit) {
        o->maxpb *= 2;
        if (o->maxpb > o->pblimit) o->maxpb = o->pblimit;
    }
    o->pbytes -= o->fcsz;
    if (o->pbytes < 0) o->pbytes = 0;
    o->fcid[0] = 0;
    o->fcsz = 0;
    if (o->cfg.ack_policy == SD_ACK_FLOW_CONTROL && m->hdr_len) {
        size_t vl;
        const uint8_t *v = sd_slice_header("Nats-Last-Stream", m->hdr, m->hdr_len, &vl);
        int64_t lsseq = v ? parse_num((const char *)v, vl) : -1;
        v = sd_slice_header("Nats-Last-Consumer", m->hdr, m->hdr_len, &vl);
        int64_t ldseq = v ? parse_num((const char *)v, vl) : -1;
        if (lsseq > 0) jsc_process_ack_msg(o, (uint64_t)lsseq, ldseq > 0 ? (uint64_t)ldseq : 0, 1, NULL, false);
    }
    jsc_deliver(o);
}
