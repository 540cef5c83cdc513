/* Retransmission timer policy shared by every driver: double from the
 * initial timeout; give up when the next one would exceed the maximum. */
#include "internal.h"

#include <time.h>

uint32_t anydtls_timer_next(const anydtls_config *cfg, uint32_t prev_ms)
{
    if (prev_ms == 0)
        return cfg->timeout_initial_ms;
    if ((uint64_t)prev_ms * 2 > cfg->timeout_max_ms)
        return 0;
    return prev_ms * 2;
}

uint64_t anydtls_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t current_timeout(const anydtls_session *s)
{
    return s->timer_ms != 0 ? s->timer_ms : s->cfg->timeout_initial_ms;
}

void anydtls_timer_arm(anydtls_session *s)
{
    if (s->deadline == 0)
        s->deadline = anydtls_now_ms() + current_timeout(s);
}

void anydtls_timer_stop(anydtls_session *s)
{
    s->deadline = 0;
}

int anydtls_timer_get(const anydtls_session *s, uint32_t *ms)
{
    if (s->deadline == 0)
        return 0;
    uint64_t now = anydtls_now_ms();
    *ms = now >= s->deadline ? 0 : (uint32_t)(s->deadline - now);
    return 1;
}

int anydtls_timer_expire(anydtls_session *s)
{
    if (s->deadline == 0 || anydtls_now_ms() < s->deadline)
        return 0;
    uint32_t next = anydtls_timer_next(s->cfg, current_timeout(s));
    s->deadline = 0;
    if (next == 0)
        return anydtls_session_fail(s, anydtls_timeout_code(s), 0,
                                    "retransmission budget exhausted");
    s->timer_ms = next;
    return 1;
}

/* The whole retransmission budget: every timeout of the doubling series. */
static uint64_t budget_ms(const anydtls_config *cfg)
{
    uint64_t total = 0;
    for (uint32_t t = anydtls_timer_next(cfg, 0); t != 0; t = anydtls_timer_next(cfg, t))
        total += t;
    return total;
}

uint64_t anydtls_handshake_limit_ms(const anydtls_config *cfg)
{
    uint64_t limit = 2 * budget_ms(cfg);
    return limit > ANYDTLS_HANDSHAKE_LIMIT_FLOOR_MS ? limit : ANYDTLS_HANDSHAKE_LIMIT_FLOOR_MS;
}
