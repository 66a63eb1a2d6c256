/* Helpers for test_auth.c: Go's nkeys user seed decoding, Ed25519 signatures (OpenSSL) and
 * base64url, the pieces Go's nkey tests get from github.com/nats-io/nkeys and encoding/base64.
 * Static functions: included by one test executable. */
#ifndef NX_IT_AUTH_UTIL_H
#define NX_IT_AUTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "common/nkey.h"

/* nkeys PrefixByteSeed */
#define AU_PREFIX_SEED (18u << 3)

/* RFC 4648 base32 without padding (nkeys' b32Enc); returns the byte count or -1. */
static inline int au_base32_decode(const char *s, uint8_t *out, size_t cap) {
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s; s++) {
        const char *p = strchr(alpha, *s);
        if (!p) return -1;
        acc = (acc << 5) | (uint32_t)(p - alpha);
        bits += 5;
        if (bits >= 8) {
            if (n == cap) return -1;
            out[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)n;
}

/* nkeys.FromSeed for a user seed ("SU..."): the Ed25519 key pair (caller EVP_PKEY_free's) and
 * the public nkey ("U...", as kp.PublicKey() gives it). */
static inline EVP_PKEY *au_user_from_seed(const char *seed, char pub[NX_NKEY_PUBLIC_LEN + 1]) {
    uint8_t raw[64];
    int n = au_base32_decode(seed, raw, sizeof raw);
    cr_assert_eq(n, 36, "seed decodes to %d bytes", n);
    uint16_t crc = (uint16_t)(raw[34] | raw[35] << 8); /* little endian, as nkeys writes it */
    cr_assert_eq(nx_crc16(raw, 34), crc, "seed CRC");
    cr_assert_eq(raw[0], AU_PREFIX_SEED | (NX_NKEY_PREFIX_USER >> 5));
    cr_assert_eq(raw[1], (NX_NKEY_PREFIX_USER & 31) << 3);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
    cr_assert(k);
    uint8_t pk[32];
    size_t pklen = sizeof pk;
    cr_assert_eq(EVP_PKEY_get_raw_public_key(k, pk, &pklen), 1);
    nx_nkey_encode_public(NX_NKEY_PREFIX_USER, pk, pub);
    return k;
}

/* A fresh user key pair (nkeys.CreateUser). */
static inline EVP_PKEY *au_user_new(char pub[NX_NKEY_PUBLIC_LEN + 1]) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    cr_assert(k);
    uint8_t pk[32];
    size_t pklen = sizeof pk;
    cr_assert_eq(EVP_PKEY_get_raw_public_key(k, pk, &pklen), 1);
    nx_nkey_encode_public(NX_NKEY_PREFIX_USER, pk, pub);
    return k;
}

/* Go base64.RawURLEncoding.EncodeToString: URL alphabet, no padding. */
static inline void au_base64url(const uint8_t *in, size_t n, char *out) {
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* kp.Sign(nonce) then base64.RawURLEncoding: 64-byte signature -> 86 chars + NUL. */
static inline void au_sign_nonce(EVP_PKEY *k, const char *nonce, char out[90]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
    uint8_t sig[64];
    size_t siglen = sizeof sig;
    cr_assert_eq(EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)nonce, strlen(nonce)), 1);
    cr_assert_eq(siglen, 64);
    EVP_MD_CTX_free(ctx);
    au_base64url(sig, siglen, out);
}

#endif
