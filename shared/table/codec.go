package table

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

// Enc builds an item; empty strings, zero times and empty collections are
// left out.
type Enc Item

//go:noinline
func (e Enc) S(k, v string) {
	if v != "" {
		e[k] = &types.AttributeValueMemberS{Value: v}
	}
}

// n writes a number, zero included.
//
//go:noinline
func (e Enc) N(k string, v int64) {
	e[k] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// nz writes a number unless it is zero.
//
//go:noinline
func (e Enc) NZ(k string, v int64) {
	if v != 0 {
		e.N(k, v)
	}
}

//go:noinline
func (e Enc) B(k string, v bool) { e[k] = &types.AttributeValueMemberBOOL{Value: v} }

//go:noinline
func (e Enc) T(k string, v time.Time) {
	if !v.IsZero() {
		e[k] = &types.AttributeValueMemberS{Value: v.Format(time.RFC3339Nano)}
	}
}

//go:noinline
func (e Enc) List(k string, v []string) {
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
func (e Enc) M(k string, v map[string]string) {
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
func (e Enc) Bin(k string, v []byte) {
	if len(v) > 0 {
		e[k] = &types.AttributeValueMemberB{Value: v}
	}
}

// Dec reads an item; the first attribute of the wrong type is kept as err.
// Missing, NULL and untyped attributes read as zero values.
type Dec struct {
	// It is the item read.
	It Item
	// Err is the first attribute of the wrong type.
	Err error
}

//go:noinline
func (d *Dec) bad(k, want string) {
	if d.Err == nil {
		d.Err = fmt.Errorf("store: attribute %s is not %s", k, want)
	}
}

//go:noinline
func (d *Dec) S(k string) string {
	switch v := d.It[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return ""
	}
	d.bad(k, "a string")
	return ""
}

//go:noinline
func (d *Dec) N(k string) int64 {
	switch v := d.It[k].(type) {
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
func (d *Dec) B(k string) bool {
	switch v := d.It[k].(type) {
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case nil, *types.AttributeValueMemberNULL, *types.UnknownUnionMember:
		return false
	}
	d.bad(k, "a boolean")
	return false
}

//go:noinline
func (d *Dec) T(k string) time.Time {
	s := d.S(k)
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
func (d *Dec) List(k string) []string {
	switch v := d.It[k].(type) {
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
	if Empty(d.It[k]) || untypedEmpty(d.It[k]) {
		return nil
	}
	d.bad(k, "a list")
	return nil
}

//go:noinline
func (d *Dec) M(k string) map[string]string {
	switch v := d.It[k].(type) {
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
	if Empty(d.It[k]) || untypedEmpty(d.It[k]) {
		return nil
	}
	d.bad(k, "a map")
	return nil
}

//go:noinline
func (d *Dec) Bin(k string) []byte {
	switch v := d.It[k].(type) {
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

// Keys are the attributes every item may have: its key, its index keys,
// its type and its expiry.
type Keys struct {
	PK     string
	SK     string
	GSI1PK string
	GSI1SK string
	GSI2PK string
	GSI2SK string
	GSI3PK string
	GSI3SK string
	Type   string
	TTL    int64
}

// Encode starts an item with the keys every item has.
func (k Keys) Encode() Enc {
	e := Enc{}
	e.S("PK", k.PK)
	e.S("SK", k.SK)
	e.S("GSI1PK", k.GSI1PK)
	e.S("GSI1SK", k.GSI1SK)
	e.S("GSI2PK", k.GSI2PK)
	e.S("GSI2SK", k.GSI2SK)
	e.S("GSI3PK", k.GSI3PK)
	e.S("GSI3SK", k.GSI3SK)
	e.S("type", k.Type)
	e.NZ("ttl", k.TTL)
	return e
}

// DecodeKeys reads the keys every item has.
func DecodeKeys(d *Dec) Keys {
	return Keys{PK: d.S("PK"), SK: d.S("SK"), GSI1PK: d.S("GSI1PK"), GSI1SK: d.S("GSI1SK"), GSI2PK: d.S("GSI2PK"), GSI2SK: d.S("GSI2SK"),
		GSI3PK: d.S("GSI3PK"), GSI3SK: d.S("GSI3SK"), Type: d.S("type"), TTL: d.N("ttl")}
}

// SetOrRemove starts an update expression: it writes v to the attribute
// name under the value placeholder ph (added to vals), or removes the
// attribute when v is an empty collection, since no item stores one
// (nonempty.go). What it returns ends inside a SET list: the caller appends
// at least one more "attr = value".
func SetOrRemove(name, ph string, v types.AttributeValue, vals Item) string {
	if Empty(v) {
		return "REMOVE " + name + " SET "
	}
	vals[ph] = v
	return "SET " + name + " = " + ph + ", "
}
