package httpapi

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// maxRepeatedNamed is how many repeated query parameters a refusal names.
const maxRepeatedNamed = 10

// CheckQuery refuses (EINVALID) a request that gives a query parameter more
// than once. API Gateway's REST payload 1.0 keeps every value in
// MultiValueQueryStringParameters but only the last in
// QueryStringParameters, which the handlers read: "?space=ENG&space=MKT"
// would be read as MKT while a cache, a WAF rule or a product reading the
// first value saw ENG. No route takes a list in the query, so a repeat is
// always a mistake or an attack; Endpoint refuses it before any handler runs.
func CheckQuery(req events.APIGatewayProxyRequest) error {
	var repeated []string
	for k, vs := range req.MultiValueQueryStringParameters {
		if len(vs) > 1 {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) == 0 {
		return nil
	}
	slices.Sort(repeated)
	fields := map[string]string{}
	for _, k := range repeated[:min(len(repeated), maxRepeatedNamed)] {
		fields[k] = "given " + strconv.Itoa(len(req.MultiValueQueryStringParameters[k])) + " times: give each query parameter at most once"
	}
	return &domain.Error{Code: domain.EINVALID, Message: "A query parameter is repeated; give each at most once.", Fields: fields}
}

// CanonicalQuery is the request's query string in one canonical form: the
// parameters sorted by name (their order in the URL does not matter), each
// value escaped. It is "" without a query string.
func CanonicalQuery(req events.APIGatewayProxyRequest) string {
	q := url.Values{}
	if len(req.MultiValueQueryStringParameters) > 0 {
		for k, vs := range req.MultiValueQueryStringParameters {
			q[k] = vs
		}
	} else {
		for k, v := range req.QueryStringParameters {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// checkJSONKeys refuses (EINVALID) a JSON document in which an object, at
// any depth, names a member twice: encoding/json keeps the last, other
// parsers the first, so {"role":"user","role":"guest"} would mean one thing
// here and another to a proxy, a log reader or a client library. Names are
// compared as encoding/json matches struct fields, without case (so
// "role" and "Role" are the same member), and after unescaping (so
// "r\u006fle" is "role"). A document that is not valid JSON passes: the
// decoder reports it.
func checkJSONKeys(b []byte) error {
	var stack []*jsonFrame
	done := func() { // the value at the top of the stack ended
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder reports
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				done()
				continue
			}
			name, _ := tok.(string)
			top.name, top.wantKey = name, false
			folded := foldName(name)
			if top.names[folded] {
				return &domain.Error{Code: domain.EINVALID, Message: "The request body names a field twice.",
					Fields: map[string]string{jsonPath(stack): "appears more than once in its object (names are compared without case)"}}
			}
			top.names[folded] = true
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &jsonFrame{object: true, wantKey: true, names: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &jsonFrame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}

// jsonFrame is an object or array being read by checkJSONKeys.
type jsonFrame struct {
	object  bool
	wantKey bool            // objects: a member name comes next
	names   map[string]bool // objects: the names read so far, folded
	name    string          // objects: the member being read
	index   int             // arrays: the element being read
}

// jsonPath names a position as the field errors do: members joined by dots,
// elements as [i] ("products.confluence.role", "roles[2].site").
func jsonPath(stack []*jsonFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if !f.object {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.name)
	}
	return b.String()
}

// foldName folds a member name as encoding/json compares names with struct
// fields (bytes.EqualFold): each rune becomes the smallest of its case orbit.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseForm reads an application/x-www-form-urlencoded body as the guest
// pages' forms send it, refusing (EINVALID) one that is not a form or gives
// a field more than once, for the reason CheckQuery refuses a repeated query
// parameter: form.Get reads the first value, other readers the last.
func parseForm(b []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "The form could not be read.")
	}
	for k, vs := range form {
		if len(vs) > 1 {
			return nil, &domain.Error{Code: domain.EINVALID, Message: "The form gives a field more than once.",
				Fields: map[string]string{k: "given more than once"}}
		}
	}
	return form, nil
}
