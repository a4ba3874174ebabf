package devstack

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"

	"github.com/guestaccess/guestaccess/shared/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// tokenHandler mints a dev admin token: GET /dev/token?sub=<account id>. It
// exists only in the dev stack; a deployment trusts its own IdP's JWKS.
func (st *Stack) tokenHandler(w http.ResponseWriter, r *http.Request) {
	sub := r.URL.Query().Get("sub")
	if sub == "" {
		sub = demo.AdminID
	}
	w.Header().Set("Cache-Control", "no-store")
	if !domain.ValidAccountID(sub) {
		id := domain.NewID()
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set(RequestIDHeader, id)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"type":"https://guestaccess.dev/problems/invalid","title":"Bad Request","status":400,"detail":"sub must be an account id","requestId":%q}`, id)
		return
	}
	tok, err := st.Token(sub)
	if err != nil {
		http.Error(w, "could not sign a token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "sub": sub, "expiresIn": 3600})
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guest access — local</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#172b4d}code,pre{background:#f4f5f7;padding:.2rem .4rem;border-radius:4px}pre{padding:1rem;overflow:auto}td,th{padding:.3rem .8rem;text-align:left}</style></head><body>
<h1>Guest access — local stack</h1>
<p>Sent emails: <a href="{{.SES}}">the SES inbox</a> (click the accept link in an invitation). API contract: <a href="/openapi.yaml">/openapi.yaml</a>.</p>
<h2>Demo accounts</h2>
<table><tr><th>account</th><th>power</th><th>token</th></tr>
{{range .Accounts}}<tr><td><code>{{.ID}}</code></td><td>{{.Power}}</td><td><a href="/dev/token?sub={{.ID}}">/dev/token?sub={{.ID}}</a></td></tr>{{end}}
</table>
<h2>Routes (from template.yaml)</h2>
<table><tr><th>method</th><th>path</th><th>function</th><th>auth</th></tr>
{{range .Routes}}<tr><td>{{.Method}}</td><td><code>{{.Path}}</code></td><td>{{.FunctionID}}</td><td>{{if .Public}}public{{else}}JWT{{end}}</td></tr>{{end}}
</table>
<h2>Invite a guest</h2>
<pre>{{.Curl}}</pre>
</body></html>`))

type account struct{ ID, Power string }

// Accounts lists the demo accounts and what they may do.
func Accounts() []account {
	return []account{
		{demo.AdminID, "org admin of 14West"},
		{demo.SiteAdminID, "site admin of 14West's wiki"},
		{demo.PlainUserID, "paid user, no admin power (403)"},
		{demo.OtherAdminID, "org admin of another org, Acme (404 on 14West)"},
	}
}

// Curl returns a shell snippet that gets an admin token and invites a guest.
func (st *Stack) Curl() string {
	return fmt.Sprintf(`TOKEN=$(curl -s '%[1]s/dev/token?sub=%[2]s' | sed -E 's/.*"token":"([^"]+)".*/\1/')
curl -s -X POST '%[1]s/orgs/%[3]s/sites/%[4]s/invitations' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $(date +%%s%%N)" \
  -d '{"emails":["pat@agency.example"],"products":{"confluence":{"role":"guest"}},"message":"Welcome to the launch space!"}'`,
		st.URL, demo.AdminID, demo.OrgID, demo.SiteID)
}

func (st *Stack) indexHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexTmpl.Execute(w, map[string]any{"SES": st.SESURL, "Accounts": Accounts(), "Routes": st.Routes, "Curl": st.Curl()})
}
