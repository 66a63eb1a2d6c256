/* Stream snapshots and restores (Go nats-server v2.14.5 server/filestore.go Snapshot /
 * streamSnapshot, and the restore half of server/stream.go processStreamRestore).
 *
 * A snapshot is written synchronously to an unlinked temporary file (stores are
 * single-threaded; the JetStream layer then reads it in chunks at its own pace).  The
 * messages are not copied block by block as Go does: they are written as a fresh, compact log
 * (a block header, message records, skips for trailing deletes; interior deletes are the gaps
 * that replay fills) built through the store interface, so the same code serves memory and
 * file stores, and the archive holds no tombstones, erased records or compression/encryption
 * artefacts (like Go's, it is plaintext: restore with any key).  Archive layout: store.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "storaged/filestore_int.h"

#define SNAP_INF "snapshot.inf"
#define SNAP_SUM "snapshot.sum"
#define SNAP_VERSION 1

/* --- Writing ------------------------------------------------------------------------- */

typedef struct snap_w {
    fs_arw ar;
    char *sums; /* snapshot.sum text */
    size_t slen, scap;
    int64_t mtime;
    /* Extra file names already written (dir files of the same name are skipped). */
    const sd_snapshot_opts *opts;
    sd_filestore *fs; /* NULL: a memory store */
} snap_w;

static void sums_add(snap_w *w, const char *name, const uint8_t *data, size_t len) {
    char line[512];
    int n = snprintf(line, sizeof line, "%016" PRIx64 " %zu %s\n", (uint64_t)XXH64(data, len, 0),
                     len, name);
    if (n <= 0 || (size_t)n >= sizeof line) return;
    if (w->slen + (size_t)n + 1 > w->scap) {
        w->scap = (w->scap + (size_t)n + 1) * 2;
        w->sums = realloc(w->sums, w->scap);
        if (!w->sums) ms_panic("out of memory");
    }
    memcpy(w->sums + w->slen, line, (size_t)n);
    w->slen += (size_t)n;
}

static int member(snap_w *w, const char *name, const uint8_t *data, size_t len) {
    sums_add(w, name, data, len);
    return fs_arw_file(&w->ar, name, data, len, w->mtime);
}

/* A file of `path`, whole. */
static int slurp(const char *path, uint8_t **buf, size_t *n) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat sb;
    int rc = fstat(fd, &sb) == 0 ? 0 : -errno;
    *n = rc ? 0 : (size_t)sb.st_size;
    *buf = ms_xmalloc(*n + 1);
    size_t got = 0;
    while (rc == 0 && got < *n) {
        ssize_t r = pread(fd, *buf + got, *n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) rc = r < 0 ? -errno : -EIO;
        got += r > 0 ? (size_t)r : 0;
    }
    close(fd);
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static bool is_extra(const sd_snapshot_opts *o, const char *name) {
    for (size_t i = 0; o && i < o->num_files; i++)
        if (strcmp(o->files[i].name, name) == 0) return true;
    return false;
}

/* Regular files of dir (not starting with '.'), as members prefix/name. */
static int add_dir_files(snap_w *w, const char *dir, const char *prefix, bool top) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -errno;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        /* Not the lock, nor the key file (the archive is plaintext, as Go's), nor temporary
         * files. */
        size_t dl = strlen(e->d_name);
        if (top && (strcmp(e->d_name, "LOCK") == 0 || strcmp(e->d_name, SNAP_INF) == 0 ||
                    strcmp(e->d_name, SNAP_SUM) == 0 || strncmp(e->d_name, "key.enc", 7) == 0 ||
                    (dl > 4 && strcmp(e->d_name + dl - 4, ".tmp") == 0)))
            continue;
        char path[4096], name[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int nl = snprintf(name, sizeof name, "%s%s", prefix, e->d_name);
        if (nl <= 0 || (size_t)nl >= sizeof name - 1) continue;
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (top && is_extra(w->opts, name)) continue;
        uint8_t *buf;
        size_t n;
        if (slurp(path, &buf, &n) != 0) continue; /* vanished meanwhile */
        if (!top && w->fs && fs_blob_is_sealed(buf, n)) {
            /* Encrypted consumer state: the archive is plaintext. */
            uint8_t *plain;
            size_t pl;
            rc = fs_blob_open(w->fs->cipher, w->fs->dkey, e->d_name, buf, n, &plain, &pl);
            free(buf);
            if (rc) break;
            buf = plain;
            n = pl;
        }
        rc = member(w, name, buf, n);
        free(buf);
    }
    closedir(d);
    return rc;
}

static int add_consumers(snap_w *w, const char *sdir) {
    char obs[4096];
    snprintf(obs, sizeof obs, "%s/obs", sdir);
    DIR *d = opendir(obs);
    if (!d) return errno == ENOENT ? 0 : -errno;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096], prefix[512];
        if (snprintf(path, sizeof path, "%s/%s", obs, e->d_name) >= (int)sizeof path) continue;
        int n = snprintf(prefix, sizeof prefix, "obs/%s/", e->d_name);
        if (n <= 0 || (size_t)n >= sizeof prefix) continue;
        rc = add_dir_files(w, path, prefix, false);
    }
    closedir(d);
    return rc;
}

/* The messages as blocks of about block_size bytes. */
static int add_blocks(snap_w *w, sd_store *st, const sd_stream_state *ss, uint64_t block_size) {
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    uint32_t index = 1;
    int rc = 0;
    uint64_t last = 0; /* last sequence written */
    int64_t last_ts = 0;
#define RESERVE(n)                                                                                 \
    do {                                                                                           \
        if (len + (n) > cap) {                                                                     \
            cap = (len + (n)) * 2;                                                                 \
            buf = realloc(buf, cap);                                                               \
            if (!buf) ms_panic("out of memory");                                                   \
        }                                                                                          \
    } while (0)
    /* First block header: the stream's last sequence before its first message. */
    RESERVE(FS_REC_MIN);
    if (ss->msgs == 0)
        fs_put_rec(buf, FS_REC_BLK, ss->last_seq, ss->last_ts, index, NULL, 0, NULL, 0, NULL, 0);
    else
        fs_put_rec(buf, FS_REC_BLK, ss->first_seq - 1, ss->first_ts, index, NULL, 0, NULL, 0, NULL,
                   0);
    len = FS_REC_MIN;
    last = ss->msgs ? ss->first_seq - 1 : ss->last_seq;
    sd_store_msg sm = {0};
    uint64_t seq = 0;
    for (uint64_t start = ss->first_seq; ss->msgs && rc == 0; start = seq + 1) {
        int lr = st->ops->load_next_msg(st, ">", true, start, &sm, &seq);
        if (lr == SD_ERR_STORE_EOF || lr == SD_ERR_MSG_NOT_FOUND) break;
        if (lr) {
            rc = lr;
            break;
        }
        size_t rl = FS_REC_MIN + sm.subj_len + sm.hdr_len + sm.msg_len;
        if (len > FS_REC_MIN && len + rl > block_size) {
            char name[64];
            snprintf(name, sizeof name, "msgs/%08u.blk", index);
            if ((rc = member(w, name, buf, len))) break;
            index++;
            len = 0;
            RESERVE(FS_REC_MIN);
            fs_put_rec(buf, FS_REC_BLK, last, last_ts, index, NULL, 0, NULL, 0, NULL, 0);
            len = FS_REC_MIN;
        }
        int64_t ttl = 0;
        if (sm.hdr_len && (sd_get_message_ttl(sm.hdr, sm.hdr_len, &ttl) != 0 || ttl < 0)) ttl = 0;
        RESERVE(rl);
        fs_put_rec(buf + len, FS_REC_MSG, sm.seq, sm.ts, ttl, sm.subj, sm.subj_len, sm.hdr,
                   sm.hdr_len, sm.msg, sm.msg_len);
        len += rl;
        last = sm.seq;
        last_ts = sm.ts;
    }
    sd_store_msg_free(&sm);
    if (rc == 0 && ss->last_seq > last) {
        /* Trailing deletes (or skips): the stream's last sequence and time. */
        RESERVE(FS_REC_MIN);
        fs_put_rec(buf + len, FS_REC_SKIPS, last + 1, ss->last_ts, (int64_t)(ss->last_seq - last),
                   NULL, 0, NULL, 0, NULL, 0);
        len += FS_REC_MIN;
    }
    if (rc == 0) {
        char name[64];
        snprintf(name, sizeof name, "msgs/%08u.blk", index);
        rc = member(w, name, buf, len);
    }
#undef RESERVE
    free(buf);
    return rc;
}

static int tmp_file(const char *dir) {
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[4096];
    snprintf(path, sizeof path, "%s/.snapshot-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) return -errno;
    unlink(path);
    return fd;
}

static bool bad_member_name(const char *name);

int sd_store_snapshot(sd_store *st, const sd_snapshot_opts *opts, sd_snapshot_result *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    bool file = st->ops->type(st) == SD_STORAGE_FILE;
    sd_filestore *fs = file ? fs_of(st) : NULL;
    if (file ? fs->closed : ms_of(st)->closed) return SD_ERR_STORE_CLOSED;
    for (size_t i = 0; opts && i < opts->num_files; i++) {
        const char *n = opts->files[i].name;
        if (!n || bad_member_name(n) || strlen(n) > 200 || strcmp(n, SNAP_INF) == 0 ||
            strcmp(n, SNAP_SUM) == 0 || strncmp(n, "msgs/", 5) == 0)
            return -EINVAL;
    }
    int rc = 0;
    if (fs) {
        /* Everything logged so far is on disk (consumer files are written as they change). */
        if ((rc = fs_sync(fs))) return rc;
        if (opts && opts->check_msgs && (rc = fs_check_blocks(fs))) return rc;
    }
    const char *tmp = opts && opts->tmp_dir ? opts->tmp_dir : NULL;
    if (!tmp) tmp = fs ? fs->dir : getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    int fd = tmp_file(tmp);
    if (fd < 0) return fd;

    sd_stream_state ss;
    st->ops->state(st, &ss);
    snap_w w = {.opts = opts, .fs = fs};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    w.mtime = now.tv_sec;
    fs_arw_init(&w.ar, fd);
    char inf[512];
    int il = snprintf(inf, sizeof inf,
                      "nxfs-snapshot %d\nmsgs %" PRIu64 "\nbytes %" PRIu64 "\nfirst_seq %" PRIu64
                      "\nlast_seq %" PRIu64 "\nfirst_ts %" PRId64 "\nlast_ts %" PRId64
                      "\nnum_deleted %" PRIu64 "\n",
                      SNAP_VERSION, ss.msgs, ss.bytes, ss.first_seq, ss.last_seq, ss.first_ts,
                      ss.last_ts, ss.num_deleted);
    rc = member(&w, SNAP_INF, (const uint8_t *)inf, (size_t)il);
    for (size_t i = 0; rc == 0 && opts && i < opts->num_files; i++)
        rc = member(&w, opts->files[i].name, opts->files[i].data, opts->files[i].len);
    if (rc == 0 && fs) rc = add_dir_files(&w, fs->dir, "", true);
    if (rc == 0) rc = add_blocks(&w, st, &ss, fs ? fs->fcfg.block_size : SD_FS_DEFAULT_BLOCK_SIZE);
    if (rc == 0 && fs && opts && opts->include_consumers) rc = add_consumers(&w, fs->dir);
    if (rc == 0) rc = fs_arw_file(&w.ar, SNAP_SUM, (const uint8_t *)w.sums, w.slen, w.mtime);
    if (rc == 0)
        rc = fs_arw_finish(&w.ar);
    else
        fs_arw_discard(&w.ar);
    free(w.sums);
    sd_stream_state_free(&ss);
    if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0) rc = -errno;
    if (rc) {
        close(fd);
        return rc;
    }
    out->fd = fd;
    out->size = w.ar.total;
    st->ops->fast_state(st, &out->state);
    return 0;
}

void sd_snapshot_result_free(sd_snapshot_result *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    sd_stream_state_free(&r->state);
}

int sd_store_copy_msgs(sd_store *src, sd_store *dst) {
    sd_stream_state ss = {0}, ds = {0};
    src->ops->fast_state(src, &ss);
    dst->ops->fast_state(dst, &ds);
    bool fresh = ds.msgs == 0 && ds.last_seq == 0;
    sd_stream_state_free(&ds);
    if (!fresh) {
        sd_stream_state_free(&ss);
        return -EEXIST;
    }
    int rc = 0;
    uint64_t last = 0, seq = 0;
    sd_store_msg sm = {0};
    for (uint64_t start = ss.first_seq; ss.msgs && rc == 0; start = seq + 1) {
        int lr = src->ops->load_next_msg(src, ">", true, start, &sm, &seq);
        if (lr == SD_ERR_STORE_EOF || lr == SD_ERR_MSG_NOT_FOUND) break;
        if (lr) {
            rc = lr;
            break;
        }
        if (sm.seq > last + 1 && (rc = dst->ops->skip_msgs(dst, last + 1, sm.seq - last - 1)))
            break;
        int64_t ttl = 0;
        if (sm.hdr_len && (sd_get_message_ttl(sm.hdr, sm.hdr_len, &ttl) != 0 || ttl < 0)) ttl = 0;
        rc = dst->ops->store_raw_msg(dst, sm.subj, sm.subj_len, sm.hdr, sm.hdr_len, sm.msg,
                                     sm.msg_len, sm.seq, sm.ts, ttl, false);
        last = sm.seq;
    }
    sd_store_msg_free(&sm);
    if (rc == 0 && ss.last_seq > last) rc = dst->ops->skip_msgs(dst, last + 1, ss.last_seq - last);
    if (rc == 0 && dst->ops->type(dst) == SD_STORAGE_MEMORY && ss.last_seq > last)
        ms_of(dst)->last_ts = ss.last_ts; /* skips take "now" */
    sd_stream_state_free(&ss);
    return rc;
}

/* Go checkMsgs: every block reads back with valid checksums, and no data was found lost. */
int fs_check_blocks(sd_filestore *fs) {
    if (fs->nlost || fs->lost_bytes) return SD_ERR_CORRUPT_STREAM_STATE;
    for (size_t i = 0; i < fs->nblks; i++) {
        uint8_t *buf = NULL;
        size_t n = 0;
        int rc = fs_read_block(fs, fs->blks[i].index, &buf, &n);
        for (size_t off = 0; rc == 0 && off < n;) {
            fs_rec r;
            int64_t len = fs_parse_rec(buf + off, n - off, &r);
            if (len <= 0) rc = SD_ERR_CORRUPT_STREAM_STATE;
            off += len > 0 ? (size_t)len : 0;
        }
        free(buf);
        if (rc) return rc;
    }
    return 0;
}

/* --- Restoring ---------------------------------------------------------------------- */

typedef struct rs_member {
    char *name;
    uint64_t size, hash;
} rs_member;

struct sd_restore {
    char *dir, *tmp;
    fs_arr ar;
    int err;
    int fd; /* the member being written */
    XXH64_state_t *h;
    rs_member *m; /* members seen (snapshot.sum excluded) */
    size_t nm, mcap;
    int buffering; /* 0: to a file; 1: snapshot.inf; 2: snapshot.sum */
    uint8_t *inf, *sum;
    size_t inf_len, sum_len;
    uint64_t cur_size;
};

static bool bad_component(const char *s, size_t n) {
    if (n == 0 || n > 255) return true;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\\' || (unsigned char)s[i] < 0x20) return true;
    return false;
}

/* Accepted: a top-level file, msgs/<digits>.blk, obs/<consumer>/<file>. */
static bool bad_member_name(const char *name) {
    const char *comp[4];
    size_t len[4], nc = 0;
    for (const char *p = name;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (nc == 3 || bad_component(p, n)) return true;
        comp[nc] = p;
        len[nc++] = n;
        if (!e) break;
        p = e + 1;
    }
    if (nc == 1) return len[0] == 4 && memcmp(comp[0], "LOCK", 4) == 0;
    if (nc == 2) {
        if (len[0] != 4 || memcmp(comp[0], "msgs", 4) != 0) return true;
        size_t d = 0;
        while (d < len[1] && comp[1][d] >= '0' && comp[1][d] <= '9')
            d++;
        return d == 0 || d > 10 || len[1] != d + 4 || memcmp(comp[1] + d, ".blk", 4) != 0;
    }
    return len[0] != 3 || memcmp(comp[0], "obs", 3) != 0;
}

static int rs_begin(void *arg, const char *name, uint64_t size) {
    sd_restore *r = arg;
    if (bad_member_name(name)) return SD_ERR_CORRUPT_STREAM_STATE;
    for (size_t i = 0; i < r->nm; i++)
        if (strcmp(r->m[i].name, name) == 0) return SD_ERR_CORRUPT_STREAM_STATE;
    if (strcmp(name, SNAP_SUM) == 0 && r->sum) return SD_ERR_CORRUPT_STREAM_STATE;
    r->cur_size = size;
    XXH64_reset(r->h, 0);
    if (strcmp(name, SNAP_SUM) == 0 || strcmp(name, SNAP_INF) == 0) {
        if (size > (64u << 20)) return SD_ERR_CORRUPT_STREAM_STATE;
        r->buffering = strcmp(name, SNAP_INF) == 0 ? 1 : 2;
        uint8_t *b = ms_xmalloc((size_t)size + 1);
        b[size] = 0;
        if (r->buffering == 1) {
            r->inf = b;
            r->inf_len = 0;
        } else {
            r->sum = b;
            r->sum_len = 0;
        }
    } else {
        r->buffering = 0;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", r->tmp, name);
        if (n <= 0 || (size_t)n >= sizeof path) return -ENAMETOOLONG;
        /* parents (msgs/, obs/, obs/<consumer>/) */
        for (char *s = path + strlen(r->tmp) + 1; (s = strchr(s, '/')); s++) {
            *s = '\0';
            int mr = mkdir(path, 0750);
            *s = '/';
            if (mr != 0 && errno != EEXIST) return -errno;
        }
        r->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (r->fd < 0) return -errno;
    }
    if (r->nm == r->mcap) {
        r->mcap = r->mcap ? r->mcap * 2 : 16;
        r->m = realloc(r->m, r->mcap * sizeof *r->m);
        if (!r->m) ms_panic("out of memory");
    }
    if (r->buffering != 2) {
        size_t nl = strlen(name) + 1;
        r->m[r->nm].name = ms_xmalloc(nl);
        memcpy(r->m[r->nm].name, name, nl);
        r->m[r->nm].size = size;
        r->m[r->nm].hash = 0;
        r->nm++;
    }
    return 0;
}

static int rs_data(void *arg, const uint8_t *p, size_t n) {
    sd_restore *r = arg;
    if (r->buffering == 1) {
        memcpy(r->inf + r->inf_len, p, n);
        r->inf_len += n;
    } else if (r->buffering == 2) {
        memcpy(r->sum + r->sum_len, p, n);
        r->sum_len += n;
        return 0;
    } else {
        while (n > 0) {
            ssize_t w = write(r->fd, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return -errno;
            XXH64_update(r->h, p, (size_t)w);
            p += w;
            n -= (size_t)w;
        }
        return 0;
    }
    XXH64_update(r->h, p, n);
    return 0;
}

static int rs_end(void *arg) {
    sd_restore *r = arg;
    int rc = 0;
    if (r->buffering == 0) {
        if (fdatasync(r->fd) != 0) rc = -errno;
        close(r->fd);
        r->fd = -1;
    }
    if (r->buffering != 2) r->m[r->nm - 1].hash = XXH64_digest(r->h);
    r->buffering = 0;
    return rc;
}

int sd_restore_begin(const char *dir, sd_restore **out) {
    *out = NULL;
    if (!dir || !*dir) return -EINVAL;
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        DIR *d = opendir(dir);
        if (!d) return -errno;
        struct dirent *e;
        bool empty = true;
        while (empty && (e = readdir(d)))
            empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        closedir(d);
        if (!empty) return -EEXIST;
    }
    sd_restore *r = calloc(1, sizeof *r);
    if (!r) ms_panic("out of memory");
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    r->dir = ms_xmalloc(n + 1);
    memcpy(r->dir, dir, n);
    r->dir[n] = '\0';
    r->tmp = ms_xmalloc(n + 16);
    snprintf(r->tmp, n + 16, "%s.partial", r->dir);
    r->fd = -1;
    fs_rm_rf(r->tmp); /* an earlier attempt that died */
    /* parents of dir, then the partial directory */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", r->tmp);
    for (char *s = buf + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST) break;
        *s = '/';
    }
    if (mkdir(r->tmp, 0750) != 0) {
        int rc = -errno;
        free(r->dir);
        free(r->tmp);
        free(r);
        return rc;
    }
    r->h = XXH64_createState();
    if (!r->h) ms_panic("out of memory");
    fs_arr_cbs cbs = {rs_begin, rs_data, rs_end};
    fs_arr_init(&r->ar, &cbs, r);
    *out = r;
    return 0;
}

int sd_restore_write(sd_restore *r, const void *data, size_t len) {
    if (r->err) return r->err;
    return r->err = fs_arr_feed(&r->ar, data, len);
}

static void rs_free(sd_restore *r, bool remove_tmp) {
    if (r->fd >= 0) close(r->fd);
    if (remove_tmp) fs_rm_rf(r->tmp);
    fs_arr_free(&r->ar);
    XXH64_freeState(r->h);
    for (size_t i = 0; i < r->nm; i++)
        free(r->m[i].name);
    free(r->m);
    free(r->inf);
    free(r->sum);
    free(r->dir);
    free(r->tmp);
    free(r);
}

void sd_restore_abort(sd_restore *r) {
    if (r) rs_free(r, true);
}

static bool inf_get(const char *inf, const char *key, uint64_t *v) {
    size_t kl = strlen(key);
    for (const char *p = inf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            char *end;
            errno = 0;
            *v = strtoull(p + kl + 1, &end, 10);
            return errno == 0 && end != p + kl + 1 && (*end == '\n' || *end == '\0');
        }
    }
    return false;
}

/* Every member listed in snapshot.sum with its size and hash, and nothing else. */
static const char *check_sums(sd_restore *r) {
    size_t listed = 0;
    char *s = (char *)r->sum;
    s[r->sum_len] = '\0';
    for (char *line = s; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) return "snapshot.sum: unterminated line";
        *nl = '\0';
        char *e1, *e2;
        errno = 0;
        uint64_t h = strtoull(line, &e1, 16);
        if (errno || e1 != line + 16 || *e1 != ' ') return "snapshot.sum: bad line";
        uint64_t size = strtoull(e1 + 1, &e2, 10);
        if (errno || e2 == e1 + 1 || *e2 != ' ') return "snapshot.sum: bad line";
        const char *name = e2 + 1;
        size_t i = 0;
        while (i < r->nm && strcmp(r->m[i].name, name) != 0)
            i++;
        if (i == r->nm) return "snapshot.sum lists a missing member";
        if (r->m[i].size != size || r->m[i].hash != h) return "member checksum mismatch";
        listed++;
        line = nl + 1;
    }
    return listed == r->nm ? NULL : "member not listed in snapshot.sum";
}

static void fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int rs_fail(sd_restore *r, sd_restore_info *info, int rc, const char *why) {
    if (info && snprintf(info->error, sizeof info->error, "restore failed: %s", why) < 0)
        info->error[0] = '\0';
    rs_free(r, true);
    return rc;
}

int sd_restore_finish(sd_restore *r, sd_restore_info *info) {
    if (info) memset(info, 0, sizeof *info);
    int rc = r->err ? r->err : fs_arr_done(&r->ar);
    if (rc) {
        char why[192];
        snprintf(why, sizeof why, "%s", r->ar.why[0] ? r->ar.why : sd_strerror(rc));
        return rs_fail(r, info, rc, why);
    }
    uint64_t ver = 0, msgs = 0, first = 0, last = 0;
    if (!r->inf || !r->sum)
        return rs_fail(r, info, SD_ERR_CORRUPT_STREAM_STATE, "snapshot.inf or .sum missing");
    r->inf[r->inf_len] = '\0';
    if (strncmp((char *)r->inf, "nxfs-snapshot ", 14) != 0 ||
        !inf_get((char *)r->inf, "nxfs-snapshot", &ver) ||
        !inf_get((char *)r->inf, "msgs", &msgs) || !inf_get((char *)r->inf, "first_seq", &first) ||
        !inf_get((char *)r->inf, "last_seq", &last))
        return rs_fail(r, info, SD_ERR_CORRUPT_STREAM_STATE, "bad snapshot.inf");
    if (ver != SNAP_VERSION) return rs_fail(r, info, SD_ERR_UNSUPPORTED_VERSION, "version");
    const char *why = check_sums(r);
    if (why) return rs_fail(r, info, SD_ERR_CORRUPT_STREAM_STATE, why);
    /* Open it: recovery verifies every record; the state must be the snapshot's. */
    sd_filestore_config fc = {.dir = r->tmp, .sync = SD_FS_SYNC_ALWAYS};
    sd_stream_config cfg = {.name = "restore", .storage = SD_STORAGE_FILE};
    sd_store *st = NULL;
    rc = sd_filestore_open(&fc, &cfg, NULL, &st);
    if (rc) return rs_fail(r, info, rc, "cannot open the restored store");
    sd_stream_state ss;
    sd_store_state(st, &ss);
    bool same = ss.msgs == msgs && ss.first_seq == first && ss.last_seq == last &&
                ss.lost_len == 0 && ss.lost_bytes == 0;
    if (info) {
        info->msgs = ss.msgs;
        info->bytes = ss.bytes;
        info->first_seq = ss.first_seq;
        info->last_seq = ss.last_seq;
    }
    sd_stream_state_free(&ss);
    rc = sd_store_stop(st);
    sd_store_free(st);
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/LOCK", r->tmp);
    unlink(lock);
    if (!same) return rs_fail(r, info, SD_ERR_CORRUPT_STREAM_STATE, "restored state differs");
    if (rc) return rs_fail(r, info, rc, "sync failed");
    /* Durable, then in place. */
    char path[4096];
    snprintf(path, sizeof path, "%s/msgs", r->tmp);
    fsync_path(path);
    snprintf(path, sizeof path, "%s/obs", r->tmp);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                fsync_path(sub);
        }
        closedir(d);
        fsync_path(path);
    }
    fsync_path(r->tmp);
    if (rename(r->tmp, r->dir) != 0) {
        rc = -errno;
        return rs_fail(r, info, rc, "cannot move the restored directory into place");
    }
    char *slash = strrchr(r->dir, '/');
    if (slash && slash != r->dir) {
        *slash = '\0';
        fsync_path(r->dir);
        *slash = '/';
    } else if (!slash) {
        fsync_path(".");
    }
    if (info) {
        snprintf(path, sizeof path, "%s/meta.inf", r->dir);
        if (slurp(path, &info->meta, &info->meta_len) != 0) {
            info->meta = NULL;
            info->meta_len = 0;
        }
    }
    rs_free(r, false);
    return 0;
}

void sd_restore_info_free(sd_restore_info *info) {
    if (!info) return;
    free(info->meta);
    info->meta = NULL;
    info->meta_len = 0;
}
