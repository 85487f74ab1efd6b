#!/usr/bin/env bash
# scripts/demo.sh [BUILD_DIR] -- the main job of msig, shown end to end:
# make a key pair, write a signed rootfs-image Artifact, validate and read it with msig,
# sign an unsigned Artifact afterwards, and let the real mender-artifact accept both.
# Prints every command before running it; stops at the first failure (non-zero exit).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" 2>/dev/null && pwd) || { echo "demo: build dir ${1:-$src/build} not found; run scripts/build.sh first" >&2; exit 1; }
MSIG=${MSIG:-$build/cli/msig}
[ -x "$MSIG" ] || { echo "demo: $MSIG not found; run scripts/build.sh first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/msig-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { # print the command (shell-quoted), then run it
  printf '\n$'; printf ' %q' "$@"; printf '\n'
  "$@"
}
expect_fail() { # print and run a command that must fail
  printf '\n$'; printf ' %q' "$@"; printf '   # must fail\n'
  if "$@"; then echo "demo: that command should have failed" >&2; exit 1; fi
  echo "(failed as expected)"
}

echo "== demo in $work, msig = $MSIG"
echo "== 1. a key pair (RSA 3072, traditional PEM as mender-artifact 3.9 wants it)"
step openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -quiet -out key-pkcs8.pem
step openssl rsa -in key-pkcs8.pem -traditional -out key.pem
step openssl pkey -in key.pem -pubout -out key.pub.pem
step openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -quiet -out other.pem
step openssl pkey -in other.pem -pubout -out other.pub.pem

echo; echo "== 2. a small payload (a 1 MiB 'rootfs' image)"
step openssl rand -out rootfs.img 1048576

echo; echo "== 3. write a rootfs-image Artifact, signed while writing"
step "$MSIG" write rootfs-image -t demo-device -n demo-release-1 -f rootfs.img \
  -k key.pem -o demo-signed.mender
step "$MSIG" validate -k key.pub.pem demo-signed.mender
step "$MSIG" read --no-progress -k key.pub.pem demo-signed.mender
expect_fail "$MSIG" validate -k other.pub.pem demo-signed.mender
expect_fail "$MSIG" validate demo-signed.mender

echo; echo "== 4. sign an unsigned Artifact afterwards"
step "$MSIG" write rootfs-image -t demo-device -n demo-release-2 -f rootfs.img -o demo-unsigned.mender
step "$MSIG" validate demo-unsigned.mender
step "$MSIG" sign -k key.pem -o demo-signed-after.mender demo-unsigned.mender
step "$MSIG" validate -k key.pub.pem demo-signed-after.mender

echo; echo "== 5. the real mender-artifact accepts what msig wrote and signed"
if command -v mender-artifact >/dev/null 2>&1; then
  step mender-artifact validate -k key.pub.pem demo-signed.mender
  step mender-artifact validate -k key.pub.pem demo-signed-after.mender
  step mender-artifact read --no-progress -k key.pub.pem demo-signed.mender
else
  echo "demo: mender-artifact is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi

echo; echo "== demo finished: all steps succeeded"
