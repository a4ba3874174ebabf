package httpapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// pageData is what the accept page shows.
type pageData struct {
	Kind      string // confirm, accepted, error
	View      invitations.View
	Token     string
	Title     string
	Message   string
	RequestID string
}

// pageHeaders are the accept page's security headers: no caching (the page
// carries a token), no referrer to other origins (the URL carries it too),
// no framing, no sniffing, and a CSP that allows only the inline style and
// posting the form back to this origin. The referrer policy is same-origin,
// not no-referrer: under no-referrer browsers post the form with "Origin:
// null", which the API's origin filter (template.yaml, OriginFilter) could
// not tell from a sandboxed page's; under same-origin they name the page's
// own origin, and still send no referrer anywhere else (the page links and
// loads nothing from elsewhere).
func pageHeaders() map[string]string {
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

// pageOpen writes the head every guest page shares (not indexed, the
// stylesheet, the title escaped) and opens its main element.
func pageOpen(h *htmlx.Builder, title string) {
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

// page renders the accept page (confirm, accepted or error) with status.
// Every value of d is written through htmlx, which escapes it: text as element
// content, the token as a quoted attribute value.
func page(status int, d pageData) events.APIGatewayProxyResponse {
	var h htmlx.Builder
	title := d.Title
	switch d.Kind {
	case "confirm":
		title = "Accept your invitation"
	case "accepted":
		title = "Invitation accepted"
	}
	pageOpen(&h, title)
	v := d.View
	switch d.Kind {
	case "confirm":
		h.Markup(`<h1>Join `)
		h.Text(v.SiteName)
		h.Markup(`</h1>
<p>`)
		h.Text(v.Inviter)
		h.Markup(` invited <strong>`)
		h.Text(v.Email)
		h.Markup(`</strong> to <strong>`)
		h.Text(v.SiteName)
		h.Markup(`</strong> (`)
		h.Text(v.SiteHost)
		h.Markup(`) of `)
		h.Text(v.OrgName)
		if b := emails.Becomes(string(v.Kind), roleNames(v.Roles)); b != "" {
			h.Markup(` `)
			h.Text(b)
		}
		h.Markup(`.</p>
<form method="post" action="accept">
<input type="hidden" name="token"`)
		h.Attr("value", d.Token)
		h.Markup(`>
<button type="submit">Accept invitation</button>
</form>
<p class="muted">This link expires `)
		h.Text(v.ExpiresAt.Format("2 January 2006 15:04 MST"))
		h.Markup(`. Opening this page changed nothing; only the button accepts.</p>
`)
	case "accepted":
		h.Markup(`<h1>You're in</h1>
<p>Your account <strong>`)
		h.Text(v.Email)
		h.Markup(`</strong> on `)
		h.Text(v.SiteName)
		h.Markup(` is active.`)
		switch string(v.Kind) {
		case emails.KindGuest:
			h.Markup(` You are a guest in Confluence. A space administrator will give you access to your space; until then Confluence has nothing to show you.`)
		case emails.KindPaid:
			h.Markup(` You are a Confluence user.`)
		}
		h.Markup(`</p>
`)
	default:
		h.Markup(`<h1>`)
		h.Text(d.Title)
		h.Markup(`</h1>
<p>`)
		h.Text(d.Message)
		h.Markup(`</p>
`)
		if d.RequestID != "" {
			h.Markup(`<p class="muted">Request id: `)
			h.Text(d.RequestID)
			h.Markup(`</p>
`)
		}
	}
	h.Markup(`</main></body></html>
`)
	return events.APIGatewayProxyResponse{StatusCode: status, Body: h.String(), Headers: pageHeaders()}
}

// roleNames gives roles by product name, as the email wording takes them.
func roleNames(rs map[domain.Product]domain.Role) map[string]string {
	out := make(map[string]string, len(rs))
	for p, r := range rs {
		out[string(p)] = string(r)
	}
	return out
}
