package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetClock makes s wait between transaction tries with pause and draw its
// jittered waits with jitter (the conflict model's virtual clock).
func SetClock(s *Store, pause func(context.Context, time.Duration) error, jitter func(time.Duration) time.Duration) {
	s.Pause, s.Jitter = pause, jitter
}

// DueItems is dueItems: the items behind GSI3 entries, those whose entry
// moved or that are gone left out.
func DueItems(s *Store, ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.dueItems(ctx, entries)
}
