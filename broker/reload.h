/* Options loading and configuration reload (see reload.c). */
#ifndef BR_RELOAD_H
#define BR_RELOAD_H

#include "broker/options.h"

/* Remembers the command line so the options can be loaded again on reload. */
void br_cmdline_set(int argc, char **argv);
/* Defaults, the config file, then the command line flags, TLS and validation: what the
 * server runs with.  0, or -1 with *err (malloc'd, may be NULL after -h/-v handling). */
int br_options_load(br_options *o, char **err);
/* Go diffOptions: 0 when next may replace old at runtime, else -1 with Go's text in *err. */
int br_reload_check(const br_options *old, const br_options *next, char **err);
/* Exchanges the contents (the caller frees *next afterwards). */
void br_options_swap(br_options *cur, br_options *next);

#endif
