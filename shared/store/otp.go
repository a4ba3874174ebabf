package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// One-time passcodes (A20, rules §9). An address's passcode state is one item in
// the partition of the address's email guard, `ORG#o#EMAIL#e` / `OTP`, so
// that an address without an account (or one that need not verify) keeps
// the same state, under the same limits, as one that must: the page
// answers both alike. An org's sends are counted per minute in
// `ORG#o#OTPRATE#<unix minute>` / `OTPRATE` (TTL).

const (
	skOTP       = "OTP"
	skOTPRate   = "OTPRATE"
	typeOTP     = "otp"
	typeOTPRate = "otp-rate"
)

func otpRatePK(org string, minute int64) string {
	return "ORG#" + org + "#OTPRATE#" + strconv.FormatInt(minute, 10)
}

// otpItem is an address's passcode state. Times compared in conditions are
// numbers (sentMs); the hash and salt are binary.
type otpItem struct {
	table.Keys
	OrgID, Email, AccountID string
	Salt, Hash, LinkHash    []byte
	SentMs, ExpiresMs       int64
	Attempts                int64
	WindowMs                int64
	Sends                   int64
}

func newOTPItem(o domain.OTP) otpItem {
	return otpItem{Keys: table.Keys{PK: table.EmailPK(o.OrgID, o.Email), SK: skOTP, Type: typeOTP,
		// Kept an hour past the send window so the hourly limit outlives the code.
		TTL: table.TTL(o.WindowStart.Add(domain.OTPSendWindow + time.Hour))},
		OrgID: o.OrgID, Email: o.Email, AccountID: o.AccountID, Salt: o.Salt, Hash: o.Hash, LinkHash: o.LinkHash,
		SentMs: o.SentAt.UnixMilli(), ExpiresMs: o.ExpiresAt.UnixMilli(), Attempts: int64(o.Attempts),
		WindowMs: o.WindowStart.UnixMilli(), Sends: int64(o.Sends)}
}

func (i otpItem) Item() table.Item {
	e := i.Keys.Encode()
	e.S("orgId", i.OrgID)
	e.S("email", i.Email)
	e.S("accountId", i.AccountID)
	e.Bin("salt", i.Salt)
	e.Bin("hash", i.Hash)
	e.Bin("linkHash", i.LinkHash)
	e.N("sentMs", i.SentMs)
	e.N("expiresMs", i.ExpiresMs)
	e.N("attempts", i.Attempts)
	e.N("windowMs", i.WindowMs)
	e.N("sends", i.Sends)
	return table.Item(e)
}

func decodeOTP(it table.Item) (domain.OTP, error) {
	d := &table.Dec{It: it}
	o := domain.OTP{OrgID: d.S("orgId"), Email: d.S("email"), AccountID: d.S("accountId"), Salt: d.Bin("salt"), Hash: d.Bin("hash"), LinkHash: d.Bin("linkHash"),
		SentAt: time.UnixMilli(d.N("sentMs")).UTC(), ExpiresAt: time.UnixMilli(d.N("expiresMs")).UTC(), Attempts: int(d.N("attempts")),
		WindowStart: time.UnixMilli(d.N("windowMs")).UTC(), Sends: int(d.N("sends"))}
	return o, d.Err
}

// LoadVerification reads what the verification page needs for an address
// (normalised): the org, the address's guard and passcode state in one
// BatchGetItem, then the profile of the guard's account in a second (of
// account "", never made, when the address has none: the same two calls for
// every address). The org is nil when there is none; without an org or an
// address (the page's first view) the first call is all.
func (s *Store) LoadVerification(ctx context.Context, orgID, email string) (domain.VerifyScope, error) {
	var sc domain.VerifyScope
	got, err := s.BatchGet(ctx, []table.Item{table.Key(table.OrgPK(orgID), table.SKOrg), table.Key(table.EmailPK(orgID, email), table.SKEmail), table.Key(table.EmailPK(orgID, email), skOTP)})
	if err != nil {
		return sc, err
	}
	if it, ok := got[table.ID(table.OrgPK(orgID), table.SKOrg)]; ok {
		oi, err := decodeOrg(it)
		if err != nil {
			return sc, err
		}
		o := oi.domain()
		sc.Org = &o
	}
	if it, ok := got[table.ID(table.EmailPK(orgID, email), skOTP)]; ok {
		o, err := decodeOTP(it)
		if err != nil {
			return sc, err
		}
		sc.OTP = &o
	}
	if sc.Org == nil || email == "" {
		return sc, nil
	}
	// The profile is read whether or not the address has an account: an
	// address without one reads the profile of account "", which is never
	// made, so that every address costs the same calls (issue 16: the
	// number of calls, and so the time, must not tell who has an account).
	acct := ""
	if g, ok := got[table.ID(table.EmailPK(orgID, email), table.SKEmail)]; ok {
		guard, err := decodeEmail(g)
		if err != nil {
			return sc, err
		}
		acct = guard.AccountID
	}
	p, err := s.Get(ctx, table.UserPK(orgID, acct), table.SKProfile)
	if err != nil || p == nil || acct == "" {
		return sc, err
	}
	ui, err := decodeUser(p)
	if err != nil {
		return sc, err
	}
	u := ui.domain()
	sc.User = &u
	return sc, nil
}

// SaveOTPSend writes a new passcode state and counts the send against the
// org's minute, in one transaction: the state is put only if it is still
// the one the limits were checked on (none, or the same sentMs), so of
// concurrent sends for one address exactly one passes; the org's counter
// (made to expire with TTL) is added to in the same transaction, and a send
// that replaces a live code (OTPSend.Capped) only below limit, so
// concurrent such sends of many addresses stop exactly at it, while a send
// to an address with no working code always passes. Only a send that emails
// someone (Next.Emailed) counts: any other adds 0 under the same condition
// in the same transaction, so sends for addresses nobody is emailed spend
// nothing of the budget and cost the same calls, and a spent budget refuses
// every capped send alike. ETOOMANY (with RetryAfter) names which limit
// refused; nothing is written then.
func (s *Store) SaveOTPSend(ctx context.Context, send domain.OTPSend, orgLimit int) error {
	n := send.Next
	put := &types.Put{TableName: &s.Name, Item: table.Marshal(newOTPItem(n)), ConditionExpression: aws.String("attribute_not_exists(PK)")}
	if send.Prev != nil {
		put.ConditionExpression = aws.String("sentMs = :prev")
		put.ExpressionAttributeValues = table.Item{":prev": table.N(send.Prev.SentAt.UnixMilli())}
	}
	minute := n.SentAt.Unix() / 60
	counted := int64(0)
	if n.Emailed() {
		counted = 1
	}
	rate := &types.Update{TableName: &s.Name, Key: table.Key(otpRatePK(n.OrgID, minute), skOTPRate),
		UpdateExpression:          aws.String("ADD sends :n SET #type = :type, #ttl = :ttl"),
		ExpressionAttributeNames:  map[string]string{"#type": "type", "#ttl": "ttl"},
		ExpressionAttributeValues: table.Item{":n": table.N(counted), ":type": table.S(typeOTPRate), ":ttl": table.N((minute + 10) * 60)}}
	if send.Capped() {
		rate.ConditionExpression = aws.String("attribute_not_exists(sends) OR sends < :limit")
		rate.ExpressionAttributeValues[":limit"] = table.N(int64(orgLimit))
	}
	tx := []types.TransactWriteItem{{Put: put}, {Update: rate}}
	err := s.Transact(ctx, "send passcode", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.Code(0) == "ConditionalCheckFailed" {
		return &domain.Error{Code: domain.ETOOMANY, RetryAfter: domain.OTPResendGap,
			Message: "A code was sent to this address a moment ago. Use the code in that email, or ask for a new one in a minute."}
	}
	if c.Code(1) == "ConditionalCheckFailed" {
		return &domain.Error{Code: domain.ETOOMANY, RetryAfter: time.Unix((minute+1)*60, 0).Sub(n.SentAt),
			Message: "This organisation is sending too many codes right now. Try again in a minute."}
	}
	return fmt.Errorf("store: send passcode: %w", err)
}

// CountOTPAttempt counts one wrong answer to the code read: attempts moves
// from the number read to one more, conditioned on the hash and the number
// read, so two wrong answers at once both count (the second's condition
// fails and its caller reads again). false when the code changed meanwhile.
func (s *Store) CountOTPAttempt(ctx context.Context, o domain.OTP) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Name, Key: table.Key(table.EmailPK(o.OrgID, o.Email), skOTP),
		UpdateExpression:          aws.String("SET attempts = :next"),
		ConditionExpression:       aws.String("attempts = :read AND #hash = :hash"),
		ExpressionAttributeNames:  map[string]string{"#hash": "hash"},
		ExpressionAttributeValues: table.Item{":next": table.N(int64(o.Attempts + 1)), ":read": table.N(int64(o.Attempts)), ":hash": &types.AttributeValueMemberB{Value: o.Hash}}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: count passcode attempt: %w", err)
	}
	return true, nil
}

// CompleteVerification consumes the code and records the verification in
// one transaction: the passcode state is deleted under the hash and
// attempts read (a wrong answer counted meanwhile, or a new code, cancels
// it), the profile gets verifiedAt, verifyDueAt, verifyState = verified and
// its due entry (moved by SET, parked when none lapses) while it is still
// the active account of that address, and the audit entry is written.
// ECONFLICT when the code changed meanwhile (read again and retry); EGONE
// when the account changed.
func (s *Store) CompleteVerification(ctx context.Context, v domain.Verified) error {
	u, o := v.User, v.Code
	pk, sk := table.VerifyDueKeys(u.OrgID, u.AccountID, v.DueAt, domain.VerifyVerified)
	due := ""
	if !v.DueAt.IsZero() {
		due = v.DueAt.UTC().Format(time.RFC3339Nano)
	}
	tx := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.EmailPK(o.OrgID, o.Email), skOTP),
			ConditionExpression:       aws.String("attempts = :read AND #hash = :hash"),
			ExpressionAttributeNames:  map[string]string{"#hash": "hash"},
			ExpressionAttributeValues: table.Item{":read": table.N(int64(o.Attempts)), ":hash": &types.AttributeValueMemberB{Value: o.Hash}}}},
		{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.UserPK(u.OrgID, u.AccountID), table.SKProfile),
			// verifyDueAt "" reads as none ("once"): minidyn ignores REMOVE.
			UpdateExpression:         aws.String("SET verifiedAt = :at, verifyDueAt = :due, verifyState = :state, GSI3PK = :pk, GSI3SK = :sk"),
			ConditionExpression:      aws.String("#s = :active AND email = :email"),
			ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: table.Item{":at": table.S(v.At.UTC().Format(time.RFC3339Nano)), ":due": table.S(due), ":state": table.S(string(domain.VerifyVerified)),
				":pk": table.S(pk), ":sk": table.S(sk), ":active": table.S(string(domain.UserActive)), ":email": table.S(u.Email)}}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(v.Audit))}},
	}
	err := s.Transact(ctx, "complete verification", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if c.Code(0) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ECONFLICT, "The code changed meanwhile.")
	}
	return domain.Errorf(domain.EGONE, "This account can no longer be verified: it was suspended or removed.")
}

// ClaimPasscodeEmail is the email sender's claim of a passcode (emailq):
// one UpdateItem of the address's state that sets the code and link key
// minted in o (salt, hash, linkHash), zero wrong answers (those typed
// before were answers to no code anyone had), and mailedMs =
// now, conditioned on the state being the one the send request wrote
// (sentMs = o.SentAt), an account's (accountId there and not empty: the
// state of an address nobody is emailed has none, and is never claimed, so a stranger's request for it sends
// nothing), not mailed yet (no mailedMs, or 0: released) and live. So a
// message delivered twice sends one email, and no plain code is ever
// stored: the code exists only in the email. It returns the state claimed;
// ECONFLICT when a condition fails.
func (s *Store) ClaimPasscodeEmail(ctx context.Context, o domain.OTP, now time.Time) (domain.OTP, error) {
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Name, Key: table.Key(table.EmailPK(o.OrgID, o.Email), skOTP),
		UpdateExpression:         aws.String("SET salt = :salt, #hash = :hash, linkHash = :link, attempts = :zero, mailedMs = :now"),
		ConditionExpression:      aws.String("sentMs = :sent AND attribute_exists(accountId) AND accountId <> :none AND (attribute_not_exists(mailedMs) OR mailedMs = :zero) AND expiresMs > :now"),
		ExpressionAttributeNames: map[string]string{"#hash": "hash"},
		ExpressionAttributeValues: table.Item{":salt": &types.AttributeValueMemberB{Value: o.Salt}, ":hash": &types.AttributeValueMemberB{Value: o.Hash},
			":link": &types.AttributeValueMemberB{Value: o.LinkHash}, ":zero": table.N(0), ":now": table.N(now.UnixMilli()),
			":sent": table.N(o.SentAt.UnixMilli()), ":none": table.S("")},
		ReturnValues: types.ReturnValueAllNew})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return o, domain.Errorf(domain.ECONFLICT, "The passcode is mailed, replaced, lapsed or nobody's.")
	}
	if err != nil {
		return o, fmt.Errorf("store: claim passcode email: %w", err)
	}
	return decodeOTP(out.Attributes)
}

// ReleasePasscodeEmail undoes a claim whose email was not sent: mailedMs
// back to 0, conditioned on the claimed code (its hash) still being there.
// A state changed meanwhile (a newer send, a verification) is left alone.
func (s *Store) ReleasePasscodeEmail(ctx context.Context, o domain.OTP) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Name, Key: table.Key(table.EmailPK(o.OrgID, o.Email), skOTP),
		UpdateExpression:          aws.String("SET mailedMs = :zero"),
		ConditionExpression:       aws.String("#hash = :hash"),
		ExpressionAttributeNames:  map[string]string{"#hash": "hash"},
		ExpressionAttributeValues: table.Item{":zero": table.N(0), ":hash": &types.AttributeValueMemberB{Value: o.Hash}}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: release passcode email: %w", err)
	}
	return nil
}
