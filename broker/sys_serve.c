/* The system account's monitoring requests, supervisor side (see sys_requests.h).
 *
 * Ports Go nats-server v2.14.5 server/events.go zReq (decode the <Endpoint>EventOptions, apply
 * filterRequest, run the endpoint, answer {"data":...} or {"error":{"code","description"}}),
 * the handlers of initEventTracking's monSrvc/monAccSrvc maps (which options they force for
 * $SYS.REQ.ACCOUNT.<acc>.X, accountInfo, JszAccount, AccountStatz's errSkipZreq), and
 * HealthStatus's status_code as the request API shows it.
 *
 * One thread receives the workers' datagrams (credentials checked: a worker of this node),
 * runs the same handlers as the HTTP monitor (monitor*.c) with the decoded options in place of
 * the URL query, and hands the answer back to the worker in pieces over its control
 * connection (br_supervisor_query, BR_QUERY_SYS_REPLY).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker/account.h"
#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/supervisor.h"
#include "broker/sys_requests.h"
#include "common/log.h"

/* ---- endpoints ------------------------------------------------------------------------------- */

static const sys_opt_field no_fields[] = {{NULL, 0, NULL}};
static const sys_opt_field connz_fields[] = {
    {"sort", SYS_OT_SORT, "sort"},
    {"auth", SYS_OT_BOOL, "auth"},
    {"subscriptions", SYS_OT_BOOL, "subs"},
    {"subscriptions_detail", SYS_OT_BOOL, "subs_detail"},
    {"offset", SYS_OT_INT, "offset"},
    {"limit", SYS_OT_INT, "limit"},
    {"cid", SYS_OT_UINT64, "cid"},
    {"mqtt_client", SYS_OT_STRING, "mqtt_client"},
    {"state", SYS_OT_STATE, "state"},
    {"user", SYS_OT_STRING, "user"},
    {"acc", SYS_OT_STRING, "acc"},
    {"filter_subject", SYS_OT_STRING, "filter_subject"},
    {NULL, 0, NULL},
};
static const sys_opt_field subsz_fields[] = {
    {"offset", SYS_OT_INT, "offset"},       {"limit", SYS_OT_INT, "limit"},
    {"subscriptions", SYS_OT_BOOL, "subs"}, {"account", SYS_OT_STRING, "acc"},
    {"test", SYS_OT_STRING, "test"},        {NULL, 0, NULL},
};
static const sys_opt_field routez_fields[] = {
    {"subscriptions", SYS_OT_BOOL, "subs"},
    {"subscriptions_detail", SYS_OT_BOOL, "subs_detail"},
    {NULL, 0, NULL},
};
static const sys_opt_field gatewayz_fields[] = {
    {"name", SYS_OT_STRING, "gw_name"},
    {"accounts", SYS_OT_BOOL, "accs"},
    {"account_name", SYS_OT_STRING, "acc_name"},
    {"subscriptions", SYS_OT_BOOL, "subs"},
    {"subscriptions_detail", SYS_OT_BOOL, "subs_detail"},
    {NULL, 0, NULL},
};
static const sys_opt_field leafz_fields[] = {
    {"subscriptions", SYS_OT_BOOL, "subs"},
    {"account", SYS_OT_STRING, "acc"},
    {NULL, 0, NULL},
};
static const sys_opt_field accountz_fields[] = {
    {"account", SYS_OT_STRING, "acc"},
    {NULL, 0, NULL},
};
static const sys_opt_field jsz_fields[] = {
    {"account", SYS_OT_STRING, "acc"},
    {"accounts", SYS_OT_BOOL, "accounts"},
    {"streams", SYS_OT_BOOL, "streams"},
    {"consumer", SYS_OT_BOOL, "consumers"},
    {"direct_consumer", SYS_OT_BOOL, "direct-consumers"},
    {"config", SYS_OT_BOOL, "config"},
    {"leader_only", SYS_OT_BOOL, "leader-only"},
    {"offset", SYS_OT_INT, "offset"},
    {"limit", SYS_OT_INT, "limit"},
    {"raft", SYS_OT_BOOL, "raft"},
    {"stream_leader_only", SYS_OT_BOOL, "stream-leader-only"},
    {NULL, 0, NULL},
};
static const sys_opt_field healthz_fields[] = {
    {"js-enabled", SYS_OT_BOOL, "js-enabled"},
    {"js-enabled-only", SYS_OT_BOOL, "js-enabled-only"},
    {"js-server-only", SYS_OT_BOOL, "js-server-only"},
    {"js-meta-only", SYS_OT_BOOL, "js-meta-only"},
    {"account", SYS_OT_STRING, "account"},
    {"stream", SYS_OT_STRING, "stream"},
    {"consumer", SYS_OT_STRING, "consumer"},
    {"details", SYS_OT_BOOL, "details"},
    {NULL, 0, NULL},
};
static const sys_opt_field raftz_fields[] = {
    {"account", SYS_OT_STRING, NULL},
    {"group", SYS_OT_STRING, NULL},
    {NULL, 0, NULL},
};
static const sys_opt_field kick_fields[] = {
    {"cid", SYS_OT_UINT64, "cid"},
    {NULL, 0, NULL},
};
static const sys_opt_field statz_fields[] = {
    {"accounts", SYS_OT_STRLIST, "accounts"},
    {"include_unused", SYS_OT_BOOL, "unused"},
    {NULL, 0, NULL},
};

static const struct {
    const char *path; /* the monitoring handler */
    const char *st;   /* Go's options struct */
    const sys_opt_field *fields;
} eps[SYS_EP_END] = {
    [SYS_EP_VARZ] = {"/varz", "VarzEventOptions", no_fields},
    [SYS_EP_CONNZ] = {"/connz", "ConnzEventOptions", connz_fields},
    [SYS_EP_SUBSZ] = {"/subsz", "SubszEventOptions", subsz_fields},
    [SYS_EP_ROUTEZ] = {"/routez", "RoutezEventOptions", routez_fields},
    [SYS_EP_GATEWAYZ] = {"/gatewayz", "GatewayzEventOptions", gatewayz_fields},
    [SYS_EP_LEAFZ] = {"/leafz", "LeafzEventOptions", leafz_fields},
    [SYS_EP_ACCOUNTZ] = {"/accountz", "AccountzEventOptions", accountz_fields},
    [SYS_EP_JSZ] = {"/jsz", "JszEventOptions", jsz_fields},
    [SYS_EP_HEALTHZ] = {"/healthz", "HealthzEventOptions", healthz_fields},
    [SYS_EP_RAFTZ] = {NULL, "RaftzEventOptions", raftz_fields},
    [SYS_EP_ACC_SUBSZ] = {"/subsz", "SubszEventOptions", subsz_fields},
    [SYS_EP_ACC_CONNZ] = {"/connz", "ConnzEventOptions", connz_fields},
    [SYS_EP_ACC_LEAFZ] = {"/leafz", "LeafzEventOptions", leafz_fields},
    [SYS_EP_ACC_JSZ] = {"/jsz", "JszEventOptions", jsz_fields},
    [SYS_EP_ACC_INFO] = {NULL, "AccInfoEventOptions", no_fields},
    [SYS_EP_ACC_STATZ] = {NULL, "AccountStatzEventOptions", statz_fields},
    [SYS_EP_ACC_PING_STATZ] = {NULL, "AccountStatzEventOptions", statz_fields},
    [SYS_EP_KICK] = {NULL, "KickClientReq", kick_fields},
    [SYS_EP_LDM] = {NULL, "LDMClientReq", kick_fields},
};

/* ---- the answer ------------------------------------------------------------------------------ */

typedef struct answer {
    bool skip;  /* Go errSkipZreq, or filtered out: no response at all */
    char *text; /* the members after "server": `"data":...` or `"error":{...}` */
} answer;

static void answer_error(answer *a, int code, const char *desc) {
    json_t *d = json_string(desc);
    char *ds = json_dumps(d, JSON_ENCODE_ANY);
    json_decref(d);
    free(a->text);
    a->text = NULL;
    if (asprintf(&a->text, "\"error\":{\"code\":%d,\"description\":%s}", code, ds ? ds : "\"\"") <
        0)
        a->text = NULL;
    free(ds);
}

static void answer_data(answer *a, const char *p, size_t n) {
    free(a->text);
    a->text = NULL;
    if (asprintf(&a->text, "\"data\":%.*s", (int)n, p) < 0) a->text = NULL;
}

/* Go filterRequest: true when the request is not for this server. */
static bool filtered(const sys_filter *f) {
    const br_node *node = br_supervisor_node();
    const char *name = node ? node->shm->server_name : "";
    mon_opts_read_lock();
    const br_options *o = g_mon.opts;
    const char *host = o->host && o->host[0] ? o->host : "0.0.0.0";
    const char *cluster = o->cluster_name ? o->cluster_name : "";
    const char *domain = o->js_domain ? o->js_domain : "";
    bool out = sys_filter_skips(f, name, host, cluster, domain);
    mon_opts_read_unlock();
    return out;
}

static bool js_on(void) {
    mon_opts_read_lock();
    bool on = g_mon.opts->jetstream;
    mon_opts_read_unlock();
    return on;
}

static bool account_known(const char *acc) {
    if (!strcmp(acc, "$G")) return true;
    mon_opts_read_lock();
    const br_accounts_conf *c = &g_mon.opts->accounts;
    const char *sys = br_accounts_system_name(c);
    bool known = (sys && !strcmp(sys, acc)) || br_accounts_conf_find(c, acc);
    mon_opts_read_unlock();
    return known;
}

/* Go HealthStatus as the request API shows it: status_code after status. */
static void healthz_data(answer *a, const char *p, size_t n, int status) {
    size_t off, len;
    if (!sys_json_member(p, n, "status", &off, &len)) return answer_data(a, p, n);
    size_t at = off + len;
    char *t = NULL;
    if (asprintf(&t, "%.*s,\"status_code\":%d%.*s", (int)at, p, status, (int)(n - at), p + at) < 0)
        return;
    answer_data(a, t, strlen(t));
    free(t);
}

/* The length of the object at p (compact text). */
static size_t first_object(const char *p, size_t n) {
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return n;
}

/* Go kickClient / ldmClient: the worker holding the client does it. */
typedef struct kick_result {
    bool found;
    char err[160];
} kick_result;

static void kick_answer(uint32_t w, json_t *ans, void *arg) {
    (void)w;
    kick_result *k = arg;
    if (!json_is_true(json_object_get(ans, "found"))) return;
    k->found = true;
    const char *e = json_string_value(json_object_get(ans, "error"));
    if (e) snprintf(k->err, sizeof k->err, "%s", e);
}

static void kick(answer *a, int ep, json_t *args) {
    const char *cid = json_string_value(json_object_get(args, "cid"));
    char q[64];
    snprintf(q, sizeof q, "%s %d", cid ? cid : "0", ep == SYS_EP_LDM);
    kick_result k = {0};
    mon_query_all(BR_QUERY_KICK, q, strlen(q), kick_answer, &k);
    if (!k.found)
        answer_error(a, 500,
                     ep == SYS_EP_KICK ? "no such client or leafnode id" : "no such client id");
    else if (k.err[0])
        answer_error(a, 500, k.err);
    else
        a->text = strdup(""); /* Go: no data, no error */
}

static void run(answer *a, int ep, const char *acc, const char *body, size_t body_len) {
    json_t *args = NULL;
    sys_filter flt;
    char err[512];
    int rc =
        sys_decode_opts(body, body_len, eps[ep].st, eps[ep].fields, &args, &flt, err, sizeof err);
    if ((ep == SYS_EP_KICK || ep == SYS_EP_LDM) && (rc < 0 || body_len == 0)) {
        /* Go: the request must decode first; otherwise only an error is logged */
        nx_error("Error unmarshalling kick client request: %s",
                 body_len ? err : "unexpected end of JSON input");
        a->skip = true;
        goto out;
    }
    if (rc < 0) {
        answer_error(a, 400, err);
        goto out;
    }
    if (filtered(&flt)) {
        a->skip = true;
        goto out;
    }
    json_t *detail = json_object_get(args, "subs_detail");
    if (json_is_string(detail) && !strcmp(json_string_value(detail), "true"))
        json_object_set_new(args, "subs", json_string("detail"));
    json_object_del(args, "subs_detail");
    json_t *want = json_incref(json_object_get(args, "accounts"));
    bool unused = json_is_string(json_object_get(args, "unused")) &&
                  !strcmp(json_string_value(json_object_get(args, "unused")), "true");
    switch (ep) {
    case SYS_EP_ACC_SUBSZ:
        json_object_set_new(args, "subs", json_string("true"));
        json_object_set_new(args, "acc", json_string(acc));
        break;
    case SYS_EP_ACC_CONNZ:
    case SYS_EP_ACC_LEAFZ:
        json_object_set_new(args, "acc", json_string(acc));
        break;
    case SYS_EP_ACC_JSZ:
        json_object_set_new(args, "acc", json_string(acc));
        json_object_set_new(args, "accounts", json_string("true"));
        break;
    case SYS_EP_ACC_STATZ:
        json_decref(want);
        want = json_pack("[s]", acc);
        break;
    default:
        break;
    }
    if (ep == SYS_EP_ACC_STATZ || ep == SYS_EP_ACC_PING_STATZ) json_object_del(args, "accounts");
    if (ep == SYS_EP_KICK || ep == SYS_EP_LDM) {
        kick(a, ep, args);
    } else if (ep == SYS_EP_ACC_STATZ && !strcmp(acc, "PING")) {
        a->skip = true; /* Go: the PING subject is the other handler's */
    } else if (ep == SYS_EP_ACC_STATZ || ep == SYS_EP_ACC_PING_STATZ) {
        char *t = sys_account_statz(want, unused);
        if (t)
            answer_data(a, t, strlen(t));
        else
            a->skip = true;
        free(t);
    } else if (ep == SYS_EP_ACC_INFO) {
        char *t = sys_account_info(acc);
        if (t) {
            answer_data(a, t, strlen(t));
        } else {
            char msg[600];
            snprintf(msg, sizeof msg, "Account %s does not exist", acc);
            answer_error(a, 500, msg);
        }
        free(t);
    } else if (ep == SYS_EP_RAFTZ) {
        answer_data(a, "{}", 2); /* no raft groups in the system account */
    } else if (ep == SYS_EP_ACC_JSZ && (!js_on() || !account_known(acc))) {
        char msg[600];
        if (!js_on())
            snprintf(msg, sizeof msg, "jetstream not enabled");
        else
            snprintf(msg, sizeof msg, "account \"%s\" not found", acc);
        answer_error(a, 500, msg);
    } else {
        mon_req r = {.conn = NULL, .args = args};
        mon_resp resp = {.status = 200, .content_type = "text/plain"};
        mon_handler(eps[ep].path)(&r, &resp);
        char empty[1] = "";
        size_t n = resp.body ? resp.len : 0;
        char *p = resp.body ? resp.body : empty;
        if (strncmp(resp.content_type, "application/json", 16) != 0) {
            while (n && p[n - 1] == '\n')
                n--;
            if (n >= 17 && !strncmp(p, "filtered response", 17)) /* Go errSkipZreq */
                a->skip = true;
            else {
                char *msg = strndup(p, n);
                answer_error(a, 500, msg ? msg : "");
                free(msg);
            }
        } else {
            n = sys_json_compact(p, n);
            size_t off, len;
            if (ep == SYS_EP_HEALTHZ) {
                healthz_data(a, p, n, resp.status);
            } else if (ep == SYS_EP_ACC_JSZ) {
                if (sys_json_member(p, n, "account_details", &off, &len) && len > 2 &&
                    p[off] == '[' && p[off + 1] == '{') {
                    size_t el = first_object(p + off + 1, len - 1);
                    answer_data(a, p + off + 1, el);
                } else {
                    char msg[600];
                    snprintf(msg, sizeof msg, "account \"%s\" not jetstream enabled", acc);
                    answer_error(a, 500, msg);
                }
            } else {
                answer_data(a, p, n);
            }
        }
        free(resp.body);
    }
    json_decref(want);
out:
    json_decref(args);
    sys_filter_free(&flt);
}

/* Hands the answer to the worker in pieces (its control connection takes <= 64 KiB frames). */
static void send_answer(uint32_t worker, const char *reply, const char *reply_acc,
                        const answer *a) {
    static uint32_t next_id;
    uint32_t id = ++next_id ? next_id : ++next_id;
    const char *p = a->text ? a->text : "";
    size_t left = strlen(p), rl = strlen(reply), al = strlen(reply_acc);
    bool first = true;
    char *buf = malloc(BR_QUERY_MAX_REQUEST);
    if (!buf) return;
    do {
        size_t room = SYS_PIECE_MAX - (first ? rl + al : 0);
        size_t take = left < room ? left : room;
        sys_piece_hdr h = {id, take == left, first ? (uint32_t)rl : 0, first ? (uint32_t)al : 0};
        size_t n = 0;
        memcpy(buf, &h, sizeof h);
        n += sizeof h;
        if (first) {
            memcpy(buf + n, reply, rl);
            memcpy(buf + n + rl, reply_acc, al);
            n += rl + al;
        }
        memcpy(buf + n, p, take);
        n += take;
        char *out = NULL;
        size_t out_len = 0;
        int rc = br_supervisor_query(worker, BR_QUERY_SYS_REPLY, buf, n, MON_QUERY_TIMEOUT_MS, &out,
                                     &out_len);
        free(out);
        if (rc < 0) {
            nx_warn("System account response to worker %u not delivered (%s)", worker,
                    strerror(-rc));
            break;
        }
        p += take;
        left -= take;
        first = false;
    } while (left > 0);
    free(buf);
}

/* ---- the request thread ---------------------------------------------------------------------- */

static int g_sock = -1, g_stop = -1;
static pthread_t g_thread;
static bool g_running;

/* One datagram: checked (a worker of this node sent it), answered. */
static void handle(const char *buf, size_t n, const struct ucred *cred) {
    sys_req_hdr h;
    if (n < sizeof h) return;
    memcpy(&h, buf, sizeof h);
    const br_node *node = br_supervisor_node();
    if (h.magic != SYS_REQ_MAGIC || !node || h.worker >= node->shm->nworkers || h.ep == 0 ||
        h.ep >= SYS_EP_END ||
        (size_t)h.reply_len + h.acc_len + h.body_len + h.reply_acc_len != n - sizeof h ||
        h.reply_len == 0 || h.reply_len > SYS_REQ_MAX_NAME || h.acc_len > SYS_REQ_MAX_NAME ||
        h.reply_acc_len > SYS_REQ_MAX_NAME)
        return;
    if (!cred || cred->uid != geteuid() ||
        cred->pid != atomic_load(&node->shm->workers[h.worker].pid)) {
        nx_debug("System account request from an unknown process (pid %d) ignored",
                 cred ? (int)cred->pid : 0);
        return;
    }
    const char *p = buf + sizeof h;
    char *reply = strndup(p, h.reply_len);
    char *acc = strndup(p + h.reply_len, h.acc_len);
    char *reply_acc = strndup(p + h.reply_len + h.acc_len + h.body_len, h.reply_acc_len);
    if (reply && acc && reply_acc) {
        answer a = {0};
        run(&a, (int)h.ep, acc, p + h.reply_len + h.acc_len, h.body_len);
        if (!a.skip && a.text) send_answer(h.worker, reply, reply_acc, &a);
        free(a.text);
    }
    free(reply);
    free(acc);
    free(reply_acc);
}

static void *serve(void *arg) {
    (void)arg;
    mon_count_disable_thread(); /* Go counts HTTP requests only */
    size_t cap = sizeof(sys_req_hdr) + 3 * SYS_REQ_MAX_NAME + SYS_REQ_MAX_BODY + 1;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = g_sock, .events = POLLIN}, {.fd = g_stop, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pfd[1].revents) break;
        if (!(pfd[0].revents & POLLIN)) continue;
        struct iovec iov = {buf, cap};
        union {
            char b[CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } cm;
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
        ssize_t n = recvmsg(g_sock, &msg, MSG_DONTWAIT);
        if (n < 0) continue;
        if (msg.msg_flags & MSG_TRUNC) continue;
        const struct ucred *cred = NULL;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                cred = (const struct ucred *)CMSG_DATA(c);
        handle(buf, (size_t)n, cred);
    }
    free(buf);
    return NULL;
}

void br_sysreq_serve_start(const br_options *opts) {
    const br_node *node = br_supervisor_node();
    if (g_running || !node) return;
    mon_state_init(opts);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char name[sizeof a.sun_path - 1];
    sys_req_addr_name(node->shm->server_id, name, sizeof name);
    size_t nl = strlen(name);
    memcpy(a.sun_path + 1, name, nl);
    int one = 1;
    g_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_stop = eventfd(0, EFD_CLOEXEC);
    int rcvbuf = 4 << 20;
    if (g_sock < 0 || g_stop < 0 ||
        setsockopt(g_sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
        bind(g_sock, (struct sockaddr *)&a,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nl)) < 0) {
        nx_error("System account requests unavailable: %s", strerror(errno));
        br_sysreq_serve_stop();
        return;
    }
    (void)setsockopt(g_sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (pthread_create(&g_thread, NULL, serve, NULL) != 0) {
        nx_error("System account requests unavailable: no thread");
        br_sysreq_serve_stop();
        return;
    }
    g_running = true;
}

void br_sysreq_serve_stop(void) {
    if (g_running) {
        uint64_t one = 1;
        if (write(g_stop, &one, sizeof one) < 0) nx_debug("sysreq stop: %s", strerror(errno));
        pthread_join(g_thread, NULL);
        g_running = false;
    }
    if (g_sock >= 0) close(g_sock);
    if (g_stop >= 0) close(g_stop);
    g_sock = g_stop = -1;
}
