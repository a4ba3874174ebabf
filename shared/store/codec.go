package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The encoder's and decoder's small methods are marked go:noinline: inlined
// at each of their hundreds of call sites they made every function that links
// the store several KB larger (the invite function's size budget).
//
// The items are encoded by hand rather than with the SDK's reflection-based
// attributevalue package: the encoding is explicit (and the same as that
// package's defaults, so items written before read the same), nothing empty
// is ever written, untyped values read back from an emulator are ignored,
// and the functions stay within their binary size budget.

// enc builds an item; empty strings, zero times and empty collections are
// left out.
type enc item

//go:noinline
func (e enc) s(k, v string) {
	if v != "" {
		e[k] = &types.AttributeValueMemberS{Value: v}
	}
}

// n writes a number, zero included.
//
//go:noinline
func (e enc) n(k string, v int64) {
	e[k] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// nz writes a number unless it is zero.
//
//go:noinline
func (e enc) nz(k string, v int64) {
	if v != 0 {
		e.n(k, v)
	}
}

//go:noinline
func (e enc) b(k string, v bool) { e[k] = &types.AttributeValueMemberBOOL{Value: v} }

//go:noinline
func (e enc) t(k string, v time.Time) {
	if !v.IsZero() {
		e[k] = &types.AttributeValueMemberS{Value: v.Format(time.RFC3339Nano)}
	}
}

//go:noinline
func (e enc) list(k string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, x := range v {
		l[i] = &types.AttributeValueMemberS{Value: x}
	}
	e[k] = &types.AttributeValueMemberL{Value: l}
}

//go:noinline
func (e enc) m(k string, v map[string]string) {
	if len(v) == 0 {
		return
	}
	m := make(map[string]types.AttributeValue, len(v))
	for x, y := range v {
		m[x] = &types.AttributeValueMemberS{Value: y}
	}
	e[k] = &types.AttributeValueMemberM{Value: m}
}

//go:noinline
func (e enc) bin(k string, v []byte) {
	if len(v) > 0 {
		e[k] = &types.AttributeValueMemberB{Value: v}
	}
}

// dec reads an item; the first attribute of the wrong type is kept as err.
// Missing, NULL and untyped attributes read as zero values.
type dec struct {
	it  item
	err error
}

//go:noinline
func (d *dec) bad(k, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("store: attribute %s is not %s", k, want)
	}
}

//go:noinline
func (d *dec) s(k string) string {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return ""
	}
	d.bad(k, "a string")
	return ""
}

//go:noinline
func (d *dec) n(k string) int64 {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.bad(k, "an integer")
		}
		return n
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return 0
	}
	d.bad(k, "a number")
	return 0
}

//go:noinline
func (d *dec) b(k string) bool {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return false
	}
	d.bad(k, "a boolean")
	return false
}

//go:noinline
func (d *dec) t(k string) time.Time {
	s := d.s(k)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.bad(k, "an RFC 3339 time")
	}
	return t
}

// list reads a list of strings (L of S, or a string set).
//
//go:noinline
func (d *dec) list(k string) []string {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberL:
		out := make([]string, 0, len(v.Value))
		for _, x := range v.Value {
			s, ok := x.(*types.AttributeValueMemberS)
			if !ok {
				d.bad(k, "a list of strings")
				return nil
			}
			out = append(out, s.Value)
		}
		return out
	case *types.AttributeValueMemberSS:
		return append([]string(nil), v.Value...)
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return nil
	}
	if empty(d.it[k]) || untypedEmpty(d.it[k]) {
		return nil
	}
	d.bad(k, "a list")
	return nil
}

//go:noinline
func (d *dec) m(k string) map[string]string {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberM:
		out := make(map[string]string, len(v.Value))
		for x, y := range v.Value {
			s, ok := y.(*types.AttributeValueMemberS)
			if !ok {
				d.bad(k, "a map of strings")
				return nil
			}
			out[x] = s.Value
		}
		return out
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return nil
	}
	if empty(d.it[k]) || untypedEmpty(d.it[k]) {
		return nil
	}
	d.bad(k, "a map")
	return nil
}

//go:noinline
func (d *dec) bin(k string) []byte {
	switch v := d.it[k].(type) {
	case *types.AttributeValueMemberB:
		return v.Value
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return nil
	}
	d.bad(k, "binary")
	return nil
}

// untypedEmpty reports an empty collection as minidyn v0.8.2 returned it:
// without any type ({}), which the SDK reads as a scalar member holding
// some other attribute's value. The encoder never writes a scalar where a
// collection goes, so in a collection attribute a scalar can only be that;
// items stored so before the guard of nonempty.go keep reading (issue 16,
// item 2).
func untypedEmpty(v types.AttributeValue) bool {
	switch v.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberN, *types.AttributeValueMemberBOOL, *types.AttributeValueMemberB:
		return true
	}
	return false
}

// encode writes the keys every item has.
func (k keys) encode() enc {
	e := enc{}
	e.s("PK", k.PK)
	e.s("SK", k.SK)
	e.s("GSI1PK", k.GSI1PK)
	e.s("GSI1SK", k.GSI1SK)
	e.s("GSI2PK", k.GSI2PK)
	e.s("GSI2SK", k.GSI2SK)
	e.s("GSI3PK", k.GSI3PK)
	e.s("GSI3SK", k.GSI3SK)
	e.s("type", k.Type)
	e.nz("ttl", k.TTL)
	return e
}

func decodeKeys(d *dec) keys {
	return keys{PK: d.s("PK"), SK: d.s("SK"), GSI1PK: d.s("GSI1PK"), GSI1SK: d.s("GSI1SK"), GSI2PK: d.s("GSI2PK"), GSI2SK: d.s("GSI2SK"),
		GSI3PK: d.s("GSI3PK"), GSI3SK: d.s("GSI3SK"), Type: d.s("type"), TTL: d.n("ttl")}
}

// setOrRemove starts an update expression: it writes v to the attribute
// name under the value placeholder ph (added to vals), or removes the
// attribute when v is an empty collection, since no item stores one
// (nonempty.go). What it returns ends inside a SET list: the caller appends
// at least one more "attr = value".
func setOrRemove(name, ph string, v types.AttributeValue, vals item) string {
	if empty(v) {
		return "REMOVE " + name + " SET "
	}
	vals[ph] = v
	return "SET " + name + " = " + ph + ", "
}
