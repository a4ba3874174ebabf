// Command benchinit measures the cold start of Lambda bootstraps under the
// Lambda runtime interface emulator: for each, N fresh emulator processes,
// each answering one invoke with the function's events/ fixture, against
// moto. infra/scripts/bench-init.sh builds the bootstraps, starts moto and
// runs this; see infra/scripts/BENCH.md.
//
// Two numbers per run:
//
//   - init: the emulator's "INIT REPORT(durationMs: …)", from the runtime's
//     start to its first /next call (the INIT phase Lambda bills and logs;
//     this emulator's REPORT line prints a meaningless "Init Duration");
//   - first response: from starting the emulator process to the first
//     invoke's answer (emulator start, INIT, and the first invoke with its
//     first AWS calls).
//
// Usage: benchinit -moto URL -rie PATH [-n 10] [-ca-bundle PEM] name:folder:bootstrap...
// The first bootstrap is the baseline the ratios are relative to and the
// INIT budget applies to (bench-init.sh passes the SDK floor,
// infra/size/testdata/sdkfloor); folder
// (under functions/) names the fixture events/<folder>.json or the first
// events/<folder>-*.json; an empty folder invokes with {}.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/guestaccess/guestaccess/infra/dev/demo"
	"github.com/guestaccess/guestaccess/infra/testkit/jwttest"
	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
)

// Budget is the INIT goal (issue 16): at most this multiple of the
// baseline's median INIT, the SDK floor's.
const Budget = 1.25

// target is one bootstrap to measure.
type target struct {
	name, folder, path string
	size               int64
	init, first        []time.Duration
}

// bench holds what every run shares.
type bench struct {
	rie, root string
	env       []string
	issuer    *jwttest.Issuer
}

func main() {
	moto := flag.String("moto", "", "moto endpoint (DynamoDB and SES)")
	rie := flag.String("rie", ".cache/bin/aws-lambda-rie", "the Lambda runtime interface emulator")
	n := flag.Int("n", 10, "cold starts per bootstrap")
	caBundle := flag.String("ca-bundle", "", "AWS_CA_BUNDLE for the functions (default none, as on Lambda)")
	flag.Parse()
	if *moto == "" || flag.NArg() == 0 || *n < 1 {
		log.Fatal("usage: benchinit -moto URL [-rie PATH] [-n 10] [-ca-bundle PEM] name:folder:bootstrap...")
	}
	var targets []*target
	for _, a := range flag.Args() {
		parts := strings.SplitN(a, ":", 3)
		if len(parts) != 3 {
			log.Fatalf("%q is not name:folder:bootstrap", a)
		}
		st, err := os.Stat(parts[2])
		if err != nil {
			log.Fatal(err)
		}
		targets = append(targets, &target{name: parts[0], folder: parts[1], path: parts[2], size: st.Size()})
	}
	root, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	b, cleanup, err := setup(context.Background(), *moto, *rie, root, *n, *caBundle)
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()

	// Round-robin, so a burst of load on the machine spreads over every bootstrap.
	for i := 0; i < *n; i++ {
		for _, t := range targets {
			initD, first, err := b.run(t)
			if err != nil {
				cleanup()
				log.Fatalf("%s, run %d: %v", t.name, i+1, err)
			}
			t.init, t.first = append(t.init, initD), append(t.first, first)
		}
	}
	report(os.Stdout, targets, *n)
}

// setup makes the table (from template.yaml) with the demo data, verifies a
// sender in moto's SES and starts a local IdP for the authorizer.
func setup(ctx context.Context, moto, rie, root string, n int, caBundle string) (*bench, func(), error) {
	db := testenv.DynamoDB(moto, nil)
	table := "guestaccess-bench-" + domain.NewID()[:12]
	if err := testenv.CreateTable(ctx, db, table); err != nil {
		return nil, nil, fmt.Errorf("create table: %w", err)
	}
	idp := httptest.NewServer(nil)
	cleanup := sync.OnceFunc(func() {
		idp.Close()
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
	})
	// Each paid user allows 5 guests: room for every invite of the runs.
	if err := demo.Seed(ctx, store.New(db, table), n/5+1); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("seed: %w", err)
	}
	sender := "bench-" + domain.NewID()[:8] + "@" + demo.VerifiedDomain
	if _, err := testenv.SES(moto).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(sender)}); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("verify sender: %w", err)
	}
	issuer, err := jwttest.NewIssuer(idp.URL, "guestaccess-bench")
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	idp.Config.Handler = issuer

	// The function's environment: this one without AWS_CA_BUNDLE (Lambda
	// sets none, and loading a bundle inflates INIT) or endpoint overrides,
	// plus what template.yaml gives each function.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "AWS_CA_BUNDLE" && !strings.HasPrefix(k, "AWS_ENDPOINT_URL") && k != "AWS_PROFILE" {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ENDPOINT_URL="+moto, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TABLE_NAME="+table, "SENDER_ADDRESS="+sender, "PUBLIC_BASE_URL=https://guests.example/v1", "INVITATION_LIFETIME_HOURS=24",
		"JWT_ISSUER="+idp.URL, "JWT_AUDIENCE=guestaccess-bench", "JWKS_URL="+idp.URL, "LOG_LEVEL=INFO",
	)
	if caBundle != "" {
		env = append(env, "AWS_CA_BUNDLE="+caBundle)
	}
	return &bench{rie: rie, root: root, env: env, issuer: issuer}, cleanup, nil
}

// event returns the payload of t's first invoke.
func (b *bench) event(t *target) ([]byte, error) {
	if t.folder == "" {
		return []byte("{}"), nil
	}
	path := filepath.Join(b.root, "events", t.folder+".json")
	if _, err := os.Stat(path); err != nil {
		matches, _ := filepath.Glob(filepath.Join(b.root, "events", t.folder+"-*.json"))
		if len(matches) == 0 {
			return nil, fmt.Errorf("no fixture events/%s.json or events/%s-*.json", t.folder, t.folder)
		}
		slices.Sort(matches)
		path = matches[0]
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	setHeader := func(k, v string) {
		if h, ok := ev["headers"].(map[string]any); ok {
			h[k] = v
		}
		if h, ok := ev["multiValueHeaders"].(map[string]any); ok {
			h[k] = []string{v}
		}
	}
	switch t.folder {
	case "authorizer": // a valid token: the first invoke fetches the JWKS
		tok, err := b.issuer.Token(demo.AdminID, time.Hour, map[string]any{"email": "admin@" + demo.VerifiedDomain})
		if err != nil {
			return nil, err
		}
		setHeader("Authorization", "Bearer "+tok)
	case "invite-guests": // a new invitee and key each run: a real invite and email
		id := domain.NewID()[:10]
		setHeader("Idempotency-Key", "bench-"+id)
		ev["body"] = `{"emails":["bench-` + id + `@agency.example"],"products":{"confluence":{"role":"guest"}},"message":"Benchmark"}`
	}
	return json.Marshal(ev)
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// run starts a fresh emulator with t and invokes it once.
func (b *bench) run(t *target) (initD, first time.Duration, err error) {
	event, err := b.event(t)
	if err != nil {
		return 0, 0, err
	}
	addr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	api, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(b.rie, "--log-level", "info", "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, t.path)
	cmd.Env = b.env
	var out testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer stop(cmd)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			return 0, 0, fmt.Errorf("the emulator did not listen:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Post("http://"+addr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		return 0, 0, fmt.Errorf("invoke: %w\n%s", err, out.String())
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	first = time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if err := check(body); err != nil {
		return 0, 0, fmt.Errorf("%w\nemulator and function log:\n%s", err, out.String())
	}
	// The emulator may log the INIT REPORT after the answer is out (seen on
	// a busy machine with the fastest bootstrap): wait for it a little.
	m := initReport.FindStringSubmatch(out.String())
	for deadline := time.Now().Add(5 * time.Second); m == nil && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		m = initReport.FindStringSubmatch(out.String())
	}
	if m == nil {
		return 0, 0, fmt.Errorf("no INIT REPORT in the emulator's log:\n%s", out.String())
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, 0, err
	}
	return time.Duration(ms * float64(time.Millisecond)), first, nil
}

// check refuses an answer that is a function error or an HTTP 5xx: a
// benchmark of a failing cold start measures nothing useful.
func check(body []byte) error {
	var v struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
		StatusCode   int    `json:"statusCode"`
	}
	_ = json.Unmarshal(body, &v) // not every answer is an object
	if v.ErrorType != "" || v.ErrorMessage != "" || v.StatusCode >= 500 {
		return errors.New("the first invoke failed: " + string(body))
	}
	return nil
}

// stop ends the emulator; on SIGTERM it kills the runtime it started.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stats returns the minimum, median and maximum of ds.
func stats(ds []time.Duration) (lo, med, hi time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], med, s[len(s)-1]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

// report prints one line per bootstrap with its ratios to the first's:
// of the medians, and of the minima (steadier on a busy machine).
func report(w io.Writer, targets []*target, n int) {
	baseInitMin, baseInit, _ := stats(targets[0].init)
	_, baseFirst, _ := stats(targets[0].first)
	fmt.Fprintf(w, "cold starts under the Lambda RIE, %d runs each; times in ms as min/median/max; ratios of medians (and of minima) to %s\n", n, targets[0].name)
	fmt.Fprintf(w, "%-32s %8s  %-20s %6s %6s  %-22s %6s\n", "bootstrap", "MB", "init", "ratio", "(min)", "first response", "ratio")
	var over []string
	for _, t := range targets {
		il, im, ih := stats(t.init)
		fl, fm, fh := stats(t.first)
		ratio := float64(im) / float64(baseInit)
		mark := ""
		if ratio > Budget {
			mark = fmt.Sprintf("  INIT over %.2f×", Budget)
		}
		fmt.Fprintf(w, "%-32s %8.2f  %-20s %5.2f× %5.2f×  %-22s %5.2f×%s\n", t.name, float64(t.size)/1e6,
			ms(il)+"/"+ms(im)+"/"+ms(ih), ratio, float64(il)/float64(baseInitMin), ms(fl)+"/"+ms(fm)+"/"+ms(fh), float64(fm)/float64(baseFirst), mark)
		if ratio > Budget {
			over = append(over, t.name)
		}
	}
	fmt.Fprintf(w, "INIT budget: %.2f× %s's median (%s ms): ", Budget, targets[0].name, ms(baseInit))
	if len(over) == 0 {
		fmt.Fprintln(w, "every bootstrap within it")
	} else {
		fmt.Fprintf(w, "%d over it: %s\n", len(over), strings.Join(over, ", "))
	}
}
