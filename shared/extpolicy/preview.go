package extpolicy

import (
	"context"
	"slices"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Proposal is a proposed change to preview: the org's policy, or (Test) a
// test policy with the users it would name.
type Proposal struct {
	Policy domain.PolicySettings
	Test   bool
	Users  []string
	// Limit is how many external users one page of an org policy's preview
	// examines; Cursor goes on from the last page.
	Limit  int
	Cursor string
}

// Affected is an external user a proposed change affects, and how.
type Affected struct {
	User    domain.User
	Effects []PolicyEffect
}

// PreviewPage is one page of a preview: the affected users among those
// examined (unaffected ones are not listed), the page's totals and where
// the next page starts ("" when none remains).
type PreviewPage struct {
	Users []Affected
	// Examined is how many external users the page read; UnderTestPolicy
	// how many of them were skipped because the test policy names them.
	Examined, UnderTestPolicy int
	// ByEffect counts the page's users by effect.
	ByEffect map[EffectKind]int
	Next     string
	// Version is the policy version the preview was computed against.
	Version int
}

// Preview answers which external users a proposed change affects and how,
// computed with PolicyEffects, nothing written. An org policy's
// preview reads a page of the org's external users (store.ExternalUsers:
// Limit users, one Query per range of the by-domain index crossed) after
// one BatchGetItem of the org and caller; a test policy's preview reads
// the users it would name with the org and caller, and the users the
// current test policy names in one more BatchGetItem (one page).
func (s *Service) Preview(ctx context.Context, c domain.Caller, orgID string, pr Proposal) (PreviewPage, error) {
	if err := validate(pr.Policy); err != nil {
		return PreviewPage{}, err
	}
	if !pr.Test && len(pr.Users) > 0 {
		return PreviewPage{}, invalid("users", "only a test policy's preview (test: true) names users")
	}
	if pr.Test {
		if err := checkTestUsers(pr.Users); err != nil {
			return PreviewPage{}, err
		}
		return s.previewTest(ctx, c, orgID, pr)
	}
	o, _, err := s.load(ctx, c, orgID, nil)
	if err != nil {
		return PreviewPage{}, err
	}
	us, next, err := s.External.ExternalUsers(ctx, o, pr.Cursor, pr.Limit)
	if err != nil {
		return PreviewPage{}, err
	}
	page := PreviewPage{Examined: len(us), ByEffect: map[EffectKind]int{}, Next: next, Version: o.PolicyVersion}
	now := s.now()
	for _, u := range us {
		if slices.Contains(testUsers(o), u.AccountID) {
			page.UnderTestPolicy++
			continue
		}
		page.add(u, PolicyEffects(o.Policy, pr.Policy, u, o.SessionsResetAt, now))
	}
	return page, nil
}

func (p *PreviewPage) add(u domain.User, effects []PolicyEffect) {
	if len(effects) == 0 {
		return
	}
	p.Users = append(p.Users, Affected{User: u, Effects: effects})
	for _, e := range effects {
		p.ByEffect[e.Kind]++
	}
}

// previewTest previews a proposed test policy: the users it would name
// and those the current one names (who go back to the org's policy).
func (s *Service) previewTest(ctx context.Context, c domain.Caller, orgID string, pr Proposal) (PreviewPage, error) {
	o, users, err := s.load(ctx, c, orgID, pr.Users)
	if err != nil {
		return PreviewPage{}, err
	}
	ids := slices.Clone(pr.Users)
	var more []string
	for _, id := range testUsers(o) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
			more = append(more, id)
		}
	}
	if len(more) > 0 {
		// The current test policy's other users: one more BatchGetItem.
		_, got, err := s.Scopes.LoadPolicyScope(ctx, orgID, c.AccountID, more)
		if err != nil {
			return PreviewPage{}, err
		}
		for k, u := range got {
			users[k] = u
		}
	}
	if err := checkExternal(o, pr.Users, users); err != nil {
		return PreviewPage{}, err
	}
	next := o.WithTestPolicy(&domain.TestPolicy{Settings: pr.Policy, Users: pr.Users})
	page := PreviewPage{ByEffect: map[EffectKind]int{}, Version: o.PolicyVersion}
	now := s.now()
	for _, id := range ids {
		u, ok := users[id]
		if !ok || !o.IsExternal(u.Email) {
			continue
		}
		u.External = true
		page.Examined++
		page.add(u, PolicyEffects(o.PolicyFor(id), next.PolicyFor(id), u, o.SessionsResetAt, now))
	}
	return page, nil
}
