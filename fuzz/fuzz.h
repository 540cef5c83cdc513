/*
 * Shared pieces of the libFuzzer harnesses and the seed generator: the input
 * format, the configurations, the stateless cookie exchange done the way a
 * server does it, and an in-memory client/server pair.
 *
 * Input format of every harness: one flags byte (FUZZ_* below), then
 * datagrams, each a 2-byte big-endian length and that many bytes (the last
 * one takes what is left when the input is shorter).  fuzz_cookie reads a
 * single datagram: everything after the flags byte.
 */
#ifndef ANYDTLS_FUZZ_H
#define ANYDTLS_FUZZ_H

#include <anydtls/anydtls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_PSK 0x01         /* PSK credentials, else certificates        */
#define FUZZ_COOKIE 0x02      /* the server runs the stateless exchange    */
#define FUZZ_MUTUAL 0x04      /* certificates both ways                    */
#define FUZZ_CLIENT_SIDE 0x08 /* fuzz_established: inject into the client  */
#define FUZZ_ROTATE 0x10      /* fuzz_cookie: rotate keys between checks   */
#define FUZZ_IPV6 0x20        /* the peer address is IPv6                  */
#define FUZZ_ACCEPT 0x40      /* fuzz_cookie: accept the verified hello    */

#define FUZZ_MAX_DGRAM 65535

/* A harness's setup broke (not the input): report it as a crash. */
#define FUZZ_FAIL(...) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The rest of an input. */
struct fuzz_input {
    const uint8_t *p;
    size_t left;
};

/* The next datagram of in (1..FUZZ_MAX_DGRAM bytes; empty ones are
 * skipped); false at the end. */
bool fuzz_next_dgram(struct fuzz_input *in, const uint8_t **d, size_t *len);

/* Find the PKI ($ANYDTLS_PKI, else pki/ beside the program named argv0)
 * and build the configurations once.  Without a PKI the certificate
 * configurations are PSK ones, so a harness always starts. */
void fuzz_setup(const char *argv0);
/* The shared, built configuration for flags (FUZZ_PSK, FUZZ_MUTUAL). */
anydtls_config *fuzz_config(anydtls_role role, unsigned flags);
/* A fresh, unbuilt configuration (the caller frees it). */
anydtls_config *fuzz_config_new(anydtls_role role, unsigned flags, unsigned mtu);
/* The peer address a server sees (FUZZ_IPV6). */
const anydtls_addr *fuzz_peer(unsigned flags);

/* Pop and discard every datagram a session queued on t. */
void fuzz_drain(anydtls_transport *t);
/* Drive s once the way an application does: the handshake until it is
 * established, then reads; returns the last result. */
int fuzz_drive(anydtls_session *s);
/* Ask an established session everything it can tell (peer info, exporter,
 * payload size) and close it. */
void fuzz_probe(anydtls_session *s);

/* Copy of the ClientHello d with its cookie replaced by the 32-byte cookie
 * (d must have parsed as a ClientHello); its length, or 0 when it does not
 * fit out. */
size_t fuzz_splice_cookie(const uint8_t *d, size_t len, const uint8_t *cookie, uint8_t *out,
                          size_t cap);
/* The server side of the stateless exchange for one datagram, done the way
 * a peer that answers the HelloVerifyRequest would: a datagram that gets
 * one is checked again with the cookie spliced in (into buf, which must
 * stay valid until the session is accepted).  Returns the
 * anydtls_cookie_check result of the last check. */
int fuzz_cookie_exchange(anydtls_config *cfg, const uint8_t *d, size_t len,
                         const anydtls_addr *peer, uint8_t *buf, size_t cap, anydtls_prestate *ps);

/* Sees every datagram a pair moves: dir 0 client to server, 1 back. */
typedef void (*fuzz_tap_fn)(void *user, int dir, const uint8_t *d, size_t len);

/* A client and a server over two memory transports, moved by the
 * application (fuzz_pair_pump), as a real network would. */
struct fuzz_pair {
    anydtls_config *ccfg, *scfg;
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
    unsigned flags;
    int crc, src;
    fuzz_tap_fn tap;
    void *tap_user;
};

/* Transports and sessions (the server's only now unless FUZZ_COOKIE). */
int fuzz_pair_open(struct fuzz_pair *p, anydtls_config *ccfg, anydtls_config *scfg, unsigned flags,
                   fuzz_tap_fn tap, void *tap_user);
/* Move queued datagrams both ways; returns how many moved. */
int fuzz_pair_pump(struct fuzz_pair *p);
/* Run both handshakes to the end without waiting: true when both are
 * established. */
bool fuzz_pair_handshake(struct fuzz_pair *p);
/* Write msg on one side and read it on the other; true when it arrived. */
bool fuzz_pair_transfer(struct fuzz_pair *p, bool client_to_server, const char *msg);
void fuzz_pair_close(struct fuzz_pair *p);

#endif
