package domain

import (
	"testing"
	"time"
)

// TestDecide walks every rule of Decide, each case named by what it shows.
func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	active := User{Status: UserActive}
	external := User{Status: UserActive, External: true}
	guest := func(space string) Access {
		return Access{Product: Confluence, Direct: RoleGuest, Effective: RoleGuest, Space: space}
	}
	paid := Access{Product: Confluence, Direct: RoleUser, Effective: RoleUser}
	twoStep := ExternalPolicy{TwoStep: true, VerifyEvery: 24 * time.Hour}
	// tok is a valid API token of the users above (no org, no account id).
	tok := &APIToken{ExpiresAt: now.Add(time.Hour)}
	alice := User{OrgID: "o", AccountID: "alice", Status: UserActive}
	aliceTok := &APIToken{OrgID: "o", AccountID: "alice", ExpiresAt: now.Add(time.Hour)}
	withTok := func(t *APIToken, f func(*APIToken)) *APIToken { c := *t; f(&c); return &c }
	cases := []struct {
		name string
		in   DecisionInput
		want Decision
	}{
		{"paid user, any space, web", DecisionInput{User: active, Access: paid, Client: ClientWeb, Space: "ENG", SpaceKnown: true},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"paid user on mobile", DecisionInput{User: active, Access: paid, Client: ClientMobile},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"paid user, unknown space: spaces do not matter to paid users", DecisionInput{User: active, Access: paid, Client: ClientWeb, Space: "NOPE"},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"product admin on api", DecisionInput{User: active, Access: Access{Effective: RoleAdmin}, Client: ClientAPI, APIToken: tok},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleAdmin}},
		{"no access item", DecisionInput{User: active, Client: ClientWeb},
			Decision{Reason: ReasonNoProductAccess, Role: RoleNone}},
		{"access item with none", DecisionInput{User: active, Access: Access{Direct: RoleNone, Effective: RoleNone}, Client: ClientWeb},
			Decision{Reason: ReasonNoProductAccess, Role: RoleNone}},
		{"suspended paid user", DecisionInput{User: User{Status: UserSuspended}, Access: paid, Client: ClientWeb},
			Decision{Reason: ReasonSuspended, Role: RoleUser}},
		{"suspended before no access", DecisionInput{User: User{Status: UserSuspended}, Client: ClientWeb},
			Decision{Reason: ReasonSuspended, Role: RoleNone}},
		{"suspended guest on mobile: suspended first", DecisionInput{User: User{Status: UserSuspended}, Access: guest("MKT"), Client: ClientMobile},
			Decision{Reason: ReasonSuspended, Role: RoleGuest, Space: "MKT"}},
		{"pending invitee with access", DecisionInput{User: User{Status: UserInvited}, Access: guest("MKT"), Client: ClientWeb, Space: "MKT"},
			Decision{Reason: ReasonInvited, Role: RoleGuest, Space: "MKT"}},
		{"guest in their space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb, Space: "MKT", SpaceKnown: true},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleGuest, Space: "MKT"}},
		{"guest, no space asked: allowed, told their space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleGuest, Space: "MKT"}},
		{"guest in another space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb, Space: "ENG", SpaceKnown: true},
			Decision{Reason: ReasonGuestOtherSpace, Role: RoleGuest, Space: "MKT"}},
		{"guest in an anonymous space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb, Space: "PUB", SpaceKnown: true, SpaceAnonymous: true},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleGuest, Space: "MKT"}},
		{"guest in an unknown space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb, Space: "NOPE"},
			Decision{Reason: ReasonUnknownSpace, Role: RoleGuest, Space: "MKT"}},
		{"guest on mobile", DecisionInput{User: external, Access: guest("MKT"), Client: ClientMobile, Space: "MKT", SpaceKnown: true},
			Decision{Reason: ReasonGuestOnMobile, Role: RoleGuest, Space: "MKT"}},
		{"guest on the api, their space", DecisionInput{User: external, Access: guest("MKT"), Client: ClientAPI, APIToken: tok, Space: "MKT", SpaceKnown: true},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleGuest, Space: "MKT"}},
		{"guest without a space", DecisionInput{User: external, Access: guest(""), Client: ClientWeb},
			Decision{Reason: ReasonGuestWithoutSpace, Role: RoleGuest}},
		{"guest without a space, anonymous space: still denied", DecisionInput{User: external, Access: guest(""), Client: ClientWeb, Space: "PUB", SpaceKnown: true, SpaceAnonymous: true},
			Decision{Reason: ReasonGuestWithoutSpace, Role: RoleGuest}},
		{"guest without a space on mobile: mobile first", DecisionInput{User: external, Access: guest(""), Client: ClientMobile},
			Decision{Reason: ReasonGuestOnMobile, Role: RoleGuest}},

		// External security (rules §9): the zero policy denies nothing.
		{"zero policy: external never verified, web", DecisionInput{User: external, Access: paid, Client: ClientWeb},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"zero policy: external on api", DecisionInput{User: external, Access: paid, Client: ClientAPI, APIToken: tok},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"two-step on, never verified", DecisionInput{User: external, Access: paid, Client: ClientWeb, Policy: twoStep, Now: now},
			Decision{Reason: ReasonVerificationRequired, Role: RoleUser}},
		{"two-step on, verified within the period", DecisionInput{User: external, Access: paid, Client: ClientWeb, Policy: twoStep, VerifiedAt: now.Add(-23 * time.Hour), Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"two-step on, verification lapsed", DecisionInput{User: external, Access: paid, Client: ClientWeb, Policy: twoStep, VerifiedAt: now.Add(-24 * time.Hour), Now: now},
			Decision{Reason: ReasonVerificationRequired, Role: RoleUser}},
		{"two-step on, verify never lapses", DecisionInput{User: external, Access: paid, Client: ClientMobile, Policy: ExternalPolicy{TwoStep: true}, VerifiedAt: now.AddDate(-1, 0, 0), Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"two-step on, verified before a reset of sessions", DecisionInput{User: external, Access: paid, Client: ClientWeb,
			Policy: ExternalPolicy{TwoStep: true, SessionsResetAt: now.Add(-time.Hour)}, VerifiedAt: now.Add(-2 * time.Hour), Now: now},
			Decision{Reason: ReasonVerificationRequired, Role: RoleUser}},
		{"two-step on, verified after the reset", DecisionInput{User: external, Access: paid, Client: ClientWeb,
			Policy: ExternalPolicy{TwoStep: true, SessionsResetAt: now.Add(-time.Hour)}, VerifiedAt: now.Add(-time.Minute), Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"two-step on, internal user unaffected", DecisionInput{User: active, Access: paid, Client: ClientWeb, Policy: twoStep, Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"two-step on, guest never verified: verification before the space rules", DecisionInput{User: external, Access: guest("MKT"), Client: ClientWeb, Space: "ENG", SpaceKnown: true, Policy: twoStep, Now: now},
			Decision{Reason: ReasonVerificationRequired, Role: RoleGuest, Space: "MKT"}},
		{"two-step on does not gate the api client", DecisionInput{User: external, Access: paid, Client: ClientAPI, APIToken: tok, Policy: twoStep, Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"api tokens blocked, external on api", DecisionInput{User: external, Access: paid, Client: ClientAPI, APIToken: tok, Policy: ExternalPolicy{BlockAPITokens: true}},
			Decision{Reason: ReasonAPITokenBlocked, Role: RoleUser}},
		{"api tokens blocked, external guest on api", DecisionInput{User: external, Access: guest("MKT"), Client: ClientAPI, APIToken: tok, Space: "MKT", Policy: ExternalPolicy{BlockAPITokens: true}},
			Decision{Reason: ReasonAPITokenBlocked, Role: RoleGuest, Space: "MKT"}},
		{"api tokens blocked, external on web", DecisionInput{User: external, Access: paid, Client: ClientWeb, Policy: ExternalPolicy{BlockAPITokens: true}},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"api tokens blocked, internal on api", DecisionInput{User: active, Access: paid, Client: ClientAPI, APIToken: tok, Policy: ExternalPolicy{BlockAPITokens: true}},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		// API tokens (rules §9): checked at use time, before the policy.
		{"api, the user's own token", DecisionInput{User: alice, Access: paid, Client: ClientAPI, APIToken: aliceTok, Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"api, no token (or an unknown or revoked one)", DecisionInput{User: alice, Access: paid, Client: ClientAPI, Now: now},
			Decision{Reason: ReasonAPITokenInvalid, Role: RoleUser}},
		{"api, expired token", DecisionInput{User: alice, Access: paid, Client: ClientAPI, APIToken: withTok(aliceTok, func(t *APIToken) { t.ExpiresAt = now }), Now: now},
			Decision{Reason: ReasonAPITokenInvalid, Role: RoleUser}},
		{"api, another account's token", DecisionInput{User: alice, Access: paid, Client: ClientAPI, APIToken: withTok(aliceTok, func(t *APIToken) { t.AccountID = "bob" }), Now: now},
			Decision{Reason: ReasonAPITokenInvalid, Role: RoleUser}},
		{"api, another org's token of the same account id", DecisionInput{User: alice, Access: paid, Client: ClientAPI, APIToken: withTok(aliceTok, func(t *APIToken) { t.OrgID = "acme" }), Now: now},
			Decision{Reason: ReasonAPITokenInvalid, Role: RoleUser}},
		{"api, invalid token of a blocked external user: invalid first", DecisionInput{User: User{OrgID: "o", AccountID: "alice", Status: UserActive, External: true}, Access: paid, Client: ClientAPI,
			Policy: ExternalPolicy{BlockAPITokens: true}, Now: now},
			Decision{Reason: ReasonAPITokenInvalid, Role: RoleUser}},
		{"api, no token, suspended: suspended first", DecisionInput{User: User{OrgID: "o", AccountID: "alice", Status: UserSuspended}, Access: paid, Client: ClientAPI, Now: now},
			Decision{Reason: ReasonSuspended, Role: RoleUser}},
		{"api, no token, no access: no access first", DecisionInput{User: alice, Client: ClientAPI, Now: now},
			Decision{Reason: ReasonNoProductAccess, Role: RoleNone}},
		{"web ignores a missing token", DecisionInput{User: alice, Access: paid, Client: ClientWeb, Now: now},
			Decision{Allow: true, Reason: ReasonAllowed, Role: RoleUser}},
		{"api tokens blocked, external without access: no access first", DecisionInput{User: external, Client: ClientAPI, APIToken: tok, Policy: ExternalPolicy{BlockAPITokens: true}},
			Decision{Reason: ReasonNoProductAccess, Role: RoleNone}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.in); got != c.want {
				t.Errorf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseClient(t *testing.T) {
	for _, s := range []string{"web", "mobile", "api"} {
		if c, ok := ParseClient(s); !ok || string(c) != s {
			t.Errorf("ParseClient(%q) = %q, %v", s, c, ok)
		}
	}
	for _, s := range []string{"", "Web", "desktop", "web "} {
		if _, ok := ParseClient(s); ok {
			t.Errorf("ParseClient(%q) accepted", s)
		}
	}
}

// BenchmarkDecide measures the rule alone, on its longest path (an external
// guest under a two-step policy asking for an anonymous space).
func BenchmarkDecide(b *testing.B) {
	now := time.Now()
	in := DecisionInput{User: User{Status: UserActive, External: true}, Access: Access{Effective: RoleGuest, Space: "MKT"}, Client: ClientWeb,
		Space: "PUB", SpaceKnown: true, SpaceAnonymous: true, Policy: ExternalPolicy{TwoStep: true, VerifyEvery: time.Hour, SessionsResetAt: now.Add(-time.Hour)},
		VerifiedAt: now.Add(-time.Minute), Now: now}
	b.ReportAllocs()
	for b.Loop() {
		if d := Decide(in); !d.Allow {
			b.Fatal(d)
		}
	}
}

// BenchmarkDecideAPI measures the api client's path: an external guest with
// a valid token of their own, the policy allowing tokens.
func BenchmarkDecideAPI(b *testing.B) {
	now := time.Now()
	in := DecisionInput{User: User{OrgID: "o", AccountID: "a", Status: UserActive, External: true}, Access: Access{Effective: RoleGuest, Space: "MKT"},
		Client: ClientAPI, Space: "MKT", SpaceKnown: true, APIToken: &APIToken{OrgID: "o", AccountID: "a", ExpiresAt: now.Add(time.Hour)}, Now: now}
	b.ReportAllocs()
	for b.Loop() {
		if d := Decide(in); !d.Allow {
			b.Fatal(d)
		}
	}
}

// TestDecideAllocatesNothing pins the benchmarks' claim: the rule allocates
// nothing on its longest web path nor on the api client's path.
func TestDecideAllocatesNothing(t *testing.T) {
	now := time.Now()
	for name, in := range map[string]DecisionInput{
		"web": {User: User{Status: UserActive, External: true}, Access: Access{Effective: RoleGuest, Space: "MKT"}, Client: ClientWeb,
			Space: "PUB", SpaceKnown: true, SpaceAnonymous: true, Policy: ExternalPolicy{TwoStep: true, VerifyEvery: time.Hour, SessionsResetAt: now.Add(-time.Hour)},
			VerifiedAt: now.Add(-time.Minute), Now: now},
		"api": {User: User{OrgID: "o", AccountID: "a", Status: UserActive, External: true}, Access: Access{Effective: RoleGuest, Space: "MKT"},
			Client: ClientAPI, Space: "MKT", SpaceKnown: true, APIToken: &APIToken{OrgID: "o", AccountID: "a", ExpiresAt: now.Add(time.Hour)}, Now: now},
	} {
		if n := testing.AllocsPerRun(100, func() {
			if d := Decide(in); !d.Allow {
				t.Fatal(d)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per decision", name, n)
		}
	}
}
