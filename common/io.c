/* Datagram I/O of a session, shared by every driver's transport glue. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER 13

int anydtls_session_send(anydtls_session *s, const uint8_t *buf, size_t len)
{
    if (!s->established)
        anydtls_note_datagram(s, buf, len);
    return anydtls_transport_send(s->transport, buf, len);
}

/* The verified ClientHello comes first, then the transport.  A datagram too
 * short for one record header is dropped here: it cannot be DTLS, and some
 * backends would keep its bytes and misread the next datagram. */
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
        do
            rc = anydtls_transport_recv(s->transport, buf, cap);
        while (rc >= 0 && rc < RECORD_HEADER);
    }
    if (rc < 0)
        return rc;
    /* The peer is alive: the retransmission budget starts again. */
    s->timer_ms = 0;
    s->deadline = 0;
    if (!s->established)
        anydtls_note_datagram(s, buf, (size_t)rc);
    return rc;
}

int anydtls_session_ready(anydtls_session *s, unsigned ms)
{
    return s->first_dgram != NULL ? 1 : anydtls_transport_ready(s->transport, ms);
}
