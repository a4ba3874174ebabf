package groupsapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
)

func TestConversionWarnings(t *testing.T) {
	c := domain.Conversion{AccountID: "a1", Email: "pat@agency.example", SiteID: "wiki", From: domain.KindGuest, To: domain.KindPaid, Why: []string{"group Editors: user"}}
	for _, want := range []string{"pat@agency.example", "paid user", "wiki", "group Editors: user", "was a free guest"} {
		if w := ConversionWarning(c); !strings.Contains(w, want) {
			t.Errorf("guest to paid: %q lacks %q", w, want)
		}
	}
	c.From, c.To, c.Why = domain.KindPaid, domain.KindGuest, []string{"group partners: guest"}
	if w := ConversionWarning(c); !strings.Contains(w, "now a guest") || !strings.Contains(w, "no longer a billed user") || !strings.Contains(w, "partners") {
		t.Errorf("paid to guest: %q", w)
	}
	c.From, c.To, c.Why, c.Email = domain.KindGuest, domain.KindNone, nil, ""
	if w := ConversionWarning(c); !strings.Contains(w, "a1 no longer has access") || !strings.Contains(w, "was a guest") {
		t.Errorf("guest to none: %q", w)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeGroups is a GroupsService whose Create is a function field; the
// other methods are not called by these tests.
type fakeGroups struct {
	GroupsService
	CreateFn func(c domain.Caller, orgID, id, name string, roles []groups.RoleInput) (domain.Group, error)
}

func (f fakeGroups) Create(_ context.Context, c domain.Caller, orgID, id, name string, roles []groups.RoleInput) (domain.Group, error) {
	return f.CreateFn(c, orgID, id, name, roles)
}

func TestGroupsHandlerCreate(t *testing.T) {
	created := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var got []groups.RoleInput
	h := GroupsHandler{Log: quiet, Service: fakeGroups{CreateFn: func(c domain.Caller, orgID, id, name string, roles []groups.RoleInput) (domain.Group, error) {
		if c.AccountID != "admin" || c.RequestID != "req-1" || orgID != "o" || name != "Editors" {
			t.Errorf("create(%+v, %s, %s, %s)", c, orgID, id, name)
		}
		got = roles
		return domain.Group{OrgID: orgID, ID: "editors", Name: name, CreatedAt: created,
			Roles: map[string]domain.Role{"wiki/jira": domain.RoleUser, "wiki/confluence": domain.RoleGuest}}, nil
	}}}
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: RouteGroups, Path: "/orgs/o/groups", PathParameters: map[string]string{"orgId": "o"},
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    `{"name":"Editors","roles":[{"site":"wiki","product":"confluence","role":"guest"}]}`}
	req.RequestContext.RequestID = "req-1"
	req.RequestContext.Authorizer = map[string]any{"sub": "admin"}
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != 201 || resp.Headers["Location"] != "/orgs/o/groups/editors" {
		t.Fatalf("resp = %+v", resp)
	}
	var g GroupJSON
	if err := json.Unmarshal([]byte(resp.Body), &g); err != nil || g.CreatedAt != "2026-11-28T09:00:00Z" || len(g.Roles) != 2 ||
		g.Roles[0] != (GroupRoleJSON{Site: "wiki", Product: "confluence", Role: "guest"}) || g.Roles[1].Product != "jira" {
		t.Errorf("group = %+v %v", g, err)
	}
	if len(got) != 1 || got[0] != (groups.RoleInput{Site: "wiki", Product: "confluence", Role: "guest"}) {
		t.Errorf("roles passed = %+v", got)
	}

	// No caller: 401 before the service; a route the function does not serve: 404.
	anon := req
	anon.RequestContext.Authorizer = nil
	if resp, _ := h.Handle(context.Background(), anon); resp.StatusCode != 401 {
		t.Errorf("anonymous: %+v", resp)
	}
	other := req
	other.Resource = RouteDirectRole
	if resp, _ := h.Handle(context.Background(), other); resp.StatusCode != 404 || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Errorf("other route: %+v", resp)
	}
}
