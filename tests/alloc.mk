# Allocation-failure injection (tests/test_alloc.c): one program per
# backend.  Each links the malloc interposer and injection core
# (tests/alloc-inject.c) and its backend's allocator hook
# (tests/alloc-NAME.c), so it needs the TLS library's own headers and
# library besides libanydtls; the GnuTLS one also GMP, whose allocators it
# sets.  Under valgrind, tests/valgrind.sh lets the interposer stay in
# place (somalloc=nouserintercepts).
ALLOC_COMMON = tests/test_alloc.c tests/alloc-inject.c tests/alloc-inject.h $(TEST_COMMON)

if HAVE_OPENSSL
check_PROGRAMS += tests/test_alloc-openssl
TESTS += tests/test_alloc-openssl
tests_test_alloc_openssl_SOURCES = $(ALLOC_COMMON) tests/alloc-openssl.c
tests_test_alloc_openssl_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_test_alloc_openssl_LDADD = libanydtls-openssl.la $(OPENSSL_LIBS) -ldl
endif

if HAVE_GNUTLS
check_PROGRAMS += tests/test_alloc-gnutls
TESTS += tests/test_alloc-gnutls
tests_test_alloc_gnutls_SOURCES = $(ALLOC_COMMON) tests/alloc-gnutls.c
tests_test_alloc_gnutls_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tests_test_alloc_gnutls_LDADD = libanydtls-gnutls.la $(GNUTLS_LIBS) -lgmp -ldl
endif

if HAVE_WOLFSSL
check_PROGRAMS += tests/test_alloc-wolfssl
TESTS += tests/test_alloc-wolfssl
tests_test_alloc_wolfssl_SOURCES = $(ALLOC_COMMON) tests/alloc-wolfssl.c
tests_test_alloc_wolfssl_CFLAGS = $(AM_CFLAGS) $(WOLFSSL_CFLAGS)
tests_test_alloc_wolfssl_LDADD = libanydtls-wolfssl.la $(WOLFSSL_LIBS) -ldl
endif
