package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// What the people capabilities' table code (packages billingdb, auditdb,
// accessdb, spacesdb and usersdb) uses of the items and reads several
// capabilities share: the items stay declared here, once; these are their
// exported doors.

// TypeAccess is the type of an access item.
const TypeAccess = typeAccess

// QueryPage runs one Query page on the table (or the index named in in): at
// most limit items from the cursor, and the cursor of the next page.
func (s *Store) QueryPage(ctx context.Context, in *dynamodb.QueryInput, limit int, cursor string) ([]table.Item, string, error) {
	return s.query(ctx, in, limit, cursor)
}

// AccessOf is an access item as read: whose it is and the access it gives.
type AccessOf struct {
	Type      string
	AccountID string
	Email     string
	Access    domain.Access
}

// DecodeAccessOf decodes an access item (or an item of another type, whose
// Type says so).
func DecodeAccessOf(it table.Item) (AccessOf, error) {
	a, err := decodeAccess(it)
	if err != nil {
		return AccessOf{}, err
	}
	return AccessOf{Type: a.Type, AccountID: a.AccountID, Email: a.Email, Access: a.domain()}, nil
}

// DecodeOpt decodes the item (pk, sk) of a batch read, nil when absent.
func DecodeOpt[D any](got map[string]table.Item, pk, sk string, dec func(table.Item) (D, error)) (*D, error) {
	return decodeOpt(got, pk, sk, dec, func(d D) D { return d })
}

// AuditActorGSI1PK is the GSI1 partition of an actor's audit entries ("" for
// no actor).
func AuditActorGSI1PK(org, actor string) string { return auditActorGSI1PK(org, actor) }

// AuditTargetGSI2PK is the GSI2 partition of a target's audit entries (""
// for no target).
func AuditTargetGSI2PK(org, target string) string { return auditTargetGSI2PK(org, target) }

// DecodeAudit decodes an audit entry's item.
func DecodeAudit(it table.Item) (domain.AuditEntry, error) { return decodeAudit(it) }

// SKAPIToken is the sort key of an API token's use-time item.
const SKAPIToken = skAPIToken

// APITokenPK is the partition of the API token whose secret has this hash.
func APITokenPK(hash string) string { return apiTokenPK(hash) }

// DecodeAPIToken decodes an API token's use-time item.
func DecodeAPIToken(it table.Item) (domain.APIToken, error) {
	t, err := decodeAPIToken(it)
	if err != nil {
		return domain.APIToken{}, err
	}
	return t.domain(), nil
}

// DecodeSpace decodes a space item.
func DecodeSpace(it table.Item) (domain.Space, error) {
	sp, err := decodeSpace(it)
	if err != nil {
		return domain.Space{}, err
	}
	return sp.domain(), nil
}

// DecodeAccess decodes an access item as the access it gives.
func DecodeAccess(it table.Item) (domain.Access, error) {
	a, err := decodeAccess(it)
	if err != nil {
		return domain.Access{}, err
	}
	return a.domain(), nil
}
