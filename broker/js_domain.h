/* JetStream domain mappings: see js_domain.c. */
#ifndef BR_JS_DOMAIN_H
#define BR_JS_DOMAIN_H

struct br_options;

/* With JetStream on and a domain set, adds Go's $JS.<domain>.API.* mappings to the global
 * account and every configured account but the system account (an account's own mapping of
 * the same source wins). */
void br_js_domain_mappings(struct br_options *o);

#endif
