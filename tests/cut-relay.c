/*
 * cut-relay PORT: a UDP relay on 127.0.0.1 for tests/cut-relay.sh.  It
 * listens on a port of its own (printed as "relay PORT" on standard
 * output), forwards what the first peer to write sends to 127.0.0.1:PORT
 * and the answers back, and sends each datagram, in either direction, twice:
 * first its first half (at least one byte), then whole.  The whole records
 * of the cut copy are genuine and arrive first; its last record is cut.
 * Exits 0 after 30 s without a datagram or on SIGTERM, 1 on failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int udp_socket(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* With CUT_RELAY_TRACE set, one line per datagram on stderr: its
 * direction and its records (type, epoch, sequence number, length). */
static void trace(const char *dir, const unsigned char *d, size_t n)
{
    if (getenv("CUT_RELAY_TRACE") == NULL)
        return;
    fprintf(stderr, "%s %zu", dir, n);
    for (size_t at = 0; at + 13 <= n; at += 13 + ((size_t)d[at + 11] << 8 | d[at + 12]))
        fprintf(stderr, " [type %u epoch %u seq %u len %u%s]", d[at], d[at + 3] << 8 | d[at + 4],
                d[at + 10], d[at + 11] << 8 | d[at + 12],
                d[at] == 22 && (d[at + 3] | d[at + 4]) == 0 && at + 13 < n ? " hs" : "");
    fprintf(stderr, "\n");
}

/* The cut copy, then the datagram. */
static void send_twice(int fd, const unsigned char *d, size_t n, const struct sockaddr_in *to)
{
    if (n > 1)
        (void)sendto(fd, d, n / 2, 0, (const struct sockaddr *)to, sizeof *to);
    (void)sendto(fd, d, n, 0, (const struct sockaddr *)to, sizeof *to);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cut-relay PORT\n");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    struct sockaddr_in server = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)strtoul(argv[1], NULL, 10))};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in client = {0}, me;
    socklen_t len = sizeof me;
    int front = udp_socket(0), back = udp_socket(0);
    if (front < 0 || back < 0 || getsockname(front, (struct sockaddr *)&me, &len) != 0) {
        perror("cut-relay");
        return 1;
    }
    printf("relay %u\n", (unsigned)ntohs(me.sin_port));
    fflush(stdout);
    static unsigned char d[65536];
    int have_client = 0;
    while (!stop) {
        struct pollfd p[2] = {{.fd = front, .events = POLLIN}, {.fd = back, .events = POLLIN}};
        int r = poll(p, 2, 30000);
        if (r == 0)
            break;
        if (r < 0)
            continue; /* EINTR: SIGTERM sets stop */
        if (p[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t flen = sizeof from;
            ssize_t n = recvfrom(front, d, sizeof d, 0, (struct sockaddr *)&from, &flen);
            if (n > 0 && (!have_client || (from.sin_port == client.sin_port &&
                                           from.sin_addr.s_addr == client.sin_addr.s_addr))) {
                client = from;
                have_client = 1;
                trace("C->S", d, (size_t)n);
                send_twice(back, d, (size_t)n, &server);
            }
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = recv(back, d, sizeof d, 0);
            if (n > 0 && have_client) {
                trace("S->C", d, (size_t)n);
                send_twice(front, d, (size_t)n, &client);
            }
        }
    }
    close(front);
    close(back);
    return 0;
}
