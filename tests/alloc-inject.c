/* The allocation interposer and the injection core (see alloc-inject.h).
 *
 * malloc & co. defined here take the place of libc's for every library of
 * the process.  They hand the real work to the allocator underneath: libc's
 * (__libc_malloc & co., which valgrind replaces in turn when it runs us
 * with --soname-synonyms=somalloc=nouserintercepts, see tests/valgrind.sh),
 * or AddressSanitizer's when the program is built with it, so that its
 * leak and use-after-free checks keep working through us. */
#define _GNU_SOURCE
#include "alloc-inject.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define INJ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INJ_ASAN 1
#endif
#endif

#ifdef INJ_ASAN
#define REAL(f) __interceptor_##f
#else
#define REAL(f) __libc_##f
#endif
extern void *REAL(malloc)(size_t);
extern void *REAL(calloc)(size_t, size_t);
extern void *REAL(realloc)(void *, size_t);
extern void REAL(free)(void *);

#define TRACE_DEPTH 48
static struct trace_slot *trace;
static void *fired_stack[TRACE_DEPTH];
static int fired_depth;

static struct {
    bool counting;
    unsigned long fail_at, points, ours;
    bool fired;
    const char *fired_file; /* hook: file and line; interposer: caller */
    int fired_line;
    const void *fired_caller;
    bool fired_ours;
    long live;
    uintptr_t ours_lo, ours_hi;
    uintptr_t exempt_lo[8], exempt_hi[8];
    int exempt_n;
    uintptr_t realloc_exempt_lo, realloc_exempt_hi;
    int held;
} st;

void inj_start(unsigned long fail_at)
{
    st.fail_at = fail_at;
    st.points = st.ours = 0;
    st.fired = false;
    st.fired_file = NULL;
    st.fired_caller = NULL;
    st.counting = true;
}

void inj_pause(void)
{
    st.counting = false;
}

void inj_resume(void)
{
    st.counting = true;
}

unsigned long inj_points(void)
{
    return st.points;
}

unsigned long inj_points_ours(void)
{
    return st.ours;
}

bool inj_fired(void)
{
    return st.fired;
}

bool inj_fired_ours(void)
{
    return st.fired && st.fired_ours;
}

long inj_live(void)
{
    return st.live;
}

const char *inj_fired_where(void)
{
    static char where[300];
    Dl_info info;
    if (!st.fired)
        return "(none)";
    if (st.fired_file != NULL)
        snprintf(where, sizeof where, "%s:%d", st.fired_file, st.fired_line);
    else if (dladdr(st.fired_caller, &info) != 0 && info.dli_sname != NULL)
        snprintf(where, sizeof where, "%s+%#lx in %s", info.dli_sname,
                 (unsigned long)((uintptr_t)st.fired_caller - (uintptr_t)info.dli_saddr),
                 info.dli_fname);
    else if (dladdr(st.fired_caller, &info) != 0)
        snprintf(where, sizeof where, "%s+%#lx", info.dli_fname,
                 (unsigned long)((uintptr_t)st.fired_caller - (uintptr_t)info.dli_fbase));
    else
        snprintf(where, sizeof where, "%p", st.fired_caller);
    return where;
}

/* One allocation point: true when it is the one to fail. */
static bool point(enum inj_origin origin, const char *file, int line, const void *caller)
{
    if (!st.counting || origin == INJ_EXEMPT || st.held > 0)
        return false;
    st.points++;
    st.ours += origin == INJ_OURS;
    if (st.points != st.fail_at)
        return false;
    st.fired = true;
    st.fired_file = file;
    st.fired_line = line;
    st.fired_caller = caller;
    st.fired_ours = origin == INJ_OURS;
    if (trace != NULL)
        fired_depth = backtrace(fired_stack, TRACE_DEPTH);
    errno = ENOMEM;
    return true;
}

static enum inj_origin origin_of(const void *caller)
{
    uintptr_t a = (uintptr_t)caller;
    if (a >= st.ours_lo && a < st.ours_hi)
        return INJ_OURS;
    for (int i = 0; i < st.exempt_n; i++)
        if (a >= st.exempt_lo[i] && a < st.exempt_hi[i])
            return INJ_EXEMPT;
    return INJ_BACKEND;
}

/* ---- ANYDTLS_ALLOC_TRACE: the blocks a run leaves, with their stacks ----
 * A debugging aid (with ANYDTLS_ALLOC_ONLY): an open-addressing table of
 * the blocks allocated while counting, emptied as they are freed. */
#define TRACE_SLOTS (1u << 18)
struct trace_slot {
    void *p; /* NULL: empty; (void *)1: deleted */
    int depth;
    void *stack[TRACE_DEPTH];
};
static bool tracing_now;

static size_t trace_hash(const void *p)
{
    return ((uintptr_t)p >> 4) * 2654435761u % TRACE_SLOTS;
}

static void trace_add(void *p)
{
    if (trace == NULL || p == NULL || tracing_now)
        return;
    tracing_now = true; /* backtrace may allocate on its first use */
    for (size_t i = trace_hash(p), k = 0; k < TRACE_SLOTS; k++, i = (i + 1) % TRACE_SLOTS)
        if ((uintptr_t)trace[i].p <= 1) {
            trace[i].p = p;
            trace[i].depth = backtrace(trace[i].stack, TRACE_DEPTH);
            break;
        }
    tracing_now = false;
}

static void trace_remove(void *p)
{
    if (trace == NULL || p == NULL)
        return;
    for (size_t i = trace_hash(p), k = 0; k < TRACE_SLOTS && trace[i].p != NULL;
         k++, i = (i + 1) % TRACE_SLOTS)
        if (trace[i].p == p) {
            trace[i].p = (void *)1;
            return;
        }
}

void inj_trace_start(void)
{
    void *frame;
    backtrace(&frame, 1); /* its first call loads libgcc and allocates */
    if (trace == NULL)
        trace = REAL(calloc)(TRACE_SLOTS, sizeof *trace);
    for (size_t i = 0; trace != NULL && i < TRACE_SLOTS; i++)
        trace[i].p = NULL;
}

void inj_trace_dump(void)
{
    if (trace != NULL && st.fired) {
        fprintf(stderr, "# the failed allocation was asked for at:\n");
        backtrace_symbols_fd(fired_stack, fired_depth, 2);
    }
    for (size_t i = 0; trace != NULL && i < TRACE_SLOTS; i++)
        if ((uintptr_t)trace[i].p > 1) {
            fprintf(stderr, "# block %p left by the run, allocated at:\n", trace[i].p);
            backtrace_symbols_fd(trace[i].stack, trace[i].depth, 2);
        }
}

static void *counted(void *p)
{
    if (p != NULL)
        st.live++;
    trace_add(p);
    return p;
}

/* A block realloc moved (or not): the table follows it. */
static void *moved(void *old, void *p)
{
    if (p != NULL && trace != NULL) {
        trace_remove(old);
        trace_add(p);
    }
    return p;
}

void *inj_alloc(size_t n, enum inj_origin origin, const char *file, int line)
{
    return point(origin, file, line, NULL) ? NULL : counted(REAL(malloc)(n));
}

/* realloc(p, 0) frees p and answers NULL, as glibc's does. */
void *inj_realloc(void *p, size_t n, enum inj_origin origin, const char *file, int line)
{
    if (p == NULL)
        return inj_alloc(n, origin, file, line);
    if (n == 0) {
        inj_free(p);
        return NULL;
    }
    return point(origin, file, line, NULL) ? NULL : moved(p, REAL(realloc)(p, n));
}

void inj_free(void *p)
{
    if (p == NULL)
        return;
    st.live--;
    trace_remove(p);
    REAL(free)(p);
}

void *inj_alloc_nofail(size_t n)
{
    return counted(REAL(malloc)(n));
}

void *inj_realloc_nofail(void *p, size_t n)
{
    if (p == NULL)
        return inj_alloc_nofail(n);
    return moved(p, REAL(realloc)(p, n));
}

/* ---- the interposer: the caller's address says whose allocation it is ---- */

void *malloc(size_t n)
{
    const void *caller = __builtin_return_address(0);
    return point(origin_of(caller), NULL, 0, caller) ? NULL : counted(REAL(malloc)(n));
}

void *calloc(size_t count, size_t size)
{
    const void *caller = __builtin_return_address(0);
    return point(origin_of(caller), NULL, 0, caller) ? NULL : counted(REAL(calloc)(count, size));
}

void *realloc(void *p, size_t n)
{
    const void *caller = __builtin_return_address(0);
    if ((uintptr_t)caller >= st.realloc_exempt_lo && (uintptr_t)caller < st.realloc_exempt_hi)
        return inj_realloc_nofail(p, n);
    if (p == NULL)
        return point(origin_of(caller), NULL, 0, caller) ? NULL : counted(REAL(malloc)(n));
    if (n == 0) {
        inj_free(p);
        return NULL;
    }
    return point(origin_of(caller), NULL, 0, caller) ? NULL : moved(p, REAL(realloc)(p, n));
}

/* Defined here too: AddressSanitizer's own would not come through us. */
void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

void free(void *p)
{
    inj_free(p);
}

/* ---- which code is ours ---- */

struct find_text {
    uintptr_t addr, lo, hi;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    struct find_text *f = data;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < hi) {
            f->lo = lo;
            f->hi = hi;
            return 1;
        }
    }
    return 0;
}

void inj_set_ours(const void *any_function_of_the_library)
{
    struct find_text f = {(uintptr_t)any_function_of_the_library, 0, 0};
    if (dl_iterate_phdr(find_segment, &f) == 1) {
        st.ours_lo = f.lo;
        st.ours_hi = f.hi;
    }
}

static bool exempt_range(uintptr_t lo, uintptr_t hi)
{
    if (lo == 0 || lo >= hi || st.exempt_n == 8)
        return false;
    st.exempt_lo[st.exempt_n] = lo;
    st.exempt_hi[st.exempt_n++] = hi;
    return true;
}

bool inj_exempt(const void *any_function_of_the_library)
{
    struct find_text f = {(uintptr_t)any_function_of_the_library, 0, 0};
    return any_function_of_the_library != NULL && dl_iterate_phdr(find_segment, &f) == 1 &&
           exempt_range(f.lo, f.hi);
}

bool inj_exempt_realloc(const void *any_function_of_the_library)
{
    struct find_text f = {(uintptr_t)any_function_of_the_library, 0, 0};
    if (any_function_of_the_library == NULL || dl_iterate_phdr(find_segment, &f) != 1)
        return false;
    st.realloc_exempt_lo = f.lo;
    st.realloc_exempt_hi = f.hi;
    return true;
}

bool inj_exempt_function(const void *function)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (function == NULL || dladdr1(function, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 ||
        sym == NULL)
        return false;
    return exempt_range((uintptr_t)info.dli_saddr, (uintptr_t)info.dli_saddr + sym->st_size);
}

void inj_hold(void)
{
    st.held++;
}

void inj_release(void)
{
    st.held--;
}
