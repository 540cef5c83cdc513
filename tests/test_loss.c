/*
 * Deterministic loss, duplication and reordering, as OpenSSL's dtlstest
 * does: for every datagram of a full handshake (certificates, with the
 * cookie exchange) drop exactly that one and prove the handshake still
 * completes; duplicate every datagram both ways; deliver ChangeCipherSpec
 * and Finished swapped; deliver application data before Finished.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* Timers long enough that a slow run (valgrind) does not retransmit on
 * its own: the datagrams counted are those of one clean handshake. */
static struct link make_link(void)
{
    struct link l;
    anydtls_config *c = client_cert_config("ca.pem", "localhost");
    anydtls_config *s = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_timeouts(c, 250, 8000));
    CHECK(anydtls_config_set_timeouts(s, 250, 8000));
    link_init(&l, c, s, true);
    return l;
}

static void done(struct link *l)
{
    link_free(l);
    anydtls_config_free(l->ccfg);
    anydtls_config_free(l->scfg);
}

/* ---- counting, then dropping each datagram in turn ---- */

static enum fate deliver_all(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)user, (void)dir, (void)n, (void)d, (void)len;
    return DELIVER;
}

struct drop {
    int dir, index;
};

static enum fate drop_one(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)d, (void)len;
    const struct drop *dr = user;
    return dir == dr->dir && n == dr->index ? DROP : DELIVER;
}

static void count_flights(int counts[2])
{
    struct link l = make_link();
    l.filter = deliver_all;
    link_handshake(&l);
    counts[0] = l.count[0];
    counts[1] = l.count[1];
    done(&l);
}

static void test_drop_each(const int counts[2])
{
    for (int dir = 0; dir < 2; dir++) {
        int completed = 0, carried = 0;
        for (int i = 0; i < counts[dir]; i++) {
            struct drop dr = {dir, i};
            struct link l = make_link();
            l.filter = drop_one;
            l.filter_user = &dr;
            bool okay = link_handshake(&l);
            completed += okay;
            l.filter = NULL; /* the index may fall on application data in a run
                              * with fewer retransmissions: that is not the test */
            bool flows = okay && link_transfer(&l, true, "after a lost datagram");
            carried += flows;
            if (okay && !flows)
                tap_diag("dropping %s datagram %d: no data afterwards (%s / %s)",
                         dir ? "server" : "client", i, anydtls_error_detail(l.c),
                         anydtls_error_detail(l.s));
            if (!okay)
                tap_diag("dropping %s datagram %d: client %s, server %s",
                         dir ? "server" : "client", i, code_name(l.crc), code_name(l.src));
            done(&l);
        }
        is(completed, counts[dir], "each of the %d %s datagrams dropped in turn: handshake completes",
           counts[dir], dir ? "server" : "client");
        is(carried, counts[dir], "and data flows afterwards");
    }
}

/* ---- duplicating every datagram ---- */

static enum fate duplicate_all(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)user, (void)dir, (void)n, (void)d, (void)len;
    return DUPLICATE;
}

static void test_duplicate_all(void)
{
    struct link l = make_link();
    l.filter = duplicate_all;
    ok(link_handshake(&l), "every datagram duplicated both ways: handshake completes");
    ok(link_transfer(&l, true, "once"), "a duplicated record is read once");
    uint8_t buf[64];
    is(anydtls_read(l.s, buf, sizeof buf), ANYDTLS_E_WANT_READ, "its duplicate is dropped");
    ok(link_transfer(&l, false, "and back"), "data flows the other way too");
    done(&l);
}

/* ---- ChangeCipherSpec and Finished swapped ---- */

struct swap {
    bool done[2];
    int swapped;
};

/* The first datagram of a direction that carries a ChangeCipherSpec: when
 * the Finished (epoch 1) follows in the same datagram, swap the two records
 * in place; otherwise hold the datagram until the next one has passed. */
static enum fate swap_ccs_finished(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    struct swap *sw = user;
    size_t at = 0;
    while (at + 13 <= len && d[at] != 20)
        at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]);
    if (sw->done[dir] || at + 13 > len)
        return DELIVER;
    sw->done[dir] = true;
    sw->swapped++;
    size_t ccs_len = 13 + (((size_t)d[at + 11] << 8) | d[at + 12]);
    if (at + ccs_len + 13 > len)
        return HOLD; /* the Finished comes in the next datagram */
    size_t fin_len = 13 + (((size_t)d[at + ccs_len + 11] << 8) | d[at + ccs_len + 12]);
    uint8_t tmp[4096];
    if (at + ccs_len + fin_len > len || ccs_len + fin_len > sizeof tmp)
        return DELIVER;
    memcpy(tmp, d + at + ccs_len, fin_len);
    memcpy(tmp + fin_len, d + at, ccs_len);
    memcpy(d + at, tmp, ccs_len + fin_len);
    return DELIVER;
}

static void test_swap(void)
{
    struct swap sw = {{false, false}, 0};
    struct link l = make_link();
    l.filter = swap_ccs_finished;
    l.filter_user = &sw;
    if (!ok(link_handshake(&l), "ChangeCipherSpec and Finished swapped both ways: handshake completes"))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), anydtls_error_detail(l.s));
    is(sw.swapped, 2, "both flights carried a ChangeCipherSpec to swap");
    ok(link_transfer(&l, true, "after the swap"), "data flows");
    done(&l);
}

/* ---- application data before Finished ---- */

static enum fate hold_server_finished(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    bool *held = user;
    /* the server's first datagram with an epoch-1 handshake record */
    for (size_t at = 0; at + 13 <= len; at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]))
        if (!*held && dir == 1 && d[at] == 22 && (d[at + 3] | d[at + 4]) != 0) {
            *held = true;
            return HOLD;
        }
    return DELIVER;
}

static void write_early(struct link *l)
{
    anydtls_write(l->s, (const uint8_t *)"early", 5);
}

static void test_data_before_finished(void)
{
    bool held = false;
    struct link l = make_link();
    l.filter = hold_server_finished;
    l.filter_user = &held;
    l.on_server_established = write_early;
    ok(link_handshake(&l), "application data delivered before Finished: handshake completes");
    ok(held, "the server's Finished was held back behind the data");
    uint8_t buf[64];
    int n = anydtls_read(l.c, buf, sizeof buf);
    ok(n == ANYDTLS_E_WANT_READ || (n == 5 && memcmp(buf, "early", 5) == 0),
       "the early record arrives intact or not at all (%s)", n == 5 ? "arrived" : code_name(n));
    ok(link_transfer(&l, false, "afterwards"), "the session carries data afterwards");
    ok(link_transfer(&l, true, "both ways"), "in both directions");
    done(&l);
}

int main(void)
{
    int counts[2];
    count_flights(counts);
    tap_plan(4 + 4 + 3 + 5 + 1);
    ok(counts[0] >= 3 && counts[1] >= 2, "a full handshake with cookie: %d client and %d server datagrams",
       counts[0], counts[1]);
    test_drop_each(counts);
    test_duplicate_all();
    test_swap();
    test_data_before_finished();
    return tap_done();
}
