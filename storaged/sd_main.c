/* nats-storaged: storaged as its own systemd unit (systemd/nats-storaged.service).
 * Takes nats-server's flags and configuration file, joins the node daemon at --node_socket and
 * serves JetStream there (sd_process.h).  Under plain `nats-server -js` the supervisor forks
 * storaged itself and this program is not used. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/options.h"
#include "broker/reload.h"
#include "common/log.h"
#include "storaged/sd_process.h"

int main(int argc, char **argv) {
    br_options opts;
    br_options_defaults(&opts);
    switch (br_options_parse_flags(&opts, argc, argv)) {
    case BR_FLAGS_EXIT_OK: br_options_free(&opts); return 0;
    case BR_FLAGS_EXIT_ERROR: br_options_free(&opts); return 2;
    case BR_FLAGS_RUN: break;
    }
    br_options_free(&opts);
    br_cmdline_set(argc, argv);
    char *err = NULL;
    if (br_options_load(&opts, &err) < 0) {
        fprintf(stderr, "nats-storaged: %s\n", err ? err : "invalid options");
        free(err);
        br_options_free(&opts);
        return 1;
    }
    nx_log_config lc = {.file = opts.log_file, .time = opts.logtime, .utc = opts.logtime_utc,
                        .pid = true, .debug = opts.debug, .trace = opts.trace};
    if (nx_log_init(&lc) < 0) {
        fprintf(stderr, "nats-storaged: unable to open log file %s\n", opts.log_file);
        return 1;
    }
    int rc = sd_join_run(&opts);
    br_options_free(&opts);
    nx_log_close();
    return rc;
}
