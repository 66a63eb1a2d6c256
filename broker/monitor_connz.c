/* /connz and /subsz for the whole node (supervisor process).
 *
 * Ports Go nats-server v2.14.5 monitor.go HandleConnz/Connz and HandleSubsz/Subsz.  Every
 * worker answers for its own connections (open ones sorted by the requested key and cut to
 * offset+limit, closed ones from its ring) and its own subscriptions; here the answers are
 * merged, the node-wide closed ring is cut to max_closed_clients (newest kept), and Go's sort,
 * offset and limit are applied to the merged list, so pages are those of one server.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/query.h"
#include "broker/supervisor.h"
#include "common/subject.h"

#define DEFAULT_LIST_SIZE 1024 /* Go DefaultConnListSize, DefaultSubListSize */

/* ---- gathering ----------------------------------------------------------------------------- */

typedef struct connz_acc {
    mon_conn *v;
    size_t n, cap;
    int64_t open_total, closed_total;
} connz_acc;

static void add_conns(uint32_t w, json_t *a, void *arg) {
    (void)w;
    connz_acc *acc = arg;
    acc->open_total += (int64_t)json_integer_value(json_object_get(a, "open_total"));
    acc->closed_total += (int64_t)json_integer_value(json_object_get(a, "closed_total"));
    json_t *arr = json_object_get(a, "conns");
    size_t n = json_array_size(arr);
    if (acc->n + n > acc->cap) {
        size_t cap = acc->cap ? acc->cap : 64;
        while (cap < acc->n + n) cap *= 2;
        mon_conn *nv = realloc(acc->v, cap * sizeof *nv);
        if (!nv) return;
        acc->v = nv;
        acc->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        if (mon_conn_from_json(json_array_get(arr, i), &acc->v[acc->n]) == 0) acc->n++;
}

static int cmp_stop_asc(const void *pa, const void *pb) {
    const mon_conn *a = *(mon_conn *const *)pa, *b = *(mon_conn *const *)pb;
    if (a->stop_ns != b->stop_ns) return a->stop_ns < b->stop_ns ? -1 : 1;
    return a->cid < b->cid ? -1 : a->cid > b->cid;
}

/* ---- output -------------------------------------------------------------------------------- */

static void write_sub(mj_buf *b, const mon_sub *s, bool with_account) {
    mj_obj(b, NULL);
    if (with_account) { /* Go newSubDetail (closed connections, /subsz) */
        mj_str(b, "account", "$G");
        mj_str(b, "account_tag", "$G");
    }
    mj_str(b, "subject", s->subject);
    if (s->queue && s->queue[0]) mj_str(b, "qgroup", s->queue);
    mj_str(b, "sid", s->sid);
    mj_int(b, "msgs", s->msgs);
    if (s->max) mj_int(b, "max", s->max);
    mj_uint(b, "cid", s->cid);
    mj_obj_end(b);
}

static void write_conn(mj_buf *b, const mon_conn *c, int64_t now, bool auth, bool subs,
                       bool detail) {
    char t[64];
    bool closed = c->stop_ns != 0;
    mj_obj(b, NULL);
    mj_uint(b, "cid", c->cid);
    mj_str(b, "kind", "Client");
    mj_str(b, "type", "nats");
    mj_str(b, "ip", c->ip);
    mj_int(b, "port", c->port);
    mj_time(b, "start", c->start_ns, false);
    mj_time(b, "last_activity", c->last_ns, false);
    if (closed) {
        mj_time(b, "stop", c->stop_ns, false);
        mj_str(b, "reason", c->reason ? c->reason : "");
    }
    mj_go_duration(c->rtt_ns, t, sizeof t);
    mj_str(b, "rtt", t);
    if (closed) {
        mj_str(b, "uptime", c->uptime);
        mj_str(b, "idle", c->idle);
    } else {
        mj_uptime(now - c->start_ns, t, sizeof t);
        mj_str(b, "uptime", t);
        mj_uptime(now - c->last_ns, t, sizeof t);
        mj_str(b, "idle", t);
    }
    mj_int(b, "pending_bytes", c->pending);
    mj_int(b, "in_msgs", c->in_msgs);
    mj_int(b, "out_msgs", c->out_msgs);
    mj_int(b, "in_bytes", c->in_bytes);
    mj_int(b, "out_bytes", c->out_bytes);
    mj_uint(b, "subscriptions", c->num_subs);
    if (c->name) mj_str(b, "name", c->name);
    if (c->lang) mj_str(b, "lang", c->lang);
    if (c->version) mj_str(b, "version", c->version);
    if (c->tls_version) mj_str(b, "tls_version", c->tls_version);
    if (c->tls_cipher) mj_str(b, "tls_cipher_suite", c->tls_cipher);
    if (c->tls_first) mj_bool(b, "tls_first", true);
    if (auth && c->user) mj_str(b, "authorized_user", c->user);
    const char *acc_name = c->account ? c->account : "$G";
    if (auth && strcmp(acc_name, "$G")) mj_str(b, "account", acc_name); /* Go: not for $G */
    if (c->nsubs && detail) {
        mj_arr(b, "subscriptions_list_detail");
        for (uint32_t i = 0; i < c->nsubs; i++) write_sub(b, &c->subs[i], closed);
        mj_arr_end(b);
    } else if (c->nsubs && subs) {
        mj_arr(b, "subscriptions_list");
        for (uint32_t i = 0; i < c->nsubs; i++) mj_str(b, NULL, c->subs[i].subject);
        mj_arr_end(b);
    }
    if (auth && !closed) mj_str(b, "name_tag", acc_name); /* Go: the account's name tag */
    mj_obj_end(b);
}

/* ---- /connz -------------------------------------------------------------------------------- */

void mon_connz(const mon_req *r, mon_resp *resp) {
    const char *sort_s = mon_arg(r, "sort");
    bool auth, subs, detail;
    int64_t offset, limit;
    uint64_t cid;
    if (!mon_decode_bool(r, "auth", &auth, resp) || !mon_decode_subs(r, &subs, &detail, resp) ||
        !mon_decode_int(r, "offset", &offset, resp) || !mon_decode_int(r, "limit", &limit, resp) ||
        !mon_decode_uint64(r, "cid", &cid, resp))
        return;
    int state = 0; /* Go decodeState */
    const char *st = mon_arg(r, "state");
    if (st && st[0]) {
        if (!strcasecmp(st, "open")) state = 0;
        else if (!strcasecmp(st, "closed")) state = 1;
        else if (!strcasecmp(st, "any") || !strcasecmp(st, "all")) state = 2;
        else {
            mon_resp_text(resp, 400, "Error decoding state for %s", st);
            return;
        }
    }
    const char *user = mon_arg(r, "user"), *acc = mon_arg(r, "acc"),
               *mqtt = mon_arg(r, "mqtt_client");
    mon_count_req("/connz");

    mon_sort key = mon_sort_parse(sort_s);
    if (key == MON_SORT_INVALID) {
        mon_resp_text(resp, 400, "invalid sorting option: %s", sort_s);
        return;
    }
    if (offset < 0) offset = 0;
    if (limit <= 0) limit = DEFAULT_LIST_SIZE;
    if (key == MON_SORT_STOP && state != 1) {
        mon_resp_text(resp, 400, "sort by stop only valid on closed connections");
        return;
    }
    if (key == MON_SORT_REASON && state != 1) {
        mon_resp_text(resp, 400, "sort by reason only valid on closed connections");
        return;
    }
    if (cid > 0) limit = 1;
    int64_t now = mon_wall_ns();
    const br_node *node = br_supervisor_node();

    mj_buf b;
    mj_init(&b, "  ");
    mj_obj(&b, NULL);
    mon_opts_read_lock();
    bool known = !acc || !acc[0] || !strcmp(acc, "$G") ||
                 br_accounts_conf_find(&g_mon.opts->accounts, acc) ||
                 (br_accounts_system_name(&g_mon.opts->accounts) &&
                  !strcmp(br_accounts_system_name(&g_mon.opts->accounts), acc));
    mon_opts_read_unlock();
    if (!known) { /* Go: unknown account, an empty answer */
        mj_str(&b, "server_id", "");
        mj_time(&b, "now", now, true);
        mj_int(&b, "num_connections", 0);
        mj_int(&b, "total", 0);
        mj_int(&b, "offset", offset);
        mj_int(&b, "limit", limit);
        mj_null(&b, "connections");
        mj_obj_end(&b);
        mon_resp_json(resp, &b);
        return;
    }

    json_t *req = json_object();
    json_object_set_new(req, "state", json_integer(state));
    json_object_set_new(req, "cid", json_integer((json_int_t)cid));
    json_object_set_new(req, "subs", json_integer(detail ? 2 : subs ? 1 : 0));
    json_object_set_new(req, "sort", json_integer(key));
    json_object_set_new(req, "now", json_integer(now));
    int64_t k = offset > INT64_MAX - limit ? INT64_MAX : offset + limit;
    json_object_set_new(req, "k", json_integer(cid ? 0 : k));
    if (user && user[0]) json_object_set_new(req, "user", json_string(user));
    if (mqtt && mqtt[0]) json_object_set_new(req, "mqtt", json_string(mqtt));
    if (acc && acc[0]) json_object_set_new(req, "acc", json_string(acc));
    char *args = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    connz_acc all = {0};
    if (args) mon_query_all(BR_QUERY_CONNZ, args, strlen(args), add_conns, &all);
    free(args);

    /* Split open and closed; the node-wide ring keeps the newest max_closed_clients. */
    mon_conn **open = calloc(all.n + 1, sizeof *open), **closed = calloc(all.n + 1, sizeof *closed);
    size_t nopen = 0, nclosed = 0;
    for (size_t i = 0; open && closed && i < all.n; i++) {
        if (all.v[i].stop_ns)
            closed[nclosed++] = &all.v[i];
        else
            open[nopen++] = &all.v[i];
    }
    if (nclosed > 1) qsort(closed, nclosed, sizeof *closed, cmp_stop_asc);
    size_t drop = nclosed > (size_t)g_mon.max_closed ? nclosed - (size_t)g_mon.max_closed : 0;
    if (all.closed_total > g_mon.max_closed) all.closed_total = g_mon.max_closed;
    int64_t total = state == 0 ? all.open_total
                    : state == 1 ? all.closed_total
                                 : all.open_total + all.closed_total;
    if (cid && nopen) nclosed = drop = 0; /* Go: an open match hides a closed one */

    mon_conn **list = calloc(nopen + nclosed + 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; list && i < nopen; i++) list[n++] = open[i];
    for (size_t i = drop; list && i < nclosed; i++) list[n++] = closed[i];
    mon_conn_sort(list, n, key, now);

    mj_str(&b, "server_id", node ? node->shm->server_id : "");
    mj_time(&b, "now", now, true);
    size_t lo = (uint64_t)offset < n ? (size_t)offset : n;
    size_t hi = lo + ((uint64_t)limit < n - lo ? (size_t)limit : n - lo);
    mj_int(&b, "num_connections", (int64_t)(hi - lo));
    mj_int(&b, "total", total);
    mj_int(&b, "offset", offset);
    mj_int(&b, "limit", limit);
    mj_arr(&b, "connections");
    for (size_t i = lo; i < hi; i++) write_conn(&b, list[i], now, auth, subs, detail);
    mj_arr_end(&b);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);

    for (size_t i = 0; i < all.n; i++) mon_conn_clear(&all.v[i]);
    free(all.v);
    free(open);
    free(closed);
    free(list);
}

/* ---- /subsz -------------------------------------------------------------------------------- */

typedef struct subsz_acc {
    uint32_t subs, cache, max_fanout, cache_cnt;
    uint64_t inserts, removes, matches, hits, tot_fanout;
    int64_t total;
    json_t *details; /* concatenated per worker, in the workers' order */
} subsz_acc;

static void add_subs(uint32_t w, json_t *a, void *arg) {
    (void)w;
    subsz_acc *s = arg;
    json_t *sl = json_object_get(a, "sl");
    s->subs += (uint32_t)json_integer_value(json_object_get(a, "local_subs"));
    s->cache += (uint32_t)json_integer_value(json_object_get(sl, "num_cache"));
    s->inserts += (uint64_t)json_integer_value(json_object_get(sl, "num_inserts"));
    s->removes += (uint64_t)json_integer_value(json_object_get(sl, "num_removes"));
    s->matches += (uint64_t)json_integer_value(json_object_get(sl, "num_matches"));
    s->hits += (uint64_t)json_integer_value(json_object_get(sl, "cache_hits"));
    s->tot_fanout += (uint64_t)json_integer_value(json_object_get(sl, "tot_fanout"));
    s->cache_cnt += (uint32_t)json_integer_value(json_object_get(sl, "cache_cnt"));
    uint32_t mf = (uint32_t)json_integer_value(json_object_get(sl, "max_fanout"));
    if (mf > s->max_fanout) s->max_fanout = mf;
    s->total += (int64_t)json_integer_value(json_object_get(a, "total"));
    json_t *arr = json_object_get(a, "subs");
    if (s->details && arr) json_array_extend(s->details, arr);
}

void mon_subsz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/subsz");
    bool subs;
    int64_t offset, limit;
    if (!mon_decode_bool(r, "subs", &subs, resp) || !mon_decode_int(r, "offset", &offset, resp) ||
        !mon_decode_int(r, "limit", &limit, resp))
        return;
    const char *test = mon_arg(r, "test"), *acc = mon_arg(r, "acc");
    if (offset < 0) offset = 0;
    if (limit <= 0) limit = DEFAULT_LIST_SIZE;
    if (test && test[0] && !nx_subject_valid_literal(test, strlen(test))) {
        mon_resp_text(resp, 400, "invalid test subject, must be valid publish subject: %s", test);
        return;
    }
    subsz_acc s = {0};
    bool other_acc = acc && acc[0] && strcmp(acc, "$G") != 0; /* no such account: nothing */
    if (subs) s.details = json_array();
    if (!other_acc) {
        json_t *req = json_object();
        json_object_set_new(req, "subs", json_boolean(subs));
        if (test && test[0]) json_object_set_new(req, "test", json_string(test));
        int64_t k = offset > INT64_MAX - limit ? INT64_MAX : offset + limit;
        json_object_set_new(req, "k", json_integer(k));
        char *args = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        if (args) mon_query_all(BR_QUERY_SUBSZ, args, strlen(args), add_subs, &s);
        free(args);
    }
    const br_node *node = br_supervisor_node();
    mj_buf b;
    mj_init(&b, "  ");
    mj_obj(&b, NULL);
    mj_str(&b, "server_id", node ? node->shm->server_id : "");
    mj_time(&b, "now", mon_wall_ns(), true);
    mj_uint(&b, "num_subscriptions", s.subs);
    mj_uint(&b, "num_cache", s.cache);
    mj_uint(&b, "num_inserts", s.inserts);
    mj_uint(&b, "num_removes", s.removes);
    mj_uint(&b, "num_matches", s.matches);
    mj_float(&b, "cache_hit_rate", s.matches ? (double)s.hits / (double)s.matches : 0);
    mj_uint(&b, "max_fanout", s.max_fanout);
    mj_float(&b, "avg_fanout", s.tot_fanout ? (double)s.tot_fanout / s.cache_cnt : 0);
    mj_int(&b, "total", subs ? s.total : 0);
    mj_int(&b, "offset", offset);
    mj_int(&b, "limit", limit);
    size_t have = json_array_size(s.details);
    size_t lo = (uint64_t)offset < have ? (size_t)offset : have;
    size_t hi = lo + ((uint64_t)limit < have - lo ? (size_t)limit : have - lo);
    if (hi > lo) {
        mj_arr(&b, "subscriptions_list");
        for (size_t i = lo; i < hi; i++) {
            mon_sub d = {0};
            mon_sub_from_json(json_array_get(s.details, i), &d);
            write_sub(&b, &d, true);
            free(d.subject);
            free(d.queue);
            free(d.sid);
        }
        mj_arr_end(&b);
    }
    mj_obj_end(&b);
    json_decref(s.details);
    mon_resp_json(resp, &b);
}
