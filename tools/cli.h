/* The anydtls program's commands. */
#ifndef ANYDTLS_TOOLS_CLI_H
#define ANYDTLS_TOOLS_CLI_H

int cli_client(int argc, char **argv);
int cli_server(int argc, char **argv);
int cli_demo(int argc, char **argv);

#endif
