#!/usr/bin/env bash
# The README's test command (`make test`) runs this after installing the venv
# and npm packages. It starts the emulators on free loopback ports, runs every
# Go test with REQUIRE_EMULATORS=1 (so an emulator test can fail but never
# silently skip), and stops the emulators whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # url name log
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$2 did not start; its log:" >&2; cat "$3" >&2; return 1
}

logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

moto_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$logs/moto.log" 2>&1 &
pids+=($!)
ses_port=$(free_port)
node infra/dev/sesdev/node_modules/aws-ses-v2-local/dist/cli.js --host 127.0.0.1 --port "$ses_port" >"$logs/ses.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$moto_port/moto-api/data.json" moto "$logs/moto.log"
wait_http "http://127.0.0.1:$ses_port/store" aws-ses-v2-local "$logs/ses.log"

export MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
export SESLOCAL_ENDPOINT="http://127.0.0.1:$ses_port"
export SESDEV_DIR="$PWD/infra/dev/sesdev"
export REQUIRE_EMULATORS=1

echo "== go vet"
go vet ./...
echo "== go test (moto at $MOTO_ENDPOINT, aws-ses-v2-local at $SESLOCAL_ENDPOINT)"
go test -count=1 -race ./... 2>&1 | tee "$logs/go-test.log"
echo "== summary"
passed=$(grep -cE '^\s*--- PASS' "$logs/go-test.log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$logs/go-test.log" || true)
echo "(go test -v counts are in the log above; package lines: $(grep -c '^ok' "$logs/go-test.log" || true) ok)"
