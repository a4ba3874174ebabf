package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// sentQueue keeps what the export worker queues.
type sentQueue struct{ msgs []queue.Message }

func (q *sentQueue) Send(_ context.Context, msgs ...queue.Message) error {
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// TestExportPageCost counts one page of an export job through the worker
// and the real store: one BatchGetItem (the job and its org together), the
// index Queries of A19, one Query per user for their roles, one
// TransactWriteItems, and the next page queued.
func TestExportPageCost(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		now := time.Now().UTC()
		var users []domain.User
		for i := range 12 {
			users = append(users, domain.User{OrgID: demo.OrgID, AccountID: fmt.Sprintf("exp-%02d", i), Email: fmt.Sprintf("exp%02d@cost.example", i), Status: domain.UserActive, CreatedAt: now})
		}
		if err := fx.st.BulkLoadUsers(ctx, users, demo.SiteID, nil); err != nil {
			t.Fatal(err)
		}
		j := domain.ExportJob{OrgID: demo.OrgID, ID: domain.NewID(), CreatedBy: demo.AdminID, CreatedAt: now, UpdatedAt: now,
			ExpiresAt: now.Add(time.Hour), Status: domain.ExportRunning, Parts: 1}
		if err := fx.st.CreateExport(ctx, j, domain.NewAudit(demo.OrgID, demo.AdminID, domain.ActionExternalUsersExport, domain.OrgTarget(demo.OrgID), "req", now, nil, nil)); err != nil {
			t.Fatal(err)
		}
		q := &sentQueue{}
		svc := &extusers.Service{Ports: extusers.PortsOf(fx.st), Queue: q, Limits: extusers.Limits{Page: 5}, Now: func() time.Time { return now }}
		fx.c.Reset()
		if err := svc.HandlePage(ctx, fmt.Sprintf(`{"orgId":%q,"exportId":%q,"page":1}`, demo.OrgID, j.ID)); err != nil {
			t.Fatal(err)
		}
		c := fx.c.Counts()
		// 5 users' roles + the index Queries (ranges around the one verified domain).
		if c["BatchGetItem"] != 1 || c["TransactWriteItems"] != 1 || c["Query"] < 5 || c["Query"] > 5+2 || fx.c.Total() != 2+c["Query"] {
			t.Errorf("one export page of 5 users cost %v", c)
		}
		if len(q.msgs) != 1 {
			t.Errorf("queued %d messages, want page 2", len(q.msgs))
		}
		got, err := fx.st.ExportJob(ctx, demo.OrgID, j.ID, now)
		if err != nil || got.Pages != 1 || got.Rows != 5 {
			t.Fatalf("job after page 1: %+v %v", got, err)
		}
	})
}
