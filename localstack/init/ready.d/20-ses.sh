#!/usr/bin/env bash
# LocalStack ready hook: the verified SES sender.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec python3 "$here/verify_sender.py"
