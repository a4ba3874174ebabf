package devstack_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/dev/devstack"
	"github.com/guestaccess/guestaccess/infra/testkit/storetest"
	"github.com/guestaccess/guestaccess/shared/domain"
)

func guestsPath(org, site string) string  { return "/orgs/" + org + "/sites/" + site + "/guests" }
func billingPath(org, site string) string { return "/orgs/" + org + "/sites/" + site + "/billing" }
func recountPath(org, site string) string { return billingPath(org, site) + "/recount" }

// guestsByID lists a page of guests keyed by account id.
func guestsByID(t *testing.T, e *env, token, query string) map[string]map[string]any {
	t.Helper()
	m := mustStatus(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+query, token, ""), 200, "guests"+query)
	out := map[string]map[string]any{}
	items, _ := m["guests"].([]any)
	for _, it := range items {
		g := it.(map[string]any)
		out[g["accountId"].(string)] = g
	}
	return out
}

// tamperSite moves the demo site's counters behind the store's back.
func (e *env) tamperSite(t *testing.T, expr string, vals map[string]types.AttributeValue) {
	t.Helper()
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(e.Store.Table()),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + demo.OrgID},
			"SK": &types.AttributeValueMemberS{Value: "SITE#" + demo.SiteID}},
		UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals})
	if err != nil {
		t.Fatal(err)
	}
}

func numAV(n int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }

// TestGuestList: the site's guests with their status (invited, active,
// unassigned), space, direct role and guest groups; filters by space and
// status; pages; who may list (a space admin only their own space); bad
// filters and cursors are problems.
func TestGuestList(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		invited, _ := e.inviteTo(t, admin, map[string]any{"groups": []string{demo.GuestGroup}})
		// An active guest with no space.
		if err := e.Store.CreateUser(context.Background(), domain.User{OrgID: demo.OrgID, AccountID: "una-14west", Email: "una@agency.example", DisplayName: "Una Unassigned",
			Status: domain.UserActive}, demo.SiteID, []domain.Access{{Product: domain.Confluence, Direct: domain.RoleGuest, Effective: domain.RoleGuest}}); err != nil {
			t.Fatal(err)
		}
		all := guestsByID(t, e, admin, "")
		if len(all) != 3 {
			t.Fatalf("guests = %v, want gus, the invitee and una", all)
		}
		gus := all[demo.GuestID]
		if gus["status"] != "active" || gus["space"] != demo.SpaceMKT || gus["direct"] != "guest" || gus["external"] != true || gus["displayName"] != "Gus Guest" {
			t.Errorf("gus = %v", gus)
		}
		inv := all[invited]
		if inv["status"] != "invited" || inv["direct"] != "none" || fmt.Sprint(inv["groups"]) != "[partners]" || inv["space"] != nil {
			t.Errorf("invitee = %v", inv)
		}
		if all["una-14west"]["status"] != "unassigned" {
			t.Errorf("una = %v", all["una-14west"])
		}
		for q, want := range map[string][]string{
			"?status=invited":             {invited},
			"?status=active":              {demo.GuestID},
			"?status=unassigned":          {"una-14west"},
			"?status=suspended":           nil,
			"?space=MKT":                  {demo.GuestID},
			"?space=ENG":                  nil,
			"?space=MKT&status=active":    {demo.GuestID},
			"?space=MKT&status=invited":   nil,
			"?status=unassigned&limit=1":  {"una-14west"},
			"?status=active&limit=100":    {demo.GuestID},
			"?space=PUB&status=suspended": nil,
		} {
			var got []string
			for id := range guestsByID(t, e, admin, q) {
				got = append(got, id)
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
		// Pages of one cover the list once.
		if ids := e.listAll(t, guestsPath(demo.OrgID, demo.SiteID), admin, "guests", "accountId", 1); len(ids) != 3 {
			t.Errorf("pages of 1: %v", ids)
		}
		// Who may.
		for who, want := range map[string]int{
			demo.AdminID: 200, demo.SiteAdminID: 200, demo.ProductAdminID: 200, demo.PlainUserID: 403, demo.GuestID: 403,
			demo.SpaceAdminID: 403, demo.OtherAdminID: 404,
		} {
			if r := e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID), e.token(t, who), ""); r.status != want {
				t.Errorf("%s: %d, want %d: %s", who, r.status, want, r.body)
			}
		}
		mine := guestsByID(t, e, e.token(t, demo.SpaceAdminID), "?space=MKT")
		if len(mine) != 1 || mine[demo.GuestID] == nil {
			t.Errorf("MKT's admin: %v", mine)
		}
		problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+"?space=ENG", e.token(t, demo.SpaceAdminID), ""), 403, "another space's admin")
		problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+"?space=MKT", e.token(t, demo.OtherSpaceAdminID), ""), 403, "ENG's admin on MKT")
		tok, _ := e.ProductToken("confluence")
		problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID), tok, ""), 403, "a product's token")
		problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID), "", ""), 401, "anonymous")
		// Bad input.
		for q, status := range map[string]int{
			"?status=gone": 400, "?status=": 400, "?space=mkt": 400, "?space=": 400, "?space=NOPE": 404,
			"?cursor=bm90LWpzb24": 400, "?limit=0": 400, "?limit=101": 400,
		} {
			problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+q, admin, ""), status, "guests"+q)
		}
		problem(t, e.do(t, "GET", guestsPath(demo.OrgID, "nosite"), admin, ""), 404, "unknown site")
		// A cursor of the space list is not one of the site list's.
		m := mustStatus(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+"?limit=1", admin, ""), 200, "page")
		if next, _ := m["next"].(string); next != "" {
			problem(t, e.do(t, "GET", guestsPath(demo.OrgID, demo.SiteID)+"?space=MKT&cursor="+url.QueryEscape(next), admin, ""), 400, "another list's cursor")
		}
	})
}

// TestBillingSummaryAndRecount: the summary matches the counters; the
// recount finds no drift, then exactly the drift a tampered counter makes;
// repair is refused while a job holds a reservation and under bad input,
// changing nothing, and fixes the counters with an audit entry otherwise.
func TestBillingSummaryAndRecount(t *testing.T) {
	forEachBackendWithPersonas(t, func(t *testing.T, e *env) {
		admin := e.token(t, demo.AdminID)
		site := e.site(t)
		b := mustStatus(t, e.do(t, "GET", billingPath(demo.OrgID, demo.SiteID), admin, ""), 200, "billing")
		if b["paidUsers"] != float64(site.PaidUsers) || b["guests"] != float64(site.Guests) || b["guestLimit"] != float64(5*site.PaidUsers) ||
			b["freeGuestSlots"] != float64(site.GuestSlots) || b["overLimit"] != false || b["reserved"] != float64(0) {
			t.Errorf("billing %v, site %+v", b, site)
		}
		for who, want := range map[string]int{
			demo.SiteAdminID: 200, demo.ProductAdminID: 200, demo.SpaceAdminID: 403, demo.PlainUserID: 403, demo.GuestID: 403, demo.OtherAdminID: 404,
		} {
			if r := e.do(t, "GET", billingPath(demo.OrgID, demo.SiteID), e.token(t, who), ""); r.status != want {
				t.Errorf("billing as %s: %d, want %d", who, r.status, want)
			}
		}
		problem(t, e.do(t, "GET", billingPath(demo.OrgID, "nosite"), admin, ""), 404, "unknown site")

		r := mustStatus(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, ""), 200, "recount")
		if fmt.Sprint(r["drift"]) != "[]" || r["repaired"] != false || r["note"] == "" {
			t.Errorf("clean recount = %v", r)
		}
		t.Logf("recount after the personas: %v", r)
		for who, want := range map[string]int{demo.SiteAdminID: 200, demo.ProductAdminID: 403, demo.PlainUserID: 403, demo.OtherAdminID: 404} {
			if r := e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), e.token(t, who), ""); r.status != want {
				t.Errorf("recount as %s: %d, want %d", who, r.status, want)
			}
		}
		e.tamperSite(t, "SET paidUsers = paidUsers + :one, guestSlots = guestSlots + :five", map[string]types.AttributeValue{":one": numAV(1), ":five": numAV(5)})
		tampered := e.site(t)
		r = mustStatus(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, `{"repair":false}`), 200, "recount tampered")
		if fmt.Sprint(r["drift"]) != "[paidUsers guestSlots]" || r["repaired"] != false {
			t.Errorf("tampered recount = %v", r)
		}
		// Refused, changing nothing: bad bodies; a reservation held.
		problem(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, `{"repair":"yes"}`), 400, "repair not a boolean")
		problem(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, `{"fix":true}`), 400, "unknown field")
		problem(t, e.do(t, "POST", recountPath(demo.OrgID, "nosite"), admin, `{"repair":true}`), 404, "unknown site")
		e.tamperSite(t, "SET reserved = :r", map[string]types.AttributeValue{":r": numAV(3)})
		problem(t, e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, `{"repair":true}`), 409, "repair while a job holds slots")
		e.tamperSite(t, "SET reserved = :r", map[string]types.AttributeValue{":r": numAV(0)})
		if now := e.site(t); now.PaidUsers != tampered.PaidUsers || now.GuestSlots != tampered.GuestSlots {
			t.Errorf("refused repairs changed the counters: %+v -> %+v", tampered, now)
		}
		fix := e.do(t, "POST", recountPath(demo.OrgID, demo.SiteID), admin, `{"repair":true}`)
		r = mustStatus(t, fix, 200, "repair")
		if r["repaired"] != true {
			t.Errorf("repair = %v", r)
		}
		storetest.AssertNoDrift(t, e.Store, demo.OrgID, demo.SiteID)
		if now := e.site(t); now.PaidUsers != site.PaidUsers || now.GuestSlots != site.GuestSlots {
			t.Errorf("repaired to %+v, want %+v", now, site)
		}
		entries := e.auditEntries(t, admin, "?target="+url.QueryEscape(domain.SiteTarget(demo.SiteID)))
		if len(entries) != 1 || entries[0]["action"] != domain.ActionBillingRecount || entries[0]["actor"] != demo.AdminID ||
			entries[0]["requestId"] != fix.header.Get(devstack.RequestIDHeader) {
			t.Errorf("recount's audit entries = %v", entries)
		}
	})
}
