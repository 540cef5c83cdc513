/*
 * Hostile input.  Crafted datagrams and datagram sequences, built by hand
 * as DTLS 1.2 records and handshake fragments, are delivered to a client
 * and to a server session before, during (between two flights) and after
 * the handshake.  Each must be dropped silently (the handshake completes,
 * a read says ANYDTLS_E_WANT_READ) or end the handshake with the code the
 * deviation table names for that backend; nothing may surface as
 * application data, the heap must stay bounded and return to where it was
 * once the sessions are freed, and an established session must carry data
 * both ways afterwards.  The historic classes are those of the DTLS CVEs
 * named in each case.  Then: a replayed record, empty datagrams (over a
 * socket pair: a memory transport cannot carry one), odd ClientHellos to
 * the stateless cookie check and to a session, and cookies made for
 * another address or under another key.
 *
 * Every outcome is printed as a "# table |" line, the data of the table in
 * doc/reliability.md.  HOSTILE_CASE=text runs only the cases whose id
 * contains text (to reproduce one under a debugger or valgrind).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------ */
/* Heap accounting                                                      */
/* ------------------------------------------------------------------ */

/* Live and peak heap bytes of the whole process, from an interposer on
 * malloc & co.  Not in sanitizer builds (AddressSanitizer owns malloc) and
 * blind under valgrind (its malloc wins): the bounds are then skipped and
 * those runs check leaks their own way. */
static long long heap_live, heap_peak;

#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static void *counted(void *p)
{
    if (p != NULL) {
        heap_live += (long long)malloc_usable_size(p);
        if (heap_live > heap_peak)
            heap_peak = heap_live;
    }
    return p;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void *calloc(size_t a, size_t b)
{
    return counted(__libc_calloc(a, b));
}

void *realloc(void *p, size_t n)
{
    size_t old = malloc_usable_size(p);
    void *q = __libc_realloc(p, n);
    if (q != NULL || n == 0)
        heap_live -= (long long)old;
    return counted(q);
}

void free(void *p)
{
    heap_live -= (long long)malloc_usable_size(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = counted(p);
    return 0;
}
#endif

/* Whether the interposer sees the library allocate (a control). */
static bool heap_visible(void)
{
    anydtls_transport *t = NULL;
    long long before = heap_live;
    CHECK(anydtls_transport_new_memory(&t, 0));
    bool seen = heap_live > before;
    anydtls_transport_free(t);
    return seen;
}

static const char *const heap_blind =
    "malloc is replaced (valgrind or a sanitizer): bounds measured in the plain run";

/* The heap a hostile sequence may add over the same handshake without it.
 * Generous for what the libraries keep on purpose (OpenSSL up to 100
 * records of the next epoch, GnuTLS up to six buffered messages of at most
 * 128 KiB), far below what the CVE classes cost (GnuTLS allocated the
 * 16 MiB a forged header announced). */
#define HEAP_BOUND (1LL << 20)

/* ------------------------------------------------------------------ */
/* Building records and handshake fragments                            */
/* ------------------------------------------------------------------ */

#define REC_HDR 13
#define HS_HDR 12
#define CT_CCS 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APPDATA 23
#define HT_CLIENT_HELLO 1
#define HT_SERVER_HELLO 2
#define HT_NEW_SESSION_TICKET 4
#define HT_CERTIFICATE 11
#define HT_CLIENT_KEY_EXCHANGE 16
#define HT_FINISHED 20
#define DTLS12 0xFEFD
#define SEQ_MAX 0xFFFFFFFFFFFFull /* 48-bit record sequence numbers */

#define DGRAM_CAP (ANYDTLS_MTU_MAX + 64)
#define MAX_DGRAMS 24

/* What one case delivers: up to MAX_DGRAMS datagrams, the whole list
 * delivered repeat times. */
struct dgrams {
    int n, repeat;
    size_t len[MAX_DGRAMS];
    uint8_t d[MAX_DGRAMS][DGRAM_CAP];
};

enum side { CLIENT = 0, SERVER = 1 };
enum phase { BEFORE = 0, DURING = 1, AFTER = 2 };
static const char *const side_name[] = {"client", "server"};
static const char *const phase_name[] = {"before", "during", "after"};

/* What a builder knows of the session it attacks. */
struct target {
    enum side side;
    enum phase phase;
    uint16_t next;     /* handshake message_seq it expects next from its peer */
    uint8_t next_type; /* and that message's type */
    uint16_t epoch;    /* the epoch its peer writes in now */
    uint64_t seq;      /* a record sequence number not used yet in that epoch */
};

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | *p++;
    return v;
}

/* Bytes that look like ciphertext: deterministic, so runs repeat. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void header(uint8_t *p, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                   size_t len)
{
    p[0] = type;
    put_be(p + 1, version, 2);
    put_be(p + 3, epoch, 2);
    put_be(p + 5, seq, 6);
    put_be(p + 11, len, 2);
}

/* A new datagram of n raw bytes (filled with fill()); returns it. */
static uint8_t *add_raw(struct dgrams *g, size_t n)
{
    if (g->n >= MAX_DGRAMS || n > DGRAM_CAP) {
        tap_diag("builder overflow");
        _exit(1);
    }
    uint8_t *d = g->d[g->n];
    fill(d, n, (uint32_t)(g->n * 7919 + n));
    g->len[g->n++] = n;
    return d;
}

/* A datagram of one record with body_len bytes of garbage body. */
static uint8_t *add_record(struct dgrams *g, uint8_t type, uint16_t version, uint16_t epoch,
                           uint64_t seq, size_t body_len)
{
    uint8_t *d = add_raw(g, REC_HDR + body_len);
    header(d, type, version, epoch, seq, body_len);
    return d;
}

/* A datagram of one epoch-0 handshake record holding one fragment:
 * frag_len body bytes at off of a message of msg_len. */
static void add_fragment(struct dgrams *g, struct target *t, uint8_t type, uint32_t msg_len,
                         uint16_t msg_seq, uint32_t off, uint32_t frag_len)
{
    uint8_t *d = add_record(g, CT_HANDSHAKE, DTLS12, 0, t->seq++, HS_HDR + frag_len);
    uint8_t *h = d + REC_HDR;
    h[0] = type;
    put_be(h + 1, msg_len, 3);
    put_be(h + 4, msg_seq, 2);
    put_be(h + 6, off, 3);
    put_be(h + 9, frag_len, 3);
}

/* The record a target expects in its phase: a handshake record in epoch 0
 * while the handshake runs, application data in the current epoch after. */
static uint8_t plausible_type(const struct target *t)
{
    return t->phase == AFTER ? CT_APPDATA : CT_HANDSHAKE;
}

/* ------------------------------------------------------------------ */
/* The cases                                                            */
/* ------------------------------------------------------------------ */

static void b_one_byte(struct dgrams *g, struct target *t)
{
    add_raw(g, 1)[0] = plausible_type(t);
}

static void b_short_header(struct dgrams *g, struct target *t)
{
    uint8_t h[REC_HDR];
    header(h, plausible_type(t), DTLS12, t->epoch, t->seq++, 40);
    memcpy(add_raw(g, 11), h, 11);
}

static void b_length_over(struct dgrams *g, struct target *t)
{
    uint8_t *d = add_record(g, plausible_type(t), DTLS12, t->epoch, t->seq++, 40);
    put_be(d + 11, 400, 2); /* claims 400 bytes, 40 follow */
}

static void b_oversized(struct dgrams *g, struct target *t)
{
    add_record(g, plausible_type(t), DTLS12, t->epoch, t->seq++, 16384 + 2048 + 1);
}

static void b_wrong_version(struct dgrams *g, struct target *t)
{
    add_record(g, plausible_type(t), 0x0303, t->epoch, t->seq++, 48); /* TLS 1.2 */
    add_record(g, plausible_type(t), 0xFEFC, t->epoch, t->seq++, 48); /* no such DTLS */
    add_record(g, plausible_type(t), 0x1234, t->epoch, t->seq++, 48);
    /* DTLS 1.0's number: a ClientHello may carry it, a DTLS 1.2 session's
     * records may not (wolfSSL 5.5 answers it with a fatal alert). */
    add_record(g, plausible_type(t), 0xFEFF, t->epoch, t->seq++, 48);
}

/* Encrypted records shorter than any suite makes (16 bytes), or than the
 * negotiated one (an AES-GCM suite: 8-byte nonce + 16-byte tag).  OpenSSL
 * before 3.0.22 and wolfSSL 5.5 end an established session on the 17-byte
 * datagram. */
static void b_runt_sealed(struct dgrams *g, struct target *t)
{
    static const size_t body[] = {0, 1, 4, 8, 15, 16, 23};
    uint16_t epoch = t->epoch != 0 ? t->epoch : 1;
    for (size_t i = 0; i < sizeof body / sizeof body[0]; i++) {
        add_record(g, CT_APPDATA, DTLS12, epoch, t->seq++, body[i]);
        add_record(g, CT_ALERT, DTLS12, epoch, t->seq++, body[i]);
    }
}

static void b_unknown_type(struct dgrams *g, struct target *t)
{
    add_record(g, 99, DTLS12, t->epoch, t->seq++, 48);
    add_record(g, 24, DTLS12, t->epoch, t->seq++, 48); /* heartbeat: not negotiated */
}

static void b_wrong_epoch(struct dgrams *g, struct target *t)
{
    add_record(g, plausible_type(t), DTLS12, (uint16_t)(t->epoch + 5), t->seq++, 48);
    add_record(g, plausible_type(t), DTLS12, 0xFFFF, t->seq++, 48);
}

/* Epoch 1 with garbage ciphertext: before the keys exist it is a record of
 * the next epoch, kept or dropped; afterwards its MAC fails. */
static void b_bad_mac(struct dgrams *g, struct target *t)
{
    add_record(g, plausible_type(t), DTLS12, 1, t->seq++, 48);
    add_record(g, CT_ALERT, DTLS12, 1, t->seq++, 26);
}

/* CVE-2014-0195: a later fragment that runs past the message length the
 * first one declared: inconsistent with itself, or announcing a longer
 * message (the original exploit). */
static void b_frag_overflow(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, t->next_type, 64, t->next, 0, 32);
    add_fragment(g, t, t->next_type, 64, t->next, 32, 96);    /* off + len > 64 */
    add_fragment(g, t, t->next_type, 4096, t->next, 32, 600); /* a larger message */
}

/* CVE-2014-3506: a message of 16 MiB declared; only its start follows. */
static void b_huge_length(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, t->next_type, 0xFFFFFF, t->next, 0, 256);
    add_fragment(g, t, t->next_type, 0xFFFFFF, t->next, 256, 256);
}

/* CVE-2014-3506, CVE-2026-33845: msg_len 0xFFFFFF, frag_off 2, frag_len 0. */
static void b_huge_empty(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, t->next_type, 0xFFFFFF, t->next, 2, 0);
}

/* CVE-2014-3507: zero-length fragments of messages not due yet. */
static void b_zero_future(struct dgrams *g, struct target *t)
{
    for (int i = 1; i <= 8; i++)
        add_fragment(g, t, t->next_type, 100, (uint16_t)(t->next + i), 0, 0);
    add_fragment(g, t, t->next_type, 100, t->next, 10, 0);
}

/* CVE-2026-33846: fragments of one message that disagree on its length. */
static void b_length_mismatch(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, t->next_type, 100, t->next, 0, 50);
    add_fragment(g, t, t->next_type, 60, t->next, 50, 10);
    add_fragment(g, t, t->next_type, 300, t->next, 50, 100);
    /* A buffer sized for 4096 bytes, then contiguous fragments of a
     * 100000-byte message that run far past it. */
    add_fragment(g, t, t->next_type, 4096, (uint16_t)(t->next + 1), 0, 100);
    for (uint32_t off = 100; off < 8000; off += 1300)
        add_fragment(g, t, t->next_type, 100000, (uint16_t)(t->next + 1), off, 1300);
}

/* A buffer sized by the first fragment, then contiguous fragments of the
 * same message_seq announcing a longer message and running far past it:
 * what a merge that trusts the first length would write out of bounds. */
static void b_length_overrun(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, t->next_type, 4096, t->next, 0, 100);
    for (uint32_t off = 100; off < 8000; off += 1300)
        add_fragment(g, t, t->next_type, 100000, t->next, off, 1300);
}

/* CVE-2026-42009: the same message_seq with another type. */
static void b_type_mismatch(struct dgrams *g, struct target *t)
{
    uint8_t other = t->next_type == HT_CERTIFICATE ? HT_CLIENT_HELLO : HT_CERTIFICATE;
    add_fragment(g, t, t->next_type, 100, t->next, 0, 50);
    add_fragment(g, t, other, 100, t->next, 50, 50);
}

/* CVE-2015-0206: one record of the next epoch, a thousand times. */
static void b_next_epoch_dups(struct dgrams *g, struct target *t)
{
    add_record(g, CT_HANDSHAKE, DTLS12, (uint16_t)(t->epoch + 1), 7, 48);
    g->repeat = 1000;
}

/* The same with a thousand different sequence numbers: a queue that keeps
 * next-epoch records must stay bounded. */
static void b_next_epoch_many(struct dgrams *g, struct target *t)
{
    for (int i = 0; i < 20; i++)
        add_record(g, CT_HANDSHAKE, DTLS12, (uint16_t)(t->epoch + 1), 100 + (uint64_t)i, 48);
    g->repeat = 50;
}

/* CVE-2016-2179: fifteen complete messages from the future that are never
 * consumed (numbered beyond the last message of the handshake). */
static void b_future_messages(struct dgrams *g, struct target *t)
{
    uint16_t first = (uint16_t)(t->next + (t->phase == BEFORE ? 6 : 2));
    for (uint16_t i = 0; i < 15; i++)
        add_fragment(g, t, HT_CERTIFICATE, 200, (uint16_t)(first + i), 0, 200);
}

/* CVE-2016-2181: garbage with a huge sequence number in the epoch that
 * authenticates (the next one while the handshake runs): the replay window
 * must not move before the MAC is checked, or the genuine records that
 * follow with lower numbers would be refused. */
static void b_huge_seq(struct dgrams *g, struct target *t)
{
    uint16_t epoch = t->phase == AFTER ? t->epoch : (uint16_t)(t->epoch + 1);
    add_record(g, plausible_type(t), DTLS12, epoch, SEQ_MAX - 1, 48);
}

/* CVE-2020-24585: plaintext application data in epoch 0. */
static void b_plain_appdata(struct dgrams *g, struct target *t)
{
    static const char text[] = "PLAINTEXT THAT MUST NOT SURFACE";
    uint8_t *d = add_record(g, CT_APPDATA, DTLS12, 0, t->seq++, sizeof text - 1);
    memcpy(d + REC_HDR, text, sizeof text - 1);
}

/* A Finished as the first message a session gets. */
static void b_bare_finished(struct dgrams *g, struct target *t)
{
    add_fragment(g, t, HT_FINISHED, 12, 0, 0, 12);
}

/* Issue 12, item 1: two records that each start with a fragment continuing
 * the run of expected messages and go on with one far ahead (so each is
 * refused whole), then a complete forged message right after the two the
 * refused records began.  A filter that counted the refused records'
 * first fragments would let the forged message through, and a library
 * that keeps it discards application data for ever (the CVE-2016-2179
 * class). */
static void b_refused_run(struct dgrams *g, struct target *t)
{
    for (uint16_t i = 0; i < 2; i++) {
        uint8_t *d = add_record(g, CT_HANDSHAKE, DTLS12, 0, t->seq++, 2 * (HS_HDR + 10));
        uint16_t seqs[2] = {(uint16_t)(t->next + i), (uint16_t)(t->next + 9)};
        for (int f = 0; f < 2; f++) {
            uint8_t *h = d + REC_HDR + f * (HS_HDR + 10);
            h[0] = f == 0 && i == 0 ? t->next_type : HT_CERTIFICATE;
            put_be(h + 1, 100, 3);
            put_be(h + 4, seqs[f], 2);
            put_be(h + 6, 0, 3);
            put_be(h + 9, 10, 3);
        }
    }
    add_fragment(g, t, HT_CERTIFICATE, 200, (uint16_t)(t->next + 2), 0, 200);
}

typedef void (*build_fn)(struct dgrams *g, struct target *t);

#define P_BEFORE (1u << BEFORE)
#define P_DURING (1u << DURING)
#define P_AFTER (1u << AFTER)
#define P_ALL (P_BEFORE | P_DURING | P_AFTER)
#define S_CLIENT (1u << CLIENT)
#define S_SERVER (1u << SERVER)
#define S_BOTH (S_CLIENT | S_SERVER)

struct hcase {
    const char *id;
    const char *what;
    build_fn build;
    unsigned phases;
    bool heap; /* assert the heap bound */
};

static const struct hcase cases[] = {
    {"one-byte", "a 1-byte datagram", b_one_byte, P_ALL, false},
    {"short-header", "an 11-byte record header", b_short_header, P_ALL, false},
    {"length-over", "a record longer than its datagram", b_length_over, P_ALL, false},
    {"oversized", "a record of 16384 + 2048 + 1 bytes", b_oversized, P_ALL, false},
    {"version", "wrong record versions", b_wrong_version, P_ALL, false},
    {"runt-sealed", "encrypted records shorter than a nonce and tag", b_runt_sealed, P_ALL,
     false},
    {"content-type", "unknown content types", b_unknown_type, P_ALL, false},
    {"epoch", "wrong epochs", b_wrong_epoch, P_ALL, false},
    {"bad-mac", "epoch-1 garbage (bad MAC)", b_bad_mac, P_ALL, false},
    {"CVE-2014-0195", "a fragment past the first one's message length", b_frag_overflow, P_ALL,
     false},
    {"CVE-2014-3506", "a 16 MiB message announced", b_huge_length, P_ALL, true},
    {"CVE-2026-33845", "msg_len 0xFFFFFF, frag_off 2, frag_len 0", b_huge_empty, P_ALL, true},
    {"CVE-2014-3507", "zero-length fragments of future messages", b_zero_future, P_ALL, true},
    {"CVE-2026-33846", "fragments disagreeing on the message length", b_length_mismatch, P_ALL,
     false},
    {"CVE-2026-33846b", "contiguous fragments past the first one's buffer", b_length_overrun, P_ALL,
     true},
    {"CVE-2026-42009", "one message_seq with two types", b_type_mismatch, P_ALL, false},
    {"CVE-2015-0206", "1000 duplicate next-epoch records", b_next_epoch_dups, P_ALL, true},
    {"next-epoch-1000", "1000 next-epoch records, 20 numbers", b_next_epoch_many, P_ALL, true},
    {"CVE-2016-2179", "15 future messages never consumed", b_future_messages, P_ALL, true},
    {"CVE-2016-2181", "garbage with sequence 2^48-2 first", b_huge_seq, P_ALL, false},
    {"CVE-2020-24585", "plaintext epoch-0 application data", b_plain_appdata, P_ALL, false},
    {"bare-finished", "a Finished as the first message", b_bare_finished, P_BEFORE, false},
    {"refused-run", "2 refused records, then a forged next-but-one message", b_refused_run,
     P_DURING | P_AFTER, true},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Where a backend does not drop the input: the code the attacked session
 * ends its handshake with.  In the generic cases every difference is a
 * forged plaintext fragment that contradicts another one of the same
 * message_seq: which one is genuine cannot be told, and the libraries
 * differ in what they do about it (a fatal alert, or keeping one and
 * waiting).  A forger can end a handshake with a plaintext fatal alert
 * anyway; these rows prove that it ends with a defined code, bounded
 * memory and no leak. */
struct deviation {
    const char *backend;
    const char *id;
    unsigned phases, sides;
    int code;
};

static const struct deviation deviations[] = {
    /* OpenSSL: illegal_parameter / unexpected_message, fatal. */
    {"openssl", "CVE-2014-0195", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"openssl", "CVE-2026-33846", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"openssl", "CVE-2026-33846b", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"openssl", "CVE-2026-42009", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    /* GnuTLS: a length that disagrees is fatal while it waits for handshake
     * messages; a client waiting for its peer's ChangeCipherSpec discards
     * plaintext fragments.  Two types for one message_seq: the client keeps
     * the forged start and never completes the genuine message. */
    {"gnutls", "CVE-2014-0195", P_BEFORE, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2014-0195", P_DURING, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2026-33846", P_BEFORE, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2026-33846", P_DURING, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2026-33846b", P_BEFORE, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2026-33846b", P_DURING, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "CVE-2026-42009", P_BEFORE, S_CLIENT, ANYDTLS_E_TIMEOUT},
    {"gnutls", "CVE-2026-42009", P_BEFORE | P_DURING, S_SERVER, ANYDTLS_E_HANDSHAKE},
    /* wolfSSL: a fragment announcing another length than the message it
     * continues is fatal; other contradictions are dropped. */
    {"wolfssl", "CVE-2026-33846", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    {"wolfssl", "CVE-2026-33846b", P_BEFORE | P_DURING, S_BOTH, ANYDTLS_E_HANDSHAKE},
    /* A malformed ClientHello as a server session's first message (no
     * cookie exchange in front: anydtls_cookie_check drops both): OpenSSL
     * answers decode_error, the GnuTLS driver handshake_failure; wolfSSL's own stateless
     * exchange answers a 33-byte session id with a HelloVerifyRequest. */
    {"openssl", "ClientHello cookie 256 bytes", P_BEFORE, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"openssl", "ClientHello session id 33 bytes", P_BEFORE, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "ClientHello cookie 256 bytes", P_BEFORE, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"gnutls", "ClientHello session id 33 bytes", P_BEFORE, S_SERVER, ANYDTLS_E_HANDSHAKE},
    {"wolfssl", "ClientHello cookie 256 bytes", P_BEFORE, S_SERVER, ANYDTLS_E_HANDSHAKE},
};

/* The outcome expected of this backend: before and during, the attacked
 * side's final handshake code (OK: completed); after, its read. */
static int expected(const char *id, enum phase p, enum side s)
{
    for (size_t i = 0; i < sizeof deviations / sizeof deviations[0]; i++) {
        const struct deviation *d = &deviations[i];
        if (strcmp(d->backend, anydtls_backend_name()) == 0 && strcmp(d->id, id) == 0 &&
            (d->phases & (1u << p)) && (d->sides & (1u << s)))
            return d->code;
    }
    return p == AFTER ? ANYDTLS_E_WANT_READ : ANYDTLS_OK;
}

/* HOSTILE_CASE=text: run only what matches. */
static bool wanted(const char *id)
{
    const char *only = getenv("HOSTILE_CASE");
    return only == NULL || strstr(id, only) != NULL;
}

/* One line of the outcome table (doc/reliability.md). */
static void table(const char *id, const char *phase, const char *side, const char *outcome)
{
    tap_diag("table | %s | %s | %s | %s", id, phase, side, outcome);
}

/* ------------------------------------------------------------------ */
/* Driving the memory link                                              */
/* ------------------------------------------------------------------ */

static anydtls_config *ccfg, *scfg;

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

/* Read whatever an established session would hand the application; every
 * record that surfaces here is counted (the test's own messages are read
 * by link_transfer only). */
static int drain(anydtls_session *s, int *surfaced)
{
    uint8_t buf[ANYDTLS_MTU_MAX];
    int n;
    while ((n = anydtls_read(s, buf, sizeof buf)) >= 0) {
        (*surfaced)++;
        tap_diag("surfaced: %d bytes \"%.*s\"", n, n < 40 ? n : 40, (const char *)buf);
    }
    return n;
}

/* Serve the retransmission timers of the sessions still in their
 * handshake: those due now, or (wait) after sleeping until the earliest.
 * false when no timer runs. */
static bool serve_timers(struct link *l, bool wait)
{
    anydtls_session *ss[2] = {l->c, l->s};
    int *rcs[2] = {&l->crc, &l->src};
    uint32_t ms, best = UINT32_MAX;
    for (int i = 0; i < 2; i++)
        if (ss[i] != NULL && pending(*rcs[i]) && anydtls_get_timeout(ss[i], &ms) == 1 && ms < best)
            best = ms;
    if (best == UINT32_MAX)
        return false;
    if (wait && vclock_running())
        vclock_advance_ms(best);
    else if (wait)
        poll(NULL, 0, (int)best);
    for (int i = 0; i < 2; i++) {
        if (ss[i] == NULL || !pending(*rcs[i]) || anydtls_get_timeout(ss[i], &ms) != 1 || ms > 0)
            continue;
        int rc = anydtls_handle_timeout(ss[i]);
        if (rc < 0)
            *rcs[i] = rc;
    }
    return true;
}

/* Both handshakes to their end, as link_handshake does, except that an
 * established side's reads are checked (nothing may surface while the
 * other side still finishes), and that it stops as soon as *stop (the
 * attacked side's code) is a failure: what the other side then gets is
 * not the test's business, and waiting for its budget costs time. */
static bool drive(struct link *l, int *surfaced, const int *stop)
{
    double deadline = now_ms() + 15000;
    while (now_ms() < deadline && (stop == NULL || pending(*stop) || *stop == ANYDTLS_OK)) {
        if (pending(l->crc))
            l->crc = anydtls_handshake(l->c);
        if (l->s != NULL && pending(l->src))
            l->src = anydtls_handshake(l->s);
        bool c_open = pending(l->crc), s_open = pending(l->src);
        if (!c_open && !s_open)
            break;
        if (l->crc == ANYDTLS_OK)
            drain(l->c, surfaced);
        if (l->src == ANYDTLS_OK)
            drain(l->s, surfaced);
        serve_timers(l, false);
        if (link_pump(l) > 0)
            continue;
        if (!serve_timers(l, true))
            break;
    }
    return l->crc == ANYDTLS_OK && l->src == ANYDTLS_OK;
}

/* ------------------------------------------------------------------ */
/* Injection                                                            */
/* ------------------------------------------------------------------ */

static struct dgrams G;

struct attack {
    const struct hcase *c;
    struct link *l;
    struct target t;
    bool injected;
    int max_seq[2]; /* highest epoch-0 message_seq seen per direction */
    int result;     /* after: the attacked side's first read other than WANT_READ */
    int surfaced;
};

static int *target_rc(struct attack *a)
{
    return a->t.side == CLIENT ? &a->l->crc : &a->l->src;
}

/* Deliver the crafted datagrams one by one, letting the attacked session
 * take each as an application does when a datagram arrives: a handshake
 * step while the handshake runs, a read afterwards. */
static void inject(struct attack *a)
{
    anydtls_session *s = a->t.side == CLIENT ? a->l->c : a->l->s;
    anydtls_transport *t = a->t.side == CLIENT ? a->l->ct : a->l->st;
    uint8_t buf[ANYDTLS_MTU_MAX];
    G.n = 0;
    G.repeat = 1;
    a->c->build(&G, &a->t);
    a->injected = true;
    for (int r = 0; r < G.repeat; r++) {
        for (int i = 0; i < G.n; i++) {
            if (anydtls_memory_push(t, G.d[i], G.len[i]) < 0)
                return;
            if (a->t.phase != AFTER) {
                *target_rc(a) = anydtls_handshake(s);
                continue;
            }
            int rc = anydtls_read(s, buf, sizeof buf);
            if (rc >= 0) {
                a->surfaced++;
                tap_diag("surfaced: %d bytes \"%.*s\"", rc, rc < 40 ? rc : 40, (const char *)buf);
            }
            if (rc != ANYDTLS_E_WANT_READ && a->result == ANYDTLS_E_WANT_READ)
                a->result = rc;
        }
    }
}

/* Note the highest epoch-0 handshake message_seq of a datagram's records. */
static void note_seqs(int *max, const uint8_t *d, size_t len)
{
    for (size_t at = 0; at + REC_HDR <= len;) {
        size_t rlen = (size_t)get_be(d + at + 11, 2);
        if (d[at] == CT_HANDSHAKE && get_be(d + at + 3, 2) == 0 && rlen >= HS_HDR &&
            at + REC_HDR + rlen <= len && (int)get_be(d + at + REC_HDR + 4, 2) > *max)
            *max = (int)get_be(d + at + REC_HDR + 4, 2);
        at += REC_HDR + rlen;
    }
}

/* The first datagram of a peer's last flight: the client's carries its
 * ClientKeyExchange (or ChangeCipherSpec), the server's its
 * ChangeCipherSpec.  *next gets the message_seq the receiver waits for. */
static bool last_flight(int dir, const uint8_t *d, size_t len, int max_seen, uint16_t *next)
{
    for (size_t at = 0; at + REC_HDR <= len;) {
        size_t rlen = (size_t)get_be(d + at + 11, 2);
        if (d[at] == CT_CCS || get_be(d + at + 3, 2) != 0) {
            *next = (uint16_t)(max_seen + 1);
            return true;
        }
        if (dir == 0 && d[at] == CT_HANDSHAKE && rlen >= HS_HDR && at + REC_HDR + rlen <= len &&
            d[at + REC_HDR] == HT_CLIENT_KEY_EXCHANGE) {
            *next = (uint16_t)get_be(d + at + REC_HDR + 4, 2);
            return true;
        }
        at += REC_HDR + rlen;
    }
    return false;
}

/* During the handshake: just before the first datagram of the peer's last
 * flight reaches the attacked side, i.e. between two flights, when the
 * attacked side waits with a new epoch about to start. */
static enum fate inject_between_flights(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    struct attack *a = user;
    enum side to = dir == 0 ? SERVER : CLIENT;
    uint16_t next;
    if (!a->injected && to == a->t.side && last_flight(dir, d, len, a->max_seq[dir], &next)) {
        a->t.next = next;
        /* A server's last flight may start with a NewSessionTicket. */
        a->t.next_type = to == SERVER ? HT_CLIENT_KEY_EXCHANGE : HT_NEW_SESSION_TICKET;
        inject(a);
    }
    note_seqs(&a->max_seq[dir], d, len);
    return DELIVER;
}

/* ------------------------------------------------------------------ */
/* One case: phase, side                                                */
/* ------------------------------------------------------------------ */

struct outcome {
    int code;        /* before/during: attacked side's handshake; after: its read */
    bool flows;      /* data both ways afterwards (when both are established) */
    int surfaced;    /* records handed to the application that were not sent */
    bool injected;   /* the hostile input was delivered at all */
    long long grown; /* peak heap over the start of the case */
    long long kept;  /* heap left after everything was freed */
};

static void setup_attack(struct attack *a, struct link *l, const struct hcase *c, enum phase p,
                         enum side s)
{
    memset(a, 0, sizeof *a);
    a->c = c;
    a->l = l;
    a->t.side = s;
    a->t.phase = p;
    a->t.seq = 40; /* above the peer's, well inside its replay window */
    a->result = ANYDTLS_E_WANT_READ;
    a->max_seq[0] = a->max_seq[1] = -1;
    /* A server attacked before its handshake exists from the start: no
     * cookie exchange in front of it.  Otherwise the exchange runs. */
    link_init(l, ccfg, scfg, !(p == BEFORE && s == SERVER));
    if (p == BEFORE) {
        a->t.next_type = s == SERVER ? HT_CLIENT_HELLO : HT_SERVER_HELLO;
    } else if (p == AFTER) {
        a->t.epoch = 1;
        a->t.next = 8;
        a->t.next_type = s == SERVER ? HT_CLIENT_HELLO : HT_SERVER_HELLO;
    }
}

/* c NULL: the same handshake without hostile input. */
static void run_case(const struct hcase *c, enum phase p, enum side s, struct outcome *o)
{
    struct link l;
    struct attack a;
    memset(o, 0, sizeof *o);
    long long base = heap_live;
    setup_attack(&a, &l, c, p, s);
    heap_peak = heap_live;
    if (c != NULL && p == BEFORE)
        inject(&a);
    if (c != NULL && p == DURING) {
        l.filter = inject_between_flights;
        l.filter_user = &a;
    }
    drive(&l, &a.surfaced, c != NULL ? target_rc(&a) : NULL);
    l.filter = NULL;
    if (c != NULL && p == DURING && !a.injected)
        tap_diag("%s: the last flight was never seen", c->id);
    if (c != NULL && p == AFTER && l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK)
        inject(&a);
    o->code = p == AFTER ? a.result : *target_rc(&a);
    if (l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK) {
        drain(l.c, &a.surfaced);
        drain(l.s, &a.surfaced);
        o->flows = link_transfer(&l, true, "client to server after hostile input") &&
                   link_transfer(&l, false, "server to client after hostile input");
    }
    o->grown = heap_peak - base;
    o->surfaced = a.surfaced;
    o->injected = a.injected;
    link_free(&l);
    o->kept = heap_live - base;
}

static bool measuring;
static long long worst_growth; /* over a clean handshake, for the summary */

static void check_case(const struct hcase *c, enum phase p, enum side s,
                       const struct outcome *clean)
{
    struct outcome o;
    run_case(c, p, s, &o);
    int want = expected(c->id, p, s);
    const char *ph = phase_name[p], *sd = side_name[s];
    table(c->id, ph, sd, code_name(o.code));
    is(o.code, want, "%s (%s), %s, to the %s: %s", c->id, c->what, ph, sd, code_name(want));
    bool usable = want == ANYDTLS_OK || want == ANYDTLS_E_WANT_READ;
    ok(o.injected && o.surfaced == 0 && (!usable || o.flows),
       "%s, %s, to the %s: delivered, nothing surfaced%s", c->id, ph, sd,
       usable ? ", data flows both ways afterwards" : "");
    if (o.grown - clean->grown > worst_growth)
        worst_growth = o.grown - clean->grown;
    if (!c->heap)
        return;
    if (!measuring) {
        tap_skip(heap_blind, "%s, %s, to the %s: heap bounded, nothing kept", c->id, ph, sd);
        return;
    }
    ok(o.grown <= clean->grown + HEAP_BOUND && o.kept <= clean->kept,
       "%s, %s, to the %s: heap +%lld at most (clean handshake +%lld), %lld kept after free", c->id,
       ph, sd, o.grown, clean->grown, o.kept);
}

static int generic_tests(void)
{
    int n = 0;
    for (size_t i = 0; i < N_CASES; i++)
        for (int p = 0; p < 3; p++)
            if ((cases[i].phases & (1u << p)) && wanted(cases[i].id))
                n += 2 * (2 + cases[i].heap);
    return n;
}

static void test_generic(void)
{
    for (int p = 0; p < 3; p++) {
        for (int s = 0; s < 2; s++) {
            struct outcome clean;
            run_case(NULL, (enum phase)p, (enum side)s, &clean);
            for (size_t i = 0; i < N_CASES; i++)
                if ((cases[i].phases & (1u << p)) && wanted(cases[i].id))
                    check_case(&cases[i], (enum phase)p, (enum side)s, &clean);
        }
    }
}

/* ------------------------------------------------------------------ */
/* A replayed record                                                    */
/* ------------------------------------------------------------------ */

#define REPLAY_TESTS 6

/* A genuine application record off the link, before its peer sees it. */
static size_t capture(struct link *l, enum side from, uint8_t *rec, size_t cap)
{
    static const char msg[] = "replay me";
    link_pump(l); /* nothing else in the queue */
    anydtls_session *s = from == CLIENT ? l->c : l->s;
    if (anydtls_write(s, (const uint8_t *)msg, sizeof msg - 1) != (int)sizeof msg - 1)
        return 0;
    int n = anydtls_memory_pop(from == CLIENT ? l->ct : l->st, rec, cap);
    return n > 0 ? (size_t)n : 0;
}

static void test_replay(enum side to)
{
    struct link l;
    int surfaced = 0;
    uint8_t rec[2048], buf[2048];
    link_init(&l, ccfg, scfg, true);
    drive(&l, &surfaced, NULL);
    anydtls_session *s = to == CLIENT ? l.c : l.s;
    anydtls_transport *t = to == CLIENT ? l.ct : l.st;
    size_t n = capture(&l, to == CLIENT ? SERVER : CLIENT, rec, sizeof rec);
    int first = ANYDTLS_E_INVALID_ARG, second = first, later = first;
    bool flows = false;
    if (n > 0) {
        anydtls_memory_push(t, rec, n);
        anydtls_memory_push(t, rec, n);
        first = anydtls_read(s, buf, sizeof buf);
        second = anydtls_read(s, buf, sizeof buf);
        flows = link_transfer(&l, true, "after a replay") && link_transfer(&l, false, "and back");
        anydtls_memory_push(t, rec, n);
        later = anydtls_read(s, buf, sizeof buf);
    }
    const char *sd = side_name[to];
    table("replay", "after", sd, code_name(second));
    is(first, 9, "replay, to the %s: the genuine record is read once", sd);
    is(second, ANYDTLS_E_WANT_READ, "replay, to the %s: its copy is dropped", sd);
    ok(later == ANYDTLS_E_WANT_READ && flows && surfaced == 0,
       "replay, to the %s: dropped again after more traffic; data flows both ways", sd);
    link_free(&l);
}

/* ------------------------------------------------------------------ */
/* Empty datagrams, over a socket pair                                  */
/* ------------------------------------------------------------------ */

#define EMPTY_TESTS 9

/* Two sessions over the two ends of a datagram socket pair; the test
 * writes into the same sockets to inject. */
struct pair {
    int fd[2];
    anydtls_transport *t[2];
    anydtls_session *s[2];
    int rc[2];
};

static void pair_init(struct pair *p)
{
    anydtls_config *cfgs[2] = {ccfg, scfg};
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p->fd) != 0) {
        tap_diag("socketpair: %s", strerror(errno));
        _exit(1);
    }
    for (int i = 0; i < 2; i++) {
        fcntl(p->fd[i], F_SETFL, fcntl(p->fd[i], F_GETFL) | O_NONBLOCK);
        CHECK(anydtls_transport_new_udp(&p->t[i], p->fd[i]));
        CHECK(anydtls_session_new(&p->s[i], cfgs[i], p->t[i]));
        p->rc[i] = ANYDTLS_E_WANT_READ;
    }
}

static void pair_free(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        anydtls_session_free(p->s[i]);
        anydtls_transport_free(p->t[i]);
        close(p->fd[i]);
    }
}

/* A zero-length datagram to side `to`, sent from its peer's socket. */
static void send_empty(struct pair *p, enum side to)
{
    (void)send(p->fd[to == CLIENT ? SERVER : CLIENT], "", 0, 0);
}

/* The handshake over the pair; every = an empty datagram to each side
 * before each of its handshake steps. */
static void pair_handshake(struct pair *p, bool every, int *surfaced)
{
    double deadline = now_ms() + 15000;
    while (now_ms() < deadline && (pending(p->rc[0]) || pending(p->rc[1]))) {
        uint32_t ms, wait = 50;
        for (int i = 0; i < 2; i++) {
            if (!pending(p->rc[i])) {
                if (p->rc[i] == ANYDTLS_OK)
                    drain(p->s[i], surfaced); /* answers the peer's retransmissions */
                continue;
            }
            if (every)
                send_empty(p, (enum side)i);
            p->rc[i] = anydtls_handshake(p->s[i]);
            if (pending(p->rc[i]) && anydtls_get_timeout(p->s[i], &ms) == 1) {
                int rc = ms == 0 ? anydtls_handle_timeout(p->s[i]) : ANYDTLS_OK;
                if (rc < 0)
                    p->rc[i] = rc;
                wait = ms < wait ? ms : wait;
            }
        }
        struct pollfd pfd[2] = {{p->fd[0], POLLIN, 0}, {p->fd[1], POLLIN, 0}};
        poll(pfd, 2, (int)wait);
    }
}

static bool pair_transfer(struct pair *p, enum side from, const char *msg)
{
    uint8_t buf[256];
    size_t len = strlen(msg);
    if (anydtls_write(p->s[from], (const uint8_t *)msg, len) != (int)len)
        return false;
    struct pollfd pfd = {p->fd[!from], POLLIN, 0};
    poll(&pfd, 1, 2000);
    int n = anydtls_read(p->s[!from], buf, sizeof buf);
    return n == (int)len && memcmp(buf, msg, len) == 0;
}

static bool pair_flows(struct pair *p)
{
    return pair_transfer(p, CLIENT, "client to server") &&
           pair_transfer(p, SERVER, "server to client");
}

static void test_empty_handshake(enum phase ph)
{
    struct pair p;
    int surfaced = 0;
    pair_init(&p);
    if (ph == BEFORE) {
        send_empty(&p, CLIENT);
        send_empty(&p, SERVER);
    }
    pair_handshake(&p, ph == DURING, &surfaced);
    for (int i = 0; i < 2; i++) {
        table("empty", phase_name[ph], side_name[i], code_name(p.rc[i]));
        is(p.rc[i], ANYDTLS_OK, "empty datagrams, %s, to the %s: handshake completes",
           phase_name[ph], side_name[i]);
    }
    ok(surfaced == 0 && pair_flows(&p), "empty datagrams, %s: data flows both ways",
       phase_name[ph]);
    pair_free(&p);
}

static void test_empty_after(void)
{
    struct pair p;
    int surfaced = 0;
    uint8_t buf[64];
    pair_init(&p);
    pair_handshake(&p, false, &surfaced);
    for (int i = 0; i < 2; i++) {
        send_empty(&p, (enum side)i);
        int rc = anydtls_read(p.s[i], buf, sizeof buf);
        table("empty", "after", side_name[i], code_name(rc));
        is(rc, ANYDTLS_E_WANT_READ, "empty datagram, after, to the %s: dropped", side_name[i]);
    }
    ok(surfaced == 0 && pair_flows(&p), "empty datagrams, after: data flows both ways");
    pair_free(&p);
}

/* ------------------------------------------------------------------ */
/* Odd ClientHellos: cookie and session id lengths                      */
/* ------------------------------------------------------------------ */

#define HELLO_TESTS 16

static uint8_t hello[2048]; /* a real client's first ClientHello */
static size_t hello_len;

static void capture_hello(void)
{
    anydtls_transport *t;
    anydtls_session *c;
    CHECK(anydtls_transport_new_memory(&t, 0));
    CHECK(anydtls_session_new(&c, ccfg, t));
    (void)anydtls_handshake(c);
    int n = anydtls_memory_pop(t, hello, sizeof hello);
    hello_len = n > 0 ? (size_t)n : 0;
    anydtls_session_free(c);
    anydtls_transport_free(t);
}

/* The captured ClientHello with a session id of sid_len bytes and the
 * cookie given (cookie_len bytes after a length byte len_byte). */
static size_t hello_variant(uint8_t *out, size_t sid_len, const uint8_t *cookie, size_t cookie_len,
                            uint8_t len_byte)
{
    const uint8_t *body = hello + REC_HDR + HS_HDR;
    size_t body_len = (size_t)get_be(hello + REC_HDR + 1, 3), at = 34;
    at += 1 + body[at]; /* session id */
    at += 1 + body[at]; /* cookie */
    uint8_t *o = out + REC_HDR + HS_HDR;
    size_t n = 34;
    memcpy(o, body, 34); /* version, random */
    o[n++] = (uint8_t)sid_len;
    fill(o + n, sid_len, 99);
    n += sid_len;
    o[n++] = len_byte;
    if (cookie != NULL)
        memcpy(o + n, cookie, cookie_len);
    else
        memset(o + n, 0x41, cookie_len);
    n += cookie_len;
    memcpy(o + n, body + at, body_len - at);
    n += body_len - at;
    memcpy(out, hello, REC_HDR + HS_HDR); /* same record and message_seq */
    put_be(out + 11, HS_HDR + n, 2);
    put_be(out + REC_HDR + 1, n, 3);
    put_be(out + REC_HDR + 6, 0, 3);
    put_be(out + REC_HDR + 9, n, 3);
    return REC_HDR + HS_HDR + n;
}

static const anydtls_addr peer_a = {.family = AF_INET, .port = 5684, .addr = {192, 0, 2, 7}};

static int check_hello(anydtls_config *cfg, const uint8_t *d, size_t len, const anydtls_addr *from,
                       uint8_t *reply, size_t *reply_len)
{
    anydtls_prestate ps;
    return anydtls_cookie_check(cfg, d, len, from, reply, ANYDTLS_HVR_MAX, reply_len, &ps);
}

/* A fresh server session's first step on a ClientHello, and what it sent
 * back: its code; *answer names the first record. */
static int hello_to_session(const uint8_t *d, size_t len, const char **answer)
{
    anydtls_transport *t;
    anydtls_session *s;
    uint8_t out[4096];
    CHECK(anydtls_transport_new_memory(&t, 0));
    CHECK(anydtls_session_new(&s, scfg, t));
    CHECK(anydtls_memory_push(t, d, len));
    int rc = anydtls_handshake(s);
    int n = anydtls_memory_pop(t, out, sizeof out);
    *answer = n < REC_HDR + 1          ? "nothing"
              : out[0] == CT_ALERT     ? "an alert"
              : out[0] != CT_HANDSHAKE ? "another record"
              : out[REC_HDR] == 3      ? "a HelloVerifyRequest"
              : out[REC_HDR] == 2      ? "a ServerHello"
                                       : "another message";
    anydtls_session_free(s);
    anydtls_transport_free(t);
    return rc;
}

struct hello_case {
    const char *id;
    size_t sid_len, cookie_len;
    uint8_t len_byte;
    int check; /* what anydtls_cookie_check answers */
};

/* A 256-byte cookie cannot be encoded: its length byte wraps to 0 and the
 * cookie's bytes are read as what follows. */
static const struct hello_case hello_cases[] = {
    {"ClientHello cookie 0 bytes", 0, 0, 0, ANYDTLS_COOKIE_SEND_HVR},
    {"ClientHello cookie 1 byte", 0, 1, 1, ANYDTLS_COOKIE_SEND_HVR},
    {"ClientHello cookie 255 bytes", 0, 255, 255, ANYDTLS_COOKIE_SEND_HVR},
    {"ClientHello cookie 256 bytes", 0, 256, 0, ANYDTLS_E_BAD_RECORD},
    {"ClientHello session id 33 bytes", 33, 0, 0, ANYDTLS_E_BAD_RECORD},
};

static void test_hellos(void)
{
    uint8_t d[2048], reply[ANYDTLS_HVR_MAX];
    size_t rlen = 0;
    for (size_t i = 0; i < sizeof hello_cases / sizeof hello_cases[0]; i++) {
        const struct hello_case *h = &hello_cases[i];
        size_t len = hello_variant(d, h->sid_len, NULL, h->cookie_len, h->len_byte);
        int rc = check_hello(scfg, d, len, &peer_a, reply, &rlen);
        table(h->id, "stateless", "cookie check", rc == 1 ? "SEND_HVR" : code_name(rc));
        is(rc, h->check, "%s: anydtls_cookie_check says %s", h->id,
           h->check == 1 ? "send a HelloVerifyRequest" : code_name(h->check));
        if (rc == ANYDTLS_COOKIE_SEND_HVR && rlen > len)
            tap_diag("%s: a reply of %zu bytes to %zu", h->id, rlen, len);
        const char *answer;
        rc = hello_to_session(d, len, &answer);
        char what[80];
        snprintf(what, sizeof what, "%s, answers %s", code_name(rc), answer);
        table(h->id, "first message", "server session", what);
        is(rc,
           expected(h->id, BEFORE, SERVER) == ANYDTLS_OK ? ANYDTLS_E_WANT_READ
                                                         : expected(h->id, BEFORE, SERVER),
           "%s: a server session's first step (%s)", h->id, answer);
    }
}

/* CVE-2015-6925 and cookie binding: a cookie verifies only for the address
 * and key it was made for, and the answer is never larger than the
 * ClientHello (no amplification). */
static void test_foreign_cookies(void)
{
    uint8_t reply[ANYDTLS_HVR_MAX], d[2048];
    size_t rlen = 0;
    anydtls_addr other = peer_a;
    is(check_hello(scfg, hello, hello_len, &peer_a, reply, &rlen), ANYDTLS_COOKIE_SEND_HVR,
       "cookie: a ClientHello without one gets a HelloVerifyRequest");
    ok(rlen <= hello_len, "cookie: the reply (%zu bytes) is no larger than the ClientHello (%zu)",
       rlen, hello_len);
    size_t len = hello_variant(d, hello[REC_HDR + HS_HDR + 34], reply + 28, ANYDTLS_COOKIE_LEN,
                               ANYDTLS_COOKIE_LEN);
    /* keep the client's session id: the cookie covers it */
    memcpy(d + REC_HDR + HS_HDR + 35, hello + REC_HDR + HS_HDR + 35, hello[REC_HDR + HS_HDR + 34]);
    is(check_hello(scfg, d, len, &peer_a, reply, &rlen), ANYDTLS_COOKIE_VERIFIED,
       "cookie: verifies for the address it was made for (control)");
    other.addr[3]++;
    is(check_hello(scfg, d, len, &other, reply, &rlen), ANYDTLS_COOKIE_SEND_HVR,
       "cookie: from another address, refused");
    other = peer_a;
    other.port++;
    is(check_hello(scfg, d, len, &other, reply, &rlen), ANYDTLS_COOKIE_SEND_HVR,
       "cookie: from another port, refused");
    anydtls_config *second = server_psk_config();
    int rc = check_hello(second, d, len, &peer_a, reply, &rlen);
    is(rc, ANYDTLS_COOKIE_SEND_HVR, "cookie: made under another server's key, refused");
    table("cookie of another address, port or key", "stateless", "cookie check",
          rc == 1 ? "SEND_HVR" : code_name(rc));
    anydtls_config_free(second);
}

/* ------------------------------------------------------------------ */
/* Issue 12: large datagrams, reflection, a ClientHello without         */
/* extensions                                                           */
/* ------------------------------------------------------------------ */

#define BIG_TESTS 6
#define REFLECT_TESTS 9
#define BARE_TESTS 2

static bool plain_handshake(const uint8_t *r)
{
    return r[0] == CT_HANDSHAKE && get_be(r + 3, 2) == 0;
}

/* Append the records of d to out: an epoch-0 handshake record right after
 * another one joins it (one record may carry several handshake fragments:
 * RFC 6347, 4.2.3), so that a flight's handshake messages make one long
 * record, as from a peer at a large MTU.  *last: where out's last record
 * starts. */
static size_t append_records(uint8_t *out, size_t len, size_t *last, const uint8_t *d, size_t n)
{
    for (size_t at = 0; at + REC_HDR <= n;) {
        size_t body = (size_t)get_be(d + at + 11, 2);
        uint8_t *prev = out + *last;
        if (len > 0 && plain_handshake(prev) && plain_handshake(d + at) &&
            get_be(prev + 11, 2) + body <= 16384) {
            memcpy(out + len, d + at + REC_HDR, body);
            put_be(prev + 11, get_be(prev + 11, 2) + body, 2);
            len += body;
        } else {
            *last = len;
            memcpy(out + len, d + at, REC_HDR + body);
            len += REC_HDR + body;
        }
        at += REC_HDR + body;
    }
    return len;
}

/* Datagrams a side sent, joined into datagrams of up to cap bytes (records
 * may share a datagram: RFC 6347, 4.1.1), pushed to the other side; the
 * length of the longest record and datagram it made. */
static size_t coalesce(anydtls_transport *from, anydtls_transport *to, size_t cap,
                       size_t *longest_record)
{
    static uint8_t d[ANYDTLS_MTU_MAX], out[ANYDTLS_MTU_MAX];
    size_t len = 0, largest = 0, last = 0;
    int n;
    while ((n = anydtls_memory_pop(from, d, sizeof d)) > 0) {
        if (len > 0 && len + (size_t)n > cap) {
            anydtls_memory_push(to, out, len);
            largest = len > largest ? len : largest;
            len = 0;
        }
        len = append_records(out, len, &last, d, (size_t)n);
        for (size_t at = 0; at + REC_HDR <= len; at += REC_HDR + (size_t)get_be(out + at + 11, 2))
            if (REC_HDR + get_be(out + at + 11, 2) > *longest_record)
                *longest_record = REC_HDR + (size_t)get_be(out + at + 11, 2);
    }
    if (len > 0)
        anydtls_memory_push(to, out, len);
    return len > largest ? len : largest;
}

/* A chain of the leaf and three RSA intermediates (tests/mkpki.sh):
 * "deep-server" and "deep-client", a flight of about 4 KB from every
 * flavour; "wide-client", a leaf with 81 long names, a Certificate message
 * of about 14 KB. */
static void set_long_chain(anydtls_config *cfg, const char *leaf)
{
    char chain[64], key[64];
    snprintf(chain, sizeof chain, "%s-chain.pem", leaf);
    snprintf(key, sizeof key, "%s.key", leaf);
    CHECK(anydtls_config_set_cert_file(cfg, pki(chain), pki(key)));
}

/* A handshake with client certificates as a peer at an MTU of `cap`
 * sends it: each flight joined into datagrams of up to cap bytes (the
 * certificate flights are larger than 1400).  wolfSSL 5.5 read 1400 bytes
 * of a datagram and dropped it, 5.7 read MTU + 500.  Run at 4000 and at
 * the largest MTU the API accepts (ANYDTLS_MTU_MAX), where a flight goes
 * in one datagram: with the wide client certificate, the client's is a
 * record of about 14.5 KB. */
static void test_big_datagrams(size_t cap, const char *client_leaf, size_t over)
{
    anydtls_config *c = client_cert_config("ca.pem", "localhost");
    anydtls_config *sv;
    CHECK(anydtls_config_new(&sv, ANYDTLS_SERVER));
    fast_timers(sv);
    set_long_chain(sv, "deep-server");
    set_long_chain(c, client_leaf);
    CHECK(anydtls_config_set_ca_file(sv, pki("ca.pem")));
    /* The server at the default MTU (1400): what a peer at cap sends
     * must be read whatever our own MTU is.  A client that can be set to
     * cap sends records that long too. */
    if (HAS_CAP(ANYDTLS_CAP_MTU))
        CHECK(anydtls_config_set_mtu(c, (unsigned)cap));
    struct link l;
    link_init(&l, c, sv, false);
    size_t largest[2] = {0, 0}, record[2] = {0, 0};
    uint32_t ms;
    for (int round = 0; round < 2000 && (pending(l.crc) || pending(l.src)); round++) {
        if (pending(l.crc))
            l.crc = anydtls_handshake(l.c);
        if (pending(l.src))
            l.src = anydtls_handshake(l.s);
        size_t a = coalesce(l.ct, l.st, cap, &record[0]);
        size_t b = coalesce(l.st, l.ct, cap, &record[1]);
        largest[0] = a > largest[0] ? a : largest[0];
        largest[1] = b > largest[1] ? b : largest[1];
        if (a + b > 0)
            continue;
        if (l.crc == ANYDTLS_OK || l.src == ANYDTLS_OK) {
            uint8_t scratch[64]; /* the established side answers retransmissions */
            (void)anydtls_read(l.crc == ANYDTLS_OK ? l.c : l.s, scratch, sizeof scratch);
        }
        anydtls_session *ss[2] = {l.c, l.s};
        int *rcs[2] = {&l.crc, &l.src};
        vclock_advance_ms(10);
        for (int i = 0; i < 2; i++)
            if (pending(*rcs[i]) && anydtls_get_timeout(ss[i], &ms) == 1 && ms == 0) {
                int rc = anydtls_handle_timeout(ss[i]);
                if (rc < 0)
                    *rcs[i] = rc;
            }
    }
    char what[80];
    snprintf(what, sizeof what, "client certificates, flights in %zu-byte datagrams", cap);
    table(what, "during", "both", code_name(l.src));
    ok(l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK,
       "%zu-byte datagrams, client certificate: both established (client %s, server %s)", cap,
       code_name(l.crc), code_name(l.src));
    ok(largest[0] > over && largest[1] > 1400 && record[0] > over && record[1] > 1400,
       "%zu-byte datagrams: the flights went in datagrams (%zu, %zu) and records (%zu, %zu) "
       "over 1400 bytes, the client's over %zu",
       cap, largest[0], largest[1], record[0], record[1], over);
    ok(l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK && link_transfer(&l, true, "big one") &&
           link_transfer(&l, false, "and back"),
       "%zu-byte datagrams: data flows both ways", cap);
    link_free(&l);
    anydtls_config_free(c);
    anydtls_config_free(sv);
}

/* The server's last flight: dropped once (so the client retransmits its
 * own, genuinely), counted. */
struct last_flight_watch {
    int server_ccs;   /* server datagrams carrying a ChangeCipherSpec */
    bool dropped;
};

static bool has_ccs(const uint8_t *d, size_t len)
{
    for (size_t at = 0; at + REC_HDR <= len; at += REC_HDR + (size_t)get_be(d + at + 11, 2))
        if (d[at] == CT_CCS)
            return true;
    return false;
}

static enum fate drop_server_last_once(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    struct last_flight_watch *w = user;
    if (dir != 1 || !has_ccs(d, len))
        return DELIVER;
    w->server_ccs++;
    if (w->dropped)
        return DELIVER;
    w->dropped = true;
    return DROP;
}

/* Bytes a side sends in answer to a datagram pushed to it, after a read. */
static size_t answer_bytes(anydtls_session *s, anydtls_transport *t, const uint8_t *d, size_t n)
{
    uint8_t buf[ANYDTLS_MTU_MAX];
    size_t total = 0;
    int got;
    anydtls_memory_push(t, d, n);
    (void)anydtls_read(s, buf, sizeof buf);
    while ((got = anydtls_memory_pop(t, buf, sizeof buf)) > 0)
        total += (size_t)got;
    return total;
}

/* wolfSSL's driver answered any epoch-0 handshake record after the
 * handshake with its whole last flight (a 25-byte datagram drew ~256
 * bytes, to whatever address it claimed to come from). */
static void test_reflection(void)
{
    struct link l;
    struct last_flight_watch w = {0, false};
    link_init(&l, ccfg, scfg, true);
    l.filter = drop_server_last_once;
    l.filter_user = &w;
    bool up = link_handshake(&l);
    ok(up && w.server_ccs >= 2,
       "reflection: the server's last flight lost once, the client's genuine retransmission "
       "got it again (%d sent)", w.server_ccs);
    link_pump(&l);
    struct target t = {SERVER, AFTER, 0, 0, 0, 40};
    G.n = 0;
    /* 25 bytes: an empty ClientKeyExchange; then a ClientHello and a
     * Certificate fragment, and a ChangeCipherSpec next to one. */
    add_fragment(&G, &t, HT_CLIENT_KEY_EXCHANGE, 0, 2, 0, 0);
    add_fragment(&G, &t, HT_CLIENT_HELLO, 60, 1, 0, 60);
    add_fragment(&G, &t, HT_CERTIFICATE, 300, 3, 0, 100);
    size_t forged = 0, to_client = 0;
    for (int i = 0; i < G.n; i++) {
        forged += answer_bytes(l.s, l.st, G.d[i], G.len[i]);
        to_client += answer_bytes(l.c, l.ct, G.d[i], G.len[i]);
    }
    char what[64];
    snprintf(what, sizeof what, "%zu bytes sent back", forged + to_client);
    table("forged epoch-0 handshake records", "after", "both", what);
    is((int)forged, 0, "reflection: forged epoch-0 handshake records to the server draw nothing");
    is((int)to_client, 0, "reflection: and to the client neither");
    /* Encrypted-looking epoch-1 handshake records that do not
     * authenticate, longer than a Finished: a renegotiating ClientHello to
     * look at.  wolfSSL's driver answered them with its no_renegotiation
     * warning before checking them (found from outside). */
    size_t sealed = 0;
    for (size_t body = 60; body <= 200; body += 140) {
        uint8_t d[13 + 200];
        static const uint8_t head[11] = {22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9};
        memcpy(d, head, sizeof head);
        d[11] = (uint8_t)(body >> 8), d[12] = (uint8_t)body;
        for (size_t i = 0; i < body; i++)
            d[13 + i] = (uint8_t)(i * 131 + 7);
        sealed += answer_bytes(l.s, l.st, d, 13 + body) + answer_bytes(l.c, l.ct, d, 13 + body);
    }
    is((int)sealed, 0, "reflection: forged epoch-1 handshake records draw nothing either");
    ok(link_transfer(&l, true, "still there") && link_transfer(&l, false, "and back"),
       "reflection: the session carries data afterwards");
    link_free(&l);
}

struct retransmit_capture {
    bool dropped_server;
    uint64_t lost_at, kept_at; /* when the client's lost / kept retransmission went */
    int n;
    uint8_t d[4][ANYDTLS_MTU_MAX];
    size_t len[4];
};

/* The client's datagrams after the server's flight was lost: those of its
 * first retransmission (all sent at one virtual instant) dropped, those of
 * the second kept and dropped too (never seen by the server: OpenSSL's
 * replay window would refuse them), the third delivered. */
static enum fate keep_client_retransmission(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    struct retransmit_capture *w = user;
    uint64_t now = vclock_elapsed_ms();
    if (dir == 1 && has_ccs(d, len) && !w->dropped_server) {
        w->dropped_server = true;
        return DROP;
    }
    if (dir != 0 || !w->dropped_server)
        return DELIVER;
    if (w->lost_at == 0 || w->lost_at == now) {
        w->lost_at = now;
        return DROP;
    }
    if (w->kept_at == 0)
        w->kept_at = now;
    if (w->kept_at == now && w->n < 4 && len <= sizeof w->d[0]) {
        memcpy(w->d[w->n], d, len);
        w->len[w->n++] = len;
    }
    return w->kept_at == now ? DROP : DELIVER;
}

/* Answers (pushes that drew datagrams back) to the kept retransmission
 * pushed `times` times. */
static int answers_to(struct link *l, const struct retransmit_capture *w, int times)
{
    int answered = 0;
    for (int i = 0; i < times; i++) {
        size_t bytes = 0;
        for (int j = 0; j < w->n; j++)
            bytes += answer_bytes(l->s, l->st, w->d[j], w->len[j]);
        answered += bytes > 0;
    }
    return answered;
}

/* The peer's genuine retransmission of its last flight, replayed 5 times
 * within one retransmission interval, draws our last flight once, never
 * more (wolfSSL's driver answers by its own rule, section 9.3 item 3; the
 * libraries by theirs); an interval later it draws at most one more. */
static void test_resend_rate(void)
{
    struct link l;
    struct retransmit_capture w;
    memset(&w, 0, sizeof w);
    link_init(&l, ccfg, scfg, true);
    l.filter = keep_client_retransmission;
    l.filter_user = &w;
    bool up = link_handshake(&l);
    link_pump(&l);
    ok(up && w.n > 0, "resend rate: the client's second retransmission of its last flight "
                      "kept (%d datagrams)", w.n);
    l.filter = NULL;
    vclock_advance_ms(1001);
    int first = w.n > 0 ? answers_to(&l, &w, 5) : -1;
    vclock_advance_ms(1001);
    int second = w.n > 0 ? answers_to(&l, &w, 5) : -1;
    char what[64];
    snprintf(what, sizeof what, "%d, then %d answers", first, second);
    table("genuine last-flight retransmission x5 per interval", "after", "server", what);
    is(first, 1, "resend rate: 5 replays in one interval draw the last flight exactly once");
    ok(second == 0 || second == 1, "resend rate: 5 more an interval later draw at most one (%d)",
       second);
    ok(link_transfer(&l, true, "still there") && link_transfer(&l, false, "and back"),
       "resend rate: the session carries data afterwards");
    link_free(&l);
}

/* The captured ClientHello (hello) with cookie: its extensions block cut
 * off, the lengths fixed.  Returns the new length. */
static size_t without_extensions(uint8_t *d, size_t len)
{
    uint8_t *b = d + REC_HDR + HS_HDR;
    size_t at = 34;
    at += 1 + b[at];                        /* session id */
    at += 1 + b[at];                        /* cookie */
    at += 2 + (size_t)get_be(b + at, 2); /* cipher suites */
    at += 1 + b[at];                        /* compression methods */
    if (REC_HDR + HS_HDR + at > len)
        return 0;
    put_be(d + 11, HS_HDR + at, 2);
    put_be(d + REC_HDR + 1, at, 3);
    put_be(d + REC_HDR + 9, at, 3);
    return REC_HDR + HS_HDR + at;
}

/* A verified ClientHello without an extensions block (legal: RFC 5246,
 * 7.4.1.2) to a server session: answered with a ServerHello, or, when no
 * suite can be had without extensions, a fatal handshake_failure and
 * ANYDTLS_E_HANDSHAKE; never silence (wolfSSL 5.5 failed it as malformed
 * and told the client nothing). */
static void bare_hello(anydtls_config *cfg, const char *what)
{
    uint8_t d[2048], reply[ANYDTLS_HVR_MAX], out[4096];
    size_t rlen = 0;
    anydtls_prestate ps;
    size_t len = without_extensions(memcpy(d, hello, hello_len), hello_len);
    int rc = len > 0 ? check_hello(cfg, d, len, &peer_a, reply, &rlen) : ANYDTLS_E_BAD_RECORD;
    if (rc == ANYDTLS_COOKIE_SEND_HVR) {
        len = hello_variant(d, hello[REC_HDR + HS_HDR + 34], reply + 28, ANYDTLS_COOKIE_LEN,
                            ANYDTLS_COOKIE_LEN);
        memcpy(d + REC_HDR + HS_HDR + 35, hello + REC_HDR + HS_HDR + 35,
               hello[REC_HDR + HS_HDR + 34]);
        len = without_extensions(d, len);
        put_be(d + 5, 1, 6);           /* a client's second ClientHello: record 1, */
        put_be(d + REC_HDR + 4, 1, 2); /* message_seq 1 */
        rc = anydtls_cookie_check(cfg, d, len, &peer_a, reply, sizeof reply, &rlen, &ps);
    }
    const char *answer = "nothing";
    int code = rc;
    bool fatal_alert = false;
    if (rc == ANYDTLS_COOKIE_VERIFIED) {
        anydtls_transport *t;
        anydtls_session *s;
        CHECK(anydtls_transport_new_memory(&t, 0));
        CHECK(anydtls_session_accept(&s, cfg, t, &ps));
        code = anydtls_handshake(s);
        if (!pending(code))
            tap_diag("%s: %s", what, anydtls_error_detail(s));
        int n = anydtls_memory_pop(t, out, sizeof out);
        answer = n < REC_HDR + 2 ? "nothing"
                 : out[0] == CT_HANDSHAKE && out[REC_HDR] == HT_SERVER_HELLO ? "a ServerHello"
                 : out[0] == CT_ALERT && out[REC_HDR] == 2 && out[REC_HDR + 1] == 40
                     ? "handshake_failure"
                     : "something else";
        /* What follows: a server that fails after its ServerHello must
         * say so (OpenSSL 3.0 picks ECDHE-PSK without a shared group, and
         * fails its ServerKeyExchange). */
        for (int m = n; m >= REC_HDR + 2; m = anydtls_memory_pop(t, out, sizeof out))
            for (size_t at = 0; at + REC_HDR + 2 <= (size_t)m;
                 at += REC_HDR + (size_t)get_be(out + at + 11, 2))
                fatal_alert |= out[at] == CT_ALERT && out[at + REC_HDR] == 2;
        anydtls_session_free(s);
        anydtls_transport_free(t);
    }
    table("ClientHello without extensions", "first message", what, answer);
    ok((strcmp(answer, "a ServerHello") == 0 && pending(code)) ||
           (strcmp(answer, "a ServerHello") == 0 && code == ANYDTLS_E_HANDSHAKE && fatal_alert) ||
           (strcmp(answer, "handshake_failure") == 0 && code == ANYDTLS_E_HANDSHAKE),
       "ClientHello without extensions, %s: a ServerHello, or handshake_failure and "
       "ANYDTLS_E_HANDSHAKE; a failure with a fatal alert (%s, %s%s)",
       what, answer, code_name(code), fatal_alert ? ", fatal alert" : "");
}

static void test_bare_hellos(void)
{
    bare_hello(scfg, "PSK server");
    anydtls_config *cert = server_cert_config("server.pem", "server.key");
    bare_hello(cert, "certificate server");
    anydtls_config_free(cert);
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

int main(void)
{
    bool replay = wanted("replay"), empty = wanted("empty"), hellos = wanted("ClientHello");
    bool issue12 = wanted("issue12");
    tap_plan(generic_tests() + (replay ? REPLAY_TESTS : 0) + (empty ? EMPTY_TESTS : 0) +
             (hellos ? HELLO_TESTS : 0) +
             (issue12 ? BIG_TESTS + REFLECT_TESTS + BARE_TESTS : 0));
    ccfg = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    scfg = server_psk_config();
    /* Empty datagrams need real sockets, and real sockets real time. */
    if (empty) {
        test_empty_handshake(BEFORE);
        test_empty_handshake(DURING);
        test_empty_after();
    }
    /* The rest runs over the memory link on the virtual clock: however
     * loaded the machine, no retransmission timer fires early. */
    vclock_start();
    measuring = heap_visible();
    /* The libraries fill global caches over the first handshakes (wolfSSL
     * keeps 1.6 MiB more after each of its first seven); measure after. */
    for (int i = 0; i < 8; i++) {
        struct outcome warm;
        run_case(NULL, AFTER, CLIENT, &warm);
    }
    test_generic();
    if (replay) {
        test_replay(SERVER);
        test_replay(CLIENT);
    }
    if (hellos) {
        capture_hello();
        test_hellos();
        test_foreign_cookies();
    }
    if (issue12) {
        test_big_datagrams(4000, "deep-client", 1400);
        test_big_datagrams(ANYDTLS_MTU_MAX, "wide-client", 14000);
        test_reflection();
        test_resend_rate();
        if (hello_len == 0)
            capture_hello();
        test_bare_hellos();
    }
    if (measuring)
        tap_diag("largest heap growth over a clean handshake: %lld bytes", worst_growth);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return tap_done();
}
