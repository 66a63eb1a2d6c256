/* The system account's monitoring requests, worker side (see sys_requests.h).
 *
 * Ports Go nats-server v2.14.5 server/events.go initEventTracking (the request subjects:
 * $SYS.REQ.SERVER.<id>.<EP>, $SYS.REQ.SERVER.PING.<EP>, $SYS.REQ.ACCOUNT.*.<EP>), idzReq and
 * connsRequest, which worker 0 answers itself, and the ServerAPIResponse envelope of zReq for
 * the answers the supervisor builds (sys_serve.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/deliver.h"
#include "broker/server.h"
#include "broker/sys_requests.h"
#include "common/log.h"

/* The server endpoints (both $SYS.REQ.SERVER.<id>.X and $SYS.REQ.SERVER.PING.X). */
static const struct {
    const char *name;
    int ep; /* 0: answered here (IDZ) */
} server_eps[] = {
    {"IDZ", 0},
    {"VARZ", SYS_EP_VARZ},
    {"CONNZ", SYS_EP_CONNZ},
    {"SUBSZ", SYS_EP_SUBSZ},
    {"ROUTEZ", SYS_EP_ROUTEZ},
    {"GATEWAYZ", SYS_EP_GATEWAYZ},
    {"LEAFZ", SYS_EP_LEAFZ},
    {"ACCOUNTZ", SYS_EP_ACCOUNTZ},
    {"JSZ", SYS_EP_JSZ},
    {"HEALTHZ", SYS_EP_HEALTHZ},
    {"RAFTZ", SYS_EP_RAFTZ},
};
#define N_SERVER_EPS (sizeof server_eps / sizeof server_eps[0])

/* The account endpoints ($SYS.REQ.ACCOUNT.*.X). */
static const struct {
    const char *name;
    int ep; /* 0: answered here (CONNS) */
} account_eps[] = {
    {"SUBSZ", SYS_EP_ACC_SUBSZ},
    {"CONNZ", SYS_EP_ACC_CONNZ},
    {"LEAFZ", SYS_EP_ACC_LEAFZ},
    {"JSZ", SYS_EP_ACC_JSZ},
    {"INFO", SYS_EP_ACC_INFO},
    {"STATZ", SYS_EP_ACC_STATZ},
    {"CONNS", 0},
};
#define N_ACCOUNT_EPS (sizeof account_eps / sizeof account_eps[0])

/* The system imports of every other account (Go registerSystemImports; USER.INFO aside):
 * a request there is the account's own $SYS.REQ.ACCOUNT.<acc>.<EP>, answered in the account. */
static const struct {
    const char *subject;
    int ep;
} imports[] = {
    {"$SYS.REQ.ACCOUNT.PING.CONNZ", SYS_EP_ACC_CONNZ},
    {"$SYS.REQ.SERVER.PING.CONNZ", SYS_EP_ACC_CONNZ},
    {"$SYS.REQ.ACCOUNT.PING.STATZ", SYS_EP_ACC_STATZ},
};
#define N_IMPORTS (sizeof imports / sizeof imports[0])

static int g_fd = -1;        /* datagram socket to the supervisor (worker 0) */
static int64_t g_next_hb_ms; /* the next CONNS heartbeat (worker 0) */

/* Go eventsHBInterval: accounts with connections repeat their CONNS update this often. */
#define CONNS_HB_MS 30000

/* A response arriving in pieces (BR_QUERY_SYS_REPLY): one at a time, the supervisor's request
 * thread being serial. */
static struct {
    uint32_t id;
    char *reply;
    char *reply_acc; /* NULL: the system account */
    char *buf;
    size_t len, cap;
} g_pending;

static void pending_clear(void) {
    free(g_pending.reply);
    free(g_pending.reply_acc);
    free(g_pending.buf);
    memset(&g_pending, 0, sizeof g_pending);
}

static bool has_imports(const br_account *a) {
    for (size_t i = 0; i < a->nisubs; i++)
        if (a->isubs[i]->what == BR_ISUB_SYS && !strcmp(a->isubs[i]->subject, imports[0].subject))
            return true;
    return false;
}

/* Go registerSystemImports: every other account imports its own CONNZ and STATZ (accounts a
 * reload or a peer worker adds included: checked when the registry grows). */
static uint32_t g_accounts_seen;

static void add_imports(br_server *s) {
    br_account *sys = s->accounts->system;
    g_accounts_seen = s->accounts->by_name.count;
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&s->accounts->by_name, &it, &e);) {
        br_account *a = e->value;
        if (a == sys || has_imports(a)) continue;
        for (size_t i = 0; i < N_IMPORTS; i++)
            br_account_isub(s, a, imports[i].subject, BR_ISUB_SYS);
    }
}

void br_sysreq_init(br_server *s) {
    br_account *sys = s->accounts->system;
    char subj[256];
    for (size_t i = 0; i < N_SERVER_EPS; i++) {
        snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.%s", s->server_id, server_eps[i].name);
        br_account_isub(s, sys, subj, BR_ISUB_SYS);
        snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.PING.%s", server_eps[i].name);
        br_account_isub(s, sys, subj, BR_ISUB_SYS);
    }
    /* Go kickClient / ldmClient: this server only. */
    snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.KICK", s->server_id);
    br_account_isub(s, sys, subj, BR_ISUB_SYS);
    snprintf(subj, sizeof subj, "$SYS.REQ.SERVER.%s.LDM", s->server_id);
    br_account_isub(s, sys, subj, BR_ISUB_SYS);
    /* $SYS.REQ.ACCOUNT.PING.STATZ is the wildcard's "PING" account (one subscription: one
     * answer). */
    for (size_t i = 0; i < N_ACCOUNT_EPS; i++) {
        snprintf(subj, sizeof subj, "$SYS.REQ.ACCOUNT.*.%s", account_eps[i].name);
        br_account_isub(s, sys, subj, BR_ISUB_SYS);
    }
    add_imports(s);
    if (g_fd < 0) g_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g_fd < 0) nx_error("System account requests: socket: %s", strerror(errno));
}

void br_sysreq_free(br_server *s) {
    (void)s;
    if (g_fd >= 0) close(g_fd);
    g_fd = -1;
    pending_clear();
}

/* Splits "$SYS.REQ.<kind>.<t3>.<t4>" (exactly five tokens). */
static bool split(const char *subj, size_t len, const char *kind, const char **t3, size_t *l3,
                  const char **t4, size_t *l4) {
    char pre[32];
    int pl = snprintf(pre, sizeof pre, "$SYS.REQ.%s.", kind);
    if (len <= (size_t)pl || memcmp(subj, pre, (size_t)pl) != 0) return false;
    const char *p = subj + pl, *end = subj + len;
    const char *dot = memchr(p, '.', (size_t)(end - p));
    if (!dot || dot == p || dot + 1 >= end || memchr(dot + 1, '.', (size_t)(end - dot - 1)))
        return false;
    *t3 = p;
    *l3 = (size_t)(dot - p);
    *t4 = dot + 1;
    *l4 = (size_t)(end - dot - 1);
    return true;
}

static bool tok_is(const char *t, size_t l, const char *word) {
    return strlen(word) == l && memcmp(t, word, l) == 0;
}

/* Go idzReq: the bare ServerID, no envelope. */
static void idz(br_server *s, const char *reply) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->server_name));
    const char *host = s->opts->host && s->opts->host[0] ? s->opts->host : "0.0.0.0";
    json_object_set_new(o, "host", json_string(host));
    json_object_set_new(o, "id", json_string(s->server_id));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text) br_sys_queue_text(s, reply, text);
}

/* Go connsRequest: this server's AccountNumConns when it has connections in the account. */
static void conns(br_server *s, const char *acc, size_t acc_len, const char *reply,
                  const char *body, size_t body_len) {
    if (body_len) {
        json_error_t je;
        json_t *m = json_loadb(body, body_len, 0, &je);
        const char *named = m ? json_string_value(json_object_get(m, "acc")) : NULL;
        bool ok = m && json_is_object(m) && (!json_object_get(m, "acc") || named);
        bool same = ok && (!named || tok_is(acc, acc_len, named)); /* Go: preset from subject */
        json_decref(m);
        if (!ok) {
            nx_error("Error unmarshalling account connections request message: %s", je.text);
            return;
        }
        if (!same) {
            nx_error("Error unmarshalled account does not match subject");
            return;
        }
    }
    br_account *a = br_account_get(s, acc, acc_len);
    if (!a) return;
    int32_t n =
        a->node_slot >= 0 ? br_node_acc_clients(s->node, a->node_slot) : (int32_t)a->nclients;
    if (n > 0) br_sys_conns_reply(s, a, reply);
}

static void forward(br_server *s, int ep, const char *acc, size_t acc_len, const char *reply,
                    const char *body, size_t body_len, const char *reply_acc) {
    if (g_fd < 0) return;
    if (body_len > SYS_REQ_MAX_BODY) {
        nx_warn("System account request body too large (%zu bytes); ignored", body_len);
        return;
    }
    sys_req_hdr h = {SYS_REQ_MAGIC,
                     s->worker,
                     (uint32_t)ep,
                     (uint32_t)strlen(reply),
                     (uint32_t)acc_len,
                     (uint32_t)body_len,
                     reply_acc ? (uint32_t)strlen(reply_acc) : 0};
    struct iovec iov[5] = {{&h, sizeof h},
                           {(void *)reply, h.reply_len},
                           {(void *)acc, acc_len},
                           {(void *)body, body_len},
                           {(void *)(reply_acc ? reply_acc : ""), h.reply_acc_len}};
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char name[sizeof a.sun_path - 1];
    sys_req_addr_name(s->server_id, name, sizeof name);
    size_t nl = strlen(name);
    memcpy(a.sun_path + 1, name, nl); /* abstract namespace */
    struct msghdr msg = {.msg_name = &a,
                         .msg_namelen =
                             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nl),
                         .msg_iov = iov,
                         .msg_iovlen = 5};
    if (sendmsg(g_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        nx_debug("System account request not forwarded: %s", strerror(errno));
}

/* Go accConnsUpdate's heartbeat: worker 0 sends each account's node-wide CONNS update while
 * the account has connections (Go resets its timer on every update; here it is periodic). */
void br_sysreq_heartbeat(br_server *s) {
    if (g_fd >= 0 && s->accounts->by_name.count != g_accounts_seen) add_imports(s);
    if (g_fd < 0 || s->now_ms < g_next_hb_ms) return;
    bool first = g_next_hb_ms == 0;
    g_next_hb_ms = s->now_ms + CONNS_HB_MS;
    if (first) return;
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&s->accounts->by_name, &it, &e);) {
        br_account *a = e->value;
        if (a->node_slot >= 0 && br_node_acc_clients(s->node, a->node_slot) > 0)
            br_sys_conns_event(s, a);
    }
}

bool br_sysreq_handle(br_server *s, const br_pub *m) {
    const char *subj = m->subject.ptr;
    size_t len = m->subject.len;
    const char *t3, *t4;
    size_t l3, l4;
    int ep = -1;
    bool account = false;
    const char *reply_acc = NULL;
    if (m->acc != s->accounts->system) { /* a system import (see above) */
        for (size_t i = 0; i < N_IMPORTS && ep < 0; i++)
            if (tok_is(subj, len, imports[i].subject)) ep = imports[i].ep;
        if (ep < 0 || !m->acc) return true;
        account = true;
        reply_acc = m->acc->name;
        t3 = m->acc->name;
        l3 = m->acc->name_len;
    } else if (split(subj, len, "SERVER", &t3, &l3, &t4, &l4)) {
        if (tok_is(t4, l4, "STATSZ")) return false;
        if (!tok_is(t3, l3, "PING") && !tok_is(t3, l3, s->server_id)) return false;
        for (size_t i = 0; i < N_SERVER_EPS && ep < 0; i++)
            if (tok_is(t4, l4, server_eps[i].name)) ep = server_eps[i].ep;
        if (tok_is(t3, l3, s->server_id) && tok_is(t4, l4, "KICK")) ep = SYS_EP_KICK;
        if (tok_is(t3, l3, s->server_id) && tok_is(t4, l4, "LDM")) ep = SYS_EP_LDM;
    } else if (split(subj, len, "ACCOUNT", &t3, &l3, &t4, &l4)) {
        account = true;
        for (size_t i = 0; i < N_ACCOUNT_EPS && ep < 0; i++)
            if (tok_is(t4, l4, account_eps[i].name)) ep = account_eps[i].ep;
        if (ep == SYS_EP_ACC_STATZ && tok_is(t3, l3, "PING")) ep = SYS_EP_ACC_PING_STATZ;
    } else {
        return false;
    }
    if (ep < 0) return false;
    if (!m->reply.len) return true;                   /* Go zReq: nothing to answer to */
    if (m->reply.len > SYS_REQ_MAX_NAME) return true; /* (a subject past any control line) */
    char reply[SYS_REQ_MAX_NAME + 1];
    snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
    const char *body = (const char *)m->payload + m->hdr_len;
    size_t body_len = m->total_len - m->hdr_len;
    if (ep == 0 && !account)
        idz(s, reply);
    else if (ep == 0)
        conns(s, t3, l3, reply, body, body_len);
    else
        forward(s, ep, account ? t3 : "", account ? l3 : 0, reply, body, body_len, reply_acc);
    return true;
}

/* Go DisconnectClientByID / LDMClientByID, for the client if it is this worker's. */
int br_sysreq_answer_kick(br_server *s, const char *args, size_t len, char **out, size_t *out_len) {
    char text[64];
    unsigned long long cid = 0;
    int ldm = 0;
    snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), args);
    if (sscanf(text, "%llu %d", &cid, &ldm) != 2) return -EINVAL; // NOLINT(cert-err34-c)
    br_client *c = s->clients;
    while (c && (c->cid != cid || c->closing))
        c = c->next;
    const char *err = NULL;
    if (c && !ldm) {
        br_client_close(c, BR_CLOSE_KICKED);
    } else if (c && c->protocol >= 1 && c->first_pong_sent) {
        char info[4096];
        size_t n = br_server_info_line(s, c, false, info, sizeof info);
        /* the INFO with "ldm":true (Go: a copy of the server's INFO with LameDuckMode) */
        const char *end = memrchr(info, '}', n);
        if (end && n + 12 < sizeof info && !memmem(info, n, "\"ldm\":true", 10)) {
            size_t at = (size_t)(end - info);
            memmove(info + at + 11, info + at, n - at);
            memcpy(info + at, ",\"ldm\":true", 11);
            n += 11;
        }
        br_client_queue(c, info, n);
    } else if (c) {
        err = "client does not support Lame Duck Mode or is not ready to receive the notification";
    }
    json_t *o = json_pack("{s:b}", "found", c != NULL);
    if (err) json_object_set_new(o, "error", json_string(err));
    *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!*out) return -ENOMEM;
    *out_len = strlen(*out);
    return 0;
}

int br_sysreq_deliver(br_server *s, const char *args, size_t len) {
    sys_piece_hdr h;
    if (len < sizeof h) return -EPROTO;
    memcpy(&h, args, sizeof h);
    args += sizeof h;
    len -= sizeof h;
    if (h.id != g_pending.id || !g_pending.reply) {
        pending_clear();
        if (h.reply_len == 0 || (size_t)h.reply_len + h.reply_acc_len > len) return -EPROTO;
        g_pending.id = h.id;
        g_pending.reply = strndup(args, h.reply_len);
        if (h.reply_acc_len) g_pending.reply_acc = strndup(args + h.reply_len, h.reply_acc_len);
        if (!g_pending.reply || (h.reply_acc_len && !g_pending.reply_acc)) return -ENOMEM;
        args += h.reply_len + h.reply_acc_len;
        len -= h.reply_len + h.reply_acc_len;
    }
    if (g_pending.len + len > g_pending.cap) {
        size_t cap = (g_pending.len + len) * 2;
        char *nb = realloc(g_pending.buf, cap);
        if (!nb) return -ENOMEM;
        g_pending.buf = nb;
        g_pending.cap = cap;
    }
    if (len) memcpy(g_pending.buf + g_pending.len, args, len);
    g_pending.len += len;
    if (!h.last) return 0;
    /* Go ServerAPIResponse: {"server":..., then "data" or "error"}. */
    json_t *si = br_sys_server_info(s);
    char *sis = json_dumps(si, JSON_COMPACT);
    json_decref(si);
    if (!sis) return -ENOMEM;
    char *text = NULL;
    int n = asprintf(&text, "{\"server\":%s%s%.*s}", sis, g_pending.len ? "," : "",
                     (int)g_pending.len, g_pending.buf ? g_pending.buf : "");
    free(sis);
    if (n >= 0) br_sys_queue_text_in(s, g_pending.reply_acc, g_pending.reply, text);
    pending_clear();
    return n < 0 ? -ENOMEM : 0;
}
