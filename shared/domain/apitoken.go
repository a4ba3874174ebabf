package domain

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
)

// API tokens (rules §9): a user's own credentials for the product's api client.
// The secret is shown once, when the token is made; only its SHA-256
// (HashToken) is stored, as the key the access decision reads it by.

// APITokenPrefix starts every API token's secret, so that a leaked one is
// recognisable (secret scanners) and junk is refused before any read.
const APITokenPrefix = "gat_"

// API token limits.
const (
	// MaxAPITokens is how many tokens a user may hold at once (expired ones
	// count until revoked).
	MaxAPITokens = 20
	// DefaultAPITokenDays is a token's lifetime when none is asked for.
	DefaultAPITokenDays = 90
	// MaxAPITokenDays is the longest lifetime a token may be given.
	MaxAPITokenDays = 365
	// MaxAPITokenLabel is the longest label, in characters.
	MaxAPITokenLabel = 100
)

// Audit actions of API tokens (target: the token's user).
const (
	ActionAPITokenCreate = "user.apitoken.create"
	ActionAPITokenRevoke = "user.apitoken.revoke"
)

// APIToken is one of a user's API tokens, without its secret.
type APIToken struct {
	ID        string
	OrgID     string
	AccountID string
	Label     string
	// Hash is the hex SHA-256 of the secret (the decision's key).
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Expired reports whether the token no longer works at now.
func (t APIToken) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// NewAPITokenSecret returns a fresh secret (APITokenPrefix and 256 random
// bits, base64url) and its hash, which is all the store keeps.
func NewAPITokenSecret() (secret, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	secret = APITokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret)
}

// ValidAPITokenShape reports whether s could be a secret from
// NewAPITokenSecret, so that junk is answered without a read.
func ValidAPITokenShape(s string) bool {
	rest, ok := strings.CutPrefix(s, APITokenPrefix)
	return ok && ValidTokenShape(rest)
}

// ValidateAPIToken checks a new token's label and lifetime in days (0: the
// default); the map names each bad field.
func ValidateAPIToken(label string, days int) map[string]string {
	bad := map[string]string{}
	if _, err := CheckName("label", label, MaxAPITokenLabel); err != nil {
		bad["label"] = "1 to 100 characters, at least one not a space, none invisible, control or direction-changing"
		if e, ok := err.(*Error); ok {
			bad["label"] = e.Fields["label"]
		}
	}
	if days < 0 || days > MaxAPITokenDays {
		bad["expiresInDays"] = "from 1 to 365 days"
	}
	if len(bad) == 0 {
		return nil
	}
	return bad
}

// APITokenCreation is everything making a token writes, all or nothing:
// the token (its use-time item and the user's listing item), the user's
// token count (refused at MaxAPITokens, or when the user is not active) and
// the audit entry.
type APITokenCreation struct {
	Token APIToken
	Audit AuditEntry
}

// APITokenRevocation is everything revoking a token writes, all or nothing:
// both of its items go, the user's count goes down, the audit entry.
type APITokenRevocation struct {
	Token APIToken
	Audit AuditEntry
}

// APITokenScope is what an API token route reads at once: the org, the
// caller, the user whose tokens these are and, for a revoke, the token
// (nil when absent).
type APITokenScope struct {
	Org    *Org
	Caller *User
	User   *User
	Token  *APIToken
}
