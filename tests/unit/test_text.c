/* test_text.c -- the printable-text rule (core/text.c): msig_text_escape writes exactly the
 * characters that msigi_text_check refuses as escapes, keeps the rest, treats bytes that are
 * not well-formed UTF-8 one by one (so that no control hides behind them) and cuts at a
 * whole character. */
#include <stdint.h>
#include <string.h>

#include "msig/msig.h"
#include "tap.h"
#include "text.h"

struct esc_case {
    const char *in, *want, *name;
};

static const struct esc_case cases[] = {
    { "plain text, 1.0", "plain text, 1.0", "printable ASCII is kept" },
    { "a\x1b[31mb", "a\\x1b[31mb", "ESC (C0)" },
    { "x\ny\tz", "x\\x0ay\\x09z", "newline and tab" },
    { "\x7f", "\\x7f", "DEL" },
    { "\xc2\x9b"
      "2J",
      "\\x9b2J", "C1 CSI (U+009B)" },
    { "a\xe2\x80\xae"
      "b",
      "a\\u202eb", "U+202E right-to-left override" },
    { "\xd8\x9c", "\\u061c", "U+061C arabic letter mark" },
    { "\xe2\x81\xa6", "\\u2066", "U+2066 left-to-right isolate" },
    { "\xe2\x80\xa8", "\\u2028", "U+2028 line separator" },
    { "\xe2\x80\x8f", "\\u200f", "U+200F right-to-left mark" },
    { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6",
      "other UTF-8 (2, 3 and 4 bytes) is kept" },
    { "\x80\x1b[2J", "\\x80\\x1b[2J", "a stray continuation byte does not hide the ESC after it" },
    { "\xe2\x80", "\\xe2\\x80", "a sequence cut at the end" },
    { "\xc0\xaf", "\\xc0\\xaf", "an overlong sequence" },
    { "\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80", "a 5-byte form" },
    { "\xe2\x1b\x80", "\\xe2\\x1b\\x80", "an ESC inside a broken sequence" },
};

static void test_escape(void)
{
    char buf[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_str(msig_text_escape(cases[i].in, buf, sizeof(buf)), cases[i].want, "escape: %s",
               cases[i].name);
    is_str(msig_text_escape(NULL, buf, sizeof(buf)), "", "escape: NULL is empty");
    is_str(msig_text_escape("abc", NULL, 10), "", "escape: no buffer gives \"\"");
    strcpy(buf, "old");
    is_str(msig_text_escape("abc", buf, 0), "", "escape: cap 0 gives \"\"");
    is_str(buf, "old", "escape: cap 0 writes nothing");
    is_str(msig_text_escape("abc\x1b"
                            "def",
                            buf, 6),
           "abc", "escape: an escape that does not fit is left out whole");
    is_str(msig_text_escape("abc\x1b"
                            "def",
                            buf, 8),
           "abc\\x1b", "escape: cut after a whole escape");
    is_str(msig_text_escape("ab\xe2\x82\xac", buf, 5), "ab",
           "escape: a character that does not fit is left out whole");
    is_str(msig_text_escape("abcdef", buf, 4), "abc", "escape: the output is always terminated");
}

/* Every character the escape writes as \u or \x (valid UTF-8 only) is one the header
 * rule refuses, at the same offset, and the kept ones pass it. */
static void test_same_rule(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *in = cases[i].in;
        size_t at = SIZE_MAX;
        uint32_t cp = 0;
        int refused = msigi_text_check(in, strlen(in), &at, &cp) != 0;
        const char *first = strstr(cases[i].want, "\\");
        size_t want_at = first ? (size_t)(first - cases[i].want) : SIZE_MAX;

        ok(refused == (first != NULL), "rule: %s: check and escape agree", cases[i].name);
        if (refused)
            ok(at == want_at, "rule: %s: at byte %zu (escape at %zu)", cases[i].name, at, want_at);
    }
}

int main(void)
{
    test_escape();
    test_same_rule();
    return done_testing();
}
