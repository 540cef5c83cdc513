#!/bin/sh
# Make the test PKI (ECDSA P-256) with the openssl program, at test time.
# Nothing secret is committed.  Usage: mkpki.sh DIR
#   ca.pem           the CA the tests trust
#   server.pem/.key  CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.pem/.key  a client certificate from the same CA
#   expired.pem/.key localhost, but expired yesterday
#   notyet.pem/.key  localhost, from the trusted CA, valid only from January
#                    of the year after next (made with `openssl ca -startdate`)
#   selfsigned.pem/.key  localhost, signed with its own key
#   forged.pem/.key  localhost, with the issuer name and key identifier of
#                    ca.pem but signed by another key (imposter-ca): its
#                    issuer is found and its signature does not verify
#   wrongname.pem/.key  CN/SAN other.example, from the trusted CA
#   rogue.pem/.key   localhost, from a CA nobody trusts (rogue-ca.pem)
#   server-rsa.pem/.key  localhost as server.pem, but an RSA 2048 key
#   deep-server-chain.pem/deep-server.key, deep-client-chain.pem/.key
#                    leaves under three RSA intermediates (inter1-rsa under
#                    ca, inter2-rsa, inter3-rsa), each chain file holding
#                    the leaf and the intermediates: flights of ~4 KB
#   wide-client-chain.pem/wide-client.key  as deep-client, but the leaf has
#                    81 long DNS names (wolfSSL 5.7 takes at most 128,
#                    WOLFSSL_MAX_ALT_NAMES): a Certificate message of
#                    ~14 KB, a flight as long as a record may carry
set -eu
dir=$1
OPENSSL=${OPENSSL:-openssl}
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() {
    case $1 in
    *-rsa.key) "$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
    *) "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    esac
}

ca() { # name
    newkey "$1.key"
    "$OPENSSL" req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=anydtls test $1" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

sub() { # name ca: an intermediate CA
    newkey "$1.key"
    "$OPENSSL" req -new -key "$1.key" -out "$1.csr" -subj "/CN=anydtls test $1"
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$1.ext"
    "$OPENSSL" x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
        -days 30 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

leaf() { # name ca days cn san
    newkey "$1.key"
    "$OPENSSL" req -new -key "$1.key" -out "$1.csr" -subj "/CN=$4"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$5" >"$1.ext"
    "$OPENSSL" x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
        -days "$3" -out "$1.pem" -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

later() { # name ca cn san: a leaf whose validity starts in a year or more
    newkey "$1.key"
    "$OPENSSL" req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$4" >"$1.ext"
    printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s.db\nnew_certs_dir = %s.new\nserial = %s.serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n' \
        "$1" "$1" "$1" >"$1.cnf"
    : >"$1.db"
    echo 01 >"$1.serial"
    mkdir "$1.new"
    y=$(($(date -u +%Y) + 2))
    "$OPENSSL" ca -batch -notext -config "$1.cnf" -cert "$2.pem" -keyfile "$2.key" \
        -in "$1.csr" -out "$1.pem" -extfile "$1.ext" \
        -startdate "${y}0101000000Z" -enddate "$((y + 1))0101000000Z" 2>/dev/null
    rm -rf "$1.csr" "$1.ext" "$1.cnf" "$1.db"* "$1.serial"* "$1.new"
}

ca ca
ca rogue-ca
# The imposter: ca.pem's name and subject key identifier, another key.
newkey imposter-ca.key
skid=$("$OPENSSL" x509 -in ca.pem -noout -ext subjectKeyIdentifier | sed -n 's/^ *\([0-9A-F:]*\)$/\1/p')
"$OPENSSL" req -x509 -new -key imposter-ca.key -out imposter-ca.pem -days 30 \
    -subj "/CN=anydtls test ca" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -addext "subjectKeyIdentifier=$skid"
leaf server ca 30 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client ca 30 "anydtls client" "DNS:client.example"
leaf expired ca -1 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
later notyet ca localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
newkey selfsigned.key
"$OPENSSL" req -x509 -new -key selfsigned.key -out selfsigned.pem -days 30 -subj "/CN=localhost" \
    -addext basicConstraints=CA:FALSE -addext keyUsage=digitalSignature \
    -addext extendedKeyUsage=serverAuth,clientAuth \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
leaf forged imposter-ca 30 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf wrongname ca 30 other.example "DNS:other.example"
leaf rogue rogue-ca 30 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf server-rsa ca 30 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
sub inter1-rsa ca
sub inter2-rsa inter1-rsa
sub inter3-rsa inter2-rsa
leaf deep-server inter3-rsa 30 localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf deep-client inter3-rsa 30 "anydtls client" "DNS:client.example"
wide=DNS:client.example
pad=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa # 58 letters
for i in $(seq 80); do wide="$wide,DNS:h$i$pad.$pad.wide.client.example"; done
leaf wide-client inter3-rsa 30 "anydtls client" "$wide"
for l in deep-server deep-client wide-client; do
    cat "$l.pem" inter3-rsa.pem inter2-rsa.pem inter1-rsa.pem >"$l-chain.pem"
done
chmod 644 ./*.pem
touch stamp
