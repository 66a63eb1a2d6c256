/* raftd/rd_util.c: small helpers of the raftd process: the monotonic clock, node ids from
 * server names (Go's getHash in server/server.go: the first 8 characters of the base64url
 * SHA-256 of the server name, which Go uses as the RAFT peer id of a server), the id -> name
 * directory, base64 for the control protocol, directories and epoll registration.
 */
#include "raftd/rd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

uint64_t rd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_enc(const char *alpha, bool pad, const uint8_t *p, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alpha[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

rf_id rd_name_id(const char *name)
{
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)name, strlen(name), h);
    char enc[64];
    b64_enc(b64url, false, h, sizeof(h), enc);
    rf_id id;
    memcpy(id.b, enc, RF_ID_LEN);
    return id;
}

void rd_id_str(rf_id id, char out[RF_ID_LEN + 1])
{
    for (int i = 0; i < RF_ID_LEN; i++) {
        char c = id.b[i];
        out[i] = (c > ' ' && c <= '~') ? c : '?';
    }
    out[RF_ID_LEN] = 0;
}

void rd_name_learn(struct rd_server *s, rf_id id, const char *name)
{
    for (int i = 0; i < s->n_names; i++)
        if (rf_id_eq(s->names[i].id, id))
            return;
    if (s->n_names >= (int)(sizeof(s->names) / sizeof(s->names[0])))
        return;
    s->names[s->n_names].id = id;
    snprintf(s->names[s->n_names].name, sizeof(s->names[0].name), "%s", name);
    s->n_names++;
}

const char *rd_name_of(struct rd_server *s, rf_id id)
{
    for (int i = 0; i < s->n_names; i++)
        if (rf_id_eq(s->names[i].id, id))
            return s->names[i].name;
    return NULL;
}

char *rd_b64_encode(const uint8_t *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (out)
        b64_enc(b64std, true, p, n, out);
    return out;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int rd_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *olen)
{
    while (slen && s[slen - 1] == '=')
        slen--;
    if (slen % 4 == 1)
        return -EINVAL;
    uint8_t *o = malloc(slen / 4 * 3 + 3);
    if (!o)
        return -ENOMEM;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < slen; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            free(o);
            return -EINVAL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out = o;
    *olen = n;
    return 0;
}

int rd_mkdir_p(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int rd_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096];
        if (snprintf(p, sizeof(p), "%s/%s", path, e->d_name) >= (int)sizeof(p))
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rd_rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    return rmdir(path) < 0 ? -errno : 0;
}

int rd_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

void rd_ep_add(struct rd_server *s, int fd, void *tag, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        nx_fatal("epoll_ctl add: %s", strerror(errno));
}

void rd_ep_mod(struct rd_server *s, int fd, void *tag, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    if (epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) < 0)
        nx_error("epoll_ctl mod: %s", strerror(errno));
}

void rd_ep_del(struct rd_server *s, int fd)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
}
