/* The stream store test suite, written against storaged/store.h so that every store
 * implementation runs the same cases.
 *
 * Ports the store-generic tests of Go nats-server v2.14.5 server/store_test.go (Go runs each
 * through testAllStoreAllPermutations for the memory and the file store).  A store's test file
 * defines one Criterion Test per case, writes the parity marker for the Go test literally in
 * it (one per Test, so scripts/parity sees it), and calls the matching sd_suite_* function
 * with its factory; tests/unit/test_memstore.c shows the pattern.
 *
 * Time: stores are opened with a fake clock (sd_fake_clock) that the suite advances instead
 * of sleeping; every read of it moves it 1 us forward, so consecutive messages get distinct,
 * increasing timestamps as they do with a real clock.
 */
#ifndef SD_STORE_SUITE_H
#define SD_STORE_SUITE_H

#include <stdbool.h>
#include <stdint.h>

#include "storaged/store.h"

typedef struct sd_fake_clock {
    int64_t now;  /* ns since the epoch */
    int64_t tick; /* added on every read */
} sd_fake_clock;

int64_t sd_fake_clock_now(void *arg);
/* A clock starting at a fixed, realistic date. */
void sd_fake_clock_init(sd_fake_clock *c);

typedef struct sd_suite_factory {
    const char *name;
    sd_storage_type type;
    /* Opens a store for cfg; the suite has set cfg->storage = type already. */
    int (*open)(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **out);
    /* Optional (file store): stop *st and open it again from what it persisted. */
    int (*reopen)(void *arg, const sd_stream_config *cfg, const sd_store_env *env, sd_store **st);
    /* Optional (file store): remove seq writing a tombstone (Go removeMsg(seq, .., true)). */
    int (*remove_with_tombstone)(void *arg, sd_store *st, uint64_t seq);
    void *arg;
} sd_suite_factory;

/* Helpers shared with the stores' own test files. */
sd_store *sd_suite_open(const sd_suite_factory *f, sd_stream_config *cfg, sd_fake_clock *clk);
uint64_t sd_suite_store(sd_store *st, const char *subj, const char *payload);
sd_simple_state sd_suite_subject_state(sd_store *st, const char *subj);
/* Lets ns of fake time pass in 50 ms steps, running sd_store_expire whenever
 * sd_store_next_expire says it is due (what storaged's event loop does with real time). */
void sd_suite_advance(sd_store *st, sd_fake_clock *clk, int64_t ns);
uint64_t sd_suite_subject_total(sd_store *st, const char *filter, const char *subj,
                                size_t *num_subjects);

/* One function per Go test of server/store_test.go that runs on every store. */
void sd_suite_load_next_msg_multi(const sd_suite_factory *f);
void sd_suite_load_next_msg_wildcard_start_before_first_match(const sd_suite_factory *f);
void sd_suite_subject_state_consistency(const sd_suite_factory *f);
void sd_suite_subject_state_consistency_optimization(const sd_suite_factory *f);
void sd_suite_max_msgs_per_update_bug(const sd_suite_factory *f);
void sd_suite_max_msgs_per_update_to_one_remove_newest(const sd_suite_factory *f);
void sd_suite_compact_cleans_up_dmap(const sd_suite_factory *f);
void sd_suite_compact_fully_deleted_range(const sd_suite_factory *f);
void sd_suite_truncate_cleans_up_dmap(const sd_suite_factory *f);
void sd_suite_purge_ex_zero(const sd_suite_factory *f);
void sd_suite_purge_ex_sequence_one(const sd_suite_factory *f);
void sd_suite_purge_ex_keep_with_interior_deletes(const sd_suite_factory *f);
void sd_suite_update_config_ttl_state(const sd_suite_factory *f);
void sd_suite_stream_interior_delete_accounting(const sd_suite_factory *f);
void sd_suite_load_prev_msg_multi(const sd_suite_factory *f);
void sd_suite_load_prev_msg(const sd_suite_factory *f);
void sd_suite_load_prev_msg_multi_full_wildcard_skip(const sd_suite_factory *f);
void sd_suite_discard_new(const sd_suite_factory *f);
void sd_suite_get_seq_from_time_with_interior_deletes_gap(const sd_suite_factory *f);
void sd_suite_get_seq_from_time_with_trailing_deletes(const sd_suite_factory *f);
void sd_suite_skip_msgs_carry_forward_last_time(const sd_suite_factory *f);
void sd_suite_skip_msgs_carry_forward_last_time_from_empty(const sd_suite_factory *f);
void sd_suite_skip_msg_no_interest_advances_last_time(const sd_suite_factory *f);
void sd_suite_multi_last_seqs_and_load_last_msg_with_lazy_subject_state(const sd_suite_factory *f);
void sd_suite_num_pending_last_per_subject_exclude_overcount(const sd_suite_factory *f);

#endif
