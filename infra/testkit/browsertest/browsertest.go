// Package browsertest drives a real headless Chromium from Go tests
// (chromedp): the guest-facing pages are tested as a guest uses them.
//
// One browser serves a whole test binary (Chromium under -race on two
// cores is slow to start); each test gets its own tab, with generous
// timeouts, and keeps screenshots under .cache/artifacts/browser/<test>/
// (gitignored). Chromium is Debian's package (`make test` installs it when
// missing); CHROMIUM_BIN names another binary. Without one a test skips,
// or fails under REQUIRE_EMULATORS=1 like the other emulators.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// Timeout bounds one test's browsing (a tab): generous, for -race on a
// loaded machine.
const Timeout = 3 * time.Minute

var (
	once     sync.Once
	browser  context.Context
	stop     context.CancelFunc
	startErr error
)

// Path finds Chromium: CHROMIUM_BIN, else chromium, chromium-browser or
// google-chrome on PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM_BIN)")
}

// start launches the binary's one browser.
func start() {
	path, err := Path()
	if err != nil {
		startErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1000, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	// The first call starts the browser; it lives as long as ctx (no
	// timeout on this one: it would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		startErr = fmt.Errorf("start chromium %s: %w", path, err)
		return
	}
	browser, stop = ctx, func() { cancel(); cancelAlloc() }
}

// Shutdown stops the binary's browser; call it from TestMain after m.Run
// (the browser would otherwise die with the test binary's process group
// only).
func Shutdown() {
	if stop != nil {
		stop()
	}
}

// Tab is one test's browser tab.
type Tab struct {
	t   testing.TB
	ctx context.Context
	dir string
	n   int
}

// New opens a tab in the binary's browser (started on first use) for t,
// closed when t ends. It skips t when Chromium is missing, or fails it
// under REQUIRE_EMULATORS=1.
func New(t testing.TB) *Tab {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		if os.Getenv("REQUIRE_EMULATORS") == "1" {
			t.Fatalf("%v, but REQUIRE_EMULATORS=1 (`make test` installs what the tests need)", startErr)
		}
		t.Skipf("%v; `make test` installs what the tests need", startErr)
	}
	ctx, cancel := chromedp.NewContext(browser)
	ctx, cancelT := context.WithTimeout(ctx, Timeout)
	t.Cleanup(func() { cancelT(); cancel() })
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	dir := filepath.Join(testenv.RepoRoot(), ".cache", "artifacts", "browser", name)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Tab{t: t, ctx: ctx, dir: dir}
}

// Do runs chromedp actions in the tab, in order; on failure it keeps a
// screenshot (NN-failed-<what>.png) and fails the test.
func (b *Tab) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.Screenshot("failed-" + what)
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Screenshot keeps a full-page PNG of the tab as NN-name.png in the test's
// artefact folder, and returns its path.
func (b *Tab) Screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.n++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, strings.ReplaceAll(name, " ", "-")))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return p
}

// Text returns the visible text of the first element matching a CSS
// selector, waiting for it to be visible.
func (b *Tab) Text(sel string) string {
	b.t.Helper()
	b.Do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.Screenshot("failed-read")
		b.t.Fatalf("browser: read %s: %v", sel, err)
	}
	return s
}

// Location returns the tab's current URL.
func (b *Tab) Location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: location: %v", err)
	}
	return u
}
