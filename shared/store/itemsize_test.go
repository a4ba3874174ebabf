package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// ddbSize is an item's size as DynamoDB bills it: each attribute's name
// plus its value (strings and binaries by their bytes, numbers about one
// byte per two digits plus one, maps and lists 3 bytes plus one a member).
func ddbSize(it table.Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		d := strings.TrimLeft(strings.TrimPrefix(x.Value, "-"), "0")
		return (len(strings.ReplaceAll(d, ".", ""))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	return 0
}

// indexEntrySize is the size of an item's entry in an index that projects
// keys only (all: the whole item): the table's and the index's keys plus
// DynamoDB's 100 bytes of index overhead.
func indexEntrySize(it table.Item, gsi string, all bool) int {
	if all {
		return ddbSize(it) + 100
	}
	keysOnly := table.Item{}
	for _, k := range []string{"PK", "SK", gsi + "PK", gsi + "SK"} {
		if v, ok := it[k]; ok {
			keysOnly[k] = v
		}
	}
	return ddbSize(keysOnly) + 100
}

func wcu(bytes int) int { return (bytes + 1023) / 1024 }

// TestIndexWriteCost measures the store's real marshalled items (typical
// values: a 36-character account id, a 30-character address, an invitation
// with a 200-character message and one group) and the write units each of
// their index entries costs, with ALL and with KEYS_ONLY: the figures of
// docs/data-model.md ("Index projections"). GSI3 (keys only) must cost one
// write unit an entry whatever the item.
func TestIndexWriteCost(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 30, 0, 123456789, time.UTC)
	acct := "5f0e3a8c-6b1d-4f7e-9a2b-1c3d4e5f6a7b"
	u := domain.User{OrgID: "acme-corp", AccountID: acct, Email: "pat.jones@agency-partner.example", DisplayName: "Pat Jones", Status: domain.UserActive,
		External: true, CreatedAt: now, InvitedBy: "admin-acme", VerifiedAt: now, VerifyDueAt: now.Add(30 * 24 * time.Hour), VerifyState: domain.VerifyVerified, LastActive: now.Truncate(24 * time.Hour)}
	a := domain.Access{Product: domain.Confluence, Direct: domain.RoleGuest, Groups: map[string]domain.Role{"partners": domain.RoleGuest}, Space: "MKT"}.Recompute()
	inv := domain.Invitation{OrgID: u.OrgID, ID: domain.NewID(), SiteID: "wiki", AccountID: acct, Email: u.Email, InvitedBy: "admin-acme", InviterName: "Alex Admin",
		OrgName: "Acme Corporation", SiteName: "Acme Wiki", SiteHost: "acme.example.net", Roles: map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest},
		EffectiveRoles: map[domain.Product]domain.Role{domain.Confluence: domain.RoleGuest}, Groups: []string{"partners"}, Kind: domain.KindGuest,
		Message: strings.Repeat("Welcome to our wiki space! ", 8), TokenHash: strings.Repeat("ab", 32), Status: domain.InvitationPending, Delivery: domain.DeliverySent,
		MessageID: "0100018f-1234-5678-9abc-def012345678-000000", Attempts: 1, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour), RequestID: "c0ffee00-1234-5678-9abc-def012345678", Version: 2}
	audit := domain.NewAudit(u.OrgID, "admin-acme", domain.ActionInvitationCreate, domain.UserTarget(acct), "c0ffee00-1234-5678-9abc-def012345678", now,
		nil, map[string]any{"email": u.Email, "site": "wiki", "roles": map[string]string{"confluence": "guest"}, "groups": []string{"partners"}})
	claim := domain.DomainClaim{OrgID: u.OrgID, Domain: "agency-partner.example", Status: domain.DomainVerified, Token: strings.Repeat("x", 32),
		CreatedAt: now, CreatedBy: "admin-acme", CheckedAt: now, VerifiedAt: now, NextCheck: now.Add(24 * time.Hour), Version: 3}
	items := []struct {
		name string
		it   table.Item
	}{
		{"user (profile)", table.Marshal(newUserItem(u))},
		{"access", table.Marshal(newAccessItem(u, "wiki", a))},
		{"member", table.Marshal(newMemberItem(u, "partners"))},
		{"invitation", table.Marshal(newInvitationItem(inv, time.Time{}, inv.Version))},
		{"audit entry", table.Marshal(newAuditItem(audit))},
		{"domain claim", table.Marshal(newDomainItem(claim))},
		{"verify scan", table.Marshal(newVerifyScanItem(u.OrgID, now, 4, "agency-partner.example#pat.jones@agency-partner.example"))},
	}
	t.Logf("%-16s %6s  %-22s %-22s %-22s", "item", "bytes", "GSI1 B/WCU", "GSI2 B/WCU", "GSI3 all→keys B/WCU")
	for _, x := range items {
		cell := func(gsi string) string {
			if _, ok := x.it[gsi+"PK"]; !ok {
				return "-"
			}
			all := indexEntrySize(x.it, gsi, true)
			return fmt.Sprintf("%d/%d", all, wcu(all))
		}
		g3 := "-"
		if _, ok := x.it["GSI3PK"]; ok {
			all, keys := indexEntrySize(x.it, "GSI3", true), indexEntrySize(x.it, "GSI3", false)
			g3 = fmt.Sprintf("%d/%d → %d/%d", all, wcu(all), keys, wcu(keys))
			if wcu(keys) != 1 {
				t.Errorf("%s: a keys-only GSI3 entry of %d bytes costs %d WCU, want 1", x.name, keys, wcu(keys))
			}
		}
		t.Logf("%-16s %6d  %-22s %-22s %-22s", x.name, ddbSize(x.it), cell("GSI1"), cell("GSI2"), g3)
	}
}
