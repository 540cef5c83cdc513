#!/bin/sh
# TAP: every built flavour's client against every flavour's server, as two
# processes over loopback UDP (IPv4 and IPv6), with certificates and with
# PSK: handshake, a message echoed both ways, clean close on both sides.
set -u
pki=${ANYDTLS_PKI:-tests/pki}
msg="anydtls interop $$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- $BACKENDS
total=$(( $# * $# * 4 ))
echo "1..$total"
n=0

creds() { # mode role
    if [ "$1" = psk ]; then
        echo "--psk-identity interop --psk 00112233445566778899aabbccddeeff"
    elif [ "$2" = server ]; then
        echo "--cert $pki/server.pem --key $pki/server.key"
    else
        echo "--ca $pki/ca.pem --name localhost"
    fi
}

# Start the server, wait for its port (from "listening on ADDR:PORT").
start_server() { # flavour host mode
    : >"$tmp/server.err"
    ./tools/anydtls-"$1" server --once --echo --bind "$2" $(creds "$3" server) 0 \
        >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
    server_pid=$!
    for _ in $(seq 50); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/server.err")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    return 1
}

for host in 127.0.0.1 ::1; do
    for mode in cert psk; do
        for c in $BACKENDS; do
            for s in $BACKENDS; do
                n=$((n + 1))
                what="[$c->$s] $mode $host"
                if ! start_server "$s" "$host" "$mode"; then
                    echo "not ok $n - $what: server did not start"
                    sed 's/^/# /' "$tmp/server.err"
                    kill "$server_pid" 2>/dev/null
                    continue
                fi
                printf '%s' "$msg" | timeout 20 ./tools/anydtls-"$c" client --linger 300 \
                    $(creds "$mode" client) "$host" "$port" >"$tmp/client.out" 2>"$tmp/client.err"
                crc=$?
                timeout 10 tail --pid="$server_pid" -f /dev/null
                kill "$server_pid" 2>/dev/null # still running: it failed
                wait "$server_pid"
                src=$?
                got=$(cat "$tmp/client.out")
                cipher=$(sed -n 's/.*client: DTLSv1.2 \([^,]*\),.*/\1/p' "$tmp/client.err")
                if [ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$got" = "$msg" ] && [ -n "$cipher" ]; then
                    echo "ok $n - $what: handshake, echo, clean close ($cipher)"
                else
                    echo "not ok $n - $what: client exit $crc, server exit $src, echoed '$got'"
                    sed 's/^/# client: /' "$tmp/client.err"
                    sed 's/^/# server: /' "$tmp/server.err"
                fi
            done
        done
    done
done
