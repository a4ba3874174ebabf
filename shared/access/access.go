// Package access is the application service of the access decision (rules §8):
// may an account use a site's product (and a space) from a client? It checks
// the question, reads everything it names at once and hands it to the pure
// rule domain.Decide. It knows nothing of DynamoDB or API Gateway, and it is
// the hot path of every product page load: one store read, and at most one
// small write a user a day (their "last active" day, on the first decision
// that allows them that day).
package access

import (
	"context"
	"log/slog"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// ScopeReader is the decision's one read: the keys a question names, the
// API token presented included (store.LoadDecision).
type ScopeReader interface {
	LoadDecision(ctx context.Context, orgID, siteID, accountID string, p domain.Product, space, apiTokenHash string) (domain.DecisionScope, error)
}

// LastActiveWriter records the user's last active day (store.TouchLastActive:
// written only when older than day, reporting whether it wrote).
type LastActiveWriter interface {
	TouchLastActive(ctx context.Context, orgID, accountID string, day time.Time) (bool, error)
}

// Store is every port at once: what the table's store gives New.
type Store interface {
	ScopeReader
	LastActiveWriter
}

// Service answers access decisions.
type Service struct {
	Scopes     ScopeReader
	LastActive LastActiveWriter
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives the failures of the last-active write and the questions
	// refused for being outside the token's grant (nil: slog.Default).
	Log *slog.Logger
}

// New is the service over one store that implements every port.
func New(st Store, now func() time.Time, log *slog.Logger) *Service {
	return &Service{Scopes: st, LastActive: st, Now: now, Log: log}
}

// Question is one access decision as a product asks it; the strings are
// checked by Decide.
type Question struct {
	OrgID, SiteID, Product, AccountID string
	// Client is web, mobile or api.
	Client string
	// Space is a space key, "" for the product as a whole.
	Space string
	// APIToken is the secret of the API token presented (client api; the
	// product passes it in a header, never in the query string).
	APIToken string
	// Grant is what the asking product's token was issued for. A question
	// it does not cover (another product, org or site; or a token bound to
	// nothing) is answered exactly as one about an unknown org, before any
	// read, so its answer and its timing reveal nothing of that tenant.
	Grant domain.ProductGrant
}

// Decide answers a question. Bad input is EINVALID naming each bad field
// (product, client, space); an unknown org, site or account is ENOTFOUND:
// the product asked about something that does not exist, which is not a
// deny. An unknown space is a decision (domain.Decide). A question outside
// q.Grant is ENOTFOUND too, with the unknown org's very message, and reads
// nothing.
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
		return domain.Decision{}, noSuchOrgOrSite()
	}
	if !domain.ValidAccountID(q.AccountID) {
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No such account in this organisation.")
	}
	if !q.Grant.Covers(p, q.OrgID, q.SiteID) {
		// For operators: a token bound to nothing was issued before tokens
		// were bound, and its product must get a new one.
		s.log().InfoContext(ctx, "access question outside the token's grant", "product", p, "org", q.OrgID, "site", q.SiteID,
			"grantProduct", q.Grant.Product, "bound", q.Grant.Bound())
		return domain.Decision{}, noSuchOrgOrSite()
	}
	// The token is read by the hash of its secret, in the same one read; a
	// secret of the wrong shape cannot match and is not looked up.
	hash := ""
	if c == domain.ClientAPI && domain.ValidAPITokenShape(q.APIToken) {
		hash = domain.HashToken(q.APIToken)
	}
	sc, err := s.Scopes.LoadDecision(ctx, q.OrgID, q.SiteID, q.AccountID, p, q.Space, hash)
	if err != nil {
		return domain.Decision{}, err
	}
	switch {
	case sc.Org == nil || sc.Site == nil:
		return domain.Decision{}, noSuchOrgOrSite()
	case sc.User == nil:
		return domain.Decision{}, domain.Errorf(domain.ENOTFOUND, "No account %q in this organisation.", q.AccountID)
	}
	now := s.now()
	d := domain.Decide(domain.DecisionInputOf(sc, c, q.Space, now))
	if d.Allow {
		s.touch(ctx, sc.User, now)
	}
	return d, nil
}

// touch records the user's last active day (UTC) when the profile read has
// an older one: at most one write a user a day (the store's condition
// settles decisions racing on the same day). Its failure is logged, never
// the decision's.
func (s *Service) touch(ctx context.Context, u *domain.User, now time.Time) {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if !u.LastActive.Before(day) {
		return
	}
	if _, err := s.LastActive.TouchLastActive(ctx, u.OrgID, u.AccountID, day); err != nil {
		s.log().WarnContext(ctx, "last active not recorded", "org", u.OrgID, "account", u.AccountID, "err", err)
	}
}

// noSuchOrgOrSite is the one answer to a question about an org or site that
// does not exist, and to one outside the asking token's grant: the two must
// not be told apart.
func noSuchOrgOrSite() error {
	return domain.Errorf(domain.ENOTFOUND, "No such organisation or site.")
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
