/* rddata.c -- the payload files of a data entry (spec §7): each is listed in the manifest, stored
 * once, streamed to the file handler and hashed on the calling thread (zero-copy from the
 * decoder's buffers), and its checksum must match. */
#include "rd.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

/* One payload file being read: where it is, its manifest line, its event for the handler. */
struct dfile {
    struct msigi_rd *rd;
    struct msigi_rd_inner *in;
    const char *entry; /* data/NNNN.tar<EXT> */
    const char *fname;
    struct msigi_mline *ml;
    struct msigi_file *f;
    struct msig_file_event ev;
};

static int handler(struct dfile *df, const void *data, size_t len, int last, const char *fails)
{
    msig_file_fn *fn = df->rd->r->file_fn;
    int rc = fn ? fn(df->rd->r->file_user, &df->ev, data, len, last) : 0;
    if (rc)
        return msigi_err(df->rd->ctx, rc, "%s: the file handler %s %s", df->rd->name, fails,
                         df->fname);
    return 0;
}

/* The entry's checks before its data: a regular file with an allowed name, listed in the
 * manifest, stored once; then it is recorded and the handler told. */
static int file_begin(struct dfile *df, struct archive_entry *e, int idx)
{
    struct msigi_rd *rd = df->rd;
    if (archive_entry_filetype(e) != AE_IFREG)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: '%s' is not a regular file (type "
                         "0%o); a payload holds only regular files",
                         rd->name, df->entry, df->fname, (unsigned)archive_entry_filetype(e) >> 12);
    if (!msigi_name_payload_ok(df->fname))
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: payload file name '%.300s' is not allowed: only letters, "
                         "digits and the characters \".,_-\" may be used",
                         rd->name, df->entry, df->fname);
    char mname[64 + 256];
    snprintf(mname, sizeof(mname), "data/%04d/%s", idx, df->fname);
    df->ml = msigi_manifest_find(&rd->man, mname);
    if (!df->ml)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: payload file '%s' is not listed in "
                         "the manifest (Payload: can not find data file: %s)",
                         rd->name, df->entry, df->fname, df->fname);
    if (df->ml->consumed)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: payload file '%s' is stored twice",
                         rd->name, df->entry, df->fname);
    df->ml->consumed = 1;
    struct msigi_file *f = msigi_payload_add_file(&rd->art->payloads[idx], df->fname);
    if (!f)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    la_int64_t size = archive_entry_size(e);
    f->info.size = (uint64_t)(size < 0 ? 0 : size);
    f->info.mtime = (int64_t)archive_entry_mtime(e);
    f->info.mode = (uint32_t)archive_entry_perm(e);
    f->info.augmented = df->ml->augment;
    struct msig_file_event ev = { sizeof(ev), MSIG_FILE_PAYLOAD, (uint32_t)idx, f->info.mode,
                                  f->name,    f->info.size,      f->info.mtime };
    df->f = f;
    df->ev = ev;
    df->fname = f->name;
    return handler(df, NULL, 0, 0, "refused");
}

/* The file's bytes, hashed and handed on; zero-copy: each block lies in the buffer that the
 * decoder (or its stage) filled. */
static int file_stream(struct dfile *df, EVP_MD_CTX *md, uint64_t *total)
{
    struct msigi_rd *rd = df->rd;
    *total = 0;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (;;) {
        const void *blk = NULL;
        size_t n = 0;
        la_int64_t off = 0;
        int br = archive_read_data_block(df->in->a, &blk, &n, &off);
        if (br == ARCHIVE_EOF)
            return 0;
        if (br != ARCHIVE_OK)
            return msigi_rd_inner_error(rd, df->in, df->entry, df->fname);
        if (off < 0 || (uint64_t)off != *total)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: payload file '%s' has a hole at offset %llu (data "
                             "resumes at %lld)",
                             rd->name, df->entry, df->fname, (unsigned long long)*total,
                             (long long)off);
        if (n == 0)
            continue;
        *total += (uint64_t)n;
        EVP_DigestUpdate(md, blk, n);
        int rc = handler(df, blk, n, 0, "failed on");
        if (rc)
            return rc;
    }
}

/* All of the file was there and its checksum is the manifest's. */
static int file_end(struct dfile *df, EVP_MD_CTX *md, uint64_t total)
{
    struct msigi_rd *rd = df->rd;
    struct msigi_file *f = df->f;
    if (total != f->info.size)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: payload file '%s' is truncated (%llu "
                         "of %llu bytes)",
                         rd->name, df->entry, df->fname, (unsigned long long)total,
                         (unsigned long long)f->info.size);
    msigi_rd_sha256_hex(md, f->checksum);
    if (strcmp(f->checksum, df->ml->hex) != 0)
        return msigi_err(rd->ctx, MSIG_E_CHECKSUM,
                         "%s: Payload: can not install Payload: %s: "
                         "invalid checksum; expected: [%s]; actual: [%s]",
                         rd->name, df->fname, df->ml->hex, f->checksum);
    return handler(df, NULL, 0, 1, "failed on");
}

static int read_file(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *entry_name,
                     int idx, struct archive_entry *e, EVP_MD_CTX *md)
{
    struct dfile df;
    memset(&df, 0, sizeof(df));
    df.rd = rd;
    df.in = in;
    df.entry = entry_name;
    df.fname = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    uint64_t total = 0;
    int rc = file_begin(&df, e, idx);
    if (rc == 0)
        rc = file_stream(&df, md, &total);
    if (rc == 0)
        rc = file_end(&df, md, total);
    return rc;
}

int msigi_rd_data(struct msigi_rd *rd, const char *entry_name, int idx)
{
    struct msigi_rd_inner in;
    EVP_MD_CTX *md = NULL;
    int rc = msigi_rd_inner_open(rd, &in, entry_name, NULL, 1);
    if (rc || (rc = msigi_rd_sha256_init(rd->ctx, &md)))
        goto out;
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(in.a, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK) {
            rc = msigi_rd_inner_error(rd, &in, entry_name, "reading the payload tar");
            goto out;
        }
        if ((rc = msigi_rd_same_entry(rd, &in.guard, e, entry_name)) != 0 ||
            (rc = read_file(rd, &in, entry_name, idx, e, md)) != 0)
            goto out;
    }
    if ((rc = msigi_rd_inner_drain(rd, &in, entry_name)))
        goto out;
    rd->art->payloads[idx].has_data = 1;
out:
    msigi_rd_inner_close(&in);
    EVP_MD_CTX_free(md);
    return rc;
}
