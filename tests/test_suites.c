/* The one cipher suite policy (doc/architecture.md, "Cipher suites"),
 * proven from outside on the flavour under test:
 *  - every server accepts exactly the documented suites of its credentials
 *    (PSK, an ECDSA certificate, an RSA certificate, PSK and ECDSA):
 *    offered every IANA code point one at a time in a hand-built
 *    ClientHello, through the stateless cookie exchange, over the memory
 *    transport; a ClientHello of DTLS 1.0 is refused;
 *  - every client lists exactly the documented suites of its credentials,
 *    in the documented order, and exactly the policy's groups in its
 *    supported_groups, in the policy's order;
 *  - a server picks by the documented order, whatever the client's order:
 *    a certificate server facing a PSK suite listed first, a PSK server
 *    facing certificate suites listed first. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The documented policy, written out here and not read from the library. */
#define ECDSA_SUITES 0xC02B, 0xC02C, 0xCCA9
#define RSA_SUITES 0xC02F, 0xC030, 0xCCA8
#define PSK_SUITES 0xCCAC, 0xCCAB
static const uint16_t policy[] = {ECDSA_SUITES, RSA_SUITES, PSK_SUITES};
/* X25519, P-256, P-384 (common/policy.c). */
static const uint16_t policy_groups[] = {0x001D, 0x0017, 0x0018};

/* A declared difference, of clients only: GnuTLS enables suites as key
 * exchange x cipher, so a GnuTLS client with both PSK and certificates
 * also lists PSK with AES-GCM (which the policy lacks for wolfSSL's sake).
 * Its servers take exactly the policy's suites (the hand-over rule bars
 * the certificate key exchanges when a PSK suite is to be chosen). */
static bool gnutls_flavour(void)
{
    return strcmp(anydtls_backend_name(), "gnutls") == 0;
}

#define REC_HDR 13
#define HS_HDR 12
#define MAX_SUITES 512

struct suite_list {
    uint16_t v[MAX_SUITES];
    size_t n;
};

static void list_set(struct suite_list *l, const uint16_t *v, size_t n)
{
    if (n > 0)
        memcpy(l->v, v, n * sizeof v[0]);
    l->n = n;
}

static void list_add(struct suite_list *l, uint16_t v)
{
    if (l->n < MAX_SUITES)
        l->v[l->n++] = v;
}

static bool list_equal(const struct suite_list *a, const struct suite_list *b)
{
    return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof a->v[0]) == 0;
}

static void list_diag(const char *what, const struct suite_list *l)
{
    char buf[4096] = "";
    size_t at = 0;
    for (size_t i = 0; i < l->n && at + 8 < sizeof buf; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, " %04X", l->v[i]);
    tap_diag("%s:%s", what, l->n > 0 ? buf : " none");
}

/* Every assigned code point of the IANA TLS cipher suite registry, less
 * the signalling values (0x00FF, 0x5600): TLS 1.3's too, which a DTLS 1.2
 * server must refuse. */
static void all_iana(struct suite_list *l)
{
    static const uint16_t ranges[][2] = {{0x0000, 0x00C7}, {0x1301, 0x1305}, {0xC001, 0xC0B5},
                                         {0xC100, 0xC107}, {0xCCA8, 0xCCAE}, {0xD001, 0xD005}};
    l->n = 0;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (unsigned v = ranges[r][0]; v <= ranges[r][1]; v++)
            list_add(l, (uint16_t)v);
}

/* ---------------- hand-built ClientHellos ---------------- */

static size_t put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    return 1 + put16(p + 1, (unsigned)v);
}

/* What every ECDHE suite needs: P-256 and X25519, uncompressed points,
 * ECDSA and RSA signatures; and the extended master secret and RFC 5746
 * renegotiation_info that real clients send. */
static const uint8_t extensions[] = {
    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x1d,             /* groups */
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                                     /* points */
    0x00, 0x0d, 0x00, 0x0e, 0x00, 0x0c, 0x04, 0x03, 0x05, 0x03, 0x08, 0x04, /* sigalgs */
    0x08, 0x05, 0x04, 0x01, 0x05, 0x01,                                     /* ...     */
    0x00, 0x17, 0x00, 0x00,                                                 /* EMS     */
    0xff, 0x01, 0x00, 0x01, 0x00,                                           /* reneg   */
};

/* A ClientHello datagram of the given version offering suites, with
 * cookie (cookie_len bytes, maybe 0), as record and message seq. */
static size_t build_hello(uint8_t *out, unsigned version, const uint16_t *suites, size_t n,
                          const uint8_t *cookie, size_t cookie_len, unsigned seq)
{
    uint8_t *b = out + REC_HDR + HS_HDR;
    size_t at = put16(b, version);
    memset(b + at, 0x5a, 32); /* random */
    at += 32;
    b[at++] = 0; /* session id */
    b[at++] = (uint8_t)cookie_len;
    if (cookie_len > 0)
        memcpy(b + at, cookie, cookie_len);
    at += cookie_len;
    at += put16(b + at, (unsigned)(2 * n));
    for (size_t i = 0; i < n; i++)
        at += put16(b + at, suites[i]);
    b[at++] = 1; /* compression: null */
    b[at++] = 0;
    at += put16(b + at, sizeof extensions);
    memcpy(b + at, extensions, sizeof extensions);
    at += sizeof extensions;
    uint8_t *h = out + REC_HDR;
    h[0] = 1; /* client_hello */
    put24(h + 1, at);
    put16(h + 4, seq);
    put24(h + 6, 0);
    put24(h + 9, at);
    memset(out, 0, REC_HDR);
    out[0] = 22;
    put16(out + 1, 0xFEFF);
    out[10] = (uint8_t)seq;
    put16(out + 11, (unsigned)(HS_HDR + at));
    return REC_HDR + HS_HDR + at;
}

/* The suite of the ServerHello in a datagram, or -1. */
static int server_hello_suite(const uint8_t *d, size_t len)
{
    for (size_t at = 0; at + REC_HDR <= len;) {
        size_t rlen = (size_t)d[at + 11] << 8 | d[at + 12];
        const uint8_t *m = d + at + REC_HDR;
        if (at + REC_HDR + rlen > len)
            break;
        if (d[at] == 22 && d[at + 3] == 0 && d[at + 4] == 0 && rlen >= HS_HDR + 38 && m[0] == 2) {
            const uint8_t *body = m + HS_HDR;
            size_t sid = body[34];
            if (HS_HDR + 35 + sid + 2 <= rlen)
                return body[35 + sid] << 8 | body[36 + sid];
        }
        at += REC_HDR + rlen;
    }
    return -1;
}

static const anydtls_addr peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};

/* Offer suites to a server of cfg, as a real client would: a ClientHello,
 * the HelloVerifyRequest, the ClientHello with its cookie, then a session
 * for it.  The suite of the server's ServerHello, or -1 (refused). */
static int offer(anydtls_config *cfg, unsigned version, const uint16_t *suites, size_t n)
{
    uint8_t d[2048], reply[ANYDTLS_HVR_MAX], out[4096];
    size_t rlen = 0, len = build_hello(d, version, suites, n, NULL, 0, 0);
    anydtls_prestate ps;
    if (anydtls_cookie_check(cfg, d, len, &peer, reply, sizeof reply, &rlen, &ps) !=
            ANYDTLS_COOKIE_SEND_HVR ||
        rlen < 28 || rlen < 28u + reply[27])
        return -1;
    len = build_hello(d, version, suites, n, reply + 28, reply[27], 1);
    if (anydtls_cookie_check(cfg, d, len, &peer, reply, sizeof reply, &rlen, &ps) !=
        ANYDTLS_COOKIE_VERIFIED)
        return -1;
    anydtls_transport *t;
    anydtls_session *s;
    CHECK(anydtls_transport_new_memory(&t, 0));
    CHECK(anydtls_session_accept(&s, cfg, t, &ps));
    (void)anydtls_handshake(s);
    int suite = -1, got;
    while (suite < 0 && (got = anydtls_memory_pop(t, out, sizeof out)) > 0)
        suite = server_hello_suite(out, (size_t)got);
    anydtls_session_free(s);
    anydtls_transport_free(t);
    return suite;
}

/* ---------------- servers ---------------- */

static anydtls_config *server_mixed_config(void)
{
    anydtls_config *cfg = server_psk_config();
    CHECK(anydtls_config_set_cert_file(cfg, pki("server.pem"), pki("server.key")));
    return cfg;
}

struct server_case {
    const char *what;
    anydtls_config *(*make)(void);
    uint16_t first; /* the suite it picks from the whole policy reversed */
};

static anydtls_config *server_ecdsa(void)
{
    return server_cert_config("server.pem", "server.key");
}

static anydtls_config *server_rsa(void)
{
    return server_cert_config("server-rsa.pem", "server-rsa.key");
}

static void expected_accepts(const char *what, struct suite_list *want)
{
    static const uint16_t psk[] = {PSK_SUITES}, ecdsa[] = {ECDSA_SUITES}, rsa[] = {RSA_SUITES};
    static const uint16_t mixed[] = {ECDSA_SUITES, PSK_SUITES};
    if (strcmp(what, "PSK") == 0)
        list_set(want, psk, sizeof psk / sizeof psk[0]);
    else if (strcmp(what, "ECDSA certificate") == 0)
        list_set(want, ecdsa, sizeof ecdsa / sizeof ecdsa[0]);
    else if (strcmp(what, "RSA certificate") == 0)
        list_set(want, rsa, sizeof rsa / sizeof rsa[0]);
    else
        list_set(want, mixed, sizeof mixed / sizeof mixed[0]);
}

/* Accepted, in the order of the code points (which is how they were
 * offered), against the documented set sorted the same way. */
static int cmp16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void test_server_accepts(const struct server_case *c, anydtls_config *cfg)
{
    struct suite_list all, got = {.n = 0}, want;
    all_iana(&all);
    for (size_t i = 0; i < all.n; i++)
        if (offer(cfg, 0xFEFD, &all.v[i], 1) == all.v[i])
            list_add(&got, all.v[i]);
    expected_accepts(c->what, &want);
    qsort(want.v, want.n, sizeof want.v[0], cmp16);
    if (!ok(list_equal(&got, &want),
            "%s server: of %zu IANA suites offered one at a time, accepts exactly the %zu "
            "documented",
            c->what, all.n, want.n)) {
        list_diag("accepted", &got);
        list_diag("documented", &want);
    }
}

static void test_server_dtls10(const struct server_case *c, anydtls_config *cfg)
{
    int suite = offer(cfg, 0xFEFF, policy, sizeof policy / sizeof policy[0]);
    if (!ok(suite < 0, "%s server: a DTLS 1.0 ClientHello offering the policy's suites is refused",
            c->what))
        tap_diag("ServerHello with %04X", (unsigned)suite);
}

/* One result: the server picked want (printed in hex, not as a code). */
static void picked(int got, uint16_t want, const char *what)
{
    if (!ok(got == want, "%s: picks %04X", what, want))
        tap_diag(got < 0 ? "no ServerHello" : "picked %04X", (unsigned)got);
}

static void test_server_order(const struct server_case *c, anydtls_config *cfg)
{
    uint16_t rev[sizeof policy / sizeof policy[0]];
    size_t n = sizeof policy / sizeof policy[0];
    for (size_t i = 0; i < n; i++)
        rev[i] = policy[n - 1 - i];
    char what[128];
    snprintf(what, sizeof what, "%s server: offered the policy in reverse, its first suite",
             c->what);
    picked(offer(cfg, 0xFEFD, rev, n), c->first, what);
}

/* Items 5 and 16 of issue 12: suites the server has no credentials for,
 * listed first, are passed over. */
static void test_server_passes_over(void)
{
    anydtls_config *cert = server_ecdsa(), *psk = server_psk_config();
    static const uint16_t psk_first[] = {0xCCAB, 0xCCAC, 0x00A8, 0xC02B};
    static const uint16_t cert_first[] = {0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xCCAB};
    picked(offer(cert, 0xFEFD, psk_first, 4), 0xC02B,
           "certificate server, a client listing PSK suites first: the certificate suite");
    picked(offer(psk, 0xFEFD, cert_first, 5), 0xCCAB,
           "PSK server, a client listing certificate suites first: the PSK suite");
    anydtls_config_free(cert);
    anydtls_config_free(psk);
}

/* A server with both a PSK and an ECDSA certificate whose client leaves it
 * only PSK suites takes the policy's PSK suite, never PSK with AES-GCM
 * (GnuTLS did, and took a hello offering nothing else). */
static void test_mixed_server_psk_choice(void)
{
    anydtls_config *mixed = server_mixed_config();
    static const uint16_t aes_first[] = {0x00A8, 0x00A9, 0xCCAB};
    static const uint16_t rsa_only[] = {0xC02F, 0x00A8, 0xCCAB};
    static const uint16_t aes_only[] = {0x00A8, 0x00A9};
    picked(offer(mixed, 0xFEFD, aes_first, 3), 0xCCAB,
           "PSK and ECDSA server, a client listing PSK with AES-GCM first: the policy's PSK suite");
    picked(offer(mixed, 0xFEFD, rsa_only, 3), 0xCCAB,
           "PSK and ECDSA server, a client offering ECDHE-RSA and PSK: the policy's PSK suite");
    int got = offer(mixed, 0xFEFD, aes_only, 2);
    if (!ok(got < 0, "PSK and ECDSA server, a client offering only PSK with AES-GCM: refused"))
        tap_diag("ServerHello with %04X", (unsigned)got);
    anydtls_config_free(mixed);
}

/* ---------------- clients ---------------- */

/* A declared difference: wolfSSL before 5.7 takes an X25519 share in an
 * ECDHE-PSK ServerKeyExchange for a NIST point, so its client with a PSK
 * offers P-256 and P-384 only (doc/architecture.md 9.4). */
static bool nist_only_with_psk(void)
{
    int major = 0, minor = 0;
    return strcmp(anydtls_backend_name(), "wolfssl") == 0 &&
           sscanf(anydtls_backend_version(), "%d.%d", &major, &minor) == 2 &&
           (major < 5 || (major == 5 && minor < 7));
}

/* The groups of the supported_groups extension of the ClientHello in
 * d[0..n) (none when it has no such extension). */
static void hello_groups(const uint8_t *d, size_t n, struct suite_list *l)
{
    l->n = 0;
    if (n < REC_HDR + HS_HDR + 35 || d[0] != 22 || d[REC_HDR] != 1)
        return;
    const uint8_t *b = d + REC_HDR + HS_HDR, *end = d + n;
    /* session id, cookie, cipher suites, compression: each its length's
     * width (1 or 2 bytes) and as many bytes; then the extensions' length. */
    static const int width[] = {1, 1, 2, 1};
    size_t at = 34;
    for (size_t k = 0; k < sizeof width / sizeof width[0]; k++) {
        if (b + at + 2 > end)
            return;
        at += (size_t)width[k] + (width[k] == 1 ? b[at] : ((size_t)b[at] << 8 | b[at + 1]));
    }
    at += 2;
    while (b + at + 4 <= end) {
        unsigned type = (unsigned)b[at] << 8 | b[at + 1];
        size_t len = (size_t)b[at + 2] << 8 | b[at + 3];
        if (b + at + 4 + len > end)
            return;
        if (type == 0x000a && len >= 2) {
            for (size_t i = 2; i + 1 < len; i += 2)
                list_add(l, (uint16_t)(b[at + 4 + i] << 8 | b[at + 5 + i]));
            return;
        }
        at += 4 + len;
    }
}

/* The suites of the first ClientHello a client of cfg sends, without
 * signalling values; with groups given, the groups it lists too. */
static void client_offer(anydtls_config *cfg, struct suite_list *l, struct suite_list *groups)
{
    anydtls_transport *t;
    anydtls_session *c;
    uint8_t d[4096];
    l->n = 0;
    CHECK(anydtls_transport_new_memory(&t, 0));
    CHECK(anydtls_session_new(&c, cfg, t));
    (void)anydtls_handshake(c);
    int n = anydtls_memory_pop(t, d, sizeof d);
    const uint8_t *b = d + REC_HDR + HS_HDR;
    if (n > REC_HDR + HS_HDR + 36 && d[0] == 22 && d[REC_HDR] == 1) {
        size_t at = 34 + 1 + b[34];
        at += 1 + b[at];
        size_t len = (size_t)b[at] << 8 | b[at + 1];
        for (size_t i = 0; i + 1 < len && REC_HDR + HS_HDR + at + 3 + i < (size_t)n; i += 2) {
            uint16_t v = (uint16_t)(b[at + 2 + i] << 8 | b[at + 3 + i]);
            if (v != 0x00FF && v != 0x5600)
                list_add(l, v);
        }
    }
    if (groups != NULL)
        hello_groups(d, n > 0 ? (size_t)n : 0, groups);
    anydtls_session_free(c);
    anydtls_transport_free(t);
}

static void test_client_offers(void)
{
    static const uint16_t psk[] = {PSK_SUITES}, cert[] = {ECDSA_SUITES, RSA_SUITES};
    static const uint16_t both_gnutls[] = {ECDSA_SUITES, RSA_SUITES, 0xCCAC,
                                           0x00A8,       0x00A9,     0xCCAB};
    struct {
        const char *what;
        anydtls_config *cfg;
        const uint16_t *want;
        size_t n;
    } cases[] = {
        {"PSK", client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key), psk, 2},
        {"certificate (CA)", client_cert_config("ca.pem", "localhost"), cert, 6},
        {"PSK and certificate", client_cert_config("ca.pem", "localhost"), policy, 8},
    };
    CHECK(
        anydtls_config_set_psk(cases[2].cfg, TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key));
    if (gnutls_flavour()) {
        cases[2].want = both_gnutls;
        cases[2].n = sizeof both_gnutls / sizeof both_gnutls[0];
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct suite_list got, want, groups, want_groups;
        client_offer(cases[i].cfg, &got, &groups);
        list_set(&want, cases[i].want, cases[i].n);
        if (!ok(list_equal(&got, &want),
                "%s client: its ClientHello lists exactly the %zu "
                "documented suites, in order",
                cases[i].what, want.n)) {
            list_diag("listed", &got);
            list_diag("documented", &want);
        }
        bool with_psk = i != 1;
        if (with_psk && nist_only_with_psk())
            list_set(&want_groups, policy_groups + 1, 2);
        else
            list_set(&want_groups, policy_groups, 3);
        if (!ok(list_equal(&groups, &want_groups),
                "%s client: its supported_groups lists exactly the policy's %zu groups, in "
                "order",
                cases[i].what, want_groups.n)) {
            list_diag("listed", &groups);
            list_diag("policy", &want_groups);
        }
        anydtls_config_free(cases[i].cfg);
    }
}

int main(void)
{
    static const struct server_case servers[] = {
        {"PSK", server_psk_config, 0xCCAC},
        {"ECDSA certificate", server_ecdsa, 0xC02B},
        {"RSA certificate", server_rsa, 0xC02F},
        {"PSK and ECDSA certificate", server_mixed_config, 0xC02B},
    };
    size_t n = sizeof servers / sizeof servers[0];
    /* test_client_offers: suites and groups for each of 3 clients. */
    tap_plan((int)(3 * n + 2 + 3 + 2 * 3));
    for (size_t i = 0; i < n; i++) {
        anydtls_config *cfg = servers[i].make();
        test_server_accepts(&servers[i], cfg);
        test_server_dtls10(&servers[i], cfg);
        test_server_order(&servers[i], cfg);
        anydtls_config_free(cfg);
    }
    test_server_passes_over();
    test_mixed_server_psk_choice();
    test_client_offers();
    return tap_done();
}
