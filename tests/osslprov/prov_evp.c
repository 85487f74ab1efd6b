/* prov_evp.c -- an OpenSSL 3 application that knows nothing of msig signs through the msig
 * provider: OSSL_STORE opens "msig:SPEC", EVP_DigestSign signs, the default provider alone
 * verifies. Usage: prov_evp MSIG_URI PUBKEY.pem [PASSPHRASE]. Prints TAP. A URI that must
 * fail is given as !URI: then the load must fail with an msig provider error on the queue. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>

static int n_test;

static int ok(int cond, const char *name)
{
    printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
    return cond;
}

static const char *pass;

static int pass_cb(char *buf, int size, int rw, void *u)
{
    (void)rw, (void)u;
    if (pass == NULL || (int)strlen(pass) >= size)
        return -1;
    memcpy(buf, pass, strlen(pass));
    return (int)strlen(pass);
}

static EVP_PKEY *load(const char *uri)
{
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(pass_cb, 0);
    OSSL_STORE_CTX *sc = OSSL_STORE_open(uri, ui, NULL, NULL, NULL);
    EVP_PKEY *k = NULL;

    while (sc != NULL && k == NULL && !OSSL_STORE_eof(sc)) {
        OSSL_STORE_INFO *i = OSSL_STORE_load(sc);
        if (i != NULL && OSSL_STORE_INFO_get_type(i) == OSSL_STORE_INFO_PKEY)
            k = OSSL_STORE_INFO_get1_PKEY(i);
        OSSL_STORE_INFO_free(i);
        if (i == NULL && OSSL_STORE_error(sc))
            break;
    }
    OSSL_STORE_close(sc);
    UI_destroy_method(ui);
    return k;
}

static int verify(const char *pubfile, const unsigned char *msg, size_t n, const unsigned char *sig,
                  size_t slen)
{
    FILE *f = fopen(pubfile, "r");
    EVP_PKEY *pub = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int good =
        pub != NULL && md != NULL &&
        EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, "provider=default", pub, NULL) == 1 &&
        EVP_DigestVerify(md, sig, slen, msg, n) == 1;

    if (f != NULL)
        fclose(f);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);
    return good;
}

int main(int argc, char **argv)
{
    static const unsigned char msg[] = "a manifest, say";
    unsigned char sig[1024];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *md;
    EVP_PKEY *key;
    int must_fail;

    if (argc < 3)
        return 2;
    pass = argc > 3 ? argv[3] : NULL;
    must_fail = argv[1][0] == '!';
    if (!ok(OSSL_PROVIDER_load(NULL, "msig") != NULL && OSSL_PROVIDER_load(NULL, "default"),
            "OSSL_PROVIDER_load(NULL, \"msig\")"))
        return 1;
    ERR_clear_error();
    key = load(argv[1] + must_fail);
    if (must_fail) {
        const char *data = NULL;
        unsigned long e = 0, last;
        char text[512];
        /* The msig provider's entry, with its text, wherever it is on the queue. */
        while ((last = ERR_get_error_all(NULL, NULL, NULL, &data, NULL)) != 0) {
            ERR_error_string_n(last, text, sizeof(text));
            if (strstr(text, "msig provider") != NULL) {
                e = last;
                break;
            }
        }
        ok(key == NULL, "the load fails");
        ok(e != 0, "with an msig provider error");
        printf("# %s: %s\n", e ? text : "none", e && data ? data : "");
        printf("1..%d\n", n_test);
        return 0;
    }
    if (!ok(key != NULL, "OSSL_STORE loads the msig key"))
        return 1;
    ok(EVP_PKEY_get_bits(key) >= 256, "EVP_PKEY_get_bits works on it");
    md = EVP_MD_CTX_new();
    ok(md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
           EVP_DigestSign(md, sig, &slen, msg, sizeof(msg)) == 1,
       "EVP_DigestSign through the provider");
    ok(verify(argv[2], msg, sizeof(msg), sig, slen), "the default provider verifies it");
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    printf("1..%d\n", n_test);
    return 0;
}
