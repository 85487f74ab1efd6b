#!/usr/bin/env bash
# scripts/build.sh [BUILD_DIR] -- configure and build msig (default build dir: build/ in the source tree).
# In CI (CI=true) warnings are errors (-DMSIG_WERROR=ON). Extra cmake options: MSIG_CMAKE_ARGS="...".
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
[ -n "${MSIG_WERROR:-}" ] && werror=$MSIG_WERROR
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" -DMSIG_WERROR="$werror" ${MSIG_CMAKE_ARGS:-}
cmake --build "$build" -j"$(nproc)"
echo "build: done in $build (MSIG_WERROR=$werror)"
