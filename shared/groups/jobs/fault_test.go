package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/groups/jobs"
)

// faulty wraps the real store: the first call of one method fails, either
// before it reaches the table (nothing written) or after (written, but the
// caller sees an error, as when a response is lost).
type faulty struct {
	jobs.Store
	mu     sync.Mutex
	method string
	after  bool
	fired  bool
}

var errInjected = errors.New("injected fault")

func (f *faulty) hit(m string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fired || f.method != m {
		return false
	}
	f.fired = true
	return true
}

// call runs one store call with the fault armed for its method.
func call[T any](f *faulty, m string, do func() (T, error)) (T, error) {
	if !f.after && f.hit(m) {
		var zero T
		return zero, errInjected
	}
	v, err := do()
	if err == nil && f.after && f.hit(m) {
		return v, errInjected
	}
	return v, err
}

func (f *faulty) Job(ctx context.Context, o, id string) (domain.Job, error) {
	return call(f, "Job", func() (domain.Job, error) { return f.Store.Job(ctx, o, id) })
}

func (f *faulty) Group(ctx context.Context, o, id string) (domain.Group, error) {
	return call(f, "Group", func() (domain.Group, error) { return f.Store.Group(ctx, o, id) })
}

func (f *faulty) AllMembers(ctx context.Context, o, g string) ([]domain.Member, error) {
	return call(f, "AllMembers", func() ([]domain.Member, error) { return f.Store.AllMembers(ctx, o, g) })
}

func (f *faulty) AccessOf(ctx context.Context, o string, a, k []string) (map[string]map[string]domain.Access, error) {
	return call(f, "AccessOf", func() (map[string]map[string]domain.Access, error) { return f.Store.AccessOf(ctx, o, a, k) })
}

func (f *faulty) Sites(ctx context.Context, o string, ids []string) (map[string]domain.Site, error) {
	return call(f, "Sites", func() (map[string]domain.Site, error) { return f.Store.Sites(ctx, o, ids) })
}

func (f *faulty) BeginJob(ctx context.Context, j domain.Job, r map[string]domain.Role) error {
	_, err := call(f, "BeginJob", func() (int, error) { return 0, f.Store.BeginJob(ctx, j, r) })
	return err
}

func (f *faulty) ApplyPage(ctx context.Context, j domain.Job, p domain.JobPage, c []domain.Conversion) (bool, error) {
	return call(f, "ApplyPage", func() (bool, error) { return f.Store.ApplyPage(ctx, j, p, c) })
}

func (f *faulty) EndJob(ctx context.Context, j domain.Job, from domain.JobState, name string, rel map[string]int64) error {
	_, err := call(f, "EndJob", func() (int, error) { return 0, f.Store.EndJob(ctx, j, from, name, rel) })
	return err
}

// use makes every port of svc the store st.
func use(svc *jobs.Service, st jobs.Store) {
	n := jobs.New(st, svc.Queue)
	svc.Scopes, svc.Callers, svc.Groups, svc.Sites, svc.Jobs, svc.Ledger = n.Scopes, n.Callers, n.Groups, n.Sites, n.Jobs, n.Ledger
	svc.Members, svc.Access, svc.Memberships, svc.Pages = n.Members, n.Access, n.Memberships, n.Pages
}

// TestFaultAtEachWorkerCall fails each store call of the worker once —
// before it writes, and after — and lets the queue redeliver: every job
// ends done, no member is changed twice (the counters match a recount), none
// is skipped (the checker).
func TestFaultAtEachWorkerCall(t *testing.T) {
	methods := []string{"Job", "Group", "AllMembers", "AccessOf", "Sites", "BeginJob", "ApplyPage", "EndJob"}
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency")
		ids := fx.users(t, "f", "agency", 9)
		role := []string{"guest", "user"}
		n := 0
		for _, m := range methods {
			for _, after := range []bool{false, true} {
				j, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", role[n%2])
				if err != nil {
					t.Fatalf("%s (after %v): start: %v", m, after, err)
				}
				f := &faulty{Store: fx.st, method: m, after: after}
				use(fx.svc, f)
				n++
				pump(t, fx.svc, fx.q, false)
				use(fx.svc, fx.st)
				got, err := fx.st.Job(ctx, demo.OrgID, j.ID)
				if !f.fired {
					t.Errorf("%s (after %v): the fault never fired", m, after)
				}
				if err != nil || got.State != domain.JobDone || got.Done != got.Changed || got.Changed != 9 {
					t.Errorf("%s (after %v): job %+v %v (fault fired: %v)", m, after, got, err, f.fired)
				}
				fx.check(t, ids)
			}
		}
	})
}

// TestPoisonPageReachesTheDLQ: a page that fails every time goes to the
// dead-letter queue; the job says so, releases that page's reservation and
// unlocks the group; the other pages are applied.
func TestPoisonPageReachesTheDLQ(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		fx.group(t, "agency")
		ids := fx.users(t, "p", "agency", 3)
		fx.svc.PageMembers = 1
		j, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "guest")
		if err != nil {
			t.Fatal(err)
		}
		fx.svc.Pages = &poison{PageApplier: fx.st}
		if dead := pump(t, fx.svc, fx.q, false); dead != 1 {
			t.Errorf("%d dead letters, want 1", dead)
		}
		got, _ := fx.st.Job(ctx, demo.OrgID, j.ID)
		if got.State != domain.JobFailed || got.PagesFailed != 1 || got.PagesDone != 2 || got.Message == "" {
			t.Errorf("job = %+v", got)
		}
		site, _ := fx.st.Site(ctx, demo.OrgID, demo.SiteID)
		if site.Guests != 2 {
			t.Errorf("guests = %d, want the 2 applied", site.Guests)
		}
		// The dead page's member is unchanged (no access from the group: the
		// job says so); the others are consistent and the counters match.
		if _, err := fx.st.Access(ctx, demo.OrgID, "p0", demo.SiteID, domain.Confluence); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("p0 was changed: %v", err)
		}
		fx.check(t, ids[1:])
		fx.svc.Pages = fx.st
		if _, err := fx.svc.SetGroupRole(ctx, admin, demo.OrgID, "agency", demo.SiteID, "confluence", "user"); err != nil {
			t.Errorf("group still locked: %v", err)
		}
		_ = fmt.Sprint
		_ = time.Second
	})
}

// poison fails every application of the page that holds "p0" (the
// service's PageApplier).
type poison struct{ jobs.PageApplier }

func (p *poison) ApplyPage(ctx context.Context, j domain.Job, pg domain.JobPage, c []domain.Conversion) (bool, error) {
	for _, e := range pg.Entries {
		if e.AccountID == "p0" {
			return false, errInjected
		}
	}
	return p.PageApplier.ApplyPage(ctx, j, pg, c)
}
