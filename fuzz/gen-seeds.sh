#!/usr/bin/env bash
# gen-seeds.sh -- regenerates the small seed inputs in fuzz/corpus/<harness>/.
# Needs python3, gzip, xz, zstd, openssl and mender-artifact. The seeds are committed; run this
# only to rebuild them. Crash reproducers (crash-*) in the same folders are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$c"/{manifest,reader,sigfmt,zstream}
find "$c" -type f -name 'seed-*' -delete

# ---- manifest: canonical lists and one broken form per rule
h=$(printf 'x' | sha256sum | cut -c1-64)
H=$(printf '%s' "$h" | tr a-f A-F)
printf '%s  version\n' "$h" >"$c/manifest/seed-one"
printf '%s  version\n%s  header.tar.gz\n%s  data/0000/file.bin\n' "$h" "$h" "$h" >"$c/manifest/seed-three"
printf '%s  version\r\n' "$h" >"$c/manifest/seed-crlf"
printf '%s  version' "$h" >"$c/manifest/seed-nofinalnl"
printf '%s version\n' "$h" >"$c/manifest/seed-onespace"
printf '%s  version\n' "$H" >"$c/manifest/seed-upperhex"
printf '%s  a\n%s  a\n' "$h" "$h" >"$c/manifest/seed-dup"
printf '%s  a\n\n' "$h" >"$c/manifest/seed-blank"
printf '%s  a b\n' "$h" >"$c/manifest/seed-space-in-name"

# ---- sigfmt: base64 texts, DER and raw P-256 signatures
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ec.pem" 2>/dev/null
printf 'manifest bytes\n' >"$tmp/msg"
openssl dgst -sha256 -sign "$tmp/ec.pem" -out "$c/sigfmt/seed-der" "$tmp/msg"
python3 - "$c/sigfmt" <<'PY'
import base64, sys, os
d = sys.argv[1]
der = open(os.path.join(d, "seed-der"), "rb").read()
# DER -> r||s by hand, only to make a seed
i = 2
def integer(i):
    n = der[i + 1]; v = der[i + 2:i + 2 + n]; return v.lstrip(b"\0").rjust(32, b"\0"), i + 2 + n
r, i = integer(i); s, i = integer(i)
raw = r + s
w = lambda n, b: open(os.path.join(d, "seed-" + n), "wb").write(b)
w("raw", raw)
w("b64-raw", base64.b64encode(raw))
w("b64-der", base64.b64encode(der))
w("b64-newlines", base64.b64encode(raw)[:20] + b"\r\n" + base64.b64encode(raw)[20:] + b"\n")
w("b64-nopad", base64.b64encode(b"ab").rstrip(b"="))
w("b64-onepad", base64.b64encode(b"ab"))
w("b64-twopad", base64.b64encode(b"a"))
w("b64-garbage-after", base64.b64encode(b"a") + b"x")
w("b64-384", base64.b64encode(bytes(range(256)) + bytes(128)))
w("empty", b"")
PY

# ---- zstream: [mode][step] + stream. mode bits 0-1 family (0 none 1 gzip 2 xz 3 zstd),
# bit 2 round trip.
printf 'hello, fuzz world\n%.0s' {1..20} >"$tmp/plain"
gzip -9n -c "$tmp/plain" >"$tmp/p.gz"
xz -c "$tmp/plain" >"$tmp/p.xz"
zstd -q --check -c "$tmp/plain" >"$tmp/p.zst"
cat "$tmp/p.gz" "$tmp/p.gz" >"$tmp/p2.gz"
seed() { { printf "\\x$(printf %02x "$2")\\x$(printf %02x "$3")"; cat "$4"; } >"$c/zstream/seed-$1"; }
seed none 0 0 "$tmp/plain"
seed gzip 1 0 "$tmp/p.gz"
seed gzip-step1 1 1 "$tmp/p.gz"
seed gzip-two-members 1 7 "$tmp/p2.gz"
seed xz 2 0 "$tmp/p.xz"
seed xz-step3 2 3 "$tmp/p.xz"
seed zstd 3 0 "$tmp/p.zst"
seed zstd-step5 3 5 "$tmp/p.zst"
head -c 20 "$tmp/p.gz" >"$tmp/t.gz"; seed gzip-truncated 1 0 "$tmp/t.gz"
cat "$tmp/p.zst" "$tmp/plain" >"$tmp/g.zst"; seed zstd-trailing 3 0 "$tmp/g.zst"
seed trip-none 4 0 "$tmp/plain"
seed trip-gzip 5 2 "$tmp/plain"
seed trip-zstd 7 9 "$tmp/plain"

# ---- reader: small artifacts (module-image, none, gzip, lzma; bootstrap)
printf 'payload\n' >"$tmp/file.bin"
for comp in none gzip lzma; do  # zstd artifacts: zstd-* in the interop corpus
  mender-artifact write module-image -T fuzz-type -t dev -n "fuzz-$comp" \
    --compression "$comp" -f "$tmp/file.bin" -o "$c/reader/seed-module-$comp.mender" >/dev/null
done
mender-artifact write bootstrap-artifact -t dev -n fuzz-boot --compression none \
  -o "$c/reader/seed-bootstrap.mender" >/dev/null
du -sh "$c"
