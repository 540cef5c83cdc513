/* Every failure scenario gives its one documented code. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static void run(anydtls_config *ccfg, anydtls_config *scfg, int want_client, int want_server,
                const char *what)
{
    struct link l;
    link_init(&l, ccfg, scfg, true);
    link_handshake(&l);
    is(l.crc, want_client, "%s: client gets %s", what, anydtls_strerror(want_client));
    if (l.crc != want_client)
        tap_diag("client detail: %s", anydtls_error_detail(l.c));
    if (want_server != 1) {
        is(l.src, want_server, "%s: server gets %s", what, anydtls_strerror(want_server));
        if (l.src != want_server)
            tap_diag("server detail: %s", anydtls_error_detail(l.s));
    }
    link_free(&l);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
}

static void test_cert_failures(void)
{
    run(client_cert_config("ca.pem", "localhost"), server_cert_config("rogue.pem", "rogue.key"),
        ANYDTLS_E_CERT_UNTRUSTED, ANYDTLS_E_CERT_UNTRUSTED, "unknown CA");
    run(client_cert_config("ca.pem", "localhost"),
        server_cert_config("wrongname.pem", "wrongname.key"), ANYDTLS_E_NAME_MISMATCH,
        ANYDTLS_E_CERT_UNTRUSTED, "wrong peer name");
    run(client_cert_config("ca.pem", "127.0.0.2"), server_cert_config("server.pem", "server.key"),
        ANYDTLS_E_NAME_MISMATCH, ANYDTLS_E_CERT_UNTRUSTED, "wrong peer IP address");
    run(client_cert_config("ca.pem", "localhost"), server_cert_config("expired.pem", "expired.key"),
        ANYDTLS_E_CERT_EXPIRED, ANYDTLS_E_CERT_EXPIRED, "expired certificate");
    /* A client that trusts nothing cannot verify anybody. */
    anydtls_config *bare;
    CHECK(anydtls_config_new(&bare, ANYDTLS_CLIENT));
    fast_timers(bare);
    run(bare, server_cert_config("server.pem", "server.key"), ANYDTLS_E_CERT_UNTRUSTED,
        ANYDTLS_E_CERT_UNTRUSTED, "no CA configured");
    /* Mutual authentication: the server requires a client certificate. */
    anydtls_config *scfg = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_ca_file(scfg, pki("ca.pem")));
    anydtls_config *ccfg = client_cert_config("ca.pem", "localhost");
    CHECK(anydtls_config_set_cert_file(ccfg, pki("rogue.pem"), pki("rogue.key")));
    run(ccfg, scfg, ANYDTLS_E_CERT_UNTRUSTED, ANYDTLS_E_CERT_UNTRUSTED,
        "client certificate from an unknown CA");
}

static void test_psk_failures(void)
{
    run(client_psk_config("nobody", test_psk_key, sizeof test_psk_key), server_psk_config(),
        ANYDTLS_E_PSK_IDENTITY, ANYDTLS_E_PSK_IDENTITY, "unknown PSK identity");
    static const uint8_t wrong[16] = {1, 2, 3};
    /* DTLS drops records that fail authentication silently, so the server
     * may never learn; the client's budget runs out after its Finished. */
    run(client_psk_config(TEST_PSK_IDENTITY, wrong, sizeof wrong), server_psk_config(),
        ANYDTLS_E_PSK_KEY, 1, "wrong PSK key");
}

static bool drop_all(void *user, int dir, int n, const uint8_t *d, size_t len)
{
    (void)dir, (void)n, (void)d, (void)len;
    ++*(int *)user;
    return false;
}

static void test_silent_peer(void)
{
    /* 20, 40, 80, 160, 320, 640 ms: the first ClientHello and five
     * retransmissions, then the next timeout (1280) exceeds the 640 max. */
    struct link l;
    int sent = 0;
    anydtls_config *ccfg = client_cert_config("ca.pem", "localhost");
    anydtls_config *scfg = server_cert_config("server.pem", "server.key");
    link_init(&l, ccfg, scfg, true);
    l.filter = drop_all;
    l.filter_user = &sent;
    link_handshake(&l);
    is(l.crc, ANYDTLS_E_TIMEOUT, "silent peer: TIMEOUT");
    is(sent, 6, "silent peer: 1 ClientHello + 5 retransmissions within the budget");
    is(anydtls_handshake(l.c), ANYDTLS_E_TIMEOUT, "a failed session keeps its code");
    uint32_t ms = 7;
    is(anydtls_get_timeout(l.c, &ms), 0, "and runs no timer");
    link_free(&l);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
}

static void test_bad_credentials(void)
{
    anydtls_config *cfg;
    CHECK(anydtls_config_new(&cfg, ANYDTLS_SERVER));
    CHECK(anydtls_config_set_cert_file(cfg, pki("missing.pem"), pki("server.key")));
    is(anydtls_config_build(cfg), ANYDTLS_E_CREDENTIALS, "missing certificate file");
    ok(strlen(anydtls_config_error(cfg)) > 0, "with the backend's message: %s",
       anydtls_config_error(cfg));
    anydtls_config_free(cfg);

    CHECK(anydtls_config_new(&cfg, ANYDTLS_SERVER));
    CHECK(anydtls_config_set_cert_file(cfg, pki("server.pem"), pki("client.key")));
    is(anydtls_config_build(cfg), ANYDTLS_E_CREDENTIALS, "key that does not match the cert");
    anydtls_config_free(cfg);

    CHECK(anydtls_config_new(&cfg, ANYDTLS_CLIENT));
    CHECK(anydtls_config_set_ca_mem(cfg, "not a PEM", 9));
    is(anydtls_config_build(cfg), ANYDTLS_E_CREDENTIALS, "garbage CA PEM");
    anydtls_config_free(cfg);

    size_t clen, klen;
    char *chain = slurp(pki("server.pem"), &clen), *key = slurp(pki("server.key"), &klen);
    CHECK(anydtls_config_new(&cfg, ANYDTLS_SERVER));
    CHECK(anydtls_config_set_cert_mem(cfg, chain, clen, key, klen / 2));
    is(anydtls_config_build(cfg), ANYDTLS_E_CREDENTIALS, "truncated key PEM");
    anydtls_config_free(cfg);
    free(chain);
    free(key);
}

int main(void)
{
    tap_plan(24);
    test_cert_failures();
    test_psk_failures();
    test_silent_peer();
    test_bad_credentials();
    return tap_done();
}
