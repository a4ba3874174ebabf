package httpapi

import (
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The helpers a capability's handlers (its …api package) share with this
// package's own: exported under these names, the same code.

// CallerOf returns the verified person calling an API request: EUNAUTHORIZED
// without one, EFORBIDDEN for a product's token.
func CallerOf(req events.APIGatewayProxyRequest) (domain.Caller, error) { return callerOf(req) }

// PageParams reads a list's ?limit= (1..MaxPageSize, default
// DefaultPageSize) and ?cursor= (opaque; the store refuses one it did not
// give).
func PageParams(req events.APIGatewayProxyRequest) (limit int, cursor string, err error) {
	return pageParams(req)
}

// ParseForm reads an application/x-www-form-urlencoded body as the guest
// pages' forms send it, refusing (EINVALID) one that is not a form or gives
// a field more than once.
func ParseForm(b []byte) (url.Values, error) { return parseForm(b) }

// NonNil returns s, or an empty slice for nil (a JSON list is [], never
// null).
func NonNil(s []string) []string { return nonNil(s) }
