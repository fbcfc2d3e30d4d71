#!/usr/bin/env bash
# Builds nib and runs every test (GPU tests report "skipped" without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure
