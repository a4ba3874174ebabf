package store

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

// Store reads and writes the single table.
type Store struct {
	db    *dynamodb.Client
	table string
	// Retry is how transactions cancelled by a conflict are retried.
	Retry Retry
	// pause waits between tries and jitter draws a wait below its argument;
	// nil means the real clock and math/rand. The conflict model
	// (conflictmodel_test.go) runs the real retry loop on a virtual clock.
	pause  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration
}

// New returns a store over the named table. Its writes go through a copy of
// db whose every write is checked by the guard of nonempty.go.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: dynamodb.New(db.Options(), guardWrites), table: table, Retry: DefaultRetry}
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

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

type item = map[string]types.AttributeValue

//go:noinline
func key(pk, sk string) item {
	return item{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

//go:noinline
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

//go:noinline
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// encoder is an item struct that encodes itself (codec.go).
type encoder interface{ item() item }

// marshal encodes one of the item structs. Empty maps, lists and sets are
// left out: they are not stored at all, so no reader ever depends on how a
// DynamoDB implementation returns an empty collection (minidyn returns them
// without their type).
func marshal(v encoder) item { return v.item() }

// empty reports a value that carries nothing: an empty or untyped
// collection, a NULL, or a member the SDK could not type.
func empty(v types.AttributeValue) bool {
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

// batchGet reads up to 100 keys in one BatchGetItem (more only for keys
// DynamoDB leaves unprocessed) and returns the items found by "PK\x00SK".
func (s *Store) batchGet(ctx context.Context, keys []item) (map[string]item, error) {
	out := map[string]item{}
	// DynamoDB refuses a request naming one key twice.
	seen := make(map[string]bool, len(keys))
	uniq := keys[:0:0]
	for _, k := range keys {
		if id := pkSK(k); !seen[id] {
			seen[id] = true
			uniq = append(uniq, k)
		}
	}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: uniq, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return nil, errors.New("store: batch get: keys left unprocessed")
			}
			if err := sleep(ctx, s.Retry.wait(attempt)); err != nil {
				return nil, err
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("store: batch get: %w", err)
		}
		for _, it := range res.Responses[s.table] {
			out[pkSK(it)] = it
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

func pkSK(it item) string {
	pk, _ := it["PK"].(*types.AttributeValueMemberS)
	sk, _ := it["SK"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

func id(pk, sk string) string { return pk + "\x00" + sk }

// getItem reads one item strongly consistently; nil when absent. It is a
// BatchGetItem of one key, not a GetItem: every function links
// BatchGetItem already, and each SDK operation a function links costs
// binary size (the invite function has little to spare).
func (s *Store) getItem(ctx context.Context, pk, sk string) (item, error) {
	got, err := s.batchGet(ctx, []item{key(pk, sk)})
	if err != nil {
		return nil, err
	}
	return got[id(pk, sk)], nil
}

// notFoundOr returns err, or ENOTFOUND with message when there is no error
// (the item was absent).
func notFoundOr(err error, message string) error {
	if err != nil {
		return err
	}
	return domain.Errorf(domain.ENOTFOUND, "%s", message)
}

// cancelled is a transaction DynamoDB refused, with a reason per item.
type cancelled struct {
	reasons []types.CancellationReason
}

// code returns the cancellation code of item j ("None" when it was fine).
func (c *cancelled) code(j int) string {
	if j < len(c.reasons) {
		return aws.ToString(c.reasons[j].Code)
	}
	return ""
}

// old returns the item as it was when item j's condition failed, if the
// server returned it (ReturnValuesOnConditionCheckFailure = ALL_OLD).
func (c *cancelled) old(j int) item {
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

// transact runs one TransactWriteItems, retrying it (with jittered, bounded
// backoff) while DynamoDB cancels it for passing reasons. A transaction whose
// condition failed is returned as *cancelled for the caller to handle; a
// budget that runs out is domain.EUNAVAILABLE. Either way nothing was written.
func (s *Store) transact(ctx context.Context, what string, tx []types.TransactWriteItem) error {
	if err := reqscope.BeforeWrite(ctx); err != nil {
		return err
	}
	attempts := max(1, s.Retry.Attempts)
	for attempt := 1; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
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
			return &cancelled{reasons: tce.CancellationReasons}
		default:
			return fmt.Errorf("store: %s: %w", what, err)
		}
	}
}

// Error implements error.
func (c *cancelled) Error() string { return "store: transaction cancelled by a condition" }

// backoff waits before try attempt+1 of a transaction: Retry's full
// jitter, on the store's clock.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	if s.pause == nil {
		return sleep(ctx, s.Retry.wait(attempt))
	}
	return s.pause(ctx, s.Retry.waitWith(attempt, s.jitter))
}

func (r Retry) wait(attempt int) time.Duration { return r.waitWith(attempt, nil) }

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

func sleep(ctx context.Context, d time.Duration) error {
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

// counterUpdate applies a change of seats to a site, keeping GuestSlots =
// 5×PaidUsers−Guests−Reserved and UserSlots = UserLimit−PaidUsers−Guests−
// ReservedUsers. When the change adds guests, the condition GuestSlots ≥
// Need refuses the write that would pass the guest limit; when it adds
// users (paid plus guests), UserSlots ≥ Users refuses the one that would
// pass the user limit, however many requests race; the refused write
// returns the site as it was (ALL_OLD). A site written before the user
// limit (no userLimit) is not limited: its userSlots is not read until the
// recount's repair writes both.
func (s *Store) counterUpdate(orgID, siteID string, d domain.Seats) *types.Update {
	u := &types.Update{
		TableName:        &s.table,
		Key:              key(orgPK(orgID), siteSK(siteID)),
		UpdateExpression: aws.String("SET paidUsers = paidUsers + :p, guests = guests + :g, guestSlots = guestSlots + :d, userSlots = if_not_exists(userSlots, :zero) - :u"),
		ExpressionAttributeValues: item{
			":p": num(d.Paid), ":g": num(d.Guests), ":d": num(d.SlotChange()), ":u": num(d.Users()), ":zero": num(0),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	cond := "attribute_exists(PK)"
	if d.Limited() {
		cond += " AND guestSlots >= :need"
		u.ExpressionAttributeValues[":need"] = num(d.Need())
	}
	if d.Users() > 0 {
		cond += userLimitCond
	}
	u.ConditionExpression = &cond
	return u
}

// userLimitCond is the user limit's part of a counter condition, for :u
// users added (a site without userLimit is not limited).
const userLimitCond = " AND (attribute_not_exists(userLimit) OR userSlots >= :u)"
