/* The DTLS wire reader shared by common code and drivers (wire.h). */
#include "wire.h"

#include <string.h>

#define CT_HANDSHAKE 22
#define HT_CLIENT_HELLO 1

int anydtls_take(struct anydtls_reader *r, size_t n, const uint8_t **out)
{
    if (r->left < n)
        return -1;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

int anydtls_take_uint(struct anydtls_reader *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (anydtls_take(r, n, &p) != 0)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = (*v << 8) | p[i];
    return 0;
}

int anydtls_take_vector(struct anydtls_reader *r, size_t n_len, size_t min, size_t max,
                        struct anydtls_iov *out)
{
    uint64_t len;
    if (anydtls_take_uint(r, n_len, &len) != 0 || len < min || len > max)
        return -1;
    out->n = (size_t)len;
    return anydtls_take(r, out->n, &out->p);
}

static int parse_record(struct anydtls_reader *r, struct anydtls_hello *h,
                        struct anydtls_reader *body)
{
    uint64_t type, version, epoch, len;
    if (anydtls_take_uint(r, 1, &type) != 0 || type != CT_HANDSHAKE ||
        anydtls_take_uint(r, 2, &version) != 0 || (version >> 8) != 0xFE ||
        anydtls_take_uint(r, 2, &epoch) != 0 || epoch != 0 ||
        anydtls_take_uint(r, 6, &h->record_seq) != 0 || anydtls_take_uint(r, 2, &len) != 0 ||
        len > r->left)
        return -1;
    /* A plaintext record carries at most 2^14 bytes (RFC 6347 4.1): the
     * libraries answer a longer one each in its own way, or not at all. */
    if (len > ANYDTLS_MAX_PLAINTEXT)
        return -1;
    body->p = r->p;
    body->left = (size_t)len;
    return 0;
}

static int parse_handshake(struct anydtls_reader *r, struct anydtls_hello *h,
                           struct anydtls_reader *msg)
{
    uint64_t type, len, seq, off, frag;
    if (anydtls_take_uint(r, 1, &type) != 0 || type != HT_CLIENT_HELLO ||
        anydtls_take_uint(r, 3, &len) != 0 || anydtls_take_uint(r, 2, &seq) != 0 ||
        anydtls_take_uint(r, 3, &off) != 0 || anydtls_take_uint(r, 3, &frag) != 0)
        return -1;
    /* Only an unfragmented ClientHello can be checked statelessly. */
    if (off != 0 || frag != len || len > r->left)
        return -1;
    h->message_seq = (uint16_t)seq;
    msg->p = r->p;
    msg->left = (size_t)len;
    return 0;
}

int anydtls_wire_hello(const uint8_t *dgram, size_t len, struct anydtls_hello *h)
{
    struct anydtls_reader rec = {dgram, len}, hs;
    memset(h, 0, sizeof *h);
    if (parse_record(&rec, h, &hs) != 0)
        return -1;
    uint64_t seq = h->record_seq;
    int rc = anydtls_wire_hello_msg(hs.p, hs.left, h);
    h->record_seq = seq;
    return rc;
}

int anydtls_wire_hello_msg(const uint8_t *p, size_t n, struct anydtls_hello *h)
{
    struct anydtls_reader hs = {p, n}, msg;
    memset(h, 0, sizeof *h);
    if (parse_handshake(&hs, h, &msg) != 0)
        return -1;
    if (anydtls_take(&msg, 2, &h->version) != 0 || h->version[0] != 0xFE ||
        anydtls_take(&msg, 32, &h->random) != 0 ||
        anydtls_take_vector(&msg, 1, 0, 32, &h->session_id) != 0 ||
        anydtls_take_vector(&msg, 1, 0, 255, &h->cookie) != 0 ||
        anydtls_take_vector(&msg, 2, 2, 65534, &h->suites) != 0 || (h->suites.n & 1) != 0 ||
        anydtls_take_vector(&msg, 1, 1, 255, &h->compression) != 0)
        return -1;
    if (msg.left == 0)
        return 0;
    /* The extensions block: a length that does not cover exactly the rest
     * of the message is kept as a bad block, for the hand-over rule
     * (anydtls_hello_refusal) to refuse. */
    uint64_t ext_len;
    if (anydtls_take_uint(&msg, 2, &ext_len) != 0)
        return -1;
    h->has_extensions = true;
    h->extensions_bad = ext_len != msg.left;
    h->extensions.p = msg.p;
    h->extensions.n = msg.left;
    return 0;
}

void anydtls_ext_begin(struct anydtls_ext_iter *it, struct anydtls_iov block)
{
    it->r.p = block.p;
    it->r.left = block.n;
    it->bad = false;
}

bool anydtls_ext_next(struct anydtls_ext_iter *it, uint16_t *type, struct anydtls_iov *body)
{
    uint64_t t;
    if (it->bad || it->r.left == 0)
        return false;
    if (anydtls_take_uint(&it->r, 2, &t) != 0 ||
        anydtls_take_vector(&it->r, 2, 0, 65535, body) != 0) {
        it->bad = true;
        return false;
    }
    *type = (uint16_t)t;
    return true;
}

bool anydtls_ext_find(struct anydtls_iov block, uint16_t type, struct anydtls_iov *body)
{
    struct anydtls_ext_iter it;
    uint16_t t;
    anydtls_ext_begin(&it, block);
    while (anydtls_ext_next(&it, &t, body))
        if (t == type)
            return true;
    return false;
}

bool anydtls_hello_offers_suite(const struct anydtls_hello *h, uint16_t code)
{
    for (size_t i = 0; i + 1 < h->suites.n; i += 2)
        if ((uint16_t)(h->suites.p[i] << 8 | h->suites.p[i + 1]) == code)
            return true;
    return false;
}
