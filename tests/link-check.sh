#!/bin/sh
# TAP: every built library and program links exactly the one TLS library
# of its flavour.  libwolfssl exports functions under OpenSSL's names; in
# one process with libssl, one library's calls land in the other.
set -u
export LD_LIBRARY_PATH="$PWD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
objs=""
for f in .libs/libanydtls-*.so.*.*.* tools/.libs/anydtls tools/.libs/anydtls-* tests/.libs/test_*; do
    [ -f "$f" ] && [ ! -L "$f" ] && objs="$objs $f"
done
set -- $objs
echo "1..$#"
n=0
for f in "$@"; do
    n=$((n + 1))
    # The flavour from the name: libanydtls-NAME.so, anydtls-NAME, test_x-NAME.
    base=$(basename "$f")
    want=${base#lt-}
    want=${want%%.so*}
    want=${want##*-}
    [ "$want" = anydtls ] && want=${DEFAULT_BACKEND:-openssl} # the default flavour
    tls=""
    for lib in $(ldd "$f" 2>/dev/null | awk '{print $1}'); do
        case "$lib" in
        libssl.so* | libcrypto.so*) tls="$tls openssl" ;;
        libgnutls.so*) tls="$tls gnutls" ;;
        libwolfssl.so*) tls="$tls wolfssl" ;;
        esac
    done
    kinds=$(echo $tls | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//')
    if [ "$kinds" = "$want" ]; then
        echo "ok $n - [$want] $f links $kinds only"
    else
        echo "not ok $n - [$want] $f links: '${kinds}'"
    fi
done
