/* $JS.API.STREAM.SNAPSHOT and $JS.API.STREAM.RESTORE: whole-stream backup and restore as the
 * `nats stream backup/restore` commands drive them.
 *
 * Ports Go nats-server v2.14.5 server/jetstream_api.go jsStreamSnapshotRequest, streamSnapshot,
 * jsStreamRestoreRequest and processStreamRestore (single node).  The protocol is Go's: the
 * snapshot response carries config and state, then chunks of chunk_size bytes go to the
 * deliver subject, each with a reply `$JS.SNAPSHOT.ACK.<stream>.<id>.<len>.<index>` that the
 * receiver acknowledges (at most window/chunk chunks unacknowledged), a short last chunk has no
 * reply, and an empty message (status 204) ends it (408 No Interest / No Flow Response, 500 on
 * failure).  A restore answers with a deliver subject `$JS.SNAPSHOT.RESTORE.<stream>.<id>`;
 * every chunk needs a reply (acknowledged with an empty message), an empty chunk ends it and is
 * answered with the stream create response.
 *
 * The archive is the store's own (storaged/store.h sd_store_snapshot: tar in snappy framing of
 * this project's blocks, with meta.inf = the stream config), so backups restore here but not
 * into a Go server and the other way round (docs/deviations.md).  Everything runs on
 * storaged's thread: chunks are sent as acks arrive (js_snapshot_inbound) and timers expire
 * stalled transfers (js_snapshot_tick).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/subject.h"
#include "storaged/filestore.h"
#include "storaged/js/js_advisory.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_errors.h"
#include "storaged/js/js_stream_int.h"

#define T_SNAPSHOT "io.nats.jetstream.api.v1.stream_snapshot_response"
#define T_RESTORE "io.nats.jetstream.api.v1.stream_restore_response"
#define T_CREATE "io.nats.jetstream.api.v1.stream_create_response"
#define NS 1000000000LL
#define ACK_TIMEOUT_NS (5 * NS)      /* Go defaultSnapshotAckTimeout */
#define INTEREST_WAIT_NS (2 * NS)    /* Go: allow 2 seconds for interest to show up */
#define RESTORE_IDLE_NS (5 * NS)     /* Go: activityInterval of a restore */
#define MAX_TRANSFERS 64             /* snapshots and restores in flight, all accounts: each
                                      * holds an archive file or a partial directory */

typedef struct xfer {
    struct xfer *next;
    js_server *js;
    js_account *acc;
    bool restore;
    char *stream;
    char *subj;     /* snapshot: deliver subject; restore: our chunk subject */
    char *ack_subj; /* snapshot: $JS.SNAPSHOT.ACK.<stream>.<id> (interest on ".>") */
    int64_t deadline;
    int64_t start;  /* for the *_COMPLETE advisories */
    json_t *client; /* the requester (js_adv_client), for the advisories */
    /* snapshot */
    sd_snapshot_result sr;
    uint64_t off;
    size_t chunk, slots;
    int index;
    bool sent_any, waiting_interest;
    /* restore */
    js_stream_cfg cfg;
    sd_restore *rs;
    char *dir;      /* where the archive goes: the stream dir, or a temp dir (memory) */
    uint64_t total;
} xfer;

static xfer *g_xfers; /* every transfer in flight, of every js_server (one thread) */

static size_t transfers(void) {
    size_t n = 0;
    for (const xfer *x = g_xfers; x; x = x->next) n++;
    return n;
}

static void send_resp(js_server *js, js_account *acc, const js_inmsg *m, const char *type,
                      json_t *resp) {
    char *reply = m->reply_len ? strndup(m->reply, m->reply_len) : NULL;
    js_api_send(js, acc, reply, type, resp, true, m);
    json_decref(resp);
    free(reply);
}

static void send_err(js_server *js, js_account *acc, const js_inmsg *m, const char *type,
                     int code, const char *arg) {
    json_t *resp = json_object();
    js_api_set_error(resp, code, arg);
    send_resp(js, acc, m, type, resp);
}

static char *stream_of(const js_inmsg *m) { /* $JS.API.STREAM.<OP>.<name> */
    size_t tl;
    const char *t = nx_subject_token_at(m->subject, m->subject_len, 5, &tl);
    return t ? strndup(t, tl) : strdup("");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void xfer_free(xfer *x) {
    xfer **pp = &g_xfers;
    while (*pp && *pp != x) pp = &(*pp)->next;
    if (*pp) *pp = x->next;
    const js_host *h = js_server_host(x->js);
    if (x->restore) {
        if (h->interest) js_host_interest(x->js, js_account_name(x->acc), x->subj, -1);
        if (x->rs) sd_restore_abort(x->rs);
        js_stream_cfg_free(&x->cfg);
    } else {
        if (x->ack_subj && h->interest) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s.>", x->ack_subj);
            js_host_interest(x->js, js_account_name(x->acc), sub, -1);
        }
        sd_snapshot_result_free(&x->sr);
    }
    free(x->stream);
    free(x->subj);
    free(x->ack_subj);
    free(x->dir);
    json_decref(x->client);
    free(x);
}

/* ---- snapshot ----------------------------------------------------------------------------- */

static void snap_end(xfer *x, const char *hdr) {
    js_publish(x->js, js_account_name(x->acc), x->subj, NULL, hdr, hdr ? strlen(hdr) : 0, NULL, 0);
    js_adv_snapshot_complete(x->js, js_account_name(x->acc), x->stream, x->start, x->client);
    nx_notice("Completed snapshot of stream '%s > %s'", js_account_name(x->acc), x->stream);
    xfer_free(x);
}

/* Sends chunks while slots are free; ends the transfer at the end of the archive. */
static void snap_pump(xfer *x, int64_t now) {
    const js_host *h = js_server_host(x->js);
    bool interest = !h->has_interest || js_host_has_interest(x->js, js_account_name(x->acc), x->subj);
    if (x->waiting_interest) {
        if (!interest && now < x->deadline) return;
        x->waiting_interest = false; /* Go goes ahead after its wait either way */
        x->deadline = now + ACK_TIMEOUT_NS;
    } else if (!interest) {
        snap_end(x, "NATS/1.0 408 No Interest\r\n\r\n");
        return;
    }
    uint8_t *buf = malloc(x->chunk);
    if (!buf) abort();
    while (x->slots > 0) {
        size_t want = x->chunk, got = 0;
        while (got < want && x->off + got < x->sr.size) {
            ssize_t n = pread(x->sr.fd, buf + got, want - got, (off_t)(x->off + got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        x->off += got;
        if (got < want) { /* Go: a short read ends it, the last piece without a reply */
            if (got > 0) js_publish(x->js, js_account_name(x->acc), x->subj, NULL, NULL, 0, buf, got);
            free(buf);
            snap_end(x, x->sent_any ? "NATS/1.0 204\r\n\r\n" : NULL);
            return;
        }
        char reply[400];
        snprintf(reply, sizeof reply, "%s.%zu.%d", x->ack_subj, got, ++x->index);
        js_publish(x->js, js_account_name(x->acc), x->subj, reply, NULL, 0, buf, got);
        x->sent_any = true;
        x->slots--;
        x->deadline = now + ACK_TIMEOUT_NS;
    }
    free(buf);
}

typedef struct snap_req {
    char *deliver_subject;
    bool no_consumers, check_msgs;
    int64_t chunk_size, window_size;
} snap_req;

static void api_snapshot(js_server *js, js_account *acc, const js_inmsg *m) {
    char *name = stream_of(m);
    snap_req req = {0};
    if (js_is_empty_request(m->data, m->data_len)) {
        send_err(js, acc, m, T_SNAPSHOT, JSBadRequestErr, NULL);
        goto out;
    }
    js_stream *st = js_account_stream(acc, name);
    if (!st) {
        send_err(js, acc, m, T_SNAPSHOT, JSStreamNotFoundErr, NULL);
        goto out;
    }
    static const js_jfield fields[] = {
        {"deliver_subject", JF_STRING, offsetof(snap_req, deliver_subject), 0, NULL},
        {"no_consumers", JF_BOOL, offsetof(snap_req, no_consumers), 0, NULL},
        {"chunk_size", JF_INT, offsetof(snap_req, chunk_size), 0, NULL},
        {"window_size", JF_INT, offsetof(snap_req, window_size), 0, NULL},
        {"jsck", JF_BOOL, offsetof(snap_req, check_msgs), 0, NULL},
    };
    char err[512];
    json_t *v = js_json_parse(m->data, m->data_len, err, sizeof err);
    if (!v || js_json_decode(v, fields, sizeof fields / sizeof fields[0], &req,
                             "JSApiStreamSnapshotRequest", "", err, sizeof err) != 0) {
        json_decref(v);
        send_err(js, acc, m, T_SNAPSHOT, JSInvalidJSONErr, err);
        goto out;
    }
    json_decref(v);
    if (!req.deliver_subject || !nx_subject_valid_publish(req.deliver_subject,
                                                              strlen(req.deliver_subject))) {
        send_err(js, acc, m, T_SNAPSHOT, JSSnapshotDeliverSubjectInvalidErr, NULL);
        goto out;
    }
    if (transfers() >= MAX_TRANSFERS) {
        send_err(js, acc, m, T_SNAPSHOT, JSStreamSnapshotErrF, "too many snapshots in progress");
        goto out;
    }
    nx_notice("Starting %ssnapshot for stream '%s > %s'",
              req.check_msgs ? "health check and " : "", js_account_name(acc), name);
    xfer *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->js = js;
    x->acc = acc;
    x->stream = strdup(name);
    x->subj = strdup(req.deliver_subject);
    x->sr.fd = -1;
    x->start = js_now(js);
    char *meta = js_json_encode(js_stream_config_json(st), NULL);
    /* meta.inf, then the consumers' obs/<name>/ members (their state lives in LMDB). */
    size_t ncf = 0;
    sd_snapshot_file *cf = req.no_consumers ? NULL : js_consumers_snapshot_files(st, &ncf);
    sd_snapshot_file *extra = malloc((ncf + 1) * sizeof *extra);
    if (!extra) abort();
    extra[0] = (sd_snapshot_file){"meta.inf", (const uint8_t *)meta, strlen(meta)};
    if (ncf) memcpy(extra + 1, cf, ncf * sizeof *cf);
    sd_snapshot_opts so = {.include_consumers = !req.no_consumers,
                           .check_msgs = req.check_msgs,
                           .files = extra,
                           .num_files = ncf + 1};
    int rc = sd_store_snapshot(js_stream_store(st), &so, &x->sr);
    free(extra);
    js_consumers_snapshot_files_free(cf, ncf);
    free(meta);
    if (rc) {
        nx_warn("Snapshot of stream '%s > %s' failed: %s", js_account_name(acc), name,
                sd_strerror(rc));
        send_err(js, acc, m, T_SNAPSHOT, JSStreamSnapshotErrF, sd_strerror(rc));
        free(x->stream);
        free(x->subj);
        free(x);
        goto out;
    }
    json_t *resp = json_object();
    json_object_set(resp, "config", (json_t *)js_stream_config_json(st));
    json_t *state = js_stream_state_json(st, false, NULL);
    json_object_set(resp, "state", state);
    send_resp(js, acc, m, T_SNAPSHOT, resp);
    x->client = js_adv_client(m);
    js_adv_snapshot_create(js, js_account_name(acc), name, state, x->client);
    json_decref(state);

    int64_t chunk = req.chunk_size ? req.chunk_size : 128 * 1024;
    int64_t wnd = req.window_size ? req.window_size : 8 * 1024 * 1024;
    chunk = chunk < 1024 ? 1024 : chunk > 1024 * 1024 ? 1024 * 1024 : chunk;
    wnd = wnd < 1024 ? 1024 : wnd > 32 * 1024 * 1024 ? 32 * 1024 * 1024 : wnd;
    if (wnd < chunk) wnd = chunk;
    x->chunk = (size_t)chunk;
    x->slots = (size_t)(wnd / chunk);
    char id[23];
    js_nuid(id);
    size_t al = strlen(name) + 48;
    x->ack_subj = malloc(al);
    if (!x->ack_subj) abort();
    snprintf(x->ack_subj, al, "$JS.SNAPSHOT.ACK.%s.%s", name, id);
    const js_host *h = js_server_host(js);
    char sub[300];
    snprintf(sub, sizeof sub, "%s.>", x->ack_subj);
    if (h->interest) js_host_interest(js, js_account_name(x->acc), sub, +1);
    x->waiting_interest = true;
    x->deadline = js_now(js) + INTEREST_WAIT_NS;
    x->next = g_xfers;
    g_xfers = x;
    snap_pump(x, js_now(js));
out:
    free(req.deliver_subject);
    free(name);
}

/* ---- restore ------------------------------------------------------------------------------ */

static void api_restore(js_server *js, js_account *acc, const js_inmsg *m) {
    char *name = stream_of(m);
    js_stream_cfg cfg = {0};
    if (js_is_empty_request(m->data, m->data_len)) {
        send_err(js, acc, m, T_RESTORE, JSBadRequestErr, NULL);
        goto out;
    }
    char err[512];
    json_t *v = js_json_parse(m->data, m->data_len, err, sizeof err);
    json_t *jc = v ? json_object_get(v, "config") : NULL;
    if (!v || !json_is_object(v) || (jc && js_stream_cfg_decode(jc, &cfg, true, err, sizeof err))) {
        json_decref(v);
        send_err(js, acc, m, T_RESTORE, JSInvalidJSONErr, v ? err : err);
        goto out;
    }
    json_decref(v);
    if (!cfg.name || !cfg.name[0]) {
        free(cfg.name);
        cfg.name = strdup(name);
    }
    if (strcmp(name, cfg.name)) {
        send_err(js, acc, m, T_RESTORE, JSStreamMismatchErr, NULL);
        goto out;
    }
    if (strpbrk(name, "\\/")) {
        send_err(js, acc, m, T_RESTORE, JSStreamNameContainsPathSeparatorsErr, NULL);
        goto out;
    }
    char *arg = NULL;
    js_stream_cfg chk;
    js_stream_cfg_copy(&chk, &cfg);
    int code = js_stream_cfg_check(js, acc, &chk, false, &arg);
    if (!code) code = js_account_stream_limits_check(acc, &chk); /* Go: checked cfg */
    js_stream_cfg_free(&chk);
    if (code) {
        send_err(js, acc, m, T_RESTORE, code, arg);
        free(arg);
        goto out;
    }
    if (js_account_stream(acc, name)) {
        send_err(js, acc, m, T_RESTORE, JSStreamNameExistRestoreFailedErr, NULL);
        goto out;
    }
    if (transfers() >= MAX_TRANSFERS) {
        send_err(js, acc, m, T_RESTORE, JSStreamRestoreErrF, "too many restores in progress");
        goto out;
    }
    xfer *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->restore = true;
    x->js = js;
    x->acc = acc;
    x->stream = strdup(name);
    x->cfg = cfg;
    memset(&cfg, 0, sizeof cfg);
    char *sdir = js_account_streams_dir(js, js_account_name(acc));
    size_t dl = strlen(sdir) + strlen(name) + 32;
    x->dir = malloc(dl);
    if (!x->dir) abort();
    if (x->cfg.storage == SD_STORAGE_FILE)
        snprintf(x->dir, dl, "%s/%s", sdir, name);
    else /* a memory stream is restored through a file store it is copied from */
        snprintf(x->dir, dl, "%s/.restore.%s", sdir, name);
    free(sdir);
    nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* a leftover of nothing we serve */
    nx_notice("Starting restore for stream '%s > %s'", js_account_name(acc), name);
    x->start = js_now(js);
    x->client = js_adv_client(m);
    js_adv_restore_create(js, js_account_name(acc), name, x->client);
    int rc = sd_restore_begin(x->dir, &x->rs);
    if (rc) {
        send_err(js, acc, m, T_RESTORE, JSRestoreSubscribeFailedErrF, sd_strerror(rc));
        x->rs = NULL;
        free(x->stream);
        free(x->dir);
        js_stream_cfg_free(&x->cfg);
        json_decref(x->client);
        free(x);
        goto out;
    }
    char id[23];
    js_nuid(id);
    size_t sl = strlen(name) + 48;
    x->subj = malloc(sl);
    if (!x->subj) abort();
    snprintf(x->subj, sl, "$JS.SNAPSHOT.RESTORE.%s.%s", name, id);
    const js_host *h = js_server_host(js);
    if (h->interest) js_host_interest(js, js_account_name(x->acc), x->subj, +1);
    x->deadline = js_now(js) + RESTORE_IDLE_NS;
    x->next = g_xfers;
    g_xfers = x;
    json_t *resp = json_object();
    json_object_set_new(resp, "deliver_subject", json_string(x->subj));
    send_resp(js, acc, m, T_RESTORE, resp);
out:
    js_stream_cfg_free(&cfg);
    free(name);
}

/* The archive is complete: verify it, create the stream on it, answer the last chunk. */
static void restore_finish(xfer *x, const char *reply) {
    js_server *js = x->js;
    sd_restore_info info = {0};
    int rc = sd_restore_finish(x->rs, &info);
    x->rs = NULL;
    json_t *resp = json_object();
    js_stream *st = NULL;
    if (rc) {
        js_api_set_error(resp, JSStreamRestoreErrF, info.error[0] ? info.error : sd_strerror(rc));
    } else {
        int code = 0;
        char *arg = NULL;
        bool existing = false;
        st = js_stream_add(x->acc, &x->cfg, false, &code, &arg, &existing);
        if (st && x->cfg.storage == SD_STORAGE_MEMORY) { /* copy out of the restored files */
            sd_stream_config sc;
            js_stream_cfg_store(&x->cfg, &sc);
            sc.storage = SD_STORAGE_FILE;
            sd_filestore_config fc = {.dir = x->dir, .sync = SD_FS_SYNC_NONE};
            sd_store *src = NULL;
            int crc = sd_filestore_open(&fc, &sc, NULL, &src);
            if (crc == 0) crc = sd_store_copy_msgs(src, js_stream_store(st));
            if (src) src->ops->delete_(src, true), sd_store_free(src);
            if (crc) nx_warn("Restore of memory stream '%s' failed to copy: %s", x->stream,
                             sd_strerror(crc));
        }
        if (!st) {
            js_api_set_error(resp, code ? code : JSStreamRestoreErrF, arg);
            free(arg);
        } else {
            js_consumers_recover(st);
            js_stream_mark_dirty(st);
            json_t *info_json = js_stream_info_json(st, JS_INFO_DYNAMIC_META, NULL);
            json_object_update(resp, info_json);
            json_decref(info_json);
            nx_notice("Completed restore of %llu bytes for stream '%s > %s'",
                      (unsigned long long)x->total, js_account_name(x->acc), x->stream);
        }
    }
    if (!st) {
        nx_warn("Restore failed for stream '%s > %s'", js_account_name(x->acc), x->stream);
        nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    sd_restore_info_free(&info);
    js_adv_restore_complete(js, js_account_name(x->acc), x->stream, x->start, x->total, x->client);
    if (reply && reply[0]) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(T_CREATE));
        json_object_update(o, resp);
        char *body = js_json_encode(o, NULL);
        js_publish(js, js_account_name(x->acc), reply, NULL, NULL, 0, (const uint8_t *)body, strlen(body));
        free(body);
        json_decref(o);
    }
    json_decref(resp);
    xfer_free(x);
}

/* Go: an input error ends the restore with the complete advisory, a stall without. */
static void restore_fail(xfer *x, const char *why, bool advise) {
    nx_warn("%s", why);
    if (advise)
        js_adv_restore_complete(x->js, js_account_name(x->acc), x->stream, x->start, x->total,
                                x->client);
    xfer_free(x);
}

static void restore_chunk(xfer *x, const js_inmsg *m) {
    char *reply = m->reply_len ? strndup(m->reply, m->reply_len) : NULL;
    char why[512];
    if (!reply) {
        snprintf(why, sizeof why, "restore for stream '%s > %s' requires reply subject for each "
                 "chunk", js_account_name(x->acc), x->stream);
        restore_fail(x, why, true);
        return;
    }
    if (m->data_len == 0) {
        restore_finish(x, reply);
        free(reply);
        return;
    }
    /* An archive can not be larger than the storage JetStream may use (Go: the account's
     * reservation); without this a client could fill the disk through a restore. */
    int64_t max = js_server_config(x->js)->max_store;
    int rc = max > 0 && x->total + m->data_len > (uint64_t)max
                 ? -ENOSPC
                 : sd_restore_write(x->rs, m->data, m->data_len);
    if (rc) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(T_CREATE));
        js_api_set_error(o, JSStreamRestoreErrF, sd_strerror(rc));
        char *body = js_json_encode(o, NULL);
        js_publish(x->js, js_account_name(x->acc), reply, NULL, NULL, 0, (const uint8_t *)body, strlen(body));
        free(body);
        json_decref(o);
        free(reply);
        nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        restore_fail(x, "restore failed: bad chunk", true);
        return;
    }
    x->total += m->data_len;
    x->deadline = js_now(x->js) + RESTORE_IDLE_NS;
    js_publish(x->js, js_account_name(x->acc), reply, NULL, NULL, 0, NULL, 0);
    free(reply);
}

/* ---- entry points ------------------------------------------------------------------------- */

void js_api_stream_snapshot(js_server *js, js_account *acc, const js_inmsg *m) {
    api_snapshot(js, acc, m);
}

void js_api_stream_restore(js_server *js, js_account *acc, const js_inmsg *m) {
    api_restore(js, acc, m);
}

bool js_snapshot_inbound(js_server *js, const js_inmsg *m) {
    if (m->subject_len < 13 || memcmp(m->subject, "$JS.SNAPSHOT.", 13)) return false;
    const char *acc = m->account && m->account[0] ? m->account : "$G";
    for (xfer *x = g_xfers; x; x = x->next) {
        if (x->js != js || strcmp(js_account_name(x->acc), acc) != 0) continue;
        if (!x->acc->enabled) return true; /* the account lost JetStream (reload) */
        if (x->restore) {
            size_t l = strlen(x->subj);
            if (m->subject_len == l && !memcmp(m->subject, x->subj, l)) {
                restore_chunk(x, m);
                return true;
            }
        } else {
            size_t l = strlen(x->ack_subj);
            if (m->subject_len > l && !memcmp(m->subject, x->ack_subj, l) &&
                m->subject[l] == '.') {
                x->slots++;
                snap_pump(x, js_now(js));
                return true;
            }
        }
    }
    return true; /* ours, but for a transfer that is over */
}

int64_t js_snapshot_next_deadline(js_server *js) {
    int64_t due = INT64_MAX;
    for (xfer *x = g_xfers; x; x = x->next)
        if (x->js == js && x->deadline < due) due = x->deadline;
    return due;
}

void js_snapshot_tick(js_server *js, int64_t now) {
    for (xfer *x = g_xfers, *next; x; x = next) {
        next = x->next;
        if (x->js != js || now < x->deadline) continue;
        if (x->restore) {
            char why[300];
            snprintf(why, sizeof why, "restore for stream '%s > %s' is stalled",
                     js_account_name(x->acc), x->stream);
            nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
            restore_fail(x, why, false);
        } else if (x->waiting_interest) {
            snap_pump(x, now);
        } else {
            snap_end(x, "NATS/1.0 408 No Flow Response\r\n\r\n");
        }
    }
}

void js_snapshot_close(js_server *js) {
    for (xfer *x = g_xfers, *next; x; x = next) {
        next = x->next;
        if (x->js != js) continue;
        if (x->restore && x->rs) {
            sd_restore_abort(x->rs);
            x->rs = NULL;
        }
        xfer_free(x);
    }
}
