package emails

import (
	"context"
	"errors"
	"time"
)

// Window is the account-wide counter of sends per second: one item per
// UTC second (emailsdb.Store.TakeSendSlot), shared by every sender instance.
type Window interface {
	// TakeSlot counts one send in the second (Unix seconds) if fewer than
	// rate were counted there, and reports whether it did. It is one
	// conditional write: two senders cannot both take the last slot.
	TakeSlot(ctx context.Context, second int64, rate int) (bool, error)
}

// DefaultRate is SES's default production sending rate (emails a second),
// the template's SesMaxSendRate default.
const DefaultRate = 14

// Pacer holds every sender to Rate sends in any UTC second, account-wide
// whatever the number of senders: before each send it takes a slot of the
// current second's counter, and when that second is full it waits for the
// next one. Cost per email: one conditional write, plus one refused write
// per sender per full second it waited through.
type Pacer struct {
	Window Window
	// Rate is the most sends in one second (0: DefaultRate).
	Rate int
	// Now and Sleep are the clock (nil: time.Now, a timer ctx cuts short).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrNoSlot is returned by Wait when ctx ends before a slot is free.
var ErrNoSlot = errors.New("emailq: no send slot before the deadline")

// Wait blocks until the caller holds a slot of the current second, and
// returns how many full seconds it waited through.
func (p *Pacer) Wait(ctx context.Context) (int, error) {
	rate := p.Rate
	if rate <= 0 {
		rate = DefaultRate
	}
	for full := 0; ; full++ {
		now := p.now()
		sec := now.Unix()
		ok, err := p.Window.TakeSlot(ctx, sec, rate)
		if err != nil {
			return full, err
		}
		if ok {
			return full, nil
		}
		if err := p.sleep(ctx, time.Unix(sec+1, 0).Sub(now)); err != nil {
			return full, ErrNoSlot
		}
	}
}

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
