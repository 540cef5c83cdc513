#!/bin/sh
# TAP: every built library and program links exactly the one TLS library
# of its flavour.  libwolfssl exports functions under OpenSSL's names; in
# one process with libssl, one library's calls land in the other.
set -u
. "${srcdir:-.}/tests/flavour.sh"
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
    tls="" stray=""
    # The library a flavour was configured with from a prefix must be the
    # one loaded (TLS_LIBDIRS: "openssl=DIR gnutls= ..."), not the system's.
    dir=$(echo " ${TLS_LIBDIRS:-} " | sed -n "s/.* $want=\([^ ]*\) .*/\1/p")
    for lib in $(ldd "$f" 2>/dev/null | awk '$2 == "=>" {print $1 "=" $3}'); do
        case "$lib" in
        libssl.so* | libcrypto.so*) k=openssl ;;
        libgnutls.so*) k=gnutls ;;
        libwolfssl.so*) k=wolfssl ;;
        *) continue ;;
        esac
        tls="$tls $k"
        [ "$k" = "$want" ] && [ -n "$dir" ] && [ "${lib#*=}" != "$dir/${lib%%=*}" ] &&
            stray="$stray ${lib#*=}"
    done
    kinds=$(echo $tls | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//')
    if [ -n "$stray" ]; then
        echo "not ok $n - [$(flavour "$want")] $f loads$stray, not the library in $dir"
    elif [ "$kinds" = "$want" ]; then
        echo "ok $n - [$(flavour "$want")] $f links $kinds only${dir:+, from $dir}"
    else
        echo "not ok $n - [$(flavour "$want")] $f links: '${kinds}'"
    fi
done
