// Package size_test holds every Lambda bootstrap to its size budget: at most
// Budget times the SDK floor, a bare program that builds the DynamoDB and SES
// clients through shared/platform/awsenv (infra/size/testdata/sdkfloor), built the
// same way. The floor is what any function of this service links anyway (the
// runtime, aws-lambda-go, the SDK's core, two clients); the budget is what
// a function may add to it: its own rules, the store, its other clients.
// A hello-world aws-lambda-go bootstrap is built too, for reference.
//
// The functions, the environment and the flags come from the Makefile (the
// build-<LogicalId> targets `sam build` runs), read through make itself, and
// each binary is built with them through bash as make's recipe does. Sizes
// are deterministic for a given toolchain and go.sum, so the check is exact.
// The table of sizes is logged: `go test -v ./infra/size` shows it.
package size_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// Budget is the largest size of a bootstrap, as a multiple of the SDK floor's.
const Budget = 1.15

// FloorBudget bounds the SDK floor itself, as a multiple of hello-world's
// (1.38× today): the floor links shared/platform/awsenv, and a floor that grew would
// silently loosen every function's budget.
const FloorBudget = 1.45

// parallelBuilds bounds the concurrent `go build`s (each is parallel itself).
const parallelBuilds = 2

// recipe is what every build-<LogicalId> target must run; if the Makefile's
// recipe changes, this test must change with it.
const recipe = "$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS)"

// makeVars returns the Makefile's variables as make expands them.
func makeVars(t *testing.T, root string, names ...string) map[string]string {
	t.Helper()
	var mk strings.Builder
	mk.WriteString("_size_print:\n\t@:")
	for _, n := range names {
		fmt.Fprintf(&mk, "$(info %s=$(%s))", n, n)
	}
	mk.WriteString("\n")
	cmd := exec.Command("make", "--no-print-directory", "-s", "-f", "Makefile", "-f", "-", "_size_print")
	cmd.Dir = root
	cmd.Stdin = strings.NewReader(mk.String())
	// Not the outer make's jobserver or flags (make test runs this test).
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the Makefile's variables with make: %v\n%s", err, stderr.String())
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = strings.TrimSpace(v)
		}
	}
	for _, n := range names {
		if vars[n] == "" {
			t.Fatalf("the Makefile has no %s (make printed %q)", n, out)
		}
	}
	return vars
}

// bootstrap is one binary to build and measure.
type bootstrap struct {
	name, pkg string
	size      int64
	err       error
}

func TestBootstrapSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every bootstrap")
	}
	root := testenv.RepoRoot()
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), recipe) {
		t.Fatalf("the Makefile's build-<LogicalId> recipe no longer runs %q: update infra/size to build the way it does", recipe)
	}
	vars := makeVars(t, root, "LAMBDA_ENV", "LAMBDA_FLAGS", "FUNCTIONS")

	// Every function of template.yaml built by make, and nothing else.
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inTemplate := map[string]bool{}
	for _, f := range tpl.Functions() {
		if f.BuildMethod == "makefile" {
			inTemplate[f.LogicalID] = true
		}
	}
	bins := []*bootstrap{
		{name: "hello-world", pkg: "./infra/size/testdata/hello"},
		{name: "sdk-floor", pkg: "./infra/size/testdata/sdkfloor"},
	}
	for _, f := range strings.Fields(vars["FUNCTIONS"]) {
		id, folder, ok := strings.Cut(f, ":")
		if !ok {
			t.Fatalf("FUNCTIONS entry %q is not LogicalId:folder", f)
		}
		if !inTemplate[id] {
			t.Errorf("Makefile FUNCTIONS has %s, which template.yaml does not build with BuildMethod: makefile", id)
		}
		delete(inTemplate, id)
		bins = append(bins, &bootstrap{name: id, pkg: "./functions/" + folder})
	}
	for id := range inTemplate {
		t.Errorf("template.yaml function %s is missing from the Makefile's FUNCTIONS", id)
	}

	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	// The recipe's words as make hands them to bash: the environment as
	// assignments before the command, the flags split by the shell.
	script := vars["LAMBDA_ENV"] + ` "$GO" build ` + vars["LAMBDA_FLAGS"] + ` -o "$1" "$2"`
	dir := t.TempDir()
	sem := make(chan struct{}, parallelBuilds)
	var wg sync.WaitGroup
	for i, b := range bins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out := filepath.Join(dir, fmt.Sprint(i), "bootstrap")
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", script, "bash", out, b.pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GO="+gobin)
			if msg, err := cmd.CombinedOutput(); err != nil {
				b.err = fmt.Errorf("%v\n%s", err, msg)
				return
			}
			st, err := os.Stat(out)
			b.size, b.err = st.Size(), err
		}()
	}
	wg.Wait()
	for _, b := range bins {
		if b.err != nil {
			t.Fatalf("build %s (%s): %v", b.name, b.pkg, b.err)
		}
	}

	hello, floor := bins[0].size, bins[1].size
	limit := int64(Budget * float64(floor))
	var table strings.Builder
	fmt.Fprintf(&table, "built with: %s go build %s\n", vars["LAMBDA_ENV"], vars["LAMBDA_FLAGS"])
	fmt.Fprintf(&table, "budget: %.2f× the SDK floor's %d bytes = %d bytes\n", Budget, floor, limit)
	fmt.Fprintf(&table, "%-32s %-40s %11s %8s %8s %8s %10s\n", "bootstrap", "package", "bytes", "MB", "÷floor", "÷hello", "headroom")
	for _, b := range bins {
		ratio := float64(b.size) / float64(floor)
		verdict := ""
		if b.size > limit {
			verdict = fmt.Sprintf("  OVER %.2f×", Budget)
		}
		fmt.Fprintf(&table, "%-32s %-40s %11d %8.2f %7.2f× %7.2f× %10d%s\n", b.name, b.pkg, b.size, float64(b.size)/1e6,
			ratio, float64(b.size)/float64(hello), limit-b.size, verdict)
	}
	t.Log("\n" + table.String())
	t.Run("sdk-floor", func(t *testing.T) {
		if ratio := float64(floor) / float64(hello); ratio > FloorBudget {
			t.Errorf("the SDK floor is %d bytes, %.3f× hello-world's %d: over %.2f×; shared/platform/awsenv (or the SDK) grew, which loosens every budget",
				floor, ratio, hello, FloorBudget)
		}
	})
	for _, b := range bins[2:] {
		t.Run(b.name, func(t *testing.T) {
			if b.size > limit {
				t.Errorf("%s is %d bytes, %.3f× the SDK floor's %d: over the %.2f× budget by %d bytes",
					b.pkg, b.size, float64(b.size)/float64(floor), floor, Budget, b.size-limit)
			}
		})
	}
}
