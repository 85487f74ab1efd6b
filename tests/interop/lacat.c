/* lacat FILE NAME: writes the data of entry NAME of the (compressed) tar FILE to standard
 * output, read through libarchive's own decompression filters, as the Mender C++ client
 * reads artifacts (tests/interop/threads.t: libarchive reads msig's multi-member gzip and
 * multi-block xz). Exit 0 when NAME was found and read whole; 1 with a message otherwise. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

static int copy_data(struct archive *a)
{
    char buf[65536];
    la_ssize_t r;
    while ((r = archive_read_data(a, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
            return -1;
    return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lacat FILE NAME\n");
        return 1;
    }
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int rc = 1;
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, argv[1], 65536) != ARCHIVE_OK)
        goto out;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), argv[2]) == 0) {
            rc = copy_data(a) == 0 ? 0 : 1;
            break;
        }
    }
out:
    if (rc != 0)
        fprintf(stderr, "lacat: %s: %s\n", argv[1],
                archive_error_string(a) ? archive_error_string(a) : "entry not found");
    archive_read_free(a);
    return rc;
}
