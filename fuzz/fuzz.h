/* fuzz.h -- shared declarations of the fuzz harnesses. Every harness defines the libFuzzer
 * entry point; standalone.c drives it over files when libFuzzer is not linked. */
#ifndef MSIG_FUZZ_H
#define MSIG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which, then abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                                \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
