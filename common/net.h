/* Small socket helpers. */
#ifndef NX_NET_H
#define NX_NET_H

/* The local port a socket is bound to, 0 when unknown. */
int nx_socket_port(int fd);

#endif
