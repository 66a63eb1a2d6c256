/* File store encryption at rest (Go nats-server v2.14.5 server/filestore.go: the `cipher` and
 * `key` JetStream options, genEncryptionKeys / genEncryptionKey, the stream key file).
 *
 * Keys: Go derives a key-encryption key from the configured key and the stream name (HMAC
 * SHA-256 PRF) and keeps a random per-stream asset key sealed with it in the stream's key
 * file.  Here likewise: KEK = HKDF-SHA256(configured key, salt "nxfs-kek-v1", info "stream:" +
 * name); the random 32-byte data key is sealed with the KEK in <dir>/key.enc (written
 * atomically).  A wrong configured key fails to open key.enc: -EKEYREJECTED; an encrypted
 * store opened without a key: -ENOKEY.
 *
 * Data: Go XORs blocks with a ChaCha20 / AES-CTR key stream (integrity from its plaintext
 * checksums).  Here every record of an appendable block is sealed on its own with an AEAD
 * (ChaCha20-Poly1305 or AES-256-GCM through OpenSSL EVP, a random 96-bit nonce, the block
 * index and offset as associated data) inside an FS_REC_SEALED envelope record, and sealed
 * (packed) blocks are encrypted whole (filestore_pack.c): tampering is detected, never
 * returned as data.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storaged/filestore_int.h"

static const EVP_CIPHER *evp_of(int cipher) {
    return cipher == SD_FS_CIPHER_AES ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

static EVP_CIPHER_CTX *ctx_of(sd_filestore *fs) {
    if (!fs->cctx) {
        fs->cctx = EVP_CIPHER_CTX_new();
        if (!fs->cctx) ms_panic("out of memory");
    }
    return fs->cctx;
}

int fs_random(uint8_t *p, size_t n) {
    return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
}

static int aead(EVP_CIPHER_CTX *c, int cipher, bool enc, const uint8_t *key, const uint8_t *nonce,
                const uint8_t *aad, size_t alen, const uint8_t *in, size_t n, uint8_t *out,
                uint8_t *tag) {
    int l = 0;
    if (n > (size_t)INT32_MAX || alen > (size_t)INT32_MAX) return -EINVAL;
    if (EVP_CipherInit_ex(c, evp_of(cipher), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, FS_NONCE, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1)
        return -EIO;
    if (alen && EVP_CipherUpdate(c, NULL, &l, aad, (int)alen) != 1) return -EIO;
    if (n && EVP_CipherUpdate(c, out, &l, in, (int)n) != 1) return -EIO;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, FS_TAG, tag) != 1) return -EIO;
    if (EVP_CipherFinal_ex(c, out + (n ? (size_t)l : 0), &l) != 1) return enc ? -EIO : -EBADMSG;
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, FS_TAG, tag) != 1) return -EIO;
    return 0;
}

int fs_seal(sd_filestore *fs, const uint8_t *aad, size_t alen, const uint8_t *in, size_t n,
            uint8_t *out) {
    uint8_t *nonce = out, *ct = out + FS_NONCE, *tag = out + FS_NONCE + n;
    if (fs_random(nonce, FS_NONCE)) return -EIO;
    return aead(ctx_of(fs), fs->cipher, true, fs->dkey, nonce, aad, alen, in, n, ct, tag);
}

int fs_unseal(sd_filestore *fs, const uint8_t *aad, size_t alen, const uint8_t *in, size_t n,
              uint8_t *out) {
    if (n < FS_SEAL_OVERHEAD) return -EBADMSG;
    size_t m = n - FS_SEAL_OVERHEAD;
    return aead(ctx_of(fs), fs->cipher, false, fs->dkey, in, aad, alen, in + FS_NONCE, m, out,
                (uint8_t *)(uintptr_t)(in + FS_NONCE + m));
}

uint8_t *fs_scratch(sd_filestore *fs, size_t n) {
    if (n > fs->scap) {
        free(fs->sbuf);
        fs->scap = n < 4096 ? 4096 : n * 2;
        fs->sbuf = ms_xmalloc(fs->scap);
    }
    return fs->sbuf;
}

/* --- Sealed records ------------------------------------------------------------------ */

static void rec_aad(uint8_t aad[12], uint32_t index, uint64_t off) {
    for (int i = 0; i < 4; i++)
        aad[i] = (uint8_t)(index >> (8 * i));
    for (int i = 0; i < 8; i++)
        aad[4 + i] = (uint8_t)(off >> (8 * i));
}

int fs_seal_rec(sd_filestore *fs, uint8_t *dst, const uint8_t *inner, size_t ilen, uint32_t index,
                uint64_t off) {
    size_t len = FS_REC_MIN + FS_SEAL_OVERHEAD + ilen;
    uint8_t *env = fs_scratch(fs, FS_SEAL_OVERHEAD + ilen);
    uint8_t aad[12];
    rec_aad(aad, index, off);
    int rc = fs_seal(fs, aad, sizeof aad, inner, ilen, env);
    if (rc) return rc;
    /* dst may not overlap scratch: the caller hands a wbuf or file buffer */
    fs_put_rec(dst, FS_REC_SEALED, 0, 0, 0, NULL, 0, NULL, 0, env, FS_SEAL_OVERHEAD + ilen);
    (void)len;
    return 0;
}

int fs_open_rec(sd_filestore *fs, const fs_rec *outer, uint32_t index, uint64_t off, uint8_t *out,
                fs_rec *inner) {
    if (outer->type != FS_REC_SEALED) {
        *inner = *outer;
        return 0;
    }
    if (!fs->cipher) return -ENOKEY;
    uint8_t aad[12];
    rec_aad(aad, index, off);
    size_t ilen = outer->mlen - (outer->mlen >= FS_SEAL_OVERHEAD ? FS_SEAL_OVERHEAD : 0);
    if (outer->mlen < FS_SEAL_OVERHEAD + FS_REC_MIN) return -EBADMSG;
    int rc = fs_unseal(fs, aad, sizeof aad, outer->msg, outer->mlen, out);
    if (rc) return rc;
    if (fs_parse_rec(out, ilen, inner) != (int64_t)ilen || inner->type == FS_REC_SEALED)
        return -EBADMSG;
    return 0;
}

/* --- Keys ---------------------------------------------------------------------------- */

#define KEY_MAGIC "NXFSKEY1"
#define KEY_FILE_LEN (8 + 4 + FS_SEAL_OVERHEAD + 32)

static int derive_kek(const sd_filestore *fs, const char *name, uint8_t kek[32]) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf) return -EIO;
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!k) return -EIO;
    char info[600];
    int il = snprintf(info, sizeof info, "stream:%s", name ? name : "");
    if (il < 0 || (size_t)il >= sizeof info) il = (int)sizeof info - 1;
    static char digest[] = "SHA256";
    static char salt[] = "nxfs-kek-v1";
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                        (void *)(uintptr_t)fs->key, fs->key_len),
                      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt - 1),
                      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)il),
                      OSSL_PARAM_construct_end()};
    int rc = EVP_KDF_derive(k, kek, 32, p) == 1 ? 0 : -EIO;
    EVP_KDF_CTX_free(k);
    return rc;
}

static void key_path(const sd_filestore *fs, char *buf, size_t cap, bool tmp) {
    snprintf(buf, cap, "%s/key.enc%s", fs->dir, tmp ? ".tmp" : "");
}

bool fs_has_key_file(const sd_filestore *fs) {
    char p[4096];
    key_path(fs, p, sizeof p, false);
    return access(p, F_OK) == 0;
}

int fs_load_keys(sd_filestore *fs, const char *name) {
    char p[4096];
    key_path(fs, p, sizeof p, false);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return -errno;
    if (fd >= 0 && !fs->key_len) {
        close(fd);
        return -ENOKEY; /* encrypted store, no key configured */
    }
    if (!fs->key_len) return 0;
    uint8_t kek[32];
    int rc = derive_kek(fs, name, kek);
    if (rc) {
        if (fd >= 0) close(fd);
        return rc;
    }
    uint8_t f[KEY_FILE_LEN];
    if (fd >= 0) {
        ssize_t n = pread(fd, f, sizeof f, 0);
        close(fd);
        if (n != (ssize_t)sizeof f || memcmp(f, KEY_MAGIC, 8) != 0) return -EKEYREJECTED;
        int cipher = f[8];
        if (cipher != SD_FS_CIPHER_CHACHAPOLY && cipher != SD_FS_CIPHER_AES) return -EKEYREJECTED;
        /* The data key was sealed with the cipher it is used with (the stream keeps it). */
        uint8_t *nonce = f + 12;
        if (aead(ctx_of(fs), cipher, false, kek, nonce, f, 12, nonce + FS_NONCE, 32, fs->dkey,
                 nonce + FS_NONCE + 32) != 0) {
            OPENSSL_cleanse(kek, sizeof kek);
            return -EKEYREJECTED;
        }
        fs->cipher = cipher;
        OPENSSL_cleanse(kek, sizeof kek);
        return 0;
    }
    /* A new data key, sealed with the KEK, written atomically. */
    fs->cipher = fs->fcfg.cipher;
    fs->new_key = true;
    memset(f, 0, sizeof f);
    memcpy(f, KEY_MAGIC, 8);
    f[8] = (uint8_t)fs->cipher;
    uint8_t *nonce = f + 12;
    if (fs_random(fs->dkey, 32) || fs_random(nonce, FS_NONCE)) return -EIO;
    rc = aead(ctx_of(fs), fs->cipher, true, kek, nonce, f, 12, fs->dkey, 32, nonce + FS_NONCE,
              nonce + FS_NONCE + 32);
    OPENSSL_cleanse(kek, sizeof kek);
    if (rc) return rc;
    char tp[4096];
    key_path(fs, tp, sizeof tp, true);
    fd = open(tp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    rc = write(fd, f, sizeof f) == (ssize_t)sizeof f ? 0 : -EIO;
    if (rc == 0) rc = fs_fsync(fd, true);
    close(fd);
    if (rc == 0 && rename(tp, p) != 0) rc = -errno;
    if (rc == 0) rc = fs_fsync_dir(fs->dir);
    return rc;
}

void fs_crypt_free(sd_filestore *fs) {
    if (fs->cctx) EVP_CIPHER_CTX_free(fs->cctx);
    fs->cctx = NULL;
    OPENSSL_cleanse(fs->dkey, sizeof fs->dkey);
    if (fs->key) {
        OPENSSL_cleanse(fs->key, fs->key_len);
        free(fs->key);
        fs->key = NULL;
    }
    free(fs->sbuf);
    fs->sbuf = NULL;
    fs->scap = 0;
}

/* --- Sealed files (consumer state) ------------------------------------------------------- */

#define BLOB_MAGIC "NXFSENC1"

bool fs_blob_is_sealed(const uint8_t *in, size_t n) {
    return n >= 8 && memcmp(in, BLOB_MAGIC, 8) == 0;
}

/* AAD: the magic, the cipher, the context (what the file is). */
static size_t blob_aad(uint8_t *aad, size_t cap, int cipher, const char *what) {
    size_t wl = strlen(what);
    if (wl > cap - 9) wl = cap - 9;
    memcpy(aad, BLOB_MAGIC, 8);
    aad[8] = (uint8_t)cipher;
    memcpy(aad + 9, what, wl);
    return 9 + wl;
}

int fs_blob_seal(int cipher, const uint8_t key[32], const char *what, const uint8_t *in, size_t n,
                 uint8_t **out, size_t *olen) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) ms_panic("out of memory");
    size_t len = 9 + FS_SEAL_OVERHEAD + n;
    uint8_t *b = ms_xmalloc(len), aad[300];
    memcpy(b, BLOB_MAGIC, 8);
    b[8] = (uint8_t)cipher;
    size_t al = blob_aad(aad, sizeof aad, cipher, what);
    uint8_t *nonce = b + 9;
    int rc = fs_random(nonce, FS_NONCE);
    if (rc == 0)
        rc = aead(c, cipher, true, key, nonce, aad, al, in, n, nonce + FS_NONCE,
                  nonce + FS_NONCE + n);
    EVP_CIPHER_CTX_free(c);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *olen = len;
    return 0;
}

int fs_blob_open(int cipher, const uint8_t key[32], const char *what, const uint8_t *in, size_t n,
                 uint8_t **out, size_t *olen) {
    if (!fs_blob_is_sealed(in, n)) return -EINVAL;
    if (!cipher) return -ENOKEY;
    if (n < 9 + FS_SEAL_OVERHEAD || in[8] != cipher) return -EBADMSG;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) ms_panic("out of memory");
    size_t m = n - 9 - FS_SEAL_OVERHEAD;
    uint8_t *b = ms_xmalloc(m + 1), aad[300];
    size_t al = blob_aad(aad, sizeof aad, cipher, what);
    const uint8_t *nonce = in + 9;
    int rc = aead(c, cipher, false, key, nonce, aad, al, nonce + FS_NONCE, m, b,
                  (uint8_t *)(uintptr_t)(nonce + FS_NONCE + m));
    EVP_CIPHER_CTX_free(c);
    if (rc) {
        free(b);
        return -EBADMSG;
    }
    *out = b;
    *olen = m;
    return 0;
}
