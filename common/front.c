/* The front API: check arguments, then dispatch through the driver's vtable. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRV anydtls_backend_driver

const char *anydtls_version(void)
{
    return PACKAGE_VERSION;
}

const char *anydtls_backend_name(void)
{
    return DRV.name;
}

const char *anydtls_backend_version(void)
{
    return DRV.version();
}

unsigned anydtls_backend_caps(void)
{
    return DRV.caps;
}

/* One rule for the optional slots: a capability bit implies its slots, so
 * the front tests the bit alone, and this check (run on every flavour by
 * tests/test_args.c) walks the vtable once to hold the driver to it. */
int anydtls_test_driver_check(const struct anydtls_backend *d)
{
    if (d->name == NULL || d->version == NULL || d->config_build == NULL ||
        d->config_free == NULL || d->session_new == NULL || d->session_free == NULL ||
        d->handshake == NULL || d->read == NULL || d->write == NULL || d->shutdown == NULL ||
        d->get_timeout == NULL || d->handle_timeout == NULL || d->max_payload == NULL ||
        d->cipher == NULL || d->protocol == NULL || d->random == NULL ||
        d->hmac_sha256 == NULL)
        return -1;
    if ((d->caps & ANYDTLS_CAP_MTU) && d->set_mtu == NULL)
        return (int)ANYDTLS_CAP_MTU;
    if ((d->caps & ANYDTLS_CAP_EXPORTER) && d->export_keying_material == NULL)
        return (int)ANYDTLS_CAP_EXPORTER;
    if ((d->caps & ANYDTLS_CAP_CERT) && d->peer_cert_der == NULL)
        return (int)ANYDTLS_CAP_CERT;
    if ((d->caps & ANYDTLS_CAP_RESUMPTION) &&
        (d->session_save == NULL || d->session_resume == NULL || d->resumed == NULL))
        return (int)ANYDTLS_CAP_RESUMPTION;
    return 0;
}

const struct anydtls_backend *anydtls_test_driver(void)
{
    return &DRV;
}

/* The ClientHello record of the verified datagram: the bytes the cookie
 * and the hand-over rule judged.  Records after it in that datagram are
 * not handed to the library (doc/architecture.md 6.4): wolfSSL 5.5.4
 * answered a ChangeCipherSpec there with an alert and a short
 * ClientKeyExchange with its flight twice; OpenSSL and GnuTLS ignored
 * them.  A client that has them to send sends them again. */
static size_t hello_record_len(const anydtls_prestate *ps)
{
    if (ps->hello_len < 13)
        return ps->hello_len;
    size_t n = 13 + ((size_t)ps->hello[11] << 8 | ps->hello[12]);
    return n < ps->hello_len ? n : ps->hello_len;
}

static int session_create(anydtls_session **out, anydtls_config *cfg, anydtls_transport *t,
                          const anydtls_prestate *ps)
{
    int rc = anydtls_config_build(cfg);
    if (rc != ANYDTLS_OK)
        return rc;
    /* The prestate is the application's: its cookie must verify again
     * (on every flavour; GnuTLS would take it on trust).  One whose key
     * was rotated out, or whose time slot passed, since it verified is no
     * longer good: the client must do the exchange again. */
    uint8_t secret[ANYDTLS_COOKIE_SECRET_LEN] = {0};
    if (ps != NULL && (rc = anydtls_cookie_reverify(cfg, ps, secret)) != ANYDTLS_OK)
        return rc;
    anydtls_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        anydtls_wipe(secret, sizeof secret);
        return ANYDTLS_E_NOMEM;
    }
    memcpy(s->cookie_secret, secret, sizeof secret);
    anydtls_wipe(secret, sizeof secret);
    s->cfg = cfg;
    s->transport = t;
    s->mtu = cfg->mtu;
    s->alert = -1;
    s->early_alert = -1;
    s->peer_msg_seq = -1;
    if (ps != NULL) {
        rc = ANYDTLS_E_NOMEM;
        s->first_len = hello_record_len(ps);
        s->first_dgram = malloc(s->first_len);
        if (s->first_dgram == NULL)
            goto fail;
        memcpy(s->first_dgram, ps->hello, s->first_len);
        memcpy(s->cookie, ps->cookie, sizeof s->cookie);
        s->from_cookie = true;
        /* The hand-over rule, before the driver exists: what its library
         * must not choose, or why the handshake is refused. */
        s->hello_refusal = anydtls_hello_rule(cfg, ps->hello, ps->hello_len, &s->kx_barred);
        s->peer_hello_version = (uint16_t)(ps->hello[25] << 8 | ps->hello[26]);
    }
    rc = DRV.session_new(s, ps);
    if (rc != ANYDTLS_OK)
        goto fail;
    *out = s;
    return ANYDTLS_OK;
fail:
    free(s->first_dgram);
    anydtls_wipe(s, sizeof *s);
    free(s);
    return rc;
}

int anydtls_session_new(anydtls_session **out, anydtls_config *cfg, anydtls_transport *t)
{
    if (out == NULL || cfg == NULL || t == NULL)
        return ANYDTLS_E_INVALID_ARG;
    return session_create(out, cfg, t, NULL);
}

int anydtls_session_accept(anydtls_session **out, anydtls_config *cfg, anydtls_transport *t,
                           const anydtls_prestate *ps)
{
    if (out == NULL || cfg == NULL || t == NULL || ps == NULL || ps->hello == NULL ||
        ps->hello_len == 0 || ps->hello_len > ANYDTLS_MAX_DATAGRAM ||
        cfg->role != ANYDTLS_SERVER || ps->key_index > 1)
        return ANYDTLS_E_INVALID_ARG;
    if (!(DRV.caps & ANYDTLS_CAP_COOKIE))
        return ANYDTLS_E_UNSUPPORTED;
    return session_create(out, cfg, t, ps);
}

void anydtls_session_free(anydtls_session *s)
{
    if (s == NULL)
        return;
    if (s->native != NULL)
        DRV.session_free(s);
    free(s->first_dgram);
    anydtls_wipe(s, sizeof *s);
    free(s);
}

/* A session that failed fatally answers every later call with the code
 * that failed it. */
static int usable(anydtls_session *s)
{
    return s->failed ? s->fail_code : ANYDTLS_OK;
}

/* OK when s is established; the code that failed it; INVALID_ARG before
 * its handshake. */
static int established(const anydtls_session *s)
{
    if (s->failed)
        return s->fail_code;
    return s->established ? ANYDTLS_OK : ANYDTLS_E_INVALID_ARG;
}

/* The handshake ends here, whatever the library would do next
 * (anydtls_handshake_halted): a plaintext fatal alert that came before any
 * ServerHello fails it with the code that alert maps to, as an alert the
 * library read would; past its limit, it fails as a timeout. */
static int fail_halted(anydtls_session *s)
{
    if (s->early_alert >= 0) {
        char msg[80];
        s->alert = s->early_alert;
        snprintf(msg, sizeof msg, "peer sent fatal alert %d before its ServerHello", s->alert);
        return anydtls_session_fail(s, anydtls_alert_code(s->alert), 0, msg);
    }
    return anydtls_session_fail(s, anydtls_timeout_code(s), 0,
                                "handshake limit reached (twice the retransmission budget)");
}

/* A close_notify before the handshake completed (a plaintext one can be
 * forged by anyone on the path) is a failed handshake, never a clean
 * close: there was no session to close.  OpenSSL and wolfSSL report
 * CLOSED here, GnuTLS a handshake failure; every flavour now says
 * HANDSHAKE, and the detail says why. */
static int fail_closed_early(anydtls_session *s)
{
    static const char why[] = "peer sent close_notify before the handshake completed";
    if (s->failed) {
        s->fail_code = ANYDTLS_E_HANDSHAKE;
        anydtls_set_detail(s->detail, sizeof s->detail, why);
        return ANYDTLS_E_HANDSHAKE;
    }
    return anydtls_session_fail(s, ANYDTLS_E_HANDSHAKE, 0, why);
}

int anydtls_handshake(anydtls_session *s)
{
    if (s == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int rc = usable(s);
    if (rc != ANYDTLS_OK || s->established)
        return rc;
    s->started = true;
    if (s->hs_end == 0)
        s->hs_end = anydtls_now_ms() + anydtls_handshake_limit_ms(s->cfg);
    if (anydtls_handshake_halted(s))
        return fail_halted(s);
    if (s->hello_refusal != NULL) {
        /* The same refusal from every flavour (doc/architecture.md 6.4):
         * the library never sees this ClientHello. */
        anydtls_send_plain_alert(s, anydtls_failure_alert(s, ANYDTLS_E_HANDSHAKE));
        return anydtls_session_fail(s, ANYDTLS_E_HANDSHAKE, 0, s->hello_refusal);
    }
    rc = DRV.handshake(s);
    if (rc == ANYDTLS_OK) {
        anydtls_record_rule_established(s, DRV.cipher(s), DRV.protocol(s));
        s->established = true;
    } else if ((rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE) &&
               anydtls_handshake_halted(s)) {
        rc = fail_halted(s); /* reached while the driver read */
    } else if (rc == ANYDTLS_E_CLOSED) {
        rc = fail_closed_early(s);
    }
    return rc;
}

int anydtls_read(anydtls_session *s, uint8_t *buf, size_t cap)
{
    if (s == NULL || buf == NULL || cap == 0 || cap > INT32_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    if (s->peer_closed)
        return ANYDTLS_E_CLOSED;
    int rc = DRV.read(s, buf, cap);
    if (rc == ANYDTLS_E_CLOSED)
        s->peer_closed = true;
    return rc;
}

int anydtls_max_payload(anydtls_session *s)
{
    if (s == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    if (s->max_payload <= 0)
        s->max_payload = DRV.max_payload(s);
    /* A record carries at most 2^14 bytes of plaintext (RFC 6347 4.1,
     * RFC 5246 6.2.1), whatever the MTU: OpenSSL reports MTU minus overhead
     * up to 18403 and then refuses a write over 2^14. */
    if (s->max_payload > ANYDTLS_MAX_PLAINTEXT)
        s->max_payload = ANYDTLS_MAX_PLAINTEXT;
    return s->max_payload;
}

int anydtls_write(anydtls_session *s, const uint8_t *buf, size_t len)
{
    if (s == NULL || buf == NULL || len == 0)
        return ANYDTLS_E_INVALID_ARG;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    /* Nothing after a close_notify, the peer's or ours: the same answer
     * from every flavour (the libraries differ). */
    if (s->peer_closed || s->shut_down)
        return ANYDTLS_E_CLOSED;
    int max = anydtls_max_payload(s);
    if (max < 0)
        return max;
    if (len > (size_t)max)
        return ANYDTLS_E_MSG_TOO_BIG;
    return DRV.write(s, buf, len);
}

int anydtls_shutdown(anydtls_session *s)
{
    if (s == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    if (s->shut_down)
        return ANYDTLS_OK; /* one close_notify; a second call sends nothing */
    int rc = DRV.shutdown(s);
    if (rc == ANYDTLS_OK)
        s->shut_down = true;
    return rc;
}

int anydtls_get_timeout(anydtls_session *s, uint32_t *ms)
{
    if (s == NULL || ms == NULL)
        return ANYDTLS_E_INVALID_ARG;
    *ms = 0;
    if (s->failed)
        return 0;
    int rc = DRV.get_timeout(s, ms);
    if (rc < 0 || s->established || s->hs_end == 0)
        return rc;
    /* The caller also wakes for the handshake's limit. */
    uint64_t now = anydtls_now_ms();
    uint32_t left = now >= s->hs_end ? 0 : (uint32_t)(s->hs_end - now);
    if (rc == 0 || left < *ms)
        *ms = left;
    return 1;
}

int anydtls_handle_timeout(anydtls_session *s)
{
    if (s == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int rc = usable(s);
    if (rc != ANYDTLS_OK)
        return rc;
    if (anydtls_handshake_halted(s))
        return fail_halted(s);
    return DRV.handle_timeout(s);
}

int anydtls_set_mtu(anydtls_session *s, unsigned mtu)
{
    if (s == NULL || mtu < ANYDTLS_MTU_MIN || mtu > ANYDTLS_MTU_MAX)
        return ANYDTLS_E_INVALID_ARG;
    if (!(DRV.caps & ANYDTLS_CAP_MTU))
        return ANYDTLS_E_UNSUPPORTED;
    int rc = usable(s);
    if (rc != ANYDTLS_OK)
        return rc;
    rc = DRV.set_mtu(s, mtu);
    if (rc == ANYDTLS_OK) {
        s->mtu = mtu;
        s->max_payload = 0; /* recomputed on the next use */
    }
    return rc;
}

/* The PRF labels TLS 1.2 itself uses (RFC 5705 4, RFC 7627 4): an exporter
 * with one of them would hand out the handshake's own secrets' relatives.
 * GnuTLS 3.7 computes them; OpenSSL and wolfSSL refuse them in their own
 * way.  Refused here, the same on every flavour. */
static bool reserved_label(const char *label)
{
    static const char *const reserved[] = {"client finished", "server finished",
                                           "master secret", "key expansion",
                                           "extended master secret"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(label, reserved[i]) == 0)
            return true;
    return false;
}

int anydtls_export_keying_material(anydtls_session *s, uint8_t *out, size_t out_len,
                                   const char *label, const uint8_t *context, size_t context_len)
{
    if (s == NULL || out == NULL || out_len == 0 || out_len > 1024 || label == NULL ||
        !*label || reserved_label(label) || (context == NULL && context_len != 0) ||
        context_len > 0xFFFF)
        return ANYDTLS_E_INVALID_ARG;
    if (!(DRV.caps & ANYDTLS_CAP_EXPORTER))
        return ANYDTLS_E_UNSUPPORTED;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    return DRV.export_keying_material(s, out, out_len, label, context, context_len);
}

const char *anydtls_cipher(const anydtls_session *s)
{
    return s != NULL && s->established ? DRV.cipher(s) : NULL;
}

const char *anydtls_protocol(const anydtls_session *s)
{
    return s != NULL && s->established ? DRV.protocol(s) : NULL;
}

const char *anydtls_psk_identity(const anydtls_session *s)
{
    return s != NULL && s->psk_identity[0] != '\0' ? s->psk_identity : NULL;
}

int anydtls_peer_cert_der(anydtls_session *s, uint8_t *der, size_t cap)
{
    if (s == NULL || (der == NULL && cap != 0))
        return ANYDTLS_E_INVALID_ARG;
    if (!(DRV.caps & ANYDTLS_CAP_CERT))
        return ANYDTLS_E_UNSUPPORTED;
    int ready = established(s);
    if (ready != ANYDTLS_OK)
        return ready;
    return DRV.peer_cert_der(s, der, cap);
}

/* Resumption needs the capability, a client and the configuration's
 * consent. */
static int resumable(const anydtls_session *s)
{
    if (!(DRV.caps & ANYDTLS_CAP_RESUMPTION))
        return ANYDTLS_E_UNSUPPORTED;
    if (s->cfg->role != ANYDTLS_CLIENT || !s->cfg->resumption)
        return ANYDTLS_E_INVALID_ARG;
    return ANYDTLS_OK;
}

int anydtls_session_save(anydtls_session *s, uint8_t *buf, size_t cap)
{
    if (s == NULL || (buf == NULL && cap != 0))
        return ANYDTLS_E_INVALID_ARG;
    int rc = resumable(s);
    if (rc == ANYDTLS_OK)
        rc = established(s);
    if (rc != ANYDTLS_OK)
        return rc;
    rc = DRV.session_save(s, buf, cap);
    if (rc > ANYDTLS_SESSION_DATA_MAX)
        return ANYDTLS_E_BACKEND;
    return rc >= 0 && (size_t)rc > cap ? ANYDTLS_E_MSG_TOO_BIG : rc;
}

int anydtls_session_resume(anydtls_session *s, const uint8_t *data, size_t len)
{
    if (s == NULL || data == NULL || len == 0 || len > ANYDTLS_SESSION_DATA_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int rc = resumable(s);
    if (rc != ANYDTLS_OK)
        return rc;
    if (s->started || s->failed)
        return ANYDTLS_E_INVALID_ARG;
    return DRV.session_resume(s, data, len);
}

int anydtls_session_resumed(const anydtls_session *s)
{
    return s != NULL && s->established && (DRV.caps & ANYDTLS_CAP_RESUMPTION) && DRV.resumed(s);
}

int anydtls_alert(const anydtls_session *s)
{
    return s != NULL ? s->alert : -1;
}

const char *anydtls_error_detail(const anydtls_session *s)
{
    return s != NULL ? s->detail : "";
}

long anydtls_error_native(const anydtls_session *s)
{
    return s != NULL ? s->native_error : 0;
}
