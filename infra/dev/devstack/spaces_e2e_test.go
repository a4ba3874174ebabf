package devstack_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// The end-to-end suite of spaces and single-space guests (SpacesFunction),
// on both backends with the demo personas, every answer checked against
// openapi.yaml by e.do.

func spacesPath(site string) string     { return "/orgs/" + demo.OrgID + "/sites/" + site + "/spaces" }
func spacePath(key string) string       { return spacesPath(demo.SiteID) + "/" + key }
func spaceGuestsPath(key string) string { return spacePath(key) + "/guests" }
func spaceAdminPath(key, acct string) string {
	return spacePath(key) + "/admins/" + url.PathEscape(acct)
}
func guestSpacePath(acct string) string {
	return "/orgs/" + demo.OrgID + "/sites/" + demo.SiteID + "/guests/" + url.PathEscape(acct) + "/space"
}

func forEachBackendWithPersonas(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { f(t, start(t, b, func(o *devstack.Options) { o.Personas = true })) })
	}
}

// guestAccess reads a user's Confluence access on the demo site from the store.
func (e *env) guestAccess(t *testing.T, acct string) domain.Access {
	t.Helper()
	a, err := e.Store.Access(context.Background(), demo.OrgID, acct, demo.SiteID, domain.Confluence)
	if err != nil {
		t.Fatalf("access of %s: %v", acct, err)
	}
	return a
}

func TestSpacesRegisterListChange(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin, conf, mia, alice, gus := e.token(t, demo.AdminID), e.token(t, demo.ProductAdminID), e.token(t, demo.SpaceAdminID), e.token(t, demo.PlainUserID), e.token(t, demo.GuestID)
		r := e.do(t, "POST", spacesPath(demo.SiteID), conf, `{"key":"DOC","name":"Docs","anonymousAccess":false}`)
		if m := mustStatus(t, r, 201, "create DOC"); m["key"] != "DOC" || r.header.Get("Location") != spacePath("DOC") {
			t.Errorf("create: %v %v", m, r.header)
		}
		problem(t, e.do(t, "POST", spacesPath(demo.SiteID), admin, `{"key":"DOC","name":"Again"}`), 409, "duplicate key")
		if p := problem(t, e.do(t, "POST", spacesPath(demo.SiteID), admin, `{"key":"doc-1","name":"Bad"}`), 400, "invalid key"); p["errors"] == nil {
			t.Errorf("invalid key: %v", p)
		}
		problem(t, e.do(t, "POST", spacesPath(demo.SiteID), mia, `{"key":"MIA","name":"Mine"}`), 403, "a space admin registers a space")
		// Paid users list the site's spaces a page at a time; a guest may not.
		if keys := e.listAll(t, spacesPath(demo.SiteID), alice, "spaces", "key", 2); !slices.Equal(keys, []string{"DOC", "ENG", "MKT", "PUB"}) {
			t.Errorf("spaces = %v", keys)
		}
		problem(t, e.do(t, "GET", spacesPath(demo.SiteID), gus, ""), 403, "a guest lists spaces")
		problem(t, e.do(t, "GET", spacesPath(demo.SiteID), e.token(t, demo.OtherAdminID), ""), 404, "another org's admin")
		problem(t, e.do(t, "GET", spacesPath(demo.SiteID), "", ""), 401, "no token")
		ptok, err := e.ProductToken("confluence")
		if err != nil {
			t.Fatal(err)
		}
		problem(t, e.do(t, "GET", spacesPath(demo.SiteID), ptok, ""), 403, "a product's token")
		// One space with its admins; a key of another site is not found here.
		if m := mustStatus(t, e.do(t, "GET", spacePath(demo.SpaceMKT), alice, ""), 200, "get MKT"); !slices.Equal(m["admins"].([]any), []any{demo.SpaceAdminID}) {
			t.Errorf("MKT = %v", m)
		}
		ctx := context.Background()
		if err := e.Store.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: "blog", Name: "Blog", Host: "blog.example", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, e.do(t, "POST", spacesPath("blog"), admin, `{"key":"OTH","name":"Other site's"}`), 201, "space of another site")
		problem(t, e.do(t, "GET", spacePath("OTH"), admin, ""), 404, "a space of another site")
		problem(t, e.do(t, "GET", spacePath("mkt"), admin, ""), 404, "not a key")
		// Change a space.
		if m := mustStatus(t, e.do(t, "PATCH", spacePath(demo.SpaceMKT), conf, `{"name":"Marketing & Brand","anonymousAccess":true}`), 200, "patch"); m["name"] != "Marketing & Brand" || m["anonymousAccess"] != true {
			t.Errorf("patch: %v", m)
		}
		problem(t, e.do(t, "PATCH", spacePath(demo.SpaceMKT), mia, `{"name":"Mine"}`), 403, "a space admin renames")
		problem(t, e.do(t, "PATCH", spacePath(demo.SpaceMKT), admin, `{}`), 400, "empty patch")
		problem(t, e.do(t, "PATCH", spacePath("NOPE"), admin, `{"name":"x"}`), 404, "patch unknown space")
		// Space admins: paid users only; removing one twice is a 404.
		if m := mustStatus(t, e.do(t, "PUT", spaceAdminPath(demo.SpaceENG, demo.PlainUserID), conf, ""), 200, "name admin"); m["changed"] != true {
			t.Errorf("name admin: %v", m)
		}
		problem(t, e.do(t, "PUT", spaceAdminPath(demo.SpaceENG, demo.GuestID), admin, ""), 409, "a guest as space admin")
		problem(t, e.do(t, "PUT", spaceAdminPath(demo.SpaceENG, demo.PlainUserID), mia, ""), 403, "a space admin names one")
		mustStatus(t, e.do(t, "DELETE", spaceAdminPath(demo.SpaceENG, demo.PlainUserID), admin, ""), 200, "remove admin")
		problem(t, e.do(t, "DELETE", spaceAdminPath(demo.SpaceENG, demo.PlainUserID), admin, ""), 404, "remove again")
	})
}

func TestGuestSpaceAssignMoveUnassign(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin, mia, eli := e.token(t, demo.AdminID), e.token(t, demo.SpaceAdminID), e.token(t, demo.OtherSpaceAdminID)
		before := e.guestAccess(t, demo.GuestID)
		// Gus is in MKT: a second space needs move; a space admin of one side only may not move him.
		p := problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), eli, `{"space":"ENG"}`), 409, "move without asking")
		if p["currentSpace"] != demo.SpaceMKT {
			t.Errorf("409 = %v", p)
		}
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), eli, `{"space":"ENG","move":true}`), 403, "admin of the target only")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), mia, `{"space":"ENG","move":true}`), 403, "admin of the source only")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{"space":"NOPE","move":true}`), 404, "unknown space")
		problem(t, e.do(t, "PUT", guestSpacePath("nobody-14west"), admin, `{"space":"ENG"}`), 404, "unknown guest")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.PlainUserID), admin, `{"space":"ENG"}`), 409, "a paid user")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{"space":"eng"}`), 400, "invalid key")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{}`), 400, "no space")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{"space":"ENG","moove":true}`), 400, "unknown field")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{"space":7}`), 400, "wrong type")
		problem(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), e.token(t, demo.OtherAdminID), `{"space":"ENG","move":true}`), 404, "another org's admin")
		if a := e.guestAccess(t, demo.GuestID); a.Version != before.Version || a.Space != demo.SpaceMKT {
			t.Fatalf("refusals changed the access: %+v -> %+v", before, a)
		}
		// The same space again is a no-op; an org admin moves him.
		if m := mustStatus(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), mia, `{"space":"MKT"}`), 200, "same space"); m["changed"] != false {
			t.Errorf("same space: %v", m)
		}
		m := mustStatus(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), admin, `{"space":"ENG","move":true}`), 200, "move")
		if m["moved"] != true || m["previous"] != demo.SpaceMKT || m["space"] != demo.SpaceENG {
			t.Errorf("move: %v", m)
		}
		if g := e.listAll(t, spaceGuestsPath(demo.SpaceENG), eli, "guests", "accountId", 10); !slices.Equal(g, []string{demo.GuestID}) {
			t.Errorf("ENG's guests = %v", g)
		}
		if g := e.listAll(t, spaceGuestsPath(demo.SpaceMKT), mia, "guests", "accountId", 10); len(g) != 0 {
			t.Errorf("MKT's guests = %v", g)
		}
		problem(t, e.do(t, "GET", spaceGuestsPath(demo.SpaceENG), mia, ""), 403, "another space's admin lists its guests")
		// Unassign: only from one's own space; he stays a guest with no space.
		problem(t, e.do(t, "DELETE", guestSpacePath(demo.GuestID), mia, ""), 403, "unassign from another's space")
		if m := mustStatus(t, e.do(t, "DELETE", guestSpacePath(demo.GuestID), eli, ""), 200, "unassign"); m["space"] != nil || m["previous"] != demo.SpaceENG {
			t.Errorf("unassign: %v", m)
		}
		if a := e.guestAccess(t, demo.GuestID); a.Effective != domain.RoleGuest || a.Space != "" {
			t.Errorf("after unassign: %+v", a)
		}
		// A space admin assigns a guest with no space to theirs, even one
		// invited and not yet accepted.
		acct, _ := e.inviteTo(t, admin, map[string]any{"products": map[string]any{"confluence": map[string]any{"role": "guest"}}})
		if m := mustStatus(t, e.do(t, "PUT", guestSpacePath(acct), mia, `{"space":"MKT"}`), 200, "assign an invitee"); m["space"] != demo.SpaceMKT || m["changed"] != true {
			t.Errorf("assign invitee: %v", m)
		}
		mustStatus(t, e.do(t, "PUT", guestSpacePath(demo.GuestID), mia, `{"space":"MKT"}`), 200, "assign gus back")
		if g := e.listAll(t, spaceGuestsPath(demo.SpaceMKT), e.token(t, demo.SiteAdminID), "guests", "accountId", 1); len(g) != 2 {
			t.Errorf("MKT's guests = %v", g)
		}
	})
}
