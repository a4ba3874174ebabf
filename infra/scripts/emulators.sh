#!/usr/bin/env bash
# make emulators: moto (DynamoDB, SES v1, SQS) and aws-ses-v2-local started
# once, in the foreground, for fast test runs of one capability from another
# terminal:
#
#   make emulators                      # terminal 1; Ctrl-C stops both
#   export MOTO_ENDPOINT=http://127.0.0.1:4566 SESLOCAL_ENDPOINT=http://127.0.0.1:4567
#   go test ./shared/invitations/...    # terminal 2: no emulator start-up
#
# Without those variables every test binary starts its own emulators on free
# ports (what make test does: one package's load cannot slow another's). Each
# test makes its own table, so runs against shared emulators do not see each
# other's items. MOTO_PORT and SESLOCAL_PORT choose other ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
moto_port=${MOTO_PORT:-4566}
ses_port=${SESLOCAL_PORT:-4567}

[ -x .venv/bin/python ] || { echo "run make venv first" >&2; exit 1; }
[ -f infra/dev/sesdev/node_modules/aws-ses-v2-local/dist/cli.js ] || { echo "run make node first" >&2; exit 1; }

mkdir -p .cache
.venv/bin/python infra/scripts/moto_serial.py 127.0.0.1 "$moto_port" >.cache/emulators-moto.log 2>&1 &
moto=$!
node infra/dev/sesdev/node_modules/aws-ses-v2-local/dist/cli.js --host 127.0.0.1 --port "$ses_port" >/dev/null &
ses=$!
trap 'kill $moto $ses 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

for _ in $(seq 100); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/moto-api/data.json" 2>/dev/null &&
     curl -fsS -o /dev/null "http://127.0.0.1:$ses_port/store" 2>/dev/null; then
    echo "== emulators ready; in another terminal:"
    echo "export MOTO_ENDPOINT=http://127.0.0.1:$moto_port SESLOCAL_ENDPOINT=http://127.0.0.1:$ses_port REQUIRE_EMULATORS=1"
    wait
    exit 0
  fi
  sleep 0.2
done
echo "emulators did not start" >&2
exit 1
