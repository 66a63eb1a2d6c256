/* NKey encoding: the 56-character base32 public keys Go servers use as server ids.
 *
 * Ports the encoding of github.com/nats-io/nkeys (strkey.go, crc16.go): a prefix byte, the
 * 32-byte Ed25519 public key and a CRC16 (XMODEM), base32 without padding.  Signature checks for
 * nkey authentication arrive with the auth issue.
 */
#ifndef NX_NKEY_H
#define NX_NKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_NKEY_PREFIX_SERVER (13u << 3)  /* 'N' */
#define NX_NKEY_PREFIX_USER (20u << 3)    /* 'U' */
#define NX_NKEY_PREFIX_ACCOUNT (0u)       /* 'A' */
#define NX_NKEY_PREFIX_CURVE (23u << 3)   /* 'X' */
#define NX_NKEY_PUBLIC_LEN 56

uint16_t nx_crc16(const uint8_t *data, size_t len);
/* Writes NX_NKEY_PUBLIC_LEN chars and a NUL into out. */
void nx_nkey_encode_public(uint8_t prefix, const uint8_t key[32], char out[NX_NKEY_PUBLIC_LEN + 1]);
/* Decodes a public nkey; false when malformed, of another prefix, or the CRC does not match. */
bool nx_nkey_decode_public(const char *s, uint8_t prefix, uint8_t key[32]);
/* A fresh server identity (Ed25519 key pair made with OpenSSL); 0 or -EIO. */
int nx_nkey_new_server_id(char out[NX_NKEY_PUBLIC_LEN + 1]);

/* The server's x25519 key advertised as INFO xkey; 0 or -EIO. */
int nx_nkey_new_curve_key(char out[NX_NKEY_PUBLIC_LEN + 1]);

#endif
