package jwtverify

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

var errType = errors.New("unexpected JSON type")

// absent reports whether a member is missing or JSON null.
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// jsonString decodes a JSON string into dst; an absent member leaves dst empty.
func jsonString(raw json.RawMessage, dst *string) error {
	if absent(raw) {
		return nil
	}
	if raw[0] != '"' {
		return errType
	}
	return json.Unmarshal(raw, dst)
}

// stringOrStrings decodes a JSON string or array of strings; an absent member
// yields nil.
func stringOrStrings(raw json.RawMessage) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var ss []string // fails on non-string elements; null elements decode as ""
		if err := json.Unmarshal(raw, &ss); err != nil {
			return nil, err
		}
		return ss, nil
	}
	return nil, errType
}

// maxNumericDate bounds NumericDate values (about year 33658) so conversion
// to time.Time cannot overflow.
const maxNumericDate = 1e12

// numericDate decodes a JSON number of seconds since the epoch (fractions
// allowed, RFC 7519 NumericDate) into dst; an absent member leaves dst zero.
func numericDate(raw json.RawMessage, dst *time.Time) error {
	if absent(raw) {
		return nil
	}
	if raw[0] == '"' { // json.Number would accept a quoted number
		return errType
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return errType
	}
	sec, frac := math.Modf(f)
	*dst = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}
