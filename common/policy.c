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
#include "internal.h"

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
