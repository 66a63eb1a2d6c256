/* tests/sim/sim_single.c: the one-node white-box harness.  See sim_single.h.  Mirrors Go's
 * initSingleMemRaftNode and encode() helpers in server/raft_helpers_test.go.
 *
 * Invariant: every call that feeds the node flushes it completely, so after it returns the
 * node's durable state, captured messages and apply queue reflect the input, as Go's tests
 * expect from their synchronous processAppendEntry calls.
 */
#include "sim_single.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t sample[] = "foo:_INBOX.foo"; /* stands in for encodeStreamMsg(...) */

static void open_node(struct sn *h, const struct rf_peerstate *boot, bool recovering)
{
    struct rf_recovered rec;
    struct rf_ls_config lc = {.segment_bytes = 4096};
    sim_disk_as_rf(h->disk, &h->rdisk);
    if (rf_ls_open(&h->rdisk, &lc, &h->ls, &rec) < 0)
        abort();
    struct rf_config c = h->cfg;
    c.recovering = recovering || rec.has_meta;
    if (rf_node_create(&c, boot, &rec, h->now, &h->n) < 0)
        abort();
    rf_recovered_free(&rec);
}

struct sn *sn_new_peers(const char *const *peers, int npeers, int csz, bool recovering)
{
    struct sn *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    h->now = 1000;
    h->disk = sim_disk_new();
    rf_config_defaults(&h->cfg);
    h->cfg.id = rf_id_from_str(SN_SELF);
    h->cfg.seed = 42;
    for (int i = 0; i < npeers && i < 16; i++)
        h->boot_ids[i] = rf_id_from_str(peers[i]);
    h->boot = (struct rf_peerstate){.n_peers = (uint32_t)npeers, .peers = h->boot_ids,
                                    .cluster_size = (uint32_t)csz};
    open_node(h, &h->boot, recovering);
    sn_flush(h);
    sn_clear_apply(h); /* Go's initRaftNode doesn't push the nil entry, run() does */
    memset(&h->lc, 0, sizeof(h->lc));
    return h;
}

struct sn *sn_new(void)
{
    const char *self[] = {SN_SELF};
    return sn_new_peers(self, 1, 1, false);
}

void sn_clear(struct sn *h)
{
    for (uint32_t i = 0; i < h->nmsgs; i++)
        rf_msg_free(&h->msgs[i]);
    h->nmsgs = 0;
}

void sn_clear_apply(struct sn *h)
{
    for (uint32_t i = 0; i < h->napply; i++)
        rf_entries_free(h->applyq[i].entries, h->applyq[i].n_entries);
    h->napply = 0;
}

void sn_free(struct sn *h)
{
    sn_clear(h);
    sn_clear_apply(h);
    free(h->msgs);
    free(h->applyq);
    for (uint32_t i = 0; i < h->nowned; i++) {
        rf_msg_free(h->owned[i]);
        free(h->owned[i]);
    }
    free(h->owned);
    rf_node_destroy(h->n);
    rf_ls_close(h->ls);
    sim_disk_free(h->disk);
    free(h);
}

void sn_restart(struct sn *h)
{
    sn_flush(h);
    rf_node_destroy(h->n);
    rf_ls_close(h->ls);
    h->n = NULL;
    open_node(h, &h->boot, true);
    sn_flush(h);
}

void sn_flush(struct sn *h)
{
    struct rf_ready rd;
    while (rf_ready(h->n, &rd)) {
        if (rf_ls_apply(h->ls, rd.ops, rd.n_ops) < 0 || rf_ls_sync(h->ls) < 0) {
            rf_storage_error(h->n, -5);
            rf_ready_free(&rd);
            return;
        }
        for (uint32_t i = 0; i < rd.n_msgs; i++) {
            if (h->nmsgs == h->capmsgs) {
                h->capmsgs = h->capmsgs ? h->capmsgs * 2 : 16;
                h->msgs = realloc(h->msgs, h->capmsgs * sizeof(*h->msgs));
            }
            RF_IGNORE(rf_msg_copy(&h->msgs[h->nmsgs++], &rd.msgs[i]));
        }
        for (uint32_t i = 0; i < rd.n_committed; i++) {
            if (h->napply == h->capapply) {
                h->capapply = h->capapply ? h->capapply * 2 : 16;
                h->applyq = realloc(h->applyq, h->capapply * sizeof(*h->applyq));
            }
            struct rf_committed c = rd.committed[i];
            c.entries = rf_entries_dup(c.entries, c.n_entries);
            h->applyq[h->napply++] = c;
        }
        if (rd.lead_change.valid)
            h->lc = rd.lead_change;
        rf_advance(h->n, &rd);
    }
}

void sn_tick(struct sn *h, uint64_t ms)
{
    h->now += ms;
    rf_tick(h->n, h->now);
    sn_flush(h);
}

struct rf_entry sn_entry(uint8_t type, const void *data, uint32_t len)
{
    struct rf_entry e = {.type = type, .len = len};
    if (len) {
        e.data = malloc(len);
        memcpy(e.data, data, len);
    }
    return e;
}

struct rf_entry sn_peer_entry(uint8_t type, const char *peer)
{
    rf_id id = rf_id_from_str(peer);
    return sn_entry(type, id.b, RF_ID_LEN);
}

struct rf_msg *sn_ae_with(struct sn *h, const char *leader, uint64_t term, uint64_t commit,
                          uint64_t pterm, uint64_t pindex, const struct rf_entry *e,
                          uint32_t ne)
{
    struct rf_msg *ae = calloc(1, sizeof(*ae));
    if (!ae)
        abort();
    *ae = (struct rf_msg){.type = RF_MSG_AE, .term = term, .commit = commit, .pterm = pterm,
                          .pindex = pindex, .n_entries = ne};
    ae->leader = rf_id_from_str(leader);
    ae->from = ae->leader;
    ae->entries = rf_entries_dup(e, ne);
    h->owned = realloc(h->owned, (h->nowned + 1) * sizeof(*h->owned));
    h->owned[h->nowned++] = ae;
    return ae;
}

struct rf_msg *sn_ae(struct sn *h, const char *leader, uint64_t term, uint64_t commit,
                     uint64_t pterm, uint64_t pindex, int nent)
{
    struct rf_entry e[4];
    for (int i = 0; i < nent && i < 4; i++)
        e[i] = (struct rf_entry){.type = RF_ENTRY_NORMAL, .len = sizeof(sample) - 1,
                                 .data = (uint8_t *)sample};
    return sn_ae_with(h, leader, term, commit, pterm, pindex, e, (uint32_t)nent);
}

void sn_process(struct sn *h, const struct rf_msg *ae, uint64_t sub)
{
    struct rf_msg m = *ae;
    if (sub == RF_SUB_REPLAY)
        m.from = (rf_id){{0}};
    else if (sub != RF_SUB_NEW)
        m.cid = sub;
    rf_process_append_entry(h->n, &m, sub);
    sn_flush(h);
}

int sn_vote(struct sn *h, uint64_t term, uint64_t last_term, uint64_t last_index,
            const char *candidate)
{
    struct rf_msg vr = {.type = RF_MSG_VOTE_REQ, .term = term, .pterm = last_term,
                        .pindex = last_index};
    vr.leader = rf_id_from_str(candidate ? candidate : "");
    vr.from = rf_id_from_str("$TESTVRQ");
    uint32_t before = h->nmsgs;
    rf_process_vote_request(h->n, &vr);
    sn_flush(h);
    for (uint32_t i = h->nmsgs; i > before; i--)
        if (h->msgs[i - 1].type == RF_MSG_VOTE_RESP)
            return h->msgs[i - 1].flags;
    return -1;
}

void sn_aer(struct sn *h, uint64_t term, uint64_t index, const char *peer, bool success)
{
    struct rf_msg ar = {.type = RF_MSG_AER, .term = term, .index = index,
                        .flags = success ? RF_MF_SUCCESS : 0};
    ar.from = rf_id_from_str(peer);
    rf_process_append_entry_response(h->n, &ar);
    sn_flush(h);
}

uint32_t sn_count(struct sn *h, uint8_t type)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < h->nmsgs; i++)
        if (h->msgs[i].type == type)
            c++;
    return c;
}

const struct rf_msg *sn_last(struct sn *h, uint8_t type)
{
    for (uint32_t i = h->nmsgs; i > 0; i--)
        if (h->msgs[i - 1].type == type)
            return &h->msgs[i - 1];
    return NULL;
}

bool sn_lead_change(struct sn *h, bool *is_leader, uint64_t *term)
{
    if (!h->lc.valid)
        return false;
    if (is_leader)
        *is_leader = h->lc.is_leader;
    if (term)
        *term = h->lc.term;
    memset(&h->lc, 0, sizeof(h->lc));
    return true;
}

bool sn_has_peer(struct sn *h, const char *id)
{
    return rf_peer_find(h->n, rf_id_from_str(id)) != NULL;
}

void sn_add_peer(struct sn *h, const char *id)
{
    rf_add_peer(h->n, rf_id_from_str(id));
    sn_flush(h);
}

struct rf_snapshot sn_peerstate_snapshot(struct sn *h, uint64_t term, uint64_t index)
{
    struct rf_peerstate ps;
    rf_current_peer_state(h->n, &ps);
    struct rf_snapshot s = {.term = term, .index = index, .refs = 1};
    if (rf_peerstate_encode(&ps, &s.peerstate, &s.ps_len) < 0)
        abort();
    rf_peerstate_free(&ps);
    return s;
}
