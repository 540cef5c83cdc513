/* Datagram I/O of a session, shared by every driver's transport glue. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER 13
#define HANDSHAKE_HEADER 12
#define MAX_PLAINTEXT 16384           /* RFC 6347, 4.1: 2^14 */
#define MAX_RECORD_BODY (16384 + 2048) /* RFC 6347, 4.1 */
/* The longest handshake message a peer may announce: GnuTLS's own limit
 * for a whole handshake, far above any certificate chain, far below the
 * 16 MiB the length field allows. */
#define MAX_HANDSHAKE_MESSAGE (128u * 1024u)
#define CT_CHANGE_CIPHER_SPEC 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APPLICATION_DATA 23
#define HT_SERVER_HELLO 2
#define HT_FINISHED 20

static uint64_t get_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | *p++;
    return v;
}

/* An encrypted handshake record from the peer (its Finished) with record
 * sequence number seq: a copy is not a retransmission (DTLS numbers every
 * record afresh), so a replay of one captured flight never counts twice. */
static void note_sealed_handshake(anydtls_session *s, uint64_t seq)
{
    if (!s->epoch1_seen) {
        s->epoch1_seen = true;
        s->peer_sealed_seq = seq;
    } else if (seq > s->peer_sealed_seq) {
        s->peer_sealed_again = true;
    }
}

bool anydtls_note_datagram(anydtls_session *s, const uint8_t *p, size_t n, bool incoming)
{
    bool progress = false;
    /* Each record: type(1) version(2) epoch(2) seq(6) length(2) fragment;
     * a handshake fragment starts with type(1) length(3) message_seq(2). */
    while (n >= 13) {
        size_t len = (size_t)get_uint(p + 11, 2);
        uint16_t epoch = (uint16_t)get_uint(p + 3, 2);
        if (len > n - 13)
            break;
        if (epoch != 0 && incoming && p[0] == CT_HANDSHAKE)
            note_sealed_handshake(s, get_uint(p + 5, 6));
        if (epoch != 0 && !incoming)
            s->out_encrypted = true;
        if (!incoming && epoch == 0 && get_uint(p + 5, 6) >= s->out_seq0)
            s->out_seq0 = get_uint(p + 5, 6) + 1;
        if (incoming && epoch > s->peer_epoch) {
            s->peer_epoch = epoch;
            progress = true;
        }
        if (incoming && epoch == 0 && p[0] == CT_HANDSHAKE && len >= 1 &&
            p[13] == HT_SERVER_HELLO)
            s->server_hello_seen = true;
        /* The version a ClientHello offers, or a ServerHello names (its
         * first fragment): DTLS 1.0 is refused with protocol_version on
         * every flavour (anydtls_failure_alert; GnuTLS 3.7.9's client
         * would answer a DTLS 1.0 ServerHello with handshake_failure). */
        if (incoming && epoch == 0 && p[0] == 22 && len >= 14 &&
            (p[13] == 1 || p[13] == HT_SERVER_HELLO) &&
            get_uint(p + 13 + 6, 3) == 0)
            s->peer_hello_version = (uint16_t)get_uint(p + 13 + 12, 2);
        if (incoming && epoch == 0 && p[0] == 22 && len >= 12 &&
            (int)get_uint(p + 13 + 4, 2) > s->peer_msg_seq) {
            s->peer_msg_seq = (int)get_uint(p + 13 + 4, 2);
            progress = true;
        }
        p += 13 + len;
        n -= 13 + len;
    }
    return progress;
}

/* The fragments of a plaintext handshake record: each fits the record and
 * its message, announces a message of sane size, and carries bytes unless
 * the message is empty.  A Finished is never plaintext. */
static bool plain_fragments_valid(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    while (n > 0) {
        if (n < HANDSHAKE_HEADER)
            return false;
        size_t msg = (size_t)get_uint(p + 1, 3), off = (size_t)get_uint(p + 6, 3);
        size_t frag = (size_t)get_uint(p + 9, 3);
        if (p[0] == HT_FINISHED || msg > MAX_HANDSHAKE_MESSAGE || frag > n - HANDSHAKE_HEADER ||
            off > msg || frag > msg - off || (frag == 0 && msg != 0))
            return false;
        p += HANDSHAKE_HEADER + frag;
        n -= HANDSHAKE_HEADER + frag;
    }
    return true;
}

/* The shortest body an encrypted record of this cipher suite (its IANA
 * name) can have: explicit nonce + tag for AEAD suites, IV + one padded
 * block holding the MAC for CBC suites.  Any suite of DTLS 1.2 adds at
 * least ANYDTLS_MIN_SEALED bytes, the floor used when the name is not known. */
static unsigned cipher_min_record(const char *suite)
{
    if (suite == NULL)
        return ANYDTLS_MIN_SEALED;
    if (strstr(suite, "CHACHA20_POLY1305") != NULL || strstr(suite, "_CCM_8") != NULL)
        return 16; /* no explicit nonce + 16-byte tag; 8 + 8 */
    if (strstr(suite, "_GCM_") != NULL || strstr(suite, "_CCM") != NULL)
        return 24; /* 8-byte explicit nonce + 16-byte tag */
    if (strstr(suite, "3DES") != NULL)
        return 32; /* 8-byte IV + MAC and padding in 8-byte blocks */
    if (strstr(suite, "_CBC_") != NULL)
        return 48; /* 16-byte IV + MAC (>= 16) and padding in 16-byte blocks */
    return ANYDTLS_MIN_SEALED;
}

/* The most an encrypted record of this suite can add to its 2^14 bytes of
 * plaintext: nonce and tag for AEAD suites; IV, the longest MAC (48) and
 * 256 bytes of padding for CBC suites; RFC 6347's 2048 when the name is
 * not known. */
static unsigned cipher_max_expansion(const char *suite)
{
    if (suite == NULL)
        return MAX_RECORD_BODY - MAX_PLAINTEXT;
    if (strstr(suite, "CHACHA20_POLY1305") != NULL || strstr(suite, "_CCM_8") != NULL)
        return 16;
    if (strstr(suite, "_GCM_") != NULL || strstr(suite, "_CCM") != NULL)
        return 24;
    if (strstr(suite, "3DES") != NULL)
        return 8 + 48 + 256;
    if (strstr(suite, "_CBC_") != NULL)
        return 16 + 48 + 256;
    return MAX_RECORD_BODY - MAX_PLAINTEXT;
}

void anydtls_record_rule_established(anydtls_session *s, const char *suite, const char *protocol)
{
    s->min_sealed = (uint8_t)cipher_min_record(suite);
    s->max_sealed = (uint16_t)(MAX_PLAINTEXT + cipher_max_expansion(suite));
    s->record_version = protocol != NULL && strcmp(protocol, "DTLSv1") == 0 ? 0xFEFF : 0xFEFD;
}

/* The length of the record at p if it can be a DTLS 1.x record for us,
 * else 0: whole, not oversized, DTLS 1.0/1.2, a content type of DTLS 1.2,
 * no plaintext application data, sane plaintext handshake fragments, and
 * an encrypted body no shorter than any cipher suite makes.  Once the
 * session is established, records must carry the negotiated version and
 * encrypted ones at least the negotiated suite's least expansion and at
 * most 2^14 bytes plus its greatest.  The libraries
 * differ here by release: OpenSSL before 3.0.22 ends an established
 * session on a 17-byte encrypted record, wolfSSL 5.5 on any runt and on
 * another record version. */
static size_t valid_record(const anydtls_session *s, const uint8_t *p, size_t n)
{
    if (n < RECORD_HEADER)
        return 0;
    size_t len = (size_t)get_uint(p + 11, 2);
    uint64_t version = get_uint(p + 1, 2), epoch = get_uint(p + 3, 2);
    if (len > n - RECORD_HEADER || len > MAX_RECORD_BODY ||
        (version != 0xFEFD && version != 0xFEFF) || p[0] < CT_CHANGE_CIPHER_SPEC ||
        p[0] > CT_APPLICATION_DATA)
        return 0;
    if (epoch == 0 && (p[0] == CT_APPLICATION_DATA ||
                       (p[0] == CT_HANDSHAKE && !plain_fragments_valid(p + RECORD_HEADER, len))))
        return 0;
    if (epoch != 0 && len < (s->established ? s->min_sealed : ANYDTLS_MIN_SEALED))
        return 0;
    /* No longer than the suite can make of 2^14 bytes: wolfSSL 5.5 and 5.7
     * answer an encrypted body over 2^14 + 1126 with a fatal
     * record_overflow, so one forged datagram would end the session. */
    if (epoch != 0 && s->established && len > s->max_sealed)
        return 0;
    if (s->established && version != s->record_version)
        return 0;
    return RECORD_HEADER + len;
}

/* What of a datagram its library gets: the records up to the first one that
 * cannot be genuine (0: drop the datagram).  RFC 6347 (4.1.2.7) wants invalid
 * records discarded, and the libraries do not all manage it: wolfSSL ends a
 * handshake on a malformed record header, GnuTLS allocates the length a
 * handshake header announces (16 MiB) and keeps the bytes of a record cut
 * short to misread the next datagram with them. */
static size_t valid_prefix(const anydtls_session *s, const uint8_t *p, size_t n)
{
    size_t at = 0, len;
    while ((len = valid_record(s, p + at, n - at)) > 0)
        at += len;
    return at;
}

/* A client that has no ServerHello yet reads a plaintext fatal alert
 * itself, whatever record version it carries (DTLS 1.0 or 1.2), and the
 * front fails the handshake with the code it maps to.  The libraries
 * differ here: wolfSSL 5.5.4 does not take an alert in a DTLS 1.0 record
 * (what `openssl s_server -dtls1` answers a DTLS 1.2 ClientHello with) for
 * an alert: it ignores it, or fails with another code (HANDSHAKE against
 * that server); GnuTLS 3.7.9 can drop one that arrives while it sends its
 * second ClientHello, and then waits out its whole budget.  The records
 * of the datagram (valid_prefix) are read in order, up to a ServerHello:
 * true when one of them was such an alert (s->early_alert says which). */
static bool early_alert(anydtls_session *s, const uint8_t *p, size_t n)
{
    if (s->cfg->role != ANYDTLS_CLIENT || s->established || s->server_hello_seen)
        return false;
    while (n >= RECORD_HEADER) {
        size_t len = (size_t)get_uint(p + 11, 2);
        bool plain = get_uint(p + 3, 2) == 0;
        if (plain && p[0] == CT_HANDSHAKE && p[RECORD_HEADER] == HT_SERVER_HELLO)
            return false;
        if (plain && p[0] == CT_ALERT && len == 2 && p[RECORD_HEADER] == 2 /* fatal */) {
            s->early_alert = p[RECORD_HEADER + 1];
            s->alert = s->early_alert;
            return true;
        }
        p += RECORD_HEADER + len;
        n -= RECORD_HEADER + len;
    }
    return false;
}

void anydtls_send_plain_alert(anydtls_session *s, int alert)
{
    uint8_t rec[15] = {21, 0xFE, 0xFD, 0, 0};
    if (s->out_encrypted || alert < 0 || alert > 255)
        return;
    for (int i = 0; i < 6; i++)
        rec[5 + i] = (uint8_t)(s->out_seq0 >> (8 * (5 - i)));
    rec[12] = 2;
    rec[13] = 2; /* fatal */
    rec[14] = (uint8_t)alert;
    s->out_seq0++;
    (void)anydtls_transport_send(s->transport, rec, sizeof rec);
}


int anydtls_session_send(anydtls_session *s, const uint8_t *buf, size_t len)
{
    if (!s->established)
        anydtls_note_datagram(s, buf, len, false);
    return anydtls_transport_send(s->transport, buf, len);
}

/* The verified ClientHello comes first, then the transport.  Only whole,
 * well-formed records reach the library (valid_prefix); a datagram without
 * one, a runt included, is dropped here and the next one read. */
int anydtls_session_recv(anydtls_session *s, uint8_t *buf, size_t cap)
{
    int rc = 0;
    if (s->first_dgram != NULL) {
        /* The ClientHello record verified, alone: the front kept nothing
         * that followed it in the datagram (hello_record_len). */
        size_t n = s->first_len < cap ? s->first_len : cap;
        memcpy(buf, s->first_dgram, n);
        free(s->first_dgram);
        s->first_dgram = NULL;
        s->first_len = 0;
        rc = (int)valid_prefix(s, buf, n);
    }
    while (rc == 0) {
        if (anydtls_handshake_halted(s))
            return ANYDTLS_E_WANT_READ; /* the front fails it (below) */
        rc = anydtls_transport_recv(s->transport, buf, cap);
        if (rc >= 0)
            rc = (int)valid_prefix(s, buf, (size_t)rc);
    }
    if (rc < 0)
        return rc;
    /* Not for the library: the front fails the handshake with its code. */
    if (early_alert(s, buf, (size_t)rc))
        return ANYDTLS_E_WANT_READ;
    /* Progress of the peer starts the retransmission budget again; its
     * retransmissions do not (two peers that answer each other's
     * retransmissions would otherwise never give up). */
    if (!s->established && anydtls_note_datagram(s, buf, (size_t)rc, true)) {
        s->timer_ms = 0;
        s->deadline = 0;
    }
    return rc;
}

int anydtls_session_ready(anydtls_session *s, unsigned ms)
{
    if (s->first_dgram != NULL)
        return 1;
    return anydtls_handshake_halted(s) ? 0 : anydtls_transport_ready(s->transport, ms);
}

/* A handshake past its limit fails as a timeout, whatever the driver's
 * timer says: a peer can feign progress.  The reads stop there too, so a
 * peer that never lets the socket run dry cannot keep the library reading
 * inside one call (every library reads on while a datagram is waiting);
 * the front then fails the session. */
bool anydtls_handshake_overdue(const anydtls_session *s)
{
    return !s->established && s->hs_end != 0 && anydtls_now_ms() >= s->hs_end;
}

bool anydtls_handshake_halted(const anydtls_session *s)
{
    return (!s->established && s->early_alert >= 0) || anydtls_handshake_overdue(s);
}
