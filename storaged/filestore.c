/* File store: open/close, storing and removing, and the sd_store_ops table.
 *
 * Ports the behaviour of Go nats-server v2.14.5 server/filestore.go (fileStore) at the
 * StreamStore interface.  Queries are answered by the inner memory store (which holds the
 * index of the messages, rebuilt from the blocks on open; bodies are read back from the blocks
 * through a bounded cache, filestore_cache.c); every change is logged as records
 * (filestore_log.c) and, by default, fsynced before the call returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/duration.h"
#include "storaged/filestore_int.h"

static const sd_store_ops fs_ops;

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = ms_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

static int mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST) return -errno;
        buf[i] = c;
    }
    return 0;
}

/* The inner store's copy of cfg: memory storage. */
static sd_stream_config inner_cfg(const sd_stream_config *cfg) {
    sd_stream_config c = *cfg;
    c.storage = SD_STORAGE_MEMORY;
    return c;
}

int sd_filestore_parse_sync(const char *s, sd_fs_sync_mode *mode, int64_t *interval_ns) {
    if (!s || !*s || strcmp(s, "always") == 0) {
        *mode = SD_FS_SYNC_ALWAYS;
        *interval_ns = 0;
        return 0;
    }
    int64_t ns;
    if (nx_parse_duration(s, &ns) != 0 || ns <= 0) return -EINVAL;
    *mode = SD_FS_SYNC_INTERVAL;
    *interval_ns = ns;
    return 0;
}

int sd_filestore_open(const sd_filestore_config *fcfg, const sd_stream_config *cfg,
                      const sd_store_env *env, sd_store **out) {
    if (!cfg) return SD_ERR_CONFIG_REQUIRED;
    if (cfg->storage != SD_STORAGE_FILE) return SD_ERR_WRONG_TYPE;
    if (!fcfg || !fcfg->dir || !*fcfg->dir) return -EINVAL;
    sd_filestore *fs = calloc(1, sizeof *fs);
    if (!fs) ms_panic("out of memory");
    fs->base.ops = &fs_ops;
    fs->fcfg = *fcfg;
    if (!fs->fcfg.block_size) fs->fcfg.block_size = SD_FS_DEFAULT_BLOCK_SIZE;
    if (!fs->fcfg.cache_max) fs->fcfg.cache_max = SD_FS_DEFAULT_CACHE;
    fs->cache_max = fs->fcfg.cache_max;
    if (fs->fcfg.sync == SD_FS_SYNC_INTERVAL && fs->fcfg.sync_interval_ns <= 0)
        fs->fcfg.sync_interval_ns = 120 * 1000000000LL;
    fs->dir = xstrdup(fcfg->dir);
    fs->fcfg.dir = fs->dir;
    /* The key is copied (and wiped on free); the config keeps no pointer to the caller's. */
    size_t klen = fcfg->key ? (fcfg->key_len ? fcfg->key_len : strlen(fcfg->key)) : 0;
    if (klen) {
        fs->key = ms_xmalloc(klen);
        memcpy(fs->key, fcfg->key, klen);
        fs->key_len = klen;
        if (fs->fcfg.cipher == SD_FS_CIPHER_NONE) fs->fcfg.cipher = SD_FS_CIPHER_CHACHAPOLY;
    }
    fs->fcfg.key = NULL;
    fs->fcfg.key_len = 0;
    size_t n = strlen(fs->dir) + 8;
    fs->mdir = ms_xmalloc(n);
    snprintf(fs->mdir, n, "%s/msgs", fs->dir);
    fs->cur_fd = fs->mdir_fd = fs->lock_fd = -1;
    if (env) fs->env = *env;
    if (fs->fcfg.sync == SD_FS_SYNC_INTERVAL) fs->last_sync = fs_now(fs);
    int rc = klen == 0 && fs->fcfg.cipher != SD_FS_CIPHER_NONE ? -EINVAL : 0;
    if (fs->fcfg.cipher != SD_FS_CIPHER_NONE && fs->fcfg.cipher != SD_FS_CIPHER_CHACHAPOLY &&
        fs->fcfg.cipher != SD_FS_CIPHER_AES)
        rc = -EINVAL;
    if (rc == 0) rc = mkdir_p(fs->mdir);
    if (rc == 0 && (fs->mdir_fd = open(fs->mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0) {
        /* One store per directory: a second opener (another process, or this one) fails. */
        char lp[4096];
        snprintf(lp, sizeof lp, "%s/LOCK", fs->dir);
        if ((fs->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
            rc = -errno;
        else if (flock(fs->lock_fd, LOCK_EX | LOCK_NB) != 0)
            rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
    }
    if (rc == 0) {
        /* The stream directory's entries (msgs/, LOCK, key.enc) durable from the start. */
        fs_fsync_dir(fs->dir);
        fs_remove_temps(fs); /* rewrites that a crash interrupted before their rename */
        rc = fs_load_keys(fs, cfg->name);
    }
    /* Replay without limits, then apply the real config (which enforces them). */
    sd_stream_config ic = inner_cfg(cfg);
    ic.max_msgs = ic.max_bytes = ic.max_msgs_per = 0;
    ic.max_age_ns = 0;
    ic.first_seq = 0; /* an existing store keeps its sequences (block headers restore them) */
    sd_store_env ienv = {.now_ns = fs_inner_now, .now_arg = fs};
    if (rc == 0) rc = sd_memstore_open(&ic, &ienv, &fs->inner);
    if (rc == 0) {
        fs->ms = ms_of(fs->inner);
        fs->ms->file_sizes = true; /* bytes as Go's file store counts them */
        /* Bodies stay in the blocks; the inner store keeps the index (filestore_cache.c). */
        fs->ms->load_body = fs_load_body;
        fs->ms->load_arg = fs;
        sd_store_callbacks icb = {.storage_update = fs_inner_update, .storage_update_arg = fs};
        sd_store_register_callbacks(fs->inner, &icb);
        rc = fs_recover(fs, cfg->first_seq);
    }
    if (rc == 0) {
        ic = inner_cfg(cfg);
        fs_op_begin(fs);
        rc = sd_store_update_config(fs->inner, &ic);
        int rc2 = fs_op_end(fs);
        if (!rc) rc = rc2;
    }
    if (rc) {
        sd_store_free(&fs->base);
        return rc;
    }
    *out = &fs->base;
    return 0;
}

int sd_filestore_parse_cipher(const char *s, sd_fs_cipher *out) {
    if (s && (strcasecmp(s, "chachapoly") == 0 || strcasecmp(s, "chacha") == 0 ||
              strcasecmp(s, "chacha20-poly1305") == 0)) {
        *out = SD_FS_CIPHER_CHACHAPOLY;
        return 0;
    }
    if (s && (strcasecmp(s, "aes") == 0 || strcasecmp(s, "aes-gcm") == 0)) {
        *out = SD_FS_CIPHER_AES;
        return 0;
    }
    return -EINVAL;
}

int sd_filestore_flush(sd_store *st) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return 0;
    return fs_sync(fs);
}

size_t sd_filestore_num_blocks(sd_store *st) {
    return fs_of(st)->nblks;
}

const char *sd_filestore_dir(sd_store *st) {
    return fs_of(st)->dir;
}

/* --- Storing ----------------------------------------------------------------------- */

static int store_common(sd_filestore *fs, const char *subj, size_t slen, const uint8_t *hdr,
                        size_t hlen, const uint8_t *msg, size_t mlen, uint64_t seq, int64_t ts,
                        int64_t ttl, bool raw, bool discard_new_check) {
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    /* The record goes first (a limit may remove the new message at once: its tombstone must
     * follow it); it is taken back if the memory store refuses the message. */
    uint64_t loc = fs_append(fs, FS_REC_MSG, seq, ts, ttl, subj, slen, hdr, hlen, msg, mlen);
    int rc;
    if (raw) {
        rc = fs->inner->ops->store_raw_msg(fs->inner, subj, slen, hdr, hlen, msg, mlen, seq, ts,
                                           ttl, discard_new_check);
    } else {
        /* Go StoreMsg (the next sequence, now, DiscardNew checked), at the logged time. */
        fs->have_forced = true;
        fs->forced_now = ts;
        rc =
            fs->inner->ops->store_msg(fs->inner, subj, slen, hdr, hlen, msg, mlen, ttl, NULL, NULL);
        fs->have_forced = false;
    }
    if (rc) {
        if (loc && fs->wlen >= fs->last_len) fs->wlen -= fs->last_len;
    } else if (loc) {
        ms_msg *m = sd_seqmap_get(&fs->ms->msgmap, seq);
        if (m) {
            fs_loc_set(fs, seq, loc, m);
            fs_blk *b = fs_blk_of(fs, FS_LOC_BLK(loc));
            if (b) b->live++, b->total++;
        }
    }
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_store_msg(sd_store *st, const char *subj, size_t slen, const uint8_t *hdr,
                        size_t hlen, const uint8_t *msg, size_t mlen, int64_t ttl, uint64_t *seq,
                        int64_t *ts) {
    sd_filestore *fs = fs_of(st);
    uint64_t s = fs->ms->last_seq + 1;
    int64_t t = fs_now(fs);
    int rc = store_common(fs, subj, slen, hdr, hlen, msg, mlen, s, t, ttl, false, true);
    if (rc) s = 0, t = 0;
    if (seq) *seq = s;
    if (ts) *ts = t;
    return rc;
}

static int fs_store_raw_msg(sd_store *st, const char *subj, size_t slen, const uint8_t *hdr,
                            size_t hlen, const uint8_t *msg, size_t mlen, uint64_t seq, int64_t ts,
                            int64_t ttl, bool discard_new_check) {
    sd_filestore *fs = fs_of(st);
    if (seq == 0) seq = fs->ms->last_seq + 1;
    return store_common(fs, subj, slen, hdr, hlen, msg, mlen, seq, ts, ttl, true,
                        discard_new_check);
}

static int skip_common(sd_filestore *fs, uint8_t type, uint64_t seq, uint64_t num, uint64_t *out) {
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    int rc;
    if (type == FS_REC_SKIPS)
        rc = fs->inner->ops->skip_msgs(fs->inner, seq, num);
    else if (type == FS_REC_SKIP_NI)
        rc = fs->inner->ops->skip_msg_no_interest(fs->inner, seq, out);
    else
        rc = fs->inner->ops->skip_msg(fs->inner, seq, out);
    if (rc == 0) {
        uint64_t s = type == FS_REC_SKIPS ? fs->ms->last_seq - num + 1 : fs->ms->last_seq;
        fs_append(fs, type, s, fs->ms->last_ts, (int64_t)num, NULL, 0, NULL, 0, NULL, 0);
    }
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_skip_msg(sd_store *st, uint64_t seq, uint64_t *out) {
    return skip_common(fs_of(st), FS_REC_SKIP, seq, 1, out);
}

static int fs_skip_msg_no_interest(sd_store *st, uint64_t seq, uint64_t *out) {
    return skip_common(fs_of(st), FS_REC_SKIP_NI, seq, 1, out);
}

static int fs_skip_msgs(sd_store *st, uint64_t seq, uint64_t num) {
    if (num == 0) return 0;
    return skip_common(fs_of(st), FS_REC_SKIPS, seq, num, NULL);
}

static int fs_flush_all_pending(sd_store *st) {
    return sd_filestore_flush(st);
}

/* --- Removal ---------------------------------------------------------------------- */

static int remove_common(sd_filestore *fs, uint64_t seq, bool erase) {
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    void *v = NULL;
    bool have = sd_seqmap_find(&fs->loc, seq, &v);
    int rc = erase ? fs->inner->ops->erase_msg(fs->inner, seq)
                   : fs->inner->ops->remove_msg(fs->inner, seq);
    if (rc == 1 && erase && have) {
        int erc = fs_erase_record(fs, (uint64_t)(uintptr_t)v);
        if (erc) rc = erc;
    }
    int rc2 = fs_op_end(fs);
    return rc2 ? rc2 : rc;
}

static int fs_remove(sd_store *st, uint64_t seq) {
    return remove_common(fs_of(st), seq, false);
}

static int fs_erase(sd_store *st, uint64_t seq) {
    return remove_common(fs_of(st), seq, true);
}

static int fs_purge(sd_store *st, uint64_t *purged) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    int rc = fs->inner->ops->purge(fs->inner, purged);
    if (rc == 0) fs_append(fs, FS_REC_PURGE, 0, fs->ms->last_ts, 0, NULL, 0, NULL, 0, NULL, 0);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_compact(sd_store *st, uint64_t seq, uint64_t *purged) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    int rc = fs->inner->ops->compact(fs->inner, seq, purged);
    if (rc == 0) fs_append(fs, FS_REC_COMPACT, seq, fs->ms->last_ts, 0, NULL, 0, NULL, 0, NULL, 0);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_purge_ex(sd_store *st, const char *subj, uint64_t seq, uint64_t keep,
                       uint64_t *purged) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    bool all = !subj || !*subj || strcmp(subj, ">") == 0;
    if (all && keep == 0 && seq == 0) return fs_purge(st, purged);
    if (all && keep == 0 && seq > 1) return fs_compact(st, seq, purged);
    fs_op_begin(fs);
    fs->log_diff = true; /* a tombstone per purged message */
    int rc = fs->inner->ops->purge_ex(fs->inner, subj, seq, keep, purged);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_truncate(sd_store *st, uint64_t seq) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (fs->io_err) return fs->io_err;
    fs_op_begin(fs);
    int rc = fs->inner->ops->truncate(fs->inner, seq);
    if (rc == 0) fs_append(fs, FS_REC_TRUNCATE, seq, fs->ms->last_ts, 0, NULL, 0, NULL, 0, NULL, 0);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

static int fs_sync_deleted(sd_store *st, const sd_delete_block *dbs, size_t n) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    fs_op_begin(fs);
    fs->log_diff = true;
    int rc = fs->inner->ops->sync_deleted(fs->inner, dbs, n);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

/* Lazy sync rides on the owner's expiry timer: a pending sync is due sync_interval after the
 * last one (Go runs a sync timer). */
static int64_t sync_due(const sd_filestore *fs) {
    if (fs->fcfg.sync != SD_FS_SYNC_INTERVAL || fs->closed || fs->io_err) return INT64_MAX;
    if (!fs->dirty && fs->wlen == 0) return INT64_MAX;
    return fs->last_sync + fs->fcfg.sync_interval_ns;
}

static int fs_expire(sd_store *st, int64_t now) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return 0;
    if (now >= sync_due(fs)) fs_sync(fs);
    fs_op_begin(fs);
    fs->log_diff = true;
    int rc = fs->inner->ops->expire(fs->inner, now);
    int rc2 = fs_op_end(fs);
    return rc ? rc : rc2;
}

/* --- State ------------------------------------------------------------------------- */

static void add_lost(const sd_filestore *fs, sd_stream_state *out) {
    out->lost_bytes = fs->lost_bytes;
    out->lost_len = fs->nlost;
    out->lost_msgs = NULL;
    if (fs->nlost) {
        out->lost_msgs = ms_xmalloc(fs->nlost * sizeof(uint64_t));
        memcpy(out->lost_msgs, fs->lost, fs->nlost * sizeof(uint64_t));
    }
}

static void fs_state(sd_store *st, sd_stream_state *out) {
    sd_filestore *fs = fs_of(st);
    fs->inner->ops->state(fs->inner, out);
    add_lost(fs, out);
}

static void fs_fast_state(sd_store *st, sd_stream_state *out) {
    sd_filestore *fs = fs_of(st);
    fs->inner->ops->fast_state(fs->inner, out);
}

static sd_storage_type fs_type(sd_store *st) {
    (void)st;
    return SD_STORAGE_FILE;
}

static void fs_register(sd_store *st, const sd_store_callbacks *cbs) {
    sd_filestore *fs = fs_of(st);
    if (cbs)
        fs->ucb = *cbs;
    else
        memset(&fs->ucb, 0, sizeof fs->ucb);
    /* remove_msg / process_msg are called by the inner store's expire, with the owner's
     * argument: the owner calls back into this store, which logs what it does. */
    sd_store_callbacks icb = {.storage_update = fs_inner_update,
                              .storage_update_arg = fs,
                              .remove_msg = fs->ucb.remove_msg,
                              .remove_msg_arg = fs->ucb.remove_msg_arg,
                              .process_msg = fs->ucb.process_msg,
                              .process_msg_arg = fs->ucb.process_msg_arg};
    sd_store_register_callbacks(fs->inner, &icb);
}

static int fs_update_config(sd_store *st, sd_stream_config *cfg) {
    sd_filestore *fs = fs_of(st);
    if (!cfg) return SD_ERR_CONFIG_REQUIRED;
    if (cfg->storage != SD_STORAGE_FILE) return SD_ERR_WRONG_TYPE;
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    sd_stream_config ic = inner_cfg(cfg);
    fs_op_begin(fs);
    int rc = fs->inner->ops->update_config(fs->inner, &ic);
    int rc2 = fs_op_end(fs);
    cfg->max_msgs_per = ic.max_msgs_per;
    return rc ? rc : rc2;
}

static int fs_stop(sd_store *st) {
    sd_filestore *fs = fs_of(st);
    if (fs->closed) return 0;
    int rc = fs->inner ? fs_sync(fs) : 0;
    fs->closed = true;
    if (fs->cur_fd >= 0) close(fs->cur_fd);
    if (fs->mdir_fd >= 0) close(fs->mdir_fd);
    for (size_t i = 0; i < fs->npend; i++)
        close(fs->pend_fds[i]);
    fs->npend = 0;
    if (fs->lock_fd >= 0) close(fs->lock_fd); /* releases the lock */
    fs->lock_fd = -1;
    fs->cur_fd = fs->mdir_fd = -1;
    if (fs->inner) fs->inner->ops->stop(fs->inner);
    fs_cache_free(fs);
    return rc;
}

static int fs_delete(sd_store *st, bool inline_) {
    (void)inline_;
    sd_filestore *fs = fs_of(st);
    fs_stop(st);
    return fs_rm_rf(fs->dir);
}

static void fs_free(sd_store *st) {
    sd_filestore *fs = fs_of(st);
    fs_stop(st);
    sd_store_free(fs->inner);
    sd_seqmap_clear(&fs->loc);
    free(fs->blks);
    free(fs->pend_fds);
    free(fs->wbuf);
    free(fs->lost);
    free(fs->packq);
    free(fs->compq);
    fs_cache_free(fs);
    fs_crypt_free(fs);
    free(fs->dir);
    free(fs->mdir);
    free(fs);
}

static int fs_consumer_store(sd_store *st, const char *name, int64_t created_ns,
                             const sd_consumer_config *cfg, sd_consumer_store **out) {
    sd_filestore *fs = fs_of(st);
    (void)created_ns;
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    if (!cfg || !name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return SD_ERR_BAD_CONSUMER_CONFIG;
    return fs_consumer_store_open(fs, name, cfg, out);
}

static int fs_add_consumer(sd_store *st, sd_consumer_store *o) {
    return fs_of(st)->inner->ops->add_consumer(fs_of(st)->inner, o);
}

static int fs_remove_consumer(sd_store *st, sd_consumer_store *o) {
    return fs_of(st)->inner->ops->remove_consumer(fs_of(st)->inner, o);
}

static int fs_snapshot(sd_store *st, int64_t deadline_ns, bool include_consumers, bool check_msgs,
                       sd_snapshot_result *out) {
    (void)deadline_ns; /* written synchronously (filestore_snapshot.c) */
    sd_snapshot_opts o = {.include_consumers = include_consumers, .check_msgs = check_msgs};
    return sd_store_snapshot(st, &o, out);
}

static int fs_utilization(sd_store *st, uint64_t *total, uint64_t *reported) {
    sd_filestore *fs = fs_of(st);
    uint64_t t = 0;
    for (size_t i = 0; i < fs->nblks; i++)
        t += fs->blks[i].size;
    *total = t;
    *reported = fs->ms->bytes;
    return 0;
}

/* --- Delegated queries ------------------------------------------------------------------ */

#define INNER(st) (fs_of(st)->inner)

/* Loads read bodies from the blocks (filestore_cache.c).  A record found damaged is fenced
 * (its message removed) before the load is asked again, so the answer is what it would have
 * been had recovery found the damage. */
#define RETRY_LOAD(st, call)                                                                       \
    do {                                                                                           \
        int rc_;                                                                                   \
        do                                                                                         \
            rc_ = (call);                                                                          \
        while (fs_fence_retry(fs_of(st)));                                                         \
        return rc_;                                                                                \
    } while (0)

static int fs_load_msg(sd_store *st, uint64_t seq, sd_store_msg *sm) {
    RETRY_LOAD(st, INNER(st)->ops->load_msg(INNER(st), seq, sm));
}
static int fs_load_next(sd_store *st, const char *f, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq) {
    RETRY_LOAD(st, INNER(st)->ops->load_next_msg(INNER(st), f, wc, start, sm, seq));
}
static int fs_load_next_multi(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq) {
    RETRY_LOAD(st, INNER(st)->ops->load_next_msg_multi(INNER(st), fs, start, sm, seq));
}
static int fs_load_last(sd_store *st, const char *subj, sd_store_msg *sm) {
    RETRY_LOAD(st, INNER(st)->ops->load_last_msg(INNER(st), subj, sm));
}
static int fs_load_prev(sd_store *st, const char *f, bool wc, uint64_t start, sd_store_msg *sm,
                        uint64_t *seq) {
    RETRY_LOAD(st, INNER(st)->ops->load_prev_msg(INNER(st), f, wc, start, sm, seq));
}
static int fs_load_prev_multi(sd_store *st, const nx_filter_set *fs, uint64_t start,
                              sd_store_msg *sm, uint64_t *seq) {
    RETRY_LOAD(st, INNER(st)->ops->load_prev_msg_multi(INNER(st), fs, start, sm, seq));
}
static uint64_t fs_seq_from_time(sd_store *st, int64_t ts) {
    return INNER(st)->ops->get_seq_from_time(INNER(st), ts);
}
static int fs_filtered_state(sd_store *st, uint64_t sseq, const char *subj, sd_simple_state *o) {
    return INNER(st)->ops->filtered_state(INNER(st), sseq, subj, o);
}
static int fs_subjects_state(sd_store *st, const char *f, sd_subject_state_cb cb, void *arg) {
    return INNER(st)->ops->subjects_state(INNER(st), f, cb, arg);
}
static int fs_subjects_totals(sd_store *st, const char *f, sd_subject_state_cb cb, void *arg) {
    return INNER(st)->ops->subjects_totals(INNER(st), f, cb, arg);
}
static int fs_all_last_seqs(sd_store *st, uint64_t **seqs, size_t *n) {
    return INNER(st)->ops->all_last_seqs(INNER(st), seqs, n);
}
static int fs_multi_last_seqs(sd_store *st, const char *const *filters, size_t nf, uint64_t max_seq,
                              int max_allowed, uint64_t **seqs, size_t *n) {
    return INNER(st)->ops->multi_last_seqs(INNER(st), filters, nf, max_seq, max_allowed, seqs, n);
}
static int fs_subject_for_seq(sd_store *st, uint64_t seq, char **subj) {
    return INNER(st)->ops->subject_for_seq(INNER(st), seq, subj);
}
static int fs_num_pending(sd_store *st, uint64_t sseq, const char *f, bool lps, uint64_t *total,
                          uint64_t *vt) {
    return INNER(st)->ops->num_pending(INNER(st), sseq, f, lps, total, vt);
}
static int fs_num_pending_multi(sd_store *st, uint64_t sseq, const nx_filter_set *fs, bool lps,
                                uint64_t *total, uint64_t *vt) {
    return INNER(st)->ops->num_pending_multi(INNER(st), sseq, fs, lps, total, vt);
}
static int fs_encoded_stream_state(sd_store *st, uint64_t failed, uint8_t **buf, size_t *len) {
    return INNER(st)->ops->encoded_stream_state(INNER(st), failed, buf, len);
}
static void fs_reset_state(sd_store *st) {
    INNER(st)->ops->reset_state(INNER(st));
}
static int64_t fs_next_expire(sd_store *st) {
    int64_t a = INNER(st)->ops->next_expire(INNER(st)), b = sync_due(fs_of(st));
    return a < b ? a : b;
}
static size_t fs_dmap_entries(sd_store *st) {
    return INNER(st)->ops->dmap_entries(INNER(st));
}
static bool fs_raw_subject_state(sd_store *st, const char *subj, sd_simple_state *out) {
    return INNER(st)->ops->raw_subject_state(INNER(st), subj, out);
}

static const sd_store_ops fs_ops = {
    .store_msg = fs_store_msg,
    .store_raw_msg = fs_store_raw_msg,
    .skip_msg = fs_skip_msg,
    .skip_msg_no_interest = fs_skip_msg_no_interest,
    .skip_msgs = fs_skip_msgs,
    .flush_all_pending = fs_flush_all_pending,
    .load_msg = fs_load_msg,
    .load_next_msg = fs_load_next,
    .load_next_msg_multi = fs_load_next_multi,
    .load_last_msg = fs_load_last,
    .load_prev_msg = fs_load_prev,
    .load_prev_msg_multi = fs_load_prev_multi,
    .remove_msg = fs_remove,
    .erase_msg = fs_erase,
    .purge = fs_purge,
    .purge_ex = fs_purge_ex,
    .compact = fs_compact,
    .truncate = fs_truncate,
    .get_seq_from_time = fs_seq_from_time,
    .filtered_state = fs_filtered_state,
    .subjects_state = fs_subjects_state,
    .subjects_totals = fs_subjects_totals,
    .all_last_seqs = fs_all_last_seqs,
    .multi_last_seqs = fs_multi_last_seqs,
    .subject_for_seq = fs_subject_for_seq,
    .num_pending = fs_num_pending,
    .num_pending_multi = fs_num_pending_multi,
    .state = fs_state,
    .fast_state = fs_fast_state,
    .encoded_stream_state = fs_encoded_stream_state,
    .sync_deleted = fs_sync_deleted,
    .type = fs_type,
    .register_callbacks = fs_register,
    .update_config = fs_update_config,
    .delete_ = fs_delete,
    .stop = fs_stop,
    .consumer_store = fs_consumer_store,
    .add_consumer = fs_add_consumer,
    .remove_consumer = fs_remove_consumer,
    .snapshot = fs_snapshot,
    .utilization = fs_utilization,
    .reset_state = fs_reset_state,
    .expire = fs_expire,
    .next_expire = fs_next_expire,
    .dmap_entries = fs_dmap_entries,
    .raw_subject_state = fs_raw_subject_state,
    .free = fs_free,
};
