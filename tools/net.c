#define _POSIX_C_SOURCE 200809L
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Socket buffers asked for: DTLS application data lost to a full receive
 * buffer is not retransmitted.  The kernel caps the request at
 * net.core.rmem_max / wmem_max; a refusal is not an error. */
#define SOCKET_BUFFER (4 << 20)

static int nonblocking_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    int size = SOCKET_BUFFER;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    return fd;
}

static int bind_socket(const char *host, unsigned port, anydtls_addr *bound)
{
    anydtls_addr a;
    struct sockaddr_storage ss;
    socklen_t len;
    if (port > 65535 || anydtls_addr_from_string(&a, host, (uint16_t)port) != ANYDTLS_OK ||
        anydtls_addr_to_sockaddr(&a, &ss, &len) != ANYDTLS_OK) {
        errno = EINVAL;
        return -1;
    }
    int fd = nonblocking_socket(a.family);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        goto fail;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        anydtls_addr_from_sockaddr(bound, (struct sockaddr *)&ss, len) != ANYDTLS_OK)
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Port 0: the kernel picks one, but Linux gives a port it picked back when
 * the socket is disconnected (AF_UNSPEC), as the server does after each
 * peer.  So the picked port is bound again explicitly, which pins it; if
 * another program took it in between, another port is picked.  No
 * SO_REUSEADDR: with it on both sockets, Linux may give two servers
 * asking for port 0 the same port, and one of them never hears a peer. */
int net_bind(const char *host, unsigned port, anydtls_addr *bound)
{
    int fd = bind_socket(host, port, bound);
    for (int tries = 0; fd >= 0 && port == 0 && tries < 16; tries++) {
        close(fd);
        fd = bind_socket(host, bound->port, bound);
        if (fd >= 0 || errno != EADDRINUSE)
            return fd;
        fd = bind_socket(host, 0, bound);
    }
    return fd;
}

int net_connect(const char *host, unsigned port, anydtls_addr *peer, const char **why)
{
    char service[8];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    snprintf(service, sizeof service, "%u", port);
    int gai = port == 0 || port > 65535 ? EAI_SERVICE : getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        *why = gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai);
        errno = EINVAL;
        return -1;
    }
    int fd = -1;
    *why = "no address";
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = nonblocking_socket(ai->ai_family);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            anydtls_addr_from_sockaddr(peer, ai->ai_addr, ai->ai_addrlen) != ANYDTLS_OK) {
            *why = strerror(errno);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int net_wait(anydtls_session *s, int fd, int max_ms)
{
    uint32_t ms;
    int timeout = max_ms;
    bool timer = s != NULL && anydtls_get_timeout(s, &ms) == 1;
    if (timer && (timeout < 0 || ms < (uint32_t)timeout))
        timeout = (int)ms;
    struct pollfd pfd = {fd, POLLIN, 0};
    poll(&pfd, 1, timeout);
    /* A due timer is served even when a datagram is waiting: a peer that
     * keeps sending (retransmitting its ClientHello back to back, say)
     * must not keep the retransmission budget from running out. */
    if (timer && anydtls_get_timeout(s, &ms) == 1 && ms == 0)
        return anydtls_handle_timeout(s);
    return ANYDTLS_OK;
}

int net_handshake(anydtls_session *s, int fd)
{
    for (;;) {
        int rc = anydtls_handshake(s);
        if (rc != ANYDTLS_E_WANT_READ && rc != ANYDTLS_E_WANT_WRITE)
            return rc;
        rc = net_wait(s, fd, 1000);
        if (rc < 0)
            return rc;
    }
}

/* ClientHellos whose session failed.  A peer that got no answer it
 * understood retransmits the same verified ClientHello (same cookie, same
 * random) for a minute or two; without this each copy would create and
 * fail a session of its own.  Bounded: FAILED_MAX entries, each for
 * FAILED_MS; the oldest makes room.  A new handshake from the same peer
 * has a new random and is served. */
#define FAILED_MAX 64
#define FAILED_MS 120000.0

static struct failed {
    struct net_hello id;
    double at;
    bool used;
} failed[FAILED_MAX];

static bool same_hello(const struct net_hello *a, const struct net_hello *b)
{
    size_t alen = a->peer.family == AF_INET6 ? 16 : 4;
    return a->peer.family == b->peer.family && a->peer.port == b->peer.port &&
           a->peer.scope_id == b->peer.scope_id &&
           memcmp(a->peer.addr, b->peer.addr, alen) == 0 &&
           memcmp(a->cookie, b->cookie, sizeof a->cookie) == 0 &&
           memcmp(a->random, b->random, sizeof a->random) == 0;
}

void net_hello_failed(const struct net_hello *id)
{
    double now = net_now_ms();
    size_t slot = 0;
    for (size_t i = 0; i < FAILED_MAX; i++) {
        if (!failed[i].used || now - failed[i].at > FAILED_MS) {
            slot = i;
            break;
        }
        if (failed[i].at < failed[slot].at)
            slot = i;
    }
    failed[slot] = (struct failed){*id, now, true};
}

bool net_hello_known_failed(const struct net_hello *id)
{
    double now = net_now_ms();
    for (size_t i = 0; i < FAILED_MAX; i++)
        if (failed[i].used && now - failed[i].at <= FAILED_MS && same_hello(&failed[i].id, id))
            return true;
    return false;
}

/* What identifies a verified ClientHello: peer, cookie and the client's
 * random (record header 13 bytes, handshake header 12, version 2; the
 * cookie check has verified that the datagram holds that much). */
static void hello_id(const anydtls_prestate *ps, struct net_hello *id)
{
    memset(id, 0, sizeof *id);
    id->peer = ps->peer;
    memcpy(id->cookie, ps->cookie, sizeof id->cookie);
    if (ps->hello_len >= 27 + sizeof id->random)
        memcpy(id->random, ps->hello + 27, sizeof id->random);
}

/* One received datagram through the cookie check; 1 when a session was
 * created, 0 to go on, < 0 on failure. */
static int accept_datagram(anydtls_config *cfg, int fd, anydtls_transport **t,
                           anydtls_session **out, struct net_hello *id)
{
    anydtls_addr *peer = &id->peer;
    /* Any datagram the library takes (a ClientHello may fill
     * ANYDTLS_MTU_MAX); a larger one is truncated and dropped as bad. */
    uint8_t buf[ANYDTLS_MTU_MAX], reply[ANYDTLS_HVR_MAX];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n <= 0 || anydtls_addr_from_sockaddr(peer, (struct sockaddr *)&from, flen) != ANYDTLS_OK)
        return 0;
    anydtls_prestate ps;
    size_t rlen;
    int rc = anydtls_cookie_check(cfg, buf, (size_t)n, peer, reply, sizeof reply, &rlen, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR)
        sendto(fd, reply, rlen, 0, (struct sockaddr *)&from, flen);
    if (rc != ANYDTLS_COOKIE_VERIFIED)
        return rc < 0 && rc != ANYDTLS_E_BAD_RECORD ? rc : 0;
    hello_id(&ps, id);
    if (net_hello_known_failed(id))
        return 0; /* a retransmission of a ClientHello that already failed */
    /* One peer at a time: the socket is connected to it for the session. */
    if (connect(fd, (struct sockaddr *)&from, flen) != 0)
        return ANYDTLS_E_IO;
    rc = anydtls_transport_new_udp(t, fd);
    if (rc == ANYDTLS_OK && (rc = anydtls_session_accept(out, cfg, *t, &ps)) != ANYDTLS_OK)
        net_hello_failed(id); /* its retransmissions would fail the same way */
    return rc == ANYDTLS_OK ? 1 : rc;
}

int net_accept(anydtls_config *cfg, int fd, int max_ms, anydtls_transport **t,
               anydtls_session **out, struct net_hello *id)
{
    double deadline = net_now_ms() + max_ms;
    for (;;) {
        int rc = accept_datagram(cfg, fd, t, out, id);
        if (rc != 0)
            return rc < 0 ? rc : ANYDTLS_OK;
        double left = deadline - net_now_ms();
        if (max_ms >= 0 && left <= 0)
            return ANYDTLS_E_TIMEOUT;
        net_wait(NULL, fd, max_ms < 0 ? -1 : (int)left + 1);
    }
}
