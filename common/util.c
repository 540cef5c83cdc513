/* Small helpers: constant-time compare, wiping, owned copies. */
#include "internal.h"

#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int anydtls_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    /* Map 0 -> 1 and 1..255 -> 0 without a branch on the secret. */
    return (int)(1 & (((unsigned)diff - 1u) >> 8));
}

void anydtls_declassify(const void *p, size_t n)
{
#ifdef HAVE_VALGRIND_MEMCHECK_H
    (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p;
    (void)n;
#endif
}

void anydtls_wipe(void *p, size_t n)
{
    if (p == NULL)
        return;
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void anydtls_bytes_clear(struct anydtls_bytes *b)
{
    if (b == NULL)
        return;
    anydtls_wipe(b->data, b->len);
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

int anydtls_bytes_set(struct anydtls_bytes *b, const void *data, size_t len)
{
    uint8_t *copy = malloc(len + 1); /* +1: PEM parsers like a NUL */
    if (copy == NULL)
        return ANYDTLS_E_NOMEM;
    memcpy(copy, data, len);
    copy[len] = 0;
    anydtls_bytes_clear(b);
    b->data = copy;
    b->len = len;
    return ANYDTLS_OK;
}

bool anydtls_sni_host_name(const uint8_t *name, size_t n)
{
    if (n < 1 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

int anydtls_strdup_into(char **dst, const char *src)
{
    size_t n = strlen(src) + 1;
    char *copy = malloc(n);
    if (copy == NULL)
        return ANYDTLS_E_NOMEM;
    memcpy(copy, src, n);
    if (*dst != NULL) {
        anydtls_wipe(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = copy;
    return ANYDTLS_OK;
}

void anydtls_set_detail(char *dst, size_t cap, const char *msg)
{
    snprintf(dst, cap, "%s", msg != NULL ? msg : "");
}

void anydtls_keep_psk_identity(anydtls_session *s, const char *identity, size_t len)
{
    if (s->psk_identity[0] != '\0' || identity == NULL || len == 0 ||
        len >= sizeof s->psk_identity || memchr(identity, '\0', len) != NULL)
        return;
    memcpy(s->psk_identity, identity, len);
    s->psk_identity[len] = '\0';
}

int anydtls_session_fail(anydtls_session *s, int code, long native, const char *msg)
{
    /* Once failed, the detail and native code describe the failure that
     * failed the session, the code every later call answers with. */
    if (s->failed)
        return code;
    s->native_error = native;
    anydtls_set_detail(s->detail, sizeof s->detail, msg);
    if (code != ANYDTLS_E_WANT_READ && code != ANYDTLS_E_WANT_WRITE &&
        code != ANYDTLS_E_BAD_RECORD && code != ANYDTLS_E_MSG_TOO_BIG &&
        code != ANYDTLS_E_INVALID_ARG) {
        s->failed = true;
        s->fail_code = code;
    }
    return code;
}

int anydtls_test_session_fail(anydtls_session *s, int code, long native, const char *msg)
{
    return anydtls_session_fail(s, code, native, msg);
}
