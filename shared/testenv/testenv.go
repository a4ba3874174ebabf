// Package testenv gives tests real wire protocols: SDK clients pointed at the
// emulators that `make test` starts (moto by default), tables created from
// template.yaml's own definition, a counter of DynamoDB calls, and demo data.
//
// An emulator test skips when its endpoint is not set, unless
// REQUIRE_EMULATORS=1 (as `make test` sets), where it fails instead: the suite
// cannot pass by skipping.
package testenv

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/samtemplate"
	"github.com/guestaccess/guestaccess/shared/tablesetup"
)

// Endpoint returns the endpoint in env var name, skipping or failing the test
// when it is not set.
func Endpoint(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("REQUIRE_EMULATORS") == "1" {
			t.Fatalf("%s is not set but REQUIRE_EMULATORS=1: start the emulators (make test does)", name)
		}
		t.Skipf("%s is not set; run `make test` to start the emulators", name)
	}
	return v
}

// AWSConfig returns an SDK config for an emulator at endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 3,
	}
}

// Counter counts API calls by operation name.
type Counter struct {
	mu  sync.Mutex
	ops map[string]int
}

// Add attaches the counter to an SDK client's middleware stack.
func (c *Counter) Add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testenv.count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		if c.ops == nil {
			c.ops = map[string]int{}
		}
		c.ops[awsmiddleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// Reset zeroes the counts.
func (c *Counter) Reset() { c.mu.Lock(); c.ops = nil; c.mu.Unlock() }

// Counts returns a copy of the counts by operation.
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.ops {
		out[k] = v
	}
	return out
}

// Total returns the number of calls counted.
func (c *Counter) Total() int {
	n := 0
	for _, v := range c.Counts() {
		n += v
	}
	return n
}

// DynamoDB returns a client for the emulator at endpoint, counting calls into c (if not nil).
func DynamoDB(endpoint string, c *Counter) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(endpoint), func(o *dynamodb.Options) {
		if c != nil {
			o.APIOptions = append(o.APIOptions, c.Add)
		}
	})
}

// SES returns an SES v1 client for the emulator at endpoint.
func SES(endpoint string) *ses.Client { return ses.NewFromConfig(AWSConfig(endpoint)) }

// RepoRoot returns the repository root (where template.yaml is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CreateTable creates a table named name from template.yaml's Table resource
// and its TTL setting, and waits until it is active.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	tpl, err := samtemplate.Load(filepath.Join(RepoRoot(), "template.yaml"))
	if err != nil {
		return err
	}
	return tablesetup.Create(ctx, db, tpl, name)
}

// Table creates a fresh table for one test on the emulator at endpoint and
// deletes it afterwards.
func Table(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	name := "guestaccess-test-" + domain.NewID()[:12]
	if err := CreateTable(context.Background(), db, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}
