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
# ONNX Runtime's usage telemetry (a device id on disk, uploads to Microsoft) off for everything
# these scripts run: the tests and benches, which load the library themselves, and the training
# tools' Python onnxruntime. The `livegate` binary turns it off on its own.
export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"
# The training tools' Python environment (training/requirements.txt), kept beside the build.
export LIVEGATE_TRAIN_VENV="${LIVEGATE_TRAIN_VENV:-$(dirname "$CARGO_TARGET_DIR")/venv-train}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
if [[ -z "${LIVEGATE_TESTDATA:-}" && -d "$ROOT/../shared/testdata" ]]; then
  export LIVEGATE_TESTDATA="$(cd "$ROOT/../shared/testdata" && pwd)"
fi

# The build directory is shared by every clone on this machine (CI clones into a new folder).
# Cargo keys a workspace crate's artifacts by name, not by where its sources live, and judges
# freshness by the mtimes of the sources it last built from — possibly another clone's — so a
# stale library can look fresh. Our own crates are therefore always rebuilt (dependencies,
# the slow part, stay cached).
fresh_workspace() {
  # Once per run: a script that calls another (test.sh → quickstart-test.sh → serve.sh) must
  # not throw away the build it just made.
  [[ -n "${LIVEGATE_FRESH_DONE:-}" ]] && return 0
  export LIVEGATE_FRESH_DONE=1
  local pkgs=(-p media -p vision -p liveness -p server -p eval -p jobs -p playground -p testkit -p livegate)
  cargo clean --quiet --manifest-path "$ROOT/Cargo.toml" "${pkgs[@]}" 2>/dev/null || true
  cargo clean --quiet --release --manifest-path "$ROOT/Cargo.toml" "${pkgs[@]}" 2>/dev/null || true
}

# The training tools' virtual environment, outside the clone, rebuilt only when the pinned
# requirements change (training/train.sh, training/calibrate.sh).
ensure_train_venv() {
  local stamp="$LIVEGATE_TRAIN_VENV/.requirements.sha256"
  local want
  want=$(sha256sum "$ROOT/training/requirements.txt" | cut -d' ' -f1)
  if [[ ! -x "$LIVEGATE_TRAIN_VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    python3 -m venv "$LIVEGATE_TRAIN_VENV"
    "$LIVEGATE_TRAIN_VENV/bin/pip" install --quiet --disable-pip-version-check \
      -r "$ROOT/training/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

# Where `livegate serve` keeps batch jobs and serve.sh its generated token secret; the same
# default as the binary's --data-dir.
livegate_data_dir() {
  echo "${LIVEGATE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/livegate}"
}
