/* raftd/rd_ctl.c: the control socket of raftd (see "Control protocol" in raftd/README.md).
 *
 * Local clients (storaged, the brokers, tests) talk line-delimited JSON over a Unix socket:
 * requests carry "op" (and an optional "id" echoed in the response), events carry "ev".
 * This is the process boundary where Go's jetstream_cluster.go reads the meta group's apply
 * queue (applyMetaEntries: stream/consumer assignments), watches LeadChangeC, and calls the
 * RaftNode API (Propose, ProposeAddPeer, ProposeRemovePeer, StepDown, Peers, Leader,
 * GroupLeader, Term, Progress, Delete).  Entries are opaque bytes, base64 in JSON.
 *
 * Invariants: a request line is bounded (RD_CTL_MAX_LINE) and an output queue too
 * (RD_CTL_MAX_OUT, a slower subscriber is disconnected, like a NATS slow consumer); clients
 * are freed only between event batches (rd_ctl_reap), never while an event for them may be
 * pending.
 */
#include "raftd/rd.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define RD_CTL_MAX_LINE (16u << 20)
#define RD_CTL_MAX_OUT (256u << 20)
#define RD_MAX_PROPOSAL (8u << 20)

struct rd_ctl {
    int kind;
    struct rd_server *srv;
    int fd;
    struct rd_buf rq, wq;
    bool sub_assign, sub_leader, sub_apply;
    bool dead;
    struct rd_ctl *next;
};

int rd_ctl_listen(struct rd_server *s)
{
    const char *path = s->o->control_socket;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        nx_error("control socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path); /* a stale socket of a previous run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
        nx_error("control socket %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    s->ctl_fd = fd;
    static int tag = RD_K_CTL_LISTEN;
    rd_ep_add(s, fd, &tag, EPOLLIN);
    nx_notice("Control socket on %s", path);
    return 0;
}

static void ctl_kill(struct rd_ctl *c)
{
    if (c->dead)
        return;
    c->dead = true;
    rd_ep_del(c->srv, c->fd);
    close(c->fd);
    c->fd = -1;
}

void rd_ctl_reap(struct rd_server *s)
{
    for (struct rd_ctl **pp = &s->ctls; *pp;) {
        struct rd_ctl *c = *pp;
        if (!c->dead) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        rd_buf_free(&c->rq);
        rd_buf_free(&c->wq);
        free(c);
    }
}

void rd_ctl_on_listen(struct rd_server *s)
{
    for (;;) {
        int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct rd_ctl *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            return;
        }
        c->kind = RD_K_CTL;
        c->srv = s;
        c->fd = fd;
        c->next = s->ctls;
        s->ctls = c;
        rd_ep_add(s, fd, c, EPOLLIN);
    }
}

static void ctl_flush(struct rd_ctl *c)
{
    while (!c->dead && rd_buf_pending(&c->wq)) {
        ssize_t w = send(c->fd, c->wq.p + c->wq.off, rd_buf_pending(&c->wq), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            ctl_kill(c);
            return;
        }
        rd_buf_consume(&c->wq, (size_t)w);
    }
    if (!c->dead)
        rd_ep_mod(c->srv, c->fd, c, EPOLLIN | (rd_buf_pending(&c->wq) ? EPOLLOUT : 0));
}

/* Queue one JSON line (steals j). */
static void ctl_send(struct rd_ctl *c, json_t *j)
{
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (c->dead || !txt) {
        free(txt);
        return;
    }
    size_t n = strlen(txt);
    bool was_empty = rd_buf_pending(&c->wq) == 0;
    if (rd_buf_pending(&c->wq) + n + 1 > RD_CTL_MAX_OUT || rd_buf_put(&c->wq, txt, n) < 0 ||
        rd_buf_put(&c->wq, "\n", 1) < 0) {
        nx_warn("control client too slow, disconnecting");
        free(txt);
        ctl_kill(c);
        return;
    }
    free(txt);
    if (was_empty)
        ctl_flush(c);
}

static bool wants_apply(const struct rd_ctl *c, const struct rd_group *g)
{
    return c->sub_apply || (c->sub_assign && !strcmp(g->name, RD_META_GROUP));
}

static json_t *apply_ev(struct rd_group *g, uint64_t index, const uint8_t *data, uint32_t len)
{
    char *b64 = rd_b64_encode(data, len);
    json_t *j = json_pack("{s:s,s:s,s:I,s:s}", "ev", "apply", "group", g->name, "index",
                          (json_int_t)index, "data", b64 ? b64 : "");
    free(b64);
    return j;
}

static json_t *snapshot_ev(struct rd_group *g)
{
    char *b64 = rd_b64_encode(g->snap_data, g->snap_len);
    json_t *j = json_pack("{s:s,s:s,s:I,s:s}", "ev", "snapshot", "group", g->name, "index",
                          (json_int_t)g->snap_index, "data", b64 ? b64 : "");
    free(b64);
    return j;
}

void rd_ctl_publish_snapshot(struct rd_server *s, struct rd_group *g)
{
    for (struct rd_ctl *c = s->ctls; c; c = c->next)
        if (!c->dead && wants_apply(c, g))
            ctl_send(c, snapshot_ev(g));
}

void rd_ctl_publish_apply(struct rd_server *s, struct rd_group *g, uint64_t index,
                          const uint8_t *data, uint32_t len)
{
    for (struct rd_ctl *c = s->ctls; c; c = c->next)
        if (!c->dead && wants_apply(c, g))
            ctl_send(c, apply_ev(g, index, data, len));
}

static json_t *leader_ev(struct rd_server *s, struct rd_group *g)
{
    char id[RF_ID_LEN + 1] = "";
    const char *name = "";
    if (!rf_id_none(g->last_leader)) {
        rd_id_str(g->last_leader, id);
        name = rd_name_of(s, g->last_leader);
        if (!name)
            name = "";
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "ev", "leader", "group", g->name, "leader",
                     name, "leader_id", id, "term", (json_int_t)rf_term(g->n), "is_leader",
                     g->last_is_leader);
}

void rd_ctl_publish_leader(struct rd_server *s, struct rd_group *g)
{
    for (struct rd_ctl *c = s->ctls; c; c = c->next)
        if (!c->dead && c->sub_leader)
            ctl_send(c, leader_ev(s, g));
}

void rd_ctl_publish_removed(struct rd_server *s, const char *group)
{
    for (struct rd_ctl *c = s->ctls; c; c = c->next)
        if (!c->dead && (c->sub_leader || c->sub_apply))
            ctl_send(c, json_pack("{s:s,s:s}", "ev", "removed", "group", group));
}

/* ---- requests ---- */

static json_t *err(const char *msg)
{
    return json_pack("{s:b,s:s}", "ok", false, "error", msg);
}

static json_t *ok(void)
{
    return json_pack("{s:b}", "ok", true);
}

static struct rd_group *req_group(struct rd_server *s, json_t *req, json_t **resp)
{
    const char *name = json_string_value(json_object_get(req, "group"));
    if (!name) {
        *resp = err("missing group");
        return NULL;
    }
    struct rd_group *g = rd_group_find(s, name);
    if (!g)
        *resp = err("no such group");
    else if (g->failed)
        *resp = err("group closed after a storage error");
    return g && !g->failed ? g : NULL;
}

static json_t *group_state(struct rd_server *s, struct rd_group *g)
{
    uint64_t index, commit, applied, now = rd_now_ms();
    rf_progress(g->n, &index, &commit, &applied);
    rf_id lid = rf_group_leader(g->n);
    char lids[RF_ID_LEN + 1] = "", ids[RF_ID_LEN + 1];
    const char *lname = "";
    if (!rf_id_none(lid)) {
        rd_id_str(lid, lids);
        lname = rd_name_of(s, lid) ? rd_name_of(s, lid) : "";
    }
    json_t *peers = json_array();
    struct rf_peer_info pi[RD_MAX_PEERS * 2];
    uint32_t np = rf_peers(g->n, pi, RD_MAX_PEERS * 2);
    for (uint32_t i = 0; i < np; i++) {
        rd_id_str(pi[i].id, ids);
        const char *pn = rd_name_of(s, pi[i].id);
        json_int_t last = pi[i].last_ms ? (json_int_t)(now > pi[i].last_ms ? now - pi[i].last_ms : 0)
                                        : -1;
        json_array_append_new(peers,
                              json_pack("{s:s,s:s,s:b,s:b,s:I,s:I}", "name", pn ? pn : "", "id",
                                        ids, "current", pi[i].current, "catching_up",
                                        pi[i].catching_up, "lag", (json_int_t)pi[i].lag,
                                        "last_contact_ms", last));
    }
    rd_id_str(s->id, ids);
    json_t *j = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:I}", "ok",
                          true, "group", g->name, "name", s->o->name, "id", ids, "state",
                          rf_state_str(rf_state(g->n)), "leader", lname, "is_leader",
                          rf_leader(g->n), "leader_id", lids, "term", (json_int_t)rf_term(g->n),
                          "index", (json_int_t)index, "commit", (json_int_t)commit);
    json_object_set_new(j, "applied", json_integer((json_int_t)applied));
    json_object_set_new(j, "cluster_size", json_integer(rf_cluster_size(g->n)));
    json_object_set_new(j, "quorum", json_boolean(rf_quorum(g->n)));
    json_object_set_new(j, "observer", json_boolean(rf_is_observer(g->n)));
    json_object_set_new(j, "peers", peers);
    json_object_set_new(j, "snapshot_index", json_integer((json_int_t)g->last_snap));
    json_object_set_new(j, "managed", json_boolean(g->managed));
    if (g->managed)
        json_object_set_new(j, "acked", json_integer((json_int_t)g->acked));
    return j;
}

static json_t *op_sub(struct rd_ctl *c, json_t *req)
{
    struct rd_server *s = c->srv;
    json_t *a = json_object_get(req, "assignments"), *l = json_object_get(req, "leaders"),
           *ap = json_object_get(req, "applies");
    c->sub_assign = a ? json_is_true(a) : true;
    c->sub_leader = l ? json_is_true(l) : true;
    c->sub_apply = ap && json_is_true(ap);
    json_t *resp = ok();
    if (json_object_get(req, "id"))
        json_object_set(resp, "id", json_object_get(req, "id"));
    ctl_send(c, resp);
    /* The current state first: everything applied so far, then who leads. */
    for (struct rd_group *g = s->groups; g; g = g->next) {
        if (wants_apply(c, g) && g->snap_data) /* managed: the unacknowledged snapshot */
            ctl_send(c, snapshot_ev(g));
        if (wants_apply(c, g))
            for (size_t i = 0; i < g->n_hist; i++)
                ctl_send(c, apply_ev(g, g->hist[i].index, g->hist[i].data, g->hist[i].len));
        if (c->sub_leader)
            ctl_send(c, leader_ev(s, g));
    }
    return NULL;
}

static rf_id peer_arg(json_t *req, bool *okp)
{
    const char *p = json_string_value(json_object_get(req, "peer"));
    *okp = p && rd_valid_name(p);
    return *okp ? rd_name_id(p) : (rf_id){{0}};
}

static json_t *op_create(struct rd_server *s, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "group"));
    json_t *pa = json_object_get(req, "peers");
    if (!name || !rd_valid_name(name))
        return err("bad group name");
    if (!strcmp(name, RD_META_GROUP))
        return err("the meta group is created by raftd");
    if (!json_is_array(pa) || json_array_size(pa) == 0 || json_array_size(pa) > RD_MAX_PEERS)
        return err("peers must be an array of 1-64 server names");
    if (rd_group_find(s, name)) {
        json_t *j = ok();
        json_object_set_new(j, "exists", json_true());
        return j;
    }
    const char *peers[RD_MAX_PEERS];
    size_t i;
    json_t *v;
    json_array_foreach(pa, i, v)
    {
        peers[i] = json_string_value(v);
        if (!peers[i] || !rd_valid_name(peers[i]))
            return err("bad peer name");
    }
    bool managed = json_is_true(json_object_get(req, "managed"));
    int rc = rd_group_open(s, name, peers, (int)json_array_size(pa), 0, managed, NULL);
    return rc < 0 ? err(strerror(-rc)) : ok();
}

static json_t *op_propose(struct rd_server *s, json_t *req)
{
    json_t *resp = NULL;
    struct rd_group *g = req_group(s, req, &resp);
    if (!g)
        return resp;
    const char *d = json_string_value(json_object_get(req, "data"));
    if (!d)
        return err("missing data");
    uint8_t *buf;
    size_t len;
    if (rd_b64_decode(d, strlen(d), &buf, &len) < 0)
        return err("data is not base64");
    if (len > RD_MAX_PROPOSAL) {
        free(buf);
        return err("proposal too large");
    }
    int rc;
    bool fwd = rf_state(g->n) != RF_LEADER;
    if (fwd && rf_id_none(rf_group_leader(g->n))) {
        free(buf);
        return err("no leader"); /* nobody would take it: the client retries */
    }
    if (fwd) /* Go's ForwardProposal: the leader takes it */
        rc = rf_forward_proposal(g->n, buf, (uint32_t)len);
    else
        rc = rf_propose(g->n, rf_term(g->n), buf, (uint32_t)len);
    free(buf);
    if (rc < 0)
        return err(strerror(-rc));
    json_t *j = ok();
    json_object_set_new(j, "forwarded", json_boolean(fwd));
    return j;
}

static json_t *op_log(struct rd_server *s, json_t *req)
{
    json_t *resp = NULL;
    struct rd_group *g = req_group(s, req, &resp);
    if (!g)
        return resp;
    json_t *arr = json_array();
    for (size_t i = 0; i < g->n_hist; i++) {
        char *b64 = rd_b64_encode(g->hist[i].data, g->hist[i].len);
        json_array_append_new(arr, json_pack("{s:I,s:s}", "index", (json_int_t)g->hist[i].index,
                                             "data", b64 ? b64 : ""));
        free(b64);
    }
    json_t *j = ok();
    json_object_set_new(j, "applied", json_integer((json_int_t)g->applied));
    json_object_set_new(j, "entries", arr);
    return j;
}

static json_t *handle(struct rd_ctl *c, json_t *req)
{
    struct rd_server *s = c->srv;
    const char *op = json_string_value(json_object_get(req, "op"));
    json_t *resp = NULL;
    struct rd_group *g;
    bool okp;
    int rc;
    if (!op)
        return err("missing op");
    if (!strcmp(op, "sub"))
        return op_sub(c, req);
    if (!strcmp(op, "ping")) {
        char id[RF_ID_LEN + 1];
        rd_id_str(s->id, id);
        return json_pack("{s:b,s:s,s:s,s:b}", "ok", true, "name", s->o->name, "id", id,
                         "meta", rd_group_find(s, RD_META_GROUP) != NULL);
    }
    if (!strcmp(op, "groups")) {
        json_t *arr = json_array();
        for (g = s->groups; g; g = g->next)
            json_array_append_new(arr, json_string(g->name));
        json_t *j = ok();
        json_object_set_new(j, "groups", arr);
        return j;
    }
    if (!strcmp(op, "create"))
        return op_create(s, req);
    if (!strcmp(op, "propose"))
        return op_propose(s, req);
    if (!strcmp(op, "log"))
        return op_log(s, req);
    if (!(g = req_group(s, req, &resp)))
        return resp;
    if (!strcmp(op, "state"))
        return group_state(s, g);
    if (!strcmp(op, "remove")) {
        if (!strcmp(g->name, RD_META_GROUP))
            return err("the meta group cannot be removed");
        rc = rd_group_remove(s, g->name);
        return rc < 0 ? err(strerror(-rc)) : ok();
    }
    if (!strcmp(op, "add_peer") || !strcmp(op, "remove_peer")) {
        rf_id p = peer_arg(req, &okp);
        if (!okp)
            return err("bad peer name");
        rd_name_learn(s, p, json_string_value(json_object_get(req, "peer")));
        if (op[0] == 'a' && rf_state(g->n) != RF_LEADER)
            return err("not leader");
        rc = op[0] == 'a' ? rf_propose_add_peer(g->n, p) : rf_propose_remove_peer(g->n, p);
        return rc < 0 ? err(strerror(-rc)) : ok();
    }
    if (!strcmp(op, "step_down")) {
        const char *pref = json_string_value(json_object_get(req, "preferred"));
        rf_id pid = pref && rd_valid_name(pref) ? rd_name_id(pref) : (rf_id){{0}};
        rc = rf_step_down(g->n, pref ? &pid : NULL);
        return rc < 0 ? err(strerror(-rc)) : ok();
    }
    if (!strcmp(op, "applied")) {
        json_t *ix = json_object_get(req, "index");
        if (!json_is_integer(ix) || json_integer_value(ix) < 0)
            return err("missing index");
        rc = rd_group_ack(g, (uint64_t)json_integer_value(ix));
        return rc < 0 ? err(rc == -EINVAL ? "not a managed group" : "index not delivered yet")
                      : ok();
    }
    if (!strcmp(op, "snapshot") && g->managed) {
        const char *d = json_string_value(json_object_get(req, "data"));
        uint8_t *buf;
        size_t len;
        if (!d || rd_b64_decode(d, strlen(d), &buf, &len) < 0)
            return err("data (base64) required for a managed group");
        rc = rd_group_client_snapshot(g, buf, len);
        free(buf);
        if (rc < 0)
            return err(strerror(-rc));
        json_t *j = ok();
        json_object_set_new(j, "index", json_integer((json_int_t)g->last_snap));
        return j;
    }
    if (!strcmp(op, "snapshot")) {
        rc = rd_group_snapshot(g);
        if (rc < 0)
            return err(strerror(-rc));
        json_t *j = ok();
        json_object_set_new(j, "index", json_integer((json_int_t)g->last_snap));
        return j;
    }
    return err("unknown op");
}

static void ctl_line(struct rd_ctl *c, const char *line, size_t len)
{
    json_error_t je;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    json_t *resp;
    if (!req || !json_is_object(req)) {
        resp = err("bad JSON request");
    } else {
        resp = handle(c, req);
    }
    if (resp) {
        json_t *id = req ? json_object_get(req, "id") : NULL;
        if (id)
            json_object_set(resp, "id", id);
        ctl_send(c, resp);
    }
    json_decref(req);
}

void rd_ctl_on_client(struct rd_ctl *c, uint32_t events)
{
    if (c->dead)
        return;
    if (events & EPOLLIN) {
        for (;;) {
            if (rd_buf_reserve(&c->rq, 65536) < 0) {
                ctl_kill(c);
                return;
            }
            ssize_t r = recv(c->fd, c->rq.p + c->rq.len, 65536, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno == EAGAIN)
                break;
            if (r <= 0) {
                ctl_kill(c);
                return;
            }
            c->rq.len += (size_t)r;
            for (;;) {
                size_t pend = rd_buf_pending(&c->rq);
                const char *start = (const char *)c->rq.p + c->rq.off;
                const char *nl = pend ? memchr(start, '\n', pend) : NULL;
                if (!nl) {
                    if (pend > RD_CTL_MAX_LINE) {
                        nx_warn("control client: request line too long");
                        ctl_kill(c);
                        return;
                    }
                    break;
                }
                size_t ll = (size_t)(nl - start);
                if (ll)
                    ctl_line(c, start, ll);
                if (c->dead)
                    return;
                rd_buf_consume(&c->rq, ll + 1);
            }
        }
    } else if (events & (EPOLLERR | EPOLLHUP)) {
        ctl_kill(c);
        return;
    }
    ctl_flush(c);
}

void rd_ctl_close_all(struct rd_server *s)
{
    for (struct rd_ctl *c = s->ctls; c; c = c->next)
        ctl_kill(c);
    rd_ctl_reap(s);
    if (s->ctl_fd >= 0) {
        close(s->ctl_fd);
        unlink(s->o->control_socket);
    }
    s->ctl_fd = -1;
}
