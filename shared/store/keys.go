// Package store is the DynamoDB adapter: the single table described in
// docs/data-model.md, read and written through aws-sdk-go-v2. It implements the
// persistence interfaces of package domain and nothing else.
package store

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
	skOrg       = "ORG"
	skProfile   = "PROFILE"
	skEmail     = "EMAIL"
	skToken     = "TOKEN"
	skIdem      = "IDEM"
	skGroupName = "GROUPNAME"
	skJob       = "JOB"
	skSpace     = "SPACE"
	skInvRef    = "INVITATION"
)

func orgPK(org string) string                { return "ORG#" + org }
func siteSK(site string) string              { return "SITE#" + site }
func groupSK(group string) string            { return "GROUP#" + group }
func groupNamePK(org, nameKey string) string { return "ORG#" + org + "#GROUPNAME#" + nameKey }
func jobPK(org, id string) string            { return "ORG#" + org + "#JOB#" + id }
func pageSK(i int) string                    { return fmt.Sprintf("PAGE#%06d", i) }
func failedSK(i int) string                  { return fmt.Sprintf("FAILED#%06d", i) }
func userPK(org, acct string) string         { return "ORG#" + org + "#USER#" + acct }
func accessSK(site, product string) string   { return "ACCESS#" + site + "#" + product }
func memberSK(group string) string           { return "MEMBER#" + group }
func inviteSK(id string) string              { return "INVITE#" + id }
func emailPK(org, email string) string       { return "ORG#" + org + "#EMAIL#" + email }
func tokenPK(hash string) string             { return "INVTOKEN#" + hash }

// invRefPK is the partition of an invitation's reference: it names the
// account under which the invitation is kept, so routes address invitations
// by id alone.
func invRefPK(org, id string) string         { return "ORG#" + org + "#INVITATION#" + id }
func idemPK(org, key string) string          { return "ORG#" + org + "#IDEM#" + key }
func usersGSI1PK(org string) string          { return "ORG#" + org + "#USERS" }
func membersGSI1PK(org, group string) string { return "ORG#" + org + "#GROUP#" + group + "#MEMBERS" }
func roleGSI1PK(org, site, product, role string) string {
	return "ORG#" + org + "#SITE#" + site + "#" + product + "#" + role
}
func invitesGSI1PK(org, site string) string { return "ORG#" + org + "#SITE#" + site + "#INVITES" }

// byDomainGSI2PK lists every profile of an org by email domain (A19): the
// external users are the ranges of GSI2SK outside the verified domains, so
// verifying or removing a domain rewrites no user.
func byDomainGSI2PK(org string) string { return "ORG#" + org + "#BYDOMAIN" }

// byDomainGSI2SK sorts a profile by its address's domain, then the address.
func byDomainGSI2SK(email string) string {
	return domainPrefix(email[strings.LastIndexByte(email, '@')+1:]) + email
}

// domainPrefix is the GSI2SK prefix of every address of a domain.
func domainPrefix(domain string) string { return domain + "#" }

// spacePK is the partition of a space: its SPACE item and its ADMIN#a items.
func spacePK(org, site, space string) string {
	return "ORG#" + org + "#SITE#" + site + "#SPACE#" + space
}
func spaceAdminSK(acct string) string      { return "ADMIN#" + acct }
func spacesGSI2PK(org, site string) string { return "ORG#" + org + "#SITE#" + site + "#SPACES" }

// spaceGuestsGSI2PK lists the guests assigned to a space (on their access items).
func spaceGuestsGSI2PK(org, site, space string) string { return spacePK(org, site, space) }

// auditPK buckets audit entries by org and UTC day.
func auditPK(org string, at time.Time) string {
	return "ORG#" + org + "#AUDIT#" + at.UTC().Format("2006-01-02")
}

// auditSK orders entries by time: a fixed-width UTC time (nine fractional
// digits, so that the strings sort as the times do; RFC 3339's trimmed
// fractions do not) and the entry's id. The actor's and the target's index
// entries use the same sort key (audit.go).
func auditSK(at time.Time, id string) string { return auditTime(at) + "#" + id }

// dueEmailPK spreads undelivered-email entries over DueShards partitions.
func dueEmailPK(id string) string { return fmt.Sprintf("DUE#EMAIL#%d", shard(id)) }

// dueExpirePK spreads delivered pending invitations over DueShards
// partitions, due at their expiry (the release job's work).
func dueExpirePK(id string) string { return fmt.Sprintf("DUE#EXPIRE#%d", shard(id)) }

// dueVerifyPK spreads external users' verification due entries over
// DueShards partitions (A18).
func dueVerifyPK(org, acct string) string { return fmt.Sprintf("DUE#VERIFY#%d", shard(org+"#"+acct)) }

// parkedDue is the due time of an entry that is not due: a user the
// re-verification job has marked (VerifyRequired) keeps their entry here,
// after every real time, so that marking needs no REMOVE (which minidyn
// ignores) and the job's Query (GSI3SK <= now) never reads it.
var parkedDue = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// verifyDueKeys is a profile's GSI3 entry: at VerifyDueAt while a
// verification is to lapse, parked otherwise (never verified, the job
// marked it required, or "once"). Every profile has one from its creation
// and it is only ever moved by SET, never REMOVEd (minidyn ignores REMOVE,
// an index key cannot be set empty) nor added by UpdateItem: minidyn's
// UpdateItem that gives index keys to an item outside that index evicts
// another item's entry from the index (core/index.go updateData replaces
// the first sorted key), so the first verification of a profile without
// an entry hid the org's rescan request from the job (seen in make dev).
func verifyDueKeys(org, acct string, dueAt time.Time, state domain.VerifyState) (pk, sk string) {
	if state == domain.VerifyRequired || dueAt.IsZero() {
		return dueVerifyPK(org, acct), dueSK(parkedDue, org, acct)
	}
	return dueVerifyPK(org, acct), dueSK(dueAt, org, acct)
}

func dueSK(at time.Time, org, id string) string {
	return at.UTC().Format(time.RFC3339) + "#" + org + "#" + id
}

func shard(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32() % DueShards
}

// ttl returns the epoch seconds DynamoDB's TTL reads.
func ttl(t time.Time) int64 { return t.Unix() }
