#!/usr/bin/env bash
# One command from a fresh Debian machine to a running service on 127.0.0.1:8080:
# installs missing system packages, builds in release mode, fetches the models, serves.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/install-system-deps.sh"
fresh_workspace
cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -p livegate
BIN="$CARGO_TARGET_DIR/release/livegate"
"$BIN" models fetch
exec "$BIN" serve --bind "${LIVEGATE_BIND:-127.0.0.1:8080}" "$@"
