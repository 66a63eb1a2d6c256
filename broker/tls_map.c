/* Certificate identities for TLS `verify_and_map` (see tls_map.h).
 *
 * Ports Go nats-server v2.14.5 server/auth.go (checkClientTLSCertSubject, getTLSAuthDCs) and
 * internal/ldap/dn.go, plus the string forms of Go's crypto/x509/pkix that the mapping
 * compares user names with.  The certificate is read with OpenSSL; nothing here keeps state.
 */
#include "broker/tls_map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "broker/perms.h" /* br_go_quote */

/* ---- a growable string ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) abort();
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) {
    sb_putn(b, s, strlen(s));
}

static char *sb_take(sbuf *b) {
    if (!b->p) sb_putn(b, "", 0);
    char *p = b->p;
    *b = (sbuf){0};
    return p;
}

static char *dupn(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- DNs (Go internal/ldap) ------------------------------------------------------------- */

void br_dn_free(br_dn *d) {
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->rdns[i].n; j++) {
            free(d->rdns[i].atv[j].type);
            free(d->rdns[i].atv[j].value);
        }
        free(d->rdns[i].atv);
    }
    free(d->rdns);
    memset(d, 0, sizeof *d);
}

static void rdn_add(br_dn_rdn *r, char *type, char *value) {
    br_dn_atv *na = realloc(r->atv, (r->n + 1) * sizeof *na);
    if (!na) abort();
    r->atv = na;
    r->atv[r->n++] = (br_dn_atv){type, value};
}

static void dn_add(br_dn *d, br_dn_rdn r) {
    br_dn_rdn *nr = realloc(d->rdns, (d->n + 1) * sizeof *nr);
    if (!nr) abort();
    d->rdns = nr;
    d->rdns[d->n++] = r;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Go's stringFromBuffer: the buffer without its unescaped trailing spaces, then reset. */
static char *take_value(sbuf *b, size_t *trailing) {
    size_t n = b->len >= *trailing ? b->len - *trailing : 0;
    char *s = dupn(b->p ? b->p : "", n);
    b->len = 0;
    *trailing = 0;
    return s;
}

int br_dn_parse(const char *s, br_dn *out) {
    *out = (br_dn){0};
    br_dn_rdn rdn = {0};
    sbuf buf = {0};
    char *type = NULL; /* NULL: Go's empty attribute.Type */
    bool escaping = false;
    size_t trailing = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (escaping) {
            trailing = 0;
            escaping = false;
            if (strchr(" \"#+,;<=>\\", c)) {
                sb_putn(&buf, &c, 1);
                continue;
            }
            if (i + 1 == len) goto fail; /* "got corrupted escaped character" */
            int h = hexval(c), l = hexval(s[i + 1]);
            if (h < 0 || l < 0) goto fail;
            char byte = (char)(h << 4 | l);
            sb_putn(&buf, &byte, 1);
            i++;
        } else if (c == '\\') {
            trailing = 0;
            escaping = true;
        } else if (c == '=') {
            free(type);
            type = take_value(&buf, &trailing);
            if (i + 1 < len && s[i + 1] == '#') goto fail; /* BER values unsupported */
        } else if (c == ',' || c == '+') {
            if (!type || !*type) goto fail; /* "incomplete type, value pair" */
            rdn_add(&rdn, type, take_value(&buf, &trailing));
            type = NULL;
            if (c == ',') {
                dn_add(out, rdn);
                rdn = (br_dn_rdn){0};
            }
        } else if (c == ' ' && buf.len == 0) {
            continue; /* unescaped leading spaces */
        } else {
            trailing = c == ' ' ? trailing + 1 : 0;
            sb_putn(&buf, &c, 1);
        }
    }
    if (buf.len > 0) {
        if (!type || !*type) goto fail;
        rdn_add(&rdn, type, take_value(&buf, &trailing));
        type = NULL;
        dn_add(out, rdn);
        rdn = (br_dn_rdn){0};
    }
    /* Go drops an RDN still being built when nothing follows its last separator. */
    for (size_t j = 0; j < rdn.n; j++) {
        free(rdn.atv[j].type);
        free(rdn.atv[j].value);
    }
    free(rdn.atv);
    free(type);
    free(buf.p);
    return 0;
fail:
    for (size_t j = 0; j < rdn.n; j++) {
        free(rdn.atv[j].type);
        free(rdn.atv[j].value);
    }
    free(rdn.atv);
    free(type);
    free(buf.p);
    br_dn_free(out);
    return -1;
}

static bool atv_equal(const br_dn_atv *a, const br_dn_atv *b) {
    return strcasecmp(a->type, b->type) == 0 && strcmp(a->value, b->value) == 0;
}

static bool rdn_has_all(const br_dn_rdn *r, const br_dn_rdn *attrs) {
    for (size_t i = 0; i < attrs->n; i++) {
        bool found = false;
        for (size_t j = 0; j < r->n && !found; j++)
            found = atv_equal(&r->atv[j], &attrs->atv[i]);
        if (!found) return false;
    }
    return true;
}

static bool rdn_equal(const br_dn_rdn *a, const br_dn_rdn *b) {
    return a->n == b->n && rdn_has_all(a, b) && rdn_has_all(b, a);
}

bool br_dn_equal(const br_dn *a, const br_dn *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (!rdn_equal(&a->rdns[i], &b->rdns[i])) return false;
    return true;
}

bool br_dn_rdns_match(const br_dn *a, const br_dn *b) {
    if (a->n != b->n) return false;
    bool *used = calloc(b->n + 1, sizeof *used);
    if (!used) abort();
    bool ok = true;
    for (size_t i = 0; i < a->n && ok; i++) {
        bool found = false;
        for (size_t j = 0; j < b->n && !found; j++) {
            if (!used[j] && rdn_equal(&a->rdns[i], &b->rdns[j])) used[j] = found = true;
        }
        ok = found;
    }
    free(used);
    return ok;
}

/* ---- certificate subjects --------------------------------------------------------------- */

/* The attribute types Go's ldap package knows (a subject with any other fails FromRawCertSubject).
 */
static const char *ldap_type_name(const char *oid) {
    static const struct {
        const char *oid, *name;
    } t[] = {
        {"2.5.4.3", "CN"},          {"2.5.4.5", "SERIALNUMBER"},
        {"2.5.4.6", "C"},           {"2.5.4.7", "L"},
        {"2.5.4.8", "ST"},          {"2.5.4.9", "STREET"},
        {"2.5.4.10", "O"},          {"2.5.4.11", "OU"},
        {"2.5.4.17", "POSTALCODE"}, {"0.9.2342.19200300.100.1.25", "DC"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].oid, oid) == 0) return t[i].name;
    return NULL;
}

/* The value as Go's encoding/asn1 gives it to an interface{}: a string for the string types,
 * NULL (not a string) otherwise.  malloc'd. */
static char *asn1_go_string(const ASN1_STRING *v) {
    switch (ASN1_STRING_type(v)) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_UTF8STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_NUMERICSTRING:
        return dupn((const char *)ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
    case V_ASN1_BMPSTRING: {
        unsigned char *u = NULL;
        int n = ASN1_STRING_to_UTF8(&u, v);
        if (n < 0) return NULL;
        char *s = dupn((const char *)u, (size_t)n);
        OPENSSL_free(u);
        return s;
    }
    default:
        return NULL;
    }
}

/* Go pkix's escaping of an attribute value in RDNSequence.String. */
static void put_escaped(sbuf *b, const char *v) {
    size_t n = strlen(v);
    for (size_t k = 0; k < n; k++) {
        char c = v[k];
        bool esc = strchr(",+\"\\<>;", c) != NULL;
        if (c == ' ') esc = k == 0 || k == n - 1;
        if (c == '#') esc = k == 0;
        if (esc) sb_putn(b, "\\", 1);
        sb_putn(b, &c, 1);
    }
}

/* Go pkix Name: the attributes kept in named fields, in ToRDNSequence's order. */
enum { F_C, F_ST, F_L, F_STREET, F_POSTAL, F_O, F_OU, F_CN, F_SERIAL, F_N };
static const struct {
    int nid;
    const char *name;
} named[F_N] = {
    [F_C] = {NID_countryName, "C"},
    [F_ST] = {NID_stateOrProvinceName, "ST"},
    [F_L] = {NID_localityName, "L"},
    [F_STREET] = {NID_streetAddress, "STREET"},
    [F_POSTAL] = {NID_postalCode, "POSTALCODE"},
    [F_O] = {NID_organizationName, "O"},
    [F_OU] = {NID_organizationalUnitName, "OU"},
    [F_CN] = {NID_commonName, "CN"},
    [F_SERIAL] = {NID_serialNumber, "SERIALNUMBER"},
};

static int named_field(int nid) {
    for (int f = 0; f < F_N; f++)
        if (named[f].nid == nid) return f;
    return -1;
}

/* Go cert.Subject.ToRDNSequence().String(), whether cert.Subject.String() is non-empty, and
 * getTLSAuthDCs. */
static void subject_strings(const X509_NAME *nm, br_cert_ident *id) {
    int cnt = X509_NAME_entry_count(nm);
    sbuf out = {0}, dcs = {0};
    bool extra = false;
    /* Walk the fields from the last (String reverses the sequence); within a multi-valued
     * field the values keep their order. */
    for (int f = F_N - 1; f >= 0; f--) {
        bool single = f == F_CN || f == F_SERIAL, any = false;
        char *last = NULL;
        sbuf part = {0};
        for (int i = 0; i < cnt; i++) {
            const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
            if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != named[f].nid) continue;
            char *v = asn1_go_string(X509_NAME_ENTRY_get_data(e));
            if (!v) continue;
            if (single) {
                free(last);
                last = v;
                continue;
            }
            if (any) sb_putn(&part, "+", 1);
            sb_puts(&part, named[f].name);
            sb_putn(&part, "=", 1);
            put_escaped(&part, v);
            any = true;
            free(v);
        }
        if (single && last && *last) {
            sb_puts(&part, named[f].name);
            sb_putn(&part, "=", 1);
            put_escaped(&part, last);
            any = true;
        }
        free(last);
        if (any) {
            if (out.len) sb_putn(&out, ",", 1);
            sb_putn(&out, part.p, part.len);
        }
        free(part.p);
    }
    for (int i = 0; i < cnt; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (named_field(nid) < 0) extra = true;
        if (nid != NID_domainComponent) continue;
        char *v = asn1_go_string(X509_NAME_ENTRY_get_data(e));
        if (!v) continue;
        if (dcs.len) sb_putn(&dcs, ",", 1);
        sb_puts(&dcs, "DC=");
        sb_puts(&dcs, v);
        free(v);
    }
    id->rdn = sb_take(&out);
    id->dcs = sb_take(&dcs);
    id->has_subject = extra || id->rdn[0];
}

/* Go ldap.FromRawCertSubject: RDNs last first, the values of a multi-valued RDN last first. */
static bool subject_dn(const X509_NAME *nm, br_dn *dn) {
    *dn = (br_dn){0};
    int cnt = X509_NAME_entry_count(nm);
    int i = cnt - 1;
    while (i >= 0) {
        int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(nm, i));
        br_dn_rdn rdn = {0};
        for (; i >= 0; i--) {
            const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
            if (X509_NAME_ENTRY_set(e) != set) break;
            char oid[80];
            OBJ_obj2txt(oid, sizeof oid, X509_NAME_ENTRY_get_object(e), 1);
            const char *tn = ldap_type_name(oid);
            char *v = tn ? asn1_go_string(X509_NAME_ENTRY_get_data(e)) : NULL;
            if (!v) {
                dn_add(dn, rdn);
                br_dn_free(dn);
                return false;
            }
            rdn_add(&rdn, dupn(tn, strlen(tn)), v);
        }
        dn_add(dn, rdn);
    }
    return true;
}

/* A value with an embedded NUL: Go compares the whole string, so it never equals a configured
 * user name; copied into a C string it would (cut at the NUL).  Such values map to nobody. */
static bool has_nul(const ASN1_STRING *v) {
    return memchr(ASN1_STRING_get0_data(v), 0, (size_t)ASN1_STRING_length(v)) != NULL;
}

static bool subject_has_nul(const X509_NAME *nm) {
    for (int i = 0; i < X509_NAME_entry_count(nm); i++)
        if (has_nul(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)))) return true;
    return false;
}

static void add_str(char ***arr, size_t *n, const ASN1_IA5STRING *s) {
    if (has_nul(s)) return;
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) abort();
    *arr = na;
    na[(*n)++] = dupn((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

int br_cert_ident_from_x509(X509 *x, br_cert_ident *id) {
    *id = (br_cert_ident){0};
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_EMAIL) add_str(&id->emails, &id->nemails, g->d.rfc822Name);
        if (g->type == GEN_DNS) add_str(&id->dns, &id->ndns, g->d.dNSName);
        if (g->type == GEN_URI) add_str(&id->uris, &id->nuris, g->d.uniformResourceIdentifier);
    }
    GENERAL_NAMES_free(gens);
    const X509_NAME *nm = X509_get_subject_name(x);
    if (subject_has_nul(nm)) { /* no subject mapping at all: dropping the value could match */
        id->rdn = dupn("", 0);
        id->dcs = dupn("", 0);
        return 0;
    }
    subject_strings(nm, id);
    id->dn_ok = subject_dn(nm, &id->dn);
    return 0;
}

static void free_strs(char **a, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void br_cert_ident_free(br_cert_ident *id) {
    free_strs(id->emails, id->nemails);
    free_strs(id->dns, id->ndns);
    free_strs(id->uris, id->nuris);
    br_dn_free(&id->dn);
    free(id->rdn);
    free(id->dcs);
    memset(id, 0, sizeof *id);
}

/* ---- the mapping ------------------------------------------------------------------------ */

static void note_q(char *note, size_t cap, const char *fmt_head, const char *s) {
    char q[700];
    br_go_quote(q, sizeof q, s, strlen(s));
    snprintf(note, cap, "%s [%s]", fmt_head, q);
}

static bool try_list(char **names, size_t n, br_tls_map_fn fn, void *ctx, const char *what,
                     char *note, size_t cap) {
    for (size_t i = 0; i < n; i++) {
        const char *m = fn(ctx, names[i], NULL);
        if (m) {
            char head[64];
            snprintf(head, sizeof head, "Using %s found in cert for auth", what);
            note_q(note, cap, head, m);
            return true;
        }
    }
    return false;
}

bool br_tls_map_subject(const br_cert_ident *id, br_tls_map_fn fn, void *ctx, char *note,
                        size_t cap) {
    if (!id) {
        snprintf(note, cap, "User required in cert, no peer certificates found");
        return false;
    }
    if (!id->nemails && !id->ndns && !id->has_subject && !id->nuris) {
        snprintf(note, cap, "User required in cert, none found");
        return false;
    }
    if (try_list(id->emails, id->nemails, fn, ctx, "email", note, cap) ||
        try_list(id->dns, id->ndns, fn, ctx, "SAN", note, cap) ||
        try_list(id->uris, id->nuris, fn, ctx, "URI", note, cap))
        return true;
    const char *m;
    if (id->dn_ok) {
        if ((m = fn(ctx, NULL, &id->dn))) {
            note_q(note, cap, "Using DistinguishedNameMatch for auth", m);
            return true;
        }
    }
    if (id->dcs[0]) {
        size_t n = strlen(id->rdn) + 1 + strlen(id->dcs) + 1;
        char *u = malloc(n);
        if (!u) abort();
        snprintf(u, n, "%s,%s", id->rdn, id->dcs);
        m = fn(ctx, u, NULL);
        if (m) note_q(note, cap, "Using RDNSequence for auth", m);
        free(u);
        if (m) return true;
    }
    if ((m = fn(ctx, id->rdn, NULL))) {
        note_q(note, cap, "Using certificate subject for auth", m);
        return true;
    }
    char q[700];
    br_go_quote(q, sizeof q, id->rdn, strlen(id->rdn));
    snprintf(note, cap, "User in cert [%s], not found", q);
    return false;
}
