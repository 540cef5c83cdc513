/* Handshakes over real UDP sockets on 127.0.0.1 and ::1, certificates and
 * PSK, with the stateless cookie exchange on the server's socket. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int udp_socket(const char *host, anydtls_addr *bound)
{
    anydtls_addr a;
    struct sockaddr_storage ss;
    socklen_t len;
    CHECK(anydtls_addr_from_string(&a, host, 0));
    CHECK(anydtls_addr_to_sockaddr(&a, &ss, &len));
    int fd = socket(a.family, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        return -1;
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    CHECK(anydtls_addr_from_sockaddr(bound, (struct sockaddr *)&ss, len));
    return fd;
}

struct udp_pair {
    int cfd, sfd;
    anydtls_addr saddr;
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
    anydtls_config *scfg;
    int hvr;
};

/* The server before it has a session: one datagram into the cookie check. */
static void server_listen(struct udp_pair *p)
{
    uint8_t buf[4096], reply[ANYDTLS_HVR_MAX];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(p->sfd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n <= 0)
        return;
    anydtls_addr peer;
    anydtls_prestate ps;
    size_t rlen;
    if (anydtls_addr_from_sockaddr(&peer, (struct sockaddr *)&from, flen) != ANYDTLS_OK)
        return;
    int rc = anydtls_cookie_check(p->scfg, buf, (size_t)n, &peer, reply, sizeof reply, &rlen, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR) {
        p->hvr++;
        sendto(p->sfd, reply, rlen, 0, (struct sockaddr *)&from, flen);
    } else if (rc == ANYDTLS_COOKIE_VERIFIED) {
        /* One peer per socket here: connect it and hand it over. */
        if (connect(p->sfd, (struct sockaddr *)&from, flen) != 0)
            return;
        CHECK(anydtls_transport_new_udp(&p->st, p->sfd));
        CHECK(anydtls_session_accept(&p->s, p->scfg, p->st, &ps));
    }
}

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

static int drive(struct udp_pair *p, int *crc, int *src)
{
    for (int round = 0; round < 2000 && (pending(*crc) || pending(*src)); round++) {
        if (pending(*crc))
            *crc = anydtls_handshake(p->c);
        if (p->s == NULL)
            server_listen(p);
        if (p->s != NULL && pending(*src))
            *src = anydtls_handshake(p->s);
        uint32_t ms = 50, t;
        if (anydtls_get_timeout(p->c, &t) == 1 && t < ms)
            ms = t;
        if (p->s != NULL && anydtls_get_timeout(p->s, &t) == 1 && t < ms)
            ms = t;
        struct pollfd fds[2] = {{p->cfd, POLLIN, 0}, {p->sfd, POLLIN, 0}};
        if (poll(fds, 2, (int)ms) == 0) {
            anydtls_handle_timeout(p->c);
            if (p->s != NULL)
                anydtls_handle_timeout(p->s);
        }
    }
    return *crc == ANYDTLS_OK && *src == ANYDTLS_OK;
}

static int recv_one(anydtls_session *s, int fd, uint8_t *buf, size_t cap)
{
    for (int i = 0; i < 100; i++) {
        int n = anydtls_read(s, buf, cap);
        if (n != ANYDTLS_E_WANT_READ)
            return n;
        struct pollfd pfd = {fd, POLLIN, 0};
        poll(&pfd, 1, 20);
    }
    return ANYDTLS_E_WANT_READ;
}

/* The client of p on its socket, connected to the server at ss. */
static void client_on(struct udp_pair *p, anydtls_config *ccfg, const struct sockaddr_storage *ss,
                      socklen_t len)
{
    if (connect(p->cfd, (const struct sockaddr *)ss, len) != 0)
        tap_diag("connect: %s", strerror(errno));
    CHECK(anydtls_transport_new_udp(&p->ct, p->cfd));
    CHECK(anydtls_session_new(&p->c, ccfg, p->ct));
}

/* Wait out s's retransmission timer and handle it: handle_timeout's code. */
static int expire(anydtls_session *s)
{
    uint32_t ms = 0;
    if (anydtls_get_timeout(s, &ms) == 1)
        poll(NULL, 0, (int)ms + 5);
    return anydtls_handle_timeout(s);
}

/* Everything of p, and the client's configuration. */
static void pair_free(struct udp_pair *p, anydtls_config *ccfg)
{
    anydtls_session_free(p->c);
    anydtls_session_free(p->s);
    anydtls_transport_free(p->ct);
    anydtls_transport_free(p->st);
    close(p->cfd);
    close(p->sfd);
    anydtls_config_free(ccfg);
    anydtls_config_free(p->scfg);
}

static void run(const char *host, anydtls_config *ccfg, anydtls_config *scfg, const char *what)
{
    struct udp_pair p;
    memset(&p, 0, sizeof p);
    p.scfg = scfg;
    anydtls_addr caddr;
    struct sockaddr_storage ss;
    socklen_t len;
    p.sfd = udp_socket(host, &p.saddr);
    p.cfd = udp_socket(host, &caddr);
    ok(p.sfd >= 0 && p.cfd >= 0, "%s: sockets bound on %s", what, host);
    CHECK(anydtls_addr_to_sockaddr(&p.saddr, &ss, &len));
    client_on(&p, ccfg, &ss, len);
    int crc = ANYDTLS_E_WANT_READ, src = ANYDTLS_E_WANT_READ;
    ok(drive(&p, &crc, &src), "%s: handshake over UDP", what);
    if (crc || src)
        tap_diag("client %d %s, server %d %s", crc, anydtls_error_detail(p.c), src,
                 anydtls_error_detail(p.s));
    ok(p.hvr >= 1, "%s: the cookie exchange ran (%d HelloVerifyRequest)", what, p.hvr);
    uint8_t buf[512];
    int n = p.s ? anydtls_write(p.c, (const uint8_t *)"ping", 4) : -1;
    ok(n == 4 && recv_one(p.s, p.sfd, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0,
       "%s: client to server", what);
    n = p.s ? anydtls_write(p.s, (const uint8_t *)"pong!", 5) : -1;
    ok(n == 5 && recv_one(p.c, p.cfd, buf, sizeof buf) == 5 && memcmp(buf, "pong!", 5) == 0,
       "%s: server to client", what);
    is(p.s ? anydtls_shutdown(p.s) : -1, ANYDTLS_OK, "%s: server closes", what);
    is(recv_one(p.c, p.cfd, buf, sizeof buf), ANYDTLS_E_CLOSED, "%s: client sees CLOSED", what);
    pair_free(&p, ccfg);
}

/* A port nobody listens on (bound, then closed). */
static void closed_port(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
    anydtls_addr a;
    int fd = udp_socket(host, &a);
    CHECK(anydtls_addr_to_sockaddr(&a, ss, len));
    close(fd);
}

/* Leave an ICMP port-unreachable pending on the client's socket, as a
 * spoofed one would: send to a closed port, wait for the error, connect
 * back to the server.  The error stays pending until reported. */
static bool pend_icmp(int fd, const char *host, const struct sockaddr_storage *server,
                      socklen_t slen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    closed_port(host, &ss, &len);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 || send(fd, "x", 1, 0) != 1)
        return false;
    struct pollfd pfd = {fd, 0, 0};
    bool pending_err = poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLERR);
    return connect(fd, (const struct sockaddr *)server, slen) == 0 && pending_err;
}

/* Item 9: an ICMP error is transient in both directions: on the first
 * send of the handshake and on a retransmission, the session goes on. */
static void run_icmp(const char *host)
{
    struct udp_pair p;
    memset(&p, 0, sizeof p);
    anydtls_config *ccfg = client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    CHECK(anydtls_config_set_timeouts(ccfg, 100, 6400));
    p.scfg = server_psk_config();
    anydtls_addr caddr;
    struct sockaddr_storage ss;
    socklen_t len;
    p.sfd = udp_socket(host, &p.saddr);
    p.cfd = udp_socket(host, &caddr);
    CHECK(anydtls_addr_to_sockaddr(&p.saddr, &ss, &len));
    ok(pend_icmp(p.cfd, host, &ss, len), "icmp %s: a port-unreachable is pending", host);
    CHECK(anydtls_transport_new_udp(&p.ct, p.cfd));
    CHECK(anydtls_session_new(&p.c, ccfg, p.ct));
    int crc = anydtls_handshake(p.c);
    is(crc, ANYDTLS_E_WANT_READ, "icmp %s: the first ClientHello's send is not fatal (%s)", host,
       code_name(crc));
    is(anydtls_transport_errno(p.ct), ECONNREFUSED, "icmp %s: the error was seen and reported",
       host);
    ok(pend_icmp(p.cfd, host, &ss, len), "icmp %s: another one pending mid-handshake", host);
    int h = expire(p.c);
    ok(h >= 0, "icmp %s: the retransmission's send is not fatal (%s)", host, code_name(h));
    int src = ANYDTLS_E_WANT_READ;
    crc = ANYDTLS_E_WANT_READ;
    bool done = drive(&p, &crc, &src);
    ok(done, "icmp %s: the handshake completes (client %s, server %s)", host, code_name(crc),
       code_name(src));
    pair_free(&p, ccfg);
}

/* The server side: a pending ICMP error on the server's socket when it
 * sends its first flight, a certificate chain of three RSA intermediates
 * in datagrams of at most 400 bytes (where the flavour sets an MTU; the
 * chain takes several datagrams at any MTU), and again when it
 * retransmits that flight; neither send is fatal, the handshake
 * completes. */
static void run_icmp_server(const char *host)
{
    struct udp_pair p;
    memset(&p, 0, sizeof p);
    anydtls_config *ccfg = client_cert_config("ca.pem", host);
    CHECK(anydtls_config_set_timeouts(ccfg, 100, 6400));
    p.scfg = server_cert_config("deep-server-chain.pem", "deep-server.key");
    CHECK(anydtls_config_set_timeouts(p.scfg, 100, 6400));
    int mtu = anydtls_config_set_mtu(p.scfg, 400);
    if (mtu != ANYDTLS_OK && mtu != ANYDTLS_E_UNSUPPORTED)
        CHECK(mtu);
    anydtls_addr caddr;
    struct sockaddr_storage ss, cs;
    socklen_t len, clen;
    p.sfd = udp_socket(host, &p.saddr);
    p.cfd = udp_socket(host, &caddr);
    CHECK(anydtls_addr_to_sockaddr(&p.saddr, &ss, &len));
    CHECK(anydtls_addr_to_sockaddr(&caddr, &cs, &clen));
    client_on(&p, ccfg, &ss, len);
    /* The cookie exchange, up to the server session (not yet run). */
    int crc = ANYDTLS_E_WANT_READ, src = ANYDTLS_E_WANT_READ;
    for (int round = 0; round < 200 && p.s == NULL; round++) {
        crc = anydtls_handshake(p.c);
        struct pollfd pfd = {p.sfd, POLLIN, 0};
        if (poll(&pfd, 1, 20) == 1)
            server_listen(&p);
    }
    ok(p.s != NULL && pend_icmp(p.sfd, host, &cs, clen),
       "icmp server %s: a port-unreachable is pending on the server's socket", host);
    if (p.s != NULL) {
        src = anydtls_handshake(p.s);
        is(src, ANYDTLS_E_WANT_READ, "icmp server %s: sending the chain's flight is not fatal (%s)",
           host, code_name(src));
        is(anydtls_transport_errno(p.st), ECONNREFUSED,
           "icmp server %s: the error was seen and reported", host);
        ok(pend_icmp(p.sfd, host, &cs, clen),
           "icmp server %s: another one pending before the retransmission", host);
        int h = expire(p.s);
        ok(h >= 0, "icmp server %s: retransmitting the flight is not fatal (%s)", host,
           code_name(h));
    } else {
        for (int i = 0; i < 4; i++)
            ok(false, "icmp server %s: no server session", host);
    }
    bool done = p.s != NULL && drive(&p, &crc, &src);
    ok(done, "icmp server %s: the handshake completes (client %s, server %s)", host,
       code_name(crc), code_name(src));
    if (!done)
        tap_diag("client %s, server %s", anydtls_error_detail(p.c),
                 p.s != NULL ? anydtls_error_detail(p.s) : "(none)");
    pair_free(&p, ccfg);
}

int main(void)
{
    static const char *hosts[] = {"127.0.0.1", "::1"};
    tap_plan(4 * 7 + 2 * 6 + 2 * 6);
    for (int i = 0; i < 2; i++) {
        char what[64];
        snprintf(what, sizeof what, "cert %s", hosts[i]);
        run(hosts[i], client_cert_config("ca.pem", hosts[i]),
            server_cert_config("server.pem", "server.key"), what);
        snprintf(what, sizeof what, "psk %s", hosts[i]);
        run(hosts[i], client_psk_config(TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key),
            server_psk_config(), what);
    }
    for (int i = 0; i < 2; i++)
        run_icmp(hosts[i]);
    for (int i = 0; i < 2; i++)
        run_icmp_server(hosts[i]);
    return tap_done();
}
