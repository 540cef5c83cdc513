/* Benchmarks: anydtls against each TLS library used directly.
 * One program per backend (bench/bench-NAME), linked against that
 * backend's anydtls flavour and, for the native side, the library itself. */
#ifndef ANYDTLS_BENCH_H
#define ANYDTLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_SIZE 1200 /* application payload per datagram */

/* ---- a datagram queue pair for the native programs (bench/dgq.c) ---- */
struct dgq;
struct dgq *dgq_new(void);
void dgq_free(struct dgq *q);
int dgq_push(struct dgq *q, const uint8_t *d, size_t n); /* -1 when full */
int dgq_pop(struct dgq *q, uint8_t *d, size_t cap);      /* -1 when empty */
int dgq_pending(const struct dgq *q);                      /* 1 when not empty */

/* ---- heap accounting (bench/alloc.c): a malloc interposer ---- */
struct heap_count {
    long ours_allocs, backend_allocs; /* allocations since reset, by caller */
    long live_bytes;                  /* allocated minus freed since reset */
};
void heap_reset(void);
void heap_read(struct heap_count *c);
/* Calls whose caller lies in this address range count as ours. */
void heap_set_ours(const void *lo, const void *hi);

/* ---- the native side, one implementation per TLS library ---- */
/* Paths of the test PKI; psk selects PSK instead of certificates. */
struct native;
struct native *native_new(const char *pki, bool psk);
void native_free(struct native *n);
/* One full handshake over memory queues; 0 on success. */
int native_handshake(struct native *n);
/* Establish a session pair and keep it for the data calls. */
int native_establish(struct native *n);
/* Send one record of len bytes in direction dir (0 client->server) and
 * read it on the other side; 0 on success. */
int native_transfer(struct native *n, int dir, const uint8_t *buf, size_t len);
void native_release(struct native *n); /* the session pair */
const char *native_cipher(struct native *n);
/* The backend's own stateless cookie path, where it has one: answer a
 * ClientHello without cookie (hvr) or verify one; < 0 when the backend has
 * none (then "n/a" is printed). */
int native_cookie_setup(struct native *n, const uint8_t *ch1, size_t len1);
int native_cookie_hvr(struct native *n, const uint8_t *ch1, size_t len1);
int native_cookie_verify(struct native *n, const uint8_t *ch2, size_t len2);

#endif
