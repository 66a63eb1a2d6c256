/* The system account: client connect/disconnect events and the server PING (STATSZ).
 *
 * Ports Go nats-server v2.14.5 server/events.go accountConnectEvent, accountDisconnectEvent
 * (ConnectEventMsg / DisconnectEventMsg on $SYS.ACCOUNT.<account>.CONNECT / .DISCONNECT),
 * the ServerInfo every event carries (internalSendLoop), and statszReq/sendStatsz for
 * $SYS.REQ.SERVER.PING, $SYS.REQ.SERVER.PING.STATSZ and $SYS.REQ.SERVER.<id>.STATSZ.
 *
 * Events are published in the system account by the worker where the client is, queued and
 * sent at the start of the next loop turn (a disconnect can happen in the middle of a
 * delivery).  Server requests are answered by worker 0 only (one server, one answer): its
 * internal subscriptions are announced to the other workers like a client's.  Statistics are
 * the node's, read from shared memory.  The other $SYS.REQ endpoints (VARZ, CONNZ, ..., the
 * account requests, the CONNS heartbeat) are in sys_requests.c; a STATSZ request's body is
 * Go's StatszEventOptions (filters, sys_json.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/deliver.h"
#include "broker/info.h"
#include "broker/monitor_int.h"
#include "broker/server.h"
#include "broker/sys_requests.h"
#include "common/log.h"

typedef struct sys_event {
    struct sys_event *next;
    char *subject;
    char *acc; /* the account to publish in (a system import's requester); NULL: the system's */
    char *json;
} sys_event;

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void event_id(char out[23]) { /* Go nuid: 22 base62 characters */
    for (int i = 0; i < 22; i++)
        out[i] = b62[random() % 62];
    out[22] = '\0';
}

static int64_t wall_of_ms(const br_server *s, int64_t mono_ms) {
    return mon_wall_ns() - (s->now_ms - mono_ms) * 1000000;
}

static void set_time(json_t *o, const char *key, int64_t ns, bool utc) {
    char t[64];
    mj_time_text(ns, utc, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

static void set_str(json_t *o, const char *key, const char *v) { /* omitempty */
    if (v && *v) json_object_set_new(o, key, json_string(v));
}

/* Go ServerInfo as internalSendLoop fills it. */
json_t *br_sys_server_info(br_server *s) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->server_name));
    const char *host = s->opts->host && s->opts->host[0] ? s->opts->host : "0.0.0.0";
    json_object_set_new(o, "host", json_string(host));
    json_object_set_new(o, "id", json_string(s->server_id));
    if (s->opts->jetstream) set_str(o, "domain", s->opts->js_domain);
    json_object_set_new(o, "ver", json_string(BR_GO_VERSION));
    json_object_set_new(o, "jetstream", json_boolean(s->opts->jetstream));
    json_object_set_new(o, "flags", json_integer(s->opts->jetstream ? 3 : 0));
    uint64_t seq = atomic_fetch_add(&s->node->shm->sys_seq, 1) + 1;
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    set_time(o, "time", mon_wall_ns(), true);
    return o;
}

void br_sys_queue_text(br_server *s, const char *subject, char *json_text) {
    br_sys_queue_text_in(s, NULL, subject, json_text);
}

void br_sys_queue_text_in(br_server *s, const char *acc, const char *subject, char *json_text) {
    sys_event *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->subject = strdup(subject);
    e->acc = acc ? strdup(acc) : NULL;
    e->json = json_text;
    if (!e->subject || !e->json) abort();
    sys_event **tail = (sys_event **)&s->accounts->sys_events;
    while (*tail)
        tail = &(*tail)->next;
    *tail = e;
}

static void queue_event(br_server *s, const char *subject, json_t *msg) {
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    br_sys_queue_text(s, subject, text);
}

static bool sys_enabled(br_server *s) {
    return s->accounts && s->accounts->system;
}

/* Nobody listening (on any worker): the event is not built at all. */
static bool sys_interest(br_server *s, const char *subject) {
    return sl_has_interest(s->accounts->system->sublist, subject, strlen(subject));
}

/* Go ClientInfo of an event, in Go's field order. */
static json_t *client_info(br_server *s, br_client *c, int64_t stop_ns) {
    json_t *o = json_object();
    set_time(o, "start", wall_of_ms(s, c->start_ms), false);
    set_str(o, "host", c->host);
    json_object_set_new(o, "id", json_integer((json_int_t)c->cid));
    json_object_set_new(o, "acc", json_string(c->acc ? c->acc->name : "N/A"));
    set_str(o, "user", c->auth_user);
    set_str(o, "name", c->name);
    set_str(o, "lang", c->lang);
    set_str(o, "ver", c->version);
    if (stop_ns) {
        if (c->rtt_ms) json_object_set_new(o, "rtt", json_integer(c->rtt_ms * 1000000));
        set_time(o, "stop", stop_ns, false);
    }
    json_object_set_new(o, "kind", json_string("Client"));
    json_object_set_new(o, "client_type", json_string("nats"));
    return o;
}

static json_t *typed_event(const char *type, int64_t ns) {
    json_t *o = json_object();
    char id[23];
    event_id(id);
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "id", json_string(id));
    set_time(o, "timestamp", ns, true);
    return o;
}

static json_t *data_stats(uint64_t msgs, uint64_t bytes);

static json_t *data_stats_full(uint64_t msgs, uint64_t bytes) { /* with the zero sub-totals */
    json_t *o = data_stats(msgs, bytes);
    json_object_set_new(o, "gateways", data_stats(0, 0));
    json_object_set_new(o, "routes", data_stats(0, 0));
    json_object_set_new(o, "leafs", data_stats(0, 0));
    return o;
}

/* Go accConnsUpdate/sendAccConnsUpdate: AccountNumConns on the old and the new subject. */
void br_sys_conns_event(br_server *s, br_account *a) {
    if (!sys_enabled(s) || a == s->accounts->global) return;
    char subj[2][600];
    snprintf(subj[0], sizeof subj[0], "$SYS.SERVER.ACCOUNT.%s.CONNS", a->name);
    snprintf(subj[1], sizeof subj[1], "$SYS.ACCOUNT.%s.SERVER.CONNS", a->name);
    for (int i = 0; i < 2; i++)
        if (sys_interest(s, subj[i])) br_sys_conns_reply(s, a, subj[i]);
}

/* Go sendAccConnsUpdate to one subject. */
void br_sys_conns_reply(br_server *s, br_account *a, const char *subj) {
    int32_t conns =
        a->node_slot >= 0 ? br_node_acc_clients(s->node, a->node_slot) : (int32_t)a->nclients;
    json_t *m = typed_event("io.nats.server.advisory.v1.account_connections", mon_wall_ns());
    json_object_set_new(m, "server", br_sys_server_info(s));
    json_object_set_new(m, "acc", json_string(a->name));
    json_object_set_new(m, "name", json_string(""));
    json_object_set_new(m, "conns", json_integer(conns));
    json_object_set_new(m, "leafnodes", json_integer(0));
    json_object_set_new(m, "total_conns", json_integer(conns));
    json_object_set_new(m, "num_subscriptions", json_integer(a->nsubs));
    json_object_set_new(m, "sent", data_stats_full(a->out_msgs, a->out_bytes));
    json_object_set_new(m, "received", data_stats_full(a->in_msgs, a->in_bytes));
    json_object_set_new(m, "slow_consumers", json_integer(0));
    queue_event(s, subj, m);
}

void br_sys_connect_event(br_server *s, br_client *c) {
    if (!sys_enabled(s) || !c->acc) return;
    char subj[600];
    snprintf(subj, sizeof subj, "$SYS.ACCOUNT.%s.CONNECT", c->acc->name);
    if (!sys_interest(s, subj)) return;
    json_t *m = typed_event("io.nats.server.advisory.v1.client_connect", mon_wall_ns());
    json_object_set_new(m, "server", br_sys_server_info(s));
    json_object_set_new(m, "client", client_info(s, c, 0));
    queue_event(s, subj, m);
}

static json_t *data_stats(uint64_t msgs, uint64_t bytes) {
    json_t *o = json_object();
    json_object_set_new(o, "msgs", json_integer((json_int_t)msgs));
    json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
    return o;
}

/* DisconnectEventMsg on subj (the disconnect event, and the auth error event). */
static void disconnect_msg(br_server *s, br_client *c, const char *subj, const char *reason,
                           bool auth_error) {
    int64_t now = mon_wall_ns();
    json_t *m = typed_event("io.nats.server.advisory.v1.client_disconnect", now);
    json_object_set_new(m, "server", br_sys_server_info(s));
    json_t *ci = client_info(s, c, now);
    if (auth_error) { /* Go getRawAuthUser: what CONNECT presented */
        const char *u = c->cred_nkey && *c->cred_nkey     ? c->cred_nkey
                        : c->cred_user && *c->cred_user   ? c->cred_user
                        : c->cred_token && *c->cred_token ? "[REDACTED]"
                                                          : NULL;
        if (u) json_object_set_new(ci, "user", json_string(u));
    }
    json_object_set_new(m, "client", ci);
    json_object_set_new(m, "sent", data_stats(c->in_msgs, c->in_bytes));
    json_object_set_new(m, "received", data_stats(c->out_msgs, c->out_bytes));
    json_object_set_new(m, "reason", json_string(reason));
    queue_event(s, subj, m);
}

void br_sys_disconnect_event(br_server *s, br_client *c, const char *reason) {
    if (!sys_enabled(s) || !c->acc || !c->acc_counted) return;
    char subj[600];
    snprintf(subj, sizeof subj, "$SYS.ACCOUNT.%s.DISCONNECT", c->acc->name);
    if (sys_interest(s, subj)) disconnect_msg(s, c, subj, reason, false);
}

void br_sys_auth_error_event(br_server *s, br_client *c, const char *reason) {
    if (!sys_enabled(s) || !c->acc) return;
    char subj[600];
    snprintf(subj, sizeof subj, "$SYS.SERVER.%s.CLIENT.AUTH.ERR", s->server_id);
    if (sys_interest(s, subj)) disconnect_msg(s, c, subj, reason, true);
}

/* ---- server requests ----------------------------------------------------------------------- */

static int64_t rss_bytes(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[128];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return 0;
    char *end;
    (void)strtoll(line, &end, 10); /* size, then the resident pages */
    long long res = strtoll(end, NULL, 10);
    return res * sysconf(_SC_PAGESIZE);
}

/* Go ServerStatsMsg for this node (statistics summed over the workers). */
static json_t *statsz(br_server *s) {
    br_node_shm *shm = s->node->shm;
    uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, slow = 0;
    int64_t mem = rss_bytes(getppid());
    for (uint32_t w = 0; w < shm->nmembers; w++) {
        br_worker_slot *slot = &shm->workers[w];
        in_msgs += atomic_load(&slot->in_msgs);
        in_bytes += atomic_load(&slot->in_bytes);
        out_msgs += atomic_load(&slot->out_msgs);
        out_bytes += atomic_load(&slot->out_bytes);
        slow += atomic_load(&slot->slow_consumers);
        int32_t pid = atomic_load(&slot->pid);
        if (pid > 0) mem += rss_bytes(pid);
    }
    json_t *st = json_object();
    set_time(st, "start", s->accounts->start_wall_ns, false);
    json_object_set_new(st, "mem", json_integer(mem));
    json_object_set_new(st, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(st, "cpu", json_integer(0)); /* not measured here (Go: 0 is "0") */
    json_object_set_new(st, "connections", json_integer(br_node_num_clients(s->node)));
    json_object_set_new(st, "total_connections",
                        json_integer((json_int_t)atomic_load(&shm->next_cid)));
    json_object_set_new(st, "active_accounts", json_integer(1));
    json_object_set_new(st, "subscriptions", json_integer(sl_count(s->sublist)));
    json_object_set_new(st, "sent", data_stats(out_msgs, out_bytes));
    json_object_set_new(st, "sent_to_clients", data_stats(out_msgs, out_bytes));
    json_object_set_new(st, "received", data_stats(in_msgs, in_bytes));
    json_object_set_new(st, "received_from_clients", data_stats(in_msgs, in_bytes));
    json_object_set_new(st, "slow_consumers", json_integer((json_int_t)slow));
    json_t *m = json_object();
    json_object_set_new(m, "server", br_sys_server_info(s));
    json_object_set_new(m, "statsz", st);
    return m;
}

bool br_sys_request(br_server *s, const struct br_pub *m) {
    if (br_sysreq_handle(s, m)) return true; /* sys_requests.c */
    if (!m->reply.len || m->reply.len > SYS_REQ_MAX_NAME) return false;
    char reply[SYS_REQ_MAX_NAME + 1];
    snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
    /* Go statszReq: the body is StatszEventOptions (filters only). */
    const char *body = (const char *)m->payload + m->hdr_len;
    size_t body_len = m->total_len - m->hdr_len;
    json_t *args = NULL;
    sys_filter f;
    char err[512];
    int rc =
        sys_decode_opts(body, body_len, "StatszEventOptions", NULL, &args, &f, err, sizeof err);
    json_decref(args);
    const br_options *o = s->opts;
    bool skip =
        rc == 0 &&
        sys_filter_skips(&f, s->server_name, o->host && o->host[0] ? o->host : "0.0.0.0",
                         o->cluster_name ? o->cluster_name : "", o->js_domain ? o->js_domain : "");
    sys_filter_free(&f);
    if (rc < 0) {
        json_t *e = json_object();
        json_object_set_new(e, "server", br_sys_server_info(s));
        json_object_set_new(e, "error", json_pack("{s:i,s:s}", "code", 400, "description", err));
        queue_event(s, reply, e);
    } else if (!skip) {
        queue_event(s, reply, statsz(s));
    }
    return true;
}

void br_sys_init(br_server *s) {
    br_acc_reg *r = s->accounts;
    r->start_wall_ns = mon_wall_ns();
    if (!r->system || s->worker != 0) return;
    char subj[128];
    br_account_isub(s, r->system, "$SYS.REQ.SERVER.PING", BR_ISUB_SYS);
    br_account_isub(s, r->system, "$SYS.REQ.SERVER.PING.STATSZ", BR_ISUB_SYS);
    snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.STATSZ", s->server_id);
    br_account_isub(s, r->system, subj, BR_ISUB_SYS);
    br_sysreq_init(s);
}

void br_sys_flush(br_server *s) {
    br_acc_reg *r = s->accounts;
    if (r && r->system && s->worker == 0) br_sysreq_heartbeat(s);
    if (!r || !r->sys_events) return;
    sys_event *e = r->sys_events;
    r->sys_events = NULL;
    while (e) {
        sys_event *next = e->next;
        br_account *a = e->acc ? br_account_get(s, e->acc, strlen(e->acc)) : r->system;
        if (a) {
            char size[24];
            size_t len = strlen(e->json);
            int sn = snprintf(size, sizeof size, "%zu", len);
            br_pub m = {.acc = a,
                        .subject = {e->subject, (uint32_t)strlen(e->subject)},
                        .size_str = {size, (uint32_t)sn},
                        .payload = (const uint8_t *)e->json,
                        .total_len = (uint32_t)len};
            (void)br_route_publish(s, &m);
        }
        free(e->subject);
        free(e->acc);
        free(e->json);
        free(e);
        e = next;
    }
}

void br_sys_free(br_server *s) {
    br_acc_reg *r = s->accounts;
    br_sysreq_free(s);
    if (!r) return;
    sys_event *e = r->sys_events;
    while (e) {
        sys_event *next = e->next;
        free(e->subject);
        free(e->acc);
        free(e->json);
        free(e);
        e = next;
    }
    r->sys_events = NULL;
}
