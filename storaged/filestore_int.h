/* Internals of the file store, shared by storaged/filestore*.c.  Not a public interface.
 *
 * Design (storaged/README.md, "File store"): the stream's messages and indexes live in an
 * inner memory store (memstore*.c) that answers every query; the durable copy is a log of
 * records in append-only block files, msgs/<index>.blk, replayed into the memory store on
 * open.  Records (little endian, FS_REC_HDR bytes of header, then subject, headers, payload,
 * then an xxHash64 of everything before it):
 *     u32 len | u8 type | u8 flags | u16 0 | u64 seq | i64 ts | u32 subj_len | u32 hdr_len |
 *     i64 arg | subject | headers | payload | u64 xxh64
 * Invariants:
 *  - blks[] holds consecutive block indexes; only blks[nblks-1] (the current block) is
 *    appended to; every block starts with an FS_REC_BLK record giving the stream's last
 *    sequence and time when it was created (replay starts there when earlier blocks are gone);
 *  - loc maps each stored message's sequence to its record (block index << 40 | offset), and
 *    blk->live counts the stored messages whose record is in that block;
 *  - a head block (not the current one) with no live message is removed: every record in it
 *    only concerns messages at or before it, all gone.  An emptied block further on is removed
 *    too unless it is marked keep (purge/compact/truncate records, damage) or a truncate was
 *    logged at or after it (sequences may have been reused): its tombstones for messages of
 *    earlier blocks are first copied to the current block, and the next block's header covers
 *    the sequences it held;
 *  - records of the running call collect in wbuf and are written (and synced, by mode) when the
 *    outermost call ends; nested calls (callbacks from expire) add to the same buffer.
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
};

#define FS_REC_HDR 40
#define FS_REC_SUM 8
#define FS_REC_MIN (FS_REC_HDR + FS_REC_SUM)
#define FS_REC_MAX (1u << 30)
#define FS_LOC(blk, off) (((uint64_t)(blk) << 40) | (uint64_t)(off))
#define FS_LOC_BLK(loc) ((uint32_t)((loc) >> 40))
#define FS_LOC_OFF(loc) ((loc) & ((1ULL << 40) - 1))

typedef struct fs_blk {
    uint32_t index;
    uint64_t size; /* bytes written to the file */
    uint64_t live; /* stored messages whose record is here */
    bool keep;     /* holds a purge/compact/truncate record or damage: removed only at the head */
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
} sd_filestore;

static inline sd_filestore *fs_of(sd_store *st) {
    return (sd_filestore *)st;
}

/* filestore_log.c: records, blocks, writing and syncing */
void fs_put_rec(uint8_t *p, uint8_t type, uint64_t seq, int64_t ts, int64_t arg, const char *subj,
                size_t slen, const uint8_t *hdr, size_t hlen, const uint8_t *msg, size_t mlen);
/* > 0: a valid record of that length; 0: incomplete (needs more bytes); -1: damaged. */
int64_t fs_parse_rec(const uint8_t *p, size_t n, fs_rec *r);
/* Appends a record to the write buffer (rotating blocks as needed); returns its location. */
uint64_t fs_append(sd_filestore *fs, uint8_t type, uint64_t seq, int64_t ts, int64_t arg,
                   const char *subj, size_t slen, const uint8_t *hdr, size_t hlen,
                   const uint8_t *msg, size_t mlen);
int fs_write_pending(sd_filestore *fs);
int fs_sync(sd_filestore *fs);
/* Creates block `index` as the current block (header record buffered). */
int fs_new_block(sd_filestore *fs, uint32_t index);
fs_blk *fs_blk_of(sd_filestore *fs, uint32_t index);
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
void fs_reconcile(sd_filestore *fs);
int64_t fs_now(const sd_filestore *fs);
int64_t fs_inner_now(void *arg);

/* filestore_recover.c */
/* Replays the blocks; a new store (no blocks) starts at first_seq (Go FirstSeq). */
int fs_recover(sd_filestore *fs, uint64_t first_seq);
void fs_add_lost(sd_filestore *fs, uint64_t seq);

/* filestore_consumer.c */
int fs_consumer_store_open(sd_filestore *fs, const char *name, const sd_consumer_config *cfg,
                           sd_consumer_store **out);
int fs_rm_rf(const char *path);

#endif
