/* Configurations are built once and shared read-only by sessions in many
 * threads: eight threads each run handshakes (with the stateless cookie
 * check on the shared server configuration) and exchange data, while
 * eight more build and free configurations of their own at the same
 * time (the TLS libraries' global set-up and tear-down race there if
 * anything does).  Run it under a thread checker to see more than the
 * outcome. */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 10

static anydtls_config *shared_client, *shared_server;
/* pki() is not for threads: the paths are made once, before they start. */
static char ca_path[512], cert_path[512], key_path[512];

struct pipe_end {
    anydtls_transport *ct, *st;
    anydtls_session *c, *s;
};

/* Move every queued datagram once; the server side passes through the
 * cookie check until its session exists. */
static void shuttle(struct pipe_end *p, const anydtls_addr *peer)
{
    uint8_t d[4096], reply[ANYDTLS_HVR_MAX];
    size_t rlen;
    anydtls_prestate ps;
    int n;
    while ((n = anydtls_memory_pop(p->ct, d, sizeof d)) > 0) {
        if (p->s != NULL) {
            anydtls_memory_push(p->st, d, (size_t)n);
            continue;
        }
        int rc = anydtls_cookie_check(shared_server, d, (size_t)n, peer, reply, sizeof reply,
                                      &rlen, &ps);
        if (rc == ANYDTLS_COOKIE_SEND_HVR)
            anydtls_memory_push(p->ct, reply, rlen);
        else if (rc == ANYDTLS_COOKIE_VERIFIED)
            anydtls_session_accept(&p->s, shared_server, p->st, &ps);
    }
    while ((n = anydtls_memory_pop(p->st, d, sizeof d)) > 0)
        anydtls_memory_push(p->ct, d, (size_t)n);
}

static bool pending(int rc)
{
    return rc == ANYDTLS_E_WANT_READ || rc == ANYDTLS_E_WANT_WRITE;
}

/* A thread may be preempted long enough for a retransmission timer to
 * fire: a retransmitted flight can be queued before the data, and each
 * read takes one datagram. */
static int read_message(anydtls_session *s, uint8_t *buf, size_t cap)
{
    int n = ANYDTLS_E_WANT_READ;
    for (int i = 0; i < 16 && n == ANYDTLS_E_WANT_READ; i++)
        n = anydtls_read(s, buf, cap);
    return n;
}

/* One handshake and one message each way; true when all of it worked. */
static bool one_round(int id)
{
    struct pipe_end p = {0};
    anydtls_addr peer = {.family = AF_INET, .port = (uint16_t)(40000 + id), .addr = {127, 0, 0, 1}};
    bool good = false;
    if (anydtls_transport_new_memory(&p.ct, 0) != ANYDTLS_OK ||
        anydtls_transport_new_memory(&p.st, 0) != ANYDTLS_OK ||
        anydtls_session_new(&p.c, shared_client, p.ct) != ANYDTLS_OK)
        goto done;
    int crc = ANYDTLS_E_WANT_READ, src = ANYDTLS_E_WANT_READ;
    for (int step = 0; step < 1000 && (pending(crc) || pending(src)); step++) {
        if (pending(crc))
            crc = anydtls_handshake(p.c);
        if (p.s != NULL && pending(src))
            src = anydtls_handshake(p.s);
        shuttle(&p, &peer);
    }
    if (crc != ANYDTLS_OK || src != ANYDTLS_OK) {
        tap_diag("round %d: client %s (%s), server %s (%s)", id, code_name(crc),
                 anydtls_error_detail(p.c), code_name(src),
                 p.s != NULL ? anydtls_error_detail(p.s) : "no session");
        goto done;
    }
    uint8_t buf[64];
    char msg[32];
    int len = snprintf(msg, sizeof msg, "thread %d", id);
    if (anydtls_write(p.c, (const uint8_t *)msg, (size_t)len) != len)
        goto done;
    shuttle(&p, &peer);
    int got = read_message(p.s, buf, sizeof buf);
    if (got != len || memcmp(buf, msg, (size_t)len) != 0) {
        tap_diag("round %d: the server read %s (%s)", id, got < 0 ? code_name(got) : "other data",
                 anydtls_error_detail(p.s));
        goto done;
    }
    if (anydtls_write(p.s, buf, (size_t)len) != len)
        goto done;
    shuttle(&p, &peer);
    got = read_message(p.c, buf, sizeof buf);
    good = got == len && memcmp(buf, msg, (size_t)len) == 0;
    if (!good)
        tap_diag("round %d: the client read %s (%s)", id, got < 0 ? code_name(got) : "other data",
                 anydtls_error_detail(p.c));
done:
    anydtls_session_free(p.c);
    anydtls_session_free(p.s);
    anydtls_transport_free(p.ct);
    anydtls_transport_free(p.st);
    return good;
}

static void *sessions(void *arg)
{
    int id = (int)(intptr_t)arg, good = 0;
    for (int i = 0; i < ROUNDS; i++)
        good += one_round(id * ROUNDS + i);
    return (void *)(intptr_t)good;
}

static void *configurations(void *arg)
{
    (void)arg;
    int good = 0;
    for (int i = 0; i < ROUNDS; i++) {
        anydtls_config *c = NULL, *s = NULL;
        good += anydtls_config_new(&c, ANYDTLS_CLIENT) == ANYDTLS_OK &&
                anydtls_config_set_ca_file(c, ca_path) == ANYDTLS_OK &&
                anydtls_config_set_peer_name(c, "localhost") == ANYDTLS_OK &&
                anydtls_config_build(c) == ANYDTLS_OK &&
                anydtls_config_new(&s, ANYDTLS_SERVER) == ANYDTLS_OK &&
                anydtls_config_set_cert_file(s, cert_path, key_path) == ANYDTLS_OK &&
                anydtls_config_build(s) == ANYDTLS_OK;
        anydtls_config_free(c);
        anydtls_config_free(s);
    }
    return (void *)(intptr_t)good;
}

int main(void)
{
    tap_plan(2);
    snprintf(ca_path, sizeof ca_path, "%s", pki("ca.pem"));
    snprintf(cert_path, sizeof cert_path, "%s", pki("server.pem"));
    snprintf(key_path, sizeof key_path, "%s", pki("server.key"));
    shared_client = client_cert_config("ca.pem", "localhost");
    shared_server = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_build(shared_client));
    CHECK(anydtls_config_build(shared_server));
    pthread_t hs[THREADS], cf[THREADS];
    for (int i = 0; i < THREADS; i++) {
        if (pthread_create(&hs[i], NULL, sessions, (void *)(intptr_t)i) != 0 ||
            pthread_create(&cf[i], NULL, configurations, NULL) != 0) {
            tap_diag("cannot start threads");
            _exit(1);
        }
    }
    int handshakes = 0, built = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(hs[i], &r);
        handshakes += (int)(intptr_t)r;
        pthread_join(cf[i], &r);
        built += (int)(intptr_t)r;
    }
    is(handshakes, THREADS * ROUNDS,
       "%d threads sharing two configurations: every handshake (with cookie) and echo works",
       THREADS);
    is(built, THREADS * ROUNDS, "%d threads building and freeing configurations meanwhile", THREADS);
    anydtls_config_free(shared_client);
    anydtls_config_free(shared_server);
    return tap_done();
}
