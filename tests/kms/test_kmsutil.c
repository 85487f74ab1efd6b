/* test_kmsutil.c -- known answers for the KMS plugin's own encodings (kms.md 5.3 case 10):
 * CRC32C (Castagnoli) and the key a service returned, kept under the Mender policy. base64,
 * JWK and the policy messages are plugins/util's (tests/util/test_msigu.c); the DER <-> r||s
 * conversion is the host's (tests/unit/test_sigfmt.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ec.h>

#include "kms.h"
#include "tap.h"

static char last_error[1024];
static void t_log(void *d, int level, const char *msg)
{
    (void)d;
    (void)level;
    (void)msg;
}
static void t_err(void *d, int code, const char *msg)
{
    (void)d;
    (void)code;
    snprintf(last_error, sizeof(last_error), "%s", msg);
}
static int t_param(void *d, const char *k, const char **v)
{
    (void)d;
    (void)k;
    *v = NULL;
    return MSIG_E_NOT_FOUND;
}

int main(void)
{
    struct msig_host host = { sizeof(host), 1, 1, NULL, t_log, t_err, NULL, NULL, t_param, NULL };
    struct kms_inst inst = { &host, NULL, { { 0 } } };
    struct kms_key key = { 0 };
    uint8_t out[64], ff[256];

    /* CRC32C */
    is_int(kms_crc32c((const uint8_t *)"123456789", 9), 0xE3069283, "/crc32c/check-value");
    is_int(kms_crc32c((const uint8_t *)"", 0), 0, "/crc32c/empty");
    memset(out, 0, 32);
    is_int(kms_crc32c(out, 32), 0x8A9136AA, "/crc32c/32-zero-bytes (RFC 3720 B.4)");
    memset(ff, 0xff, 32);
    is_int(kms_crc32c(ff, 32), 0x62A8AB43, "/crc32c/32-ff-bytes (RFC 3720 B.4)");

    /* JWK and policy */
    {
        json_t *jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                                "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
                                "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
        EVP_PKEY *pk = NULL;

        is_int(msigu_pubkey_from_jwk_obj(&host, jwk, "jwk", &pk), 0,
               "/jwk/ec-p256 (RFC 7515 A.3 key)");
        key.inst = &inst;
        snprintf(key.what, sizeof(key.what), "test key");
        is_int(kms_key_set_public(&key, pk), 0, "/policy/p256-accepted");
        is_int(key.key_type, MSIG_KEY_EC_P256, "/policy/p256-type");
        is_int((long long)key.pub_der_len, 91, "/policy/p256-spki-length");
        EVP_PKEY_free(key.pub);
        OPENSSL_free(key.pub_der);
        json_decref(jwk);
        jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", "AQAB", "e", "AQAB");
        pk = NULL;
        if (msigu_pubkey_from_jwk_obj(&host, jwk, "jwk", &pk) == 0) {
            memset(&key, 0, sizeof(key));
            key.inst = &inst;
            snprintf(key.what, sizeof(key.what), "tiny key");
            is_int(kms_key_set_public(&key, pk), MSIG_E_KEY, "/policy/small-rsa-refused");
            like(last_error, "tiny key: RSA key of", "/policy/message-names-the-key");
        } else {
            ok(1, "/policy/small-rsa-refused (refused by OpenSSL already)");
            ok(1, "/policy/message-names-the-key");
        }
        json_decref(jwk);
        pk = EVP_EC_gen("secp384r1");
        memset(&key, 0, sizeof(key));
        key.inst = &inst;
        snprintf(key.what, sizeof(key.what), "p384 key");
        is_int(kms_key_set_public(&key, pk), MSIG_E_KEY, "/policy/p384-refused");
        like(last_error, "p384 key: EC key on curve secp384r1 refused", "/policy/p384-message");
    }
    return done_testing();
}
