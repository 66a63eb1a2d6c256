/* Recovery of an atomic batch whose commit was cut short by a crash.
 *
 * Go nats-server v2.14.5 server/jetstream.go (stream recovery, "Restoring partial batch
 * write"): when the last stored message of an allow_atomic R1 stream carries Nats-Batch-Id and
 * Nats-Batch-Sequence but no Nats-Batch-Commit, Go rolls the commit forward from the batch's
 * staging store on disk.  Here batches are staged in memory (js_batch.c), so the staged rest is
 * gone; the commit is rolled back instead: the batch's messages at the tail are truncated away.
 * Either way the batch is all or nothing.  Rolling back loses nothing acknowledged: a batch is
 * acknowledged once, by the PubAck of its commit, which is only sent after the whole batch is
 * stored and synced (the group commit), so a batch without its commit message on disk was never
 * acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storaged/js/js_stream_int.h"

/* The batch id and sequence of a stored message that belongs to an uncommitted batch; false
 * for anything else (not a batch message, or its commit). */
static bool uncommitted_batch_msg(const sd_store_msg *sm, char **id, uint64_t *bseq) {
    *id = NULL;
    if (!sm->hdr_len) return false;
    char *commit = js_hdr_get(sm->hdr, sm->hdr_len, "Nats-Batch-Commit");
    if (commit) {
        free(commit);
        return false;
    }
    char *seq = js_hdr_get(sm->hdr, sm->hdr_len, "Nats-Batch-Sequence");
    char *bid = js_hdr_get(sm->hdr, sm->hdr_len, "Nats-Batch-Id");
    char *end = NULL;
    unsigned long long v = seq && *seq ? strtoull(seq, &end, 10) : 0;
    bool ok = bid && *bid && end && !*end && v > 0;
    free(seq);
    if (!ok) {
        free(bid);
        return false;
    }
    *id = bid;
    *bseq = v;
    return true;
}

void js_batch_recover(js_stream *st) {
    if (!st->cfg.allow_atomic || !st->store) return;
    sd_store_msg sm = {0};
    if (sd_store_load_last_msg(st->store, ">", &sm) != 0) {
        sd_store_msg_free(&sm);
        return;
    }
    /* Only a tail the crash left: if anything after it was stored and removed since (the
     * commit message deleted, expired or limited away after its batch was acknowledged), the
     * stream's last sequence is past it, and the batch is not touched. */
    sd_stream_state ss = {0};
    sd_store_fast_state(st->store, &ss);
    uint64_t stream_last = ss.last_seq;
    sd_stream_state_free(&ss);
    char *id = NULL;
    uint64_t bseq = 0, last = sm.seq;
    if (last != stream_last || !uncommitted_batch_msg(&sm, &id, &bseq) || bseq > last) {
        free(id);
        sd_store_msg_free(&sm);
        return;
    }
    /* The batch's messages were stored back to back, sequences 1..bseq: check they are all
     * there with the same id before removing anything. */
    uint64_t first = last - bseq + 1;
    bool whole = true;
    for (uint64_t seq = first; whole && seq < last; seq++) {
        char *oid = NULL;
        uint64_t os = 0;
        whole = sd_store_load_msg(st->store, seq, &sm) == 0 && uncommitted_batch_msg(&sm, &oid, &os) &&
                !strcmp(oid, id) && os == seq - first + 1;
        free(oid);
    }
    sd_store_msg_free(&sm);
    if (!whole) {
        nx_log(NX_LOG_ERROR,
               "JetStream: stream '%s > %s' ends with part of batch '%s' (seq %llu) whose "
               "start is not found; left as it is",
               st->acc->name, st->cfg.name, id, (unsigned long long)last);
        free(id);
        return;
    }
    int rc = sd_store_truncate(st->store, first - 1);
    if (rc == 0) rc = st->store->ops->flush_all_pending(st->store);
    if (rc)
        nx_log(NX_LOG_ERROR, "JetStream: rolling back partial batch write for stream '%s > %s' failed: %s",
               st->acc->name, st->cfg.name, sd_strerror(rc));
    else
        nx_log(NX_LOG_NOTICE,
               "  Rolled back partial batch write for stream '%s > %s' (batch '%s', seq %llu to %llu)",
               st->acc->name, st->cfg.name, id, (unsigned long long)first, (unsigned long long)last);
    free(id);
}
