/* test_tarhdr.c -- outer tar header blocks: ustar for ordinary entries, PAX for long names,
 * and the single-block GNU form with a base-256 size for entries of 8 GiB and more. Each
 * block is read back with libarchive. */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "ctx.h"
#include "tap.h"
#include "tarhdr.h"

static struct msig_ctx *ctx;

/* Reads the header back; returns the parsed size or -1. */
static long long read_back(const uint8_t *blk, size_t len, char *name, size_t cap, int *mode,
                           long long *mtime)
{
    /* A header alone is a truncated archive; add zero blocks for the data libarchive may
     * want to skip, which it does not read for a header-only parse. */
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    long long size = -1;
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, blk, len) == ARCHIVE_OK &&
        archive_read_next_header(a, &e) == ARCHIVE_OK) {
        size = (long long)archive_entry_size(e);
        snprintf(name, cap, "%s", archive_entry_pathname(e));
        *mode = (int)archive_entry_perm(e);
        *mtime = (long long)archive_entry_mtime(e);
    }
    archive_read_free(a);
    return size;
}

int main(void)
{
    uint8_t h[MSIGI_TAR_HDR_MAX];
    size_t len = 0;
    char name[300];
    int mode = 0;
    long long mtime = 0;
    if (msig_ctx_new(&ctx) != 0)
        bail("no context");

    is_int(msigi_tar_header(ctx, "manifest.sig", 512, 0644, 0, h, &len), 0, "/tarhdr/ustar/make");
    is_int((long long)len, 512, "/tarhdr/ustar/one block");
    is_mem(h + 257, 8,
           "ustar\0"
           "00",
           8, "/tarhdr/ustar/magic and version");
    is_mem(h + 265, 1, "\0", 1, "/tarhdr/ustar/empty owner name");
    is_int(read_back(h, len, name, sizeof(name), &mode, &mtime), 512,
           "/tarhdr/ustar/size read back");
    is_str(name, "manifest.sig", "/tarhdr/ustar/name read back");
    is_int(mode, 0644, "/tarhdr/ustar/mode read back");
    is_int(mtime, 0, "/tarhdr/ustar/mtime read back");
    is_int((long long)msigi_tar_pad(512), 0, "/tarhdr/pad/0");
    is_int((long long)msigi_tar_pad(513), 511, "/tarhdr/pad/511");

    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    is_int(msigi_tar_header(ctx, longname, 10, 0600, 1700000000, h, &len), 0, "/tarhdr/pax/make");
    ok(len > 512 && len % 512 == 0, "/tarhdr/pax/extended header added (%zu bytes)", len);
    is_int(read_back(h, len, name, sizeof(name), &mode, &mtime), 10, "/tarhdr/pax/size read back");
    is_str(name, longname, "/tarhdr/pax/long name read back");
    is_int(mtime, 1700000000, "/tarhdr/pax/mtime read back");

    const unsigned long long big = 9ull << 30;
    is_int(msigi_tar_header(ctx, "data/0000.tar", big, 0644, 0, h, &len), 0,
           "/tarhdr/big/ustar+pax");
    ok(len > 512, "/tarhdr/big/pax needs more than one block (%zu)", len);
    is_int(msigi_tar_header_gnu(ctx, "data/0000.tar", big, 0644, 0, h, &len), 0, "/tarhdr/big/gnu");
    is_int((long long)len, 512, "/tarhdr/big/gnu is one block");
    ok((h[124] & 0x80) != 0, "/tarhdr/big/size is base-256");
    is_mem(h + 257, 8, "ustar  \0", 8, "/tarhdr/big/GNU magic");
    is_int(read_back(h, len, name, sizeof(name), &mode, &mtime), (long long)big,
           "/tarhdr/big/size read back");
    is_int(msigi_tar_header_gnu(ctx, "data/0000.tar", 4096, 0644, 0, h, &len), 0,
           "/tarhdr/gnu/small");
    is_int(read_back(h, len, name, sizeof(name), &mode, &mtime), 4096, "/tarhdr/gnu/small size");

    msig_ctx_free(ctx);
    return done_testing();
}
