/* Consumer state of the file store (Go nats-server v2.14.5 server/filestore.go
 * consumerFileStore): the state is kept by a memory consumer store and written to
 * <stream dir>/obs/<name>/o.dat in Go's consumer state encoding (encodeConsumerState, version
 * 2) after every change: written to o.dat.tmp, synced, renamed over o.dat, directory synced
 * (the syncs only with SD_FS_SYNC_ALWAYS).  Opening a consumer store that has an o.dat loads
 * it.  Go's meta.inf (consumer config) is not written: the owner keeps consumer configs.
 * With encryption at rest the file is sealed with the stream's data key (fs_blob_seal; Go
 * encrypts it too); a plaintext o.dat (written before encryption was on) still loads.
 * After sd_filestore_consumer_external (JetStream: the state goes to the LMDB metadata
 * store, storaged/sd_meta.h, at the group commit) nothing is written and no directory made;
 * an o.dat of an older data directory is loaded (the owner migrates and removes it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storaged/filestore_int.h"

struct fs_consumer {
    sd_consumer_store base;
    sd_consumer_store *inner;
    char *dir;  /* obs/<name> */
    char *path; /* obs/<name>/o.dat */
    sd_store_env env;
    sd_fs_sync_mode sync;
    bool closed;
    bool external; /* external_state: never write o.dat */
    bool had_file; /* o.dat existed at open */
    int err;    /* last persistence error */
    int cipher; /* encryption at rest: the stream's cipher and data key (copied) */
    uint8_t key[32];
};

static const sd_consumer_store_ops fc_ops;

static inline fs_consumer *fc_of(sd_consumer_store *o) {
    return (fs_consumer *)o;
}

int fs_rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? 0 : (unlink(path) == 0 ? 0 : -errno);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) != 0) continue;
        int r = S_ISDIR(sb.st_mode) ? fs_rm_rf(p) : (unlink(p) == 0 ? 0 : -errno);
        if (r && !rc) rc = r;
    }
    closedir(d);
    if (rmdir(path) != 0 && !rc) rc = -errno;
    return rc;
}

static int64_t fc_now(const fs_consumer *o) {
    if (o->env.now_ns) return o->env.now_ns(o->env.now_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fc_encode(fs_consumer *o, uint8_t **buf, size_t *len) {
    sd_consumer_state cs;
    int rc = o->inner->ops->state(o->inner, &cs);
    if (rc) return rc;
    *buf = sd_encode_consumer_state(&cs, fc_now(o), len);
    sd_consumer_state_free(&cs);
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fc_persist(fs_consumer *o) {
    if (o->closed) return SD_ERR_STORE_CLOSED;
    if (o->external) return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = fc_encode(o, &buf, &len);
    if (rc) return rc;
    if (o->cipher) {
        uint8_t *sealed;
        size_t sl;
        rc = fs_blob_seal(o->cipher, o->key, "o.dat", buf, len, &sealed, &sl);
        free(buf);
        if (rc) return rc;
        buf = sealed;
        len = sl;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = write_all(fd, buf, len);
    if (rc == 0 && o->sync == SD_FS_SYNC_ALWAYS) rc = fs_fsync(fd, true);
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(tmp, o->path) != 0) rc = -errno;
    if (rc == 0 && o->sync == SD_FS_SYNC_ALWAYS) {
        int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            rc = fs_fsync(dfd, false);
            close(dfd);
        }
    }
    free(buf);
    o->err = rc;
    return rc;
}

static int fc_load(fs_consumer *o) {
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -errno;
    struct stat sb;
    int rc = fstat(fd, &sb) == 0 ? 0 : -errno;
    uint8_t *buf = NULL;
    size_t n = rc ? 0 : (size_t)sb.st_size;
    if (rc == 0) {
        buf = ms_xmalloc(n);
        size_t got = 0;
        while (got < n) {
            ssize_t r = read(fd, buf + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                rc = SD_ERR_CORRUPT_STATE;
                break;
            }
            got += (size_t)r;
        }
    }
    close(fd);
    o->had_file = rc == 0;
    if (rc == 0 && fs_blob_is_sealed(buf, n)) {
        uint8_t *plain;
        size_t pl;
        rc = fs_blob_open(o->cipher, o->key, "o.dat", buf, n, &plain, &pl);
        if (rc == -EBADMSG) rc = SD_ERR_CORRUPT_STATE;
        free(buf);
        buf = rc ? NULL : plain;
        n = rc ? 0 : pl;
    }
    if (rc == 0 && n > 0) {
        sd_consumer_state cs;
        memset(&cs, 0, sizeof cs);
        rc = sd_decode_consumer_state(buf, n, &cs);
        if (rc == 0) rc = o->inner->ops->force_update(o->inner, &cs);
        sd_consumer_state_free(&cs);
    }
    free(buf);
    return rc;
}

int fs_consumer_store_open(sd_filestore *fs, const char *name, const sd_consumer_config *cfg,
                           sd_consumer_store **out) {
    fs_consumer *o = calloc(1, sizeof *o);
    if (!o) ms_panic("out of memory");
    o->base.ops = &fc_ops;
    o->env = fs->env;
    o->sync = fs->fcfg.sync;
    o->cipher = fs->cipher;
    memcpy(o->key, fs->dkey, sizeof o->key);
    size_t n = strlen(fs->dir) + strlen(name) + 16;
    o->dir = ms_xmalloc(n);
    snprintf(o->dir, n, "%s/obs", fs->dir);
    bool new_obs = mkdir(o->dir, 0750) == 0;
    /* New directories are made durable in their parents (the power-loss test found obs/
     * missing after a crash otherwise). */
    if (new_obs) fs_fsync_dir(fs->dir);
    char *obs = o->dir;
    o->dir = ms_xmalloc(n);
    snprintf(o->dir, n, "%s/obs/%s", fs->dir, name);
    o->path = ms_xmalloc(n + 8);
    snprintf(o->path, n + 8, "%s/o.dat", o->dir);
    int rc = 0;
    if (mkdir(o->dir, 0750) == 0)
        fs_fsync_dir(obs);
    else if (errno != EEXIST)
        rc = -errno;
    free(obs);
    if (rc == 0) rc = ms_consumer_store_open(fs->ms, name, cfg, &o->inner);
    if (rc == 0) rc = fc_load(o);
    if (rc) {
        if (o->inner) o->inner->ops->free(o->inner);
        free(o->dir);
        free(o->path);
        free(o);
        return rc;
    }
    *out = &o->base;
    return 0;
}

int sd_filestore_consumer_external(sd_consumer_store *oo) {
    if (!oo || oo->ops != &fc_ops) return -EINVAL;
    fs_consumer *o = fc_of(oo);
    o->external = true;
    if (!o->had_file) { /* the directories open made (when empty) */
        rmdir(o->dir);
        char *slash = strrchr(o->dir, '/');
        if (slash) {
            *slash = 0;
            rmdir(o->dir);
            *slash = '/';
        }
    }
    return 0;
}

static int blob_copy(const uint8_t *in, size_t n, uint8_t **out, size_t *olen) {
    *out = ms_xmalloc(n ? n : 1);
    if (n) memcpy(*out, in, n);
    *olen = n;
    return 0;
}

int sd_filestore_seal(sd_store *st, const char *what, const uint8_t *in, size_t n, uint8_t **out,
                      size_t *olen) {
    if (!st || st->ops->type(st) != SD_STORAGE_FILE) return -EINVAL;
    sd_filestore *fs = fs_of(st);
    if (!fs->cipher) return blob_copy(in, n, out, olen);
    return fs_blob_seal(fs->cipher, fs->dkey, what, in, n, out, olen);
}

int sd_filestore_unseal(sd_store *st, const char *what, const uint8_t *in, size_t n, uint8_t **out,
                        size_t *olen) {
    if (!st || st->ops->type(st) != SD_STORAGE_FILE) return -EINVAL;
    if (!fs_blob_is_sealed(in, n)) return blob_copy(in, n, out, olen);
    sd_filestore *fs = fs_of(st);
    return fs_blob_open(fs->cipher, fs->dkey, what, in, n, out, olen);
}

/* Runs a change on the inner store, then persists the state if it succeeded. */
#define FC_CHANGE(o, call)                                                                         \
    do {                                                                                           \
        if ((o)->closed) return SD_ERR_STORE_CLOSED;                                               \
        int rc_ = (call);                                                                          \
        if (rc_) return rc_;                                                                       \
        return fc_persist(o);                                                                      \
    } while (0)

static int fc_set_starting(sd_consumer_store *oo, uint64_t sseq) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->set_starting(o->inner, sseq));
}

static void fc_update_starting(sd_consumer_store *oo, uint64_t sseq) {
    fs_consumer *o = fc_of(oo);
    if (o->closed) return;
    o->inner->ops->update_starting(o->inner, sseq);
    fc_persist(o);
}

static int fc_reset(sd_consumer_store *oo, uint64_t sseq) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->reset(o->inner, sseq));
}

static bool fc_has_state(sd_consumer_store *oo) {
    fs_consumer *o = fc_of(oo);
    return (o->external && o->had_file) || o->inner->ops->has_state(o->inner);
}

static int fc_update_delivered(sd_consumer_store *oo, uint64_t dseq, uint64_t sseq, uint64_t dc,
                               int64_t ts) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->update_delivered(o->inner, dseq, sseq, dc, ts));
}

static int fc_update_acks(sd_consumer_store *oo, uint64_t dseq, uint64_t sseq) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->update_acks(o->inner, dseq, sseq));
}

static void fc_remove_redelivered_below(sd_consumer_store *oo, uint64_t seq) {
    fs_consumer *o = fc_of(oo);
    if (o->closed) return;
    o->inner->ops->remove_redelivered_below(o->inner, seq);
    fc_persist(o);
}

static int fc_update_config(sd_consumer_store *oo, const sd_consumer_config *cfg) {
    fs_consumer *o = fc_of(oo);
    return o->inner->ops->update_config(o->inner, cfg);
}

static int fc_update(sd_consumer_store *oo, const sd_consumer_state *st) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->update(o->inner, st));
}

static int fc_force_update(sd_consumer_store *oo, const sd_consumer_state *st) {
    fs_consumer *o = fc_of(oo);
    FC_CHANGE(o, o->inner->ops->force_update(o->inner, st));
}

static int fc_state(sd_consumer_store *oo, sd_consumer_state *out) {
    fs_consumer *o = fc_of(oo);
    return o->inner->ops->state(o->inner, out);
}

static int fc_encoded_state(sd_consumer_store *oo, uint8_t **buf, size_t *len) {
    fs_consumer *o = fc_of(oo);
    if (o->closed) return SD_ERR_STORE_CLOSED;
    return fc_encode(o, buf, len);
}

static sd_storage_type fc_type(sd_consumer_store *o) {
    (void)o;
    return SD_STORAGE_FILE;
}

static int fc_stop(sd_consumer_store *oo) {
    fs_consumer *o = fc_of(oo);
    if (o->closed) return 0;
    o->closed = true;
    return o->inner->ops->stop(o->inner);
}

static int fc_delete(sd_consumer_store *oo) {
    fs_consumer *o = fc_of(oo);
    fc_stop(oo);
    return fs_rm_rf(o->dir);
}

static void fc_free(sd_consumer_store *oo) {
    fs_consumer *o = fc_of(oo);
    fc_stop(oo);
    o->inner->ops->free(o->inner);
    explicit_bzero(o->key, sizeof o->key);
    free(o->dir);
    free(o->path);
    free(o);
}

static const sd_consumer_store_ops fc_ops = {
    .set_starting = fc_set_starting,
    .update_starting = fc_update_starting,
    .reset = fc_reset,
    .has_state = fc_has_state,
    .update_delivered = fc_update_delivered,
    .update_acks = fc_update_acks,
    .remove_redelivered_below = fc_remove_redelivered_below,
    .update_config = fc_update_config,
    .update = fc_update,
    .force_update = fc_force_update,
    .state = fc_state,
    .encoded_state = fc_encoded_state,
    .type = fc_type,
    .stop = fc_stop,
    .delete_ = fc_delete,
    .stream_delete = fc_stop,
    .free = fc_free,
};
