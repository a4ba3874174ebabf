package domain

import "time"

// Client is where a product is used from when it asks an access decision.
type Client string

// Clients (rules §8).
const (
	ClientWeb    Client = "web"
	ClientMobile Client = "mobile"
	ClientAPI    Client = "api"
)

// ParseClient validates a client name.
func ParseClient(s string) (Client, bool) {
	switch c := Client(s); c {
	case ClientWeb, ClientMobile, ClientAPI:
		return c, true
	}
	return "", false
}

// Reason is the stable, machine-readable reason of an access decision.
// Products branch on it; new reasons may be added, none is ever renamed.
type Reason string

// Reasons of access decisions. Only ReasonAllowed allows.
const (
	// ReasonAllowed: the account may use the product (and the space asked).
	ReasonAllowed Reason = "allowed"
	// ReasonSuspended: the account is suspended in the org.
	ReasonSuspended Reason = "suspended"
	// ReasonInvited: the account exists only as a pending invitation; it is
	// not active until the invitee accepts.
	ReasonInvited Reason = "invited"
	// ReasonNoProductAccess: no role (direct or from a group) on the site's product.
	ReasonNoProductAccess Reason = "no_product_access"
	// ReasonAPITokenInvalid: on the api client, the API token presented is
	// missing, unknown (never made, or revoked), expired, or another
	// account's or another org's (rules §9).
	ReasonAPITokenInvalid Reason = "api_token_invalid"
	// ReasonAPITokenBlocked: an external user on the api client, with a
	// valid API token of their own, while the policy that applies to them
	// blocks API token access (rules §9). Checked at use time: nothing is deleted,
	// and the same token works again once the policy allows it.
	ReasonAPITokenBlocked Reason = "api_token_blocked"
	// ReasonVerificationRequired: an external user whose two-step
	// verification is missing or lapsed while the org's policy requires it (rules §9).
	ReasonVerificationRequired Reason = "verification_required"
	// ReasonGuestOnMobile: guests are not supported in the mobile apps.
	ReasonGuestOnMobile Reason = "guest_on_mobile"
	// ReasonGuestWithoutSpace: a guest assigned to no space cannot use
	// Confluence at all (rules §5 unassign), not even spaces open to anonymous access.
	ReasonGuestWithoutSpace Reason = "guest_without_space"
	// ReasonGuestOtherSpace: a guest asking for a space other than theirs
	// that is not open to anonymous access.
	ReasonGuestOtherSpace Reason = "guest_other_space"
	// ReasonUnknownSpace: a guest asking for a space the site does not have
	// (not their own): nothing says it is open, so it is denied.
	ReasonUnknownSpace Reason = "unknown_space"
)

// ExternalPolicy is the org's external user policy (rules §9) as far as the
// access decision reads it. The zero value is the policy off: it denies
// nothing.
type ExternalPolicy struct {
	// TwoStep requires external users to have completed two-step verification.
	TwoStep bool
	// VerifyEvery is how long a completed verification lasts; 0 is for ever.
	VerifyEvery time.Duration
	// SessionsResetAt makes every verification completed before it lapse
	// (an admin's reset of external users' sessions); zero for none.
	SessionsResetAt time.Time
	// BlockAPITokens blocks external users' API token access.
	BlockAPITokens bool
}

// DecisionInput is everything one access decision needs, read at once.
type DecisionInput struct {
	// User is the account asked about (Status, External).
	User User
	// Access is the user's access on the site's product; an Effective of
	// "" or none is no access.
	Access Access
	// Client is where the product is used from.
	Client Client
	// Space is the space key asked for, "" for the product as a whole.
	Space string
	// SpaceKnown reports that the site has the space asked for, and
	// SpaceAnonymous that it is open to anonymous access.
	SpaceKnown, SpaceAnonymous bool
	// Policy is the org's external user policy (zero: off).
	Policy ExternalPolicy
	// VerifiedAt is when the user last completed two-step verification
	// (zero: never).
	VerifiedAt time.Time
	// APIToken is the API token presented on the api client, as read by the
	// hash of its secret; nil when none was presented or none has that hash.
	APIToken *APIToken
	// Now is the time of the decision.
	Now time.Time
}

// Decision is the answer to an access decision: allow or deny with a
// stable reason, the user's effective role on the product and, for a
// Confluence guest, the one space they are assigned to.
type Decision struct {
	Allow  bool
	Reason Reason
	Role   Role
	Space  string
}

// Decide answers the access decision of rules §8. It is a pure function of its
// input; the rules, in the order they are checked (the first that applies
// answers):
//
//  1. a suspended account is denied (suspended), whatever its role;
//  2. a pending invitee is denied (invited) until they accept;
//  3. no role on the product: no_product_access;
//  4. the api client (rules §9): api_token_invalid unless the API token
//     presented is the user's own, of this org, and not expired (missing,
//     unknown or revoked, expired, another account's or another org's); then,
//     for an external user, api_token_blocked when the policy that applies
//     to them blocks API tokens. Invalid comes first: "blocked" is only said
//     of a token that would work if the policy allowed it, so a token that
//     is not the user's learns nothing of the user or the policy. On web and
//     mobile, for an external user, verification_required when two-step
//     verification is on and the user's verification is missing, older than
//     VerifyEvery, or older than the last reset of sessions (API tokens are
//     not sessions: the api client is governed by the token alone);
//  5. a Confluence guest: denied on mobile (guest_on_mobile); denied
//     everything without an assigned space (guest_without_space); allowed
//     their own space, and the product as a whole (no space asked; the
//     answer names their space); another space is allowed only when it is
//     open to anonymous access, else guest_other_space, or unknown_space
//     when the site has no such space;
//  6. everyone else with a role (paid users and product admins) is allowed,
//     on every client and in every space: the space asked does not matter.
func Decide(in DecisionInput) Decision {
	role := in.Access.Effective
	if role == "" {
		role = RoleNone
	}
	d := Decision{Role: role}
	if role == RoleGuest {
		d.Space = in.Access.Space
	}
	deny := func(r Reason) Decision { d.Reason = r; return d }
	switch {
	case in.User.Status == UserSuspended:
		return deny(ReasonSuspended)
	case in.User.Status == UserInvited:
		return deny(ReasonInvited)
	case role == RoleNone:
		return deny(ReasonNoProductAccess)
	}
	if in.Client == ClientAPI {
		if t := in.APIToken; t == nil || t.OrgID != in.User.OrgID || t.AccountID != in.User.AccountID || t.Expired(in.Now) {
			return deny(ReasonAPITokenInvalid)
		}
		if in.User.External && in.Policy.BlockAPITokens {
			return deny(ReasonAPITokenBlocked)
		}
	} else if in.User.External && in.Policy.TwoStep && verificationLapsed(in) {
		return deny(ReasonVerificationRequired)
	}
	if role == RoleGuest {
		switch {
		case in.Client == ClientMobile:
			return deny(ReasonGuestOnMobile)
		case in.Access.Space == "":
			return deny(ReasonGuestWithoutSpace)
		case in.Space != "" && in.Space != in.Access.Space:
			if !in.SpaceKnown {
				return deny(ReasonUnknownSpace)
			}
			if !in.SpaceAnonymous {
				return deny(ReasonGuestOtherSpace)
			}
		}
	}
	d.Allow, d.Reason = true, ReasonAllowed
	return d
}

// verificationLapsed reports a user with no verification in force under a
// two-step policy.
func verificationLapsed(in DecisionInput) bool {
	v := in.VerifiedAt
	switch {
	case v.IsZero():
		return true
	case !in.Policy.SessionsResetAt.IsZero() && v.Before(in.Policy.SessionsResetAt):
		return true
	case in.Policy.VerifyEvery > 0 && !in.Now.Before(v.Add(in.Policy.VerifyEvery)):
		return true
	}
	return false
}

// DecisionScope is what an access decision reads, all in one read of the
// keys the request names: the org (with its external user policy, rules §9), the
// site, the account (with its last verification), its access on the site's
// product and the space asked for. A nil field does not exist.
type DecisionScope struct {
	Org    *Org
	Site   *Site
	User   *User
	Access *Access
	Space  *Space
	// APIToken is the token read by the hash of the secret presented (api
	// client only).
	APIToken *APIToken
}

// DecisionInputOf builds the input of Decide from what was read: whether the
// user is external is decided now from the org's verified domains, the
// policy is the one that applies to the user (Org.DecisionPolicy). Org and
// User must be set.
func DecisionInputOf(sc DecisionScope, c Client, space string, now time.Time) DecisionInput {
	u := *sc.User
	u.External = sc.Org.IsExternal(u.Email)
	in := DecisionInput{User: u, Client: c, Space: space, Policy: sc.Org.DecisionPolicy(u), VerifiedAt: u.VerifiedAt, APIToken: sc.APIToken, Now: now}
	if sc.Access != nil {
		in.Access = *sc.Access
	}
	if sc.Space != nil {
		in.SpaceKnown, in.SpaceAnonymous = true, sc.Space.AnonymousAccess
	}
	return in
}
