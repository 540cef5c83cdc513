/* A renegotiating DTLS 1.2 peer for tests/renegotiation.sh, on GnuTLS
 * itself (not through anydtls): unlike the openssl programs, which end
 * their session with a fatal handshake_failure when their renegotiation
 * is refused, GnuTLS goes on, so this peer shows that the session refusing
 * it is kept.
 *
 *   reneg-peer server PORT CERT KEY N   send N HelloRequests to the client
 *   reneg-peer client PORT CAFILE N     renegotiate N times (new ClientHello)
 *
 * Either way: one line "before" each way, then N renegotiation attempts,
 * each of which must be refused with a no_renegotiation warning, then one
 * line "after" each way, then close_notify.  Progress on stderr; exit 0
 * only when all of that happened. */
#include <arpa/inet.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "reneg-peer: %s: %s\n", what, rc < 0 ? gnutls_strerror(rc) : "unexpected");
    return 1;
}

static int udp_socket(int port, bool server)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (!server)
        return connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? fd : (close(fd), -1);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return close(fd), -1;
    fprintf(stderr, "reneg-peer: listening\n");
    /* The first datagram names the peer; connect to it. */
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    char c;
    if (recvfrom(fd, &c, 1, MSG_PEEK, (struct sockaddr *)&from, &flen) < 0 ||
        connect(fd, (struct sockaddr *)&from, flen) != 0)
        return close(fd), -1;
    return fd;
}

static int handshake(gnutls_session_t s)
{
    int rc;
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    return rc;
}

/* Application data until a line starting with want arrives. */
static int expect(gnutls_session_t s, const char *want)
{
    char buf[512];
    for (;;) {
        ssize_t n = gnutls_record_recv(s, buf, sizeof buf - 1);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        /* A retransmitted ClientHello of ours may be refused again. */
        if (n == GNUTLS_E_WARNING_ALERT_RECEIVED && gnutls_alert_get(s) == GNUTLS_A_NO_RENEGOTIATION) {
            fprintf(stderr, "reneg-peer: another no_renegotiation warning\n");
            continue;
        }
        if (n <= 0)
            return fail(want, n == 0 ? 1 : (int)n);
        buf[n] = '\0';
        fprintf(stderr, "reneg-peer: received %s", buf);
        if (strncmp(buf, want, strlen(want)) == 0)
            return 0;
    }
}

/* One renegotiation attempt, refused with a no_renegotiation warning. */
static int attempt(gnutls_session_t s, bool server, int i)
{
    int rc;
    if (server) {
        /* Over DTLS, GnuTLS 3.7 waits for the answer in the call itself. */
        rc = gnutls_rehandshake(s);
        char buf[64];
        while (rc == 0 || rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
            rc = (int)gnutls_record_recv(s, buf, sizeof buf);
    } else {
        rc = gnutls_handshake(s);
    }
    if (rc != GNUTLS_E_WARNING_ALERT_RECEIVED || gnutls_alert_get(s) != GNUTLS_A_NO_RENEGOTIATION)
        return fail("renegotiation not refused with a no_renegotiation warning", rc);
    fprintf(stderr, "reneg-peer: renegotiation %d refused with no_renegotiation\n", i);
    return 0;
}

static int send_line(gnutls_session_t s, const char *line)
{
    ssize_t n = gnutls_record_send(s, line, strlen(line));
    return n == (ssize_t)strlen(line) ? 0 : fail("send", (int)n);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6)
        return fprintf(stderr, "usage: reneg-peer server PORT CERT KEY N | client PORT CA N\n"), 2;
    bool server = strcmp(argv[1], "server") == 0;
    int n = atoi(argv[server ? 5 : 4]);
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_session_t s = NULL;
    int rc = 1, fd = -1;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        goto out;
    if (server ? gnutls_certificate_set_x509_key_file(cred, argv[3], argv[4], GNUTLS_X509_FMT_PEM) < 0
               : gnutls_certificate_set_x509_trust_file(cred, argv[3], GNUTLS_X509_FMT_PEM) < 0)
        goto out;
    if ((fd = udp_socket(atoi(argv[2]), server)) < 0)
        goto out;
    if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_DATAGRAM) < 0 ||
        gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-DTLS1.2", NULL) < 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
        goto out;
    if (!server) {
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
        gnutls_session_set_verify_cert(s, "localhost", 0);
    }
    gnutls_transport_set_int(s, fd);
    gnutls_record_set_timeout(s, WAIT_MS);
    gnutls_handshake_set_timeout(s, WAIT_MS);
    int r = handshake(s);
    if (r < 0) {
        rc = fail("handshake", r);
        goto out;
    }
    fprintf(stderr, "reneg-peer: established\n");
    if (send_line(s, "before\n") != 0 || expect(s, "before") != 0)
        goto out;
    for (int i = 1; i <= n; i++)
        if (attempt(s, server, i) != 0)
            goto out;
    if (send_line(s, "after\n") != 0 || expect(s, "after") != 0)
        goto out;
    gnutls_bye(s, GNUTLS_SHUT_WR);
    fprintf(stderr, "reneg-peer: done\n");
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "reneg-peer: failed\n");
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    if (fd >= 0)
        close(fd);
    return rc;
}
