/* Go duration strings ("1.5s", "2m30s", "100ms", "1h") as time.ParseDuration reads them. */
#ifndef NX_DURATION_H
#define NX_DURATION_H

#include <stdint.h>

/* Parses s into nanoseconds.  0, or -EINVAL (bad syntax/unit) / -ERANGE (overflow). */
int nx_parse_duration(const char *s, int64_t *out_ns);

#endif
