package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// Two-step verification by an emailed one-time passcode (rules §9): the limits
// and the rules of one code. A code is 6 digits, stored only as
// SHA-256(salt ‖ code) with a random per-code salt; it lasts OTPLifetime and
// allows OTPMaxAttempts wrong answers, after which it is dead and a new one
// is needed. Sending is limited per address (OTPResendGap between sends,
// OTPSendsPerHour fresh codes in a rolling window started by the first
// send, then the slow lane: see passcode.NextSend) and per org
// (passcode.OrgSendsPerMinute emails a minute, a counter per minute).
//
// What a stranger can spend must not lock a real user out (issue 16):
//   - the org's budget counts only sends that email someone (an active
//     external account that must verify), so sends for unknown, internal or
//     suspended addresses, however many, spend nothing of it; every send
//     still makes the same reads and the same one transaction (the counter
//     is added 0 for them), and a budget spent refuses every capped send
//     alike, so neither the answer nor the calls tell who has an account;
//   - and the budget caps only sends that replace a live code
//     (OTPSend.Capped): an address with no working code always gets one,
//     so even a flood of sends to real accounts whose addresses an
//     attacker knows cannot leave anyone without a code;
//   - an address's hourly budget never ends in a refusal that outlives the
//     last code: once spent, a send while the address's code is live keeps
//     that code (the answer is "sent", nothing is written or emailed: the
//     code in the mailbox works), and a send once it is dead (expired or
//     typed wrong 5 times) gets a new code if the last was sent at least
//     OTPLifetime ago (the slow lane). So whoever spends a victim's budget
//     only mails the victim codes, and the victim always holds a working
//     code or can have one within OTPLifetime, while the codes an address
//     can be sent stay bounded (OTPSendsPerHour + 6 an hour);
//   - a code dies after OTPMaxAttempts wrong answers, which anyone can type;
//     so each code is emailed with a link key (OTP.LinkHash) that verifies
//     like the code but is unguessable, hence neither counted nor bound by
//     the code's tries: the newest email's link works whatever strangers
//     type.
const (
	// OTPLifetime is how long a code works after it was sent.
	OTPLifetime = 10 * time.Minute
	// OTPMaxAttempts is how many wrong answers kill a code.
	OTPMaxAttempts = 5
	// OTPResendGap is the least time between two sends to one address.
	OTPResendGap = 60 * time.Second
	// OTPSendWindow is the window OTPSendsPerHour counts in.
	OTPSendWindow = time.Hour
	// OTPSendsPerHour is how many codes one address may be sent per window.
	OTPSendsPerHour = 5
)

// OTP is the passcode state of one address in an org. AccountID is the
// account the code was sent to; empty when the address needs no
// verification (unknown, internal, suspended, or its policy is off): the
// state is kept all the same, with the hash of a code nobody was sent, so
// that such an address answers exactly like one that must verify and
// nothing tells whether it has an account.
type OTP struct {
	OrgID     string
	Email     string
	AccountID string
	// Salt and Hash: Hash = SHA-256(Salt ‖ code).
	Salt, Hash []byte
	// LinkHash is SHA-256 of the link key emailed with the code (32 random
	// bytes, see passcode.NextSend): the link verifies like the code but,
	// as nobody can guess it, wrong keys are not counted and the code's 5
	// tries do not bind it, so a stranger typing wrong codes cannot kill it. Empty
	// for a state written before links (the link then never matches).
	LinkHash []byte
	// SentAt is the last send; ExpiresAt = SentAt + OTPLifetime.
	SentAt, ExpiresAt time.Time
	// Attempts counts wrong answers to this code.
	Attempts int
	// WindowStart and Sends count the sends in the current window.
	WindowStart time.Time
	Sends       int
}

// Dead reports a code that no longer accepts answers: expired or out of attempts.
func (o OTP) Dead(now time.Time) bool {
	return !now.Before(o.ExpiresAt) || o.Attempts >= OTPMaxAttempts
}

// Live reports a code that still accepts answers: neither expired nor out
// of attempts.
func (o OTP) Live(now time.Time) bool { return !o.Dead(now) }

// Emailed reports whether the code was emailed to someone: it is an
// account's (AccountID set). Only such sends count against the org's budget.
func (o OTP) Emailed() bool { return o.AccountID != "" }

// MintOTP draws a fresh code and link key for o and stores only their
// hashes in it (a new random Salt, Hash and LinkHash); the plain code and
// key are returned, to be emailed and forgotten.
func MintOTP(o *OTP) (code, link string) {
	code = NewOTPCode()
	o.Salt = randomBytes(16)
	o.Hash = HashOTP(o.Salt, code)
	link = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	o.LinkHash = HashOTPLink(link)
	return code, link
}

// HashOTPLink is SHA-256 of a link key (32 random bytes need no salt).
func HashOTPLink(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// MatchesLink reports, in constant time (crypto/subtle), whether key is the
// link key hashed in o; never for a state without one.
func (o OTP) MatchesLink(key string) bool {
	return len(o.LinkHash) == sha256.Size && subtle.ConstantTimeCompare(HashOTPLink(key), o.LinkHash) == 1
}

// NewOTPCode draws a uniformly random 6-digit code (crypto/rand).
func NewOTPCode() string {
	for {
		n := binary.BigEndian.Uint32(randomBytes(4))
		// Reject the top sliver so that every code is equally likely.
		if n < 4294000000 {
			return fmt.Sprintf("%06d", n%1000000)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// HashOTP is SHA-256(salt ‖ code).
func HashOTP(salt []byte, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

// Matches reports, in constant time (crypto/subtle), whether code is the
// one hashed in o.
func (o OTP) Matches(code string) bool {
	return subtle.ConstantTimeCompare(HashOTP(o.Salt, code), o.Hash) == 1
}

// OTPSend is one send to write: the new state, what it replaces (nil: none;
// the write is conditioned on it, so two sends racing from one read cannot
// both pass the limits) and the org's minute counter.
type OTPSend struct {
	Next OTP
	Prev *OTP
}

// Capped reports whether the send is held to the org's budget a minute:
// only a send that replaces a live code is. A send for an address that
// holds no working code (never sent, expired, or typed wrong
// OTPMaxAttempts times) always goes through, bounded only by the address's
// own limits (passcode.NextSend), so that no flood, even of sends to real accounts
// whose addresses an attacker knows, can leave a real user without a code.
// It depends on the address's passcode state alone, which every address
// has alike whether or not it has an account, so it tells nothing either.
func (s OTPSend) Capped() bool {
	return s.Prev != nil && s.Prev.Live(s.Next.SentAt)
}

// Verified is a completed verification to write in one transaction: the
// code consumed (conditioned on the hash and attempts read), the profile's
// verification set, and the audit entry.
type Verified struct {
	Code OTP
	User User
	// At is when it was completed; DueAt when it lapses (zero: never).
	At, DueAt time.Time
	Audit     AuditEntry
}

// ActionUserVerify is the audit action of a completed verification.
const ActionUserVerify = "user.verify"

// VerifyScope is what the verification page reads for an address: the org
// (nil: none), the account the address belongs to (nil: none) and the
// address's passcode state (nil: never sent).
type VerifyScope struct {
	Org  *Org
	User *User
	OTP  *OTP
}
