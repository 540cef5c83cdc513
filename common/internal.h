/*
 * Internal definitions shared by the common code and the backend drivers.
 * Never installed; never includes a TLS library header.
 */
#ifndef ANYDTLS_INTERNAL_H
#define ANYDTLS_INTERNAL_H

#include "config.h"

#include "anydtls/anydtls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANYDTLS_MAX_DATAGRAM 18432 /* 16384 plaintext + 2048 expansion */
#define ANYDTLS_MAX_PLAINTEXT 16384 /* of one record (RFC 6347 4.1) */
/* The secret a cookie is the HMAC-SHA256 under: one per cookie key and
 * time slot (common/cookie.c). */
#define ANYDTLS_COOKIE_SECRET_LEN 32

/* A byte string that is owned (heap) or borrowed. */
struct anydtls_bytes {
    uint8_t *data;
    size_t len;
};

/* A piece of input for hmac_sha256. */
struct anydtls_iov {
    const uint8_t *p;
    size_t n;
};

/* ---- transports ---- */
struct anydtls_transport_ops {
    int (*send)(anydtls_transport *t, const uint8_t *buf, size_t len);
    int (*recv)(anydtls_transport *t, uint8_t *buf, size_t cap);
    /* 1 when a datagram can be received within ms, 0 when none came;
     * transports that cannot tell answer 1 and let recv decide. */
    int (*ready)(anydtls_transport *t, unsigned ms);
    void (*destroy)(anydtls_transport *t);
};

struct anydtls_transport {
    const struct anydtls_transport_ops *ops;
    int last_errno;
};

/* Send / receive one datagram through a transport (never NULL here). */
int anydtls_transport_send(anydtls_transport *t, const uint8_t *buf, size_t len);
int anydtls_transport_recv(anydtls_transport *t, uint8_t *buf, size_t cap);
int anydtls_transport_ready(anydtls_transport *t, unsigned ms);

/* ---- cookie keys ---- */
struct anydtls_cookie_keys {
    size_t len;
    uint32_t generation; /* of the current key: rotations so far */
    bool have_previous;
    uint8_t current[ANYDTLS_COOKIE_KEY_MAX];
    uint8_t previous[ANYDTLS_COOKIE_KEY_MAX];
};

/* ---- config ---- */
struct anydtls_config {
    anydtls_role role;
    bool built;
    anydtls_verify verify;
    char *peer_name;
    /* What peer_name is, decided once when it is set, for every driver:
     * an IP address (checked as one, never sent as server_name), a host
     * name the server-side rule accepts as server_name (sent), or another
     * name (checked against the certificate, not sent: every flavour's
     * server would refuse it). */
    enum { ANYDTLS_PEER_IP, ANYDTLS_PEER_HOST, ANYDTLS_PEER_OTHER } peer_kind;
    char *cert_file, *key_file, *ca_file;
    struct anydtls_bytes cert_pem, key_pem, ca_pem;
    char *psk_identity; /* client identity or server hint */
    struct anydtls_bytes psk_key;
    anydtls_psk_lookup_fn psk_lookup;
    void *psk_user;
    uint32_t timeout_initial_ms, timeout_max_ms;
    unsigned mtu;
    bool resumption;
    struct anydtls_cookie_keys cookie;
    uint32_t cookie_lifetime_s; /* period of the cookie time slots */
    /* The group (IANA) of the own ECDSA key's curve, set by the driver
     * when it loads the key; 0: no ECDSA key, or not known. */
    uint16_t cert_group;
    void *native; /* backend context (SSL_CTX *, ...) */
    char error[256];
};

/* ---- session ---- */
struct anydtls_session {
    anydtls_config *cfg;
    anydtls_transport *transport;
    bool started;        /* the first handshake step was taken */
    bool established;
    bool failed;
    int fail_code;       /* the code that failed the session */
    unsigned mtu;
    int max_payload;     /* cached after the handshake and set_mtu; 0: unknown */
    int alert;           /* last alert received, -1 none */
    long native_error;   /* backend code of the last failure */
    char psk_identity[ANYDTLS_PSK_IDENTITY_MAX + 1];
    char detail[256];
    /* The verified ClientHello handed over by anydtls_session_accept;
     * the driver reads it before the transport. */
    uint8_t *first_dgram;
    size_t first_len;
    uint8_t cookie[ANYDTLS_COOKIE_LEN];
    bool from_cookie;
    /* The secret the prestate's cookie verified under (wolfSSL checks the
     * cookie again with it). */
    uint8_t cookie_secret[ANYDTLS_COOKIE_SECRET_LEN];
    uint32_t timer_ms;   /* current retransmission timeout, 0 when idle */
    uint64_t deadline;   /* common timer (drivers without their own): 0 none */
    uint64_t hs_end;     /* the handshake fails with a timeout then; 0: not started */
    bool peer_closed;    /* a read returned ANYDTLS_E_CLOSED: the peer's close_notify */
    bool shut_down;      /* anydtls_shutdown sent our close_notify */
    bool psk_used;       /* a PSK was handed to the backend */
    bool epoch1_seen;    /* the peer sent an encrypted handshake record (a Finished) */
    bool peer_sealed_again; /* and another one later: it retransmitted */
    uint64_t peer_sealed_seq; /* record sequence number of the first one */
    uint16_t peer_epoch; /* highest epoch the peer has sent in */
    int peer_msg_seq;    /* highest handshake message_seq seen in epoch 0 */
    uint64_t out_seq0;   /* next record sequence number of ours in epoch 0 */
    bool out_encrypted;  /* we have sent a record in epoch 1 or later */
    /* The record rule once established (common/io.c): the negotiated
     * record version and the least and most body of an encrypted record. */
    uint16_t record_version;
    uint8_t min_sealed;
    uint16_t max_sealed; /* the most an encrypted record's body may be */
    uint16_t peer_hello_version; /* version of the peer's ClientHello or ServerHello, 0: none */
    bool server_hello_seen; /* client: a ServerHello arrived (common/io.c) */
    /* Client: a plaintext fatal alert that came before any ServerHello
     * (common/io.c), -1 none; the front fails the handshake with its code. */
    int early_alert;
    /* The hand-over rule (common/policy.c, anydtls_hello_rule) for the
     * verified ClientHello: why it is refused (NULL: it is not), and the
     * key exchanges (1u << enum anydtls_kx) the driver must not choose. */
    const char *hello_refusal;
    unsigned kx_barred;
    void *native;        /* backend state (SSL *, ...) */
};

/* ---- the backend vtable ---- */
struct anydtls_backend {
    const char *name;
    unsigned caps;
    const char *(*version)(void);

    int (*config_build)(anydtls_config *cfg);
    void (*config_free)(anydtls_config *cfg);
    /* ps is NULL for a client or a server without cookie exchange. */
    int (*session_new)(anydtls_session *s, const anydtls_prestate *ps);
    void (*session_free)(anydtls_session *s);

    int (*handshake)(anydtls_session *s);
    int (*read)(anydtls_session *s, uint8_t *buf, size_t cap);
    int (*write)(anydtls_session *s, const uint8_t *buf, size_t len);
    int (*shutdown)(anydtls_session *s);
    int (*get_timeout)(anydtls_session *s, uint32_t *ms);
    int (*handle_timeout)(anydtls_session *s);
    int (*set_mtu)(anydtls_session *s, unsigned mtu); /* optional: CAP_MTU */
    int (*max_payload)(anydtls_session *s);
    int (*export_keying_material)(anydtls_session *s, uint8_t *out, size_t out_len,
                                  const char *label, const uint8_t *ctx,
                                  size_t ctx_len); /* optional: CAP_EXPORTER */
    const char *(*cipher)(const anydtls_session *s);
    const char *(*protocol)(const anydtls_session *s);
    int (*peer_cert_der)(anydtls_session *s, uint8_t *der, size_t cap);
    /* optional: CAP_RESUMPTION.  save returns the length of the state (it
     * may exceed cap: then nothing is written); resume is called before the
     * first handshake step; resumed after it completed. */
    int (*session_save)(anydtls_session *s, uint8_t *buf, size_t cap);
    int (*session_resume)(anydtls_session *s, const uint8_t *data, size_t len);
    bool (*resumed)(const anydtls_session *s);

    /* Crypto services for the common code.  hmac_sha256 must not allocate
     * and must be safe to call from many threads. */
    int (*random)(uint8_t *buf, size_t len);
    int (*hmac_sha256)(const uint8_t *key, size_t key_len, const struct anydtls_iov *iov,
                       size_t n_iov, uint8_t out[32]);
};

/* The one driver linked into this library flavour. */
extern const struct anydtls_backend anydtls_backend_driver;
/* Test hooks, the only exported symbols outside the public header, all
 * named anydtls_test_* (tests/exports.sh holds every library to that): the
 * driver; the check that every capability bit it claims comes with its
 * slots and every mandatory slot is there: 0, -1 for a missing mandatory
 * slot, or the capability bit whose slot is missing (common/front.c); and
 * anydtls_session_fail for tests/test_args.c (common/util.c). */
ANYDTLS_API const struct anydtls_backend *anydtls_test_driver(void);
ANYDTLS_API int anydtls_test_driver_check(const struct anydtls_backend *d);
ANYDTLS_API int anydtls_test_session_fail(anydtls_session *s, int code, long native,
                                          const char *msg);

/* ---- helpers (common/util.c) ---- */
/* Constant time: 1 when a and b are equal over n bytes, else 0. */
int anydtls_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* A value derived from secrets that may now be known (the outcome of a
 * constant-time comparison): under valgrind it stops counting as secret,
 * so the constant-time test flags only branches taken before this. */
void anydtls_declassify(const void *p, size_t n);
/* Wipe memory in a way the compiler keeps. */
void anydtls_wipe(void *p, size_t n);
/* Free after wiping (NULL accepted). */
void anydtls_bytes_clear(struct anydtls_bytes *b);
int anydtls_bytes_set(struct anydtls_bytes *b, const void *data, size_t len);
/* A server_name host_name as every flavour takes it (RFC 6066 3, RFC
 * 1123 2.1): 1..255 letters, digits, hyphens and dots. */
bool anydtls_sni_host_name(const uint8_t *name, size_t n);
int anydtls_strdup_into(char **dst, const char *src);
/* Record a failure on the session: keeps native code and message, returns
 * code.  Once the session failed, neither changes again: they describe the
 * code that failed it. */
int anydtls_session_fail(anydtls_session *s, int code, long native, const char *msg);
void anydtls_set_detail(char *dst, size_t cap, const char *msg);
/* A server's PSK identity as the library reports it once the handshake is
 * done: a resumed session never called the lookup that records it.  Kept
 * only when none was recorded and it is a proper string that fits. */
void anydtls_keep_psk_identity(anydtls_session *s, const char *identity, size_t len);

/* ---- a session's datagrams (common/io.c): what drivers call ---- */
int anydtls_session_send(anydtls_session *s, const uint8_t *buf, size_t len);
int anydtls_session_recv(anydtls_session *s, uint8_t *buf, size_t cap);
int anydtls_session_ready(anydtls_session *s, unsigned ms);
/* Whether a handshake is past its limit (anydtls_handshake_limit_ms). */
bool anydtls_handshake_overdue(const anydtls_session *s);
/* The handshake must end now, without the library: past its limit
 * (anydtls_handshake_overdue) or refused by an early alert. */
bool anydtls_handshake_halted(const anydtls_session *s);
/* The least expansion of any DTLS 1.2 cipher suite: a 16-byte tag or MAC. */
#define ANYDTLS_MIN_SEALED 16
/* Called once the handshake completed: from now on, records of another
 * version, and encrypted records shorter than the suite makes, are dropped
 * before the backend sees them. */
void anydtls_record_rule_established(anydtls_session *s, const char *suite, const char *protocol);

/* ---- cookie keys (common/cookie.c) ---- */
int anydtls_cookie_keys_init(struct anydtls_cookie_keys *k, size_t len);
/* The canonical, zero-initialised encoding of a peer that cookies bind:
 * family (4 or 6), 16 address bytes, port (big-endian). */
#define ANYDTLS_PEER_ENC_LEN 19
void anydtls_cookie_peer_bytes(const anydtls_addr *peer, uint8_t out[ANYDTLS_PEER_ENC_LEN]);
/* Check a prestate against cfg's keys as anydtls_cookie_check would now:
 * its hello is a well-formed ClientHello (else BAD_RECORD) carrying
 * ps->cookie at ps->record_seq / ps->message_seq, and that cookie verifies
 * for ps->peer under the key ps->key_generation names, in this time slot or
 * the one before (else INVALID_ARG).  OK with the secret that verified it. */
int anydtls_cookie_reverify(const anydtls_config *cfg, const anydtls_prestate *ps,
                            uint8_t secret[ANYDTLS_COOKIE_SECRET_LEN]);
void anydtls_cookie_keys_wipe(struct anydtls_cookie_keys *k);

/* ---- uniform error mapping (common/errors.c) ---- */
/* The code for a fatal alert the peer sent (ANYDTLS_E_ALERT if none fits). */
int anydtls_alert_code(int alert);
/* (the record inspection and plaintext alert below live in common/io.c) */
/* The fatal alert a driver sends when it fails a handshake with code
 * itself (-1: none), so that every backend tells its peer the same. */
int anydtls_code_alert(int code);
/* The fatal alert a driver sends (or has its library send) when it fails
 * a handshake with code: protocol_version when the peer's ClientHello
 * offered only DTLS 1.0, else anydtls_code_alert(code).  The one rule of
 * doc/architecture.md, "Alerts on handshake failures". */
int anydtls_failure_alert(const anydtls_session *s, int code);
/* Called for every datagram in or out during the handshake; returns true
 * when an incoming one carries progress (a new epoch or a handshake message
 * not seen before), false for retransmissions and anything else. */
bool anydtls_note_datagram(anydtls_session *s, const uint8_t *p, size_t n, bool incoming);
/* Send a fatal alert as a plaintext epoch-0 record, for drivers whose
 * library fails a handshake without telling the peer.  Only before any
 * record of ours was encrypted. */
void anydtls_send_plain_alert(anydtls_session *s, int alert);
/* The code for a handshake whose retransmission budget ran out: a PSK
 * handshake that reached the encrypted Finished but never completed means
 * the keys differ (DTLS drops records that fail authentication silently):
 * a client that sent its Finished under the PSK; a server whose peer sent
 * its Finished and retransmitted it (a live peer, not a replay of one
 * captured flight).  Otherwise TIMEOUT: an unverified peer went away. */
int anydtls_timeout_code(const anydtls_session *s);

/* ---- timers (common/timer.c) ---- */
/* The retransmission timeout that follows prev_ms (0: the first one), or 0
 * when the budget of cfg is exhausted. */
uint32_t anydtls_timer_next(const anydtls_config *cfg, uint32_t prev_ms);
/* A retransmission deadline kept by the common code, for backends whose
 * own timer cannot be asked reliably.  Arm: start it (if not running) with
 * the current timeout; it stops, and the budget restarts, when the peer
 * shows progress (common/io.c). */
void anydtls_timer_arm(anydtls_session *s);
/* The monotonic clock, in ms. */
uint64_t anydtls_now_ms(void);
/* How long a handshake may last from the first anydtls_handshake call,
 * however the peer sends: the peer's progress starts the retransmission
 * budget again, and headers alone (a rising message_seq or epoch) can
 * feign progress.  Twice the whole budget, at least 10 s (timers of a
 * few ms under valgrind). */
#define ANYDTLS_HANDSHAKE_LIMIT_FLOOR_MS 10000u
uint64_t anydtls_handshake_limit_ms(const anydtls_config *cfg);
void anydtls_timer_stop(anydtls_session *s);
/* 1 and *ms when running, else 0. */
int anydtls_timer_get(const anydtls_session *s, uint32_t *ms);
/* 0: not due; 1: due, the timeout doubled (retransmit now, then arm);
 * < 0: the budget is exhausted and the session failed with that code. */
int anydtls_timer_expire(anydtls_session *s);

/* ---- the cipher suite policy (common/policy.c) ---- */
enum anydtls_kx { ANYDTLS_KX_ECDHE_ECDSA, ANYDTLS_KX_ECDHE_RSA, ANYDTLS_KX_ECDHE_PSK, ANYDTLS_KX_PSK };
enum anydtls_bulk { ANYDTLS_BULK_AES_128_GCM, ANYDTLS_BULK_AES_256_GCM, ANYDTLS_BULK_CHACHA20_POLY1305 };
struct anydtls_suite {
    uint16_t code;    /* IANA code point */
    const char *iana; /* IANA name */
    enum anydtls_kx kx;
    enum anydtls_bulk bulk;
};
/* The suites of every flavour, in order of preference (a server picks the
 * first of them that the client offers). */
extern const struct anydtls_suite anydtls_suites[];
extern const size_t anydtls_n_suites;
#define ANYDTLS_USE_CERT 1u /* certificate suites (ECDHE_ECDSA, ECDHE_RSA) */
#define ANYDTLS_USE_PSK 2u  /* PSK suites (ECDHE_PSK, PSK) */
/* The key exchanges cfg has credentials for: a server its own certificate
 * or a PSK lookup; a client a PSK, or a certificate or CA (or nothing). */
unsigned anydtls_policy_creds(const anydtls_config *cfg);
bool anydtls_suite_usable(const struct anydtls_suite *su, unsigned creds);
/* Whether su's key exchange is among barred (1u << enum anydtls_kx). */
bool anydtls_suite_barred(const struct anydtls_suite *su, unsigned barred);
/* The suites creds allow and barred leaves, in the OpenSSL-style names
 * that OpenSSL and wolfSSL both take ("ECDHE-ECDSA-AES128-GCM-SHA256"),
 * ':'-separated in the policy's order, into list; false when it does not
 * fit in cap. */
bool anydtls_policy_cipher_names(unsigned creds, unsigned barred, char *list, size_t cap);
#define ANYDTLS_KX_ALL_ECDHE                                                                   \
    (1u << ANYDTLS_KX_ECDHE_ECDSA | 1u << ANYDTLS_KX_ECDHE_RSA | 1u << ANYDTLS_KX_ECDHE_PSK)
/* The groups of ECDHE, by IANA code point, in order of preference. */
struct anydtls_group {
    uint16_t code;
    const char *iana;
};
extern const struct anydtls_group anydtls_groups[];
extern const size_t anydtls_n_groups;
/* The group of a NIST curve by the byte length of its field (32, 48, 66),
 * for an ECDSA key; 0 for any other length. */
uint16_t anydtls_ecdsa_group(unsigned field_bytes);
/* The hand-over rule (doc/architecture.md 6.4): for a server of cfg and
 * the verified ClientHello dgram, why it is refused (NULL: it is not)
 * and the key exchanges the ClientHello's supported_groups rule out. */
const char *anydtls_hello_rule(const anydtls_config *cfg, const uint8_t *dgram, size_t len,
                               unsigned *barred);

#endif /* ANYDTLS_INTERNAL_H */
