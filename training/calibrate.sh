#!/usr/bin/env bash
# A deployment's own PAD layer from its own labelled stills, in one command:
#   training/calibrate.sh --manifest FILE [--root DIR] --out DIR [calibrate.py options]
# FILE is a TSV like `livegate eval`'s (`file`, `identity`, `label` columns; labels `live` or
# `spoof`): at least 10 stills of each class with a usable face, better 20 or more, from
# several sessions, devices and attack kinds. DIR receives the layer (serve it with
# LIVEGATE_PAD_DIR=DIR) and calibration.json. Check it on other captures than these before
# serving it (`livegate eval` with LIVEGATE_PAD_DIR set); training/calibrate_check.sh does so on
# the test data. README, "Your own layer", has what it was measured to gain.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
MANIFEST="" DATA="" OUT=""
PASS=()
while (($#)); do
  case "$1" in
    --manifest) MANIFEST="$2"; shift 2 ;;
    --root) DATA="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) PASS+=("$1"); shift ;;
  esac
done
[[ -n "$MANIFEST" && -n "$OUT" ]] || {
  echo "usage: training/calibrate.sh --manifest FILE [--root DIR] --out DIR [--fold SOURCE [--folds DIR]] [--lam L]" >&2
  exit 2
}
DATA="${DATA:-$(dirname "$MANIFEST")}"
ensure_train_venv
BIN="$CARGO_TARGET_DIR/release/livegate"
[[ -x "$BIN" ]] || cargo build --locked --release -p livegate --manifest-path "$ROOT/Cargo.toml"

# The crops are the service's own (decoder, detector, face pick, resampler).
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/livegate-calibrate.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$BIN" crops --manifest "$MANIFEST" --root "$DATA" --out "$WORK/crops"
"$LIVEGATE_TRAIN_VENV/bin/python" -W ignore "$ROOT/training/calibrate.py" \
  --crops "$WORK/crops" --out "$OUT" "${PASS[@]}"

echo "check it on captures it was not fitted on before serving it:" >&2
echo "  LIVEGATE_PAD_DIR=$OUT $BIN eval --manifest OTHER.tsv --root DIR" >&2
