/* Power loss: everything that was not fsynced disappears.  Our own test of the file store's
 * durability promise (storaged/README.md "Durability"), without LD_PRELOAD: the store's test
 * hook (sd_filestore_sync_hook) reports every fsync / fdatasync; at each one we record what a
 * disk would then hold for sure, keyed by inode: a file's contents, a directory's entries.  A
 * "power cut" after any operation builds, in a fresh directory, only that durable image (files
 * whose data was never synced come back empty), opens it, and checks that no acknowledged
 * write is lost and no acknowledged removal comes back:
 *  - durable mode (sync always): the image is exactly the live store;
 *  - group commit (sync none + sd_filestore_flush): everything up to the last flush.
 * Runs with plain blocks and with compression + encryption (sealed blocks rewritten). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/unit/test_filestore_util.h"

/* --- The simulated disk ----------------------------------------------------------------- */

typedef struct dfile {
    ino_t ino;
    uint8_t *data;
    size_t len;
} dfile;

typedef struct dent {
    char name[256];
    ino_t ino;
    bool dir;
} dent;

typedef struct ddir {
    ino_t ino;
    dent *ents;
    size_t n;
} ddir;

static dfile files[4096];
static size_t nfiles;
static ddir dirs[64];
static size_t ndirs;

static void on_sync(int fd) {
    struct stat sb;
    if (fstat(fd, &sb) != 0) return;
    if (S_ISREG(sb.st_mode)) {
        size_t i = 0;
        while (i < nfiles && files[i].ino != sb.st_ino)
            i++;
        if (i == nfiles) {
            cr_assert_lt(nfiles, sizeof files / sizeof *files);
            nfiles++;
        }
        free(files[i].data);
        files[i].ino = sb.st_ino;
        files[i].len = (size_t)sb.st_size;
        files[i].data = malloc(files[i].len + 1);
        /* (through /proc: some descriptors are write-only) */
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        int rfd = open(link, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(rfd, 0);
        cr_assert_eq(pread(rfd, files[i].data, files[i].len, 0), (ssize_t)files[i].len);
        close(rfd);
        return;
    }
    if (!S_ISDIR(sb.st_mode)) return;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, path, sizeof path - 1);
    cr_assert_gt(l, 0);
    path[l] = '\0';
    size_t i = 0;
    while (i < ndirs && dirs[i].ino != sb.st_ino)
        i++;
    if (i == ndirs) {
        cr_assert_lt(ndirs, sizeof dirs / sizeof *dirs);
        ndirs++;
    }
    free(dirs[i].ents);
    dirs[i] = (ddir){.ino = sb.st_ino};
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (dirs[i].n == cap) {
            cap = cap ? cap * 2 : 16;
            dirs[i].ents = realloc(dirs[i].ents, cap * sizeof *dirs[i].ents);
        }
        dent *de = &dirs[i].ents[dirs[i].n++];
        snprintf(de->name, sizeof de->name, "%s", e->d_name);
        de->ino = e->d_ino;
        de->dir = e->d_type == DT_DIR;
    }
    closedir(d);
}

/* Writes the durable image of live directory `live` (inode ino) at img. */
static void build(ino_t ino, const char *img) {
    cr_assert_eq(mkdir(img, 0750), 0, "mkdir %s", img);
    const ddir *d = NULL;
    for (size_t i = 0; i < ndirs; i++)
        if (dirs[i].ino == ino) d = &dirs[i];
    if (!d) return; /* never synced: its entries are not durable */
    for (size_t k = 0; k < d->n; k++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", img, d->ents[k].name);
        if (d->ents[k].dir) {
            build(d->ents[k].ino, p);
            continue;
        }
        const dfile *f = NULL;
        for (size_t i = 0; i < nfiles; i++)
            if (files[i].ino == d->ents[k].ino) f = &files[i];
        fst_spit(p, f ? f->data : (const uint8_t *)"", f ? f->len : 0);
    }
}

static char *power_cut(const char *live) {
    struct stat sb;
    cr_assert_eq(stat(live, &sb), 0);
    char *img = fst_new_dir();
    build(sb.st_ino, img);
    return img;
}

static void disk_reset(void) {
    for (size_t i = 0; i < nfiles; i++)
        free(files[i].data);
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i].ents);
    nfiles = ndirs = 0;
}

/* --- The workload ----------------------------------------------------------------------- */

typedef struct model {
    uint64_t *seq;
    char (*payload)[32];
    size_t n;
    uint64_t last_seq;
} model;

/* The live store's messages (what a flush made durable, in group commit). */
static void snapshot_model(sd_store *st, model *m) {
    sd_stream_state s;
    sd_store_state(st, &s);
    m->n = 0;
    m->last_seq = s.last_seq;
    m->seq = realloc(m->seq, (s.msgs + 1) * sizeof *m->seq);
    m->payload = realloc(m->payload, (s.msgs + 1) * sizeof *m->payload);
    sd_store_msg sm = {0};
    for (uint64_t q = s.first_seq; s.msgs && q <= s.last_seq; q++) {
        if (sd_store_load_msg(st, q, &sm) != 0) continue;
        m->seq[m->n] = q;
        snprintf(m->payload[m->n], sizeof m->payload[0], "%.*s", (int)sm.msg_len, sm.msg);
        m->n++;
    }
    sd_store_msg_free(&sm);
    sd_stream_state_free(&s);
}

/* Group commit: what the image holds after a cut, against the model of the last flush. */
static void check_flushed(sd_store *img, const model *m, sd_store *live) {
    sd_stream_state s;
    sd_store_state(img, &s);
    cr_assert_geq(s.last_seq, m->last_seq, "flushed sequences lost");
    cr_assert_eq(s.lost_len, 0);
    sd_store_msg sm = {0};
    size_t k = 0;
    for (uint64_t q = 1; q <= m->last_seq; q++) {
        bool in_model = k < m->n && m->seq[k] == q;
        int rc = sd_store_load_msg(img, q, &sm);
        if (in_model) {
            sd_store_msg lm = {0};
            bool removed_since = sd_store_load_msg(live, q, &lm) != 0; /* after the flush */
            sd_store_msg_free(&lm);
            if (rc == 0) {
                cr_assert_eq(sm.msg_len, strlen(m->payload[k]));
                cr_assert_eq(memcmp(sm.msg, m->payload[k], sm.msg_len), 0);
            } else {
                cr_assert(removed_since, "flushed message %lu lost", (unsigned long)q);
            }
            k++;
        } else {
            cr_assert_neq(rc, 0, "removed message %lu came back", (unsigned long)q);
        }
    }
    sd_store_msg_free(&sm);
    sd_stream_state_free(&s);
}

static void workload(const sd_filestore_config *fo_in, int steps) {
    sd_filestore_config fo = *fo_in;
    bool group = fo.sync == SD_FS_SYNC_NONE;
    sd_stream_config cfg = {.name = "P", .max_msgs = 150};
    char *dir = fst_new_dir();
    disk_reset();
    sd_filestore_sync_hook = on_sync;
    sd_store *st = fst_open(dir, &cfg, &fo, NULL);
    sd_consumer_config ccfg = {.ack_policy = SD_ACK_EXPLICIT};
    sd_consumer_store *o;
    cr_assert_eq(st->ops->consumer_store(st, "C", 0, &ccfg, &o), 0);
    model m = {0};
    snapshot_model(st, &m);
    srand(12345);
    char payload[32], subj[16];
    for (int i = 1; i <= steps; i++) {
        sd_stream_state s = {0};
        sd_store_fast_state(st, &s);
        int r = rand() % 100;
        uint64_t span = s.last_seq >= s.first_seq ? s.last_seq - s.first_seq + 1 : 1;
        uint64_t victim = s.first_seq + (uint64_t)rand() % span;
        if (r < 60) {
            snprintf(subj, sizeof subj, "p.%d", i % 5);
            snprintf(payload, sizeof payload, "v%d", i);
            cr_assert_neq(sd_suite_store(st, subj, payload), 0);
        } else if (r < 78) {
            sd_store_remove_msg(st, victim);
        } else if (r < 83) {
            sd_store_erase_msg(st, victim);
        } else if (r < 88) {
            cr_assert_eq(sd_store_skip_msg(st, s.last_seq + 1, NULL), 0);
        } else if (r < 91 && !group) {
            uint64_t purged;
            cr_assert_eq(sd_store_purge_ex(st, "p.3", 0, 1, &purged), 0);
        } else if (r < 93 && !group) {
            uint64_t purged;
            cr_assert_eq(sd_store_compact(st, s.first_seq + 3, &purged), 0);
        } else {
            sd_consumer_state cs = {.delivered = {(uint64_t)i, (uint64_t)i},
                                    .ack_floor = {(uint64_t)i, (uint64_t)i}};
            cr_assert_eq(o->ops->update(o, &cs), 0);
        }
        sd_stream_state_free(&s);
        if (group && i % 7 == 0) {
            cr_assert_eq(sd_filestore_flush(st), 0);
            snapshot_model(st, &m);
        }
        /* The power goes.  (The image's own syncs are not part of the simulated disk.) */
        char *img = power_cut(dir);
        sd_filestore_sync_hook = NULL;
        sd_store *is;
        int rc = fst_try_open(img, &cfg, &fo, NULL, &is);
        cr_assert_eq(rc, 0, "step %d: open the image: %s", i, sd_strerror(rc));
        if (group) {
            check_flushed(is, &m, st);
        } else {
            fst_assert_same(st, is, false);
            sd_stream_state x;
            sd_store_state(is, &x);
            cr_assert_eq(x.lost_len, 0, "step %d", i);
            sd_stream_state_free(&x);
            /* The consumer's state too. */
            sd_consumer_store *io;
            cr_assert_eq(is->ops->consumer_store(is, "C", 0, &ccfg, &io), 0);
            sd_consumer_state a, b;
            cr_assert_eq(o->ops->state(o, &a), 0);
            cr_assert_eq(io->ops->state(io, &b), 0);
            cr_assert_eq(a.delivered.stream, b.delivered.stream, "step %d", i);
            cr_assert_eq(a.ack_floor.stream, b.ack_floor.stream);
            sd_consumer_state_free(&a);
            sd_consumer_state_free(&b);
            io->ops->free(io);
        }
        sd_store_free(is);
        free(img);
        sd_filestore_sync_hook = on_sync;
    }
    o->ops->free(o);
    sd_store_free(st);
    sd_filestore_sync_hook = NULL;
    free(m.seq);
    free(m.payload);
    disk_reset();
    free(dir);
}

Test(filestore_power, durable_mode_loses_nothing_acknowledged) {
    sd_filestore_config fo = {.block_size = 1024};
    workload(&fo, 250);
}

Test(filestore_power, durable_mode_compressed_encrypted) {
    sd_filestore_config fo = {
        .block_size = 1024, .compress = true, .cipher = SD_FS_CIPHER_CHACHAPOLY, .key = "pw"};
    workload(&fo, 200);
}

Test(filestore_power, group_commit_keeps_everything_flushed) {
    sd_filestore_config fo = {.block_size = 1024, .sync = SD_FS_SYNC_NONE};
    workload(&fo, 250);
}

Test(filestore_power, group_commit_compressed) {
    sd_filestore_config fo = {.block_size = 1024, .sync = SD_FS_SYNC_NONE, .compress = true};
    workload(&fo, 200);
}
