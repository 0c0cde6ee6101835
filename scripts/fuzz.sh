#!/usr/bin/env bash
# Runs each cargo-fuzz target for the given number of seconds (default 60),
# starting from the committed corpus. Needs cargo-fuzz (`cargo install
# cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets the stable toolchain build it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-60}
export RUSTC_BOOTSTRAP=1
for target in smtp_session summarize; do
  echo "fuzz: $target for ${seconds}s"
  # A scratch copy of the corpus, so a CI run does not dirty the tree.
  work=$(mktemp -d)
  cp -r "corpus/$target/." "$work/"
  cargo fuzz run -s none --release "$target" "$work" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 2>&1 | tail -n 12
  rm -rf "$work"
done
