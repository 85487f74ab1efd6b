/* test_sigfmt.c -- ECDSA DER <-> r||s conversion and the manifest.sig base64 rules. */
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "sigfmt.h"
#include "tap.h"

static void test_der_to_raw(void)
{
    /* SEQUENCE { INTEGER 1, INTEGER 2 }: short r and s are left-padded to 32 bytes. */
    static const uint8_t small[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
    uint8_t raw[64], want[64] = { 0 };
    want[31] = 1;
    want[63] = 2;
    is_int(msigi_sigfmt_der_to_raw(small, sizeof(small), raw), 0, "/sigfmt/der2raw/short r,s");
    is_mem(raw, 64, want, 64, "/sigfmt/der2raw/short r,s padded");

    /* r with the high bit set carries a leading 0x00 in DER that must be dropped. */
    uint8_t big[8 + 33 + 1];
    size_t n = 0;
    big[n++] = 0x30;
    big[n++] = 0x26;
    big[n++] = 0x02;
    big[n++] = 0x21;
    big[n++] = 0x00;
    for (int i = 0; i < 32; i++)
        big[n++] = (uint8_t)(0x80 + i);
    big[n++] = 0x02;
    big[n++] = 0x01;
    big[n++] = 0x05;
    memset(want, 0, sizeof(want));
    for (int i = 0; i < 32; i++)
        want[i] = (uint8_t)(0x80 + i);
    want[63] = 5;
    is_int(msigi_sigfmt_der_to_raw(big, n, raw), 0, "/sigfmt/der2raw/leading zero r");
    is_mem(raw, 64, want, 64, "/sigfmt/der2raw/leading zero r value");

    uint8_t trailing[sizeof(small) + 1];
    memcpy(trailing, small, sizeof(small));
    trailing[sizeof(small)] = 0;
    is_int(msigi_sigfmt_der_to_raw(trailing, sizeof(trailing), raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/trailing byte refused");
    static const uint8_t longform[] = { 0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
    is_int(msigi_sigfmt_der_to_raw(longform, sizeof(longform), raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/non-minimal length refused");
    static const uint8_t padded[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02 };
    is_int(msigi_sigfmt_der_to_raw(padded, sizeof(padded), raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/superfluous zero refused");
    static const uint8_t badtag[] = { 0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
    is_int(msigi_sigfmt_der_to_raw(badtag, sizeof(badtag), raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/SET instead of SEQUENCE refused");
    is_int(msigi_sigfmt_der_to_raw(small, 5, raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/truncated refused");
    /* r of 33 significant bytes does not fit P-256. */
    uint8_t huge[2 + 2 + 33 + 3];
    n = 0;
    huge[n++] = 0x30;
    huge[n++] = 0x26;
    huge[n++] = 0x02;
    huge[n++] = 0x21;
    for (int i = 0; i < 33; i++)
        huge[n++] = 0x11;
    huge[n++] = 0x02;
    huge[n++] = 0x01;
    huge[n++] = 0x05;
    is_int(msigi_sigfmt_der_to_raw(huge, n, raw), MSIG_E_FORMAT,
           "/sigfmt/der2raw/33-byte r refused");
}

static void roundtrip(uint8_t r0, uint8_t s0, size_t want_len, const char *name)
{
    uint8_t raw[64], back[64];
    for (int i = 0; i < 64; i++)
        raw[i] = (uint8_t)(i * 7 + 3);
    raw[0] = r0;
    raw[32] = s0;
    uint8_t *der = NULL;
    size_t der_len = 0;
    is_int(msigi_sigfmt_raw_to_der(raw, &der, &der_len), 0, "/sigfmt/raw2der/%s", name);
    is_int((long long)der_len, (long long)want_len, "/sigfmt/raw2der/%s length", name);
    is_int(msigi_sigfmt_der_to_raw(der, der_len, back), 0, "/sigfmt/raw2der/%s back", name);
    is_mem(back, 64, raw, 64, "/sigfmt/raw2der/%s round trip", name);
    msigi_free(der);
}

static void test_b64(void)
{
    uint8_t *out = NULL;
    size_t out_len = 0, bad = 0;
    char *enc = NULL;
    size_t enc_len = 0;

    uint8_t sig[64];
    for (int i = 0; i < 64; i++)
        sig[i] = (uint8_t)(255 - i * 3);
    is_int(msigi_sigfmt_b64_encode(sig, sizeof(sig), &enc, &enc_len), 0, "/b64/encode");
    is_int((long long)enc_len, 88, "/b64/encode 64 bytes -> 88 chars");
    ok(enc && strchr(enc, '\n') == NULL && enc[86] == '=' && enc[87] == '=',
       "/b64/encode one line, padded");

    is_int(msigi_sigfmt_b64_decode((uint8_t *)enc, enc_len, &out, &out_len, &bad), 0,
           "/b64/decode");
    is_mem(out, out_len, sig, sizeof(sig), "/b64/decode round trip");
    msigi_free(out);

    /* CR and LF anywhere are skipped. */
    char wrapped[200];
    snprintf(wrapped, sizeof(wrapped), "%.10s\r\n%.40s\n%s\r\n", enc, enc + 10, enc + 50);
    is_int(msigi_sigfmt_b64_decode((uint8_t *)wrapped, strlen(wrapped), &out, &out_len, &bad), 0,
           "/b64/decode CRLF and LF wrapped");
    is_mem(out, out_len, sig, sizeof(sig), "/b64/decode wrapped value");
    msigi_free(out);

    /* A space after the text: Go reports input byte 88 (as mender-artifact 3.9.0). */
    char spaced[100];
    snprintf(spaced, sizeof(spaced), "%s ", enc);
    is_int(msigi_sigfmt_b64_decode((uint8_t *)spaced, strlen(spaced), &out, &out_len, &bad),
           MSIG_E_FORMAT, "/b64/decode trailing space refused");
    is_int((long long)bad, 88, "/b64/decode trailing space at byte 88");
    snprintf(spaced, sizeof(spaced), "%.20s %s", enc, enc + 20);
    msigi_sigfmt_b64_decode((uint8_t *)spaced, strlen(spaced), &out, &out_len, &bad);
    is_int((long long)bad, 20, "/b64/decode inner space at byte 20");

    /* Missing padding: 86 chars, Go reports byte 84. */
    is_int(msigi_sigfmt_b64_decode((uint8_t *)enc, 86, &out, &out_len, &bad), MSIG_E_FORMAT,
           "/b64/decode missing padding refused");
    is_int((long long)bad, 84, "/b64/decode missing padding at byte 84");
    is_int(msigi_sigfmt_b64_decode((uint8_t *)enc, 87, &out, &out_len, &bad), MSIG_E_FORMAT,
           "/b64/decode half padding refused");
    is_int((long long)bad, 87, "/b64/decode half padding at byte 87");

    is_int(msigi_sigfmt_b64_decode((const uint8_t *)"QUJD\nRA==\nQQ", 12, &out, &out_len, &bad),
           MSIG_E_FORMAT, "/b64/decode data after padding refused");
    is_int((long long)bad, 10, "/b64/decode data after padding offset");
    is_int(msigi_sigfmt_b64_decode((const uint8_t *)"A===", 4, &out, &out_len, &bad), MSIG_E_FORMAT,
           "/b64/decode padding at position 1 refused");
    is_int((long long)bad, 1, "/b64/decode padding at position 1 offset");
    is_int(msigi_sigfmt_b64_decode((const uint8_t *)"QUJDRA==\n", 9, &out, &out_len, &bad), 0,
           "/b64/decode trailing newline accepted");
    is_mem(out, out_len, "ABCD", 4, "/b64/decode ABCD");
    msigi_free(out);
    is_int(msigi_sigfmt_b64_decode((const uint8_t *)"", 0, &out, &out_len, &bad), 0,
           "/b64/decode empty");
    is_int((long long)out_len, 0, "/b64/decode empty gives 0 bytes");
    msigi_free(out);
    uint8_t binary[4] = { 0x30, 0x82, 0x01, 0x00 };
    is_int(msigi_sigfmt_b64_decode(binary, 4, &out, &out_len, &bad), MSIG_E_FORMAT,
           "/b64/decode raw binary refused");
    is_int((long long)bad, 1, "/b64/decode raw binary offset");
    msigi_free(enc);
}

int main(void)
{
    test_der_to_raw();
    /* Both high bits set: 72 bytes; one: 71; none: 70; r with leading zero byte: 69. */
    roundtrip(0x80, 0x90, 72, "72 bytes");
    roundtrip(0x80, 0x10, 71, "71 bytes");
    roundtrip(0x10, 0x20, 70, "70 bytes");
    roundtrip(0x00, 0x20, 69, "69 bytes (r with leading zero)");
    test_b64();
    return done_testing();
}
