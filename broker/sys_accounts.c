/* Per-account figures for the system account's requests: AccountStatz and AccountInfo.
 *
 * Ports Go nats-server v2.14.5 server/monitor.go AccountStatz (the accounts with local
 * connections, or all with include_unused; a list of names to restrict it) and accountInfo
 * (the parts a configured account has), and server/events.go Account.statz (AccountStat), for
 * $SYS.REQ.ACCOUNT.<acc>.STATZ, $SYS.REQ.ACCOUNT.PING.STATZ and $SYS.REQ.ACCOUNT.<acc>.INFO.
 *
 * Two sides: each worker answers BR_QUERY_ACCSTATZ with its own accounts' counts (clients,
 * client subscriptions, messages in and out); the supervisor sums them per account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/server.h"
#include "broker/supervisor.h"
#include "broker/sys_requests.h"

/* ---- worker side ---------------------------------------------------------------------------- */

int br_sysreq_answer_accstatz(br_server *s, char **out, size_t *out_len) {
    json_t *list = json_array();
    nx_strmap_entry *e;
    for (uint32_t it = 0; s->accounts && nx_strmap_next(&s->accounts->by_name, &it, &e);) {
        const br_account *a = e->value;
        json_array_append_new(list,
                              json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "acc", a->name,
                                        "conns", (json_int_t)a->nclients, "subs",
                                        (json_int_t)a->nsubs, "im", (json_int_t)a->in_msgs, "ib",
                                        (json_int_t)a->in_bytes, "om", (json_int_t)a->out_msgs,
                                        "ob", (json_int_t)a->out_bytes, "sys", a->is_system));
    }
    json_t *o = json_pack("{s:o}", "accounts", list);
    *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!*out) return -1;
    *out_len = strlen(*out);
    return 0;
}

/* ---- supervisor side ------------------------------------------------------------------------ */

static const char *const counts[] = {"conns", "subs", "im", "ib", "om", "ob"};

/* Sums one worker's answer into the node's figures (name -> object, first-seen order). */
static void merge(uint32_t w, json_t *answer, void *arg) {
    (void)w;
    json_t *node = arg, *e;
    size_t i;
    json_array_foreach(json_object_get(answer, "accounts"), i, e) {
        const char *name = json_string_value(json_object_get(e, "acc"));
        if (!name) continue;
        json_t *sum = json_object_get(node, name);
        if (!sum) {
            json_object_set(node, name, e);
            continue;
        }
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            json_int_t v = json_integer_value(json_object_get(sum, counts[k])) +
                           json_integer_value(json_object_get(e, counts[k]));
            json_object_set_new(sum, counts[k], json_integer(v));
        }
        if (json_is_true(json_object_get(e, "sys"))) json_object_set_new(sum, "sys", json_true());
    }
}

static json_t *node_accounts(void) {
    json_t *node = json_object();
    mon_query_all(BR_QUERY_ACCSTATZ, NULL, 0, merge, node);
    return node;
}

static json_int_t num(json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}

static void data_stats(mj_buf *b, const char *key, json_int_t msgs, json_int_t bytes) {
    mj_obj(b, key);
    mj_int(b, "msgs", msgs);
    mj_int(b, "bytes", bytes);
    static const char *const kinds[] = {"gateways", "routes", "leafs"};
    for (int i = 0; i < 3; i++) {
        mj_obj(b, kinds[i]);
        mj_int(b, "msgs", 0);
        mj_int(b, "bytes", 0);
        mj_obj_end(b);
    }
    mj_obj_end(b);
}

/* Go AccountStat. */
static void account_stat(mj_buf *b, const char *name, json_t *a) {
    mj_obj(b, NULL);
    mj_str(b, "acc", name);
    mj_str(b, "name", name);
    mj_int(b, "conns", num(a, "conns"));
    mj_int(b, "leafnodes", 0);
    mj_int(b, "total_conns", num(a, "conns"));
    mj_int(b, "num_subscriptions", num(a, "subs"));
    data_stats(b, "sent", num(a, "om"), num(a, "ob"));
    data_stats(b, "received", num(a, "im"), num(a, "ib"));
    mj_int(b, "slow_consumers", 0);
    mj_obj_end(b);
}

static void head(mj_buf *b) {
    const br_node *node = br_supervisor_node();
    mj_init(b, NULL);
    mj_obj(b, NULL);
    mj_str(b, "server_id", node ? node->shm->server_id : "");
    mj_time(b, "now", mon_wall_ns(), true);
}

char *sys_account_statz(json_t *want, bool unused) {
    json_t *node = node_accounts();
    mj_buf b;
    head(&b);
    mj_arr(&b, "account_statz");
    size_t n = 0;
    if (!json_array_size(want)) {
        const char *name;
        json_t *a;
        json_object_foreach(node, name, a) {
            if (!unused && !num(a, "conns")) continue;
            account_stat(&b, name, a);
            n++;
        }
    } else {
        size_t i;
        json_t *w;
        json_array_foreach(want, i, w) {
            json_t *a = json_object_get(node, json_string_value(w) ? json_string_value(w) : "");
            if (!a || (!unused && !num(a, "conns"))) continue;
            account_stat(&b, json_string_value(w), a);
            n++;
        }
    }
    mj_arr_end(&b);
    mj_obj_end(&b);
    json_decref(node);
    if (!n && !unused) { /* Go: errSkipZreq */
        mj_free(&b);
        return NULL;
    }
    char *text = strndup(b.p, b.len);
    mj_free(&b);
    return text;
}

char *sys_account_info(const char *acc) {
    json_t *node = node_accounts();
    json_t *a = json_object_get(node, acc);
    if (!a) {
        json_decref(node);
        return NULL;
    }
    mon_opts_read_lock();
    bool js = g_mon.opts->jetstream;
    mon_opts_read_unlock();
    bool sys = json_is_true(json_object_get(a, "sys"));
    mj_buf b;
    mj_init(&b, NULL);
    mj_obj(&b, NULL);
    mj_str(&b, "account_name", acc);
    mj_str(&b, "update_time", "0001-01-01T00:00:00Z"); /* Go's zero time: no JWT updates */
    if (sys) mj_bool(&b, "is_system", true);
    mj_bool(&b, "expired", false);
    mj_bool(&b, "complete", true);
    mj_bool(&b, "jetstream_enabled", js && !sys);
    mj_int(&b, "leafnode_connections", 0);
    mj_int(&b, "client_connections", num(a, "conns"));
    mj_int(&b, "subscriptions", num(a, "subs"));
    mj_str(&b, "name_tag", acc);
    mj_obj_end(&b);
    json_decref(node);
    char *text = strndup(b.p, b.len);
    mj_free(&b);
    return text;
}
