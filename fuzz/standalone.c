/* standalone.c -- runs a harness's LLVMFuzzerTestOneInput over files, without libFuzzer.
 * Usage: fuzz_<name>_run PATH...  Each PATH is a file, or a directory whose regular files
 * (recursively, in name order) are run. With no PATH the input is read from stdin.
 * Each input is copied into a buffer of exactly its size, so a sanitizer build catches
 * reads past the end. Exits 0 when every input ran, 2 when a path could not be read. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_stream(FILE *f, const char *name, unsigned long *count)
{
    size_t len = 0, cap = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "%s: out of memory\n", name);
                free(buf);
                return 2;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read error: %s\n", name, strerror(errno));
        free(buf);
        return 2;
    }
    /* Exact-size copy: one byte past the input is outside the allocation. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        fprintf(stderr, "%s: out of memory\n", name);
        free(buf);
        return 2;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    (*count)++;
    return 0;
}

static int run_path(const char *path, unsigned long *count);

static int run_dir(const char *path, unsigned long *count)
{
    struct dirent **list = NULL;
    int n = scandir(path, &list, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *d = list[i]->d_name;
        if (rc == 0 && strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
            size_t plen = strlen(path) + strlen(d) + 2;
            char *sub = malloc(plen);
            if (!sub) {
                rc = 2;
            } else {
                snprintf(sub, plen, "%s/%s", path, d);
                rc = run_path(sub, count);
                free(sub);
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

static int run_path(const char *path, unsigned long *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    if (S_ISDIR(st.st_mode))
        return run_dir(path, count);
    if (!S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = run_stream(f, path, count);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long count = 0;
    int rc = 0;
    if (argc < 2)
        rc = run_stream(stdin, "<stdin>", &count);
    for (int i = 1; i < argc && rc == 0; i++)
        rc = run_path(argv[i], &count);
    fprintf(stderr, "%s: ran %lu inputs\n", argv[0], count);
    return rc;
}
