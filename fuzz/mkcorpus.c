/*
 * Seed corpora for the harnesses, captured from real handshakes of this
 * backend over memory transports: every mode of the harnesses (certificates,
 * mutual certificates, PSK; with and without the cookie exchange; a small
 * MTU for fragmented flights), then data both ways and close_notify.
 *
 * Usage: mkcorpus-BACKEND DIR   (writes DIR/{cookie,server,client,established})
 * The PKI is found as by the harnesses ($ANYDTLS_PKI, else pki/ beside the
 * program); without one the certificate modes run with PSK, as there.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CAPTURE_MAX (256 * 1024)
#define FIRST_KEPT 3

/* The datagrams of one run, per direction, length-prefixed as the harnesses
 * read them, and the first few client datagrams on their own. */
struct capture {
    uint8_t seq[2][CAPTURE_MAX];
    size_t len[2];
    uint8_t first[FIRST_KEPT][FUZZ_MAX_DGRAM];
    size_t first_len[FIRST_KEPT];
    int n_first;
};

static void tap(void *user, int dir, const uint8_t *d, size_t len)
{
    struct capture *c = user;
    if (c->len[dir] + 2 + len <= CAPTURE_MAX) {
        c->seq[dir][c->len[dir]] = (uint8_t)(len >> 8);
        c->seq[dir][c->len[dir] + 1] = (uint8_t)len;
        memcpy(c->seq[dir] + c->len[dir] + 2, d, len);
        c->len[dir] += 2 + len;
    }
    if (dir == 0 && c->n_first < FIRST_KEPT) {
        memcpy(c->first[c->n_first], d, len);
        c->first_len[c->n_first++] = len;
    }
}

static int write_seed(const char *dir, const char *sub, const char *name, unsigned flags,
                      const uint8_t *body, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    uint8_t flag_byte = (uint8_t)flags;
    int rc = fwrite(&flag_byte, 1, 1, f) == 1 && fwrite(body, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static int write_seeds(const char *dir, const char *name, unsigned flags, const struct capture *c)
{
    char buf[300];
    int rc = write_seed(dir, "server", name, flags, c->seq[0], c->len[0]);
    rc |= write_seed(dir, "client", name, flags, c->seq[1], c->len[1]);
    snprintf(buf, sizeof buf, "%s-server", name);
    rc |= write_seed(dir, "established", buf, flags, c->seq[0], c->len[0]);
    snprintf(buf, sizeof buf, "%s-client", name);
    rc |= write_seed(dir, "established", buf, flags | FUZZ_CLIENT_SIDE, c->seq[1], c->len[1]);
    for (int i = 0; i < c->n_first; i++) {
        snprintf(buf, sizeof buf, "%s-%d", name, i);
        rc |= write_seed(dir, "cookie", buf, flags | FUZZ_ACCEPT, c->first[i], c->first_len[i]);
    }
    return rc;
}

/* One handshake, data both ways and close_notify, captured. */
static int run(struct capture *c, unsigned flags, unsigned mtu)
{
    anydtls_config *ccfg = fuzz_config_new(ANYDTLS_CLIENT, flags, mtu);
    anydtls_config *scfg = fuzz_config_new(ANYDTLS_SERVER, flags, mtu);
    struct fuzz_pair p;
    int rc = fuzz_pair_open(&p, ccfg, scfg, flags, tap, c);
    if (rc != ANYDTLS_OK)
        goto fail;
    rc = ANYDTLS_E_HANDSHAKE;
    if (!fuzz_pair_handshake(&p)) {
        fprintf(stderr, "client: %s [%s]; server: %s [%s]\n", anydtls_strerror(p.crc),
                anydtls_error_detail(p.c), anydtls_strerror(p.src), anydtls_error_detail(p.s));
        goto fail;
    }
    if (!fuzz_pair_transfer(&p, true, "hello from the client") ||
        !fuzz_pair_transfer(&p, false, "hello from the server"))
        goto fail;
    rc = anydtls_shutdown(p.c);
    fuzz_pair_pump(&p);
fail:
    fuzz_pair_close(&p);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    return rc;
}

static int make_dirs(const char *dir)
{
    static const char *const subs[] = {"", "/cookie", "/server", "/client", "/established"};
    char path[1024];
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(path, sizeof path, "%s%s", dir, subs[i]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        unsigned flags, mtu;
    } modes[] = {
        {"cert", 0, 0},
        {"cert-cookie", FUZZ_COOKIE, 0},
        {"mutual", FUZZ_MUTUAL, 0},
        {"mutual-cookie", FUZZ_MUTUAL | FUZZ_COOKIE, 0},
        {"cert-mtu256", 0, 256},
        /* Not with cookies: a ClientHello that carries one is fragmented at
         * this MTU and the stateless exchange drops fragments. */
        {"psk-mtu256", FUZZ_PSK, 256},
        {"psk", FUZZ_PSK, 0},
        {"psk-cookie-ipv6", FUZZ_PSK | FUZZ_COOKIE | FUZZ_IPV6, 0},
    };
    static struct capture c;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    fuzz_setup(argv[0]);
    if (make_dirs(argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[200];
        if (modes[i].mtu != 0 && !(anydtls_backend_caps() & ANYDTLS_CAP_MTU))
            continue;
        snprintf(name, sizeof name, "%s-%s", anydtls_backend_name(), modes[i].name);
        memset(&c, 0, sizeof c);
        int rc = run(&c, modes[i].flags, modes[i].mtu);
        if (rc != ANYDTLS_OK) {
            fprintf(stderr, "%s: handshake failed: %s\n", name, anydtls_strerror(rc));
            return 1;
        }
        if (write_seeds(argv[1], name, modes[i].flags, &c) != 0) {
            perror(name);
            return 1;
        }
    }
    return 0;
}
