#!/bin/sh
# LOG_COMPILER for `make check-valgrind`: runs each test program under
# valgrind memcheck (through libtool's wrapper); any memory error or leak
# fails the test.  Shell-script tests run as they are.
# The allocation-failure tests replace malloc themselves, on top of
# valgrind's (which stays in libc): valgrind must not replace theirs.
case "$1" in
*.sh) exec sh "$@" ;;
*test_alloc-*) own_malloc=--soname-synonyms=somalloc=nouserintercepts ;;
*) own_malloc= ;;
esac
exec "${LIBTOOL:-libtool}" --mode=execute valgrind --quiet --error-exitcode=99 $own_malloc \
    --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --show-leak-kinds=definite,indirect,possible "$@"
