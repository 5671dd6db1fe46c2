# Shared settings for the set-up scripts; sourced, not run.
# A persistent build directory outside the clone keeps CI and re-runs incremental.
if [[ -z "${CARGO_TARGET_DIR:-}" ]]; then
  if mkdir -p /var/cache/livegate/target 2>/dev/null && [[ -w /var/cache/livegate/target ]]; then
    export CARGO_TARGET_DIR=/var/cache/livegate/target
  else
    export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/livegate/target"
  fi
fi
mkdir -p "$CARGO_TARGET_DIR"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
if [[ -z "${LIVEGATE_TESTDATA:-}" && -d "$ROOT/../shared/testdata" ]]; then
  export LIVEGATE_TESTDATA="$(cd "$ROOT/../shared/testdata" && pwd)"
fi
