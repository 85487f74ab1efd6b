#!/usr/bin/env bash
# tests/cli/sign.t -- `msig sign`: errors leave the input unchanged and create no output;
# a signed artifact verifies with msig and mender-artifact; -f replaces a signature; -o.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
if [ ! -d "$MSIG_INTEROP/keys" ]; then skip "interop corpus missing" "corpus exists"; done_testing; fi
have_ma=0
command -v mender-artifact >/dev/null 2>&1 && have_ma=1

K=$MSIG_INTEROP/keys
W=$TMPD/w
mkdir -p "$W"
cp "$MSIG_INTEROP/rootfs-unsigned-gzip.mender" "$W/a.mender"
cp "$MSIG_INTEROP/rootfs-rsa2048-gzip.mender" "$W/signed.mender"
chmod 644 "$W/a.mender" "$W/signed.mender"

unchanged() { # unchanged FILE SUM NAME
  is "$(sha256sum <"$1")" "$2" "$3: input unchanged"
}
listing() { ls -A "$W" | tr '\n' ' '; }
list0=$(listing)
sum_a=$(sha256sum <"$W/a.mender")
sum_s=$(sha256sum <"$W/signed.mender")

run "$MSIG" sign "$W/a.mender"
is "$rc" 1 "no key: exit 1"
like "$err" "Missing signing key; please provide a signing key parameter" "no key: message"
unchanged "$W/a.mender" "$sum_a" "no key"

run "$MSIG" sign -k "$W/no-such.pem" "$W/a.mender"
is "$rc" 1 "key file missing: exit 1"
like "$err" "no-such.pem" "key file missing: names the file"
unchanged "$W/a.mender" "$sum_a" "key file missing"

run "$MSIG" sign -k "$K/rsa2048-public.pem" "$W/a.mender"
is "$rc" 1 "public key given to sign: exit 1"
like "$err" "rsa2048-public.pem" "public key given to sign: names the file"
unchanged "$W/a.mender" "$sum_a" "public key given to sign"

run "$MSIG" sign -k "$K/rsa2048-private-trad.pem" -k "$K/p256-private-trad.pem" "$W/a.mender"
is "$rc" 1 "two keys: exit 1"
like "$err" "too many signing keys given" "two keys: message"
unchanged "$W/a.mender" "$sum_a" "two keys"

run "$MSIG" sign -k "$K/rsa2048-private-trad.pem"
is "$rc" 1 "no file: exit 1"
[ -n "$err" ]; ok $? "no file: message"

run "$MSIG" sign -k "$K/rsa2048-private-trad.pem" "$W/missing.mender"
is "$rc" 1 "missing artifact: exit 1"
like "$err" "missing.mender" "missing artifact: names the file"

run "$MSIG" sign -k "$K/p256-private-trad.pem" "$W/signed.mender"
is "$rc" 1 "already signed, no -f: exit 1"
like "$err" "Artifact already signed, refusing to re-sign. Use force option to override" \
  "already signed, no -f: message"
unchanged "$W/signed.mender" "$sum_s" "already signed, no -f"

run "$MSIG" sign -k "$K/p256-private-trad.pem" -o "$W/out.mender" "$W/signed.mender"
is "$rc" 1 "already signed, no -f, -o: exit 1"
[ ! -e "$W/out.mender" ]; ok $? "already signed, no -f, -o: no output file"

run "$MSIG" sign --bogus -k "$K/rsa2048-private-trad.pem" "$W/a.mender"
is "$rc" 1 "unknown flag: exit 1"
like "$err" "flag provided but not defined: --bogus" "unknown flag: message"
unchanged "$W/a.mender" "$sum_a" "unknown flag"

is "$(listing)" "$list0" "no stray files after the failures"

# Success in place.
run "$MSIG" sign -k "$K/rsa2048-private-trad.pem" "$W/a.mender"
is "$rc" 0 "sign in place: exit 0" || diag "$err"
is "$out$err" "" "sign in place: prints nothing"
run "$MSIG" validate -k "$K/rsa2048-public.pem" "$W/a.mender"
is "$rc" 0 "signed in place: msig validate -k" || diag "$err"
if [ $have_ma -eq 1 ]; then
  run mender-artifact validate -k "$K/rsa2048-public.pem" "$W/a.mender"
  is "$rc" 0 "signed in place: mender-artifact validate -k" || diag "$err"
else
  skip "mender-artifact not installed" "signed in place: mender-artifact validate -k"
fi
is "$(stat -c %a "$W/a.mender")" 644 "sign in place keeps the file mode"

# -f replaces the signature; -o leaves the input alone.
sum_a2=$(sha256sum <"$W/a.mender")
run "$MSIG" sign -f -k "$K/p256-private-trad.pem" "$W/a.mender" -o "$W/b.mender"
is "$rc" 0 "sign -f -o: exit 0" || diag "$err"
unchanged "$W/a.mender" "$sum_a2" "sign -o"
run "$MSIG" validate -k "$K/p256-public.pem" "$W/b.mender"
is "$rc" 0 "re-signed with P-256: msig validate" || diag "$err"
run "$MSIG" validate -k "$K/rsa2048-public.pem" "$W/b.mender"
is "$rc" 4 "re-signed: the old key no longer verifies"
if [ $have_ma -eq 1 ]; then
  run mender-artifact validate -k "$K/p256-public.pem" "$W/b.mender"
  is "$rc" 0 "re-signed with P-256: mender-artifact validate" || diag "$err"
else
  skip "mender-artifact not installed" "re-signed: mender-artifact validate"
fi
run "$MSIG" sign --force --key "$K/p256-private-trad.pem" "$W/signed.mender"
is "$rc" 0 "sign --force in place: exit 0" || diag "$err"
run "$MSIG" validate -k "$K/p256-public.pem" "$W/signed.mender"
is "$rc" 0 "sign --force in place: validates with the new key" || diag "$err"

# Signing a corrupt file: msig sign does not parse payloads, but a file that is not a tar
# with a manifest must fail and leave no output.
printf 'garbage' >"$W/bad.mender"
run "$MSIG" sign -k "$K/rsa2048-private-trad.pem" -o "$W/bad-out.mender" "$W/bad.mender"
is "$rc" 1 "corrupt input: exit 1"
[ ! -e "$W/bad-out.mender" ]; ok $? "corrupt input: no output file"
is "$(cat "$W/bad.mender")" "garbage" "corrupt input: unchanged"

done_testing
