/* manifest.c -- strict parser of the manifest checksum lists. */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "ctx.h"

void msigi_hex(const uint8_t *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

static int cmp_line(const void *a, const void *b)
{
    const struct msigi_mline *x = *(struct msigi_mline *const *)a;
    const struct msigi_mline *y = *(struct msigi_mline *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, (*(struct msigi_mline *const *)elem)->name);
}

struct msigi_mline *msigi_manifest_find(struct msigi_manifest *m, const char *name)
{
    if (!m->by_name || m->count == 0)
        return NULL;
    struct msigi_mline **hit = bsearch(name, m->by_name, m->count, sizeof(*m->by_name), cmp_name);
    return hit ? *hit : NULL;
}

/* Rebuilds the sorted index and reports the first duplicate name. */
static int build_index(struct msig_ctx *ctx, struct msigi_manifest *m)
{
    msigi_free(m->by_name);
    m->by_name = msigi_calloc(m->count, sizeof(*m->by_name));
    if (!m->by_name)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory indexing the manifest");
    for (size_t i = 0; i < m->count; i++)
        m->by_name[i] = &m->lines[i];
    qsort(m->by_name, m->count, sizeof(*m->by_name), cmp_line);
    for (size_t i = 1; i < m->count; i++) {
        struct msigi_mline *a = m->by_name[i - 1], *b = m->by_name[i];
        if (strcmp(a->name, b->name) != 0)
            continue;
        if (a->augment > b->augment || (a->augment == b->augment && a->lineno > b->lineno)) {
            struct msigi_mline *t = a;
            a = b;
            b = t;
        }
        return msigi_err(ctx, MSIG_E_FORMAT,
                         "%s line %zu: '%s' is listed twice (first at %s "
                         "line %zu)",
                         b->augment ? "manifest-augment" : "manifest", b->lineno, b->name,
                         a->augment ? "manifest-augment" : "manifest", a->lineno);
    }
    return 0;
}

void msigi_manifest_clear(struct msigi_manifest *m)
{
    for (size_t i = 0; i < m->count; i++)
        msigi_free(m->lines[i].name);
    msigi_free(m->lines);
    msigi_free(m->by_name);
    memset(m, 0, sizeof(*m));
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Printable copy of a line for messages: at most 100 bytes, control bytes as '?'. */
static void show_line(const uint8_t *p, size_t n, char out[128])
{
    size_t k = n > 100 ? 100 : n;
    for (size_t i = 0; i < k; i++)
        out[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
    strcpy(out + k, n > 100 ? "..." : "");
}

static int parse_lines(struct msig_ctx *ctx, struct msigi_manifest *m, const uint8_t *buf,
                       size_t len, const char *what, int augment)
{
    char shown[128];
    if (len > MSIGI_MANIFEST_MAX_BYTES)
        return msigi_err(ctx, MSIG_E_LIMIT, "%s is %zu bytes, more than the limit of %u", what, len,
                         MSIGI_MANIFEST_MAX_BYTES);
    if (len == 0)
        return msigi_err(ctx, MSIG_E_FORMAT, "%s is empty", what);
    if (buf[len - 1] != '\n')
        return msigi_err(ctx, MSIG_E_FORMAT,
                         "%s: the last line has no final newline (Mender verifiers would drop "
                         "it)",
                         what);
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const uint8_t *line = buf + pos;
        const uint8_t *nl = memchr(line, '\n', len - pos);
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        lineno++;
        show_line(line, n, shown);
        if (m->count >= MSIGI_MANIFEST_MAX_LINES)
            return msigi_err(ctx, MSIG_E_LIMIT, "%s has more than %u lines", what,
                             MSIGI_MANIFEST_MAX_LINES);
        if (n == 0)
            return msigi_err(ctx, MSIG_E_FORMAT, "%s line %zu is empty", what, lineno);
        if (memchr(line, '\r', n))
            return msigi_err(ctx, MSIG_E_FORMAT,
                             "%s line %zu ends with CR (CRLF line ends are not allowed): '%s'",
                             what, lineno, shown);
        if (n < 67 || line[64] != ' ' || line[65] != ' ' || line[66] == ' ')
            return msigi_err(ctx, MSIG_E_FORMAT,
                             "%s line %zu is malformed (want <64 hex digits><two spaces><name>): "
                             "'%s'",
                             what, lineno, shown);
        for (size_t i = 0; i < 64; i++) {
            if (!is_lower_hex((char)line[i]))
                return msigi_err(ctx, MSIG_E_FORMAT,
                                 "%s line %zu: checksum must be 64 lowercase hex digits: '%s'",
                                 what, lineno, shown);
        }
        size_t name_len = n - 66;
        const char *name = (const char *)line + 66;
        if (memchr(name, '\0', name_len) || memchr(name, ' ', name_len) ||
            memchr(name, '\t', name_len))
            return msigi_err(ctx, MSIG_E_FORMAT, "%s line %zu: malformed name: '%s'", what, lineno,
                             shown);
        char *nm = msigi_strndup(name, name_len);
        if (!nm)
            return msigi_err(ctx, MSIG_E_NOMEM, "out of memory parsing %s", what);
        if (m->count == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 8;
            struct msigi_mline *nl2 = msigi_realloc(m->lines, cap * sizeof(*nl2));
            if (!nl2) {
                msigi_free(nm);
                return msigi_err(ctx, MSIG_E_NOMEM, "out of memory parsing %s", what);
            }
            m->lines = nl2;
            m->cap = cap;
        }
        struct msigi_mline *ml = &m->lines[m->count++];
        memset(ml, 0, sizeof(*ml));
        ml->name = nm;
        ml->lineno = lineno;
        memcpy(ml->hex, line, 64);
        ml->hex[64] = '\0';
        ml->augment = augment;
    }
    return 0;
}

int msigi_manifest_parse(struct msig_ctx *ctx, struct msigi_manifest *m, const uint8_t *buf,
                         size_t len, const char *what, int augment)
{
    size_t before = m->count;
    int rc = parse_lines(ctx, m, buf, len, what, augment);
    if (rc == 0)
        rc = build_index(ctx, m);
    if (rc != 0) {
        /* All or nothing: drop what this call appended and restore the index. */
        while (m->count > before)
            msigi_free(m->lines[--m->count].name);
        if (build_index(ctx, m) != 0 && rc != MSIG_E_NOMEM)
            rc = MSIG_E_NOMEM;
    }
    return rc;
}
