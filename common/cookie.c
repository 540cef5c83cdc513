/*
 * Cookie keys and the stateless cookie exchange (RFC 6347, 4.2.1).
 *
 * cookie = HMAC-SHA256(key, peer || client_version || random ||
 *                           session_id || cipher_suites || compression)
 * where peer is the canonical 19-byte encoding of the address (family,
 * address, port) and the vectors are their contents without length bytes.
 * That is the construction wolfSSL checks itself, so one cookie serves every
 * backend.  Nothing here allocates or keeps per-peer state.
 */
#include "wire.h"

#include <netinet/in.h>
#include <string.h>
#include <time.h>

#define REC_HDR ANYDTLS_REC_HDR
#define HS_HDR ANYDTLS_HS_HDR
#define CT_HANDSHAKE 22
#define HT_HELLO_VERIFY_REQUEST 3

void anydtls_cookie_peer_bytes(const anydtls_addr *peer, uint8_t out[ANYDTLS_PEER_ENC_LEN])
{
    memset(out, 0, ANYDTLS_PEER_ENC_LEN);
    out[0] = peer->family == AF_INET6 ? 6 : 4;
    memcpy(out + 1, peer->addr, peer->family == AF_INET6 ? 16 : 4);
    out[17] = (uint8_t)(peer->port >> 8);
    out[18] = (uint8_t)peer->port;
}

static int compute_cookie(const uint8_t *key, size_t key_len, const uint8_t *peer_enc,
                          const struct anydtls_hello *ch, uint8_t out[ANYDTLS_COOKIE_LEN])
{
    const struct anydtls_iov iov[] = {
        {peer_enc, ANYDTLS_PEER_ENC_LEN}, {ch->version, 2}, {ch->random, 32}, ch->session_id,
        ch->suites, ch->compression,
    };
    return anydtls_backend_driver.hmac_sha256(key, key_len, iov, sizeof iov / sizeof iov[0],
                                              out);
}

static void put_uint(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

/* HelloVerifyRequest: record seq echoes the ClientHello's, message_seq 0,
 * version DTLS 1.0 in record and body (RFC 6347, 4.2.1). */
static size_t build_hvr(const struct anydtls_hello *ch, const uint8_t cookie[ANYDTLS_COOKIE_LEN],
                        uint8_t *out)
{
    const size_t body = 3 + ANYDTLS_COOKIE_LEN;
    uint8_t *p = out;
    p[0] = CT_HANDSHAKE;
    p[1] = 0xFE;
    p[2] = 0xFF;
    put_uint(p + 3, 0, 2);
    put_uint(p + 5, ch->record_seq, 6);
    put_uint(p + 11, HS_HDR + body, 2);
    p += REC_HDR;
    p[0] = HT_HELLO_VERIFY_REQUEST;
    put_uint(p + 1, body, 3);
    put_uint(p + 4, 0, 2);
    put_uint(p + 6, 0, 3);
    put_uint(p + 9, body, 3);
    p += HS_HDR;
    p[0] = 0xFE;
    p[1] = 0xFF;
    p[2] = ANYDTLS_COOKIE_LEN;
    memcpy(p + 3, cookie, ANYDTLS_COOKIE_LEN);
    return REC_HDR + HS_HDR + body;
}

int anydtls_cookie_keys_init(struct anydtls_cookie_keys *k, size_t len)
{
    memset(k, 0, sizeof *k);
    k->len = len;
    return anydtls_backend_driver.random(k->current, len);
}

void anydtls_cookie_keys_wipe(struct anydtls_cookie_keys *k)
{
    anydtls_wipe(k, sizeof *k);
}

/* The backend serves cookies and the configuration (with its keys) is built. */
static int cookie_ready(anydtls_config *cfg)
{
    if (!(anydtls_backend_driver.caps & ANYDTLS_CAP_COOKIE))
        return ANYDTLS_E_UNSUPPORTED;
    return anydtls_config_build(cfg); /* OK at once when built */
}

int anydtls_cookie_rotate(anydtls_config *cfg)
{
    if (cfg == NULL || cfg->role != ANYDTLS_SERVER)
        return ANYDTLS_E_INVALID_ARG;
    int ready = cookie_ready(cfg);
    if (ready != ANYDTLS_OK)
        return ready;
    uint8_t fresh[ANYDTLS_COOKIE_KEY_MAX];
    int rc = anydtls_backend_driver.random(fresh, cfg->cookie.len);
    if (rc == ANYDTLS_OK) {
        memcpy(cfg->cookie.previous, cfg->cookie.current, sizeof cfg->cookie.previous);
        memcpy(cfg->cookie.current, fresh, cfg->cookie.len);
        cfg->cookie.have_previous = true;
        cfg->cookie.generation++;
    }
    anydtls_wipe(fresh, sizeof fresh);
    return rc;
}

/* The time slot a cookie is minted in: the monotonic clock in periods of
 * the configuration's cookie lifetime.  Read on every check; nothing is
 * stored, so a built configuration stays read-only. */
static uint64_t current_slot(const anydtls_config *cfg)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms / ((uint64_t)cfg->cookie_lifetime_s * 1000u);
}

/* The cookie secret of one key in one time slot:
 * HMAC-SHA256(key, "anydtls cookie slot" || slot, 8 bytes big-endian). */
static int slot_secret(const uint8_t *key, size_t key_len, uint64_t slot,
                       uint8_t out[ANYDTLS_COOKIE_SECRET_LEN])
{
    static const uint8_t label[] = "anydtls cookie slot";
    uint8_t be[8];
    put_uint(be, slot, sizeof be);
    const struct anydtls_iov iov[] = {{label, sizeof label - 1}, {be, sizeof be}};
    return anydtls_backend_driver.hmac_sha256(key, key_len, iov, 2, out);
}

/* The cookie of one candidate (key, slot); its secret is kept in secret. */
static int candidate_cookie(const uint8_t *key, size_t key_len, uint64_t slot,
                            const uint8_t *peer_enc, const struct anydtls_hello *ch,
                            uint8_t secret[ANYDTLS_COOKIE_SECRET_LEN],
                            uint8_t out[ANYDTLS_COOKIE_LEN])
{
    int rc = slot_secret(key, key_len, slot, secret);
    return rc < 0 ? rc : compute_cookie(secret, ANYDTLS_COOKIE_SECRET_LEN, peer_enc, ch, out);
}

/* The four candidates: the current key in this slot (0) and the one
 * before (1), the previous key in this slot (2) and the one before (3). */
#define CANDIDATES 4

struct verdict {
    int ok;            /* 1: verified */
    uint8_t key_index; /* 0: current key, 1: previous */
    uint8_t secret[ANYDTLS_COOKIE_SECRET_LEN]; /* of the candidate that verified */
};

/* Verify against every candidate in constant time; returns 1 verified
 * (filling *v), 0 not verified, < 0 on a backend failure.  cur receives the
 * cookie of the current key in the current slot, for the HelloVerifyRequest
 * when the received one does not verify.  The cookie's length is public: a
 * cookie that is not 32 bytes long (the first ClientHello has none) is
 * refused without computing anything but that cookie. */
static int verify_cookie(const anydtls_config *cfg, const uint8_t *peer_enc,
                         const struct anydtls_hello *ch, struct verdict *v,
                         uint8_t cur[ANYDTLS_COOKIE_LEN])
{
    const struct anydtls_cookie_keys *k = &cfg->cookie;
    uint64_t slot = current_slot(cfg);
    uint8_t secrets[CANDIDATES][ANYDTLS_COOKIE_SECRET_LEN], mac[ANYDTLS_COOKIE_LEN];
    int hits[CANDIDATES] = {0};
    memset(v, 0, sizeof *v);
    int rc = candidate_cookie(k->current, k->len, slot, peer_enc, ch, secrets[0], cur);
    if (rc < 0 || ch->cookie.n != ANYDTLS_COOKIE_LEN)
        goto done;
    hits[0] = anydtls_ct_equal(cur, ch->cookie.p, ANYDTLS_COOKIE_LEN);
    for (int i = 1; i < CANDIDATES && rc >= 0; i++) {
        const uint8_t *key = i < 2 ? k->current : k->previous;
        rc = candidate_cookie(key, k->len, slot - (uint64_t)(i & 1), peer_enc, ch, secrets[i],
                              mac);
        hits[i] = anydtls_ct_equal(mac, ch->cookie.p, ANYDTLS_COOKIE_LEN);
    }
    /* No slot before the first one; a previous key only after a rotation. */
    hits[1] &= (int)(slot > 0);
    hits[2] &= (int)k->have_previous;
    hits[3] &= (int)k->have_previous & (int)(slot > 0);
    int ok = hits[0] | hits[1] | hits[2] | hits[3];
    /* The outcome, and which candidate verified, are the answer: public now. */
    anydtls_declassify(&ok, sizeof ok);
    anydtls_declassify(hits, sizeof hits);
    for (int i = 0; rc >= 0 && ok && i < CANDIDATES; i++) {
        if (hits[i]) {
            v->ok = 1;
            v->key_index = (uint8_t)(i >= 2);
            memcpy(v->secret, secrets[i], sizeof v->secret);
            break;
        }
    }
done:
    anydtls_wipe(secrets, sizeof secrets);
    anydtls_wipe(mac, sizeof mac);
    return rc < 0 ? rc : v->ok;
}

static void fill_prestate(anydtls_prestate *ps, const uint8_t *dgram, size_t len,
                          const anydtls_addr *peer, const struct anydtls_hello *ch,
                          uint8_t key_index, uint32_t generation)
{
    memset(ps, 0, sizeof *ps);
    ps->hello = dgram;
    ps->hello_len = len;
    ps->peer = *peer;
    ps->record_seq = ch->record_seq;
    ps->message_seq = ch->message_seq;
    ps->key_index = key_index;
    ps->key_generation = generation - key_index;
    memcpy(ps->cookie, ch->cookie.p, ANYDTLS_COOKIE_LEN);
}

int anydtls_cookie_check(anydtls_config *cfg, const uint8_t *dgram, size_t len,
                         const anydtls_addr *peer, uint8_t *reply, size_t reply_cap,
                         size_t *reply_len, anydtls_prestate *prestate)
{
    if (cfg == NULL || cfg->role != ANYDTLS_SERVER || dgram == NULL || peer == NULL ||
        (peer->family != AF_INET && peer->family != AF_INET6) || reply == NULL ||
        reply_cap < ANYDTLS_HVR_MAX || reply_len == NULL || prestate == NULL)
        return ANYDTLS_E_INVALID_ARG;
    int ready = cookie_ready(cfg);
    if (ready != ANYDTLS_OK)
        return ready;
    *reply_len = 0;
    struct anydtls_hello ch;
    if (anydtls_wire_hello(dgram, len, &ch) != 0)
        return ANYDTLS_E_BAD_RECORD;
    uint8_t peer_enc[ANYDTLS_PEER_ENC_LEN], cookie[ANYDTLS_COOKIE_LEN];
    struct verdict v;
    anydtls_cookie_peer_bytes(peer, peer_enc);
    int ok = verify_cookie(cfg, peer_enc, &ch, &v, cookie);
    anydtls_wipe(v.secret, sizeof v.secret);
    if (ok < 0)
        return ok;
    if (ok) {
        fill_prestate(prestate, dgram, len, peer, &ch, v.key_index, cfg->cookie.generation);
        return ANYDTLS_COOKIE_VERIFIED;
    }
    *reply_len = build_hvr(&ch, cookie, reply);
    return ANYDTLS_COOKIE_SEND_HVR;
}

int anydtls_cookie_reverify(const anydtls_config *cfg, const anydtls_prestate *ps,
                            uint8_t secret[ANYDTLS_COOKIE_SECRET_LEN])
{
    struct anydtls_hello ch;
    if (anydtls_wire_hello(ps->hello, ps->hello_len, &ch) != 0)
        return ANYDTLS_E_BAD_RECORD;
    if (ch.cookie.n != ANYDTLS_COOKIE_LEN || ch.record_seq != ps->record_seq ||
        ch.message_seq != ps->message_seq ||
        (ps->peer.family != AF_INET && ps->peer.family != AF_INET6))
        return ANYDTLS_E_INVALID_ARG;
    uint8_t peer_enc[ANYDTLS_PEER_ENC_LEN], cookie[ANYDTLS_COOKIE_LEN];
    struct verdict v;
    anydtls_cookie_peer_bytes(&ps->peer, peer_enc);
    int ok = verify_cookie(cfg, peer_enc, &ch, &v, cookie);
    /* The prestate's copy of the cookie is the one in its hello, and its
     * key generation names the key that verified it. */
    int same = anydtls_ct_equal(ps->cookie, ch.cookie.p, ANYDTLS_COOKIE_LEN);
    anydtls_declassify(&same, sizeof same);
    uint32_t generation = cfg->cookie.generation - v.key_index;
    int rc = ok < 0 ? ok : ANYDTLS_E_INVALID_ARG;
    if (ok == 1 && same && ps->key_generation == generation) {
        memcpy(secret, v.secret, sizeof v.secret);
        rc = ANYDTLS_OK;
    }
    anydtls_wipe(v.secret, sizeof v.secret);
    return rc;
}
