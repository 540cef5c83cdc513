/* Socket helpers shared by the anydtls program's commands. */
#ifndef ANYDTLS_TOOLS_NET_H
#define ANYDTLS_TOOLS_NET_H

#include <anydtls/anydtls.h>

#include <stdbool.h>
#include <stddef.h>

/* A non-blocking UDP socket bound to numeric host:port (0: any port);
 * *bound receives the address it got.  -1 on failure (errno set). */
int net_bind(const char *host, unsigned port, anydtls_addr *bound);
/* A non-blocking UDP socket connected to host:port; host may be a name
 * (resolved, first address of the family that works).  -1 on failure,
 * with *why saying why (cannot resolve, cannot connect). */
int net_connect(const char *host, unsigned port, anydtls_addr *peer, const char **why);
/* Wait up to max_ms (-1: no limit) for fd, or less when s has a
 * retransmission timer; serve the timer when it is due.  Returns < 0 only
 * when the timer gave up (ANYDTLS_E_TIMEOUT and the like). */
int net_wait(anydtls_session *s, int fd, int max_ms);
/* Drive the handshake to its end over fd. */
int net_handshake(anydtls_session *s, int fd);
/* A verified ClientHello: its peer, cookie and client random. */
struct net_hello {
    anydtls_addr peer;
    uint8_t cookie[ANYDTLS_COOKIE_LEN];
    uint8_t random[32];
};
/* Server: run the stateless cookie exchange on the unconnected socket fd
 * until one ClientHello verifies (or max_ms pass, -1: forever); then
 * connect fd to that peer and create its session over *t.  *id tells
 * which ClientHello it was.  A ClientHello given to net_hello_failed
 * (its session failed) is dropped for two minutes: the peer's
 * retransmissions of it create no new session. */
int net_accept(anydtls_config *cfg, int fd, int max_ms, anydtls_transport **t,
               anydtls_session **out, struct net_hello *id);
void net_hello_failed(const struct net_hello *id);
bool net_hello_known_failed(const struct net_hello *id);
/* Milliseconds of the monotonic clock. */
double net_now_ms(void);

#endif
