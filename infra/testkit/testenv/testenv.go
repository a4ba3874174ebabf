// Package testenv gives tests real wire protocols: SDK clients pointed at
// emulators that each test binary starts for itself (moto, aws-ses-v2-local),
// tables created from template.yaml's own definition, and a counter of
// DynamoDB calls.
//
// An emulator test skips when its emulator is not installed, unless
// REQUIRE_EMULATORS=1 (as `make test` sets), where it fails instead: the suite
// cannot pass by skipping.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"

	"github.com/guestaccess/guestaccess/infra/dev/tablesetup"
	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/shared/domain"
)

// Endpoint returns the value of env var name, skipping or failing the test
// (under REQUIRE_EMULATORS=1) when it is not set. MOTO_ENDPOINT and
// SESLOCAL_ENDPOINT are the exception: when unset, this test binary's own
// emulator is started (see Moto and SESLocal).
func Endpoint(t testing.TB, name string) string {
	t.Helper()
	switch name {
	case EnvMoto:
		return Moto(t)
	case EnvSESLocal:
		return SESLocal(t)
	}
	v := os.Getenv(name)
	if v == "" {
		unavailable(t, fmt.Errorf("%s is not set", name))
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
	// Skip, when set, leaves out the calls whose context it reports (the
	// dev stack's background workers, such as the email sender, whose
	// calls follow a request's answer on their own schedule).
	Skip func(ctx context.Context) bool
}

// Add attaches the counter to an SDK client's middleware stack.
func (c *Counter) Add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testenv.count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if c.Skip != nil && c.Skip(ctx) {
			return next.HandleInitialize(ctx, in)
		}
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
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
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

// SyncBuffer collects a child process's output while another goroutine
// reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ScanAll reads every item of a table with consistent Scans (tests only:
// what a change left behind, item by item).
func ScanAll(t testing.TB, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		res, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		start = res.LastEvaluatedKey
	}
}
