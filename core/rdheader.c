/* rdheader.c -- the header entries: header.tar<EXT> and header-augment.tar<EXT> (spec §5, §6),
 * walked with one function per state of their order (header-info first, then scripts, then
 * headers/NNNN/...), and the JSON of header-info, type-info and meta-data. */
#include "rd.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

#define MAX_HEADER_ENTRIES 1024u

/* payloads[i] of header-info (augment: of header-augment's, which must match). */
static int hi_payload(struct msigi_rd *rd, json_t *v, size_t i, const char *what, int augment)
{
    static const char *const pk[] = { "type", NULL };
    struct msig_artifact *art = rd->art;
    char field[32];
    int rc;
    snprintf(field, sizeof(field), "payloads[%zu]", i);
    if (!json_is_object(v))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must be an object", rd->name, what,
                         field);
    if ((rc = msigi_rd_only_keys(rd, v, what, pk)))
        return rc;
    json_t *t = json_object_get(v, "type");
    char **dst = augment ? &art->payloads[i].aug_type : &art->payloads[i].type;
    if (t && !json_is_null(t)) {
        if ((rc = msigi_rd_check_string(rd, t, what, field)))
            return rc;
        if (json_string_length(t) == 0)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s has an empty type", rd->name, what,
                             field);
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
    return 0;
}

static int hi_payloads(struct msigi_rd *rd, json_t *pl, const char *what, int augment)
{
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_array(pl) || json_array_size(pl) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: payloads must be a non-empty list",
                         rd->name, what);
    if (json_array_size(pl) > MSIGI_RD_MAX_PAYLOADS)
        return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: %s declares %zu payloads, more than %u",
                         rd->name, what, json_array_size(pl), MSIGI_RD_MAX_PAYLOADS);
    if (augment && json_array_size(pl) != art->npayloads)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s declares %zu payloads, header-info %zu",
                         rd->name, what, json_array_size(pl), art->npayloads);
    if (!augment && (rc = msigi_artifact_set_payloads(art, json_array_size(pl))))
        return msigi_err(rd->ctx, rc, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach (pl, i, v) {
        if ((rc = hi_payload(rd, v, i, what, augment)))
            return rc;
    }
    return 0;
}

static int hi_provides(struct msigi_rd *rd, json_t *ap, const char *what)
{
    static const char *const prov[] = { "artifact_name", "artifact_group", NULL };
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_object(ap))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_provides is missing", rd->name,
                         what);
    if ((rc = msigi_rd_only_keys(rd, ap, "header-info artifact_provides", prov)))
        return rc;
    json_t *an = json_object_get(ap, "artifact_name");
    if (!an)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: artifact_provides.artifact_name is missing", rd->name, what);
    if ((rc = msigi_rd_check_string(rd, an, what, "artifact_name")))
        return rc;
    if (json_string_length(an) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is empty", rd->name, what);
    art->name = msigi_strdup(json_string_value(an));
    json_t *ag = json_object_get(ap, "artifact_group");
    if (ag) {
        if ((rc = msigi_rd_check_string(rd, ag, what, "artifact_group")))
            return rc;
        art->provides_group = msigi_strdup(json_string_value(ag));
    }
    return 0;
}

static int hi_depends(struct msigi_rd *rd, json_t *ad, const char *what)
{
    static const char *const deps[] = { "artifact_name", "device_type", "artifact_group", NULL };
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_object(ad))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_depends must be an object",
                         rd->name, what);
    if ((rc = msigi_rd_only_keys(rd, ad, "header-info artifact_depends", deps)))
        return rc;
    json_t *dt = json_object_get(ad, "device_type");
    if (!dt)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_depends.device_type is missing",
                         rd->name, what);
    if ((rc = msigi_rd_string_list(rd, dt, what, "device_type", 1, &art->devices)))
        return rc;
    json_t *dn = json_object_get(ad, "artifact_name");
    if (dn && (rc = msigi_rd_string_list(rd, dn, what, "artifact_depends.artifact_name", 0,
                                         &art->dep_names)))
        return rc;
    json_t *dg = json_object_get(ad, "artifact_group");
    if (dg && (rc = msigi_rd_string_list(rd, dg, what, "artifact_depends.artifact_group", 0,
                                         &art->dep_groups)))
        return rc;
    return 0;
}

static int parse_header_info_v3(struct msigi_rd *rd, json_t *j, const char *what, int augment)
{
    static const char *const top[] = { "payloads", "artifact_provides", "artifact_depends", NULL };
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if ((rc = msigi_rd_only_keys(rd, j, what, top)) ||
        (rc = hi_payloads(rd, json_object_get(j, "payloads"), what, augment)))
        return rc;
    if (augment)
        return 0; /* the augment header repeats these; the signed header's values count */
    if ((rc = hi_provides(rd, json_object_get(j, "artifact_provides"), what)))
        return rc;
    json_t *ad = json_object_get(j, "artifact_depends");
    return ad ? hi_depends(rd, ad, what) : 0;
}

static int parse_header_info_v2(struct msigi_rd *rd, json_t *j, const char *what)
{
    static const char *const top[] = { "artifact_name", "updates", "device_types_compatible",
                                       NULL };
    struct msig_artifact *art = rd->art;
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if ((rc = msigi_rd_only_keys(rd, j, what, top)))
        return rc;
    json_t *an = json_object_get(j, "artifact_name");
    if (!an || (rc = msigi_rd_check_string(rd, an, what, "artifact_name")))
        return an ? rc
                  : msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is missing", rd->name,
                              what);
    if (json_string_length(an) == 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_name is empty", rd->name, what);
    art->name = msigi_strdup(json_string_value(an));
    json_t *up = json_object_get(j, "updates");
    if (!json_is_array(up) || json_array_size(up) == 0 ||
        json_array_size(up) > MSIGI_RD_MAX_PAYLOADS)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: updates must be a list of 1 to %u "
                         "payloads",
                         rd->name, what, MSIGI_RD_MAX_PAYLOADS);
    if ((rc = msigi_artifact_set_payloads(art, json_array_size(up))))
        return msigi_err(rd->ctx, rc, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach (up, i, v) {
        json_t *t = json_object_get(v, "type");
        if (!json_is_string(t) || (rc = msigi_rd_check_string(rd, t, what, "updates[].type")))
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
    return msigi_rd_string_list(rd, dt, what, "device_types_compatible", 1, &art->devices);
}

/* type-info's type must be header-info's type for that payload. */
static int ti_type(struct msigi_rd *rd, struct msigi_payload *p, json_t *j, const char *what,
                   int augment)
{
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
    return 0;
}

/* artifact_provides (or NULL): an object of strings. */
static int ti_provides_shape(struct msigi_rd *rd, json_t *prov, const char *what)
{
    const char *k;
    json_t *v;
    if (!prov)
        return 0;
    if (!json_is_object(prov))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: artifact_provides must be an object",
                         rd->name, what);
    json_object_foreach (prov, k, v) {
        if (!json_is_string(v))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: provide '%s' must be a string",
                             rd->name, what, k);
    }
    return 0;
}

/* artifact_depends (or NULL): an object of strings or lists of strings. */
static int ti_depends_shape(struct msigi_rd *rd, json_t *deps, const char *what)
{
    const char *k;
    json_t *v;
    if (!deps)
        return 0;
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
                             "%s: %s: depend '%s' must be a string or a list of strings", rd->name,
                             what, k);
    }
    return 0;
}

/* clears_artifact_provides (or NULL): a list of checked strings. */
static int ti_clears(struct msigi_rd *rd, json_t *clears, const char *what)
{
    size_t i;
    json_t *e;
    if (!clears)
        return 0;
    int rc = msigi_rd_check_strings(rd, clears, what, "clears_artifact_provides");
    if (rc)
        return rc;
    if (!json_is_array(clears))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: clears_artifact_provides must be a list",
                         rd->name, what);
    json_array_foreach (clears, i, e) {
        if (!json_is_string(e))
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: clears_artifact_provides must hold strings", rd->name, what);
    }
    return 0;
}

static int parse_type_info(struct msigi_rd *rd, struct msigi_payload *p, json_t *j,
                           const char *what, int augment)
{
    int rc;
    if (!json_is_object(j))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s must be a JSON object", rd->name, what);
    if (rd->art->version == 2)
        return 0; /* v2 type-info is informational (spec §10) */
    json_t *prov = json_object_get(j, "artifact_provides");
    json_t *deps = json_object_get(j, "artifact_depends");
    json_t *clears = json_object_get(j, "clears_artifact_provides");
    if ((rc = ti_type(rd, p, j, what, augment)) || (rc = ti_provides_shape(rd, prov, what)) ||
        (rc = ti_depends_shape(rd, deps, what)))
        return rc;
    if ((prov && (rc = msigi_rd_check_strings(rd, prov, what, "artifact_provides"))) ||
        (deps && (rc = msigi_rd_check_strings(rd, deps, what, "artifact_depends"))) ||
        (rc = ti_clears(rd, clears, what)))
        return rc;
    if (!augment) {
        p->provides = prov ? json_deep_copy(prov) : json_object();
        p->depends = deps ? json_deep_copy(deps) : json_object();
        p->clears = clears ? json_deep_copy(clears) : json_array();
        return 0;
    }
    if (prov && (rc = msigi_rd_merge_json(rd, p->provides, prov, "provides")))
        return rc;
    if (deps && (rc = msigi_rd_merge_json(rd, p->depends, deps, "depends")))
        return rc;
    return 0;
}

static int parse_meta_data(struct msigi_rd *rd, struct msigi_payload *p, const uint8_t *buf,
                           size_t len, const char *what, int augment)
{
    if (len == 0)
        return 0;
    json_t *j;
    int rc = msigi_rd_json(rd, buf, len, what, &j);
    if (rc)
        return rc;
    if (!json_is_object(j)) {
        json_decref(j);
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: top level object in meta-data must be a JSON object", rd->name,
                         what);
    }
    if (augment && p->meta) {
        rc = msigi_rd_merge_json(rd, p->meta, j, "meta-data");
        json_decref(j);
        return rc;
    }
    json_decref(p->meta);
    p->meta = j;
    return 0;
}

/* Streams a script to the file handler. */
static int read_script(struct msigi_rd *rd, struct msigi_rd_inner *in, struct archive_entry *e,
                       const char *base, const char *what)
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
        la_ssize_t n = archive_read_data(in->a, in->obuf, MSIGI_RD_IOBUF);
        if (n < 0)
            return msigi_rd_inner_error(rd, in, what, "reading a script");
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

/* ------------------------------------------------------------------ the header walk */

/* The order of a header tar: header-info, then scripts (header.tar only), then headers/. */
enum hdr_state { H_INFO, H_SCRIPTS, H_HEADERS };

struct hwalk {
    struct msigi_rd *rd;
    struct msigi_rd_inner in;
    const char *entry; /* header.tar<EXT> or header-augment.tar<EXT> */
    int augment;
    enum hdr_state state;
    unsigned count;
};

/* The bit of has_type_info, has_meta_data and has_files for the header being read: seen in
 * header.tar (1) or in header-augment.tar (2). */
static int seen_bit(const struct hwalk *h)
{
    return h->augment ? 2 : 1;
}

/* The current entry as JSON. */
static int entry_json(struct hwalk *h, struct archive_entry *e, const char *what, json_t **j)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *j = NULL;
    int rc = msigi_rd_inner_read_small(h->rd, &h->in, e, h->entry, &buf, &len);
    if (rc == 0)
        rc = msigi_rd_json(h->rd, buf, len, what, j);
    msigi_free(buf);
    return rc;
}

static int hs_info(struct hwalk *h, struct archive_entry *e, const char *path, const char *what)
{
    struct msigi_rd *rd = h->rd;
    if (strcmp(path, "header-info") != 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: the first entry must be "
                         "header-info, not '%s'",
                         rd->name, h->entry, path);
    json_t *j = NULL;
    int rc = entry_json(h, e, what, &j);
    if (rc == 0)
        rc = rd->art->version == 2 ? parse_header_info_v2(rd, j, what)
                                   : parse_header_info_v3(rd, j, what, h->augment);
    json_decref(j);
    if (rc == 0)
        h->state = H_SCRIPTS;
    return rc;
}

static int script_misplaced(struct hwalk *h, const char *what)
{
    return msigi_err(h->rd->ctx, MSIG_E_FORMAT,
                     "%s: %s: scripts must follow header-info "
                     "directly%s",
                     h->rd->name, what,
                     h->augment ? " and are not allowed in an augmented header" : "");
}

/* scripts/<base>: named by the rule (names.h), stored once, streamed to the file handler. */
static int take_script(struct hwalk *h, struct archive_entry *e, const char *base, const char *what)
{
    struct msigi_rd *rd = h->rd;
    struct msig_artifact *art = rd->art;
    if (h->augment)
        return script_misplaced(h, what);
    if (msigi_name_script(base, NULL, NULL) != MSIGI_SCRIPT_OK)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: invalid script name \"%s\"; scripts must be named "
                         "<State>_<Enter|Leave|Error>_<NN>[_<label>]",
                         rd->name, h->entry, base);
    if (msigi_strv_has(&art->scripts, base))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: script %s is stored twice", rd->name,
                         h->entry, base);
    if (msigi_strv_push(&art->scripts, base))
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    return read_script(rd, &h->in, e, base, what);
}

/* The payload that headers/NNNN/<leaf> belongs to, and its leaf. */
static int part_payload(struct hwalk *h, const char *path, struct msigi_payload **p,
                        const char **leaf)
{
    struct msigi_rd *rd = h->rd;
    const char *rest = strncmp(path, "headers/", 8) == 0 ? path + 8 : NULL;
    const char *slash = rest ? strchr(rest, '/') : NULL;
    int idx = slash ? msigi_rd_index4(rest, (size_t)(slash - rest)) : -1;
    if (idx < 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: unsupported file '%s' (want "
                         "headers/NNNN/<file>)",
                         rd->name, h->entry, path);
    if ((size_t)idx >= rd->art->npayloads)
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: '%s' belongs to payload %04d, but "
                         "header-info declares %zu payload(s)",
                         rd->name, h->entry, path, idx, rd->art->npayloads);
    *p = &rd->art->payloads[idx];
    *leaf = slash + 1;
    return 0;
}

/* v2 headers/NNNN/files: a list, not used further (spec §10). */
static int parse_files(struct hwalk *h, struct archive_entry *e, const char *what)
{
    json_t *j = NULL;
    int rc = entry_json(h, e, what, &j);
    if (rc == 0 && !json_is_array(json_object_get(j, "files")))
        rc = msigi_err(h->rd->ctx, MSIG_E_FORMAT, "%s: %s: \"files\" must be a list", h->rd->name,
                       what);
    json_decref(j);
    return rc;
}

/* headers/NNNN/type-info, meta-data (not for bootstrap payloads) or, in v2, files. */
static int take_part(struct hwalk *h, struct archive_entry *e, const char *path, const char *what)
{
    struct msigi_rd *rd = h->rd;
    struct msigi_payload *p = NULL;
    const char *leaf = NULL;
    int rc = part_payload(h, path, &p, &leaf);
    if (rc)
        return rc;
    int is_type = strcmp(leaf, "type-info") == 0;
    int is_meta = strcmp(leaf, "meta-data") == 0;
    int is_files = rd->art->version == 2 && strcmp(leaf, "files") == 0;
    int bootstrap = p->type == NULL;
    if (!(is_type || (is_meta && !bootstrap) || is_files))
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: unsupported file '%s' for a %s "
                         "payload",
                         rd->name, h->entry, path, bootstrap ? "bootstrap (empty)" : p->type);
    int *seen = is_type ? &p->has_type_info : is_meta ? &p->has_meta_data : &p->has_files;
    if ((*seen & seen_bit(h)) != 0)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: '%s' is stored twice", rd->name, h->entry,
                         path);
    *seen |= seen_bit(h);
    if (is_files)
        return parse_files(h, e, what);
    if (is_type) {
        json_t *j = NULL;
        if ((rc = entry_json(h, e, what, &j)) == 0)
            rc = parse_type_info(rd, p, j, what, h->augment);
        json_decref(j);
        return rc;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if ((rc = msigi_rd_inner_read_small(rd, &h->in, e, h->entry, &buf, &len)) == 0)
        rc = parse_meta_data(rd, p, buf, len, what, h->augment);
    msigi_free(buf);
    return rc;
}

static int hs_headers(struct hwalk *h, struct archive_entry *e, const char *path, const char *what)
{
    if (strncmp(path, "scripts/", 8) == 0)
        return script_misplaced(h, what);
    return take_part(h, e, path, what);
}

static int hs_scripts(struct hwalk *h, struct archive_entry *e, const char *path, const char *what)
{
    if (strncmp(path, "scripts/", 8) == 0)
        return take_script(h, e, path + 8, what);
    h->state = H_HEADERS;
    return hs_headers(h, e, path, what);
}

typedef int hdr_state_fn(struct hwalk *h, struct archive_entry *e, const char *path,
                         const char *what);
static hdr_state_fn *const HDR_STATES[] = {
    [H_INFO] = hs_info, [H_SCRIPTS] = hs_scripts, [H_HEADERS] = hs_headers
};

/* The next entry of the header tar that is not a directory: 1, 0 at the end, or an error. */
static int hdr_next(struct hwalk *h, struct archive_entry **e, const char **path)
{
    struct msigi_rd *rd = h->rd;
    for (;;) {
        int ar = archive_read_next_header(h->in.a, e);
        if (ar == ARCHIVE_EOF)
            return 0;
        if (ar != ARCHIVE_OK)
            return msigi_rd_inner_error(rd, &h->in, h->entry, "reading the header tar");
        int rc = msigi_rd_same_entry(rd, &h->in.guard, *e, h->entry);
        if (rc != 0)
            return rc;
        if (++h->count > MAX_HEADER_ENTRIES)
            return msigi_err(rd->ctx, MSIG_E_LIMIT, "%s: %s has more than %u entries", rd->name,
                             h->entry, MAX_HEADER_ENTRIES);
        *path = archive_entry_pathname(*e);
        if (!*path || strlen(*path) > MSIGI_RD_MAX_NAME)
            return msigi_err(rd->ctx, MSIG_E_FORMAT,
                             "%s: %s: entry with a missing or too long name", rd->name, h->entry);
        if (archive_entry_filetype(*e) == AE_IFDIR)
            continue; /* directory entries are skipped, as mender-artifact does */
        if (archive_entry_filetype(*e) != AE_IFREG)
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s/%s is not a regular file", rd->name,
                             h->entry, *path);
        return 1;
    }
}

/* After the last entry: header-info and every payload's type-info were there, the compressed
 * stream ended cleanly, and its checksum is the manifest's. */
static int hdr_end(struct hwalk *h, EVP_MD_CTX *md, struct msigi_mline *ml)
{
    struct msigi_rd *rd = h->rd;
    if (h->state == H_INFO)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s has no header-info", rd->name, h->entry);
    for (size_t i = 0; i < rd->art->npayloads; i++) {
        if (!(rd->art->payloads[i].has_type_info & seen_bit(h)))
            return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s has no headers/%04zu/type-info",
                             rd->name, h->entry, i);
    }
    int rc = msigi_rd_inner_drain(rd, &h->in, h->entry);
    if (rc)
        return rc;
    /* Let the outer entry end too: any bytes after the compressed stream are refused by
     * the decoder, so only checking the hash is left. */
    char got[65];
    msigi_rd_sha256_hex(md, got);
    ml->consumed = 1;
    if (strcmp(got, ml->hex) != 0)
        return msigi_err(rd->ctx, MSIG_E_CHECKSUM,
                         "%s: %s: invalid checksum; expected: [%s]; "
                         "actual: [%s]",
                         rd->name, h->entry, ml->hex, got);
    return 0;
}

/* The manifest line of a header entry, from the manifest it belongs in. */
static int hdr_line(struct msigi_rd *rd, const char *entry_name, int augment,
                    struct msigi_mline **out)
{
    struct msigi_mline *ml = msigi_manifest_find(&rd->man, entry_name);
    if (!ml)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is not listed in %s", rd->name, entry_name,
                         augment ? "manifest-augment" : "the manifest");
    if (ml->augment != augment)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is listed in %s", rd->name, entry_name,
                         ml->augment ? "manifest-augment instead of the signed manifest"
                                     : "the manifest instead of manifest-augment");
    *out = ml;
    return 0;
}

int msigi_rd_header(struct msigi_rd *rd, const char *entry_name, int augment)
{
    struct msigi_mline *ml = NULL;
    int rc = hdr_line(rd, entry_name, augment, &ml);
    if (rc)
        return rc;
    struct hwalk h;
    memset(&h, 0, sizeof(h));
    h.rd = rd;
    h.entry = entry_name;
    h.augment = augment;
    h.state = H_INFO;
    EVP_MD_CTX *md = NULL;
    if ((rc = msigi_rd_sha256_init(rd->ctx, &md)) != 0 ||
        (rc = msigi_rd_inner_open(rd, &h.in, entry_name, md, 0)) != 0)
        goto out;
    struct archive_entry *e = NULL;
    const char *path = NULL;
    while ((rc = hdr_next(&h, &e, &path)) > 0) {
        char what[MSIGI_RD_MAX_NAME + 64];
        snprintf(what, sizeof(what), "%s/%s", entry_name, path);
        if ((rc = HDR_STATES[h.state](&h, e, path, what)) != 0)
            goto out;
    }
    if (rc == 0)
        rc = hdr_end(&h, md, ml);
out:
    msigi_rd_inner_close(&h.in);
    EVP_MD_CTX_free(md);
    return rc;
}
