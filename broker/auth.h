/* Client authentication: single user/password, token, users, nkey users, no_auth_user.
 *
 * Ports Go nats-server v2.14.5 server/auth.go (configureAuthorization,
 * buildNkeysAndUsersFromOptions, processClientOrLeafAuthentication for plain CLIENT
 * connections, comparePasswords/isBcrypt, validateAuth/validateNoAuthUser,
 * checkAuthforWarnings), server/nkey.go (nonce) and, in auth_conf.c, the option parsing of
 * server/opts.go (parseAuthorization, parseUsers, parseUserPermissions,
 * parseVariablePermissions, parseSubjectPermission, parseAllowResponses,
 * parseAllowedConnectionTypes and the checks processConfigFileLine makes on the result).
 *
 * Users may belong to accounts (account.h).  With TLS `verify_and_map` (tls_map) the client
 * certificate selects the user (Go checkClientTLSCertSubject, broker/tls_map.h).  Not supported
 * (refused by the config layer): operator/JWT mode, auth callout, trusted proxies (so
 * `proxy_required` users can never connect, as in Go without a trusted proxy).
 *
 * Lifecycle: br_auth_opts is the configured form (config file, then flags); br_auth_new
 * validates it and builds an immutable br_auth.  br_auth_check reads the br_auth only and
 * keeps no state, so it may run on another thread (bcrypt costs ~0.1 s at cost 11).
 * Credentials are never logged; results name the user, nkey or "[REDACTED]" token only.
 */
#ifndef BR_AUTH_H
#define BR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/perms.h"
#include "common/conf.h"

/* Go jwt connection types as a bit set; 0 means every type is allowed. */
#define BR_CT_STANDARD 0x01u
#define BR_CT_WEBSOCKET 0x02u
#define BR_CT_LEAFNODE 0x04u
#define BR_CT_LEAFNODE_WS 0x08u
#define BR_CT_MQTT 0x10u
#define BR_CT_MQTT_WS 0x20u
#define BR_CT_IN_PROCESS 0x40u

/* "STANDARD", "websocket", ... (any case) to its bit; 0 when unknown. */
uint32_t br_conn_type_from_name(const char *s, size_t len);

/* Go server/nkey.go: nonceRawLen random bytes, base64url without padding. */
#define BR_AUTH_NONCE_LEN 15

typedef struct br_user {
    char *account; /* accounts {}: the user's account; NULL: the global account "$G" */
    char *username;
    char *password;        /* plain text or a bcrypt hash; "" when none */
    br_permissions *perms; /* owned; NULL: no permissions */
    uint32_t conn_types;   /* BR_CT_* bits, 0: all */
    bool proxy_required;
} br_user;

typedef struct br_nkey_user {
    char *account; /* NULL: "$G" */
    char *nkey; /* public user nkey, "U..." */
    br_permissions *perms;
    uint32_t conn_types;
    bool proxy_required;
} br_nkey_user;

/* The authorization options (Go Options: Username, Password, Authorization, AuthTimeout,
 * ProxyRequired, Users, Nkeys, NoAuthUser).  Strings are malloc'd, NULL when unset. */
typedef struct br_auth_opts {
    char *username;
    char *password;
    char *token;
    bool proxy_required;
    double timeout_s; /* authorization { timeout }; 0: the default (2 s) */
    bool auth_block;  /* an authorization {} block was present (Go authBlockDefined) */
    br_user *users;
    size_t nusers;
    br_nkey_user *nkeys;
    size_t nnkeys;
    char *no_auth_user;
    /* tls { verify_and_map } on the client listener (Go Options.TLSMap); set by the options
     * loader from the TLS settings, not by the authorization block. */
    bool tls_map;
} br_auth_opts;

void br_auth_opts_free(br_auth_opts *o);
/* Appends copies (perms deep-copied, may be NULL). */
void br_auth_opts_add_user(br_auth_opts *o, const char *user, const char *pass,
                           const br_permissions *perms);
void br_auth_opts_add_nkey(br_auth_opts *o, const char *nkey, const br_permissions *perms);
/* Go User.clone / NkeyUser.clone (deep copies into *dst). */
void br_user_clone(br_user *dst, const br_user *src);
void br_user_free(br_user *u);

/* ---- config file (auth_conf.c) ---------------------------------------------------------- */

/* Go's processConfigErr lines, "file:line:col: reason\n" each ("reason\n" where Go's error
 * carries no position).  Warnings use Go's `invalid use of field "x": reason` form. */
typedef struct br_conf_diag {
    char *errors;
    size_t errors_len;
    int nerrors;
    char *warnings;
    size_t warnings_len;
    int nwarnings;
} br_conf_diag;

void br_conf_diag_free(br_conf_diag *d);

/* Applies one top-level entry of a config file if this module owns it: `authorization` and
 * `no_auth_user` (any case).  Returns true when the key was handled (problems appended to d),
 * false for other keys (nothing done).  Keys Go knows but this server refuses
 * (auth_callout/auth_hook) are errors. */
bool br_auth_conf_apply(br_auth_opts *o, const char *key, const nx_conf_value *v, br_conf_diag *d);
/* Every top-level entry of root through br_auth_conf_apply (others ignored); returns the
 * number of errors in d. */
int br_auth_conf_load(br_auth_opts *o, const nx_conf_value *root, br_conf_diag *d);

/* Shared with the accounts parser (account_conf.c): Go parseUsers (0, -1 error, -2 panic;
 * the arrays are malloc'd), parseUserPermissions, a positioned error or warning, and the Go
 * %T of a value. */
int br_auth_conf_parse_users(br_conf_diag *d, const nx_conf_value *v, br_user **users,
                             size_t *nusers, br_nkey_user **nkeys, size_t *nnkeys);
br_permissions *br_auth_conf_permissions(br_conf_diag *d, const nx_conf_value *v);
void br_conf_error(br_conf_diag *d, const nx_conf_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void br_conf_warning(br_conf_diag *d, const nx_conf_value *at, const char *reason);
const char *br_conf_go_type(const nx_conf_value *v);

/* ---- runtime ---------------------------------------------------------------------------- */

typedef struct br_auth br_auth;

/* Go validateAuth (permission subjects, no_auth_user) plus configureAuthorization: clones
 * the users (with Go's validateResponsePermissions) and compiles their permissions.
 * 0 with *out set, or -EINVAL with Go's message in err, e.g.
 * `no_auth_user: "bob" not present as user or nkey in authorization block or account
 * configuration` or `invalid permissions for user "a": publish allow: subject ...`. */
int br_auth_new(const br_auth_opts *o, br_auth **out, char *err, size_t errlen);
void br_auth_free(br_auth *a);

/* Go info.AuthRequired: the server requires authentication.  The broker arms the auth timer
 * (auth_timeout) when true, even with no_auth_user. */
bool br_auth_required(const br_auth *a);
/* The auth_required value of a client INFO: false when no_auth_user is set. */
bool br_auth_info_auth_required(const br_auth *a);
/* Go nonceRequired: INFO carries a nonce (nkey users configured). */
bool br_auth_needs_nonce(const br_auth *a);
/* A fresh nonce (BR_AUTH_NONCE_LEN chars + NUL); 0 or -EIO. */
int br_auth_make_nonce(char out[BR_AUTH_NONCE_LEN + 1]);
/* Go checkAuthforWarnings: true when the broker should warn
 * "Plaintext passwords detected, use nkeys or bcrypt" (users without a password that
 * verify_and_map can select are certificate identities, not plaintext passwords). */
bool br_auth_has_plaintext_passwords(const br_auth *a);
const char *br_auth_no_auth_user(const br_auth *a);
/* Go parser.go: while a CONNECT is still expected (auth required), a first operation other
 * than CONNECT is an auth violation unless no_auth_user names a *user* (not an nkey) that
 * needs no proxy and may use conn_type (BR_CT_*, 0: standard).  When this returns true the
 * broker clears the auth timer, marks CONNECT as received and runs br_auth_check with empty
 * credentials instead. */
bool br_auth_implicit_connect_allowed(const br_auth *a, uint32_t conn_type);

/* What a CONNECT presented.  Strings are (pointer, length); NULL or length 0 is absent, as
 * Go treats "".  nonce: the one sent in this connection's INFO (NULL: none). */
typedef struct br_auth_creds {
    const char *user;
    size_t user_len;
    const char *pass;
    size_t pass_len;
    const char *token; /* CONNECT auth_token */
    size_t token_len;
    const char *nkey;
    size_t nkey_len;
    const char *sig;
    size_t sig_len;
    const char *nonce;
    size_t nonce_len;
    uint32_t conn_type; /* BR_CT_*; 0: BR_CT_STANDARD */
    /* The verified client certificate's identities (tls_map.h); NULL: no TLS or no peer
     * certificate.  Read only with tls_map. */
    const struct br_cert_ident *cert;
    bool plaintext; /* the connection has no TLS (allow_non_tls) */
} br_auth_creds;

typedef enum br_auth_status {
    BR_AUTH_OK = 0,
    BR_AUTH_FAILED,         /* Go ErrAuthentication: closed state "Authentication Failure" */
    BR_AUTH_PROXY_REQUIRED, /* Go ErrAuthProxyRequired: closed state "Proxy Required" */
} br_auth_status;

typedef struct br_auth_result {
    br_auth_status status;
    /* Go's debug line for this failure ("Signature missing", "Signature not valid base64",
     * "User nkey not valid: ...", "Signature not verified", "proxy connection required"),
     * static text, or NULL. */
    const char *reason;
    /* The identity Go keeps in c.opts after authentication (no_auth_user fills them in);
     * pointers into the creds or into the br_auth, NULL when absent. */
    const char *nkey;
    size_t nkey_len;
    const char *user;
    size_t user_len;
    bool token;
    /* Permissions of the authenticated user, owned by the br_auth (NULL: none); give them to
     * the connection with br_perm_state_set. */
    br_perms *perms;
    /* The user's account (owned by the br_auth); NULL: the global account. */
    const char *account;
    /* tls_map: the user came from the certificate; cert_note is Go's debug line about the
     * mapping ("Using SAN found in cert for auth [...]", "User in cert [...], not found"). */
    bool cert_mapped;
    char cert_note[320];
} br_auth_result;

/* Go processClientOrLeafAuthentication for a CLIENT.  0 (authorized) or -EACCES; *out is
 * filled either way.  On failure the broker sends -ERR 'Authorization Violation', logs
 * br_auth_fail_log's line at error level and closes the connection. */
int br_auth_check(const br_auth *a, const br_auth_creds *c, br_auth_result *out);

/* Go getAuthUser: `Nkey "U..."`, `User "bob"`, `Token "[REDACTED]"` or `User "N/A"`. */
int br_auth_describe(const br_auth_result *r, char *buf, size_t cap);
/* Go authViolation's error log: `authentication error - User "bob"` or
 * `authentication error` when no identity was presented. */
int br_auth_fail_log(const br_auth_result *r, char *buf, size_t cap);

/* ---- building blocks (exported for tests) ----------------------------------------------- */

/* Go isBcrypt: "$2a$", "$2b$", "$2x$", "$2y$" followed by two digits and '$'. */
bool br_auth_is_bcrypt(const char *s);
/* Go comparePasswords: bcrypt check, or a constant-time comparison. */
bool br_auth_compare_passwords(const char *server, const char *client, size_t client_len);
/* Verifies an Ed25519 signature of nonce by a public user nkey; sig is base64url (raw) or
 * standard base64.  On failure *reason gets Go's debug text. */
bool br_auth_verify_nkey_sig(const char *nkey, size_t nkey_len, const char *sig, size_t sig_len,
                             const char *nonce, size_t nonce_len, const char **reason);

#endif
