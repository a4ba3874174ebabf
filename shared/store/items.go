package store

import (
	"encoding/json"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Item types, as stored. Every item carries its Type so a partition read with
// several types can tell them apart.
const (
	typeOrg        = "org"
	typeSite       = "site"
	typeGroup      = "group"
	typeUser       = "user"
	typeEmail      = "email"
	typeAccess     = "access"
	typeMember     = "member"
	typeInvitation = "invitation"
	typeToken      = "invite-token"
	typeIdem       = "idempotency"
	typeAudit      = "audit"
)

type keys struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	GSI3PK string `dynamodbav:"GSI3PK,omitempty"`
	GSI3SK string `dynamodbav:"GSI3SK,omitempty"`
	Type   string `dynamodbav:"type"`
	TTL    int64  `dynamodbav:"ttl,omitempty"`
}

type orgItem struct {
	keys
	OrgID           string    `dynamodbav:"orgId"`
	Name            string    `dynamodbav:"name"`
	VerifiedDomains []string  `dynamodbav:"verifiedDomains,omitempty"`
	CreatedAt       time.Time `dynamodbav:"createdAt"`
}

func newOrgItem(o domain.Org) orgItem {
	return orgItem{keys: keys{PK: orgPK(o.ID), SK: skOrg, Type: typeOrg}, OrgID: o.ID, Name: o.Name, VerifiedDomains: o.VerifiedDomains, CreatedAt: o.CreatedAt}
}

func (i orgItem) domain() domain.Org {
	return domain.Org{ID: i.OrgID, Name: i.Name, VerifiedDomains: i.VerifiedDomains, CreatedAt: i.CreatedAt}
}

type siteItem struct {
	keys
	OrgID      string    `dynamodbav:"orgId"`
	SiteID     string    `dynamodbav:"siteId"`
	Name       string    `dynamodbav:"name"`
	Host       string    `dynamodbav:"host"`
	PaidUsers  int64     `dynamodbav:"paidUsers"`
	Guests     int64     `dynamodbav:"guests"`
	GuestSlots int64     `dynamodbav:"guestSlots"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
}

func newSiteItem(s domain.Site) siteItem {
	return siteItem{keys: keys{PK: orgPK(s.OrgID), SK: siteSK(s.ID), Type: typeSite}, OrgID: s.OrgID, SiteID: s.ID, Name: s.Name, Host: s.Host,
		PaidUsers: s.PaidUsers, Guests: s.Guests, GuestSlots: s.GuestSlots, CreatedAt: s.CreatedAt}
}

func (i siteItem) domain() domain.Site {
	return domain.Site{OrgID: i.OrgID, ID: i.SiteID, Name: i.Name, Host: i.Host, PaidUsers: i.PaidUsers, Guests: i.Guests, GuestSlots: i.GuestSlots, CreatedAt: i.CreatedAt}
}

type groupItem struct {
	keys
	OrgID string            `dynamodbav:"orgId"`
	Name  string            `dynamodbav:"name"`
	Roles map[string]string `dynamodbav:"roles"`
}

func newGroupItem(g domain.Group) groupItem {
	roles := map[string]string{}
	for k, r := range g.Roles {
		roles[k] = string(r)
	}
	return groupItem{keys: keys{PK: orgPK(g.OrgID), SK: groupSK(g.Name), Type: typeGroup}, OrgID: g.OrgID, Name: g.Name, Roles: roles}
}

func (i groupItem) domain() domain.Group {
	g := domain.Group{OrgID: i.OrgID, Name: i.Name, Roles: map[string]domain.Role{}}
	for k, r := range i.Roles {
		g.Roles[k] = domain.Role(r)
	}
	return g
}

type userItem struct {
	keys
	OrgID       string    `dynamodbav:"orgId"`
	AccountID   string    `dynamodbav:"accountId"`
	Email       string    `dynamodbav:"email"`
	DisplayName string    `dynamodbav:"displayName,omitempty"`
	Status      string    `dynamodbav:"status"`
	OrgAdmin    bool      `dynamodbav:"orgAdmin"`
	SiteAdmin   []string  `dynamodbav:"siteAdmin,omitempty"`
	External    bool      `dynamodbav:"external"`
	InvitedBy   string    `dynamodbav:"invitedBy,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func newUserItem(u domain.User) userItem {
	k := keys{PK: userPK(u.OrgID, u.AccountID), SK: skProfile, Type: typeUser, GSI1PK: usersGSI1PK(u.OrgID), GSI1SK: u.Email}
	if u.External {
		k.GSI2PK, k.GSI2SK = externalGSI2PK(u.OrgID), u.Email
	}
	return userItem{keys: k, OrgID: u.OrgID, AccountID: u.AccountID, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status),
		OrgAdmin: u.OrgAdmin, SiteAdmin: u.SiteAdmin, External: u.External, InvitedBy: u.InvitedBy, CreatedAt: u.CreatedAt}
}

func (i userItem) domain() domain.User {
	return domain.User{OrgID: i.OrgID, AccountID: i.AccountID, Email: i.Email, DisplayName: i.DisplayName, Status: domain.UserStatus(i.Status),
		OrgAdmin: i.OrgAdmin, SiteAdmin: i.SiteAdmin, External: i.External, InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt}
}

// emailItem is the uniqueness guard of an address in an org. An account made
// by an invitation also names that invitation here, so that one read of the
// guards tells an invite which addresses are members and which are invited.
type emailItem struct {
	keys
	OrgID            string `dynamodbav:"orgId"`
	Email            string `dynamodbav:"email"`
	AccountID        string `dynamodbav:"accountId"`
	InvitationID     string `dynamodbav:"invitationId,omitempty"`
	SiteID           string `dynamodbav:"siteId,omitempty"`
	ExpiresEpoch     int64  `dynamodbav:"expiresEpoch,omitempty"`
	InvitationStatus string `dynamodbav:"invitationStatus,omitempty"`
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
	OrgID     string `dynamodbav:"orgId"`
	AccountID string `dynamodbav:"accountId"`
	SiteID    string `dynamodbav:"siteId"`
	Product   string `dynamodbav:"product"`
	Email     string `dynamodbav:"email"`
	Direct    string `dynamodbav:"direct"`
	Effective string `dynamodbav:"effective"`
	Space     string `dynamodbav:"space,omitempty"`
}

func newAccessItem(u domain.User, site string, a domain.Access) accessItem {
	k := keys{PK: userPK(u.OrgID, u.AccountID), SK: accessSK(site, string(a.Product)), Type: typeAccess,
		GSI1PK: roleGSI1PK(u.OrgID, site, string(a.Product), string(a.Effective)), GSI1SK: u.Email}
	if a.Space != "" {
		k.GSI2PK, k.GSI2SK = "ORG#"+u.OrgID+"#SITE#"+site+"#SPACE#"+a.Space, u.Email
	}
	return accessItem{keys: k, OrgID: u.OrgID, AccountID: u.AccountID, SiteID: site, Product: string(a.Product), Email: u.Email,
		Direct: string(a.Direct), Effective: string(a.Effective), Space: a.Space}
}

type memberItem struct {
	keys
	OrgID     string `dynamodbav:"orgId"`
	AccountID string `dynamodbav:"accountId"`
	Group     string `dynamodbav:"group"`
	Email     string `dynamodbav:"email"`
}

func newMemberItem(u domain.User, group string) memberItem {
	return memberItem{keys: keys{PK: userPK(u.OrgID, u.AccountID), SK: memberSK(group), Type: typeMember,
		GSI1PK: membersGSI1PK(u.OrgID, group), GSI1SK: u.Email}, OrgID: u.OrgID, AccountID: u.AccountID, Group: group, Email: u.Email}
}

type invitationItem struct {
	keys
	OrgID        string            `dynamodbav:"orgId"`
	InvitationID string            `dynamodbav:"invitationId"`
	SiteID       string            `dynamodbav:"siteId"`
	AccountID    string            `dynamodbav:"accountId"`
	Email        string            `dynamodbav:"email"`
	InvitedBy    string            `dynamodbav:"invitedBy"`
	InviterName  string            `dynamodbav:"inviterName,omitempty"`
	OrgName      string            `dynamodbav:"orgName,omitempty"`
	SiteName     string            `dynamodbav:"siteName,omitempty"`
	SiteHost     string            `dynamodbav:"siteHost,omitempty"`
	Roles        map[string]string `dynamodbav:"roles,omitempty"`
	Effective    map[string]string `dynamodbav:"effective,omitempty"`
	Groups       []string          `dynamodbav:"groups,omitempty"`
	Kind         string            `dynamodbav:"kind"`
	Message      string            `dynamodbav:"message,omitempty"`
	TokenHash    string            `dynamodbav:"tokenHash"`
	Status       string            `dynamodbav:"status"`
	Delivery     string            `dynamodbav:"delivery"`
	DeliveryNote string            `dynamodbav:"deliveryNote,omitempty"`
	MessageID    string            `dynamodbav:"messageId,omitempty"`
	Attempts     int               `dynamodbav:"attempts"`
	CreatedAt    time.Time         `dynamodbav:"createdAt"`
	ExpiresAt    time.Time         `dynamodbav:"expiresAt"`
	ExpiresEpoch int64             `dynamodbav:"expiresEpoch"` // for conditions: numbers compare safely
	AcceptedAt   *time.Time        `dynamodbav:"acceptedAt,omitempty"`
	RequestID    string            `dynamodbav:"requestId,omitempty"`
	Version      int               `dynamodbav:"version"`
}

// newInvitationItem encodes an invitation. An email not yet delivered keeps an
// entry in the due-work index (GSI3) until it is, so a crash or an SES failure
// between the write and the send loses nothing.
func newInvitationItem(inv domain.Invitation, retryAt time.Time, version int) invitationItem {
	k := keys{PK: userPK(inv.OrgID, inv.AccountID), SK: inviteSK(inv.ID), Type: typeInvitation,
		GSI1PK: invitesGSI1PK(inv.OrgID, inv.SiteID), GSI1SK: inv.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + inv.ID}
	if inv.Delivery != domain.DeliverySent && inv.Status == domain.InvitationPending {
		k.GSI3PK, k.GSI3SK = dueEmailPK(inv.ID), dueSK(retryAt, inv.OrgID, inv.ID)
	}
	it := invitationItem{keys: k, OrgID: inv.OrgID, InvitationID: inv.ID, SiteID: inv.SiteID, AccountID: inv.AccountID, Email: inv.Email,
		InvitedBy: inv.InvitedBy, InviterName: inv.InviterName, OrgName: inv.OrgName, SiteName: inv.SiteName, SiteHost: inv.SiteHost, Roles: roleMap(inv.Roles), Effective: roleMap(inv.EffectiveRoles), Groups: inv.Groups, Kind: string(inv.Kind), Message: inv.Message,
		TokenHash: inv.TokenHash, Status: string(inv.Status), Delivery: string(inv.Delivery), DeliveryNote: inv.DeliveryNote,
		MessageID: inv.MessageID, Attempts: inv.Attempts, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, ExpiresEpoch: inv.ExpiresAt.Unix(), RequestID: inv.RequestID, Version: version}
	if !inv.AcceptedAt.IsZero() {
		t := inv.AcceptedAt
		it.AcceptedAt = &t
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
	return inv
}

type tokenItem struct {
	keys
	OrgID        string    `dynamodbav:"orgId"`
	AccountID    string    `dynamodbav:"accountId"`
	InvitationID string    `dynamodbav:"invitationId"`
	ExpiresAt    time.Time `dynamodbav:"expiresAt"`
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
	RequestHash string            `dynamodbav:"requestHash"`
	Done        bool              `dynamodbav:"done"`
	Status      int               `dynamodbav:"status,omitempty"`
	Headers     map[string]string `dynamodbav:"headers,omitempty"`
	Body        []byte            `dynamodbav:"body,omitempty"`
	LockedUntil int64             `dynamodbav:"lockedUntil"` // epoch milliseconds
}

type auditItem struct {
	keys
	OrgID     string    `dynamodbav:"orgId"`
	AuditID   string    `dynamodbav:"auditId"`
	At        time.Time `dynamodbav:"at"`
	Actor     string    `dynamodbav:"actor"`
	Action    string    `dynamodbav:"action"`
	Target    string    `dynamodbav:"target"`
	Before    string    `dynamodbav:"before,omitempty"` // JSON
	After     string    `dynamodbav:"after,omitempty"`  // JSON
	RequestID string    `dynamodbav:"requestId,omitempty"`
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
	return auditItem{keys: keys{PK: auditPK(a.OrgID, a.At), SK: auditSK(a.At, a.ID), Type: typeAudit, TTL: ttl(a.At.Add(auditRetention))},
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
