/* Worker mesh over shared-memory rings; see mesh.h.  Plays the part of Go nats-server v2.14.5
 * server/route.go (RS+/RS- interest with queue weights, RMSG forwarding) between the broker
 * workers of one node. */
#include "broker/mesh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

enum { REC_INTEREST = 1, REC_RESET = 2, REC_MSG = 3 };

#define SPILL_MAX_BYTES (64ull << 20) /* per peer */
#define DRAIN_BATCH 4096              /* records per peer per turn, so no peer starves others */

typedef struct rec_interest {
    uint32_t weight; /* 0: no more interest; for a queue group: its member count */
    uint32_t subject_len;
    uint32_t queue_len;
    uint32_t account_len; /* 0: the global account; bytes follow the queue name */
} rec_interest;

typedef struct rec_msg {
    uint32_t hdr_len, total_len;
    uint32_t subject_len, reply_len;
    uint32_t size_len, hdr_str_len;
    uint32_t nqueues;
    uint32_t queues_only;
    uint64_t visited;
    uint32_t account_len; /* 0: the global account; bytes follow the subject */
    uint32_t deliver_len; /* the subject clients see, if not `subject`; follows the account */
} rec_msg;

typedef struct local_interest {
    uint32_t count;
    uint32_t key_len;
    uint32_t acc_len, subj_len, queue_len;
    char key[]; /* account\0subject\0queue\0 */
} local_interest;

/* ---- keys -------------------------------------------------------------------------------- */

/* "$G" travels as the empty account name. */
static size_t acc_norm(const char *acc, size_t len) {
    return (len == 2 && acc[0] == '$' && acc[1] == 'G') ? 0 : len;
}

/* account\0subject\0queue\0 in buf (heap when large); returns the key length without the
 * last NUL. */
static char *make_key(const char *acc, size_t alen, const char *subj, size_t slen,
                      const char *queue, size_t qlen, char *stack, size_t stack_cap,
                      size_t *key_len) {
    size_t need = alen + 1 + slen + 1 + qlen + 1;
    char *k = need <= stack_cap ? stack : malloc(need);
    if (!k) abort();
    if (alen) memcpy(k, acc, alen);
    k[alen] = '\0';
    memcpy(k + alen + 1, subj, slen);
    k[alen + 1 + slen] = '\0';
    if (qlen) memcpy(k + alen + 1 + slen + 1, queue, qlen);
    k[alen + 1 + slen + 1 + qlen] = '\0';
    *key_len = need - 1;
    return k;
}

/* ---- sending ----------------------------------------------------------------------------- */

static void spill(br_mesh_peer *p, uint32_t type, const void *a, uint32_t alen) {
    br_mesh_spill *s = malloc(sizeof *s + alen);
    if (!s) abort();
    s->next = NULL;
    s->type = type;
    s->len = alen;
    if (alen) memcpy(s->data, a, alen);
    if (p->spill_tail)
        p->spill_tail->next = s;
    else
        p->spill_head = s;
    p->spill_tail = s;
    p->spill_bytes += alen;
}

/* Reserves a record for peer w; NULL when it must be spilled instead. */
static void *reserve(br_mesh *m, uint32_t w, uint32_t len, uint32_t type) {
    br_mesh_peer *p = &m->peers[w];
    if (p->spill_head) return NULL; /* keep order behind what already spilled */
    void *dst = nx_ring_reserve(&p->out, len, type);
    if (!dst) {
        /* Ask the consumer to kick us when it frees room, then look once more so the request
         * cannot race with its last release. */
        atomic_store(&p->out.hdr->producer_waiting, 1);
        dst = nx_ring_reserve(&p->out, len, type);
    }
    if (dst) p->out_dirty = true;
    return dst;
}

/* Sends a record built in `buf`; interest and resets are never dropped, messages may be. */
static bool send_record(br_mesh *m, uint32_t w, uint32_t type, const void *buf, uint32_t len) {
    br_mesh_peer *p = &m->peers[w];
    void *dst = reserve(m, w, len, type);
    if (dst) {
        if (len) memcpy(dst, buf, len);
        return true;
    }
    if (type == REC_MSG && p->spill_bytes + len > SPILL_MAX_BYTES) {
        atomic_fetch_add(&m->node->shm->workers[m->self].mesh_dropped, 1);
        return false;
    }
    spill(p, type, buf, len);
    return true;
}

static void send_interest(br_mesh *m, uint32_t w, const local_interest *li, uint32_t weight) {
    size_t alen = li->acc_len, slen = li->subj_len, qlen = li->queue_len;
    const char *subj = li->key + alen + 1, *queue = subj + slen + 1;
    uint32_t len = (uint32_t)(sizeof(rec_interest) + slen + qlen + alen);
    uint8_t stack[512];
    uint8_t *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf) abort();
    rec_interest h = {weight, (uint32_t)slen, (uint32_t)qlen, (uint32_t)alen};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, subj, slen);
    memcpy(buf + sizeof h + slen, queue, qlen);
    memcpy(buf + sizeof h + slen + qlen, li->key, alen);
    send_record(m, w, REC_INTEREST, buf, len);
    if (buf != stack) free(buf);
}

static void broadcast_interest(br_mesh *m, const local_interest *li, uint32_t weight) {
    for (uint32_t w = 0; w < m->nmembers; w++)
        if (w != m->self && m->peers[w].alive) send_interest(m, w, li, weight);
}

void br_mesh_local_sub(br_mesh *m, const sl_sub *sub, int delta) {
    br_mesh_local_sub_acc(m, "", 0, sub, delta);
}

void br_mesh_local_sub_acc(br_mesh *m, const char *account, size_t account_len, const sl_sub *sub,
                           int delta) {
    if (m->nmembers <= 1) return;
    char stack[512];
    size_t klen, alen = acc_norm(account, account_len);
    size_t qlen = sub->queue ? sub->queue_len : 0;
    char *key = make_key(account, alen, sub->subject, sub->subject_len, sub->queue, qlen, stack,
                         sizeof stack, &klen);
    local_interest *li = nx_strmap_get(&m->local, key, klen);
    if (delta > 0) {
        if (!li) {
            li = malloc(sizeof *li + klen + 1);
            if (!li) abort();
            li->count = 0;
            li->key_len = (uint32_t)klen;
            li->acc_len = (uint32_t)alen;
            li->subj_len = sub->subject_len;
            li->queue_len = (uint32_t)qlen;
            memcpy(li->key, key, klen + 1);
            nx_strmap_put(&m->local, li->key, klen, li);
        }
        li->count++;
        /* Plain interest is announced once per subject; queue weight on every change. */
        if (li->count == 1 || sub->queue) broadcast_interest(m, li, sub->queue ? li->count : 1);
    } else if (li) {
        li->count--;
        if (li->count == 0) {
            broadcast_interest(m, li, 0);
            nx_strmap_del(&m->local, li->key, li->key_len);
            free(li);
        } else if (sub->queue) {
            broadcast_interest(m, li, li->count);
        }
    }
    if (key != stack) free(key);
}

bool br_mesh_forward(br_mesh *m, uint32_t w, const br_mesh_msg *msg, const sl_sub *const *queues,
                     uint32_t nqueues) {
    br_mesh_peer *p = &m->peers[w];
    if (!p->alive) return false;
    size_t alen = acc_norm(msg->account.ptr, msg->account.len);
    uint64_t len = sizeof(rec_msg) + msg->subject.len + alen + msg->deliver.len +
                   msg->reply.len + msg->size_str.len + msg->hdr_str.len + msg->total_len;
    for (uint32_t i = 0; i < nqueues; i++) len += 4 + queues[i]->queue_len;
    if (len > nx_ring_max_payload(&p->out)) {
        atomic_fetch_add(&m->node->shm->workers[m->self].mesh_dropped, 1);
        nx_error("Mesh message of %llu bytes exceeds the ring record limit; dropped",
                 (unsigned long long)len);
        return false;
    }
    uint8_t *dst = reserve(m, w, (uint32_t)len, REC_MSG);
    uint8_t *heap = NULL;
    if (!dst) {
        if (p->spill_bytes + len > SPILL_MAX_BYTES) {
            atomic_fetch_add(&m->node->shm->workers[m->self].mesh_dropped, 1);
            return false;
        }
        dst = heap = malloc(len);
        if (!dst) abort();
    }
    rec_msg h = {msg->hdr_len,      msg->total_len,    msg->subject.len,
                 msg->reply.len,    msg->size_str.len, msg->hdr_str.len,
                 nqueues,           msg->queues_only,  msg->visited,
                 (uint32_t)alen,    (uint32_t)msg->deliver.len};
    uint8_t *o = dst;
    memcpy(o, &h, sizeof h);
    o += sizeof h;
    memcpy(o, msg->subject.ptr, msg->subject.len);
    o += msg->subject.len;
    if (alen) memcpy(o, msg->account.ptr, alen);
    o += alen;
    if (msg->deliver.len) memcpy(o, msg->deliver.ptr, msg->deliver.len);
    o += msg->deliver.len;
    /* Empty parts may come with NULL pointers (internal messages): no memcpy from NULL. */
    if (msg->reply.len) memcpy(o, msg->reply.ptr, msg->reply.len);
    o += msg->reply.len;
    if (msg->size_str.len) memcpy(o, msg->size_str.ptr, msg->size_str.len);
    o += msg->size_str.len;
    if (msg->hdr_str.len) memcpy(o, msg->hdr_str.ptr, msg->hdr_str.len);
    o += msg->hdr_str.len;
    for (uint32_t i = 0; i < nqueues; i++) {
        uint32_t ql = queues[i]->queue_len;
        memcpy(o, &ql, 4);
        memcpy(o + 4, queues[i]->queue, ql);
        o += 4 + ql;
    }
    if (msg->total_len) memcpy(o, msg->payload, msg->total_len);
    if (heap) {
        spill(p, REC_MSG, heap, (uint32_t)len);
        free(heap);
    }
    return true;
}

/* ---- receiving --------------------------------------------------------------------------- */

static void rsub_drop(br_mesh_peer *p, br_rsub *rs) {
    nx_strmap_del(&p->interest, rs->key, rs->key_len);
    (void)sl_remove(rs->list, &rs->sl);
    free(rs);
}

static void forget_peer_interest(br_mesh *m, br_mesh_peer *p) {
    (void)m;
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&p->interest, &it, &e);) {
        br_rsub *rs = e->value;
        (void)sl_remove(rs->list, &rs->sl);
        free(rs);
    }
    nx_strmap_free(&p->interest);
}

static sl_sublist *sublist_of(br_mesh *m, const char *acc, size_t alen) {
    if (m->sublist_for) return m->sublist_for(m->sublist_ctx, acc, alen);
    return alen == 0 ? m->sublist : NULL;
}

static void on_interest(br_mesh *m, uint32_t from, const uint8_t *d, uint32_t len) {
    rec_interest h;
    if (len < sizeof h) return;
    memcpy(&h, d, sizeof h);
    if ((uint64_t)sizeof h + h.subject_len + h.queue_len + h.account_len > len ||
        h.subject_len == 0)
        return;
    const char *subj = (const char *)d + sizeof h;
    const char *queue = subj + h.subject_len;
    const char *acc = queue + h.queue_len;
    size_t alen = acc_norm(acc, h.account_len);
    br_mesh_peer *p = &m->peers[from];
    char stack[512];
    size_t klen;
    char *key = make_key(acc, alen, subj, h.subject_len, queue, h.queue_len, stack, sizeof stack,
                         &klen);
    br_rsub *rs = nx_strmap_get(&p->interest, key, klen);
    sl_sublist *list = NULL;
    if (h.weight == 0) {
        if (rs) rsub_drop(p, rs);
    } else if (rs) {
        if (rs->sl.queue && rs->sl.qweight != h.weight) {
            rs->sl.qweight = h.weight;
            sl_update_remote_qsub(rs->list, &rs->sl);
        }
    } else if ((list = sublist_of(m, acc, alen)) != NULL) {
        rs = calloc(1, sizeof *rs + klen + 1);
        if (!rs) abort();
        memcpy(rs->key, key, klen + 1);
        rs->key_len = (uint32_t)klen;
        rs->kind = BR_SUB_REMOTE;
        rs->worker = from;
        rs->list = list;
        rs->sl.subject = rs->key + alen + 1;
        rs->sl.subject_len = h.subject_len;
        if (h.queue_len) {
            rs->sl.queue = rs->key + alen + 1 + h.subject_len + 1;
            rs->sl.queue_len = h.queue_len;
            rs->sl.qweight = h.weight;
        }
        rs->sl.owner = rs;
        if (sl_insert(list, &rs->sl) == 0)
            nx_strmap_put(&p->interest, rs->key, rs->key_len, rs);
        else
            free(rs); /* a peer never sends an invalid subject; refuse it if it does */
    }
    if (key != stack) free(key);
}

#define MAX_MESH_QUEUES 64

static void on_msg(br_mesh *m, const uint8_t *d, uint32_t len) {
    rec_msg h;
    if (len < sizeof h) return;
    memcpy(&h, d, sizeof h);
    uint64_t fixed = (uint64_t)sizeof h + h.subject_len + h.account_len + h.deliver_len +
                     h.reply_len + h.size_len + h.hdr_str_len + h.total_len;
    if (fixed > len || h.hdr_len > h.total_len) return;
    br_mesh_msg msg = {0};
    const uint8_t *o = d + sizeof h;
    msg.subject = (np_str){(const char *)o, h.subject_len};
    o += h.subject_len;
    msg.account = (np_str){(const char *)o, h.account_len};
    o += h.account_len;
    msg.deliver = (np_str){(const char *)o, h.deliver_len};
    o += h.deliver_len;
    msg.reply = (np_str){(const char *)o, h.reply_len};
    o += h.reply_len;
    msg.size_str = (np_str){(const char *)o, h.size_len};
    o += h.size_len;
    msg.hdr_str = (np_str){(const char *)o, h.hdr_str_len};
    o += h.hdr_str_len;
    np_str queues[MAX_MESH_QUEUES];
    uint32_t nq = 0;
    const uint8_t *end = d + len - h.total_len;
    for (uint32_t i = 0; i < h.nqueues; i++) {
        uint32_t ql;
        if (o + 4 > end) return;
        memcpy(&ql, o, 4);
        if (o + 4 + ql > end) return;
        if (nq < MAX_MESH_QUEUES) queues[nq++] = (np_str){(const char *)o + 4, ql};
        o += 4 + ql;
    }
    if (o != end) return;
    msg.hdr_len = h.hdr_len;
    msg.total_len = h.total_len;
    msg.payload = end;
    msg.visited = h.visited | (1ull << m->self);
    msg.queues_only = h.queues_only != 0;
    m->deliver(m->deliver_ctx, &msg, queues, nq);
}

static void handle_record(br_mesh *m, uint32_t from, uint32_t type, const uint8_t *d, uint32_t len) {
    switch (type) {
    case REC_INTEREST: on_interest(m, from, d, len); break;
    case REC_RESET: forget_peer_interest(m, &m->peers[from]); break;
    case REC_MSG: on_msg(m, d, len); break;
    default: nx_error("Mesh: unknown record type %u from worker %u", type, from); break;
    }
}

uint32_t br_mesh_drain(br_mesh *m) {
    uint32_t handled = 0;
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == m->self) continue;
        br_mesh_peer *p = &m->peers[w];
        bool released = false;
        for (uint32_t n = 0; n < DRAIN_BATCH; n++) {
            bool corrupt;
            const nx_ring_rec *rec = nx_ring_peek(&p->in, &corrupt);
            if (corrupt) {
                nx_error("Mesh: corrupt ring from worker %u; discarding its contents", w);
                nx_ring_discard_all(&p->in);
                break;
            }
            if (!rec) break;
            handle_record(m, w, rec->type, rec->data, rec->len);
            nx_ring_release(&p->in, rec);
            released = true;
            handled++;
        }
        if (released && atomic_exchange(&p->in.hdr->producer_waiting, 0))
            br_node_kick(m->node, w);
    }
    return handled;
}

bool br_mesh_has_input(br_mesh *m) {
    for (uint32_t w = 0; w < m->nmembers; w++)
        if (w != m->self && !nx_ring_empty(&m->peers[w].in)) return true;
    return false;
}

/* ---- members without clients ------------------------------------------------------------ */

#define ROUTE_QUEUE_PICKS 64

bool br_mesh_route(br_mesh *m, const br_mesh_msg *msg) {
    static const sl_sub *picks[BR_MAX_WORKERS][ROUTE_QUEUE_PICKS];
    uint32_t npicks[BR_MAX_WORKERS] = {0};
    bool any[BR_MAX_WORKERS] = {false};
    sl_sublist *list = sublist_of(m, msg->account.ptr, acc_norm(msg->account.ptr, msg->account.len));
    if (!list) return false; /* nobody has interest in that account */
    sl_result *r = sl_match(list, msg->subject.ptr, msg->subject.len);
    for (uint32_t i = 0; i < r->npsubs; i++) {
        const br_rsub *rs = r->psubs[i]->owner;
        if (rs->kind == BR_SUB_REMOTE) any[rs->worker] = true;
    }
    for (uint32_t g = 0; g < r->nqsubs; g++) {
        const sl_qgroup *q = &r->qsubs[g];
        if (q->n == 0) continue;
        uint32_t start = (uint32_t)random() % q->n; /* Go: a random member, weighted */
        for (uint32_t k = 0; k < q->n; k++) {
            const sl_sub *ss = q->subs[(start + k) % q->n];
            const br_rsub *rs = ss->owner;
            if (rs->kind != BR_SUB_REMOTE || !m->peers[rs->worker].alive) continue;
            if (npicks[rs->worker] < ROUTE_QUEUE_PICKS) picks[rs->worker][npicks[rs->worker]++] = ss;
            break;
        }
    }
    sl_result_release(r);
    bool delivered = false;
    for (uint32_t w = 0; w < m->nmembers; w++)
        if (w != m->self && (any[w] || npicks[w]))
            delivered |= br_mesh_forward(m, w, msg, picks[w], npicks[w]);
    return delivered;
}

bool br_mesh_has_interest(br_mesh *m, const char *subject, size_t len) {
    return br_mesh_has_interest_acc(m, "", 0, subject, len);
}

bool br_mesh_has_interest_acc(br_mesh *m, const char *account, size_t account_len,
                              const char *subject, size_t len) {
    sl_sublist *list = sublist_of(m, account, acc_norm(account, account_len));
    if (!list) return false;
    sl_result *r = sl_match(list, subject, len);
    bool any = r->npsubs > 0;
    for (uint32_t g = 0; g < r->nqsubs && !any; g++) any = r->qsubs[g].n > 0;
    sl_result_release(r);
    return any;
}

/* ---- peers coming and going -------------------------------------------------------------- */

static void clear_spill(br_mesh_peer *p) {
    while (p->spill_head) {
        br_mesh_spill *s = p->spill_head;
        p->spill_head = s->next;
        free(s);
    }
    p->spill_tail = NULL;
    p->spill_bytes = 0;
}

static void send_dump(br_mesh *m, uint32_t w) {
    send_record(m, w, REC_RESET, NULL, 0);
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&m->local, &it, &e);) {
        local_interest *li = e->value;
        send_interest(m, w, li, li->queue_len ? li->count : 1);
    }
}

static void watch_peers(br_mesh *m) {
    br_node_shm *shm = m->node->shm;
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == m->self) continue;
        br_mesh_peer *p = &m->peers[w];
        br_worker_slot *slot = &shm->workers[w];
        uint32_t epoch = atomic_load(&slot->epoch);
        uint32_t ready = atomic_load(&slot->ready_epoch);
        bool up = atomic_load(&slot->pid) != 0 && epoch != 0 && ready == epoch;
        if (p->known_epoch && (!up || ready != p->known_epoch)) { /* it died or restarted */
            forget_peer_interest(m, p);
            clear_spill(p);
            p->known_epoch = 0;
            p->alive = false;
        }
        if (up && !p->known_epoch) { /* a fresh incarnation: tell it everything we want */
            p->known_epoch = ready;
            p->alive = true;
            send_dump(m, w);
        }
    }
}

static void retry_spill(br_mesh *m, uint32_t w) {
    br_mesh_peer *p = &m->peers[w];
    while (p->spill_head) {
        br_mesh_spill *s = p->spill_head;
        void *dst = nx_ring_reserve(&p->out, s->len, s->type);
        if (!dst) {
            atomic_store(&p->out.hdr->producer_waiting, 1);
            dst = nx_ring_reserve(&p->out, s->len, s->type);
            if (!dst) return;
        }
        if (s->len) memcpy(dst, s->data, s->len);
        p->out_dirty = true;
        p->spill_head = s->next;
        if (!p->spill_head) p->spill_tail = NULL;
        p->spill_bytes -= s->len;
        free(s);
    }
}

void br_mesh_flush(br_mesh *m) {
    if (m->nmembers <= 1) return;
    watch_peers(m);
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == m->self) continue;
        br_mesh_peer *p = &m->peers[w];
        if (p->spill_head) retry_spill(m, w);
        if (p->out_dirty) {
            p->out_dirty = false;
            nx_ring_publish(&p->out);
            br_node_kick(m->node, w);
        }
    }
}

/* ---- lifecycle --------------------------------------------------------------------------- */

int br_mesh_init(br_mesh *m, br_node *node, uint32_t self, sl_sublist *sublist,
                 br_mesh_deliver_fn deliver, void *deliver_ctx) {
    memset(m, 0, sizeof *m);
    m->sublist = sublist;
    m->deliver = deliver;
    m->deliver_ctx = deliver_ctx;
    m->node = node;
    m->self = self;
    m->nmembers = node->shm->nmembers;
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == self) continue;
        nx_ring_attach(&m->peers[w].out, br_node_ring_mem(node, self, w));
        nx_ring_attach(&m->peers[w].in, br_node_ring_mem(node, w, self));
        /* Whatever a peer wrote to our previous incarnation is stale. */
        nx_ring_discard_all(&m->peers[w].in);
    }
    br_worker_slot *slot = &node->shm->workers[self];
    atomic_store(&slot->ready_epoch, atomic_load(&slot->epoch));
    /* Wake every peer so it notices us and sends its interest without waiting for a tick. */
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == self) continue;
        uint64_t one = 1;
        ssize_t n = write(node->doorbell[w], &one, sizeof one);
        (void)n;
    }
    return 0;
}

void br_mesh_free(br_mesh *m) {
    for (uint32_t w = 0; w < m->nmembers; w++) {
        if (w == m->self) continue;
        forget_peer_interest(m, &m->peers[w]);
        clear_spill(&m->peers[w]);
    }
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&m->local, &it, &e);) free(e->value);
    nx_strmap_free(&m->local);
}
