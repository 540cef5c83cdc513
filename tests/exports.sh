#!/bin/sh
# TAP: each built library exports exactly the functions its public header
# declares with ANYDTLS_API, plus the test hooks, which are all named
# anydtls_test_* (common/internal.h).  Anything else exported would be an
# internal helper that applications could come to depend on.
set -u
. "${srcdir:-.}/tests/flavour.sh"
header="${srcdir:-.}/include/anydtls/anydtls.h"
# The names the header declares: the identifier before the first '(' of
# every declaration that starts with ANYDTLS_API.
declared=$(tr '\n' ' ' <"$header" | tr ';' '\n' |
    sed -n 's/.*ANYDTLS_API \([^(]*\)(.*/\1/p' | sed 's/.*[^_[:alnum:]]\([_[:alnum:]]*\)[[:space:]]*$/\1/' |
    sort -u)
libs=""
for f in .libs/libanydtls-*.so; do
    [ -e "$f" ] && libs="$libs $f"
done
set -- $libs
echo "1..$(($# * 2 + 1))"
n=1
count=$(echo "$declared" | grep -c .)
if [ "$count" -gt 40 ]; then
    echo "ok 1 - the public header declares $count functions"
else
    echo "not ok 1 - only $count functions found in $header: the parser is broken"
fi
for f in "$@"; do
    want=$(basename "$f" .so)
    want=${want##*-}
    exported=$(nm -D --defined-only "$f" | awk '$2 == "T" || $2 == "W" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' |
        grep -v '^_' | sort -u)
    extra=$(echo "$exported" | grep -vx -F "$declared" | grep -v '^anydtls_test_' | grep . | tr '\n' ' ')
    missing=$(echo "$declared" | grep -vx -F "$exported" | grep . | tr '\n' ' ')
    n=$((n + 1))
    if [ -z "$extra" ]; then
        echo "ok $n - [$(flavour "$want")] $f exports only the header's functions and anydtls_test_* hooks"
    else
        echo "not ok $n - [$(flavour "$want")] $f also exports: $extra"
    fi
    n=$((n + 1))
    if [ -z "$missing" ]; then
        echo "ok $n - [$(flavour "$want")] $f exports every function the header declares"
    else
        echo "not ok $n - [$(flavour "$want")] $f lacks: $missing"
    fi
done
