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
#define STR_(x) #x
#define STR(x) STR_(x)
/* The smallest --mtu with which every flavour completes a certificate
 * handshake (see doc/anydtls.1); the library itself takes ANYDTLS_MTU_MIN. */
#define CLI_MTU_MIN 512

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
    "Standard input is sent to the peer (paced: DTLS does not retransmit\n"
    "application data); what the peer sends is written to standard output.\n"
    "The server serves one peer after another (stateless cookie exchange for\n"
    "every new peer) and needs --cert/--key or --psk.\n"
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
    "  --mtu N                datagram size, 512..18432 (default 1400)\n"
    "  --timeout MS           retransmission: give up when the doubling\n"
    "                         timeout would exceed MS, 10..600000\n"
    "                         (default 60000)\n"
    "  --cookie-key-length N  server: cookie key bytes, 16..64 (default 32)\n"
    "  --resumption           server: issue session tickets, so that clients\n"
    "                         can resume their sessions\n"
    "  --session FILE         client: resume the session saved in FILE if it\n"
    "                         exists; save this one there (mode 0600: it\n"
    "                         holds the master secret)\n"
    "  --bind ADDR            server: numeric address to listen on\n"
    "                         (default 127.0.0.1; :: or ::1 for IPv6)\n"
    "  --once                 server: exit after the first session\n"
    "  --echo                 server: send every message back (in pieces\n"
    "                         when larger than this side's payload)\n"
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
    if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' || v > 0xFFFFFFFFul)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* A number option's value, checked against its documented range. */
static int parse_ranged(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v;
    if (parse_unsigned(s, &v) != 0 || v < lo || v > hi)
        return -1;
    *out = v;
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
    opterr = 0; /* the messages are ours, one per mistake */
    while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_CA: o->ca = optarg; break;
        case OPT_CERT: o->cert = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_PSK_ID:
            if (strlen(optarg) < 1 || strlen(optarg) > ANYDTLS_PSK_IDENTITY_MAX)
                return usage_error("--psk-identity wants 1 to " STR(ANYDTLS_PSK_IDENTITY_MAX)
                                   " bytes", NULL);
            o->psk_identity = optarg;
            break;
        case OPT_PSK:
            if (parse_hex(optarg, o->psk, sizeof o->psk, &o->psk_len) != 0)
                return usage_error("--psk wants 1 to 64 bytes in hex", optarg);
            break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_NO_VERIFY: o->no_verify = true; break;
        case OPT_MTU:
            if (parse_ranged(optarg, CLI_MTU_MIN, ANYDTLS_MTU_MAX, &o->mtu) != 0)
                return usage_error("--mtu wants a datagram size from " STR(CLI_MTU_MIN)
                                   " to " STR(ANYDTLS_MTU_MAX) " bytes", optarg);
            break;
        case OPT_TIMEOUT:
            if (parse_ranged(optarg, 10, 600000, &o->timeout_ms) != 0)
                return usage_error("--timeout wants milliseconds from 10 to 600000", optarg);
            break;
        case OPT_COOKIE_LEN:
            if (parse_ranged(optarg, ANYDTLS_COOKIE_KEY_MIN, ANYDTLS_COOKIE_KEY_MAX,
                             &o->cookie_key_length) != 0)
                return usage_error("--cookie-key-length wants bytes from "
                                   STR(ANYDTLS_COOKIE_KEY_MIN) " to " STR(ANYDTLS_COOKIE_KEY_MAX),
                                   optarg);
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
        case ':': return usage_error("option needs a value", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
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

/* A file option's file must be readable: say which option and file, with
 * the system's reason, rather than the TLS library's words for it. */
static int check_file(const char *option, const char *path)
{
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (path == NULL || f != NULL) {
        if (f != NULL)
            fclose(f);
        return 0;
    }
    fprintf(stderr, "anydtls: %s %s: %s\n", option, path, strerror(errno));
    return -ANYDTLS_E_CREDENTIALS;
}

static int check_files(const struct options *o)
{
    int status = check_file("--ca", o->ca);
    if (status == 0)
        status = check_file("--cert", o->cert);
    if (status == 0)
        status = check_file("--key", o->key);
    return status;
}

/* Apply the options to cfg and build it; *step names what failed. */
static int configure(anydtls_config *cfg, const struct options *o, anydtls_role role,
                     const char *host, const char **step)
{
    int rc = ANYDTLS_OK;
    if (o->ca != NULL && (*step = "--ca", rc = anydtls_config_set_ca_file(cfg, o->ca)) != 0)
        return rc;
    if (o->cert != NULL && (*step = "--cert/--key",
                            rc = anydtls_config_set_cert_file(cfg, o->cert, o->key)) != 0)
        return rc;
    if (o->no_verify &&
        (*step = "--no-verify", rc = anydtls_config_set_verify(cfg, ANYDTLS_VERIFY_NONE)) != 0)
        return rc;
    if (o->mtu != 0 && (*step = "--mtu", rc = anydtls_config_set_mtu(cfg, o->mtu)) != 0)
        return rc;
    if (o->timeout_ms != 0 &&
        (*step = "--timeout",
         rc = anydtls_config_set_timeouts(cfg, o->timeout_ms < 1000 ? o->timeout_ms : 1000,
                                          o->timeout_ms)) != 0)
        return rc;
    if (o->resumption &&
        (*step = "--resumption", rc = anydtls_config_set_resumption(cfg, 1)) != 0)
        return rc;
    if (role == ANYDTLS_SERVER && o->cookie_key_length != 0 &&
        (*step = "--cookie-key-length",
         rc = anydtls_config_set_cookie_key_length(cfg, o->cookie_key_length)) != 0)
        return rc;
    if (role == ANYDTLS_CLIENT && !o->no_verify && o->ca != NULL &&
        (*step = "--name",
         rc = anydtls_config_set_peer_name(cfg, o->name != NULL ? o->name : host)) != 0)
        return rc;
    if (o->psk_len > 0 && role == ANYDTLS_CLIENT &&
        (*step = "--psk", rc = anydtls_config_set_psk(cfg, o->psk_identity ? o->psk_identity
                                                                          : "anydtls",
                                                      o->psk, o->psk_len)) != 0)
        return rc;
    if (o->psk_len > 0 && role == ANYDTLS_SERVER &&
        (*step = "--psk",
         rc = anydtls_config_set_psk_server(cfg, o->psk_identity, psk_lookup, (void *)o)) != 0)
        return rc;
    *step = "configuration";
    return anydtls_config_build(cfg);
}

/* Set up cfg from the options, reporting a failure; 0 or the exit status. */
static int setup(anydtls_config **cfg, const struct options *o, anydtls_role role,
                 const char *host)
{
    int status = check_files(o);
    if (status != 0)
        return status;
    const char *step = "configuration";
    int rc = anydtls_config_new(cfg, role);
    if (rc == ANYDTLS_OK)
        rc = configure(*cfg, o, role, host, &step);
    if (rc == ANYDTLS_OK)
        return 0;
    char what[64];
    snprintf(what, sizeof what, "%s%s", strcmp(step, "configuration") == 0 ? "" : "configuration: ",
             step);
    return fail_status(what, rc, anydtls_config_error(*cfg));
}

/* ---------------- the session's data loop ---------------- */

/* DTLS does not retransmit application data, and a receiver whose socket
 * buffer is full drops what arrives: the sender paces itself.  A burst of
 * PACE_BURST datagrams, then one per PACE_INTERVAL_MS (with 1400-byte
 * datagrams about 5.6 MB/s); doc/anydtls.1 says so. */
#define PACE_BURST 32
#define PACE_INTERVAL_MS 0.25

struct pace {
    double tokens, last_ms;
};

static void pace_init(struct pace *p)
{
    p->tokens = PACE_BURST;
    p->last_ms = net_now_ms();
}

/* Milliseconds to wait before the next datagram may go (0: now). */
static double pace_wait(struct pace *p)
{
    double now = net_now_ms();
    p->tokens += (now - p->last_ms) / PACE_INTERVAL_MS;
    if (p->tokens > PACE_BURST)
        p->tokens = PACE_BURST;
    p->last_ms = now;
    return p->tokens >= 1 ? 0 : (1 - p->tokens) * PACE_INTERVAL_MS;
}

/* Send len bytes as records of at most one datagram's payload each, paced,
 * waiting while the socket cannot take a datagram (WANT_WRITE is not
 * "sent": the same record is written again).  0, or < 0 on failure. */
static int send_all(anydtls_session *s, int fd, struct pace *p, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        int max = anydtls_max_payload(s);
        if (max <= 0)
            return max < 0 ? max : ANYDTLS_E_MSG_TOO_BIG;
        double wait = pace_wait(p);
        if (wait > 0) {
            poll(NULL, 0, (int)wait + 1);
            continue;
        }
        size_t n = len < (size_t)max ? len : (size_t)max;
        int rc = anydtls_write(s, buf, n);
        if (rc == ANYDTLS_E_WANT_WRITE) {
            struct pollfd out = {fd, POLLOUT, 0};
            if (poll(&out, 1, 1000) < 0 && errno != EINTR)
                return ANYDTLS_E_IO;
            continue;
        }
        if (rc < 0)
            return rc;
        p->tokens -= 1;
        buf += n;
        len -= n;
    }
    return 0;
}

/* Send one read of standard input.  Returns 1 at end of input, 0 after
 * sending, < 0 on failure. */
static int send_input(anydtls_session *s, int fd, struct pace *p)
{
    uint8_t buf[ANYDTLS_MTU_MAX];
    int max = anydtls_max_payload(s);
    if (max < 0)
        return max;
    ssize_t n = read(STDIN_FILENO, buf, (size_t)max < sizeof buf ? (size_t)max : sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0)
        return ANYDTLS_E_IO;
    if (n == 0)
        return 1;
    return send_all(s, fd, p, buf, (size_t)n);
}

/* Take what arrived.  Returns 1 when the peer closed, 0 otherwise, < 0 on
 * failure.  An echoed record larger than this side's own payload (a peer
 * with a larger MTU) goes back in pieces. */
static int receive(anydtls_session *s, int fd, struct pace *p, bool echo)
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
        if (echo && (n = send_all(s, fd, p, buf, (size_t)n)) < 0)
            return n;
    }
}

/* Relay standard input and the session until the peer closes, or (when
 * linger_ms >= 0) linger_ms pass without data after the end of input. */
static int relay(anydtls_session *s, int fd, bool echo, bool use_stdin, int linger_ms)
{
    bool input_open = use_stdin;
    double idle_since = net_now_ms();
    struct pace pace;
    pace_init(&pace);
    for (;;) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int wait = input_open || linger_ms < 0 ? -1 : 50;
        if (poll(p, input_open ? 2 : 1, wait) < 0 && errno != EINTR)
            return ANYDTLS_E_IO;
        if (p[0].revents) {
            int rc = receive(s, fd, &pace, echo);
            if (rc != 0)
                return rc > 0 ? ANYDTLS_E_CLOSED : rc;
            idle_since = net_now_ms();
        }
        if (input_open && p[1].revents) {
            int rc = send_input(s, fd, &pace);
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
    const char *why = NULL;
    int rc = ANYDTLS_OK;
    if ((status = setup(&cfg, &o, ANYDTLS_CLIENT, host)) != 0)
        goto done;
    if ((fd = net_connect(host, port, &peer, &why)) < 0) {
        char what[300];
        snprintf(what, sizeof what, "client: cannot reach %s port %u", host, port);
        status = fail_status(what, ANYDTLS_E_IO, why);
        goto done;
    }
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
    struct net_hello hello;
    char who[80] = "server";
    int rc = net_accept(cfg, fd, -1, &t, &s, &hello);
    double start = net_now_ms();
    if (rc == ANYDTLS_OK) {
        char a[64];
        if (anydtls_addr_format(&hello.peer, a, sizeof a) > 0)
            snprintf(who, sizeof who, "server: peer %s", a);
        if ((rc = net_handshake(s, fd)) != ANYDTLS_OK)
            net_hello_failed(&hello);
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
    int rc;
    if (o.cert == NULL && o.psk_len == 0)
        return usage_error("server needs credentials: --cert and --key, or --psk", NULL);
    if ((status = setup(&cfg, &o, ANYDTLS_SERVER, NULL)) != 0)
        goto done;
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
