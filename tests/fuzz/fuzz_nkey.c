/* libFuzzer target for nkey authentication building blocks: br_auth_verify_nkey_sig
 * (broker/auth.c) and nx_nkey_decode_public (common/nkey.c).
 *
 * Input layout: byte 0 = flags, byte 1 = nkey length, byte 2 = sig length (each taken modulo
 * what is left), byte 3 = mutation position, byte 4 = mutation xor; then nkey, sig and, as the
 * rest, the nonce.  Short inputs are padded with zeros.
 *
 * Invariants (any violation aborts):
 *  - nx_nkey_decode_public succeeds only for NX_NKEY_PUBLIC_LEN characters, and then
 *    nx_nkey_encode_public of the key with that prefix gives back exactly the input (a public
 *    nkey has one spelling); at most one of the four prefixes decodes a given string;
 *  - br_auth_verify_nkey_sig(fuzz nkey, fuzz sig, fuzz nonce) succeeds only when the nkey is a
 *    user nkey and the signature, decoded independently (either base64 alphabet), verifies with
 *    OpenSSL; on failure a reason is set, on success none;
 *  - with flags bit 0 set, one of two fixed keys signs the fuzz nonce; the signature, encoded as
 *    the flags choose (base64url raw, standard padded, either with CR/LF inserted), must verify;
 *    the same with exactly one byte of the raw signature changed, with the other key's nkey,
 *    with one nonce byte changed, or with the nkey of another prefix must not.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "broker/auth.h"
#include "common/nkey.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "CHECK failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t seeds[2][32] = {
    {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
    {0xa5, 0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
     0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x10, 0x20, 0x30, 0x40,
     0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0},
};
static EVP_PKEY *keys[2];
static uint8_t pubkeys[2][32];
static char nkeys[2][NX_NKEY_PUBLIC_LEN + 1];

static const uint8_t prefixes[4] = {NX_NKEY_PREFIX_USER, NX_NKEY_PREFIX_SERVER,
                                    NX_NKEY_PREFIX_ACCOUNT, NX_NKEY_PREFIX_CURVE};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    for (int i = 0; i < 2; i++) {
        keys[i] = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seeds[i], 32);
        CHECK(keys[i]);
        size_t pl = 32;
        CHECK(EVP_PKEY_get_raw_public_key(keys[i], pubkeys[i], &pl) == 1 && pl == 32);
        nx_nkey_encode_public(NX_NKEY_PREFIX_USER, pubkeys[i], nkeys[i]);
        if (getenv("FUZZ_NKEY_PRINT_KEYS")) fprintf(stderr, "nkey%d %s\n", i, nkeys[i]);
    }
    return 0;
}

/* ---- independent helpers ---------------------------------------------------------------- */

static int b64_val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Lenient: CR/LF and trailing '=' dropped, either alphabet; a superset of what the code under
 * test accepts, for 64-byte signatures. */
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

/* url: base64url without padding, else standard with padding. */
static size_t b64_encode(const uint8_t *in, size_t n, bool url, char *out) {
    const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
    if (!url)
        while (o % 4)
            out[o++] = '=';
    out[o] = '\0';
    return o;
}

static bool ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const uint8_t *msg,
                           size_t len) {
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(pk && md);
    bool ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(md, sig, 64, msg, len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    return ok;
}

static void sign(int k, const uint8_t *msg, size_t len, uint8_t sig[64]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sl = 64;
    CHECK(md && EVP_DigestSignInit(md, NULL, NULL, NULL, keys[k]) == 1 &&
          EVP_DigestSign(md, sig, &sl, msg, len) == 1 && sl == 64);
    EVP_MD_CTX_free(md);
}

/* The verification under test, with its reason contract checked. */
static bool verify(const char *nkey, size_t nkey_len, const char *sig, size_t sig_len,
                   const uint8_t *nonce, size_t nonce_len) {
    const char *reason = (const char *)1;
    /* Exact-size heap copies so ASan sees any read past the given lengths. */
    char *nk = malloc(nkey_len ? nkey_len : 1), *sg = malloc(sig_len ? sig_len : 1);
    char *nc = malloc(nonce_len ? nonce_len : 1);
    CHECK(nk && sg && nc);
    if (nkey_len) memcpy(nk, nkey, nkey_len);
    if (sig_len) memcpy(sg, sig, sig_len);
    if (nonce_len) memcpy(nc, nonce, nonce_len);
    bool ok = br_auth_verify_nkey_sig(nk, nkey_len, sg, sig_len, nc, nonce_len, &reason);
    CHECK(ok ? reason == NULL : reason != NULL && reason != (const char *)1 && reason[0]);
    free(nk);
    free(sg);
    free(nc);
    return ok;
}

/* Encodes sig as the flags choose, optionally with a CR/LF inserted at pos. */
static size_t encode_sig(const uint8_t sig[64], uint8_t flags, uint8_t pos, char *out) {
    char t[100];
    size_t n = b64_encode(sig, 64, !(flags & 2), t);
    if (!(flags & 4)) {
        memcpy(out, t, n + 1);
        return n;
    }
    size_t at = pos % (n + 1);
    memcpy(out, t, at);
    out[at] = (flags & 8) ? '\n' : '\r';
    memcpy(out + at + 1, t + at, n - at + 1);
    return n + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool self_tested; /* the harness's keys and encodings do verify */
    if (!self_tested) {
        self_tested = true;
        uint8_t raw[64];
        char enc[100];
        sign(0, (const uint8_t *)"nonce", 5, raw);
        for (uint8_t fl = 0; fl < 16; fl++) {
            size_t el = encode_sig(raw, fl, 40, enc);
            CHECK(verify(nkeys[0], NX_NKEY_PUBLIC_LEN, enc, el, (const uint8_t *)"nonce", 5));
        }
    }
    uint8_t hdr[5] = {0};
    size_t h = size < 5 ? size : 5;
    memcpy(hdr, data, h);
    const uint8_t *rest = data + h;
    size_t rl = size - h;
    size_t nl = hdr[1] % (rl + 1);
    size_t sl = hdr[2] % (rl - nl + 1);
    const char *nkey = (const char *)rest;
    const char *sig = (const char *)rest + nl;
    const uint8_t *nonce = rest + nl + sl;
    size_t nonce_len = rl - nl - sl;

    /* nx_nkey_decode_public: canonical, prefix-exclusive. */
    char *z = malloc(nl + 1);
    CHECK(z);
    memcpy(z, nkey, nl);
    z[nl] = '\0';
    int decoded = 0;
    for (int p = 0; p < 4; p++) {
        uint8_t key[32];
        if (!nx_nkey_decode_public(z, prefixes[p], key)) continue;
        decoded++;
        CHECK(strlen(z) == NX_NKEY_PUBLIC_LEN);
        char back[NX_NKEY_PUBLIC_LEN + 1];
        nx_nkey_encode_public(prefixes[p], key, back);
        CHECK(strcmp(back, z) == 0);
    }
    CHECK(decoded <= 1);

    /* br_auth_verify_nkey_sig on the raw pieces. */
    if (verify(nkey, nl, sig, sl, nonce, nonce_len)) {
        uint8_t key[32], raw[64];
        CHECK(nl == NX_NKEY_PUBLIC_LEN && !memchr(nkey, '\0', nl));
        CHECK(nx_nkey_decode_public(z, NX_NKEY_PREFIX_USER, key));
        CHECK(decode_sig64(sig, sl, raw));
        CHECK(ed25519_verify(key, raw, nonce, nonce_len));
    }
    free(z);

    /* A real signature of the nonce by a known key, then one-byte changes. */
    if (hdr[0] & 1) {
        int k = (hdr[0] >> 4) & 1;
        uint8_t raw[64];
        char enc[100];
        sign(k, nonce, nonce_len, raw);
        size_t el = encode_sig(raw, hdr[0], hdr[3], enc);
        CHECK(verify(nkeys[k], NX_NKEY_PUBLIC_LEN, enc, el, nonce, nonce_len));
        /* The other key. */
        CHECK(!verify(nkeys[!k], NX_NKEY_PUBLIC_LEN, enc, el, nonce, nonce_len));
        /* The same key under another prefix is not a user nkey. */
        char other[NX_NKEY_PUBLIC_LEN + 1];
        nx_nkey_encode_public(prefixes[1 + hdr[4] % 3], pubkeys[k], other);
        CHECK(!verify(other, NX_NKEY_PUBLIC_LEN, enc, el, nonce, nonce_len));
        /* Exactly one byte of the signature changed. */
        uint8_t bad[64];
        memcpy(bad, raw, 64);
        bad[hdr[3] % 64] ^= (uint8_t)(hdr[4] ? hdr[4] : 0x80);
        el = encode_sig(bad, hdr[0], hdr[3], enc);
        CHECK(!verify(nkeys[k], NX_NKEY_PUBLIC_LEN, enc, el, nonce, nonce_len));
        /* Exactly one byte of the nonce changed. */
        if (nonce_len) {
            uint8_t *n2 = malloc(nonce_len);
            CHECK(n2);
            memcpy(n2, nonce, nonce_len);
            n2[hdr[3] % nonce_len] ^= (uint8_t)(hdr[4] ? hdr[4] : 0x01);
            el = encode_sig(raw, hdr[0], hdr[3], enc);
            CHECK(!verify(nkeys[k], NX_NKEY_PUBLIC_LEN, enc, el, n2, nonce_len));
            free(n2);
        }
        /* Truncated by one character: no longer 64 bytes. */
        el = encode_sig(raw, hdr[0] & ~4, 0, enc);
        CHECK(!verify(nkeys[k], NX_NKEY_PUBLIC_LEN, enc, el > 4 ? el - 4 : 0, nonce, nonce_len));
    }
    return 0;
}
