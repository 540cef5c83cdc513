/* GnuTLS for the allocation-failure test.  GnuTLS has had no working
 * allocator hook since 3.3 (gnutls_global_set_mem_functions does nothing):
 * its gnutls_malloc is libc's malloc, which tests/alloc-inject.c replaces,
 * as it does for nettle, p11-kit and the rest.
 *
 * What is left out, each for a defect of its own in the libraries under
 * anydtls (seen with GnuTLS 3.7.9, libtasn1 4.19, GMP 6.2.1), not of
 * anydtls: allocations there are counted as live but never failed.
 *  - GMP aborts the process when an allocation fails: it gets allocators of
 *    ours that never fail.
 *  - libtasn1 dereferences NULL when an allocation fails while it copies a
 *    structure (_asn1_copy_structure3, under asn1_create_element, used for
 *    every certificate and key GnuTLS parses): its own calls are exempt.
 *  - gnutls_x509_dn_init does not check its calloc (NULL dereference,
 *    reached from certificate verification in the handshake): exempt.
 *  - The certificate and CA loaders leak on their error paths: a
 *    certificate whose import fails is never freed (parse_pem_cert_mem),
 *    nor the CAs gnutls_x509_trust_list_add_cas could not add.  The four
 *    loaders anydtls calls are interposed here and nothing fails while
 *    they run.
 *  - When a buffer fails to grow while a hello's extensions are written
 *    (_gnutls_gen_hello_extensions, for the server's ServerHello and the
 *    client's ClientHello after a HelloVerifyRequest), a 2 KiB handshake
 *    buffer is lost.  Buffers grow through gnutls_realloc_fast: realloc
 *    called from libgnutls is exempt (its malloc and calloc are not). */
#define _GNU_SOURCE
#include "alloc-inject.h"

#include <dlfcn.h>
#include <gmp.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static void *gmp_alloc(size_t n)
{
    return inj_alloc_nofail(n);
}

static void *gmp_realloc(void *p, size_t old, size_t n)
{
    (void)old;
    return inj_realloc_nofail(p, n);
}

static void gmp_free(void *p, size_t n)
{
    (void)n;
    inj_free(p);
}

/* Before main: GnuTLS's own constructor has run its global init already
 * (through the interposer, not failing anything), and GMP blocks it made
 * with GMP's default allocators are freed correctly by gmp_free, both
 * ending in the same allocator. */
__attribute__((constructor)) static void install(void)
{
    mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free);
}

/* ---- the loaders, held ---- */

static int (*next_key_file2)(gnutls_certificate_credentials_t, const char *, const char *,
                             gnutls_x509_crt_fmt_t, const char *, unsigned);
static int (*next_key_mem2)(gnutls_certificate_credentials_t, const gnutls_datum_t *,
                            const gnutls_datum_t *, gnutls_x509_crt_fmt_t, const char *, unsigned);
static int (*next_trust_file)(gnutls_certificate_credentials_t, const char *,
                              gnutls_x509_crt_fmt_t);
static int (*next_trust_mem)(gnutls_certificate_credentials_t, const gnutls_datum_t *,
                             gnutls_x509_crt_fmt_t);

int gnutls_certificate_set_x509_key_file2(gnutls_certificate_credentials_t res,
                                          const char *certfile, const char *keyfile,
                                          gnutls_x509_crt_fmt_t type, const char *pass,
                                          unsigned int flags)
{
    inj_hold();
    int r = next_key_file2(res, certfile, keyfile, type, pass, flags);
    inj_release();
    return r;
}

int gnutls_certificate_set_x509_key_mem2(gnutls_certificate_credentials_t res,
                                         const gnutls_datum_t *cert, const gnutls_datum_t *key,
                                         gnutls_x509_crt_fmt_t type, const char *pass,
                                         unsigned int flags)
{
    inj_hold();
    int r = next_key_mem2(res, cert, key, type, pass, flags);
    inj_release();
    return r;
}

int gnutls_certificate_set_x509_trust_file(gnutls_certificate_credentials_t cred,
                                           const char *cafile, gnutls_x509_crt_fmt_t type)
{
    inj_hold();
    int r = next_trust_file(cred, cafile, type);
    inj_release();
    return r;
}

int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                          const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type)
{
    inj_hold();
    int r = next_trust_mem(res, ca, type);
    inj_release();
    return r;
}

/* ---- the backend's side of the test ---- */

static bool exempt_ok;

const char *backend_hook_name(void)
{
    return "malloc interposer; never failed: GMP, libtasn1, gnutls_x509_dn_init, GnuTLS's "
           "realloc, the certificate and CA loaders";
}

bool backend_hook_installed(void)
{
    void *(*a)(size_t);
    mp_get_memory_functions(&a, NULL, NULL);
    return a == gmp_alloc && exempt_ok;
}

/* Also resolves the interposed functions, before any injection (dlsym may
 * allocate), and after gnutls_global_init (no GnuTLS call comes through the
 * wrappers before). */
void backend_global_init(void)
{
    (void)gnutls_global_init();
    next_key_file2 = dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_key_file2");
    next_key_mem2 = dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_key_mem2");
    next_trust_file = dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_trust_file");
    next_trust_mem = dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_trust_mem");

    exempt_ok = inj_exempt(dlsym(RTLD_DEFAULT, "asn1_create_element")) &&
                inj_exempt_realloc(dlsym(RTLD_DEFAULT, "gnutls_init")) &&
                inj_exempt_function(dlsym(RTLD_DEFAULT, "gnutls_x509_dn_init")) &&
                next_key_file2 != NULL && next_key_mem2 != NULL && next_trust_file != NULL &&
                next_trust_mem != NULL;
}

void backend_global_done(void)
{
    gnutls_global_deinit();
}

void backend_settle(void)
{
}

const char *backend_handshake_unsafe(void)
{
    return NULL;
}
