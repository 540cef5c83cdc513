#!/bin/sh
# TAP: renegotiation against the real openssl program, every flavour, both
# roles (doc/architecture.md, "Renegotiation"): our server answers a
# renegotiating `openssl s_client` ("R") and our client a HelloRequest of
# `openssl s_server` ("r") with a no_renegotiation warning alert, after the
# first message went through; the ServerHello of the initial handshake
# signals RFC 5746 (s_client: "Secure Renegotiation IS supported").
# OpenSSL itself ends its session when its renegotiation is refused (a
# fatal handshake_failure), so the foreign peer cannot show data after it.
set -u
. "${srcdir:-.}/tests/flavour.sh"
pki=${ANYDTLS_PKI:-tests/pki}
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
set -- $BACKENDS
echo "1..$(($# * 2))"
n=0
port=$((30000 + $$ % 10000))
pass() { n=$((n + 1)); echo "ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $2 # SKIP $1"; }
fail() {
    n=$((n + 1))
    echo "not ok $n - $*"
    for log in "$tmp"/*; do [ -s "$log" ] && tail -n 15 "$log" | sed "s|^|# $(basename "$log"): |"; done
}
# The -msg trace of an openssl program: did it receive warning no_renegotiation?
got_no_reneg() { awk '/^<<< .*content_type=21\)|^<<< .*Alert/ {a=1; next} a && /^ *01 64/ {f=1} {a=0} END {exit !f}' "$1"; }
wait_for() { for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
if ! command -v openssl >/dev/null; then
    for f in $BACKENDS; do
        skip "openssl program not installed" "[$(flavour "$f")] server refuses renegotiation"
        skip "openssl program not installed" "[$(flavour "$f")] client refuses renegotiation"
    done
    exit 0
fi

server_refuses() { # flavour
    rm -f "$tmp"/*; port=$((port + 1))
    ./tools/anydtls-"$1" server --once --echo --verbose --cert "$pki/server.pem" \
        --key "$pki/server.key" "$port" >"$tmp/server.out" 2>"$tmp/server.err" &
    spid=$!; pids="$pids $spid"
    wait_for "$tmp/server.err" listening
    (printf 'before\n'; sleep 1; printf 'R\n'; sleep 2) | timeout 10 openssl s_client -dtls1_2 \
        -connect "127.0.0.1:$port" -CAfile "$pki/ca.pem" -msg >"$tmp/client.out" 2>"$tmp/client.err"
    sleep 0.3; alive=no; kill -0 "$spid" 2>/dev/null && alive=yes
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    what="[$(flavour "$1")] server: echoes, signals RFC 5746, answers a renegotiating s_client with no_renegotiation"
    # Our session ends only by the peer's own fatal alert, if at all.
    if grep -q '^before' "$tmp/client.out" && grep -q 'Secure Renegotiation IS supported' "$tmp/client.out" &&
        got_no_reneg "$tmp/client.out" &&
        { [ $alive = yes ] || grep -q 'peer sent a fatal alert' "$tmp/server.err"; }; then
        pass "$what"
    else
        fail "$what"
    fi
}

client_refuses() { # flavour
    rm -f "$tmp"/*; port=$((port + 1))
    (sleep 1; printf 'before\n'; sleep 0.5; printf 'r\n'; sleep 2) |
        timeout 10 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$pki/server.pem" \
            -key "$pki/server.key" -naccept 1 -msg >"$tmp/server.out" 2>"$tmp/server.err" &
    spid=$!; pids="$pids $spid"
    wait_for "$tmp/server.out" ACCEPT
    sleep 4 | timeout 10 ./tools/anydtls-"$1" client --linger 3000 --ca "$pki/ca.pem" \
        --name localhost 127.0.0.1 "$port" >"$tmp/client.out" 2>"$tmp/client.err"
    wait "$spid" 2>/dev/null
    # (s_server prints "Secure Renegotiation" only when its handshake ended
    # before stdin had data: the ClientHello is checked in test_conformance.)
    what="[$(flavour "$1")] client: receives, answers s_server's HelloRequest with no_renegotiation"
    if grep -q '^before' "$tmp/client.out" && got_no_reneg "$tmp/server.out"; then
        pass "$what"
    else
        fail "$what"
    fi
}

for f in $BACKENDS; do
    server_refuses "$f"
    client_refuses "$f"
done
