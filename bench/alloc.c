/* A malloc interposer: allocations split by caller (the anydtls library's
 * code, or anything else: the backend), and live bytes. */
#define _GNU_SOURCE
#include "bench.h"

#include <malloc.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static uintptr_t ours_lo, ours_hi;
static struct heap_count count;

void heap_set_ours(const void *lo, const void *hi)
{
    ours_lo = (uintptr_t)lo;
    ours_hi = (uintptr_t)hi;
}

void heap_reset(void)
{
    struct heap_count zero = {0};
    count = zero;
}

void heap_read(struct heap_count *c)
{
    *c = count;
}

/* Live bytes are counted in total: a block may be freed by other code
 * than the code that allocated it.  Allocations are split by caller. */
static void account(void *caller, void *p, long sign)
{
    if (p == NULL)
        return;
    count.live_bytes += sign * (long)malloc_usable_size(p);
    if (sign < 0)
        return;
    uintptr_t a = (uintptr_t)caller;
    if (a >= ours_lo && a < ours_hi)
        count.ours_allocs++;
    else
        count.backend_allocs++;
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    account(__builtin_return_address(0), p, 1);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    account(__builtin_return_address(0), p, 1);
    return p;
}

void *realloc(void *old, size_t n)
{
    void *caller = __builtin_return_address(0);
    account(caller, old, -1);
    void *p = __libc_realloc(old, n);
    account(caller, p, 1);
    return p;
}

void free(void *p)
{
    account(__builtin_return_address(0), p, -1);
    __libc_free(p);
}
