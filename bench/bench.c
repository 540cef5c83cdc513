/*
 * bench-NAME: anydtls against the TLS library NAME used directly, in one
 * process run, over memory datagram queues (no sockets).  Prints one table
 * (native figure, anydtls figure, ratio; median of repeated runs) and
 * appends the rows to a CSV file.
 *
 *   bench-NAME PKI_DIR CSV_FILE [--quick]
 */
#define _GNU_SOURCE
#include "bench.h"

#include <anydtls/anydtls.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 7

static const uint8_t psk_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const char *pki;
static int scale = 1; /* --quick divides the work */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* ---------------- the anydtls side ---------------- */

struct pair {
    anydtls_config *ccfg, *scfg;
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
};

static int lookup(void *user, const char *identity, uint8_t *key, size_t cap)
{
    (void)user, (void)identity;
    if (cap < sizeof psk_key)
        return -1;
    memcpy(key, psk_key, sizeof psk_key);
    return (int)sizeof psk_key;
}

static void configs(struct pair *p, bool psk)
{
    char a[512], b[512];
    anydtls_config_new(&p->ccfg, ANYDTLS_CLIENT);
    anydtls_config_new(&p->scfg, ANYDTLS_SERVER);
    if (psk) {
        anydtls_config_set_psk(p->ccfg, "client1", psk_key, sizeof psk_key);
        anydtls_config_set_psk_server(p->scfg, NULL, lookup, NULL);
    } else {
        snprintf(a, sizeof a, "%s/ca.pem", pki);
        anydtls_config_set_ca_file(p->ccfg, a);
        anydtls_config_set_peer_name(p->ccfg, "localhost");
        snprintf(a, sizeof a, "%s/server.pem", pki);
        snprintf(b, sizeof b, "%s/server.key", pki);
        anydtls_config_set_cert_file(p->scfg, a, b);
    }
    anydtls_config_build(p->ccfg);
    anydtls_config_build(p->scfg);
    anydtls_transport_new_memory_pair(&p->ct, &p->st, 0);
}

static int establish(struct pair *p)
{
    anydtls_session_new(&p->c, p->ccfg, p->ct);
    anydtls_session_new(&p->s, p->scfg, p->st);
    for (int i = 0; i < 100; i++) {
        int rc = anydtls_handshake(p->c), rs = anydtls_handshake(p->s);
        if (rc == ANYDTLS_OK && rs == ANYDTLS_OK)
            return 0;
    }
    return -1;
}

static void release(struct pair *p)
{
    anydtls_session_free(p->c);
    anydtls_session_free(p->s);
    p->c = p->s = NULL;
}

static void pair_free(struct pair *p)
{
    release(p);
    anydtls_transport_free(p->ct);
    anydtls_transport_free(p->st);
    anydtls_config_free(p->ccfg);
    anydtls_config_free(p->scfg);
}

static int transfer(struct pair *p, int dir, const uint8_t *buf, size_t len)
{
    static uint8_t got[RECORD_SIZE];
    anydtls_session *from = dir == 0 ? p->c : p->s, *to = dir == 0 ? p->s : p->c;
    if (anydtls_write(from, buf, len) != (int)len)
        return -1;
    return anydtls_read(to, got, sizeof got) == (int)len ? 0 : -1;
}

/* ---------------- measurements ---------------- */

struct row {
    const char *what, *unit;
    double native, ours; /* native < 0: not applicable */
};

static struct row rows[16];
static int n_rows;

static void add_row(const char *what, const char *unit, double native, double ours)
{
    rows[n_rows++] = (struct row){what, unit, native, ours};
}

static void handshakes(bool psk)
{
    int n = 200 / scale;
    double nat[REPEATS], our[REPEATS];
    struct native *nv = native_new(pki, psk);
    struct pair p = {0};
    configs(&p, psk);
    /* Alternate which side goes first, so that neither always runs on a
     * warmer (or throttled) CPU. */
    for (int r = 0; r < 2 * REPEATS; r++) {
        bool native = (r % 2 == 0) == ((r / 2) % 2 == 0);
        double t = now_s();
        for (int i = 0; i < n; i++) {
            if (native && native_handshake(nv) != 0)
                fprintf(stderr, "native handshake failed\n");
            if (!native && establish(&p) != 0)
                fprintf(stderr, "anydtls handshake failed\n");
            if (!native)
                release(&p);
        }
        (native ? nat : our)[r / 2] = n / (now_s() - t);
    }
    add_row(psk ? "handshakes/s PSK" : "handshakes/s ECDSA P-256", "1/s", median(nat, REPEATS),
            median(our, REPEATS));
    pair_free(&p);
    native_free(nv);
}

static void throughput(int dir)
{
    static uint8_t buf[RECORD_SIZE];
    int n = 20000 / scale;
    double nat[REPEATS], our[REPEATS];
    struct native *nv = native_new(pki, false);
    struct pair p = {0};
    configs(&p, false);
    native_establish(nv);
    establish(&p);
    for (int r = 0; r < 2 * REPEATS; r++) {
        /* Interleaved and alternating first side (see handshakes()). */
        bool native = (r % 2 == 0) == ((r / 2) % 2 == 0);
        double t = now_s();
        for (int i = 0; i < n; i++) {
            if (native)
                native_transfer(nv, dir, buf, sizeof buf);
            else
                transfer(&p, dir, buf, sizeof buf);
        }
        (native ? nat : our)[r / 2] = n / (now_s() - t);
    }
    double rn = median(nat, REPEATS), ro = median(our, REPEATS);
    add_row(dir == 0 ? "records/s client to server" : "records/s server to client", "1/s", rn,
            ro);
    add_row(dir == 0 ? "MB/s client to server" : "MB/s server to client", "MB/s",
            rn * RECORD_SIZE / 1e6, ro * RECORD_SIZE / 1e6);
    /* Allocations per record on the data path, split by caller. */
    if (dir == 0) {
        struct heap_count h;
        heap_reset();
        for (int i = 0; i < 1000; i++)
            transfer(&p, dir, buf, sizeof buf);
        heap_read(&h);
        add_row("allocations/record ours", "1", -1, h.ours_allocs / 1000.0);
        add_row("allocations/record backend", "1", -1, h.backend_allocs / 1000.0);
    }
    pair_free(&p);
    native_free(nv);
}

/* Heap of one established session pair: native against anydtls. */
static void session_heap(void)
{
    struct heap_count a, b;
    struct native *nv = native_new(pki, false);
    struct pair p = {0};
    configs(&p, false);
    /* Warm up both: one-time allocations of the libraries are not per
     * session. */
    native_handshake(nv);
    establish(&p);
    release(&p);
    heap_reset();
    native_establish(nv);
    heap_read(&a);
    heap_reset();
    establish(&p);
    heap_read(&b);
    /* Per session: half of the pair's (client + server) bytes. */
    add_row("heap bytes/session", "B", a.live_bytes / 2.0, b.live_bytes / 2.0);
    pair_free(&p);
    native_free(nv);
}

/* A real ClientHello (first, without cookie) and the second one. */
static size_t client_hellos(struct pair *p, uint8_t *ch1, uint8_t *ch2, size_t cap,
                            size_t *len2)
{
    anydtls_addr peer;
    anydtls_prestate ps;
    uint8_t hvr[ANYDTLS_HVR_MAX];
    size_t hlen;
    anydtls_transport *t;
    anydtls_addr_from_string(&peer, "192.0.2.1", 4433);
    anydtls_transport_new_memory(&t, 0);
    anydtls_session_new(&p->c, p->ccfg, t);
    anydtls_handshake(p->c);
    int n1 = anydtls_memory_pop(t, ch1, cap);
    anydtls_cookie_check(p->scfg, ch1, (size_t)n1, &peer, hvr, sizeof hvr, &hlen, &ps);
    anydtls_memory_push(t, hvr, hlen);
    anydtls_handshake(p->c);
    *len2 = (size_t)anydtls_memory_pop(t, ch2, cap);
    anydtls_session_free(p->c);
    p->c = NULL;
    anydtls_transport_free(t);
    return (size_t)n1;
}

static void cookies(void)
{
    static uint8_t ch1[2048], ch2[2048];
    size_t len1, len2, hlen;
    uint8_t hvr[ANYDTLS_HVR_MAX];
    anydtls_prestate ps;
    anydtls_addr peer;
    struct pair p = {0};
    configs(&p, true);
    anydtls_addr_from_string(&peer, "192.0.2.1", 4433);
    len1 = client_hellos(&p, ch1, ch2, sizeof ch1, &len2);
    struct native *nv = native_new(pki, true);
    bool native = native_cookie_setup(nv, ch1, len1) == 0;
    int n = 200000 / scale;
    double nh[REPEATS], nv_[REPEATS], oh[REPEATS], ov[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double t = now_s();
        for (int i = 0; i < n; i++)
            anydtls_cookie_check(p.scfg, ch1, len1, &peer, hvr, sizeof hvr, &hlen, &ps);
        oh[r] = n / (now_s() - t);
        t = now_s();
        for (int i = 0; i < n; i++)
            anydtls_cookie_check(p.scfg, ch2, len2, &peer, hvr, sizeof hvr, &hlen, &ps);
        ov[r] = n / (now_s() - t);
        nh[r] = nv_[r] = -1;
        if (native) {
            t = now_s();
            for (int i = 0; i < n; i++)
                native_cookie_hvr(nv, ch1, len1);
            nh[r] = n / (now_s() - t);
            t = now_s();
            for (int i = 0; i < n; i++)
                native_cookie_verify(nv, ch2, len2);
            nv_[r] = n / (now_s() - t);
        }
    }
    add_row("HelloVerifyRequests/s", "1/s", median(nh, REPEATS), median(oh, REPEATS));
    add_row("cookies verified/s", "1/s", median(nv_, REPEATS), median(ov, REPEATS));
    pair_free(&p);
    native_free(nv);
}

/* ---------------- output ---------------- */

static void figure(char *buf, size_t cap, double v)
{
    if (v < 0)
        snprintf(buf, cap, "n/a");
    else if (v >= 1000)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

static void print_table(const char *cipher_native, const char *cipher_ours)
{
    struct utsname u;
    uname(&u);
    printf("\n== %s: %s (anydtls %s) on %s %s, %ld CPUs\n", anydtls_backend_name(),
           anydtls_backend_version(), anydtls_version(), u.sysname, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("   cipher: native %s, anydtls %s; median of %d runs\n", cipher_native, cipher_ours,
           REPEATS);
    printf("   %-32s %14s %14s %8s\n", "measure", "native", "anydtls", "ratio");
    for (int i = 0; i < n_rows; i++) {
        char a[32], b[32], r[32];
        figure(a, sizeof a, rows[i].native);
        figure(b, sizeof b, rows[i].ours);
        if (rows[i].native > 0 && rows[i].ours >= 0)
            snprintf(r, sizeof r, "%.3f", rows[i].ours / rows[i].native);
        else
            snprintf(r, sizeof r, "-");
        printf("   %-32s %14s %14s %8s\n", rows[i].what, a, b, r);
    }
}

static void write_csv(const char *path)
{
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    for (int i = 0; i < n_rows; i++)
        fprintf(f, "%s,%s,%s,%.4f,%.4f,%.4f\n", anydtls_backend_name(), rows[i].what,
                rows[i].unit, rows[i].native, rows[i].ours,
                rows[i].native > 0 && rows[i].ours >= 0 ? rows[i].ours / rows[i].native : -1);
    fclose(f);
}

static int records_only(bool native, int n)
{
    static uint8_t buf[RECORD_SIZE];
    struct native *nv = native_new(pki, false);
    struct pair p = {0};
    configs(&p, false);
    if (native)
        native_establish(nv);
    else
        establish(&p);
    for (int i = 0; i < n; i++) {
        if (native)
            native_transfer(nv, 0, buf, sizeof buf);
        else
            transfer(&p, 0, buf, sizeof buf);
    }
    pair_free(&p);
    native_free(nv);
    return 0;
}

/* Allocations made by code inside libanydtls count as ours. */
static void find_our_library(void)
{
    Dl_info info;
    if (dladdr((void *)anydtls_version, &info) == 0)
        return;
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
        unsigned long a, b;
        if (strstr(line, info.dli_fname) != NULL && sscanf(line, "%lx-%lx", &a, &b) == 2) {
            lo = a < lo ? a : lo;
            hi = b > hi ? b : hi;
        }
    }
    if (maps != NULL)
        fclose(maps);
    heap_set_ours((const void *)lo, (const void *)hi);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PKI_DIR CSV_FILE [--quick]\n", argv[0]);
        return 64;
    }
    pki = argv[1];
    if (argc > 3 && strcmp(argv[3], "--quick") == 0)
        scale = 10;
    /* --records native|anydtls N: only N records client to server after one
     * handshake, for an instruction count under callgrind. */
    if (argc > 4 && strcmp(argv[3], "--records") == 0)
        return records_only(strcmp(argv[4], "native") == 0, argc > 5 ? atoi(argv[5]) : 10000);
    find_our_library();
    struct native *nv = native_new(pki, false);
    native_establish(nv);
    char cipher_native[96];
    snprintf(cipher_native, sizeof cipher_native, "%s", native_cipher(nv));
    native_free(nv);
    struct pair p = {0};
    configs(&p, false);
    establish(&p);
    char cipher_ours[96];
    snprintf(cipher_ours, sizeof cipher_ours, "%s", anydtls_cipher(p.c));
    pair_free(&p);

    handshakes(false);
    handshakes(true);
    throughput(0);
    throughput(1);
    cookies();
    session_heap();
    print_table(cipher_native, cipher_ours);
    write_csv(argv[2]);
    return 0;
}
