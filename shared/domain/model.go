package domain

import (
	"slices"
	"time"
)

// GuestsPerPaidUser is the billing rule: guests are free up to five per paid user on a site.
const GuestsPerPaidUser = 5

// Org is the tenant.
type Org struct {
	ID   string
	Name string
	// VerifiedDomains are the org's verified email domains (IDNA ASCII,
	// lower case): a user whose address is elsewhere is external (rules §9).
	VerifiedDomains []string
	CreatedAt       time.Time
	// Policy is the external user policy (rules §9); the zero value is off.
	Policy PolicySettings
	// TestPolicy, when set, applies to the users it names instead of Policy.
	TestPolicy *TestPolicy
	// PolicyVersion counts changes of the policy, the test policy, the
	// domains and resets (each such write is conditioned on it).
	PolicyVersion int
	// SessionsResetAt: every external user's verification completed before
	// it lapses (reset of sessions, rules §9); zero for none.
	SessionsResetAt time.Time
}

// Site is a product instance of an org. It carries the billing counters of its
// Confluence: GuestSlots is kept equal to 5×PaidUsers−Guests so that one
// DynamoDB condition (GuestSlots ≥ n) enforces the guest limit atomically.
type Site struct {
	OrgID      string
	ID         string
	Name       string
	Host       string
	PaidUsers  int64
	Guests     int64
	GuestSlots int64
	// Reserved is the guest slots running group jobs hold (taken out of
	// GuestSlots until their pages use or release them): GuestSlots =
	// 5×PaidUsers − Guests − Reserved.
	Reserved int64
	// UserLimit is the most paid users plus guests the site may have (rules §7);
	// 0 on a site written before the user limit, which is not limited until
	// the recount's repair writes it (see UserLimitOrDefault).
	UserLimit int64
	// UserSlots is kept equal to UserLimit − PaidUsers − Guests −
	// ReservedUsers so that one condition (UserSlots ≥ n) enforces the user
	// limit atomically, like GuestSlots the guest limit.
	UserSlots int64
	// ReservedUsers is the user slots running group jobs hold.
	ReservedUsers int64
	CreatedAt     time.Time
}

// DefaultUserLimit is a site's user limit unless it is created with another
// (Atlassian's limit of paid users plus guests).
const DefaultUserLimit = 35000

// UserLimitOrDefault is the site's user limit, the default for a site
// written before the limit was stored.
func (s Site) UserLimitOrDefault() int64 {
	if s.UserLimit > 0 {
		return s.UserLimit
	}
	return DefaultUserLimit
}

// FreeUserSlots is how many more paid users or guests fit (never below 0).
func (s Site) FreeUserSlots() int64 {
	if s.UserLimit == 0 {
		return max(0, DefaultUserLimit-s.PaidUsers-s.Guests-s.ReservedUsers)
	}
	return max(0, s.UserSlots)
}

// Billing is the billing summary of a site.
type Billing struct {
	PaidUsers      int64
	Guests         int64
	GuestLimit     int64
	FreeGuestSlots int64
	UserLimit      int64
	FreeUserSlots  int64
}

// Billing returns the site's billing summary. Free slots never show below zero:
// a site over its limit (paid users removed) simply has none.
func (s Site) Billing() Billing {
	return Billing{PaidUsers: s.PaidUsers, Guests: s.Guests, GuestLimit: GuestsPerPaidUser * s.PaidUsers, FreeGuestSlots: max(0, s.GuestSlots),
		UserLimit: s.UserLimitOrDefault(), FreeUserSlots: s.FreeUserSlots()}
}

// UserStatus is the lifecycle state of an account.
type UserStatus string

// User statuses.
const (
	UserInvited   UserStatus = "invited"
	UserActive    UserStatus = "active"
	UserSuspended UserStatus = "suspended"
)

// User is an account in an org's directory.
type User struct {
	OrgID       string
	AccountID   string
	Email       string // normalised
	DisplayName string
	Status      UserStatus
	OrgAdmin    bool
	SiteAdmin   []string // ids of the sites this user administers
	// External is the flag stored when the account was made; who is external
	// now is Org.IsExternal(Email) (verified domains change).
	External  bool
	CreatedAt time.Time
	InvitedBy string
	// VerifiedAt is when the user last completed two-step verification (zero: never).
	VerifiedAt time.Time
	// VerifyDueAt is when that verification lapses under the policy that
	// applied when it was completed (zero: never); the re-verification
	// job's due entry is kept at it.
	VerifyDueAt time.Time
	// VerifyState is the re-verification job's mark.
	VerifyState VerifyState
	// SessionsResetAt: this user's verifications completed before it lapse
	// (an admin's reset of one user's sessions).
	SessionsResetAt time.Time
	// LastActive is the day the user was last allowed by an access decision.
	LastActive time.Time
}

// CanInvite reports whether u may invite people to the site: only active org
// admins and admins of that site may.
// Caller is who makes a request: the account id the authorizer verified,
// and the API Gateway request id for the audit log.
type Caller struct {
	AccountID string
	RequestID string
}

// IsOrgAdmin reports an active org admin.
func (u User) IsOrgAdmin() bool { return u.Status == UserActive && u.OrgAdmin }

// IsSiteAdmin reports an active admin of the site (org admins are admins of every site).
func (u User) IsSiteAdmin(siteID string) bool {
	return u.Status == UserActive && (u.OrgAdmin || slices.Contains(u.SiteAdmin, siteID))
}

// CanManageRoles reports whether the user may change roles on a site's
// product: org and site admins, and the product's admins (effective role
// admin there, given as own).
func (u User) CanManageRoles(siteID string, own Access) bool {
	return u.IsSiteAdmin(siteID) || u.Status == UserActive && own.Effective == RoleAdmin
}

func (u User) CanInvite(siteID string) bool {
	return u.Status == UserActive && (u.OrgAdmin || slices.Contains(u.SiteAdmin, siteID))
}

// Group is an org-level set of users that can hold product roles on sites.
type Group struct {
	OrgID string
	// ID is the group's stable id (a slug); invites and memberships name it.
	ID string
	// Name is what admins see; unique in the org, compared case-insensitively.
	Name string
	// Roles maps SiteProductKey(site, product) to the group's role there.
	Roles       map[string]Role
	MemberCount int64
	CreatedAt   time.Time
	Version     int
	// Deleting is set once a delete job has begun: no member joins it then.
	Deleting bool
}

// SiteProductKey names a (site, product) pair in role maps.
func SiteProductKey(siteID string, p Product) string { return siteID + "/" + string(p) }

// RoleOn returns the group's role on a site's product (none if unset).
func (g Group) RoleOn(siteID string, p Product) Role {
	if r, ok := g.Roles[SiteProductKey(siteID, p)]; ok {
		return r
	}
	return RoleNone
}

// Access is a user's role on one product of one site.
type Access struct {
	Product Product
	Direct  Role
	// Groups are the roles the user's groups give on this site's product, by
	// group id (only groups that give a role here): with Direct, the sources
	// the effective role is computed from, and the answer to "why".
	Groups    map[string]Role
	Effective Role
	// Space is the one space a Confluence guest is assigned to ("" for none).
	Space string
	// Version guards read-modify-write of the access item.
	Version int
}

// Recompute sets the effective role from the direct role and the groups'.
// A space assignment is a guest's alone: an access that is no longer a
// Confluence guest loses its space (rules §6: removing product access clears it; a
// guest who becomes a paid user is no longer limited to one space).
func (a Access) Recompute() Access {
	roles := make([]Role, 0, len(a.Groups))
	for _, r := range a.Groups {
		roles = append(roles, r)
	}
	a.Effective = EffectiveRole(a.Direct, roles...)
	if a.Effective != RoleGuest {
		a.Space = ""
	}
	return a
}

// Empty reports an access that gives nothing and has no source: it is not kept.
func (a Access) Empty() bool {
	return (a.Direct == "" || a.Direct == RoleNone) && len(a.Groups) == 0 && (a.Effective == "" || a.Effective == RoleNone)
}

// WithGroup returns the access with group g giving role r here (RoleNone
// removes the group as a source), recomputed.
func (a Access) WithGroup(g string, r Role) Access {
	groups := make(map[string]Role, len(a.Groups)+1)
	for k, v := range a.Groups {
		if k != g {
			groups[k] = v
		}
	}
	if r != "" && r != RoleNone {
		groups[g] = r
	}
	a.Groups = groups
	return a.Recompute()
}

// WithDirect returns the access with direct role r, recomputed.
func (a Access) WithDirect(r Role) Access {
	if r == "" {
		r = RoleNone
	}
	a.Direct = r
	return a.Recompute()
}

// GuestSources names the groups that give the guest role here.
func (a Access) GuestSources() []string {
	var out []string
	for g, r := range a.Groups {
		if r == RoleGuest {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// InvitationStatus is the state of an invitation.
type InvitationStatus string

// Invitation statuses.
const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// DeliveryStatus is the state of an invitation's email.
type DeliveryStatus string

// Delivery statuses. Pending means written but not yet handed to SES: the
// invitation sits in the retry index until it is sent.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
)

// Invitation is an email invite of one person to one site.
type Invitation struct {
	OrgID       string
	ID          string
	SiteID      string
	AccountID   string
	Email       string
	InvitedBy   string // account id of the inviter
	InviterName string
	OrgName     string
	SiteName    string
	SiteHost    string
	Roles       map[Product]Role // direct roles requested
	// EffectiveRoles are the roles the invitee gets, direct and from groups.
	EffectiveRoles map[Product]Role
	Groups         []string
	Kind           Kind // guest or paid on Confluence, by effective role
	Message        string
	TokenHash      string
	Status         InvitationStatus
	Delivery       DeliveryStatus
	DeliveryNote   string // last SES error, for operators (not shown to clients)
	MessageID      string
	Attempts       int
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     time.Time
	// ResentAt is when an admin last asked for the email again (zero if never).
	ResentAt  time.Time
	RequestID string
	// Version increases with every write; writes are conditional on it.
	Version int
}

// Expired reports whether the invitation's link has lapsed at now.
func (i Invitation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// Effective returns the roles the invitation gives (the direct ones for an
// invitation written before effective roles were kept).
func (i Invitation) Effective() map[Product]Role {
	if len(i.EffectiveRoles) > 0 {
		return i.EffectiveRoles
	}
	return i.Roles
}

// AuditEntry records one administrative change.
type AuditEntry struct {
	OrgID     string
	ID        string
	At        time.Time
	Actor     string // account id, or "system"
	Action    string
	Target    string
	Before    map[string]any
	After     map[string]any
	RequestID string
}
