/* Helpers shared by the JetStream integration tests (test_jetstream.c, test_js_libnats.c). */
#ifndef NX_IT_JS_UTIL_H
#define NX_IT_JS_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "tests/integration/harness.h"

static inline int js_util_rm_entry(const char *path, const struct stat *sb, int flag,
                                   struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes a store directory and everything under it. */
static inline void rm_tree(const char *dir) {
    nftw(dir, js_util_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The storaged child of the server (it names itself "nats-storaged"), 0 when there is none. */
static inline pid_t storaged_pid(const h_server *s) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", s->pid, s->pid);
    FILE *f = fopen(path, "r");
    pid_t found = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \n", &save); tok && !found;
             tok = strtok_r(NULL, " \n", &save)) {
            char cp[64], comm[64] = "";
            snprintf(cp, sizeof cp, "/proc/%s/comm", tok);
            FILE *c = fopen(cp, "r");
            if (c && fgets(comm, sizeof comm, c) && !strncmp(comm, "nats-storaged", 13))
                found = (pid_t)atol(tok);
            if (c) fclose(c);
        }
    }
    if (f) fclose(f);
    return found;
}

#endif
