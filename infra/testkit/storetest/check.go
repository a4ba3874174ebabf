package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/table"
)

// ScanAll reads every item of the fixture's table.
func ScanAll(t *testing.T, fx Fixture) []map[string]types.AttributeValue {
	return testenv.ScanAll(t, fx.DB, fx.St.Table())
}

// SV is an item's string or number attribute k as text ("" when absent).
func SV(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// CheckCounters holds every site's billing counters and every group's
// member count against what the items say.
func CheckCounters(t *testing.T, fx Fixture) {
	t.Helper()
	items := ScanAll(t, fx)
	type tally struct{ paid, guests int }
	want := map[string]*tally{}
	members := map[string]int{}
	for _, it := range items {
		switch SV(it, "type") {
		case "access":
			if SV(it, "product") != "confluence" {
				continue
			}
			k := SV(it, "orgId") + "/" + SV(it, "siteId")
			if want[k] == nil {
				want[k] = &tally{}
			}
			switch SV(it, "effective") {
			case "guest":
				want[k].guests++
			case "user", "admin":
				want[k].paid++
			}
		case "member":
			members[SV(it, "orgId")+"/"+SV(it, "group")]++
		}
	}
	for _, it := range items {
		switch SV(it, "type") {
		case "site":
			k := SV(it, "orgId") + "/" + SV(it, "siteId")
			w := want[k]
			if w == nil {
				w = &tally{}
			}
			p, g, slots := SV(it, "paidUsers"), SV(it, "guests"), SV(it, "guestSlots")
			if p != fmt.Sprint(w.paid) || g != fmt.Sprint(w.guests) || slots != fmt.Sprint(5*w.paid-w.guests) {
				t.Errorf("site %s counters paid=%s guests=%s slots=%s; items say paid=%d guests=%d", k, p, g, slots, w.paid, w.guests)
			}
			if limit, users := SV(it, "userLimit"), SV(it, "userSlots"); limit != "" && users != fmt.Sprint(atoi(limit)-w.paid-w.guests) {
				t.Errorf("site %s userSlots=%s; limit %s and items say paid=%d guests=%d", k, users, limit, w.paid, w.guests)
			}
		case "group":
			k := SV(it, "orgId") + "/" + SV(it, "groupId")
			if got := SV(it, "memberCount"); got != fmt.Sprint(members[k]) {
				t.Errorf("group %s memberCount=%s; %d member items", k, got, members[k])
			}
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// Partition lists the sort keys left under an account's partition.
func Partition(t *testing.T, fx Fixture, orgID, accountID string) []string {
	t.Helper()
	var out []string
	for _, it := range ScanAll(t, fx) {
		if SV(it, "PK") == "ORG#"+orgID+"#USER#"+accountID {
			out = append(out, SV(it, "SK"))
		}
	}
	return out
}

// DueEntries counts the entries of the due-work index's DUE#EMAIL shards.
func DueEntries(t *testing.T, db *dynamodb.Client, name string) int {
	t.Helper()
	n := 0
	for s := 0; s < table.DueShards; s++ {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{
			TableName: &name, IndexName: aws.String(table.GSI3),
			KeyConditionExpression:    aws.String("GSI3PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("DUE#EMAIL#%d", s)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	return n
}
