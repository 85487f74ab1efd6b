/* writer.c -- msig_writer_*: writes a Mender Artifact (format v3, or v2 for rootfs-image).
 *
 * The writer validates everything first, then hashes every payload file (pass 1), builds
 * the compressed header tar(s) in memory, the manifest(s) and the signature, and finally
 * writes the outer tar by hand (tarhdr.h) in one sequential pass: the data entry gets a
 * placeholder header, its inner tar is streamed through the compressor straight to the
 * output, and the real header is patched in once the compressed size is known. Payload
 * files are hashed again while they are streamed (pass 2) and must not have changed.
 * Memory use does not depend on the payload size. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ctx.h"
#include "fileio.h"
#include "hdrbuild.h"
#include "names.h"
#include "signer.h"
#include "tarhdr.h"
#include "zstream.h"

#define IO_BUF (256u * 1024)           /* payload read buffer */
#define HEADER_MAX (16u * 1024 * 1024) /* compressed header tar, in memory */
#define SCRIPT_MAX (4u * 1024 * 1024)  /* one state script */
#define OUTER_MODE 0644u               /* outer header.tar / data entries */
#define STREAM_MODE 0600u              /* in-memory entries, as mender-artifact */

struct msig_writer {
    struct msig_ctx *ctx;
    int kind;
    char *name;
    char *payload_type;
    char *provides_group;
    char *meta_path;
    char *aug_type;
    char *aug_meta_path;
    char *sw_name;
    char *sw_version;
    char *sw_fs;
    struct msigi_strv devices;
    struct msigi_strv files;
    struct msigi_strv scripts;
    struct msigi_strv clears;
    struct msigi_strv dep_names;
    struct msigi_strv dep_groups;
    struct msigi_strv aug_files;
    json_t *provides;
    json_t *depends;
    json_t *aug_provides;
    json_t *aug_depends;
    int compression;
    int version;
    uint32_t flags;
    uint64_t max_size;
    uint64_t warn_size;
    struct msig_key *key;
};

/* ---------------------------------------------------------------- setters */

int msig_writer_new(struct msig_ctx *ctx, int payload_kind, struct msig_writer **w)
{
    if (!ctx || !w)
        return MSIG_E_INVALID;
    *w = NULL;
    if (payload_kind != MSIG_PAYLOAD_ROOTFS && payload_kind != MSIG_PAYLOAD_MODULE &&
        payload_kind != MSIG_PAYLOAD_BOOTSTRAP)
        return msigi_err(ctx, MSIG_E_INVALID, "unknown payload kind %d", payload_kind);
    struct msig_writer *n = msigi_calloc(1, sizeof(*n));
    if (!n)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory making a writer");
    n->ctx = ctx;
    n->kind = payload_kind;
    n->compression = MSIG_COMPRESS_GZIP;
    n->version = 3;
    *w = n;
    return 0;
}

void msig_writer_free(struct msig_writer *w)
{
    if (!w)
        return;
    char **strs[] = { &w->name,      &w->payload_type, &w->provides_group,
                      &w->meta_path, &w->aug_type,     &w->aug_meta_path,
                      &w->sw_name,   &w->sw_version,   &w->sw_fs };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        msigi_free(*strs[i]);
    struct msigi_strv *lists[] = { &w->devices,   &w->files,      &w->scripts,  &w->clears,
                                   &w->dep_names, &w->dep_groups, &w->aug_files };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        msigi_strv_free(lists[i]);
    json_decref(w->provides);
    json_decref(w->depends);
    json_decref(w->aug_provides);
    json_decref(w->aug_depends);
    msigi_free(w);
}

/* Replaces *slot with a copy of s (NULL clears it). */
static int set_str(struct msig_writer *w, char **slot, const char *s, const char *what)
{
    char *d = NULL;
    if (!w)
        return MSIG_E_INVALID;
    if (s && !(d = msigi_strdup(s)))
        return msigi_err(w->ctx, MSIG_E_NOMEM, "out of memory storing %s", what);
    msigi_free(*slot);
    *slot = d;
    return 0;
}

static int push_str(struct msig_writer *w, struct msigi_strv *l, const char *s, const char *what)
{
    if (!w)
        return MSIG_E_INVALID;
    if (!s)
        return msigi_err(w->ctx, MSIG_E_INVALID, "%s is NULL", what);
    if (msigi_strv_push(l, s) != 0)
        return msigi_err(w->ctx, MSIG_E_NOMEM, "out of memory storing %s %s", what, s);
    return 0;
}

/* Sets key: value in *map (created on first use); a later value for a key replaces the
 * earlier one, as with mender-artifact's -p/-d. */
static int put_kv(struct msig_writer *w, json_t **map, const char *key, const char *value,
                  const char *what)
{
    if (!w)
        return MSIG_E_INVALID;
    if (!key || !value || !*key)
        return msigi_err(w->ctx, MSIG_E_INVALID, "%s needs a non-empty key and a value", what);
    if (!*map && !(*map = json_object()))
        return msigi_err(w->ctx, MSIG_E_NOMEM, "out of memory storing %s", what);
    json_t *v = json_string(value);
    if (!v)
        return msigi_err(w->ctx, MSIG_E_INVALID, "%s %s: value is not valid UTF-8", what, key);
    if (json_object_set_new(*map, key, v) != 0)
        return msigi_err(w->ctx, MSIG_E_INVALID, "%s: key %s is not valid UTF-8", what, key);
    return 0;
}

int msig_writer_set_name(struct msig_writer *w, const char *artifact_name)
{
    return set_str(w, &w->name, artifact_name, "the artifact name");
}

int msig_writer_add_device_type(struct msig_writer *w, const char *dev)
{
    return push_str(w, &w->devices, dev, "device type");
}

int msig_writer_set_payload_type(struct msig_writer *w, const char *type)
{
    return set_str(w, &w->payload_type, type, "the payload type");
}

int msig_writer_add_file(struct msig_writer *w, const char *path)
{
    return push_str(w, &w->files, path, "payload file");
}

int msig_writer_add_script(struct msig_writer *w, const char *path)
{
    return push_str(w, &w->scripts, path, "state script");
}

int msig_writer_add_provide(struct msig_writer *w, const char *key, const char *value)
{
    return put_kv(w, &w->provides, key, value, "provide");
}

int msig_writer_add_depend(struct msig_writer *w, const char *key, const char *value)
{
    return put_kv(w, &w->depends, key, value, "depend");
}

int msig_writer_add_clears_provides(struct msig_writer *w, const char *pat)
{
    return push_str(w, &w->clears, pat, "clears-provides pattern");
}

int msig_writer_add_depends_artifact_name(struct msig_writer *w, const char *name)
{
    return push_str(w, &w->dep_names, name, "artifact-name depend");
}

int msig_writer_set_provides_group(struct msig_writer *w, const char *g)
{
    return set_str(w, &w->provides_group, g, "the provides group");
}

int msig_writer_add_depends_group(struct msig_writer *w, const char *g)
{
    return push_str(w, &w->dep_groups, g, "depends group");
}

int msig_writer_set_meta_data_file(struct msig_writer *w, const char *path)
{
    return set_str(w, &w->meta_path, path, "the meta-data path");
}

int msig_writer_set_software(struct msig_writer *w, const char *name, const char *version,
                             const char *filesystem)
{
    int rc;
    if ((rc = set_str(w, &w->sw_name, name, "the software name")) != 0 ||
        (rc = set_str(w, &w->sw_version, version, "the software version")) != 0 ||
        (rc = set_str(w, &w->sw_fs, filesystem, "the software filesystem")) != 0)
        return rc;
    return 0;
}

int msig_writer_set_compression(struct msig_writer *w, int compression)
{
    if (!w)
        return MSIG_E_INVALID;
    if (msigi_z_family(compression) < 0)
        return msigi_err(w->ctx, MSIG_E_INVALID, "unknown compression id %d", compression);
    w->compression = compression;
    return 0;
}

int msig_writer_set_format_version(struct msig_writer *w, int version)
{
    if (!w)
        return MSIG_E_INVALID;
    if (version != 2 && version != 3)
        return msigi_err(w->ctx, MSIG_E_VERSION, "Artifact version %d is not supported", version);
    w->version = version;
    return 0;
}

void msig_writer_set_flags(struct msig_writer *w, uint32_t flags)
{
    if (w)
        w->flags = flags;
}

void msig_writer_set_size_limits(struct msig_writer *w, uint64_t max, uint64_t warn)
{
    if (w) {
        w->max_size = max;
        w->warn_size = warn;
    }
}

int msig_writer_set_augment_type(struct msig_writer *w, const char *type)
{
    return set_str(w, &w->aug_type, type, "the augment type");
}

int msig_writer_add_augment_file(struct msig_writer *w, const char *path)
{
    return push_str(w, &w->aug_files, path, "augment file");
}

int msig_writer_add_augment_provide(struct msig_writer *w, const char *key, const char *value)
{
    return put_kv(w, &w->aug_provides, key, value, "augment provide");
}

int msig_writer_add_augment_depend(struct msig_writer *w, const char *key, const char *value)
{
    return put_kv(w, &w->aug_depends, key, value, "augment depend");
}

int msig_writer_set_augment_meta_data_file(struct msig_writer *w, const char *path)
{
    return set_str(w, &w->aug_meta_path, path, "the augment meta-data path");
}

int msig_writer_set_key(struct msig_writer *w, struct msig_key *key)
{
    if (!w)
        return MSIG_E_INVALID;
    w->key = key;
    return 0;
}

/* ---------------------------------------------------------------- write state */

struct payload {
    const char *path; /* borrowed from the writer */
    const char *base; /* points into path */
    int augment;
    uint64_t size;
    char hex[65];
};

struct script {
    char *path;
    const char *base; /* points into path */
};

struct membuf {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;
    int overflow;
};

struct wstate {
    struct msig_writer *w;
    struct msig_ctx *ctx;
    uint64_t done, total; /* progress: payload bytes streamed, of all payloads */
    const char *ext;      /* "", ".gz", ".xz", ".zst" */
    int have_epoch;
    int64_t epoch;
    int64_t now;
    struct payload *pl;
    size_t npl;
    size_t nmain; /* payloads before the augment files */
    struct script *sc;
    size_t nsc;
    char *meta; /* re-serialised meta-data or NULL */
    size_t meta_len;
    char *aug_meta;
    size_t aug_meta_len;
    json_t *provides; /* final type-info maps */
    struct msigi_strv clears;
    struct membuf hdr;
    struct membuf hdr_aug;
    char *manifest;
    size_t manifest_len;
    char *manifest_aug;
    size_t manifest_aug_len;
    char *sig;
    size_t sig_len;
    uint8_t *iobuf;
};

static const char VERSION3[] = "{\"format\":\"mender\",\"version\":3}";
static const char VERSION2[] = "{\"format\":\"mender\",\"version\":2}";
static const uint8_t ZEROS[2 * MSIGI_TAR_BLOCK];

static const char *base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void hex_of(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(struct msig_ctx *ctx, const void *buf, size_t len, char hex[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return msigi_err(ctx, MSIG_E_FAILED, "SHA-256 failed");
    hex_of(md, 32, hex);
    return 0;
}

/* Reads up to len bytes, retrying on EINTR and short reads; returns the count or -1. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (uint8_t *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* ---------------------------------------------------------------- validation */

static int check_basename(struct wstate *s, const char *base)
{
    if (!msigi_name_payload_ok(base))
        return msigi_err(s->ctx, MSIG_E_INVALID,
                         "Payload: data file %s contains forbidden characters. Only letters, "
                         "digits and characters in the set \".,_-\" are allowed",
                         base);
    return 0;
}

static int add_payloads(struct wstate *s, const struct msigi_strv *paths, int augment)
{
    for (size_t i = 0; i < paths->n; i++) {
        struct payload *p = &s->pl[s->npl];
        p->path = paths->v[i];
        p->base = base_of(p->path);
        p->augment = augment;
        int rc = check_basename(s, p->base);
        if (rc != 0)
            return rc;
        for (size_t j = 0; j < s->npl; j++)
            if (strcmp(s->pl[j].base, p->base) == 0)
                return msigi_err(s->ctx, MSIG_E_INVALID,
                                 "writer: can not calculate checksum: %s: file already exists",
                                 p->path);
        s->npl++;
    }
    return 0;
}

/* One script file: the name rule (names.h), duplicates refused. */
static int add_script_file(struct wstate *s, const char *path)
{
    const char *base = base_of(path);
    const char *state = NULL;
    size_t slen = 0;
    int verdict = msigi_name_script(base, &state, &slen);
    if (verdict == MSIGI_SCRIPT_BAD_NAME)
        return msigi_err(s->ctx, MSIG_E_INVALID,
                         "Invalid script name: \"%s\". Scripts must have a name on the form: "
                         "<STATE_NAME>_<ACTION>_<ORDERING_NUMBER>_<OPTIONAL_DESCRIPTION>. "
                         "For example: 'Download_Enter_05_wifi-driver' is a valid script "
                         "name.",
                         base);
    if (verdict == MSIGI_SCRIPT_BAD_STATE)
        return msigi_err(s->ctx, MSIG_E_INVALID, "Unsupported script state: %.*s (script %s)",
                         (int)slen, state, path);
    for (size_t i = 0; i < s->nsc; i++)
        if (strcmp(s->sc[i].base, base) == 0)
            return msigi_err(s->ctx, MSIG_E_INVALID, "Script already exists: %s", base);
    struct script *n = msigi_realloc(s->sc, (s->nsc + 1) * sizeof(*n));
    if (!n)
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory adding script %s", path);
    s->sc = n;
    if (!(n[s->nsc].path = msigi_strdup(path)))
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory adding script %s", path);
    n[s->nsc].base = base_of(n[s->nsc].path);
    s->nsc++;
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A script argument: a file, or a directory whose regular files are added in name order. */
static int add_script_arg(struct wstate *s, const char *arg)
{
    int rc = 0;
    struct stat st;
    DIR *d = NULL;
    struct msigi_strv names = { 0 };
    char *full = NULL;
    if (stat(arg, &st) != 0)
        return msigi_err(s->ctx, MSIG_E_IO, "cannot read state script %s: %s", arg,
                         strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return add_script_file(s, arg);
    if (!(d = opendir(arg))) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read script directory %s: %s", arg,
                       strerror(errno));
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (msigi_strv_push(&names, de->d_name) != 0) {
            rc = msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory listing %s", arg);
            goto out;
        }
    }
    qsort(names.v, names.n, sizeof(*names.v), cmp_cstr);
    for (size_t i = 0; i < names.n; i++) {
        size_t n = strlen(arg) + strlen(names.v[i]) + 2;
        msigi_free(full);
        if (!(full = msigi_malloc(n))) {
            rc = msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory listing %s", arg);
            goto out;
        }
        snprintf(full, n, "%s/%s", arg, names.v[i]);
        if (stat(full, &st) != 0) {
            rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read state script %s: %s", full,
                           strerror(errno));
            goto out;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if ((rc = add_script_file(s, full)) != 0)
            goto out;
    }
out:
    msigi_free(full);
    msigi_strv_free(&names);
    if (d)
        closedir(d);
    return rc;
}

static int has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
            return 1;
    return 0;
}

static int parse_epoch(struct wstate *s)
{
    const char *v = getenv("SOURCE_DATE_EPOCH");
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long e = strtoll(v, &end, 10);
    if (!*v || *end || errno || e < 0)
        return msigi_err(s->ctx, MSIG_E_INVALID,
                         "SOURCE_DATE_EPOCH must be a non-negative number of seconds, got "
                         "\"%s\"",
                         v);
    s->have_epoch = 1;
    s->epoch = e;
    return 0;
}

static int validate(struct wstate *s)
{
    struct msig_writer *w = s->w;
    struct msig_ctx *ctx = s->ctx;
    int rc;

    if (!w->name || !*w->name)
        return msigi_err(ctx, MSIG_E_INVALID, "artifact name is required");
    if (has_space(w->name))
        return msigi_err(ctx, MSIG_E_INVALID, "whitespace is not allowed in the artifact-name");
    if (w->devices.n == 0)
        return msigi_err(ctx, MSIG_E_INVALID, "The `device-type` flag is required");
    for (size_t i = 0; i < w->devices.n; i++)
        if (!*w->devices.v[i])
            return msigi_err(ctx, MSIG_E_INVALID, "device type %zu is empty", i + 1);
    if (w->version == 2 && w->kind != MSIG_PAYLOAD_ROOTFS)
        return msigi_err(ctx, MSIG_E_VERSION,
                         w->kind == MSIG_PAYLOAD_MODULE
                             ? "Module images need at least artifact format version 3"
                             : "bootstrap artifacts need artifact format version 3");
    switch (w->kind) {
    case MSIG_PAYLOAD_ROOTFS:
        if (w->files.n != 1)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "rootfs-image needs exactly one payload file, got %zu", w->files.n);
        break;
    case MSIG_PAYLOAD_MODULE:
        if (!w->payload_type || !*w->payload_type)
            return msigi_err(ctx, MSIG_E_INVALID, "module-image needs a payload type (-T)");
        break;
    default:
        if (w->files.n)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "bootstrap-artifact takes no payload files (got %s)", w->files.v[0]);
        if (w->scripts.n)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "bootstrap-artifact takes no state scripts (got %s)", w->scripts.v[0]);
        break;
    }
    int aug_any = w->aug_files.n || w->aug_provides || w->aug_depends || w->aug_meta_path;
    if (w->aug_type || aug_any) {
        if (w->kind == MSIG_PAYLOAD_BOOTSTRAP)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "bootstrap (empty payload) artifacts cannot be augmented");
        if (w->kind != MSIG_PAYLOAD_MODULE)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "augmented artifacts can only be written as module-image");
        if (!w->aug_type || !*w->aug_type)
            return msigi_err(ctx, MSIG_E_INVALID,
                             "Must give --augment-type argument if making augmented artifact");
    }
    if (w->meta_path && w->kind != MSIG_PAYLOAD_MODULE)
        return msigi_err(ctx, MSIG_E_INVALID, "meta-data can only be given for module-image");
    if ((rc = parse_epoch(s)) != 0)
        return rc;

    s->pl = msigi_calloc(w->files.n + w->aug_files.n + 1, sizeof(*s->pl));
    if (!s->pl) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = add_payloads(s, &w->files, 0)) != 0)
        goto out;
    s->nmain = s->npl;
    if ((rc = add_payloads(s, &w->aug_files, 1)) != 0)
        goto out;
    for (size_t i = 0; i < w->scripts.n; i++)
        if ((rc = add_script_arg(s, w->scripts.v[i])) != 0)
            goto out;
    if (w->meta_path &&
        (rc = msigi_hdr_meta_data_file(ctx, w->meta_path, &s->meta, &s->meta_len)) != 0)
        goto out;
    if (w->aug_meta_path &&
        (rc = msigi_hdr_meta_data_file(ctx, w->aug_meta_path, &s->aug_meta, &s->aug_meta_len)) != 0)
        goto out;
    rc = 0;
out:
    return rc;
}

/* ---------------------------------------------------------------- pass 1: hashing */

static int hash_payload(struct wstate *s, struct payload *p)
{
    int rc = MSIG_E_FAILED;
    int fd = -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct stat st;
    uint8_t d[32];
    unsigned int dlen = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = msigi_err(s->ctx, MSIG_E_NOMEM, "cannot start SHA-256 for %s", p->path);
        goto out;
    }
    fd = open(p->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                       strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = msigi_err(s->ctx, MSIG_E_INVALID, "payload file %s is not a regular file", p->path);
        goto out;
    }
    p->size = 0;
    for (;;) {
        ssize_t r = read_full(fd, s->iobuf, IO_BUF);
        if (r < 0) {
            rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                           strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(md, s->iobuf, (size_t)r) != 1) {
            rc = msigi_err(s->ctx, MSIG_E_FAILED, "SHA-256 failed for %s", p->path);
            goto out;
        }
        p->size += (uint64_t)r;
    }
    if (EVP_DigestFinal_ex(md, d, &dlen) != 1) {
        rc = msigi_err(s->ctx, MSIG_E_FAILED, "SHA-256 failed for %s", p->path);
        goto out;
    }
    hex_of(d, 32, p->hex);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ---------------------------------------------------------------- provides and clears */

static int make_type_maps(struct wstate *s)
{
    struct msig_writer *w = s->w;
    struct msig_ctx *ctx = s->ctx;
    int rc = MSIG_E_NOMEM;
    char *key = NULL;
    s->provides = w->provides ? json_deep_copy(w->provides) : json_object();
    if (!s->provides)
        goto nomem;
    for (size_t i = 0; i < w->clears.n; i++)
        if (msigi_strv_push(&s->clears, w->clears.v[i]) != 0)
            goto nomem;
    if (w->kind == MSIG_PAYLOAD_BOOTSTRAP)
        return 0;

    int no_sw = (w->flags & MSIG_WRITE_F_NO_DEFAULT_SW_VERSION) != 0;
    const char *fs = w->sw_fs && *w->sw_fs ? w->sw_fs : "rootfs-image";
    const char *name = w->sw_name && *w->sw_name ? w->sw_name : NULL;
    const char *version = w->sw_version && *w->sw_version ? w->sw_version : NULL;
    const char *type_name = w->kind == MSIG_PAYLOAD_MODULE ? w->payload_type : NULL;

    /* Software version provide: <fs>[.<name>].version (mender-artifact getSoftwareVersion). */
    if (!no_sw) {
        if (!name)
            name = type_name;
        if (!version)
            version = w->name;
    }
    if (version) {
        size_t n = strlen(fs) + (name ? strlen(name) + 1 : 0) + sizeof(".version");
        if (!(key = msigi_malloc(n)))
            goto nomem;
        snprintf(key, n, "%s%s%s.version", fs, name ? "." : "", name ? name : "");
        const char *user = json_string_value(json_object_get(s->provides, key));
        if (!user || !*user || (w->flags & MSIG_WRITE_F_SOFTWARE_WINS)) {
            if (json_object_set_new(s->provides, key, json_string(version)) != 0)
                goto nomem;
        }
    }

    /* The checksum provide is set after the user's provides, so it always holds the real
     * checksum (mender-artifact writeRootfsImageChecksum). */
    if (w->kind == MSIG_PAYLOAD_ROOTFS && !(w->flags & MSIG_WRITE_F_NO_CHECKSUM_PROVIDE)) {
        const char *ck = (w->flags & MSIG_WRITE_F_LEGACY_CHECKSUM) ? "rootfs_image_checksum"
                                                                   : "rootfs-image.checksum";
        if (json_object_set_new(s->provides, ck, json_string(s->pl[0].hex)) != 0)
            goto nomem;
    }

    /* Default clears (mender-artifact makeClearsArtifactProvides). */
    if (!(w->flags & MSIG_WRITE_F_NO_DEFAULT_CLEARS) && !no_sw) {
        const char *cname = w->sw_name && *w->sw_name ? w->sw_name : type_name;
        if (!cname && strcmp(fs, "rootfs-image") == 0) {
            if (msigi_strv_push(&s->clears, "artifact_group") != 0 ||
                msigi_strv_push(&s->clears, "rootfs_image_checksum") != 0)
                goto nomem;
        }
        msigi_free(key);
        size_t n = strlen(fs) + (cname ? strlen(cname) + 1 : 0) + 3;
        if (!(key = msigi_malloc(n)))
            goto nomem;
        snprintf(key, n, "%s.%s%s*", fs, cname ? cname : "", cname ? "." : "");
        if (!msigi_strv_has(&s->clears, key) && msigi_strv_push(&s->clears, key) != 0)
            goto nomem;
    }
    rc = 0;
    goto out;
nomem:
    rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory building provides");
out:
    msigi_free(key);
    return rc;
}

/* ---------------------------------------------------------------- inner tars */

/* Glue from a libarchive writer to an encoder. */
struct lasink {
    struct msigi_zenc *enc;
    int failed;
};

static la_ssize_t la_to_zenc(struct archive *a, void *user, const void *buf, size_t len)
{
    struct lasink *ls = user;
    if (msigi_zenc_write(ls->enc, buf, len) != 0) {
        ls->failed = 1;
        archive_set_error(a, EIO, "compressing the tar stream failed");
        return -1;
    }
    return (la_ssize_t)len;
}

static int mem_sink(void *user, const void *buf, size_t len)
{
    struct membuf *m = user;
    if (len > m->max - m->len) {
        m->overflow = 1;
        errno = EFBIG;
        return -1;
    }
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 64 * 1024;
        while (cap < m->len + len)
            cap *= 2;
        if (cap > m->max)
            cap = m->max;
        uint8_t *n = msigi_realloc(m->buf, cap);
        if (!n) {
            errno = ENOMEM;
            return -1;
        }
        m->buf = n;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return 0;
}

static int open_inner(struct wstate *s, struct archive **out, struct lasink *ls)
{
    struct archive *a = archive_write_new();
    *out = NULL;
    if (!a)
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory starting a tar writer");
    /* pax_restricted writes plain ustar unless an entry needs PAX (long names); unblocked
     * output ends with exactly two zero blocks, as Go's archive/tar. */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open(a, ls, NULL, la_to_zenc, NULL) != ARCHIVE_OK) {
        int rc = msigi_err(s->ctx, MSIG_E_FAILED, "cannot start a tar writer: %s",
                           archive_error_string(a));
        archive_write_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* The error of a failed archive call: the encoder's text when it failed underneath. */
static int la_fail(struct wstate *s, struct archive *a, struct lasink *ls, const char *what)
{
    if (ls->failed)
        return msigi_err_prefix(s->ctx, MSIG_E_IO, "%s", what);
    return msigi_err(s->ctx, MSIG_E_FAILED, "%s: %s", what, archive_error_string(a));
}

static int add_mem_entry(struct wstate *s, struct archive *a, struct lasink *ls, const char *name,
                         const void *data, size_t len)
{
    int rc = 0;
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory adding %s", name);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, STREAM_MODE);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len))
        rc = la_fail(s, a, ls, name);
    archive_entry_free(e);
    return rc;
}

/* Reproducible writes need compressed bytes that do not depend on the machine. */
static uint32_t zenc_flags(const struct wstate *s)
{
    return s->have_epoch ? MSIGI_ZENC_F_PORTABLE : 0;
}

/* Mode, mtime and owner of a file-backed entry. With SOURCE_DATE_EPOCH the mtime is
 * clamped to it and the owner is root with no names, so equal inputs give equal bytes. */
static void set_file_meta(struct wstate *s, struct archive_entry *e, const struct stat *st)
{
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, st->st_mode & 07777);
    int64_t mtime = st->st_mtime;
    if (s->have_epoch) {
        if (mtime > s->epoch)
            mtime = s->epoch;
        archive_entry_set_mtime(e, (time_t)mtime, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        return;
    }
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    char buf[4096];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    if (getpwuid_r(st->st_uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
        archive_entry_copy_uname(e, pwp->pw_name);
    if (getgrgid_r(st->st_gid, &gr, buf, sizeof(buf), &grp) == 0 && grp)
        archive_entry_copy_gname(e, grp->gr_name);
}

static int add_script_entry(struct wstate *s, struct archive *a, struct lasink *ls,
                            const struct script *sc)
{
    int rc = MSIG_E_FAILED;
    int fd = -1;
    uint8_t *data = NULL;
    char *name = NULL;
    struct stat st;
    struct archive_entry *e = NULL;
    fd = open(sc->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read state script %s: %s", sc->path,
                       strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SCRIPT_MAX) {
        rc = msigi_err(s->ctx, MSIG_E_INVALID,
                       "state script %s is not a regular file of at most %u bytes", sc->path,
                       SCRIPT_MAX);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    if (!(data = msigi_malloc(len + 1)) || !(name = msigi_malloc(strlen(sc->base) + 9)) ||
        !(e = archive_entry_new())) {
        rc = msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory reading %s", sc->path);
        goto out;
    }
    ssize_t r = read_full(fd, data, len + 1);
    if (r < 0) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read state script %s: %s", sc->path,
                       strerror(errno));
        goto out;
    }
    if ((size_t)r != len) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "%s changed while writing", sc->path);
        goto out;
    }
    sprintf(name, "scripts/%s", sc->base);
    archive_entry_set_pathname(e, name);
    set_file_meta(s, e, &st);
    archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len)) {
        rc = la_fail(s, a, ls, name);
        goto out;
    }
    rc = 0;
out:
    if (e)
        archive_entry_free(e);
    msigi_free(name);
    msigi_free(data);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Builds header.tar<EXT> (augment = 0) or header-augment.tar<EXT> into mb. */
static int build_header(struct wstate *s, int augment, struct membuf *mb)
{
    struct msig_writer *w = s->w;
    struct msig_ctx *ctx = s->ctx;
    int rc = MSIG_E_FAILED;
    struct archive *a = NULL;
    struct lasink ls = { 0 };
    char *hinfo = NULL, *tinfo = NULL, *files = NULL;
    size_t hinfo_len = 0, tinfo_len = 0, files_len = 0;
    struct msigi_strv names = { 0 };

    mb->max = HEADER_MAX;
    const char *type = w->kind == MSIG_PAYLOAD_ROOTFS   ? "rootfs-image"
                       : w->kind == MSIG_PAYLOAD_MODULE ? w->payload_type
                                                        : NULL;
    if (augment)
        type = w->aug_type;
    struct msigi_hdr_info hi = {
        .version = w->version,
        .payload_type = type,
        .artifact_name = w->name,
        .provides_group = w->provides_group,
        .devices = &w->devices,
        .depends_names = &w->dep_names,
        .depends_groups = &w->dep_groups,
    };
    if ((rc = msigi_hdr_header_info(ctx, &hi, &hinfo, &hinfo_len)) != 0)
        goto out;
    if (w->version == 2) {
        for (size_t i = 0; i < s->nmain; i++)
            if (msigi_strv_push(&names, s->pl[i].base) != 0) {
                rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
                goto out;
            }
        if ((rc = msigi_hdr_v2_files(ctx, &names, &files, &files_len)) != 0 ||
            (rc = msigi_hdr_type_info(ctx, "rootfs-image", NULL, NULL, NULL, &tinfo, &tinfo_len)) !=
                0)
            goto out;
    } else if (augment) {
        if ((rc = msigi_hdr_type_info(ctx, w->aug_type, w->aug_depends, w->aug_provides, NULL,
                                      &tinfo, &tinfo_len)) != 0)
            goto out;
    } else {
        if ((rc = msigi_hdr_type_info(ctx, type, w->depends, s->provides, &s->clears, &tinfo,
                                      &tinfo_len)) != 0)
            goto out;
    }

    if ((rc = msigi_zenc_new_flags(ctx, w->compression, 1, zenc_flags(s), mem_sink, mb, &ls.enc)) !=
        0)
        goto out;
    if ((rc = open_inner(s, &a, &ls)) != 0)
        goto out;
    if ((rc = add_mem_entry(s, a, &ls, "header-info", hinfo, hinfo_len)) != 0)
        goto out;
    for (size_t i = 0; !augment && i < s->nsc; i++)
        if ((rc = add_script_entry(s, a, &ls, &s->sc[i])) != 0)
            goto out;
    if (files && (rc = add_mem_entry(s, a, &ls, "headers/0000/files", files, files_len)) != 0)
        goto out;
    if ((rc = add_mem_entry(s, a, &ls, "headers/0000/type-info", tinfo, tinfo_len)) != 0)
        goto out;
    /* meta-data: rootfs (v2 and v3) always writes it, empty; module-image only when given;
     * bootstrap never (mender-artifact 3.9.0). */
    const char *meta = augment ? s->aug_meta : s->meta;
    size_t meta_len = augment ? s->aug_meta_len : s->meta_len;
    if (w->kind == MSIG_PAYLOAD_ROOTFS || meta) {
        if ((rc = add_mem_entry(s, a, &ls, "headers/0000/meta-data", meta, meta_len)) != 0)
            goto out;
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = la_fail(s, a, &ls, "finishing the header tar");
        goto out;
    }
    if ((rc = msigi_zenc_finish(ls.enc)) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && mb->overflow)
        rc = msigi_err(ctx, MSIG_E_LIMIT, "the compressed header is larger than %u bytes",
                       HEADER_MAX);
    if (a) {
        if (rc != 0)
            archive_write_fail(a);
        archive_write_free(a);
    }
    msigi_zenc_free(ls.enc);
    msigi_strv_free(&names);
    msigi_free(hinfo);
    msigi_free(tinfo);
    msigi_free(files);
    return rc;
}

/* ---------------------------------------------------------------- manifest */

static int append_line(struct msig_ctx *ctx, char **buf, size_t *len, const char *hex,
                       const char *name)
{
    size_t add = strlen(hex) + 2 + strlen(name) + 1;
    char *n = msigi_realloc(*buf, *len + add + 1);
    if (!n)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory building the manifest");
    *buf = n;
    snprintf(n + *len, add + 1, "%s  %s\n", hex, name);
    *len += add;
    return 0;
}

static int build_manifests(struct wstate *s, const char *version, size_t version_len)
{
    int rc;
    char hex[65], name[64];
    for (size_t i = 0; i < s->nmain; i++) {
        char *n = msigi_malloc(strlen(s->pl[i].base) + 11);
        if (!n)
            return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory building the manifest");
        sprintf(n, "data/0000/%s", s->pl[i].base);
        rc = append_line(s->ctx, &s->manifest, &s->manifest_len, s->pl[i].hex, n);
        msigi_free(n);
        if (rc != 0)
            return rc;
    }
    snprintf(name, sizeof(name), "header.tar%s", s->ext);
    if ((rc = sha256_hex(s->ctx, s->hdr.buf, s->hdr.len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest, &s->manifest_len, hex, name)) != 0 ||
        (rc = sha256_hex(s->ctx, version, version_len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest, &s->manifest_len, hex, "version")) != 0)
        return rc;
    if (!s->w->aug_type)
        return 0;
    for (size_t i = s->nmain; i < s->npl; i++) {
        char *n = msigi_malloc(strlen(s->pl[i].base) + 11);
        if (!n)
            return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory building the manifest");
        sprintf(n, "data/0000/%s", s->pl[i].base);
        rc = append_line(s->ctx, &s->manifest_aug, &s->manifest_aug_len, s->pl[i].hex, n);
        msigi_free(n);
        if (rc != 0)
            return rc;
    }
    snprintf(name, sizeof(name), "header-augment.tar%s", s->ext);
    if ((rc = sha256_hex(s->ctx, s->hdr_aug.buf, s->hdr_aug.len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest_aug, &s->manifest_aug_len, hex, name)) != 0)
        return rc;
    return 0;
}

/* ---------------------------------------------------------------- outer tar */

struct out {
    struct msig_ctx *ctx;
    int fd;
    uint64_t off;
    const char *what; /* output name for messages */
    int failed_errno;
};

static int out_write(struct out *o, const void *buf, size_t len)
{
    if (msigi_write_all(o->fd, buf, len) != 0)
        return msigi_err(o->ctx, MSIG_E_IO, "cannot write %s: %s", o->what, strerror(errno));
    o->off += len;
    return 0;
}

static int out_entry(struct out *o, const char *name, const void *data, size_t len, uint32_t mode,
                     int64_t mtime)
{
    uint8_t hdr[MSIGI_TAR_HDR_MAX];
    size_t hlen = 0;
    int rc = msigi_tar_header(o->ctx, name, len, mode, mtime, hdr, &hlen);
    if (rc != 0 || (rc = out_write(o, hdr, hlen)) != 0 || (rc = out_write(o, data, len)) != 0)
        return rc;
    return out_write(o, ZEROS, msigi_tar_pad(len));
}

/* Sink of the data entry's encoder: straight to the output file. */
static int fd_sink(void *user, const void *buf, size_t len)
{
    struct out *o = user;
    if (msigi_write_all(o->fd, buf, len) != 0) {
        o->failed_errno = errno;
        return -1;
    }
    o->off += len;
    return 0;
}

/* Pass 2: one payload file into the inner data tar, hashed again on the way. */
static int stream_payload(struct wstate *s, struct archive *a, struct lasink *ls,
                          const struct payload *p)
{
    int rc = MSIG_E_FAILED;
    int fd = -1;
    struct stat st;
    struct archive_entry *e = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t d[32];
    unsigned int dlen = 0;
    char hex[65];
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || !(e = archive_entry_new())) {
        rc = msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory streaming %s", p->path);
        goto out;
    }
    fd = open(p->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                       strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != p->size) {
        rc = msigi_err(s->ctx, MSIG_E_IO, "%s changed while writing (size %llu, was %llu)", p->path,
                       (unsigned long long)st.st_size, (unsigned long long)p->size);
        goto out;
    }
    archive_entry_set_pathname(e, p->base);
    set_file_meta(s, e, &st);
    archive_entry_set_size(e, (la_int64_t)p->size);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        rc = la_fail(s, a, ls, p->base);
        goto out;
    }
    uint64_t left = p->size;
    for (;;) {
        /* Read one byte past the expected end to notice a file that grew. */
        size_t want = left < IO_BUF ? (size_t)left + 1 : IO_BUF;
        ssize_t r = read_full(fd, s->iobuf, want);
        if (r < 0) {
            rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                           strerror(errno));
            goto out;
        }
        if ((uint64_t)r > left || (r == 0 && left)) {
            rc = msigi_err(s->ctx, MSIG_E_IO, "%s changed while writing (size)", p->path);
            goto out;
        }
        if (r == 0)
            break;
        s->done += (uint64_t)r;
        msigi_progress(s->ctx, s->done, s->total);
        if (EVP_DigestUpdate(md, s->iobuf, (size_t)r) != 1) {
            rc = msigi_err(s->ctx, MSIG_E_FAILED, "SHA-256 failed for %s", p->path);
            goto out;
        }
        if (archive_write_data(a, s->iobuf, (size_t)r) != r) {
            rc = la_fail(s, a, ls, p->base);
            goto out;
        }
        left -= (uint64_t)r;
    }
    if (EVP_DigestFinal_ex(md, d, &dlen) != 1) {
        rc = msigi_err(s->ctx, MSIG_E_FAILED, "SHA-256 failed for %s", p->path);
        goto out;
    }
    hex_of(d, 32, hex);
    if (strcmp(hex, p->hex) != 0) {
        rc = msigi_err(s->ctx, MSIG_E_CHECKSUM, "%s changed while writing (checksum %s, was %s)",
                       p->path, hex, p->hex);
        goto out;
    }
    rc = 0;
out:
    if (e)
        archive_entry_free(e);
    EVP_MD_CTX_free(md);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int write_data_entry(struct wstate *s, struct out *o, int64_t mtime)
{
    struct msig_ctx *ctx = s->ctx;
    int rc = MSIG_E_FAILED;
    struct archive *a = NULL;
    struct lasink ls = { 0 };
    char name[32];
    uint8_t hdr[MSIGI_TAR_HDR_MAX], real[MSIGI_TAR_HDR_MAX];
    size_t hlen = 0, rlen = 0;

    snprintf(name, sizeof(name), "data/0000.tar%s", s->ext);
    if ((rc = msigi_tar_header(ctx, name, 0, OUTER_MODE, mtime, hdr, &hlen)) != 0)
        goto out;
    uint64_t hdr_off = o->off;
    if ((rc = out_write(o, hdr, hlen)) != 0)
        goto out;
    uint64_t start = o->off;

    int fam = msigi_z_family(s->w->compression);
    int threads = (fam == MSIGI_Z_GZIP || fam == MSIGI_Z_ZSTD) ? 2 : 1;
    if ((rc = msigi_zenc_new_flags(ctx, s->w->compression, threads, zenc_flags(s), fd_sink, o,
                                   &ls.enc)) != 0)
        goto out;
    if ((rc = open_inner(s, &a, &ls)) != 0)
        goto out;
    for (size_t i = 0; i < s->npl; i++)
        if ((rc = stream_payload(s, a, &ls, &s->pl[i])) != 0)
            goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = la_fail(s, a, &ls, "finishing the data tar");
        goto out;
    }
    if ((rc = msigi_zenc_finish(ls.enc)) != 0)
        goto out;
    uint64_t size = o->off - start;

    if ((rc = msigi_tar_header(ctx, name, size, OUTER_MODE, mtime, real, &rlen)) != 0)
        goto out;
    if (rlen != hlen) {
        /* 8 GiB and more needs a PAX record, which would not fit the placeholder: a GNU
         * header carries the size in base-256 in the same single block. */
        if ((rc = msigi_tar_header_gnu(ctx, name, size, OUTER_MODE, mtime, real, &rlen)) != 0)
            goto out;
        if (rlen != hlen) {
            rc = msigi_err(ctx, MSIG_E_LIMIT,
                           "the data entry (%llu bytes) does not fit a "
                           "%zu-byte tar header",
                           (unsigned long long)size, hlen);
            goto out;
        }
    }
    if (pwrite(o->fd, real, rlen, (off_t)hdr_off) != (ssize_t)rlen) {
        rc = msigi_err(ctx, MSIG_E_IO, "cannot write %s: %s", o->what, strerror(errno));
        goto out;
    }
    rc = out_write(o, ZEROS, msigi_tar_pad(size));
out:
    if (rc != 0 && o->failed_errno)
        rc = msigi_err(ctx, MSIG_E_IO, "cannot write %s: %s", o->what, strerror(o->failed_errno));
    if (a) {
        if (rc != 0)
            archive_write_fail(a);
        archive_write_free(a);
    }
    msigi_zenc_free(ls.enc);
    return rc;
}

static int write_outer(struct wstate *s, struct out *o, const char *version, size_t vlen)
{
    int rc;
    char name[64];
    int64_t mtime = s->have_epoch ? s->epoch : s->now;
    if ((rc = out_entry(o, "version", version, vlen, STREAM_MODE, 0)) != 0 ||
        (rc = out_entry(o, "manifest", s->manifest, s->manifest_len, STREAM_MODE, 0)) != 0)
        return rc;
    if (s->sig && (rc = out_entry(o, "manifest.sig", s->sig, s->sig_len, STREAM_MODE, 0)) != 0)
        return rc;
    if (s->manifest_aug && (rc = out_entry(o, "manifest-augment", s->manifest_aug,
                                           s->manifest_aug_len, STREAM_MODE, 0)) != 0)
        return rc;
    snprintf(name, sizeof(name), "header.tar%s", s->ext);
    if ((rc = out_entry(o, name, s->hdr.buf, s->hdr.len, OUTER_MODE, mtime)) != 0)
        return rc;
    if (s->w->aug_type) {
        snprintf(name, sizeof(name), "header-augment.tar%s", s->ext);
        if ((rc = out_entry(o, name, s->hdr_aug.buf, s->hdr_aug.len, OUTER_MODE, mtime)) != 0)
            return rc;
    }
    if ((rc = write_data_entry(s, o, mtime)) != 0)
        return rc;
    /* End of archive: exactly two zero blocks, no record padding (as Go's archive/tar). */
    return out_write(o, ZEROS, sizeof(ZEROS));
}

static void wstate_free(struct wstate *s)
{
    for (size_t i = 0; i < s->nsc; i++)
        msigi_free(s->sc[i].path);
    msigi_free(s->sc);
    msigi_free(s->pl);
    msigi_free(s->meta);
    msigi_free(s->aug_meta);
    json_decref(s->provides);
    msigi_strv_free(&s->clears);
    msigi_free(s->hdr.buf);
    msigi_free(s->hdr_aug.buf);
    msigi_free(s->manifest);
    msigi_free(s->manifest_aug);
    msigi_free(s->sig);
    msigi_free(s->iobuf);
}

/* Every file the artifact is made from: the output may be none of them. */
static int writer_inputs(struct wstate *s, struct msigi_strv *in)
{
    const struct msig_writer *w = s->w;
    const char *one[] = { w->meta_path, w->aug_meta_path, msigi_key_file(w->key) };
    int bad = 0;

    for (size_t i = 0; i < w->files.n; i++)
        bad |= msigi_strv_push(in, w->files.v[i]);
    for (size_t i = 0; i < w->aug_files.n; i++)
        bad |= msigi_strv_push(in, w->aug_files.v[i]);
    for (size_t i = 0; i < s->nsc; i++)
        bad |= msigi_strv_push(in, s->sc[i].path);
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
        if (one[i] != NULL)
            bad |= msigi_strv_push(in, one[i]);
    return bad ? msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory") : 0;
}

int msig_writer_write(struct msig_writer *w, const char *path)
{
    if (!w)
        return MSIG_E_INVALID;
    struct msig_ctx *ctx = w->ctx;
    int rc = MSIG_E_FAILED;
    struct wstate s = { .w = w, .ctx = ctx };
    struct out o = { .ctx = ctx, .fd = -1 };
    struct msigi_out fo = { .fd = -1 };
    struct msigi_strv inputs = { 0 };
    int to_stdout = 0;
    if (!path || !*path)
        return msigi_err(ctx, MSIG_E_INVALID, "no output path given");
    to_stdout = strcmp(path, "-") == 0;
    s.ext = msigi_z_suffix(msigi_z_family(w->compression));
    s.now = (int64_t)time(NULL);
    const char *version = w->version == 2 ? VERSION2 : VERSION3;
    size_t vlen = strlen(version);

    if ((rc = validate(&s)) != 0)
        goto out;
    if (!(s.iobuf = msigi_malloc(IO_BUF))) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.npl; i++)
        if ((rc = hash_payload(&s, &s.pl[i])) != 0)
            goto out;
    for (size_t i = 0; i < s.npl; i++)
        s.total += s.pl[i].size;
    if (w->version == 3 && (rc = make_type_maps(&s)) != 0)
        goto out;
    if ((rc = build_header(&s, 0, &s.hdr)) != 0)
        goto out;
    if (w->aug_type && (rc = build_header(&s, 1, &s.hdr_aug)) != 0)
        goto out;
    if ((rc = build_manifests(&s, version, vlen)) != 0)
        goto out;
    if (w->key && (rc = msigi_sign_manifest(ctx, w->key, (const uint8_t *)s.manifest,
                                            s.manifest_len, &s.sig, &s.sig_len)) != 0)
        goto out;

    /* Output (fileio.c): an anonymous temporary file beside the target, linked into place
     * when complete; for standard output a temporary copy (the data entry's header is
     * patched after streaming, so the output must be seekable). */
    if ((rc = writer_inputs(&s, &inputs)) != 0)
        goto out;
    if ((rc = msigi_out_begin(ctx, &fo, path, msigi_strv_get(&inputs))) != 0)
        goto out;
    o.fd = fo.fd;
    o.what = fo.what;
    if ((rc = write_outer(&s, &o, version, vlen)) != 0)
        goto out;
    /* --max-artifact-size is not checked for standard output (as mender-artifact). */
    if (!to_stdout && w->max_size && o.off > w->max_size) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "Artifact size %llu bytes exceeds the maximum %llu bytes",
                       (unsigned long long)o.off, (unsigned long long)w->max_size);
        goto out;
    }
    if (!to_stdout && w->warn_size && o.off > w->warn_size)
        msigi_log(ctx, MSIG_LOG_WARN,
                  "Artifact size %llu bytes exceeds the warning size %llu bytes",
                  (unsigned long long)o.off, (unsigned long long)w->warn_size);
    /* Final mode 0644 & ~umask, like a file created with default permissions.
     * mender-artifact 3.9.0's `sign` leaves 0600; `write` creates with 0666 & ~umask.
     * We do not make artifacts group/world-writable, so 0644 is the base. */
    rc = msigi_out_commit(&fo, 0644 & ~msigi_umask(), (uid_t)-1, (gid_t)-1);
out:
    msigi_out_abort(&fo);
    msigi_strv_free(&inputs);
    wstate_free(&s);
    return rc;
}
