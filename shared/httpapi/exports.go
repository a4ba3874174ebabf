package httpapi

import (
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// The helpers below are the core's, exported for the handlers that moved
// to their capability's folder (shared/<capability>/<capability>api).

// PageParams reads a list's ?limit= (1..MaxPageSize, default
// DefaultPageSize) and ?cursor= (opaque; the store refuses one it did not
// give).
func PageParams(req events.APIGatewayProxyRequest) (limit int, cursor string, err error) {
	return pageParams(req)
}

// ParseForm reads an application/x-www-form-urlencoded body as the guest
// pages take it: a field given more than once is refused.
func ParseForm(b []byte) (url.Values, error) { return parseForm(b) }

// PageOpen writes the head every guest page shares (not indexed, the
// stylesheet, the title escaped) and opens its main element.
func PageOpen(h *htmlx.Builder, title string) { pageOpen(h, title) }

// PageHeaders are the guest pages' security headers (see pageHeaders).
func PageHeaders() map[string]string { return pageHeaders() }

// NotAllowed is a guest page's 405: r with Allow (PageMethods).
func NotAllowed(r events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	return notAllowed(r)
}
