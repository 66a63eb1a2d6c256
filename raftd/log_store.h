/* raftd/log_store.h: durable state of one RAFT group: term/vote/peer state ("meta"), the log
 * in checksummed segment files, and snapshots.  Replaces Go's tav.idx, peers.idx, the WAL
 * filestore and snapshots/snap.<term>.<index> (server/raft.go writeTermVote,
 * writePeerState, storeToWAL, installSnapshot, setupLastSnapshot) with one format raftd owns.
 *
 * All file I/O goes through struct rf_disk so the simulator can inject a fake disk with
 * latency, crashes that lose unsynced writes, torn writes and bit rot.
 *
 * Files (one directory per group):
 *   meta.a, meta.b      two copies of the meta record (raft_wire.h), written one after the
 *                       other with an fsync in between, so a torn write or one damaged copy
 *                       always leaves a valid copy of the latest synced state.
 *   seg.<20-digit first index>   log segments: a sequence of records
 *                       u32 magic "RFRC" | u32 kind (1 entry, 2 trailer) | u32 len | u32 0 |
 *                       u64 index | u64 term | u64 pterm | payload | u64 xxh64(all before)
 *                       Every fsync batch ends with a trailer record; a bad record followed
 *                       by any intact record (found by scanning forward) is corruption, a bad
 *                       tail with nothing intact after it is a torn, never-synced write.
 *   snap.<term>.<index> snapshots (raft_wire.h encoding), written as .tmp, fsynced, renamed.
 *
 * Invariants: rf_ls_sync makes every op applied before it durable (file fsyncs, trailer, and
 * directory sync for created/removed files); a truncation of synced data is itself fsynced
 * before later appends so a crash can't resurrect truncated records behind new ones; recovery
 * never returns a non-contiguous log and reports damage instead of silently dropping
 * synced records.
 */
#ifndef RF_LOG_STORE_H
#define RF_LOG_STORE_H

#include "raftd/raft.h"

struct rf_disk_ops {
    int (*open)(void *ctx, const char *name, bool create);
    int (*close)(void *ctx, int fd);
    int64_t (*size)(void *ctx, int fd);
    int64_t (*pread)(void *ctx, int fd, void *buf, uint64_t len, uint64_t off);
    int64_t (*pwrite)(void *ctx, int fd, const void *buf, uint64_t len, uint64_t off);
    int (*truncate)(void *ctx, int fd, uint64_t len);
    int (*fsync)(void *ctx, int fd);
    int (*unlink)(void *ctx, const char *name);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*sync_dir)(void *ctx);
    /* Names in the directory; *names is one malloc'd array of malloc'd strings. */
    int (*list)(void *ctx, char ***names, uint32_t *count);
};

struct rf_disk {
    const struct rf_disk_ops *ops;
    void *ctx;
};

struct rf_ls_config {
    uint64_t segment_bytes; /* roll to a new segment past this size */
};

struct rf_log_store;

/* Open (creating if empty) and recover.  rec is filled with what was found. */
int rf_ls_open(struct rf_disk *disk, const struct rf_ls_config *cfg, struct rf_log_store **out,
               struct rf_recovered *rec) RF_WUR;
/* Apply a ready batch's ops in order (data may not be durable until rf_ls_sync). */
int rf_ls_apply(struct rf_log_store *ls, const struct rf_op *ops, uint32_t n) RF_WUR;
/* The fsync barrier. */
int rf_ls_sync(struct rf_log_store *ls) RF_WUR;
void rf_ls_close(struct rf_log_store *ls);
void rf_ls_set_segment_bytes(struct rf_log_store *ls, uint64_t bytes);
/* Introspection for tests. */
uint64_t rf_ls_last_index(const struct rf_log_store *ls);
uint32_t rf_ls_segments(const struct rf_log_store *ls);

/* POSIX implementation: files in `dir` (created if missing). */
int rf_disk_posix_open(const char *dir, struct rf_disk *out) RF_WUR;
void rf_disk_posix_close(struct rf_disk *d);

#endif
