#!/usr/bin/env bash
# The `s1` candidate through train.py itself (chip standardisation, as shipped): a scratch copy
# of training/ whose export.TAPS also reads the stem's per-channel mean and std, trained into
# OUT (default /tmp/gram_taps_s1). Prints train.py's LOSO table. Nothing in the repository changes.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/env.sh"
OUT="${1:-/tmp/gram_taps_s1}"
rm -rf "$OUT" && mkdir -p "$OUT" && cp -r "$ROOT/training/." "$OUT/training"
"$LIVEGATE_TRAIN_VENV/bin/python" - "$OUT/training/export.py" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('TAPS = (\n    (EMBEDDING, "flat"),',
              'TAPS = (\n    (EMBEDDING, "flat"),\n    ("/stem_dw/prelu/PRelu_output_0", "mean"),\n'
              '    ("/stem_dw/prelu/PRelu_output_0", "std"),')
s = s.replace("FEATURES = 128 + 2 * 64 + 2 * 128", "FEATURES = 128 + 2 * 32 + 2 * 64 + 2 * 128")
assert s.count("stem_dw") == 2 and "2 * 32" in s, "export.py changed: update this patch"
open(p, "w").write(s)
PY
"$LIVEGATE_TRAIN_VENV/bin/python" -W ignore "$OUT/training/train.py" \
  --crops "$CARGO_TARGET_DIR/training/crops" --out "$OUT/out"
