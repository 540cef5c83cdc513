/* Shared pieces of the fuzz harnesses and the seed generator (fuzz.h). */
#include "fuzz.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC_HDR 13
#define HS_HDR 12
#define CH_FIXED 34 /* client_version + random */
#define PSK_IDENTITY "client1"

static const uint8_t psk_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

/* Configurations by role and kind: certificates, PSK, mutual certificates. */
enum { KIND_CERT, KIND_PSK, KIND_MUTUAL, KINDS };
static anydtls_config *configs[2][KINDS];
static char pki_dir[512];
static bool have_pki;

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

bool fuzz_next_dgram(struct fuzz_input *in, const uint8_t **d, size_t *len)
{
    while (in->left >= 2) {
        size_t n = (size_t)in->p[0] << 8 | in->p[1];
        in->p += 2;
        in->left -= 2;
        if (n > in->left)
            n = in->left;
        *d = in->p;
        *len = n;
        in->p += n;
        in->left -= n;
        if (n > 0)
            return true;
    }
    return false;
}

static const char *pki(const char *name)
{
    static char bufs[2][600];
    static int next;
    char *b = bufs[next++ % 2];
    snprintf(b, sizeof bufs[0], "%s/%s", pki_dir, name);
    return b;
}

static int psk_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    if (strcmp(identity, PSK_IDENTITY) != 0 || cap < sizeof psk_key)
        return -1;
    memcpy(key, psk_key, sizeof psk_key);
    return (int)sizeof psk_key;
}

static int set_credentials(anydtls_config *cfg, anydtls_role role, unsigned flags)
{
    bool mutual = (flags & FUZZ_MUTUAL) != 0;
    if (flags & FUZZ_PSK)
        return role == ANYDTLS_CLIENT
                   ? anydtls_config_set_psk(cfg, PSK_IDENTITY, psk_key, sizeof psk_key)
                   : anydtls_config_set_psk_server(cfg, "anydtls fuzz hint", psk_lookup, NULL);
    if (role == ANYDTLS_SERVER) {
        int rc = anydtls_config_set_cert_file(cfg, pki("server.pem"), pki("server.key"));
        return rc == ANYDTLS_OK && mutual ? anydtls_config_set_ca_file(cfg, pki("ca.pem")) : rc;
    }
    int rc = anydtls_config_set_ca_file(cfg, pki("ca.pem"));
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_peer_name(cfg, "localhost");
    if (rc == ANYDTLS_OK && mutual)
        rc = anydtls_config_set_cert_file(cfg, pki("client.pem"), pki("client.key"));
    return rc;
}

anydtls_config *fuzz_config_new(anydtls_role role, unsigned flags, unsigned mtu)
{
    anydtls_config *cfg = NULL;
    if (!have_pki)
        flags |= FUZZ_PSK;
    int rc = anydtls_config_new(&cfg, role);
    if (rc == ANYDTLS_OK)
        rc = set_credentials(cfg, role, flags);
    /* Timers that never fire within a run: the harnesses do not wait. */
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_timeouts(cfg, 60000, 600000);
    if (rc == ANYDTLS_OK && mtu != 0 && (anydtls_backend_caps() & ANYDTLS_CAP_MTU))
        rc = anydtls_config_set_mtu(cfg, mtu);
    if (rc != ANYDTLS_OK)
        FUZZ_FAIL("configuration (role %d, flags 0x%x): %s", role, flags, anydtls_strerror(rc));
    return cfg;
}

static bool find_pki(const char *argv0)
{
    const char *env = getenv("ANYDTLS_PKI");
    if (env != NULL && *env != '\0') {
        snprintf(pki_dir, sizeof pki_dir, "%s", env);
    } else {
        const char *slash = argv0 != NULL ? strrchr(argv0, '/') : NULL;
        int dir_len = slash != NULL ? (int)(slash - argv0) : 1;
        snprintf(pki_dir, sizeof pki_dir, "%.*s/pki", dir_len, slash != NULL ? argv0 : ".");
    }
    static const char *const files[] = {"ca.pem", "server.pem", "server.key", "client.pem",
                                        "client.key"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (access(pki(files[i]), R_OK) != 0)
            return false;
    return true;
}

void fuzz_setup(const char *argv0)
{
    static const unsigned kind_flags[KINDS] = {0, FUZZ_PSK, FUZZ_MUTUAL};
    if (configs[0][0] != NULL)
        return;
    have_pki = find_pki(argv0);
    if (!have_pki)
        fprintf(stderr,
                "fuzz: no test PKI in %s (make fuzz makes one, or set ANYDTLS_PKI): "
                "certificate modes run with PSK\n",
                pki_dir);
    for (int role = 0; role < 2; role++) {
        for (int k = 0; k < KINDS; k++) {
            anydtls_config *cfg = fuzz_config_new((anydtls_role)role, kind_flags[k], 0);
            int rc = anydtls_config_build(cfg);
            if (rc != ANYDTLS_OK)
                FUZZ_FAIL("build (role %d, kind %d): %s: %s", role, k, anydtls_strerror(rc),
                          anydtls_config_error(cfg));
            configs[role][k] = cfg;
        }
    }
}

anydtls_config *fuzz_config(anydtls_role role, unsigned flags)
{
    int kind = (flags & FUZZ_PSK) ? KIND_PSK : (flags & FUZZ_MUTUAL) ? KIND_MUTUAL : KIND_CERT;
    return configs[role == ANYDTLS_SERVER][kind];
}

const anydtls_addr *fuzz_peer(unsigned flags)
{
    static const anydtls_addr v4 = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};
    static const anydtls_addr v6 = {.family = AF_INET6, .port = 40000, .addr = {[15] = 1}};
    return (flags & FUZZ_IPV6) ? &v6 : &v4;
}

void fuzz_drain(anydtls_transport *t)
{
    static uint8_t buf[FUZZ_MAX_DGRAM];
    while (anydtls_memory_pop(t, buf, sizeof buf) >= 0)
        ;
}

int fuzz_drive(anydtls_session *s)
{
    uint8_t buf[4096];
    int rc = anydtls_handshake(s);
    for (int i = 0; rc >= 0 && i < 16; i++)
        rc = anydtls_read(s, buf, sizeof buf);
    return rc;
}

void fuzz_probe(anydtls_session *s)
{
    static uint8_t der[16384];
    uint8_t key[32];
    uint32_t ms;
    if (anydtls_cipher(s) == NULL || anydtls_protocol(s) == NULL)
        FUZZ_FAIL("an established session names no cipher or protocol");
    (void)anydtls_psk_identity(s);
    (void)anydtls_peer_cert_der(s, der, sizeof der);
    (void)anydtls_max_payload(s);
    (void)anydtls_export_keying_material(s, key, sizeof key, "EXPERIMENTAL anydtls fuzz", NULL, 0);
    (void)anydtls_get_timeout(s, &ms);
    (void)anydtls_shutdown(s);
}

static void put_uint(uint8_t *p, size_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static size_t get_uint(const uint8_t *p, size_t n)
{
    size_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

size_t fuzz_splice_cookie(const uint8_t *d, size_t len, const uint8_t *cookie, uint8_t *out,
                          size_t cap)
{
    const size_t sid_at = REC_HDR + HS_HDR + CH_FIXED;
    if (len < sid_at + 1 || len < sid_at + 2 + d[sid_at])
        return 0;
    size_t cookie_at = sid_at + 1 + d[sid_at];
    size_t old = d[cookie_at], rest = cookie_at + 1 + old;
    size_t rec_len = get_uint(d + 11, 2) - old + ANYDTLS_COOKIE_LEN;
    size_t n = len - old + ANYDTLS_COOKIE_LEN;
    if (rest > len || rec_len > 0xFFFF || n > cap)
        return 0;
    memcpy(out, d, cookie_at);
    out[cookie_at] = ANYDTLS_COOKIE_LEN;
    memcpy(out + cookie_at + 1, cookie, ANYDTLS_COOKIE_LEN);
    memcpy(out + cookie_at + 1 + ANYDTLS_COOKIE_LEN, d + rest, len - rest);
    put_uint(out + 11, rec_len, 2);
    /* The handshake length and the fragment length (one fragment). */
    put_uint(out + REC_HDR + 1, get_uint(d + REC_HDR + 1, 3) - old + ANYDTLS_COOKIE_LEN, 3);
    put_uint(out + REC_HDR + 9, get_uint(d + REC_HDR + 9, 3) - old + ANYDTLS_COOKIE_LEN, 3);
    return n;
}

int fuzz_cookie_exchange(anydtls_config *cfg, const uint8_t *d, size_t len,
                         const anydtls_addr *peer, uint8_t *buf, size_t cap, anydtls_prestate *ps)
{
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen = 0;
    int rc = anydtls_cookie_check(cfg, d, len, peer, reply, sizeof reply, &rlen, ps);
    if (rc != ANYDTLS_COOKIE_SEND_HVR)
        return rc;
    if (rlen < ANYDTLS_COOKIE_LEN || rlen > sizeof reply)
        FUZZ_FAIL("HelloVerifyRequest of %zu bytes", rlen);
    size_t n = fuzz_splice_cookie(d, len, reply + rlen - ANYDTLS_COOKIE_LEN, buf, cap);
    if (n == 0)
        return rc;
    rc = anydtls_cookie_check(cfg, buf, n, peer, reply, sizeof reply, &rlen, ps);
    if (rc != ANYDTLS_COOKIE_VERIFIED)
        FUZZ_FAIL("a ClientHello with the cookie of its HelloVerifyRequest: %d", rc);
    return rc;
}

/* ---------------- the in-memory pair ---------------- */

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

int fuzz_pair_open(struct fuzz_pair *p, anydtls_config *ccfg, anydtls_config *scfg, unsigned flags,
                   fuzz_tap_fn tap, void *tap_user)
{
    memset(p, 0, sizeof *p);
    p->ccfg = ccfg;
    p->scfg = scfg;
    p->flags = flags;
    p->tap = tap;
    p->tap_user = tap_user;
    p->crc = p->src = ANYDTLS_E_WANT_READ;
    int rc = anydtls_transport_new_memory(&p->ct, 0);
    if (rc == ANYDTLS_OK)
        rc = anydtls_transport_new_memory(&p->st, 0);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p->c, ccfg, p->ct);
    if (rc == ANYDTLS_OK && !(flags & FUZZ_COOKIE))
        rc = anydtls_session_new(&p->s, scfg, p->st);
    if (rc != ANYDTLS_OK)
        fuzz_pair_close(p);
    return rc;
}

static void to_client(struct fuzz_pair *p, const uint8_t *d, size_t len)
{
    if (p->tap != NULL)
        p->tap(p->tap_user, 1, d, len);
    (void)anydtls_memory_push(p->ct, d, len);
}

/* The server before it has a session: the stateless cookie exchange. */
static void cookie_step(struct fuzz_pair *p, const uint8_t *d, size_t len)
{
    uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    int rc =
        anydtls_cookie_check(p->scfg, d, len, fuzz_peer(p->flags), reply, sizeof reply, &rlen, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR)
        to_client(p, reply, rlen);
    else if (rc == ANYDTLS_COOKIE_VERIFIED &&
             anydtls_session_accept(&p->s, p->scfg, p->st, &ps) != ANYDTLS_OK)
        p->src = ANYDTLS_E_HANDSHAKE;
}

int fuzz_pair_pump(struct fuzz_pair *p)
{
    static uint8_t d[FUZZ_MAX_DGRAM];
    int moved = 0, n;
    while ((n = anydtls_memory_pop(p->ct, d, sizeof d)) > 0) {
        moved++;
        if (p->tap != NULL)
            p->tap(p->tap_user, 0, d, (size_t)n);
        if (p->s == NULL)
            cookie_step(p, d, (size_t)n);
        else
            (void)anydtls_memory_push(p->st, d, (size_t)n);
    }
    while ((n = anydtls_memory_pop(p->st, d, sizeof d)) > 0) {
        moved++;
        to_client(p, d, (size_t)n);
    }
    return moved;
}

/* A backend may take one queued datagram per call and answer WANT_READ
 * with more still queued: a few calls in a row that move nothing are how
 * the application knows that nothing more will happen without a timer. */
#define IDLE_ROUNDS 16

bool fuzz_pair_handshake(struct fuzz_pair *p)
{
    for (int round = 0, idle = 0; round < 512 && idle < IDLE_ROUNDS; round++) {
        if (pending(p->crc))
            p->crc = anydtls_handshake(p->c);
        if (p->s != NULL && pending(p->src))
            p->src = anydtls_handshake(p->s);
        if (!pending(p->crc) && !pending(p->src))
            break;
        idle = fuzz_pair_pump(p) == 0 ? idle + 1 : 0;
    }
    return p->crc == ANYDTLS_OK && p->src == ANYDTLS_OK;
}

bool fuzz_pair_transfer(struct fuzz_pair *p, bool client_to_server, const char *msg)
{
    anydtls_session *from = client_to_server ? p->c : p->s;
    anydtls_session *to = client_to_server ? p->s : p->c;
    size_t len = strlen(msg);
    uint8_t buf[4096];
    if (anydtls_write(from, (const uint8_t *)msg, len) != (int)len)
        return false;
    for (int round = 0, idle = 0; round < 512 && idle < IDLE_ROUNDS; round++) {
        idle = fuzz_pair_pump(p) == 0 ? idle + 1 : 0;
        int n = anydtls_read(to, buf, sizeof buf);
        if (n >= 0)
            return (size_t)n == len && memcmp(buf, msg, len) == 0;
        if (n != ANYDTLS_E_WANT_READ)
            return false;
        (void)anydtls_read(from, buf, sizeof buf);
    }
    return false;
}

void fuzz_pair_close(struct fuzz_pair *p)
{
    anydtls_session_free(p->c);
    anydtls_session_free(p->s);
    anydtls_transport_free(p->ct);
    anydtls_transport_free(p->st);
    p->c = p->s = NULL;
    p->ct = p->st = NULL;
}
