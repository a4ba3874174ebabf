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
.venv/bin/python infra/scripts/moto_serial.py 127.0.0.1 "$moto_port" >"$logs/moto.log" 2>&1 &
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
: "${RIE_BIN:?RIE_BIN must name aws-lambda-rie (make test installs it)}"
export RIE_BIN

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test -race (moto at $MOTO_ENDPOINT, aws-ses-v2-local at $SESLOCAL_ENDPOINT)"
set +e
go test -count=1 -race -v ./... >"$logs/go-test.log" 2>&1
status=$?
set -e
# Package lines, failures and skips; the full log only when something failed.
grep -E '^(ok|FAIL|---|panic:)|^\s+--- (FAIL|SKIP)|DynamoDB calls for an invite' "$logs/go-test.log" || true
if [ "$status" -ne 0 ]; then
  echo "== go test failed; full log:"; cat "$logs/go-test.log"
fi
echo "== counts"
for backend in moto embedded; do
  echo "end-to-end on $backend: $(grep -cE "^\s+--- PASS: Test[A-Za-z0-9]+/$backend " "$logs/go-test.log" || true) passed, $(grep -cE "^\s+--- FAIL: Test[A-Za-z0-9]+/$backend " "$logs/go-test.log" || true) failed"
done
passed=$(grep -cE '^\s*--- PASS' "$logs/go-test.log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$logs/go-test.log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$logs/go-test.log" || true)
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
