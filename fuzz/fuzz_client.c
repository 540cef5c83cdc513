/*
 * A client session that has sent its ClientHello, fed arbitrary datagrams
 * as the server's answers through the memory transport, driven by
 * anydtls_handshake and then anydtls_read.
 *
 * Input: a flags byte (FUZZ_PSK, FUZZ_MUTUAL: the credentials), then
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

static bool failed(int rc)
{
    return rc < 0 && rc != ANYDTLS_E_WANT_READ && rc != ANYDTLS_E_WANT_WRITE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    anydtls_config *cfg = fuzz_config(ANYDTLS_CLIENT, data[0]);
    struct fuzz_input in = {data + 1, size - 1};
    anydtls_transport *t = NULL;
    anydtls_session *s = NULL;
    const uint8_t *d;
    size_t len;
    if (anydtls_transport_new_memory(&t, 0) != ANYDTLS_OK ||
        anydtls_session_new(&s, cfg, t) != ANYDTLS_OK)
        FUZZ_FAIL("client session");
    int rc = anydtls_handshake(s);
    if (rc != ANYDTLS_E_WANT_READ)
        FUZZ_FAIL("the first handshake step: %d", rc);
    fuzz_drain(t);
    while (!failed(rc) && fuzz_next_dgram(&in, &d, &len)) {
        (void)anydtls_memory_push(t, d, len);
        rc = fuzz_drive(s);
        fuzz_drain(t);
    }
    if (anydtls_handshake(s) == ANYDTLS_OK)
        fuzz_probe(s);
    anydtls_session_free(s);
    anydtls_transport_free(t);
    return 0;
}
