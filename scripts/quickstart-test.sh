#!/usr/bin/env bash
# Runs the README's quick-start lines as written — `scripts/serve.sh`, then the token and curl
# lines — on a spare port and a throw-away data directory, and checks that the minted token
# gets a verdict from /liveness. Only the port, the data directory and the example file name
# are substituted; a README edit that breaks the quick start breaks this test.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${QUICKSTART_PORT:-18181}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The lines between the README's quickstart markers, code only.
block="$(awk '/<!-- quickstart -->/{on=1;next} /<!-- \/quickstart -->/{on=0} on' README.md \
  | grep -v '^```' | grep -v '^[[:space:]]*#' | grep -v '^[[:space:]]*$' \
  | grep -v 'A first request' | grep -v 'scripts/test.sh')"
serve_line="$(grep -m1 '^scripts/serve.sh' <<<"$block")"
client_lines="$(grep -v '^scripts/serve.sh' <<<"$block")"
[[ -n "$serve_line" && -n "$client_lines" ]] || { echo "quickstart block not found in README" >&2; exit 1; }

STILL="${LIVEGATE_TESTDATA:-$ROOT/../shared/testdata}/faces/fr_biden.jpg"
if [[ ! -f "$STILL" ]]; then
  [[ "${CI:-}" == "true" ]] && { echo "testdata missing under CI" >&2; exit 1; }
  echo "SKIPPED: quickstart test (testdata missing)" >&2
  exit 0
fi

export LIVEGATE_DATA_DIR="$WORK/data" LIVEGATE_BIND="127.0.0.1:$PORT"
unset LIVEGATE_JWT_SECRET LIVEGATE_JWT_SECRET_FILE LIVEGATE_JWKS
bash -c "$serve_line" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; echo "serve.sh died" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { tail -20 "$WORK/serve.log" >&2; exit 1; }
mode="$(stat -c %a "$LIVEGATE_DATA_DIR/jwt-secret")"
[[ "$mode" == "600" ]] || { echo "jwt-secret has mode $mode, not 600" >&2; exit 1; }

script="${client_lines//127.0.0.1:8080/127.0.0.1:$PORT}"
script="${script//selfie.jpg/$STILL}"
answer="$(bash -euo pipefail -c "$script")"
echo "quickstart answer: $answer"
grep -q '"result":"real"' <<<"$answer" || { echo "no real verdict for $STILL" >&2; exit 1; }
echo "quickstart: OK"
