/* Helpers shared by test_filestore.c and test_filestore_more.c (one executable, run under
 * every NXFS_PERM permutation): a fresh directory per store, the options stores are opened
 * with (fs_opts; tests may change them first: each Criterion test runs in its own process),
 * and assertions on state and raw blocks. */
#ifndef TEST_FILESTORE_HELPERS_H
#define TEST_FILESTORE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/filestore.h"
#include "storaged/store.h"
#include "tests/unit/store_suite.h"

#define SEC 1000000000LL
#define SUBJECTS(...)                                                                              \
    (const char *const[]){__VA_ARGS__},                                                            \
        (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

extern sd_filestore_config fs_opts;

char *new_dir(void);
/* NXFS_PERM: compression and/or encryption on (see test_filestore_helpers.c). */
void apply_perm(sd_filestore_config *fc);
/* Skips a test that inspects the raw block layout under permutations that change it. */
void raw_layout_only(bool any_perm);
int fs_open_dir(const char *dir, const sd_stream_config *cfg, const sd_store_env *env,
                sd_store **out);
/* The shared suite's factory (sd_suite_factory). */
int fs_open(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **out);
int fs_reopen(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **st);
int fs_remove_tomb(void *arg, sd_store *st, uint64_t seq);

sd_store *open_fs(const char *dir, sd_stream_config *cfg, sd_fake_clock *clk);
sd_store *restart(sd_store *st, sd_stream_config *cfg, sd_fake_clock *clk);
uint64_t put(sd_store *st, const char *subj, const char *msg);
void assert_same_state(sd_store *a_st, const sd_stream_state *b);
sd_stream_state state_of(sd_store *st);
void check_msg(sd_store *st, uint64_t seq, const char *subj, const char *payload);
bool msg_exists(sd_store *st, uint64_t seq);
uint8_t *slurp(const char *path, size_t *n);
char *blk_path(const char *dir, unsigned idx);
bool mem_has(const uint8_t *b, size_t n, const char *needle);

#endif
