#!/usr/bin/env bash
# Run the LocalStack smoke test against a deployed stack (make localstack-e2e).
# LOCALSTACK_API_URL: the stage URL (http://127.0.0.1:4566/restapis/<id>/local/_user_request_)
# LOCALSTACK_ADMIN_TOKEN: a JWT for an org admin of org 14west, site wiki (bootstrap them first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LOCALSTACK_API_URL:?set LOCALSTACK_API_URL}"
: "${LOCALSTACK_ADMIN_TOKEN:?set LOCALSTACK_ADMIN_TOKEN}"
export LOCALSTACK_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
go test -count=1 -v -run TestLocalStackSmoke ./localstack/
