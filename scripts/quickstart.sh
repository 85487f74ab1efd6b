#!/usr/bin/env bash
# scripts/quickstart.sh -- one command from a fresh Debian 12 (as root): install the
# dependencies, build, and run the demo (scripts/demo.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/deps.sh"
bash "$here/build.sh"
bash "$here/demo.sh"
