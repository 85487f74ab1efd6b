#!/usr/bin/env bash
# tests/cli/passphrase.t -- encrypted PEM signing keys: --passphrase-file and
# MSIG_KEY_PASSPHRASE; no passphrase (stdin not a terminal: no prompt) and a wrong one fail
# without output.
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
need openssl

W=$TMPD/w
mkdir -p "$W"
cd "$W" || bail "cannot cd to $W"
mkdata rootfs.ext4 3000
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass pass:s3cret \
  -out enc.pem 2>/dev/null || bail "openssl genpkey failed"
openssl pkey -in enc.pem -passin pass:s3cret -pubout -out pub.pem 2>/dev/null || bail "openssl pkey failed"
printf 's3cret\n' >pass.txt
printf 'wrong\n' >bad.txt
W_ARGS=(write rootfs-image -f rootfs.ext4 -n enc-1 -t dev)

unset MSIG_KEY_PASSPHRASE
run "$MSIG" "${W_ARGS[@]}" -k enc.pem -o none.mender </dev/null
is "$rc" 1 "no passphrase: exit 1"
like "$err" "enc.pem" "no passphrase: names the key file"
[ ! -e none.mender ]; ok $? "no passphrase: no output"

run "$MSIG" "${W_ARGS[@]}" -k enc.pem --passphrase-file bad.txt -o bad.mender
is "$rc" 1 "wrong passphrase: exit 1"
like "$err" "enc.pem" "wrong passphrase: names the key file"
[ ! -e bad.mender ]; ok $? "wrong passphrase: no output"

run "$MSIG" "${W_ARGS[@]}" -k enc.pem --passphrase-file missing.txt -o m.mender
is "$rc" 1 "passphrase file missing: exit 1"
like "$err" "missing.txt" "passphrase file missing: names the file"
[ ! -e m.mender ]; ok $? "passphrase file missing: no output"

run "$MSIG" "${W_ARGS[@]}" -k enc.pem --passphrase-file pass.txt -o f.mender
is "$rc" 0 "--passphrase-file: exit 0" || diag "$err"
run "$MSIG" validate -k pub.pem f.mender
is "$rc" 0 "--passphrase-file: signature verifies" || diag "$err"

MSIG_KEY_PASSPHRASE=s3cret run "$MSIG" "${W_ARGS[@]}" -k enc.pem -o e.mender
is "$rc" 0 "MSIG_KEY_PASSPHRASE: exit 0" || diag "$err"
run "$MSIG" validate -k pub.pem e.mender
is "$rc" 0 "MSIG_KEY_PASSPHRASE: signature verifies" || diag "$err"

run "$MSIG" "${W_ARGS[@]}" -o u.mender
sum=$(sha256sum <u.mender)
run "$MSIG" sign -k enc.pem --passphrase-file bad.txt u.mender
is "$rc" 1 "sign, wrong passphrase: exit 1"
is "$(sha256sum <u.mender)" "$sum" "sign, wrong passphrase: input unchanged"
run "$MSIG" sign -k enc.pem --passphrase-file pass.txt u.mender
is "$rc" 0 "sign --passphrase-file: exit 0" || diag "$err"
run "$MSIG" validate -k pub.pem u.mender
is "$rc" 0 "sign --passphrase-file: verifies" || diag "$err"

done_testing
