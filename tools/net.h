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
 * (resolved, first address of the family that works). */
int net_connect(const char *host, unsigned port, anydtls_addr *peer);
/* Wait up to max_ms (-1: no limit) for fd, or less when s has a
 * retransmission timer; serve the timer when it is due.  Returns < 0 only
 * when the timer gave up (ANYDTLS_E_TIMEOUT and the like). */
int net_wait(anydtls_session *s, int fd, int max_ms);
/* Drive the handshake to its end over fd. */
int net_handshake(anydtls_session *s, int fd);
/* Server: run the stateless cookie exchange on the unconnected socket fd
 * until one ClientHello verifies (or max_ms pass, -1: forever); then
 * connect fd to that peer and create its session over *t. */
int net_accept(anydtls_config *cfg, int fd, int max_ms, anydtls_transport **t,
               anydtls_session **out, anydtls_addr *peer);
/* Milliseconds of the monotonic clock. */
double net_now_ms(void);

#endif
