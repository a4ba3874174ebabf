// Package localstack_test proves what can be proved here without Docker: the
// LocalStack init hooks, run against moto, create the table template.yaml
// describes and verify the sender.
package localstack_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/samtemplate"
	"github.com/guestaccess/guestaccess/shared/testenv"
)

func keys(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInitHooksMatchTemplate(t *testing.T) {
	moto := testenv.Endpoint(t, "MOTO_ENDPOINT")
	root := testenv.RepoRoot()
	table := "ls-hook-" + domain.NewID()[:10]
	sender := "ls-" + domain.NewID()[:8] + "@14west.example"
	env := append(os.Environ(),
		"AWS_ENDPOINT_URL="+moto, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TEMPLATE_PATH="+filepath.Join(root, "template.yaml"), "TABLE_NAME="+table, "SENDER_ADDRESS="+sender,
		"PATH="+filepath.Join(root, ".venv", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	run := func() {
		for _, hook := range []string{"10-table.sh", "20-ses.sh"} {
			cmd := exec.Command("bash", filepath.Join(root, "localstack", "init", "ready.d", hook))
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", hook, err, out)
			}
		}
	}
	run()
	run() // idempotent
	ctx := context.Background()
	db := testenv.DynamoDB(moto, nil)
	t.Cleanup(func() { _, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table}) })

	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tpl.TableInput("Table", table)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	g := got.Table
	if !equal(keys(g.KeySchema), keys(want.KeySchema)) {
		t.Errorf("key schema %v, want %v", keys(g.KeySchema), keys(want.KeySchema))
	}
	attrs := func(ds []types.AttributeDefinition) []string {
		var out []string
		for _, d := range ds {
			out = append(out, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
		}
		sort.Strings(out)
		return out
	}
	if !equal(attrs(g.AttributeDefinitions), attrs(want.AttributeDefinitions)) {
		t.Errorf("attributes %v, want %v", attrs(g.AttributeDefinitions), attrs(want.AttributeDefinitions))
	}
	if g.BillingModeSummary == nil || g.BillingModeSummary.BillingMode != want.BillingMode {
		t.Errorf("billing mode %+v, want %s", g.BillingModeSummary, want.BillingMode)
	}
	gotIdx := map[string]types.GlobalSecondaryIndexDescription{}
	for _, i := range g.GlobalSecondaryIndexes {
		gotIdx[aws.ToString(i.IndexName)] = i
	}
	if len(gotIdx) != len(want.GlobalSecondaryIndexes) {
		t.Errorf("%d indexes, want %d", len(gotIdx), len(want.GlobalSecondaryIndexes))
	}
	for _, w := range want.GlobalSecondaryIndexes {
		i, ok := gotIdx[aws.ToString(w.IndexName)]
		if !ok {
			t.Errorf("index %s missing", aws.ToString(w.IndexName))
			continue
		}
		if !equal(keys(i.KeySchema), keys(w.KeySchema)) || i.Projection == nil || i.Projection.ProjectionType != w.Projection.ProjectionType {
			t.Errorf("index %s: %v %+v, want %v %s", aws.ToString(w.IndexName), keys(i.KeySchema), i.Projection, keys(w.KeySchema), w.Projection.ProjectionType)
		}
	}
	ttlAttr, _ := tpl.TableTTLAttribute("Table")
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil || ttl.TimeToLiveDescription == nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != ttlAttr ||
		ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("ttl = %+v %v, want %s enabled", ttl, err, ttlAttr)
	}
	va, err := testenv.SES(moto).GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{sender}})
	if err != nil || va.VerificationAttributes[sender].VerificationStatus != "Success" {
		t.Errorf("sender verification = %+v %v", va, err)
	}
}
