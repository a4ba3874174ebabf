package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/testkit/avcheck"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// keysAV declares, for attributevalue, the keys every item has.
type keysAV struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK"`
	GSI2SK string `dynamodbav:"GSI2SK"`
	GSI3PK string `dynamodbav:"GSI3PK"`
	GSI3SK string `dynamodbav:"GSI3SK"`
	Type   string `dynamodbav:"type"`
	TTL    int64  `dynamodbav:"ttl"`
}

func keysOf(k table.Keys) keysAV {
	return keysAV{k.PK, k.SK, k.GSI1PK, k.GSI1SK, k.GSI2PK, k.GSI2SK, k.GSI3PK, k.GSI3SK, k.Type, k.TTL}
}

// allKeys fills every key, so that the comparison covers each of them.
func allKeys(typ string) table.Keys {
	return table.Keys{PK: "P", SK: "S", GSI1PK: "G1P", GSI1SK: "G1S", GSI2PK: "G2P", GSI2SK: "G2S", GSI3PK: "G3P", GSI3SK: "G3S", Type: typ, TTL: 1893456000}
}

// TestItemsAgreeWithAttributevalue: every shared item type the store
// encodes by hand is, attribute by attribute, what the SDK's attributevalue
// makes of the same values (mirrors declared here with dynamodbav tags),
// and attributevalue reads the hand-written item back to those values. Each
// case also decodes the item with the store's own decoder. Every field is
// set: empty values are left out by the codec on purpose (nonempty.go).
func TestItemsAgreeWithAttributevalue(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	later := at.Add(36 * time.Hour)

	t.Run("org", func(t *testing.T) {
		it := orgItem{Keys: allKeys(typeOrg), OrgID: "o", Name: "14West", VerifiedDomains: []string{"a.example", "b.example"}, CreatedAt: at,
			Policy:        domain.PolicySettings{TwoStep: true, VerifyEveryDays: 30, BlockAPITokens: true},
			TestPolicy:    &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 7, BlockAPITokens: true}, Users: []string{"u1"}},
			PolicyVersion: 3, SessionsResetAt: later}
		type av struct {
			keysAV
			OrgID               string    `dynamodbav:"orgId"`
			Name                string    `dynamodbav:"name"`
			VerifiedDomains     []string  `dynamodbav:"verifiedDomains"`
			CreatedAt           time.Time `dynamodbav:"createdAt"`
			TwoStep             bool      `dynamodbav:"twoStep"`
			VerifyEveryDays     int       `dynamodbav:"verifyEveryDays"`
			BlockAPITokens      bool      `dynamodbav:"blockApiTokens"`
			TestTwoStep         bool      `dynamodbav:"testTwoStep"`
			TestVerifyEveryDays int       `dynamodbav:"testVerifyEveryDays"`
			TestBlockAPITokens  bool      `dynamodbav:"testBlockApiTokens"`
			TestUsers           []string  `dynamodbav:"testUsers"`
			PolicyVersion       int       `dynamodbav:"policyVersion"`
			SessionsResetAt     time.Time `dynamodbav:"sessionsResetAt"`
		}
		avcheck.Check(t, "org", it.Item(), &av{keysOf(it.Keys), "o", "14West", []string{"a.example", "b.example"}, at, true, 30, true, true, 7, true, []string{"u1"}, 3, later})
		roundTrip(t, it, decodeOrg)
	})
	t.Run("site", func(t *testing.T) {
		it := siteItem{Keys: allKeys(typeSite), OrgID: "o", SiteID: "wiki", Name: "Wiki", Host: "wiki.example", PaidUsers: 4, Guests: 7, GuestSlots: 13,
			UserLimit: 100, UserSlots: 89, CreatedAt: at}
		type av struct {
			keysAV
			OrgID      string    `dynamodbav:"orgId"`
			SiteID     string    `dynamodbav:"siteId"`
			Name       string    `dynamodbav:"name"`
			Host       string    `dynamodbav:"host"`
			PaidUsers  int64     `dynamodbav:"paidUsers"`
			Guests     int64     `dynamodbav:"guests"`
			GuestSlots int64     `dynamodbav:"guestSlots"`
			UserLimit  int64     `dynamodbav:"userLimit"`
			UserSlots  int64     `dynamodbav:"userSlots"`
			CreatedAt  time.Time `dynamodbav:"createdAt"`
		}
		avcheck.Check(t, "site", it.Item(), &av{keysOf(it.Keys), "o", "wiki", "Wiki", "wiki.example", 4, 7, 13, 100, 89, at})
		roundTrip(t, it, decodeSite)
	})
	t.Run("group", func(t *testing.T) {
		it := groupItem{Keys: allKeys(typeGroup), OrgID: "o", GroupID: "g", Name: "Agency", NameKey: "agency", Roles: map[string]string{"wiki#confluence": "guest"},
			MemberCount: 2, Version: 5, CreatedAt: at, Deleting: true}
		type av struct {
			keysAV
			OrgID       string            `dynamodbav:"orgId"`
			GroupID     string            `dynamodbav:"groupId"`
			Name        string            `dynamodbav:"name"`
			NameKey     string            `dynamodbav:"nameKey"`
			Roles       map[string]string `dynamodbav:"roles"`
			MemberCount int64             `dynamodbav:"memberCount"`
			Version     int               `dynamodbav:"version"`
			CreatedAt   time.Time         `dynamodbav:"createdAt"`
			Deleting    bool              `dynamodbav:"deleting"`
		}
		avcheck.Check(t, "group", it.Item(), &av{keysOf(it.Keys), "o", "g", "Agency", "agency", map[string]string{"wiki#confluence": "guest"}, 2, 5, at, true})
		roundTrip(t, it, decodeGroup)
	})
	t.Run("user", func(t *testing.T) {
		it := userItem{Keys: allKeys(typeUser), OrgID: "o", AccountID: "a", Email: "pat@agency.example", DisplayName: "Pat", Status: "active",
			OrgAdmin: true, SiteAdmin: []string{"wiki"}, External: true, InvitedBy: "admin", CreatedAt: at, VerifiedAt: at.Add(time.Hour),
			VerifyDueAt: later, VerifyState: "due", SessionsResetAt: at.Add(2 * time.Hour), LastActive: at.Add(3 * time.Hour)}
		type av struct {
			keysAV
			OrgID           string    `dynamodbav:"orgId"`
			AccountID       string    `dynamodbav:"accountId"`
			Email           string    `dynamodbav:"email"`
			DisplayName     string    `dynamodbav:"displayName"`
			Status          string    `dynamodbav:"status"`
			OrgAdmin        bool      `dynamodbav:"orgAdmin"`
			SiteAdmin       []string  `dynamodbav:"siteAdmin"`
			External        bool      `dynamodbav:"external"`
			InvitedBy       string    `dynamodbav:"invitedBy"`
			CreatedAt       time.Time `dynamodbav:"createdAt"`
			VerifiedAt      time.Time `dynamodbav:"verifiedAt"`
			VerifyDueAt     time.Time `dynamodbav:"verifyDueAt"`
			VerifyState     string    `dynamodbav:"verifyState"`
			SessionsResetAt time.Time `dynamodbav:"sessionsResetAt"`
			LastActive      time.Time `dynamodbav:"lastActive"`
		}
		avcheck.Check(t, "user", it.Item(), &av{keysOf(it.Keys), "o", "a", "pat@agency.example", "Pat", "active", true, []string{"wiki"}, true, "admin",
			at, at.Add(time.Hour), later, "due", at.Add(2 * time.Hour), at.Add(3 * time.Hour)})
		roundTrip(t, it, decodeUser)
	})
	t.Run("email", func(t *testing.T) {
		it := emailItem{Keys: allKeys(typeEmail), OrgID: "o", Email: "pat@agency.example", AccountID: "a", InvitationID: "i", SiteID: "wiki",
			ExpiresEpoch: later.Unix(), InvitationStatus: "pending"}
		type av struct {
			keysAV
			OrgID            string `dynamodbav:"orgId"`
			Email            string `dynamodbav:"email"`
			AccountID        string `dynamodbav:"accountId"`
			InvitationID     string `dynamodbav:"invitationId"`
			SiteID           string `dynamodbav:"siteId"`
			ExpiresEpoch     int64  `dynamodbav:"expiresEpoch"`
			InvitationStatus string `dynamodbav:"invitationStatus"`
		}
		avcheck.Check(t, "email", it.Item(), &av{keysOf(it.Keys), "o", "pat@agency.example", "a", "i", "wiki", later.Unix(), "pending"})
		roundTrip(t, it, decodeEmail)
	})
	t.Run("access", func(t *testing.T) {
		it := accessItem{Keys: allKeys(typeAccess), OrgID: "o", AccountID: "a", SiteID: "wiki", Product: "confluence", Email: "pat@agency.example",
			Direct: "guest", Groups: map[string]string{"g": "user"}, Effective: "user", Space: "MKT", Version: 2}
		type av struct {
			keysAV
			OrgID     string            `dynamodbav:"orgId"`
			AccountID string            `dynamodbav:"accountId"`
			SiteID    string            `dynamodbav:"siteId"`
			Product   string            `dynamodbav:"product"`
			Email     string            `dynamodbav:"email"`
			Direct    string            `dynamodbav:"direct"`
			Groups    map[string]string `dynamodbav:"groups"`
			Effective string            `dynamodbav:"effective"`
			Space     string            `dynamodbav:"space"`
			Version   int               `dynamodbav:"version"`
		}
		avcheck.Check(t, "access", it.Item(), &av{keysOf(it.Keys), "o", "a", "wiki", "confluence", "pat@agency.example", "guest", map[string]string{"g": "user"}, "user", "MKT", 2})
		roundTrip(t, it, decodeAccess)
	})
	t.Run("member", func(t *testing.T) {
		it := memberItem{Keys: allKeys(typeMember), OrgID: "o", AccountID: "a", Group: "g", Email: "pat@agency.example"}
		type av struct {
			keysAV
			OrgID     string `dynamodbav:"orgId"`
			AccountID string `dynamodbav:"accountId"`
			Group     string `dynamodbav:"group"`
			Email     string `dynamodbav:"email"`
		}
		avcheck.Check(t, "member", it.Item(), &av{keysOf(it.Keys), "o", "a", "g", "pat@agency.example"})
	})
	t.Run("invitation", func(t *testing.T) {
		acc, res := at.Add(time.Hour), at.Add(2*time.Hour)
		it := invitationItem{Keys: allKeys(typeInvitation), OrgID: "o", InvitationID: "i", SiteID: "wiki", AccountID: "a", Email: "pat@agency.example",
			InvitedBy: "admin", InviterName: "Ada", OrgName: "14West", SiteName: "Wiki", SiteHost: "wiki.example",
			Roles: map[string]string{"confluence": "guest"}, Effective: map[string]string{"confluence": "guest"}, Groups: []string{"g"}, Kind: "guest",
			Message: "Welcome", TokenHash: "h", Status: "accepted", Delivery: "sent", DeliveryNote: "n", MessageID: "m", Attempts: 2,
			CreatedAt: at, ExpiresAt: later, ExpiresEpoch: later.Unix(), AcceptedAt: &acc, ResentAt: &res, RequestID: "r", Version: 4}
		type av struct {
			keysAV
			OrgID        string            `dynamodbav:"orgId"`
			InvitationID string            `dynamodbav:"invitationId"`
			SiteID       string            `dynamodbav:"siteId"`
			AccountID    string            `dynamodbav:"accountId"`
			Email        string            `dynamodbav:"email"`
			InvitedBy    string            `dynamodbav:"invitedBy"`
			InviterName  string            `dynamodbav:"inviterName"`
			OrgName      string            `dynamodbav:"orgName"`
			SiteName     string            `dynamodbav:"siteName"`
			SiteHost     string            `dynamodbav:"siteHost"`
			Roles        map[string]string `dynamodbav:"roles"`
			Effective    map[string]string `dynamodbav:"effective"`
			Groups       []string          `dynamodbav:"groups"`
			Kind         string            `dynamodbav:"kind"`
			Message      string            `dynamodbav:"message"`
			TokenHash    string            `dynamodbav:"tokenHash"`
			Status       string            `dynamodbav:"status"`
			Delivery     string            `dynamodbav:"delivery"`
			DeliveryNote string            `dynamodbav:"deliveryNote"`
			MessageID    string            `dynamodbav:"messageId"`
			Attempts     int               `dynamodbav:"attempts"`
			CreatedAt    time.Time         `dynamodbav:"createdAt"`
			ExpiresAt    time.Time         `dynamodbav:"expiresAt"`
			ExpiresEpoch int64             `dynamodbav:"expiresEpoch"`
			AcceptedAt   time.Time         `dynamodbav:"acceptedAt"`
			ResentAt     time.Time         `dynamodbav:"resentAt"`
			RequestID    string            `dynamodbav:"requestId"`
			Version      int               `dynamodbav:"version"`
		}
		avcheck.Check(t, "invitation", it.Item(), &av{keysOf(it.Keys), "o", "i", "wiki", "a", "pat@agency.example", "admin", "Ada", "14West", "Wiki", "wiki.example",
			map[string]string{"confluence": "guest"}, map[string]string{"confluence": "guest"}, []string{"g"}, "guest", "Welcome", "h", "accepted", "sent", "n", "m", 2,
			at, later, later.Unix(), acc, res, "r", 4})
		roundTrip(t, it, decodeInvitation)
	})
	t.Run("token", func(t *testing.T) {
		it := tokenItem{Keys: allKeys(typeToken), OrgID: "o", AccountID: "a", InvitationID: "i", ExpiresAt: later}
		type av struct {
			keysAV
			OrgID        string    `dynamodbav:"orgId"`
			AccountID    string    `dynamodbav:"accountId"`
			InvitationID string    `dynamodbav:"invitationId"`
			ExpiresAt    time.Time `dynamodbav:"expiresAt"`
		}
		avcheck.Check(t, "token", it.Item(), &av{keysOf(it.Keys), "o", "a", "i", later})
		roundTrip(t, it, decodeToken)
	})
	t.Run("idempotency", func(t *testing.T) {
		it := idemItem{Keys: allKeys(typeIdem), RequestHash: "rh", Done: true, Status: 201, Headers: map[string]string{"Location": "/x"},
			Body: []byte(`{"ok":true}`), LockedUntil: at.UnixMilli(), Claim: "c"}
		type av struct {
			keysAV
			RequestHash string            `dynamodbav:"requestHash"`
			Done        bool              `dynamodbav:"done"`
			Status      int               `dynamodbav:"status"`
			Headers     map[string]string `dynamodbav:"headers"`
			Body        []byte            `dynamodbav:"body"`
			LockedUntil int64             `dynamodbav:"lockedUntil"`
			Claim       string            `dynamodbav:"claim"`
		}
		avcheck.Check(t, "idempotency", it.Item(), &av{keysOf(it.Keys), "rh", true, 201, map[string]string{"Location": "/x"}, []byte(`{"ok":true}`), at.UnixMilli(), "c"})
		roundTrip(t, it, decodeIdem)
	})
	t.Run("audit", func(t *testing.T) {
		it := auditItem{Keys: allKeys(typeAudit), OrgID: "o", AuditID: "au", At: at, Actor: "admin", Action: "guest.invited", Target: "a",
			Before: `{"a":1}`, After: `{"a":2}`, RequestID: "r"}
		type av struct {
			keysAV
			OrgID     string    `dynamodbav:"orgId"`
			AuditID   string    `dynamodbav:"auditId"`
			At        time.Time `dynamodbav:"at"`
			Actor     string    `dynamodbav:"actor"`
			Action    string    `dynamodbav:"action"`
			Target    string    `dynamodbav:"target"`
			Before    string    `dynamodbav:"before"`
			After     string    `dynamodbav:"after"`
			RequestID string    `dynamodbav:"requestId"`
		}
		avcheck.Check(t, "audit", it.Item(), &av{keysOf(it.Keys), "o", "au", at, "admin", "guest.invited", "a", `{"a":1}`, `{"a":2}`, "r"})
	})
	t.Run("space", func(t *testing.T) {
		it := spaceItem{Keys: allKeys(typeSpace), OrgID: "o", SiteID: "wiki", Key: "MKT", Name: "Marketing", AnonymousAccess: true, CreatedAt: at, CreatedBy: "admin", Version: 3}
		type av struct {
			keysAV
			OrgID           string    `dynamodbav:"orgId"`
			SiteID          string    `dynamodbav:"siteId"`
			Key             string    `dynamodbav:"key"`
			Name            string    `dynamodbav:"name"`
			AnonymousAccess bool      `dynamodbav:"anonymousAccess"`
			CreatedAt       time.Time `dynamodbav:"createdAt"`
			CreatedBy       string    `dynamodbav:"createdBy"`
			Version         int       `dynamodbav:"version"`
		}
		avcheck.Check(t, "space", it.Item(), &av{keysOf(it.Keys), "o", "wiki", "MKT", "Marketing", true, at, "admin", 3})
		roundTrip(t, it, decodeSpace)
	})
	t.Run("space admin", func(t *testing.T) {
		it := spaceAdminItem{Keys: allKeys(typeSpaceAdmin), OrgID: "o", SiteID: "wiki", Space: "MKT", AccountID: "a", CreatedAt: at}
		type av struct {
			keysAV
			OrgID     string    `dynamodbav:"orgId"`
			SiteID    string    `dynamodbav:"siteId"`
			Space     string    `dynamodbav:"space"`
			AccountID string    `dynamodbav:"accountId"`
			CreatedAt time.Time `dynamodbav:"createdAt"`
		}
		avcheck.Check(t, "space admin", it.Item(), &av{keysOf(it.Keys), "o", "wiki", "MKT", "a", at})
		roundTrip(t, it, decodeSpaceAdmin)
	})
	t.Run("invitation reference", func(t *testing.T) {
		it := invRefItem{Keys: allKeys(typeInvRef), OrgID: "o", InvitationID: "i", AccountID: "a", SiteID: "wiki"}
		type av struct {
			keysAV
			OrgID        string `dynamodbav:"orgId"`
			InvitationID string `dynamodbav:"invitationId"`
			AccountID    string `dynamodbav:"accountId"`
			SiteID       string `dynamodbav:"siteId"`
		}
		avcheck.Check(t, "invitation reference", it.Item(), &av{keysOf(it.Keys), "o", "i", "a", "wiki"})
		roundTrip(t, it, decodeInvRef)
	})
}

// roundTrip checks that the store's own decoder reads its encoder's item
// back to the same struct.
func roundTrip[T interface{ Item() table.Item }](t *testing.T, it T, decode func(table.Item) (T, error)) {
	t.Helper()
	back, err := decode(it.Item())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(back, it) {
		t.Errorf("decoded as\n%+v\nwant\n%+v", back, it)
	}
}
