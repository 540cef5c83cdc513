/* The native side of the benchmark for wolfSSL: the same DTLS 1.2
 * handshake and records as the anydtls driver (same AEAD cipher list),
 * written against wolfSSL directly. */
#include "bench.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* anydtls's policy (common/policy.c), for the same suites on both sides. */
#define CIPHERS \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                     \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"                       \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"                         \
    "ECDHE-PSK-CHACHA20-POLY1305:PSK-CHACHA20-POLY1305"

static const unsigned char psk_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct end {
    WOLFSSL *ssl;
    struct dgq *in, *out;
};

struct native {
    WOLFSSL_CTX *cctx, *sctx;
    struct dgq *c2s, *s2c;
    struct end c, s;
    char cipher[96];
};

static int io_send(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    struct end *e = ctx;
    return dgq_push(e->out, (const uint8_t *)buf, (size_t)len) < 0 ? WOLFSSL_CBIO_ERR_WANT_WRITE
                                                                   : len;
}

static int io_recv(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    struct end *e = ctx;
    int n = dgq_pop(e->in, (uint8_t *)buf, (size_t)len);
    return n < 0 ? WOLFSSL_CBIO_ERR_WANT_READ : n;
}

static unsigned int psk_client(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max,
                               unsigned char *psk, unsigned int psk_max)
{
    (void)ssl, (void)hint, (void)id_max, (void)psk_max;
    strcpy(id, "client1");
    memcpy(psk, psk_key, sizeof psk_key);
    return sizeof psk_key;
}

static unsigned int psk_server(WOLFSSL *ssl, const char *id, unsigned char *psk, unsigned int max)
{
    (void)ssl, (void)id, (void)max;
    memcpy(psk, psk_key, sizeof psk_key);
    return sizeof psk_key;
}

struct native *native_new(const char *pki, bool use_psk)
{
    char cert[512], key[512], ca[512];
    struct native *n = calloc(1, sizeof *n);
    wolfSSL_Init();
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    n->cctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method());
    n->sctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
    wolfSSL_CTX_set_cipher_list(n->cctx, CIPHERS);
    wolfSSL_CTX_set_cipher_list(n->sctx, CIPHERS);
    if (use_psk) {
        wolfSSL_CTX_set_psk_client_callback(n->cctx, psk_client);
        wolfSSL_CTX_set_psk_server_callback(n->sctx, psk_server);
        wolfSSL_CTX_set_verify(n->cctx, WOLFSSL_VERIFY_NONE, NULL);
    } else {
        wolfSSL_CTX_use_certificate_chain_file(n->sctx, cert);
        wolfSSL_CTX_use_PrivateKey_file(n->sctx, key, WOLFSSL_FILETYPE_PEM);
        wolfSSL_CTX_load_verify_locations(n->cctx, ca, NULL);
        wolfSSL_CTX_set_verify(n->cctx, WOLFSSL_VERIFY_PEER, NULL);
    }
    wolfSSL_CTX_set_verify(n->sctx, WOLFSSL_VERIFY_NONE, NULL);
    wolfSSL_CTX_SetIORecv(n->cctx, io_recv);
    wolfSSL_CTX_SetIOSend(n->cctx, io_send);
    wolfSSL_CTX_SetIORecv(n->sctx, io_recv);
    wolfSSL_CTX_SetIOSend(n->sctx, io_send);
    n->c2s = dgq_new();
    n->s2c = dgq_new();
    return n;
}

static void end_init(struct end *e, WOLFSSL_CTX *ctx, struct dgq *in, struct dgq *out)
{
    e->in = in;
    e->out = out;
    e->ssl = wolfSSL_new(ctx);
    wolfSSL_SetIOReadCtx(e->ssl, e);
    wolfSSL_SetIOWriteCtx(e->ssl, e);
    wolfSSL_dtls_set_using_nonblock(e->ssl, 1);
}

void native_release(struct native *n)
{
    if (n->c.ssl != NULL)
        wolfSSL_free(n->c.ssl);
    if (n->s.ssl != NULL)
        wolfSSL_free(n->s.ssl);
    n->c.ssl = n->s.ssl = NULL;
}

int native_establish(struct native *n)
{
    native_release(n);
    end_init(&n->c, n->cctx, n->s2c, n->c2s);
    end_init(&n->s, n->sctx, n->c2s, n->s2c);
    wolfSSL_check_domain_name(n->c.ssl, "localhost");
    int rc = 0, rs = 0;
    for (int i = 0; i < 100 && (rc != WOLFSSL_SUCCESS || rs != WOLFSSL_SUCCESS); i++) {
        if (rc != WOLFSSL_SUCCESS)
            rc = wolfSSL_connect(n->c.ssl);
        if (rs != WOLFSSL_SUCCESS)
            rs = wolfSSL_accept(n->s.ssl);
    }
    if (rc != WOLFSSL_SUCCESS || rs != WOLFSSL_SUCCESS)
        return -1;
    int suite = wolfSSL_get_current_cipher_suite(n->c.ssl);
    snprintf(n->cipher, sizeof n->cipher, "%s",
             wolfSSL_get_cipher_name_iana_from_suite((byte)(suite >> 8), (byte)suite));
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
    WOLFSSL *from = dir == 0 ? n->c.ssl : n->s.ssl, *to = dir == 0 ? n->s.ssl : n->c.ssl;
    if (wolfSSL_write(from, buf, (int)len) != (int)len)
        return -1;
    return wolfSSL_read(to, got, sizeof got) == (int)len ? 0 : -1;
}

const char *native_cipher(struct native *n)
{
    return n->cipher;
}

/* wolfSSL's own cookie check lives inside a WOLFSSL object's accept: not a
 * stateless path an application can call. */
int native_cookie_setup(struct native *n, const uint8_t *ch1, size_t len1)
{
    (void)n, (void)ch1, (void)len1;
    return -1;
}

int native_cookie_hvr(struct native *n, const uint8_t *ch1, size_t len1)
{
    (void)n, (void)ch1, (void)len1;
    return -1;
}

int native_cookie_verify(struct native *n, const uint8_t *ch2, size_t len2)
{
    (void)n, (void)ch2, (void)len2;
    return -1;
}

void native_free(struct native *n)
{
    native_release(n);
    wolfSSL_CTX_free(n->cctx);
    wolfSSL_CTX_free(n->sctx);
    dgq_free(n->c2s);
    dgq_free(n->s2c);
    free(n);
    wolfSSL_Cleanup();
}
