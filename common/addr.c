/* Peer addresses: one zero-initialised type for IPv4 and IPv6. */
#include "internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int anydtls_addr_from_sockaddr(anydtls_addr *out, const struct sockaddr *sa, socklen_t len)
{
    if (out == NULL || sa == NULL || len < (socklen_t)sizeof(sa_family_t))
        return ANYDTLS_E_INVALID_ARG;
    anydtls_addr a;
    memset(&a, 0, sizeof a);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        a.family = AF_INET;
        a.port = ntohs(in.sin_port);
        memcpy(a.addr, &in.sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        a.family = AF_INET6;
        a.port = ntohs(in6.sin6_port);
        a.scope_id = in6.sin6_scope_id;
        memcpy(a.addr, &in6.sin6_addr, 16);
    } else {
        return ANYDTLS_E_INVALID_ARG;
    }
    *out = a;
    return ANYDTLS_OK;
}

int anydtls_addr_to_sockaddr(const anydtls_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    if (a == NULL || ss == NULL || len == NULL)
        return ANYDTLS_E_INVALID_ARG;
    if (a->family == AF_INET) {
        struct sockaddr_in in;
        memset(&in, 0, sizeof in);
        in.sin_family = AF_INET;
        in.sin_port = htons(a->port);
        memcpy(&in.sin_addr, a->addr, 4);
        memset(ss, 0, sizeof *ss);
        memcpy(ss, &in, sizeof in);
        *len = sizeof in;
    } else if (a->family == AF_INET6) {
        struct sockaddr_in6 in6;
        memset(&in6, 0, sizeof in6);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(a->port);
        in6.sin6_scope_id = a->scope_id;
        memcpy(&in6.sin6_addr, a->addr, 16);
        memset(ss, 0, sizeof *ss);
        memcpy(ss, &in6, sizeof in6);
        *len = sizeof in6;
    } else {
        return ANYDTLS_E_INVALID_ARG;
    }
    return ANYDTLS_OK;
}

int anydtls_addr_from_string(anydtls_addr *out, const char *host, uint16_t port)
{
    if (out == NULL || host == NULL)
        return ANYDTLS_E_INVALID_ARG;
    anydtls_addr a;
    memset(&a, 0, sizeof a);
    a.port = port;
    if (inet_pton(AF_INET, host, a.addr) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, host, a.addr) == 1)
        a.family = AF_INET6;
    else
        return ANYDTLS_E_INVALID_ARG;
    *out = a;
    return ANYDTLS_OK;
}

int anydtls_addr_format(const anydtls_addr *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (a == NULL || buf == NULL || cap == 0)
        return ANYDTLS_E_INVALID_ARG;
    if ((a->family != AF_INET && a->family != AF_INET6) ||
        inet_ntop(a->family, a->addr, host, sizeof host) == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int n = snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
                     (unsigned)a->port);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0'; /* never a truncated address that looks whole */
        return ANYDTLS_E_MSG_TOO_BIG;
    }
    return n;
}
