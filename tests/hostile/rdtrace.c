/* rdtrace.c -- test helper for tests/hostile/threads.t: reads each artifact given with the
 * thread count given and prints everything the application can observe: the result code, the
 * error text, the verdict, the artifact's name and signature state, every file-handler event
 * in order (with the size and an FNV-1a hash of the bytes delivered) and the progress calls.
 * It also checks that each callback runs on the calling thread and that progress never goes
 * backwards; a violation is printed, so that a comparison of two runs shows it.
 * Usage: rdtrace THREADS FILE... */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msig/msig.h>

struct trace {
    pthread_t caller;
    int wrong_thread;
    uint64_t last_done, last_total;
    unsigned long progress_calls;
    int backwards;
    uint64_t bytes, fnv;
};

static void on_progress(void *user, uint64_t done, uint64_t total)
{
    struct trace *t = user;
    if (!pthread_equal(pthread_self(), t->caller))
        t->wrong_thread = 1;
    if (done < t->last_done)
        t->backwards = 1;
    t->last_done = done;
    t->last_total = total;
    t->progress_calls++;
}

static int on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last)
{
    struct trace *t = user;
    if (!pthread_equal(pthread_self(), t->caller))
        t->wrong_thread = 1;
    if (!data && !last) {
        printf("  begin kind=%u payload=%u name=%s size=%llu mode=%o mtime=%lld\n", ev->kind,
               ev->payload, ev->name, (unsigned long long)ev->size, ev->mode, (long long)ev->mtime);
        t->bytes = 0;
        t->fnv = 1469598103934665603ull;
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        t->fnv ^= ((const uint8_t *)data)[i];
        t->fnv *= 1099511628211ull;
    }
    t->bytes += len;
    if (last)
        printf("  end name=%s bytes=%llu fnv=%016llx\n", ev->name, (unsigned long long)t->bytes,
               (unsigned long long)t->fnv);
    return 0;
}

static int trace_one(int threads, const char *path)
{
    struct msig_ctx *ctx = NULL;
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    struct trace t;
    memset(&t, 0, sizeof(t));
    t.caller = pthread_self();
    if (msig_ctx_new(&ctx) != 0 || msig_ctx_set_threads(ctx, threads) != 0 ||
        msig_reader_new(ctx, &r) != 0) {
        fprintf(stderr, "rdtrace: setup failed\n");
        return 1;
    }
    msig_ctx_set_progress(ctx, on_progress, &t);
    msig_reader_set_file_handler(r, on_file, &t);
    printf("%s\n", path);
    int rc = msig_reader_read_path(r, path, &art);
    printf("  rc=%d error=%s\n", rc, msig_ctx_last_error(ctx));
    int v = msig_artifact_verdict(ctx, rc, art, 0);
    printf("  verdict=%d error=%s\n", v, v ? msig_ctx_last_error(ctx) : "");
    if (art)
        printf("  name=%s signature=%d\n", msig_artifact_name(art) ? msig_artifact_name(art) : "-",
               msig_artifact_signature(art));
    /* The number of progress calls depends on how reads fall; the last value does not. */
    if (rc == 0)
        printf("  progress last=%llu/%llu\n", (unsigned long long)t.last_done,
               (unsigned long long)t.last_total);
    printf("  progress called=%s backwards=%d wrong-thread=%d\n", t.progress_calls ? "yes" : "no",
           t.backwards, t.wrong_thread);
    msig_artifact_free(art);
    msig_reader_free(r);
    msig_ctx_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rdtrace THREADS FILE...\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    for (int i = 2; i < argc; i++)
        if (trace_one(threads, argv[i]) != 0)
            return 1;
    return 0;
}
