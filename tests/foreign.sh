#!/bin/sh
# TAP: every built flavour of the anydtls program against implementations
# we did not write, DTLS 1.2 on 127.0.0.1, certificates and PSK:
#   our client  against openssl s_server and gnutls-serv,
#   our server  against openssl s_client and gnutls-cli;
# each: handshake, a message each way, clean close, the cipher printed.
# Then failures: an untrusted certificate, a wrong PSK, a silent peer, each
# with its documented exit status (the negated ANYDTLS_E_* code), and a
# DTLS 1.0-only openssl s_server, whose plaintext alert in a DTLS 1.0
# record our DTLS 1.2 client must read and fail on at once (status 16),
# not wait out its budget.
set -u
. "${srcdir:-.}/tests/flavour.sh"
pki=${ANYDTLS_PKI:-tests/pki}
psk=00112233445566778899aabbccddeeff
wrong=ffeeddccbbaa99887766554433221100
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

have_openssl=yes; command -v openssl >/dev/null || have_openssl=no
have_gnutls=yes
command -v gnutls-serv >/dev/null && command -v gnutls-cli >/dev/null || have_gnutls=no

set -- $BACKENDS
per_flavour=$((2 * 4 + 6))
echo "1..$(($# * per_flavour))"
n=0
port=$((20000 + $$ % 10000)) # below the ephemeral range

next_port() { port=$((port + 1)); }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() {
    n=$((n + 1))
    echo "not ok $n - $*"
    for log in "$tmp"/*.out "$tmp"/*.err; do
        [ -s "$log" ] && sed "s|^|# $(basename "$log"): |" "$log"
    done
}
skip() { n=$((n + 1)); echo "ok $n - $2 # SKIP $1"; }
cipher_of() { sed -n 's/.*: DTLSv1.2 \([^,]*\), handshake.*/\1/p' "$1" | head -n 1; }
clean() { rm -f "$tmp"/*.out "$tmp"/*.err; }

our_creds() { # mode role
    case "$1/$2" in
    cert/client) echo "--ca $pki/ca.pem --name localhost" ;;
    cert/server) echo "--cert $pki/server.pem --key $pki/server.key" ;;
    psk/*) echo "--psk-identity anydtls --psk $psk" ;;
    esac
}

# Wait until a process has written a pattern to a file, at most 5 s.
wait_for() { # file pattern
    for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# ---- our client against a foreign server ----
client_vs_openssl() { # flavour mode
    clean; next_port
    case $2 in
    cert) opts="-cert $pki/server.pem -key $pki/server.key" ;;
    psk) opts="-nocert -psk $psk -psk_identity anydtls" ;;
    esac
    (sleep 1; printf 'from-openssl'; sleep 3) |
        timeout 10 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" $opts -naccept 1 \
            >"$tmp/server.out" 2>"$tmp/server.err" &
    pids="$pids $!"; spid=$!
    sleep 0.5
    printf 'from-anydtls' | timeout 10 ./tools/anydtls-"$1" client --linger 2500 \
        $(our_creds "$2" client) 127.0.0.1 "$port" >"$tmp/client.out" 2>"$tmp/client.err"
    rc=$?
    wait "$spid" 2>/dev/null
    c=$(cipher_of "$tmp/client.err")
    if [ $rc -eq 0 ] && grep -q from-openssl "$tmp/client.out" &&
        grep -q from-anydtls "$tmp/server.out" && [ -n "$c" ]; then
        pass "[$(flavour "$1")] client vs openssl s_server, $2: both messages, clean close ($c)"
    else
        fail "[$(flavour "$1")] client vs openssl s_server, $2: exit $rc"
    fi
}

gnutls_server() { # mode [key]
    case $1 in
    cert) opts="--x509certfile $pki/server.pem --x509keyfile $pki/server.key" ;;
    psk) printf 'anydtls:%s\n' "${2:-$psk}" >"$tmp/psk.txt"
         opts="--pskpasswd $tmp/psk.txt --priority NORMAL:+PSK:+ECDHE-PSK" ;;
    esac
    timeout 15 gnutls-serv --udp --echo -p "$port" $opts >"$tmp/server.out" 2>"$tmp/server.err" &
    pids="$pids $!"; spid=$!
    wait_for "$tmp/server.out" "listening"
}

client_vs_gnutls() { # flavour mode
    clean; next_port
    gnutls_server "$2"
    printf 'from-anydtls' | timeout 10 ./tools/anydtls-"$1" client --linger 1000 \
        $(our_creds "$2" client) 127.0.0.1 "$port" >"$tmp/client.out" 2>"$tmp/client.err"
    rc=$?
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    c=$(cipher_of "$tmp/client.err")
    if [ $rc -eq 0 ] && grep -q from-anydtls "$tmp/client.out" && [ -n "$c" ]; then
        pass "[$(flavour "$1")] client vs gnutls-serv, $2: message echoed back, clean close ($c)"
    else
        fail "[$(flavour "$1")] client vs gnutls-serv, $2: exit $rc"
    fi
}

# ---- a foreign client against our server ----
our_server() { # flavour mode
    ./tools/anydtls-"$1" server --once --echo --verbose $(our_creds "$2" server) "$port" \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    pids="$pids $!"; spid=$!
    wait_for "$tmp/server.err" "listening"
}

finish_server() { # -> src
    for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    src=$?
}

server_vs_openssl() { # flavour mode
    clean; next_port
    our_server "$1" "$2"
    case $2 in
    cert) opts="-CAfile $pki/ca.pem -verify_return_error -verify_hostname localhost" ;;
    psk) opts="-psk $psk -psk_identity anydtls" ;;
    esac
    (printf 'from-openssl'; sleep 1.5) | timeout 10 openssl s_client -dtls1_2 \
        -connect "127.0.0.1:$port" $opts >"$tmp/client.out" 2>"$tmp/client.err"
    rc=$?
    finish_server
    c=$(cipher_of "$tmp/server.err")
    if [ $rc -eq 0 ] && [ $src -eq 0 ] && grep -q from-openssl "$tmp/client.out" &&
        grep -q from-openssl "$tmp/server.out" && [ -n "$c" ]; then
        pass "[$(flavour "$1")] server vs openssl s_client, $2: message each way, clean close ($c)"
    else
        fail "[$(flavour "$1")] server vs openssl s_client, $2: client exit $rc, server exit $src"
    fi
}

server_vs_gnutls() { # flavour mode
    clean; next_port
    our_server "$1" "$2"
    case $2 in
    cert) opts="--x509cafile $pki/ca.pem localhost" ;;
    # Plain PSK: gnutls-cli 3.7.9 crashes printing an ECDHE-PSK session
    # whose server sent an identity hint (NULL in gnutls_psk_server_get_username).
    psk) opts="--pskusername anydtls --pskkey $psk --priority NORMAL:+PSK 127.0.0.1" ;;
    esac
    (printf 'from-gnutls'; sleep 1.5) | timeout 10 gnutls-cli --udp -p "$port" $opts \
        >"$tmp/client.out" 2>"$tmp/client.err"
    rc=$?
    finish_server
    c=$(cipher_of "$tmp/server.err")
    if [ $rc -eq 0 ] && [ $src -eq 0 ] && grep -q from-gnutls "$tmp/client.out" &&
        grep -q from-gnutls "$tmp/server.out" && [ -n "$c" ]; then
        pass "[$(flavour "$1")] server vs gnutls-cli, $2: message each way, clean close ($c)"
    else
        fail "[$(flavour "$1")] server vs gnutls-cli, $2: client exit $rc, server exit $src"
    fi
}

# ---- failures: documented exit status and message ----
# With $within set, the client must also have ended within that many seconds.
within=
expect_failure() { # flavour what status text [client args...]
    f=$1; what=$2; want=$3; text=$4; shift 4
    t0=$(date +%s)
    printf 'x' | timeout 20 ./tools/anydtls-"$f" client --linger 500 "$@" \
        >"$tmp/client.out" 2>"$tmp/client.err"
    rc=$?
    el=$(($(date +%s) - t0))
    if [ $rc -eq "$want" ] && grep -q "$text" "$tmp/client.err" &&
        { [ -z "$within" ] || [ $el -le "$within" ]; }; then
        pass "[$(flavour "$f")] $what: exit $rc, \"$text\"${within:+, $el s}"
    else
        fail "[$(flavour "$f")] $what: exit $rc after $el s, want $want and \"$text\"${within:+ within $within s}"
    fi
}

failures() { # flavour
    clean; next_port
    if [ $have_openssl = yes ]; then
        timeout 10 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -cert "$pki/rogue.pem" \
            -key "$pki/rogue.key" -naccept 1 -quiet </dev/null >"$tmp/server.out" 2>&1 &
        pids="$pids $!"; sleep 0.5
        expect_failure "$1" "untrusted certificate from openssl s_server" 10 \
            "peer certificate is not trusted" --ca "$pki/ca.pem" --name localhost 127.0.0.1 "$port"
        clean; next_port
        timeout 10 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -nocert -psk "$wrong" \
            -psk_identity anydtls -naccept 1 -quiet </dev/null >"$tmp/server.out" 2>&1 &
        pids="$pids $!"; sleep 0.5
        expect_failure "$1" "wrong PSK against openssl s_server" 18 "pre-shared keys differ" \
            --timeout 2000 --psk-identity anydtls --psk "$psk" 127.0.0.1 "$port"
        clean; next_port
        timeout 10 openssl s_server -dtls1 -accept "127.0.0.1:$port" -cert "$pki/server.pem" \
            -key "$pki/server.key" -naccept 1 -quiet </dev/null >"$tmp/server.out" 2>&1 &
        pids="$pids $!"; sleep 0.5
        within=3
        expect_failure "$1" "DTLS 1.2 client against openssl s_server -dtls1" 16 \
            "peer sent a fatal alert" --ca "$pki/ca.pem" --name localhost 127.0.0.1 "$port"
        within=
    else
        skip "openssl program not installed" "[$(flavour "$1")] untrusted certificate from openssl s_server"
        skip "openssl program not installed" "[$(flavour "$1")] wrong PSK against openssl s_server"
        skip "openssl program not installed" "[$(flavour "$1")] DTLS 1.2 client against openssl s_server -dtls1"
    fi
    clean; next_port
    if [ $have_gnutls = yes ]; then
        timeout 15 gnutls-serv --udp --echo -p "$port" --x509certfile "$pki/rogue.pem" \
            --x509keyfile "$pki/rogue.key" >"$tmp/server.out" 2>&1 &
        gp=$!; pids="$pids $gp"; wait_for "$tmp/server.out" listening
        expect_failure "$1" "untrusted certificate from gnutls-serv" 10 \
            "peer certificate is not trusted" --ca "$pki/ca.pem" --name localhost 127.0.0.1 "$port"
        kill $gp 2>/dev/null; clean; next_port
        gnutls_server psk "$wrong"
        expect_failure "$1" "wrong PSK against gnutls-serv" 18 "pre-shared keys differ" \
            --timeout 2000 --psk-identity anydtls --psk "$psk" 127.0.0.1 "$port"
        kill "$spid" 2>/dev/null
    else
        skip "gnutls-bin not installed (gnutls-serv)" "[$(flavour "$1")] untrusted certificate from gnutls-serv"
        skip "gnutls-bin not installed (gnutls-serv)" "[$(flavour "$1")] wrong PSK against gnutls-serv"
    fi
    clean; next_port
    expect_failure "$1" "a peer that never answers" 3 "handshake timed out" \
        --timeout 1000 --ca "$pki/ca.pem" 127.0.0.1 "$port"
}

for f in $BACKENDS; do
    for mode in cert psk; do
        if [ $have_openssl = yes ]; then
            client_vs_openssl "$f" "$mode"
            server_vs_openssl "$f" "$mode"
        else
            skip "openssl program not installed" "[$(flavour "$f")] client vs openssl s_server, $mode"
            skip "openssl program not installed" "[$(flavour "$f")] server vs openssl s_client, $mode"
        fi
        if [ $have_gnutls = yes ]; then
            client_vs_gnutls "$f" "$mode"
            server_vs_gnutls "$f" "$mode"
        else
            skip "gnutls-bin not installed (gnutls-serv)" "[$(flavour "$f")] client vs gnutls-serv, $mode"
            skip "gnutls-bin not installed (gnutls-cli)" "[$(flavour "$f")] server vs gnutls-cli, $mode"
        fi
    done
    failures "$f"
done
