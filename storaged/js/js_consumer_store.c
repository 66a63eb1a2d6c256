/* Consumer persistence: the config as obs/<name>/meta.json (+ meta.sum, an xxHash64 of it)
 * next to a file stream, written atomically (tmp, fsync, rename, fsync dir); the delivery
 * state through the stream store's consumer store (o.dat for file streams); recovery of both
 * at startup.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go readStoredState, applyState,
 * writeStoreStateUnlocked, checkRedelivered, and server/filestore.go's consumer meta
 * (meta.inf/meta.sum) plus stream.go's consumer recovery on startup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/log.h"
#include "storaged/js/js_consumer_int.h"

/* --- persistence of the config ----------------------------------------------------------------- */

static int write_file_atomic(const char *dir, const char *name, const char *data, size_t len) {
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = -errno;
            close(fd);
            return e;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    close(fd);
    if (rename(tmp, path) != 0) return -errno;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void obs_dir(js_consumer *o, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/obs/%s", js_stream_dir(o->st), o->name);
}

void jsc_write_meta(js_consumer *o) {
    if (!js_stream_dir(o->st)) return;
    char dir[4096];
    obs_dir(o, dir, sizeof dir);
    char obs[4096];
    snprintf(obs, sizeof obs, "%s/obs", js_stream_dir(o->st));
    mkdir(obs, 0755);
    mkdir(dir, 0755);
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
    if (!s) return;
    size_t len = strlen(s);
    char sum[32];
    snprintf(sum, sizeof sum, "%016" PRIx64, (uint64_t)XXH64(s, len, 0));
    if (write_file_atomic(dir, "meta.json", s, len) == 0) write_file_atomic(dir, "meta.sum", sum, strlen(sum));
    free(s);
}

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

void js_consumers_recover(js_stream *st) {
    const char *sdir = js_stream_dir(st);
    if (!sdir) return;
    char obs[4096];
    snprintf(obs, sizeof obs, "%s/obs", sdir);
    DIR *d = opendir(obs);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4500], sp[4500];
        snprintf(p, sizeof p, "%s/%s/meta.json", obs, de->d_name);
        snprintf(sp, sizeof sp, "%s/%s/meta.sum", obs, de->d_name);
        size_t len = 0, slen = 0;
        char *buf = read_file(p, &len), *sum = read_file(sp, &slen);
        if (!buf || !sum) {
            nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s': no meta.json, not recovered",
                   js_account_name(js_stream_account(st)), js_stream_name(st), de->d_name);
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
        const char *acc = js_account_name(js_stream_account(st)), *sname = js_stream_name(st);
        if (!m) {
            nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s': %s, not recovered", acc, sname, de->d_name,
                   ok ? "bad meta.json" : "meta.json checksum mismatch");
            continue;
        }
        jsc_config cfg;
        char err[256];
        if (jsc_config_parse(json_object_get(m, "config"), &cfg, err, sizeof err) == 0) {
            int64_t created = json_integer_value(json_object_get(m, "created_ns"));
            int code;
            char *arg = NULL;
            uint64_t start = (uint64_t)json_integer_value(json_object_get(m, "start_seq"));
            js_consumer *o = jsc_add(st, &cfg, JSC_ACTION_CREATE_OR_UPDATE, false, true, created, start, &code, &arg);
            if (!o)
                nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s' not recovered: error %d %s", acc, sname,
                       de->d_name, code, arg ? arg : "");
            free(arg);
            jsc_config_free(&cfg);
            if (o) jsc_deliver(o);
        } else {
            nx_log(NX_LOG_WARN, "JetStream consumer '%s > %s > %s' not recovered: %s", acc, sname, de->d_name, err);
        }
        json_decref(m);
    }
    closedir(d);
}


void jsc_remove_meta(js_consumer *o) {
    if (!js_stream_dir(o->st)) return;
    char dir[4096], p[4200];
    obs_dir(o, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/meta.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/meta.sum", dir);
    unlink(p);
    rmdir(dir);
}
