#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/socket.h> /* SO_MEMINFO */
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <time.h>

/* ---------------- TAP ---------------- */

static int planned, run, failed;
const char *tap_context;

void tap_plan(int n)
{
    planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

/* The first word of a library's version string that starts with a digit:
 * "OpenSSL 3.0.19 27 Jan 2026" -> "3.0.19", "3.7.9" -> "3.7.9". */
static const char *version_word(const char *v)
{
    for (const char *w = v; *w != '\0'; w += strspn(w, " ")) {
        if (isdigit((unsigned char)*w))
            return w;
        w += strcspn(w, " ");
    }
    return "";
}

const char *tap_flavour(void)
{
    static char label[64];
    if (label[0] == '\0') {
        const char *v = version_word(anydtls_backend_version());
        snprintf(label, sizeof label, "%s %.*s", anydtls_backend_name(), (int)strcspn(v, " "), v);
    }
    return label;
}

static void vreport(int cond, const char *directive, const char *fmt, va_list ap)
{
    run++;
    if (!cond)
        failed++;
    printf("%s %d - [%s] ", cond ? "ok" : "not ok", run, tap_flavour());
    if (tap_context != NULL)
        printf("%s: ", tap_context);
    vprintf(fmt, ap);
    if (directive != NULL)
        printf(" # %s", directive);
    printf("\n");
    fflush(stdout);
}

int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cond, NULL, fmt, ap);
    va_end(ap);
    return cond;
}

int tap_is(int got, int want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(got == want, NULL, fmt, ap);
    va_end(ap);
    if (got != want)
        tap_diag("got %d (%s), want %d (%s)", got, got < 0 ? code_name(got) : "a count", want,
                 want < 0 ? code_name(want) : "a count");
    return got == want;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
    char directive[300];
    snprintf(directive, sizeof directive, "SKIP %s", reason);
    va_list ap;
    va_start(ap, fmt);
    run++;
    printf("ok %d - [%s] ", run, tap_flavour());
    vprintf(fmt, ap);
    printf(" # %s\n", directive);
    va_end(ap);
    fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

int tap_done(void)
{
    if (run != planned)
        tap_diag("planned %d tests, ran %d", planned, run);
    return failed == 0 && run == planned ? 0 : 1;
}

const char *code_name(int code)
{
    static const char *const names[] = {
        "ANYDTLS_OK",           "ANYDTLS_E_WANT_READ",      "ANYDTLS_E_WANT_WRITE",
        "ANYDTLS_E_TIMEOUT",    "ANYDTLS_E_CLOSED",         "ANYDTLS_E_INVALID_ARG",
        "ANYDTLS_E_NOMEM",      "ANYDTLS_E_UNSUPPORTED",    "ANYDTLS_E_IO",
        "ANYDTLS_E_HANDSHAKE",  "ANYDTLS_E_CERT_UNTRUSTED", "ANYDTLS_E_CERT_EXPIRED",
        "ANYDTLS_E_NAME_MISMATCH", "ANYDTLS_E_PSK_IDENTITY", "ANYDTLS_E_BAD_RECORD",
        "ANYDTLS_E_MSG_TOO_BIG", "ANYDTLS_E_ALERT",         "ANYDTLS_E_BACKEND",
        "ANYDTLS_E_PSK_KEY",    "ANYDTLS_E_CREDENTIALS",
    };
    if (code > 0 || -code >= (int)(sizeof names / sizeof names[0]))
        return "(not an anydtls code)";
    return names[-code];
}

int with_cap(unsigned cap, int want)
{
    return HAS_CAP(cap) ? want : ANYDTLS_E_UNSUPPORTED;
}

const char *missing_cap(unsigned cap)
{
    const char *b = anydtls_backend_name();
    if (strcmp(b, "wolfssl") == 0 && cap == ANYDTLS_CAP_MTU)
        return "wolfssl: this libwolfssl is built without WOLFSSL_DTLS_MTU (Debian 12's is)";
    return "the backend does not report this capability";
}

/* ---------------- PKI and configurations ---------------- */

const uint8_t test_psk_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

const char *pki(const char *name)
{
    static char bufs[4][512];
    static int next;
    const char *dir = getenv("ANYDTLS_PKI");
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir != NULL ? dir : "tests/pki", name);
    return b;
}

char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf != NULL ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

void fast_timers(anydtls_config *cfg)
{
    CHECK(anydtls_config_set_timeouts(cfg, 20, 640));
}

anydtls_config *server_cert_config(const char *cert, const char *key)
{
    anydtls_config *cfg;
    CHECK(anydtls_config_new(&cfg, ANYDTLS_SERVER));
    CHECK(anydtls_config_set_cert_file(cfg, pki(cert), pki(key)));
    fast_timers(cfg);
    return cfg;
}

anydtls_config *client_cert_config(const char *ca, const char *name)
{
    anydtls_config *cfg;
    CHECK(anydtls_config_new(&cfg, ANYDTLS_CLIENT));
    CHECK(anydtls_config_set_ca_file(cfg, pki(ca)));
    if (name != NULL)
        CHECK(anydtls_config_set_peer_name(cfg, name));
    fast_timers(cfg);
    return cfg;
}

static int lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user;
    if (strcmp(identity, TEST_PSK_IDENTITY) != 0 || cap < sizeof test_psk_key)
        return -1;
    memcpy(key, test_psk_key, sizeof test_psk_key);
    return (int)sizeof test_psk_key;
}

anydtls_config *server_psk_config(void)
{
    anydtls_config *cfg;
    CHECK(anydtls_config_new(&cfg, ANYDTLS_SERVER));
    CHECK(anydtls_config_set_psk_server(cfg, "anydtls test hint", lookup, NULL));
    fast_timers(cfg);
    return cfg;
}

anydtls_config *client_psk_config(const char *identity, const uint8_t *key, size_t len)
{
    anydtls_config *cfg;
    CHECK(anydtls_config_new(&cfg, ANYDTLS_CLIENT));
    CHECK(anydtls_config_set_psk(cfg, identity, key, len));
    fast_timers(cfg);
    return cfg;
}

/* ---------------- the memory link ---------------- */

/* ---- transport kinds: what a side sends is popped, what lands pushed ---- */

enum link_kind link_kind = LINK_MEMORY;
const char *const link_kind_name[3] = {"memory", "callbacks", "UDP"};

#define FIFO_MAX 256

struct fifo {
    size_t head, n;
    size_t len[FIFO_MAX];
    uint8_t *d[FIFO_MAX];
};

/* Callbacks: the session's datagrams in and out; UDP: the session's
 * socket and the relay socket it is connected to. */
struct link_end {
    struct fifo in, out;
    struct fifo late; /* LATE datagrams, landing when a read finds nothing */
    int late_landed;
    int fd, relay;
};

static int fifo_put(struct fifo *q, const uint8_t *d, size_t len)
{
    uint8_t *copy = q->n < FIFO_MAX ? malloc(len > 0 ? len : 1) : NULL;
    if (copy == NULL)
        return ANYDTLS_E_WANT_WRITE;
    memcpy(copy, d, len);
    size_t at = (q->head + q->n++) % FIFO_MAX;
    q->d[at] = copy;
    q->len[at] = len;
    return (int)len;
}

/* The oldest datagram, cut to cap as a socket does. */
static int fifo_get(struct fifo *q, uint8_t *d, size_t cap)
{
    if (q->n == 0)
        return ANYDTLS_E_WANT_READ;
    size_t n = q->len[q->head] < cap ? q->len[q->head] : cap;
    memcpy(d, q->d[q->head], n);
    free(q->d[q->head]);
    q->head = (q->head + 1) % FIFO_MAX;
    q->n--;
    return (int)n;
}

static int cb_send(void *user, const uint8_t *buf, size_t len)
{
    return fifo_put(&((struct link_end *)user)->out, buf, len);
}

/* A read that finds nothing lets the LATE datagrams land: the next read
 * finds them, as when a datagram arrives just after a socket was found
 * empty. */
static int cb_recv(void *user, uint8_t *buf, size_t cap)
{
    static uint8_t d[65536];
    struct link_end *e = user;
    int rc = fifo_get(&e->in, buf, cap);
    int n;
    while (rc == ANYDTLS_E_WANT_READ && (n = fifo_get(&e->late, d, sizeof d)) >= 0) {
        fifo_put(&e->in, d, (size_t)n);
        e->late_landed++;
    }
    return rc;
}

int link_late_landed(const struct link *l, int side)
{
    return l->end[side] != NULL ? l->end[side]->late_landed : 0;
}

static int udp_socket(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t alen = sizeof *a;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) != 0 ||
        getsockname(fd, (struct sockaddr *)a, &alen) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        tap_diag("setup failed: a UDP socket on 127.0.0.1");
        _exit(1);
    }
    return fd;
}

static struct link_end *end_new(enum link_kind kind, anydtls_transport **t)
{
    struct link_end *e = calloc(1, sizeof *e);
    if (e == NULL)
        CHECK(ANYDTLS_E_NOMEM);
    e->fd = e->relay = -1;
    if (kind == LINK_CALLBACKS) {
        CHECK(anydtls_transport_new_callbacks(t, cb_send, cb_recv, e));
        return e;
    }
    struct sockaddr_in a, b;
    e->fd = udp_socket(&a);
    e->relay = udp_socket(&b);
    if (connect(e->fd, (struct sockaddr *)&b, sizeof b) != 0 ||
        connect(e->relay, (struct sockaddr *)&a, sizeof a) != 0)
        CHECK(ANYDTLS_E_IO);
    CHECK(anydtls_transport_new_udp(t, e->fd));
    return e;
}

static void end_free(struct link_end *e)
{
    if (e == NULL)
        return;
    uint8_t scratch[1];
    while (fifo_get(&e->in, scratch, sizeof scratch) >= 0)
        ;
    while (fifo_get(&e->out, scratch, sizeof scratch) >= 0)
        ;
    while (fifo_get(&e->late, scratch, sizeof scratch) >= 0)
        ;
    if (e->fd >= 0)
        close(e->fd);
    if (e->relay >= 0)
        close(e->relay);
    free(e);
}

/* What side (0 client, 1 server) sent, or a negative code when nothing. */
static int side_pop(struct link *l, int side, uint8_t *d, size_t cap)
{
    struct link_end *e = l->end[side];
    if (l->kind == LINK_MEMORY)
        return anydtls_memory_pop(side == 0 ? l->ct : l->st, d, cap);
    if (l->kind == LINK_CALLBACKS)
        return fifo_get(&e->out, d, cap);
    ssize_t n = recv(e->relay, d, cap, 0);
    return n >= 0 ? (int)n : ANYDTLS_E_WANT_READ;
}

/* The bytes queued for reading on fd, as the kernel counts them. */
static unsigned queued_bytes(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t n = sizeof mem;
    return getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &n) == 0 ? mem[SK_MEMINFO_RMEM_ALLOC] : 0;
}

/* A datagram sent over loopback is queued by the kernel's receive softirq,
 * which a busy machine defers to ksoftirqd: the session could read before
 * it is there, find nothing, and the virtual clock would run on.  So the
 * UDP link waits (up to a second) until the datagram is queued: the test
 * is single-threaded, nothing reads fd meanwhile. */
static void udp_push(struct link_end *e, const uint8_t *d, size_t len)
{
    unsigned before = queued_bytes(e->fd);
    if (send(e->relay, d, len, 0) < 0)
        return; /* lost, as on a network */
    for (int i = 0; i < 1000 && queued_bytes(e->fd) == before; i++)
        poll(NULL, 0, 1);
}

static void side_push(struct link *l, int side, const uint8_t *d, size_t len)
{
    struct link_end *e = l->end[side];
    if (l->kind == LINK_MEMORY)
        anydtls_memory_push(side == 0 ? l->ct : l->st, d, len);
    else if (l->kind == LINK_CALLBACKS)
        fifo_put(&e->in, d, len);
    else
        udp_push(e, d, len);
}

void link_init(struct link *l, anydtls_config *ccfg, anydtls_config *scfg, bool cookie)
{
    memset(l, 0, sizeof *l);
    l->ccfg = ccfg;
    l->scfg = scfg;
    l->cookie = cookie;
    l->crc = l->src = ANYDTLS_E_WANT_READ;
    l->kind = link_kind;
    if (l->kind == LINK_MEMORY) {
        CHECK(anydtls_transport_new_memory(&l->ct, 0));
        CHECK(anydtls_transport_new_memory(&l->st, 0));
    } else {
        l->end[0] = end_new(l->kind, &l->ct);
        l->end[1] = end_new(l->kind, &l->st);
    }
    CHECK(anydtls_session_new(&l->c, ccfg, l->ct));
    if (!cookie)
        CHECK(anydtls_session_new(&l->s, scfg, l->st));
}

static void server_cookie_step(struct link *l, const uint8_t *d, size_t len);

/* Put a datagram in the air; a full sky (or no memory) loses it, as a
 * network would. */
static void take_off(struct link *l, int dir, const uint8_t *d, size_t len)
{
    if (l->air_n == l->air_cap) {
        size_t cap = l->air_cap == 0 ? 32 : l->air_cap * 2;
        struct airborne *air = cap <= 4096 ? realloc(l->air, cap * sizeof *air) : NULL;
        if (air == NULL)
            return;
        l->air = air;
        l->air_cap = cap;
    }
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return;
    memcpy(copy, d, len);
    l->air[l->air_n++] = (struct airborne){now_ms() + l->delay(l->filter_user, dir), dir, len, copy};
}

static void land(struct link *l, int dir, const uint8_t *d, size_t len)
{
    if (dir == 1)
        side_push(l, 0, d, len);
    else if (l->s == NULL)
        server_cookie_step(l, d, len);
    else
        side_push(l, 1, d, len);
}

static void arrive(struct link *l, int dir, const uint8_t *d, size_t len)
{
    if (l->delay != NULL)
        take_off(l, dir, d, len);
    else
        land(l, dir, d, len);
}

/* Land the first datagram (in sending order) whose time has come. */
static bool land_one(struct link *l)
{
    double now = now_ms();
    for (size_t i = 0; i < l->air_n; i++) {
        struct airborne a = l->air[i];
        if (a.due > now)
            continue;
        memmove(&l->air[i], &l->air[i + 1], (l->air_n - i - 1) * sizeof *l->air);
        l->air_n--;
        land(l, a.dir, a.d, a.len);
        free(a.d);
        return true;
    }
    return false;
}

/* Milliseconds until the next datagram lands, or UINT32_MAX. */
static uint32_t next_landing(const struct link *l)
{
    double now = now_ms(), best = UINT32_MAX;
    for (size_t i = 0; i < l->air_n; i++)
        if (l->air[i].due - now < best)
            best = l->air[i].due - now;
    return best <= 0 ? 0 : (uint32_t)(best + 0.999);
}

/* Let time pass: on the virtual clock it jumps, else the test sleeps. */
static void pass_time(uint32_t ms)
{
    if (vclock_running())
        vclock_advance_ms(ms);
    else
        poll(NULL, 0, (int)ms);
}

/* With ANYDTLS_LINK_TRACE set, one line per datagram on stderr: the time,
 * the direction, its fate and its records (type, epoch, sequence number
 * and, for a plaintext handshake record, the message type). */
static void trace(int dir, enum fate f, const uint8_t *d, size_t len)
{
    static const char *fates[] = {"drop", "deliver", "duplicate", "hold", "cut+whole", "late"};
    fprintf(stderr, "%10.0f %s %4zu %-9s", now_ms(), dir ? "S->C" : "C->S", len, fates[f]);
    for (size_t at = 0; at + 13 <= len; at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12])) {
        unsigned epoch = (unsigned)d[at + 3] << 8 | d[at + 4];
        fprintf(stderr, " [type %u epoch %u seq %u", d[at], epoch, d[at + 10]);
        if (d[at] == 22 && epoch == 0 && at + 13 < len)
            fprintf(stderr, " msg %u", d[at + 13]);
        fprintf(stderr, "]");
    }
    fprintf(stderr, "\n");
}

/* One datagram through the filter: dropped, delivered (once or twice), or
 * held back until the next one in its direction has been delivered. */
static void deliver(struct link *l, int dir, uint8_t *d, size_t len)
{
    enum fate f = l->filter != NULL ? l->filter(l->filter_user, dir, l->count[dir]++, d, len)
                                    : DELIVER;
    if (getenv("ANYDTLS_LINK_TRACE") != NULL)
        trace(dir, f, d, len);
    if (f == HOLD && l->held_len[dir] == 0 && len <= sizeof l->held[dir]) {
        memcpy(l->held[dir], d, len);
        l->held_len[dir] = len;
        return;
    }
    if (f == PREPEND_CUT && len > 1)
        arrive(l, dir, d, len / 2);
    if (f == LATE && l->kind == LINK_CALLBACKS && l->delay == NULL && (dir == 1 || l->s != NULL))
        fifo_put(&l->end[dir == 1 ? 0 : 1]->late, d, len);
    else
        for (int i = 0; i < (f == DUPLICATE ? 2 : f == DROP ? 0 : 1); i++)
            arrive(l, dir, d, len);
    if (l->held_len[dir] > 0 && f != HOLD) {
        size_t n = l->held_len[dir];
        l->held_len[dir] = 0;
        arrive(l, dir, l->held[dir], n);
    }
}

/* The server before it has a session: the stateless cookie exchange. */
static void server_cookie_step(struct link *l, const uint8_t *d, size_t len)
{
    static const anydtls_addr peer = {.family = AF_INET, .port = 40000, .addr = {127, 0, 0, 1}};
    static uint8_t reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    int rc = anydtls_cookie_check(l->scfg, d, len, &peer, reply, sizeof reply, &rlen, &ps);
    if (rc == ANYDTLS_COOKIE_SEND_HVR) {
        l->hvr_sent++;
        deliver(l, 1, reply, rlen);
    } else if (rc == ANYDTLS_COOKIE_VERIFIED) {
        CHECK(anydtls_session_accept(&l->s, l->scfg, l->st, &ps));
    }
}

bool link_advance(struct link *l)
{
    uint32_t ms = next_landing(l);
    if (ms == UINT32_MAX)
        return false;
    pass_time(ms);
    return true;
}

int link_pump(struct link *l)
{
    static uint8_t d[65536];
    int moved = 0, n;
    while ((n = side_pop(l, 0, d, sizeof d)) > 0) {
        moved++;
        deliver(l, 0, d, (size_t)n);
    }
    while ((n = side_pop(l, 1, d, sizeof d)) > 0) {
        moved++;
        deliver(l, 1, d, (size_t)n);
    }
    while (land_one(l))
        moved++;
    /* On the virtual clock a crossing takes a millisecond (unless delays
     * are modelled): two peers that answer each other's retransmissions at
     * once would otherwise do it for ever in no time, where on a real link
     * their timers run out meanwhile. */
    if (moved > 0 && l->delay == NULL && vclock_running())
        vclock_advance_ms(1);
    return moved;
}

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wait for the earliest retransmission timer or landing, then serve the
 * due timers. */
static bool wait_timers(struct link *l)
{
    uint32_t ms, best = next_landing(l);
    anydtls_session *ss[2] = {l->c, l->s};
    int *rcs[2] = {&l->crc, &l->src};
    for (int i = 0; i < 2; i++)
        if (ss[i] != NULL && pending(*rcs[i]) && anydtls_get_timeout(ss[i], &ms) == 1 && ms < best)
            best = ms;
    if (best == UINT32_MAX)
        return false;
    pass_time(best);
    for (int i = 0; i < 2; i++) {
        if (ss[i] == NULL || !pending(*rcs[i]))
            continue;
        int rc = anydtls_handle_timeout(ss[i]);
        if (rc < 0)
            *rcs[i] = rc;
    }
    return true;
}

/* Serve the timers that are due now, as an application's event loop does
 * whether or not datagrams keep arriving. */
static void due_timers(struct link *l)
{
    uint32_t ms;
    anydtls_session *ss[2] = {l->c, l->s};
    int *rcs[2] = {&l->crc, &l->src};
    for (int i = 0; i < 2; i++) {
        if (ss[i] == NULL || !pending(*rcs[i]) || anydtls_get_timeout(ss[i], &ms) != 1 || ms > 0)
            continue;
        int rc = anydtls_handle_timeout(ss[i]);
        if (rc < 0)
            *rcs[i] = rc;
    }
}

bool link_handshake(struct link *l)
{
    double limit = l->deadline_ms > 0 ? l->deadline_ms : vclock_running() ? 600000 : 20000;
    double deadline = now_ms() + limit;
    /* On the virtual clock a loop that never lets time pass would spin
     * for ever: bound the rounds too. */
    for (long round = 0; now_ms() < deadline && round < 1000000; round++) {
        if (pending(l->crc))
            l->crc = anydtls_handshake(l->c);
        if (l->s != NULL && pending(l->src))
            l->src = anydtls_handshake(l->s);
        if (l->src == ANYDTLS_OK && l->on_server_established != NULL && !l->server_hooked) {
            l->server_hooked = true;
            l->on_server_established(l);
        }
        bool c_open = pending(l->crc), s_open = pending(l->src);
        if (!c_open && !s_open)
            break;
        /* An established side still answers retransmissions of the
         * other's last flight: that happens when it reads. */
        uint8_t scratch[64];
        if (l->crc == ANYDTLS_OK && s_open)
            (void)anydtls_read(l->c, scratch, sizeof scratch);
        if (l->src == ANYDTLS_OK && c_open)
            (void)anydtls_read(l->s, scratch, sizeof scratch);
        due_timers(l);
        if (link_pump(l) > 0)
            continue;
        /* Nothing moved: one side finished or failed and the other has
         * nothing to wait for, or a timer is due. */
        if (!wait_timers(l))
            break;
    }
    return l->crc == ANYDTLS_OK && l->src == ANYDTLS_OK;
}

bool link_transfer(struct link *l, bool client_to_server, const char *msg)
{
    anydtls_session *from = client_to_server ? l->c : l->s;
    anydtls_session *to = client_to_server ? l->s : l->c;
    size_t len = strlen(msg);
    if (anydtls_write(from, (const uint8_t *)msg, len) != (int)len)
        return false;
    uint8_t buf[2048];
    /* Wait as an application does: datagrams, and the timers of both
     * sides (a handshake may still be finishing its last flight). */
    double deadline = now_ms() + 5000;
    while (now_ms() < deadline) {
        link_pump(l);
        int n = anydtls_read(to, buf, sizeof buf);
        if (n >= 0)
            return (size_t)n == len && memcmp(buf, msg, len) == 0;
        if (n != ANYDTLS_E_WANT_READ)
            return false;
        uint8_t scratch[64];
        (void)anydtls_read(from, scratch, sizeof scratch);
        uint32_t ms;
        if (anydtls_get_timeout(from, &ms) == 1 && ms == 0)
            anydtls_handle_timeout(from);
        if (link_pump(l) == 0) {
            uint32_t next = next_landing(l);
            pass_time(next < 5 ? next : 5);
        }
    }
    return false;
}

void link_free(struct link *l)
{
    anydtls_session_free(l->c);
    anydtls_session_free(l->s);
    anydtls_transport_free(l->ct);
    anydtls_transport_free(l->st);
    end_free(l->end[0]);
    end_free(l->end[1]);
    l->end[0] = l->end[1] = NULL;
    for (size_t i = 0; i < l->air_n; i++)
        free(l->air[i].d);
    free(l->air);
    l->air = NULL;
    l->air_n = l->air_cap = 0;
    l->c = l->s = NULL;
    l->ct = l->st = NULL;
}
