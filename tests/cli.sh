#!/bin/sh
# TAP: the anydtls program of every built flavour, from the outside.
#   - messages a user can act on: an out-of-range or missing option value,
#     a missing file, an unknown host, a server without credentials each
#     get one line that names the option (and its range) or the file;
#   - --mtu at the program's floor completes a handshake; `man
#     anydtls-NAME` finds a page;
#   - 300000 bytes piped through the client arrive complete at the server
#     (and back, with --echo): nothing the program accepted is dropped;
#   - a server's --echo sends a record larger than its own payload (a peer
#     with a larger MTU) back in pieces; a 6 KB ClientHello is answered,
#     and verified ClientHellos of 2^14 and 2^14 - 1 bytes (the largest);
#   - retransmissions of a verified ClientHello whose session failed make
#     no new session; a peer flooding its ClientHello mid-handshake does
#     not hold the server past its retransmission budget;
#   - a bad --bind or HOST value is a usage mistake (64) naming it; a --ca,
#     --cert or --key file with garbage, the wrong kind of PEM, a key of
#     another certificate (of the same type or the other: RSA and ECDSA, for a
#     server and a client), a directory, a FIFO, a device or an empty file
#     names the option, the file and what is wrong (19);
#   - an option of the other role (--echo for a client, --name for a
#     server, ...) is a usage mistake (64) naming the option and its role;
#   - --idle-timeout: a server whose peer was killed after the handshake
#     closes that session and serves the next peer; a client whose server
#     was killed gives up with status 3.
set -u
. "${srcdir:-.}/tests/flavour.sh"
pki=${ANYDTLS_PKI:-tests/pki}
top=$(cd "$(dirname "$0")/.." && pwd)
psk=00112233445566778899aabbccddeeff
tmp=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

set -- $BACKENDS
per_flavour=51
echo "1..$(($# * per_flavour))"
n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() {
    n=$((n + 1))
    echo "not ok $n - $*"
    for log in "$tmp"/*.err "$tmp"/sclient.out "$tmp"/replay.out; do
        [ -s "$log" ] && tail -n 20 "$log" | sed "s|^|# $(basename "$log"): |"
    done
}
skip() { n=$((n + 1)); echo "ok $n - $2 # SKIP $1"; }
check() { if eval "$1"; then pass "$2"; else fail "$2"; fi; }
size() { wc -c <"$1" | tr -d ' '; }
sum() { cksum <"$1"; }

# Start a server (flavour, options...), wait for its port.
start_server() {
    : >"$tmp/server.err"
    f=$1
    shift
    ./tools/anydtls-"$f" server "$@" 0 >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
    server_pid=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/server.err")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    return 1
}
stop_server() {
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}
wait_server() { # at most 20 s for a --once server to end, then it is stopped
    timeout 20 tail --pid="$server_pid" -f /dev/null || kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    src=$?
    server_pid=
}
# Wait until a file holds a pattern, at most 20 s.
wait_for() {
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# One usage mistake: exit status, exactly one "anydtls:" line on standard
# error, and that line contains the expected words.
usage_case() { # flavour status words label -- args...
    f=$1 want=$2 words=$3 label=$4
    shift 5
    timeout 30 ./tools/anydtls-"$f" "$@" </dev/null >"$tmp/usage.out" 2>"$tmp/usage.err"
    rc=$?
    lines=$(grep -c '^anydtls:' "$tmp/usage.err")
    first=$(grep -m1 '^anydtls:' "$tmp/usage.err")
    case $first in *"$words"*) ok=yes ;; *) ok=no ;; esac
    check '[ $rc -eq $want ] && [ "$lines" -eq 1 ] && [ $ok = yes ]' \
        "[$(flavour "$f")] $label: status $rc (want $want), \"$first\""
}

long_id=$(printf '%0129d' 0)
head -c 300000 /dev/urandom >"$tmp/300k"
head -c 3000 /dev/urandom >"$tmp/3k"
printf 'this is not PEM\n' >"$tmp/garbage.pem"
: >"$tmp/empty.pem"
mkfifo "$tmp/fifo.pem"
mkdir "$tmp/dir.pem"

# Whether flavour $1 takes --mtu (wolfSSL only when built with
# WOLFSSL_DTLS_MTU): a server that says so rather than listening.
mtu_settable() {
    ./tools/anydtls-"$1" server --mtu 4000 --psk "$psk" 0 </dev/null >/dev/null 2>"$tmp/probe.err" &
    ppid_=$!
    for _ in $(seq 100); do
        grep -q 'listening on' "$tmp/probe.err" && break
        kill -0 "$ppid_" 2>/dev/null || break
        sleep 0.1
    done
    kill "$ppid_" 2>/dev/null
    wait "$ppid_" 2>/dev/null
    ! grep -q 'not supported' "$tmp/probe.err"
}
big=
for c in $BACKENDS; do
    if mtu_settable "$c"; then big=$c; break; fi
done

# An `openssl s_client` ClientHello made large by ALPN: COUNT protocols of
# LEN bytes, and one of LAST bytes when LAST > 0 (s_client's verified
# ClientHello is 230 bytes plus the ALPN list: 63 of 255 and one of 25
# make its record body 16384 bytes).  Two checks: the HelloVerifyRequest
# comes back; the verified ClientHello's record body is WANT bytes (hex,
# when given), its handshake completes and data flows.
big_hello() { # flavour what count len last want
    if ! command -v openssl >/dev/null || ! start_server "$1" --once --echo \
        --cert "$pki/server.pem" --key "$pki/server.key"; then
        stop_server
        skip "no openssl program, or the server did not start" "[$fl] $2 ClientHello"
        skip "no openssl program, or the server did not start" "[$fl] $2 ClientHello handshake"
        return
    fi
    alpn=$(for i in $(seq "$3"); do printf "p%03d%0$(($4 - 4))d," "$i" 0; done)
    [ "$5" -gt 0 ] && alpn="${alpn}q$(printf "%0$(($5 - 1))d" 0)"
    (sleep 1; printf big-hello; sleep 2) | timeout 10 openssl s_client -dtls1_2 -msg -mtu 18432 \
        -connect "127.0.0.1:$port" -alpn "${alpn%,}" -CAfile "$pki/ca.pem" \
        >"$tmp/sclient.out" 2>&1
    answered=$(grep -c '^<<< ' "$tmp/sclient.out")
    hvr=$(grep -c '^<<< .*length 002f\]' "$tmp/sclient.out")
    done_hs=$(grep -c 'Cipher is ECDHE' "$tmp/sclient.out")
    sent=$(sed -n 's/^>>> .*content_type=22) \[length \(....\)\]$/\1/p' "$tmp/sclient.out" | sed -n 2p)
    wait_server
    check '[ "$hvr" -ge 1 ]' \
        "[$fl] a $2 ClientHello gets its HelloVerifyRequest ($answered datagrams back)"
    if [ "$done_hs" -ge 1 ] && grep -q big-hello "$tmp/server.out" &&
        { [ -z "$6" ] || [ "$sent" = "$6" ]; }; then
        pass "[$fl] the $2 ClientHello's handshake completes (verified ClientHello record: 0x$sent bytes)"
    else
        fail "[$fl] the $2 ClientHello's handshake completes (verified ClientHello record: 0x$sent bytes)"
    fi
}

for f in $BACKENDS; do
    fl=$(flavour "$f")
    # ---- messages (item 18 of issue 12) ----
    usage_case "$f" 64 "--mtu wants a datagram size from 512 to 18432" "--mtu 10" -- \
        client --mtu 10 127.0.0.1 9
    usage_case "$f" 64 "--mtu wants a datagram size from 512 to 18432" "--mtu 0 is no default" -- \
        client --mtu 0 127.0.0.1 9
    usage_case "$f" 64 "--timeout wants milliseconds from 10 to 600000" "--timeout 5" -- \
        client --timeout 5 127.0.0.1 9
    usage_case "$f" 64 "--timeout wants milliseconds from 10 to 600000" "--timeout 0 is no default" -- \
        client --timeout 0 127.0.0.1 9
    usage_case "$f" 64 "--cookie-key-length wants bytes from 16 to 64" "--cookie-key-length 8" -- \
        server --psk "$psk" --cookie-key-length 8 0
    usage_case "$f" 64 "--psk-identity wants 1 to 128 bytes" "129-byte PSK identity" -- \
        client --psk-identity "$long_id" --psk "$psk" 127.0.0.1 9
    usage_case "$f" 64 "option needs a value: --mtu" "missing value" -- client --mtu
    usage_case "$f" 19 "--ca $tmp/none.pem: No such file" "missing --ca file" -- \
        client --ca "$tmp/none.pem" 127.0.0.1 9
    usage_case "$f" 19 "--key $tmp/none.key: No such file" "missing --key file" -- \
        server --cert "$pki/server.pem" --key "$tmp/none.key" 0
    usage_case "$f" 8 "cannot reach no-such-host.invalid port 9" "unknown host" -- \
        client --psk "$psk" no-such-host.invalid 9
    usage_case "$f" 64 "server needs credentials" "server without credentials" -- \
        server --once 0
    usage_case "$f" 64 "--bind wants a numeric IPv4 or IPv6 address (127.0.0.1, ::1, ::): nonsense" \
        "--bind nonsense" -- server --psk "$psk" --bind nonsense 0
    usage_case "$f" 64 "HOST wants a host name or a numeric IPv4 or IPv6 address: 1.2.3.4.5" \
        "client HOST 1.2.3.4.5" -- client --psk "$psk" 1.2.3.4.5 9
    usage_case "$f" 64 "HOST wants a host name or a numeric IPv4 or IPv6 address: ::g" \
        "client HOST ::g" -- client --psk "$psk" ::g 9
    # A legacy form getaddrinfo would take (127.1 is 127.0.0.1): not an
    # address the library reads.
    usage_case "$f" 64 "HOST wants a host name or a numeric IPv4 or IPv6 address: 127.1" \
        "client HOST 127.1" -- client --psk "$psk" 127.1 9
    usage_case "$f" 64 "--idle-timeout wants seconds from 0 (never) to 86400" \
        "--idle-timeout 86401" -- server --psk "$psk" --idle-timeout 86401 0

    # ---- --ca, --cert, --key files that cannot be used: option, file, why ----
    usage_case "$f" 19 "--ca $tmp/garbage.pem: not PEM" "--ca with garbage" -- \
        client --ca "$tmp/garbage.pem" 127.0.0.1 9
    usage_case "$f" 19 "--cert $tmp/garbage.pem: not PEM" "--cert with garbage" -- \
        server --cert "$tmp/garbage.pem" --key "$pki/server.key" 0
    usage_case "$f" 19 "--key $tmp/garbage.pem: not PEM" "--key with garbage" -- \
        server --cert "$pki/server.pem" --key "$tmp/garbage.pem" 0
    usage_case "$f" 19 "--key $pki/server.pem: holds a certificate but no private key" \
        "--key given a certificate" -- server --cert "$pki/server.pem" --key "$pki/server.pem" 0
    usage_case "$f" 19 "--key $pki/client.key does not match the certificate in --cert $pki/server.pem" \
        "--key of another certificate" -- server --cert "$pki/server.pem" --key "$pki/client.key" 0
    usage_case "$f" 19 "--key $pki/server-rsa.key does not match the certificate in --cert $pki/server.pem" \
        "server --key of another type (RSA key, ECDSA certificate)" -- \
        server --cert "$pki/server.pem" --key "$pki/server-rsa.key" 0
    usage_case "$f" 19 "--key $pki/server.key does not match the certificate in --cert $pki/server-rsa.pem" \
        "client --key of another type (ECDSA key, RSA certificate)" -- \
        client --cert "$pki/server-rsa.pem" --key "$pki/server.key" 127.0.0.1 9
    usage_case "$f" 19 "--ca $tmp/dir.pem: is a directory" "--ca given a directory" -- \
        client --ca "$tmp/dir.pem" 127.0.0.1 9
    usage_case "$f" 19 "--ca $tmp/garbage.pem/ca.pem: Not a directory" "--ca path through a file" -- \
        client --ca "$tmp/garbage.pem/ca.pem" 127.0.0.1 9
    usage_case "$f" 19 "--ca $tmp/fifo.pem: not a regular file" "--ca given a FIFO (never opened)" -- \
        client --ca "$tmp/fifo.pem" 127.0.0.1 9
    usage_case "$f" 19 "--key /dev/null: not a regular file" "--key /dev/null" -- \
        server --cert "$pki/server.pem" --key /dev/null 0
    usage_case "$f" 19 "--cert $tmp/empty.pem: empty file" "--cert given an empty file" -- \
        server --cert "$tmp/empty.pem" --key "$pki/server.key" 0

    # ---- an option of the other role is a mistake, not ignored ----
    for o in "--echo" "--once" "--resumption" "--bind 127.0.0.1" "--cookie-key-length 16"; do
        # shellcheck disable=SC2086
        usage_case "$f" 64 "${o%% *} is a server option" "client $o" -- \
            client --psk "$psk" $o 127.0.0.1 9
    done
    for o in "--name localhost" "--linger 10" "--session $tmp/none.session"; do
        # shellcheck disable=SC2086
        usage_case "$f" 64 "${o%% *} is a client option" "server $o" -- server --psk "$psk" $o 0
    done

    # ---- --mtu at the program's floor: a certificate handshake ----
    if start_server "$f" --once --echo --mtu 512 --cert "$pki/server.pem" --key "$pki/server.key"; then
        printf floor | timeout 20 ./tools/anydtls-"$f" client --mtu 512 --linger 300 \
            --ca "$pki/ca.pem" --name localhost 127.0.0.1 "$port" >"$tmp/client.out" 2>"$tmp/client.err"
        rc=$?
        wait_server
        check '[ $rc -eq 0 ] && [ "$(cat "$tmp/client.out")" = floor ]' \
            "[$fl] --mtu 512 on both sides: certificate handshake and echo (client status $rc)"
    elif grep -q 'not supported by this backend' "$tmp/server.err"; then
        stop_server
        skip "no settable MTU in this libwolfssl (ANYDTLS_CAP_MTU)" "[$fl] --mtu 512 handshake"
    else
        stop_server
        fail "[$fl] --mtu 512: server did not start"
    fi

    # ---- man anydtls-NAME finds a page ----
    mkdir -p "$tmp/man/man1"
    cp "$top/doc/anydtls.1" "$top/doc/anydtls-$f.1" "$tmp/man/man1/" 2>/dev/null
    if command -v man >/dev/null; then
        page=$(LC_ALL=C MANWIDTH=80 man -M "$tmp/man" "anydtls-$f" 2>/dev/null | grep -c 'anydtls demo')
    else
        page=$(grep -c '^\.so man1/anydtls\.1$' "$tmp/man/man1/anydtls-$f.1")
    fi
    installed=$(grep -c "^[^#]*= doc/anydtls-$f\.1\$" Makefile 2>/dev/null)
    check '[ "${page:-0}" -ge 1 ] && [ "${installed:-0}" -ge 1 ]' \
        "[$fl] man anydtls-$f finds anydtls(1), and make install installs the link"

    # ---- no silent data loss (item 19): 300000 bytes, then echoed ----
    for mode in plain echo; do
        extra=
        [ $mode = echo ] && extra=--echo
        if ! start_server "$f" --once $extra --psk "$psk"; then
            stop_server
            fail "[$fl] 300000 bytes, $mode: server did not start"
            continue
        fi
        timeout 60 ./tools/anydtls-"$f" client --psk "$psk" --linger 2000 127.0.0.1 "$port" \
            <"$tmp/300k" >"$tmp/client.out" 2>"$tmp/client.err"
        rc=$?
        wait_server
        got=$(size "$tmp/server.out") back=$(size "$tmp/client.out")
        if [ $mode = plain ]; then
            check '[ $rc -eq 0 ] && [ "$(sum "$tmp/server.out")" = "$(sum "$tmp/300k")" ]' \
                "[$fl] 300000 bytes through the client arrive complete: server got $got (client status $rc)"
        else
            check '[ $rc -eq 0 ] && [ "$(sum "$tmp/client.out")" = "$(sum "$tmp/300k")" ] &&
                   [ "$(sum "$tmp/server.out")" = "$(sum "$tmp/300k")" ]' \
                "[$fl] 300000 bytes echoed arrive complete both ways: server $got, client $back (status $rc)"
        fi
    done

    # ---- --echo of a record larger than the server's payload (item 20) ----
    # The client: a flavour with a settable MTU, sending 3000 bytes in one
    # record to a server with the default 1400.
    if [ -z "$big" ]; then
        skip "no built flavour has a settable MTU" "[$fl] --echo of a 3000-byte record"
    elif start_server "$f" --once --echo --psk "$psk"; then
        timeout 20 ./tools/anydtls-"$big" client --mtu 4000 --psk "$psk" --linger 1000 \
            127.0.0.1 "$port" <"$tmp/3k" >"$tmp/client.out" 2>"$tmp/client.err"
        rc=$?
        wait_server
        check '[ $rc -eq 0 ] && [ $src -eq 0 ] && [ "$(sum "$tmp/client.out")" = "$(sum "$tmp/3k")" ]' \
            "[$(flavour "$big") -> $fl] --echo sends a 3000-byte record back in pieces: $(size "$tmp/client.out") bytes, statuses $rc/$src"
    else
        stop_server
        fail "[$fl] --echo of a 3000-byte record: server did not start"
    fi

    # ---- large ClientHellos are answered (item 20, issue 12) ----
    # 6 KB, and a verified ClientHello at the largest a peer may send: a
    # record of 2^14 bytes (RFC 6347 4.1; the datagram of 16397 bytes is
    # within ANYDTLS_MTU_MAX, the record limit binds first), and one byte
    # under it.  s_client at -mtu 18432 sends it in one record.
    big_hello "$f" "6 KB" 30 204 0 ""
    big_hello "$f" "2^14-byte" 63 255 25 4000
    big_hello "$f" "2^14 - 1-byte" 63 255 24 3fff

    # ---- retransmitted verified ClientHello of a failed session (item 4) ----
    # A PSK server with a short retransmission budget; the client sends its
    # verified ClientHello and then nothing, so the session fails; then 6
    # retransmissions of that ClientHello, then a probe.  One failed session.
    if start_server "$f" --psk "$psk" --timeout 100; then
        rm -f "$tmp/go"
        mkfifo "$tmp/go"
        timeout 60 ./tests/hello-replay "$port" 6 <"$tmp/go" >"$tmp/replay.out" 2>&1 &
        rpid=$!
        exec 3>"$tmp/go"
        wait_for "$tmp/replay.out" 'verified hello sent' &&
            wait_for "$tmp/server.err" 'server: peer .*: [a-z]'
        first=$(grep 'server: peer' "$tmp/server.err" | grep -vc DTLSv1)
        echo go >&3
        exec 3>&-
        wait "$rpid"
        rrc=$?
        sessions=$(grep 'server: peer' "$tmp/server.err" | grep -vc DTLSv1)
        stop_server
        check '[ $rrc -eq 0 ] && [ "$first" -eq 1 ] && [ "$sessions" -eq 1 ]' \
            "[$fl] 6 retransmissions of a failed verified ClientHello: $sessions failed session(s) in all (want 1; replay status $rrc)"
    else
        stop_server
        fail "[$fl] retransmitted ClientHello: server did not start"
    fi

    # ---- a verified ClientHello flooded mid-handshake (D1) ----
    # A certificate server waits for the client's next flight; the client
    # instead retransmits its verified ClientHello back to back.  The
    # session must still fail when its budget (--timeout 100) runs out,
    # while the flood goes on, and the server then answer a new peer.
    if start_server "$f" --cert "$pki/server.pem" --key "$pki/server.key" --timeout 100; then
        rm -f "$tmp/go"
        mkfifo "$tmp/go"
        timeout 60 ./tests/hello-replay "$port" 0 <"$tmp/go" >"$tmp/replay.out" 2>&1 &
        rpid=$!
        exec 3>"$tmp/go"
        wait_for "$tmp/server.err" 'server: peer .*: handshake timed out'
        failed_in_flood=$?
        echo go >&3
        exec 3>&-
        wait "$rpid"
        rrc=$?
        stop_server
        check '[ $failed_in_flood -eq 0 ] && [ $rrc -eq 0 ]' \
            "[$fl] a peer flooding its ClientHello mid-handshake is dropped when the budget runs out, and the next peer is answered (replay status $rrc)"
    else
        stop_server
        fail "[$fl] ClientHello flood: server did not start"
    fi

    # ---- --idle-timeout: a peer killed after the handshake (D1) ----
    # The first client's standard input stays open (a FIFO this script
    # holds), so it sends nothing and would wait; kill -9 leaves the
    # server with a session nobody will close.
    rm -f "$tmp/hold"
    mkfifo "$tmp/hold"
    exec 4<>"$tmp/hold"
    if start_server "$f" --psk "$psk" --idle-timeout 1; then
        ./tools/anydtls-"$f" client --psk "$psk" 127.0.0.1 "$port" <"$tmp/hold" \
            >/dev/null 2>"$tmp/client1.err" &
        cpid=$!
        wait_for "$tmp/server.err" 'server: peer .*DTLSv1'
        kill -9 "$cpid" 2>/dev/null
        wait "$cpid" 2>/dev/null
        wait_for "$tmp/server.err" 'nothing from the peer for 1 s (--idle-timeout): session closed'
        idled=$?
        printf second | timeout 20 ./tools/anydtls-"$f" client --psk "$psk" --linger 300 \
            127.0.0.1 "$port" >/dev/null 2>"$tmp/client.err"
        rc=$?
        wait_for "$tmp/server.out" second
        stop_server
        check '[ $idled -eq 0 ] && [ $rc -eq 0 ] && [ "$(cat "$tmp/server.out")" = second ]' \
            "[$fl] server --idle-timeout 1: a peer killed after the handshake is dropped, the next one served (client status $rc)"
    else
        stop_server
        fail "[$fl] --idle-timeout server: server did not start"
    fi

    # ---- client --idle-timeout: its server killed ----
    if start_server "$f" --psk "$psk"; then
        ./tools/anydtls-"$f" client --psk "$psk" --idle-timeout 1 127.0.0.1 "$port" \
            <"$tmp/hold" >/dev/null 2>"$tmp/client.err" &
        cpid=$!
        wait_for "$tmp/client.err" 'client: DTLSv1'
        up=$? # 0: the client reported its handshake before the server died
        kill -9 "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
        timeout 20 tail --pid="$cpid" -f /dev/null || kill "$cpid" 2>/dev/null
        wait "$cpid"
        rc=$?
        check '[ $rc -eq 3 ] && grep -q "nothing from the server for 1 s (--idle-timeout)" "$tmp/client.err"' \
            "[$fl] client --idle-timeout 1: its server killed, the client gives up with status 3 (got $rc; handshake reported in time: $([ $up -eq 0 ] && echo yes || echo no))"
    else
        stop_server
        fail "[$fl] --idle-timeout client: server did not start"
    fi
    exec 4>&-
done
