package httpapi

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invites"
)

// AcceptHandler serves the page behind an invitation link: GET shows it and
// changes nothing; the page's form POSTs to accept.
type AcceptHandler struct {
	Service *invites.Service
	Log     *slog.Logger
}

// Handle implements the Lambda handler.
func (h AcceptHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.HTTPMethod {
	case http.MethodGet, http.MethodHead:
		token := req.QueryStringParameters["token"]
		v, err := h.Service.Show(ctx, token)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		return page(http.StatusOK, pageData{Kind: "confirm", View: v, Token: token}), nil
	case http.MethodPost:
		token, err := formToken(req)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		v, err := h.Service.Accept(ctx, token, req.RequestContext.RequestID)
		if err != nil {
			return h.errorPage(ctx, err, req), nil
		}
		return page(http.StatusOK, pageData{Kind: "accepted", View: v}), nil
	}
	return page(http.StatusMethodNotAllowed, pageData{Kind: "error", Title: "Method not allowed", Message: "Open the link from your invitation email."}), nil
}

func formToken(req events.APIGatewayProxyRequest) (string, error) {
	mt, _, _ := mime.ParseMediaType(Header(req, "Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return "", domain.Errorf(domain.EUNSUPPORTED, "Accept the invitation with the button on the invitation page.")
	}
	b, err := Body(req, 4096)
	if err != nil {
		return "", err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return "", domain.Errorf(domain.EINVALID, "The form could not be read.")
	}
	return form.Get("token"), nil
}

func (h AcceptHandler) errorPage(ctx context.Context, err error, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	p := ProblemFor(ctx, h.Log, err, req.RequestContext.RequestID)
	titles := map[string]string{
		domain.ENOTFOUND: "Invitation not found",
		domain.ECONFLICT: "Invitation already used",
		domain.EGONE:     "Invitation no longer valid",
	}
	title, ok := titles[domain.ErrorCode(err)]
	if !ok {
		title = p.Title
	}
	return page(p.Status, pageData{Kind: "error", Title: title, Message: p.Detail, RequestID: p.RequestID})
}

type pageData struct {
	Kind      string // confirm, accepted, error
	View      invites.View
	Token     string
	Title     string
	Message   string
	RequestID string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>{{if eq .Kind "confirm"}}Accept your invitation{{else if eq .Kind "accepted"}}Invitation accepted{{else}}{{.Title}}{{end}}</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0}main{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0002}button{background:#0052cc;color:#fff;border:0;border-radius:4px;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer}.muted{color:#5e6c84;font-size:.9rem}</style>
</head><body><main>
{{if eq .Kind "confirm"}}
<h1>Join {{.View.SiteName}}</h1>
<p>{{.View.Inviter}} invited <strong>{{.View.Email}}</strong> to <strong>{{.View.SiteName}}</strong> ({{.View.SiteHost}}) of {{.View.OrgName}}{{if eq .View.Kind "guest"}} as a guest in Confluence{{end}}.</p>
<form method="post" action="accept">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit">Accept invitation</button>
</form>
<p class="muted">This link expires {{.View.ExpiresAt.Format "2 January 2006 15:04 MST"}}. Opening this page changed nothing; only the button accepts.</p>
{{else if eq .Kind "accepted"}}
<h1>You're in</h1>
<p>Your account <strong>{{.View.Email}}</strong> on {{.View.SiteName}} is active.{{if eq .View.Kind "guest"}} A space administrator will give you access to your space; until then Confluence has nothing to show you.{{end}}</p>
{{else}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .RequestID}}<p class="muted">Request id: {{.RequestID}}</p>{{end}}
{{end}}
</main></body></html>
`))

func page(status int, d pageData) events.APIGatewayProxyResponse {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		status, b = http.StatusInternalServerError, *bytes.NewBufferString("Internal error")
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Body: b.String(), Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
	}}
}
