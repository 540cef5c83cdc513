/* A tiny TAP producer.  Every line names the backend under test and the
 * version of its TLS library. */
#ifndef ANYDTLS_TAP_H
#define ANYDTLS_TAP_H

#include <stdarg.h>

void tap_plan(int n);
/* "NAME VERSION": the flavour and the version of the TLS library loaded,
 * as every line names them. */
const char *tap_flavour(void);
/* When set, every result line names it after the flavour (a test program
 * that runs its suite several ways: "UDP: ..."). */
extern const char *tap_context;
/* Report one result; returns cond. */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report got == want, printing both (and anydtls_strerror) when they differ. */
int tap_is(int got, int want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tap_skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit status: 0 when every planned test passed. */
int tap_done(void);

#define ok tap_ok
#define is tap_is

#endif
