/* JSON helpers for the JetStream API, shaped after Go's encoding/json as used by
 * Go nats-server v2.14.5 (server/jetstream_api.go unmarshalRequest with
 * DisallowUnknownFields; json.Marshal output) and Go's time.Time JSON form.
 *
 * Encoding: compact, object keys in insertion order (build objects in Go's struct field
 * order), '<' '>' '&' U+2028 U+2029 escaped as \u003c ... like Go's HTML-safe encoder.
 * Decoding: strict, field names matched case-insensitively (as encoding/json does), unknown
 * fields rejected with Go's `json: unknown field "x"`, type mismatches reported as Go's
 * UnmarshalTypeError text.  null leaves a field untouched.
 */
#ifndef SD_JS_API_JSON_H
#define SD_JS_API_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Go json.Marshal of v (compact).  malloc'd, NUL-terminated; length in *len if non-NULL. */
/* A JSON string of arbitrary bytes as Go's encoding/json writes a Go string: invalid UTF-8
 * becomes U+FFFD (jansson refuses to encode invalid UTF-8). */
json_t *js_json_string_lossy(const char *s, size_t len);
char *js_json_encode(const json_t *v, size_t *len);

/* Go time.Time JSON text (RFC3339Nano, UTC, "Z"); ns 0 is Go's zero time
 * "0001-01-01T00:00:00Z".  out must hold 40 bytes; returns the length. */
size_t js_time_format(int64_t ns, char *out);
json_t *js_time_json(int64_t ns);
/* Parses RFC 3339 (with optional fraction and zone offset) into ns since the epoch. */
bool js_time_parse(const char *s, int64_t *ns);

/* Go's jetstream.strict: when false, unknown fields are ignored and syntax errors read as
 * json.Unmarshal reports them (no " at offset N").  Process-wide; js_server_open sets it. */
void js_json_set_strict(bool strict);

/* Strict struct decoding. */
typedef enum {
    JF_STRING,  /* char* (malloc'd; previous value freed) */
    JF_BOOL,    /* bool */
    JF_INT64,   /* int64_t (Go int64, time.Duration) */
    JF_INT32,   /* int32_t */
    JF_INT,     /* int64_t holding a Go int */
    JF_UINT64,  /* uint64_t */
    JF_STRINGS, /* char** + size_t count at off2 */
    JF_TIME,    /* int64_t ns; sets bool at off2 when present */
    JF_RAW,     /* json_t* (new reference; previous released) of any type */
    JF_CUSTOM,  /* custom(v, dst + off, path, err, errlen) */
} js_jf_type;

typedef int (*js_jf_custom)(const json_t *v, void *field, const char *path, char *err,
                            size_t errlen);

typedef struct js_jfield {
    const char *name; /* JSON name */
    js_jf_type type;
    size_t off;
    size_t off2;
    js_jf_custom custom;
} js_jfield;

/* Decodes object `v` into dst.  `path` is Go's struct name (e.g. "StreamConfigRequest") or
 * a nested path ("StreamConfigRequest.republish").  0, or -1 with Go's message in err. */
int js_json_decode(const json_t *v, const js_jfield *fields, size_t n, void *dst,
                   const char *path, const char *gotype, char *err, size_t errlen);
/* Go's UnmarshalTypeError text for value v at path with Go type gotype. */
void js_json_type_error(const json_t *v, const char *path, const char *gotype, char *err,
                        size_t errlen);
/* Parses a request body as Go's json.Decoder loop reads it: NULL with Go's syntax error text
 * (js_api_json_scan.c) in err when malformed. */
json_t *js_json_parse(const uint8_t *data, size_t len, char *err, size_t errlen);

/* One value of a body as json.Decoder.readValue scans it (js_api_json_scan.c): 1 with the
 * value at [*start, *pos), 0 at a clean end, -1 with Go's text ("... at offset N"). */
int js_json_scan_value(const uint8_t *d, size_t len, size_t *pos, size_t *start, char *err,
                       size_t errlen);

/* Go isJSONObjectOrArray / isEmptyRequest. */
bool js_is_json_object_or_array(const uint8_t *d, size_t len);
bool js_is_empty_request(const uint8_t *d, size_t len);

/* Base64 (std, padded) of data as a JSON string. */
json_t *js_json_base64(const uint8_t *d, size_t len);

#endif
