/* Supervisor <-> worker queries; see query.h.  The answers themselves (JSON records the
 * monitoring code merges into Go's formats) come from monitor_conn.c; this file dispatches and
 * frames them. */
#include "broker/query.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/monitor_int.h"
#include "broker/server.h"
#include "broker/sys_requests.h"

int br_query_answer(struct br_server *s, uint32_t type, const char *args, size_t args_len,
                    char **out, size_t *out_len) {
    switch (type) {
    case BR_QUERY_PING:
        *out = strdup("{}");
        if (!*out) return -ENOMEM;
        *out_len = 2;
        return 0;
    case BR_QUERY_VARZ: return mon_answer_varz(s, out, out_len);
    case BR_QUERY_CONNZ: return mon_answer_connz(s, args, args_len, out, out_len);
    case BR_QUERY_SUBSZ: return mon_answer_subsz(s, args, args_len, out, out_len);
    case BR_QUERY_ACCSTATZ: return br_sysreq_answer_accstatz(s, out, out_len) < 0 ? -ENOMEM : 0;
    case BR_QUERY_KICK: return br_sysreq_answer_kick(s, args, args_len, out, out_len);
    case BR_QUERY_SYS_REPLY: {
        int rc = br_sysreq_deliver(s, args, args_len);
        if (rc < 0) return rc;
        *out = strdup("{}");
        if (!*out) return -ENOMEM;
        *out_len = 2;
        return 0;
    }
    default: return -ENOTSUP;
    }
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A frame whose first byte was read must be read to its end, or the stream would be left in
 * the middle of it: past the caller's deadline, the rest gets this much longer. */
#define FRAME_GRACE_MS 10000

static int io_full(int fd, void *buf, size_t n, bool writing, int64_t deadline) {
    uint8_t *p = buf;
    while (n > 0) {
        int left = (int)(deadline - mono_ms());
        if (left <= 0) return p == (uint8_t *)buf ? -ETIMEDOUT : -EPROTO;
        struct pollfd pfd = {.fd = fd, .events = writing ? POLLOUT : POLLIN};
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno != EINTR) return -errno;
        if (pr <= 0) continue;
        ssize_t r = writing ? send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)
                            : recv(fd, p, n, MSG_DONTWAIT);
        if (r == 0) return -EPIPE;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int br_query_call(int fd, uint32_t type, const char *args, size_t args_len, int timeout_ms,
                  char **out, size_t *out_len) {
    static uint32_t next_id;
    if (fd < 0) return -ENOENT;
    if (args_len > BR_QUERY_MAX_REQUEST) return -E2BIG;
    int64_t deadline = mono_ms() + timeout_ms;
    br_query_hdr h = {(uint32_t)args_len, type, __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED)};
    int rc = io_full(fd, &h, sizeof h, true, deadline);
    if (rc == 0 && args_len) rc = io_full(fd, (void *)args, args_len, true, deadline);
    if (rc < 0) return rc;
    for (;;) { /* skip answers to earlier calls that timed out */
        br_query_hdr a = {0};
        rc = io_full(fd, &a, 1, false, deadline); /* -ETIMEDOUT here leaves the stream whole */
        if (rc == 0) rc = io_full(fd, (uint8_t *)&a + 1, sizeof a - 1, false, mono_ms() + FRAME_GRACE_MS);
        if (rc < 0) return rc;
        if (a.len > BR_QUERY_MAX_ANSWER) return -EPROTO;
        char *buf = malloc((size_t)a.len + 1);
        if (!buf) return -ENOMEM;
        int64_t body_deadline = deadline > mono_ms() + FRAME_GRACE_MS ? deadline : mono_ms() + FRAME_GRACE_MS;
        rc = io_full(fd, buf, a.len, false, body_deadline);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        buf[a.len] = '\0';
        if (a.id != h.id) {
            free(buf);
            continue;
        }
        if (a.kind != 0) {
            free(buf);
            return -(int)a.kind;
        }
        *out = buf;
        *out_len = a.len;
        return 0;
    }
}
