/* fakep11.c -- a small PKCS#11 module for the token states SoftHSM cannot show: PIN flags
 * (count low, final try, locked), a PIN pad, a key that always asks for the PIN, a token
 * removed while signing, and tokens that offer only some mechanisms (CKM_RSA_PKCS without
 * CKM_SHA256_RSA_PKCS; CKM_ECDSA_SHA256 without CKM_ECDSA). One slot, one token "fake",
 * one key read from FAKEP11_KEY (PEM), PIN "4321". FAKEP11_MODE is a comma-separated list:
 *   count-low final-try locked to-be-changed pinpad always-auth removed rsa-raw-only
 *   ec-combined-only no-public
 * Every C_Login and C_Sign is appended to FAKEP11_LOG (when set), one line each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <p11-kit/pkcs11.h>

#define FAKE_SLOT 7
#define FAKE_PIN "4321"
#define H_PRIV 1
#define H_PUB 2

static struct {
    int init, logged_in, ctx_ok, rsa;
    EVP_PKEY *key;
    CK_MECHANISM_TYPE mech;
    int find_pos, find_n;
    CK_OBJECT_HANDLE found[2];
    uint8_t mod[1024], exp[16], point[70];
    size_t mod_len, exp_len, point_len;
} F;

static int mode(const char *m)
{
    const char *s = getenv("FAKEP11_MODE");
    size_t n = strlen(m);

    for (; s != NULL && *s; s += strcspn(s, ",") + (s[strcspn(s, ",")] == ',')) {
        if (strncmp(s, m, n) == 0 && (s[n] == ',' || s[n] == '\0'))
            return 1;
    }
    return 0;
}

static void note(const char *what)
{
    const char *p = getenv("FAKEP11_LOG");
    FILE *f = p != NULL ? fopen(p, "a") : NULL;

    if (f != NULL) {
        fprintf(f, "%s\n", what);
        fclose(f);
    }
}

static void pad(CK_UTF8CHAR *dst, size_t cap, const char *s)
{
    memset(dst, ' ', cap);
    memcpy(dst, s, strlen(s) < cap ? strlen(s) : cap);
}

static CK_RV load_key(void)
{
    const char *path = getenv("FAKEP11_KEY");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    BIGNUM *n = NULL, *e = NULL;

    if (f == NULL)
        return CKR_GENERAL_ERROR;
    F.key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (F.key == NULL)
        return CKR_GENERAL_ERROR;
    F.rsa = EVP_PKEY_is_a(F.key, "RSA");
    if (F.rsa) {
        EVP_PKEY_get_bn_param(F.key, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(F.key, OSSL_PKEY_PARAM_RSA_E, &e);
        F.mod_len = (size_t)BN_bn2bin(n, F.mod);
        F.exp_len = (size_t)BN_bn2bin(e, F.exp);
        BN_free(n);
        BN_free(e);
    } else {
        size_t len = 0;
        F.point[0] = 0x04;
        F.point[1] = 65;
        EVP_PKEY_get_octet_string_param(F.key, OSSL_PKEY_PARAM_PUB_KEY, F.point + 2, 65, &len);
        F.point_len = len + 2;
    }
    return CKR_OK;
}

static CK_RV fk_Initialize(CK_VOID_PTR a)
{
    (void)a;
    if (F.init)
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    if (load_key() != CKR_OK)
        return CKR_GENERAL_ERROR;
    F.init = 1;
    return CKR_OK;
}

static CK_RV fk_Finalize(CK_VOID_PTR a)
{
    (void)a;
    EVP_PKEY_free(F.key);
    memset(&F, 0, sizeof(F));
    return CKR_OK;
}

static CK_RV fk_GetInfo(CK_INFO_PTR info)
{
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = 2;
    info->cryptokiVersion.minor = 40;
    pad(info->manufacturerID, sizeof(info->manufacturerID), "msig tests");
    pad(info->libraryDescription, sizeof(info->libraryDescription), "fake token");
    return CKR_OK;
}

static CK_RV fk_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
    (void)present;
    if (list != NULL && *n < 1) {
        *n = 1;
        return CKR_BUFFER_TOO_SMALL;
    }
    if (list != NULL)
        list[0] = FAKE_SLOT;
    *n = 1;
    return CKR_OK;
}

static CK_RV fk_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    if (slot != FAKE_SLOT)
        return CKR_SLOT_ID_INVALID;
    memset(info, 0, sizeof(*info));
    pad(info->slotDescription, sizeof(info->slotDescription), "fake slot");
    pad(info->manufacturerID, sizeof(info->manufacturerID), "msig tests");
    info->flags = CKF_TOKEN_PRESENT | CKF_HW_SLOT;
    return CKR_OK;
}

static CK_RV fk_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    if (slot != FAKE_SLOT)
        return CKR_SLOT_ID_INVALID;
    memset(info, 0, sizeof(*info));
    pad(info->label, sizeof(info->label), "fake");
    pad(info->manufacturerID, sizeof(info->manufacturerID), "msig tests");
    pad(info->model, sizeof(info->model), "fakep11");
    pad(info->serialNumber, sizeof(info->serialNumber), "FAKE0001");
    info->flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
    info->flags |= mode("count-low") ? CKF_USER_PIN_COUNT_LOW : 0;
    info->flags |= mode("final-try") ? CKF_USER_PIN_FINAL_TRY : 0;
    info->flags |= mode("locked") ? CKF_USER_PIN_LOCKED : 0;
    info->flags |= mode("to-be-changed") ? CKF_USER_PIN_TO_BE_CHANGED : 0;
    info->flags |= mode("pinpad") ? CKF_PROTECTED_AUTHENTICATION_PATH : 0;
    info->ulMaxPinLen = 64;
    info->ulMinPinLen = 4;
    return CKR_OK;
}

static CK_RV fk_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i)
{
    int have = F.rsa ? (t == CKM_RSA_PKCS || (t == CKM_SHA256_RSA_PKCS && !mode("rsa-raw-only")))
                     : (t == CKM_ECDSA_SHA256 || (t == CKM_ECDSA && !mode("ec-combined-only")));

    (void)slot;
    if (!have)
        return CKR_MECHANISM_INVALID;
    memset(i, 0, sizeof(*i));
    i->flags = CKF_SIGN | CKF_HW;
    return CKR_OK;
}

static CK_RV fk_OpenSession(CK_SLOT_ID slot, CK_FLAGS fl, CK_VOID_PTR a, CK_NOTIFY n,
                            CK_SESSION_HANDLE_PTR s)
{
    (void)fl, (void)a, (void)n;
    if (slot != FAKE_SLOT)
        return CKR_SLOT_ID_INVALID;
    *s = 1;
    return CKR_OK;
}

static CK_RV fk_CloseSession(CK_SESSION_HANDLE s)
{
    (void)s;
    F.logged_in = 0;
    return CKR_OK;
}

static CK_RV fk_CloseAllSessions(CK_SLOT_ID slot)
{
    (void)slot;
    F.logged_in = 0;
    return CKR_OK;
}

static CK_RV fk_Login(CK_SESSION_HANDLE s, CK_USER_TYPE who, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    int right =
        pin == NULL ? mode("pinpad") : len == strlen(FAKE_PIN) && memcmp(pin, FAKE_PIN, len) == 0;

    (void)s;
    note(who == CKU_CONTEXT_SPECIFIC ? (pin ? "login context" : "login context pinpad")
                                     : (pin ? "login user" : "login user pinpad"));
    if (mode("locked"))
        return CKR_PIN_LOCKED;
    if (!right)
        return CKR_PIN_INCORRECT;
    if (who == CKU_CONTEXT_SPECIFIC)
        F.ctx_ok = 1;
    else
        F.logged_in = 1;
    return CKR_OK;
}

static CK_RV fk_Logout(CK_SESSION_HANDLE s)
{
    (void)s;
    F.logged_in = 0;
    return CKR_OK;
}

/* ---- objects: H_PRIV (visible after login) and H_PUB (unless no-public) */

static CK_OBJECT_CLASS cls_priv = CKO_PRIVATE_KEY, cls_pub = CKO_PUBLIC_KEY;
static CK_KEY_TYPE kt_rsa = CKK_RSA, kt_ec = CKK_EC;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* The value of attribute t of object o; NULL when it has none. */
static const void *attr(CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, CK_ULONG *len)
{
    switch (t) {
    case CKA_CLASS:
        *len = sizeof(CK_OBJECT_CLASS);
        return o == H_PRIV ? &cls_priv : &cls_pub;
    case CKA_KEY_TYPE:
        *len = sizeof(CK_KEY_TYPE);
        return F.rsa ? &kt_rsa : &kt_ec;
    case CKA_ID:
        *len = 1;
        return "\x01";
    case CKA_LABEL:
        *len = 2;
        return "fk";
    case CKA_SIGN:
        *len = sizeof(CK_BBOOL);
        return o == H_PRIV ? &yes : &no;
    case CKA_ALWAYS_AUTHENTICATE:
        *len = sizeof(CK_BBOOL);
        return o == H_PRIV && mode("always-auth") ? &yes : &no;
    case CKA_MODULUS:
        *len = F.mod_len;
        return F.rsa ? F.mod : NULL;
    case CKA_PUBLIC_EXPONENT:
        *len = F.exp_len;
        return F.rsa ? F.exp : NULL;
    case CKA_EC_PARAMS:
        *len = sizeof(p256_oid);
        return F.rsa ? NULL : p256_oid;
    case CKA_EC_POINT:
        *len = F.point_len;
        return F.rsa || o == H_PRIV ? NULL : F.point;
    default:
        return NULL;
    }
}

static int visible(CK_OBJECT_HANDLE o)
{
    return o == H_PRIV ? F.logged_in : !mode("no-public");
}

static CK_RV fk_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    (void)s;
    F.find_n = F.find_pos = 0;
    for (CK_OBJECT_HANDLE o = H_PRIV; o <= H_PUB; o++) {
        int match = visible(o);
        for (CK_ULONG i = 0; match && i < n; i++) {
            CK_ULONG len = 0;
            const void *v = attr(o, t[i].type, &len);
            match = v != NULL && len == t[i].ulValueLen && memcmp(v, t[i].pValue, len) == 0;
        }
        if (match)
            F.found[F.find_n++] = o;
    }
    return CKR_OK;
}

static CK_RV fk_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
                            CK_ULONG_PTR n)
{
    (void)s;
    *n = 0;
    while (*n < max && F.find_pos < F.find_n)
        out[(*n)++] = F.found[F.find_pos++];
    return CKR_OK;
}

static CK_RV fk_FindObjectsFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    return CKR_OK;
}

static CK_RV fk_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                                  CK_ULONG n)
{
    CK_RV rv = CKR_OK;

    (void)s;
    if ((o != H_PRIV && o != H_PUB) || !visible(o))
        return CKR_OBJECT_HANDLE_INVALID;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_ULONG len = 0;
        const void *v = attr(o, t[i].type, &len);
        if (v == NULL) {
            t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_ATTRIBUTE_TYPE_INVALID;
        } else if (t[i].pValue != NULL && t[i].ulValueLen < len) {
            t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            if (t[i].pValue != NULL)
                memcpy(t[i].pValue, v, len);
            t[i].ulValueLen = len;
        }
    }
    return rv;
}

/* ---- signing */

static CK_RV fk_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE o)
{
    CK_MECHANISM_INFO info;

    (void)s;
    if (o != H_PRIV || !F.logged_in)
        return CKR_KEY_HANDLE_INVALID;
    if (fk_GetMechanismInfo(FAKE_SLOT, m->mechanism, &info) != CKR_OK)
        return CKR_MECHANISM_INVALID;
    F.mech = m->mechanism;
    F.ctx_ok = 0;
    return CKR_OK;
}

/* ECDSA DER -> r||s, 32 bytes each. */
static void der_to_raw(const uint8_t *der, size_t len, uint8_t out[64])
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
    const BIGNUM *r = NULL, *s = NULL;

    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, out, 32);
    BN_bn2binpad(s, out + 32, 32);
    ECDSA_SIG_free(sig);
}

static CK_RV fk_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR sig,
                     CK_ULONG_PTR sig_len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(F.key, NULL);
    uint8_t dg[32], der[80];
    size_t n = F.rsa ? (size_t)EVP_PKEY_get_size(F.key) : sizeof(der);
    const uint8_t *data = in;
    size_t dlen = len;
    int ok;

    (void)s;
    note("sign");
    if (mode("removed")) {
        EVP_PKEY_CTX_free(c);
        return CKR_DEVICE_REMOVED;
    }
    if (mode("always-auth") && !F.ctx_ok) {
        EVP_PKEY_CTX_free(c);
        return CKR_USER_NOT_LOGGED_IN;
    }
    if (sig == NULL || *sig_len < (F.rsa ? n : 64)) {
        *sig_len = F.rsa ? n : 64;
        EVP_PKEY_CTX_free(c);
        return sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    }
    if (F.mech == CKM_SHA256_RSA_PKCS || F.mech == CKM_ECDSA_SHA256) {
        EVP_Digest(in, len, dg, NULL, EVP_sha256(), NULL);
        data = dg;
        dlen = 32;
    }
    ok = c != NULL && EVP_PKEY_sign_init(c) == 1;
    if (ok && F.rsa)
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
             (F.mech != CKM_SHA256_RSA_PKCS || EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1);
    ok = ok && EVP_PKEY_sign(c, F.rsa ? sig : der, &n, data, dlen) == 1;
    EVP_PKEY_CTX_free(c);
    F.ctx_ok = 0;
    if (!ok)
        return CKR_FUNCTION_FAILED;
    if (!F.rsa) {
        der_to_raw(der, n, sig);
        n = 64;
    }
    *sig_len = (CK_ULONG)n;
    return CKR_OK;
}

static CK_FUNCTION_LIST fake_list;

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);
__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
    fake_list.version.major = 2;
    fake_list.version.minor = 40;
    fake_list.C_Initialize = fk_Initialize;
    fake_list.C_Finalize = fk_Finalize;
    fake_list.C_GetInfo = fk_GetInfo;
    fake_list.C_GetFunctionList = C_GetFunctionList;
    fake_list.C_GetSlotList = fk_GetSlotList;
    fake_list.C_GetSlotInfo = fk_GetSlotInfo;
    fake_list.C_GetTokenInfo = fk_GetTokenInfo;
    fake_list.C_GetMechanismInfo = fk_GetMechanismInfo;
    fake_list.C_OpenSession = fk_OpenSession;
    fake_list.C_CloseSession = fk_CloseSession;
    fake_list.C_CloseAllSessions = fk_CloseAllSessions;
    fake_list.C_Login = fk_Login;
    fake_list.C_Logout = fk_Logout;
    fake_list.C_FindObjectsInit = fk_FindObjectsInit;
    fake_list.C_FindObjects = fk_FindObjects;
    fake_list.C_FindObjectsFinal = fk_FindObjectsFinal;
    fake_list.C_GetAttributeValue = fk_GetAttributeValue;
    fake_list.C_SignInit = fk_SignInit;
    fake_list.C_Sign = fk_Sign;
    *out = &fake_list;
    return CKR_OK;
}
