#!/usr/bin/env bash
# tests/fuzz/regress.t -- replays the fuzz harnesses (fuzz/) over the interop corpus and the
# seeds and crash reproducers in fuzz/corpus/<harness>/. Every run must exit 0 with every
# input run: a crash, a harness invariant (abort) or a sanitizer report fails the test.
# Build with -DMSIG_ENABLE_SANITIZERS=ON to have the replay checked by ASan/UBSan.
# With -DMSIG_ENABLE_FUZZ=ON (clang) the libFuzzer binaries replay the same inputs too, and
# MSIG_FUZZ_SECONDS=N (default 0: off) also fuzzes each harness for N seconds.
. "$(dirname "$0")/../lib.sh"
need tar

F=$MSIG_BUILD_DIR/fuzz
SEEDS=$MSIG_SOURCE_DIR/fuzz/corpus
HARNESSES="manifest reader sigfmt targuard zstream"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

[ -d "$MSIG_INTEROP" ] || bail "interop corpus not found at $MSIG_INTEROP"
for h in $HARNESSES; do
  [ -x "$F/fuzz_${h}_run" ] || bail "$F/fuzz_${h}_run is not built"
  [ -d "$SEEDS/$h" ] || bail "seed folder $SEEDS/$h is missing"
done

# Inputs from the interop corpus: whole artifacts (reader), their manifest and
# manifest.sig (manifest, sigfmt), and each compressed entry of the outer tar and of
# header.tar.* prefixed with the zstream selector bytes (family, chunk size 0).
mkdir -p "$TMPD"/{manifest,reader,sigfmt,targuard,zstream}
for f in "$MSIG_INTEROP"/*.mender; do
  b=$(basename "$f" .mender)
  ln -s "$f" "$TMPD/reader/$b.mender"
  { printf '\x07'; cat "$f"; } >"$TMPD/targuard/$b"          # the outer tar, chunks of 8
  tar -xOf "$f" manifest >"$TMPD/manifest/$b" 2>/dev/null || rm -f "$TMPD/manifest/$b"
  tar -xOf "$f" manifest.sig >"$TMPD/sigfmt/$b" 2>/dev/null || rm -f "$TMPD/sigfmt/$b"
  while IFS= read -r e; do
    case $e in *.gz) m=1 ;; *.xz) m=2 ;; *.zst) m=3 ;; *) continue ;; esac
    { printf "\\x0$m\\x00"; tar -xOf "$f" "$e"; } >"$TMPD/zstream/$b-${e//\//_}" 2>/dev/null \
      || rm -f "$TMPD/zstream/$b-${e//\//_}"
  done < <(tar -tf "$f" 2>/dev/null)
done
find "$TMPD" -type f -empty -delete

count() { find "$@" -type f -o -type l | wc -l; }
n_interop=$(ls "$MSIG_INTEROP"/*.mender | wc -l)
is "$(count "$TMPD/reader")" "$n_interop" "every interop artifact is a reader input"
[ "$(count "$TMPD/manifest")" -ge 100 ]; ok $? "manifests extracted from the corpus ($(count "$TMPD/manifest"))"
[ "$(count "$TMPD/sigfmt")" -ge 50 ]; ok $? "signatures extracted from the corpus ($(count "$TMPD/sigfmt"))"
[ "$(count "$TMPD/zstream")" -ge 100 ]; ok $? "compressed entries extracted from the corpus ($(count "$TMPD/zstream"))"

if grep -q __asan_init "$F/fuzz_reader_run" 2>/dev/null; then
  diag "standalone runners are built with AddressSanitizer"
else
  diag "standalone runners have no sanitizer (configure with -DMSIG_ENABLE_SANITIZERS=ON)"
fi

# The driver must fail on an unreadable path, so a wrong corpus path cannot pass silently.
run "$F/fuzz_manifest_run" "$TMPD/does-not-exist"
is "$rc" 2 "driver: a missing path exits 2"
like "$err" "does-not-exist" "driver: the missing path is named"

clean() { # clean NAME -- no crash and no sanitizer or invariant report in $err
  case "$err" in
    *AddressSanitizer* | *LeakSanitizer* | *"runtime error:"* | *"fuzz invariant failed"* | \
      *"deadly signal"*) ok 1 "$1"; diag "$err" | tail -n 40; return 1 ;;
  esac
  ok 0 "$1"
}

for h in $HARNESSES; do
  want=$(($(count "$TMPD/$h") + $(count "$SEEDS/$h")))
  run "$F/fuzz_${h}_run" "$TMPD/$h" "$SEEDS/$h"
  is "$rc" 0 "$h: standalone replay exits 0"
  like "$err" "ran $want inputs" "$h: standalone replay ran all $want inputs"
  clean "$h: standalone replay has no crash or report"
done

secs=${MSIG_FUZZ_SECONDS:-0}
for h in $HARNESSES; do
  bin=$F/fuzz_$h
  if [ ! -x "$bin" ]; then
    diag "$h: no libFuzzer binary (configure with CC=clang -DMSIG_ENABLE_FUZZ=ON to add it)"
    continue
  fi
  mkdir -p "$TMPD/lf-$h"
  cp -L "$TMPD/$h"/* "$SEEDS/$h"/* "$TMPD/lf-$h/"
  run "$bin" -runs=0 -rss_limit_mb=2560 -timeout=60 "$TMPD/lf-$h"
  is "$rc" 0 "$h: libFuzzer replay exits 0"
  clean "$h: libFuzzer replay has no crash or report"
  if [ "$secs" -gt 0 ]; then
    run "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2560 -timeout=60 \
      -artifact_prefix="$TMPD/crash-$h-" "$TMPD/lf-$h"
    is "$rc" 0 "$h: libFuzzer ${secs}s run exits 0"
    clean "$h: libFuzzer ${secs}s run found nothing" || diag "$(ls "$TMPD"/crash-"$h"-* 2>&1)"
  fi
done

done_testing
