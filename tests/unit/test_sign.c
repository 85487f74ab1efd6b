/* test_sign.c -- signing with the file plugin (every interop key, trad and PKCS#8, encrypted
 * keys), key refusals, public key sets, verification messages, and the signatures that
 * mender-artifact 3.9.0 wrote into the interop corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "signer.h"
#include "sigfmt.h"
#include "tap.h"

/* Setup steps whose failure makes the rest meaningless. */
#define MUST(x)                                                  \
    do {                                                         \
        if ((x) != 0)                                            \
            bail("%s failed: %s", #x, msig_ctx_last_error(ctx)); \
    } while (0)

static const char *interop;
static char keydir[4096];
static char tmpd[] = "/tmp/msig-test-sign-XXXXXX";

static const uint8_t msg[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  version\n";

static const char *kpath(const char *name)
{
    static char buf[8][4200];
    static int slot;
    char *b = buf[slot++ % 8];
    snprintf(b, sizeof(buf[0]), "%s/%s", keydir, name);
    return b;
}

static const char *tpath(const char *name)
{
    static char buf[8][4200];
    static int slot;
    char *b = buf[slot++ % 8];
    snprintf(b, sizeof(buf[0]), "%s/%s", tmpd, name);
    return b;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        diag("command failed (%d): %s", rc, cmd);
    return rc;
}

/* Reads a whole command output (tar -xOf ...) into a malloc'd buffer. */
static uint8_t *slurp_cmd(const char *cmd, size_t *len)
{
    FILE *p = popen(cmd, "r");
    uint8_t *buf = malloc(1 << 20);
    *len = 0;
    if (!p || !buf) {
        if (p)
            pclose(p);
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, 1 << 20, p);
    if (pclose(p) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void sign_and_verify(struct msig_ctx *ctx, const char *priv, const char *pub,
                            size_t want_b64, uint32_t want_type, uint32_t want_bits)
{
    struct msig_key *key = NULL;
    struct msig_pubkeys *keys = NULL;
    char *b64 = NULL;
    size_t b64_len = 0;
    int which = -1;
    char spec[4300];
    snprintf(spec, sizeof(spec), "file:%s", kpath(priv));

    int rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
    if (!is_int(rc, 0, "/sign/%s/open", priv))
        diag("%s", msig_ctx_last_error(ctx));
    if (rc != 0)
        return;
    uint32_t type = 0, bits = 0;
    is_int(msig_key_describe(key, &type, &bits), 0, "/sign/%s/describe", priv);
    ok(type == want_type && bits == want_bits, "/sign/%s/type %u bits %u", priv, type, bits);
    rc = msigi_sign_manifest(ctx, key, msg, sizeof(msg) - 1, &b64, &b64_len);
    if (!is_int(rc, 0, "/sign/%s/sign", priv))
        diag("%s", msig_ctx_last_error(ctx));
    is_int((long long)b64_len, (long long)want_b64, "/sign/%s/base64 length", priv);
    ok(b64 && strlen(b64) == b64_len && !strchr(b64, '\n'), "/sign/%s/one line", priv);
    if (msig_pubkeys_new(ctx, &keys) == 0 && msig_pubkeys_add_file(keys, kpath(pub)) == 0 && b64) {
        rc =
            msigi_verify_manifest(ctx, keys, msg, sizeof(msg) - 1, (uint8_t *)b64, b64_len, &which);
        ok(rc == 0 && which == 0, "/sign/%s/verifies with %s", priv, pub);
        rc =
            msigi_verify_manifest(ctx, keys, msg, sizeof(msg) - 2, (uint8_t *)b64, b64_len, &which);
        ok(rc == MSIG_E_SIGNATURE, "/sign/%s/other message fails", priv);
    } else {
        ok(0, "/sign/%s/pubkey %s: %s", priv, pub, msig_ctx_last_error(ctx));
        ok(0, "/sign/%s/other message fails", priv);
    }
    msig_pubkeys_free(keys);
    msigi_free(b64);
    msig_key_close(key);
}

static void refuse(struct msig_ctx *ctx, const char *spec, int want_rc, const char *want_msg,
                   const char *name)
{
    struct msig_key *key = NULL;
    int rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
    is_int(rc, want_rc, "/refuse/%s/code", name);
    like(msig_ctx_last_error(ctx), want_msg, "/refuse/%s/message", name);
    ok(key == NULL, "/refuse/%s/no key", name);
    msig_key_close(key);
}

static void test_keys(struct msig_ctx *ctx)
{
    static const struct {
        const char *base, *pub;
        size_t b64;
        uint32_t type, bits;
    } k[] = {
        { "rsa2048", "rsa2048-public.pem", 344, MSIG_KEY_RSA, 2048 },
        { "rsa3072", "rsa3072-public.pem", 512, MSIG_KEY_RSA, 3072 },
        { "rsa3072-b", "rsa3072-b-public.pem", 512, MSIG_KEY_RSA, 3072 },
        { "rsa4096", "rsa4096-public.pem", 684, MSIG_KEY_RSA, 4096 },
        { "p256", "p256-public.pem", 88, MSIG_KEY_EC_P256, 256 },
        { "p256-b", "p256-b-public.pem", 88, MSIG_KEY_EC_P256, 256 },
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        char n[64];
        snprintf(n, sizeof(n), "%s-private-trad.pem", k[i].base);
        sign_and_verify(ctx, n, k[i].pub, k[i].b64, k[i].type, k[i].bits);
        snprintf(n, sizeof(n), "%s-private-pkcs8.pem", k[i].base);
        sign_and_verify(ctx, n, k[i].pub, k[i].b64, k[i].type, k[i].bits);
    }
    /* A spec without a known scheme is a file path (-k FILE). */
    struct msig_key *key = NULL;
    is_int(msig_key_open(ctx, kpath("p256-private-trad.pem"), 0, &key), 0,
           "/keys/bare path opens with the file plugin");
    msig_key_close(key);
    key = NULL;

    char spec[4300];
    snprintf(spec, sizeof(spec), "file:%s", kpath("p384-private-trad.pem"));
    refuse(ctx, spec, MSIG_E_KEY, "EC key on curve secp384r1 refused", "p384 trad");
    snprintf(spec, sizeof(spec), "file:%s", kpath("p384-private-pkcs8.pem"));
    refuse(ctx, spec, MSIG_E_KEY, "secp384r1", "p384 pkcs8");
    snprintf(spec, sizeof(spec), "file:%s", kpath("ed25519-private-pkcs8.pem"));
    refuse(ctx, spec, MSIG_E_KEY, "ED25519 keys are not supported", "ed25519");
    snprintf(spec, sizeof(spec), "file:%s", kpath("rsa3072-public.pem"));
    refuse(ctx, spec, MSIG_E_KEY,
           "rsa3072-public.pem (plugin file): the file holds a public key; signing needs the "
           "private key",
           "public key as private");
    snprintf(spec, sizeof(spec), "file:%s", kpath("key-support.tsv"));
    refuse(ctx, spec, MSIG_E_KEY, "is not a private key", "not a key");
    refuse(ctx, "file:/nonexistent/key.pem", MSIG_E_IO,
           "key file:/nonexistent/key.pem (plugin file): cannot open the key file: No such file or "
           "directory",
           "missing");
    is_int(msig_key_open(ctx, "file:/x", 0x100, &key), MSIG_E_UNSUPPORTED,
           "/keys/unknown flag refused");

    if (run("openssl genrsa -traditional -out /dev/stdout 1024 2>/dev/null > $T/rsa1024.pem") ==
        0) {
        snprintf(spec, sizeof(spec), "file:%s", tpath("rsa1024.pem"));
        refuse(ctx, spec, MSIG_E_KEY, "RSA key of 1024 bits refused: at least 2048", "rsa1024");
    } else {
        ok(0, "/refuse/rsa1024/openssl genrsa");
    }
    /* DER private keys (PKCS#8 and PKCS#1). */
    run("openssl pkey -in \"$K/rsa2048-private-pkcs8.pem\" -outform DER -out $T/rsa2048.der");
    run("openssl rsa -in \"$K/rsa2048-private-trad.pem\" -traditional -outform DER "
        "-out $T/rsa2048-pkcs1.der 2>/dev/null");
    run("openssl ec -in \"$K/p256-private-trad.pem\" -outform DER -out $T/p256-sec1.der "
        "2>/dev/null");
    static const char *ders[] = { "rsa2048.der", "rsa2048-pkcs1.der", "p256-sec1.der" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(spec, sizeof(spec), "file:%s", tpath(ders[i]));
        int rc = msig_key_open(ctx, spec, 0, &key);
        if (!is_int(rc, 0, "/keys/DER %s opens", ders[i]))
            diag("%s", msig_ctx_last_error(ctx));
        msig_key_close(key);
        key = NULL;
    }
}

static int pin_cb(void *user, const struct msig_pin_request *req, char *buf, size_t cap,
                  size_t *len)
{
    int *calls = user;
    (*calls)++;
    if (!req || !req->key_spec || cap < 8)
        return MSIG_E_INVALID;
    if (req->flags & MSIG_PIN_F_NO_PROMPT)
        return MSIG_E_PIN_REQUIRED; /* batch mode: this callback has no silent source */
    memcpy(buf, "s3cret!", 7);
    *len = 7;
    return 0;
}

static void test_encrypted(struct msig_ctx *ctx)
{
    int r1 = run("openssl pkey -in \"$K/p256-private-pkcs8.pem\" -aes256 -passout pass:s3cret! "
                 "-out $T/enc-pkcs8.pem");
    int r2 = run("openssl rsa -in \"$K/rsa2048-private-trad.pem\" -traditional -aes128 "
                 "-passout pass:s3cret! -out $T/enc-trad.pem 2>/dev/null");
    int r3 = run("openssl pkcs8 -topk8 -in \"$K/rsa2048-private-pkcs8.pem\" -v2 aes-256-cbc "
                 "-passout pass:s3cret! -outform DER -out $T/enc-pkcs8.der");
    ok(r1 == 0 && r2 == 0 && r3 == 0, "/enc/made encrypted keys with openssl");
    static const char *files[] = { "enc-pkcs8.pem", "enc-trad.pem", "enc-pkcs8.der" };
    for (size_t i = 0; i < 3; i++) {
        struct msig_key *key = NULL;
        char spec[4300];
        snprintf(spec, sizeof(spec), "file:%s", tpath(files[i]));
        int rc;

        is_int(msig_ctx_set_param(ctx, "file.passphrase", NULL), 0, "/enc/unset");
        rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
        is_int(rc, MSIG_E_PIN_REQUIRED, "/enc/%s/no passphrase, batch", files[i]);
        like(msig_ctx_last_error(ctx), "the key file is encrypted and no passphrase was given",
             "/enc/%s/no passphrase message", files[i]);

        is_int(msig_ctx_set_param(ctx, "file.passphrase", "wrong"), 0, "/enc/set wrong");
        rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
        is_int(rc, MSIG_E_PIN_INCORRECT, "/enc/%s/wrong passphrase", files[i]);
        like(msig_ctx_last_error(ctx), "wrong passphrase for the encrypted key file",
             "/enc/%s/wrong message", files[i]);
        ok(key == NULL, "/enc/%s/no key on failure", files[i]);

        is_int(msig_ctx_set_param(ctx, "file.passphrase", "s3cret!"), 0, "/enc/set right");
        rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
        if (!is_int(rc, 0, "/enc/%s/right passphrase opens", files[i]))
            diag("%s", msig_ctx_last_error(ctx));
        msig_key_close(key);
        key = NULL;

        /* Without the parameter, the PIN prompt supplies it (unless NO_PROMPT). */
        is_int(msig_ctx_set_param(ctx, "file.passphrase", NULL), 0, "/enc/unset");
        int calls = 0;
        msig_ctx_set_pin_callback(ctx, pin_cb, &calls);
        rc = msig_key_open(ctx, spec, 0, &key);
        ok(rc == 0 && calls >= 1, "/enc/%s/prompt gives the passphrase (%d calls)", files[i],
           calls);
        msig_key_close(key);
        key = NULL;
        calls = 0;
        rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);
        ok(rc == MSIG_E_PIN_REQUIRED && calls == 1,
           "/enc/%s/batch mode: the callback is told not to prompt (%d calls)", files[i], calls);
        msig_ctx_set_pin_callback(ctx, NULL, NULL);
    }
}

static void test_pubkeys(struct msig_ctx *ctx)
{
    struct msig_pubkeys *keys = NULL;
    if (msig_pubkeys_new(ctx, &keys) != 0)
        bail("msig_pubkeys_new: %s", msig_ctx_last_error(ctx));
    is_int(msig_pubkeys_add_file(keys, kpath("rsa3072-public-pkcs1.pem")), 0,
           "/pubkeys/PKCS#1 RSA PUBLIC KEY accepted");
    is_int(msig_pubkeys_add_file(keys, kpath("rsa3072-private-trad.pem")), MSIG_E_KEY,
           "/pubkeys/private key refused");
    like(msig_ctx_last_error(ctx), "rsa3072-private-trad.pem: this is a private key",
         "/pubkeys/private key message");
    is_int(msig_pubkeys_add_file(keys, kpath("ed25519-public.pem")), MSIG_E_KEY,
           "/pubkeys/ed25519 refused");
    like(msig_ctx_last_error(ctx), "ed25519-public.pem: ED25519 keys are not supported",
         "/pubkeys/ed25519 message");
    is_int(msig_pubkeys_add_file(keys, kpath("key-support.tsv")), MSIG_E_KEY,
           "/pubkeys/garbage refused");
    like(msig_ctx_last_error(ctx), "key-support.tsv: not a public key", "/pubkeys/garbage message");
    is_int(msig_pubkeys_add_file(keys, kpath("no-such.pem")), MSIG_E_IO,
           "/pubkeys/missing file refused");
    like(msig_ctx_last_error(ctx), "no-such.pem: No such file or directory",
         "/pubkeys/missing message");
    run("openssl pkey -pubin -in \"$K/p256-public.pem\" -outform DER -out $T/p256-pub.der");
    is_int(msig_pubkeys_add_file(keys, tpath("p256-pub.der")), 0, "/pubkeys/DER SPKI accepted");
    is_int((long long)msig_pubkeys_count(keys), 2, "/pubkeys/count 2");
    msig_pubkeys_free(keys);
}

static void test_order_and_messages(struct msig_ctx *ctx)
{
    struct msig_key *key = NULL;
    struct msig_pubkeys *keys = NULL;
    char *b64 = NULL;
    size_t b64_len = 0;
    int which = -1;

    if (msig_key_open(ctx, kpath("rsa3072-private-trad.pem"), 0, &key) != 0 ||
        msigi_sign_manifest(ctx, key, msg, sizeof(msg) - 1, &b64, &b64_len) != 0)
        bail("signing: %s", msig_ctx_last_error(ctx));
    MUST(msig_pubkeys_new(ctx, &keys));
    MUST(msig_pubkeys_add_file(keys, kpath("rsa3072-b-public.pem")));
    MUST(msig_pubkeys_add_file(keys, kpath("p256-public.pem")));
    int rc =
        msigi_verify_manifest(ctx, keys, msg, sizeof(msg) - 1, (uint8_t *)b64, b64_len, &which);
    is_int(rc, MSIG_E_SIGNATURE, "/verify/wrong keys fail");
    like(msig_ctx_last_error(ctx),
         "signature verification failed: key 1 (rsa3072-b-public.pem, RSA 3072): "
         "verification error; key 2 (p256-public.pem, EC P-256): signature is 384 bytes, "
         "neither 64-byte r||s nor DER ECDSA for P-256",
         "/verify/wrong keys message lists each key");
    is_int(which, -1, "/verify/which stays -1");
    MUST(msig_pubkeys_add_file(keys, kpath("rsa3072-public.pem")));
    MUST(msig_pubkeys_add_key(keys, key));
    rc = msigi_verify_manifest(ctx, keys, msg, sizeof(msg) - 1, (uint8_t *)b64, b64_len, &which);
    ok(rc == 0 && which == 2, "/verify/first matching key wins (which=%d)", which);

    /* 383 bytes for RSA-3072. */
    uint8_t *raw = NULL;
    size_t raw_len = 0, bad = 0;
    char *short_b64 = NULL;
    size_t short_len = 0;
    (void)msigi_sigfmt_b64_decode((uint8_t *)b64, b64_len, &raw, &raw_len, &bad);
    (void)msigi_sigfmt_b64_encode(raw, raw_len - 1, &short_b64, &short_len);
    struct msig_pubkeys *one = NULL;
    MUST(msig_pubkeys_new(ctx, &one));
    MUST(msig_pubkeys_add_file(one, kpath("rsa3072-public.pem")));
    rc = msigi_verify_manifest(ctx, one, msg, sizeof(msg) - 1, (uint8_t *)short_b64, short_len,
                               &which);
    is_int(rc, MSIG_E_SIGNATURE, "/verify/short RSA signature fails");
    like(msig_ctx_last_error(ctx), "signature is 383 bytes, RSA-3072 needs 384",
         "/verify/short RSA message");
    char spaced[700];
    snprintf(spaced, sizeof(spaced), "%s x", b64);
    rc = msigi_verify_manifest(ctx, one, msg, sizeof(msg) - 1, (uint8_t *)spaced, strlen(spaced),
                               &which);
    is_int(rc, MSIG_E_SIGNATURE, "/verify/base64 junk fails");
    is_str(msig_ctx_last_error(ctx),
           "error decoding signature: illegal base64 data at input byte 512",
           "/verify/base64 junk message");
    struct msig_pubkeys *none = NULL;
    MUST(msig_pubkeys_new(ctx, &none));
    is_int(msigi_verify_manifest(ctx, none, msg, sizeof(msg) - 1, (uint8_t *)b64, b64_len, &which),
           MSIG_E_NO_VERIFIER, "/verify/empty key set");
    msig_pubkeys_free(none);
    msig_pubkeys_free(one);
    msigi_free(raw);
    msigi_free(short_b64);
    msig_pubkeys_free(keys);
    msigi_free(b64);
    msig_key_close(key);
}

static void corpus(struct msig_ctx *ctx, const char *artifact, const char *pub, const char *wrong)
{
    char cmd[4400];
    size_t mlen = 0, slen = 0;
    snprintf(cmd, sizeof(cmd), "tar -xOf '%s/%s' manifest", interop, artifact);
    uint8_t *m = slurp_cmd(cmd, &mlen);
    snprintf(cmd, sizeof(cmd), "tar -xOf '%s/%s' manifest.sig", interop, artifact);
    uint8_t *s = slurp_cmd(cmd, &slen);
    struct msig_pubkeys *keys = NULL;
    int which = -1;
    if (!ok(m && s, "/corpus/%s/extracted", artifact)) {
        ok(0, "/corpus/%s/verifies", artifact);
        ok(0, "/corpus/%s/wrong key fails", artifact);
        goto out;
    }
    MUST(msig_pubkeys_new(ctx, &keys));
    MUST(msig_pubkeys_add_file(keys, kpath(pub)));
    int rc = msigi_verify_manifest(ctx, keys, m, mlen, s, slen, &which);
    if (!ok(rc == 0 && which == 0, "/corpus/%s/verifies with %s", artifact, pub))
        diag("%s", msig_ctx_last_error(ctx));
    msig_pubkeys_free(keys);
    keys = NULL;
    MUST(msig_pubkeys_new(ctx, &keys));
    MUST(msig_pubkeys_add_file(keys, kpath(wrong)));
    rc = msigi_verify_manifest(ctx, keys, m, mlen, s, slen, &which);
    ok(rc == MSIG_E_SIGNATURE, "/corpus/%s/fails with %s", artifact, wrong);
out:
    msig_pubkeys_free(keys);
    free(m);
    free(s);
}

int main(void)
{
    interop = getenv("MSIG_INTEROP");
    if (!interop || access(interop, R_OK) != 0) {
        plan(1);
        ok(0, "MSIG_INTEROP is set and readable (got %s)", interop ? interop : "(unset)");
        return exit_status();
    }
    snprintf(keydir, sizeof(keydir), "%s/keys", interop);
    if (!mkdtemp(tmpd))
        bail("mkdtemp failed");
    setenv("T", tmpd, 1);
    setenv("K", keydir, 1);

    struct msig_ctx *ctx = NULL;
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    test_keys(ctx);
    test_encrypted(ctx);
    test_pubkeys(ctx);
    test_order_and_messages(ctx);
    corpus(ctx, "rootfs-p256-gzip.mender", "p256-public.pem", "p256-b-public.pem");
    corpus(ctx, "rootfs-rsa3072-gzip.mender", "rsa3072-public.pem", "rsa3072-b-public.pem");
    corpus(ctx, "rootfs-rsa2048-gzip.mender", "rsa2048-public.pem", "rsa3072-public.pem");
    corpus(ctx, "rootfs-rsa4096-gzip.mender", "rsa4096-public.pem", "rsa3072-public.pem");
    corpus(ctx, "edge-sig-der-p256.mender", "p256-public.pem", "p256-b-public.pem");
    corpus(ctx, "edge-sig-newline-rsa3072.mender", "rsa3072-public.pem", "rsa2048-public.pem");
    msig_ctx_free(ctx);

    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpd);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpd);
    return done_testing();
}
