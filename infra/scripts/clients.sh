#!/usr/bin/env bash
# make test's client check: frontend teams generate clients from
# shared/apidoc/openapi.yaml, so the document must stay usable by the usual
# generators. Generates a Go client with oapi-codegen (pinned in
# infra/contract/goclient/go.mod, its own module) and TypeScript types with
# openapi-typescript (pinned in infra/contract/ts/package-lock.json), then
# compiles both: go build + go vet, and tsc --strict --noEmit. Installs what
# it needs (Go modules, npm ci) by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
doc=$root/shared/apidoc/openapi.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== Go client (oapi-codegen, infra/contract/goclient)"
start=$SECONDS
mkdir -p "$work/go/client"
cp infra/contract/goclient/go.mod infra/contract/goclient/go.sum "$work/go/"
(cd infra/contract/goclient && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen \
  -generate types,client -package client -o "$work/go/client/client.gen.go" "$doc")
(cd "$work/go" && go build ./... && go vet ./...)
echo "Go client: $(grep -c '^func (c \*Client) ' "$work/go/client/client.gen.go") client methods for $(grep -cE '^      operationId:' "$doc") operations, built and vetted ($((SECONDS - start)) s)"

echo "== TypeScript types (openapi-typescript, infra/contract/ts)"
start=$SECONDS
ts=infra/contract/ts
if [ ! -f "$ts/node_modules/.stamp" ] || [ "$ts/package-lock.json" -nt "$ts/node_modules/.stamp" ]; then
  (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
fi
mkdir -p "$work/ts"
"$ts/node_modules/.bin/openapi-typescript" "$doc" -o "$work/ts/api.d.ts" >/dev/null
# A use of the types as a frontend would write it, so that strict mode checks
# more than the declarations alone.
cp "$ts/use.ts" "$work/ts/use.ts"
"$ts/node_modules/.bin/tsc" --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler \
  --skipLibCheck false "$work/ts/api.d.ts" "$work/ts/use.ts"
echo "TypeScript: $(wc -l <"$work/ts/api.d.ts") lines of types and a use of them compiled under tsc --strict ($((SECONDS - start)) s)"
