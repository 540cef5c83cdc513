# Sourced by the shell tests: flavour NAME prints "NAME VERSION", the label
# of every TAP line, with the version of the TLS library that flavour's
# program loads at run time (so a line says which library it tested).
flavour() {
    _fv=$(./tools/anydtls-"$1" version 2>/dev/null |
        awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^[0-9]/) { print $i; exit } }')
    echo "$1${_fv:+ $_fv}"
}
