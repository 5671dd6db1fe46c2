#!/usr/bin/env bash
# Reproduces Livegate's PAD model from ../shared/testdata in one command:
#   training/train.sh            # the shipped model, its fold models and the LOSO table
#   training/train.sh --smoke    # a quick run on every 10th still into a scratch folder (CI)
# Extra arguments go to train.py (e.g. --l2 10; --out DIR writes there instead, as CI does to
# check that the command still makes the committed model: training/reproduced.py). Output:
# training/livegate_pad/ (one graph per network), training/folds.json, training/head.json,
# training/scales.json, training/loso.json, training/threshold.txt (with --smoke: under
# $CARGO_TARGET_DIR/training-smoke/, fold models exported too).
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then SMOKE=1; shift; fi
: "${LIVEGATE_TESTDATA:?testdata missing: set LIVEGATE_TESTDATA or put it at ../shared/testdata}"

ensure_train_venv
VENV="$LIVEGATE_TRAIN_VENV"

BIN="$CARGO_TARGET_DIR/release/livegate"
[[ -x "$BIN" ]] || cargo build --locked --release -p livegate --manifest-path "$ROOT/Cargo.toml"
if ((SMOKE)); then
  WORK="$CARGO_TARGET_DIR/training-smoke"
  OUT="$WORK/out"
  rm -rf "$WORK"
  # --embeddings: unused by train.py; written and checked here for training/experiments/fr_taps/
  "$BIN" crops --manifest "$LIVEGATE_TESTDATA/MANIFEST.tsv" --root "$LIVEGATE_TESTDATA" \
    --out "$WORK/crops" --every 10 --exact 8 --embeddings
  "$VENV/bin/python" "$ROOT/training/check_crops.py" "$WORK/crops"
  "$VENV/bin/python" "$ROOT/training/train.py" --crops "$WORK/crops" --out "$OUT" "$@"
  "$VENV/bin/python" "$ROOT/training/export.py" --folds "$OUT/folds.json" --out "$OUT/folds"
else
  WORK="$CARGO_TARGET_DIR/training"
  OUT="$ROOT/training"
  "$BIN" crops --manifest "$LIVEGATE_TESTDATA/MANIFEST.tsv" --root "$LIVEGATE_TESTDATA" \
    --out "$WORK/crops" --exact 32
  "$VENV/bin/python" "$ROOT/training/train.py" --crops "$WORK/crops" --out "$OUT" "$@"
fi
