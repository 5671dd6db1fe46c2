#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: system packages, models,
# formatting, lints, unit and integration tests on ../shared/testdata.
set -euo pipefail
source "$(dirname "$0")/env.sh"
LIVEGATE_WITH_BROWSER=1 "$ROOT/scripts/install-system-deps.sh"
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --locked --release -p livegate
"$CARGO_TARGET_DIR/release/livegate" models fetch
cargo test --release --locked --workspace --all-targets -- --test-threads=2
