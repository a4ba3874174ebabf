#!/usr/bin/env bash
# Cold-start benchmark (`make bench-init`, see infra/scripts/BENCH.md): builds
# the SDK floor (infra/size/testdata/sdkfloor: awsenv + DynamoDB + SES
# clients), a hello-world aws-lambda-go bootstrap and every function of the
# Makefile's FUNCTIONS for this machine's architecture with the Makefile's
# own flags, starts moto, and runs each bootstrap N times (default 10) as a
# fresh Lambda runtime interface emulator answering one invoke
# (infra/size/benchinit). It prints INIT and time-to-first-response per
# bootstrap and their ratio to the SDK floor's, marks INIT over 1.25× the
# floor's, and names those over it. A benchmark, not a test: it fails only
# when something cannot run.
#
#   infra/scripts/bench-init.sh [runs]
#
# RIE_BIN overrides the emulator; BENCH_CA_BUNDLE=<pem> gives the functions
# that AWS_CA_BUNDLE (to see what loading a bundle costs at INIT).
set -euo pipefail
cd "$(dirname "$0")/../.."

runs="${1:-10}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [runs]" >&2; exit 2; }
rie="${RIE_BIN:-.cache/bin/aws-lambda-rie}"
[ -x "$rie" ] || { echo "no Lambda runtime interface emulator at $rie: run make rie" >&2; exit 1; }
[ -x .venv/bin/python ] || { echo "no .venv with moto: run make venv" >&2; exit 1; }
GO="${GO:-go}"
# Lambda sets no AWS_CA_BUNDLE; loading one at INIT would skew the numbers.
unset AWS_CA_BUNDLE
ca_flag=()
if [ -n "${BENCH_CA_BUNDLE:-}" ]; then ca_flag=(-ca-bundle "$BENCH_CA_BUNDLE"); fi

# The Makefile's variables as make expands them (build-<LogicalId> uses them).
makevar() {
  printf '_bench_print:\n\t@:$(info $(%s))\n' "$1" |
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s -f Makefile -f - _bench_print
}
lambda_env=$(makevar LAMBDA_ENV)
lambda_flags=$(makevar LAMBDA_FLAGS)
functions=$(makevar FUNCTIONS)
arch=$("$GO" env GOARCH)
# The same build, for this machine: only GOARCH differs from the Lambda's.
if [[ "$lambda_env" == *GOARCH=* ]]; then
  host_env=$(sed -E "s/GOARCH=[^ ]+/GOARCH=$arch/" <<<"$lambda_env")
else
  host_env="$lambda_env GOARCH=$arch"
fi

work=$(mktemp -d)
moto_pid=""
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building for linux/$arch: $host_env go build $lambda_flags" >&2
build() { # out package
  eval "$host_env \"\$GO\" build $lambda_flags -o \"\$1\" \"\$2\""
}
# The baseline, first: the SDK floor of the size test (awsenv + DynamoDB +
# SES clients, one call each); hello-world for reference.
build "$work/sdk-floor/bootstrap" ./infra/size/testdata/sdkfloor
targets=("sdk-floor::$work/sdk-floor/bootstrap")
build "$work/hello-world/bootstrap" ./infra/size/testdata/hello
targets+=("hello-world::$work/hello-world/bootstrap")
for f in $functions; do
  id=${f%%:*} folder=${f#*:}
  build "$work/$id/bootstrap" "./functions/$folder"
  targets+=("$id:$folder:$work/$id/bootstrap")
done
"$GO" build -o "$work/benchinit" ./infra/size/benchinit

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python infra/scripts/moto_serial.py 127.0.0.1 "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" || { echo "moto did not start:" >&2; cat "$work/moto.log" >&2; exit 1; }

echo "== $runs cold starts each under $rie, moto at 127.0.0.1:$port" >&2
"$work/benchinit" -moto "http://127.0.0.1:$port" -rie "$rie" -n "$runs" "${ca_flag[@]}" "${targets[@]}"
