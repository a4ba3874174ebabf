package invitationsapi

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
)

// evil is markup put in every user-controlled value; escaped is how the page
// must show it.
const (
	evil    = `<i id="x">'&`
	escaped = `&lt;i id=&#34;x&#34;&gt;&#39;&amp;`
)

func evilView(kind domain.Kind) invitations.View {
	return invitations.View{Email: "E" + evil, OrgName: "O" + evil, SiteName: "S" + evil, SiteHost: "H" + evil, Inviter: "I" + evil,
		Kind: kind, ExpiresAt: time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)}
}

// tagRE finds the tags of a page, with their attributes; valueRE finds the
// quoted attribute values in a tag.
var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	valueRE = regexp.MustCompile(`="[^"]*"`)
)

// shape is the page's tags with their attribute names, values left out.
func shape(body string) string {
	return valueRE.ReplaceAllString(strings.Join(tagRE.FindAllString(body, -1), "\n"), `=""`)
}

// TestPageEscapesEveryValue renders every kind of page with markup in every
// value and requires the page to have exactly the tags of a page with benign
// values (same tags, same attributes), and each value escaped.
func TestPageEscapesEveryValue(t *testing.T) {
	cases := []struct {
		name   string
		d      pageData
		benign pageData
		want   []string
	}{
		{"confirm", pageData{Kind: "confirm", View: evilView(domain.KindGuest), Token: `T"><script>alert(1)</script>`},
			pageData{Kind: "confirm", View: invitations.View{Kind: domain.KindGuest}, Token: "t"},
			[]string{"<h1>Join S" + escaped + "</h1>", "<p>I" + escaped + " invited <strong>E" + escaped + "</strong> to <strong>S" + escaped + "</strong> (H" + escaped + ") of O" + escaped + " as a guest",
				`<input type="hidden" name="token" value="T&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">`}},
		{"accepted", pageData{Kind: "accepted", View: evilView(domain.KindPaid)},
			pageData{Kind: "accepted", View: invitations.View{Kind: domain.KindPaid}},
			[]string{"Your account <strong>E" + escaped + "</strong> on S" + escaped + " is active."}},
		{"error", pageData{Kind: "error", Title: "T" + evil, Message: "M" + evil, RequestID: "R" + evil},
			pageData{Kind: "error", Title: "t", Message: "m", RequestID: "r"},
			[]string{"<title>T" + escaped + "</title>", "<h1>T" + escaped + "</h1>", "<p>M" + escaped + "</p>", "Request id: R" + escaped + "</p>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := page(http.StatusOK, c.d).Body
			if got, want := shape(body), shape(page(http.StatusOK, c.benign).Body); got != want {
				t.Errorf("tags differ from a benign page:\n%s\nwant\n%s", got, want)
			}
			if strings.Contains(body, "<i ") || strings.Contains(body, "<script") {
				t.Errorf("raw markup:\n%s", body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

// TestPageWordingByKind: the page says what the invitee becomes, and only a
// guest is told they join as a guest.
func TestPageWordingByKind(t *testing.T) {
	v := invitations.View{Email: "pat@agency.example", OrgName: "14West", SiteName: "14West Wiki", SiteHost: "14west.example.net", Inviter: "Ada Admin",
		ExpiresAt: time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)}
	for _, c := range []struct {
		kind              domain.Kind
		confirm, accepted string
		guestOnPage       bool
	}{
		{domain.KindGuest, "of 14West as a guest in Confluence (you will get access to one space).</p>",
			"is active. You are a guest in Confluence. A space administrator will give you access to your space", true},
		{domain.KindPaid, "of 14West as a Confluence user.</p>", "is active. You are a Confluence user.</p>", false},
		{domain.KindNone, "of 14West.</p>", "is active.</p>", false},
		{"", "of 14West.</p>", "is active.</p>", false},
	} {
		v.Kind = c.kind
		confirm := page(http.StatusOK, pageData{Kind: "confirm", View: v, Token: "t"}).Body
		accepted := page(http.StatusOK, pageData{Kind: "accepted", View: v}).Body
		if !strings.Contains(confirm, "Ada Admin invited <strong>pat@agency.example</strong> to <strong>14West Wiki</strong> (14west.example.net) "+c.confirm) {
			t.Errorf("kind %q: confirm page lacks %q:\n%s", c.kind, c.confirm, confirm)
		}
		if !strings.Contains(accepted, c.accepted) {
			t.Errorf("kind %q: accepted page lacks %q:\n%s", c.kind, c.accepted, accepted)
		}
		for _, body := range []string{confirm, accepted} {
			if strings.Contains(body, "guest") != c.guestOnPage {
				t.Errorf("kind %q: page mentions a guest: %v\n%s", c.kind, !c.guestOnPage, body)
			}
		}
		if !strings.Contains(confirm, "This link expires 5 December 2026 09:30 UTC.") {
			t.Errorf("expiry missing:\n%s", confirm)
		}
	}
}

// TestPageHeaders: every page, from every path of the handler, carries the
// security headers.
func TestPageHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
	}
	h := AcceptHandler{Log: quiet} // these requests never reach the service
	put, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPut})
	post, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost,
		Headers: map[string]string{"Content-Type": "text/plain"}, RequestContext: events.APIGatewayProxyRequestContext{RequestID: `r"<b>`}})
	responses := map[string]events.APIGatewayProxyResponse{
		"put":      put,
		"post":     post,
		"confirm":  page(http.StatusOK, pageData{Kind: "confirm", Token: "t"}),
		"accepted": page(http.StatusOK, pageData{Kind: "accepted"}),
	}
	for name, r := range responses {
		for k, v := range want {
			if r.Headers[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, r.Headers[k], v)
			}
		}
	}
	if put.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(put.Body, "<h1>Method not allowed</h1>") {
		t.Errorf("PUT: %d\n%s", put.StatusCode, put.Body)
	}
	if post.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(post.Body, "Request id: r&#34;&lt;b&gt;</p>") {
		t.Errorf("POST text/plain: %d\n%s", post.StatusCode, post.Body)
	}
}

// TestPagesLeaveOutInvisibleCharacters (issue 16, item 10): names shown on
// the guest pages (they come from the identity provider and older data,
// not only from the API's checked input) cannot turn the page round.
func TestPagesLeaveOutInvisibleCharacters(t *testing.T) {
	v := invitations.View{Email: "pat@agency.example", OrgName: "14\u202eWest", SiteName: "Wi\u200bki", SiteHost: "wiki.example", Inviter: "\u2066Ada\u2069",
		Kind: domain.KindGuest, ExpiresAt: time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)}
	body := page(http.StatusOK, pageData{Kind: "confirm", View: v, Token: "t"}).Body
	if strings.ContainsAny(body, "\u202e\u200b\u2066\u2069") {
		t.Errorf("the page shows invisible characters:\n%+q", body)
	}
	if !strings.Contains(body, "<h1>Join Wiki</h1>") || !strings.Contains(body, "<p>Ada invited") || !strings.Contains(body, "of 14West") {
		t.Errorf("the page lost the visible text:\n%s", body)
	}
}

// TestPagesAnswerOtherMethods405: a method the guest pages do not take
// (template.yaml's ANY route of their paths sends it to the page's
// function) is a 405 that says, in Allow, which methods they take (RFC
// 9110), as the contract fuzzing asks of every path.
func TestPagesAnswerOtherMethods405(t *testing.T) {
	handlers := map[string]func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		"accept": AcceptHandler{Log: quiet}.Handle, // these requests never reach the service
	}
	for name, h := range handlers {
		for _, m := range []string{"TRACE", http.MethodPut, http.MethodPatch, http.MethodDelete, "ANY"} {
			r, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: m, PathParameters: map[string]string{"orgId": "14west"}})
			if err != nil || r.StatusCode != http.StatusMethodNotAllowed || r.Headers["Allow"] != "GET, HEAD, POST" {
				t.Errorf("%s %s: %d Allow %q, %v", name, m, r.StatusCode, r.Headers["Allow"], err)
			}
		}
		// A POST that is not a form is refused before the service too, but
		// as a 415, without Allow.
		r, _ := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Headers: map[string]string{"Content-Type": "text/plain"}, PathParameters: map[string]string{"orgId": "14west"}})
		if r.StatusCode != http.StatusUnsupportedMediaType || r.Headers["Allow"] != "" {
			t.Errorf("%s POST text/plain: %d Allow %q", name, r.StatusCode, r.Headers["Allow"])
		}
	}
}
