#!/usr/bin/env bash
# Deploy the admin console's files to a stack deployed with DeployConsole=true
# (docs/operating.md, "Deploying the admin console"): write config.json from the stack's
# outputs and the identity provider's settings, sync shared/console/static/ to
# the console bucket, upload config.json (no-store), and invalidate the
# CloudFront distribution. Needs the aws CLI (v2) with credentials for the
# stack's account and region.
#
# Environment:
#   STACK_NAME              the stack, default guestaccess-dev
#   CONSOLE_AUTHORIZE_URL   the identity provider's authorization endpoint (required)
#   CONSOLE_CLIENT_ID       the console's client id there: a public client,
#                           authorization code with PKCE, redirect URI
#                           <ConsoleUrl>/ (required)
#   CONSOLE_TOKEN_URL       the token endpoint; default the stack's
#                           ConsoleTokenUrl parameter, and it must match it
#                           (the console's CSP lets scripts reach only that
#                           origin and the API)
#   CONSOLE_SCOPE           scope to ask for (optional)
#   CONSOLE_ORG_ID, CONSOLE_SITE_ID
#                           the org and site the console opens on (optional)
#   AWS_REGION / AWS_PROFILE as the aws CLI reads them
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

die() { echo "deploy-console.sh: $*" >&2; exit 1; }
step() { echo "== $*"; }

command -v aws >/dev/null || die "the aws CLI is not installed (https://docs.aws.amazon.com/cli/)"
STACK_NAME="${STACK_NAME:-guestaccess-dev}"
[ -n "${CONSOLE_AUTHORIZE_URL:-}" ] || die "set CONSOLE_AUTHORIZE_URL to the identity provider's authorization endpoint"
[ -n "${CONSOLE_CLIENT_ID:-}" ] || die "set CONSOLE_CLIENT_ID to the console's client id at the identity provider"
STATIC=shared/console/static
[ -f "$STATIC/index.html" ] || die "$STATIC/index.html not found"

# output NAME / parameter NAME: one value of the stack ("" when absent).
stack_value() {
  local v
  v=$(aws cloudformation describe-stacks --stack-name "$STACK_NAME" \
    --query "Stacks[0].$1[?$2Key=='$3'].$2Value | [0]" --output text) || die "cannot describe stack $STACK_NAME"
  [ "$v" = None ] && v=""
  printf '%s' "$v"
}
output() { stack_value Outputs Output "$1"; }
parameter() { stack_value Parameters Parameter "$1"; }

# json_string VALUE: VALUE as a JSON string (backslash, quote and control
# characters escaped).
json_string() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      '"') out+='\"' ;;
      '\') out+='\\' ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        if [[ "$c" < ' ' ]]; then out+=$(printf '\\u%04x' "'$c"); else out+=$c; fi ;;
    esac
  done
  printf '"%s"' "$out"
}

step "reading stack $STACK_NAME"
bucket=$(output ConsoleBucketName)
dist=$(output ConsoleDistributionId)
console_url=$(output ConsoleUrl)
api_url=$(output ApiUrl)
[ -n "$bucket" ] && [ -n "$dist" ] && [ -n "$console_url" ] ||
  die "stack $STACK_NAME has no console outputs: deploy it with DeployConsole=true and ConsoleTokenUrl=<token endpoint> first"
[ -n "$api_url" ] || die "stack $STACK_NAME has no ApiUrl output"
token_param=$(parameter ConsoleTokenUrl)
TOKEN_URL="${CONSOLE_TOKEN_URL:-$token_param}"
[ -n "$TOKEN_URL" ] || die "the stack's ConsoleTokenUrl is empty: redeploy with ConsoleTokenUrl=<the identity provider's token endpoint>"
[ "$TOKEN_URL" = "$token_param" ] ||
  die "CONSOLE_TOKEN_URL ($TOKEN_URL) is not the stack's ConsoleTokenUrl ($token_param): the console's CSP would block it; redeploy with ConsoleTokenUrl=$TOKEN_URL"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  printf '{"apiBaseUrl":%s,"authorizeUrl":%s,"tokenUrl":%s,"clientId":%s' \
    "$(json_string "${api_url%/}")" "$(json_string "$CONSOLE_AUTHORIZE_URL")" "$(json_string "$TOKEN_URL")" "$(json_string "$CONSOLE_CLIENT_ID")"
  [ -z "${CONSOLE_SCOPE:-}" ] || printf ',"scope":%s' "$(json_string "$CONSOLE_SCOPE")"
  [ -z "${CONSOLE_ORG_ID:-}" ] || printf ',"orgId":%s' "$(json_string "$CONSOLE_ORG_ID")"
  [ -z "${CONSOLE_SITE_ID:-}" ] || printf ',"siteId":%s' "$(json_string "$CONSOLE_SITE_ID")"
  printf '}\n'
} >"$tmp/config.json"
step "config.json: $(cat "$tmp/config.json")"

step "syncing $STATIC/ to s3://$bucket/"
# The files keep their names from one release to the next: browsers
# revalidate them (no-cache) and CloudFront is invalidated below.
aws s3 sync "$STATIC/" "s3://$bucket/" --delete --exclude config.json --cache-control no-cache
aws s3 cp "$tmp/config.json" "s3://$bucket/config.json" --content-type application/json --cache-control no-store

step "invalidating distribution $dist"
aws cloudfront create-invalidation --distribution-id "$dist" --paths '/*' --query Invalidation.Id --output text

origin="${console_url%/}"
allowed=$(parameter AllowedOrigins)
case ",${allowed// /}," in
  *",$origin,"*) step "the console is at $origin/ (an allowed origin of the API)" ;;
  *)
    step "the console is at $origin/, but the API does not allow its origin yet (AllowedOrigins: ${allowed:-<empty>})"
    echo "   Add it and deploy again, e.g.: sam deploy --parameter-overrides ... AllowedOrigins=${allowed:+$allowed,}$origin"
    ;;
esac
