#!/usr/bin/env bash
# make localstack-deploy: build the stack with SAM and deploy it to the running
# LocalStack (make localstack-up), then make it usable: SES sender verified,
# org 14west / site wiki / an org admin bootstrapped, and the URLs written to
# .aws-sam/localstack/stack.env for localstack/e2e.sh.
#
# Needs: Docker with LocalStack up, Go, make, the repo's .venv (make venv:
# SAM CLI, boto3). Uses samlocal (pip package aws-sam-cli-local) when it is
# installed, else plain `sam` with AWS_ENDPOINT_URL pointing at LocalStack.
#
# Environment (all optional):
#   LOCALSTACK_ENDPOINT   LocalStack, default http://127.0.0.1:4566 (an IP, so
#                         S3 uploads use path-style addressing)
#   STACK_NAME            default guestaccess-local
#   STAGE_NAME            default v1
#   SENDER_ADDRESS        default invitations@14west.example
#   JWKS_URL, JWT_ISSUER, JWT_AUDIENCE
#                         a real identity provider (JWKS_URL must be https,
#                         as the template's JwksUrl requires, and reachable
#                         from the Lambda containers). When JWKS_URL is unset,
#                         localstack/devidp is used: its JWKS is put in
#                         LocalStack S3 (served over LocalStack's https) and
#                         e2e.sh mints tokens.
#   PUBLIC_BASE_URL       base of the emailed links; default: the API's
#                         LocalStack URL <endpoint>/_aws/execute-api/<id>/<stage>.
#                         A new stack is created without it (the template
#                         needs none: no circular dependency), then updated
#                         with it once the API id is known.
#   LOCALSTACK_ADMIN_SUB  the org admin's account id (JWT sub), default local-admin
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "localstack/deploy.sh: $*" >&2; exit 1; }
step() { echo "== $*"; }

# --- prerequisites, each with what to do about it
command -v docker >/dev/null || die "docker CLI not found: LocalStack needs Docker (not available on this project's dev machines; see localstack/README.md)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed): start Docker first"
command -v curl >/dev/null || die "curl not found"
command -v go >/dev/null || die "go not found: sam build compiles the functions with the Makefile's build-<LogicalId> targets"
command -v make >/dev/null || die "make not found: sam build uses BuildMethod: makefile"
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || die "$PY not found: run make venv (SAM CLI, boto3)"
"$PY" -c 'import boto3' 2>/dev/null || die "$PY has no boto3: run make venv"
if command -v samlocal >/dev/null; then SAM=(samlocal)
elif [ -x .venv/bin/samlocal ]; then SAM=(.venv/bin/samlocal)
elif [ -x .venv/bin/sam ]; then SAM=(.venv/bin/sam)
elif command -v sam >/dev/null; then SAM=(sam)
else die "neither samlocal nor sam found: run make venv (or pip install aws-sam-cli-local)"
fi

EP="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
EP="${EP%/}"
STACK_NAME="${STACK_NAME:-guestaccess-local}"
STAGE_NAME="${STAGE_NAME:-v1}"
SENDER_ADDRESS="${SENDER_ADDRESS:-invitations@14west.example}"
ADMIN_SUB="${LOCALSTACK_ADMIN_SUB:-local-admin}"
STATE_DIR=.aws-sam/localstack
mkdir -p "$STATE_DIR"

export AWS_ENDPOINT_URL="$EP" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}" \
  SAM_CLI_TELEMETRY=0
# samlocal reads these; plain sam (boto3 >= 1.28) reads AWS_ENDPOINT_URL.
LOCALSTACK_HOSTNAME=$(echo "$EP" | sed -E 's#^https?://##; s#:[0-9]+$##')
export EDGE_PORT="${EP##*:}" LOCALSTACK_HOSTNAME

# --- LocalStack is up, has our services, and its ready hooks ran
step "LocalStack at $EP"
health=$(curl -fsS "$EP/_localstack/health") || die "LocalStack does not answer at $EP: run make localstack-up (needs LOCALSTACK_AUTH_TOKEN)"
HEALTH="$health" "$PY" - <<'PY' || die "LocalStack lacks a service this stack needs (see above); check SERVICES in localstack/docker-compose.yml"
import json, os, sys
h = json.loads(os.environ["HEALTH"])
need = "dynamodb lambda apigateway ses events iam sts cloudformation s3 logs sqs".split()
bad = [s for s in need if h.get("services", {}).get(s) not in ("available", "running")]
print("edition", h.get("edition"), "version", h.get("version"))
if bad:
    print("not available:", {s: h.get("services", {}).get(s) for s in bad}, file=sys.stderr)
    sys.exit(1)
PY
ready=$(curl -fsS "$EP/_localstack/init/ready" || true)
echo "$ready" | grep -Eq '"completed": ?true' || die "LocalStack's ready hooks have not finished: $ready"
if echo "$ready" | grep -Eq '"state": ?"ERROR"'; then
  die "a ready hook failed: $ready (docker compose -f localstack/docker-compose.yml logs localstack)"
fi

# --- identity provider for the authorizer
if [ -n "${JWKS_URL:-}" ]; then
  : "${JWT_ISSUER:?JWKS_URL is set, so set JWT_ISSUER (the exact iss of the admin tokens) too}"
  : "${JWT_AUDIENCE:?JWKS_URL is set, so set JWT_AUDIENCE (the aud of the admin tokens) too}"
  case "$JWKS_URL" in
    https://?*) ;;
    *) die "JWKS_URL must be https: the template's JwksUrl refuses plain http but to a loopback host, and a Lambda container's loopback is its own: $JWKS_URL";;
  esac
  echo "identity provider: $JWKS_URL (iss $JWT_ISSUER, aud $JWT_AUDIENCE)"
  IDP_STATE=""
else
  step "dev identity provider (localstack/devidp) -> LocalStack S3"
  IDP_STATE="$STATE_DIR/idp.json"
  go run ./localstack/devidp -state "$IDP_STATE" jwks >"$STATE_DIR/jwks.json"
  JWT_ISSUER=$(go run ./localstack/devidp -state "$IDP_STATE" issuer)
  JWT_AUDIENCE=$(go run ./localstack/devidp -state "$IDP_STATE" audience)
  bucket=guestaccess-localstack-idp
  JWKS_FILE="$STATE_DIR/jwks.json" BUCKET="$bucket" "$PY" - <<'PY'
import os, boto3
s3 = boto3.client("s3")
b = os.environ["BUCKET"]
if b not in [x["Name"] for x in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=b)
with open(os.environ["JWKS_FILE"], "rb") as f:
    s3.put_object(Bucket=b, Key="jwks.json", Body=f.read(), ContentType="application/json")
PY
  # Lambda containers resolve *.localhost.localstack.cloud to LocalStack,
  # which serves https on its edge port with a certificate for that domain.
  # https: the template's JwksUrl refuses plain http but to loopback.
  JWKS_URL="https://s3.localhost.localstack.cloud:4566/$bucket/jwks.json"
  echo "JWKS at $JWKS_URL (iss $JWT_ISSUER, aud $JWT_AUDIENCE)"
fi

# --- build and deploy
api_id() { # the stack's REST API id, empty when the stack does not exist yet
  STACK="$STACK_NAME" "$PY" - <<'PY' 2>/dev/null || true
import os, boto3
cf = boto3.client("cloudformation")
r = cf.describe_stack_resource(StackName=os.environ["STACK"], LogicalResourceId="Api")
print(r["StackResourceDetail"]["PhysicalResourceId"])
PY
}
stage_url() { echo "$EP/_aws/execute-api/$1/$STAGE_NAME"; }

deploy() { # $1: PublicBaseUrl, possibly empty (the template default: no cycle, the stack creates)
  # PublicRequestsPerIp=0 and AllowedOrigins unset: no WAF web ACL (WithWebAcl
  # false; WAF is not in LocalStack's free plan). DeployConsole stays "false":
  # no CloudFront distribution or console bucket.
  local params=("StageName=$STAGE_NAME" "SenderAddress=$SENDER_ADDRESS" "JwtIssuer=$JWT_ISSUER"
    "JwtAudience=$JWT_AUDIENCE" "JwksUrl=$JWKS_URL" "LogLevel=${LOG_LEVEL:-DEBUG}"
    "PublicRequestsPerIp=${PUBLIC_REQUESTS_PER_IP:-0}")
  # Empty: not passed (SAM's overrides cannot carry an empty value), so the
  # template default applies; only a new stack is deployed so.
  [ -n "$1" ] && params+=("PublicBaseUrl=$1")
  local p
  for p in "${params[@]}"; do
    case "$p" in *[[:space:]\"]*) die "parameter '$p' has a space or quote; SAM's --parameter-overrides cannot take it here";; esac
  done
  "${SAM[@]}" deploy --stack-name "$STACK_NAME" --region us-east-1 --resolve-s3 --capabilities CAPABILITY_IAM \
    --no-confirm-changeset --no-fail-on-empty-changeset --parameter-overrides "${params[*]}"
}

step "sam build (${SAM[*]})"
"${SAM[@]}" build --build-in-source

# The emailed links' base. The template needs none to create the stack (the
# API functions build theirs from each request; issue 17 removed the circular
# dependency that made an empty PublicBaseUrl fail). On LocalStack they must
# be given it anyway: LocalStack fills requestContext.domainName from the
# request's Host header and serves the API under /_aws/execute-api/<id>/<stage>,
# which no request context states; the functions never build a link from a
# Host header. So a new stack is created with the template default, then
# updated with the API's LocalStack URL (a change of environment variables
# only); an existing stack is deployed once with it.
public="${PUBLIC_BASE_URL:-}"
id=$(api_id)
if [ -z "$public" ] && [ -n "$id" ]; then public=$(stage_url "$id"); fi
step "sam deploy $STACK_NAME (PublicBaseUrl=${public:-<empty: the template default>})"
deploy "$public"
id=$(api_id)
[ -n "$id" ] || die "the stack $STACK_NAME has no Api resource after deploy"
if [ -z "${PUBLIC_BASE_URL:-}" ] && [ "$public" != "$(stage_url "$id")" ]; then
  public=$(stage_url "$id")
  step "sam deploy again, now that the API id is known: PublicBaseUrl=$public"
  deploy "$public"
fi

table=$(STACK="$STACK_NAME" "$PY" - <<'PY'
import os, boto3
cf = boto3.client("cloudformation")
outs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=os.environ["STACK"])["Stacks"][0].get("Outputs", [])}
print(outs["TableName"])
PY
) || die "could not read the stack output TableName"

# --- make it usable
step "SES sender $SENDER_ADDRESS"
SENDER_ADDRESS="$SENDER_ADDRESS" "$PY" localstack/init/verify_sender.py
step "bootstrap org 14west, site wiki, org admin $ADMIN_SUB in $table"
go run ./infra/cmd/bootstrap -table "$table" -org 14west -org-name 14West -verified-domain 14west.example \
  -site wiki -site-name "14West Wiki" -site-host 14west.atlassian.net \
  -admin-id "$ADMIN_SUB" -admin-email admin@14west.example -admin-name "Ada Admin"

api_url=$(stage_url "$id")
cat >"$STATE_DIR/stack.env" <<EOF
# Written by localstack/deploy.sh; read by localstack/e2e.sh.
LOCALSTACK_ENDPOINT=$EP
LOCALSTACK_API_URL=$api_url
LOCALSTACK_TABLE=$table
LOCALSTACK_ADMIN_SUB=$ADMIN_SUB
LOCALSTACK_IDP_STATE=$IDP_STATE
EOF
echo
echo "deployed $STACK_NAME to LocalStack"
echo "  API     $api_url"
echo "  table   $table"
echo "  mail    $EP/_aws/ses"
echo "  next    make localstack-e2e"
