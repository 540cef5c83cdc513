/* The native side of the benchmark for OpenSSL: the same DTLS 1.2
 * handshake and records as the anydtls driver, written against OpenSSL
 * directly, over the same kind of memory datagram queues. */
#include "bench.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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

struct native {
    SSL_CTX *cctx, *sctx;
    BIO_METHOD *meth;
    struct dgq *c2s, *s2c;
    SSL *c, *s;
    char cipher[96];
};

struct end {
    struct dgq *in, *out;
};

static int bio_write(BIO *b, const char *buf, int len)
{
    struct end *e = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    return dgq_push(e->out, (const uint8_t *)buf, (size_t)len);
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct end *e = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    int n = dgq_pop(e->in, (uint8_t *)buf, (size_t)len);
    if (n < 0)
        BIO_set_retry_read(b);
    return n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    free(BIO_get_data(b));
    return 1;
}

static unsigned int psk_client(SSL *ssl, const char *hint, char *id, unsigned int id_max,
                               unsigned char *psk, unsigned int psk_max)
{
    (void)ssl, (void)hint, (void)id_max, (void)psk_max;
    strcpy(id, "client1");
    memcpy(psk, psk_key, sizeof psk_key);
    return sizeof psk_key;
}

static unsigned int psk_server(SSL *ssl, const char *id, unsigned char *psk, unsigned int max)
{
    (void)ssl, (void)id, (void)max;
    memcpy(psk, psk_key, sizeof psk_key);
    return sizeof psk_key;
}

struct native *native_new(const char *pki, bool use_psk)
{
    char cert[512], key[512], ca[512];
    struct native *n = calloc(1, sizeof *n);
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    n->cctx = SSL_CTX_new(DTLS_client_method());
    n->sctx = SSL_CTX_new(DTLS_server_method());
    SSL_CTX_set_min_proto_version(n->cctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(n->cctx, DTLS1_2_VERSION);
    SSL_CTX_set_min_proto_version(n->sctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(n->sctx, DTLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(n->sctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_cipher_list(n->cctx, CIPHERS);
    SSL_CTX_set_cipher_list(n->sctx, CIPHERS);
    SSL_CTX_set_options(n->sctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_options(n->cctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_options(n->sctx, SSL_OP_NO_TICKET);
    if (use_psk) {
        SSL_CTX_set_psk_client_callback(n->cctx, psk_client);
        SSL_CTX_set_psk_server_callback(n->sctx, psk_server);
    } else {
        SSL_CTX_use_certificate_chain_file(n->sctx, cert);
        SSL_CTX_use_PrivateKey_file(n->sctx, key, SSL_FILETYPE_PEM);
        SSL_CTX_load_verify_locations(n->cctx, ca, NULL);
        SSL_CTX_set_verify(n->cctx, SSL_VERIFY_PEER, NULL);
        X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(n->cctx), "localhost", 0);
    }
    n->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench");
    BIO_meth_set_write(n->meth, bio_write);
    BIO_meth_set_read(n->meth, bio_read);
    BIO_meth_set_ctrl(n->meth, bio_ctrl);
    BIO_meth_set_create(n->meth, bio_create);
    BIO_meth_set_destroy(n->meth, bio_destroy);
    n->c2s = dgq_new();
    n->s2c = dgq_new();
    return n;
}

static SSL *new_end(struct native *n, SSL_CTX *ctx, struct dgq *in, struct dgq *out)
{
    SSL *ssl = SSL_new(ctx);
    BIO *b = BIO_new(n->meth);
    struct end *e = malloc(sizeof *e);
    e->in = in;
    e->out = out;
    BIO_set_data(b, e);
    SSL_set_bio(ssl, b, b);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(ssl, 1400);
    return ssl;
}

void native_release(struct native *n)
{
    SSL_free(n->c);
    SSL_free(n->s);
    n->c = n->s = NULL;
}

int native_establish(struct native *n)
{
    native_release(n);
    n->c = new_end(n, n->cctx, n->s2c, n->c2s);
    n->s = new_end(n, n->sctx, n->c2s, n->s2c);
    SSL_set_connect_state(n->c);
    SSL_set_accept_state(n->s);
    for (int i = 0; i < 100; i++) {
        int rc = SSL_do_handshake(n->c);
        int rs = SSL_do_handshake(n->s);
        if (rc == 1 && rs == 1) {
            snprintf(n->cipher, sizeof n->cipher, "%s",
                     SSL_CIPHER_standard_name(SSL_get_current_cipher(n->c)));
            return 0;
        }
    }
    ERR_print_errors_fp(stderr);
    return -1;
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
    SSL *from = dir == 0 ? n->c : n->s, *to = dir == 0 ? n->s : n->c;
    if (SSL_write(from, buf, (int)len) != (int)len)
        return -1;
    return SSL_read(to, got, sizeof got) == (int)len ? 0 : -1;
}

const char *native_cipher(struct native *n)
{
    return n->cipher;
}

/* OpenSSL has no stateless cookie path of its own: DTLSv1_listen calls the
 * application's cookie callbacks, which is what anydtls plugs into. */
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
    SSL_CTX_free(n->cctx);
    SSL_CTX_free(n->sctx);
    BIO_meth_free(n->meth);
    dgq_free(n->c2s);
    dgq_free(n->s2c);
    free(n);
}
