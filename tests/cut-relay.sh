#!/bin/sh
# TAP: every built flavour's client against every flavour's server, with
# certificates and with PSK, over loopback UDP through tests/cut-relay,
# which sends the first half of every datagram, both ways, ahead of the
# datagram itself: the handshake completes, a message is echoed, both
# sides close cleanly.  A wolfSSL side used to drop the rest of a datagram
# after the record it had already read from the cut copy, and a wolfSSL
# pair retransmitted until its budget ran out (doc/architecture.md, 9.3).
# Then each client offers a ticket that a restarted server declines.
set -u
. "${srcdir:-.}/tests/flavour.sh"
pki=${ANYDTLS_PKI:-tests/pki}
msg="anydtls cut relay $$"
tmp=$(mktemp -d)
relay_pid= server_pid=
trap 'kill $relay_pid $server_pid 2>/dev/null; rm -rf "$tmp"' EXIT
set -- $BACKENDS
echo "1..$(( $# * $# * 3 ))"
n=0

creds() { # mode role
    if [ "$1" = psk ]; then
        echo "--psk-identity relay --psk 00112233445566778899aabbccddeeff"
    elif [ "$2" = server ]; then
        echo "--cert $pki/server.pem --key $pki/server.key"
    else
        echo "--ca $pki/ca.pem --name localhost"
    fi
}

# wait_for FILE SED-EXPR: the first match in FILE within 5 s.
wait_for() {
    for _ in $(seq 50); do
        v=$(sed -n "$2" "$1")
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.1
    done
    return 1
}

# start_server FLAVOUR ARGS...: a server on an ephemeral port; sets port.
start_server() {
    f=$1; shift
    : >"$tmp/server.err"
    ./tools/anydtls-"$f" server --echo --once --bind 127.0.0.1 "$@" 0 \
        >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
    server_pid=$!
    port=$(wait_for "$tmp/server.err" 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p') && return 0
    kill "$server_pid" 2>/dev/null
    return 1
}

# start_relay: the relay in front of the server; sets rport.
start_relay() {
    : >"$tmp/relay.out"
    ./tests/cut-relay "$port" >"$tmp/relay.out" &
    relay_pid=$!
    rport=$(wait_for "$tmp/relay.out" 's/^relay \([0-9][0-9]*\)$/\1/p') && return 0
    kill "$relay_pid" 2>/dev/null
    return 1
}

# run_client FLAVOUR PORT ARGS...: sets crc, src (the server's exit) and got.
run_client() {
    f=$1 p=$2; shift 2
    printf '%s' "$msg" | timeout 20 ./tools/anydtls-"$f" client --linger 300 "$@" \
        127.0.0.1 "$p" >"$tmp/client.out" 2>"$tmp/client.err"
    crc=$?
    timeout 10 tail --pid="$server_pid" -f /dev/null
    kill "$server_pid" 2>/dev/null # still running: it failed
    wait "$server_pid"
    src=$?
    got=$(cat "$tmp/client.out")
}

stop_relay() {
    kill "$relay_pid" 2>/dev/null
    wait "$relay_pid"
}

report() { # what
    if [ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$got" = "$msg" ]; then
        echo "ok $n - $1: handshake, echo, clean close"
    else
        echo "not ok $n - $1: client exit $crc, server exit $src, echoed '$got'"
        sed 's/^/# client: /' "$tmp/client.err"
        sed 's/^/# server: /' "$tmp/server.err"
    fi
}

for mode in cert psk; do
    for c in $BACKENDS; do
        for s in $BACKENDS; do
            n=$((n + 1))
            what="[$(flavour "$c") -> $(flavour "$s")] $mode, a truncated copy ahead of every datagram"
            start_server "$s" $(creds "$mode" server) || { echo "not ok $n - $what: server did not start"; continue; }
            start_relay || { echo "not ok $n - $what: relay did not start"; kill "$server_pid"; continue; }
            run_client "$c" "$rport" $(creds "$mode" client)
            stop_relay
            report "$what"
        done
    done
done

# A client offers a ticket that a restarted server (a new ticket key)
# declines, through the relay: the ServerHello's datagram arrives cut
# after the ServerHello first.  An OpenSSL server declines with an empty
# session id, so a wolfSSL client could only tell from the messages after
# the ServerHello, and took the cut copy's lone ServerHello as accepting
# its ticket (doc/architecture.md, 9.3, gap 6).
for c in $BACKENDS; do
    for s in $BACKENDS; do
        n=$((n + 1))
        what="[$(flavour "$c") -> $(flavour "$s")] a declined ticket, a truncated copy ahead of every datagram"
        rm -f "$tmp/session"
        start_server "$s" --resumption $(creds cert server) || { echo "not ok $n - $what: server did not start"; continue; }
        run_client "$c" "$port" --session "$tmp/session" $(creds cert client)
        if [ $crc -ne 0 ] || [ ! -s "$tmp/session" ]; then
            echo "not ok $n - $what: no session saved (client exit $crc)"
            sed 's/^/# client: /' "$tmp/client.err"
            continue
        fi
        start_server "$s" --resumption $(creds cert server) || { echo "not ok $n - $what: server did not start"; continue; }
        start_relay || { echo "not ok $n - $what: relay did not start"; kill "$server_pid"; continue; }
        run_client "$c" "$rport" --session "$tmp/session" $(creds cert client)
        stop_relay
        if grep -q ", resumed" "$tmp/client.err"; then
            echo "not ok $n - $what: resumed, with a ticket from the server before"
        else
            report "$what"
        fi
    done
done
