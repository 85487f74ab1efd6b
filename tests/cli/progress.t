#!/usr/bin/env bash
# progress.t -- the progress line: on a terminal (a pseudo-terminal made by script(1)) write,
# validate, read and sign show percentage, bytes, rate and time left, redrawn in place and
# cleared at the end; nothing with --no-progress, for read --json or -o -, or when standard
# error is not a terminal.
. "$(dirname "$0")/../lib.sh"
need script
export MSIG_PROGRESS_DELAY_MS=0 # draw from the first report (the default waits 0.5 s)
K=$MSIG_INTEROP/keys
mkdata "$TMPD/rootfs.img" $((24 * 1024 * 1024))

# on_tty CMD...: the command's terminal output (standard output and error together).
on_tty() {
  local q
  printf -v q '%q ' "$@"
  script -qfec "$q" "$TMPD/typescript" >/dev/null 2>&1
  cat "$TMPD/typescript"
}
progress_re='[0-9]+%  [0-9.]+ (B|KiB|MiB|GiB) of [0-9.]+ (B|KiB|MiB|GiB)  '
shows() { grep -Eq "$progress_re" <<<"$1"; }

out=$(on_tty "$MSIG" write rootfs-image -n p -t dev -f "$TMPD/rootfs.img" --compression none -o "$TMPD/a.mender")
ok "$(shows "$out" && echo 0 || echo 1)" "write on a terminal shows the progress line"
like "$out" $'\r\033[K' "it is redrawn in place"
last=$(tr '\r' '\n' <<<"${out%%Script done*}" | grep -v '^$' | tail -n 1)
ok "$(! shows "$last" && echo 0 || echo 1)" "and cleared at the end"
# A slower write (xz) shows the rate and the time left as well.
mkdata "$TMPD/small.img" $((3 * 1024 * 1024))
out=$(on_tty "$MSIG" write rootfs-image -n p -t dev -f "$TMPD/small.img" --compression lzma -o "$TMPD/x.mender")
ok "$(grep -Eq "$progress_re[0-9.]+ (B|KiB|MiB|GiB)/s  [0-9]+:[0-9]{2} left" <<<"$out" && echo 0 || echo 1)" \
   "a longer write shows the rate and the time left"
out=$(on_tty "$MSIG" validate "$TMPD/a.mender")
ok "$(shows "$out" && echo 0 || echo 1)" "validate shows it"
like "$out" "validated successfully" "validate still prints its result"
out=$(on_tty "$MSIG" read "$TMPD/a.mender")
ok "$(shows "$out" && echo 0 || echo 1)" "read shows it"
out=$(on_tty "$MSIG" sign -k "$K/rsa2048-private-pkcs8.pem" "$TMPD/a.mender")
ok "$(shows "$out" && echo 0 || echo 1)" "sign (which copies the artifact) shows it"

out=$(on_tty "$MSIG" write rootfs-image -n p -t dev -f "$TMPD/rootfs.img" --compression none --no-progress -o "$TMPD/b.mender")
ok "$(! shows "$out" && echo 0 || echo 1)" "write --no-progress shows none"
out=$(on_tty "$MSIG" read --json "$TMPD/a.mender")
ok "$(! shows "$out" && echo 0 || echo 1)" "read --json shows none"
out=$(on_tty "$MSIG" read --no-progress "$TMPD/a.mender")
ok "$(! shows "$out" && echo 0 || echo 1)" "read --no-progress shows none"
out=$(on_tty sh -c '"$0" write rootfs-image -n p -t dev -f "$1" --compression none -o - >"$2"' "$MSIG" "$TMPD/rootfs.img" "$TMPD/c.mender")
ok "$(! shows "$out" && echo 0 || echo 1)" "write -o - shows none"
run "$MSIG" write rootfs-image -n p -t dev -f "$TMPD/rootfs.img" --compression none -o "$TMPD/d.mender"
ok "$(! shows "$err" && echo 0 || echo 1)" "standard error not a terminal: none"

done_testing
