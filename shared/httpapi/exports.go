package httpapi

import (
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// The guest pages' helpers, exported for the verification page
// (passcodeapi), under the names the invitations branch gives them
// (guestpage.go, capability.go): the merge keeps those and drops this file.

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
