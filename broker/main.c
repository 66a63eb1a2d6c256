/* nats-server: the broker's entry point.
 * Ports Go nats-server v2.14.5 main.go: flags, logging setup, run until signalled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/options.h"
#include "broker/options_conf.h"
#include "broker/reload.h"
#include "broker/signal_cmd.h"
#include "broker/supervisor.h"
#include "common/log.h"

int main(int argc, char **argv) {
    br_options opts;
    br_options_defaults(&opts);
    switch (br_options_parse_flags(&opts, argc, argv)) {
    case BR_FLAGS_EXIT_OK: br_options_free(&opts); return 0;
    case BR_FLAGS_EXIT_ERROR: br_options_free(&opts); return 2;
    case BR_FLAGS_RUN: break;
    }
    if (opts.signal) { /* Go handles --signal before reading any configuration */
        int rc = br_signal_command(opts.signal);
        br_options_free(&opts);
        return rc;
    }
    br_options_free(&opts);
    br_cmdline_set(argc, argv);
    char *err = NULL;
    if (br_options_load(&opts, &err) < 0) {
        fprintf(stderr, "nats-server: %s\n", err ? err : "invalid options");
        free(err);
        br_options_free(&opts);
        return 1;
    }
    if (opts.tls) { /* fail fast on bad certificates, before any worker starts */
        char msg[512];
        SSL_CTX *ctx = br_tls_ctx_new(&opts.tls_cfg, msg, sizeof msg);
        if (!ctx) {
            fprintf(stderr, "nats-server: %s\n", msg);
            br_options_free(&opts);
            return 1;
        }
        SSL_CTX_free(ctx);
    }
    if (opts.check_config) {
        char digest[80] = "";
        if (opts.config_file) br_config_digest(opts.config_file, digest, sizeof digest);
        fprintf(stderr, "nats-server: configuration file %s is valid (%s)\n",
                opts.config_file ? opts.config_file : "", digest);
        br_options_free(&opts);
        return 0;
    }
    nx_log_config lc = {.file = opts.log_file, .time = opts.logtime, .utc = opts.logtime_utc,
                        .pid = true, .debug = opts.debug, .trace = opts.trace};
    if (nx_log_init(&lc) < 0) {
        fprintf(stderr, "nats-server: unable to open log file %s\n", opts.log_file);
        return 1;
    }
    int rc = opts.worker_index >= 0 ? br_worker_join_run(&opts) : br_supervisor_run(&opts);
    br_options_free(&opts);
    nx_log_close();
    return rc;
}
