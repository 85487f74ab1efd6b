/* text.c -- the printable-text rule for every string an artifact's header carries (names,
 * types, provides, depends, clears, their keys): valid UTF-8 (jansson checks that), and no
 * character that can change what a terminal shows: C0 and C1 controls, DEL, the bidi
 * controls, line and paragraph separators. */
#include "text.h"

/* The code point at s (valid UTF-8 assumed, as jansson guarantees); *n its length. */
static uint32_t code_point(const unsigned char *s, size_t left, size_t *n)
{
    if (s[0] < 0x80 || left < 2) {
        *n = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0) {
        *n = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0 && left >= 3) {
        *n = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *n = left >= 4 ? 4 : left;
    return 0x10000; /* beyond the BMP: none of the refused characters */
}

static int refused(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
           (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
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
