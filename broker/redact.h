/* Removing secrets from traced CONNECT lines (Go client.go removeSecretsFromTrace). */
#ifndef BR_REDACT_H
#define BR_REDACT_H

#include <stddef.h>

/* Copies arg into out with the values of pass*, auth_token*, sig, proxy_sig and nkey fields
 * replaced by [REDACTED]; returns the length written (out is NUL-terminated). */
size_t br_redact_connect(const char *arg, size_t len, char *out, size_t cap);

#endif
