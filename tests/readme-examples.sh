#!/bin/sh
# TAP: the C programs in README.md marked `<!-- example: NAME.c -->` (the
# fenced block that follows the mark) are extracted, compiled with
# -Wall -Wextra -Werror against every built flavour's library, and run:
# the server example and the client example against each other on
# 127.0.0.1 with the test PKI, and the client example against a server
# that never answers (the server example, stopped with SIGSTOP: its socket
# stays bound), where it must end with ANYDTLS_E_TIMEOUT when its
# retransmission budget (about 63 s) is spent.  So the README's examples
# cannot rot.
# They are built with the build's CFLAGS and LDFLAGS (EXAMPLE_FLAGS, from
# Makefile.am), so under check-sanitize they link the sanitizers too.
set -u
. "${srcdir:-.}/tests/flavour.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
pki=${ANYDTLS_PKI:-tests/pki}
case $pki in /*) ;; *) pki=$(pwd)/$pki ;; esac
build=$(pwd)
tmp=$(mktemp -d)
server_pid=
silent_pids=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
      for p in $silent_pids; do kill -CONT "$p"; kill "$p"; done 2>/dev/null; rm -rf "$tmp"' EXIT

# Every marked block into $tmp/src/NAME.
mkdir -p "$tmp/src"
awk -v dir="$tmp/src" '
    /^<!-- example: [A-Za-z0-9_.-]+ -->$/ { name = $3; want = 1; next }
    want && /^```c$/ { out = dir "/" name; printf "" > out; want = 0; next }
    out != "" && /^```$/ { close(out); out = ""; next }
    out != "" { print >> out }
' "$top/README.md"
# And the complete program in anydtls(3)'s EXAMPLE section (roff escapes
# undone; it talks to port 4433, which the run below replaces by its own).
sed -n '/^\.SH EXAMPLE/,/^\.fi/p' "$top/doc/anydtls.3" | sed '1,/^\.nf/d; /^\.fi/d' |
    sed 's/\\-/-/g; s/\\e/\\/g' >"$tmp/src/anydtls.3.c"
examples=$(ls "$tmp/src")

set -- $BACKENDS
echo "1..$(($# * 5 + 1))"
n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() {
    n=$((n + 1))
    echo "not ok $n - $*"
    for log in "$tmp"/*.log; do [ -s "$log" ] && sed "s|^|# $(basename "$log"): |" "$log"; done
}
if [ -s "$tmp/src/client.c" ] && [ -s "$tmp/src/server.c" ] && [ -s "$tmp/src/anydtls.3.c" ]; then
    pass "README.md marks its examples, anydtls(3) has one: $(echo $examples)"
else
    fail "README.md marks a client.c and a server.c example, anydtls(3) has one (found: $(echo $examples))"
fi

port=$((30000 + $$ % 5000))
for f in $BACKENDS; do
    fl=$(flavour "$f")
    ok=yes
    : >"$tmp/cc.log"
    for src in $examples; do
        "$LIBTOOL" --mode=link ${CC:-cc} ${EXAMPLE_FLAGS:-} -Wall -Wextra -Werror -I"$top/include" \
            -o "$tmp/${src%.c}-$f" "$tmp/src/$src" "$build/libanydtls-$f.la" >>"$tmp/cc.log" 2>&1 ||
            ok=no
    done
    if [ $ok = yes ]; then pass "[$fl] the README examples compile with -Wall -Wextra -Werror"
    else fail "[$fl] the README examples compile"; fi
    # Run: the server example, then the client example against it.
    mkdir -p "$tmp/run"
    cp "$pki/ca.pem" "$pki/server.pem" "$pki/server.key" "$tmp/run/"
    : >"$tmp/server.log"
    started=no
    for _ in 1 2 3 4 5; do
        port=$((port + 1))
        (cd "$tmp/run" && exec "$tmp/server-$f" "$port") >"$tmp/server.out" 2>"$tmp/server.log" &
        server_pid=$!
        sleep 0.3
        kill -0 "$server_pid" 2>/dev/null && { started=yes; break; }
        wait "$server_pid" 2>/dev/null
    done
    (cd "$tmp/run" && timeout 30 "$tmp/client-$f" 127.0.0.1 "$port") >"$tmp/client.out" 2>"$tmp/client.log"
    crc=$?
    timeout 20 tail --pid="$server_pid" -f /dev/null || kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    src=$?
    server_pid=
    if [ $started = yes ] && [ $crc -eq 0 ] && grep -q '^DTLSv1.2 ' "$tmp/client.out" &&
        grep -q '^hello$' "$tmp/client.out"; then
        pass "[$fl] the client example gets its hello echoed by the server example: $(head -n 1 "$tmp/client.out")"
    else
        fail "[$fl] the client example against the server example: client status $crc, server started $started"
    fi
    if [ $started = yes ] && [ $src -eq 0 ]; then
        pass "[$fl] the server example ends cleanly when the client closes"
    else
        fail "[$fl] the server example's status: $src"
    fi
    # The client example against a server that never answers: started in
    # the background now, its outcome read after the loop.
    port=$((port + 1))
    (cd "$tmp/run" && exec "$tmp/server-$f" "$port") >/dev/null 2>&1 &
    silent=$!
    silent_pids="$silent_pids $silent"
    sleep 0.3
    kill -STOP "$silent"
    (cd "$tmp/run" && t0=$(date +%s) &&
        timeout 120 "$tmp/client-$f" 127.0.0.1 "$port" >/dev/null 2>"$tmp/silent-$f.err"
        echo "$? $(($(date +%s) - t0))" >"$tmp/silent-$f.rc") &
    # anydtls(3)'s client against the README's server, on this run's port.
    port=$((port + 1))
    sed "s/4433/$port/" "$tmp/src/anydtls.3.c" >"$tmp/man-client.c"
    "$LIBTOOL" --mode=link ${CC:-cc} ${EXAMPLE_FLAGS:-} -Wall -Wextra -Werror -I"$top/include" -o "$tmp/man-client-$f" \
        "$tmp/man-client.c" "$build/libanydtls-$f.la" >"$tmp/cc.log" 2>&1
    (cd "$tmp/run" && exec "$tmp/server-$f" "$port") >"$tmp/server.out" 2>"$tmp/server.log" &
    server_pid=$!
    sleep 0.3
    (cd "$tmp/run" && timeout 30 "$tmp/man-client-$f") >"$tmp/client.out" 2>"$tmp/client.log"
    crc=$?
    timeout 20 tail --pid="$server_pid" -f /dev/null || kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
    if [ $crc -eq 0 ] && grep -q '^hello$' "$tmp/client.out"; then
        pass "[$fl] anydtls(3)'s EXAMPLE compiles and gets its hello echoed by the README server"
    else
        fail "[$fl] anydtls(3)'s EXAMPLE against the README server: client status $crc"
    fi
done

# The client example against the stopped servers: status 1, the library's
# timeout message, after the whole budget (1+2+4+8+16+32 s, about 63 s).
wait_silent() {
    for _ in $(seq 1500); do [ -s "$tmp/silent-$1.rc" ] && return 0; sleep 0.1; done
    return 1
}
for f in $BACKENDS; do
    fl=$(flavour "$f")
    wait_silent "$f"
    read -r rc secs <"$tmp/silent-$f.rc" 2>/dev/null || { rc=none secs=0; }
    msg=$(head -n 1 "$tmp/silent-$f.err" 2>/dev/null)
    case $msg in "client: handshake timed out"*) said=yes ;; *) said=no ;; esac
    if [ "$rc" = 1 ] && [ $said = yes ] && [ "$secs" -ge 50 ]; then
        pass "[$fl] the client example against a server that never answers: ANYDTLS_E_TIMEOUT after ${secs} s (\"$msg\")"
    else
        fail "[$fl] the client example against a silent server: status $rc after ${secs} s, \"$msg\""
    fi
done
