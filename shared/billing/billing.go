// Package billing is the application service of a site's guest list and
// billing (rules §7): the guests with their status, the billing summary, and a
// recount of the counters from the access items that reports (and, when
// asked, repairs) any drift. It knows nothing of DynamoDB or API Gateway.
package billing

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The service's ports: one small interface a use, so a test's fake
// implements exactly the methods its path calls. The table's store
// implements them all (Store).

// ScopeReader reads the org, the site, the caller and their Confluence
// access, with a space when one is named (every use).
type ScopeReader interface {
	LoadSpace(ctx context.Context, orgID, siteID, callerID, space string) (domain.SpaceScope, error)
}

// GuestPager reads one page of a site's guests (of a space when one is named).
type GuestPager interface {
	GuestPage(ctx context.Context, orgID, siteID, space string, limit int, cursor string) ([]domain.Guest, string, error)
}

// SeatCounter counts a site's paid users and guests from the access items.
type SeatCounter interface {
	CountSeats(ctx context.Context, orgID, siteID string) (paid, guests int64, err error)
}

// CounterRepairer sets drifting counters to the counted values.
type CounterRepairer interface {
	RepairCounters(ctx context.Context, orgID, siteID string, seen, fixed domain.Counters, audit domain.AuditEntry) error
}

// Store is every port at once: what the table's store gives New.
type Store interface {
	ScopeReader
	GuestPager
	SeatCounter
	CounterRepairer
}

// Service runs the billing capability.
type Service struct {
	Scopes     ScopeReader
	GuestPages GuestPager
	Seats      SeatCounter
	Repairs    CounterRepairer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New is the service over one store that implements every port.
func New(st Store, now func() time.Time) *Service {
	return &Service{Scopes: st, GuestPages: st, Seats: st, Repairs: st, Now: now}
}

// GuestReads bounds the Query + BatchGetItem rounds one page of a filtered
// guest list makes: with a status filter, the guests read are filtered in
// memory (the status is the profile's, not kept on the access item), so a
// page costs ∝ the guests scanned; past this many rounds it ends early
// with a cursor.
const GuestReads = 5

// GuestQuery selects a page of a site's guests.
type GuestQuery struct {
	// Space, when set, lists the guests assigned to that space only.
	Space string
	// Status, when set, keeps the guests of that status only.
	Status string
	Limit  int
	Cursor string
}

// Guests lists a page of a site's Confluence guests by email. Org admins,
// the site's admins and its Confluence admins may list them all; a space
// admin may list the guests of their own space (?space= naming it). An
// unknown space is ENOTFOUND, a bad status EINVALID.
func (s *Service) Guests(ctx context.Context, c domain.Caller, orgID, siteID string, q GuestQuery) (domain.Page[domain.Guest], error) {
	var out domain.Page[domain.Guest]
	var status domain.GuestStatus
	if q.Status != "" {
		st, ok := ParseGuestStatus(q.Status)
		if !ok {
			return out, &domain.Error{Code: domain.EINVALID, Message: "The status filter is not valid.",
				Fields: map[string]string{"status": "one of invited, active, unassigned, suspended"}}
		}
		status = st
	}
	if q.Space != "" && !domain.ValidSpaceKey(q.Space) {
		return out, &domain.Error{Code: domain.EINVALID, Message: "The space filter is not valid.",
			Fields: map[string]string{"space": "a space key: upper-case letters and digits"}}
	}
	sc, err := s.scope(ctx, c, orgID, siteID, q.Space)
	if err != nil {
		return out, err
	}
	if q.Space != "" && sc.Space == nil {
		return out, domain.Errorf(domain.ENOTFOUND, "No such space on this site.")
	}
	if !canReadSite(sc) && !(q.Space != "" && sc.CallerAdmin && sc.Caller.Status == domain.UserActive) {
		return out, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site and its Confluence admins may list its guests; a space admin may list the guests of their own space (?space=).")
	}
	cursor := q.Cursor
	for range GuestReads {
		page, next, err := s.GuestPages.GuestPage(ctx, orgID, siteID, q.Space, q.Limit-len(out.Items), cursor)
		if err != nil {
			return out, err
		}
		for _, g := range page {
			if status == "" || g.Status() == status {
				out.Items = append(out.Items, g)
			}
		}
		out.Next, cursor = next, next
		if next == "" || len(out.Items) >= q.Limit {
			break
		}
	}
	return out, nil
}

// scope reads the site's scope and answers ENOTFOUND for an org, site or
// caller that is not there.
func (s *Service) scope(ctx context.Context, c domain.Caller, orgID, siteID, space string) (domain.SpaceScope, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidSlug(siteID) || !domain.ValidAccountID(c.AccountID) {
		return domain.SpaceScope{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	sc, err := s.Scopes.LoadSpace(ctx, orgID, siteID, c.AccountID, space)
	if err != nil {
		return sc, err
	}
	switch {
	case sc.Org == nil || sc.Caller == nil:
		return sc, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	case sc.Site == nil:
		return sc, domain.Errorf(domain.ENOTFOUND, "No such site in this organisation.")
	}
	return sc, nil
}

// canReadSite reports the callers who may read a site's guests and
// billing: org admins, the site's admins and its Confluence admins (who
// manage its access and need its free slots).
func canReadSite(sc domain.SpaceScope) bool {
	return sc.Caller.CanManageRoles(sc.Site.ID, sc.CallerAccess)
}

// Summary is a site's billing summary: org admins, the site's admins and
// its Confluence admins may read it.
func (s *Service) Summary(ctx context.Context, c domain.Caller, orgID, siteID string) (domain.Summary, error) {
	sc, err := s.scope(ctx, c, orgID, siteID, "")
	if err != nil {
		return domain.Summary{}, err
	}
	if !canReadSite(sc) {
		return domain.Summary{}, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins, admins of this site and its Confluence admins may read its billing.")
	}
	return sc.Site.Summary(), nil
}

// RecountResult is what a recount found (the counters as stored and as
// counted, the reservation of running group jobs, the counters that
// drift) and whether it repaired them.
type RecountResult struct {
	Recount
	Repaired bool
}

// Recount counts a site's Confluence guests and paid users from the access
// items and compares them with the site's counters (GuestSlots is expected
// to be 5 × paid − guests − reserved). With repair, drifting counters are
// set to the counted values, with an audit entry, in one transaction
// conditioned on the counters being still what was read (ECONFLICT if they
// moved meanwhile) and on no group job holding a reservation (refused
// before any write while one does). The counts come from an index, which is
// eventually consistent: a recount during heavy writes may miss or see
// changes in flight. Org and site admins only.
func (s *Service) Recount(ctx context.Context, c domain.Caller, orgID, siteID string, repair bool) (RecountResult, error) {
	var res RecountResult
	sc, err := s.scope(ctx, c, orgID, siteID, "")
	if err != nil {
		return res, err
	}
	if !sc.Caller.IsSiteAdmin(siteID) {
		return res, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins and admins of this site may recount its billing.")
	}
	paid, guests, err := s.Seats.CountSeats(ctx, orgID, siteID)
	if err != nil {
		return res, err
	}
	res.Recount = RecountOf(*sc.Site, paid, guests)
	if !repair || len(res.Drift) == 0 {
		return res, nil
	}
	if res.Reserved != 0 || res.ReservedUsers != 0 {
		return res, domain.Errorf(domain.ECONFLICT, "A group job holds %d guest slots and %d user slots on this site; repair once it has finished.", res.Reserved, res.ReservedUsers)
	}
	counters := func(k domain.Counters) map[string]any {
		return map[string]any{"paidUsers": k.PaidUsers, "guests": k.Guests, "guestSlots": k.GuestSlots, "userLimit": k.UserLimit, "userSlots": k.UserSlots}
	}
	at := time.Now().UTC()
	if s.Now != nil {
		at = s.Now().UTC()
	}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionBillingRecount, domain.SiteTarget(siteID), c.RequestID, at, counters(res.Stored), counters(res.Counted))
	if err := s.Repairs.RepairCounters(ctx, orgID, siteID, res.Stored, res.Counted, audit); err != nil {
		return res, err
	}
	res.Repaired = true
	return res, nil
}
