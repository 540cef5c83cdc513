#!/bin/sh
# TAP: renegotiation against the real openssl program, every flavour, both
# roles (doc/architecture.md, "Renegotiation"): our server answers a
# renegotiating `openssl s_client` ("R") and our client a HelloRequest of
# `openssl s_server` ("r") with a no_renegotiation warning alert, after the
# first message went through; the ServerHello of the initial handshake
# signals RFC 5746 (s_client: "Secure Renegotiation IS supported").
# OpenSSL itself ends its session when its renegotiation is refused (a
# fatal handshake_failure), so the openssl programs cannot show data after
# it, nor a clean close; gnutls-cli --rehandshake retries its handshake
# forever and sends no data.  That the session is KEPT is shown by
# tests/reneg-peer, a peer on GnuTLS itself, which goes on: two
# renegotiating ClientHellos to every server flavour, two HelloRequests to
# every client flavour, each refused with the warning, then a line each
# way, then close_notify, and our program exits 0.
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
echo "1..$(($# * 5))"
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
    openssl_missing=yes
else
    openssl_missing=no
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

# Our server --echo, tests/reneg-peer as client: two renegotiating
# ClientHellos refused, then "after" echoed, then a clean close (exit 0).
server_keeps() { # flavour
    rm -f "$tmp"/*; port=$((port + 1))
    ./tools/anydtls-"$1" server --once --echo --verbose --cert "$pki/server.pem" \
        --key "$pki/server.key" "$port" >"$tmp/server.out" 2>"$tmp/server.err" &
    spid=$!; pids="$pids $spid"
    wait_for "$tmp/server.err" listening
    timeout 12 ./tests/reneg-peer client "$port" "$pki/ca.pem" 2 2>"$tmp/peer.err"
    prc=$?
    srv=running
    for _ in $(seq 30); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    if ! kill -0 "$spid" 2>/dev/null; then wait "$spid"; srv=$?; else kill "$spid"; fi
    what="[$(flavour "$1")] server: two renegotiating ClientHellos of a GnuTLS peer refused with no_renegotiation, the session kept (data both ways after, clean close, exit $srv)"
    if [ $prc = 0 ] && [ "$srv" = 0 ] && [ "$(grep -c 'refused with no_renegotiation' "$tmp/peer.err")" = 2 ] &&
        grep -q 'received after' "$tmp/peer.err" && grep -q '^after' "$tmp/server.out"; then
        pass "$what"
    else
        fail "$what"
    fi
}

# Our client, tests/reneg-peer as server: n HelloRequests refused, then
# "after" each way, then a clean close (exit 0).
client_keeps() { # flavour n
    rm -f "$tmp"/*; port=$((port + 1))
    timeout 12 ./tests/reneg-peer server "$port" "$pki/server.pem" "$pki/server.key" "$2" \
        2>"$tmp/peer.err" &
    ppid_=$!; pids="$pids $ppid_"
    wait_for "$tmp/peer.err" listening
    (sleep 0.5; printf 'before\n'; sleep 3; printf 'after\n') | timeout 12 ./tools/anydtls-"$1" client \
        --linger 2000 --ca "$pki/ca.pem" --name localhost 127.0.0.1 "$port" \
        >"$tmp/client.out" 2>"$tmp/client.err"
    crc=$?
    wait "$ppid_"; prc=$?
    what="[$(flavour "$1")] client: $2 HelloRequest(s) of a GnuTLS peer refused with no_renegotiation, the session kept (data both ways after, exit $crc)"
    # Known, not guarded yet (doc/architecture.md 9.5): the second
    # HelloRequest (message_seq 0 again, RFC 6347 4.2.2) is taken as a
    # stale retransmission, OpenSSL 3.0 then stays "in handshake" and
    # the session stalls, wolfSSL 5.5.4 never answers it.
    case "$1:$2" in openssl:2 | wolfssl:2) what="$what # TODO second HelloRequest not guarded in the $1 driver" ;; esac
    if [ $prc = 0 ] && [ $crc = 0 ] && [ "$(grep -c 'refused with no_renegotiation' "$tmp/peer.err")" = "$2" ] &&
        grep -q 'received after' "$tmp/peer.err" && grep -q '^after' "$tmp/client.out"; then
        pass "$what"
    else
        fail "$what"
    fi
}

# Flavours whose server drops a renegotiating ClientHello unanswered
# instead of refusing it (configure sets RENEG_DROPPED: a wolfSSL without
# ATOMIC_USER gives the driver no keys to seal the warning with); their
# two server checks skip, saying so.  Every other flavour runs them.
dropped() { case " ${RENEG_DROPPED:-} " in *" $1 "*) return 0 ;; esac; return 1; }
dropped_why="configure: this flavour's wolfSSL has no ATOMIC_USER, its server drops a renegotiating ClientHello unanswered (doc/architecture.md 9.5)"

for f in $BACKENDS; do
    if [ $openssl_missing = no ]; then
        if dropped "$f"; then
            skip "$dropped_why" "[$(flavour "$f")] server refuses renegotiation"
        else
            server_refuses "$f"
        fi
        client_refuses "$f"
    fi
    if [ -x ./tests/reneg-peer ] && dropped "$f"; then
        skip "$dropped_why" "[$(flavour "$f")] server: two renegotiating ClientHellos refused, the session kept"
        client_keeps "$f" 1
        client_keeps "$f" 2
    elif [ -x ./tests/reneg-peer ]; then
        server_keeps "$f"
        client_keeps "$f" 1
        client_keeps "$f" 2
    else
        for what in "server: two renegotiating ClientHellos" "client: one HelloRequest" "client: two HelloRequests"; do
            skip "tests/reneg-peer not built (needs GnuTLS)" "[$(flavour "$f")] $what refused, the session kept"
        done
    fi
done
