/*
 * The common ClientHello parser and the stateless cookie exchange
 * (anydtls_cookie_check) on arbitrary datagrams.
 *
 * Input: a flags byte, then one datagram.  A datagram that earns a
 * HelloVerifyRequest is checked again with that cookie spliced in, which
 * must verify (the verified path); with FUZZ_ROTATE the key is rotated in
 * between (the previous-key path), and once more afterwards, when the cookie
 * must no longer verify.  With FUZZ_ACCEPT the verified ClientHello is handed
 * to this backend's anydtls_session_accept and one handshake step.
 */
#include "fuzz.h"

#include <string.h>

#define HVR_LEN (13 + 12 + 3 + ANYDTLS_COOKIE_LEN)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_setup((*argv)[0]);
    return 0;
}

static int check(anydtls_config *cfg, const uint8_t *d, size_t len, const anydtls_addr *peer,
                 uint8_t *reply, anydtls_prestate *ps)
{
    size_t rlen = 0;
    int rc = anydtls_cookie_check(cfg, d, len, peer, reply, ANYDTLS_HVR_MAX, &rlen, ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR && rlen != HVR_LEN)
        FUZZ_FAIL("HelloVerifyRequest of %zu bytes", rlen);
    if (rc != ANYDTLS_COOKIE_SEND_HVR && rlen != 0)
        FUZZ_FAIL("result %d with a reply of %zu bytes", rc, rlen);
    /* The reply echoes the ClientHello's record sequence number. */
    if (rc == ANYDTLS_COOKIE_SEND_HVR && (reply[0] != 22 || memcmp(reply + 5, d + 5, 6) != 0))
        FUZZ_FAIL("HelloVerifyRequest header does not answer the ClientHello");
    return rc;
}

static void check_prestate(const anydtls_prestate *ps, const uint8_t *hello, size_t len,
                           const uint8_t *cookie, unsigned key_index)
{
    if (ps->hello != hello || ps->hello_len != len || ps->key_index != key_index ||
        memcmp(ps->cookie, cookie, ANYDTLS_COOKIE_LEN) != 0 ||
        ps->message_seq != (hello[13 + 4] << 8 | hello[13 + 5]))
        FUZZ_FAIL("prestate does not describe the verified ClientHello");
}

static void accept_once(anydtls_config *cfg, const anydtls_prestate *ps)
{
    anydtls_transport *t = NULL;
    anydtls_session *s = NULL;
    if (anydtls_transport_new_memory(&t, 0) != ANYDTLS_OK)
        FUZZ_FAIL("memory transport");
    if (anydtls_session_accept(&s, cfg, t, ps) == ANYDTLS_OK)
        (void)anydtls_handshake(s);
    fuzz_drain(t);
    anydtls_session_free(s);
    anydtls_transport_free(t);
}

/* The verified path for a ClientHello that earned the HelloVerifyRequest
 * hvr: the cookie spliced in verifies, for this peer only. */
static void verified_path(anydtls_config *cfg, unsigned flags, const uint8_t *d, size_t len,
                          const uint8_t *hvr)
{
    static uint8_t hello[FUZZ_MAX_DGRAM + ANYDTLS_COOKIE_LEN];
    const uint8_t *cookie = hvr + HVR_LEN - ANYDTLS_COOKIE_LEN;
    uint8_t reply[ANYDTLS_HVR_MAX];
    anydtls_prestate ps;
    size_t n = fuzz_splice_cookie(d, len, cookie, hello, sizeof hello);
    if (n == 0)
        return;
    unsigned key_index = 0;
    if ((flags & FUZZ_ROTATE) && anydtls_cookie_rotate(cfg) == ANYDTLS_OK)
        key_index = 1;
    int rc = check(cfg, hello, n, fuzz_peer(flags), reply, &ps);
    if (rc != ANYDTLS_COOKIE_VERIFIED)
        FUZZ_FAIL("the cookie of the HelloVerifyRequest did not verify: %d", rc);
    check_prestate(&ps, hello, n, cookie, key_index);
    if (flags & FUZZ_ACCEPT)
        accept_once(cfg, &ps);
    anydtls_addr other = *fuzz_peer(flags);
    other.port++;
    if (check(cfg, hello, n, &other, reply, &ps) != ANYDTLS_COOKIE_SEND_HVR)
        FUZZ_FAIL("a cookie verified for another peer");
    if ((flags & FUZZ_ROTATE) && anydtls_cookie_rotate(cfg) == ANYDTLS_OK &&
        check(cfg, hello, n, fuzz_peer(flags), reply, &ps) != ANYDTLS_COOKIE_SEND_HVR)
        FUZZ_FAIL("a cookie verified two rotations later");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > FUZZ_MAX_DGRAM)
        return 0;
    unsigned flags = data[0];
    anydtls_config *cfg = fuzz_config(ANYDTLS_SERVER, flags);
    uint8_t reply[ANYDTLS_HVR_MAX];
    anydtls_prestate ps;
    int rc = check(cfg, data + 1, size - 1, fuzz_peer(flags), reply, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR)
        verified_path(cfg, flags, data + 1, size - 1, reply);
    else if (rc == ANYDTLS_COOKIE_VERIFIED && (flags & FUZZ_ACCEPT))
        accept_once(cfg, &ps); /* a cookie guessed: not expected, but legal */
    else if (rc != ANYDTLS_COOKIE_VERIFIED && rc != ANYDTLS_E_BAD_RECORD)
        FUZZ_FAIL("anydtls_cookie_check: %d", rc);
    return 0;
}
