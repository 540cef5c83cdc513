/* Allocation-failure injection for the test_alloc programs.
 *
 * tests/alloc-inject.c replaces malloc, calloc, realloc, reallocarray and
 * free for the whole process (libanydtls, the TLS library and libc's own
 * callers all reach them), and each backend's file (tests/alloc-NAME.c)
 * routes the TLS library's allocator hook, where it has one, to the same
 * core.  The core counts the allocation points of a window and fails the
 * Nth one; it also keeps the number of live blocks, which must come back to
 * where it was once a run has freed what it made: that is the leak check of
 * the plain run (valgrind and LeakSanitizer check the same program too). */
#ifndef ANYDTLS_ALLOC_INJECT_H
#define ANYDTLS_ALLOC_INJECT_H

#include <stdbool.h>
#include <stddef.h>

/* Where an allocation comes from: libanydtls, the TLS library (or libc for
 * it), or a library exempt from failures (inj_exempt). */
enum inj_origin { INJ_OURS, INJ_BACKEND, INJ_EXEMPT };

/* Start a run: count allocation points from now on and fail the fail_at-th
 * one (only that one; 0: fail none).  Counting is on until inj_pause. */
void inj_start(unsigned long fail_at);
/* Stop / resume counting inside a run (setup that is not under test). */
void inj_pause(void);
void inj_resume(void);
/* Allocation points counted since inj_start, and how many of them were
 * made by libanydtls's own code. */
unsigned long inj_points(void);
unsigned long inj_points_ours(void);
/* Whether the run reached its fail_at-th point (and so failed it). */
bool inj_fired(void);
/* Whether that was one of libanydtls's own allocations. */
bool inj_fired_ours(void);
/* Where the failed allocation was asked for, for diagnostics. */
const char *inj_fired_where(void);
/* Blocks allocated and not yet freed, over the whole process. */
long inj_live(void);

/* Debugging aid: record the stack of every block allocated while counting
 * from now on, and print those not freed since. */
void inj_trace_start(void);
void inj_trace_dump(void);

/* The core, for backend allocator hooks: counted, possibly failed. */
void *inj_alloc(size_t n, enum inj_origin origin, const char *file, int line);
void *inj_realloc(void *p, size_t n, enum inj_origin origin, const char *file, int line);
void inj_free(void *p);
/* Counted as live but never failed: for GMP, which aborts the process when
 * an allocation fails (GnuTLS reaches it through nettle). */
void *inj_alloc_nofail(size_t n);
void *inj_realloc_nofail(void *p, size_t n);

/* Set the address range of libanydtls's code (allocations called from it
 * are "ours"); from any function of the library. */
void inj_set_ours(const void *any_function_of_the_library);
/* Allocations called directly from this library's code are counted as live
 * but never failed, nor counted as points: for a dependency of the TLS
 * library that crashes when malloc fails.  Returns false when the library
 * was not found. */
bool inj_exempt(const void *any_function_of_the_library);
/* The same for this library's calls to realloc only. */
bool inj_exempt_realloc(const void *any_function_of_the_library);
/* The same for one function's own calls: from its start, over its size in
 * the dynamic symbol table. */
bool inj_exempt_function(const void *function);
/* Nothing fails, nor counts as a point, from inj_hold to inj_release (they
 * nest): around a TLS library call that leaks when an allocation inside it
 * fails. */
void inj_hold(void);
void inj_release(void);

/* ---- provided by tests/alloc-NAME.c, one per backend ---- */

/* The backend's allocator hook and how it was installed: a sentence for
 * the TAP line, and whether installing it succeeded. */
const char *backend_hook_name(void);
bool backend_hook_installed(void);
/* The library's one-time global initialisation, done once before any
 * injection: it is not what is under test. */
void backend_global_init(void);
/* Its global teardown at the end, so that valgrind and LeakSanitizer see
 * nothing left. */
void backend_global_done(void);
/* State the library keeps per thread between calls (OpenSSL's error queue)
 * and that the caller owns until it clears it; cleared before each leak
 * count. */
void backend_settle(void);
/* Why the library cannot survive a failed allocation in operations that
 * run a handshake (NULL: it can), for the TAP skip. */
const char *backend_handshake_unsafe(void);

#endif
