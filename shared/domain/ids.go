package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewID returns a random 128-bit identifier as 32 hex digits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// NewToken returns a fresh single-use secret of 256 random bits (URL-safe) and
// its hash, which is all the store ever keeps.
func NewToken() (plain, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	plain = base64.RawURLEncoding.EncodeToString(b[:])
	return plain, HashToken(plain)
}

// HashToken returns the hex SHA-256 of a token: the only form that is stored.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// ValidTokenShape reports whether s could be a token from NewToken, so that
// junk is refused before any read.
func ValidTokenShape(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// ValidSlug reports whether s is an org, site or space id: 1 to 63 lower-case
// letters, digits and hyphens, starting with a letter or digit. Ids end up in
// table keys, so nothing else is let through.
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidAccountID reports whether s can be an account id (a JWT subject): 1 to
// 128 printable ASCII characters other than '#', the table's key separator.
func ValidAccountID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '#' {
			return false
		}
	}
	return true
}
