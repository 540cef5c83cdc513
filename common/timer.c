/* Retransmission timer policy shared by every driver: double from the
 * initial timeout; give up when the next one would exceed the maximum. */
#include "internal.h"

uint32_t anydtls_timer_next(const anydtls_config *cfg, uint32_t prev_ms)
{
    if (prev_ms == 0)
        return cfg->timeout_initial_ms;
    if ((uint64_t)prev_ms * 2 > cfg->timeout_max_ms)
        return 0;
    return prev_ms * 2;
}
