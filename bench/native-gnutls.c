/* The native side of the benchmark for GnuTLS: the same DTLS 1.2 handshake
 * and records as the anydtls driver, written against GnuTLS directly. */
#include "bench.h"

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* anydtls's policy (common/policy.c, backends/gnutls.c), for the same
 * suites on both sides. */
#define PRIORITIES                                                                         \
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:-CIPHER-ALL:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE:" \
    "+ECDHE-ECDSA:+ECDHE-RSA:+ECDHE-PSK:+PSK:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"

static const unsigned char psk_bytes[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                            0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct end {
    gnutls_session_t g;
    struct dgq *in, *out;
};

struct native {
    bool psk;
    gnutls_certificate_credentials_t ccert, scert;
    gnutls_psk_client_credentials_t cpsk;
    gnutls_psk_server_credentials_t spsk;
    gnutls_priority_t prio;
    struct dgq *c2s, *s2c;
    struct end c, s;
    char cipher[96];
    gnutls_datum_t cookie_key;
    gnutls_dtls_prestate_st prestate;
};

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
    struct end *e = p;
    return dgq_push(e->out, buf, len);
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t cap)
{
    struct end *e = p;
    int n = dgq_pop(e->in, buf, cap);
    if (n < 0)
        gnutls_transport_set_errno(e->g, EAGAIN);
    return n;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
    (void)ms;
    struct end *e = p;
    return dgq_pending(e->in);
}

static int psk_lookup(gnutls_session_t g, const gnutls_datum_t *user, gnutls_datum_t *key)
{
    (void)g, (void)user;
    key->data = gnutls_malloc(sizeof psk_bytes);
    memcpy(key->data, psk_bytes, sizeof psk_bytes);
    key->size = sizeof psk_bytes;
    return 0;
}

struct native *native_new(const char *pki, bool psk)
{
    char cert[512], key[512], ca[512];
    struct native *n = calloc(1, sizeof *n);
    n->psk = psk;
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    gnutls_certificate_allocate_credentials(&n->ccert);
    gnutls_certificate_allocate_credentials(&n->scert);
    if (psk) {
        gnutls_datum_t k = {(unsigned char *)psk_bytes, sizeof psk_bytes};
        gnutls_psk_allocate_client_credentials(&n->cpsk);
        gnutls_psk_set_client_credentials(n->cpsk, "client1", &k, GNUTLS_PSK_KEY_RAW);
        gnutls_psk_allocate_server_credentials(&n->spsk);
        gnutls_psk_set_server_credentials_function2(n->spsk, psk_lookup);
    } else {
        gnutls_certificate_set_x509_key_file2(n->scert, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
        gnutls_certificate_set_x509_trust_file(n->ccert, ca, GNUTLS_X509_FMT_PEM);
    }
    gnutls_priority_init(&n->prio, PRIORITIES, NULL);
    n->c2s = dgq_new();
    n->s2c = dgq_new();
    gnutls_key_generate(&n->cookie_key, GNUTLS_COOKIE_KEY_SIZE);
    return n;
}

static void end_init(struct native *n, struct end *e, unsigned role, struct dgq *in,
                     struct dgq *out)
{
    e->in = in;
    e->out = out;
    gnutls_init(&e->g, role | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
    gnutls_priority_set(e->g, n->prio);
    gnutls_credentials_set(e->g, GNUTLS_CRD_CERTIFICATE, role == GNUTLS_SERVER ? n->scert : n->ccert);
    if (n->psk)
        gnutls_credentials_set(e->g, GNUTLS_CRD_PSK,
                               role == GNUTLS_SERVER ? (void *)n->spsk : (void *)n->cpsk);
    if (role == GNUTLS_CLIENT && !n->psk)
        gnutls_session_set_verify_cert(e->g, "localhost", 0);
    gnutls_transport_set_ptr(e->g, e);
    gnutls_transport_set_push_function(e->g, push);
    gnutls_transport_set_pull_function(e->g, pull);
    gnutls_transport_set_pull_timeout_function(e->g, pull_timeout);
    gnutls_dtls_set_mtu(e->g, 1400);
}

void native_release(struct native *n)
{
    if (n->c.g != NULL)
        gnutls_deinit(n->c.g);
    if (n->s.g != NULL)
        gnutls_deinit(n->s.g);
    n->c.g = n->s.g = NULL;
}

int native_establish(struct native *n)
{
    native_release(n);
    end_init(n, &n->c, GNUTLS_CLIENT, n->s2c, n->c2s);
    end_init(n, &n->s, GNUTLS_SERVER, n->c2s, n->s2c);
    int rc = GNUTLS_E_AGAIN, rs = GNUTLS_E_AGAIN;
    for (int i = 0; i < 100 && (rc != 0 || rs != 0); i++) {
        if (rc != 0)
            rc = gnutls_handshake(n->c.g);
        if (rs != 0)
            rs = gnutls_handshake(n->s.g);
        if ((rc < 0 && gnutls_error_is_fatal(rc)) || (rs < 0 && gnutls_error_is_fatal(rs))) {
            fprintf(stderr, "gnutls: %s / %s\n", gnutls_strerror(rc), gnutls_strerror(rs));
            return -1;
        }
    }
    if (rc != 0 || rs != 0)
        return -1;
    snprintf(n->cipher, sizeof n->cipher, "%s", gnutls_ciphersuite_get(n->c.g));
    return 0;
}

int native_handshake(struct native *n)
{
    int rc = native_establish(n);
    native_release(n);
    return rc;
}

int native_transfer(struct native *n, int dir, const uint8_t *buf, size_t len)
{
    static uint8_t got[RECORD_SIZE];
    gnutls_session_t from = dir == 0 ? n->c.g : n->s.g, to = dir == 0 ? n->s.g : n->c.g;
    if (gnutls_record_send(from, buf, len) != (ssize_t)len)
        return -1;
    return gnutls_record_recv(to, got, sizeof got) == (ssize_t)len ? 0 : -1;
}

const char *native_cipher(struct native *n)
{
    return n->cipher;
}

/* GnuTLS's own stateless path: gnutls_dtls_cookie_send / _verify (16 bytes
 * of HMAC-SHA1 over the peer only, compared with memcmp).  The second
 * ClientHello for it is the first with GnuTLS's own cookie put in. */
static const char peer[] = "192.0.2.1:4433";
static uint8_t hvr[128], ch2_native[2048];
static size_t hvr_len, ch2_native_len;

static ssize_t capture(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
    (void)p;
    if (len <= sizeof hvr) {
        memcpy(hvr, buf, len);
        hvr_len = len;
    }
    return (ssize_t)len;
}

static void put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

int native_cookie_setup(struct native *n, const uint8_t *ch1, size_t len1)
{
    gnutls_dtls_cookie_verify(&n->cookie_key, (void *)peer, sizeof peer, (void *)ch1, len1,
                              &n->prestate);
    if (gnutls_dtls_cookie_send(&n->cookie_key, (void *)peer, sizeof peer, &n->prestate, NULL,
                                capture) < 0 || hvr_len < 28)
        return -1;
    size_t clen = hvr[27], sid_at = 13 + 12 + 2 + 32, ck_at = sid_at + 1 + ch1[sid_at];
    if (ck_at >= len1 || ch1[ck_at] != 0 || len1 + clen > sizeof ch2_native)
        return -1;
    /* record header .. session id, cookie length + cookie, the rest */
    memcpy(ch2_native, ch1, ck_at);
    ch2_native[ck_at] = (uint8_t)clen;
    memcpy(ch2_native + ck_at + 1, hvr + 28, clen);
    memcpy(ch2_native + ck_at + 1 + clen, ch1 + ck_at + 1, len1 - ck_at - 1);
    ch2_native_len = len1 + clen;
    size_t body = ch2_native_len - 13 - 12;
    ch2_native[11] = (uint8_t)((ch2_native_len - 13) >> 8);
    ch2_native[12] = (uint8_t)(ch2_native_len - 13);
    put24(ch2_native + 14, body);
    put24(ch2_native + 22, body);
    return gnutls_dtls_cookie_verify(&n->cookie_key, (void *)peer, sizeof peer, ch2_native,
                                     ch2_native_len, &n->prestate) == 0 ? 0 : -1;
}

int native_cookie_hvr(struct native *n, const uint8_t *ch1, size_t len1)
{
    /* A ClientHello without a cookie fails verification, then the answer. */
    if (gnutls_dtls_cookie_verify(&n->cookie_key, (void *)peer, sizeof peer, (void *)ch1, len1,
                                  &n->prestate) == 0)
        return 0;
    return gnutls_dtls_cookie_send(&n->cookie_key, (void *)peer, sizeof peer, &n->prestate, NULL,
                                   capture);
}

int native_cookie_verify(struct native *n, const uint8_t *ch2, size_t len2)
{
    (void)ch2, (void)len2; /* GnuTLS verifies its own cookie */
    return gnutls_dtls_cookie_verify(&n->cookie_key, (void *)peer, sizeof peer, ch2_native,
                                     ch2_native_len, &n->prestate);
}

void native_free(struct native *n)
{
    native_release(n);
    gnutls_certificate_free_credentials(n->ccert);
    gnutls_certificate_free_credentials(n->scert);
    if (n->cpsk != NULL)
        gnutls_psk_free_client_credentials(n->cpsk);
    if (n->spsk != NULL)
        gnutls_psk_free_server_credentials(n->spsk);
    gnutls_priority_deinit(n->prio);
    gnutls_free(n->cookie_key.data);
    dgq_free(n->c2s);
    dgq_free(n->s2c);
    free(n);
}
