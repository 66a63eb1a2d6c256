/* Internals of the file store, shared by storaged/filestore*.c.  Not a public interface.
 *
 * Design (storaged/README.md, "File store"): the stream's index (sequences, times, subjects,
 * sizes; no bodies) lives in an inner memory store (memstore*.c) that answers every query;
 * the messages are records in append-only block files, msgs/<index>.blk, replayed into the
 * memory store on open, and loads read bodies back through a bounded block cache.  Records
 * (little endian, FS_REC_HDR bytes of header, then subject, headers, payload, then an
 * xxHash64 of everything before it):
 *     u32 len | u8 type | u8 flags | u16 0 | u64 seq | i64 ts | u32 subj_len | u32 hdr_len |
 *     i64 arg | subject | headers | payload | u64 xxh64
 * Invariants:
 *  - blks[] holds consecutive block indexes; only blks[nblks-1] (the current block) is
 *    appended to; every block starts with an FS_REC_BLK record giving the stream's last
 *    sequence and time when it was created (replay starts there when earlier blocks are gone);
 *  - loc maps each stored message's sequence to its record (block index << 40 | offset), the
 *    same location is in the message's index entry (ms_ext_loc, fs_loc_set), and
 *    blk->live counts the stored messages whose record is in that block;
 *  - a head block (not the current one) with no live message is removed: every record in it
 *    only concerns messages at or before it, all gone.  An emptied block further on is removed
 *    too unless it is marked keep (purge/compact/truncate records, damage) or a truncate was
 *    logged at or after it (sequences may have been reused): its tombstones for messages of
 *    earlier blocks are first copied to the current block, and the next block's header covers
 *    the sequences it held;
 *  - records of the running call collect in wbuf and are written (and synced, by mode) when the
 *    outermost call ends; nested calls (callbacks from expire) add to the same buffer;
 *  - with encryption every record of a log-form block is an FS_REC_SEALED envelope (plaintext
 *    records may remain only in blocks written before encryption was turned on, until open
 *    rewrites them); loc offsets are file offsets (of the envelope) in log-form blocks and
 *    logical offsets in packed blocks (FS_PACK_MAGIC);
 *  - the inner store holds no message bodies (MS_F_EXT); a cached block (filestore_cache.c)
 *    holds exactly what loc offsets point into (the file of a log-form block, the logical
 *    content of a packed one): a block changed in place, rewritten or removed loses its copy,
 *    and the current block's copy receives every write as it is made (or is dropped);
 *  - only sealed blocks are rewritten (packed, compacted), always atomically (temporary file,
 *    fsync, rename, directory fsync), and a rewrite holds the same logical records (packing)
 *    or drops only records no replay needs (compaction: never blocks marked keep or damaged,
 *    nor blocks at or before the last truncate).
 */
#ifndef SD_FILESTORE_INT_H
#define SD_FILESTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/filestore.h"
#include "storaged/memstore_int.h"

enum {
    FS_REC_MSG = 1,
    FS_REC_DEL = 2,      /* tombstone: seq removed */
    FS_REC_SKIP = 3,     /* SkipMsg(seq), ts = last time after it */
    FS_REC_SKIP_NI = 4,  /* SkipMsgNoInterest */
    FS_REC_SKIPS = 5,    /* SkipMsgs(seq, arg) */
    FS_REC_PURGE = 6,    /* Purge */
    FS_REC_COMPACT = 7,  /* Compact(seq) */
    FS_REC_TRUNCATE = 8, /* Truncate(seq), ts = resulting last time */
    FS_REC_ERASED = 9,   /* a message record overwritten by EraseMsg */
    FS_REC_BLK = 16,     /* block header: seq/ts = stream last seq/time, arg = block index */
    FS_REC_SEALED = 17,  /* encrypted envelope: msg = nonce | AEAD(inner record) | tag */
};

/* AEAD framing (filestore_crypt.c): 96-bit nonce, 128-bit tag. */
#define FS_NONCE 12
#define FS_TAG 16
#define FS_SEAL_OVERHEAD (FS_NONCE + FS_TAG)

/* Packed (sealed, rewritten) blocks (filestore_pack.c):
 *     "NXFSPAK1" | u8 flags | u8 0 | u16 0 | u32 index | u64 logical len | u64 body len |
 *     body | u64 xxh64(header, body)
 * body = [nonce] payload [tag]; payload = the block's records in plaintext (the logical
 * content), snappy-compressed if FS_PACK_SNAPPY, AEAD-sealed with the header as associated
 * data if FS_PACK_SEALED.  The magic never reads as a record length (> FS_REC_MAX). */
#define FS_PACK_MAGIC "NXFSPAK1"
#define FS_PACK_HDR 32
#define FS_PACK_SNAPPY 1
#define FS_PACK_SEALED 2

#define FS_REC_HDR 40
#define FS_REC_SUM 8
#define FS_REC_MIN (FS_REC_HDR + FS_REC_SUM)
#define FS_REC_MAX (1u << 30)
#define FS_LOC(blk, off) (((uint64_t)(blk) << 40) | (uint64_t)(off))
#define FS_LOC_BLK(loc) ((uint32_t)((loc) >> 40))
#define FS_LOC_OFF(loc) ((loc) & ((1ULL << 40) - 1))

typedef struct fs_blk {
    uint32_t index;
    uint64_t size;  /* bytes written to the file */
    uint64_t live;  /* stored messages whose record is here */
    uint64_t total; /* message records here (live or not): compaction when live < total / 2 */
    bool keep;      /* holds a purge/compact/truncate record or damage: removed only at the head */
    bool packed;    /* rewritten whole (compressed/encrypted); offsets in loc are logical */
    bool enc;       /* packed and encrypted */
    bool damaged;   /* recovery found damage in it: never rewritten */
} fs_blk;

/* A decoded record (pointers into the buffer it was read from). */
typedef struct fs_rec {
    uint32_t len;
    uint8_t type, flags;
    uint64_t seq;
    int64_t ts;
    int64_t arg;
    const char *subj;
    uint32_t slen;
    const uint8_t *hdr;
    uint32_t hlen;
    const uint8_t *msg;
    uint32_t mlen;
} fs_rec;

typedef struct fs_consumer fs_consumer;

/* A cached block (filestore_cache.c): the bytes loc offsets point into, i.e. the file itself
 * for a log-form block (records possibly sealed) and the logical content of a packed one.
 * buf is an anonymous mapping (returned to the system when dropped), cap bytes, counted in
 * cache_bytes. */
typedef struct fs_centry {
    uint32_t index;
    uint8_t *buf;
    size_t len, cap;
    /* Every record's checksum held when the copy was filled (or the copy only ever received
     * what this store wrote: the current block): loads from it copy without hashing again.
     * A copy with damage in it is not verified, and its loads check each record. */
    bool verified;
    struct fs_centry *prev, *next; /* LRU list: head most recently used */
} fs_centry;

typedef struct sd_filestore {
    sd_store base;
    sd_store *inner; /* the memory store holding messages and indexes */
    sd_memstore *ms; /* the same, for its internals */
    char *dir;       /* stream directory */
    char *mdir;      /* dir/msgs */
    int mdir_fd;     /* for fsync after creating/removing blocks */
    int lock_fd;     /* <dir>/LOCK, flock'ed while open: one owner per directory */
    sd_filestore_config fcfg;
    sd_store_env env;
    sd_store_callbacks ucb; /* the owner's callbacks */

    fs_blk *blks; /* ascending block indexes */
    size_t nblks, cap;
    uint32_t trunc_blk; /* block holding the last truncate record (0: none) */
    int cur_fd;         /* the current block */
    int *pend_fds;      /* earlier blocks written since the last sync (lazy modes), to sync then */
    size_t npend, pend_cap;

    sd_seqmap loc; /* seq -> FS_LOC, stored as a pointer-sized integer */

    uint8_t *wbuf;
    size_t wlen, wcap;
    int depth;
    bool replaying;
    bool need_diff;    /* a bulk removal happened: reconcile loc with the memory store */
    bool log_diff;     /* ... and log a tombstone per message it removed (PurgeEx) */
    bool dirty;        /* written but not synced */
    bool dir_dirty;    /* directory changed but not synced */
    int64_t last_sync; /* SD_FS_SYNC_INTERVAL: wall time (env clock) of the last sync */
    int io_err;        /* sticky write error (negative errno) */
    bool closed;

    /* Lost data found by recovery (Go LostStreamData). */
    uint64_t *lost;
    size_t nlost, lost_cap;
    uint64_t lost_bytes;
    bool damaged; /* replay: damage seen since the last sequence-bearing record */

    /* The inner store's clock: the owner's, or forced_now while set (so a record's time is
     * known before the memory store takes it, and replay reproduces logged times). */
    bool have_forced;
    int64_t forced_now;

    /* Encryption (filestore_crypt.c): cipher 0 = none. */
    int cipher;
    uint8_t dkey[32]; /* the stream's data key */
    uint8_t *key;     /* the configured key (copy) */
    size_t key_len;
    void *cctx;        /* EVP_CIPHER_CTX */
    bool unsealed_any; /* recovery: some encrypted data opened with this key */
    bool new_key;      /* the data key was created by this open */
    uint8_t *sbuf;     /* scratch */
    size_t scap;
    size_t last_len; /* bytes fs_append added for its record (envelope included) */

    /* Blocks sealed by rotation, to pack when the running call ends. */
    uint32_t *packq;
    size_t npackq, packq_cap;
    /* Sparse sealed blocks to compact when the running call ends. */
    uint32_t *compq;
    size_t ncompq, compq_cap;

    /* Block cache (filestore_cache.c): the memory store keeps no message bodies (MS_F_EXT);
     * loads read records from cached blocks, bounded by cache_max bytes between calls. */
    sd_seqmap cache;                /* block index -> fs_centry* */
    fs_centry *lru_head, *lru_tail; /* most / least recently used */
    uint64_t cache_bytes, cache_max;
    uint8_t *ltmp; /* scratch: an opened sealed record */
    size_t ltcap;
    /* Reads of single records from blocks that are not cached (filestore_cache.c): the last
     * block opened for that (kept open; closed whenever the block changes: fs_cache_drop; one
     * descriptor per store at most, as stores are many), a buffer, and where the last uncached
     * load was (a second one close to it in the same block loads the block: a scan gets the
     * whole block, a random load one record). */
    int rd_fd;
    bool rd_open, miss_any;
    uint32_t rd_index, miss_index;
    uint64_t miss_off;
    uint8_t *rbuf;
    size_t rcap;
    /* Messages whose record a load found damaged: removed (fenced, no tombstone) and reported
     * as lost when the running call ends. */
    uint64_t *fence;
    size_t nfence, fence_cap;
    bool fencing; /* removing them: no tombstones */
} sd_filestore;

static inline sd_filestore *fs_of(sd_store *st) {
    return (sd_filestore *)st;
}

/* filestore_log.c: records, blocks, writing and syncing */
void fs_put_rec(uint8_t *p, uint8_t type, uint64_t seq, int64_t ts, int64_t arg, const char *subj,
                size_t slen, const uint8_t *hdr, size_t hlen, const uint8_t *msg, size_t mlen);
/* > 0: a valid record of that length; 0: incomplete (needs more bytes); -1: damaged. */
int64_t fs_parse_rec(const uint8_t *p, size_t n, fs_rec *r);
/* The same without the checksum, for bytes whose checksums were verified already (a verified
 * cached block): the framing is still checked. */
int64_t fs_parse_rec_trusted(const uint8_t *p, size_t n, fs_rec *r);
/* Appends a record to the write buffer (rotating blocks as needed); returns its location. */
uint64_t fs_append(sd_filestore *fs, uint8_t type, uint64_t seq, int64_t ts, int64_t arg,
                   const char *subj, size_t slen, const uint8_t *hdr, size_t hlen,
                   const uint8_t *msg, size_t mlen);
int fs_write_pending(sd_filestore *fs);
int fs_sync(sd_filestore *fs);
/* Creates block `index` as the current block (header record buffered). */
int fs_new_block(sd_filestore *fs, uint32_t index);
fs_blk *fs_blk_of(sd_filestore *fs, uint32_t index);
/* The records of a block (its logical content, whatever its form on disk). */
int fs_read_block(sd_filestore *fs, uint32_t index, uint8_t **buf, size_t *n);
void fs_blk_path(const sd_filestore *fs, uint32_t index, char *buf, size_t cap);
void fs_remove_dead_blocks(sd_filestore *fs);
/* Overwrites the message record at loc in place (EraseMsg). */
int fs_erase_record(sd_filestore *fs, uint64_t loc);
void fs_op_begin(sd_filestore *fs);
int fs_op_end(sd_filestore *fs);
/* The inner store's storage callback: bookkeeping, tombstones, then the owner's callback. */
void fs_inner_update(void *arg, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
                     size_t len);
void fs_forget(sd_filestore *fs, uint64_t seq, bool tombstone);
/* Records where seq's record is: in loc (the map removals, reconciliation and rewrites work
 * from) and in the message's index entry (ms_ext_loc: what loads use; m: that entry if the
 * caller has it, else looked up).  Every change of a location goes through here, so the two
 * never differ. */
void fs_loc_set(sd_filestore *fs, uint64_t seq, uint64_t loc, ms_msg *m);
void fs_reconcile(sd_filestore *fs);
int64_t fs_now(const sd_filestore *fs);
int64_t fs_inner_now(void *arg);

/* filestore_cache.c */
/* The inner store's body loader (ms_body_loader). */
int fs_load_body(void *arg, const ms_msg *m, sd_store_msg *sm);
/* A new current block: cached from the start, its writes mirrored (fs_cache_append). */
void fs_cache_new_block(sd_filestore *fs, uint32_t index);
/* Bytes written to block index at offset off: appended to its cached copy (kept in step). */
void fs_cache_append(sd_filestore *fs, uint32_t index, uint64_t off, const uint8_t *p, size_t n);
/* The block changed in place, was rewritten or removed: its cached copy goes. */
void fs_cache_drop(sd_filestore *fs, uint32_t index);
void fs_cache_trim(sd_filestore *fs); /* evicts least recently used blocks down to cache_max */
void fs_cache_free(sd_filestore *fs);
/* Removes the fenced messages (see fence above); how many were removed. */
size_t fs_fence_apply(sd_filestore *fs);
/* After a load at the outermost level: applies pending fences; true if the load should be
 * retried (something it may have stopped at is gone now). */
bool fs_fence_retry(sd_filestore *fs);

/* filestore_recover.c */
/* Replays the blocks; a new store (no blocks) starts at first_seq (Go FirstSeq). */
int fs_recover(sd_filestore *fs, uint64_t first_seq);
void fs_add_lost(sd_filestore *fs, uint64_t seq);

/* filestore_crypt.c */
int fs_random(uint8_t *p, size_t n);
/* out = nonce | ciphertext | tag (n + FS_SEAL_OVERHEAD bytes). */
int fs_seal(sd_filestore *fs, const uint8_t *aad, size_t alen, const uint8_t *in, size_t n,
            uint8_t *out);
/* in = nonce | ciphertext | tag; out gets n - FS_SEAL_OVERHEAD bytes; -EBADMSG: not authentic */
int fs_unseal(sd_filestore *fs, const uint8_t *aad, size_t alen, const uint8_t *in, size_t n,
              uint8_t *out);
uint8_t *fs_scratch(sd_filestore *fs, size_t n);
/* Writes the envelope of record inner (ilen bytes, not in scratch) at dst:
 * FS_REC_MIN + FS_SEAL_OVERHEAD + ilen bytes, bound to block index and offset off. */
int fs_seal_rec(sd_filestore *fs, uint8_t *dst, const uint8_t *inner, size_t ilen, uint32_t index,
                uint64_t off);
/* The plaintext record of outer (itself if not sealed); out holds outer's size at least. */
int fs_open_rec(sd_filestore *fs, const fs_rec *outer, uint32_t index, uint64_t off, uint8_t *out,
                fs_rec *inner);
bool fs_has_key_file(const sd_filestore *fs);
/* Loads (or creates) the stream's data key: -EKEYREJECTED, -ENOKEY. */
int fs_load_keys(sd_filestore *fs, const char *name);
void fs_crypt_free(sd_filestore *fs);
/* Whole small files sealed with the data key ("NXFSENC1" | cipher | nonce | ct | tag; what =
 * associated data naming the file): consumer state.  open: -EINVAL not sealed, -ENOKEY,
 * -EBADMSG not authentic. */
bool fs_blob_is_sealed(const uint8_t *in, size_t n);
int fs_blob_seal(int cipher, const uint8_t key[32], const char *what, const uint8_t *in, size_t n,
                 uint8_t **out, size_t *olen);
int fs_blob_open(int cipher, const uint8_t key[32], const char *what, const uint8_t *in, size_t n,
                 uint8_t **out, size_t *olen);

/* filestore_pack.c */
/* Rewrites sealed block index whole (compressed and/or encrypted), atomically. */
int fs_pack_block(sd_filestore *fs, uint32_t index);
/* Rewrites a block from new logical content (plaintext records), packed. */
int fs_repack(sd_filestore *fs, uint32_t index, const uint8_t *logical, size_t n);
/* Packs the blocks queued by rotation. */
void fs_pack_queued(sd_filestore *fs);
void fs_queue_pack(sd_filestore *fs, uint32_t index);
bool fs_want_pack(const sd_filestore *fs);
/* A packed file's logical content (*out malloc'd): 0, -EBADMSG (damaged), -EKEYREJECTED
 * (not authentic with this key: wrong key or tampered), -ENOKEY. */
int fs_unpack(sd_filestore *fs, uint32_t index, const uint8_t *file, size_t n, uint8_t **out,
              size_t *len);
bool fs_is_packed(const uint8_t *file, size_t n);
/* A log-form block holding plaintext records (not sealed). */
bool fs_block_has_plain(sd_filestore *fs, uint32_t index);
/* Replaces a block file with new contents: temporary file, fsync, rename, directory fsync. */
int fs_replace_file(sd_filestore *fs, uint32_t index, const uint8_t *data, size_t n);
void fs_remove_temps(sd_filestore *fs);

/* Compaction (Go msgBlock.compact / shouldCompactSync): a sealed block (not the current one,
 * not keep, not damaged, after the last truncate) whose live messages fell under half of its
 * message records is rewritten with only: its header, its live messages' records, and its
 * tombstones for earlier blocks' messages.  Dropped: records of removed messages, their
 * erasures and tombstones, skips (the next block's header covers the sequences). */
#define FS_COMPACT_MIN 8 /* message records, below which a block is left alone */
bool fs_want_compact(const sd_filestore *fs, const fs_blk *b);
void fs_queue_compact(sd_filestore *fs, uint32_t index);
void fs_compact_queued(sd_filestore *fs);
int fs_compact_block(sd_filestore *fs, uint32_t index);

/* Every fsync / fdatasync of the store (test hooks see them). */
int fs_fsync(int fd, bool data_only);
int fs_fsync_dir(const char *path);

/* filestore_snapshot.c */
int fs_check_blocks(sd_filestore *fs);

/* filestore_consumer.c */
int fs_consumer_store_open(sd_filestore *fs, const char *name, const sd_consumer_config *cfg,
                           sd_consumer_store **out);
int fs_rm_rf(const char *path);

/* filestore_archive.c: snapshot archives (tar in the snappy framing format) */
typedef struct fs_arw {
    int fd;
    int err;
    uint8_t *in, *out; /* pending input (<= 64 KiB), one encoded chunk */
    size_t inlen, outcap;
    uint64_t total; /* bytes written to fd */
} fs_arw;
void fs_arw_init(fs_arw *w, int fd);
/* Appends one regular file member. */
int fs_arw_file(fs_arw *w, const char *name, const uint8_t *data, size_t len, int64_t mtime);
int fs_arw_finish(fs_arw *w); /* end-of-archive marker, last chunk; frees buffers */
void fs_arw_discard(fs_arw *w);

typedef struct fs_arr_cbs {
    int (*begin)(void *arg, const char *name, uint64_t size); /* non-zero refuses the member */
    int (*data)(void *arg, const uint8_t *p, size_t n);
    int (*end)(void *arg);
} fs_arr_cbs;
enum { FS_TAR_HDR, FS_TAR_DATA, FS_TAR_PAD, FS_TAR_END };
typedef struct fs_arr {
    fs_arr_cbs cbs;
    void *arg;
    int err;
    char why[160];
    bool started; /* stream identifier seen */
    uint8_t *pend, *plain;
    size_t plen;         /* bytes of the current chunk buffered (header included) */
    uint32_t clen;       /* its length */
    uint64_t skip_chunk; /* bytes of a skippable chunk still to drop */
    int tstate;
    uint8_t hdr[512];
    size_t hlen;
    uint64_t remain;
    size_t pad;
    int zeros;
    bool skip, in_file;
} fs_arr;
void fs_arr_init(fs_arr *r, const fs_arr_cbs *cbs, void *arg);
int fs_arr_feed(fs_arr *r, const uint8_t *p, size_t n);
int fs_arr_done(fs_arr *r); /* 0 if the archive ended cleanly */
int fs_arr_end_member(fs_arr *r);
void fs_arr_free(fs_arr *r);

#endif
