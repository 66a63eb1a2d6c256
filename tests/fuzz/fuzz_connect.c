/* libFuzzer target for the CONNECT handling of broker/client.c process_connect, without a
 * running server: the input is the text after "CONNECT ".
 *
 *  1. br_redact_connect (what tracing logs) into an exact-size heap buffer of the server's
 *     4096 bytes, of a generous size and of a tight one.
 *  2. json_loadb(JSON_DECODE_ANY) as process_connect does; `null` becomes {}; for objects the
 *     CONNECT fields are extracted with process_connect's type rules and, when they are well
 *     typed, br_auth_check runs against fixed br_auth configurations built once in
 *     LLVMFuzzerInitialize:
 *       - "main":   users alice (plain password, permissions), bob (bcrypt cost 4) and two nkey
 *                   users (Ed25519 keys from fixed seeds, so the corpus can hold real
 *                   signatures of NONCE), one with permissions; no token;
 *       - "nau":    the same plus no_auth_user alice;
 *       - "token":  a single token;
 *       - "single": a single user/password;
 *       - "open":   no authentication.
 *     Each check runs twice: with strlen() lengths, as the server (C strings) does, and with
 *     jansson's full lengths (embedded NULs), which the (pointer, length) API must also take.
 *
 * Invariants (any violation aborts):
 *  - redaction: result < cap, NUL at result, never writes past cap (ASan); for a JSON object
 *    that parsed and has a "pass"/"auth_token"/"sig"/"nkey" string member of length >= 4
 *    containing none of `"`, `,`, `}`, CR, LF, `\`, and whose raw text is literally
 *    `"key" : "value"` with the value occurring exactly once in the input (and not a part of
 *    "[REDACTED]"), the value must not appear in the redacted output (cap large enough to hold
 *    everything);
 *  - authentication only succeeds for the known credentials: a success names a configured user
 *    with exactly its password (alice: the plain string, bob: the bcrypt password), or a
 *    configured nkey whose signature, decoded independently of the code under test, verifies
 *    with OpenSSL over NONCE; token: exactly the token; single: exactly user and password;
 *    nau: additionally alice when no user/pass/token/nkey was presented;
 *  - completeness: the exact known credentials (and nothing overriding them) must succeed;
 *  - results: failure has perms NULL, success carries the configured user's perms;
 *    br_auth_describe/br_auth_fail_log stay within their buffers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "broker/auth.h"
#include "broker/perms.h"
#include "broker/redact.h"
#include "common/nkey.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "CHECK failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Fixed nonce as a server would send it in INFO (BR_AUTH_NONCE_LEN base64url characters). */
#define NONCE "lGs3Xm0PbH7wZq2"

#define ALICE_PASS "alice-pass-1"
/* From test/auth_test.go (bcrypt cost 4), as tests/unit/test_auth.c. */
#define BOB_PASS "IW@$6v(y1(t@fhPDvf!5^%"
#define BOB_HASH "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq"
#define TOKEN "s3cr3t-T0ken"
#define SINGLE_USER "carol"
#define SINGLE_PASS "carol-pw"

/* Ed25519 private seeds of the two nkey users (fixed so the corpus can carry signatures). */
static const uint8_t seeds[2][32] = {
    {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
    {0xa5, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
     0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x10, 0x20, 0x30, 0x40,
     0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0},
};
static char nkeys[2][NX_NKEY_PUBLIC_LEN + 1];
static uint8_t nkey_sig[2][64]; /* the signature of NONCE by each key */

static br_auth *auth_main, *auth_nau, *auth_token, *auth_single, *auth_open;

/* ---- independent helpers ---------------------------------------------------------------- */

static int b64_val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Lenient decoding of a 64-byte signature: CR/LF dropped, trailing '=' dropped, either
 * alphabet.  Accepts a superset of what the code under test accepts, so "the server accepted
 * it" implies "this decodes to the bytes the server verified". */
static bool decode_sig64(const char *s, size_t len, uint8_t out[64]) {
    char t[128];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n') continue;
        if (n == sizeof t) return false;
        t[n++] = s[i];
    }
    while (n && t[n - 1] == '=')
        n--;
    if (n != 86) return false;
    uint8_t buf[66] = {0};
    size_t bits = 0, o = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(t[i]);
        if (v < 0) return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (o < 64) return false;
    memcpy(out, buf, 64);
    return true;
}

static void b64url_raw(const uint8_t *in, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = a[(acc >> bits) & 63];
        }
    }
    if (bits) out[o++] = a[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

static bool ed25519_verify(const uint8_t pub_seed_idx_key[32], const uint8_t sig[64],
                           const char *msg, size_t len) {
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub_seed_idx_key, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(pk && md);
    bool ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(md, sig, 64, (const unsigned char *)msg, len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    return ok;
}

static uint8_t pubkeys[2][32];

/* ---- setup ------------------------------------------------------------------------------ */

static br_permissions *perms_a(void) {
    br_permissions *p = br_permissions_new();
    p->publish = br_subject_perm_new();
    br_subject_perm_add(p->publish, false, "foo.>", 5);
    br_subject_perm_add(p->publish, true, "foo.secret", 10);
    p->subscribe = br_subject_perm_new();
    br_subject_perm_add(p->subscribe, false, "bar.*", 5);
    br_subject_perm_add(p->subscribe, false, "baz q", 5);
    p->response = calloc(1, sizeof *p->response);
    CHECK(p->response);
    p->response->max_msgs = 3;
    return p;
}

static br_auth *build(const br_auth_opts *o) {
    br_auth *a = NULL;
    char err[512];
    int rc = br_auth_new(o, &a, err, sizeof err);
    if (rc != 0) fprintf(stderr, "br_auth_new: %s\n", err);
    CHECK(rc == 0 && a);
    return a;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    for (int i = 0; i < 2; i++) {
        EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seeds[i], 32);
        CHECK(k);
        size_t pl = 32;
        CHECK(EVP_PKEY_get_raw_public_key(k, pubkeys[i], &pl) == 1 && pl == 32);
        nx_nkey_encode_public(NX_NKEY_PREFIX_USER, pubkeys[i], nkeys[i]);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t sl = 64;
        CHECK(md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestSign(md, nkey_sig[i], &sl, (const unsigned char *)NONCE, strlen(NONCE)) ==
                  1 &&
              sl == 64);
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(k);
        if (getenv("FUZZ_CONNECT_PRINT_KEYS")) { /* for making corpus entries */
            char s[100];
            b64url_raw(nkey_sig[i], 64, s);
            fprintf(stderr, "nkey%d %s sig %s\n", i, nkeys[i], s);
        }
    }

    br_auth_opts o = {0};
    br_permissions *pa = perms_a();
    br_auth_opts_add_user(&o, "alice", ALICE_PASS, pa);
    br_auth_opts_add_user(&o, "bob", BOB_HASH, NULL);
    br_auth_opts_add_nkey(&o, nkeys[0], pa);
    br_auth_opts_add_nkey(&o, nkeys[1], NULL);
    br_permissions_free(pa);
    o.auth_block = true;
    auth_main = build(&o);
    o.no_auth_user = strdup("alice");
    auth_nau = build(&o);
    br_auth_opts_free(&o);

    br_auth_opts t = {0};
    t.token = strdup(TOKEN);
    auth_token = build(&t);
    br_auth_opts_free(&t);

    br_auth_opts s = {0};
    s.username = strdup(SINGLE_USER);
    s.password = strdup(SINGLE_PASS);
    auth_single = build(&s);
    br_auth_opts_free(&s);

    br_auth_opts n = {0};
    auth_open = build(&n);
    br_auth_opts_free(&n);
    CHECK(!br_auth_required(auth_open) && br_auth_required(auth_main));
    return 0;
}

static bool eq(const char *s, size_t l, const char *lit);

/* Harness self-test (first input): the known credentials do authenticate. */
static void self_test(void) {
    static bool done;
    if (done) return;
    done = true;
    br_auth_result r;
    char s0[100];
    b64url_raw(nkey_sig[0], 64, s0);
    br_auth_creds ok[] = {
        {.user = "alice", .user_len = 5, .pass = ALICE_PASS, .pass_len = strlen(ALICE_PASS)},
        {.user = "bob", .user_len = 3, .pass = BOB_PASS, .pass_len = strlen(BOB_PASS)},
        {.nkey = nkeys[0], .nkey_len = NX_NKEY_PUBLIC_LEN, .sig = s0, .sig_len = strlen(s0)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ok[i].nonce = NONCE;
        ok[i].nonce_len = strlen(NONCE);
        CHECK(br_auth_check(auth_main, &ok[i], &r) == 0);
        CHECK(br_auth_check(auth_token, &ok[i], &r) != 0);
    }
    ok[0].pass_len--;
    CHECK(br_auth_check(auth_main, &ok[0], &r) != 0);
    br_auth_creds none = {0};
    CHECK(br_auth_check(auth_nau, &none, &r) == 0 && eq(r.user, r.user_len, "alice"));
    CHECK(br_auth_check(auth_main, &none, &r) != 0);
}

/* ---- redaction -------------------------------------------------------------------------- */

static size_t count_occ(const char *h, size_t hl, const char *n, size_t nl) {
    size_t c = 0;
    if (nl == 0 || nl > hl) return 0;
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(h + i, n, nl) == 0) c++;
    return c;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The raw text holds `"key" ws : ws "value"` literally. */
static bool literal_member(const char *t, size_t tl, const char *key, const char *v, size_t vl) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= tl; i++) {
        if (t[i] != '"' || memcmp(t + i + 1, key, kl) != 0 || i + 1 + kl >= tl ||
            t[i + 1 + kl] != '"')
            continue;
        size_t p = i + kl + 2;
        while (p < tl && is_ws(t[p]))
            p++;
        if (p >= tl || t[p] != ':') continue;
        p++;
        while (p < tl && is_ws(t[p]))
            p++;
        if (p >= tl || t[p] != '"') continue;
        p++;
        if (p + vl < tl && memcmp(t + p, v, vl) == 0 && t[p + vl] == '"') return true;
    }
    return false;
}

static void check_redact(const char *text, size_t len, json_t *obj) {
    /* The server's stack buffer size, exactly sized on the heap so ASan sees overruns. */
    size_t caps[3] = {4096, len * 4 + 16, len / 3 + 1};
    char *outs[3];
    size_t ns[3];
    for (int i = 0; i < 3; i++) {
        outs[i] = malloc(caps[i]);
        CHECK(outs[i]);
        ns[i] = br_redact_connect(text, len, outs[i], caps[i]);
        CHECK(ns[i] < caps[i]);
        CHECK(outs[i][ns[i]] == '\0');
    }
    /* Truncation only cuts: the small outputs are prefixes of the complete one. */
    CHECK(ns[1] < caps[1] - 1); /* the big buffer never truncates (<= 3x growth) */
    for (int i = 0; i < 3; i += 2) {
        size_t m = ns[i] < ns[1] ? ns[i] : ns[1];
        CHECK(memcmp(outs[i], outs[1], m) == 0);
        CHECK(ns[i] == (ns[1] < caps[i] - 1 ? ns[1] : caps[i] - 1));
    }
    CHECK(br_redact_connect(text, len, outs[0], 0) == 0);

    if (obj && json_is_object(obj)) {
        static const char *const keys[] = {"pass", "auth_token", "sig", "nkey"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            json_t *v = json_object_get(obj, keys[k]);
            if (!v || !json_is_string(v)) continue;
            const char *s = json_string_value(v);
            size_t sl = json_string_length(v);
            if (sl < 4 || memchr(s, '\0', sl) || strpbrk(s, "\",}\r\n\\")) continue;
            if (count_occ(text, len, s, sl) != 1 || !literal_member(text, len, keys[k], s, sl))
                continue;
            if (strstr("[REDACTED]", s)) continue; /* the replacement text itself */
            if (count_occ(outs[1], ns[1], s, sl) != 0) {
                fprintf(stderr, "secret of \"%s\" leaked: %.*s\n", keys[k], (int)ns[1], outs[1]);
                abort();
            }
        }
    }
    for (int i = 0; i < 3; i++)
        free(outs[i]);
}

/* ---- authentication --------------------------------------------------------------------- */

typedef struct fields {
    const char *user, *pass, *token, *nkey, *sig;
    size_t user_len, pass_len, token_len, nkey_len, sig_len;
} fields;

static bool eq(const char *s, size_t l, const char *lit) {
    return s && l == strlen(lit) && memcmp(s, lit, l) == 0;
}

static int nkey_index(const char *s, size_t l) {
    for (int i = 0; i < 2; i++)
        if (eq(s, l, nkeys[i])) return i;
    return -1;
}

static void check_result_text(const br_auth_result *r) {
    char small[8], big[1024];
    int n = br_auth_describe(r, big, sizeof big);
    CHECK(n > 0);
    br_auth_describe(r, small, sizeof small);
    CHECK(memchr(small, '\0', sizeof small) != NULL);
    n = br_auth_fail_log(r, big, sizeof big);
    CHECK(n > 0);
    br_auth_fail_log(r, small, sizeof small);
    CHECK(memchr(small, '\0', sizeof small) != NULL);
}

static int run_check(const br_auth *a, const fields *f, br_auth_result *r) {
    br_auth_creds c = {
        .user = f->user,
        .user_len = f->user_len,
        .pass = f->pass,
        .pass_len = f->pass_len,
        .token = f->token,
        .token_len = f->token_len,
        .nkey = f->nkey,
        .nkey_len = f->nkey_len,
        .sig = f->sig,
        .sig_len = f->sig_len,
        .nonce = NONCE,
        .nonce_len = strlen(NONCE),
        .conn_type = BR_CT_STANDARD,
    };
    int rc = br_auth_check(a, &c, r);
    CHECK(rc == 0 || rc < 0);
    CHECK((rc == 0) == (r->status == BR_AUTH_OK));
    if (rc != 0) CHECK(r->perms == NULL);
    check_result_text(r);
    return rc;
}

/* A successful nkey login: a configured nkey whose presented signature verifies. */
static void check_nkey_success(const fields *f, const br_auth_result *r) {
    CHECK(r->nkey && f->nkey && r->nkey == f->nkey);
    int i = nkey_index(r->nkey, r->nkey_len);
    CHECK(i >= 0);
    uint8_t sig[64];
    CHECK(decode_sig64(f->sig, f->sig_len, sig));
    CHECK(ed25519_verify(pubkeys[i], sig, NONCE, strlen(NONCE)));
    CHECK(memcmp(sig, nkey_sig[i], 64) == 0); /* Ed25519 signatures are unique */
}

static bool no_creds(const fields *f) {
    return !f->user_len && !f->pass_len && !f->token_len;
}

static void check_users(const br_auth *a, bool nau, const fields *f) {
    br_auth_result r;
    int rc = run_check(a, f, &r);
    int ni = f->nkey_len ? nkey_index(f->nkey, f->nkey_len) : -1;
    if (rc == 0) {
        if (r.nkey) {
            check_nkey_success(f, &r);
        } else {
            CHECK(r.user);
            if (nau && no_creds(f) && !f->nkey_len) {
                CHECK(eq(r.user, r.user_len, "alice"));
            } else {
                CHECK(r.user == f->user && !f->nkey_len);
                if (eq(r.user, r.user_len, "alice"))
                    CHECK(eq(f->pass, f->pass_len, ALICE_PASS));
                else if (eq(r.user, r.user_len, "bob"))
                    CHECK(eq(f->pass, f->pass_len, BOB_PASS));
                else
                    CHECK(!"unknown user authenticated");
            }
        }
        CHECK(r.perms != NULL || (r.user && eq(r.user, r.user_len, "bob")) ||
              (r.nkey && nkey_index(r.nkey, r.nkey_len) == 1));
    } else {
        /* Completeness: the exact known credentials must pass. */
        if (!f->nkey_len) {
            CHECK(!(eq(f->user, f->user_len, "alice") && eq(f->pass, f->pass_len, ALICE_PASS)));
            CHECK(!(eq(f->user, f->user_len, "bob") && eq(f->pass, f->pass_len, BOB_PASS)));
            CHECK(!(nau && no_creds(f)));
        } else if (ni >= 0) {
            char s[100];
            b64url_raw(nkey_sig[ni], 64, s);
            CHECK(!eq(f->sig, f->sig_len, s));
        }
    }
}

static void check_all(const fields *f) {
    check_users(auth_main, false, f);
    check_users(auth_nau, true, f);

    br_auth_result r;
    if (run_check(auth_token, f, &r) == 0)
        CHECK(eq(f->token, f->token_len, TOKEN) && r.token);
    else
        CHECK(!eq(f->token, f->token_len, TOKEN));

    if (run_check(auth_single, f, &r) == 0)
        CHECK(eq(f->user, f->user_len, SINGLE_USER) && eq(f->pass, f->pass_len, SINGLE_PASS));
    else
        CHECK(!(eq(f->user, f->user_len, SINGLE_USER) && eq(f->pass, f->pass_len, SINGLE_PASS)));

    CHECK(run_check(auth_open, f, &r) == 0 && r.perms == NULL);
}

/* process_connect's field rules: absent or null leaves the default; a wrong type is bad. */
static int get_str(json_t *o, const char *k, const char **s, size_t *len) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return -1;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

static int get_bool(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return v && !json_is_null(v) && !json_is_boolean(v) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    self_test();
    if (size > 8192) return 0;
    const char *text = (const char *)data;
    json_error_t jerr;
    json_t *j = json_loadb(text, size, JSON_DECODE_ANY, &jerr);
    check_redact(text, size, j);
    if (!j) {
        CHECK(strlen(jerr.text) < sizeof jerr.text);
        return 0;
    }
    if (json_is_null(j)) {
        json_decref(j);
        j = json_object();
        CHECK(j);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    fields f = {0};
    int bad = 0;
    json_t *pv = json_object_get(j, "protocol");
    if (pv && !json_is_null(pv) && !json_is_integer(pv)) bad = 1;
    static const char *const bools[] = {"verbose",       "pedantic",     "echo",       "headers",
                                        "no_responders", "tls_required", "new_account"};
    for (size_t i = 0; i < sizeof bools / sizeof *bools; i++)
        bad |= get_bool(j, bools[i]);
    const char *ignored;
    size_t il;
    bad |= get_str(j, "user", &f.user, &f.user_len) | get_str(j, "pass", &f.pass, &f.pass_len) |
           get_str(j, "auth_token", &f.token, &f.token_len) |
           get_str(j, "nkey", &f.nkey, &f.nkey_len) | get_str(j, "sig", &f.sig, &f.sig_len) |
           get_str(j, "name", &ignored, &il) | get_str(j, "lang", &ignored, &il) |
           get_str(j, "version", &ignored, &il) | get_str(j, "account", &ignored, &il);
    if (!bad) {
        /* As the server: C strings (client_auth.c keeps strndup'd copies, lengths by strlen). */
        fields c = f;
        c.user_len = f.user ? strlen(f.user) : 0;
        c.pass_len = f.pass ? strlen(f.pass) : 0;
        c.token_len = f.token ? strlen(f.token) : 0;
        c.nkey_len = f.nkey ? strlen(f.nkey) : 0;
        c.sig_len = f.sig ? strlen(f.sig) : 0;
        check_all(&c);
        /* The (pointer, length) API with jansson's lengths, embedded NULs included. */
        if (c.user_len != f.user_len || c.pass_len != f.pass_len || c.token_len != f.token_len ||
            c.nkey_len != f.nkey_len || c.sig_len != f.sig_len)
            check_all(&f);
    }
    json_decref(j);
    return 0;
}
