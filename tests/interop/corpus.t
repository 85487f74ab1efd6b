#!/usr/bin/env bash
# tests/interop/corpus.t -- msig against every artifact of the interop corpus made by the real
# mender-artifact 3.9.0 ($MSIG_INTEROP/index.tsv), checked against the `msig_expect` column:
#   accept          validate: 0 with the right key (no key if unsigned); 4 with the wrong key;
#                   signed + no key: 4 "missing verifier"; unsigned + key: 4 "missing signature".
#                   read: 0 with the expected Signature: line, and the same name, device types,
#                   payload type, provides and depends as mender-artifact's <file>.read.txt.
#   reject          validate fails (non-zero, no crash, a message on stderr) with no key, the right
#                   and the wrong key; read fails too (signature-only defects: read -k must not say
#                   "verified correctly").
#   reject-with-key valid unsigned without a key; 4 "missing signature" with any key.
. "$(dirname "$0")/../lib.sh"
need python3
readinfo="$MSIG_SOURCE_DIR/tests/interop/readinfo.py"
idx="$MSIG_INTEROP/index.tsv"

if [ ! -x "$MSIG" ]; then skip "msig CLI not built ($MSIG)" "msig CLI exists"; done_testing; fi
if [ ! -f "$idx" ]; then skip "interop corpus missing ($idx)" "interop corpus exists"; done_testing; fi

sigline() { printf '%s\n' "$1" | sed -n 's/^ *Signature: *//p' | head -n1; }
nocrash() { # nocrash RC NAME: exit code is a normal exit, not a signal or sanitizer abort
  if [ "$1" -lt 128 ]; then ok 0 "$2"; else ok 1 "$2"; diag "exit code $1 (crash?)" "stderr: $err"; fi
}
fails() { # fails NAME: last run failed cleanly with a message on stderr, and did not claim success
  local ec=$rc
  if [ "$ec" -ne 0 ] && [ "$ec" -lt 128 ] && [ -n "$err" ]; then ok 0 "$1"; else
    ok 1 "$1"; diag "exit code $ec (want non-zero, < 128, with a message on stderr)" "stdout: $out" "stderr: $err"; fi
  unlike "$out" "validated successfully" "$1: no success message"
}
exits() { # exits WANT NAME
  if [ "$rc" -eq "$1" ]; then ok 0 "$2"; else ok 1 "$2"; diag "exit code $rc, want $1" "stdout: $out" "stderr: $err"; fi
}

rows=0
# tab is IFS white space (empty fields would collapse), so split on \x1f instead
while IFS=$'\x1f' read -r file kind expect desc keyused _vn _vr _vw _rn rsig kright kwrong _rest; do
  [ "$file" = "file" ] && continue
  rows=$((rows + 1))
  desc=${desc//#/}   # '#' would start a TAP directive
  a="$MSIG_INTEROP/$file"
  right="$MSIG_INTEROP/$kright"
  wrong="$MSIG_INTEROP/$kwrong"
  if [ ! -f "$a" ] || [ ! -f "$right" ] || [ ! -f "$wrong" ]; then
    ok 1 "$file: corpus files present"; diag "missing $a, $right or $wrong"; continue
  fi
  case "$expect" in
  accept)
    if [ "$keyused" != "none" ]; then
      run "$MSIG" validate -k "$right" "$a"
      exits 0 "$file: validate -k right key accepts ($desc)"
      like "$out" "validated successfully" "$file: validate -k right key says so"
      case "$file" in edge-augment-*)
        like "$(printf '%s\n%s' "$out" "$err" | tr 'A-Z' 'a-z')" "augment" \
          "$file: validate warns that augmented parts are not signed" ;;
      esac
      run "$MSIG" validate -k "$wrong" "$a"
      exits 4 "$file: validate -k wrong key rejects"
      [ -n "$err" ]; ok $? "$file: validate -k wrong key gives a message"
      run "$MSIG" validate "$a"
      exits 4 "$file: validate without key exits 4"
      like "$err" "missing verifier" "$file: validate without key says missing verifier"
      run "$MSIG" read --no-progress -k "$right" "$a"
      exits 0 "$file: read -k right key"
      is "$(sigline "$out")" "signed and verified correctly" "$file: read -k right key Signature line"
      [ "$rsig" = "signed and verified correctly" ] || diag "$file: 3.9.0 printed '$rsig' here (msig accepts it on purpose)"
    else
      run "$MSIG" validate "$a"
      exits 0 "$file: validate without key accepts unsigned ($desc)"
      like "$out" "validated successfully" "$file: validate says so"
      for k in "$right" "$wrong"; do
        run "$MSIG" validate -k "$k" "$a"
        exits 4 "$file: validate -k ${k##*/} exits 4 (unsigned)"
        like "$err" "missing signature" "$file: validate -k ${k##*/} says missing signature"
      done
      run "$MSIG" read --no-progress -k "$right" "$a"
      exits 0 "$file: read -k right key"
      is "$(sigline "$out")" "no signature" "$file: read -k Signature line"
    fi
    run "$MSIG" read --no-progress "$a"
    exits 0 "$file: read without key"
    if [ "$keyused" != "none" ]; then
      like "$(sigline "$out")" "signed but no key" "$file: read Signature line (no key)"
    else
      is "$(sigline "$out")" "no signature" "$file: read Signature line (no key)"
    fi
    if [ -f "$a.read.txt" ]; then
      got=$(printf '%s\n' "$out" | python3 "$readinfo" -)
      want=$(python3 "$readinfo" "$a.read.txt")
      is "$got" "$want" "$file: read shows the same name, devices, type, provides, depends as mender-artifact"
    else
      diag "$file: no $file.read.txt (3.9.0 cannot read it); read output not compared"
    fi
    ;;
  reject)
    for mode in none right wrong; do
      case $mode in
      none) run "$MSIG" validate "$a" ;;
      right) run "$MSIG" validate -k "$right" "$a" ;;
      wrong)
        run "$MSIG" validate -k "$wrong" "$a"
        case "$file" in neg-sig-otherkey-*)
          # signed by the key the index calls "wrong": with that key it is validly signed
          exits 0 "$file: validate -k ${kwrong##*/} accepts (that key made the signature)"
          continue ;;
        esac ;;
      esac
      fails "$file: validate ($mode key) rejects ($desc)"
      [ "$mode" = right ] && diag "$file: msig says: ${err%%$'\n'*}"
    done
    run "$MSIG" read --no-progress "$a"
    case "$file" in
    neg-sig-*)
      # A defect only a key can see: without a key read need not fail, but must not crash.
      nocrash "$rc" "$file: read without key does not crash"
      run "$MSIG" read --no-progress -k "$right" "$a"
      nocrash "$rc" "$file: read -k right key does not crash"
      if [ "$rc" -ne 0 ]; then ok 0 "$file: read -k right key fails"; diag "$file: read says: ${err%%$'\n'*}"
      else like "$(sigline "$out")" "failed" "$file: read -k right key reports the failed verification"; fi
      ;;
    *)
      fails "$file: read rejects"
      diag "$file: read says: ${err%%$'\n'*}"
      ;;
    esac
    ;;
  reject-with-key)
    run "$MSIG" validate "$a"
    exits 0 "$file: validate without key accepts it as unsigned ($desc)"
    for k in "$right" "$wrong"; do
      run "$MSIG" validate -k "$k" "$a"
      exits 4 "$file: validate -k ${k##*/} exits 4"
      like "$err" "missing signature" "$file: validate -k ${k##*/} says missing signature"
    done
    run "$MSIG" read --no-progress "$a"
    exits 0 "$file: read without key"
    is "$(sigline "$out")" "no signature" "$file: read Signature line"
    ;;
  *)
    ok 1 "$file: known msig_expect value"; diag "msig_expect='$expect'"
    ;;
  esac
done < <(tr '\t' '\037' <"$idx")

[ "$rows" -ge 100 ]; ok $? "index.tsv has the whole corpus ($rows rows)"
done_testing
