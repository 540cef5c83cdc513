#!/bin/sh
# TAP: the EXAMPLE section of every page in doc/man3 is extracted (its
# .nf/.fi blocks, roff escapes undone), made a translation unit and
# compiled and linked with -Wall -Wextra -Werror against every built
# flavour's library, so the pages' examples cannot rot.  The examples are
# fragments: a line at the left margin that starts a static definition
# (a function, a static variable) or a struct definition, up to its
# closing brace at the margin, stays at file scope; the rest is the body
# of a function whose parameters are the names the pages take from their
# context (s, s2, c, cfg, server_cfg, client_cfg, t, ct, st, fd; rc is a
# local of that function, and transport_for a stub).  A fragment with a
# bare `return;` is the body of a void function, else of an int one.
# Nothing is run: anydtls(3)'s complete program is run by
# tests/readme-examples.sh.
set -u
. "${srcdir:-.}/tests/flavour.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pages=$(grep -l '^\.SH EXAMPLE' "$top"/doc/man3/*.3 | sort)
npages=$(echo $pages | wc -w)
set -- $BACKENDS
echo "1..$((1 + npages * $#))"

# The example of page $1, as C source lines.
example() {
    sed -n '/^\.SH EXAMPLE/,/^\.SH /p' "$1" |
        awk '/^\.nf/ { on = 1; next } /^\.fi/ { on = 0; next } on' |
        sed 's/\\-/-/g; s/\\(dq/"/g; s/\\(aq/'"'"'/g; s/\\e/\\/g'
}

# A translation unit around the example of page $1, on stdout.
unit() {
    example "$1" >"$tmp/frag"
    if grep -q 'return;' "$tmp/frag"; then ret=void end="    (void)rc;"; else ret=int end="    return rc;"; fi
    cat <<'EOF'
#define _POSIX_C_SOURCE 200809L
#include <anydtls/anydtls.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTEXT __attribute__((unused))
/* The application's way of reaching a peer (anydtls_cookie_check(3)). */
static CONTEXT anydtls_transport *transport_for(const anydtls_addr *peer)
{
    (void)peer;
    return NULL;
}
/* A handshake loop (anydtls_handshake(3)) for pages that call one. */
static CONTEXT int handshake(anydtls_session *s, int fd);
EOF
    awk -v ret="$ret" -v end="$end" -v top="$tmp/top" -v body="$tmp/body" '
        BEGIN { printf "" > top; printf "" > body }
        intop { print >> top; if ($0 ~ /^}/) intop = 0; next }
        /^static / || /^struct [A-Za-z_]+ \{$/ {
            print >> top
            if ($0 !~ /;[ \t]*(\/\*.*\*\/)?[ \t]*$/) intop = 1
            next
        }
        { print >> body }
    ' "$tmp/frag"
    cat "$tmp/top"
    if ! grep -q '^static int handshake(' "$tmp/frag"; then
        printf 'static int handshake(anydtls_session *s, int fd)\n{\n    (void)s, (void)fd;\n    return 0;\n}\n'
    fi
    echo "static CONTEXT $ret example(anydtls_session *s CONTEXT, anydtls_session *s2 CONTEXT,"
    echo "    anydtls_session *c CONTEXT, anydtls_config *cfg CONTEXT, anydtls_config *server_cfg CONTEXT,"
    echo "    anydtls_config *client_cfg CONTEXT, anydtls_transport *t CONTEXT,"
    echo "    anydtls_transport *ct CONTEXT, anydtls_transport *st CONTEXT, int fd CONTEXT)"
    echo "{"
    echo "    int rc = 0;"
    echo "    {"
    sed 's/^/    /' "$tmp/body"
    echo "    }"
    echo "$end"
    echo "}"
    echo
    echo "int main(void)"
    echo "{"
    echo "    return 0;"
    echo "}"
}

n=1
if [ "$npages" -gt 0 ]; then
    echo "ok 1 - doc/man3: $npages pages have an EXAMPLE section"
else
    echo "not ok 1 - doc/man3: no page has an EXAMPLE section (are the pages there?)"
fi
for page in $pages; do
    name=$(basename "$page" .3)
    unit "$page" >"$tmp/$name.c"
    for f in $BACKENDS; do
        n=$((n + 1))
        if "$LIBTOOL" --mode=link ${CC:-cc} ${EXAMPLE_FLAGS:-} -std=c11 -Wall -Wextra -Werror \
            -I"$top/include" -o "$tmp/$name-$f" "$tmp/$name.c" "$build/libanydtls-$f.la" \
            >"$tmp/cc.log" 2>&1; then
            echo "ok $n - [$(flavour "$f")] $name(3): its EXAMPLE compiles with -Wall -Wextra -Werror"
        else
            echo "not ok $n - [$(flavour "$f")] $name(3): its EXAMPLE does not compile"
            sed 's/^/# /' "$tmp/cc.log" | head -30
            sed 's/^/#   | /' "$tmp/$name.c" | sed -n '22,200p' | head -60
        fi
    done
done
