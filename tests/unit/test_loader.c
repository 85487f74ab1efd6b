/* test_loader.c -- the plugin loader with the fixture plugins of tests/fixtures: every broken
 * one gives its message, duplicates and writable files are refused, instances are created
 * only at the first key_open, and the self-check catches a plugin's wrong signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "signer.h"
#include "tap.h"

static char tmpd[] = "/tmp/msig-test-loader-XXXXXX";
static char keydir[4096];
static char logbuf[8192];

static void log_cb(void *user, int level, const char *m)
{
    (void)user;
    (void)level;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", m);
}

static const char *fx(const char *kind)
{
    static char buf[4][4200];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/msig-fx-%s.so", tmpd, kind);
    return b;
}

static void load_fails(struct msig_ctx *ctx, const char *kind, int want, const char *msg)
{
    is_int(msig_ctx_load_plugin(ctx, fx(kind)), want, "/loader/%s/refused", kind);
    like(msig_ctx_last_error(ctx), msg, "/loader/%s/message", kind);
}

static int sign_with(struct msig_ctx *ctx, const char *scheme, const char *keyfile, char **b64,
                     size_t *b64_len)
{
    char spec[4400];
    struct msig_key *key = NULL;
    static const uint8_t m[] = "manifest bytes\n";
    snprintf(spec, sizeof(spec), "%s:%s/%s", scheme, keydir, keyfile);
    int rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
    if (rc == 0)
        rc = msigi_sign_manifest(ctx, key, m, sizeof(m) - 1, b64, b64_len);
    msig_key_close(key);
    return rc;
}

int main(void)
{
    const char *build = getenv("MSIG_BUILD_DIR");
    const char *interop = getenv("MSIG_INTEROP");
    char cmd[9000];
    if (!build || !interop) {
        plan(1);
        ok(0, "MSIG_BUILD_DIR and MSIG_INTEROP are set");
        return exit_status();
    }
    snprintf(keydir, sizeof(keydir), "%s/keys", interop);
    if (!mkdtemp(tmpd))
        bail("mkdtemp failed");
    snprintf(cmd, sizeof(cmd),
             "cp '%s'/tests/fixtures/msig-fx-*.so '%s'/plugins/file/msig-file.so '%s'/", build,
             build, tmpd);
    if (system(cmd) != 0)
        bail("cannot copy the fixture plugins: %s", cmd);
    snprintf(cmd, sizeof(cmd), "chmod 0755 '%s'/*.so", tmpd);
    if (system(cmd) != 0)
        bail("chmod failed");

    struct msig_ctx *ctx = NULL;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    msig_ctx_set_log(ctx, log_cb, NULL);
    size_t builtins = msig_ctx_plugin_count(ctx);
    ok(builtins >= 1, "/loader/built-ins registered (%zu)", builtins);
    struct msig_plugin_info info = { .struct_size = sizeof(info) };
    is_int(msig_ctx_plugin_info(ctx, 0, &info), 0, "/loader/info 0");
    is_str(info.name, "file", "/loader/built-in file plugin name");
    is_str(info.file, "(built-in)", "/loader/built-in file field");
    is_str(info.schemes ? info.schemes[0] : NULL, "file", "/loader/built-in scheme");

    is_int(msig_ctx_load_plugin(ctx, fx("good")), MSIG_E_UNSUPPORTED,
           "/loader/load before enable refused");
    like(msig_ctx_last_error(ctx), "external plugins are not enabled", "/loader/enable message");
    is_int(msig_ctx_enable_plugins(ctx, "/nonexistent/msig/plugins"), 0,
           "/loader/enable with a missing directory");

    load_fails(ctx, "wrongmajor", MSIG_E_ABI, "ABI major version 2, this core supports 1");
    load_fails(ctx, "short", MSIG_E_ABI, "descriptor is");
    like(msig_ctx_last_error(ctx), "ABI 1.0 needs at least", "/loader/short/needs");
    load_fails(ctx, "v2only", MSIG_E_ABI, "plugin needs a newer core");
    load_fails(ctx, "nosym", MSIG_E_ABI, "not an msig plugin: no msig_plugin_entry_v1 symbol");
    load_fails(ctx, "nullop", MSIG_E_ABI, "required operation sign_digest is NULL");
    is_int(msig_ctx_load_plugin(ctx, "/nonexistent/x.so"), MSIG_E_NOT_FOUND,
           "/loader/missing file");
    char path[4400];
    snprintf(path, sizeof(path), "%s/msig-file.so", tmpd);
    is_int(msig_ctx_load_plugin(ctx, path), MSIG_E_EXISTS, "/loader/duplicate name refused");
    like(msig_ctx_last_error(ctx), "a plugin named \"file\" is already loaded from (built-in)",
         "/loader/duplicate name message");
    is_int((long long)msig_ctx_plugin_count(ctx), (long long)builtins,
           "/loader/nothing registered by failures");

    /* Group/world-writable files and directories are refused. */
    snprintf(cmd, sizeof(cmd),
             "mkdir -m 0777 '%s/open' && cp '%s' '%s/open/' && "
             "cp '%s' '%s/w.so' && chmod 0666 '%s/w.so' && chmod 0777 '%s/open'",
             tmpd, fx("good"), tmpd, fx("good"), tmpd, tmpd, tmpd);
    if (system(cmd) != 0)
        bail("setup failed: %s", cmd);
    snprintf(path, sizeof(path), "%s/w.so", tmpd);
    is_int(msig_ctx_load_plugin(ctx, path), MSIG_E_ABI, "/loader/writable file refused");
    like(msig_ctx_last_error(ctx), "the file is group- or world-writable (mode 0666)",
         "/loader/writable file message");
    snprintf(path, sizeof(path), "%s/open/msig-fx-good.so", tmpd);
    is_int(msig_ctx_load_plugin(ctx, path), MSIG_E_ABI, "/loader/writable directory refused");
    like(msig_ctx_last_error(ctx), "its directory is group- or world-writable",
         "/loader/writable directory message");

    /* Good plugins. */
    static const char *good[] = { "good", "der", "badsig", "initfail" };
    for (size_t i = 0; i < 4; i++) {
        int rc = msig_ctx_load_plugin(ctx, fx(good[i]));
        if (!is_int(rc, 0, "/loader/%s loads", good[i]))
            diag("%s", msig_ctx_last_error(ctx));
    }
    is_int(msig_ctx_load_plugin(ctx, fx("good")), 0, "/loader/good twice is loaded once");
    is_int((long long)msig_ctx_plugin_count(ctx), (long long)builtins + 4, "/loader/count");
    info.struct_size = sizeof(info);
    is_int(msig_ctx_plugin_info(ctx, builtins, &info), 0, "/loader/info of fx-good");
    is_str(info.name, "fx-good", "/loader/info name");
    like(info.file, "msig-fx-good.so", "/loader/info file");
    ok(strstr(logbuf, "instance created") == NULL, "/loader/listing does not create instances");

    char *b64 = NULL;
    size_t b64_len = 0;
    int rc = sign_with(ctx, "fx-good", "p256-private-trad.pem", &b64, &b64_len);
    ok(rc == 0 && b64_len == 88, "/loader/fx-good signs P-256 (raw r||s)");
    if (rc)
        diag("%s", msig_ctx_last_error(ctx));
    like(logbuf, "fx-good: instance created", "/loader/log lines carry the plugin name");
    msigi_free(b64);
    b64 = NULL;
    rc = sign_with(ctx, "fx-good", "rsa3072-private-trad.pem", &b64, &b64_len);
    ok(rc == 0 && b64_len == 512, "/loader/fx-good signs RSA-3072");
    msigi_free(b64);
    b64 = NULL;
    rc = sign_with(ctx, "fx-der", "p256-private-pkcs8.pem", &b64, &b64_len);
    ok(rc == 0 && b64_len == 88, "/loader/fx-der DER converted to 64-byte r||s");
    msigi_free(b64);
    b64 = NULL;
    rc = sign_with(ctx, "fx-badsig", "rsa2048-private-trad.pem", &b64, &b64_len);
    is_int(rc, MSIG_E_SIGNATURE, "/loader/fx-badsig caught by the self-check");
    like(msig_ctx_last_error(ctx),
         "signature from fx-badsig does not verify with its own "
         "public key",
         "/loader/fx-badsig message");
    ok(b64 == NULL, "/loader/fx-badsig nothing returned");
    rc = sign_with(ctx, "fx-badsig", "p256-private-trad.pem", &b64, &b64_len);
    is_int(rc, MSIG_E_SIGNATURE, "/loader/fx-badsig P-256 caught too");
    rc = sign_with(ctx, "fx-initfail", "p256-private-trad.pem", &b64, &b64_len);
    is_int(rc, MSIG_E_DEVICE, "/loader/fx-initfail key_open fails");
    like(msig_ctx_last_error(ctx),
         "plugin fx-initfail: creating its instance: fixture token not present (slot 7)",
         "/loader/fx-initfail message has the plugin detail");
    rc = sign_with(ctx, "fx-good", "p384-private-trad.pem", &b64, &b64_len);
    is_int(rc, MSIG_E_KEY, "/loader/core refuses P-384 from any plugin");
    like(msig_ctx_last_error(ctx), "EC secp384r1 keys are not supported",
         "/loader/core P-384 message");
    msig_ctx_free(ctx);

    /* Scanning a directory loads the good ones and skips the broken ones with a warning. */
    ctx = NULL;
    logbuf[0] = '\0';
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    msig_ctx_set_log(ctx, log_cb, NULL);
    snprintf(cmd, sizeof(cmd), "rm -f '%s/msig-file.so' '%s/w.so'", tmpd, tmpd);
    if (system(cmd) != 0)
        bail("rm failed");
    is_int(msig_ctx_enable_plugins(ctx, tmpd), 0, "/scan/enable with the fixture directory");
    is_int((long long)msig_ctx_plugin_count(ctx), (long long)builtins + 6,
           "/scan/good ones loaded (good, der, badsig, initfail, conc, v11)");
    like(logbuf, "plugin needs a newer core", "/scan/broken ones reported");
    like(logbuf, "(skipped)", "/scan/broken ones skipped");
    setenv("MSIG_PLUGIN_PATH", tmpd, 1);
    msig_ctx_free(ctx);
    ctx = NULL;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    is_int(msig_ctx_enable_plugins(ctx, NULL), 0, "/scan/MSIG_PLUGIN_PATH");
    is_int((long long)msig_ctx_plugin_count(ctx), (long long)builtins + 6,
           "/scan/MSIG_PLUGIN_PATH used for the default directory");
    msig_ctx_free(ctx);

    snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", tmpd, tmpd);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpd);
    return done_testing();
}
