/* tests/sim/sim_disk.c: the simulated disk.  See sim_disk.h.  No Go counterpart: this is the
 * fault model the simulator uses to prove raftd's log_store and RAFT core (TigerBeetle's VOPR
 * storage faults: crashes losing unsynced writes, torn writes, corruption of synced data).
 *
 * Invariants: an fd refers to an inode, not a name (renames keep open fds valid); the durable
 * image of a file only changes on fsync (or corruption); the durable directory only changes
 * on sync_dir.
 */
#include "sim_disk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct inode {
    uint8_t *v, *d;
    uint64_t vlen, dlen, vcap;
    int refs; /* directory entries (volatile + durable) and open fds */
};

struct dent {
    char *name;
    struct inode *ino;
};

struct dir {
    struct dent *e;
    uint32_t n, cap;
};

struct sim_disk {
    struct dir vol, dur;
    struct inode **fds;
    uint32_t nfds;
    uint32_t fail_writes;
};

uint64_t sim_rand(uint64_t *rng, uint64_t bound)
{
    uint64_t z = (*rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return bound ? z % bound : z;
}

static void ino_ref(struct inode *i)
{
    i->refs++;
}

static void ino_unref(struct inode *i)
{
    if (--i->refs > 0)
        return;
    free(i->v);
    free(i->d);
    free(i);
}

static struct dent *dir_find(struct dir *d, const char *name)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (strcmp(d->e[i].name, name) == 0)
            return &d->e[i];
    return NULL;
}

static void dir_set(struct dir *d, const char *name, struct inode *ino)
{
    struct dent *e = dir_find(d, name);
    ino_ref(ino);
    if (e) {
        ino_unref(e->ino);
        e->ino = ino;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->e = realloc(d->e, d->cap * sizeof(*d->e));
        if (!d->e)
            abort();
    }
    d->e[d->n].name = strdup(name);
    d->e[d->n].ino = ino;
    d->n++;
}

static bool dir_del(struct dir *d, const char *name)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (strcmp(d->e[i].name, name) == 0) {
            free(d->e[i].name);
            ino_unref(d->e[i].ino);
            d->e[i] = d->e[--d->n];
            return true;
        }
    return false;
}

static void dir_clear(struct dir *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        free(d->e[i].name);
        ino_unref(d->e[i].ino);
    }
    d->n = 0;
}

struct sim_disk *sim_disk_new(void)
{
    struct sim_disk *d = calloc(1, sizeof(*d));
    if (!d)
        abort();
    return d;
}

static void close_all(struct sim_disk *d)
{
    for (uint32_t i = 0; i < d->nfds; i++)
        if (d->fds[i]) {
            ino_unref(d->fds[i]);
            d->fds[i] = NULL;
        }
}

void sim_disk_free(struct sim_disk *d)
{
    if (!d)
        return;
    close_all(d);
    free(d->fds);
    dir_clear(&d->vol);
    dir_clear(&d->dur);
    free(d->vol.e);
    free(d->dur.e);
    free(d);
}

void sim_disk_wipe(struct sim_disk *d)
{
    close_all(d);
    dir_clear(&d->vol);
    dir_clear(&d->dur);
}

void sim_disk_fail_writes(struct sim_disk *d, uint32_t n)
{
    d->fail_writes = n;
}

static bool fail_write(struct sim_disk *d)
{
    if (!d->fail_writes)
        return false;
    d->fail_writes--;
    return true;
}

static struct inode *fd_ino(struct sim_disk *d, int fd)
{
    if (fd < 0 || (uint32_t)fd >= d->nfds)
        return NULL;
    return d->fds[fd];
}

static void vreserve(struct inode *i, uint64_t len)
{
    if (len <= i->vcap)
        return;
    uint64_t c = i->vcap ? i->vcap : 256;
    while (c < len)
        c *= 2;
    i->v = realloc(i->v, c);
    if (!i->v)
        abort();
    i->vcap = c;
}

static int d_open(void *ctx, const char *name, bool create)
{
    struct sim_disk *d = ctx;
    struct dent *e = dir_find(&d->vol, name);
    struct inode *ino;
    if (!e) {
        if (!create)
            return -ENOENT;
        if (fail_write(d))
            return -EIO;
        ino = calloc(1, sizeof(*ino));
        if (!ino)
            abort();
        dir_set(&d->vol, name, ino);
    } else {
        ino = e->ino;
    }
    ino_ref(ino);
    for (uint32_t i = 0; i < d->nfds; i++)
        if (!d->fds[i]) {
            d->fds[i] = ino;
            return (int)i;
        }
    d->fds = realloc(d->fds, (d->nfds + 1) * sizeof(*d->fds));
    if (!d->fds)
        abort();
    d->fds[d->nfds] = ino;
    return (int)d->nfds++;
}

static int d_close(void *ctx, int fd)
{
    struct sim_disk *d = ctx;
    struct inode *i = fd_ino(d, fd);
    if (!i)
        return -EBADF;
    d->fds[fd] = NULL;
    ino_unref(i);
    return 0;
}

static int64_t d_size(void *ctx, int fd)
{
    struct inode *i = fd_ino(ctx, fd);
    return i ? (int64_t)i->vlen : -EBADF;
}

static int64_t d_pread(void *ctx, int fd, void *buf, uint64_t len, uint64_t off)
{
    struct inode *i = fd_ino(ctx, fd);
    if (!i)
        return -EBADF;
    if (off >= i->vlen)
        return 0;
    uint64_t n = i->vlen - off < len ? i->vlen - off : len;
    memcpy(buf, i->v + off, n);
    return (int64_t)n;
}

static int64_t d_pwrite(void *ctx, int fd, const void *buf, uint64_t len, uint64_t off)
{
    struct sim_disk *d = ctx;
    struct inode *i = fd_ino(d, fd);
    if (!i)
        return -EBADF;
    if (fail_write(d))
        return -EIO;
    if (len == 0)
        return 0;
    vreserve(i, off + len);
    if (off > i->vlen)
        memset(i->v + i->vlen, 0, off - i->vlen);
    memcpy(i->v + off, buf, len);
    if (off + len > i->vlen)
        i->vlen = off + len;
    return (int64_t)len;
}

static int d_truncate(void *ctx, int fd, uint64_t len)
{
    struct sim_disk *d = ctx;
    struct inode *i = fd_ino(d, fd);
    if (!i)
        return -EBADF;
    if (fail_write(d))
        return -EIO;
    vreserve(i, len);
    if (len > i->vlen)
        memset(i->v + i->vlen, 0, len - i->vlen);
    i->vlen = len;
    return 0;
}

static int d_fsync(void *ctx, int fd)
{
    struct sim_disk *d = ctx;
    struct inode *i = fd_ino(d, fd);
    if (!i)
        return -EBADF;
    if (fail_write(d))
        return -EIO;
    free(i->d);
    i->d = malloc(i->vlen ? i->vlen : 1);
    if (!i->d)
        abort();
    if (i->vlen)
        memcpy(i->d, i->v, i->vlen);
    i->dlen = i->vlen;
    return 0;
}

static int d_unlink(void *ctx, const char *name)
{
    struct sim_disk *d = ctx;
    if (fail_write(d))
        return -EIO;
    return dir_del(&d->vol, name) ? 0 : -ENOENT;
}

static int d_rename(void *ctx, const char *from, const char *to)
{
    struct sim_disk *d = ctx;
    struct dent *e = dir_find(&d->vol, from);
    if (!e)
        return -ENOENT;
    if (fail_write(d))
        return -EIO;
    struct inode *ino = e->ino;
    ino_ref(ino);
    dir_del(&d->vol, from);
    dir_set(&d->vol, to, ino);
    ino_unref(ino);
    return 0;
}

static int d_sync_dir(void *ctx)
{
    struct sim_disk *d = ctx;
    if (fail_write(d))
        return -EIO;
    dir_clear(&d->dur);
    for (uint32_t i = 0; i < d->vol.n; i++)
        dir_set(&d->dur, d->vol.e[i].name, d->vol.e[i].ino);
    return 0;
}

static int d_list(void *ctx, char ***names, uint32_t *count)
{
    struct sim_disk *d = ctx;
    char **v = calloc(d->vol.n ? d->vol.n : 1, sizeof(char *));
    if (!v)
        abort();
    for (uint32_t i = 0; i < d->vol.n; i++)
        v[i] = strdup(d->vol.e[i].name);
    *names = v;
    *count = d->vol.n;
    return 0;
}

static const struct rf_disk_ops sim_ops = {
    .open = d_open,
    .close = d_close,
    .size = d_size,
    .pread = d_pread,
    .pwrite = d_pwrite,
    .truncate = d_truncate,
    .fsync = d_fsync,
    .unlink = d_unlink,
    .rename = d_rename,
    .sync_dir = d_sync_dir,
    .list = d_list,
};

void sim_disk_as_rf(struct sim_disk *d, struct rf_disk *out)
{
    out->ops = &sim_ops;
    out->ctx = d;
}

void sim_disk_crash(struct sim_disk *d, uint64_t *rng, bool allow_torn)
{
    close_all(d);
    /* The directory reverts to its durable state; each file keeps durable, volatile or a
     * torn mix of the two. */
    dir_clear(&d->vol);
    for (uint32_t k = 0; k < d->dur.n; k++) {
        struct inode *i = d->dur.e[k].ino;
        bool same = i->vlen == i->dlen && (i->vlen == 0 || memcmp(i->v, i->d, i->vlen) == 0);
        if (!same) {
            uint64_t mode = allow_torn ? sim_rand(rng, 3) : sim_rand(rng, 2);
            uint8_t *nb;
            uint64_t nl;
            if (mode == 0) { /* nothing reached the platter */
                nl = i->dlen;
                nb = malloc(nl ? nl : 1);
                if (nl)
                    memcpy(nb, i->d, nl);
            } else if (mode == 1) { /* everything did */
                nl = i->vlen;
                nb = malloc(nl ? nl : 1);
                if (nl)
                    memcpy(nb, i->v, nl);
            } else { /* torn: a prefix of the new image over the old one */
                uint64_t x = sim_rand(rng, i->vlen + 1);
                nl = x > i->dlen ? x : i->dlen;
                if (i->vlen < i->dlen && x <= i->vlen)
                    nl = sim_rand(rng, 2) ? i->vlen : i->dlen; /* truncate landed or not */
                nb = calloc(1, nl ? nl : 1);
                for (uint64_t o = 0; o < nl; o++)
                    nb[o] = o < x ? i->v[o] : (o < i->dlen ? i->d[o] : 0);
            }
            if (!nb)
                abort();
            free(i->d);
            i->d = nb;
            i->dlen = nl;
        }
        free(i->v);
        i->v = malloc(i->dlen ? i->dlen : 1);
        if (!i->v)
            abort();
        if (i->dlen)
            memcpy(i->v, i->d, i->dlen);
        i->vlen = i->vcap = i->dlen ? i->dlen : 0;
        if (!i->dlen) {
            free(i->v);
            i->v = NULL;
        }
        dir_set(&d->vol, d->dur.e[k].name, i);
    }
}

const char *sim_disk_corrupt(struct sim_disk *d, uint64_t *rng, const char *prefix)
{
    uint32_t cand[1024], nc = 0;
    for (uint32_t k = 0; k < d->dur.n && nc < 1024; k++) {
        struct inode *i = d->dur.e[k].ino;
        if (i->dlen && (!prefix || strncmp(d->dur.e[k].name, prefix, strlen(prefix)) == 0))
            cand[nc++] = k;
    }
    if (!nc)
        return NULL;
    struct dent *e = &d->dur.e[cand[sim_rand(rng, nc)]];
    struct inode *i = e->ino;
    uint64_t off = sim_rand(rng, i->dlen);
    uint8_t flip = (uint8_t)(1u << sim_rand(rng, 8));
    i->d[off] ^= flip;
    if (off < i->vlen)
        i->v[off] ^= flip;
    return e->name;
}

uint64_t sim_disk_bytes(const struct sim_disk *d)
{
    uint64_t t = 0;
    for (uint32_t k = 0; k < d->vol.n; k++)
        t += d->vol.e[k].ino->vlen;
    return t;
}

int64_t sim_disk_read(struct sim_disk *d, const char *name, uint8_t **out)
{
    struct dent *e = dir_find(&d->vol, name);
    if (!e)
        return -ENOENT;
    *out = malloc(e->ino->vlen ? e->ino->vlen : 1);
    if (e->ino->vlen)
        memcpy(*out, e->ino->v, e->ino->vlen);
    return (int64_t)e->ino->vlen;
}

int sim_disk_write(struct sim_disk *d, const char *name, const uint8_t *b, uint64_t len)
{
    int fd = d_open(d, name, true);
    if (fd < 0)
        return fd;
    d_truncate(d, fd, 0);
    d_pwrite(d, fd, b, len, 0);
    d_fsync(d, fd);
    d_close(d, fd);
    return d_sync_dir(d);
}

uint32_t sim_disk_count(struct sim_disk *d, const char *prefix)
{
    uint32_t c = 0;
    for (uint32_t k = 0; k < d->vol.n; k++)
        if (strncmp(d->vol.e[k].name, prefix, strlen(prefix)) == 0)
            c++;
    return c;
}

uint32_t sim_disk_remove(struct sim_disk *d, const char *prefix)
{
    uint32_t c = 0;
    for (uint32_t k = 0; k < d->vol.n;) {
        if (strncmp(d->vol.e[k].name, prefix, strlen(prefix)) == 0) {
            char *name = strdup(d->vol.e[k].name);
            dir_del(&d->vol, name);
            free(name);
            c++;
            continue;
        }
        k++;
    }
    d_sync_dir(d);
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *sim_disk_name(struct sim_disk *d, const char *prefix, uint32_t i)
{
    const char *v[1024];
    uint32_t n = 0;
    for (uint32_t k = 0; k < d->vol.n && n < 1024; k++)
        if (strncmp(d->vol.e[k].name, prefix, strlen(prefix)) == 0)
            v[n++] = d->vol.e[k].name;
    qsort(v, n, sizeof(v[0]), cmp_str);
    return i < n ? v[i] : NULL;
}
