#!/bin/sh
# TAP: each TLS library's headers are included by its own driver only (and
# by tests/alloc-NAME.c, the allocation-failure test's hook into that
# library's allocator; and GnuTLS's by tests/reneg-peer.c, the foreign
# renegotiating peer of tests/renegotiation.sh, which is not anydtls).
# C sources only (*.c, *.h).  Run from the build directory with $srcdir set by automake (or from the top).
top=${srcdir:-.}
echo "1..3"
n=0
for pair in "openssl:openssl/ wolfssl/openssl/" "gnutls:gnutls/ nettle/" "wolfssl:wolfssl/"; do
    n=$((n + 1))
    backend=${pair%%:*}
    bad=""
    for prefix in ${pair#*:}; do
        hits=$(grep -rlE --include="*.c" --include="*.h" "#[[:space:]]*include[[:space:]]*[<\"]$prefix" \
            "$top/include" "$top/common" "$top/backends" "$top/tools" "$top/tests" 2>/dev/null |
            grep -v -e "/backends/$backend\.c$" -e "/tests/alloc-$backend\.c$" \
                -e "/tests/reneg-peer\.c$")
        bad="$bad $hits"
    done
    bad=$(echo $bad)
    if [ -z "$bad" ]; then
        echo "ok $n - [$backend] only backends/$backend.c (and tests/alloc-$backend.c) include its headers"
    else
        echo "not ok $n - [$backend] headers included outside the driver: $bad"
    fi
done
