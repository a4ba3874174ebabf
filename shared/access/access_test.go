package access

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fakeStore answers LoadDecision from a scope and counts the calls; it
// records the last-active writes asked.
type fakeStore struct {
	sc       domain.DecisionScope
	err      error
	calls    int
	space    string
	hash     string
	touched  []time.Time
	touchErr error
}

func (f *fakeStore) LoadDecision(_ context.Context, _, _, _ string, _ domain.Product, space, hash string) (domain.DecisionScope, error) {
	f.calls++
	f.space, f.hash = space, hash
	return f.sc, f.err
}

func (f *fakeStore) TouchLastActive(_ context.Context, _, _ string, day time.Time) (bool, error) {
	f.touched = append(f.touched, day)
	return f.touchErr == nil, f.touchErr
}

func known() domain.DecisionScope {
	return domain.DecisionScope{Org: &domain.Org{ID: "o"}, Site: &domain.Site{ID: "s"}, User: &domain.User{Status: domain.UserActive}}
}

// TestBadQuestionsReadNothing: a bad product, client or space key is one
// 400 naming every bad field, and an impossible org, site or account id a
// 404, before any read.
func TestBadQuestionsReadNothing(t *testing.T) {
	for _, c := range []struct {
		q      Question
		code   string
		fields []string
	}{
		{Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "bitbucket", Client: "desktop", Space: "mkt"}, domain.EINVALID, []string{"product", "client", "space"}},
		{Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence"}, domain.EINVALID, []string{"client"}},
		{Question{Grant: grantO, OrgID: "O#", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}, domain.ENOTFOUND, nil},
		{Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a#b", Product: "confluence", Client: "web"}, domain.ENOTFOUND, nil},
	} {
		f := &fakeStore{sc: known()}
		_, err := New(f, nil, nil).Decide(context.Background(), c.q)
		if domain.ErrorCode(err) != c.code || f.calls != 0 {
			t.Errorf("%+v: %v after %d reads", c.q, err, f.calls)
		}
		var e *domain.Error
		errors.As(err, &e)
		for _, k := range c.fields {
			if e == nil || e.Fields[k] == "" {
				t.Errorf("%+v: %v does not name %s", c.q, err, k)
			}
		}
	}
}

// TestUnknownThingsAreNotFound: an org, site or account the read did not
// find is a 404, not a deny.
func TestUnknownThingsAreNotFound(t *testing.T) {
	for name, mut := range map[string]func(*domain.DecisionScope){
		"org":     func(s *domain.DecisionScope) { s.Org = nil },
		"site":    func(s *domain.DecisionScope) { s.Site = nil },
		"account": func(s *domain.DecisionScope) { s.User = nil },
	} {
		sc := known()
		mut(&sc)
		f := &fakeStore{sc: sc}
		if _, err := New(f, nil, nil).Decide(context.Background(), Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}); domain.ErrorCode(err) != domain.ENOTFOUND || f.calls != 1 {
			t.Errorf("unknown %s: %v after %d reads", name, err, f.calls)
		}
	}
	f := &fakeStore{err: errors.New("boom")}
	if _, err := New(f, nil, nil).Decide(context.Background(), Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}); err == nil {
		t.Error("a failed read decided")
	}
}

// TestScopeReachesTheRule: the space read (known, anonymous), the access and
// the policy are what the rule sees.
func TestScopeReachesTheRule(t *testing.T) {
	guest := &domain.Access{Effective: domain.RoleGuest, Space: "MKT"}
	q := Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web", Space: "PUB"}
	for _, c := range []struct {
		space *domain.Space
		want  domain.Reason
	}{
		{&domain.Space{Key: "PUB", AnonymousAccess: true}, domain.ReasonAllowed},
		{&domain.Space{Key: "PUB"}, domain.ReasonGuestOtherSpace},
		{nil, domain.ReasonUnknownSpace},
	} {
		sc := known()
		sc.Access, sc.Space = guest, c.space
		f := &fakeStore{sc: sc}
		d, err := New(f, nil, nil).Decide(context.Background(), q)
		if err != nil || d.Reason != c.want || f.space != "PUB" {
			t.Errorf("space %+v: %+v, %v (read space %q)", c.space, d, err, f.space)
		}
	}
	sc := known()
	sc.User.Email, sc.Access, sc.Org.Policy = "gus@partner.example", guest, domain.PolicySettings{BlockAPITokens: true}
	sc.APIToken = &domain.APIToken{ExpiresAt: time.Now().Add(time.Hour)}
	q.Client, q.Space = "api", ""
	if d, _ := New(&fakeStore{sc: sc}, nil, nil).Decide(context.Background(), q); d.Reason != domain.ReasonAPITokenBlocked {
		t.Errorf("policy not applied: %+v", d)
	}
}

// TestAPITokenIsReadByItsHash: on the api client a secret of the right
// shape is looked up by its SHA-256 in the one read; junk, and any secret
// on web or mobile, is not looked up at all.
func TestAPITokenIsReadByItsHash(t *testing.T) {
	secret, hash := domain.NewAPITokenSecret()
	for _, c := range []struct {
		client, secret, want string
	}{
		{"api", secret, hash},
		{"api", "", ""},
		{"api", "gat_short", ""},
		{"api", strings.TrimPrefix(secret, domain.APITokenPrefix), ""},
		{"web", secret, ""},
	} {
		sc := known()
		sc.Access = &domain.Access{Effective: domain.RoleUser}
		f := &fakeStore{sc: sc}
		d, err := New(f, nil, nil).Decide(context.Background(), Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: c.client, APIToken: c.secret})
		if err != nil || f.calls != 1 || f.hash != c.want {
			t.Errorf("%s %q: read hash %q after %d reads (%v), want %q", c.client, c.secret, f.hash, f.calls, err, c.want)
		}
		if c.client == "api" && d.Reason != domain.ReasonAPITokenInvalid {
			t.Errorf("%s %q: %+v, want api_token_invalid (no token item read)", c.client, c.secret, d)
		}
	}
}

// TestLastActive: a decision that allows writes the user's last active day
// (UTC midnight) when the profile's is older, and only then; a deny writes
// nothing; a failed write is logged and the decision still answered.
func TestLastActive(t *testing.T) {
	now := time.Date(2026, 11, 28, 23, 30, 0, 0, time.FixedZone("x", -2*3600)) // 29 Nov 01:30 UTC
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	paid := &domain.Access{Effective: domain.RoleUser}
	q := Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}
	for _, c := range []struct {
		name       string
		lastActive time.Time
		access     *domain.Access
		want       int
	}{
		{"never active", time.Time{}, paid, 1},
		{"active yesterday", day.AddDate(0, 0, -1), paid, 1},
		{"active today already", day, paid, 0},
		{"denied", time.Time{}, nil, 0},
	} {
		sc := known()
		sc.User.LastActive, sc.Access = c.lastActive, c.access
		f := &fakeStore{sc: sc}
		if _, err := New(f, func() time.Time { return now }, nil).Decide(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		if len(f.touched) != c.want || (c.want == 1 && !f.touched[0].Equal(day)) {
			t.Errorf("%s: wrote %v, want %d write(s) of %v", c.name, f.touched, c.want, day)
		}
	}
	var logs bytes.Buffer
	sc := known()
	sc.Access = paid
	f := &fakeStore{sc: sc, touchErr: errors.New("throttled")}
	d, err := New(f, func() time.Time { return now }, slog.New(slog.NewTextHandler(&logs, nil))).Decide(context.Background(), q)
	if err != nil || !d.Allow || !strings.Contains(logs.String(), "throttled") {
		t.Errorf("failed write: %+v, %v; log %q", d, err, logs.String())
	}
}

// grantO is the grant of a Confluence token issued for org o.
var grantO = domain.ProductGrant{Product: domain.Confluence, Orgs: []string{"o"}}

// TestQuestionsOutsideTheGrantAreAnUnknownOrg: a token asks only about its
// own product and the orgs or sites it was issued for. Any other question
// (another product, org or site; a token bound to nothing, as tokens were
// before) is answered exactly as a question about an org that does not
// exist, and reads nothing, so neither the answer nor its timing tells
// what the other tenant holds.
func TestQuestionsOutsideTheGrantAreAnUnknownOrg(t *testing.T) {
	ctx := context.Background()
	// What an unknown org answers (the read finds no org).
	missing := known()
	missing.Org = nil
	_, want := New(&fakeStore{sc: missing}, nil, nil).Decide(ctx, Question{Grant: grantO, OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"})
	if domain.ErrorCode(want) != domain.ENOTFOUND {
		t.Fatalf("unknown org: %v", want)
	}
	siteOnly := domain.ProductGrant{Product: domain.Confluence, Sites: []string{"o/s"}}
	for _, c := range []struct {
		name    string
		grant   domain.ProductGrant
		org     string
		site    string
		product string
		allow   bool
	}{
		{"its product and org", grantO, "o", "s", "confluence", true},
		{"its product and one of its orgs", domain.ProductGrant{Product: domain.Confluence, Orgs: []string{"x", "o"}}, "o", "s", "confluence", true},
		{"its product and site", siteOnly, "o", "s", "confluence", true},
		{"another product", grantO, "o", "s", "jira", false},
		{"a Jira token asking about Confluence", domain.ProductGrant{Product: domain.Jira, Orgs: []string{"o"}}, "o", "s", "confluence", false},
		{"another org", grantO, "b", "s", "confluence", false},
		{"another site of its site's org", siteOnly, "o", "t", "confluence", false},
		{"the same site name in another org", siteOnly, "b", "s", "confluence", false},
		{"a token of an unknown product", domain.NewProductGrant("madeup", []string{"o"}, nil), "o", "s", "confluence", false},
		{"a token bound to no org", domain.ProductGrant{Product: domain.Confluence}, "o", "s", "confluence", false},
		{"a token bound to nothing", domain.ProductGrant{}, "o", "s", "confluence", false},
	} {
		f := &fakeStore{sc: known()}
		f.sc.Access = &domain.Access{Effective: domain.RoleUser}
		_, err := New(f, nil, nil).Decide(ctx, Question{Grant: c.grant, OrgID: c.org, SiteID: c.site, AccountID: "a", Product: c.product, Client: "web"})
		if c.allow {
			if err != nil || f.calls != 1 {
				t.Errorf("%s: %v after %d reads, want an answer", c.name, err, f.calls)
			}
			continue
		}
		var got, w *domain.Error
		if !errors.As(err, &got) || !errors.As(want, &w) || got.Code != w.Code || got.Message != w.Message || len(got.Fields) != 0 {
			t.Errorf("%s: %v, want the unknown org's %v", c.name, err, want)
		}
		if f.calls != 0 {
			t.Errorf("%s: %d reads before refusing, want none", c.name, f.calls)
		}
	}
	// Bad input is still bad input first: the refusal adds nothing to learn.
	if _, err := New(&fakeStore{sc: known()}, nil, nil).Decide(ctx, Question{OrgID: "b", SiteID: "s", AccountID: "a", Product: "bitbucket", Client: "web"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("bad product outside the grant: %v, want 400", err)
	}
}
