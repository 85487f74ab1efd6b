/* writer.c -- msig_writer_*: writes a Mender Artifact (format v3, or v2 for rootfs-image).
 *
 * The setters, the checks of every setting, payload name and state script, and the driver
 * of the write pipeline (see wstate.h for its stages): the payloads are read, hashed and
 * compressed once, into a scratch file; then the header(s), the manifest(s) and the
 * signature are built, and the outer tar is written with the compressed data copied in.
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

#include <jansson.h>

#include "ctx.h"
#include "fileio.h"
#include "hdrbuild.h"
#include "names.h"
#include "signer.h"
#include "wstate.h"
#include "zstream.h"

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
    json_decref(w->default_provides);
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

int msig_writer_add_default_provide(struct msig_writer *w, const char *key, const char *value)
{
    return put_kv(w, &w->default_provides, key, value, "provide");
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

static const char VERSION3[] = "{\"format\":\"mender\",\"version\":3}";
static const char VERSION2[] = "{\"format\":\"mender\",\"version\":2}";

static const char *base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
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
    struct msigi_out fo = { .fd = -1 };
    struct msigi_strv inputs = { 0 };
    int to_stdout = 0, data_fd = -1;
    uint64_t data_size = 0, size = 0;
    if (!path || !*path)
        return msigi_err(ctx, MSIG_E_INVALID, "no output path given");
    to_stdout = strcmp(path, "-") == 0;
    s.ext = msigi_z_suffix(msigi_z_family(w->compression));
    s.now = (int64_t)time(NULL);
    const char *version = w->version == 2 ? VERSION2 : VERSION3;
    size_t vlen = strlen(version);

    /* 1. checks */
    if ((rc = validate(&s)) != 0)
        goto out;
    /* Output (fileio.c): an anonymous temporary file beside the target, linked into place
     * when complete; for standard output a temporary copy. The target is checked before
     * anything is read. */
    if ((rc = writer_inputs(&s, &inputs)) != 0)
        goto out;
    if ((rc = msigi_out_begin(ctx, &fo, path, msigi_strv_get(&inputs))) != 0)
        goto out;
    /* 2. data: payloads read, hashed and compressed once, into the scratch file */
    if ((rc = msigi_scratch_open(&fo, &data_fd)) != 0)
        goto out;
    if ((rc = msigi_wdata_write(&s, data_fd, &data_size)) != 0)
        goto out;
    /* 3. header(s), which need the payload checksums */
    if (w->version == 3 && (rc = msigi_wheader_type_maps(&s)) != 0)
        goto out;
    if ((rc = msigi_wheader_build(&s, 0, &s.hdr)) != 0)
        goto out;
    if (w->aug_type && (rc = msigi_wheader_build(&s, 1, &s.hdr_aug)) != 0)
        goto out;
    /* 4. manifest(s), signature, the outer tar */
    if ((rc = msigi_wouter_manifests(&s, version, vlen)) != 0)
        goto out;
    if (w->key && (rc = msigi_sign_manifest(ctx, w->key, (const uint8_t *)s.manifest,
                                            s.manifest_len, &s.sig, &s.sig_len)) != 0)
        goto out;
    if ((rc = msigi_wouter_write(&s, fo.fd, fo.what, version, vlen, data_fd, data_size, &size)) !=
        0)
        goto out;
    /* --max-artifact-size is not checked for standard output (as mender-artifact). */
    if (!to_stdout && w->max_size && size > w->max_size) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "Artifact size %llu bytes exceeds the maximum %llu bytes",
                       (unsigned long long)size, (unsigned long long)w->max_size);
        goto out;
    }
    if (!to_stdout && w->warn_size && size > w->warn_size)
        msigi_log(ctx, MSIG_LOG_WARN,
                  "Artifact size %llu bytes exceeds the warning size %llu bytes",
                  (unsigned long long)size, (unsigned long long)w->warn_size);
    /* Final mode 0644 & ~umask, like a file created with default permissions.
     * mender-artifact 3.9.0's `sign` leaves 0600; `write` creates with 0666 & ~umask.
     * We do not make artifacts group/world-writable, so 0644 is the base. */
    rc = msigi_out_commit(&fo, 0644 & ~msigi_umask(), (uid_t)-1, (gid_t)-1);
out:
    if (data_fd >= 0)
        close(data_fd);
    msigi_out_abort(&fo);
    msigi_strv_free(&inputs);
    wstate_free(&s);
    return rc;
}
