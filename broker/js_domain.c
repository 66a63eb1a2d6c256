/* The subject mappings that let clients of this server reach JetStream through its domain's
 * API prefix ($JS.<domain>.API...), as `nats --js-domain` and the clients' domain option send.
 *
 * Ports Go nats-server v2.14.5 server/jetstream.go enableAllJetStreamServiceImportsAndMappings
 * (the domain part: every account but the system account gets the mappings, unless it maps
 * the same source itself) and server/jetstream_api.go generateJSMappingTable.  Go adds them
 * when JetStream is configured for an account; here at options load, into the accounts'
 * `mappings`, so every worker applies them to its clients' publishes like any mapping.
 */
#include <stdio.h>
#include <string.h>

#include "broker/account.h"
#include "broker/js_domain.h"
#include "broker/options.h"
#include "common/log.h"

/* Go generateJSMappingTable: "$JS.<domain>.API.<suffix>" -> destination. */
static const struct {
    const char *suffix, *to;
} table[] = {
    {"INFO", "$JS.API.INFO"},
    {"STREAM.>", "$JS.API.STREAM.>"},
    {"CONSUMER.>", "$JS.API.CONSUMER.>"},
    {"DIRECT.>", "$JS.API.DIRECT.>"},
    {"META.>", "$JS.API.META.>"},
    {"SERVER.>", "$JS.API.SERVER.>"},
    {"ACCOUNT.>", "$JS.API.ACCOUNT.>"},
    {"$KV.>", "$KV.>"},
    {"$OBJ.>", "$OBJ.>"},
};

static void add_all(nx_mappings *ml, const char *domain, const char *acc) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char src[512], err[256];
        snprintf(src, sizeof src, "$JS.%s.API.%s", domain, table[i].suffix);
        if (nx_mappings_has(ml, src)) continue; /* the account's own mapping wins */
        if (nx_mappings_add_simple(ml, src, table[i].to, err, sizeof err))
            nx_error("Error adding JetStream domain mapping for account %s: %s", acc, err);
    }
}

void br_js_domain_mappings(br_options *o) {
    if (!o->jetstream || !o->js_domain || !o->js_domain[0]) return;
    add_all(&o->mappings, o->js_domain, "$G");
    const char *sys = br_accounts_system_name(&o->accounts);
    for (size_t i = 0; i < o->accounts.n; i++) {
        br_acc_conf *ac = &o->accounts.accs[i];
        if (sys && !strcmp(ac->name, sys)) continue;
        add_all(&ac->mappings, o->js_domain, ac->name);
    }
}
