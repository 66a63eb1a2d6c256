/* Streams: create (addStream), update, delete, recovery from disk, state/info JSON, purge,
 * message removal, the duplicates window, account usage.
 *
 * Ports the single-node parts of Go nats-server v2.14.5 server/stream.go (addStreamWithAssignment,
 * updateWithAdvisory, delete, purgeLocked, removeMsg/eraseMsg, stateWithDetail, checkMsgId,
 * storeMsgId, purgeMsgIds) and server/jetstream.go (stream recovery, checkBytesLimits).
 *
 * On disk: the config of a file stream is a record of the LMDB metadata store
 * (js_stream_meta.c); its blocks live in <store_dir>/jetstream/<account>/streams/<name>
 * (storaged/filestore.h).  A damaged config is logged and the stream skipped, never a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/subject.h"
#include "storaged/filestore.h"
#include "storaged/js/js_stream_int.h"

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static int64_t env_now(void *arg) { return js_now((js_server *)arg); }

bool js_stream_matches(const js_stream *st, const char *subj) {
    size_t n = strlen(subj);
    for (size_t i = 0; i < st->cfg.nsubjects; i++)
        if (nx_subject_match_literal(subj, n, st->cfg.subjects[i], strlen(st->cfg.subjects[i])))
            return true;
    return false;
}

/* ---- advisories ----------------------------------------------------------------------- */

/* Go sendCreateAdvisory / sendDeleteAdvisoryLocked / sendUpdateAdvisoryLocked:
 * $JS.EVENT.ADVISORY.STREAM.{CREATED,DELETED,UPDATED}.<name>, JSStreamActionAdvisory. */
static void advisory(js_stream *st, const char *pre, const char *action) {
    js_server *js = st->acc->js;
    char id[23];
    js_nuid(id);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("io.nats.jetstream.advisory.v1.stream_action"));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "timestamp", js_time_json(js_now(js)));
    json_object_set_new(o, "stream", json_string(st->cfg.name));
    json_object_set_new(o, "action", json_string(action));
    if (js->cfg.domain) json_object_set_new(o, "domain", json_string(js->cfg.domain));
    size_t len;
    char *body = js_json_encode(o, &len);
    json_decref(o);
    char *subj = NULL;
    if (asprintf(&subj, "$JS.EVENT.ADVISORY.STREAM.%s.%s", pre, st->cfg.name) < 0) abort();
    js_publish(js, st->acc->name, subj, NULL, NULL, 0, (const uint8_t *)body, len);
    free(subj);
    free(body);
}

/* ---- creation ------------------------------------------------------------------------ */

static void stream_free(js_stream *st) {
    js_sync_free(st);
    js_batch_free_all(st);
    js_fast_batch_free_all(st);
    js_stream_cfg_free(&st->cfg);
    json_decref(st->cfg_json);
    free(st->dir);
    free(st->lmsgid);
    for (size_t i = st->ddhead; i < st->ddlen; i++) {
        free(st->ddarr[i]->id);
        free(st->ddarr[i]);
    }
    free(st->ddarr);
    nx_strmap_free(&st->ddmap);
    nx_transform_free(st->itr);
    nx_transform_free(st->tr);
    free(st);
}

static void detach(js_stream *st) {
    js_account *acc = st->acc;
    for (size_t i = 0; i < acc->nstreams; i++) {
        if (acc->streams[i] == st) {
            memmove(&acc->streams[i], &acc->streams[i + 1],
                    (acc->nstreams - i - 1) * sizeof(js_stream *));
            acc->nstreams--;
            break;
        }
    }
}

static void attach(js_account *acc, js_stream *st) {
    js_stream **n = realloc(acc->streams, (acc->nstreams + 1) * sizeof *n);
    if (!n) abort();
    acc->streams = n;
    acc->streams[acc->nstreams++] = st;
}

static void build_transforms(js_stream *st) {
    nx_transform_free(st->itr);
    nx_transform_free(st->tr);
    st->itr = st->tr = NULL;
    char e[256];
    if (st->cfg.has_transform && st->cfg.tr_dest && st->cfg.tr_dest[0])
        nx_transform_new(st->cfg.tr_src ? st->cfg.tr_src : "", st->cfg.tr_dest, false, &st->itr,
                         e, sizeof e);
    if (st->cfg.has_republish && st->cfg.rp_dest && st->cfg.rp_dest[0])
        nx_transform_new(st->cfg.rp_src ? st->cfg.rp_src : ">", st->cfg.rp_dest, false, &st->tr,
                         e, sizeof e);
}

/* Store callbacks (Go RegisterStorageRemoveMsg / RegisterProcessJetStreamMsg, single node):
 * expiry with subject delete markers asks us to remove a message or publish a marker. */
static void cb_remove(void *arg, uint64_t seq) {
    js_stream *st = arg;
    if (sd_store_remove_msg(st->store, seq) > 0) js_stream_mark_dirty(st);
}

static void cb_process(void *arg, const char *subj, size_t subj_len, const uint8_t *hdr,
                       size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    js_stream *st = arg;
    js_inmsg m = {.account = st->acc->name, .subject = subj, .subject_len = subj_len,
                  .hdr = hdr, .hdr_len = hdr_len, .data = msg, .data_len = msg_len};
    js_stream_process_msg(st, &m);
}

/* Go's jsa.updateUsage from the StorageUpdateHandler: server-wide byte totals. */
static void cb_update(void *arg, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
                      size_t subj_len) {
    (void)msgs;
    (void)seq;
    (void)subj;
    (void)subj_len;
    js_stream *st = arg;
    js_server *js = st->acc->js;
    bool mem = st->cfg.storage == SD_STORAGE_MEMORY;
    *(mem ? &js->mem_used : &js->store_used) += bytes;
    *(mem ? &st->acc->mem_used : &st->acc->store_used) += bytes;
}

static void track_usage(js_stream *st, int sign) {
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    js_server *js = st->acc->js;
    bool mem = st->cfg.storage == SD_STORAGE_MEMORY;
    *(mem ? &js->mem_used : &js->store_used) += sign * (int64_t)ss.bytes;
    *(mem ? &st->acc->mem_used : &st->acc->store_used) += sign * (int64_t)ss.bytes;
    sd_stream_state_free(&ss);
}

static int register_callbacks(js_stream *st) {
    sd_store_callbacks cbs = {.storage_update = cb_update, .storage_update_arg = st,
                              .remove_msg = cb_remove, .remove_msg_arg = st,
                              .process_msg = cb_process, .process_msg_arg = st};
    sd_store_register_callbacks(st->store, &cbs);
    track_usage(st, +1);
    return 0;
}

/* Stops usage tracking (before the store is deleted or closed). */
static void unregister_callbacks(js_stream *st) {
    if (!st->store) return;
    sd_store_callbacks none = {0};
    sd_store_register_callbacks(st->store, &none);
    track_usage(st, -1);
}

/* Opens the store for st (dir already set).  0 or a store error. */
static int open_store(js_stream *st) {
    js_server *js = st->acc->js;
    sd_stream_config sc;
    js_stream_cfg_store(&st->cfg, &sc);
    sd_store_env env = {.now_ns = env_now, .now_arg = js};
    int rc;
    if (st->cfg.storage == SD_STORAGE_MEMORY) {
        rc = sd_memstore_open(&sc, &env, &st->store);
    } else {
        sd_filestore_config fc = {.dir = st->dir,
                                  .block_size = js->cfg.block_size,
                                  .sync = js->cfg.sync,
                                  .sync_interval_ns = js->cfg.sync_interval_ns,
                                  .compress = st->cfg.compression == 1, /* s2 */
                                  .cipher = js->cfg.cipher,
                                  .key = js->cfg.key};
        rc = sd_filestore_open(&fc, &sc, &env, &st->store);
    }
    if (rc == 0) register_callbacks(st);
    return rc;
}

/* Go checkAllLimits (account and server): the stream's max_consumers against the account's,
 * then its max_bytes reservation (js_account.c). */
static int check_limits(js_account *acc, const js_stream_cfg *c, const js_stream *skip,
                        int64_t add) {
    const js_account_limits *l = js_account_limits_of(acc);
    if (c->max_consumers > 0 && l->max_consumers > 0 && c->max_consumers > l->max_consumers)
        return JSMaximumConsumersLimitErr;
    return js_account_bytes_check(acc, c, skip, add);
}

static bool subjects_overlap(js_account *acc, const js_stream_cfg *c, const js_stream *self) {
    for (size_t i = 0; i < acc->nstreams; i++) {
        js_stream *o = acc->streams[i];
        if (o == self) continue;
        for (size_t a = 0; a < o->cfg.nsubjects; a++)
            for (size_t b = 0; b < c->nsubjects; b++)
                if (nx_subject_collide(c->subjects[b], strlen(c->subjects[b]), o->cfg.subjects[a],
                                       strlen(o->cfg.subjects[a])))
                    return true;
    }
    return false;
}

static js_stream *stream_new(js_account *acc, js_stream_cfg *cfg) {
    js_stream *st = calloc(1, sizeof *st);
    if (!st) abort();
    st->acc = acc;
    st->cfg = *cfg; /* takes ownership */
    memset(cfg, 0, sizeof *cfg);
    st->cfg_json = js_stream_cfg_json(&st->cfg, false);
    char *base = js_account_streams_dir(acc->js, acc->name);
    size_t n = strlen(base) + strlen(st->cfg.name) + 2;
    st->dir = malloc(n);
    if (!st->dir) abort();
    snprintf(st->dir, n, "%s/%s", base, st->cfg.name);
    free(base);
    build_transforms(st);
    return st;
}

static int mkdirs(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0750) && errno != EEXIST) {
            int e = -errno;
            free(p);
            return e;
        }
        *s = '/';
    }
    int rc = (mkdir(p, 0750) && errno != EEXIST) ? -errno : 0;
    free(p);
    return rc;
}

js_stream *js_stream_add(js_account *acc, js_stream_cfg *cfg, bool pedantic, int *err_code,
                         char **arg, bool *existing) {
    *arg = NULL;
    *existing = false;
    int rc = js_stream_cfg_check(acc->js, acc, cfg, pedantic, arg);
    if (rc) {
        *err_code = rc;
        return NULL;
    }
    if (cfg->replicas > 1) {
        *err_code = JSStreamReplicasNotSupportedErr;
        return NULL;
    }
    js_stream *old = js_account_stream(acc, cfg->name);
    if (old) {
        /* copyStreamMetadata: the required level comes from the existing config. */
        json_t *lvl = old->cfg.metadata ? json_object_get(old->cfg.metadata, "_nats.req.level") : NULL;
        if (cfg->metadata) json_object_del(cfg->metadata, "_nats.req.level");
        if (lvl) {
            if (!cfg->metadata) cfg->metadata = json_object();
            json_object_set(cfg->metadata, "_nats.req.level", lvl);
        } else if (cfg->metadata && json_object_size(cfg->metadata) == 0) {
            json_decref(cfg->metadata);
            cfg->metadata = NULL;
        }
        json_t *a = js_stream_cfg_json(cfg, false);
        bool eq = json_equal(a, old->cfg_json);
        json_decref(a);
        if (eq) {
            *existing = true;
            return old;
        }
        *err_code = JSStreamNameExistErr;
        return NULL;
    }
    if ((rc = check_limits(acc, cfg, NULL, cfg->max_bytes))) {
        *err_code = rc;
        return NULL;
    }
    if (subjects_overlap(acc, cfg, NULL)) {
        *err_code = JSStreamSubjectOverlapErr;
        return NULL;
    }
    js_stream *st = stream_new(acc, cfg);
    st->created = js_now(acc->js);
    rc = 0;
    if (st->cfg.storage == SD_STORAGE_FILE) rc = mkdirs(st->dir);
    if (rc == 0) rc = open_store(st);
    if (rc == 0) rc = js_stream_write_meta(st);
    if (rc) {
        nx_log(NX_LOG_WARN, "Stream create failed for '%s > %s': %s", acc->name, st->cfg.name,
               sd_strerror(rc));
        unregister_callbacks(st);
        if (st->store) st->store->ops->delete_(st->store, true);
        sd_store_free(st->store);
        stream_free(st);
        *err_code = JSStreamCreateErrF;
        *arg = xstrdup("error creating store for stream");
        return NULL;
    }
    attach(acc, st);
    js_sync_setup(st);
    js_server_declare_stream_interest(acc->js, st, +1);
    advisory(st, "CREATED", "create");
    return st;
}

int js_stream_update(js_stream *st, js_stream_cfg *cfg, bool pedantic, char **arg) {
    (void)pedantic;
    *arg = NULL;
    js_account *acc = st->acc;
    int rc = js_stream_cfg_update_check(acc, &st->cfg, cfg, arg);
    if (rc) return rc;
    /* Go: raised consumer limits may not be exceeded by existing consumers. */
    bool limits = (cfg->cl_inactive_threshold > 0 &&
                   cfg->cl_inactive_threshold != st->cfg.cl_inactive_threshold) ||
                  (cfg->cl_max_ack_pending > 0 &&
                   cfg->cl_max_ack_pending != st->cfg.cl_max_ack_pending);
    char *bad = limits ? js_consumers_limits_violation(st, cfg->cl_inactive_threshold,
                                                       cfg->cl_max_ack_pending)
                       : NULL;
    if (bad) {
        size_t n = strlen(bad) + 48;
        *arg = malloc(n);
        if (!*arg) abort();
        snprintf(*arg, n, "change to limits violates consumers: %s", bad);
        free(bad);
        return JSStreamUpdateErrF;
    }
    /* Go update: only the growth of max_bytes is added (a lower or no limit adds nothing). */
    if ((rc = check_limits(acc, cfg, st, cfg->max_bytes > 0 ? cfg->max_bytes : 0))) return rc;
    if (subjects_overlap(acc, cfg, st)) return JSStreamSubjectOverlapErr;
    sd_stream_config sc;
    js_stream_cfg_store(cfg, &sc);
    rc = sd_store_update_config(st->store, &sc);
    if (rc) {
        *arg = xstrdup(sd_strerror(rc));
        return JSStreamUpdateErrF;
    }
    js_server_declare_stream_interest(acc->js, st, -1);
    js_stream_cfg_free(&st->cfg);
    st->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    json_decref(st->cfg_json);
    st->cfg_json = js_stream_cfg_json(&st->cfg, false);
    build_transforms(st);
    js_sync_setup(st);
    js_server_declare_stream_interest(acc->js, st, +1);
    js_stream_write_meta(st);
    advisory(st, "UPDATED", "modify");
    return 0;
}

void js_stream_delete(js_stream *st) {
    js_consumers_free(st, true);
    advisory(st, "DELETED", "delete");
    js_server_declare_stream_interest(st->acc->js, st, -1);
    detach(st);
    unregister_callbacks(st);
    js_stream_remove_meta(st);
    st->store->ops->delete_(st->store, true);
    sd_store_free(st->store);
    stream_free(st);
}

void js_stream_close(js_stream *st) {
    js_consumers_free(st, false);
    if (st->store) st->store->ops->flush_all_pending(st->store);
    unregister_callbacks(st);
    sd_store_free(st->store);
    stream_free(st);
}

/* Go rebuildDedupe: message ids within the window, and the last message id. */
static void rebuild_dedupe(js_stream *st) {
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    st->lseq = ss.last_seq;
    uint64_t last = ss.last_seq;
    sd_stream_state_free(&ss);
    if (last == 0) return;
    uint64_t seq = sd_store_get_seq_from_time(st->store, js_now(st->acc->js) - st->cfg.duplicates);
    sd_store_msg sm = {0};
    uint64_t found;
    while (seq <= last && sd_store_load_next_msg(st->store, ">", true, seq, &sm, &found) == 0) {
        char *id = sm.hdr_len ? js_hdr_get(sm.hdr, sm.hdr_len, "Nats-Msg-Id") : NULL;
        if (id && id[0]) js_stream_store_msgid(st, id, found, sm.ts);
        if (found == last) {
            free(st->lmsgid);
            st->lmsgid = id;
            id = NULL;
        }
        free(id);
        seq = found + 1;
    }
    sd_store_msg_free(&sm);
}

void js_stream_recover_all(js_server *js, const char *acc_name, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    js_account *acc = js_server_account(js, acc_name);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char sdir[8192], err[512];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, de->d_name);
        json_t *meta = js_stream_read_meta(js, acc_name, de->d_name, sdir, err, sizeof err);
        if (!meta) {
            nx_log(NX_LOG_ERROR, "JetStream: can not recover stream '%s > %s': %s", acc_name,
                   de->d_name, err);
            continue;
        }
        js_stream_cfg cfg = {0};
        int64_t created = 0;
        json_t *ct = json_object_get(meta, "created");
        if (json_is_string(ct)) js_time_parse(json_string_value(ct), &created);
        if (js_stream_cfg_decode(json_object_get(meta, "config"), &cfg, false, err, sizeof err) ||
            !cfg.name || strcmp(cfg.name, de->d_name) || js_account_stream(acc, cfg.name)) {
            nx_log(NX_LOG_ERROR, "JetStream: can not recover stream '%s > %s': bad config %s",
                   acc_name, de->d_name, err);
            js_stream_cfg_free(&cfg);
            json_decref(meta);
            continue;
        }
        json_decref(meta);
        js_stream *st = stream_new(acc, &cfg);
        st->created = created;
        int rc = open_store(st);
        if (rc) {
            nx_log(NX_LOG_ERROR, "JetStream: can not open store of stream '%s > %s': %s",
                   acc_name, de->d_name, sd_strerror(rc));
            sd_store_free(st->store);
            stream_free(st);
            continue;
        }
        js_batch_recover(st);
        rebuild_dedupe(st);
        attach(acc, st);
        js_sync_setup(st);
        js_server_declare_stream_interest(js, st, +1);
        js_consumers_recover(st);
        sd_stream_state ss = {0};
        sd_store_state(st->store, &ss);
        if (ss.lost_len || ss.lost_bytes) /* damage found by recovery: fenced, not deleted */
            nx_log(NX_LOG_WARN,
                   "JetStream: stream '%s > %s' recovered with lost data: %zu messages, %llu "
                   "bytes (fenced; everything else is served)",
                   acc_name, st->cfg.name, ss.lost_len, (unsigned long long)ss.lost_bytes);
        sd_stream_state_free(&ss);
    }
    closedir(d);
}

/* ---- state / info -------------------------------------------------------------------- */

json_t *js_stream_state_json(js_stream *st, bool details, json_t *subjects) {
    sd_stream_state ss = {0};
    if (details) sd_store_state(st->store, &ss);
    else sd_store_fast_state(st->store, &ss);
    json_t *o = json_object();
    json_object_set_new(o, "messages", json_integer((json_int_t)ss.msgs));
    json_object_set_new(o, "bytes", json_integer((json_int_t)ss.bytes));
    json_object_set_new(o, "first_seq", json_integer((json_int_t)ss.first_seq));
    json_object_set_new(o, "first_ts", js_time_json(ss.first_ts));
    json_object_set_new(o, "last_seq", json_integer((json_int_t)ss.last_seq));
    json_object_set_new(o, "last_ts", js_time_json(ss.last_ts));
    if (ss.num_subjects) json_object_set_new(o, "num_subjects", json_integer((json_int_t)ss.num_subjects));
    if (subjects && json_object_size(subjects)) json_object_set(o, "subjects", subjects);
    if (ss.num_deleted) json_object_set_new(o, "num_deleted", json_integer((json_int_t)ss.num_deleted));
    if (ss.deleted_len) {
        json_t *a = json_array();
        for (size_t i = 0; i < ss.deleted_len; i++) json_array_append_new(a, json_integer((json_int_t)ss.deleted[i]));
        json_object_set_new(o, "deleted", a);
    }
    if (ss.lost_len || ss.lost_bytes) {
        json_t *l = json_object(), *a = json_array();
        for (size_t i = 0; i < ss.lost_len; i++) json_array_append_new(a, json_integer((json_int_t)ss.lost_msgs[i]));
        json_object_set_new(l, "msgs", ss.lost_len ? a : json_null());
        if (!ss.lost_len) json_decref(a);
        json_object_set_new(l, "bytes", json_integer((json_int_t)ss.lost_bytes));
        json_object_set_new(o, "lost", l);
    }
    json_object_set_new(o, "consumer_count", json_integer((json_int_t)js_consumers_count(st)));
    sd_stream_state_free(&ss);
    return o;
}

json_t *js_stream_info_json(js_stream *st, int flags, json_t *subjects) {
    js_server *js = st->acc->js;
    json_t *o = json_object();
    json_object_set_new(o, "config", js_stream_cfg_json(&st->cfg, flags & JS_INFO_DYNAMIC_META));
    json_object_set_new(o, "created", js_time_json(st->created));
    json_object_set_new(o, "state", js_stream_state_json(st, flags & JS_INFO_DETAILS, subjects));
    if ((flags & JS_INFO_DOMAIN) && js->cfg.domain)
        json_object_set_new(o, "domain", json_string(js->cfg.domain));
    if (flags & JS_INFO_CLUSTER) {
        json_t *c = json_object();
        json_object_set_new(c, "leader", json_string(js->cfg.server_name));
        json_object_set_new(o, "cluster", c);
    }
    json_t *mi = js_sync_mirror_info(st), *si = js_sync_sources_info(st);
    if (mi) json_object_set_new(o, "mirror", mi);
    if (si) json_object_set_new(o, "sources", si);
    json_object_set_new(o, "ts", js_time_json(js_now(js)));
    return o;
}

/* ---- purge / remove ------------------------------------------------------------------ */

int js_stream_purge(js_stream *st, const char *filter, uint64_t seq, uint64_t keep,
                    bool has_req, uint64_t *purged, char **arg) {
    *arg = NULL;
    *purged = 0;
    if (st->cfg.sealed) {
        *arg = xstrdup("sealed stream");
        return JSStreamGeneralErrorF;
    }
    int rc = has_req ? sd_store_purge_ex(st->store, filter ? filter : "", seq, keep, purged)
                     : sd_store_purge(st->store, purged);
    if (rc < 0) {
        *arg = xstrdup(sd_strerror(rc));
        return JSStreamGeneralErrorF;
    }
    js_stream_mark_dirty(st);
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    if (ss.last_seq > st->lseq) st->lseq = ss.last_seq;
    uint64_t fseq = ss.first_seq;
    if (has_req && filter && filter[0]) {
        sd_simple_state fs = {0};
        if (sd_store_filtered_state(st->store, fseq, filter, &fs) == 0) fseq = fs.first;
    }
    sd_stream_state_free(&ss);
    js_consumers_on_purged(st, fseq);
    return 0;
}

int js_stream_remove_msg(js_stream *st, uint64_t seq, bool erase) {
    int rc = erase ? sd_store_erase_msg(st->store, seq) : sd_store_remove_msg(st->store, seq);
    if (rc > 0) js_stream_mark_dirty(st);
    if (rc == SD_ERR_MSG_NOT_FOUND) return 0;
    return rc;
}

/* ---- duplicates window --------------------------------------------------------------- */

void js_stream_purge_msgids(js_stream *st, int64_t now) {
    while (st->ddhead < st->ddlen) {
        js_ddentry *e = st->ddarr[st->ddhead];
        if (e->ts + st->cfg.duplicates > now) break;
        if (nx_strmap_get(&st->ddmap, e->id, strlen(e->id)) == e)
            nx_strmap_del(&st->ddmap, e->id, strlen(e->id));
        free(e->id);
        free(e);
        st->ddhead++;
    }
    if (st->ddhead == st->ddlen) st->ddhead = st->ddlen = 0;
}

js_ddentry *js_stream_check_msgid(js_stream *st, const char *id) {
    if (!id || !id[0] || st->ddlen == st->ddhead) return NULL;
    js_stream_purge_msgids(st, js_now(st->acc->js));
    return nx_strmap_get(&st->ddmap, id, strlen(id));
}

void js_stream_store_msgid(js_stream *st, const char *id, uint64_t seq, int64_t ts) {
    if (st->cfg.duplicates <= 0) return;
    if (st->ddlen == st->ddcap) {
        if (st->ddhead > 0) {
            memmove(st->ddarr, st->ddarr + st->ddhead, (st->ddlen - st->ddhead) * sizeof(void *));
            st->ddlen -= st->ddhead;
            st->ddhead = 0;
        }
        if (st->ddlen == st->ddcap) {
            st->ddcap = st->ddcap ? st->ddcap * 2 : 64;
            st->ddarr = realloc(st->ddarr, st->ddcap * sizeof(void *));
            if (!st->ddarr) abort();
        }
    }
    js_ddentry *e = malloc(sizeof *e);
    if (!e) abort();
    e->id = xstrdup(id);
    e->seq = seq;
    e->ts = ts;
    st->ddarr[st->ddlen++] = e;
    nx_strmap_put(&st->ddmap, e->id, strlen(e->id), e);
}

void js_account_usage(js_account *acc, uint64_t *mem, uint64_t *store, uint64_t *rmem,
                      uint64_t *rstore, uint64_t *consumers) {
    *mem = *store = *rmem = *rstore = *consumers = 0;
    for (size_t i = 0; i < acc->nstreams; i++) {
        js_stream *st = acc->streams[i];
        sd_stream_state ss = {0};
        sd_store_fast_state(st->store, &ss);
        bool m = st->cfg.storage == SD_STORAGE_MEMORY;
        *(m ? mem : store) += ss.bytes;
        if (st->cfg.max_bytes > 0) *(m ? rmem : rstore) += (uint64_t)st->cfg.max_bytes;
        *consumers += js_consumers_count(st);
        sd_stream_state_free(&ss);
    }
}
