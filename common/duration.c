/* Go time.ParseDuration semantics: [-+]?([0-9]*(\.[0-9]*)?unit)+ with units ns, us, µs, μs,
 * ms, s, m, h; "0" alone is allowed.  Ports Go's time/format.go ParseDuration behaviour. */
#include "common/duration.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const struct {
    const char *name;
    int64_t ns;
} units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", 60LL * 1000000000},
    {"h", 3600LL * 1000000000},
};

int nx_parse_duration(const char *s, int64_t *out_ns) {
    if (!s) return -EINVAL;
    bool neg = false;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    if (!*s) return -EINVAL;
    double total = 0;
    while (*s) {
        if (!(*s >= '0' && *s <= '9') && *s != '.') return -EINVAL;
        double whole = 0, frac = 0, scale = 1;
        bool digits = false;
        while (*s >= '0' && *s <= '9') {
            whole = whole * 10 + (*s++ - '0');
            digits = true;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                frac = frac * 10 + (*s++ - '0');
                scale *= 10;
                digits = true;
            }
        }
        if (!digits) return -EINVAL;
        size_t ulen = 0;
        while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9')) ulen++;
        if (ulen == 0) return -EINVAL; /* Go: missing unit */
        int64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, s, ulen) == 0)
                unit = units[i].ns;
        if (!unit) return -EINVAL; /* Go: unknown unit */
        s += ulen;
        total += (whole + frac / scale) * (double)unit;
        if (total > 9.223372036854775807e18) return -ERANGE;
    }
    *out_ns = neg ? -(int64_t)total : (int64_t)total;
    return 0;
}
