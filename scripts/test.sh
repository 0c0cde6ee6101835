#!/usr/bin/env bash
# The test command: the Rust test suite (unit, integration with real clients,
# browser tests when Chromium is installed), then the extra checks below.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --locked --all-targets 2>&1 | tee /tmp/mailcatch-cargo-test.log
