/*
 * A server session fed arbitrary datagrams through the memory transport,
 * driven by anydtls_handshake and then anydtls_read.
 *
 * Input: a flags byte (FUZZ_PSK, FUZZ_MUTUAL: the credentials; FUZZ_COOKIE:
 * the session is made by anydtls_session_accept for the first datagram that
 * passes the stateless exchange, its cookie spliced in as a client would;
 * FUZZ_IPV6: the peer), then length-prefixed datagrams.
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_setup((*argv)[0]);
    return 0;
}

struct server {
    unsigned flags;
    anydtls_config *cfg;
    anydtls_transport *t;
    anydtls_session *s;
};

/* Cookie mode: the first datagram that verifies makes the session. */
static int accept_hello(struct server *sv, const uint8_t *d, size_t len)
{
    static uint8_t hello[FUZZ_MAX_DGRAM + ANYDTLS_COOKIE_LEN];
    anydtls_prestate ps;
    int rc = fuzz_cookie_exchange(sv->cfg, d, len, fuzz_peer(sv->flags), hello, sizeof hello, &ps);
    if (rc != ANYDTLS_COOKIE_VERIFIED)
        return ANYDTLS_E_WANT_READ; /* dropped: keep listening */
    rc = anydtls_session_accept(&sv->s, sv->cfg, sv->t, &ps);
    return rc == ANYDTLS_OK ? fuzz_drive(sv->s) : rc;
}

static int server_input(struct server *sv, const uint8_t *d, size_t len)
{
    if (sv->s == NULL)
        return accept_hello(sv, d, len);
    (void)anydtls_memory_push(sv->t, d, len);
    return fuzz_drive(sv->s);
}

static bool failed(int rc)
{
    return rc < 0 && rc != ANYDTLS_E_WANT_READ && rc != ANYDTLS_E_WANT_WRITE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct server sv = {.flags = data[0], .cfg = fuzz_config(ANYDTLS_SERVER, data[0])};
    struct fuzz_input in = {data + 1, size - 1};
    const uint8_t *d;
    size_t len;
    if (anydtls_transport_new_memory(&sv.t, 0) != ANYDTLS_OK)
        FUZZ_FAIL("memory transport");
    if (!(sv.flags & FUZZ_COOKIE) && anydtls_session_new(&sv.s, sv.cfg, sv.t) != ANYDTLS_OK)
        FUZZ_FAIL("server session");
    while (fuzz_next_dgram(&in, &d, &len)) {
        int rc = server_input(&sv, d, len);
        fuzz_drain(sv.t);
        if (failed(rc))
            break;
    }
    if (anydtls_handshake(sv.s) == ANYDTLS_OK)
        fuzz_probe(sv.s);
    anydtls_session_free(sv.s);
    anydtls_transport_free(sv.t);
    return 0;
}
