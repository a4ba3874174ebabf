package publicurl

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestBase(t *testing.T) {
	exec := events.APIGatewayProxyRequestContext{APIID: "a1b2c3d4e5", Stage: "v1", DomainName: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"}
	custom := exec
	custom.DomainName = "guests.example.com"
	spoofed := exec
	spoofed.DomainName = "attacker.example" // whatever reached the payload, it is never a link's host
	local := events.APIGatewayProxyRequestContext{Stage: "local", DomainName: "127.0.0.1:8080"}
	for _, c := range []struct {
		name, configured, region string
		rc                       events.APIGatewayProxyRequestContext
		want                     string
	}{
		{"configured wins", "https://guests.example.com/g/", "eu-west-1", exec, "https://guests.example.com/g"},
		{"configured wins over loopback", "https://guests.example.com", "", local, "https://guests.example.com"},
		{"execute-api: domain and stage", "", "eu-west-1", exec, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"},
		{"custom domain: the execute-api URL", "", "eu-west-1", custom, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"},
		{"foreign domain name: never in a link", "", "eu-west-1", spoofed, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"},
		{"China partition", "", "cn-north-1", exec, "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/v1"},
		{"local gateway", "", "", local, "http://127.0.0.1:8080"},
		{"local gateway ::1", "", "", events.APIGatewayProxyRequestContext{DomainName: "[::1]:9000"}, "http://[::1]:9000"},
		{"local gateway localhost", "", "", events.APIGatewayProxyRequestContext{DomainName: "localhost:9000"}, "http://localhost:9000"},
	} {
		got, err := Base(c.configured, c.rc, c.region)
		if err != nil || got != c.want {
			t.Errorf("%s: Base = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// TestBaseRefusesWhatItCannotTrust: without a configured URL, only a
// well-formed API id, stage and region make a link; a loopback-looking
// name without a port, or a domain name that merely contains one, is no
// local gateway; nothing is taken from a malformed field.
func TestBaseRefusesWhatItCannotTrust(t *testing.T) {
	ok := events.APIGatewayProxyRequestContext{APIID: "a1b2c3d4e5", Stage: "v1"}
	for _, c := range []struct {
		name   string
		rc     events.APIGatewayProxyRequestContext
		region string
	}{
		{"no request context", events.APIGatewayProxyRequestContext{}, "eu-west-1"},
		{"no region", ok, ""},
		{"api id with a dot", events.APIGatewayProxyRequestContext{APIID: "evil.example/x", Stage: "v1"}, "eu-west-1"},
		{"stage with a slash", events.APIGatewayProxyRequestContext{APIID: "a1b2c3d4e5", Stage: "v1/../x"}, "eu-west-1"},
		{"region with a host", ok, "evil.example/"},
		{"loopback without a port", events.APIGatewayProxyRequestContext{DomainName: "127.0.0.1"}, ""},
		{"loopback-like name", events.APIGatewayProxyRequestContext{DomainName: "127.0.0.1.evil.example:80"}, ""},
		{"localhost subdomain", events.APIGatewayProxyRequestContext{DomainName: "localhost.evil.example:80"}, ""},
	} {
		if got, err := Base("", c.rc, c.region); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: Base = %q, %v; want ErrUnknown", c.name, got, err)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got := From(ctx, "https://fallback.example"); got != "https://fallback.example" {
		t.Errorf("From without a base = %q", got)
	}
	if got := From(With(ctx, "https://x.example/v1"), "https://fallback.example"); got != "https://x.example/v1" {
		t.Errorf("From with a base = %q", got)
	}
}
