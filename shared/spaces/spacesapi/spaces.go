package spacesapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/spaces"
)

// SpacesService runs a site's spaces and single-space guests (spaces.Service).
type SpacesService interface {
	Create(ctx context.Context, c domain.Caller, orgID, siteID, key, name string, anonymous bool) (domain.Space, error)
	List(ctx context.Context, c domain.Caller, orgID, siteID string, limit int, cursor string) (domain.Page[domain.Space], error)
	Get(ctx context.Context, c domain.Caller, orgID, siteID, key string) (spaces.Detail, error)
	Update(ctx context.Context, c domain.Caller, orgID, siteID, key string, name *string, anonymous *bool) (domain.Space, error)
	AddAdmin(ctx context.Context, c domain.Caller, orgID, siteID, key, accountID string) (spaces.AdminChange, error)
	RemoveAdmin(ctx context.Context, c domain.Caller, orgID, siteID, key, accountID string) (spaces.AdminChange, error)
	Guests(ctx context.Context, c domain.Caller, orgID, siteID, key string, limit int, cursor string) (domain.Page[domain.SpaceGuest], error)
	Assign(ctx context.Context, c domain.Caller, orgID, siteID, accountID, key string, move bool) (spaces.Assignment, error)
	Unassign(ctx context.Context, c domain.Caller, orgID, siteID, accountID string) (spaces.Assignment, error)
}

// SpacesHandler serves the spaces routes of a site (SpacesFunction).
type SpacesHandler struct {
	Service SpacesService
	Log     *slog.Logger
}

// The routes SpacesHandler serves, as template.yaml names them.
const (
	RouteSpaces      = "/orgs/{orgId}/sites/{siteId}/spaces"
	RouteSpace       = "/orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}"
	RouteSpaceAdmin  = "/orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}/admins/{accountId}"
	RouteSpaceGuests = "/orgs/{orgId}/sites/{siteId}/spaces/{spaceKey}/guests"
	RouteGuestSpace  = "/orgs/{orgId}/sites/{siteId}/guests/{accountId}/space"
)

// Handle implements the Lambda handler.
func (h SpacesHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodPost + " " + RouteSpaces:       httpapi.Serve(h.Log, h.create),
		http.MethodGet + " " + RouteSpaces:        httpapi.Serve(h.Log, h.list),
		http.MethodHead + " " + RouteSpaces:       httpapi.Serve(h.Log, h.list),
		http.MethodGet + " " + RouteSpace:         httpapi.Serve(h.Log, h.get),
		http.MethodHead + " " + RouteSpace:        httpapi.Serve(h.Log, h.get),
		http.MethodPatch + " " + RouteSpace:       httpapi.Serve(h.Log, h.update),
		http.MethodPut + " " + RouteSpaceAdmin:    httpapi.Serve(h.Log, h.addAdmin),
		http.MethodDelete + " " + RouteSpaceAdmin: httpapi.Serve(h.Log, h.removeAdmin),
		http.MethodGet + " " + RouteSpaceGuests:   httpapi.Serve(h.Log, h.guests),
		http.MethodHead + " " + RouteSpaceGuests:  httpapi.Serve(h.Log, h.guests),
		http.MethodPut + " " + RouteGuestSpace:    httpapi.Serve(h.Log, h.assign),
		http.MethodDelete + " " + RouteGuestSpace: httpapi.Serve(h.Log, h.unassign),
	}.Handle(ctx, req)
}

// SpaceJSON is a space as the API shows it.
type SpaceJSON struct {
	Key             string `json:"key"`
	Name            string `json:"name"`
	AnonymousAccess bool   `json:"anonymousAccess"`
	CreatedAt       string `json:"createdAt"`
	// Admins are the account ids of the space's admins (one space's answer only).
	Admins []string `json:"admins,omitempty"`
}

// SpaceOf converts a space.
func SpaceOf(sp domain.Space) SpaceJSON {
	return SpaceJSON{Key: sp.Key, Name: sp.Name, AnonymousAccess: sp.AnonymousAccess, CreatedAt: sp.CreatedAt.UTC().Format(time.RFC3339)}
}

// SpaceListJSON is a page of a site's spaces.
type SpaceListJSON struct {
	Spaces []SpaceJSON `json:"spaces"`
	Next   string      `json:"next,omitempty"`
}

// SpaceGuestJSON is one guest assigned to a space.
type SpaceGuestJSON struct {
	AccountID string `json:"accountId"`
	Email     string `json:"email"`
}

// SpaceGuestListJSON is a page of a space's guests.
type SpaceGuestListJSON struct {
	Guests []SpaceGuestJSON `json:"guests"`
	Next   string           `json:"next,omitempty"`
}

// SpaceAdminJSON is the answer to naming or removing a space admin.
type SpaceAdminJSON struct {
	Space     string `json:"space"`
	AccountID string `json:"accountId"`
	Admin     bool   `json:"admin"`
	Changed   bool   `json:"changed"`
}

// GuestSpaceJSON is the answer to assigning, moving or unassigning a guest.
type GuestSpaceJSON struct {
	AccountID string `json:"accountId"`
	Site      string `json:"site"`
	// Space is the guest's space now (null: none); Previous the one before.
	Space    *string `json:"space"`
	Previous *string `json:"previous"`
	Moved    bool    `json:"moved"`
	Changed  bool    `json:"changed"`
}

// createSpaceRequest is the body of POST .../spaces.
type createSpaceRequest struct {
	Key             string `json:"key"`
	Name            string `json:"name"`
	AnonymousAccess bool   `json:"anonymousAccess"`
}

// updateSpaceRequest is the body of PATCH .../spaces/{spaceKey}.
type updateSpaceRequest struct {
	Name            *string `json:"name"`
	AnonymousAccess *bool   `json:"anonymousAccess"`
}

// assignRequest is the body of PUT .../guests/{accountId}/space.
type assignRequest struct {
	Space *string `json:"space"`
	Move  bool    `json:"move"`
}

func (h SpacesHandler) create(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in createSpaceRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	sp, err := h.Service.Create(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), in.Key, in.Name, in.AnonymousAccess)
	return httpapi.Reply{Status: http.StatusCreated, Body: SpaceOf(sp),
		Headers: map[string]string{"Location": "/orgs/" + c.Param("orgId") + "/sites/" + c.Param("siteId") + "/spaces/" + sp.Key}}, err
}

func (h SpacesHandler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), limit, cursor)
	out := SpaceListJSON{Spaces: make([]SpaceJSON, 0, len(page.Items)), Next: page.Next}
	for _, sp := range page.Items {
		out.Spaces = append(out.Spaces, SpaceOf(sp))
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

func (h SpacesHandler) get(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	d, err := h.Service.Get(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("spaceKey"))
	out := SpaceOf(d.Space)
	out.Admins = httpapi.NonNil(d.Admins)
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

func (h SpacesHandler) update(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in updateSpaceRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Name == nil && in.AnonymousAccess == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request changes nothing.", Fields: map[string]string{"name": "name or anonymousAccess is required"}}
	}
	sp, err := h.Service.Update(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("spaceKey"), in.Name, in.AnonymousAccess)
	return httpapi.Reply{Status: http.StatusOK, Body: SpaceOf(sp)}, err
}

func (h SpacesHandler) addAdmin(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.AddAdmin(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("spaceKey"), c.Param("accountId"))
	return httpapi.Reply{Status: http.StatusOK, Body: SpaceAdminJSON{Space: r.Space, AccountID: r.AccountID, Admin: r.Admin, Changed: r.Changed}}, err
}

func (h SpacesHandler) removeAdmin(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.RemoveAdmin(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("spaceKey"), c.Param("accountId"))
	return httpapi.Reply{Status: http.StatusOK, Body: SpaceAdminJSON{Space: r.Space, AccountID: r.AccountID, Admin: r.Admin, Changed: r.Changed}}, err
}

func (h SpacesHandler) guests(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.Guests(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("spaceKey"), limit, cursor)
	out := SpaceGuestListJSON{Guests: make([]SpaceGuestJSON, 0, len(page.Items)), Next: page.Next}
	for _, g := range page.Items {
		out.Guests = append(out.Guests, SpaceGuestJSON{AccountID: g.AccountID, Email: g.Email})
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

func (h SpacesHandler) assign(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in assignRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Space == nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{"space": "is required: the key of a space of this site"}}
	}
	r, err := h.Service.Assign(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("accountId"), *in.Space, in.Move)
	return httpapi.Reply{Status: http.StatusOK, Body: guestSpaceOf(r)}, err
}

func (h SpacesHandler) unassign(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	r, err := h.Service.Unassign(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), c.Param("accountId"))
	return httpapi.Reply{Status: http.StatusOK, Body: guestSpaceOf(r)}, err
}

func guestSpaceOf(r spaces.Assignment) GuestSpaceJSON {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return GuestSpaceJSON{AccountID: r.AccountID, Site: r.Site, Space: opt(r.After), Previous: opt(r.Before), Moved: r.Moved, Changed: r.Changed}
}
