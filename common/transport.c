/* Transports: a callback pair, a connected UDP socket, and a memory queue. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int anydtls_transport_send(anydtls_transport *t, const uint8_t *buf, size_t len)
{
    return t->ops->send(t, buf, len);
}

int anydtls_transport_recv(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    return t->ops->recv(t, buf, cap);
}

int anydtls_transport_ready(anydtls_transport *t, unsigned ms)
{
    return t->ops->ready(t, ms);
}

static int always_ready(anydtls_transport *t, unsigned ms)
{
    (void)t;
    (void)ms;
    return 1;
}

int anydtls_transport_errno(const anydtls_transport *t)
{
    return t != NULL ? t->last_errno : 0;
}

void anydtls_transport_free(anydtls_transport *t)
{
    if (t != NULL)
        t->ops->destroy(t);
}

static void plain_destroy(anydtls_transport *t)
{
    free(t);
}

/* ---- callbacks ---- */
struct cb_transport {
    anydtls_transport base;
    anydtls_send_fn send;
    anydtls_recv_fn recv;
    void *user;
};

static int cb_send(anydtls_transport *t, const uint8_t *buf, size_t len)
{
    struct cb_transport *c = (struct cb_transport *)t;
    return c->send(c->user, buf, len);
}

static int cb_recv(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    struct cb_transport *c = (struct cb_transport *)t;
    return c->recv(c->user, buf, cap);
}

static const struct anydtls_transport_ops cb_ops = {cb_send, cb_recv, always_ready, plain_destroy};

int anydtls_transport_new_callbacks(anydtls_transport **out, anydtls_send_fn send,
                                    anydtls_recv_fn recv, void *user)
{
    if (out == NULL || send == NULL || recv == NULL)
        return ANYDTLS_E_INVALID_ARG;
    struct cb_transport *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ANYDTLS_E_NOMEM;
    c->base.ops = &cb_ops;
    c->send = send;
    c->recv = recv;
    c->user = user;
    *out = &c->base;
    return ANYDTLS_OK;
}

/* ---- connected UDP socket ---- */
struct udp_transport {
    anydtls_transport base;
    int fd;
};

static int would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* An error a connected UDP socket reports for an ICMP message about an
 * earlier datagram: anyone on the path can forge one, so it never ends a
 * session; the datagram it concerns is lost, as on the wire. */
static int icmp_error(int e)
{
    return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN;
}

/* One rule for both directions: an ICMP error is transient. */
static int udp_send(anydtls_transport *t, const uint8_t *buf, size_t len)
{
    struct udp_transport *u = (struct udp_transport *)t;
    ssize_t n = send(u->fd, buf, len, 0);
    /* Reporting the pending error cleared it and sent nothing: send again
     * once; if that fails the same way the datagram counts as lost (DTLS
     * retransmits it). */
    if (n < 0 && icmp_error(errno)) {
        t->last_errno = errno;
        n = send(u->fd, buf, len, 0);
        if (n < 0 && icmp_error(errno))
            return (int)len;
    }
    if (n < 0) {
        if (would_block(errno))
            return ANYDTLS_E_WANT_WRITE;
        t->last_errno = errno;
        return ANYDTLS_E_IO;
    }
    if ((size_t)n != len) {
        t->last_errno = EMSGSIZE;
        return ANYDTLS_E_IO;
    }
    return (int)n;
}

static int udp_recv(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    struct udp_transport *u = (struct udp_transport *)t;
    ssize_t n = recv(u->fd, buf, cap, 0);
    if (n < 0) {
        if (would_block(errno))
            return ANYDTLS_E_WANT_READ;
        /* An ICMP error from an earlier send on a connected socket: the
         * datagram is lost, as on the wire; report it, keep the session. */
        t->last_errno = errno;
        return icmp_error(errno) ? ANYDTLS_E_WANT_READ : ANYDTLS_E_IO;
    }
    return (int)n;
}

static int udp_ready(anydtls_transport *t, unsigned ms)
{
    struct udp_transport *u = (struct udp_transport *)t;
    struct pollfd pfd = {u->fd, POLLIN, 0};
    return poll(&pfd, 1, ms > INT32_MAX ? -1 : (int)ms) != 0; /* errors: let recv tell */
}

static const struct anydtls_transport_ops udp_ops = {udp_send, udp_recv, udp_ready, plain_destroy};

int anydtls_transport_new_udp(anydtls_transport **out, int fd)
{
    if (out == NULL || fd < 0)
        return ANYDTLS_E_INVALID_ARG;
    struct udp_transport *u = calloc(1, sizeof *u);
    if (u == NULL)
        return ANYDTLS_E_NOMEM;
    u->base.ops = &udp_ops;
    u->fd = fd;
    *out = &u->base;
    return ANYDTLS_OK;
}

/* ---- memory queue ----
 * Each direction is one byte buffer of datagrams, each stored as a 2-byte
 * length and its bytes; allocated once so the data path never allocates. */
struct queue {
    uint8_t *buf;
    size_t cap, head, tail; /* used bytes are buf[head..tail) */
};

struct mem_transport {
    anydtls_transport base;
    struct queue in, out; /* in: pushed by the application; out: sent */
    struct mem_transport *peer; /* joined: what we send goes to its in */
};

static int queue_put(struct queue *q, const uint8_t *d, size_t len)
{
    if (q->head == q->tail)
        q->head = q->tail = 0;
    if (q->cap - q->tail < len + 2 && q->head > 0) {
        memmove(q->buf, q->buf + q->head, q->tail - q->head);
        q->tail -= q->head;
        q->head = 0;
    }
    if (q->cap - q->tail < len + 2)
        return ANYDTLS_E_WANT_WRITE;
    q->buf[q->tail] = (uint8_t)(len >> 8);
    q->buf[q->tail + 1] = (uint8_t)len;
    memcpy(q->buf + q->tail + 2, d, len);
    q->tail += len + 2;
    return (int)len;
}

/* truncate: copy at most cap bytes and drop the rest (socket semantics);
 * otherwise a short buffer leaves the datagram queued. */
static int queue_get(struct queue *q, uint8_t *d, size_t cap, int truncate)
{
    if (q->head == q->tail)
        return ANYDTLS_E_WANT_READ;
    size_t len = ((size_t)q->buf[q->head] << 8) | q->buf[q->head + 1];
    if (len > cap && !truncate)
        return ANYDTLS_E_MSG_TOO_BIG;
    size_t n = len < cap ? len : cap;
    memcpy(d, q->buf + q->head + 2, n);
    q->head += len + 2;
    return (int)n;
}

static int mem_send(anydtls_transport *t, const uint8_t *buf, size_t len)
{
    struct mem_transport *m = (struct mem_transport *)t;
    if (len == 0 || len > 0xFFFF)
        return ANYDTLS_E_IO;
    return queue_put(m->peer != NULL ? &m->peer->in : &m->out, buf, len);
}

static int mem_recv(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    struct mem_transport *m = (struct mem_transport *)t;
    return queue_get(&m->in, buf, cap, 1);
}

static void mem_destroy(anydtls_transport *t)
{
    struct mem_transport *m = (struct mem_transport *)t;
    if (m->peer != NULL)
        m->peer->peer = NULL;
    anydtls_wipe(m->in.buf, m->in.cap);
    anydtls_wipe(m->out.buf, m->out.cap);
    free(m->in.buf);
    free(m->out.buf);
    free(m);
}

static int mem_ready(anydtls_transport *t, unsigned ms)
{
    struct mem_transport *m = (struct mem_transport *)t;
    (void)ms; /* nothing arrives while we wait: the application pushes */
    return m->in.head != m->in.tail;
}

static const struct anydtls_transport_ops mem_ops = {mem_send, mem_recv, mem_ready, mem_destroy};

int anydtls_transport_new_memory(anydtls_transport **out, size_t capacity)
{
    if (out == NULL || (capacity != 0 && capacity < 2 + 0xFFFF) || capacity > (64u << 20))
        return ANYDTLS_E_INVALID_ARG;
    if (capacity == 0)
        capacity = 2 * (2 + 0xFFFF);
    struct mem_transport *m = calloc(1, sizeof *m);
    if (m == NULL)
        return ANYDTLS_E_NOMEM;
    m->base.ops = &mem_ops;
    m->in.cap = m->out.cap = capacity;
    m->in.buf = malloc(capacity);
    m->out.buf = malloc(capacity);
    if (m->in.buf == NULL || m->out.buf == NULL) {
        mem_destroy(&m->base);
        return ANYDTLS_E_NOMEM;
    }
    *out = &m->base;
    return ANYDTLS_OK;
}

int anydtls_transport_new_memory_pair(anydtls_transport **a, anydtls_transport **b,
                                      size_t capacity)
{
    if (a == NULL || b == NULL || a == b)
        return ANYDTLS_E_INVALID_ARG;
    anydtls_transport *x = NULL, *y = NULL;
    int rc = anydtls_transport_new_memory(&x, capacity);
    if (rc == ANYDTLS_OK)
        rc = anydtls_transport_new_memory(&y, capacity);
    if (rc != ANYDTLS_OK) {
        anydtls_transport_free(x);
        return rc;
    }
    ((struct mem_transport *)x)->peer = (struct mem_transport *)y;
    ((struct mem_transport *)y)->peer = (struct mem_transport *)x;
    *a = x;
    *b = y;
    return ANYDTLS_OK;
}

static struct mem_transport *as_memory(anydtls_transport *t)
{
    return t != NULL && t->ops == &mem_ops ? (struct mem_transport *)t : NULL;
}

int anydtls_memory_push(anydtls_transport *t, const uint8_t *dgram, size_t len)
{
    struct mem_transport *m = as_memory(t);
    if (m == NULL || dgram == NULL || len == 0 || len > 0xFFFF)
        return ANYDTLS_E_INVALID_ARG;
    return queue_put(&m->in, dgram, len);
}

int anydtls_memory_pop(anydtls_transport *t, uint8_t *buf, size_t cap)
{
    struct mem_transport *m = as_memory(t);
    if (m == NULL || buf == NULL)
        return ANYDTLS_E_INVALID_ARG;
    return queue_get(&m->out, buf, cap, 0);
}
