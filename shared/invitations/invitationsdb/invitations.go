package invitationsdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/invitations"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// LoadInvitation reads, in one BatchGetItem, the org, the site, the caller
// and (when invitationID is not "") the invitation's reference, then the
// invitation it names (a second read, one after the first). The invitation
// is nil when there is none on that site: unknown, or another site's.
func (s *Store) LoadInvitation(ctx context.Context, orgID, siteID, callerID, invitationID string) (domain.Scope, *domain.Invitation, error) {
	var sc domain.Scope
	ks := []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.UserPK(orgID, callerID), table.SKProfile), table.Key(table.OrgPK(orgID), table.SiteSK(siteID))}
	if invitationID != "" {
		ks = append(ks, table.Key(table.InvRefPK(orgID, invitationID), table.SKInvRef))
	}
	got, err := s.BatchGet(ctx, ks)
	if err != nil {
		return sc, nil, err
	}
	if sc.Org, err = decodeOpt(got, table.OrgPK(orgID), table.SKOrg, store.DecodeOrg); err != nil {
		return sc, nil, err
	}
	if sc.Caller, err = decodeOpt(got, table.UserPK(orgID, callerID), table.SKProfile, store.DecodeUser); err != nil {
		return sc, nil, err
	}
	if sc.Site, err = decodeOpt(got, table.OrgPK(orgID), table.SiteSK(siteID), store.DecodeSite); err != nil {
		return sc, nil, err
	}
	it, ok := got[table.ID(table.InvRefPK(orgID, invitationID), table.SKInvRef)]
	if invitationID == "" || !ok || sc.Org == nil || sc.Caller == nil || sc.Site == nil {
		return sc, nil, nil
	}
	accountID, refSite, err := store.DecodeInvRef(it)
	if err != nil || refSite != siteID {
		return sc, nil, err
	}
	inv, err := s.dir.Invitation(ctx, orgID, accountID, invitationID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return sc, nil, nil
	}
	if err != nil {
		return sc, nil, err
	}
	return sc, &inv, nil
}

// decodeOpt decodes the item (pk, sk) of a batch read, nil when absent.
func decodeOpt[D any](got map[string]table.Item, pk, sk string, dec func(table.Item) (D, error)) (*D, error) {
	it, ok := got[table.ID(pk, sk)]
	if !ok {
		return nil, nil
	}
	d, err := dec(it)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// MaxInvitationReads bounds the Queries one page of a filtered list makes.
// A filter is applied by DynamoDB after reading (FilterExpression), so a
// page of a rare status may need several reads; past this many the page is
// answered as it is (possibly short, even empty) with a cursor to go on.
const MaxInvitationReads = 4

// invitationsPerRead is how many index entries one Query of a filtered list
// evaluates (RCUs are charged for those read, not those kept).
const invitationsPerRead = 100

// SiteInvitations lists a site's invitations newest first (Query of table.GSI1
// `ORG#o#SITE#s#INVITES`, ScanIndexForward=false), a page at a time: at
// most limit from the cursor, only those the filter keeps: in its status
// when it names one (an invitation still pending at now past its expiry
// counts as expired), sent by its InvitedBy when it names one.
//
// Cost: unfiltered, one Query of limit items. Filtered, at most
// MaxInvitationReads Queries of max(limit, 100) evaluated entries each (each
// also capped at 1 MB by DynamoDB), stopping as soon as the page is full;
// the cursor then names the last invitation answered, so nothing is skipped
// or repeated. A page may come back short (or empty) with a cursor when the
// reads ran out first: the client follows the cursor.
func (s *Store) SiteInvitations(ctx context.Context, orgID, siteID string, f invitations.ListFilter, now time.Time, limit int, cursor string) (domain.Page[domain.Invitation], error) {
	var out domain.Page[domain.Invitation]
	pk := table.S(table.InvitesGSI1PK(orgID, siteID))
	in := &dynamodb.QueryInput{
		TableName:                 &s.Name,
		IndexName:                 aws.String(table.GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": pk},
		ScanIndexForward:          aws.Bool(false),
	}
	var start table.Item
	if cursor != "" {
		k, err := store.DecodeCursor(cursor)
		if err != nil {
			return out, err
		}
		// The cursor must be a key of this site's list (checked against the
		// key condition alone, before the filter's values are added).
		if !store.CursorFits(in, k) {
			return out, store.BadCursor()
		}
		start = k
	}
	limit = max(1, min(limit, 1000))
	perRead := limit
	if f.Narrows() {
		perRead = max(limit, invitationsPerRead)
		if err := invitationFilter(in, f, now); err != nil {
			return out, err
		}
	}
	in.Limit = aws.Int32(int32(min(perRead, 1000)))
	for reads := 0; reads < MaxInvitationReads; reads++ {
		in.ExclusiveStartKey = start
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return out, fmt.Errorf("store: query site invitations: %w", err)
		}
		for j, it := range res.Items {
			inv, err := store.DecodeInvitation(it)
			if err != nil {
				return out, err
			}
			out.Items = append(out.Items, inv)
			if len(out.Items) == limit {
				if j < len(res.Items)-1 || len(res.LastEvaluatedKey) > 0 {
					out.Next = store.EncodeCursor(table.Item{"PK": it["PK"], "SK": it["SK"], "GSI1PK": it["GSI1PK"], "GSI1SK": it["GSI1SK"]})
				}
				return out, nil
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
	out.Next = store.EncodeCursor(start)
	return out, nil
}

// invitationFilter adds the FilterExpression of a list filter: the
// inviter, the status, both when both are given. Pending and expired are
// told apart by expiresEpoch, as the accept page tells them.
func invitationFilter(in *dynamodb.QueryInput, f invitations.ListFilter, now time.Time) error {
	v := in.ExpressionAttributeValues
	var conds []string
	if f.InvitedBy != "" {
		v[":by"] = table.S(f.InvitedBy)
		conds = append(conds, "invitedBy = :by")
	}
	switch st := f.Status; st {
	case "":
	case domain.InvitationPending:
		conds = append(conds, "#s = :pending AND expiresEpoch > :now")
		v[":pending"], v[":now"] = table.S(string(domain.InvitationPending)), table.N(now.Unix())
	case domain.InvitationExpired:
		conds = append(conds, "(#s = :expired OR (#s = :pending AND expiresEpoch <= :now))")
		v[":expired"], v[":pending"], v[":now"] = table.S(string(domain.InvitationExpired)), table.S(string(domain.InvitationPending)), table.N(now.Unix())
	case domain.InvitationAccepted, domain.InvitationRevoked:
		conds = append(conds, "#s = :st")
		v[":st"] = table.S(string(st))
	default:
		return &domain.Error{Code: domain.EINVALID, Message: "The status filter is not valid.",
			Fields: map[string]string{"status": "pending, accepted, revoked or expired"}}
	}
	if f.Status != "" {
		in.ExpressionAttributeNames = map[string]string{"#s": "status"}
	}
	in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	return nil
}

// ResendInvitation gives an invitation a new token and expiry in one
// TransactWriteItems with its audit entry: the new token item, the
// invitation rewritten whole under its version (pending again, delivery
// pending, due in the retry index after SendGrace, so an email lost with
// the request is still sent), the email guard's expiry (so a later invite
// of the address says already_invited) and the audit entry. The old token
// item is left to TTL: it no longer matches the invitation's hash, so the
// old link resolves to nothing at once. ECONFLICT if the invitation changed
// meanwhile (accepted, revoked, released on expiry, re-sent). A pending
// invitation past its expiry that the release job has not reached yet is
// renewed (it leaves DUE#EXPIRE for DUE#EMAIL at once).
func (s *Store) ResendInvitation(ctx context.Context, before, next domain.Invitation, audit domain.AuditEntry) (domain.Invitation, error) {
	next.Version = before.Version + 1
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(store.NewTokenItem(next)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		// Pending only: an expired invitation was released (its account and
		// guard are gone), so nothing is left to renew.
		{Put: &types.Put{
			TableName:                 &s.Name,
			Item:                      table.Marshal(store.NewInvitationItem(next, next.ResentAt.Add(SendGrace), next.Version)),
			ConditionExpression:       aws.String("version = :v AND #s = :pending"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":v": table.N(int64(before.Version)), ":pending": table.S(string(domain.InvitationPending))},
		}},
		{Update: &types.Update{
			TableName: &s.Name, Key: table.Key(table.EmailPK(next.OrgID, next.Email), table.SKEmail),
			UpdateExpression:          aws.String("SET expiresEpoch = :e, invitationStatus = :pending"),
			ConditionExpression:       aws.String("invitationId = :id"),
			ExpressionAttributeValues: table.Item{":e": table.N(next.ExpiresAt.Unix()), ":pending": table.S(string(domain.InvitationPending)), ":id": table.S(next.ID)},
		}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(store.NewAuditItem(audit))}},
	}
	err := s.Transact(ctx, "resend invitation", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return before, domain.Errorf(domain.ECONFLICT, "The invitation changed meanwhile.")
	}
	if err != nil {
		return before, err
	}
	return next, nil
}
