// Package faultstest holds the fault-injection tests of the dev stack's
// write flows (every AWS call of every write flow failed in turn, before
// and after it takes effect). They are a test binary of their own, with
// their own moto, so that `go test ./...` runs them beside the rest of
// infra/dev/devstack rather than after it; the package has no code.
package faultstest
