/* hdrbuild.c -- header JSON documents built with jansson and serialised like Go's
 * encoding/json (see hdrbuild.h). */
#include "hdrbuild.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"

#define META_DATA_MAX (16u * 1024 * 1024)

/* ---------------------------------------------------------------- serialisation */

static int cmp_str(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: the byte order Go uses for map keys. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fewest significant digits (1..17) for which %.*g reads back as x: Go prints the
 * shortest representation that round-trips. */
static int shortest_digits(double x)
{
    char buf[64];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return p;
    }
    return 17;
}

/* Deep copy with object keys inserted in sorted order (jansson keeps insertion order when
 * dumping). Reals holding an integer below 2^53 become integers, as Go prints a float64
 * 42.0 as 42. *digits collects the precision the remaining reals need. */
static json_t *sorted_copy(json_t *v, int *digits)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = msigi_calloc(n ? n : 1, sizeof(*keys));
        json_t *o = json_object();
        const char *k;
        json_t *val;
        if (!keys || !o)
            goto obj_fail;
        json_object_foreach (v, k, val)
            keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_str);
        for (i = 0; i < n; i++) {
            json_t *c = sorted_copy(json_object_get(v, keys[i]), digits);
            if (!c || json_object_set_new(o, keys[i], c) != 0)
                goto obj_fail;
        }
        msigi_free(keys);
        return o;
    obj_fail:
        msigi_free(keys);
        json_decref(o);
        return NULL;
    }
    case JSON_ARRAY: {
        json_t *a = json_array();
        if (!a)
            return NULL;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *c = sorted_copy(json_array_get(v, i), digits);
            if (!c || json_array_append_new(a, c) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case JSON_REAL: {
        double x = json_real_value(v);
        if (x == floor(x) && fabs(x) < 9007199254740992.0)
            return json_integer((json_int_t)x);
        int p = shortest_digits(x);
        if (p > *digits)
            *digits = p;
        return json_real(x);
    }
    default:
        return json_incref(v);
    }
}

/* Rewrites jansson's compact output into Go's escaping: \u00XX in lower case, and the
 * HTML-unsafe characters and the JavaScript line separators escaped. Those can only occur
 * inside strings, so a byte scan that skips existing escapes is exact. */
static char *go_escape(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *out = msigi_malloc(n * 6 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 1 < n) {
            if (s[i + 1] == 'u' && i + 5 < n) {
                out[o++] = '\\';
                out[o++] = 'u';
                for (size_t j = 2; j < 6; j++)
                    out[o++] = (char)tolower((unsigned char)s[i + j]);
                i += 5;
            } else {
                out[o++] = '\\';
                out[o++] = s[++i];
            }
        } else if (c == '<' || c == '>' || c == '&') {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            o += (size_t)sprintf(out + o, "\\u%04x",
                                 (unsigned char)s[i + 2] == 0xa8 ? 0x2028u : 0x2029u);
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Dumps v as is (key order as inserted). */
static int dump_ordered(struct msig_ctx *ctx, const json_t *v, int digits, char **out, size_t *len)
{
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits ? digits : 17);
    char *raw = json_dumps(v, flags);
    *out = NULL;
    *len = 0;
    if (!raw)
        return msigi_err(ctx, MSIG_E_NOMEM, "cannot serialise JSON (out of memory)");
    *out = go_escape(raw, len);
    free(raw); /* allocated by jansson */
    if (!*out)
        return msigi_err(ctx, MSIG_E_NOMEM, "cannot serialise JSON (out of memory)");
    return 0;
}

int msigi_hdr_dump(struct msig_ctx *ctx, json_t *v, char **out, size_t *len)
{
    int digits = 0;
    json_t *c = sorted_copy(v, &digits);
    if (!c) {
        *out = NULL;
        *len = 0;
        return msigi_err(ctx, MSIG_E_NOMEM, "cannot copy JSON (out of memory)");
    }
    int rc = dump_ordered(ctx, c, digits, out, len);
    json_decref(c);
    return rc;
}

/* ---------------------------------------------------------------- documents */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *str_array(const struct msigi_strv *s)
{
    json_t *a = json_array();
    for (size_t i = 0; a && s && i < s->n; i++) {
        if (json_array_append_new(a, json_string(s->v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Adds key: value (stolen) to o; a NULL value (allocation or UTF-8 failure) is an error. */
static int put(json_t *o, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(o, key, value) == 0 ? 0 : -1;
}

static int build_fail(struct msig_ctx *ctx, const char *what)
{
    return msigi_err(ctx, MSIG_E_INVALID,
                     "cannot build %s: out of memory or a string is not valid UTF-8", what);
}

int msigi_hdr_header_info(struct msig_ctx *ctx, const struct msigi_hdr_info *hi, char **out,
                          size_t *len)
{
    int rc = MSIG_E_FAILED;
    json_t *root = json_object(), *payload = json_object(), *arr = json_array();
    json_t *prov = NULL, *deps = NULL;
    *out = NULL;
    *len = 0;
    if (!root || !payload || !arr)
        goto fail;
    if (put(payload, "type", str_or_null(hi->payload_type)) != 0)
        goto fail;
    if (json_array_append(arr, payload) != 0)
        goto fail;
    if (hi->version == 2) {
        if (put(root, "artifact_name", json_string(hi->artifact_name)) != 0 ||
            put(root, "updates", json_incref(arr)) != 0 ||
            put(root, "device_types_compatible", str_array(hi->devices)) != 0)
            goto fail;
    } else {
        prov = json_object();
        deps = json_object();
        if (!prov || !deps || put(root, "payloads", json_incref(arr)) != 0)
            goto fail;
        if (put(prov, "artifact_name", json_string(hi->artifact_name)) != 0)
            goto fail;
        if (hi->provides_group && *hi->provides_group &&
            put(prov, "artifact_group", json_string(hi->provides_group)) != 0)
            goto fail;
        if (hi->depends_names && hi->depends_names->n &&
            put(deps, "artifact_name", str_array(hi->depends_names)) != 0)
            goto fail;
        if (put(deps, "device_type", str_array(hi->devices)) != 0)
            goto fail;
        if (hi->depends_groups && hi->depends_groups->n &&
            put(deps, "artifact_group", str_array(hi->depends_groups)) != 0)
            goto fail;
        if (put(root, "artifact_provides", json_incref(prov)) != 0 ||
            put(root, "artifact_depends", json_incref(deps)) != 0)
            goto fail;
    }
    rc = dump_ordered(ctx, root, 0, out, len);
    goto out;
fail:
    rc = build_fail(ctx, "header-info");
out:
    json_decref(prov);
    json_decref(deps);
    json_decref(arr);
    json_decref(payload);
    json_decref(root);
    return rc;
}

int msigi_hdr_type_info(struct msig_ctx *ctx, const char *type, json_t *depends, json_t *provides,
                        const struct msigi_strv *clears, char **out, size_t *len)
{
    int rc = MSIG_E_FAILED;
    int digits = 0;
    json_t *root = json_object();
    *out = NULL;
    *len = 0;
    if (!root || put(root, "type", str_or_null(type)) != 0)
        goto fail;
    if (depends && json_object_size(depends) &&
        put(root, "artifact_depends", sorted_copy(depends, &digits)) != 0)
        goto fail;
    if (provides && json_object_size(provides) &&
        put(root, "artifact_provides", sorted_copy(provides, &digits)) != 0)
        goto fail;
    if (clears && clears->n && put(root, "clears_artifact_provides", str_array(clears)) != 0)
        goto fail;
    rc = dump_ordered(ctx, root, digits, out, len);
    goto out;
fail:
    rc = build_fail(ctx, "type-info");
out:
    json_decref(root);
    return rc;
}

int msigi_hdr_v2_files(struct msig_ctx *ctx, const struct msigi_strv *names, char **out,
                       size_t *len)
{
    int rc;
    json_t *root = json_object();
    *out = NULL;
    *len = 0;
    if (!root || put(root, "files", str_array(names)) != 0) {
        rc = build_fail(ctx, "headers/0000/files");
        goto out;
    }
    rc = dump_ordered(ctx, root, 0, out, len);
out:
    json_decref(root);
    return rc;
}

int msigi_hdr_meta_data_file(struct msig_ctx *ctx, const char *path, char **out, size_t *len)
{
    int rc = MSIG_E_FAILED;
    FILE *f = NULL;
    char *buf = NULL;
    json_t *v = NULL;
    json_error_t jerr;
    struct stat st;
    *out = NULL;
    *len = 0;

    f = fopen(path, "rb");
    if (!f) {
        rc = msigi_err(ctx, MSIG_E_IO, "cannot open meta-data file %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = msigi_err(ctx, MSIG_E_INVALID, "meta-data %s is not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > META_DATA_MAX) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "meta-data file %s is %lld bytes; the limit is %u", path,
                       (long long)st.st_size, META_DATA_MAX);
        goto out;
    }
    buf = msigi_malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory reading meta-data %s", path);
        goto out;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        rc = msigi_err(ctx, MSIG_E_IO, "cannot read meta-data file %s: %s", path, strerror(errno));
        goto out;
    }
    buf[n] = '\0';
    size_t i = 0;
    while (i < n && isspace((unsigned char)buf[i]))
        i++;
    if (i == n) {
        rc = 0; /* empty: no meta-data */
        goto out;
    }
    v = json_loadb(buf, n, JSON_DECODE_ANY, &jerr);
    if (!v) {
        rc = msigi_err(ctx, MSIG_E_INVALID, "error reading meta-data %s: line %d column %d: %s",
                       path, jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(v)) {
        rc = msigi_err(ctx, MSIG_E_INVALID,
                       "Top level object in meta-data must be a JSON object (%s)", path);
        goto out;
    }
    rc = msigi_hdr_dump(ctx, v, out, len);
out:
    json_decref(v);
    msigi_free(buf);
    if (f)
        fclose(f);
    return rc;
}
