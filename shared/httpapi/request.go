package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// MaxJSONBody is the largest JSON body accepted (an invite of 10 with a full
// message is well under 8 KiB).
const MaxJSONBody = 64 << 10

// Header returns a request header, matched case-insensitively.
func Header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// Body returns the raw request body, decoding base64 when API Gateway did,
// refusing bodies over max bytes.
func Body(req events.APIGatewayProxyRequest, max int) ([]byte, error) {
	if len(req.Body) > 2*max {
		return nil, tooLarge(max)
	}
	b := []byte(req.Body)
	if req.IsBase64Encoded {
		d, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "The request body is not valid base64.")
		}
		b = d
	}
	if len(b) > max {
		return nil, tooLarge(max)
	}
	return b, nil
}

func tooLarge(max int) error {
	return domain.Errorf(domain.ETOOLARGE, "The request body is larger than %d bytes.", max)
}

// DecodeJSON decodes a JSON body strictly into v: application/json only, at
// most max bytes, one value, no unknown fields, no member named twice in an
// object at any depth (see checkJSONKeys).
func DecodeJSON(req events.APIGatewayProxyRequest, max int, v any) error {
	mt, _, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil || mt != "application/json" {
		return domain.Errorf(domain.EUNSUPPORTED, "Send the request body as application/json.")
	}
	b, err := Body(req, max)
	if err != nil {
		return err
	}
	if err := refuseNull(b); err != nil { // no request schema allows null
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return domain.Errorf(domain.EINVALID, "The request body is empty.")
		case errors.As(err, &se):
			return domain.Errorf(domain.EINVALID, "The request body is not valid JSON (at byte %d).", se.Offset)
		case errors.As(err, &te):
			return &domain.Error{Code: domain.EINVALID, Message: "A field has the wrong type.", Fields: map[string]string{te.Field: "must be " + te.Type.String()}}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &domain.Error{Code: domain.EINVALID, Message: "The request has an unknown field.", Fields: map[string]string{f: "unknown field"}}
		}
		return domain.Errorf(domain.EINVALID, "The request body is not valid JSON.")
	}
	if dec.More() {
		return domain.Errorf(domain.EINVALID, "The request body must hold exactly one JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Errorf(domain.EINVALID, "The request body must hold exactly one JSON object.")
	}
	return checkJSONKeys(b)
}

// CallerID returns the account id the authorizer verified ("" if none).
func CallerID(req events.APIGatewayProxyRequest) string {
	if s, ok := req.RequestContext.Authorizer["sub"].(string); ok && s != "" {
		return s
	}
	if s, ok := req.RequestContext.Authorizer["principalId"].(string); ok {
		return s
	}
	return ""
}
