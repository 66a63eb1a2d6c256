/* The monitoring HTTP server (supervisor process); see monitor.h.
 *
 * Ports Go nats-server v2.14.5 server.go startMonitoring (listener, base path, the endpoint
 * table, "Starting http monitor" log line) and the small handlers of monitor.go: HandleRoot,
 * Routez/Gatewayz/Leafz/Raftz as a server without routes, gateways, leafnodes or raft answers
 * them, Accountz/AccountStatz for the global account, Jsz and Healthz with JetStream off, the
 * query-parameter decoders with their error texts, and http_req_stats.
 *
 * libmicrohttpd runs its own threads (a small pool, so /healthz stays responsive while a
 * /connz waits for a busy worker).  Handlers only read the options (immutable after start),
 * the node's shared atomics, and worker answers obtained through br_supervisor_query.
 */
#include "broker/monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/info.h"
#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/options_conf.h"
#include "broker/query.h"
#include "broker/supervisor.h"
#include "common/log.h"
#include "common/net.h"

mon_state g_mon;
static pthread_rwlock_t g_opts_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct MHD_Daemon *g_daemon;
static int g_listen_fd = -1;
static bool g_https;

static const char *const TEXT_PLAIN = "text/plain; charset=utf-8";
static const char *const APP_JSON = "application/json";

/* ---- http_req_stats (Go: s.httpReqStats, keyed by the path constants) --------------------- */

static const char *const stat_paths[] = {"/",       "/accountz", "/accstatz", "/connz",
                                         "/gatewayz", "/healthz", "/jsz",      "/leafz",
                                         "/routez", "/subsz",    "/varz"}; /* sorted, as Go's map */
#define NSTAT (sizeof stat_paths / sizeof stat_paths[0])
static _Atomic uint64_t stat_counts[NSTAT];
static __thread bool no_count; /* the system account's request thread */

void mon_count_disable_thread(void) {
    no_count = true;
}

void mon_count_req(const char *path) {
    if (no_count) return;
    for (size_t i = 0; i < NSTAT; i++)
        if (strcmp(stat_paths[i], path) == 0) atomic_fetch_add(&stat_counts[i], 1);
}

void mon_write_req_stats(mj_buf *b) {
    mj_obj(b, "http_req_stats");
    for (size_t i = 0; i < NSTAT; i++) {
        uint64_t n = atomic_load(&stat_counts[i]);
        if (n) mj_uint(b, stat_paths[i], n);
    }
    mj_obj_end(b);
}

/* ---- requests and responses ----------------------------------------------------------------- */

const char *mon_arg(const mon_req *r, const char *name) {
    if (!r->conn) return json_string_value(json_object_get(r->args, name));
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void mon_resp_text(mon_resp *resp, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *txt = NULL;
    int n = vasprintf(&txt, fmt, ap);
    va_end(ap);
    free(resp->body);
    resp->status = status;
    resp->content_type = TEXT_PLAIN;
    resp->body = n < 0 ? NULL : txt;
    resp->len = n < 0 ? 0 : (size_t)n;
}

void mon_resp_json(mon_resp *resp, mj_buf *b) {
    free(resp->body);
    resp->status = 200;
    resp->content_type = APP_JSON;
    resp->body = b->p;
    resp->len = b->len;
    b->p = NULL;
}

/* Go strconv.ParseBool. */
static int parse_bool(const char *s) {
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, t[i]) == 0) return 1;
        if (strcmp(s, f[i]) == 0) return 0;
    }
    return -1;
}

bool mon_decode_bool(const mon_req *r, const char *name, bool *out, mon_resp *resp) {
    const char *v = mon_arg(r, name);
    *out = false;
    if (!v || !v[0]) return true;
    int b = parse_bool(v);
    if (b < 0) {
        mon_resp_text(resp, 400,
                      "Error decoding boolean for '%s': strconv.ParseBool: parsing \"%s\": "
                      "invalid syntax",
                      name, v);
        return false;
    }
    *out = b;
    return true;
}

/* Go strconv.ParseInt/ParseUint (base 10) error texts. */
static bool parse_num(const char *fn, const char *v, bool is_signed, int64_t *i, uint64_t *u,
                      char *err, size_t cap) {
    const char *p = v;
    bool neg = false;
    if (is_signed && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (!*p) goto syntax;
    uint64_t acc = 0;
    bool range = false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') goto syntax;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (UINT64_MAX - d) / 10) range = true;
        else acc = acc * 10 + d;
    }
    if (is_signed && !range && acc > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        range = true;
    if (range) {
        snprintf(err, cap, "%s: parsing \"%s\": value out of range", fn, v);
        return false;
    }
    if (is_signed)
        *i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    else
        *u = acc;
    return true;
syntax:
    snprintf(err, cap, "%s: parsing \"%s\": invalid syntax", fn, v);
    return false;
}

bool mon_decode_int(const mon_req *r, const char *name, int64_t *out, mon_resp *resp) {
    const char *v = mon_arg(r, name);
    *out = 0;
    if (!v || !v[0]) return true;
    char err[512];
    uint64_t unused;
    if (!parse_num("strconv.Atoi", v, true, out, &unused, err, sizeof err)) {
        mon_resp_text(resp, 400, "Error decoding int for '%s': %s", name, err);
        return false;
    }
    return true;
}

bool mon_decode_uint64(const mon_req *r, const char *name, uint64_t *out, mon_resp *resp) {
    const char *v = mon_arg(r, name);
    *out = 0;
    if (!v || !v[0]) return true;
    char err[512];
    int64_t unused;
    if (!parse_num("strconv.ParseUint", v, false, &unused, out, err, sizeof err)) {
        mon_resp_text(resp, 400, "Error decoding uint64 for '%s': %s", name, err);
        return false;
    }
    return true;
}

bool mon_decode_subs(const mon_req *r, bool *subs, bool *detail, mon_resp *resp) {
    const char *v = mon_arg(r, "subs");
    *subs = false;
    *detail = v && strcasecmp(v, "detail") == 0;
    if (*detail) return true;
    return mon_decode_bool(r, "subs", subs, resp);
}

/* ---- worker queries ------------------------------------------------------------------------ */

uint32_t mon_nworkers(void) {
    const br_node *node = br_supervisor_node();
    return node ? node->shm->nworkers : 0;
}

void mon_query_all(uint32_t type, const char *args, size_t len, mon_each_fn fn, void *arg) {
    uint32_t n = mon_nworkers();
    for (uint32_t w = 0; w < n; w++) {
        char *out = NULL;
        size_t out_len = 0;
        int rc = br_supervisor_query(w, type, args, len, MON_QUERY_TIMEOUT_MS, &out, &out_len);
        if (rc < 0) {
            if (rc != -ENOENT)
                nx_warn("Monitoring: worker %u did not answer (%s)", w, strerror(-rc));
            continue;
        }
        json_t *j = json_loadb(out, out_len, 0, NULL);
        free(out);
        if (j) fn(w, j, arg);
        json_decref(j);
    }
}

/* ---- the simple endpoints ------------------------------------------------------------------ */

static void head(mj_buf *b, int64_t now) {
    const br_node *node = br_supervisor_node();
    mj_init(b, "  ");
    mj_obj(b, NULL);
    mj_str(b, "server_id", node ? node->shm->server_id : "");
    (void)now;
}

static void routez(const mon_req *r, mon_resp *resp) {
    bool subs, detail;
    if (!mon_decode_subs(r, &subs, &detail, resp)) return;
    mon_count_req("/routez");
    mj_buf b;
    head(&b, 0);
    const br_node *node = br_supervisor_node();
    mj_str(&b, "server_name", node ? node->shm->server_name : "");
    mj_time(&b, "now", mon_wall_ns(), true);
    mj_int(&b, "num_routes", 0);
    mj_arr(&b, "routes");
    mj_arr_end(&b);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

static void gatewayz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/gatewayz");
    bool subs, detail, accs;
    if (!mon_decode_subs(r, &subs, &detail, resp) || !mon_decode_bool(r, "accs", &accs, resp))
        return;
    mj_buf b;
    head(&b, 0);
    mj_time(&b, "now", mon_wall_ns(), true);
    mj_obj(&b, "outbound_gateways");
    mj_obj_end(&b);
    mj_obj(&b, "inbound_gateways");
    mj_obj_end(&b);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

static void leafz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/leafz");
    bool subs;
    if (!mon_decode_bool(r, "subs", &subs, resp)) return;
    mj_buf b;
    head(&b, 0);
    mj_time(&b, "now", mon_wall_ns(), true);
    mj_int(&b, "leafnodes", 0);
    mj_arr(&b, "leafs");
    mj_arr_end(&b);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

/* Node-wide figures of the global account ($G, the only account until accounts exist). */
typedef struct acc_sums {
    int64_t conns;
    uint32_t subs;
    json_t *sl; /* summed sublist stats */
} acc_sums;

static void sum_varz(uint32_t w, json_t *a, void *arg) {
    (void)w;
    acc_sums *s = arg;
    s->subs += (uint32_t)json_integer_value(json_object_get(a, "subscriptions"));
}

static int64_t node_conns(void) {
    const br_node *node = br_supervisor_node();
    return node ? br_node_num_clients(node) : 0;
}

static void node_io(uint64_t *in_msgs, uint64_t *in_bytes, uint64_t *out_msgs,
                    uint64_t *out_bytes, uint64_t *slow) {
    const br_node *node = br_supervisor_node();
    *in_msgs = *in_bytes = *out_msgs = *out_bytes = *slow = 0;
    for (uint32_t w = 0; node && w < node->shm->nworkers; w++) {
        const br_worker_slot *sl = &node->shm->workers[w];
        *in_msgs += atomic_load_explicit(&sl->in_msgs, memory_order_relaxed);
        *in_bytes += atomic_load_explicit(&sl->in_bytes, memory_order_relaxed);
        *out_msgs += atomic_load_explicit(&sl->out_msgs, memory_order_relaxed);
        *out_bytes += atomic_load_explicit(&sl->out_bytes, memory_order_relaxed);
        *slow += atomic_load_explicit(&sl->slow_consumers, memory_order_relaxed);
    }
}

static void data_stats(mj_buf *b, const char *key, uint64_t msgs, uint64_t bytes) {
    mj_obj(b, key);
    mj_uint(b, "msgs", msgs);
    mj_uint(b, "bytes", bytes);
    static const char *const kinds[] = {"gateways", "routes", "leafs"};
    for (int i = 0; i < 3; i++) {
        mj_obj(b, kinds[i]);
        mj_int(b, "msgs", 0);
        mj_int(b, "bytes", 0);
        mj_obj_end(b);
    }
    mj_obj_end(b);
}

static void accstatz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/accstatz");
    bool unused;
    if (!mon_decode_bool(r, "unused", &unused, resp)) return;
    mj_buf b;
    head(&b, 0);
    mj_time(&b, "now", mon_wall_ns(), true);
    mj_arr(&b, "account_statz");
    int64_t conns = node_conns();
    if (unused || conns) {
        acc_sums sums = {0};
        mon_query_all(BR_QUERY_VARZ, NULL, 0, sum_varz, &sums);
        uint64_t im, ib, om, ob, slow;
        node_io(&im, &ib, &om, &ob, &slow);
        mj_obj(&b, NULL);
        mj_str(&b, "acc", "$G");
        mj_str(&b, "name", "$G");
        mj_int(&b, "conns", conns);
        mj_int(&b, "leafnodes", 0);
        mj_int(&b, "total_conns", conns);
        mj_uint(&b, "num_subscriptions", sums.subs);
        data_stats(&b, "sent", om, ob);
        data_stats(&b, "received", im, ib);
        mj_uint(&b, "slow_consumers", slow);
        mj_obj_end(&b);
    }
    mj_arr_end(&b);
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

/* Summed sublist statistics of the workers (Go SublistStats; see docs/monitoring.md). */
typedef struct sl_sum {
    uint32_t subs, cache, max_fanout, cache_cnt;
    uint64_t inserts, removes, matches, hits, tot_fanout;
} sl_sum;

static void add_sl(uint32_t w, json_t *a, void *arg) {
    (void)w;
    sl_sum *s = arg;
    json_t *sl = json_object_get(a, "sl");
    s->subs += (uint32_t)json_integer_value(json_object_get(a, "subscriptions"));
    s->cache += (uint32_t)json_integer_value(json_object_get(sl, "num_cache"));
    s->inserts += (uint64_t)json_integer_value(json_object_get(sl, "num_inserts"));
    s->removes += (uint64_t)json_integer_value(json_object_get(sl, "num_removes"));
    s->matches += (uint64_t)json_integer_value(json_object_get(sl, "num_matches"));
    s->hits += (uint64_t)json_integer_value(json_object_get(sl, "cache_hits"));
    s->tot_fanout += (uint64_t)json_integer_value(json_object_get(sl, "tot_fanout"));
    s->cache_cnt += (uint32_t)json_integer_value(json_object_get(sl, "cache_cnt"));
    uint32_t mf = (uint32_t)json_integer_value(json_object_get(sl, "max_fanout"));
    if (mf > s->max_fanout) s->max_fanout = mf;
}

static void accountz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/accountz");
    const char *acc = mon_arg(r, "acc");
    mj_buf b;
    if (acc && acc[0] && strcmp(acc, "$G") != 0) {
        mon_resp_text(resp, 400, "Account %s does not exist", acc);
        return;
    }
    head(&b, 0);
    mj_time(&b, "now", mon_wall_ns(), true);
    if (!acc || !acc[0]) {
        mj_arr(&b, "accounts");
        mj_str(&b, NULL, "$G");
        mj_arr_end(&b);
    } else {
        sl_sum s = {0};
        mon_query_all(BR_QUERY_VARZ, NULL, 0, add_sl, &s);
        mj_obj(&b, "account_detail");
        mj_str(&b, "account_name", "$G");
        mj_str(&b, "update_time", "0001-01-01T00:00:00Z"); /* Go's zero time */
        mj_bool(&b, "expired", false);
        mj_bool(&b, "complete", true);
        mj_bool(&b, "jetstream_enabled", false);
        mj_int(&b, "leafnode_connections", 0);
        mj_int(&b, "client_connections", node_conns());
        mj_uint(&b, "subscriptions", s.subs);
        mj_str(&b, "name_tag", "$G");
        mj_obj(&b, "sublist_stats");
        mj_uint(&b, "num_subscriptions", s.subs);
        mj_uint(&b, "num_cache", s.cache);
        mj_uint(&b, "num_inserts", s.inserts);
        mj_uint(&b, "num_removes", s.removes);
        mj_uint(&b, "num_matches", s.matches);
        mj_float(&b, "cache_hit_rate", s.matches ? (double)s.hits / (double)s.matches : 0);
        mj_uint(&b, "max_fanout", s.max_fanout);
        mj_float(&b, "avg_fanout", s.cache_cnt ? (double)s.tot_fanout / s.cache_cnt : 0);
        mj_obj_end(&b);
        mj_obj_end(&b);
    }
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

static bool node_ready(void) {
    const br_node *node = br_supervisor_node();
    for (uint32_t w = 0; node && w < node->shm->nworkers; w++)
        if (atomic_load(&node->shm->workers[w].listening)) return true;
    return false;
}

static void healthz(const mon_req *r, mon_resp *resp) {
    mon_count_req("/healthz");
    bool js_enabled, js_enabled_only, js_server_only, js_meta_only, details;
    if (!mon_decode_bool(r, "js-enabled", &js_enabled, resp)) return;
    if (js_enabled) nx_warn("Healthcheck: js-enabled deprecated, use js-enabled-only instead");
    if (!mon_decode_bool(r, "js-enabled-only", &js_enabled_only, resp) ||
        !mon_decode_bool(r, "js-server-only", &js_server_only, resp) ||
        !mon_decode_bool(r, "js-meta-only", &js_meta_only, resp) ||
        !mon_decode_bool(r, "details", &details, resp))
        return;
    const char *account = mon_arg(r, "account"), *stream = mon_arg(r, "stream"),
               *consumer = mon_arg(r, "consumer");
    bool no_acc = !account || !account[0], no_stream = !stream || !stream[0];
    char err[160] = "";
    const char *type = NULL;
    int code = 200;
    if (no_acc && !no_stream) {
        code = 400, type = "BAD_REQUEST";
        snprintf(err, sizeof err, "\"account\" must not be empty when checking stream health");
    } else if (no_stream && consumer && consumer[0]) {
        code = 400, type = "BAD_REQUEST";
        snprintf(err, sizeof err, "\"stream\" must not be empty when checking consumer health");
    } else if (!node_ready()) {
        code = 500, type = "CONNECTION";
        snprintf(err, sizeof err, "failed to be ready for connections after 1ms: client");
    }
    /* Go: with JetStream configured, it must be running (storaged answering); the stream and
     * consumer checks of Go's healthz are not made yet. */
    if (!type && !js_server_only) {
        mon_opts_read_lock();
        bool down = mon_js_unavailable(g_mon.opts);
        mon_opts_read_unlock();
        if (down) {
            code = 503, type = "JETSTREAM";
            snprintf(err, sizeof err, "JetStream not enabled");
        }
    }
    mj_buf b;
    mj_init(&b, NULL); /* Go uses json.Marshal here, not MarshalIndent */
    mj_obj(&b, NULL);
    if (!type) {
        mj_str(&b, "status", "ok");
    } else if (!details) {
        mj_str(&b, "status", code == 503 ? "unavailable" : "error");
        mj_str(&b, "error", err);
        nx_warn("Healthcheck failed: \"%s\"", err);
    } else {
        mj_str(&b, "status", "error");
        mj_arr(&b, "errors");
        mj_obj(&b, NULL);
        mj_str(&b, "type", type);
        mj_str(&b, "error", err);
        mj_obj_end(&b);
        mj_arr_end(&b);
        nx_warn("Healthcheck failed: 1 errors");
    }
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
    resp->status = code;
}

static void raftz(const mon_req *r, mon_resp *resp) {
    (void)r; /* no raft groups on a node without JetStream clustering */
    mon_resp_text(resp, 404, "No Raft nodes registered");
}

static void not_found(mon_resp *resp) {
    mon_resp_text(resp, 404, "404 page not found\n");
}

/* Go's HandleRoot page (same links, version and layout; the logo is left out). */
static void root(const mon_req *r, mon_resp *resp) {
    (void)r;
    mon_count_req("/");
    static const char *const links[][2] = {
        {"General", "/varz"},          {"JetStream", "/jsz"},       {"Connections", "/connz"},
        {"Accounts", "/accountz"},     {"Account Stats", "/accstatz"},
        {"Subscriptions", "/subsz"},   {"Routes", "/routez"},       {"LeafNodes", "/leafz"},
        {"Gateways", "/gatewayz"},     {"Raft Groups", "/raftz"},   {"Health Probe", "/healthz"},
        {"Expvar", "/debug/vars"},
    };
    mj_buf b;
    mj_init(&b, NULL);
    mj_rawf(&b,
            "<html lang=\"en\">\n\t<head>\n\t<style type=\"text/css\">\n"
            "\t\tbody { font-family: ui-sans-serif,system-ui,-apple-system,BlinkMacSystemFont,"
            "\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,\"Noto Sans\",sans-serif; font-size: 18; "
            "font-weight: light-bold; margin-left: 32px }\n"
            "\t\ta { display:block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); "
            "text-decoration: none }\n"
            "\t\ta:hover { font-weight: 600; color: rgb(59 50 202) }\n"
            "\t\ta.help { display:inline; font-weight: 600; color: rgb(59 50 202); font-size: 20}\n"
            "\t\ta.last { padding-bottom: 16px }\n"
            "\t\ta.version { font-size: 14; font-weight: 400; width: 312px; text-align: right; "
            "margin-top: -2rem }\n"
            "\t\ta.version:hover { color: rgb(22 22 32) }\n"
            "\t\t.endpoint { font-size: 12px; color: #999; font-family: monospace; display: none }\n"
            "\t\ta:hover .endpoint { display: inline }\n\n\t</style>\n\t</head>\n\t<body>\n"
            "\t<a href=https://github.com/nats-io/nats-server class='version'>v%s</a>\n\n"
            "\t</div>\n\t<br/>\n",
            BR_GO_VERSION);
    size_t nl = sizeof links / sizeof links[0];
    for (size_t i = 0; i < nl; i++) {
        char p[1100];
        if (strcmp(g_mon.base_path, "/") == 0)
            snprintf(p, sizeof p, "%s", links[i][1]);
        else
            snprintf(p, sizeof p, "%s%s", g_mon.base_path, links[i][1]);
        mj_rawf(&b, "\t<a href=.%s%s>%s<span class=\"endpoint\"> %s</span></a>\n", p,
                i + 1 == nl ? " class=last" : "", links[i][0], links[i][1]);
    }
    mj_rawf(&b, "    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring "
                "class=\"help\">Help</a>\n  </body>\n</html>");
    mon_resp_json(resp, &b);
    resp->content_type = "text/html; charset=utf-8";
}

/* ---- dispatch ------------------------------------------------------------------------------ */

typedef void (*handler_fn)(const mon_req *r, mon_resp *resp);
static const struct {
    const char *path;
    handler_fn fn;
} routes[] = {
    {"/varz", mon_varz},         {"/connz", mon_connz},     {"/routez", routez},
    {"/gatewayz", gatewayz},     {"/leafz", leafz},         {"/subsz", mon_subsz},
    {"/subscriptionsz", mon_subsz}, {"/accountz", accountz}, {"/accstatz", accstatz},
    {"/jsz", mon_jsz},               {"/healthz", healthz},     {"/raftz", raftz},
    {"/metrics", mon_metrics},
};

mon_handler_fn mon_handler(const char *path) {
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(path, routes[i].path) == 0) return routes[i].fn;
    return NULL;
}

static void dispatch(const char *url, const mon_req *r, mon_resp *resp) {
    const char *rel = url;
    const char *base = g_mon.base_path;
    if (strcmp(base, "/") != 0) {
        size_t bl = strlen(base);
        if (strcmp(url, base) == 0) {
            root(r, resp);
            return;
        }
        if (strncmp(url, base, bl) != 0 || url[bl] != '/') {
            not_found(resp);
            return;
        }
        rel = url + bl;
    } else if (strcmp(url, "/") == 0) {
        root(r, resp);
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(rel, routes[i].path) == 0) {
            routes[i].fn(r, resp);
            return;
        }
    }
    not_found(resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)cls, (void)method, (void)version, (void)upload_data;
    static int marker;
    if (!*con_cls) { /* headers only: wait for the body (ignored, as Go's handlers do) */
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    mon_req r = {.conn = conn};
    mon_resp resp = {.status = 200, .content_type = TEXT_PLAIN};
    dispatch(url, &r, &resp);
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(resp.len, resp.body ? resp.body : (void *)"",
                                        resp.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(resp.body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
    if (resp.content_type == APP_JSON) MHD_add_response_header(mr, "Access-Control-Allow-Origin", "*");
    if (resp.status == 404 && resp.len == 19) MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp.status, mr);
    MHD_destroy_response(mr);
    return rc;
}

/* ---- start / stop -------------------------------------------------------------------------- */

/* Go normalizeBasePath: leading slash, then path.Clean. */
static void normalize_base_path(const char *in, char *out, size_t cap) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s%s", in && in[0] == '/' ? "" : "/", in ? in : "");
    /* path.Clean on an absolute path: drop empty and "." elements, resolve "..". */
    char *elems[256];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0) continue;
        if (strcmp(t, "..") == 0) {
            if (n > 0) n--;
            continue;
        }
        if (n < 256) elems[n++] = t;
    }
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) len += (size_t)snprintf(out + len, cap - len, "/%s", elems[i]);
    if (n == 0) snprintf(out, cap, "/");
}

static void join_host_port(const char *host, int port, char *out, size_t cap) {
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%d", host, port);
    else
        snprintf(out, cap, "%s:%d", host, port);
}

static int listen_on(const char *host, int port, char *err, size_t cap) {
    char port_str[16], hp[300];
    snprintf(port_str, sizeof port_str, "%d", port);
    join_host_port(host, port, hp, sizeof hp);
    if (port < 0 || port > 65535) {
        snprintf(err, cap, "listen tcp: address %s: invalid port", hp);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port_str, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "listen tcp %s: lookup %s: %s", hp, host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        char e[128];
        snprintf(e, sizeof e, "%s", strerror(errno));
        if (e[0] >= 'A' && e[0] <= 'Z') e[0] = (char)(e[0] - 'A' + 'a'); /* Go's syscall text */
        snprintf(err, cap, "listen tcp %s: bind: %s", hp, e);
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
    if (m) fclose(m);
    fclose(f);
    return buf;
}

static char *g_tls_cert, *g_tls_key;
static void record_config(void);

void mon_state_init(const br_options *opts) {
    if (g_mon.opts) return;
    g_mon.opts = opts;
    g_mon.start_ns = mon_wall_ns();
    record_config();
    g_mon.max_closed = opts->max_closed_clients > 0 ? opts->max_closed_clients : 10000;
}

int br_monitor_start(const br_options *opts) {
    if (!opts->http_port && !opts->https_port) return 0;
    if (opts->http_port && opts->https_port) {
        nx_fatal("Can't start monitoring: can't specify both HTTP (%d) and HTTPs (%d) ports",
                 opts->http_port, opts->https_port);
    }
    g_https = opts->https_port != 0;
    if (g_https && (!opts->tls || !opts->tls_cfg.cert_file || !opts->tls_cfg.key_file)) {
        nx_fatal("Can't start monitoring: TLS cert and key required for HTTPS");
    }
    mon_state_init(opts);
    normalize_base_path(opts->http_base_path, g_mon.base_path, sizeof g_mon.base_path);
    const char *host = opts->http_host && opts->http_host[0] ? opts->http_host
                       : opts->host && opts->host[0]          ? opts->host
                                                               : "0.0.0.0";
    int port = g_https ? opts->https_port : opts->http_port;
    char err[600];
    int fd = listen_on(host, port == BR_RANDOM_PORT ? 0 : port, err, sizeof err);
    if (fd < 0) {
        nx_fatal("Can't start monitoring: can't listen to the monitor port: %s", err);
    }
    g_mon.port = nx_socket_port(fd);
    char hp[300];
    join_host_port(host, g_mon.port, hp, sizeof hp);
    nx_notice("Starting %s monitor on %s", g_https ? "https" : "http", hp);
    g_listen_fd = fd;
    return 0;
}

/* The HTTP threads start only once the workers are forked: a fork while another thread holds
 * an allocator or library lock would leave the child with that lock held forever. */
int br_monitor_serve(void) {
    if (g_listen_fd < 0 || g_daemon) return 0;
    const br_options *opts = g_mon.opts;
    int fd = g_listen_fd;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (g_https) {
        g_tls_cert = read_file(opts->tls_cfg.cert_file);
        g_tls_key = read_file(opts->tls_cfg.key_file);
        if (!g_tls_cert || !g_tls_key || MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            nx_fatal("Can't start monitoring: %s",
                     g_tls_cert && g_tls_key ? "this libmicrohttpd has no TLS support"
                                             : "cannot read the TLS certificate or key");
        }
        flags |= MHD_USE_TLS;
    }
    g_daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(1 << 20),
        g_https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, g_tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, g_tls_key, MHD_OPTION_END);
    if (!g_daemon) {
        nx_fatal("Can't start monitoring: libmicrohttpd failed to start");
    }
    return 0;
}

void br_monitor_stop(void) {
    if (g_daemon) MHD_stop_daemon(g_daemon);
    g_daemon = NULL;
    if (g_listen_fd >= 0) close(g_listen_fd);
    g_listen_fd = -1;
    free(g_tls_cert);
    free(g_tls_key);
    g_tls_cert = g_tls_key = NULL;
}

void mon_opts_read_lock(void) {
    pthread_rwlock_rdlock(&g_opts_lock);
}

void mon_opts_read_unlock(void) {
    pthread_rwlock_unlock(&g_opts_lock);
}

void br_monitor_opts_write_lock(void) {
    pthread_rwlock_wrlock(&g_opts_lock);
}

static void record_config(void) {
    g_mon.config_ns = mon_wall_ns();
    g_mon.config_digest[0] = '\0';
    if (g_mon.opts && g_mon.opts->config_file)
        br_config_digest(g_mon.opts->config_file, g_mon.config_digest, sizeof g_mon.config_digest);
}

void br_monitor_opts_write_unlock(void) {
    record_config();
    pthread_rwlock_unlock(&g_opts_lock);
}

void br_monitor_close_in_child(void) {
    if (g_listen_fd >= 0) close(g_listen_fd); /* the worker must not keep the port bound */
    g_listen_fd = -1;
}

int br_monitor_port(void) {
    return g_daemon ? g_mon.port : 0;
}

const char *br_monitor_scheme(void) {
    return g_https ? "https" : "http";
}
