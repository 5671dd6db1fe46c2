#!/usr/bin/env bash
# Mints a bearer token for one client with the secret scripts/serve.sh keeps:
#   scripts/token.sh CLIENT [TTL]     (TTL: 30m, 1h, 24h — at most the server's maximum, 24h)
# With your own HS256 secret, set LIVEGATE_JWT_SECRET or LIVEGATE_JWT_SECRET_FILE instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [[ $# -lt 1 ]]; then
  echo "usage: scripts/token.sh CLIENT [TTL]" >&2
  exit 2
fi
BIN="$CARGO_TARGET_DIR/release/livegate"
if [[ ! -x "$BIN" ]]; then
  echo "token.sh: $BIN is not built yet; run scripts/serve.sh first" >&2
  exit 1
fi
if [[ -z "${LIVEGATE_JWT_SECRET:-}" && -z "${LIVEGATE_JWT_SECRET_FILE:-}" ]]; then
  SECRET_FILE="$(livegate_data_dir)/jwt-secret"
  if [[ ! -s "$SECRET_FILE" ]]; then
    echo "token.sh: no secret at $SECRET_FILE; run scripts/serve.sh first (it creates one)" >&2
    exit 1
  fi
  export LIVEGATE_JWT_SECRET_FILE="$SECRET_FILE"
fi
exec "$BIN" token --sub "$1" --ttl "${2:-1h}"
