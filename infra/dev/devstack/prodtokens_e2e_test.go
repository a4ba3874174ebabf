package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// devToken gets a token from the dev stack's /dev/token with query q and
// returns the JSON answer, or fails unless the status is want.
func devToken(t *testing.T, e *env, q string, want int) map[string]any {
	t.Helper()
	resp, err := http.Get(e.URL + "/dev/token?" + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("/dev/token?%s: %d %s, want %d", q, resp.StatusCode, b, want)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("/dev/token?%s: %v: %s", q, err, b)
	}
	return m
}

// sameProblem returns a problem's body with the two parts blanked that
// differ between two identical answers to two requests: its requestId, and
// its instance, which must be the request's own path (path, query left out).
func sameProblem(t *testing.T, r response, path string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d, not JSON: %s", r.status, r.body)
	}
	id, _ := m["requestId"].(string)
	if id == "" {
		t.Fatalf("no requestId in %s", r.body)
	}
	own, _, _ := strings.Cut(path, "?")
	if m["instance"] != own {
		t.Fatalf("instance %v, want the request's path %s", m["instance"], own)
	}
	b := bytes.Replace(r.body, []byte(`"requestId":"`+id+`"`), []byte(`"requestId":""`), 1)
	return bytes.Replace(b, []byte(`"instance":"`+own+`"`), []byte(`"instance":""`), 1)
}

// TestProductTokensAreBound: a product's token asks access decisions only
// for its own product and the orgs or sites it was issued for. A Jira token,
// an invented client id, a Confluence token of another org or another site,
// and a token bound to nothing each get, for a question whose honest answer
// would be an allow or another tenant's "no such account", exactly what a
// question about an org that does not exist gets: the same status, headers
// and problem byte for byte apart from its requestId and instance (the
// request's own path), after no DynamoDB call at all. The right tokens, from /dev/token too, get their answers.
func TestProductTokensAreBound(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			e := start(t, b, func(o *devstack.Options) { o.Personas = true })
			ctx := context.Background()
			// A second site of 14West, for the site-bound tokens.
			if err := e.Store.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: "blog", Name: "Blog", Host: "blog.14west.example", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			tok := func(sub, product string, orgs, sites []string) string {
				t.Helper()
				s, err := e.BoundProductToken(sub, product, orgs, sites)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			ours := decisionPath(demo.OrgID, demo.SiteID, "confluence", demo.GuestID, "web", demo.SpaceMKT)
			// Acme's admin is a paid Confluence user of Acme's docs site:
			// allowed there, and no account of 14West's.
			theirs := decisionPath(demo.OtherOrgID, "docs", "confluence", demo.OtherAdminID, "web", "")
			theirsNobody := decisionPath(demo.OtherOrgID, "docs", "confluence", "nobody-acme", "web", "")

			// What an org that does not exist answers, to a token issued
			// for it: the reference every refusal must equal.
			nowhere := decisionPath("noorg", demo.SiteID, "confluence", demo.GuestID, "web", demo.SpaceMKT)
			missing := e.do(t, "GET", nowhere, tok("confluence", "confluence", []string{"noorg"}, nil), "")
			if missing.status != 404 {
				t.Fatalf("unknown org: %d %s", missing.status, missing.body)
			}
			want := sameProblem(t, missing, nowhere)

			confluence14 := tok("confluence", "confluence", []string{demo.OrgID}, nil)
			for _, c := range []struct {
				name, token, path string
			}{
				{"a Jira token of 14west on Confluence", tok("jira", "jira", []string{demo.OrgID}, nil), ours},
				{"a Jira token of Acme on Confluence", tok("jira", "jira", []string{demo.OtherOrgID}, nil), theirs},
				{"an invented client id claiming an unknown product", tok("madeup-client", "madeup", []string{demo.OrgID}, nil), ours},
				{"an invented client id with no product", tok("madeup-client", "", []string{demo.OrgID}, nil), ours},
				{"Confluence's token of 14west on Acme's account", confluence14, theirs},
				{"Confluence's token of 14west on no account of Acme's", confluence14, theirsNobody},
				{"Confluence's token of Acme on 14west", tok("confluence", "confluence", []string{demo.OtherOrgID}, nil), ours},
				{"Confluence's token of 14west's blog on its wiki", tok("confluence", "confluence", nil, []string{demo.OrgID + "/blog"}), ours},
				{"Confluence's token of a wiki site of another org", tok("confluence", "confluence", nil, []string{demo.OtherOrgID + "/" + demo.SiteID}), ours},
				{"a Confluence token bound to no org", tok("confluence", "confluence", nil, nil), ours},
				{"a token bound to nothing (as before)", tok("confluence-client", "", nil, nil), ours},
			} {
				e.calls.Reset()
				r := e.do(t, "GET", c.path, c.token, "")
				if r.status != missing.status || !bytes.Equal(sameProblem(t, r, c.path), want) {
					t.Errorf("%s: %d %s\nwant the unknown org's %d %s", c.name, r.status, r.body, missing.status, missing.body)
				}
				for _, h := range []string{"Content-Type", "Cache-Control", "Vary"} {
					if r.header.Get(h) != missing.header.Get(h) {
						t.Errorf("%s: %s %q, the unknown org's %q", c.name, h, r.header.Get(h), missing.header.Get(h))
					}
				}
				if n := e.calls.Counts(); len(n) != 0 {
					t.Errorf("%s: DynamoDB calls %v before refusing, want none", c.name, n)
				}
			}

			// The right tokens get their answers.
			for _, c := range []struct {
				name, token, path string
			}{
				{"Confluence's token of 14west", confluence14, ours},
				{"Confluence's token of 14west and Acme, on Acme", tok("confluence", "confluence", []string{demo.OrgID, demo.OtherOrgID}, nil), theirs},
				{"Confluence's token of 14west's wiki", tok("confluence", "confluence", nil, []string{demo.OrgID + "/" + demo.SiteID}), ours},
				{"Confluence's token of Acme", tok("confluence", "confluence", []string{demo.OtherOrgID}, nil), theirs},
			} {
				if m := mustStatus(t, e.do(t, "GET", c.path, c.token, ""), 200, c.name); m["allow"] != true {
					t.Errorf("%s: %v, want allowed", c.name, m)
				}
			}
			if m := mustStatus(t, e.do(t, "GET", decisionPath(demo.OrgID, demo.SiteID, "jira", demo.PlainUserID, "web", ""), tok("jira", "jira", []string{demo.OrgID}, nil), ""), 200, "Jira's token on Jira"); m["reason"] != string(domain.ReasonNoProductAccess) {
				t.Errorf("Jira's token on Jira: %v", m)
			}

			// make dev's token page issues bound tokens: 14west by default.
			def := devToken(t, e, "product=confluence", 200)
			if o, _ := def["orgs"].([]any); len(o) != 1 || o[0] != demo.OrgID || def["product"] != "confluence" {
				t.Errorf("/dev/token?product=confluence: %v, want bound to %s", def, demo.OrgID)
			}
			mustStatus(t, e.do(t, "GET", ours, def["token"].(string), ""), 200, "the default dev token on 14west")
			if r := e.do(t, "GET", theirs, def["token"].(string), ""); !bytes.Equal(sameProblem(t, r, theirs), want) {
				t.Errorf("the default dev token on Acme: %d %s", r.status, r.body)
			}
			acme := devToken(t, e, "product=confluence&org="+demo.OtherOrgID+"&site="+url.QueryEscape(demo.OrgID+"/"+demo.SiteID), 200)
			mustStatus(t, e.do(t, "GET", theirs, acme["token"].(string), ""), 200, "a dev token of Acme and 14west's wiki, on Acme")
			mustStatus(t, e.do(t, "GET", ours, acme["token"].(string), ""), 200, "a dev token of Acme and 14west's wiki, on the wiki")
			for _, q := range []string{"product=madeup", "product=confluence&org=No+Org", "product=confluence&site=14west"} {
				devToken(t, e, q, 400)
			}
			// The /dev page shows how.
			page, err := http.Get(e.URL + "/dev")
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(page.Body)
			page.Body.Close()
			for _, want := range []string{`href="/dev/token?product=confluence&amp;org=14west"`, e.URL + "/dev/token?product=confluence&amp;org=14west", "/access/" + demo.GuestID + "?client=web"} {
				if !strings.Contains(string(html), want) {
					t.Errorf("/dev does not show %s", want)
				}
			}
		})
	}
}
