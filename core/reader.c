/* reader.c -- reads and checks a Mender Artifact (format 3, and 2) in one streaming pass.
 *
 * The outer tar is parsed by libarchive (tar formats only, no filters: compression is chosen
 * by entry name, never by magic bytes, spec §8). Each compressed entry is decompressed by
 * zstream.c and its inner tar is parsed by a second libarchive reader pulling from it. Payload
 * bytes are hashed while they stream and are never held in memory; everything kept in memory
 * (version, manifests, signature, JSON headers) has a hard size cap.
 *
 * Where mender-artifact 3.9.0 is lax, this reader is strict (see the README's compatibility
 * section): a second data/NNNN entry, a payload file stored twice, a missing type-info, a
 * declared payload without data, a version whose format is not "mender", and any entry that is
 * not a regular file are errors. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "artifact.h"
#include "ctx.h"
#include "manifest.h"
#include "names.h"
#include "pipe.h"
#include "signer.h"
#include "targuard.h"
#include "text.h"
#include "zdec.h"

#define IOBUF (256u * 1024u)
#define MAX_VERSION_BYTES 4096u
#define MAX_SIG_BYTES 16384u
#define MAX_JSON_BYTES (1u << 20)
#define MAX_JSON_DEPTH 32
#define MAX_OUTER_ENTRIES 1024u
#define MAX_HEADER_ENTRIES 1024u
#define MAX_PAYLOADS 16u
#define MAX_NAME 4096u
#define MAX_STRING 256u
/* Pipeline stages (msig_ctx_threads > 1): slots of IOBUF bytes between the threads. */
#define IO_SLOTS 4u
#define DEC_SLOTS 4u

struct msig_reader {
    struct msig_ctx *ctx;
    const struct msig_pubkeys *keys;
    uint32_t flags; /* MSIG_READ_F_* */
    msig_file_fn *file_fn;
    void *file_user;
};

/* One compressed outer entry being read: outer archive -> (hash) -> decoder -> inner tar. */
struct zsrc {
    struct rd *rd;
    EVP_MD_CTX *md; /* hash of the compressed bytes, or NULL */
    int failed;     /* the outer read failed (message in ctx) */
};

struct inner {
    struct zsrc zs;
    struct msigi_zdec *dec;
    struct msigi_targuard guard; /* the strict tar layer in front of libarchive */
    struct archive *a;
    uint8_t *buf;   /* decompressed bytes handed to libarchive */
    uint8_t *obuf;  /* file data read out of libarchive */
    int dec_failed; /* decoder error (message in ctx) */
    /* Decode stage (threads > 1): a worker runs the outer reads and the decoder, the calling
     * thread the inner tar, the hashes and the callbacks. */
    struct msigi_pipe *pipe;
    struct msig_ctx wctx; /* the worker's errors, taken over in stream order */
};

struct rd {
    struct msig_ctx *ctx;
    struct msig_reader *r;
    const char *name; /* artifact name for messages */
    msig_read_fn *src;
    void *src_user;
    uint8_t *inbuf;
    int src_failed;
    struct msigi_targuard guard; /* the strict tar layer in front of libarchive */
    uint64_t done, total;        /* progress: bytes read of the artifact (total 0: unknown) */
    struct archive *outer;
    struct msig_artifact *art;
    struct msigi_manifest man;
    uint8_t *manifest_raw;
    size_t manifest_len;
    int zfamily; /* compression of header and data, from the header's name */
    const char *ext;
    int have_augment; /* manifest-augment seen */
    char seen[1024];  /* names so far, for structure messages */
    unsigned outer_count;
    int last_data_index;
    char outer_msg[512];   /* why the outer stream failed under a decoder */
    int threads;           /* msig_ctx_threads */
    int io_stage_ok;       /* the source is a regular file: reads may run ahead */
    struct msigi_pipe *io; /* I/O stage, or NULL */
    struct msig_ctx *octx; /* where outer-stream errors go: ctx, or a worker's */
    int on_worker;         /* the outer stream is being read by a decode worker */
    uint64_t reported;     /* progress reported so far */
};

/* ------------------------------------------------------------------ helpers */

static int sha256_init(struct msig_ctx *ctx, EVP_MD_CTX **md)
{
    *md = EVP_MD_CTX_new();
    if (!*md || EVP_DigestInit_ex(*md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(*md);
        *md = NULL;
        return msigi_err(ctx, MSIG_E_FAILED, "cannot initialise SHA-256");
    }
    return 0;
}

static void sha256_hex(EVP_MD_CTX *md, char out[65])
{
    uint8_t d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    msigi_hex(d, 32, out);
}

static void seen_add(struct rd *rd, const char *name)
{
    size_t l = strlen(rd->seen);
    if (l + strlen(name) + 2 < sizeof(rd->seen))
        snprintf(rd->seen + l, sizeof(rd->seen) - l, "%s%s", l ? " " : "", name);
}

static int structure_error(struct rd *rd, const char *name, const char *want)
{
    return msigi_err(rd->ctx, MSIG_E_FORMAT,
                     "%s: invalid structure: entry '%s' where %s was expected (entries so far: "
                     "[%s])",
                     rd->name, name, want, rd->seen);
}

/* Parses "NNNN" (exactly four digits). */
static int parse_index4(const char *s, size_t len)
{
    if (len != 4)
        return -1;
    int v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Nesting depth of JSON text, counted outside strings, so that deep input is refused before
 * the parser recurses into it. */
static int json_depth_ok(const uint8_t *buf, size_t len)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_JSON_DEPTH)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

static int parse_json(struct rd *rd, const uint8_t *buf, size_t len, const char *what, json_t **out)
{
    *out = NULL;
    if (!json_depth_ok(buf, len))
        return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: %s is nested deeper than %d levels", rd->name,
                         what, MAX_JSON_DEPTH);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    /* JSON has no integer limit (Go reads numbers as float64): an integer beyond 64 bits is
     * valid, so it is read again with every number as a real. */
    if (!j && json_error_code(&jerr) == json_error_numeric_overflow)
        j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                       &jerr);
    if (!j)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s is not valid JSON: %s (line %d, column %d)", rd->name, what,
                         jerr.text, jerr.line, jerr.column);
    *out = j;
    return 0;
}

/* Rejects keys of obj not in the NULL-terminated list. */
static int only_keys(struct rd *rd, json_t *obj, const char *what, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach (obj, k, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s has an unknown field \"%s\"", rd->name,
                             what, k);
    }
    return 0;
}

/* A header string (name, group, device type): at most 256 bytes, no control characters. */
/* The printable-text rule (text.c) for a header string: s of len bytes, named field. */
static int check_text(struct rd *rd, const char *s, size_t len, const char *what, const char *field)
{
    size_t at = 0;
    uint32_t cp = 0;

    if (len > MAX_STRING)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s is %zu bytes, more than %u", rd->name,
                         what, field, len, MAX_STRING);
    if (msigi_text_check(s, len, &at, &cp) != 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: %s contains a control character "
                         "(U+%04X at byte %zu)",
                         rd->name, what, field, (unsigned)cp, at);
    return 0;
}

static int check_string(struct rd *rd, json_t *v, const char *what, const char *field)
{
    if (!json_is_string(v))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must be a string", rd->name, what,
                         field);
    return check_text(rd, json_string_value(v), json_string_length(v), what, field);
}

/* Every key and string value of a provides, depends or clears object, nested lists too. */
static int check_strings(struct rd *rd, json_t *v, const char *what, const char *field)
{
    const char *k;
    json_t *e;
    size_t i;
    int rc = 0;

    if (json_is_string(v))
        return check_string(rd, v, what, field);
    if (json_is_array(v)) {
        json_array_foreach (v, i, e)
            if (rc == 0)
                rc = check_strings(rd, e, what, field);
        return rc;
    }
    if (json_is_object(v)) {
        json_object_foreach (v, k, e) {
            if (rc == 0)
                rc = check_text(rd, k, strlen(k), what, field);
            if (rc == 0)
                rc = check_strings(rd, e, what, field);
        }
    }
    return rc;
}

static int string_list(struct rd *rd, json_t *arr, const char *what, const char *field,
                       int need_nonempty, struct msigi_strv *out)
{
    if (!json_is_array(arr))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must be a list of strings", rd->name,
                         what, field);
    if (need_nonempty && json_array_size(arr) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must not be empty", rd->name, what,
                         field);
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        int rc = check_string(rd, v, what, field);
        if (rc)
            return rc;
        if (msigi_strv_push(out, json_string_value(v)))
            return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    }
    return 0;
}

/* ------------------------------------------------------------------ outer stream */

/* Progress goes to the application only from the calling thread, never backwards. */
static void report_progress(struct rd *rd, uint64_t done)
{
    if (done < rd->reported)
        return;
    rd->reported = done;
    msigi_progress(rd->ctx, done, rd->total > done ? rd->total : done);
}

/* One read of the source (the I/O stage's fill function, or the direct read). */
static msig_ssize src_read(struct rd *rd, uint8_t *buf, size_t cap)
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
    struct rd *rd = user;
    const uint8_t *p = rd->inbuf;
    msig_ssize n = rd->io ? msigi_pipe_next(rd->io, &p, NULL) : src_read(rd, rd->inbuf, IOBUF);
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

/* libarchive and the strict tar layer must have seen the same entry (name and size). */
static int same_entry(struct rd *rd, struct msigi_targuard *g, struct archive_entry *e,
                      const char *what)
{
    struct msigi_tg_entry t;
    const char *name = archive_entry_pathname(e);

    if (msigi_tg_next(g, &t) != 0 || name == NULL ||
        t.name_hash != msigi_tg_name_hash(name, strlen(name)) ||
        (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) != t.size))
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: entry '%.200s': the tar reader and "
                         "msig's tar layer read different names or sizes",
                         rd->name, what, name ? name : "?");
    return 0;
}

/* Outer archive error: keep the source's own message when the source failed. */
static int outer_error(struct rd *rd, const char *doing)
{
    if (rd->src_failed)
        return MSIG_E_IO;
    const char *e = archive_error_string(rd->outer);
    return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s", rd->name, doing,
                     e ? e : "malformed tar archive");
}

/* Reads exactly size bytes of the current entry of a into buf. Returns the count read (less
 * at a premature end), or -1 when the archive reports an error. */
static la_ssize_t read_exact(struct archive *a, uint8_t *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        la_ssize_t n = archive_read_data(a, buf + got, size - got);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (la_ssize_t)got;
}

/* Reads the current outer entry's data into memory (at most cap bytes). */
static int read_small_entry(struct rd *rd, struct archive_entry *e, size_t cap, uint8_t **out,
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
    la_ssize_t r = read_exact(rd->outer, buf, (size_t)size);
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

/* ------------------------------------------------------------------ inner tar over decoder */

static msig_ssize zsrc_read(void *user, void *buf, size_t len)
{
    struct zsrc *zs = user;
    la_ssize_t n = archive_read_data(zs->rd->outer, buf, len);
    if (n < 0) {
        zs->failed = 1;
        struct rd *rd = zs->rd;
        if (!rd->src_failed) {
            const char *e = archive_error_string(rd->outer);
            snprintf(rd->outer_msg, sizeof(rd->outer_msg), "%s", e ? e : "malformed tar archive");
        }
        errno = EIO;
        return -1;
    }
    if (n > 0 && zs->md)
        EVP_DigestUpdate(zs->md, buf, (size_t)n);
    return n;
}

/* The decode stage's fill function: runs on the worker, which owns the outer stream. */
static msig_ssize dec_fill(void *user, uint8_t *buf, size_t cap, uint64_t *tag)
{
    struct inner *in = user;
    msig_ssize n = msigi_zdec_read(in->dec, buf, cap);
    *tag = in->zs.rd->done;
    return n;
}

/* The outer stream belongs to the calling thread again (the decode worker has ended). */
static void stage_end(struct rd *rd)
{
    rd->octx = rd->ctx;
    rd->on_worker = 0;
}

/* The next decompressed bytes: from the decode stage, or from the decoder directly. Both give
 * the same results in the same order; the stage's errors are taken over here, in order. */
static msig_ssize inner_pull(struct inner *in, const uint8_t **p)
{
    struct rd *rd = in->zs.rd;
    if (!in->pipe) {
        *p = in->buf;
        return msigi_zdec_read(in->dec, in->buf, IOBUF);
    }
    uint64_t done = 0;
    msig_ssize n = msigi_pipe_next(in->pipe, p, &done);
    report_progress(rd, done);
    if (n < 0 && (in->wctx.errcode || in->wctx.errbuf[0])) {
        memcpy(rd->ctx->errbuf, in->wctx.errbuf, sizeof(rd->ctx->errbuf));
        rd->ctx->errcode = in->wctx.errcode;
    }
    if (n <= 0)
        stage_end(rd);
    return n;
}

static la_ssize_t inner_read_cb(struct archive *a, void *user, const void **buf)
{
    struct inner *in = user;
    const uint8_t *p = NULL;
    msig_ssize n = inner_pull(in, &p);
    if (n < 0) {
        in->dec_failed = 1;
        archive_set_error(a, EIO, "decompression failed");
        return -1;
    }
    if ((n > 0 ? msigi_tg_feed(&in->guard, p, (size_t)n) : msigi_tg_finish(&in->guard)) != 0) {
        archive_set_error(a, EINVAL, "%s", in->guard.msg);
        return -1;
    }
    *buf = p;
    return (la_ssize_t)n;
}

/* Stops the decode stage. What the worker did ahead of the calling thread is dropped: a
 * failure it met further on was not reached in stream order, as with one thread. */
static void inner_stop(struct inner *in)
{
    if (!in->pipe)
        return;
    msigi_pipe_free(in->pipe);
    in->pipe = NULL;
    if (!in->dec_failed) {
        in->zs.rd->src_failed = 0;
        in->zs.failed = 0;
    }
    stage_end(in->zs.rd);
}

static int inner_error(struct rd *rd, struct inner *in, const char *what, const char *doing);

static void inner_close(struct inner *in)
{
    inner_stop(in);
    if (in->a)
        archive_read_free(in->a);
    msigi_zdec_free(in->dec);
    msigi_tg_free(&in->guard);
    msigi_free(in->buf);
    msigi_free(in->obuf);
    memset(in, 0, sizeof(*in));
}

/* Starts the decode stage: from here until it ends, the worker owns the outer stream and the
 * decoder, whose errors go to in->wctx. */
static int inner_stage(struct rd *rd, struct inner *in, const char *what)
{
    int rc = msigi_zdec_new(&in->wctx, rd->zfamily, zsrc_read, &in->zs, what, &in->dec);
    if (rc == 0) {
        rd->octx = &in->wctx;
        rd->on_worker = 1;
        rc = msigi_pipe_start(&in->wctx, dec_fill, in, DEC_SLOTS, IOBUF, &in->pipe);
        if (rc)
            stage_end(rd);
    }
    if (rc) {
        memcpy(rd->ctx->errbuf, in->wctx.errbuf, sizeof(rd->ctx->errbuf));
        rd->ctx->errcode = in->wctx.errcode;
    }
    return rc;
}

/* staged: run decompression on a worker thread (data entries, threads > 1). */
static int inner_open(struct rd *rd, struct inner *in, const char *what, EVP_MD_CTX *md, int staged)
{
    memset(in, 0, sizeof(*in));
    msigi_tg_init(&in->guard);
    in->zs.rd = rd;
    in->zs.md = md;
    in->buf = msigi_malloc(IOBUF);
    in->obuf = msigi_malloc(IOBUF);
    if (!in->buf || !in->obuf)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory reading %s", what);
    int rc = staged && rd->threads > 1
                 ? inner_stage(rd, in, what)
                 : msigi_zdec_new(rd->ctx, rd->zfamily, zsrc_read, &in->zs, what, &in->dec);
    if (rc)
        return rc;
    in->a = archive_read_new();
    if (!in->a || archive_read_support_format_tar(in->a) != ARCHIVE_OK)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "cannot set up the tar reader for %s", what);
    if (archive_read_open(in->a, in, NULL, inner_read_cb, NULL) != ARCHIVE_OK) {
        if (in->dec_failed || in->zs.failed)
            return inner_error(rd, in, what, "opening");
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is not a tar archive: %s", rd->name, what,
                         archive_error_string(in->a));
    }
    return 0;
}

/* Error from the inner archive: prefer the decoder's or the outer stream's own message. */
static int inner_error(struct rd *rd, struct inner *in, const char *what, const char *doing)
{
    inner_stop(in);
    if (rd->src_failed)
        return rd->ctx->errcode ? rd->ctx->errcode : MSIG_E_IO;
    if (in->zs.failed)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s", rd->name, what, rd->outer_msg);
    if (in->dec_failed)
        return msigi_err_prefix(
            rd->ctx, msigi_zdec_error(in->dec) ? msigi_zdec_error(in->dec) : MSIG_E_FORMAT, "%s",
            rd->name);
    const char *e = archive_error_string(in->a);
    return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s: %s", rd->name, what, doing,
                     e ? e : "malformed tar archive");
}

/* After the inner tar's end: the compressed stream must end cleanly, with nothing after it. */
static int inner_drain(struct rd *rd, struct inner *in, const char *what)
{
    for (;;) {
        const uint8_t *p = NULL;
        msig_ssize n = inner_pull(in, &p);
        if (n < 0) {
            in->dec_failed = 1;
            return inner_error(rd, in, what, "draining");
        }
        if (n == 0)
            return 0;
        for (msig_ssize i = 0; i < n; i++) {
            if (p[i] != 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: %s has data after the end of its tar archive", rd->name,
                                 what);
        }
    }
}

static int inner_read_small(struct rd *rd, struct inner *in, struct archive_entry *e,
                            const char *what, uint8_t **out, size_t *out_len)
{
    const char *name = archive_entry_pathname(e);
    la_int64_t size = archive_entry_size(e);
    *out = NULL;
    *out_len = 0;
    if (size < 0 || (uint64_t)size > MAX_JSON_BYTES)
        return msigi_err(rd->ctx, MSIG_E_LIMIT,
                         "%s: %s: '%s' is %lld bytes, more than the "
                         "limit of %u",
                         rd->name, what, name, (long long)size, MAX_JSON_BYTES);
    uint8_t *buf = msigi_malloc((size_t)size + 1);
    if (!buf)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    la_ssize_t r = read_exact(in->a, buf, (size_t)size);
    if (r < 0) {
        msigi_free(buf);
        return inner_error(rd, in, what, "reading");
    }
    size_t got = (size_t)r;
    if (got != (size_t)size) {
        msigi_free(buf);
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: '%s' is truncated", rd->name, what, name);
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return 0;
}

/* ------------------------------------------------------------------ header JSON */

static int parse_header_info_v3(struct rd *rd, json_t *j, const char *what, int augment)
{
    static const char *const top[] = { "payloads", "artifact_provides", "artifact_depends", NULL };
    static const char *const prov[] = { "artifact_name", "artifact_group", NULL };
    static const char *const deps[] = { "artifact_name", "device_type", "artifact_group", NULL };
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if ((rc = only_keys(rd, j, what, top)))
        return rc;
    json_t *pl = json_object_get(j, "payloads");
    if (!json_is_array(pl) || json_array_size(pl) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: payloads must be a non-empty list",
                         rd->name, what);
    if (json_array_size(pl) > MAX_PAYLOADS)
        return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: %s declares %zu payloads, more than %u",
                         rd->name, what, json_array_size(pl), MAX_PAYLOADS);
    if (augment && json_array_size(pl) != art->npayloads)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s declares %zu payloads, header-info %zu",
                         rd->name, what, json_array_size(pl), art->npayloads);
    if (!augment && (rc = msigi_artifact_set_payloads(art, json_array_size(pl))))
        return msigi_err(rd->ctx, rc, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach (pl, i, v) {
        static const char *const pk[] = { "type", NULL };
        char field[32];
        snprintf(field, sizeof(field), "payloads[%zu]", i);
        if (!json_is_object(v))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must be an object", rd->name, what,
                             field);
        if ((rc = only_keys(rd, v, what, pk)))
            return rc;
        json_t *t = json_object_get(v, "type");
        char **dst = augment ? &art->payloads[i].aug_type : &art->payloads[i].type;
        if (t && !json_is_null(t)) {
            if ((rc = check_string(rd, t, what, field)))
                return rc;
            if (json_string_length(t) == 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s has an empty type", rd->name,
                                 what, field);
            *dst = msigi_strdup(json_string_value(t));
            if (!*dst)
                return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
        } else if (augment) {
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: an augmented payload needs a type",
                             rd->name, what);
        }
        if (augment && art->payloads[i].type == NULL)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: %s: a bootstrap payload (no type "
                             "in the signed header) cannot be augmented",
                             rd->name, what, field);
    }
    json_t *ap = json_object_get(j, "artifact_provides");
    json_t *ad = json_object_get(j, "artifact_depends");
    if (augment)
        return 0; /* the augment header repeats these; the signed header's values count */
    if (!json_is_object(ap))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_provides is missing", rd->name,
                         what);
    if ((rc = only_keys(rd, ap, "header-info artifact_provides", prov)))
        return rc;
    json_t *an = json_object_get(ap, "artifact_name");
    if (!an)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: artifact_provides.artifact_name is missing", rd->name, what);
    if ((rc = check_string(rd, an, what, "artifact_name")))
        return rc;
    if (json_string_length(an) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is empty", rd->name, what);
    art->name = msigi_strdup(json_string_value(an));
    json_t *ag = json_object_get(ap, "artifact_group");
    if (ag) {
        if ((rc = check_string(rd, ag, what, "artifact_group")))
            return rc;
        art->provides_group = msigi_strdup(json_string_value(ag));
    }
    if (ad) {
        if (!json_is_object(ad))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_depends must be an object",
                             rd->name, what);
        if ((rc = only_keys(rd, ad, "header-info artifact_depends", deps)))
            return rc;
        json_t *dt = json_object_get(ad, "device_type");
        if (!dt)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: artifact_depends.device_type is missing", rd->name, what);
        if ((rc = string_list(rd, dt, what, "device_type", 1, &art->devices)))
            return rc;
        json_t *dn = json_object_get(ad, "artifact_name");
        if (dn &&
            (rc = string_list(rd, dn, what, "artifact_depends.artifact_name", 0, &art->dep_names)))
            return rc;
        json_t *dg = json_object_get(ad, "artifact_group");
        if (dg && (rc = string_list(rd, dg, what, "artifact_depends.artifact_group", 0,
                                    &art->dep_groups)))
            return rc;
    }
    return 0;
}

static int parse_header_info_v2(struct rd *rd, json_t *j, const char *what)
{
    static const char *const top[] = { "artifact_name", "updates", "device_types_compatible",
                                       NULL };
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if ((rc = only_keys(rd, j, what, top)))
        return rc;
    json_t *an = json_object_get(j, "artifact_name");
    if (!an || (rc = check_string(rd, an, what, "artifact_name")))
        return an ? rc
                  : msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is missing", rd->name,
                              what);
    if (json_string_length(an) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is empty", rd->name, what);
    art->name = msigi_strdup(json_string_value(an));
    json_t *up = json_object_get(j, "updates");
    if (!json_is_array(up) || json_array_size(up) == 0 || json_array_size(up) > MAX_PAYLOADS)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: updates must be a list of 1 to %u "
                         "payloads",
                         rd->name, what, MAX_PAYLOADS);
    if ((rc = msigi_artifact_set_payloads(art, json_array_size(up))))
        return msigi_err(rd->ctx, rc, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach (up, i, v) {
        json_t *t = json_object_get(v, "type");
        if (!json_is_string(t) || (rc = check_string(rd, t, what, "updates[].type")))
            return json_is_string(t)
                       ? rc
                       : msigi_err(rd->ctx, MSIG_E_FORMAT,
                                   "%s: %s: updates[%zu].type must be a string", rd->name, what, i);
        art->payloads[i].type = msigi_strdup(json_string_value(t));
    }
    json_t *dt = json_object_get(j, "device_types_compatible");
    if (!dt)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: device_types_compatible is missing",
                         rd->name, what);
    return string_list(rd, dt, what, "device_types_compatible", 1, &art->devices);
}

/* Deep merge of src into dst (objects only); a type conflict is an error. */
static int merge_json(struct rd *rd, json_t *dst, json_t *src, const char *what)
{
    const char *k;
    json_t *v;
    json_object_foreach (src, k, v) {
        json_t *old = json_object_get(dst, k);
        if (old && json_is_object(old) && json_is_object(v)) {
            int rc = merge_json(rd, old, v, what);
            if (rc)
                return rc;
        } else if (old && json_typeof(old) != json_typeof(v)) {
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: augmented %s: '%s' has another type than in the original",
                             rd->name, what, k);
        } else {
            json_object_set(dst, k, v);
        }
    }
    return 0;
}

static int parse_type_info(struct rd *rd, struct msigi_payload *p, json_t *j, const char *what,
                           int augment)
{
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if (rd->art->version == 2)
        return 0; /* v2 type-info is informational (spec §10) */
    json_t *t = json_object_get(j, "type");
    const char *want = augment ? p->aug_type : p->type;
    if (t && !json_is_null(t) && !json_is_string(t))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: type must be a string or null", rd->name,
                         what);
    const char *got = json_is_string(t) ? json_string_value(t) : NULL;
    if (!augment && want && strcmp(want, "rootfs-image") == 0 && got && !*got) {
        /* mender-artifact before 4.4 writes "type":"" for rootfs-image (spec §5.3). */
        msigi_log(rd->ctx, MSIG_LOG_WARN,
                  "%s: %s has an empty type (written by mender-artifact before 4.4); taken as "
                  "rootfs-image",
                  rd->name, what);
    } else if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: type \"%s\" does not match the type \"%s\" in header-info",
                         rd->name, what, got ? got : "null", want ? want : "null");
    }
    json_t *prov = json_object_get(j, "artifact_provides");
    if (prov) {
        const char *k;
        json_t *v;
        if (!json_is_object(prov))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_provides must be an object",
                             rd->name, what);
        json_object_foreach (prov, k, v) {
            if (!json_is_string(v))
                return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: provide '%s' must be a string",
                                 rd->name, what, k);
        }
    }
    json_t *deps = json_object_get(j, "artifact_depends");
    if (deps) {
        const char *k;
        json_t *v;
        if (!json_is_object(deps))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_depends must be an object",
                             rd->name, what);
        json_object_foreach (deps, k, v) {
            int good = json_is_string(v) || json_is_array(v);
            size_t i;
            json_t *e;
            json_array_foreach (v, i, e)
                good &= json_is_string(e);
            if (!good)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: %s: depend '%s' must be a string or a list of strings",
                                 rd->name, what, k);
        }
    }
    if ((prov && (rc = check_strings(rd, prov, what, "artifact_provides"))) ||
        (deps && (rc = check_strings(rd, deps, what, "artifact_depends"))))
        return rc;
    json_t *clears = json_object_get(j, "clears_artifact_provides");
    if (clears && (rc = check_strings(rd, clears, what, "clears_artifact_provides")))
        return rc;
    if (clears) {
        size_t i;
        json_t *e;
        if (!json_is_array(clears))
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: clears_artifact_provides must be a list", rd->name, what);
        json_array_foreach (clears, i, e) {
            if (!json_is_string(e))
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: %s: clears_artifact_provides must hold strings", rd->name,
                                 what);
        }
    }
    if (!augment) {
        p->provides = prov ? json_deep_copy(prov) : json_object();
        p->depends = deps ? json_deep_copy(deps) : json_object();
        p->clears = clears ? json_deep_copy(clears) : json_array();
        return 0;
    }
    if (prov && (rc = merge_json(rd, p->provides, prov, "provides")))
        return rc;
    if (deps && (rc = merge_json(rd, p->depends, deps, "depends")))
        return rc;
    return 0;
}

static int parse_meta_data(struct rd *rd, struct msigi_payload *p, const uint8_t *buf, size_t len,
                           const char *what, int augment)
{
    if (len == 0)
        return 0;
    json_t *j;
    int rc = parse_json(rd, buf, len, what, &j);
    if (rc)
        return rc;
    if (!json_is_object(j)) {
        json_decref(j);
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: top level object in meta-data must be a JSON object", rd->name,
                         what);
    }
    if (augment && p->meta) {
        rc = merge_json(rd, p->meta, j, "meta-data");
        json_decref(j);
        return rc;
    }
    json_decref(p->meta);
    p->meta = j;
    return 0;
}

/* Streams a script to the file handler. */
static int read_script(struct rd *rd, struct inner *in, struct archive_entry *e, const char *base,
                       const char *what)
{
    struct msig_file_event ev = { sizeof(ev),
                                  MSIG_FILE_SCRIPT,
                                  0,
                                  (uint32_t)archive_entry_perm(e),
                                  base,
                                  (uint64_t)archive_entry_size(e),
                                  (int64_t)archive_entry_mtime(e) };
    msig_file_fn *fn = rd->r->file_fn;
    int rc = fn ? fn(rd->r->file_user, &ev, NULL, 0, 0) : 0;
    if (rc)
        return msigi_err(rd->ctx, rc, "%s: the file handler refused script %s", rd->name, base);
    for (;;) {
        la_ssize_t n = archive_read_data(in->a, in->obuf, IOBUF);
        if (n < 0)
            return inner_error(rd, in, what, "reading a script");
        if (n == 0)
            break;
        if (fn && (rc = fn(rd->r->file_user, &ev, in->obuf, (size_t)n, 0)))
            return msigi_err(rd->ctx, rc, "%s: the file handler failed on script %s", rd->name,
                             base);
    }
    if (fn && (rc = fn(rd->r->file_user, &ev, NULL, 0, 1)))
        return msigi_err(rd->ctx, rc, "%s: the file handler failed on script %s", rd->name, base);
    return 0;
}

/* Parses header.tar<EXT> (augment = 0) or header-augment.tar<EXT> (augment = 1). */
static int read_header(struct rd *rd, const char *entry_name, int augment)
{
    struct msig_artifact *art = rd->art;
    struct msigi_mline *ml = msigi_manifest_find(&rd->man, entry_name);
    if (!ml)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is not listed in %s", rd->name, entry_name,
                         augment ? "manifest-augment" : "the manifest");
    if (ml->augment != augment)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is listed in %s", rd->name, entry_name,
                         ml->augment ? "manifest-augment instead of the signed manifest"
                                     : "the manifest instead of manifest-augment");
    EVP_MD_CTX *md = NULL;
    struct inner in;
    memset(&in, 0, sizeof(in));
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    unsigned count = 0;
    int rc = sha256_init(rd->ctx, &md);
    if (rc)
        goto out;
    rc = inner_open(rd, &in, entry_name, md, 0);
    if (rc)
        goto out;
    int state = 0; /* 0: want header-info, 1: scripts allowed, 2: headers/ only */
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(in.a, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK) {
            rc = inner_error(rd, &in, entry_name, "reading the header tar");
            goto out;
        }
        if ((rc = same_entry(rd, &in.guard, e, entry_name)) != 0)
            goto out;
        if (++count > MAX_HEADER_ENTRIES) {
            rc = msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: %s has more than %u entries", rd->name,
                           entry_name, MAX_HEADER_ENTRIES);
            goto out;
        }
        const char *path = archive_entry_pathname(e);
        char what[MAX_NAME + 64];
        if (!path || strlen(path) > MAX_NAME) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: entry with a missing or too long name",
                           rd->name, entry_name);
            goto out;
        }
        snprintf(what, sizeof(what), "%s/%s", entry_name, path);
        if (archive_entry_filetype(e) == AE_IFDIR)
            continue; /* directory entries are skipped, as mender-artifact does */
        if (archive_entry_filetype(e) != AE_IFREG) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is not a regular file", rd->name, what);
            goto out;
        }
        if (state == 0) {
            if (strcmp(path, "header-info") != 0) {
                rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                               "%s: %s: the first entry must be "
                               "header-info, not '%s'",
                               rd->name, entry_name, path);
                goto out;
            }
            if ((rc = inner_read_small(rd, &in, e, entry_name, &buf, &len)) ||
                (rc = parse_json(rd, buf, len, what, &j)))
                goto out;
            rc = art->version == 2 ? parse_header_info_v2(rd, j, what)
                                   : parse_header_info_v3(rd, j, what, augment);
            if (rc)
                goto out;
            json_decref(j);
            j = NULL;
            msigi_free(buf);
            buf = NULL;
            state = 1;
            continue;
        }
        if (strncmp(path, "scripts/", 8) == 0) {
            const char *base = path + 8;
            if (state != 1 || augment) {
                rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                               "%s: %s: scripts must follow header-info "
                               "directly%s",
                               rd->name, what,
                               augment ? " and are not allowed in an augmented header" : "");
                goto out;
            }
            if (msigi_name_script(base, NULL, NULL) != MSIGI_SCRIPT_OK) {
                rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                               "%s: %s: invalid script name \"%s\"; scripts must be named "
                               "<State>_<Enter|Leave|Error>_<NN>[_<label>]",
                               rd->name, entry_name, base);
                goto out;
            }
            for (size_t i = 0; i < art->scripts.n; i++) {
                if (strcmp(art->scripts.v[i], base) == 0) {
                    rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: script %s is stored twice",
                                   rd->name, entry_name, base);
                    goto out;
                }
            }
            if (msigi_strv_push(&art->scripts, base)) {
                rc = msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
                goto out;
            }
            if ((rc = read_script(rd, &in, e, base, what)))
                goto out;
            continue;
        }
        state = 2;
        /* headers/NNNN/<file> */
        const char *slash = strchr(path + (strncmp(path, "headers/", 8) == 0 ? 8 : 0), '/');
        int idx = (strncmp(path, "headers/", 8) == 0 && slash)
                      ? parse_index4(path + 8, (size_t)(slash - path - 8))
                      : -1;
        if (idx < 0) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: unsupported file '%s' (want "
                           "headers/NNNN/<file>)",
                           rd->name, entry_name, path);
            goto out;
        }
        if ((size_t)idx >= art->npayloads) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: '%s' belongs to payload %04d, but "
                           "header-info declares %zu payload(s)",
                           rd->name, entry_name, path, idx, art->npayloads);
            goto out;
        }
        struct msigi_payload *p = &art->payloads[idx];
        const char *leaf = slash + 1;
        int is_type = strcmp(leaf, "type-info") == 0;
        int is_meta = strcmp(leaf, "meta-data") == 0;
        int is_files = art->version == 2 && strcmp(leaf, "files") == 0;
        int bootstrap = p->type == NULL;
        if (!(is_type || (is_meta && !bootstrap) || is_files)) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: unsupported file '%s' for a %s "
                           "payload",
                           rd->name, entry_name, path, bootstrap ? "bootstrap (empty)" : p->type);
            goto out;
        }
        int *seen = is_type ? &p->has_type_info : is_meta ? &p->has_meta_data : &p->has_files;
        if ((*seen & (augment ? 2 : 1)) != 0) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: '%s' is stored twice", rd->name,
                           entry_name, path);
            goto out;
        }
        *seen |= augment ? 2 : 1;
        if ((rc = inner_read_small(rd, &in, e, entry_name, &buf, &len)))
            goto out;
        if (is_meta) {
            rc = parse_meta_data(rd, p, buf, len, what, augment);
        } else if (is_type) {
            if ((rc = parse_json(rd, buf, len, what, &j)) == 0)
                rc = parse_type_info(rd, p, j, what, augment);
        } else if ((rc = parse_json(rd, buf, len, what, &j)) == 0) {
            json_t *f = json_object_get(j, "files");
            if (!json_is_array(f))
                rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: \"files\" must be a list", rd->name,
                               what);
        }
        json_decref(j);
        j = NULL;
        msigi_free(buf);
        buf = NULL;
        if (rc)
            goto out;
    }
    if (state == 0) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s has no header-info", rd->name, entry_name);
        goto out;
    }
    for (size_t i = 0; i < art->npayloads; i++) {
        struct msigi_payload *p = &art->payloads[i];
        if (!(p->has_type_info & (augment ? 2 : 1))) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s has no headers/%04zu/type-info",
                           rd->name, entry_name, i);
            goto out;
        }
    }
    if ((rc = inner_drain(rd, &in, entry_name)))
        goto out;
    /* Let the outer entry end too: any bytes after the compressed stream are refused by
     * the decoder, so only checking the hash is left. */
    char got[65];
    sha256_hex(md, got);
    ml->consumed = 1;
    if (strcmp(got, ml->hex) != 0) {
        rc = msigi_err(rd->ctx, MSIG_E_CHECKSUM,
                       "%s: %s: invalid checksum; expected: [%s]; "
                       "actual: [%s]",
                       rd->name, entry_name, ml->hex, got);
        goto out;
    }
    rc = 0;
out:
    json_decref(j);
    msigi_free(buf);
    inner_close(&in);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ------------------------------------------------------------------ data */

static int read_data(struct rd *rd, const char *entry_name, int idx)
{
    struct msig_artifact *art = rd->art;
    struct msigi_payload *p = &art->payloads[idx];
    struct inner in;
    EVP_MD_CTX *md = NULL;
    int rc = inner_open(rd, &in, entry_name, NULL, 1);
    if (rc)
        goto out;
    if ((rc = sha256_init(rd->ctx, &md)))
        goto out;
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(in.a, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK) {
            rc = inner_error(rd, &in, entry_name, "reading the payload tar");
            goto out;
        }
        if ((rc = same_entry(rd, &in.guard, e, entry_name)) != 0)
            goto out;
        const char *fname = archive_entry_pathname(e);
        if (!fname)
            fname = "";
        if (archive_entry_filetype(e) != AE_IFREG) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: '%s' is not a regular file (type "
                           "0%o); a payload holds only regular files",
                           rd->name, entry_name, fname, (unsigned)archive_entry_filetype(e) >> 12);
            goto out;
        }
        if (!msigi_name_payload_ok(fname)) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: payload file name '%.300s' is not allowed: only letters, "
                           "digits and the characters \".,_-\" may be used",
                           rd->name, entry_name, fname);
            goto out;
        }
        char mname[64 + 256];
        snprintf(mname, sizeof(mname), "data/%04d/%s", idx, fname);
        struct msigi_mline *ml = msigi_manifest_find(&rd->man, mname);
        if (!ml) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: payload file '%s' is not listed in "
                           "the manifest (Payload: can not find data file: %s)",
                           rd->name, entry_name, fname, fname);
            goto out;
        }
        if (ml->consumed) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: payload file '%s' is stored twice",
                           rd->name, entry_name, fname);
            goto out;
        }
        ml->consumed = 1;
        struct msigi_file *f = msigi_payload_add_file(p, fname);
        if (!f) {
            rc = msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
            goto out;
        }
        la_int64_t size = archive_entry_size(e);
        f->info.size = (uint64_t)(size < 0 ? 0 : size);
        f->info.mtime = (int64_t)archive_entry_mtime(e);
        f->info.mode = (uint32_t)archive_entry_perm(e);
        f->info.augmented = ml->augment;
        struct msig_file_event ev = { sizeof(ev), MSIG_FILE_PAYLOAD, (uint32_t)idx, f->info.mode,
                                      f->name,    f->info.size,      f->info.mtime };
        msig_file_fn *fn = rd->r->file_fn;
        if (fn && (rc = fn(rd->r->file_user, &ev, NULL, 0, 0))) {
            rc = msigi_err(rd->ctx, rc, "%s: the file handler refused %s", rd->name, fname);
            goto out;
        }
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        uint64_t total = 0;
        for (;;) {
            /* Zero-copy: the block lies in the buffer the decoder (or its stage) filled. */
            const void *blk = NULL;
            size_t n = 0;
            la_int64_t off = 0;
            int br = archive_read_data_block(in.a, &blk, &n, &off);
            if (br == ARCHIVE_EOF)
                break;
            if (br != ARCHIVE_OK) {
                rc = inner_error(rd, &in, entry_name, fname);
                goto out;
            }
            if (off < 0 || (uint64_t)off != total) {
                rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                               "%s: %s: payload file '%s' has a hole at offset %llu (data "
                               "resumes at %lld)",
                               rd->name, entry_name, fname, (unsigned long long)total,
                               (long long)off);
                goto out;
            }
            if (n == 0)
                continue;
            total += (uint64_t)n;
            EVP_DigestUpdate(md, blk, n);
            if (fn && (rc = fn(rd->r->file_user, &ev, blk, n, 0))) {
                rc = msigi_err(rd->ctx, rc, "%s: the file handler failed on %s", rd->name, fname);
                goto out;
            }
        }
        if (total != f->info.size) {
            rc = msigi_err(rd->ctx, MSIG_E_FORMAT,
                           "%s: %s: payload file '%s' is truncated (%llu "
                           "of %llu bytes)",
                           rd->name, entry_name, fname, (unsigned long long)total,
                           (unsigned long long)f->info.size);
            goto out;
        }
        sha256_hex(md, f->checksum);
        if (strcmp(f->checksum, ml->hex) != 0) {
            rc = msigi_err(rd->ctx, MSIG_E_CHECKSUM,
                           "%s: Payload: can not install Payload: %s: "
                           "invalid checksum; expected: [%s]; actual: [%s]",
                           rd->name, fname, ml->hex, f->checksum);
            goto out;
        }
        if (fn && (rc = fn(rd->r->file_user, &ev, NULL, 0, 1))) {
            rc = msigi_err(rd->ctx, rc, "%s: the file handler failed on %s", rd->name, fname);
            goto out;
        }
    }
    if ((rc = inner_drain(rd, &in, entry_name)))
        goto out;
    p->has_data = 1;
    rc = 0;
out:
    inner_close(&in);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ------------------------------------------------------------------ outer walk */

static int read_version(struct rd *rd, struct archive_entry *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    int rc = read_small_entry(rd, e, MAX_VERSION_BYTES, &buf, &len);
    if (rc)
        return rc;
    static const char *const keys[] = { "format", "version", NULL };
    if ((rc = parse_json(rd, buf, len, "version", &j)))
        goto out;
    if (!json_is_object(j)) {
        rc = msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: version must be a JSON object", rd->name);
        goto out;
    }
    if ((rc = only_keys(rd, j, "version", keys)))
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
static int check_manifest_names(struct rd *rd, const char *what)
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
            parse_index4(n + 5, 4) >= 0 && msigi_name_payload_ok(n + 10))
            continue;
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: malformed entry name '%.300s'", rd->name,
                         what, n);
    }
    return 0;
}

static int read_manifest(struct rd *rd, struct archive_entry *e)
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

static int read_signature(struct rd *rd, struct archive_entry *e)
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

static int read_manifest_augment(struct rd *rd, struct archive_entry *e)
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

static int read_all(struct rd *rd)
{
    struct msig_artifact *art = rd->art;
    int rc;
    enum {
        S_VERSION,
        S_MANIFEST,
        S_AFTER_MANIFEST,
        S_AFTER_SIG,
        S_AFTER_AUG,
        S_AFTER_HEADER,
        S_DATA
    } st = S_VERSION;
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(rd->outer, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK) {
            if (st == S_VERSION && !rd->src_failed && rd->outer_count == 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: not a Mender Artifact: %s", rd->name,
                                 archive_error_string(rd->outer) ? archive_error_string(rd->outer)
                                                                 : "not a tar archive");
            return outer_error(rd, "reading the artifact");
        }
        if (++rd->outer_count > MAX_OUTER_ENTRIES)
            return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: more than %u entries", rd->name,
                             MAX_OUTER_ENTRIES);
        if ((rc = same_entry(rd, &rd->guard, e, "the artifact")) != 0)
            return rc;
        const char *name = archive_entry_pathname(e);
        if (!name || strlen(name) > MAX_NAME)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: entry with a missing or too long name",
                             rd->name);
        if (archive_entry_filetype(e) != AE_IFREG)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: entry '%.300s' is not a regular file",
                             rd->name, name);
        int fam = 0;
        switch (st) {
        case S_VERSION:
            if (strcmp(name, "version") != 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: the first entry must be 'version', "
                                 "not '%.300s'",
                                 rd->name, name);
            if ((rc = read_version(rd, e)))
                return rc;
            st = S_MANIFEST;
            break;
        case S_MANIFEST:
            if (strcmp(name, "manifest") != 0)
                return structure_error(rd, name, "'manifest'");
            if ((rc = read_manifest(rd, e)))
                return rc;
            st = S_AFTER_MANIFEST;
            break;
        case S_AFTER_MANIFEST:
        case S_AFTER_SIG:
        case S_AFTER_AUG:
            if (st == S_AFTER_MANIFEST && strcmp(name, "manifest.sig") == 0) {
                if ((rc = read_signature(rd, e)))
                    return rc;
                st = S_AFTER_SIG;
                break;
            }
            if (st != S_AFTER_AUG && art->version == 3 && strcmp(name, "manifest-augment") == 0) {
                if ((rc = read_manifest_augment(rd, e)))
                    return rc;
                st = S_AFTER_AUG;
                break;
            }
            if (!match_compressed(name, "header.tar", &fam))
                return structure_error(rd, name,
                                       st == S_AFTER_MANIFEST
                                           ? "manifest.sig, manifest-augment or header.tar"
                                           : "header.tar");
            rd->zfamily = fam;
            rd->ext = msigi_z_suffix(fam);
            if ((rc = read_header(rd, name, 0)))
                return rc;
            st = rd->have_augment ? S_AFTER_HEADER : S_DATA;
            break;
        case S_AFTER_HEADER: {
            char want[64];
            snprintf(want, sizeof(want), "header-augment.tar%s", rd->ext);
            if (strcmp(name, want) != 0)
                return structure_error(rd, name,
                                       "header-augment.tar with the header's compression");
            if ((rc = read_header(rd, name, 1)))
                return rc;
            st = S_DATA;
            break;
        }
        case S_DATA: {
            size_t nl = strlen(name), el = strlen(rd->ext);
            int idx = -1;
            if (strncmp(name, "data/", 5) == 0 && nl == 5 + 4 + 4 + el &&
                strncmp(name + 9, ".tar", 4) == 0 && strcmp(name + 13, rd->ext) == 0)
                idx = parse_index4(name + 5, 4);
            if (idx < 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: invalid data entry name '%.300s' "
                                 "(want data/NNNN.tar%s after the header)",
                                 rd->name, name, rd->ext);
            if (idx <= rd->last_data_index)
                return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: data entry '%s' is %s", rd->name,
                                 name,
                                 idx == rd->last_data_index ? "stored twice" : "out of order");
            if ((size_t)idx >= art->npayloads)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: data entry '%s' has no payload in "
                                 "header-info (%zu payload(s) declared)",
                                 rd->name, name, art->npayloads);
            rd->last_data_index = idx;
            if ((rc = read_data(rd, name, idx)))
                return rc;
            break;
        }
        }
        seen_add(rd, name);
    }
    if (st == S_VERSION)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: empty file or tar archive: no 'version' "
                         "entry",
                         rd->name);
    if (st != S_DATA)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: the artifact ends early (entries: [%s])",
                         rd->name, rd->seen);
    for (size_t i = 0; i < art->npayloads; i++) {
        if (!art->payloads[i].has_data)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: payload %04zu declared in header-info "
                             "has no data/%04zu.tar%s entry",
                             rd->name, i, i, rd->ext);
    }
    /* Every manifest line must belong to a payload and be matched. */
    char missing[1024] = "";
    size_t nmissing = 0;
    for (size_t i = 0; i < rd->man.count; i++) {
        struct msigi_mline *ml = &rd->man.lines[i];
        if (strncmp(ml->name, "data/", 5) == 0 &&
            (size_t)parse_index4(ml->name + 5, 4) >= art->npayloads)
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
    for (size_t i = 0; i < art->npayloads; i++) {
        struct msigi_payload *p = &art->payloads[i];
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

static int read_stream(struct msig_reader *r, msig_read_fn *src, void *src_user, const char *name,
                       uint64_t total, int io_stage_ok, struct msig_artifact **out)
{
    struct rd rd;
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
    rd.inbuf = msigi_malloc(IOBUF);
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
        (rc = msigi_pipe_start(r->ctx, io_fill, &rd, IO_SLOTS, IOBUF, &rd.io)) != 0)
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

/* ------------------------------------------------------------------ public API */

int msig_reader_new(struct msig_ctx *ctx, struct msig_reader **r)
{
    if (!ctx || !r)
        return MSIG_E_INVALID;
    *r = msigi_calloc(1, sizeof(**r));
    if (!*r)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
    (*r)->ctx = ctx;
    return 0;
}

void msig_reader_free(struct msig_reader *r)
{
    msigi_free(r);
}

void msig_reader_set_pubkeys(struct msig_reader *r, const struct msig_pubkeys *keys)
{
    if (r)
        r->keys = keys;
}

void msig_reader_set_flags(struct msig_reader *r, uint32_t flags)
{
    if (r)
        r->flags = flags;
}

void msig_reader_set_file_handler(struct msig_reader *r, msig_file_fn *fn, void *user)
{
    if (r) {
        r->file_fn = fn;
        r->file_user = user;
    }
}

static msig_ssize fd_read(void *user, void *buf, size_t len)
{
    return (msig_ssize)read(*(int *)user, buf, len);
}

int msig_reader_read_cb(struct msig_reader *r, msig_read_fn *fn, void *user, const char *name,
                        struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || !fn)
        return MSIG_E_INVALID;
    return read_stream(r, fn, user, name, 0, 0, art);
}

int msig_reader_read_fd(struct msig_reader *r, int fd, const char *name, struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || fd < 0)
        return MSIG_E_INVALID;
    struct stat st;
    uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    /* A regular file can be read ahead by the I/O stage: it never blocks for long. */
    return read_stream(r, fd_read, &fd, name, total, fstat(fd, &st) == 0 && S_ISREG(st.st_mode),
                       art);
}

int msig_reader_read_path(struct msig_reader *r, const char *path, struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || !path)
        return MSIG_E_INVALID;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msigi_err(r->ctx, MSIG_E_IO, "Can not open artifact: open %s: %s", path,
                         strerror(errno));
    int rc = msig_reader_read_fd(r, fd, path, art);
    close(fd);
    return rc;
}

int msig_artifact_verify_fd(struct msig_ctx *ctx, int fd, const char *name,
                            const struct msig_pubkeys *keys, struct msig_artifact **art)
{
    struct msig_reader *r = NULL;
    struct msig_artifact *a = NULL;
    if (art)
        *art = NULL;
    int rc = msig_reader_new(ctx, &r);
    if (rc)
        return rc;
    msig_reader_set_pubkeys(r, keys);
    rc = msig_reader_read_fd(r, fd, name, &a);
    rc = msig_artifact_verdict(ctx, rc, a, keys && msig_pubkeys_count(keys) > 0);
    msig_reader_free(r);
    if (art)
        *art = a;
    else
        msig_artifact_free(a);
    return rc;
}
