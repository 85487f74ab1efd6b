/* rdouter.c -- the outer tar walk: the source (with its I/O stage), one function per state of
 * the entry grammar (spec §1.2: version, manifest, [manifest.sig], [manifest-augment],
 * header.tar<EXT>, [header-augment.tar<EXT>], data/NNNN.tar<EXT>...), the small entries, and the
 * checks at the end.
 *
 * Where mender-artifact 3.9.0 is lax, this reader is strict (see the README's compatibility
 * section): a second data/NNNN entry, a payload file stored twice, a missing type-info, a
 * declared payload without data, a version whose format is not "mender", and any entry that is
 * not a regular file are errors. */
#include "rd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "signer.h"

#define MAX_VERSION_BYTES 4096u
#define MAX_SIG_BYTES 16384u
#define MAX_OUTER_ENTRIES 1024u

/* Progress goes to the application only from the calling thread, never backwards. */
void msigi_rd_progress(struct msigi_rd *rd, uint64_t done)
{
    if (done < rd->reported)
        return;
    rd->reported = done;
    msigi_progress(rd->ctx, done, rd->total > done ? rd->total : done);
}

/* One read of the source (the I/O stage's fill function, or the direct read). */
static msig_ssize src_read(struct msigi_rd *rd, uint8_t *buf, size_t cap)
{
    msig_ssize n;
    do {
        n = rd->src(rd->src_user, buf, cap);
    } while (n < 0 && errno == EINTR);
    return n;
}

static msig_ssize io_fill(void *user, uint8_t *buf, size_t cap, uint64_t *tag)
{
    (void)tag;
    return src_read(user, buf, cap);
}

static la_ssize_t outer_read_cb(struct archive *a, void *user, const void **buf)
{
    struct msigi_rd *rd = user;
    const uint8_t *p = rd->inbuf;
    msig_ssize n =
        rd->io ? msigi_pipe_next(rd->io, &p, NULL) : src_read(rd, rd->inbuf, MSIGI_RD_IOBUF);
    if (n < 0) {
        rd->src_failed = 1;
        msigi_err(rd->octx, MSIG_E_IO, "%s: read error: %s", rd->name, strerror(errno));
        archive_set_error(a, EIO, "read error");
        return -1;
    }
    if ((n > 0 ? msigi_tg_feed(&rd->guard, p, (size_t)n) : msigi_tg_finish(&rd->guard)) != 0) {
        archive_set_error(a, EINVAL, "%s", rd->guard.msg);
        return -1;
    }
    rd->done += (uint64_t)n;
    if (!rd->on_worker)
        msigi_progress(rd->ctx, rd->done, rd->total > rd->done ? rd->total : rd->done);
    *buf = p;
    return (la_ssize_t)n;
}

/* Outer archive error: keep the source's own message when the source failed. */
static int outer_error(struct msigi_rd *rd, const char *doing)
{
    if (rd->src_failed)
        return MSIG_E_IO;
    const char *e = archive_error_string(rd->outer);
    return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s", rd->name, doing,
                     e ? e : "malformed tar archive");
}

/* Reads the current outer entry's data into memory (at most cap bytes). */
static int read_small_entry(struct msigi_rd *rd, struct archive_entry *e, size_t cap, uint8_t **out,
                            size_t *out_len)
{
    const char *name = archive_entry_pathname(e);
    *out = NULL;
    *out_len = 0;
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || (uint64_t)size > cap)
        return msigi_err(rd->ctx, MSIG_E_LIMIT,
                         "%s: entry '%s' is %lld bytes, more than the limit "
                         "of %zu",
                         rd->name, name, (long long)size, cap);
    uint8_t *buf = msigi_malloc((size_t)size + 1);
    if (!buf)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory reading %s", name);
    la_ssize_t r = msigi_rd_read_exact(rd->outer, buf, (size_t)size);
    if (r < 0) {
        msigi_free(buf);
        return outer_error(rd, "reading entry");
    }
    size_t got = (size_t)r;
    if (got != (size_t)size) {
        msigi_free(buf);
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: entry '%s' is truncated (%zu of %lld bytes)",
                         rd->name, name, got, (long long)size);
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return 0;
}

static void seen_add(struct msigi_rd *rd, const char *name)
{
    size_t l = strlen(rd->seen);
    if (l + strlen(name) + 2 < sizeof(rd->seen))
        snprintf(rd->seen + l, sizeof(rd->seen) - l, "%s%s", l ? " " : "", name);
}

static int structure_error(struct msigi_rd *rd, const char *name, const char *want)
{
    return msigi_err(rd->ctx, MSIG_E_FORMAT,
                     "%s: invalid structure: entry '%s' where %s was expected (entries so far: "
                     "[%s])",
                     rd->name, name, want, rd->seen);
}

static int read_version(struct msigi_rd *rd, struct archive_entry *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    int rc = read_small_entry(rd, e, MAX_VERSION_BYTES, &buf, &len);
    if (rc)
        return rc;
    static const char *const keys[] = { "format", "version", NULL };
    if ((rc = msigi_rd_json(rd, buf, len, "version", &j)))
        goto out;
    if (!json_is_object(j)) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: version must be a JSON object", rd->name);
        goto out;
    }
    if ((rc = msigi_rd_only_keys(rd, j, "version", keys)))
        goto out;
    json_t *f = json_object_get(j, "format");
    json_t *v = json_object_get(j, "version");
    if (!json_is_integer(v)) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: version: \"version\" must be a number",
                       rd->name);
        goto out;
    }
    json_int_t ver = json_integer_value(v);
    rd->art->version = (int)(ver > 0 && ver < 1000 ? ver : 0);
    if (!json_is_string(f) || strcmp(json_string_value(f), "mender") != 0) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: version: format is %s%s%s, not \"mender\"",
                       rd->name, json_is_string(f) ? "\"" : "",
                       json_is_string(f) ? json_string_value(f) : "missing",
                       json_is_string(f) ? "\"" : "");
        goto out;
    }
    rd->art->format = msigi_strdup("mender");
    if (ver == 1) {
        rc = msigi_err(rd->ctx, MSIG_E_VERSION, "%s: artifact version 1 is no longer supported",
                       rd->name);
        goto out;
    }
    if (ver != 2 && ver != 3) {
        rc = msigi_err(rd->ctx, MSIG_E_VERSION, "%s: unsupported artifact version: %lld", rd->name,
                       (long long)ver);
        goto out;
    }
    /* Kept to check against the manifest's version line. */
    rd->manifest_raw = buf; /* temporarily holds the version bytes */
    rd->manifest_len = len;
    buf = NULL;
    rc = 0;
out:
    json_decref(j);
    msigi_free(buf);
    return rc;
}

/* Checks a manifest name's shape: version, header(-augment).tar[EXT], data/NNNN/<file>. */
static int check_manifest_names(struct msigi_rd *rd, const char *what)
{
    for (size_t i = 0; i < rd->man.count; i++) {
        const char *n = rd->man.lines[i].name;
        size_t bl;
        if (strcmp(n, "version") == 0)
            continue;
        if (strncmp(n, "header", 6) == 0) {
            msigi_z_family_from_name(n, &bl);
            if ((bl == 10 && strncmp(n, "header.tar", 10) == 0) ||
                (bl == 18 && strncmp(n, "header-augment.tar", 18) == 0))
                continue;
        }
        if (strncmp(n, "data/", 5) == 0 && strlen(n) > 10 && n[9] == '/' &&
            msigi_rd_index4(n + 5, 4) >= 0 && msigi_name_payload_ok(n + 10))
            continue;
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: malformed entry name '%.300s'", rd->name,
                         what, n);
    }
    return 0;
}

static int read_manifest(struct msigi_rd *rd, struct archive_entry *e)
{
    uint8_t *vbytes = rd->manifest_raw;
    size_t vlen = rd->manifest_len;
    rd->manifest_raw = NULL;
    rd->manifest_len = 0;
    int rc =
        read_small_entry(rd, e, MSIGI_MANIFEST_MAX_BYTES, &rd->manifest_raw, &rd->manifest_len);
    if (rc == 0)
        rc = msigi_manifest_parse(rd->ctx, &rd->man, rd->manifest_raw, rd->manifest_len, "manifest",
                                  0);
    if (rc) {
        if (rc == MSIG_E_FORMAT || rc == MSIG_E_LIMIT)
            msigi_err_prefix(rd->ctx, rc, "%s", rd->name);
        goto out;
    }
    if ((rc = check_manifest_names(rd, "manifest")))
        goto out;
    struct msigi_mline *vl = msigi_manifest_find(&rd->man, "version");
    if (!vl) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: the manifest has no checksum for 'version'",
                       rd->name);
        goto out;
    }
    uint8_t d[32];
    char hex[65];
    unsigned int dl = 0;
    EVP_Digest(vbytes, vlen, d, &dl, EVP_sha256(), NULL);
    msigi_hex(d, 32, hex);
    vl->consumed = 1;
    if (strcmp(hex, vl->hex) != 0) {
        rc = msigi_err(rd->ctx, MSIG_E_CHECKSUM,
                       "%s: version: invalid checksum; expected: [%s]; "
                       "actual: [%s]",
                       rd->name, vl->hex, hex);
        goto out;
    }
    rc = 0;
out:
    msigi_free(vbytes);
    return rc;
}

static int read_signature(struct msigi_rd *rd, struct archive_entry *e)
{
    uint8_t *sig = NULL;
    size_t len = 0;
    int rc = read_small_entry(rd, e, MAX_SIG_BYTES, &sig, &len);
    if (rc)
        return rc;
    struct msig_artifact *art = rd->art;
    if (!rd->r->keys || msig_pubkeys_count(rd->r->keys) == 0) {
        art->sig_state = MSIG_SIGNATURE_UNCHECKED;
    } else {
        int which = -1;
        rc = msigi_verify_manifest(rd->ctx, rd->r->keys, rd->manifest_raw, rd->manifest_len, sig,
                                   len, &which);
        if (rc == 0) {
            art->sig_state = MSIG_SIGNATURE_VERIFIED;
            art->sig_key = which;
        } else {
            /* Remembered, not returned: structure and checksum errors take precedence. */
            art->sig_state = MSIG_SIGNATURE_FAILED;
            art->sig_error = msigi_strdup(rd->ctx->errbuf[0] ? rd->ctx->errbuf
                                                             : "signature verification failed");
            msigi_err_clear(rd->ctx);
            if (rc == MSIG_E_NOMEM) {
                msigi_free(sig);
                return msigi_err(rd->ctx, rc, "out of memory verifying the signature");
            }
        }
    }
    msigi_free(sig);
    return 0;
}

static int read_manifest_augment(struct msigi_rd *rd, struct archive_entry *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_small_entry(rd, e, MSIGI_MANIFEST_MAX_BYTES, &buf, &len);
    if (rc == 0)
        rc = msigi_manifest_parse(rd->ctx, &rd->man, buf, len, "manifest-augment", 1);
    if (rc == MSIG_E_FORMAT || rc == MSIG_E_LIMIT)
        msigi_err_prefix(rd->ctx, rc, "%s", rd->name);
    if (rc == 0)
        rc = check_manifest_names(rd, "manifest-augment");
    msigi_free(buf);
    rd->have_augment = 1;
    rd->art->augmented = 1;
    return rc;
}

/* Is name "<base><ext>" with ext one of the compression suffixes? Sets the family. */
static int match_compressed(const char *name, const char *base, int *family)
{
    size_t bl;
    int fam = msigi_z_family_from_name(name, &bl);
    if (bl != strlen(base) || strncmp(name, base, bl) != 0)
        return 0;
    if (fam == MSIGI_Z_NONE && name[bl] != '\0')
        return 0;
    *family = fam;
    return 1;
}

/* ------------------------------------------------------------------ the states of the walk */

/* Each state takes the entry `name` (a regular file) and moves rd->state on. */
typedef int state_fn(struct msigi_rd *rd, struct archive_entry *e, const char *name);

static int st_version(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    if (strcmp(name, "version") != 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: the first entry must be 'version', "
                         "not '%.300s'",
                         rd->name, name);
    int rc = read_version(rd, e);
    if (rc == 0)
        rd->state = MSIGI_RD_MANIFEST;
    return rc;
}

static int st_manifest(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    if (strcmp(name, "manifest") != 0)
        return structure_error(rd, name, "'manifest'");
    int rc = read_manifest(rd, e);
    if (rc == 0)
        rd->state = MSIGI_RD_AFTER_MANIFEST;
    return rc;
}

/* header.tar<EXT>, which fixes the compression of the rest; want: what else was allowed. */
static int take_header(struct msigi_rd *rd, const char *name, const char *want)
{
    int fam = 0;
    if (!match_compressed(name, "header.tar", &fam))
        return structure_error(rd, name, want);
    rd->zfamily = fam;
    rd->ext = msigi_z_suffix(fam);
    int rc = msigi_rd_header(rd, name, 0);
    if (rc == 0)
        rd->state = rd->have_augment ? MSIGI_RD_AFTER_HEADER : MSIGI_RD_DATA;
    return rc;
}

static int take_augment(struct msigi_rd *rd, struct archive_entry *e)
{
    int rc = read_manifest_augment(rd, e);
    if (rc == 0)
        rd->state = MSIGI_RD_AFTER_AUG;
    return rc;
}

static int st_after_manifest(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    if (strcmp(name, "manifest.sig") == 0) {
        int rc = read_signature(rd, e);
        if (rc == 0)
            rd->state = MSIGI_RD_AFTER_SIG;
        return rc;
    }
    if (rd->art->version == 3 && strcmp(name, "manifest-augment") == 0)
        return take_augment(rd, e);
    return take_header(rd, name, "manifest.sig, manifest-augment or header.tar");
}

static int st_after_sig(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    if (rd->art->version == 3 && strcmp(name, "manifest-augment") == 0)
        return take_augment(rd, e);
    return take_header(rd, name, "header.tar");
}

static int st_after_aug(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    (void)e;
    return take_header(rd, name, "header.tar");
}

static int st_after_header(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    (void)e;
    char want[64];
    snprintf(want, sizeof(want), "header-augment.tar%s", rd->ext);
    if (strcmp(name, want) != 0)
        return structure_error(rd, name, "header-augment.tar with the header's compression");
    int rc = msigi_rd_header(rd, name, 1);
    if (rc == 0)
        rd->state = MSIGI_RD_DATA;
    return rc;
}

static int st_data(struct msigi_rd *rd, struct archive_entry *e, const char *name)
{
    (void)e;
    size_t nl = strlen(name), el = strlen(rd->ext);
    int idx = -1;
    if (strncmp(name, "data/", 5) == 0 && nl == 5 + 4 + 4 + el &&
        strncmp(name + 9, ".tar", 4) == 0 && strcmp(name + 13, rd->ext) == 0)
        idx = msigi_rd_index4(name + 5, 4);
    if (idx < 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: invalid data entry name '%.300s' "
                         "(want data/NNNN.tar%s after the header)",
                         rd->name, name, rd->ext);
    if (idx <= rd->last_data_index)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: data entry '%s' is %s", rd->name, name,
                         idx == rd->last_data_index ? "stored twice" : "out of order");
    if ((size_t)idx >= rd->art->npayloads)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: data entry '%s' has no payload in "
                         "header-info (%zu payload(s) declared)",
                         rd->name, name, rd->art->npayloads);
    rd->last_data_index = idx;
    return msigi_rd_data(rd, name, idx);
}

static state_fn *const STATES[] = {
    [MSIGI_RD_VERSION] = st_version,
    [MSIGI_RD_MANIFEST] = st_manifest,
    [MSIGI_RD_AFTER_MANIFEST] = st_after_manifest,
    [MSIGI_RD_AFTER_SIG] = st_after_sig,
    [MSIGI_RD_AFTER_AUG] = st_after_aug,
    [MSIGI_RD_AFTER_HEADER] = st_after_header,
    [MSIGI_RD_DATA] = st_data,
};

/* The next outer entry: 1 (e set), 0 at the end, or a negative error. */
static int next_entry(struct msigi_rd *rd, struct archive_entry **e, const char **name)
{
    int ar = archive_read_next_header(rd->outer, e);
    if (ar == ARCHIVE_EOF)
        return 0;
    if (ar != ARCHIVE_OK) {
        if (rd->state == MSIGI_RD_VERSION && !rd->src_failed && rd->outer_count == 0)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: not a Mender Artifact: %s", rd->name,
                             archive_error_string(rd->outer) ? archive_error_string(rd->outer)
                                                             : "not a tar archive");
        return outer_error(rd, "reading the artifact");
    }
    if (++rd->outer_count > MAX_OUTER_ENTRIES)
        return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: more than %u entries", rd->name,
                         MAX_OUTER_ENTRIES);
    int rc = msigi_rd_same_entry(rd, &rd->guard, *e, "the artifact");
    if (rc != 0)
        return rc;
    *name = archive_entry_pathname(*e);
    if (!*name || strlen(*name) > MSIGI_RD_MAX_NAME)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: entry with a missing or too long name",
                         rd->name);
    if (archive_entry_filetype(*e) != AE_IFREG)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: entry '%.300s' is not a regular file",
                         rd->name, *name);
    return 1;
}

/* ------------------------------------------------------------------ the checks at the end */

static int check_ended(struct msigi_rd *rd)
{
    if (rd->state == MSIGI_RD_VERSION)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: empty file or tar archive: no 'version' "
                         "entry",
                         rd->name);
    if (rd->state != MSIGI_RD_DATA)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: the artifact ends early (entries: [%s])",
                         rd->name, rd->seen);
    for (size_t i = 0; i < rd->art->npayloads; i++) {
        if (!rd->art->payloads[i].has_data)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: payload %04zu declared in header-info "
                             "has no data/%04zu.tar%s entry",
                             rd->name, i, i, rd->ext);
    }
    return 0;
}

/* Every manifest line must belong to a payload and be matched. */
static int check_manifest_used(struct msigi_rd *rd)
{
    char missing[1024] = "";
    size_t nmissing = 0;
    for (size_t i = 0; i < rd->man.count; i++) {
        struct msigi_mline *ml = &rd->man.lines[i];
        if (strncmp(ml->name, "data/", 5) == 0 &&
            (size_t)msigi_rd_index4(ml->name + 5, 4) >= rd->art->npayloads)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: manifest entry '%s' does not belong to "
                             "any payload",
                             rd->name, ml->name);
        if (!ml->consumed) {
            size_t l = strlen(missing);
            if (l + strlen(ml->name) + 3 < sizeof(missing))
                snprintf(missing + l, sizeof(missing) - l, "%s%s", nmissing ? ", " : "", ml->name);
            nmissing++;
        }
    }
    if (nmissing)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: files listed in the manifest but not in "
                         "the artifact: %s",
                         rd->name, missing);
    return 0;
}

static int check_payload_files(struct msigi_rd *rd)
{
    for (size_t i = 0; i < rd->art->npayloads; i++) {
        struct msigi_payload *p = &rd->art->payloads[i];
        if (p->type && strcmp(p->type, "rootfs-image") == 0 && p->nfiles != 1)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: a rootfs-image payload must hold "
                             "exactly one file, payload %04zu holds %zu",
                             rd->name, i, p->nfiles);
        if (!p->type && p->nfiles != 0)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: the empty (bootstrap) payload %04zu "
                             "holds %zu file(s)",
                             rd->name, i, p->nfiles);
    }
    return 0;
}

static int check_augment(struct msigi_rd *rd)
{
    struct msig_artifact *art = rd->art;
    if (art->augmented && (rd->r->flags & MSIG_READ_F_NO_AUGMENT) && rd->r->keys &&
        msig_pubkeys_count(rd->r->keys) > 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: the artifact has augmented parts "
                         "(manifest-augment, header-augment), which the signature does not "
                         "cover, and augmented parts are refused (--no-augment)",
                         rd->name);
    if (art->augmented && art->sig_state != MSIG_SIGNATURE_NONE)
        msigi_log(rd->ctx, MSIG_LOG_WARN,
                  "%s: the augmented parts (manifest-augment, "
                  "header-augment and the files it lists) are not covered by the signature",
                  rd->name);
    return 0;
}

static int read_all(struct msigi_rd *rd)
{
    struct archive_entry *e = NULL;
    const char *name = NULL;
    int rc;
    while ((rc = next_entry(rd, &e, &name)) > 0) {
        if ((rc = STATES[rd->state](rd, e, name)) != 0)
            return rc;
        seen_add(rd, name);
    }
    if (rc < 0)
        return rc;
    if ((rc = check_ended(rd)) != 0 || (rc = check_manifest_used(rd)) != 0 ||
        (rc = check_payload_files(rd)) != 0)
        return rc;
    return check_augment(rd);
}

int msigi_rd_stream(struct msig_reader *r, msig_read_fn *src, void *src_user, const char *name,
                    uint64_t total, int io_stage_ok, struct msig_artifact **out)
{
    struct msigi_rd rd;
    memset(&rd, 0, sizeof(rd));
    rd.total = total;
    rd.ctx = r->ctx;
    rd.r = r;
    rd.name = name ? name : "artifact";
    rd.src = src;
    rd.src_user = src_user;
    rd.last_data_index = -1;
    rd.ext = "";
    rd.octx = r->ctx;
    rd.threads = msig_ctx_threads(r->ctx);
    rd.io_stage_ok = io_stage_ok;
    msigi_err_clear(r->ctx);
    int rc;
    rd.art = msigi_artifact_new();
    rd.inbuf = msigi_malloc(MSIGI_RD_IOBUF);
    msigi_tg_init(&rd.guard);
    rd.outer = archive_read_new();
    if (!rd.art || !rd.inbuf || !rd.outer) {
        rc = msigi_err(r->ctx, MSIG_E_NOMEM, "out of memory");
        goto out;
    }
    if (archive_read_support_format_tar(rd.outer) != ARCHIVE_OK) {
        rc = msigi_err(r->ctx, MSIG_E_FAILED, "cannot set up the tar reader");
        goto out;
    }
    if (rd.threads > 1 && rd.io_stage_ok &&
        (rc = msigi_pipe_start(r->ctx, io_fill, &rd, MSIGI_RD_IO_SLOTS, MSIGI_RD_IOBUF, &rd.io)) !=
            0)
        goto out;
    if (archive_read_open(rd.outer, &rd, NULL, outer_read_cb, NULL) != ARCHIVE_OK) {
        rc = rd.src_failed
                 ? MSIG_E_IO
                 : msigi_err(r->ctx, MSIG_E_FORMAT, "%s: not a Mender Artifact: %s", rd.name,
                             archive_error_string(rd.outer) ? archive_error_string(rd.outer)
                                                            : "not a tar archive");
        goto out;
    }
    rc = read_all(&rd);
    int frc = msigi_artifact_finish(rd.art);
    if (rc == 0 && frc)
        rc = msigi_err(r->ctx, frc, "out of memory");
out:
    msigi_pipe_free(rd.io);
    if (rd.outer)
        archive_read_free(rd.outer);
    msigi_tg_free(&rd.guard);
    msigi_free(rd.inbuf);
    msigi_free(rd.manifest_raw);
    msigi_manifest_clear(&rd.man);
    if (out) {
        *out = rd.art;
    } else {
        msig_artifact_free(rd.art);
    }
    return rc;
}
