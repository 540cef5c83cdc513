/*
 * One reader for the DTLS wire format that common code and drivers share
 * (never installed; no TLS library header): the first record of a
 * datagram, its handshake header, a ClientHello's fields and an iterator
 * over its extensions.  Cursors into the caller's bytes; nothing
 * allocates.  doc/architecture.md, section 5 "Parsing".
 */
#ifndef ANYDTLS_WIRE_H
#define ANYDTLS_WIRE_H

#include "internal.h"

#define ANYDTLS_REC_HDR 13
#define ANYDTLS_HS_HDR 12
#define ANYDTLS_EXT_RENEGOTIATION_INFO 0xff01u
#define ANYDTLS_EXT_SUPPORTED_GROUPS 0x000au
#define ANYDTLS_EXT_SERVER_NAME 0x0000u
#define ANYDTLS_EXT_EC_POINT_FORMATS 0x000bu
#define ANYDTLS_EXT_SIGNATURE_ALGORITHMS 0x000du
#define ANYDTLS_EXT_MAX_FRAGMENT_LENGTH 0x0001u
#define ANYDTLS_EXT_ALPN 0x0010u
#define ANYDTLS_SCSV_EMPTY_RENEGOTIATION_INFO 0x00ffu

/* A cursor over bytes. */
struct anydtls_reader {
    const uint8_t *p;
    size_t left;
};

int anydtls_take(struct anydtls_reader *r, size_t n, const uint8_t **out);
int anydtls_take_uint(struct anydtls_reader *r, size_t n, uint64_t *v);
/* A vector with an n_len-byte length prefix, its length within [min, max]. */
int anydtls_take_vector(struct anydtls_reader *r, size_t n_len, size_t min, size_t max,
                        struct anydtls_iov *out);

/* A whole, unfragmented DTLS ClientHello in the first record of a
 * datagram (the form the cookie check accepts). */
struct anydtls_hello {
    uint64_t record_seq;
    uint16_t message_seq;
    const uint8_t *version; /* 2 bytes */
    const uint8_t *random;  /* 32 bytes */
    struct anydtls_iov session_id, cookie, suites, compression;
    bool has_extensions;           /* the extensions length is there */
    bool extensions_bad;           /* and it is not the rest of the message */
    struct anydtls_iov extensions; /* the rest of the message after it */
};

/* 0 and *h filled when dgram starts with such a ClientHello: epoch 0,
 * version major 0xFE, at most 2^14 bytes of record, vectors in range; -1
 * otherwise.  A single byte where the extensions length would start is
 * malformed; the extensions block itself is not checked here. */
int anydtls_wire_hello(const uint8_t *dgram, size_t len, struct anydtls_hello *h);
/* The same from a handshake message at p (its 12-byte header), n bytes
 * of record left: record_seq is 0. */
int anydtls_wire_hello_msg(const uint8_t *p, size_t n, struct anydtls_hello *h);

/* The extensions of a ClientHello (or of any hello: start it on the block
 * without its 2-byte length). */
struct anydtls_ext_iter {
    struct anydtls_reader r;
    bool bad; /* an extension ran past the end of the block */
};

void anydtls_ext_begin(struct anydtls_ext_iter *it, struct anydtls_iov block);
/* true with the next extension's type and body; false at the end of the
 * block, or with it->bad set when the rest does not parse. */
bool anydtls_ext_next(struct anydtls_ext_iter *it, uint16_t *type, struct anydtls_iov *body);
/* The body of extension type in block, or false. */
bool anydtls_ext_find(struct anydtls_iov block, uint16_t type, struct anydtls_iov *body);
/* Whether the cipher_suites vector of h lists code. */
bool anydtls_hello_offers_suite(const struct anydtls_hello *h, uint16_t code);

#endif /* ANYDTLS_WIRE_H */
