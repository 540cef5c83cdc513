#!/bin/sh
# TAP: every function that include/anydtls/anydtls.h declares with
# ANYDTLS_API has a section-3 manual page doc/man3/NAME.3, either a page of
# its own or a one-line `.so man3/PAGE.3` link to the page that documents it
# together with related functions.  For each function:
#   - the page exists, a link resolves (to a real page, not another link),
#     and the NAME section of the page it resolves to lists the function;
#   - groff -ww formats it without a single warning, and its SYNOPSIS shows
#     the header's prototype (skipped when groff is not installed).
# Then: no page in doc/man3 documents a function the header does not
# declare (stale pages), and doc/man.mk lists exactly the pages there, so
# that each one is installed and distributed.
# make check runs this from the build directory with no $srcdir in the
# environment: the source tree is found from the script's own path.
srcdir=$(cd "$(dirname "$0")/.." && pwd)
header=$srcdir/include/anydtls/anydtls.h
docdir=$srcdir/doc
mandir=$docdir/man3
mkfile=$docdir/man.mk

if [ ! -r "$header" ]; then
    echo "1..1"
    echo "not ok 1 - cannot read $header"
    exit 0
fi

# One line per function, "NAME<TAB>PROTOTYPE": a declaration runs from its
# ANYDTLS_API line to the first ';' (it may span lines); the name is the
# identifier before the first '('; the prototype is the declaration without
# ANYDTLS_API, its white space collapsed.
functions=$(awk '
    collecting { decl = decl " " $0 }
    !collecting && /^ANYDTLS_API[ \t]/ { decl = $0; collecting = 1 }
    collecting && decl ~ /;/ {
        collecting = 0
        sub(/;.*/, ";", decl)
        sub(/^ANYDTLS_API[ \t]+/, "", decl)
        gsub(/[ \t]+/, " ", decl)
        head = decl
        sub(/\(.*/, "", head)
        if (match(head, /[A-Za-z_][A-Za-z0-9_]*[ ]*$/)) {
            name = substr(head, RSTART, RLENGTH)
            sub(/[ ]+$/, "", name)
            print name "\t" decl
        }
    }' "$header")

count=$(printf '%s\n' "$functions" | grep -c .)
if [ "$count" -eq 0 ]; then
    echo "1..1"
    echo "not ok 1 - no ANYDTLS_API declaration found in $header"
    exit 0
fi

have_groff=no
command -v groff >/dev/null 2>&1 && have_groff=yes

echo "1..$((2 * count + 2))"
n=0

# The names a page's NAME section lists: the text between .SH NAME and the
# next .SH, up to the "\-" that starts the description, split at commas.
name_section() {
    awk '
        /^\.SH[ \t]+"?NAME"?[ \t]*$/ { in_name = 1; next }
        in_name && /^\.SH/ { exit }
        in_name { sub(/^\.[A-Za-z]+[ \t]+/, ""); printf "%s ", $0 }' "$1" |
        sed 's/\\-.*//' | tr ',' '\n' | sed 's/^[ \t]*//; s/[ \t]*$//' | grep .
}

# The page a file resolves to: itself, or the target of its .so line
# (relative to the manual root, doc/).  Empty for a broken or chained link.
resolve() {
    so=$(sed -n '1s/^\.so[ \t][ \t]*//p' "$1")
    if [ -z "$so" ]; then
        echo "$1"
    elif [ -f "$docdir/$so" ] && ! sed -n 1p "$docdir/$so" | grep -q '^\.so[ \t]'; then
        echo "$docdir/$so"
    fi
}

# White space collapsed, none after '(' or before ')', ',' and ';'.
normalize() {
    tr '\n\t' '  ' | tr -s ' ' | sed 's/( /(/g; s/ )/)/g; s/ ,/,/g; s/ ;/;/g; s/^ //; s/ $//'
}

tab=$(printf '\t')
# Existence and NAME section, for every function.
printf '%s\n' "$functions" | while IFS=$tab read -r name proto; do
    n=$((n + 1))
    file=$mandir/$name.3
    if [ ! -f "$file" ]; then
        echo "not ok $n - $name: doc/man3/$name.3 does not exist"
        continue
    fi
    page=$(resolve "$file")
    if [ -z "$page" ]; then
        echo "not ok $n - $name: doc/man3/$name.3 is a .so link to a missing page or to another link"
        continue
    fi
    if name_section "$page" | grep -qx "$name"; then
        echo "ok $n - $name: documented in ${page#"$docdir"/}"
    else
        echo "not ok $n - $name: the NAME section of ${page#"$docdir"/} does not list it"
    fi
done
n=$count

# groff: no warning, and the SYNOPSIS carries the header's prototype.
printf '%s\n' "$functions" | while IFS=$tab read -r name proto; do
    n=$((n + 1))
    if [ "$have_groff" = no ]; then
        echo "ok $n - $name: groff check # SKIP groff not installed"
        continue
    fi
    if [ ! -f "$mandir/$name.3" ] || [ -z "$(resolve "$mandir/$name.3")" ]; then
        echo "not ok $n - $name: no page to format"
        continue
    fi
    # From doc/, so that a ".so man3/PAGE.3" resolves as man resolves it.
    warnings=$(cd "$docdir" && groff -ww -mandoc -Tutf8 "man3/$name.3" 2>&1 >/dev/null)
    if [ -n "$warnings" ]; then
        echo "not ok $n - $name: groff -ww warns: $(printf '%s' "$warnings" | tr '\n' ' ')"
        continue
    fi
    synopsis=$(cd "$docdir" && groff -mandoc -Tascii -P-cbou "man3/$name.3" 2>/dev/null |
        awk '/^SYNOPSIS/ { s = 1; next } s && /^[A-Z]/ { exit } s' | normalize)
    want=$(printf '%s\n' "$proto" | normalize)
    case "$synopsis" in
    *"$want"*) echo "ok $n - $name: groff -ww is silent; SYNOPSIS has the prototype" ;;
    *) echo "not ok $n - $name: SYNOPSIS lacks the header's prototype: $want" ;;
    esac
done
n=$((2 * count))

# Stale pages: each file is named after a declared function, and each name
# a real page lists in its NAME section is declared.
names=$(printf '%s\n' "$functions" | cut -f1)
stale=""
for file in "$mandir"/*.3; do
    [ -f "$file" ] || continue
    base=$(basename "$file" .3)
    printf '%s\n' "$names" | grep -qx "$base" || stale="$stale $base.3"
    sed -n 1p "$file" | grep -q '^\.so[ \t]' && continue
    for listed in $(name_section "$file"); do
        printf '%s\n' "$names" | grep -qx "$listed" || stale="$stale $base.3:$listed"
    done
done
n=$((n + 1))
if [ -z "$stale" ]; then
    echo "ok $n - no page in doc/man3 documents a function the header does not declare"
else
    echo "not ok $n - doc/man3 documents functions the header does not declare:$stale"
fi

# doc/man.mk installs an explicit list: it must name every page, and only those.
n=$((n + 1))
if [ ! -r "$mkfile" ]; then
    echo "not ok $n - cannot read doc/man.mk"
else
    listed=$(grep -o 'doc/man3/[A-Za-z0-9_]*\.3' "$mkfile" | sort -u)
    present=$(for f in "$mandir"/*.3; do [ -f "$f" ] && echo "doc/man3/${f##*/}"; done | sort -u)
    missing=$(printf '%s\n' "$present" | grep . | grep -vxF "$listed" | tr '\n' ' ' | sed 's/ $//')
    extra=$(printf '%s\n' "$listed" | grep . | grep -vxF "$present" | tr '\n' ' ' | sed 's/ $//')
    if [ -z "$missing$extra" ]; then
        echo "ok $n - doc/man.mk lists every page in doc/man3"
    else
        echo "not ok $n - doc/man.mk out of step with doc/man3: not listed: ${missing:-none}; listed but absent: ${extra:-none}"
    fi
fi
