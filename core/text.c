/* text.c -- the printable-text rule for every string an artifact's header carries (names,
 * types, provides, depends, clears, their keys): valid UTF-8 (jansson checks that), and no
 * character that can change what a terminal shows: C0 and C1 controls, DEL, the bidi
 * controls, line and paragraph separators. msig_text_escape writes the same characters as
 * escapes, for text that is shown rather than refused (the CLI's output). */
#include "text.h"

#include <stdio.h>
#include <string.h>

#include "msig/msig.h"

/* The code point at s; *n its length. A byte that does not start a well-formed UTF-8
 * sequence is one unit of its own, returned as INVALID (header strings are valid UTF-8, as
 * jansson guarantees; msig_text_escape also takes other bytes). */
#define INVALID 0xFFFFFFFFu

static int cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static uint32_t code_point(const unsigned char *s, size_t left, size_t *n)
{
    *n = 1;
    if (s[0] < 0x80)
        return s[0];
    if (s[0] >= 0xC2 && s[0] <= 0xDF && left >= 2 && cont(s[1])) {
        *n = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0 && left >= 3 && cont(s[1]) && cont(s[2])) {
        *n = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4 && left >= 4 && cont(s[1]) && cont(s[2]) && cont(s[3])) {
        *n = 4;
        return 0x10000; /* beyond the BMP: none of the refused characters */
    }
    return INVALID;
}

static int refused(uint32_t c)
{
    return c == INVALID || c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E ||
           c == 0x200F || (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

int msigi_text_check(const char *s, size_t len, size_t *at, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0, n = 1; i < len; i += n) {
        uint32_t c = code_point(p + i, len - i, &n);
        if (refused(c)) {
            *at = i;
            *cp = c;
            return -1;
        }
    }
    return 0;
}

const char *msig_text_escape(const char *s, char *buf, size_t cap)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t len = strlen((const char *)p), o = 0;

    if (buf == NULL || cap == 0)
        return "";
    for (size_t i = 0, n = 1; i < len; i += n) {
        uint32_t c = code_point(p + i, len - i, &n);
        char esc[8];
        size_t w = n;
        const char *from = (const char *)p + i;

        if (c == INVALID || c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
            w = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)(c == INVALID ? p[i] : c));
            from = esc;
        } else if (refused(c)) {
            w = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c);
            from = esc;
        }
        if (o + w >= cap)
            break; /* cut at a whole character */
        memcpy(buf + o, from, w);
        o += w;
    }
    buf[o] = '\0';
    return buf;
}
