// Package extpolicy is the application service of an organisation's
// external user policy (rules §9): reading and changing the policy and the test
// policy, previewing a change before applying it, and resetting sessions
// (every external user's, or one user's). It knows nothing of DynamoDB or
// API Gateway.
//
// Rules decided here:
//   - Only active org admins may read or change the policy, preview a
//     change or reset sessions (the policy is the organisation's).
//   - A change is a whole replacement of the settings; one that changes
//     nothing writes nothing (no audit entry) and answers changed=false.
//   - A change may name the version it was made from: a stale one is 409
//     (conflict, with the current version), nothing written. Without one,
//     the change applies to whatever version it reads (re-read and retried
//     when another change lands in between).
//   - A test policy names 1 to 5 distinct existing external users (by
//     account id): a sixth is 400 on "users", an unknown one 404 naming
//     it, an internal one 400 naming it. Clearing is DELETE.
//   - The org policy's preview skips the users the test policy names (an
//     org policy change does not affect them) and counts them; a test
//     policy's preview covers the users named before and after.
//   - Resetting one user's sessions works on any existing user of the org
//     (the decision applies it only while they are external).
package extpolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// ScopeLoader reads the org, the caller and the named users' profiles
// (every route).
type ScopeLoader interface {
	LoadPolicyScope(ctx context.Context, orgID, callerID string, accountIDs []string) (domain.Scope, map[string]domain.User, error)
}

// ExternalLister reads a page of an org's external users (the preview).
type ExternalLister interface {
	ExternalUsers(ctx context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error)
}

// PolicyChanger writes a change of the policy, the test policy or a reset
// of every session, under the version read.
type PolicyChanger interface {
	ChangePolicy(ctx context.Context, ch domain.PolicyChange) error
}

// SessionResetter resets one user's sessions.
type SessionResetter interface {
	ResetUserSession(ctx context.Context, r domain.UserSessionReset) error
}

// Ports are the service's persistence, one small interface a use.
type Ports struct {
	Scopes   ScopeLoader
	External ExternalLister
	Changes  PolicyChanger
	Resets   SessionResetter
}

// Store is every port at once (the table's store implements it).
type Store interface {
	ScopeLoader
	ExternalLister
	PolicyChanger
	SessionResetter
}

// PortsOf takes every port from one store.
func PortsOf(st Store) Ports {
	return Ports{Scopes: st, External: st, Changes: st, Resets: st}
}

// Service runs the external user policy capability.
type Service struct {
	Ports
	Now func() time.Time
}

const maxAttempts = 4

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// View is an org's external user policy as read or written: the org (its
// Policy, TestPolicy, PolicyVersion, SessionsResetAt) and the test
// policy's users' profiles (absent when gone). Changed reports a write.
type View struct {
	Org       domain.Org
	TestUsers map[string]domain.User
	Changed   bool
}

// load reads the org, the caller and the named profiles and checks that
// the caller is an active org admin.
func (s *Service) load(ctx context.Context, c domain.Caller, orgID string, ids []string) (domain.Org, map[string]domain.User, error) {
	if !domain.ValidSlug(orgID) || !domain.ValidAccountID(c.AccountID) {
		return domain.Org{}, nil, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	}
	sc, users, err := s.Scopes.LoadPolicyScope(ctx, orgID, c.AccountID, ids)
	switch {
	case err != nil:
		return domain.Org{}, nil, err
	case sc.Org == nil || sc.Caller == nil:
		return domain.Org{}, nil, domain.Errorf(domain.ENOTFOUND, "No such organisation.")
	case !sc.Caller.IsOrgAdmin():
		return domain.Org{}, nil, domain.Errorf(domain.EFORBIDDEN, "Only organisation admins may manage the external user policy.")
	}
	return *sc.Org, users, nil
}

func testUsers(o domain.Org) []string {
	if o.TestPolicy == nil {
		return nil
	}
	return o.TestPolicy.Users
}

// view answers the org's policy with its test users' profiles, read when
// not in users already (a second BatchGetItem).
func (s *Service) view(ctx context.Context, c domain.Caller, o domain.Org, users map[string]domain.User, changed bool) (View, error) {
	v := View{Org: o, TestUsers: map[string]domain.User{}, Changed: changed}
	var missing []string
	for _, id := range testUsers(o) {
		if u, ok := users[id]; ok {
			v.TestUsers[id] = u
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		_, more, err := s.Scopes.LoadPolicyScope(ctx, o.ID, c.AccountID, missing)
		if err != nil {
			return v, err
		}
		for _, id := range missing {
			if u, ok := more[id]; ok {
				v.TestUsers[id] = u
			}
		}
	}
	return v, nil
}

// Get answers an org's external user policy.
func (s *Service) Get(ctx context.Context, c domain.Caller, orgID string) (View, error) {
	o, users, err := s.load(ctx, c, orgID, nil)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, c, o, users, false)
}

func invalid(field, why string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.", Fields: map[string]string{field: why}}
}

func validate(p domain.PolicySettings) error {
	if f := p.Validate(); f != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "The policy is not valid.", Fields: f}
	}
	return nil
}

// stale refuses a change made from another version than the current one.
func stale(o domain.Org, version *int) error {
	if version != nil && *version != o.PolicyVersion {
		return &domain.Error{Code: domain.ECONFLICT, Message: fmt.Sprintf("The external user policy is at version %d, not %d: read it again and retry.", o.PolicyVersion, *version),
			Extra: map[string]any{"version": o.PolicyVersion}}
	}
	return nil
}

// apply reads, computes and writes one change, re-reading when another
// change landed in between (unless the caller named the version).
func (s *Service) apply(ctx context.Context, c domain.Caller, orgID string, ids []string, version *int,
	change func(o domain.Org, users map[string]domain.User) (next domain.Org, action string, before, after map[string]any, err error)) (View, error) {
	for attempt := 1; ; attempt++ {
		o, users, err := s.load(ctx, c, orgID, ids)
		if err != nil {
			return View{}, err
		}
		if err := stale(o, version); err != nil {
			return View{}, err
		}
		next, action, before, after, err := change(o, users)
		if err != nil {
			return View{}, err
		}
		if action == "" {
			return s.view(ctx, c, o, users, false)
		}
		next.PolicyVersion = o.PolicyVersion + 1
		before["version"], after["version"] = o.PolicyVersion, next.PolicyVersion
		audit := domain.NewAudit(orgID, c.AccountID, action, domain.OrgTarget(orgID), c.RequestID, s.now(), before, after)
		err = s.Changes.ChangePolicy(ctx, domain.PolicyChange{Org: next, FromVersion: o.PolicyVersion, CallerID: c.AccountID,
			Rescan: VerificationChanged(o, next), Audit: audit})
		if errors.Is(err, domain.ErrPolicyChanged) && version == nil && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return View{}, err
		}
		return s.view(ctx, c, next, users, true)
	}
}

// SetPolicy replaces the org's external user policy (PUT): one write of
// the org item with the audit entry (before and after) and, when two-step
// verification or its frequency changed, the org's rescan request.
func (s *Service) SetPolicy(ctx context.Context, c domain.Caller, orgID string, p domain.PolicySettings, version *int) (View, error) {
	if err := validate(p); err != nil {
		return View{}, err
	}
	return s.apply(ctx, c, orgID, nil, version, func(o domain.Org, _ map[string]domain.User) (domain.Org, string, map[string]any, map[string]any, error) {
		if o.Policy == p {
			return o, "", nil, nil, nil
		}
		next := o
		next.Policy = p
		return next, domain.ActionPolicyUpdate, map[string]any{"policy": SettingsMap(o.Policy)}, map[string]any{"policy": SettingsMap(p)}, nil
	})
}

// checkTestUsers checks the account ids a test policy names: 1 to 5,
// distinct, well formed.
func checkTestUsers(ids []string) error {
	switch {
	case len(ids) == 0:
		return invalid("users", "name 1 to 5 external users by account id (DELETE clears the test policy)")
	case len(ids) > domain.MaxTestPolicyUsers:
		return invalid("users", fmt.Sprintf("a test policy names at most %d users; %d given", domain.MaxTestPolicyUsers, len(ids)))
	}
	for i, id := range ids {
		f := fmt.Sprintf("users[%d]", i)
		if !domain.ValidAccountID(id) {
			return invalid(f, "not an account id")
		}
		if slices.Index(ids, id) != i {
			return invalid(f, id+" is named twice")
		}
	}
	return nil
}

// checkExternal checks that each named account is an existing external
// user of the org: 404 naming the unknown, 400 naming an internal one.
func checkExternal(o domain.Org, ids []string, users map[string]domain.User) error {
	var unknown []string
	for _, id := range ids {
		if _, ok := users[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return &domain.Error{Code: domain.ENOTFOUND, Message: fmt.Sprintf("No such user in this organisation: %v.", unknown),
			Extra: map[string]any{"accountIds": unknown}}
	}
	for i, id := range ids {
		if u := users[id]; !o.IsExternal(u.Email) {
			return invalid(fmt.Sprintf("users[%d]", i), u.Email+" is not an external user: its domain is verified")
		}
	}
	return nil
}

// SetTestPolicy sets the test policy (PUT): settings applying instead of
// the org's to 1 to 5 named existing external users.
func (s *Service) SetTestPolicy(ctx context.Context, c domain.Caller, orgID string, p domain.PolicySettings, ids []string, version *int) (View, error) {
	if err := validate(p); err != nil {
		return View{}, err
	}
	if err := checkTestUsers(ids); err != nil {
		return View{}, err
	}
	tp := &domain.TestPolicy{Settings: p, Users: slices.Clone(ids)}
	return s.apply(ctx, c, orgID, ids, version, func(o domain.Org, users map[string]domain.User) (domain.Org, string, map[string]any, map[string]any, error) {
		if err := checkExternal(o, ids, users); err != nil {
			return o, "", nil, nil, err
		}
		if SameTestPolicy(o.TestPolicy, tp) {
			return o, "", nil, nil, nil
		}
		return o.WithTestPolicy(tp), domain.ActionTestPolicyUpdate, map[string]any{"testPolicy": testMap(o.TestPolicy)}, map[string]any{"testPolicy": testMap(tp)}, nil
	})
}

// ClearTestPolicy removes the test policy (DELETE): its users are under
// the org's policy again.
func (s *Service) ClearTestPolicy(ctx context.Context, c domain.Caller, orgID string, version *int) (View, error) {
	return s.apply(ctx, c, orgID, nil, version, func(o domain.Org, _ map[string]domain.User) (domain.Org, string, map[string]any, map[string]any, error) {
		if o.TestPolicy == nil || len(o.TestPolicy.Users) == 0 {
			return o, "", nil, nil, nil
		}
		return o.WithTestPolicy(nil), domain.ActionTestPolicyClear, map[string]any{"testPolicy": testMap(o.TestPolicy)}, map[string]any{"testPolicy": nil}, nil
	})
}

// ResetSessions makes every external user of the org verify again from now
// on: one write of the org item (SessionsResetAt = now) with the audit
// entry; no user is written (the access decision compares).
func (s *Service) ResetSessions(ctx context.Context, c domain.Caller, orgID string) (View, error) {
	return s.apply(ctx, c, orgID, nil, nil, func(o domain.Org, _ map[string]domain.User) (domain.Org, string, map[string]any, map[string]any, error) {
		next := o
		next.SessionsResetAt = s.now()
		return next, domain.ActionSessionsReset, map[string]any{"sessionsResetAt": timeOrNil(o.SessionsResetAt)}, map[string]any{"sessionsResetAt": timeOrNil(next.SessionsResetAt)}, nil
	})
}

// ResetUserSession makes one user verify again from now on: their
// profile's SessionsResetAt, with the audit entry. The answer is the user
// as written, External as the org's domains say now.
func (s *Service) ResetUserSession(ctx context.Context, c domain.Caller, orgID, accountID string) (domain.User, error) {
	if !domain.ValidAccountID(accountID) {
		return domain.User{}, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	o, users, err := s.load(ctx, c, orgID, []string{accountID})
	if err != nil {
		return domain.User{}, err
	}
	u, ok := users[accountID]
	if !ok {
		return domain.User{}, domain.Errorf(domain.ENOTFOUND, "No such user in this organisation.")
	}
	at := s.now()
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionUserSessionReset, domain.UserTarget(accountID), c.RequestID, at,
		map[string]any{"sessionsResetAt": timeOrNil(u.SessionsResetAt)}, map[string]any{"sessionsResetAt": timeOrNil(at)})
	if err := s.Resets.ResetUserSession(ctx, domain.UserSessionReset{OrgID: orgID, AccountID: accountID, CallerID: c.AccountID, At: at, Audit: audit}); err != nil {
		return domain.User{}, err
	}
	u.SessionsResetAt = at
	u.External = o.IsExternal(u.Email)
	return u, nil
}

// SettingsMap is how settings appear in the audit log and the API:
// twoStepVerification on/off, verifyEvery {"days": n} or "once",
// apiTokens allowed/blocked.
func SettingsMap(p domain.PolicySettings) map[string]any {
	m := map[string]any{"twoStepVerification": "off", "verifyEvery": "once", "apiTokens": "allowed"}
	if p.TwoStep {
		m["twoStepVerification"] = "on"
	}
	if p.VerifyEveryDays > 0 {
		m["verifyEvery"] = map[string]any{"days": p.VerifyEveryDays}
	}
	if p.BlockAPITokens {
		m["apiTokens"] = "blocked"
	}
	return m
}

func testMap(tp *domain.TestPolicy) any {
	if tp == nil || len(tp.Users) == 0 {
		return nil
	}
	m := SettingsMap(tp.Settings)
	m["users"] = slices.Clone(tp.Users)
	return m
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
