/* Session resumption: a client saves an established session, a later
 * client resumes it with an abbreviated handshake (certificates and PSK,
 * with and without the cookie exchange); a server that does not take part,
 * or has another ticket key, falls back to a full handshake; a client that
 * finds the server's Finished wrong fails and its encrypted fatal alert
 * fails the server; the server
 * still knows its peer (PSK identity, certificate); the API refuses the
 * wrong role, state and data. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define TESTS_PER_RUN 5

struct pair {
    anydtls_config *c, *s;
    const char *what;
};

static struct pair cert_pair(void)
{
    struct pair p = {client_cert_config("ca.pem", "localhost"),
                     server_cert_config("server.pem", "server.key"), "cert"};
    return p;
}

static struct pair psk_pair(void)
{
    struct pair p = {client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key),
                     server_psk_config(), "psk"};
    return p;
}

static void enable(struct pair *p)
{
    CHECK(anydtls_config_set_resumption(p->c, 1));
    CHECK(anydtls_config_set_resumption(p->s, 1));
}

static void pair_free(struct pair *p)
{
    anydtls_config_free(p->c);
    anydtls_config_free(p->s);
}

/* A full handshake whose client session is saved into data. */
static int first_session(struct pair *p, bool cookie, uint8_t *data, size_t cap)
{
    struct link l;
    link_init(&l, p->c, p->s, cookie);
    int n = link_handshake(&l) ? anydtls_session_save(l.c, data, cap) : l.crc;
    link_free(&l);
    return n;
}

/* A second session offering data: true when it is established and data
 * flows; *resumed tells whether the handshake was abbreviated. */
static bool second_session(struct pair *p, bool cookie, const uint8_t *data, size_t len,
                           bool *resumed)
{
    struct link l;
    link_init(&l, p->c, p->s, cookie);
    CHECK(anydtls_session_resume(l.c, data, len));
    bool up = link_handshake(&l);
    if (!up)
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s != NULL ? anydtls_error_detail(l.s) : "-");
    *resumed = up && anydtls_session_resumed(l.c) == 1;
    bool agree = up && anydtls_session_resumed(l.s) == anydtls_session_resumed(l.c);
    /* What the server knows of its peer survives resumption. */
    const char *id = up ? anydtls_psk_identity(l.s) : NULL;
    if (up && strcmp(p->what, "psk") == 0 && (id == NULL || strcmp(id, TEST_PSK_IDENTITY) != 0)) {
        tap_diag("server's PSK identity: %s", id != NULL ? id : "NULL");
        agree = false;
    }
    bool flows = up && link_transfer(&l, true, "resumed?") && link_transfer(&l, false, "yes");
    link_free(&l);
    return agree && flows;
}

static void test_resume(struct pair p, bool cookie)
{
    const char *how = cookie ? "with cookie" : "without cookie";
    enable(&p);
    if (strcmp(p.what, "psk") == 0 && strcmp(anydtls_backend_name(), "wolfssl") == 0) {
        /* The one combination a backend cannot do: the server says so. */
        int rc = anydtls_config_build(p.s);
        is(rc, ANYDTLS_E_UNSUPPORTED, "psk %s: the server configuration refuses resumption (%s)",
           how, anydtls_config_error(p.s));
        for (int i = 1; i < TESTS_PER_RUN; i++)
            tap_skip("wolfSSL's tickets do not carry the PSK identity", "psk %s: resumption", how);
        pair_free(&p);
        return;
    }
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    int n = first_session(&p, cookie, data, sizeof data);
    ok(n > 0, "%s %s: the first session saved (%d bytes)", p.what, how, n);
    bool resumed = false;
    ok(n > 0 && second_session(&p, cookie, data, (size_t)n, &resumed),
       "%s %s: a second session is established, both sides agree, data flows", p.what, how);
    ok(resumed, "%s %s: and it was resumed", p.what, how);
    /* The state saved from a resumed session resumes again. */
    struct link l;
    link_init(&l, p.c, p.s, cookie);
    CHECK(anydtls_session_resume(l.c, data, (size_t)n));
    int m = link_handshake(&l) ? anydtls_session_save(l.c, data, sizeof data) : l.crc;
    link_free(&l);
    ok(m > 0 && second_session(&p, cookie, data, (size_t)m, &resumed) && resumed,
       "%s %s: a resumed session saved and resumed again", p.what, how);
    is(anydtls_session_resumed(NULL), 0, "%s %s: resumed(NULL) is 0", p.what, how);
    pair_free(&p);
}

/* A server that does not take part, or whose ticket key differs (another
 * configuration, as after a restart): a full handshake, not a failure. */
static void test_fallback(void)
{
    struct pair p = cert_pair();
    enable(&p);
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    int n = first_session(&p, true, data, sizeof data);
    struct pair q = cert_pair();
    CHECK(anydtls_config_set_resumption(q.c, 1));
    bool resumed = true;
    ok(n > 0 && second_session(&(struct pair){p.c, q.s, "off"}, true, data, (size_t)n, &resumed) &&
           !resumed,
       "a server without resumption: full handshake instead");
    struct pair r = cert_pair();
    enable(&r);
    resumed = true;
    ok(n > 0 && second_session(&(struct pair){p.c, r.s, "other"}, true, data, (size_t)n, &resumed) &&
           !resumed,
       "a server with another ticket key: full handshake instead");
    pair_free(&r);
    pair_free(&q);
    pair_free(&p);
}

/* ---- an encrypted fatal alert ---- */

/* The server's NewSessionTicket (plaintext: it comes before the server's
 * ChangeCipherSpec) with the last byte of its ticket flipped: the ticket
 * is opaque to the client, but the server's Finished covers the message as
 * the server sent it, so the client finds that Finished wrong after its
 * own ChangeCipherSpec and answers with an encrypted fatal alert (51
 * decrypt_error from OpenSSL and wolfSSL, 40 from the GnuTLS driver). */
static enum fate spoil_ticket(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    int *spoiled = user;
    for (size_t at = 0; dir == 1 && at + 13 <= len;
         at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12])) {
        size_t rlen = ((size_t)d[at + 11] << 8) | d[at + 12];
        if (d[at] == 22 && (d[at + 3] | d[at + 4]) == 0 && rlen > 12 + 6 &&
            at + 13 + rlen <= len && d[at + 13] == 4 /* NewSessionTicket */) {
            d[at + 13 + rlen - 1] ^= 0x5a;
            (*spoiled)++;
        }
    }
    return DELIVER;
}

/* The alert record the client sends after its ChangeCipherSpec: epoch 1. */
static enum fate watch_alerts(void *user, int dir, int n, uint8_t *d, size_t len)
{
    int *sealed = user;
    for (size_t at = 0; dir == 0 && at + 13 <= len;
         at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]))
        if (d[at] == 21 && (d[at + 3] | d[at + 4]) != 0)
            (*sealed)++;
    return spoil_ticket(sealed + 1, dir, n, d, len);
}

/* A session that sent an encrypted fatal alert has failed, whatever its
 * library says next (wolfSSL may report "want read": the driver reads its
 * alert history), and its peer has the alert. */
static void test_encrypted_fatal(void)
{
    struct pair p = cert_pair();
    enable(&p);
    int counts[2] = {0, 0}; /* sealed alerts from the client, tickets spoiled */
    struct link l;
    link_init(&l, p.c, p.s, true);
    l.filter = watch_alerts;
    l.filter_user = counts;
    bool done = link_handshake(&l);
    /* The server's handshake is done once it sent its Finished: the alert
     * reaches it as it reads. */
    uint8_t buf[64];
    int rd = ANYDTLS_E_WANT_READ;
    for (int i = 0; i < 8 && rd == ANYDTLS_E_WANT_READ && l.s != NULL && l.src == ANYDTLS_OK; i++) {
        link_pump(&l);
        rd = anydtls_read(l.s, buf, sizeof buf);
    }
    if (l.src == ANYDTLS_OK)
        l.src = rd;
    ok(!done && counts[1] > 0, "a spoiled NewSessionTicket: the handshake fails (client %s, "
                              "server %s)", code_name(l.crc), code_name(l.src));
    ok(counts[0] > 0, "the client answered the server's Finished with an encrypted alert (%d)",
       counts[0]);
    ok(l.crc < 0 && l.crc != ANYDTLS_E_WANT_READ && l.crc != ANYDTLS_E_WANT_WRITE &&
           l.crc != ANYDTLS_E_TIMEOUT && l.crc != ANYDTLS_E_ALERT,
       "the client, which sent it, fails at once with a fatal code: %s (%s)", code_name(l.crc),
       anydtls_error_detail(l.c));
    is(l.src, ANYDTLS_E_ALERT, "the server receives the alert (%s)",
       l.s != NULL ? anydtls_error_detail(l.s) : "-");
    ok(l.s != NULL && anydtls_alert(l.s) > 0, "anydtls_alert names it on the server: %d",
       l.s != NULL ? anydtls_alert(l.s) : -1);
    link_free(&l);
    pair_free(&p);
}

/* A server that asks for client certificates still has the client's
 * certificate after resumption; wolfSSL's tickets do not carry it, and its
 * server says so rather than claim there was none. */
static void test_mutual(void)
{
    struct pair p = cert_pair();
    CHECK(anydtls_config_set_cert_file(p.c, pki("client.pem"), pki("client.key")));
    CHECK(anydtls_config_set_ca_file(p.s, pki("ca.pem")));
    enable(&p);
    uint8_t data[ANYDTLS_SESSION_DATA_MAX], der[4096];
    int n = first_session(&p, true, data, sizeof data);
    struct link l;
    link_init(&l, p.c, p.s, true);
    if (n > 0)
        CHECK(anydtls_session_resume(l.c, data, (size_t)n));
    bool up = n > 0 && link_handshake(&l) && anydtls_session_resumed(l.s) == 1;
    ok(up, "mutual authentication: resumed");
    int got = up ? anydtls_peer_cert_der(l.s, der, sizeof der) : ANYDTLS_E_HANDSHAKE;
    if (strcmp(anydtls_backend_name(), "wolfssl") == 0)
        is(got, ANYDTLS_E_UNSUPPORTED, "the server cannot tell the client's certificate "
                                       "(wolfSSL's ticket does not carry it)");
    else
        ok(got > 100, "the server still has the client's certificate (%d bytes)", got);
    ok(up && anydtls_peer_cert_der(l.c, der, sizeof der) > 100,
       "the client still has the server's certificate");
    link_free(&l);
    pair_free(&p);
}

static void test_api(void)
{
    struct pair off = cert_pair(), p = cert_pair();
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    struct link l;
    link_init(&l, off.c, off.s, false);
    is(anydtls_session_resume(l.c, (const uint8_t *)"x", 1), ANYDTLS_E_INVALID_ARG,
       "resume refused when the configuration did not enable resumption");
    link_free(&l);
    pair_free(&off);
    enable(&p);
    link_init(&l, p.c, p.s, false);
    is(anydtls_session_save(l.c, data, sizeof data), ANYDTLS_E_INVALID_ARG,
       "save before the handshake: INVALID_ARG");
    is(anydtls_session_resume(l.c, (const uint8_t *)"not a session", 13), ANYDTLS_E_INVALID_ARG,
       "resume from garbage: INVALID_ARG");
    is(anydtls_session_resume(l.c, NULL, 5), ANYDTLS_E_INVALID_ARG, "resume from NULL: INVALID_ARG");
    is(anydtls_session_resume(NULL, data, 5), ANYDTLS_E_INVALID_ARG, "resume on NULL: INVALID_ARG");
    ok(link_handshake(&l), "the session still completes a full handshake");
    is(anydtls_session_resumed(l.c), 0, "and says it was not resumed");
    is(anydtls_session_save(l.s, data, sizeof data), ANYDTLS_E_INVALID_ARG,
       "save on a server: INVALID_ARG");
    is(anydtls_session_save(l.c, data, 8), ANYDTLS_E_MSG_TOO_BIG, "save into 8 bytes: MSG_TOO_BIG");
    int n = anydtls_session_save(l.c, data, sizeof data);
    ok(n > 0, "save into enough room: %d bytes", n);
    is(anydtls_session_save(l.c, NULL, 0), ANYDTLS_E_MSG_TOO_BIG, "save into nothing: MSG_TOO_BIG");
    is(anydtls_session_resume(l.c, data, (size_t)n), ANYDTLS_E_INVALID_ARG,
       "resume after the handshake started: INVALID_ARG");
    link_free(&l);
    struct link bad;
    link_init(&bad, p.c, p.s, false);
    is(anydtls_session_resume(bad.c, data, (size_t)n - 1), ANYDTLS_E_INVALID_ARG,
       "resume from truncated data: INVALID_ARG");
    link_free(&bad);
    pair_free(&p);
}

int main(void)
{
    /* The memory link's timers on the virtual clock: a loaded machine
     * cannot make a retransmission fire early (vclock.h). */
    vclock_start();
    if (!HAS_CAP(ANYDTLS_CAP_RESUMPTION)) {
        tap_plan(1);
        anydtls_config *cfg;
        CHECK(anydtls_config_new(&cfg, ANYDTLS_CLIENT));
        is(anydtls_config_set_resumption(cfg, 1), ANYDTLS_E_UNSUPPORTED,
           "no resumption: the setter says UNSUPPORTED");
        anydtls_config_free(cfg);
        return tap_done();
    }
    tap_plan(4 * TESTS_PER_RUN + 2 + 3 + 13 + 5);
    test_resume(cert_pair(), false);
    test_resume(cert_pair(), true);
    test_resume(psk_pair(), false);
    test_resume(psk_pair(), true);
    test_fallback();
    test_mutual();
    test_encrypted_fatal();
    test_api();
    return tap_done();
}
