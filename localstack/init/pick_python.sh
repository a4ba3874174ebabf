# shellcheck shell=bash
# Sourced by the ready hooks: sets PY to a Python that has boto3 and PyYAML.
# Order: $PYTHON if set; python3 on PATH (the repo's .venv in hooks_test.go);
# LocalStack's own virtualenv inside the LocalStack image.
PY=""
for cand in "${PYTHON:-}" python3 /opt/code/localstack/.venv/bin/python python; do
  [ -n "$cand" ] || continue
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import boto3, yaml' >/dev/null 2>&1; then
    PY="$cand"
    break
  fi
done
if [ -z "$PY" ]; then
  echo "no Python with boto3 and PyYAML found (tried \$PYTHON, python3, /opt/code/localstack/.venv/bin/python, python)" >&2
  exit 1
fi
