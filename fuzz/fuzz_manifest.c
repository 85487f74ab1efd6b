/* fuzz_manifest.c -- the strict manifest parser (core/manifest.c).
 * Invariants: an accepted manifest is canonical, so re-serialising its lines gives back the
 * input bytes; every parsed name is found again; parsing the same bytes a second time into
 * the same list (as manifest-augment) is refused because every name would be listed twice. */
#include <string.h>

#include "ctx.h"
#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msig_ctx *ctx = NULL;
    struct msigi_manifest m;
    char *ser = NULL;

    memset(&m, 0, sizeof(m));
    if (msig_ctx_new(&ctx) != 0)
        goto out;
    int rc = msigi_manifest_parse(ctx, &m, data, size, "manifest", 0);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(msig_ctx_last_error(ctx)[0] != '\0');
        FUZZ_CHECK(rc == MSIG_E_FORMAT || rc == MSIG_E_LIMIT || rc == MSIG_E_NOMEM);
        goto out;
    }
    FUZZ_CHECK(m.count > 0 && m.count <= MSIGI_MANIFEST_MAX_LINES);

    /* Canonical form: "<hex>  <name>\n" per line, in order, equals the input. */
    ser = malloc(size + 1);
    FUZZ_CHECK(ser != NULL);
    size_t pos = 0;
    for (size_t i = 0; i < m.count; i++) {
        const struct msigi_mline *l = &m.lines[i];
        size_t nlen = strlen(l->name);
        FUZZ_CHECK(strlen(l->hex) == 64);
        FUZZ_CHECK(l->augment == 0 && l->consumed == 0);
        FUZZ_CHECK(pos + 64 + 2 + nlen + 1 <= size);
        memcpy(ser + pos, l->hex, 64);
        memcpy(ser + pos + 64, "  ", 2);
        memcpy(ser + pos + 66, l->name, nlen);
        ser[pos + 66 + nlen] = '\n';
        pos += 67 + nlen;
        FUZZ_CHECK(msigi_manifest_find(&m, l->name) == l);
    }
    FUZZ_CHECK(pos == size);
    FUZZ_CHECK(memcmp(ser, data, size) == 0);

    size_t before = m.count;
    rc = msigi_manifest_parse(ctx, &m, data, size, "manifest-augment", 1);
    FUZZ_CHECK(m.count == before); /* a failed parse appends nothing */
    if (2 * before > MSIGI_MANIFEST_MAX_LINES) {
        FUZZ_CHECK(rc == MSIG_E_LIMIT);
    } else {
        FUZZ_CHECK(rc == MSIG_E_FORMAT);
        FUZZ_CHECK(strstr(msig_ctx_last_error(ctx), "listed twice") != NULL);
    }
out:
    free(ser);
    msigi_manifest_clear(&m);
    msig_ctx_free(ctx);
    return 0;
}
