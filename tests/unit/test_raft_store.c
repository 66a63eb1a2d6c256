/* tests/unit/test_raft_store.c: durable RAFT state (raftd/log_store.c) and recovery in the
 * core (raftd/raft_node.c): torn tails, corruption, gaps between snapshot and log, damaged
 * meta, snapshot files.  Ports the WAL/startup tests of Go server/raft_test.go on a simulated
 * disk, plus raftd's own damage-detection cases.
 */
#include "common/gotest.h"
#include "sim_single.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N (h->n)
#define NEW RF_SUB_NEW
#define LOGN (h->n->log.n)

static void store3(struct sn *h, uint64_t commit3)
{
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, commit3, 1, 2, 1), NEW);
    cr_assert_eq(N->pindex, 3);
}

/* Chop `bytes` off the end of the newest segment (a crash mid-write). */
static void chop_tail(struct sn *h, uint64_t bytes)
{
    uint32_t n = sim_disk_count(h->disk, "seg.");
    const char *name = sim_disk_name(h->disk, "seg.", n - 1);
    uint8_t *b;
    int64_t len = sim_disk_read(h->disk, name, &b);
    cr_assert_gt(len, (int64_t)bytes);
    char copy[64];
    snprintf(copy, sizeof(copy), "%s", name);
    cr_assert_eq(sim_disk_write(h->disk, copy, b, (uint64_t)len - bytes), 0);
    free(b);
}

Test(raft_store, truncate_on_startup)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateOnStartup",
                    "a misaligned record also puts raftd in repair mode (it may have been acked)");
    struct sn *h = sn_new();
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 0, 0, 1), NEW);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    /* A truncation only performed halfway: the last record (and its trailer) is torn. */
    chop_tail(h, 50);
    sn_restart(h);
    cr_assert_eq(LOGN, 1);
    cr_assert_eq(rf_log_first(&N->log), 1);
    cr_assert_eq(rf_log_last(&N->log), 1);
    cr_assert(!N->repair); /* a torn, never-synced tail is not damage */
    /* Store an invalid append entry manually: index 2 claiming pindex 0. */
    struct rf_msg *bad = sn_ae(h, SN_NATS0, 1, 0, 1, 0, 1);
    uint8_t *buf;
    uint32_t len;
    cr_assert_eq(rf_ae_encode(bad, &buf, &len), 0);
    struct rf_op op = {.type = RF_OP_APPEND, .index = 2, .term = 1, .len = len, .buf = buf};
    cr_assert_eq(rf_ls_apply(h->ls, &op, 1), 0);
    cr_assert_eq(rf_ls_sync(h->ls), 0);
    free(buf);
    sn_restart(h);
    cr_assert_eq(LOGN, 1);
    cr_assert_eq(rf_log_last(&N->log), 1);
    cr_assert_eq(N->pindex, 1);
    sn_free(h);
}

Test(raft_store, truncate_log_with_misaligned_snapshot_gap)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateLogWithMisalignedSnapshotGap",
                    "the gap also puts raftd in repair mode until a leader repairs it");
    struct sn *h = sn_new();
    rf_ls_set_segment_bytes(h->ls, 1); /* one record per segment */
    store3(h, 2);
    rf_applied(N, 1, NULL);
    cr_assert_eq(rf_install_snapshot(N, NULL, 0, false), 0);
    sn_flush(h);
    cr_assert_eq(rf_log_first(&N->log), 2);
    cr_assert_eq(rf_log_last(&N->log), 3);
    /* Compact further so the log no longer lines up with the snapshot. */
    cr_assert_eq(sim_disk_remove(h->disk, "seg.00000000000000000002"), 1);
    sn_restart(h);
    cr_assert_eq(LOGN, 0);
    cr_assert_eq(rf_log_first(&N->log), 2);
    cr_assert_eq(rf_log_last(&N->log), 1);
    cr_assert_eq(N->pindex, 1);
    cr_assert(N->repair);
    /* The missing entries can be re-populated. */
    sn_process(h, sn_ae(h, SN_NATS0, 1, 0, 1, 1, 1), NEW);
    cr_assert_eq(N->pindex, 2);
    sn_process(h, sn_ae(h, SN_NATS0, 1, 2, 1, 2, 1), NEW);
    cr_assert_eq(N->pindex, 3);
    sn_free(h);
}

Test(raft_store, truncate_log_with_missing_snapshot)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGTruncateLogWithMissingSnapshot",
                    "the gap also puts raftd in repair mode until a leader repairs it");
    struct sn *h = sn_new();
    rf_ls_set_segment_bytes(h->ls, 1);
    store3(h, 2);
    /* Compacted without a snapshot. */
    cr_assert_eq(sim_disk_remove(h->disk, "seg.00000000000000000001"), 1);
    sn_restart(h);
    cr_assert_eq(LOGN, 0);
    cr_assert_eq(N->pindex, 0);
    cr_assert(N->repair);
    sn_free(h);
}

Test(raft_store, recover_pindex_pterm_only_if_log_not_empty)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGRecoverPindexPtermOnlyIfLogNotEmpty",
                    "single node on a simulated disk instead of a 3-node group");
    struct sn *h = sn_new();
    store3(h, 2);
    cr_assert_gt(sim_disk_remove(h->disk, "seg."), 0);
    sim_disk_remove(h->disk, "snap.");
    sn_restart(h);
    cr_assert_eq(N->pterm, 0);
    cr_assert_eq(N->pindex, 0);
    cr_assert_eq(N->term, 1); /* the term survives in the meta */
    sn_free(h);
}

Test(raft_store, invalid_tav_doesnt_panic)
{
    /* Single-node side of Go's TestNRGInvalidTAVDoesntPanic (ported in test_raft_replicate):
     * with both meta copies unreadable raftd recovers in repair mode (the vote is unknown). */
    struct sn *h = sn_new();
    store3(h, 2);
    uint8_t junk[4] = {1, 2, 3, 4};
    cr_assert_eq(sim_disk_write(h->disk, "meta.a", junk, 4), 0);
    sn_restart(h);
    cr_assert(!N->repair); /* the second copy is intact */
    cr_assert_eq(N->term, 1);
    cr_assert_eq(sim_disk_write(h->disk, "meta.a", junk, 4), 0);
    cr_assert_eq(sim_disk_write(h->disk, "meta.b", junk, 4), 0);
    sn_restart(h);
    cr_assert(N->repair);
    cr_assert_eq(N->pindex, 3);
    sn_free(h);
}

Test(raft_store, load_last_snapshot_cleans_legacy_zero_index_snapshot)
{
    GO_TEST("server/raft_test.go", "TestNRGLoadLastSnapshotCleansLegacyZeroIndexSnapshot");
    struct sn *h = sn_new();
    struct rf_snapshot s = sn_peerstate_snapshot(h, 1, 0);
    struct rf_snapshot *legacy = rf_snapshot_new(1, 0, s.peerstate, s.ps_len, "legacy", 6);
    free(s.peerstate);
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_snapshot_encode(legacy, &b, &len), 0);
    cr_assert_eq(sim_disk_write(h->disk, "snap.1.0", b, len), 0);
    free(b);
    rf_snapshot_unref(legacy);
    sn_restart(h);
    cr_assert_null(N->snap);
    cr_assert_eq(sim_disk_count(h->disk, "snap."), 0);
    /* And if it is installed in memory somehow, loading drops it. */
    struct rf_snapshot t = sn_peerstate_snapshot(h, 1, 0);
    N->snap = rf_snapshot_new(1, 0, t.peerstate, t.ps_len, NULL, 0);
    free(t.peerstate);
    cr_assert_null(rf_load_last_snapshot(N));
    cr_assert_null(N->snap);
    sn_free(h);
}

Test(raft_store, setup_last_snapshot_ignores_tmp_file)
{
    GO_TEST("server/raft_test.go", "TestNRGSetupLastSnapshotIgnoresTmpFile");
    struct sn *h = sn_new();
    struct rf_snapshot s = sn_peerstate_snapshot(h, 1, 1);
    struct rf_snapshot *good = rf_snapshot_new(1, 1, s.peerstate, s.ps_len, "snapshot", 8);
    free(s.peerstate);
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_snapshot_encode(good, &b, &len), 0);
    cr_assert_eq(sim_disk_write(h->disk, "snap.1.1", b, len), 0);
    free(b);
    rf_snapshot_unref(good);
    cr_assert_eq(sim_disk_write(h->disk, "snap.1.2.tmp", NULL, 0), 0);
    sn_restart(h);
    cr_assert_not_null(N->snap);
    cr_assert_eq(N->snap->index, 1);
    cr_assert_eq(N->pindex, 1);
    cr_assert_eq(sim_disk_count(h->disk, "snap.1.2.tmp"), 0);
    sn_free(h);
}

/* ---- raftd's own durability cases ---- */

Test(raft_store, restart_recovers_everything_synced)
{
    struct sn *h = sn_new();
    rf_ls_set_segment_bytes(h->ls, 300); /* several segments */
    for (uint64_t i = 0; i < 20; i++)
        sn_process(h, sn_ae(h, SN_NATS0, 1 + i / 7, i, i ? 1 + (i - 1) / 7 : 0, i, 2), NEW);
    cr_assert_gt(sim_disk_count(h->disk, "seg."), 2);
    uint64_t term = N->term, pterm = N->pterm;
    rf_id vote = N->vote;
    sn_restart(h);
    cr_assert_eq(N->pindex, 20);
    cr_assert_eq(N->pterm, pterm);
    cr_assert_eq(N->term, term);
    cr_assert(rf_id_eq(N->vote, vote));
    cr_assert(!N->repair);
    /* Truncate across segments, then keep appending. */
    rf_truncate_wal(N, 1, 5);
    sn_flush(h);
    sn_process(h, sn_ae(h, SN_NATS0, 9, 5, 1, 5, 1), NEW);
    sn_restart(h);
    cr_assert_eq(N->pindex, 6);
    cr_assert_eq(N->pterm, 9);
    sn_free(h);
}

Test(raft_store, corruption_in_the_middle_is_damage)
{
    struct sn *h = sn_new();
    store3(h, 2);
    const char *seg = sim_disk_name(h->disk, "seg.", 0);
    uint8_t *b;
    int64_t len = sim_disk_read(h->disk, seg, &b);
    b[60] ^= 0x40; /* inside the first record's payload */
    char name[64];
    snprintf(name, sizeof(name), "%s", seg);
    cr_assert_eq(sim_disk_write(h->disk, name, b, (uint64_t)len), 0);
    free(b);
    sn_restart(h);
    cr_assert(N->repair);
    cr_assert_eq(N->pindex, 0); /* nothing after the damage is trusted */
    /* Repair mode is durable: it survives another restart. */
    sn_restart(h);
    cr_assert(N->repair);
    /* A node in repair only gives "empty" votes, whatever its own log says. */
    int f = sn_vote(h, 5, 0, 0, SN_NATS0);
    cr_assert(f & RF_MF_GRANTED);
    cr_assert(f & RF_MF_EMPTY);
    /* It may campaign, but its own vote is empty too: with three members it needs both. */
    sn_add_peer(h, SN_NATS0);
    sn_add_peer(h, SN_NATS1);
    rf_switch_to_candidate(N);
    rf_request_vote(N);
    cr_assert_eq(N->state, RF_CANDIDATE);
    cr_assert_eq(N->votes.n, 0);
    cr_assert_eq(N->empty_votes.n, 1);
    /* A leader of a later term repairs it. */
    sn_process(h, sn_ae(h, SN_NATS0, 8, 0, 0, 0, 1), NEW);
    cr_assert(!N->repair);
    sn_restart(h);
    cr_assert(!N->repair);
    sn_free(h);
}

Test(raft_store, corrupt_last_synced_record_is_damage)
{
    struct sn *h = sn_new();
    store3(h, 2);
    const char *seg = sim_disk_name(h->disk, "seg.", 0);
    uint8_t *b;
    int64_t len = sim_disk_read(h->disk, seg, &b);
    /* The last entry record sits before the final 48-byte trailer. */
    b[len - 48 - 20] ^= 0x01;
    char name[64];
    snprintf(name, sizeof(name), "%s", seg);
    cr_assert_eq(sim_disk_write(h->disk, name, b, (uint64_t)len), 0);
    free(b);
    sn_restart(h);
    cr_assert(N->repair); /* the batch trailer after it proves it was synced */
    cr_assert_eq(N->pindex, 2);
    sn_free(h);
}

Test(raft_store, corrupt_snapshot_is_damage)
{
    struct sn *h = sn_new();
    store3(h, 2);
    rf_applied(N, 2, NULL);
    cr_assert_eq(rf_install_snapshot(N, "state", 5, false), 0);
    sn_flush(h);
    const char *snap = sim_disk_name(h->disk, "snap.", 0);
    cr_assert_not_null(snap);
    uint8_t *b;
    int64_t len = sim_disk_read(h->disk, snap, &b);
    b[len / 2] ^= 0x10;
    char name[64];
    snprintf(name, sizeof(name), "%s", snap);
    cr_assert_eq(sim_disk_write(h->disk, name, b, (uint64_t)len), 0);
    free(b);
    sn_restart(h);
    cr_assert(N->repair);
    cr_assert_null(N->snap);
    sn_free(h);
}

Test(raft_store, crash_keeps_synced_data)
{
    /* Crash after every batch with torn unsynced writes: synced entries always survive and a
     * torn tail never counts as damage. */
    uint64_t rng = 7;
    for (int round = 0; round < 50; round++) {
        struct sn *h = sn_new();
        rf_ls_set_segment_bytes(h->ls, 200 + round * 10);
        uint64_t n = 1 + sim_rand(&rng, 12);
        for (uint64_t i = 0; i < n; i++)
            sn_process(h, sn_ae(h, SN_NATS0, 1, i, i ? 1 : 0, i, 1), NEW);
        /* An unsynced write in flight. */
        struct rf_msg *extra = sn_ae(h, SN_NATS0, 1, n, 1, n, 1);
        uint8_t *buf;
        uint32_t len;
        cr_assert_eq(rf_ae_encode(extra, &buf, &len), 0);
        struct rf_op op = {.type = RF_OP_APPEND, .index = n + 1, .term = 1, .len = len, .buf = buf};
        cr_assert_eq(rf_ls_apply(h->ls, &op, 1), 0);
        free(buf);
        rf_node_destroy(h->n);
        rf_ls_close(h->ls);
        sim_disk_crash(h->disk, &rng, true);
        h->n = NULL;
        h->ls = NULL;
        struct rf_recovered rec;
        struct rf_ls_config lc = {.segment_bytes = 4096};
        sim_disk_as_rf(h->disk, &h->rdisk);
        cr_assert_eq(rf_ls_open(&h->rdisk, &lc, &h->ls, &rec), 0);
        cr_assert(!rec.damaged, "round %d", round);
        cr_assert(rec.n_recs == n || rec.n_recs == n + 1, "round %d: %llu", round,
                  (unsigned long long)rec.n_recs);
        struct rf_config c = h->cfg;
        c.recovering = true;
        cr_assert_eq(rf_node_create(&c, NULL, &rec, h->now, &h->n), 0);
        rf_recovered_free(&rec);
        cr_assert(!N->repair);
        cr_assert_geq(N->pindex, n);
        sn_free(h);
    }
}
