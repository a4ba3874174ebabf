package groupsapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// RolesService runs users' roles on sites' products (groups.RoleService).
type RolesService interface {
	SetDirect(ctx context.Context, c domain.Caller, orgID, siteID, product, accountID, role string) (groups.DirectResult, error)
	EffectiveRoles(ctx context.Context, c domain.Caller, orgID, accountID string) ([]groups.Effective, error)
}

// RolesHandler serves the roles routes (RolesFunction).
type RolesHandler struct {
	Service RolesService
	Log     *slog.Logger
}

// The routes RolesHandler serves, as template.yaml names them.
const (
	RouteDirectRole = "/orgs/{orgId}/sites/{siteId}/products/{product}/users/{accountId}/role"
	RouteUserRoles  = "/orgs/{orgId}/users/{accountId}/roles"
)

// Handle implements the Lambda handler.
func (h RolesHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodPut + " " + RouteDirectRole: httpapi.Serve(h.Log, h.setDirect),
		http.MethodGet + " " + RouteUserRoles:  httpapi.Serve(h.Log, h.effective),
		http.MethodHead + " " + RouteUserRoles: httpapi.Serve(h.Log, h.effective),
	}.Handle(ctx, req)
}

// setRoleRequest is the body of PUT .../users/{accountId}/role.
type setRoleRequest struct {
	Role *string `json:"role"`
}

// DirectRoleJSON is the answer to a direct role change.
type DirectRoleJSON struct {
	AccountID string   `json:"accountId"`
	Site      string   `json:"site"`
	Product   string   `json:"product"`
	Direct    string   `json:"direct"`
	Before    string   `json:"before"`
	After     string   `json:"after"`
	Why       []string `json:"why"`
	// Conversion is set when the user's Confluence kind changed.
	Conversion *ConversionJSON `json:"conversion,omitempty"`
	// StillGuestVia names the groups that keep the user a guest after their
	// direct Confluence role was removed.
	StillGuestVia []string `json:"stillGuestVia,omitempty"`
	Warnings      []string `json:"warnings"`
}

// EffectiveRoleJSON is one of a user's roles and why they have it.
type EffectiveRoleJSON struct {
	Site    string `json:"site"`
	Product string `json:"product"`
	Role    string `json:"role"`
	// Kind is guest, paid or none: Confluence only.
	Kind   string          `json:"kind,omitempty"`
	Direct string          `json:"direct"`
	Groups []GroupRoleFrom `json:"groups"`
}

// GroupRoleFrom is a group that gives a user a role, and the role.
type GroupRoleFrom struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// UserRolesJSON is a user's effective roles.
type UserRolesJSON struct {
	Roles []EffectiveRoleJSON `json:"roles"`
}

func directRoleOf(r groups.DirectResult) DirectRoleJSON {
	out := DirectRoleJSON{AccountID: r.AccountID, Site: r.Site, Product: r.Product, Direct: string(r.Direct), Before: string(r.Before), After: string(r.After),
		Why: httpapi.NonNil(r.Why), StillGuestVia: r.StillGuestVia, Warnings: []string{}}
	if r.Conversion != nil {
		c := ConversionOf(*r.Conversion)
		out.Conversion = &c
		out.Warnings = append(out.Warnings, ConversionWarning(*r.Conversion))
	}
	if len(r.StillGuestVia) > 0 {
		out.Warnings = append(out.Warnings, "The direct role was removed, but "+domain.Named("group", "groups", r.StillGuestVia)+
			" still "+domain.Agree(len(r.StillGuestVia), "makes", "make")+" this user a guest on the "+r.Site+" site's Confluence; remove them from those groups to end their access.")
	}
	return out
}

func (h RolesHandler) setDirect(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in setRoleRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Role == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"role": "is required: none, guest, user or admin"}}
	}
	res, err := h.Service.SetDirect(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("product"), c.Param("accountId"), *in.Role)
	return httpapi.Reply{Status: http.StatusOK, Body: directRoleOf(res)}, err
}

func (h RolesHandler) effective(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	rs, err := h.Service.EffectiveRoles(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	out := UserRolesJSON{Roles: make([]EffectiveRoleJSON, 0, len(rs))}
	for _, r := range rs {
		e := EffectiveRoleJSON{Site: r.Site, Product: r.Product, Role: string(r.Role), Kind: string(r.Kind), Direct: string(r.Direct), Groups: []GroupRoleFrom{}}
		for _, g := range r.Groups {
			e.Groups = append(e.Groups, GroupRoleFrom{ID: g.ID, Name: g.Name, Role: string(g.Role)})
		}
		out.Roles = append(out.Roles, e)
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, nil
}
