/* p11key.c -- the key objects on the selected token: the public half (public-key object,
 * else certificate, else the private key's own attributes), the private key, the mechanisms
 * the token offers, signing, and the listing for "msig keys pkcs11:". */
#include "p11.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "evpsign.h"
#include "plugin_util.h"

/* ------------------------------------------------------------------ object search */

/* Objects of class cls that carry the URI's id and label; at most cap handles, *n found
 * (capped at cap: 2 are enough to know it is ambiguous). */
static int find(struct p11_key *k, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out, size_t cap,
                size_t *n)
{
    CK_ATTRIBUTE tmpl[3] = { { CKA_CLASS, &cls, sizeof(cls) } };
    CK_ULONG nt = 1, got = 0;
    CK_ATTRIBUTE *a;
    CK_FUNCTION_LIST *m = k->tok.mod;
    CK_RV rv;

    if ((a = p11_kit_uri_get_attribute(k->uri, CKA_ID)) != NULL)
        tmpl[nt++] = *a;
    if ((a = p11_kit_uri_get_attribute(k->uri, CKA_LABEL)) != NULL)
        tmpl[nt++] = *a;
    *n = 0;
    rv = m->C_FindObjectsInit(k->session, tmpl, nt);
    if (rv != CKR_OK)
        return p11_rv_code(rv);
    rv = m->C_FindObjects(k->session, out, (CK_ULONG)cap, &got);
    m->C_FindObjectsFinal(k->session);
    *n = (size_t)got;
    return rv == CKR_OK ? 0 : p11_rv_code(rv);
}

/* An attribute into a host-allocated buffer (freed with msigu_free(len)). */
static int attr_get(struct p11_key *k, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, uint8_t **val,
                    size_t *len)
{
    CK_ATTRIBUTE a = { t, NULL, 0 };

    *val = NULL;
    *len = 0;
    if (k->tok.mod->C_GetAttributeValue(k->session, o, &a, 1) != CKR_OK ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 65536)
        return MSIG_E_NOT_FOUND;
    if ((a.pValue = *val = msigu_alloc(k->host, a.ulValueLen ? a.ulValueLen : 1)) == NULL)
        return MSIG_E_NOMEM;
    if (k->tok.mod->C_GetAttributeValue(k->session, o, &a, 1) != CKR_OK) {
        msigu_free(k->host, *val, a.ulValueLen ? a.ulValueLen : 1);
        *val = NULL;
        return MSIG_E_NOT_FOUND;
    }
    *len = a.ulValueLen;
    return 0;
}

static CK_ULONG attr_ulong(struct p11_key *k, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                           CK_ULONG dflt)
{
    CK_ULONG v = dflt;
    CK_ATTRIBUTE a = { t, &v, sizeof(v) };

    return k->tok.mod->C_GetAttributeValue(k->session, o, &a, 1) == CKR_OK ? v : dflt;
}

static CK_BBOOL attr_bool(struct p11_key *k, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, CK_BBOOL dflt)
{
    CK_BBOOL v = dflt;
    CK_ATTRIBUTE a = { t, &v, sizeof(v) };

    return k->tok.mod->C_GetAttributeValue(k->session, o, &a, 1) == CKR_OK ? v : dflt;
}

/* "'label' (id 0a1b)" of an object, for lists in messages. */
static void describe_object(struct p11_key *k, CK_OBJECT_HANDLE o, char *buf, size_t cap)
{
    uint8_t *v = NULL;
    size_t len = 0, used;
    char label[65] = "";

    if (attr_get(k, o, CKA_LABEL, &v, &len) == 0) {
        p11_str(label, sizeof(label), v, len);
        msigu_free(k->host, v, len ? len : 1);
    }
    used = (size_t)snprintf(buf, cap, "'%s' (id ", label);
    if (attr_get(k, o, CKA_ID, &v, &len) == 0) {
        for (size_t i = 0; i < len && used + 3 < cap; i++)
            used += (size_t)snprintf(buf + used, cap - used, "%02x", v[i]);
        msigu_free(k->host, v, len ? len : 1);
    }
    if (used + 2 < cap)
        snprintf(buf + used, cap - used, "%s)", len ? "" : "none");
}

static int ambiguous(struct p11_key *k, const char *what, CK_OBJECT_HANDLE *h, size_t n)
{
    char list[600] = "", d[120], tok[160];
    size_t used = 0;

    for (size_t i = 0; i < n && used < sizeof(list); i++) {
        describe_object(k, h[i], d, sizeof(d));
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", d);
    }
    p11_token_describe(&k->tok, tok, sizeof(tok));
    return msigu_error(k->host, MSIG_E_INVALID,
                       "%zu%s %s objects on %s match: %s; add "
                       "object= or id= to the URI",
                       n, n == P11_MAX_OBJECTS ? " or more" : "", what, tok, list);
}

/* ------------------------------------------------------------------ public key */

static EVP_PKEY *rsa_from(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *k = NULL;

    if (b && bn && be && c && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) &&
        (p = OSSL_PARAM_BLD_to_param(b)) != NULL && EVP_PKEY_fromdata_init(c) == 1)
        EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    BN_free(bn);
    BN_free(be);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* CKA_EC_PARAMS names the curve (an OID); CKA_EC_POINT is a DER OCTET STRING around the
 * uncompressed point (or, on some tokens, the bare point). Any named curve is built, so that
 * the Mender policy can say which curve it refuses. */
static EVP_PKEY *ec_from(const uint8_t *params, size_t plen, const uint8_t *pt, size_t len)
{
    const unsigned char *q = params;
    ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &q, (long)plen);
    const char *group = oid != NULL ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
    OSSL_PARAM_BLD *b;
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *c;
    EVP_PKEY *k = NULL;

    ASN1_OBJECT_free(oid);
    if (group == NULL || OBJ_sn2nid(group) == NID_undef)
        return NULL;
    if (len >= 2 && pt[0] == 0x04 && pt[1] < 0x80 && (size_t)pt[1] + 2 == len) {
        pt += 2;
        len -= 2;
    } else if (len >= 3 && pt[0] == 0x04 && pt[1] == 0x81 && (size_t)pt[2] + 3 == len) {
        pt += 3;
        len -= 3;
    }
    if (len < 1 || pt[0] != 0x04)
        return NULL;
    b = OSSL_PARAM_BLD_new();
    c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (b && c && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, len) &&
        (p = OSSL_PARAM_BLD_to_param(b)) != NULL && EVP_PKEY_fromdata_init(c) == 1)
        EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* The public key of a public-key or private-key object from its attributes; NULL when the
 * object does not carry them (*other_curve set for an EC key whose curve or point cannot be
 * read). */
static EVP_PKEY *key_from_attrs(struct p11_key *k, CK_OBJECT_HANDLE o, int *other_curve)
{
    CK_ULONG type = attr_ulong(k, o, CKA_KEY_TYPE, (CK_ULONG)-1);
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    EVP_PKEY *pk = NULL;

    *other_curve = 0;
    if (type == CKK_RSA && attr_get(k, o, CKA_MODULUS, &a, &alen) == 0 &&
        attr_get(k, o, CKA_PUBLIC_EXPONENT, &b, &blen) == 0)
        pk = rsa_from(a, alen, b, blen);
    if (type == CKK_EC && attr_get(k, o, CKA_EC_PARAMS, &a, &alen) == 0 &&
        attr_get(k, o, CKA_EC_POINT, &b, &blen) == 0) {
        pk = ec_from(a, alen, b, blen);
        *other_curve = pk == NULL;
    }
    msigu_free(k->host, a, alen ? alen : 1);
    msigu_free(k->host, b, blen ? blen : 1);
    return pk;
}

static EVP_PKEY *key_from_cert(struct p11_key *k, CK_OBJECT_HANDLE o)
{
    uint8_t *v = NULL;
    size_t len = 0;
    const unsigned char *p;
    X509 *x;
    EVP_PKEY *pk = NULL;

    if (attr_get(k, o, CKA_VALUE, &v, &len) != 0)
        return NULL;
    p = v;
    if ((x = d2i_X509(NULL, &p, (long)len)) != NULL)
        pk = X509_get_pubkey(x);
    X509_free(x);
    msigu_free(k->host, v, len ? len : 1);
    return pk;
}

/* Keeps pub after the Mender policy; names the object in the message. */
static int keep_public(struct p11_key *k, EVP_PKEY *pub, const char *from)
{
    char what[200], tok[160];
    int der_len;
    int rc;

    p11_token_describe(&k->tok, tok, sizeof(tok));
    snprintf(what, sizeof(what), "the %s on %s", from, tok);
    rc = msigu_evp_policy(k->host, pub, what, &k->key_type, &k->bits);
    der_len = rc == 0 ? i2d_PUBKEY(pub, NULL) : 0;
    if (rc == 0 && (der_len <= 0 || (k->pub_der = msigu_alloc(k->host, (size_t)der_len)) == NULL))
        rc = MSIG_E_NOMEM;
    if (rc != 0) {
        EVP_PKEY_free(pub);
        return rc;
    }
    unsigned char *q = k->pub_der;
    i2d_PUBKEY(pub, &q);
    k->pub_der_len = (size_t)der_len;
    k->pub = pub;
    return 0;
}

void p11_key_forget_public(struct p11_key *k)
{
    EVP_PKEY_free(k->pub);
    k->pub = NULL;
    msigu_free(k->host, k->pub_der, k->pub_der_len);
    k->pub_der = NULL;
    k->pub_der_len = 0;
}

int p11_key_public(struct p11_key *k)
{
    CK_OBJECT_HANDLE h[P11_MAX_OBJECTS];
    size_t n = 0;
    int other = 0, rc;
    EVP_PKEY *pk;

    if ((rc = find(k, CKO_PUBLIC_KEY, h, P11_MAX_OBJECTS, &n)) != 0)
        return rc;
    if (n > 1)
        return ambiguous(k, "public-key", h, n);
    if (n == 1) {
        if ((pk = key_from_attrs(k, h[0], &other)) != NULL)
            return keep_public(k, pk, "public-key object");
        return msigu_error(k->host, MSIG_E_KEY, "the public-key object is %s",
                           other ? "an EC key whose curve or point msig cannot read (Mender ECDSA "
                                   "signatures need P-256)"
                                 : "neither RSA nor EC P-256");
    }
    if ((rc = find(k, CKO_CERTIFICATE, h, P11_MAX_OBJECTS, &n)) != 0)
        return rc;
    if (n > 1)
        return ambiguous(k, "certificate", h, n);
    if (n == 1 && (pk = key_from_cert(k, h[0])) != NULL)
        return keep_public(k, pk, "certificate");
    return MSIG_E_NOT_FOUND; /* the caller logs in and tries the private key */
}

/* ------------------------------------------------------------------ private key */

static int private_public(struct p11_key *k)
{
    int other = 0;
    EVP_PKEY *pk = key_from_attrs(k, k->priv, &other);
    char tok[160];

    if (pk != NULL)
        return keep_public(k, pk, "private key's public attributes");
    p11_token_describe(&k->tok, tok, sizeof(tok));
    if (other)
        return msigu_error(k->host, MSIG_E_KEY,
                           "the private key on %s is an EC key whose "
                           "curve or point msig cannot read (Mender ECDSA signatures need "
                           "P-256)",
                           tok);
    return msigu_error(k->host, MSIG_E_KEY,
                       "%s has the private key but no public-key object, "
                       "no certificate with its id and no public attributes on the private key:"
                       " import the public key to the token, or verify with -k PUB.pem",
                       tok);
}

int p11_key_private(struct p11_key *k)
{
    CK_OBJECT_HANDLE h[P11_MAX_OBJECTS];
    size_t n = 0;
    char tok[160], d[120];
    CK_ULONG type;
    int rc;

    p11_token_describe(&k->tok, tok, sizeof(tok));
    if ((rc = find(k, CKO_PRIVATE_KEY, h, P11_MAX_OBJECTS, &n)) != 0)
        return msigu_error(k->host, rc, "cannot search the private keys of %s", tok);
    if (n == 0)
        return msigu_error(k->host, MSIG_E_NOT_FOUND,
                           "no private key on %s matches the URI's "
                           "object and id",
                           tok);
    if (n > 1)
        return ambiguous(k, "private-key", h, n);
    k->priv = h[0];
    describe_object(k, k->priv, d, sizeof(d));
    type = attr_ulong(k, k->priv, CKA_KEY_TYPE, (CK_ULONG)-1);
    if (type != CKK_RSA && type != CKK_EC)
        return msigu_error(k->host, MSIG_E_KEY,
                           "the private key %s on %s is of PKCS#11 key "
                           "type 0x%lx: Mender Artifacts are signed with RSA or ECDSA P-256",
                           d, tok, (unsigned long)type);
    if (!attr_bool(k, k->priv, CKA_SIGN, CK_TRUE))
        return msigu_error(k->host, MSIG_E_KEY,
                           "the private key %s on %s may not sign "
                           "(CKA_SIGN is false)",
                           d, tok);
    k->always_auth = attr_bool(k, k->priv, CKA_ALWAYS_AUTHENTICATE, CK_FALSE) == CK_TRUE;
    if (k->pub == NULL && (rc = private_public(k)) != 0)
        return rc;
    if ((type == CKK_RSA) != (k->key_type == MSIG_KEY_RSA))
        return msigu_error(k->host, MSIG_E_KEY,
                           "the private key %s on %s is %s, its public "
                           "key is %s",
                           d, tok, type == CKK_RSA ? "RSA" : "EC",
                           k->key_type == MSIG_KEY_RSA ? "RSA" : "EC");
    k->have_priv = 1;
    if (!k->always_auth)
        msigu_secret_wipe(k->host, &k->pin);
    return 0;
}

/* ------------------------------------------------------------------ mechanisms, signing */

static int has_mech(struct p11_key *k, CK_MECHANISM_TYPE m)
{
    CK_MECHANISM_INFO info;

    return k->tok.mod->C_GetMechanismInfo(k->tok.slot, m, &info) == CKR_OK &&
           (info.flags & CKF_SIGN);
}

void p11_key_mechanisms(struct p11_key *k)
{
    k->rsa_combined = k->key_type == MSIG_KEY_RSA && has_mech(k, CKM_SHA256_RSA_PKCS);
    k->ec_raw = k->key_type == MSIG_KEY_EC_P256 && has_mech(k, CKM_ECDSA);
    k->ec_combined = k->key_type == MSIG_KEY_EC_P256 && has_mech(k, CKM_ECDSA_SHA256);
}

/* PKCS#11 takes input buffers as non-const; C_Sign does not write them. */
static CK_BYTE_PTR in_ptr(const uint8_t *p)
{
    CK_BYTE_PTR q;

    memcpy(&q, &p, sizeof(q));
    return q;
}

static const char *mech_name(CK_MECHANISM_TYPE m)
{
    return m == CKM_RSA_PKCS          ? "CKM_RSA_PKCS"
           : m == CKM_SHA256_RSA_PKCS ? "CKM_SHA256_RSA_PKCS"
           : m == CKM_ECDSA           ? "CKM_ECDSA"
           : m == CKM_ECDSA_SHA256    ? "CKM_ECDSA_SHA256"
                                      : "?";
}

/* One C_SignInit/C_Sign into out (cap bytes); the context-specific login in between. */
static int sign_once(struct p11_key *k, CK_MECHANISM_TYPE mt, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap, size_t *out_len)
{
    CK_MECHANISM mech = { mt, NULL, 0 };
    CK_ULONG n = (CK_ULONG)cap;
    CK_RV rv;
    int rc;
    char tok[160], rvs[80];

    rv = k->tok.mod->C_SignInit(k->session, &mech, k->priv);
    if (rv == CKR_OK && k->always_auth && (rc = p11_login_context(k)) != 0) {
        k->tok.mod->C_Sign(k->session, in_ptr(in), (CK_ULONG)len, out, &n); /* ends it */
        return rc;
    }
    if (rv == CKR_OK)
        rv = k->tok.mod->C_Sign(k->session, in_ptr(in), (CK_ULONG)len, out, &n);
    if (rv == CKR_OK) {
        *out_len = (size_t)n;
        return 0;
    }
    p11_token_describe(&k->tok, tok, sizeof(tok));
    return msigu_error(k->host, p11_rv_code(rv), "signing on %s with %s failed: %s", tok,
                       mech_name(mt), p11_rv_text(rv, rvs, sizeof(rvs)));
}

static int sign_rsa(struct p11_key *k, int message, const uint8_t *in, size_t len, uint8_t *out,
                    size_t cap, size_t *out_len)
{
    static const uint8_t prefix[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
    uint8_t di[sizeof(prefix) + 32];
    int rc;

    if (message && k->rsa_combined) {
        rc = sign_once(k, CKM_SHA256_RSA_PKCS, in, len, out, cap, out_len);
        if (rc != MSIG_E_UNSUPPORTED)
            return rc;
        msigu_log(k->host, MSIG_LOG_DEBUG, "CKM_SHA256_RSA_PKCS refused; hashing on the host");
    }
    memcpy(di, prefix, sizeof(prefix));
    if (message)
        EVP_Digest(in, len, di + sizeof(prefix), NULL, EVP_sha256(), NULL);
    else
        memcpy(di + sizeof(prefix), in, 32);
    return sign_once(k, CKM_RSA_PKCS, di, sizeof(di), out, cap, out_len);
}

static int sign_ec(struct p11_key *k, int message, const uint8_t *in, size_t len, uint8_t *out,
                   size_t cap, size_t *out_len)
{
    uint8_t dg[32];

    if (message && !k->ec_raw && k->ec_combined)
        return sign_once(k, CKM_ECDSA_SHA256, in, len, out, cap, out_len);
    if (message)
        EVP_Digest(in, len, dg, NULL, EVP_sha256(), NULL);
    return sign_once(k, CKM_ECDSA, message ? dg : in, 32, out, cap, out_len);
}

int p11_sign(struct p11_key *k, int message, uint32_t scheme, const uint8_t *in, size_t len,
             uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    uint32_t want = k->key_type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256;
    size_t expect = k->key_type == MSIG_KEY_RSA ? (size_t)EVP_PKEY_get_size(k->pub) : 64;
    uint8_t out[2048];
    size_t n = 0;
    int rc;

    if (scheme != want)
        return msigu_error(k->host, MSIG_E_UNSUPPORTED,
                           "signature scheme 0x%x does not fit "
                           "this %s key",
                           (unsigned)scheme,
                           want == MSIG_SIG_RSA_PKCS1_SHA256 ? "RSA" : "EC P-256");
    if (!message && len != 32)
        return msigu_error(k->host, MSIG_E_INVALID, "a digest of %zu bytes: SHA-256 needs 32", len);
    if (cap < expect) {
        *sig_len = expect;
        return MSIG_E_BUFFER_TOO_SMALL;
    }
    rc = k->key_type == MSIG_KEY_RSA ? sign_rsa(k, message, in, len, out, sizeof(out), &n)
                                     : sign_ec(k, message, in, len, out, sizeof(out), &n);
    if (rc == 0 && n != expect)
        rc = msigu_error(k->host, MSIG_E_FAILED,
                         "the token returned a signature of %zu bytes, "
                         "expected %zu",
                         n, expect);
    if (rc == 0) {
        memcpy(sig, out, n);
        *sig_len = n;
        *sig_fmt = k->key_type == MSIG_KEY_RSA ? MSIG_SIGFMT_NATIVE : MSIG_SIGFMT_ECDSA_RAW;
    }
    return rc;
}

/* ------------------------------------------------------------------ listing */

static int list_entry(struct p11_key *k, const struct p11_token *t, CK_OBJECT_HANDLE o,
                      msig_key_list_fn *cb, void *cb_data)
{
    P11KitUri *u = p11_kit_uri_new();
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE ca = { CKA_CLASS, &cls, sizeof(cls) }, a;
    uint8_t *label = NULL, *id = NULL;
    size_t llen = 0, ilen = 0;
    char *spec = NULL, lbl[65] = "", hex[129] = "", detail[200];
    struct msig_key_entry e = { .struct_size = sizeof(e) };
    int rc = MSIG_E_NOMEM;

    if (u == NULL)
        return MSIG_E_NOMEM;
    *p11_kit_uri_get_token_info(u) = t->info;
    p11_kit_uri_set_attribute(u, &ca);
    if (attr_get(k, o, CKA_LABEL, &label, &llen) == 0 && llen > 0) {
        a = (CK_ATTRIBUTE){ CKA_LABEL, label, (CK_ULONG)llen };
        p11_kit_uri_set_attribute(u, &a);
        p11_str(lbl, sizeof(lbl), label, llen);
    }
    if (attr_get(k, o, CKA_ID, &id, &ilen) == 0) {
        a = (CK_ATTRIBUTE){ CKA_ID, id, (CK_ULONG)ilen };
        p11_kit_uri_set_attribute(u, &a);
        for (size_t i = 0; i < ilen && 2 * i + 2 < sizeof(hex); i++)
            snprintf(hex + 2 * i, 3, "%02x", id[i]);
    }
    if (p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &spec) == P11_KIT_URI_OK) {
        snprintf(detail, sizeof(detail), "serial %s, %s, module %s", t->serial, t->manufacturer,
                 t->module);
        e.key_type = k->key_type;
        e.bits = k->bits;
        e.spec = spec;
        e.token = t->label;
        e.label = lbl;
        e.id = hex;
        e.detail = detail;
        rc = cb(cb_data, &e);
    }
    free(spec);
    msigu_free(k->host, label, llen ? llen : 1);
    msigu_free(k->host, id, ilen ? ilen : 1);
    p11_kit_uri_free(u);
    return rc;
}

int p11_list_token(struct p11_key *k, const struct p11_token *t, msig_key_list_fn *cb,
                   void *cb_data)
{
    CK_OBJECT_HANDLE h[P11_MAX_OBJECTS];
    size_t n = 0;
    int rc, other;

    if ((rc = find(k, CKO_PUBLIC_KEY, h, P11_MAX_OBJECTS, &n)) != 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        EVP_PKEY *pk = key_from_attrs(k, h[i], &other);
        uint32_t type = 0, bits = 0;

        if (pk != NULL && msigu_evp_policy(NULL, pk, NULL, &type, &bits) == 0) {
            k->key_type = type;
            k->bits = bits;
            rc = list_entry(k, t, h[i], cb, cb_data);
        }
        EVP_PKEY_free(pk);
    }
    return rc;
}
