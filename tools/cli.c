/*
 * anydtls client HOST PORT / anydtls server [--bind ADDR] PORT
 *
 * Standard input is sent as application data (one record per read, at most
 * one datagram's payload); what arrives goes to standard output.  Exit
 * status 0 after a clean close, else the ANYDTLS_E_* code negated (1..19)
 * with its anydtls_strerror text on standard error; 64 for bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXIT_USAGE 64

struct options {
    const char *ca, *cert, *key, *psk_identity, *name, *bind, *session_file;
    uint8_t psk[ANYDTLS_PSK_MAX];
    size_t psk_len;
    bool no_verify, quiet, verbose, once, echo, resumption;
    unsigned mtu, timeout_ms, cookie_key_length, linger_ms;
};

static const char *const usage_text =
    "usage: anydtls client [options] HOST PORT\n"
    "       anydtls server [options] [--bind ADDR] PORT\n"
    "\n"
    "Standard input is sent to the peer; what the peer sends is written to\n"
    "standard output.  The server serves one peer after another (stateless\n"
    "cookie exchange for every new peer).\n"
    "\n"
    "  --ca FILE              trust the CA certificates in FILE (PEM)\n"
    "  --cert FILE            own certificate chain (PEM)\n"
    "  --key FILE             own private key (PEM)\n"
    "  --psk-identity ID      PSK identity (client) or identity hint (server)\n"
    "  --psk HEX              pre-shared key, hex (server: for any identity\n"
    "                         when no --psk-identity, else for that one only)\n"
    "  --name NAME            client: name (or IP) the server certificate\n"
    "                         must match (default: HOST)\n"
    "  --no-verify            accept any peer certificate (testing only)\n"
    "  --mtu N                datagram size, 256..18432 (default 1400)\n"
    "  --timeout MS           retransmission: give up when the doubling\n"
    "                         timeout would exceed MS (default 60000)\n"
    "  --cookie-key-length N  server: cookie key bytes, 16..64 (default 32)\n"
    "  --resumption           server: issue session tickets, so that clients\n"
    "                         can resume their sessions\n"
    "  --session FILE         client: resume the session saved in FILE if it\n"
    "                         exists; save this one there (mode 0600: it\n"
    "                         holds the master secret)\n"
    "  --bind ADDR            server: numeric address to listen on\n"
    "                         (default 127.0.0.1; :: or ::1 for IPv6)\n"
    "  --once                 server: exit after the first session\n"
    "  --echo                 server: send every message back\n"
    "  --linger MS            client: after end of input, wait MS for data\n"
    "                         before closing (default 1000)\n"
    "  --quiet                no progress messages\n"
    "  --verbose              more progress messages\n"
    "  --help                 this text\n"
    "\n"
    "Exit status: 0 after a clean close; otherwise the negated ANYDTLS_E_*\n"
    "code (10: certificate not trusted, 3: timeout, 13: unknown PSK identity,\n"
    "18: PSK keys differ, ...) with its message on standard error; 64 for\n"
    "bad usage.\n";

static int parse_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static int parse_unsigned(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v > 0xFFFFFFFFul)
        return -1;
    *out = (unsigned)v;
    return 0;
}

enum { OPT_CA = 256, OPT_CERT, OPT_KEY, OPT_PSK_ID, OPT_PSK, OPT_NAME, OPT_NO_VERIFY, OPT_MTU,
       OPT_TIMEOUT, OPT_COOKIE_LEN, OPT_BIND, OPT_ONCE, OPT_ECHO, OPT_LINGER, OPT_QUIET,
       OPT_VERBOSE, OPT_HELP, OPT_RESUMPTION, OPT_SESSION };

static const struct option long_options[] = {
    {"ca", required_argument, NULL, OPT_CA},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"psk-identity", required_argument, NULL, OPT_PSK_ID},
    {"psk", required_argument, NULL, OPT_PSK},
    {"name", required_argument, NULL, OPT_NAME},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"cookie-key-length", required_argument, NULL, OPT_COOKIE_LEN},
    {"bind", required_argument, NULL, OPT_BIND},
    {"once", no_argument, NULL, OPT_ONCE},
    {"echo", no_argument, NULL, OPT_ECHO},
    {"linger", required_argument, NULL, OPT_LINGER},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {"resumption", no_argument, NULL, OPT_RESUMPTION},
    {"session", required_argument, NULL, OPT_SESSION},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "anydtls: %s%s%s\n%s", what, arg ? ": " : "", arg ? arg : "", usage_text);
    return EXIT_USAGE;
}

/* Parse options; returns 0, or the exit status to leave with. */
static int parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->linger_ms = 1000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_CA: o->ca = optarg; break;
        case OPT_CERT: o->cert = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_PSK_ID: o->psk_identity = optarg; break;
        case OPT_PSK:
            if (parse_hex(optarg, o->psk, sizeof o->psk, &o->psk_len) != 0)
                return usage_error("--psk wants 1 to 64 bytes in hex", optarg);
            break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_NO_VERIFY: o->no_verify = true; break;
        case OPT_MTU:
            if (parse_unsigned(optarg, &o->mtu) != 0)
                return usage_error("--mtu wants a number", optarg);
            break;
        case OPT_TIMEOUT:
            if (parse_unsigned(optarg, &o->timeout_ms) != 0)
                return usage_error("--timeout wants milliseconds", optarg);
            break;
        case OPT_COOKIE_LEN:
            if (parse_unsigned(optarg, &o->cookie_key_length) != 0)
                return usage_error("--cookie-key-length wants a number", optarg);
            break;
        case OPT_BIND: o->bind = optarg; break;
        case OPT_ONCE: o->once = true; break;
        case OPT_ECHO: o->echo = true; break;
        case OPT_LINGER:
            if (parse_unsigned(optarg, &o->linger_ms) != 0 || o->linger_ms > 3600000)
                return usage_error("--linger wants milliseconds, at most 3600000", optarg);
            break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_VERBOSE: o->verbose = true; break;
        case OPT_RESUMPTION: o->resumption = true; break;
        case OPT_SESSION: o->session_file = optarg; o->resumption = true; break;
        case OPT_HELP: fputs(usage_text, stdout); exit(0);
        default: return usage_error("unknown option", NULL);
        }
    }
    if ((o->cert == NULL) != (o->key == NULL))
        return usage_error("--cert and --key go together", NULL);
    if (o->name != NULL && o->ca == NULL)
        return usage_error("--name needs --ca (the name is checked on a verified certificate)",
                           NULL);
    if (o->psk_identity != NULL && o->psk_len == 0)
        return usage_error("--psk-identity needs --psk", NULL);
    return 0;
}

static int fail_status(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "anydtls: %s: %s%s%s%s\n", what, anydtls_strerror(rc),
            detail && *detail ? " (" : "", detail && *detail ? detail : "",
            detail && *detail ? ")" : "");
    return rc < 0 && rc >= -99 ? -rc : 1;
}

/* ---------------- configuration from the options ---------------- */


static int psk_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    const struct options *o = user;
    if ((o->psk_identity != NULL && strcmp(identity, o->psk_identity) != 0) || cap < o->psk_len)
        return -1;
    memcpy(key, o->psk, o->psk_len);
    return (int)o->psk_len;
}

static int configure(anydtls_config *cfg, const struct options *o, anydtls_role role,
                     const char *host)
{
    int rc = ANYDTLS_OK;
    if (o->ca != NULL)
        rc = anydtls_config_set_ca_file(cfg, o->ca);
    if (rc == ANYDTLS_OK && o->cert != NULL)
        rc = anydtls_config_set_cert_file(cfg, o->cert, o->key);
    if (rc == ANYDTLS_OK && o->no_verify)
        rc = anydtls_config_set_verify(cfg, ANYDTLS_VERIFY_NONE);
    if (rc == ANYDTLS_OK && o->mtu != 0)
        rc = anydtls_config_set_mtu(cfg, o->mtu);
    if (rc == ANYDTLS_OK && o->timeout_ms != 0)
        rc = anydtls_config_set_timeouts(cfg, o->timeout_ms < 1000 ? o->timeout_ms : 1000,
                                         o->timeout_ms);
    if (rc == ANYDTLS_OK && o->resumption)
        rc = anydtls_config_set_resumption(cfg, 1);
    if (rc == ANYDTLS_OK && role == ANYDTLS_SERVER && o->cookie_key_length != 0)
        rc = anydtls_config_set_cookie_key_length(cfg, o->cookie_key_length);
    if (rc == ANYDTLS_OK && role == ANYDTLS_CLIENT && !o->no_verify && o->ca != NULL)
        rc = anydtls_config_set_peer_name(cfg, o->name != NULL ? o->name : host);
    if (rc == ANYDTLS_OK && o->psk_len > 0 && role == ANYDTLS_CLIENT)
        rc = anydtls_config_set_psk(cfg, o->psk_identity ? o->psk_identity : "anydtls", o->psk,
                                    o->psk_len);
    if (rc == ANYDTLS_OK && o->psk_len > 0 && role == ANYDTLS_SERVER)
        rc = anydtls_config_set_psk_server(cfg, o->psk_identity, psk_lookup, (void *)o);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_build(cfg);
    return rc;
}

/* ---------------- the session's data loop ---------------- */

/* Send one read of standard input.  Returns 1 at end of input, 0 after
 * sending, < 0 on failure. */
static int send_input(anydtls_session *s)
{
    uint8_t buf[ANYDTLS_MTU_MAX];
    int max = anydtls_max_payload(s);
    if (max < 0)
        return max;
    ssize_t n = read(STDIN_FILENO, buf, (size_t)max);
    if (n <= 0)
        return 1;
    int rc = anydtls_write(s, buf, (size_t)n);
    return rc < 0 ? rc : 0;
}

/* Take what arrived.  Returns 1 when the peer closed, 0 otherwise, < 0 on
 * failure. */
static int receive(anydtls_session *s, bool echo)
{
    uint8_t buf[ANYDTLS_MTU_MAX];
    for (;;) {
        int n = anydtls_read(s, buf, sizeof buf);
        if (n == ANYDTLS_E_WANT_READ)
            return 0;
        if (n == ANYDTLS_E_CLOSED)
            return 1;
        if (n < 0)
            return n;
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
            return ANYDTLS_E_IO;
        if (echo && (n = anydtls_write(s, buf, (size_t)n)) < 0)
            return n;
    }
}

/* Relay standard input and the session until the peer closes, or (when
 * linger_ms >= 0) linger_ms pass without data after the end of input. */
static int relay(anydtls_session *s, int fd, bool echo, bool use_stdin, int linger_ms)
{
    bool input_open = use_stdin;
    double idle_since = net_now_ms();
    for (;;) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int wait = input_open || linger_ms < 0 ? -1 : 50;
        if (poll(p, input_open ? 2 : 1, wait) < 0 && errno != EINTR)
            return ANYDTLS_E_IO;
        if (p[0].revents) {
            int rc = receive(s, echo);
            if (rc != 0)
                return rc > 0 ? ANYDTLS_E_CLOSED : rc;
            idle_since = net_now_ms();
        }
        if (input_open && p[1].revents) {
            int rc = send_input(s);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                input_open = false;
                idle_since = net_now_ms();
            }
        }
        if (!input_open && linger_ms >= 0 && net_now_ms() - idle_since >= linger_ms)
            return ANYDTLS_OK;
    }
}

static void report_session(const anydtls_session *s, const struct options *o, double ms,
                           const char *who)
{
    if (o->quiet)
        return;
    fprintf(stderr, "anydtls: %s: %s %s, handshake %.2f ms", who, anydtls_protocol(s),
            anydtls_cipher(s), ms);
    if (anydtls_psk_identity(s) != NULL)
        fprintf(stderr, ", PSK identity %s", anydtls_psk_identity(s));
    if (anydtls_session_resumed(s))
        fprintf(stderr, ", resumed");
    fprintf(stderr, " [%s %s]\n", anydtls_backend_name(), anydtls_backend_version());
}

/* ---------------- client ---------------- */

/* Session state holds the master secret: clear it off the stack. */
static void wipe(uint8_t *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* --session FILE: offer the saved session, if there is one.  A file that
 * cannot be read or resumed from means a full handshake, not a failure. */
static void offer_session(anydtls_session *s, const char *path, bool verbose)
{
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    FILE *f = path != NULL ? fopen(path, "rb") : NULL;
    if (f == NULL)
        return;
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    int rc = n > 0 ? anydtls_session_resume(s, data, n) : ANYDTLS_E_INVALID_ARG;
    if (rc != ANYDTLS_OK && verbose)
        fprintf(stderr, "anydtls: client: cannot resume from %s: %s\n", path, anydtls_strerror(rc));
    wipe(data, sizeof data);
}

/* Save the established session to path, readable by its owner only. */
static void save_session(anydtls_session *s, const char *path)
{
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    int n = anydtls_session_save(s, data, sizeof data);
    int fd = n > 0 ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    if (fd < 0 || write(fd, data, (size_t)n) != n)
        fprintf(stderr, "anydtls: client: cannot save the session to %s: %s\n", path,
                n > 0 ? strerror(errno) : anydtls_strerror(n));
    if (fd >= 0)
        close(fd);
    wipe(data, sizeof data);
}

int cli_client(int argc, char **argv)
{
    struct options o;
    int status = parse_options(argc, argv, &o);
    if (status != 0)
        return status;
    if (argc - optind != 2)
        return usage_error("client wants HOST PORT", NULL);
    const char *host = argv[optind];
    unsigned port;
    if (parse_unsigned(argv[optind + 1], &port) != 0 || port == 0 || port > 65535)
        return usage_error("bad port", argv[optind + 1]);
    anydtls_config *cfg = NULL;
    anydtls_transport *t = NULL;
    anydtls_session *s = NULL;
    anydtls_addr peer;
    int fd = -1;
    int rc = anydtls_config_new(&cfg, ANYDTLS_CLIENT);
    if (rc == ANYDTLS_OK && (rc = configure(cfg, &o, ANYDTLS_CLIENT, host)) != ANYDTLS_OK) {
        status = fail_status("configuration", rc, anydtls_config_error(cfg));
        goto done;
    }
    fd = rc == ANYDTLS_OK ? net_connect(host, port, &peer) : -1;
    if (rc == ANYDTLS_OK && fd < 0)
        rc = ANYDTLS_E_IO;
    if (rc == ANYDTLS_OK)
        rc = anydtls_transport_new_udp(&t, fd);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&s, cfg, t);
    if (rc == ANYDTLS_OK)
        offer_session(s, o.session_file, o.verbose);
    double start = net_now_ms();
    if (rc == ANYDTLS_OK && (rc = net_handshake(s, fd)) == ANYDTLS_OK)
        report_session(s, &o, net_now_ms() - start, "client");
    if (rc == ANYDTLS_OK && o.session_file != NULL)
        save_session(s, o.session_file);
    if (rc == ANYDTLS_OK)
        rc = relay(s, fd, false, true, (int)o.linger_ms);
    if (rc == ANYDTLS_OK)
        rc = anydtls_shutdown(s);
    if (rc == ANYDTLS_E_CLOSED)
        rc = ANYDTLS_OK;
    status = rc == ANYDTLS_OK ? 0 : fail_status("client", rc, anydtls_error_detail(s));
    if (rc == ANYDTLS_OK && o.verbose)
        fprintf(stderr, "anydtls: client: closed\n");
done:
    anydtls_session_free(s);
    anydtls_transport_free(t);
    anydtls_config_free(cfg);
    if (fd >= 0)
        close(fd);
    return status;
}

/* ---------------- server ---------------- */

/* One peer: cookie exchange, handshake, relay until it closes. */
static int serve_one(anydtls_config *cfg, int fd, const struct options *o)
{
    anydtls_transport *t = NULL;
    anydtls_session *s = NULL;
    anydtls_addr peer;
    char who[80] = "server";
    int rc = net_accept(cfg, fd, -1, &t, &s, &peer);
    double start = net_now_ms();
    if (rc == ANYDTLS_OK) {
        char a[64];
        if (anydtls_addr_format(&peer, a, sizeof a) > 0)
            snprintf(who, sizeof who, "server: peer %s", a);
        rc = net_handshake(s, fd);
    }
    if (rc == ANYDTLS_OK) {
        report_session(s, o, net_now_ms() - start, who);
        rc = relay(s, fd, o->echo, !o->echo, -1);
    }
    if (rc == ANYDTLS_E_CLOSED) {
        rc = ANYDTLS_OK;
        anydtls_shutdown(s);
        if (o->verbose)
            fprintf(stderr, "anydtls: %s: closed\n", who);
    }
    if (rc != ANYDTLS_OK && !o->quiet)
        fprintf(stderr, "anydtls: %s: %s (%s)\n", who, anydtls_strerror(rc),
                anydtls_error_detail(s));
    anydtls_session_free(s);
    anydtls_transport_free(t);
    /* Forget the peer so the socket hears the next one. */
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    connect(fd, &unspec, sizeof unspec);
    return rc;
}

int cli_server(int argc, char **argv)
{
    struct options o;
    int status = parse_options(argc, argv, &o);
    if (status != 0)
        return status;
    if (argc - optind != 1)
        return usage_error("server wants PORT", NULL);
    unsigned port;
    if (parse_unsigned(argv[optind], &port) != 0 || port > 65535)
        return usage_error("bad port", argv[optind]);
    anydtls_config *cfg = NULL;
    anydtls_addr bound;
    int fd = -1;
    int rc = anydtls_config_new(&cfg, ANYDTLS_SERVER);
    if (rc == ANYDTLS_OK && (rc = configure(cfg, &o, ANYDTLS_SERVER, NULL)) != ANYDTLS_OK) {
        status = fail_status("configuration", rc, anydtls_config_error(cfg));
        goto done;
    }
    fd = net_bind(o.bind != NULL ? o.bind : "127.0.0.1", port, &bound);
    if (fd < 0) {
        status = fail_status("bind", ANYDTLS_E_IO, strerror(errno));
        goto done;
    }
    char a[64] = "?";
    anydtls_addr_format(&bound, a, sizeof a);
    if (!o.quiet)
        fprintf(stderr, "anydtls: server: listening on %s\n", a);
    do
        rc = serve_one(cfg, fd, &o);
    while (!o.once);
    status = rc == ANYDTLS_OK ? 0 : -rc;
done:
    anydtls_config_free(cfg);
    if (fd >= 0)
        close(fd);
    return status;
}
