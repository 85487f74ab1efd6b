#!/usr/bin/env bash
# scripts/debs.sh [OUT_DIR] -- builds the Debian packages from the tracked files (a copy, so
# nothing is written beside the source), runs lintian on them (errors fail), and checks
# what each package holds. The .deb files end up in OUT_DIR (default: build-debs/).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-debs}
version=$(sed -n '1s/^msig (\([^)]*\)).*/\1/p' "$src/debian/changelog")
rm -rf "$out"
mkdir -p "$out/msig-$version"
(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$out/msig-$version" -xf -
(cd "$out/msig-$version" && dpkg-buildpackage -us -uc -b)
lintian --fail-on error "$out/msig_${version}_$(dpkg --print-architecture).changes"
# Each package holds what it is for.
check() { # check PACKAGE PATH-PATTERN
  local list
  list=$(dpkg-deb -c "$out/$1_${version}_$(dpkg --print-architecture).deb")
  grep -q -- "$2" <<<"$list" || { echo "debs.sh: $1 does not hold $2" >&2; exit 1; }
}
check msig ./usr/bin/msig
check msig ./usr/share/man/man1/msig.1
check msig ./usr/share/bash-completion/completions/msig
check libmsig0 'libmsig.so.0'
check libmsig-dev ./usr/include/msig/msig_plugin.h
check libmsig-dev 'cmake/msig/msigConfig.cmake'
check libmsig-dev 'pkgconfig/msig-plugin.pc'
check msig-plugin-pkcs11 'msig/plugins/msig-pkcs11.so'
check msig-plugin-kms 'msig/plugins/msig-kms.so'
check msig-plugin-ossl 'msig/plugins/msig-ossl.so'
check msig-ossl-provider 'ossl-modules/msig.so'
# libmsig0 must not pull p11-kit, libcurl or ext2fs (an agent that only verifies).
deps=$(dpkg-deb -f "$out/libmsig0_${version}_$(dpkg --print-architecture).deb" Depends)
case $deps in *p11-kit* | *curl* | *ext2fs*) echo "debs.sh: libmsig0 depends on $deps" >&2; exit 1 ;; esac
# The unpacked packages work together: the tool runs, sees the plugins of the packages.
root=$out/root
for d in "$out"/*.deb; do case $d in *-dbgsym_*) ;; *) dpkg-deb -x "$d" "$root" ;; esac; done
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
LD_LIBRARY_PATH=$root/usr/lib/$multi MSIG_PLUGIN_PATH=$root/usr/lib/$multi/msig/plugins \
  "$root/usr/bin/msig" plugins | grep -q "pkcs11 1.0" ||
  { echo "debs.sh: the unpacked msig does not load the packaged pkcs11 plugin" >&2; exit 1; }
echo "debs.sh: packages built and checked in $out: $(cd "$out" && ls *.deb | tr '\n' ' ')"
