package table

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/reqscope"
)

// Table is the single table (docs/data-model.md): its client and name, and the
// retry policy of its transactions. Every write sent through DB passes the
// guards of nonempty.go: nothing empty is stored, and the request's write
// gate (reqscope.BeforeWrite) is waited on.
type Table struct {
	// DB is the table's client, with the write guards installed.
	DB *dynamodb.Client
	// Name is the table's name.
	Name string
	// Retry is how transactions cancelled by a conflict are retried.
	Retry Retry
	// Pause waits between tries and Jitter draws a wait below its argument;
	// nil means the real clock and math/rand. The conflict model
	// (store's conflictmodel_test.go) runs the real retry loop on a virtual
	// clock through these seams.
	Pause  func(context.Context, time.Duration) error
	Jitter func(time.Duration) time.Duration
}

// New returns the named table over a copy of db whose every write is
// checked by the guards of nonempty.go.
func New(db *dynamodb.Client, name string) *Table {
	return &Table{DB: dynamodb.New(db.Options(), guardWrites), Name: name, Retry: DefaultRetry}
}

// DynamoDB's limits, named once.
const (
	// MaxTransactItems is DynamoDB's limit on the items of one
	// TransactWriteItems.
	MaxTransactItems = 100
	// MaxBatchGet is DynamoDB's limit on the keys of one BatchGetItem.
	MaxBatchGet = 100
)

// Retry bounds the retries of a transaction that DynamoDB cancelled because
// another transaction on one of its items was in flight (reason
// TransactionConflict; the SDK does not retry it) or because it was
// throttled. Each wait is drawn uniformly from [0, min(Max, Base·2^n)) ("full
// jitter"), so racing writers spread out instead of colliding again.
type Retry struct {
	// Attempts is the number of tries in all (1 means no retry).
	Attempts int
	// Base and Max bound the jittered waits.
	Base, Max time.Duration
	// RetryAfter is what the client is told to wait when the budget runs out.
	RetryAfter time.Duration
}

// DefaultRetry tries a conflicted transaction up to 6 times over at most
// about 0.8 s, then answers 503 with Retry-After: 1.
var DefaultRetry = Retry{Attempts: 6, Base: 25 * time.Millisecond, Max: 400 * time.Millisecond, RetryAfter: time.Second}

// JobRetry is the retry policy of work nobody waits on (the jobs worker's
// group-job pages): a page that runs out of tries goes back to the queue
// for its 180 s visibility timeout and, after 5 deliveries, to the
// dead-letter queue, failing its job; so it keeps trying longer than a
// request would: 12 tries, waits from 50 ms doubling to 2 s (about 11 s at
// most, 6 s on average), within the worker's 30 s. Measured in
// TestGroupJobPagesOnABusySite (docs/data-model.md, "Capacity").
var JobRetry = Retry{Attempts: 12, Base: 50 * time.Millisecond, Max: 2 * time.Second, RetryAfter: time.Second}

// Item is one item of the table, as the SDK carries it.
type Item = map[string]types.AttributeValue

//go:noinline
func Key(pk, sk string) Item {
	return Item{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

//go:noinline
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

//go:noinline
func N(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Encoder is an item struct that encodes itself (codec.go).
type Encoder interface{ Item() Item }

// Marshal encodes one of the item structs. Empty maps, lists and sets are
// left out: they are not stored at all, so no reader ever depends on how a
// DynamoDB implementation returns an empty collection (minidyn returns them
// without their type).
func Marshal(v Encoder) Item { return v.Item() }

// Empty reports a value that carries nothing: an empty or untyped
// collection, a NULL, or a member the SDK could not type.
func Empty(v types.AttributeValue) bool {
	switch x := v.(type) {
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return true
	case *types.AttributeValueMemberM:
		return len(x.Value) == 0
	case *types.AttributeValueMemberL:
		return len(x.Value) == 0
	case *types.AttributeValueMemberSS:
		return len(x.Value) == 0
	case *types.AttributeValueMemberNS:
		return len(x.Value) == 0
	case *types.AttributeValueMemberBS:
		return len(x.Value) == 0
	}
	return false
}

// BatchGet reads up to 100 keys in one BatchGetItem (more only for keys
// DynamoDB leaves unprocessed) and returns the items found by "PK\x00SK".
func (s *Table) BatchGet(ctx context.Context, keys []Item) (map[string]Item, error) {
	out := map[string]Item{}
	// DynamoDB refuses a request naming one key twice.
	seen := make(map[string]bool, len(keys))
	uniq := keys[:0:0]
	for _, k := range keys {
		if id := PKSK(k); !seen[id] {
			seen[id] = true
			uniq = append(uniq, k)
		}
	}
	req := map[string]types.KeysAndAttributes{s.Name: {Keys: uniq, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return nil, errors.New("store: batch get: keys left unprocessed")
			}
			if err := Sleep(ctx, s.Retry.Wait(attempt)); err != nil {
				return nil, err
			}
		}
		res, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("store: batch get: %w", err)
		}
		for _, it := range res.Responses[s.Name] {
			out[PKSK(it)] = it
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

// PKSK returns an item's "PK\x00SK" (ID of its keys), "" without them.
func PKSK(it Item) string {
	pk, _ := it["PK"].(*types.AttributeValueMemberS)
	sk, _ := it["SK"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

// ID returns "pk\x00sk", how BatchGet names the items it found.
func ID(pk, sk string) string { return pk + "\x00" + sk }

// Get reads one item strongly consistently; nil when absent. It is a
// BatchGetItem of one key, not a GetItem: every function links
// BatchGetItem already, and each SDK operation a function links costs
// binary size (the invite function has little to spare).
func (s *Table) Get(ctx context.Context, pk, sk string) (Item, error) {
	got, err := s.BatchGet(ctx, []Item{Key(pk, sk)})
	if err != nil {
		return nil, err
	}
	return got[ID(pk, sk)], nil
}

// NotFoundOr returns err, or ENOTFOUND with message when there is no error
// (the item was absent).
func NotFoundOr(err error, message string) error {
	if err != nil {
		return err
	}
	return domain.Errorf(domain.ENOTFOUND, "%s", message)
}

// Cancelled is a transaction DynamoDB refused, with a reason per item.
type Cancelled struct {
	reasons []types.CancellationReason
}

// Code returns the cancellation code of item j ("None" when it was fine).
func (c *Cancelled) Code(j int) string {
	if j < len(c.reasons) {
		return aws.ToString(c.reasons[j].Code)
	}
	return ""
}

// Old returns the item as it was when item j's condition failed, if the
// server returned it (ReturnValuesOnConditionCheckFailure = ALL_OLD).
func (c *Cancelled) Old(j int) Item {
	if j < len(c.reasons) {
		return c.reasons[j].Item
	}
	return nil
}

// passing reports whether the transaction was cancelled only for reasons
// that a retry can clear: a conflict with another transaction in flight, or
// throttling.
func passing(tce *types.TransactionCanceledException) bool {
	seen := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None":
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			seen = true
		default:
			return false
		}
	}
	return seen
}

// Transact runs one TransactWriteItems, retrying it (with jittered, bounded
// backoff) while DynamoDB cancels it for passing reasons. A transaction whose
// condition failed is returned as *Cancelled for the caller to handle; a
// budget that runs out is domain.EUNAVAILABLE. Either way nothing was written.
func (s *Table) Transact(ctx context.Context, what string, tx []types.TransactWriteItem) error {
	if err := reqscope.BeforeWrite(ctx); err != nil {
		return err
	}
	attempts := max(1, s.Retry.Attempts)
	for attempt := 1; ; attempt++ {
		_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		var tip *types.TransactionInProgressException
		switch {
		case errors.As(err, &tce) && passing(tce), errors.As(err, &tip):
			if attempt >= attempts {
				return domain.Unavailable("The service is busy with other changes to the same records; nothing was changed. Retry shortly.", s.Retry.RetryAfter)
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return err
			}
		case errors.As(err, &tce):
			return &Cancelled{reasons: tce.CancellationReasons}
		default:
			return fmt.Errorf("store: %s: %w", what, err)
		}
	}
}

// Error implements error.
func (c *Cancelled) Error() string { return "store: transaction cancelled by a condition" }

// backoff waits before try attempt+1 of a transaction: Retry's full
// jitter, on the store's clock.
func (s *Table) backoff(ctx context.Context, attempt int) error {
	if s.Pause == nil {
		return Sleep(ctx, s.Retry.Wait(attempt))
	}
	return s.Pause(ctx, s.Retry.waitWith(attempt, s.Jitter))
}

// Wait draws the jittered wait before try attempt+1.
func (r Retry) Wait(attempt int) time.Duration { return r.waitWith(attempt, nil) }

// waitWith is wait with the draw below the ceiling given (nil: math/rand).
func (r Retry) waitWith(attempt int, draw func(time.Duration) time.Duration) time.Duration {
	ceil := r.Base << min(attempt-1, 20)
	if ceil > r.Max || ceil <= 0 {
		ceil = r.Max
	}
	if ceil <= 0 {
		return 0
	}
	if draw != nil {
		return draw(ceil)
	}
	return rand.N(ceil)
}

// Sleep waits d, or less when ctx ends (then its error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
