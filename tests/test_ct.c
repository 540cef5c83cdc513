/* Constant-time cookie verification, run under valgrind memcheck by
 * tests/constant-time.sh: the cookie keys and the received cookie bytes
 * are marked undefined, so any branch or memory index that depends on
 * them before the outcome is declared public is reported as an error
 * (and fails the run through --error-exitcode).  The same holds for the
 * front's second look at a prestate in anydtls_session_accept
 * (anydtls_cookie_reverify): forged prestates, their cookie bytes
 * undefined, are refused without a branch on them. */
#define _GNU_SOURCE /* memmem */
#include "harness.h"
#include "internal.h"

#include <string.h>
#include <valgrind/memcheck.h>

#define POSITIONS 4

/* Forged prestates made from the genuine one, each refused by
 * anydtls_session_accept: the prestate's copy of the cookie, or the
 * cookie in its hello (the copy following it), differing from the
 * genuine cookie at one of POSITIONS bytes; their cookie bytes undefined.
 * How many were refused with INVALID_ARG and made no session. */
static int accept_forged(anydtls_config *cfg, const anydtls_prestate *good, size_t at)
{
    static const size_t pos[POSITIONS] = {0, 7, 16, ANYDTLS_COOKIE_LEN - 1};
    static uint8_t hello[2048];
    anydtls_transport *t;
    int refused = 0;
    CHECK(anydtls_transport_new_memory(&t, 0));
    memcpy(hello, good->hello, good->hello_len);
    for (int i = 0; i < 2 * POSITIONS; i++) {
        anydtls_prestate ps = *good;
        size_t p = pos[i % POSITIONS];
        memcpy(hello + at, good->hello + at, ANYDTLS_COOKIE_LEN);
        if (i < POSITIONS) {
            ps.cookie[p] ^= 0x01; /* the copy differs from the hello's cookie */
        } else {
            hello[at + p] ^= 0x80; /* the hello's cookie is forged, the copy follows */
            memcpy(ps.cookie, hello + at, ANYDTLS_COOKIE_LEN);
            ps.hello = hello;
        }
        VALGRIND_MAKE_MEM_UNDEFINED(ps.cookie, ANYDTLS_COOKIE_LEN);
        VALGRIND_MAKE_MEM_UNDEFINED(hello + at, ANYDTLS_COOKIE_LEN);
        anydtls_session *s = NULL;
        int rc = anydtls_session_accept(&s, cfg, t, &ps);
        refused += rc == ANYDTLS_E_INVALID_ARG && s == NULL;
        anydtls_session_free(s);
    }
    anydtls_transport_free(t);
    return refused;
}

static size_t next_datagram(anydtls_session *c, anydtls_transport *t, uint8_t *buf, size_t cap)
{
    anydtls_handshake(c);
    int n = anydtls_memory_pop(t, buf, cap);
    return n > 0 ? (size_t)n : 0;
}

int main(void)
{
    tap_plan(7);
    ok(RUNNING_ON_VALGRIND, "running under valgrind memcheck");
    anydtls_config *scfg = server_psk_config();
    anydtls_config *ccfg = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    CHECK(anydtls_config_set_timeouts(ccfg, 60000, 60000));
    CHECK(anydtls_config_build(scfg));
    CHECK(anydtls_cookie_rotate(scfg)); /* a previous key exists too */
    anydtls_transport *t;
    anydtls_session *c;
    CHECK(anydtls_transport_new_memory(&t, 0));
    CHECK(anydtls_session_new(&c, ccfg, t));
    static uint8_t ch1[2048], ch2[2048], bad[2048], hvr[ANYDTLS_HVR_MAX];
    size_t len1 = next_datagram(c, t, ch1, sizeof ch1), len2, hlen;
    anydtls_addr peer;
    anydtls_prestate ps;
    CHECK(anydtls_addr_from_string(&peer, "192.0.2.9", 5684));
    CHECK(anydtls_cookie_check(scfg, ch1, len1, &peer, hvr, sizeof hvr, &hlen, &ps));
    CHECK(anydtls_memory_push(t, hvr, hlen));
    len2 = next_datagram(c, t, ch2, sizeof ch2);
    const uint8_t *cookie = memmem(ch2, len2, hvr + 28, ANYDTLS_COOKIE_LEN);
    size_t at = (size_t)(cookie - ch2);
    memcpy(bad, ch2, len2);
    bad[at + 7] ^= 0x40;

    /* The secrets: both keys, and the cookie bytes the peer sent. */
    struct anydtls_cookie_keys *k = &scfg->cookie;
    VALGRIND_MAKE_MEM_UNDEFINED(k->current, k->len);
    VALGRIND_MAKE_MEM_UNDEFINED(k->previous, k->len);
    VALGRIND_MAKE_MEM_UNDEFINED(ch2 + at, ANYDTLS_COOKIE_LEN);
    VALGRIND_MAKE_MEM_UNDEFINED(bad + at, ANYDTLS_COOKIE_LEN);

    int verified = 0, refused = 0, answered = 0;
    for (int i = 0; i < 50; i++) {
        verified += anydtls_cookie_check(scfg, ch2, len2, &peer, hvr, sizeof hvr, &hlen, &ps) ==
                    ANYDTLS_COOKIE_VERIFIED;
        refused += anydtls_cookie_check(scfg, bad, len2, &peer, hvr, sizeof hvr, &hlen, &ps) ==
                   ANYDTLS_COOKIE_SEND_HVR;
        answered += anydtls_cookie_check(scfg, ch1, len1, &peer, hvr, sizeof hvr, &hlen, &ps) ==
                    ANYDTLS_COOKIE_SEND_HVR;
    }
    is(verified, 50, "a valid cookie verifies with the secrets undefined");
    is(refused, 50, "a flipped cookie is refused with the secrets undefined");
    is(answered, 50, "a ClientHello without cookie is answered");
    /* The genuine prestate of the last verified check: ps is ch2's. */
    CHECK(anydtls_cookie_check(scfg, ch2, len2, &peer, hvr, sizeof hvr, &hlen, &ps) ==
                  ANYDTLS_COOKIE_VERIFIED
              ? ANYDTLS_OK
              : ANYDTLS_E_BACKEND);
    int forged = 0;
    for (int i = 0; i < 10; i++)
        forged += accept_forged(scfg, &ps, at);
    is(forged, 10 * 2 * POSITIONS,
       "accept refuses every forged prestate with the secrets undefined");
    anydtls_session *s = NULL;
    ok(anydtls_session_accept(&s, scfg, t, &ps) == ANYDTLS_OK,
       "and accepts the genuine prestate");
    anydtls_session_free(s);
    is((int)VALGRIND_COUNT_ERRORS, 0, "memcheck saw no branch or index on the secrets");
    anydtls_session_free(c);
    anydtls_transport_free(t);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return tap_done();
}
