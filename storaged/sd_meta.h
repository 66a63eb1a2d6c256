/* JetStream metadata store: small (key -> value) records of one store_dir kept in LMDB
 * (<store_dir>/jetstream/meta.lmdb/{data.mdb,lock.mdb}); consumer configs and consumer state.
 *
 * No Go counterpart: Go keeps consumer state in obs/<name>/o.dat and meta.inf files (server/
 * filestore.go consumerFileStore); see storaged/README.md "Metadata (LMDB)".
 *
 * - Every value carries an xxHash64 of key and value; a mismatch (a flipped bit) is reported
 *   (SD_META_ECORRUPT from get, a warning and a skip while iterating), never a crash.
 * - Writes accumulate in one write transaction (reads see them) until sd_meta_commit, which
 *   commits it durably (LMDB's own two fdatasyncs: pages, then the meta page).  The caller's
 *   group commit calls it once per loop turn.  Uncommitted changes are lost on a crash.
 * - The map grows when full (MDB_MAP_FULL: the open transaction is replayed in a bigger map).
 * - A damaged environment (LMDB's MDB_CORRUPTED / MDB_PAGE_NOTFOUND / MDB_INVALID, a data.mdb
 *   shorter than its last page, which would SIGBUS through the map) fails open with a message,
 *   or fences the store on the first such error: every later call returns SD_META_EFENCED.
 * Single-threaded: one owner calls everything. */
#ifndef SD_META_H
#define SD_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_META_ECORRUPT (-74) /* -EBADMSG: checksum mismatch or malformed record */
#define SD_META_EFENCED (-5)   /* -EIO: the store was fenced after damage */

typedef struct sd_meta sd_meta;

/* Opens (creates) the environment in directory dir (created if missing).  0 or a negative
 * errno; err gets a message. */
int sd_meta_open(const char *dir, sd_meta **out, char *err, size_t errlen);
/* Aborts uncommitted changes and closes. */
void sd_meta_close(sd_meta *m);

/* Value writes and deletes (in the open transaction).  Keys are non-empty strings of at most
 * 400 bytes. */
int sd_meta_put(sd_meta *m, const char *key, const void *val, size_t len);
/* 0, or -ENOENT when missing. */
int sd_meta_del(sd_meta *m, const char *key);
/* Deletes every key starting with prefix; the count removed or a negative error. */
int sd_meta_del_prefix(sd_meta *m, const char *prefix);
/* The value (malloc'd copy, NUL-terminated beyond len): 0, -ENOENT, SD_META_ECORRUPT. */
int sd_meta_get(sd_meta *m, const char *key, uint8_t **val, size_t *len);
/* Calls cb for every key starting with prefix, in key order (a damaged record is reported and
 * skipped).  cb returns non-zero to stop.  Returns the number of damaged records skipped or a
 * negative error. */
typedef int (*sd_meta_cb)(void *arg, const char *key, const uint8_t *val, size_t len);
int sd_meta_iterate(sd_meta *m, const char *prefix, sd_meta_cb cb, void *arg);

/* Commits the open transaction durably; 0 when nothing was pending. */
int sd_meta_commit(sd_meta *m);
bool sd_meta_pending(const sd_meta *m);
/* Fenced after damage (the reason in sd_meta_error). */
bool sd_meta_fenced(const sd_meta *m);
const char *sd_meta_error(const sd_meta *m);

/* Test hooks: commits so far (durable transactions), the current map size. */
uint64_t sd_meta_commits(const sd_meta *m);
size_t sd_meta_map_size(const sd_meta *m);
/* Test hook: the initial map size of environments opened afterwards (0: default 1 MiB). */
void sd_meta_set_initial_map_size(size_t bytes);
/* Test hook: called after each durable commit with the environment directory (the data.mdb
 * there is then what a disk holds for sure). */
void sd_meta_set_commit_hook(void (*fn)(void *arg, const char *dir), void *arg);

#endif
