package emails

import (
	"context"
	"sync"
	"testing"
	"time"
)

// drain takes n slots with senders goroutines sharing one window and one
// fake clock, and returns the sends counted per second and the seconds the
// clock moved.
func drain(t *testing.T, w *fakeWindow, n, senders, rate int) (map[int64]int, time.Duration, int) {
	t.Helper()
	clock := &fakeClock{now: t0}
	var mu sync.Mutex
	perSecond := map[int64]int{}
	taken, waits := 0, 0
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &Pacer{Window: w, Rate: rate, Now: clock.Now, Sleep: func(ctx context.Context, d time.Duration) error {
				// Every sender waits for the same next second: the clock
				// moves to it once.
				clock.mu.Lock()
				defer clock.mu.Unlock()
				if next := time.Unix(clock.now.Unix()+1, 0).UTC(); next.After(clock.now) && d > 0 {
					clock.now = next
				}
				return nil
			}}
			for {
				mu.Lock()
				if taken == n {
					mu.Unlock()
					return
				}
				taken++
				mu.Unlock()
				full, err := p.Wait(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				sec := clock.Now().Unix()
				mu.Lock()
				perSecond[sec]++
				waits += full
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return perSecond, clock.Now().Sub(t0), waits
}

// 10,000 queued emails drain at the configured rate, counted on a fake
// clock: 715 seconds at 14 a second, no second over 14.
func TestPacerDrainsTenThousandAtTheRate(t *testing.T) {
	w := &fakeWindow{}
	per, took, waits := drain(t, w, 10000, 1, DefaultRate)
	total, over := 0, 0
	for _, c := range per {
		total += c
		if c > DefaultRate {
			over++
		}
	}
	want := time.Duration((10000+DefaultRate-1)/DefaultRate-1) * time.Second
	if total != 10000 || over != 0 || took != want {
		t.Fatalf("%d sent, %d seconds over the rate, took %v (want %v)", total, over, took, want)
	}
	// Cost: one conditional write per email plus one refused per full second.
	writes := 10000 + waits
	t.Logf("10000 emails at %d/s: %v on the fake clock, %d seconds, %d window writes (%.3f per email)", DefaultRate, took, len(per), writes, float64(writes)/10000)
}

// Four senders against one window counter never count more than the rate
// in one second (window counts, not timing). Guard: the window's
// count < rate condition (fakeWindow.unguarded; the store's condition is
// checked the same way in TestTakeSendSlot on both backends).
func TestPacerRateHoldsWithFourSenders(t *testing.T) {
	w := &fakeWindow{}
	_, _, _ = drain(t, w, 2000, 4, DefaultRate)
	total := 0
	for sec, c := range w.counts {
		total += c
		if c > DefaultRate {
			t.Errorf("second %d: %d sends, over %d", sec, c, DefaultRate)
		}
	}
	if total != 2000 {
		t.Fatalf("%d sends counted, want 2000", total)
	}
}
