package httpapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// The guest pages' common parts (the accept page in invitationsapi, the
// verification page in passcodeapi): headers, stylesheet, head and the 405
// with Allow.

// PageHeaders are the accept page's security headers: no caching (the page
// carries a token), no referrer to other origins (the URL carries it too),
// no framing, no sniffing, and a CSP that allows only the inline style and
// posting the form back to this origin. The referrer policy is same-origin,
// not no-referrer: under no-referrer browsers post the form with "Origin:
// null", which the API's origin filter (template.yaml, OriginFilter) could
// not tell from a sandboxed page's; under same-origin they name the page's
// own origin, and still send no referrer anywhere else (the page links and
// loads nothing from elsewhere).
func PageHeaders() map[string]string {
	return map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
	}
}

// pageStyle is the stylesheet of the guest pages (accept, verification).
const pageStyle = `body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0}main{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0002}label{display:block;font-weight:600;margin:1rem 0 .3rem}input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid #8993a4;border-radius:4px}button{background:#0052cc;color:#fff;border:0;border-radius:4px;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer;margin-top:1rem}button.secondary{background:#fff;color:#0052cc;border:1px solid #0052cc}.muted{color:#5e6c84;font-size:.9rem}.problem{background:#ffebe6;border-left:4px solid #de350b;padding:.6rem 1rem}`

// PageOpen writes the head every guest page shares (not indexed, the
// stylesheet, the title escaped) and opens its main element.
func PageOpen(h *htmlx.Builder, title string) {
	h.Markup(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>`)
	h.Text(title)
	h.Markup(`</title>
<style>` + pageStyle + `</style>
</head><body><main>
`)
}

// PageMethods are the methods the guest pages (accept, verification)
// answer, as a 405's Allow header lists them (RFC 9110): template.yaml
// routes every other method of their paths to the page's function (ANY),
// which answers 405 with them.
const PageMethods = "GET, HEAD, POST"

// NotAllowed is a page's 405: with Allow.
func NotAllowed(r events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	r.Headers["Allow"] = PageMethods
	return r
}
