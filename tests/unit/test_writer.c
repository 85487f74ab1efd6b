/* test_writer.c -- msig_writer_*: artifacts of every kind and compression checked with the
 * real mender-artifact, exact header JSON against golden strings, default provides and
 * clears, every validation error (and that nothing is left behind), reproducibility,
 * standard output, size limits, signing, and flat memory on a 1 GiB sparse payload. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msig/msig.h>

#include "tap.h"

static char tmpd[4096];
static int have_ma; /* mender-artifact installed */

/* ---------------------------------------------------------------- helpers */

static void put_file(const char *name, const char *content)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s", tmpd, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        bail("cannot create %s: %s", p, strerror(errno));
    fputs(content, f);
    fclose(f);
}

static const char *P(const char *name)
{
    static char bufs[8][4200];
    static int i;
    i = (i + 1) % 8;
    snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", tmpd, name);
    return bufs[i];
}

/* Runs a shell command; returns its stdout (static buffer, trailing newline removed). */
static const char *sh(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *sh(int *status, const char *fmt, ...)
{
    static char out[65536];
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        bail("popen failed");
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    return out;
}

/* Entries in the temp directory whose names start with prefix (temp files included). */
static int count_entries(const char *prefix)
{
    int n = 0;
    DIR *d = opendir(tmpd);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static int count_tmp(void)
{
    return count_entries(".") - 2; /* ".", ".." */
}

static struct msig_ctx *ctx;

static struct msig_writer *mk(int kind, const char *name)
{
    struct msig_writer *w = NULL;
    if (msig_writer_new(ctx, kind, &w) != 0)
        bail("msig_writer_new: %s", msig_ctx_last_error(ctx));
    if (name && msig_writer_set_name(w, name) != 0)
        bail("set_name");
    return w;
}

#define CHK(x)                                            \
    do {                                                  \
        if ((x) != 0)                                     \
            bail("%s: %s", #x, msig_ctx_last_error(ctx)); \
    } while (0)

static int write_ok(struct msig_writer *w, const char *path, const char *what)
{
    int rc = msig_writer_write(w, path);
    if (!ok(rc == 0, "%s: written", what))
        diag("error %d: %s", rc, msig_ctx_last_error(ctx));
    return rc;
}

static void ma_validate(const char *path, const char *key, const char *what)
{
    int st = 0;
    if (!have_ma) {
        ok(0, "%s: mender-artifact is not installed", what);
        return;
    }
    const char *o =
        sh(&st, "mender-artifact validate %s%s '%s' 2>&1", key ? "-k " : "", key ? key : "", path);
    if (!ok(st == 0 && strstr(o, "validated successfully"), "%s: mender-artifact validate", what))
        diag("%s", o);
}

/* One inner header file, e.g. hdr_file(path, ".gz", "header-info"). */
static const char *hdr_file(const char *art, const char *hdr, const char *file)
{
    const char *dec = strcmp(hdr + strlen(hdr) - 3, ".gz") == 0    ? "gzip -dc"
                      : strcmp(hdr + strlen(hdr) - 3, ".xz") == 0  ? "xz -dc"
                      : strcmp(hdr + strlen(hdr) - 4, ".zst") == 0 ? "zstd -dc"
                                                                   : "cat";
    return sh(NULL, "tar -xOf '%s' '%s' | %s | tar -xO '%s'", art, hdr, dec, file);
}

static int expect_fail(struct msig_writer *w, const char *out, const char *msg, const char *what)
{
    int before = count_tmp();
    int rc = msig_writer_write(w, P(out));
    ok(rc < 0, "%s: fails", what);
    like(msig_ctx_last_error(ctx), msg, "%s: message", what);
    struct stat st;
    ok(stat(P(out), &st) != 0 && count_tmp() == before, "%s: nothing written", what);
    msig_writer_free(w);
    return rc;
}

/* ---------------------------------------------------------------- cases */

#define SHA_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_rootfs_golden(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "release-1");
    put_file("rootfs.ext4", "hello\n");
    CHK(msig_writer_add_device_type(w, "qemux86-64"));
    CHK(msig_writer_add_device_type(w, "beaglebone"));
    CHK(msig_writer_add_file(w, P("rootfs.ext4")));
    CHK(msig_writer_set_provides_group(w, "grp1"));
    CHK(msig_writer_add_depends_artifact_name(w, "release-0"));
    CHK(msig_writer_add_depends_group(w, "grp0"));
    CHK(msig_writer_add_depend(w, "dep.key", "dval"));
    CHK(msig_writer_add_provide(w, "custom.key", "val"));
    if (write_ok(w, P("golden.mender"), "/writer/rootfs/golden") == 0) {
        is_str(hdr_file(P("golden.mender"), "header.tar.gz", "header-info"),
               "{\"payloads\":[{\"type\":\"rootfs-image\"}],\"artifact_provides\":{\"artifact_"
               "name\":\"release-1\",\"artifact_group\":\"grp1\"},\"artifact_depends\":{"
               "\"artifact_name\":[\"release-0\"],\"device_type\":[\"qemux86-64\","
               "\"beaglebone\"],\"artifact_group\":[\"grp0\"]}}",
               "/writer/rootfs/golden: header-info");
        is_str(
            hdr_file(P("golden.mender"), "header.tar.gz", "headers/0000/type-info"),
            "{\"type\":\"rootfs-image\",\"artifact_depends\":{\"dep.key\":\"dval\"},"
            "\"artifact_provides\":{\"custom.key\":\"val\",\"rootfs-image.checksum\":\"" SHA_HELLO
            "\",\"rootfs-image.version\":\"release-1\"},\"clears_artifact_provides\":["
            "\"artifact_group\",\"rootfs_image_checksum\",\"rootfs-image.*\"]}",
            "/writer/rootfs/golden: type-info");
        is_str(sh(NULL, "tar -tf '%s' | tr '\\n' ' '", P("golden.mender")),
               "version manifest header.tar.gz data/0000.tar.gz ",
               "/writer/rootfs/golden: outer entries in order");
        is_str(
            sh(NULL, "tar -xOf '%s' header.tar.gz | tar -tzf - | tr '\\n' ' '", P("golden.mender")),
            "header-info headers/0000/type-info headers/0000/meta-data ",
            "/writer/rootfs/golden: header entries");
        is_str(hdr_file(P("golden.mender"), "header.tar.gz", "headers/0000/meta-data"), "",
               "/writer/rootfs/golden: empty meta-data");
        char m[2048];
        snprintf(m, sizeof(m), "%s", sh(NULL, "tar -xOf '%s' manifest", P("golden.mender")));
        like(m, SHA_HELLO "  data/0000/rootfs.ext4\n", "/writer/rootfs/golden: manifest data");
        like(m, "96bcd965947569404798bcbdb614f103db5a004eb6e364cfc162c146890ea35b  version",
             "/writer/rootfs/golden: manifest version line");
        const char *hs =
            sh(NULL, "tar -xOf '%s' header.tar.gz | sha256sum | cut -c1-64", P("golden.mender"));
        char want[128];
        snprintf(want, sizeof(want), "%s  header.tar.gz\n", hs);
        like(m, want, "/writer/rootfs/golden: header checksum over compressed bytes");
        struct stat st;
        stat(P("golden.mender"), &st);
        const char *tail =
            sh(NULL, "tail -c 1024 '%s' | od -An -v -tx1 | tr -d ' \\n' | tr -d 0 | wc -c",
               P("golden.mender"));
        ok(st.st_size % 512 == 0 && strcmp(tail, "0") == 0,
           "/writer/rootfs/golden: ends with two zero blocks, no record padding (size %lld)",
           (long long)st.st_size);
        const char *v = sh(NULL, "tar -tvf '%s' | head -2 | awk '{print $1, $2}' | tr '\\n' ' '",
                           P("golden.mender"));
        is_str(v, "-rw------- 0/0 -rw------- 0/0 ",
               "/writer/rootfs/golden: version/manifest mode 0600 root");
        is_int(st.st_mode & 0777, 0644, "/writer/rootfs/golden: mode 0644 & ~umask (022)");
        ma_validate(P("golden.mender"), NULL, "/writer/rootfs/golden");
        const char *r = sh(NULL, "mender-artifact read '%s' 2>&1", P("golden.mender"));
        like(r, "rootfs-image.version: release-1", "/writer/rootfs/golden: read provides");
        like(r, "Provides group: grp1", "/writer/rootfs/golden: read group");
    }
    msig_writer_free(w);
}

static void test_compressions(void)
{
    static const struct {
        int id;
        const char *ext;
        int ma;
    } c[] = { { MSIG_COMPRESS_NONE, "", 1 },
              { MSIG_COMPRESS_GZIP, ".gz", 1 },
              { MSIG_COMPRESS_LZMA, ".xz", 1 },
              { MSIG_COMPRESS_ZSTD_FAST, ".zst", 0 } };
    static const int kinds[] = { MSIG_PAYLOAD_ROOTFS, MSIG_PAYLOAD_MODULE, MSIG_PAYLOAD_BOOTSTRAP };
    static const char *const kname[] = { "", "rootfs", "module", "bootstrap" };
    put_file("p1.bin", "payload one\n");
    put_file("p2.bin", "payload two\n");
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
            char what[128], out[64], hdr[64];
            snprintf(what, sizeof(what), "/writer/%s/compress%s", kname[kinds[k]], c[i].ext);
            snprintf(out, sizeof(out), "k%zu-%zu.mender", k, i);
            snprintf(hdr, sizeof(hdr), "header.tar%s", c[i].ext);
            struct msig_writer *w = mk(kinds[k], "art-1");
            CHK(msig_writer_add_device_type(w, "qemux86-64"));
            CHK(msig_writer_set_compression(w, c[i].id));
            if (kinds[k] == MSIG_PAYLOAD_ROOTFS)
                CHK(msig_writer_add_file(w, P("p1.bin")));
            if (kinds[k] == MSIG_PAYLOAD_MODULE) {
                CHK(msig_writer_set_payload_type(w, "my-mod"));
                CHK(msig_writer_add_file(w, P("p1.bin")));
                CHK(msig_writer_add_file(w, P("p2.bin")));
            }
            if (write_ok(w, P(out), what) == 0) {
                char list[128];
                snprintf(list, sizeof(list), "version manifest %s data/0000.tar%s ", hdr, c[i].ext);
                is_str(sh(NULL, "tar -tf '%s' | tr '\\n' ' '", P(out)), list, "%s: entries", what);
                const char *hi = hdr_file(P(out), hdr, "header-info");
                like(hi, "\"artifact_name\":\"art-1\"", "%s: header-info readable", what);
                if (c[i].ma)
                    ma_validate(P(out), NULL, what);
                /* Our own reader for every compression (zstd included). */
                struct msig_reader *r = NULL;
                struct msig_artifact *art = NULL;
                CHK(msig_reader_new(ctx, &r));
                int rrc = msig_reader_read_path(r, P(out), &art);
                if (!ok(rrc == 0, "%s: msig reader accepts it", what))
                    diag("%s", msig_ctx_last_error(ctx));
                msig_artifact_free(art);
                msig_reader_free(r);
            }
            msig_writer_free(w);
        }
    }
}

/* type-info of a rootfs (empty payload) or module artifact written with the given setup. */
static const char *type_info_of(struct msig_writer *w, const char *what)
{
    static char buf[4096];
    buf[0] = '\0';
    CHK(msig_writer_add_device_type(w, "dev"));
    if (write_ok(w, P("ti.mender"), what) == 0)
        snprintf(buf, sizeof(buf), "%s",
                 hdr_file(P("ti.mender"), "header.tar.gz", "headers/0000/type-info"));
    msig_writer_free(w);
    unlink(P("ti.mender"));
    return buf;
}

static struct msig_writer *rootfs_empty(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "rel-2");
    CHK(msig_writer_add_file(w, P("empty.img")));
    return w;
}

static void test_default_provides(void)
{
    put_file("empty.img", "");
    struct msig_writer *w;
    const char *ck = "\"rootfs-image.checksum\":\"" SHA_EMPTY "\"";
    char want[2048];

    w = rootfs_empty();
    snprintf(want, sizeof(want),
             "{\"type\":\"rootfs-image\",\"artifact_provides\":{%s,\"rootfs-image.version\":"
             "\"rel-2\"},\"clears_artifact_provides\":[\"artifact_group\","
             "\"rootfs_image_checksum\",\"rootfs-image.*\"]}",
             ck);
    is_str(type_info_of(w, "/writer/rootfs/default-provides"), want,
           "/writer/rootfs/default-provides: type-info");

    /* A device's provides (write -f ssh://) fill only keys nothing else sets: not the
     * version, the checksum or the application's own provide. */
    w = rootfs_empty();
    CHK(msig_writer_add_provide(w, "rootfs-image.mine", "app"));
    CHK(msig_writer_add_default_provide(w, "rootfs-image.version", "device-old"));
    CHK(msig_writer_add_default_provide(w, "rootfs-image.checksum", "beef"));
    CHK(msig_writer_add_default_provide(w, "rootfs-image.mine", "device"));
    CHK(msig_writer_add_default_provide(w, "rootfs-image.update-module.x.version", "7"));
    snprintf(want, sizeof(want),
             "\"artifact_provides\":{%s,\"rootfs-image.mine\":\"app\",\"rootfs-image.update-module."
             "x.version\":\"7\",\"rootfs-image.version\":\"rel-2\"}",
             ck);
    like(type_info_of(w, "/writer/rootfs/device-provides"), want,
         "/writer/rootfs/device-provides: only the keys nothing else sets");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE | MSIG_WRITE_F_NO_DEFAULT_SW_VERSION);
    CHK(msig_writer_add_default_provide(w, "rootfs-image.version", "device-old"));
    CHK(msig_writer_add_default_provide(w, "rootfs-image.checksum", "beef"));
    like(type_info_of(w, "/writer/rootfs/device-provides-bare"),
         "\"artifact_provides\":{\"rootfs-image.checksum\":\"beef\",\"rootfs-image.version\":"
         "\"device-old\"}",
         "/writer/rootfs/device-provides-bare: the device's version and checksum when msig adds "
         "none");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    is_str(type_info_of(w, "/writer/rootfs/no-checksum"),
           "{\"type\":\"rootfs-image\",\"artifact_provides\":{\"rootfs-image.version\":\"rel-2\"},"
           "\"clears_artifact_provides\":[\"artifact_group\",\"rootfs_image_checksum\","
           "\"rootfs-image.*\"]}",
           "/writer/rootfs/no-checksum: type-info");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_LEGACY_CHECKSUM);
    like(type_info_of(w, "/writer/rootfs/legacy-checksum"),
         "\"artifact_provides\":{\"rootfs-image.version\":\"rel-2\",\"rootfs_image_checksum\":"
         "\"" SHA_EMPTY "\"}",
         "/writer/rootfs/legacy-checksum: type-info");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_DEFAULT_CLEARS);
    snprintf(want, sizeof(want),
             "{\"type\":\"rootfs-image\",\"artifact_provides\":{%s,\"rootfs-image.version\":"
             "\"rel-2\"}}",
             ck);
    is_str(type_info_of(w, "/writer/rootfs/no-default-clears"), want,
           "/writer/rootfs/no-default-clears: type-info");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_DEFAULT_SW_VERSION);
    snprintf(want, sizeof(want), "{\"type\":\"rootfs-image\",\"artifact_provides\":{%s}}", ck);
    is_str(type_info_of(w, "/writer/rootfs/no-default-sw-version"), want,
           "/writer/rootfs/no-default-sw-version: type-info");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_DEFAULT_SW_VERSION | MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    CHK(msig_writer_add_clears_provides(w, "x.*"));
    is_str(type_info_of(w, "/writer/rootfs/no-defaults"),
           "{\"type\":\"rootfs-image\",\"clears_artifact_provides\":[\"x.*\"]}",
           "/writer/rootfs/no-defaults: only user clears");

    w = rootfs_empty();
    CHK(msig_writer_set_software(w, "app", "1.2", NULL));
    snprintf(want, sizeof(want),
             "{\"type\":\"rootfs-image\",\"artifact_provides\":{\"rootfs-image.app.version\":"
             "\"1.2\",%s},\"clears_artifact_provides\":[\"rootfs-image.app.*\"]}",
             ck);
    is_str(type_info_of(w, "/writer/rootfs/software-name"), want,
           "/writer/rootfs/software-name: type-info");

    w = rootfs_empty();
    CHK(msig_writer_set_software(w, NULL, NULL, "data"));
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    is_str(type_info_of(w, "/writer/rootfs/software-filesystem"),
           "{\"type\":\"rootfs-image\",\"artifact_provides\":{\"data.version\":\"rel-2\"},"
           "\"clears_artifact_provides\":[\"data.*\"]}",
           "/writer/rootfs/software-filesystem: type-info");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    CHK(msig_writer_add_clears_provides(w, "foo.*"));
    CHK(msig_writer_add_clears_provides(w, "rootfs-image.*"));
    like(type_info_of(w, "/writer/rootfs/clears-order"),
         "\"clears_artifact_provides\":[\"foo.*\",\"rootfs-image.*\",\"artifact_group\","
         "\"rootfs_image_checksum\"]}",
         "/writer/rootfs/clears-order: user first, default not repeated");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    CHK(msig_writer_add_provide(w, "rootfs-image.version", "mine"));
    like(type_info_of(w, "/writer/rootfs/user-provide-wins"), "{\"rootfs-image.version\":\"mine\"}",
         "/writer/rootfs/user-provide-wins: -p kept");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE | MSIG_WRITE_F_SOFTWARE_WINS);
    CHK(msig_writer_add_provide(w, "rootfs-image.version", "mine"));
    CHK(msig_writer_set_software(w, NULL, "9", NULL));
    like(type_info_of(w, "/writer/rootfs/software-wins"), "{\"rootfs-image.version\":\"9\"}",
         "/writer/rootfs/software-wins: --software-version wins");

    w = rootfs_empty();
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_CHECKSUM_PROVIDE);
    CHK(msig_writer_add_provide(w, "rootfs-image.checksum", "fake"));
    msig_writer_set_flags(w, 0);
    like(type_info_of(w, "/writer/rootfs/checksum-overrides-user"),
         "\"rootfs-image.checksum\":\"" SHA_EMPTY "\"",
         "/writer/rootfs/checksum-overrides-user: real checksum");

    w = mk(MSIG_PAYLOAD_MODULE, "mod-1");
    CHK(msig_writer_set_payload_type(w, "my-module"));
    CHK(msig_writer_add_depend(w, "mod.dep", "dv"));
    CHK(msig_writer_add_provide(w, "mod.key", "mv"));
    is_str(type_info_of(w, "/writer/module/default-provides"),
           "{\"type\":\"my-module\",\"artifact_depends\":{\"mod.dep\":\"dv\"},"
           "\"artifact_provides\":{\"mod.key\":\"mv\",\"rootfs-image.my-module.version\":"
           "\"mod-1\"},\"clears_artifact_provides\":[\"rootfs-image.my-module.*\"]}",
           "/writer/module/default-provides: type-info");

    w = mk(MSIG_PAYLOAD_MODULE, "mod-1");
    CHK(msig_writer_set_payload_type(w, "my-module"));
    msig_writer_set_flags(w, MSIG_WRITE_F_NO_DEFAULT_SW_VERSION);
    is_str(type_info_of(w, "/writer/module/no-default-sw-version"), "{\"type\":\"my-module\"}",
           "/writer/module/no-default-sw-version: type-info");

    w = mk(MSIG_PAYLOAD_MODULE, "mod-1");
    CHK(msig_writer_set_payload_type(w, "my-module"));
    CHK(msig_writer_set_software(w, "sw", NULL, NULL));
    like(type_info_of(w, "/writer/module/software-name"),
         "{\"rootfs-image.sw.version\":\"mod-1\"},\"clears_artifact_provides\":"
         "[\"rootfs-image.sw.*\"]}",
         "/writer/module/software-name: type-info");

    w = mk(MSIG_PAYLOAD_BOOTSTRAP, "boot-1");
    CHK(msig_writer_add_provide(w, "a.b", "c"));
    CHK(msig_writer_add_clears_provides(w, "z.*"));
    is_str(type_info_of(w, "/writer/bootstrap/provides"),
           "{\"type\":null,\"artifact_provides\":{\"a.b\":\"c\"},\"clears_artifact_provides\":"
           "[\"z.*\"]}",
           "/writer/bootstrap/provides: type-info");
}

static void test_module_golden(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_MODULE, "mod-1");
    put_file("meta.json", "{\"url\":\"http://x/?a=1&b=<2>\", \"n\": 42, \"list\":[\"a\",1.0],"
                          " \"foo\":\"bar\", \"f\": 0.1}\n");
    CHK(msig_writer_set_payload_type(w, "my-module"));
    CHK(msig_writer_add_device_type(w, "qemux86-64"));
    CHK(msig_writer_add_device_type(w, "other-dev"));
    CHK(msig_writer_add_file(w, P("p2.bin")));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_set_meta_data_file(w, P("meta.json")));
    if (write_ok(w, P("mod.mender"), "/writer/module/golden") == 0) {
        is_str(hdr_file(P("mod.mender"), "header.tar.gz", "header-info"),
               "{\"payloads\":[{\"type\":\"my-module\"}],\"artifact_provides\":{\"artifact_"
               "name\":\"mod-1\"},\"artifact_depends\":{\"device_type\":[\"qemux86-64\","
               "\"other-dev\"]}}",
               "/writer/module/golden: header-info");
        is_str(hdr_file(P("mod.mender"), "header.tar.gz", "headers/0000/meta-data"),
               "{\"f\":0.1,\"foo\":\"bar\",\"list\":[\"a\",1],\"n\":42,\"url\":\"http://x/?a=1"
               "\\u0026b=\\u003c2\\u003e\"}",
               "/writer/module/golden: meta-data re-serialised");
        const char *m =
            sh(NULL, "tar -xOf '%s' manifest | cut -c67- | tr '\\n' ' '", P("mod.mender"));
        is_str(m, "data/0000/p2.bin data/0000/p1.bin header.tar.gz version ",
               "/writer/module/golden: manifest order");
        is_str(
            sh(NULL, "tar -xOf '%s' data/0000.tar.gz | tar -tzf - | tr '\\n' ' '", P("mod.mender")),
            "p2.bin p1.bin ", "/writer/module/golden: data order");
        ma_validate(P("mod.mender"), NULL, "/writer/module/golden");
    }
    msig_writer_free(w);
}

static void test_bootstrap_golden(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_BOOTSTRAP, "boot-1");
    CHK(msig_writer_add_device_type(w, "qemux86-64"));
    if (write_ok(w, P("boot.mender"), "/writer/bootstrap/golden") == 0) {
        is_str(hdr_file(P("boot.mender"), "header.tar.gz", "header-info"),
               "{\"payloads\":[{\"type\":null}],\"artifact_provides\":{\"artifact_name\":"
               "\"boot-1\"},\"artifact_depends\":{\"device_type\":[\"qemux86-64\"]}}",
               "/writer/bootstrap/golden: header-info");
        is_str(
            sh(NULL, "tar -xOf '%s' header.tar.gz | tar -tzf - | tr '\\n' ' '", P("boot.mender")),
            "header-info headers/0000/type-info ", "/writer/bootstrap/golden: no meta-data");
        is_str(sh(NULL, "tar -xOf '%s' data/0000.tar.gz | gzip -dc | wc -c", P("boot.mender")),
               "1024", "/writer/bootstrap/golden: data is an empty tar of 1024 bytes");
        ma_validate(P("boot.mender"), NULL, "/writer/bootstrap/golden");
    }
    msig_writer_free(w);
}

static void test_v2(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "v2-rel");
    CHK(msig_writer_add_device_type(w, "qemux86-64"));
    CHK(msig_writer_add_file(w, P("rootfs.ext4")));
    CHK(msig_writer_set_format_version(w, 2));
    if (write_ok(w, P("v2.mender"), "/writer/v2/rootfs") == 0) {
        is_str(sh(NULL, "tar -xOf '%s' version", P("v2.mender")),
               "{\"format\":\"mender\",\"version\":2}", "/writer/v2/rootfs: version");
        is_str(hdr_file(P("v2.mender"), "header.tar.gz", "header-info"),
               "{\"artifact_name\":\"v2-rel\",\"updates\":[{\"type\":\"rootfs-image\"}],"
               "\"device_types_compatible\":[\"qemux86-64\"]}",
               "/writer/v2/rootfs: header-info");
        is_str(hdr_file(P("v2.mender"), "header.tar.gz", "headers/0000/files"),
               "{\"files\":[\"rootfs.ext4\"]}", "/writer/v2/rootfs: files");
        is_str(hdr_file(P("v2.mender"), "header.tar.gz", "headers/0000/type-info"),
               "{\"type\":\"rootfs-image\"}", "/writer/v2/rootfs: type-info");
        ma_validate(P("v2.mender"), NULL, "/writer/v2/rootfs");
    }
    msig_writer_free(w);
}

static void test_scripts_augment(void)
{
    mkdir(P("scr"), 0755);
    put_file("scr/ArtifactInstall_Enter_01_x", "#!/bin/sh\nexit 0\n");
    put_file("scr/ArtifactCommit_Leave_02", "#!/bin/sh\nexit 0\n");
    put_file("ArtifactReboot_Error_03", "#!/bin/sh\nexit 0\n");
    put_file("aug.json", "{\"k\":\"v\"}");
    struct msig_writer *w = mk(MSIG_PAYLOAD_MODULE, "aug-1");
    CHK(msig_writer_set_payload_type(w, "my-mod"));
    CHK(msig_writer_add_device_type(w, "qemux86-64"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_script(w, P("scr")));
    CHK(msig_writer_add_script(w, P("ArtifactReboot_Error_03")));
    CHK(msig_writer_set_augment_type(w, "aug-mod"));
    CHK(msig_writer_add_augment_file(w, P("p2.bin")));
    CHK(msig_writer_add_augment_provide(w, "aug.key", "av"));
    CHK(msig_writer_set_augment_meta_data_file(w, P("aug.json")));
    if (write_ok(w, P("aug.mender"), "/writer/module/augment-scripts") == 0) {
        is_str(sh(NULL, "tar -tf '%s' | tr '\\n' ' '", P("aug.mender")),
               "version manifest manifest-augment header.tar.gz header-augment.tar.gz "
               "data/0000.tar.gz ",
               "/writer/module/augment: outer entries");
        is_str(sh(NULL, "tar -xOf '%s' header.tar.gz | tar -tzf - | tr '\\n' ' '", P("aug.mender")),
               "header-info scripts/ArtifactCommit_Leave_02 scripts/ArtifactInstall_Enter_01_x "
               "scripts/ArtifactReboot_Error_03 headers/0000/type-info ",
               "/writer/module/scripts: directory expanded in name order");
        is_str(hdr_file(P("aug.mender"), "header-augment.tar.gz", "headers/0000/type-info"),
               "{\"type\":\"aug-mod\",\"artifact_provides\":{\"aug.key\":\"av\"}}",
               "/writer/module/augment: augment type-info");
        is_str(
            sh(NULL, "tar -xOf '%s' manifest-augment | cut -c67- | tr '\\n' ' '", P("aug.mender")),
            "data/0000/p2.bin header-augment.tar.gz ", "/writer/module/augment: manifest-augment");
        ma_validate(P("aug.mender"), NULL, "/writer/module/augment");
        const char *r = sh(NULL, "mender-artifact read '%s' 2>&1", P("aug.mender"));
        like(r, "ArtifactInstall_Enter_01_x", "/writer/module/scripts: read lists scripts");
    }
    msig_writer_free(w);
}

static void test_errors(void)
{
    struct msig_writer *w;
    w = mk(MSIG_PAYLOAD_ROOTFS, NULL);
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    expect_fail(w, "e.mender", "artifact name is required", "/writer/error/no-name");

    w = mk(MSIG_PAYLOAD_ROOTFS, "a b");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    expect_fail(w, "e.mender", "whitespace is not allowed in the artifact-name",
                "/writer/error/whitespace");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_file(w, P("p1.bin")));
    expect_fail(w, "e.mender", "device-type", "/writer/error/no-device");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    expect_fail(w, "e.mender", "exactly one payload file, got 0", "/writer/error/rootfs-no-file");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_file(w, P("p2.bin")));
    expect_fail(w, "e.mender", "exactly one payload file, got 2", "/writer/error/rootfs-two-files");

    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    expect_fail(w, "e.mender", "payload type", "/writer/error/module-no-type");

    put_file("bad@name", "x");
    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("bad@name")));
    expect_fail(w, "e.mender",
                "Payload: data file bad@name contains forbidden characters. Only letters, "
                "digits and characters in the set \".,_-\" are allowed",
                "/writer/error/forbidden-characters");

    mkdir(P("d2"), 0755);
    put_file("d2/p1.bin", "other");
    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_file(w, P("d2/p1.bin")));
    char want[4400];
    snprintf(want, sizeof(want), "writer: can not calculate checksum: %s: file already exists",
             P("d2/p1.bin"));
    expect_fail(w, "e.mender", want, "/writer/error/duplicate-basename");

    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("missing.bin")));
    snprintf(want, sizeof(want), "%s: No such file or directory", P("missing.bin"));
    expect_fail(w, "e.mender", want, "/writer/error/missing-payload");

    put_file("a.txt", "x");
    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_script(w, P("a.txt")));
    expect_fail(w, "e.mender",
                "Invalid script name: \"a.txt\". Scripts must have a name on the form",
                "/writer/error/script-name");

    put_file("Download_Enter_05_x", "x");
    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_script(w, P("Download_Enter_05_x")));
    expect_fail(w, "e.mender", "Unsupported script state: Download", "/writer/error/script-state");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_add_script(w, P("scr")));
    CHK(msig_writer_add_script(w, P("scr/ArtifactCommit_Leave_02")));
    expect_fail(w, "e.mender", "Script already exists: ArtifactCommit_Leave_02",
                "/writer/error/script-duplicate");

    put_file("arr.json", "[1,2]");
    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_set_meta_data_file(w, P("arr.json")));
    expect_fail(w, "e.mender", "Top level object in meta-data must be a JSON object",
                "/writer/error/meta-data-array");

    put_file("bad.json", "{\"a\":");
    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_set_meta_data_file(w, P("bad.json")));
    expect_fail(w, "e.mender", "error reading meta-data", "/writer/error/meta-data-bad-json");

    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_set_format_version(w, 2));
    expect_fail(w, "e.mender", "Module images need at least artifact format version 3",
                "/writer/error/v2-module");

    w = mk(MSIG_PAYLOAD_BOOTSTRAP, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_set_augment_type(w, "x"));
    expect_fail(w, "e.mender", "cannot be augmented", "/writer/error/bootstrap-augment");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    CHK(msig_writer_set_augment_type(w, "x"));
    expect_fail(w, "e.mender", "only be written as module-image", "/writer/error/rootfs-augment");

    w = mk(MSIG_PAYLOAD_MODULE, "n");
    CHK(msig_writer_set_payload_type(w, "t"));
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_augment_file(w, P("p2.bin")));
    expect_fail(w, "e.mender", "Must give --augment-type argument",
                "/writer/error/augment-without-type");

    ok(msig_writer_set_format_version(w = mk(MSIG_PAYLOAD_ROOTFS, "n"), 4) < 0,
       "/writer/error/version-4: refused by the setter");
    msig_writer_free(w);

    /* A failed write leaves an existing target untouched. */
    put_file("keep.mender", "original");
    w = mk(MSIG_PAYLOAD_ROOTFS, "a b");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    ok(msig_writer_write(w, P("keep.mender")) < 0, "/writer/error/target-untouched: fails");
    is_str(sh(NULL, "cat '%s'", P("keep.mender")), "original",
           "/writer/error/target-untouched: old content kept");
    msig_writer_free(w);
    unlink(P("keep.mender"));
}

static char logbuf[1024];
static void log_cb(void *user, int level, const char *msg)
{
    (void)user;
    if (level == MSIG_LOG_WARN)
        snprintf(logbuf, sizeof(logbuf), "%s", msg);
}

static void test_size_limits(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    msig_writer_set_size_limits(w, 100, 0);
    expect_fail(w, "big.mender", "bytes exceeds the maximum 100 bytes",
                "/writer/size/max-exceeded");
    like(msig_ctx_last_error(ctx), "Artifact size ", "/writer/size/max-exceeded: text");

    w = mk(MSIG_PAYLOAD_ROOTFS, "n");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    msig_writer_set_size_limits(w, 1000000, 100);
    msig_ctx_set_log(ctx, log_cb, NULL);
    logbuf[0] = '\0';
    if (write_ok(w, P("warn.mender"), "/writer/size/warn") == 0)
        like(logbuf, "exceeds the warning size 100 bytes", "/writer/size/warn: warning logged");
    msig_ctx_set_log(ctx, NULL, NULL);
    msig_writer_free(w);
    unlink(P("warn.mender"));
}

static void test_reproducible(void)
{
    struct stat st;
    struct timeval tv[2] = { { 4000000000, 0 }, { 4000000000, 0 } }; /* future mtime */
    utimes(P("p1.bin"), tv);
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    for (int i = 0; i < 2; i++) {
        struct msig_writer *w = mk(MSIG_PAYLOAD_MODULE, "rep-1");
        CHK(msig_writer_set_payload_type(w, "m"));
        CHK(msig_writer_add_device_type(w, "d"));
        CHK(msig_writer_add_file(w, P("p1.bin")));
        CHK(msig_writer_add_script(w, P("scr")));
        write_ok(w, P(i ? "rep2.mender" : "rep1.mender"), "/writer/reproducible");
        msig_writer_free(w);
        if (i == 0)
            sleep(1);
    }
    unsetenv("SOURCE_DATE_EPOCH");
    int st1 = 0;
    sh(&st1, "cmp -s '%s' '%s'", P("rep1.mender"), P("rep2.mender"));
    ok(st1 == 0, "/writer/reproducible: two writes are byte-identical");
    const char *v = sh(NULL,
                       "tar -xOf '%s' data/0000.tar.gz | tar --numeric-owner --full-time "
                       "-tvzf - | awk '{print $1, $2, $4, $5}'",
                       P("rep1.mender"));
    is_str(v, "-rw-r--r-- 0/0 2023-11-14 22:13:20",
           "/writer/reproducible: payload owner root, mtime clamped to SOURCE_DATE_EPOCH");
    ma_validate(P("rep1.mender"), NULL, "/writer/reproducible");
    (void)st;
}

static void test_stdout(void)
{
    struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "so-1");
    CHK(msig_writer_add_device_type(w, "d"));
    CHK(msig_writer_add_file(w, P("p1.bin")));
    fflush(stdout);
    int saved = dup(1);
    int fd = open(P("stdout.mender"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    close(fd);
    int rc = msig_writer_write(w, "-");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (!ok(rc == 0, "/writer/stdout: written"))
        diag("%s", msig_ctx_last_error(ctx));
    ma_validate(P("stdout.mender"), NULL, "/writer/stdout");
    msig_writer_free(w);
}

static void test_signed(void)
{
    const char *interop = getenv("MSIG_INTEROP");
    static const char *const keys[] = { "rsa2048", "p256" };
    for (size_t i = 0; i < 2; i++) {
        char priv[4096], pub[4096], out[64];
        snprintf(priv, sizeof(priv), "%s/keys/%s-private-trad.pem", interop ? interop : ".",
                 keys[i]);
        snprintf(pub, sizeof(pub), "%s/keys/%s-public.pem", interop ? interop : ".", keys[i]);
        snprintf(out, sizeof(out), "signed-%s.mender", keys[i]);
        struct msig_key *key = NULL;
        if (!interop || msig_key_open(ctx, priv, 0, &key) != 0) {
            ok(0, "/writer/signed/%s: key %s opens (%s)", keys[i], priv, msig_ctx_last_error(ctx));
            continue;
        }
        struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "sig-1");
        CHK(msig_writer_add_device_type(w, "d"));
        CHK(msig_writer_add_file(w, P("p1.bin")));
        CHK(msig_writer_set_key(w, key));
        char what[64];
        snprintf(what, sizeof(what), "/writer/signed/%s", keys[i]);
        if (write_ok(w, P(out), what) == 0) {
            is_str(sh(NULL, "tar -tf '%s' | tr '\\n' ' '", P(out)),
                   "version manifest manifest.sig header.tar.gz data/0000.tar.gz ",
                   "%s: manifest.sig after manifest", what);
            ma_validate(P(out), pub, what);
        }
        msig_writer_free(w);
        msig_key_close(key);
    }
}

/* 1 GiB sparse payload: memory must stay flat. Runs in a child so that its peak RSS is
 * measured alone (RUSAGE_CHILDREN). */
/* A payload that changes while msig reads it: the progress callback, called after each
 * buffer read, grows or cuts the file once, then the write must fail with the sizes
 * and leave nothing. */
struct change {
    const char *path;
    int grow; /* else cut */
    int done;
};

static void change_cb(void *user, uint64_t done, uint64_t total)
{
    struct change *c = user;
    (void)total;
    if (c->done || done == 0)
        return;
    c->done = 1;
    int fd = open(c->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        bail("open %s: %s", c->path, strerror(errno));
    int bad = c->grow ? pwrite(fd, "more", 4, 1024 * 1024) != 4 : ftruncate(fd, 300000) != 0;
    close(fd);
    if (bad)
        bail("cannot change %s", c->path);
}

static void test_payload_changes(void)
{
    static const int comps[] = { MSIG_COMPRESS_NONE, MSIG_COMPRESS_GZIP };
    for (int grow = 0; grow <= 1; grow++)
        for (size_t i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
            char what[96];
            snprintf(what, sizeof(what), "/writer/errors/payload %s while read (%s)",
                     grow ? "grows" : "is cut", comps[i] ? "gzip" : "none");
            int fd = open(P("moving.img"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || ftruncate(fd, 1024 * 1024) != 0)
                bail("cannot make moving.img");
            close(fd);
            struct change c = { P("moving.img"), grow, 0 };
            struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "r-1");
            CHK(msig_writer_add_device_type(w, "d"));
            CHK(msig_writer_add_file(w, c.path));
            CHK(msig_writer_set_compression(w, comps[i]));
            msig_ctx_set_progress(ctx, change_cb, &c);
            expect_fail(w, "moving.mender",
                        grow ? "moving.img changed while writing (it grew past its size of "
                               "1048576 bytes)"
                             : "moving.img changed while writing (it ended at 300000 bytes, "
                               "was 1048576)",
                        what);
            msig_ctx_set_progress(ctx, NULL, NULL);
            ok(c.done, "%s: the file was changed during the write", what);
        }
    unlink(P("moving.img"));
}

static void test_big(void)
{
    int fd = open(P("big.img"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 1024L * 1024 * 1024) != 0)
        bail("cannot make the sparse file");
    close(fd);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct msig_writer *w = mk(MSIG_PAYLOAD_ROOTFS, "big-1");
        if (msig_writer_add_device_type(w, "d") || msig_writer_add_file(w, P("big.img")) ||
            msig_writer_set_compression(w, MSIG_COMPRESS_ZSTD_FASTEST) ||
            msig_writer_write(w, P("big.mender")))
            _exit(1);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "/writer/big/1GiB: written");
    diag("peak RSS of the writer child: %ld KiB", ru.ru_maxrss);
    ok(ru.ru_maxrss < 200 * 1024, "/writer/big/1GiB: peak RSS %ld KiB < 200 MiB", ru.ru_maxrss);
    const char *m = sh(NULL, "tar -xOf '%s' manifest | head -1", P("big.mender"));
    like(m, "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14  data/0000/big.img",
         "/writer/big/1GiB: payload checksum");
    unlink(P("big.img"));
    unlink(P("big.mender"));
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpd, sizeof(tmpd), "%s/msig-writer-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpd))
        bail("mkdtemp: %s", strerror(errno));
    umask(022);
    int st = 0;
    sh(&st, "command -v mender-artifact >/dev/null");
    have_ma = st == 0;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new");

    test_big();
    test_rootfs_golden();
    test_compressions();
    test_default_provides();
    test_module_golden();
    test_bootstrap_golden();
    test_v2();
    test_scripts_augment();
    test_errors();
    test_payload_changes();
    test_size_limits();
    test_reproducible();
    test_stdout();
    test_signed();

    msig_ctx_free(ctx);
    if (exit_status() == 0)
        sh(NULL, "rm -rf '%s'", tmpd);
    else
        diag("kept %s", tmpd);
    return done_testing();
}
