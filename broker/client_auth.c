/* Client authentication and permissions, glued to the auth module (broker/auth.h, perms.h).
 *
 * Ports the client side of Go nats-server v2.14.5 server/client.go processConnect
 * (checkAuthentication, authViolation), the no_auth_user rule for a first operation that is
 * not CONNECT (parser.go), and reload's re-check of connected clients (reload.go
 * clientsAuthChanged: clients that no longer pass are closed with 'Authorization Violation'),
 * and the TLS side of verify_and_map (the peer certificate's identities, auth.go
 * checkClientTLSCertSubject; the Warnf when a CONNECT also names a user).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/server.h"
#include "broker/tls_map.h"
#include "common/log.h"

static size_t slen(const char *s) {
    return s ? strlen(s) : 0;
}

static void set(char **dst, const char *src, size_t len) {
    free(*dst);
    *dst = src ? strndup(src, len) : NULL;
}

void br_client_auth_violation(br_client *c, const br_auth_result *r) {
    char line[512];
    if (r && br_auth_fail_log(r, line, sizeof line) > 0)
        nx_error("%s - %s", c->log_prefix, line);
    else
        nx_error("%s - authentication error", c->log_prefix);
    if (r && r->reason) nx_debug("%s - %s", c->log_prefix, r->reason);
    br_client_send_err(c, "Authorization Violation");
    /* Go authViolation: the auth error event, with the closed state as the reason. */
    br_sys_auth_error_event(c->srv, c, br_close_reason_text(BR_CLOSE_AUTH_VIOLATION));
    br_client_close(c, BR_CLOSE_AUTH_VIOLATION);
}

static br_auth_creds creds_of(const br_client *c) {
    br_auth_creds cr = {
        .user = c->cred_user, .user_len = slen(c->cred_user),
        .pass = c->cred_pass, .pass_len = slen(c->cred_pass),
        .token = c->cred_token, .token_len = slen(c->cred_token),
        .nkey = c->cred_nkey, .nkey_len = slen(c->cred_nkey),
        .sig = c->cred_sig, .sig_len = slen(c->cred_sig),
        .nonce = c->nonce[0] ? c->nonce : NULL, .nonce_len = strlen(c->nonce),
        .conn_type = BR_CT_STANDARD,
    };
    return cr;
}

/* Checks the credentials kept on the connection against the server's current rules; on
 * success the connection takes the user's permissions, else it is told and closed. */
static bool authenticate(br_client *c) {
    br_auth_creds cr = creds_of(c);
    br_auth_result r;
    /* verify_and_map: the identities of the verified client certificate. */
    br_cert_ident id;
    bool have_id = false;
    cr.plaintext = c->tls_mode != BR_TLS_ON;
    if (c->srv->opts->auth.tls_map && c->tls_mode == BR_TLS_ON && c->tls.ssl &&
        c->tls.handshake_done) {
        X509 *peer = SSL_get0_peer_certificate(c->tls.ssl);
        if (peer && br_cert_ident_from_x509(peer, &id) == 0) {
            have_id = true;
            cr.cert = &id;
        }
    }
    int rc = br_auth_check(c->srv->auth, &cr, &r);
    if (have_id) br_cert_ident_free(&id);
    if (r.cert_note[0]) nx_debug("%s - %s", c->log_prefix, r.cert_note);
    if (rc != 0) {
        if (r.reason == r.cert_note) r.reason = NULL; /* logged above */
        br_client_auth_violation(c, &r);
        return false;
    }
    if (r.cert_mapped && c->cred_user && *c->cred_user) {
        char q[600];
        br_go_quote(q, sizeof q, c->cred_user, strlen(c->cred_user));
        nx_warn("User %s found in connect proto, but user required from cert", q);
    }
    /* Go registerWithAccount: the user's account ("$G" when it names none). */
    br_server *s = c->srv;
    br_account *acc = r.account ? br_account_lookup_or_create(s, r.account, strlen(r.account))
                                : br_account_global(s);
    if (c->acc != acc) {
        if (c->acc_counted) { /* a reload moved the user: Go swaps accounts; here it reconnects */
            nx_debug("%s - Account changed on reload", c->log_prefix);
            br_client_close(c, BR_CLOSE_CLIENT);
            return false;
        }
        c->acc = acc;
    }
    bool joined = false;
    if (!c->acc_counted) {
        /* Go registerWithAccount: MaxTotalConnectionsReached -> maxAccountConnExceeded. */
        if (br_account_conns_reached(s, acc)) {
            nx_error("%s - maximum account active connections exceeded", c->log_prefix);
            br_client_send_err(c, "maximum account active connections exceeded");
            br_client_close(c, BR_CLOSE_MAX_ACCOUNT_CONNECTIONS);
            return false;
        }
        br_account_count_client(s, acc, +1);
        c->acc_counted = true;
        joined = true;
    }
    /* Go applyAccountLimits: the account's max_payload when lower than the server's. */
    uint32_t mpay = (uint32_t)s->opts->max_payload;
    if (acc->max_payload >= 0 && (uint32_t)acc->max_payload < mpay)
        mpay = (uint32_t)acc->max_payload;
    c->parser.max_payload = mpay;
    br_perm_state_set(&c->perms, r.perms);
    /* Go getAuthUserLabel, for the log prefix. */
    free(c->auth_label);
    c->auth_label = NULL;
    char label[300];
    if (r.nkey)
        snprintf(label, sizeof label, "nkey:%.*s", (int)r.nkey_len, r.nkey);
    else if (r.user)
        snprintf(label, sizeof label, "user:%.*s", (int)r.user_len, r.user);
    else if (r.token)
        snprintf(label, sizeof label, "token");
    else
        label[0] = '\0';
    if (label[0]) c->auth_label = strdup(label);
    /* Monitoring's authorized_user, as Go's getRawAuthUser shows it. */
    free(c->auth_user);
    c->auth_user = NULL;
    if (r.nkey)
        c->auth_user = strndup(r.nkey, r.nkey_len);
    else if (r.user)
        c->auth_user = strndup(r.user, r.user_len);
    else if (r.token)
        c->auth_user = strdup("[REDACTED]");
    if (joined) { /* Go registerWithAccount -> accConnsUpdate, then accountConnectEvent */
        br_sys_conns_event(s, acc);
        br_sys_connect_event(s, c);
    }
    return true;
}

bool br_client_authenticate(br_client *c, const br_connect_creds *given) {
    /* Kept in memory only, never logged, so a config reload can check this client again. */
    set(&c->cred_user, given->user, slen(given->user));
    set(&c->cred_pass, given->pass, slen(given->pass));
    set(&c->cred_token, given->token, slen(given->token));
    set(&c->cred_nkey, given->nkey, slen(given->nkey));
    set(&c->cred_sig, given->sig, slen(given->sig));
    return authenticate(c);
}

bool br_client_implicit_connect(br_client *c) {
    if (!br_auth_implicit_connect_allowed(c->srv->auth, BR_CT_STANDARD)) return false;
    /* Go: with no_auth_user a client may skip CONNECT (telnet demos); it is that user. */
    c->auth_deadline_ms = 0;
    c->connect_received = true;
    c->parser.require_connect = false;
    br_server_deadline_changed(c->srv, c);
    return authenticate(c);
}

bool br_client_reauthorize(br_client *c) {
    if (c->closing || !c->connect_received) return true;
    return authenticate(c);
}
