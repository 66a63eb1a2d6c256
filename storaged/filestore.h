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

/* Encryption at rest (Go's jetstream `cipher` option). */
typedef enum {
    SD_FS_CIPHER_NONE = 0,
    SD_FS_CIPHER_CHACHAPOLY = 1, /* ChaCha20-Poly1305 (Go "chachapoly", the default cipher) */
    SD_FS_CIPHER_AES = 2,        /* AES-256-GCM (Go "aes") */
} sd_fs_cipher;

typedef struct sd_filestore_config {
    const char *dir;          /* stream directory; created if missing */
    uint64_t block_size;      /* rotate blocks past this size; 0: SD_FS_DEFAULT_BLOCK_SIZE */
    sd_fs_sync_mode sync;     /* default SD_FS_SYNC_ALWAYS */
    int64_t sync_interval_ns; /* SD_FS_SYNC_INTERVAL; 0: 2 minutes (Go's default) */
    /* Go's stream `compression: s2`: sealed (rotated) blocks are rewritten snappy-compressed. */
    bool compress;
    /* Go's jetstream `cipher` + `key`: with a key, blocks are encrypted (cipher NONE with a
     * key means CHACHAPOLY).  The per-stream data key lives in <dir>/key.enc, sealed with a key
     * derived from `key` and the stream name: opening with another key fails with
     * -EKEYREJECTED, an encrypted store opened without a key with -ENOKEY.  A store keeps the
     * cipher it was created with.  key_len 0: strlen(key). */
    sd_fs_cipher cipher;
    const char *key;
    size_t key_len;
    /* Memory bound of the block cache: bytes of block contents (message headers and payloads)
     * this store holds in memory; 0: SD_FS_DEFAULT_CACHE.  Only the per-message index
     * (sequence, time, subject, sizes, location) is kept for every message; bodies are read
     * from the blocks through the cache (storaged/README.md, "Block cache"). */
    uint64_t cache_max;
} sd_filestore_config;

/* Parses Go's cipher names: "chachapoly" / "chacha", "aes" (case-insensitive); -EINVAL else. */
int sd_filestore_parse_cipher(const char *s, sd_fs_cipher *out);

/* Test hook, called after every successful fsync / fdatasync the file store (and its consumer
 * state files) makes, with the synced descriptor (a file or a directory).  NULL normally. */
extern void (*sd_filestore_sync_hook)(int fd);
/* Test hook, called at named points of multi-step file operations ("pack:written": a
 * rewritten block is durable under its temporary name, not yet renamed).  NULL normally. */
extern void (*sd_filestore_step_hook)(const char *point);

/* A consumer store of the file store (ops->consumer_store) whose owner persists the state
 * itself (JetStream: encoded_state into the LMDB metadata store at its group commit,
 * storaged/sd_meta.h): no obs/<name>/o.dat is written from now on; the directories the open
 * made are removed when empty.  An o.dat of an older data directory was loaded by the open
 * (has_state then true).  -EINVAL when o is not a file store consumer. */
int sd_filestore_consumer_external(sd_consumer_store *o);
/* Small records kept elsewhere for this stream (JetStream's consumer config and state in LMDB)
 * sealed with the stream's data key when it is encrypted at rest (what: associated data naming
 * the record), a plain copy otherwise; unseal takes a plain (never sealed) record as is.
 * *out is malloc'd.  -EINVAL not a file store, -ENOKEY, -EBADMSG not authentic. */
int sd_filestore_seal(sd_store *st, const char *what, const uint8_t *in, size_t n, uint8_t **out,
                      size_t *olen);
int sd_filestore_unseal(sd_store *st, const char *what, const uint8_t *in, size_t n, uint8_t **out,
                        size_t *olen);

#define SD_FS_DEFAULT_BLOCK_SIZE (8u * 1024 * 1024)
#define SD_FS_DEFAULT_CACHE (64u * 1024 * 1024)

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

/* Diagnostics for tests: the number of block files, and how many of them are sealed and
 * rewritten (packed: compressed and/or encrypted whole). */
size_t sd_filestore_num_blocks(sd_store *st);
size_t sd_filestore_num_packed(sd_store *st);
/* Bytes of block contents held in memory by the store's cache (at most cache_max between
 * calls), and how many blocks that is. */
uint64_t sd_filestore_cache_bytes(sd_store *st);
size_t sd_filestore_cache_blocks(sd_store *st);
/* The stream directory the store was opened on. */
const char *sd_filestore_dir(sd_store *st);

/* --- Restore ($JS.API.STREAM.RESTORE) ---------------------------------------------------
 * Unpacks a snapshot archive (sd_store_snapshot, store.h) into a new stream directory:
 *
 *     sd_restore *r;
 *     rc = sd_restore_begin("/…/streams/ORDERS", &r);   // dir must not exist (or be empty)
 *     while (chunk) rc = sd_restore_write(r, chunk, len); // any chunking; stop on error
 *     sd_restore_info info;
 *     rc = sd_restore_finish(r, &info);                  // consumes r, success or not
 *     ... info.meta (meta.inf from the archive), then sd_filestore_open(dir, cfg) ...
 *     sd_restore_info_free(&info);
 *
 * Members are written to "<dir>.partial" as they arrive (the snappy chunk CRCs, tar header
 * checksums and member names are checked on the way).  finish checks every member against the
 * xxh64 sums of snapshot.sum, opens the result as a file store (every record's checksum is
 * verified by recovery) and compares its state with snapshot.inf, fsyncs everything, then
 * renames the directory into place: on any failure nothing is left at dir.  A corrupt or
 * truncated archive fails with SD_ERR_CORRUPT_STREAM_STATE and a reason in info.error. */
typedef struct sd_restore sd_restore;

typedef struct sd_restore_info {
    uint64_t msgs, bytes, first_seq, last_seq; /* the restored stream */
    uint8_t *meta;                             /* meta.inf of the archive (NULL: none) */
    size_t meta_len;
    char error[192]; /* why it failed ("" on success) */
} sd_restore_info;

int sd_restore_begin(const char *dir, sd_restore **out);
/* Feeds the next piece of the archive.  After an error, further writes return it again. */
int sd_restore_write(sd_restore *r, const void *data, size_t len);
/* Completes (see above) and frees r.  info may be NULL. */
int sd_restore_finish(sd_restore *r, sd_restore_info *info);
/* Gives up: removes the partial directory and frees r. */
void sd_restore_abort(sd_restore *r);
void sd_restore_info_free(sd_restore_info *info);

#endif
