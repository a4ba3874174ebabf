package billingapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/billing"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// BillingService runs a site's guest list and billing (billing.Service).
type BillingService interface {
	Guests(ctx context.Context, c domain.Caller, orgID, siteID string, q billing.GuestQuery) (domain.Page[domain.Guest], error)
	Summary(ctx context.Context, c domain.Caller, orgID, siteID string) (domain.Summary, error)
	Recount(ctx context.Context, c domain.Caller, orgID, siteID string, repair bool) (billing.RecountResult, error)
}

// BillingHandler serves the guest list and billing routes (BillingFunction).
type BillingHandler struct {
	Service BillingService
	Log     *slog.Logger
}

// The routes BillingHandler serves, as template.yaml names them.
const (
	RouteSiteGuests     = "/orgs/{orgId}/sites/{siteId}/guests"
	RouteSiteBilling    = "/orgs/{orgId}/sites/{siteId}/billing"
	RouteBillingRecount = "/orgs/{orgId}/sites/{siteId}/billing/recount"
)

// Handle implements the Lambda handler.
func (h BillingHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodGet + " " + RouteSiteGuests:      httpapi.Serve(h.Log, h.guests),
		http.MethodGet + " " + RouteSiteBilling:     httpapi.Serve(h.Log, h.summary),
		http.MethodPost + " " + RouteBillingRecount: httpapi.Serve(h.Log, h.recount),
	}.Handle(ctx, req)
}

// GuestJSON is one row of a site's guest list.
type GuestJSON struct {
	AccountID   string `json:"accountId"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName,omitempty"`
	// Status is invited, active (with a space), unassigned (without) or suspended.
	Status string `json:"status"`
	Space  string `json:"space,omitempty"`
	// Direct is the guest's own Confluence role (none when only groups give guest).
	Direct string `json:"direct"`
	// Groups are the groups that give the guest role.
	Groups   []string `json:"groups"`
	External bool     `json:"external"`
}

// GuestListJSON is a page of a site's guests.
type GuestListJSON struct {
	Guests []GuestJSON `json:"guests"`
	Next   string      `json:"next,omitempty"`
}

// BillingJSON is a site's billing summary.
type BillingJSON struct {
	Site           string `json:"site"`
	PaidUsers      int64  `json:"paidUsers"`
	Guests         int64  `json:"guests"`
	GuestLimit     int64  `json:"guestLimit"`
	FreeGuestSlots int64  `json:"freeGuestSlots"`
	// OverLimit is set when guests exceed 5 × paid users (paid users were
	// removed): no guest is deleted, new ones wait.
	OverLimit bool `json:"overLimit"`
	// Reserved is the guest slots running group jobs hold.
	Reserved int64 `json:"reserved"`
	// UserLimit is the most paid users plus guests the site may have;
	// FreeUserSlots how many more fit; ReservedUsers the user slots
	// running group jobs hold.
	UserLimit     int64 `json:"userLimit"`
	FreeUserSlots int64 `json:"freeUserSlots"`
	ReservedUsers int64 `json:"reservedUsers"`
}

// CountersJSON are a site's billing counters.
type CountersJSON struct {
	PaidUsers  int64 `json:"paidUsers"`
	Guests     int64 `json:"guests"`
	GuestSlots int64 `json:"guestSlots"`
	UserLimit  int64 `json:"userLimit"`
	UserSlots  int64 `json:"userSlots"`
}

// RecountJSON is what a recount found and did.
type RecountJSON struct {
	Site     string       `json:"site"`
	Stored   CountersJSON `json:"stored"`
	Counted  CountersJSON `json:"counted"`
	Reserved int64        `json:"reserved"`
	// ReservedUsers is the user slots running group jobs hold.
	ReservedUsers int64 `json:"reservedUsers"`
	// Drift names the counters whose stored value differs from the count.
	Drift    []string `json:"drift"`
	Repaired bool     `json:"repaired"`
	// Note says what a recount can and cannot see.
	Note string `json:"note"`
}

// recountRequest is the optional body of POST .../billing/recount.
type recountRequest struct {
	Repair bool `json:"repair"`
}

// RecountNote is said with every recount: the counts come from an
// eventually consistent index.
const RecountNote = "Counted from an eventually consistent index: a recount while access is changing may miss or see changes in flight. Repair only writes when the counters have not moved since they were read."

func (h BillingHandler) guests(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	q := billing.GuestQuery{Space: c.Req.QueryStringParameters["space"], Status: c.Req.QueryStringParameters["status"], Limit: limit, Cursor: cursor}
	for _, f := range []string{"space", "status"} {
		if v, ok := c.Req.QueryStringParameters[f]; ok && v == "" {
			return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "A filter is empty.", Fields: map[string]string{f: "must not be empty"}}
		}
	}
	page, err := h.Service.Guests(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), q)
	out := GuestListJSON{Guests: make([]GuestJSON, 0, len(page.Items)), Next: page.Next}
	for _, g := range page.Items {
		direct := string(g.Access.Direct)
		if direct == "" {
			direct = string(domain.RoleNone)
		}
		out.Guests = append(out.Guests, GuestJSON{AccountID: g.AccountID, Email: g.Email, DisplayName: g.DisplayName, Status: string(g.Status()),
			Space: g.Access.Space, Direct: direct, Groups: httpapi.NonNil(g.Access.GuestSources()), External: g.External})
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

func (h BillingHandler) summary(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	s, err := h.Service.Summary(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"))
	return httpapi.Reply{Status: http.StatusOK, Body: BillingJSON{Site: c.Param("siteId"), PaidUsers: s.PaidUsers, Guests: s.Guests, GuestLimit: s.GuestLimit,
		FreeGuestSlots: s.FreeGuestSlots, OverLimit: s.OverLimit, Reserved: s.Reserved,
		UserLimit: s.UserLimit, FreeUserSlots: s.FreeUserSlots, ReservedUsers: s.ReservedUsers}}, err
}

func (h BillingHandler) recount(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in recountRequest
	if c.Req.Body != "" {
		if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
			return httpapi.Reply{}, err
		}
	}
	r, err := h.Service.Recount(ctx, c.Caller, c.Param("orgId"), c.Param("siteId"), in.Repair)
	counters := func(k domain.Counters) CountersJSON {
		return CountersJSON{PaidUsers: k.PaidUsers, Guests: k.Guests, GuestSlots: k.GuestSlots, UserLimit: k.UserLimit, UserSlots: k.UserSlots}
	}
	return httpapi.Reply{Status: http.StatusOK, Body: RecountJSON{Site: c.Param("siteId"), Stored: counters(r.Stored), Counted: counters(r.Counted),
		Reserved: r.Reserved, ReservedUsers: r.ReservedUsers, Drift: httpapi.NonNil(r.Drift), Repaired: r.Repaired, Note: RecountNote}}, err
}
