# Guest access as a service. `make dev` runs it locally, `make test` tests it;
# both install what they need. SAM builds each function through the
# build-<LogicalId> targets (BuildMethod: makefile).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
VENV    := .venv
SESDEV  := infra/dev/sesdev
# Static, stripped linux/arm64 binaries for provided.al2023.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='
# Logical id in template.yaml -> folder under functions/.
FUNCTIONS := AuthorizerFunction:authorizer InviteGuestsFunction:invite-guests AcceptInvitationFunction:accept-invitation \
             RetryInvitationEmailsFunction:retry-invitation-emails GroupsFunction:groups RolesFunction:roles UsersFunction:users \
             GroupJobsWorkerFunction:group-jobs-worker
FUNCTIONS += AccessDecisionFunction:access-decision
FUNCTIONS += SpacesFunction:spaces
FUNCTIONS += InvitationsFunction:invitations
FUNCTIONS += BillingFunction:billing
FUNCTIONS += AuditFunction:audit
FUNCTIONS += ExternalPolicyFunction:external-policy
FUNCTIONS += ExternalUsersFunction:external-users ExportWorkerFunction:export-worker
FUNCTIONS += VerifyFunction:verify
FUNCTIONS += ApiTokensFunction:api-tokens
FUNCTIONS += ReverifyFunction:reverify
FUNCTIONS += DomainCheckFunction:domain-check
FUNCTIONS += CorsPreflightFunction:cors-preflight
FUNCTIONS += SesEventsFunction:ses-events
FUNCTIONS += EmailSenderFunction:email-sender

.PHONY: help build dev test lint venv node rie chromium sam-check clients contract emulators clean localstack-up localstack-deploy localstack-e2e localstack-down localstack-host localstack-host-test \
	$(foreach f,$(FUNCTIONS),build-$(word 1,$(subst :, ,$(f))))

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 24

# --- SAM makefile contract: one target per function, writing $(ARTIFACTS_DIR)/bootstrap.
define lambda_target
build-$(1):
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$$(ARTIFACTS_DIR)/bootstrap" ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call lambda_target,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))

build: ## build every function's bootstrap into dist/<LogicalId>/
	@for f in $(FUNCTIONS); do id=$${f%%:*}; $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=dist/$$id; done
	@ls -l dist/*/bootstrap

# --- local tools, installed by the targets that need them
# Both venvs are copies of ones cached outside the clone, keyed by their
# requirements (infra/scripts/cached-venv.sh): a fresh clone copies in seconds
# what took minutes to download and install.
$(VENV)/.stamp: infra/requirements-dev.txt infra/scripts/cached-venv.sh
	bash infra/scripts/cached-venv.sh $(VENV) infra/requirements-dev.txt
	touch $@
venv: $(VENV)/.stamp ## Python venv with moto (and SAM CLI, cfn-lint)

$(SESDEV)/node_modules/.stamp: $(SESDEV)/package.json $(SESDEV)/package-lock.json
	cd $(SESDEV) && npm ci --no-audit --no-fund --loglevel=error
	touch $@
node: $(SESDEV)/node_modules/.stamp ## npm packages (aws-ses-v2-local, the SES inbox of make dev)

RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE_BIN     := .cache/bin/aws-lambda-rie
$(RIE_BIN):
	GOBIN="$(CURDIR)/.cache/bin" $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
rie: $(RIE_BIN) ## the Lambda runtime interface emulator (runs the built bootstraps in tests)

# Headless Chromium for the browser tests (infra/testkit/browsertest): Debian's
# package, installed with apt-get when missing (as root, as CI runs; else
# through sudo). CHROMIUM_BIN names another binary instead.
chromium: ## Chromium for the browser tests (apt-get install chromium when missing)
	@if [ -n "$${CHROMIUM_BIN:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "install Chromium (or set CHROMIUM_BIN): the browser tests need it"; exit 1; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	echo "== installing Chromium (apt-get install chromium)"; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

sam-check: venv ## sam validate --lint, then sam build through the build-<LogicalId> targets
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --build-in-source

# cfn-lint on what CloudFormation receives: the SAM translator's output, for
# the default parameters and every combination of the template's conditions
# (sam validate --lint skips cycles that involve SAM resource types).
.PHONY: cfn-lint
cfn-lint: venv ## cfn-lint on the SAM-transformed template, every condition combination (0 errors)
	$(VENV)/bin/python infra/scripts/cfnlint_transformed.py template.yaml

dev: node ## run the whole API locally: embedded DynamoDB, SES inbox, demo org, real authorizer and handlers
	@echo "== building the dev server into .cache/dev (the first build downloads modules and compiles the AWS SDK: a few minutes; later builds take seconds)"
	$(GO) build -o .cache/dev ./infra/cmd/dev
	@echo "== starting the dev server (logs: .cache/dev.log)"
	@./.cache/dev

# The installs run side by side (mostly network and disk); the LocalStack
# deploy (mostly waiting on LocalStack's CloudFormation) runs beside the
# generated clients and the Go tests, its log kept and shown at the end, and
# any failure of it fails make test.
LS_TEST_LOG := .cache/artifacts/localstack-host.log
test: ## SAM checks; the stack deployed to LocalStack on the host (no Docker); unit, store, mailer tests on moto; end-to-end on moto and the embedded backend; bootstraps under the RIE; the generated clients; the contract fuzzed
	$(MAKE) --no-print-directory -j5 venv node rie chromium localstack-host
	$(MAKE) --no-print-directory sam-check
	$(MAKE) --no-print-directory cfn-lint
	@mkdir -p $(dir $(LS_TEST_LOG)); \
	echo "== LocalStack deploy running beside the Go tests (log: $(LS_TEST_LOG))"; \
	( LOCALSTACK_HOST_SKIP_BUILD=1 $(MAKE) --no-print-directory localstack-host-test >$(LS_TEST_LOG) 2>&1 ) & ls=$$!; \
	rc=0; \
	$(MAKE) --no-print-directory clients || rc=$$?; \
	[ $$rc -ne 0 ] || RIE_BIN="$(CURDIR)/$(RIE_BIN)" bash infra/scripts/test.sh || rc=$$?; \
	lsrc=0; wait $$ls || lsrc=$$?; \
	echo "== LocalStack deploy (exit $$lsrc)"; cat $(LS_TEST_LOG); \
	if [ $$rc -ne 0 ] && [ -s .cache/artifacts/go-test-failed.txt ]; then echo "== Go tests failed:"; cat .cache/artifacts/go-test-failed.txt; fi; \
	[ $$rc -eq 0 ] && [ $$lsrc -eq 0 ]
	$(MAKE) --no-print-directory contract

emulators: venv node ## moto and aws-ses-v2-local started once, for fast runs of one capability's tests (prints the exports)
	bash infra/scripts/emulators.sh

clients: ## generate a Go client (oapi-codegen) and TypeScript types (openapi-typescript) from the OpenAPI document and compile both
	bash infra/scripts/clients.sh

contract: venv node ## fuzz every operation of the OpenAPI document against the dev stack (schemathesis, every check)
	bash infra/scripts/contract.sh

lint: ## gofmt, go vet, staticcheck, go mod tidy diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cp go.mod /tmp/go.mod.lint; cp go.sum /tmp/go.sum.lint
	$(GO) mod tidy
	@if ! diff -q go.mod /tmp/go.mod.lint >/dev/null || ! diff -q go.sum /tmp/go.sum.lint >/dev/null; then \
	  cp /tmp/go.mod.lint go.mod; cp /tmp/go.sum.lint go.sum; echo "go mod tidy changes go.mod/go.sum: run it and commit"; exit 1; fi

# --- binary budget (issues 6, 16): size is checked by make test; INIT is a benchmark
.PHONY: size-check bench-init
size-check: ## every bootstrap within 1.15x the SDK floor (awsenv + DynamoDB + SES clients; the size test of make test, alone)
	$(GO) test -count=1 -v -run TestBootstrapSizes ./infra/size

bench-init: venv rie ## cold starts under the RIE: INIT (goal 1.25x) and first response vs the SDK floor (RUNS=10); infra/scripts/BENCH.md
	RIE_BIN="$(CURDIR)/$(RIE_BIN)" GO="$(GO)" bash infra/scripts/bench-init.sh $(RUNS)

# --- LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN; see localstack/README.md)
localstack-up: ## start LocalStack with the table and verified sender
	docker compose -f localstack/docker-compose.yml up -d --wait
localstack-deploy: venv ## sam build + sam deploy to LocalStack
	bash localstack/deploy.sh
localstack-e2e: ## invite -> mail -> accept against the stack on LocalStack
	bash localstack/e2e.sh
localstack-down: ## stop LocalStack
	docker compose -f localstack/docker-compose.yml down

# --- LocalStack without Docker (localstack-core from PyPI on the host; localstack/README.md)
LS_VENV := .cache/localstack-venv
$(LS_VENV)/.stamp-deps: localstack/host/requirements.txt localstack/host/patch_py311.py
	bash infra/scripts/cached-venv.sh $(LS_VENV) localstack/host/requirements.txt localstack/host/patch_py311.py
	touch $@
$(LS_VENV)/.stamp: $(LS_VENV)/.stamp-deps localstack/host/pyproject.toml $(wildcard localstack/host/guestaccess_localstack_host/*.py)
	$(LS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./localstack/host
	rm -rf localstack/host/build localstack/host/*.egg-info
	touch $@
localstack-host: $(LS_VENV)/.stamp ## localstack-core 4.13.1 in its own venv, with this repo's plugins (DynamoDB on moto, Lambda without Docker)
localstack-host-test: venv localstack-host ## sam deploy of template.yaml to LocalStack on this host (no Docker): CREATE_COMPLETE, table, queues, functions
	.venv/bin/python localstack/host/deploy_test.py

clean: ## remove build output
	rm -rf dist .aws-sam
