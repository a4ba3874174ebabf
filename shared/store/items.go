package store

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Item types, as stored. Every item carries its Type so a partition read with
// several types can tell them apart.
const (
	typeOrg        = "org"
	typeSite       = "site"
	typeGroup      = "group"
	typeGroupName  = "group-name"
	typeUser       = "user"
	typeEmail      = "email"
	typeAccess     = "access"
	typeMember     = "member"
	typeInvitation = "invitation"
	typeToken      = "invite-token"
	typeIdem       = "idempotency"
	typeAudit      = "audit"
	typeSpace      = "space"
	typeSpaceAdmin = "space-admin"
	typeInvRef     = "invitation-ref"
	// typeSendWindow is the account-wide counter of emails sent in one
	// second (TakeSendSlot).
	typeSendWindow = "send-window"
)

// orgItem is an org with its external user policy (rules §9): the access
// decision reads the policy from here in its one read.
type orgItem struct {
	table.Keys
	OrgID           string
	Name            string
	VerifiedDomains []string
	CreatedAt       time.Time
	Policy          domain.PolicySettings
	TestPolicy      *domain.TestPolicy
	PolicyVersion   int
	SessionsResetAt time.Time
}

func newOrgItem(o domain.Org) orgItem {
	return orgItem{Keys: table.Keys{PK: table.OrgPK(o.ID), SK: table.SKOrg, Type: typeOrg}, OrgID: o.ID, Name: o.Name, VerifiedDomains: o.VerifiedDomains, CreatedAt: o.CreatedAt,
		Policy: o.Policy, TestPolicy: o.TestPolicy, PolicyVersion: o.PolicyVersion, SessionsResetAt: o.SessionsResetAt}
}

func (i orgItem) domain() domain.Org {
	return domain.Org{ID: i.OrgID, Name: i.Name, VerifiedDomains: i.VerifiedDomains, CreatedAt: i.CreatedAt,
		Policy: i.Policy, TestPolicy: i.TestPolicy, PolicyVersion: i.PolicyVersion, SessionsResetAt: i.SessionsResetAt}
}

type siteItem struct {
	table.Keys
	OrgID      string
	SiteID     string
	Name       string
	Host       string
	PaidUsers  int64
	Guests     int64
	GuestSlots int64
	Reserved   int64
	// UserLimit, UserSlots, ReservedUsers: the user limit and its derived
	// counter (absent on a site written before the limit: not limited).
	UserLimit, UserSlots, ReservedUsers int64
	CreatedAt                           time.Time
}

func newSiteItem(s domain.Site) siteItem {
	return siteItem{Keys: table.Keys{PK: table.OrgPK(s.OrgID), SK: table.SiteSK(s.ID), Type: typeSite}, OrgID: s.OrgID, SiteID: s.ID, Name: s.Name, Host: s.Host,
		PaidUsers: s.PaidUsers, Guests: s.Guests, GuestSlots: s.GuestSlots, UserLimit: s.UserLimit, UserSlots: s.UserSlots, CreatedAt: s.CreatedAt}
}

func (i siteItem) domain() domain.Site {
	return domain.Site{OrgID: i.OrgID, ID: i.SiteID, Name: i.Name, Host: i.Host, PaidUsers: i.PaidUsers, Guests: i.Guests, GuestSlots: i.GuestSlots, Reserved: i.Reserved,
		UserLimit: i.UserLimit, UserSlots: i.UserSlots, ReservedUsers: i.ReservedUsers, CreatedAt: i.CreatedAt}
}

type groupItem struct {
	table.Keys
	OrgID       string
	GroupID     string
	Name        string
	NameKey     string
	Roles       map[string]string
	MemberCount int64
	Version     int
	CreatedAt   time.Time
	Deleting    bool
}

func newGroupItem(g domain.Group) groupItem {
	roles := map[string]string{}
	for k, r := range g.Roles {
		roles[k] = string(r)
	}
	id := g.ID
	if id == "" {
		id = domain.GroupNameKey(g.Name)
	}
	return groupItem{Keys: table.Keys{PK: table.OrgPK(g.OrgID), SK: table.GroupSK(id), Type: typeGroup}, OrgID: g.OrgID, GroupID: id, Name: g.Name,
		NameKey: domain.GroupNameKey(g.Name), Roles: roles, MemberCount: g.MemberCount, Version: g.Version, CreatedAt: g.CreatedAt}
}

func (i groupItem) domain() domain.Group {
	g := domain.Group{OrgID: i.OrgID, ID: i.GroupID, Name: i.Name, Roles: map[string]domain.Role{}, MemberCount: i.MemberCount,
		Version: i.Version, CreatedAt: i.CreatedAt, Deleting: i.Deleting}
	if g.ID == "" { // written before groups had ids: the name was the key
		g.ID = strings.TrimPrefix(i.SK, "GROUP#")
	}
	for k, r := range i.Roles {
		g.Roles[k] = domain.Role(r)
	}
	return g
}

// groupNameItem keeps group names unique in an org, case-insensitively.
type groupNameItem struct {
	table.Keys
	GroupID string
}

func newGroupNameItem(orgID, name, groupID string) groupNameItem {
	return groupNameItem{Keys: table.Keys{PK: table.GroupNamePK(orgID, domain.GroupNameKey(name)), SK: table.SKGroupName, Type: typeGroupName}, GroupID: groupID}
}

// userItem is an account's profile. Every profile is listed by domain in
// GSI2 (A19: the external users are the ranges outside the verified
// domains), and one with a verification that lapses has its due entry in
// GSI3 (A18, verifyDueKeys).
type userItem struct {
	table.Keys
	OrgID           string
	AccountID       string
	Email           string
	DisplayName     string
	Status          string
	OrgAdmin        bool
	SiteAdmin       []string
	External        bool
	InvitedBy       string
	CreatedAt       time.Time
	VerifiedAt      time.Time
	VerifyDueAt     time.Time
	VerifyState     string
	SessionsResetAt time.Time
	LastActive      time.Time
}

func newUserItem(u domain.User) userItem {
	k := table.Keys{PK: table.UserPK(u.OrgID, u.AccountID), SK: table.SKProfile, Type: typeUser, GSI1PK: table.UsersGSI1PK(u.OrgID), GSI1SK: u.Email,
		GSI2PK: table.ByDomainGSI2PK(u.OrgID), GSI2SK: table.ByDomainGSI2SK(u.Email)}
	k.GSI3PK, k.GSI3SK = table.VerifyDueKeys(u.OrgID, u.AccountID, u.VerifyDueAt, u.VerifyState)
	return userItem{Keys: k, OrgID: u.OrgID, AccountID: u.AccountID, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status),
		OrgAdmin: u.OrgAdmin, SiteAdmin: u.SiteAdmin, External: u.External, InvitedBy: u.InvitedBy, CreatedAt: u.CreatedAt,
		VerifiedAt: u.VerifiedAt, VerifyDueAt: u.VerifyDueAt, VerifyState: string(u.VerifyState), SessionsResetAt: u.SessionsResetAt, LastActive: u.LastActive}
}

func (i userItem) domain() domain.User {
	return domain.User{OrgID: i.OrgID, AccountID: i.AccountID, Email: i.Email, DisplayName: i.DisplayName, Status: domain.UserStatus(i.Status),
		OrgAdmin: i.OrgAdmin, SiteAdmin: i.SiteAdmin, External: i.External, InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt,
		VerifiedAt: i.VerifiedAt, VerifyDueAt: i.VerifyDueAt, VerifyState: domain.VerifyState(i.VerifyState), SessionsResetAt: i.SessionsResetAt, LastActive: i.LastActive}
}

// emailItem is the uniqueness guard of an address in an org. An account made
// by an invitation also names that invitation here, so that one read of the
// guards tells an invite which addresses are members and which are invited.
type emailItem struct {
	table.Keys
	OrgID            string
	Email            string
	AccountID        string
	InvitationID     string
	SiteID           string
	ExpiresEpoch     int64
	InvitationStatus string
}

func newEmailItem(u domain.User, inv *domain.Invitation) emailItem {
	it := emailItem{Keys: table.Keys{PK: table.EmailPK(u.OrgID, u.Email), SK: table.SKEmail, Type: typeEmail}, OrgID: u.OrgID, Email: u.Email, AccountID: u.AccountID}
	if inv != nil {
		it.InvitationID, it.SiteID, it.ExpiresEpoch, it.InvitationStatus = inv.ID, inv.SiteID, inv.ExpiresAt.Unix(), string(inv.Status)
	}
	return it
}

func (i emailItem) existing() domain.ExistingAccount {
	e := domain.ExistingAccount{AccountID: i.AccountID, InvitationID: i.InvitationID, SiteID: i.SiteID,
		Status: domain.InvitationStatus(i.InvitationStatus)}
	if i.ExpiresEpoch > 0 {
		e.ExpiresAt = time.Unix(i.ExpiresEpoch, 0).UTC()
	}
	return e
}

type accessItem struct {
	table.Keys
	OrgID     string
	AccountID string
	SiteID    string
	Product   string
	Email     string
	Direct    string
	Groups    map[string]string
	Effective string
	Space     string
	Version   int
}

func newAccessItem(u domain.User, site string, a domain.Access) accessItem {
	k := table.Keys{PK: table.UserPK(u.OrgID, u.AccountID), SK: table.AccessSK(site, string(a.Product)), Type: typeAccess,
		GSI1PK: table.RoleGSI1PK(u.OrgID, site, string(a.Product), string(a.Effective)), GSI1SK: u.Email}
	if a.Space != "" && a.Effective == domain.RoleGuest {
		k.GSI2PK, k.GSI2SK = table.SpaceGuestsGSI2PK(u.OrgID, site, a.Space), u.Email
	} else {
		a.Space = ""
	}
	return accessItem{Keys: k, OrgID: u.OrgID, AccountID: u.AccountID, SiteID: site, Product: string(a.Product), Email: u.Email,
		Direct: string(a.Direct), Groups: roleNames(a.Groups), Effective: string(a.Effective), Space: a.Space, Version: a.Version}
}

func (i accessItem) domain() domain.Access {
	a := domain.Access{Product: domain.Product(i.Product), Direct: domain.Role(i.Direct), Effective: domain.Role(i.Effective), Space: i.Space, Version: i.Version}
	if a.Direct == "" {
		a.Direct = domain.RoleNone
	}
	if len(i.Groups) > 0 {
		a.Groups = map[string]domain.Role{}
		for g, r := range i.Groups {
			a.Groups[g] = domain.Role(r)
		}
	}
	return a
}

// roleNames encodes roles by group id; nil when there are none.
func roleNames(m map[string]domain.Role) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, r := range m {
		out[k] = string(r)
	}
	return out
}

type memberItem struct {
	table.Keys
	OrgID     string
	AccountID string
	Group     string
	Email     string
}

func newMemberItem(u domain.User, group string) memberItem {
	return memberItem{Keys: table.Keys{PK: table.UserPK(u.OrgID, u.AccountID), SK: table.MemberSK(group), Type: typeMember,
		GSI1PK: table.MembersGSI1PK(u.OrgID, group), GSI1SK: u.Email}, OrgID: u.OrgID, AccountID: u.AccountID, Group: group, Email: u.Email}
}

type invitationItem struct {
	table.Keys
	OrgID        string
	InvitationID string
	SiteID       string
	AccountID    string
	Email        string
	InvitedBy    string
	InviterName  string
	OrgName      string
	SiteName     string
	SiteHost     string
	Roles        map[string]string
	Effective    map[string]string
	Groups       []string
	Kind         string
	Message      string
	TokenHash    string
	Status       string
	Delivery     string
	DeliveryNote string
	MessageID    string
	Attempts     int
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ExpiresEpoch int64 // for conditions: numbers compare safely
	AcceptedAt   *time.Time
	ResentAt     *time.Time
	RequestID    string
	Version      int
}

// newInvitationItem encodes an invitation. A pending invitation is always in
// the due-work index (GSI3), once: while its email is not delivered under
// DUE#EMAIL at retryAt, so a crash or an SES failure between the write and
// the send loses nothing; once delivered under DUE#EXPIRE at its expiry, so
// the release job finds it when it lapses. Any other status has no entry.
// Every write of an invitation that changes its status, delivery or expiry
// is a whole-item rewrite through here, so the entry always matches.
func newInvitationItem(inv domain.Invitation, retryAt time.Time, version int) invitationItem {
	k := table.Keys{PK: table.UserPK(inv.OrgID, inv.AccountID), SK: table.InviteSK(inv.ID), Type: typeInvitation,
		GSI1PK: table.InvitesGSI1PK(inv.OrgID, inv.SiteID), GSI1SK: inv.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + inv.ID}
	switch {
	case inv.Status != domain.InvitationPending:
	case !inv.Delivery.Settled():
		// An email never due past the link's expiry: a lapsed undelivered
		// invitation is released by the retry job when it lapses.
		if !inv.ExpiresAt.IsZero() && retryAt.After(inv.ExpiresAt) {
			retryAt = inv.ExpiresAt
		}
		k.GSI3PK, k.GSI3SK = table.DueEmailPK(inv.ID), table.DueSK(retryAt, inv.OrgID, inv.ID)
	default:
		k.GSI3PK, k.GSI3SK = table.DueExpirePK(inv.ID), table.DueSK(inv.ExpiresAt, inv.OrgID, inv.ID)
	}
	it := invitationItem{Keys: k, OrgID: inv.OrgID, InvitationID: inv.ID, SiteID: inv.SiteID, AccountID: inv.AccountID, Email: inv.Email,
		InvitedBy: inv.InvitedBy, InviterName: inv.InviterName, OrgName: inv.OrgName, SiteName: inv.SiteName, SiteHost: inv.SiteHost, Roles: roleMap(inv.Roles), Effective: roleMap(inv.EffectiveRoles), Groups: inv.Groups, Kind: string(inv.Kind), Message: inv.Message,
		TokenHash: inv.TokenHash, Status: string(inv.Status), Delivery: string(inv.Delivery), DeliveryNote: inv.DeliveryNote,
		MessageID: inv.MessageID, Attempts: inv.Attempts, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, ExpiresEpoch: inv.ExpiresAt.Unix(), RequestID: inv.RequestID, Version: version}
	if !inv.AcceptedAt.IsZero() {
		t := inv.AcceptedAt
		it.AcceptedAt = &t
	}
	if !inv.ResentAt.IsZero() {
		t := inv.ResentAt
		it.ResentAt = &t
	}
	return it
}

func (i invitationItem) domain() domain.Invitation {
	inv := domain.Invitation{OrgID: i.OrgID, ID: i.InvitationID, SiteID: i.SiteID, AccountID: i.AccountID, Email: i.Email, InvitedBy: i.InvitedBy,
		InviterName: i.InviterName, OrgName: i.OrgName, SiteName: i.SiteName, SiteHost: i.SiteHost, Roles: map[domain.Product]domain.Role{}, Groups: i.Groups, Kind: domain.Kind(i.Kind), Message: i.Message,
		TokenHash: i.TokenHash, Status: domain.InvitationStatus(i.Status), Delivery: domain.DeliveryStatus(i.Delivery), DeliveryNote: i.DeliveryNote,
		MessageID: i.MessageID, Attempts: i.Attempts, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, RequestID: i.RequestID, Version: i.Version}
	for p, r := range i.Roles {
		inv.Roles[domain.Product(p)] = domain.Role(r)
	}
	if len(i.Effective) > 0 {
		inv.EffectiveRoles = map[domain.Product]domain.Role{}
		for p, r := range i.Effective {
			inv.EffectiveRoles[domain.Product(p)] = domain.Role(r)
		}
	}
	if i.AcceptedAt != nil {
		inv.AcceptedAt = *i.AcceptedAt
	}
	if i.ResentAt != nil {
		inv.ResentAt = *i.ResentAt
	}
	return inv
}

type tokenItem struct {
	table.Keys
	OrgID        string
	AccountID    string
	InvitationID string
	ExpiresAt    time.Time
}

// tokenRetention keeps a token item past its expiry so that the page can say
// "expired" rather than "unknown"; TTL removes it afterwards.
const tokenRetention = 30 * 24 * time.Hour

func newTokenItem(inv domain.Invitation) tokenItem {
	return tokenItem{Keys: table.Keys{PK: table.TokenPK(inv.TokenHash), SK: table.SKToken, Type: typeToken, TTL: table.TTL(inv.ExpiresAt.Add(tokenRetention))},
		OrgID: inv.OrgID, AccountID: inv.AccountID, InvitationID: inv.ID, ExpiresAt: inv.ExpiresAt}
}

type idemItem struct {
	table.Keys
	RequestHash string
	Done        bool
	Status      int
	Headers     map[string]string
	Body        []byte
	LockedUntil int64 // epoch milliseconds
	// Claim identifies the request that claimed the key (random, per
	// request): it tells that request's own claim from another's.
	Claim string
}

type auditItem struct {
	table.Keys
	OrgID     string
	AuditID   string
	At        time.Time
	Actor     string
	Action    string
	Target    string
	Before    string // JSON
	After     string // JSON
	RequestID string
}

// auditRetention is how long audit entries are kept before TTL removes them.
const auditRetention = 400 * 24 * time.Hour

func newAuditItem(a domain.AuditEntry) auditItem {
	enc := func(m map[string]any) string {
		if m == nil {
			return ""
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	sk := table.AuditSK(a.At, a.ID)
	// GSI1 lists an actor's entries, GSI2 a target's, newest first (A23).
	return auditItem{Keys: table.Keys{PK: table.AuditPK(a.OrgID, a.At), SK: sk, Type: typeAudit, TTL: table.TTL(a.At.Add(auditRetention)),
		GSI1PK: auditActorGSI1PK(a.OrgID, a.Actor), GSI1SK: sk, GSI2PK: auditTargetGSI2PK(a.OrgID, a.Target), GSI2SK: sk},
		OrgID: a.OrgID, AuditID: a.ID, At: a.At, Actor: a.Actor, Action: a.Action, Target: a.Target, Before: enc(a.Before), After: enc(a.After), RequestID: a.RequestID}
}

// roleMap encodes roles by product; nil when there are none (nothing is
// stored for an empty map).
func roleMap(m map[domain.Product]domain.Role) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for p, r := range m {
		out[string(p)] = string(r)
	}
	return out
}

// The encodings of the items (see codec.go). Attribute names are the
// table's contract (docs/data-model.md).

func (i orgItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("name", i.Name)
	e.List("verifiedDomains", i.VerifiedDomains)
	e.T("createdAt", i.CreatedAt)
	encodePolicy(e, "", i.Policy)
	if i.TestPolicy != nil && len(i.TestPolicy.Users) > 0 {
		encodePolicy(e, "test", i.TestPolicy.Settings)
		e.List("testUsers", i.TestPolicy.Users)
	}
	e.NZ("policyVersion", int64(i.PolicyVersion))
	e.T("sessionsResetAt", i.SessionsResetAt)
	return table.Item(e)
}

// encodePolicy writes policy settings as attributes named with a prefix
// ("" for the org's policy, "test" for the test policy): twoStep,
// verifyEveryDays, blockApiTokens (testTwoStep, ...). Off settings are left out.
func encodePolicy(e table.Enc, prefix string, p domain.PolicySettings) {
	if p.TwoStep {
		e.B(policyAttr(prefix, "twoStep"), true)
	}
	e.NZ(policyAttr(prefix, "verifyEveryDays"), int64(p.VerifyEveryDays))
	if p.BlockAPITokens {
		e.B(policyAttr(prefix, "blockApiTokens"), true)
	}
}

func decodePolicy(d *table.Dec, prefix string) domain.PolicySettings {
	return domain.PolicySettings{TwoStep: d.B(policyAttr(prefix, "twoStep")), VerifyEveryDays: int(d.N(policyAttr(prefix, "verifyEveryDays"))),
		BlockAPITokens: d.B(policyAttr(prefix, "blockApiTokens"))}
}

func policyAttr(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + strings.ToUpper(name[:1]) + name[1:]
}

func decodeOrg(it table.Item) (orgItem, error) {
	d := &table.Dec{It: it}
	o := orgItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), Name: d.S("name"), VerifiedDomains: d.List("verifiedDomains"), CreatedAt: d.T("createdAt"),
		Policy: decodePolicy(d, ""), PolicyVersion: int(d.N("policyVersion")), SessionsResetAt: d.T("sessionsResetAt")}
	if users := d.List("testUsers"); len(users) > 0 {
		o.TestPolicy = &domain.TestPolicy{Settings: decodePolicy(d, "test"), Users: users}
	}
	return o, d.Err
}

func (i siteItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("siteId", i.SiteID)
	e.S("name", i.Name)
	e.S("host", i.Host)
	e.N("paidUsers", i.PaidUsers)
	e.N("guests", i.Guests)
	e.N("guestSlots", i.GuestSlots)
	if i.UserLimit > 0 {
		e.N("userLimit", i.UserLimit)
		e.N("userSlots", i.UserSlots)
	}
	e.T("createdAt", i.CreatedAt)
	return table.Item(e)
}

func decodeSite(it table.Item) (siteItem, error) {
	d := &table.Dec{It: it}
	return siteItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), SiteID: d.S("siteId"), Name: d.S("name"), Host: d.S("host"),
		PaidUsers: d.N("paidUsers"), Guests: d.N("guests"), GuestSlots: d.N("guestSlots"), Reserved: d.N("reserved"),
		UserLimit: d.N("userLimit"), UserSlots: d.N("userSlots"), ReservedUsers: d.N("reservedUsers"), CreatedAt: d.T("createdAt")}, d.Err
}

func (i groupItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("groupId", i.GroupID)
	e.S("name", i.Name)
	e.S("nameKey", i.NameKey)
	e.M("roles", i.Roles)
	e.N("memberCount", i.MemberCount)
	e.N("version", int64(i.Version))
	e.T("createdAt", i.CreatedAt)
	if i.Deleting {
		e.B("deleting", true)
	}
	return table.Item(e)
}

func decodeGroup(it table.Item) (groupItem, error) {
	d := &table.Dec{It: it}
	return groupItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), GroupID: d.S("groupId"), Name: d.S("name"), NameKey: d.S("nameKey"),
		Roles: d.M("roles"), MemberCount: d.N("memberCount"), Version: int(d.N("version")), CreatedAt: d.T("createdAt"), Deleting: d.B("deleting")}, d.Err
}

func (i groupNameItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("groupId", i.GroupID)
	return table.Item(e)
}

func (i userItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("accountId", i.AccountID)
	e.S("email", i.Email)
	e.S("displayName", i.DisplayName)
	e.S("status", i.Status)
	e.B("orgAdmin", i.OrgAdmin)
	e.List("siteAdmin", i.SiteAdmin)
	e.B("external", i.External)
	e.S("invitedBy", i.InvitedBy)
	e.T("createdAt", i.CreatedAt)
	e.T("verifiedAt", i.VerifiedAt)
	e.T("verifyDueAt", i.VerifyDueAt)
	e.S("verifyState", i.VerifyState)
	e.T("sessionsResetAt", i.SessionsResetAt)
	e.T("lastActive", i.LastActive)
	return table.Item(e)
}

func decodeUser(it table.Item) (userItem, error) {
	d := &table.Dec{It: it}
	return userItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), AccountID: d.S("accountId"), Email: d.S("email"), DisplayName: d.S("displayName"),
		Status: d.S("status"), OrgAdmin: d.B("orgAdmin"), SiteAdmin: d.List("siteAdmin"), External: d.B("external"), InvitedBy: d.S("invitedBy"),
		CreatedAt: d.T("createdAt"), VerifiedAt: d.T("verifiedAt"), VerifyDueAt: d.T("verifyDueAt"), VerifyState: d.S("verifyState"),
		SessionsResetAt: d.T("sessionsResetAt"), LastActive: d.T("lastActive")}, d.Err
}

func (i emailItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("email", i.Email)
	e.S("accountId", i.AccountID)
	e.S("invitationId", i.InvitationID)
	e.S("siteId", i.SiteID)
	e.NZ("expiresEpoch", i.ExpiresEpoch)
	e.S("invitationStatus", i.InvitationStatus)
	return table.Item(e)
}

func decodeEmail(it table.Item) (emailItem, error) {
	d := &table.Dec{It: it}
	return emailItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), Email: d.S("email"), AccountID: d.S("accountId"), InvitationID: d.S("invitationId"),
		SiteID: d.S("siteId"), ExpiresEpoch: d.N("expiresEpoch"), InvitationStatus: d.S("invitationStatus")}, d.Err
}

func (i accessItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("accountId", i.AccountID)
	e.S("siteId", i.SiteID)
	e.S("product", i.Product)
	e.S("email", i.Email)
	e.S("direct", i.Direct)
	e.M("groups", i.Groups)
	e.S("effective", i.Effective)
	e.S("space", i.Space)
	e.N("version", int64(i.Version))
	return table.Item(e)
}

func decodeAccess(it table.Item) (accessItem, error) {
	d := &table.Dec{It: it}
	return accessItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), AccountID: d.S("accountId"), SiteID: d.S("siteId"), Product: d.S("product"),
		Email: d.S("email"), Direct: d.S("direct"), Groups: d.M("groups"), Effective: d.S("effective"), Space: d.S("space"), Version: int(d.N("version"))}, d.Err
}

func (i memberItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("accountId", i.AccountID)
	e.S("group", i.Group)
	e.S("email", i.Email)
	return table.Item(e)
}

func (i invitationItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("invitationId", i.InvitationID)
	e.S("siteId", i.SiteID)
	e.S("accountId", i.AccountID)
	e.S("email", i.Email)
	e.S("invitedBy", i.InvitedBy)
	e.S("inviterName", i.InviterName)
	e.S("orgName", i.OrgName)
	e.S("siteName", i.SiteName)
	e.S("siteHost", i.SiteHost)
	e.M("roles", i.Roles)
	e.M("effective", i.Effective)
	e.List("groups", i.Groups)
	e.S("kind", i.Kind)
	e.S("message", i.Message)
	e.S("tokenHash", i.TokenHash)
	e.S("status", i.Status)
	e.S("delivery", i.Delivery)
	e.S("deliveryNote", i.DeliveryNote)
	e.S("messageId", i.MessageID)
	e.N("attempts", int64(i.Attempts))
	e.T("createdAt", i.CreatedAt)
	e.T("expiresAt", i.ExpiresAt)
	e.N("expiresEpoch", i.ExpiresEpoch)
	if i.AcceptedAt != nil {
		e.T("acceptedAt", *i.AcceptedAt)
	}
	if i.ResentAt != nil {
		e.T("resentAt", *i.ResentAt)
	}
	e.S("requestId", i.RequestID)
	e.N("version", int64(i.Version))
	return table.Item(e)
}

func decodeInvitation(it table.Item) (invitationItem, error) {
	d := &table.Dec{It: it}
	i := invitationItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), InvitationID: d.S("invitationId"), SiteID: d.S("siteId"), AccountID: d.S("accountId"),
		Email: d.S("email"), InvitedBy: d.S("invitedBy"), InviterName: d.S("inviterName"), OrgName: d.S("orgName"), SiteName: d.S("siteName"),
		SiteHost: d.S("siteHost"), Roles: d.M("roles"), Effective: d.M("effective"), Groups: d.List("groups"), Kind: d.S("kind"), Message: d.S("message"),
		TokenHash: d.S("tokenHash"), Status: d.S("status"), Delivery: d.S("delivery"), DeliveryNote: d.S("deliveryNote"), MessageID: d.S("messageId"),
		Attempts: int(d.N("attempts")), CreatedAt: d.T("createdAt"), ExpiresAt: d.T("expiresAt"), ExpiresEpoch: d.N("expiresEpoch"),
		RequestID: d.S("requestId"), Version: int(d.N("version"))}
	if t := d.T("acceptedAt"); !t.IsZero() {
		i.AcceptedAt = &t
	}
	if t := d.T("resentAt"); !t.IsZero() {
		i.ResentAt = &t
	}
	return i, d.Err
}

func (i tokenItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("accountId", i.AccountID)
	e.S("invitationId", i.InvitationID)
	e.T("expiresAt", i.ExpiresAt)
	return table.Item(e)
}

func decodeToken(it table.Item) (tokenItem, error) {
	d := &table.Dec{It: it}
	return tokenItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), AccountID: d.S("accountId"), InvitationID: d.S("invitationId"), ExpiresAt: d.T("expiresAt")}, d.Err
}

func (i idemItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("requestHash", i.RequestHash)
	e.B("done", i.Done)
	e.NZ("status", int64(i.Status))
	e.M("headers", i.Headers)
	e.Bin("body", i.Body)
	e.N("lockedUntil", i.LockedUntil)
	e.S("claim", i.Claim)
	return table.Item(e)
}

func decodeIdem(it table.Item) (idemItem, error) {
	d := &table.Dec{It: it}
	return idemItem{Keys: table.DecodeKeys(d), RequestHash: d.S("requestHash"), Done: d.B("done"), Status: int(d.N("status")), Headers: d.M("headers"),
		Body: d.Bin("body"), LockedUntil: d.N("lockedUntil"), Claim: d.S("claim")}, d.Err
}

func (i auditItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("auditId", i.AuditID)
	e.T("at", i.At)
	e.S("actor", i.Actor)
	e.S("action", i.Action)
	e.S("target", i.Target)
	e.S("before", i.Before)
	e.S("after", i.After)
	e.S("requestId", i.RequestID)
	return table.Item(e)
}

// spaceItem is a Confluence space of a site; its GSI2 entry lists the site's
// spaces by key.
type spaceItem struct {
	table.Keys
	OrgID           string
	SiteID          string
	Key             string
	Name            string
	AnonymousAccess bool
	CreatedAt       time.Time
	CreatedBy       string
	Version         int
}

func newSpaceItem(sp domain.Space) spaceItem {
	return spaceItem{Keys: table.Keys{PK: table.SpacePK(sp.OrgID, sp.SiteID, sp.Key), SK: table.SKSpace, Type: typeSpace,
		GSI2PK: table.SpacesGSI2PK(sp.OrgID, sp.SiteID), GSI2SK: sp.Key},
		OrgID: sp.OrgID, SiteID: sp.SiteID, Key: sp.Key, Name: sp.Name, AnonymousAccess: sp.AnonymousAccess, CreatedAt: sp.CreatedAt, CreatedBy: sp.CreatedBy, Version: sp.Version}
}

func (i spaceItem) domain() domain.Space {
	return domain.Space{OrgID: i.OrgID, SiteID: i.SiteID, Key: i.Key, Name: i.Name, AnonymousAccess: i.AnonymousAccess, CreatedAt: i.CreatedAt, CreatedBy: i.CreatedBy, Version: i.Version}
}

func (i spaceItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("siteId", i.SiteID)
	e.S("key", i.Key)
	e.S("name", i.Name)
	e.B("anonymousAccess", i.AnonymousAccess)
	e.T("createdAt", i.CreatedAt)
	e.S("createdBy", i.CreatedBy)
	e.NZ("version", int64(i.Version))
	return table.Item(e)
}

func decodeSpace(it table.Item) (spaceItem, error) {
	d := &table.Dec{It: it}
	return spaceItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), SiteID: d.S("siteId"), Key: d.S("key"), Name: d.S("name"),
		AnonymousAccess: d.B("anonymousAccess"), CreatedAt: d.T("createdAt"), CreatedBy: d.S("createdBy"), Version: int(d.N("version"))}, d.Err
}

// spaceAdminItem makes an account an admin of one space (rules §5: space admins
// assign and unassign guests to their space only).
type spaceAdminItem struct {
	table.Keys
	OrgID     string
	SiteID    string
	Space     string
	AccountID string
	CreatedAt time.Time
}

func newSpaceAdminItem(orgID, siteID, space, accountID string, at time.Time) spaceAdminItem {
	return spaceAdminItem{Keys: table.Keys{PK: table.SpacePK(orgID, siteID, space), SK: table.SpaceAdminSK(accountID), Type: typeSpaceAdmin},
		OrgID: orgID, SiteID: siteID, Space: space, AccountID: accountID, CreatedAt: at}
}

func (i spaceAdminItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("siteId", i.SiteID)
	e.S("space", i.Space)
	e.S("accountId", i.AccountID)
	e.T("createdAt", i.CreatedAt)
	return table.Item(e)
}

func decodeSpaceAdmin(it table.Item) (spaceAdminItem, error) {
	d := &table.Dec{It: it}
	return spaceAdminItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), SiteID: d.S("siteId"), Space: d.S("space"), AccountID: d.S("accountId"), CreatedAt: d.T("createdAt")}, d.Err
}

// invRefItem points from an invitation's id to the account it is kept under
// (A14: an invitation by id). Written with the invitation, never changed.
type invRefItem struct {
	table.Keys
	OrgID        string
	InvitationID string
	AccountID    string
	SiteID       string
}

func newInvRefItem(inv domain.Invitation) invRefItem {
	return invRefItem{Keys: table.Keys{PK: table.InvRefPK(inv.OrgID, inv.ID), SK: table.SKInvRef, Type: typeInvRef},
		OrgID: inv.OrgID, InvitationID: inv.ID, AccountID: inv.AccountID, SiteID: inv.SiteID}
}

func (i invRefItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("invitationId", i.InvitationID)
	e.S("accountId", i.AccountID)
	e.S("siteId", i.SiteID)
	return table.Item(e)
}

func decodeInvRef(it table.Item) (invRefItem, error) {
	d := &table.Dec{It: it}
	return invRefItem{Keys: table.DecodeKeys(d), OrgID: d.S("orgId"), InvitationID: d.S("invitationId"), AccountID: d.S("accountId"), SiteID: d.S("siteId")}, d.Err
}
