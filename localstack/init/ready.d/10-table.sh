#!/usr/bin/env bash
# LocalStack ready hook: the single DynamoDB table, built from template.yaml's
# own `Table` resource (keys, attributes, GSIs, billing mode, then TTL).
# Idempotent. Env: TEMPLATE_PATH, TABLE_NAME, AWS_ENDPOINT_URL (see ../create_table.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=localstack/init/pick_python.sh
. "$here/pick_python.sh"
exec "$PY" "$here/create_table.py"
