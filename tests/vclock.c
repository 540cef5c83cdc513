/* The virtual clock (vclock.h).  The real clocks are read through the
 * system call, since this file replaces the C library's entry points. */
#define _DEFAULT_SOURCE
#include "vclock.h"

#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static bool running;
static struct timespec base_real, base_mono; /* real readings at start */
static uint64_t elapsed_ns;

static int real_clock(clockid_t id, struct timespec *ts)
{
    return (int)syscall(SYS_clock_gettime, id, ts);
}

void vclock_start(void)
{
    real_clock(CLOCK_REALTIME, &base_real);
    real_clock(CLOCK_MONOTONIC, &base_mono);
    elapsed_ns = 0;
    running = true;
}

bool vclock_running(void)
{
    return running;
}

void vclock_advance_ms(uint32_t ms)
{
    elapsed_ns += (uint64_t)ms * 1000000u;
}

uint64_t vclock_elapsed_ms(void)
{
    return elapsed_ns / 1000000u;
}

static struct timespec shifted(const struct timespec *base)
{
    uint64_t ns = (uint64_t)base->tv_nsec + elapsed_ns;
    struct timespec ts = {.tv_sec = base->tv_sec + (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    return ts;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!running)
        return real_clock(id, ts);
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        *ts = shifted(&base_real);
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
        *ts = shifted(&base_mono);
        return 0;
    default: /* CPU-time clocks: real */
        return real_clock(id, ts);
    }
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;
    (void)tz;
    clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
