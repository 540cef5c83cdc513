# libFuzzer harnesses (fuzz/README.md).  They are EXTRA_PROGRAMS: the
# normal build never compiles them.  `make fuzz` configures and builds them
# with clang in fuzz-build/ (the libraries with -fsanitize=fuzzer-no-link,
# address and undefined; each harness linked with -fsanitize=fuzzer against
# one backend's library); `make fuzz-smoke` then runs every harness for
# FUZZ_SECONDS (default 60) from seeds captured by fuzz/mkcorpus.c.  Any
# crash, leak or undefined behaviour fails it.
#   make fuzz-smoke FUZZ_SECONDS=30 FUZZ_BACKENDS=gnutls FUZZ_TARGETS='server client'

FUZZ_COMMON = fuzz/fuzz.c fuzz/fuzz.h
FUZZ_LINK = -fsanitize=fuzzer
FUZZ_HARNESSES = cookie server client established
FUZZ_PROGS =

if HAVE_OPENSSL
FUZZ_PROGS += fuzz/fuzz_cookie-openssl fuzz/fuzz_server-openssl fuzz/fuzz_client-openssl \
	fuzz/fuzz_established-openssl fuzz/mkcorpus-openssl
fuzz_fuzz_cookie_openssl_SOURCES = fuzz/fuzz_cookie.c $(FUZZ_COMMON)
fuzz_fuzz_cookie_openssl_LDADD = libanydtls-openssl.la
fuzz_fuzz_cookie_openssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_server_openssl_SOURCES = fuzz/fuzz_server.c $(FUZZ_COMMON)
fuzz_fuzz_server_openssl_LDADD = libanydtls-openssl.la
fuzz_fuzz_server_openssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_client_openssl_SOURCES = fuzz/fuzz_client.c $(FUZZ_COMMON)
fuzz_fuzz_client_openssl_LDADD = libanydtls-openssl.la
fuzz_fuzz_client_openssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_established_openssl_SOURCES = fuzz/fuzz_established.c $(FUZZ_COMMON)
fuzz_fuzz_established_openssl_LDADD = libanydtls-openssl.la
fuzz_fuzz_established_openssl_LDFLAGS = $(FUZZ_LINK)
fuzz_mkcorpus_openssl_SOURCES = fuzz/mkcorpus.c $(FUZZ_COMMON)
fuzz_mkcorpus_openssl_LDADD = libanydtls-openssl.la
endif

if HAVE_GNUTLS
FUZZ_PROGS += fuzz/fuzz_cookie-gnutls fuzz/fuzz_server-gnutls fuzz/fuzz_client-gnutls \
	fuzz/fuzz_established-gnutls fuzz/mkcorpus-gnutls
fuzz_fuzz_cookie_gnutls_SOURCES = fuzz/fuzz_cookie.c $(FUZZ_COMMON)
fuzz_fuzz_cookie_gnutls_LDADD = libanydtls-gnutls.la
fuzz_fuzz_cookie_gnutls_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_server_gnutls_SOURCES = fuzz/fuzz_server.c $(FUZZ_COMMON)
fuzz_fuzz_server_gnutls_LDADD = libanydtls-gnutls.la
fuzz_fuzz_server_gnutls_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_client_gnutls_SOURCES = fuzz/fuzz_client.c $(FUZZ_COMMON)
fuzz_fuzz_client_gnutls_LDADD = libanydtls-gnutls.la
fuzz_fuzz_client_gnutls_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_established_gnutls_SOURCES = fuzz/fuzz_established.c $(FUZZ_COMMON)
fuzz_fuzz_established_gnutls_LDADD = libanydtls-gnutls.la
fuzz_fuzz_established_gnutls_LDFLAGS = $(FUZZ_LINK)
fuzz_mkcorpus_gnutls_SOURCES = fuzz/mkcorpus.c $(FUZZ_COMMON)
fuzz_mkcorpus_gnutls_LDADD = libanydtls-gnutls.la
endif

if HAVE_WOLFSSL
FUZZ_PROGS += fuzz/fuzz_cookie-wolfssl fuzz/fuzz_server-wolfssl fuzz/fuzz_client-wolfssl \
	fuzz/fuzz_established-wolfssl fuzz/mkcorpus-wolfssl
fuzz_fuzz_cookie_wolfssl_SOURCES = fuzz/fuzz_cookie.c $(FUZZ_COMMON)
fuzz_fuzz_cookie_wolfssl_LDADD = libanydtls-wolfssl.la
fuzz_fuzz_cookie_wolfssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_server_wolfssl_SOURCES = fuzz/fuzz_server.c $(FUZZ_COMMON)
fuzz_fuzz_server_wolfssl_LDADD = libanydtls-wolfssl.la
fuzz_fuzz_server_wolfssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_client_wolfssl_SOURCES = fuzz/fuzz_client.c $(FUZZ_COMMON)
fuzz_fuzz_client_wolfssl_LDADD = libanydtls-wolfssl.la
fuzz_fuzz_client_wolfssl_LDFLAGS = $(FUZZ_LINK)
fuzz_fuzz_established_wolfssl_SOURCES = fuzz/fuzz_established.c $(FUZZ_COMMON)
fuzz_fuzz_established_wolfssl_LDADD = libanydtls-wolfssl.la
fuzz_fuzz_established_wolfssl_LDFLAGS = $(FUZZ_LINK)
fuzz_mkcorpus_wolfssl_SOURCES = fuzz/mkcorpus.c $(FUZZ_COMMON)
fuzz_mkcorpus_wolfssl_LDADD = libanydtls-wolfssl.la
endif

EXTRA_PROGRAMS += $(FUZZ_PROGS)
dist_noinst_DATA = fuzz/README.md fuzz/reproducers/established-truncated-record.hex \
	fuzz/reproducers/established-bad-record-header.hex fuzz/reproducers/cookie-trailing-record.hex

# ---- in the top build: the clang sub-build ----
FUZZ_BUILD = fuzz-build
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
FUZZ_SANITIZERS = -fsanitize=address,undefined
FUZZ_APT = clang libclang-rt-14-dev llvm

fuzz:
	@echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d[0] + (int)n; }' | \
	  $(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null || { \
	  echo "make fuzz: $(FUZZ_CC) cannot link libFuzzer programs; on Debian 12:" \
	    "apt-get install $(FUZZ_APT)" >&2; exit 1; }
	@test -f $(FUZZ_BUILD)/Makefile || { rm -rf $(FUZZ_BUILD) && mkdir $(FUZZ_BUILD) && \
	  cd $(FUZZ_BUILD) && $(abs_top_srcdir)/configure --enable-werror --disable-shared \
	    --enable-static CC='$(FUZZ_CC)' CFLAGS='$(FUZZ_CFLAGS)' \
	    LDFLAGS='$(FUZZ_SANITIZERS)' >configure.out || { cat configure.out; exit 1; }; }
	cd $(FUZZ_BUILD) && $(MAKE) $(AM_MAKEFLAGS) fuzz-programs

fuzz-smoke: fuzz
	cd $(FUZZ_BUILD) && $(MAKE) $(AM_MAKEFLAGS) fuzz-run

clean-local: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_BUILD)

# ---- in fuzz-build/ ----
fuzz-programs: $(FUZZ_PROGS) fuzz-pki

# The test PKI beside the harnesses, made again before its certificates
# (30 days) run out.
fuzz-pki:
	@test -n "`find fuzz/pki/stamp -mtime -20 2>/dev/null`" || { rm -rf fuzz/pki && \
	  OPENSSL=$(OPENSSL_BIN) $(SHELL) $(srcdir)/tests/mkpki.sh fuzz/pki; }

FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Every reproducer (fuzz/reproducers/HARNESS-NAME.hex: hex bytes, # comments)
# once through HARNESS on every backend.
fuzz-regress: fuzz-programs
	@mkdir -p fuzz/reproducers; fail=0; \
	for f in $(srcdir)/fuzz/reproducers/*.hex; do \
	  test -f "$$f" || continue; n=`basename $$f .hex`; h=`echo $$n | sed 's/-.*//'`; \
	  sed '/^#/d' $$f | tr -s ' \n' '\n\n' | while read x; do \
	    test -z "$$x" || printf "\\`printf %03o 0x$$x`"; done >fuzz/reproducers/$$n; \
	  for b in $(BACKENDS); do \
	    log=fuzz/reproducers/$$n-$$b.log; \
	    if $(FUZZ_ENV) ./fuzz/fuzz_$$h-$$b fuzz/reproducers/$$n >$$log 2>&1; then \
	      echo "reproducer $$n on $$b: ok"; \
	    else \
	      echo "reproducer $$n on $$b: FAILED (fuzz-build/$$log)"; \
	      grep -a '^fuzz: \|ERROR\|SUMMARY' $$log; fail=1; \
	    fi; \
	  done; \
	done; exit $$fail

# The reproducers, then each harness in turn from fresh seeds; fuzz/corpus/
# keeps what they found for the next run.
fuzz-run: fuzz-programs
	rm -rf fuzz/seeds fuzz/logs && mkdir -p fuzz/logs fuzz/artifacts
	for b in $(BACKENDS); do ./fuzz/mkcorpus-$$b fuzz/seeds || exit 1; done
	@fail=0; $(MAKE) $(AM_MAKEFLAGS) fuzz-regress || fail=1; \
	secs='$(FUZZ_SECONDS)'; secs=$${secs:-60}; backends='$(FUZZ_BACKENDS)'; \
	targets='$(FUZZ_TARGETS)'; \
	for b in $${backends:-$(BACKENDS)}; do for h in $${targets:-$(FUZZ_HARNESSES)}; do \
	  log=fuzz/logs/$$h-$$b.log; mkdir -p fuzz/corpus/$$h-$$b; \
	  if $(FUZZ_ENV) ./fuzz/fuzz_$$h-$$b -max_total_time=$$secs -timeout=30 \
	       -print_final_stats=1 -artifact_prefix=fuzz/artifacts/$$h-$$b- \
	       fuzz/corpus/$$h-$$b fuzz/seeds/$$h >$$log 2>&1; then \
	    printf '%-22s %s, %s exec/s\n' "$$h-$$b:" \
	      "`grep -a 'DONE' $$log | sed 's/^#[0-9]* *DONE *//; s/ lim:.*//'`" \
	      "`sed -n 's/^stat::average_exec_per_sec: *//p' $$log`"; \
	  else \
	    echo "$$h-$$b: FAILED (fuzz-build/$$log; input in fuzz-build/fuzz/artifacts/)"; \
	    grep -a -A40 '^fuzz: \|ERROR:' $$log | head -n 60; fail=1; \
	  fi; \
	done; done; exit $$fail

.PHONY: fuzz fuzz-smoke clean-fuzz fuzz-programs fuzz-pki fuzz-regress fuzz-run
