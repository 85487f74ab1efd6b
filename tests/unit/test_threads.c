/* test_threads.c -- the plugin thread model and the public key API: one instance of a
 * plugin file for the whole process, shared by every context; a plugin that is not
 * thread-safe is never entered twice at once, even by several contexts in several threads
 * (the fx-conc fixture detects concurrent entry); msig_key_public_der and
 * msig_key_sign_digest give what OpenSSL verifies, in both signature forms. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <msig/msig.h>

#include "tap.h"

#define THREADS 4
#define ROUNDS 12

static char tmpd[] = "/tmp/msig-test-threads-XXXXXX";
static char keydir[4096];
static char plugin_path[4400];
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[16384];

static void log_cb(void *user, int level, const char *m)
{
    (void)user;
    (void)level;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", m);
    pthread_mutex_unlock(&log_mu);
}

struct worker {
    int failures;
    char err[512];
};

/* One context per thread: load fx-conc, open a key, sign ROUNDS digests. */
static void *work(void *arg)
{
    struct worker *w = arg;
    struct msig_ctx *ctx = NULL;
    struct msig_key *key = NULL;
    char spec[4400];
    uint8_t digest[32], sig[128];
    size_t len = 0;
    memset(digest, 0x5a, sizeof(digest));
    snprintf(spec, sizeof(spec), "fx-conc:%s/p256-private-trad.pem", keydir);
    if (msig_ctx_new(&ctx) != 0 || msig_ctx_enable_plugins(ctx, "/nonexistent") != 0 ||
        msig_ctx_load_plugin(ctx, plugin_path) != 0)
        goto fail;
    msig_ctx_set_log(ctx, log_cb, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        if (msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key) != 0)
            goto fail;
        if (msig_key_sign_digest(key, MSIG_SIG_ECDSA_SHA256, digest, 32, MSIG_SIGOUT_RAW, sig,
                                 sizeof(sig), &len) != 0 ||
            len != 64)
            goto fail;
        msig_key_close(key);
        key = NULL;
    }
    msig_ctx_free(ctx);
    return NULL;
fail:
    w->failures++;
    snprintf(w->err, sizeof(w->err), "%s", ctx ? msig_ctx_last_error(ctx) : "no context");
    msig_key_close(key);
    msig_ctx_free(ctx);
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    struct worker w[THREADS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, &w[i]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        failures += w[i].failures;
        if (w[i].failures)
            diag("thread %d: %s", i, w[i].err);
    }
    is_int(failures, 0,
           "/threads/%d contexts in %d threads sign with a non-thread-safe plugin, "
           "never entered twice at once",
           THREADS, THREADS);
    ok(strstr(logbuf, "concurrent entry detected") == NULL, "/threads/no concurrent entry");
}

/* Two contexts at once share one instance of the plugin file. */
static void test_shared_instance(void)
{
    struct msig_ctx *a = NULL, *b = NULL;
    struct msig_key *ka = NULL, *kb = NULL;
    char spec[4400];
    logbuf[0] = '\0';
    snprintf(spec, sizeof(spec), "fx-conc:%s/rsa2048-private-trad.pem", keydir);
    ok(msig_ctx_new(&a) == 0 && msig_ctx_new(&b) == 0, "/shared/two contexts");
    msig_ctx_set_log(a, log_cb, NULL);
    msig_ctx_set_log(b, log_cb, NULL);
    ok(msig_ctx_enable_plugins(a, "/nonexistent") == 0 &&
           msig_ctx_enable_plugins(b, "/nonexistent") == 0 &&
           msig_ctx_load_plugin(a, plugin_path) == 0 && msig_ctx_load_plugin(b, plugin_path) == 0,
       "/shared/both load the plugin");
    ok(msig_key_open(a, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &ka) == 0 &&
           msig_key_open(b, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &kb) == 0,
       "/shared/keys open");
    const char *first = strstr(logbuf, "instance created");
    ok(first != NULL && strstr(first + 1, "instance created") == NULL,
       "/shared/one instance_new for both contexts");
    msig_ctx_free(a); /* b's key still uses the instance */
    uint8_t digest[32] = { 1 }, sig[512];
    size_t len = 0;
    is_int(msig_key_sign_digest(kb, MSIG_SIG_RSA_PKCS1_SHA256, digest, 32, MSIG_SIGOUT_RAW, sig,
                                sizeof(sig), &len),
           0, "/shared/the other context still signs");
    is_int((long long)len, 256, "/shared/RSA-2048 signature length");
    msig_key_close(ka); /* after its context: the key holds the plugin */
    msig_key_close(kb);
    msig_ctx_free(b);
}

static EVP_PKEY *read_pub(const char *name)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", keydir, name);
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return k;
}

static int verify_digest(EVP_PKEY *pub, const uint8_t *digest, const uint8_t *sig, size_t len)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pub, NULL);
    int ok_ = pc && EVP_PKEY_verify_init(pc) == 1 &&
              EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
              EVP_PKEY_verify(pc, sig, len, digest, 32) == 1;
    EVP_PKEY_CTX_free(pc);
    return ok_;
}

static void test_key_api(void)
{
    struct msig_ctx *ctx = NULL;
    struct msig_key *key = NULL;
    char spec[4400];
    uint8_t digest[32], sig[512], der[1024];
    size_t len = 0, dlen = 0;
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)i;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new");
    snprintf(spec, sizeof(spec), "%s/p256-private-trad.pem", keydir);
    is_int(msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key), 0, "/api/open P-256");
    is_int(msig_key_public_der(key, NULL, 0, &dlen), 0, "/api/public DER size");
    is_int(msig_key_public_der(key, der, 10, &len), MSIG_E_BUFFER_TOO_SMALL,
           "/api/public DER buffer too small");
    is_int((long long)len, (long long)dlen, "/api/public DER size said when too small");
    is_int(msig_key_public_der(key, der, sizeof(der), &len), 0, "/api/public DER");
    EVP_PKEY *pub = read_pub("p256-public.pem");
    uint8_t want[1024], *q = want;
    int wn = pub ? i2d_PUBKEY(pub, &q) : -1;
    ok(wn > 0 && (size_t)wn == len && memcmp(want, der, len) == 0,
       "/api/public DER is the key's SubjectPublicKeyInfo");

    is_int(msig_key_sign_digest(key, MSIG_SIG_ECDSA_SHA256, digest, 32, MSIG_SIGOUT_RAW, sig,
                                sizeof(sig), &len),
           0, "/api/sign raw");
    is_int((long long)len, 64, "/api/raw r||s is 64 bytes");
    is_int(msig_key_sign_digest(key, MSIG_SIG_ECDSA_SHA256, digest, 32, MSIG_SIGOUT_DER, sig,
                                sizeof(sig), &len),
           0, "/api/sign DER");
    ok(pub && len >= 8 && len <= 72 && sig[0] == 0x30 && verify_digest(pub, digest, sig, len),
       "/api/DER signature verifies with OpenSSL (%zu bytes)", len);
    is_int(
        msig_key_sign_digest(key, MSIG_SIG_ECDSA_SHA256, digest, 32, MSIG_SIGOUT_DER, sig, 4, &len),
        MSIG_E_BUFFER_TOO_SMALL, "/api/sign buffer too small");
    ok(len >= 8 && len <= 72, "/api/size needed is said (%zu)", len);
    is_int(msig_key_sign_digest(key, MSIG_SIG_RSA_PKCS1_SHA256, digest, 32, MSIG_SIGOUT_RAW, sig,
                                sizeof(sig), &len),
           MSIG_E_UNSUPPORTED, "/api/wrong scheme");
    like(msig_ctx_last_error(ctx), "does not fit this EC P-256 key", "/api/wrong scheme message");
    is_int(msig_key_sign_digest(key, MSIG_SIG_ECDSA_SHA256, digest, 20, MSIG_SIGOUT_RAW, sig,
                                sizeof(sig), &len),
           MSIG_E_INVALID, "/api/short digest");
    like(msig_ctx_last_error(ctx), "32 bytes is needed (got 20 bytes)",
         "/api/short digest message");
    EVP_PKEY_free(pub);
    msig_key_close(key);
    key = NULL;

    snprintf(spec, sizeof(spec), "%s/rsa3072-private-trad.pem", keydir);
    is_int(msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key), 0, "/api/open RSA-3072");
    is_int(msig_key_sign_digest(key, MSIG_SIG_RSA_PKCS1_SHA256, digest, 32, MSIG_SIGOUT_DER, sig,
                                sizeof(sig), &len),
           0, "/api/sign RSA");
    pub = read_pub("rsa3072-public.pem");
    ok(len == 384 && pub && verify_digest(pub, digest, sig, len),
       "/api/RSA PKCS#1 v1.5 signature verifies with OpenSSL");
    EVP_PKEY_free(pub);
    msig_key_close(key);
    msig_ctx_free(ctx);
}

/* msig_ctx_set_threads: 0 means the CPUs of the affinity mask; out-of-range values are
 * refused with the value and the range, and leave the setting alone. */
static void test_thread_count(void)
{
    struct msig_ctx *ctx = NULL;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    ok(msig_ctx_threads(ctx) == cpus,
       "default thread count is the affinity mask's %d CPUs (got %d)", cpus, msig_ctx_threads(ctx));
    ok(msig_ctx_set_threads(ctx, 3) == 0 && msig_ctx_threads(ctx) == 3, "set 3 threads");
    ok(msig_ctx_set_threads(ctx, -1) == MSIG_E_INVALID, "-1 threads refused");
    ok(strcmp(msig_ctx_last_error(ctx), "thread count -1 is out of range (0 to 256)") == 0,
       "message names the value and range: %s", msig_ctx_last_error(ctx));
    ok(msig_ctx_set_threads(ctx, MSIG_THREADS_MAX + 1) == MSIG_E_INVALID &&
           msig_ctx_threads(ctx) == 3,
       "257 threads refused, setting unchanged");
    ok(msig_ctx_set_threads(ctx, 0) == 0 && msig_ctx_threads(ctx) == cpus,
       "0 goes back to all CPUs");
    ok(msig_ctx_set_threads(NULL, 1) == MSIG_E_INVALID, "NULL context refused");
    msig_ctx_free(ctx);
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
    snprintf(plugin_path, sizeof(plugin_path), "%s/msig-fx-conc.so", tmpd);
    snprintf(cmd, sizeof(cmd), "cp '%s'/tests/fixtures/msig-fx-conc.so '%s' && chmod 0755 '%s'",
             build, plugin_path, plugin_path);
    if (system(cmd) != 0)
        bail("cannot copy the fixture plugin: %s", cmd);
    test_thread_count();
    test_threads();
    test_shared_instance();
    test_key_api();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpd);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpd);
    return done_testing();
}
