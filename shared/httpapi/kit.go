package httpapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The helpers below are the shared steps of a route's handler, exported for
// the capabilities' API packages (shared/<capability>/<capability>api),
// whose handlers left this package. Each is the one definition its
// unexported twin here already is: no rule is written twice.

// PageParams reads ?limit= (1..MaxPageSize, default DefaultPageSize) and
// ?cursor= (opaque; the store refuses one it did not give): EINVALID for
// either out of bounds.
func PageParams(req events.APIGatewayProxyRequest) (limit int, cursor string, err error) {
	return pageParams(req)
}

// CallerOf returns the verified person calling an API request: EUNAUTHORIZED
// without one, EFORBIDDEN for a product's token (as Serve verifies it).
func CallerOf(req events.APIGatewayProxyRequest) (domain.Caller, error) { return callerOf(req) }

// Headers are the headers of every answer of content type ct (no caching,
// no sniffing); the map is new, the caller may add to it.
func Headers(ct string) map[string]string { return headers(ct) }

// Body decodes a call's JSON body strictly into v (DecodeJSON, at most
// MaxJSONBody bytes).
func (c Call) Body(v any) error { return c.body(v) }
