#!/usr/bin/env bash
# bench/bench.sh [SIZE_MIB] -- msig next to mender-artifact on a realistic rootfs payload.
# Builds an ext4 image of SIZE_MIB MiB (default 512) filled with files copied from /usr, then
# times, for both tools: write rootfs-image (gzip and none), validate (own gzip artifact and
# the other tool's), read. Each is run 3 times under GNU time; the run with the median wall time
# is reported. Also prints msig's peak RSS when validating a 10 MiB and a SIZE_MIB artifact
# (streaming: it should not grow with the payload). Informational only: nothing is asserted.
# Env: MSIG (default build/cli/msig), MA (default mender-artifact), REPEAT (default 3), TMPDIR.
set -euo pipefail
size=${1:-512}
src=$(cd "$(dirname "$0")/.." && pwd)
MSIG=${MSIG:-$src/build/cli/msig}
MA=${MA:-mender-artifact}
REPEAT=${REPEAT:-3}
TIME=/usr/bin/time

[ -x "$MSIG" ] || { echo "bench: msig not found at $MSIG (run scripts/build.sh, or set MSIG)" >&2; exit 1; }
command -v "$MA" >/dev/null || { echo "bench: $MA not found (scripts/deps.sh installs it)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "bench: GNU time ($TIME) not found (apt-get install time)" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "bench: mkfs.ext4 not found (apt-get install e2fsprogs)" >&2; exit 1; }
case "$size" in '' | *[!0-9]*) echo "usage: bench/bench.sh [SIZE_MIB]" >&2; exit 2 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/msig-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- payload: ext4 image of SIZE MiB filled with copies of files from /usr -------------------
make_image() { # make_image FILL_PERCENT
  rm -rf root rootfs.ext4; mkdir root
  local want=$((size * 1024 * 1024 * $1 / 100)) have=0 round=0 got
  while [ "$have" -lt "$want" ] && [ "$round" -lt 50 ]; do
    round=$((round + 1))
    mkdir -p "root/copy$round"
    find /usr -xdev -type f -size -16M -printf '%s %P\n' 2>/dev/null |
      awk -v left=$((want - have)) '{ b = int(($1 + 4095) / 4096) * 4096 + 4096; if (t + b > left) exit; t += b; sub(/^[0-9]+ /, ""); print }' >list
    [ -s list ] || break
    tar -C /usr -cf - -T list 2>/dev/null | tar -C "root/copy$round" -xf -
    got=$(du -s -B1 root | cut -f1)
    [ "$got" -gt "$have" ] || break
    have=$got
  done
  mkfs.ext4 -q -F -d root rootfs.ext4 "${size}M" >/dev/null 2>&1
}
echo "bench: building a ${size} MiB ext4 image from /usr files in $work ..."
make_image 75 || make_image 60 || make_image 45 || { echo "bench: mkfs.ext4 -d failed" >&2; exit 1; }
rm -rf root list
echo "bench: payload rootfs.ext4: $(stat -c %s rootfs.ext4) bytes"
head -c $((10 * 1024 * 1024)) rootfs.ext4 >small.ext4

# --- measuring -----------------------------------------------------------------------------
# measure KEY CMD...: REPEAT runs under GNU time; stores "wall user sys rss" of the median-wall run
declare -A RES
measure() {
  local key=$1 i line
  shift
  : >"times.$key"
  for i in $(seq "$REPEAT"); do
    if ! "$TIME" -f '%e %U %S %M' -o "t.$key" "$@" >/dev/null 2>"err.$key"; then
      echo "bench: FAILED ($key): $*" >&2; sed 's/^/  /' "err.$key" >&2
      RES[$key]="FAIL FAIL FAIL FAIL"; return 0
    fi
    tail -n1 "t.$key" >>"times.$key"
  done
  line=$(sort -n -k1,1 "times.$key" | sed -n "$(((REPEAT + 1) / 2))p")
  RES[$key]=$line
}

tools=(msig ma)
cmd() { if [ "$1" = msig ]; then printf '%s' "$MSIG"; else printf '%s' "$MA"; fi; }
for t in "${tools[@]}"; do
  c=$(cmd "$t")
  echo "bench: $t ..."
  measure "write-gzip.$t" "$c" write rootfs-image -t bench-dev -n bench-1 -f rootfs.ext4 --compression gzip -o "$t-gzip.mender"
  measure "write-none.$t" "$c" write rootfs-image -t bench-dev -n bench-1 -f rootfs.ext4 --compression none -o "$t-none.mender"
done
for t in "${tools[@]}"; do
  c=$(cmd "$t")
  other=ma; [ "$t" = ma ] && other=msig
  measure "validate-own.$t" "$c" validate "$t-gzip.mender"
  measure "validate-other.$t" "$c" validate "$other-gzip.mender"
  measure "read.$t" "$c" read --no-progress "$t-gzip.mender"
done

# --- report --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /FAIL/ || b ~ /FAIL/ || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "msig vs mender-artifact $($MA --version 2>/dev/null | awk '{print $NF}'), payload ${size} MiB ext4, median of $REPEAT runs"
echo "(validate-own: each tool's own gzip artifact; validate-other: the other tool's gzip artifact)"
printf '%-15s %-12s %12s %16s %8s\n' operation metric msig mender-artifact ratio
for op in write-gzip write-none validate-own validate-other read; do
  read -r mw mu ms mr <<<"${RES[$op.msig]}"
  read -r aw au as ar <<<"${RES[$op.ma]}"
  printf '%-15s %-12s %12s %16s %8s\n' "$op" "wall s" "$mw" "$aw" "$(ratio "$mw" "$aw")"
  printf '%-15s %-12s %12s %16s %8s\n' "" "user s" "$mu" "$au" "$(ratio "$mu" "$au")"
  printf '%-15s %-12s %12s %16s %8s\n' "" "sys s" "$ms" "$as" "$(ratio "$ms" "$as")"
  printf '%-15s %-12s %12s %16s %8s\n' "" "peak RSS KiB" "$mr" "$ar" "$(ratio "$mr" "$ar")"
done
for c in gzip none; do
  printf '%-15s %-12s %12s %16s %8s\n' "size ($c)" bytes "$(stat -c %s "msig-$c.mender" 2>/dev/null || echo -)" \
    "$(stat -c %s "ma-$c.mender" 2>/dev/null || echo -)" \
    "$(ratio "$(stat -c %s "msig-$c.mender" 2>/dev/null || echo FAIL)" "$(stat -c %s "ma-$c.mender" 2>/dev/null || echo FAIL)")"
done

# --- streaming check: peak RSS of msig validate does not grow with the payload ----------------
REPEAT=1
"$MSIG" write rootfs-image -t bench-dev -n bench-small -f small.ext4 -o small.mender >/dev/null 2>&1 || true
measure "stream-small" "$MSIG" validate small.mender
measure "stream-big" "$MSIG" validate msig-gzip.mender
echo
echo "streaming check (msig validate, gzip):"
printf '  %5s MiB payload: peak RSS %8s KiB\n' 10 "$(awk '{print $4}' <<<"${RES[stream-small]}")" \
  "$size" "$(awk '{print $4}' <<<"${RES[stream-big]}")"
