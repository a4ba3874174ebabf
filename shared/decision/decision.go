// Package decision is the application service of the access decision (§8):
// may an account use a site's product (and a space) from a client? It checks
// the question, reads everything it names at once and hands it to the pure
// rule domain.Decide. It knows nothing of DynamoDB or API Gateway, and it is
// the hot path of every product page load: one store read, nothing else.
package decision

import (
	"context"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Store is what the service needs from persistence: one read of the keys a
// question names (store.LoadDecision).
type Store interface {
	LoadDecision(ctx context.Context, orgID, siteID, accountID string, p domain.Product, space string) (domain.DecisionScope, error)
}

// Service answers access decisions.
type Service struct {
	Store Store
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Question is one access decision as a product asks it; the strings are
// checked by Decide.
type Question struct {
	OrgID, SiteID, Product, AccountID string
	// Client is web, mobile or api.
	Client string
	// Space is a space key, "" for the product as a whole.
	Space string
}

// Decide answers a question. Bad input is EINVALID naming each bad field
// (product, client, space); an unknown org, site or account is ENOTFOUND:
// the product asked about something that does not exist, which is not a
// deny. An unknown space is a decision (domain.Decide).
func (s *Service) Decide(ctx context.Context, q Question) (domain.Decision, error) {
	bad := map[string]string{}
	p, ok := domain.ParseProduct(q.Product)
	if !ok {
		bad["product"] = "one of confluence, jira, jira-service-management"
	}
	c, ok := domain.ParseClient(q.Client)
	if !ok {
		bad["client"] = "one of web, mobile, api"
	}
	if q.Space != "" && !domain.ValidSpaceKey(q.Space) {
		bad["space"] = "a space key: upper-case letters and digits, starting with a letter"
	}
	if len(bad) > 0 {
		return domain.Decision{}, &domain.Error{Code: domain.EINVALID, Message: "The access question is not valid.", Fields: bad}
	}
	if !domain.ValidSlug(q.OrgID) || !domain.ValidSlug(q.SiteID) {
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	}
	if !domain.ValidAccountID(q.AccountID) {
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No such account in this organisation.")
	}
	sc, err := s.Store.LoadDecision(ctx, q.OrgID, q.SiteID, q.AccountID, p, q.Space)
	if err != nil {
		return domain.Decision{}, err
	}
	switch {
	case sc.Org == nil || sc.Site == nil:
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
	case sc.User == nil:
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No account %q in this organisation.", q.AccountID)
	}
	return domain.Decide(domain.DecisionInputOf(sc, c, q.Space, s.now())), nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
