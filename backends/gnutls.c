/*
 * The GnuTLS driver.  The only file of anydtls that includes a GnuTLS (or
 * nettle) header.  Every GnuTLS result is checked and mapped to one
 * ANYDTLS_E_* code; GnuTLS's own message and code are kept for logs.
 *
 * Cookies: GnuTLS's gnutls_dtls_cookie_verify() compares with memcmp and
 * fixes the cookie at 16 bytes of HMAC-SHA1, so it is not used.  The common
 * code verifies our cookie; the session then starts from the ClientHello's
 * sequence numbers through gnutls_dtls_prestate_set().
 */
#include "internal.h"

#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/hmac.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DTLS 1.2 only, AEAD only; the key exchanges and ciphers of the policy
 * (common/policy.c) follow, a server choosing by their order. */
static const char priorities_base[] = "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:-CIPHER-ALL:"
                                      "-MAC-ALL:+AEAD:%SERVER_PRECEDENCE";

struct gtls_config {
    gnutls_certificate_credentials_t cert;
    gnutls_psk_client_credentials_t psk_client;
    gnutls_psk_server_credentials_t psk_server;
    gnutls_priority_t prio;
    gnutls_datum_t ticket_key; /* server with resumption: seals its tickets */
};

/* GnuTLS keeps every plaintext handshake message of the peer that it
 * cannot consume yet, and as long as it keeps one it discards application
 * data ("cannot be inserted between handshake messages"): a forged future
 * message (CVE-2016-2179 style) would leave an established session deaf.
 * It also holds at most six (MAX_HANDSHAKE_MSGS); a seventh fails the
 * handshake and leaks that fragment's buffer.  So while it handshakes,
 * GnuTLS gets only the message it reads next and those continuing a run
 * from it, at most six at a time (pending_limit).  A datagram that starts
 * with a later message waits in a small stash of our own until the run
 * reaches it, so a flight reordered by the network still completes
 * without a retransmission; what never fits the run (forged) never
 * reaches GnuTLS, and the stash is emptied when the handshake is done. */
#define PENDING_MAX 6
#define STASH_MAX 4

struct stashed {
    uint8_t *d;
    size_t len;
};

struct gtls_session {
    gnutls_session_t g;
    bool io_error;
    bool write_blocked; /* the transport refused the last send */
    bool handshake_done; /* gnutls_handshake returned 0 (maybe in a timeout) */
    bool psk_unknown; /* the lookup callback did not know the identity */
    unsigned read_seq;  /* the peer's message_seq GnuTLS consumes next */
    unsigned n_pending; /* plaintext message_seqs handed over, >= read_seq */
    uint16_t pending[PENDING_MAX];
    bool ccs; /* the peer's ChangeCipherSpec was handed over */
    struct stashed stash[STASH_MAX]; /* datagrams ahead of the run, oldest first */
    unsigned n_stash;
    uint8_t *ahead; /* a datagram read ahead to answer pull_timeout_fn */
    int ahead_rc;   /* its length, or the transport's error; 0: none */
    bool drained;   /* pull_timeout_fn said "nothing" in this gnutls_handshake call */
    bool dry;       /* pull_fn found no datagram (gtls_read) */
    /* The retransmission budget before the last read (stash_add). */
    uint32_t budget_ms;
    uint64_t budget_deadline;
};

#define GCFG(cfg) ((struct gtls_config *)(cfg)->native)
#define GSES(s) ((struct gtls_session *)(s)->native)

static int config_fail(anydtls_config *cfg, int code, const char *what, int err)
{
    snprintf(cfg->error, sizeof cfg->error, "%s: %s", what, gnutls_strerror(err));
    return code;
}

/* ---------------- transport functions ---------------- */

/* errno for GnuTLS from one of our results. */
static ssize_t transport_result(anydtls_session *s, int rc)
{
    if (rc >= 0)
        return rc;
    if (rc != ANYDTLS_E_WANT_READ && rc != ANYDTLS_E_WANT_WRITE)
        GSES(s)->io_error = true;
    gnutls_transport_set_errno(GSES(s)->g, GSES(s)->io_error ? EIO : EAGAIN);
    return -1;
}

static ssize_t push_fn(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    anydtls_session *s = ptr;
    int rc = anydtls_session_send(s, buf, len);
    GSES(s)->write_blocked = rc == ANYDTLS_E_WANT_WRITE;
    return transport_result(s, rc);
}

static bool seq_in(const uint16_t *set, unsigned n, unsigned seq)
{
    for (unsigned i = 0; i < n; i++)
        if (set[i] == seq)
            return true;
    return false;
}

/* The run as a datagram's records would leave it: the message_seqs
 * GnuTLS would hold (pending), older ones it would hold until the end of
 * the datagram, and encrypted handshake records. */
struct run {
    uint16_t pending[PENDING_MAX], older[PENDING_MAX];
    unsigned n_pending, n_older, n_sealed;
    bool ccs; /* the peer's ChangeCipherSpec was handed over */
};

/* One record of a datagram, added to the run; false when it would not
 * continue the run from read_seq or would give GnuTLS a seventh message to
 * hold.  Then the run is left half-updated: callers work on a copy. */
static bool record_fits(struct run *r, unsigned read_seq, const uint8_t *p, size_t end)
{
    if (p[0] == 20)
        r->ccs = true;
    if (p[0] != 22)
        return true;
    if (p[3] != 0 || p[4] != 0) {
        if (!r->ccs || r->n_pending + r->n_older + r->n_sealed >= PENDING_MAX)
            return false;
        r->n_sealed++;
        return true;
    }
    for (size_t f = 13; f + 12 <= end;
         f += 12 + (((size_t)p[f + 9] << 16) | ((size_t)p[f + 10] << 8) | p[f + 11])) {
        unsigned seq = ((unsigned)p[f + 4] << 8) | p[f + 5];
        if (seq_in(r->pending, r->n_pending, seq) || seq_in(r->older, r->n_older, seq))
            continue;
        if ((seq > read_seq && !seq_in(r->pending, r->n_pending, seq - 1)) ||
            r->n_pending + r->n_older + r->n_sealed >= PENDING_MAX)
            return false;
        if (seq >= read_seq)
            r->pending[r->n_pending++] = (uint16_t)seq;
        else
            r->older[r->n_older++] = (uint16_t)seq;
    }
    return true;
}

/* How much of a datagram GnuTLS may take while it handshakes: the records
 * before one that does not continue the run from read_seq or would give it
 * a seventh message to hold.  Every message_seq it has not got buffered
 * counts, older ones too (it drops those only after the datagram), and an
 * encrypted handshake record counts as one.  An encrypted handshake record
 * waits for the peer's ChangeCipherSpec: GnuTLS 3.7.9 reads only its
 * current epoch and drops a Finished that comes first (the peer sends the
 * two in datagrams of their own, and either may be lost or overtaken), so
 * a datagram starting with one goes to the stash until the
 * ChangeCipherSpec has been handed over.  Each record is tried on a copy
 * of the run, and only the records GnuTLS gets count: one whose second
 * fragment fails is withheld whole, and its first fragment must not let a
 * later forged message continue the run.  *kept: the run of the records
 * kept.  The common code has checked the records' form. */
static size_t run_limit(const struct gtls_session *gs, const uint8_t *p, size_t n, struct run *kept)
{
    *kept = (struct run){.n_pending = gs->n_pending, .ccs = gs->ccs};
    memcpy(kept->pending, gs->pending, sizeof kept->pending);
    size_t at = 0;
    for (; at + 13 <= n; at += 13 + (((size_t)p[at + 11] << 8) | p[at + 12])) {
        size_t end = 13 + (((size_t)p[at + 11] << 8) | p[at + 12]);
        if (end > n - at)
            break; /* not a whole record: never read past the datagram */
        struct run trial = *kept;
        if (!record_fits(&trial, gs->read_seq, p + at, end))
            break;
        *kept = trial;
    }
    return at;
}

/* Whether GnuTLS may take some of the datagram now; the run is left as
 * it is. */
static bool fits_now(const struct gtls_session *gs, const uint8_t *p, size_t n)
{
    struct run kept;
    return run_limit(gs, p, n, &kept) > 0;
}

/* run_limit, the session's run becoming the one of the records kept (the
 * caller hands them over, or nothing). */
static size_t pending_limit(struct gtls_session *gs, const uint8_t *p, size_t n)
{
    struct run kept;
    size_t at = run_limit(gs, p, n, &kept);
    if (at > 0) {
        memcpy(gs->pending, kept.pending, sizeof gs->pending);
        gs->n_pending = kept.n_pending;
        gs->ccs = kept.ccs;
    }
    return at;
}

static void stash_drop(struct gtls_session *gs, unsigned i)
{
    free(gs->stash[i].d);
    memmove(&gs->stash[i], &gs->stash[i + 1], (gs->n_stash - i - 1) * sizeof gs->stash[0]);
    gs->n_stash--;
}

static void stash_clear(struct gtls_session *gs)
{
    while (gs->n_stash > 0)
        stash_drop(gs, 0);
}

/* Keep a datagram that is ahead of the run (the one just read); a full
 * stash gives up its oldest (the peer's retransmission brings it again).
 * It is no progress yet: the retransmission budget is put back as it was
 * before the read.  GnuTLS taking the peer's next message restarts the
 * budget instead (consumed_hook), the one that fills the gap before a
 * stashed datagram too, whose message_seq the common rule has seen: a
 * handshake that spent its budget waiting for a lost ServerHello, the
 * rest of the flight stashed, then failed at its last flight's first
 * loss. */
static void stash_add(anydtls_session *s, const uint8_t *d, size_t len)
{
    struct gtls_session *gs = GSES(s);
    s->timer_ms = gs->budget_ms;
    s->deadline = gs->budget_deadline;
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return;
    if (gs->n_stash == STASH_MAX)
        stash_drop(gs, 0);
    memcpy(copy, d, len);
    gs->stash[gs->n_stash++] = (struct stashed){copy, len};
}

/* The first stashed datagram the run has reached, into buf: its length
 * (what GnuTLS may take of it), or 0. */
static size_t stash_take(struct gtls_session *gs, uint8_t *buf, size_t cap)
{
    for (unsigned i = 0; i < gs->n_stash; i++) {
        struct stashed *st = &gs->stash[i];
        size_t keep = st->len <= cap ? pending_limit(gs, st->d, st->len) : 0;
        if (keep > 0) {
            memcpy(buf, st->d, keep);
            stash_drop(gs, i);
            return keep;
        }
    }
    return 0;
}

/* Whether a stashed datagram is one the run has reached. */
static bool stash_ready(const struct gtls_session *gs)
{
    for (unsigned i = 0; i < gs->n_stash; i++)
        if (fits_now(gs, gs->stash[i].d, gs->stash[i].len))
            return true;
    return false;
}

/* A datagram from the transport.  The common rule restarts the
 * retransmission budget on a new message_seq or epoch; the budget as it
 * was is kept for stash_add. */
static int recv_datagram(anydtls_session *s, uint8_t *buf, size_t cap)
{
    struct gtls_session *gs = GSES(s);
    gs->budget_ms = s->timer_ms;
    gs->budget_deadline = s->deadline;
    return anydtls_session_recv(s, buf, cap);
}

/* The next datagram of the session: the one read ahead, else the
 * transport's. */
static int next_datagram(anydtls_session *s, uint8_t *buf, size_t cap)
{
    struct gtls_session *gs = GSES(s);
    int rc = gs->ahead_rc;
    if (rc == 0)
        return recv_datagram(s, buf, cap);
    gs->ahead_rc = 0;
    if (rc > 0 && (size_t)rc > cap)
        rc = (int)cap; /* the rest is lost, as a socket would */
    if (rc > 0)
        memcpy(buf, gs->ahead, (size_t)rc);
    return rc;
}

static ssize_t pull_fn(gnutls_transport_ptr_t ptr, void *buf, size_t cap)
{
    anydtls_session *s = ptr;
    struct gtls_session *gs = GSES(s);
    if (gs->handshake_done) {
        stash_clear(gs);
        int rc = next_datagram(s, buf, cap);
        gs->dry = rc == ANYDTLS_E_WANT_READ;
        return transport_result(s, rc);
    }
    size_t keep = stash_take(gs, buf, cap);
    if (keep > 0)
        return (ssize_t)keep;
    int rc;
    while ((rc = next_datagram(s, buf, cap)) > 0) {
        keep = pending_limit(gs, buf, (size_t)rc);
        if (keep > 0)
            return (ssize_t)keep;
        stash_add(s, buf, (size_t)rc);
    }
    gs->dry = rc == ANYDTLS_E_WANT_READ;
    return transport_result(s, rc);
}

/* GnuTLS took the next message of the peer off its buffer: the run
 * advances, and the peer's progress restarts the retransmission budget
 * (stash_add). */
static int consumed_hook(gnutls_session_t g, unsigned htype, unsigned when, unsigned incoming,
                         const gnutls_datum_t *msg)
{
    (void)when;
    (void)msg;
    anydtls_session *s = gnutls_session_get_ptr(g);
    struct gtls_session *gs = GSES(s);
    if (!incoming || htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC)
        return 0;
    s->timer_ms = 0;
    s->deadline = 0;
    gs->read_seq++;
    unsigned kept = 0;
    for (unsigned i = 0; i < gs->n_pending; i++)
        if (gs->pending[i] >= gs->read_seq)
            gs->pending[kept++] = gs->pending[i];
    gs->n_pending = kept;
    return 0;
}

/* Whether a datagram is there for GnuTLS: it retransmits a flight only
 * when this says none is.  A transport that cannot tell (callbacks) always
 * says one may be, so a datagram is read ahead to know.  While it
 * handshakes, only a datagram it may take now counts: one ahead of the run
 * goes to the stash and the next is read.  GnuTLS 3.7.9 told "data"
 * because a datagram waited in the stash read nothing, and did not
 * retransmit: a forged far-ahead fragment in place of the peer's lost
 * flight stopped the handshake.
 *
 * Once it has said "nothing", it says so until gnutls_handshake returns
 * (handshake_step clears drained).  GnuTLS 3.7.9 asks twice while it waits
 * for the peer's last flight: _dtls_wait_and_retransmit, and on "nothing"
 * _dtls_transmit through _dtls_retransmit.  When a datagram lands between
 * the two (a runt read and dropped by the record rule just before the
 * real datagram makes that likely), _dtls_transmit parses the peer's
 * Finished into its handshake buffer and ends the flight (its copy of our
 * flight is freed), but the call returns GNUTLS_E_AGAIN; the next call
 * checks only the record buffers, finds them empty, and waits again for
 * ever: the Finished is never read and the "retransmission" is empty. */
static int pull_timeout_fn(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    anydtls_session *s = ptr;
    struct gtls_session *gs = GSES(s);
    if (gs->ahead_rc != 0)
        return 1;
    if (gs->drained)
        return 0;
    if (!gs->handshake_done && stash_ready(gs))
        return 1;
    for (; anydtls_session_ready(s, ms); ms = 0) {
        if (gs->ahead == NULL && (gs->ahead = malloc(ANYDTLS_MAX_DATAGRAM)) == NULL)
            return 1; /* let the read tell */
        int rc = recv_datagram(s, gs->ahead, ANYDTLS_MAX_DATAGRAM);
        if (rc == ANYDTLS_E_WANT_READ)
            break;
        if (rc < 0 || gs->handshake_done || fits_now(gs, gs->ahead, (size_t)rc)) {
            gs->ahead_rc = rc;
            return 1;
        }
        stash_add(s, gs->ahead, (size_t)rc);
    }
    gs->drained = !gs->handshake_done;
    return 0;
}

/* ---------------- callbacks ---------------- */

static int psk_server_cb(gnutls_session_t g, const gnutls_datum_t *username,
                         gnutls_datum_t *key)
{
    anydtls_session *s = gnutls_session_get_ptr(g);
    const anydtls_config *cfg = s->cfg;
    char identity[ANYDTLS_PSK_IDENTITY_MAX + 1];
    uint8_t buf[ANYDTLS_PSK_MAX];
    if (username->size == 0 || username->size > ANYDTLS_PSK_IDENTITY_MAX ||
        memchr(username->data, 0, username->size) != NULL)
        goto unknown;
    memcpy(identity, username->data, username->size);
    identity[username->size] = '\0';
    int n = cfg->psk_lookup(cfg->psk_user, identity, buf, sizeof buf);
    if (n <= 0 || (size_t)n > sizeof buf)
        goto unknown;
    key->data = gnutls_malloc((size_t)n);
    if (key->data == NULL) {
        anydtls_wipe(buf, sizeof buf);
        return -1;
    }
    memcpy(key->data, buf, (size_t)n);
    key->size = (unsigned)n;
    anydtls_wipe(buf, sizeof buf);
    snprintf(s->psk_identity, sizeof s->psk_identity, "%s", identity);
    s->psk_used = true;
    return 0;
unknown:
    anydtls_wipe(buf, sizeof buf);
    GSES(s)->psk_unknown = true;
    return -1;
}

/* ---------------- configuration ---------------- */

/* The group of the own certificate's ECDSA key (common/policy.c). */
static int note_cert_group(anydtls_config *cfg, struct gtls_config *gc)
{
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0, bits = 0;
    int r = gnutls_certificate_get_x509_crt(gc->cert, 0, &crts, &n);
    if (r < 0)
        return r;
    if (n > 0 && gnutls_x509_crt_get_pk_algorithm(crts[0], &bits) == GNUTLS_PK_ECDSA)
        cfg->cert_group = anydtls_ecdsa_group((bits + 7) / 8);
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return 0;
}

/* What a failed certificate and key load says: a key that is not the
 * certificate's (of another type or the same) is the one mismatch on
 * every flavour, whatever GnuTLS's own words. */
static const char *load_failure(int err, const char *otherwise)
{
    return err == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "private key does not match certificate"
                                                    : otherwise;
}

static int setup_cert(anydtls_config *cfg, struct gtls_config *gc)
{
    int r = gnutls_certificate_allocate_credentials(&gc->cert);
    if (r < 0)
        return config_fail(cfg, ANYDTLS_E_NOMEM, "cannot allocate credentials", r);
    if (cfg->cert_file != NULL) {
        r = gnutls_certificate_set_x509_key_file2(gc->cert, cfg->cert_file, cfg->key_file,
                                                  GNUTLS_X509_FMT_PEM, NULL, 0);
        if (r < 0)
            return config_fail(cfg, ANYDTLS_E_CREDENTIALS,
                               load_failure(r, "cannot load certificate or key file"), r);
    }
    if (cfg->cert_pem.data != NULL) {
        gnutls_datum_t c = {cfg->cert_pem.data, (unsigned)cfg->cert_pem.len};
        gnutls_datum_t k = {cfg->key_pem.data, (unsigned)cfg->key_pem.len};
        r = gnutls_certificate_set_x509_key_mem2(gc->cert, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (r < 0)
            return config_fail(cfg, ANYDTLS_E_CREDENTIALS,
                               load_failure(r, "cannot load certificate or key PEM"), r);
    }
    if ((cfg->cert_file != NULL || cfg->cert_pem.data != NULL) && (r = note_cert_group(cfg, gc)) < 0)
        return config_fail(cfg, r == GNUTLS_E_MEMORY_ERROR ? ANYDTLS_E_NOMEM : ANYDTLS_E_BACKEND,
                           "cannot read the certificate", r);
    if (cfg->ca_file != NULL) {
        r = gnutls_certificate_set_x509_trust_file(gc->cert, cfg->ca_file, GNUTLS_X509_FMT_PEM);
        if (r <= 0)
            return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load CA file",
                               r < 0 ? r : GNUTLS_E_BASE64_DECODING_ERROR);
    }
    if (cfg->ca_pem.data != NULL) {
        gnutls_datum_t ca = {cfg->ca_pem.data, (unsigned)cfg->ca_pem.len};
        r = gnutls_certificate_set_x509_trust_mem(gc->cert, &ca, GNUTLS_X509_FMT_PEM);
        if (r <= 0)
            return config_fail(cfg, ANYDTLS_E_CREDENTIALS, "cannot load CA PEM",
                               r < 0 ? r : GNUTLS_E_BASE64_DECODING_ERROR);
    }
    return ANYDTLS_OK;
}

static int setup_psk(anydtls_config *cfg, struct gtls_config *gc)
{
    int r = 0;
    if (cfg->role == ANYDTLS_CLIENT && cfg->psk_key.data != NULL) {
        gnutls_datum_t key = {cfg->psk_key.data, (unsigned)cfg->psk_key.len};
        r = gnutls_psk_allocate_client_credentials(&gc->psk_client);
        if (r >= 0)
            r = gnutls_psk_set_client_credentials(gc->psk_client, cfg->psk_identity, &key,
                                                  GNUTLS_PSK_KEY_RAW);
    }
    if (cfg->role == ANYDTLS_SERVER && cfg->psk_lookup != NULL) {
        r = gnutls_psk_allocate_server_credentials(&gc->psk_server);
        if (r >= 0) {
            gnutls_psk_set_server_credentials_function2(gc->psk_server, psk_server_cb);
            if (cfg->psk_identity != NULL)
                r = gnutls_psk_set_server_credentials_hint(gc->psk_server, cfg->psk_identity);
        }
    }
    return r < 0 ? config_fail(cfg, ANYDTLS_E_NOMEM, "cannot set up PSK", r) : ANYDTLS_OK;
}

/* Append ":+token" unless buf has it: GnuTLS enables suites as key
 * exchange x cipher, each named once. */
static void add_token(char *buf, size_t cap, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = strstr(buf, token); p != NULL; p = strstr(p + 1, token))
        if (p[-1] == '+' && (p[n] == ':' || p[n] == '\0'))
            return;
    snprintf(buf + strlen(buf), cap - strlen(buf), ":+%s", token);
}

/* The policy's suites that creds allow and barred leaves, and its groups,
 * as a priority string: GnuTLS orders suites by key exchange first, then
 * by cipher, which is the policy's order.  A configuration with both PSK
 * and certificates also enables TLS_PSK_WITH_AES_*_GCM (declared in
 * doc/architecture.md). */
static void priority_string(unsigned creds, unsigned barred, char *prio, size_t cap)
{
    static const char *const kx[] = {
        [ANYDTLS_KX_ECDHE_ECDSA] = "ECDHE-ECDSA",
        [ANYDTLS_KX_ECDHE_RSA] = "ECDHE-RSA",
        [ANYDTLS_KX_ECDHE_PSK] = "ECDHE-PSK",
        [ANYDTLS_KX_PSK] = "PSK",
    };
    static const char *const bulk[] = {
        [ANYDTLS_BULK_AES_128_GCM] = "AES-128-GCM",
        [ANYDTLS_BULK_AES_256_GCM] = "AES-256-GCM",
        [ANYDTLS_BULK_CHACHA20_POLY1305] = "CHACHA20-POLY1305",
    };
    char kxs[128] = "", ciphers[128] = "", groups[128] = ":-GROUP-ALL";
    for (size_t i = 0; i < anydtls_n_suites; i++) {
        const struct anydtls_suite *su = &anydtls_suites[i];
        if (anydtls_suite_usable(su, creds) && !anydtls_suite_barred(su, barred)) {
            add_token(kxs, sizeof kxs, kx[su->kx]);
            add_token(ciphers, sizeof ciphers, bulk[su->bulk]);
        }
    }
    for (size_t i = 0; i < anydtls_n_groups; i++) {
        const char *name = strcmp(anydtls_groups[i].iana, "x25519") == 0      ? "GROUP-X25519"
                           : strcmp(anydtls_groups[i].iana, "secp256r1") == 0 ? "GROUP-SECP256R1"
                           : strcmp(anydtls_groups[i].iana, "secp384r1") == 0 ? "GROUP-SECP384R1"
                                                                              : NULL;
        if (name != NULL)
            add_token(groups, sizeof groups, name);
    }
    snprintf(prio, cap, "%s%s%s%s", priorities_base, kxs, ciphers, groups);
}

static int setup_priorities(anydtls_config *cfg, struct gtls_config *gc)
{
    char prio[512];
    priority_string(anydtls_policy_creds(cfg), 0, prio, sizeof prio);
    int r = gnutls_priority_init(&gc->prio, prio, NULL);
    if (r < 0)
        return config_fail(cfg, r == GNUTLS_E_MEMORY_ERROR ? ANYDTLS_E_NOMEM : ANYDTLS_E_BACKEND,
                           "cannot set priorities", r);
    return ANYDTLS_OK;
}

static void gtls_config_free(anydtls_config *cfg)
{
    struct gtls_config *gc = GCFG(cfg);
    if (gc == NULL)
        return;
    if (gc->cert != NULL)
        gnutls_certificate_free_credentials(gc->cert);
    if (gc->psk_client != NULL)
        gnutls_psk_free_client_credentials(gc->psk_client);
    if (gc->psk_server != NULL)
        gnutls_psk_free_server_credentials(gc->psk_server);
    if (gc->prio != NULL)
        gnutls_priority_deinit(gc->prio);
    if (gc->ticket_key.data != NULL) {
        gnutls_memset(gc->ticket_key.data, 0, gc->ticket_key.size);
        gnutls_free(gc->ticket_key.data);
    }
    free(gc);
    cfg->native = NULL;
}

static int gtls_config_build(anydtls_config *cfg)
{
    struct gtls_config *gc = calloc(1, sizeof *gc);
    if (gc == NULL)
        return config_fail(cfg, ANYDTLS_E_NOMEM, "out of memory", GNUTLS_E_MEMORY_ERROR);
    cfg->native = gc;
    int rc = setup_cert(cfg, gc);
    if (rc == ANYDTLS_OK)
        rc = setup_psk(cfg, gc);
    if (rc == ANYDTLS_OK)
        rc = setup_priorities(cfg, gc);
    if (rc == ANYDTLS_OK && cfg->resumption && cfg->role == ANYDTLS_SERVER) {
        int r = gnutls_session_ticket_key_generate(&gc->ticket_key);
        if (r < 0)
            rc = config_fail(cfg, ANYDTLS_E_BACKEND, "cannot make a ticket key", r);
    }
    if (rc != ANYDTLS_OK)
        gtls_config_free(cfg);
    return rc;
}

/* ---------------- sessions ---------------- */

static void gtls_session_free(anydtls_session *s)
{
    struct gtls_session *gs = GSES(s);
    if (gs == NULL)
        return;
    if (gs->g != NULL)
        gnutls_deinit(gs->g);
    stash_clear(gs);
    if (gs->ahead != NULL)
        anydtls_wipe(gs->ahead, ANYDTLS_MAX_DATAGRAM);
    free(gs->ahead);
    free(gs);
    s->native = NULL;
}

static int setup_verify(anydtls_session *s, gnutls_session_t g)
{
    const anydtls_config *cfg = s->cfg;
    if (cfg->verify != ANYDTLS_VERIFY_PEER)
        return 0;
    if (cfg->role == ANYDTLS_SERVER) {
        if (cfg->ca_file == NULL && cfg->ca_pem.data == NULL)
            return 0;
        gnutls_certificate_server_set_request(g, GNUTLS_CERT_REQUIRE);
        /* No CA names in the request, as OpenSSL by default: a GnuTLS client
         * would otherwise keep back a certificate from another CA, and the
         * failure would read "no certificate" instead of "untrusted". */
        gnutls_certificate_send_x509_rdn_sequence(g, 1);
        gnutls_session_set_verify_cert(g, NULL, 0);
        return 0;
    }
    const char *name = cfg->peer_name;
    /* SNI carries host names only; the certificate check takes all. */
    if (name != NULL && cfg->peer_kind == ANYDTLS_PEER_HOST) {
        int r = gnutls_server_name_set(g, GNUTLS_NAME_DNS, name, strlen(name));
        if (r < 0)
            return r;
    }
    gnutls_session_set_verify_cert(g, name, 0);
    return 0;
}

static int gtls_set_credentials(anydtls_session *s, gnutls_session_t g)
{
    struct gtls_config *gc = GCFG(s->cfg);
    char prio[512];
    int r;
    /* The key exchanges the peer's ClientHello rules out (its groups):
     * GnuTLS would choose ECDHE-PSK with P-256 for a ClientHello without
     * supported_groups. */
    if (s->kx_barred != 0) {
        priority_string(anydtls_policy_creds(s->cfg), s->kx_barred, prio, sizeof prio);
        r = gnutls_priority_set_direct(g, prio, NULL);
    } else {
        r = gnutls_priority_set(g, gc->prio);
    }
    if (r >= 0)
        r = gnutls_credentials_set(g, GNUTLS_CRD_CERTIFICATE, gc->cert);
    if (r >= 0 && gc->psk_client != NULL) {
        r = gnutls_credentials_set(g, GNUTLS_CRD_PSK, gc->psk_client);
        s->psk_used = true;
    }
    if (r >= 0 && gc->psk_server != NULL)
        r = gnutls_credentials_set(g, GNUTLS_CRD_PSK, gc->psk_server);
    if (r >= 0 && gc->ticket_key.data != NULL)
        r = gnutls_session_ticket_enable_server(g, &gc->ticket_key);
    return r;
}

static int gtls_session_new(anydtls_session *s, const anydtls_prestate *ps)
{
    struct gtls_session *gs = calloc(1, sizeof *gs);
    if (gs == NULL)
        return ANYDTLS_E_NOMEM;
    s->native = gs;
    unsigned flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK |
                     (s->cfg->resumption ? 0 : GNUTLS_NO_TICKETS) |
                     (s->cfg->role == ANYDTLS_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT);
    int r = gnutls_init(&gs->g, flags);
    if (r >= 0)
        r = gtls_set_credentials(s, gs->g);
    if (r >= 0)
        r = setup_verify(s, gs->g);
    if (r < 0) {
        anydtls_set_detail(s->detail, sizeof s->detail, gnutls_strerror(r));
        gtls_session_free(s);
        return r == GNUTLS_E_MEMORY_ERROR ? ANYDTLS_E_NOMEM : ANYDTLS_E_BACKEND;
    }
    gnutls_session_set_ptr(gs->g, s);
    gnutls_transport_set_ptr(gs->g, s);
    gnutls_transport_set_push_function(gs->g, push_fn);
    gnutls_transport_set_pull_function(gs->g, pull_fn);
    gnutls_transport_set_pull_timeout_function(gs->g, pull_timeout_fn);
    gnutls_handshake_set_hook_function(gs->g, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_PRE, consumed_hook);
    gnutls_dtls_set_mtu(gs->g, s->mtu);
    /* GnuTLS retransmits from the initial timeout; our budget rule decides
     * when to give up (handle_timeout).  Its own total counts from the
     * start of the whole handshake, while our budget restarts on progress:
     * it is set to a day so that it never ends a slow but live handshake. */
    gnutls_dtls_set_timeouts(gs->g, s->cfg->timeout_initial_ms, 86400000u);
    if (ps != NULL) {
        gnutls_dtls_prestate_st pst;
        memset(&pst, 0, sizeof pst);
        pst.record_seq = (unsigned)ps->record_seq;
        pst.hsk_read_seq = ps->message_seq;
        pst.hsk_write_seq = 0; /* our HelloVerifyRequest had message_seq 0 */
        gnutls_dtls_prestate_set(gs->g, &pst);
        gs->read_seq = ps->message_seq;
    }
    return ANYDTLS_OK;
}

/* The code for a certificate the verification refused. */
static int verify_code(gnutls_session_t g)
{
    unsigned status = gnutls_session_get_verify_cert_status(g);
    if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
        return ANYDTLS_E_CERT_EXPIRED;
    if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
        return ANYDTLS_E_NAME_MISMATCH;
    return ANYDTLS_E_CERT_UNTRUSTED;
}

static int failure_code(anydtls_session *s, int err)
{
    struct gtls_session *gs = GSES(s);
    if (gs->io_error)
        return ANYDTLS_E_IO;
    if (gs->psk_unknown)
        return ANYDTLS_E_PSK_IDENTITY;
    switch (err) {
    case GNUTLS_E_TIMEDOUT:
        return anydtls_timeout_code(s);
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
        s->alert = (int)gnutls_alert_get(gs->g);
        return anydtls_alert_code(s->alert);
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_CERTIFICATE_ERROR:
        return verify_code(gs->g);
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
        return ANYDTLS_E_CERT_UNTRUSTED;
    case GNUTLS_E_LARGE_PACKET:
        return ANYDTLS_E_MSG_TOO_BIG;
    case GNUTLS_E_MEMORY_ERROR:
        return ANYDTLS_E_NOMEM;
    case GNUTLS_E_PUSH_ERROR:
    case GNUTLS_E_PULL_ERROR:
        return ANYDTLS_E_IO;
    default:
        return s->established ? ANYDTLS_E_BACKEND : ANYDTLS_E_HANDSHAKE;
    }
}

/* A HelloRequest (to a client) or a ClientHello (to a server) on an
 * established session: GnuTLS reports it and leaves the answer to us.
 * Renegotiation is refused in both roles with a no_renegotiation warning
 * and the session goes on (doc/architecture.md); left unanswered, the
 * peer would wait for a handshake that never comes. */
static int refuse_renegotiation(anydtls_session *s)
{
    int r = gnutls_alert_send(GSES(s)->g, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
    if (r < 0 && r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
        return anydtls_session_fail(s, ANYDTLS_E_BACKEND, r, gnutls_strerror(r));
    return ANYDTLS_E_WANT_READ;
}

/* Map a negative GnuTLS result of an I/O call. */
static int map_result(anydtls_session *s, int err)
{
    struct gtls_session *gs = GSES(s);
    /* GnuTLS's own direction says "write" after every flight it sent; only
     * a transport that refused a datagram makes us wait for writing. */
    if (err == GNUTLS_E_AGAIN || err == GNUTLS_E_INTERRUPTED)
        return gs->write_blocked ? ANYDTLS_E_WANT_WRITE : ANYDTLS_E_WANT_READ;
    if (err == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        s->alert = (int)gnutls_alert_get(gs->g);
        return s->alert == GNUTLS_A_CLOSE_NOTIFY ? ANYDTLS_E_CLOSED : ANYDTLS_E_WANT_READ;
    }
    if (err == GNUTLS_E_REHANDSHAKE)
        return refuse_renegotiation(s);
    if (!gnutls_error_is_fatal(err))
        return ANYDTLS_E_WANT_READ; /* a record was dropped; the session goes on */
    int code = failure_code(s, err);
    /* A missing client certificate is a handshake_failure, as OpenSSL says;
     * so is renegotiation_info that does not match (RFC 5746 3.6). */
    int alert = err == GNUTLS_E_NO_CERTIFICATE_FOUND || err == GNUTLS_E_SAFE_RENEGOTIATION_FAILED
                    ? GNUTLS_A_HANDSHAKE_FAILURE
                    : anydtls_failure_alert(s, code);
    if (alert >= 0 && err != GNUTLS_E_FATAL_ALERT_RECEIVED)
        gnutls_alert_send(gs->g, GNUTLS_AL_FATAL, (gnutls_alert_description_t)alert);
    return anydtls_session_fail(s, code, err, gnutls_strerror(err));
}

/* One step of the handshake; done once, never again (a second
 * gnutls_handshake would start a renegotiation).  While it waits, the
 * common timer runs: gnutls_dtls_get_timeout() stays at 0 once a flight
 * is acknowledged, which would make a non-blocking caller spin. */
static int handshake_step(anydtls_session *s)
{
    struct gtls_session *gs = GSES(s);
    if (gs->handshake_done)
        return ANYDTLS_OK;
    gs->drained = false;
    int r = gnutls_handshake(gs->g);
    gs->drained = false;
    if (r == 0) {
        gs->handshake_done = true;
        stash_clear(gs);
        anydtls_timer_stop(s);
        gnutls_datum_t id = {NULL, 0};
        if (s->cfg->role == ANYDTLS_SERVER && gnutls_psk_server_get_username2(gs->g, &id) == 0)
            anydtls_keep_psk_identity(s, (const char *)id.data, id.size);
        return ANYDTLS_OK;
    }
    int code = map_result(s, r);
    if (code == ANYDTLS_E_WANT_READ || code == ANYDTLS_E_WANT_WRITE)
        anydtls_timer_arm(s);
    return code;
}

static int gtls_handshake(anydtls_session *s)
{
    return handshake_step(s);
}

/* GnuTLS 3.7.9 reads one record per gnutls_record_recv and answers a
 * record it drops (a stale one, a replay, a retransmitted handshake record
 * of the peer) with GNUTLS_E_AGAIN as if nothing had come: a caller that
 * then waits for the socket leaves the rest of the datagrams unread.  The
 * peer's retransmitted last flight starts with its epoch-0 records, and
 * only its Finished makes GnuTLS send our last flight again: read on while
 * records are dropped and datagrams wait, up to READ_DROPPED_MAX records,
 * so that the peer's first retransmission is answered at once. */
#define READ_DROPPED_MAX 32

static int gtls_read(anydtls_session *s, uint8_t *buf, size_t cap)
{
    struct gtls_session *gs = GSES(s);
    int code = ANYDTLS_E_WANT_READ;
    for (int i = 0; i < READ_DROPPED_MAX; i++) {
        gs->dry = false;
        ssize_t r = gnutls_record_recv(gs->g, buf, cap);
        if (r > 0)
            return (int)r;
        if (r == 0)
            return ANYDTLS_E_CLOSED;
        code = map_result(s, (int)r);
        if (code != ANYDTLS_E_WANT_READ || gs->dry)
            break;
    }
    return code;
}

static int gtls_write(anydtls_session *s, const uint8_t *buf, size_t len)
{
    ssize_t r = gnutls_record_send(GSES(s)->g, buf, len);
    return r > 0 ? (int)r : map_result(s, (int)r);
}

static int gtls_shutdown(anydtls_session *s)
{
    int r = gnutls_bye(GSES(s)->g, GNUTLS_SHUT_WR);
    return r == 0 ? ANYDTLS_OK : map_result(s, r);
}

static int gtls_get_timeout(anydtls_session *s, uint32_t *ms)
{
    return GSES(s)->handshake_done ? 0 : anydtls_timer_get(s, ms);
}

static int gtls_handle_timeout(anydtls_session *s)
{
    if (GSES(s)->handshake_done)
        return ANYDTLS_OK;
    int due = anydtls_timer_expire(s);
    if (due <= 0)
        return due;
    int code = handshake_step(s); /* GnuTLS retransmits the flight if it is due */
    return code == ANYDTLS_E_WANT_READ || code == ANYDTLS_E_WANT_WRITE ? ANYDTLS_OK : code;
}

static int gtls_set_mtu(anydtls_session *s, unsigned mtu)
{
    gnutls_dtls_set_mtu(GSES(s)->g, mtu);
    return ANYDTLS_OK;
}

static int gtls_max_payload(anydtls_session *s)
{
    unsigned n = gnutls_dtls_get_data_mtu(GSES(s)->g);
    return n > 0 && n <= INT32_MAX ? (int)n : ANYDTLS_E_BACKEND;
}

static int gtls_export(anydtls_session *s, uint8_t *out, size_t out_len, const char *label,
                       const uint8_t *ctx, size_t ctx_len)
{
    int r = gnutls_prf_rfc5705(GSES(s)->g, strlen(label), label, ctx != NULL ? ctx_len : 0,
                               (const char *)ctx, out_len, (char *)out);
    if (r == 0)
        return ANYDTLS_OK;
    s->native_error = r;
    anydtls_set_detail(s->detail, sizeof s->detail, gnutls_strerror(r));
    return ANYDTLS_E_BACKEND;
}

static const char *gtls_cipher(const anydtls_session *s)
{
    return gnutls_ciphersuite_get(GSES(s)->g);
}

static const char *gtls_protocol(const anydtls_session *s)
{
    switch (gnutls_protocol_get_version(GSES(s)->g)) {
    case GNUTLS_DTLS1_2:
        return "DTLSv1.2";
    case GNUTLS_DTLS1_0:
        return "DTLSv1";
    default:
        return "unknown";
    }
}

/* ---------------- resumption ---------------- */

static int gtls_session_save(anydtls_session *s, uint8_t *buf, size_t cap)
{
    gnutls_datum_t d = {NULL, 0};
    int r = gnutls_session_get_data2(GSES(s)->g, &d);
    if (r < 0) {
        anydtls_set_detail(s->detail, sizeof s->detail, gnutls_strerror(r));
        return ANYDTLS_E_BACKEND;
    }
    if (d.size <= cap)
        memcpy(buf, d.data, d.size);
    int n = d.size > INT32_MAX ? ANYDTLS_E_BACKEND : (int)d.size;
    gnutls_memset(d.data, 0, d.size); /* it holds the master secret */
    gnutls_free(d.data);
    return n;
}

static int gtls_session_resume(anydtls_session *s, const uint8_t *data, size_t len)
{
    return gnutls_session_set_data(GSES(s)->g, data, len) < 0 ? ANYDTLS_E_INVALID_ARG : ANYDTLS_OK;
}

static bool gtls_resumed(const anydtls_session *s)
{
    return gnutls_session_is_resumed(GSES(s)->g) != 0;
}

static int gtls_peer_cert_der(anydtls_session *s, uint8_t *der, size_t cap)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(GSES(s)->g, &n);
    if (certs == NULL || n == 0)
        return 0;
    if (certs[0].size > INT32_MAX)
        return ANYDTLS_E_BACKEND;
    if (der == NULL)
        return (int)certs[0].size;
    if (certs[0].size > cap)
        return ANYDTLS_E_MSG_TOO_BIG;
    memcpy(der, certs[0].data, certs[0].size);
    return (int)certs[0].size;
}

/* ---------------- crypto services ---------------- */

static int gtls_random(uint8_t *buf, size_t len)
{
    return gnutls_rnd(GNUTLS_RND_KEY, buf, len) == 0 ? ANYDTLS_OK : ANYDTLS_E_BACKEND;
}

/* nettle (GnuTLS's own crypto) keeps the HMAC state on the stack: no
 * allocation, safe in any thread. */
static int gtls_hmac_sha256(const uint8_t *key, size_t key_len, const struct anydtls_iov *iov,
                            size_t n_iov, uint8_t out[32])
{
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key_len, key);
    for (size_t i = 0; i < n_iov; i++)
        hmac_sha256_update(&ctx, iov[i].n, iov[i].p);
    hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
    anydtls_wipe(&ctx, sizeof ctx);
    return ANYDTLS_OK;
}

static const char *gtls_version(void)
{
    return gnutls_check_version(NULL);
}

const struct anydtls_backend anydtls_backend_driver = {
    .name = "gnutls",
    .caps = ANYDTLS_CAP_CERT | ANYDTLS_CAP_PSK | ANYDTLS_CAP_EXPORTER | ANYDTLS_CAP_MTU |
            ANYDTLS_CAP_RESUMPTION |
            ANYDTLS_CAP_COOKIE,
    .version = gtls_version,
    .config_build = gtls_config_build,
    .config_free = gtls_config_free,
    .session_new = gtls_session_new,
    .session_free = gtls_session_free,
    .handshake = gtls_handshake,
    .read = gtls_read,
    .write = gtls_write,
    .shutdown = gtls_shutdown,
    .get_timeout = gtls_get_timeout,
    .handle_timeout = gtls_handle_timeout,
    .set_mtu = gtls_set_mtu,
    .max_payload = gtls_max_payload,
    .export_keying_material = gtls_export,
    .cipher = gtls_cipher,
    .protocol = gtls_protocol,
    .peer_cert_der = gtls_peer_cert_der,
    .session_save = gtls_session_save,
    .session_resume = gtls_session_resume,
    .resumed = gtls_resumed,
    .random = gtls_random,
    .hmac_sha256 = gtls_hmac_sha256,
};
