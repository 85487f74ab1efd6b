/* targuard.c -- the strict tar layer (see targuard.h). A state machine over the stream: one
 * function per state. Blocks and extension data are collected in the guard's own bounded
 * buffers; data bytes only pass. */
#include "targuard.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

enum { TG_HEADER, TG_EXT, TG_SKIP, TG_ZERO1, TG_END, TG_FAIL };

static int fail(struct msigi_targuard *g, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct msigi_targuard *g, const char *name, const char *fmt, ...)
{
    char why[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (name != NULL && *name)
        snprintf(g->msg, sizeof(g->msg), "tar header at offset %llu (entry '%.100s'): %s",
                 (unsigned long long)g->hdr_off, name, why);
    else
        snprintf(g->msg, sizeof(g->msg), "tar header at offset %llu: %s",
                 (unsigned long long)g->hdr_off, why);
    g->state = TG_FAIL;
    return -1;
}

void msigi_tg_init(struct msigi_targuard *g)
{
    memset(g, 0, sizeof(*g));
    g->state = TG_HEADER;
}

void msigi_tg_free(struct msigi_targuard *g)
{
    msigi_free(g->ext);
    msigi_free(g->pax_path);
    msigi_free(g->long_name);
    g->ext = NULL;
    g->pax_path = g->long_name = NULL;
}

uint64_t msigi_tg_name_hash(const char *name, size_t len)
{
    uint64_t h = 1469598103934665603ull;

    while (len > 0 && name[len - 1] == '/')
        len--;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    return h;
}

int msigi_tg_next(struct msigi_targuard *g, struct msigi_tg_entry *out)
{
    if (g->q_len == 0)
        return -1;
    *out = g->q[g->q_head];
    g->q_head = (g->q_head + 1) % MSIGI_TG_QUEUE;
    g->q_len--;
    return 0;
}

/* ------------------------------------------------------------------ header fields */

/* An octal field (leading spaces, then digits, then NUL or spaces), or GNU base-256. */
static int num_field(const uint8_t *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    if (f[0] & 0x80) {
        if (f[0] != 0x80)
            return -1; /* negative, or more than 63 bits */
        for (i = 1; i < n; i++) {
            if (v >> 55)
                return -1;
            v = (v << 8) | f[i];
        }
        *out = v;
        return 0;
    }
    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -1;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    *out = v;
    return 0;
}

static int checksum_ok(const uint8_t *b)
{
    uint64_t want = 0;
    unsigned long u = 0;
    long s = 0;

    if (num_field(b + 148, 8, &want) != 0)
        return 0;
    for (size_t i = 0; i < 512; i++) {
        uint8_t c = i >= 148 && i < 156 ? ' ' : b[i];
        u += c;
        s += (signed char)c;
    }
    return want == u || (long)want == s;
}

static int all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* 0 for POSIX ustar/PAX, 1 for GNU, -1 for anything else (v7, mixed magic and version). */
static int format_of(struct msigi_targuard *g, const uint8_t *b)
{
    if (memcmp(b + 257,
               "ustar\0"
               "00",
               8) == 0)
        return 0;
    if (memcmp(b + 257, "ustar  \0", 8) == 0)
        return 1;
    if (all_zero(b + 257, 8))
        return fail(g, NULL, "a v7 tar header (no ustar magic): refused");
    return fail(g, NULL, "magic and version '%.6s' '%.2s' are neither ustar nor GNU",
                (const char *)b + 257, (const char *)b + 263);
}

/* The entry's name from the block (ustar: prefix "/" name), NUL-terminated into out. */
static void block_name(const uint8_t *b, int gnu, char *out, size_t cap)
{
    size_t nl = strnlen((const char *)b, 100), pl = gnu ? 0 : strnlen((const char *)b + 345, 155);

    if (pl > 0)
        snprintf(out, cap, "%.*s/%.*s", (int)pl, (const char *)b + 345, (int)nl, (const char *)b);
    else
        snprintf(out, cap, "%.*s", (int)nl, (const char *)b);
}

/* ------------------------------------------------------------------ PAX records */

static int pax_record(struct msigi_targuard *g, const char *key, size_t klen, const char *val,
                      size_t vlen)
{
    if (memchr(val, '\0', vlen) != NULL || memchr(key, '\0', klen) != NULL)
        return fail(g, NULL, "a PAX record holds a NUL byte");
    if (klen >= 11 && memcmp(key, "GNU.sparse.", 11) == 0)
        return fail(g, NULL, "a GNU sparse entry (PAX %.*s): refused", (int)klen, key);
    if (klen == 8 && memcmp(key, "linkpath", 8) == 0)
        return fail(g, NULL, "a PAX linkpath: links are refused");
    if (klen == 4 && memcmp(key, "size", 4) == 0) {
        uint64_t v = 0;
        if (vlen == 0 || vlen > 19)
            return fail(g, NULL, "a PAX size of %zu digits", vlen);
        for (size_t i = 0; i < vlen; i++) {
            if (val[i] < '0' || val[i] > '9')
                return fail(g, NULL, "a PAX size that is not a decimal number");
            v = v * 10 + (uint64_t)(val[i] - '0');
        }
        g->pax_size = v;
        g->pax_size_set = 1;
    } else if (klen == 4 && memcmp(key, "path", 4) == 0) {
        if (vlen == 0 || vlen > MSIGI_TG_NAME_MAX)
            return fail(g, NULL, "a PAX path of %zu bytes (1 to %u allowed)", vlen,
                        MSIGI_TG_NAME_MAX);
        msigi_free(g->pax_path);
        if ((g->pax_path = msigi_strndup(val, vlen)) == NULL)
            return fail(g, NULL, "out of memory");
    }
    return 0;
}

/* "LEN KEY=VALUE\n" records, exactly covering the data. */
static int pax_parse(struct msigi_targuard *g, const uint8_t *d, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t len = 0, j = i, eq;
        while (j < n && d[j] >= '0' && d[j] <= '9' && j - i < 8)
            len = len * 10 + (size_t)(d[j++] - '0');
        if (j == i || j >= n || d[j] != ' ' || (d[i] == '0') || len < 5 || len > n - i ||
            d[i + len - 1] != '\n')
            return fail(g, NULL, "a malformed PAX record at byte %zu of the extended header", i);
        j++;
        for (eq = j; eq < i + len - 1 && d[eq] != '='; eq++)
            ;
        if (eq == j || eq >= i + len - 1)
            return fail(g, NULL, "a PAX record without KEY=VALUE at byte %zu", i);
        if (pax_record(g, (const char *)d + j, eq - j, (const char *)d + eq + 1,
                       i + len - 1 - (eq + 1)) != 0)
            return -1;
        i += len;
    }
    return 0;
}

/* ------------------------------------------------------------------ entries */

static void reset_pending(struct msigi_targuard *g)
{
    msigi_free(g->pax_path);
    msigi_free(g->long_name);
    g->pax_path = g->long_name = NULL;
    g->pax_size_set = 0;
    g->pax_size = 0;
}

static int push(struct msigi_targuard *g, const char *name, uint64_t size)
{
    if (g->q_len == MSIGI_TG_QUEUE)
        return fail(g, name, "more than %u entries ahead of the tar reader", MSIGI_TG_QUEUE);
    struct msigi_tg_entry *e = &g->q[(g->q_head + g->q_len++) % MSIGI_TG_QUEUE];
    e->name_hash = msigi_tg_name_hash(name, strlen(name));
    e->size = size;
    return 0;
}

static const char *type_refused(char t)
{
    switch (t) {
    case 'g':
        return "a global PAX header (type 'g')";
    case 'V':
        return "a volume header (type 'V')";
    case '1':
        return "a hard link";
    case '2':
        return "a symbolic link";
    case 'K':
        return "a GNU long link name";
    case 'S':
        return "an old GNU sparse file";
    case '3':
    case '4':
        return "a device node";
    case '6':
        return "a FIFO";
    case '7':
        return "a contiguous file (type '7')";
    default:
        return NULL;
    }
}

/* An extension header ('x' or 'L'): collect its data next. */
static int start_ext(struct msigi_targuard *g, char type, uint64_t size)
{
    uint64_t cap = type == 'x' ? MSIGI_TG_PAX_MAX : MSIGI_TG_NAME_MAX + 1;

    if (size == 0 || size > cap)
        return fail(g, NULL, "%s of %llu bytes (1 to %llu allowed)",
                    type == 'x' ? "a PAX extended header" : "a GNU long name",
                    (unsigned long long)size, (unsigned long long)cap);
    if ((type == 'x' && g->pax_path) || (type == 'L' && g->long_name))
        return fail(g, NULL, "two %s headers for one entry", type == 'x' ? "PAX" : "long-name");
    if (g->ext_cap < size) {
        msigi_free(g->ext);
        if ((g->ext = msigi_malloc((size_t)size)) == NULL)
            return fail(g, NULL, "out of memory");
        g->ext_cap = (size_t)size;
    }
    g->ext_type = type;
    g->ext_len = (size_t)size;
    g->have = 0;
    g->state = TG_EXT;
    return 0;
}

static int end_ext(struct msigi_targuard *g)
{
    g->have = 0; /* the next header block starts empty */
    g->left = (512 - g->ext_len % 512) % 512;
    g->state = TG_SKIP;
    if (g->ext_type == 'x')
        return pax_parse(g, g->ext, g->ext_len);
    size_t n = strnlen((const char *)g->ext, g->ext_len);
    if (n == 0 || n > MSIGI_TG_NAME_MAX)
        return fail(g, NULL, "an empty or too long GNU long name");
    if ((g->long_name = msigi_strndup((const char *)g->ext, n)) == NULL)
        return fail(g, NULL, "out of memory");
    return 0;
}

static int file_entry(struct msigi_targuard *g, const uint8_t *b, int gnu, char type, uint64_t size)
{
    char name[MSIGI_TG_NAME_MAX + 256];

    block_name(b, gnu, name, sizeof(name));
    if (g->pax_path && g->long_name)
        return fail(g, name, "both a PAX path ('%.100s') and a GNU long name ('%.100s')",
                    g->pax_path, g->long_name);
    if (g->pax_path || g->long_name)
        snprintf(name, sizeof(name), "%s", g->pax_path ? g->pax_path : g->long_name);
    if (name[0] == '\0')
        return fail(g, NULL, "an entry without a name");
    if (g->pax_size_set)
        size = g->pax_size;
    if (type == '5' && size != 0)
        return fail(g, name, "a directory with %llu bytes of data", (unsigned long long)size);
    if (size > ((uint64_t)1 << 62))
        return fail(g, name, "a size of %llu bytes", (unsigned long long)size);
    if (push(g, name, size) != 0)
        return -1;
    reset_pending(g);
    g->left = (size + 511) / 512 * 512;
    g->state = TG_SKIP;
    return 0;
}

static int header_block(struct msigi_targuard *g)
{
    const uint8_t *b = g->block;
    char name[120];
    uint64_t size = 0;
    int gnu;
    char type = (char)b[156];

    if (all_zero(b, 512)) {
        if (g->pax_path || g->long_name)
            return fail(g, NULL, "the archive ends after an extended header");
        g->state = TG_ZERO1;
        return 0;
    }
    block_name(b, 1, name, sizeof(name));
    if (!checksum_ok(b))
        return fail(g, name, "the header checksum does not match");
    if ((gnu = format_of(g, b)) < 0)
        return -1;
    if (type_refused(type) != NULL)
        return fail(g, name, "%s: refused", type_refused(type));
    if (num_field(b + 124, 12, &size) != 0)
        return fail(g, name, "a malformed size field");
    if (type == 'x' || type == 'L')
        return start_ext(g, type, size);
    if (type == '0' || type == '\0' || type == '5')
        return file_entry(g, b, gnu, type, size);
    return fail(g, name, "entry type '%c' (0x%02x): only files and directories are accepted",
                type >= 0x20 && type < 0x7f ? type : '?', (unsigned)(uint8_t)type);
}

/* ------------------------------------------------------------------ the stream */

/* Collects up to 512 bytes of a block; returns bytes used. */
static size_t collect_block(struct msigi_targuard *g, const uint8_t *p, size_t n)
{
    size_t take = 512 - g->have < n ? 512 - g->have : n;

    if (g->have == 0)
        g->hdr_off = g->off;
    memcpy(g->block + g->have, p, take);
    g->have += take;
    return take;
}

int msigi_tg_feed(struct msigi_targuard *g, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t used = n;
        switch (g->state) {
        case TG_FAIL:
            return -1;
        case TG_END:
            break; /* what follows the end of the archive is not the archive's */
        case TG_SKIP:
            if (g->left == 0) {
                g->state = TG_HEADER;
                continue;
            }
            used = g->left < n ? (size_t)g->left : n;
            g->left -= used;
            if (g->left == 0)
                g->state = TG_HEADER;
            break;
        case TG_EXT:
            used = g->ext_len - g->have < n ? g->ext_len - g->have : n;
            memcpy(g->ext + g->have, p, used);
            g->have += used;
            if (g->have == g->ext_len && end_ext(g) != 0)
                return -1;
            break;
        case TG_HEADER:
        case TG_ZERO1:
            used = collect_block(g, p, n);
            if (g->have < 512)
                break;
            g->have = 0;
            if (g->state == TG_ZERO1) {
                if (!all_zero(g->block, 512))
                    return fail(g, NULL, "a single zero block followed by more entries");
                g->state = TG_END;
            } else if (header_block(g) != 0) {
                return -1;
            }
            if (g->state == TG_SKIP && g->left == 0)
                g->state = TG_HEADER;
            break;
        }
        g->off += used;
        p += used;
        n -= used;
    }
    return 0;
}

int msigi_tg_finish(struct msigi_targuard *g)
{
    if (g->state == TG_FAIL)
        return -1;
    if ((g->state == TG_HEADER || g->state == TG_ZERO1) && g->have > 0)
        return fail(g, NULL, "the archive ends inside a header block (%zu of 512 bytes)", g->have);
    if (g->state == TG_EXT || g->pax_path || g->long_name)
        return fail(g, NULL, "the archive ends inside an extended header");
    return 0;
}
