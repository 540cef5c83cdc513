/*
 * hello-replay PORT COUNT: a DTLS client that never gets past its verified
 * ClientHello, for tests/cli.sh.  Over UDP to 127.0.0.1:PORT it sends a
 * ClientHello, answers the HelloVerifyRequest with the ClientHello that
 * carries the cookie, and then answers nothing.  When a line arrives on
 * standard input it retransmits that verified ClientHello COUNT times (each
 * copy with the next record sequence number, as a real retransmission
 * has); with COUNT 0 it instead retransmits it back to back, a flood, from
 * right away until the line arrives.  Then it probes the server from
 * another port until a
 * HelloVerifyRequest comes back: the server handles datagrams in order, so
 * by then it has handled every copy.  Prints "probed" and exits 0; 1 on
 * failure.  The client's datagrams are made by the library (a client
 * session over a memory transport).
 */
#define _POSIX_C_SOURCE 200809L
#include <anydtls/anydtls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int udp_to(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Send dgram until a HelloVerifyRequest (handshake type 3) comes back, for
 * at most 20 s; its length, or -1. */
static int until_hvr(int fd, const uint8_t *dgram, size_t len, uint8_t *reply, size_t cap)
{
    for (int tries = 0; tries < 100; tries++) {
        if (send(fd, dgram, len, 0) != (ssize_t)len)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, 200) == 1) {
            ssize_t n = recv(fd, reply, cap, 0);
            if (n > 13 && reply[0] == 22 && reply[13] == 3)
                return (int)n;
        }
    }
    return -1;
}

/* COUNT 0: retransmit the verified ClientHello back to back, without
 * pause, until a line arrives on standard input; 0, or -1 on failure.  A
 * datagram refused for a full socket buffer is simply not sent. */
static int flood(int fd, uint8_t *hello, size_t len)
{
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    for (unsigned i = 0;; i++) {
        hello[10]++;
        if (send(fd, hello, len, 0) < 0 && errno != ENOBUFS && errno != EAGAIN &&
            errno != ECONNREFUSED)
            return -1;
        if (i % 64 == 0 && poll(&in, 1, 0) == 1) {
            char line[16];
            return fgets(line, sizeof line, stdin) != NULL ? 0 : -1;
        }
    }
}

/* The client's next datagram: drive the handshake, take what it sent. */
static int next_flight(anydtls_session *s, anydtls_transport *t, uint8_t *buf, size_t cap)
{
    int rc = anydtls_handshake(s);
    if (rc != ANYDTLS_E_WANT_READ)
        return -1;
    return anydtls_memory_pop(t, buf, cap);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 1;
    unsigned port = (unsigned)atoi(argv[1]);
    int count = atoi(argv[2]);
    anydtls_config *cfg = NULL;
    anydtls_transport *t = NULL;
    anydtls_session *s = NULL;
    uint8_t hello[ANYDTLS_MTU_MAX], reply[ANYDTLS_MTU_MAX], line[16];
    int status = 1, fd = udp_to(port), probe = -1;
    int n, hlen;
    if (fd < 0 || anydtls_config_new(&cfg, ANYDTLS_CLIENT) != ANYDTLS_OK ||
        anydtls_config_set_verify(cfg, ANYDTLS_VERIFY_NONE) != ANYDTLS_OK ||
        anydtls_transport_new_memory(&t, 0) != ANYDTLS_OK ||
        anydtls_session_new(&s, cfg, t) != ANYDTLS_OK)
        goto done;
    /* ClientHello, HelloVerifyRequest, verified ClientHello. */
    if ((hlen = next_flight(s, t, hello, sizeof hello)) <= 0 ||
        (n = until_hvr(fd, hello, (size_t)hlen, reply, sizeof reply)) < 0 ||
        anydtls_memory_push(t, reply, (size_t)n) < 0 ||
        (hlen = next_flight(s, t, hello, sizeof hello)) <= 13 ||
        send(fd, hello, (size_t)hlen, 0) != hlen)
        goto done;
    printf("verified hello sent\n");
    fflush(stdout);
    if (count == 0 ? flood(fd, hello, (size_t)hlen) != 0
                   : fgets((char *)line, sizeof line, stdin) == NULL)
        goto done;
    for (int i = 0; i < count; i++) {
        hello[10]++; /* the record sequence number's low byte */
        if (send(fd, hello, (size_t)hlen, 0) != hlen)
            goto done;
    }
    /* A fresh ClientHello from another port: answered once the server is
     * back at its cookie exchange, after every copy above. */
    anydtls_session_free(s);
    anydtls_transport_free(t);
    s = NULL;
    t = NULL;
    if ((probe = udp_to(port)) < 0 || anydtls_transport_new_memory(&t, 0) != ANYDTLS_OK ||
        anydtls_session_new(&s, cfg, t) != ANYDTLS_OK ||
        (hlen = next_flight(s, t, hello, sizeof hello)) <= 0 ||
        until_hvr(probe, hello, (size_t)hlen, reply, sizeof reply) < 0)
        goto done;
    printf("probed\n");
    status = 0;
done:
    anydtls_session_free(s);
    anydtls_transport_free(t);
    anydtls_config_free(cfg);
    if (fd >= 0)
        close(fd);
    if (probe >= 0)
        close(probe);
    return status;
}
