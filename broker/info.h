/* The server's INFO protocol line and the ports file.
 *
 * Ports Go nats-server v2.14.5 server.go Info (field order and omitempty rules of its JSON
 * encoding), generateClientInfoJSON, and PortsInfo/logPorts.
 */
#ifndef BR_INFO_H
#define BR_INFO_H

#include <stddef.h>

/* The Go server version whose behaviour this implements (INFO version, banner). */
#define BR_GO_VERSION "2.14.5"

#include "broker/options.h"

/* Writes <dir>/nats-server_<pid>.ports atomically when ports_file_dir is set; returns the path
 * (to delete at shutdown) or NULL. */
char *br_write_ports_file(const br_options *o, int port);

/* Appends s as a JSON string literal (quoted, escaped) to buf at *n, bounded by cap. */
void br_json_str(char *buf, size_t cap, size_t *n, const char *s);

#endif
