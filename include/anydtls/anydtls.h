/*
 * anydtls: one DTLS API over interchangeable TLS libraries.
 *
 * An application written against this header builds and runs unchanged on
 * every backend flavour (libanydtls-openssl, libanydtls-gnutls,
 * libanydtls-wolfssl).  The TLS library is chosen when anydtls is configured.
 *
 * Conventions that hold for every function below:
 *  - Functions returning int return >= 0 on success (a byte count for
 *    anydtls_read/anydtls_write) and a negative ANYDTLS_E_* code on failure.
 *  - A call given a NULL pointer or an out-of-range value returns
 *    ANYDTLS_E_INVALID_ARG and changes nothing.
 *  - A call the linked backend cannot serve returns ANYDTLS_E_UNSUPPORTED;
 *    anydtls_backend_caps() tells in advance.
 *  - Free functions accept NULL.  Secrets are wiped before memory is freed.
 *  - Every struct the library fills is zero-initialised first.
 */
#ifndef ANYDTLS_ANYDTLS_H
#define ANYDTLS_ANYDTLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(ANYDTLS_BUILDING)
#define ANYDTLS_API __attribute__((visibility("default")))
#else
#define ANYDTLS_API
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

/* One enum, the same meaning on every backend. */
enum anydtls_error {
    ANYDTLS_OK = 0,
    ANYDTLS_E_WANT_READ = -1,      /* call again when a datagram arrives      */
    ANYDTLS_E_WANT_WRITE = -2,     /* call again when the transport can send  */
    ANYDTLS_E_TIMEOUT = -3,        /* retransmission budget exhausted         */
    ANYDTLS_E_CLOSED = -4,         /* peer sent close_notify                  */
    ANYDTLS_E_INVALID_ARG = -5,    /* NULL, out of range, or wrong role/state */
    ANYDTLS_E_NOMEM = -6,          /* an allocation failed                    */
    ANYDTLS_E_UNSUPPORTED = -7,    /* the backend lacks this capability       */
    ANYDTLS_E_IO = -8,             /* the transport failed (errno kept)       */
    ANYDTLS_E_HANDSHAKE = -9,      /* handshake failed, no more specific code */
    ANYDTLS_E_CERT_UNTRUSTED = -10,/* peer certificate not trusted            */
    ANYDTLS_E_CERT_EXPIRED = -11,  /* peer certificate expired / not yet valid*/
    ANYDTLS_E_NAME_MISMATCH = -12, /* peer certificate does not match name    */
    ANYDTLS_E_PSK_IDENTITY = -13,  /* PSK identity unknown to the server      */
    ANYDTLS_E_BAD_RECORD = -14,    /* malformed or unauthenticated datagram   */
    ANYDTLS_E_MSG_TOO_BIG = -15,   /* write larger than one datagram payload  */
    ANYDTLS_E_ALERT = -16,         /* peer sent a fatal alert (see _alert())  */
    ANYDTLS_E_BACKEND = -17,       /* unmapped backend failure (see detail)   */
    ANYDTLS_E_PSK_KEY = -18,       /* PSK keys differ (Finished not verified) */
    ANYDTLS_E_CREDENTIALS = -19    /* certificate, key or CA could not load   */
};

/* A fixed, static English string for an ANYDTLS_* code ("unknown error"
 * for anything else).  Never NULL. */
ANYDTLS_API const char *anydtls_strerror(int code);

/* ------------------------------------------------------------------ */
/* Library and backend identity                                         */
/* ------------------------------------------------------------------ */

/* Capability bits returned by anydtls_backend_caps(). */
#define ANYDTLS_CAP_CERT (1u << 0)       /* X.509 certificates               */
#define ANYDTLS_CAP_PSK (1u << 1)        /* pre-shared keys                  */
#define ANYDTLS_CAP_EXPORTER (1u << 2)   /* RFC 5705 keying-material export  */
#define ANYDTLS_CAP_MTU (1u << 3)        /* settable MTU                     */
#define ANYDTLS_CAP_SRTP (1u << 4)       /* DTLS-SRTP (use_srtp)             */
#define ANYDTLS_CAP_ALPN (1u << 5)       /* ALPN                             */
#define ANYDTLS_CAP_RESUMPTION (1u << 6) /* session resumption               */
#define ANYDTLS_CAP_COOKIE (1u << 7)     /* stateless cookie exchange        */

/* anydtls's own version, e.g. "0.1.0". */
ANYDTLS_API const char *anydtls_version(void);
/* The backend this library flavour drives: "openssl", "gnutls", "wolfssl". */
ANYDTLS_API const char *anydtls_backend_name(void);
/* The linked TLS library's own version string, e.g. "OpenSSL 3.0.19 ...". */
ANYDTLS_API const char *anydtls_backend_version(void);
/* ANYDTLS_CAP_* bits this backend serves. */
ANYDTLS_API unsigned anydtls_backend_caps(void);

/* ------------------------------------------------------------------ */
/* Peer addresses                                                       */
/* ------------------------------------------------------------------ */

/* An IPv4 or IPv6 peer.  family is AF_INET or AF_INET6; addr holds 4 or 16
 * bytes in network order (the rest zero); port is in host order. */
typedef struct anydtls_addr {
    uint16_t family;
    uint16_t port;
    uint32_t scope_id;
    uint8_t addr[16];
} anydtls_addr;

/* Fill *out from a sockaddr_in (len >= sizeof(struct sockaddr_in)) or
 * sockaddr_in6 (len >= sizeof(struct sockaddr_in6)).  Other families or a
 * short length: ANYDTLS_E_INVALID_ARG. */
ANYDTLS_API int anydtls_addr_from_sockaddr(anydtls_addr *out, const struct sockaddr *sa,
                                           socklen_t len);
/* Write *a as a sockaddr into *ss (zeroed first); *len receives its size. */
ANYDTLS_API int anydtls_addr_to_sockaddr(const anydtls_addr *a, struct sockaddr_storage *ss,
                                         socklen_t *len);
/* Parse a numeric IPv4 or IPv6 address (no name lookup). */
ANYDTLS_API int anydtls_addr_from_string(anydtls_addr *out, const char *numeric_host,
                                         uint16_t port);
/* "127.0.0.1:4433" or "[::1]:4433" into buf; returns the string length. */
ANYDTLS_API int anydtls_addr_format(const anydtls_addr *a, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Transports                                                           */
/* ------------------------------------------------------------------ */

typedef struct anydtls_transport anydtls_transport;

/* Send one datagram: return len, ANYDTLS_E_WANT_WRITE, or ANYDTLS_E_IO. */
typedef int (*anydtls_send_fn)(void *user, const uint8_t *buf, size_t len);
/* Receive one datagram into buf: return its length (truncated to cap),
 * ANYDTLS_E_WANT_READ when none is waiting, or ANYDTLS_E_IO. */
typedef int (*anydtls_recv_fn)(void *user, uint8_t *buf, size_t cap);

/* A transport from a callback pair; user is passed back unchanged. */
ANYDTLS_API int anydtls_transport_new_callbacks(anydtls_transport **out, anydtls_send_fn send,
                                                anydtls_recv_fn recv, void *user);
/* A connected UDP socket.  The socket stays the caller's: it is not closed
 * by anydtls_transport_free.  Make it non-blocking for non-blocking use. */
ANYDTLS_API int anydtls_transport_new_udp(anydtls_transport **out, int fd);
/* A memory transport (sans-I/O): the application pushes received datagrams
 * in and pops outgoing ones.  capacity is the bytes buffered per direction
 * (0 = 128 KiB, else at least 65537 so any datagram fits); it is allocated
 * once, here. */
ANYDTLS_API int anydtls_transport_new_memory(anydtls_transport **out, size_t capacity);
/* Two memory transports joined back to back: what a session on *a sends
 * arrives for the session on *b and the other way round, without copies
 * through the application (benchmarks, in-process pairs).  Push and pop
 * still work on each.  Freeing one leaves the other unjoined. */
ANYDTLS_API int anydtls_transport_new_memory_pair(anydtls_transport **a, anydtls_transport **b,
                                                  size_t capacity);
/* Memory transport: queue one received datagram (1..65535 bytes) for the
 * session to read.  ANYDTLS_E_WANT_WRITE when the queue is full. */
ANYDTLS_API int anydtls_memory_push(anydtls_transport *t, const uint8_t *dgram, size_t len);
/* Memory transport: take the oldest outgoing datagram.  Returns its length,
 * ANYDTLS_E_WANT_READ when none is queued, ANYDTLS_E_MSG_TOO_BIG (the
 * datagram stays queued) when cap is too small. */
ANYDTLS_API int anydtls_memory_pop(anydtls_transport *t, uint8_t *buf, size_t cap);
/* errno of the last ANYDTLS_E_IO from a UDP transport, else 0. */
ANYDTLS_API int anydtls_transport_errno(const anydtls_transport *t);
ANYDTLS_API void anydtls_transport_free(anydtls_transport *t);

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

typedef struct anydtls_config anydtls_config;

typedef enum anydtls_role { ANYDTLS_CLIENT = 0, ANYDTLS_SERVER = 1 } anydtls_role;

typedef enum anydtls_verify {
    ANYDTLS_VERIFY_PEER = 0, /* default: the peer must present a trusted cert */
    ANYDTLS_VERIFY_NONE = 1  /* accept any peer certificate (testing only)    */
} anydtls_verify;

/* Limits. */
#define ANYDTLS_COOKIE_KEY_MIN 16
#define ANYDTLS_COOKIE_KEY_MAX 64
#define ANYDTLS_COOKIE_KEY_DEFAULT 32
#define ANYDTLS_COOKIE_LIFETIME_MIN 1       /* seconds */
#define ANYDTLS_COOKIE_LIFETIME_MAX 3600
#define ANYDTLS_COOKIE_LIFETIME_DEFAULT 30
#define ANYDTLS_PEM_MAX (16u << 20) /* bytes of PEM in memory (16 MiB) */
#define ANYDTLS_MTU_MIN 256
#define ANYDTLS_MTU_MAX 18432
#define ANYDTLS_MTU_DEFAULT 1400
#define ANYDTLS_PSK_MAX 64          /* bytes of PSK key              */
#define ANYDTLS_PSK_IDENTITY_MAX 128 /* bytes of PSK identity / hint */

/* Server-side PSK lookup: copy the key for identity into key (at most
 * key_cap bytes) and return its length, or return < 0 for an unknown
 * identity (the handshake then fails with ANYDTLS_E_PSK_IDENTITY). */
typedef int (*anydtls_psk_lookup_fn)(void *user, const char *identity, uint8_t *key,
                                     size_t key_cap);

/* A new configuration for one role.  Setters may be called until the
 * configuration is built (explicitly by anydtls_config_build or by the first
 * session); afterwards they return ANYDTLS_E_INVALID_ARG.  A built
 * configuration is read-only and may be shared by sessions in many threads. */
ANYDTLS_API int anydtls_config_new(anydtls_config **out, anydtls_role role);
ANYDTLS_API void anydtls_config_free(anydtls_config *cfg);

/* Own certificate chain and private key as PEM files. */
ANYDTLS_API int anydtls_config_set_cert_file(anydtls_config *cfg, const char *chain_path,
                                             const char *key_path);
/* Own certificate chain and private key as PEM in memory (copied), each
 * 1..ANYDTLS_PEM_MAX bytes. */
ANYDTLS_API int anydtls_config_set_cert_mem(anydtls_config *cfg, const char *chain_pem,
                                            size_t chain_len, const char *key_pem,
                                            size_t key_len);
/* Trusted CA certificates as a PEM file or PEM in memory (copied,
 * 1..ANYDTLS_PEM_MAX bytes). */
ANYDTLS_API int anydtls_config_set_ca_file(anydtls_config *cfg, const char *path);
ANYDTLS_API int anydtls_config_set_ca_mem(anydtls_config *cfg, const char *pem, size_t len);
/* Verification mode (clients verify by default; a server asks for a client
 * certificate only when a CA is set and the mode is ANYDTLS_VERIFY_PEER). */
ANYDTLS_API int anydtls_config_set_verify(anydtls_config *cfg, anydtls_verify mode);
/* Client: the DNS name (or IP address) the server certificate must match. */
ANYDTLS_API int anydtls_config_set_peer_name(anydtls_config *cfg, const char *name);
/* Client: PSK identity (1..ANYDTLS_PSK_IDENTITY_MAX bytes) and key
 * (1..ANYDTLS_PSK_MAX bytes), both copied. */
ANYDTLS_API int anydtls_config_set_psk(anydtls_config *cfg, const char *identity,
                                       const uint8_t *key, size_t key_len);
/* Server: PSK identity hint (may be NULL for none) and the lookup callback. */
ANYDTLS_API int anydtls_config_set_psk_server(anydtls_config *cfg, const char *hint,
                                              anydtls_psk_lookup_fn lookup, void *user);
/* Retransmission: the first timeout is initial_ms, doubled on every
 * retransmission; when the next timeout would exceed max_ms the handshake
 * gives up with ANYDTLS_E_TIMEOUT.  10 <= initial_ms <= max_ms <= 600000.
 * Default 1000 / 60000. */
ANYDTLS_API int anydtls_config_set_timeouts(anydtls_config *cfg, uint32_t initial_ms,
                                            uint32_t max_ms);
/* Largest datagram the sessions send (UDP payload bytes), default
 * ANYDTLS_MTU_DEFAULT, range ANYDTLS_MTU_MIN..ANYDTLS_MTU_MAX.  A client
 * facing the cookie exchange needs its ClientHello with the cookie in one
 * datagram (about 300 bytes): a fragmented one is not reassembled. */
ANYDTLS_API int anydtls_config_set_mtu(anydtls_config *cfg, unsigned mtu);
/* Server: cookie key length in bytes, 16..64 (default 32). */
ANYDTLS_API int anydtls_config_set_cookie_key_length(anydtls_config *cfg, size_t len);
/* Server: the period of cookie rotation in seconds,
 * ANYDTLS_COOKIE_LIFETIME_MIN..ANYDTLS_COOKIE_LIFETIME_MAX (default
 * ANYDTLS_COOKIE_LIFETIME_DEFAULT).  A cookie verifies in the period it was
 * issued in and the next one: for at least one period, at most two. */
ANYDTLS_API int anydtls_config_set_cookie_lifetime(anydtls_config *cfg, unsigned seconds);
/* Session resumption (ANYDTLS_CAP_RESUMPTION), off by default; both sides
 * opt in.  A server then issues session tickets (RFC 5077) sealed under a
 * random key of this configuration, keeping no state per client; a client
 * asks for one.  enable is 0 or 1 (else ANYDTLS_E_INVALID_ARG).  0, or
 * ANYDTLS_E_UNSUPPORTED. */
ANYDTLS_API int anydtls_config_set_resumption(anydtls_config *cfg, int enable);
/* Create the backend context now: load and check credentials, generate the
 * cookie key.  On failure the message is in anydtls_config_error(). */
ANYDTLS_API int anydtls_config_build(anydtls_config *cfg);
/* The backend's message for the last failed build, or "". */
ANYDTLS_API const char *anydtls_config_error(const anydtls_config *cfg);

/* ------------------------------------------------------------------ */
/* Stateless cookie exchange (server)                                   */
/* ------------------------------------------------------------------ */

/* Largest HelloVerifyRequest datagram anydtls_cookie_check writes. */
#define ANYDTLS_HVR_MAX 64
#define ANYDTLS_COOKIE_LEN 32

/* What a verified ClientHello hands to anydtls_session_accept.  hello points
 * into the caller's datagram, which must stay valid until accept returns. */
typedef struct anydtls_prestate {
    const uint8_t *hello;   /* the datagram carrying the ClientHello       */
    size_t hello_len;
    anydtls_addr peer;      /* the address the cookie was bound to         */
    uint64_t record_seq;    /* the ClientHello's record sequence number    */
    uint16_t message_seq;   /* the ClientHello's handshake message_seq     */
    uint8_t key_index;      /* 0: current cookie key, 1: previous key      */
    uint32_t key_generation; /* which key that was (rotations so far)      */
    uint8_t cookie[ANYDTLS_COOKIE_LEN];
} anydtls_prestate;

/* Results of anydtls_cookie_check (>= 0). */
#define ANYDTLS_COOKIE_VERIFIED 0 /* create the session with *prestate  */
#define ANYDTLS_COOKIE_SEND_HVR 1 /* send reply[0..*reply_len] to peer   */

/* Check one received datagram from peer against the server configuration's
 * cookie keys.  Keeps no state and allocates nothing.  Returns
 * ANYDTLS_COOKIE_VERIFIED (fills *prestate), ANYDTLS_COOKIE_SEND_HVR (writes
 * a HelloVerifyRequest of *reply_len bytes; reply_cap must be at least
 * ANYDTLS_HVR_MAX) or ANYDTLS_E_BAD_RECORD when the datagram is not a
 * well-formed DTLS 1.x ClientHello (drop it).  The configuration is built
 * first if it was not. */
ANYDTLS_API int anydtls_cookie_check(anydtls_config *cfg, const uint8_t *dgram, size_t len,
                                     const anydtls_addr *peer, uint8_t *reply, size_t reply_cap,
                                     size_t *reply_len, anydtls_prestate *prestate);
/* Replace the cookie key with a fresh random one; cookies of the previous
 * key keep verifying until the next rotation (within their lifetime, see
 * anydtls_config_set_cookie_lifetime).  Not needed for expiry: cookies
 * expire on their own.  Not safe concurrently with checks. */
ANYDTLS_API int anydtls_cookie_rotate(anydtls_config *cfg);

/* ------------------------------------------------------------------ */
/* Sessions                                                             */
/* ------------------------------------------------------------------ */

typedef struct anydtls_session anydtls_session;

/* A new session over transport t (not owned; it must outlive the session).
 * Clients start their handshake with the first anydtls_handshake; a server
 * created here accepts without a cookie exchange. */
ANYDTLS_API int anydtls_session_new(anydtls_session **out, anydtls_config *cfg,
                                    anydtls_transport *t);
/* Server: a session for a ClientHello that anydtls_cookie_check verified.
 * The ClientHello is consumed from *ps; no datagram is read for it. */
ANYDTLS_API int anydtls_session_accept(anydtls_session **out, anydtls_config *cfg,
                                       anydtls_transport *t, const anydtls_prestate *ps);
ANYDTLS_API void anydtls_session_free(anydtls_session *s);

/* Drive the handshake: 0 when established, ANYDTLS_E_WANT_READ /
 * ANYDTLS_E_WANT_WRITE to call again later, else a failure code. */
ANYDTLS_API int anydtls_handshake(anydtls_session *s);
/* Read one record of application data: its length, ANYDTLS_E_WANT_READ,
 * ANYDTLS_E_CLOSED after close_notify, or a failure.  A datagram that is
 * garbage or fails authentication is dropped and the session stays usable. */
ANYDTLS_API int anydtls_read(anydtls_session *s, uint8_t *buf, size_t cap);
/* Send buf as one record: len, ANYDTLS_E_MSG_TOO_BIG when len exceeds
 * anydtls_max_payload(), ANYDTLS_E_WANT_WRITE, or a failure. */
ANYDTLS_API int anydtls_write(anydtls_session *s, const uint8_t *buf, size_t len);
/* Largest state anydtls_session_save writes. */
#define ANYDTLS_SESSION_DATA_MAX 8192
/* Client with resumption enabled, established: write what a later session
 * needs to resume this one (the ticket and the master secret: keep it as
 * secret as a key) to buf.  Its length; ANYDTLS_E_MSG_TOO_BIG when cap is
 * too small; ANYDTLS_E_INVALID_ARG for a server, before the handshake or
 * when resumption is off; ANYDTLS_E_UNSUPPORTED without the capability. */
ANYDTLS_API int anydtls_session_save(anydtls_session *s, uint8_t *buf, size_t cap);
/* Client with resumption enabled, before its first anydtls_handshake: offer
 * to resume the session saved in data.  A server that declines (or lost
 * its ticket key) runs a full handshake instead.  0; ANYDTLS_E_INVALID_ARG
 * when data does not parse or the state is wrong. */
ANYDTLS_API int anydtls_session_resume(anydtls_session *s, const uint8_t *data, size_t len);
/* 1 when the established session was resumed, 0 when it ran a full
 * handshake (or is not established). */
ANYDTLS_API int anydtls_session_resumed(const anydtls_session *s);
/* Send close_notify: 0, ANYDTLS_E_WANT_WRITE, or a failure. */
ANYDTLS_API int anydtls_shutdown(anydtls_session *s);
/* Milliseconds until anydtls_handle_timeout is due: returns 1 and sets *ms
 * when a retransmission timer runs, 0 when none runs. */
ANYDTLS_API int anydtls_get_timeout(anydtls_session *s, uint32_t *ms);
/* Retransmit if the timer expired: 0, or ANYDTLS_E_TIMEOUT when the
 * retransmission budget is exhausted (the session is then failed). */
ANYDTLS_API int anydtls_handle_timeout(anydtls_session *s);
/* Change the datagram size of this session (see anydtls_config_set_mtu). */
ANYDTLS_API int anydtls_set_mtu(anydtls_session *s, unsigned mtu);
/* Largest application payload one anydtls_write can carry (> 0), after the
 * handshake. */
ANYDTLS_API int anydtls_max_payload(anydtls_session *s);
/* RFC 5705 keying-material exporter; context may be NULL (no context).  The
 * labels TLS uses itself ("client finished", "master secret", ...) are
 * ANYDTLS_E_INVALID_ARG. */
ANYDTLS_API int anydtls_export_keying_material(anydtls_session *s, uint8_t *out, size_t out_len,
                                               const char *label, const uint8_t *context,
                                               size_t context_len);
/* Established session: cipher suite name (IANA style where the backend
 * gives it) and protocol ("DTLSv1.2"), or NULL before the handshake. */
ANYDTLS_API const char *anydtls_cipher(const anydtls_session *s);
ANYDTLS_API const char *anydtls_protocol(const anydtls_session *s);
/* Server: the PSK identity the client used, or NULL. */
ANYDTLS_API const char *anydtls_psk_identity(const anydtls_session *s);
/* Peer's leaf certificate as DER: its length, written to der if it fits
 * (ANYDTLS_E_MSG_TOO_BIG when cap is too small); 0 when there is none. */
ANYDTLS_API int anydtls_peer_cert_der(anydtls_session *s, uint8_t *der, size_t cap);
/* After ANYDTLS_E_ALERT (or any alert seen): the last alert description
 * received, or -1. */
ANYDTLS_API int anydtls_alert(const anydtls_session *s);
/* The backend's own detail of the last failure on this session, for logs:
 * its message ("" when none) and its native code (0 when none). */
ANYDTLS_API const char *anydtls_error_detail(const anydtls_session *s);
ANYDTLS_API long anydtls_error_native(const anydtls_session *s);

#ifdef __cplusplus
}
#endif
#endif /* ANYDTLS_ANYDTLS_H */
