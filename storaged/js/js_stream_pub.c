/* Publishing into a stream: Go nats-server v2.14.5 server/stream.go processJetStreamMsg
 * (single node; no schedules; sourced copies go through js_mirror_sync.c, batches are routed
 * to js_batch.c / js_batch_fast.c and come back here at commit), processJetStreamMsgWithRollup,
 * the PubAck JSON (mset.pubAck template, JSPubAckResponse), and the header helpers of
 * server/client.go (genHeader, removeHeaderIfPresent).
 *
 * A successful PubAck (or duplicate PubAck) is only published after the group commit
 * (js_publish_after_sync); error PubAcks go out at once, as they report nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_stream_int.h"

/* ---- headers ------------------------------------------------------------------------- */

char *js_hdr_get(const uint8_t *hdr, size_t hdr_len, const char *key) {
    size_t vlen = 0;
    const uint8_t *v = sd_slice_header(key, hdr, hdr_len, &vlen);
    if (!v) return NULL;
    char *s = malloc(vlen + 1);
    if (!s) abort();
    memcpy(s, v, vlen);
    s[vlen] = 0;
    return s;
}

char *js_hdr_append(const uint8_t *hdr, size_t hdr_len, const char *key, const char *val,
                    size_t *out_len) {
    size_t kl = strlen(key), vl = strlen(val);
    size_t base = hdr_len > 2 ? hdr_len - 2 : 0;
    char *o = malloc(base + 10 + kl + vl + 8);
    if (!o) abort();
    size_t n = 0;
    if (base) {
        memcpy(o, hdr, base);
        n = base;
    } else {
        memcpy(o, "NATS/1.0\r\n", 10);
        n = 10;
    }
    n += (size_t)sprintf(o + n, "%s: %s\r\n\r\n", key, val);
    *out_len = n;
    return o;
}

/* Go removeHeaderIfPresent into a new buffer (NULL, 0 when only the status line is left). */
static char *hdr_remove(const uint8_t *hdr, size_t hdr_len, const char *key, size_t *out_len) {
    char *o = malloc(hdr_len + 1);
    if (!o) abort();
    memcpy(o, hdr, hdr_len);
    size_t n = hdr_len, kl = strlen(key);
    for (;;) {
        size_t i = 0;
        bool found = false;
        for (i = 1; i + kl < n; i++) {
            if (o[i - 1] == '\n' && memcmp(o + i, key, kl) == 0 && o[i + kl] == ':') {
                found = true;
                break;
            }
        }
        if (!found) break;
        char *end = memmem(o + i, n - i, "\r\n", 2);
        if (!end) break;
        size_t rm = (size_t)(end + 2 - (o + i));
        memmove(o + i, o + i + rm, n - i - rm);
        n -= rm;
        if (n <= 12) { /* "NATS/1.0\r\n\r\n" */
            free(o);
            *out_len = 0;
            return NULL;
        }
    }
    *out_len = n;
    return o;
}

/* ---- PubAck -------------------------------------------------------------------------- */

void js_stream_pub_error(js_stream *st, const char *reply, int err_code, const char *arg) {
    if (!reply) return;
    js_server *js = st->acc->js;
    json_t *o = json_object();
    const char *args[1] = {arg};
    json_object_set_new(o, "error", js_error_json(err_code, args, arg ? 1 : 0));
    json_object_set_new(o, "stream", json_string(st->cfg.name));
    json_object_set_new(o, "seq", json_integer(0));
    size_t len;
    char *s = js_json_encode(o, &len);
    json_decref(o);
    js_publish(js, st->acc->name, reply, NULL, NULL, 0, (const uint8_t *)s, len);
    free(s);
}

#define pub_error js_stream_pub_error

/* mset.pubAck template + seq + tail, published after the group commit. */
static void pub_ack(js_stream *st, const char *reply, uint64_t seq, const char *tail) {
    if (!reply) return;
    js_server *js = st->acc->js;
    json_t *name = json_string(st->cfg.name);
    char *qn = js_json_encode(name, NULL);
    json_decref(name);
    char *qd = NULL;
    if (js->cfg.domain) {
        json_t *d = json_string(js->cfg.domain);
        qd = js_json_encode(d, NULL);
        json_decref(d);
    }
    size_t cap = strlen(qn) + (qd ? strlen(qd) : 0) + strlen(tail) + 64;
    char *b = malloc(cap);
    if (!b) abort();
    int n;
    if (qd)
        n = snprintf(b, cap, "{\"stream\":%s,\"domain\":%s,\"seq\":%llu%s", qn, qd,
                     (unsigned long long)seq, tail);
    else
        n = snprintf(b, cap, "{\"stream\":%s,\"seq\":%llu%s", qn, (unsigned long long)seq, tail);
    js_publish_after_sync(js, st->acc->name, reply, NULL, 0, (const uint8_t *)b, (size_t)n);
    free(b);
    free(qn);
    free(qd);
}

static uint64_t parse_seq_hdr(const char *v) {
    /* Go parseInt64: digits only, else -1 (as uint64) */
    if (!v || !v[0]) return UINT64_MAX;
    uint64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9') return UINT64_MAX;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    return n;
}

/* Go js.limitsExceeded: the server's totals against max_memory / max_store. */
static bool server_limits_exceeded(js_stream *st) {
    js_server *js = st->acc->js;
    bool mem = st->cfg.storage == SD_STORAGE_MEMORY;
    int64_t max = mem ? js->cfg.max_memory : js->cfg.max_store;
    return max >= 0 && (mem ? js->mem_used : js->store_used) > max;
}

static void republish(js_stream *st, const char *tsubj, const char *subj, const uint8_t *hdr,
                      size_t hdr_len, const uint8_t *msg, size_t msg_len, uint64_t seq,
                      int64_t ts, uint64_t tlseq) {
    char tsb[40], extra[1024];
    js_time_format(ts, tsb);
    bool ho = st->cfg.rp_headers_only;
    int n = snprintf(extra, sizeof extra,
                     "Nats-Stream: %s\r\nNats-Subject: %s\r\nNats-Sequence: %llu\r\n"
                     "Nats-Time-Stamp: %s\r\nNats-Last-Sequence: %llu\r\n",
                     st->cfg.name, subj, (unsigned long long)seq, tsb, (unsigned long long)tlseq);
    if (ho && n < (int)sizeof extra)
        n += snprintf(extra + n, sizeof extra - (size_t)n, "Nats-Msg-Size: %zu\r\n", msg_len);
    if (n >= (int)sizeof extra) return;
    size_t base = hdr_len > 2 ? hdr_len - 2 : 0;
    char *h = malloc(base + 10 + (size_t)n + 3);
    if (!h) abort();
    size_t hl = 0;
    if (base) {
        memcpy(h, hdr, base);
        hl = base;
    } else {
        memcpy(h, "NATS/1.0\r\n", 10);
        hl = 10;
    }
    memcpy(h + hl, extra, (size_t)n);
    hl += (size_t)n;
    memcpy(h + hl, "\r\n", 2);
    hl += 2;
    js_publish(st->acc->js, st->acc->name, tsubj, NULL, h, hl, ho ? NULL : msg, ho ? 0 : msg_len);
    free(h);
}

void js_stream_process_msg(js_stream *st, const js_inmsg *m) {
    js_stream_process_ex(st, m, NULL, 0, NULL);
}

void js_stream_process_fast(js_stream *st, const js_inmsg *m, const js_fast_batch *fb) {
    js_stream_process_ex(st, m, NULL, 0, fb);
}

void js_stream_process_ex(js_stream *st, const js_inmsg *m, const char *batch_id,
                          uint64_t batch_count, const js_fast_batch *fb) {
    js_server *js = st->acc->js;
    char *subject = malloc(m->subject_len + 1);
    if (!subject) abort();
    memcpy(subject, m->subject, m->subject_len);
    subject[m->subject_len] = 0;
    char *reply = NULL;
    if (m->reply_len && !st->cfg.no_ack) {
        reply = malloc(m->reply_len + 1);
        if (!reply) abort();
        memcpy(reply, m->reply, m->reply_len);
        reply[m->reply_len] = 0;
    }
    const uint8_t *hdr = m->hdr_len ? m->hdr : NULL;
    size_t hdr_len = m->hdr_len;
    const uint8_t *msg = m->data;
    size_t msg_len = m->data_len;
    char *own_hdr = NULL, *stripped = NULL;
    char *msgid = NULL, *v = NULL, *incr = NULL, *counter_val = NULL, *counter_msg = NULL;
    bool rollup_sub = false, rollup_all = false;

    if (st->itr) {
        nx_tr_out out = {0};
        if (nx_transform_match(st->itr, subject, strlen(subject), &out) == NX_TR_OK) {
            free(subject);
            subject = out.buf;
        } else {
            free(out.buf);
        }
    }

    if (!batch_id && !fb && m->reply_len) {
        js_fast_batch pfb;
        int fr = js_fast_batch_parse(m->reply, m->reply_len, &pfb);
        if (fr != 0) {
            char *raw = strndup(m->reply, m->reply_len);
            js_batch_fast(st, &pfb, fr < 0, m, subject, raw, reply, hdr, hdr_len, msg, msg_len);
            free(raw);
            goto done;
        }
    }
    if (!batch_id && !fb && hdr && (v = js_hdr_get(hdr, hdr_len, "Nats-Batch-Id")) != NULL && v[0]) {
        if (st->cfg.sealed) pub_error(st, reply, JSStreamSealedErr, NULL);
        else if (st->cfg.max_msg_size >= 0 &&
                 (hdr_len > (size_t)st->cfg.max_msg_size || msg_len > (size_t)st->cfg.max_msg_size - hdr_len))
            pub_error(st, reply, JSStreamMessageExceedsMaximumErr, NULL);
        else if (!st->cfg.allow_atomic)
            pub_error(st, reply, JSAtomicPublishDisabledErr, NULL);
        else {
            char *raw = strndup(m->subject, m->subject_len);
            js_batch_atomic(st, raw, subject, reply, v, hdr, hdr_len, msg, msg_len);
            free(raw);
        }
        goto done;
    }
    free(v);
    v = NULL;

    if (st->cfg.sealed) {
        pub_error(st, reply, JSStreamSealedErr, NULL);
        goto done;
    }

    /* Go: a message that crossed a service import carries the requester's details; they are
     * not stored (removeHeaderIfPresent(hdr, ClientInfoHdr)). */
    if (hdr && memmem(hdr, hdr_len, "Nats-Request-Info:", 18)) {
        size_t nl = 0;
        stripped = hdr_remove(hdr, hdr_len, "Nats-Request-Info", &nl);
        hdr = (const uint8_t *)stripped;
        hdr_len = nl;
    }

    if (hdr) {
        incr = js_hdr_get(hdr, hdr_len, "Nats-Incr");
        if (incr && !incr[0]) {
            free(incr);
            incr = NULL;
        }
        if (incr) {
            static const char *const excl[] = {"Nats-Rollup", "Nats-Expected-Stream",
                                               "Nats-Expected-Last-Msg-Id",
                                               "Nats-Expected-Last-Subject-Sequence-Subject",
                                               "Nats-Expected-Last-Sequence",
                                               "Nats-Expected-Last-Subject-Sequence"};
            int code = 0;
            if (!js_counter_valid(incr)) code = JSMessageIncrInvalidErr;
            else if (!st->cfg.allow_msg_counter) code = JSMessageIncrDisabledErr;
            else if (msg_len > 0) code = JSMessageIncrPayloadErr;
            for (size_t i = 0; !code && i < sizeof excl / sizeof excl[0]; i++) {
                size_t vl = 0;
                if (sd_slice_header(excl[i], hdr, hdr_len, &vl) && vl) code = JSMessageIncrInvalidErr;
            }
            if (code) {
                pub_error(st, reply, code, NULL);
                goto done;
            }
        }
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Expected-Stream")) && v[0] &&
            strcmp(v, st->cfg.name)) {
            pub_error(st, reply, JSStreamNotMatchErr, NULL);
            goto done;
        }
        free(v);
        v = NULL;
        int64_t ttl = 0;
        sd_get_message_ttl(hdr, hdr_len, &ttl);
        if (ttl != 0 && !st->cfg.allow_msg_ttl) {
            pub_error(st, reply, JSMessageTTLDisabledErr, NULL);
            goto done;
        }
        char *subj_for = js_hdr_get(hdr, hdr_len, "Nats-Expected-Last-Subject-Sequence-Subject");
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Expected-Last-Subject-Sequence")) && v[0]) {
            uint64_t want = parse_seq_hdr(v), fseq = 0;
            const char *ss = subj_for && subj_for[0] ? subj_for : subject;
            sd_store_msg sm = {0};
            int rc = sd_store_load_last_msg(st->store, ss, &sm);
            if (rc == 0) fseq = sm.seq;
            if (rc == SD_ERR_MSG_NOT_FOUND && want == 0) rc = 0;
            sd_store_msg_free(&sm);
            if (rc != 0 || fseq != want) {
                char b[32];
                snprintf(b, sizeof b, "%llu", (unsigned long long)fseq);
                pub_error(st, reply, JSStreamWrongLastSequenceErrF, b);
                free(subj_for);
                goto done;
            }
        } else if (subj_for && subj_for[0]) {
            pub_error(st, reply, JSStreamExpectedLastSeqPerSubjectInvalid, NULL);
            free(subj_for);
            goto done;
        }
        free(subj_for);
        free(v);
        v = NULL;
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Expected-Last-Sequence")) && v[0] &&
            parse_seq_hdr(v) != st->lseq) {
            char b[32];
            snprintf(b, sizeof b, "%llu", (unsigned long long)st->lseq);
            pub_error(st, reply, JSStreamWrongLastSequenceErrF, b);
            goto done;
        }
        free(v);
        v = NULL;
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Schedule")) && v[0] && !st->cfg.allow_msg_schedules) {
            pub_error(st, reply, JSMessageSchedulesDisabledErr, NULL);
            goto done;
        }
        free(v);
        v = NULL;
        /* Schedulers' own headers (message schedules themselves are not ported). */
        char *sched = js_hdr_get(hdr, hdr_len, "Nats-Scheduler");
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Schedule-Next")) && v[0]) {
            int code = 0;
            if (strcmp(v, "purge")) code = JSMessageSchedulesSchedulerInvalidErr;
            else if (!sched || !sched[0] || !strcmp(sched, subject) ||
                     !nx_subject_valid_publish(sched, strlen(sched)))
                code = JSMessageSchedulesSchedulerInvalidErr;
            else if (!st->cfg.allow_msg_schedules) code = JSMessageSchedulesDisabledErr;
            if (code) {
                free(sched);
                pub_error(st, reply, code, NULL);
                goto done;
            }
        } else if (sched && sched[0]) {
            free(sched);
            pub_error(st, reply, JSMessageSchedulesSchedulerInvalidErr, NULL);
            goto done;
        }
        free(sched);
        free(v);
        v = NULL;
        msgid = js_hdr_get(hdr, hdr_len, "Nats-Msg-Id");
        if (msgid && msgid[0]) {
            js_ddentry *dd = js_stream_check_msgid(st, msgid);
            if (dd && dd->seq > 0) {
                pub_ack(st, reply, dd->seq, ",\"duplicate\": true}");
                goto done;
            }
        }
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Expected-Last-Msg-Id")) && v[0] &&
            strcmp(v, st->lmsgid ? st->lmsgid : "")) {
            pub_error(st, reply, JSStreamWrongLastMsgIDErrF, st->lmsgid ? st->lmsgid : "");
            goto done;
        }
        free(v);
        v = NULL;
        if ((v = js_hdr_get(hdr, hdr_len, "Nats-Rollup")) && v[0]) {
            for (char *p = v; *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            if (!st->cfg.allow_rollup || st->cfg.deny_purge) {
                pub_error(st, reply, JSStreamRollupFailedF, "rollup not permitted");
                goto done;
            }
            if (!strcmp(v, "sub")) rollup_sub = true;
            else if (!strcmp(v, "all")) rollup_all = true;
            else {
                char b[128];
                snprintf(b, sizeof b, "rollup value invalid: \"%s\"", v);
                pub_error(st, reply, JSStreamRollupFailedF, b);
                goto done;
            }
        }
        free(v);
        v = NULL;
    }
    if (st->cfg.allow_msg_counter && !incr) {
        pub_error(st, reply, JSMessageIncrMissingErr, NULL);
        goto done;
    }
    if (incr) {
        char *initial = NULL;
        sd_store_msg sm = {0};
        if (sd_store_load_last_msg(st->store, subject, &sm) == 0) {
            json_error_t je;
            json_t *cv = json_loadb((const char *)sm.msg, sm.msg_len, 0, &je);
            json_t *val = json_object_get(cv, "val");
            if (!json_is_object(cv) || (val && !json_is_string(val) && !json_is_null(val))) {
                json_decref(cv);
                sd_store_msg_free(&sm);
                pub_error(st, reply, JSMessageCounterBrokenErr, NULL);
                goto done;
            }
            if (json_is_string(val) && js_counter_valid(json_string_value(val)))
                initial = strdup(json_string_value(val));
            json_decref(cv);
        }
        sd_store_msg_free(&sm);
        counter_val = js_counter_add(initial ? initial : "0", incr);
        free(initial);
        json_t *o = json_object();
        json_object_set_new(o, "val", json_string(counter_val));
        counter_msg = js_json_encode(o, NULL);
        json_decref(o);
        msg = (const uint8_t *)counter_msg;
        msg_len = strlen(counter_msg);
        int64_t maxp = js->cfg.max_payload > 0 ? js->cfg.max_payload : 1024 * 1024;
        if ((int64_t)hdr_len > maxp || (int64_t)msg_len > maxp - (int64_t)hdr_len) {
            pub_error(st, reply, JSStreamMessageExceedsMaximumErr, NULL);
            goto done;
        }
    }
    if (st->cfg.max_msg_size >= 0 &&
        (hdr_len > (size_t)st->cfg.max_msg_size || msg_len > (size_t)st->cfg.max_msg_size - hdr_len)) {
        pub_error(st, reply, JSStreamMessageExceedsMaximumErr, NULL);
        goto done;
    }
    if (hdr_len > 65535) {
        pub_error(st, reply, JSStreamHeaderExceedsMaximumErr, NULL);
        goto done;
    }
    if (server_limits_exceeded(st)) {
        pub_error(st, reply, JSInsufficientResourcesErr, NULL);
        goto done;
    }
    if (st->cfg.retention == SD_RETENTION_INTEREST && js_consumers_count(st) == 0) {
        uint64_t seq = 0;
        sd_store_skip_msg_no_interest(st->store, 0, &seq);
        st->lseq = seq;
        free(st->lmsgid);
        st->lmsgid = msgid ? strdup(msgid) : NULL;
        if (msgid && msgid[0]) js_stream_store_msgid(st, msgid, seq, js_now(js));
        js_stream_mark_dirty(st);
        if (fb) js_fast_batch_stored(st, fb, reply, seq);
        else pub_ack(st, reply, seq, "}");
        goto done;
    }
    char *tsubj = NULL;
    uint64_t tlseq = 0;
    if (st->tr) {
        nx_tr_out out = {0};
        if (nx_transform_match(st->tr, subject, strlen(subject), &out) == NX_TR_OK &&
            nx_subject_valid_publish(out.buf, out.len))
            tsubj = out.buf;
        else
            free(out.buf);
        if (tsubj) {
            sd_store_msg sm = {0};
            if (sd_store_load_last_msg(st->store, subject, &sm) == 0) tlseq = sm.seq;
            sd_store_msg_free(&sm);
        }
    }
    /* Go wouldExceedLimits: the account's usage with this message. */
    if (js_account_limits_exceeded(st->acc, st->cfg.storage, strlen(subject), hdr_len, msg_len)) {
        pub_error(st, reply, JSAccountResourcesExceededErr, NULL);
        free(tsubj);
        goto done;
    }
    int64_t ttl = 0;
    if (hdr && sd_get_message_ttl(hdr, hdr_len, &ttl) != 0) {
        pub_error(st, reply, JSMessageTTLInvalidErr, NULL);
        free(tsubj);
        goto done;
    }
    if (ttl > 0 && st->cfg.sdm_ttl > 0 && st->cfg.max_msgs_per != 1) {
        int64_t min_ttl = st->cfg.sdm_ttl / JS_SEC;
        if (ttl < min_ttl) {
            ttl = min_ttl;
            size_t l1 = 0, l2 = 0;
            char *h1 = hdr_remove(hdr, hdr_len, "Nats-TTL", &l1);
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)ttl);
            own_hdr = js_hdr_append((const uint8_t *)h1, l1, "Nats-TTL", b, &l2);
            free(h1);
            hdr = (const uint8_t *)own_hdr;
            hdr_len = l2;
        }
    }
    uint64_t seq = 0;
    int64_t ts = 0;
    int rc = sd_store_store_msg(st->store, subject, strlen(subject), hdr, hdr_len, msg, msg_len,
                                ttl, &seq, &ts);
    if (rc < 0) {
        pub_error(st, reply, JSStreamStoreFailedF, sd_strerror(rc));
        free(tsubj);
        goto done;
    }
    js_stream_mark_dirty(st);
    free(st->lmsgid);
    st->lmsgid = msgid ? strdup(msgid) : NULL;
    st->lseq = seq;
    if (msgid && msgid[0]) js_stream_store_msgid(st, msgid, seq, ts);
    if (rollup_sub || rollup_all) {
        uint64_t purged;
        char *arg = NULL;
        js_stream_purge(st, rollup_sub ? subject : "", 0, 1, true, &purged, &arg);
        free(arg);
    }
    if (tsubj) {
        republish(st, tsubj, subject, hdr, hdr_len, msg, msg_len, seq, ts, tlseq);
        free(tsubj);
    }
    if (fb) {
        js_fast_batch_stored(st, fb, reply, seq);
    } else if (counter_val) {
        json_t *cv = json_string(counter_val);
        char *q = js_json_encode(cv, NULL);
        json_decref(cv);
        char *tail = malloc(strlen(q) + 16);
        if (!tail) abort();
        sprintf(tail, ",\"val\":%s}", q);
        pub_ack(st, reply, seq, tail);
        free(tail);
        free(q);
    } else if (batch_id) {
        json_t *bj = json_string(batch_id);
        char *q = js_json_encode(bj, NULL);
        json_decref(bj);
        char *tail = NULL;
        if (asprintf(&tail, ",\"batch\":%s,\"count\":%llu}", q, (unsigned long long)batch_count) < 0)
            abort();
        pub_ack(st, reply, seq, tail);
        free(tail);
        free(q);
    } else {
        pub_ack(st, reply, seq, "}");
    }
    js_consumers_on_stored(st, seq, subject);
done:
    free(incr);
    free(counter_val);
    free(counter_msg);
    free(v);
    free(msgid);
    free(own_hdr);
    free(stripped);
    free(subject);
    free(reply);
}
