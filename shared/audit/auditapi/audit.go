package auditapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/audit"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// AuditService reads an organisation's audit log (audit.Service).
type AuditService interface {
	Log(ctx context.Context, c domain.Caller, orgID string, q audit.Query) (domain.Page[domain.AuditEntry], error)
}

// AuditHandler serves the audit log route (AuditFunction).
type AuditHandler struct {
	Service AuditService
	Log     *slog.Logger
}

// RouteAuditLog is the route AuditHandler serves, as template.yaml names it.
const RouteAuditLog = "/orgs/{orgId}/audit"

// Handle implements the Lambda handler.
func (h AuditHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{http.MethodGet + " " + RouteAuditLog: httpapi.Serve(h.Log, h.list)}.Handle(ctx, req)
}

// AuditEntryJSON is one administrative change.
type AuditEntryJSON struct {
	ID        string         `json:"id"`
	At        string         `json:"at"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Before    map[string]any `json:"before,omitempty"`
	After     map[string]any `json:"after,omitempty"`
	RequestID string         `json:"requestId,omitempty"`
}

// AuditLogJSON is a page of the audit log, newest first.
type AuditLogJSON struct {
	Entries []AuditEntryJSON `json:"entries"`
	Next    string           `json:"next,omitempty"`
}

func (h AuditHandler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	qs := c.Req.QueryStringParameters
	for _, f := range []string{"actor", "target", "from", "to"} {
		if v, ok := qs[f]; ok && v == "" {
			return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "A filter is empty.", Fields: map[string]string{f: "must not be empty"}}
		}
	}
	page, err := h.Service.Log(ctx, c.Caller, c.Param("orgId"), audit.Query{Actor: qs["actor"], Target: qs["target"], From: qs["from"], To: qs["to"], Limit: limit, Cursor: cursor})
	out := AuditLogJSON{Entries: make([]AuditEntryJSON, 0, len(page.Items)), Next: page.Next}
	for _, a := range page.Items {
		out.Entries = append(out.Entries, AuditEntryJSON{ID: a.ID, At: a.At.UTC().Format(time.RFC3339Nano), Actor: a.Actor, Action: a.Action,
			Target: a.Target, Before: a.Before, After: a.After, RequestID: a.RequestID})
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}
