/* progress.c -- the progress line on standard error: percentage, bytes, rate and time left,
 * redrawn in place at most ten times a second, and cleared when the command ends or a
 * message is printed. Only on a terminal, never with --no-progress, and never for output
 * meant for programs (read --json, -o -). */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void human(double b, char *buf, size_t cap)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    size_t u = 0;

    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void draw(struct cli *cli, uint64_t done, uint64_t total)
{
    double t = now(), el = t - cli->progress_start, rate = el > 0 ? (double)done / el : 0;
    char d[32], all[32], r[32], left[32] = "";

    human((double)done, d, sizeof(d));
    human((double)total, all, sizeof(all));
    /* A rate needs some time to mean anything. */
    if (el < 0.2)
        rate = 0;
    if (rate > 0)
        human(rate, r, sizeof(r));
    else
        snprintf(r, sizeof(r), "-");
    if (rate > 0 && total > done) {
        long s = (long)((double)(total - done) / rate);
        snprintf(left, sizeof(left), "  %ld:%02ld left", s / 60, s % 60);
    }
    if (total > 0)
        fprintf(stderr, "\r\033[K%3d%%  %s of %s  %s%s%s", (int)(done * 100 / total), d, all, r,
                rate > 0 ? "/s" : "", left);
    else
        fprintf(stderr, "\r\033[K%s  %s%s", d, r, rate > 0 ? "/s" : "");
    fflush(stderr);
    cli->progress_drawn = 1;
    cli->progress_last = t;
}

static void on_progress(void *user, uint64_t done, uint64_t total)
{
    struct cli *cli = user;

    if (!cli->progress_on)
        return;
    if (cli->progress_start == 0)
        cli->progress_start = now();
    /* The first half second stays quiet: short commands show nothing (MSIG_PROGRESS_DELAY_MS
     * changes it, for tests). */
    if (now() - cli->progress_start < cli->progress_delay || now() - cli->progress_last < 0.1)
        return;
    draw(cli, done, total);
}

void cli_progress_report(struct cli *cli, uint64_t done, uint64_t total)
{
    on_progress(cli, done, total);
}

void cli_progress_restart(struct cli *cli)
{
    cli->progress_start = 0;
    cli->progress_last = 0;
}

void cli_progress_init(struct cli *cli)
{
    const char *d = getenv("MSIG_PROGRESS_DELAY_MS");

    cli->progress_delay = d != NULL && *d ? atof(d) / 1000 : 0.5;
    cli->progress_on = isatty(STDERR_FILENO);
    msig_ctx_set_progress(cli->ctx, on_progress, cli);
}

void cli_progress_off(struct cli *cli)
{
    cli_progress_clear(cli);
    cli->progress_on = 0;
}

void cli_progress_clear(struct cli *cli)
{
    if (cli->progress_drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        cli->progress_drawn = 0;
    }
}
