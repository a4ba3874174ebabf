package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// idempotencyKey returns the request's Idempotency-Key ("" when the header
// is absent), or an error when the header is present but not 1 to
// MaxIdempotencyKey printable ASCII characters without spaces: the shape
// the OpenAPI document gives it (an empty header is not an absent one).
// Leading and trailing blanks are not part of a header's value (RFC 9110).
func idempotencyKey(req events.APIGatewayProxyRequest) (string, error) {
	raw, present := headerValue(req, "Idempotency-Key")
	if !present {
		return "", nil
	}
	key := strings.Trim(raw, " \t")
	if key == "" || len(key) > MaxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", &domain.Error{Code: domain.EINVALID, Message: "The Idempotency-Key header is not valid.",
			Fields: map[string]string{"Idempotency-Key": "1 to 255 printable ASCII characters without spaces"}}
	}
	return key, nil
}

// headerValue is Header that also tells whether the header was sent.
func headerValue(req events.APIGatewayProxyRequest, name string) (string, bool) {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// refuseNull refuses a JSON body holding null anywhere: no request schema of
// the API allows null (a field is given or left out), while Go would read a
// null as "absent" and accept what the document forbids. A body that is not
// valid JSON is left to the decoder's own error.
func refuseNull(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if tok == nil {
			return domain.Errorf(domain.EINVALID, "The request body holds a null: leave a field out instead.")
		}
	}
}
