/* A virtual clock for tests.  Once started, every clock the process reads
 * (clock_gettime for the wall and monotonic clocks, gettimeofday, time),
 * in the test and inside the TLS libraries alike, stands still until the
 * test advances it: timers fire when the test says, however loaded the
 * machine is, and no test sleeps.  Linked only into the programs that use
 * it: the definitions here take the place of the C library's. */
#ifndef ANYDTLS_VCLOCK_H
#define ANYDTLS_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Freeze every clock at the current real time. */
void vclock_start(void);
bool vclock_running(void);
/* Move every clock forward. */
void vclock_advance_ms(uint32_t ms);
/* Virtual milliseconds since vclock_start. */
uint64_t vclock_elapsed_ms(void);

#endif
