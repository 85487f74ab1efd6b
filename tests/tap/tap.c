/* tap.c -- TAP output for the C unit tests (see tap.h). */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int planned = -1;
static int count;
static int failed;

void plan(int n)
{
    planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

static int report(int cond, const char *fmt, va_list ap)
{
    count++;
    printf("%sok %d - ", cond ? "" : "not ", count);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    if (!cond)
        failed++;
    return cond;
}

int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cond, fmt, ap);
    va_end(ap);
    return cond;
}

int is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = report(got == want, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: %lld\n#  want: %lld\n", got, want);
    return r;
}

int is_str(const char *got, const char *want, const char *fmt, ...)
{
    int same =
        (got == NULL && want == NULL) || (got != NULL && want != NULL && strcmp(got, want) == 0);
    va_list ap;
    va_start(ap, fmt);
    int r = report(same, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: '%s'\n#  want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
    return r;
}

int like(const char *got, const char *needle, const char *fmt, ...)
{
    int found = got != NULL && needle != NULL && strstr(got, needle) != NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = report(found, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: '%s'\n#  want it to contain: '%s'\n", got ? got : "(null)",
               needle ? needle : "(null)");
    return r;
}

int is_mem(const void *got, size_t got_len, const void *want, size_t want_len, const char *fmt, ...)
{
    int same = got_len == want_len && (got_len == 0 || memcmp(got, want, got_len) == 0);
    va_list ap;
    va_start(ap, fmt);
    int r = report(same, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got %zu bytes, want %zu bytes (contents differ)\n", got_len, want_len);
    return r;
}

void skip(const char *reason, const char *fmt, ...)
{
    count++;
    printf("ok %d - ", count);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" # SKIP %s\n", reason);
    fflush(stdout);
}

void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

void bail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("Bail out! ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(255);
}

int exit_status(void)
{
    if (planned >= 0 && count != planned) {
        printf("# planned %d tests but ran %d\n", planned, count);
        return 1;
    }
    return failed ? 1 : 0;
}

int done_testing(void)
{
    if (planned < 0) {
        planned = count;
        printf("1..%d\n", count);
    }
    return exit_status();
}
