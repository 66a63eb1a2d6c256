/* Client authentication of a broker worker (see auth.h).
 *
 * Role: built once per worker from the options (br_auth_new), consulted on each CONNECT
 * (br_auth_check), and on each accept for the INFO nonce.  Invariants: a br_auth never changes
 * after br_auth_new; br_auth_check touches no shared mutable state (thread-safe); secrets are
 * compared in constant time (CRYPTO_memcmp) or with bcrypt (libxcrypt's crypt_rn) and never
 * logged.  Ports server/auth.go and server/nkey.go of Go nats-server v2.14.5.
 */
#include "broker/auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "broker/tls_map.h"
#include "common/nkey.h"
#include "common/strmap.h"

static char *xstrdup(const char *s) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

/* ---- connection types ------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t bit;
} conn_types[] = {
    {"STANDARD", BR_CT_STANDARD},
    {"WEBSOCKET", BR_CT_WEBSOCKET},
    {"LEAFNODE", BR_CT_LEAFNODE},
    {"LEAFNODE_WS", BR_CT_LEAFNODE_WS},
    {"MQTT", BR_CT_MQTT},
    {"MQTT_WS", BR_CT_MQTT_WS},
    {"IN_PROCESS", BR_CT_IN_PROCESS},
};

uint32_t br_conn_type_from_name(const char *s, size_t len) {
    for (size_t i = 0; i < sizeof conn_types / sizeof conn_types[0]; i++)
        if (strlen(conn_types[i].name) == len && strncasecmp(conn_types[i].name, s, len) == 0)
            return conn_types[i].bit;
    return 0;
}

/* ---- options ---------------------------------------------------------------------------- */

void br_user_free(br_user *u) {
    free(u->account);
    free(u->username);
    free(u->password);
    br_permissions_free(u->perms);
    memset(u, 0, sizeof *u);
}

void br_user_clone(br_user *dst, const br_user *src) {
    *dst = *src;
    dst->account = xstrdup(src->account);
    dst->username = xstrdup(src->username);
    dst->password = xstrdup(src->password);
    dst->perms = br_permissions_clone(src->perms);
}

static void nkey_user_clone(br_nkey_user *dst, const br_nkey_user *src) {
    *dst = *src;
    dst->account = xstrdup(src->account);
    dst->nkey = xstrdup(src->nkey);
    dst->perms = br_permissions_clone(src->perms);
}

static void nkey_user_free(br_nkey_user *u) {
    free(u->account);
    free(u->nkey);
    br_permissions_free(u->perms);
    memset(u, 0, sizeof *u);
}

void br_auth_opts_free(br_auth_opts *o) {
    free(o->username);
    free(o->password);
    free(o->token);
    free(o->no_auth_user);
    for (size_t i = 0; i < o->nusers; i++)
        br_user_free(&o->users[i]);
    for (size_t i = 0; i < o->nnkeys; i++)
        nkey_user_free(&o->nkeys[i]);
    free(o->users);
    free(o->nkeys);
    memset(o, 0, sizeof *o);
}

void br_auth_opts_add_user(br_auth_opts *o, const char *user, const char *pass,
                           const br_permissions *perms) {
    br_user *nu = realloc(o->users, (o->nusers + 1) * sizeof *nu);
    if (!nu) abort();
    o->users = nu;
    nu[o->nusers++] = (br_user){.username = xstrdup(user ? user : ""),
                                .password = xstrdup(pass ? pass : ""),
                                .perms = br_permissions_clone(perms)};
}

void br_auth_opts_add_nkey(br_auth_opts *o, const char *nkey, const br_permissions *perms) {
    br_nkey_user *nk = realloc(o->nkeys, (o->nnkeys + 1) * sizeof *nk);
    if (!nk) abort();
    o->nkeys = nk;
    nk[o->nnkeys++] = (br_nkey_user){.nkey = xstrdup(nkey), .perms = br_permissions_clone(perms)};
}

/* ---- runtime ---------------------------------------------------------------------------- */

static bool ct_allowed(uint32_t allowed, uint32_t ct);

struct br_auth {
    bool required;
    bool proxy_required;
    bool tls_map;
    br_dn *user_dns;  /* each username parsed as a DN (Go ldap.ParseDN), for tls_map */
    bool *user_dn_ok; /* false: the name is not a DN */
    char *username, *password, *token, *no_auth_user;
    br_user *users;
    br_perms **user_perms;
    size_t nusers;
    br_nkey_user *nkeys;
    br_perms **nkey_perms;
    size_t nnkeys;
    nx_strmap by_user; /* username -> index + 1 */
    nx_strmap by_nkey; /* nkey -> index + 1 */
};

static int validate_no_auth_user(const br_auth_opts *o, char *err, size_t errlen) {
    const char *nau = o->no_auth_user;
    if (!nau || !*nau) return 0;
    if (!o->nusers && !o->nnkeys) {
        snprintf(err, errlen, "no_auth_user: \"%s\" present, but users/nkeys are not defined", nau);
        return -EINVAL;
    }
    for (size_t i = 0; i < o->nusers; i++)
        if (strcmp(o->users[i].username, nau) == 0) return 0;
    for (size_t i = 0; i < o->nnkeys; i++)
        if (strcmp(o->nkeys[i].nkey, nau) == 0) return 0;
    snprintf(err, errlen,
             "no_auth_user: \"%s\" not present as user or nkey in authorization block or account "
             "configuration",
             nau);
    return -EINVAL;
}

/* Go validateAuth. */
static int validate(const br_auth_opts *o, char *err, size_t errlen) {
    char e[1400], q[600];
    for (size_t i = 0; i < o->nusers; i++) {
        if (br_permissions_validate(o->users[i].perms, e, sizeof e) < 0) {
            br_go_quote(q, sizeof q, o->users[i].username, strlen(o->users[i].username));
            snprintf(err, errlen, "invalid permissions for user %s: %s", q, e);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < o->nnkeys; i++) {
        if (br_permissions_validate(o->nkeys[i].perms, e, sizeof e) < 0) {
            br_go_quote(q, sizeof q, o->nkeys[i].nkey, strlen(o->nkeys[i].nkey));
            snprintf(err, errlen, "invalid permissions for nkey %s: %s", q, e);
            return -EINVAL;
        }
    }
    return validate_no_auth_user(o, err, errlen);
}

int br_auth_new(const br_auth_opts *o, br_auth **out, char *err, size_t errlen) {
    *out = NULL;
    if (errlen) err[0] = '\0';
    int rc = validate(o, err, errlen);
    if (rc < 0) return rc;
    br_auth *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->username = xstrdup(o->username && *o->username ? o->username : NULL);
    a->password = xstrdup(o->password ? o->password : "");
    a->token = xstrdup(o->token && *o->token ? o->token : NULL);
    a->no_auth_user = xstrdup(o->no_auth_user && *o->no_auth_user ? o->no_auth_user : NULL);
    a->proxy_required = o->proxy_required;
    a->nusers = o->nusers;
    a->nnkeys = o->nnkeys;
    a->users = calloc(o->nusers + 1, sizeof *a->users);
    a->user_perms = calloc(o->nusers + 1, sizeof *a->user_perms);
    a->nkeys = calloc(o->nnkeys + 1, sizeof *a->nkeys);
    a->nkey_perms = calloc(o->nnkeys + 1, sizeof *a->nkey_perms);
    if (!a->users || !a->user_perms || !a->nkeys || !a->nkey_perms) abort();
    /* Go buildNkeysAndUsersFromOptions: clones, response defaults, later names win. */
    for (size_t i = 0; i < o->nnkeys; i++) {
        nkey_user_clone(&a->nkeys[i], &o->nkeys[i]);
        br_permissions_fix_response(a->nkeys[i].perms);
        a->nkey_perms[i] = br_perms_compile(a->nkeys[i].perms);
        const char *k = a->nkeys[i].nkey;
        nx_strmap_put(&a->by_nkey, k, strlen(k), (void *)(uintptr_t)(i + 1));
    }
    for (size_t i = 0; i < o->nusers; i++) {
        br_user_clone(&a->users[i], &o->users[i]);
        br_permissions_fix_response(a->users[i].perms);
        a->user_perms[i] = br_perms_compile(a->users[i].perms);
        const char *u = a->users[i].username;
        nx_strmap_put(&a->by_user, u, strlen(u), (void *)(uintptr_t)(i + 1));
    }
    a->tls_map = o->tls_map;
    if (a->tls_map) {
        a->user_dns = calloc(o->nusers + 1, sizeof *a->user_dns);
        a->user_dn_ok = calloc(o->nusers + 1, sizeof *a->user_dn_ok);
        if (!a->user_dns || !a->user_dn_ok) abort();
        for (size_t i = 0; i < o->nusers; i++)
            a->user_dn_ok[i] = br_dn_parse(a->users[i].username, &a->user_dns[i]) == 0;
    }
    a->required = o->nusers || o->nnkeys || a->username || a->token;
    *out = a;
    return 0;
}

void br_auth_free(br_auth *a) {
    if (!a) return;
    for (size_t i = 0; i < a->nusers; i++) {
        br_user_free(&a->users[i]);
        br_perms_unref(a->user_perms[i]);
        if (a->user_dns) br_dn_free(&a->user_dns[i]);
    }
    free(a->user_dns);
    free(a->user_dn_ok);
    for (size_t i = 0; i < a->nnkeys; i++) {
        nkey_user_free(&a->nkeys[i]);
        br_perms_unref(a->nkey_perms[i]);
    }
    nx_strmap_free(&a->by_user);
    nx_strmap_free(&a->by_nkey);
    free(a->users);
    free(a->user_perms);
    free(a->nkeys);
    free(a->nkey_perms);
    free(a->username);
    free(a->password);
    free(a->token);
    free(a->no_auth_user);
    free(a);
}

bool br_auth_required(const br_auth *a) {
    return a && a->required;
}

bool br_auth_info_auth_required(const br_auth *a) {
    return br_auth_required(a) && !a->no_auth_user;
}

bool br_auth_needs_nonce(const br_auth *a) {
    return a && a->nnkeys > 0;
}

const char *br_auth_no_auth_user(const br_auth *a) {
    return a ? a->no_auth_user : NULL;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int br_auth_make_nonce(char out[BR_AUTH_NONCE_LEN + 1]) {
    unsigned char raw[11];
    if (RAND_bytes(raw, sizeof raw) != 1) return -EIO;
    size_t o = 0;
    for (size_t i = 0; i < sizeof raw; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        size_t n = sizeof raw - i < 3 ? sizeof raw - i : 3;
        if (n > 1) v |= (uint32_t)raw[i + 1] << 8;
        if (n > 2) v |= raw[i + 2];
        for (size_t k = 0; k < n + 1; k++)
            out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    return 0;
}

bool br_auth_has_plaintext_passwords(const br_auth *a) {
    if (!a) return false;
    if (*a->password && !br_auth_is_bcrypt(a->password)) return true;
    for (size_t i = 0; i < a->nusers; i++) {
        /* Go canTLSMap: a certificate identity unless a password was left in the config. */
        if (a->tls_map && !*a->users[i].password && ct_allowed(a->users[i].conn_types, 0)) continue;
        if (!br_auth_is_bcrypt(a->users[i].password)) return true;
    }
    return false;
}

bool br_auth_implicit_connect_allowed(const br_auth *a, uint32_t conn_type) {
    if (!a || !a->no_auth_user) return false;
    uintptr_t i = (uintptr_t)nx_strmap_get(&a->by_user, a->no_auth_user, strlen(a->no_auth_user));
    return i && !a->users[i - 1].proxy_required &&
           ct_allowed(a->users[i - 1].conn_types, conn_type);
}

/* ---- passwords -------------------------------------------------------------------------- */

bool br_auth_is_bcrypt(const char *s) {
    return s && s[0] == '$' && s[1] == '2' && s[2] && strchr("abxy", s[2]) && s[3] == '$' &&
           s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && s[6] == '$';
}

/* Go bcrypt.CompareHashAndPassword.  The hash is recomputed with the correct algorithm
 * ("$2b$") whatever the minor letter, as Go does, and only the 31-character hash part is
 * compared (Go compares the full strings, which share everything else). */
static bool bcrypt_check(const char *hash, const char *pw, size_t pw_len) {
    size_t hl = strlen(hash);
    if (hl != 60 || memchr(pw, '\0', pw_len)) return false;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31) return false;
    char setting[30];
    memcpy(setting, "$2b$", 4);
    memcpy(setting + 4, hash + 4, 25); /* cost, '$', 22 salt characters */
    setting[29] = '\0';
    char *key = malloc(pw_len + 1);
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!key || !cd) abort();
    memcpy(key, pw, pw_len);
    key[pw_len] = '\0';
    /* crypt_rn (libxcrypt): like crypt_r, NULL on failure; also not intercepted by the
     * sanitizer runtimes, whose crypt_r interceptor breaks when libcrypt is linked as-needed. */
    const char *res = crypt_rn(key, setting, cd, (int)sizeof *cd);
    bool ok =
        res && strlen(res) == 60 && res[0] == '$' && CRYPTO_memcmp(res + 29, hash + 29, 31) == 0;
    OPENSSL_cleanse(key, pw_len);
    OPENSSL_cleanse(cd, sizeof *cd);
    free(key);
    free(cd);
    return ok;
}

bool br_auth_compare_passwords(const char *server, const char *client, size_t client_len) {
    if (!server) server = "";
    if (!client) client_len = 0;
    if (br_auth_is_bcrypt(server)) return bcrypt_check(server, client ? client : "", client_len);
    size_t sl = strlen(server);
    if (sl != client_len) return false;
    return sl == 0 || (client && CRYPTO_memcmp(server, client, sl) == 0);
}

/* ---- nkey signatures -------------------------------------------------------------------- */

/* Go encoding/base64 (non-strict) DecodeString: '\r' and '\n' are skipped; RawURLEncoding
 * (url=true) takes no padding, StdEncoding requires it.  Returns the length or -1. */
static long b64_decode(const char *src, size_t len, bool url, unsigned char *out) {
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *alpha = url ? b64url : std;
    size_t si = 0, o = 0;
    for (;;) {
        uint32_t q[4] = {0};
        int j = 0, dlen = 4;
        for (; j < 4; j++) {
            if (si == len) {
                if (j == 0) return (long)o;
                if (j == 1 || !url) return -1;
                dlen = j;
                break;
            }
            char c = src[si++];
            const char *p = c ? strchr(alpha, c) : NULL;
            if (p) {
                q[j] = (uint32_t)(p - alpha);
                continue;
            }
            if (c == '\n' || c == '\r') {
                j--;
                continue;
            }
            if (url || c != '=' || j < 2) return -1;
            if (j == 2) { /* "==" expected */
                while (si < len && (src[si] == '\n' || src[si] == '\r'))
                    si++;
                if (si == len || src[si] != '=') return -1;
                si++;
            }
            while (si < len && (src[si] == '\n' || src[si] == '\r'))
                si++;
            if (si < len) return -1; /* trailing garbage */
            dlen = j;
            break;
        }
        uint32_t v = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3];
        for (int k = 0; k < dlen - 1; k++)
            out[o++] = (unsigned char)(v >> (16 - 8 * k));
        if (dlen < 4) return (long)o;
    }
}

bool br_auth_verify_nkey_sig(const char *nkey, size_t nkey_len, const char *sig, size_t sig_len,
                             const char *nonce, size_t nonce_len, const char **reason) {
    *reason = NULL;
    if (!sig || sig_len == 0) {
        *reason = "Signature missing";
        return false;
    }
    unsigned char *raw = malloc(sig_len / 4 * 3 + 3);
    if (!raw) abort();
    long n = b64_decode(sig, sig_len, true, raw);
    if (n < 0) n = b64_decode(sig, sig_len, false, raw);
    if (n < 0) {
        free(raw);
        *reason = "Signature not valid base64";
        return false;
    }
    char key_str[NX_NKEY_PUBLIC_LEN + 1];
    uint8_t key[32];
    if (nkey_len != NX_NKEY_PUBLIC_LEN) {
        free(raw);
        *reason = "User nkey not valid: nkeys: invalid encoded key";
        return false;
    }
    memcpy(key_str, nkey, nkey_len);
    key_str[nkey_len] = '\0';
    if (!nx_nkey_decode_public(key_str, NX_NKEY_PREFIX_USER, key)) {
        free(raw);
        *reason = "User nkey not valid: nkeys: invalid encoded key";
        return false;
    }
    bool ok = false;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, sizeof key);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (pk && md && n == 64 && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1)
        ok = EVP_DigestVerify(md, raw, 64, (const unsigned char *)(nonce ? nonce : ""),
                              nonce ? nonce_len : 0) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    free(raw);
    if (!ok) *reason = "Signature not verified";
    return ok;
}

/* ---- the check -------------------------------------------------------------------------- */

static bool ct_allowed(uint32_t allowed, uint32_t ct) {
    return allowed == 0 || (allowed & (ct ? ct : BR_CT_STANDARD));
}

static int fail(br_auth_result *r, br_auth_status st, const char *reason) {
    r->status = st;
    r->reason = reason;
    r->perms = NULL;
    return -EACCES;
}

/* Go's tlsMapAuthFn of processClientOrLeafAuthentication. */
typedef struct map_ctx {
    const br_auth *a;
    uint32_t ct;
    size_t idx; /* the selected user + 1 */
} map_ctx;

static const char *map_user(void *vctx, const char *u, const br_dn *dn) {
    map_ctx *m = vctx;
    const br_auth *a = m->a;
    if (u && *u) { /* a literal name: the users table */
        uintptr_t i = (uintptr_t)nx_strmap_get(&a->by_user, u, strlen(u));
        if (!i || !ct_allowed(a->users[i - 1].conn_types, m->ct)) return NULL;
        m->idx = i;
        return a->users[i - 1].username;
    }
    if (!dn) return NULL;
    /* The subject's DN: equal to a user's DN first, then the same RDNs in another order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < a->nusers; i++) {
            if (!a->user_dn_ok[i] || !ct_allowed(a->users[i].conn_types, m->ct)) continue;
            bool hit = pass == 0 ? br_dn_equal(&a->user_dns[i], dn)
                                 : br_dn_rdns_match(&a->user_dns[i], dn);
            if (hit) {
                m->idx = i + 1;
                return a->users[i].username;
            }
        }
    }
    return NULL;
}

int br_auth_check(const br_auth *a, const br_auth_creds *c, br_auth_result *r) {
    *r = (br_auth_result){.status = BR_AUTH_OK};
    r->nkey = c->nkey_len ? c->nkey : NULL;
    r->nkey_len = c->nkey_len;
    r->user = c->user_len ? c->user : NULL;
    r->user_len = c->user_len;
    r->token = c->token_len > 0;
    if (!br_auth_required(a)) return 0;

    const char *pass = c->pass;
    size_t pass_len = c->pass_len;
    bool no_creds = !c->user_len && !c->pass_len && !c->token_len;
    const char *nau = a->no_auth_user;
    size_t idx = 0;
    const br_nkey_user *nk = NULL;
    const br_user *u = NULL;

    if (a->nnkeys) {
        if (nau && no_creds && !c->nkey_len && nx_strmap_get(&a->by_nkey, nau, strlen(nau))) {
            r->nkey = nau;
            r->nkey_len = strlen(nau);
        }
        if (r->nkey) {
            idx = (uintptr_t)nx_strmap_get(&a->by_nkey, r->nkey, r->nkey_len);
            if (!idx || !ct_allowed(a->nkeys[idx - 1].conn_types, c->conn_type))
                return fail(r, BR_AUTH_FAILED, NULL);
            nk = &a->nkeys[idx - 1];
        }
    }
    if (a->nusers && !nk && a->tls_map) {
        /* Go: verify_and_map takes the user from the client certificate. */
        map_ctx m = {.a = a, .ct = c->conn_type};
        if (c->plaintext) {
            snprintf(r->cert_note, sizeof r->cert_note,
                     "User required in cert, no TLS connection state");
            return fail(r, BR_AUTH_FAILED, r->cert_note);
        }
        if (!br_tls_map_subject(c->cert, map_user, &m, r->cert_note, sizeof r->cert_note)) {
            return fail(r, BR_AUTH_FAILED, r->cert_note);
        }
        idx = m.idx;
        u = &a->users[idx - 1];
        r->user = u->username;
        r->user_len = strlen(u->username);
        r->cert_mapped = true;
    } else if (a->nusers && !nk) {
        if (nau && no_creds) {
            uintptr_t ui = (uintptr_t)nx_strmap_get(&a->by_user, nau, strlen(nau));
            if (ui) {
                r->user = a->users[ui - 1].username;
                r->user_len = strlen(r->user);
                pass = a->users[ui - 1].password;
                pass_len = strlen(pass);
            }
        }
        if (r->user) {
            idx = (uintptr_t)nx_strmap_get(&a->by_user, r->user, r->user_len);
            if (!idx || !ct_allowed(a->users[idx - 1].conn_types, c->conn_type))
                return fail(r, BR_AUTH_FAILED, NULL);
            u = &a->users[idx - 1];
        }
    }

    if (nk) {
        if (nk->proxy_required) return fail(r, BR_AUTH_PROXY_REQUIRED, "proxy connection required");
        if (!nau || strcmp(nk->nkey, nau) != 0) {
            const char *why;
            if (!br_auth_verify_nkey_sig(r->nkey, r->nkey_len, c->sig, c->sig_len, c->nonce,
                                         c->nonce_len, &why))
                return fail(r, BR_AUTH_FAILED, why);
        }
        r->perms = a->nkey_perms[idx - 1];
        r->account = nk->account;
        return 0;
    }
    if (u) {
        if (u->proxy_required) return fail(r, BR_AUTH_PROXY_REQUIRED, "proxy connection required");
        if (!br_auth_compare_passwords(u->password, pass, pass_len))
            return fail(r, BR_AUTH_FAILED, NULL);
        r->perms = a->user_perms[idx - 1];
        r->account = u->account;
        return 0;
    }
    /* Simple authentication: one token or one user. */
    if (a->proxy_required) return fail(r, BR_AUTH_PROXY_REQUIRED, "proxy connection required");
    if (a->token) {
        if (br_auth_compare_passwords(a->token, c->token, c->token_len)) return 0;
    } else if (a->username) {
        if (c->user && c->user_len == strlen(a->username) &&
            memcmp(c->user, a->username, c->user_len) == 0 &&
            br_auth_compare_passwords(a->password, c->pass, c->pass_len))
            return 0;
    }
    return fail(r, BR_AUTH_FAILED, NULL);
}

int br_auth_describe(const br_auth_result *r, char *buf, size_t cap) {
    char q[700];
    if (r->nkey) {
        br_go_quote(q, sizeof q, r->nkey, r->nkey_len);
        return snprintf(buf, cap, "Nkey %s", q);
    }
    if (r->user) {
        br_go_quote(q, sizeof q, r->user, r->user_len);
        return snprintf(buf, cap, "User %s", q);
    }
    if (r->token) return snprintf(buf, cap, "Token \"[REDACTED]\"");
    return snprintf(buf, cap, "User \"N/A\"");
}

int br_auth_fail_log(const br_auth_result *r, char *buf, size_t cap) {
    if (!r->nkey && !r->user && !r->token) return snprintf(buf, cap, "authentication error");
    char d[800];
    br_auth_describe(r, d, sizeof d);
    return snprintf(buf, cap, "authentication error - %s", d);
}
