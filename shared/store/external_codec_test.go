package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestExternalSecurityRoundTrip: the org's policy, test policy and reset,
// and a profile's verification fields, are read back as written (by the
// decision's one read), and every profile is listed by domain in GSI2.
func TestExternalSecurityRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
		org := domain.Org{ID: "acme", Name: "Acme", VerifiedDomains: []string{"acme.example"}, CreatedAt: now,
			Policy:        domain.PolicySettings{TwoStep: true, VerifyEveryDays: 14, BlockAPITokens: true},
			TestPolicy:    &domain.TestPolicy{Settings: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 1}, Users: []string{"tess-1", "tess-2"}},
			PolicyVersion: 3, SessionsResetAt: now.Add(-time.Hour)}
		if err := fx.st.CreateOrg(ctx, org); err != nil {
			t.Fatal(err)
		}
		if err := fx.st.CreateSite(ctx, domain.Site{OrgID: "acme", ID: "wiki", Name: "Wiki", Host: "wiki.acme.example", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		u := domain.User{OrgID: "acme", AccountID: "gus-1", Email: "gus@partner.example", DisplayName: "Gus", Status: domain.UserActive, CreatedAt: now,
			VerifiedAt: now.Add(-24 * time.Hour), VerifyDueAt: now.Add(13 * 24 * time.Hour), SessionsResetAt: now.Add(-2 * time.Hour), LastActive: now.Truncate(24 * time.Hour)}
		if err := fx.st.CreateUser(ctx, u, "wiki", nil); err != nil {
			t.Fatal(err)
		}
		sc, err := accessdb.New(fx.st).LoadDecision(ctx, "acme", "wiki", "gus-1", domain.Confluence, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*sc.Org, org) {
			t.Errorf("org:\n got %+v\nwant %+v", *sc.Org, org)
		}
		if got := *sc.User; !got.VerifiedAt.Equal(u.VerifiedAt) || !got.VerifyDueAt.Equal(u.VerifyDueAt) || !got.SessionsResetAt.Equal(u.SessionsResetAt) || !got.LastActive.Equal(u.LastActive) {
			t.Errorf("user: %+v", got)
		}
		// GSI2 by domain, GSI3 due entry at VerifyDueAt.
		out, err := fx.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(fx.st.Table()), IndexName: aws.String("GSI2"),
			KeyConditionExpression:    aws.String("GSI2PK = :p AND begins_with(GSI2SK, :d)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "ORG#acme#BYDOMAIN"}, ":d": &types.AttributeValueMemberS{Value: "partner.example#"}}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("by domain: %v, %v", out, err)
		}
		if sk := out.Items[0]["GSI3SK"].(*types.AttributeValueMemberS).Value; sk != "2026-12-11T12:00:00Z#acme#gus-1" {
			t.Errorf("due entry %q", sk)
		}
	})
}
