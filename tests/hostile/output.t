#!/usr/bin/env bash
# output.t -- the write side can never destroy an input: -o naming the key, a payload, a
# script, the meta-data or the passphrase file, a device or a FIFO is refused before anything
# is written; a kill during write leaves no temporary file; in-place sign is locked against a
# concurrent one and refuses a FIFO at once; -o - is standard output; the passphrase never
# reaches a plugin's child process.
. "$(dirname "$0")/../lib.sh"
need openssl sha256sum flock mkfifo timeout

K=$MSIG_INTEROP/keys
KEY=$TMPD/key.pem
cp "$K/rsa2048-private-pkcs8.pem" "$KEY"
mkdata "$TMPD/rootfs.img" 4096
printf '#!/bin/sh\nexit 0\n' >"$TMPD/ArtifactInstall_Enter_00"
printf '{"a": 1}\n' >"$TMPD/meta.json"
printf 'secret-pass\n' >"$TMPD/pass.txt"
sums() { sha256sum "$KEY" "$TMPD/rootfs.img" "$TMPD/ArtifactInstall_Enter_00" "$TMPD/meta.json" "$TMPD/pass.txt"; }
BEFORE=$(sums)
W=(write module-image -T script -t dev -n rel-1 -f "$TMPD/rootfs.img" -s "$TMPD/ArtifactInstall_Enter_00" -m "$TMPD/meta.json" -k "$KEY" --passphrase-file "$TMPD/pass.txt")

for target in "$KEY" "$TMPD/rootfs.img" "$TMPD/ArtifactInstall_Enter_00" "$TMPD/meta.json" "$TMPD/pass.txt"; do
  run "$MSIG" "${W[@]}" -o "$target"
  ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "write -o $(basename "$target") (an input) is refused"
  like "$err" "is the same file as the input" "write -o $(basename "$target"): the message"
done
is "$(sums)" "$BEFORE" "every input is byte for byte what it was"
run "$MSIG" "${W[@]}" -o "$TMPD/a.mender"
is "$rc" 0 "the same write to a new file works" || diag "$err"

run "$MSIG" sign -k "$KEY" "$TMPD/a.mender" -f -o "$KEY"
like "$err" "refusing to write $KEY: it is the same file as the input $KEY" "sign -o KEY is refused"
ln "$KEY" "$TMPD/key-link.pem"
run "$MSIG" sign -k "$KEY" "$TMPD/a.mender" -f -o "$TMPD/key-link.pem"
like "$err" "is the same file as the input" "sign -o a hard link of the key is refused"
is "$(sums)" "$BEFORE" "the key is untouched"

mkfifo "$TMPD/fifo"
run "$MSIG" "${W[@]}" -o "$TMPD/fifo"
like "$err" "refusing to replace $TMPD/fifo: it is a FIFO, not a regular file" "-o a FIFO is refused"
ok "$([ -p "$TMPD/fifo" ] && echo 0 || echo 1)" "the FIFO is still a FIFO"
if [ "$(id -u)" -eq 0 ]; then
  mknod "$TMPD/null" c 1 3
  run "$MSIG" "${W[@]}" -o "$TMPD/null"
  like "$err" "it is a character device, not a regular file" "-o a character device is refused"
  ok "$([ -c "$TMPD/null" ] && echo 0 || echo 1)" "the device node is still a device"
else
  skip "not root: cannot make a device node" "-o a character device is refused"
  skip "not root" "the device node is still a device"
fi
mkdir "$TMPD/dir"
run "$MSIG" "${W[@]}" -o "$TMPD/dir"
like "$err" "it is a directory, not a regular file" "-o a directory is refused"

# ---------------------------------------------------------------- standard output
run sh -c '"$0" sign -k "$1" "$2" -f -o - >/dev/null' "$MSIG" "$KEY" "$TMPD/a.mender"
ok "$([ ! -e ./- ] && [ ! -e "$TMPD/-" ] && echo 0 || echo 1)" "sign -o - creates no file named -"
"$MSIG" sign -k "$KEY" "$TMPD/a.mender" -f -o - >"$TMPD/stdout.mender" 2>/dev/null
run "$MSIG" validate -k "$K/rsa2048-public.pem" "$TMPD/stdout.mender"
is "$rc" 0 "sign -o - writes the signed artifact to standard output" || diag "$err"
run env TMPDIR="$TMPD/nowhere" "$MSIG" "${W[@]}" -o -
like "$err" "cannot create a temporary file in $TMPD/nowhere" "write -o - with a missing TMPDIR names it"

# ---------------------------------------------------------------- kills leave nothing
mkdata "$TMPD/big.img" $((48 * 1024 * 1024))
mkdir "$TMPD/out"
for sig in KILL INT TERM; do
  "$MSIG" write rootfs-image -t dev -n big -f "$TMPD/big.img" --compression lzma \
    -o "$TMPD/out/big.mender" 2>/dev/null &
  pid=$!
  sleep 0.5
  kill -s "$sig" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  is "$(ls -A "$TMPD/out" | tr '\n' ' ')" "" "SIG$sig during write: no output and no temporary file left"
done

# ---------------------------------------------------------------- in-place sign
cp "$TMPD/a.mender" "$TMPD/b.mender"
flock -x "$TMPD/b.mender" sleep 5 &
lockpid=$!
sleep 0.2
run timeout 10 "$MSIG" sign -k "$KEY" -f "$TMPD/b.mender"
like "$err" "is being signed or changed by another process (locked); nothing was done" \
  "in-place sign of a file another process holds is refused at once"
kill "$lockpid" 2>/dev/null; wait "$lockpid" 2>/dev/null
cmp -s "$TMPD/a.mender" "$TMPD/b.mender"
ok $? "and the file is unchanged"
mkfifo "$TMPD/in.fifo"
start=$(date +%s)
run timeout 10 "$MSIG" sign -k "$KEY" "$TMPD/in.fifo"
ok "$([ "$rc" -ne 124 ] && [ $(( $(date +%s) - start )) -lt 5 ] && echo 0 || echo 1)" "sign on a FIFO with no writer does not block"
like "$err" "is not a regular file (a FIFO)" "sign on a FIFO: the message"

# ---------------------------------------------------------------- no secret for child processes
need cc
EX=$TMPD/plugins
mkdir -m 0755 "$EX"
cc -std=c11 -shared -fPIC -fvisibility=hidden -I"$MSIG_SOURCE_DIR/include" \
   "$MSIG_SOURCE_DIR/plugins/example/example.c" -o "$EX/msig-example.so" || bail "example plugin"
chmod 0755 "$EX/msig-example.so"
openssl pkey -in "$KEY" -pubout -outform DER -out "$TMPD/pub.der"
run env MSIG_PLUGIN_PATH="$EX" MSIG_KEY_PASSPHRASE=never-inherit-4711 "$MSIG" \
  --plugin-param "example.command=env >$TMPD/child.env; openssl pkeyutl -sign -inkey $KEY -pkeyopt digest:sha256" \
  --plugin-param "example.pubkey=$TMPD/pub.der" sign -k example:k -f "$TMPD/a.mender" -o "$TMPD/ex.mender"
is "$rc" 0 "a plugin that runs a child process signs" || diag "$err"
ok "$([ -s "$TMPD/child.env" ] && ! grep -q never-inherit-4711 "$TMPD/child.env" && echo 0 || echo 1)" \
   "MSIG_KEY_PASSPHRASE is not in the child's environment"

done_testing
