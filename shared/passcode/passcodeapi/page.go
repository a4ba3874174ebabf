package passcodeapi

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/passcode"
	"github.com/guestaccess/guestaccess/shared/platform/htmlx"
)

// Handler serves the guest-facing two-step verification page
// (/orgs/{orgId}/verify, public like the accept page): GET shows the
// address form (prefilled from ?email=) and changes nothing; the forms POST
// action=send (email a code) or action=verify (check the typed code).
//
// No cookie or session is involved: every POST carries all it acts on (the
// address, and the code), so a forged cross-site POST can do nothing its
// author could not do by posting directly (ask for a code to be mailed to an
// address, under the same limits; guess a code, under the same 5 tries).
// There is no ambient authority for a CSRF token to protect. The page is
// still framed by nobody (frame-ancestors 'none') and posts only to itself
// (form-action 'self'), and a POST must be a form (a cross-site fetch with
// another content type is refused).
type Handler struct {
	Service Service
	Log     *slog.Logger
}

// Service runs the page's actions (passcode.Service).
type Service interface {
	Show(ctx context.Context, orgID, email string) (passcode.View, error)
	Send(ctx context.Context, orgID, email string) (passcode.View, error)
	Verify(ctx context.Context, orgID, email, code, requestID string) (passcode.View, error)
	VerifyLink(ctx context.Context, orgID, email, key, requestID string) (passcode.View, error)
}

// Handle implements the Lambda handler.
func (h Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	orgID := req.PathParameters["orgId"]
	switch req.HTTPMethod {
	case http.MethodGet, http.MethodHead:
		v, err := h.Service.Show(ctx, orgID, req.QueryStringParameters["email"])
		if err != nil {
			return h.errorPage(ctx, err, req, v, "start"), nil
		}
		if v.NotRequired {
			return verifyPage(http.StatusOK, verifyData{Kind: "not-required", View: v}, 0), nil
		}
		// The link in the email (?email=&key=): a button to confirm, so
		// that a mail scanner opening the link verifies nothing.
		if key := req.QueryStringParameters["key"]; key != "" && v.Email != "" {
			return verifyPage(http.StatusOK, verifyData{Kind: "link", View: v, Key: key}, 0), nil
		}
		return verifyPage(http.StatusOK, verifyData{Kind: "start", View: v}, 0), nil
	case http.MethodPost:
		form, err := readForm(req)
		if err != nil {
			return h.errorPage(ctx, err, req, passcode.View{OrgID: orgID}, "start"), nil
		}
		switch form.Get("action") {
		case "send":
			v, err := h.Service.Send(ctx, orgID, form.Get("email"))
			if err != nil {
				return h.errorPage(ctx, err, req, v, "start"), nil
			}
			if v.NotRequired {
				return verifyPage(http.StatusOK, verifyData{Kind: "not-required", View: v}, 0), nil
			}
			return verifyPage(http.StatusOK, verifyData{Kind: "code", View: v}, 0), nil
		case "verify":
			verify := h.Service.Verify
			secret := form.Get("code")
			if form.Has("key") {
				verify, secret = h.Service.VerifyLink, form.Get("key")
			}
			v, err := verify(ctx, orgID, form.Get("email"), secret, req.RequestContext.RequestID)
			if err != nil {
				return h.errorPage(ctx, err, req, v, "code"), nil
			}
			if v.NotRequired {
				return verifyPage(http.StatusOK, verifyData{Kind: "not-required", View: v}, 0), nil
			}
			return verifyPage(http.StatusOK, verifyData{Kind: "verified", View: v}, 0), nil
		}
		return h.errorPage(ctx, domain.Errorf(domain.EINVALID, "Use the buttons on the verification page."), req, passcode.View{OrgID: orgID}, "start"), nil
	}
	return httpapi.NotAllowed(verifyPage(http.StatusMethodNotAllowed, verifyData{Kind: "error", Title: "Method not allowed", Message: "Open the verification page from your email."}, 0)), nil
}

func readForm(req events.APIGatewayProxyRequest) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(httpapi.Header(req, "Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, domain.Errorf(domain.EUNSUPPORTED, "Use the form on the verification page.")
	}
	b, err := httpapi.Body(req, 4096)
	if err != nil {
		return nil, err
	}
	return httpapi.ParseForm(b)
}

// errorPage answers an error as a page with its status (and Retry-After
// for a limit). A wrong or malformed code shows the code form again with
// the message; a bad address the address form; the rest a page that says
// what happened and offers a new code where that helps.
func (h Handler) errorPage(ctx context.Context, err error, req events.APIGatewayProxyRequest, v passcode.View, form string) events.APIGatewayProxyResponse {
	p := httpapi.ProblemFor(ctx, h.Log, err, req.RequestContext.RequestID)
	var retry time.Duration
	var e *domain.Error
	if errors.As(err, &e) && (e.Code == domain.ETOOMANY || e.Code == domain.EUNAVAILABLE) {
		retry = max(time.Second, e.RetryAfter)
	}
	d := verifyData{Kind: "error", View: v, Message: p.Detail, RequestID: p.RequestID}
	switch domain.ErrorCode(err) {
	case domain.EINVALID:
		d.Title, d.Kind = "Check and try again", form
		if form == "code" && v.Email == "" {
			d.Kind = "start"
		}
	case domain.EGONE:
		d.Title, d.Kind = "Code expired", "new-code"
	case domain.ETOOMANY:
		d.Title, d.Kind = "Too many tries", "new-code"
	case domain.ENOTFOUND:
		d.Title = "Organisation not found"
	default:
		d.Title = p.Title
	}
	if d.Kind == "new-code" && v.Email == "" {
		d.Kind = "error"
	}
	return verifyPage(p.Status, d, retry)
}

// verifyData is what the verification page shows.
type verifyData struct {
	// Kind: start (address form), code (code form), link (the email's
	// link: a button to verify), verified, not-required, new-code (a
	// message and a button for a new code), error.
	Kind      string
	View      passcode.View
	Title     string
	Message   string
	RequestID string
	// Key is the link key of a "link" page (the email's link).
	Key string
}

// verifyPage renders the verification page through htmlx (every value
// escaped) with the accept page's security headers.
func verifyPage(status int, d verifyData, retry time.Duration) events.APIGatewayProxyResponse {
	v := d.View
	var h htmlx.Builder
	title := d.Title
	switch d.Kind {
	case "verified":
		title = "Verification complete"
	case "code":
		title = "Enter your code"
	case "start", "not-required", "link":
		title = "Verify your email address"
	}
	httpapi.PageOpen(&h, title)
	problem := func() {
		if d.Message != "" && d.Kind != "error" {
			h.Markup(`<p class="problem" role="alert" id="problem">`)
			h.Text(d.Message)
			h.Markup(`</p>
`)
		}
	}
	newCode := func(label string) {
		h.Markup(`<form method="post" action="verify">
<input type="hidden" name="email"`)
		h.Attr("value", v.Email)
		h.Markup(`>
<button type="submit" name="action" value="send" id="send"`)
		if label == "secondary" {
			h.Markup(` class="secondary">Send a new code</button>`)
		} else {
			h.Markup(`>Send a new code</button>`)
		}
		h.Markup(`
</form>
`)
	}
	switch d.Kind {
	case "start":
		h.Markup(`<h1>Verify your email address</h1>
`)
		problem()
		h.Markup(`<p>`)
		h.Text(v.OrgName)
		h.Markup(` asks people from outside the organisation to confirm their email address from time to time. We will email you a 6-digit code.</p>
<form method="post" action="verify">
<label for="email">Email address</label>
<input type="email" id="email" name="email" autocomplete="email" required`)
		h.Attr("value", v.Email)
		h.Markup(`>
<button type="submit" name="action" value="send" id="send">Email me a code</button>
</form>
`)
	case "code":
		h.Markup(`<h1>Enter your code</h1>
`)
		problem()
		h.Markup(`<p id="sent">If <strong>`)
		h.Text(v.Email)
		h.Markup(`</strong> must verify for `)
		h.Text(v.OrgName)
		h.Markup(`, a 6-digit code is on its way to it (or is there already: use the latest email, or its link). A code works for 10 minutes and for 5 tries.</p>
<form method="post" action="verify">
<input type="hidden" name="email"`)
		h.Attr("value", v.Email)
		h.Markup(`>
<label for="code">6-digit code</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required>
<button type="submit" name="action" value="verify" id="verify">Verify</button>
</form>
<p class="muted">No email? Check the address, look in your spam folder, or ask for a new code after a minute.</p>
`)
		newCode("secondary")
	case "link":
		h.Markup(`<h1>Verify your email address</h1>
<p id="confirm">Verify <strong>`)
		h.Text(v.Email)
		h.Markup(`</strong> for `)
		h.Text(v.OrgName)
		h.Markup(` with the link from your email.</p>
<form method="post" action="verify">
<input type="hidden" name="email"`)
		h.Attr("value", v.Email)
		h.Markup(`>
<input type="hidden" name="key"`)
		h.Attr("value", d.Key)
		h.Markup(`>
<button type="submit" name="action" value="verify" id="verify">Verify</button>
</form>
`)
	case "verified":
		h.Markup(`<h1>You're verified</h1>
<p id="verified"><strong>`)
		h.Text(v.Email)
		h.Markup(`</strong> is verified for `)
		h.Text(v.OrgName)
		if v.DueAt.IsZero() {
			h.Markup(`. You will not be asked again unless an administrator resets sessions.`)
		} else {
			h.Markup(` until `)
			h.Text(v.DueAt.UTC().Format("2 January 2006 15:04 MST"))
			h.Markup(`; then you will be asked to verify again.`)
		}
		h.Markup(` You can go back to your work now.</p>
`)
	case "not-required":
		h.Markup(`<h1>No verification needed</h1>
<p id="not-required">`)
		h.Text(v.OrgName)
		h.Markup(` does not ask for two-step verification at the moment. You can go back to your work.</p>
`)
	case "new-code":
		h.Markup(`<h1>`)
		h.Text(d.Title)
		h.Markup(`</h1>
<p class="problem" role="alert" id="problem">`)
		h.Text(d.Message)
		h.Markup(`</p>
`)
		newCode("primary")
	default:
		h.Markup(`<h1>`)
		h.Text(d.Title)
		h.Markup(`</h1>
<p id="problem">`)
		h.Text(d.Message)
		h.Markup(`</p>
`)
	}
	if d.RequestID != "" && d.Kind != "start" && d.Kind != "code" {
		h.Markup(`<p class="muted">Request id: `)
		h.Text(d.RequestID)
		h.Markup(`</p>
`)
	}
	h.Markup(`</main></body></html>
`)
	hd := httpapi.PageHeaders()
	if retry > 0 {
		hd["Retry-After"] = strconv.Itoa(int((retry + time.Second - 1) / time.Second))
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Body: h.String(), Headers: hd}
}
