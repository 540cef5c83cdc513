#!/bin/sh
# TAP: every built flavour's client against every flavour's server, with
# certificates and with PSK, over loopback UDP through tests/cut-relay,
# which sends the first half of every datagram, both ways, ahead of the
# datagram itself: the handshake completes, a message is echoed, both
# sides close cleanly.  A wolfSSL side used to drop the rest of a datagram
# after the record it had already read from the cut copy, and a wolfSSL
# pair retransmitted until its budget ran out (doc/architecture.md, 9.3).
set -u
. "${srcdir:-.}/tests/flavour.sh"
pki=${ANYDTLS_PKI:-tests/pki}
msg="anydtls cut relay $$"
tmp=$(mktemp -d)
relay_pid= server_pid=
trap 'kill $relay_pid $server_pid 2>/dev/null; rm -rf "$tmp"' EXIT
set -- $BACKENDS
echo "1..$(( $# * $# * 2 ))"
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

for mode in cert psk; do
    for c in $BACKENDS; do
        for s in $BACKENDS; do
            n=$((n + 1))
            what="[$(flavour "$c") -> $(flavour "$s")] $mode, a truncated copy ahead of every datagram"
            : >"$tmp/server.err"
            : >"$tmp/relay.out"
            ./tools/anydtls-"$s" server --echo --once --bind 127.0.0.1 $(creds "$mode" server) 0 \
                >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
            server_pid=$!
            if ! port=$(wait_for "$tmp/server.err" 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p'); then
                echo "not ok $n - $what: server did not start"
                kill "$server_pid" 2>/dev/null
                continue
            fi
            ./tests/cut-relay "$port" >"$tmp/relay.out" &
            relay_pid=$!
            if ! rport=$(wait_for "$tmp/relay.out" 's/^relay \([0-9][0-9]*\)$/\1/p'); then
                echo "not ok $n - $what: relay did not start"
                kill "$server_pid" "$relay_pid" 2>/dev/null
                continue
            fi
            printf '%s' "$msg" | timeout 20 ./tools/anydtls-"$c" client --linger 300 \
                $(creds "$mode" client) 127.0.0.1 "$rport" >"$tmp/client.out" 2>"$tmp/client.err"
            crc=$?
            timeout 10 tail --pid="$server_pid" -f /dev/null
            kill "$server_pid" 2>/dev/null # still running: it failed
            wait "$server_pid"
            src=$?
            kill "$relay_pid" 2>/dev/null
            wait "$relay_pid"
            got=$(cat "$tmp/client.out")
            if [ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$got" = "$msg" ]; then
                echo "ok $n - $what: handshake, echo, clean close"
            else
                echo "not ok $n - $what: client exit $crc, server exit $src, echoed '$got'"
                sed 's/^/# client: /' "$tmp/client.err"
                sed 's/^/# server: /' "$tmp/server.err"
            fi
        done
    done
done
