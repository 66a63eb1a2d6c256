/* Unit tests of broker/tls_map.c: Go nats-server v2.14.5 internal/ldap/dn_test.go (ParseDN,
 * DN.Equal, DN.RDNsMatch) and the certificate subject strings of server/auth.go
 * checkClientTLSCertSubject (Go pkix's RDN string, the domain components, the raw DN). */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "broker/tls_map.h"
#include "common/gotest.h"

static br_dn parse_ok(const char *s) {
    br_dn d;
    cr_assert_eq(br_dn_parse(s, &d), 0, "parse %s", s);
    return d;
}

/* "type=value" pairs of each RDN joined with '+', RDNs with '|'. */
static void flat(const br_dn *d, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->rdns[i].n; j++)
            n += (size_t)snprintf(out + n, cap - n, "%s%s=%s",
                                  j   ? "+"
                                  : i ? "|"
                                      : "",
                                  d->rdns[i].atv[j].type, d->rdns[i].atv[j].value);
    }
}

static void expect_parse(const char *s, const char *want) {
    br_dn d = parse_ok(s);
    char got[512];
    flat(&d, got, sizeof got);
    cr_assert_str_eq(got, want, "ParseDN(%s)", s);
    br_dn_free(&d);
}

Test(tls_map_unit, dn_parsing) {
    GO_TEST("internal/ldap/dn_test.go", "TestSuccessfulDNParsing");
    expect_parse("", "");
    expect_parse("cn=Jim\\2C \\22Hasse H\xc3\xb6\\22 Hansson!,dc=dummy,dc=com",
                 "cn=Jim, \"Hasse H\xc3\xb6\" Hansson!|dc=dummy|dc=com");
    expect_parse("UID=jsmith,DC=example,DC=net", "UID=jsmith|DC=example|DC=net");
    expect_parse("OU=Sales+CN=J. Smith,DC=example,DC=net",
                 "OU=Sales+CN=J. Smith|DC=example|DC=net");
    expect_parse("CN=Lu\\C4\\8Di\\C4\\87", "CN=Lu\xc4\x8di\xc4\x87");
    expect_parse("  CN  =  Lu\\C4\\8Di\\C4\\87  ", "CN=Lu\xc4\x8di\xc4\x87");
    expect_parse("   A   =   1   ,   B   =   2   ", "A=1|B=2");
    expect_parse("   A   =   1   +   B   =   2   ", "A=1+B=2");
    expect_parse("   \\ \\ A\\ \\    =   \\ \\ 1\\ \\    ,   \\ \\ B\\ \\    =   \\ \\ 2\\ \\    ",
                 "  A  =  1  |  B  =  2  ");
    expect_parse("   \\ \\ A\\ \\    =   \\ \\ 1\\ \\    +   \\ \\ B\\ \\    =   \\ \\ 2\\ \\    ",
                 "  A  =  1  +  B  =  2  ");
}

Test(tls_map_unit, dn_parse_errors) {
    GO_TEST_PARTIAL("internal/ldap/dn_test.go", "TestErrorDNParsing",
                    "the inputs fail; Go's error texts are not kept (never shown to anyone)");
    const char *bad[] = {"*",
                         "cn=Jim\\0Test",
                         "cn=Jim\\0",
                         "DC=example,=net",
                         "test,DC=example,DC=com",
                         "=test,DC=example,DC=com",
                         "1=#0402486",
                         "derek@nats.io",
                         "spiffe://localhost/my-nats-service/user-a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        br_dn d;
        cr_assert_eq(br_dn_parse(bad[i], &d), -1, "%s must not parse", bad[i]);
    }
}

static bool eq(const char *a, const char *b) {
    br_dn x = parse_ok(a), y = parse_ok(b);
    bool r = br_dn_equal(&x, &y);
    cr_assert_eq(r, br_dn_equal(&y, &x), "Equal is symmetric");
    br_dn_free(&x);
    br_dn_free(&y);
    return r;
}

Test(tls_map_unit, dn_equal) {
    GO_TEST("internal/ldap/dn_test.go", "TestDNEqual");
    cr_assert(eq("", ""));
    cr_assert(eq("o=A", "o=A"));
    cr_assert(!eq("o=A", "o=B"));
    cr_assert(eq("o=A,o=B", "o=A,o=B"));
    cr_assert(!eq("o=A,o=B", "o=A,o=C"));
    cr_assert(eq("o=A+o=B", "o=A+o=B"));
    cr_assert(!eq("o=A+o=B", "o=A+o=C"));
    cr_assert(eq("o=A", "O=A"));
    cr_assert(eq("o=A,o=B", "o=A,O=B"));
    cr_assert(eq("o=A+o=B", "o=A+O=B"));
    cr_assert(!eq("o=a", "O=A"));
    cr_assert(!eq("o=a,o=B", "o=A,O=B"));
    cr_assert(!eq("o=a+o=B", "o=A+O=B"));
    cr_assert(eq("o=A+o=B", "O=B+o=A"));
    cr_assert(!eq("o=A+o=B", "O=B+o=A+O=B"));
    cr_assert(!eq("o=A+o=B", "O=B+o=A+O=C"));
    cr_assert(!eq("o=A+o=B+o=C", "O=B+o=A"));
    cr_assert(eq("cn=John Doe, ou=People, dc=sun.com", "cn=John Doe, ou=People, dc=sun.com"));
    cr_assert(eq("cn=John Doe, ou=People, dc=sun.com", "cn=John Doe,ou=People,dc=sun.com"));
    cr_assert(!eq("cn=John Doe, ou=People, dc=sun.com", "cn=John  Doe, ou=People, dc=sun.com"));
    /* Reordered RDNs are not equal, but match. */
    br_dn x = parse_ok("CN=a,O=b,DC=c"), y = parse_ok("DC=c,CN=a,O=b");
    cr_assert(!br_dn_equal(&x, &y));
    cr_assert(br_dn_rdns_match(&x, &y));
    br_dn_free(&x);
    br_dn_free(&y);
}

Test(tls_map_unit, dn_reordered_duplicates) {
    GO_TEST("internal/ldap/dn_test.go", "TestDNReverseMatchDuplicates");
    br_dn a = parse_ok("CN=Alice,CN=Alice,O=NATS"), b = parse_ok("CN=Alice,O=NATS,OU=Users");
    cr_assert(!br_dn_rdns_match(&a, &b));
    br_dn_free(&a);
    br_dn_free(&b);
}

/* A certificate whose subject has the given entries, in order (OpenSSL's set: 0 a new RDN,
 * -1 into the previous one). */
typedef struct ent {
    const char *type, *value;
    int set;
} ent;

static X509 *cert_with(const ent *e, size_t n, const char *san) {
    X509 *x = X509_new();
    X509_NAME *nm = X509_get_subject_name(x);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(X509_NAME_add_entry_by_txt(nm, e[i].type, MBSTRING_UTF8,
                                                (const unsigned char *)e[i].value, -1, -1,
                                                e[i].set),
                     1);
    if (san) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        cr_assert_not_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    return x;
}

Test(tls_map_unit, certificate_subject_strings) {
    ent rdna[] = {{"C", "US", 0},    {"ST", "CA", 0},   {"L", "Los Angeles", 0},
                  {"O", "NATS", 0},  {"OU", "NATS", 0}, {"CN", "localhost", 0},
                  {"DC", "foo1", 0}, {"DC", "foo2", 0}};
    X509 *x = cert_with(rdna, 8, "DNS:localhost,email:a@b.c,URI:spiffe://x/y");
    br_cert_ident id;
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    cr_assert_str_eq(id.rdn, "CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US");
    cr_assert_str_eq(id.dcs, "DC=foo1,DC=foo2");
    cr_assert(id.dn_ok && id.has_subject);
    br_dn want = parse_ok("DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US");
    cr_assert(br_dn_equal(&want, &id.dn));
    br_dn_free(&want);
    cr_assert_eq(id.ndns, 1);
    cr_assert_str_eq(id.dns[0], "localhost");
    cr_assert_eq(id.nemails, 1);
    cr_assert_str_eq(id.emails[0], "a@b.c");
    cr_assert_eq(id.nuris, 1);
    cr_assert_str_eq(id.uris[0], "spiffe://x/y");
    br_cert_ident_free(&id);
    X509_free(x);

    /* Go pkix: the last CN wins, values of one type share an RDN, escaping. */
    ent multi[] = {{"CN", "John Doe", 0}, {"CN", "123456", 0},        {"CN", "#jdoe, x ", 0},
                   {"OU", "Users", 0},    {"OU", "Organic Units", 0}, {"DC", "acme", 0}};
    x = cert_with(multi, 6, NULL);
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    cr_assert_str_eq(id.rdn, "CN=\\#jdoe\\, x\\ ,OU=Users+OU=Organic Units");
    cr_assert_str_eq(id.dcs, "DC=acme");
    br_cert_ident_free(&id);
    X509_free(x);

    /* A multi-valued RDN reverses its values in the DN; an unknown type fails the DN. */
    ent mv[] = {{"DC", "org", 0}, {"DC", "DEV", 0}, {"O", "users", -1}, {"CN", "John Doe", 0}};
    x = cert_with(mv, 4, NULL);
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    want = parse_ok("CN=John Doe,O=users+DC=DEV,DC=org");
    cr_assert(id.dn_ok && br_dn_equal(&want, &id.dn));
    cr_assert_str_eq(id.dn.rdns[1].atv[0].type, "O", "values of the RDN last first");
    br_dn_free(&want);
    br_cert_ident_free(&id);
    X509_free(x);
    ent unknown[] = {{"CN", "bob", 0}, {"emailAddress", "bob@nats.io", 0}};
    x = cert_with(unknown, 2, NULL);
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    cr_assert(!id.dn_ok);
    cr_assert_str_eq(id.rdn, "CN=bob");
    cr_assert(id.has_subject);
    br_cert_ident_free(&id);
    X509_free(x);
}

static const char *lookup(void *ctx, const char *u, const br_dn *dn) {
    (void)dn;
    return u && !strcmp(u, ctx) ? u : NULL;
}

Test(tls_map_unit, mapping_order_and_notes) {
    ent e[] = {{"CN", "www.nats.io", 0}};
    X509 *x = cert_with(e, 1, "DNS:app.nats.dev,email:root@app.nats.dev");
    br_cert_ident id;
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    char note[320];
    cr_assert(br_tls_map_subject(&id, lookup, (void *)"app.nats.dev", note, sizeof note));
    cr_assert_str_eq(note, "Using SAN found in cert for auth [\"app.nats.dev\"]");
    cr_assert(br_tls_map_subject(&id, lookup, (void *)"root@app.nats.dev", note, sizeof note));
    cr_assert_str_eq(note, "Using email found in cert for auth [\"root@app.nats.dev\"]");
    cr_assert(br_tls_map_subject(&id, lookup, (void *)"CN=www.nats.io", note, sizeof note));
    cr_assert_str_eq(note, "Using certificate subject for auth [\"CN=www.nats.io\"]");
    cr_assert(!br_tls_map_subject(&id, lookup, (void *)"nobody", note, sizeof note));
    cr_assert_str_eq(note, "User in cert [\"CN=www.nats.io\"], not found");
    cr_assert(!br_tls_map_subject(NULL, lookup, (void *)"nobody", note, sizeof note));
    br_cert_ident_free(&id);
    X509_free(x);
}

/* A name with an embedded NUL (a CA signed "alice\0.evil.com") must not map to "alice": such
 * SAN values are dropped and a subject holding one maps to nobody. */
Test(tls_map_unit, embedded_nul_maps_to_nobody) {
    X509 *x = X509_new();
    X509_NAME *nm = X509_get_subject_name(x);
    static const unsigned char cn[] = {'a', 'l', 'i', 'c', 'e', 0, 'x'};
    cr_assert_eq(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, cn, (int)sizeof cn, -1, 0), 1);
    cr_assert_eq(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"corp",
                                            -1, -1, 0),
                 1);
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    static const char email[] = "alice\0.evil.com";
    ASN1_STRING_set(ia5, email, (int)sizeof email - 1);
    GENERAL_NAME_set0_value(g, GEN_EMAIL, ia5);
    sk_GENERAL_NAME_push(gens, g);
    cr_assert_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
    GENERAL_NAMES_free(gens);
    br_cert_ident id;
    cr_assert_eq(br_cert_ident_from_x509(x, &id), 0);
    cr_assert_eq(id.nemails, 0, "a SAN with a NUL must not be kept");
    cr_assert_str_eq(id.rdn, "", "no RDN string without the NUL value: it could match \"O=corp\"");
    cr_assert_not(id.dn_ok);
    cr_assert_not(id.has_subject);
    br_cert_ident_free(&id);
    X509_free(x);
}
