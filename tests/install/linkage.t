#!/usr/bin/env bash
# linkage.t -- what each binary pulls in: libmsig links OpenSSL's libcrypto, libarchive,
# jansson and the compressors alone (an update agent that only verifies never loads p11-kit,
# libcurl, libext2fs or libfdisk); the msig tool alone links libext2fs and libfdisk, for its
# image commands (the static image/ module); the plugin helpers (msigu_*) stay hidden inside whatever carries them;
# each external plugin exports its entry point only and brings its own libraries.
. "$(dirname "$0")/../lib.sh"

need readelf nm

LIB=$MSIG_BUILD_DIR/core/libmsig.so
PLUGDIR=$MSIG_BUILD_DIR/lib/msig/plugins
[ -f "$LIB" ] || bail "no $LIB (build first)"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# ---------------------------------------------------------------- libmsig
allowed='^(libcrypto\.so\.3|libarchive\.so\.13|libjansson\.so\.4|libz\.so\.1|liblzma\.so\.5|libzstd\.so\.1|libisal\.so\.2|libdeflate\.so\.0|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|ld-linux[-a-z0-9_.]*\.so\.[0-9])$'
libs=$(needed "$LIB")
extra=$(grep -Ev "$allowed" <<<"$libs" || true)
is "$extra" "" "libmsig.so needs only OpenSSL libcrypto, libarchive, jansson, the compressors and libc"
for bad in libp11-kit libcurl libext2fs libfdisk libssl; do
  unlike "$libs" "$bad" "libmsig.so does not need $bad"
done
like "$libs" "libcrypto.so.3" "libmsig.so needs libcrypto (the check sees NEEDED entries)"

exports=$(nm -D --defined-only "$LIB" | awk '{print $3}' | grep -v '^MSIG_' || true)
is "$(grep -v '^msig_' <<<"$exports" | grep -v '^$' || true)" "" \
   "libmsig.so exports msig_* symbols only (version node names aside)"
is "$(nm "$LIB" | grep -c ' [tT] msigu_error$')" 1 \
   "libmsig.so carries the plugin helpers for its built-in file plugin (hidden)"

# ---------------------------------------------------------------- the CLI
if [ -x "$MSIG" ]; then
  cli=$(needed "$MSIG")
  like "$cli" "libmsig.so.0" "msig links libmsig"
  for bad in libp11-kit libcurl libarchive; do
    unlike "$cli" "$bad" "msig itself does not need $bad (it reaches it through libmsig or a plugin)"
  done
  for lib in libext2fs libfdisk; do
    like "$cli" "$lib" "msig links $lib itself, for the image commands (libmsig does not)"
  done
fi

# ---------------------------------------------------------------- external plugins
n=0
for so in "$PLUGDIR"/*.so; do
  [ -f "$so" ] || continue
  n=$((n + 1))
  name=$(basename "$so")
  syms=$(nm -D --defined-only "$so" | awk '{print $3}')
  is "$syms" "msig_plugin_entry_v1" "$name exports its entry point and nothing else"
  unlike "$(needed "$so")" "libmsig" "$name does not link libmsig (it gets the host table)"
done
if [ -f "$PLUGDIR/msig-kms.so" ]; then
  like "$(needed "$PLUGDIR/msig-kms.so")" "libcurl.so.4" "msig-kms.so brings libcurl itself"
fi
diag "$n external plugin module(s) in $PLUGDIR"

done_testing
