/* Config file → br_options (Go nats-server v2.14.5 server/opts.go processConfigFileLine). */
#ifndef BR_OPTIONS_CONF_H
#define BR_OPTIONS_CONF_H

#include "broker/options.h"
#include "common/conf.h"

/* Applies the file at path to o, as Go's ProcessConfigFile.  0, or -1 when the file has errors
 * or cannot be parsed.  *errors_out and *warnings_out (caller frees; NULL when none) hold Go's
 * processConfigErr lines, each ending in a newline ("file:line:col: reason"; warnings read
 * `file:line:col: invalid use of field "x": reason`); a parse error is one line without the
 * newline, as Go's. */
int br_options_apply_config(br_options *o, const char *path, char **errors_out,
                            char **warnings_out);

/* Shared with options_cluster.c: Go parseListen (host:port or a port) and parseDuration (a
 * duration string, or seconds with a warning), problems appended to d. */
bool br_conf_listen(br_conf_diag *d, const nx_conf_value *v, char **host, int *port);
bool br_conf_duration(br_conf_diag *d, const nx_conf_value *v, const char *field, int64_t *ms);
/* Go time.ParseDuration's error text for s (which does not parse). */
void br_conf_time_error(const char *s, char *out, size_t cap);

/* Go parseCluster for the value of `cluster` (options_cluster.c). */
void br_conf_cluster(br_options *o, const nx_conf_value *v, br_conf_diag *d);

/* Go's ConfigDigest of the file ("sha256:<hex>"); 0 or -errno. */
int br_config_digest(const char *path, char *out, size_t cap);

#endif
