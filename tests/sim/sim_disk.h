/* tests/sim/sim_disk.h: a simulated disk behind raftd's struct rf_disk (TigerBeetle VOPR
 * style).  Files are inodes with a volatile image (what the process sees) and a durable image
 * (what survives a crash); fsync copies volatile to durable for one file, sync_dir makes the
 * directory (creations, renames, removals) durable.
 *
 * Faults: sim_disk_crash keeps, per file, either the durable image, the volatile image, or a
 * torn mix (a prefix of the volatile image over the durable one); unsynced directory changes
 * are lost.  sim_disk_corrupt flips one byte of synced data (bit rot).
 *
 * Invariant: everything is driven by the caller's PRNG state, so a seed reproduces a run.
 */
#ifndef SIM_DISK_H
#define SIM_DISK_H

#include "raftd/log_store.h"

struct sim_disk;

struct sim_disk *sim_disk_new(void);
void sim_disk_free(struct sim_disk *d);
void sim_disk_as_rf(struct sim_disk *d, struct rf_disk *out);
/* Crash: lose unsynced state (torn writes possible).  All fds are closed. */
void sim_disk_crash(struct sim_disk *d, uint64_t *rng, bool allow_torn);
/* Flip one byte of synced data in a file whose name starts with prefix (NULL: any file).
 * Returns the name of the damaged file or NULL if there was nothing to damage. */
const char *sim_disk_corrupt(struct sim_disk *d, uint64_t *rng, const char *prefix);
/* Remove everything (a replaced disk). */
void sim_disk_wipe(struct sim_disk *d);
uint64_t sim_disk_bytes(const struct sim_disk *d);
/* Fail the next n write-type operations with -EIO (0 disables). */
void sim_disk_fail_writes(struct sim_disk *d, uint32_t n);
/* Read a file's volatile image (test helper); returns length or -ENOENT. */
int64_t sim_disk_read(struct sim_disk *d, const char *name, uint8_t **out);
int sim_disk_write(struct sim_disk *d, const char *name, const uint8_t *b, uint64_t len);
uint32_t sim_disk_count(struct sim_disk *d, const char *prefix);
/* Remove files whose name starts with prefix (durably); returns how many. */
uint32_t sim_disk_remove(struct sim_disk *d, const char *prefix);
/* Name of the i-th file starting with prefix, sorted, or NULL. */
const char *sim_disk_name(struct sim_disk *d, const char *prefix, uint32_t i);

uint64_t sim_rand(uint64_t *rng, uint64_t bound);

#endif
