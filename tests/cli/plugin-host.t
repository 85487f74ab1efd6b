#!/usr/bin/env bash
# tests/cli/plugin-host.t -- what the CLI host does for plugins: a scheme no plugin serves
# (naming plugins refused at load time), one PIN order for plugin keys (--passphrase-file,
# MSIG_KEY_PASSPHRASE, never a prompt without a terminal), --plugin-param checked against
# the declared names, a plugin found by the scan and given with --plugin loaded once,
# validate/read with -k scheme:rest, plugin text escaped, MSIG_LOG_LEVEL, codes a plugin may
# not return, `msig keys`, and that plugins load only when a command needs one. Uses the fixture plugins fx-v11 and fx-wrongmajor.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
FX=$MSIG_BUILD_DIR/tests/fixtures
if [ ! -f "$FX/msig-fx-v11.so" ]; then skip "fixture plugins not built" "fixtures exist"; done_testing; fi

K=$MSIG_INTEROP/keys
W=$TMPD/w
P=$TMPD/plugins
mkdir -p "$W" "$P" "$TMPD/other"
cp "$FX/msig-fx-v11.so" "$FX/msig-fx-wrongmajor.so" "$P/"
cp "$FX/msig-fx-v11.so" "$TMPD/other/"
chmod 755 "$P" "$TMPD/other"
chmod 644 "$P"/*.so "$TMPD/other"/*.so
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$W/a.mender"
chmod 644 "$W/a.mender"
sum_a=$(sha256sum <"$W/a.mender")
printf '1234\n' >"$W/pin.txt"
printf '9999\n' >"$W/bad.txt"
export MSIG_PLUGIN_PATH=$P
unset MSIG_KEY_PASSPHRASE MSIG_LOG_LEVEL MSIG_VERBOSE
SPEC="fx-v11:$K/p256-private-trad.pem"
listing() { ls -A "$W" | tr '\n' ' '; }
list0=$(listing)

# --- schemes
run "$MSIG" sign -k "nosuch:abc" "$W/a.mender"
is "$rc" 1 "unknown scheme: exit 1"
like "$err" "no loaded plugin serves the 'nosuch' scheme" "unknown scheme: says no plugin serves it"
like "$err" "msig-fx-wrongmajor.so: ABI major version 2" "unknown scheme: names the plugin refused at load time"
unlike "$err" "cannot open the key file" "unknown scheme: not taken as a file path"
is "$(sha256sum <"$W/a.mender")" "$sum_a" "unknown scheme: input unchanged"
is "$(listing)" "$list0" "unknown scheme: nothing written"

cp "$K/p256-private-trad.pem" "$W/ab:c.pem"
cp "$W/a.mender" "$W/colon.mender"
run "$MSIG" sign -k "$W/ab:c.pem" "$W/colon.mender"
is "$rc" 0 "a key file whose name has a colon is still a file" || diag "$err"
rm -f "$W/colon.mender" "$W/ab:c.pem"

run "$MSIG" plugins
like "$out" "fx-v11 0.0" "plugins: the v11 fixture is listed"
like "$out" "abi: 1.1" "plugins: ABI minor shown"
like "$out" "parameters: fx-v11.mode" "plugins: declared parameters shown"
like "$out" "refused: plugin $P/msig-fx-wrongmajor.so: ABI major version 2" "plugins: refused file listed with its reason"

# --- parameters
run "$MSIG" --plugin-param fx-v11.nope=1 sign -k "$SPEC" "$W/a.mender"
is "$rc" 1 "undeclared parameter: exit 1"
like "$err" "parameter fx-v11.nope: plugin fx-v11 takes no such parameter (it takes: fx-v11.mode)" "undeclared parameter: lists the valid names"
run "$MSIG" --plugin-param nobody.x=1 plugins
is "$rc" 1 "parameter of no plugin: exit 1"
like "$err" "no loaded plugin owns the namespace 'nobody'" "parameter of no plugin: message"
like "$err" "fx-v11.mode" "parameter of no plugin: lists the valid names"
is "$(sha256sum <"$W/a.mender")" "$sum_a" "parameter errors: input unchanged"

# --- PIN order for a plugin key (fx-v11.mode=pin asks the host for PIN 1234)
PIN=(--plugin-param fx-v11.mode=pin)
cp "$W/a.mender" "$W/p.mender"
run "$MSIG" "${PIN[@]}" sign -k "$SPEC" --passphrase-file "$W/bad.txt" "$W/p.mender"
is "$rc" 1 "wrong PIN from --passphrase-file: exit 1"
like "$err" "key $SPEC (plugin fx-v11): PIN incorrect (1 try left)" "wrong PIN: the plugin's message with the host's prefix"
unlike "$err" "9999" "wrong PIN: the PIN is not shown"
is "$(sha256sum <"$W/p.mender")" "$sum_a" "wrong PIN: input unchanged"
run "$MSIG" "${PIN[@]}" sign -k "$SPEC" --passphrase-file "$W/pin.txt" "$W/p.mender"
is "$rc" 0 "PIN from --passphrase-file reaches the plugin" || diag "$err"
run "$MSIG" validate -k "$K/p256-public.pem" "$W/p.mender"
is "$rc" 0 "the plugin's signature verifies" || diag "$err"
cp "$W/a.mender" "$W/p.mender"
MSIG_KEY_PASSPHRASE=1234 run "$MSIG" "${PIN[@]}" sign -k "$SPEC" "$W/p.mender"
is "$rc" 0 "PIN from MSIG_KEY_PASSPHRASE reaches the plugin" || diag "$err"
cp "$W/a.mender" "$W/p.mender"
run timeout 20 "$MSIG" "${PIN[@]}" sign -k "$SPEC" "$W/p.mender" </dev/null
is "$rc" 1 "no PIN and no terminal: exit 1 at once (no hang)"
like "$err" "PIN" "no PIN and no terminal: says a PIN is needed"
is "$(sha256sum <"$W/p.mender")" "$sum_a" "no PIN: input unchanged"
rm -f "$W/p.mender"

# --- loaded once
run "$MSIG" --plugin "$P/msig-fx-v11.so" plugins
is "$rc" 0 "scan and --plugin of the same file: exit 0" || diag "$err"
is "$(grep -c '^fx-v11 ' <<<"$out")" 1 "scan and --plugin of the same file: loaded once"
run "$MSIG" --plugin "$TMPD/other/msig-fx-v11.so" plugins
is "$rc" 0 "--plugin with a copy of a scanned plugin: exit 0" || diag "$err"
like "$out" "file: $TMPD/other/msig-fx-v11.so" "--plugin: the explicit file wins"
like "$err" "replaces plugin \"fx-v11\" found by the directory scan" "--plugin: a note says so"

# --- validate and read with a plugin key
cp "$W/a.mender" "$W/s.mender"
run "$MSIG" sign -k "$K/p256-private-trad.pem" "$W/s.mender"
run "$MSIG" validate -k "$SPEC" "$W/s.mender"
is "$rc" 0 "validate -k scheme:rest verifies with the plugin key's public half" || diag "$err"
run "$MSIG" validate -k "fx-v11:$K/p256-b-private-trad.pem" "$W/s.mender"
is "$rc" 4 "validate with the wrong plugin key: exit 4"
run "$MSIG" validate -k "$K/rsa2048-public.pem" -k "$SPEC" "$W/s.mender"
is "$rc" 0 "validate with a file key and a plugin key: the second verifies" || diag "$err"
run "$MSIG" read -k "$SPEC" "$W/s.mender"
like "$out" "Signature: signed and verified correctly" "read -k scheme:rest" || diag "$err"

# --- plugin text, codes, log level
run "$MSIG" --plugin-param fx-v11.mode=ctrl sign -k "$SPEC" "$W/a.mender"
is "$rc" 1 "plugin error: exit 1"
like "$err" 'bad\x1b[31m red\x0d\x0aSignature: faked' "plugin error: control characters escaped"
unlike "$err" $'\033' "plugin error: no raw escape reaches the terminal"
like "$err" 'log with \x1b[2J escape' "plugin log line: escaped"
run "$MSIG" --plugin-param fx-v11.mode=badcode sign -k "$SPEC" "$W/a.mender"
is "$rc" 1 "core-only code from a plugin: exit 1"
like "$err" "the plugin returned code -17, which plugins may not return" "core-only code: reported as such"
run "$MSIG" sign -k "$SPEC" -o "$W/o.mender" "$W/a.mender"
unlike "$err" "instance created" "default log level: no debug lines"
rm -f "$W/o.mender"
MSIG_LOG_LEVEL=debug run "$MSIG" sign -k "$SPEC" -o "$W/o.mender" "$W/a.mender"
like "$err" "debug: fx-v11: instance created" "MSIG_LOG_LEVEL=debug shows the plugin's debug lines"
rm -f "$W/o.mender"

# --- msig keys
run "$MSIG" keys "fx-v11:"
is "$rc" 0 "keys: exit 0" || diag "$err"
like "$out" "fx-v11:/keys/one.pem" "keys: first key's spec"
like "$out" "type: EC P-256, 256 bits" "keys: type and size"
like "$out" 'label: two\x1b[2J' "keys: labels escaped"
like "$out" "detail: fx-v11:" "keys: the plugin got the spec"
run "$MSIG" keys "nosuch:"
is "$rc" 1 "keys with an unserved scheme: exit 1"
like "$err" "no loaded plugin serves the 'nosuch' scheme" "keys with an unserved scheme: message"
run "$MSIG" keys
is "$rc" 1 "keys without SPEC: exit 1"
run "$MSIG" keys "$K/rsa3072-private-trad.pem"
is "$rc" 0 "keys of a key file: exit 0" || diag "$err"
like "$out" "file:$K/rsa3072-private-trad.pem" "keys of a key file: the spec"
like "$out" "type: RSA, 3072 bits" "keys of a key file: type and size"
run "$MSIG" keys "$K/rsa2048-public.pem"
is "$rc" 1 "keys of a public key file: exit 1"
like "$err" "the file holds a public key" "keys of a public key file: says why"

is "$(sha256sum <"$W/a.mender")" "$sum_a" "input never changed"
# --- plugins load when a command first needs one (LD_DEBUG shows what the loader maps)
loads() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'calling init: .*msig-fx-v11.so'; }
is "$(loads "$MSIG" validate "$W/a.mender")" 0 "validate without a key loads no plugin"
is "$(loads "$MSIG" validate -k "$K/p256-public.pem" "$W/a.mender")" 0 "validate -k a public key file loads no plugin"
is "$(loads "$MSIG" write rootfs-image -f "$W/pin.txt" -n r -t d -o "$W/lazy.mender")" 0 \
  "write without a key loads no plugin"
is "$(loads "$MSIG" sign -k "$K/p256-private-trad.pem" -o "$W/lazy.mender" "$W/a.mender")" 0 \
  "sign with a key file loads no plugin"
rm -f "$W/lazy.mender"
is "$(loads "$MSIG" sign -k "$SPEC" --passphrase-file "$W/pin.txt" -o "$W/lazy.mender" "$W/a.mender")" 1 \
  "sign with a plugin key spec loads the plugins (once)"
rm -f "$W/lazy.mender"
is "$(loads "$MSIG" plugins)" 1 "msig plugins loads them"
is "$(loads "$MSIG" --plugin-param fx.x=1 validate "$W/a.mender")" 1 "--plugin-param loads them (to check the name)"
done_testing
