// Package audit is the application service of the audit log's reads (rules §10):
// an organisation's administrative changes, newest first, filtered by actor,
// target and time. Every change writes its own entry in its transaction
// (see the store); this package only reads them. It knows nothing of
// DynamoDB or API Gateway.
package audit

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// CallerReader reads the org and the caller (the one check before a read).
type CallerReader interface {
	LoadCaller(ctx context.Context, orgID, callerID string) (domain.Scope, error)
}

// LogReader reads a page of an organisation's audit entries.
type LogReader interface {
	AuditLog(ctx context.Context, orgID string, q domain.AuditQuery) (domain.Page[domain.AuditEntry], error)
}

// Store is every port at once: what the table's store gives New.
type Store interface {
	CallerReader
	LogReader
}

// Service runs the audit log's reads.
type Service struct {
	Callers CallerReader
	Entries LogReader
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New is the service over one store that implements every port.
func New(st Store, now func() time.Time) *Service {
	return &Service{Callers: st, Entries: st, Now: now}
}

// Retention is how far back the log goes (entries expire after 400 days):
// the default and earliest From.
const Retention = 400 * 24 * time.Hour

// Query is a read of the log as the API gives it: filters and page.
type Query struct {
	Actor, Target string
	// From and To are RFC 3339 times ("" = the whole retention, up to now).
	From, To string
	Limit    int
	Cursor   string
}

// Log reads a page of an organisation's audit log, newest first. Only org
// admins may: the log is the organisation's, and its entries name org-wide
// targets (groups, users) that no site admin administers.
func (s *Service) Log(ctx context.Context, c domain.Caller, orgID string, q Query) (domain.Page[domain.AuditEntry], error) {
	var out domain.Page[domain.AuditEntry]
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	aq := domain.AuditQuery{Actor: q.Actor, Target: q.Target, From: now.Add(-Retention), To: now, Limit: q.Limit, Cursor: q.Cursor}
	bad := map[string]string{}
	if q.Actor != "" && !ValidActor(q.Actor) {
		bad["actor"] = "an account id, or system"
	}
	if q.Target != "" && !domain.ValidAuditTarget(q.Target) {
		bad["target"] = "<kind>/<id>, kind one of user, group, space, invitation, site, org"
	}
	for name, p := range map[string]struct {
		s   string
		dst *time.Time
	}{"from": {q.From, &aq.From}, "to": {q.To, &aq.To}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.s)
		if err != nil {
			bad[name] = "an RFC 3339 time, e.g. 2026-01-31T09:00:00Z"
			continue
		}
		*p.dst = t.UTC()
	}
	if len(bad) == 0 {
		if aq.From.Before(now.Add(-Retention)) {
			aq.From = now.Add(-Retention) // nothing older is kept
		}
		if aq.To.After(now) {
			aq.To = now
		}
	}
	if len(bad) > 0 {
		return out, &domain.Error{Code: domain.EINVALID, Message: "The audit log filters are not valid.", Fields: bad}
	}
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return out, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, err := s.Callers.LoadCaller(ctx, orgID, c.AccountID)
	if err != nil {
		return out, err
	}
	if sc.Org == nil || sc.Caller == nil {
		return out, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !sc.Caller.IsOrgAdmin() {
		return out, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins may read the audit log.")
	}
	if aq.From.After(aq.To) {
		return out, nil // a window that ends before it starts (or starts in the future) holds no entry
	}
	return s.Entries.AuditLog(ctx, orgID, aq)
}

// ValidActor reports an actor the audit log can be filtered by: an account
// id, or domain.ActorSystem.
func ValidActor(s string) bool { return s == domain.ActorSystem || domain.ValidAccountID(s) }
