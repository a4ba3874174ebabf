package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// tokenHandler mints a dev token: GET /dev/token?sub=<account id> for a
// person, GET /dev/token?product=<product>[&org=<org id>][&site=<org>/<site>]
// for a product asking access decisions (scope access:decide), bound to
// that product and to the orgs and sites given (org and site may repeat);
// with neither, to the demo org (DefaultProductOrg). It exists only in the
// dev stack; a deployment trusts its own IdP's JWKS.
func (st *Stack) tokenHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")
	if product := q.Get("product"); product != "" {
		st.productToken(w, product, q["org"], q["site"])
		return
	}
	sub := q.Get("sub")
	if sub == "" {
		sub = demo.AdminID
	}
	if !domain.ValidAccountID(sub) {
		devProblem(w, "sub must be an account id")
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

// DefaultProductOrg is the org a dev product token is bound to when
// /dev/token names no org and no site: the demo org.
const DefaultProductOrg = demo.OrgID

// productToken answers a product's token bound to product, orgs and sites
// (DefaultProductOrg when both are empty), with the product's name as its
// client id; a product this service does not know, an org that is not an
// org id or a site that is not org/site is a 400: the dev stack issues no
// token that could not be issued for real.
func (st *Stack) productToken(w http.ResponseWriter, product string, orgs, sites []string) {
	if _, ok := domain.ParseProduct(product); !ok {
		devProblem(w, "product must be one of confluence, jira, jira-service-management")
		return
	}
	if len(orgs) == 0 && len(sites) == 0 {
		orgs = []string{DefaultProductOrg}
	}
	for _, o := range orgs {
		if !domain.ValidSlug(o) {
			devProblem(w, "org must be an org id")
			return
		}
	}
	for _, s := range sites {
		if o, site, ok := strings.Cut(s, "/"); !ok || !domain.ValidSlug(o) || !domain.ValidSlug(site) {
			devProblem(w, "site must be org/site")
			return
		}
	}
	tok, err := st.BoundProductToken(product, product, orgs, sites)
	if err != nil {
		http.Error(w, "could not sign a token", http.StatusInternalServerError)
		return
	}
	if orgs == nil {
		orgs = []string{}
	}
	if sites == nil {
		sites = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "sub": product, "product": product, "orgs": orgs, "sites": sites, "expiresIn": 3600})
}

// devProblem answers a 400 problem about /dev/token's query.
func devProblem(w http.ResponseWriter, detail string) {
	id := domain.NewID()
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set(RequestIDHeader, id)
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]any{"type": "https://guestaccess.dev/problems/invalid", "title": "Bad Request", "status": 400, "detail": detail, "requestId": id})
	_, _ = w.Write(b)
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guest access — local</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#172b4d}code,pre{background:#f4f5f7;padding:.2rem .4rem;border-radius:4px}pre{padding:1rem;overflow:auto}td,th{padding:.3rem .8rem;text-align:left}</style></head><body>
<h1>Guest access — local stack</h1>
<p>The admin console: <a href="{{.Console}}">{{.Console}}</a> (its own origin; sign in as a demo account).</p>
<p>Sent emails: <a href="{{.SES}}">the SES inbox</a> (click the accept link in an invitation); the same mail as JSON: <a href="{{.InboxJSON}}">{{.InboxJSON}}</a>. API contract: <a href="/openapi.yaml">/openapi.yaml</a>.</p>
<h2>Demo accounts</h2>
<table><tr><th>account</th><th>power</th><th>token</th></tr>
{{range .Accounts}}<tr><td><code>{{.ID}}</code></td><td>{{.Power}}</td><td><a href="/dev/token?sub={{.ID}}">/dev/token?sub={{.ID}}</a></td></tr>{{end}}
</table>
<h2>Product tokens (access decisions)</h2>
<p>Products ask access decisions with a token bound to their product and to the orgs (or single sites, <code>org/site</code>) it was issued for:
<a href="/dev/token?product=confluence&amp;org={{.DefaultProductOrg}}">/dev/token?product=confluence&amp;org={{.DefaultProductOrg}}</a>
(<code>org</code> and <code>site</code> may repeat; with neither, the token is bound to <code>{{.DefaultProductOrg}}</code>).
A question about another product, org or site gets exactly what an unknown org gets (404), as does a token bound to nothing.</p>
<pre>{{.DecisionCurl}}</pre>
<h2>Demo groups</h2>
<p>Invite into a group with <code>"groups":["{{(index .Groups 0).Name}}"]</code>, with or without <code>"products"</code>.</p>
<table><tr><th>group</th><th>grants</th></tr>
{{range .Groups}}<tr><td><code>{{.Name}}</code></td><td>{{.Grants}}</td></tr>{{end}}
</table>
<h2>Group jobs (role changes, deletions)</h2>
<p>Queue: {{.Queue.Visible}} waiting, {{.Queue.Delayed}} delayed, {{.Queue.InFlight}} in flight, {{.Queue.Dead}} dead-lettered. Follow one at <code>GET /orgs/14west/jobs/{id}</code>.</p>
<table><tr><th>job</th><th>kind</th><th>group</th><th>state</th><th>done</th><th>pages</th></tr>
{{range .Jobs}}<tr><td><code>{{.ID}}</code></td><td>{{.Kind}}</td><td>{{.GroupID}}</td><td>{{.State}}</td><td>{{.Done}} of {{.Changed}}</td><td>{{.PagesDone}}/{{.Pages}}{{if .PagesFailed}} ({{.PagesFailed}} failed){{end}}</td></tr>{{else}}<tr><td colspan="6">none yet</td></tr>{{end}}
</table>
<h2>Scheduled functions (from template.yaml)</h2>
<p>They run on their rates while <code>make dev</code> runs; run one now with the button or <code>curl -X POST {{.URL}}/dev/schedules/&lt;function&gt;</code>.</p>
<table><tr><th>function</th><th>schedule</th><th>latest run</th><th></th></tr>
{{range .Schedules}}<tr><td>{{.FunctionID}}</td><td><code>{{.Expression}}</code></td><td>{{$run := index $.LastRuns .FunctionID}}{{if $run.At.IsZero}}not run yet{{else}}{{$run.At.Format "15:04:05"}} {{if $run.Error}}failed: {{$run.Error}}{{else}}{{with $run.Report}}{{printf "%+v" .}}{{else}}done{{end}}{{end}}{{end}}</td><td><form method="post" action="/dev/schedules/{{.FunctionID}}"><button>Run now</button></form></td></tr>{{end}}
</table>
<h2>Routes (from template.yaml)</h2>
<table><tr><th>method</th><th>path</th><th>function</th><th>auth</th></tr>
{{range .Routes}}<tr><td>{{.Method}}</td><td><code>{{.Path}}</code></td><td>{{.FunctionID}}</td><td>{{if .Public}}public{{else}}JWT{{end}}</td></tr>{{end}}
</table>
<h2>External users and two-step verification</h2>
<p><code>gus-14west</code> (gus@partner.example) is external: <code>14west.example</code> is the org's verified domain (<code>GET /orgs/14west/domains</code>).
Turn two-step verification on with <code>PUT /orgs/14west/external-policy</code> <code>{"twoStepVerification":"on","verifyEvery":{"days":7},"apiTokens":"allowed"}</code>
(preview a change first with <code>POST /orgs/14west/external-policy/preview</code>); gus's access decision then answers <code>verification_required</code>
until gus verifies at <a href="/orgs/14west/verify?email=gus@partner.example">the verification page</a> with the code from the SES inbox.
The external users: <code>GET /orgs/14west/external-users</code>, as CSV: <code>GET /orgs/14west/external-users/export</code>.</p>
<h2 id="dns">Verified domains: the DNS challenge</h2>
<p>A domain is verified only once its owner publishes a DNS TXT record: <code>PUT /orgs/14west/domains/partner.example</code> answers it pending with
<code>record</code> (<code>_guestaccess-challenge.partner.example</code> TXT <code>guestaccess-verification=…</code>); its users stay external.
The functions resolve at this stack's DNS server, <code>{{.DNSAddr}}</code> (try <code>dig @{{.DNSHost}} -p {{.DNSPort}} TXT _guestaccess-challenge.partner.example</code>).
Publish a claimed domain's challenge here (or remove it), then <code>POST /orgs/14west/domains/partner.example/check</code> (or run DomainCheckFunction above, which checks the domains due).</p>
<form method="post" action="/dev/dns"><label>org <input name="org" value="14west" size="10"></label> <label>domain <input name="domain" value="partner.example"></label>
<button name="action" value="publish">Publish its challenge</button> <button name="action" value="remove">Remove its record</button></form>
<table><tr><th>name</th><th>TXT</th></tr>
{{range .DNS}}<tr><td><code>{{.Name}}</code></td><td><code>{{.Value}}</code></td></tr>{{else}}<tr><td colspan="2">no record published</td></tr>{{end}}
</table>
<h2>Invite a guest</h2>
<pre>{{.Curl}}</pre>
</body></html>`))

// Account is a demo account and what it may do.
type Account struct{ ID, Power string }

// Accounts lists the demo accounts and what they may do.
func Accounts() []Account {
	return []Account{
		{demo.AdminID, "org admin of 14West"},
		{demo.SiteAdminID, "site admin of 14West's wiki"},
		{demo.PlainUserID, "paid user, no admin power (403)"},
		{demo.OtherAdminID, "org admin of another org, Acme (404 on 14West)"},
		{demo.ProductAdminID, "Confluence admin of the wiki (a product admin)"},
		{demo.SpaceAdminID, "paid user, space admin of MKT"},
		{demo.OtherSpaceAdminID, "paid user, space admin of ENG"},
		{demo.GuestID, "guest of the wiki, assigned to MKT (no admin power)"},
	}
}

// Group is a demo group and what inviting someone into it grants.
type Group struct{ Name, Grants string }

// Groups lists the demo org's groups.
func Groups() []Group {
	return []Group{
		{demo.GuestGroup, "Confluence guest on the wiki: invitees stay free guests"},
		{demo.PaidGroup, "Confluence user on the wiki: invitees become paid users"},
	}
}

// InboxJSON returns the URL where the SES emulator lists the sent emails as
// JSON (its web inbox is at SESURL).
func (st *Stack) InboxJSON() string { return st.SESURL + "/store" }

// Curl returns a shell snippet that gets an admin token and invites a guest.
func (st *Stack) Curl() string {
	return fmt.Sprintf(`TOKEN=$(curl -s '%[1]s/dev/token?sub=%[2]s' | sed -E 's/.*"token":"([^"]+)".*/\1/')
curl -s -X POST '%[1]s/orgs/%[3]s/sites/%[4]s/invitations' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $(date +%%s%%N)" \
  -d '{"emails":["pat@agency.example"],"products":{"confluence":{"role":"guest"}},"message":"Welcome to the launch space!"}'`,
		st.URL, demo.AdminID, demo.OrgID, demo.SiteID)
}

// DecisionCurl returns a shell snippet that gets Confluence's token for the
// demo org and asks an access decision with it.
func (st *Stack) DecisionCurl() string {
	return fmt.Sprintf(`PRODUCT=$(curl -s '%[1]s/dev/token?product=confluence&org=%[2]s' | sed -E 's/.*"token":"([^"]+)".*/\1/')
curl -s -H "Authorization: Bearer $PRODUCT" \
  '%[1]s/orgs/%[2]s/sites/%[3]s/products/confluence/access/%[4]s?client=web&space=%[5]s'`,
		st.URL, demo.OrgID, demo.SiteID, demo.GuestID, demo.SpaceENG)
}

func (st *Stack) indexHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	jobs, _ := st.Store.RecentJobs(context.Background(), demo.OrgID, 20)
	_ = indexTmpl.Execute(w, map[string]any{"Jobs": jobs, "Queue": st.Jobs.Stats(), "SES": st.SESURL, "InboxJSON": st.InboxJSON(), "Accounts": Accounts(), "Groups": Groups(),
		"Routes": st.Routes, "Curl": st.Curl(), "DecisionCurl": st.DecisionCurl(), "DefaultProductOrg": DefaultProductOrg, "URL": st.URL, "Console": st.ConsoleURL,
		"Schedules": st.schedules.schedules, "LastRuns": st.schedules.Last(),
		"DNS": st.DNS.Records(), "DNSAddr": st.DNS.Addr(), "DNSHost": dnsHost(st.DNS.Addr()), "DNSPort": dnsPort(st.DNS.Addr())})
}

// requestLines writes one short line per request to out: method, path,
// status and duration (no query string: it may hold an invitation token).
func requestLines(out io.Writer, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(out, "%s %s %s -> %d (%s)\n", start.Format("15:04:05"), r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Millisecond))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
