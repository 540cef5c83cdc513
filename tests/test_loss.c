/*
 * Loss, duplication, reordering and corruption, on the virtual clock (no
 * test sleeps, and a loaded machine cannot make a timer fire early).
 *
 * Deterministic, as OpenSSL's dtlstest does: for every datagram of a full
 * handshake (certificates, with the cookie exchange) drop exactly that one
 * and prove the handshake still completes; duplicate every datagram both
 * ways; send the first half of every datagram ahead of it (full and
 * resumed handshakes); deliver ChangeCipherSpec and Finished swapped; deliver application
 * data before Finished; land the server's Finished just after the client
 * found nothing to read.
 *
 * Seeded: 200 runs of a link that drops 30 % of the datagrams, duplicates
 * 20 %, delays each so that they overtake one another, and (once the
 * handshake is done) corrupts some: every handshake completes within the
 * configured retransmission budget, every application message arrives at
 * most once and intact or not at all, and no corrupted record surfaces as
 * data.  ANYDTLS_SEEDS=N changes the number of runs; ANYDTLS_SEED=N runs
 * that one seed alone (the diagnostics name the seeds that fail).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Retransmission timers: the datagrams counted are those of one clean
 * handshake; no time passes while the libraries compute. */
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

/* The resumption runs share a pair of configurations (the server's ticket
 * key lives in its configuration) and the session a first full handshake
 * saved. */
static struct {
    anydtls_config *c, *s;
    uint8_t data[ANYDTLS_SESSION_DATA_MAX];
    int len;
} resumption;

static bool setup_resumption(void)
{
    resumption.c = client_cert_config("ca.pem", "localhost");
    resumption.s = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_timeouts(resumption.c, 250, 8000));
    CHECK(anydtls_config_set_timeouts(resumption.s, 250, 8000));
    CHECK(anydtls_config_set_resumption(resumption.c, 1));
    CHECK(anydtls_config_set_resumption(resumption.s, 1));
    struct link l;
    link_init(&l, resumption.c, resumption.s, true);
    resumption.len = link_handshake(&l) ? anydtls_session_save(l.c, resumption.data,
                                                               sizeof resumption.data)
                                        : l.crc;
    link_free(&l);
    return resumption.len > 0;
}

/* A link for a full handshake, or for one resuming the saved session. */
static struct link make_link_for(bool resume)
{
    if (!resume)
        return make_link();
    struct link l;
    link_init(&l, resumption.c, resumption.s, true);
    CHECK(anydtls_session_resume(l.c, resumption.data, (size_t)resumption.len));
    return l;
}

static void done(struct link *l)
{
    link_free(l);
    if (l->ccfg == resumption.c)
        return;
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

static void count_flights(int counts[2], bool resume)
{
    struct link l = make_link_for(resume);
    l.filter = deliver_all;
    link_handshake(&l);
    counts[0] = l.count[0];
    counts[1] = l.count[1];
    done(&l);
}

static void test_drop_each(const int counts[2], bool resume)
{
    const char *what = resume ? "resumed" : "full";
    for (int dir = 0; dir < 2; dir++) {
        int completed = 0, carried = 0, resumed = 0;
        for (int i = 0; i < counts[dir]; i++) {
            struct drop dr = {dir, i};
            struct link l = make_link_for(resume);
            l.filter = drop_one;
            l.filter_user = &dr;
            bool okay = link_handshake(&l);
            completed += okay;
            resumed += okay && anydtls_session_resumed(l.c) && anydtls_session_resumed(l.s);
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
        is(completed, counts[dir],
           "%s handshake: each of the %d %s datagrams dropped in turn: handshake completes", what,
           counts[dir], dir ? "server" : "client");
        is(carried, counts[dir], "%s handshake: and data flows afterwards", what);
        if (resume)
            is(resumed, counts[dir], "resumed handshake: and both sides resumed");
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

/* ---- a truncated copy in front of every datagram ---- */

static enum fate prepend_cut_all(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)user, (void)dir, (void)n, (void)d, (void)len;
    return PREPEND_CUT;
}

/* An on-path party that sends the first half of each datagram ahead of
 * it: the whole records of the copy arrive first, the cut one is dropped,
 * and the original then starts with records already read.  wolfSSL drops
 * the rest of a read after a replayed record: its peer only ever got the
 * first records of each flight, and both retransmitted for ever. */
static void test_prepend_cut(bool resume)
{
    const char *what = resume ? "resumed" : "full";
    struct link l = make_link_for(resume);
    l.filter = prepend_cut_all;
    if (!ok(link_handshake(&l), "%s handshake, a truncated copy in front of every datagram both "
                                "ways: handshake completes", what))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
    ok(link_transfer(&l, true, "after truncated copies") &&
           link_transfer(&l, false, "and back after truncated copies"),
       "%s handshake: data flows both ways, each datagram still preceded by its truncated copy",
       what);
    done(&l);
}

/* The saved session offered to a server with another ticket key, which
 * declines it, a truncated copy in front of every datagram: wolfSSL 5.5's
 * server declines with an empty session id, as OpenSSL's does, so only
 * the messages after the ServerHello tell, and the cut copy of the
 * server's flight carries the ServerHello alone.  A wolfSSL client took
 * that as accepting its ticket and failed ("out of order message"). */
/* The first server datagram that starts with a ServerHello: the record
 * after it, if any (GnuTLS sends the ServerHello alone), made an unknown
 * content type, so that the ServerHello arrives alone (the record rule
 * cuts the rest) and the rest of that datagram is lost; the server's
 * retransmission then brings it whole. */
static enum fate lone_server_hello(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    bool *seen = user;
    if (*seen || dir != 1 || len < 14 || d[0] != 22 || d[13] != 2)
        return DELIVER;
    *seen = true;
    size_t at = 13 + (((size_t)d[11] << 8) | d[12]);
    if (at + 13 <= len)
        d[at] = 99;
    return DELIVER;
}

static void test_prepend_cut_declined(bool lone)
{
    anydtls_config *other = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_timeouts(other, 250, 8000));
    CHECK(anydtls_config_set_resumption(other, 1));
    struct link l;
    link_init(&l, resumption.c, other, true);
    CHECK(anydtls_session_resume(l.c, resumption.data, (size_t)resumption.len));
    bool seen = false;
    l.filter = lone ? lone_server_hello : prepend_cut_all;
    l.filter_user = &seen;
    const char *what = lone ? "its ServerHello alone, the rest of the flight lost"
                            : "a truncated copy in front of every datagram";
    bool done = link_handshake(&l);
    if (!ok(done && !anydtls_session_resumed(l.c) && (seen || !lone),
            "a ticket the server declines, %s: a full handshake completes", what))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
    ok(done && link_transfer(&l, true, "declined") && link_transfer(&l, false, "and back"),
       "declined ticket, %s: data flows both ways", what);
    link_free(&l);
    anydtls_config_free(other);
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
    double start = now_ms();
    bool okay = link_handshake(&l);
    double took = now_ms() - start;
    if (!ok(okay, "ChangeCipherSpec and Finished swapped both ways: handshake completes"))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), anydtls_error_detail(l.s));
    is(sw.swapped, 2, "both flights carried a ChangeCipherSpec to swap");
    /* GnuTLS 3.7.9 drops a Finished that comes before its ChangeCipherSpec
     * (it reads only the current epoch): its handshake needed several
     * retransmissions (1.5 s).  OpenSSL and wolfSSL retransmit once. */
    ok(okay && took < 250 + 250, "and it takes at most one retransmission: %.0f ms", took);
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

/* ---- the server's Finished lands just after the client found nothing ---- */

/* The server's first datagram with an epoch-1 handshake record. */
static enum fate late_server_finished(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    bool *late = user;
    for (size_t at = 0; at + 13 <= len; at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]))
        if (!*late && dir == 1 && d[at] == 22 && (d[at + 3] | d[at + 4]) != 0) {
            *late = true;
            return LATE;
        }
    return DELIVER;
}

/* The server's Finished arrives between two looks of the client: one finds
 * nothing, the next finds it (through tests/cut-relay, a runt read and
 * dropped just before it did that).  A GnuTLS 3.7.9 client took it into
 * its handshake buffer while deciding whether to retransmit, then never
 * read it and never retransmitted: the handshake hung with the server
 * done. */
static void test_late_finished(void)
{
    bool late = false;
    struct link l = make_link();
    l.filter = late_server_finished;
    l.filter_user = &late;
    /* Only the callbacks link can land a datagram between two reads; the
     * memory and UDP links deliver it at once. */
    bool done_ok = link_handshake(&l) && late;
    if (!ok(done_ok && (l.kind != LINK_CALLBACKS || link_late_landed(&l, 0) == 1),
            "the server's Finished lands%s: handshake completes",
            l.kind == LINK_CALLBACKS ? " right after a read of the client that found nothing"
                                     : " late"))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
    ok(link_transfer(&l, true, "after the late Finished"), "data flows");
    done(&l);
}

/* ---- the server's last flight lost ---- */

static bool has_record(const uint8_t *d, size_t len, int type, bool sealed)
{
    for (size_t at = 0; at + 13 <= len; at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]))
        if (d[at] == type && ((d[at + 3] | d[at + 4]) != 0) == sealed)
            return true;
    return false;
}

/* The first transmission of the server's last flight (ChangeCipherSpec
 * and Finished, in one datagram or two) is lost; with forge set, a
 * plaintext Certificate fragment with message_seq 40, far ahead of any
 * message of the handshake, arrives in place of its Finished.  The
 * client's Finished flight: when it was sent, and its retransmissions. */
struct last_flight {
    bool forge;
    int state;          /* 0: before the server's flight, 1: dropping it, 2: done */
    uint8_t ccs_seq[6]; /* the lost ChangeCipherSpec's record sequence number */
    double client_sent, first_again;
    int client_again;
};

/* Its record sequence number is 32 past the lost ChangeCipherSpec's: new
 * to the client, and the server's retransmission stays inside the
 * client's replay window (wolfSSL sends it under the same numbers, OpenSSL
 * and GnuTLS under the next ones). */
static void forge_far_fragment(uint8_t *d, size_t len, const uint8_t ccs_seq[6])
{
    size_t body = len - 13, frag = body - 12;
    uint64_t seq = 0;
    for (int i = 0; i < 6; i++)
        seq = seq << 8 | ccs_seq[i];
    seq += 32;
    memset(d, 0, len);
    d[0] = 22;
    d[1] = 0xFE;
    d[2] = 0xFD;
    for (int i = 0; i < 6; i++) /* epoch 0 */
        d[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    d[11] = (uint8_t)(body >> 8);
    d[12] = (uint8_t)body;
    d[13] = 11; /* Certificate */
    d[14 + 1] = (uint8_t)(frag >> 8);
    d[14 + 2] = (uint8_t)frag;
    d[17] = 0;
    d[18] = 40; /* message_seq */
    d[23] = (uint8_t)(frag >> 8);
    d[24] = (uint8_t)frag;
}

static enum fate lose_last_flight(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)n;
    struct last_flight *lf = user;
    if (dir == 0 && has_record(d, len, 22, true)) {
        if (lf->client_sent < 0)
            lf->client_sent = now_ms();
        else if (lf->client_again++ == 0)
            lf->first_again = now_ms();
        return DELIVER;
    }
    if (dir != 1 || lf->state == 2)
        return DELIVER;
    for (size_t at = 0; lf->state == 0 && at + 13 <= len;
         at += 13 + (((size_t)d[at + 11] << 8) | d[at + 12]))
        if (d[at] == 20) {
            memcpy(lf->ccs_seq, d + at + 5, 6);
            lf->state = 1;
        }
    if (lf->state == 0 || !has_record(d, len, 22, true))
        return lf->state == 1 ? DROP : DELIVER;
    lf->state = 2;
    if (!lf->forge || len < 13 + 12 + 1)
        return DROP;
    forge_far_fragment(d, len, lf->ccs_seq);
    return DELIVER;
}

static struct link lose_last_flight_run(struct last_flight *lf, bool forge)
{
    *lf = (struct last_flight){.forge = forge, .client_sent = -1, .first_again = -1};
    struct link l = make_link();
    l.filter = lose_last_flight;
    l.filter_user = lf;
    bool okay = link_handshake(&l);
    if (!okay)
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
    return l;
}

/* A datagram stashed ahead of the run is no datagram for GnuTLS: a GnuTLS
 * 3.7.9 client told "data available" because one was stashed read
 * nothing it could use and never retransmitted its flight, so the
 * server never learnt that its Finished was lost. */
static void test_far_fragment_instead_of_finished(void)
{
    struct last_flight lf;
    struct link l = lose_last_flight_run(&lf, true);
    bool okay = l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK;
    ok(okay && lf.state == 2, "the server's last flight lost, a far-ahead Certificate fragment "
                              "in its place: handshake completes");
    double after = lf.first_again - lf.client_sent;
    if (!ok(lf.client_again > 0 && after >= 250 && after < 250 + 50,
            "the client retransmits its flight at its first timeout (250 ms): after %.0f ms",
            lf.client_again > 0 ? after : -1))
        tap_diag("client retransmissions: %d", lf.client_again);
    done(&l);
}

/* An established GnuTLS 3.7.9 server reading application data dropped
 * one record per read: a client's retransmitted flight (its epoch-0
 * records first) was never read as far as the Finished that makes
 * GnuTLS send its own flight again, until the next retransmission. */
static void test_established_answers_retransmission(void)
{
    struct last_flight lf;
    struct link l = lose_last_flight_run(&lf, false);
    double took = now_ms() - lf.client_sent;
    ok(l.crc == ANYDTLS_OK && l.src == ANYDTLS_OK && lf.state == 2,
       "the server's last flight lost: handshake completes");
    if (!ok(lf.client_again == 1 && took < 250 + 500,
            "the established server answers the client's first retransmission: one, "
            "done %.0f ms after the client's flight", took))
        tap_diag("client retransmissions: %d", lf.client_again);
    done(&l);
}

/* ---- the ServerHello lost, the rest of its flight arriving ---- */

struct lone_loss {
    int hellos_lost;
    struct last_flight last;
};

/* The server's first three datagrams that start with a ServerHello are
 * lost (GnuTLS sends it alone: the rest of its flight arrives ahead of
 * it), and then the first transmission of its last flight. */
static enum fate lose_hello_then_finished(void *user, int dir, int n, uint8_t *d, size_t len)
{
    struct lone_loss *ll = user;
    if (dir == 1 && len >= 14 && d[0] == 22 && (d[3] | d[4]) == 0 && d[13] == 2 &&
        ll->hellos_lost < 3) {
        ll->hellos_lost++;
        return DROP;
    }
    return lose_last_flight(&ll->last, dir, n, d, len);
}

/* Timers of 250 ms to 2 s: four retransmissions a flight.  The ServerHello
 * arrives after three; the rest of its flight, there from the start,
 * waited in the GnuTLS driver's stash.  Its arrival had restarted the
 * client's budget and the ServerHello that fills the gap did not: the
 * budget spent on the ServerHello was gone when the server's Finished was
 * lost, and the client gave up at its next timeout. */
static void test_hello_lost_rest_ahead(void)
{
    struct lone_loss ll = {0, {.client_sent = -1, .first_again = -1}};
    struct link l;
    anydtls_config *c = client_cert_config("ca.pem", "localhost");
    anydtls_config *s = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_timeouts(c, 250, 2000));
    CHECK(anydtls_config_set_timeouts(s, 250, 2000));
    link_init(&l, c, s, true);
    l.filter = lose_hello_then_finished;
    l.filter_user = &ll;
    if (!ok(link_handshake(&l) && ll.hellos_lost == 3 && ll.last.state == 2,
            "the ServerHello lost three times, then the server's Finished: the handshake "
            "completes within a budget of four retransmissions a flight"))
        tap_diag("client %s (%s), server %s (%s)", code_name(l.crc), anydtls_error_detail(l.c),
                 code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
    done(&l);
}

/* ---- the seeded lossy link ---- */

#define SEEDED_MESSAGES 16 /* each way, per seed */

struct chaos {
    uint64_t state;
    bool data_phase; /* corrupt only once the handshake is done: before,
                      * an altered unprotected message fails it for good */
    int corrupted;
};

static uint64_t next_random(struct chaos *c) /* splitmix64 */
{
    uint64_t z = (c->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double uniform(struct chaos *c)
{
    return (double)(next_random(c) >> 11) * 0x1.0p-53;
}

static enum fate chaos_fate(void *user, int dir, int n, uint8_t *d, size_t len)
{
    (void)dir, (void)n;
    struct chaos *c = user;
    double r = uniform(c);
    if (r < 0.30)
        return DROP;
    if (c->data_phase && len > 0 && uniform(c) < 0.15) {
        size_t at = next_random(c) % len;
        d[at] ^= (uint8_t)(1 + next_random(c) % 255);
        c->corrupted++;
        if (getenv("ANYDTLS_LINK_TRACE") != NULL)
            fprintf(stderr, "corrupting byte %zu of the next datagram\n", at);
    }
    return r < 0.50 ? DUPLICATE : DELIVER;
}

/* Most datagrams take 1-20 ms; one in five 50-150 ms, so it arrives after
 * those sent later. */
static uint32_t chaos_delay(void *user, int dir)
{
    (void)dir;
    struct chaos *c = user;
    if (uniform(c) < 0.20)
        return 50 + (uint32_t)(next_random(c) % 101);
    return 1 + (uint32_t)(next_random(c) % 20);
}

struct tally {
    int handshakes, delivered, lost, duplicated, altered, broken, corrupted;
    uint64_t worst_ms; /* the slowest handshake, virtual time */
    int worst_seed;
};

static void message(char *out, size_t cap, unsigned seed, int dir, int i)
{
    snprintf(out, cap, "seed %u dir %d message %d %.*s", seed, dir, i, i * 3,
             "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
}

/* Read everything waiting on one side; each record must be one of the
 * messages sent towards it, intact, and not seen before. */
static bool drain(anydtls_session *s, unsigned seed, int dir, bool seen[], struct tally *t)
{
    uint8_t buf[2048];
    char want[256];
    bool any = false;
    int n;
    while ((n = anydtls_read(s, buf, sizeof buf - 1)) > 0) {
        any = true;
        buf[n] = '\0';
        int i;
        if (sscanf((const char *)buf, "seed %*u dir %*d message %d", &i) != 1 || i < 0 ||
            i >= SEEDED_MESSAGES) {
            t->altered++;
            continue;
        }
        message(want, sizeof want, seed, dir, i);
        if ((size_t)n != strlen(want) || memcmp(buf, want, (size_t)n) != 0)
            t->altered++;
        else if (seen[i])
            t->duplicated++;
        else
            seen[i] = true;
    }
    if (n != ANYDTLS_E_WANT_READ && t->broken++ == 0)
        tap_diag("seed %u: reading: %s (%s)", seed, code_name(n), anydtls_error_detail(s));
    return any;
}

static void seeded_data(struct link *l, unsigned seed, struct tally *t)
{
    bool seen[2][SEEDED_MESSAGES] = {{false}};
    char msg[256];
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < SEEDED_MESSAGES; i++) {
            message(msg, sizeof msg, seed, dir, i);
            if (anydtls_write(dir == 0 ? l->c : l->s, (const uint8_t *)msg, strlen(msg)) < 0)
                t->broken++;
        }
    for (int round = 0; round < 100000; round++) {
        int moved = link_pump(l);
        bool got = drain(l->s, seed, 0, seen[0], t);
        got |= drain(l->c, seed, 1, seen[1], t);
        if (moved == 0 && !got && !link_advance(l))
            break;
    }
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < SEEDED_MESSAGES; i++)
            seen[dir][i] ? t->delivered++ : t->lost++;
}

static void seeded_run(anydtls_config *ccfg, anydtls_config *scfg, unsigned seed, struct tally *t)
{
    struct chaos chaos = {.state = seed};
    struct link l;
    link_init(&l, ccfg, scfg, true);
    l.filter = chaos_fate;
    l.delay = chaos_delay;
    l.filter_user = &chaos;
    uint64_t start = vclock_elapsed_ms();
    if (!link_handshake(&l)) {
        tap_diag("seed %u: handshake: client %s (%s), server %s (%s)", seed, code_name(l.crc),
                 anydtls_error_detail(l.c), code_name(l.src), l.s ? anydtls_error_detail(l.s) : "-");
        link_free(&l);
        return;
    }
    t->handshakes++;
    uint64_t took = vclock_elapsed_ms() - start;
    if (took > t->worst_ms) {
        t->worst_ms = took;
        t->worst_seed = (int)seed;
    }
    chaos.data_phase = true;
    seeded_data(&l, seed, t);
    t->corrupted += chaos.corrupted;
    link_free(&l);
}

static unsigned env_number(const char *name, unsigned fallback)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? (unsigned)strtoul(v, NULL, 10) : fallback;
}

static void test_seeded(void)
{
    unsigned first = env_number("ANYDTLS_SEED", 1);
    unsigned seeds = getenv("ANYDTLS_SEED") != NULL ? 1 : env_number("ANYDTLS_SEEDS", 200);
    /* A budget for a link this bad: 50 ms doubling up to 60 s, eleven
     * retransmissions of a flight (the default, 1 s to 60 s, allows six:
     * at 30 % loss each way a round trip fails half the time, and six
     * failures in a row come once in 64 flights). */
    anydtls_config *ccfg = client_cert_config("ca.pem", "localhost");
    anydtls_config *scfg = server_cert_config("server.pem", "server.key");
    CHECK(anydtls_config_set_timeouts(ccfg, 50, 60000));
    CHECK(anydtls_config_set_timeouts(scfg, 50, 60000));
    struct tally t = {0};
    for (unsigned seed = first; seed < first + seeds; seed++)
        seeded_run(ccfg, scfg, seed, &t);
    anydtls_config_free(ccfg);
    anydtls_config_free(scfg);
    ok(t.handshakes == (int)seeds,
       "%d of %u seeds, 30 %% loss, 20 %% duplication, reordering: every handshake completes "
       "within the retransmission budget (slowest: %.1f s virtual, seed %d)",
       t.handshakes, seeds, (double)t.worst_ms / 1000, t.worst_seed);
    ok(t.duplicated == 0, "no message read twice (%d delivered, %d lost, %d twice)", t.delivered,
       t.lost, t.duplicated);
    ok(t.altered == 0 && t.corrupted > 0, "no corrupted record surfaced as data (%d corrupted "
       "datagrams, %d altered messages read)", t.corrupted, t.altered);
    ok(t.broken == 0, "every session stayed usable through the loss and corruption");
}

/* The suite over one kind of transport: the sessions' datagrams go through
 * memory transports, a callbacks transport, or real UDP sockets, the link
 * losing and reordering them the same way over each (issue 12, item 15:
 * GnuTLS never retransmitted through callbacks). */
#define SUITE_TESTS (4 + 4 + 3 + 5 + 1 + 4 + 1 + 6 + 4 + 4 + 2 + 4 + 1 + 1)

static void run_suite(enum link_kind kind)
{
    link_kind = kind;
    tap_context = link_kind_name[kind];
    int counts[2];
    count_flights(counts, false);
    int resumed_counts[2] = {0, 0};
    bool resumes = HAS_CAP(ANYDTLS_CAP_RESUMPTION) && setup_resumption();
    if (resumes)
        count_flights(resumed_counts, true);
    ok(counts[0] >= 3 && counts[1] >= 2, "a full handshake with cookie: %d client and %d server datagrams",
       counts[0], counts[1]);
    test_drop_each(counts, false);
    if (!ok(resumes && resumed_counts[0] >= 2 && resumed_counts[1] >= 2,
            "a resumed handshake with cookie: %d client and %d server datagrams", resumed_counts[0],
            resumed_counts[1]))
        tap_diag("the first session was not saved: %s", code_name(resumption.len));
    test_drop_each(resumed_counts, true);
    test_duplicate_all();
    test_prepend_cut(false);
    if (resumes) {
        test_prepend_cut(true);
        test_prepend_cut_declined(false);
        test_prepend_cut_declined(true);
    } else {
        for (int i = 0; i < 2; i++)
            tap_skip("no saved session", "resumed handshake, a truncated copy in front of every "
                                         "datagram");
        for (int i = 0; i < 4; i++)
            tap_skip("no saved session", "a declined ticket, its ServerHello cut from the rest");
    }
    test_swap();
    test_data_before_finished();
    test_late_finished();
    test_far_fragment_instead_of_finished();
    test_established_answers_retransmission();
    test_hello_lost_rest_ahead();
    test_seeded();
    anydtls_config_free(resumption.c);
    anydtls_config_free(resumption.s);
    resumption.c = resumption.s = NULL;
}

int main(void)
{
    vclock_start();
    tap_plan(3 * SUITE_TESTS);
    run_suite(LINK_MEMORY);
    run_suite(LINK_CALLBACKS);
    run_suite(LINK_UDP);
    return tap_done();
}
