/* probe.c -- which compression an artifact uses, from the names of its outer tar entries
 * (header.tar.gz, data/0000.tar.xz, ...), without decompressing anything. `modify`, `cp`,
 * `install` and `rm` rebuild an artifact with the compression it had, as mender-artifact does. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"

/* The outer tar holds a handful of entries before the payloads; a stream that shows no
 * header.tar or data tar within this many entries is not an artifact. */
#define PROBE_MAX_ENTRIES 64

/* The compression a name suffix stands for, or -1. zstd keeps no level in the stream:
 * zstd_fast is mender-artifact's default zstd level. */
static int suffix_compression(const char *suffix)
{
    static const struct {
        const char *suffix;
        int compression;
    } map[] = {
        { "", MSIG_COMPRESS_NONE },
        { ".gz", MSIG_COMPRESS_GZIP },
        { ".xz", MSIG_COMPRESS_LZMA },
        { ".zst", MSIG_COMPRESS_ZSTD_FAST },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(suffix, map[i].suffix) == 0)
            return map[i].compression;
    return -1;
}

/* The compression of entry name, when it is header.tar* or data/NNNN.tar*; else -2. */
static int entry_compression(const char *name)
{
    const char *tar = NULL;

    if (strncmp(name, "header.tar", 10) == 0)
        tar = name + 10;
    else if (strncmp(name, "data/", 5) == 0 && strlen(name) >= 13 &&
             strncmp(name + 9, ".tar", 4) == 0)
        tar = name + 13;
    return tar != NULL ? suffix_compression(tar) : -2;
}

int msig_artifact_probe_compression(struct msig_ctx *ctx, const char *path, int *compression)
{
    struct archive *a = NULL;
    struct archive_entry *e;
    int fd, rc = MSIG_E_FORMAT, found = -2;

    if (ctx == NULL || path == NULL || compression == NULL)
        return MSIG_E_INVALID;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msigi_err(ctx, MSIG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    a = archive_read_new();
    if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
        rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: not a tar archive", path);
        goto out;
    }
    for (int n = 0; n < PROBE_MAX_ENTRIES && found == -2; n++) {
        if (archive_read_next_header(a, &e) != ARCHIVE_OK)
            break;
        found = entry_compression(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        if (found == -1) {
            rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: entry '%s' has an unknown compression", path,
                           archive_entry_pathname(e));
            goto out;
        }
    }
    if (found < 0) {
        rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: no header.tar entry: not a Mender artifact", path);
        goto out;
    }
    *compression = found;
    rc = 0;
out:
    if (a != NULL)
        archive_read_free(a);
    close(fd);
    return rc;
}
