#!/usr/bin/env bash
# The README's test command (`make test`) runs this after installing the venv,
# the npm packages and the Lambda runtime interface emulator. It runs every Go
# test with REQUIRE_EMULATORS=1, so an emulator test can fail but never
# silently skip. Each test binary starts its own emulators (moto,
# aws-ses-v2-local) through infra/testkit/testenv on free loopback ports, and they die
# with it: one package's load cannot slow another's requests.
set -euo pipefail
cd "$(dirname "$0")/../.."

logs=$(mktemp -d)
rm -f .cache/artifacts/go-test-failed.txt
trap 'rm -rf "$logs"' EXIT

# What the test binaries start; missing pieces fail here, once, with the fix.
[ -x .venv/bin/python ] || { echo ".venv/bin/python is missing: run make venv" >&2; exit 1; }
[ -f infra/dev/sesdev/node_modules/aws-ses-v2-local/dist/cli.js ] || { echo "aws-ses-v2-local is missing: run make node" >&2; exit 1; }
# Shared emulators named here would undo the isolation; they are for one-off runs.
unset MOTO_ENDPOINT SESLOCAL_ENDPOINT
export REQUIRE_EMULATORS=1
: "${RIE_BIN:?RIE_BIN must name aws-lambda-rie (make test installs it)}"
export RIE_BIN

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test -race (each package starts its own moto and aws-ses-v2-local)"
set +e
# The end-to-end package alone takes 5-8 minutes on two busy cores: past go
# test's default 10-minute timeout per binary with little load more.
go test -count=1 -race -timeout 30m -v ./... >"$logs/go-test.log" 2>&1
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
# The failures once more, last: CI shows only the end of a long log.
if [ "$status" -ne 0 ]; then
  echo "== failed"
  mkdir -p .cache/artifacts
  { grep -E '^\s*--- FAIL|^FAIL|^panic:' "$logs/go-test.log" || echo "(no test failed: a build, vet or timeout error above)"; } | tee .cache/artifacts/go-test-failed.txt
fi
exit "$status"
