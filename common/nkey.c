/* NKey public-key encoding; see nkey.h.  Ports nkeys strkey.go/crc16.go (encoding only). */
#include "common/nkey.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint16_t nx_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)data[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

void nx_nkey_encode_public(uint8_t prefix, const uint8_t key[32], char out[NX_NKEY_PUBLIC_LEN + 1]) {
    uint8_t raw[35];
    raw[0] = prefix;
    memcpy(raw + 1, key, 32);
    uint16_t crc = nx_crc16(raw, 33);
    raw[33] = (uint8_t)(crc & 0xff); /* little endian, as nkeys writes it */
    raw[34] = (uint8_t)(crc >> 8);
    /* 35 bytes = 280 bits = exactly 56 base32 characters, no padding. */
    size_t o = 0;
    for (size_t i = 0; i < 35; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++) v = (v << 8) | raw[i + j];
        for (int s = 35; s >= 0; s -= 5) out[o++] = b32_alphabet[(v >> s) & 31];
    }
    out[o] = '\0';
}

static int b32_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

bool nx_nkey_decode_public(const char *s, uint8_t prefix, uint8_t key[32]) {
    if (!s || strlen(s) != NX_NKEY_PUBLIC_LEN) return false;
    uint8_t raw[35];
    size_t o = 0;
    for (size_t i = 0; i < NX_NKEY_PUBLIC_LEN; i += 8) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            int d = b32_value(s[i + j]);
            if (d < 0) return false;
            v = (v << 5) | (uint64_t)d;
        }
        for (int sh = 32; sh >= 0; sh -= 8) raw[o++] = (uint8_t)(v >> sh);
    }
    if (raw[0] != prefix) return false;
    uint16_t crc = (uint16_t)(raw[33] | (raw[34] << 8));
    if (crc != nx_crc16(raw, 33)) return false;
    memcpy(key, raw + 1, 32);
    return true;
}

static int new_public_key(int evp_type, uint8_t prefix, char out[NX_NKEY_PUBLIC_LEN + 1]) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(evp_type, NULL);
    int rc = -EIO;
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pkey) == 1) {
        uint8_t pub[32];
        size_t len = sizeof pub;
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 && len == 32) {
            nx_nkey_encode_public(prefix, pub, out);
            rc = 0;
        }
    }
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int nx_nkey_new_server_id(char out[NX_NKEY_PUBLIC_LEN + 1]) {
    return new_public_key(EVP_PKEY_ED25519, NX_NKEY_PREFIX_SERVER, out);
}

int nx_nkey_new_curve_key(char out[NX_NKEY_PUBLIC_LEN + 1]) {
    return new_public_key(EVP_PKEY_X25519, NX_NKEY_PREFIX_CURVE, out);
}
