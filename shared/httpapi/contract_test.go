package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestIdempotencyKeyShape: the Idempotency-Key the OpenAPI document gives
// (1 to 255 printable ASCII characters without spaces) is the one the
// endpoint takes; a header sent empty is not one left out.
func TestIdempotencyKeyShape(t *testing.T) {
	for key, want := range map[string]int{
		"0":                       200,
		"f47ac10b-58cc-4372-a567": 200,
		"  padded\t":              200, // blanks around a value are not part of it (RFC 9110)
		strings.Repeat("k", 255):  200,
		"":                        400,
		"   ":                     400,
		"a b":                     400,
		"a\x01b":                  400,
		"caf\u00e9":               400,
		strings.Repeat("k", 256):  400,
	} {
		w := &writer{}
		e := Endpoint{Handler: w.handle, Log: quiet} // no key store: the shape alone decides
		resp, _ := e.Handle(context.Background(), keyed(key, `{}`))
		if resp.StatusCode != want {
			t.Errorf("Idempotency-Key %q: %d, want %d", key, resp.StatusCode, want)
		}
	}
	w := &writer{}
	req := keyed("", `{}`)
	req.Headers = map[string]string{}
	if resp, _ := (Endpoint{Handler: w.handle, Log: quiet}).Handle(context.Background(), req); resp.StatusCode != 200 {
		t.Errorf("no Idempotency-Key: %d", resp.StatusCode)
	}
}

// TestDecodeJSONRefusesNull: no request schema allows null, so a null
// anywhere (the whole body, a field, an array item) is a 400 rather than
// read as "left out".
func TestDecodeJSONRefusesNull(t *testing.T) {
	type in struct {
		Version *int     `json:"version"`
		Users   []string `json:"users"`
	}
	for body, wantErr := range map[string]bool{
		`null`:                false,
		`{"version":null}`:    true,
		`{"users":[null]}`:    true,
		`{"version":1}`:       false,
		`{"users":["a","b"]}`: false,
		`{}`:                  false,
	} {
		req := events.APIGatewayProxyRequest{HTTPMethod: http.MethodDelete, Body: body, Headers: map[string]string{"Content-Type": "application/json"}}
		var v in
		err := DecodeJSON(req, MaxJSONBody, &v)
		if body == "null" {
			wantErr = true
		}
		if (err != nil) != wantErr {
			t.Errorf("%s: error %v, want one: %v", body, err, wantErr)
		}
	}
}
