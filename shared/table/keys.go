// Package table is the mechanics of the single table described in
// docs/data-model.md: its client with the write guards (nothing empty is stored;
// every write waits on the request's write gate), the keys and index
// names, the item codec, reads by key, transactions with conflict retry,
// DynamoDB's limits, and the one builder of the seat counter's updates.
// The capabilities' queries (package store for now) are written over it.
package table

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Index names.
const (
	GSI1 = "GSI1" // lists: directory by email, role holders of a site product, group members, invitations of a site
	GSI2 = "GSI2" // secondary lists: external users, guests of a space, spaces of a site
	GSI3 = "GSI3" // sparse "due work": undelivered invitation emails, pending invitations by expiry, lapsed verifications
)

// DueShards is how many partitions the due-work index spreads over.
const DueShards = 4

// Sort keys of singleton items.
const (
	SKOrg       = "ORG"
	SKProfile   = "PROFILE"
	SKEmail     = "EMAIL"
	SKToken     = "TOKEN"
	SKIdem      = "IDEM"
	SKGroupName = "GROUPNAME"
	SKJob       = "JOB"
	SKSpace     = "SPACE"
	SKInvRef    = "INVITATION"
)

// OrgPK is "ORG#" + org.
func OrgPK(org string) string { return "ORG#" + org }

// SiteSK is "SITE#" + site.
func SiteSK(site string) string { return "SITE#" + site }

// GroupSK is "GROUP#" + group.
func GroupSK(group string) string { return "GROUP#" + group }

// GroupNamePK is "ORG#" + org + "#GROUPNAME#" + nameKey.
func GroupNamePK(org, nameKey string) string { return "ORG#" + org + "#GROUPNAME#" + nameKey }

// JobPK is "ORG#" + org + "#JOB#" + id.
func JobPK(org, id string) string { return "ORG#" + org + "#JOB#" + id }

// PageSK is fmt.Sprintf("PAGE#%06d", i).
func PageSK(i int) string { return fmt.Sprintf("PAGE#%06d", i) }

// FailedSK is fmt.Sprintf("FAILED#%06d", i).
func FailedSK(i int) string { return fmt.Sprintf("FAILED#%06d", i) }

// UserPK is "ORG#" + org + "#USER#" + acct.
func UserPK(org, acct string) string { return "ORG#" + org + "#USER#" + acct }

// AccessSK is "ACCESS#" + site + "#" + product.
func AccessSK(site, product string) string { return "ACCESS#" + site + "#" + product }

// MemberSK is "MEMBER#" + group.
func MemberSK(group string) string { return "MEMBER#" + group }

// InviteSK is "INVITE#" + id.
func InviteSK(id string) string { return "INVITE#" + id }

// EmailPK is "ORG#" + org + "#EMAIL#" + email.
func EmailPK(org, email string) string { return "ORG#" + org + "#EMAIL#" + email }

// TokenPK is "INVTOKEN#" + hash.
func TokenPK(hash string) string { return "INVTOKEN#" + hash }

// InvRefPK is the partition of an invitation's reference: it names the
// account under which the invitation is kept, so routes address invitations
// by id alone.
func InvRefPK(org, id string) string { return "ORG#" + org + "#INVITATION#" + id }

// IdemPK is "ORG#" + org + "#IDEM#" + key.
func IdemPK(org, key string) string { return "ORG#" + org + "#IDEM#" + key }

// UsersGSI1PK is "ORG#" + org + "#USERS".
func UsersGSI1PK(org string) string { return "ORG#" + org + "#USERS" }

// MembersGSI1PK is "ORG#" + org + "#GROUP#" + group + "#MEMBERS".
func MembersGSI1PK(org, group string) string { return "ORG#" + org + "#GROUP#" + group + "#MEMBERS" }

// RoleGSI1PK lists the holders of a role on a product of a site.
func RoleGSI1PK(org, site, product, role string) string {
	return "ORG#" + org + "#SITE#" + site + "#" + product + "#" + role
}

// InvitesGSI1PK is "ORG#" + org + "#SITE#" + site + "#INVITES".
func InvitesGSI1PK(org, site string) string { return "ORG#" + org + "#SITE#" + site + "#INVITES" }

// ByDomainGSI2PK lists every profile of an org by email domain (A19): the
// external users are the ranges of GSI2SK outside the verified domains, so
// verifying or removing a domain rewrites no user.
func ByDomainGSI2PK(org string) string { return "ORG#" + org + "#BYDOMAIN" }

// ByDomainGSI2SK sorts a profile by its address's domain, then the address.
func ByDomainGSI2SK(email string) string {
	return DomainPrefix(email[strings.LastIndexByte(email, '@')+1:]) + email
}

// DomainPrefix is the GSI2SK prefix of every address of a domain.
func DomainPrefix(domain string) string { return domain + "#" }

// SpacePK is the partition of a space: its SPACE item and its ADMIN#a items.
func SpacePK(org, site, space string) string {
	return "ORG#" + org + "#SITE#" + site + "#SPACE#" + space
}

// SpaceAdminSK is "ADMIN#" + acct.
func SpaceAdminSK(acct string) string { return "ADMIN#" + acct }

// SpacesGSI2PK is "ORG#" + org + "#SITE#" + site + "#SPACES".
func SpacesGSI2PK(org, site string) string { return "ORG#" + org + "#SITE#" + site + "#SPACES" }

// SpaceGuestsGSI2PK lists the guests assigned to a space (on their access items).
func SpaceGuestsGSI2PK(org, site, space string) string { return SpacePK(org, site, space) }

// AuditPK buckets audit entries by org and UTC day.
func AuditPK(org string, at time.Time) string {
	return "ORG#" + org + "#AUDIT#" + at.UTC().Format("2006-01-02")
}

// AuditSK orders entries by time: a fixed-width UTC time (nine fractional
// digits, so that the strings sort as the times do; RFC 3339's trimmed
// fractions do not) and the entry's id. The actor's and the target's index
// entries use the same sort key (audit.go).
func AuditSK(at time.Time, id string) string { return AuditTime(at) + "#" + id }

// DueEmailPK spreads undelivered-email entries over DueShards partitions.
func DueEmailPK(id string) string { return fmt.Sprintf("DUE#EMAIL#%d", Shard(id)) }

// DueExpirePK spreads delivered pending invitations over DueShards
// partitions, due at their expiry (the release job's work).
func DueExpirePK(id string) string { return fmt.Sprintf("DUE#EXPIRE#%d", Shard(id)) }

// DueVerifyPK spreads external users' verification due entries over
// DueShards partitions (A18).
func DueVerifyPK(org, acct string) string { return fmt.Sprintf("DUE#VERIFY#%d", Shard(org+"#"+acct)) }

// ParkedDue is the due time of an entry that is not due: a user the
// re-verification job has marked (VerifyRequired) keeps their entry here,
// after every real time, so that marking needs no REMOVE (which minidyn
// ignores) and the job's Query (GSI3SK <= now) never reads it.
var ParkedDue = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// VerifyDueKeys is a profile's GSI3 entry: at VerifyDueAt while a
// verification is to lapse, parked otherwise (never verified, the job
// marked it required, or "once"). Every profile has one from its creation
// and it is only ever moved by SET, never REMOVEd (minidyn ignores REMOVE,
// an index key cannot be set empty) nor added by UpdateItem: minidyn's
// UpdateItem that gives index keys to an item outside that index evicts
// another item's entry from the index (core/index.go updateData replaces
// the first sorted key), so the first verification of a profile without
// an entry hid the org's rescan request from the job (seen in make dev).
func VerifyDueKeys(org, acct string, dueAt time.Time, state domain.VerifyState) (pk, sk string) {
	if state == domain.VerifyRequired || dueAt.IsZero() {
		return DueVerifyPK(org, acct), DueSK(ParkedDue, org, acct)
	}
	return DueVerifyPK(org, acct), DueSK(dueAt, org, acct)
}

// DueSK sorts a due entry by its due time, then its org and id.
func DueSK(at time.Time, org, id string) string {
	return at.UTC().Format(time.RFC3339) + "#" + org + "#" + id
}

// Shard spreads s over DueShards partitions (FNV-1a).
func Shard(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32() % DueShards
}

// TTL returns the epoch seconds DynamoDB's TTL reads.
func TTL(t time.Time) int64 { return t.Unix() }

// AuditTimeLayout is RFC 3339 in UTC with all nine fractional digits.
const AuditTimeLayout = "2006-01-02T15:04:05.000000000Z"

// AuditTime is at.UTC().Format(AuditTimeLayout).
func AuditTime(at time.Time) string { return at.UTC().Format(AuditTimeLayout) }
