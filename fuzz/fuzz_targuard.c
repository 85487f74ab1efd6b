/* fuzz_targuard.c -- the strict tar layer (core/targuard.c). The first input byte picks a
 * chunk size; the rest is a tar stream. Invariants: the verdict, the message and the entries
 * accepted do not depend on how the stream is cut into chunks; a refusal always says why;
 * the layer never holds more than its caps. */
#include <string.h>

#include "ctx.h"
#include "fuzz.h"
#include "targuard.h"

struct run {
    int rc;
    char msg[sizeof(((struct msigi_targuard *)0)->msg)];
    struct msigi_tg_entry e[64];
    size_t n, total;
};

static void feed(const uint8_t *p, size_t len, size_t step, struct run *r)
{
    struct msigi_targuard g;
    struct msigi_tg_entry e;

    memset(r, 0, sizeof(*r));
    msigi_tg_init(&g);
    for (size_t off = 0; r->rc == 0 && off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        r->rc = msigi_tg_feed(&g, p + off, n);
        FUZZ_CHECK(g.ext_cap <= MSIGI_TG_PAX_MAX);
        while (msigi_tg_next(&g, &e) == 0) {
            if (r->n < 64)
                r->e[r->n++] = e;
            r->total++;
        }
    }
    if (r->rc == 0)
        r->rc = msigi_tg_finish(&g);
    if (r->rc != 0) {
        FUZZ_CHECK(g.msg[0] != '\0');
        memcpy(r->msg, g.msg, sizeof(r->msg));
    }
    msigi_tg_free(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, cut;

    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 97 + 1;
    feed(data + 1, size - 1, size, &whole);
    feed(data + 1, size - 1, step, &cut);
    FUZZ_CHECK(whole.rc == cut.rc);
    FUZZ_CHECK(strcmp(whole.msg, cut.msg) == 0);
    FUZZ_CHECK(whole.total == cut.total && whole.n == cut.n);
    FUZZ_CHECK(memcmp(whole.e, cut.e, whole.n * sizeof(whole.e[0])) == 0);
    return 0;
}
