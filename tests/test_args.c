/* Argument validation: every public function given NULL or an out-of-range
 * value returns ANYDTLS_E_INVALID_ARG and changes nothing.  Cookie key
 * lengths 15 and 65 are rejected; 16, 32 and 64 work end to end. */
#include "harness.h"
#include "internal.h" /* test hooks: the driver, session_fail */

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define BAD ANYDTLS_E_INVALID_ARG
/* An output pointer preset to this must stay this after a refused call. */
#define SENTINEL(type) ((type *)(uintptr_t)0x5EA15EA1u)

static const anydtls_addr test_peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};

static int dummy_send(void *user, const uint8_t *buf, size_t len)
{
    (void)user;
    (void)buf;
    return (int)len;
}

static int dummy_recv(void *user, uint8_t *buf, size_t cap)
{
    (void)user;
    (void)buf;
    (void)cap;
    return ANYDTLS_E_WANT_READ;
}

static int dummy_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    (void)identity;
    (void)key;
    (void)cap;
    return -1;
}

static int all_bytes(const void *p, int v, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)v)
            return 0;
    return 1;
}

/* A client session over a fresh memory transport that has sent its first
 * ClientHello; the datagram is left queued on *tp. */
static anydtls_session *started_client(anydtls_config *ccfg, anydtls_transport **tp)
{
    anydtls_session *s;
    CHECK(anydtls_transport_new_memory(tp, 0));
    CHECK(anydtls_session_new(&s, ccfg, *tp));
    int rc = anydtls_handshake(s);
    if (rc != ANYDTLS_E_WANT_READ) {
        tap_diag("setup failed: first client handshake step = %d (%s)", rc, anydtls_strerror(rc));
        _exit(1);
    }
    return s;
}

/* The newest datagram queued on t (an earlier one may be a retransmission). */
static int pop_last(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    int n, last = ANYDTLS_E_WANT_READ;
    while ((n = anydtls_memory_pop(t, buf, cap)) > 0)
        last = n;
    return last;
}

/* The cookie exchange against scfg for a ClientHello from a new ccfg client:
 * 2 tests (HelloVerifyRequest answered; second ClientHello verified).  With
 * hello/ps given, the verified ClientHello is kept there. */
static void cookie_roundtrip(anydtls_config *scfg, anydtls_config *ccfg, const char *what,
                             uint8_t *hello, size_t hello_cap, anydtls_prestate *ps)
{
    uint8_t local[4096], reply[ANYDTLS_HVR_MAX];
    anydtls_prestate local_ps;
    memset(&local_ps, 0, sizeof local_ps);
    if (hello == NULL) {
        hello = local;
        hello_cap = sizeof local;
    }
    if (ps == NULL)
        ps = &local_ps;
    anydtls_transport *t;
    anydtls_session *s = started_client(ccfg, &t);
    int n = anydtls_memory_pop(t, hello, hello_cap);
    CHECK(n);
    size_t rlen = 0;
    int rc = anydtls_cookie_check(scfg, hello, (size_t)n, &test_peer, reply, sizeof reply, &rlen,
                                  ps);
    ok(rc == ANYDTLS_COOKIE_SEND_HVR && rlen > 0 && rlen <= ANYDTLS_HVR_MAX,
       "%s: first ClientHello answered with a HelloVerifyRequest (rc %d, %zu bytes)", what, rc,
       rlen);
    int rc2 = ANYDTLS_E_HANDSHAKE;
    if (rc == ANYDTLS_COOKIE_SEND_HVR) {
        CHECK(anydtls_memory_push(t, reply, rlen));
        int hs = anydtls_handshake(s);
        if (hs != ANYDTLS_E_WANT_READ)
            tap_diag("client handshake after HelloVerifyRequest = %d", hs);
        n = pop_last(t, hello, hello_cap);
        if (n > 0)
            rc2 = anydtls_cookie_check(scfg, hello, (size_t)n, &test_peer, reply, sizeof reply,
                                       &rlen, ps);
        else
            tap_diag("no second ClientHello: %d", n);
    }
    is(rc2, ANYDTLS_COOKIE_VERIFIED, "%s: ClientHello with the cookie verifies", what);
    anydtls_session_free(s);
    anydtls_transport_free(t);
}

/* ---------------------------------------------------------------- */

static void test_identity(const char *argv0)
{
    for (int c = -1; c >= -19; c--) {
        const char *m = anydtls_strerror(c);
        int good = m != NULL && *m != '\0' && strcmp(m, "unknown error") != 0;
        for (int d = 0; d >= -19 && good; d--)
            if (d != c && strcmp(m, anydtls_strerror(d)) == 0)
                good = 0;
        ok(good, "anydtls_strerror(%d) is its own message: \"%s\"", c, m != NULL ? m : "(null)");
    }
    static const int unknown[] = {1, -100, -20};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *m = anydtls_strerror(unknown[i]);
        ok(m != NULL && strcmp(m, "unknown error") == 0,
           "anydtls_strerror(%d) is \"unknown error\"", unknown[i]);
    }
    const char *dash = strrchr(argv0, '-');
    const char *want = dash != NULL ? dash + 1 : "?";
    const char *name = anydtls_backend_name();
    ok(name != NULL && strcmp(name, want) == 0, "anydtls_backend_name() is \"%s\" (got \"%s\")",
       want, name != NULL ? name : "(null)");
    const char *v = anydtls_version();
    ok(v != NULL && *v != '\0', "anydtls_version() is non-empty: %s", v != NULL ? v : "(null)");
    const char *bv = anydtls_backend_version();
    ok(bv != NULL && *bv != '\0', "anydtls_backend_version() is non-empty: %s",
       bv != NULL ? bv : "(null)");
    unsigned caps = anydtls_backend_caps();
    ok((caps & (ANYDTLS_CAP_CERT | ANYDTLS_CAP_PSK)) == (ANYDTLS_CAP_CERT | ANYDTLS_CAP_PSK),
       "capabilities 0x%x include CERT and PSK", caps);
}

static void test_config_new(void)
{
    anydtls_config *cfg = SENTINEL(anydtls_config);
    is(anydtls_config_new(NULL, ANYDTLS_CLIENT), BAD, "config_new: NULL out");
    is(anydtls_config_new(&cfg, (anydtls_role)2), BAD, "config_new: role 2");
    is(anydtls_config_new(&cfg, (anydtls_role)-1), BAD, "config_new: role -1");
    is(anydtls_config_new(&cfg, (anydtls_role)100), BAD, "config_new: role 100");
    ok(cfg == SENTINEL(anydtls_config), "config_new: refused calls leave *out untouched");
}

static void test_null_config(void)
{
    const uint8_t key[16] = {1};
    is(anydtls_config_set_cert_file(NULL, "a.pem", "a.key"), BAD, "set_cert_file: NULL cfg");
    is(anydtls_config_set_cert_mem(NULL, "x", 1, "y", 1), BAD, "set_cert_mem: NULL cfg");
    is(anydtls_config_set_ca_file(NULL, "ca.pem"), BAD, "set_ca_file: NULL cfg");
    is(anydtls_config_set_ca_mem(NULL, "x", 1), BAD, "set_ca_mem: NULL cfg");
    is(anydtls_config_set_verify(NULL, ANYDTLS_VERIFY_NONE), BAD, "set_verify: NULL cfg");
    is(anydtls_config_set_peer_name(NULL, "localhost"), BAD, "set_peer_name: NULL cfg");
    is(anydtls_config_set_psk(NULL, "id", key, sizeof key), BAD, "set_psk: NULL cfg");
    is(anydtls_config_set_psk_server(NULL, "hint", dummy_lookup, NULL), BAD,
       "set_psk_server: NULL cfg");
    is(anydtls_config_set_timeouts(NULL, 20, 640), BAD, "set_timeouts: NULL cfg");
    is(anydtls_config_set_mtu(NULL, 1000), BAD, "set_mtu: NULL cfg");
    is(anydtls_config_set_cookie_key_length(NULL, 32), BAD, "set_cookie_key_length: NULL cfg");
    is(anydtls_config_build(NULL), BAD, "config_build: NULL cfg");
    is(anydtls_cookie_rotate(NULL), BAD, "cookie_rotate: NULL cfg");
    const char *e = anydtls_config_error(NULL);
    ok(e != NULL && *e == '\0', "config_error(NULL) is \"\"");
    ok(anydtls_transport_errno(NULL) == 0, "transport_errno(NULL) is 0");
}

/* Bad values for every setter on a client and a server PSK configuration,
 * then a handshake between them proves the refused calls changed nothing.
 * Also the session-level checks on the established session. */
static void test_setters_and_established(void)
{
    char id129[130];
    memset(id129, 'i', 129);
    id129[129] = '\0';
    uint8_t key65[65];
    memset(key65, 0x42, sizeof key65);
    const char *pem = "-----BEGIN CERTIFICATE-----\n";

    anydtls_config *c = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    anydtls_config *sv = server_psk_config();
    is(anydtls_config_set_mtu(c, 300), with_cap(ANYDTLS_CAP_MTU, ANYDTLS_OK),
       "set_mtu 300 on a client accepted (or UNSUPPORTED without CAP_MTU)");

    /* certificates */
    is(anydtls_config_set_cert_file(c, NULL, pki("client.key")), BAD, "set_cert_file: NULL chain");
    is(anydtls_config_set_cert_file(c, pki("client.pem"), NULL), BAD, "set_cert_file: NULL key");
    is(anydtls_config_set_cert_file(c, "", pki("client.key")), BAD, "set_cert_file: empty chain");
    is(anydtls_config_set_cert_file(c, pki("client.pem"), ""), BAD, "set_cert_file: empty key");
    is(anydtls_config_set_cert_mem(c, NULL, 10, pem, 10), BAD, "set_cert_mem: NULL chain");
    is(anydtls_config_set_cert_mem(c, pem, 0, pem, 10), BAD, "set_cert_mem: chain_len 0");
    is(anydtls_config_set_cert_mem(c, pem, 10, NULL, 10), BAD, "set_cert_mem: NULL key");
    is(anydtls_config_set_cert_mem(c, pem, 10, pem, 0), BAD, "set_cert_mem: key_len 0");
    is(anydtls_config_set_ca_file(c, NULL), BAD, "set_ca_file: NULL path");
    is(anydtls_config_set_ca_file(c, ""), BAD, "set_ca_file: empty path");
    is(anydtls_config_set_ca_mem(c, NULL, 10), BAD, "set_ca_mem: NULL pem");
    is(anydtls_config_set_ca_mem(c, pem, 0), BAD, "set_ca_mem: len 0");
    is(anydtls_config_set_resumption(c, 2), BAD, "set_resumption: 2 (only 0 or 1)");
    is(anydtls_config_set_resumption(c, -1), BAD, "set_resumption: -1 (only 0 or 1)");
    is(anydtls_config_set_verify(c, (anydtls_verify)2), BAD, "set_verify: mode 2");
    is(anydtls_config_set_verify(c, (anydtls_verify)-1), BAD, "set_verify: mode -1");
    is(anydtls_config_set_peer_name(c, NULL), BAD, "set_peer_name: NULL name");
    is(anydtls_config_set_peer_name(c, ""), BAD, "set_peer_name: empty name");
    is(anydtls_config_set_peer_name(sv, "localhost"), BAD, "set_peer_name on a server config");

    /* PSK */
    is(anydtls_config_set_psk(c, NULL, test_psk_key, 16), BAD, "set_psk: NULL identity");
    is(anydtls_config_set_psk(c, "", test_psk_key, 16), BAD, "set_psk: empty identity");
    is(anydtls_config_set_psk(c, id129, test_psk_key, 16), BAD, "set_psk: 129-byte identity");
    is(anydtls_config_set_psk(c, "other", NULL, 16), BAD, "set_psk: NULL key");
    is(anydtls_config_set_psk(c, "other", key65, 0), BAD, "set_psk: key length 0");
    is(anydtls_config_set_psk(c, "other", key65, 65), BAD, "set_psk: key length 65");
    is(anydtls_config_set_psk(sv, TEST_PSK_IDENTITY, test_psk_key, 16), BAD,
       "set_psk on a server config");
    is(anydtls_config_set_psk_server(c, "hint", dummy_lookup, NULL), BAD,
       "set_psk_server on a client config");
    is(anydtls_config_set_psk_server(sv, "hint", NULL, NULL), BAD, "set_psk_server: NULL lookup");
    is(anydtls_config_set_psk_server(sv, "", dummy_lookup, NULL), BAD,
       "set_psk_server: empty hint");
    is(anydtls_config_set_psk_server(sv, id129, dummy_lookup, NULL), BAD,
       "set_psk_server: 129-byte hint");

    /* MTU and cookie key */
    is(anydtls_config_set_mtu(c, 255), BAD, "set_mtu: 255");
    is(anydtls_config_set_mtu(c, 18433), BAD, "set_mtu: 18433");
    is(anydtls_config_set_mtu(c, 0), BAD, "set_mtu: 0");
    is(anydtls_config_set_cookie_key_length(c, 32), BAD, "set_cookie_key_length on a client config");

    /* The refused calls changed nothing: the PSK handshake still works
     * (identity, key and lookup intact) and the MTU is still 300. */
    struct link l;
    link_init(&l, c, sv, false);
    ok(link_handshake(&l), "handshake succeeds after the refused setters (client %d, server %d)",
       l.crc, l.src);
    int mp = anydtls_max_payload(l.c);
    if (HAS_CAP(ANYDTLS_CAP_MTU))
        ok(mp > 0 && mp <= 300, "max_payload %d fits the MTU 300 that refused setters kept", mp);
    else
        tap_skip(missing_cap(ANYDTLS_CAP_MTU), "max_payload fits the MTU 300 that refused setters kept");

    uint8_t buf[64];
    memset(buf, 0xA5, sizeof buf);
    is(anydtls_read(l.c, NULL, 10), BAD, "read: NULL buf (established)");
    is(anydtls_read(l.c, buf, 0), BAD, "read: cap 0 (established)");
    is(anydtls_write(l.c, NULL, 5), BAD, "write: NULL buf (established)");
    is(anydtls_write(l.c, buf, 0), BAD, "write: len 0 (established)");
    is(anydtls_set_mtu(l.c, 255), BAD, "set_mtu: 255 (established)");
    is(anydtls_set_mtu(l.c, 18433), BAD, "set_mtu: 18433 (established)");
    is(anydtls_max_payload(l.c), mp, "max_payload unchanged after refused set_mtu");
    const uint8_t ctx[5] = {1, 2, 3, 4, 5};
    is(anydtls_export_keying_material(l.c, NULL, 16, "EXPERIMENTAL test", NULL, 0), BAD,
       "export: NULL out");
    is(anydtls_export_keying_material(l.c, buf, 0, "EXPERIMENTAL test", NULL, 0), BAD,
       "export: out_len 0");
    is(anydtls_export_keying_material(l.c, buf, 16, NULL, NULL, 0), BAD, "export: NULL label");
    is(anydtls_export_keying_material(l.c, buf, 16, "EXPERIMENTAL test", NULL, sizeof ctx), BAD,
       "export: NULL context with context_len 5");
    static const char *const reserved[] = {"client finished", "server finished", "master secret",
                                           "key expansion", "extended master secret"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        is(anydtls_export_keying_material(l.c, buf, 16, reserved[i], NULL, 0), BAD,
           "export: reserved label \"%s\" (RFC 5705 4)", reserved[i]);
    ok(all_bytes(buf, 0xA5, sizeof buf), "refused reads and exports left the buffer untouched");
    is(anydtls_export_keying_material(l.c, buf, 16, "EXPERIMENTAL test", NULL, 0),
       (anydtls_backend_caps() & ANYDTLS_CAP_EXPORTER) ? ANYDTLS_OK : ANYDTLS_E_UNSUPPORTED,
       "export: NULL context with context_len 0 is allowed");
    is(anydtls_peer_cert_der(l.c, NULL, 10), BAD, "peer_cert_der: NULL der with cap 10");
    ok(link_transfer(&l, true, "still fine") && link_transfer(&l, false, "and back"),
       "the established session still carries data after the refused calls");
    link_free(&l);
    anydtls_config_free(c);
    anydtls_config_free(sv);
}

static void test_timeouts_and_early_session(void)
{
    anydtls_config *pc = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    is(anydtls_config_set_timeouts(pc, 500, 4000), ANYDTLS_OK, "set_timeouts 500/4000 accepted");
    is(anydtls_config_set_timeouts(pc, 9, 60000), BAD, "set_timeouts: initial 9");
    is(anydtls_config_set_timeouts(pc, 0, 60000), BAD, "set_timeouts: initial 0");
    is(anydtls_config_set_timeouts(pc, 0, 0), BAD, "set_timeouts: 0/0");
    is(anydtls_config_set_timeouts(pc, 2000, 1000), BAD, "set_timeouts: initial > max");
    is(anydtls_config_set_timeouts(pc, 10, 600001), BAD, "set_timeouts: max 600001");

    anydtls_config *tmp;
    CHECK(anydtls_config_new(&tmp, ANYDTLS_CLIENT));
    is(anydtls_config_set_timeouts(tmp, 10, 600000), ANYDTLS_OK, "set_timeouts 10/600000 accepted");
    is(anydtls_config_set_mtu(tmp, 256), with_cap(ANYDTLS_CAP_MTU, ANYDTLS_OK),
       "set_mtu 256 accepted (or UNSUPPORTED without CAP_MTU)");
    is(anydtls_config_set_mtu(tmp, 18432), with_cap(ANYDTLS_CAP_MTU, ANYDTLS_OK),
       "set_mtu 18432 accepted (or UNSUPPORTED without CAP_MTU)");
    char id128[129];
    memset(id128, 'i', 128);
    id128[128] = '\0';
    uint8_t key64[64];
    memset(key64, 0x42, sizeof key64);
    is(anydtls_config_set_psk(tmp, id128, key64, 64), ANYDTLS_OK,
       "set_psk: 128-byte identity and 64-byte key accepted");
    is(anydtls_config_set_psk(tmp, "a", key64, 1), ANYDTLS_OK,
       "set_psk: 1-byte identity and 1-byte key accepted");
    anydtls_config_free(tmp);
    CHECK(anydtls_config_new(&tmp, ANYDTLS_SERVER));
    is(anydtls_config_set_psk_server(tmp, id128, dummy_lookup, NULL), ANYDTLS_OK,
       "set_psk_server: 128-byte hint accepted");
    is(anydtls_config_set_psk_server(tmp, NULL, dummy_lookup, NULL), ANYDTLS_OK,
       "set_psk_server: NULL hint accepted");
    anydtls_config_free(tmp);

    anydtls_transport *t;
    anydtls_session *s = started_client(pc, &t);
    uint32_t ms = 0;
    int rc = anydtls_get_timeout(s, &ms);
    ok(rc == 1 && ms > 100 && ms <= 500,
       "the timer runs at the 500 ms the refused set_timeouts kept (rc %d, %u ms)", rc, ms);

    /* Before the handshake completes. */
    uint8_t buf[64];
    memset(buf, 0xA5, sizeof buf);
    const uint8_t ctx[5] = {1, 2, 3, 4, 5};
    is(anydtls_get_timeout(s, NULL), BAD, "get_timeout: NULL ms");
    is(anydtls_read(s, NULL, 10), BAD, "read: NULL buf");
    is(anydtls_read(s, buf, 0), BAD, "read: cap 0");
    is(anydtls_read(s, buf, sizeof buf), BAD, "read before the handshake");
    is(anydtls_write(s, NULL, 5), BAD, "write: NULL buf");
    is(anydtls_write(s, buf, 0), BAD, "write: len 0");
    is(anydtls_write(s, buf, 5), BAD, "write before the handshake");
    is(anydtls_shutdown(s), BAD, "shutdown before the handshake");
    is(anydtls_export_keying_material(s, buf, 16, "EXPERIMENTAL test", NULL, 0),
       (anydtls_backend_caps() & ANYDTLS_CAP_EXPORTER) ? BAD : ANYDTLS_E_UNSUPPORTED,
       "export before the handshake");
    is(anydtls_export_keying_material(s, NULL, 16, "EXPERIMENTAL test", NULL, 0), BAD,
       "export: NULL out");
    is(anydtls_export_keying_material(s, buf, 0, "EXPERIMENTAL test", NULL, 0), BAD,
       "export: out_len 0");
    is(anydtls_export_keying_material(s, buf, 16, NULL, NULL, 0), BAD, "export: NULL label");
    is(anydtls_export_keying_material(s, buf, 16, "EXPERIMENTAL test", NULL, sizeof ctx), BAD,
       "export: NULL context with context_len 5");
    is(anydtls_set_mtu(s, 255), BAD, "set_mtu: 255");
    is(anydtls_set_mtu(s, 18433), BAD, "set_mtu: 18433");
    is(anydtls_max_payload(s), BAD, "max_payload before the handshake");
    is(anydtls_peer_cert_der(s, NULL, 10), BAD, "peer_cert_der: NULL der with cap 10");
    ok(all_bytes(buf, 0xA5, sizeof buf), "refused calls left the caller's buffer untouched");
    uint8_t d[4096];
    int n = anydtls_memory_pop(t, d, sizeof d);
    int n2 = anydtls_memory_pop(t, d, sizeof d);
    ok(n > 0 && n2 == ANYDTLS_E_WANT_READ,
       "refused calls sent nothing: only the ClientHello is queued (%d, then %d)", n, n2);
    is(anydtls_handshake(s), ANYDTLS_E_WANT_READ, "the session is still mid-handshake, not failed");
    ok(anydtls_cipher(s) == NULL && anydtls_protocol(s) == NULL,
       "cipher and protocol are NULL before the handshake");

    anydtls_session_free(s);
    anydtls_transport_free(t);
    anydtls_config_free(pc);
}

static void test_after_build(void)
{
    anydtls_config *c = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    is(anydtls_config_build(c), ANYDTLS_OK, "client config builds");
    is(anydtls_config_set_cert_file(c, pki("client.pem"), pki("client.key")), BAD,
       "set_cert_file after build");
    is(anydtls_config_set_cert_mem(c, "x", 1, "y", 1), BAD, "set_cert_mem after build");
    is(anydtls_config_set_ca_file(c, pki("ca.pem")), BAD, "set_ca_file after build");
    is(anydtls_config_set_ca_mem(c, "x", 1), BAD, "set_ca_mem after build");
    is(anydtls_config_set_verify(c, ANYDTLS_VERIFY_NONE), BAD, "set_verify after build");
    is(anydtls_config_set_peer_name(c, "localhost"), BAD, "set_peer_name after build");
    is(anydtls_config_set_psk(c, "other", test_psk_key, 16), BAD, "set_psk after build");
    is(anydtls_config_set_timeouts(c, 20, 640), BAD, "set_timeouts after build");
    is(anydtls_config_set_mtu(c, 1000), BAD, "set_mtu after build");
    anydtls_config_free(c);

    anydtls_config *s = server_psk_config();
    is(anydtls_config_build(s), ANYDTLS_OK, "server config builds");
    is(anydtls_config_set_psk_server(s, "hint", dummy_lookup, NULL), BAD,
       "set_psk_server after build");
    is(anydtls_config_set_cookie_key_length(s, 16), BAD, "set_cookie_key_length after build");
    anydtls_config_free(s);

    /* The first session builds the configuration too. */
    anydtls_config *c2 = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    anydtls_transport *t;
    anydtls_session *ss;
    CHECK(anydtls_transport_new_memory(&t, 0));
    is(anydtls_session_new(&ss, c2, t), ANYDTLS_OK, "session_new builds the config");
    is(anydtls_config_set_mtu(c2, 1000), BAD, "set_mtu after the first session");
    anydtls_session_free(ss);
    anydtls_transport_free(t);
    anydtls_config_free(c2);
    /* Build twice is harmless. */
    c2 = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    CHECK(anydtls_config_build(c2));
    is(anydtls_config_build(c2), ANYDTLS_OK, "building a built config again is OK");
    anydtls_config_free(c2);
}

/* A private key that is not the certificate's, of the other type (RSA key,
 * ECDSA certificate and the reverse) or of the same type: building fails
 * with ANYDTLS_E_CREDENTIALS and the same detail on every flavour (the
 * library's own words may follow after ": "), from a file and from memory,
 * for a server and a client.  4 x 4 tests. */
static void test_key_mismatch(void)
{
    static const struct {
        const char *cert, *key, *what;
    } pairs[] = {
        {"server.pem", "server-rsa.key", "RSA key, ECDSA certificate"},
        {"server-rsa.pem", "server.key", "ECDSA key, RSA certificate"},
        {"server.pem", "client.key", "ECDSA key of another ECDSA certificate"},
        {"server-rsa.pem", "inter1-rsa.key", "RSA key of another RSA certificate"},
    };
    const char *want = "private key does not match certificate";
    size_t wn = strlen(want);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t clen, klen;
        char *cert = slurp(pki(pairs[i].cert), &clen), *key = slurp(pki(pairs[i].key), &klen);
        for (int k = 0; k < 4; k++) {
            anydtls_role role = k & 1 ? ANYDTLS_CLIENT : ANYDTLS_SERVER;
            anydtls_config *c;
            CHECK(anydtls_config_new(&c, role));
            if (k & 2)
                CHECK(anydtls_config_set_cert_mem(c, cert, clen, key, klen));
            else
                CHECK(anydtls_config_set_cert_file(c, pki(pairs[i].cert), pki(pairs[i].key)));
            int rc = anydtls_config_build(c);
            const char *e = anydtls_config_error(c);
            ok(rc == ANYDTLS_E_CREDENTIALS && strncmp(e, want, wn) == 0 &&
                   (e[wn] == '\0' || e[wn] == ':'),
               "%s (%s, %s): %s, \"%s\"", pairs[i].what, k & 1 ? "client" : "server",
               k & 2 ? "memory" : "file", code_name(rc), anydtls_config_error(c));
            anydtls_config_free(c);
        }
        free(cert);
        free(key);
    }
}

static void test_cookie_lengths(anydtls_config *ccfg)
{
    static const size_t bad[] = {0, 15, 65};
    char what[80];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        anydtls_config *sv = server_psk_config();
        is(anydtls_config_set_cookie_key_length(sv, bad[i]), BAD, "cookie key length %zu rejected",
           bad[i]);
        snprintf(what, sizeof what, "after refused cookie key length %zu", bad[i]);
        cookie_roundtrip(sv, ccfg, what, NULL, 0, NULL);
        anydtls_config_free(sv);
    }
    static const size_t good[] = {16, 32, 64};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        anydtls_config *sv = server_psk_config();
        is(anydtls_config_set_cookie_key_length(sv, good[i]), ANYDTLS_OK,
           "cookie key length %zu accepted", good[i]);
        is(anydtls_config_build(sv), ANYDTLS_OK, "server config with cookie key length %zu builds",
           good[i]);
        snprintf(what, sizeof what, "cookie key length %zu", good[i]);
        cookie_roundtrip(sv, ccfg, what, NULL, 0, NULL);
        anydtls_config_free(sv);
    }
}

static void test_cookie_check_args(anydtls_config *ccfg)
{
    anydtls_config *sv = server_psk_config();
    anydtls_transport *t;
    anydtls_session *s = started_client(ccfg, &t);
    uint8_t hello[4096], reply[ANYDTLS_HVR_MAX + 8];
    int n = anydtls_memory_pop(t, hello, sizeof hello);
    CHECK(n);
    size_t len = (size_t)n, rlen = 777;
    anydtls_prestate ps;
    memset(&ps, 0xA5, sizeof ps);
    memset(reply, 0xA5, sizeof reply);
    anydtls_addr nofamily = test_peer;
    nofamily.family = 0;

    is(anydtls_cookie_check(NULL, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX, &rlen, &ps), BAD,
       "cookie_check: NULL cfg");
    is(anydtls_cookie_check(sv, NULL, len, &test_peer, reply, ANYDTLS_HVR_MAX, &rlen, &ps), BAD,
       "cookie_check: NULL dgram");
    is(anydtls_cookie_check(sv, hello, len, NULL, reply, ANYDTLS_HVR_MAX, &rlen, &ps), BAD,
       "cookie_check: NULL peer");
    is(anydtls_cookie_check(sv, hello, len, &nofamily, reply, ANYDTLS_HVR_MAX, &rlen, &ps), BAD,
       "cookie_check: peer family 0");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, NULL, ANYDTLS_HVR_MAX, &rlen, &ps), BAD,
       "cookie_check: NULL reply");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX - 1, &rlen, &ps),
       BAD, "cookie_check: reply_cap ANYDTLS_HVR_MAX - 1");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, reply, 0, &rlen, &ps), BAD,
       "cookie_check: reply_cap 0");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX, NULL, &ps), BAD,
       "cookie_check: NULL reply_len");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX, &rlen, NULL), BAD,
       "cookie_check: NULL prestate");
    is(anydtls_cookie_check(ccfg, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX, &rlen, &ps),
       BAD, "cookie_check: client config");
    ok(rlen == 777 && all_bytes(&ps, 0xA5, sizeof ps) && all_bytes(reply, 0xA5, sizeof reply),
       "refused cookie_check calls left reply, reply_len and prestate untouched");
    is(anydtls_config_set_cookie_key_length(sv, 16), ANYDTLS_OK,
       "refused cookie_check calls did not build the config");
    is(anydtls_cookie_check(sv, hello, len, &test_peer, reply, ANYDTLS_HVR_MAX, &rlen, &ps),
       ANYDTLS_COOKIE_SEND_HVR, "cookie_check with reply_cap ANYDTLS_HVR_MAX answers");
    is(anydtls_config_set_cookie_key_length(sv, 32), BAD,
       "set_cookie_key_length after cookie_check built the config");
    is(anydtls_cookie_rotate(ccfg), BAD, "cookie_rotate: client config");
    is(anydtls_cookie_rotate(sv), ANYDTLS_OK, "cookie_rotate on the server config works");
    is(anydtls_cookie_rotate(sv), ANYDTLS_OK, "cookie_rotate again works");
    anydtls_session_free(s);
    anydtls_transport_free(t);
    anydtls_config_free(sv);
}

static void test_sessions(anydtls_config *ccfg)
{
    anydtls_config *sv = server_psk_config();
    anydtls_transport *st;
    CHECK(anydtls_transport_new_memory(&st, 0));
    anydtls_session *s = SENTINEL(anydtls_session);

    is(anydtls_session_new(NULL, sv, st), BAD, "session_new: NULL out");
    is(anydtls_session_new(&s, NULL, st), BAD, "session_new: NULL cfg");
    is(anydtls_session_new(&s, sv, NULL), BAD, "session_new: NULL transport");
    ok(s == SENTINEL(anydtls_session), "session_new: refused calls leave *out untouched");
    is(anydtls_config_set_cookie_key_length(sv, 48), ANYDTLS_OK,
       "refused session_new did not build the config");

    /* A verified ClientHello for accept. */
    uint8_t hello[4096];
    anydtls_prestate good;
    memset(&good, 0, sizeof good);
    cookie_roundtrip(sv, ccfg, "for session_accept", hello, sizeof hello, &good);
    anydtls_prestate ps = good;

    is(anydtls_session_accept(NULL, sv, st, &ps), BAD, "session_accept: NULL out");
    is(anydtls_session_accept(&s, NULL, st, &ps), BAD, "session_accept: NULL cfg");
    is(anydtls_session_accept(&s, sv, NULL, &ps), BAD, "session_accept: NULL transport");
    is(anydtls_session_accept(&s, sv, st, NULL), BAD, "session_accept: NULL prestate");
    is(anydtls_session_accept(&s, ccfg, st, &ps), BAD, "session_accept: client config");
    ps.hello = NULL;
    is(anydtls_session_accept(&s, sv, st, &ps), BAD, "session_accept: prestate hello NULL");
    ps = good;
    ps.hello_len = 0;
    is(anydtls_session_accept(&s, sv, st, &ps), BAD, "session_accept: prestate hello_len 0");
    ps = good;
    ps.key_index = 2;
    is(anydtls_session_accept(&s, sv, st, &ps), BAD, "session_accept: prestate key_index 2");
    ok(s == SENTINEL(anydtls_session), "session_accept: refused calls leave *out untouched");
    uint8_t d[4096];
    is(anydtls_memory_pop(st, d, sizeof d), ANYDTLS_E_WANT_READ,
       "refused session_accept calls sent nothing");
    s = NULL;
    is(anydtls_session_accept(&s, sv, st, &good), ANYDTLS_OK,
       "session_accept with the untouched prestate works");
    ok(s != NULL, "session_accept filled *out");
    anydtls_session_free(s);
    anydtls_transport_free(st);
    anydtls_config_free(sv);
}

static void test_null_session(void)
{
    uint8_t buf[64];
    uint32_t ms = 12345;
    is(anydtls_handshake(NULL), BAD, "handshake: NULL session");
    is(anydtls_read(NULL, buf, sizeof buf), BAD, "read: NULL session");
    is(anydtls_write(NULL, buf, 5), BAD, "write: NULL session");
    is(anydtls_shutdown(NULL), BAD, "shutdown: NULL session");
    is(anydtls_get_timeout(NULL, &ms), BAD, "get_timeout: NULL session");
    ok(ms == 12345, "get_timeout: refused call leaves *ms untouched");
    is(anydtls_handle_timeout(NULL), BAD, "handle_timeout: NULL session");
    is(anydtls_set_mtu(NULL, 1000), BAD, "set_mtu: NULL session");
    is(anydtls_max_payload(NULL), BAD, "max_payload: NULL session");
    is(anydtls_export_keying_material(NULL, buf, 16, "EXPERIMENTAL test", NULL, 0), BAD,
       "export_keying_material: NULL session");
    is(anydtls_peer_cert_der(NULL, buf, sizeof buf), BAD, "peer_cert_der: NULL session");
    ok(anydtls_cipher(NULL) == NULL, "cipher(NULL) is NULL");
    ok(anydtls_protocol(NULL) == NULL, "protocol(NULL) is NULL");
    ok(anydtls_psk_identity(NULL) == NULL, "psk_identity(NULL) is NULL");
    is(anydtls_alert(NULL), -1, "alert(NULL) is -1");
    const char *e = anydtls_error_detail(NULL);
    ok(e != NULL && *e == '\0', "error_detail(NULL) is \"\"");
    ok(anydtls_error_native(NULL) == 0, "error_native(NULL) is 0");
}

static void test_addr(void)
{
    anydtls_addr a, sent;
    memset(&sent, 0xA5, sizeof sent);
    a = sent;

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(4433);
    sin.sin_addr.s_addr = htonl(0x7F000001);
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(4433);
    sin6.sin6_addr.s6_addr[15] = 1;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, "/tmp/x");

    is(anydtls_addr_from_sockaddr(NULL, (struct sockaddr *)&sin, sizeof sin), BAD,
       "addr_from_sockaddr: NULL out");
    is(anydtls_addr_from_sockaddr(&a, NULL, sizeof sin), BAD, "addr_from_sockaddr: NULL sa");
    is(anydtls_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof sin - 1), BAD,
       "addr_from_sockaddr: short sockaddr_in");
    is(anydtls_addr_from_sockaddr(&a, (struct sockaddr *)&sin6, sizeof sin6 - 1), BAD,
       "addr_from_sockaddr: short sockaddr_in6");
    is(anydtls_addr_from_sockaddr(&a, (struct sockaddr *)&sin, 0), BAD,
       "addr_from_sockaddr: len 0");
    is(anydtls_addr_from_sockaddr(&a, (struct sockaddr *)&sun, sizeof sun), BAD,
       "addr_from_sockaddr: AF_UNIX");
    ok(memcmp(&a, &sent, sizeof a) == 0, "addr_from_sockaddr: refused calls leave *out untouched");
    ok(anydtls_addr_from_sockaddr(&a, (struct sockaddr *)&sin, sizeof sin) == ANYDTLS_OK &&
           a.family == AF_INET && a.port == 4433 && a.scope_id == 0 && a.addr[0] == 127 &&
           a.addr[3] == 1 && all_bytes(a.addr + 4, 0, 12),
       "addr_from_sockaddr: a sockaddr_in works");

    struct sockaddr_storage ss, ss_sent;
    memset(&ss_sent, 0xA5, sizeof ss_sent);
    ss = ss_sent;
    socklen_t len = 999;
    anydtls_addr zero;
    memset(&zero, 0, sizeof zero);
    anydtls_addr unixish = zero;
    unixish.family = AF_UNIX;
    is(anydtls_addr_to_sockaddr(NULL, &ss, &len), BAD, "addr_to_sockaddr: NULL addr");
    is(anydtls_addr_to_sockaddr(&a, NULL, &len), BAD, "addr_to_sockaddr: NULL ss");
    is(anydtls_addr_to_sockaddr(&a, &ss, NULL), BAD, "addr_to_sockaddr: NULL len");
    is(anydtls_addr_to_sockaddr(&zero, &ss, &len), BAD, "addr_to_sockaddr: family 0");
    is(anydtls_addr_to_sockaddr(&unixish, &ss, &len), BAD, "addr_to_sockaddr: family AF_UNIX");
    ok(len == 999 && memcmp(&ss, &ss_sent, sizeof ss) == 0,
       "addr_to_sockaddr: refused calls leave *ss and *len untouched");

    a = sent;
    is(anydtls_addr_from_string(NULL, "127.0.0.1", 1), BAD, "addr_from_string: NULL out");
    is(anydtls_addr_from_string(&a, NULL, 1), BAD, "addr_from_string: NULL host");
    is(anydtls_addr_from_string(&a, "localhost", 1), BAD,
       "addr_from_string: \"localhost\" (numeric only)");
    is(anydtls_addr_from_string(&a, "", 1), BAD, "addr_from_string: empty host");
    is(anydtls_addr_from_string(&a, "256.1.1.1", 1), BAD, "addr_from_string: 256.1.1.1");
    ok(memcmp(&a, &sent, sizeof a) == 0, "addr_from_string: refused calls leave *out untouched");
    ok(anydtls_addr_from_string(&a, "::1", 4433) == ANYDTLS_OK && a.family == AF_INET6 &&
           a.port == 4433 && a.addr[15] == 1,
       "addr_from_string: \"::1\" works");

    char buf[64];
    memset(buf, 'Z', sizeof buf);
    is(anydtls_addr_format(NULL, buf, sizeof buf), BAD, "addr_format: NULL addr");
    is(anydtls_addr_format(&a, NULL, sizeof buf), BAD, "addr_format: NULL buf");
    is(anydtls_addr_format(&a, buf, 0), BAD, "addr_format: cap 0");
    is(anydtls_addr_format(&zero, buf, sizeof buf), BAD, "addr_format: family 0");
    ok(all_bytes(buf, 'Z', sizeof buf), "addr_format: refused calls leave buf untouched");
    is(anydtls_addr_format(&a, buf, 6), ANYDTLS_E_MSG_TOO_BIG, "addr_format: cap 6 for \"[::1]:4433\"");
    ok(buf[0] == '\0', "addr_format: a short buffer gets the empty string, not a cut address");
}

static void test_transports(anydtls_config *scfg)
{
    anydtls_transport *t = SENTINEL(anydtls_transport);
    is(anydtls_transport_new_callbacks(NULL, dummy_send, dummy_recv, NULL), BAD,
       "transport_new_callbacks: NULL out");
    is(anydtls_transport_new_callbacks(&t, NULL, dummy_recv, NULL), BAD,
       "transport_new_callbacks: NULL send");
    is(anydtls_transport_new_callbacks(&t, dummy_send, NULL, NULL), BAD,
       "transport_new_callbacks: NULL recv");
    ok(t == SENTINEL(anydtls_transport), "transport_new_callbacks: *out untouched");

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) {
        tap_diag("setup failed: socketpair");
        _exit(1);
    }
    is(anydtls_transport_new_udp(NULL, sv[0]), BAD, "transport_new_udp: NULL out");
    is(anydtls_transport_new_udp(&t, -1), BAD, "transport_new_udp: fd -1");
    is(anydtls_transport_new_udp(&t, -2), BAD, "transport_new_udp: fd -2");
    ok(t == SENTINEL(anydtls_transport), "transport_new_udp: *out untouched");

    is(anydtls_transport_new_memory(NULL, 0), BAD, "transport_new_memory: NULL out");
    is(anydtls_transport_new_memory(&t, 1), BAD, "transport_new_memory: capacity 1");
    is(anydtls_transport_new_memory(&t, 65536), BAD, "transport_new_memory: capacity 65536");
    ok(t == SENTINEL(anydtls_transport), "transport_new_memory: *out untouched");
    t = NULL;
    is(anydtls_transport_new_memory(&t, 65537), ANYDTLS_OK, "transport_new_memory: capacity 65537");
    anydtls_transport_free(t);

    anydtls_transport *udp, *cb, *mem;
    CHECK(anydtls_transport_new_udp(&udp, sv[0]));
    CHECK(anydtls_transport_new_callbacks(&cb, dummy_send, dummy_recv, NULL));
    CHECK(anydtls_transport_new_memory(&mem, 0));
    static uint8_t big[65536];
    memset(big, 0x16, sizeof big);
    is(anydtls_memory_push(NULL, big, 10), BAD, "memory_push: NULL transport");
    is(anydtls_memory_push(udp, big, 10), BAD, "memory_push: UDP transport");
    is(anydtls_memory_push(cb, big, 10), BAD, "memory_push: callback transport");
    is(anydtls_memory_push(mem, NULL, 10), BAD, "memory_push: NULL dgram");
    is(anydtls_memory_push(mem, big, 0), BAD, "memory_push: len 0");
    is(anydtls_memory_push(mem, big, 65536), BAD, "memory_push: len 65536");
    /* Nothing was queued: a server session over mem sees no datagram. */
    anydtls_session *s;
    CHECK(anydtls_session_new(&s, scfg, mem));
    uint8_t d[256];
    int hs = anydtls_handshake(s);
    int popped = anydtls_memory_pop(mem, d, sizeof d);
    ok(hs == ANYDTLS_E_WANT_READ && popped == ANYDTLS_E_WANT_READ,
       "refused memory_push queued nothing (handshake %d, pop %d)", hs, popped);
    anydtls_session_free(s);

    memset(d, 0xA5, sizeof d);
    is(anydtls_memory_pop(NULL, d, sizeof d), BAD, "memory_pop: NULL transport");
    is(anydtls_memory_pop(udp, d, sizeof d), BAD, "memory_pop: UDP transport");
    is(anydtls_memory_pop(cb, d, sizeof d), BAD, "memory_pop: callback transport");
    is(anydtls_memory_pop(mem, NULL, sizeof d), BAD, "memory_pop: NULL buf");
    ok(all_bytes(d, 0xA5, sizeof d), "memory_pop: refused calls leave buf untouched");
    ok(anydtls_transport_errno(udp) == 0, "transport_errno of a fresh UDP transport is 0");

    anydtls_transport_free(udp);
    anydtls_transport_free(cb);
    anydtls_transport_free(mem);
    close(sv[0]);
    close(sv[1]);
}

static void test_free_null(void)
{
    anydtls_config_free(NULL);
    anydtls_transport_free(NULL);
    anydtls_session_free(NULL);
    ok(1, "config_free, transport_free and session_free accept NULL");
}

/* Item 14: lengths the libraries take as int / unsigned are bounded in
 * the setters; the huge ones are refused before anything is read. */
static void test_huge_lengths(void)
{
    static const char pem[] = "-----BEGIN CERTIFICATE-----\n";
    anydtls_config *c;
    CHECK(anydtls_config_new(&c, ANYDTLS_CLIENT));
    const size_t huge[] = {(size_t)ANYDTLS_PEM_MAX + 1, (size_t)INT32_MAX + 1,
                           (size_t)UINT32_MAX + 1, SIZE_MAX};
    int refused = 0;
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        refused += anydtls_config_set_cert_mem(c, pem, huge[i], pem, 10) == BAD;
        refused += anydtls_config_set_cert_mem(c, pem, 10, pem, huge[i]) == BAD;
        refused += anydtls_config_set_ca_mem(c, pem, huge[i]) == BAD;
    }
    is(refused, 12, "PEM lengths above ANYDTLS_PEM_MAX (up to SIZE_MAX) are refused");
    is(anydtls_config_set_ca_mem(c, pem, sizeof pem - 1), ANYDTLS_OK,
       "a PEM length within the bound is taken");
    anydtls_config_free(c);
}

/* Item 11: a capability bit implies its slots; the check walks the vtable. */
static void test_driver_slots(void)
{
    const struct anydtls_backend *d = anydtls_test_driver();
    is(anydtls_test_driver_check(d), 0,
       "the %s driver: every mandatory slot, and the slots of each capability it claims", d->name);
    is((int)d->caps, (int)anydtls_backend_caps(), "anydtls_backend_caps is the driver's bits");
    struct anydtls_backend x;
    int caught = 0, cases = 0;
#define SLOT_CASE(cap, field)                                                                  \
    do {                                                                                       \
        x = *d;                                                                                \
        x.caps |= (cap);                                                                       \
        x.field = NULL;                                                                        \
        caught += anydtls_test_driver_check(&x) == (int)(cap);                            \
        cases++;                                                                               \
    } while (0)
    SLOT_CASE(ANYDTLS_CAP_MTU, set_mtu);
    SLOT_CASE(ANYDTLS_CAP_EXPORTER, export_keying_material);
    SLOT_CASE(ANYDTLS_CAP_CERT, peer_cert_der);
    SLOT_CASE(ANYDTLS_CAP_RESUMPTION, session_save);
    SLOT_CASE(ANYDTLS_CAP_RESUMPTION, session_resume);
    SLOT_CASE(ANYDTLS_CAP_RESUMPTION, resumed);
#undef SLOT_CASE
    is(caught, cases, "a capability bit without one of its slots is caught (%d of %d)", caught,
       cases);
    x = *d;
    x.handshake = NULL;
    is(anydtls_test_driver_check(&x), -1, "a missing mandatory slot is caught");
}

/* Item 12: a failed session answers every call with the code that failed
 * it, and its detail and native code stay those of that failure. */
static void test_failed_session(void)
{
    anydtls_config *c = client_psk_config("nobody", test_psk_key, sizeof test_psk_key);
    anydtls_config *sv = server_psk_config();
    fast_timers(c);
    fast_timers(sv);
    struct link l;
    link_init(&l, c, sv, false);
    ok(!link_handshake(&l), "failed session: an unknown identity fails the handshake");
    is(l.crc, ANYDTLS_E_PSK_IDENTITY, "failed session: the client got PSK_IDENTITY");
    char detail[256];
    snprintf(detail, sizeof detail, "%s", anydtls_error_detail(l.c));
    long native = anydtls_error_native(l.c);
    const int code = l.crc;
    uint8_t der[64];
    is(anydtls_peer_cert_der(l.c, der, sizeof der), with_cap(ANYDTLS_CAP_CERT, code),
       "failed session: peer_cert_der answers with the failure");
    is(anydtls_set_mtu(l.c, 1000), with_cap(ANYDTLS_CAP_MTU, code),
       "failed session: set_mtu answers with the failure, the driver is not reached");
    is(anydtls_handshake(l.c), code, "failed session: handshake answers with the failure");
    is(anydtls_handle_timeout(l.c), code, "failed session: handle_timeout too");
    /* A later failure recorded on it (a driver's, on some path) changes
     * neither the code nor what describes it. */
    is(anydtls_test_session_fail(l.c, ANYDTLS_E_IO, 4242, "a later failure"), ANYDTLS_E_IO,
       "failed session: a later failure returns its own code to its caller");
    is(anydtls_handshake(l.c), code, "failed session: still answers with the first code");
    ok(strcmp(anydtls_error_detail(l.c), detail) == 0,
       "failed session: the detail still describes it (%s)", anydtls_error_detail(l.c));
    ok(anydtls_error_native(l.c) == native, "failed session: and so does the native code");
    link_free(&l);
    anydtls_config_free(c);
    anydtls_config_free(sv);
}

int main(int argc, char **argv)
{
    (void)argc;
    tap_plan(274 + 2 + 4 + 10 + 16 + 9);
    test_identity(argv[0]);
    test_config_new();
    test_null_config();
    test_setters_and_established();
    test_timeouts_and_early_session();
    test_after_build();
    test_key_mismatch();

    /* The cookie client keeps the default 1 s timer: no retransmission
     * interleaves with the exchange, even under valgrind. */
    anydtls_config *ccfg;
    CHECK(anydtls_config_new(&ccfg, ANYDTLS_CLIENT));
    CHECK(anydtls_config_set_psk(ccfg, TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key));
    test_cookie_lengths(ccfg);
    test_cookie_check_args(ccfg);
    test_sessions(ccfg);
    anydtls_config_free(ccfg);

    test_null_session();
    test_addr();
    anydtls_config *scfg = server_psk_config();
    test_transports(scfg);
    anydtls_config_free(scfg);
    test_free_null();
    test_huge_lengths();
    test_driver_slots();
    test_failed_session();
    return tap_done();
}
