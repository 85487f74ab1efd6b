/* file.c -- the "file" signer plugin: private keys in PEM or DER files (PKCS#1, SEC1,
 * PKCS#8, encrypted PKCS#8 and traditional PEM encryption). Signs with OpenSSL in a private
 * library context (design D.7.6). Built into libmsig and, for tests, as msig-file.so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <msig/msig_plugin.h>

#include "evpsign.h"
#include "plugin_util.h"
#include "secret.h"

#define KEYFILE_MAX (1024 * 1024)

struct file_inst {
    const struct msig_host *host;
    OSSL_LIB_CTX *libctx;
};

struct file_key {
    struct file_inst *inst;
    EVP_PKEY *pkey;
    uint32_t key_type;
    uint32_t bits;
    uint8_t *pub_der;
    size_t pub_der_len;
};

/* Passphrase callback state: the host param, else the host prompt. */
struct pass_state {
    struct file_inst *inst;
    const char *spec;
    uint32_t flags;
    int asked; /* the decoder wanted a passphrase */
    int rc;    /* why none could be given */
};

static int file_instance_new(const struct msig_host *host, void **out)
{
    if (!MSIG_HAS_FIELD(host, struct msig_host, get_pin)) {
        if (MSIG_HAS_FIELD(host, struct msig_host, set_error))
            host->set_error(host->host_data, MSIG_E_ABI, "host table too small");
        return MSIG_E_ABI;
    }
    struct file_inst *inst = host->mem_alloc(host->host_data, sizeof(*inst));
    if (!inst)
        return MSIG_E_NOMEM;
    inst->host = host;
    inst->libctx = OSSL_LIB_CTX_new();
    if (!inst->libctx) {
        host->mem_free(host->host_data, inst, sizeof(*inst));
        host->set_error(host->host_data, MSIG_E_NOMEM,
                        "cannot create an OpenSSL library "
                        "context");
        return MSIG_E_NOMEM;
    }
    *out = inst;
    return 0;
}

static void file_instance_free(void *p)
{
    struct file_inst *inst = p;
    if (!inst)
        return;
    OSSL_LIB_CTX_free(inst->libctx);
    inst->host->mem_free(inst->host->host_data, inst, sizeof(*inst));
}

/* The passphrase of an encrypted key file: parameter file.passphrase, else the host's
 * sources (msigu_secret_get), copied into OpenSSL's buffer and wiped. */
static int pass_cb(char *buf, size_t cap, size_t *len, const OSSL_PARAM params[], void *arg)
{
    struct pass_state *st = arg;
    const struct msig_host *h = st->inst->host;
    const char *v = NULL;
    struct msig_pin_request req = { .struct_size = sizeof(req),
                                    .key_spec = st->spec,
                                    .label = "key file passphrase" };

    (void)params;
    st->asked = 1;
    msigu_param(h, "file.passphrase", &v);
    st->rc = msigu_secret_copy(h, v, NULL, &req, st->flags, buf, cap, len);
    return st->rc == 0;
}

static int read_file(struct file_inst *inst, const char *path, uint8_t **out, size_t *out_len)
{
    const struct msig_host *h = inst->host;
    int rc = 0;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = msigu_error(inst->host, MSIG_E_IO, "cannot open the key file: %s", strerror(errno));
        goto out;
    }
    buf = h->mem_alloc(h->host_data, KEYFILE_MAX + 1);
    if (!buf) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, KEYFILE_MAX + 1, f);
    if (ferror(f)) {
        rc = msigu_error(inst->host, MSIG_E_IO, "cannot read the key file: %s", strerror(errno));
        goto out;
    }
    if (n > KEYFILE_MAX || n == 0) {
        rc = msigu_error(inst->host, MSIG_E_KEY, "%s",
                         n ? "larger than 1 MiB, not a key file" : "empty file");
        goto out;
    }
    *out = buf;
    *out_len = n;
    buf = NULL; /* transferred */
out:
    if (buf)
        h->mem_free(h->host_data, buf, KEYFILE_MAX + 1);
    if (f)
        fclose(f);
    return rc;
}

/* Decodes data with the given selection; NULL when it is not such a key. */
static EVP_PKEY *decode(struct file_inst *inst, const uint8_t *data, size_t len, int selection,
                        struct pass_state *st)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dc =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selection, inst->libctx, NULL);
    if (!dc)
        return NULL;
    if (st)
        OSSL_DECODER_CTX_set_passphrase_cb(dc, pass_cb, st);
    const unsigned char *q = data;
    size_t left = len;
    if (!OSSL_DECODER_from_data(dc, &q, &left)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dc);
    return pkey;
}

static void file_key_close(void *p);

static int file_key_open(void *pinst, const char *spec, uint32_t flags, void **out)
{
    struct file_inst *inst = pinst;
    const struct msig_host *h = inst->host;
    int rc = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    struct file_key *k = NULL;
    unsigned char *der = NULL;

    *out = NULL;
    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return msigu_error(inst->host, MSIG_E_UNSUPPORTED, "unknown key_open flags 0x%x",
                           (unsigned)flags);
    const char *path = strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec;
    if (!*path)
        return msigu_error(inst->host, MSIG_E_INVALID, "key spec %s has no file name", spec);
    rc = read_file(inst, path, &data, &len);
    if (rc != 0)
        goto out;
    k = h->mem_alloc(h->host_data, sizeof(*k));
    if (!k) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    memset(k, 0, sizeof(*k));
    k->inst = inst;

    struct pass_state st = { .inst = inst, .spec = spec, .flags = flags };
    k->pkey = decode(inst, data, len, EVP_PKEY_KEYPAIR, &st);
    if (!k->pkey) {
        if (st.asked && st.rc == MSIG_E_PIN_REQUIRED) {
            rc = msigu_error(inst->host, MSIG_E_PIN_REQUIRED,
                             "the key file is encrypted and no passphrase "
                             "was given (parameter file.passphrase or a prompt)");
        } else if (st.asked && st.rc) {
            rc = msigu_error(inst->host, st.rc,
                             "the key file is encrypted; getting its passphrase "
                             "failed");
        } else if (st.asked) {
            rc = msigu_error(inst->host, MSIG_E_PIN_INCORRECT,
                             "wrong passphrase for the encrypted key file (or "
                             "the key is damaged)");
        } else {
            EVP_PKEY *pub = decode(inst, data, len, EVP_PKEY_PUBLIC_KEY, NULL);
            if (pub)
                rc = msigu_error(inst->host, MSIG_E_KEY,
                                 "the file holds a public key; signing needs the "
                                 "private key");
            else
                rc = msigu_error(inst->host, MSIG_E_KEY,
                                 "the file is not a private key (PEM or DER: "
                                 "PKCS#1, SEC1 or PKCS#8)");
            EVP_PKEY_free(pub);
        }
        goto out;
    }
    rc = msigu_evp_policy(h, k->pkey, NULL, &k->key_type, &k->bits);
    if (rc != 0)
        goto out;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) {
        rc = msigu_error(inst->host, MSIG_E_FAILED, "cannot encode the public key");
        goto out;
    }
    k->pub_der = h->mem_alloc(h->host_data, (size_t)n);
    if (!k->pub_der) {
        rc = MSIG_E_NOMEM;
        goto out;
    }
    memcpy(k->pub_der, der, (size_t)n);
    k->pub_der_len = (size_t)n;
    *out = k;
    k = NULL; /* transferred */
out:
    OPENSSL_free(der);
    if (data)
        h->mem_free(h->host_data, data, KEYFILE_MAX + 1); /* wipes the key file bytes */
    if (k)
        file_key_close(k);
    ERR_clear_error();
    return rc;
}

static void file_key_close(void *p)
{
    struct file_key *k = p;
    if (!k)
        return;
    const struct msig_host *h = k->inst->host;
    EVP_PKEY_free(k->pkey);
    if (k->pub_der)
        h->mem_free(h->host_data, k->pub_der, k->pub_der_len);
    h->mem_free(h->host_data, k, sizeof(*k));
}

static int file_key_info(void *p, struct msig_key_info *info)
{
    struct file_key *k = p;
    return msigu_evp_key_info(k->pkey, k->key_type, k->bits, 0, info);
}

static int file_key_public_der(void *p, uint8_t *buf, size_t cap, size_t *len)
{
    struct file_key *k = p;
    *len = k->pub_der_len;
    if (cap < k->pub_der_len)
        return MSIG_E_BUFFER_TOO_SMALL;
    memcpy(buf, k->pub_der, k->pub_der_len);
    return 0;
}

static int file_sign_digest(void *p, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                            uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct file_key *k = p;
    return msigu_evp_sign_digest(k->inst->host, k->pkey, k->inst->libctx, NULL, scheme, digest,
                                 digest_len, sig, cap, sig_len, sig_fmt);
}

/* Lists the one key of a key file: opening it checks type and size (and asks for the
 * passphrase of an encrypted file, as signing would). */
static int file_key_list(void *pinst, const char *spec, uint32_t flags, msig_key_list_fn *cb,
                         void *cb_data)
{
    struct file_key *k = NULL;
    int rc = file_key_open(pinst, spec, flags, (void **)&k);
    if (rc != 0)
        return rc;
    const char *path = strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec;
    const char *base = strrchr(path, '/');
    struct msig_key_entry e = {
        .struct_size = sizeof(e),
        .key_type = k->key_type,
        .bits = k->bits,
        .spec = spec,
        .label = base ? base + 1 : path,
        .detail = "private key file (PEM or DER)",
    };
    rc = cb(cb_data, &e);
    file_key_close(k);
    return rc;
}

static const char *const file_params[] = { "file.passphrase", NULL };

static const char *const file_schemes[] = { "file", NULL };

static const struct msig_plugin file_plugin = {
    .struct_size = sizeof(struct msig_plugin),
    .abi_major = MSIG_PLUGIN_ABI_MAJOR,
    .abi_minor = MSIG_PLUGIN_ABI_MINOR,
    .name = "file",
    .version = "1.0",
    .schemes = file_schemes,
    .flags = 0,
    .instance_new = file_instance_new,
    .instance_free = file_instance_free,
    .key_open = file_key_open,
    .key_close = file_key_close,
    .key_info = file_key_info,
    .key_public_der = file_key_public_der,
    .sign_digest = file_sign_digest,
    .key_list = file_key_list,
    .params = file_params,
    .sign_message = NULL,
};

MSIG_PLUGIN_DEFINE(file, file_plugin)
