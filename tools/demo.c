/*
 * anydtls demo: every built flavour's client against every flavour's
 * server, as separate processes over real UDP on 127.0.0.1 and ::1, with
 * certificates and with PSK, stateless cookie exchange on.  Each run
 * echoes a message and closes cleanly.  Flavours never share a process
 * (libwolfssl exports functions under OpenSSL's names).
 *
 * The certificates are made for the run with the openssl program in a
 * temporary directory and removed afterwards.
 */
#define _GNU_SOURCE /* pipe2 */
#include "cli.h"

#include <anydtls/anydtls.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MESSAGE "hello over DTLS"
#define PSK_HEX "616e7964746c732064656d6f20707368"
#define MAX_FLAVOURS 3

static const char *const known[MAX_FLAVOURS] = {"openssl", "gnutls", "wolfssl"};

struct flavour {
    const char *name;
    char program[PATH_MAX];
    char version[128];
};

struct run {
    int status;        /* 0 ok, else the client's (or server's) exit status */
    double handshake_ms;
    char protocol[32], cipher[96];
};

/* ---------------- processes ---------------- */

/* Start argv with stdin from in_fd (-1: /dev/null), stdout to out_fd and
 * stderr to err_fd (-1: /dev/null). */
static pid_t spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int null = open("/dev/null", O_RDWR);
    dup2(in_fd >= 0 ? in_fd : null, STDIN_FILENO);
    dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO);
    dup2(err_fd >= 0 ? err_fd : null, STDERR_FILENO);
    execv(argv[0], argv);
    _exit(127);
}

/* Read from fd until EOF or the deadline; NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static int wait_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The port from the server's "listening on ADDR:PORT" line. */
static int read_port(int fd)
{
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0 || read(fd, line + n, 1) != 1)
            return -1;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    const char *colon = strrchr(line, ':');
    return strstr(line, "listening on") && colon ? atoi(colon + 1) : -1;
}

/* ---------------- one cell of the matrix ---------------- */

static void credential_args(char **argv, int *argc, const char *pki, bool psk, bool server,
                            char paths[3][PATH_MAX])
{
    if (psk) {
        argv[(*argc)++] = "--psk-identity";
        argv[(*argc)++] = "demo-client";
        argv[(*argc)++] = "--psk";
        argv[(*argc)++] = PSK_HEX;
        return;
    }
    if (server) {
        snprintf(paths[0], PATH_MAX, "%s/server.pem", pki);
        snprintf(paths[1], PATH_MAX, "%s/server.key", pki);
        argv[(*argc)++] = "--cert";
        argv[(*argc)++] = paths[0];
        argv[(*argc)++] = "--key";
        argv[(*argc)++] = paths[1];
    } else {
        snprintf(paths[2], PATH_MAX, "%s/ca.pem", pki);
        argv[(*argc)++] = "--ca";
        argv[(*argc)++] = paths[2];
        argv[(*argc)++] = "--name";
        argv[(*argc)++] = "localhost";
    }
}

static void parse_client_report(const char *err, struct run *r)
{
    const char *p = strstr(err, "client: ");
    if (p == NULL || sscanf(p, "client: %31s %95[^,], handshake %lf ms", r->protocol, r->cipher,
                            &r->handshake_ms) != 3)
        r->protocol[0] = r->cipher[0] = '\0';
}

static int start_server(const struct flavour *s, const char *pki, const char *host, bool psk,
                        pid_t *pid)
{
    char *argv[24], paths[3][PATH_MAX];
    int argc = 0, err[2];
    argv[argc++] = (char *)s->program;
    argv[argc++] = "server";
    argv[argc++] = "--once";
    argv[argc++] = "--echo";
    argv[argc++] = "--bind";
    argv[argc++] = (char *)host;
    credential_args(argv, &argc, pki, psk, true, paths);
    argv[argc++] = "0";
    argv[argc] = NULL;
    if (pipe2(err, O_CLOEXEC) != 0)
        return -1;
    *pid = spawn(argv, -1, -1, err[1]);
    close(err[1]);
    int port = read_port(err[0]);
    close(err[0]);
    return port;
}

static void run_cell(const struct flavour *c, const struct flavour *s, const char *pki,
                     const char *host, bool psk, struct run *r)
{
    memset(r, 0, sizeof *r);
    pid_t spid = -1;
    int port = start_server(s, pki, host, psk, &spid);
    if (port <= 0) {
        r->status = 127;
        if (spid > 0) {
            kill(spid, SIGTERM);
            wait_status(spid);
        }
        return;
    }
    char *argv[24], paths[3][PATH_MAX], port_s[16], out[256], err[1024];
    int argc = 0, in[2], o[2], e[2];
    snprintf(port_s, sizeof port_s, "%d", port);
    argv[argc++] = (char *)c->program;
    argv[argc++] = "client";
    argv[argc++] = "--linger";
    argv[argc++] = "300";
    credential_args(argv, &argc, pki, psk, false, paths);
    argv[argc++] = (char *)host;
    argv[argc++] = port_s;
    argv[argc] = NULL;
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) {
        r->status = 127;
        return;
    }
    pid_t cpid = spawn(argv, in[0], o[1], e[1]);
    close(in[0]);
    close(o[1]);
    close(e[1]);
    if (write(in[1], MESSAGE, strlen(MESSAGE)) < 0)
        r->status = 127;
    close(in[1]);
    read_all(o[0], out, sizeof out, 10000);
    read_all(e[0], err, sizeof err, 10000);
    close(o[0]);
    close(e[0]);
    int cst = wait_status(cpid);
    int sst = wait_status(spid);
    parse_client_report(err, r);
    if (r->status == 0)
        r->status = cst != 0 ? cst : sst;
    if (r->status == 0 && strcmp(out, MESSAGE) != 0)
        r->status = -ANYDTLS_E_BAD_RECORD;
}

/* ---------------- flavours and credentials ---------------- */

/* The sibling program of a flavour: next to this one, or, when this one
 * runs from libtool's .libs directory, next to its wrapper. */
static bool find_program(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    size_t len = strlen(self);
    if (len >= 6 && strcmp(self + len - 6, "/.libs") == 0) {
        self[len - 6] = '\0';
        int w = snprintf(out, cap, "%s/anydtls-%s", self, name);
        if (w > 0 && (size_t)w < cap && access(out, X_OK) == 0)
            return true;
        strcat(self, "/.libs");
    }
    int w = snprintf(out, cap, "%s/anydtls-%s", self, name);
    return w > 0 && (size_t)w < cap && access(out, X_OK) == 0;
}

static void program_version(struct flavour *f)
{
    char *argv[] = {f->program, "version", NULL};
    int o[2];
    f->version[0] = '\0';
    if (pipe2(o, O_CLOEXEC) != 0)
        return;
    pid_t pid = spawn(argv, -1, o[1], -1);
    close(o[1]);
    read_all(o[0], f->version, sizeof f->version, 5000);
    close(o[0]);
    wait_status(pid);
    f->version[strcspn(f->version, "\n")] = '\0';
}

static int find_flavours(struct flavour *f)
{
    int n = 0;
    for (int i = 0; i < MAX_FLAVOURS; i++) {
        if (!find_program(known[i], f[n].program, sizeof f[n].program))
            continue;
        f[n].name = known[i];
        program_version(&f[n]);
        n++;
    }
    return n;
}

static int make_pki(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(set -e; cd '%s'; umask 077; "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 1 -subj '/CN=anydtls demo CA' "
             "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout server.key -out server.csr -subj /CN=localhost; "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\n' > san.ext; "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-days 1 -extfile san.ext -out server.pem) >/dev/null 2>&1",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void remove_pki(const char *dir)
{
    static const char *const files[] = {"ca.key",     "ca.pem",     "ca.srl", "server.key",
                                        "server.csr", "server.pem", "san.ext"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---------------- output ---------------- */

static void cell_text(const struct run *r, char *buf, size_t cap)
{
    if (r->status == 0)
        snprintf(buf, cap, "ok %6.2f ms", r->handshake_ms);
    else if (r->status == 127)
        snprintf(buf, cap, "cannot run");
    else
        snprintf(buf, cap, "%s", anydtls_strerror(-r->status));
}

static void print_grid(const struct flavour *f, int n, struct run (*cells)[MAX_FLAVOURS],
                       const char *title)
{
    char buf[64];
    printf("\n%s (rows: client, columns: server)\n  %-10s", title, "");
    for (int j = 0; j < n; j++)
        printf(" %-22s", f[j].name);
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("  %-10s", f[i].name);
        for (int j = 0; j < n; j++) {
            cell_text(&cells[i][j], buf, sizeof buf);
            printf(" %-22.22s", buf);
        }
        printf("\n");
    }
}

int cli_demo(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: anydtls demo\n");
        return 64;
    }
    struct flavour f[MAX_FLAVOURS];
    int n = find_flavours(f);
    char dir[] = "/tmp/anydtls-demo-XXXXXX";
    if (n == 0 || mkdtemp(dir) == NULL || make_pki(dir) != 0) {
        fprintf(stderr, "anydtls demo: %s\n",
                n == 0 ? "no anydtls-FLAVOUR program found next to this one"
                       : "cannot make certificates with the openssl program");
        return 1;
    }
    printf("anydtls %s demo: this program is the %s flavour\n", anydtls_version(),
           anydtls_backend_name());
    for (int i = 0; i < n; i++)
        printf("  %-8s %s\n", f[i].name, f[i].version);
    printf("\n  %-8s %-8s %-9s %-5s %-8s %-46s %9s  %s\n", "client", "server", "address",
           "creds", "protocol", "cipher", "handshake", "result");
    static const char *const hosts[] = {"127.0.0.1", "::1"};
    static struct run cells[2][2][MAX_FLAVOURS][MAX_FLAVOURS];
    int failures = 0;
    for (int h = 0; h < 2; h++)
        for (int psk = 0; psk < 2; psk++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    struct run *r = &cells[h][psk][i][j];
                    char text[64];
                    run_cell(&f[i], &f[j], dir, hosts[h], psk, r);
                    cell_text(r, text, sizeof text);
                    printf("  %-8s %-8s %-9s %-5s %-8s %-46s %6.2f ms  %s\n", f[i].name,
                           f[j].name, hosts[h], psk ? "psk" : "cert", r->protocol, r->cipher,
                           r->handshake_ms, r->status == 0 ? "ok: echoed, closed" : text);
                    failures += r->status != 0;
                }
    for (int h = 0; h < 2; h++)
        for (int psk = 0; psk < 2; psk++) {
            char title[64];
            snprintf(title, sizeof title, "%s, %s", hosts[h], psk ? "PSK" : "certificates");
            print_grid(f, n, cells[h][psk], title);
        }
    remove_pki(dir);
    printf("\ndemo: %s\n", failures == 0 ? "all runs passed" : "FAILED");
    return failures == 0 ? 0 : 1;
}
