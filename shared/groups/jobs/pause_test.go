package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// pageStore applies pages by a function: a page applied without stale
// members needs no other port.
type pageStore struct {
	apply func() error
}

func (p pageStore) ApplyPage(context.Context, domain.Job, domain.JobPage, []domain.Conversion) (bool, error) {
	return true, p.apply()
}

// TestQueuedPageLeavesTheSiteFree: a consumer pauses PagePause after each
// queued page it applied (the site's counter item is free meanwhile), and
// not after one that failed (it goes back to the queue at once).
func TestQueuedPageLeavesTheSiteFree(t *testing.T) {
	var slept []time.Duration
	fail := false
	s := &Service{
		Pages: pageStore{apply: func() error {
			if fail {
				return errors.New("boom")
			}
			return nil
		}},
		PagePause: DefaultPagePause,
		Sleep:     func(_ context.Context, d time.Duration) { slept = append(slept, d) },
	}
	page := &domain.JobPage{OrgID: "o", JobID: "j", Entries: []domain.JobEntry{{AccountID: "a"}}}
	msg := body(envelope{Type: "page", Job: jobRef{OrgID: "o", ID: "j", GroupID: "g", Kind: domain.JobGroupRole}, Page: page}).Body
	if err := s.Handle(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != DefaultPagePause {
		t.Fatalf("after a page applied: paused %v, want once %v", slept, DefaultPagePause)
	}
	fail = true
	if err := s.Handle(context.Background(), msg); err == nil {
		t.Fatal("a failed page answered no error")
	}
	if len(slept) != 1 {
		t.Errorf("paused after a failed page: %v", slept)
	}
}
