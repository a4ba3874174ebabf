// Package publicurl decides the public base URL of the API that emailed
// links (accept links, verification pages) start with, for one request, and
// carries it through the request's context to the services that render the
// emails.
//
// The functions API Gateway integrates cannot be told the API's own URL by
// the template: their environment naming the API while the API names their
// ARNs is a circular dependency CloudFormation refuses (issue 17). So the
// URL comes, in order of preference, from:
//
//  1. the deployment's PublicBaseUrl (a custom domain), when set: it wins;
//  2. the request itself, as API Gateway describes it (REST payload 1.0):
//     https://{apiId}.execute-api.{region}.{suffix}/{stage}, from
//     requestContext.apiId and requestContext.stage and the function's own
//     region. For a request to the execute-api host that is exactly
//     https://{requestContext.domainName}/{requestContext.stage}. For a
//     request through a custom domain, domainName is the custom domain, and
//     its base path mapping (empty, the stage's name or any other) is not
//     stated reliably by the payload (its path fields differ by mapping),
//     so domainName + stage could be a broken link: the execute-api URL is
//     used instead, the URL the template documents for an empty
//     PublicBaseUrl. A deployment behind a custom domain sets PublicBaseUrl.
//  3. a loopback requestContext.domainName (127.0.0.1, ::1 or localhost,
//     with a port): the local gateway of `make dev`, which names itself
//     there from its own listener and serves its stage at the root over
//     plain HTTP: http://{domainName}. API Gateway never has one.
//
// No request header is read: the Host header is the client's to write, and
// a link built from it could be made to point at an attacker's domain and
// be emailed by the service. On AWS the link's host is always the API's own
// execute-api host (or PublicBaseUrl), whatever the request says; locally,
// the loopback address the local gateway listens on.
package publicurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

var (
	apiIDRe  = regexp.MustCompile(`^[a-z0-9]{1,32}$`)
	stageRe  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// ErrUnknown is returned when neither the configuration nor the request
// tells the API's public URL (a request that did not come through API
// Gateway, a function without its region).
var ErrUnknown = errors.New("publicurl: the API's public URL is unknown (no PUBLIC_BASE_URL, and the request context names no API, stage and region)")

// Base returns the public base URL (no trailing slash) for a request that
// arrived with rc, given the configured PublicBaseUrl (may be empty) and
// the function's own region (AWS_REGION).
func Base(configured string, rc events.APIGatewayProxyRequestContext, region string) (string, error) {
	if c := strings.TrimRight(configured, "/"); c != "" {
		return c, nil
	}
	if isLoopback(rc.DomainName) {
		return "http://" + rc.DomainName, nil
	}
	if !apiIDRe.MatchString(rc.APIID) || !stageRe.MatchString(rc.Stage) || !regionRe.MatchString(region) {
		return "", ErrUnknown
	}
	return fmt.Sprintf("https://%s.execute-api.%s.%s/%s", rc.APIID, region, urlSuffix(region), rc.Stage), nil
}

// urlSuffix is AWS::URLSuffix for a region: amazonaws.com, or
// amazonaws.com.cn in the China regions.
func urlSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// isLoopback reports whether hostport is a loopback host with a port, as
// the local gateway names itself (127.0.0.1:8080, [::1]:8080,
// localhost:8080).
func isLoopback(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type ctxKey struct{}

// With returns ctx carrying base, the public base URL of its request.
func With(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, ctxKey{}, base)
}

// From returns the public base URL ctx carries, or fallback when it carries
// none (a scheduled job, which is configured with it).
func From(ctx context.Context, fallback string) string {
	if b, ok := ctx.Value(ctxKey{}).(string); ok && b != "" {
		return b
	}
	return fallback
}
