package invitationsapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails"
	"github.com/guestaccess/guestaccess/shared/httpapi"
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
	httpapi.PageOpen(&h, title)
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
	return events.APIGatewayProxyResponse{StatusCode: status, Body: h.String(), Headers: httpapi.PageHeaders()}
}

// roleNames gives roles by product name, as the email wording takes them.
func roleNames(rs map[domain.Product]domain.Role) map[string]string {
	out := make(map[string]string, len(rs))
	for p, r := range rs {
		out[string(p)] = string(r)
	}
	return out
}
