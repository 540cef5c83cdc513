/* wolfSSL's allocator hook for the allocation-failure test: every XMALLOC,
 * XREALLOC and XFREE of wolfSSL and wolfCrypt goes to the injection core.
 * libc allocations wolfSSL makes (fopen's FILE) come through the malloc
 * interposer. */
#include "alloc-inject.h"

#include <wolfssl/options.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/memory.h>

static int installed = -1;

static void *hook_malloc(size_t n)
{
    return inj_alloc(n, INJ_BACKEND, "wolfSSL", 0);
}

static void *hook_realloc(void *p, size_t n)
{
    return inj_realloc(p, n, INJ_BACKEND, "wolfSSL", 0);
}

static void hook_free(void *p)
{
    inj_free(p);
}

/* Early, so that wolfSSL allocates nothing with libc's allocator that our
 * hook would later free (both end in the same allocator anyway). */
__attribute__((constructor)) static void install(void)
{
    installed = wolfSSL_SetAllocators(hook_malloc, hook_free, hook_realloc);
}

const char *backend_hook_name(void)
{
    return "wolfSSL_SetAllocators (before main)";
}

bool backend_hook_installed(void)
{
    return installed == 0;
}

/* Held for the whole run: each configuration's own wolfSSL_Init then only
 * counts a reference, so the library's global init is not under test. */
void backend_global_init(void)
{
    (void)wolfSSL_Init();
}

void backend_global_done(void)
{
    (void)wolfSSL_Cleanup();
}

/* What wolfSSL keeps between calls for reuse: its cache of ECC fixed-point
 * tables (FP_ECC: every new point of a handshake takes an entry until
 * FP_ENTRIES are used, then replaces one; a table whose building failed
 * stays in it), and the nodes of its OpenSSL-compatible error queue, which
 * are the caller's until cleared.  Emptied after every run, the tables are
 * built again in the next one, under test (that is most of its time). */
void backend_settle(void)
{
    wolfSSL_ERR_clear_error();
    wc_ecc_fp_free();
}

const char *backend_handshake_unsafe(void)
{
    return NULL;
}
