#!/usr/bin/env bash
# tarlayer.t -- the strict tar layer against hostile artifacts made at test time by gen.py
# (one case per rule: links, sparse entries of every form, global and volume headers, PAX and
# GNU name conflicts, malformed or oversized PAX data, NUL in a PAX path, mixed magic, v7,
# a lone zero block followed by data, bad checksums, truncation, a hard link in a data tar).
# Each is refused with its own message and exit code 4; msig is never more lenient than
# mender-artifact; every case, the sparse-map memory bomb included, stays small in memory.
. "$(dirname "$0")/../lib.sh"
need python3 mender-artifact
TIME=/usr/bin/time
[ -x "$TIME" ] || bail "GNU time (/usr/bin/time) is needed to measure peak memory"

SRC=$TMPD/src.mender
printf 'payload bytes\n' >"$TMPD/rootfs.img"
run "$MSIG" write rootfs-image -t dev -n rel-1 -f "$TMPD/rootfs.img" --compression none -o "$SRC"
is "$rc" 0 "an uncompressed artifact to mutate" || diag "$err"
mkdir "$TMPD/cases"
/usr/bin/python3 "$MSIG_SOURCE_DIR/tests/hostile/gen.py" "$SRC" "$TMPD/cases" >"$TMPD/list" ||
  bail "gen.py failed"

while IFS=$'\t' read -r name file want; do
  run "$TIME" -f 'rss=%M' "$MSIG" validate "$file"
  rss=$(sed -n 's/^rss=//p' <<<"$err" | tail -n 1)
  err=$(grep -v '^rss=' <<<"$err")
  run_m() { mender-artifact validate "$file" >/dev/null 2>&1; echo $?; }
  mrc=$(run_m)
  if [ -z "$want" ]; then
    is "$rc" 0 "$name: valid, accepted" || diag "$err"
    is "$mrc" 0 "$name: mender-artifact agrees"
    continue
  fi
  is "$rc" 4 "$name: refused (exit 4)" || diag "$err"
  like "$err" "$want" "$name: the message says why"
  like "$err" "offset" "$name: and where"
  ok "$([ "$rc" -ne 0 ] || [ "$mrc" -eq 0 ] && echo 0 || echo 1)" \
     "$name: msig is not more lenient than mender-artifact (which exits $mrc)"
  ok "$([ -n "$rss" ] && [ "$rss" -lt 40000 ] && echo 0 || echo 1)" \
     "$name: peak RSS stays small (${rss} KiB)"
done <"$TMPD/list"

done_testing
