/* test_msigu.c -- the shared plugin helpers (plugins/util: msigu_base, msigu_evp) against a
 * recording host: messages and codes of every error path, parameters, secrets (order,
 * pin-source files, wiped before they are freed), base64, public keys in every form, the
 * Mender key policy and EVP signing (signatures checked with OpenSSL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "evpsign.h"
#include "plugin_util.h"
#include "pubkey.h"
#include "secret.h"
#include "tap.h"

/* ------------------------------------------------------------------ the recording host */

static struct {
    char err[1024];
    int err_code;
    int errors;
    char log[1024];
    int log_level;
    const char *const *params; /* name, value, name, value, ..., NULL */
    int pin_rc;                /* what get_pin returns */
    const char *pin;           /* what it answers */
    struct msig_pin_request last_req;
    int pin_calls;
    long live_bytes; /* allocated minus freed */
    int dirty_frees; /* secrets freed with bytes not wiped */
    int check_wiped; /* expect wiped buffers in mem_free */
} H;

static void t_log(void *d, int level, const char *msg)
{
    (void)d;
    H.log_level = level;
    snprintf(H.log, sizeof(H.log), "%s", msg);
}

static void t_err(void *d, int code, const char *msg)
{
    (void)d;
    H.err_code = code;
    H.errors++;
    snprintf(H.err, sizeof(H.err), "%s", msg);
}

static void *t_alloc(void *d, size_t len)
{
    (void)d;
    H.live_bytes += (long)len;
    return len ? malloc(len) : NULL;
}

static void t_free(void *d, void *p, size_t len)
{
    const unsigned char *b = p;

    (void)d;
    if (p == NULL)
        return;
    for (size_t i = 0; H.check_wiped && i < len; i++)
        if (b[i] != 0) {
            H.dirty_frees++;
            break;
        }
    H.live_bytes -= (long)len;
    free(p);
}

static int t_param(void *d, const char *k, const char **v)
{
    (void)d;
    *v = NULL;
    for (size_t i = 0; H.params != NULL && H.params[i] != NULL; i += 2)
        if (strcmp(H.params[i], k) == 0) {
            *v = H.params[i + 1];
            return 0;
        }
    return MSIG_E_NOT_FOUND;
}

static int t_pin(void *d, const struct msig_pin_request *req, char *pin, size_t cap, size_t *len)
{
    (void)d;
    H.pin_calls++;
    H.last_req = *req;
    if (H.pin_rc != 0)
        return H.pin_rc;
    *len = strlen(H.pin);
    memcpy(pin, H.pin, *len + 1 <= cap ? *len + 1 : 0);
    return 0;
}

static const struct msig_host host = { sizeof(struct msig_host),
                                       MSIG_PLUGIN_ABI_MAJOR,
                                       MSIG_PLUGIN_ABI_MINOR,
                                       NULL,
                                       t_log,
                                       t_err,
                                       t_alloc,
                                       t_free,
                                       t_param,
                                       t_pin };

static void reset(void)
{
    H.err[0] = '\0';
    H.err_code = 0;
    H.errors = 0;
}

/* ------------------------------------------------------------------ msigu_base */

static void test_errors_and_log(void)
{
    reset();
    is_int(msigu_error(&host, MSIG_E_NOT_FOUND, "no key %s in slot %d", "k1", 3), MSIG_E_NOT_FOUND,
           "/error/returns-the-code");
    is_str(H.err, "no key k1 in slot 3", "/error/formats-the-message");
    is_int(H.err_code, MSIG_E_NOT_FOUND, "/error/passes-the-code");
    is_int(msigu_error(NULL, MSIG_E_IO, "x"), MSIG_E_IO, "/error/null-host");
    msigu_log(&host, MSIG_LOG_WARN, "token %s is low on tries (%u left)", "t", 2u);
    is_str(H.log, "token t is low on tries (2 left)", "/log/formats");
    is_int(H.log_level, MSIG_LOG_WARN, "/log/level");
}

static void test_params(void)
{
    static const char *const p[] = {
        "x.n",   "42",  "x.bad",   "4x2",   "x.neg",  "-1",
        "x.big", "999", "x.empty", "",      "x.yes",  "Yes",
        "x.off", "off", "x.maybe", "maybe", "x.huge", "99999999999999999999999",
        NULL
    };
    const char *v = (const char *)1;
    uint64_t n = 0;
    int b = -1;

    H.params = p;
    is_int(msigu_param(&host, "x.n", &v), 0, "/param/set");
    is_str(v, "42", "/param/value");
    is_int(msigu_param(&host, "x.none", &v), MSIG_E_NOT_FOUND, "/param/unset");
    ok(v == NULL, "/param/unset-value-null");
    is_int(msigu_param(&host, "x.empty", &v), MSIG_E_NOT_FOUND, "/param/empty-is-unset");

    is_int(msigu_param_uint(&host, "x.n", 1, 100, 7, &n), 0, "/param-uint/ok");
    is_int((long long)n, 42, "/param-uint/value");
    is_int(msigu_param_uint(&host, "x.none", 1, 100, 7, &n), 0, "/param-uint/unset");
    is_int((long long)n, 7, "/param-uint/default");
    is_int(msigu_param_uint(&host, "x.empty", 1, 100, 8, &n), 0, "/param-uint/empty");
    is_int((long long)n, 8, "/param-uint/empty-default");
    reset();
    is_int(msigu_param_uint(&host, "x.bad", 1, 100, 7, &n), MSIG_E_INVALID, "/param-uint/junk");
    is_str(H.err, "parameter x.bad: '4x2' is not a whole number from 1 to 100",
           "/param-uint/junk-message");
    is_int((long long)n, 7, "/param-uint/junk-keeps-default");
    is_int(msigu_param_uint(&host, "x.neg", 0, 100, 7, &n), MSIG_E_INVALID, "/param-uint/neg");
    like(H.err, "'-1'", "/param-uint/neg-message");
    is_int(msigu_param_uint(&host, "x.big", 1, 100, 7, &n), MSIG_E_INVALID, "/param-uint/max");
    like(H.err, "'999' is not a whole number from 1 to 100", "/param-uint/max-message");
    is_int(msigu_param_uint(&host, "x.huge", 0, UINT64_MAX, 7, &n), MSIG_E_INVALID,
           "/param-uint/overflow");
    is_int(msigu_param_uint(&host, "x.n", 50, 100, 7, &n), MSIG_E_INVALID, "/param-uint/min");

    is_int(msigu_param_bool(&host, "x.yes", 0, &b), 0, "/param-bool/yes");
    is_int(b, 1, "/param-bool/yes-value");
    is_int(msigu_param_bool(&host, "x.off", 1, &b), 0, "/param-bool/off");
    is_int(b, 0, "/param-bool/off-value");
    is_int(msigu_param_bool(&host, "x.none", 1, &b), 0, "/param-bool/unset");
    is_int(b, 1, "/param-bool/default");
    reset();
    is_int(msigu_param_bool(&host, "x.maybe", 0, &b), MSIG_E_INVALID, "/param-bool/junk");
    like(H.err, "parameter x.maybe: 'maybe' is not a boolean", "/param-bool/junk-message");
    H.params = NULL;
}

static void test_memory_and_spec(void)
{
    long before = H.live_bytes;
    char *s = msigu_strdup(&host, "token-label");
    unsigned char *z = msigu_zalloc(&host, 64);
    int zero = 1;

    is_str(s, "token-label", "/strdup/copy");
    for (int i = 0; z != NULL && i < 64; i++)
        zero &= z[i] == 0;
    ok(z != NULL && zero, "/zalloc/zeroed");
    msigu_strfree(&host, s);
    msigu_free(&host, z, 64);
    msigu_strfree(&host, NULL);
    msigu_free(&host, NULL, 0);
    is_int(H.live_bytes, before, "/memory/balanced");
    is_str(msigu_spec_rest("vault:release", "vault"), "release", "/spec-rest/match");
    ok(msigu_spec_rest("vaultx:release", "vault") == NULL, "/spec-rest/longer-scheme");
    ok(msigu_spec_rest("vault", "vault") == NULL, "/spec-rest/no-colon");
    is_str(msigu_spec_rest("vault:", "vault"), "", "/spec-rest/empty-rest");
}

/* ------------------------------------------------------------------ secrets */

static char tmpdir[] = "/tmp/test_msigu.XXXXXX";

static const char *write_tmp(const char *name, const char *data, size_t len)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        bail("cannot write %s", path);
    return path;
}

static void secret_case(const char *value, const char *file, const char *want, const char *name)
{
    struct msigu_secret s;
    struct msig_pin_request req = { sizeof(req), MSIG_PIN_F_FINAL_TRY, 1, "pkcs11:token=t",
                                    "token t" };
    int rc = msigu_secret_get(&host, value, file, &req, 0, &s);

    is_int(rc, 0, "%s", name);
    is_str(rc == 0 ? s.buf : "(error)", want, "%s/value", name);
    is_int(rc == 0 ? (long long)s.len : -1, (long long)strlen(want), "%s/length", name);
    msigu_secret_wipe(&host, &s);
    ok(s.buf == NULL && s.len == 0, "%s/wiped", name);
}

static void test_secrets(void)
{
    char big[MSIGU_SECRET_MAX + 2], url[300];

    const char *p;
    struct msigu_secret s;
    struct msig_pin_request req = { sizeof(req), MSIG_PIN_F_FINAL_TRY, 1, "pkcs11:token=t",
                                    "token t" };
    long before = H.live_bytes;

    if (mkdtemp(tmpdir) == NULL)
        bail("mkdtemp failed");
    H.check_wiped = 1;
    H.pin = "from-host";
    H.pin_rc = 0;

    secret_case("1234", "/nonexistent", "1234", "/secret/value-wins-over-file");
    is_int(H.pin_calls, 0, "/secret/value-does-not-ask-the-host");
    p = write_tmp("pin1", "5678\n", 5);
    secret_case(NULL, p, "5678", "/secret/file-path-newline-stripped");
    snprintf(url, sizeof(url), "file:%s", write_tmp("pin2", "ab\r\n", 4));
    secret_case(NULL, url, "ab", "/secret/file-uri-crlf-stripped");
    snprintf(url, sizeof(url), "file://%s", write_tmp("pin3", "x\n\n", 3));
    secret_case(NULL, url, "x\n", "/secret/file-url-one-newline-only");
    secret_case(NULL, write_tmp("pin4", "cr\r", 3), "cr\r", "/secret/lone-cr-kept");
    secret_case(NULL, write_tmp("pin5", "", 0), "", "/secret/empty-file");
    memset(big, 'p', sizeof(big));
    big[MSIGU_SECRET_MAX] = '\0';
    p = write_tmp("pin6", (big[MSIGU_SECRET_MAX] = '\n', big), MSIGU_SECRET_MAX + 1);
    big[MSIGU_SECRET_MAX] = '\0';
    secret_case(NULL, p, big, "/secret/max-length");
    big[MSIGU_SECRET_MAX] = 'p';
    is_int(H.pin_calls, 0, "/secret/files-do-not-ask-the-host");

    reset();
    is_int(msigu_secret_get(&host, NULL, write_tmp("pin7", big, MSIGU_SECRET_MAX + 2), &req, 0, &s),
           MSIG_E_INVALID, "/secret/file-too-long");
    like(H.err, "is longer than 1024 bytes", "/secret/file-too-long-message");
    ok(strstr(H.err, "pppp") == NULL, "/secret/message-never-holds-the-content");
    ok(s.buf == NULL, "/secret/file-too-long-nothing-kept");
    reset();
    snprintf(url, sizeof(url), "%s/missing", tmpdir);
    is_int(msigu_secret_get(&host, NULL, url, &req, 0, &s), MSIG_E_NOT_FOUND,
           "/secret/missing-file");
    like(H.err, "cannot open the PIN file ", "/secret/missing-file-message");
    like(H.err, "/missing: No such file or directory", "/secret/missing-file-names-it");
    reset();
    is_int(msigu_secret_get(&host, NULL, tmpdir, &req, 0, &s), MSIG_E_IO, "/secret/directory");
    like(H.err, "cannot read the PIN file", "/secret/directory-message");
    reset();
    is_int(msigu_secret_set(&host, big, MSIGU_SECRET_MAX + 1, &s), MSIG_E_INVALID,
           "/secret/set-too-long");
    like(H.err, "a secret of 1025 bytes is longer than the 1024 bytes allowed",
         "/secret/set-too-long-message");

    /* The host's sources: the request passes through unchanged. */
    H.pin_calls = 0;
    secret_case(NULL, NULL, "from-host", "/secret/host");
    is_int(H.pin_calls, 1, "/secret/host-asked-once");
    is_int(H.last_req.tries_left, 1, "/secret/host-sees-tries-left");
    is_int(H.last_req.flags, MSIG_PIN_F_FINAL_TRY, "/secret/host-sees-final-try");
    is_str(H.last_req.label, "token t", "/secret/host-sees-label");
    H.pin_rc = MSIG_E_PIN_REQUIRED;
    is_int(msigu_secret_get(&host, NULL, NULL, &req, MSIG_KEY_OPEN_F_NO_PROMPT, &s),
           MSIG_E_PIN_REQUIRED, "/secret/host-has-none");
    ok(s.buf == NULL, "/secret/host-has-none-nothing-kept");
    H.pin_rc = MSIG_E_CANCELLED;
    is_int(msigu_secret_get(&host, NULL, NULL, &req, 0, &s), MSIG_E_CANCELLED,
           "/secret/host-cancelled");
    H.pin_rc = 0;

    is_int(H.dirty_frees, 0, "/secret/every-buffer-wiped-before-free");
    is_int(H.live_bytes, before, "/secret/no-leak");
    H.check_wiped = 0;
}

/* ------------------------------------------------------------------ base64 */

static void test_b64(void)
{
    uint8_t out[64];
    size_t n = 0;
    char *s = NULL;

    ok(msigu_b64_encode(&host, (const uint8_t *)"\xfb\xff\xfe", 3, &s) == 0, "/b64/std");
    is_str(s, "+//+", "/b64/std-value");
    msigu_strfree(&host, s);
    ok(msigu_b64url_encode(&host, (const uint8_t *)"\xfb\xff\xfe\x01", 4, &s) == 0, "/b64/url");
    is_str(s, "-__-AQ", "/b64/url-unpadded");
    msigu_strfree(&host, s);
    ok(msigu_b64_encode(&host, (const uint8_t *)"\x01", 1, &s) == 0, "/b64/std-one");
    is_str(s, "AQ==", "/b64/std-padded");
    msigu_strfree(&host, s);
    ok(msigu_b64url_encode(&host, (const uint8_t *)"", 0, &s) == 0 && s != NULL && !*s,
       "/b64/empty");
    msigu_strfree(&host, s);

    ok(msigu_b64_decode(&host, "-__-AQ", 6, out, sizeof(out), &n) == 0 && n == 4 &&
           memcmp(out, "\xfb\xff\xfe\x01", 4) == 0,
       "/unb64/url-unpadded");
    ok(msigu_b64_decode(&host, "+//+AQ==", 8, out, sizeof(out), &n) == 0 && n == 4,
       "/unb64/std-padded");
    ok(msigu_b64_decode(&host, "AQ", 2, out, sizeof(out), &n) == 0 && n == 1 && out[0] == 1,
       "/unb64/one-byte");
    ok(msigu_b64_decode(&host, "", 0, out, sizeof(out), &n) == 0 && n == 0, "/unb64/empty");
    reset();
    is_int(msigu_b64_decode(&host, "A", 1, out, sizeof(out), &n), MSIG_E_INVALID,
           "/unb64/refuses-bad-length");
    is_str(H.err, "not base64 or base64url (1 characters)", "/unb64/bad-message");
    is_int(msigu_b64_decode(&host, "AQ*=", 4, out, sizeof(out), &n), MSIG_E_INVALID,
           "/unb64/refuses-bad-character");
    is_int(msigu_b64_decode(&host, "AAAAAAAA", 8, out, 5, &n), MSIG_E_BUFFER_TOO_SMALL,
           "/unb64/refuses-short-buffer");
    is_str(H.err, "base64 data longer than the 5 bytes expected", "/unb64/short-message");
    is_int(msigu_b64_decode(&host, "AQ=A", 4, out, sizeof(out), &n), MSIG_E_INVALID,
           "/unb64/refuses-data-after-padding");
    is_int(msigu_b64_decode(&host, "AQ===", 5, out, sizeof(out), &n), MSIG_E_INVALID,
           "/unb64/refuses-three-pad-characters");
    is_int(msigu_b64_decode(&host, "AQ\n==", 5, out, sizeof(out), &n), MSIG_E_INVALID,
           "/unb64/refuses-newline");
    ok(n == 0, "/unb64/failure-zero-length");
}

/* ------------------------------------------------------------------ public keys */

static EVP_PKEY *gen(const char *type, const char *param)
{
    if (strcmp(type, "EC") == 0)
        return EVP_EC_gen(param);
    if (strcmp(type, "RSA") == 0)
        return EVP_RSA_gen((unsigned)atoi(param));
    if (strcmp(type, "RSA-PSS") == 0) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
        EVP_PKEY *k = NULL;

        if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
            EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) != 1 || EVP_PKEY_generate(c, &k) != 1)
            bail("cannot generate an RSA-PSS key");
        EVP_PKEY_CTX_free(c);
        return k;
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

static X509 *self_signed(EVP_PKEY *k)
{
    X509 *x = X509_new();

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"msig test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, k, EVP_sha256());
    return x;
}

static int same_key(EVP_PKEY *a, EVP_PKEY *b)
{
    return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

static void parse_case(EVP_PKEY *want, const void *data, size_t len, const char *name)
{
    EVP_PKEY *got = NULL;

    is_int(msigu_pubkey_parse(&host, data, len, "test key", &got), 0, "%s", name);
    ok(same_key(got, want), "%s/same-key", name);
    EVP_PKEY_free(got);
}

static void test_pubkey_parse(EVP_PKEY *ec)
{
    X509 *x = self_signed(ec);
    unsigned char *der = NULL;
    char *pem = NULL;
    long plen;
    int n;
    BIO *b = BIO_new(BIO_s_mem());
    EVP_PKEY *got = NULL;
    static char huge[64 * 1024 + 1];

    PEM_write_bio_PUBKEY(b, ec);
    plen = BIO_get_mem_data(b, &pem);
    parse_case(ec, pem, (size_t)plen, "/pubkey/pem-spki");
    BIO_reset(b);
    PEM_write_bio_X509(b, x);
    plen = BIO_get_mem_data(b, &pem);
    parse_case(ec, pem, (size_t)plen, "/pubkey/pem-certificate");
    n = i2d_PUBKEY(ec, &der);
    parse_case(ec, der, (size_t)n, "/pubkey/der-spki");
    OPENSSL_free(der);
    der = NULL;
    n = i2d_X509(x, &der);
    parse_case(ec, der, (size_t)n, "/pubkey/der-certificate");
    OPENSSL_free(der);

    reset();
    is_int(msigu_pubkey_parse(&host, "garbage", 7, "key vault:k", &got), MSIG_E_KEY,
           "/pubkey/garbage");
    is_str(H.err, "key vault:k: not a public key or certificate (PEM or DER)",
           "/pubkey/garbage-message");
    ok(got == NULL, "/pubkey/garbage-no-key");
    is_int(msigu_pubkey_parse(&host, "", 0, "key vault:k", &got), MSIG_E_KEY, "/pubkey/empty");
    is_str(H.err, "key vault:k: a public key of 0 bytes (1 to 65536 allowed)",
           "/pubkey/empty-message");
    memset(huge, 'A', sizeof(huge));
    is_int(msigu_pubkey_parse(&host, huge, sizeof(huge), "key vault:k", &got), MSIG_E_KEY,
           "/pubkey/too-large");
    like(H.err, "a public key of 65537 bytes", "/pubkey/too-large-message");
    BIO_free(b);
    X509_free(x);
}

static void test_jwk(void)
{
    static const char ec_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                                 "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                                 "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
    EVP_PKEY *pk = NULL, *rsa = gen("RSA", "2048");
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    uint8_t nb[256], eb[8];
    char *n64 = NULL, *e64 = NULL, text[1024];
    uint32_t type = 0, bits = 0;

    is_int(msigu_pubkey_from_jwk(&host, ec_jwk, strlen(ec_jwk), "jwk", &pk), 0,
           "/jwk/ec-p256 (RFC 7515 A.3 key)");
    is_int(pk ? msigu_evp_policy(&host, pk, "jwk", &type, &bits) : -1, 0, "/jwk/ec-policy");
    is_int(type, MSIG_KEY_EC_P256, "/jwk/ec-type");
    EVP_PKEY_free(pk);
    pk = NULL;

    /* The RSA key of a generated key pair, as a JWK, gives back the same key. */
    EVP_PKEY_get_bn_param(rsa, "n", &bn_n);
    EVP_PKEY_get_bn_param(rsa, "e", &bn_e);
    BN_bn2bin(bn_n, nb);
    int elen = BN_bn2bin(bn_e, eb);
    msigu_b64url_encode(&host, nb, 256, &n64);
    msigu_b64url_encode(&host, eb, (size_t)elen, &e64);
    snprintf(text, sizeof(text), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n64, e64);
    is_int(msigu_pubkey_from_jwk(&host, text, strlen(text), "jwk", &pk), 0, "/jwk/rsa");
    ok(same_key(pk, rsa), "/jwk/rsa-same-key");
    EVP_PKEY_free(pk);
    pk = NULL;

    reset();
    snprintf(text, sizeof(text), "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AQ\",\"y\":\"AQ\"}");
    ok(msigu_pubkey_from_jwk(&host, text, strlen(text), "key azurekv:k", &pk) != 0,
       "/jwk/p384-refused");
    like(H.err, "key azurekv:k: ", "/jwk/refusal-names-the-key");
    ok(pk == NULL, "/jwk/refused-no-key");
    reset();
    ok(msigu_pubkey_from_jwk(&host, "{\"kty\":", 7, "key azurekv:k", &pk) != 0, "/jwk/bad-json");
    like(H.err, "key azurekv:k: ", "/jwk/bad-json-names-the-key");
    reset();
    snprintf(text, sizeof(text), "{\"kty\":\"RSA\",\"n\":\"*\",\"e\":\"AQAB\"}");
    ok(msigu_pubkey_from_jwk(&host, text, strlen(text), "key azurekv:k", &pk) != 0,
       "/jwk/bad-base64");
    ok(H.errors > 0, "/jwk/bad-base64-message");
    msigu_strfree(&host, n64);
    msigu_strfree(&host, e64);
    BN_free(bn_n);
    BN_free(bn_e);
    EVP_PKEY_free(rsa);
}

/* ------------------------------------------------------------------ policy and signing */

static void policy_refused(EVP_PKEY *k, const char *what, const char *want, const char *name)
{
    uint32_t type = 99, bits = 99;

    reset();
    is_int(msigu_evp_policy(&host, k, what, &type, &bits), MSIG_E_KEY, "%s", name);
    is_str(H.err, want, "%s/message", name);
    ok(type == 99 && bits == 99, "%s/outputs-untouched", name);
}

static void test_policy(EVP_PKEY *ec, EVP_PKEY *rsa)
{
    EVP_PKEY *small = gen("RSA", "1024"), *p384 = gen("EC", "secp384r1");
    EVP_PKEY *ed = gen("ED25519", NULL), *pss = gen("RSA-PSS", NULL);
    uint32_t type = 0, bits = 0;

    is_int(msigu_evp_policy(&host, rsa, NULL, &type, &bits), 0, "/policy/rsa-2048");
    ok(type == MSIG_KEY_RSA && bits == 2048, "/policy/rsa-2048-type-bits");
    is_int(msigu_evp_policy(&host, ec, NULL, &type, &bits), 0, "/policy/p256");
    ok(type == MSIG_KEY_EC_P256 && bits == 256, "/policy/p256-type-bits");
    policy_refused(small, NULL, "RSA key of 1024 bits refused: at least 2048 bits are required",
                   "/policy/rsa-1024");
    policy_refused(small, "key vault:old",
                   "key vault:old: RSA key of 1024 bits refused: at "
                   "least 2048 bits are required",
                   "/policy/rsa-1024-named");
    policy_refused(p384, "",
                   "EC key on curve secp384r1 refused: Mender ECDSA signatures need "
                   "P-256 (prime256v1)",
                   "/policy/p384");
    policy_refused(ed, NULL,
                   "ED25519 keys are not supported: Mender Artifacts are signed with "
                   "RSA (>= 2048 bits) or ECDSA P-256",
                   "/policy/ed25519");
    policy_refused(pss, NULL,
                   "RSA-PSS keys are not supported: Mender verifies RSA PKCS#1 v1.5 "
                   "signatures",
                   "/policy/rsa-pss");
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(pss);
}

static int verify(EVP_PKEY *k, const uint8_t *dg, const uint8_t *sig, size_t len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    int r = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
            (!EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1) &&
            EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
            EVP_PKEY_verify(c, sig, len, dg, 32) == 1;

    EVP_PKEY_CTX_free(c);
    return r;
}

static void sign_case(EVP_PKEY *k, uint32_t key_type, const char *name)
{
    struct msig_key_info info = { .struct_size = sizeof(info) };
    uint8_t dg[32], sig[512], der[1024];
    size_t len = 0, dlen = 0;
    uint32_t fmt = 0,
             scheme = key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    uint32_t other =
        scheme == MSIG_SIG_RSA_PKCS1_SHA256 ? MSIG_SIG_ECDSA_SHA256 : MSIG_SIG_RSA_PKCS1_SHA256;

    memset(dg, 0x5a, sizeof(dg));
    is_int(msigu_evp_key_info(k, key_type, (uint32_t)EVP_PKEY_get_bits(k), MSIG_KEYINFO_F_HARDWARE,
                              &info),
           0, "%s/key-info", name);
    ok(info.key_type == key_type && info.sig_schemes == scheme &&
           info.flags == MSIG_KEYINFO_F_HARDWARE &&
           info.max_sig_len == (size_t)EVP_PKEY_get_size(k),
       "%s/key-info-fields", name);
    is_int(msigu_evp_public_der(&host, k, der, 10, &dlen), MSIG_E_BUFFER_TOO_SMALL,
           "%s/public-der-short", name);
    is_int((long long)dlen, (long long)info.pub_der_len, "%s/public-der-says-size", name);
    is_int(msigu_evp_public_der(&host, k, der, sizeof(der), &dlen), 0, "%s/public-der", name);
    is_int(msigu_evp_sign_digest(&host, k, NULL, NULL, scheme, dg, 32, sig, 8, &len, &fmt),
           MSIG_E_BUFFER_TOO_SMALL, "%s/sign-short-buffer", name);
    is_int((long long)len, (long long)info.max_sig_len, "%s/sign-short-says-size", name);
    is_int(
        msigu_evp_sign_digest(&host, k, NULL, NULL, scheme, dg, 32, sig, sizeof(sig), &len, &fmt),
        0, "%s/sign", name);
    is_int(fmt, key_type == MSIG_KEY_RSA ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_DER,
           "%s/sign-format", name);
    ok(verify(k, dg, sig, len), "%s/signature-verifies", name);
    reset();
    is_int(msigu_evp_sign_digest(&host, k, NULL, NULL, other, dg, 32, sig, sizeof(sig), &len, &fmt),
           MSIG_E_UNSUPPORTED, "%s/wrong-scheme", name);
    like(H.err, "does not fit this", "%s/wrong-scheme-message", name);
    is_int(
        msigu_evp_sign_digest(&host, k, NULL, NULL, scheme, dg, 20, sig, sizeof(sig), &len, &fmt),
        MSIG_E_INVALID, "%s/wrong-digest-length", name);
    is_str(H.err, "a digest of 20 bytes: SHA-256 needs 32", "%s/wrong-digest-message", name);
}

static void test_key_info_abi(EVP_PKEY *ec)
{
    struct msig_key_info info = { .struct_size = 8 };

    is_int(msigu_evp_key_info(ec, MSIG_KEY_EC_P256, 256, 0, &info), MSIG_E_ABI,
           "/key-info/too-small-struct");
}

int main(void)
{
    EVP_PKEY *ec = gen("EC", "prime256v1"), *rsa = gen("RSA", "2048");
    char cmd[300];

    if (ec == NULL || rsa == NULL)
        bail("key generation failed");
    test_errors_and_log();
    test_params();
    test_memory_and_spec();
    test_secrets();
    test_b64();
    test_pubkey_parse(ec);
    test_jwk();
    test_policy(ec, rsa);
    sign_case(rsa, MSIG_KEY_RSA, "/evp/rsa");
    sign_case(ec, MSIG_KEY_EC_P256, "/evp/ec");
    test_key_info_abi(ec);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("cannot remove %s", tmpdir);
    return done_testing();
}
