/* Small socket helpers; see net.h. */
#include "common/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int nx_socket_port(int fd) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 a;
        memcpy(&a, &ss, sizeof a);
        return ntohs(a.sin6_port);
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in a;
        memcpy(&a, &ss, sizeof a);
        return ntohs(a.sin_port);
    }
    return 0;
}
