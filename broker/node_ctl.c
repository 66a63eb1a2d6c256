/* Node control socket; see node_ctl.h. */
#include "broker/node_ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAGIC 0x4e58434cu /* "NXCL" */
#define CTL_TIMEOUT_MS 5000

typedef struct ctl_hello {
    uint32_t magic;
    uint32_t worker;
} ctl_hello;

typedef struct ctl_reply {
    uint32_t magic;
    uint32_t nmembers; /* doorbells that follow the memfd */
} ctl_reply;

static int make_addr(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof a->sun_path) return -ENAMETOOLONG;
    memcpy(a->sun_path, path, len + 1);
    return 0;
}

int br_node_ctl_listen(const char *path) {
    struct sockaddr_un a;
    int rc = make_addr(path, &a);
    if (rc < 0) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int wait_fd(int fd, short ev) {
    struct pollfd p = {.fd = fd, .events = ev};
    int n = poll(&p, 1, CTL_TIMEOUT_MS);
    return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

int br_node_ctl_read_hello(int conn, pid_t *peer_pid) {
    ctl_hello h;
    if (wait_fd(conn, POLLIN) < 0) return -ETIMEDOUT;
    if (recv(conn, &h, sizeof h, MSG_WAITALL) != (ssize_t)sizeof h) return -EPROTO;
    if (h.magic != CTL_MAGIC) return -EPROTO;
    struct ucred cred;
    socklen_t len = sizeof cred;
    *peer_pid = getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
    return (int)h.worker;
}

int br_node_ctl_send_node(int conn, const br_node *node) {
    uint32_t n = node->shm->nmembers;
    int fds[1 + BR_MAX_WORKERS];
    fds[0] = node->memfd;
    for (uint32_t w = 0; w < n; w++) fds[1 + w] = node->doorbell[w];
    ctl_reply r = {CTL_MAGIC, n};
    struct iovec iov = {&r, sizeof r};
    char cbuf[CMSG_SPACE(sizeof fds)];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * (1 + n))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (1 + n));
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (1 + n));
    return sendmsg(conn, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof r ? 0 : -errno;
}

int br_node_ctl_join(const char *path, uint32_t worker, br_node *node) {
    struct sockaddr_un a;
    int rc = make_addr(path, &a);
    if (rc < 0) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    ctl_hello h = {CTL_MAGIC, worker};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        send(fd, &h, sizeof h, MSG_NOSIGNAL) != (ssize_t)sizeof h) {
        int e = errno;
        close(fd);
        return -e;
    }
    ctl_reply r;
    int fds[1 + BR_MAX_WORKERS];
    char cbuf[CMSG_SPACE(sizeof fds)];
    struct iovec iov = {&r, sizeof r};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    if (wait_fd(fd, POLLIN) < 0 || recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof r ||
        r.magic != CTL_MAGIC || r.nmembers == 0 || r.nmembers > BR_MAX_WORKERS) {
        close(fd);
        return -EPROTO; /* refused (index taken or out of range) or not a node daemon */
    }
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int) * (1 + r.nmembers))) {
        close(fd);
        return -EPROTO;
    }
    memcpy(fds, CMSG_DATA(cm), sizeof(int) * (1 + r.nmembers));
    rc = br_node_attach(node, fds[0], fds + 1, r.nmembers);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}
