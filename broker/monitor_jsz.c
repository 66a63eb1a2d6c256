/* JetStream monitoring in the supervisor: /jsz, the "jetstream" part of /varz, and the
 * JetStream check of /healthz.
 *
 * Ports Go nats-server v2.14.5 server/monitor.go Jsz (JSInfo), JetStreamVarz and the
 * JetStream part of healthz.  The figures live in storaged; the supervisor asks it over its
 * control connection (BR_QUERY_JSZ, answered by storaged/sd_process.c), which also builds the
 * account details (accounts=true, acc=, streams=true, consumers=true, config=true).
 */
#include <errno.h>
#include <string.h>

#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/query.h"
#include "broker/supervisor.h"
#include "common/log.h"

#define JS_API_LEVEL 4 /* Go JSApiLevel */

typedef struct js_figures {
    uint64_t memory, storage, accounts, api_total, api_errors, streams, consumers, messages, bytes;
    json_t *details; /* account_details when asked for (owned) */
    json_t *meta;    /* clustered: Go MetaClusterInfo from storaged's raftd client (owned) */
} js_figures;

static uint64_t num(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* Asks storaged for its figures (args: the /jsz query, for details); false when JetStream is
 * off or storaged does not answer. */
static bool query_storaged_args(js_figures *f, const char *args) {
    memset(f, 0, sizeof *f);
    const br_node *node = br_supervisor_node();
    int idx = node ? br_node_storaged_index(node) : -1;
    if (idx < 0) return false;
    char *out = NULL;
    size_t len = 0;
    int rc = br_supervisor_query((uint32_t)idx, BR_QUERY_JSZ, args, args ? strlen(args) : 0,
                                 MON_QUERY_TIMEOUT_MS, &out, &len);
    if (rc < 0) return false;
    json_t *j = json_loadb(out, len, 0, NULL);
    free(out);
    if (!j) return false;
    *f = (js_figures){num(j, "memory"),    num(j, "storage"),   num(j, "accounts"),
                      num(j, "api_total"), num(j, "api_errors"), num(j, "streams"),
                      num(j, "consumers"), num(j, "messages"),  num(j, "bytes"), NULL, NULL};
    json_t *d = json_object_get(j, "account_details");
    if (json_is_array(d)) f->details = json_incref(d);
    json_t *m = json_object_get(j, "meta_cluster");
    if (json_is_object(m)) f->meta = json_incref(m);
    json_decref(j);
    return true;
}

static bool query_storaged(js_figures *f) {
    bool ok = query_storaged_args(f, NULL);
    json_decref(f->details);
    f->details = NULL;
    return ok;
}

/* Go JetStreamConfig as this node runs it. */
static void js_config_json(mj_buf *b, const br_options *o) {
    int64_t mem, store;
    const char *dir;
    br_js_effective(o, &mem, &store, &dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/jetstream", dir);
    mj_obj(b, "config");
    mj_int(b, "max_memory", mem);
    mj_int(b, "max_storage", store);
    mj_str(b, "store_dir", path);
    /* Durable by default here: Go's "sync: always" (SyncAlways with the default interval). */
    bool lazy = o->js_sync_interval_ns > 0;
    mj_int(b, "sync_interval", lazy ? o->js_sync_interval_ns : 120LL * 1000000000);
    if (!lazy) mj_bool(b, "sync_always", true);
    if (o->js_domain && o->js_domain[0]) mj_str(b, "domain", o->js_domain);
    mj_bool(b, "compress_ok", true);
    if (o->js_unique_tag && o->js_unique_tag[0]) mj_str(b, "unique_tag", o->js_unique_tag);
    if (!o->js_strict_off) mj_bool(b, "strict", true);
    mj_obj_end(b);
}

static void js_stats_json(mj_buf *b, const js_figures *f, bool enabled) {
    mj_uint(b, "memory", f->memory);
    mj_uint(b, "storage", f->storage);
    mj_int(b, "reserved_memory", 0);
    mj_int(b, "reserved_storage", 0);
    mj_uint(b, "accounts", f->accounts);
    mj_int(b, "ha_assets", 0);
    mj_obj(b, "api");
    mj_int(b, "level", enabled ? JS_API_LEVEL : 0);
    mj_uint(b, "total", f->api_total);
    mj_uint(b, "errors", f->api_errors);
    mj_obj_end(b);
}

void mon_varz_jetstream(mj_buf *b, const br_options *o) {
    mj_obj(b, "jetstream");
    js_figures f;
    if (o->jetstream && query_storaged(&f)) {
        js_config_json(b, o);
        mj_obj(b, "stats");
        js_stats_json(b, &f, true);
        mj_obj_end(b);
        if (f.meta) mj_json(b, "meta", f.meta); /* Go JetStreamVarz.Meta */
        json_decref(f.meta);
    }
    mj_obj_end(b);
}

bool mon_js_unavailable(const br_options *o) {
    js_figures f;
    bool down = o->jetstream && !query_storaged(&f);
    if (!down && o->jetstream) json_decref(f.meta);
    return down;
}

void mon_jsz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/jsz");
    static const char *const bools[] = {"accounts", "streams", "consumers", "direct-consumers",
                                        "config"};
    bool v;
    for (size_t i = 0; i < 5; i++)
        if (!mon_decode_bool(r, bools[i], &v, resp)) return;
    int64_t offset, limit;
    bool leader, raft, sleader;
    if (!mon_decode_int(r, "offset", &offset, resp) || !mon_decode_int(r, "limit", &limit, resp) ||
        !mon_decode_bool(r, "leader-only", &leader, resp) ||
        !mon_decode_bool(r, "raft", &raft, resp) ||
        !mon_decode_bool(r, "stream-leader-only", &sleader, resp))
        return;
    /* Go: consumers imply streams, streams imply accounts; storaged builds the details. */
    char args[512];
    const char *acc = mon_arg(r, "acc");
    bool consumers = false, streams = false, accounts = false, config = false;
    (void)mon_decode_bool(r, "consumers", &consumers, NULL);
    (void)mon_decode_bool(r, "streams", &streams, NULL);
    (void)mon_decode_bool(r, "accounts", &accounts, NULL);
    (void)mon_decode_bool(r, "config", &config, NULL);
    snprintf(args, sizeof args, "accounts=%s&streams=%s&consumers=%s&config=%s&acc=%.200s",
             accounts ? "true" : "false", streams || consumers ? "true" : "false",
             consumers ? "true" : "false", config ? "true" : "false", acc ? acc : "");
    mon_opts_read_lock();
    const br_options *o = g_mon.opts;
    js_figures f = {0};
    bool enabled = o->jetstream && query_storaged_args(&f, args);
    const br_node *snode = br_supervisor_node();
    const char *meta_leader = f.meta ? json_string_value(json_object_get(f.meta, "leader")) : NULL;
    bool not_meta_leader = f.meta && (!meta_leader || !snode ||
                                      strcmp(meta_leader, snode->shm->server_name));
    if (leader && (!enabled || not_meta_leader)) { /* Go: errSkipZreq, "not leader" */
        json_decref(f.meta);
        json_decref(f.details);
        mon_opts_read_unlock();
        mon_resp_text(resp, 400, "filtered response: not leader");
        return;
    }
    if (!enabled) memset(&f, 0, sizeof f);
    mj_buf b;
    mj_init(&b, "  ");
    mj_obj(&b, NULL);
    js_stats_json(&b, &f, enabled);
    const br_node *node = br_supervisor_node();
    mj_str(&b, "server_id", node ? node->shm->server_id : "");
    mj_time(&b, "now", mon_wall_ns(), true);
    if (!enabled) {
        mj_bool(&b, "disabled", true);
        mj_obj(&b, "config");
        mj_int(&b, "max_memory", 0);
        mj_int(&b, "max_storage", 0);
        mj_obj_end(&b);
    } else {
        js_config_json(&b, o);
        mj_obj(&b, "limits"); /* Go: the server's JetStream limits (none configurable here) */
        mj_obj_end(&b);
    }
    mon_opts_read_unlock();
    mj_uint(&b, "streams", f.streams);
    mj_uint(&b, "consumers", f.consumers);
    mj_uint(&b, "messages", f.messages);
    mj_uint(&b, "bytes", f.bytes);
    if (f.meta) mj_json(&b, "meta_cluster", f.meta); /* Go JSInfo.Meta */
    json_decref(f.meta);
    if (f.details && json_array_size(f.details)) mj_json(&b, "account_details", f.details);
    json_decref(f.details);
    mj_uint(&b, "total", f.accounts);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}
