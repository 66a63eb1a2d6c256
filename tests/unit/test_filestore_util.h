/* Helpers shared by the file store's test files (tests/unit/test_filestore_*.c): fresh
 * directories under $TMPDIR (removed at exit), opening with options, whole-store comparison. */
#ifndef TEST_FILESTORE_UTIL_H
#define TEST_FILESTORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/filestore.h"
#include "storaged/store.h"
#include "tests/unit/store_suite.h"

/* A new, not yet existing directory path (malloc'd). */
char *fst_new_dir(void);
/* Opens a file store in dir (fo may be NULL: defaults); asserts success. */
sd_store *fst_open(const char *dir, sd_stream_config *cfg, const sd_filestore_config *fo,
                   sd_fake_clock *clk);
int fst_try_open(const char *dir, sd_stream_config *cfg, const sd_filestore_config *fo,
                 sd_fake_clock *clk, sd_store **out);
/* Stops and reopens st from its directory. */
sd_store *fst_restart(sd_store *st, sd_stream_config *cfg, const sd_filestore_config *fo,
                      sd_fake_clock *clk);
/* Same state (msgs, bytes unless skip_bytes, sequences, times, subjects, deletes) and the same
 * messages (subject, headers, payload, time) in both stores. */
void fst_assert_same(sd_store *a, sd_store *b, bool skip_bytes);
uint8_t *fst_slurp(const char *path, size_t *n);
void fst_spit(const char *path, const uint8_t *b, size_t n);
char *fst_blk_path(const char *dir, unsigned idx);
bool fst_mem_has(const uint8_t *b, size_t n, const char *needle);

#endif
