/*
 * anydtls client HOST PORT / anydtls server [--bind ADDR] PORT
 *
 * Standard input is sent as application data (one record per read, at most
 * one datagram's payload); what arrives goes to standard output.  Exit
 * status 0 after a clean close, else the ANYDTLS_E_* code negated (1..19)
 * with its anydtls_strerror text on standard error (3 also for a session
 * ended by --idle-timeout, 19 for a --ca, --cert or --key file that cannot
 * be used); 64 for bad usage (also a --bind or HOST that cannot be one).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 64
#define STR_(x) #x
#define STR(x) STR_(x)
/* The smallest --mtu with which every flavour completes a certificate
 * handshake (see doc/anydtls.1); the library itself takes ANYDTLS_MTU_MIN. */
#define CLI_MTU_MIN 512
/* --idle-timeout: its ceiling (a day) and the server's default; a client
 * waits for its server without limit unless told otherwise. */
#define IDLE_MAX_S 86400
#define IDLE_SERVER_DEFAULT_S 60

struct options {
    const char *ca, *cert, *key, *psk_identity, *name, *bind, *session_file;
    uint8_t psk[ANYDTLS_PSK_MAX];
    size_t psk_len;
    bool no_verify, quiet, verbose, once, echo, resumption;
    bool idle_set;
    unsigned mtu, timeout_ms, cookie_key_length, linger_ms, idle_s;
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
    "  --idle-timeout S       close a session when nothing has arrived from\n"
    "                         the peer for S seconds, 0..86400 (0: never;\n"
    "                         default: server 60, client 0)\n"
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
    "code (10: certificate not trusted, 3: timeout or --idle-timeout,\n"
    "13: unknown PSK identity, 18: PSK keys differ, 19: a --ca, --cert or\n"
    "--key file that cannot be used, ...) with its message on standard\n"
    "error; 64 for bad usage (also a bad --bind or HOST value, or an\n"
    "option of the other role: \"--echo is a server option\").\n";

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
       OPT_VERBOSE, OPT_HELP, OPT_RESUMPTION, OPT_SESSION, OPT_IDLE };

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
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "anydtls: %s%s%s\n%s", what, arg ? ": " : "", arg ? arg : "", usage_text);
    return EXIT_USAGE;
}

/* The options that mean something to one role only: given to the other,
 * they are a mistake to report, not a setting to ignore. */
static const struct {
    int opt;
    const char *name;
    bool server; /* true: server only; false: client only */
} role_options[] = {
    {OPT_NAME, "--name", false},          {OPT_SESSION, "--session", false},
    {OPT_LINGER, "--linger", false},      {OPT_COOKIE_LEN, "--cookie-key-length", true},
    {OPT_RESUMPTION, "--resumption", true}, {OPT_BIND, "--bind", true},
    {OPT_ONCE, "--once", true},           {OPT_ECHO, "--echo", true},
};

/* 0 when opt belongs to role (or to both), else the usage status. */
static int check_role(int opt, bool server)
{
    for (size_t i = 0; i < sizeof role_options / sizeof role_options[0]; i++) {
        if (role_options[i].opt != opt || role_options[i].server == server)
            continue;
        char what[64];
        snprintf(what, sizeof what, "%s is a %s option", role_options[i].name,
                 role_options[i].server ? "server" : "client");
        return usage_error(what, NULL);
    }
    return 0;
}

/* Parse options; returns 0, or the exit status to leave with. */
static int parse_options(int argc, char **argv, bool server, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->linger_ms = 1000;
    int c, status;
    optind = 1;
    opterr = 0; /* the messages are ours, one per mistake */
    while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        if ((status = check_role(c, server)) != 0)
            return status;
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
        case OPT_IDLE:
            if (parse_ranged(optarg, 0, IDLE_MAX_S, &o->idle_s) != 0)
                return usage_error("--idle-timeout wants seconds from 0 (never) to "
                                   STR(IDLE_MAX_S), optarg);
            o->idle_set = true;
            break;
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

/* Session state and key files hold secrets: clear them from memory. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* ---------------- the --ca, --cert and --key files ---------------- */

/* Each file option's file is checked here before the TLS library sees it,
 * so that every mistake names the option, the file and what is wrong
 * with it, in the same words on every flavour: cannot be opened, a
 * directory, empty, not PEM, no block of the kind wanted, a block that is
 * not base64 DER, an encrypted key.  What only the TLS library can
 * find (a key that does not match its certificate, an algorithm it does
 * not take) is found by loading each file on its own (diagnose_load).
 * Every such failure is status 19 (ANYDTLS_E_CREDENTIALS). */
#define PEM_FILE_MAX (16u << 20)

enum pem_want { WANT_CERTS, WANT_KEY };

struct pem_block {
    const char *label, *body; /* label: after "-----BEGIN "; body: its base64 */
    size_t label_len, body_len;
};

/* The first occurrence of needle in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p != NULL && (size_t)(end - p) >= n; p++)
        if (memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

/* The next PEM block from *p on: 1 and *b, 0 when there is none, -1 for
 * a BEGIN line whose END line is missing (b->label says which). */
static int next_block(const char **p, const char *end, struct pem_block *b)
{
    for (;;) {
        const char *begin = find(*p, end, "-----BEGIN ");
        if (begin == NULL)
            return 0;
        b->label = begin + 11;
        const char *close = find(b->label, end, "-----");
        const char *eol = find(b->label, end, "\n");
        *p = b->label;
        if (close == NULL || (eol != NULL && eol < close))
            continue; /* not a BEGIN line */
        b->label_len = (size_t)(close - b->label);
        b->body = close + 5;
        const char *stop = find(b->body, end, "-----END ");
        if (stop == NULL || (size_t)(end - stop) < 9 + b->label_len + 5 ||
            memcmp(stop + 9, b->label, b->label_len) != 0 ||
            memcmp(stop + 9 + b->label_len, "-----", 5) != 0)
            return -1;
        b->body_len = (size_t)(stop - b->body);
        *p = stop + 9 + b->label_len + 5;
        return 1;
    }
}

static bool label_is(const struct pem_block *b, const char *label)
{
    return b->label_len == strlen(label) && memcmp(b->label, label, b->label_len) == 0;
}

static bool is_cert(const struct pem_block *b)
{
    return label_is(b, "CERTIFICATE") || label_is(b, "TRUSTED CERTIFICATE") ||
           label_is(b, "X509 CERTIFICATE");
}

static bool is_key(const struct pem_block *b)
{
    return b->label_len >= 11 && memcmp(b->label + b->label_len - 11, "PRIVATE KEY", 11) == 0;
}

static bool is_encrypted(const struct pem_block *b)
{
    return find(b->label, b->label + b->label_len, "ENCRYPTED") != NULL ||
           find(b->body, b->body + b->body_len, "Proc-Type:") != NULL;
}

/* Whether a block's body is base64 whose bytes start a DER SEQUENCE
 * (0x30, so the first base64 digit is 'M'). */
static bool body_ok(const struct pem_block *b)
{
    size_t digits = 0;
    char first = 0;
    for (size_t i = 0; i < b->body_len; i++) {
        char c = b->body[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
            c != '+' && c != '/' && c != '=')
            return false;
        if (digits++ == 0)
            first = c;
    }
    return digits >= 4 && digits % 4 == 0 && first == 'M';
}

/* What is wrong with a file's contents, or NULL when it holds what is
 * wanted: certificates (every one well-formed) or a private key. */
static const char *pem_problem(const char *buf, size_t len, enum pem_want want, char *msg,
                               size_t cap)
{
    const char *p = buf, *end = buf + len;
    struct pem_block b;
    int rc, blocks = 0, wanted = 0, certs = 0, keys = 0;
    while ((rc = next_block(&p, end, &b)) == 1) {
        blocks++;
        certs += is_cert(&b);
        keys += is_key(&b);
        if (want == WANT_CERTS ? !is_cert(&b) : !is_key(&b))
            continue;
        wanted++;
        if (want == WANT_KEY && is_encrypted(&b))
            return "the private key is encrypted (keys with a passphrase are not supported)";
        if (!body_ok(&b)) {
            snprintf(msg, cap, "%s %d is damaged (its PEM body is not base64 DER)",
                     want == WANT_KEY ? "private key" : "certificate", wanted);
            return msg;
        }
        if (want == WANT_KEY)
            return NULL; /* the first key is the one used */
    }
    if (rc < 0) {
        snprintf(msg, cap, "not PEM: \"-----BEGIN %.*s-----\" has no END line", (int)b.label_len,
                 b.label);
        return msg;
    }
    if (wanted > 0)
        return NULL;
    if (want == WANT_CERTS && keys > 0)
        return "holds a private key but no certificate";
    if (want == WANT_KEY && certs > 0)
        return "holds a certificate but no private key";
    if (blocks > 0)
        return want == WANT_KEY ? "holds no private key (no -----BEGIN ... PRIVATE KEY----- block)"
                                : "holds no certificate (no -----BEGIN CERTIFICATE----- block)";
    return want == WANT_KEY ? "not PEM (no -----BEGIN ... PRIVATE KEY----- line)"
                            : "not PEM (no -----BEGIN CERTIFICATE----- line)";
}

/* What is wrong with st as a PEM file's, or NULL: it must be a regular
 * file (a FIFO would block the open, a device is never PEM), not empty
 * and not huge. */
static const char *not_pem_stat(const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return "is a directory, not a PEM file";
    if (!S_ISREG(st->st_mode))
        return "not a regular file";
    if (st->st_size == 0)
        return "empty file";
    if ((uintmax_t)st->st_size > PEM_FILE_MAX)
        return "is larger than 16 MiB: not a PEM file";
    return NULL;
}

/* What is wrong with path as a PEM file before it is opened, or NULL. */
static const char *not_pem_file(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 ? strerror(errno) : not_pem_stat(&st);
}

/* Read the file whole into buf (malloc'd, the caller wipes and frees
 * it); NULL, or what is wrong (checked again: the path may have been
 * replaced since it was checked). */
static const char *read_whole(FILE *f, char **buf, size_t *len)
{
    struct stat st;
    const char *why;
    *buf = NULL;
    if (fstat(fileno(f), &st) != 0)
        return strerror(errno);
    if ((why = not_pem_stat(&st)) != NULL)
        return why;
    if ((*buf = malloc((size_t)st.st_size)) == NULL)
        return strerror(ENOMEM);
    *len = fread(*buf, 1, (size_t)st.st_size, f);
    if (ferror(f))
        return strerror(errno != 0 ? errno : EIO);
    return NULL;
}

/* A file option's file: say which option and file, and what is wrong,
 * rather than the TLS library's words for it.  0, or the exit status. */
static int check_file(const char *option, const char *path, enum pem_want want)
{
    if (path == NULL)
        return 0;
    char msg[120];
    char *buf = NULL;
    size_t len = 0;
    const char *why = not_pem_file(path);
    FILE *f = why == NULL ? fopen(path, "r") : NULL;
    if (why == NULL && f == NULL)
        why = strerror(errno);
    else if (f != NULL && (why = read_whole(f, &buf, &len)) == NULL)
        why = pem_problem(buf, len, want, msg, sizeof msg);
    if (f != NULL)
        fclose(f);
    if (buf != NULL)
        wipe(buf, len); /* a key file */
    free(buf);
    if (why == NULL)
        return 0;
    fprintf(stderr, "anydtls: %s %s: %s\n", option, path, why);
    return -ANYDTLS_E_CREDENTIALS;
}

static int check_files(const struct options *o)
{
    int status = check_file("--ca", o->ca, WANT_CERTS);
    if (status == 0)
        status = check_file("--cert", o->cert, WANT_CERTS);
    if (status == 0)
        status = check_file("--key", o->key, WANT_KEY);
    return status;
}

/* Whether the TLS library loads ca alone, or cert with key alone, in a
 * configuration of the given role; if not, its message goes to why. */
static bool loads(anydtls_role role, const char *ca, const char *cert, const char *key,
                  char *why, size_t cap)
{
    anydtls_config *c = NULL;
    int rc = anydtls_config_new(&c, role);
    if (rc == ANYDTLS_OK && ca != NULL)
        rc = anydtls_config_set_ca_file(c, ca);
    if (rc == ANYDTLS_OK && cert != NULL)
        rc = anydtls_config_set_cert_file(c, cert, key);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_build(c);
    if (rc != ANYDTLS_OK)
        snprintf(why, cap, "%s", c != NULL && anydtls_config_error(c) != NULL &&
                                         *anydtls_config_error(c) != '\0'
                                     ? anydtls_config_error(c)
                                     : anydtls_strerror(rc));
    anydtls_config_free(c);
    return rc == ANYDTLS_OK;
}

/* The configuration failed with ANYDTLS_E_CREDENTIALS although every file
 * looked right: find which file the TLS library refuses and say so on
 * one line.  The exit status, or 0 when neither alone fails. */
static int diagnose_load(const struct options *o, anydtls_role role)
{
    char why[200];
    if (o->ca != NULL && !loads(ANYDTLS_CLIENT, o->ca, NULL, NULL, why, sizeof why)) {
        fprintf(stderr, "anydtls: --ca %s: the TLS library cannot use its certificates (%s)\n",
                o->ca, why);
        return -ANYDTLS_E_CREDENTIALS;
    }
    if (o->cert == NULL || loads(role, NULL, o->cert, o->key, why, sizeof why))
        return 0;
    /* Every flavour says "private key does not match certificate" for a key
     * that is not the certificate's, of either type (doc/architecture.md,
     * section 6). */
    if (strstr(why, "match") != NULL)
        fprintf(stderr, "anydtls: --key %s does not match the certificate in --cert %s (%s)\n",
                o->key, o->cert, why);
    else
        fprintf(stderr, "anydtls: --cert %s, --key %s: the TLS library cannot use them (%s)\n",
                o->cert, o->key, why);
    return -ANYDTLS_E_CREDENTIALS;
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
    if (rc == ANYDTLS_E_CREDENTIALS && (status = diagnose_load(o, role)) != 0)
        return status;
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

/* relay's result when --idle-timeout ended the session. */
#define RELAY_IDLE 1

/* How long relay's poll may wait: wait_ms (-1: no limit), but no longer
 * than until idle_ms (0: never) have passed since heard_ms. */
static int poll_wait(int wait_ms, double heard_ms, unsigned idle_ms)
{
    if (idle_ms == 0)
        return wait_ms;
    double left = heard_ms + idle_ms - net_now_ms();
    int idle_wait = left <= 0 ? 0 : (int)left + 1;
    return wait_ms < 0 || idle_wait < wait_ms ? idle_wait : wait_ms;
}

/* Relay standard input and the session until the peer closes, or (when
 * linger_ms >= 0) linger_ms pass without data after the end of input, or
 * (when idle_ms > 0) idle_ms pass without a datagram from the peer: then
 * RELAY_IDLE.  Only what arrives counts: DTLS acknowledges no application
 * data, so sending says nothing about whether the peer is still there. */
static int relay(anydtls_session *s, int fd, bool echo, bool use_stdin, int linger_ms,
                 unsigned idle_ms)
{
    bool input_open = use_stdin;
    double idle_since = net_now_ms(), heard = idle_since;
    struct pace pace;
    pace_init(&pace);
    for (;;) {
        if (idle_ms > 0 && net_now_ms() - heard >= idle_ms)
            return RELAY_IDLE;
        struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int wait = poll_wait(input_open || linger_ms < 0 ? -1 : 50, heard, idle_ms);
        if (poll(p, input_open ? 2 : 1, wait) < 0 && errno != EINTR)
            return ANYDTLS_E_IO;
        if (p[0].revents) {
            int rc = receive(s, fd, &pace, echo);
            if (rc != 0)
                return rc > 0 ? ANYDTLS_E_CLOSED : rc;
            idle_since = heard = net_now_ms();
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

/* Whether HOST can be a host name or a numeric address at all: what
 * cannot is a usage mistake (status 64), not a network failure.  A name
 * has letters, digits, '-', '_' and '.' only, and one made of digits and
 * dots only, or anything with a ':', must be a numeric address (a scope,
 * "%eth0", is allowed there).  Whether a name resolves is the network's
 * answer (status 8). */
static bool host_syntax_ok(const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len > 253)
        return false;
    bool numeric = strspn(host, "0123456789.") == len || strchr(host, ':') != NULL;
    if (!numeric)
        return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
               len;
    /* Digits and dots: a dotted quad, as the library reads it, not the
     * legacy forms getaddrinfo takes ("1.2.3" is 1.2.0.3). */
    struct in_addr v4;
    if (strchr(host, ':') == NULL)
        return inet_pton(AF_INET, host, &v4) == 1;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return false;
    freeaddrinfo(res);
    return true;
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
    int status = parse_options(argc, argv, false, &o);
    if (status != 0)
        return status;
    if (argc - optind != 2)
        return usage_error("client wants HOST PORT", NULL);
    const char *host = argv[optind];
    unsigned port;
    if (parse_unsigned(argv[optind + 1], &port) != 0 || port == 0 || port > 65535)
        return usage_error("bad port", argv[optind + 1]);
    if (!host_syntax_ok(host))
        return usage_error("HOST wants a host name or a numeric IPv4 or IPv6 address", host);
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
        rc = relay(s, fd, false, true, (int)o.linger_ms, o.idle_s * 1000u);
    if (rc == RELAY_IDLE) {
        anydtls_shutdown(s);
        fprintf(stderr, "anydtls: client: nothing from the server for %u s (--idle-timeout): "
                        "session closed\n", o.idle_s);
        status = -ANYDTLS_E_TIMEOUT;
        goto done;
    }
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
        rc = relay(s, fd, o->echo, !o->echo, -1, o->idle_s * 1000u);
    }
    if (rc == RELAY_IDLE) {
        /* The peer may have vanished without close_notify (killed, or its
         * network gone): this session must not keep the next peer out. */
        anydtls_shutdown(s);
        fprintf(stderr, "anydtls: %s: nothing from the peer for %u s (--idle-timeout): "
                        "session closed\n", who, o->idle_s);
        rc = ANYDTLS_E_TIMEOUT;
        goto done;
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
done:
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
    int status = parse_options(argc, argv, true, &o);
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
    const char *bind_addr = o.bind != NULL ? o.bind : "127.0.0.1";
    if (anydtls_addr_from_string(&bound, bind_addr, 0) != ANYDTLS_OK)
        return usage_error("--bind wants a numeric IPv4 or IPv6 address (127.0.0.1, ::1, ::)",
                           bind_addr);
    if (!o.idle_set)
        o.idle_s = IDLE_SERVER_DEFAULT_S;
    if ((status = setup(&cfg, &o, ANYDTLS_SERVER, NULL)) != 0)
        goto done;
    fd = net_bind(bind_addr, port, &bound);
    if (fd < 0) {
        char what[120];
        snprintf(what, sizeof what, "--bind %s port %u: cannot bind", bind_addr, port);
        status = fail_status(what, ANYDTLS_E_IO, strerror(errno));
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
