/* Config file → br_options (Go nats-server v2.14.5 server/opts.go processConfigFileLine). */
#ifndef BR_OPTIONS_CONF_H
#define BR_OPTIONS_CONF_H

#include "broker/options.h"

/* Applies the file at path to o.  0, or -1 with *errors_out set to Go-style messages
 * ("file:line:col: reason", one per line; caller frees). */
int br_options_apply_config(br_options *o, const char *path, char **errors_out);

/* Go's ConfigDigest of the file ("sha256:<hex>"); 0 or -errno. */
int br_config_digest(const char *path, char *out, size_t cap);

#endif
