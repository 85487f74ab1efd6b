#!/usr/bin/env bash
# scripts/deps.sh -- install what msig needs to build, test and benchmark (Debian 12, as root).
# Installs only the packages that are missing; does nothing (no apt-get at all) when all are present.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config                      # build
  libssl-dev libarchive-dev libjansson-dev zlib1g-dev liblzma-dev libzstd-dev libisal-dev
  libdeflate-dev
  libp11-kit-dev libcurl4-openssl-dev                   # libraries
  libext2fs-dev libfdisk-dev                            # the image commands (image/)
  openssl mender-artifact perl xz-utils zstd gzip git ca-certificates python3   # tests
  e2fsprogs time gnuplot-nox                            # bench, image tests (mkfs.ext4, debugfs, e2fsck; GNU time; chart)
  fdisk parted dosfstools                               # image tests (sfdisk; parted for mender-artifact)
  mtools                                                # FAT boot partitions (msig and mender-artifact run mcopy, mtype...)
  scdoc zsh                                             # man pages (docs/man/*.scd), completion test
  clang clang-format man-db                             # CI guards: libFuzzer runs, layout; man -l
  debhelper dpkg-dev fakeroot lintian                   # CI guards: the Debian packages
  python3-cryptography python3-hvac python3-google-auth python3-urllib3  # tests/kms fakes
  p11-kit softhsm2 opensc libnss3-tools                 # tests/pkcs11 (tokens, pkcs11-tool, NSS)
  swtpm swtpm-tools tpm2-tools tpm2-openssl             # tests/ossl (TPM 2.0 simulator, provider)
  openssh-client openssh-server dosfstools util-linux   # write -f ssh:// (tests/cli/snapshot.t)
)

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$status" in ii*) ;; *) missing+=("$p") ;; esac
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages are installed"
  exit 0
fi

echo "deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: run this script as root (apt-get install needs it), or install the packages above" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages install no running services (openssh-server would start sshd on every address):
# the tests start their own, on 127.0.0.1 only. policy-rc.d is Debian's switch for that.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
