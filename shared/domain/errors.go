// Package domain holds the rules of guest access: roles, invitations, the guest
// limit and the errors they raise. It has no AWS imports; adapters at the edge
// (the DynamoDB store, the SES mailer, API Gateway events) depend on it, never the
// other way round.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to exactly one HTTP status in shared/httpapi.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	EUNAUTHORIZED = "unauthorized" // no valid identity
	EFORBIDDEN    = "forbidden"    // identity known, power missing
	ENOTFOUND     = "not-found"    // no such thing (or not visible to the caller)
	ECONFLICT     = "conflict"     // state does not allow it (now)
	ELIMIT        = "guest-limit"  // the billing rule refuses it
	EUSERLIMIT    = "user-limit"   // the site's user limit (paid users plus guests) refuses it
	EREFUSED      = "refused"      // well-formed, but an all-or-nothing request could not be done whole
	EGONE         = "gone"         // existed, but expired or revoked
	ETOOLARGE     = "too-large"    // request body over the limit
	EUNSUPPORTED  = "unsupported"  // wrong media type
	EUNAVAILABLE  = "unavailable"  // a passing condition (contention); retry after a moment
	ETOOMANY      = "throttled"    // asked again too soon (429, as API Gateway throttling); retry after RetryAfter
	EINTERNAL     = "internal"     // anything else; never shown to clients
)

// Error is a domain error: a stable code for machines and a message safe to show
// to the caller. Internal causes are wrapped, logged and never echoed.
type Error struct {
	Code    string
	Message string
	// Fields names invalid request fields and why, for EINVALID.
	Fields map[string]string
	// Extra carries machine-readable details (numbers of a limit refusal, ...).
	Extra map[string]any
	// RetryAfter, for EUNAVAILABLE and ETOOMANY, is when a retry may succeed.
	RetryAfter time.Duration
}

// Unavailable is the error of a request refused by a passing condition
// (write contention that outlasted the retries): nothing was changed, and
// the same request may succeed after retryAfter.
func Unavailable(message string, retryAfter time.Duration) *Error {
	return &Error{Code: EUNAVAILABLE, Message: message, RetryAfter: retryAfter}
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for a non-domain error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
