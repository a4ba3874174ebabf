//go:build tools

// Package goclient pins the Go client generator that make test runs over
// shared/apidoc/openapi.yaml (infra/scripts/clients.sh), and the runtime the
// generated client imports. Its own module keeps both out of the service's
// go.mod.
package goclient

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "github.com/oapi-codegen/runtime"
)
