/* Client connections: from parsed operations to effects; see client.h.
 *
 * Ports the CLIENT-kind paths of Go nats-server v2.14.5 server/client.go.  Delivery copies the
 * MSG/HMSG line and payload straight into each subscriber's outbound chunks; nothing is
 * allocated per message on the publish -> match -> deliver path once chunks are pooled and the
 * subject's match result is cached in the sublist.
 */
#include "broker/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "broker/deliver.h"
#include "broker/account.h"
#include "broker/mesh.h"
#include "broker/redact.h"
#include "broker/monitor_int.h"
#include "broker/server.h"
#include "common/log.h"
#include "common/subject.h"

#define CLOSE_FLUSH_MS 1000 /* how long queued -ERR text may take to leave on close */
#define FIRST_CLIENT_PING_MS 2000 /* Go: firstClientPingInterval */
#define RTT_MEASUREMENT_MS (3600 * 1000)

static const char *const close_reason_text[] = {
    [BR_CLOSE_CLIENT] = "Client Closed",
    [BR_CLOSE_PROTOCOL_VIOLATION] = "Protocol Violation",
    [BR_CLOSE_AUTH_TIMEOUT] = "Authentication Timeout",
    [BR_CLOSE_AUTH_VIOLATION] = "Authentication Failure",
    [BR_CLOSE_STALE] = "Stale Connection",
    [BR_CLOSE_SLOW_PENDING_BYTES] = "Slow Consumer (Pending Bytes)",
    [BR_CLOSE_SLOW_WRITE_DEADLINE] = "Slow Consumer (Write Deadline)",
    [BR_CLOSE_MAX_PAYLOAD] = "Maximum Message Payload Exceeded",
    [BR_CLOSE_MAX_CONTROL_LINE] = "Maximum Control Line Exceeded",
    [BR_CLOSE_MAX_CONNECTIONS] = "Maximum Connections Exceeded",
    [BR_CLOSE_BAD_PROTOCOL] = "Bad Client Protocol Version",
    [BR_CLOSE_NO_RESPONDERS_REQUIRES_HEADERS] = "No Responders Requires Headers",
    [BR_CLOSE_READ_ERROR] = "Read Error",
    [BR_CLOSE_WRITE_ERROR] = "Write Error",
    [BR_CLOSE_SERVER_SHUTDOWN] = "Server Shutdown",
    [BR_CLOSE_PARSE_ERROR] = "Parse Error",
    [BR_CLOSE_TLS_HANDSHAKE_ERROR] = "TLS Handshake Failure",
    [BR_CLOSE_MAX_ACCOUNT_CONNECTIONS] = "Maximum Account Connections Exceeded",
    [BR_CLOSE_KICKED] = "Kicked",
};

const char *br_close_reason_text(br_close_reason reason) {
    return (unsigned)reason < sizeof close_reason_text / sizeof close_reason_text[0] &&
                   close_reason_text[reason]
               ? close_reason_text[reason]
               : "Unknown State";
}

/* ---- creation ---------------------------------------------------------------------------- */

br_client *br_client_new(br_server *s, int fd, const struct sockaddr_storage *peer) {
    br_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = s;
    c->fd = fd;
    c->cid = atomic_fetch_add(&s->node->shm->next_cid, 1) + 1; /* node-wide unique */
    c->heap_idx = UINT32_MAX;
    c->verbose = c->pedantic = c->echo = true; /* Go's defaultOpts until CONNECT says otherwise */
    c->start_ms = c->last_in_ms = c->last_activity_ms = s->now_ms;
    if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &a->sin_addr, c->host, sizeof c->host);
        c->port = ntohs(a->sin_port);
    } else if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;
        inet_ntop(AF_INET6, &a->sin6_addr, c->host, sizeof c->host);
        c->port = ntohs(a->sin6_port);
    }
    snprintf(c->log_prefix, sizeof c->log_prefix, "%s:%u - cid:%" PRIu64, c->host, c->port,
             c->cid);
    np_parser_init(&c->parser);
    c->parser.max_payload = (uint32_t)s->opts->max_payload;
    c->parser.max_control_line = (uint32_t)s->opts->max_control_line;
    c->parser.require_connect = s->auth_required;
    c->acc = br_account_global(s);
    if (br_auth_needs_nonce(s->auth)) br_auth_make_nonce(c->nonce); /* for nkey signatures */
    return c;
}

static void set_deadlines_changed(br_client *c) {
    br_server_deadline_changed(c->srv, c);
}

void br_client_start(br_client *c) {
    br_server *s = c->srv;
    br_client_tls_start(c); /* sends INFO, now or after the handshake */
    if (s->auth_required) c->auth_deadline_ms = s->now_ms + s->opts->auth_timeout_ms;
    c->ping_deadline_ms = s->now_ms + s->opts->ping_interval_ms;
    set_deadlines_changed(c);
    nx_debug("%s - Client connection created", c->log_prefix);
}

/* ---- output ------------------------------------------------------------------------------ */

void br_client_queue(br_client *c, const void *data, size_t len) {
    if (c->closing) return;
    br_outq_append(&c->out, data, len);
    br_server_mark_dirty(c->srv, c);
}

void br_client_send_err(br_client *c, const char *text) {
    char line[512];
    int n = snprintf(line, sizeof line, "-ERR '%s'\r\n", text);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    nx_trace("%s - ->> [-ERR %s]", c->log_prefix, text);
    br_client_queue(c, line, (size_t)n);
}

static void send_ok(br_client *c) {
    nx_trace("%s - ->> [OK]", c->log_prefix);
    br_client_queue(c, "+OK\r\n", 5);
}

/* ---- subscriptions ----------------------------------------------------------------------- */

/* A removed subscription may still be referenced by a match result being walked (delivery
 * can close a slow consumer, or hit an auto-unsubscribe limit), so its memory is released by
 * the server at the end of the loop turn, never here. */
static void sub_retire(br_client *c, br_sub *sub) {
    sub->closed = true;
    br_account *a = c->acc;
    if (sl_remove(a->sublist, &sub->sl) == 0) {
        a->nsubs--;
        br_mesh_local_sub_acc(&c->srv->mesh, a->name, a->name_len, &sub->sl, -1);
    }
    sub->next_retired = c->srv->retired_subs;
    c->srv->retired_subs = sub;
}

void br_client_sub_remove(br_client *c, br_sub *sub) {
    if (sub->closed) return;
    nx_strmap_del(&c->subs, sub->sid, sub->sid_len);
    c->num_subs--;
    sub_retire(c, sub);
}

static void process_sub(br_client *c, const np_op *op) {
    br_server *s = c->srv;
    nx_trace("%s - <<- [SUB %.*s %.*s %.*s]", c->log_prefix, (int)op->subject.len,
             op->subject.ptr, (int)op->queue.len, op->queue.ptr, (int)op->sid.len, op->sid.ptr);
    /* Go processSubEx: permissions first (the _sys_ queue is never allowed), then limits. */
    if (!br_perms_sub_allowed(&c->perms, op->subject.ptr, op->subject.len,
                              op->queue.len ? op->queue.ptr : NULL, op->queue.len)) {
        char txt[1024];
        br_perms_sub_violation(txt, sizeof txt, op->subject.ptr, op->subject.len,
                               op->queue.len ? op->queue.ptr : NULL, op->queue.len);
        br_client_send_err(c, txt);
        br_perms_sub_violation_log(txt, sizeof txt, op->subject.ptr, op->subject.len,
                                   op->queue.len ? op->queue.ptr : NULL, op->queue.len,
                                   op->sid.ptr, op->sid.len);
        nx_error("%s - %s", c->log_prefix, txt);
        return;
    }
    /* Go subsAtLimit: the lower of the account's and the server's limit, per connection. */
    int32_t msubs = s->opts->max_subs > 0 ? s->opts->max_subs : -1;
    if (c->acc->max_subs >= 0 && (msubs < 0 || c->acc->max_subs < msubs)) msubs = c->acc->max_subs;
    if (msubs >= 0 && c->num_subs >= (uint32_t)msubs) {
        nx_error("%s - maximum subscriptions exceeded", c->log_prefix);
        br_client_send_err(c, "maximum subscriptions exceeded");
        return;
    }
    if (nx_strmap_get(&c->subs, op->sid.ptr, op->sid.len)) {
        if (c->verbose) send_ok(c); /* Go returns the existing subscription */
        return;
    }
    /* Go checks a SUB's subject only as Sublist.Insert does (no empty token, '>' last);
     * sl_insert below applies exactly that. */
    size_t size = sizeof(br_sub) + op->subject.len + 1 + op->queue.len + 1 + op->sid.len + 1;
    br_sub *sub = calloc(1, size);
    if (!sub) abort();
    char *p = sub->text;
    memcpy(p, op->subject.ptr, op->subject.len);
    sub->sl.subject = p;
    sub->sl.subject_len = op->subject.len;
    p += op->subject.len + 1;
    if (op->queue.len) {
        memcpy(p, op->queue.ptr, op->queue.len);
        sub->sl.queue = p;
        sub->sl.queue_len = op->queue.len;
    }
    p += op->queue.len + 1;
    memcpy(p, op->sid.ptr, op->sid.len);
    sub->sid = p;
    sub->sid_len = op->sid.len;
    sub->sl.owner = sub;
    sub->kind = BR_SUB_LOCAL;
    sub->client = c;
    if (sl_insert(c->acc->sublist, &sub->sl) != 0) {
        free(sub);
        br_client_send_err(c, "Invalid Subject");
        return;
    }
    nx_strmap_put(&c->subs, sub->sid, sub->sid_len, sub);
    c->last_activity_ms = s->now_ms; /* monitoring: Go's c.last */
    c->num_subs++;
    c->acc->nsubs++;
    br_mesh_local_sub_acc(&s->mesh, c->acc->name, c->acc->name_len, &sub->sl, +1);
    if (c->verbose) send_ok(c);
}

static void process_unsub(br_client *c, const np_op *op) {
    nx_trace("%s - <<- [UNSUB %.*s]", c->log_prefix, (int)op->sid.len, op->sid.ptr);
    br_sub *sub = nx_strmap_get(&c->subs, op->sid.ptr, op->sid.len);
    bool unsub = false;
    if (sub) {
        if (op->max_msgs > 0 && op->max_msgs > sub->delivered) {
            sub->max = op->max_msgs;
        } else {
            sub->max = 0;
            unsub = true;
        }
    }
    if (c->verbose) send_ok(c);
    c->last_activity_ms = c->srv->now_ms; /* monitoring: Go's c.last */
    if (unsub) br_client_sub_remove(c, sub);
}

/* ---- delivery ---------------------------------------------------------------------------- */


static void process_pub(br_client *c, const np_op *op) {
    br_server *s = c->srv;
    if (nx_log_trace()) {
        if (op->type == NP_OP_HPUB)
            nx_trace("%s - <<- [HPUB %.*s %.*s %u %u]", c->log_prefix, (int)op->subject.len,
                     op->subject.ptr, (int)op->reply.len, op->reply.ptr, op->hdr_len,
                     op->payload_len);
        else
            nx_trace("%s - <<- [PUB %.*s %.*s %u]", c->log_prefix, (int)op->subject.len,
                     op->subject.ptr, (int)op->reply.len, op->reply.ptr, op->payload_len);
    }
    /* An empty subject is a client's HMSG, which Go runs without the pedantic check. */
    if (c->pedantic && op->subject.len &&
        !nx_subject_valid_literal(op->subject.ptr, op->subject.len))
        br_client_send_err(c, "Invalid Publish Subject");

    c->in_msgs++;
    c->in_bytes += op->payload_len;
    c->last_activity_ms = s->now_ms; /* monitoring: Go's c.last */
    s->stats.in_msgs++;
    s->stats.in_bytes += op->payload_len;
    c->acc->in_msgs++;
    c->acc->in_bytes += op->payload_len;

    /* Go processInboundClientMsg's order: reserved or denied subject, then reserved reply. */
    char txt[1024];
    if (br_perms_pub_reserved(op->subject.ptr, op->subject.len) ||
        !br_perms_pub_allowed(&c->perms, op->subject.ptr, op->subject.len, br_now_ns())) {
        br_perms_pub_violation(txt, sizeof txt, op->subject.ptr, op->subject.len);
        br_client_send_err(c, txt);
        br_perms_pub_violation_log(txt, sizeof txt, op->subject.ptr, op->subject.len);
        nx_error("%s - %s", c->log_prefix, txt);
        return;
    }
    if (op->reply.len && br_perms_reply_reserved(op->reply.ptr, op->reply.len)) {
        br_perms_reply_violation(txt, sizeof txt, op->reply.ptr, op->reply.len);
        br_client_send_err(c, txt);
        br_perms_reply_violation_log(txt, sizeof txt, op->reply.ptr, op->reply.len);
        nx_error("%s - %s", c->log_prefix, txt);
        return;
    }
    if (c->verbose) send_ok(c);

    br_pub m = {
        .pub = c,
        .acc = c->acc,
        .subject = op->subject,
        .reply = op->reply,
        .size_str = op->size_str,
        .hdr_str = op->hdr_str,
        .payload = op->payload,
        .hdr_len = op->type == NP_OP_HPUB ? op->hdr_len : 0,
        .total_len = op->payload_len,
    };
    /* Go selectMappedSubject: the account's mappings (server-level ones are the global
     * account's) rewrite the subject before matching. */
    const nx_mappings *maps =
        c->acc == br_account_global(s) ? &s->opts->mappings : c->acc->mappings;
    if (maps && maps->len &&
        nx_mappings_select(maps, op->subject.ptr, op->subject.len, NULL, &s->mapped_subject)) {
        if (s->mapped_subject.len == 0) return; /* weighted loss: deliver to no one */
        m.subject = (np_str){s->mapped_subject.buf, (uint32_t)s->mapped_subject.len};
    }
    bool delivered = br_route_publish(s, &m);
    if (!delivered && m.reply.len && c->no_responders && !c->closing) br_send_no_responders(c, &m);
}

/* ---- CONNECT, PING, PONG ----------------------------------------------------------------- */

/* RTT in ms, at least 1: 0 means "never measured" to the ping timer (Go's computeRTT never
 * returns 0 either). */
static int64_t rtt_since(const br_server *s, int64_t start_ms) {
    int64_t d = s->now_ms - start_ms;
    return d > 0 ? d : 1;
}

/* Go's encoding/json matches object keys to struct fields case-insensitively; keys are
 * applied in order, so the last one naming a field wins. */
static json_t *json_get_ci(json_t *o, const char *k) {
    json_t *found = NULL;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it))
        if (strcasecmp(json_object_iter_key(it), k) == 0) found = json_object_iter_value(it);
    return found;
}

/* Reads a JSON member into a bool/int/string; a wrong type is an unmarshal error in Go. */
static int json_get_bool(json_t *o, const char *k, bool *out) {
    json_t *v = json_get_ci(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return -1;
    *out = json_is_true(v);
    return 0;
}

static int json_get_str(json_t *o, const char *k, const char **out) {
    json_t *v = json_get_ci(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return -1;
    *out = json_string_value(v);
    return 0;
}

static void replace_str(char **dst, const char *src) {
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

/* Go processConnect: after the first CONNECT every log line of the client carries
 * "v<version>:<lang>:<name>" and "<account>/<auth user>" (quoted as Go's %q). */
static void set_log_labels(br_client *c) {
    char ncs[300] = "", acs[320] = "", q1[700], q2[700];
    size_t n = 0;
    if (c->version && c->version[0])
        n += (size_t)snprintf(ncs + n, sizeof ncs - n, "v%s", c->version);
    if (c->lang && c->lang[0] && n < sizeof ncs)
        n += (size_t)snprintf(ncs + n, sizeof ncs - n, "%s%s", n ? ":" : "", c->lang);
    if (c->name && c->name[0] && n < sizeof ncs)
        snprintf(ncs + n, sizeof ncs - n, "%s%s", n ? ":" : "", c->name);
    if (c->auth_label) snprintf(acs, sizeof acs, "%.100s/%s", c->acc->name, c->auth_label);
    char base[128];
    snprintf(base, sizeof base, "%s:%u - cid:%" PRIu64, c->host, c->port, c->cid);
    if (!ncs[0] && !acs[0]) return;
    if (ncs[0]) br_go_quote(q1, sizeof q1, ncs, strlen(ncs));
    if (acs[0]) br_go_quote(q2, sizeof q2, acs, strlen(acs));
    if (ncs[0] && acs[0])
        snprintf(c->log_prefix, sizeof c->log_prefix, "%.120s - %.180s - %.180s", base, q1, q2);
    else
        snprintf(c->log_prefix, sizeof c->log_prefix, "%.120s - %.180s", base, ncs[0] ? q1 : q2);
}

static void process_connect(br_client *c, const np_op *op) {
    br_server *s = c->srv;
    if (nx_log_trace()) { /* Go removeSecretsFromTrace: credentials never reach the log */
        char safe[4096];
        br_redact_connect(op->arg.ptr, op->arg.len, safe, sizeof safe);
        nx_trace("%s - <<- [CONNECT %s]", c->log_prefix, safe);
    }
    c->auth_deadline_ms = 0;
    c->last_in_ms = s->now_ms;
    c->rtt_ms = rtt_since(s, c->start_ms);
    /* Go: clearPingTimer + setFirstPingTimer, short first ping plus up to 20% jitter. */
    int64_t d = s->opts->ping_interval_ms;
    if (!s->opts->disable_short_first_ping && d > FIRST_CLIENT_PING_MS) d = FIRST_CLIENT_PING_MS;
    if (d >= 5) d += random() % (d / 5);
    c->ping_deadline_ms = s->now_ms + d;
    set_deadlines_changed(c);

    json_error_t jerr;
    /* Go's json.Unmarshal: trailing garbage is an error, `null` leaves the options as they are. */
    json_t *j = json_loadb(op->arg.ptr, op->arg.len, JSON_DECODE_ANY, &jerr);
    if (j && json_is_null(j)) {
        json_decref(j);
        j = json_object();
    }
    const char *user = NULL, *pass = NULL, *token = NULL, *name = NULL, *lang = NULL,
               *version = NULL, *account = NULL, *nkey = NULL, *sig = NULL;
    bool verbose = c->verbose, pedantic = c->pedantic, echo = c->echo, headers = false,
         no_responders = false, tls_required = false, new_account = false;
    int protocol = c->protocol;
    int bad = !j || !json_is_object(j);
    if (!bad) {
        json_t *pv = json_get_ci(j, "protocol");
        if (pv && !json_is_null(pv)) {
            if (!json_is_integer(pv))
                bad = 1;
            else
                protocol = (int)json_integer_value(pv);
        }
        bad |= json_get_bool(j, "verbose", &verbose) | json_get_bool(j, "pedantic", &pedantic) |
               json_get_bool(j, "echo", &echo) | json_get_bool(j, "headers", &headers) |
               json_get_bool(j, "no_responders", &no_responders) |
               json_get_bool(j, "tls_required", &tls_required) |
               json_get_bool(j, "new_account", &new_account) | json_get_str(j, "user", &user) |
               json_get_str(j, "pass", &pass) | json_get_str(j, "auth_token", &token) |
               json_get_str(j, "name", &name) | json_get_str(j, "lang", &lang) |
               json_get_str(j, "version", &version) | json_get_str(j, "account", &account) |
               json_get_str(j, "nkey", &nkey) | json_get_str(j, "sig", &sig);
    }
    if (bad) {
        nx_error("%s - %s", c->log_prefix, j ? "json: cannot unmarshal CONNECT" : jerr.text);
        json_decref(j);
        br_client_close(c, BR_CLOSE_PROTOCOL_VIOLATION);
        return;
    }
    /* Go clearAccountSubs: a second CONNECT drops the subscriptions made so far. */
    if (c->connect_received) {
        nx_strmap_entry *e;
        for (uint32_t it = 0; nx_strmap_next(&c->subs, &it, &e);) sub_retire(c, e->value);
        nx_strmap_free(&c->subs);
        c->num_subs = 0;
    }
    c->connect_received = true;
    c->verbose = verbose;
    c->pedantic = pedantic;
    c->echo = echo;
    c->protocol = protocol;
    c->headers = headers && !s->opts->no_header_support;
    c->no_responders = no_responders;
    replace_str(&c->name, name);
    replace_str(&c->lang, lang);
    replace_str(&c->version, version);
    c->last_activity_ms = s->now_ms;

    br_connect_creds creds = {user, pass, token, nkey, sig};
    bool auth_ok = br_client_authenticate(c, &creds);
    /* Every string above points into j: read them all before it goes. */
    bool names_account = (account && account[0]) || new_account;
    json_decref(j);
    if (!auth_ok) return; /* told and closed */
    if (names_account) { /* Go: account designation is an error now */
        br_client_auth_violation(c, NULL);
        return;
    }
    set_log_labels(c);
    c->parser.require_connect = false;
    c->parser.headers = c->headers;
    if (protocol < 0 || protocol > 1) {
        br_client_send_err(c, "invalid client protocol");
        br_client_close(c, BR_CLOSE_BAD_PROTOCOL);
        return;
    }
    if (c->no_responders && !c->headers) {
        br_client_send_err(c, "no responders requires headers support");
        br_client_close(c, BR_CLOSE_NO_RESPONDERS_REQUIRES_HEADERS);
        return;
    }
    if (c->verbose) send_ok(c);
}

static void process_ping(br_client *c) {
    nx_trace("%s - <<- [PING]", c->log_prefix);
    nx_trace("%s - ->> [PONG]", c->log_prefix);
    br_client_queue(c, "PONG\r\n", 6);
    c->last_in_ms = c->srv->now_ms;
    if (!c->connect_received || c->first_pong_sent) return;
    c->first_pong_sent = true;
    if (c->protocol >= 1) { /* Go sends an INFO with connect_info after the first PONG */
        char info[2048];
        size_t n = br_server_info_line(c->srv, c, true, info, sizeof info);
        br_client_queue(c, info, n);
    }
}

static void process_pong(br_client *c) {
    nx_trace("%s - <<- [PONG]", c->log_prefix);
    c->pings_out = 0;
    c->rtt_ms = rtt_since(c->srv, c->rtt_start_ms);
}

/* ---- input ------------------------------------------------------------------------------- */

/* Go processInfo: a client's INFO must be valid JSON (then it is ignored), else the connection
 * closes as a protocol violation. */
static void process_info(br_client *c, const np_op *op) {
    json_error_t jerr;
    json_t *j = json_loadb(op->arg.ptr, op->arg.len, JSON_DECODE_ANY, &jerr);
    if (!j || !(json_is_object(j) || json_is_null(j))) {
        nx_error("%s - %s", c->log_prefix, j ? "json: cannot unmarshal INFO" : jerr.text);
        json_decref(j);
        br_client_close(c, BR_CLOSE_PROTOCOL_VIOLATION);
        return;
    }
    json_decref(j);
}

static void parse_error(br_client *c, np_error e) {
    const char *text = np_error_text(e);
    if (e == NP_ERR_AUTH_REQUIRED) {
        br_client_auth_violation(c, NULL);
        return;
    }
    if (np_error_action_of(e) == NP_ACT_SEND_ERR_AND_CLOSE && text) br_client_send_err(c, text);
    br_close_reason reason = BR_CLOSE_PROTOCOL_VIOLATION;
    if (e == NP_ERR_MAX_PAYLOAD) {
        nx_error("%s - maximum payload exceeded", c->log_prefix);
        reason = BR_CLOSE_MAX_PAYLOAD;
    } else if (e == NP_ERR_MAX_CONTROL_LINE) {
        nx_error("%s - maximum control line exceeded", c->log_prefix);
        reason = BR_CLOSE_MAX_CONTROL_LINE;
    } else {
        nx_error("%s - Client parser ERROR: %s", c->log_prefix, text ? text : "bad arguments");
    }
    br_client_close(c, reason);
}

void br_client_process_input(br_client *c, const uint8_t *data, size_t len) {
    size_t off = 0;
    while (off < len && !c->closing) {
        np_op op;
        ssize_t n = np_parse(&c->parser, data + off, len - off, &op);
        if (n == -NP_ERR_AUTH_REQUIRED && br_client_implicit_connect(c)) continue; /* reparse */
        if (n < 0) {
            if (!c->closing) parse_error(c, (np_error)-n);
            return;
        }
        off += (size_t)n;
        switch (op.type) {
        case NP_OP_NONE: break;
        case NP_OP_CONNECT: process_connect(c, &op); break;
        case NP_OP_PING: process_ping(c); break;
        case NP_OP_PONG: process_pong(c); break;
        case NP_OP_PUB:
        case NP_OP_HPUB: process_pub(c, &op); break;
        case NP_OP_SUB: process_sub(c, &op); break;
        case NP_OP_UNSUB: process_unsub(c, &op); break;
        case NP_OP_INFO: process_info(c, &op); break;
        case NP_OP_OK: break;
        case NP_OP_ERR:
            nx_error("%s - Client Error %.*s", c->log_prefix, (int)op.arg.len, op.arg.ptr);
            br_client_close(c, BR_CLOSE_PARSE_ERROR);
            break;
        }
    }
}

/* ---- deadlines --------------------------------------------------------------------------- */

int64_t br_client_next_deadline(const br_client *c) {
    int64_t d = 0;
    int64_t cand[5] = {c->auth_deadline_ms, c->ping_deadline_ms, 0, c->flush_close_deadline_ms,
                       c->tls_deadline_ms};
    if (c->send_started_ms) cand[2] = c->send_started_ms + c->srv->opts->write_deadline_ms;
    if (c->closing) cand[0] = cand[1] = cand[4] = 0;
    for (int i = 0; i < 5; i++)
        if (cand[i] && (!d || cand[i] < d)) d = cand[i];
    return d;
}

static void ping_timer(br_client *c, int64_t now) {
    br_server *s = c->srv;
    int64_t interval = s->opts->ping_interval_ms;
    c->ping_deadline_ms = now + interval;
    /* Never measured (rtt_start 0) counts as stale, as Go's zero time.Time does. */
    bool need_rtt =
        c->rtt_ms == 0 || c->rtt_start_ms == 0 || now - c->rtt_start_ms > RTT_MEASUREMENT_MS;
    if (now - c->last_in_ms < interval && !need_rtt) {
        nx_debug("%s - Delaying PING due to remote client data or ping", c->log_prefix);
        return;
    }
    if (c->pings_out + 1 > s->opts->ping_max) {
        nx_debug("%s - Stale Client Connection - Closing", c->log_prefix);
        s->stats.stale_connections++; /* monitoring: /varz stale_connections */
        br_client_send_err(c, "Stale Connection");
        br_client_close(c, BR_CLOSE_STALE);
        return;
    }
    c->pings_out++;
    c->rtt_start_ms = now;
    nx_trace("%s - ->> [PING]", c->log_prefix);
    br_client_queue(c, "PING\r\n", 6);
}

void br_client_on_deadline(br_client *c, int64_t now) {
    if (c->closing) {
        if (c->flush_close_deadline_ms && now >= c->flush_close_deadline_ms) {
            c->flush_close_deadline_ms = 0; /* give up on the unsent tail */
            br_server_mark_dirty(c->srv, c);
        }
        if (c->send_started_ms && now >= c->send_started_ms + c->srv->opts->write_deadline_ms)
            c->send_started_ms = 0; /* shutdown(2) will fail the stuck send */
        return;
    }
    if (c->tls_deadline_ms && now >= c->tls_deadline_ms) {
        c->tls_deadline_ms = 0;
        nx_error("%s - TLS handshake error: timeout", c->log_prefix);
        br_client_close(c, BR_CLOSE_TLS_HANDSHAKE_ERROR);
        return;
    }
    if (c->auth_deadline_ms && now >= c->auth_deadline_ms) {
        c->auth_deadline_ms = 0;
        nx_debug("%s - Authentication Timeout", c->log_prefix);
        br_client_send_err(c, "Authentication Timeout");
        br_client_close(c, BR_CLOSE_AUTH_TIMEOUT);
        return;
    }
    if (c->send_started_ms && now >= c->send_started_ms + c->srv->opts->write_deadline_ms) {
        c->srv->stats.slow_consumers++;
        nx_notice("%s - Slow Consumer Detected: WriteDeadline of %" PRId64 "ms Exceeded",
                  c->log_prefix, c->srv->opts->write_deadline_ms);
        br_client_close(c, BR_CLOSE_SLOW_WRITE_DEADLINE);
        return;
    }
    if (c->ping_deadline_ms && now >= c->ping_deadline_ms) ping_timer(c, now);
    set_deadlines_changed(c);
}

/* ---- close ------------------------------------------------------------------------------- */

void br_client_close(br_client *c, br_close_reason reason) {
    if (c->closing) return;
    c->closing = true;
    c->close_reason = reason;
    mon_closed_add(c->srv, c); /* monitoring: /connz?state=closed (before subs go) */
    /* Go flushes what is queued (an -ERR) before closing; not for slow consumers, write errors,
     * a peer that already went away, or server shutdown. */
    bool flush = reason != BR_CLOSE_SLOW_PENDING_BYTES && reason != BR_CLOSE_SLOW_WRITE_DEADLINE &&
                 reason != BR_CLOSE_WRITE_ERROR && reason != BR_CLOSE_READ_ERROR &&
                 reason != BR_CLOSE_CLIENT && reason != BR_CLOSE_SERVER_SHUTDOWN;
    if (flush && c->out.pending) c->flush_close_deadline_ms = c->srv->now_ms + CLOSE_FLUSH_MS;
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&c->subs, &it, &e);) {
        sub_retire(c, e->value);
    }
    nx_strmap_free(&c->subs);
    c->num_subs = 0;
    if (c->acc_counted) {
        /* Go saveClosedClient: accountDisconnectEvent */
        br_account_count_client(c->srv, c->acc, -1);
        br_sys_conns_event(c->srv, c->acc); /* Go removeClient -> accConnsUpdate */
        br_sys_disconnect_event(c->srv, c, close_reason_text[reason]);
        c->acc_counted = false;
    }
    nx_debug("%s - Client connection closed: %s", c->log_prefix, close_reason_text[reason]);
    br_server_client_closed(c->srv, c);
}

void br_client_free(br_client *c) {
    br_outq_clear(&c->out);
    br_outq_clear(&c->wire);
    br_tls_free(&c->tls);
    np_parser_free(&c->parser);
    nx_strmap_free(&c->subs);
    free(c->name);
    free(c->lang);
    free(c->version);
    free(c->auth_user);
    free(c->cred_user);
    free(c->cred_pass);
    free(c->cred_token);
    free(c->cred_nkey);
    free(c->auth_label);
    free(c->cred_sig);
    br_perm_state_clear(&c->perms);
    if (c->fd >= 0) close(c->fd);
    free(c);
}
