/* Mirrors and sources kept in step with their origin streams (single node; external origins
 * of other accounts are found through js_mirror_ext.c).
 *
 * Ports the observable behaviour of Go nats-server v2.14.5 server/stream.go:
 * setupMirrorConsumer / processInboundMirrorMsg (a mirror keeps the origin's sequence
 * numbers: the first copy compacts an empty mirror to the origin sequence, later gaps are
 * skipped with skipMsgs; subject transforms; start at opt_start_seq / opt_start_time on first
 * use, else after the mirror's last sequence), trySetupSourceConsumer /
 * processInboundSourceMsg (Nats-Stream-Source header from genSourceHeader, Nats-Expected-*
 * and Nats-Batch-* headers dropped, filters and transforms, duplicates skipped),
 * startingSequenceForSources (resume from the stored messages' Nats-Stream-Source headers)
 * and sourceInfo (StreamSourceInfo: name, lag, active, error, filter_subject,
 * subject_transforms).
 *
 * Go builds an internal push consumer per mirror/source; origin and copy live in one process
 * here, so js_sync_pump_all (run by js_server_flush before the group commit) reads each
 * origin's store from the last copied sequence instead.  "active" reads as the time since
 * the last pump that found the origin (Go's heartbeats keep it under a second).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "common/transform.h"
#include "storaged/js/js_stream_int.h"

typedef struct js_srcinfo {
    js_source_cfg sc;
    char *iname;
    nx_transform **trs; /* one per sc.tr_src (NULL for an empty destination) */
    uint64_t sseq;      /* last origin sequence copied */
    uint64_t scan;      /* next origin sequence to look at (0: not started) */
    uint64_t lag;
    int64_t last; /* last time the origin was seen (0: never) */
    int err;      /* err_code of the current error, 0 for none */
} js_srcinfo;

struct js_sync {
    js_srcinfo *mirror;
    js_srcinfo **sources;
    size_t nsources;
};

static js_srcinfo *si_new(const json_t *cfg) {
    js_srcinfo *si = calloc(1, sizeof *si);
    if (!si) abort();
    char err[256];
    js_source_cfg_decode(cfg, &si->sc, "StreamConfig.mirror", err, sizeof err);
    if (!si->sc.name) si->sc.name = strdup("");
    si->iname = js_source_iname(&si->sc);
    si->trs = calloc(si->sc.ntr + 1, sizeof *si->trs);
    if (!si->trs) abort();
    for (size_t i = 0; i < si->sc.ntr; i++)
        nx_transform_new(si->sc.tr_src[i], si->sc.tr_dest[i], false, &si->trs[i], err, sizeof err);
    return si;
}

static void si_free(js_srcinfo *si) {
    if (!si) return;
    for (size_t i = 0; i < si->sc.ntr; i++) nx_transform_free(si->trs[i]);
    free(si->trs);
    free(si->iname);
    js_source_cfg_free(&si->sc);
    free(si);
}

void js_sync_free(js_stream *st) {
    struct js_sync *s = st->sync;
    if (!s) return;
    si_free(s->mirror);
    for (size_t i = 0; i < s->nsources; i++) si_free(s->sources[i]);
    free(s->sources);
    free(s);
    st->sync = NULL;
}

/* Go streamAndSeq for the 2.10 header form: "<stream> <seq> <filter> <dest> <subject>". */
static bool parse_source_hdr(const char *v, char **iname, char **stream, uint64_t *seq) {
    const char *f[5];
    size_t fl[5], n = 0;
    const char *p = v;
    while (n < 5) {
        const char *sp = strchr(p, ' ');
        f[n] = p;
        fl[n] = sp ? (size_t)(sp - p) : strlen(p);
        n++;
        if (!sp) break;
        p = sp + 1;
    }
    if (n != 2 && n <= 3) return false;
    *seq = 0;
    for (size_t i = 0; i < fl[1]; i++) {
        if (f[1][i] < '0' || f[1][i] > '9') return false;
        *seq = *seq * 10 + (uint64_t)(f[1][i] - '0');
    }
    *stream = strndup(f[0], fl[0]);
    *iname = NULL;
    if (n >= 4 && asprintf(iname, "%.*s %.*s %.*s", (int)fl[0], f[0], (int)fl[2], f[2],
                           (int)fl[3], f[3]) < 0)
        abort();
    return true;
}

/* Go startingSequenceForSources: a reverse scan for the last copied message of each source. */
static void starting_sequences(js_stream *st) {
    struct js_sync *s = st->sync;
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    uint64_t last = ss.last_seq, msgs = ss.msgs;
    sd_stream_state_free(&ss);
    if (msgs == 0) return;
    size_t left = s->nsources;
    sd_store_msg sm = {0};
    uint64_t found;
    while (left && last > 0 &&
           sd_store_load_prev_msg(st->store, ">", true, last, &sm, &found) == 0) {
        last = found - 1;
        char *v = sm.hdr_len ? js_hdr_get(sm.hdr, sm.hdr_len, "Nats-Stream-Source") : NULL;
        char *iname = NULL, *stream = NULL;
        uint64_t seq;
        if (v && parse_source_hdr(v, &iname, &stream, &seq)) {
            for (size_t i = 0; i < s->nsources; i++) {
                js_srcinfo *si = s->sources[i];
                if (si->sseq) continue;
                if (iname ? !strcmp(iname, si->iname) : !strcmp(stream, si->sc.name)) {
                    si->sseq = seq;
                    left--;
                }
            }
        }
        free(iname);
        free(stream);
        free(v);
        if (found <= 1) break;
    }
    sd_store_msg_free(&sm);
}

void js_sync_setup(js_stream *st) {
    js_sync_free(st);
    size_t n = json_array_size(st->cfg.sources);
    if (!st->cfg.mirror && n == 0) return;
    struct js_sync *s = calloc(1, sizeof *s);
    if (!s) abort();
    st->sync = s;
    if (st->cfg.mirror) {
        s->mirror = si_new(st->cfg.mirror);
        return;
    }
    s->sources = calloc(n, sizeof *s->sources);
    if (!s->sources) abort();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(st->cfg.sources, i);
        if (json_is_object(e)) s->sources[s->nsources++] = si_new(e);
    }
    starting_sequences(st);
}

/* ---- copying ----------------------------------------------------------------------- */

static bool si_matches(const js_srcinfo *si, const char *subj, size_t len) {
    if (si->sc.ntr) {
        for (size_t i = 0; i < si->sc.ntr; i++) {
            const char *f = si->sc.tr_src[i][0] ? si->sc.tr_src[i] : ">";
            if (nx_subject_match_literal(subj, len, f, strlen(f))) return true;
        }
        return false;
    }
    const char *f = si->sc.filter;
    return !f || !f[0] || nx_subject_match_literal(subj, len, f, strlen(f));
}

/* The first transform that matches (Go: tr.Match in order), else the subject itself. */
static char *si_subject(const js_srcinfo *si, const char *subj, size_t len) {
    for (size_t i = 0; i < si->sc.ntr; i++) {
        if (!si->trs[i]) continue;
        nx_tr_out out = {0};
        if (nx_transform_match(si->trs[i], subj, len, &out) == NX_TR_OK) return out.buf;
        free(out.buf);
    }
    return strndup(subj, len);
}

/* Go removeHeaderIfPrefixPresent / removeHeaderIfPresent on a copy: drops every header line
 * whose key starts with (prefix) or equals (exact) `key`.  Returns the new length (0 when
 * only the status line would be left). */
static size_t hdr_drop(char *h, size_t n, const char *key, bool prefix) {
    size_t kl = strlen(key);
    size_t i = 0;
    while (i < n) {
        char *eol = memmem(h + i, n - i, "\r\n", 2);
        if (!eol) break;
        size_t ll = (size_t)(eol - (h + i)) + 2;
        bool drop = i > 0 && ll > 2 && ll - 2 >= kl && memcmp(h + i, key, kl) == 0 &&
                    (prefix || h[i + kl] == ':');
        if (drop) {
            memmove(h + i, h + i + ll, n - i - ll);
            n -= ll;
        } else {
            i += ll;
        }
    }
    return n <= 12 ? 0 : n;
}

/* Stores a copied message (Go processJetStreamMsg with sourced=true; raw_seq > 0 stores at
 * that sequence with the origin's timestamp, as mirrors do).  0, or < 0 when it could not
 * be stored (the copy stops there and is retried on the next pump). */
static int store_copy(js_stream *st, const char *subj, const uint8_t *hdr, size_t hdr_len,
                      const uint8_t *msg, size_t msg_len, uint64_t raw_seq, int64_t raw_ts) {
    js_server *js = st->acc->js;
    if (st->cfg.max_msg_size >= 0 &&
        (hdr_len > (size_t)st->cfg.max_msg_size || msg_len > (size_t)st->cfg.max_msg_size - hdr_len))
        return -1;
    char *msgid = hdr_len ? js_hdr_get(hdr, hdr_len, "Nats-Msg-Id") : NULL;
    if (msgid && !msgid[0]) {
        free(msgid);
        msgid = NULL;
    }
    if (msgid && !raw_seq) {
        js_ddentry *dd = js_stream_check_msgid(st, msgid);
        if (dd && dd->seq > 0) {
            free(msgid);
            return 0; /* errMsgIdDuplicate: skipped */
        }
    }
    int64_t ttl = 0;
    if (st->cfg.allow_msg_ttl && hdr_len) sd_get_message_ttl(hdr, hdr_len, &ttl);
    uint64_t seq = 0;
    int64_t ts = 0;
    int rc;
    if (!raw_seq && st->cfg.retention == SD_RETENTION_INTEREST && js_consumers_count(st) == 0) {
        rc = sd_store_skip_msg_no_interest(st->store, 0, &seq);
        ts = js_now(js);
        subj = NULL;
    } else if (raw_seq) {
        seq = raw_seq;
        ts = raw_ts;
        rc = sd_store_store_raw_msg(st->store, subj, strlen(subj), hdr, hdr_len, msg, msg_len, seq,
                                    ts, ttl, false);
    } else {
        rc = sd_store_store_msg(st->store, subj, strlen(subj), hdr, hdr_len, msg, msg_len, ttl,
                                &seq, &ts);
    }
    if (rc < 0) {
        free(msgid);
        return rc;
    }
    js_stream_mark_dirty(st);
    st->lseq = seq;
    free(st->lmsgid);
    st->lmsgid = msgid;
    if (msgid) js_stream_store_msgid(st, msgid, seq, ts);
    if (subj) js_consumers_on_stored(st, seq, subj);
    return 0;
}

/* Mirror: keep the origin's sequence (compact a fresh mirror, skip gaps). */
static int mirror_copy(js_stream *st, js_srcinfo *si, const sd_store_msg *sm) {
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    uint64_t lseq = ss.last_seq, first = ss.first_seq, msgs = ss.msgs;
    sd_stream_state_free(&ss);
    if (sm->seq <= lseq) return 0; /* older than what we hold */
    if (sm->seq > lseq + 1) {
        int rc;
        if (msgs == 0 && first == 0) {
            uint64_t purged;
            rc = sd_store_compact(st->store, sm->seq, &purged);
        } else {
            rc = sd_store_skip_msgs(st->store, lseq + 1, sm->seq - lseq - 1);
        }
        if (rc < 0) return rc;
        st->lseq = sm->seq - 1;
    }
    char *subj = si_subject(si, sm->subj, sm->subj_len);
    int rc = store_copy(st, subj, sm->hdr, sm->hdr_len, sm->msg, sm->msg_len, sm->seq, sm->ts);
    free(subj);
    return rc;
}

/* Go setHeader: replaces the value of key in place, or appends it (malloc'd result). */
static char *hdr_set(const char *h, size_t hl, const char *key, const char *val, size_t *out) {
    size_t kl = strlen(key), i = 0;
    while (h && i < hl) {
        const char *eol = memmem(h + i, hl - i, "\r\n", 2);
        if (!eol) break;
        size_t ll = (size_t)(eol - (h + i)) + 2;
        if (i > 0 && ll > kl + 2 && !memcmp(h + i, key, kl) && h[i + kl] == ':') {
            char *o = NULL;
            int n = asprintf(&o, "%.*s%s: %s%.*s", (int)i, h, key, val, (int)(hl - i - ll + 2),
                             h + i + ll - 2);
            if (n < 0) abort();
            *out = (size_t)n;
            return o;
        }
        i += ll;
    }
    return js_hdr_append((const uint8_t *)h, hl, key, val, out);
}

/* Go processJetStreamMsg for a sourced message on a counter stream: the origin's total for
 * (stream, subject) is kept in Nats-Counter-Sources and only the difference is added.
 * Rewrites *hdr / *msg (malloc'd, old ones freed); -1 when it can not be applied. */
static int counter_source(js_stream *st, const char *subj, const char *srchdr, char **hdr,
                          size_t *hl, char **msg, size_t *ml) {
    size_t vl = 0;
    if (!sd_slice_header("Nats-Incr", (const uint8_t *)*hdr, *hl, &vl) || !vl) return -1;
    json_error_t je;
    json_t *in = json_loadb(*msg, *ml, 0, &je);
    const char *sv = json_string_value(json_object_get(in, "val"));
    if (!sv || !js_counter_valid(sv)) {
        json_decref(in);
        return -1;
    }
    char *initial = strdup("0"), *sources_s = NULL;
    sd_store_msg sm = {0};
    if (sd_store_load_last_msg(st->store, subj, &sm) == 0) {
        json_t *cv = json_loadb((const char *)sm.msg, sm.msg_len, 0, &je);
        const char *v = json_string_value(json_object_get(cv, "val"));
        if (v && js_counter_valid(v)) {
            free(initial);
            initial = strdup(v);
        }
        json_decref(cv);
        if (sm.hdr_len) sources_s = js_hdr_get(sm.hdr, sm.hdr_len, "Nats-Counter-Sources");
    }
    sd_store_msg_free(&sm);
    json_t *sources = sources_s ? json_loads(sources_s, 0, &je) : NULL;
    free(sources_s);
    if (!json_is_object(sources)) {
        json_decref(sources);
        sources = json_object();
    }
    /* "<stream> <seq> <filter> <dest> <subject>" */
    char *f = strdup(srchdr);
    char *sp = strchr(f, ' ');
    if (sp) *sp = 0;
    const char *orig_subj = subj;
    char *p = sp ? sp + 1 : NULL;
    for (int k = 0; p && k < 3; k++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    if (p && *p) orig_subj = p;
    json_t *per = json_object_get(sources, f);
    if (!json_is_object(per)) {
        per = json_object();
        json_object_set_new(sources, f, per);
    }
    const char *prev = json_string_value(json_object_get(per, orig_subj));
    char *neg = NULL;
    if (asprintf(&neg, "-%s", prev && js_counter_valid(prev) ? prev : "0") < 0) abort();
    if (neg[1] == '-') memmove(neg, neg + 2, strlen(neg + 2) + 1); /* -(-x) */
    char *incr = js_counter_add(sv, neg);
    json_object_set_new(per, orig_subj, json_string(sv));
    char *total = js_counter_add(initial, incr);
    size_t nl;
    char *nh = hdr_set(*hdr, *hl, "Nats-Incr", incr, &nl);
    char *srcs = json_dumps(sources, JSON_COMPACT | JSON_SORT_KEYS);
    size_t nl2;
    char *nh2 = hdr_set(nh, nl, "Nats-Counter-Sources", srcs, &nl2);
    free(nh);
    free(*hdr);
    *hdr = nh2;
    *hl = nl2;
    json_t *out = json_object();
    json_object_set_new(out, "val", json_string(total));
    free(*msg);
    *msg = js_json_encode(out, ml);
    json_decref(out);
    free(srcs);
    free(total);
    free(incr);
    free(neg);
    free(f);
    free(initial);
    json_decref(sources);
    json_decref(in);
    return 0;
}

/* Source: Nats-Stream-Source header, transforms, normal store. */
static int source_copy(js_stream *st, js_srcinfo *si, const sd_store_msg *sm) {
    char *h = NULL;
    size_t hl = 0;
    if (sm->hdr_len) {
        h = malloc(sm->hdr_len + 1);
        if (!h) abort();
        memcpy(h, sm->hdr, sm->hdr_len);
        hl = hdr_drop(h, sm->hdr_len, "Nats-Stream-Source", false);
        if (hl) hl = hdr_drop(h, hl, "Nats-Expected-", true);
        if (hl) hl = hdr_drop(h, hl, "Nats-Batch-", true);
    }
    /* genSourceHeader: iname's stream, the origin sequence, iname's filter and destination,
     * then the original subject. */
    const char *sp = strchr(si->iname, ' ');
    char *val = NULL;
    if (asprintf(&val, "%.*s %llu %s %.*s", (int)(sp - si->iname), si->iname,
                 (unsigned long long)sm->seq, sp + 1, (int)sm->subj_len, sm->subj) < 0)
        abort();
    size_t nl;
    char *nh = js_hdr_append((const uint8_t *)h, hl, "Nats-Stream-Source", val, &nl);
    free(val);
    free(h);
    char *subj = si_subject(si, sm->subj, sm->subj_len);
    char *body = malloc(sm->msg_len + 1);
    if (!body) abort();
    memcpy(body, sm->msg, sm->msg_len);
    size_t blen = sm->msg_len;
    int rc = 0;
    if (st->cfg.allow_msg_counter) {
        size_t vl = 0;
        const uint8_t *sv = sd_slice_header("Nats-Stream-Source", (const uint8_t *)nh, nl, &vl);
        char *srchdr = strndup((const char *)sv, vl);
        rc = counter_source(st, subj, srchdr, &nh, &nl, &body, &blen);
        free(srchdr);
    }
    if (rc == 0) rc = store_copy(st, subj, (const uint8_t *)nh, nl, (const uint8_t *)body, blen, 0, 0);
    free(body);
    free(subj);
    free(nh);
    return rc;
}

/* Where a (re)started mirror or source begins reading the origin. */
static uint64_t start_seq(js_stream *st, js_srcinfo *si, js_stream *origin, bool mirror) {
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    uint64_t msgs = ss.msgs, first = ss.first_seq, last = ss.last_seq;
    int64_t last_ts = ss.last_ts;
    sd_stream_state_free(&ss);
    if (mirror) {
        if (msgs == 0 && first == 0) {
            if (si->sc.opt_start_seq > 0) return si->sc.opt_start_seq;
            if (si->sc.has_start_time)
                return sd_store_get_seq_from_time(origin->store, si->sc.opt_start_time);
            return 1;
        }
        return last + 1;
    }
    if (si->sseq > 0) return si->sseq + 1;
    if (si->sc.opt_start_seq > 0) return si->sc.opt_start_seq;
    if (si->sc.has_start_time) {
        int64_t t = si->sc.opt_start_time;
        if (last_ts && t < last_ts) t = last_ts;
        return sd_store_get_seq_from_time(origin->store, t);
    }
    if (first > 1 && last_ts) return sd_store_get_seq_from_time(origin->store, last_ts);
    return 1;
}

/* Copies what the origin gained; true when something was stored. */
static bool pump_one(js_stream *st, js_srcinfo *si, bool mirror) {
    js_stream *origin;
    int state = JS_EXT_NO_STREAM;
    if (si->sc.external)
        origin = js_ext_origin(st->acc, &si->sc, mirror, &state);
    else
        origin = js_account_stream(st->acc, si->sc.name);
    if (!origin || origin == st) {
        /* Go: a consumer create request nobody answers leaves no error (and the source
         * unheard of); an origin that answers "stream not found" sets it. */
        si->err = state == JS_EXT_UNREACHABLE    ? 0
                  : state == JS_EXT_NOT_ENABLED ? JSNotEnabledForAccountErr
                                                : JSStreamNotFoundErr;
        si->scan = 0; /* start over when it comes (back) */
        return false;
    }
    si->err = 0;
    si->last = js_now(st->acc->js);
    if (si->scan == 0) si->scan = start_seq(st, si, origin, mirror);
    bool any = false;
    sd_store_msg sm = {0};
    uint64_t found;
    const char *filter = si->sc.ntr == 0 && si->sc.filter && si->sc.filter[0] ? si->sc.filter : ">";
    while (sd_store_load_next_msg(origin->store, filter, true, si->scan, &sm, &found) == 0) {
        sm.seq = found;
        if (si_matches(si, sm.subj, sm.subj_len)) {
            int rc = mirror ? mirror_copy(st, si, &sm) : source_copy(st, si, &sm);
            if (rc < 0) break; /* retried from here next time */
            si->sseq = found;
            any = true;
        }
        si->scan = found + 1;
    }
    sd_store_msg_free(&sm);
    si->lag = 0;
    sd_stream_state os = {0};
    sd_store_fast_state(origin->store, &os);
    if (os.last_seq >= si->scan) {
        sd_simple_state fs = {0};
        if (sd_store_filtered_state(origin->store, si->scan, filter, &fs) == 0) si->lag = fs.msgs;
    }
    sd_stream_state_free(&os);
    return any;
}

void js_sync_pump_all(js_server *js) {
    /* Chains (a source of a mirror of ...) settle within a few rounds. */
    for (int round = 0; round < 8; round++) {
        bool any = false;
        for (size_t a = 0; a < js->naccounts; a++) {
            js_account *acc = js->accounts[a];
            for (size_t i = 0; i < acc->nstreams; i++) {
                js_stream *st = acc->streams[i];
                struct js_sync *s = st->sync;
                if (!s || st->cfg.sealed) continue;
                if (s->mirror && pump_one(st, s->mirror, true)) any = true;
                for (size_t k = 0; k < s->nsources; k++)
                    if (pump_one(st, s->sources[k], false)) any = true;
            }
        }
        if (!any) break;
    }
}

/* ---- StreamSourceInfo -------------------------------------------------------------- */

static json_t *si_json(js_stream *st, js_srcinfo *si, bool mirror) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(si->sc.name));
    if (si->sc.external) json_object_set(o, "external", si->sc.external);
    json_object_set_new(o, "lag", json_integer((json_int_t)si->lag));
    int64_t active = si->last ? js_now(st->acc->js) - si->last : -1;
    json_object_set_new(o, "active", json_integer(active));
    if (si->err) json_object_set_new(o, "error", js_error_json(si->err, NULL, 0));
    /* Go: a mirror's si.sf is its filter_subject; a source's is its filter when it has no
     * transforms (sfs otherwise). */
    if (si->sc.ntr == 0 && si->sc.filter && si->sc.filter[0])
        json_object_set_new(o, "filter_subject", json_string(si->sc.filter));
    if (si->sc.ntr) {
        json_t *a = json_array();
        for (size_t i = 0; i < si->sc.ntr; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "src", json_string(si->sc.tr_src[i]));
            json_object_set_new(t, "dest", json_string(si->trs[i] ? si->sc.tr_dest[i] : ""));
            json_array_append_new(a, t);
        }
        json_object_set_new(o, "subject_transforms", a);
    }
    (void)mirror;
    return o;
}

json_t *js_sync_mirror_info(js_stream *st) {
    return st->sync && st->sync->mirror ? si_json(st, st->sync->mirror, true) : NULL;
}

json_t *js_sync_sources_info(js_stream *st) {
    if (!st->sync || st->sync->nsources == 0) return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < st->sync->nsources; i++)
        json_array_append_new(a, si_json(st, st->sync->sources[i], false));
    return a;
}
