/* Stream configs in the LMDB metadata store (storaged/sd_meta.h), next to the consumers':
 *   s/<account>/<stream>   {"created":"<RFC 3339>","config":{...Go StreamConfig...}}
 * committed durably before a create or update is answered.  A copy stays in the stream's own
 * directory, <stream dir>/meta.json = {"checksum":"<xxh64 hex>","meta":{...}} (written to a
 * temp file, fsynced, renamed), as Go keeps meta.inf + meta.sum there: the LMDB record is the
 * one read; the copy serves when the record or the whole metadata store is damaged, so damage
 * to one file never loses every stream's config.  A record missing from LMDB (older data
 * directories, a crash between the two writes) is put back from the copy.
 *
 * Ports the stream metadata part of Go nats-server v2.14.5 server/filestore.go
 * (writeStreamMeta: meta.inf + meta.sum) and jetstream.go's recovery of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/log.h"
#include "storaged/js/js_stream_int.h"
#include "storaged/sd_meta.h"

#define META_PREFIX "{\"checksum\":\""
#define META_MID "\",\"meta\":"

static void key_of(const char *acc, const char *name, char *k, size_t cap) {
    snprintf(k, cap, "s/%s/%s", acc, name);
}

static int put_meta(sd_meta *db, const char *key, json_t *meta) {
    char *body = json_dumps(meta, JSON_COMPACT);
    if (!body) abort();
    int rc = sd_meta_put(db, key, body, strlen(body));
    free(body);
    if (rc == 0) rc = sd_meta_commit(db);
    return rc;
}

/* The copy in the stream directory: temp file, fsync, rename, directory fsync. */
static int write_copy(const char *dir, const char *body) {
    size_t blen = strlen(body);
    char sum[17];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)XXH64(body, blen, 0));
    char tmp[8300], dst[8300];
    snprintf(tmp, sizeof tmp, "%s/meta.json.tmp", dir);
    snprintf(dst, sizeof dst, "%s/meta.json", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) abort();
    int rc = 0;
    fprintf(f, "%s%s%s%s}\n", META_PREFIX, sum, META_MID, body);
    if (fflush(f) != 0 || fsync(fd) != 0) rc = -errno;
    fclose(f);
    if (rc == 0 && rename(tmp, dst) != 0) rc = -errno;
    if (rc == 0) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

int js_stream_write_meta(js_stream *st) {
    if (st->cfg.storage != SD_STORAGE_FILE || !st->dir) return 0;
    sd_meta *db = js_meta_db(st->acc->js);
    json_t *m = json_object();
    json_object_set_new(m, "created", js_time_json(st->created));
    json_object_set(m, "config", st->cfg_json);
    char *body = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!body) abort();
    int rc = write_copy(st->dir, body);
    if (rc == 0 && db) {
        char k[600];
        key_of(st->acc->name, st->cfg.name, k, sizeof k);
        rc = sd_meta_put(db, k, body, strlen(body));
        if (rc == 0) rc = sd_meta_commit(db);
        if (rc && sd_meta_fenced(db)) rc = 0; /* reported once by the store; the copy holds */
    }
    free(body);
    if (rc) nx_log(NX_LOG_ERROR, "JetStream: config of stream '%s > %s' not saved: %s", st->acc->name,
                   st->cfg.name, strerror(-rc));
    return rc;
}

void js_stream_remove_meta(js_stream *st) {
    if (st->cfg.storage != SD_STORAGE_FILE || !st->dir) return;
    sd_meta *db = js_meta_db(st->acc->js);
    if (!db) return;
    char k[600];
    key_of(st->acc->name, st->cfg.name, k, sizeof k);
    if (sd_meta_del(db, k) == 0) sd_meta_commit(db);
}

/* ---- reading the copy --------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Reads and verifies <dir>/meta.json: the "meta" object, NULL with err set (ENOENT in *missing). */
static json_t *read_legacy(const char *path, bool *missing, char *err, size_t errlen) {
    size_t len = 0;
    char *buf = slurp(path, &len);
    *missing = !buf && errno == ENOENT;
    if (!buf) {
        snprintf(err, errlen, "meta.json: %s", strerror(errno));
        return NULL;
    }
    size_t pl = strlen(META_PREFIX), ml = strlen(META_MID);
    json_t *meta = NULL;
    if (len < pl + 16 + ml + 2 || memcmp(buf, META_PREFIX, pl) != 0 ||
        memcmp(buf + pl + 16, META_MID, ml) != 0 || buf[len - 1] != '\n' || buf[len - 2] != '}') {
        snprintf(err, errlen, "meta.json: malformed");
    } else {
        const char *body = buf + pl + 16 + ml;
        size_t blen = len - 2 - (size_t)(body - buf);
        char sum[17];
        snprintf(sum, sizeof sum, "%016llx", (unsigned long long)XXH64(body, blen, 0));
        if (memcmp(sum, buf + pl, 16) != 0) {
            snprintf(err, errlen, "meta.json: checksum mismatch");
        } else {
            json_error_t je;
            meta = json_loadb(body, blen, 0, &je);
            if (!json_is_object(meta)) {
                json_decref(meta);
                meta = NULL;
                snprintf(err, errlen, "meta.json: %s", je.text);
            }
        }
    }
    free(buf);
    return meta;
}

/* ---- recovery ---------------------------------------------------------------------------- */

json_t *js_stream_read_meta(js_server *js, const char *acc_name, const char *name,
                            const char *dir, char *err, size_t errlen) {
    sd_meta *db = js_meta_db(js);
    char k[600];
    key_of(acc_name, name, k, sizeof k);
    int rc = db ? -ENOENT : -EIO;
    if (db) {
        uint8_t *val = NULL;
        size_t vlen = 0;
        rc = sd_meta_get(db, k, &val, &vlen);
        if (rc == 0) {
            json_t *meta = json_loadb((const char *)val, vlen, 0, NULL);
            free(val);
            if (json_is_object(meta)) return meta;
            json_decref(meta);
            rc = SD_META_ECORRUPT;
        }
    }
    char path[8300];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    bool missing = false;
    json_t *meta = read_legacy(path, &missing, err, errlen);
    if (rc != -ENOENT) /* damaged record or store: say so, and whether the copy saved it */
        nx_log(NX_LOG_WARN, "JetStream: config record of stream '%s > %s' %s; %s", acc_name, name,
               rc == SD_META_ECORRUPT ? "fails its checksum" : "unavailable (metadata store)",
               meta ? "recovered from the stream directory's copy" : err);
    if (!meta) {
        if (missing) snprintf(err, errlen, "no config (neither record nor meta.json)");
        return NULL;
    }
    if ((rc == -ENOENT || rc == SD_META_ECORRUPT) && db && put_meta(db, k, meta) == 0)
        nx_log(NX_LOG_NOTICE, "JetStream: config of stream '%s > %s' written to the metadata store",
               acc_name, name); /* an older data directory, or repaired from the copy */
    return meta;
}
