#!/usr/bin/env bash
# LocalStack ready hook: the verified SES sender (env SENDER_ADDRESS,
# default invitations@14west.example). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=localstack/init/pick_python.sh
. "$here/pick_python.sh"
exec "$PY" "$here/verify_sender.py"
