package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Suppressions (A35-A37 in docs/data-model.md): one item per address an org no
// longer emails, in the org's own partition `ORG#o#SUPPRESSED` (sort key:
// the address), so the send check is one key read and the admin's list one
// Query; and one marker per SES event recorded, `SESEVENT#<key>`, kept for
// domain.SESEventKeyTTL so that a second delivery of the event writes nothing.

const (
	typeSuppression = "suppression"
	typeSESEvent    = "ses-event"
	skSESEvent      = "SESEVENT"
)

func suppressedPK(org string) string { return "ORG#" + org + "#SUPPRESSED" }
func sesEventPK(key string) string   { return "SESEVENT#" + key }

func suppressionItem(s domain.Suppression) table.Item {
	e := table.Keys{PK: suppressedPK(s.OrgID), SK: s.Email, Type: typeSuppression}.Encode()
	e.S("orgId", s.OrgID)
	e.S("email", s.Email)
	e.S("reason", string(s.Reason))
	e.S("detail", s.Detail)
	e.S("messageId", s.MessageID)
	e.S("invitationId", s.InvitationID)
	e.T("at", s.At)
	return table.Item(e)
}

func decodeSuppression(it table.Item) (domain.Suppression, error) {
	d := &table.Dec{It: it}
	s := domain.Suppression{OrgID: d.S("orgId"), Email: d.S("email"), Reason: domain.SuppressionReason(d.S("reason")), Detail: d.S("detail"),
		MessageID: d.S("messageId"), InvitationID: d.S("invitationId"), At: d.T("at")}
	return s, d.Err
}

// Suppression reads whether an org no longer emails an address (one
// strongly consistent read); nil when it may.
func (s *Store) Suppression(ctx context.Context, orgID, email string) (*domain.Suppression, error) {
	got, err := s.Get(ctx, suppressedPK(orgID), email)
	if err != nil || got == nil {
		return nil, err
	}
	sup, err := decodeSuppression(got)
	return &sup, err
}

// Suppressions lists an org's suppressed addresses in address order, a
// page at a time (one Query).
func (s *Store) Suppressions(ctx context.Context, orgID string, limit int, cursor string) (domain.Page[domain.Suppression], error) {
	var out domain.Page[domain.Suppression]
	its, next, err := s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S(suppressedPK(orgID))},
	}, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, it := range its {
		sup, err := decodeSuppression(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, sup)
	}
	out.Next = next
	return out, nil
}

// ClearSuppression lets an org email an address again: the suppression is
// deleted with its audit entry in one TransactWriteItems. ENOTFOUND when the
// address is not suppressed (nothing is written).
func (s *Store) ClearSuppression(ctx context.Context, orgID, email string, audit domain.AuditEntry) error {
	err := s.Transact(ctx, "clear suppression", []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(suppressedPK(orgID), email), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}},
	})
	var c *table.Cancelled
	if errors.As(err, &c) {
		return domain.Errorf(domain.ENOTFOUND, "This address is not suppressed.")
	}
	return err
}

// RecordSESEvent writes a bounce's or complaint's record in one
// TransactWriteItems: the event's marker (only if absent), its audit entry,
// the suppression (replacing an older one), and the invitation rewritten
// whole under the version read, still pending (so its due-work entry
// follows its delivery). It reports false, writing nothing, when the event
// was recorded before; ECONFLICT when the invitation changed meanwhile.
func (s *Store) RecordSESEvent(ctx context.Context, r domain.SESEventRecord) (bool, error) {
	marker := table.Keys{PK: sesEventPK(r.Key), SK: skSESEvent, Type: typeSESEvent, TTL: r.KeyExpires.Unix()}.Encode()
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Item(marker), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(r.Audit))}},
	}
	if r.Suppression != nil {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: suppressionItem(*r.Suppression)}})
	}
	if inv := r.Invitation; inv != nil {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{
			TableName:                 &s.Name,
			Item:                      table.Marshal(newInvitationItem(*inv, inv.ExpiresAt, inv.Version+1)),
			ConditionExpression:       aws.String("version = :v AND #s = :pending"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":v": table.N(int64(inv.Version)), ":pending": table.S(string(domain.InvitationPending))},
		}})
	}
	err := s.Transact(ctx, "record SES event", tx)
	var c *table.Cancelled
	switch {
	case errors.As(err, &c) && c.Code(0) == "ConditionalCheckFailed":
		return false, nil
	case errors.As(err, &c):
		return false, domain.Errorf(domain.ECONFLICT, "The invitation changed meanwhile.")
	case err != nil:
		return false, err
	}
	return true, nil
}

// InvitationOfOrg reads an invitation by org and id alone (its reference,
// then the invitation: two reads, one after the other); nil when there is
// none.
func (s *Store) InvitationOfOrg(ctx context.Context, orgID, id string) (*domain.Invitation, error) {
	got, err := s.Get(ctx, table.InvRefPK(orgID, id), table.SKInvRef)
	if err != nil || got == nil {
		return nil, err
	}
	ref, err := decodeInvRef(got)
	if err != nil {
		return nil, err
	}
	inv, err := s.Invitation(ctx, orgID, ref.AccountID, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &inv, nil
}
