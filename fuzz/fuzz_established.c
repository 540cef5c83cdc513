/*
 * Forged datagrams against an established session.  Each run completes a
 * real handshake between a client and a server in memory, injects the
 * input's datagrams into one side (FUZZ_CLIENT_SIDE: the client, else the
 * server) and reads them there, passing whatever that side answers to its
 * peer.  The datagrams cannot be authentic, so each must be dropped: no data
 * may come out of them and the session must stay usable, which is checked by
 * sending a message each way afterwards.
 *
 * Input: a flags byte (FUZZ_PSK, FUZZ_MUTUAL: credentials; FUZZ_COOKIE: the
 * server runs the stateless exchange; FUZZ_CLIENT_SIDE), then
 * length-prefixed datagrams.
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

static void open_established(struct fuzz_pair *p, unsigned flags)
{
    int rc = fuzz_pair_open(p, fuzz_config(ANYDTLS_CLIENT, flags),
                            fuzz_config(ANYDTLS_SERVER, flags), flags, NULL, NULL);
    if (rc != ANYDTLS_OK)
        FUZZ_FAIL("pair: %s", anydtls_strerror(rc));
    if (!fuzz_pair_handshake(p))
        FUZZ_FAIL("handshake (flags 0x%x): client %d [%s], server %d [%s]", flags, p->crc,
                  anydtls_error_detail(p->c), p->src, anydtls_error_detail(p->s));
}

/* Read everything queued for s: a forged datagram yields nothing. */
static void read_forged(anydtls_session *s, const char *side)
{
    uint8_t buf[4096];
    for (int i = 0; i < 64; i++) {
        int rc = anydtls_read(s, buf, sizeof buf);
        if (rc == ANYDTLS_E_WANT_READ)
            return;
        if (rc >= 0)
            FUZZ_FAIL("%s: a forged datagram was read as %d bytes of data", side, rc);
        FUZZ_FAIL("%s: a forged datagram failed the session: %s (%s)", side, anydtls_strerror(rc),
                  anydtls_error_detail(s));
    }
    FUZZ_FAIL("%s: reads never ran dry", side);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    bool client = (flags & FUZZ_CLIENT_SIDE) != 0;
    struct fuzz_input in = {data + 1, size - 1};
    struct fuzz_pair p;
    const uint8_t *d;
    size_t len;
    open_established(&p, flags);
    anydtls_session *target = client ? p.c : p.s, *peer = client ? p.s : p.c;
    anydtls_transport *t = client ? p.ct : p.st;
    while (fuzz_next_dgram(&in, &d, &len)) {
        (void)anydtls_memory_push(t, d, len);
        read_forged(target, client ? "client" : "server");
        fuzz_pair_pump(&p);
        read_forged(peer, client ? "server (peer)" : "client (peer)");
    }
    if (!fuzz_pair_transfer(&p, !client, "to the target") ||
        !fuzz_pair_transfer(&p, client, "from the target"))
        FUZZ_FAIL("the %s is no longer usable after the forged datagrams",
                  client ? "client" : "server");
    fuzz_pair_close(&p);
    return 0;
}
