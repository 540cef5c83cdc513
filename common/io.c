/* Datagram I/O of a session, shared by every driver's transport glue. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER 13

static uint64_t get_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | *p++;
    return v;
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
        if (epoch != 0)
            s->epoch1_seen = true;
        if (epoch != 0 && !incoming)
            s->out_encrypted = true;
        if (!incoming && epoch == 0 && get_uint(p + 5, 6) >= s->out_seq0)
            s->out_seq0 = get_uint(p + 5, 6) + 1;
        if (incoming && epoch > s->peer_epoch) {
            s->peer_epoch = epoch;
            progress = true;
        }
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

/* How much of a datagram is whole records.  The rest (a record header cut
 * short, or a length that runs past the end) cannot be DTLS: GnuTLS would
 * keep those bytes and misread every later datagram, wolfSSL answers them
 * with a fatal alert.  RFC 6347 (4.1.2.7) lets it be discarded. */
static size_t whole_records(const uint8_t *p, size_t n)
{
    size_t whole = 0;
    while (n - whole >= RECORD_HEADER) {
        size_t len = (size_t)get_uint(p + whole + 11, 2);
        if (len > n - whole - RECORD_HEADER)
            break;
        whole += RECORD_HEADER + len;
    }
    return whole;
}

/* The verified ClientHello comes first, then the transport.  Whatever is
 * not whole records is cut off here, and a datagram with none is dropped:
 * the session reads the next one. */
int anydtls_session_recv(anydtls_session *s, uint8_t *buf, size_t cap)
{
    int rc;
    if (s->first_dgram != NULL) {
        rc = (int)(s->first_len < cap ? s->first_len : cap);
        memcpy(buf, s->first_dgram, (size_t)rc);
        free(s->first_dgram);
        s->first_dgram = NULL;
        s->first_len = 0;
    } else {
        do {
            rc = anydtls_transport_recv(s->transport, buf, cap);
            if (rc > 0)
                rc = (int)whole_records(buf, (size_t)rc);
        } while (rc == 0);
    }
    if (rc < 0)
        return rc;
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
    return s->first_dgram != NULL ? 1 : anydtls_transport_ready(s->transport, ms);
}
