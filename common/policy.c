/* The one cipher suite policy of every flavour, client and server (doc/
 * architecture.md, "Cipher suites"): DTLS 1.2, AEAD suites only, ECDHE
 * for certificates, PSK and ECDHE-PSK for pre-shared keys, in this order.
 * Every driver spells the same list in its library's terms and enables
 * only the key exchanges the configuration has credentials for.
 *
 * What the list leaves out, and why: TLS_PSK_WITH_AES_*_GCM (wolfSSL
 * builds without WOLFSSL_STATIC_PSK, Debian's among them, lack every
 * static-PSK AES suite), TLS_ECDHE_PSK_WITH_AES_*_GCM (RFC 8442: OpenSSL
 * and GnuTLS lack them), the CCM and CCM_8 suites (Debian's wolfSSL has no
 * PSK one, and CCM_8's tag is 8 bytes), anything CBC, static RSA, DHE. */
#include "wire.h"

#include <stdio.h>
#include <string.h>

const struct anydtls_suite anydtls_suites[] = {
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", ANYDTLS_KX_ECDHE_ECDSA,
     ANYDTLS_BULK_AES_128_GCM},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", ANYDTLS_KX_ECDHE_ECDSA,
     ANYDTLS_BULK_AES_256_GCM},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", ANYDTLS_KX_ECDHE_ECDSA,
     ANYDTLS_BULK_CHACHA20_POLY1305},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ANYDTLS_KX_ECDHE_RSA,
     ANYDTLS_BULK_AES_128_GCM},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", ANYDTLS_KX_ECDHE_RSA,
     ANYDTLS_BULK_AES_256_GCM},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", ANYDTLS_KX_ECDHE_RSA,
     ANYDTLS_BULK_CHACHA20_POLY1305},
    {0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", ANYDTLS_KX_ECDHE_PSK,
     ANYDTLS_BULK_CHACHA20_POLY1305},
    {0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", ANYDTLS_KX_PSK,
     ANYDTLS_BULK_CHACHA20_POLY1305},
};

const size_t anydtls_n_suites = sizeof anydtls_suites / sizeof anydtls_suites[0];

static bool has_own_cert(const anydtls_config *cfg)
{
    return cfg->cert_file != NULL || cfg->cert_pem.data != NULL;
}

unsigned anydtls_policy_creds(const anydtls_config *cfg)
{
    unsigned creds = 0;
    if (cfg->role == ANYDTLS_SERVER) {
        if (has_own_cert(cfg))
            creds |= ANYDTLS_USE_CERT;
        if (cfg->psk_lookup != NULL)
            creds |= ANYDTLS_USE_PSK;
    } else {
        if (cfg->psk_key.data != NULL)
            creds |= ANYDTLS_USE_PSK;
        if (has_own_cert(cfg) || cfg->ca_file != NULL || cfg->ca_pem.data != NULL)
            creds |= ANYDTLS_USE_CERT;
    }
    /* Nothing at all: certificate suites, whose handshake then fails for
     * want of a certificate or a trust anchor, as it always did. */
    return creds != 0 ? creds : ANYDTLS_USE_CERT;
}

bool anydtls_suite_usable(const struct anydtls_suite *su, unsigned creds)
{
    bool psk = su->kx == ANYDTLS_KX_ECDHE_PSK || su->kx == ANYDTLS_KX_PSK;
    return (creds & (psk ? ANYDTLS_USE_PSK : ANYDTLS_USE_CERT)) != 0;
}

bool anydtls_suite_barred(const struct anydtls_suite *su, unsigned barred)
{
    return (barred & (1u << su->kx)) != 0;
}

/* ---- ECDHE groups ----
 * The groups of every flavour, in order of preference: each driver gives
 * its library this list, a client exactly this list in supported_groups
 * (the wolfSSL client with a PSK before 5.7 leaves X25519 out,
 * doc/architecture.md 9.4).  An ECDHE suite is chosen only
 * when the ClientHello's supported_groups lists one of them (RFC 8422 5.1:
 * no ECC suite without a shared curve; a ClientHello without the extension
 * shares none), and an ECDHE_ECDSA suite only when it also lists the curve
 * of the server's ECDSA key (RFC 8422 5.3). */
const struct anydtls_group anydtls_groups[] = {
    {0x001D, "x25519"},
    {0x0017, "secp256r1"},
    {0x0018, "secp384r1"},
};

const size_t anydtls_n_groups = sizeof anydtls_groups / sizeof anydtls_groups[0];

bool anydtls_policy_cipher_names(unsigned creds, unsigned barred, char *list, size_t cap)
{
    static const char *const kx[] = {
        [ANYDTLS_KX_ECDHE_ECDSA] = "ECDHE-ECDSA-",
        [ANYDTLS_KX_ECDHE_RSA] = "ECDHE-RSA-",
        [ANYDTLS_KX_ECDHE_PSK] = "ECDHE-PSK-",
        [ANYDTLS_KX_PSK] = "PSK-",
    };
    static const char *const bulk[] = {
        [ANYDTLS_BULK_AES_128_GCM] = "AES128-GCM-SHA256",
        [ANYDTLS_BULK_AES_256_GCM] = "AES256-GCM-SHA384",
        [ANYDTLS_BULK_CHACHA20_POLY1305] = "CHACHA20-POLY1305",
    };
    size_t at = 0;
    if (cap == 0)
        return false;
    list[0] = '\0';
    for (size_t i = 0; i < anydtls_n_suites; i++) {
        const struct anydtls_suite *su = &anydtls_suites[i];
        if (!anydtls_suite_usable(su, creds) || anydtls_suite_barred(su, barred))
            continue;
        int n = snprintf(list + at, cap - at, "%s%s%s", at > 0 ? ":" : "", kx[su->kx],
                         bulk[su->bulk]);
        if (n < 0 || (size_t)n >= cap - at)
            return false;
        at += (size_t)n;
    }
    return true;
}

uint16_t anydtls_ecdsa_group(unsigned field_bytes)
{
    switch (field_bytes) {
    case 32:
        return 0x0017; /* secp256r1 */
    case 48:
        return 0x0018; /* secp384r1 */
    case 66:
        return 0x0019; /* secp521r1 */
    default:
        return 0;
    }
}

/* What supported_groups says: whether it lists a group of the policy, and
 * whether it lists the ECDSA key's (cert_group; 0: any).  -1 malformed. */
static int offered_groups(struct anydtls_iov ext, uint16_t cert_group, bool *shared,
                          bool *cert_ok)
{
    struct anydtls_reader r = {ext.p, ext.n};
    struct anydtls_iov list;
    *shared = false;
    *cert_ok = cert_group == 0;
    if (anydtls_take_vector(&r, 2, 2, 65534, &list) != 0 || r.left != 0 || (list.n & 1) != 0)
        return -1;
    for (size_t i = 0; i < list.n; i += 2) {
        uint16_t g = (uint16_t)(list.p[i] << 8 | list.p[i + 1]);
        for (size_t k = 0; k < anydtls_n_groups; k++)
            *shared |= g == anydtls_groups[k].code;
        *cert_ok |= g == cert_group;
    }
    return 0;
}

/* The extensions block: NULL when it is there, not empty, parses, and
 * names no extension twice; else why not. */
static const char *extensions_refusal(const struct anydtls_hello *h)
{
    uint8_t seen[65536 / 8];
    struct anydtls_ext_iter it;
    struct anydtls_iov body;
    uint16_t type;
    if (!h->has_extensions)
        return "ClientHello without extensions";
    if (h->extensions.n == 0)
        return "ClientHello with an empty extensions block";
    memset(seen, 0, sizeof seen);
    anydtls_ext_begin(&it, h->extensions);
    while (anydtls_ext_next(&it, &type, &body)) {
        if (seen[type >> 3] & (1u << (type & 7)))
            return "ClientHello with a duplicate extension";
        seen[type >> 3] |= (uint8_t)(1u << (type & 7));
    }
    if (it.bad || h->extensions_bad)
        return "ClientHello with a malformed extensions block";
    return NULL;
}

/* compression_methods lists null (RFC 5246 7.4.1.2: it must). */
static bool offers_null_compression(const struct anydtls_hello *h)
{
    return memchr(h->compression.p, 0, h->compression.n) != NULL;
}

/* server_name (RFC 6066 3) is exactly one host_name entry of 1..255 such
 * characters: the libraries take two names, other name types, empty or
 * odd names and bad lengths each in its own way. */
static bool server_name_ok(struct anydtls_iov ext)
{
    struct anydtls_reader r = {ext.p, ext.n}, list;
    struct anydtls_iov names, name;
    uint64_t type;
    if (anydtls_take_vector(&r, 2, 1, 65535, &names) != 0 || r.left != 0)
        return false;
    list.p = names.p;
    list.left = names.n;
    return anydtls_take_uint(&list, 1, &type) == 0 && type == 0 &&
           anydtls_take_vector(&list, 2, 1, 255, &name) == 0 && list.left == 0 &&
           anydtls_sni_host_name(name.p, name.n);
}

/* ec_point_formats (RFC 8422 5.1.2): 1 when it parses and lists
 * uncompressed, 0 when it parses without, -1 malformed. */
static int point_formats(struct anydtls_iov ext)
{
    struct anydtls_reader r = {ext.p, ext.n};
    struct anydtls_iov list;
    if (anydtls_take_vector(&r, 1, 1, 255, &list) != 0 || r.left != 0)
        return -1;
    return memchr(list.p, 0, list.n) != NULL;
}

/* signature_algorithms (RFC 5246 7.4.1.4.1): a non-empty list of pairs
 * that fills the extension. */
static bool signature_algorithms_ok(struct anydtls_iov ext)
{
    struct anydtls_reader r = {ext.p, ext.n};
    struct anydtls_iov list;
    return anydtls_take_vector(&r, 2, 2, 65534, &list) == 0 && r.left == 0 &&
           (list.n & 1) == 0;
}

/* application_layer_protocol_negotiation (RFC 7301 3.1): a non-empty
 * list of non-empty names that fills the extension.  OpenSSL 3.0.19
 * answers a malformed one with 50, GnuTLS 3.7.9 serves it, wolfSSL 5.5.4
 * sends 40 but serves an empty name. */
static bool alpn_ok(struct anydtls_iov ext)
{
    struct anydtls_reader r = {ext.p, ext.n}, list;
    struct anydtls_iov names, name;
    if (anydtls_take_vector(&r, 2, 2, 65535, &names) != 0 || r.left != 0)
        return false;
    list.p = names.p;
    list.left = names.n;
    while (list.left != 0)
        if (anydtls_take_vector(&list, 1, 1, 255, &name) != 0)
            return false;
    return true;
}

/* max_fragment_length (RFC 6066 4): one byte, 1..4.  To another value
 * OpenSSL 3.0.19 sends 47, GnuTLS 3.7.9 40, wolfSSL 5.5.4 47 (and serves
 * 5); to a body of another length 50, none (served), 40. */
static bool max_fragment_length_ok(struct anydtls_iov ext)
{
    return ext.n == 1 && ext.p[0] >= 1 && ext.p[0] <= 4;
}

/* compression_methods, server_name, signature_algorithms, ALPN and
 * max_fragment_length, and whether ec_point_formats parses: NULL when all
 * hold, else why not. */
static const char *fields_refusal(const struct anydtls_hello *h)
{
    struct anydtls_iov ext;
    if (!offers_null_compression(h))
        return "ClientHello without null compression";
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_SERVER_NAME, &ext) && !server_name_ok(ext))
        return "ClientHello with a malformed or unusual server_name";
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_EC_POINT_FORMATS, &ext) &&
        point_formats(ext) < 0)
        return "ClientHello with a malformed ec_point_formats";
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_SIGNATURE_ALGORITHMS, &ext) &&
        !signature_algorithms_ok(ext))
        return "ClientHello with a malformed signature_algorithms";
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_ALPN, &ext) && !alpn_ok(ext))
        return "ClientHello with a malformed application_layer_protocol_negotiation";
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_MAX_FRAGMENT_LENGTH, &ext) &&
        !max_fragment_length_ok(ext))
        return "ClientHello with an illegal max_fragment_length";
    return NULL;
}

/* Whether ec_point_formats, when it is there, lists uncompressed (it
 * parses: fields_refusal checked). */
static bool uncompressed_points(const struct anydtls_hello *h)
{
    struct anydtls_iov ext;
    return !anydtls_ext_find(h->extensions, ANYDTLS_EXT_EC_POINT_FORMATS, &ext) ||
           point_formats(ext) == 1;
}

/* The key exchanges supported_groups rules out; -1 when it is malformed. */
static int barred_by_groups(const anydtls_config *cfg, const struct anydtls_hello *h,
                            unsigned *barred)
{
    struct anydtls_iov ext;
    bool shared = false, cert_ok = false;
    *barred = 0;
    if (anydtls_ext_find(h->extensions, ANYDTLS_EXT_SUPPORTED_GROUPS, &ext) &&
        offered_groups(ext, cfg->cert_group, &shared, &cert_ok) != 0)
        return -1;
    if (!shared)
        *barred = ANYDTLS_KX_ALL_ECDHE;
    else if (!cert_ok)
        *barred = 1u << ANYDTLS_KX_ECDHE_ECDSA;
    return 0;
}

/* Whether h offers a suite of the policy that cfg may choose, whether
 * one that the groups leave, and whether an ECDHE one of those. */
static void offered_suites(const anydtls_config *cfg, const struct anydtls_hello *h,
                           unsigned barred, bool *usable, bool *left, bool *ecdhe)
{
    unsigned creds = anydtls_policy_creds(cfg);
    *usable = *left = *ecdhe = false;
    for (size_t i = 0; i < anydtls_n_suites; i++) {
        const struct anydtls_suite *su = &anydtls_suites[i];
        if (!anydtls_suite_usable(su, creds) || !anydtls_hello_offers_suite(h, su->code))
            continue;
        *usable = true;
        if (anydtls_suite_barred(su, barred))
            continue;
        *left = true;
        *ecdhe |= (ANYDTLS_KX_ALL_ECDHE & (1u << su->kx)) != 0;
    }
}

/* Whether a server of cfg can choose a certificate suite of the policy
 * that h offers and barred leaves: one whose key exchange signs with the
 * own key (ECDSA when the driver found an ECDSA key's curve, else RSA). */
static bool cert_suite_choosable(const anydtls_config *cfg, const struct anydtls_hello *h,
                                 unsigned barred)
{
    enum anydtls_kx own = cfg->cert_group != 0 ? ANYDTLS_KX_ECDHE_ECDSA : ANYDTLS_KX_ECDHE_RSA;
    for (size_t i = 0; i < anydtls_n_suites; i++) {
        const struct anydtls_suite *su = &anydtls_suites[i];
        if (su->kx == own && !anydtls_suite_barred(su, barred) &&
            anydtls_hello_offers_suite(h, su->code))
            return true;
    }
    return false;
}

/* A server with both a PSK and a certificate whose client leaves it no
 * certificate suite takes a PSK suite: then the certificate key exchanges
 * are barred too, so that the session's suites are exactly the policy's
 * PSK suites (GnuTLS enables key exchange x cipher, and with certificates
 * enabled would take TLS_PSK_WITH_AES_*_GCM, which the policy lacks). */
static unsigned barred_for_psk(const anydtls_config *cfg, const struct anydtls_hello *h,
                               unsigned barred)
{
    unsigned creds = anydtls_policy_creds(cfg);
    if ((creds & ANYDTLS_USE_CERT) == 0 || (creds & ANYDTLS_USE_PSK) == 0 ||
        cert_suite_choosable(cfg, h, barred))
        return barred;
    return barred | 1u << ANYDTLS_KX_ECDHE_ECDSA | 1u << ANYDTLS_KX_ECDHE_RSA;
}

const char *anydtls_hello_rule(const anydtls_config *cfg, const uint8_t *dgram, size_t len,
                               unsigned *barred)
{
    struct anydtls_hello h;
    struct anydtls_iov info;
    bool usable, left, ecdhe;
    *barred = 0;
    if (anydtls_wire_hello(dgram, len, &h) != 0)
        return "not a ClientHello";
    /* RFC 6347 4.2.2: the ClientHello answering our HelloVerifyRequest
     * (message 0) is message 1.  OpenSSL 3.0 and 3.5 take no other. */
    if (h.message_seq != 1)
        return "verified ClientHello that is not message 1";
    const char *why = extensions_refusal(&h);
    if (why == NULL)
        why = fields_refusal(&h);
    if (why != NULL)
        return why;
    /* RFC 5746 lets a server take both; wolfSSL 5.5 and 5.7 fail the
     * empty extension after the SCSV, and the bytes are the transcript's. */
    if (anydtls_hello_offers_suite(&h, ANYDTLS_SCSV_EMPTY_RENEGOTIATION_INFO) &&
        anydtls_ext_find(h.extensions, ANYDTLS_EXT_RENEGOTIATION_INFO, &info))
        return "ClientHello with both the renegotiation SCSV and renegotiation_info";
    if (barred_by_groups(cfg, &h, barred) != 0) {
        *barred = 0;
        return "ClientHello with a malformed supported_groups";
    }
    offered_suites(cfg, &h, *barred, &usable, &left, &ecdhe);
    if (usable && !left) {
        *barred = 0; /* nothing is left to bar: the ClientHello is refused */
        return "ClientHello offers no group for the ECDHE suites it offers";
    }
    /* RFC 8422 5.1.2: an ECDHE suite needs uncompressed points; the
     * libraries refuse, ignore or choose ECDHE anyway. */
    if (ecdhe && !uncompressed_points(&h)) {
        *barred = 0;
        return "ClientHello without uncompressed points for the ECDHE suites it offers";
    }
    *barred = barred_for_psk(cfg, &h, *barred);
    return NULL;
}
