/*
 * anydtls: the command-line program, one per backend flavour
 * (anydtls-openssl, anydtls-gnutls, ...; `anydtls` is the default one).
 *
 *   anydtls demo                  every flavour against every flavour
 *   anydtls client [opts] HOST PORT
 *   anydtls server [opts] PORT
 *   anydtls version
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <anydtls/anydtls.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: anydtls demo\n"
               "       anydtls client [options] HOST PORT   (anydtls client --help)\n"
               "       anydtls server [options] PORT        (anydtls server --help)\n"
               "       anydtls version\n"
               "\n"
               "This program is the %s flavour of anydtls.\n",
            anydtls_backend_name());
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = argc >= 2 ? argv[1] : "";
    if (strcmp(cmd, "demo") == 0)
        return cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "client") == 0)
        return cli_client(argc - 1, argv + 1);
    if (strcmp(cmd, "server") == 0)
        return cli_server(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 && argc == 2) {
        printf("anydtls %s %s %s\n", anydtls_version(), anydtls_backend_name(),
               anydtls_backend_version());
        return 0;
    }
    if ((strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) && argc == 2) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 64;
}
