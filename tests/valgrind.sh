#!/bin/sh
# LOG_COMPILER for `make check-valgrind`: runs each test program under
# valgrind memcheck (through libtool's wrapper); any memory error or leak
# fails the test.  Shell-script tests run as they are.
case "$1" in
*.sh) exec sh "$@" ;;
esac
exec "${LIBTOOL:-libtool}" --mode=execute valgrind --quiet --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --show-leak-kinds=definite,indirect,possible "$@"
