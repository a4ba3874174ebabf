package auditdb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/audit/auditdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestAuditLogReads writes entries over 50 days (through group creations,
// each with its entry) and reads them back: the whole log newest first in
// pages that query at most auditdb.AuditDayQueries days, by actor, by target,
// by both, within a window; a cursor of another list is refused.
func TestAuditLogReads(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		st := fx.st
		now := time.Now().UTC()
		type entry struct {
			ago   time.Duration
			actor string
		}
		entries := []entry{{0, "a1"}, {time.Minute, "a2"}, {time.Hour, "a1"}, {26 * time.Hour, "a2"}, {50 * 24 * time.Hour, "a1"}}
		ids := make([]string, len(entries))
		for i, e := range entries {
			g := domain.Group{OrgID: demo.OrgID, ID: fmt.Sprintf("aud%d", i), Name: fmt.Sprintf("Aud %d", i), CreatedAt: now}
			a := domain.NewAudit(demo.OrgID, e.actor, "group.create", domain.GroupTarget(g.ID), fmt.Sprintf("req-%d", i), now.Add(-e.ago), nil, map[string]any{"name": g.Name})
			ids[i] = a.ID
			if err := st.CreateGroup(ctx, g, &a); err != nil {
				t.Fatal(err)
			}
		}
		// Both groups of the same second sort in time order (fixed-width times).
		q := domain.AuditQuery{From: now.Add(-400 * 24 * time.Hour), To: now.Add(time.Second), Limit: 100}
		fx.c.Reset()
		p1, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, q)
		if err != nil {
			t.Fatal(err)
		}
		if c := fx.c.Counts(); c["Query"] != auditdb.AuditDayQueries || fx.c.Total() != auditdb.AuditDayQueries {
			t.Errorf("a page of the whole log cost %v, want %d Queries", c, auditdb.AuditDayQueries)
		}
		var got []string
		for _, a := range p1.Items {
			if a.Action == "group.create" {
				got = append(got, a.ID)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(ids[:4]) || p1.Next == "" {
			t.Fatalf("first page %v next %q, want %v and a cursor", got, p1.Next, ids[:4])
		}
		q.Cursor = p1.Next
		p2, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, q)
		if err != nil || len(p2.Items) != 1 || p2.Items[0].ID != ids[4] || p2.Items[0].RequestID != "req-4" || p2.Items[0].After["name"] != "Aud 4" {
			t.Fatalf("second page %+v %v", p2, err)
		}
		// Small pages follow each other without loss or repeat.
		q.Cursor, q.Limit = "", 2
		var all []string
		for page := 0; page < 20; page++ {
			p, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range p.Items {
				if a.Action == "group.create" {
					all = append(all, a.ID)
				}
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if fmt.Sprint(all) != fmt.Sprint(ids) {
			t.Errorf("pages of 2: %v, want %v", all, ids)
		}
		// By actor (one Query), by target, by both, in a window.
		for _, c := range []struct {
			q    domain.AuditQuery
			want []string
		}{
			{domain.AuditQuery{Actor: "a1"}, []string{ids[0], ids[2], ids[4]}},
			{domain.AuditQuery{Actor: "a2"}, []string{ids[1], ids[3]}},
			{domain.AuditQuery{Target: domain.GroupTarget("aud3")}, []string{ids[3]}},
			{domain.AuditQuery{Actor: "a1", Target: domain.GroupTarget("aud2")}, []string{ids[2]}},
			{domain.AuditQuery{Actor: "a2", Target: domain.GroupTarget("aud2")}, nil},
			{domain.AuditQuery{Actor: "a1", From: now.Add(-2 * time.Hour), To: now.Add(-30 * time.Minute)}, []string{ids[2]}},
		} {
			c.q.Limit = 10
			if c.q.To.IsZero() {
				c.q.From, c.q.To = now.Add(-400*24*time.Hour), now.Add(time.Second)
			}
			fx.c.Reset()
			p, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, c.q)
			var got []string
			for _, a := range p.Items {
				got = append(got, a.ID)
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%+v: %v %v, want %v", c.q, got, err, c.want)
			}
			if fx.c.Total() != 1 {
				t.Errorf("%+v cost %v, want one Query", c.q, fx.c.Counts())
			}
		}
		// Pages of an actor's entries; a cursor of another list is refused.
		a1 := domain.AuditQuery{Actor: "a1", From: now.Add(-400 * 24 * time.Hour), To: now.Add(time.Second), Limit: 1}
		p, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, a1)
		if err != nil || len(p.Items) != 1 || p.Next == "" {
			t.Fatalf("a1 page: %+v %v", p, err)
		}
		a1.Cursor = p.Next
		if p, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, a1); err != nil || len(p.Items) != 1 || p.Items[0].ID != ids[2] {
			t.Errorf("a1 second page: %+v %v", p, err)
		}
		for _, other := range []domain.AuditQuery{{Actor: "a2"}, {Target: domain.GroupTarget("aud0")}, {}} {
			other.From, other.To, other.Limit, other.Cursor = a1.From, a1.To, 1, a1.Cursor
			if _, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, other); domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("a1's cursor on %+v: %v", other, err)
			}
		}
		q.Cursor = "bm90LWpzb24"
		if _, err := auditdb.New(st).AuditLog(ctx, demo.OrgID, q); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("bad cursor: %v", err)
		}
	})
}
