/* Consumer persistence in the LMDB metadata store (storaged/sd_meta.h), one per store_dir at
 * <store_dir>/jetstream/meta.lmdb, keys
 *   c/<account>/<stream>/<consumer>/cfg     {"name","created","created_ns","start_seq","config"}
 *   c/<account>/<stream>/<consumer>/state   Go's encoded consumer state (encodeConsumerState)
 * The stream store's consumer store keeps the state in memory (sd_filestore_consumer_external:
 * no o.dat); a wrapper marks it dirty on every change, and the group commit
 * (js_consumers_commit, from js_server_flush after the stream stores synced and before acks
 * are confirmed) writes each dirty consumer's state once and commits one LMDB transaction.
 * Configs commit at once (create, update, delete are rare).  With encryption at rest both
 * records are sealed with the stream's data key (sd_filestore_seal; Go encrypts o.dat and
 * meta.inf), keys stay plain (Go's obs/<name> directory names are too).  Recovery at startup reads the
 * keys; obs/<name>/meta.json (+meta.sum) and o.dat of older data directories (and of restored
 * snapshots) are migrated: recovered, written to LMDB, committed, then removed.  Snapshots
 * carry obs/<name>/{meta.json,meta.sum,o.dat} built from the live consumers.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go readStoredState, applyState,
 * writeStoreStateUnlocked, checkRedelivered, and server/filestore.go's consumer meta
 * (meta.inf/meta.sum) plus stream.go's consumer recovery on startup; the storage itself is ours.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/log.h"
#include "storaged/js/js_consumer_int.h"
#include "storaged/filestore.h"
#include "storaged/sd_meta.h"

/* --- the metadata store of a js_server ------------------------------------------------------- */

typedef struct jsc_ms jsc_ms;

typedef struct jsc_meta {
    js_server *js;
    sd_meta *db; /* NULL: could not open (reported; consumers run without persistence) */
    jsc_ms **dirty;
    size_t ndirty, dcap;
    uint64_t state_puts;
} jsc_meta;

static jsc_meta **g_metas;
static size_t g_nmetas;

static jsc_meta *meta_of(js_server *js) {
    for (size_t i = 0; i < g_nmetas; i++)
        if (g_metas[i]->js == js) return g_metas[i];
    jsc_meta *jm = calloc(1, sizeof *jm);
    if (!jm) abort();
    jm->js = js;
    char dir[4096], err[512];
    snprintf(dir, sizeof dir, "%s/jetstream/meta.lmdb", js_server_config(js)->store_dir);
    if (sd_meta_open(dir, &jm->db, err, sizeof err) != 0) {
        nx_log(NX_LOG_ERROR, "JetStream: consumer configs and state not available: %s", err);
        jm->db = NULL;
    }
    jsc_meta **nv = realloc(g_metas, (g_nmetas + 1) * sizeof *nv);
    if (!nv) abort();
    g_metas = nv;
    g_metas[g_nmetas++] = jm;
    return jm;
}

/* --- the consumer store wrapper: marks changes for the group commit --------------------------- */

struct jsc_ms {
    sd_consumer_store base;
    sd_consumer_store *inner;
    jsc_meta *jm;
    char *prefix; /* c/<account>/<stream>/<consumer>/ */
    char *what;   /* <consumer>/state: associated data when sealed (encryption at rest) */
    sd_store *sstore;
    bool dirty, has_state;
};

static const sd_consumer_store_ops ms_ops;

static jsc_ms *ms_of(sd_consumer_store *o) { return (jsc_ms *)o; }

static void key_of(const jsc_ms *w, const char *what, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s", w->prefix, what);
}

static void mark(jsc_ms *w) {
    w->has_state = true;
    if (w->dirty) return;
    w->dirty = true;
    jsc_meta *jm = w->jm;
    if (jm->ndirty == jm->dcap) {
        jm->dcap = jm->dcap ? jm->dcap * 2 : 16;
        jm->dirty = realloc(jm->dirty, jm->dcap * sizeof *jm->dirty);
        if (!jm->dirty) abort();
    }
    jm->dirty[jm->ndirty++] = w;
}

static void unlist(jsc_ms *w) {
    if (!w->dirty) return;
    w->dirty = false;
    jsc_meta *jm = w->jm;
    for (size_t i = 0; i < jm->ndirty; i++)
        if (jm->dirty[i] == w) {
            jm->dirty[i] = jm->dirty[--jm->ndirty];
            break;
        }
}

/* The state into the open transaction. */
static void put_state(jsc_ms *w) {
    if (!w->jm->db || sd_meta_fenced(w->jm->db)) return; /* reported when it was fenced */
    uint8_t *buf = NULL;
    size_t len = 0;
    if (w->inner->ops->encoded_state(w->inner, &buf, &len) != 0) return;
    char k[512];
    key_of(w, "state", k, sizeof k);
    uint8_t *sealed;
    size_t sl;
    int rc = sd_filestore_seal(w->sstore, w->what, buf, len, &sealed, &sl);
    if (rc == 0) {
        rc = sd_meta_put(w->jm->db, k, sealed, sl);
        free(sealed);
    }
    if (rc) nx_log(NX_LOG_ERROR, "JetStream consumer state %s not saved: %s", k, strerror(-rc));
    w->jm->state_puts++;
    free(buf);
}

#define MS_CHANGE(oo, call)                                                                        \
    do {                                                                                           \
        jsc_ms *w_ = ms_of(oo);                                                                    \
        int rc_ = (call);                                                                          \
        if (rc_ == 0) mark(w_);                                                                    \
        return rc_;                                                                                \
    } while (0)

static int w_set_starting(sd_consumer_store *o, uint64_t s) {
    MS_CHANGE(o, w_->inner->ops->set_starting(w_->inner, s));
}
static void w_update_starting(sd_consumer_store *o, uint64_t s) {
    ms_of(o)->inner->ops->update_starting(ms_of(o)->inner, s);
    mark(ms_of(o));
}
static int w_reset(sd_consumer_store *o, uint64_t s) { MS_CHANGE(o, w_->inner->ops->reset(w_->inner, s)); }
static bool w_has_state(sd_consumer_store *o) {
    return ms_of(o)->has_state || ms_of(o)->inner->ops->has_state(ms_of(o)->inner);
}
static int w_update_delivered(sd_consumer_store *o, uint64_t d, uint64_t s, uint64_t dc, int64_t ts) {
    MS_CHANGE(o, w_->inner->ops->update_delivered(w_->inner, d, s, dc, ts));
}
static int w_update_acks(sd_consumer_store *o, uint64_t d, uint64_t s) {
    MS_CHANGE(o, w_->inner->ops->update_acks(w_->inner, d, s));
}
static void w_remove_redelivered_below(sd_consumer_store *o, uint64_t s) {
    ms_of(o)->inner->ops->remove_redelivered_below(ms_of(o)->inner, s);
    mark(ms_of(o));
}
static int w_update_config(sd_consumer_store *o, const sd_consumer_config *c) {
    return ms_of(o)->inner->ops->update_config(ms_of(o)->inner, c);
}
static int w_update(sd_consumer_store *o, const sd_consumer_state *st) {
    MS_CHANGE(o, w_->inner->ops->update(w_->inner, st));
}
static int w_force_update(sd_consumer_store *o, const sd_consumer_state *st) {
    MS_CHANGE(o, w_->inner->ops->force_update(w_->inner, st));
}
static int w_state(sd_consumer_store *o, sd_consumer_state *out) {
    return ms_of(o)->inner->ops->state(ms_of(o)->inner, out);
}
static int w_encoded_state(sd_consumer_store *o, uint8_t **buf, size_t *len) {
    return ms_of(o)->inner->ops->encoded_state(ms_of(o)->inner, buf, len);
}
static sd_storage_type w_type(sd_consumer_store *o) { return ms_of(o)->inner->ops->type(ms_of(o)->inner); }

/* Stopped (server shutdown, stream closed): a pending change goes into the transaction that
 * the next commit (at the latest js_consumers_close) makes durable. */
static int w_stop(sd_consumer_store *o) {
    jsc_ms *w = ms_of(o);
    if (w->dirty) put_state(w);
    unlist(w);
    return w->inner->ops->stop(w->inner);
}

static void forget(jsc_ms *w) {
    unlist(w);
    if (!w->jm->db) return;
    sd_meta_del_prefix(w->jm->db, w->prefix);
}

static int w_delete(sd_consumer_store *o) {
    jsc_ms *w = ms_of(o);
    forget(w);
    return w->inner->ops->delete_(w->inner); /* removes a legacy obs/<name> too */
}
static int w_stream_delete(sd_consumer_store *o) {
    jsc_ms *w = ms_of(o);
    forget(w);
    if (w->jm->db) sd_meta_commit(w->jm->db);
    return w->inner->ops->stream_delete(w->inner);
}
static void w_free(sd_consumer_store *o) {
    jsc_ms *w = ms_of(o);
    unlist(w);
    w->inner->ops->free(w->inner);
    free(w->prefix);
    free(w->what);
    free(w);
}

static const sd_consumer_store_ops ms_ops = {
    .set_starting = w_set_starting,
    .update_starting = w_update_starting,
    .reset = w_reset,
    .has_state = w_has_state,
    .update_delivered = w_update_delivered,
    .update_acks = w_update_acks,
    .remove_redelivered_below = w_remove_redelivered_below,
    .update_config = w_update_config,
    .update = w_update,
    .force_update = w_force_update,
    .state = w_state,
    .encoded_state = w_encoded_state,
    .type = w_type,
    .stop = w_stop,
    .delete_ = w_delete,
    .stream_delete = w_stream_delete,
    .free = w_free,
};

static char *prefix_of(js_stream *st, const char *name) {
    const char *acc = js_account_name(js_stream_account(st)), *sn = js_stream_name(st);
    size_t n = strlen(acc) + strlen(sn) + (name ? strlen(name) : 0) + 8;
    char *p = malloc(n);
    if (!p) abort();
    if (name)
        snprintf(p, n, "c/%s/%s/%s/", acc, sn, name);
    else
        snprintf(p, n, "c/%s/%s/", acc, sn);
    return p;
}

int jsc_store_open(js_consumer *o, const sd_consumer_config *cfg, bool recovering, sd_consumer_store **out) {
    sd_store *store = js_stream_store(o->st);
    if (!js_stream_dir(o->st)) return store->ops->consumer_store(store, o->name, o->created, cfg, out);
    sd_consumer_store *inner;
    int rc = store->ops->consumer_store(store, o->name, o->created, cfg, &inner);
    if (rc) return rc;
    sd_filestore_consumer_external(inner);
    jsc_ms *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->base.ops = &ms_ops;
    w->inner = inner;
    w->jm = meta_of(o->js);
    w->prefix = prefix_of(o->st, o->name);
    w->sstore = store;
    size_t wl = strlen(o->name) + 8;
    w->what = malloc(wl);
    if (!w->what) abort();
    snprintf(w->what, wl, "%s/state", o->name);
    sd_meta *db = w->jm->db;
    char k[512];
    key_of(w, "state", k, sizeof k);
    if (db && recovering) {
        uint8_t *buf;
        size_t len;
        int grc = sd_meta_get(db, k, &buf, &len);
        if (grc == 0) {
            uint8_t *plain;
            size_t pl;
            grc = sd_filestore_unseal(store, w->what, buf, len, &plain, &pl);
            free(buf);
            buf = grc ? NULL : plain;
            len = grc ? 0 : pl;
        }
        if (grc == 0) {
            sd_consumer_state cs;
            memset(&cs, 0, sizeof cs);
            grc = sd_decode_consumer_state(buf, len, &cs);
            if (grc == 0) grc = inner->ops->force_update(inner, &cs);
            sd_consumer_state_free(&cs);
            free(buf);
            if (grc == 0) w->has_state = true;
        }
        if (grc && grc != -ENOENT)
            nx_log(NX_LOG_WARN, "JetStream consumer state %s unreadable (%s): starts over", k,
                   grc == SD_META_ECORRUPT ? "checksum mismatch" : sd_strerror(grc));
    } else if (db) {
        sd_meta_del(db, k); /* a new consumer: no stale state of an older one */
    }
    *out = &w->base;
    return 0;
}

/* --- group commit ------------------------------------------------------------------------------ */

void js_consumers_commit(js_server *js) {
    jsc_meta *jm = NULL;
    for (size_t i = 0; i < g_nmetas && !jm; i++)
        if (g_metas[i]->js == js) jm = g_metas[i];
    if (!jm || !jm->db) return;
    bool fenced = sd_meta_fenced(jm->db);
    for (size_t i = 0; i < jm->ndirty; i++) {
        put_state(jm->dirty[i]);
        jm->dirty[i]->dirty = false;
    }
    jm->ndirty = 0;
    int rc = sd_meta_commit(jm->db);
    if (rc && !fenced) nx_log(NX_LOG_ERROR, "JetStream consumer state commit failed: %s", sd_meta_error(jm->db));
}

void js_consumers_close(js_server *js) {
    for (size_t i = 0; i < g_nmetas; i++) {
        jsc_meta *jm = g_metas[i];
        if (jm->js != js) continue;
        js_consumers_commit(js);
        sd_meta_close(jm->db);
        free(jm->dirty);
        free(jm);
        g_metas[i] = g_metas[--g_nmetas];
        if (!g_nmetas) {
            free(g_metas);
            g_metas = NULL;
        }
        return;
    }
}

sd_meta *js_meta_db(js_server *js) {
    return meta_of(js)->db;
}

void jsc_forget_stream(js_stream *st) {
    if (!js_stream_dir(st)) return;
    jsc_meta *jm = meta_of(js_stream_server(st));
    if (!jm->db) return;
    char *p = prefix_of(st, NULL);
    if (sd_meta_del_prefix(jm->db, p) > 0) sd_meta_commit(jm->db);
    free(p);
}

void jsc_meta_stats(js_server *js, uint64_t *commits, uint64_t *state_puts) {
    *commits = *state_puts = 0;
    for (size_t i = 0; i < g_nmetas; i++)
        if (g_metas[i]->js == js && g_metas[i]->db) {
            *commits = sd_meta_commits(g_metas[i]->db);
            *state_puts = g_metas[i]->state_puts;
        }
}

/* --- config ------------------------------------------------------------------------------------ */

static char *meta_json(js_consumer *o) {
    json_t *m = json_object();
    char ts[64];
    jsc_fmt_time(o->created, ts, sizeof ts);
    json_object_set_new(m, "name", json_string(o->name));
    json_object_set_new(m, "created", json_string(ts));
    json_object_set_new(m, "created_ns", json_integer(o->created));
    json_object_set_new(m, "start_seq", json_integer((json_int_t)o->start_seq));
    json_object_set_new(m, "config", jsc_config_json(&o->cfg, false));
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return s;
}

void jsc_write_meta(js_consumer *o) {
    if (!js_stream_dir(o->st)) return;
    jsc_meta *jm = meta_of(o->js);
    if (!jm->db) return;
    char *s = meta_json(o);
    if (!s) return;
    char *p = prefix_of(o->st, o->name);
    char k[600];
    snprintf(k, sizeof k, "%scfg", p);
    free(p);
    char what[600];
    snprintf(what, sizeof what, "%s/cfg", o->name);
    uint8_t *sealed;
    size_t sl;
    int rc = sd_filestore_seal(js_stream_store(o->st), what, (const uint8_t *)s, strlen(s), &sealed, &sl);
    free(s);
    if (rc == 0) {
        rc = sd_meta_put(jm->db, k, sealed, sl);
        free(sealed);
    }
    if (rc == 0) rc = sd_meta_commit(jm->db);
    if (rc) nx_log(NX_LOG_ERROR, "JetStream consumer config %s not saved: %s", k, strerror(-rc));
}

void jsc_remove_meta(js_consumer *o) {
    if (!js_stream_dir(o->st)) return;
    jsc_meta *jm = meta_of(o->js);
    if (!jm->db) return;
    char *p = prefix_of(o->st, o->name);
    sd_meta_del_prefix(jm->db, p); /* cfg and state (the store's delete did it already) */
    free(p);
    sd_meta_commit(jm->db);
}

/* --- state ------------------------------------------------------------------------------------ */

void jsc_write_state(js_consumer *o) {
    if (!o->store) return;
    sd_consumer_state cs = {0};
    cs.delivered.consumer = o->dseq ? o->dseq - 1 : 0;
    cs.delivered.stream = o->sseq ? o->sseq - 1 : 0;
    cs.ack_floor.consumer = o->adflr;
    cs.ack_floor.stream = o->asflr;
    size_t np = 0, nr = 0;
    uint64_t *pk = jsc_map_keys_sorted(&o->pending, &np);
    uint64_t *rk = jsc_map_keys_sorted(&o->rdc, &nr);
    cs.pending = calloc(np + 1, sizeof *cs.pending);
    cs.redelivered = calloc(nr + 1, sizeof *cs.redelivered);
    if (!cs.pending || !cs.redelivered) abort();
    for (size_t i = 0; i < np; i++) {
        jsc_ent *e = jsc_map_get(&o->pending, pk[i]);
        cs.pending[i] = (sd_pending){pk[i], e->a, e->b};
    }
    for (size_t i = 0; i < nr; i++) cs.redelivered[i] = (sd_redelivered){rk[i], jsc_map_get(&o->rdc, rk[i])->a};
    cs.num_pending = np;
    cs.num_redelivered = nr;
    o->store->ops->update(o->store, &cs);
    free(pk);
    free(rk);
    sd_consumer_state_free(&cs);
    js_stream_mark_dirty(o->st);
}

static void apply_state(js_consumer *o, const sd_consumer_state *cs) {
    o->sseq = cs->delivered.stream + 1;
    o->dseq = cs->delivered.consumer + 1;
    o->adflr = cs->ack_floor.consumer;
    o->asflr = cs->ack_floor.stream;
    jsc_map_clear(&o->pending);
    jsc_map_clear(&o->rdc);
    for (size_t i = 0; i < cs->num_pending; i++) {
        jsc_ent *e = jsc_map_put(&o->pending, cs->pending[i].sseq);
        e->a = cs->pending[i].dseq;
        e->b = cs->pending[i].ts;
    }
    for (size_t i = 0; i < cs->num_redelivered; i++)
        jsc_map_put(&o->rdc, cs->redelivered[i].sseq)->a = cs->redelivered[i].count;
    if (o->pending.n) {
        int64_t delay = 500 * JSC_NS_MS;
        if (o->cfg.ack_wait < delay) delay = jsc_ack_wait(o, 0);
        o->ptmr = js_now(o->js) + delay;
    }
}

void jsc_read_stored_state(js_consumer *o) {
    sd_consumer_state cs = {0};
    if (o->store->ops->state(o->store, &cs) != 0) return;
    apply_state(o, &cs);
    sd_consumer_state_free(&cs);
    if (o->rdc.n) {
        sd_stream_state ss;
        jsc_stream_state(o, &ss);
        bool upd = false;
        size_t n;
        uint64_t *k = jsc_map_keys_sorted(&o->rdc, &n);
        for (size_t i = 0; i < n; i++) {
            if (k[i] <= o->asflr || k[i] < ss.first_seq) jsc_rdq_remove(o, k[i]);
            if (k[i] < ss.first_seq) {
                jsc_map_del(&o->rdc, k[i]);
                upd = true;
            }
        }
        free(k);
        if (upd) jsc_write_state(o);
    }
}

/* --- recovery ----------------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        fclose(f);
        return NULL;
    }
    char *b = malloc((size_t)n + 1);
    if (!b) abort();
    size_t r = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[r] = 0;
    *len = r;
    return b;
}

/* Removes obs/<name> (plain files only). */
static void rm_obs_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[4600];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Recreates a consumer from its meta JSON; NULL when it could not be. */
static js_consumer *recover_one(js_stream *st, const char *name, json_t *m) {
    const char *acc = js_account_name(js_stream_account(st)), *sname = js_stream_name(st);
    jsc_config cfg;
    char err[256];
    if (jsc_config_parse(json_object_get(m, "config"), &cfg, err, sizeof err) != 0) {
        nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s' not recovered: %s", acc, sname, name, err);
        return NULL;
    }
    int64_t created = json_integer_value(json_object_get(m, "created_ns"));
    int code;
    char *arg = NULL;
    uint64_t start = (uint64_t)json_integer_value(json_object_get(m, "start_seq"));
    js_consumer *o = jsc_add(st, &cfg, JSC_ACTION_CREATE_OR_UPDATE, false, true, created, start, &code, &arg);
    if (!o)
        nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s' not recovered: error %d %s", acc, sname, name,
               code, arg ? arg : "");
    free(arg);
    jsc_config_free(&cfg);
    return o;
}

typedef struct cfg_list {
    char **names;
    char **vals;
    size_t *lens;
    size_t n, cap;
    size_t plen;
} cfg_list;

static int collect_cfg(void *arg, const char *key, const uint8_t *val, size_t len) {
    cfg_list *l = arg;
    const char *rest = key + l->plen;
    const char *slash = strchr(rest, '/');
    if (!slash || strcmp(slash, "/cfg") != 0) return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->names = realloc(l->names, l->cap * sizeof *l->names);
        l->vals = realloc(l->vals, l->cap * sizeof *l->vals);
        l->lens = realloc(l->lens, l->cap * sizeof *l->lens);
        if (!l->names || !l->vals || !l->lens) abort();
    }
    l->names[l->n] = jsc_strndup(rest, (size_t)(slash - rest));
    l->vals[l->n] = jsc_strndup((const char *)val, len);
    l->lens[l->n] = len;
    l->n++;
    return 0;
}

/* obs/<name>/meta.json (+ meta.sum) and o.dat of an older data directory or a restored
 * snapshot: recovered (the store loads o.dat), written to LMDB, committed, removed. */
static void migrate_legacy(js_stream *st, jsc_meta *jm) {
    const char *sdir = js_stream_dir(st);
    char obs[4096];
    snprintf(obs, sizeof obs, "%s/obs", sdir);
    DIR *d = opendir(obs);
    if (!d) return;
    const char *acc = js_account_name(js_stream_account(st)), *sname = js_stream_name(st);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char dir[4500], p[4600], sp[4600];
        snprintf(dir, sizeof dir, "%s/%s", obs, de->d_name);
        if (jsc_lookup(st, de->d_name)) { /* already in LMDB (removal was cut short) */
            if (jm->db) rm_obs_dir(dir);
            continue;
        }
        snprintf(p, sizeof p, "%s/meta.json", dir);
        snprintf(sp, sizeof sp, "%s/meta.sum", dir);
        size_t len = 0, slen = 0;
        char *buf = read_file(p, &len), *sum = read_file(sp, &slen);
        if (!buf || !sum) {
            nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s': no meta.json, not recovered", acc, sname,
                   de->d_name);
            free(buf);
            free(sum);
            continue;
        }
        char want[32];
        snprintf(want, sizeof want, "%016" PRIx64, (uint64_t)XXH64(buf, len, 0));
        bool ok = slen >= 16 && !strncmp(sum, want, 16);
        free(sum);
        json_t *m = ok ? json_loadb(buf, len, 0, NULL) : NULL;
        free(buf);
        if (!m) {
            nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s': %s, not recovered", acc, sname, de->d_name,
                   ok ? "bad meta.json" : "meta.json checksum mismatch");
            continue;
        }
        js_consumer *o = recover_one(st, de->d_name, m);
        json_decref(m);
        if (!o) continue;
        if (jm->db && o->store) {
            jsc_ms *w = o->store->ops == &ms_ops ? ms_of(o->store) : NULL;
            if (w && w_has_state(o->store)) {
                put_state(w);
                w->has_state = true;
            }
            jsc_write_meta(o); /* commits the state with it */
            if (!sd_meta_pending(jm->db) && !sd_meta_fenced(jm->db)) {
                rm_obs_dir(dir);
                nx_log(NX_LOG_NOTICE, "JetStream consumer '%s > %s > %s' migrated to the metadata store", acc,
                       sname, de->d_name);
            }
        }
        jsc_deliver(o);
    }
    closedir(d);
    rmdir(obs); /* when empty */
}

void js_consumers_recover(js_stream *st) {
    if (!js_stream_dir(st)) return;
    jsc_meta *jm = meta_of(js_stream_server(st));
    if (jm->db) {
        cfg_list l = {0};
        char *p = prefix_of(st, NULL);
        l.plen = strlen(p);
        sd_meta_iterate(jm->db, p, collect_cfg, &l);
        free(p);
        for (size_t i = 0; i < l.n; i++) {
            char what[600];
            snprintf(what, sizeof what, "%s/cfg", l.names[i]);
            uint8_t *plain = NULL;
            size_t pl = 0;
            json_t *m = NULL;
            if (sd_filestore_unseal(js_stream_store(st), what, (const uint8_t *)l.vals[i], l.lens[i], &plain,
                                    &pl) == 0)
                m = json_loadb((const char *)plain, pl, 0, NULL);
            free(plain);
            js_consumer *o = m ? recover_one(st, l.names[i], m) : NULL;
            if (!m)
                nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s': bad config record, not recovered",
                       js_account_name(js_stream_account(st)), js_stream_name(st), l.names[i]);
            json_decref(m);
            if (o) jsc_deliver(o);
            free(l.names[i]);
            free(l.vals[i]);
        }
        free(l.names);
        free(l.vals);
        free(l.lens);
    }
    migrate_legacy(st, jm);
}

/* --- snapshots ------------------------------------------------------------------------------------ */

static void add_file(sd_snapshot_file **v, size_t *n, size_t *cap, char *name, uint8_t *data, size_t len) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v) abort();
    }
    (*v)[(*n)++] = (sd_snapshot_file){name, data, len};
}

sd_snapshot_file *js_consumers_snapshot_files(js_stream *st, size_t *n) {
    *n = 0;
    jsc_set *s = jsc_set_of(st, false);
    sd_snapshot_file *v = NULL;
    size_t cap = 0;
    for (size_t i = 0; s && i < s->n; i++) {
        js_consumer *o = s->v[i];
        if (!o->store || o->store->ops != &ms_ops) continue;
        char *meta = meta_json(o);
        if (!meta) continue;
        size_t ml = strlen(meta), nl = strlen(o->name) + 16;
        char *sum = malloc(17), *n1 = malloc(nl), *n2 = malloc(nl);
        if (!sum || !n1 || !n2) abort();
        snprintf(sum, 17, "%016" PRIx64, (uint64_t)XXH64(meta, ml, 0));
        snprintf(n1, nl, "obs/%s/meta.json", o->name);
        snprintf(n2, nl, "obs/%s/meta.sum", o->name);
        add_file(&v, n, &cap, n1, (uint8_t *)meta, ml);
        add_file(&v, n, &cap, n2, (uint8_t *)sum, 16);
        uint8_t *buf;
        size_t len;
        if (o->store->ops->has_state(o->store) && o->store->ops->encoded_state(o->store, &buf, &len) == 0) {
            char *n3 = malloc(nl);
            if (!n3) abort();
            snprintf(n3, nl, "obs/%s/o.dat", o->name);
            add_file(&v, n, &cap, n3, buf, len);
        }
    }
    return v;
}

void js_consumers_snapshot_files_free(sd_snapshot_file *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free((char *)f[i].name);
        free((uint8_t *)f[i].data);
    }
    free(f);
}
