#!/bin/sh
# TAP: test_ct-BACKEND under valgrind memcheck; memcheck's errors (a branch
# or an index that depends on a cookie key or the received cookie) fail it.
set -u
. "${srcdir:-.}/tests/flavour.sh"
set -- $BACKENDS
if [ -n "${ANYDTLS_SANITIZE:-}" ]; then
    echo "1..0 # SKIP sanitizer build: memcheck cannot run it (make check runs this)"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    echo "1..0 # SKIP valgrind not installed (apt-get install valgrind)"
    exit 0
fi
echo "1..$#"
n=0
for b in $BACKENDS; do
    n=$((n + 1))
    out=$("$LIBTOOL" --mode=execute valgrind --quiet --error-exitcode=42 tests/test_ct-"$b" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && ! echo "$out" | grep -q "^not ok"; then
        echo "ok $n - [$(flavour "$b")] cookie verification branches on no secret (valgrind memcheck)"
    else
        echo "not ok $n - [$(flavour "$b")] constant-time check failed (exit $rc)"
        echo "$out" | sed 's/^/# /' | head -60
    fi
done
