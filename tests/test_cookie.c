/* The stateless cookie exchange: what verifies, what is answered with a
 * HelloVerifyRequest, what is dropped, and that the check never allocates. */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* ---- counting allocations: interpose malloc & co. for the whole process ----
 * Not in sanitizer builds: AddressSanitizer owns malloc there. */
static int counting, allocations;

#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
    allocations += counting;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    allocations += counting;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    allocations += counting;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
#endif

/* ---- fixtures ---- */
static anydtls_config *scfg, *ccfg;
static anydtls_transport *ct;
static anydtls_session *client;
static uint8_t ch1[2048], ch2[2048], hvr[ANYDTLS_HVR_MAX];
static size_t ch1_len, ch2_len, hvr_len;
static anydtls_addr peer;

static int check(const uint8_t *d, size_t len, const anydtls_addr *from, anydtls_prestate *ps)
{
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate scratch;
    return anydtls_cookie_check(scfg, d, len, from, reply, sizeof reply, &rlen,
                                ps != NULL ? ps : &scratch);
}

static size_t next_datagram(uint8_t *buf, size_t cap)
{
    int rc = anydtls_handshake(client);
    if (rc != ANYDTLS_E_WANT_READ)
        tap_diag("client handshake: %d", rc);
    int n = anydtls_memory_pop(ct, buf, cap);
    return n > 0 ? (size_t)n : 0;
}

/* A real client gives the first ClientHello; our HVR makes it send the
 * second, with the cookie. */
static void setup(void)
{
    scfg = server_psk_config();
    ccfg = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    /* No retransmission may slip in, however slow the run (valgrind). */
    CHECK(anydtls_config_set_timeouts(ccfg, 60000, 60000));
    CHECK(anydtls_addr_from_string(&peer, "192.0.2.7", 5684));
    CHECK(anydtls_transport_new_memory(&ct, 0));
    CHECK(anydtls_session_new(&client, ccfg, ct));
    ch1_len = next_datagram(ch1, sizeof ch1);
    anydtls_prestate ps;
    uint8_t reply[ANYDTLS_HVR_MAX];
    is(anydtls_cookie_check(scfg, ch1, ch1_len, &peer, reply, sizeof reply, &hvr_len, &ps),
       ANYDTLS_COOKIE_SEND_HVR, "a ClientHello without cookie gets a HelloVerifyRequest");
    memcpy(hvr, reply, hvr_len);
    CHECK(anydtls_memory_push(ct, hvr, hvr_len));
    ch2_len = next_datagram(ch2, sizeof ch2);
    ok(ch2_len > ch1_len, "the client answers with a second ClientHello (%zu bytes)", ch2_len);
}

static void test_hvr_format(void)
{
    is((int)hvr_len, 13 + 12 + 3 + ANYDTLS_COOKIE_LEN, "HVR length");
    ok(hvr[0] == 22 && hvr[1] == 0xFE && hvr[2] == 0xFF && hvr[3] == 0 && hvr[4] == 0,
       "HVR record: handshake, DTLS 1.0, epoch 0");
    ok(memcmp(hvr + 5, ch1 + 5, 6) == 0, "HVR echoes the ClientHello's record sequence");
    ok(hvr[13] == 3 && hvr[17] == 0 && hvr[18] == 0, "HelloVerifyRequest, message_seq 0");
    ok(hvr[25] == 0xFE && hvr[26] == 0xFF && hvr[27] == ANYDTLS_COOKIE_LEN,
       "server_version DTLS 1.0 and a 32-byte cookie");
}

static const uint8_t *cookie_in(const uint8_t *d, size_t len)
{
    const uint8_t *c = memmem(d, len, hvr + 28, ANYDTLS_COOKIE_LEN);
    return c;
}

static void test_verify(void)
{
    anydtls_prestate ps;
    memset(&ps, 0xAA, sizeof ps);
    is(check(ch2, ch2_len, &peer, &ps), ANYDTLS_COOKIE_VERIFIED, "the cookie verifies");
    ok(ps.hello == ch2 && ps.hello_len == ch2_len, "prestate points at the datagram");
    is(ps.key_index, 0, "verified with the current key");
    is(ps.message_seq, 1, "the second ClientHello has message_seq 1");
    ok(memcmp(&ps.peer, &peer, sizeof peer) == 0, "prestate keeps the peer");
    ok(cookie_in(ch2, ch2_len) != NULL, "the client echoed our cookie");
}

static void test_flips(void)
{
    const uint8_t *c = cookie_in(ch2, ch2_len);
    size_t off = (size_t)(c - ch2), bad = 0;
    uint8_t copy[2048];
    for (size_t i = 0; i < ANYDTLS_COOKIE_LEN; i++) {
        memcpy(copy, ch2, ch2_len);
        copy[off + i] ^= 0x01;
        bad += check(copy, ch2_len, &peer, NULL) == ANYDTLS_COOKIE_SEND_HVR;
    }
    is((int)bad, ANYDTLS_COOKIE_LEN, "each single flipped cookie byte is refused");
    /* client_version, random and session id are covered too */
    bad = 0;
    for (size_t i = 25; i < 25 + 2 + 32; i++) {
        memcpy(copy, ch2, ch2_len);
        copy[i] ^= 0x80; /* a version byte flipped may also make it malformed */
        bad += check(copy, ch2_len, &peer, NULL) != ANYDTLS_COOKIE_VERIFIED;
    }
    is((int)bad, 34, "each flipped version or random byte is refused");
}

static void test_peers(void)
{
    anydtls_addr other = peer;
    other.addr[3] ^= 1;
    is(check(ch2, ch2_len, &other, NULL), ANYDTLS_COOKIE_SEND_HVR, "another address: refused");
    other = peer;
    other.port++;
    is(check(ch2, ch2_len, &other, NULL), ANYDTLS_COOKIE_SEND_HVR, "another port: refused");
    other = peer;
    other.family = AF_INET6;
    is(check(ch2, ch2_len, &other, NULL), ANYDTLS_COOKIE_SEND_HVR,
       "the same bytes as IPv6: refused");
    anydtls_addr v6;
    CHECK(anydtls_addr_from_string(&v6, "::1", 5684));
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    is(anydtls_cookie_check(scfg, ch1, ch1_len, &v6, reply, sizeof reply, &rlen, &ps),
       ANYDTLS_COOKIE_SEND_HVR, "an IPv6 peer gets a HelloVerifyRequest");
    ok(memcmp(reply + 28, hvr + 28, ANYDTLS_COOKIE_LEN) != 0,
       "with another cookie than the IPv4 peer");
}

static void test_rotation(void)
{
    anydtls_prestate ps;
    is(anydtls_cookie_rotate(scfg), ANYDTLS_OK, "rotate the cookie key");
    is(check(ch2, ch2_len, &peer, &ps), ANYDTLS_COOKIE_VERIFIED,
       "a cookie from the previous key still verifies");
    is(ps.key_index, 1, "and says it was the previous key");
    is(anydtls_cookie_rotate(scfg), ANYDTLS_OK, "rotate again");
    is(check(ch2, ch2_len, &peer, NULL), ANYDTLS_COOKIE_SEND_HVR,
       "a cookie from two rotations back is refused");
}

static void test_malformed(void)
{
    int bad = 0;
    for (size_t n = 0; n < ch2_len; n++)
        bad += check(ch2, n, &peer, NULL) == ANYDTLS_E_BAD_RECORD;
    is(bad, (int)ch2_len, "every truncation of the ClientHello is dropped as BAD_RECORD");
    uint8_t copy[2048];
    memcpy(copy, ch2, ch2_len);
    copy[4] = 1; /* epoch 1 */
    is(check(copy, ch2_len, &peer, NULL), ANYDTLS_E_BAD_RECORD, "epoch 1: dropped");
    memcpy(copy, ch2, ch2_len);
    copy[13] = 2; /* ServerHello */
    is(check(copy, ch2_len, &peer, NULL), ANYDTLS_E_BAD_RECORD, "not a ClientHello: dropped");
    memcpy(copy, ch2, ch2_len);
    copy[22] -= 1; /* fragment_length one short of the message length */
    is(check(copy, ch2_len, &peer, NULL), ANYDTLS_E_BAD_RECORD, "a fragment: dropped");
    memcpy(copy, ch2, ch2_len);
    copy[0] = 23;
    is(check(copy, ch2_len, &peer, NULL), ANYDTLS_E_BAD_RECORD, "application data: dropped");
    is(check(hvr, hvr_len, &peer, NULL), ANYDTLS_E_BAD_RECORD, "our own HVR: dropped");
    srand(7);
    int garbage = 0;
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)rand() % sizeof copy;
        for (size_t j = 0; j < len; j++)
            copy[j] = (uint8_t)rand();
        garbage += check(copy, len, &peer, NULL) == ANYDTLS_E_BAD_RECORD;
    }
    is(garbage, 2000, "2000 random datagrams: all dropped");
}

/* Whether this run can count allocations (not under valgrind or a
 * sanitizer); allocations then holds what creating a transport took. */
static bool allocations_visible(void)
{
    anydtls_transport *t = NULL;
    allocations = 0;
    counting = 1;
    CHECK(anydtls_transport_new_memory(&t, 0));
    counting = 0;
    anydtls_transport_free(t);
    return allocations > 0;
}

static void test_no_allocation(void)
{
    /* Control first: the counter must see the library allocate.  Under
     * valgrind, malloc is valgrind's and this counter sees nothing. */
    if (!allocations_visible()) {
        tap_skip("malloc is replaced (valgrind or a sanitizer): counted in the plain run",
                 "control: the counter sees the library allocate");
        tap_skip("malloc is replaced (valgrind or a sanitizer): counted in the plain run",
                 "4000 cookie checks: no heap allocation");
        return;
    }
    ok(allocations > 0, "control: the counter sees the library allocate (%d)", allocations);
    uint8_t copy[2048];
    memcpy(copy, ch2, ch2_len);
    copy[40] ^= 1;
    allocations = 0;
    counting = 1;
    for (int i = 0; i < 1000; i++) {
        check(ch1, ch1_len, &peer, NULL); /* HVR */
        check(ch2, ch2_len, &peer, NULL); /* verified (previous keys) */
        check(copy, ch2_len, &peer, NULL); /* refused */
        check(ch2, 20, &peer, NULL);     /* malformed */
    }
    counting = 0;
    is(allocations, 0, "4000 cookie checks: no heap allocation");
}

/* 100,000 spoofed ClientHellos from 10,000 addresses: every one answered
 * with a well-formed HelloVerifyRequest, no session, no allocation. */
static void test_flood(void)
{
    static uint8_t hello[2048];
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    int well_formed = 0, other = 0;
    bool counted = allocations_visible();
    memcpy(hello, ch1, ch1_len);
    allocations = 0;
    counting = counted;
    for (int i = 0; i < 100000; i++) {
        anydtls_addr spoofed = {.family = AF_INET, .port = (uint16_t)(1024 + i % 7)};
        spoofed.addr[0] = 10;
        spoofed.addr[1] = (uint8_t)((i % 10000) >> 8);
        spoofed.addr[2] = (uint8_t)(i % 10000);
        spoofed.addr[3] = 1;
        memcpy(hello + 13 + 12 + 2, &i, sizeof i); /* another client random */
        int rc = anydtls_cookie_check(scfg, hello, ch1_len, &spoofed, reply, sizeof reply, &rlen,
                                      &ps);
        if (rc == ANYDTLS_COOKIE_SEND_HVR && rlen == 60 && reply[0] == 22 && reply[13] == 3 &&
            reply[27] == ANYDTLS_COOKIE_LEN && memcmp(reply + 5, hello + 5, 6) == 0)
            well_formed++;
        else
            other++;
    }
    counting = 0;
    is(well_formed, 100000, "flood: 100,000 spoofed ClientHellos, each a well-formed HVR");
    is(other, 0, "flood: no session, no other answer");
    if (counted)
        is(allocations, 0, "flood: no heap allocation (memory stays flat)");
    else
        tap_skip("malloc is replaced (valgrind or a sanitizer): counted in the plain run",
                 "flood: no heap allocation");
}

int main(void)
{
    tap_plan(37);
    setup();
    test_hvr_format();
    test_verify();
    test_flips();
    test_peers();
    test_rotation();
    test_malformed();
    test_no_allocation();
    test_flood();
    anydtls_session_free(client);
    anydtls_transport_free(ct);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return tap_done();
}
