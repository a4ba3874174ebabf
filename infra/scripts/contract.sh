#!/usr/bin/env bash
# make test's contract fuzzing: schemathesis (pinned in
# infra/requirements-dev.txt, run from .venv) over every operation of
# shared/apidoc/openapi.yaml against the `make dev` stack (embedded DynamoDB,
# the SES inbox, the demo org), with every check on. The stack starts on free
# loopback ports with its own log; infra/contract/fixtures.py gets tokens from
# /dev/token and makes the ids the operations need (infra/contract/
# schemathesis.toml names them per operation); infra/contract/hooks.py keeps
# cursors and idempotency keys meaningful. Bounded by the config's
# max-examples per operation (CONTRACT_MAX_TIME=seconds instead fuzzes
# until that budget is spent); exits non-zero on any failure. Prints the
# cases run per operation.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
[ -x .venv/bin/schemathesis ] || { echo ".venv/bin/schemathesis is missing: run make venv" >&2; exit 1; }

work=$(mktemp -d)
dev_pid=
cleanup() {
  if [ -n "$dev_pid" ]; then kill "$dev_pid" 2>/dev/null || true; wait "$dev_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the dev server"
go build -o "$work/dev" ./infra/cmd/dev
read -r api ses console < <(.venv/bin/python -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
base=http://127.0.0.1:$api
echo "== starting the dev stack on $base"
DEV_ADDR=127.0.0.1:$api DEV_SES_ADDR=127.0.0.1:$ses DEV_CONSOLE_ADDR=127.0.0.1:$console DEV_LOG=$work/dev.log \
  "$work/dev" >"$work/dev.out" 2>&1 &
dev_pid=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$base/openapi.yaml" 2>/dev/null && break
  kill -0 "$dev_pid" 2>/dev/null || { echo "the dev server died:"; cat "$work/dev.out"; exit 1; }
  sleep 0.5
done
curl -fsS -o /dev/null "$base/openapi.yaml" || { echo "the dev server did not answer:"; cat "$work/dev.out"; exit 1; }

echo "== fixtures (tokens and ids of the demo org)"
.venv/bin/python infra/contract/fixtures.py "$base" "http://127.0.0.1:$ses" >"$work/env.sh"
# shellcheck disable=SC1091
source "$work/env.sh"

echo "== schemathesis $(.venv/bin/schemathesis --version | awk '{print $NF}') over $(grep -cE '^      operationId:' shared/apidoc/openapi.yaml) operations, every check"
start=$SECONDS
set +e
# The document served by the stack is the file itself; reading the file
# keeps the run independent of how it is served.
PYTHONPATH=$root/infra/contract SCHEMATHESIS_HOOKS=hooks \
  .venv/bin/schemathesis --config-file infra/contract/schemathesis.toml run shared/apidoc/openapi.yaml \
  --url "$base" --checks all ${CONTRACT_MAX_TIME:+--max-time "$CONTRACT_MAX_TIME"} \
  --report ndjson --report-ndjson-path "$work/events.ndjson" >"$work/run.log" 2>&1
status=$?
set -e
elapsed=$((SECONDS - start))
.venv/bin/python infra/contract/cases.py "$work/events.ndjson" shared/apidoc/openapi.yaml || status=1
if [ "$status" -ne 0 ]; then
  cat "$work/run.log"
  grep -E '"level":"ERROR"' "$work/dev.log" | head -20 || true
  mkdir -p .cache/artifacts/contract && cp "$work/run.log" "$work/events.ndjson" "$work/dev.log" .cache/artifacts/contract/ 2>/dev/null || true
  echo "contract: schemathesis found failures ($elapsed s; log, events and server log in .cache/artifacts/contract/)"
  exit "$status"
fi
# The warnings (operations that mostly got 404s or refusals) and the summary.
sed -n '/= \(WARNINGS\|SUMMARY\) =/,$p' "$work/run.log"
echo "contract: every operation fuzzed, 0 failures ($elapsed s)"
