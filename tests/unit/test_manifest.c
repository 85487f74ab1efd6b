/* test_manifest.c -- the strict manifest parser: canonical form, every refusal with its
 * message, duplicates across manifest and manifest-augment, all-or-nothing parsing, and
 * lookups in a large manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "manifest.h"
#include "tap.h"

#define SUM "96bcd965947569404798bcbdb614f103db5a004eb6e364cfc162c146890ea35b"

static struct msig_ctx *ctx;

static int parse(struct msigi_manifest *m, const char *text, const char *what, int augment)
{
    return msigi_manifest_parse(ctx, m, (const uint8_t *)text, strlen(text), what, augment);
}

static void refused(const char *text, const char *want, const char *name)
{
    struct msigi_manifest m = { 0 };
    int rc = parse(&m, text, "manifest", 0);
    ok(rc == MSIG_E_FORMAT, "/manifest/refuse/%s: MSIG_E_FORMAT", name);
    like(msig_ctx_last_error(ctx), want, "/manifest/refuse/%s: message", name);
    is_int((long long)m.count, 0, "/manifest/refuse/%s: nothing kept", name);
    msigi_manifest_clear(&m);
}

int main(void)
{
    if (msig_ctx_new(&ctx) != 0)
        bail("no context");

    struct msigi_manifest m = { 0 };
    const char *good = SUM "  data/0000/rootfs.ext4\n" SUM "  header.tar.gz\n" SUM "  version\n";
    is_int(parse(&m, good, "manifest", 0), 0, "/manifest/parse/canonical");
    is_int((long long)m.count, 3, "/manifest/parse/canonical: three lines");
    ok(msigi_manifest_find(&m, "header.tar.gz") == &m.lines[1], "/manifest/find/present");
    ok(msigi_manifest_find(&m, "header.tar") == NULL, "/manifest/find/absent");
    is_str(m.lines[0].hex, SUM, "/manifest/parse/hex kept");

    /* manifest-augment: a name already in the manifest is refused, nothing is appended */
    int rc = parse(&m, SUM "  version\n", "manifest-augment", 1);
    is_int(rc, MSIG_E_FORMAT, "/manifest/augment/duplicate refused");
    like(msig_ctx_last_error(ctx),
         "manifest-augment line 1: 'version' is listed twice (first at "
         "manifest line 3)",
         "/manifest/augment/duplicate message");
    is_int((long long)m.count, 3, "/manifest/augment/duplicate: nothing appended");
    ok(msigi_manifest_find(&m, "version") == &m.lines[2], "/manifest/augment/index restored");
    is_int(parse(&m, SUM "  data/0000/aug.bin\n" SUM "  header-augment.tar.gz\n",
                 "manifest-augment", 1),
           0, "/manifest/augment/appended");
    ok(msigi_manifest_find(&m, "data/0000/aug.bin") &&
           msigi_manifest_find(&m, "data/0000/aug.bin")->augment == 1,
       "/manifest/augment/lines marked");
    msigi_manifest_clear(&m);

    refused("", "manifest is empty", "empty");
    refused(SUM "  version", "no final newline", "no-final-newline");
    refused(SUM "  version\r\n", "ends with CR", "crlf");
    refused(SUM " version\n", "is malformed", "one-space");
    refused(SUM "   version\n", "is malformed", "three-spaces");
    refused("96BCD965947569404798BCBDB614F103DB5A004EB6E364CFC162C146890EA35B  version\n",
            "64 lowercase hex digits", "upper-hex");
    refused("6bcd965947569404798bcbdb614f103db5a004eb6e364cfc162c146890ea35b  version\n",
            "is malformed", "short-sum");
    refused(SUM "  version\n\n", "line 2 is empty", "blank-line");
    refused(SUM "  a\n" SUM "  a\n", "line 2: 'a' is listed twice (first at manifest line 1)",
            "duplicate");
    refused(SUM "  a b\n", "malformed name", "space-in-name");

    /* a large manifest: every name found, a duplicate at the very end named with both lines */
    size_t n = 45000, len = (n + 1) * (64 + 2 + 18 + 1) + 200;
    char *big = malloc(len);
    if (!big)
        bail("no memory");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(big + pos, len - pos, SUM "  data/0000/f%07zu\n", n - i);
    is_int(msigi_manifest_parse(ctx, &m, (const uint8_t *)big, pos, "manifest", 0), 0,
           "/manifest/large/parse 45000 lines");
    int all = 1;
    char name[32];
    for (size_t i = 1; i <= n && all; i++) {
        snprintf(name, sizeof(name), "data/0000/f%07zu", i);
        all = msigi_manifest_find(&m, name) != NULL;
    }
    ok(all, "/manifest/large/every name found");
    msigi_manifest_clear(&m);
    pos += (size_t)snprintf(big + pos, len - pos, SUM "  data/0000/f%07zu\n", (size_t)7);
    rc = msigi_manifest_parse(ctx, &m, (const uint8_t *)big, pos, "manifest", 0);
    is_int(rc, MSIG_E_FORMAT, "/manifest/large/late duplicate refused");
    like(msig_ctx_last_error(ctx),
         "line 45001: 'data/0000/f0000007' is listed twice (first at "
         "manifest line 44994)",
         "/manifest/large/late duplicate message");
    msigi_manifest_clear(&m);
    free(big);

    msig_ctx_free(ctx);
    return done_testing();
}
