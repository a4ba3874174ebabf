package testenv

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"
)

// Minidyn starts the embedded DynamoDB-compatible server of `make dev`
// (minidyn) for one test and returns a client for it, counting calls into c
// (if not nil) and with opts applied.
func Minidyn(t testing.TB, c *Counter, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(miniserver.NewServer())
	t.Cleanup(srv.Close)
	return dynamodb.NewFromConfig(AWSConfig(srv.URL), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true // minidyn sends none
		if c != nil {
			o.APIOptions = append(o.APIOptions, c.Add)
		}
	}}, opts...)...)
}
