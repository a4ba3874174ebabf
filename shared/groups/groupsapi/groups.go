package groupsapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// GroupsService runs groups and memberships (groups.Service).
type GroupsService interface {
	Create(ctx context.Context, c domain.Caller, orgID, id, name string, roles []groups.RoleInput) (domain.Group, error)
	Get(ctx context.Context, c domain.Caller, orgID, id string) (domain.Group, error)
	List(ctx context.Context, c domain.Caller, orgID string, limit int, cursor string) (domain.Page[domain.Group], error)
	Rename(ctx context.Context, c domain.Caller, orgID, id, name string) (domain.Group, error)
	Members(ctx context.Context, c domain.Caller, orgID, id string, limit int, cursor string) (domain.Page[domain.Member], error)
	UserGroups(ctx context.Context, c domain.Caller, orgID, accountID string) ([]domain.Group, error)
	AddMember(ctx context.Context, c domain.Caller, orgID, groupID, accountID string) (groups.MembershipResult, error)
	RemoveMember(ctx context.Context, c domain.Caller, orgID, groupID, accountID string) (groups.MembershipResult, error)
}

// GroupsHandler serves the groups and memberships routes of an
// organisation (GroupsFunction).
type GroupsHandler struct {
	Service GroupsService
	// Jobs runs group role changes and deletions (fan-out jobs).
	Jobs JobService
	Log  *slog.Logger
}

// The routes GroupsHandler serves, as template.yaml names them.
const (
	RouteGroups     = "/orgs/{orgId}/groups"
	RouteGroup      = "/orgs/{orgId}/groups/{groupId}"
	RouteMembers    = "/orgs/{orgId}/groups/{groupId}/members"
	RouteMember     = "/orgs/{orgId}/groups/{groupId}/members/{accountId}"
	RouteUserGroups = "/orgs/{orgId}/users/{accountId}/groups"
	RouteGroupRole  = "/orgs/{orgId}/groups/{groupId}/roles/{siteId}/{product}"
	RouteJob        = "/orgs/{orgId}/jobs/{jobId}"
)

// Handle implements the Lambda handler.
func (h GroupsHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	jobs := JobsHandler{Service: h.Jobs}
	return httpapi.Routes{
		http.MethodPost + " " + RouteGroups:     httpapi.Serve(h.Log, h.create),
		http.MethodGet + " " + RouteGroups:      httpapi.Serve(h.Log, h.list),
		http.MethodGet + " " + RouteGroup:       httpapi.Serve(h.Log, h.get),
		http.MethodPatch + " " + RouteGroup:     httpapi.Serve(h.Log, h.rename),
		http.MethodGet + " " + RouteMembers:     httpapi.Serve(h.Log, h.members),
		http.MethodPut + " " + RouteMember:      httpapi.Serve(h.Log, h.addMember),
		http.MethodDelete + " " + RouteMember:   httpapi.Serve(h.Log, h.removeMember),
		http.MethodGet + " " + RouteUserGroups:  httpapi.Serve(h.Log, h.userGroups),
		http.MethodPut + " " + RouteGroupRole:   httpapi.Serve(h.Log, jobs.setGroupRole),
		http.MethodDelete + " " + RouteGroup:    httpapi.Serve(h.Log, jobs.deleteGroup),
		http.MethodGet + " " + RouteJob:         httpapi.Serve(h.Log, jobs.job),
		http.MethodHead + " " + RouteGroups:     httpapi.Serve(h.Log, h.list),
		http.MethodHead + " " + RouteGroup:      httpapi.Serve(h.Log, h.get),
		http.MethodHead + " " + RouteMembers:    httpapi.Serve(h.Log, h.members),
		http.MethodHead + " " + RouteUserGroups: httpapi.Serve(h.Log, h.userGroups),
	}.Handle(ctx, req)
}

// GroupRoleJSON is one role a group holds.
type GroupRoleJSON struct {
	Site    string `json:"site"`
	Product string `json:"product"`
	Role    string `json:"role"`
}

// GroupJSON is a group as the API shows it.
type GroupJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Roles       []GroupRoleJSON `json:"roles"`
	MemberCount int64           `json:"memberCount"`
	CreatedAt   string          `json:"createdAt"`
}

// GroupOf converts a group; its roles are sorted by site, then product.
func GroupOf(g domain.Group) GroupJSON {
	out := GroupJSON{ID: g.ID, Name: g.Name, Roles: []GroupRoleJSON{}, MemberCount: g.MemberCount, CreatedAt: g.CreatedAt.UTC().Format(time.RFC3339)}
	keys := make([]string, 0, len(g.Roles))
	for k := range g.Roles {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		site, p, _ := strings.Cut(k, "/")
		out.Roles = append(out.Roles, GroupRoleJSON{Site: site, Product: p, Role: string(g.Roles[k])})
	}
	return out
}

func groupsOf(gs []domain.Group) []GroupJSON {
	out := make([]GroupJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, GroupOf(g))
	}
	return out
}

// createGroupRequest is the body of POST /orgs/{orgId}/groups.
type createGroupRequest struct {
	Name  string          `json:"name"`
	ID    *string         `json:"id"` // absent: derived from the name; given, a slug ("" too is a 400)
	Roles []GroupRoleJSON `json:"roles"`
}

// renameGroupRequest is the body of PATCH /orgs/{orgId}/groups/{groupId}.
type renameGroupRequest struct {
	Name *string `json:"name"`
}

// GroupListJSON is a page of groups.
type GroupListJSON struct {
	Groups []GroupJSON `json:"groups"`
	Next   string      `json:"next,omitempty"`
}

// MemberJSON is one member of a group.
type MemberJSON struct {
	AccountID string `json:"accountId"`
	Email     string `json:"email"`
}

// MemberListJSON is a page of a group's members.
type MemberListJSON struct {
	Members []MemberJSON `json:"members"`
	Next    string       `json:"next,omitempty"`
}

// UserGroupsJSON is the list of a user's groups.
type UserGroupsJSON struct {
	Groups []GroupJSON `json:"groups"`
}

// ChangeJSON is what a membership change did to one of the member's roles.
type ChangeJSON struct {
	Site    string   `json:"site"`
	Product string   `json:"product"`
	Before  string   `json:"before"`
	After   string   `json:"after"`
	Why     []string `json:"why"`
}

// ConversionJSON is a user whose Confluence kind changed (guest to paid and
// back, or gaining or losing access), and why.
type ConversionJSON struct {
	AccountID string   `json:"accountId"`
	Email     string   `json:"email"`
	Site      string   `json:"site"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Why       []string `json:"why"`
}

// MembershipJSON is the answer to adding or removing a member.
type MembershipJSON struct {
	GroupID     string           `json:"groupId"`
	AccountID   string           `json:"accountId"`
	Member      bool             `json:"member"`
	Changes     []ChangeJSON     `json:"changes"`
	Conversions []ConversionJSON `json:"conversions"`
	// Warnings say in words who became a paid user or a guest, and why.
	Warnings []string `json:"warnings"`
}

// ConversionOf converts a conversion.
func ConversionOf(c domain.Conversion) ConversionJSON {
	return ConversionJSON{AccountID: c.AccountID, Email: c.Email, Site: c.SiteID, From: string(c.From), To: string(c.To), Why: httpapi.NonNil(c.Why)}
}

// ConversionWarning says in words what a conversion means for billing: who
// became a paid user (or a guest, or lost access) on which site, and why.
func ConversionWarning(c domain.Conversion) string {
	who, where := c.Email, "the "+c.SiteID+" site's Confluence"
	if who == "" {
		who = c.AccountID
	}
	why := ""
	if len(c.Why) > 0 {
		why = " (" + strings.Join(c.Why, "; ") + ")"
	}
	switch c.To {
	case domain.KindPaid:
		was := "had no access before"
		if c.From == domain.KindGuest {
			was = "was a free guest"
		}
		return who + " is now a paid user on " + where + why + ": they " + was + " and now count as a billed user."
	case domain.KindGuest:
		if c.From == domain.KindPaid {
			return who + " is now a guest on " + where + why + ": no longer a billed user, they take one of the site's guest slots."
		}
		return who + " is now a guest on " + where + why + ": they take one of the site's guest slots."
	}
	was := "a guest"
	if c.From == domain.KindPaid {
		was = "a paid user"
	}
	return who + " no longer has access to " + where + " (was " + was + ")."
}

func membershipOf(r groups.MembershipResult) MembershipJSON {
	out := MembershipJSON{GroupID: r.GroupID, AccountID: r.AccountID, Member: r.Member, Changes: []ChangeJSON{}, Conversions: []ConversionJSON{}, Warnings: []string{}}
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, ChangeJSON{Site: c.Site, Product: c.Product, Before: string(c.Before), After: string(c.After), Why: httpapi.NonNil(c.Why)})
	}
	for _, c := range r.Conversions {
		out.Conversions = append(out.Conversions, ConversionOf(c))
		out.Warnings = append(out.Warnings, ConversionWarning(c))
	}
	return out
}

func (h GroupsHandler) create(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in createGroupRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	roles := make([]groups.RoleInput, 0, len(in.Roles))
	for _, r := range in.Roles {
		roles = append(roles, groups.RoleInput{Site: r.Site, Product: r.Product, Role: r.Role})
	}
	id := ""
	if in.ID != nil {
		if *in.ID == "" {
			return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"id": "lower-case letters, digits and hyphens, 1 to 63 (or leave it out)"}}
		}
		id = *in.ID
	}
	g, err := h.Service.Create(ctx, c.Caller, c.Param("orgId"), id, in.Name, roles)
	return httpapi.Reply{Status: http.StatusCreated, Body: GroupOf(g), Headers: map[string]string{"Location": "/orgs/" + c.Param("orgId") + "/groups/" + g.ID}}, err
}

func (h GroupsHandler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), limit, cursor)
	return httpapi.Reply{Status: http.StatusOK, Body: GroupListJSON{Groups: groupsOf(page.Items), Next: page.Next}}, err
}

func (h GroupsHandler) get(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	g, err := h.Service.Get(ctx, c.Caller, c.Param("orgId"), c.Param("groupId"))
	return httpapi.Reply{Status: http.StatusOK, Body: GroupOf(g)}, err
}

func (h GroupsHandler) rename(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in renameGroupRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Name == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"name": "is required"}}
	}
	g, err := h.Service.Rename(ctx, c.Caller, c.Param("orgId"), c.Param("groupId"), *in.Name)
	return httpapi.Reply{Status: http.StatusOK, Body: GroupOf(g)}, err
}

func (h GroupsHandler) members(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.Members(ctx, c.Caller, c.Param("orgId"), c.Param("groupId"), limit, cursor)
	out := MemberListJSON{Members: make([]MemberJSON, 0, len(page.Items)), Next: page.Next}
	for _, m := range page.Items {
		out.Members = append(out.Members, MemberJSON{AccountID: m.AccountID, Email: m.Email})
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

func (h GroupsHandler) addMember(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	return h.changeMember(ctx, c, h.Service.AddMember)
}

func (h GroupsHandler) removeMember(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	return h.changeMember(ctx, c, h.Service.RemoveMember)
}

// changeMember runs an add or remove. Neither takes a body; one that is
// sent must be empty or an empty JSON object.
func (h GroupsHandler) changeMember(ctx context.Context, c httpapi.Call,
	change func(context.Context, domain.Caller, string, string, string) (groups.MembershipResult, error)) (httpapi.Reply, error) {
	if strings.TrimSpace(c.Req.Body) != "" {
		var none struct{}
		if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &none); err != nil {
			return httpapi.Reply{}, err
		}
	}
	res, err := change(ctx, c.Caller, c.Param("orgId"), c.Param("groupId"), c.Param("accountId"))
	return httpapi.Reply{Status: http.StatusOK, Body: membershipOf(res)}, err
}

func (h GroupsHandler) userGroups(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	gs, err := h.Service.UserGroups(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"))
	return httpapi.Reply{Status: http.StatusOK, Body: UserGroupsJSON{Groups: groupsOf(gs)}}, err
}
