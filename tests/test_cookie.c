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

/* ch2 with a padding extension (type 21) making its record body
 * body_len bytes long, into d (the lengths of the record, the handshake
 * message, its fragment and the extensions block all follow). */
static size_t pad_hello(uint8_t *d, size_t body_len)
{
    size_t at = 13 + 12 + 2 + 32;
    at += 1 + ch2[at];                               /* session id */
    at += 1 + ch2[at];                               /* cookie */
    at += 2 + ((size_t)ch2[at] << 8 | ch2[at + 1]);  /* suites */
    at += 1 + ch2[at];                               /* compression */
    size_t ext_len = (size_t)ch2[at] << 8 | ch2[at + 1];
    size_t pad = body_len - (ch2_len - 13) - 4, grow = pad + 4;
    memcpy(d, ch2, ch2_len);
    d[ch2_len] = 0, d[ch2_len + 1] = 21, d[ch2_len + 2] = (uint8_t)(pad >> 8);
    d[ch2_len + 3] = (uint8_t)pad;
    memset(d + ch2_len + 4, 0, pad);
    ext_len += grow;
    d[at] = (uint8_t)(ext_len >> 8), d[at + 1] = (uint8_t)ext_len;
    size_t hs = body_len - 12;
    for (int f = 0; f < 2; f++) { /* length and fragment_length */
        uint8_t *l = d + 13 + (f == 0 ? 1 : 9);
        l[0] = (uint8_t)(hs >> 16), l[1] = (uint8_t)(hs >> 8), l[2] = (uint8_t)hs;
    }
    d[11] = (uint8_t)(body_len >> 8), d[12] = (uint8_t)body_len;
    return 13 + body_len;
}

/* A plaintext record is at most 2^14 bytes (RFC 6347 4.1): a verified
 * ClientHello in a longer one is malformed, not handed to a library that
 * would answer it with record_overflow, silence or a stuck session. */
static void test_record_limit(void)
{
    static uint8_t big[16384 + 13 + 64];
    size_t n = pad_hello(big, 16384);
    is(check(big, n, &peer, NULL), ANYDTLS_COOKIE_VERIFIED,
       "a ClientHello record of 2^14 bytes (a padding extension) verifies");
    n = pad_hello(big, 16385);
    is(check(big, n, &peer, NULL), ANYDTLS_E_BAD_RECORD,
       "a ClientHello record of 2^14 + 1 bytes is malformed");
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


/* ---- cookie lifetime and replays, on the virtual clock ---- */

/* A fresh client's verified ClientHello for scfg from peer: CH1, our HVR,
 * CH2.  The client session and its transport are handed back too (free
 * them), so its second flight can be had. */
static size_t mint(anydtls_config *cfg, anydtls_config *client_cfg, uint8_t *ch, size_t cap,
                   anydtls_session **c, anydtls_transport **t)
{
    uint8_t first[2048], reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    CHECK(anydtls_transport_new_memory(t, 0));
    CHECK(anydtls_session_new(c, client_cfg, *t));
    anydtls_handshake(*c);
    int n = anydtls_memory_pop(*t, first, sizeof first);
    if (n <= 0 || anydtls_cookie_check(cfg, first, (size_t)n, &peer, reply, sizeof reply, &rlen,
                                       &ps) != ANYDTLS_COOKIE_SEND_HVR)
        return 0;
    CHECK(anydtls_memory_push(*t, reply, rlen));
    anydtls_handshake(*c);
    n = anydtls_memory_pop(*t, ch, cap);
    return n > 0 ? (size_t)n : 0;
}

/* Move the virtual clock to the start of the next period of p seconds:
 * the cookie slots are the monotonic clock in whole periods. */
static void to_period_start(unsigned p)
{
    uint64_t now = (uint64_t)now_ms(), period = (uint64_t)p * 1000u;
    vclock_advance_ms((uint32_t)(period - now % period));
}

static void test_lifetime(void)
{
    const unsigned period = 10;
    anydtls_config *cfg = server_psk_config();
    is(anydtls_config_set_cookie_lifetime(cfg, period), ANYDTLS_OK, "cookie lifetime 10 s");
    anydtls_session *c;
    anydtls_transport *t;
    uint8_t hello[2048];
    to_period_start(period);
    size_t len = mint(cfg, ccfg, hello, sizeof hello, &c, &t);
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
#define CHECK_AT(want, ...)                                                                    \
    is(anydtls_cookie_check(cfg, hello, len, &peer, reply, sizeof reply, &rlen, &ps), want,     \
       __VA_ARGS__)
    CHECK_AT(ANYDTLS_COOKIE_VERIFIED, "lifetime: the cookie verifies when issued");
    vclock_advance_ms(period * 1000 - 1);
    CHECK_AT(ANYDTLS_COOKIE_VERIFIED, "lifetime: still verifies at the end of its period");
    vclock_advance_ms(1);
    CHECK_AT(ANYDTLS_COOKIE_VERIFIED, "lifetime: and in the next period (one period old)");
    vclock_advance_ms(period * 1000 - 1);
    CHECK_AT(ANYDTLS_COOKIE_VERIFIED, "lifetime: and at its end (two periods less 1 ms)");
    vclock_advance_ms(1);
    CHECK_AT(ANYDTLS_COOKIE_SEND_HVR, "lifetime: expired after two periods: a new HVR");
    ok(rlen == 60, "lifetime: the HVR is well formed (%zu bytes)", rlen);
    /* A cookie verified just in time is refused by accept once expired. */
    anydtls_session_free(c);
    anydtls_transport_free(t);
    to_period_start(period);
    len = mint(cfg, ccfg, hello, sizeof hello, &c, &t);
    vclock_advance_ms(2 * period * 1000 - 1);
    CHECK_AT(ANYDTLS_COOKIE_VERIFIED, "lifetime: verified at the last moment");
    vclock_advance_ms(1);
    anydtls_transport *st;
    anydtls_session *s = NULL;
    CHECK(anydtls_transport_new_memory(&st, 0));
    is(anydtls_session_accept(&s, cfg, st, &ps), ANYDTLS_E_INVALID_ARG,
       "lifetime: accept refuses the prestate once its cookie expired");
#undef CHECK_AT
    anydtls_session_free(s);
    anydtls_transport_free(st);
    anydtls_session_free(c);
    anydtls_transport_free(t);
    anydtls_config_free(cfg);
}

/* Run a server session alone on the virtual clock, dropping all it sends,
 * until it fails; its code. */
static int abandon(anydtls_session *s, anydtls_transport *t)
{
    uint8_t sink[20000];
    int rc = ANYDTLS_E_WANT_READ;
    for (int i = 0; i < 100 && (rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE); i++) {
        rc = anydtls_handshake(s);
        while (anydtls_memory_pop(t, sink, sizeof sink) > 0)
            ;
        uint32_t ms;
        if (rc != ANYDTLS_E_WANT_READ || anydtls_get_timeout(s, &ms) != 1)
            continue;
        vclock_advance_ms(ms + 1);
        int h = anydtls_handle_timeout(s);
        if (h < 0)
            rc = h;
    }
    return rc;
}

/* A client's verified ClientHello replayed (a spoofed source: the reply
 * goes to the victim, who never answers) makes a session that must end as
 * a timeout of an unverified peer, not blame the keys; the same with the
 * client's first encrypted flight replayed after it. */
/* Shuttle datagrams between the client (transport t) and a server
 * session (transport st) until both finish; the client's datagrams after
 * its second ClientHello are kept in flight[] (its second flight). */
static void complete(anydtls_session *c, anydtls_transport *t, anydtls_session *s,
                     anydtls_transport *st, uint8_t flight[][2048], size_t *lens, int *n)
{
    uint8_t d[2048];
    int crc = ANYDTLS_E_WANT_READ, src = ANYDTLS_E_WANT_READ, k;
    *n = 0;
    for (int i = 0; i < 50 && (crc == ANYDTLS_E_WANT_READ || src == ANYDTLS_E_WANT_READ); i++) {
        src = anydtls_handshake(s);
        while ((k = anydtls_memory_pop(st, d, sizeof d)) > 0)
            anydtls_memory_push(t, d, (size_t)k);
        crc = anydtls_handshake(c);
        while ((k = anydtls_memory_pop(t, d, sizeof d)) > 0) {
            if (*n < 8) {
                memcpy(flight[*n], d, (size_t)k);
                lens[(*n)++] = (size_t)k;
            }
            anydtls_memory_push(st, d, (size_t)k);
        }
    }
    tap_diag("real handshake: client %s, server %s, %d client datagrams", code_name(crc),
             code_name(src), *n);
}

/* A client's verified ClientHello replayed (a spoofed source: the reply
 * goes to the victim, who never answers) makes a session that must end as
 * a timeout of an unverified peer, not blame the keys; the same with the
 * client's encrypted flight replayed after it. */
static void replay(int with_flight, const char *what)
{
    anydtls_config *cfg = server_psk_config();
    CHECK(anydtls_config_set_timeouts(cfg, 100, 1600));
    anydtls_session *c, *s = NULL, *s0 = NULL;
    anydtls_transport *t, *st, *st0;
    uint8_t hello[2048], reply[ANYDTLS_HVR_MAX], flight[8][2048];
    size_t rlen, lens[8];
    int n = 0;
    anydtls_prestate ps;
    size_t len = mint(cfg, ccfg, hello, sizeof hello, &c, &t);
    CHECK(anydtls_transport_new_memory(&st0, 0));
    CHECK(anydtls_transport_new_memory(&st, 0));
    CHECK(anydtls_cookie_check(cfg, hello, len, &peer, reply, sizeof reply, &rlen, &ps));
    CHECK(anydtls_session_accept(&s0, cfg, st0, &ps));
    complete(c, t, s0, st0, flight, lens, &n);
    is(anydtls_cookie_check(cfg, hello, len, &peer, reply, sizeof reply, &rlen, &ps),
       ANYDTLS_COOKIE_VERIFIED, "%s: the captured ClientHello verifies again", what);
    CHECK(anydtls_session_accept(&s, cfg, st, &ps));
    anydtls_handshake(s);
    for (int i = 0; with_flight && i < n; i++)
        anydtls_memory_push(st, flight[i], lens[i]);
    int rc = abandon(s, st);
    is(rc, ANYDTLS_E_TIMEOUT, "%s: the abandoned session ends with TIMEOUT (%s)", what,
       code_name(rc));
    anydtls_session_free(s);
    anydtls_session_free(s0);
    anydtls_transport_free(st);
    anydtls_transport_free(st0);
    anydtls_session_free(c);
    anydtls_transport_free(t);
    anydtls_config_free(cfg);
}

/* The rule still names a live client with another key: it retransmits its
 * Finished when ours does not come. */
static void wrong_key(void)
{
    static const uint8_t wrong[16] = {9, 9, 9};
    struct link l;
    anydtls_config *c = client_psk_config(TEST_PSK_IDENTITY, wrong, sizeof wrong);
    anydtls_config *s = server_psk_config();
    fast_timers(c);
    fast_timers(s);
    link_init(&l, c, s, true);
    ok(!link_handshake(&l), "wrong key: the handshake fails");
    is(l.src, ANYDTLS_E_PSK_KEY, "wrong key: a live client: the server says PSK_KEY (%s)",
       code_name(l.src));
    is(l.crc, ANYDTLS_E_PSK_KEY, "wrong key: the client says PSK_KEY (%s)", code_name(l.crc));
    link_free(&l);
    anydtls_config_free(c);
    anydtls_config_free(s);
}

static void test_replay(void)
{
    replay(0, "replayed ClientHello");
    replay(1, "replayed ClientHello and second flight");
    wrong_key();
}

/* Item 13: accept re-verifies the prestate, whatever the application
 * hands it: a forged or mixed-up one makes no session, sends nothing. */
static int try_accept(anydtls_config *cfg, const anydtls_prestate *ps, bool *quiet)
{
    anydtls_transport *st;
    anydtls_session *s = NULL;
    uint8_t d[2048];
    CHECK(anydtls_transport_new_memory(&st, 0));
    int rc = anydtls_session_accept(&s, cfg, st, ps);
    if (rc == ANYDTLS_OK)
        anydtls_handshake(s);
    *quiet = rc != ANYDTLS_OK && s == NULL && anydtls_memory_pop(st, d, sizeof d) < 0;
    anydtls_session_free(s);
    anydtls_transport_free(st);
    return rc;
}

static void test_forged_prestates(void)
{
    anydtls_config *cfg = server_psk_config();
    anydtls_session *c1, *c2;
    anydtls_transport *t1, *t2;
    uint8_t h1[2048], h2[2048], copy[2048], reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate good, other, ps;
    size_t n1 = mint(cfg, ccfg, h1, sizeof h1, &c1, &t1);
    anydtls_addr saved = peer;
    peer.port = 6000; /* the second client is another peer */
    size_t n2 = mint(cfg, ccfg, h2, sizeof h2, &c2, &t2);
    anydtls_addr peer2 = peer;
    peer = saved;
    CHECK(anydtls_cookie_check(cfg, h1, n1, &peer, reply, sizeof reply, &rlen, &good));
    is(anydtls_cookie_check(cfg, h2, n2, &peer2, reply, sizeof reply, &rlen, &other),
       ANYDTLS_COOKIE_VERIFIED, "forged: the second peer's hello verifies for it");
    bool quiet;
    is(try_accept(cfg, &good, &quiet), ANYDTLS_OK, "forged: the genuine prestate is accepted");
    int refused = 0, silent = 0, cases = 0;
#define FORGED(what, edit)                                                                    \
    do {                                                                                      \
        ps = good;                                                                            \
        edit;                                                                                 \
        int rc_ = try_accept(cfg, &ps, &quiet);                                              \
        bool ok_ = rc_ == ANYDTLS_E_INVALID_ARG || rc_ == ANYDTLS_E_BAD_RECORD;              \
        if (!ok_)                                                                             \
            tap_diag("forged prestate (%s) accepted: %s", what, code_name(rc_));              \
        refused += ok_;                                                                       \
        silent += quiet;                                                                      \
        cases++;                                                                              \
    } while (0)
    FORGED("wrong cookie", ps.cookie[5] ^= 1);
    FORGED("cookie flipped in the hello too", {
        memcpy(copy, h1, n1);
        uint8_t *at = memmem(copy, n1, good.cookie, ANYDTLS_COOKIE_LEN);
        at[5] ^= 1;
        ps.hello = copy;
        ps.cookie[5] ^= 1;
    });
    FORGED("another address", ps.peer.addr[3] ^= 1);
    FORGED("another port", ps.peer.port++);
    FORGED("the hello of another peer", {
        ps.hello = h2;
        ps.hello_len = n2;
        memcpy(ps.cookie, other.cookie, ANYDTLS_COOKIE_LEN);
        ps.record_seq = other.record_seq;
        ps.message_seq = other.message_seq;
    });
    FORGED("another peer's prestate with this peer's hello", {
        ps = other;
        ps.hello = h1;
        ps.hello_len = n1;
    });
    FORGED("truncated hello", ps.hello_len -= 10);
    FORGED("hello cut to its record header", ps.hello_len = 13);
    FORGED("another record sequence number", ps.record_seq++);
    FORGED("another message_seq", ps.message_seq++);
    FORGED("a key generation that never was", ps.key_generation += 7);
    FORGED("made up from nothing", {
        memset(copy, 0x16, sizeof copy);
        memset(&ps, 0, sizeof ps);
        ps.hello = copy;
        ps.hello_len = 200;
        ps.peer = peer;
    });
#undef FORGED
    is(refused, cases, "forged: every forged or mixed-up prestate is refused (%d of %d)", refused,
       cases);
    is(silent, cases, "forged: no session and nothing sent for any of them");
    is(try_accept(cfg, &good, &quiet), ANYDTLS_OK, "forged: the genuine one still works after");
    anydtls_session_free(c1);
    anydtls_session_free(c2);
    anydtls_transport_free(t1);
    anydtls_transport_free(t2);
    anydtls_config_free(cfg);
}

int main(void)
{
    tap_plan(37 + 2 + 9 + 4 + 3 + 5);
    setup();
    test_hvr_format();
    test_verify();
    test_flips();
    test_record_limit();
    test_peers();
    test_rotation();
    test_malformed();
    test_no_allocation();
    test_flood();
    vclock_start();
    test_lifetime();
    test_replay();
    test_forged_prestates();
    anydtls_session_free(client);
    anydtls_transport_free(ct);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return tap_done();
}
