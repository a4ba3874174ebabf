package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
	"github.com/guestaccess/guestaccess/shared/store"
)

// memQueue is the jobs queue in memory: the test pumps it through the
// service, redelivering what fails, and dead-lettering past the limit.
type memQueue struct {
	mu   sync.Mutex
	msgs []jobs.Message
	sent int
}

func (q *memQueue) Send(_ context.Context, msgs ...jobs.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	q.sent += len(msgs)
	return nil
}

func (q *memQueue) pop() (jobs.Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.msgs) == 0 {
		return jobs.Message{}, false
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	return m, true
}

// pump delivers every message until the queue is empty; a failed one goes
// back to the end of the queue, and to Dead after maxReceive tries. With
// twice, every message is delivered twice (duplicates).
func pump(t *testing.T, svc *jobs.Service, q *memQueue, twice bool) (dead int) {
	t.Helper()
	tries := map[string]int{}
	for steps := 0; steps < 100000; steps++ {
		m, ok := q.pop()
		if !ok {
			return dead
		}
		err := svc.Handle(context.Background(), m.Body)
		if twice && err == nil {
			err = svc.Handle(context.Background(), m.Body)
		}
		if err != nil {
			tries[m.Body]++
			if tries[m.Body] >= 5 {
				dead++
				if err := svc.Dead(context.Background(), m.Body); err != nil {
					t.Fatalf("dead letter: %v", err)
				}
				continue
			}
			q.mu.Lock()
			q.msgs = append(q.msgs, m)
			q.mu.Unlock()
		}
	}
	t.Fatal("the queue never emptied")
	return dead
}

type fixture struct {
	backend string
	st      *store.Store
	db      *dynamodb.Client
	calls   *testenv.Counter
	q       *memQueue
	svc     *jobs.Service
	groups  *groups.Service
}

var admin = domain.Caller{AccountID: demo.AdminID, RequestID: "req"}

func each(t *testing.T, f func(t *testing.T, fx *fixture)) { eachLimited(t, 0, f) }

// eachLimited is each with the demo site's user limit (0: the default).
func eachLimited(t *testing.T, userLimit int64, f func(t *testing.T, fx *fixture)) {
	for _, b := range []string{"moto", "embedded"} {
		t.Run(b, func(t *testing.T) {
			c := &testenv.Counter{}
			var db *dynamodb.Client
			if b == "moto" {
				db = testenv.DynamoDB(testenv.Endpoint(t, "MOTO_ENDPOINT"), c)
			} else {
				db = testenv.Minidyn(t, c)
			}
			st := store.New(db, testenv.Table(t, db))
			st.Retry.Base, st.Retry.Max = time.Millisecond, 5*time.Millisecond
			if err := demo.SeedLimited(context.Background(), st, 2, userLimit); err != nil {
				t.Fatal(err)
			}
			q := &memQueue{}
			svc := jobs.New(st, q)
			svc.InlineMembers = -1
			fx := &fixture{backend: b, st: st, db: db, calls: c, q: q,
				svc:    svc,
				groups: groups.New(st)}
			f(t, fx)
		})
	}
}

// users makes n active accounts with no access and adds them to group g.
func (fx *fixture) users(t *testing.T, prefix, g string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		u := domain.User{OrgID: demo.OrgID, AccountID: id, Email: id + "@agency.example", Status: domain.UserActive, CreatedAt: time.Now()}
		if err := fx.st.CreateUser(ctx, u, demo.SiteID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.groups.AddMember(ctx, admin, demo.OrgID, g, id); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (fx *fixture) group(t *testing.T, id string, roles ...groups.RoleInput) {
	t.Helper()
	if _, err := fx.groups.Create(context.Background(), admin, demo.OrgID, id, "Group "+id, roles); err != nil {
		t.Fatal(err)
	}
}

// check recounts a site's role holders from the access items and compares
// them with the counters, and checks every member of every group against a
// from-scratch recomputation of their sources.
func (fx *fixture) check(t *testing.T, accounts []string) {
	t.Helper()
	ctx := context.Background()
	site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
	var guests, paid int64
	for _, id := range append(accounts, demo.AdminID, demo.SiteAdminID, demo.PlainUserID, "user1-14west", "user2-14west") {
		a, err := fx.st.Access(ctx, demo.OrgID, id, demo.SiteID, domain.Confluence)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			a, err = domain.Access{Direct: domain.RoleNone, Effective: domain.RoleNone}, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := a.Recompute().Effective; want != a.Effective {
			t.Errorf("%s: effective %s, its sources give %s (%+v)", id, a.Effective, want, a)
		}
		gs, _ := fx.st.UserGroups(ctx, demo.OrgID, id)
		for g, r := range a.Groups {
			grp, err := fx.st.Group(ctx, demo.OrgID, g)
			if err != nil || grp.RoleOn(demo.SiteID, domain.Confluence) != r || !contains(gs, g) {
				t.Errorf("%s: group %s gives %s in the access item; group says %s (member: %v)", id, g, r, grp.RoleOn(demo.SiteID, domain.Confluence), contains(gs, g))
			}
		}
		for _, g := range gs {
			grp, _ := fx.st.Group(ctx, demo.OrgID, g)
			if r := grp.RoleOn(demo.SiteID, domain.Confluence); r != domain.RoleNone && a.Groups[g] != r {
				t.Errorf("%s: member of %s (%s) but the access item says %q", id, g, r, a.Groups[g])
			}
		}
		switch domain.KindOf(a.Effective) {
		case domain.KindGuest:
			guests++
		case domain.KindPaid:
			paid++
		}
	}
	if site.Guests != guests || site.PaidUsers != paid || site.GuestSlots != 5*paid-guests || site.UserSlots != site.UserLimit-paid-guests || site.ReservedUsers != 0 {
		t.Errorf("counters %+v; recount: %d guests, %d paid", site, guests, paid)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (fx *fixture) run(t *testing.T, j domain.Job, err error, twice bool) domain.Job {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	pump(t, fx.svc, fx.q, twice)
	got, err := fx.svc.Job(context.Background(), admin, demo.OrgID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGroupRoleJob(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency")
		ids := fx.users(t, "a", "agency", 7)
		// Agency becomes a guest group: 7 new guests.
		j, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "guest")
		if j.State != domain.JobPlanning {
			t.Errorf("a queued job answers planning, got %s", j.State)
		}
		j = fx.run(t, j, err, false)
		if j.State != domain.JobDone || j.Members != 7 || j.Changed != 7 || j.Done != 7 || len(j.Conversions) != 7 {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		if s, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID); s.Guests != 7 {
			t.Errorf("guests = %d", s.Guests)
		}
		// Then a user group: every guest converts to paid, named with why.
		j = fx.run(t, fx.svcSet(t, "user"), nil, true) // every message delivered twice
		if j.State != domain.JobDone || len(j.Conversions) != 7 || j.Conversions[0].From != domain.KindGuest || j.Conversions[0].To != domain.KindPaid ||
			len(j.Conversions[0].Why) == 0 {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		// Back to none: they lose the access the group gave.
		j = fx.run(t, fx.svcSet(t, "none"), nil, false)
		if j.State != domain.JobDone || j.Changed != 7 {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		if _, err := fx.st.Access(ctx, demo.OrgID, ids[0], demo.SiteID, domain.Confluence); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("access after none: %v", err)
		}
	})
}

func (fx *fixture) svcSet(t *testing.T, role string) domain.Job {
	t.Helper()
	j, err := fx.svc.SetGroupRole(context.Background(), admin, demo.OrgID, "agency", demo.SiteID, "confluence", role)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJobRefusedWhole: a group role that would take the site past its guest
// limit is refused before any member changes, with the numbers.
func TestJobRefusedWhole(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency")
		ids := fx.users(t, "r", "agency", 30) // the site has 5 paid users: 25 slots
		j := fx.run(t, fx.svcSet(t, "guest"), nil, false)
		if j.State != domain.JobRefused || j.Done != 0 || j.Message == "" {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		g, _ := fx.st.Group(ctx, demo.OrgID, "agency")
		if g.RoleOn(demo.SiteID, domain.Confluence) != domain.RoleNone {
			t.Errorf("refused job changed the group's role: %+v", g)
		}
		// The group is free for the next job.
		if _, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "user"); err != nil {
			t.Errorf("next job: %v", err)
		}
	})
}

// TestJobPastTheUserLimit: on a site with 3 free user slots (limit 8, 5
// paid users), a group role adding 4 guests is refused before any member
// changes, with the user limit's numbers; adding 3 runs, its reservation
// consumed by its pages (one member a page), and the site is then full.
func TestJobPastTheUserLimit(t *testing.T) {
	eachLimited(t, 8, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.svc.PageMembers = 1
		fx.group(t, "agency")
		ids := fx.users(t, "l", "agency", 4)
		j := fx.run(t, fx.svcSet(t, "guest"), nil, false)
		if j.State != domain.JobRefused || j.Done != 0 || !strings.Contains(j.Message, "User limit reached") || !strings.Contains(j.Message, "allows 8 users") {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		if _, err := fx.groups.RemoveMember(ctx, admin, demo.OrgID, "agency", ids[3]); err != nil {
			t.Fatal(err)
		}
		j = fx.run(t, fx.svcSet(t, "guest"), nil, true)
		if j.State != domain.JobDone || j.Done != 3 || j.Pages != 3 {
			t.Fatalf("job = %+v", j)
		}
		fx.check(t, ids)
		if s, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID); s.UserSlots != 0 || s.Guests != 3 || s.ReservedUsers != 0 {
			t.Errorf("site = %+v", s)
		}
		// Full: the fourth joins the guest group only once a slot is free.
		if _, err := fx.groups.AddMember(ctx, admin, demo.OrgID, "agency", ids[3]); domain.ErrorCode(err) != domain.EUSERLIMIT {
			t.Errorf("membership on a full site: %v", err)
		}
	})
}

func TestOneJobAtATime(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		fx.group(t, "agency")
		fx.users(t, "o", "agency", 2)
		fx.svcSet(t, "guest") // queued, not run
		_, err := fx.svc.SetGroupRole(context.Background(), admin, demo.OrgID, "agency", demo.SiteID, "confluence", "user")
		e, ok := err.(*domain.Error)
		if !ok || e.Code != domain.ECONFLICT || e.Extra["jobId"] == nil {
			t.Errorf("second job: %#v", err)
		}
	})
}

func TestDeleteGroupJob(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency", groups.RoleInput{Site: demo.SiteID, Product: "confluence", Role: "guest"})
		ids := fx.users(t, "d", "agency", 4)
		// One of them is also in staff: deleting agency leaves them paid.
		if _, err := fx.groups.AddMember(ctx, admin, demo.OrgID, demo.PaidGroup, ids[0]); err != nil {
			t.Fatal(err)
		}
		j, err := fx.svc.DeleteGroup(ctx, admin, demo.OrgID, "agency")
		if err != nil {
			t.Fatal(err)
		}
		// Once the delete job has begun, nobody joins the group.
		if m, ok := fx.q.pop(); !ok || fx.svc.Handle(ctx, m.Body) != nil {
			t.Fatal("plan")
		}
		late := fx.users(t, "late", demo.GuestGroup, 1)[0]
		if _, err := fx.groups.AddMember(ctx, admin, demo.OrgID, "agency", late); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Errorf("joining a group being deleted: %v", err)
		}
		j = fx.run(t, j, nil, false)
		if j.State != domain.JobDone || j.Members != 4 {
			t.Fatalf("job = %+v", j)
		}
		if _, err := fx.st.Group(ctx, demo.OrgID, "agency"); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("group after delete: %v", err)
		}
		for i, id := range ids {
			gs, _ := fx.st.UserGroups(ctx, demo.OrgID, id)
			a, err := fx.st.Access(ctx, demo.OrgID, id, demo.SiteID, domain.Confluence)
			if i == 0 && (len(gs) != 1 || a.Effective != domain.RoleUser) || i > 0 && (len(gs) != 0 || domain.ErrorCode(err) != domain.ENOTFOUND) {
				t.Errorf("%s after delete: groups %v, access %+v %v", id, gs, a, err)
			}
		}
		fx.check(t, append(ids, late))
		// The name is free again.
		if _, err := fx.groups.Create(ctx, admin, demo.OrgID, "", "Group agency", nil); err != nil {
			t.Errorf("name not freed: %v", err)
		}
	})
}
