/*
 * The OpenSSL driver.  The only file of anydtls that includes an OpenSSL
 * header.  Every OpenSSL result is checked and mapped to one ANYDTLS_E_*
 * code; OpenSSL's own message and code are kept on the session for logs.
 */
/* SHA256_Init & co. are deprecated in 3.0, but they are the only SHA-256 of
 * libcrypto that does not allocate: the cookie check must not allocate. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "internal.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ossl_config {
    SSL_CTX *ctx;
    BIO_METHOD *bio_method;
};

struct ossl_session {
    SSL *ssl;
    bool io_error;
    /* The session a client offered (anydtls_session_resume), kept alive:
     * OpenSSL 3.0 (d1_both.c, dtls1_retransmit_message) puts the session
     * a buffered ClientHello was sent with back in place to retransmit
     * it, and a server that declined the ticket has by then made OpenSSL
     * free that session: a ClientHello retransmitted after a lone
     * ServerHello read freed memory (valgrind, tests/test_loss.c). */
    SSL_SESSION *offered;
    /* The verification error verify_cb saw (X509_V_ERR_*), 0 none: the
     * verify result OpenSSL keeps is the stand-in for the alert. */
    int verify_error;
};

#define OCFG(cfg) ((struct ossl_config *)(cfg)->native)
#define OSES(s) ((struct ossl_session *)(s)->native)

/* Take OpenSSL's last error message off the thread's queue. */
static unsigned long pop_error(char *msg, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e != 0 && msg != NULL)
        ERR_error_string_n(e, msg, cap);
    ERR_clear_error();
    return e;
}

static int config_fail(anydtls_config *cfg, int code, const char *what)
{
    char msg[200] = "";
    pop_error(msg, sizeof msg);
    snprintf(cfg->error, sizeof cfg->error, "%s%s%s", what, msg[0] ? ": " : "", msg);
    return code;
}

/* ---------------- the BIO over an anydtls transport ---------------- */

/* Retry flags and the I/O error mark from one of our results. */
static int bio_result(BIO *b, anydtls_session *s, int rc)
{
    BIO_clear_retry_flags(b);
    if (rc == ANYDTLS_E_WANT_WRITE)
        BIO_set_retry_write(b);
    else if (rc == ANYDTLS_E_WANT_READ)
        BIO_set_retry_read(b);
    else if (rc < 0)
        OSES(s)->io_error = true;
    return rc < 0 ? -1 : rc;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    anydtls_session *s = BIO_get_data(b);
    return bio_result(b, s, anydtls_session_send(s, (const uint8_t *)buf, (size_t)len));
}

static int bio_read(BIO *b, char *buf, int len)
{
    anydtls_session *s = BIO_get_data(b);
    return bio_result(b, s, anydtls_session_recv(s, (uint8_t *)buf, (size_t)len));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_CONNECTED:
        return 1;
    default: /* no MTU query, no pending bytes, no peer address */
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "anydtls");
    if (m == NULL)
        return NULL;
    if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---------------- callbacks ---------------- */

static anydtls_session *session_of(SSL *ssl)
{
    return SSL_get_app_data(ssl);
}

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    (void)hint;
    anydtls_session *s = session_of(ssl);
    const anydtls_config *cfg = s->cfg;
    if (cfg->psk_identity == NULL || cfg->psk_key.len > max_psk_len ||
        strlen(cfg->psk_identity) + 1 > max_identity_len)
        return 0;
    memcpy(identity, cfg->psk_identity, strlen(cfg->psk_identity) + 1);
    memcpy(psk, cfg->psk_key.data, cfg->psk_key.len);
    s->psk_used = true;
    return (unsigned int)cfg->psk_key.len;
}

static unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    anydtls_session *s = session_of(ssl);
    const anydtls_config *cfg = s->cfg;
    uint8_t key[ANYDTLS_PSK_MAX];
    if (identity == NULL || strlen(identity) > ANYDTLS_PSK_IDENTITY_MAX)
        return 0;
    int n = cfg->psk_lookup(cfg->psk_user, identity, key, sizeof key);
    if (n <= 0 || (size_t)n > sizeof key || (unsigned)n > max_psk_len) {
        anydtls_wipe(key, sizeof key);
        return 0; /* OpenSSL answers unknown_psk_identity */
    }
    memcpy(psk, key, (size_t)n);
    anydtls_wipe(key, sizeof key);
    snprintf(s->psk_identity, sizeof s->psk_identity, "%s", identity);
    s->psk_used = true;
    return (unsigned int)n;
}

/* The common code already verified the cookie; DTLSv1_listen asks again
 * for the one it carries: it must be the one that was verified. */
static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    anydtls_session *s = session_of(ssl);
    return s->from_cookie && len == ANYDTLS_COOKIE_LEN &&
           anydtls_ct_equal(cookie, s->cookie, ANYDTLS_COOKIE_LEN);
}

static int cookie_generate_cb(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    /* Only reached if the cookie did not verify: never for our sessions. */
    anydtls_session *s = session_of(ssl);
    memcpy(cookie, s->cookie, ANYDTLS_COOKIE_LEN);
    *len = ANYDTLS_COOKIE_LEN;
    return 1;
}

static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    anydtls_session *s = session_of(ssl);
    uint32_t next = anydtls_timer_next(s->cfg, prev_us == 0 ? 0 : s->timer_ms);
    if (next != 0)
        s->timer_ms = next;
    return s->timer_ms * 1000u;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_READ_ALERT) {
        anydtls_session *s = SSL_get_app_data(ssl);
        s->alert = ret & 0xFF;
    }
}

/* ---------------- configuration ---------------- */

static int load_cert_mem(SSL_CTX *ctx, const struct anydtls_bytes *chain)
{
    int ok = 0;
    X509 *x = NULL;
    BIO *cb = BIO_new_mem_buf(chain->data, (int)chain->len);
    if (cb == NULL)
        goto fail;
    x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1)
        goto fail;
    X509 *extra;
    while ((extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            goto fail;
        }
    }
    ERR_clear_error(); /* the end of the PEM stream */
    ok = 1;
fail:
    X509_free(x);
    BIO_free(cb);
    return ok;
}

/* The own private key, from its file or from memory, checked against the
 * certificate before OpenSSL takes it.  OpenSSL 3.0's SSL_CTX_use_PrivateKey
 * files a key of another type than the certificate's in that type's slot
 * and accepts it (the mismatch shows only later, as "no certificate
 * assigned"), and refuses a wrong key of the same type as a load error:
 * both are the one mismatch here. */
static int use_key(anydtls_config *cfg, SSL_CTX *ctx)
{
    const char *what = cfg->key_file != NULL ? "cannot load certificate or key file"
                                             : "cannot load certificate or key PEM";
    BIO *b = cfg->key_file != NULL ? BIO_new_file(cfg->key_file, "r")
                                   : BIO_new_mem_buf(cfg->key_pem.data, (int)cfg->key_pem.len);
    EVP_PKEY *pk = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, SSL_CTX_get_default_passwd_cb(ctx),
                                                       SSL_CTX_get_default_passwd_cb_userdata(ctx))
                             : NULL;
    X509 *own = SSL_CTX_get0_certificate(ctx);
    int ok = 0;
    if (pk != NULL && own != NULL && X509_check_private_key(own, pk) != 1)
        what = "private key does not match certificate";
    else
        ok = pk != NULL && SSL_CTX_use_PrivateKey(ctx, pk) == 1;
    EVP_PKEY_free(pk);
    BIO_free(b);
    return ok ? ANYDTLS_OK : config_fail(cfg, ANYDTLS_E_CREDENTIALS, what);
}

static int load_ca_mem(SSL_CTX *ctx, const struct anydtls_bytes *pem)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
    STACK_OF(X509_INFO) *infos = b != NULL ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
    int added = 0, ok = infos != NULL;
    for (int i = 0; ok && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 != NULL) {
            ok = X509_STORE_add_cert(store, info->x509) == 1;
            added++;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    return ok && added > 0;
}

/* OpenSSL goes on when an allocation fails while it decodes a certificate's
 * public key or extensions (caching the certificate as keyless or invalid)
 * or sizes a key (caching 0 bytes, 0 bits of security): every handshake
 * would then fail later, as untrusted or with a bad signature.  What the
 * configuration relies on is checked once it is loaded. */
static int key_usable(EVP_PKEY *k)
{
    return k != NULL && EVP_PKEY_get_size(k) > 0 && EVP_PKEY_get_security_bits(k) > 0;
}

static int cert_usable(X509 *x)
{
    return key_usable(X509_get0_pubkey(x)) && !(X509_get_extension_flags(x) & EXFLAG_INVALID);
}

static int credentials_usable(SSL_CTX *ctx)
{
    X509 *own = SSL_CTX_get0_certificate(ctx);
    if (own != NULL && (!cert_usable(own) || !key_usable(SSL_CTX_get0_privatekey(ctx))))
        return 0;
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (ca != NULL && !cert_usable(ca))
            return 0;
    }
    return 1;
}

static int setup_credentials(anydtls_config *cfg, SSL_CTX *ctx)
{
    int rc;
    if (cfg->cert_file != NULL && SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load certificate or key file");
    if (cfg->cert_pem.data != NULL && !load_cert_mem(ctx, &cfg->cert_pem))
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load certificate or key PEM");
    if ((cfg->cert_file != NULL || cfg->cert_pem.data != NULL) && (rc = use_key(cfg, ctx)) != 0)
        return rc;
    if ((cfg->cert_file != NULL || cfg->cert_pem.data != NULL) &&
        SSL_CTX_check_private_key(ctx) != 1)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "private key does not match certificate");
    if (cfg->ca_file != NULL && SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load CA file");
    if (cfg->ca_pem.data != NULL && !load_ca_mem(ctx, &cfg->ca_pem))
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load CA PEM");
    if (!credentials_usable(ctx))
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "certificate or key cannot be used");
    EVP_PKEY *pk = SSL_CTX_get0_privatekey(ctx);
    if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
        cfg->cert_group = anydtls_ecdsa_group((unsigned)(EVP_PKEY_get_bits(pk) + 7) / 8);
    return ANYDTLS_OK;
}

/* What a verification error means to anydtls (section 6.2 of
 * doc/architecture.md). */
static int verify_code(long x509_error)
{
    switch (x509_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return ANYDTLS_E_CERT_EXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return ANYDTLS_E_NAME_MISMATCH;
    case X509_V_ERR_OUT_OF_MEM:
        return ANYDTLS_E_NOMEM;
    default:
        return ANYDTLS_E_CERT_UNTRUSTED;
    }
}

/* A refused certificate earns the rule's alert (anydtls_code_alert: 45
 * expired or not yet valid, 42 a name mismatch, 48 any other failure), but
 * OpenSSL 3.0 to 3.5 sends ssl_x509err2alert(verify result)
 * (ssl/statem/statem_lib.c): 42 bad_certificate for a certificate not yet
 * valid, 51 decrypt_error for a bad signature, 43, 44 or 46 for others.
 * The verify result is the store context's error when verification ends
 * (ssl_verify_cert_chain, ssl/ssl_cert.c), client and server alike.  So the
 * callback keeps the refusal and leaves an error that OpenSSL maps to the
 * rule's alert; the session keeps the real one for its code and detail. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
    if (ok)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    anydtls_session *s = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    int err = X509_STORE_CTX_get_error(xs);
    if (s != NULL && OSES(s)->verify_error == X509_V_OK)
        OSES(s)->verify_error = err;
    switch (anydtls_code_alert(verify_code(err))) {
    case 45: /* certificate_expired */
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_HAS_EXPIRED);
        break;
    case 42: /* bad_certificate */
        X509_STORE_CTX_set_error(xs, X509_V_ERR_HOSTNAME_MISMATCH);
        break;
    case 48: /* unknown_ca */
        X509_STORE_CTX_set_error(xs, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
        break;
    default: /* no alert of the rule's (out of memory): OpenSSL's */
        break;
    }
    return 0;
}

static int setup_verify(anydtls_config *cfg, SSL_CTX *ctx)
{
    int mode = SSL_VERIFY_NONE;
    bool have_ca = cfg->ca_file != NULL || cfg->ca_pem.data != NULL;
    if (cfg->verify == ANYDTLS_VERIFY_PEER && cfg->role == ANYDTLS_CLIENT)
        mode = SSL_VERIFY_PEER;
    if (cfg->verify == ANYDTLS_VERIFY_PEER && cfg->role == ANYDTLS_SERVER && have_ca)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, mode != SSL_VERIFY_NONE ? verify_cb : NULL);
    if (cfg->peer_name == NULL || cfg->verify != ANYDTLS_VERIFY_PEER)
        return ANYDTLS_OK;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    int is_ip = cfg->peer_kind == ANYDTLS_PEER_IP;
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, cfg->peer_name)
                   : X509_VERIFY_PARAM_set1_host(param, cfg->peer_name, 0);
    return ok == 1 ? ANYDTLS_OK : config_fail(cfg, ANYDTLS_E_INVALID_ARG, "bad peer name");
}

/* The policy's groups, in OpenSSL's names and the policy's order. */
static bool group_list(char *list, size_t cap)
{
    size_t at = 0;
    list[0] = '\0';
    for (size_t i = 0; i < anydtls_n_groups; i++) {
        const char *name = strcmp(anydtls_groups[i].iana, "x25519") == 0      ? "X25519"
                           : strcmp(anydtls_groups[i].iana, "secp256r1") == 0 ? "P-256"
                           : strcmp(anydtls_groups[i].iana, "secp384r1") == 0 ? "P-384"
                                                                              : NULL;
        int n = name != NULL ? snprintf(list + at, cap - at, "%s%s", at > 0 ? ":" : "", name) : -1;
        if (n < 0 || (size_t)n >= cap - at)
            return false;
        at += (size_t)n;
    }
    return true;
}

/* The policy's suites that cfg has credentials for and its groups, the
 * server choosing by their order. */
static int setup_ciphers(anydtls_config *cfg, SSL_CTX *ctx)
{
    char list[512];
    if (!anydtls_policy_cipher_names(anydtls_policy_creds(cfg), 0, list, sizeof list))
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cipher list too long");
    if (SSL_CTX_set_cipher_list(ctx, list) != 1)
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set the cipher list");
    if (!group_list(list, sizeof list) || SSL_CTX_set1_groups_list(ctx, list) != 1)
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set the groups");
    if (cfg->role == ANYDTLS_SERVER)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    return ANYDTLS_OK;
}

/* The key exchanges the peer's ClientHello rules out (its groups): OpenSSL
 * would choose ECDHE-PSK without a shared group and fail after its
 * ServerHello (3.0). */
static bool bar_suites(anydtls_session *s, SSL *ssl)
{
    char list[512];
    if (s->kx_barred == 0)
        return true;
    return anydtls_policy_cipher_names(anydtls_policy_creds(s->cfg), s->kx_barred, list, sizeof list) &&
           SSL_set_cipher_list(ssl, list) == 1;
}

static void setup_psk(anydtls_config *cfg, SSL_CTX *ctx)
{
    if (cfg->role == ANYDTLS_CLIENT && cfg->psk_key.data != NULL)
        SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    if (cfg->role == ANYDTLS_SERVER && cfg->psk_lookup != NULL) {
        SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (cfg->psk_identity != NULL)
            SSL_CTX_use_psk_identity_hint(ctx, cfg->psk_identity);
    }
}

static void ossl_config_free(anydtls_config *cfg)
{
    struct ossl_config *oc = OCFG(cfg);
    if (oc == NULL)
        return;
    SSL_CTX_free(oc->ctx);
    BIO_meth_free(oc->bio_method);
    free(oc);
    cfg->native = NULL;
}

static int ossl_config_build(anydtls_config *cfg)
{
    int rc = ANYDTLS_E_NOMEM;
    struct ossl_config *oc = calloc(1, sizeof *oc);
    if (oc == NULL)
        return config_fail(cfg, rc, "out of memory");
    cfg->native = oc;
    oc->bio_method = bio_method_new();
    oc->ctx = SSL_CTX_new(cfg->role == ANYDTLS_CLIENT ? DTLS_client_method()
                                                      : DTLS_server_method());
    if (oc->bio_method == NULL || oc->ctx == NULL) {
        rc = config_fail(cfg, rc, "cannot create OpenSSL context");
        goto fail;
    }
    if (SSL_CTX_set_min_proto_version(oc->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(oc->ctx, DTLS1_2_VERSION) != 1) {
        rc = config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set DTLS 1.2");
        goto fail;
    }
    if ((rc = setup_ciphers(cfg, oc->ctx)) != ANYDTLS_OK ||
        (rc = setup_credentials(cfg, oc->ctx)) != ANYDTLS_OK ||
        (rc = setup_verify(cfg, oc->ctx)) != ANYDTLS_OK)
        goto fail;
    setup_psk(cfg, oc->ctx);
    if (cfg->role == ANYDTLS_SERVER) {
        SSL_CTX_set_cookie_generate_cb(oc->ctx, cookie_generate_cb);
        SSL_CTX_set_cookie_verify_cb(oc->ctx, cookie_verify_cb);
    }
    SSL_CTX_set_info_callback(oc->ctx, info_cb);
    /* No session cache: a server resumes from tickets only, which need no
     * state per client; a client keeps what anydtls_session_save writes. */
    SSL_CTX_set_session_cache_mode(oc->ctx, SSL_SESS_CACHE_OFF);
    static const unsigned char sid_ctx[] = "anydtls";
    if (cfg->role == ANYDTLS_SERVER &&
        SSL_CTX_set_session_id_context(oc->ctx, sid_ctx, sizeof sid_ctx - 1) != 1) {
        rc = config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set the session id context");
        goto fail;
    }
    return ANYDTLS_OK;
fail:
    ossl_config_free(cfg);
    return rc;
}

/* ---------------- sessions ---------------- */

static void ossl_session_free(anydtls_session *s)
{
    struct ossl_session *os = OSES(s);
    if (os == NULL)
        return;
    SSL_free(os->ssl);
    SSL_SESSION_free(os->offered);
    free(os);
    s->native = NULL;
    ERR_clear_error();
}

static int ossl_session_new(anydtls_session *s, const anydtls_prestate *ps)
{
    struct ossl_config *oc = OCFG(s->cfg);
    struct ossl_session *os = calloc(1, sizeof *os);
    if (os == NULL)
        return ANYDTLS_E_NOMEM;
    s->native = os;
    BIO *bio = NULL;
    ERR_clear_error();
    os->ssl = SSL_new(oc->ctx);
    if (os->ssl == NULL || !bar_suites(s, os->ssl) || (bio = BIO_new(oc->bio_method)) == NULL)
        goto fail;
    BIO_set_data(bio, s);
    SSL_set_bio(os->ssl, bio, bio);
    /* It allocates (the ex_data slot); every callback relies on it. */
    if (!SSL_set_app_data(os->ssl, s))
        goto fail;
    /* Renegotiation is refused in both roles with a no_renegotiation
     * warning, and the session goes on (doc/architecture.md); OpenSSL's
     * server refuses by default, its client would renegotiate. */
    SSL_set_options(os->ssl, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
                                 (s->cfg->resumption ? 0 : SSL_OP_NO_TICKET) |
                                 (ps != NULL ? SSL_OP_COOKIE_EXCHANGE : 0));
    if (!SSL_set_mtu(os->ssl, (long)s->mtu))
        goto fail;
    DTLS_set_timer_cb(os->ssl, timer_cb);
    if (s->cfg->role == ANYDTLS_SERVER) {
        SSL_set_accept_state(os->ssl);
    } else {
        SSL_set_connect_state(os->ssl);
        const char *name = s->cfg->peer_name;
        if (name != NULL && s->cfg->peer_kind == ANYDTLS_PEER_HOST &&
            !SSL_set_tlsext_host_name(os->ssl, name))
            goto fail;
    }
    /* SSL_set_bio and SSL_set_*_state return nothing, yet from OpenSSL
     * 3.2 on they rebuild the record layer, which allocates: a failure
     * there leaves only an error in the queue, and a session that cannot
     * handshake. */
    if (ERR_peek_error() != 0)
        goto fail;
    return ANYDTLS_OK;
fail:
    pop_error(s->detail, sizeof s->detail);
    ossl_session_free(s);
    return ANYDTLS_E_NOMEM;
}

/* The error that refused the peer's certificate: verify_cb's, else the
 * verify result (X509_V_OK when there is none). */
static long verify_error(const struct ossl_session *os)
{
    return os->verify_error != X509_V_OK ? os->verify_error : SSL_get_verify_result(os->ssl);
}

/* Why a handshake step failed, from the verify result and the reason code. */
static int map_failure(anydtls_session *s, unsigned long e)
{
    struct ossl_session *os = OSES(s);
    if (os->io_error)
        return ANYDTLS_E_IO;
    int reason = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return s->established ? ANYDTLS_E_BACKEND : ANYDTLS_E_HANDSHAKE;
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
        return verify_code(verify_error(os));
    if (reason == SSL_R_PSK_IDENTITY_NOT_FOUND)
        return ANYDTLS_E_PSK_IDENTITY;
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return ANYDTLS_E_CERT_UNTRUSTED;
    if (reason == SSL_R_READ_TIMEOUT_EXPIRED)
        return anydtls_timeout_code(s);
    if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        s->alert = reason - SSL_AD_REASON_OFFSET;
        return anydtls_alert_code(s->alert);
    }
    return s->established ? ANYDTLS_E_BACKEND : ANYDTLS_E_HANDSHAKE;
}

/* Map the result of an SSL_* I/O call. */
static int map_result(anydtls_session *s, int ret)
{
    struct ossl_session *os = OSES(s);
    int err = SSL_get_error(os->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        ERR_clear_error();
        return ANYDTLS_E_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        return ANYDTLS_E_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return ANYDTLS_E_CLOSED;
    default:
        break;
    }
    char msg[200] = "";
    unsigned long e = pop_error(msg, sizeof msg);
    int code = map_failure(s, e);
    long why = verify_error(os);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
        why != X509_V_OK) {
        /* "certificate verify failed" says nothing of why: the real error. */
        size_t at = strlen(msg);
        snprintf(msg + at, sizeof msg - at, " (%s)", X509_verify_cert_error_string(why));
    }
    return anydtls_session_fail(s, code, e != 0 ? (long)e : err, msg[0] ? msg : "SSL I/O error");
}

static int ossl_handshake(anydtls_session *s)
{
    struct ossl_session *os = OSES(s);
    if (s->from_cookie && !SSL_is_init_finished(os->ssl) && SSL_get_state(os->ssl) == TLS_ST_BEFORE) {
        BIO_ADDR *client = BIO_ADDR_new();
        int r = client != NULL ? DTLSv1_listen(os->ssl, client) : -1;
        BIO_ADDR_free(client);
        if (r != 1) {
            char msg[200] = "";
            unsigned long e = pop_error(msg, sizeof msg);
            return anydtls_session_fail(s, ANYDTLS_E_HANDSHAKE, (long)e,
                                        msg[0] ? msg : "verified ClientHello not accepted");
        }
    }
    int r = SSL_do_handshake(os->ssl);
    if (r == 1) {
        ERR_clear_error();
        const char *id = s->cfg->role == ANYDTLS_SERVER ? SSL_get_psk_identity(os->ssl) : NULL;
        anydtls_keep_psk_identity(s, id, id != NULL ? strlen(id) : 0);
        return ANYDTLS_OK;
    }
    return map_result(s, r);
}

static int ossl_read(anydtls_session *s, uint8_t *buf, size_t cap)
{
    int r = SSL_read(OSES(s)->ssl, buf, (int)cap);
    return r > 0 ? r : map_result(s, r);
}

static int ossl_write(anydtls_session *s, const uint8_t *buf, size_t len)
{
    int r = SSL_write(OSES(s)->ssl, buf, (int)len);
    return r > 0 ? r : map_result(s, r);
}

static int ossl_shutdown(anydtls_session *s)
{
    int r = SSL_shutdown(OSES(s)->ssl);
    /* 0: our close_notify is sent; waiting for the peer's is optional. */
    return r >= 0 ? ANYDTLS_OK : map_result(s, r);
}

static int ossl_get_timeout(anydtls_session *s, uint32_t *ms)
{
    struct timeval tv;
    if (DTLSv1_get_timeout(OSES(s)->ssl, &tv) != 1)
        return 0;
    uint64_t v = (uint64_t)tv.tv_sec * 1000u + ((uint64_t)tv.tv_usec + 999u) / 1000u;
    *ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return 1;
}

static int ossl_handle_timeout(anydtls_session *s)
{
    uint32_t ms;
    if (ossl_get_timeout(s, &ms) != 1 || ms > 0)
        return ANYDTLS_OK; /* nothing due */
    if (!s->established && anydtls_timer_next(s->cfg, s->timer_ms) == 0)
        return anydtls_session_fail(s, anydtls_timeout_code(s), 0,
                                    "retransmission budget exhausted");
    int r = DTLSv1_handle_timeout(OSES(s)->ssl);
    return r >= 0 ? ANYDTLS_OK : map_result(s, r);
}

static int ossl_set_mtu(anydtls_session *s, unsigned mtu)
{
    return SSL_set_mtu(OSES(s)->ssl, (long)mtu) ? ANYDTLS_OK : ANYDTLS_E_INVALID_ARG;
}

static int ossl_max_payload(anydtls_session *s)
{
    size_t n = DTLS_get_data_mtu(OSES(s)->ssl);
    return n > 0 && n <= INT32_MAX ? (int)n : ANYDTLS_E_BACKEND;
}

static int ossl_export(anydtls_session *s, uint8_t *out, size_t out_len, const char *label,
                       const uint8_t *ctx, size_t ctx_len)
{
    int r = SSL_export_keying_material(OSES(s)->ssl, out, out_len, label, strlen(label), ctx,
                                       ctx_len, ctx != NULL);
    if (r == 1)
        return ANYDTLS_OK;
    char msg[200] = "";
    unsigned long e = pop_error(msg, sizeof msg);
    s->native_error = (long)e;
    anydtls_set_detail(s->detail, sizeof s->detail, msg);
    return ANYDTLS_E_BACKEND;
}

/* ---------------- resumption ---------------- */

static int ossl_session_save(anydtls_session *s, uint8_t *buf, size_t cap)
{
    SSL_SESSION *sess = SSL_get1_session(OSES(s)->ssl);
    if (sess == NULL)
        return ANYDTLS_E_BACKEND;
    int need = i2d_SSL_SESSION(sess, NULL);
    if (need > 0 && (size_t)need <= cap) {
        unsigned char *p = buf;
        need = i2d_SSL_SESSION(sess, &p);
    }
    SSL_SESSION_free(sess);
    return need > 0 ? need : ANYDTLS_E_BACKEND;
}

static int ossl_session_resume(anydtls_session *s, const uint8_t *data, size_t len)
{
    const unsigned char *p = data;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)len);
    int rc = ANYDTLS_E_INVALID_ARG;
    if (sess != NULL && p == data + len)
        rc = SSL_set_session(OSES(s)->ssl, sess) == 1 ? ANYDTLS_OK : ANYDTLS_E_BACKEND;
    if (rc == ANYDTLS_OK) {
        SSL_SESSION_free(OSES(s)->offered);
        OSES(s)->offered = sess; /* our reference, until the session is freed */
    } else {
        SSL_SESSION_free(sess);
    }
    ERR_clear_error();
    return rc;
}

static bool ossl_resumed(const anydtls_session *s)
{
    return SSL_session_reused(OSES(s)->ssl) == 1;
}

static const char *ossl_cipher(const anydtls_session *s)
{
    return SSL_CIPHER_standard_name(SSL_get_current_cipher(OSES(s)->ssl));
}

static const char *ossl_protocol(const anydtls_session *s)
{
    return SSL_get_version(OSES(s)->ssl);
}

static int ossl_peer_cert_der(anydtls_session *s, uint8_t *der, size_t cap)
{
    X509 *x = SSL_get0_peer_certificate(OSES(s)->ssl);
    if (x == NULL)
        return 0;
    int n = i2d_X509(x, NULL);
    if (n <= 0)
        return ANYDTLS_E_BACKEND;
    if (der == NULL || (size_t)n > cap)
        return der == NULL ? n : ANYDTLS_E_MSG_TOO_BIG;
    unsigned char *p = der;
    return i2d_X509(x, &p) == n ? n : ANYDTLS_E_BACKEND;
}

/* ---------------- crypto services ---------------- */

static int ossl_random(uint8_t *buf, size_t len)
{
    if (RAND_bytes(buf, (int)len) == 1)
        return ANYDTLS_OK;
    ERR_clear_error();
    return ANYDTLS_E_BACKEND;
}

static void sha256_parts(const uint8_t *pad, const struct anydtls_iov *iov, size_t n,
                         uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, SHA256_CBLOCK);
    for (size_t i = 0; i < n; i++)
        SHA256_Update(&c, iov[i].p, iov[i].n);
    SHA256_Final(out, &c);
    anydtls_wipe(&c, sizeof c);
}

/* HMAC-SHA256 (RFC 2104) on the stack; keys are at most 64 bytes here. */
static int ossl_hmac_sha256(const uint8_t *key, size_t key_len, const struct anydtls_iov *iov,
                            size_t n_iov, uint8_t out[32])
{
    uint8_t pad[SHA256_CBLOCK], inner[32];
    if (key_len > SHA256_CBLOCK)
        return ANYDTLS_E_INVALID_ARG;
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    sha256_parts(pad, iov, n_iov, inner);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    const struct anydtls_iov outer = {inner, sizeof inner};
    sha256_parts(pad, &outer, 1, out);
    anydtls_wipe(pad, sizeof pad);
    anydtls_wipe(inner, sizeof inner);
    return ANYDTLS_OK;
}

static const char *ossl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

const struct anydtls_backend anydtls_backend_driver = {
    .name = "openssl",
    .caps = ANYDTLS_CAP_CERT | ANYDTLS_CAP_PSK | ANYDTLS_CAP_EXPORTER | ANYDTLS_CAP_MTU |
            ANYDTLS_CAP_COOKIE | ANYDTLS_CAP_RESUMPTION,
    .version = ossl_version,
    .config_build = ossl_config_build,
    .config_free = ossl_config_free,
    .session_new = ossl_session_new,
    .session_free = ossl_session_free,
    .handshake = ossl_handshake,
    .read = ossl_read,
    .write = ossl_write,
    .shutdown = ossl_shutdown,
    .get_timeout = ossl_get_timeout,
    .handle_timeout = ossl_handle_timeout,
    .set_mtu = ossl_set_mtu,
    .max_payload = ossl_max_payload,
    .export_keying_material = ossl_export,
    .cipher = ossl_cipher,
    .protocol = ossl_protocol,
    .peer_cert_der = ossl_peer_cert_der,
    .session_save = ossl_session_save,
    .session_resume = ossl_session_resume,
    .resumed = ossl_resumed,
    .random = ossl_random,
    .hmac_sha256 = ossl_hmac_sha256,
};
