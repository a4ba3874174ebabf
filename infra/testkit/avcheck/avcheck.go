// Package avcheck checks the table's hand-written item codecs against the
// AWS SDK's own encoder, feature/dynamodb/attributevalue, in tests only.
//
// The functions never link attributevalue: it is reflection-based and
// would cost the bootstraps their size budget, and the hand-written codec
// also leaves out every empty value. But the codec claims to write what
// attributevalue writes by default (strings as S, integers as N, times as
// RFC 3339 strings with nanoseconds, string lists as L of S, string maps as
// M of S, booleans as BOOL), so that items written before the codec existed
// read the same. Check holds it to that claim for one item: the test
// declares a mirror, a struct whose dynamodbav tags name the attributes the
// item should hold, filled with the same values.
package avcheck

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Check fails t unless got (the codec's item) is exactly what
// attributevalue.MarshalMap makes of mirror, and unless
// attributevalue.UnmarshalMap reads got back into a value equal to mirror.
// mirror must be a pointer to a struct; give every field a non-zero value
// (the codec leaves empty values out, attributevalue keeps zero numbers).
func Check(t testing.TB, name string, got map[string]types.AttributeValue, mirror any) {
	t.Helper()
	want, err := attributevalue.MarshalMap(mirror)
	if err != nil {
		t.Fatalf("%s: attributevalue cannot marshal the mirror: %v", name, err)
	}
	if diff := Diff(got, want); diff != "" {
		t.Errorf("%s: the codec's item differs from attributevalue's:\n%s", name, diff)
	}
	back := reflect.New(reflect.TypeOf(mirror).Elem())
	if err := attributevalue.UnmarshalMap(got, back.Interface()); err != nil {
		t.Errorf("%s: attributevalue cannot read the codec's item: %v", name, err)
		return
	}
	if !reflect.DeepEqual(back.Interface(), mirror) {
		t.Errorf("%s: attributevalue reads the codec's item as\n%+v\nwant\n%+v", name, back.Elem().Interface(), reflect.ValueOf(mirror).Elem().Interface())
	}
}

// Diff describes the attributes two items disagree on; "" when they agree.
func Diff(got, want map[string]types.AttributeValue) string {
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		g, inG := got[k]
		w, inW := want[k]
		switch {
		case !inG:
			b.WriteString("  " + k + ": missing, attributevalue writes " + show(w) + "\n")
		case !inW:
			b.WriteString("  " + k + ": written as " + show(g) + ", attributevalue writes nothing\n")
		case !reflect.DeepEqual(g, w):
			b.WriteString("  " + k + ": written as " + show(g) + ", attributevalue writes " + show(w) + "\n")
		}
	}
	return b.String()
}

func show(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return "S " + x.Value
	case *types.AttributeValueMemberN:
		return "N " + x.Value
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			return "BOOL true"
		}
		return "BOOL false"
	case *types.AttributeValueMemberL:
		return "L of " + strconv.Itoa(len(x.Value))
	case *types.AttributeValueMemberM:
		return "M of " + strconv.Itoa(len(x.Value))
	case *types.AttributeValueMemberSS:
		return "SS of " + strconv.Itoa(len(x.Value))
	}
	return reflect.TypeOf(v).String()
}
