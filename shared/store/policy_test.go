package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/shared/samtemplate"
	"github.com/guestaccess/guestaccess/shared/testenv"
)

// TestPoliciesGrantWhatTheStoreCalls holds template.yaml's DynamoDB grants
// against the operations this package calls: no function is granted an
// operation the store never makes (least privilege: GetItem, for one — the
// store reads single items with BatchGetItem), TransactWriteItems' items
// count as the Put/Update/Delete/ConditionCheck actions IAM checks for them,
// and every API function may BatchGetItem (each of their paths starts with
// one read of everything the request names).
func TestPoliciesGrantWhatTheStoreCalls(t *testing.T) {
	called := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`s\.db\.([A-Z][A-Za-z]+)\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			called["dynamodb:"+m[1]] = true
		}
	}
	if !called["dynamodb:TransactWriteItems"] || !called["dynamodb:BatchGetItem"] {
		t.Fatalf("the scan of the store's calls found %v", called)
	}
	// IAM authorises each item of a transaction by its own action.
	for _, a := range []string{"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"} {
		called["dynamodb:"+a] = true
	}
	tpl, err := samtemplate.Load(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	api := map[string]bool{} // functions that serve API operations (a CORS preflight touches no table)
	for _, r := range tpl.Routes() {
		if r.Method != "OPTIONS" {
			api[r.FunctionID] = true
		}
	}
	for _, f := range tpl.Functions() {
		actions := tpl.PolicyActions(f.LogicalID)
		for _, a := range actions {
			if strings.HasPrefix(a, "dynamodb:") && !called[a] {
				t.Errorf("%s is granted %s, which the store never calls", f.LogicalID, a)
			}
		}
		if api[f.LogicalID] && !slices.Contains(actions, "dynamodb:BatchGetItem") {
			t.Errorf("%s serves API routes but may not BatchGetItem: %v", f.LogicalID, actions)
		}
	}
}
