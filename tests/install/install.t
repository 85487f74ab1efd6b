#!/usr/bin/env bash
# install.t -- msig as integrators get it: `cmake --install` into a private prefix, then
# pkg-config, the public headers on their own (C11 and C++), examples/embed.c built and run
# against the interop corpus, and the exported symbols of libmsig.so.
. "$(dirname "$0")/../lib.sh"

need cmake pkg-config cc g++ nm readelf mender-artifact openssl

PREFIX=$TMPD/prefix
I=$MSIG_INTEROP
K=$I/keys

run cmake --install "$MSIG_BUILD_DIR" --prefix "$PREFIX"
is "$rc" 0 "cmake --install into a private prefix" || diag "$err"

# GNUInstallDirs picks lib, lib64 or lib/<multiarch>; find where msig.pc went.
pcfile=$(find "$PREFIX" -name msig.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pcfile" ] || bail "no msig.pc under $PREFIX"
PCDIR=$(dirname "$pcfile")
LIBDIR=$(dirname "$PCDIR")
export PKG_CONFIG_PATH=$PCDIR
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
ok "$([ -e "$LIBDIR/libmsig.so.0" ] && echo 0 || echo 1)" "libmsig.so.0 is in $LIBDIR"
ok "$([ -f "$PREFIX/include/msig/msig.h" ] && [ -f "$PREFIX/include/msig/msig_plugin.h" ] \
      && echo 0 || echo 1)" "public headers installed under include/msig"
ok "$([ -x "$PREFIX/bin/msig" ] && echo 0 || echo 1)" "the CLI is installed in bin"

# ---------------------------------------------------------------- pkg-config
want_version=$(sed -n 's/^#define MSIG_VERSION_STRING "\(.*\)"/\1/p' \
               "$MSIG_SOURCE_DIR/include/msig/msig.h")
run pkg-config --modversion msig
is "$out" "$want_version" "pkg-config --modversion msig = MSIG_VERSION_STRING"
run pkg-config --modversion msig-plugin
is "$out" "$want_version" "pkg-config --modversion msig-plugin"

# The .pc files must describe the prefix they were installed into, not the configure-time
# CMAKE_INSTALL_PREFIX, or `cmake --install --prefix` (and DESTDIR staging) gives a
# pkg-config that points elsewhere.
# The paths are relative to the .pc file (${pcfiledir}/../..): compare them resolved.
canon() { readlink -m "$1"; }
is "$(canon "$(pkg-config --variable=includedir msig)")" "$(canon "$PREFIX/include")" \
   "msig.pc includedir is the install prefix's include dir"
is "$(canon "$(pkg-config --variable=libdir msig)")" "$(canon "$LIBDIR")" \
   "msig.pc libdir is the install libdir"
is "$(canon "$(pkg-config --variable=includedir msig-plugin)")" "$(canon "$PREFIX/include")" \
   "msig-plugin.pc includedir is the install prefix's include dir"

PCDEF=()
CFLAGS_MSIG=$(pkg-config "${PCDEF[@]}" --cflags msig)
LIBS_MSIG=$(pkg-config "${PCDEF[@]}" --libs msig)
like " $LIBS_MSIG " " -lmsig " "pkg-config --libs msig has -lmsig"

run pkg-config --libs msig-plugin
unlike " $out " "-lmsig" "msig-plugin.pc does not link libmsig"
run pkg-config --variable=pluginsdir msig-plugin
ok "$([ "$rc" -eq 0 ] && [ -n "$out" ] && echo 0 || echo 1)" \
   "msig-plugin.pc carries the pluginsdir variable ('$out')"
grep -q '^pluginsdir=' "$PCDIR/msig-plugin.pc"
ok $? "pluginsdir is a variable of msig-plugin.pc"

# ---------------------------------------------------------------- headers alone
for h in msig.h msig_plugin.h msig_types.h; do
  printf '#include <msig/%s>\nint main(void) { return 0; }\n' "$h" >"$TMPD/h-$h.c"
  run cc -std=c11 -Wall -Wextra -pedantic -Werror $CFLAGS_MSIG -c "$TMPD/h-$h.c" \
     -o "$TMPD/h-$h.o"
  is "$rc" 0 "<msig/$h> compiles alone as C11 -pedantic -Werror" || diag "$err"
  printf '#include <msig/%s>\nint main() { return 0; }\n' "$h" >"$TMPD/h-$h.cpp"
  run g++ -std=c++17 -Wall -Wextra -pedantic -Werror -fsyntax-only $CFLAGS_MSIG \
     "$TMPD/h-$h.cpp"
  is "$rc" 0 "<msig/$h> compiles alone as C++17" || diag "$err"
done
# extern "C": a C++ program links against the C library.
cat >"$TMPD/link.cpp" <<'EOF'
#include <msig/msig.h>
#include <cstdio>
int main() { std::printf("%s\n", msig_version()); return 0; }
EOF
run g++ -std=c++17 $CFLAGS_MSIG "$TMPD/link.cpp" -o "$TMPD/link-cpp" $LIBS_MSIG
is "$rc" 0 "a C++ program links with libmsig (extern \"C\")" || diag "$err"
run env LD_LIBRARY_PATH="$LIBDIR" "$TMPD/link-cpp"
is "$out" "$want_version" "msig_version() from C++ = the header's version"

# ---------------------------------------------------------------- the embedding example
EMBED=$TMPD/embed
run cc -std=c11 -Wall -Wextra -pedantic -Werror $CFLAGS_MSIG \
   "$MSIG_SOURCE_DIR/examples/embed.c" -o "$EMBED" $LIBS_MSIG
is "$rc" 0 "examples/embed.c builds with pkg-config msig, -Werror" || diag "$err"
[ -x "$EMBED" ] || bail "examples/embed.c did not build"
# The example must run on the installed library, not on the build tree's.
run env LD_LIBRARY_PATH="$LIBDIR" ldd "$EMBED"
like "$out" "$LIBDIR/libmsig.so.0" "embed resolves libmsig.so.0 from the install prefix"
embed() { run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$TMPD/noplugins" "$EMBED" "$@"; }
mkdir -m 0700 "$TMPD/noplugins"

embed
is "$rc" 2 "embed without arguments: usage, exit 2"

# Signed, right key: installable; the agent sees what it needs.
embed verify "$I/rootfs-options-rsa3072.mender" "$K/rsa3072-public.pem"
is "$rc" 0 "verify signed artifact with the right key: exit 0" || diag "$err"
like "$out" "artifact: rootfs-options-rsa3072" "name printed"
like "$out" "signature: verified" "signature verified"
like "$out" "compatible devices: interop-dev" "compatible devices printed"
like "$out" "provides group: group-a" "provides group printed"
like "$out" "payload 0 type: rootfs-image" "payload type printed"
like "$out" "payload 0 provides: rootfs-image.myos.version=1.2.3" "payload provides printed"
like "$out" "payload 0 provides: rootfs-image.checksum=02b414cd8472dfb349c4dbac67d84d4ae9e8c5e57f51f90109f9844de431f862" \
     "checksum provide printed"

embed verify "$I/module-multidev-rsa2048.mender" "$K/rsa3072-b-public.pem" "$K/rsa2048-public.pem"
is "$rc" 0 "verify with a key set: the second key verifies" || diag "$err"
like "$out" "compatible devices: " "device list printed"
n_dev=$(grep '^compatible devices:' <<<"$out" | wc -w)
is "$n_dev" 4 "module-multidev: two compatible devices listed"

# From a pipe: the descriptor is read once, front to back.
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$TMPD/noplugins" \
   sh -c 'cat "$1" | "$2" verify /dev/stdin "$3"' sh "$I/rootfs-options-rsa3072.mender" \
   "$EMBED" "$K/rsa3072-public.pem"
is "$rc" 0 "verify from a pipe" || diag "$err"
like "$out" "artifact: rootfs-options-rsa3072" "verify from a pipe: name printed"

embed verify "$I/rootfs-p256-gzip.mender" "$K/p256-public.pem"
is "$rc" 0 "verify ECDSA P-256 artifact with the right key" || diag "$err"

# Signed, wrong key: refused with the reason, nothing printed for the agent.
embed verify "$I/rootfs-options-rsa3072.mender" "$K/rsa3072-b-public.pem"
is "$rc" 1 "verify signed artifact with the wrong key: exit 1"
like "$err" "rootfs-options-rsa3072.mender" "wrong key: message names the artifact"
like "$err" "verification failed" "wrong key: message says verification failed"
like "$err" "rsa3072-b-public.pem" "wrong key: message names the key tried"
unlike "$out" "artifact:" "wrong key: nothing printed on stdout"

# Signed, no key: "missing verifier".
embed verify "$I/rootfs-options-rsa3072.mender"
is "$rc" 1 "verify signed artifact without a key: exit 1"
like "$err" "missing verifier" "no key: missing verifier"

# Unsigned with a key: "missing signature".
embed verify "$I/rootfs-unsigned-gzip.mender" "$K/rsa3072-public.pem"
is "$rc" 1 "verify unsigned artifact with a key: exit 1"
like "$err" "missing signature" "unsigned with a key: missing signature"
unlike "$out" "artifact:" "unsigned with a key: nothing printed on stdout"

# Unsigned, no key: installable (the agent chose not to require signatures).
embed verify "$I/rootfs-unsigned-gzip.mender"
is "$rc" 0 "verify unsigned artifact without keys: exit 0" || diag "$err"
like "$out" "signature: none" "unsigned: signature none"

# Tampered payload (signature intact): checksum error, even with the right key.
embed verify "$I/neg-payload-flip-rsa3072-gzip.mender" "$K/rsa3072-public.pem"
is "$rc" 1 "verify tampered artifact: exit 1"
like "$err" "checksum" "tampered: checksum error"
like "$err" "rootfs-8k.bin" "tampered: message names the payload file"
unlike "$out" "artifact:" "tampered: nothing printed on stdout"

embed verify "$I/neg-manifest-sum-unsigned.mender"
is "$rc" 1 "verify unsigned artifact with a wrong manifest checksum: exit 1"
like "$err" "checksum" "manifest checksum mismatch reported"

embed verify "$TMPD/does-not-exist.mender"
is "$rc" 1 "verify a missing file: exit 1"
like "$err" "does-not-exist.mender" "missing file named"

embed verify "$I/rootfs-unsigned-gzip.mender" "$TMPD/nokey.pem"
is "$rc" 1 "verify with an unreadable key file: exit 1"
like "$err" "nokey.pem" "the unreadable key file is named"

# ---------------------------------------------------------------- signing with the example
cp "$I/rootfs-unsigned-gzip.mender" "$TMPD/in.mender"
chmod 0640 "$TMPD/in.mender"
cp "$TMPD/in.mender" "$TMPD/in.orig"
embed sign "$K/rsa3072-private-pkcs8.pem" "$TMPD/in.mender" "$TMPD/signed.mender"
is "$rc" 0 "embed sign with a PEM key file" || diag "$err"
cmp -s "$TMPD/in.mender" "$TMPD/in.orig"
ok $? "sign into another file leaves the input untouched"
run mender-artifact validate -k "$K/rsa3072-public.pem" "$TMPD/signed.mender"
is "$rc" 0 "mender-artifact validate -k accepts the signed artifact" || diag "$out $err"
run mender-artifact validate -k "$K/rsa3072-b-public.pem" "$TMPD/signed.mender"
is "$rc" 4 "mender-artifact validate -k <wrong key> rejects it (exit 4)"
is "$(stat -c %a "$TMPD/signed.mender")" 640 "the input's mode is kept"
embed verify "$TMPD/signed.mender" "$K/rsa3072-public.pem"
is "$rc" 0 "embed verify accepts its own signature" || diag "$err"

# In place, with the explicit file: scheme and an EC key.
cp "$I/module-unsigned-gzip.mender" "$TMPD/inplace.mender"
embed sign "file:$K/p256-private-pkcs8.pem" "$TMPD/inplace.mender" "$TMPD/inplace.mender"
is "$rc" 0 "embed sign in place with file:<P-256 key>" || diag "$err"
run mender-artifact validate -k "$K/p256-public.pem" "$TMPD/inplace.mender"
is "$rc" 0 "mender-artifact validates the in-place P-256 signature" || diag "$out $err"

# Already signed: refused without --force, no output left.
before=$(ls -A "$TMPD")
embed sign "$K/rsa3072-private-pkcs8.pem" "$TMPD/signed.mender" "$TMPD/again.mender"
is "$rc" 1 "signing an already signed artifact without the force flag fails"
ok "$([ -e "$TMPD/again.mender" ] && echo 1 || echo 0)" "no output left after the failure"
is "$(ls -A "$TMPD")" "$before" "no temporary file left in the output directory"

# A bad key: the message names it, no output.
embed sign "$TMPD/nokey.pem" "$TMPD/in.mender" "$TMPD/bad.mender"
is "$rc" 1 "signing with a missing key file fails"
like "$err" "nokey.pem" "the missing key file is named"
ok "$([ -e "$TMPD/bad.mender" ] && echo 1 || echo 0)" "no output after a key error"

embed sign "$K/ed25519-private-pkcs8.pem" "$TMPD/in.mender" "$TMPD/bad.mender"
is "$rc" 1 "signing with an Ed25519 key is refused"
ok "$([ -e "$TMPD/bad.mender" ] && echo 1 || echo 0)" "no output after an unsupported key"

# ---------------------------------------------------------------- the shared library
SO=$LIBDIR/libmsig.so.0
run readelf -d "$SO"
like "$out" "Library soname: [libmsig.so.0]" "SONAME is libmsig.so.0"
ok "$([ "$(readlink "$LIBDIR/libmsig.so")" = libmsig.so.0 ] || \
      [ "$(readlink -f "$LIBDIR/libmsig.so")" = "$(readlink -f "$SO")" ] && echo 0 || echo 1)" \
   "libmsig.so (dev link) points to the same library"
run nm -D --defined-only "$SO"
is "$rc" 0 "nm -D --defined-only libmsig.so"
syms=$(awk 'NF >= 3 && $2 ~ /^[A-Za-z]$/ {print $3}' <<<"$out" | sed 's/@.*//' | sort -u)
others=$(grep -v '^msig_' <<<"$syms" | grep -v '^MSIG_0$' | tr '\n' ' ')
is "$others" "" "libmsig.so exports only msig_* symbols"
internal=$(grep '^msigi_' <<<"$syms" | tr '\n' ' ')
is "$internal" "" "no msigi_* internals exported"
# Every function the header declares is exported (nothing declared but missing).
declared=$(grep -o 'msig_[a-z0-9_]*(' "$PREFIX/include/msig/msig.h" | tr -d '(' | grep -v '_fn$' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$syms") | tr '\n' ' ')
is "$missing" "" "every function declared in msig.h is exported"

# ---------------------------------------------------------------- runs after install, any prefix
# No LD_LIBRARY_PATH, no ldconfig: the installed tool finds libmsig (RUNPATH $ORIGIN/...) and
# its plugins (beside libmsig) from wherever the prefix is, also after the prefix is moved.
for p in "$TMPD/other prefix" "$TMPD/opt/msig"; do
  run cmake --install "$MSIG_BUILD_DIR" --prefix "$p"
  run env -i PATH=/usr/bin:/bin "$p/bin/msig" --version
  like "$out" "msig version" "msig runs from the prefix '$p' with a clean environment" || diag "$err"
  run env -i PATH=/usr/bin:/bin "$p/bin/msig" plugins
  if [ -d "$MSIG_BUILD_DIR/lib/msig/plugins" ] && ls "$MSIG_BUILD_DIR/lib/msig/plugins"/*.so >/dev/null 2>&1; then
    like "$out" "file: $p/" "and loads the plugins installed in that prefix"
  fi
done
mv "$TMPD/opt/msig" "$TMPD/moved"
run env -i PATH=/usr/bin:/bin "$TMPD/moved/bin/msig" --version
like "$out" "msig version" "a moved prefix still runs"
run readelf -d "$PREFIX/bin/msig"
like "$out" 'RUNPATH' "the installed tool has a relative RUNPATH" && like "$out" '$ORIGIN' "relative to \$ORIGIN"

# ---------------------------------------------------------------- CMake package
CP=$TMPD/consumer
mkdir -p "$CP"
cat >"$CP/CMakeLists.txt" <<'EOF2'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(msig 0.1 CONFIG REQUIRED)
add_executable(use use.c)
target_link_libraries(use PRIVATE msig::msig)
add_library(msig-mine MODULE mine.c)
set_target_properties(msig-mine PROPERTIES PREFIX "")
target_link_libraries(msig-mine PRIVATE msig::plugin)
file(WRITE ${CMAKE_BINARY_DIR}/plugin-dir.txt "${MSIG_PLUGIN_DIR}")
EOF2
printf '#include <stdio.h>\n#include <msig/msig.h>\nint main(void) { puts(msig_version()); return 0; }\n' >"$CP/use.c"
cp "$PREFIX/share/doc/msig/examples/plugin/example.c" "$CP/mine.c"
run cmake -S "$CP" -B "$CP/build" -DCMAKE_PREFIX_PATH="$PREFIX"
is "$rc" 0 "find_package(msig 0.1 CONFIG) in a consumer project" || diag "$err"
run cmake --build "$CP/build"
is "$rc" 0 "the consumer builds a program (msig::msig) and a plugin module (msig::plugin)" || diag "$out $err"
run "$CP/build/use"
is "$out" "$want_version" "the consumer program runs with the installed libmsig"
run readelf -d "$CP/build/msig-mine.so"
unlike "$out" "libmsig" "the plugin module built with msig::plugin does not link libmsig"
is "$(realpath "$(cat "$CP/build/plugin-dir.txt")")" "$(realpath "$(pkg-config --variable=pluginsdir msig)")" \
   "MSIG_PLUGIN_DIR is the pkg-config pluginsdir"
sed -i 's/find_package(msig 0.1 CONFIG REQUIRED)/find_package(msig 1.0 CONFIG REQUIRED)/' "$CP/CMakeLists.txt"
run cmake -S "$CP" -B "$CP/build2" -DCMAKE_PREFIX_PATH="$PREFIX"
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "find_package(msig 1.0) refuses version $want_version (another major)"
like "$out$err" "version: 0.1.0" "with the version CMake found and refused"

done_testing
