#!/usr/bin/env bash
# scripts/test.sh -- one command (as root on Debian 12): install the dependencies, build,
# and run every test twice over: CTest (ctest --output-on-failure) and prove (tests/run-prove);
# then build the minimal (verify-only, no optional plugin) configuration and run its core tests.
# Exits non-zero when anything fails. CI=true makes tests that cannot run fail instead of skip,
# and builds with -DMSIG_WERROR=ON. Build dir: $MSIG_BUILD (default build/).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${MSIG_BUILD:-$src/build}
jobs=${MSIG_TEST_JOBS:-2}

bash "$src/scripts/deps.sh" || { echo "test.sh: installing dependencies failed" >&2; exit 1; }
bash "$src/scripts/build.sh" "$build" || { echo "test.sh: build failed" >&2; exit 1; }

if [ ! -d "$src/../shared/interop" ]; then
  echo "test.sh: warning: $src/../shared/interop (the interop corpus) is missing; interop tests will fail in CI" >&2
fi

status=0
echo "== ctest"
(cd "$build" && ctest --output-on-failure -j"$jobs") || { echo "test.sh: ctest reported failures" >&2; status=1; }

echo "== prove"
"$src/tests/run-prove" "$build" -j"$jobs" || { echo "test.sh: prove reported failures" >&2; status=1; }

# The minimal configuration a verify-only embedder builds: every optional plugin OFF. Its
# libmsig must link and pass the core tests without p11-kit, libcurl or libext2fs.
echo "== minimal configuration (every optional plugin OFF)"
min=$build-minimal
if MSIG_CMAKE_ARGS="-DMSIG_PLUGIN_KMS=OFF -DMSIG_PLUGIN_PKCS11=OFF -DMSIG_PLUGIN_OSSL=OFF --no-warn-unused-cli" \
     bash "$src/scripts/build.sh" "$min" >"$min.log" 2>&1; then
  if ls "$min"/lib/msig/plugins/*.so >/dev/null 2>&1; then
    echo "test.sh: the minimal configuration built external plugins: $(ls "$min"/lib/msig/plugins)" >&2
    status=1
  fi
  (cd "$min" && ctest --output-on-failure -j"$jobs" -R '^(unit/|install/linkage|cli/)') ||
    { echo "test.sh: the minimal configuration's tests failed" >&2; status=1; }
else
  tail -n 30 "$min.log" >&2
  echo "test.sh: the minimal configuration does not build (log: $min.log)" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then echo "test.sh: ALL TESTS PASSED"; else echo "test.sh: FAILURES (see above)" >&2; fi
exit "$status"
