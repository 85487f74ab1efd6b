/* fuzz.h -- shared declarations of the fuzz harnesses. Every harness defines the libFuzzer
 * entry point; standalone.c drives it over files when libFuzzer is not linked. */
#ifndef MSIG_FUZZ_H
#define MSIG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msig/msig.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which, then abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A read source over the input: step bytes per read at most (0 = as many as asked). */
struct src {
    const uint8_t *p;
    size_t len, pos, step;
};

static inline msig_ssize src_read(void *user, void *buf, size_t len)
{
    struct src *s = user;
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    if (s->step && n > s->step)
        n = s->step;
    if (n)
        memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (msig_ssize)n;
}

#endif
