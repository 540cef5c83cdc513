/*
 * The wolfSSL driver.  The only file of anydtls that includes a wolfSSL
 * header; it uses wolfSSL's own names only, never its OpenSSL
 * compatibility layer (whose symbols collide with libssl's).
 *
 * Cookies: wolfSSL 5.5 checks a DTLS 1.2 cookie itself, with a secret per
 * WOLFSSL object, as HMAC-SHA256(secret, peer bytes || client version ||
 * random || session id || cipher suites || compression): the common
 * construction.  After the common check verifies a ClientHello, the new
 * object gets the key that verified and the same canonical peer bytes, and
 * accepts the ClientHello at once.  Nothing of wolfSSL exists before that.
 */
#include "wire.h"

#include <wolfssl/options.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/version.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Before 5.6.4 wolfSSL reads a datagram in one call of the larger of 1400
 * bytes (MAX_MTU) and the size of the last wolfSSL_read/peek + 500; from
 * 5.6.4 (wolfSSL PR 6841) of the MTU set + 500, or 1900 without
 * WOLFSSL_DTLS_MTU.  Datagrams up to ANYDTLS_MAX_DATAGRAM are legal. */
#if LIBWOLFSSL_VERSION_HEX < 0x05006004
#define ROOM_BY_READ_SIZE 1
#endif

struct wolf_config {
    WOLFSSL_CTX *ctx;
};

/* The last flight of a handshake (ChangeCipherSpec + Finished: the
 * server's in a full handshake, the client's in a resumed one), kept to
 * answer the peer's retransmission: wolfSSL drops that retransmission once
 * its handshake is done and never resends the flight itself. */
#define FLIGHT_MAX 256

/* The epoch-0 handshake fragments of the peer's last flight, as SHA-256
 * digests of their bytes from the handshake header on (record headers
 * differ in a retransmission, fragments do not): only a datagram that
 * repeats one of them is the peer's retransmission. */
#define PEER_FRAGS 8

struct wolf_session {
    WOLFSSL *ssl;
    bool io_error;
    bool write_blocked;
    bool psk_unknown;
    bool alert_out;      /* wolfSSL sent an alert record (any epoch) */
    int16_t sent_fatal;  /* the fatal alert wolfSSL sent, -1 none */
    bool bad_cert_held;  /* wolfSSL's bad_certificate, for map_result to send */
    uint16_t flight_len; /* bytes in flight: 2-byte length + datagram, ... */
    bool flight_overflow;
    bool offered_ticket; /* a client resuming, until the ServerHello */
    uint8_t offered_id_len;
    uint8_t offered_id[32]; /* the session id it offered with the ticket */
    uint8_t flight[FLIGHT_MAX];
    bool sent_since_peer; /* we sent since the peer's last handshake datagram */
    uint8_t n_peer_frags;
    uint8_t peer_frags[PEER_FRAGS][WC_SHA256_DIGEST_SIZE];
    uint64_t resent_ms;   /* when our flight was last sent again, 0 never */
    /* The datagram being handed to wolfSSL (see io_recv). */
    uint8_t *rx;
    size_t rx_len, rx_at;
    size_t rx_need;       /* a record longer than wolfSSL's read: its length */
    bool rx_split;        /* hand the next long record over in pieces */
    uint8_t rx_tries;     /* ways tried to give wolfSSL room for it */
    size_t rx_split_end;  /* the end of the record going in pieces */
    bool mtu_raised;
    bool bad_reneg_info; /* an initial ClientHello claimed a previous handshake */
    bool reneg_pending; /* a renegotiating ClientHello awaits its warning */
    bool sealing_alert; /* the next record wolfSSL sends becomes that warning */
    uint64_t refused_ms; /* when that warning was last sent, 0 never */
};

#define WCFG(cfg) ((struct wolf_config *)(cfg)->native)
#define WSES(s) ((struct wolf_session *)(s)->native)

static int config_fail(anydtls_config *cfg, int code, const char *what, int err)
{
    char msg[120] = "";
    if (err != 0)
        wolfSSL_ERR_error_string_n((unsigned long)err, msg, sizeof msg);
    snprintf(cfg->error, sizeof cfg->error, "%s%s%s", what, msg[0] ? ": " : "", msg);
    return code;
}

/* wolfSSL_Init and wolfSSL_Cleanup count their callers, but the count's
 * own lock is created unguarded on first use in some builds: configurations
 * built in several threads at once take turns here. */
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;

static int library_acquire(void)
{
    pthread_mutex_lock(&library_lock);
    int r = wolfSSL_Init();
    pthread_mutex_unlock(&library_lock);
    return r;
}

static void library_release(void)
{
    pthread_mutex_lock(&library_lock);
    wolfSSL_Cleanup();
    pthread_mutex_unlock(&library_lock);
}

/* Debian's wolfSSL keeps a fixed-point ECC cache per thread (FP_ECC in
 * thread-local storage), freed only by wc_ecc_fp_free() in that thread:
 * every thread that ran a handshake would leak it when it ends.  A thread
 * that calls into wolfSSL through us registers a destructor that frees it
 * (the main thread's is freed by wolfSSL_Cleanup). */
#ifdef FP_ECC
static pthread_key_t ecc_cache_key;
static pthread_once_t ecc_cache_once = PTHREAD_ONCE_INIT;

static void ecc_cache_free(void *unused)
{
    (void)unused;
    wc_ecc_fp_free();
}

static void ecc_cache_key_create(void)
{
    (void)pthread_key_create(&ecc_cache_key, ecc_cache_free);
}

static void note_thread(void)
{
    (void)pthread_once(&ecc_cache_once, ecc_cache_key_create);
    if (pthread_getspecific(ecc_cache_key) == NULL)
        (void)pthread_setspecific(ecc_cache_key, &ecc_cache_key);
}
#else
static void note_thread(void)
{
}
#endif

/* ---------------- I/O callbacks ---------------- */

static int io_result(anydtls_session *s, int rc, int would_block)
{
    if (rc >= 0)
        return rc;
    if (rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE)
        return would_block;
    WSES(s)->io_error = true;
    return WOLFSSL_CBIO_ERR_GENERAL;
}

/* Keep what we send from our ChangeCipherSpec on. */
static void flight_add(struct wolf_session *ws, const uint8_t *d, size_t n)
{
    if (ws->flight_overflow || n > FLIGHT_MAX - 2u - ws->flight_len) {
        ws->flight_overflow = true;
        return;
    }
    ws->flight[ws->flight_len] = (uint8_t)(n >> 8);
    ws->flight[ws->flight_len + 1] = (uint8_t)n;
    memcpy(ws->flight + ws->flight_len + 2, d, n);
    ws->flight_len = (uint16_t)(ws->flight_len + 2 + n);
}

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Our last flight again, at most once per initial retransmission timeout:
 * the peer retransmits no faster, a replayer gets no more. */
static void flight_resend(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    uint64_t now = clock_ms();
    if (ws->resent_ms != 0 && now - ws->resent_ms < s->cfg->timeout_initial_ms)
        return;
    ws->resent_ms = now;
    for (size_t i = 0; !ws->flight_overflow && i + 2 <= ws->flight_len;) {
        size_t n = ((size_t)ws->flight[i] << 8) | ws->flight[i + 1];
        (void)anydtls_session_send(s, ws->flight + i + 2, n);
        i += 2 + n;
    }
}

/* The records of a datagram (whole: common/io.c handed over only those). */
#define FOR_RECORDS(at, p, n)                                                                      \
    for (size_t at = 0; at + 13 <= (n); at += 13 + (((size_t)(p)[at + 11] << 8) | (p)[at + 12]))

static bool is_plain_handshake(const uint8_t *r)
{
    return r[0] == 22 && (r[3] | r[4]) == 0 && (((size_t)r[11] << 8) | r[12]) >= 12;
}

static void fragment_digest(const uint8_t *r, uint8_t out[WC_SHA256_DIGEST_SIZE])
{
    if (wc_Sha256Hash(r + 13, ((word32)r[11] << 8) | r[12], out) != 0)
        memset(out, 0, WC_SHA256_DIGEST_SIZE); /* matches nothing a peer sends */
}

/* During the handshake: the epoch-0 handshake fragments the peer sends,
 * from the first datagram after one of ours on (its latest flight). */
static void note_peer_flight(struct wolf_session *ws, const uint8_t *p, size_t n)
{
    FOR_RECORDS(at, p, n)
    {
        if (!is_plain_handshake(p + at))
            continue;
        if (ws->sent_since_peer) {
            ws->n_peer_frags = 0;
            ws->sent_since_peer = false;
        }
        if (ws->n_peer_frags == PEER_FRAGS) {
            memmove(ws->peer_frags[0], ws->peer_frags[1], sizeof ws->peer_frags[0] * (PEER_FRAGS - 1));
            ws->n_peer_frags--;
        }
        fragment_digest(p + at, ws->peer_frags[ws->n_peer_frags++]);
    }
}

/* After our handshake: a datagram with an epoch-0 handshake record is
 * never for wolfSSL (it would drop it).  *genuine: one of its fragments
 * repeats the peer's last flight, which the peer sends again because our
 * last flight was lost.  Anything else is forged or stale: answering it
 * would reflect our flight to whatever address the datagram claims. */
static bool is_handshake_repeat(const struct wolf_session *ws, const uint8_t *p, size_t n,
                                bool *genuine)
{
    bool repeat = false;
    uint8_t d[WC_SHA256_DIGEST_SIZE];
    *genuine = false;
    FOR_RECORDS(at, p, n)
    {
        if (!is_plain_handshake(p + at))
            continue;
        repeat = true;
        fragment_digest(p + at, d);
        for (unsigned i = 0; i < ws->n_peer_frags && !*genuine; i++)
            *genuine = memcmp(d, ws->peer_frags[i], sizeof d) == 0;
    }
    return repeat;
}

/* The last flight starts with a ChangeCipherSpec and goes on in epoch 1;
 * earlier flights (resent too when the peer repeats itself) are not part
 * of it.  Each side keeps its own: which one sends the last flight is
 * only known when the handshake ends. */
static void flight_note(struct wolf_session *ws, const uint8_t *p, size_t n)
{
    bool ccs = false, encrypted = false;
    for (size_t at = 0; at + 13 <= n; at += 13 + (((size_t)p[at + 11] << 8) | p[at + 12])) {
        ccs |= p[at] == 20;
        encrypted |= (p[at + 3] | p[at + 4]) != 0;
    }
    if (ccs) {
        ws->flight_len = 0;
        ws->flight_overflow = false;
    }
    if (ccs || encrypted)
        flight_add(ws, p, n);
}

static void send_sealed_alert(WOLFSSL *ssl, anydtls_session *s, const uint8_t *p, size_t n);

static int io_send(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    anydtls_session *s = ctx;
    const uint8_t *p = (const uint8_t *)buf;
    if (WSES(s)->sealing_alert) {
        /* Never sent as it is, and never left for wolfSSL to retry. */
        send_sealed_alert(ssl, s, p, (size_t)len);
        return len;
    }
    /* An unknown PSK identity: wolfSSL 5.5 tells the client nothing,
     * 5.7 handshake_failure with ECDHE-PSK suites.  The client must learn
     * unknown_psk_identity, as from OpenSSL and GnuTLS, whatever the
     * release: map_result sends it, and wolfSSL's own alert is dropped. */
    bool plain_alert = len >= 15 && p[0] == 21 && (p[3] | p[4]) == 0;
    if (WSES(s)->psk_unknown && plain_alert)
        return len;
    /* A refused certificate: wolfSSL 5.5.4 (DoCertFatalAlert) sends
     * bad_certificate for all but an expired one and an unknown signer,
     * also for a bad signature or a self-signed certificate, where
     * the rule (anydtls_code_alert) says unknown_ca, as OpenSSL and GnuTLS
     * send.  Why is known only when the handshake call returns: map_result
     * sends the rule's alert then (bad_certificate for any other failure). */
    if (len == 15 && plain_alert && p[13] == 2 && p[14] == 42 && !s->established) {
        WSES(s)->bad_cert_held = true;
        return len;
    }
    /* wolfSSL 5.5 answers a DTLS 1.0 ClientHello with handshake_failure,
     * 5.7 with protocol_version: the rule (anydtls_failure_alert) says the
     * latter, whatever the release. */
    uint8_t version_alert[15];
    int rule = anydtls_failure_alert(s, ANYDTLS_E_HANDSHAKE);
    if (len == (int)sizeof version_alert && plain_alert && p[13] == 2 && !s->established &&
        s->peer_hello_version == 0xFEFF && p[14] != rule) {
        memcpy(version_alert, p, sizeof version_alert);
        version_alert[14] = (uint8_t)rule;
        p = version_alert;
    }
    if (plain_alert && p[13] == 2)
        WSES(s)->sent_fatal = p[14];
    WSES(s)->alert_out |= len >= 13 && p[0] == 21;
    if (!s->established) {
        flight_note(WSES(s), p, (size_t)len);
        WSES(s)->sent_since_peer = true;
    }
    int rc = anydtls_session_send(s, p, (size_t)len);
    WSES(s)->write_blocked = rc == ANYDTLS_E_WANT_WRITE;
    return io_result(s, rc, WOLFSSL_CBIO_ERR_WANT_WRITE);
}

/* wolfSSL 5.5's client takes any ServerHello as accepting its ticket, so
 * a server that declines it (another key, resumption off) would fail the
 * handshake with "out of order message".  When a datagram shows that the
 * server declined, wolfSSL is told to forget the ticket before it reads
 * the ServerHello, and falls back to a full handshake.  The session id
 * says it when it is not empty: the one offered is echoed on acceptance
 * (RFC 5077, 3.4), another is a new session.  An empty one (OpenSSL and
 * wolfSSL 5.5 declining, wolfSSL accepting) is told apart by what follows
 * in the flight: ChangeCipherSpec or NewSessionTicket, or a Certificate,
 * ServerKeyExchange, CertificateRequest or ServerHelloDone.  A ServerHello
 * without them in its datagram (a truncated copy sent ahead of the
 * datagram, or a server that sends it alone) is held back, undecided:
 * the rest of the flight decides, in its own datagram or with the
 * ServerHello again (the original after the copy, or the server's
 * retransmission, which wolfSSL's ClientHello draws when it reads the
 * end of the flight without its start). */
enum ticket_verdict { TICKET_UNKNOWN, TICKET_TAKEN, TICKET_DECLINED };

/* r has at least 14 bytes: a record header and its first byte. */
static enum ticket_verdict verdict_of_record(const uint8_t *r)
{
    if (r[0] == 20)
        return TICKET_TAKEN;
    if (r[0] != 22 || (r[3] | r[4]) != 0)
        return TICKET_UNKNOWN;
    switch (r[13]) {
    case 4: /* NewSessionTicket */
        return TICKET_TAKEN;
    case 11: /* Certificate */
    case 12: /* ServerKeyExchange */
    case 13: /* CertificateRequest */
    case 14: /* ServerHelloDone */
        return TICKET_DECLINED;
    default:
        return TICKET_UNKNOWN;
    }
}

/* The first verdict of the records of p from at on. */
static enum ticket_verdict verdict_of_records(const uint8_t *p, size_t at, size_t n)
{
    for (; at + 14 <= n; at += 13 + (((size_t)p[at + 11] << 8) | p[at + 12])) {
        enum ticket_verdict v = verdict_of_record(p + at);
        if (v != TICKET_UNKNOWN)
            return v;
    }
    return TICKET_UNKNOWN;
}

/* p starts with the ServerHello record. */
static enum ticket_verdict ticket_verdict(const struct wolf_session *ws, const uint8_t *p,
                                          size_t n)
{
    /* record header 13, handshake header 12, version 2, random 32 */
    const size_t sid_at = 13 + 12 + 2 + 32;
    size_t sid_len = p[sid_at];
    if (sid_len > 0)
        return sid_len == ws->offered_id_len && sid_at + 1 + sid_len <= n &&
                       memcmp(p + sid_at + 1, ws->offered_id, sid_len) == 0
                   ? TICKET_TAKEN
                   : TICKET_DECLINED;
    return verdict_of_records(p, 13 + (((size_t)p[11] << 8) | p[12]), n);
}

static bool is_server_hello(const uint8_t *p, size_t n)
{
    return n > 13 + 12 + 2 + 32 && p[0] == 22 && (p[3] | p[4]) == 0 && p[13] == 2 &&
           (p[19] | p[20] | p[21]) == 0; /* the first fragment */
}

/* Whether the datagram p (while the ticket is undecided) is held back
 * from wolfSSL: a ServerHello that does not decide. */
static bool check_ticket_taken(struct wolf_session *ws, const uint8_t *p, size_t n)
{
    bool hello = is_server_hello(p, n);
    enum ticket_verdict v = hello ? ticket_verdict(ws, p, n) : verdict_of_records(p, 0, n);
    if (v == TICKET_UNKNOWN)
        return hello;
    ws->offered_ticket = false;
    if (v == TICKET_DECLINED)
        (void)wolfSSL_set_SessionTicket(ws->ssl, NULL, 0);
    return false;
}

/* ---- renegotiation (doc/architecture.md, "Renegotiation") ----
 * wolfSSL 5.5.4 and 5.7.2 (built without HAVE_SECURE_RENEGOTIATION, as
 * Debian's are) accept an initial ClientHello whose renegotiation_info is
 * not empty (TLSX_SecureRenegotiation_Parse only logs "SCR client verify
 * data present"), where RFC 5746 3.6 says to abort with handshake_failure;
 * and their server answers a renegotiating ClientHello with a fatal
 * unexpected_message ("Duplicate ClientHello") that ends the session. */

/* The renegotiation_info extension's body in a whole ClientHello
 * fragment starting at h (its handshake header), or NULL. */
static const uint8_t *reneg_info_of(const uint8_t *h, size_t n, size_t *body_len)
{
    struct anydtls_hello hello;
    struct anydtls_iov body;
    if (anydtls_wire_hello_msg(h, n, &hello) != 0 ||
        !anydtls_ext_find(hello.extensions, ANYDTLS_EXT_RENEGOTIATION_INFO, &body))
        return NULL;
    *body_len = body.n;
    return body.p;
}

/* A server's datagram before the handshake ends: does a ClientHello in it
 * carry a renegotiation_info other than the empty one of an initial
 * handshake? */
static bool claims_previous_handshake(const uint8_t *p, size_t n)
{
    for (size_t at = 0; at + 13 + 12 <= n; at += 13 + (((size_t)p[at + 11] << 8) | p[at + 12])) {
        size_t rlen = ((size_t)p[at + 11] << 8) | p[at + 12];
        if (p[at] != 22 || (p[at + 3] | p[at + 4]) != 0 || at + 13 + rlen > n)
            continue;
        size_t blen = 0;
        const uint8_t *b = reneg_info_of(p + at + 13, rlen, &blen);
        if (b != NULL && (blen != 1 || b[0] != 0))
            return true;
    }
    return false;
}

/* An encrypted handshake record after the handshake, larger than any
 * Finished (12 + 12 bytes) with the AEAD overhead of our suites (at most
 * 8 + 16): not a retransmitted Finished, so a renegotiating ClientHello. */
static bool record_authentic(WOLFSSL *ssl, const uint8_t *p, size_t n);

static bool is_renegotiation(const anydtls_session *s, const uint8_t *p, size_t n)
{
    return s->cfg->role == ANYDTLS_SERVER && n >= 13 && p[0] == 22 && (p[3] | p[4]) != 0 &&
           (((size_t)p[11] << 8) | p[12]) > 24 + 24 && record_authentic(WSES(s)->ssl, p, n);
}

#ifdef ATOMIC_USER
/* The AEAD framing of the DTLS 1.2 record whose header is at r, with
 * plain bytes of plaintext: the additional data (epoch and sequence
 * number, type, version, plaintext length) and the nonce, for AES-GCM
 * the write IV's 4 bytes and the 8-byte explicit nonce after the header
 * (RFC 5288), for ChaCha20-Poly1305 the write IV XOR the epoch and
 * sequence number (RFC 7905). */
static void aead_framing(int cipher, const uint8_t *iv, const uint8_t *r, size_t plain,
                         uint8_t aad[13], uint8_t nonce[12])
{
    memcpy(aad, r + 3, 8);
    aad[8] = r[0], aad[9] = r[1], aad[10] = r[2];
    aad[11] = (uint8_t)(plain >> 8), aad[12] = (uint8_t)plain;
    if (cipher == wolfssl_aes_gcm) {
        memcpy(nonce, iv, 4);
        memcpy(nonce + 4, r + 13, 8);
        return;
    }
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= r[3 + i];
}
#endif

/* Whether the first record of p opens under the client's write key: only
 * a renegotiating ClientHello the peer really sent is answered; a forged
 * one (found from outside: it drew the warning, an oracle and a reflector)
 * is dropped as wolfSSL would drop it.  ATOMIC_USER gives the keys. */
#ifdef ATOMIC_USER
static bool record_authentic(WOLFSSL *ssl, const uint8_t *p, size_t n)
{
    const uint8_t *key = wolfSSL_GetClientWriteKey(ssl), *iv = wolfSSL_GetClientWriteIV(ssl);
    int cipher = wolfSSL_GetBulkCipher(ssl), key_len = wolfSSL_GetKeySize(ssl), r = -1;
    size_t body = ((size_t)p[11] << 8) | p[12], explicit = cipher == wolfssl_aes_gcm ? 8 : 0;
    if (key == NULL || iv == NULL || 13 + body > n || body < explicit + 16 + 1)
        return false;
    size_t plain = body - explicit - 16;
    uint8_t aad[13], nonce[12], *out = malloc(plain);
    if (out == NULL)
        return false;
    aead_framing(cipher, iv, p, plain, aad, nonce);
    const uint8_t *ct = p + 13 + explicit, *tag = ct + plain;
    if (cipher == wolfssl_aes_gcm) {
        Aes aes;
        if (wc_AesInit(&aes, NULL, INVALID_DEVID) == 0) {
            r = wc_AesGcmSetKey(&aes, key, (word32)key_len);
            if (r == 0)
                r = wc_AesGcmDecrypt(&aes, out, ct, (word32)plain, nonce, sizeof nonce, tag, 16,
                                     aad, sizeof aad);
            wc_AesFree(&aes);
        }
        anydtls_wipe(&aes, sizeof aes);
    } else if (cipher == wolfssl_chacha && key_len == CHACHA20_POLY1305_AEAD_KEYSIZE) {
        r = wc_ChaCha20Poly1305_Decrypt(key, nonce, aad, sizeof aad, ct, (word32)plain, tag, out);
    }
    anydtls_wipe(out, plain);
    free(out);
    return r == 0;
}
#else
static bool record_authentic(WOLFSSL *ssl, const uint8_t *p, size_t n)
{
    (void)ssl, (void)p, (void)n;
    return true; /* no keys: dropped unanswered (refuse_renegotiation) */
}
#endif

/* wolfSSL has no call that sends an alert on an established session, so
 * the server's no_renegotiation warning is made here: wolfSSL seals a
 * 2-byte application record (refuse_renegotiation), and in its place goes
 * the alert, sealed with the same key, sequence number and nonce (ATOMIC_USER
 * gives the keys; Debian's 5.5.4 and the 5.7.2 build have it).  The record
 * wolfSSL sealed never leaves the process: one nonce seals one record on
 * the wire.  A suite other than AES-GCM or ChaCha20-Poly1305 (none is
 * configured), or a wolfSSL built without ATOMIC_USER (upstream's default
 * configure), sends nothing: the ClientHello is then dropped unanswered. */
#ifdef ATOMIC_USER
static void send_sealed_alert(WOLFSSL *ssl, anydtls_session *s, const uint8_t *p, size_t n)
{
    static const uint8_t alert[2] = {1 /* warning */, 100 /* no_renegotiation */};
    uint8_t rec[13 + 8 + 2 + 16], aad[13], nonce[12];
    const uint8_t *key = wolfSSL_GetServerWriteKey(ssl), *iv = wolfSSL_GetServerWriteIV(ssl);
    int cipher = wolfSSL_GetBulkCipher(ssl), key_len = wolfSSL_GetKeySize(ssl), r = -1;
    size_t body = cipher == wolfssl_aes_gcm ? 8 + 2 + 16 : 2 + 16;
    if (key == NULL || iv == NULL || n != 13 + body || p[0] != 23 ||
        (((size_t)p[11] << 8) | p[12]) != body)
        return;
    memcpy(rec, p, 13 + (cipher == wolfssl_aes_gcm ? 8 : 0)); /* with wolfSSL's explicit nonce */
    rec[0] = 21;
    aead_framing(cipher, iv, rec, sizeof alert, aad, nonce);
    if (cipher == wolfssl_aes_gcm) {
        Aes aes;
        if (wc_AesInit(&aes, NULL, INVALID_DEVID) == 0) {
            r = wc_AesGcmSetKey(&aes, key, (word32)key_len);
            if (r == 0)
                r = wc_AesGcmEncrypt(&aes, rec + 21, alert, sizeof alert, nonce, sizeof nonce,
                                     rec + 23, 16, aad, sizeof aad);
            wc_AesFree(&aes);
        }
        anydtls_wipe(&aes, sizeof aes);
    } else if (cipher == wolfssl_chacha && key_len == CHACHA20_POLY1305_AEAD_KEYSIZE) {
        r = wc_ChaCha20Poly1305_Encrypt(key, nonce, aad, sizeof aad, alert, sizeof alert,
                                        rec + 13, rec + 15);
    }
    if (r == 0)
        (void)anydtls_session_send(s, rec, 13 + body);
}
#else
static void send_sealed_alert(WOLFSSL *ssl, anydtls_session *s, const uint8_t *p, size_t n)
{
    (void)ssl, (void)s, (void)p, (void)n;
}
#endif

/* The warning for a renegotiating ClientHello the receive path kept from
 * wolfSSL; called outside wolfSSL's own calls. */
#ifdef ATOMIC_USER
static void refuse_renegotiation(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    static const uint8_t sacrifice[2] = {0, 0};
    if (!ws->reneg_pending)
        return;
    ws->reneg_pending = false;
    /* At most once per initial retransmission timeout, as flight_resend:
     * a replayed ClientHello draws no more. */
    uint64_t now = clock_ms();
    if (ws->refused_ms != 0 && now - ws->refused_ms < s->cfg->timeout_initial_ms)
        return;
    ws->refused_ms = now;
    ws->sealing_alert = true;
    (void)wolfSSL_write(ws->ssl, sacrifice, sizeof sacrifice);
    ws->sealing_alert = false;
}
#else
/* A wolfSSL without ATOMIC_USER (upstream's default configure; configure
 * says which in its summary) gives no record keys to seal the warning
 * with: the renegotiating ClientHello, kept from wolfSSL by the receive
 * path (which would end the session), is dropped unanswered, nothing is
 * written, and the session goes on.  The peer's renegotiation then times
 * out on its side. */
static void refuse_renegotiation(anydtls_session *s)
{
    WSES(s)->reneg_pending = false;
}
#endif

/* The next datagram into ws->rx: its length, or an anydtls code.  After
 * the handshake, the peer's retransmissions of its last flight are
 * answered with ours here and not handed on, nor is any other epoch-0
 * handshake record while our flight is kept. */
static int next_datagram(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    int rc;
    bool genuine;
    while ((rc = anydtls_session_recv(s, ws->rx, ANYDTLS_MAX_DATAGRAM)) > 0) {
        if (ws->offered_ticket && check_ticket_taken(ws, ws->rx, (size_t)rc))
            continue;
        if (!s->established && s->cfg->role == ANYDTLS_SERVER &&
            claims_previous_handshake(ws->rx, (size_t)rc)) {
            ws->bad_reneg_info = true;
            return ANYDTLS_E_WANT_READ;
        }
        if (s->established && is_renegotiation(s, ws->rx, (size_t)rc)) {
            ws->reneg_pending = true;
            continue;
        }
        if (!s->established) {
            note_peer_flight(ws, ws->rx, (size_t)rc);
            break;
        }
        if (ws->flight_len == 0)
            break;
        if (!is_handshake_repeat(ws, ws->rx, (size_t)rc, &genuine)) {
            if (ws->rx[0] == 23)
                ws->flight_len = 0; /* application data: the peer has our flight */
            break;
        }
        if (genuine)
            flight_resend(s);
    }
    return rc;
}

static size_t record_len(const uint8_t *r)
{
    return 13 + (((size_t)r[11] << 8) | r[12]);
}

/* How much of what is left of ws->rx wolfSSL gets in a read of cap bytes:
 * the rest of a record handed over in pieces, else the next record whole,
 * else nothing (0) when that record is longer than cap.  One record a
 * read: when wolfSSL drops a record (a replay of one it has read, one it
 * cannot decrypt), it drops the rest of its read with it, as if the
 * datagram ended there.  A truncated copy sent ahead of a datagram (its
 * whole records pass, the cut one is dropped) made the original's first
 * record a replay, and every genuine record after it went too. */
static size_t piece(const struct wolf_session *ws, size_t split_end, size_t cap)
{
    size_t at = ws->rx_at;
    if (at < split_end)
        return split_end - at < cap ? split_end - at : cap;
    if (at + 13 <= ws->rx_len && record_len(ws->rx + at) <= cap)
        return record_len(ws->rx + at);
    return 0;
}

#ifdef WOLFSSL_DTLS_MTU
/* wolfSSL_dtls_set_mtu refuses more than MAX_RECORD_SIZE, 2^14 (5.7.2,
 * src/ssl.c), where ours go up to ANYDTLS_MTU_MAX.  wolfSSL then sends
 * datagrams of at most 2^14 bytes, which is within our MTU, and reads
 * longer ones in pieces (next_datagram). */
#define WOLF_MTU_MAX 16384u
static int wolf_apply_mtu(WOLFSSL *ssl, unsigned mtu)
{
    return wolfSSL_dtls_set_mtu(ssl, (unsigned short)(mtu < WOLF_MTU_MAX ? mtu : WOLF_MTU_MAX));
}
#endif

#if !defined(ROOM_BY_READ_SIZE) && defined(WOLFSSL_DTLS_MTU)
static void restore_mtu(anydtls_session *s)
{
    if (WSES(s)->mtu_raised)
        (void)wolf_apply_mtu(WSES(s)->ssl, s->mtu);
    WSES(s)->mtu_raised = false;
}
#else
static void restore_mtu(anydtls_session *s)
{
    (void)s;
}
#endif

/* wolfSSL reads a datagram with one call of its size, which may be
 * shorter than what a peer legally sends (see make_room): the datagram is
 * read whole here and handed over a whole record a read; a record longer than
 * the call makes the call say "would block" with rx_need set, and the
 * driver calls wolfSSL again with room for it. */
static int io_recv(WOLFSSL *ssl, char *buf, int len, void *ctx)
{
    (void)ssl;
    anydtls_session *s = ctx;
    struct wolf_session *ws = WSES(s);
    if (len <= 0)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    if (ws->rx_at >= ws->rx_len) {
        int rc = next_datagram(s);
        if (rc < 0)
            return io_result(s, rc, WOLFSSL_CBIO_ERR_WANT_READ);
        ws->rx_len = (size_t)rc;
        ws->rx_at = 0;
        ws->rx_split = false;
        ws->rx_tries = 0;
    }
    size_t n = piece(ws, ws->rx_split ? ws->rx_split_end : 0, (size_t)len);
    if (n == 0 && !ws->rx_split) {
        ws->rx_need = record_len(ws->rx + ws->rx_at);
        return WOLFSSL_CBIO_ERR_WANT_READ;
    }
    if (n == 0) { /* the record that must go in pieces starts here */
        ws->rx_split_end = ws->rx_at + record_len(ws->rx + ws->rx_at);
        n = piece(ws, ws->rx_split_end, (size_t)len);
    }
    memcpy(buf, ws->rx + ws->rx_at, n);
    ws->rx_at += n;
    ws->rx_tries = 0;
    if (ws->rx_at >= ws->rx_split_end)
        ws->rx_split = false;
    restore_mtu(s);
    return (int)n;
}

/* ---------------- PSK callbacks ---------------- */

static unsigned int psk_client_cb(WOLFSSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *key,
                                  unsigned int max_key_len)
{
    (void)hint;
    anydtls_session *s = wolfSSL_get_ex_data(ssl, 0);
    const anydtls_config *cfg = s->cfg;
    size_t id_len = strlen(cfg->psk_identity);
    if (cfg->psk_key.len > max_key_len || id_len + 1 > max_identity_len)
        return 0;
    memcpy(identity, cfg->psk_identity, id_len + 1);
    memcpy(key, cfg->psk_key.data, cfg->psk_key.len);
    s->psk_used = true;
    return (unsigned int)cfg->psk_key.len;
}

static unsigned int psk_server_cb(WOLFSSL *ssl, const char *identity, unsigned char *key,
                                  unsigned int max_key_len)
{
    anydtls_session *s = wolfSSL_get_ex_data(ssl, 0);
    const anydtls_config *cfg = s->cfg;
    uint8_t buf[ANYDTLS_PSK_MAX];
    int n = -1;
    if (identity != NULL && strlen(identity) <= ANYDTLS_PSK_IDENTITY_MAX)
        n = cfg->psk_lookup(cfg->psk_user, identity, buf, sizeof buf);
    if (n <= 0 || (size_t)n > sizeof buf || (unsigned)n > max_key_len) {
        anydtls_wipe(buf, sizeof buf);
        WSES(s)->psk_unknown = true;
        return 0;
    }
    memcpy(key, buf, (size_t)n);
    anydtls_wipe(buf, sizeof buf);
    snprintf(s->psk_identity, sizeof s->psk_identity, "%s", identity);
    s->psk_used = true;
    return (unsigned int)n;
}

/* ---------------- configuration ---------------- */

/* ---- does the private key belong to the certificate? ----
 * wolfSSL_CTX_check_private_key() of Debian's 5.5.4 accepts any P-256 key
 * for any P-256 certificate (its wc_ecc_check_key() does not compare the
 * pair).  For ECC we compare the public point derived from the private key
 * with the certificate's; other key types keep wolfSSL's own check. */

#define PEM_MAX 65536

/* The start of a PEM file or buffer (the first certificate or key is
 * enough here). */
static int read_pem(const char *path, const struct anydtls_bytes *mem, uint8_t *buf, int *len)
{
    if (path == NULL) {
        size_t n = mem->len < PEM_MAX ? mem->len : PEM_MAX;
        memcpy(buf, mem->data, n);
        *len = (int)n;
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    *len = (int)fread(buf, 1, PEM_MAX, f);
    fclose(f);
    return *len > 0 ? 0 : -1;
}

/* The uncompressed public point of an ECC key, from a certificate (cert
 * true) or a private key: its length, 0 when the certificate's key is not
 * an ECC key, -1 when it could not be computed. */
static int public_point(uint8_t *der, int der_len, bool cert, uint8_t *out, word32 cap)
{
    ecc_key key;
    word32 idx = 0, n = cap;
    uint8_t spki[256];
    int spki_len = sizeof spki, r = -1;
    bool not_ecc = false;
    if (wc_ecc_init(&key) != 0)
        return -1;
    if (cert) {
        WOLFSSL_X509 *x = wolfSSL_X509_d2i(NULL, der, der_len);
        not_ecc = x != NULL && wolfSSL_X509_get_pubkey_type(x) != ECDSAk;
        if (x != NULL && !not_ecc &&
            wolfSSL_X509_get_pubkey_buffer(x, spki, &spki_len) == WOLFSSL_SUCCESS)
            r = wc_EccPublicKeyDecode(spki, &idx, &key, (word32)spki_len);
        wolfSSL_X509_free(x);
    } else {
        /* PKCS#8 moves idx to the key inside; a bare SEC1 key starts at 0. */
        if (wc_GetPkcs8TraditionalOffset(der, &idx, (word32)der_len) < 0)
            idx = 0;
        r = wc_EccPrivateKeyDecode(der, &idx, &key, (word32)der_len);
        if (r == 0)
            r = wc_ecc_make_pub(&key, NULL);
    }
    if (r == 0)
        r = wc_ecc_export_x963(&key, out, &n);
    wc_ecc_free(&key);
    if (not_ecc)
        return 0;
    return r == 0 ? (int)n : -1;
}

/* 1 when the pair does not match, 0 when it does or the key is not an ECC
 * key, -1 when it could not be checked (an allocation failed): a check
 * that could not run must not pass. */
static int ecc_pair_mismatch(anydtls_config *cfg)
{
    uint8_t *pem = malloc(PEM_MAX), *der = malloc(PEM_MAX);
    uint8_t cert_pt[133], key_pt[133];
    int len, der_len, cn = -1, kn = -1;
    if (pem != NULL && der != NULL && read_pem(cfg->cert_file, &cfg->cert_pem, pem, &len) == 0 &&
        (der_len = wc_CertPemToDer(pem, len, der, PEM_MAX, CERT_TYPE)) > 0)
        cn = public_point(der, der_len, true, cert_pt, sizeof cert_pt);
    if (cn > 0 && read_pem(cfg->key_file, &cfg->key_pem, pem, &len) == 0 &&
        (der_len = wc_KeyPemToDer(pem, len, der, PEM_MAX, NULL)) > 0)
        kn = public_point(der, der_len, false, key_pt, sizeof key_pt);
    anydtls_wipe(pem, pem != NULL ? PEM_MAX : 0);
    anydtls_wipe(der, der != NULL ? PEM_MAX : 0);
    free(pem);
    free(der);
    if (cn == 0)
        return 0;
    if (cn < 0 || kn < 0)
        return -1;
    /* An uncompressed point: 04 || x || y, each the field's length. */
    cfg->cert_group = anydtls_ecdsa_group((unsigned)(cn - 1) / 2);
    return kn != cn || memcmp(cert_pt, key_pt, (size_t)cn) != 0;
}

/* A CA file, read here and loaded as a buffer: wolfSSL 5.5's
 * wolfSSL_CTX_load_verify_locations can report success with no CA loaded
 * when an allocation fails while it reads the file, and every handshake
 * would then fail as untrusted; its buffer loader reports the failure. */
static int load_ca_file(WOLFSSL_CTX *ctx, const char *path)
{
    int r = WOLFSSL_BAD_FILE;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    long len = f != NULL && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (len <= 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    r = MEMORY_E;
    if ((buf = malloc((size_t)len)) == NULL)
        goto fail;
    r = WOLFSSL_BAD_FILE;
    if (fread(buf, 1, (size_t)len, f) == (size_t)len)
        r = wolfSSL_CTX_load_verify_buffer(ctx, buf, len, WOLFSSL_FILETYPE_PEM);
fail:
    free(buf);
    if (f != NULL)
        fclose(f);
    return r;
}

/* The own certificate chain and private key, from files or memory.  A key
 * that is not the certificate's is one mismatch whatever its type: wolfSSL
 * 5.5.4 takes an RSA key for an ECDSA certificate (and the reverse) and
 * refuses it only in wolfSSL_CTX_check_private_key, which also refuses a
 * wrong RSA key; ecc_pair_mismatch() adds the P-256 pairs that check lets
 * through. */
static int load_own(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    int r;
    if (cfg->cert_file != NULL)
        r = wolfSSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file);
    else
        r = wolfSSL_CTX_use_certificate_chain_buffer_format(
            ctx, cfg->cert_pem.data, (long)cfg->cert_pem.len, WOLFSSL_FILETYPE_PEM);
    if (r == WOLFSSL_SUCCESS && cfg->key_file != NULL)
        r = wolfSSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, WOLFSSL_FILETYPE_PEM);
    else if (r == WOLFSSL_SUCCESS)
        r = wolfSSL_CTX_use_PrivateKey_buffer(ctx, cfg->key_pem.data, (long)cfg->key_pem.len,
                                              WOLFSSL_FILETYPE_PEM);
    if (r != WOLFSSL_SUCCESS)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load certificate or key", r);
    int mismatch = 1;
    if (wolfSSL_CTX_check_private_key(ctx) == WOLFSSL_SUCCESS)
        mismatch = ecc_pair_mismatch(cfg);
    if (mismatch > 0)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "private key does not match certificate", 0);
    if (mismatch < 0)
        return config_fail(cfg, ANYDTLS_E_NOMEM, "cannot check the private key", 0);
    return ANYDTLS_OK;
}

static int load_credentials(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    int r = WOLFSSL_SUCCESS;
    if ((cfg->cert_file != NULL || cfg->cert_pem.data != NULL) && (r = load_own(cfg, ctx)) != 0)
        return r;
    r = WOLFSSL_SUCCESS;
    if (cfg->ca_file != NULL)
        r = load_ca_file(ctx, cfg->ca_file);
    if (r == WOLFSSL_SUCCESS && cfg->ca_pem.data != NULL)
        r = wolfSSL_CTX_load_verify_buffer(ctx, cfg->ca_pem.data, (long)cfg->ca_pem.len,
                                           WOLFSSL_FILETYPE_PEM);
    if (r != WOLFSSL_SUCCESS)
        return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load CA", r);
    return ANYDTLS_OK;
}

static void setup_verify(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    int mode = WOLFSSL_VERIFY_NONE;
    bool have_ca = cfg->ca_file != NULL || cfg->ca_pem.data != NULL;
    if (cfg->verify == ANYDTLS_VERIFY_PEER && cfg->role == ANYDTLS_CLIENT)
        mode = WOLFSSL_VERIFY_PEER;
    if (cfg->verify == ANYDTLS_VERIFY_PEER && cfg->role == ANYDTLS_SERVER && have_ca)
        mode = WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    wolfSSL_CTX_set_verify(ctx, mode, NULL);
}

/* A client offers the policy's groups (common/policy.c), in its order, in
 * supported_groups: left alone, wolfSSL 5.5.4's client lists thirteen
 * (P-521, brainpool, X448, secp256k1, secp224r1, ffdhe ...), P-521
 * first.  The policy's IANA codes are wolfSSL's WOLFSSL_ECC_* values.
 * wolfSSL 5.5.4's client also takes an X25519 share in an ECDHE-PSK
 * ServerKeyExchange for a NIST point and fails ("Bad ECC Peer Key"),
 * though it offers X25519; an OpenSSL server choosing by its own order
 * picks X25519.  So before 5.7 (5.7.2 is right) a client with a PSK
 * leaves X25519 out (the policy's NIST curves only). */
static int client_groups(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    if (cfg->role != ANYDTLS_CLIENT)
        return ANYDTLS_OK;
    bool nist_only = false;
#if LIBWOLFSSL_VERSION_HEX < 0x05007000
    nist_only = (anydtls_policy_creds(cfg) & ANYDTLS_USE_PSK) != 0;
#endif
    for (size_t i = 0; i < anydtls_n_groups; i++) {
        if (nist_only && anydtls_groups[i].code == WOLFSSL_ECC_X25519)
            continue;
        if (wolfSSL_CTX_UseSupportedCurve(ctx, anydtls_groups[i].code) != WOLFSSL_SUCCESS)
            return config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set the curves", 0);
    }
    return ANYDTLS_OK;
}

/* The policy's suites that cfg has credentials for; a wolfSSL server
 * picks by its own order. */
static int setup_ciphers(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    char list[512];
    if (!anydtls_policy_cipher_names(anydtls_policy_creds(cfg), 0, list, sizeof list))
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cipher list too long", 0);
    if (wolfSSL_CTX_set_cipher_list(ctx, list) != WOLFSSL_SUCCESS)
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cannot set the cipher list", 0);
    return client_groups(cfg, ctx);
}

/* The key exchanges the peer's ClientHello rules out (its groups):
 * wolfSSL 5.5 chooses ECDHE on P-256 when the client offered no group it
 * knows, or only ffdhe2048, and ECDHE-ECDSA whatever curves it offered. */
static int bar_suites(anydtls_session *s, WOLFSSL *ssl)
{
    char list[512];
    if (s->kx_barred == 0)
        return WOLFSSL_SUCCESS;
    if (!anydtls_policy_cipher_names(anydtls_policy_creds(s->cfg), s->kx_barred, list, sizeof list))
        return BAD_FUNC_ARG;
    return wolfSSL_set_cipher_list(ssl, list);
}

static void setup_psk(anydtls_config *cfg, WOLFSSL_CTX *ctx)
{
    if (cfg->role == ANYDTLS_CLIENT && cfg->psk_key.data != NULL)
        wolfSSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    if (cfg->role == ANYDTLS_SERVER && cfg->psk_lookup != NULL) {
        wolfSSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
        if (cfg->psk_identity != NULL)
            wolfSSL_CTX_use_psk_identity_hint(ctx, cfg->psk_identity);
    }
}

static void wolf_config_free(anydtls_config *cfg)
{
    struct wolf_config *wc = WCFG(cfg);
    if (wc == NULL)
        return;
    if (wc->ctx != NULL)
        wolfSSL_CTX_free(wc->ctx);
    free(wc);
    cfg->native = NULL;
    library_release();
}

static int wolf_config_build(anydtls_config *cfg)
{
    note_thread();
    if (library_acquire() != WOLFSSL_SUCCESS)
        return config_fail(cfg, ANYDTLS_E_BACKEND, "cannot initialise wolfSSL", 0);
    struct wolf_config *wc = calloc(1, sizeof *wc);
    if (wc == NULL) {
        library_release();
        return config_fail(cfg, ANYDTLS_E_NOMEM, "out of memory", 0);
    }
    cfg->native = wc;
    int rc = ANYDTLS_E_NOMEM;
    WOLFSSL_METHOD *method = cfg->role == ANYDTLS_CLIENT ? wolfDTLSv1_2_client_method()
                                                         : wolfDTLSv1_2_server_method();
    wc->ctx = method != NULL ? wolfSSL_CTX_new(method) : NULL;
    if (wc->ctx == NULL) {
        rc = config_fail(cfg, rc, "cannot create wolfSSL context", 0);
        goto fail;
    }
    if ((rc = setup_ciphers(cfg, wc->ctx)) != ANYDTLS_OK)
        goto fail;
    if ((rc = load_credentials(cfg, wc->ctx)) != ANYDTLS_OK)
        goto fail;
    setup_verify(cfg, wc->ctx);
    setup_psk(cfg, wc->ctx);
    /* No session cache (wolfSSL's is global to the process): a server
     * resumes from tickets only, which need no state per client. */
    wolfSSL_CTX_set_session_cache_mode(wc->ctx, WOLFSSL_SESS_CACHE_OFF);
    /* wolfSSL's tickets do not carry the PSK identity: a resumed session
     * would not know who its peer is. */
    if (cfg->resumption && cfg->role == ANYDTLS_SERVER && cfg->psk_lookup != NULL) {
        rc = config_fail(cfg, ANYDTLS_E_UNSUPPORTED,
                         "resumption with PSK: wolfSSL's tickets do not carry the identity", 0);
        goto fail;
    }
    if (!cfg->resumption && wolfSSL_CTX_NoTicketTLSv12(wc->ctx) != WOLFSSL_SUCCESS) {
        rc = config_fail(cfg, ANYDTLS_E_BACKEND, "cannot turn session tickets off", 0);
        goto fail;
    }
    wolfSSL_CTX_SetIORecv(wc->ctx, io_recv);
    wolfSSL_CTX_SetIOSend(wc->ctx, io_send);
    return ANYDTLS_OK;
fail:
    wolf_config_free(cfg);
    return rc;
}

/* ---------------- sessions ---------------- */

static void wolf_session_free(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    if (ws == NULL)
        return;
    if (ws->ssl != NULL)
        wolfSSL_free(ws->ssl);
    free(ws->rx);
    free(ws);
    s->native = NULL;
}

/* The peer name check: a DNS name or an IP address. */
static int setup_peer_name(anydtls_session *s, WOLFSSL *ssl)
{
    const char *name = s->cfg->peer_name;
    unsigned char ip[16];
    char text[48];
    if (name == NULL || s->cfg->verify != ANYDTLS_VERIFY_PEER)
        return WOLFSSL_SUCCESS;
    /* wolfSSL compares IP addresses as text, in the form it prints the
     * certificate's: dotted IPv4, eight groups of four hex digits IPv6. */
    if (inet_pton(AF_INET, name, ip) == 1) {
        snprintf(text, sizeof text, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
        return wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(ssl), text);
    }
    if (inet_pton(AF_INET6, name, ip) == 1) {
        for (int i = 0; i < 8; i++)
            snprintf(text + 5 * i, sizeof text - 5 * (size_t)i, "%02X%02X%s", ip[2 * i],
                     ip[2 * i + 1], i < 7 ? ":" : "");
        return wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(ssl), text);
    }
    int r = wolfSSL_check_domain_name(ssl, name);
    if (r == WOLFSSL_SUCCESS && s->cfg->peer_kind == ANYDTLS_PEER_HOST)
        r = wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name, (unsigned short)strlen(name));
    return r;
}

/* A server session for a verified ClientHello: wolfSSL checks the cookie
 * again with the secret that verified it (the front re-verified the
 * prestate and kept it) and the same peer bytes. */
static int setup_prestate(anydtls_session *s, WOLFSSL *ssl, const anydtls_prestate *ps)
{
    uint8_t peer[ANYDTLS_PEER_ENC_LEN];
    anydtls_cookie_peer_bytes(&ps->peer, peer);
    /* This one returns 0 on success. */
    if (wolfSSL_DTLS_SetCookieSecret(ssl, s->cookie_secret, sizeof s->cookie_secret) != 0)
        return MEMORY_E;
    return wolfSSL_dtls_set_peer(ssl, peer, sizeof peer);
}

static int wolf_session_new(anydtls_session *s, const anydtls_prestate *ps)
{
    struct wolf_session *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return ANYDTLS_E_NOMEM;
    s->native = ws;
    ws->sent_fatal = -1;
    ws->rx = malloc(ANYDTLS_MAX_DATAGRAM);
    ws->ssl = ws->rx != NULL ? wolfSSL_new(WCFG(s->cfg)->ctx) : NULL;
    int r = ws->ssl != NULL ? WOLFSSL_SUCCESS : MEMORY_E;
    if (r == WOLFSSL_SUCCESS)
        r = wolfSSL_set_ex_data(ws->ssl, 0, s);
    if (r == WOLFSSL_SUCCESS && s->cfg->role == ANYDTLS_CLIENT)
        r = setup_peer_name(s, ws->ssl);
    /* RFC 5746: an empty renegotiation_info in the ClientHello, which
     * wolfSSL's client leaves out unless asked (its server answers one). */
    if (r == WOLFSSL_SUCCESS && s->cfg->role == ANYDTLS_CLIENT)
        r = wolfSSL_UseSecureRenegotiation(ws->ssl);
    if (r == WOLFSSL_SUCCESS && s->cfg->role == ANYDTLS_CLIENT && s->cfg->resumption)
        r = wolfSSL_UseSessionTicket(ws->ssl);
    if (r == WOLFSSL_SUCCESS && ps != NULL)
        r = setup_prestate(s, ws->ssl, ps);
    if (r == WOLFSSL_SUCCESS)
        r = bar_suites(s, ws->ssl);
    /* Our timer decides when to retransmit and when to give up; wolfSSL's
     * own (whole seconds) must never end the handshake first. */
    if (r == WOLFSSL_SUCCESS)
        r = wolfSSL_dtls_set_timeout_init(ws->ssl, 1);
    if (r == WOLFSSL_SUCCESS)
        r = wolfSSL_dtls_set_timeout_max(ws->ssl, 1 << 20);
#ifdef WOLFSSL_DTLS_MTU
    if (r == WOLFSSL_SUCCESS)
        r = wolf_apply_mtu(ws->ssl, s->mtu);
#endif
    if (r != WOLFSSL_SUCCESS) {
        wolfSSL_ERR_error_string_n((unsigned long)r, s->detail, sizeof s->detail);
        wolf_session_free(s);
        return r == MEMORY_E ? ANYDTLS_E_NOMEM : ANYDTLS_E_BACKEND;
    }
    wolfSSL_SetIOReadCtx(ws->ssl, s);
    wolfSSL_SetIOWriteCtx(ws->ssl, s);
    wolfSSL_dtls_set_using_nonblock(ws->ssl, 1);
    return ANYDTLS_OK;
}

static int failure_code(anydtls_session *s, int err)
{
    struct wolf_session *ws = WSES(s);
    if (ws->io_error)
        return ANYDTLS_E_IO;
    if (ws->psk_unknown)
        return ANYDTLS_E_PSK_IDENTITY;
    switch (err) {
    case FATAL_ERROR: {
        WOLFSSL_ALERT_HISTORY h;
        if (wolfSSL_get_alert_history(ws->ssl, &h) == WOLFSSL_SUCCESS)
            s->alert = h.last_rx.code;
        return anydtls_alert_code(s->alert);
    }
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
        return ANYDTLS_E_NAME_MISMATCH;
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
        return ANYDTLS_E_CERT_EXPIRED;
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_SIG_CONFIRM_E:
    case VERIFY_CERT_ERROR:
    case NO_PEER_CERT:
        return ANYDTLS_E_CERT_UNTRUSTED;
    case MEMORY_E:
        return ANYDTLS_E_NOMEM;
    default:
        return s->established ? ANYDTLS_E_BACKEND : ANYDTLS_E_HANDSHAKE;
    }
}

/* Whether wolfSSL sent a fatal alert, in plaintext or encrypted: it may
 * then wait on (5.7 after a malformed ClientHello, 5.5 after a record it
 * could not read), but its peer has given up. */
static bool fatal_sent(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    WOLFSSL_ALERT_HISTORY h;
    if (ws->sent_fatal < 0 && ws->alert_out &&
        wolfSSL_get_alert_history(ws->ssl, &h) == WOLFSSL_SUCCESS && h.last_tx.level == alert_fatal)
        ws->sent_fatal = (int16_t)h.last_tx.code;
    return ws->sent_fatal >= 0;
}

static int fail_after_alert(anydtls_session *s)
{
    char msg[64];
    snprintf(msg, sizeof msg, "wolfSSL sent a fatal alert (%d)", WSES(s)->sent_fatal);
    return anydtls_session_fail(s, s->established ? ANYDTLS_E_BACKEND : ANYDTLS_E_HANDSHAKE,
                                WSES(s)->sent_fatal, msg);
}

/* Map the result of a wolfSSL I/O call. */
static int map_result(anydtls_session *s, int ret)
{
    struct wolf_session *ws = WSES(s);
    int err = wolfSSL_get_error(ws->ssl, ret);
    if (ws->bad_cert_held) {
        int code = failure_code(s, err);
        bool cert = code == ANYDTLS_E_CERT_UNTRUSTED || code == ANYDTLS_E_NAME_MISMATCH ||
                    code == ANYDTLS_E_CERT_EXPIRED;
        ws->bad_cert_held = false;
        ws->sent_fatal = (int16_t)(cert ? anydtls_code_alert(code) : 42);
        anydtls_send_plain_alert(s, ws->sent_fatal);
    }
    if ((err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) && fatal_sent(s))
        return fail_after_alert(s);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
        return ws->write_blocked ? ANYDTLS_E_WANT_WRITE : ANYDTLS_E_WANT_READ;
    if (err == WOLFSSL_ERROR_ZERO_RETURN || err == ZERO_RETURN)
        return ANYDTLS_E_CLOSED;
    char msg[120];
    wolfSSL_ERR_error_string_n((unsigned long)err, msg, sizeof msg);
    int code = failure_code(s, err);
    /* A wolfSSL server fails these silently; tell the client, with the
     * alert OpenSSL and GnuTLS send. */
    if (err == NO_PEER_CERT && s->cfg->role == ANYDTLS_SERVER)
        anydtls_send_plain_alert(s, 40 /* handshake_failure */);
    if (code == ANYDTLS_E_PSK_IDENTITY && s->cfg->role == ANYDTLS_SERVER)
        anydtls_send_plain_alert(s, anydtls_code_alert(code));
    /* wolfSSL fails other handshakes silently too (a client whose server
     * chose a suite it has no credentials for): tell the peer why, as the
     * other flavours do (doc/architecture.md, "Alerts on handshake
     * failures"), unless wolfSSL has sent a fatal alert itself. */
    if (code == ANYDTLS_E_HANDSHAKE && ws->sent_fatal < 0)
        anydtls_send_plain_alert(s, anydtls_failure_alert(s, code));
    return anydtls_session_fail(s, code, err, msg);
}

/* io_recv found wolfSSL's read shorter than the next record (rx_need):
 * give it room and say how to call again.  Before 5.6.4 a read's size sets
 * it (ROOM_PEEK: call wolfSSL_peek with that size); from 5.6.4 the MTU
 * does, up to 16384 (raised here, restored as soon as io_recv handed the
 * record over, before anything is sent); else the record goes in pieces,
 * which wolfSSL reassembles (ROOM_AGAIN). */
enum room { ROOM_NONE, ROOM_AGAIN, ROOM_PEEK };
/* Calls of wolfSSL per driver call: two per long record (room, then
 * pieces), for a few long records in one datagram. */
#define ROOM_CALLS 16

static enum room make_room(anydtls_session *s)
{
    struct wolf_session *ws = WSES(s);
    size_t need = ws->rx_need;
    ws->rx_need = 0;
    if (need == 0 || ws->rx_tries >= 2)
        return ROOM_NONE;
    bool first = ws->rx_tries++ == 0;
    (void)first; /* not needed where records can only go in pieces */
#ifdef ROOM_BY_READ_SIZE
    if (first)
        return ROOM_PEEK;
#elif defined(WOLFSSL_DTLS_MTU)
    if (first && need <= 16384 + 500 &&
        wolfSSL_dtls_set_mtu(ws->ssl, (unsigned short)(need - 500)) == WOLFSSL_SUCCESS) {
        ws->mtu_raised = true;
        return ROOM_AGAIN;
    }
#endif
    ws->rx_split = true;
    ws->rx_split_end = 0;
    return ROOM_AGAIN;
}

/* wolfSSL_peek with room for need bytes: what a read of that size does. */
static int peek_with_room(anydtls_session *s, size_t need)
{
    uint8_t *scratch = malloc(need);
    if (scratch == NULL)
        return anydtls_session_fail(s, ANYDTLS_E_NOMEM, MEMORY_E, "out of memory");
    int r = wolfSSL_peek(WSES(s)->ssl, scratch, (int)need);
    anydtls_wipe(scratch, need);
    free(scratch);
    return r;
}

static int handshake_step(anydtls_session *s)
{
    WOLFSSL *ssl = WSES(s)->ssl;
    int r = s->cfg->role == ANYDTLS_CLIENT ? wolfSSL_connect(ssl) : wolfSSL_accept(ssl);
    for (int i = 0; i < ROOM_CALLS && r != WOLFSSL_SUCCESS && !s->failed; i++) {
        size_t need = WSES(s)->rx_need;
        enum room how = make_room(s);
        if (how == ROOM_NONE)
            break;
        if (how == ROOM_AGAIN) {
            r = s->cfg->role == ANYDTLS_CLIENT ? wolfSSL_connect(ssl) : wolfSSL_accept(ssl);
            continue;
        }
        /* wolfSSL_peek runs the handshake, and once it is done reads on
         * (keeping what it read for wolfSSL_read). */
        r = peek_with_room(s, need);
        if (wolfSSL_is_init_finished(ssl))
            r = WOLFSSL_SUCCESS;
    }
    restore_mtu(s); /* in case wolfSSL failed before it read */
    return r;
}

static int wolf_handshake(anydtls_session *s)
{
    note_thread();
    WOLFSSL *ssl = WSES(s)->ssl;
    int r = handshake_step(s);
    if (WSES(s)->bad_reneg_info && !s->failed) {
        anydtls_send_plain_alert(s, 40 /* handshake_failure */);
        return anydtls_session_fail(s, ANYDTLS_E_HANDSHAKE, SECURE_RENEGOTIATION_E,
                                    "renegotiation_info not empty in an initial handshake");
    }
    if (s->failed)
        return s->fail_code;
    if (r == WOLFSSL_SUCCESS) {
        anydtls_timer_stop(s);
        const char *id = s->cfg->role == ANYDTLS_SERVER ? wolfSSL_get_psk_identity(ssl) : NULL;
        anydtls_keep_psk_identity(s, id, id != NULL ? strlen(id) : 0);
        return ANYDTLS_OK;
    }
    int code = map_result(s, r);
    if (code == ANYDTLS_E_WANT_READ || code == ANYDTLS_E_WANT_WRITE)
        anydtls_timer_arm(s);
    return code;
}

static int wolf_read(anydtls_session *s, uint8_t *buf, size_t cap)
{
    WOLFSSL *ssl = WSES(s)->ssl;
    int r = wolfSSL_read(ssl, buf, (int)cap);
    for (int i = 0; i < ROOM_CALLS && r <= 0 && !s->failed; i++) {
        size_t need = WSES(s)->rx_need;
        enum room how = make_room(s);
        if (how == ROOM_NONE)
            break;
        if (how == ROOM_PEEK && (r = peek_with_room(s, need)) <= 0)
            continue;
        r = wolfSSL_read(ssl, buf, (int)cap);
    }
    restore_mtu(s);
    if (s->failed)
        return s->fail_code;
    int rc = r > 0 ? r : map_result(s, r); /* before wolfSSL_write resets its error */
    if (rc > 0 || rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE)
        refuse_renegotiation(s);
    return rc;
}

static int wolf_write(anydtls_session *s, const uint8_t *buf, size_t len)
{
    int r = wolfSSL_write(WSES(s)->ssl, buf, (int)len);
    return r > 0 ? r : map_result(s, r);
}

static int wolf_shutdown(anydtls_session *s)
{
    int r = wolfSSL_shutdown(WSES(s)->ssl);
    /* WOLFSSL_SHUTDOWN_NOT_DONE: our close_notify is sent. */
    if (r == WOLFSSL_SUCCESS || r == WOLFSSL_SHUTDOWN_NOT_DONE)
        return ANYDTLS_OK;
    return map_result(s, r);
}

static int wolf_get_timeout(anydtls_session *s, uint32_t *ms)
{
    return s->established ? 0 : anydtls_timer_get(s, ms);
}

static int wolf_handle_timeout(anydtls_session *s)
{
    if (s->established)
        return ANYDTLS_OK;
    int due = anydtls_timer_expire(s);
    if (due <= 0)
        return due;
    if (wolfSSL_dtls_got_timeout(WSES(s)->ssl) != WOLFSSL_SUCCESS) {
        int code = map_result(s, WOLFSSL_FATAL_ERROR);
        if (code != ANYDTLS_E_WANT_READ && code != ANYDTLS_E_WANT_WRITE)
            return code;
    }
    anydtls_timer_arm(s);
    return ANYDTLS_OK;
}

#ifdef WOLFSSL_DTLS_MTU
/* A wolfSSL built with --enable-dtls-mtu (not Debian 12's) takes the MTU. */
#define WOLF_CAP_MTU ANYDTLS_CAP_MTU
static int wolf_set_mtu(anydtls_session *s, unsigned mtu)
{
    return wolf_apply_mtu(WSES(s)->ssl, mtu) == WOLFSSL_SUCCESS
               ? ANYDTLS_OK
               : ANYDTLS_E_INVALID_ARG;
}
#else
#define WOLF_CAP_MTU 0u
#define wolf_set_mtu NULL
#endif

static int wolf_max_payload(anydtls_session *s)
{
    int n = wolfSSL_GetMaxOutputSize(WSES(s)->ssl);
    if (n <= 0)
        return ANYDTLS_E_BACKEND;
    /* Without a settable MTU the build sends records up to its own
     * maximum; one write must still fit our datagram size with the record
     * header (13), explicit nonce (8) and tag (16), rounded up. */
    int limit = (int)s->mtu - 64;
    return n < limit ? n : limit;
}

static int wolf_export(anydtls_session *s, uint8_t *out, size_t out_len, const char *label,
                       const uint8_t *ctx, size_t ctx_len)
{
    int r = wolfSSL_export_keying_material(WSES(s)->ssl, out, out_len, label, strlen(label), ctx,
                                           ctx_len, ctx != NULL);
    if (r == WOLFSSL_SUCCESS)
        return ANYDTLS_OK;
    s->native_error = r;
    wolfSSL_ERR_error_string_n((unsigned long)r, s->detail, sizeof s->detail);
    return ANYDTLS_E_BACKEND;
}

static const char *wolf_cipher(const anydtls_session *s)
{
    int suite = wolfSSL_get_current_cipher_suite(WSES(s)->ssl);
    if (suite < 0)
        return NULL;
    return wolfSSL_get_cipher_name_iana_from_suite((byte)(suite >> 8), (byte)suite);
}

static const char *wolf_protocol(const anydtls_session *s)
{
    return wolfSSL_get_version(WSES(s)->ssl);
}

/* ---------------- resumption ---------------- */

static int wolf_session_save(anydtls_session *s, uint8_t *buf, size_t cap)
{
    WOLFSSL_SESSION *sess = wolfSSL_get1_session(WSES(s)->ssl);
    if (sess == NULL)
        return ANYDTLS_E_BACKEND;
    int need = wolfSSL_i2d_SSL_SESSION(sess, NULL);
    if (need > 0 && (size_t)need <= cap) {
        unsigned char *p = buf;
        need = wolfSSL_i2d_SSL_SESSION(sess, &p);
    }
    wolfSSL_SESSION_free(sess);
    return need > 0 ? need : ANYDTLS_E_BACKEND;
}

static int wolf_session_resume(anydtls_session *s, const uint8_t *data, size_t len)
{
    const unsigned char *p = data;
    WOLFSSL_SESSION *sess = wolfSSL_d2i_SSL_SESSION(NULL, &p, (long)len);
    struct wolf_session *ws = WSES(s);
    int rc = ANYDTLS_E_INVALID_ARG;
    unsigned id_len = 0;
    const unsigned char *id = sess != NULL ? wolfSSL_SESSION_get_id(sess, &id_len) : NULL;
    if (sess != NULL && p == data + len && id != NULL && id_len <= sizeof ws->offered_id)
        rc = wolfSSL_set_session(ws->ssl, sess) == WOLFSSL_SUCCESS ? ANYDTLS_OK
                                                                  : ANYDTLS_E_BACKEND;
    if (rc == ANYDTLS_OK) {
        memcpy(ws->offered_id, id, id_len);
        ws->offered_id_len = (uint8_t)id_len;
        ws->offered_ticket = true;
    }
    wolfSSL_SESSION_free(sess);
    return rc;
}

static bool wolf_resumed(const anydtls_session *s)
{
    return wolfSSL_session_reused(WSES(s)->ssl) == 1;
}

/* A server that asks for client certificates and resumed from a ticket:
 * wolfSSL's tickets do not carry the client's certificate, so there is one
 * but it cannot be had (OpenSSL's and GnuTLS's tickets carry it). */
static bool cert_lost_in_ticket(const anydtls_session *s)
{
    const anydtls_config *cfg = s->cfg;
    return cfg->role == ANYDTLS_SERVER && cfg->verify == ANYDTLS_VERIFY_PEER &&
           (cfg->ca_file != NULL || cfg->ca_pem.data != NULL) && wolf_resumed(s);
}

static int wolf_peer_cert_der(anydtls_session *s, uint8_t *der, size_t cap)
{
    WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(WSES(s)->ssl);
    if (x == NULL)
        return cert_lost_in_ticket(s) ? ANYDTLS_E_UNSUPPORTED : 0;
    int n = 0;
    const unsigned char *p = wolfSSL_X509_get_der(x, &n);
    int rc = n;
    if (p == NULL || n <= 0)
        rc = ANYDTLS_E_BACKEND;
    else if (der != NULL && (size_t)n > cap)
        rc = ANYDTLS_E_MSG_TOO_BIG;
    else if (der != NULL)
        memcpy(der, p, (size_t)n);
    wolfSSL_X509_free(x); /* a copy (KEEP_PEER_CERT with OPENSSL_EXTRA) */
    return rc;
}

/* ---------------- crypto services ---------------- */

static int wolf_random(uint8_t *buf, size_t len)
{
    WC_RNG rng;
    if (wc_InitRng(&rng) != 0)
        return ANYDTLS_E_BACKEND;
    int r = wc_RNG_GenerateBlock(&rng, buf, (word32)len);
    wc_FreeRng(&rng);
    return r == 0 ? ANYDTLS_OK : ANYDTLS_E_BACKEND;
}

static int wolf_hmac_sha256(const uint8_t *key, size_t key_len, const struct anydtls_iov *iov,
                            size_t n_iov, uint8_t out[32])
{
    Hmac h;
    int r = wc_HmacInit(&h, NULL, INVALID_DEVID);
    if (r == 0)
        r = wc_HmacSetKey(&h, WC_SHA256, key, (word32)key_len);
    for (size_t i = 0; r == 0 && i < n_iov; i++)
        r = wc_HmacUpdate(&h, iov[i].p, (word32)iov[i].n);
    if (r == 0)
        r = wc_HmacFinal(&h, out);
    wc_HmacFree(&h);
    anydtls_wipe(&h, sizeof h);
    return r == 0 ? ANYDTLS_OK : ANYDTLS_E_BACKEND;
}

static const char *wolf_version(void)
{
    return wolfSSL_lib_version();
}

const struct anydtls_backend anydtls_backend_driver = {
    .name = "wolfssl",
    /* Debian 12's build has no WOLFSSL_DTLS_MTU (no settable MTU); SRTP
     * is not driven yet, whatever the build. */
    .caps = ANYDTLS_CAP_CERT | ANYDTLS_CAP_PSK | ANYDTLS_CAP_EXPORTER | ANYDTLS_CAP_COOKIE |
            ANYDTLS_CAP_RESUMPTION | WOLF_CAP_MTU,
    .version = wolf_version,
    .config_build = wolf_config_build,
    .config_free = wolf_config_free,
    .session_new = wolf_session_new,
    .session_free = wolf_session_free,
    .handshake = wolf_handshake,
    .read = wolf_read,
    .write = wolf_write,
    .shutdown = wolf_shutdown,
    .get_timeout = wolf_get_timeout,
    .handle_timeout = wolf_handle_timeout,
    .set_mtu = wolf_set_mtu,
    .max_payload = wolf_max_payload,
    .export_keying_material = wolf_export,
    .cipher = wolf_cipher,
    .protocol = wolf_protocol,
    .peer_cert_der = wolf_peer_cert_der,
    .session_save = wolf_session_save,
    .session_resume = wolf_session_resume,
    .resumed = wolf_resumed,
    .random = wolf_random,
    .hmac_sha256 = wolf_hmac_sha256,
};
