/* hdrbuild.h -- the JSON documents of an artifact header as the writer emits them (private):
 * header-info (v3 and v2), type-info, headers/0000/files (v2) and meta-data.
 *
 * The output copies Go encoding/json as mender-artifact uses it: compact, struct fields in
 * declaration order, map keys sorted by byte value, empty optional fields omitted, and
 * `<` `>` `&` U+2028 U+2029 escaped as \u003c \u003e \u0026 \u2028 \u2029.
 * Every *out is allocated with msigi_malloc, NUL-terminated, and freed by the caller. */
#ifndef MSIG_HDRBUILD_H
#define MSIG_HDRBUILD_H

#include <stddef.h>

#include <jansson.h>

#include <msig/msig.h>

#include "strv.h"

struct msigi_hdr_info {
    int version;              /* 3 or 2 */
    const char *payload_type; /* NULL writes JSON null (bootstrap) */
    const char *artifact_name;
    const char *provides_group; /* NULL or "" = omitted (v3 only) */
    const struct msigi_strv *devices;
    const struct msigi_strv *depends_names;  /* may be NULL (v3 only) */
    const struct msigi_strv *depends_groups; /* may be NULL (v3 only) */
};

/* header-info. v3: {"payloads":[{"type":T}],"artifact_provides":{...},"artifact_depends":{...}}
 * v2: {"artifact_name":N,"updates":[{"type":T}],"device_types_compatible":[...]} */
int msigi_hdr_header_info(struct msig_ctx *ctx, const struct msigi_hdr_info *hi, char **out,
                          size_t *len);

/* type-info (v3): {"type":T,"artifact_depends":{..},"artifact_provides":{..},
 * "clears_artifact_provides":[..]}. type NULL writes null. depends/provides: JSON objects
 * (NULL or empty: omitted); clears NULL or empty: omitted. Also makes the v2 type-info
 * ({"type":"rootfs-image"}) when called with NULL maps and lists. */
int msigi_hdr_type_info(struct msig_ctx *ctx, const char *type, json_t *depends, json_t *provides,
                        const struct msigi_strv *clears, char **out, size_t *len);

/* v2 headers/0000/files: {"files":[names...]} */
int msigi_hdr_v2_files(struct msig_ctx *ctx, const struct msigi_strv *names, char **out,
                       size_t *len);

/* Loads a meta-data file (one JSON object, at most 16 MiB) and re-serialises it compact
 * with sorted keys. A file holding only whitespace gives *out = NULL, *len = 0 (none). */
int msigi_hdr_meta_data_file(struct msig_ctx *ctx, const char *path, char **out, size_t *len);

/* Serialises any JSON value the Go way (keys sorted at every level). */
int msigi_hdr_dump(struct msig_ctx *ctx, json_t *v, char **out, size_t *len);

#endif
