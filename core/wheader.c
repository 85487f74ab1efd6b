/* wheader.c -- stage 3 of a write: the type-info maps (provides, with the rootfs checksum,
 * and clears) and the compressed header tar(s), built in memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "hdrbuild.h"
#include "wstate.h"
#include "zenc.h"

#define HEADER_MAX (16u * 1024 * 1024) /* compressed header tar, in memory */
#define SCRIPT_MAX (4u * 1024 * 1024)  /* one state script */

/* The default provides go where no other provide set the key (mender-artifact adds the
 * device's show-provides that way). */
static int add_default_provides(struct wstate *s)
{
    const char *k;
    json_t *v;

    json_object_foreach (s->w->default_provides, k, v) {
        if (!json_object_get(s->provides, k) &&
            json_object_set_new(s->provides, k, json_incref(v)) != 0)
            return -1;
    }
    return 0;
}

int msigi_wheader_type_maps(struct wstate *s)
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
    if (add_default_provides(s) != 0)
        goto nomem;

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

/* Reproducible writes need compressed bytes that do not depend on the machine. */
static uint32_t zenc_flags(const struct wstate *s)
{
    return s->have_epoch ? MSIGI_ZENC_F_PORTABLE : 0;
}

static int add_script_entry(struct wstate *s, struct archive *a, struct msigi_lasink *ls,
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
    ssize_t r = msigi_w_read_full(fd, data, len + 1);
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
    msigi_wtar_file_meta(s, e, &st);
    archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len)) {
        rc = msigi_wtar_fail(s, a, ls, name);
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
int msigi_wheader_build(struct wstate *s, int augment, struct membuf *mb)
{
    struct msig_writer *w = s->w;
    struct msig_ctx *ctx = s->ctx;
    int rc = MSIG_E_FAILED;
    struct archive *a = NULL;
    struct msigi_lasink ls = { 0 };
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
    if ((rc = msigi_wtar_open(s, &a, &ls)) != 0)
        goto out;
    if ((rc = msigi_wtar_add_mem(s, a, &ls, "header-info", hinfo, hinfo_len)) != 0)
        goto out;
    for (size_t i = 0; !augment && i < s->nsc; i++)
        if ((rc = add_script_entry(s, a, &ls, &s->sc[i])) != 0)
            goto out;
    if (files && (rc = msigi_wtar_add_mem(s, a, &ls, "headers/0000/files", files, files_len)) != 0)
        goto out;
    if ((rc = msigi_wtar_add_mem(s, a, &ls, "headers/0000/type-info", tinfo, tinfo_len)) != 0)
        goto out;
    /* meta-data: rootfs (v2 and v3) always writes it, empty; module-image only when given;
     * bootstrap never (mender-artifact 3.9.0). */
    const char *meta = augment ? s->aug_meta : s->meta;
    size_t meta_len = augment ? s->aug_meta_len : s->meta_len;
    if (w->kind == MSIG_PAYLOAD_ROOTFS || meta) {
        if ((rc = msigi_wtar_add_mem(s, a, &ls, "headers/0000/meta-data", meta, meta_len)) != 0)
            goto out;
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = msigi_wtar_fail(s, a, &ls, "finishing the header tar");
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
            msigi_wtar_close_failed(a, &ls);
        archive_write_free(a);
    }
    msigi_zenc_free(ls.enc);
    msigi_strv_free(&names);
    msigi_free(hinfo);
    msigi_free(tinfo);
    msigi_free(files);
    return rc;
}
