#!/bin/sh
# TAP: the error-conformance tables that test_conformance wrote for each
# built backend are identical, line for line.
set -u
. "${srcdir:-.}/tests/flavour.sh"
n=0
first=""
count=$(echo $BACKENDS | wc -w)
echo "1..$count"
for b in $BACKENDS; do
    n=$((n + 1))
    f=conformance-$b.txt
    if [ ! -s "$f" ]; then
        echo "not ok $n - [$(flavour "$b")] $f missing (did test_conformance-$b run?)"
        continue
    fi
    if [ -z "$first" ]; then
        first=$b
        echo "ok $n - [$(flavour "$b")] reference table: $(wc -l <"$f") scenario outcomes"
    elif cmp -s "conformance-$first.txt" "$f"; then
        echo "ok $n - [$(flavour "$b")] conformance table identical to $first's"
    else
        echo "not ok $n - [$(flavour "$b")] conformance table differs from $first's"
        diff "conformance-$first.txt" "$f" | sed 's/^/# /'
    fi
done
