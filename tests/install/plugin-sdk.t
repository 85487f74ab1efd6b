#!/usr/bin/env bash
# plugin-sdk.t -- the signer plugin SDK as installed: the example plugin, from its installed
# copy in share/doc/msig/examples/plugin, is built with nothing but `pkg-config msig-plugin`, put in a private plugin directory, loaded by
# the installed CLI (MSIG_PLUGIN_PATH and --plugin) and by libmsig (examples/embed.c), and
# its signatures are checked with mender-artifact. Unsafe plugin files are refused.
. "$(dirname "$0")/../lib.sh"

need cmake pkg-config cc make readelf nm mender-artifact openssl

PREFIX=$TMPD/prefix
K=$MSIG_INTEROP/keys
SRC=$PREFIX/share/doc/msig/examples/plugin
HDR=$PREFIX/include/msig/msig_plugin.h

run cmake --install "$MSIG_BUILD_DIR" --prefix "$PREFIX"
is "$rc" 0 "cmake --install into a private prefix" || diag "$err"
for f in example.c Makefile README.md; do
  ok "$([ -f "$SRC/$f" ] && echo 0 || echo 1)" "the example plugin's $f is installed in share/doc/msig/examples/plugin"
done
cmp -s "$SRC/example.c" "$MSIG_SOURCE_DIR/plugins/example/example.c"
ok $? "the installed example.c is the one in plugins/example"

# ---------------------------------------------------------------- msig-plugin(7)
MAN=$PREFIX/share/man/man7/msig-plugin.7
ok "$([ -s "$MAN" ] && echo 0 || echo 1)" "msig-plugin(7) is installed in share/man/man7"
# The page names every member of the descriptor and of the host table, as the header has
# them, and states the header's limits and ABI version.
members() { # members STRUCT: the member names of struct STRUCT in the installed header
  # Comments removed by the compiler's preprocessor; one declaration per ';'; a function
  # pointer gives the name in "(*name)", a field its last identifier.
  cc -fpreprocessed -dD -E -P -x c "$HDR" 2>/dev/null |
    awk -v s="struct $1 {" 'index($0, s) == 1 {on = 1; next} on && /^};/ {exit} on {print}' |
    tr '\n' ' ' | tr ';' '\n' |
    sed -n -e 's/.*(\*\([a-z_0-9]*\)).*/\1/p' -e '/(\*/!s/.*[^a-z_0-9]\([a-z_][a-z_0-9]*\) *$/\1/p' |
    grep -v '^\(struct_size\|host_data\)$' | sort -u
}
# The page as text: groff font and spacing escapes removed, lines joined.
mantext=$(sed -e 's/\\&//g' -e 's/\\f[BIR]//g' "$MAN" | tr '\n' ' ')
missing=""
for m in $(members msig_plugin) $(members msig_host); do
  grep -qF "\\fB$m\\fR" "$MAN" || missing="$missing $m"
done
is "$missing" "" "msig-plugin(7) documents every member of struct msig_plugin and struct msig_host"
is "$(members msig_host | tr '\n' ' ')" "abi_major abi_minor get_param get_pin log_msg mem_alloc mem_free set_error " \
   "the check reads the members of struct msig_host from the header"
for lim in MSIG_HOST_SIG_MAX MSIG_HOST_PUB_DER_MAX; do
  v=$(sed -n "s/^#define $lim *\([0-9]*\)u.*/\1/p" "$HDR")
  [[ $mantext == *"$v bytes ($lim)"* ]]
  ok $? "msig-plugin(7) states $lim = $v as the header does"
  grep -q "up to $v" "$MSIG_SOURCE_DIR/README.md"
  ok $? "the README states the same limit ($v)"
done
abi="$(sed -n 's/^#define MSIG_PLUGIN_ABI_MAJOR \([0-9]*\)/\1/p' "$HDR").$(sed -n 's/^#define MSIG_PLUGIN_ABI_MINOR \([0-9]*\)/\1/p' "$HDR")"
like "$mantext" "NAME .P msig-plugin - writing signer plugins for msig and libmsig (plugin ABI $abi)" "msig-plugin(7) is about ABI $abi, the header's version"
pdir_pc=$(PKG_CONFIG_PATH=$(dirname "$(find "$PREFIX" -name msig-plugin.pc | head -n 1)") \
          pkg-config --variable=pluginsdir msig-plugin)
ok "$([ -d "$pdir_pc" ] && echo 0 || echo 1)" "cmake --install creates the plugins directory ($pdir_pc)"
pcfile=$(find "$PREFIX" -name msig-plugin.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pcfile" ] || bail "no msig-plugin.pc under $PREFIX"
LIBDIR=$(dirname "$(dirname "$pcfile")")
export PKG_CONFIG_PATH=$(dirname "$pcfile")
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
# The installed files only: the includedir of the .pc is checked in install.t; here it is
# pinned to the prefix so that this test exercises the SDK even while that check fails.
PCDEF=()
SDK_CFLAGS=$(pkg-config "${PCDEF[@]}" --cflags msig-plugin)
is "$(pkg-config "${PCDEF[@]}" --libs msig-plugin)" "" "msig-plugin needs no libraries"

# ---------------------------------------------------------------- build out of tree
PD=$TMPD/plugins
mkdir -m 0700 "$PD"
run cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
   $SDK_CFLAGS "$SRC/example.c" -o "$PD/msig-example.so"
is "$rc" 0 "example.c builds with only the installed SDK (-Werror)" || diag "$err"
[ -f "$PD/msig-example.so" ] || bail "the example plugin did not build"
chmod 0755 "$PD/msig-example.so"

run readelf -d "$PD/msig-example.so"
unlike "$out" "libmsig" "the plugin does not link libmsig"
run nm -D --defined-only "$PD/msig-example.so"
exported=$(awk 'NF >= 3 && $2 ~ /^[A-Za-z]$/ {print $3}' <<<"$out" | tr '\n' ' ')
is "$exported" "msig_plugin_entry_v1 " "the plugin exports only msig_plugin_entry_v1"

# The Makefile of the example, run on a copy (never build in the source tree).
cp -r "$SRC" "$TMPD/example-src"
rm -f "$TMPD/example-src/msig-example.so"
run make -C "$TMPD/example-src" \
   PLUGIN_CFLAGS="$SDK_CFLAGS" CFLAGS="-O2 -Wall -Wextra -Werror"
is "$rc" 0 "plugins/example/Makefile builds warning-free (-Werror) with the installed SDK" || diag "$err"
ok "$([ -f "$TMPD/example-src/msig-example.so" ] && echo 0 || echo 1)" "make produced msig-example.so"
run make -C "$TMPD/example-src" install DESTDIR="$TMPD/destdir" PLUGIN_CFLAGS="$SDK_CFLAGS"
pdir=$(pkg-config --variable=pluginsdir msig-plugin)
is "$(stat -c %a "$TMPD/destdir$pdir/msig-example.so" 2>/dev/null)" 755 \
   "make install puts it into DESTDIR/pluginsdir with mode 0755"

# ---------------------------------------------------------------- the installed CLI loads it
MSIG_I=$PREFIX/bin/msig
[ -x "$MSIG_I" ] || bail "no installed CLI at $MSIG_I"
EMPTY=$TMPD/empty
mkdir -m 0755 "$EMPTY"
cli() { run env LD_LIBRARY_PATH="$LIBDIR" "$@"; }

cli env MSIG_PLUGIN_PATH="$PD" "$MSIG_I" plugins
is "$rc" 0 "MSIG_PLUGIN_PATH=<dir> msig plugins" || diag "$err"
like "$out" "example 1.0" "the example plugin is listed with its name and version"
like "$out" "file: $PD/msig-example.so" "its file is shown"
like "$out" "schemes: example" "its scheme is shown"
abi_major=$(sed -n 's/^#define MSIG_PLUGIN_ABI_MAJOR *\([0-9]*\).*/\1/p' \
            "$PREFIX/include/msig/msig_plugin.h")
abi_minor=$(sed -n 's/^#define MSIG_PLUGIN_ABI_MINOR *\([0-9]*\).*/\1/p' \
            "$PREFIX/include/msig/msig_plugin.h")
like "$out" "abi: $abi_major.$abi_minor" "its ABI version is the SDK's ($abi_major.$abi_minor)"
like "$out" "(built-in)" "the built-in file plugin is still listed"
is "$err" "" "no warnings on stderr"

cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" plugins
unlike "$out" "example" "not listed when its directory is not on the path"
cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" --plugin "$PD/msig-example.so" plugins
is "$rc" 0 "msig --plugin FILE plugins" || diag "$err"
like "$out" "example 1.0" "--plugin FILE loads it"
like "$out" "schemes: example" "--plugin: scheme listed"
cli env MSIG_PLUGIN_PATH="$EMPTY:$PD" "$MSIG_I" plugins
like "$out" "example 1.0" "MSIG_PLUGIN_PATH is a :-separated list"

# ---------------------------------------------------------------- signing with it
openssl pkey -in "$K/rsa3072-private-pkcs8.pem" -pubout -outform DER -out "$TMPD/pub.der"
openssl pkey -in "$K/p256-private-pkcs8.pem" -pubout -outform DER -out "$TMPD/pub-ec.der"
CMD_RSA="openssl pkeyutl -sign -inkey $K/rsa3072-private-pkcs8.pem -pkeyopt digest:sha256"
CMD_EC="openssl pkeyutl -sign -inkey $K/p256-private-pkcs8.pem -pkeyopt digest:sha256"
mkdata "$TMPD/rootfs.img" 8192
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/tosign.mender"

# Through libmsig: examples/embed.c sets the plugin's host parameters.
EMBED=$TMPD/embed
run cc -std=c11 -I"$PREFIX/include" "$MSIG_SOURCE_DIR/examples/embed.c" -o "$EMBED" \
   -L"$LIBDIR" -lmsig
is "$rc" 0 "examples/embed.c builds" || diag "$err"
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$PD" "$EMBED" sign example:mykey \
   "$TMPD/tosign.mender" "$TMPD/lib-rsa.mender" \
   "example.command=$CMD_RSA" "example.pubkey=$TMPD/pub.der"
is "$rc" 0 "libmsig signs with the plugin (RSA-3072)" || diag "$err"
run mender-artifact validate -k "$K/rsa3072-public.pem" "$TMPD/lib-rsa.mender"
is "$rc" 0 "mender-artifact validate -k accepts the plugin's RSA signature" || diag "$out $err"
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$PD" "$EMBED" sign example:mykey \
   "$TMPD/tosign.mender" "$TMPD/lib-ec.mender" \
   "example.command=$CMD_EC" "example.pubkey=$TMPD/pub-ec.der"
is "$rc" 0 "libmsig signs with the plugin (P-256, DER from the command)" || diag "$err"
run mender-artifact validate -k "$K/p256-public.pem" "$TMPD/lib-ec.mender"
is "$rc" 0 "mender-artifact validate -k accepts the plugin's ECDSA signature" || diag "$out $err"

# A command that signs with another key than the public key it declares: refused by the
# core's self-check, nothing written.
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$PD" "$EMBED" sign example:mykey \
   "$TMPD/tosign.mender" "$TMPD/lib-bad.mender" \
   "example.command=openssl pkeyutl -sign -inkey $K/rsa3072-b-private-pkcs8.pem -pkeyopt digest:sha256" \
   "example.pubkey=$TMPD/pub.der"
is "$rc" 1 "a plugin signature that does not match its public key is refused"
like "$err" "does not verify" "the self-check message"
ok "$([ -e "$TMPD/lib-bad.mender" ] && echo 1 || echo 0)" "no output after the refused signature"
# Missing parameters: the plugin's own message reaches the caller.
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$PD" "$EMBED" sign example:mykey \
   "$TMPD/tosign.mender" "$TMPD/lib-bad.mender"
is "$rc" 1 "the plugin without its parameters fails"
like "$err" "example.command" "the plugin's message names the missing parameter"

# Through the installed CLI, -k <scheme>:... must reach the plugin (not be taken as the
# file "example:mykey"): without its parameters the plugin's own message comes back.
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/route.mender"
cli env MSIG_PLUGIN_PATH="$PD" "$MSIG_I" sign -k example:mykey "$TMPD/route.mender" \
   -o "$TMPD/route-out.mender"
is "$rc" 1 "msig sign -k example:mykey without parameters fails"
like "$err" "example.command" "-k example:... is routed to the example plugin"
unlike "$err" "cannot open the key file" "-k example:... is not opened as a key file"
ok "$([ -e "$TMPD/route-out.mender" ] && echo 1 || echo 0)" "no output after the failure"

# Through the installed CLI: -k <scheme>:... selects the plugin, and host parameters are
# given with the global --plugin-param NAME=VALUE (the CLI's way to reach
# msig_ctx_set_param for external plugins).
PP=(--plugin-param "example.command=$CMD_RSA" --plugin-param "example.pubkey=$TMPD/pub.der")
cli env MSIG_PLUGIN_PATH="$PD" "$MSIG_I" "${PP[@]}" write rootfs-image -f "$TMPD/rootfs.img" \
   -t plugin-dev -n plugin-1 -o "$TMPD/cli-write.mender" -k example:mykey
is "$rc" 0 "msig write rootfs-image -k example:mykey signs with the plugin" || diag "$err"
run mender-artifact validate -k "$K/rsa3072-public.pem" "$TMPD/cli-write.mender"
is "$rc" 0 "mender-artifact validate -k pub.pem accepts msig write's plugin signature" \
   || diag "$out $err"

cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/cli-sign.mender"
cli env MSIG_PLUGIN_PATH="$PD" "$MSIG_I" "${PP[@]}" sign -k example:mykey "$TMPD/cli-sign.mender"
is "$rc" 0 "msig sign -k example:mykey signs with the plugin" || diag "$err"
run mender-artifact validate -k "$K/rsa3072-public.pem" "$TMPD/cli-sign.mender"
is "$rc" 0 "mender-artifact validate -k pub.pem accepts msig sign's plugin signature" \
   || diag "$out $err"

# Without the plugin on the path, the scheme is not taken as a file name.
cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" sign -k example:mykey "$TMPD/tosign.mender" \
   -o "$TMPD/cli-none.mender"
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "msig sign -k example:... without the plugin fails"
ok "$([ -e "$TMPD/cli-none.mender" ] && echo 1 || echo 0)" "no output without the plugin"

# ---------------------------------------------------------------- unsafe files are refused
BAD=$TMPD/bad-plugins
mkdir -m 0700 "$BAD"
cp "$PD/msig-example.so" "$BAD/msig-example.so"
chmod 0775 "$BAD/msig-example.so"
cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" --plugin "$BAD/msig-example.so" plugins
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "--plugin <group-writable file>: refused, non-zero exit"
like "$err" "group- or world-writable" "the refusal says why"
like "$err" "$BAD/msig-example.so" "the refusal names the file"
unlike "$out" "example 1.0" "the group-writable plugin is not listed"

cli env MSIG_PLUGIN_PATH="$BAD" "$MSIG_I" plugins
like "$err" "group- or world-writable" "MSIG_PLUGIN_PATH: a group-writable file is reported"
unlike "$out" "example 1.0" "MSIG_PLUGIN_PATH: the group-writable plugin is not listed"

chmod 0757 "$BAD/msig-example.so"
cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" --plugin "$BAD/msig-example.so" plugins
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "--plugin <world-writable file>: refused"
like "$err" "group- or world-writable" "world-writable: the refusal says why"

# A safe file in a group-writable directory is refused too.
chmod 0755 "$BAD/msig-example.so"
chmod 0775 "$BAD"
cli env MSIG_PLUGIN_PATH="$EMPTY" "$MSIG_I" --plugin "$BAD/msig-example.so" plugins
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "--plugin <file in a group-writable dir>: refused"
like "$err" "writable" "group-writable directory: the refusal says why"
chmod 0700 "$BAD"

# A group-writable file cannot sign either.
chmod 0775 "$BAD/msig-example.so"
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/refused.mender"
cp "$TMPD/refused.mender" "$TMPD/refused.orig"
run env LD_LIBRARY_PATH="$LIBDIR" MSIG_PLUGIN_PATH="$BAD" "$EMBED" sign example:mykey \
   "$TMPD/refused.mender" "$TMPD/refused.mender" \
   "example.command=$CMD_RSA" "example.pubkey=$TMPD/pub.der"
is "$rc" 1 "libmsig does not sign with a group-writable plugin"
cmp -s "$TMPD/refused.mender" "$TMPD/refused.orig"
ok $? "the artifact is untouched"

# ---------------------------------------------------------------- ABI 1.1, every host service
# The v11 fixture (tests/fixtures/fixture.c) built with one cc line from the installed SDK:
# key_list and params (1.1), get_param, get_pin, set_error, log_msg, mem_alloc/mem_free.
V11=$TMPD/v11
mkdir -m 0755 "$V11"
run cc -std=c11 -shared -fPIC -fvisibility=hidden $(pkg-config "${PCDEF[@]}" --cflags msig-plugin) \
   -DFX_KIND=v11 -DFX_V11 "$MSIG_SOURCE_DIR/tests/fixtures/fixture.c" -o "$V11/msig-fx-v11.so" -lcrypto
is "$rc" 0 "a 1.1 plugin builds from the installed SDK with one cc line" || diag "$err"
chmod 0644 "$V11/msig-fx-v11.so"
printf '1234\n' >"$TMPD/pin.txt"
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$TMPD/v11.mender"
cli env MSIG_PLUGIN_PATH="$V11" MSIG_LOG_LEVEL=debug "$MSIG_I" --plugin-param fx-v11.mode=pin \
   sign -k "fx-v11:$K/p256-private-trad.pem" --passphrase-file "$TMPD/pin.txt" "$TMPD/v11.mender"
is "$rc" 0 "the 1.1 plugin signs: get_param and get_pin answered" || diag "$err"
like "$err" "fx-v11: instance created" "log_msg reaches the user at MSIG_LOG_LEVEL=debug"
like "$err" "fx-v11: logged in" "log_msg at INFO"
run mender-artifact validate -k "$K/p256-public.pem" "$TMPD/v11.mender"
is "$rc" 0 "mender-artifact validate accepts the 1.1 plugin's signature" || diag "$out $err"
cli env MSIG_PLUGIN_PATH="$V11" "$MSIG_I" keys fx-v11:
is "$rc" 0 "msig keys through the 1.1 plugin's key_list" || diag "$err"
like "$out" "fx-v11:/keys/two.pem" "key_list entries listed"
cli env MSIG_PLUGIN_PATH="$V11" "$MSIG_I" plugins
like "$out" "abi: 1.1" "msig plugins shows the 1.1 minor"

done_testing
