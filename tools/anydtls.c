/*
 * anydtls: the command-line program.
 *
 *   anydtls demo      a client and a server over real UDP sockets on
 *                     127.0.0.1 and ::1, with certificates and with PSK,
 *                     stateless cookie exchange on; each run echoes a
 *                     message and closes cleanly.
 *   anydtls version   library version and backend.
 *
 * The demo makes a throwaway PKI with the openssl program in a temporary
 * directory and removes it afterwards.
 */
#define _POSIX_C_SOURCE 200809L
#include <anydtls/anydtls.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEMO_MESSAGE "hello over DTLS"
#define DEMO_PSK_IDENTITY "demo-client"
static const uint8_t demo_psk[16] = "anydtls demo psk";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A non-blocking UDP socket bound to host:port (0: any port). */
static int udp_bind(const char *host, uint16_t port, anydtls_addr *bound)
{
    anydtls_addr a;
    struct sockaddr_storage ss;
    socklen_t len;
    if (anydtls_addr_from_string(&a, host, port) != ANYDTLS_OK ||
        anydtls_addr_to_sockaddr(&a, &ss, &len) != ANYDTLS_OK)
        return -1;
    int fd = socket(a.family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        goto fail;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        anydtls_addr_from_sockaddr(bound, (struct sockaddr *)&ss, len) != ANYDTLS_OK)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* Wait for the socket or the session's retransmission timer. */
static int wait_io(anydtls_session *s, int fd, int max_ms)
{
    uint32_t ms;
    int timeout = max_ms;
    if (s != NULL && anydtls_get_timeout(s, &ms) == 1 && (int)ms < timeout)
        timeout = (int)ms;
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = poll(&pfd, 1, timeout);
    if (n == 0 && s != NULL)
        return anydtls_handle_timeout(s);
    return ANYDTLS_OK;
}

static int handshake(anydtls_session *s, int fd)
{
    for (;;) {
        int rc = anydtls_handshake(s);
        if (rc != ANYDTLS_E_WANT_READ && rc != ANYDTLS_E_WANT_WRITE)
            return rc;
        rc = wait_io(s, fd, 1000);
        if (rc < 0)
            return rc;
    }
}

static int read_one(anydtls_session *s, int fd, uint8_t *buf, size_t cap)
{
    for (int i = 0; i < 100; i++) {
        int n = anydtls_read(s, buf, cap);
        if (n != ANYDTLS_E_WANT_READ)
            return n;
        wait_io(NULL, fd, 50);
    }
    return ANYDTLS_E_TIMEOUT;
}

/* Stateless cookie exchange on an unconnected socket until one ClientHello
 * verifies; then the socket is connected to that peer and handed over. */
static int accept_one(anydtls_config *cfg, int fd, anydtls_session **out,
                      anydtls_transport **t)
{
    uint8_t buf[4096], reply[ANYDTLS_HVR_MAX];
    for (int i = 0; i < 200; i++) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n <= 0) {
            wait_io(NULL, fd, 50);
            continue;
        }
        anydtls_addr peer;
        anydtls_prestate ps;
        size_t rlen;
        if (anydtls_addr_from_sockaddr(&peer, (struct sockaddr *)&from, flen) != ANYDTLS_OK)
            continue;
        int rc = anydtls_cookie_check(cfg, buf, (size_t)n, &peer, reply, sizeof reply, &rlen, &ps);
        if (rc == ANYDTLS_COOKIE_SEND_HVR)
            sendto(fd, reply, rlen, 0, (struct sockaddr *)&from, flen);
        if (rc != ANYDTLS_COOKIE_VERIFIED)
            continue;
        if (connect(fd, (struct sockaddr *)&from, flen) != 0)
            return ANYDTLS_E_IO;
        if ((rc = anydtls_transport_new_udp(t, fd)) != ANYDTLS_OK)
            return rc;
        return anydtls_session_accept(out, cfg, *t, &ps);
    }
    return ANYDTLS_E_TIMEOUT;
}

/* The demo server: accept one peer, echo one message, wait for its close. */
static int serve_echo(anydtls_config *cfg, int fd)
{
    anydtls_session *s = NULL;
    anydtls_transport *t = NULL;
    uint8_t buf[2048];
    int rc = accept_one(cfg, fd, &s, &t);
    if (rc == ANYDTLS_OK)
        rc = handshake(s, fd);
    int n = rc == ANYDTLS_OK ? read_one(s, fd, buf, sizeof buf) : rc;
    if (n > 0)
        rc = anydtls_write(s, buf, (size_t)n);
    if (rc >= 0)
        rc = read_one(s, fd, buf, sizeof buf) == ANYDTLS_E_CLOSED ? ANYDTLS_OK : ANYDTLS_E_HANDSHAKE;
    if (rc < 0)
        fprintf(stderr, "anydtls demo server: %s (%s)\n", anydtls_strerror(rc),
                anydtls_error_detail(s));
    anydtls_session_free(s);
    anydtls_transport_free(t);
    return rc;
}

struct demo_result {
    int rc;
    double handshake_ms;
    char protocol[32], cipher[96];
};

static int client_echo(anydtls_config *cfg, const anydtls_addr *server, struct demo_result *r)
{
    anydtls_addr local;
    anydtls_session *s = NULL;
    anydtls_transport *t = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = udp_bind(server->family == AF_INET6 ? "::1" : "127.0.0.1", 0, &local);
    int rc = fd < 0 ? ANYDTLS_E_IO : anydtls_addr_to_sockaddr(server, &ss, &len);
    if (rc == ANYDTLS_OK && connect(fd, (struct sockaddr *)&ss, len) != 0)
        rc = ANYDTLS_E_IO;
    if (rc == ANYDTLS_OK)
        rc = anydtls_transport_new_udp(&t, fd);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&s, cfg, t);
    double start = now_ms();
    if (rc == ANYDTLS_OK)
        rc = handshake(s, fd);
    r->handshake_ms = now_ms() - start;
    if (rc == ANYDTLS_OK) {
        snprintf(r->protocol, sizeof r->protocol, "%s", anydtls_protocol(s));
        snprintf(r->cipher, sizeof r->cipher, "%s", anydtls_cipher(s));
        rc = anydtls_write(s, (const uint8_t *)DEMO_MESSAGE, strlen(DEMO_MESSAGE));
    }
    if (rc >= 0) {
        uint8_t buf[2048];
        int n = read_one(s, fd, buf, sizeof buf);
        rc = n == (int)strlen(DEMO_MESSAGE) && memcmp(buf, DEMO_MESSAGE, (size_t)n) == 0
                 ? ANYDTLS_OK
                 : (n < 0 ? n : ANYDTLS_E_BAD_RECORD);
    }
    if (rc == ANYDTLS_OK)
        rc = anydtls_shutdown(s);
    if (rc < 0 && s != NULL)
        fprintf(stderr, "anydtls demo client: %s (%s)\n", anydtls_strerror(rc),
                anydtls_error_detail(s));
    anydtls_session_free(s);
    anydtls_transport_free(t);
    if (fd >= 0)
        close(fd);
    r->rc = rc;
    return rc;
}

/* ---------------- the demo's credentials ---------------- */

static int make_pki(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 1 -subj '/CN=anydtls demo CA' "
             "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout server.key -out server.csr -subj /CN=localhost; "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\n' > san.ext; "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-days 1 -extfile san.ext -out server.pem",
             dir);
    char full[2200];
    snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
    return system(full) == 0 ? 0 : -1;
}

static void remove_pki(const char *dir)
{
    static const char *files[] = {"ca.key", "ca.pem",  "ca.srl",    "server.key",
                                  "server.csr", "server.pem", "san.ext"};
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int psk_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    if (strcmp(identity, DEMO_PSK_IDENTITY) != 0 || cap < sizeof demo_psk)
        return -1;
    memcpy(key, demo_psk, sizeof demo_psk);
    return (int)sizeof demo_psk;
}

static int demo_configs(const char *pki, bool psk, anydtls_config **ccfg, anydtls_config **scfg)
{
    char a[512], b[512];
    int rc = anydtls_config_new(ccfg, ANYDTLS_CLIENT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_new(scfg, ANYDTLS_SERVER);
    if (rc != ANYDTLS_OK)
        return rc;
    if (psk) {
        rc = anydtls_config_set_psk(*ccfg, DEMO_PSK_IDENTITY, demo_psk, sizeof demo_psk);
        if (rc == ANYDTLS_OK)
            rc = anydtls_config_set_psk_server(*scfg, "anydtls demo", psk_lookup, NULL);
        return rc;
    }
    snprintf(a, sizeof a, "%s/ca.pem", pki);
    rc = anydtls_config_set_ca_file(*ccfg, a);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_peer_name(*ccfg, "localhost");
    snprintf(a, sizeof a, "%s/server.pem", pki);
    snprintf(b, sizeof b, "%s/server.key", pki);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_cert_file(*scfg, a, b);
    return rc;
}

/* One demo run: a server process and a client in this one. */
static int demo_run(const char *pki, const char *host, bool psk)
{
    anydtls_config *ccfg = NULL, *scfg = NULL;
    anydtls_addr saddr;
    struct demo_result r = {0};
    int rc = demo_configs(pki, psk, &ccfg, &scfg);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_build(scfg); /* fails here, not in the child */
    int sfd = rc == ANYDTLS_OK ? udp_bind(host, 0, &saddr) : -1;
    if (rc == ANYDTLS_OK && sfd < 0)
        rc = ANYDTLS_E_IO;
    pid_t pid = -1;
    if (rc == ANYDTLS_OK) {
        fflush(stdout);
        pid = fork();
        if (pid == 0)
            _exit(serve_echo(scfg, sfd) == ANYDTLS_OK ? 0 : 1);
        if (pid < 0)
            rc = ANYDTLS_E_IO;
    }
    if (rc == ANYDTLS_OK)
        rc = client_echo(ccfg, &saddr, &r);
    int status = 1;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && rc == ANYDTLS_OK &&
        !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = ANYDTLS_E_HANDSHAKE;
    printf("  %-9s %-5s %-8s %-46s %8.2f ms  %s\n", host, psk ? "psk" : "cert",
           rc == ANYDTLS_OK ? r.protocol : "-", rc == ANYDTLS_OK ? r.cipher : "-",
           r.handshake_ms, rc == ANYDTLS_OK ? "ok: echoed, closed" : anydtls_strerror(rc));
    if (sfd >= 0)
        close(sfd);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return rc;
}

static int cmd_demo(void)
{
    char dir[] = "/tmp/anydtls-demo-XXXXXX";
    if (mkdtemp(dir) == NULL || make_pki(dir) != 0) {
        fprintf(stderr, "anydtls demo: cannot make a PKI with the openssl program\n");
        return 1;
    }
    printf("anydtls %s, backend %s (%s)\n", anydtls_version(), anydtls_backend_name(),
           anydtls_backend_version());
    printf("  %-9s %-5s %-8s %-46s %11s  %s\n", "address", "creds", "protocol", "cipher",
           "handshake", "result");
    static const char *hosts[] = {"127.0.0.1", "::1"};
    int failures = 0;
    for (int h = 0; h < 2; h++)
        for (int psk = 0; psk < 2; psk++)
            failures += demo_run(dir, hosts[h], psk) != ANYDTLS_OK;
    remove_pki(dir);
    printf("%s\n", failures == 0 ? "demo: all runs passed" : "demo: FAILED");
    return failures == 0 ? 0 : 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: anydtls demo | version | --help\n"
               "  demo     client and server over UDP on 127.0.0.1 and ::1,\n"
               "           with certificates and with PSK, cookie exchange on\n"
               "  version  print the library version and backend\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "demo") == 0)
        return cmd_demo();
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        printf("anydtls %s backend %s (%s)\n", anydtls_version(), anydtls_backend_name(),
               anydtls_backend_version());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
