package iamstatic

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// makefileFunctions returns the Makefile's FUNCTIONS (LogicalId -> folder
// under functions/), the list SAM builds from.
func makefileFunctions(t *testing.T, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^FUNCTIONS\s*[:+]?=\s*(.*)$`).FindAllStringSubmatch(text, -1) {
		for _, f := range strings.Fields(m[1]) {
			id, dir, ok := strings.Cut(f, ":")
			if !ok {
				t.Fatalf("Makefile FUNCTIONS entry %q is not LogicalId:folder", f)
			}
			out[id] = dir
		}
	}
	if len(out) == 0 {
		t.Fatal("no FUNCTIONS in the Makefile")
	}
	return out
}

type fixture struct {
	tpl   *samtemplate.Template
	fns   []samtemplate.Function
	dirs  map[string]string // logical id -> folder
	prog  *Program
	err   error
	mu    sync.Mutex
	cache map[string]*Analysis // logical id -> VTA analysis
}

var (
	fixOnce sync.Once
	fix     fixture
)

// load loads every function of template.yaml once for all the tests.
func load(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		root := testenv.RepoRoot()
		fix.cache = map[string]*Analysis{}
		if fix.tpl, fix.err = samtemplate.Load(filepath.Join(root, "template.yaml")); fix.err != nil {
			return
		}
		mk := makefileFunctions(t, root)
		fix.fns = fix.tpl.Functions()
		fix.dirs = map[string]string{}
		var dirs []string
		for _, f := range fix.fns {
			dir, ok := mk[f.LogicalID]
			if !ok {
				t.Errorf("%s is in template.yaml but not in the Makefile's FUNCTIONS", f.LogicalID)
				continue
			}
			fix.dirs[f.LogicalID] = dir
			dirs = append(dirs, dir)
		}
		for id := range mk {
			if fix.tpl.ResourceType(id) != "AWS::Serverless::Function" {
				t.Errorf("Makefile FUNCTIONS names %s, which is no function of template.yaml", id)
			}
		}
		sort.Strings(dirs)
		fix.prog, fix.err = Load(root, dirs)
	})
	if fix.err != nil {
		t.Fatal(fix.err)
	}
	return &fix
}

func (f *fixture) analysis(t *testing.T, id string) *Analysis {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.cache[id]; a != nil {
		return a
	}
	a, err := f.prog.Analyse(f.dirs[id], VTA)
	if err != nil {
		t.Fatal(err)
	}
	f.cache[id] = a
	return a
}

func (f *fixture) function(id string) samtemplate.Function {
	for _, fn := range f.fns {
		if fn.LogicalID == id {
			return fn
		}
	}
	return samtemplate.Function{LogicalID: id}
}

// TestPoliciesMatchReachableCalls is the least-privilege check of every
// function in template.yaml, both ways: each IAM action its code can reach
// is granted, and each grant is used by code it can reach.
func TestPoliciesMatchReachableCalls(t *testing.T) {
	f := load(t)
	t.Logf("loaded %d functions' packages in %v", len(f.dirs), f.prog.LoadTime.Round(time.Millisecond))
	start := time.Now()
	var dirs []string
	byDir := map[string]string{}
	for id, d := range f.dirs {
		dirs = append(dirs, d)
		byDir[d] = id
	}
	sort.Strings(dirs)
	all, err := f.prog.AnalyseAll(dirs, VTA, runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	for d, a := range all {
		f.cache[byDir[d]] = a
	}
	f.mu.Unlock()
	t.Logf("analysed %d functions in %v (%d at once)", len(dirs), time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0))
	var table strings.Builder
	for _, fn := range f.fns {
		if _, ok := f.dirs[fn.LogicalID]; !ok {
			continue
		}
		t.Run(fn.LogicalID, func(t *testing.T) {
			a := f.analysis(t, fn.LogicalID)
			needs, problems := Needs(a, f.tpl, fn)
			missing, excess, pproblems := Compare(f.tpl, fn.LogicalID, needs)
			for _, p := range append(problems, pproblems...) {
				t.Errorf("%s: cannot check: %s", fn.LogicalID, p)
			}
			for _, m := range missing {
				t.Errorf("missing grant: %s", m)
			}
			for _, e := range excess {
				t.Errorf("excess grant: %s", e)
			}
			var acts []string
			for _, n := range needs {
				acts = append(acts, strings.TrimPrefix(n.String(), ""))
			}
			table.WriteString("| " + fn.LogicalID + " | " + strings.Join(acts, "<br>") + " |\n")
			if testing.Verbose() {
				for _, n := range needs {
					t.Logf("%s: %s <- %s", fn.LogicalID, n, n.Why)
				}
			}
			t.Logf("%s: %d functions reachable, analysed in %v", fn.LogicalID, a.Reachable, a.Took.Round(time.Millisecond))
		})
	}
	t.Logf("per function (derived needs):\n%s", table.String())
}

// TestCompareAlgorithms measures the call graph algorithms against each
// other (IAMSTATIC_ALGORITHMS=1): reachable functions, SDK operations,
// derived needs and time per function.
func TestCompareAlgorithms(t *testing.T) {
	if os.Getenv("IAMSTATIC_ALGORITHMS") == "" {
		t.Skip("set IAMSTATIC_ALGORITHMS=1 to measure")
	}
	f := load(t)
	for _, fn := range f.fns {
		dir, ok := f.dirs[fn.LogicalID]
		if !ok {
			continue
		}
		for _, algo := range []Algorithm{CHA, RTA, VTA} {
			a, err := f.prog.Analyse(dir, algo)
			if err != nil {
				t.Fatal(err)
			}
			needs, problems := Needs(a, f.tpl, fn)
			var ns []string
			for _, n := range needs {
				ns = append(ns, n.String())
			}
			t.Logf("%s %s: %d reachable, %d calls, %d needs, %d problems, %v: %s", fn.LogicalID, algo, a.Reachable, len(a.Calls), len(needs), len(problems), a.Took.Round(time.Millisecond), strings.Join(ns, "; "))
		}
	}
}

// The check fails both ways on a real function: with one of its grants
// taken away (missing) and with one it does not need added (excess); a
// policy by name fails unless it is the X-Ray one tracing needs.
func TestCheckCatchesMissingAndExcessGrants(t *testing.T) {
	f := load(t)
	const id = "AccessDecisionFunction"
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const line = "                - dynamodb:UpdateItem # the profile's lastActive, the first allowed decision of a user's day\n"
	if strings.Count(string(b), line) != 1 {
		t.Fatalf("template.yaml no longer has %s's UpdateItem grant as written here: update the test", id)
	}
	check := func(text string) (missing, excess, problems []string) {
		t.Helper()
		tpl, err := samtemplate.Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var fn samtemplate.Function
		for _, g := range tpl.Functions() {
			if g.LogicalID == id {
				fn = g
			}
		}
		needs, problems := Needs(f.analysis(t, id), tpl, fn)
		missing, excess, pp := Compare(tpl, id, needs)
		return missing, excess, append(problems, pp...)
	}
	if m, e, p := check(string(b)); len(m)+len(e)+len(p) != 0 {
		t.Fatalf("the real template: %v %v %v", m, e, p)
	}
	m, e, p := check(strings.Replace(string(b), line, "", 1))
	t.Logf("UpdateItem removed: missing %q, excess %q, problems %q", m, e, p)
	if len(m) != 1 || !strings.HasPrefix(m[0], id+": dynamodb:UpdateItem on ${Table.Arn} is not granted") || len(e)+len(p) != 0 {
		t.Errorf("UpdateItem removed: missing %q, excess %q, problems %q", m, e, p)
	}
	m, e, p = check(strings.Replace(string(b), line, line+"                - dynamodb:DeleteItem\n", 1))
	t.Logf("DeleteItem added: missing %q, excess %q, problems %q", m, e, p)
	if len(e) != 1 || !strings.HasPrefix(e[0], id+": dynamodb:DeleteItem on ${Table.Arn} is granted") || len(m)+len(p) != 0 {
		t.Errorf("DeleteItem added: missing %q, excess %q, problems %q", m, e, p)
	}
	// An index grant the code never queries.
	res := line + "              Resource: !GetAtt Table.Arn\n"
	m, e, p = check(strings.Replace(string(b), res, res+"            - Sid: Extra\n              Effect: Allow\n              Action: dynamodb:Query\n              Resource: !Sub \"${Table.Arn}/index/GSI1\"\n", 1))
	t.Logf("index added: missing %q, excess %q, problems %q", m, e, p)
	if len(e) != 1 || !strings.HasPrefix(e[0], id+": dynamodb:Query on ${Table.Arn}/index/GSI1 is granted") || len(m)+len(p) != 0 {
		t.Errorf("index added: missing %q, excess %q, problems %q", m, e, p)
	}
	// A wildcard would hide an unused action.
	_, _, p = check(strings.Replace(string(b), line, "                - dynamodb:*\n", 1))
	if len(p) != 1 || !strings.Contains(p[0], "action dynamodb:* (statement \"TableRead\") is a wildcard") {
		t.Errorf("dynamodb:* granted: problems %q", p)
	}
	policies := "      Policies:\n        - AWSXrayWriteOnlyAccess\n"
	i := strings.Index(string(b), "  "+id+":\n")
	j := i + strings.Index(string(b)[i:], "      Policies:\n")
	withXRay := string(b)[:j] + policies + string(b)[j+len("      Policies:\n"):]
	if m, e, p := check(withXRay); len(m)+len(e)+len(p) != 0 {
		t.Errorf("with the X-Ray policy: %v %v %v", m, e, p)
	}
	withCrud := string(b)[:j] + "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n" + string(b)[j+len("      Policies:\n"):]
	_, _, p = check(withCrud)
	if len(p) != 1 || !strings.Contains(p[0], `policy "DynamoDBCrudPolicy" is not an inline statement`) {
		t.Errorf("with a SAM policy template: problems %q", p)
	}
}

// What the analysis cannot resolve fails loudly: an index name that is not
// a constant is a problem, and a handler it cannot trace to functions an
// error; what it can resolve is derived (a Delete item, a table Query).
func TestUnresolvableCasesFail(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "infra", "samtemplate", "iamstatic", "testdata")
	prog, err := Load(root, []string{"dynamic", "unresolved"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := prog.Analyse("dynamic", VTA)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0], "Query.IndexName is not a constant") {
		t.Errorf("problems %q, want the dynamic index name", a.Problems)
	}
	if _, ok := a.TxKinds["Delete"]; !ok || len(a.TxKinds) != 1 || a.OnTable["Query"] == "" {
		t.Errorf("item kinds %v, on table %v", a.TxKinds, a.OnTable)
	}
	if _, err := prog.Analyse("unresolved", VTA); err == nil || !strings.Contains(err.Error(), "cannot resolve") {
		t.Errorf("an unresolvable handler: %v", err)
	}
}
