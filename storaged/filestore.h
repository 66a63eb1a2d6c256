/* The file store: a durable sd_store (storaged/store.h) kept in append-only block files.
 *
 * Behaves like Go nats-server v2.14.5 server/filestore.go at the store interface; the on-disk
 * layout and durability rules are this project's own (storaged/README.md, "File store").
 * Durable by default: every mutating call has been fsynced before it returns.
 */
#ifndef SD_FILESTORE_H
#define SD_FILESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "storaged/store.h"

typedef enum {
    SD_FS_SYNC_ALWAYS = 0, /* fsync before every mutating call returns (default) */
    SD_FS_SYNC_INTERVAL,   /* lazy: fsync when sync_interval_ns has passed (Go sync_interval) */
    SD_FS_SYNC_NONE,       /* group commit: nothing is synced until sd_filestore_flush */
} sd_fs_sync_mode;

typedef struct sd_filestore_config {
    const char *dir;          /* stream directory; created if missing */
    uint64_t block_size;      /* rotate blocks past this size; 0: SD_FS_DEFAULT_BLOCK_SIZE */
    sd_fs_sync_mode sync;     /* default SD_FS_SYNC_ALWAYS */
    int64_t sync_interval_ns; /* SD_FS_SYNC_INTERVAL; 0: 2 minutes (Go's default) */
} sd_filestore_config;

#define SD_FS_DEFAULT_BLOCK_SIZE (8u * 1024 * 1024)

/* Opens (creating or recovering) the file store in fcfg->dir for cfg (cfg->storage must be
 * SD_STORAGE_FILE).  Recovery verifies every record's checksum: a torn record at the end of
 * the last block is truncated away; damage elsewhere is fenced and reported as lost data in
 * sd_store_state (lost_msgs / lost_bytes). */
int sd_filestore_open(const sd_filestore_config *fcfg, const sd_stream_config *cfg,
                      const sd_store_env *env, sd_store **out);

/* Group commit: writes and fsyncs everything stored so far, once.  With SD_FS_SYNC_ALWAYS
 * there is never anything left to do.  Same as sd_store's flush_all_pending. */
int sd_filestore_flush(sd_store *st);

/* Parses the sync option: "always" (or "") or a Go duration such as "2m" or "500ms". */
int sd_filestore_parse_sync(const char *s, sd_fs_sync_mode *mode, int64_t *interval_ns);

/* Diagnostics for tests: the number of block files. */
size_t sd_filestore_num_blocks(sd_store *st);
/* The stream directory the store was opened on. */
const char *sd_filestore_dir(sd_store *st);

#endif
