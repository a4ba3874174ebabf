#!/usr/bin/env bash
# LocalStack ready hook: the table, from template.yaml's definition.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec python3 "$here/create_table.py"
