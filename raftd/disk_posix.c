/* raftd/disk_posix.c: the POSIX implementation of struct rf_disk used by raftd's
 * log_store (one directory per RAFT group).  Go writes its raft files with os.WriteFile +
 * fsync (writeFileWithSync); here every durability step is explicit: file fsync, and
 * directory fsync after creating, renaming or removing files.
 *
 * Invariant: all names are plain file names inside the directory (no '/').
 */
#include "raftd/log_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct posix_ctx {
    int dfd;
};

static int p_open(void *ctx, const char *name, bool create)
{
    struct posix_ctx *c = ctx;
    int fd = openat(c->dfd, name, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0640);
    return fd < 0 ? -errno : fd;
}

static int p_close(void *ctx, int fd)
{
    (void)ctx;
    return close(fd) < 0 ? -errno : 0;
}

static int64_t p_size(void *ctx, int fd)
{
    (void)ctx;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    return st.st_size;
}

static int64_t p_pread(void *ctx, int fd, void *buf, uint64_t len, uint64_t off)
{
    (void)ctx;
    uint64_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        done += (uint64_t)r;
    }
    return (int64_t)done;
}

static int64_t p_pwrite(void *ctx, int fd, const void *buf, uint64_t len, uint64_t off)
{
    (void)ctx;
    uint64_t done = 0;
    while (done < len) {
        ssize_t r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        done += (uint64_t)r;
    }
    return (int64_t)done;
}

static int p_truncate(void *ctx, int fd, uint64_t len)
{
    (void)ctx;
    return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static int p_fsync(void *ctx, int fd)
{
    (void)ctx;
    return fdatasync(fd) < 0 ? -errno : 0;
}

static int p_unlink(void *ctx, const char *name)
{
    struct posix_ctx *c = ctx;
    return unlinkat(c->dfd, name, 0) < 0 ? -errno : 0;
}

static int p_rename(void *ctx, const char *from, const char *to)
{
    struct posix_ctx *c = ctx;
    return renameat(c->dfd, from, c->dfd, to) < 0 ? -errno : 0;
}

static int p_sync_dir(void *ctx)
{
    struct posix_ctx *c = ctx;
    return fsync(c->dfd) < 0 ? -errno : 0;
}

static int p_list(void *ctx, char ***names, uint32_t *count)
{
    struct posix_ctx *c = ctx;
    int fd = dup(c->dfd);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    rewinddir(d);
    char **v = NULL;
    uint32_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof(char *));
            if (!v)
                abort();
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    *names = v;
    *count = n;
    return 0;
}

static const struct rf_disk_ops posix_ops = {
    .open = p_open,
    .close = p_close,
    .size = p_size,
    .pread = p_pread,
    .pwrite = p_pwrite,
    .truncate = p_truncate,
    .fsync = p_fsync,
    .unlink = p_unlink,
    .rename = p_rename,
    .sync_dir = p_sync_dir,
    .list = p_list,
};

int rf_disk_posix_open(const char *dir, struct rf_disk *out)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -errno;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    struct posix_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        close(dfd);
        return -ENOMEM;
    }
    c->dfd = dfd;
    out->ops = &posix_ops;
    out->ctx = c;
    return 0;
}

void rf_disk_posix_close(struct rf_disk *d)
{
    struct posix_ctx *c = d->ctx;
    if (c) {
        close(c->dfd);
        free(c);
    }
    d->ctx = NULL;
}
