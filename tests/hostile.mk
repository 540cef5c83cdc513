# Hostile input (tests/test_hostile.c): crafted records and handshake
# fragments to a client and a server, before, during and after the
# handshake; built and run once per backend.
if HAVE_OPENSSL
check_PROGRAMS += tests/test_hostile-openssl
TESTS += tests/test_hostile-openssl
tests_test_hostile_openssl_SOURCES = tests/test_hostile.c $(TEST_COMMON)
tests_test_hostile_openssl_LDADD = libanydtls-openssl.la
endif

if HAVE_GNUTLS
check_PROGRAMS += tests/test_hostile-gnutls
TESTS += tests/test_hostile-gnutls
tests_test_hostile_gnutls_SOURCES = tests/test_hostile.c $(TEST_COMMON)
tests_test_hostile_gnutls_LDADD = libanydtls-gnutls.la
endif

if HAVE_WOLFSSL
check_PROGRAMS += tests/test_hostile-wolfssl
TESTS += tests/test_hostile-wolfssl
tests_test_hostile_wolfssl_SOURCES = tests/test_hostile.c $(TEST_COMMON)
tests_test_hostile_wolfssl_LDADD = libanydtls-wolfssl.la
endif
