#!/usr/bin/env bash
# make localstack-e2e: the end-to-end smoke test (invite -> mail -> accept)
# against the stack that localstack/deploy.sh put on LocalStack:
#   go test -count=1 -v ./localstack/ -run TestLocalStack
# reading the mail from LocalStack's GET /_aws/ses.
#
# Reads .aws-sam/localstack/stack.env (written by deploy.sh); variables already
# set in the environment win:
#   LOCALSTACK_API_URL      stage URL, e.g. http://127.0.0.1:4566/_aws/execute-api/<id>/v1
#   LOCALSTACK_ENDPOINT     LocalStack, default http://127.0.0.1:4566
#   LOCALSTACK_ADMIN_TOKEN  admin JWT; minted with localstack/devidp when deploy.sh
#                           used it, else required (a token from your IdP for the
#                           admin that deploy.sh bootstrapped, LOCALSTACK_ADMIN_SUB)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "localstack/e2e.sh: $*" >&2; exit 1; }

command -v go >/dev/null || die "go not found"
command -v curl >/dev/null || die "curl not found"

env_file=.aws-sam/localstack/stack.env
if [ -f "$env_file" ]; then
  while IFS='=' read -r k v; do
    case "$k" in ''|\#*) continue ;; esac
    [ -n "${!k:-}" ] || export "$k=$v"
  done <"$env_file"
fi
: "${LOCALSTACK_API_URL:?not set and no $env_file: run make localstack-deploy first}"
export LOCALSTACK_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
export LOCALSTACK_API_URL

curl -fsS -o /dev/null "$LOCALSTACK_ENDPOINT/_localstack/health" ||
  die "LocalStack does not answer at $LOCALSTACK_ENDPOINT: make localstack-up, then make localstack-deploy"

if [ -z "${LOCALSTACK_ADMIN_TOKEN:-}" ]; then
  if [ -z "${LOCALSTACK_IDP_STATE:-}" ] || [ ! -f "$LOCALSTACK_IDP_STATE" ]; then
    die "LOCALSTACK_ADMIN_TOKEN is not set and deploy.sh used your own IdP (JWKS_URL): set it to an admin JWT for ${LOCALSTACK_ADMIN_SUB:-the bootstrapped admin}"
  fi
  LOCALSTACK_ADMIN_TOKEN=$(go run ./localstack/devidp -state "$LOCALSTACK_IDP_STATE" token \
    -sub "${LOCALSTACK_ADMIN_SUB:-local-admin}" -email admin@14west.example -ttl 30m)
fi
export LOCALSTACK_ADMIN_TOKEN

echo "== smoke test against $LOCALSTACK_API_URL (mail from $LOCALSTACK_ENDPOINT/_aws/ses)"
go test -count=1 -v ./localstack/ -run TestLocalStack
