package domain

import "testing"

// TestProductGrant: a grant covers its own product on its orgs (every site)
// and its single sites, nothing else; claims that are not a known product,
// an org id or org/site are dropped, and a grant without a product or
// anything to ask about covers nothing.
func TestProductGrant(t *testing.T) {
	g := NewProductGrant("confluence", []string{"14west", "Bad Org", ""}, []string{"acme/wiki", "acme", "acme/", "/wiki", "acme/wiki/x"})
	if g.Product != Confluence || len(g.Orgs) != 1 || g.Orgs[0] != "14west" || len(g.Sites) != 1 || g.Sites[0] != "acme/wiki" || !g.Bound() {
		t.Fatalf("grant %+v", g)
	}
	for _, c := range []struct {
		p          Product
		org, site  string
		wantCovers bool
	}{
		{Confluence, "14west", "wiki", true},
		{Confluence, "14west", "blog", true},
		{Confluence, "acme", "wiki", true},
		{Confluence, "acme", "blog", false},
		{Confluence, "other", "wiki", false},
		{Jira, "14west", "wiki", false},
		{Confluence, "", "wiki", false},
		{Confluence, "14west", "", false},
	} {
		if got := g.Covers(c.p, c.org, c.site); got != c.wantCovers {
			t.Errorf("Covers(%s, %q, %q) = %v", c.p, c.org, c.site, got)
		}
	}
	for name, g := range map[string]ProductGrant{
		"zero":            {},
		"unknown product": NewProductGrant("madeup", []string{"14west"}, nil),
		"no orgs":         NewProductGrant("confluence", nil, nil),
		"only bad orgs":   NewProductGrant("confluence", []string{"Bad Org"}, []string{"14west"}),
	} {
		if g.Bound() || g.Covers(Confluence, "14west", "wiki") {
			t.Errorf("%s: %+v covers 14west/wiki or is bound", name, g)
		}
	}
}
