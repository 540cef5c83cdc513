/* Names of the error codes: one fixed string each. */
#include "internal.h"

static const char *const messages[] = {
    [0] = "success",
    [1] = "operation would block: waiting for a datagram",
    [2] = "operation would block: transport cannot send now",
    [3] = "handshake timed out: retransmission budget exhausted",
    [4] = "peer closed the session (close_notify)",
    [5] = "invalid argument",
    [6] = "out of memory",
    [7] = "not supported by this backend",
    [8] = "transport I/O error",
    [9] = "handshake failed",
    [10] = "peer certificate is not trusted",
    [11] = "peer certificate has expired or is not yet valid",
    [12] = "peer certificate does not match the expected name",
    [13] = "unknown PSK identity",
    [14] = "malformed or unauthenticated record",
    [15] = "message larger than one datagram payload",
    [16] = "peer sent a fatal alert",
    [17] = "unmapped TLS library error",
    [18] = "pre-shared keys differ",
    [19] = "certificate, key or CA could not be loaded",
};

const char *anydtls_strerror(int code)
{
    if (code > 0 || -code >= (int)(sizeof messages / sizeof messages[0]))
        return "unknown error";
    return messages[-code];
}

/* Alerts (RFC 5246 7.2, RFC 4279) that name a failure we have a code for. */
int anydtls_alert_code(int alert)
{
    switch (alert) {
    case 0: /* close_notify */
        return ANYDTLS_E_CLOSED;
    case 42: /* bad_certificate */
    case 48: /* unknown_ca */
        return ANYDTLS_E_CERT_UNTRUSTED;
    case 45: /* certificate_expired */
        return ANYDTLS_E_CERT_EXPIRED;
    case 115: /* unknown_psk_identity */
        return ANYDTLS_E_PSK_IDENTITY;
    default:
        return ANYDTLS_E_ALERT;
    }
}

int anydtls_timeout_code(const anydtls_session *s)
{
    bool finished = s->cfg->role == ANYDTLS_CLIENT ? s->out_encrypted : s->peer_sealed_again;
    return s->psk_used && finished ? ANYDTLS_E_PSK_KEY : ANYDTLS_E_TIMEOUT;
}

int anydtls_code_alert(int code)
{
    switch (code) {
    case ANYDTLS_E_CERT_UNTRUSTED:
        return 48; /* unknown_ca */
    case ANYDTLS_E_CERT_EXPIRED:
        return 45; /* certificate_expired */
    case ANYDTLS_E_NAME_MISMATCH:
        return 42; /* bad_certificate */
    case ANYDTLS_E_PSK_IDENTITY:
        return 115; /* unknown_psk_identity */
    case ANYDTLS_E_HANDSHAKE:
        return 40; /* handshake_failure: nothing the peer offered can be served */
    default:
        return -1;
    }
}

int anydtls_failure_alert(const anydtls_session *s, int code)
{
    if (code == ANYDTLS_E_HANDSHAKE && s->peer_hello_version == 0xFEFF)
        return 70; /* protocol_version: the peer offered DTLS 1.0 only */
    return anydtls_code_alert(code);
}
