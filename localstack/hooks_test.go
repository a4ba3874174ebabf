// Package localstack_test proves what can be proved without Docker: the
// LocalStack init hooks, run against moto exactly as LocalStack runs them
// (bash, then Python with boto3 and AWS_ENDPOINT_URL), create the table that
// template.yaml describes and verify the SES sender; they can run again
// without harm; and the compose file is pinned and wired as documented.
// localstack_e2e_test.go holds the smoke test that needs a running LocalStack.
package localstack_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// repoRoot is the repository root, found from this file's location.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate hooks_test.go")
	}
	return filepath.Dir(filepath.Dir(file))
}

func randomSuffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// keys renders a key schema in order, e.g. [PK:HASH SK:RANGE].
func keys(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return out
}

// attrs renders attribute definitions as a sorted set, e.g. [PK:S SK:S].
func attrs(ds []types.AttributeDefinition) []string {
	var out []string
	for _, d := range ds {
		out = append(out, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
	}
	slices.Sort(out)
	return out
}

func TestInitHooksMatchTemplate(t *testing.T) {
	moto := testenv.Moto(t)
	root := repoRoot(t)
	tplPath := filepath.Join(root, "template.yaml")
	suffix := randomSuffix(t)
	table := "ls-hooks-" + suffix
	sender := "ls-hooks-" + suffix + "@14west.example"
	ctx := context.Background()
	db := testenv.DynamoDB(moto, nil)
	mail := testenv.SES(moto)
	t.Cleanup(func() {
		_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		_, _ = mail.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String(sender)})
	})

	// The environment LocalStack gives the hooks, pointed at moto instead;
	// python3 is the repo's venv (boto3 and PyYAML come with moto[server]).
	env := append(os.Environ(),
		"AWS_ENDPOINT_URL="+moto,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TEMPLATE_PATH="+tplPath,
		"TABLE_NAME="+table,
		"SENDER_ADDRESS="+sender,
		"PYTHON=", // let the hook pick python3 from PATH
		"PATH="+filepath.Join(root, ".venv", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	runHooks := func(round int) {
		t.Helper()
		for _, hook := range []string{"10-table.sh", "20-ses.sh"} {
			cmd := exec.Command("bash", filepath.Join(root, "localstack", "init", "ready.d", hook))
			cmd.Env = env
			cmd.Dir = t.TempDir() // the hooks must not depend on the working directory
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run %d, %s: %v\n%s", round, hook, err, out)
			}
			t.Logf("run %d, %s: %s", round, hook, strings.TrimSpace(string(out)))
		}
	}

	runHooks(1)
	// A row written between runs must survive the second run: "exists" means
	// left alone, not dropped and recreated.
	marker := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "HOOKTEST#" + suffix},
		"SK": &types.AttributeValueMemberS{Value: "MARKER"},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: marker}); err != nil {
		t.Fatalf("put marker: %v", err)
	}
	runHooks(2)
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: marker, ConsistentRead: aws.Bool(true)})
	if err != nil || len(got.Item) == 0 {
		t.Errorf("the second run lost the table's data (item %v, err %v)", got, err)
	}

	// What the template says, read by the repo's own parser.
	tpl, err := samtemplate.Load(tplPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tpl.TableInput("Table", table)
	if err != nil {
		t.Fatal(err)
	}
	wantTTL, ttlOn := tpl.TableTTLAttribute("Table")
	if !ttlOn {
		t.Fatal("template.yaml declares no enabled TTL on Table; this test expects one")
	}

	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	g := desc.Table
	if !slices.Equal(keys(g.KeySchema), keys(want.KeySchema)) {
		t.Errorf("key schema %v, want %v", keys(g.KeySchema), keys(want.KeySchema))
	}
	if !slices.Equal(attrs(g.AttributeDefinitions), attrs(want.AttributeDefinitions)) {
		t.Errorf("attribute definitions %v, want %v", attrs(g.AttributeDefinitions), attrs(want.AttributeDefinitions))
	}
	if want.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("template billing mode %q; this stack expects PAY_PER_REQUEST", want.BillingMode)
	}
	if g.BillingModeSummary == nil || g.BillingModeSummary.BillingMode != want.BillingMode {
		t.Errorf("billing mode %+v, want %s", g.BillingModeSummary, want.BillingMode)
	}

	gotIdx := map[string]types.GlobalSecondaryIndexDescription{}
	for _, i := range g.GlobalSecondaryIndexes {
		gotIdx[aws.ToString(i.IndexName)] = i
	}
	if len(gotIdx) != len(want.GlobalSecondaryIndexes) {
		t.Errorf("%d global secondary indexes, want %d", len(gotIdx), len(want.GlobalSecondaryIndexes))
	}
	for _, w := range want.GlobalSecondaryIndexes {
		name := aws.ToString(w.IndexName)
		i, ok := gotIdx[name]
		if !ok {
			t.Errorf("index %s missing", name)
			continue
		}
		if !slices.Equal(keys(i.KeySchema), keys(w.KeySchema)) {
			t.Errorf("index %s key schema %v, want %v", name, keys(i.KeySchema), keys(w.KeySchema))
		}
		if i.Projection == nil || i.Projection.ProjectionType != w.Projection.ProjectionType {
			t.Errorf("index %s projection %+v, want %s", name, i.Projection, w.Projection.ProjectionType)
		}
	}
	if len(g.LocalSecondaryIndexes) != len(want.LocalSecondaryIndexes) {
		t.Errorf("%d local secondary indexes, want %d", len(g.LocalSecondaryIndexes), len(want.LocalSecondaryIndexes))
	}

	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	switch {
	case err != nil:
		t.Errorf("describe TTL: %v", err)
	case ttl.TimeToLiveDescription == nil:
		t.Errorf("no TTL description")
	case aws.ToString(ttl.TimeToLiveDescription.AttributeName) != wantTTL ||
		ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled:
		t.Errorf("TTL %s %s, want %s ENABLED", aws.ToString(ttl.TimeToLiveDescription.AttributeName),
			ttl.TimeToLiveDescription.TimeToLiveStatus, wantTTL)
	}

	ids, err := mail.ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if err != nil {
		t.Fatalf("list identities: %v", err)
	}
	if !slices.Contains(ids.Identities, sender) {
		t.Errorf("sender %s not among the SES identities %v", sender, ids.Identities)
	}
	va, err := mail.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{sender}})
	if err != nil {
		t.Fatalf("verification attributes: %v", err)
	}
	if st := va.VerificationAttributes[sender].VerificationStatus; st != "Success" {
		t.Errorf("sender %s verification status %q, want Success", sender, st)
	}
}

// TestCreateTableRefusesIntrinsicKeys: a key property that is a CloudFormation
// function (!Ref ...) is parsed, thanks to the tag-tolerant loader, and then
// refused with a clear message instead of being sent to DynamoDB. No emulator
// is needed: the script fails before any call.
func TestCreateTableRefusesIntrinsicKeys(t *testing.T) {
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const literal = "- { AttributeName: PK, KeyType: HASH }"
	if !strings.Contains(string(src), literal) {
		t.Skipf("template.yaml no longer has %q; adjust this test", literal)
	}
	bad := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), literal, "- { AttributeName: !Ref KeyName, KeyType: HASH }", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(root, ".venv", "bin", "python3")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no %s (make venv creates it)", py)
	}
	cmd := exec.Command("bash", filepath.Join(root, "localstack", "init", "ready.d", "10-table.sh"))
	cmd.Env = append(os.Environ(), "PYTHON="+py, "TEMPLATE_PATH="+bad, "TABLE_NAME=never-created",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9") // nothing listens there; must not be reached
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("hook accepted a !Ref key schema:\n%s", out)
	}
	if !strings.Contains(string(out), "KeySchema[0].AttributeName is Ref, not a literal") {
		t.Errorf("unclear failure:\n%s", out)
	}
}
