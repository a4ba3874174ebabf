package decision

import (
	"context"
	"errors"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// fakeStore answers LoadDecision from a scope and counts the calls.
type fakeStore struct {
	sc    domain.DecisionScope
	err   error
	calls int
	space string
}

func (f *fakeStore) LoadDecision(_ context.Context, _, _, _ string, _ domain.Product, space string) (domain.DecisionScope, error) {
	f.calls++
	f.space = space
	return f.sc, f.err
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
		{Question{OrgID: "o", SiteID: "s", AccountID: "a", Product: "bitbucket", Client: "desktop", Space: "mkt"}, domain.EINVALID, []string{"product", "client", "space"}},
		{Question{OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence"}, domain.EINVALID, []string{"client"}},
		{Question{OrgID: "O#", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}, domain.ENOTFOUND, nil},
		{Question{OrgID: "o", SiteID: "s", AccountID: "a#b", Product: "confluence", Client: "web"}, domain.ENOTFOUND, nil},
	} {
		f := &fakeStore{sc: known()}
		_, err := (&Service{Store: f}).Decide(context.Background(), c.q)
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
		if _, err := (&Service{Store: f}).Decide(context.Background(), Question{OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}); domain.ErrorCode(err) != domain.ENOTFOUND || f.calls != 1 {
			t.Errorf("unknown %s: %v after %d reads", name, err, f.calls)
		}
	}
	f := &fakeStore{err: errors.New("boom")}
	if _, err := (&Service{Store: f}).Decide(context.Background(), Question{OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web"}); err == nil {
		t.Error("a failed read decided")
	}
}

// TestScopeReachesTheRule: the space read (known, anonymous), the access and
// the policy are what the rule sees.
func TestScopeReachesTheRule(t *testing.T) {
	guest := &domain.Access{Effective: domain.RoleGuest, Space: "MKT"}
	q := Question{OrgID: "o", SiteID: "s", AccountID: "a", Product: "confluence", Client: "web", Space: "PUB"}
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
		d, err := (&Service{Store: f}).Decide(context.Background(), q)
		if err != nil || d.Reason != c.want || f.space != "PUB" {
			t.Errorf("space %+v: %+v, %v (read space %q)", c.space, d, err, f.space)
		}
	}
	sc := known()
	sc.User.Email, sc.Access, sc.Org.Policy = "gus@partner.example", guest, domain.PolicySettings{BlockAPITokens: true}
	q.Client, q.Space = "api", ""
	if d, _ := (&Service{Store: &fakeStore{sc: sc}}).Decide(context.Background(), q); d.Reason != domain.ReasonAPITokenBlocked {
		t.Errorf("policy not applied: %+v", d)
	}
}
