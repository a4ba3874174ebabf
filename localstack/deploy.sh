#!/usr/bin/env bash
# Build with SAM and deploy the stack to a running LocalStack (make localstack-deploy).
# Needs Docker (LocalStack runs the Lambdas in containers) and LOCALSTACK_AUTH_TOKEN.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker >/dev/null || { echo "docker is required for LocalStack" >&2; exit 1; }
curl -fsS http://127.0.0.1:4566/_localstack/health >/dev/null || { echo "LocalStack is not up: make localstack-up" >&2; exit 1; }
: "${JWKS_URL:?set JWKS_URL to the JWKS of your IdP (reachable from Lambda containers, e.g. http://host.docker.internal:PORT/...)}"
: "${JWT_ISSUER:?set JWT_ISSUER}"
: "${JWT_AUDIENCE:?set JWT_AUDIENCE}"
export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
.venv/bin/sam build --build-in-source
.venv/bin/sam deploy --stack-name guestaccess-local --resolve-s3 --capabilities CAPABILITY_IAM --no-confirm-changeset \
  --no-fail-on-empty-changeset --region us-east-1 \
  --parameter-overrides "StageName=local SenderAddress=${SENDER_ADDRESS:-invitations@14west.example} JwtIssuer=$JWT_ISSUER JwtAudience=$JWT_AUDIENCE JwksUrl=$JWKS_URL"
table=$(.venv/bin/python - <<'PY'
import boto3
cf = boto3.client("cloudformation", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1")
outs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName="guestaccess-local")["Stacks"][0]["Outputs"]}
print(outs["TableName"])
PY
)
.venv/bin/python localstack/init/verify_sender.py
echo "deployed; table $table. Bootstrap the demo org with: go run ./infra/cmd/bootstrap -table $table ..."
