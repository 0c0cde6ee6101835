#!/usr/bin/env bash
# The test command. Runs:
#  1. the Rust test suite: unit tests, real-client SMTP/HTTP/WebSocket tests,
#     and browser tests (skipped with a SKIP line when Chromium is missing,
#     unless MAILCATCH_REQUIRE_BROWSER=1);
#     the API, WebSocket and SMTP suites again on SQLite and on PostgreSQL
#     (MAILCATCH_TEST_POSTGRES: scripts/postgres.sh starts a throwaway one);
#  2. the Mailpit and MailHog client packages against a live mailcatch
#     (tests/compat/run.sh; when npm is here,
#     or always when MAILCATCH_REQUIRE_CLIENTS=1);
#  3. a short run of each fuzz target when MAILCATCH_FUZZ_SECONDS is set.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo test --locked --all-targets --no-fail-fast 2>&1 | tee "$log"
# The library as an embedder without default features gets it (no UI, TLS
# or allocator) must still build.
cargo build --locked --lib --no-default-features
# The examples in the documentation (--all-targets leaves them out).
cargo test --locked --doc 2>&1 | tee -a "$log"

# The same API, WebSocket and SMTP suites again on the SQLite engine. The
# test binary is already built, so this costs their run time only (seconds).
# Left out: the unit tests (they check both engines themselves), the CLI,
# browser and durability tests (engine-independent, or SQLite already).
echo "== again on the SQLite engine"
MAILCATCH_TEST_ENGINE=sqlite cargo test --locked --no-fail-fast --test suite -- \
  adversarial_api:: adversarial_mime:: adversarial_smtp:: api_extract:: \
  api_message:: api_messages:: api_openapi:: api_search:: api_security:: api_send_tags_chaos:: \
  api_wait:: api_ws:: mailboxes:: smtp_clients:: smtp_protocol:: outbound:: ui_http:: 2>&1 | tee -a "$log"

# A subset again on PostgreSQL (each server gets a fresh database on the
# MAILCATCH_TEST_POSTGRES server): the suites that exercise every store
# operation, search and the feed; the rest is engine-independent. Left out:
# `stats_are_debounced`, which assumes 50 inserts within its 250 ms window.
if [ -n "${MAILCATCH_TEST_POSTGRES:-}" ]; then
  echo "== again on the PostgreSQL engine"
  MAILCATCH_TEST_ENGINE=postgres cargo test --locked --no-fail-fast --test suite -- \
    api_message:: api_messages:: api_search:: api_send_tags_chaos:: \
    api_wait:: api_ws:: mailboxes:: smtp_protocol:: --skip stats_are_debounced 2>&1 | tee -a "$log"
elif [ "${MAILCATCH_REQUIRE_CLIENTS:-}" = 1 ]; then
  echo "MAILCATCH_TEST_POSTGRES is unset but MAILCATCH_REQUIRE_CLIENTS=1" >&2
  exit 1
else
  echo "SKIP: MAILCATCH_TEST_POSTGRES unset, PostgreSQL engine suites not run"
fi

if [ "${MAILCATCH_REQUIRE_CLIENTS:-}" = 1 ] || command -v npm >/dev/null 2>&1; then
  bash tests/compat/run.sh
else
  echo "SKIP: npm not found, client compatibility check not run"
fi

if [ -n "${MAILCATCH_FUZZ_SECONDS:-}" ]; then
  bash scripts/fuzz.sh "$MAILCATCH_FUZZ_SECONDS"
fi

# One closing line for the whole Rust suite.
passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo "rust: $passed passed, $failed failed"
