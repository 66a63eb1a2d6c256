/* Atomic batch publish (allow_atomic): Go nats-server v2.14.5 server/stream.go
 * processJetStreamAtomicBatchMsg and server/jetstream_batching.go (atomicBatch, its cleanup
 * timer, checkMsgHeadersPreClusteredProposal's consistency checks against the staged diff),
 * for a single node.
 *
 * Messages of a batch (Nats-Batch-Id, Nats-Batch-Sequence 1..n) are staged in memory; each
 * staged message is answered with an empty message.  Nats-Batch-Commit "1" (or "eob", an
 * end-of-batch marker that is not stored) checks the whole batch against the stream and the
 * staged diff, then stores every message in order (Go's R1 commit: processJetStreamMsg with
 * the batch headers kept, "Nats-Batch-Commit: 1" added to the last message of an eob
 * commit); only the last one is acknowledged, with "batch" and "count".  A gap, a bad commit
 * value, a batch over 1000 messages or a batch idle for 10 s abandons the batch
 * ($JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.<stream>).  Go's R1 file streams also persist
 * the staged messages to a batch store so a commit cut short by a crash is finished at
 * recovery; here staged messages are in memory, a restart drops unfinished batches (the client
 * sees an incomplete batch) and a cut-short commit is rolled back (js_batch_recover.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/subject.h"
#include "common/strmap.h"
#include "storaged/js/js_advisory.h"
#include "storaged/js/js_stream_int.h"

#define MAX_INFLIGHT_PER_STREAM 50
#define MAX_INFLIGHT_TOTAL 1000
#define MAX_BATCH_SIZE 1000
#define BATCH_TIMEOUT_NS (10LL * JS_SEC)

typedef struct bmsg {
    char *subj;  /* as published (the commit applies the input transform again, as Go) */
    char *csubj; /* after the input transform, for the checks */
    uint8_t *hdr;
    size_t hdr_len;
    uint8_t *msg;
    size_t msg_len;
} bmsg;

typedef struct abatch {
    char *id;
    uint64_t lseq;
    bmsg *msgs;
    size_t n, cap;
    int64_t deadline;
} abatch;

struct js_batches {
    abatch **v;
    size_t n;
};

/* Go sendStreamBatchAbandonedAdvisory: in the stream's account, then in the system account
 * with the account named (publishAdvisory: each only when someone listens there). */
static json_t *abandoned(js_stream *st, const json_t *env, const char *account, const char *id,
                         const char *reason) {
    js_server *js = st->acc->js;
    json_t *o = json_deep_copy(env);
    if (account) json_object_set_new(o, "account", json_string(account));
    json_object_set_new(o, "stream", json_string(st->cfg.name));
    js_adv_domain(js, o);
    json_object_set_new(o, "batch", json_string(id));
    json_object_set_new(o, "reason", json_string(reason));
    return o;
}

static void advisory(js_stream *st, const char *id, const char *reason) {
    js_server *js = st->acc->js;
    char subj[512];
    snprintf(subj, sizeof subj, "$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.%s", st->cfg.name);
    const char *sys = js_adv_system_account(js);
    json_t *env = js_adv_event(js, "io.nats.jetstream.advisory.v1.stream_batch_abandoned");
    if (!st->acc->is_system)
        js_adv_publish(js, st->acc->name, subj, abandoned(st, env, NULL, id, reason));
    if (sys) js_adv_publish(js, sys, subj, abandoned(st, env, st->acc->name, id, reason));
    json_decref(env);
}

static void batch_free(abatch *b) {
    for (size_t i = 0; i < b->n; i++) {
        free(b->msgs[i].subj);
        free(b->msgs[i].csubj);
        free(b->msgs[i].hdr);
        free(b->msgs[i].msg);
    }
    free(b->msgs);
    free(b->id);
    free(b);
}

/* Go cleanupLocked: unregister and release. */
static void cleanup(js_stream *st, abatch *b) {
    struct js_batches *bs = st->batches;
    for (size_t i = 0; i < bs->n; i++) {
        if (bs->v[i] == b) {
            memmove(&bs->v[i], &bs->v[i + 1], (bs->n - i - 1) * sizeof *bs->v);
            bs->n--;
            break;
        }
    }
    st->acc->js->batches_inflight--;
    batch_free(b);
}

void js_batch_free_all(js_stream *st) {
    struct js_batches *bs = st->batches;
    if (!bs) return;
    while (bs->n) cleanup(st, bs->v[0]);
    free(bs->v);
    free(bs);
    st->batches = NULL;
}

int64_t js_batch_next_deadline(js_stream *st) {
    int64_t next = INT64_MAX;
    if (!st->batches) return next;
    for (size_t i = 0; i < st->batches->n; i++)
        if (st->batches->v[i]->deadline < next) next = st->batches->v[i]->deadline;
    return next;
}

void js_batch_tick(js_stream *st, int64_t now) {
    struct js_batches *bs = st->batches;
    for (size_t i = 0; bs && i < bs->n;) {
        abatch *b = bs->v[i];
        if (b->deadline > now) {
            i++;
            continue;
        }
        char *id = strdup(b->id);
        cleanup(st, b);
        advisory(st, id, "timeout");
        free(id);
    }
}

/* Go parseUint64 on Nats-Batch-Sequence: digits only. */
static bool batch_seq(const uint8_t *hdr, size_t hdr_len, uint64_t *out) {
    size_t vl = 0;
    const uint8_t *v = sd_slice_header("Nats-Batch-Sequence", hdr, hdr_len, &vl);
    if (!v || vl == 0 || vl > 20) return false;
    uint64_t n = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9') return false;
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    *out = n;
    return true;
}

static bool hdr_is(const uint8_t *hdr, size_t hdr_len, const char *key, const char *val) {
    size_t vl = 0;
    const uint8_t *v = sd_slice_header(key, hdr, hdr_len, &vl);
    return v && vl == strlen(val) && memcmp(v, val, vl) == 0;
}

static bool hdr_set(const uint8_t *hdr, size_t hdr_len, const char *key) {
    size_t vl = 0;
    return sd_slice_header(key, hdr, hdr_len, &vl) && vl > 0;
}

/* Go removeHeaderIfPresent for one key, in place; returns the new length. */
static size_t hdr_remove(uint8_t *h, size_t n, const char *key) {
    size_t kl = strlen(key), i = 0;
    while (i < n) {
        uint8_t *eol = memmem(h + i, n - i, "\r\n", 2);
        if (!eol) break;
        size_t ll = (size_t)(eol - (h + i)) + 2;
        if (i > 0 && ll > kl + 2 && !strncasecmp((char *)h + i, key, kl) && h[i + kl] == ':') {
            memmove(h + i, h + i + ll, n - i - ll);
            n -= ll;
        } else {
            i += ll;
        }
    }
    return n;
}

typedef struct staged {
    nx_strmap msgids;   /* ids in the batch (keys in ids) */
    char **ids;
    size_t nids;
    uint64_t nops;
    nx_strmap inflight; /* subjects in the batch */
    size_t ninflight;
} staged;

/* Go checkMsgHeadersPreClusteredProposal for one staged message (single node subset):
 * 0 or an err_code with *arg (malloc'd) for its placeholder. */
static int check_one(js_stream *st, staged *d, const bmsg *m, size_t idx, bool atomic,
                     uint64_t *dup_seq, char **arg) {
    const uint8_t *hdr = m->hdr;
    size_t hl = m->hdr_len;
    char *v = NULL;
    int rc = 0;
    if (atomic && hl && hdr_set(hdr, hl, "Nats-Expected-Last-Msg-Id")) {
        *arg = strdup("Nats-Expected-Last-Msg-Id");
        return JSAtomicPublishUnsupportedHeaderBatchErr;
    }
    if (hl > 65535) return JSStreamHeaderExceedsMaximumErr;
    char *incr = hl ? js_hdr_get(hdr, hl, "Nats-Incr") : NULL;
    if (incr && !incr[0]) {
        free(incr);
        incr = NULL;
    }
    if (incr) {
        if (!js_counter_valid(incr)) rc = JSMessageIncrInvalidErr;
        else if (!st->cfg.allow_msg_counter) rc = JSMessageIncrDisabledErr;
        else if (m->msg_len > 0) rc = JSMessageIncrPayloadErr;
        else if (hdr_set(hdr, hl, "Nats-Rollup") || hdr_set(hdr, hl, "Nats-Expected-Stream") ||
                 hdr_set(hdr, hl, "Nats-Expected-Last-Subject-Sequence-Subject") ||
                 hdr_set(hdr, hl, "Nats-Expected-Last-Sequence") ||
                 hdr_set(hdr, hl, "Nats-Expected-Last-Subject-Sequence"))
            rc = JSMessageIncrInvalidErr;
    }
    free(incr);
    if (rc) return rc;
    if (hl && (v = js_hdr_get(hdr, hl, "Nats-Expected-Stream")) && v[0] && strcmp(v, st->cfg.name))
        rc = JSStreamNotMatchErr;
    free(v);
    v = NULL;
    if (rc) return rc;
    int64_t ttl = 0;
    int terr = hl ? sd_get_message_ttl(hdr, hl, &ttl) : 0;
    if (ttl != 0 || terr != 0) {
        if (!st->cfg.allow_msg_ttl) return JSMessageTTLDisabledErr;
        if (terr) return JSMessageTTLInvalidErr;
    }
    char *id = hl ? js_hdr_get(hdr, hl, "Nats-Msg-Id") : NULL;
    if (id && id[0]) {
        if (nx_strmap_get(&d->msgids, id, strlen(id))) rc = JSAtomicPublishContainsDuplicateMessageErr;
        else {
            js_ddentry *dd = js_stream_check_msgid(st, id);
            if (dd) rc = dd->seq > 0 ? JSAtomicPublishContainsDuplicateMessageErr
                                     : JSStreamDuplicateMessageConflict;
            if (dd && dup_seq) *dup_seq = dd->seq;
        }
        if (!rc) {
            d->ids = realloc(d->ids, (d->nids + 1) * sizeof(char *));
            if (!d->ids) abort();
            d->ids[d->nids++] = id;
            nx_strmap_put(&d->msgids, id, strlen(id), (void *)1);
            id = NULL;
        }
    }
    free(id);
    if (rc) return rc;
    if (!hdr_set(hdr, hl, "Nats-Incr") && st->cfg.allow_msg_counter) return JSMessageIncrMissingErr;
    if (hl && (v = js_hdr_get(hdr, hl, "Nats-Expected-Last-Sequence")) && v[0]) {
        char *end;
        unsigned long long want = strtoull(v, &end, 10);
        uint64_t cur = st->lseq + idx;
        if (*end || want != cur) {
            if (asprintf(arg, "%llu", (unsigned long long)cur) < 0) abort();
            rc = JSStreamWrongLastSequenceErrF;
        } else if (d->ninflight > 0) {
            rc = JSStreamWrongLastSequenceConstantErr;
        }
    }
    free(v);
    v = NULL;
    if (rc) return rc;
    char *ssubj = hl ? js_hdr_get(hdr, hl, "Nats-Expected-Last-Subject-Sequence-Subject") : NULL;
    if (hl && (v = js_hdr_get(hdr, hl, "Nats-Expected-Last-Subject-Sequence")) && v[0]) {
        const char *subj = ssubj && ssubj[0] ? ssubj : m->csubj;
        if (nx_strmap_get(&d->inflight, subj, strlen(subj))) {
            rc = JSStreamWrongLastSequenceConstantErr;
        } else {
            char *end;
            unsigned long long want = strtoull(v, &end, 10);
            uint64_t fseq = 0;
            sd_store_msg sm = {0};
            int lrc = sd_store_load_last_msg(st->store, subj, &sm);
            if (lrc == 0) fseq = sm.seq;
            sd_store_msg_free(&sm);
            if (*end || (lrc != 0 && lrc != SD_ERR_MSG_NOT_FOUND) || fseq != want) {
                if (asprintf(arg, "%llu", (unsigned long long)fseq) < 0) abort();
                rc = JSStreamWrongLastSequenceErrF;
            }
        }
    } else if (ssubj && ssubj[0]) {
        rc = JSStreamExpectedLastSeqPerSubjectInvalid;
    }
    free(ssubj);
    free(v);
    v = NULL;
    if (rc) return rc;
    if (hl && (v = js_hdr_get(hdr, hl, "Nats-Schedule")) && v[0] && !st->cfg.allow_msg_schedules)
        rc = JSMessageSchedulesDisabledErr;
    free(v);
    v = NULL;
    if (rc) return rc;
    if (hl && (v = js_hdr_get(hdr, hl, "Nats-Rollup")) && v[0]) {
        if (!st->cfg.allow_rollup || st->cfg.deny_purge) {
            *arg = strdup("rollup not permitted");
            rc = JSStreamRollupFailedF;
        } else if (!strcmp(v, "sub")) {
            if (nx_strmap_get(&d->inflight, m->csubj, strlen(m->csubj))) {
                *arg = strdup("batch rollup sub invalid");
                rc = JSStreamRollupFailedF;
            }
        } else if (!strcmp(v, "all")) {
            if (d->ninflight > 0) {
                *arg = strdup("batch rollup all invalid");
                rc = JSStreamRollupFailedF;
            }
        } else {
            if (asprintf(arg, "rollup value invalid: \"%s\"", v) < 0) abort();
            rc = JSStreamRollupFailedF;
        }
    }
    free(v);
    if (rc) return rc;
    /* Per-subject op counts of the staged diff (stored as the map value). */
    uintptr_t ops = (uintptr_t)nx_strmap_get(&d->inflight, m->csubj, strlen(m->csubj));
    if (!ops) d->ninflight++;
    nx_strmap_put(&d->inflight, m->csubj, strlen(m->csubj), (void *)(ops + 1));
    d->nops++;
    if (st->cfg.discard == SD_DISCARD_NEW) {
        if (st->cfg.max_msgs > 0) {
            sd_stream_state ss = {0};
            sd_store_fast_state(st->store, &ss);
            uint64_t total = ss.msgs + d->nops;
            sd_stream_state_free(&ss);
            if (total > (uint64_t)st->cfg.max_msgs) {
                *arg = strdup("maximum messages exceeded");
                return JSStreamStoreFailedF;
            }
        }
        if (st->cfg.discard_new_per && st->cfg.max_msgs_per > 0 && !(hl && hdr_set(hdr, hl, "Nats-Rollup"))) {
            sd_simple_state fs = {0};
            uint64_t have = 0;
            if (sd_store_filtered_state(st->store, 0, m->csubj, &fs) == 0) have = fs.msgs;
            if (have + ops + 1 > (uint64_t)st->cfg.max_msgs_per) {
                *arg = strdup("maximum messages per subject exceeded");
                return JSStreamStoreFailedF;
            }
        }
    }
    return 0;
}

static void staged_free(staged *d) {
    nx_strmap_free(&d->msgids);
    nx_strmap_free(&d->inflight);
    for (size_t i = 0; i < d->nids; i++) free(d->ids[i]);
    free(d->ids);
}

int js_batch_check_msg(js_stream *st, const char *csubj, const uint8_t *hdr, size_t hdr_len,
                       size_t msg_len, uint64_t *dup_seq, char **arg) {
    staged d = {0};
    bmsg m = {.csubj = (char *)csubj, .hdr = (uint8_t *)hdr, .hdr_len = hdr_len, .msg_len = msg_len};
    *dup_seq = 0;
    int rc = check_one(st, &d, &m, 0, false, dup_seq, arg);
    staged_free(&d);
    return rc;
}

static void stage(abatch *b, const char *subj, const char *csubj, const uint8_t *hdr,
                  size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->msgs = realloc(b->msgs, b->cap * sizeof *b->msgs);
        if (!b->msgs) abort();
    }
    bmsg *m = &b->msgs[b->n++];
    m->subj = strdup(subj);
    m->csubj = strdup(csubj);
    m->hdr = malloc(hdr_len + 1);
    m->msg = malloc(msg_len + 1);
    if (!m->subj || !m->hdr || !m->msg) abort();
    memcpy(m->hdr, hdr, hdr_len);
    if (msg_len) memcpy(m->msg, msg, msg_len);
    m->hdr_len = hdr_len;
    m->msg_len = msg_len;
}

static void commit(js_stream *st, abatch *b, const char *reply, bool eob) {
    staged d = {0};
    int rc = 0;
    char *arg = NULL;
    for (size_t i = 0; i < b->n && !rc; i++) rc = check_one(st, &d, &b->msgs[i], i, true, NULL, &arg);
    staged_free(&d);
    if (rc) {
        js_stream_pub_error(st, reply, rc, arg);
        free(arg);
        cleanup(st, b);
        return;
    }
    char *id = strdup(b->id);
    uint64_t count = b->n;
    for (size_t i = 0; i < b->n; i++) {
        bmsg *m = &b->msgs[i];
        bool last = i + 1 == b->n;
        uint8_t *h = m->hdr;
        size_t hl = m->hdr_len;
        char *own = NULL;
        if (last && eob) {
            own = js_hdr_append(h, hl, "Nats-Batch-Commit", "1", &hl);
            h = (uint8_t *)own;
        }
        js_inmsg im = {.account = st->acc->name, .subject = m->subj, .subject_len = strlen(m->subj),
                       .reply = last ? reply : NULL, .reply_len = last && reply ? strlen(reply) : 0,
                       .hdr = h, .hdr_len = hl, .data = m->msg, .data_len = m->msg_len};
        js_stream_process_ex(st, &im, id, count, NULL);
        free(own);
    }
    free(id);
    cleanup(st, b);
}

void js_batch_atomic(js_stream *st, const char *raw_subject, const char *subject,
                     const char *reply, const char *batch_id,
                     const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    js_server *js = st->acc->js;
    bool mem = st->cfg.storage == SD_STORAGE_MEMORY;
    int64_t max = mem ? js->cfg.max_memory : js->cfg.max_store;
    if (max >= 0 && (mem ? js->mem_used : js->store_used) > max) {
        js_stream_pub_error(st, reply, JSInsufficientResourcesErr, NULL);
        return;
    }
    if (strlen(batch_id) > 64) {
        js_stream_pub_error(st, reply, JSAtomicPublishInvalidBatchIDErr, NULL);
        return;
    }
    uint64_t seq;
    if (!batch_seq(hdr, hdr_len, &seq)) {
        js_stream_pub_error(st, reply, JSAtomicPublishMissingSeqErr, NULL);
        return;
    }
    if (!st->batches) {
        st->batches = calloc(1, sizeof *st->batches);
        if (!st->batches) abort();
    }
    struct js_batches *bs = st->batches;
    abatch *b = NULL;
    for (size_t i = 0; i < bs->n && !b; i++)
        if (!strcmp(bs->v[i]->id, batch_id)) b = bs->v[i];
    bool eob = hdr_is(hdr, hdr_len, "Nats-Batch-Commit", "eob");
    char szb[24];
    if (!b) {
        if (seq != 1) {
            uint64_t size = eob ? seq - 1 : seq;
            snprintf(szb, sizeof szb, "%d", MAX_BATCH_SIZE);
            js_stream_pub_error(st, reply,
                                size > MAX_BATCH_SIZE ? JSAtomicPublishTooLargeBatchErrF
                                                      : JSAtomicPublishIncompleteBatchErr,
                                size > MAX_BATCH_SIZE ? szb : NULL);
            return;
        }
        if (bs->n + 1 > MAX_INFLIGHT_PER_STREAM || js->batches_inflight + 1 > MAX_INFLIGHT_TOTAL) {
            js_stream_pub_error(st, reply, JSAtomicPublishTooManyInflight, NULL);
            return;
        }
        js->batches_inflight++;
        b = calloc(1, sizeof *b);
        if (!b) abort();
        b->id = strdup(batch_id);
        bs->v = realloc(bs->v, (bs->n + 1) * sizeof *bs->v);
        if (!b->id || !bs->v) abort();
        bs->v[bs->n++] = b;
    }
    size_t cvl = 0;
    bool commit_hdr = sd_slice_header("Nats-Batch-Commit", hdr, hdr_len, &cvl) != NULL;
    if (commit_hdr && !eob && !hdr_is(hdr, hdr_len, "Nats-Batch-Commit", "1")) {
        cleanup(st, b);
        js_stream_pub_error(st, reply, JSAtomicPublishInvalidBatchCommitErr, NULL);
        return;
    }
    uint8_t *h = malloc(hdr_len + 1);
    if (!h) abort();
    memcpy(h, hdr, hdr_len);
    size_t hl = hdr_len;
    if (hdr_set(h, hl, "Nats-Required-Api-Level")) {
        js_inmsg probe = {.hdr = h, .hdr_len = hl};
        if (js_api_level_error(&probe)) {
            char *id = strdup(batch_id);
            cleanup(st, b);
            advisory(st, id, "unsupported");
            free(id);
            free(h);
            js_stream_pub_error(st, reply, JSRequiredApiLevelErr, NULL);
            return;
        }
        hl = hdr_remove(h, hl, "Nats-Required-Api-Level");
    }
    int64_t now = js_now(js);
    bool expired = b->deadline && b->deadline <= now;
    b->deadline = now + BATCH_TIMEOUT_NS;
    b->lseq++;
    if (b->lseq != seq || expired || (seq == 1 && eob)) {
        char *id = strdup(batch_id);
        cleanup(st, b);
        advisory(st, id, "incomplete");
        free(id);
        free(h);
        js_stream_pub_error(st, reply, JSAtomicPublishIncompleteBatchErr, NULL);
        return;
    }
    uint64_t size = eob ? seq - 1 : seq;
    if (size > MAX_BATCH_SIZE) {
        char *id = strdup(batch_id);
        cleanup(st, b);
        advisory(st, id, "large");
        free(id);
        free(h);
        snprintf(szb, sizeof szb, "%d", MAX_BATCH_SIZE);
        js_stream_pub_error(st, reply, JSAtomicPublishTooLargeBatchErrF, szb);
        return;
    }
    if (!eob) stage(b, raw_subject, subject, h, hl, msg, msg_len);
    free(h);
    if (!commit_hdr) {
        /* Staged: an empty reply tells the client to go on. */
        if (reply) js_publish(js, st->acc->name, reply, NULL, NULL, 0, NULL, 0);
        return;
    }
    commit(st, b, reply, eob);
}
