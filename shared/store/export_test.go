package store

import (
	"context"
	"time"
)

// SetClock makes s wait between transaction tries with pause and draw its
// jittered waits with jitter (the conflict model's virtual clock).
func SetClock(s *Store, pause func(context.Context, time.Duration) error, jitter func(time.Duration) time.Duration) {
	s.pause, s.jitter = pause, jitter
}
