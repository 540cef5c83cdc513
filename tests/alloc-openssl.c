/* OpenSSL's allocator hook for the allocation-failure test: every
 * OPENSSL_malloc, _zalloc, _realloc and _free of libcrypto and libssl goes
 * to the injection core, with OpenSSL's own file and line for diagnostics.
 * libc allocations OpenSSL makes (fopen's FILE) come through the malloc
 * interposer. */
#include "alloc-inject.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int installed;


static void *hook_malloc(size_t n, const char *file, int line)
{
    return inj_alloc(n, INJ_BACKEND, file, line);
}

static void *hook_realloc(void *p, size_t n, const char *file, int line)
{
    return inj_realloc(p, n, INJ_BACKEND, file, line);
}

/* OpenSSL 3.5 (3.5.7 measured; 3.0.19 to 3.0.22 do not): when an
 * allocation fails around a change of write epoch (key derivation, the
 * Finished, a handshake message's buffer), SSL_free then frees the old
 * write record layer a second time (dtls1_clear_sent_buffer: pqueue_pop in
 * dtls_free) and the process crashes.  Not anydtls's to fix; the other
 * operations of the test still run there. */
const char *backend_handshake_unsafe(void)
{
    return OpenSSL_version_num() >= 0x30500000L
               ? "OpenSSL 3.5 crashes in SSL_free after a failed allocation around a change "
                 "of write epoch (dtls1_clear_sent_buffer frees the old record layer twice)"
               : NULL;
}

static void hook_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    inj_free(p);
}

/* CRYPTO_set_mem_functions refuses once OpenSSL has allocated anything, so
 * it runs before main, when only the libraries' own constructors (which do
 * not allocate through OpenSSL) have run. */
__attribute__((constructor)) static void install(void)
{
    installed = CRYPTO_set_mem_functions(hook_malloc, hook_realloc, hook_free);
}

const char *backend_hook_name(void)
{
    return "CRYPTO_set_mem_functions (before main)";
}

bool backend_hook_installed(void)
{
    return installed == 1;
}

void backend_global_init(void)
{
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

/* OpenSSL frees its global state in its own atexit handler. */
void backend_global_done(void)
{
}

/* OpenSSL keeps per-thread state between calls: the error queue, whose
 * slots keep their message buffers for reuse even when cleared, and the
 * thread's random generators.  They are the thread's, freed when it stops
 * using OpenSSL; stopping here after every run lets the live count come
 * back to its baseline (the next run sets them up again, under test). */
void backend_settle(void)
{
    OPENSSL_thread_stop();
}
