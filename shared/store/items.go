package store

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
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

type keys struct {
	PK     string
	SK     string
	GSI1PK string
	GSI1SK string
	GSI2PK string
	GSI2SK string
	GSI3PK string
	GSI3SK string
	Type   string
	TTL    int64
}

// orgItem is an org with its external user policy (rules §9): the access
// decision reads the policy from here in its one read.
type orgItem struct {
	keys
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
	return orgItem{keys: keys{PK: orgPK(o.ID), SK: skOrg, Type: typeOrg}, OrgID: o.ID, Name: o.Name, VerifiedDomains: o.VerifiedDomains, CreatedAt: o.CreatedAt,
		Policy: o.Policy, TestPolicy: o.TestPolicy, PolicyVersion: o.PolicyVersion, SessionsResetAt: o.SessionsResetAt}
}

func (i orgItem) domain() domain.Org {
	return domain.Org{ID: i.OrgID, Name: i.Name, VerifiedDomains: i.VerifiedDomains, CreatedAt: i.CreatedAt,
		Policy: i.Policy, TestPolicy: i.TestPolicy, PolicyVersion: i.PolicyVersion, SessionsResetAt: i.SessionsResetAt}
}

type siteItem struct {
	keys
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
	return siteItem{keys: keys{PK: orgPK(s.OrgID), SK: siteSK(s.ID), Type: typeSite}, OrgID: s.OrgID, SiteID: s.ID, Name: s.Name, Host: s.Host,
		PaidUsers: s.PaidUsers, Guests: s.Guests, GuestSlots: s.GuestSlots, UserLimit: s.UserLimit, UserSlots: s.UserSlots, CreatedAt: s.CreatedAt}
}

func (i siteItem) domain() domain.Site {
	return domain.Site{OrgID: i.OrgID, ID: i.SiteID, Name: i.Name, Host: i.Host, PaidUsers: i.PaidUsers, Guests: i.Guests, GuestSlots: i.GuestSlots, Reserved: i.Reserved,
		UserLimit: i.UserLimit, UserSlots: i.UserSlots, ReservedUsers: i.ReservedUsers, CreatedAt: i.CreatedAt}
}

type groupItem struct {
	keys
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
	return groupItem{keys: keys{PK: orgPK(g.OrgID), SK: groupSK(id), Type: typeGroup}, OrgID: g.OrgID, GroupID: id, Name: g.Name,
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
	keys
	GroupID string
}

func newGroupNameItem(orgID, name, groupID string) groupNameItem {
	return groupNameItem{keys: keys{PK: groupNamePK(orgID, domain.GroupNameKey(name)), SK: skGroupName, Type: typeGroupName}, GroupID: groupID}
}

// userItem is an account's profile. Every profile is listed by domain in
// GSI2 (A19: the external users are the ranges outside the verified
// domains), and one with a verification that lapses has its due entry in
// GSI3 (A18, verifyDueKeys).
type userItem struct {
	keys
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
	k := keys{PK: userPK(u.OrgID, u.AccountID), SK: skProfile, Type: typeUser, GSI1PK: usersGSI1PK(u.OrgID), GSI1SK: u.Email,
		GSI2PK: byDomainGSI2PK(u.OrgID), GSI2SK: byDomainGSI2SK(u.Email)}
	k.GSI3PK, k.GSI3SK = verifyDueKeys(u.OrgID, u.AccountID, u.VerifyDueAt, u.VerifyState)
	return userItem{keys: k, OrgID: u.OrgID, AccountID: u.AccountID, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status),
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
	keys
	OrgID            string
	Email            string
	AccountID        string
	InvitationID     string
	SiteID           string
	ExpiresEpoch     int64
	InvitationStatus string
}

func newEmailItem(u domain.User, inv *domain.Invitation) emailItem {
	it := emailItem{keys: keys{PK: emailPK(u.OrgID, u.Email), SK: skEmail, Type: typeEmail}, OrgID: u.OrgID, Email: u.Email, AccountID: u.AccountID}
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
	keys
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
	k := keys{PK: userPK(u.OrgID, u.AccountID), SK: accessSK(site, string(a.Product)), Type: typeAccess,
		GSI1PK: roleGSI1PK(u.OrgID, site, string(a.Product), string(a.Effective)), GSI1SK: u.Email}
	if a.Space != "" && a.Effective == domain.RoleGuest {
		k.GSI2PK, k.GSI2SK = spaceGuestsGSI2PK(u.OrgID, site, a.Space), u.Email
	} else {
		a.Space = ""
	}
	return accessItem{keys: k, OrgID: u.OrgID, AccountID: u.AccountID, SiteID: site, Product: string(a.Product), Email: u.Email,
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
	keys
	OrgID     string
	AccountID string
	Group     string
	Email     string
}

func newMemberItem(u domain.User, group string) memberItem {
	return memberItem{keys: keys{PK: userPK(u.OrgID, u.AccountID), SK: memberSK(group), Type: typeMember,
		GSI1PK: membersGSI1PK(u.OrgID, group), GSI1SK: u.Email}, OrgID: u.OrgID, AccountID: u.AccountID, Group: group, Email: u.Email}
}

type invitationItem struct {
	keys
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
	k := keys{PK: userPK(inv.OrgID, inv.AccountID), SK: inviteSK(inv.ID), Type: typeInvitation,
		GSI1PK: invitesGSI1PK(inv.OrgID, inv.SiteID), GSI1SK: inv.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + inv.ID}
	switch {
	case inv.Status != domain.InvitationPending:
	case !inv.Delivery.Settled():
		// An email never due past the link's expiry: a lapsed undelivered
		// invitation is released by the retry job when it lapses.
		if !inv.ExpiresAt.IsZero() && retryAt.After(inv.ExpiresAt) {
			retryAt = inv.ExpiresAt
		}
		k.GSI3PK, k.GSI3SK = dueEmailPK(inv.ID), dueSK(retryAt, inv.OrgID, inv.ID)
	default:
		k.GSI3PK, k.GSI3SK = dueExpirePK(inv.ID), dueSK(inv.ExpiresAt, inv.OrgID, inv.ID)
	}
	it := invitationItem{keys: k, OrgID: inv.OrgID, InvitationID: inv.ID, SiteID: inv.SiteID, AccountID: inv.AccountID, Email: inv.Email,
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
	keys
	OrgID        string
	AccountID    string
	InvitationID string
	ExpiresAt    time.Time
}

// tokenRetention keeps a token item past its expiry so that the page can say
// "expired" rather than "unknown"; TTL removes it afterwards.
const tokenRetention = 30 * 24 * time.Hour

func newTokenItem(inv domain.Invitation) tokenItem {
	return tokenItem{keys: keys{PK: tokenPK(inv.TokenHash), SK: skToken, Type: typeToken, TTL: ttl(inv.ExpiresAt.Add(tokenRetention))},
		OrgID: inv.OrgID, AccountID: inv.AccountID, InvitationID: inv.ID, ExpiresAt: inv.ExpiresAt}
}

type idemItem struct {
	keys
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
	keys
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
	sk := auditSK(a.At, a.ID)
	// GSI1 lists an actor's entries, GSI2 a target's, newest first (A23).
	return auditItem{keys: keys{PK: auditPK(a.OrgID, a.At), SK: sk, Type: typeAudit, TTL: ttl(a.At.Add(auditRetention)),
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

func (i orgItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("name", i.Name)
	e.list("verifiedDomains", i.VerifiedDomains)
	e.t("createdAt", i.CreatedAt)
	encodePolicy(e, "", i.Policy)
	if i.TestPolicy != nil && len(i.TestPolicy.Users) > 0 {
		encodePolicy(e, "test", i.TestPolicy.Settings)
		e.list("testUsers", i.TestPolicy.Users)
	}
	e.nz("policyVersion", int64(i.PolicyVersion))
	e.t("sessionsResetAt", i.SessionsResetAt)
	return item(e)
}

// encodePolicy writes policy settings as attributes named with a prefix
// ("" for the org's policy, "test" for the test policy): twoStep,
// verifyEveryDays, blockApiTokens (testTwoStep, ...). Off settings are left out.
func encodePolicy(e enc, prefix string, p domain.PolicySettings) {
	if p.TwoStep {
		e.b(policyAttr(prefix, "twoStep"), true)
	}
	e.nz(policyAttr(prefix, "verifyEveryDays"), int64(p.VerifyEveryDays))
	if p.BlockAPITokens {
		e.b(policyAttr(prefix, "blockApiTokens"), true)
	}
}

func decodePolicy(d *dec, prefix string) domain.PolicySettings {
	return domain.PolicySettings{TwoStep: d.b(policyAttr(prefix, "twoStep")), VerifyEveryDays: int(d.n(policyAttr(prefix, "verifyEveryDays"))),
		BlockAPITokens: d.b(policyAttr(prefix, "blockApiTokens"))}
}

func policyAttr(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + strings.ToUpper(name[:1]) + name[1:]
}

func decodeOrg(it item) (orgItem, error) {
	d := &dec{it: it}
	o := orgItem{keys: decodeKeys(d), OrgID: d.s("orgId"), Name: d.s("name"), VerifiedDomains: d.list("verifiedDomains"), CreatedAt: d.t("createdAt"),
		Policy: decodePolicy(d, ""), PolicyVersion: int(d.n("policyVersion")), SessionsResetAt: d.t("sessionsResetAt")}
	if users := d.list("testUsers"); len(users) > 0 {
		o.TestPolicy = &domain.TestPolicy{Settings: decodePolicy(d, "test"), Users: users}
	}
	return o, d.err
}

func (i siteItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("siteId", i.SiteID)
	e.s("name", i.Name)
	e.s("host", i.Host)
	e.n("paidUsers", i.PaidUsers)
	e.n("guests", i.Guests)
	e.n("guestSlots", i.GuestSlots)
	if i.UserLimit > 0 {
		e.n("userLimit", i.UserLimit)
		e.n("userSlots", i.UserSlots)
	}
	e.t("createdAt", i.CreatedAt)
	return item(e)
}

func decodeSite(it item) (siteItem, error) {
	d := &dec{it: it}
	return siteItem{keys: decodeKeys(d), OrgID: d.s("orgId"), SiteID: d.s("siteId"), Name: d.s("name"), Host: d.s("host"),
		PaidUsers: d.n("paidUsers"), Guests: d.n("guests"), GuestSlots: d.n("guestSlots"), Reserved: d.n("reserved"),
		UserLimit: d.n("userLimit"), UserSlots: d.n("userSlots"), ReservedUsers: d.n("reservedUsers"), CreatedAt: d.t("createdAt")}, d.err
}

func (i groupItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("groupId", i.GroupID)
	e.s("name", i.Name)
	e.s("nameKey", i.NameKey)
	e.m("roles", i.Roles)
	e.n("memberCount", i.MemberCount)
	e.n("version", int64(i.Version))
	e.t("createdAt", i.CreatedAt)
	if i.Deleting {
		e.b("deleting", true)
	}
	return item(e)
}

func decodeGroup(it item) (groupItem, error) {
	d := &dec{it: it}
	return groupItem{keys: decodeKeys(d), OrgID: d.s("orgId"), GroupID: d.s("groupId"), Name: d.s("name"), NameKey: d.s("nameKey"),
		Roles: d.m("roles"), MemberCount: d.n("memberCount"), Version: int(d.n("version")), CreatedAt: d.t("createdAt"), Deleting: d.b("deleting")}, d.err
}

func (i groupNameItem) item() item {
	e := i.keys.encode()
	e.s("groupId", i.GroupID)
	return item(e)
}

func (i userItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("accountId", i.AccountID)
	e.s("email", i.Email)
	e.s("displayName", i.DisplayName)
	e.s("status", i.Status)
	e.b("orgAdmin", i.OrgAdmin)
	e.list("siteAdmin", i.SiteAdmin)
	e.b("external", i.External)
	e.s("invitedBy", i.InvitedBy)
	e.t("createdAt", i.CreatedAt)
	e.t("verifiedAt", i.VerifiedAt)
	e.t("verifyDueAt", i.VerifyDueAt)
	e.s("verifyState", i.VerifyState)
	e.t("sessionsResetAt", i.SessionsResetAt)
	e.t("lastActive", i.LastActive)
	return item(e)
}

func decodeUser(it item) (userItem, error) {
	d := &dec{it: it}
	return userItem{keys: decodeKeys(d), OrgID: d.s("orgId"), AccountID: d.s("accountId"), Email: d.s("email"), DisplayName: d.s("displayName"),
		Status: d.s("status"), OrgAdmin: d.b("orgAdmin"), SiteAdmin: d.list("siteAdmin"), External: d.b("external"), InvitedBy: d.s("invitedBy"),
		CreatedAt: d.t("createdAt"), VerifiedAt: d.t("verifiedAt"), VerifyDueAt: d.t("verifyDueAt"), VerifyState: d.s("verifyState"),
		SessionsResetAt: d.t("sessionsResetAt"), LastActive: d.t("lastActive")}, d.err
}

func (i emailItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("email", i.Email)
	e.s("accountId", i.AccountID)
	e.s("invitationId", i.InvitationID)
	e.s("siteId", i.SiteID)
	e.nz("expiresEpoch", i.ExpiresEpoch)
	e.s("invitationStatus", i.InvitationStatus)
	return item(e)
}

func decodeEmail(it item) (emailItem, error) {
	d := &dec{it: it}
	return emailItem{keys: decodeKeys(d), OrgID: d.s("orgId"), Email: d.s("email"), AccountID: d.s("accountId"), InvitationID: d.s("invitationId"),
		SiteID: d.s("siteId"), ExpiresEpoch: d.n("expiresEpoch"), InvitationStatus: d.s("invitationStatus")}, d.err
}

func (i accessItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("accountId", i.AccountID)
	e.s("siteId", i.SiteID)
	e.s("product", i.Product)
	e.s("email", i.Email)
	e.s("direct", i.Direct)
	e.m("groups", i.Groups)
	e.s("effective", i.Effective)
	e.s("space", i.Space)
	e.n("version", int64(i.Version))
	return item(e)
}

func decodeAccess(it item) (accessItem, error) {
	d := &dec{it: it}
	return accessItem{keys: decodeKeys(d), OrgID: d.s("orgId"), AccountID: d.s("accountId"), SiteID: d.s("siteId"), Product: d.s("product"),
		Email: d.s("email"), Direct: d.s("direct"), Groups: d.m("groups"), Effective: d.s("effective"), Space: d.s("space"), Version: int(d.n("version"))}, d.err
}

func (i memberItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("accountId", i.AccountID)
	e.s("group", i.Group)
	e.s("email", i.Email)
	return item(e)
}

func (i invitationItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("invitationId", i.InvitationID)
	e.s("siteId", i.SiteID)
	e.s("accountId", i.AccountID)
	e.s("email", i.Email)
	e.s("invitedBy", i.InvitedBy)
	e.s("inviterName", i.InviterName)
	e.s("orgName", i.OrgName)
	e.s("siteName", i.SiteName)
	e.s("siteHost", i.SiteHost)
	e.m("roles", i.Roles)
	e.m("effective", i.Effective)
	e.list("groups", i.Groups)
	e.s("kind", i.Kind)
	e.s("message", i.Message)
	e.s("tokenHash", i.TokenHash)
	e.s("status", i.Status)
	e.s("delivery", i.Delivery)
	e.s("deliveryNote", i.DeliveryNote)
	e.s("messageId", i.MessageID)
	e.n("attempts", int64(i.Attempts))
	e.t("createdAt", i.CreatedAt)
	e.t("expiresAt", i.ExpiresAt)
	e.n("expiresEpoch", i.ExpiresEpoch)
	if i.AcceptedAt != nil {
		e.t("acceptedAt", *i.AcceptedAt)
	}
	if i.ResentAt != nil {
		e.t("resentAt", *i.ResentAt)
	}
	e.s("requestId", i.RequestID)
	e.n("version", int64(i.Version))
	return item(e)
}

func decodeInvitation(it item) (invitationItem, error) {
	d := &dec{it: it}
	i := invitationItem{keys: decodeKeys(d), OrgID: d.s("orgId"), InvitationID: d.s("invitationId"), SiteID: d.s("siteId"), AccountID: d.s("accountId"),
		Email: d.s("email"), InvitedBy: d.s("invitedBy"), InviterName: d.s("inviterName"), OrgName: d.s("orgName"), SiteName: d.s("siteName"),
		SiteHost: d.s("siteHost"), Roles: d.m("roles"), Effective: d.m("effective"), Groups: d.list("groups"), Kind: d.s("kind"), Message: d.s("message"),
		TokenHash: d.s("tokenHash"), Status: d.s("status"), Delivery: d.s("delivery"), DeliveryNote: d.s("deliveryNote"), MessageID: d.s("messageId"),
		Attempts: int(d.n("attempts")), CreatedAt: d.t("createdAt"), ExpiresAt: d.t("expiresAt"), ExpiresEpoch: d.n("expiresEpoch"),
		RequestID: d.s("requestId"), Version: int(d.n("version"))}
	if t := d.t("acceptedAt"); !t.IsZero() {
		i.AcceptedAt = &t
	}
	if t := d.t("resentAt"); !t.IsZero() {
		i.ResentAt = &t
	}
	return i, d.err
}

func (i tokenItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("accountId", i.AccountID)
	e.s("invitationId", i.InvitationID)
	e.t("expiresAt", i.ExpiresAt)
	return item(e)
}

func decodeToken(it item) (tokenItem, error) {
	d := &dec{it: it}
	return tokenItem{keys: decodeKeys(d), OrgID: d.s("orgId"), AccountID: d.s("accountId"), InvitationID: d.s("invitationId"), ExpiresAt: d.t("expiresAt")}, d.err
}

func (i idemItem) item() item {
	e := i.keys.encode()
	e.s("requestHash", i.RequestHash)
	e.b("done", i.Done)
	e.nz("status", int64(i.Status))
	e.m("headers", i.Headers)
	e.bin("body", i.Body)
	e.n("lockedUntil", i.LockedUntil)
	e.s("claim", i.Claim)
	return item(e)
}

func decodeIdem(it item) (idemItem, error) {
	d := &dec{it: it}
	return idemItem{keys: decodeKeys(d), RequestHash: d.s("requestHash"), Done: d.b("done"), Status: int(d.n("status")), Headers: d.m("headers"),
		Body: d.bin("body"), LockedUntil: d.n("lockedUntil"), Claim: d.s("claim")}, d.err
}

func (i auditItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("auditId", i.AuditID)
	e.t("at", i.At)
	e.s("actor", i.Actor)
	e.s("action", i.Action)
	e.s("target", i.Target)
	e.s("before", i.Before)
	e.s("after", i.After)
	e.s("requestId", i.RequestID)
	return item(e)
}

// spaceItem is a Confluence space of a site; its GSI2 entry lists the site's
// spaces by key.
type spaceItem struct {
	keys
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
	return spaceItem{keys: keys{PK: spacePK(sp.OrgID, sp.SiteID, sp.Key), SK: skSpace, Type: typeSpace,
		GSI2PK: spacesGSI2PK(sp.OrgID, sp.SiteID), GSI2SK: sp.Key},
		OrgID: sp.OrgID, SiteID: sp.SiteID, Key: sp.Key, Name: sp.Name, AnonymousAccess: sp.AnonymousAccess, CreatedAt: sp.CreatedAt, CreatedBy: sp.CreatedBy, Version: sp.Version}
}

func (i spaceItem) domain() domain.Space {
	return domain.Space{OrgID: i.OrgID, SiteID: i.SiteID, Key: i.Key, Name: i.Name, AnonymousAccess: i.AnonymousAccess, CreatedAt: i.CreatedAt, CreatedBy: i.CreatedBy, Version: i.Version}
}

func (i spaceItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("siteId", i.SiteID)
	e.s("key", i.Key)
	e.s("name", i.Name)
	e.b("anonymousAccess", i.AnonymousAccess)
	e.t("createdAt", i.CreatedAt)
	e.s("createdBy", i.CreatedBy)
	e.nz("version", int64(i.Version))
	return item(e)
}

func decodeSpace(it item) (spaceItem, error) {
	d := &dec{it: it}
	return spaceItem{keys: decodeKeys(d), OrgID: d.s("orgId"), SiteID: d.s("siteId"), Key: d.s("key"), Name: d.s("name"),
		AnonymousAccess: d.b("anonymousAccess"), CreatedAt: d.t("createdAt"), CreatedBy: d.s("createdBy"), Version: int(d.n("version"))}, d.err
}

// spaceAdminItem makes an account an admin of one space (rules §5: space admins
// assign and unassign guests to their space only).
type spaceAdminItem struct {
	keys
	OrgID     string
	SiteID    string
	Space     string
	AccountID string
	CreatedAt time.Time
}

func newSpaceAdminItem(orgID, siteID, space, accountID string, at time.Time) spaceAdminItem {
	return spaceAdminItem{keys: keys{PK: spacePK(orgID, siteID, space), SK: spaceAdminSK(accountID), Type: typeSpaceAdmin},
		OrgID: orgID, SiteID: siteID, Space: space, AccountID: accountID, CreatedAt: at}
}

func (i spaceAdminItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("siteId", i.SiteID)
	e.s("space", i.Space)
	e.s("accountId", i.AccountID)
	e.t("createdAt", i.CreatedAt)
	return item(e)
}

func decodeSpaceAdmin(it item) (spaceAdminItem, error) {
	d := &dec{it: it}
	return spaceAdminItem{keys: decodeKeys(d), OrgID: d.s("orgId"), SiteID: d.s("siteId"), Space: d.s("space"), AccountID: d.s("accountId"), CreatedAt: d.t("createdAt")}, d.err
}

// invRefItem points from an invitation's id to the account it is kept under
// (A14: an invitation by id). Written with the invitation, never changed.
type invRefItem struct {
	keys
	OrgID        string
	InvitationID string
	AccountID    string
	SiteID       string
}

func newInvRefItem(inv domain.Invitation) invRefItem {
	return invRefItem{keys: keys{PK: invRefPK(inv.OrgID, inv.ID), SK: skInvRef, Type: typeInvRef},
		OrgID: inv.OrgID, InvitationID: inv.ID, AccountID: inv.AccountID, SiteID: inv.SiteID}
}

func (i invRefItem) item() item {
	e := i.keys.encode()
	e.s("orgId", i.OrgID)
	e.s("invitationId", i.InvitationID)
	e.s("accountId", i.AccountID)
	e.s("siteId", i.SiteID)
	return item(e)
}

func decodeInvRef(it item) (invRefItem, error) {
	d := &dec{it: it}
	return invRefItem{keys: decodeKeys(d), OrgID: d.s("orgId"), InvitationID: d.s("invitationId"), AccountID: d.s("accountId"), SiteID: d.s("siteId")}, d.err
}
