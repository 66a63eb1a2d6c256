/* Fast batch publish (allow_batched): Go nats-server v2.14.5 server/stream.go getFastBatch,
 * processJetStreamFastBatchMsg and server/jetstream_batching.go (fastBatch,
 * fastBatchRegisterSequences, checkFlowControl, fastBatchCommit, BatchFlowAck / BatchFlowGap /
 * BatchFlowErr), single node.
 *
 * The batch rides on the reply subject: <prefix>.<id>.<flow>.<gap>.<seq>.<op>.$FI.  Every
 * message is checked (Go's checkMsgHeadersPreClusteredProposal) and stored at once; the
 * publisher gets flow control acks ({"type":"ack","seq","msgs"}) every `msgs` messages, gap
 * reports ({"type":"gap",...}), per-message errors ({"type":"err",...}) and, at the commit, a
 * PubAck with "batch" and "count".  Batches are dropped after 10 s without a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_stream_int.h"

#define FAST_MAX_INFLIGHT_PER_STREAM 1000
#define FAST_MAX_INFLIGHT_TOTAL 50000
#define FAST_TIMEOUT_NS (10LL * JS_SEC)

enum { OP_START, OP_APPEND, OP_COMMIT, OP_COMMIT_EOB, OP_PING };

typedef struct fbatch {
    char *id;
    bool gap_ok, commit;
    uint16_t max_ack, ack_msgs;
    uint64_t lseq, pseq, fseq, sseq, pending;
    int64_t deadline;
} fbatch;

struct js_fast_batches {
    fbatch **v;
    size_t n;
};

static int64_t g_fast_inflight;

#define FAIL(code)                                                                             \
    do {                                                                                       \
        js_stream_pub_error(st, reply, code, NULL);                                            \
        return;                                                                                \
    } while (0)

/* ---- reply subject ------------------------------------------------------------------ */

static bool parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Go parseInt64: digits only, -1 otherwise. */
static int64_t parse_i64(const char *s, size_t n) {
    uint64_t v;
    if (!parse_u64(s, n, &v) || v > INT64_MAX) return -1;
    return (int64_t)v;
}

/* The token before position `end` (exclusive) of r: start in *o; false when no '.'. */
static bool prev_tok(const char *r, size_t end, size_t *o) {
    for (size_t i = end; i > 0; i--)
        if (r[i - 1] == '.') {
            *o = i - 1;
            return true;
        }
    return false;
}

/* Go getFastBatch: 1 with fb filled, 0 when the reply is not a fast batch reply, -1 when it
 * is one but malformed (Go's invalid pattern). */
int js_fast_batch_parse(const char *reply, size_t len, js_fast_batch *fb) {
    memset(fb, 0, sizeof *fb);
    if (len <= 4 || memcmp(reply + len - 4, ".$FI", 4)) return 0;
    size_t n = len - 4, o, p;
    if (!prev_tok(reply, n, &o)) return -1;
    int64_t op = parse_i64(reply + o + 1, n - o - 1);
    if (op < OP_START || op > OP_PING) return -1;
    fb->ping = op == OP_PING;
    fb->commit_eob = op == OP_COMMIT_EOB;
    fb->commit = fb->commit_eob || op == OP_COMMIT;
    p = o;
    if (!prev_tok(reply, o, &o)) return -1;
    uint64_t seq;
    if (!parse_u64(reply + o + 1, p - o - 1, &seq) || seq == 0 || seq == UINT64_MAX) return -1;
    fb->seq = seq;
    p = o;
    if (seq == 1 && fb->commit_eob) return -1;
    if (op == OP_START && seq != 1) return -1;
    if (op == OP_APPEND && seq <= 1) return -1;
    if (!prev_tok(reply, o, &o)) return -1;
    size_t gl = p - o - 1;
    const char *g = reply + o + 1;
    if (gl == 2 && !memcmp(g, "ok", 2)) fb->gap_ok = true;
    else if (!(gl == 4 && !memcmp(g, "fail", 4))) return -1;
    p = o;
    if (!prev_tok(reply, o, &o)) return -1;
    int64_t a = parse_i64(reply + o + 1, p - o - 1);
    fb->flow = a <= 0 ? 10 : a > 65535 ? 65535 : (uint16_t)a;
    p = o;
    if (!prev_tok(reply, o, &o)) return -1;
    size_t il = p - o - 1;
    if (il >= sizeof fb->id) il = sizeof fb->id - 1; /* longer than 64: refused by the caller */
    memcpy(fb->id, reply + o + 1, il);
    fb->id[il] = 0;
    fb->id_len = p - o - 1;
    return 1;
}

/* ---- flow messages ------------------------------------------------------------------- */

static void send_json(js_stream *st, const char *reply, json_t *o) {
    size_t len;
    char *s = js_json_encode(o, &len);
    json_decref(o);
    js_publish(st->acc->js, st->acc->name, reply, NULL, NULL, 0, (const uint8_t *)s, len);
    free(s);
}

static void send_flow(js_stream *st, const char *reply, uint64_t seq, uint16_t msgs) {
    if (!reply || !reply[0]) return;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("ack"));
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "msgs", json_integer(msgs));
    send_json(st, reply, o);
}

static void send_gap(js_stream *st, const char *reply, uint64_t last, uint64_t seq) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("gap"));
    json_object_set_new(o, "last_seq", json_integer((json_int_t)last));
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    send_json(st, reply, o);
}

static void send_err(js_stream *st, const char *reply, uint64_t seq, int code, const char *arg) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("err"));
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    const char *args[1] = {arg};
    json_object_set_new(o, "error", js_error_json(code, args, arg ? 1 : 0));
    send_json(st, reply, o);
}

static void send_ack(js_stream *st, const char *reply, uint64_t sseq, const char *id, uint64_t count,
                     bool dup) {
    if (!reply || !reply[0]) return;
    js_server *js = st->acc->js;
    json_t *n = json_string(st->cfg.name), *bid = json_string(id);
    char *qn = js_json_encode(n, NULL), *qi = js_json_encode(bid, NULL), *qd = NULL;
    json_decref(n);
    json_decref(bid);
    if (js->cfg.domain) {
        json_t *d = json_string(js->cfg.domain);
        qd = js_json_encode(d, NULL);
        json_decref(d);
    }
    char *b = NULL;
    int len = asprintf(&b, "{\"stream\":%s%s%s,\"seq\":%llu%s,\"batch\":%s,\"count\":%llu}", qn,
                       qd ? ",\"domain\":" : "", qd ? qd : "", (unsigned long long)sseq,
                       dup ? ",\"duplicate\": true" : "", qi, (unsigned long long)count);
    if (len < 0) abort();
    js_publish_after_sync(js, st->acc->name, reply, NULL, 0, (const uint8_t *)b, (size_t)len);
    free(b);
    free(qn);
    free(qi);
    free(qd);
}

/* ---- batch bookkeeping --------------------------------------------------------------- */

static fbatch *find(js_stream *st, const char *id) {
    struct js_fast_batches *bs = st->fast_batches;
    for (size_t i = 0; bs && i < bs->n; i++)
        if (!strcmp(bs->v[i]->id, id)) return bs->v[i];
    return NULL;
}

static void cleanup(js_stream *st, fbatch *b) {
    struct js_fast_batches *bs = st->fast_batches;
    for (size_t i = 0; i < bs->n; i++)
        if (bs->v[i] == b) {
            memmove(&bs->v[i], &bs->v[i + 1], (bs->n - i - 1) * sizeof *bs->v);
            bs->n--;
            break;
        }
    g_fast_inflight--;
    free(b->id);
    free(b);
}

/* Go fastBatchInit. */
static void batch_init(js_stream *st, fbatch *b) {
    b->ack_msgs = b->max_ack < 500 ? b->max_ack : 500;
    if (st->fast_batches->n > 1) b->ack_msgs = 1;
}

void js_fast_batch_free_all(js_stream *st) {
    struct js_fast_batches *bs = st->fast_batches;
    if (!bs) return;
    while (bs->n) cleanup(st, bs->v[0]);
    free(bs->v);
    free(bs);
    st->fast_batches = NULL;
}

int64_t js_fast_batch_next_deadline(js_stream *st) {
    int64_t next = INT64_MAX;
    for (size_t i = 0; st->fast_batches && i < st->fast_batches->n; i++) {
        fbatch *b = st->fast_batches->v[i];
        if (!b->commit && b->deadline < next) next = b->deadline;
    }
    return next;
}

void js_fast_batch_tick(js_stream *st, int64_t now) {
    struct js_fast_batches *bs = st->fast_batches;
    for (size_t i = 0; bs && i < bs->n;) {
        if (!bs->v[i]->commit && bs->v[i]->deadline <= now) cleanup(st, bs->v[i]);
        else i++;
    }
}

/* Go checkFlowControl. */
static bool check_flow(js_stream *st, fbatch *b, const char *reply) {
    uint64_t am = b->ack_msgs ? b->ack_msgs : 1;
    if (b->pseq < b->fseq + am) return false;
    b->fseq += ((b->pseq - b->fseq) / am) * am;
    size_t nb = st->fast_batches->n ? st->fast_batches->n : 1;
    uint16_t maxack = (uint16_t)(500 / nb);
    if (maxack < 1) maxack = 1;
    if (maxack > b->max_ack) maxack = b->max_ack;
    if (b->ack_msgs < maxack) {
        b->ack_msgs = (uint16_t)(b->ack_msgs * 2 > maxack ? maxack : b->ack_msgs * 2);
    } else if (b->ack_msgs > maxack) {
        b->ack_msgs /= 2;
        if (b->ack_msgs <= maxack) b->ack_msgs = maxack;
    }
    send_flow(st, reply, b->fseq, b->ack_msgs);
    return true;
}

/* Go fastBatchCommit: true when the batch is done (PubAck sent, caller cleans up). */
static bool batch_commit(js_stream *st, fbatch *b, const char *reply) {
    b->commit = true;
    if (b->lseq == b->pseq) {
        send_ack(st, reply, b->sseq, b->id, b->lseq, false);
        return true;
    }
    return false;
}

/* Go fastBatchRegisterSequences after a message of the batch was stored at sseq (single
 * node: the store is synchronous, so the batch's PubAck is sent here). */
void js_fast_batch_stored(js_stream *st, const js_fast_batch *fb, const char *reply, uint64_t sseq) {
    fbatch *b = find(st, fb->id);
    if (!b) return;
    if (b->pending > 0) b->pending--;
    b->sseq = sseq;
    bool skipped = false;
    if (b->pending == 0) {
        skipped = true;
        b->pseq = b->lseq;
    } else {
        b->pseq = fb->seq;
    }
    if (b->lseq == b->pseq && b->commit) {
        if (skipped) send_ack(st, reply, b->sseq, fb->id, b->lseq, false);
        cleanup(st, b);
        return;
    }
    check_flow(st, b, reply);
}

/* Go processJetStreamFastBatchMsg. raw_reply is the reply as published (flow messages go
 * there); reply is NULL when the stream does not acknowledge (no_ack). */
void js_batch_fast(js_stream *st, const js_fast_batch *fb, bool invalid, const js_inmsg *m,
                   const char *subject, const char *raw_reply, const char *reply,
                   const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    js_server *js = st->acc->js;
    (void)msg;
    if (st->cfg.sealed) FAIL(JSStreamSealedErr);
    bool mem = st->cfg.storage == SD_STORAGE_MEMORY;
    int64_t max = mem ? js->cfg.max_memory : js->cfg.max_store;
    if (max >= 0 && (mem ? js->mem_used : js->store_used) > max)
        FAIL(JSInsufficientResourcesErr);
    if (st->cfg.max_msg_size >= 0 &&
        (hdr_len > (size_t)st->cfg.max_msg_size || msg_len > (size_t)st->cfg.max_msg_size - hdr_len))
        FAIL(JSStreamMessageExceedsMaximumErr);
    if (!st->cfg.allow_batched) FAIL(JSBatchPublishDisabledErr);
    if (invalid) FAIL(JSBatchPublishInvalidPatternErr);
    if (fb->id_len > 64) FAIL(JSBatchPublishInvalidBatchIDErr);
    if (!st->fast_batches) {
        st->fast_batches = calloc(1, sizeof *st->fast_batches);
        if (!st->fast_batches) abort();
    }
    struct js_fast_batches *bs = st->fast_batches;
    fbatch *b = find(st, fb->id);
    if (!b) {
        if (fb->seq != 1) FAIL(JSBatchPublishUnknownBatchIDErr);
        if (bs->n + 1 > FAST_MAX_INFLIGHT_PER_STREAM || g_fast_inflight + 1 > FAST_MAX_INFLIGHT_TOTAL)
            FAIL(JSBatchPublishTooManyInflight);
        g_fast_inflight++;
        b = calloc(1, sizeof *b);
        bs->v = realloc(bs->v, (bs->n + 1) * sizeof *bs->v);
        if (!b || !bs->v) abort();
        b->id = strdup(fb->id);
        b->gap_ok = fb->gap_ok;
        b->max_ack = fb->flow;
        bs->v[bs->n++] = b;
        batch_init(st, b);
        b->deadline = js_now(js) + FAST_TIMEOUT_NS;
    }
    if (hdr_len) {
        size_t vl = 0;
        if (sd_slice_header("Nats-Required-Api-Level", hdr, hdr_len, &vl) && vl) {
            js_inmsg probe = {.hdr = hdr, .hdr_len = hdr_len};
            if (js_api_level_error(&probe)) {
                cleanup(st, b);
                FAIL(JSRequiredApiLevelErr);
            }
        }
    }
    int64_t now = js_now(js);
    bool expired = !b->commit && b->deadline <= now;
    if (!b->commit) b->deadline = now + FAST_TIMEOUT_NS;
    if (fb->ping) {
        bool flow = true;
        if (fb->seq > b->lseq || expired) {
            send_gap(st, raw_reply, b->lseq + 1, fb->seq + 1);
            if (b->gap_ok && !expired) {
                b->lseq = fb->seq;
                if (b->pending == 0) b->pseq = b->lseq;
                flow = !check_flow(st, b, raw_reply);
            } else if (batch_commit(st, b, raw_reply)) {
                cleanup(st, b);
                flow = false;
            }
        }
        if (flow) send_flow(st, raw_reply, b->fseq, b->ack_msgs);
        return;
    }
    if (b->commit) return;
    b->lseq++;
    if (b->lseq != fb->seq || expired) {
        if (fb->seq > b->lseq) send_gap(st, raw_reply, b->lseq, fb->seq);
        if (b->gap_ok && !expired && fb->seq > b->lseq) {
            b->lseq = fb->seq;
        } else {
            b->lseq--;
            if (batch_commit(st, b, raw_reply)) cleanup(st, b);
            return;
        }
    }
    if (fb->commit) {
        if (fb->commit_eob) {
            b->lseq--;
            if (b->pending == 0) b->pseq = b->lseq;
        }
        bool done = batch_commit(st, b, raw_reply);
        if (fb->commit_eob) {
            if (done) cleanup(st, b);
            return;
        }
    }
    if (fb->seq == 1 && reply && !fb->commit) send_flow(st, reply, 0, b->ack_msgs);
    uint64_t dseq = 0;
    char *arg = NULL;
    int rc = js_batch_check_msg(st, subject, hdr, hdr_len, msg_len, &dseq, &arg);
    if (rc) {
        bool dup = rc == JSAtomicPublishContainsDuplicateMessageErr;
        if (dup) {
            if (b->pending == 0) {
                b->pseq = fb->seq;
                check_flow(st, b, raw_reply);
            }
            if (!fb->commit) goto out;
        }
        if (!fb->gap_ok && b->lseq == 1) {
            if (dup && dseq > 0) send_ack(st, raw_reply, dseq, fb->id, fb->seq, true);
            else js_stream_pub_error(st, raw_reply, rc, arg);
            cleanup(st, b);
            goto out;
        }
        if (!dup) send_err(st, raw_reply, fb->seq, rc, arg);
        if (fb->gap_ok && !fb->commit) goto out;
        if (!dup) {
            b->lseq--;
            if (b->pending == 0) b->pseq = b->lseq;
        }
        if (batch_commit(st, b, raw_reply)) cleanup(st, b);
        goto out;
    }
    b->pending++;
    js_stream_process_fast(st, m, fb);
out:
    free(arg);
}
