/* rdjson.c -- the JSON and header-string rules of the reader's header entries: depth and size
 * caps, unknown keys, the printable-text rule (text.c) on every string. */
#include "rd.h"

#include <string.h>

#include "text.h"

#define MAX_JSON_DEPTH 32
#define MAX_STRING 256u

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

int msigi_rd_json(struct msigi_rd *rd, const uint8_t *buf, size_t len, const char *what,
                  json_t **out)
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
int msigi_rd_only_keys(struct msigi_rd *rd, json_t *obj, const char *what,
                       const char *const *allowed)
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

/* The printable-text rule (text.c) for a header string: s of len bytes, named field. */
static int check_text(struct msigi_rd *rd, const char *s, size_t len, const char *what,
                      const char *field)
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

int msigi_rd_check_string(struct msigi_rd *rd, json_t *v, const char *what, const char *field)
{
    if (!json_is_string(v))
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s must be a string", rd->name, what,
                         field);
    return check_text(rd, json_string_value(v), json_string_length(v), what, field);
}

/* Every key and string value of a provides, depends or clears object, nested lists too. */
int msigi_rd_check_strings(struct msigi_rd *rd, json_t *v, const char *what, const char *field)
{
    const char *k;
    json_t *e;
    size_t i;
    int rc = 0;

    if (json_is_string(v))
        return msigi_rd_check_string(rd, v, what, field);
    if (json_is_array(v)) {
        json_array_foreach (v, i, e)
            if (rc == 0)
                rc = msigi_rd_check_strings(rd, e, what, field);
        return rc;
    }
    if (json_is_object(v)) {
        json_object_foreach (v, k, e) {
            if (rc == 0)
                rc = check_text(rd, k, strlen(k), what, field);
            if (rc == 0)
                rc = msigi_rd_check_strings(rd, e, what, field);
        }
    }
    return rc;
}

int msigi_rd_string_list(struct msigi_rd *rd, json_t *arr, const char *what, const char *field,
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
        int rc = msigi_rd_check_string(rd, v, what, field);
        if (rc)
            return rc;
        if (msigi_strv_push(out, json_string_value(v)))
            return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    }
    return 0;
}

/* Deep merge of src into dst (objects only); a type conflict is an error. */
int msigi_rd_merge_json(struct msigi_rd *rd, json_t *dst, json_t *src, const char *what)
{
    const char *k;
    json_t *v;
    json_object_foreach (src, k, v) {
        json_t *old = json_object_get(dst, k);
        if (old && json_is_object(old) && json_is_object(v)) {
            int rc = msigi_rd_merge_json(rd, old, v, what);
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
