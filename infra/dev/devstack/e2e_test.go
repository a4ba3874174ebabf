package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/infra/testkit/mailbox"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/apidoc"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// env is one running stack plus the way to read its mail.
type env struct {
	*devstack.Stack
	mail  mailbox.Reader
	clock *atomic.Int64 // offset of the handlers' clock, in seconds
	calls *testenv.Counter
	api   *apidoc.Validator
}

// backends lists where the end-to-end suite runs: moto (DynamoDB and SES,
// the default of the suite) and the embedded backend of `make dev`
// (minidyn in-process and aws-ses-v2-local).
var backends = []string{"moto", "embedded"}

func start(t *testing.T, backend string, mutate ...func(*devstack.Options)) *env {
	t.Helper()
	api, err := apidoc.NewValidator(context.Background())
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	e := &env{clock: &atomic.Int64{}, calls: &testenv.Counter{}, api: api}
	o := devstack.Options{
		Table:            "e2e-" + domain.NewID()[:12],
		Sender:           "invitations@14west.example",
		Now:              func() time.Time { return time.Now().Add(time.Duration(e.clock.Load()) * time.Second) },
		DynamoAPIOptions: nil,
	}
	// A request's calls: the email sender's, which follow the answer on
	// the queue's schedule, are counted by their own tests.
	e.calls.Skip = func(ctx context.Context) bool { return devstack.FunctionOf(ctx) == devstack.EmailSenderFunctionID }
	o.DynamoAPIOptions = append(o.DynamoAPIOptions, e.calls.Add)
	switch backend {
	case "moto":
		ep := testenv.Moto(t)
		o.DynamoEndpoint, o.SESEndpoint, o.VerifySender = ep, ep, true
	case "embedded":
		o.SESDevDir = testenv.SESDevDir(t) // skip or fail like the other emulators
	}
	for _, m := range mutate {
		m(&o)
	}
	st, err := devstack.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start %s stack: %v", backend, err)
	}
	// The emulators do not enforce IAM: what each function may call is
	// checked from its own code (infra/samtemplate/iamstatic).
	t.Cleanup(st.Close)
	e.Stack = st
	if backend == "moto" {
		e.mail = mailbox.Moto{BaseURL: o.SESEndpoint}
	} else {
		e.mail = mailbox.SESLocal{BaseURL: st.SESURL}
	}
	return e
}

func forEachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { f(t, start(t, b)) })
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d, body not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

func (e *env) do(t *testing.T, method, path, token string, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") { // Go sends req.Host, not a Host header
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Every answer of the suite must match the OpenAPI document.
	if err := e.api.Response(context.Background(), req, resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("response does not match openapi.yaml: %v", err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (e *env) token(t *testing.T, sub string) string {
	t.Helper()
	tok, err := e.Token(sub)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func invitePath(org, site string) string { return "/orgs/" + org + "/sites/" + site + "/invitations" }

func guestBody(msg string, emails ...string) string {
	b, _ := json.Marshal(map[string]any{"emails": emails, "products": map[string]any{"confluence": map[string]string{"role": "guest"}}, "message": msg})
	return string(b)
}

func unique(name string) string { return name + "-" + domain.NewID()[:8] + "@agency.example" }

// mailTo returns the messages sent to addr, once the email queue has
// nothing left to send (emails leave through it, after the answer).
func (e *env) mailTo(t *testing.T, addr string) []mailbox.Mail {
	t.Helper()
	e.waitEmails(t)
	all, err := e.mail.Messages(context.Background())
	if err != nil {
		t.Fatalf("read mailbox: %v", err)
	}
	var out []mailbox.Mail
	for _, m := range all {
		for _, to := range m.To {
			if strings.EqualFold(strings.TrimSpace(to), addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// waitEmails waits (up to a minute) until the email queue's sender has
// handled every email handed off so far.
func (e *env) waitEmails(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.WaitEmails(ctx); err != nil {
		t.Fatalf("email queue: %v", err)
	}
}

func (e *env) site(t *testing.T) domain.Site {
	t.Helper()
	s, err := e.Store.Site(context.Background(), demo.OrgID, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func results(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	raw, _ := r.json(t)["results"].([]any)
	for _, x := range raw {
		out = append(out, x.(map[string]any))
	}
	return out
}

func TestInviteEmailAccept(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		a, b := unique("ann"), unique("ben")
		msg := "Welcome <script>alert(1)</script> & enjoy\r\nBcc: evil@attacker.example"
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody(msg, a, strings.ToUpper(b)))
		if r.status != 200 {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		res := results(t, r)
		if len(res) != 2 {
			t.Fatalf("results = %v", res)
		}
		for i, want := range []string{a, b} {
			if res[i]["email"] != want || res[i]["status"] != "invited" || res[i]["emailDelivery"] != "pending" || res[i]["kind"] != "guest" {
				t.Errorf("result %d = %v", i, res[i])
			}
		}
		if s := e.site(t); s.Guests != 2 {
			t.Errorf("site guests = %d, want 2", s.Guests)
		}

		mails := e.mailTo(t, a)
		if len(mails) != 1 {
			t.Fatalf("mails to %s = %d, want 1", a, len(mails))
		}
		m := mails[0]
		if !strings.Contains(m.Subject, "Ada Admin") || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("subject = %q", m.Subject)
		}
		if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
			t.Errorf("personal message not escaped in HTML:\n%s", m.HTML)
		}
		if !strings.Contains(m.Text, "Welcome <script>") {
			t.Errorf("personal message missing from text body:\n%s", m.Text)
		}
		for _, to := range m.To {
			if strings.Contains(to, "attacker") {
				t.Errorf("header injection reached recipients: %v", m.To)
			}
		}
		link, ok := mailbox.FindLink(m.Text, e.URL+"/invitations/accept?token=")
		if !ok {
			t.Fatalf("no accept link in:\n%s", m.Text)
		}
		u, _ := url.Parse(link)
		token := u.Query().Get("token")

		// Opening the link (twice: mail scanners) shows a page and changes nothing.
		for i := 0; i < 2; i++ {
			page := e.do(t, "GET", u.RequestURI(), "", "")
			if page.status != 200 || !strings.Contains(string(page.body), `<form method="post"`) || !strings.Contains(string(page.body), a) {
				t.Fatalf("GET accept page: %d\n%s", page.status, page.body)
			}
		}
		acct := res[0]["accountId"].(string)
		if u, _ := e.Store.User(context.Background(), demo.OrgID, acct); u.Status != domain.UserInvited {
			t.Fatalf("GET changed the account: %s", u.Status)
		}

		form := "token=" + url.QueryEscape(token)
		ok2 := e.do(t, "POST", "/invitations/accept", "", form, "Content-Type", "application/x-www-form-urlencoded")
		if ok2.status != 200 || !strings.Contains(string(ok2.body), "You're in") {
			t.Fatalf("POST accept: %d\n%s", ok2.status, ok2.body)
		}
		user, err := e.Store.User(context.Background(), demo.OrgID, acct)
		if err != nil || user.Status != domain.UserActive {
			t.Fatalf("after accept: %+v %v", user, err)
		}
		access, err := e.Store.Access(context.Background(), demo.OrgID, acct, demo.SiteID, domain.Confluence)
		if err != nil || access.Effective != domain.RoleGuest || access.Space != "" {
			t.Errorf("after accept access = %+v %v (want guest, no space)", access, err)
		}
		// Reused: a clear page, nothing changes.
		again := e.do(t, "POST", "/invitations/accept", "", form, "Content-Type", "application/x-www-form-urlencoded")
		if again.status != 409 || !strings.Contains(string(again.body), "already") {
			t.Errorf("reused token: %d\n%s", again.status, again.body)
		}
		if !strings.Contains(string(again.body), "<h1>") {
			t.Errorf("reused token page is not a page: %s", again.body)
		}
	})
}

func TestAcceptBadTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		addr := unique("exp")
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
		if r.status != 200 {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		link, _ := mailbox.FindLink(e.mailTo(t, addr)[0].Text, e.URL+"/invitations/accept?token=")
		u, _ := url.Parse(link)
		token := u.Query().Get("token")
		form := func(tok string) string { return "token=" + url.QueryEscape(tok) }
		ct := []string{"Content-Type", "application/x-www-form-urlencoded"}

		for name, tok := range map[string]string{"unknown": strings.Repeat("A", 43), "junk": "x", "empty": ""} {
			if p := e.do(t, "GET", "/invitations/accept?token="+url.QueryEscape(tok), "", ""); p.status != 404 {
				t.Errorf("GET %s token: %d", name, p.status)
			}
			if p := e.do(t, "POST", "/invitations/accept", "", form(tok), ct...); p.status != 404 {
				t.Errorf("POST %s token: %d", name, p.status)
			}
		}
		if p := e.do(t, "POST", "/invitations/accept", "", `{"token":"`+token+`"}`); p.status != 415 {
			t.Errorf("JSON accept: %d", p.status)
		}
		// Eight days later the link has expired: a clear page, nothing changes.
		e.clock.Store(8 * 24 * 3600)
		p := e.do(t, "GET", u.RequestURI(), "", "")
		if p.status != 410 || !strings.Contains(string(p.body), "expired") {
			t.Errorf("expired GET: %d %s", p.status, p.body)
		}
		if p := e.do(t, "POST", "/invitations/accept", "", form(token), ct...); p.status != 410 {
			t.Errorf("expired POST: %d", p.status)
		}
		acct := results(t, r)[0]["accountId"].(string)
		if u, _ := e.Store.User(context.Background(), demo.OrgID, acct); u.Status != domain.UserInvited {
			t.Errorf("expired accept changed the account: %s", u.Status)
		}
	})
}

func TestIdempotentRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		addr := unique("idem")
		body := guestBody("hi", addr)
		key := "retry-" + domain.NewID()
		first := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, body, "Idempotency-Key", key)
		second := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, body, "Idempotency-Key", key)
		if first.status != 200 || second.status != 200 {
			t.Fatalf("statuses %d %d: %s", first.status, second.status, second.body)
		}
		if second.header.Get("Idempotent-Replayed") != "true" || string(first.body) != string(second.body) {
			t.Errorf("retry not replayed:\n%s\n%s", first.body, second.body)
		}
		if n := len(e.mailTo(t, addr)); n != 1 {
			t.Errorf("emails to %s = %d, want 1", addr, n)
		}
		if s := e.site(t); s.Guests != 1 {
			t.Errorf("guests = %d, want 1", s.Guests)
		}
		other := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("changed", addr), "Idempotency-Key", key)
		if other.status != 422 {
			t.Errorf("same key, other body: %d %s", other.status, other.body)
		}
		// Without a key a repeat is answered per address: already a member, no email.
		plain := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, body)
		if res := results(t, plain); plain.status != 200 || res[0]["status"] != "already_invited" {
			t.Errorf("repeat without key: %d %s", plain.status, plain.body)
		}
		if n := len(e.mailTo(t, addr)); n != 1 {
			t.Errorf("emails after repeat = %d, want 1", n)
		}
	})
}

// TestBadInputChangesNothing: a bad request is a problem (400, 413, 415,
// 404 for an unknown group) and a request whose addresses are all invalid
// is answered per address (200); neither changes the site or sends mail.
func TestBadInputChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		before := e.site(t)
		many := make([]string, 11)
		for i := range many {
			many[i] = unique(fmt.Sprintf("m%d", i))
		}
		big := `{"emails":["` + unique("big") + `"],"products":{"confluence":{"role":"guest"}},"message":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name, body, ct string
			status         int
		}{
			{"zero addresses", guestBody(""), "", 400},
			{"eleven addresses", guestBody("", many...), "", 400},
			{"unknown field", `{"emails":["` + unique("u") + `"],"products":{"confluence":{"role":"guest"}},"admin":true}`, "", 400},
			{"guest on jira", `{"emails":["` + unique("j") + `"],"products":{"jira":{"role":"guest"}}}`, "", 400},
			{"not JSON", `{"emails":`, "", 400},
			{"two JSON values", guestBody("", unique("t")) + guestBody("", unique("t")), "", 400},
			{"wrong type", `{"emails":"a@agency.example","products":{"confluence":{"role":"guest"}}}`, "", 400},
			{"control character in message", guestBody("hi\u0000", unique("c")), "", 400},
			{"1 MB body", big, "", 413},
			{"not JSON media type", guestBody("", unique("ct")), "text/plain", 415},
			{"unknown group", `{"emails":["` + unique("g") + `"],"groups":["nope"]}`, "", 404},
		}
		for _, c := range cases {
			hdr := []string{}
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, c.body, hdr...)
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
				continue
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", c.name, ct)
			}
			p := r.json(t)
			if p["type"] == nil || p["title"] == nil || p["status"] != float64(c.status) || p["detail"] == "" {
				t.Errorf("%s: problem = %v", c.name, p)
			}
		}
		// Bad addresses are not a bad request (rules §3): each says it is
		// invalid, in a 200 like any other answer, and nothing happens.
		for name, body := range map[string]string{
			"all malformed":             guestBody("", "not-an-address", "a@b", ""),
			"CR/LF in the only address": guestBody("", "x@agency.example\r\nBcc: y@agency.example"),
		} {
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, body)
			if r.status != 200 {
				t.Errorf("%s: status %d, want 200: %s", name, r.status, r.body)
				continue
			}
			res := results(t, r)
			for _, a := range res {
				if a["status"] != "invalid" || a["reason"] == "" || a["invitationId"] != nil {
					t.Errorf("%s: result %v, want invalid with a reason", name, a)
				}
			}
			if sum := r.json(t)["summary"].(map[string]any); len(res) == 0 || sum["invalid"] != float64(len(res)) || sum["invited"] != 0.0 || sum["emailsSent"] != 0.0 {
				t.Errorf("%s: %d results, summary %v", name, len(res), sum)
			}
		}
		if n := len(e.mailTo(t, "x@agency.example")) + len(e.mailTo(t, "y@agency.example")); n != 0 {
			t.Errorf("an invalid address got %d emails", n)
		}
		if after := e.site(t); after != before {
			t.Errorf("bad input changed the site: %+v -> %+v", before, after)
		}
		if n := len(e.mailTo(t, many[0])); n != 0 {
			t.Errorf("bad input sent mail")
		}
	})
}

func TestAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		path := invitePath(demo.OrgID, demo.SiteID)
		body := guestBody("", unique("auth"))
		good := e.token(t, demo.AdminID)
		expired, _ := e.Issuer.Token(demo.AdminID, -time.Hour, nil)
		parts := strings.Split(good, ".")
		forged := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
		stranger, err := jwttest.NewIssuer(e.URL, devstack.Audience) // same iss, unknown key
		if err != nil {
			t.Fatal(err)
		}
		strangers, _ := stranger.Token(demo.AdminID, time.Hour, nil)
		none := jwttest.UnsignedToken(map[string]any{"iss": e.URL, "aud": devstack.Audience, "sub": demo.AdminID, "exp": time.Now().Add(time.Hour).Unix()})
		for name, tok := range map[string]string{"missing": "", "expired": expired, "forged": forged, "foreign key": strangers, "alg none": none, "garbage": "abc.def.ghi"} {
			r := e.do(t, "POST", path, tok, body)
			if r.status != 401 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s token: %d %s", name, r.status, r.body)
			}
		}
		if r := e.do(t, "POST", path, e.token(t, demo.PlainUserID), body); r.status != 403 {
			t.Errorf("plain user: %d %s", r.status, r.body)
		}
		// Another org's admin learns nothing: the same 404 as a missing org.
		foreign := e.do(t, "POST", path, e.token(t, demo.OtherAdminID), body)
		missing := e.do(t, "POST", invitePath("no-such-org", demo.SiteID), e.token(t, demo.OtherAdminID), body)
		if foreign.status != 404 || missing.status != 404 || foreign.json(t)["detail"] != missing.json(t)["detail"] {
			t.Errorf("foreign org: %d %s / missing org: %d %s", foreign.status, foreign.body, missing.status, missing.body)
		}
		if r := e.do(t, "POST", invitePath(demo.OtherOrgID, "docs"), good, body); r.status != 404 {
			t.Errorf("14West admin on Acme: %d", r.status)
		}
		if r := e.do(t, "POST", invitePath(demo.OrgID, "nosite"), good, body); r.status != 404 {
			t.Errorf("unknown site: %d", r.status)
		}
		if r := e.do(t, "POST", path, e.token(t, demo.SiteAdminID), guestBody("", unique("sa"))); r.status != 200 {
			t.Errorf("site admin: %d %s", r.status, r.body)
		}
		if s := e.site(t); s.Guests != 1 {
			t.Errorf("guests = %d, want only the site admin's 1", s.Guests)
		}
	})
}

func TestGuestLimitAndPaidWarnings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		path := invitePath(demo.OrgID, demo.SiteID)
		batch := func(n int, tag string) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = unique(fmt.Sprintf("%s%d", tag, i))
			}
			return out
		}
		// 3 paid users: 15 free guest slots.
		first := e.do(t, "POST", path, admin, guestBody("", batch(10, "a")...))
		if first.status != 200 || first.json(t)["summary"].(map[string]any)["invited"] != float64(10) {
			t.Fatalf("first 10: %d %s", first.status, first.body)
		}
		// All or nothing: 10 more do not fit; nothing is written.
		aon := `{"emails":` + mustJSON(batch(10, "b")) + `,"products":{"confluence":{"role":"guest"}},"allOrNothing":true}`
		r := e.do(t, "POST", path, admin, aon)
		if r.status != 409 || !strings.Contains(r.json(t)["detail"].(string), "3 paid user") {
			t.Errorf("all-or-nothing over the limit: %d %s", r.status, r.body)
		}
		if s := e.site(t); s.Guests != 10 {
			t.Errorf("refused all-or-nothing wrote guests: %d", s.Guests)
		}
		second := e.do(t, "POST", path, admin, guestBody("", batch(10, "c")...))
		sum := second.json(t)["summary"].(map[string]any)
		if second.status != 200 || sum["invited"] != float64(5) || sum["refusedByGuestLimit"] != float64(5) {
			t.Fatalf("second 10: %d %s", second.status, second.body)
		}
		res := results(t, second)
		if res[9]["status"] != "guest_limit" || !strings.Contains(res[9]["reason"].(string), "15 guest") {
			t.Errorf("refusal result = %v", res[9])
		}
		if b := second.json(t)["billing"].(map[string]any); b["guests"] != float64(15) || b["freeGuestSlots"] != float64(0) {
			t.Errorf("billing = %v", b)
		}
		if n := len(e.mailTo(t, res[9]["email"].(string))); n != 0 {
			t.Errorf("refused invitee got mail")
		}
		// Confluence "user" makes paid users, says so, and adds guest slots.
		paidBody := `{"emails":["` + unique("paid") + `"],"products":{"confluence":{"role":"user"}}}`
		p := e.do(t, "POST", path, admin, paidBody)
		pj := p.json(t)
		if p.status != 200 || pj["kind"] != "paid" || len(pj["warnings"].([]any)) == 0 || !strings.Contains(pj["warnings"].([]any)[0].(string), "paid") {
			t.Errorf("paid invite: %d %s", p.status, p.body)
		}
		if b := pj["billing"].(map[string]any); b["paidUsers"] != float64(4) || b["freeGuestSlots"] != float64(5) {
			t.Errorf("billing after paid invite = %v", b)
		}
		// A guest group plus a paid group: paid, and the response names the group.
		grp := `{"emails":["` + unique("grp") + `"],"groups":["partners","staff"]}`
		g := e.do(t, "POST", path, admin, grp)
		if g.status != 200 || g.json(t)["kind"] != "paid" || !strings.Contains(string(g.body), "staff") {
			t.Errorf("group invite: %d %s", g.status, g.body)
		}
		guestGroup := e.do(t, "POST", path, admin, `{"emails":["`+unique("pg")+`"],"groups":["partners"]}`)
		if guestGroup.status != 200 || guestGroup.json(t)["kind"] != "guest" {
			t.Errorf("guest group invite: %d %s", guestGroup.status, guestGroup.body)
		}
	})
}

func TestMixedAddresses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		good := unique("good")
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", good, "bad address", good, "alice@14west.example"))
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		want := []string{"invited", "invalid", "duplicate", "already_member"}
		for i, res := range results(t, r) {
			if res["status"] != want[i] {
				t.Errorf("result %d = %v, want %s", i, res, want[i])
			}
		}
		aon := `{"emails":["` + unique("x") + `","bad address"],"products":{"confluence":{"role":"guest"}},"allOrNothing":true}`
		if r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, aon); r.status != 422 {
			t.Errorf("all-or-nothing with a bad address: %d %s", r.status, r.body)
		}
		if s := e.site(t); s.Guests != 1 {
			t.Errorf("guests = %d, want 1", s.Guests)
		}
	})
}

// TestSESFailureKeepsInvitation sends from a sender moto has not verified:
// SES refuses (MessageRejected, a permanent refusal), the invitation stays,
// marked failed by the email sender, and is not retried by the queue nor
// the sweep (it is due again only at its expiry, when it is released).
// Once the sender is verified, a resend goes out with a link that works,
// and a new invite is sent at once.
func TestSESFailureKeepsInvitation(t *testing.T) {
	sender := "unverified-" + domain.NewID()[:8] + "@14west.example"
	e := start(t, "moto", func(o *devstack.Options) { o.Sender, o.VerifySender = sender, false })
	ctx := context.Background()
	admin := e.token(t, demo.AdminID)
	addr, late := unique("fail"), unique("late")
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	res := results(t, r)[0]
	if res["status"] != "invited" || res["emailDelivery"] != "pending" || r.json(t)["summary"].(map[string]any)["emailsQueued"] != float64(1) {
		t.Fatalf("result = %v", res)
	}
	e.waitEmails(t)
	inv, err := e.Store.Invitation(ctx, demo.OrgID, res["accountId"].(string), res["invitationId"].(string))
	if err != nil || inv.Delivery != domain.DeliveryFailed || inv.Status != domain.InvitationPending || inv.DeliveryNote == "" || inv.Attempts != 1 {
		t.Fatalf("kept invitation = %+v %v", inv, err)
	}
	if st := e.Emails.Stats(); st.Sent != 1 || len(e.Emails.DeadLetters())+e.EmailDeadLetters.Stats().Sent != 0 {
		t.Fatalf("a permanent refusal was queued again: %+v", st)
	}
	// Not due for the sweep before its expiry.
	e.clock.Store(24 * 3600)
	if rep, err := e.RetryEmails(ctx); err != nil || rep.Due != 0 {
		t.Fatalf("sweep after a permanent refusal: %+v %v", rep, err)
	}
	if _, err := e.SES.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)}); err != nil {
		t.Fatal(err)
	}
	late2 := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", late))
	if len(e.mailTo(t, late)) != 1 || results(t, late2)[0]["emailDelivery"] != "pending" {
		t.Fatalf("after verifying: %s", late2.body)
	}
	resent := e.do(t, "POST", resendPath(demo.OrgID, demo.SiteID, res["invitationId"].(string)), admin, "")
	if resent.status != 200 {
		t.Fatalf("resend: %d %s", resent.status, resent.body)
	}
	mails := e.mailTo(t, addr)
	if len(mails) != 1 {
		t.Fatalf("mails to %s after the resend: %d", addr, len(mails))
	}
	link, ok := mailbox.FindLink(mails[0].Text+mails[0].HTML, e.URL+"/invitations/accept?token=")
	if !ok {
		t.Fatal("no link in the resent email")
	}
	u, _ := url.Parse(link)
	ok2 := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(u.Query().Get("token")), "Content-Type", "application/x-www-form-urlencoded")
	if ok2.status != 200 {
		t.Errorf("accept through the resent link: %d %s", ok2.status, ok2.body)
	}
	if rep, _ := e.RetryEmails(ctx); rep.Due != 0 {
		t.Errorf("due after delivery: %+v", rep)
	}
}

// TestUndeliveredInvitationExpires: the retry job marks an invitation whose
// email never went out and whose link lapsed as expired, releasing its
// seat and account as an expiry does, and stops.
func TestUndeliveredInvitationExpires(t *testing.T) {
	e := start(t, "moto", func(o *devstack.Options) {
		o.Sender, o.VerifySender = "unverified-"+domain.NewID()[:8]+"@14west.example", false
	})
	ctx := context.Background()
	r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), e.token(t, demo.AdminID), guestBody("", unique("exp")))
	res := results(t, r)[0]
	e.clock.Store(8 * 24 * 3600)
	rep, err := e.RetryEmails(ctx)
	if err != nil || rep.Expired != 1 || rep.Queued != 0 {
		t.Fatalf("report = %+v %v", rep, err)
	}
	inv, _ := e.Store.Invitation(ctx, demo.OrgID, res["accountId"].(string), res["invitationId"].(string))
	if inv.Status != domain.InvitationExpired {
		t.Errorf("status = %s", inv.Status)
	}
	if _, err := e.Store.User(ctx, demo.OrgID, res["accountId"].(string)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("the invited account after expiry: %v", err)
	}
	e.countersMatchItems(t)
	if rep, _ := e.RetryEmails(ctx); rep.Due != 0 {
		t.Errorf("expired invitation still due: %+v", rep)
	}
}

// TestInviteCallCount counts the DynamoDB calls of invites of 1 and 10, and
// the longest chain of calls that ran one after the other (DynamoDB alone,
// and with the SES sends), with and without an Idempotency-Key.
func TestInviteCallCount(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			tr := &testenv.Trace{Latency: 60 * time.Millisecond}
			e := start(t, b, func(o *devstack.Options) {
				o.WrapQueue = func(queue.Sender) queue.Sender { return heldQueue{} }
				o.DynamoAPIOptions = append(o.DynamoAPIOptions, tr.Add)
				o.SESAPIOptions = append(o.SESAPIOptions, tr.Add)
				o.PaidUsers = 2 // room for 10 + 1 + 10 + 1 guests
			})
			admin := e.token(t, demo.AdminID)
			for _, n := range []int{1, 10} {
				for _, withKey := range []bool{true, false} {
					addrs := make([]string, n)
					for i := range addrs {
						addrs[i] = unique(fmt.Sprintf("count%d", i))
					}
					e.calls.Reset()
					tr.Reset()
					hdr := []string{}
					if withKey {
						hdr = []string{"Idempotency-Key", domain.NewID()}
					}
					r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addrs...), hdr...)
					if r.status != 200 || r.json(t)["summary"].(map[string]any)["emailsQueued"] != float64(n) {
						t.Fatalf("%d %s", r.status, r.body)
					}
					c := e.calls.Counts()
					db := tr.Chain(func(c testenv.Call) bool { return c.Service == "DynamoDB" })
					all := tr.Chain(nil)
					t.Logf("invite of %d (Idempotency-Key: %v) on %s: %d DynamoDB calls %v; longest chain: %d DynamoDB round trips, %d steps with SES %v",
						n, withKey, b, e.calls.Total(), c, len(db), len(all), ops(all))
					// One read of everything, one transaction for every invitee
					// (the emails' outbox entries); with a key, the claim
					// (alongside the read) and the kept answer. The emails go
					// to the queue (held here, so the sender's calls are not
					// counted: TestEmailSenderCallCount counts them).
					want := map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}
					if withKey {
						want["PutItem"] = 2
					}
					if fmt.Sprint(c) != fmt.Sprint(want) {
						t.Errorf("calls = %v, want %v", c, want)
					}
					if len(db) > 3 {
						t.Errorf("longest chain of DynamoDB calls = %d %v, want ≤ 3", len(db), ops(db))
					}
					// No SES call: the invite hands the emails to the queue.
					if len(all) != len(db) {
						t.Errorf("calls besides DynamoDB = %v", ops(all))
					}
				}
			}
		})
	}
}

// heldQueue takes messages and delivers none.
type heldQueue struct{}

func (heldQueue) Send(context.Context, ...queue.Message) error { return nil }

func ops(cs []testenv.Call) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Service + "." + c.Op
	}
	return out
}

// acceptLink takes the accept link out of the one email sent to addr.
func (e *env) acceptLink(t *testing.T, addr string) string {
	t.Helper()
	mails := e.mailTo(t, addr)
	if len(mails) != 1 {
		t.Fatalf("%d mails to %s, want 1", len(mails), addr)
	}
	link, ok := mailbox.FindLink(mails[0].Text+mails[0].HTML, e.URL+"/invitations/accept?token=")
	if !ok {
		t.Fatalf("no accept link in the email to %s", addr)
	}
	u, _ := url.Parse(link)
	return u.Query().Get("token")
}

// TestGroupsOnlyInviteIsAccepted: an invite that names only groups (a guest
// group, a user group) is emailed, shown and accepted, on both backends; the
// email and the page say what the invitee becomes.
func TestGroupsOnlyInviteIsAccepted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		for _, c := range []struct {
			group, kind, says string
		}{{demo.GuestGroup, "guest", "as a guest"}, {demo.PaidGroup, "paid", "as a Confluence user"}} {
			addr := unique("grp-" + c.group)
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, mustJSON(map[string]any{"emails": []string{addr}, "groups": []string{c.group}}))
			if r.status != 200 || results(t, r)[0]["status"] != "invited" || r.json(t)["kind"] != c.kind {
				t.Fatalf("%s: %d %s", c.group, r.status, r.body)
			}
			mails := e.mailTo(t, addr)
			if len(mails) != 1 || !strings.Contains(mails[0].Text, c.says) {
				t.Errorf("%s: email does not say %q: %v", c.group, c.says, mails)
			}
			if c.kind == "paid" && strings.Contains(mails[0].Text, "guest") {
				t.Errorf("paid invitee told about guests: %s", mails[0].Text)
			}
			token := e.acceptLink(t, addr)
			page := e.do(t, "GET", "/invitations/accept?token="+url.QueryEscape(token), "", "")
			if page.status != 200 || !strings.Contains(string(page.body), c.says) {
				t.Fatalf("%s: GET page %d %s", c.group, page.status, page.body)
			}
			ok := e.do(t, "POST", "/invitations/accept", "", "token="+url.QueryEscape(token), "Content-Type", "application/x-www-form-urlencoded")
			if ok.status != 200 {
				t.Fatalf("%s: accept %d %s", c.group, ok.status, ok.body)
			}
			again := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, mustJSON(map[string]any{"emails": []string{addr}, "groups": []string{c.group}}))
			if results(t, again)[0]["status"] != "already_member" {
				t.Errorf("%s: invite after accept: %s", c.group, again.body)
			}
		}
	})
}

// TestInternationalisedAddresses: a Unicode domain and its punycode are one
// mailbox (one account, one email, sent to the ASCII form); a non-ASCII
// local part is invalid, with a reason.
func TestInternationalisedAddresses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		local := "idn-" + domain.NewID()[:8]
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", local+"@Bücher.example", local+"@xn--bcher-kva.example", "jörg@agency.example"))
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		rs := results(t, r)
		ascii := local + "@xn--bcher-kva.example"
		if rs[0]["status"] != "invited" || rs[0]["email"] != ascii || rs[1]["status"] != "duplicate" || rs[2]["status"] != "invalid" ||
			!strings.Contains(rs[2]["reason"].(string), "ASCII") {
			t.Fatalf("results = %v", rs)
		}
		if mails := e.mailTo(t, ascii); len(mails) != 1 {
			t.Errorf("%d mails to %s, want 1", len(mails), ascii)
		}
		// Later, the Unicode spelling finds the same (pending) invitation.
		again := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", local+"@bücher.example"))
		if got := results(t, again)[0]; got["status"] != "already_invited" || got["invitationId"] != rs[0]["invitationId"] {
			t.Errorf("re-invite by the Unicode spelling: %v", got)
		}
	})
}

// TestReinvitePendingSaysAlreadyInvited: re-inviting someone whose
// invitation is pending names that invitation and its expiry (so a frontend
// can offer resend) and sends nothing.
func TestReinvitePendingSaysAlreadyInvited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		addr := unique("pending")
		first := results(t, e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr)))[0]
		r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
		got := results(t, r)[0]
		if got["status"] != "already_invited" || got["invitationId"] != first["invitationId"] || got["accountId"] != first["accountId"] ||
			got["expiresAt"] == nil || got["expiresAt"] != first["expiresAt"] || r.json(t)["summary"].(map[string]any)["alreadyInvited"] != float64(1) {
			t.Errorf("re-invite = %v (first %v)", got, first)
		}
		if mails := e.mailTo(t, addr); len(mails) != 1 {
			t.Errorf("%d mails, want 1", len(mails))
		}
	})
}

// TestConflictingTransactions: DynamoDB cancels transactions that conflict
// with one in flight (injected here, as no emulator does). A few conflicts
// are retried away; past the retry budget the answer is 503 with
// Retry-After and nothing changed; the same request then succeeds.
func TestConflictingTransactions(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			f := &testenv.Conflicts{}
			e := start(t, b, func(o *devstack.Options) { o.DynamoAPIOptions = append(o.DynamoAPIOptions, f.Add) })
			admin := e.token(t, demo.AdminID)
			before := e.site(t)
			f.Set(2)
			addr := unique("conflict")
			r := e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr))
			if r.status != 200 || results(t, r)[0]["status"] != "invited" || f.Count() != 2 {
				t.Fatalf("after 2 conflicts: %d %s (injected %d)", r.status, r.body, f.Count())
			}
			f.Set(100)
			addr2 := unique("busy")
			key := domain.NewID()
			r = e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr2), "Idempotency-Key", key)
			if r.status != 503 || r.header.Get("Retry-After") == "" || r.json(t)["requestId"] == nil {
				t.Fatalf("conflicts past the budget: %d %v %s", r.status, r.header, r.body)
			}
			if site := e.site(t); site.Guests != before.Guests+1 {
				t.Errorf("guests %d -> %d: the refused request changed the counters", before.Guests, site.Guests)
			}
			if mails := e.mailTo(t, addr2); len(mails) != 0 {
				t.Errorf("refused request sent %d mails", len(mails))
			}
			f.Set(0)
			r = e.do(t, "POST", invitePath(demo.OrgID, demo.SiteID), admin, guestBody("", addr2), "Idempotency-Key", key)
			if r.status != 200 || results(t, r)[0]["status"] != "invited" || r.header.Get("Idempotent-Replayed") != "" {
				t.Errorf("retry after 503: %d %s", r.status, r.body)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
