/* Message access API: $JS.API.STREAM.MSG.GET, $JS.API.STREAM.MSG.DELETE and direct get
 * ($JS.API.DIRECT.GET.<stream> with a JSON request, $JS.API.DIRECT.GET.<stream>.<subject>).
 *
 * Ports Go nats-server v2.14.5 server/jetstream_api.go jsMsgGetRequest, jsMsgDeleteRequest
 * and server/stream.go processDirectGetRequest, processDirectGetLastBySubjectRequest,
 * getDirectRequest (single messages and batches; multi_last is not ported).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_stream_int.h"

#define T_MSG_GET "io.nats.jetstream.api.v1.stream_msg_get_response"
#define T_MSG_DELETE "io.nats.jetstream.api.v1.stream_msg_delete_response"

typedef struct msg_get_req {
    uint64_t seq;
    char *last_by_subj;
    char *next_by_subj;
    int64_t batch;
    int64_t max_bytes;
    int64_t start_time;
    bool has_start_time;
    char **multi_last;
    size_t nmulti;
    uint64_t up_to_seq;
    int64_t up_to_time;
    bool has_up_to_time;
    bool no_hdr;
} msg_get_req;

#define MG(f) offsetof(msg_get_req, f)
static const js_jfield msg_get_fields[] = {
    {"seq", JF_UINT64, MG(seq), 0, NULL},
    {"last_by_subj", JF_STRING, MG(last_by_subj), 0, NULL},
    {"next_by_subj", JF_STRING, MG(next_by_subj), 0, NULL},
    {"batch", JF_INT, MG(batch), 0, NULL},
    {"max_bytes", JF_INT, MG(max_bytes), 0, NULL},
    {"start_time", JF_TIME, MG(start_time), MG(has_start_time), NULL},
    {"multi_last", JF_STRINGS, MG(multi_last), MG(nmulti), NULL},
    {"up_to_seq", JF_UINT64, MG(up_to_seq), 0, NULL},
    {"up_to_time", JF_TIME, MG(up_to_time), MG(has_up_to_time), NULL},
    {"no_hdr", JF_BOOL, MG(no_hdr), 0, NULL},
};
#define NMG (sizeof msg_get_fields / sizeof msg_get_fields[0])

static void req_free(msg_get_req *q) {
    free(q->last_by_subj);
    free(q->next_by_subj);
    for (size_t i = 0; i < q->nmulti; i++) free(q->multi_last[i]);
    free(q->multi_last);
}

static char *dupn(const char *s, size_t n) {
    char *d = strndup(s ? s : "", n);
    if (!d) abort();
    return d;
}

static void reply_json(js_server *js, js_account *acc, const js_inmsg *m, const char *type,
                       json_t *o, bool track) {
    char *reply = m->reply_len ? dupn(m->reply, m->reply_len) : NULL;
    js_api_send(js, acc, reply, type, o, track, m);
    free(reply);
    json_decref(o);
}

static void reply_err(js_server *js, js_account *acc, const js_inmsg *m, const char *type,
                      int code, const char *arg) {
    json_t *o = json_object();
    js_api_set_error(o, code, arg);
    reply_json(js, acc, m, type, o, true);
}

/* Parses a JSON request body into q.  -1 with Go's error text in err. */
static int parse_get(const js_inmsg *m, msg_get_req *q, bool strict, char *err, size_t errlen) {
    json_t *v = js_json_parse(m->data, m->data_len, err, errlen);
    if (!v) return -1;
    int rc = js_json_decode(v, msg_get_fields, NMG, q, "JSApiMsgGetRequest",
                            "server.JSApiMsgGetRequest", err, errlen);
    if (rc && !strict && strstr(err, "unknown field")) rc = 0; /* json.Unmarshal is lenient */
    json_decref(v);
    return rc;
}

static int load(js_stream *st, const msg_get_req *q, uint64_t seq, bool first, bool batch,
                sd_store_msg *sm, uint64_t *next) {
    int rc;
    uint64_t found = 0;
    if (seq > 0 && (!q->next_by_subj || !q->next_by_subj[0])) {
        if (first && !batch) {
            rc = sd_store_load_msg(st->store, seq, sm);
            found = seq;
        } else {
            rc = sd_store_load_next_msg(st->store, ">", true, seq, sm, &found);
        }
        *next = found + 1;
    } else if (q->next_by_subj && q->next_by_subj[0]) {
        const char *f = q->next_by_subj;
        bool wc = !nx_subject_is_literal(f, strlen(f));
        rc = sd_store_load_next_msg(st->store, f, wc, seq, sm, &found);
        *next = found + 1;
    } else {
        rc = sd_store_load_last_msg(st->store, q->last_by_subj ? q->last_by_subj : "", sm);
    }
    return rc;
}

/* ---- STREAM.MSG.GET ------------------------------------------------------------------- */

void js_api_msg_get(js_server *js, js_account *acc, const char *stream, const js_inmsg *m) {
    if (js_is_empty_request(m->data, m->data_len)) {
        reply_err(js, acc, m, T_MSG_GET, JSBadRequestErr, NULL);
        return;
    }
    msg_get_req q = {0};
    char err[512];
    if (parse_get(m, &q, true, err, sizeof err)) {
        reply_err(js, acc, m, T_MSG_GET, JSInvalidJSONErr, err);
        req_free(&q);
        return;
    }
    bool last = q.last_by_subj && q.last_by_subj[0], next = q.next_by_subj && q.next_by_subj[0];
    if (q.batch > 0 || q.max_bytes > 0 || (q.seq > 0 && last) ||
        (q.seq == 0 && !last && !next && !q.has_start_time) || (q.seq > 0 && q.has_start_time) ||
        (q.has_start_time && last) || (last && next)) {
        reply_err(js, acc, m, T_MSG_GET, JSBadRequestErr, NULL);
        req_free(&q);
        return;
    }
    js_stream *st = js_account_stream(acc, stream);
    if (!st) {
        reply_err(js, acc, m, T_MSG_GET, JSStreamNotFoundErr, NULL);
        req_free(&q);
        return;
    }
    uint64_t seq = q.has_start_time ? sd_store_get_seq_from_time(st->store, q.start_time) : q.seq;
    sd_store_msg sm = {0};
    uint64_t nx;
    if (load(st, &q, seq, true, false, &sm, &nx) != 0) {
        reply_err(js, acc, m, T_MSG_GET, JSNoMessageFoundErr, NULL);
    } else {
        json_t *msg = json_object();
        json_object_set_new(msg, "subject", json_stringn(sm.subj, sm.subj_len));
        json_object_set_new(msg, "seq", json_integer((json_int_t)sm.seq));
        if (!q.no_hdr && sm.hdr_len) json_object_set_new(msg, "hdrs", js_json_base64(sm.hdr, sm.hdr_len));
        if (sm.msg_len) json_object_set_new(msg, "data", js_json_base64(sm.msg, sm.msg_len));
        json_object_set_new(msg, "time", js_time_json(sm.ts));
        json_t *o = json_object();
        json_object_set_new(o, "message", msg);
        reply_json(js, acc, m, T_MSG_GET, o, false); /* Go: sendInternalAccountMsg, untracked */
    }
    sd_store_msg_free(&sm);
    req_free(&q);
}

/* ---- STREAM.MSG.DELETE ---------------------------------------------------------------- */

typedef struct msg_del_req {
    uint64_t seq;
    bool no_erase;
} msg_del_req;

static const js_jfield msg_del_fields[] = {
    {"seq", JF_UINT64, offsetof(msg_del_req, seq), 0, NULL},
    {"no_erase", JF_BOOL, offsetof(msg_del_req, no_erase), 0, NULL},
};

void js_api_msg_delete(js_server *js, js_account *acc, const char *stream, const js_inmsg *m) {
    if (js_is_empty_request(m->data, m->data_len)) {
        reply_err(js, acc, m, T_MSG_DELETE, JSBadRequestErr, NULL);
        return;
    }
    msg_del_req q = {0};
    char err[512];
    json_t *v = js_json_parse(m->data, m->data_len, err, sizeof err);
    if (!v || js_json_decode(v, msg_del_fields, 2, &q, "JSApiMsgDeleteRequest",
                             "server.JSApiMsgDeleteRequest", err, sizeof err)) {
        json_decref(v);
        reply_err(js, acc, m, T_MSG_DELETE, JSInvalidJSONErr, err);
        return;
    }
    json_decref(v);
    js_stream *st = js_account_stream(acc, stream);
    if (!st) {
        reply_err(js, acc, m, T_MSG_DELETE, JSStreamNotFoundErr, NULL);
        return;
    }
    if (st->cfg.sealed) {
        reply_err(js, acc, m, T_MSG_DELETE, JSStreamSealedErr, NULL);
        return;
    }
    if (st->cfg.deny_delete) {
        reply_err(js, acc, m, T_MSG_DELETE, JSStreamMsgDeleteFailedF, "message delete not permitted");
        return;
    }
    int rc = js_stream_remove_msg(st, q.seq, !q.no_erase);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(T_MSG_DELETE));
    if (rc < 0) {
        json_object_set_new(o, "error", js_error_json(JSStreamMsgDeleteFailedF,
                                                      (const char *[]){sd_strerror(rc)}, 1));
    } else if (rc == 0) {
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)q.seq);
        json_object_set_new(o, "error", js_error_json(JSSequenceNotFoundErrF, (const char *[]){b}, 1));
    } else {
        json_object_set_new(o, "success", json_true());
    }
    size_t len;
    char *s = js_json_encode(o, &len);
    json_decref(o);
    js_api_track(acc, false); /* Go: sendAPIResponse even with an error set */
    js_api_audit(js, m, s, len);
    if (m->reply_len) {
        char *reply = dupn(m->reply, m->reply_len);
        js_publish_after_sync(js, acc->name, reply, NULL, 0, (const uint8_t *)s, len);
        free(reply);
    }
    free(s);
}

/* ---- DIRECT.GET ----------------------------------------------------------------------- */

static void status(js_server *js, const char *an, const char *reply, const char *line) {
    char h[128];
    int n = snprintf(h, sizeof h, "NATS/1.0 %s\r\n\r\n", line);
    js_publish(js, an, reply, NULL, h, (size_t)n, NULL, 0);
}

static char *hdr_add(char *h, size_t *hl, const char *key, const char *val) {
    size_t n;
    char *o = js_hdr_append((const uint8_t *)h, *hl, key, val, &n);
    free(h);
    *hl = n;
    return o;
}

static void direct_get(js_stream *st, const msg_get_req *q, const char *reply) {
    js_server *js = st->acc->js;
    uint64_t seq = q->has_start_time ? sd_store_get_seq_from_time(st->store, q->start_time) : q->seq;
    bool isbatch = q->batch > 0;
    int64_t batch = isbatch ? q->batch : 1;
    uint64_t np = 0, valid = 0, lseq = 0;
    const char *nf = q->next_by_subj && q->next_by_subj[0] ? q->next_by_subj : NULL;
    if (isbatch && sd_store_num_pending(st->store, seq, nf ? nf : "", false, &np, &valid) != 0) return;
    int64_t mb = q->max_bytes ? q->max_bytes : 64 * 1024 * 1024; /* Go MAX_PENDING_SIZE */
    int64_t sent = 0;
    sd_store_msg sm = {0};
    for (int64_t i = 0; i < batch; i++) {
        uint64_t nx = seq;
        if (load(st, q, seq, i == 0, isbatch, &sm, &nx) != 0) {
            if (batch > 1 && i > 0) break;
            status(js, st->acc->name, reply, "404 Message Not Found");
            sd_store_msg_free(&sm);
            return;
        }
        if (seq > 0 || nf) seq = nx;
        char *h = NULL;
        size_t hl = 0;
        if (!q->no_hdr) {
            char tsb[40], b[32], subj[1024];
            js_time_format(sm.ts, tsb);
            snprintf(subj, sizeof subj, "%.*s", (int)sm.subj_len, sm.subj);
            if (sm.hdr_len) {
                h = malloc(sm.hdr_len);
                if (!h) abort();
                memcpy(h, sm.hdr, sm.hdr_len);
                hl = sm.hdr_len;
            }
            h = hdr_add(h, &hl, "Nats-Stream", st->cfg.name);
            h = hdr_add(h, &hl, "Nats-Subject", subj);
            snprintf(b, sizeof b, "%llu", (unsigned long long)sm.seq);
            h = hdr_add(h, &hl, "Nats-Sequence", b);
            h = hdr_add(h, &hl, "Nats-Time-Stamp", tsb);
            if (isbatch) {
                if (np > 0) np--;
                snprintf(b, sizeof b, "%llu", (unsigned long long)np);
                h = hdr_add(h, &hl, "Nats-Num-Pending", b);
                snprintf(b, sizeof b, "%llu", (unsigned long long)lseq);
                h = hdr_add(h, &hl, "Nats-Last-Sequence", b);
            }
        }
        lseq = sm.seq;
        js_publish(js, st->acc->name, reply, NULL, h, hl, sm.msg, sm.msg_len);
        free(h);
        sent += (int64_t)(sm.subj_len + sm.hdr_len + sm.msg_len);
        if (sent >= mb) break;
    }
    sd_store_msg_free(&sm);
    if (isbatch) {
        if (st->lseq > valid) sd_store_num_pending(st->store, seq, nf ? nf : "", false, &np, &valid);
        char h[160];
        int n = snprintf(h, sizeof h, "NATS/1.0 204 EOB\r\nNats-Num-Pending: %llu\r\nNats-Last-Sequence: %llu\r\n\r\n",
                         (unsigned long long)np, (unsigned long long)lseq);
        js_publish(js, st->acc->name, reply, NULL, h, (size_t)n, NULL, 0);
    }
}

/* Go getDirectMulti: the last message of each subject matching multi_last, up to a
 * sequence or time, in sequence order, then an EOB status with Nats-UpTo-Sequence. */
static void direct_multi(js_stream *st, const msg_get_req *q, const char *reply) {
    js_server *js = st->acc->js;
    int64_t mb = q->max_bytes ? q->max_bytes : 64 * 1024 * 1024;
    uint64_t upto = q->up_to_seq;
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    if (q->has_up_to_time) {
        upto = sd_store_get_seq_from_time(st->store, q->up_to_time);
        if (upto <= ss.first_seq) {
            status(js, st->acc->name, reply, "404 No Results");
            return;
        }
        upto--;
    }
    if (upto == 0) upto = ss.last_seq;
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc = sd_store_multi_last_seqs(st->store, (const char *const *)q->multi_last, q->nmulti, upto,
                                      1024, &seqs, &n);
    if (rc == SD_ERR_TOO_MANY_RESULTS) {
        status(js, st->acc->name, reply, "413 Too Many Results");
        free(seqs);
        return;
    }
    if (rc) {
        char b[256];
        snprintf(b, sizeof b, "500 %s", sd_strerror(rc));
        status(js, st->acc->name, reply, b);
        free(seqs);
        return;
    }
    if (n == 0) {
        status(js, st->acc->name, reply, "404 No Results");
        free(seqs);
        return;
    }
    uint64_t np = n, lseq = 0;
    int64_t sent_bytes = 0, sent = 0;
    sd_store_msg sm = {0};
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] < q->seq) {
            if (np > 0) np--;
            continue;
        }
        if (sd_store_load_msg(st->store, seqs[i], &sm) != 0) {
            status(js, st->acc->name, reply, "404 Message Not Found");
            sd_store_msg_free(&sm);
            free(seqs);
            return;
        }
        if (np > 0) np--;
        char tsb[40], b[32], subj[1024];
        js_time_format(sm.ts, tsb);
        snprintf(subj, sizeof subj, "%.*s", (int)sm.subj_len, sm.subj);
        char *h = NULL;
        size_t hl = 0;
        if (sm.hdr_len) {
            h = malloc(sm.hdr_len);
            if (!h) abort();
            memcpy(h, sm.hdr, sm.hdr_len);
            hl = sm.hdr_len;
        }
        h = hdr_add(h, &hl, "Nats-Stream", st->cfg.name);
        h = hdr_add(h, &hl, "Nats-Subject", subj);
        snprintf(b, sizeof b, "%llu", (unsigned long long)sm.seq);
        h = hdr_add(h, &hl, "Nats-Sequence", b);
        h = hdr_add(h, &hl, "Nats-Time-Stamp", tsb);
        snprintf(b, sizeof b, "%llu", (unsigned long long)np);
        h = hdr_add(h, &hl, "Nats-Num-Pending", b);
        snprintf(b, sizeof b, "%llu", (unsigned long long)lseq);
        h = hdr_add(h, &hl, "Nats-Last-Sequence", b);
        lseq = sm.seq;
        js_publish(js, st->acc->name, reply, NULL, h, hl, sm.msg, sm.msg_len);
        free(h);
        sent_bytes += (int64_t)(sm.subj_len + sm.hdr_len + sm.msg_len);
        if (sent_bytes >= mb) break;
        sent++;
        if (q->batch > 0 && sent >= q->batch) break;
    }
    sd_store_msg_free(&sm);
    free(seqs);
    char h[200];
    int len = snprintf(h, sizeof h,
                       "NATS/1.0 204 EOB\r\nNats-Num-Pending: %llu\r\nNats-Last-Sequence: %llu\r\n"
                       "Nats-UpTo-Sequence: %llu\r\n\r\n",
                       (unsigned long long)np, (unsigned long long)lseq, (unsigned long long)upto);
    js_publish(js, st->acc->name, reply, NULL, h, (size_t)len, NULL, 0);
}

void js_api_direct_get(js_server *js, js_account *acc, const js_inmsg *m) {
    if (!m->reply_len) return;
    char *subject = dupn(m->subject, m->subject_len);
    char *reply = dupn(m->reply, m->reply_len);
    char name[256];
    size_t tl;
    const char *t = nx_subject_token_at(subject, strlen(subject), 5, &tl);
    snprintf(name, sizeof name, "%.*s", (int)(tl < 255 ? tl : 255), t);
    js_stream *st = js_account_stream(acc, name);
    msg_get_req q = {0};
    char err[512];
    /* No direct subscription without allow_direct: a client sees "no responders". */
    if (!st || !st->cfg.allow_direct) {
        status(js, acc->name, reply, "503");
        goto out;
    }
    if (js_api_level_error(m)) {
        status(js, acc->name, reply, "412 Required Api Level");
        goto out;
    }
    /* The key: everything after the 5th token (last-by-subject form). */
    const char *key = NULL;
    for (size_t i = 0, n = 0; subject[i]; i++) {
        if (subject[i] == '.' && ++n == 5) {
            key = subject[i + 1] ? subject + i + 1 : NULL;
            break;
        }
    }
    bool by_subject = strlen(subject) > 19 + strlen(name);
    if (!by_subject) {
        if (m->data_len == 0) {
            status(js, acc->name, reply, "408 Empty Request");
            goto out;
        }
        if (parse_get(m, &q, false, err, sizeof err)) {
            status(js, acc->name, reply, "408 Malformed Request");
            goto out;
        }
        bool last = q.last_by_subj && q.last_by_subj[0], next = q.next_by_subj && q.next_by_subj[0];
        if (q.seq == 0 && !last && !next && q.nmulti == 0 && !q.has_start_time) {
            status(js, acc->name, reply, "408 Empty Request");
            goto out;
        }
        if ((q.seq > 0 && last) || (q.seq > 0 && q.has_start_time) || (q.has_start_time && last) ||
            (last && next) || (last && q.batch > 0) || (last && q.nmulti) || (next && q.nmulti) ||
            (q.up_to_seq > 0 && q.has_up_to_time)) {
            status(js, acc->name, reply, "408 Bad Request");
            goto out;
        }
        if (q.nmulti) {
            direct_multi(st, &q, reply);
            goto out;
        }
    } else {
        if (m->data_len && parse_get(m, &q, false, err, sizeof err)) {
            status(js, acc->name, reply, "408 Malformed Request");
            goto out;
        }
        if (!key || (q.last_by_subj && q.last_by_subj[0]) || (q.next_by_subj && q.next_by_subj[0]) ||
            q.nmulti || q.seq || q.batch || q.has_start_time || q.up_to_seq || q.has_up_to_time) {
            status(js, acc->name, reply, "408 Bad Request");
            goto out;
        }
        free(q.last_by_subj);
        q.last_by_subj = dupn(key, strlen(key));
    }
    direct_get(st, &q, reply);
out:
    req_free(&q);
    free(subject);
    free(reply);
}
