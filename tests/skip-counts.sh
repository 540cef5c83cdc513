#!/bin/sh
# TAP: the skips README.md states are the skips the test programs made.
# README says, for the wolfSSL flavour, "the test programs skip N checks,
# M MTU and K PSK resumption"; this counts the `# SKIP` lines in each
# built flavour's logs of the per-flavour test programs (Makefile.am makes
# this test wait for them) by reason and compares:
#   MTU skips (a libwolfssl without WOLFSSL_DTLS_MTU): 0, or M on wolfSSL;
#   PSK resumption skips: K on wolfSSL, 0 elsewhere;
#   skips under a replaced malloc (valgrind, sanitizers): not counted;
#   any other skip: none (README would not account for it).
set -u
. "${srcdir:-.}/tests/flavour.sh"
readme="${srcdir:-.}/README.md"
programs="test_args test_cookie test_handshake test_udp test_conformance test_loss test_resume test_threads test_suites"

claim=$(sed -n 's/.*the test programs skip \([0-9]*\) checks, \([0-9]*\) MTU and \([0-9]*\) PSK resumption.*/\1 \2 \3/p' "$readme" | head -n 1)
count=$(echo $BACKENDS | wc -w)
echo "1..$((1 + 3 * count))"
set -- $claim
if [ $# -eq 3 ] && [ "$1" -eq $(($2 + $3)) ]; then
    total=$1 mtu=$2 psk=$3
    echo "ok 1 - README states $total skips: $mtu MTU and $psk PSK resumption"
else
    total=-1 mtu=-1 psk=-1
    echo "not ok 1 - README states no skip count, or one that does not add up (\"$claim\")"
fi

# The SKIP lines of flavour $1's program logs (the raw TAP, not the
# driver's copy), or a line "missing NAME" for a log that is not there.
skips() {
    for p in $programs; do
        f=tests/$p-$1.log
        if [ -f "$f" ]; then
            grep '^ok .* # SKIP' "$f"
        else
            echo "missing $f"
        fi
    done
}

n=1
for b in $BACKENDS; do
    fl=$(flavour "$b")
    lines=$(skips "$b")
    missing=$(printf '%s\n' "$lines" | grep -c '^missing ')
    m=$(printf '%s\n' "$lines" | grep '^ok ' | grep -c 'MTU')
    k=$(printf '%s\n' "$lines" | grep '^ok ' | grep -v 'MTU' | grep -c 'PSK identity')
    other=$(printf '%s\n' "$lines" | grep '^ok ' | grep -v 'MTU' | grep -v 'PSK identity' |
        grep -v 'malloc is replaced')
    n=$((n + 1))
    if [ "$missing" -gt 0 ]; then
        echo "not ok $n - [$fl] $missing program logs missing (did the test programs run?)"
        printf '%s\n' "$lines" | grep '^missing ' | sed 's/^/# /'
    elif [ "$m" -eq 0 ] || { [ "$b" = wolfssl ] && [ "$m" -eq "$mtu" ]; }; then
        echo "ok $n - [$fl] $m MTU skips (README: none, or $mtu on wolfSSL without WOLFSSL_DTLS_MTU)"
    else
        echo "not ok $n - [$fl] $m MTU skips; README states $mtu on wolfSSL, none elsewhere"
    fi
    want=0
    [ "$b" = wolfssl ] && want=$psk
    n=$((n + 1))
    if [ "$missing" -eq 0 ] && [ "$k" -eq "$want" ]; then
        echo "ok $n - [$fl] $k PSK resumption skips, as README states"
    else
        echo "not ok $n - [$fl] $k PSK resumption skips; README states $want"
    fi
    n=$((n + 1))
    if [ -z "$other" ] && [ "$missing" -eq 0 ]; then
        echo "ok $n - [$fl] no skip that README does not account for"
    else
        echo "not ok $n - [$fl] skips that README does not account for:"
        printf '%s\n' "$other" | sed 's/^/# /'
    fi
done
