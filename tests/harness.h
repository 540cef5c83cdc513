/* Shared test helpers: PKI paths, configurations, and a handshake driver
 * that shuttles datagrams between two memory transports (optionally through
 * the stateless cookie exchange, optionally dropping datagrams). */
#ifndef ANYDTLS_HARNESS_H
#define ANYDTLS_HARNESS_H

#include "tap.h"
#include "vclock.h"

#include <anydtls/anydtls.h>
#include <stdbool.h>

/* What a call gated by capability cap must return on this backend:
 * want when the backend has cap, else ANYDTLS_E_UNSUPPORTED. */
int with_cap(unsigned cap, int want);
/* Why this backend lacks cap: the build option or library feature, for a
 * TAP skip. */
const char *missing_cap(unsigned cap);
#define HAS_CAP(cap) ((anydtls_backend_caps() & (cap)) != 0)

/* Monotonic milliseconds (virtual once vclock_start() was called). */
double now_ms(void);
/* "ANYDTLS_E_CERT_UNTRUSTED" and the like, for tables and logs. */
const char *code_name(int code);

/* $ANYDTLS_PKI/name, in a static buffer (one of four rotating). */
const char *pki(const char *name);
/* Read a whole file into a malloc'd buffer (NUL-terminated). */
char *slurp(const char *path, size_t *len);

#define TEST_PSK_IDENTITY "client1"
extern const uint8_t test_psk_key[16];

/* A fatal test-setup error: prints a diagnostic and exits with failure. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        int rc_ = (call);                                                            \
        if (rc_ < 0) {                                                               \
            tap_diag("setup failed: %s = %d (%s)", #call, rc_, anydtls_strerror(rc_)); \
            _exit(1);                                                                \
        }                                                                            \
    } while (0)

/* Configurations: certificate server (cert/key names in the PKI), client
 * trusting ca.pem and expecting name; PSK client and server. */
anydtls_config *server_cert_config(const char *cert, const char *key);
anydtls_config *client_cert_config(const char *ca, const char *name);
anydtls_config *server_psk_config(void);
anydtls_config *client_psk_config(const char *identity, const uint8_t *key, size_t len);
/* Short retransmission timers for tests: 20 ms initial, 640 ms max. */
void fast_timers(anydtls_config *cfg);

/* Decides the fate of the n-th datagram travelling in direction dir
 * (0: client to server, 1: server to client); it may rewrite the datagram
 * in place (same length). */
enum fate {
    DROP = 0,
    DELIVER = 1,
    DUPLICATE = 2,
    HOLD = 3,        /* after the next one */
    PREPEND_CUT = 4, /* its first half (at least one byte) first, then it whole */
    LATE = 5,        /* callbacks link: it lands the moment its receiver next
                      * finds nothing to read, so that a read finds nothing
                      * and the very next one finds it; other links, or
                      * with delays: delivered */
};
typedef enum fate (*link_filter)(void *user, int dir, int n, uint8_t *d, size_t len);
/* How long a datagram delivered in direction dir spends in the air (ms);
 * datagrams with different delays overtake one another. */
typedef uint32_t (*link_delay)(void *user, int dir);

/* The kind of transport link_init gives the sessions (default memory):
 * the memory pair, a callbacks transport over the link's own queues, or
 * connected UDP sockets on 127.0.0.1 through a relay pair.  The link
 * filters and delays datagrams the same way over each. */
enum link_kind { LINK_MEMORY = 0, LINK_CALLBACKS = 1, LINK_UDP = 2 };
extern enum link_kind link_kind;
extern const char *const link_kind_name[3];
struct link_end; /* one side's queues or sockets (harness.c) */

/* A datagram in the air: delivered when the clock reaches due. */
struct airborne {
    double due;
    int dir;
    size_t len;
    uint8_t *d;
};

struct link {
    anydtls_config *ccfg, *scfg;
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
    bool cookie;     /* server runs the stateless cookie exchange */
    link_filter filter;
    link_delay delay; /* NULL: datagrams arrive at once */
    void *filter_user; /* for filter and delay */
    struct airborne *air;
    size_t air_n, air_cap;
    double deadline_ms; /* handshake gives up after this long (0: 20 s,
                         * or 10 minutes on the virtual clock) */
    /* Called once, when the server's handshake completes. */
    void (*on_server_established)(struct link *l);
    bool server_hooked;
    int count[2];    /* datagrams seen per direction */
    uint8_t held[2][4096]; /* a datagram held back, per direction */
    size_t held_len[2];
    int hvr_sent;    /* HelloVerifyRequests the server answered with */
    int crc, src;    /* last handshake results */
    enum link_kind kind;     /* of ct and st */
    struct link_end *end[2]; /* callbacks and UDP: client's, server's */
};

/* Create transports and the client session (and the server session unless
 * cookie is set: then it is created when a cookie verifies). */
void link_init(struct link *l, anydtls_config *ccfg, anydtls_config *scfg, bool cookie);
/* Drive both handshakes until both finish or fail (or 20 s pass).  Returns
 * true when both are established; crc/src hold the final codes. */
bool link_handshake(struct link *l);
/* How many LATE datagrams have landed at side (0 client, 1 server) after
 * a read found nothing. */
int link_late_landed(const struct link *l, int side);
/* Move queued datagrams both ways, and those in the air whose time has
 * come; returns how many moved. */
int link_pump(struct link *l);
/* Let time pass until the next datagram in the air lands; false when
 * none is in the air. */
bool link_advance(struct link *l);
/* Send msg from one side and read it on the other: true when it arrived intact. */
bool link_transfer(struct link *l, bool client_to_server, const char *msg);
void link_free(struct link *l);

#include <unistd.h>
#endif
