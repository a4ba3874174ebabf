package accessdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/shared/access/accessdb"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestTouchLastActive: the first touch of a day writes, a second the same
// day does not, the next day writes again; a profile that is gone is not
// recreated.
func TestTouchLastActive(t *testing.T) {
	seededEach(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
		for i, c := range []struct {
			day  time.Time
			want bool
		}{{day, true}, {day, false}, {day.AddDate(0, 0, -1), false}, {day.AddDate(0, 0, 1), true}} {
			wrote, err := accessdb.New(fx.st).TouchLastActive(ctx, demo.OrgID, demo.PlainUserID, c.day)
			if err != nil || wrote != c.want {
				t.Errorf("touch %d (%s): %v, %v; want %v", i, c.day.Format(time.DateOnly), wrote, err, c.want)
			}
		}
		sc, err := accessdb.New(fx.st).LoadDecision(ctx, demo.OrgID, demo.SiteID, demo.PlainUserID, domain.Confluence, "", "")
		if err != nil || sc.User == nil || !sc.User.LastActive.Equal(day.AddDate(0, 0, 1)) {
			t.Errorf("lastActive read back: %+v, %v", sc.User, err)
		}
		before := len(scanAll(t, fx))
		if wrote, err := accessdb.New(fx.st).TouchLastActive(ctx, demo.OrgID, "nobody", day); wrote || err != nil {
			t.Errorf("touch of no profile: %v, %v", wrote, err)
		}
		if len(scanAll(t, fx)) != before {
			t.Error("a touch made a profile")
		}
	})
}
