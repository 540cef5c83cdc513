# The cipher suite policy (tests/test_suites.c): what every server accepts
# and every client offers, per credential; built and run once per backend.
if HAVE_OPENSSL
check_PROGRAMS += tests/test_suites-openssl
TESTS += tests/test_suites-openssl
tests_test_suites_openssl_SOURCES = tests/test_suites.c $(TEST_COMMON)
tests_test_suites_openssl_LDADD = libanydtls-openssl.la
endif

if HAVE_GNUTLS
check_PROGRAMS += tests/test_suites-gnutls
TESTS += tests/test_suites-gnutls
tests_test_suites_gnutls_SOURCES = tests/test_suites.c $(TEST_COMMON)
tests_test_suites_gnutls_LDADD = libanydtls-gnutls.la
endif

if HAVE_WOLFSSL
check_PROGRAMS += tests/test_suites-wolfssl
TESTS += tests/test_suites-wolfssl
tests_test_suites_wolfssl_SOURCES = tests/test_suites.c $(TEST_COMMON)
tests_test_suites_wolfssl_LDADD = libanydtls-wolfssl.la
endif
