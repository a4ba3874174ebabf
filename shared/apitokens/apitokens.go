// Package apitokens is the application service of users' API tokens (rules §9):
// a user makes, lists and revokes their own tokens; the access decision
// checks them at use time (package decision). It knows nothing of DynamoDB
// or API Gateway.
//
// Rules decided here:
//   - Only the user themselves, while active, makes a token: a token is a
//     credential of its user, so no admin makes one for someone else.
//   - The user (active) and the org's admins list a user's tokens (never
//     the secrets, which are not stored) and revoke them: an admin can cut
//     off a credential without removing the user.
//   - The secret is shown once, in the answer that makes the token; only
//     its SHA-256 is stored. A token lasts 1 to 365 days (default 90).
//   - A user holds at most domain.MaxAPITokens tokens; expired ones count
//     until revoked (the list shows them as expired). The cap holds under
//     concurrent creates (a count on the profile, conditioned in the same
//     transaction).
package apitokens

import (
	"context"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// The service's ports, one per use: every action reads its scope
// (ScopeLoader), then Create writes (Creator), List pages (Lister) or Revoke
// deletes (Revoker). A test's fake implements only those its path calls.

// ScopeLoader reads what a token request acts on: the org, the caller, the
// user whose tokens they are and (tokenID not empty) the token.
type ScopeLoader interface {
	LoadAPITokenScope(ctx context.Context, orgID, callerID, accountID, tokenID string) (domain.APITokenScope, error)
}

// Creator writes a new token with its audit entry, under the user's cap
// (ECONFLICT at it).
type Creator interface {
	CreateAPIToken(ctx context.Context, c domain.APITokenCreation) error
}

// Lister pages a user's tokens.
type Lister interface {
	APITokens(ctx context.Context, orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error)
}

// Revoker deletes a token with its audit entry.
type Revoker interface {
	RevokeAPIToken(ctx context.Context, r domain.APITokenRevocation) error
}

// Store is every port together, as the table implements them (shared/store).
type Store interface {
	ScopeLoader
	Creator
	Lister
	Revoker
}

// Service runs the API tokens capability.
type Service struct {
	Store Store
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Created is a new token with its secret, which is never shown again.
type Created struct {
	Token  domain.APIToken
	Secret string
}

// load reads the scope and checks the caller's power: self (active) always,
// org admins when admins may.
func (s *Service) load(ctx context.Context, c domain.Caller, orgID, accountID, tokenID string, admins bool) (domain.APITokenScope, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.APITokenScope{}, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	if !domain.ValidAccountID(accountID) {
		return domain.APITokenScope{}, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	sc, err := s.Store.LoadAPITokenScope(ctx, orgID, c.AccountID, accountID, tokenID)
	switch {
	case err != nil:
		return sc, err
	case sc.Org == nil || sc.Caller == nil:
		return sc, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	case c.AccountID == accountID && sc.Caller.Status == domain.UserActive:
	case admins && sc.Caller.IsOrgAdmin():
	case !admins:
		return sc, domain.Errorf(domain.EFORBIDDEN, "Only active users make API tokens, and only for themselves.")
	default:
		return sc, domain.Errorf(domain.EFORBIDDEN, "Only the user themselves and organisation admins may see or revoke a user's API tokens.")
	}
	if sc.User == nil {
		return sc, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	return sc, nil
}

// Create makes a token for the caller (accountID must be the caller) with
// label and a lifetime of days (nil: the default), and answers its secret
// once. ECONFLICT at the cap.
func (s *Service) Create(ctx context.Context, c domain.Caller, orgID, accountID, label string, days *int) (Created, error) {
	d := domain.DefaultAPITokenDays
	if days != nil {
		d = *days
	}
	bad := domain.ValidateAPIToken(label, d)
	label = strings.TrimSpace(label)
	if days != nil && *days == 0 {
		if bad == nil {
			bad = map[string]string{}
		}
		bad["expiresInDays"] = "from 1 to 365 days"
	}
	if bad != nil {
		return Created{}, &domain.Error{Code: domain.EINVALID, Message: "The API token is not valid.", Fields: bad}
	}
	if _, err := s.load(ctx, c, orgID, accountID, "", false); err != nil {
		return Created{}, err
	}
	now := s.now()
	secret, hash := domain.NewAPITokenSecret()
	t := domain.APIToken{ID: domain.NewID(), OrgID: orgID, AccountID: accountID, Label: label, Hash: hash, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, d)}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionAPITokenCreate, domain.UserTarget(accountID), c.RequestID, now, nil, describe(t))
	if err := s.Store.CreateAPIToken(ctx, domain.APITokenCreation{Token: t, Audit: audit}); err != nil {
		return Created{}, err
	}
	return Created{Token: t, Secret: secret}, nil
}

// List answers a page of a user's tokens, without secrets.
func (s *Service) List(ctx context.Context, c domain.Caller, orgID, accountID string, limit int, cursor string) (domain.Page[domain.APIToken], error) {
	if _, err := s.load(ctx, c, orgID, accountID, "", true); err != nil {
		return domain.Page[domain.APIToken]{}, err
	}
	return s.Store.APITokens(ctx, orgID, accountID, limit, cursor)
}

// Revoke deletes one of a user's tokens: it stops working at once (the
// decision reads it at use time).
func (s *Service) Revoke(ctx context.Context, c domain.Caller, orgID, accountID, tokenID string) (domain.APIToken, error) {
	if !validTokenID(tokenID) {
		return domain.APIToken{}, domain.Errorf(domain.ENOTFOUND, "No such API token.")
	}
	sc, err := s.load(ctx, c, orgID, accountID, tokenID, true)
	if err != nil {
		return domain.APIToken{}, err
	}
	if sc.Token == nil {
		return domain.APIToken{}, domain.Errorf(domain.ENOTFOUND, "No such API token.")
	}
	t := *sc.Token
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionAPITokenRevoke, domain.UserTarget(accountID), c.RequestID, s.now(), describe(t), nil)
	return t, s.Store.RevokeAPIToken(ctx, domain.APITokenRevocation{Token: t, Audit: audit})
}

// describe is what the audit log keeps of a token: never its secret nor
// its hash.
func describe(t domain.APIToken) map[string]any {
	return map[string]any{"tokenId": t.ID, "label": t.Label, "expiresAt": t.ExpiresAt.Format(time.RFC3339)}
}

// validTokenID reports an id NewID could have made (32 hex digits).
func validTokenID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
