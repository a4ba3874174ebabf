package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/store"
)

// TestDueIndexHoldsKeysAndItemsAreReadAgain: GSI3 projects keys only (no
// attribute of the invitation comes back from the index, on either
// backend), and the readers' second read (one BatchGetItem) returns the
// items whose entry is still the one the index gave, in order, leaving out
// one whose entry moved meanwhile (here: its delivery was recorded) and one
// that is gone.
func TestDueIndexHoldsKeysAndItemsAreReadAgain(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		var invs []domain.Invitation
		for i := range 3 {
			n, _ := newGuest(demo.OrgID, demo.SiteID, fmt.Sprintf("due%d@agency.example", i), domain.KindGuest, now)
			create(t, fx.st, demo.SiteID, false, n)
			invs = append(invs, n.Invitation)
		}
		var entries []map[string]types.AttributeValue
		for s := 0; s < store.DueShards; s++ {
			out, err := fx.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(fx.st.Table()), IndexName: aws.String(store.GSI3),
				KeyConditionExpression:    aws.String("GSI3PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("DUE#EMAIL#%d", s)}}})
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, out.Items...)
		}
		if len(entries) != 3 {
			t.Fatalf("%d due entries, want 3", len(entries))
		}
		for _, e := range entries {
			for k := range e {
				if k != "PK" && k != "SK" && k != "GSI3PK" && k != "GSI3SK" {
					t.Errorf("GSI3 entry carries %q: the index must project keys only", k)
				}
			}
		}
		// The first invitation's delivery is recorded (its entry moves to
		// DUE#EXPIRE); the second's account is removed with its items.
		moved := invs[0]
		moved.Delivery, moved.MessageID, moved.Attempts = domain.DeliverySent, "m-1", 1
		if changed, err := emailsdb.New(fx.st).SaveDeliveries(ctx, []domain.Delivery{{Invitation: moved, RetryAt: now}}); err != nil || len(changed) != 0 {
			t.Fatalf("SaveDeliveries: %v %v", changed, err)
		}
		sk := func(it map[string]types.AttributeValue) string { return it["SK"].(*types.AttributeValueMemberS).Value }
		var gone map[string]types.AttributeValue
		for _, e := range entries {
			if sk(e) == "INVITE#"+invs[1].ID {
				gone = e
			}
		}
		if _, err := fx.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(fx.st.Table()),
			Key: map[string]types.AttributeValue{"PK": gone["PK"], "SK": gone["SK"]}}); err != nil {
			t.Fatal(err)
		}
		fx.c.Reset()
		got, err := store.DueItems(fx.st, ctx, entries)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || sk(got[0]) != "INVITE#"+invs[2].ID || got[0]["email"] == nil || got[0]["tokenHash"] == nil {
			t.Errorf("read again: %d items %v, want only the untouched invitation, whole", len(got), got)
		}
		if c := fx.c.Counts(); c["BatchGetItem"] != 1 || fx.c.Total() != 1 {
			t.Errorf("read again with %v, want one BatchGetItem", c)
		}
	})
}
