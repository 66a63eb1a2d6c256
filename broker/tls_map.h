/* TLS `verify_and_map`: the identities a client certificate offers, and the rules that turn
 * them into a configured user.
 *
 * Ports Go nats-server v2.14.5 server/auth.go checkClientTLSCertSubject and getTLSAuthDCs,
 * internal/ldap/dn.go (ParseDN, FromRawCertSubject, DN.Equal, DN.RDNsMatch) and the parts of
 * Go's crypto/x509/pkix the mapping reads (Name.ToRDNSequence().String(), Name.String()).
 *
 * Order (Go's): e-mail SANs, DNS SANs, URI SANs, each tried literally as a user name; then the
 * subject as a DN (the callback compares it with every user name that parses as a DN, exactly
 * first, then RDNs in any order); then Go's RDN string with the domain components appended,
 * then Go's RDN string alone.  A br_cert_ident is extracted once from the peer certificate and
 * read only afterwards, so it may be used on any thread.
 */
#ifndef BR_TLS_MAP_H
#define BR_TLS_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

/* Go ldap.AttributeTypeAndValue / RelativeDN / DN. */
typedef struct br_dn_atv {
    char *type;
    char *value;
} br_dn_atv;

typedef struct br_dn_rdn {
    br_dn_atv *atv;
    size_t n;
} br_dn_rdn;

typedef struct br_dn {
    br_dn_rdn *rdns;
    size_t n;
} br_dn;

/* Go ldap.ParseDN (RFC 4514 with Go's leniencies: spaces after ',' skipped, unescaped
 * trailing spaces dropped, "\xx" hex escapes).  0, or -1 when the text is not a DN (for
 * example a name without '=' such as "derek@nats.io"). */
int br_dn_parse(const char *s, br_dn *out);
void br_dn_free(br_dn *d);
/* Go DN.Equal: same RDNs in the same order (an RDN's attributes in any order, types compared
 * without case, values exactly). */
bool br_dn_equal(const br_dn *a, const br_dn *b);
/* Go DN.RDNsMatch: the same RDNs in any order. */
bool br_dn_rdns_match(const br_dn *a, const br_dn *b);

typedef struct br_cert_ident {
    char **emails; /* SAN rfc822Name */
    size_t nemails;
    char **dns; /* SAN dNSName */
    size_t ndns;
    char **uris; /* SAN uniformResourceIdentifier */
    size_t nuris;
    bool has_subject; /* Go len(cert.Subject.String()) > 0 */
    bool dn_ok;       /* Go ldap.FromRawCertSubject succeeded (known types, string values) */
    br_dn dn;
    char *rdn; /* Go cert.Subject.ToRDNSequence().String() */
    char *dcs; /* Go getTLSAuthDCs: "DC=a,DC=b" in certificate order, "" when none */
} br_cert_ident;

/* The identities of a certificate; 0 or -1 (out of memory). */
int br_cert_ident_from_x509(X509 *x, br_cert_ident *out);
void br_cert_ident_free(br_cert_ident *id);

/* Go tlsMapAuthFn: u is a literal name (dn NULL) or NULL with the certificate's DN.  Returns
 * the selected user's name (the callback remembers the user), or NULL. */
typedef const char *(*br_tls_map_fn)(void *ctx, const char *u, const br_dn *dn);

/* Go checkClientTLSCertSubject.  id NULL: no peer certificate.  note receives Go's last debug
 * line ("Using SAN found in cert for auth [\"app.nats.dev\"]", "User in cert [\"CN=x\"], not
 * found", ...). */
bool br_tls_map_subject(const br_cert_ident *id, br_tls_map_fn fn, void *ctx, char *note,
                        size_t notecap);

#endif
