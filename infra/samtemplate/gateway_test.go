package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

func TestGatewayResponses(t *testing.T) {
	tpl := mustParse(t, `
Globals:
  Api:
    GatewayResponses:
      DEFAULT_4XX:
        StatusCode: 400
        ResponseTemplates:
          application/json: '{"from":"globals"}'
      THROTTLED:
        StatusCode: 429
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      GatewayResponses:
        DEFAULT_4XX:
          ResponseParameters:
            Headers:
              Content-Type: "'application/problem+json'"
              Retry-After: "'1'"
              Access-Control-Allow-Origin: !If [HasOrigins, method.request.header.Origin, !Ref AWS::NoValue]
              Vary:
                Fn::If: [HasOrigins, "'Origin'", {Ref: AWS::NoValue}]
          ResponseTemplates:
            application/json: '{"id":"$context.requestId"}'
`)
	got, err := tpl.GatewayResponses("Api")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]GatewayResponse{
		"DEFAULT_4XX": {Type: "DEFAULT_4XX", Headers: map[string]string{"Content-Type": "application/problem+json", "Retry-After": "1", "Vary": "Origin"},
			FromRequest: map[string]string{"Access-Control-Allow-Origin": "Origin"},
			Conditions:  map[string]string{"Access-Control-Allow-Origin": "HasOrigins", "Vary": "HasOrigins"},
			Templates:   map[string]string{"application/json": `{"id":"$context.requestId"}`}},
		"THROTTLED": {Type: "THROTTLED", StatusCode: 429, Headers: map[string]string{}, FromRequest: map[string]string{}, Conditions: map[string]string{}, Templates: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, err := tpl.GatewayResponses("NoSuchApi"); err != nil || len(got) != 2 {
		t.Errorf("an API without its own responses gets the globals: %v %v", got, err)
	}
	gr := got["DEFAULT_4XX"]
	origin := func(h string) string { return map[string]string{"Origin": "https://console.example"}[h] }
	for _, c := range []struct {
		conds  map[string]bool
		header func(string) string
		want   map[string]string
	}{
		{map[string]bool{"HasOrigins": true}, origin, map[string]string{"Content-Type": "application/problem+json", "Retry-After": "1", "Vary": "Origin", "Access-Control-Allow-Origin": "https://console.example"}},
		{map[string]bool{"HasOrigins": true}, func(string) string { return "" }, map[string]string{"Content-Type": "application/problem+json", "Retry-After": "1", "Vary": "Origin"}},
		{nil, origin, map[string]string{"Content-Type": "application/problem+json", "Retry-After": "1"}},
	} {
		if h := gr.Render(c.conds, c.header); !reflect.DeepEqual(h, c.want) {
			t.Errorf("Render(%v) = %v, want %v", c.conds, h, c.want)
		}
	}
}

func TestGatewayResponsesRefuseWhatTheLocalGatewayCannotReproduce(t *testing.T) {
	for name, entry := range map[string]string{
		"header from the body":   "\n          ResponseParameters:\n            Headers:\n              X-Id: integration.response.body.id",
		"if without NoValue":     "\n          ResponseParameters:\n            Headers:\n              X-Id: !If [C, \"'a'\", \"'b'\"]",
		"other intrinsic header": "\n          ResponseParameters:\n            Headers:\n              X-Id: !Sub \"'${AWS::Region}'\"",
		"intrinsic template":     "\n          ResponseTemplates:\n            application/json: !Sub '{}'",
		"intrinsic status":       "\n          StatusCode: !Ref Code",
		"status out of range":    "\n          StatusCode: 99",
		"not a mapping":          "[]",
	} {
		tpl := mustParse(t, "Resources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      GatewayResponses:\n        DEFAULT_4XX: "+entry+"\n")
		if _, err := tpl.GatewayResponses("Api"); err == nil || !strings.Contains(err.Error(), "DEFAULT_4XX") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
