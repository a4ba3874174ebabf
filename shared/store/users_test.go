package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/emails/emailsdb"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/users"
)

// scanAll reads every item of the table (tests only).
func scanAll(t *testing.T, fx fixture) []map[string]types.AttributeValue {
	return testenv.ScanAll(t, fx.db, fx.st.Table())
}

func sv(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// checkCounters holds every site's billing counters and every group's
// member count against what the items say.
func checkCounters(t *testing.T, fx fixture) {
	t.Helper()
	items := scanAll(t, fx)
	type tally struct{ paid, guests int }
	want := map[string]*tally{}
	members := map[string]int{}
	for _, it := range items {
		switch sv(it, "type") {
		case "access":
			if sv(it, "product") != "confluence" {
				continue
			}
			k := sv(it, "orgId") + "/" + sv(it, "siteId")
			if want[k] == nil {
				want[k] = &tally{}
			}
			switch sv(it, "effective") {
			case "guest":
				want[k].guests++
			case "user", "admin":
				want[k].paid++
			}
		case "member":
			members[sv(it, "orgId")+"/"+sv(it, "group")]++
		}
	}
	for _, it := range items {
		switch sv(it, "type") {
		case "site":
			k := sv(it, "orgId") + "/" + sv(it, "siteId")
			w := want[k]
			if w == nil {
				w = &tally{}
			}
			p, g, slots := sv(it, "paidUsers"), sv(it, "guests"), sv(it, "guestSlots")
			if p != fmt.Sprint(w.paid) || g != fmt.Sprint(w.guests) || slots != fmt.Sprint(5*w.paid-w.guests) {
				t.Errorf("site %s counters paid=%s guests=%s slots=%s; items say paid=%d guests=%d", k, p, g, slots, w.paid, w.guests)
			}
			if limit, users := sv(it, "userLimit"), sv(it, "userSlots"); limit != "" && users != fmt.Sprint(atoi(limit)-w.paid-w.guests) {
				t.Errorf("site %s userSlots=%s; limit %s and items say paid=%d guests=%d", k, users, limit, w.paid, w.guests)
			}
		case "group":
			k := sv(it, "orgId") + "/" + sv(it, "groupId")
			if got := sv(it, "memberCount"); got != fmt.Sprint(members[k]) {
				t.Errorf("group %s memberCount=%s; %d member items", k, got, members[k])
			}
		}
	}
}

// partition lists the sort keys left under an account's partition.
func partition(t *testing.T, fx fixture, orgID, accountID string) []string {
	t.Helper()
	var out []string
	for _, it := range scanAll(t, fx) {
		if sv(it, "PK") == "ORG#"+orgID+"#USER#"+accountID {
			out = append(out, sv(it, "SK"))
		}
	}
	return out
}

func admin() domain.Caller { return domain.Caller{AccountID: demo.AdminID, RequestID: "req-test"} }

// invitee writes a pending invitation of a guest who is also in the guest
// group (the membership and the group's count come with it).
func invitee(t *testing.T, fx fixture, addr string, kind domain.Kind) (domain.NewInvitation, string) {
	t.Helper()
	n, token := newGuest(demo.OrgID, demo.SiteID, addr, kind, time.Now().UTC())
	n.Groups = []string{demo.GuestGroup}
	n.Invitation.Groups = n.Groups
	n.Access[0].Groups = map[string]domain.Role{demo.GuestGroup: domain.RoleGuest}
	if res := create(t, fx.st, demo.SiteID, false, n); len(res.Refused) > 0 {
		t.Fatalf("refused: %+v", res.Refused)
	}
	return n, token
}

func TestRemoveUserReleasesEverythingInOneTransaction(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		n, token := invitee(t, fx, "leaver@agency.example", domain.KindGuest)
		acct := n.User.AccountID
		if err := member(ctx, fx.st, demo.OrgID, demo.PaidGroup, acct, true); err != nil { // guest → paid via staff
			t.Fatal(err)
		}
		checkCounters(t, fx)
		fx.c.Reset()
		res, err := svc.Remove(ctx, admin(), demo.OrgID, acct)
		if err != nil {
			t.Fatal(err)
		}
		if got := fx.c.Counts(); got["Query"] != 1 || got["BatchGetItem"] != 1 || got["TransactWriteItems"] != 1 || fx.c.Total() != 3 {
			t.Errorf("removal made %v, want 1 Query, 1 BatchGetItem, 1 TransactWriteItems", got)
		}
		if res.Stages != 1 || res.Email != "leaver@agency.example" || len(res.Groups) != 2 || len(res.Invitations) != 1 ||
			res.Released[demo.SiteID] != (domain.Seats{Paid: -1}) {
			t.Errorf("result = %+v", res)
		}
		if left := partition(t, fx, demo.OrgID, acct); len(left) != 0 {
			t.Errorf("left under the account: %v", left)
		}
		checkCounters(t, fx)
		if _, err := invitationsdb.New(fx.st).InvitationByToken(ctx, domain.HashToken(token)); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("the pending link still resolves: %v", err)
		}
		if _, err := fx.st.InvitationByID(ctx, demo.OrgID, demo.SiteID, n.Invitation.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("the invitation's reference stays: %v", err)
		}
		// The address can be invited again.
		again, _ := newGuest(demo.OrgID, demo.SiteID, "leaver@agency.example", domain.KindGuest, time.Now().UTC())
		if res := create(t, fx.st, demo.SiteID, false, again); len(res.Refused) > 0 {
			t.Errorf("re-invite refused: %+v", res.Refused)
		}
		checkCounters(t, fx)
		// The audit entry keeps what the account held.
		var found bool
		for _, it := range scanAll(t, fx) {
			if sv(it, "type") == "audit" && sv(it, "action") == domain.ActionUserRemove {
				b := sv(it, "before")
				found = strings.Contains(b, "leaver@agency.example") && strings.Contains(b, `"wiki/confluence":"user"`) && strings.Contains(b, demo.GuestGroup)
			}
		}
		if !found {
			t.Error("no audit entry with email, roles and groups")
		}
		// Again: no such user, nothing changes.
		if _, err := svc.Remove(ctx, admin(), demo.OrgID, acct); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("second removal: %v", err)
		}
	})
}

func TestRemoveUserRules(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		before := len(scanAll(t, fx))
		cases := []struct {
			name    string
			caller  string
			org     string
			account string
			code    string
		}{
			{"yourself", demo.AdminID, demo.OrgID, demo.AdminID, domain.ECONFLICT},
			{"site admin", demo.SiteAdminID, demo.OrgID, demo.PlainUserID, domain.EFORBIDDEN},
			{"paid user", demo.PlainUserID, demo.OrgID, demo.SiteAdminID, domain.EFORBIDDEN},
			{"unknown user", demo.AdminID, demo.OrgID, "nobody", domain.ENOTFOUND},
			{"other org's admin", demo.OtherAdminID, demo.OrgID, demo.PlainUserID, domain.ENOTFOUND},
			{"user of another org", demo.AdminID, demo.OtherOrgID, demo.PlainUserID, domain.ENOTFOUND},
			{"bad id", demo.AdminID, demo.OrgID, "a#b", domain.ENOTFOUND},
		}
		for _, c := range cases {
			_, err := svc.Remove(ctx, domain.Caller{AccountID: c.caller}, c.org, c.account)
			if domain.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
	})
}

// Two org admins removing each other at once: the caller is conditioned on
// still being an active org admin, so one removal wins and an org admin
// stays. Without the caller's condition both succeed (checked).
func TestLastOrgAdminStays(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		b := domain.User{OrgID: demo.OrgID, AccountID: "admin2", Email: "admin2@14west.example", Status: domain.UserActive, OrgAdmin: true, CreatedAt: time.Now()}
		if err := fx.st.CreateUser(ctx, b, demo.SiteID, nil); err != nil {
			t.Fatal(err)
		}
		_, recB, err := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, "admin2")
		if err != nil {
			t.Fatal(err)
		}
		_, recA, err := fx.st.LoadUserRecord(ctx, demo.OrgID, "admin2", demo.AdminID)
		if err != nil {
			t.Fatal(err)
		}
		audit := domain.NewAudit(demo.OrgID, "x", domain.ActionUserRemove, "user/x", "", time.Now(), nil, nil)
		if _, err := fx.st.RemoveUser(ctx, domain.Removal{Record: *recB, CallerID: demo.AdminID, Audit: audit}); err != nil {
			t.Fatal(err)
		}
		_, err = fx.st.RemoveUser(ctx, domain.Removal{Record: *recA, CallerID: "admin2", Audit: audit})
		if domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Fatalf("the removed admin's removal of the last one: %v", err)
		}
		if u, err := fx.st.User(ctx, demo.OrgID, demo.AdminID); err != nil || !u.OrgAdmin {
			t.Errorf("the last org admin is gone: %v", err)
		}
		// Suspension: the same guard.
		if err := fx.st.SetUserStatus(ctx, domain.StatusChange{User: recA.User, From: domain.UserActive, To: domain.UserSuspended, CallerID: "admin2", Audit: audit}); domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("a removed admin suspends the last one: %v", err)
		}
	})
}

// A user in more groups than one transaction holds is removed in stages;
// each stage keeps the counters true, and a removal interrupted after a
// stage is finished by the next call.
func TestRemoveUserInStages(t *testing.T) {
	fail := &failAfter{}
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		n, _ := invitee(t, fx, "many@agency.example", domain.KindGuest)
		acct := n.User.AccountID
		const groups = 60
		for i := 0; i < groups; i++ {
			g := domain.Group{OrgID: demo.OrgID, ID: fmt.Sprintf("g%02d", i), Name: fmt.Sprintf("G%02d", i), CreatedAt: time.Now(),
				Roles: map[string]domain.Role{domain.SiteProductKey(demo.SiteID, domain.Confluence): domain.RoleGuest}}
			if i%2 == 1 {
				g.Roles[domain.SiteProductKey(demo.SiteID, domain.Confluence)] = domain.RoleUser
			}
			if err := fx.st.CreateGroup(ctx, g, nil); err != nil {
				t.Fatal(err)
			}
			if err := member(ctx, fx.st, demo.OrgID, g.ID, acct, true); err != nil {
				t.Fatal(err)
			}
		}
		checkCounters(t, fx)
		// The second transaction fails: the first stage stands alone.
		fail.arm(2)
		_, err := svc.Remove(ctx, admin(), demo.OrgID, acct)
		if err == nil {
			t.Fatal("the injected failure did not happen")
		}
		checkCounters(t, fx)
		_, rec, _ := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, acct)
		if rec == nil || len(rec.Groups) >= groups+1 || len(rec.Groups) == 0 {
			t.Fatalf("after one stage: %+v", rec)
		}
		fail.arm(0)
		fx.c.Reset()
		res, err := svc.Remove(ctx, admin(), demo.OrgID, acct)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stages < 1 {
			t.Errorf("stages = %d", res.Stages)
		}
		t.Logf("finishing the removal of a user left in %d groups: %v", len(rec.Groups), fx.c.Counts())
		if left := partition(t, fx, demo.OrgID, acct); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
		checkCounters(t, fx)
		stages := 0
		for _, it := range scanAll(t, fx) {
			if sv(it, "type") == "audit" && sv(it, "action") == domain.ActionUserRemoveStage {
				stages++
			}
		}
		if stages < 1 {
			t.Errorf("no stage audit entries")
		}
	}, fail.option)
}

// A user with more access items than one transaction holds (50 sites, two
// products each): their access goes in stages, each moving its sites'
// counters, and an interrupted removal is finished by the next call.
func TestRemoveUserWithManyAccessItemsInStages(t *testing.T) {
	fail := &failAfter{}
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		u := plainUser(t, fx.st, demo.OrgID, "everywhere")
		const sites = 50
		for i := 0; i < sites; i++ {
			site := fmt.Sprintf("s%02d", i)
			if err := fx.st.CreateSite(ctx, domain.Site{OrgID: demo.OrgID, ID: site, Name: site, Host: site + ".example", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			role := domain.RoleUser
			after := map[string]domain.Access{
				domain.SiteProductKey(site, domain.Confluence): {Product: domain.Confluence, Direct: role, Effective: role},
				domain.SiteProductKey(site, domain.Jira):       {Product: domain.Jira, Direct: role, Effective: role},
			}
			if err := fx.st.ChangeAccess(ctx, domain.AccessChange{User: u, Before: map[string]domain.Access{}, After: after,
				Audit: domain.NewAudit(demo.OrgID, demo.AdminID, "test", "user/everywhere", "", time.Now(), nil, nil)}); err != nil {
				t.Fatal(err)
			}
		}
		checkCounters(t, fx)
		fail.arm(2)
		if _, err := svc.Remove(ctx, admin(), demo.OrgID, u.AccountID); err == nil {
			t.Fatal("the injected failure did not happen")
		}
		checkCounters(t, fx)
		_, rec, _ := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, u.AccountID)
		if rec == nil || len(rec.Access) == 0 || len(rec.Access) >= 2*sites {
			t.Fatalf("after one stage: %d access items", len(rec.Access))
		}
		fail.arm(0)
		res, err := svc.Remove(ctx, admin(), demo.OrgID, u.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d access items left after the first stage; finished in %d transactions", len(rec.Access), res.Stages)
		if left := partition(t, fx, demo.OrgID, u.AccountID); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
		checkCounters(t, fx)
	}, fail.option)
}

// failAfter fails the n-th TransactWriteItems from when it is armed.
type failAfter struct {
	mu      sync.Mutex
	n, seen int
}

func (f *failAfter) arm(n int) { f.mu.Lock(); f.n, f.seen = n, 0; f.mu.Unlock() }

func (f *failAfter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, injectTransactFailure(f))
}

func TestRemoveUserRefusedWhileAGroupJobRuns(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		n, _ := invitee(t, fx, "busy@agency.example", domain.KindGuest)
		acct := n.User.AccountID
		_, rec, err := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, acct)
		if err != nil {
			t.Fatal(err)
		}
		job := domain.Job{OrgID: demo.OrgID, ID: "job-1", GroupID: demo.GuestGroup, Kind: domain.JobGroupRole, State: domain.JobPlanning, CreatedAt: time.Now()}
		if err := fx.st.StartJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		before := len(scanAll(t, fx))
		_, err = svc.Remove(ctx, admin(), demo.OrgID, acct)
		var de *domain.Error
		if domain.ErrorCode(err) != domain.ECONFLICT || !strings.Contains(err.Error(), demo.GuestGroup) {
			t.Fatalf("removal during a job: %v", err)
		}
		// The write itself is conditioned on the lock (a job that starts after the read).
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionUserRemove, "user/x", "", time.Now(), nil, nil)
		_, err = fx.st.RemoveUser(ctx, domain.Removal{Record: *rec, CallerID: demo.AdminID, Audit: audit})
		if domain.ErrorCode(err) != domain.ECONFLICT || !asErr(err, &de) || fmt.Sprint(de.Extra["groups"]) != "["+demo.GuestGroup+"]" {
			t.Fatalf("stale removal during a job: %v", err)
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refused removals wrote: %d items, were %d", after, before)
		}
		checkCounters(t, fx)
	})
}

// A membership change that read its scope before the user was removed is
// refused by the profile's condition: nothing is orphaned. Without the
// condition in ChangeAccess the member and access items are written (checked).
func TestNoAccessWrittenForARemovedUser(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		u := plainUser(t, fx.st, demo.OrgID, "racer")
		sc, err := fx.st.LoadMembership(ctx, demo.OrgID, demo.AdminID, demo.GuestGroup, u.AccountID)
		if err != nil || sc.User == nil {
			t.Fatal(err)
		}
		if _, err := users.New(fx.st, nil).Remove(ctx, admin(), demo.OrgID, u.AccountID); err != nil {
			t.Fatal(err)
		}
		k := domain.SiteProductKey(demo.SiteID, domain.Confluence)
		err = fx.st.ChangeAccess(ctx, domain.AccessChange{User: *sc.User, Before: map[string]domain.Access{},
			After:     map[string]domain.Access{k: (domain.Access{Product: domain.Confluence, Direct: domain.RoleNone}).WithGroup(demo.GuestGroup, domain.RoleGuest)},
			AddMember: demo.GuestGroup, Audit: domain.NewAudit(demo.OrgID, demo.AdminID, "test", "user/racer", "", time.Now(), nil, nil)})
		if domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("a membership written for a removed user: %v", err)
		}
		if left := partition(t, fx, demo.OrgID, u.AccountID); len(left) != 0 {
			t.Errorf("orphans: %v", left)
		}
		checkCounters(t, fx)
	})
}

func TestSuspendAndRestore(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		site0, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
		u, err := svc.SetStatus(ctx, admin(), demo.OrgID, demo.PlainUserID, "suspended")
		if err != nil || u.Status != domain.UserSuspended {
			t.Fatalf("suspend: %+v %v", u, err)
		}
		if got, _ := fx.st.User(ctx, demo.OrgID, demo.PlainUserID); got.Status != domain.UserSuspended {
			t.Errorf("stored status %s", got.Status)
		}
		if a, err := fx.st.Access(ctx, demo.OrgID, demo.PlainUserID, demo.SiteID, domain.Confluence); err != nil || a.Effective != domain.RoleUser {
			t.Errorf("a suspended user's access: %+v %v", a, err)
		}
		if site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID); site.PaidUsers != site0.PaidUsers || site.Guests != site0.Guests {
			t.Errorf("suspension moved the counters: %+v → %+v", site0, site)
		}
		// A status change read before is refused (ErrAccessChanged).
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionUserStatus, "user/x", "", time.Now(), nil, nil)
		stale := domain.StatusChange{User: u, From: domain.UserActive, To: domain.UserSuspended, CallerID: demo.AdminID, Audit: audit}
		if err := fx.st.SetUserStatus(ctx, stale); err != domain.ErrAccessChanged {
			t.Errorf("stale status change: %v", err)
		}
		before := len(scanAll(t, fx))
		for _, c := range []struct {
			name, caller, account, status, code string
		}{
			{"yourself", demo.AdminID, demo.AdminID, "suspended", domain.ECONFLICT},
			{"site admin", demo.SiteAdminID, demo.PlainUserID, "active", domain.EFORBIDDEN},
			{"bad status", demo.AdminID, demo.PlainUserID, "invited", domain.EINVALID},
			{"unknown", demo.AdminID, "nobody", "active", domain.ENOTFOUND},
		} {
			if _, err := svc.SetStatus(ctx, domain.Caller{AccountID: c.caller}, demo.OrgID, c.account, c.status); domain.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		// Already suspended: nothing to do, nothing written.
		if _, err := svc.SetStatus(ctx, admin(), demo.OrgID, demo.PlainUserID, "suspended"); err != nil {
			t.Error(err)
		}
		// A pending invitee cannot be made active this way.
		n, _ := newGuest(demo.OrgID, demo.SiteID, "pending@agency.example", domain.KindGuest, time.Now().UTC())
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		create(t, fx.st, demo.SiteID, false, n)
		if _, err := svc.SetStatus(ctx, admin(), demo.OrgID, n.User.AccountID, "active"); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("activating an invitee: %v", err)
		}
		if u, err := svc.SetStatus(ctx, admin(), demo.OrgID, demo.PlainUserID, "active"); err != nil || u.Status != domain.UserActive {
			t.Errorf("restore: %+v %v", u, err)
		}
		checkCounters(t, fx)
	})
}

func TestRevokeInvitation(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		n, token := invitee(t, fx, "revoked@agency.example", domain.KindGuest)
		acct, invID := n.User.AccountID, n.Invitation.ID
		checkCounters(t, fx)
		before := len(scanAll(t, fx))
		for _, c := range []struct {
			name, caller, site, id, code string
		}{
			{"paid user", demo.PlainUserID, demo.SiteID, invID, domain.EFORBIDDEN},
			{"other org's admin", demo.OtherAdminID, demo.SiteID, invID, domain.ENOTFOUND},
			{"unknown invitation", demo.AdminID, demo.SiteID, "nope", domain.ENOTFOUND},
			{"another site", demo.AdminID, "other", invID, domain.ENOTFOUND},
		} {
			if _, err := svc.Revoke(ctx, domain.Caller{AccountID: c.caller}, demo.OrgID, c.site, c.id); domain.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		fx.c.Reset()
		res, err := svc.Revoke(ctx, domain.Caller{AccountID: demo.SiteAdminID}, demo.OrgID, demo.SiteID, invID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("revoke: %v", fx.c.Counts())
		if fx.c.Counts()["TransactWriteItems"] != 1 {
			t.Errorf("revoke made %v", fx.c.Counts())
		}
		if res.Invitation.Status != domain.InvitationRevoked || res.Released[demo.SiteID] != (domain.Seats{Guests: -1}) || len(res.Groups) != 1 {
			t.Errorf("result %+v", res)
		}
		if left := partition(t, fx, demo.OrgID, acct); len(left) != 1 || left[0] != "INVITE#"+invID {
			t.Errorf("left under the account: %v (only the invitation stays)", left)
		}
		inv, err := invitationsdb.New(fx.st).InvitationByToken(ctx, domain.HashToken(token))
		if err != nil || inv.Status != domain.InvitationRevoked {
			t.Errorf("the link resolves to %+v %v; want the revoked invitation", inv, err)
		}
		checkCounters(t, fx)
		// Revoked: a 409 and nothing changes; the address can be invited again.
		before = len(scanAll(t, fx))
		if _, err := svc.Revoke(ctx, admin(), demo.OrgID, demo.SiteID, invID); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("revoking twice: %v", err)
		}
		if err := invitationsdb.New(fx.st).AcceptInvitation(ctx, inv, time.Now(), domain.NewAudit(demo.OrgID, acct, domain.ActionInvitationAccept, "x", "", time.Now(), nil, nil)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("accepting a revoked invitation: %v", err)
		}
		if after := len(scanAll(t, fx)); after != before {
			t.Errorf("refusals wrote: %d items, were %d", after, before)
		}
		again, _ := newGuest(demo.OrgID, demo.SiteID, "revoked@agency.example", domain.KindGuest, time.Now().UTC())
		if res := create(t, fx.st, demo.SiteID, false, again); len(res.Refused) > 0 {
			t.Errorf("re-invite refused: %+v", res.Refused)
		}
		checkCounters(t, fx)
	})
}

// Revoke racing accept: exactly one wins, in either order and at once.
// Without the revoke's condition on the pending status the accepted
// account would lose its access (checked).
func TestRevokeRacingAccept(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		svc := users.New(fx.st, nil)
		acceptAudit := func(acct string) domain.AuditEntry {
			return domain.NewAudit(demo.OrgID, acct, domain.ActionInvitationAccept, "x", "", time.Now(), nil, nil)
		}
		revokeWith := func(inv domain.Invitation) error {
			_, rec, err := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, inv.AccountID)
			if err != nil {
				return err
			}
			if rec == nil {
				rec = &domain.UserRecord{}
			}
			return fx.st.RevokeInvitation(ctx, domain.Revocation{Invitation: inv, Record: *rec, Audit: acceptAudit("x")})
		}
		// Accept first, then a revoke that read the invitation pending.
		a, _ := invitee(t, fx, "first-accept@agency.example", domain.KindGuest)
		if err := invitationsdb.New(fx.st).AcceptInvitation(ctx, a.Invitation, time.Now(), acceptAudit(a.User.AccountID)); err != nil {
			t.Fatal(err)
		}
		if err := revokeWith(a.Invitation); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("revoke after accept: %v", err)
		}
		if u, err := fx.st.User(ctx, demo.OrgID, a.User.AccountID); err != nil || u.Status != domain.UserActive {
			t.Errorf("the accepted account: %+v %v", u, err)
		}
		if _, err := svc.Revoke(ctx, admin(), demo.OrgID, demo.SiteID, a.Invitation.ID); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("revoking an accepted invitation: %v", err)
		}
		// Revoke first, then an accept that read the invitation pending.
		b, _ := invitee(t, fx, "first-revoke@agency.example", domain.KindGuest)
		if err := revokeWith(b.Invitation); err != nil {
			t.Fatal(err)
		}
		if err := invitationsdb.New(fx.st).AcceptInvitation(ctx, b.Invitation, time.Now(), acceptAudit(b.User.AccountID)); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("accept after revoke: %v", err)
		}
		if left := partition(t, fx, demo.OrgID, b.User.AccountID); len(left) != 1 {
			t.Errorf("after revoke then accept: %v", left)
		}
		// At once, a few times.
		for i := 0; i < 4; i++ {
			c, _ := invitee(t, fx, fmt.Sprintf("race%d@agency.example", i), domain.KindGuest)
			var wg sync.WaitGroup
			var errAccept, errRevoke error
			wg.Add(2)
			go func() {
				defer wg.Done()
				errAccept = invitationsdb.New(fx.st).AcceptInvitation(ctx, c.Invitation, time.Now(), acceptAudit(c.User.AccountID))
			}()
			go func() { defer wg.Done(); errRevoke = revokeWith(c.Invitation) }()
			wg.Wait()
			if (errAccept == nil) == (errRevoke == nil) {
				t.Errorf("race %d: accept %v, revoke %v: exactly one must win", i, errAccept, errRevoke)
			}
		}
		checkCounters(t, fx)
	})
}

// injectTransactFailure fails the armed n-th TransactWriteItems (before it
// reaches the backend: nothing of it is written).
func injectTransactFailure(f *failAfter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.fail", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if awsmiddleware.GetOperationName(ctx) == "TransactWriteItems" {
				f.mu.Lock()
				f.seen++
				hit := f.n > 0 && f.seen == f.n
				f.mu.Unlock()
				if hit {
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected failure")
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	}
}

func asErr(err error, target **domain.Error) bool { return errors.As(err, target) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// A revoke that read the invitation before the email sender claimed it (a
// new link: version and token moved, still pending) is told to read again
// (ErrAccessChanged), not "no longer pending", and the service's revoke,
// which reads again, revokes it. Guard: the pending check on the old item
// in lifecycleTx (without it: ECONFLICT, the admin's revoke refused with a
// 409 whenever it raced an invitation email).
func TestRevokeAfterEmailClaimReadsAgain(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		n, _ := invitee(t, fx, "claimed-then-revoked@agency.example", domain.KindGuest)
		_, rec, err := fx.st.LoadUserRecord(ctx, demo.OrgID, demo.AdminID, n.Invitation.AccountID)
		if err != nil || rec == nil {
			t.Fatalf("record: %v %v", rec, err)
		}
		read, err := emailsdb.New(fx.st).InvitationForEmail(ctx, demo.OrgID, n.Invitation.AccountID, n.Invitation.ID)
		if err != nil || read == nil {
			t.Fatalf("read: %v %v", read, err)
		}
		_, hash := domain.NewToken()
		if _, err := emailsdb.New(fx.st).ClaimInvitationEmail(ctx, *read, hash, time.Now().UTC(), 2*time.Minute); err != nil {
			t.Fatalf("claim: %v", err)
		}
		audit := domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionInvitationRevoke, "x", "", time.Now(), nil, nil)
		if err := fx.st.RevokeInvitation(ctx, domain.Revocation{Invitation: *read, Record: *rec, Audit: audit}); err != domain.ErrAccessChanged {
			t.Fatalf("revoke with the invitation read before the claim: %v, want ErrAccessChanged (read again)", err)
		}
		svc := users.New(fx.st, nil)
		if _, err := svc.Revoke(ctx, admin(), demo.OrgID, demo.SiteID, n.Invitation.ID); err != nil {
			t.Fatalf("the service's revoke after the claim: %v", err)
		}
	})
}
