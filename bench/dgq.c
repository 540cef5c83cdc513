/* A fixed ring of datagrams, allocated once (no allocation per record). */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 64
#define SLOT_SIZE 18432

struct dgq {
    size_t head, count;
    size_t len[SLOTS];
    uint8_t data[SLOTS][SLOT_SIZE];
};

struct dgq *dgq_new(void)
{
    return calloc(1, sizeof(struct dgq));
}

void dgq_free(struct dgq *q)
{
    free(q);
}

int dgq_push(struct dgq *q, const uint8_t *d, size_t n)
{
    if (q->count == SLOTS || n > SLOT_SIZE)
        return -1;
    size_t i = (q->head + q->count++) % SLOTS;
    memcpy(q->data[i], d, n);
    q->len[i] = n;
    return (int)n;
}

int dgq_pop(struct dgq *q, uint8_t *d, size_t cap)
{
    if (q->count == 0)
        return -1;
    size_t n = q->len[q->head] < cap ? q->len[q->head] : cap;
    memcpy(d, q->data[q->head], n);
    q->head = (q->head + 1) % SLOTS;
    q->count--;
    return (int)n;
}

int dgq_pending(const struct dgq *q)
{
    return q->count > 0;
}
