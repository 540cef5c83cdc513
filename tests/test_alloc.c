/* Allocation-failure injection: for each operation (configuration build,
 * session creation, the stateless cookie check, a whole handshake), count
 * the allocations of one successful run, then run it again once per
 * allocation point N, failing the Nth allocation (in anydtls or inside the
 * TLS library: tests/alloc-inject.c and tests/alloc-NAME.c), until a run
 * reaches no Nth allocation and so succeeds.
 *
 * Only the Nth fails, not the Nth and all after: each run shows how one
 * failure at one place is handled while the rest of the process still has
 * memory, which is what a passing out-of-memory condition looks like, and
 * the code after the failure (cleanup, or going on without what failed)
 * then runs as it would in the field instead of failing in turn.
 *
 * Every run must return an error code or succeed, never crash, and leave
 * the count of live blocks where it was.  A run that succeeds in spite of a
 * failed allocation (the library tolerated it) must have made something
 * that works: its configuration or sessions then complete a handshake and
 * carry data, with injection off (see worth_proving for the sample proved
 * where OpenSSL tolerates thousands).
 *
 * The libraries' one-time global initialisation is done before injection
 * (backend_global_init, then two warm-up runs of each operation): it is not
 * what is under test, and what it keeps would read as a leak.
 *
 * One TAP line per operation: allocation points (how many in libanydtls's
 * own code), errors, tolerated failures, crashes, leaks, "broken" (reported
 * success but did not work) and "stalls" (a handshake that neither ends nor
 * has a timer running); then a line of the error codes returned.
 *
 * Under valgrind (make check-valgrind) the program tests a deterministic
 * subset of N, printed in each line: N = 1..VG_FIRST, then in steps that
 * make about VG_RUNS runs, then every N past the counted points until
 * success.  Natively, and under AddressSanitizer, every N.
 *
 * Debugging: ANYDTLS_ALLOC_OPS, ANYDTLS_ALLOC_ONLY (with
 * ANYDTLS_ALLOC_TRACE) and ANYDTLS_ALLOC_SURVEY, described at the end. */
#define _GNU_SOURCE
#include "config.h"

#include "alloc-inject.h"
#include "harness.h"

#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define VG_FIRST 50
#define VG_RUNS 150

/* Outcomes of a run besides an anydtls code (< 0) and success (0). */
#define BROKEN 1  /* reported success, but what it made does not work */
#define STALLED 2 /* both sides wait and nothing can move: a hang */

static bool under_valgrind;

/* ---------------- fixtures, made once with injection off ---------------- */

static struct {
    anydtls_config *ccert, *scert; /* mutual certificate authentication */
    anydtls_config *cpsk, *spsk;
    char *ca, *client_pem, *client_key; /* PEM in memory */
    size_t ca_len, client_pem_len, client_key_len;
} fx;

static int psk_lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    if (strcmp(identity, TEST_PSK_IDENTITY) != 0 || cap < sizeof test_psk_key)
        return -1;
    memcpy(key, test_psk_key, sizeof test_psk_key);
    return (int)sizeof test_psk_key;
}

/* Short timers natively, so that a lost flight costs little (not below
 * 40 ms: OpenSSL counts a timer with less than 15 ms left as expired, and
 * a loaded machine needs some slack); long ones under valgrind, where a
 * flight takes longer than a short timer. */
static int set_timers(anydtls_config *cfg)
{
    return under_valgrind ? anydtls_config_set_timeouts(cfg, 500, 8000)
                          : anydtls_config_set_timeouts(cfg, 40, 1280);
}

/* Configurations, each call checked in turn: the first failure is the
 * result.  The server ones ask for a client certificate (more paths). */
static int server_cert_files(anydtls_config **out)
{
    int rc = anydtls_config_new(out, ANYDTLS_SERVER);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_cert_file(*out, pki("server.pem"), pki("server.key"));
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_ca_file(*out, pki("ca.pem"));
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_cookie_key_length(*out, 48);
    if (rc == ANYDTLS_OK)
        rc = set_timers(*out);
    return rc == ANYDTLS_OK ? anydtls_config_build(*out) : rc;
}

static int client_cert_files(anydtls_config **out)
{
    int rc = anydtls_config_new(out, ANYDTLS_CLIENT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_cert_file(*out, pki("client.pem"), pki("client.key"));
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_ca_file(*out, pki("ca.pem"));
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_peer_name(*out, "localhost");
    if (rc == ANYDTLS_OK)
        rc = set_timers(*out);
    return rc == ANYDTLS_OK ? anydtls_config_build(*out) : rc;
}

/* The IP-address form of the peer name, a path of its own in every driver. */
static int client_cert_mem(anydtls_config **out)
{
    int rc = anydtls_config_new(out, ANYDTLS_CLIENT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_cert_mem(*out, fx.client_pem, fx.client_pem_len, fx.client_key,
                                         fx.client_key_len);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_ca_mem(*out, fx.ca, fx.ca_len);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_peer_name(*out, "127.0.0.1");
    if (rc == ANYDTLS_OK)
        rc = set_timers(*out);
    return rc == ANYDTLS_OK ? anydtls_config_build(*out) : rc;
}

/* build false: left unbuilt, for the cookie check to build. */
static int server_psk(anydtls_config **out, bool build)
{
    int rc = anydtls_config_new(out, ANYDTLS_SERVER);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_psk_server(*out, "anydtls test hint", psk_lookup, NULL);
    if (rc == ANYDTLS_OK)
        rc = set_timers(*out);
    return rc == ANYDTLS_OK && build ? anydtls_config_build(*out) : rc;
}

static int client_psk(anydtls_config **out)
{
    int rc = anydtls_config_new(out, ANYDTLS_CLIENT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_config_set_psk(*out, TEST_PSK_IDENTITY, test_psk_key, sizeof test_psk_key);
    if (rc == ANYDTLS_OK)
        rc = set_timers(*out);
    return rc == ANYDTLS_OK ? anydtls_config_build(*out) : rc;
}

static void fixtures_make(void)
{
    fx.ca = slurp(pki("ca.pem"), &fx.ca_len);
    fx.client_pem = slurp(pki("client.pem"), &fx.client_pem_len);
    fx.client_key = slurp(pki("client.key"), &fx.client_key_len);
    if (fx.ca == NULL || fx.client_pem == NULL || fx.client_key == NULL) {
        tap_diag("setup failed: cannot read the test PKI in %s", pki(""));
        _exit(1);
    }
    CHECK(client_cert_files(&fx.ccert));
    CHECK(server_cert_files(&fx.scert));
    CHECK(client_psk(&fx.cpsk));
    CHECK(server_psk(&fx.spsk, true));
}

static void fixtures_free(void)
{
    anydtls_config_free(fx.ccert);
    anydtls_config_free(fx.scert);
    anydtls_config_free(fx.cpsk);
    anydtls_config_free(fx.spsk);
    free(fx.ca);
    free(fx.client_pem);
    free(fx.client_key);
}

/* ---------------- a memory link between two sessions ---------------- */

struct pair {
    anydtls_config *ccfg, *scfg;
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
    bool cookie; /* the server side starts with the stateless cookie check */
    int crc, src;
    uint8_t hvr[ANYDTLS_HVR_MAX];
};

static void pair_init(struct pair *p, anydtls_config *ccfg, anydtls_config *scfg, bool cookie)
{
    memset(p, 0, sizeof *p);
    p->ccfg = ccfg;
    p->scfg = scfg;
    p->cookie = cookie;
    p->crc = p->src = ANYDTLS_E_WANT_READ;
}

/* The smallest capacity that holds any datagram: 4 x 64 KiB per run. */
static int pair_transports(struct pair *p)
{
    int rc = anydtls_transport_new_memory(&p->ct, 2 + 0xFFFF);
    return rc == ANYDTLS_OK ? anydtls_transport_new_memory(&p->st, 2 + 0xFFFF) : rc;
}

static void pair_free(struct pair *p)
{
    anydtls_session_free(p->c);
    anydtls_session_free(p->s);
    anydtls_transport_free(p->ct);
    anydtls_transport_free(p->st);
    p->c = p->s = NULL;
    p->ct = p->st = NULL;
}

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

/* A datagram for the server: through the cookie check until it has a
 * session, as a server application does.  Returns < 0 when an anydtls
 * call failed. */
static int to_server(struct pair *p, const uint8_t *d, size_t len)
{
    static const anydtls_addr peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};
    if (!p->cookie || p->s != NULL) {
        int rc = anydtls_memory_push(p->st, d, len);
        return rc == ANYDTLS_E_WANT_WRITE ? ANYDTLS_OK : rc;
    }
    size_t rlen;
    anydtls_prestate ps;
    int rc = anydtls_cookie_check(p->scfg, d, len, &peer, p->hvr, sizeof p->hvr, &rlen, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR)
        rc = anydtls_memory_push(p->ct, p->hvr, rlen);
    else if (rc == ANYDTLS_COOKIE_VERIFIED)
        rc = anydtls_session_accept(&p->s, p->scfg, p->st, &ps);
    else if (rc == ANYDTLS_E_BAD_RECORD)
        rc = ANYDTLS_OK; /* dropped, as a server does */
    return rc == ANYDTLS_E_WANT_WRITE ? ANYDTLS_OK : rc;
}

/* Move queued datagrams both ways: how many moved, or an anydtls failure. */
static int pair_pump(struct pair *p)
{
    static uint8_t d[0xFFFF];
    int moved = 0, n, rc;
    while ((n = anydtls_memory_pop(p->ct, d, sizeof d)) > 0) {
        moved++;
        if ((rc = to_server(p, d, (size_t)n)) < 0)
            return rc;
    }
    while ((n = anydtls_memory_pop(p->st, d, sizeof d)) > 0) {
        moved++;
        if ((rc = anydtls_memory_push(p->ct, d, (size_t)n)) < 0 && rc != ANYDTLS_E_WANT_WRITE)
            return rc;
    }
    return moved;
}

/* Wait for the earliest retransmission timer of a side still in its
 * handshake, then serve the due ones.  STALLED when none runs. */
static int pair_timers(struct pair *p)
{
    anydtls_session *ss[2] = {p->c, p->s};
    int *rcs[2] = {&p->crc, &p->src};
    uint32_t ms, best = UINT32_MAX;
    for (int i = 0; i < 2; i++)
        if (ss[i] != NULL && pending(*rcs[i]) && anydtls_get_timeout(ss[i], &ms) == 1 && ms < best)
            best = ms;
    if (best == UINT32_MAX)
        return STALLED;
    vclock_advance_ms(best);
    for (int i = 0; i < 2; i++) {
        if (ss[i] == NULL || !pending(*rcs[i]))
            continue;
        int rc = anydtls_handle_timeout(ss[i]);
        if (rc < 0)
            return rc;
    }
    return ANYDTLS_OK;
}

/* An established side reads while the other finishes (it answers the
 * other's retransmissions that way); a failure there fails the run. */
static int read_established(anydtls_session *s)
{
    uint8_t scratch[64];
    int rc = anydtls_read(s, scratch, sizeof scratch);
    return rc >= 0 || rc == ANYDTLS_E_WANT_READ ? ANYDTLS_OK : rc;
}

/* One round: each side's handshake, and an established side reads.  The
 * first failure of either side is the result. */
static int pair_step(struct pair *p)
{
    int rc = ANYDTLS_OK;
    if (pending(p->crc))
        p->crc = anydtls_handshake(p->c);
    if (p->s != NULL && pending(p->src))
        p->src = anydtls_handshake(p->s);
    if (!pending(p->crc) && p->crc != ANYDTLS_OK)
        return p->crc;
    if (!pending(p->src) && p->src != ANYDTLS_OK)
        return p->src;
    if (p->crc == ANYDTLS_OK && pending(p->src))
        rc = read_established(p->c);
    if (rc == ANYDTLS_OK && p->src == ANYDTLS_OK && pending(p->crc))
        rc = read_established(p->s);
    return rc;
}

/* Both handshakes to their end: 0 when both are established, the first
 * failure code, or STALLED. */
static int pair_handshake(struct pair *p)
{
    double deadline = now_ms() + (under_valgrind ? 600000 : 60000);
    while (now_ms() < deadline) {
        int rc = pair_step(p);
        if (rc != ANYDTLS_OK)
            return rc;
        if (p->crc == ANYDTLS_OK && p->src == ANYDTLS_OK)
            return ANYDTLS_OK;
        int moved = pair_pump(p);
        if (moved < 0)
            return moved;
        if (moved > 0)
            vclock_advance_ms(1); /* a crossing takes a millisecond */
        if (moved == 0 && (rc = pair_timers(p)) != ANYDTLS_OK)
            return rc;
    }
    return STALLED;
}

/* One record each way: 0 when both arrive intact. */
static int pair_transfer(struct pair *p)
{
    static const char msg[] = "allocation failure injection";
    anydtls_session *from[2] = {p->c, p->s}, *to[2] = {p->s, p->c};
    uint8_t buf[256];
    for (int i = 0; i < 2; i++) {
        int rc = anydtls_write(from[i], (const uint8_t *)msg, sizeof msg);
        if (rc != (int)sizeof msg)
            return rc < 0 ? rc : BROKEN;
        for (int tries = 0;
             tries < 4 && (rc = anydtls_read(to[i], buf, sizeof buf)) == ANYDTLS_E_WANT_READ;
             tries++)
            if ((rc = pair_pump(p)) < 0)
                return rc;
        if (rc != (int)sizeof msg || memcmp(buf, msg, sizeof msg) != 0)
            return rc < 0 ? rc : BROKEN;
    }
    return ANYDTLS_OK;
}

/* Why the last run that reported success does not work. */
static int broken_code;
/* Runs that succeeded in spite of a failed allocation, of the current
 * operation, and how many of them were proved to work. */
static unsigned long tolerated_seen, proved;

/* A handshake per tolerated failure would take most of the time where
 * OpenSSL tolerates thousands (failed algorithm fetches while it builds a
 * context): every one in anydtls's own code is proved, and of those in the
 * TLS library the first PROVE_FIRST and then one in PROVE_EVERY.  Runs
 * without a failure (warm-up, counting) are always proved. */
#define PROVE_FIRST 64
#define PROVE_EVERY 16

static bool worth_proving(void)
{
    if (!inj_fired())
        return true;
    tolerated_seen++;
    return inj_fired_ours() || tolerated_seen <= PROVE_FIRST || tolerated_seen % PROVE_EVERY == 0;
}

/* What a run that reported success made must work: a handshake from where
 * it stands, then data both ways, with injection off.  BROKEN if not. */
static int prove(struct pair *p)
{
    inj_pause();
    if (!worth_proving())
        return ANYDTLS_OK;
    proved += inj_fired();
    int rc = p->ct == NULL ? pair_transports(p) : ANYDTLS_OK;
    if (rc == ANYDTLS_OK && p->c == NULL)
        rc = anydtls_session_new(&p->c, p->ccfg, p->ct);
    if (rc == ANYDTLS_OK && p->s == NULL && !p->cookie)
        rc = anydtls_session_new(&p->s, p->scfg, p->st);
    if (rc == ANYDTLS_OK)
        rc = pair_handshake(p);
    if (rc == ANYDTLS_OK)
        rc = pair_transfer(p);
    broken_code = rc;
    return rc == ANYDTLS_OK ? ANYDTLS_OK : BROKEN;
}

/* ---------------- the operations under test ---------------- */

/* A configuration built by build, proved (when built) by a handshake with
 * the cookie exchange against the fixture of the other side. */
static int config_op(int (*build)(anydtls_config **), anydtls_role role, bool psk)
{
    anydtls_config *made = NULL;
    int rc = build(&made);
    if (rc == ANYDTLS_OK) {
        struct pair p;
        if (role == ANYDTLS_SERVER)
            pair_init(&p, psk ? fx.cpsk : fx.ccert, made, true);
        else
            pair_init(&p, made, psk ? fx.spsk : fx.scert, true);
        rc = prove(&p);
        pair_free(&p);
    }
    anydtls_config_free(made);
    return rc;
}

static int op_config_server_files(void)
{
    return config_op(server_cert_files, ANYDTLS_SERVER, false);
}

static int op_config_client_mem(void)
{
    return config_op(client_cert_mem, ANYDTLS_CLIENT, false);
}

static int server_psk_built(anydtls_config **out)
{
    return server_psk(out, true);
}

/* Both sides: a PSK configuration is small. */
static int op_config_psk(void)
{
    int rc = config_op(client_psk, ANYDTLS_CLIENT, true);
    return rc == ANYDTLS_OK ? config_op(server_psk_built, ANYDTLS_SERVER, true) : rc;
}

/* anydtls_session_new for a client and a server (no cookie exchange),
 * on configurations and transports made beforehand. */
static int op_session_new(void)
{
    struct pair p;
    pair_init(&p, fx.ccert, fx.scert, false);
    inj_pause();
    int rc = pair_transports(&p);
    inj_resume();
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p.c, p.ccfg, p.ct);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p.s, p.scfg, p.st);
    if (rc == ANYDTLS_OK)
        rc = prove(&p);
    pair_free(&p);
    return rc;
}

/* The client's ClientHello with our cookie, verified: *ps points into d.
 * A few datagrams, in case the client's timer resent the first one. */
static int verified_hello(struct pair *p, uint8_t *d, size_t cap, anydtls_prestate *ps)
{
    static const anydtls_addr peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};
    size_t rlen;
    int rc = anydtls_handshake(p->c);
    for (int i = 0; i < 8 && rc == ANYDTLS_E_WANT_READ; i++) {
        int n = anydtls_memory_pop(p->ct, d, cap);
        if (n < 0)
            return n;
        rc = anydtls_cookie_check(p->scfg, d, (size_t)n, &peer, p->hvr, sizeof p->hvr, &rlen, ps);
        if (rc == ANYDTLS_COOKIE_VERIFIED)
            return ANYDTLS_OK;
        if (rc == ANYDTLS_COOKIE_SEND_HVR && (rc = anydtls_memory_push(p->ct, p->hvr, rlen)) >= 0)
            rc = anydtls_handshake(p->c);
    }
    return rc < 0 ? rc : ANYDTLS_E_HANDSHAKE;
}

/* anydtls_session_accept on a ClientHello the cookie check verified. */
static int op_session_accept(void)
{
    static uint8_t hello[0xFFFF];
    struct pair p;
    anydtls_prestate ps;
    pair_init(&p, fx.ccert, fx.scert, true);
    inj_pause();
    int rc = pair_transports(&p);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p.c, p.ccfg, p.ct);
    if (rc == ANYDTLS_OK)
        rc = verified_hello(&p, hello, sizeof hello, &ps);
    if (rc != ANYDTLS_OK) {
        tap_diag("setup failed: no verified ClientHello: %s", code_name(rc));
        _exit(1);
    }
    inj_resume();
    rc = anydtls_session_accept(&p.s, p.scfg, p.st, &ps);
    if (rc == ANYDTLS_OK)
        rc = prove(&p);
    pair_free(&p);
    return rc;
}

/* Allocation points counted in cookie checks of a built configuration. */
static unsigned long points_in_built_checks;

/* anydtls_cookie_check on a server configuration that is not built yet
 * (the first check builds it), then on the ClientHello with the cookie.
 * Only the checks are under injection, not the client. */
static int op_cookie_check(void)
{
    static uint8_t d[0xFFFF];
    static const anydtls_addr peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};
    struct pair p;
    anydtls_prestate ps;
    size_t rlen;
    pair_init(&p, fx.cpsk, NULL, true);
    inj_pause();
    int rc = server_psk(&p.scfg, false), n = 0;
    if (rc == ANYDTLS_OK)
        rc = pair_transports(&p);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p.c, p.ccfg, p.ct);
    if (rc == ANYDTLS_OK && (rc = anydtls_handshake(p.c)) == ANYDTLS_E_WANT_READ)
        rc = n = anydtls_memory_pop(p.ct, d, sizeof d);
    if (rc < 0) {
        tap_diag("setup failed: no ClientHello: %s", code_name(rc));
        _exit(1);
    }
    inj_resume();
    rc = anydtls_cookie_check(p.scfg, d, (size_t)n, &peer, p.hvr, sizeof p.hvr, &rlen, &ps);
    inj_pause();
    if (rc == ANYDTLS_COOKIE_SEND_HVR) {
        CHECK(anydtls_memory_push(p.ct, p.hvr, rlen));
        if (anydtls_handshake(p.c) == ANYDTLS_E_WANT_READ)
            n = anydtls_memory_pop(p.ct, d, sizeof d);
        unsigned long before = inj_points();
        inj_resume();
        rc = anydtls_cookie_check(p.scfg, d, (size_t)n, &peer, p.hvr, sizeof p.hvr, &rlen, &ps);
        inj_pause();
        points_in_built_checks += inj_points() - before;
        rc = rc == ANYDTLS_COOKIE_VERIFIED ? ANYDTLS_OK : rc < 0 ? rc : BROKEN;
    } else if (rc >= 0) {
        rc = BROKEN; /* the first ClientHello cannot verify */
    }
    if (rc == ANYDTLS_OK && (rc = anydtls_session_accept(&p.s, p.scfg, p.st, &ps)) == ANYDTLS_OK)
        rc = prove(&p);
    pair_free(&p);
    anydtls_config_free(p.scfg);
    return rc;
}

/* Transports, the client session, the cookie exchange, the server session
 * and both handshakes to the end; then data both ways (not injected). */
static int handshake(anydtls_config *ccfg, anydtls_config *scfg)
{
    struct pair p;
    pair_init(&p, ccfg, scfg, true);
    int rc = pair_transports(&p);
    if (rc == ANYDTLS_OK)
        rc = anydtls_session_new(&p.c, p.ccfg, p.ct);
    if (rc == ANYDTLS_OK)
        rc = pair_handshake(&p);
    inj_pause();
    if (rc == ANYDTLS_OK) {
        proved += inj_fired();
        broken_code = pair_transfer(&p);
        rc = broken_code == ANYDTLS_OK ? ANYDTLS_OK : BROKEN;
    }
    pair_free(&p);
    return rc;
}

static int op_handshake_cert(void)
{
    return handshake(fx.ccert, fx.scert);
}

static int op_handshake_psk(void)
{
    return handshake(fx.cpsk, fx.spsk);
}

/* ---------------- the sweep ---------------- */

struct op {
    const char *name;
    int (*run)(void);
    bool handshakes; /* runs a handshake (backend_handshake_unsafe) */
};

static const struct op ops[] = {
    {"config build, server, certificate, key and CA from files", op_config_server_files, false},
    {"config build, client, certificate, key and CA in memory", op_config_client_mem, false},
    {"config build, PSK client and server", op_config_psk, false},
    {"session_new, client and server", op_session_new, false},
    {"session_accept, verified ClientHello", op_session_accept, false},
    {"cookie_check, building the configuration", op_cookie_check, false},
    {"handshake, certificates both ways, cookie exchange", op_handshake_cert, true},
    {"handshake, PSK, cookie exchange", op_handshake_psk, true},
};

#define N_OPS (sizeof ops / sizeof ops[0])

struct tally {
    unsigned long points, ours; /* of the counting run */
    unsigned long runs, errors, tolerated, leaks, broken, stalls, unexpected;
    unsigned long codes[32]; /* errors by -code */
    unsigned long stride;    /* > 1: the valgrind subset */
};

/* Which op and N run now, for the crash handler. */
static volatile const char *current_op = "(setup)";
static volatile unsigned long current_n;

static void put(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static struct sigaction previous[NSIG];

static void on_crash(int sig)
{
    char num[24];
    size_t i = sizeof num;
    unsigned long n = current_n;
    num[--i] = '\0';
    do
        num[--i] = (char)('0' + n % 10);
    while ((n /= 10) > 0 && i > 0);
    put("# CRASH in ");
    put((const char *)current_op);
    put(" with allocation ");
    put(num + i);
    put(" failed\n");
    /* The previous handler (the default, or a sanitizer's) takes it from
     * here: the fault happens again, abort() raises again. */
    sigaction(sig, &previous[sig], NULL);
}

static void catch_crashes(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sigaction(sigs[i], &sa, &previous[sigs[i]]);
    }
}

/* The next N to test: every one natively; under valgrind the first
 * VG_FIRST, then every stride-th, and every one past the counted points
 * (a failure may make a run longer than the counting run). */
static unsigned long next_n(unsigned long n, const struct tally *t)
{
    if (t->stride <= 1 || n < VG_FIRST || n >= t->points)
        return n + 1;
    return n + t->stride < t->points ? n + t->stride : t->points;
}

static void record(struct tally *t, const struct op *op, unsigned long n, int rc, long leaked)
{
    t->runs++;
    if (leaked != 0 && t->leaks++ < 5)
        tap_diag("%s: allocation %lu (%s) failed: %+ld live blocks afterwards (%s)", op->name, n,
                 inj_fired_where(), leaked, code_name(rc));
    if (rc == BROKEN && t->broken++ < 5)
        tap_diag("%s: allocation %lu (%s) failed: reported success, then %s", op->name, n,
                 inj_fired_where(), code_name(broken_code));
    if (rc == STALLED && t->stalls++ < 5)
        tap_diag("%s: allocation %lu (%s) failed: both sides wait, nothing moves", op->name, n,
                 inj_fired_where());
    if (rc == ANYDTLS_OK)
        t->tolerated++;
    if (rc < 0) {
        t->errors++;
        t->codes[-rc < 32 ? -rc : 0]++;
    }
}

/* One run with the Nth allocation failed (0: none); returns its result and
 * the live blocks it left. */
static int run_once(const struct op *op, unsigned long n, long *leaked)
{
    long live = inj_live();
    current_n = n;
    inj_start(n);
    int rc = op->run();
    inj_pause();
    backend_settle();
    *leaked = inj_live() - live;
    return rc;
}

static bool sweep(const struct op *op, struct tally *t)
{
    long leaked;
    memset(t, 0, sizeof *t);
    current_op = op->name;
    /* Warm-up: what the libraries set up once, on first use. */
    for (int i = 0; i < 2; i++)
        if (run_once(op, 0, &leaked) != ANYDTLS_OK)
            return false;
    int rc = run_once(op, 0, &leaked);
    t->points = inj_points();
    t->ours = inj_points_ours();
    if (rc != ANYDTLS_OK || leaked != 0) {
        tap_diag("%s: the counting run failed: %s, %+ld live blocks", op->name, code_name(rc),
                 leaked);
        return false;
    }
    if (under_valgrind && t->points > VG_FIRST + VG_RUNS)
        t->stride = (t->points - VG_FIRST) / VG_RUNS + 1;
    points_in_built_checks = 0;
    tolerated_seen = proved = 0;
    for (unsigned long n = 1; n <= 4 * t->points + 1000; n = next_n(n, t)) {
        rc = run_once(op, n, &leaked);
        if (!inj_fired()) {
            /* Fewer than n allocations: nothing failed, so it must work. */
            if (rc != ANYDTLS_OK || leaked != 0) {
                t->unexpected++;
                tap_diag("%s: a run without failure gave %s, %+ld live blocks", op->name,
                         code_name(rc), leaked);
            }
            return true;
        }
        record(t, op, n, rc, leaked);
    }
    tap_diag("%s: every run reached its Nth allocation up to N = %lu", op->name,
             4 * t->points + 1000);
    return false;
}

/* "NOMEM" for ANYDTLS_E_NOMEM (c is the code negated). */
static const char *short_code(int c)
{
    const char *name = code_name(-c);
    return c > 0 && strncmp(name, "ANYDTLS_E_", 10) == 0 ? name + 10 : "(other)";
}

static void codes_diag(const struct op *op, const struct tally *t)
{
    char line[600];
    size_t at = 0;
    for (int c = 0; c < 32; c++)
        if (t->codes[c] > 0 && at < sizeof line - 80)
            at += (size_t)snprintf(line + at, sizeof line - at, "%s %s %lu", at ? "," : "",
                                   short_code(c), t->codes[c]);
    if (at > 0)
        tap_diag("%s: error codes:%s", op->name, line);
}

static void report(const struct op *op)
{
    struct tally t;
    clock_t start = clock(); /* CPU time: the wall clock is virtual */
    bool done = sweep(op, &t);
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    char subset[120] = "";
    if (t.stride > 1)
        snprintf(subset, sizeof subset, " (valgrind: N = 1..%d, then in steps of %lu: %lu runs)",
                 VG_FIRST, t.stride, t.runs);
    bool cookie = op->run == op_cookie_check;
    ok(done && t.points > 0 && t.leaks == 0 && t.broken == 0 && t.stalls == 0 &&
           t.unexpected == 0 && (!cookie || points_in_built_checks == 0),
       "%s: %lu allocation points (%lu in anydtls), each failed in turn%s: %lu errors, "
       "%lu tolerated (%lu proved to work), 0 crashes, %lu leaks, %lu broken, %lu stalls%s "
       "(%.1f s)",
       op->name, t.points, t.ours, subset, t.errors, t.tolerated, proved, t.leaks, t.broken,
       t.stalls, cookie ? "; 0 allocations in the checks of the built configuration" : "", secs);
    if (cookie && points_in_built_checks > 0)
        tap_diag("cookie checks of a built configuration allocated %lu times",
                 points_in_built_checks);
    codes_diag(op, &t);
}

/* The interposer must see the library allocate, or every line would
 * prove nothing (valgrind without somalloc=nouserintercepts hides it). */
static void controls(void)
{
    ok(backend_hook_installed(), "allocator hook installed: %s", backend_hook_name());
    anydtls_transport *t = NULL;
    inj_start(0);
    int rc = anydtls_transport_new_memory(&t, 0);
    inj_pause();
    anydtls_transport_free(t);
    ok(rc == ANYDTLS_OK && inj_points_ours() == 3,
       "the interposer counts anydtls's own allocations (%lu of 3 for a memory transport)",
       inj_points_ours());
}

/* ---------------- debugging aids ---------------- */

/* Why a run is worth a line in the aids below, or NULL. */
static const char *trouble(int rc, long leaked)
{
    static char why[120];
    if (leaked != 0)
        snprintf(why, sizeof why, "%s, %+ld live blocks", code_name(rc), leaked);
    else if (rc == BROKEN)
        snprintf(why, sizeof why, "reported success, then %s", code_name(broken_code));
    else if (rc == STALLED)
        snprintf(why, sizeof why, "both sides wait, nothing moves");
    else
        return NULL;
    return why;
}

/* ANYDTLS_ALLOC_ONLY=I:N runs operation I (from 1) once with allocation N
 * failed, after the same runs as the sweep (warm-up, warm-up, count): to
 * look at one line of a report under a debugger or valgrind.  With
 * ANYDTLS_ALLOC_TRACE set it prints where the failed allocation was asked
 * for and where each block the run left was allocated. */
static int only(const char *spec)
{
    unsigned long i, n;
    long leaked;
    if (sscanf(spec, "%lu:%lu", &i, &n) != 2 || i < 1 || i > N_OPS) {
        tap_diag("ANYDTLS_ALLOC_ONLY=%s: want OPERATION:N, OPERATION 1..%zu", spec, N_OPS);
        return 1;
    }
    const struct op *op = &ops[i - 1];
    current_op = op->name;
    for (int k = 0; k < 3; k++)
        run_once(op, 0, &leaked);
    if (getenv("ANYDTLS_ALLOC_TRACE") != NULL)
        inj_trace_start();
    int rc = run_once(op, n, &leaked);
    inj_trace_dump();
    const char *why = trouble(rc, leaked);
    tap_diag("%s: allocation %lu (%s) failed: %s; %lu allocation points", op->name, n,
             inj_fired_where(), why != NULL ? why : code_name(rc), inj_points());
    return why != NULL;
}

/* ANYDTLS_ALLOC_SURVEY=1 runs every N of every operation (or of those in
 * ANYDTLS_ALLOC_OPS) each in a child process, so that a crash is reported
 * and the survey goes on, and proves every run that reported success;
 * prints the runs that crash, leak, or do not work.  What a new version of
 * a TLS library does wrong, all at once. */
static void survey(const struct op *op)
{
    long leaked;
    int status;
    current_op = op->name;
    for (int k = 0; k < 3; k++)
        run_once(op, 0, &leaked);
    for (unsigned long n = 1, last = 4 * inj_points() + 1000; n <= last; n++) {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            int rc = run_once(op, n, &leaked);
            const char *why = trouble(rc, leaked);
            if (why != NULL)
                tap_diag("%s: allocation %lu (%s) failed: %s", op->name, n, inj_fired_where(), why);
            _exit(inj_fired() ? 0 : 100);
        }
        if (child < 0 || waitpid(child, &status, 0) != child)
            break;
        if (WIFSIGNALED(status))
            tap_diag("%s: allocation %lu failed: crash, signal %d", op->name, n, WTERMSIG(status));
        else if (WEXITSTATUS(status) == 100)
            break;
    }
}

/* ANYDTLS_ALLOC_OPS=1,7 limits the run to those operations. */
static bool selected(size_t i)
{
    const char *sel = getenv("ANYDTLS_ALLOC_OPS");
    char num[8];
    snprintf(num, sizeof num, "%zu", i + 1);
    return sel == NULL || strstr(sel, num) != NULL;
}

static int debug_main(void)
{
    const char *one = getenv("ANYDTLS_ALLOC_ONLY");
    int bad = 0;
    fixtures_make();
    if (one != NULL)
        bad = only(one);
    for (size_t i = 0; one == NULL && i < N_OPS; i++)
        if (selected(i))
            survey(&ops[i]);
    fixtures_free();
    backend_global_done();
    return bad;
}

int main(void)
{
    under_valgrind = RUNNING_ON_VALGRIND != 0;
    inj_set_ours((const void *)anydtls_version);
    backend_global_init();
    catch_crashes();
    /* Retransmission timers on the virtual clock (vclock.h): a loaded
     * machine cannot change which allocations a handshake makes. */
    vclock_start();
    if (getenv("ANYDTLS_ALLOC_ONLY") != NULL || getenv("ANYDTLS_ALLOC_SURVEY") != NULL)
        return debug_main();
    tap_plan(2 + (int)N_OPS);
    controls();
    fixtures_make();
    const char *unsafe = backend_handshake_unsafe();
    for (size_t i = 0; i < N_OPS; i++)
        if (!selected(i))
            tap_skip("not in ANYDTLS_ALLOC_OPS", "%s", ops[i].name);
        else if (unsafe != NULL && ops[i].handshakes)
            tap_skip(unsafe, "%s", ops[i].name);
        else
            report(&ops[i]);
    fixtures_free();
    backend_global_done();
    return tap_done();
}
